/*
 * dnsbl_rules.c - reads SpamAssassin's DNS rule lines into the rule set's
 * table of DNS lists (dnsbl_int.h): the eval: calls of header and body
 * rules, the uri*bl* and askdns directives, their tflags, and the
 * subtests (return-code masks) their answers are matched against.
 *
 * Owns: every string and regex of the table; freed with the rule set.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/dnsbl/dns.h"
#include "checks/dnsbl/dnsbl_int.h"
#include "checks/rules/rules.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_ARGS	4

static void
rule_free(gpointer p)
{
	struct dnsbl_rule *r = p;

	g_free(r->name);
	g_free(r->set);
	g_free(r->zone);
	g_free(r->query);
	g_free(r->sub.text);
	if (r->sub.re != NULL)
		g_regex_unref(r->sub.re);
	g_free(r);
}

struct dnsbl_rules *
dnsbl_rules_new(void)
{
	struct dnsbl_rules *t = g_new0(struct dnsbl_rules, 1);

	t->rules = g_ptr_array_new_with_free_func(rule_free);
	t->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	t->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	t->tflags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	t->skip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	return t;
}

void
dnsbl_rules_free(struct dnsbl_rules **tp)
{
	struct dnsbl_rules *t = *tp;

	if (t == NULL)
		return;
	g_hash_table_destroy(t->by_name);
	g_hash_table_destroy(t->sets);
	g_hash_table_destroy(t->tflags);
	g_hash_table_destroy(t->skip);
	g_ptr_array_free(t->rules, TRUE);
	g_free(t);
	*tp = NULL;
}

bool
dnsbl_rules_has(const struct dnsbl_rules *t, const char *name)
{
	return t != NULL && g_hash_table_contains(t->by_name, name);
}

const char *
dnsbl_rules_name(const struct dnsbl_rules *t, const char *name)
{
	const struct dnsbl_rule *r = g_hash_table_lookup(t->by_name, name);

	return r != NULL ? r->name : NULL;
}

size_t
dnsbl_rules_count(const struct dnsbl_rules *t)
{
	return t != NULL ? t->rules->len : 0;
}

/* A zone as written ("zen.spamhaus.org."): lower case, no final dot. */
static char *
zone_norm(const char *z)
{
	char *s = g_ascii_strdown(z, -1);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	return s;
}

static bool
parse_quad(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/* A subtest as SpamAssassin reads it (Mail::SpamAssassin::Util::
 * parse_and_canonicalize_subtest): a number is a bit mask, a dotted quad
 * an exact answer, A-B a range, A/M a masked answer, else a regex. */
static bool
sub_parse(const char *s, struct dnsbl_sub *sub, char *why, size_t whylen)
{
	char *dash, *slash, *p, *copy;
	GError *gerr = NULL;
	size_t n;

	memset(sub, 0, sizeof(*sub));
	if (s == NULL || *s == '\0') {
		sub->kind = DNSBL_SUB_ANY;
		return true;
	}
	sub->text = g_strdup(s);
	if (strspn(s, "0123456789") == strlen(s)) {
		sub->kind = DNSBL_SUB_BITS;
		sub->a = (uint32_t)strtoul(s, NULL, 10);
		return true;
	}
	if (parse_quad(s, &sub->a)) {
		sub->kind = DNSBL_SUB_IP;
		return true;
	}
	copy = g_strdup(s);
	if ((dash = strchr(copy, '-')) != NULL) {
		*dash = '\0';
		if (parse_quad(copy, &sub->a) && parse_quad(dash + 1, &sub->b)) {
			sub->kind = DNSBL_SUB_RANGE;
			g_free(copy);
			return true;
		}
		*dash = '-';
	}
	if ((slash = strchr(copy, '/')) != NULL && slash != copy) {
		*slash = '\0';
		if (parse_quad(copy, &sub->a) && parse_quad(slash + 1,
		    &sub->b)) {
			sub->kind = DNSBL_SUB_MASK;
			g_free(copy);
			return true;
		}
		*slash = '/';
	}
	/* A regex, maybe as /re/flags. */
	p = copy;
	n = strlen(p);
	{
		GRegexCompileFlags fl = G_REGEX_RAW;

		if (n >= 2 && p[0] == '/' && strrchr(p + 1, '/') != NULL) {
			char *end = strrchr(p + 1, '/');

			if (strchr(end + 1, 'i') != NULL)
				fl |= G_REGEX_CASELESS;
			*end = '\0';
			p++;
		}
		sub->re = g_regex_new(p, fl, 0, &gerr);
	}
	g_free(copy);
	if (sub->re == NULL) {
		snprintf(why, whylen, "subtest '%.40s': %s", s,
		    gerr != NULL ? gerr->message : "bad regex");
		g_clear_error(&gerr);
		return false;
	}
	sub->kind = DNSBL_SUB_RE;
	return true;
}

bool
dnsbl_sub_match(const struct dnsbl_sub *sub, int qtype, const char *answer)
{
	uint32_t v = 0;
	bool is_quad = qtype == DNS_T_A && parse_quad(answer, &v);

	switch (sub->kind) {
	case DNSBL_SUB_ANY:
		/* Lists answer in 127/8; anything else is a wildcard or a
		 * redirect, not a listing (as SpamAssassin ignores it). */
		return qtype != DNS_T_A || (is_quad && (v >> 24) == 127);
	case DNSBL_SUB_IP:
		return is_quad && v == sub->a;
	case DNSBL_SUB_RANGE:
		return is_quad && v >= sub->a && v <= sub->b;
	case DNSBL_SUB_MASK:
		return is_quad && (v & sub->b) == (sub->a & sub->b);
	case DNSBL_SUB_BITS:
		return is_quad && (v & sub->a) != 0;
	case DNSBL_SUB_RE:
		return g_regex_match(sub->re, answer, 0, NULL);
	}
	return false;
}

static void
rule_add(struct dnsbl_rules *t, struct dnsbl_rule *r)
{
	struct dnsbl_rule *old = g_hash_table_lookup(t->by_name, r->name);

	if (old != NULL) {
		g_hash_table_remove(t->by_name, old->name);
		g_ptr_array_remove(t->rules, old);
	}
	g_ptr_array_add(t->rules, r);
	g_hash_table_insert(t->by_name, r->name, r);
	if (r->kind == DNSBL_RBL && r->set != NULL)
		g_hash_table_replace(t->sets, g_strdup(r->set), r);
}

static enum dnsbl_which
set_which(const char *set)
{
	if (g_str_has_suffix(set, "-firsttrusted"))
		return DNSBL_FIRSTTRUSTED;
	if (g_str_has_suffix(set, "-lastexternal"))
		return DNSBL_LASTEXTERNAL;
	if (g_str_has_suffix(set, "-notfirsthop"))
		return DNSBL_NOTFIRSTHOP;
	return DNSBL_UNTRUSTED;
}

int
dnsbl_rules_eval(struct dnsbl_rules *t, const char *name, const char *call,
    char *why, size_t whylen)
{
	char *fn = NULL, *args[MAX_ARGS];
	size_t n = 0;
	struct dnsbl_rule *r;
	int rc = -1;

	if (!rules_call_parse(call, &fn, args, MAX_ARGS, &n))
		return 0;
	if (strcmp(fn, "check_uridnsbl") == 0) {
		/* The body line only names the uri*bl* rule of the same
		 * name; one it names that is not (yet) defined is made a
		 * placeholder that a later directive fills. */
		r = g_hash_table_lookup(t->by_name, name);
		if (r != NULL)
			r->is_body_link = true;
		rc = 1;
		goto out;
	}
	if (strcmp(fn, "check_rbl") != 0 && strcmp(fn, "check_rbl_txt") != 0 &&
	    strcmp(fn, "check_rbl_sub") != 0 &&
	    strcmp(fn, "check_rbl_from_host") != 0 &&
	    strcmp(fn, "check_rbl_from_domain") != 0) {
		rc = 0;
		goto out;
	}
	r = g_new0(struct dnsbl_rule, 1);
	r->name = g_strdup(name);
	r->qtype = strcmp(fn, "check_rbl_txt") == 0 ? DNS_T_TXT : DNS_T_A;
	if (strcmp(fn, "check_rbl_sub") == 0) {
		if (n != 2) {
			snprintf(why, whylen, "%s: needs a set and a subtest",
			    fn);
			goto bad;
		}
		r->kind = DNSBL_RBL_SUB;
		r->set = g_strdup(args[0]);
		if (!sub_parse(args[1], &r->sub, why, whylen))
			goto bad;
	} else {
		if (n < 2 || n > 3) {
			snprintf(why, whylen, "%s: needs a set, a zone and "
			    "maybe a subtest", fn);
			goto bad;
		}
		r->kind = strcmp(fn, "check_rbl_from_host") == 0 ?
		    DNSBL_FROM_HOST : strcmp(fn, "check_rbl_from_domain") ==
		    0 ? DNSBL_FROM_DOMAIN : DNSBL_RBL;
		r->set = g_strdup(args[0]);
		r->which = set_which(args[0]);
		r->zone = zone_norm(args[1]);
		if (*r->zone == '\0') {
			snprintf(why, whylen, "%s: empty zone", fn);
			goto bad;
		}
		if (!sub_parse(n == 3 ? args[2] : NULL, &r->sub, why, whylen))
			goto bad;
	}
	rule_add(t, r);
	rc = 1;
	goto out;
bad:
	rule_free(r);
	rc = -1;
out:
	for (size_t i = 0; i < n; i++)
		g_free(args[i]);
	g_free(fn);
	return rc;
}

int
dnsbl_rules_directive(struct dnsbl_rules *t, const char *kw,
    const char *name, const char *rest, char *why, size_t whylen)
{
	char **w = g_strsplit_set(rest, " \t", -1);
	const char *v[4] = { NULL };
	size_t n = 0;
	struct dnsbl_rule *r;
	bool is_sub = g_str_has_suffix(kw, "sub");

	for (size_t i = 0; w[i] != NULL; i++)
		if (*w[i] != '\0' && n < NELEM(v))
			v[n++] = w[i];
		else if (*w[i] != '\0')
			n++;
	/* ZONE TYPE [SUBTEST]; askdns: QUERY TYPE [SUBTEST] */
	if (n < 1 || n > 3 || (is_sub && n != 3)) {
		snprintf(why, whylen, "%s: expected a zone, a record type%s",
		    kw, is_sub ? " and a subtest" : " and maybe a subtest");
		g_strfreev(w);
		return -1;
	}
	if (v[1] != NULL && g_ascii_strcasecmp(v[1], "A") != 0 &&
	    g_ascii_strcasecmp(v[1], "TXT") != 0) {
		snprintf(why, whylen, "%s: record type %.10s is not supported "
		    "(A, TXT)", kw, v[1]);
		g_strfreev(w);
		return -1;
	}
	r = g_new0(struct dnsbl_rule, 1);
	r->name = g_strdup(name);
	r->qtype = v[1] != NULL && g_ascii_strcasecmp(v[1], "TXT") == 0 ?
	    DNS_T_TXT : DNS_T_A;
	if (strcmp(kw, "askdns") == 0) {
		r->kind = DNSBL_ASKDNS;
		/* Its tags are upper case: only the final dot goes. */
		r->query = g_strdup(v[0]);
		if (g_str_has_suffix(r->query, "."))
			r->query[strlen(r->query) - 1] = '\0';
	} else {
		r->kind = strncmp(kw, "urirhs", 6) == 0 ? DNSBL_URIRHS :
		    DNSBL_URIDNS;
		r->zone = zone_norm(v[0]);
	}
	if (!sub_parse(v[2], &r->sub, why, whylen)) {
		rule_free(r);
		g_strfreev(w);
		return -1;
	}
	{
		struct dnsbl_rule *old = g_hash_table_lookup(t->by_name, name);

		r->is_body_link = old != NULL && old->is_body_link;
	}
	rule_add(t, r);
	g_strfreev(w);
	return 0;
}

void
dnsbl_rules_tflags(struct dnsbl_rules *t, const char *name, const char *flags)
{
	char **w = g_strsplit_set(flags, " \t", -1);
	unsigned f = 0;

	for (size_t i = 0; w[i] != NULL; i++)
		if (strcmp(w[i], "domains_only") == 0)
			f |= DNSBL_TF_DOMAINS_ONLY;
		else if (strcmp(w[i], "ips_only") == 0)
			f |= DNSBL_TF_IPS_ONLY;
		else if (strcmp(w[i], "a") == 0)
			f |= DNSBL_TF_A;
	g_strfreev(w);
	g_hash_table_replace(t->tflags, g_strdup(name), GUINT_TO_POINTER(f));
}

void
dnsbl_rules_skip_domains(struct dnsbl_rules *t, const char *list)
{
	char **w = g_strsplit_set(list, " \t,", -1);

	for (size_t i = 0; w[i] != NULL; i++)
		if (*w[i] != '\0')
			g_hash_table_add(t->skip, g_ascii_strdown(w[i], -1));
	g_strfreev(w);
}

void
dnsbl_rules_resolve(struct dnsbl_rules *t)
{
	if (t == NULL || t->is_resolved)
		return;
	for (guint i = 0; i < t->rules->len; i++) {
		struct dnsbl_rule *r = t->rules->pdata[i];

		r->tflags = GPOINTER_TO_UINT(g_hash_table_lookup(t->tflags,
		    r->name));
		if (r->kind == DNSBL_URIDNS && (r->tflags & DNSBL_TF_A))
			r->kind = DNSBL_URIDNS_A;
	}
	t->is_resolved = true;
}

void
dnsbl_rules_apply_scores(struct dnsbl_rules *t, GHashTable *scores)
{
	if (t == NULL)
		return;
	for (guint i = 0; i < t->rules->len; i++) {
		struct dnsbl_rule *r = t->rules->pdata[i];
		const double *sc = scores != NULL ?
		    g_hash_table_lookup(scores, r->name) : NULL;

		r->is_off = sc != NULL && sc[1] == 0 && sc[3] == 0;
		r->is_wanted = false;
	}
	for (guint i = 0; i < t->rules->len; i++) {
		const struct dnsbl_rule *r = t->rules->pdata[i];
		struct dnsbl_rule *src;

		if (r->is_off)
			continue;
		src = (struct dnsbl_rule *)dnsbl_rule_source(t, r);
		if (src != NULL)
			src->is_wanted = true;
	}
}

const struct dnsbl_rule *
dnsbl_rule_source(const struct dnsbl_rules *t, const struct dnsbl_rule *r)
{
	if (r->kind != DNSBL_RBL_SUB)
		return r;
	return g_hash_table_lookup(t->sets, r->set);
}
