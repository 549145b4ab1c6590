/*
 * test_dnsbl.c - the DNS lists through the real pipeline (scan_buffer),
 * answered from tests/data/dnsbl/zone.txt (DNSZoneFile) with the rules of
 * tests/data/dnsbl/lists.rules: listed and whitelisted clients, relays
 * past TrustedNetworks, link domains and IP links, askdns and From host
 * lists, the net score sets, and lists that answer wrongly (refused,
 * listing everything, never answering) being disabled, not scored; metas
 * over DNS rules.  Also
 * reads Debian's own SpamAssassin DNS rule files when they are there.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"
#include "checks/dnsbl/dns.h"
#include "checks/dnsbl/dnsbl.h"
#include "checks/dnsbl/dnsbl_int.h"
#include "checks/rules/rules.h"
#include "lib/log.h"
#include "lib/util.h"
#include "t.h"

extern const struct check check_dnsbl;

static char zone_opt[1200], rules_opt[1200];

static struct snap *
snap_with(const char *o1, const char *o2)
{
	const char *ov[8];
	size_t n = 0;

	ov[n++] = zone_opt;
	ov[n++] = rules_opt;
	ov[n++] = "Checks=dnsbl,rules";
	ov[n++] = "TrustedNetworks=10.255.255.0/24";
	if (o1 != NULL)
		ov[n++] = o1;
	if (o2 != NULL)
		ov[n++] = o2;
	return t_snap("Syslog no\n", ov, n);
}

static struct msg *
scan_from(struct snap *s, const char *ip, const char *text)
{
	const struct verdict *v;
	struct scan_env env = { .client_addr = ip, .helo = "mx.example.net",
	    .mail_from = "a@sender.example" };

	mime_init();
	return scan_buffer(s, &env, (const unsigned char *)text, strlen(text),
	    "t", &v);
}

static const struct hit *
find_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, name) == 0)
			return msg_hit(m, i);
	return NULL;
}

static void
dump_hits(const struct msg *m)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		print_message("  hit %s %g %s\n", msg_hit(m, i)->name,
		    msg_hit(m, i)->score, msg_hit(m, i)->detail);
}

#define EXPECT_HIT(m, n) \
	do { if (find_hit((m), (n)) == NULL) { dump_hits(m); \
	    fail_msg("%s: no hit", (n)); } } while (0)
#define EXPECT_MISS(m, n) \
	do { if (find_hit((m), (n)) != NULL) fail_msg("%s: hit (%s)", (n), \
	    find_hit((m), (n))->detail); } while (0)

static const char msg_links[] =
    "From: Ann <ann@newdomain.example>\r\n"
    "To: bob@example.com\r\n"
    "Subject: offer\r\n"
    "Message-ID: <1@newdomain.example>\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "See http://www.spam-domain.example/buy now.\r\n";

static const char msg_plain[] =
    "From: Ann <ann@plain.example>\r\n"
    "To: bob@example.com\r\n"
    "Subject: hello\r\n"
    "Message-ID: <2@plain.example>\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "Nothing here.\r\n";

static void
test_sub_match(void **unused)
{
	static const struct {
		const char *sub, *answer;
		bool want;
	} cases[] = {
		{ "127.0.0.2", "127.0.0.2", true },
		{ "127.0.0.2", "127.0.0.3", false },
		{ "127.0.0.4-127.0.0.7", "127.0.0.6", true },
		{ "127.0.0.4-127.0.0.7", "127.0.0.8", false },
		{ "127.0.1.0/255.255.255.0", "127.0.1.9", true },
		{ "127.0.1.0/255.255.255.0", "127.0.2.9", false },
		{ "8", "127.0.0.8", true },
		{ "8", "127.0.0.4", false },
		{ "^127\\.0\\.\\d+\\.3$", "127.0.10.3", true },
		{ "/^127\\.2\\.0\\.2$/", "127.2.0.2", true },
		{ "/^127\\.2\\.0\\.2$/", "127.2.0.20", false },
		{ "", "127.0.0.9", true },
		{ "", "10.1.2.3", false },	/* not 127/8: no listing */
	};
	char rules[256], why[160];

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct dnsbl_rules *t = dnsbl_rules_new();
		const struct dnsbl_rule *r;

		snprintf(rules, sizeof(rules), "check_rbl('s', 'z.test.'%s%s%s)",
		    *cases[i].sub ? ", '" : "", cases[i].sub,
		    *cases[i].sub ? "'" : "");
		assert_int_equal(dnsbl_rules_eval(t, "R", rules, why,
		    sizeof(why)), 1);
		r = t->rules->pdata[0];
		if (dnsbl_sub_match(&r->sub, DNS_T_A, cases[i].answer) !=
		    cases[i].want)
			fail_msg("case %zu: %s vs %s", i, cases[i].sub,
			    cases[i].answer);
		dnsbl_rules_free(&t);
	}
}

/* Debian's SpamAssassin rule files read as written: every DNS rule kept,
 * with its set, zone and subtest. */
static void
test_sa_rule_files(void **unused)
{
	static const char *const files[] = {
		"/usr/share/spamassassin/20_dnsbl_tests.cf",
		"/usr/share/spamassassin/25_uribl.cf",
		"/usr/share/spamassassin/25_dnswl.cf",
	};
	struct rules_limits lim = { 100000, 1000, 0, 0 };
	struct rules_set *set;
	const struct dnsbl_rules *t;
	const struct dnsbl_rule *r;

	(void)unused;
	if (access(files[0], R_OK) != 0) {
		skip();
		return;
	}
	set = rules_set_new(&lim);
	for (size_t i = 0; i < NELEM(files); i++)
		assert_int_equal(rules_load_path(set, files[i], NULL), 0);
	assert_int_equal(rules_compile(set, false, NULL), 0);
	t = rules_set_dnsbl(set);
	assert_true(dnsbl_rules_count(t) > 40);
	assert_non_null(r = g_hash_table_lookup(t->by_name, "RCVD_IN_SBL"));
	assert_int_equal(r->kind, DNSBL_RBL_SUB);
	assert_int_equal(r->sub.kind, DNSBL_SUB_IP);
	assert_string_equal(dnsbl_rule_source(t, r)->zone,
	    "zen.spamhaus.org");
	assert_non_null(r = g_hash_table_lookup(t->by_name, "RCVD_IN_XBL"));
	assert_int_equal(r->which, DNSBL_LASTEXTERNAL);
	assert_int_equal(r->sub.kind, DNSBL_SUB_RE);
	assert_non_null(r = g_hash_table_lookup(t->by_name,
	    "RCVD_IN_MAPS_OPS"));
	assert_int_equal(r->sub.kind, DNSBL_SUB_BITS);
	assert_non_null(r = g_hash_table_lookup(t->by_name,
	    "RCVD_IN_DNSWL_HI"));
	assert_int_equal(dnsbl_rule_source(t, r)->which, DNSBL_FIRSTTRUSTED);
	assert_non_null(r = g_hash_table_lookup(t->by_name,
	    "URIBL_DBL_SPAM"));
	assert_int_equal(r->kind, DNSBL_URIRHS);
	assert_true(r->tflags & DNSBL_TF_DOMAINS_ONLY);
	assert_true(r->is_body_link);
	assert_non_null(r = g_hash_table_lookup(t->by_name,
	    "RCVD_IN_BL_SPAMCOP_NET"));
	assert_int_equal(r->qtype, DNS_T_TXT);
	assert_true(g_hash_table_contains(t->skip, "google.com"));
	rules_set_free(&set);
}

/* A listed, whitelisted client with a listed link: every list scores in
 * the net set; the refused list and the one listing everything do not
 * score and the verdict says it went without them. */
static void
test_listed_client(void **unused)
{
	struct snap *s = snap_with("DNSLists=yes", NULL);
	struct msg *m = scan_from(s, "192.0.2.2", msg_links);
	const struct hit *h, *d;

	(void)unused;
	EXPECT_HIT(m, "RCVD_IN_T_BL");
	EXPECT_HIT(m, "RCVD_IN_T_BL_BITS");
	EXPECT_HIT(m, "RCVD_IN_T_BL_TXT");
	EXPECT_HIT(m, "RCVD_IN_T_WL_HI");
	EXPECT_HIT(m, "URIBL_T_SPAM");
	EXPECT_HIT(m, "T_FROM_NEWDOM");
	EXPECT_MISS(m, "__RCVD_IN_T_WL");	/* sub-rules feed metas only */
	EXPECT_HIT(m, "T_META_WL_AND_BL");	/* ... as they do here */
	EXPECT_MISS(m, "T_META_NOT_WL");
	EXPECT_MISS(m, "RCVD_IN_T_XBL");	/* 127.0.0.2: not 4-7 */
	EXPECT_MISS(m, "RCVD_IN_T_REFUSED");
	EXPECT_MISS(m, "RCVD_IN_T_ALL");
	EXPECT_MISS(m, "RCVD_IN_T_SLOW");
	assert_true(msg_net_votes(m));
	assert_int_equal(msg_score_set(m), SCORE_SET_NET);
	h = find_hit(m, "RCVD_IN_T_BL");
	assert_float_equal(h->score, 3.0, 1e-9);
	h = find_hit(m, "RCVD_IN_T_WL_HI");
	assert_float_equal(h->score, -5.0, 1e-9);
	assert_non_null(d = find_hit(m, "DNSBL_LIST_DISABLED"));
	assert_non_null(strstr(d->detail, "refused.test"));
	assert_non_null(strstr(d->detail, "all.test"));
	assert_float_equal(d->score, 0.0, 1e-9);
	msg_end(&m);

	/* Still disabled for the next message: never asked, never scored. */
	m = scan_from(s, "192.0.2.3", msg_plain);
	EXPECT_MISS(m, "RCVD_IN_T_REFUSED");
	EXPECT_MISS(m, "RCVD_IN_T_ALL");
	EXPECT_HIT(m, "DNSBL_LIST_DISABLED");
	msg_end(&m);
	snap_unref(&s);
}

/* DNSLists off (the default): no lookup, no finding, plain score set. */
static void
test_off(void **unused)
{
	struct snap *s = snap_with(NULL, NULL);
	struct msg *m = scan_from(s, "192.0.2.2", msg_links);

	(void)unused;
	/* Only the meta on a DNS rule's absence, as in SpamAssassin
	 * without network tests. */
	assert_int_equal(msg_hit_count(m), 1);
	EXPECT_HIT(m, "T_META_NOT_WL");
	assert_false(msg_net_votes(m));
	assert_int_equal(msg_score_set(m), SCORE_SET_PLAIN);
	msg_end(&m);
	snap_unref(&s);
}

/* Past a trusted client, the Received headers' relays: -lastexternal
 * and -firsttrusted are the first untrusted one, the plain set all. */
static void
test_relays(void **unused)
{
	static const char text[] =
	    "Received: from relay.example (relay.example [198.51.100.9])\r\n"
	    "\tby mx.example.test (Postfix) with ESMTP id A1;\r\n"
	    "\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "Received: from origin.example (origin.example [192.0.2.2])\r\n"
	    "\tby relay.example with SMTP id B2;\r\n"
	    "\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "From: a@plain.example\r\n"
	    "Subject: relayed\r\n"
	    "\r\n"
	    "hi\r\n";
	struct snap *s = snap_with("DNSLists=yes", "SkipTrusted=no");
	struct msg *m = scan_from(s, "10.255.255.5", text);

	(void)unused;
	EXPECT_HIT(m, "RCVD_IN_T_XBL");		/* 198.51.100.9: 127.0.0.4 */
	EXPECT_HIT(m, "RCVD_IN_T_BL");		/* both are untrusted */
	EXPECT_HIT(m, "RCVD_IN_T_BL_BITS");	/* 192.0.2.2: 127.0.0.2 */
	EXPECT_MISS(m, "RCVD_IN_T_WL_HI");	/* 192.0.2.2 is not first */
	EXPECT_HIT(m, "T_META_NOT_WL");
	msg_end(&m);
	snap_unref(&s);
}

/* IP-literal links, uridnsbl_skip_domain, and uridnssub: the link
 * domain's name servers' addresses (with tflags a: its own) looked up in
 * an IP list. */
static void
test_links(void **unused)
{
	static const char text[] =
	    "From: a@plain.example\r\n"
	    "Subject: links\r\n"
	    "\r\n"
	    "http://203.0.113.5/x http://skipped.example/ "
	    "http://www.ns-listed.example/\r\n";
	struct snap *s = snap_with("DNSLists=yes", NULL);
	struct msg *m = scan_from(s, "198.51.100.77", text);
	const struct hit *h;

	(void)unused;
	assert_non_null(h = find_hit(m, "URIBL_T_SPAM"));
	assert_non_null(strstr(h->detail, "203.0.113.5"));
	EXPECT_HIT(m, "URIBL_T_SBL_A");
	EXPECT_MISS(m, "URIBL_T_SBL");	/* ns-listed.example has no NS */
	EXPECT_MISS(m, "RCVD_IN_T_BL");	/* the client is not listed */
	msg_end(&m);
	m = scan_from(s, "198.51.100.77",
	    "From: a@plain.example\r\nSubject: x\r\n\r\nhttp://nsbad.example/\r\n");
	assert_non_null(h = find_hit(m, "URIBL_T_SBL"));
	assert_non_null(strstr(h->detail, "nsbad.example"));
	EXPECT_MISS(m, "URIBL_T_SBL_A");	/* it has no address */
	msg_end(&m);
	m = scan_from(s, "198.51.100.77",
	    "From: a@mail.example\r\nSubject: x\r\n\r\nhttp://skipped.example/\r\n");
	EXPECT_MISS(m, "URIBL_T_SPAM");
	EXPECT_HIT(m, "T_FROM_HOST_DBL");
	msg_end(&m);
	snap_unref(&s);
}

/* askdns _DKIMDOMAIN_: a name for each valid signature's domain (the
 * DKIM keys from tests/data/auth/zone.txt, with the list's entry). */
static void
test_askdns_dkim(void **unused)
{
	char path[1200], *auth, *text, *zone, opt[1300];
	size_t len;
	struct snap *s;
	struct msg *m;
	const struct hit *h;
	const char *ov[] = { opt, rules_opt, "Checks=dkim,dnsbl,rules",
	    "DNSLists=yes" };

	(void)unused;
	snprintf(path, sizeof(path), "%s/tests/data/auth/zone.txt",
	    t_srcdir());
	assert_non_null(auth = slurp_path(path, &len));
	text = g_strdup_printf("%s\nexample.org.dkimwl.test A 127.0.3.5\n",
	    auth);
	zone = t_write_file(text);
	snprintf(opt, sizeof(opt), "DNSZoneFile=%s", zone);
	s = t_snap("Syslog no\n", ov, NELEM(ov));
	snprintf(path, sizeof(path), "%s/tests/data/auth/signed.eml",
	    t_srcdir());
	free(auth);
	assert_non_null(auth = slurp_path(path, &len));
	m = scan_from(s, "198.51.100.77", auth);
	assert_non_null(h = find_hit(m, "T_DKIMWL_HI"));
	assert_non_null(strstr(h->detail, "example.org.dkimwl.test"));
	msg_end(&m);
	/* Altered after signing: no valid signature, nothing asked. */
	snprintf(path, sizeof(path), "%s/tests/data/auth/signed-altered.eml",
	    t_srcdir());
	free(auth);
	assert_non_null(auth = slurp_path(path, &len));
	m = scan_from(s, "198.51.100.77", auth);
	EXPECT_MISS(m, "T_DKIMWL_HI");
	msg_end(&m);
	snap_unref(&s);
	free(auth);
	g_free(text);
	unlink(zone);
	free(zone);
}

/* The message's "dnsbl" field for the log (vigilctl report), or NULL. */
static const char *
dnsbl_field(struct msg *m)
{
	const char *k, *json;

	for (size_t i = 0; i < msg_field_count(m); i++) {
		msg_field(m, i, &k, &json);
		if (strcmp(k, "dnsbl") == 0)
			return json;
	}
	return NULL;
}

/* A list that never answers costs the budget (nothing with a zone
 * file), and after DNSBL_TIMEOUTS messages is disabled; stats and
 * `vigil -n` show the disabled lists; the log's "dnsbl" field says the
 * lookups left unanswered, then the lists a message went without. */
static void
test_disabled_reported(void **unused)
{
	struct snap *s = snap_with("DNSLists=yes", NULL);
	struct msg *m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)unused;
	for (int i = 0; i < 3; i++) {
		const char *j;
		int lookups = -1, answered = -1;

		m = scan_from(s, "192.0.2.3", msg_plain);
		EXPECT_MISS(m, "RCVD_IN_T_SLOW");
		assert_non_null(j = dnsbl_field(m));
		assert_int_equal(sscanf(j, "{\"lookups\":%d,\"answered\":%d,",
		    &lookups, &answered), 2);
		assert_true(answered < lookups);	/* slow.test */
		msg_end(&m);
	}
	m = scan_from(s, "192.0.2.3", msg_plain);
	assert_non_null(strstr(find_hit(m, "DNSBL_LIST_DISABLED")->detail,
	    "slow.test"));
	assert_non_null(dnsbl_field(m));
	assert_non_null(strstr(dnsbl_field(m), "\"slow.test\""));
	msg_end(&m);

	assert_non_null(f = open_memstream(&buf, &len));
	check_dnsbl.stats(snap_state(s, &check_dnsbl), f);
	fclose(f);
	assert_non_null(strstr(buf, "dnsbl.disabled.refused.test "));
	assert_non_null(strstr(buf, "dnsbl.disabled.all.test "));
	assert_non_null(strstr(buf, "dnsbl.disabled.slow.test "));
	assert_null(strstr(buf, "dnsbl.disabled.bl.test "));
	free(buf);

	assert_non_null(f = open_memstream(&buf, &len));
	dnsbl_report(s, f);
	fclose(f);
	assert_non_null(strstr(buf, "dnsbl: bl.test: ok"));
	assert_non_null(strstr(buf, "dnsbl: refused.test: disabled: answered "
	    "127.255.255.254"));
	assert_non_null(strstr(buf, "dnsbl: all.test: disabled: lists "
	    "everything"));
	free(buf);
	snap_unref(&s);
}

/* A disabled list is probed again after DNSListsRecheck: once it
 * answers right (the probe's name does not exist) it scores again. */
static void
test_recheck(void **unused)
{
	char *rules = t_write_file(
	    "header RCVD_IN_T_FLAKY eval:check_rbl('tflaky', 'flaky.test.')\n"
	    "score  RCVD_IN_T_FLAKY 0 1.0 0 1.0\n");
	char *bad = t_write_file(
	    "1.0.0.127.flaky.test A 127.255.255.254\n"
	    "2.2.0.192.flaky.test A 127.255.255.254\n");
	char *good = t_write_file("2.2.0.192.flaky.test A 127.0.0.2\n");
	char ropt[1200], zopt[1200];
	const char *ov[] = { zopt, ropt, "Checks=dnsbl,rules", "DNSLists=yes",
	    "DNSListsRecheck=1s" };
	struct snap *s;
	struct msg *m;

	(void)unused;
	snprintf(ropt, sizeof(ropt), "RulesDir=%s", rules);
	snprintf(zopt, sizeof(zopt), "DNSZoneFile=%s", bad);
	s = t_snap("Syslog no\n", ov, NELEM(ov));
	m = scan_from(s, "192.0.2.2", msg_plain);
	EXPECT_MISS(m, "RCVD_IN_T_FLAKY");
	EXPECT_HIT(m, "DNSBL_LIST_DISABLED");
	msg_end(&m);
	snap_unref(&s);

	/* The list is mended; the recheck time comes. */
	snprintf(zopt, sizeof(zopt), "DNSZoneFile=%s", good);
	s = t_snap("Syslog no\n", ov, NELEM(ov));
	m = scan_from(s, "192.0.2.2", msg_plain);
	EXPECT_MISS(m, "RCVD_IN_T_FLAKY");	/* before the recheck */
	msg_end(&m);
	/* lint-sleep: the recheck interval (DNSListsRecheck=1s) must pass */
	usleep(1100 * 1000);
	m = scan_from(s, "192.0.2.2", msg_plain);	/* probes: right */
	EXPECT_MISS(m, "RCVD_IN_T_FLAKY");	/* still went without it */
	msg_end(&m);
	m = scan_from(s, "192.0.2.2", msg_plain);
	EXPECT_HIT(m, "RCVD_IN_T_FLAKY");
	EXPECT_MISS(m, "DNSBL_LIST_DISABLED");
	msg_end(&m);
	snap_unref(&s);
	unlink(rules);
	unlink(bad);
	unlink(good);
	free(rules);
	free(bad);
	free(good);
}

/* The "lookups" of the message's dnsbl log field; -1 without one. */
static long
lookups_of(const struct msg *m)
{
	for (size_t i = 0; i < msg_field_count(m); i++) {
		const char *k, *v, *p;

		msg_field(m, i, &k, &v);
		if (strcmp(k, "dnsbl") == 0 &&
		    (p = strstr(v, "\"lookups\":")) != NULL)
			return strtol(p + 10, NULL, 10);
	}
	return -1;
}

/*
 * A rule scored 0 with network tests does not run, as in SpamAssassin
 * ("Setting a rule's score to 0 will disable that rule from running"),
 * and a list none of whose rules runs is never asked (uri.test, for
 * the link's domain).  A set whose own rule is off is still asked for a
 * sub-rule that runs.
 */
static void
test_score_zero(void **unused)
{
	char dir[] = "/tmp/vigil-dnsbl-off.XXXXXX", path[1200], opt[1300];
	struct snap *s;
	struct msg *m;
	long base;
	FILE *f;

	(void)unused;
	s = snap_with("DNSLists=yes", NULL);
	m = scan_from(s, "192.0.2.2", msg_links);
	base = lookups_of(m);
	assert_true(base > 1);
	EXPECT_HIT(m, "RCVD_IN_T_BL");
	EXPECT_HIT(m, "URIBL_T_SPAM");
	msg_end(&m);
	snap_unref(&s);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zz_off.rules", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("score URIBL_T_SPAM 0\nscore RCVD_IN_T_BL 0\n", f);
	fclose(f);
	snprintf(opt, sizeof(opt), "LocalRulesDir=%s", dir);
	s = snap_with("DNSLists=yes", opt);
	m = scan_from(s, "192.0.2.2", msg_links);
	EXPECT_MISS(m, "URIBL_T_SPAM");
	EXPECT_MISS(m, "RCVD_IN_T_BL");		/* off */
	EXPECT_HIT(m, "RCVD_IN_T_BL_BITS");	/* its set still asked */
	EXPECT_HIT(m, "RCVD_IN_T_WL_HI");
	/* One lookup fewer: spam-domain.example.uri.test never asked. */
	assert_int_equal(lookups_of(m), base - 1);
	msg_end(&m);
	snap_unref(&s);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sub_match),
		cmocka_unit_test(test_sa_rule_files),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_listed_client),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_askdns_dkim),
		cmocka_unit_test(test_disabled_reported),
		cmocka_unit_test(test_recheck),
		cmocka_unit_test(test_score_zero),
	};

	log_set_level(LOG_ERR);
	snprintf(zone_opt, sizeof(zone_opt), "DNSZoneFile=%s/tests/data/"
	    "dnsbl/zone.txt", t_srcdir());
	snprintf(rules_opt, sizeof(rules_opt), "RulesDir=%s/tests/data/"
	    "dnsbl/lists.rules", t_srcdir());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
