/*
 * test_auth.c - SPF, DKIM, DMARC and Authentication-Results through the
 * real pipeline (scan_buffer) and the real libspf2, libopendkim and
 * libopendmarc, with DNS answered from tests/data/auth/zone.txt
 * (DNSZoneFile).  The signed messages were made with tests/tools/dkim_sign
 * from keys of opendkim-genkey (RSA) and openssl genpkey (ed25519).
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
#include <glib.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"
#include "checks/auth/auth.h"
#include "checks/auth/spfsyntax.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "t.h"

static char zone_opt[1200];

/* A snapshot on the test zone plus up to 6 more overrides. */
static struct snap *
snap_with(const char *o1, const char *o2, const char *o3)
{
	const char *ov[9];
	size_t n = 0;
	struct cfg *c;
	struct snap *s;
	char *err = NULL;

	ov[n++] = zone_opt;
	/* The checks under test: no Bayes store or AV engine is touched. */
	ov[n++] = "Checks=headers,spf,dkim,dmarc,authres";
	ov[n++] = "AuthservID=mx.example.test";
	ov[n++] = "TrustedNetworks=10.255.255.0/24";
	if (o1 != NULL)
		ov[n++] = o1;
	if (o2 != NULL)
		ov[n++] = o2;
	if (o3 != NULL)
		ov[n++] = o3;
	if ((c = cfg_load(NULL, ov, n, &err)) == NULL)
		fail_msg("cfg_load: %s", err);
	if ((s = snap_build(c, &err)) == NULL)
		fail_msg("snap_build: %s", err);
	cfg_unref(&c);
	return s;
}

static struct msg *
scan(struct snap *s, const char *file, const char *ip, const char *helo,
    const char *from, const struct verdict **v_r)
{
	char path[1200];
	struct scan_env env = { 0 };
	size_t len;
	char *data;
	struct msg *m;

	snprintf(path, sizeof(path), "%s/tests/data/auth/%s", t_srcdir(), file);
	if ((data = slurp_path(path, &len)) == NULL)
		fail_msg("%s: cannot open", path);
	env.client_addr = ip;
	env.helo = helo;
	env.mail_from = from;
	m = scan_buffer(s, &env, (const unsigned char *)data, len, "t", v_r);
	free(data);
	return m;
}

static const char *
ar_header(struct msg *m)
{
	for (size_t i = 0; i < msg_header_out_count(m); i++) {
		const char *n, *v;

		msg_header_out(m, i, &n, &v);
		if (strcmp(n, "Authentication-Results") == 0)
			return v;
	}
	return NULL;
}

/* ---- SPF ------------------------------------------------------------ */

static void
test_spf_results(void **unused)
{
	static const struct {
		const char	*ip, *helo, *from, *hit;
		enum auth_res	 res;
	} cases[] = {
		{ "192.0.2.5", "mx.example.org", "a@example.org", "SPF_PASS",
		  AUTH_PASS },
		{ "198.51.100.1", "mx.example.org", "a@example.org", "SPF_FAIL",
		  AUTH_FAIL },
		/* IPv4-mapped IPv6 is checked as IPv4 */
		{ "::ffff:192.0.2.7", "mx.example.org", "a@example.org",
		  "SPF_PASS", AUTH_PASS },
		{ "::ffff:198.51.100.1", "mx.example.org", "a@example.org",
		  "SPF_FAIL", AUTH_FAIL },
		{ "2001:db8::1", "mx.example.org", "a@example.org", "SPF_PASS",
		  AUTH_PASS },
		{ "192.0.2.5", "h.example", "a@softfail.example",
		  "SPF_SOFTFAIL", AUTH_SOFTFAIL },
		{ "192.0.2.5", "h.example", "a@neutral.example", "SPF_NEUTRAL",
		  AUTH_NEUTRAL },
		{ "192.0.2.5", "h.example", "a@nospf.example", "SPF_NONE",
		  AUTH_NONE },
		{ "192.0.2.5", "h.example", "a@nxdomain.example", "SPF_NONE",
		  AUTH_NONE },
		/* "a:foo" has no top label: libspf2 accepts it, RFC 7208
		 * makes it a permerror */
		{ "192.0.2.1", "h.example", "a@broken.example",
		  "SPF_PERMERROR", AUTH_PERMERROR },
		/* CIDR length 0, which libspf2 refuses: a/0 matches any
		 * IPv4 client when the name has an address */
		{ "198.51.100.1", "h.example", "a@cidr0.example", "SPF_PASS",
		  AUTH_PASS },
		{ "198.51.100.1", "h.example", "a@ip0.example", "SPF_PASS",
		  AUTH_PASS },
		/* mx//0 is about IPv6 only: an IPv4 client does not match */
		{ "198.51.100.1", "h.example", "a@mx0.example", "SPF_FAIL",
		  AUTH_FAIL },
		/* a NUL inside the record must not cut it into a valid one */
		{ "192.0.2.5", "h.example", "a@nul.example", "SPF_PERMERROR",
		  AUTH_PERMERROR },
		/* the null sender: the HELO identity */
		{ "192.0.2.10", "mx.example.org", "", "SPF_HELO_PASS",
		  AUTH_PASS },
		{ "198.51.100.1", "mx.example.org", "", "SPF_HELO_FAIL",
		  AUTH_FAIL },
	};
	struct snap *s = snap_with(NULL, NULL, NULL);

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct verdict *v;
		struct msg *m = scan(s, "plain.eml", cases[i].ip, cases[i].helo,
		    cases[i].from, &v);
		const struct auth_spf *r = auth_spf(m);

		if (!msg_has_hit(m, cases[i].hit))
			fail_msg("case %zu (%s %s): no %s", i, cases[i].ip,
			    cases[i].from, cases[i].hit);
		assert_non_null(r);
		assert_int_equal(r->result, cases[i].res);
		msg_end(&m);
	}
	snap_unref(&s);
}

static void
test_spf_reject_fail(void **unused)
{
	struct snap *s = snap_with("SPFRejectFail=yes", NULL, NULL);
	const struct verdict *v;
	const char *rcode, *xcode, *text, *reason;
	struct msg *m;

	(void)unused;
	m = scan(s, "plain.eml", "198.51.100.1", "h.example", "a@example.org",
	    &v);
	assert_int_equal(msg_forced_action(m, &rcode, &xcode, &text, &reason),
	    ACTION_REJECT);
	assert_string_equal(rcode, "550");
	assert_string_equal(xcode, "5.7.23");
	assert_string_equal(reason, "spf");
	assert_non_null(strstr(text, "198.51.100.1"));
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);

	/* a pass is not touched */
	m = scan(s, "plain.eml", "192.0.2.5", "h.example", "a@example.org", &v);
	assert_int_equal(msg_forced_action(m, NULL, NULL, NULL, NULL), -1);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_spf_trusted_skipped(void **unused)
{
	struct snap *s = snap_with("TrustedNetworks=198.51.100.0/24", NULL, NULL);
	const struct verdict *v;
	struct msg *m;

	(void)unused;
	m = scan(s, "plain.eml", "198.51.100.1", "h.example", "a@example.org",
	    &v);
	assert_null(auth_spf(m));
	assert_false(msg_has_hit(m, "SPF_FAIL"));
	msg_end(&m);
	snap_unref(&s);
}

static void
test_spf_helo_identity(void **unused)
{
	struct snap *s = snap_with("SPFCheckHelo=yes", NULL, NULL);
	const struct verdict *v;
	struct msg *m;
	const char *ar;

	(void)unused;
	m = scan(s, "plain.eml", "198.51.100.1", "mx.example.org",
	    "a@softfail.example", &v);
	assert_true(msg_has_hit(m, "SPF_SOFTFAIL"));
	assert_true(msg_has_hit(m, "SPF_HELO_FAIL"));
	assert_non_null(ar = ar_header(m));
	assert_non_null(strstr(ar, "spf=softfail smtp.mailfrom=softfail.example"));
	assert_non_null(strstr(ar, "spf=fail smtp.helo=mx.example.org"));
	msg_end(&m);
	snap_unref(&s);
}

/* A lookup that times out is temperror and the OnError policy decides. */
static void
test_spf_temperror_policy(void **unused)
{
	const struct verdict *v;
	struct snap *s = snap_with(NULL, NULL, NULL);
	struct msg *m;

	(void)unused;
	m = scan(s, "plain.eml", "192.0.2.5", "h.example", "a@slow.example", &v);
	assert_true(msg_has_hit(m, "SPF_TEMPERROR"));
	assert_int_equal(v->action, ACTION_TEMPFAIL);
	msg_end(&m);
	snap_unref(&s);

	s = snap_with("OnError=accept", NULL, NULL);
	m = scan(s, "plain.eml", "192.0.2.5", "h.example", "a@slow.example", &v);
	assert_true(msg_has_hit(m, "SPF_TEMPERROR"));
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_non_null(strstr(ar_header(m), "spf=temperror"));
	msg_end(&m);
	snap_unref(&s);
}

static void
test_spf_syntax(void **unused)
{
	static const struct {
		const char	*rec;
		bool		 ok;
	} cases[] = {
		{ "v=spf1 -all", true },
		{ "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", true },
		{ "v=spf1 a mx/24 a:mail.example.org/24//64 -all", true },
		{ "v=spf1 include:_spf.example.org exists:%{i}.%{d}.x.example "
		  "-all", true },
		{ "v=spf1 redirect=_spf.example.org", true },
		{ "v=spf1 -all exp=exp.%{d2r}.example", true },
		{ "v=spf1 foo=bar -all", true },
		{ "v=spf1 a:foo -all", false },		/* no top label */
		{ "v=spf1 a:1.2.3.4 -all", false },	/* numeric top label */
		{ "v=spf1 a: -all", false },
		{ "v=spf1 ip4:1.2.3.4/032 -all", false },
		{ "v=spf1 ip4:1.2.3.4/33 -all", false },
		{ "v=spf1 ip6:::1/129 -all", false },
		{ "v=spf1 exists:foo.example/24 -all", false },
		{ "v=spf1 -all exp=a.example exp=b.example", false },
		{ "v=spf1 redirect=a.example redirect=b.example", false },
		{ "v=spf1 a:%{c}.example -all", false },	/* c: exp only */
		{ "v=spf1 a:%{x}.example -all", false },
		{ "v=spf1 all:foo", false },
		{ "v=spf1 -all \x01", false },
	};

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *why = spfsyntax_check_record(cases[i].rec);

		if ((why == NULL) != cases[i].ok)
			fail_msg("\"%s\": want %s, got %s", cases[i].rec,
			    cases[i].ok ? "valid" : "invalid",
			    why != NULL ? why : "valid");
	}
	{
		static const struct {
			const char	*in, *out;
		} rw[] = {
			{ "v=spf1 ip4:192.0.2.1/0 -all", "v=spf1 ip4:0.0.0.0/1 "
			  "ip4:128.0.0.0/1 -all" },
			{ "v=spf1 -ip6:2001:db8::/0", "v=spf1 -ip6:::/1 "
			  "-ip6:8000::/1" },
			{ "v=spf1 a/0 -all", "v=spf1 a:%{d}.a4."
			  SPFSYNTAX_CIDR0_SUFFIX "/1 -all" },
			{ "v=spf1 ~mx:example.org./24//0", "v=spf1 "
			  "~a:example.org.mx6." SPFSYNTAX_CIDR0_SUFFIX
			  "/24//1" },
			{ "v=spf1 a/24 ip4:192.0.2.0/24 -all", NULL },
			{ "v=spf1 a -all exp=e.example", NULL },
			/* unknown modifiers go, redirect= moves last */
			{ "v=spf1 moo.cow-far_out=man:dog/cat ip4:192.0.2.1 "
			  "-all", "v=spf1 ip4:192.0.2.1 -all" },
			{ "v=spf1 redirect=r.example ~all", "v=spf1 ~all "
			  "redirect=r.example" },
			{ "v=spf1 a:foo/0", NULL },	/* invalid: untouched */
		};

		for (size_t i = 0; i < NELEM(rw); i++) {
			char *got = spfsyntax_rewrite_cidr0(rw[i].in);

			if (rw[i].out == NULL)
				assert_null(got);
			else
				assert_string_equal(got, rw[i].out);
			free(got);
		}
	}
	assert_true(spfsyntax_is_explanation("See http://%{d}/why.html"));
	assert_false(spfsyntax_is_explanation("The%{x}-files."));
	assert_false(spfsyntax_is_explanation("caf\xc3\xa9"));
}

/* ---- DKIM ----------------------------------------------------------- */

static void
test_dkim_messages(void **unused)
{
	static const struct {
		const char	*file;
		enum auth_res	 res;	/* of the first signature */
		size_t		 nsigs;
		const char	*hit, *nohit;
	} cases[] = {
		{ "signed.eml", AUTH_PASS, 1, "DKIM_VALID_AU", "DKIM_INVALID" },
		{ "signed-simple.eml", AUTH_PASS, 1, "DKIM_VALID_AU", NULL },
		/* simple/simple over "To:bob", "Date:  Fri", "Message-ID:\t<":
		 * every byte after the colon counts */
		{ "signed-nospace.eml", AUTH_PASS, 1, "DKIM_VALID_AU", NULL },
		{ "signed-ed25519.eml", AUTH_PASS, 1, "DKIM_VALID_AU", NULL },
		{ "signed-altered.eml", AUTH_FAIL, 1, "DKIM_INVALID",
		  "DKIM_VALID" },
		/* 512 bits: below DKIMMinKeyBits */
		{ "signed-512.eml", AUTH_POLICY, 1, "DKIM_INVALID",
		  "DKIM_VALID" },
		/* a third party's signature: valid, not the author's */
		{ "signed-thirdparty.eml", AUTH_PASS, 1, "DKIM_VALID",
		  "DKIM_VALID_AU" },
		/* a malformed signature does not hide the good one */
		{ "signed-plus-broken.eml", AUTH_PERMERROR, 2, "DKIM_VALID_AU",
		  NULL },
		{ "plain.eml", AUTH_NONE, 0, "DKIM_NONE", "DKIM_VALID" },
	};
	struct snap *s = snap_with(NULL, NULL, NULL);

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct verdict *v;
		struct msg *m = scan(s, cases[i].file, "192.0.2.5", "h.example",
		    "a@example.org", &v);
		const struct auth_dkim *d = auth_dkim(m);

		assert_non_null(d);
		if (d->nsigs != cases[i].nsigs)
			fail_msg("%s: %zu signatures, want %zu", cases[i].file,
			    d->nsigs, cases[i].nsigs);
		if (d->nsigs > 0 && d->sigs[0].result != cases[i].res)
			fail_msg("%s: %s, want %s", cases[i].file,
			    auth_res_name(d->sigs[0].result),
			    auth_res_name(cases[i].res));
		if (!msg_has_hit(m, cases[i].hit))
			fail_msg("%s: no %s", cases[i].file, cases[i].hit);
		if (cases[i].nohit != NULL && msg_has_hit(m, cases[i].nohit))
			fail_msg("%s: unexpected %s", cases[i].file,
			    cases[i].nohit);
		msg_end(&m);
	}
	snap_unref(&s);

	/* the key-size floor is a setting */
	{
		const struct verdict *v;
		struct msg *m;

		s = snap_with("DKIMMinKeyBits=512", NULL, NULL);
		m = scan(s, "signed-512.eml", "192.0.2.5", "h.example",
		    "a@example.org", &v);
		assert_int_equal(auth_dkim(m)->sigs[0].result, AUTH_PASS);
		msg_end(&m);
		snap_unref(&s);
	}
}

static void
test_dkim_ed25519_details(void **unused)
{
	struct snap *s = snap_with(NULL, NULL, NULL);
	const struct verdict *v;
	struct msg *m;
	const struct auth_dkim_sig *sig;

	(void)unused;
	m = scan(s, "signed-ed25519.eml", "192.0.2.5", "h.example",
	    "a@example.org", &v);
	sig = &auth_dkim(m)->sigs[0];
	assert_string_equal(sig->algorithm, "ed25519-sha256");
	assert_string_equal(sig->selector, "ed");
	assert_int_equal(strlen(sig->b), 8);
	msg_end(&m);
	snap_unref(&s);
}

/*
 * issue 15.3: thousands of DKIM-Signature fields were all verified, and
 * the Authentication-Results value was re-printed into the arena once
 * per signature (quadratic).  Junk signatures come first here; the
 * author's own still gets verified.
 */
static void
test_dkim_many_signatures(void **unused)
{
	enum { NJUNK = 600 };
	struct snap *s = snap_with(NULL, NULL, NULL);
	struct scan_env env = { .client_addr = "192.0.2.5",
	    .helo = "h.example", .mail_from = "a@example.org" };
	const struct verdict *v;
	const struct auth_dkim *d;
	const struct hit *h = NULL;
	char path[1200];
	size_t len;
	char *orig;
	GString *g = g_string_new(NULL);
	struct msg *m;

	(void)unused;
	snprintf(path, sizeof(path), "%s/tests/data/auth/signed.eml",
	    t_srcdir());
	if ((orig = slurp_path(path, &len)) == NULL)
		fail_msg("%s: cannot open", path);
	for (int i = 0; i < NJUNK; i++)
		g_string_append_printf(g, "DKIM-Signature: v=1; a=rsa-sha256; "
		    "c=relaxed/relaxed; d=junk%d.example; s=sel; h=From; "
		    "bh=7yXXPkHxVPNKzJe2izvyvnJwXMa7e6M+Dpsz9OMvTqQ=; "
		    "b=QWa0YmiWbzkQrFNLUx6Dn4k0DnX2EpFlHAnalsGzoWW+UxDOVrziMV70"
		    "uwZXXiL7Em5WFkIQtJmRFUuM54s8PqVNwyWWXLf/Ryi+a57xfzmXJr7t"
		    "zRZyDivt8O6HVZNgM4K==\n", i);
	g_string_append_len(g, orig, (gssize)len);
	m = scan_buffer(s, &env, (const unsigned char *)g->str, g->len, "t",
	    &v);
	d = auth_dkim(m);
	assert_non_null(d);
	if (d->nsigs != 5)
		fail_msg("%zu signatures verified, want 5", d->nsigs);
	assert_int_equal(d->nunverified, NJUNK + 1 - 5);
	assert_true(msg_has_hit(m, "DKIM_VALID_AU"));
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, "DKIM_SIGS_UNVERIFIED") == 0)
			h = msg_hit(m, i);
	assert_non_null(h);
	assert_non_null(strstr(h->detail, "596 more signatures"));
	assert_non_null(strstr(ar_header(m), "dkim=pass header.d=example.org"));
	/* Linear: the arena holds the message's copies, not N^2 bytes. */
	if (arena_used(msg_arena(m)) > 40 * g->len)
		fail_msg("arena %zu bytes for a %zu-byte message",
		    arena_used(msg_arena(m)), g->len);
	msg_end(&m);
	snap_unref(&s);

	/* The bound is a setting. */
	s = snap_with("DKIMMaxSignatures=1", NULL, NULL);
	m = scan_buffer(s, &env, (const unsigned char *)g->str, g->len, "t",
	    &v);
	assert_int_equal(auth_dkim(m)->nsigs, 1);
	assert_string_equal(auth_dkim(m)->sigs[0].domain, "example.org");
	assert_int_equal(auth_dkim(m)->sigs[0].result, AUTH_PASS);
	msg_end(&m);
	snap_unref(&s);
	g_string_free(g, TRUE);
	free(orig);
}

/* ---- DMARC ---------------------------------------------------------- */

static void
test_dmarc_policies(void **unused)
{
	static const struct {
		const char	*file, *ip, *from, *enforce, *hit;
		int		 action;	/* forced, or -1 */
	} cases[] = {
		/* aligned SPF pass */
		{ "plain.eml", "192.0.2.5", "a@example.org", "reject",
		  "DMARC_PASS", -1 },
		/* aligned DKIM pass, SPF fail */
		{ "signed.eml", "198.51.100.1", "a@example.org", "reject",
		  "DMARC_PASS", -1 },
		/* nothing aligned: p=reject enforced */
		{ "plain.eml", "198.51.100.1", "a@example.org", "reject",
		  "DMARC_FAIL_REJECT", ACTION_REJECT },
		/* enforcement capped at quarantine */
		{ "plain.eml", "198.51.100.1", "a@example.org", "quarantine",
		  "DMARC_FAIL_REJECT", ACTION_QUARANTINE },
		/* reported only */
		{ "plain.eml", "198.51.100.1", "a@example.org", "none",
		  "DMARC_FAIL_REJECT", -1 },
		/* a third party's DKIM does not align */
		{ "signed-thirdparty.eml", "198.51.100.1", "a@example.org",
		  "reject", "DMARC_FAIL_REJECT", ACTION_REJECT },
		/* strict alignment: d=sub.strict.example and SPF for
		 * sub.strict.example both pass, neither aligns with
		 * strict.example (libopendmarc 1.4.2 says pass) */
		{ "strict-sub.eml", "192.0.2.5", "a@sub.strict.example",
		  "reject", "DMARC_FAIL_REJECT", ACTION_REJECT },
	};

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char opt[64];
		struct snap *s;
		const struct verdict *v;
		struct msg *m;
		const char *rcode, *xcode, *text, *reason;
		int act;

		snprintf(opt, sizeof(opt), "DMARCEnforce=%s", cases[i].enforce);
		s = snap_with(opt, NULL, NULL);
		m = scan(s, cases[i].file, cases[i].ip, "h.example",
		    cases[i].from, &v);
		if (!msg_has_hit(m, cases[i].hit))
			fail_msg("case %zu: no %s", i, cases[i].hit);
		act = msg_forced_action(m, &rcode, &xcode, &text, &reason);
		if (act != cases[i].action)
			fail_msg("case %zu: forced %d, want %d", i, act,
			    cases[i].action);
		if (act == ACTION_REJECT) {
			assert_string_equal(rcode, "550");
			assert_string_equal(xcode, "5.7.1");
			assert_string_equal(reason, "dmarc");
			assert_int_equal(v->action, ACTION_REJECT);
		}
		msg_end(&m);
		snap_unref(&s);
	}
}

/*
 * Several authors (RFC 7489 6.6.1): one From with addresses in two
 * domains, or two From fields, used to give DMARC_NONE and no policy at
 * all, even under DMARCEnforce reject.  Now such mail is refused
 * (DMARCRejectMultiFrom), or every domain is evaluated and the strictest
 * result applies; a From without a domain is a finding of its own.
 */
static void
test_dmarc_multi_from(void **unused)
{
	static const char body[] = "To: bob@example.net\nSubject: s\n"
	    "Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
	    "Message-ID: <multi@example.org>\n\nhello\n";
	static const struct {
		const char	*from, *o1, *o2, *hit, *res_from;
		int		 action;	/* forced, or -1 */
		enum auth_res	 res;
	} cases[] = {
		/* 0-1: two domains in one field, or in two fields: refused
		 * whatever DMARCEnforce says */
		{ "From: Security <security@example.org>, x@attacker.test\n",
		  NULL, NULL, "DMARC_MULTI_FROM", "example.org",
		  ACTION_REJECT, AUTH_PERMERROR },
		{ "From: security@example.org\nFrom: x@attacker.test\n",
		  NULL, NULL, "DMARC_MULTI_FROM", "example.org",
		  ACTION_REJECT, AUTH_PERMERROR },
		/* 2-3: evaluated instead: the strictest, in either order */
		{ "From: Security <security@example.org>, x@attacker.test\n",
		  "DMARCRejectMultiFrom=no", "DMARCEnforce=reject",
		  "DMARC_FAIL_REJECT", "example.org", ACTION_REJECT, AUTH_FAIL },
		{ "From: x@attacker.test\nFrom: security@example.org\n",
		  "DMARCRejectMultiFrom=no", "DMARCEnforce=reject",
		  "DMARC_FAIL_REJECT", "example.org", ACTION_REJECT, AUTH_FAIL },
		/* 4: two addresses of one domain: one author domain */
		{ "From: a@example.org, B <b@EXAMPLE.org>\n", NULL,
		  "DMARCEnforce=reject", "DMARC_FAIL_REJECT", "example.org",
		  ACTION_REJECT, AUTH_FAIL },
		/* 5-6: no domain to evaluate */
		{ "From: nobody\n", NULL, "DMARCEnforce=reject",
		  "DMARC_FROM_UNPARSEABLE", NULL, -1, AUTH_PERMERROR },
		{ "From: undisclosed:;\n", NULL, "DMARCEnforce=reject",
		  "DMARC_FROM_UNPARSEABLE", NULL, -1, AUTH_PERMERROR },
		/* 7: a second From past MaxHeaderCount is seen all the same */
		{ "From: security@example.org\nX-1: 1\nX-2: 2\nX-3: 3\n"
		  "X-4: 4\nX-5: 5\nX-6: 6\nX-7: 7\nX-8: 8\nX-9: 9\n"
		  "From: x@attacker.test\n", "MaxHeaderCount=10", NULL,
		  "DMARC_MULTI_FROM", "example.org", ACTION_REJECT,
		  AUTH_PERMERROR },
		/* 8-9: a group's members are authors too (RFC 6854) */
		{ "From: list: security@example.org;\n", NULL,
		  "DMARCEnforce=reject", "DMARC_FAIL_REJECT", "example.org",
		  ACTION_REJECT, AUTH_FAIL },
		{ "From: list: security@example.org, x@attacker.test;\n",
		  NULL, NULL, "DMARC_MULTI_FROM", "example.org",
		  ACTION_REJECT, AUTH_PERMERROR },
	};

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct snap *s = snap_with(cases[i].o1, cases[i].o2, NULL);
		struct scan_env env = { .client_addr = "198.51.100.1",
		    .helo = "h.example", .mail_from = "x@attacker.test" };
		char *text = g_strconcat(cases[i].from, body, NULL);
		const char *rcode, *xcode, *txt, *reason;
		const struct auth_dmarc *dm;
		const struct verdict *v;
		struct msg *m;
		int act;

		m = scan_buffer(s, &env, (const unsigned char *)text,
		    strlen(text), "t", &v);
		if (!msg_has_hit(m, cases[i].hit))
			fail_msg("case %zu: no %s", i, cases[i].hit);
		act = msg_forced_action(m, &rcode, &xcode, &txt, &reason);
		if (act != cases[i].action)
			fail_msg("case %zu: forced %d, want %d", i, act,
			    cases[i].action);
		if (act == ACTION_REJECT) {
			assert_string_equal(rcode, "550");
			assert_string_equal(xcode, "5.7.1");
			assert_string_equal(reason, "dmarc");
			assert_int_equal(v->action, ACTION_REJECT);
		}
		dm = auth_dmarc(m);
		assert_non_null(dm);
		if (dm->result != cases[i].res)
			fail_msg("case %zu: result %s", i,
			    auth_res_name(dm->result));
		if (cases[i].res_from == NULL)
			assert_null(dm->from_domain);
		else
			assert_string_equal(dm->from_domain, cases[i].res_from);
		if (i == 4)
			assert_false(msg_has_hit(m, "DMARC_MULTI_FROM"));
		msg_end(&m);
		g_free(text);
		snap_unref(&s);
	}
}

static void
test_dmarc_alignment(void **unused)
{
	(void)unused;
	assert_true(dmarc_is_aligned("example.org", "EXAMPLE.org.", true));
	assert_false(dmarc_is_aligned("sub.example.org", "example.org", true));
	assert_true(dmarc_is_aligned("sub.example.org", "example.org", false));
	assert_true(dmarc_is_aligned("a.example.co.uk", "b.example.co.uk",
	    false));
	/* co.uk is a public suffix: no organizational domain in common */
	assert_false(dmarc_is_aligned("a.co.uk", "b.co.uk", false));
	assert_false(dmarc_is_aligned("example.org", "example.net", false));
}

/* rua= without p= acts as p=none (RFC 7489 6.6.3). */
static void
test_dmarc_rua_only(void **unused)
{
	struct dmarc_input in = {
		.from_domain = "ruaonly.example",
		.record = "v=DMARC1; rua=mailto:d@ruaonly.example",
		.record_domain = "ruaonly.example",
	};
	struct auth_dmarc out;

	(void)unused;
	assert_true(dmarc_evaluate(&in, 0, &out));
	assert_int_equal(out.result, AUTH_FAIL);
	assert_int_equal(out.policy, DMARC_P_NONE);

	in.record = "v=DMARC1; pct=100";	/* no p=, no rua=: unusable */
	assert_false(dmarc_evaluate(&in, 0, &out));
}

/* pct= sampling: not sampled, one step down. */
static void
test_dmarc_pct(void **unused)
{
	struct dmarc_input in = {
		.from_domain = "example.org",
		.record = "v=DMARC1; p=reject; pct=20",
		.record_domain = "example.org",
	};
	struct auth_dmarc out;

	(void)unused;
	assert_true(dmarc_evaluate(&in, 10, &out));
	assert_int_equal(out.applied, DMARC_P_REJECT);
	assert_true(dmarc_evaluate(&in, 50, &out));
	assert_int_equal(out.applied, DMARC_P_QUARANTINE);
}

/* ---- Authentication-Results ------------------------------------------- */

static void
test_authres_header(void **unused)
{
	struct snap *s = snap_with(NULL, NULL, NULL);
	const struct verdict *v;
	struct msg *m;
	char want[512];
	const struct auth_dkim *d;

	(void)unused;
	m = scan(s, "signed.eml", "192.0.2.5", "h.example", "a@example.org", &v);
	d = auth_dkim(m);
	snprintf(want, sizeof(want), "mx.example.test; spf=pass "
	    "smtp.mailfrom=example.org; dkim=pass header.d=example.org "
	    "header.s=s2048 header.a=rsa-sha256 header.b=%s; dmarc=pass "
	    "header.from=example.org", d->sigs[0].b);
	assert_string_equal(ar_header(m), want);
	msg_end(&m);

	m = scan(s, "signed-altered.eml", "198.51.100.1", "h.example",
	    "a@example.org", &v);
	assert_non_null(strstr(ar_header(m), "spf=fail smtp.mailfrom=example.org"));
	assert_non_null(strstr(ar_header(m),
	    "dkim=fail (body hash mismatch) header.d=example.org"));
	assert_non_null(strstr(ar_header(m),
	    "dmarc=fail (p=reject dis=reject) header.from=example.org"));
	msg_end(&m);
	snap_unref(&s);
}

/* Which incoming Authentication-Results name our authserv-id, as RFC
 * 8601 parses it: a comment or a quoted-string must not hide it. */
static void
test_authres_names_id(void **unused)
{
	static const struct { const char *v; bool want; } cases[] = {
		{ "mx.example.test; spf=pass", true },
		{ " MX.Example.TEST;dkim=pass", true },
		{ "mx.example.test 1; none", true },
		{ "mx.example.test", true },
		{ "\r\n\tmx.example.test\r\n\t; dmarc=pass", true },
		{ "(hi) mx.example.test; dmarc=pass", true },
		{ "(nested (comment \\) here)) mx.example.test; dmarc=pass", true },
		{ "(a)(b) \r\n (c)mx.example.test(d); dmarc=pass", true },
		{ "\"mx.example.test\"; dmarc=pass", true },
		{ " (x) \"MX.example.\\test\" ; dmarc=pass", true },
		{ "mx.example.test(comment); dmarc=pass", true },
		{ "other.example.net; spf=fail", false },
		{ "mx.example.test.evil; spf=pass", false },
		{ "mx.example.testing; spf=pass", false },
		{ "xmx.example.test; spf=pass", false },
		{ "(mx.example.test) other.example.net; spf=pass", false },
		{ "\"mx.example.test.evil\"; spf=pass", false },
		{ "\"mx.example.tes\"; spf=pass", false },
		{ "\"mx.example.test", false },
		{ "(unclosed mx.example.test; spf=pass", false },
		{ "", false },
	};

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (authres_names_id(cases[i].v, "mx.example.test") != cases[i].want)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].v,
			    cases[i].want);
}

/* Without a client address (local submission, an offline scan without
 * --ip) nothing is looked up: the zone's TIMEOUT would tempfail. */
static void
test_no_client_no_lookups(void **unused)
{
	struct snap *s = snap_with(NULL, NULL, NULL);
	const struct verdict *v;
	struct msg *m;

	(void)unused;
	m = scan(s, "from-slow.eml", NULL, NULL, "a@slow.example", &v);
	assert_null(auth_spf(m));
	assert_null(auth_dkim(m));
	assert_null(auth_dmarc(m));
	assert_null(ar_header(m));
	assert_int_equal(msg_failure_count(m), 0);
	assert_int_equal(v->action, ACTION_ACCEPT);
	msg_end(&m);

	/* the same message from a client: DMARC's lookup times out */
	m = scan(s, "from-slow.eml", "192.0.2.5", "h.example", "a@example.org",
	    &v);
	assert_true(msg_has_hit(m, "DMARC_TEMPERROR"));
	assert_int_equal(v->action, ACTION_TEMPFAIL);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_bad_zone_file(void **unused)
{
	struct cfg *c;
	struct snap *s;
	char *err = NULL;
	const char *ov[] = { "DNSZoneFile=/nonexistent/zone.txt",
	    "Checks=headers,spf,dkim,dmarc,authres" };

	(void)unused;
	assert_non_null(c = cfg_load(NULL, ov, 2, &err));
	s = snap_build(c, &err);
	assert_null(s);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/zone.txt"));
	free(err);
	cfg_unref(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spf_results),
		cmocka_unit_test(test_spf_reject_fail),
		cmocka_unit_test(test_spf_trusted_skipped),
		cmocka_unit_test(test_spf_helo_identity),
		cmocka_unit_test(test_spf_temperror_policy),
		cmocka_unit_test(test_spf_syntax),
		cmocka_unit_test(test_dkim_messages),
		cmocka_unit_test(test_dkim_ed25519_details),
		cmocka_unit_test(test_dkim_many_signatures),
		cmocka_unit_test(test_dmarc_policies),
		cmocka_unit_test(test_dmarc_multi_from),
		cmocka_unit_test(test_dmarc_alignment),
		cmocka_unit_test(test_dmarc_rua_only),
		cmocka_unit_test(test_dmarc_pct),
		cmocka_unit_test(test_authres_header),
		cmocka_unit_test(test_authres_names_id),
		cmocka_unit_test(test_no_client_no_lookups),
		cmocka_unit_test(test_bad_zone_file),
	};

	log_init("test_auth", 1, 0);
	log_set_level(LOG_WARNING);
	snprintf(zone_opt, sizeof(zone_opt), "DNSZoneFile=%s/tests/data/auth/"
	    "zone.txt", t_srcdir());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
