/*
 * dnsbl_health.c - whether each DNS list answers right: a list that
 * answers wrongly is disabled, not scored.  Wrong is Spamhaus's error
 * answers 127.255.255.252/254/255, an answer for the entry no list may
 * hold (127.0.0.1, RFC 5782; "invalid" for domain lists: a list that
 * lists everything), or DNSBL_TIMEOUTS messages in a row without an
 * answer.  A disabled list is logged once, counted (dnsbl.disabled.ZONE
 * in stats), shown by `vigil -n` (dnsbl_report), probed again after
 * DNSListsRecheck, and the verdicts made without it carry the finding
 * DNSBL_LIST_DISABLED.
 *
 * Owns: the table of lists (zone -> state), the process's: it outlives
 * snapshots, so a reload does not forget a broken list.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "snap.h"
#include "checks/dnsbl/dns.h"
#include "checks/dnsbl/dnsbl_int.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_check.h"

#define DNSBL_TIMEOUTS	3	/* unanswered messages in a row: disabled */

extern const struct check check_dnsbl;

struct zone_st {
	char		*zone;
	bool		 is_disabled;
	bool		 is_probe_due;	/* first use, or recheck time came */
	char		*why;
	uint64_t	 recheck_at_us;
	unsigned	 timeouts;	/* unanswered in a row */
	uint64_t	 n_without;	/* verdicts made without it */
};

static pthread_mutex_t zlock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *zones;		/* zone -> struct zone_st */

/* Under zlock. */
static struct zone_st *
zone_get(const char *zone)
{
	struct zone_st *z;

	if (zones == NULL)
		zones = g_hash_table_new(g_str_hash, g_str_equal);
	if ((z = g_hash_table_lookup(zones, zone)) == NULL) {
		z = g_new0(struct zone_st, 1);
		z->zone = g_strdup(zone);
		z->is_probe_due = true;
		g_hash_table_insert(zones, z->zone, z);
	}
	return z;
}

/* Under zlock. */
static void
zone_disable(struct zone_st *z, const char *why, uint64_t recheck_us)
{
	z->recheck_at_us = util_now_us() + recheck_us;
	if (z->is_disabled)
		return;
	z->is_disabled = true;
	g_free(z->why);
	z->why = g_strdup(why);
	log_sys(LOG_WARNING, "dnsbl: list %s disabled: %s; its rules score "
	    "nothing until it answers right (checked again in %llus)",
	    z->zone, why, (unsigned long long)(recheck_us / 1000000));
}

/* Is the zone usable for this message?  Starts its probe when one is
 * due (first use, or the recheck time of a disabled list came). */
bool
dnsbl_zone_usable(struct dmsg *dm, const char *zone, bool is_domain)
{
	struct zone_st *z;
	bool probe, ok;

	pthread_mutex_lock(&zlock);
	z = zone_get(zone);
	if (z->is_disabled && util_now_us() >= z->recheck_at_us)
		z->is_probe_due = true;
	probe = z->is_probe_due;
	z->is_probe_due = false;
	ok = !z->is_disabled;
	pthread_mutex_unlock(&zlock);
	if (probe) {
		char *name = g_strdup_printf("%d/%s.%s", DNS_T_A, is_domain ?
		    "invalid" : "1.0.0.127", zone);
		struct lookup *l;

		if (!g_hash_table_contains(dm->by_name, name)) {
			l = g_new0(struct lookup, 1);
			l->q = dns_start(dm->st->dns, strchr(name, '/') + 1,
			    DNS_T_A);
			l->zone = zone;
			l->is_probe = true;
			l->key = g_strdup("probe");
			g_hash_table_insert(dm->by_name, name, l);
			g_ptr_array_add(dm->order, l);
		} else
			g_free(name);
	}
	if (!ok)
		g_hash_table_add(dm->disabled, (gpointer)zone);
	return ok;
}

bool
dnsbl_zone_is_disabled(const char *zone)
{
	bool off;

	pthread_mutex_lock(&zlock);
	off = zone_get(zone)->is_disabled;
	pthread_mutex_unlock(&zlock);
	return off;
}

/* Is a an error answer of the list (Spamhaus: 127.255.255.252 typo in
 * the zone, .254 query through a public resolver, .255 rate limit)? */
const char *
dnsbl_error_answer(const char *a)
{
	if (strcmp(a, "127.255.255.252") == 0)
		return "answered 127.255.255.252 (typo in the zone name)";
	if (strcmp(a, "127.255.255.254") == 0)
		return "answered 127.255.255.254 (query refused: public or "
		    "unregistered resolver)";
	if (strcmp(a, "127.255.255.255") == 0)
		return "answered 127.255.255.255 (rate limit exceeded)";
	return NULL;
}

/* Judges each zone this message asked from its answers. */
void
dnsbl_zones_judge(struct dmsg *dm)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, dm->by_name);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct lookup *l = v;
		const char *why = NULL;
		const char *const *a;
		size_t na;
		struct zone_st *z;
		char buf[256];

		if (l->zone == NULL)
			continue;
		a = dns_q_answers(l->q, &na);
		for (size_t i = 0; l->rc == DNS_OK && i < na && why == NULL;
		    i++)
			why = dnsbl_error_answer(a[i]);
		if (why == NULL && l->is_probe && l->rc == DNS_OK) {
			snprintf(buf, sizeof(buf), "lists everything: %s "
			    "answered %s, an entry no list may hold",
			    dns_q_name(l->q), na > 0 ? a[0] : "?");
			why = buf;
		}
		pthread_mutex_lock(&zlock);
		z = zone_get(l->zone);
		if (why != NULL) {
			zone_disable(z, why, dm->st->recheck_us);
		} else if (l->rc == DNS_PENDING || l->rc == DNS_ERROR) {
			/* Counted once a message and zone. */
			if (!g_hash_table_contains(seen, l->zone) &&
			    ++z->timeouts >= DNSBL_TIMEOUTS)
				zone_disable(z, "never answers (lookups in a "
				    "row timed out or failed)",
				    dm->st->recheck_us);
			else if (z->is_disabled && l->is_probe)
				z->recheck_at_us = util_now_us() +
				    dm->st->recheck_us;
		} else {
			z->timeouts = 0;
			if (l->is_probe && z->is_disabled &&
			    (l->rc == DNS_NXDOMAIN || l->rc == DNS_NODATA)) {
				z->is_disabled = false;
				log_sys(LOG_NOTICE, "dnsbl: list %s answers "
				    "right again: enabled", z->zone);
			}
		}
		if (z->is_disabled)
			g_hash_table_add(dm->disabled, (gpointer)l->zone);
		g_hash_table_add(seen, (gpointer)l->zone);
		pthread_mutex_unlock(&zlock);
	}
	g_hash_table_destroy(seen);
}

void
dnsbl_zones_without(struct msg *m, GHashTable *disabled)
{
	GString *s;
	GHashTableIter it;
	gpointer k;

	if (g_hash_table_size(disabled) == 0)
		return;
	s = g_string_new(NULL);
	g_hash_table_iter_init(&it, disabled);
	pthread_mutex_lock(&zlock);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		g_string_append_printf(s, "%s%s", s->len ? "," : "",
		    (const char *)k);
		zone_get(k)->n_without++;
	}
	pthread_mutex_unlock(&zlock);
	msg_add_hit(m, "DNSBL_LIST_DISABLED", 0.0, "scored without %s",
	    s->str);
	g_string_free(s, TRUE);
}

void
dnsbl_zones_write_stats(FILE *out)
{
	GHashTableIter it;
	gpointer k, v;

	pthread_mutex_lock(&zlock);
	if (zones != NULL) {
		g_hash_table_iter_init(&it, zones);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			const struct zone_st *z = v;

			if (z->is_disabled || z->n_without > 0)
				fprintf(out, "dnsbl.disabled.%s %llu\n",
				    z->zone, (unsigned long long)
				    (z->n_without > 0 ? z->n_without : 1));
		}
	}
	pthread_mutex_unlock(&zlock);
}

void
dnsbl_report(struct snap *s, FILE *out)
{
	struct dnsbl_state *st = snap_state(s, &check_dnsbl);
	void *rs = snap_state(s, &check_rules);
	const struct dnsbl_rules *t = rs != NULL ?
	    rules_set_dnsbl(rules_state_set(rs)) : NULL;
	GHashTable *done;

	if (st == NULL || t == NULL)
		return;
	fprintf(out, "dnsbl: %zu DNS list rules, DNSLists %s\n",
	    dnsbl_rules_count(t), st->is_on ? "yes" : "no");
	if (!st->is_on)
		return;
	done = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < t->rules->len; i++) {
		const struct dnsbl_rule *r = t->rules->pdata[i];
		struct dns_q *q;
		char *name;
		enum dns_rc rc;
		const char *const *a;
		size_t na;
		const char *why = NULL;
		struct zone_st *z;

		if (r->zone == NULL || !r->is_wanted ||
		    g_hash_table_contains(done, r->zone))
			continue;
		g_hash_table_add(done, r->zone);
		name = g_strdup_printf("%s.%s", r->kind == DNSBL_RBL ?
		    "1.0.0.127" : "invalid", r->zone);
		q = dns_start(st->dns, name, DNS_T_A);
		rc = dns_wait(st->dns, q, util_now_us() + st->budget_us);
		a = dns_q_answers(q, &na);
		if (rc == DNS_OK && na > 0)
			why = dnsbl_error_answer(a[0]) != NULL ? dnsbl_error_answer(a[0]) :
			    "lists everything (answers for an entry no list "
			    "may hold)";
		else if (rc == DNS_PENDING)
			why = "never answers (the probe timed out)";
		else if (rc == DNS_ERROR)
			why = "never answers (the probe failed: SERVFAIL or "
			    "resolver error)";
		pthread_mutex_lock(&zlock);
		z = zone_get(r->zone);
		if (why != NULL)
			zone_disable(z, why, st->recheck_us);
		z->is_probe_due = false;
		fprintf(out, "dnsbl: %s: %s%s\n", r->zone, z->is_disabled ?
		    "disabled: " : "ok", z->is_disabled ? z->why : "");
		pthread_mutex_unlock(&zlock);
		dns_q_unref(st->dns, &q);
		g_free(name);
	}
	g_hash_table_destroy(done);
}
