/*
 * dnsbl.c - the dnsbl check: DNS lists asked in parallel while the
 * message streams in, scored at end of message.
 *
 * Lookups start as their inputs become known: the client address when
 * it connects (the connect hook, into the shared table) and again at
 * PHASE_CONNECT, the untrusted relays of the Received headers (with
 * SpamAssassin's TrustedNetworks/InternalNetworks trust path) and the
 * From host at PHASE_EOH, link domains (registrable domain, or the IP of
 * an IP-literal link) and askdns names at PHASE_EOM; then the answers are
 * collected within DNSListsBudget and each rule of the rule set's DNS
 * table (dnsbl_rules.c) that an answer satisfies becomes a finding.
 *
 * A list that answers wrongly is disabled, not scored (dnsbl_health.c).
 *
 * Owns: the resolver of a snapshot (dns.c); per message, its lookups
 * (its slot).
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "json.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "snap.h"
#include "url.h"
#include "checks/auth/auth.h"
#include "checks/dnsbl/dns.h"
#include "checks/dnsbl/dnsbl_int.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_check.h"

#define DNSBL_MAX_RELAYS 5	/* untrusted relays looked up */
#define DNSBL_MAX_LINKS	20	/* link domains (uridnsbl_max_domains) */

extern const struct check check_dnsbl;

const struct opt dnsbl_opts[] = {
	{ "DNSLists", OPT_BOOL, "no", 0, 0, NULL,
	  "Ask the DNS lists the rules declare (check_rbl, urirhssub, ...) "
	  "and the other network tests of the rules (ADSP); "
	  "public lists refuse queries that come through public resolvers" },
	{ "DNSListsBudget", OPT_DURATION, "3s", 100, 60000, NULL,
	  "Time the end of a message may wait for the DNS lists' answers" },
	{ "DNSListsRecheck", OPT_DURATION, "10m", 1000, 86400000, NULL,
	  "How long a list that answered wrongly stays disabled before it "
	  "is probed again" },
	{ "InternalNetworks", OPT_LIST, NULL, 0, 0, NULL,
	  "Our own MX hosts' networks (-lastexternal lists); unset: "
	  "TrustedNetworks" },
	{ NULL }
};

/* ---- per snapshot -------------------------------------------------- */

static char *setup_err;

static bool
nets_parse(const struct cfg *c, const char *opt, struct util_cidr **out_r,
    size_t *n_r)
{
	size_t n;
	const char *const *nets = cfg_list(c, opt, &n);

	*out_r = g_new0(struct util_cidr, n ? n : 1);
	*n_r = n;
	for (size_t i = 0; i < n; i++)
		if (!util_parse_cidr(nets[i], &(*out_r)[i])) {
			g_free(setup_err);
			setup_err = g_strdup_printf("%s: %s is not an address "
			    "or network", opt, nets[i]);
			return false;
		}
	return true;
}

static void
dnsbl_teardown(void *state)
{
	struct dnsbl_state *st = state;

	if (st == NULL)
		return;
	dns_free(&st->dns);
	g_free(st->trusted);
	g_free(st->internal);
	g_free(st);
}

static void *
dnsbl_setup(struct snap *snap, const char **err_r)
{
	const struct cfg *c = snap_cfg(snap);
	struct dnsbl_state *st = g_new0(struct dnsbl_state, 1);
	char *err = NULL;

	st->is_on = cfg_bool(c, "DNSLists");
	st->budget_us = cfg_duration_ms(c, "DNSListsBudget") * 1000;
	st->recheck_us = cfg_duration_ms(c, "DNSListsRecheck") * 1000;
	if (!nets_parse(c, "TrustedNetworks", &st->trusted, &st->ntrusted) ||
	    !nets_parse(c, cfg_is_set(c, "InternalNetworks") ?
	    "InternalNetworks" : "TrustedNetworks", &st->internal,
	    &st->ninternal))
		goto fail;
	if ((st->dns = dns_new(cfg_str(c, "DNSZoneFile"), &err)) == NULL) {
		g_free(setup_err);
		setup_err = g_strdup(err != NULL ? err : "out of memory");
		free(err);
		goto fail;
	}
	return st;
fail:
	*err_r = setup_err;
	dnsbl_teardown(st);
	return NULL;
}

/* ---- per message --------------------------------------------------- */

static void
dmsg_free(void *arg)
{
	struct dmsg *dm = arg;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, dm->by_name);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct lookup *l = v;

		dns_q_unref(dm->st->dns, &l->q);
		g_free(l->key);
		g_free(l);
	}
	g_hash_table_destroy(dm->by_name);
	g_ptr_array_free(dm->order, TRUE);
	g_ptr_array_free(dm->chain, TRUE);
	g_ptr_array_free(dm->rev, TRUE);
	g_hash_table_destroy(dm->disabled);
}

static struct dmsg *
dmsg_get(struct dnsbl_state *st, struct msg *m)
{
	void **slot = msg_slot(m, &check_dnsbl);
	struct dmsg *dm = *slot;
	void *rs;

	if (dm != NULL)
		return dm;
	dm = arena_alloc(msg_arena(m), sizeof(*dm));
	memset(dm, 0, sizeof(*dm));
	dm->st = st;
	rs = snap_state(msg_snap(m), &check_rules);
	dm->rules = rs != NULL ? rules_set_dnsbl(rules_state_set(rs)) : NULL;
	dm->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	dm->chain = g_ptr_array_new_with_free_func(g_free);
	dm->rev = g_ptr_array_new_with_free_func(g_free);
	dm->order = g_ptr_array_new();
	dm->disabled = g_hash_table_new(g_str_hash, g_str_equal);
	arena_defer(msg_arena(m), dmsg_free, dm);
	*slot = dm;
	return dm;
}

/* The name of ip in a reverse zone ("2.0.0.127" for 127.0.0.2, nibbles
 * for IPv6), g_malloc'd; NULL when ip is no address. */
static char *
ip_reverse(const char *ip)
{
	unsigned char b[16];
	GString *s;

	if (inet_pton(AF_INET, ip, b) == 1)
		return g_strdup_printf("%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
	if (inet_pton(AF_INET6, ip, b) != 1)
		return NULL;
	s = g_string_new(NULL);
	for (int i = 15; i >= 0; i--)
		g_string_append_printf(s, "%s%x.%x", i < 15 ? "." : "",
		    b[i] & 0xf, b[i] >> 4);
	return g_string_free(s, FALSE);
}

/* Addresses no list can know: private, loopback, link-local (parsed
 * once a process). */
static bool
ip_is_private(const char *ip)
{
	static const char *const nets[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8", "::1/128",
		"fc00::/7", "fe80::/10",
	};
	static struct util_cidr parsed[NELEM(nets)];
	static size_t nparsed;
	static gsize once;

	if (g_once_init_enter(&once)) {
		for (size_t i = 0; i < NELEM(nets); i++)
			if (util_parse_cidr(nets[i], &parsed[nparsed]))
				nparsed++;
		g_once_init_leave(&once, 1);
	}
	for (size_t i = 0; i < nparsed; i++)
		if (util_cidr_match(&parsed[i], ip))
			return true;
	return false;
}

static bool
in_nets(const struct util_cidr *nets, size_t n, const char *ip)
{
	for (size_t i = 0; i < n; i++)
		if (util_cidr_match(&nets[i], ip))
			return true;
	return false;
}

/* The parts, one after the other, into buf; false when they do not
 * fit.  (The lists' names are built for every rule and relay of every
 * message: no format parsing.) */
static bool
cat3(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	if (la + lb + lc >= size)
		return false;
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc + 1);
	return true;
}

/* A lookup's key in by_name: "TYPE/NAME". */
static bool
lookup_key(char *buf, size_t size, int type, const char *name)
{
	char t[16];
	size_t n = 0;
	unsigned v = type > 0 ? (unsigned)type : 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && n < sizeof(t) - 2);
	for (size_t i = 0; i < n / 2; i++) {
		char c = t[i];

		t[i] = t[n - 1 - i];
		t[n - 1 - i] = c;
	}
	t[n] = '\0';
	return cat3(buf, size, t, "/", name);
}

/* Starts name (once a message). */
static void
lookup_start(struct dmsg *dm, enum dnsbl_kind kind, const char *name,
    int type, const char *zone, const char *key)
{
	char k[1100];
	struct lookup *l;

	if (!lookup_key(k, sizeof(k), type, name))
		return;		/* no DNS name is that long */
	if ((l = g_hash_table_lookup(dm->by_name, k)) != NULL) {
		l->kinds |= 1u << kind;
		return;
	}
	l = g_new0(struct lookup, 1);
	l->kinds = 1u << kind;
	l->q = dns_start(dm->st->dns, name, type);
	l->zone = zone;
	l->key = g_strdup(key);
	g_hash_table_insert(dm->by_name, g_strdup(k), l);
	g_ptr_array_add(dm->order, l);
}

static struct lookup *
lookup_find(struct dmsg *dm, const char *name, int type)
{
	char k[1100];

	return lookup_key(k, sizeof(k), type, name) ?
	    g_hash_table_lookup(dm->by_name, k) : NULL;
}

/* The relays (indexes into the chain) r's set looks up, from the
 * chain known so far. */
static void
rbl_relays(const struct dmsg *dm, enum dnsbl_which which, size_t *idx,
    size_t *n_r)
{
	size_t n = 0, len = dm->chain->len;

	switch (which) {
	case DNSBL_FIRSTTRUSTED:
		if (dm->untrusted < len)
			idx[n++] = dm->untrusted;
		break;
	case DNSBL_LASTEXTERNAL:
		if (dm->external < len)
			idx[n++] = dm->external;
		break;
	case DNSBL_UNTRUSTED:
	case DNSBL_NOTFIRSTHOP:
		for (size_t i = dm->untrusted + (which == DNSBL_NOTFIRSTHOP);
		    i < len && n < DNSBL_MAX_RELAYS; i++)
			idx[n++] = i;
		break;
	}
	*n_r = n;
}

/* "REV.ZONE" into buf; false when it does not fit. */
static bool
rbl_name(char *buf, size_t size, const char *rev, const char *zone)
{
	return cat3(buf, size, rev, ".", zone);
}

/* Starts every check_rbl set's lookups for the chain known so far. */
static void
start_rbl(struct dmsg *dm)
{
	for (guint i = 0; i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];
		size_t idx[DNSBL_MAX_RELAYS], n;

		if (r->kind != DNSBL_RBL || !r->is_wanted ||
		    !dnsbl_zone_usable(dm, r->zone, false))
			continue;
		rbl_relays(dm, r->which, idx, &n);
		for (size_t k = 0; k < n; k++) {
			const char *rev = dm->rev->pdata[idx[k]];
			char name[1024];

			if (rev != NULL && rbl_name(name, sizeof(name), rev,
			    r->zone))
				lookup_start(dm, r->kind, name, r->qtype,
				    r->zone, dm->chain->pdata[idx[k]]);
		}
	}
}

/* The relay chain: the client, then each Received header's sender,
 * newest first; where trust ends (TrustedNetworks) and where our
 * internal hosts end (InternalNetworks). */
static void
chain_build(struct dmsg *dm, struct msg *m, bool with_headers)
{
	static GRegex *re;
	const char *client = msg_client_addr(m);

	if (g_once_init_enter(&re))
		g_once_init_leave(&re, g_regex_new("^\\s*from\\s[^\\[]*?"
		    "\\[(?:IPv6:)?([0-9a-fA-F:.]+)\\]", G_REGEX_CASELESS |
		    G_REGEX_RAW, 0, NULL));
	g_ptr_array_set_size(dm->chain, 0);
	if (client != NULL && *client != '\0')
		g_ptr_array_add(dm->chain, g_strdup(client));
	for (size_t i = 0; with_headers && i < msg_hdr_count(m); i++) {
		const struct mhdr *h = msg_hdr(m, i);
		GMatchInfo *mi = NULL;

		if (g_ascii_strcasecmp(h->name, "Received") != 0)
			continue;
		if (g_regex_match(re, h->raw, 0, &mi)) {
			char *ip = g_match_info_fetch(mi, 1);

			/* Our MTA's own header names the client again. */
			if (dm->chain->len == 1 && client != NULL &&
			    strcmp(ip, client) == 0)
				g_free(ip);
			else
				g_ptr_array_add(dm->chain, ip);
		}
		g_match_info_free(mi);
	}
	/* Each relay's reverse name, once: NULL for what no list knows. */
	g_ptr_array_set_size(dm->rev, 0);
	for (size_t i = 0; i < dm->chain->len; i++) {
		const char *ip = dm->chain->pdata[i];

		g_ptr_array_add(dm->rev, ip_is_private(ip) ? NULL :
		    ip_reverse(ip));
	}
	dm->untrusted = dm->external = dm->chain->len;
	for (size_t i = 0; i < dm->chain->len; i++)
		if (!in_nets(dm->st->trusted, dm->st->ntrusted,
		    dm->chain->pdata[i])) {
			dm->untrusted = i;
			break;
		}
	for (size_t i = 0; i < dm->chain->len; i++)
		if (!in_nets(dm->st->internal, dm->st->ninternal,
		    dm->chain->pdata[i])) {
			dm->external = i;
			break;
		}
}

/* A domain and the names of the From address; NULL when none. */
static const char *
from_host(struct msg *m)
{
	return auth_from_domain(m);
}

static void
start_from(struct dmsg *dm, struct msg *m)
{
	const char *host = from_host(m);

	if (host == NULL)
		return;
	for (guint i = 0; i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];
		const char *d;
		char name[1024];

		if ((r->kind != DNSBL_FROM_HOST && r->kind !=
		    DNSBL_FROM_DOMAIN) || !r->is_wanted ||
		    !dnsbl_zone_usable(dm, r->zone, true))
			continue;
		d = r->kind == DNSBL_FROM_HOST ? host :
		    url_domain(msg_arena(m), host);
		if (rbl_name(name, sizeof(name), d, r->zone))
			lookup_start(dm, r->kind, name, r->qtype, r->zone, d);
	}
}

/* The message's link targets: registrable domains and IP literals. */
static size_t
links(struct dmsg *dm, struct msg *m, const char **out, bool *is_ip)
{
	const struct mview *v = msg_view(m);
	size_t n = 0;

	for (size_t i = 0; v != NULL && i < v->nurls && n < DNSBL_MAX_LINKS;
	    i++) {
		const struct murl *u = &v->urls[i];
		const char *host = u->host;
		unsigned char b[16];
		bool ip;
		const char *t;
		size_t k;

		if (host == NULL || *host == '\0')
			continue;
		if (host[0] == '[') {
			char *h = arena_printf(msg_arena(m), "%s", host + 1);

			h[strcspn(h, "]")] = '\0';
			host = h;
		}
		ip = inet_pton(AF_INET, host, b) == 1 ||
		    inet_pton(AF_INET6, host, b) == 1;
		t = ip ? host : u->domain != NULL ? u->domain : host;
		if (!ip && g_hash_table_contains(dm->rules->skip, t))
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(out[k], t) == 0)
				break;
		if (k < n)
			continue;
		is_ip[n] = ip;
		out[n++] = t;
	}
	return n;
}

static void
start_uri(struct dmsg *dm, struct msg *m)
{
	const char *t[DNSBL_MAX_LINKS];
	bool is_ip[DNSBL_MAX_LINKS];
	size_t n = links(dm, m, t, is_ip);

	for (guint i = 0; i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];

		if ((r->kind != DNSBL_URIRHS && r->kind != DNSBL_URIDNS &&
		    r->kind != DNSBL_URIDNS_A) || !r->is_wanted)
			continue;
		if (!dnsbl_zone_usable(dm, r->zone, r->kind == DNSBL_URIRHS))
			continue;
		for (size_t k = 0; k < n; k++) {
			char name[1024], *rev;
			bool named = false;

			if (r->kind != DNSBL_URIRHS) {
				/* Stage one: the domain's name servers, or
				 * (tflags a) its addresses. */
				if (!is_ip[k])
					lookup_start(dm, r->kind, t[k],
					    r->kind == DNSBL_URIDNS ?
					    DNS_T_NS : DNS_T_A, NULL, t[k]);
				continue;
			}
			if (is_ip[k] && !(r->tflags & DNSBL_TF_DOMAINS_ONLY) &&
			    (rev = ip_reverse(t[k])) != NULL) {
				named = rbl_name(name, sizeof(name), rev,
				    r->zone);
				g_free(rev);
			} else if (!is_ip[k] && !(r->tflags &
			    DNSBL_TF_IPS_ONLY))
				named = rbl_name(name, sizeof(name), t[k],
				    r->zone);
			if (named)
				lookup_start(dm, r->kind, name, r->qtype,
				    r->zone, t[k]);
		}
	}
}

/* askdns: the name with its tags filled but _DKIMDOMAIN_, or NULL when
 * a tag is unknown for this message (the rule does not run). */
static char *
askdns_name(struct msg *m, const char *tmpl)
{
	static const char *const tags[] = {
		"_AUTHORDOMAIN_", "_SENDERDOMAIN_", "_LASTEXTERNALHELO_",
		"_LASTEXTERNALIP_", "_LASTEXTERNALREVIP_",
	};
	GString *s = g_string_new(tmpl);

	for (size_t i = 0; i < NELEM(tags); i++) {
		const char *v = NULL, *p;
		char *rev = NULL;

		if (strstr(s->str, tags[i]) == NULL)
			continue;
		switch (i) {
		case 0: v = auth_from_domain(m); break;
		case 1:
			p = strrchr(msg_mail_from(m), '@');
			v = p != NULL && p[1] != '\0' ? p + 1 : NULL;
			break;
		case 2: v = msg_helo(m); break;
		case 3: v = msg_client_addr(m); break;
		case 4:
			v = rev = msg_client_addr(m) != NULL ?
			    ip_reverse(msg_client_addr(m)) : NULL;
			break;
		}
		if (v == NULL || *v == '\0') {
			g_free(rev);
			g_string_free(s, TRUE);
			return NULL;
		}
		g_string_replace(s, tags[i], v, 0);
		g_free(rev);
	}
	return g_string_free(s, FALSE);
}

/* Does s hold a tag, "_" capital letters "_"? */
static bool
has_tag(const char *s)
{
	for (const char *p = strchr(s, '_'); p != NULL; p = strchr(p + 1, '_')) {
		const char *q = p + 1;

		while (*q >= 'A' && *q <= 'Z')
			q++;
		if (q > p + 1 && *q == '_')
			return true;
	}
	return false;
}

/* askdns: every name to ask (g_malloc'd, into out): one, or one for
 * each domain of a valid DKIM signature (_DKIMDOMAIN_); none when a tag
 * is unknown for the message. */
static void
askdns_names(struct msg *m, const char *tmpl, GPtrArray *out)
{
	char *base = askdns_name(m, tmpl);
	const struct auth_dkim *dk;

	if (base == NULL)
		return;
	if (strstr(base, "_DKIMDOMAIN_") != NULL &&
	    (dk = auth_dkim(m)) != NULL) {
		for (size_t i = 0; i < dk->nsigs; i++) {
			GString *s;
			bool dup = false;

			if (dk->sigs[i].result != AUTH_PASS ||
			    dk->sigs[i].domain == NULL)
				continue;
			for (size_t j = 0; j < i && !dup; j++)
				dup = dk->sigs[j].result == AUTH_PASS &&
				    dk->sigs[j].domain != NULL &&
				    g_ascii_strcasecmp(dk->sigs[j].domain,
				    dk->sigs[i].domain) == 0;
			if (dup)
				continue;
			s = g_string_new(base);
			g_string_replace(s, "_DKIMDOMAIN_",
			    dk->sigs[i].domain, 0);
			g_ptr_array_add(out, g_ascii_strdown(s->str, -1));
			g_string_free(s, TRUE);
		}
		g_free(base);
		return;
	}
	/* A tag vigil does not know: the rule does not run. */
	if (has_tag(base))
		g_free(base);
	else
		g_ptr_array_add(out, base);
}

static void
start_askdns(struct dmsg *dm, struct msg *m)
{
	for (guint i = 0; i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];
		GPtrArray *names;

		if (r->kind != DNSBL_ASKDNS || !r->is_wanted)
			continue;
		names = g_ptr_array_new_with_free_func(g_free);
		askdns_names(m, r->query, names);
		for (guint k = 0; k < names->len; k++)
			lookup_start(dm, r->kind, names->pdata[k], r->qtype,
			    NULL, names->pdata[k]);
		g_ptr_array_free(names, TRUE);
	}
}

/* The answers of a done lookup of name, or NULL. */
static const char *const *
answers_of(struct dmsg *dm, const char *name, int type, size_t *n_r)
{
	struct lookup *l = lookup_find(dm, name, type);

	*n_r = 0;
	if (l == NULL || dns_wait(dm->st->dns, l->q, 0) != DNS_OK)
		return NULL;
	return dns_q_answers(l->q, n_r);
}

/*
 * uridnsbl, after a round of answers.  Stage 2: the addresses of each
 * link domain's name servers (at most DNSBL_MAX_NS of them).  Stage 3:
 * those addresses (or, with tflags a, the domain's own) in each zone.
 */
#define DNSBL_MAX_NS	3
static void
start_uridns(struct dmsg *dm, struct msg *m, int stage)
{
	const char *t[DNSBL_MAX_LINKS];
	bool is_ip[DNSBL_MAX_LINKS];
	size_t n = links(dm, m, t, is_ip);

	for (guint i = 0; i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];

		if ((r->kind != DNSBL_URIDNS && r->kind != DNSBL_URIDNS_A) ||
		    !r->is_wanted || g_hash_table_contains(dm->disabled, r->zone))
			continue;
		for (size_t k = 0; k < n; k++) {
			const char *const *ns, *ips[DNSBL_MAX_NS * 4];
			size_t nns, nips = 0;

			if (is_ip[k])
				continue;
			if (r->kind == DNSBL_URIDNS_A) {
				const char *const *a = answers_of(dm, t[k],
				    DNS_T_A, &nips);

				for (size_t j = 0; j < nips && j < 4; j++)
					ips[j] = a[j];
				nips = nips < 4 ? nips : 4;
			} else {
				ns = answers_of(dm, t[k], DNS_T_NS, &nns);
				for (size_t j = 0; j < nns && j < DNSBL_MAX_NS;
				    j++) {
					const char *const *a;
					size_t na;

					if (stage == 2) {
						lookup_start(dm, r->kind,
						    ns[j], DNS_T_A, NULL, t[k]);
						continue;
					}
					a = answers_of(dm, ns[j], DNS_T_A, &na);
					for (size_t q = 0; q < na && q < 4; q++)
						ips[nips++] = a[q];
				}
			}
			if (stage != 3)
				continue;
			for (size_t j = 0; j < nips; j++) {
				char *rev = ip_reverse(ips[j]), name[1024];

				if (rev != NULL && !ip_is_private(ips[j]) &&
				    rbl_name(name, sizeof(name), rev, r->zone))
					lookup_start(dm, r->kind, name,
					    r->qtype, r->zone, t[k]);
				g_free(rev);
			}
		}
	}
}

/* Waits for every lookup until deadline; returns how many got an answer
 * (a SERVFAIL is none), *listed_r whether one of them has records. */
static size_t
collect(struct dmsg *dm, uint64_t deadline, bool *listed_r)
{
	size_t done = 0;

	*listed_r = false;
	for (guint i = 0; i < dm->order->len; i++) {
		struct lookup *l = dm->order->pdata[i];

		l->rc = dns_wait(dm->st->dns, l->q, deadline);
		done += l->rc != DNS_PENDING && l->rc != DNS_ERROR;
		*listed_r |= l->rc == DNS_OK;
	}
	return done;
}

/* Does an answer of name satisfy r?  *ans_r: the answer. */
static bool
lookup_hits(struct dmsg *dm, const struct dnsbl_rule *r, int qtype,
    const char *name, const char **ans_r)
{
	struct lookup *l = lookup_find(dm, name, qtype);
	const char *const *a;
	size_t na;

	if (l == NULL || l->rc != DNS_OK)
		return false;
	a = dns_q_answers(l->q, &na);
	for (size_t i = 0; i < na; i++)
		if (dnsbl_error_answer(a[i]) == NULL &&
		    dnsbl_sub_match(&r->sub, qtype, a[i])) {
			*ans_r = a[i];
			return true;
		}
	return false;
}

/* Does rule r hit?  *what_r: which address or domain, *ans_r: answer. */
static bool
rule_hits(struct dmsg *dm, struct msg *m, const struct dnsbl_rule *r,
    const char **what_r, const char **ans_r)
{
	const struct dnsbl_rule *src = dnsbl_rule_source(dm->rules, r);

	if (src == NULL || r->is_off || (src->zone != NULL &&
	    g_hash_table_contains(dm->disabled, src->zone)))
		return false;
	if (r->kind == DNSBL_ASKDNS) {
		GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
		bool hit = false;

		askdns_names(m, r->query, names);
		for (guint j = 0; j < names->len && !hit; j++)
			if ((hit = lookup_hits(dm, r, r->qtype,
			    names->pdata[j], ans_r)))
				*what_r = arena_strdup(msg_arena(m),
				    names->pdata[j]);
		g_ptr_array_free(names, TRUE);
		return hit;
	}
	/* A check_rbl set's names are the relays' it asks about, in its
	 * zone: asked directly, newest relay first. */
	if (src->kind == DNSBL_RBL) {
		size_t idx[DNSBL_MAX_RELAYS], n;

		rbl_relays(dm, src->which, idx, &n);
		for (size_t i = 0; i < n; i++) {
			const char *rev = dm->rev->pdata[idx[i]];
			char name[1024];
			struct lookup *l;

			if (rev == NULL || !rbl_name(name, sizeof(name), rev,
			    src->zone) || (l = lookup_find(dm, name,
			    src->qtype)) == NULL || l->is_probe ||
			    !(l->kinds & (1u << DNSBL_RBL)))
				continue;
			if (lookup_hits(dm, r, src->qtype, name, ans_r)) {
				*what_r = dm->chain->pdata[idx[i]];
				return true;
			}
		}
		return false;
	}
	/* Every lookup in the source's zone of the source's type, in the
	 * order they started (the message's links in order): the names it
	 * asked are exactly those (one zone, one kind a rule). */
	for (guint i = 0; i < dm->order->len; i++) {
		struct lookup *l = dm->order->pdata[i];
		const char *name = dns_q_name(l->q);

		if (l->is_probe || l->zone == NULL ||
		    !(l->kinds & (1u << src->kind)) ||
		    strcmp(l->zone, src->zone) != 0)
			continue;
		if (lookup_hits(dm, r, src->qtype, name, ans_r)) {
			*what_r = l->key;
			return true;
		}
	}
	return false;
}

/*
 * The log record's "dnsbl": {"lookups":N,"answered":N,"disabled":[ZONE..]}
 * (vigilctl report's DNS list health): how many lookups the message
 * made, how many answered within DNSListsBudget, and the lists it was
 * scored without.
 */
static void
health_field(struct dmsg *dm, struct msg *m, size_t answered)
{
	struct arena *a = msg_arena(m);
	GString *s = g_string_new(NULL);
	GHashTableIter it;
	gpointer k;

	g_string_append_printf(s, "{\"lookups\":%u,\"answered\":%zu,"
	    "\"disabled\":[", g_hash_table_size(dm->by_name), answered);
	g_hash_table_iter_init(&it, dm->disabled);
	for (bool first = true; g_hash_table_iter_next(&it, &k, NULL);
	    first = false)
		g_string_append_printf(s, "%s%s", first ? "" : ",",
		    json_string(a, k));
	g_string_append(s, "]}");
	msg_set_field(m, "dnsbl", arena_strdup(a, s->str));
	g_string_free(s, TRUE);
}

static enum check_rc
dnsbl_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct dnsbl_state *st = state;
	struct dmsg *dm;
	uint64_t deadline;
	size_t answered, nhits = 0;
	bool listed;

	(void)why_r;
	if (!st->is_on)
		return CHECK_SKIP;
	dm = dmsg_get(st, m);
	if (dm->rules == NULL || dnsbl_rules_count(dm->rules) == 0)
		return CHECK_SKIP;
	switch (phase) {
	case PHASE_CONNECT:
		chain_build(dm, m, false);
		start_rbl(dm);
		return CHECK_DONE;
	case PHASE_EOH:
		chain_build(dm, m, true);
		dm->has_headers = true;
		start_rbl(dm);
		start_from(dm, m);
		return CHECK_DONE;
	case PHASE_EOM:
		break;
	default:
		return CHECK_SKIP;
	}
	if (!dm->has_headers) {
		chain_build(dm, m, true);
		start_rbl(dm);
		start_from(dm, m);
	}
	start_uri(dm, m);
	start_askdns(dm, m);

	/* Collect within the budget; two more rounds for uridnsbl: the
	 * link domains' name servers' addresses, then those in the lists. */
	deadline = util_now_us() + st->budget_us;
	collect(dm, deadline, &listed);
	start_uridns(dm, m, 2);
	collect(dm, deadline, &listed);
	start_uridns(dm, m, 3);
	answered = collect(dm, deadline, &listed);
	dnsbl_zones_judge(dm);
	atomic_fetch_add(&st->n_msgs, 1);
	if (answered < g_hash_table_size(dm->by_name))
		atomic_fetch_add(&st->n_timeouts, 1);
	/* The lists answered: the verdict weighs with the net score sets. */
	if (answered > 0)
		msg_set_net_votes(m, true);

	dm->hits = arena_alloc(msg_arena(m), (dm->rules->rules->len + 1) *
	    sizeof(*dm->hits));
	/* A rule hits on a record only: with every name unlisted (most
	 * mail), none can. */
	for (guint i = 0; listed && i < dm->rules->rules->len; i++) {
		const struct dnsbl_rule *r = dm->rules->rules->pdata[i];
		const char *what = NULL, *ans = NULL;

		if (!rule_hits(dm, m, r, &what, &ans))
			continue;
		/* Sub-rules (__NAME) only feed metas (the rules check). */
		dm->hits[dm->nhits++] = r->name;
		if (strncmp(r->name, "__", 2) == 0)
			continue;
		msg_add_hit(m, r->name, 1.0, "%s listed: %s",
		    what != NULL ? what : "?", ans != NULL ? ans : "?");
		nhits++;
	}
	atomic_fetch_add(&st->n_hits, nhits);
	dnsbl_zones_without(m, dm->disabled);
	health_field(dm, m, answered);
	return CHECK_DONE;
}

/*
 * The client connected: its lookups start in the shared table, where
 * the session's messages find them in flight or answered (dns.c keeps a
 * lookup while it is in flight, and its answer for the TTL).  Only for
 * an untrusted client, and not for lists already disabled.
 */
static void
dnsbl_connect(void *state, struct snap *s, const char *addr)
{
	struct dnsbl_state *st = state;
	void *rs = snap_state(s, &check_rules);
	const struct dnsbl_rules *t;
	char *rev;

	if (!st->is_on || rs == NULL || dns_is_zone(st->dns) ||
	    in_nets(st->trusted, st->ntrusted, addr) || ip_is_private(addr) ||
	    (rev = ip_reverse(addr)) == NULL)
		return;
	t = rules_set_dnsbl(rules_state_set(rs));
	for (guint i = 0; t != NULL && i < t->rules->len; i++) {
		const struct dnsbl_rule *r = t->rules->pdata[i];
		struct dns_q *q;
		char name[1024];

		if (r->kind != DNSBL_RBL || !r->is_wanted ||
		    r->which == DNSBL_NOTFIRSTHOP ||
		    dnsbl_zone_is_disabled(r->zone) ||
		    !rbl_name(name, sizeof(name), rev, r->zone))
			continue;
		q = dns_start(st->dns, name, r->qtype);
		dns_q_unref(st->dns, &q);
	}
	g_free(rev);
}

const char *const *
dnsbl_msg_hits(struct msg *m, size_t *n_r)
{
	const struct dmsg *dm = *msg_slot(m, &check_dnsbl);

	*n_r = dm != NULL ? dm->nhits : 0;
	return dm != NULL ? dm->hits : NULL;
}

static void
dnsbl_stats(void *state, FILE *out)
{
	struct dnsbl_state *st = state;

	fprintf(out, "dnsbl.messages %llu\n", (unsigned long long)
	    atomic_load(&st->n_msgs));
	fprintf(out, "dnsbl.hits %llu\n", (unsigned long long)
	    atomic_load(&st->n_hits));
	fprintf(out, "dnsbl.timeouts %llu\n", (unsigned long long)
	    atomic_load(&st->n_timeouts));
	dnsbl_zones_write_stats(out);
	dns_write_stats(st->dns, out);
}

const struct check check_dnsbl = {
	.name = "dnsbl",
	.phases = PHASE_CONNECT | PHASE_EOH | PHASE_EOM,
	.is_content = 1,
	.setup = dnsbl_setup,
	.run = dnsbl_run,
	.teardown = dnsbl_teardown,
	.connect = dnsbl_connect,
	.stats = dnsbl_stats,
};
