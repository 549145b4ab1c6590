/*
 * test_rules.c - the rule language: parsing and its error positions,
 * scores, conditionals, tag replacement, header semantics (missing
 * headers, [if-unset:], :addr, :name, pseudo-headers), metas, tflags,
 * the regex limits, and the rules check in a snapshot (findings, scores
 * for other checks, a broken set refused).
 */
#include "t.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_auth.h"

static const struct rules_limits lim = {
	.match_limit = 100000, .depth_limit = 5000,
	.body_scan = 50000, .raw_scan = 500000,
};

/* Collected diagnostics, one "line:col: NAME: what" (W for warnings). */
static GString *diags;

static void
diag_fn(void *arg, enum rules_sev sev, const char *file, int line, int col,
    const char *name, const char *what)
{
	g_string_append_printf(diags, "%s%d:%d: %s: %s\n",
	    sev == RULES_WARN ? "W " : "", line, col, name, what);
}

static const struct rules_diag diag = { .fn = diag_fn };
/* lint's: what SpamAssassin's --lint fails on is an error */
static const struct rules_diag strict_diag = { .fn = diag_fn,
    .is_strict = true };

static struct rules_set *
load(const char *text, int *errs_r)
{
	struct rules_set *set = rules_set_new(&lim);
	int errs;

	g_string_truncate(diags, 0);
	errs = rules_load_string(set, "t.rules", text, &diag);
	errs += rules_compile(set, false, &diag);
	if (errs_r != NULL)
		*errs_r = errs;
	return set;
}

/* Hit names of an evaluation, " A B " form. */
static char *
hits_of(struct rules_set *set, const struct rules_input *in)
{
	struct arena *a = arena_new("test");
	size_t n;
	struct rules_hit *h = rules_eval(set, in, a, &n);
	GString *s = g_string_new(" ");

	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s ", h[i].rule->name);
	arena_free(&a);
	return g_string_free(s, FALSE);
}

static bool
has(const char *hits, const char *name)
{
	char *k = g_strdup_printf(" %s ", name);
	bool r = strstr(hits, k) != NULL;

	g_free(k);
	return r;
}

static void
test_errors_have_positions(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "body OK /fine/\n"
	    "body BAD_RE /a(b/\n"
	    "header NO_OP Subject ~ /x/\n"
	    "body NO_END /abc\n"
	    "meta BAD_META OK && (\n"
	    "body BAD_FLAG /x/q\n", &errs);

	assert_int_equal(errs, 5);
	assert_non_null(strstr(diags->str, "2:17: BAD_RE: missing closing "
	    "parenthesis"));
	assert_non_null(strstr(diags->str, "3:22: NO_OP: expected =~ or !~"));
	assert_non_null(strstr(diags->str, "4:13: NO_END: regex has no "
	    "closing delimiter"));
	assert_non_null(strstr(diags->str, "BAD_META: expression ends"));
	assert_non_null(strstr(diags->str, "BAD_FLAG: unknown regex flag 'q'"));
	rules_set_free(&set);
}

static void
test_skips_and_warnings(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header EV eval:check_for_foo()\n"
	    "body CODE /a(?{ 1 })b/\n"
	    "body DUP /one/\n"
	    "body DUP /two/\n"
	    "score DUP 1\n"
	    "meta M DUP && NOPE\n"
	    "score M 1\n"
	    "uridnsbl X y z\n"
	    "frobnicate 1\n"
	    "frobnicate 2\n", &errs);
	struct rules_counts c;

	assert_int_equal(errs, 0);
	assert_non_null(strstr(diags->str, "W 1:1: EV: skipped: eval:check_for_foo is not implemented"));
	assert_non_null(strstr(diags->str, "CODE: skipped: embedded Perl code"));
	assert_non_null(strstr(diags->str, "W 4:1: DUP: duplicate name"));
	assert_non_null(strstr(diags->str, "M: meta names unknown rule NOPE"));
	assert_non_null(strstr(diags->str, "unsupported directive 'frobnicate' "
	    "skipped (2 lines in this file)"));
	/* DNS rules are read (dnsbl_rules.c); one it cannot run is
	 * skipped with the reason. */
	assert_non_null(strstr(diags->str, "W 8:1: X: skipped: uridnsbl: "
	    "record type z is not supported"));
	/* The later DUP replaced the earlier one. */
	assert_string_equal(rules_find(set, "DUP")->pattern, "two");
	rules_get_counts(set, &c);
	assert_int_equal(c.loaded, 2);		/* DUP, M */
	assert_int_equal(c.skipped, 3);		/* EV CODE X */
	assert_int_equal(c.unread, 2);		/* frobnicate x2: not rules */
	rules_set_free(&set);
}

static void
test_scores(void **state)
{
	struct rules_set *set = load(
	    "body A /a/\nscore A 1 2 3 4\n"
	    "body B /b/\nscore B 2\nscore B 2.5\n"
	    "body C /c/\n"
	    "body T_D /d/\n"
	    "body N /n/\ntflags N nice\n"
	    "body Z /z/\nscore Z 0\n"
	    "score OTHER_CHECK 4.5\n", NULL);

	assert_true(rules_find(set, "A")->score == 3);	/* Bayes on, net off */
	assert_true(rules_find(set, "B")->score == 2.5);
	assert_true(rules_find(set, "C")->score == 1.0);
	assert_true(rules_find(set, "T_D")->score == 0.01);
	assert_true(rules_find(set, "N")->score == -1.0);
	assert_false(rules_find(set, "Z")->is_enabled);
	assert_non_null(strstr(diags->str, "C: no score"));
	/* Scores for names no rule defines are kept for other checks. */
	{
		bool seen = false;

		for (size_t i = 0; i < rules_score_count(set); i++) {
			const char *n;
			double v;

			rules_score_at(set, i, &n, &v);
			if (strcmp(n, "OTHER_CHECK") == 0 && v == 4.5)
				seen = true;
		}
		assert_true(seen);
	}
	rules_set_free(&set);
}

/* Scores are bounded when parsed: 1e300 or nan summed into a message's
 * score broke its log line and every threshold.  Lint says which. */
static void
test_score_bounds(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "body BIG /a/\nscore BIG 1e300\n"
	    "body NEG /b/\nscore NEG -1001\n"
	    "body NAN /c/\nscore NAN nan\n"
	    "body INF /d/\nscore INF 1 2 inf 4\n"
	    "body REL /e/\nscore REL 900\nscore REL (200)\n"
	    "body EDGE /f/\nscore EDGE -1000\n"
	    "score OTHER_CHECK 1e9\n", &errs);

	assert_int_equal(errs, 6);
	assert_non_null(strstr(diags->str, "BIG: score: '1e300' is outside "
	    "[-1000, 1000]"));
	assert_non_null(strstr(diags->str, "NEG: score: '-1001' is outside"));
	assert_non_null(strstr(diags->str, "NAN: score: 'nan' is outside"));
	assert_non_null(strstr(diags->str, "INF: score: 'inf' is outside"));
	assert_non_null(strstr(diags->str, "REL: score: 1100.000 is outside"));
	assert_non_null(strstr(diags->str, "OTHER_CHECK: score: '1e9'"));
	assert_true(rules_find(set, "EDGE")->score == -1000);
	rules_set_free(&set);
}

static void
test_conditionals_and_tags(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "if (version >= 3.004000)\nbody NEW /x/\nendif\n"
	    "if (version >= 9.0)\nbody FUTURE /x/\nelse\nbody PAST /x/\nendif\n"
	    "ifplugin Mail::SpamAssassin::Plugin::Razor2\nbody RAZOR_X /x/\nendif\n"
	    "if !plugin(Mail::SpamAssassin::Plugin::Razor2)\nbody NORAZOR /x/\nendif\n"
	    "ifplugin Mail::SpamAssassin::Plugin::ReplaceTags\n"
	    "replace_tag V (?:v|\\\\/)\nreplace_tag A [a4@]\n"
	    "replace_inter W1 \\W?\n"
	    "body TAGGED /<inter W1><V><A>/i\nreplace_rules TAGGED\n"
	    "if (version >= 3.004000)\nbody INNER /x/\nendif\nendif\n",
	    &errs);
	struct rules_chunk body[] = { { "buy \\/-4 now\n", 13, 0 } };
	struct rules_input in = { .body = body, .nbody = 1 };
	char *h;

	assert_int_equal(errs, 0);
	assert_non_null(rules_find(set, "NEW"));
	assert_null(rules_find(set, "FUTURE"));
	assert_non_null(rules_find(set, "PAST"));
	assert_null(rules_find(set, "RAZOR_X"));
	assert_non_null(rules_find(set, "NORAZOR"));
	h = hits_of(set, &in);
	assert_true(has(h, "TAGGED"));
	g_free(h);
	/* The plugin block a rule is defined in (scores learn may leave a
	 * block's rules out of a score set), innermost first. */
	assert_string_equal(rules_find(set, "TAGGED")->plugin, "ReplaceTags");
	assert_null(rules_find(set, "PAST")->plugin);
	assert_null(rules_find(set, "NORAZOR")->plugin);
	assert_string_equal(rules_find(set, "INNER")->plugin, "ReplaceTags");
	rules_set_free(&set);
}

/* The list a carrier rule of rules_parse.c holds, "a|b|" form. */
static char *
carrier_list(struct rules_set *set, const char *carrier)
{
	const struct rule *r = rules_find(set, carrier);
	GString *s = g_string_new(NULL);

	for (size_t i = 0; r != NULL && r->eval_args[i] != NULL; i++)
		g_string_append_printf(s, "%s|", r->eval_args[i]);
	return g_string_free(s, FALSE);
}

/* The resolver auth_hits gives check_dkim_adsp (NULL: none). */
static struct adns *t_dns;

/* The hits of a message whose one header is From: from, with the
 * SPF result of sender spf (NULL: SPF did not run) and the DKIM
 * signatures sigs (nsigs -1: DKIM did not run). */
static char *
auth_hits(struct rules_set *set, const char *from, const char *spf_sender,
    enum auth_res spf, const struct auth_dkim_sig *sigs, int nsigs)
{
	struct rules_hdr hd = { .name = "From", .raw = NULL, .value = from };
	struct auth_spf s = { .result = spf, .identity = "mailfrom",
	    .sender = spf_sender, .helo = "mail.example.com" };
	struct auth_dkim d = { .nsigs = nsigs < 0 ? 0 : (size_t)nsigs,
	    .sigs = sigs };
	struct adns_budget b = { .left_us = 1000000, .is_set = true };
	struct rules_auth au = { .spf = spf_sender != NULL ? &s : NULL,
	    .dkim = nsigs >= 0 ? &d : NULL, .dns = t_dns,
	    .budget = t_dns != NULL ? &b : NULL };
	struct rules_chunk body[] = { { "hi\n", 3, 0 } };
	struct rules_input in = { .hdrs = &hd, .nhdrs = 1, .body = body,
	    .nbody = 1, .envelope_from = spf_sender, .auth = &au };
	char raw[256];

	snprintf(raw, sizeof(raw), " %s\n", from);
	hd.raw = raw;
	return hits_of(set, &in);
}

/*
 * Plugin::SPF's and Plugin::DKIM's welcomelists (welcomelist_from_spf,
 * welcomelist_from_dkim, welcomelist_auth, their def_, un- and whitelist
 * forms) and adsp_override: bad lines are errors that say what the
 * directive wants; the lists as SpamAssassin keeps them; the eval tests
 * over vigil's SPF and DKIM results.
 */
static void
test_auth_welcomelists(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header WL_SPF eval:check_for_spf_welcomelist_from()\n"
	    "header DEF_SPF eval:check_for_def_spf_whitelist_from()\n"
	    "header WL_DKIM eval:check_for_dkim_welcomelist_from()\n"
	    "header DEF_DKIM eval:check_for_def_dkim_welcomelist_from()\n"
	    "header ADSP_D eval:check_dkim_adsp('D')\n"
	    "header ADSP_A eval:check_dkim_adsp('A', '.example.org')\n"
	    "header ADSP_ANY eval:check_dkim_adsp('*')\n"
	    "header ADSP_BAD eval:check_dkim_adsp('Q')\n"
	    "welcomelist_from_dkim\n"
	    "welcomelist_from_dkim a@b c d\n"
	    "adsp_override bad!domain\n"
	    "adsp_override example.com sometimes\n"
	    "adsp_override\n"
	    "unwelcomelist_auth\n"
	    "welcomelist_from_spf *@Example.COM\n"
	    "whitelist_auth joe@example.net\n"
	    "def_welcomelist_auth *@example.net\n"
	    "unwhitelist_auth joe@example.net\n"
	    "welcomelist_from_dkim Ann@Example.ORG\n"
	    "welcomelist_from_dkim *@lists.example.org .Example.org\n"
	    "def_whitelist_from_dkim bob@example.org relay.example.net\n"
	    "unwelcomelist_from_dkim bob@example.org relay.example.net\n"
	    "def_welcomelist_from_dkim bob@example.org signer.example.net\n"
	    "adsp_override example.org all\n"
	    "adsp_override *.example.org\n"
	    "adsp_override @Example.org custom_low\n"
	    "welcomelist_from_dkim postmaster\n", &errs);
	struct rules_set *lint = rules_set_new(&lim);
	const struct auth_dkim_sig org = { .result = AUTH_PASS,
	    .domain = "example.org", .idomain = "example.org",
	    .selector = "s", .key_bits = 2048 };
	const struct auth_dkim_sig lists = { .result = AUTH_PASS,
	    .domain = "lists.example.org", .idomain = "lists.example.org",
	    .selector = "s", .key_bits = 2048 };
	const struct auth_dkim_sig weak = { .result = AUTH_PASS,
	    .domain = "example.org", .idomain = "example.org",
	    .selector = "s", .key_bits = 512 };
	const struct auth_dkim_sig signer = { .result = AUTH_PASS,
	    .domain = "signer.example.net", .idomain = "signer.example.net",
	    .selector = "s", .key_bits = 2048 };
	const struct auth_dkim_sig bad = { .result = AUTH_FAIL,
	    .domain = "example.org", .idomain = "example.org",
	    .selector = "s", .key_bits = 2048 };
	char *h, *l;

	(void)state;
	/* the daemon ignores the bad lines and loads the rest; lint fails */
	assert_int_equal(errs, 0);
	assert_non_null(strstr(diags->str, "W 9:1: -: welcomelist_from_dkim: "
	    "needs an author address"));
	assert_non_null(strstr(diags->str, "ADSP_BAD: skipped"));
	assert_null(strstr(diags->str, "unsupported directive"));
	g_string_truncate(diags, 0);
	assert_int_equal(rules_load_string(lint, "t.rules",
	    "welcomelist_from_dkim\n"
	    "welcomelist_from_dkim a@b c d\n"
	    "adsp_override bad!domain\n"
	    "adsp_override example.com sometimes\n"
	    "adsp_override\n"
	    "unwelcomelist_auth\n"
	    "welcomelist_from_dkim a@b\n"
	    "adsp_override example.com custom_med\n", &strict_diag), 6);
	rules_set_free(&lint);
	assert_non_null(strstr(diags->str, "1:1: -: welcomelist_from_dkim: "
	    "needs an author address and optionally a signing domain"));
	assert_non_null(strstr(diags->str, "2:1: -: welcomelist_from_dkim: "));
	assert_non_null(strstr(diags->str, "3:1: -: adsp_override: needs a "
	    "domain and optionally one of nxdomain, unknown, all, "
	    "discardable, custom_low, custom_med, custom_high"));
	assert_non_null(strstr(diags->str, "4:1: -: adsp_override: "));
	assert_non_null(strstr(diags->str, "5:1: -: adsp_override: "));
	assert_non_null(strstr(diags->str, "6:1: -: unwelcomelist_auth: "
	    "needs a value"));
	assert_null(strstr(diags->str, "W "));
	assert_null(strstr(diags->str, "7:1"));
	assert_null(strstr(diags->str, "8:1"));
	l = carrier_list(set, "__VIGIL_ADDRLIST_welcomelist_from_spf");
	assert_string_equal(l, "*@example.com|");
	g_free(l);
	l = carrier_list(set, "__VIGIL_ADDRLIST_welcomelist_auth");
	assert_string_equal(l, "");
	g_free(l);
	l = carrier_list(set, "__VIGIL_ADDRLIST_welcomelist_from_dkim");
	assert_string_equal(l, "ann@example.org|*@lists.example.org "
	    ".example.org|postmaster|");
	g_free(l);
	l = carrier_list(set, "__VIGIL_ADDRLIST_def_welcomelist_from_dkim");
	assert_string_equal(l, "bob@example.org signer.example.net|");
	g_free(l);
	/* a later line for a domain replaces the earlier */
	l = carrier_list(set, "__VIGIL_ADSP_adsp_override");
	assert_string_equal(l, "*.example.org D|example.org 1|");
	g_free(l);

	/* SPF: the envelope sender whose SPF passed; not a failed one, nor
	 * a From of the list (forged over another domain's SPF pass). */
	h = auth_hits(set, "x@example.com", "x@example.com", AUTH_PASS, NULL,
	    -1);
	assert_true(has(h, "WL_SPF"));
	assert_false(has(h, "DEF_SPF"));
	g_free(h);
	h = auth_hits(set, "x@example.com", "x@example.com", AUTH_FAIL, NULL,
	    -1);
	assert_false(has(h, "WL_SPF"));
	g_free(h);
	h = auth_hits(set, "x@example.com", "y@example.net", AUTH_PASS, NULL,
	    -1);
	assert_false(has(h, "WL_SPF"));
	assert_true(has(h, "DEF_SPF"));		/* def_welcomelist_auth */
	g_free(h);

	/* DKIM: an author domain signature for an entry without a signing
	 * domain; ".example.org" is its subdomains, not itself; a weak key
	 * or a failed signature does not count. */
	h = auth_hits(set, "Ann@example.org", NULL, AUTH_NONE, &org, 1);
	assert_true(has(h, "WL_DKIM"));
	assert_false(has(h, "ADSP_ANY"));	/* valid author signature */
	g_free(h);
	h = auth_hits(set, "ann@example.org", NULL, AUTH_NONE, &lists, 1);
	assert_false(has(h, "WL_DKIM"));	/* third party */
	assert_true(has(h, "ADSP_ANY"));	/* example.org: custom_low */
	assert_false(has(h, "ADSP_D"));
	assert_false(has(h, "ADSP_A"));
	g_free(h);
	h = auth_hits(set, "x@lists.example.org", NULL, AUTH_NONE, &lists, 1);
	assert_true(has(h, "WL_DKIM"));
	g_free(h);
	h = auth_hits(set, "x@lists.example.org", NULL, AUTH_NONE, &org, 1);
	assert_false(has(h, "WL_DKIM"));
	assert_true(has(h, "ADSP_D"));		/* *.example.org */
	assert_false(has(h, "ADSP_A"));
	g_free(h);
	h = auth_hits(set, "ann@example.org", NULL, AUTH_NONE, &weak, 1);
	assert_false(has(h, "WL_DKIM"));
	assert_true(has(h, "ADSP_ANY"));
	g_free(h);
	h = auth_hits(set, "ann@example.org", NULL, AUTH_NONE, &bad, 1);
	assert_false(has(h, "WL_DKIM"));
	g_free(h);
	/* a signing domain named: that one, not the author's */
	h = auth_hits(set, "bob@example.org", NULL, AUTH_NONE, &signer, 1);
	assert_true(has(h, "DEF_DKIM"));
	assert_false(has(h, "WL_DKIM"));
	g_free(h);
	h = auth_hits(set, "bob@example.org", NULL, AUTH_NONE, &org, 1);
	assert_false(has(h, "DEF_DKIM"));
	g_free(h);
	/* an i= without "@" names no signing domain: not even that of an
	 * author without one */
	{
		const struct auth_dkim_sig noat = { .result = AUTH_PASS,
		    .domain = "example.org", .idomain = "", .selector = "s",
		    .key_bits = 2048 };

		h = auth_hits(set, "postmaster", NULL, AUTH_NONE, &noat, 1);
		assert_false(has(h, "WL_DKIM"));
		g_free(h);
	}
	/* no DKIM result: nothing (SpamAssassin's signatures not ready) */
	h = auth_hits(set, "x@lists.example.org", NULL, AUTH_NONE, NULL, -1);
	assert_false(has(h, "ADSP_D"));
	assert_false(has(h, "WL_DKIM"));
	g_free(h);
	/* unsigned, a hostile From: no crash, practices of its domain */
	h = auth_hits(set, "\"a@b\" <@@lists.example.org>, <>", NULL,
	    AUTH_NONE, NULL, 0);
	g_free(h);
	rules_set_free(&set);
}

/*
 * check_dkim_adsp without an adsp_override for the author domain: its
 * _adsp._domainkey record (dkim=all, discardable), or NXDOMAIN when the
 * domain does not exist, asked of the resolver (a zone file here).
 */
static void
test_adsp_dns(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header ADSP_N eval:check_dkim_adsp('N')\n"
	    "header ADSP_A eval:check_dkim_adsp('A')\n"
	    "header ADSP_D eval:check_dkim_adsp('D')\n"
	    "adsp_override over.example custom_high\n", &errs);
	char zone[] = "/tmp/test_rules_zone_XXXXXX", *err = NULL, *h;
	int fd = mkstemp(zone);
	const char *text =
	    "_adsp._domainkey.all.example TXT \"dkim=all\"\n"
	    "_adsp._domainkey.disc.example TXT \" dkim = discardable ; t=y\"\n"
	    "_adsp._domainkey.over.example TXT \"dkim=all\"\n"
	    "_adsp._domainkey.odd.example TXT \"dkim=sometimes\"\n"
	    "all.example A 192.0.2.1\n"
	    "disc.example A 192.0.2.1\n"
	    "known.example MX mx.known.example\n";

	(void)state;
	assert_int_equal(errs, 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	t_dns = adns_new(zone, 1000, &err);
	assert_non_null(t_dns);
	h = auth_hits(set, "a@all.example", NULL, AUTH_NONE, NULL, 0);
	assert_true(has(h, "ADSP_A"));
	assert_false(has(h, "ADSP_D") || has(h, "ADSP_N"));
	g_free(h);
	h = auth_hits(set, "a@disc.example", NULL, AUTH_NONE, NULL, 0);
	assert_true(has(h, "ADSP_D"));
	g_free(h);
	h = auth_hits(set, "a@gone.example", NULL, AUTH_NONE, NULL, 0);
	assert_true(has(h, "ADSP_N"));
	g_free(h);
	/* no record, the domain exists; a value ADSP does not know; an
	 * override before the record */
	h = auth_hits(set, "a@known.example, b@odd.example, c@over.example",
	    NULL, AUTH_NONE, NULL, 0);
	assert_false(has(h, "ADSP_A") || has(h, "ADSP_D") ||
	    has(h, "ADSP_N"));
	g_free(h);
	/* no DKIM result: nothing asked */
	h = auth_hits(set, "a@gone.example", NULL, AUTH_NONE, NULL, -1);
	assert_false(has(h, "ADSP_N"));
	g_free(h);
	adns_free(&t_dns);
	unlink(zone);
	rules_set_free(&set);
}

/*
 * A tag too large to write out forty times (PCRE2's 64 KB compiled
 * size): written once and called, the rules load and match as written
 * out, on ASCII text and on the tag's 4-byte lookalikes; a rule with a
 * back reference is left skipped.
 */
static void
test_tags_too_large(void **state)
{
	GString *t = g_string_new("replace_tag Q (?:q");
	int errs;
	struct rules_set *set;
	char *h, *text;
	struct rules_chunk body[1];
	struct rules_input in = { .body = body, .nbody = 1 };
	static const char *const bodies[][2] = {
		/* text, hits */
		{ "say qqqqqqqqqqxqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq! now\n",
		  "BIG" },
		{ "say qqqqqqqqqqxqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq now\n", "" },
		{ "say qqqqqqqqqqxqqqqqqqqqqqqqqqqqqqqqqqqqqqqq! now\n", "" },
		{ "say q\xf0\x9d\x90\xaaqqqqqqqqqxqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
		  "\xf0\x9d\x90\xaa! now\n", "BIG" },
		{ "qq-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-"
		  "q-q-q-q-q-q-q-q-q-q-qq-end\n", "BIGPOST" },
		{ "qq-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-q-"
		  "q-q-q-q-q-q-q-q-q-q-qqq-end\n", "" },
	};

	(void)state;
	for (unsigned i = 0; i < 400; i++)
		g_string_append_printf(t, "|[\\xf0][\\x9d][\\x%02x][\\x%02x]",
		    0x90 + i / 64, 0x80 + i % 64);
	g_string_append(t, ")\n"
	    "replace_post P2 {1,2}\n"
	    "body BIG /(?:^|\\s)<Q>(?:<Q>|x){40}!/i\nreplace_rules BIG\n"
	    "body BIGPOST /<post P2>^(?:<Q>-){40}end/\n"
	    "replace_rules BIGPOST\n"
	    "body BIGREF /(a)(?:<Q>){40}\\1/\nreplace_rules BIGREF\n");
	set = load(t->str, &errs);
	g_string_free(t, TRUE);
	assert_int_equal(errs, 0);
	assert_non_null(rules_find(set, "BIG"));
	assert_non_null(rules_find(set, "BIGPOST"));
	assert_non_null(strstr(diags->str, "BIGREF: skipped: regular "
	    "expression is too large"));
	for (size_t i = 0; i < NELEM(bodies); i++) {
		text = g_strdup(bodies[i][0]);
		body[0] = (struct rules_chunk){ text, strlen(text), 0 };
		h = hits_of(set, &in);
		assert_int_equal(has(h, "BIG"), strcmp(bodies[i][1], "BIG") ==
		    0);
		assert_int_equal(has(h, "BIGPOST"), strcmp(bodies[i][1],
		    "BIGPOST") == 0);
		g_free(h);
		g_free(text);
	}
	rules_set_free(&set);
}

/*
 * A rules_input of a message file of tests/golden/eval: its header fields
 * (raw and unfolded), the whole text, and each body line a chunk of body
 * and rawbody; everything in a.
 */
static void
input_of_file(const char *name, struct arena *a, struct rules_input *in)
{
	char *path = g_strdup_printf("%s/tests/golden/eval/%s", t_srcdir(),
	    name), *text = NULL;
	gsize len = 0;
	GArray *h = g_array_new(FALSE, TRUE, sizeof(struct rules_hdr));
	GArray *b = g_array_new(FALSE, TRUE, sizeof(struct rules_chunk));
	const char *p, *body;

	if (!g_file_get_contents(path, &text, &len, NULL))
		fail_msg("cannot read %s", path);
	memset(in, 0, sizeof(*in));
	in->full = arena_strndup(a, text, len);
	in->full_len = len;
	body = strstr(in->full, "\n\n");
	body = body != NULL ? body + 2 : in->full + len;
	for (p = in->full; p < body - 1;) {
		const char *colon = strchr(p, ':'), *e = p;
		struct rules_hdr hd = { 0 };
		char *v;

		while ((e = strchr(e, '\n')) != NULL && e + 1 < body &&
		    (e[1] == ' ' || e[1] == '\t'))
			e++;
		if (e == NULL || colon == NULL || colon > e)
			break;
		hd.name = arena_strndup(a, p, (size_t)(colon - p));
		hd.raw = arena_strndup(a, colon + 1, (size_t)(e - colon));
		v = g_strndup(colon + 1, (size_t)(e - colon - 1));
		for (char *q = v; *q != '\0'; q++)
			if (*q == '\n' || *q == '\t')
				*q = ' ';
		hd.value = arena_strdup(a, g_strstrip(v));
		g_free(v);
		g_array_append_val(h, hd);
		p = e + 1;
	}
	for (p = body; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p + 1) : strlen(p);
		struct rules_chunk c = { p, l, 0 };

		g_array_append_val(b, c);
		p += l;
	}
	in->nhdrs = h->len;
	in->hdrs = arena_memdup(a, h->data, h->len * sizeof(struct rules_hdr));
	in->nbody = in->nrawbody = b->len;
	in->body = in->rawbody = arena_memdup(a, b->data, b->len *
	    sizeof(struct rules_chunk));
	for (size_t i = 0; i < in->nhdrs; i++)
		if (g_ascii_strcasecmp(in->hdrs[i].name, "Return-Path") == 0) {
			char *rp = g_strdup(in->hdrs[i].value);

			g_strdelimit(rp, "<>", ' ');
			in->envelope_from = arena_strdup(a, g_strstrip(rp));
			g_free(rp);
		}
	g_array_free(h, TRUE);
	g_array_free(b, TRUE);
	g_free(text);
	g_free(path);
}

/* The rules (lines "TYPE NAME eval:...") that hit in a golden message. */
static char *
eval_hits(struct rules_set *set, const char *file)
{
	struct arena *a = arena_new("test");
	struct rules_input in;
	char *h;

	input_of_file(file, a, &in);
	h = hits_of(set, &in);
	arena_free(&a);
	return h;
}

/* The hits of a rules_input of the text full alone (no fields parsed). */
static char *
full_hits(struct rules_set *set, const char *full, size_t len, bool no_sep)
{
	struct rules_input in = { .full = full, .full_len = len,
	    .no_separator = no_sep };

	return hits_of(set, &in);
}

/*
 * Message.pm's parser flags (check_msg_parse_flags) and ok_locales on
 * hostile text: over-long fields, no separator, parts without headers,
 * an epilogue, more parts than the parser takes, nesting past its depth,
 * binary junk; each a safe answer, as SpamAssassin 4.0.1 gives it.
 */
static void
test_parse_flags(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header HL eval:check_msg_parse_flags('truncated_header')\n"
	    "header NS eval:check_msg_parse_flags("
	    "'missing_head_body_separator')\n"
	    "body MS eval:check_msg_parse_flags("
	    "'missing_mime_head_body_separator')\n"
	    "body EPI eval:check_msg_parse_flags('mime_epilogue_exists')\n"
	    "body NOH eval:check_msg_parse_flags('missing_mime_headers')\n"
	    "body LIM eval:check_msg_parse_flags('mimepart_limit_exceeded')\n"
	    "body PLE eval:check_for_mime('mimepart_limit_exceeded')\n"
	    "body ODD eval:check_msg_parse_flags('type')\n"
	    "body FAR eval:check_for_faraway_charset()\n"
	    "rawbody MFAR eval:check_for_mime('mime_faraway_charset')\n"
	    "header HFAR eval:check_for_faraway_charset_in_headers()\n"
	    "ok_locales ru\n"
	    "ok_locales en ja\n", &errs);
	static const char mp[] = "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n";
	GString *m = g_string_new(NULL);
	char *h;

	(void)state;
	assert_int_equal(errs, 0);
	assert_non_null(strstr(diags->str, "ODD: skipped: "
	    "eval:check_msg_parse_flags('type'): this parser flag is not "
	    "computed"));
	/* nothing at all, and a message of one blank line */
	h = full_hits(set, NULL, 0, false);
	assert_string_equal(h, " ");
	g_free(h);
	h = full_hits(set, "\n", 1, false);
	assert_string_equal(h, " ");
	g_free(h);
	/* pipeline.c's note of a file without the blank line */
	h = full_hits(set, "Subject: x\n\nbody\n", 17, true);
	assert_string_equal(h, " NS ");
	g_free(h);
	/* a field of 8192 bytes after the colon (its line end in), and one
	 * of 8193; a name of 257 bytes */
	g_string_append(m, "X-Long:");
	for (int i = 0; i < 8191; i++)
		g_string_append_c(m, 'x');
	g_string_append(m, "\n\nbody\n");
	h = full_hits(set, m->str, m->len, false);
	assert_false(has(h, "HL"));
	g_free(h);
	g_string_insert_c(m, 8, 'x');
	h = full_hits(set, m->str, m->len, false);
	assert_true(has(h, "HL"));
	g_free(h);
	g_string_assign(m, "");
	for (int i = 0; i < 257; i++)
		g_string_append_c(m, 'K');
	g_string_append(m, ": v\n\nbody\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " HL ");
	g_free(h);
	/* a part without headers, one whose headers run into its body, an
	 * epilogue of more than dots */
	g_string_assign(m, mp);
	g_string_append(m, "--b\nno header\n--b\nContent-Type: text/plain\n"
	    "text\n--b--\n.\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " MS NOH ");
	g_free(h);
	g_string_append(m, "tail\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " MS EPI NOH ");
	g_free(h);
	/* 1001 parts: the parser stops at the 1000th one's end (the
	 * epilogue is not looked at); check_for_mime does not see that
	 * flag */
	g_string_assign(m, mp);
	for (int i = 0; i < 1001; i++)
		g_string_append(m, "--b\nContent-Type: text/plain\n\nx\n");
	g_string_append(m, "--b--\nepilogue\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " LIM ");
	g_free(h);
	/* 1000: the closing boundary ends the last one first */
	g_string_assign(m, mp);
	for (int i = 0; i < 1000; i++)
		g_string_append(m, "--b\nContent-Type: text/plain\n\nx\n");
	g_string_append(m, "--b--\nepilogue\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " EPI ");
	g_free(h);
	/* multiparts nested 40 deep, each an epilogue, the deepest a part
	 * without headers: parsed 20 levels down only */
	g_string_assign(m, "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (int i = 1; i <= 40; i++)
		g_string_append_printf(m, "--b%d\nContent-Type: multipart/"
		    "mixed; boundary=b%d\n\n", i - 1, i);
	g_string_append(m, "--b40\nno header\n--b40--\n");
	for (int i = 39; i >= 0; i--)
		g_string_append_printf(m, "--b%d--\n", i);
	h = full_hits(set, m->str, m->len, false);
	assert_false(has(h, "NOH"));
	g_free(h);
	/* forwarded messages nested, base64 and quoted-printable, the
	 * inner multipart's part without headers */
	g_string_assign(m, mp);
	g_string_append(m, "--b\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "Q29udGVudC1UeXBlOiBtdWx0aXBhcnQvbWl4ZWQ7IGJvdW5kYXJ5PWkKCi0taQp\n"
	    "ub3BlCi0taS0tCg==\n--b--\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " MS NOH ");
	g_free(h);
	g_string_assign(m, mp);
	g_string_append(m, "--b\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Content-Type: multipart/mixed; boundary=3Di\n\n--i\n=\nnope\n"
	    "--i--\n--b--\n");
	h = full_hits(set, m->str, m->len, false);
	assert_string_equal(h, " MS NOH ");
	g_free(h);
	/* binary junk: NULs, lone CRs, boundary-like lines, long lines */
	g_string_assign(m, mp);
	for (int i = 0; i < 3000; i++) {
		char c = (char)((i * 131 + 7) % 256);

		g_string_append_c(m, c);
		if (i % 97 == 0)
			g_string_append(m, "\n--b");
		if (i % 211 == 0)
			g_string_append(m, "\n--b--\n--\n");
	}
	h = full_hits(set, m->str, m->len, false);
	g_free(h);
	/* ok_locales en ja (the last line): koi8-r is faraway, shift_jis
	 * is not */
	h = eval_hits(set, "../parse/charset-koi8r.eml");
	assert_true(has(h, "FAR"));
	assert_true(has(h, "MFAR"));
	g_free(h);
	h = eval_hits(set, "../parse/charset-sjis.eml");
	assert_false(has(h, "FAR"));
	assert_false(has(h, "MFAR"));
	g_free(h);
	h = eval_hits(set, "../parse/charset-header.eml");
	assert_true(has(h, "HFAR"));
	g_free(h);
	g_string_free(m, TRUE);
	rules_set_free(&set);
	/* the default, all: never faraway */
	set = load("body FAR eval:check_for_faraway_charset()\n"
	    "rawbody MFAR eval:check_for_mime('mime_faraway_charset')\n"
	    "header HFAR eval:check_for_faraway_charset_in_headers()\n", &errs);
	assert_int_equal(errs, 0);
	h = eval_hits(set, "../parse/charset-koi8r.eml");
	assert_string_equal(h, " ");
	g_free(h);
	h = eval_hits(set, "../parse/charset-header.eml");
	assert_string_equal(h, " ");
	g_free(h);
	rules_set_free(&set);
}

/*
 * SpamAssassin's MIMEEval, HTMLEval, FreeMail, RelayEval and the newer
 * HeaderEval tests (rules_eval_*.c) on the hand-made messages of
 * tests/golden/eval; each expected hit and miss is SpamAssassin 4.0.1's
 * own on the same file (tests/rules/eval-golden.sh checks that again
 * when SpamAssassin is installed).
 */
static void
test_eval_sa_plugins(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "rawbody __MIME_BASE64 eval:check_for_mime('mime_base64_count')\n"
	    "rawbody __MIME_QP eval:check_for_mime('mime_qp_count')\n"
	    "rawbody MIME_BASE64_TEXT eval:check_for_mime("
	    "'mime_base64_encoded_text')\n"
	    "rawbody MIME_QP_LONG_LINE eval:check_for_mime('mime_qp_long_line')\n"
	    "rawbody __MIME_HTML eval:check_for_mime_html()\n"
	    "rawbody MIME_HTML_ONLY eval:check_for_mime_html_only()\n"
	    "rawbody MIME_HTML_MOSTLY eval:check_mime_multipart_ratio("
	    "'0.00','0.01')\n"
	    "rawbody __MPART_RATIO_ANY eval:check_mime_multipart_ratio("
	    "'0.01','100')\n"
	    "body BASE64_LENGTH_79_INF eval:check_base64_length('79')\n"
	    "body BASE64_LENGTH_78_79 eval:check_base64_length('78','79')\n"
	    "body HTML_MESSAGE eval:html_test('html')\n"
	    "body HTML_EXTRA_CLOSE eval:html_range('closed_extra_ratio', "
	    "'0.09', 'inf')\n"
	    "body __HTML_LENGTH_384 eval:html_eval('length', '< 384')\n"
	    "body __HTML_LENGTH_0000_1024 eval:html_range('length', '0', "
	    "'1024')\n"
	    "body HTML_TAG_BALANCE_BODY eval:html_tag_balance('body', '!= 0')\n"
	    "body __TAG_EXISTS_HEAD eval:html_tag_exists('head')\n"
	    "body __TAG_EXISTS_SCRIPT eval:html_tag_exists('script')\n"
	    "body __TAG_EXISTS_CENTER eval:html_tag_exists('center')\n"
	    "body HTML_IMAGE_ONLY_04 eval:html_image_only('0000','0400')\n"
	    "body HTML_IMAGE_ONLY_08 eval:html_image_only('0400','0800')\n"
	    "body HTML_BACKHAIR eval:html_range('backhair_count','1',"
	    "'inf')\n"
	    "header SUBJ_ALL_CAPS eval:subject_is_all_caps()\n"
	    "header SORTED_RECIPS eval:sorted_recipients()\n"
	    "header SUSPICIOUS_RECIPS eval:similar_recipients('0.5','undef')\n"
	    "header LOCALPART_IN_SUBJECT eval:check_for_to_in_subject('user')\n"
	    "header FORGED_GMAIL_RCVD "
	    "eval:check_for_forged_gmail_received_headers()\n"
	    "header __ENV_AND_HDR_FROM_MATCH "
	    "eval:check_for_matching_env_and_hdr_from()\n"
	    "header ALL_TRUSTED eval:check_all_trusted()\n"
	    "header NO_RELAYS eval:check_no_relays()\n"
	    "header FREEMAIL_FROM eval:check_freemail_from()\n"
	    "header FREEMAIL_ENVFROM_END_DIGIT eval:check_freemail_header("
	    "'EnvelopeFrom', '\\d@')\n"
	    "header FREEMAIL_REPLYTO_END_DIGIT eval:check_freemail_header("
	    "'Reply-To', '\\d@')\n"
	    "header __freemail_replyto eval:check_freemail_replyto('replyto')\n"
	    "header __freemail_reply eval:check_freemail_replyto('reply')\n"
	    "header __FREEMAIL_WILD eval:check_freemail_header('To')\n"
	    "freemail_domains gmail.com yahoo.com hotmail.com outlook.com\n"
	    "freemail_domains *.example-mail.jp bad!domain\n", &errs);
	char *h;

	(void)state;
	assert_int_equal(errs, 0);
	/* A result vigil does not compute skips the rule, saying why. */
	assert_non_null(strstr(diags->str, "HTML_BACKHAIR: skipped: "
	    "eval:html_range('backhair_count'): this HTML result is not "
	    "computed"));
	assert_non_null(strstr(diags->str, "freemail_domains: 'bad!domain' "
	    "is not valid"));

	/* multipart/alternative: QP text with a long line and only =E9
	 * encoded (MIMEEval then counts no QP part), QP HTML with extra
	 * closing tags and an unclosed body, a base64 leaf with a line of
	 * 99 characters. */
	h = eval_hits(set, "mime-alt.eml");
	assert_true(has(h, "__MIME_BASE64"));
	assert_false(has(h, "__MIME_QP"));
	assert_true(has(h, "MIME_QP_LONG_LINE"));
	assert_false(has(h, "MIME_BASE64_TEXT"));
	assert_true(has(h, "__MIME_HTML"));
	assert_false(has(h, "MIME_HTML_ONLY"));
	assert_true(has(h, "__MPART_RATIO_ANY"));
	assert_false(has(h, "MIME_HTML_MOSTLY"));
	assert_true(has(h, "BASE64_LENGTH_79_INF"));
	assert_false(has(h, "BASE64_LENGTH_78_79"));
	assert_true(has(h, "HTML_MESSAGE"));
	assert_true(has(h, "HTML_EXTRA_CLOSE"));
	assert_true(has(h, "HTML_TAG_BALANCE_BODY"));
	assert_true(has(h, "__TAG_EXISTS_HEAD"));
	assert_true(has(h, "__HTML_LENGTH_384"));
	assert_false(has(h, "HTML_IMAGE_ONLY_04"));
	assert_true(has(h, "__ENV_AND_HDR_FROM_MATCH"));
	assert_false(has(h, "ALL_TRUSTED"));
	assert_false(has(h, "FREEMAIL_FROM"));
	g_free(h);

	/* text/html alone, base64 of us-ascii; an image and little text;
	 * a <script> inside an <iframe> is the iframe's text. */
	h = eval_hits(set, "html-only.eml");
	assert_true(has(h, "MIME_BASE64_TEXT"));
	assert_true(has(h, "MIME_HTML_ONLY"));
	assert_true(has(h, "HTML_IMAGE_ONLY_04"));
	assert_false(has(h, "HTML_IMAGE_ONLY_08"));
	assert_true(has(h, "__TAG_EXISTS_CENTER"));
	assert_false(has(h, "__TAG_EXISTS_SCRIPT"));
	assert_false(has(h, "HTML_TAG_BALANCE_BODY"));
	assert_true(has(h, "HTML_EXTRA_CLOSE"));
	assert_true(has(h, "__HTML_LENGTH_0000_1024"));
	g_free(h);

	/* Capitals, seven sorted recipients, gmail.com without Google's
	 * headers, one relay from 127.0.0.1 (trusted). */
	h = eval_hits(set, "headers.eml");
	assert_true(has(h, "SUBJ_ALL_CAPS"));
	assert_true(has(h, "SORTED_RECIPS"));
	assert_false(has(h, "SUSPICIOUS_RECIPS"));
	assert_false(has(h, "LOCALPART_IN_SUBJECT"));	/* To has seven */
	assert_true(has(h, "FORGED_GMAIL_RCVD"));
	assert_true(has(h, "ALL_TRUSTED"));
	assert_false(has(h, "NO_RELAYS"));
	assert_true(has(h, "FREEMAIL_FROM"));
	assert_true(has(h, "FREEMAIL_ENVFROM_END_DIGIT"));
	assert_false(has(h, "__MIME_BASE64"));
	assert_false(has(h, "HTML_MESSAGE"));
	g_free(h);

	/* From yahoo.com, Reply-To another freemail address ending in a
	 * digit, more freemail addresses in the body. */
	h = eval_hits(set, "freemail.eml");
	assert_true(has(h, "FREEMAIL_FROM"));
	assert_true(has(h, "FREEMAIL_REPLYTO_END_DIGIT"));
	assert_true(has(h, "__freemail_replyto"));
	assert_true(has(h, "__freemail_reply"));
	assert_false(has(h, "__FREEMAIL_WILD"));
	assert_false(has(h, "ALL_TRUSTED"));
	g_free(h);

	/* An ordinary message: none of them. */
	h = eval_hits(set, "plain.eml");
	assert_false(has(h, "FREEMAIL_FROM"));
	assert_false(has(h, "SUBJ_ALL_CAPS"));
	assert_false(has(h, "HTML_MESSAGE"));
	assert_false(has(h, "__MIME_BASE64"));
	assert_false(has(h, "MIME_QP_LONG_LINE"));
	assert_false(has(h, "ALL_TRUSTED"));
	assert_false(has(h, "SORTED_RECIPS"));
	assert_true(has(h, "__ENV_AND_HDR_FROM_MATCH"));
	g_free(h);
	rules_set_free(&set);

	/* From yahoo.com through no relay of Yahoo's, an Outlook-style
	 * Message-ID whose time token is far from the Date, a body in
	 * capitals; the gmail.com one is no Yahoo forgery, nor the plain
	 * message an Outlook one. */
	{
		struct rules_set *fs = load(
		    "header FORGED_YAHOO_RCVD "
		    "eval:check_for_forged_yahoo_received_headers()\n"
		    "header FORGED_HOTMAIL_RCVD2 "
		    "eval:check_for_no_hotmail_received_headers()\n"
		    "header __FORGED_AOL_RCVD "
		    "eval:check_for_fake_aol_relay_in_rcvd()\n"
		    "header __GATED eval:gated_through_received_hdr_remover()\n"
		    "header MSGID_OUTLOOK_INVALID "
		    "eval:check_outlook_message_id()\n"
		    "body __UPPERCASE_75_100 eval:check_for_uppercase('75', "
		    "'100')\n"
		    "body __UPPERCASE_50_75 eval:check_for_uppercase('50', "
		    "'75')\n", NULL);

		h = eval_hits(fs, "forged.eml");
		assert_true(has(h, "FORGED_YAHOO_RCVD"));
		assert_true(has(h, "MSGID_OUTLOOK_INVALID"));
		assert_true(has(h, "__UPPERCASE_75_100"));
		assert_false(has(h, "__UPPERCASE_50_75"));
		assert_false(has(h, "FORGED_HOTMAIL_RCVD2"));
		assert_false(has(h, "__FORGED_AOL_RCVD"));
		assert_false(has(h, "__GATED"));
		g_free(h);
		h = eval_hits(fs, "headers.eml");
		assert_false(has(h, "FORGED_YAHOO_RCVD"));
		assert_false(has(h, "__UPPERCASE_75_100"));	/* short */
		g_free(h);
		h = eval_hits(fs, "plain.eml");
		assert_false(has(h, "MSGID_OUTLOOK_INVALID"));
		g_free(h);
		rules_set_free(&fs);
	}

	/* Font sizes as HTML.pm's text_style follows them (basefont 2,
	 * +4: 6; big and small move the size but set no maximum), a HELO
	 * address outside the client's /24. */
	{
		struct rules_set *zs = load(
		    "body HTML_FONT_SIZE_LARGE eval:html_range('max_size', '5', "
		    "'6')\n"
		    "body HTML_FONT_SIZE_HUGE eval:html_range('max_size', '6', "
		    "'inf')\n"
		    "header RCVD_HELO_IP_MISMATCH eval:helo_ip_mismatch()\n",
		    NULL);

		h = eval_hits(zs, "font.eml");
		assert_true(has(h, "HTML_FONT_SIZE_LARGE"));
		assert_false(has(h, "HTML_FONT_SIZE_HUGE"));
		assert_true(has(h, "RCVD_HELO_IP_MISMATCH"));
		g_free(h);
		h = eval_hits(zs, "mime-alt.eml");
		assert_false(has(h, "HTML_FONT_SIZE_LARGE"));
		assert_false(has(h, "RCVD_HELO_IP_MISMATCH"));
		g_free(h);
		rules_set_free(&zs);
	}

	/* Wildcard freemail domains, the welcomelist, and no lists at all. */
	{
		struct rules_set *ws = load(
		    "header FREEMAIL_FROM eval:check_freemail_from()\n"
		    "header __FM_TO eval:check_freemail_header('To')\n"
		    "freemail_domains gmail.* yahoo.com *.example.org\n"
		    "freemail_welcomelist winner77@yahoo.com\n", NULL);
		struct rules_set *none = load(
		    "header FREEMAIL_FROM eval:check_freemail_from()\n", NULL);

		h = eval_hits(ws, "freemail.eml");
		assert_false(has(h, "FREEMAIL_FROM"));	/* welcomelisted */
		assert_false(has(h, "__FM_TO"));	/* no label before */
		g_free(h);
		h = eval_hits(ws, "headers.eml");
		assert_true(has(h, "FREEMAIL_FROM"));	/* gmail.* */
		g_free(h);
		h = eval_hits(none, "freemail.eml");
		assert_false(has(h, "FREEMAIL_FROM"));
		g_free(h);
		rules_set_free(&ws);
		rules_set_free(&none);
	}
}

/*
 * ImageInfo's and PDFInfo's functions (rules_eval_media.c) on hostile
 * parts: a message of the parts (type, name, bytes sent base64), each
 * function's rule evaluated on it; none may crash or read past a part
 * (the sanitizers watch), and truncated or corrupt data has no
 * dimensions, details nor images.
 */
struct mpart_spec {
	const char	*type, *name;
	const void	*data;
	size_t		 len;
};

static char *
media_hits(struct rules_set *set, const struct mpart_spec *parts,
    size_t n, const char *text)
{
	GString *m = g_string_new("From: a@example.com\nSubject: s\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n");
	struct rules_chunk body[2] = { { "s\n", 2, -1 }, { text, strlen(text),
	    0 } };
	struct rules_input in = { .body = body, .nbody = 2, .rawbody =
	    body + 1, .nrawbody = 1 };
	char *h;

	g_string_append_printf(m, "--B\nContent-Type: text/plain\n\n%s\n",
	    text);
	for (size_t i = 0; i < n; i++) {
		char *b = g_base64_encode(parts[i].data, parts[i].len);

		g_string_append_printf(m, "--B\nContent-Type: %s; name=\"%s\"\n"
		    "Content-Transfer-Encoding: base64\n\n%s\n", parts[i].type,
		    parts[i].name, b);
		g_free(b);
	}
	g_string_append(m, "--B--\n");
	in.full = m->str;
	in.full_len = m->len;
	h = hits_of(set, &in);
	g_string_free(m, TRUE);
	return h;
}

static void
test_eval_media_images(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "body GIF_1 eval:image_count('gif',1,1)\n"
	    "body PNG_2 eval:image_count('png','2')\n"
	    "body JPEG_ANY eval:image_count('jpeg',1)\n"
	    "body ALL_3 eval:image_count('all',3)\n"
	    "body PC_ANY eval:pixel_coverage('all',1)\n"
	    "body SIZE_GIF eval:image_size_exact('gif','2','3')\n"
	    "body RANGE_ANY eval:image_size_range('all',1,1)\n"
	    "body NAMED eval:image_named('a.gif')\n"
	    "body NAME_RE eval:image_name_regex('\\.(gif|png|jpe?g)$')\n"
	    "body RATIO eval:image_to_text_ratio('all','0','1000000')\n",
	    &errs);
	static const unsigned char gif_ok[] = "GIF89a\x03\x00\x02\x00";
	static const unsigned char gif_short[] = "GIF89a\x03\x00\x02";
	static const unsigned char png_sig[] = "\x89PNG\r\n\x1a\n";
	static const unsigned char png_ihdr_cut[] =
	    "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x01";
	static const unsigned char png_iend[] =
	    "\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\x00\x00\x00\x0dIHDR"
	    "\x00\x00\x00\x05\x00\x00\x00\x05\x08\x00\x00\x00\x00";
	static const unsigned char jpeg_sof_cut[] =
	    "\xff\xd8\xff\xc0\x00\x11\x08\x00";
	static const unsigned char jpeg_len_past[] =
	    "\xff\xd8\xff\xe1\xff\xff\x00\x00";
	static const unsigned char jpeg_len1[] = "\xff\xd8\xff\xe0\x00\x01";
	static const unsigned char jpeg_zero[] =
	    "\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x05\x01";
	const struct mpart_spec good[] = {
		{ "image/gif", "a.gif", gif_ok, sizeof(gif_ok) - 1 },
	};
	const struct mpart_spec bad[] = {
		{ "image/gif", "a.gif", gif_short, sizeof(gif_short) - 1 },
		{ "image/gif", "b.gif", "", 0 },
		{ "image/png", "c.png", png_sig, sizeof(png_sig) - 1 },
		{ "image/png", "d.png", png_ihdr_cut, sizeof(png_ihdr_cut) - 1 },
		{ "image/png", "e.png", png_iend, sizeof(png_iend) - 1 },
		{ "image/jpeg", "f.jpg", jpeg_sof_cut, sizeof(jpeg_sof_cut) - 1 },
		{ "image/jpeg", "g.jpg", jpeg_len_past,
		  sizeof(jpeg_len_past) - 1 },
		{ "image/jpg", "h.jpg", jpeg_len1, sizeof(jpeg_len1) - 1 },
		{ "image/jpeg", "i.jpg", jpeg_zero, sizeof(jpeg_zero) - 1 },
	};
	char *h;

	(void)state;
	assert_int_equal(errs, 0);
	h = media_hits(set, good, NELEM(good), "text");
	assert_true(has(h, "GIF_1") && has(h, "SIZE_GIF") && has(h,
	    "RANGE_ANY") && has(h, "NAMED") && has(h, "NAME_RE") && has(h,
	    "PC_ANY") && has(h, "RATIO"));
	assert_false(has(h, "PNG_2") || has(h, "ALL_3"));
	g_free(h);
	/* All counted, none with dimensions: no area, size, name nor
	 * ratio (the name rules see images with dimensions alone). */
	h = media_hits(set, bad, NELEM(bad), "text");
	assert_true(has(h, "PNG_2") && has(h, "JPEG_ANY") && has(h,
	    "ALL_3"));
	assert_false(has(h, "GIF_1") || has(h, "PC_ANY") || has(h,
	    "SIZE_GIF") || has(h, "RANGE_ANY") || has(h, "NAMED") ||
	    has(h, "NAME_RE") || has(h, "RATIO"));
	g_free(h);
	rules_set_free(&set);
}

static void
test_eval_media_pdf(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "body PDF_1 eval:pdf_count(1,1)\n"
	    "body PDF_IMG eval:pdf_image_count(1)\n"
	    "body PDF_PC eval:pdf_pixel_coverage(1)\n"
	    "body PDF_RATIO eval:pdf_image_to_text_ratio(0,1000000)\n"
	    "body PDF_NAMED eval:pdf_named('x.pdf')\n"
	    "body PDF_NAME_RE eval:pdf_name_regex('/^X\\.PDF$/i')\n"
	    "body PDF_ENC eval:pdf_is_encrypted()\n"
	    "body PDF_EMPTY eval:pdf_is_empty_body(100)\n"
	    "body PDF_SIZE eval:pdf_image_size_exact(20,10)\n"
	    "body PDF_RANGE eval:pdf_image_size_range(1,1)\n"
	    "body PDF_MD5 eval:pdf_match_md5('0')\n"
	    "body PDF_FUZZY eval:pdf_match_fuzzy_md5('0')\n"
	    "body PDF_PRODUCER eval:pdf_match_details('producer','/^P/')\n"
	    "body PDF_TITLE eval:pdf_match_details('title','/\\(/')\n",
	    &errs);
	static const char good[] = "%PDF-1.4\n/Encrypt 1 0 R\n"
	    "<< /Subtype /Image /Width 10/Height 20 >>\n"
	    "/Producer <FEFF0050>\n/Title (\\(\\051)\n";
	GString *hostile = g_string_new("%PDF-1.4\n/Image\n/Width 0/Height 1\n"
	    "0 0 0 0 0 0 cm\n");
	const struct mpart_spec ok[] = {
		{ "application/pdf", "x.pdf", good, sizeof(good) - 1 },
	};
	struct mpart_spec bad[3] = {
		{ "application/pdf", "x.pdf", "%PDF-1", 6 },
		{ "application/octet-stream", "y.pdf", "\0\0\0", 3 },
	};
	char *h;

	(void)state;
	assert_int_equal(errs, 0);
	h = media_hits(set, ok, NELEM(ok), "");
	assert_true(has(h, "PDF_1") && has(h, "PDF_IMG") && has(h, "PDF_PC") &&
	    has(h, "PDF_NAMED") && has(h, "PDF_NAME_RE") && has(h,
	    "PDF_ENC") && has(h, "PDF_EMPTY") && has(h, "PDF_SIZE") &&
	    has(h, "PDF_RANGE") && has(h, "PDF_PRODUCER") && has(h,
	    "PDF_TITLE") && has(h, "PDF_RATIO"));	/* the subject's 2 */
	assert_false(has(h, "PDF_MD5") || has(h, "PDF_FUZZY"));
	g_free(h);
	/* Unclosed strings and brackets over long lines, numbers past any
	 * integer, zero sizes: linear, and nothing read from them. */
	for (int i = 0; i < 20000; i++)
		g_string_append(hostile, "/Producer (/Title <((");
	g_string_append(hostile, "\n/Width 1/Height 99999999999999999999999\n"
	    "/Author (\\0");
	bad[2] = (struct mpart_spec){ "image/pdf", "z.pdf", hostile->str,
	    hostile->len };
	h = media_hits(set, bad, NELEM(bad), "a text of more than a hundred "
	    "bytes, which makes the body no empty one for pdf_is_empty_body "
	    "with its minimum of 100");
	assert_false(has(h, "PDF_1") || has(h, "PDF_IMG") || has(h,
	    "PDF_PC") || has(h, "PDF_NAMED") || has(h, "PDF_ENC") ||
	    has(h, "PDF_EMPTY") || has(h, "PDF_SIZE") || has(h,
	    "PDF_RANGE") || has(h, "PDF_PRODUCER") || has(h, "PDF_TITLE") ||
	    has(h, "PDF_RATIO"));
	g_free(h);
	g_string_free(hostile, TRUE);
	rules_set_free(&set);
}

/* The eval: tests vigil implements (rules_evalfn.c), as HeaderEval.pm
 * and BodyEval.pm compute them; metas see them. */
static void
test_eval_functions(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header MISSING_HEADERS eval:check_for_missing_to_header()\n"
	    "header HEADER_COUNT_SUBJECT eval:check_header_count_range("
	    "'Subject','2','999')\n"
	    "header HEADER_COUNT_CTYPE eval:check_header_count_range("
	    "'Content-Type','2','999')\n"
	    "header FROM_DIFFERENT eval:check_equal_from_domains()\n"
	    "body __LEN_LT_128 eval:check_body_length('128')\n"
	    "body __LEN_LT_8 eval:check_body_length('8')\n"
	    "meta SHORT_AND_TWO_SUBJECTS __LEN_LT_128 && HEADER_COUNT_SUBJECT\n"
	    "header BAD_ARGS eval:check_header_count_range('Subject')\n"
	    "header OTHER eval:check_for_foo()\n", &errs);
	static const struct rules_hdr hdrs[] = {
		{ "From", " Alice <alice@mail.example.org>\n",
		  "Alice <alice@mail.example.org>" },
		{ "Subject", " one\n", "one" },
		{ "Subject", " two\n", "two" },
		{ "Content-Type", " text/plain\n", "text/plain" },
		{ "Content-Type", " text/plain\n", "text/plain" },
	};
	static const char full[] = "From: x\nSubject: one\n\nshort body\n";
	struct rules_input in = { .hdrs = hdrs, .nhdrs = NELEM(hdrs),
	    .envelope_from = "bounce@lists.other.example.net", .full = full,
	    .full_len = sizeof(full) - 1 };
	char *h = hits_of(set, &in);

	(void)state;
	assert_int_equal(errs, 0);
	assert_true(has(h, "MISSING_HEADERS"));	/* no To */
	assert_true(has(h, "HEADER_COUNT_SUBJECT"));	/* two values */
	assert_false(has(h, "HEADER_COUNT_CTYPE"));	/* one value, twice */
	assert_true(has(h, "FROM_DIFFERENT"));	/* example.org, example.net */
	assert_true(has(h, "__LEN_LT_128"));	/* 11 bytes */
	assert_false(has(h, "__LEN_LT_8"));
	assert_true(has(h, "SHORT_AND_TWO_SUBJECTS"));
	assert_non_null(strstr(diags->str, "BAD_ARGS: skipped: "
	    "eval:check_header_count_range takes 3 to 3 arguments"));
	assert_non_null(strstr(diags->str, "OTHER: skipped: eval:check_for_foo is not implemented"));
	g_free(h);

	/* check_for_shifted_date: Date minus the closest Received date. */
	{
		struct rules_set *ds = load(
		    "header DATE_IN_FUTURE_03_06 eval:check_for_shifted_date("
		    "'3', '6')\n"
		    "header DATE_IN_PAST_03_06 eval:check_for_shifted_date("
		    "'-6', '-3')\n"
		    "header DATE_OK eval:check_for_shifted_date('-3', '3')\n"
		    "header DATE_OPEN eval:check_for_shifted_date('undef', "
		    "'undef')\n", NULL);
		static const struct rules_hdr h3[] = {
			/* EST: 15:00 UTC, 4 h after the closest Received */
			{ "Date", " Mon, 1 Jan 2024 10:00:00 EST\n",
			  "Mon, 1 Jan 2024 10:00:00 EST" },
			{ "Received", " from a by b; Mon, 1 Jan 2024 "
			  "11:00:00 +0000\n", "from a by b; Mon, 1 Jan 2024 "
			  "11:00:00 +0000" },
			{ "Received", " from c by a; 1 Jan 2024 "
			  "09:00:00 -0100\n", "from c by a; 1 Jan 2024 "
			  "09:00:00 -0100" },
		};
		struct rules_input in3 = { .hdrs = h3, .nhdrs = NELEM(h3) };

		h = hits_of(ds, &in3);
		assert_true(has(h, "DATE_IN_FUTURE_03_06"));
		assert_false(has(h, "DATE_IN_PAST_03_06"));
		assert_false(has(h, "DATE_OK"));
		assert_true(has(h, "DATE_OPEN"));
		g_free(h);
		rules_set_free(&ds);
	}

	/* Templates left unfilled, ratware Message-IDs, illegal bytes. */
	{
		struct rules_set *ts = load(
		    "header UNRESOLVED_TEMPLATE eval:check_unresolved_template()\n"
		    "header __RATWARE_NAME_ID eval:check_ratware_name_id()\n"
		    "header FROM_ILLEGAL_CHARS eval:check_illegal_chars('From',"
		    "'0.20','2')\n"
		    "header __SUBJ_ILLEGAL_CHARS eval:check_illegal_chars("
		    "'Subject','0.00','2')\n", NULL);
		static const struct rules_hdr h5[] = {
			{ "X-Mailer", " %MAILER_NAME\n", "%MAILER_NAME" },
			{ "Message-Id", " <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.bob@x.example>\n",
			  "<ABCDEFGHIJKLMNOPQRSTUVWXYZAB.bob@x.example>" },
			{ "From", " \"Bob\" <bob@x.example>\n",
			  "\"Bob\" <bob@x.example>" },
			/* one pound sign is exempt in a Subject: 1 left */
			{ "Subject", " \xa3\x01 off\n", "\xa3\x01 off" },
		};
		static const struct rules_hdr h6[] = {
			{ "Subject", " %SUBJECT\n", "%SUBJECT" },	/* at home */
			{ "From", " \xe9\xe8\xe0\xe1 <a@b.e>\n", "x" },
			/* valid UTF-8 without controls passes */
			{ "X-Note", " caf\xc3\xa9\n", "caf\xc3\xa9" },
		};
		struct rules_input i5 = { .hdrs = h5, .nhdrs = NELEM(h5) };
		struct rules_input i6 = { .hdrs = h6, .nhdrs = NELEM(h6) };

		h = hits_of(ts, &i5);
		assert_true(has(h, "UNRESOLVED_TEMPLATE"));
		assert_true(has(h, "__RATWARE_NAME_ID"));
		assert_false(has(h, "FROM_ILLEGAL_CHARS"));
		assert_false(has(h, "__SUBJ_ILLEGAL_CHARS"));
		g_free(h);
		h = hits_of(ts, &i6);
		assert_false(has(h, "UNRESOLVED_TEMPLATE"));
		assert_true(has(h, "FROM_ILLEGAL_CHARS"));	/* 4 of 14 */
		g_free(h);
		rules_set_free(&ts);
	}

	/* Same domains (last two labels), a To: no hits. */
	{
		static const struct rules_hdr h2[] = {
			{ "From", " a@x.example.org\n", "a@x.example.org" },
			{ "To", " b@example.net\n", "b@example.net" },
		};
		struct rules_input in2 = { .hdrs = h2, .nhdrs = NELEM(h2),
		    .envelope_from = "bounce@y.example.org" };

		static const struct rules_hdr h4[] = {
			{ "To", " \n", "" },	/* empty, but there */
		};
		struct rules_input in4 = { .hdrs = h4, .nhdrs = NELEM(h4) };

		h = hits_of(set, &in4);
		assert_false(has(h, "MISSING_HEADERS"));
		g_free(h);
		h = hits_of(set, &in2);
		assert_false(has(h, "MISSING_HEADERS"));
		assert_false(has(h, "FROM_DIFFERENT"));
		assert_false(has(h, "__LEN_LT_128"));	/* no message text */
		g_free(h);
	}
	rules_set_free(&set);
}

static void
test_header_semantics(void **state)
{
	struct rules_set *set = load(
	    "header EMPTY_OK X-Missing =~ /^$/\n"
	    "header NEG_MISSING X-Missing !~ /foo/\n"
	    "header UNSET X-Missing =~ /^dflt$/ [if-unset: dflt]\n"
	    "header HAS_TO exists:To\n"
	    "header HAS_NONE exists:X-Missing\n"
	    "header ADDR From:addr =~ /^alice\\@example\\.org$/\n"
	    "header NAME From:name =~ /^Alice Example$/\n"
	    "header TOCC ToCc =~ /bob.*carol/s\n"
	    "header BOTH Received =~ /one\\ntwo/\n"
	    "header RAWFOLD Subject:raw =~ /\\n\\tfolded/\n"
	    "header DECODED Subject =~ /^long folded$/\n"
	    "header ALLH ALL =~ /^Cc: carol/m\n"
	    "header ENV EnvelopeFrom =~ /^bounce\\@/\n"
	    "header MID MESSAGEID =~ /xmid/\n", NULL);
	static const struct rules_hdr hdrs[] = {
		{ "From", " \"Alice Example\" <alice@example.org>\n",
		  "\"Alice Example\" <alice@example.org>" },
		{ "To", " bob@example.net\n", "bob@example.net" },
		{ "Cc", " carol@example.net\n", "carol@example.net" },
		{ "Received", " one\n", "one" },
		{ "Received", " two\n", "two" },
		{ "Subject", " long\n\tfolded\n", "long folded" },
		{ "X-Message-Id", " <xmid@example.org>\n", "<xmid@example.org>" },
	};
	struct rules_input in = { .hdrs = hdrs, .nhdrs = NELEM(hdrs),
	    .envelope_from = "bounce@example.org" };
	char *h = hits_of(set, &in);

	for (size_t i = 0; i < rules_count(set); i++) {
		const char *n = rules_at(set, i)->name;

		if (strcmp(n, "HAS_NONE") == 0)
			assert_false(has(h, n));
		else if (!has(h, n))
			fail_msg("%s did not hit; hits:%s", n, h);
	}
	g_free(h);
	rules_set_free(&set);
}

static void
test_meta_and_tflags(void **state)
{
	struct rules_set *set = load(
	    "body __A /a/\n"
	    "body B /b/\ntflags B multiple maxhits=3\n"
	    "body C /c/\ntflags C multiple\n"
	    "meta M1 __A && B\n"
	    "meta M2 B >= 3\n"
	    "meta M3 (C * 2 + 1 == 11) && !NOPE\n"
	    "meta M4 __A || !B && C > 100\n"	/* && binds tighter */
	    "meta M5 B - 3 < 0\n"
	    "meta M6 M1 && M2\n"			/* meta on metas */
	    "body SUBJ_ONLY /Subject line/\ntflags SUBJ_ONLY nosubject\n",
	    NULL);
	struct rules_chunk body[] = {
		{ "Subject line\n", 13, -1 },
		{ "a b b b b b c c c c\n", 20, 0 },
	};
	struct rules_input in = { .body = body, .nbody = 2 };
	struct arena *a = arena_new("test");
	size_t n;
	struct rules_hit *hits = rules_eval(set, &in, a, &n);
	GString *s = g_string_new(" ");

	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(s, "%s ", hits[i].rule->name);
		if (strcmp(hits[i].rule->name, "B") == 0)
			assert_int_equal(hits[i].count, 3);	/* maxhits */
		/* Four in the text and one in "Subject". */
		if (strcmp(hits[i].rule->name, "C") == 0)
			assert_int_equal(hits[i].count, 5);
	}
	assert_true(has(s->str, "M1"));
	assert_true(has(s->str, "M2"));
	assert_true(has(s->str, "M3"));
	assert_true(has(s->str, "M4"));
	assert_false(has(s->str, "M5"));
	assert_true(has(s->str, "M6"));
	assert_false(has(s->str, "SUBJ_ONLY"));
	g_string_free(s, TRUE);
	arena_free(&a);
	rules_set_free(&set);
}

/* Metas none of whose names is set are not evaluated but given the value
 * they have with every name 0 (rules_set.c, meta_index): a negation hits,
 * a meta on such metas sees them, and a meta whose name is set later in
 * the order is still evaluated. */
static void
test_meta_zero_values(void **state)
{
	struct rules_set *set = load(
	    "body __MISS /zzz/\n"
	    "body __MISS2 /yyy/\n"
	    "body __HIT /a/\n"
	    "meta Z1 !__MISS\n"
	    "meta Z2 (__MISS + __MISS2) < 1\n"
	    "meta Z3 __MISS || __MISS2\n"
	    "meta Z4 !Z1\n"
	    "meta Z5 Z1 && Z2\n"
	    "meta Z6 !Z3 && __HIT\n"
	    "meta Z7 Z5 + Z6 == 2\n",
	    NULL);
	struct rules_chunk body[] = { { "a b\n", 4, 0 } };
	struct rules_input in = { .body = body, .nbody = 1 };
	struct arena *a = arena_new("test");
	size_t n;
	struct rules_hit *hits = rules_eval(set, &in, a, &n);
	GString *s = g_string_new(" ");

	(void)state;
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s ", hits[i].rule->name);
	assert_true(has(s->str, "Z1"));
	assert_true(has(s->str, "Z2"));
	assert_false(has(s->str, "Z3"));
	assert_false(has(s->str, "Z4"));
	assert_true(has(s->str, "Z5"));
	assert_true(has(s->str, "Z6"));
	assert_true(has(s->str, "Z7"));
	g_string_free(s, TRUE);
	arena_free(&a);
	rules_set_free(&set);
}

static void *
match_in_thread(void *rx)
{
	size_t so, eo;

	return (void *)(intptr_t)rx_match(rx, "a needle here", 13, 0, &so,
	    &eo);
}

/* A thread's match state goes on to the next thread when it exits
 * (util_spare_keep): libmilter's connection threads, often one a message,
 * do not each build their own. */
static void
test_match_state_outlives_thread(void **state)
{
	struct rules_limits l = lim;
	char err[256];
	size_t off;
	bool big;
	struct rx *rx = rx_compile("needle", "", &l, err, sizeof(err), &off,
	    &big);
	uint64_t made;
	pthread_t t;
	void *ret;

	(void)state;
	assert_non_null(rx);
	assert_int_equal(pthread_create(&t, NULL, match_in_thread, rx), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((intptr_t)ret, RX_MATCH);
	made = rx_match_states();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_create(&t, NULL, match_in_thread, rx),
		    0);
		assert_int_equal(pthread_join(t, &ret), 0);
		assert_int_equal((intptr_t)ret, RX_MATCH);
	}
	assert_int_equal(rx_match_states(), made);
	rx_free(rx);
}

/* The value of stats line NAME of set, or -1. */
static long long
stat_of(const struct rules_set *set, const char *name)
{
	char *buf = NULL, *p;
	size_t len = 0;
	long long v = -1;
	FILE *f = open_memstream(&buf, &len);
	size_t nl = strlen(name);

	assert_non_null(f);
	rules_write_stats(set, f);
	fclose(f);
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n') ?
	    strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
			v = strtoll(p + nl + 1, NULL, 10);
	free(buf);
	return v;
}

struct eval_job {
	const struct rules_set	*set;
};

static void *
eval_in_thread(void *arg)
{
	struct eval_job *j = arg;
	struct rules_chunk body[] = { { "a b\n", 4, 0 } };
	struct rules_input in = { .body = body, .nbody = 1 };
	struct arena *a = arena_new("test");
	size_t n;

	rules_eval(j->set, &in, a, &n);
	arena_free(&a);
	return NULL;
}

/*
 * Rules are timed on one message in eight whatever thread evaluates
 * them: sixteen messages, each in a thread of its own (as the daemon's
 * connection threads scan when every scan thread is busy), time two.
 */
static void
test_timing_sampled_across_threads(void **state)
{
	struct rules_set *set = load("body HIT /a/\nbody MISS /zzz/\n", NULL);
	struct eval_job j = { set };
	long long evals, timed;

	(void)state;
	eval_in_thread(&j);	/* stats are written once a message ran */
	evals = stat_of(set, "rules.evals");
	timed = stat_of(set, "rules.evals.timed");
	assert_int_equal(evals, 1);
	for (int i = 0; i < 16; i++) {
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, eval_in_thread, &j),
		    0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	assert_int_equal(stat_of(set, "rules.evals"), evals + 16);
	assert_int_equal(stat_of(set, "rules.evals.timed"), timed + 2);
	rules_set_free(&set);
}

/* rx_literals: " a|b " for the set {a, b}, "-" for none. */
static void
lits_are(const char *pattern, const char *flags, const char *want)
{
	char **l = rx_literals(pattern, flags, 3);
	GString *s = g_string_new(NULL);

	if (l == NULL)
		g_string_append(s, "-");
	for (size_t i = 0; l != NULL && l[i] != NULL; i++)
		g_string_append_printf(s, "%s%s", i ? "|" : "", l[i]);
	if (strcmp(s->str, want) != 0)
		fail_msg("literals of /%s/%s: '%s', want '%s'", pattern, flags,
		    s->str, want);
	g_string_free(s, TRUE);
	g_strfreev(l);
}

static void
test_required_literals(void **state)
{
	lits_are("hello world", "", "hello world");
	lits_are("\\bFoo\\s+barbaz\\b", "i", "barbaz");
	lits_are("(?:finance|holding|securit(?:ies|y)) (?:company|firm)", "i",
	    "finance company|finance firm|holding company|holding firm|"
	    "securities company|securities firm|security company|"
	    "security firm");
	lits_are("disburse?(?:ment)?", "", "disburs");
	lits_are("ab+cdef", "", "bcdef");	/* the last b */
	lits_are("abc(?:def)?gh", "", "abcgh|abcdefgh");
	lits_are("foo|ba", "", "-");			/* "ba" too short */
	lits_are("foo|", "", "-");			/* empty alternative */
	lits_are("(?:abcd){0,2}xy", "", "-");		/* optional group */
	lits_are("a\\.b\\.c\\.d", "", "a.b.c.d");
	lits_are("\\x41BC\\x{44}", "", "abcd");
	lits_are("[abc]def[gh]", "",
	    "adefg|adefh|bdefg|bdefh|cdefg|cdefh");
	lits_are("\\Qa.b*c\\E", "", "a.b*c");
	lits_are("some (?#comment)text", "", "some text");
	lits_are("a b c  d", "x", "abcd");		/* /x */
	lits_are("ab(?x) c d", "", "-");		/* inline x: gives up */
	lits_are("(?(1)abcd|efgh)ijk", "", "ijk");	/* conditional */
	lits_are("(?=abcd)xyz", "", "xyz");		/* lookahead */
	lits_are("(?<!abcd)wxyz", "", "wxyz");
	lits_are("(?<name>alpha)(?P<n2>betas)", "", "alphabetas");
	lits_are("abc\\1def", "", "abc");		/* back-reference */
	lits_are("ab{2}cde", "", "bbcde");
	lits_are("a{,3}bcd", "", "a{,3}bcd");		/* not a quantifier */
	lits_are("[", "", "-");				/* broken */
	/* Optional characters and literal groups multiply out; a
	 * repeated character starts the next run. */
	lits_are("e-?mai?l", "", "emal|email|e-mal|e-mail");
	lits_are("(?:ph|f)one", "", "phone|fone");
	lits_are("countr?y", "i", "county|country");
	lits_are("ad+res+e?", "", "dres");
	lits_are("(?:foo|bar)+baz", "", "foobaz|barbaz");
	lits_are("x(?:ab|)yz", "", "xabyz|xyz");
	lits_are("(?:a|b|c|d|e)(?:f|g|h|i)(?:j|k)x", "",
	    "fjx|fkx|gjx|gkx|hjx|hkx|ijx|ikx");
	lits_are("\\Qabc\\E?defg", "", "defg");	/* ? takes the c */
	lits_are("abc\\x00def", "", "abc");	/* NUL ends strings */
	lits_are("foo(?=bar)baz", "", "foo");
	/* Short classes of plain characters are alternatives. */
	lits_are("oc+up[ae]tion", "", "cupation|cupetion");
	lits_are("[sS]pa[mM]", "", "spam");
	lits_are("x[ab]?yz", "", "xyz|xayz|xbyz");
	lits_are("ab[c-e]fgh", "", "fgh");		/* a range */
	lits_are("ab[^c]fgh", "", "fgh");
	lits_are("ab[\\dx]fgh", "", "fgh");
	lits_are("ab[-.]fgh", "", "ab-fgh|ab.fgh");
	lits_are("abc[xyzwv]fg", "", "abc");		/* too many */
}

/* rx_literals_k: how many occurrences every match holds. */
static void
lits_k_are(const char *pattern, const char *want, unsigned want_k)
{
	unsigned k = 0;
	char **l = rx_literals_k(pattern, "i", 3, &k);
	char *got = l != NULL ? g_strjoinv("|", l) : g_strdup("-");

	if (strcmp(got, want) != 0 || (l != NULL && k != want_k))
		fail_msg("literals of /%s/: '%s' k=%u, want '%s' k=%u", pattern,
		    got, k, want, want_k);
	g_free(got);
	g_strfreev(l);
}

static void
test_literal_occurrences(void **state)
{
	lits_k_are("(?:name|city)", "name|city", 1);
	lits_k_are("(?:(?:name|city):\\s*){3}", "name:|city:", 3);
	lits_k_are("(?:(?:name|city)\\W+){2,5}x", "name|city", 2);
	lits_k_are("(?:(?:abcd){2}\\s){3}", "abcd", 6);
	/* The poorest alternative sets k. */
	lits_k_are("(?:(?:name){3}|(?:city){2})", "name|city", 2);
	lits_k_are("(?:name|city)+", "name|city", 1);
	lits_k_are("(?:name|city){0,3}zzzz", "zzzz", 1);
	lits_k_are("(?:(?:name|city)){1000}", "name|city", 255);
}

/* rx_heads: "str+lead|..." (no "+0"), "-" for none. */
static void
heads_are(const char *pattern, const char *flags, const char *want)
{
	unsigned *ld = NULL;
	char **h = rx_heads(pattern, flags, &ld);
	GString *s = g_string_new(NULL);

	if (h == NULL)
		g_string_append(s, "-");
	for (size_t i = 0; h != NULL && h[i] != NULL; i++) {
		g_string_append_printf(s, "%s%s", i ? "|" : "", h[i]);
		if (ld[i] != 0)
			g_string_append_printf(s, "+%u", ld[i]);
	}
	if (strcmp(s->str, want) != 0)
		fail_msg("heads of /%s/%s: '%s', want '%s'", pattern, flags,
		    s->str, want);
	g_string_free(s, TRUE);
	g_strfreev(h);
	g_free(ld);
}

static void
test_heads(void **state)
{
	heads_are("Hello world", "", "hello world");
	heads_are("foo\\d+bar", "", "foo");
	heads_are("\\bfoo|bar\\b", "", "foo|bar");
	heads_are("\\s?name", "i", "name+1");
	heads_are("a?\\s?copy", "", "copy+2");
	heads_are("st?ates?", "", "sate|state");	/* state(s): state */
	heads_are("l(?:oa|ao)n", "", "loan|laon");
	heads_are("ad+res+", "", "ad");
	heads_are("(?=abc)abd", "", "abd");
	heads_are("(?i)abc", "", "abc");
	heads_are("[sS]pam", "", "spam");
	/* Optional words that open a match add their own heads. */
	heads_are("(?:your\\s)?(?:full\\s|valid\\s){0,3}name", "i",
	    "your|full|valid|name");
	heads_are("(?:user )?email", "", "user |email");
	heads_are("\\W{0,3}abc", "", "abc+3");
	heads_are("(?:ab|cd)+x", "", "ab|cd");
	/* None: a head too short, an unbounded or too wide lead, a match
	 * that may be empty or open anywhere, or constructs that change
	 * where a search goes on. */
	heads_are("a?bc|x", "", "-");
	heads_are("x*foo", "", "-");
	heads_are(".{0,100}foo", "", "-");
	heads_are("(?:foo)?", "", "-");
	heads_are("\\w+foo", "", "-");
	heads_are("(a)bc\\1", "", "-");		/* back-reference */
	heads_are("\\Gabc", "", "-");
	heads_are("(*COMMIT)abc", "", "-");
	heads_are("(?(1)ab|cd)", "", "-");
	heads_are("(?1)abc", "", "-");
	heads_are("ab c", "x", "-");
	heads_are("(abc", "", "-");
	(void)state;
}

/* rx_ascii_pattern: the copy for ASCII subjects, "-" for none. */
static void
ascii_is(const char *pattern, const char *want)
{
	char *a = rx_ascii_pattern(pattern);

	if (strcmp(a != NULL ? a : "-", want) != 0)
		fail_msg("ASCII copy of /%s/: '%s', want '%s'", pattern,
		    a != NULL ? a : "-", want);
	g_free(a);
}

static void
test_ascii(void **state)
{
	ascii_is("(?:[cC]|[\\xc3][\\x87\\xa7]|&#99;)(?:i|\\xc3\\xac)",
	    "(?:[cC]|&#99;)(?:i)");
	ascii_is("x(?:[\\xf0][\\x9d](?:[\\x90][\\x82]|[\\x91])|y)", "x(?:y)");
	ascii_is("(?!ab(?:c|\\xe9|\\x{e9}))ab", "(?!ab(?:c))ab");
	ascii_is("(?:a|[\\x80-\\xff]b)+", "(?:a)+");
	ascii_is("(?:a|\xe9" "b)", "(?:a)");		/* a raw byte */
	ascii_is("a|[\\xc3\\xc4-\\xc5]b|c", "a|c");
	ascii_is("[[:alpha:]](?:a|\\xc3)", "[[:alpha:]](?:a)");
	/* None: nothing to remove, or a branch that may match ASCII. */
	ascii_is("abc", "-");
	ascii_is("(?:a|[\\xc3a]b)", "-");		/* a in the class */
	ascii_is("(?:a|[^\\xc3]b)", "-");
	ascii_is("(?:a|\\xc3?b)", "-");		/* may match nothing */
	ascii_is("(?:a|[\\xc3]*b)", "-");
	ascii_is("(?:a|[\\xc3]{0,2}b)", "-");
	ascii_is("(?:a|\\x41b)", "-");
	/* None: nothing would be left, or what it would leave is unsure. */
	ascii_is("[\\x80-\\xff]{8,}", "-");
	ascii_is("(?:y|z(?:[\\x90]|[\\x91]))", "-");
	ascii_is("(?:a|\\xc3(b))\\1", "-");	/* a capture goes */
	ascii_is("\\Q(\\E(?:a|\\xc3)", "-");
	ascii_is("(?|a|\\xc3)", "-");
	ascii_is("(?<n>a|\\xc3)", "-");
	ascii_is("(*UCP)(?:a|\\xc3)", "-");
	ascii_is("(?:a|\\xc3", "-");
	ascii_is("\\c)(?:a|\\xc3)", "-");
	(void)state;
}

/*
 * rx_match with the ASCII copy finds what the pattern as written finds:
 * the same result and the same match at every start offset, on ASCII
 * subjects (the copy) and others (the pattern).
 */
static void
test_ascii_match(void **state)
{
	static const char *const pats[] = {
	    /* SpamAssassin's FUZZY_CPILL, its tags cut short */
	    "(?!ciali[sz])(?:[cCk\\xc7\\xe7\\xf2@]|[\\xc3][\\x87\\xa7]|"
	    "&\\#(?:199|231);|[\\xf0][\\x9d](?:[\\x90][\\x82\\x9c]|[\\x91]"
	    "[\\x90\\xaa]))(?:[iIl|!1y?\\xcc\\xec]|[\\xc3][\\x8c\\xac]|"
	    "&\\#(?:204|236);)(?:[aA@4\\xe0]|[\\xc3][\\xa0\\xa1])"
	    "(?:[lL|!1]|[\\xc4][\\xb9\\xba])(?:[iIl|!1y?]|[\\xc3][\\x8c])"
	    "(?:[sSz5$]|[\\xc5][\\x9a\\x9b])",
	    "\\b(?:won|w\\xc3\\xb3n)(?:[`'\\x92]t|\\xe2\\x80\\x99t)?\\b",
	    "(?:e|\\xc3[\\xa8\\xa9]|&\\#233;)+",
	};
	static const char *const subj[] = {
	    "buy cialis, c1al1s, k!a|!s or &#199;ialis and cializ today: "
	    "cheap k1a1is here",
	    "we won, we won't, you w\xc3\xb3n, c\xc3\xac" "alis, "
	    "k\xc3\xac\xc3\xa0lis, \xf0\x9d\x90\x82ialis, c\xc3\x8c@l1s",
	    "eee &#233;e \xc3\xa9\xc3\xa8 the end",
	    "nothing at all here, just plain words and more plain words",
	};
	struct rules_limits l = lim;

	for (size_t p = 0; p < G_N_ELEMENTS(pats); p++) {
		char err[256], *a;
		size_t off;
		bool big;
		struct rx *fast, *plain;
		size_t nm = 0;

		/* Else this tests nothing. */
		if ((a = rx_ascii_pattern(pats[p])) == NULL)
			fail_msg("/%s/ has no ASCII copy", pats[p]);
		g_free(a);
		fast = rx_compile(pats[p], "i", &l, err, sizeof(err), &off,
		    &big);
		setenv("VIGIL_RULES_NO_ASCII", "1", 1);
		plain = rx_compile(pats[p], "i", &l, err, sizeof(err), &off,
		    &big);
		unsetenv("VIGIL_RULES_NO_ASCII");
		assert_non_null(fast);
		assert_non_null(plain);
		for (size_t i = 0; i < G_N_ELEMENTS(subj); i++) {
			size_t n = strlen(subj[i]);

			for (size_t st = 0; st <= n; st++) {
				size_t so1 = 0, eo1 = 0, so2 = 0, eo2 = 0;
				enum rx_rc x = rx_match(fast, subj[i], n, st,
				    &so1, &eo1);
				enum rx_rc y = rx_match(plain, subj[i], n, st,
				    &so2, &eo2);

				if (x != y || (x == RX_MATCH && (so1 != so2 ||
				    eo1 != eo2)))
					fail_msg("/%s/ on '%s' from %zu: %d "
					    "[%zu,%zu) with the copy, %d "
					    "[%zu,%zu) without", pats[p],
					    subj[i], st, x, so1, eo1, y, so2,
					    eo2);
				nm += x == RX_MATCH;
			}
		}
		assert_true(nm > 0);
		rx_free(fast);
		rx_free(plain);
	}
	(void)state;
}

/*
 * rx_match through heads finds what the usual search finds: the same
 * result and the same match at every start offset of every subject.
 */
static void
test_heads_match(void **state)
{
	static const char *const pats[] = {
	    "(?:(?:a?\\s?copy\\sof\\s)?(?:(?:your|din)[\\s,:]{1,5})?"
	    "(?:full\\s|valid\\s|current\\s){0,3}(?:\\s?name|city|"
	    "(?:zip|post(?:al)?)(?:\\s?code)?|ad+res+e?|age)"
	    "(?:\\sin\\sfull)?:?(?:[-=_.,:;*\\s]{1,100}|\\sor\\s)){3}",
	    "\\w(?:<![^>]*>)+\\w",
	    "[a-z\\s]{0,2}(?:visit|see)\\W{0,3}(?:our|my)\\W{0,3}site",
	    /* Reaches the match limit where a long run of "ab" starts. */
	    "[a-z\\s]{0,2}(?:ab|abab)+(?:ab|abab)+z",
	};
	static const char *const subj[] = {
	    "Please send your full name, address, city, zip code and age "
	    "to us today, or your name:  city:  age: ---- then more text",
	    "nothing to see in this line of text that is long enough to be "
	    "searched through its heads at all, not at all, no name here",
	    "a copy of your valid name - city - postal code - and so on for "
	    "a while, addddress ... age ... name .... end",
	    "mon<!-- x -->ey, fr<!---->ee<! ><!x>gift; <!-- not this --> and "
	    "x<!a>y<!b>z at the very end w<!--x-->",
	    "- visit - our - site - and ... visit our site, or visit my "
	    "site now; revisit our sites (visit our site)",
	    "abababababababababababababababababababababababababababababab"
	    "abababababababab, then ababz, abz and ababababz",
	};
	struct rules_limits l = lim;

	for (size_t p = 0; p < G_N_ELEMENTS(pats); p++) {
		char err[256];
		size_t off;
		bool big;
		struct rx *fast, *plain;
		size_t nm = 0, nl = 0;

		fast = rx_compile(pats[p], "i", &l, err, sizeof(err), &off,
		    &big);
		setenv("VIGIL_RULES_NO_HEADS", "1", 1);
		plain = rx_compile(pats[p], "i", &l, err, sizeof(err), &off,
		    &big);
		unsetenv("VIGIL_RULES_NO_HEADS");
		assert_non_null(fast);
		assert_non_null(plain);
		/* Else this tests nothing. */
		if (!rx_has_heads(fast))
			fail_msg("/%s/ has no heads", pats[p]);
		assert_false(rx_has_heads(plain));
		for (size_t i = 0; i < G_N_ELEMENTS(subj); i++) {
			size_t n = strlen(subj[i]);

			for (size_t st = 0; st <= n; st++) {
				size_t so1 = 0, eo1 = 0, so2 = 0, eo2 = 0;
				enum rx_rc a = rx_match(fast, subj[i], n, st,
				    &so1, &eo1);
				enum rx_rc b = rx_match(plain, subj[i], n, st,
				    &so2, &eo2);

				if (a != b || (a == RX_MATCH && (so1 != so2 ||
				    eo1 != eo2)))
					fail_msg("/%s/ on '%s' from %zu: %d "
					    "[%zu,%zu) with heads, %d [%zu,%zu) "
					    "without", pats[p], subj[i], st, a,
					    so1, eo1, b, so2, eo2);
				nm += a == RX_MATCH;
				nl += a == RX_LIMIT;
			}
		}
		/* Every pattern matches somewhere; the last one also
		 * reaches the limit somewhere. */
		assert_true(nm > 0);
		if (p == G_N_ELEMENTS(pats) - 1)
			assert_true(nl > 0);
		rx_free(fast);
		rx_free(plain);
	}
	(void)state;
}

/*
 * The hits of text (one chunk a line: body, rawbody, and each line a URI)
 * with the fast path and with every rule run everywhere
 * (VIGIL_RULES_PLAIN=1) must be the same; returns them.
 */
static char *
same_hits_hdrs(const char *rules, const char *text,
    const struct rules_hdr *hdrs, size_t nhdrs)
{
	char *res[2];

	for (int plain = 0; plain < 2; plain++) {
		struct rules_set *set;
		struct rules_chunk c[64];
		const char *u[64];
		size_t n = 0;
		const char *p = text;
		struct rules_input in = { 0 };
		struct arena *a = arena_new("test");
		size_t nh;
		struct rules_hit *h;
		GString *s = g_string_new(" ");

		if (plain)
			setenv("VIGIL_RULES_PLAIN", "1", 1);
		set = load(rules, NULL);
		unsetenv("VIGIL_RULES_PLAIN");
		while (*p != '\0' && n < 64) {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p + 1) : strlen(p);

			c[n] = (struct rules_chunk){ p, len, n == 0 ? -1 : 0 };
			u[n] = arena_strndup(a, p, len);
			n++;
			p += len;
		}
		in.body = c;
		in.nbody = n;
		in.rawbody = c;
		in.nrawbody = n;
		in.uris = u;
		in.nuris = n;
		in.hdrs = hdrs;
		in.nhdrs = nhdrs;
		in.envelope_from = "bounce@example.org";
		h = rules_eval(set, &in, a, &nh);
		for (size_t i = 0; i < nh; i++)
			g_string_append_printf(s, "%s:%u ", h[i].rule->name,
			    h[i].count);
		res[plain] = g_string_free(s, FALSE);
		arena_free(&a);
		rules_set_free(&set);
	}
	if (strcmp(res[0], res[1]) != 0)
		fail_msg("fast path '%s', every rule everywhere '%s'", res[0],
		    res[1]);
	g_free(res[1]);
	return res[0];
}

static char *
same_hits_both_ways(const char *rules, const char *text)
{
	return same_hits_hdrs(rules, text, NULL, 0);
}

/*
 * Header rules skip values without their literals (one literal scan over
 * every header value a rule set looks at): the hits must be those of
 * every rule run, for each form of header rule.  Literals sit in other
 * headers than the rule's, in the raw value but not the decoded one and
 * the other way round, so that a scan of the wrong text loses or adds a
 * hit.
 */
static void
test_header_prefilter(void **state)
{
	static const struct rules_hdr hdrs[] = {
		{ "From", " \"Alice Wonder\" <alice@example.org>\n",
		  "\"Alice Wonder\" <alice@example.org>" },
		{ "To", " bob@example.net\n", "bob@example.net" },
		{ "Cc", " carol@example.net\n", "carol@example.net" },
		{ "Received", " from relay.example.net (relay.example.net "
		  "[192.0.2.7])\n\tby mx.example.org\n",
		  "from relay.example.net (relay.example.net [192.0.2.7]) "
		  "by mx.example.org" },
		{ "Subject", " =?utf-8?q?Cheap_pills?=\n", "Cheap pills" },
		{ "X-Mailer", " Zmailer 2.0\n", "Zmailer 2.0" },
		{ "X-Message-Id", " <xmid@example.org>\n", "<xmid@example.org>" },
	};
	char *h = same_hits_hdrs(
	    "header SUBJ Subject =~ /cheap pills/i\n"
	    "header SUBJ_RAW Subject:raw =~ /cheap_pills/i\n"
	    "header SUBJ_RAW_NOT Subject:raw =~ /cheap pills/i\n"
	    "header SUBJ_DEC_NOT Subject =~ /utf-8/i\n"
	    "header FROM_ADDR From:addr =~ /alice\\@example/\n"
	    "header FROM_ADDR_NOT From:addr =~ /wonder/i\n"
	    "header FROM_NAME From:name =~ /alice wonder/i\n"
	    "header FROM_NAME_NOT From:name =~ /example\\.org/\n"
	    "header TOCC ToCc =~ /carol\\@/\n"
	    "header TO_NOT To =~ /carol\\@/\n"
	    "header ALLH ALL =~ /zmailer 2/i\n"
	    "header ALLRAW ALL:raw =~ /\\?q\\?cheap/i\n"
	    "header MID MESSAGEID =~ /xmid\\@/\n"
	    "header MAILER X-Mailer =~ /zmailer/i\n"
	    "header MAILER_NOT X-Mailer =~ /alice/i\n"
	    "header NEG X-Mailer !~ /outlook/i\n"
	    "header NEG2 X-Mailer !~ /zmailer/i\n"
	    "header UNSET X-Missing =~ /^nothing here$/ [if-unset: nothing here]\n"
	    "header MISSING_NOT X-Missing =~ /zmailer/i\n"
	    "header HAS exists:X-Mailer\n"
	    "header ENV EnvelopeFrom =~ /bounce\\@/\n"
	    "header RELAY X-Spam-Relays-Untrusted =~ /rdns=relay\\.example/\n"
	    "header RELAY_NOT X-Spam-Relays-Trusted =~ /rdns=relay\\.example/\n"
	    "header MULTI Received =~ /example/\n"
	    "tflags MULTI multiple\n"
	    "header TWICE ALL =~ /(?:example\\.(?:org|net).*?){3}/si\n"
	    "header TWICE_NOT Subject =~ /(?:(?:cheap|pills)\\W*){3}/i\n",
	    "", hdrs, NELEM(hdrs));
	static const char *const yes[] = {
		"SUBJ", "SUBJ_RAW", "FROM_ADDR", "FROM_NAME", "TOCC", "ALLH",
		"ALLRAW", "MID", "MAILER", "NEG", "UNSET", "HAS", "ENV",
		"MULTI:3", "TWICE", "RELAY",
	};
	static const char *const no[] = {
		"SUBJ_RAW_NOT", "SUBJ_DEC_NOT", "FROM_ADDR_NOT", "FROM_NAME_NOT",
		"TO_NOT", "MAILER_NOT", "NEG2", "MISSING_NOT", "RELAY_NOT",
		"TWICE_NOT",
	};

	for (size_t i = 0; i < NELEM(yes); i++)
		if (strstr(h, yes[i]) == NULL)
			fail_msg("%s did not hit: %s", yes[i], h);
	for (size_t i = 0; i < NELEM(no); i++) {
		char *k = g_strdup_printf(" %s:", no[i]);

		if (strstr(h, k) != NULL)
			fail_msg("%s hit: %s", no[i], h);
		g_free(k);
	}
	g_free(h);
}

/* Literals multiplied out of optional characters and groups: built
 * so that a wrong product (a string no match holds) loses a hit. */
static void
test_prefilter_products(void **state)
{
	char *h = same_hits_both_ways(
	    "body MAIL /\\be-?mai?l\\s+id\\b/i\n"
	    "body PHONE /(?:ph|f)one\\s?(?:number|no)/i\n"
	    "body ADDR /\\bad+res+e?s?\\b/i\n"
	    "body REP /(?:foo|bar)+baz/\n"
	    "body OPT /x(?:ab|)yz/\n"
	    "body QE /\\Qa.c\\E?defg/\n"
	    "body LAZY /colou?r(?:ed)?\\s+pens?/i\n"
	    "body CLASS /occ?up[ae]tion[sz]?\\b/i\n"
	    /* Literals longer than the prefilter keeps, sharing a start. */
	    "body LONG /abcdefghijklmnopqrstuvwxyz/\n"
	    "body LONG2 /(?:(?:abcdefghijkl1|abcdefghijkl2)\\s){2}/\n"
	    "body LONG3 /(?:(?:abcdefghijkl1|abcdefghijkl2)\\s){3}/\n",
	    "Subject\n"
	    "your E-MAL id here\n"
	    "fone no\n"
	    "the adddresss is\n"
	    "foofoobarbaz\n"
	    "xyz\n"
	    "a.defg\n"
	    "Colored pen\n"
	    "OCUPETIONZ\n"
	    "abcdefghijklmnop abcdefghijkl1 abcdefghijkl2 abcdefghijkl\n"
	    "abcdefghijklmnopqrstuvwxyz\n");

	assert_true(has(h, "MAIL:1"));
	assert_true(has(h, "PHONE:1"));
	assert_true(has(h, "ADDR:1"));
	assert_true(has(h, "REP:1"));
	assert_true(has(h, "OPT:1"));
	assert_true(has(h, "QE:1"));
	assert_true(has(h, "LAZY:1"));
	assert_true(has(h, "CLASS:1"));
	assert_true(has(h, "LONG:1"));
	assert_true(has(h, "LONG2:1"));
	assert_false(has(h, "LONG3:1"));
	g_free(h);
}

/* A rule needing k occurrences runs only where k of them are: built so
 * that a wrong count (too few, or occurrences in other lines, or
 * overlapping ones) would lose a hit. */
static void
test_prefilter_occurrences(void **state)
{
	char *h = same_hits_both_ways(
	    "body FORM3 /(?:(?:name|city|zip code):\\s*){3}/i\n"
	    "body FORM3M /(?:(?:name|city|zip code):\\s*){3}/i\n"
	    "tflags FORM3M multiple\n"
	    "body FORM2 /(?:(?:ab|abab)-){2}/\n"
	    "rawbody RAW3 /(?:(?:name|city)\\W){3}/i\n"
	    "uri URI2 /(?:(?:www|web)\\.){2}/\n",
	    "Subject name: city: zip code:\n"
	    "name: city:\n"			/* two: no match */
	    "zip: code: name: city:\n"		/* two in a row: none */
	    "NAME:CITY:Zip Code: name: city: zip code:\n"	/* two matches */
	    "abab-ab-\n"			/* overlapping literals */
	    "city,name,city.\n"
	    "www.web.example\n");

	assert_true(has(h, "FORM3:1"));
	assert_true(has(h, "FORM3M:3"));	/* subject and line 4 twice */
	assert_true(has(h, "FORM2:1"));
	assert_true(has(h, "RAW3:1"));
	assert_true(has(h, "URI2:1"));
	g_free(h);
	h = same_hits_both_ways(
	    "body FORM3 /(?:(?:name|city):\\s*){3}/i\n",
	    "\nname: city:\nname:\n");	/* three, not in one line */
	assert_false(has(h, "FORM3:1"));
	g_free(h);
}

/* The literal prefilter runs a rule only on the lines its literals are
 * in: the results must be those of running it on every line. */
static void
test_prefilter_same_hits(void **state)
{
	struct rules_set *set = load(
	    "body WORD /\\bmoney\\b/i\n"
	    "body MANY /transfer\\w*/i\ntflags MANY multiple\n"
	    "body ANCH /^urgent reply/\n"
	    "body NOLIT /\\d{3}-\\d{4}/\n"
	    "body SPLIT /lost fund/\n"		/* across lines: no hit */
	    "body NOSUB /subject words/i\ntflags NOSUB nosubject\n"
	    "rawbody RAW /<b>bold/i\n"
	    "uri URI /example\\.org\\/path/\n",
	    NULL);
	char text[] = "Subject words\n"
	    "the moneymaker is not it\n"
	    "Transfer transferred TRANSFERS\n"
	    "call 555-1234 now lost\n"
	    "fund urgent reply\n"
	    "urgent reply and Money\n"
	    "transfer\n";
	struct rules_chunk body[8];
	size_t nb = 0;
	char *p = text;
	struct rules_chunk raw[] = {
		{ "nothing here\n", 13, 0 },
		{ "x <B>BOLD</B>\n", 14, 1 },
	};
	const char *uris[] = { "http://example.com/", "http://example.org/path" };
	struct rules_input in = { .body = body, .rawbody = raw, .nrawbody = 2,
	    .uris = uris, .nuris = 2 };
	struct arena *a = arena_new("test");
	struct rules_hit *hits;
	size_t n;
	char *hs;

	while (*p != '\0') {
		char *nl = strchr(p, '\n');

		body[nb] = (struct rules_chunk){ p, (size_t)(nl - p + 1),
		    nb == 0 ? -1 : 0 };
		nb++;
		p = nl + 1;
	}
	in.nbody = nb;
	hits = rules_eval(set, &in, a, &n);
	hs = hits_of(set, &in);
	assert_true(has(hs, "WORD"));
	assert_true(has(hs, "MANY"));
	assert_true(has(hs, "ANCH"));
	assert_true(has(hs, "NOLIT"));
	assert_false(has(hs, "SPLIT"));
	assert_false(has(hs, "NOSUB"));
	assert_true(has(hs, "RAW"));
	assert_true(has(hs, "URI"));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(hits[i].rule->name, "MANY") == 0)
			assert_int_equal(hits[i].count, 4);
		if (strcmp(hits[i].rule->name, "WORD") == 0)
			assert_string_equal(hits[i].match, "Money");
		if (strcmp(hits[i].rule->name, "RAW") == 0)
			assert_string_equal(hits[i].where, "rawbody part 2");
	}
	g_free(hs);
	arena_free(&a);
	rules_set_free(&set);
}

/* rx_screens: the screens a pattern gets, "a|b", "-" for none. */
static void
screens_are(const char *pattern, const char *flags, size_t max,
    const char *want)
{
	char **v = rx_screens(pattern, flags, max);
	char *got = v != NULL ? g_strjoinv("|", v) : g_strdup("-");

	if (strcmp(got, want) != 0)
		fail_msg("screens of /%s/%s: '%s', want '%s'", pattern, flags,
		    got, want);
	g_free(got);
	g_strfreev(v);
}

static void
screen_is(const char *pattern, const char *flags, const char *want)
{
	screens_are(pattern, flags, 1, want);
}

/*
 * Which patterns may skip a subject their screen does not match: the
 * leading items that can match nothing are left out (or, later
 * candidates, everything before an item), and nothing else changes.
 * The patterns that must keep no screen would let a screen miss a
 * match of the whole pattern, or change what it means.
 */
static void
test_screen_classification(void **state)
{
	/* Leading items that can match the empty string. */
	screen_is("(?:\\b|\\s)[_\\W]{0,3}V[_\\W]{0,3}iagra", "i",
	    "V[_\\W]{0,3}iagra");
	screen_is("\\W?spam", "", "spam");
	screen_is("\\bfoo\\b", "", "foo\\b");
	screen_is("(?!million)m.llion", "i", "m.llion");
	screen_is("(?=abc)abcd", "", "abcd");
	screen_is("(?<=x)y{0,2}z", "", "z");
	screen_is("^\\s*\\S", "", "\\S");
	screen_is("\\A\\s*\\S", "m", "\\S");
	screen_is("(?:^|\\W)(?:ab|cd)e", "", "(?:ab|cd)e");
	screen_is("(?:ab|)cd", "", "cd");		/* empty alternative */
	screen_is("(?#note)ab", "", "ab");
	screen_is("a{0}b", "", "b");
	screen_is("a{0,3}?b", "", "b");			/* lazy */
	screen_is("a*+b", "", "b");			/* possessive */
	screen_is("(?>\\s*)ab", "", "ab");		/* atomic */
	screen_is("(?i:x)?y", "", "y");
	screen_is("(?:(?i)a|b)?c", "", "c");		/* options inside */
	screen_is("(?<n>a)?bc", "", "bc");		/* named, unused */
	screen_is("[\\]a]?b", "", "b");			/* ] in a class */
	screen_is("\\x{41}?b\\x41", "", "b\\x41");
	/* A repeated group whose items open with such items: its first
	 * round without them, then the other rounds. */
	screen_is("(?:a?bc){3}d", "", "bc(?:a?bc){2}d");
	screen_is("\\b(?:\\s*x[yz]){2,5}?$", "", "x[yz](?:\\s*x[yz]){1,4}?$");
	screen_is("(\\W?ab)+c", "", "ab(?:\\W?ab){0,}c");
	screen_is("(?:\\s?ab){1}c", "", "abc");
	screen_is("(?:\\s?ab){1,}c", "", "ab(?:\\s?ab){0,}c");
	/* Later candidates: the rest from each item that matches text. */
	screens_are("\\bab\\s?[cd]+(?=x)e", "", 8,
	    "ab\\s?[cd]+(?=x)e|b\\s?[cd]+(?=x)e|[cd]+(?=x)e|e");
	screens_are("\\bab\\s?[cd]+e", "", 2, "ab\\s?[cd]+e|b\\s?[cd]+e");
	screens_are("abc", "", 8, "bc|c");
	screens_are("(?:\\s?ab){2}+c", "", 8, "c");	/* possessive */
	screens_are("(?i:\\s?ab){2}c", "", 8, "c");	/* flags */
	screens_are("(?:\\s?a|b){2}c", "", 8, "c");	/* | inside */
	screens_are("(?:ab){2}c", "", 8, "c");
	/* Nothing to leave out, or nothing left. */
	screens_are("a", "", 8, "-");
	screens_are("[ab]+", "", 8, "-");
	screens_are("\\b", "", 8, "-");
	screens_are("\\s*", "", 8, "-");
	screens_are("(?:\\bab)?", "", 8, "-");
	screens_are("x{,3}y", "", 8, "{,3}y|,3}y|3}y|}y|y"); /* literal { */
	/* Unsafe: the screen could miss a match or mean another thing. */
	screens_are("\\bfoo|bar", "", 8, "-");		/* top-level | */
	screens_are("(a)?b\\1", "", 8, "-");		/* back reference */
	screens_are("(?<n>a)?b\\k<n>", "", 8, "-");
	screens_are("(a)?b(?P=n)", "", 8, "-");
	screens_are("(a)?(?1)b", "", 8, "-");		/* recursion */
	screens_are("\\b(?R)?b", "", 8, "-");
	screens_are("(?(1)a|b)c", "", 8, "-");		/* conditional */
	screens_are("\\b(*COMMIT)ab", "", 8, "-");	/* verb */
	screens_are("\\b(*SKIP)ab", "", 8, "-");
	screens_are("(?i)\\bab", "", 8, "-");		/* option setting */
	screens_are("\\b(?i)ab", "", 8, "-");
	screens_are("ab(?i)cd", "", 8, "-");
	screens_are("\\ba b", "x", 8, "-");		/* /x */
	screens_are("(?x)\\ba b", "", 8, "-");
	screens_are("\\b(?ix:a b)", "", 8, "-");
	screens_are("\\b\\Kab", "", 8, "-");		/* \K */
	screens_are("\\Gab", "", 8, "-");		/* \G */
	screens_are("\\b\\Qa.b\\E", "", 8, "-");	/* quoting */
	screens_are("\\b[\\Qa]\\E]b", "", 8, "-");
	screens_are("(?:\\b|\\s)(?C1)x", "", 8, "-");	/* callout */
	screens_are("\\b(?:ab", "", 8, "-");		/* unbalanced */
	screens_are("\\bab)", "", 8, "-");
	screens_are("\\b[ab", "", 8, "-");
	(void)state;
}

/*
 * Rules with screens must hit as they do without: counted matches over
 * several lines, the first match's text, a negated header rule and a
 * screen that matches where the whole pattern does not.
 */
static void
test_screen_same_hits(void **state)
{
	static const struct rules_hdr hdrs[] = {
		{ "Subject", " cheap v-i-a-g-r-a here\n",
		  "cheap v-i-a-g-r-a here" },
	};
	const char *rules =
	    "body DRUG /(?:\\b|\\s)[_\\W]{0,3}v[_\\W]{0,3}i[_\\W]{0,3}a"
	    "[_\\W]{0,3}g[_\\W]{0,3}r[_\\W]{0,3}a/i\n"
	    "tflags DRUG multiple\n"
	    "body FUZZ /(?!viagra)\\W?v[_\\W]?i[_\\W]?a[_\\W]?g/i\n"
	    "body NOPE /\\W{0,3}z[_\\W]{0,3}q[_\\W]{0,3}x/\n"
	    "rawbody RDRUG /\\W?v[_\\W]{0,3}i[_\\W]{0,3}a/i\n"
	    "header HDRUG Subject =~ /\\W?v[_\\W]?i[_\\W]?a[_\\W]?g/i\n"
	    "header NHDRUG Subject !~ /\\W?z[_\\W]?q[_\\W]?x/\n"
	    "full FDRUG /(?:\\b|\\s)[_\\W]{0,3}g[_\\W]{0,3}r[_\\W]{0,3}a/i\n";
	struct rules_set *set = load(rules, NULL);
	const struct rule *r = rules_find(set, "DRUG");
	char *h;

	/* The screen is there (else this test tests nothing). */
	assert_non_null(r);
	assert_non_null(r->screen);
	h = same_hits_hdrs(rules, "Subject words\n"
	    "plain viagra, then V.I.A.G.R.A and v_i_a_g_r_a\n"
	    "nothing here\n"
	    "once more: v i a g r a\n", hdrs, 1);
	assert_true(has(h, "DRUG:4"));
	assert_true(has(h, "FUZZ:1"));
	assert_false(has(h, "NOPE:1"));
	assert_true(has(h, "RDRUG:1"));
	assert_true(has(h, "HDRUG:1"));
	assert_true(has(h, "NHDRUG:1"));
	g_free(h);
	/* The screen matches (viagra), the pattern does not. */
	h = same_hits_hdrs(rules, "Subject\nviagra here\n", NULL, 0);
	assert_true(has(h, "DRUG:1"));
	assert_false(has(h, "FUZZ:1"));
	g_free(h);
	rules_set_free(&set);
	(void)state;
}

/* mimeheader: each MIME part's headers, the message's own first. */
static void
test_mimeheader(void **state)
{
	struct rules_set *set = load(
	    "mimeheader PDF Content-Type =~ /^application\\/pdf/i\n"
	    "mimeheader GIF_RAW Content-Type:raw =~ /^image\\/gif;\\n\\tname=/\n"
	    "mimeheader GIF_DEC Content-Type =~ /^image\\/gif; name=/\n"
	    "mimeheader TOP Content-Type =~ /^multipart\\/mixed/\n"
	    "mimeheader NOCID Content-ID !~ /\\@/\n"
	    "mimeheader UNSET X-Missing =~ /^fallback$/ [if-unset: fallback]\n"
	    "mimeheader CTE Content-Transfer-Encoding =~ /^base64$/\n"
	    "mimeheader BAD Content-Type:addr =~ /x/\n"
	    "ifplugin Mail::SpamAssassin::Plugin::MIMEHeader\n"
	    "mimeheader IN_BLOCK Content-Disposition =~ /attachment/\n"
	    "endif\n",
	    NULL);
	struct rules_hdr top[] = {
		{ "Subject", " hi\n", "hi" },
		{ "Content-Type", " multipart/mixed; boundary=x\n",
		  "multipart/mixed; boundary=x" },
	};
	struct rules_hdr p1[] = {
		{ "Content-Type", "text/plain\n", "text/plain" },
	};
	struct rules_hdr p2[] = {
		{ "Content-Type", "image/gif;\n\tname=\"a.gif\"\n",
		  "image/gif; name=\"a.gif\"" },
		{ "Content-Transfer-Encoding", "base64\n", "base64" },
		{ "Content-Disposition", "attachment\n", "attachment" },
	};
	struct rules_mpart parts[] = {
		{ top, 2 }, { p1, 1 }, { p2, 3 },
	};
	struct rules_input in = { .hdrs = top, .nhdrs = 2, .mparts = parts,
	    .nmparts = 3 };
	char *h;

	assert_non_null(strstr(diags->str, "BAD: skipped: header modifier "
	    ":addr"));
	h = hits_of(set, &in);
	assert_false(has(h, "PDF"));
	/* :raw keeps the folding; the decoded value is unfolded. */
	assert_true(has(h, "GIF_RAW"));
	assert_true(has(h, "GIF_DEC"));
	assert_true(has(h, "TOP"));
	assert_true(has(h, "NOCID"));
	assert_true(has(h, "UNSET"));
	assert_true(has(h, "CTE"));
	assert_true(has(h, "IN_BLOCK"));
	g_free(h);
	rules_set_free(&set);
}

/* X-Spam-Relays-*: Received headers parsed, trust inferred as
 * SpamAssassin does without trusted_networks. */
static void
test_relays(void **state)
{
	struct rules_set *set = load(
	    "header UNTR X-Spam-Relays-Untrusted =~ /^\\[ ip=193\\.120\\.211\\.219 "
	    "rdns=mail\\.webnote\\.net helo=webnote\\.net by=dogma\\.slashnull\\.org "
	    "ident= envfrom= intl=0 id=g6MHQi403693 auth= msa=0 \\] \\[ ip=10\\.1/\n"
	    "header TR X-Spam-Relays-Trusted =~ /^\\[ ip=127\\.0\\.0\\.1 rdns=localhost "
	    "helo=localhost by=mx\\.example\\.org ident= envfrom= intl=1 id=ABC /\n"
	    "header INT X-Spam-Relays-Internal =~ /ip=127\\.0\\.0\\.1/\n"
	    "header EXT_ONE X-Spam-Relays-External =~ /^[^\\]]+ rdns=mail\\./\n"
	    "header EXIM X-Spam-Relays-External =~ /ip=10\\.1\\.2\\.3 rdns=relay\\.example\\.net "
	    "helo=hello\\.example by=webnote\\.net ident= envfrom= intl=0 "
	    "id=1abc-00 /\n"
	    "header AUTH X-Spam-Relays-Trusted =~ /auth=ESMTPSA/\n"
	    "header ALLT ALL-TRUSTED =~ /x/\n",
	    NULL);
	struct rules_hdr hdrs[] = {
		{ "Received", " from localhost (localhost [127.0.0.1])\n"
		  "\tby mx.example.org (Postfix) with ESMTP id ABC\n"
		  "\tfor <a@example.org>; Mon, 22 Jul 2002 14:30:27 -0400\n", "" },
		{ "Received", " from dogma.slashnull.org [212.17.35.15]\n"
		  "\tby localhost with IMAP (fetchmail-5.9.0)\n"
		  "\tfor jm@localhost (single-drop); Mon, 22 Jul 2002\n", "" },
		{ "Received", " from webnote.net (mail.webnote.net "
		  "[193.120.211.219]) by\n    dogma.slashnull.org (8.11.6/8.11.6) "
		  "with ESMTP id g6MHQi403693 for\n    <jm@jmason.org>; Mon, 22 "
		  "Jul 2002 18:26:45 +0100\n", "" },
		{ "Received", " from relay.example.net ([10.1.2.3] "
		  "helo=hello.example)\n\tby webnote.net with esmtp (Exim 4.92)\n"
		  "\tid 1abc-00; Mon, 22 Jul 2002\n", "" },
	};
	struct rules_input in = { .hdrs = hdrs, .nhdrs = 4 };
	struct rules_hdr auth[] = {
		{ "Received", " from client.example.com (dsl.example.com "
		  "[203.0.113.9])\n\tby smtp.example.org (Postfix) with ESMTPSA "
		  "id XYZ; Tue, 1 Jan 2030\n", "" },
	};
	struct rules_input in2 = { .hdrs = auth, .nhdrs = 1 };
	char *h;

	assert_non_null(strstr(diags->str, "ALLT: skipped"));
	h = hits_of(set, &in);
	assert_true(has(h, "UNTR"));
	/* The fetchmail handover restarts the parse: the localhost hop
	 * above it is forgotten, as in Received.pm. */
	assert_false(has(h, "TR"));
	assert_false(has(h, "INT"));
	assert_true(has(h, "EXT_ONE"));
	/* A private IP after a public one is untrusted all the same. */
	assert_true(has(h, "EXIM"));
	assert_false(has(h, "AUTH"));
	g_free(h);
	h = hits_of(set, &in2);
	assert_true(has(h, "AUTH"));
	assert_false(has(h, "UNTR"));
	g_free(h);
	/* Without the handover: the private hop is trusted and internal. */
	hdrs[1] = hdrs[0];
	in.hdrs = hdrs + 1;
	in.nhdrs = 3;
	h = hits_of(set, &in);
	assert_true(has(h, "TR"));
	assert_true(has(h, "INT"));
	assert_true(has(h, "UNTR"));
	g_free(h);
	rules_set_free(&set);
}

static void
test_meta_loop_is_an_error(void **state)
{
	int errs;
	struct rules_set *set = load("meta A B\nmeta B A\n", &errs);

	assert_true(errs >= 1);
	assert_non_null(strstr(diags->str, "depend on each other in a loop"));
	rules_set_free(&set);
}

static void
test_perlisms(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "body ESC /\\yes/\n"		/* Perl: \y is a literal y */
	    "body SLASH m{a/b}\n"
	    "body XFLAG /a b c/x\n"
	    "body DELIM m!x\\!y!\n", &errs);
	struct rules_chunk body[] = { { "yes a/b abc x!y\n", 16, 0 } };
	struct rules_input in = { .body = body, .nbody = 1 };
	char *h;

	assert_int_equal(errs, 0);
	h = hits_of(set, &in);
	assert_true(has(h, "ESC"));
	assert_true(has(h, "SLASH"));
	assert_true(has(h, "DELIM"));
	assert_true(has(h, "XFLAG"));
	g_free(h);
	rules_set_free(&set);
}

/* A catastrophic pattern stops at the limit, counts as not hit, is
 * counted, and lint's stress test reports it. */
static void
test_limits(void **state)
{
	struct rules_set *set = rules_set_new(&lim);
	char subject[4096];
	struct rules_chunk body[1];
	struct rules_input in = { .body = body, .nbody = 1 };
	char *h;
	struct rule *r;

	memset(subject, 'a', sizeof(subject) - 2);
	subject[sizeof(subject) - 2] = '!';
	subject[sizeof(subject) - 1] = '\0';
	body[0] = (struct rules_chunk){ subject, strlen(subject), 0 };
	g_string_truncate(diags, 0);
	rules_load_string(set, "t.rules", "body SLOW /(a|aa)+$/\n"
	    "body FAST /a!/\nscore SLOW 1\nscore FAST 1\n", &diag);
	assert_int_equal(rules_compile(set, true, &diag), 0);
	assert_non_null(strstr(diags->str, "SLOW: regex reaches the match "
	    "limit on a stress input"));
	assert_null(strstr(diags->str, "FAST: regex reaches"));
	h = hits_of(set, &in);
	assert_false(has(h, "SLOW"));
	assert_true(has(h, "FAST"));
	g_free(h);
	r = rules_find(set, "SLOW");
	assert_int_equal(r->n_limit, 1);
	assert_int_equal(r->n_hits, 0);
	assert_int_equal(rules_find(set, "FAST")->n_hits, 1);
	rules_set_free(&set);
}

/* Through the pipeline: findings with scores from the rule files, the
 * score of another check's finding overridden, sub-rules not reported,
 * and a broken set making the snapshot fail (a reload keeps the old). */
static void
test_rules_check(void **state)
{
	char dir[] = "/tmp/vigil-rules-XXXXXX";
	char *conf, *path, *err = NULL;
	struct snap *s;
	struct msg *m;
	const struct verdict *v;
	struct cfg *c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	path = g_strdup_printf("%s/10_test.rules", dir);
	f = fopen(path, "w");
	fputs("header SUBJ_HELLO Subject =~ /hello/i\nscore SUBJ_HELLO 2.5\n"
	    "describe SUBJ_HELLO Says hello\n"
	    "body __SUB /body/\nmeta META_SUB __SUB && SUBJ_HELLO\n"
	    "score META_SUB 0.5\nscore MISSING_DATE 3.0\n", f);
	fclose(f);
	conf = g_strdup_printf("Checks headers, rules\nRulesDir %s\n", dir);
	s = t_snap(conf, NULL, 0);
	m = t_scan(s, "From: a@example.org\nTo: b@example.org\n"
	    "Subject: Hello there\nMessage-ID: <x@example.org>\n\nbody\n", &v);
	assert_true(msg_has_hit(m, "SUBJ_HELLO"));
	assert_true(msg_has_hit(m, "META_SUB"));
	assert_false(msg_has_hit(m, "__SUB"));
	assert_true(msg_has_hit(m, "MISSING_DATE"));
	/* 2.5 + 0.5 + MISSING_DATE from the rule file's 3.0. */
	assert_true(v->score > 5.99 && v->score < 6.01);
	msg_end(&m);
	snap_unref(&s);

	/* Break the set: the snapshot is refused with the error. */
	f = fopen(path, "a");
	fputs("body BROKEN /(unclosed/\n", f);
	fclose(f);
	{
		char *cpath = t_write_file(conf);

		c = cfg_load(cpath, NULL, 0, &err);
		assert_non_null(c);
		s = snap_build(c, &err);
		assert_null(s);
		assert_non_null(strstr(err, "10_test.rules:8:"));
		assert_non_null(strstr(err, "BROKEN"));
		free(err);
		cfg_unref(&c);
		unlink(cpath);
		free(cpath);
	}
	unlink(path);
	rmdir(dir);
	g_free(path);
	g_free(conf);
}

/* A RulesDir the config names must exist; the default may be missing
 * (fresh install): then the check runs without rules. */
static void
test_rules_dir_missing(void **state)
{
	char *path = t_write_file("Checks rules\nRulesDir /nonexistent/vigil\n");
	char *err = NULL;
	struct cfg *c = cfg_load(path, NULL, 0, &err);
	struct snap *s;

	assert_non_null(c);
	s = snap_build(c, &err);
	assert_null(s);
	assert_non_null(strstr(err, "/nonexistent/vigil"));
	assert_non_null(strstr(err, "No such file or directory"));
	free(err);
	cfg_unref(&c);
	unlink(path);
	free(path);
	if (access(DATADIR "/vigil/rules", F_OK) == 0)
		skip();		/* an installed rule set: not the case here */
	s = t_snap("Checks rules\n", NULL, 0);
	assert_non_null(s);
	snap_unref(&s);
}

/* LocalRulesDir is read after RulesDir: its rules add to the shipped
 * set and its score lines win, though its file sorts first by name. */
static void
test_local_rules_dir(void **state)
{
	char ship[] = "/tmp/vigil-ship-XXXXXX";
	char local[] = "/tmp/vigil-local-XXXXXX";
	char *p1, *p2, *conf;
	struct snap *s;
	struct msg *m;
	const struct verdict *v;
	FILE *f;

	assert_non_null(mkdtemp(ship));
	assert_non_null(mkdtemp(local));
	p1 = g_strdup_printf("%s/50_ship.rules", ship);
	p2 = g_strdup_printf("%s/10_site.rules", local);
	f = fopen(p1, "w");
	fputs("header SUBJ_HELLO Subject =~ /hello/i\nscore SUBJ_HELLO 2.5\n",
	    f);
	fclose(f);
	f = fopen(p2, "w");
	fputs("score SUBJ_HELLO 0.5\nheader SUBJ_THERE Subject =~ /there/\n"
	    "score SUBJ_THERE 1.0\n", f);
	fclose(f);
	conf = g_strdup_printf("Checks rules\nRulesDir %s\nLocalRulesDir %s\n",
	    ship, local);
	s = t_snap(conf, NULL, 0);
	assert_true(snap_score(s, "SUBJ_HELLO", -1) > 0.49 &&
	    snap_score(s, "SUBJ_HELLO", -1) < 0.51);
	m = t_scan(s, "From: a@example.org\nTo: b@example.org\n"
	    "Subject: Hello there\nMessage-ID: <x@example.org>\n\nbody\n", &v);
	assert_true(msg_has_hit(m, "SUBJ_HELLO"));
	assert_true(msg_has_hit(m, "SUBJ_THERE"));
	assert_true(v->score > 1.49 && v->score < 1.51);
	msg_end(&m);
	snap_unref(&s);
	/* The local folder emptied: the shipped score again. */
	unlink(p2);
	s = t_snap(conf, NULL, 0);
	assert_true(snap_score(s, "SUBJ_HELLO", -1) > 2.49);
	snap_unref(&s);
	unlink(p1);
	rmdir(ship);
	rmdir(local);
	g_free(p1);
	g_free(p2);
	g_free(conf);
}

/* The header index (rules_hidx_build) answers as the scan of every
 * header does: every value of a name in order, whatever its case,
 * names absent or colliding in the table, more headers than its first
 * size. */
static void
test_header_index(void **state)
{
	int errs;
	struct rules_set *set = load(
	    "header SUBJ_BOTH Subject =~ /^one\\ntwo\\ntHree$/\n"
	    "header SUBJ_LAST Subject:last =~ /^tHree$/\n"
	    "header RCVD_RAW Received:raw =~ /by b\\n by c/\n"
	    "header X_ABSENT X-Absent =~ /./\n"
	    "header X_UNSET X-Absent =~ /^unset$/ [if-unset: unset]\n"
	    "header X_EXISTS exists:x-h17\n"
	    "header X_NOT_EXISTS exists:x-h99\n"
	    "header TOCC ToCc =~ /^a\\@x\\.test\\nb\\@x\\.test$/\n"
	    "header FROM_ADDR From:addr =~ /^f\\@x\\.test$/\n"
	    "header H5 X-H5 =~ /^5$/\n", &errs);
	struct rules_hdr hdrs[40];
	char names[40][16], vals[40][8], raws[40][12];
	size_t n = 0;
	struct arena *a = arena_new("test");
	struct rules_input in = { 0 };
	char *plain, *indexed;

	(void)state;
	assert_int_equal(errs, 0);
	hdrs[n++] = (struct rules_hdr){ "Received", " by a\n", "by a", NULL };
	hdrs[n++] = (struct rules_hdr){ "SUBJECT", " one\n", "one", NULL };
	hdrs[n++] = (struct rules_hdr){ "From", " <f@x.test>\n", "<f@x.test>",
	    NULL };
	for (int i = 0; i < 30; i++) {
		snprintf(names[i], sizeof(names[i]), i % 2 ? "X-H%d" : "x-h%d",
		    i);
		snprintf(vals[i], sizeof(vals[i]), "%d", i);
		snprintf(raws[i], sizeof(raws[i]), " %d\n", i);
		hdrs[n++] = (struct rules_hdr){ names[i], raws[i], vals[i],
		    NULL };
		if (i == 10)
			hdrs[n++] = (struct rules_hdr){ "subject", " two\n",
			    "two", NULL };
	}
	hdrs[n++] = (struct rules_hdr){ "To", " a@x.test\n", "a@x.test", NULL };
	hdrs[n++] = (struct rules_hdr){ "received", " by b\n by c\n",
	    "by b by c", NULL };
	hdrs[n++] = (struct rules_hdr){ "Subject", " tHree\n", "tHree", NULL };
	hdrs[n++] = (struct rules_hdr){ "cc", " b@x.test\n", "b@x.test", NULL };
	assert_true(n <= NELEM(hdrs));
	in.hdrs = hdrs;
	in.nhdrs = n;
	plain = hits_of(set, &in);
	in.hidx = rules_hidx_build(a, hdrs, n);
	assert_non_null(in.hidx);
	indexed = hits_of(set, &in);
	assert_string_equal(indexed, plain);
	assert_string_equal(indexed, " SUBJ_BOTH SUBJ_LAST RCVD_RAW X_UNSET "
	    "X_EXISTS TOCC FROM_ADDR H5 ");
	/* No headers at all. */
	in.hidx = rules_hidx_build(a, hdrs, 0);
	in.nhdrs = 0;
	g_free(indexed);
	indexed = hits_of(set, &in);
	assert_string_equal(indexed, " X_UNSET ");
	g_free(plain);
	g_free(indexed);
	arena_free(&a);
	rules_set_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_have_positions),
		cmocka_unit_test(test_local_rules_dir),
		cmocka_unit_test(test_skips_and_warnings),
		cmocka_unit_test(test_scores),
		cmocka_unit_test(test_score_bounds),
		cmocka_unit_test(test_conditionals_and_tags),
		cmocka_unit_test(test_header_semantics),
		cmocka_unit_test(test_eval_functions),
		cmocka_unit_test(test_eval_media_images),
		cmocka_unit_test(test_eval_media_pdf),
		cmocka_unit_test(test_eval_sa_plugins),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_meta_and_tflags),
		cmocka_unit_test(test_meta_zero_values),
		cmocka_unit_test(test_match_state_outlives_thread),
		cmocka_unit_test(test_timing_sampled_across_threads),
		cmocka_unit_test(test_required_literals),
		cmocka_unit_test(test_prefilter_same_hits),
		cmocka_unit_test(test_screen_classification),
		cmocka_unit_test(test_screen_same_hits),
		cmocka_unit_test(test_literal_occurrences),
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_ascii_match),
		cmocka_unit_test(test_heads_match),
		cmocka_unit_test(test_prefilter_occurrences),
		cmocka_unit_test(test_prefilter_products),
		cmocka_unit_test(test_header_prefilter),
		cmocka_unit_test(test_mimeheader),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_meta_loop_is_an_error),
		cmocka_unit_test(test_perlisms),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rules_check),
		cmocka_unit_test(test_rules_dir_missing),
		cmocka_unit_test(test_header_index),
		cmocka_unit_test(test_auth_welcomelists),
		cmocka_unit_test(test_adsp_dns),
		cmocka_unit_test(test_tags_too_large),
	};
	int rc;

	diags = g_string_new(NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_string_free(diags, TRUE);
	return rc;
}
