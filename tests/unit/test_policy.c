/*
 * test_policy.c - the policy check through the real pipeline and verdict:
 * allow and block lists, per-recipient-domain thresholds with the
 * strictest/loosest/first rule, and release tokens (valid, forged,
 * replayed) against a real quarantine index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "checks/policy.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "snap.h"
#include "verdict.h"

static const char plain_msg[] =
	"From: Someone <someone@example.org>\n"
	"To: Alice <alice@example.org>\n"
	"Subject: hello\n"
	"Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
	"Message-ID: <hello@example.org>\n"
	"\n"
	"Just saying hello.\n";

static struct snap *
snap_with(const char *const *ov, size_t n, char **err_r)
{
	struct cfg *c;
	struct snap *s;

	const char *all[16] = { "Checks=policy,headers" };

	/* Only the checks under test: no DNS lookups from the others. */
	assert_true(n < 16);
	memcpy(all + 1, ov, n * sizeof(*ov));
	*err_r = NULL;
	c = cfg_load(NULL, all, n + 1, err_r);
	if (c == NULL)
		return NULL;
	s = snap_build(c, err_r);
	cfg_unref(&c);	/* the snapshot holds its own reference */
	return s;
}

static struct snap *
snap_must(const char *const *ov, size_t n)
{
	char *err = NULL;
	struct snap *s = snap_with(ov, n, &err);

	if (s == NULL)
		fail_msg("config: %s", err);
	return s;
}

/* Scans text from ip and sender to the NULL-terminated rcpts. */
static struct msg *
scan(struct snap *s, const char *text, const char *ip, const char *from,
    const char *const *rcpts, const struct verdict **v_r)
{
	size_t n = 0;

	while (rcpts[n] != NULL)
		n++;
	struct scan_env env = { .client_addr = ip, .client_name = "client",
	    .helo = "client", .mail_from = from, .rcpts = rcpts, .nrcpts = n };
	return scan_buffer(s, &env, (const unsigned char *)text, strlen(text),
	    "tpolicy1", v_r);
}

static const char *const one_rcpt[] = { "alice@example.org", NULL };

/*
 * The milter's path for a simple message (one-line headers, LF ends):
 * live mail, fed header by header through the pipeline calls.
 */
static struct msg *
scan_live(struct snap *s, const char *text, const char *from,
    const struct verdict **v_r)
{
	struct msg *m = msg_new(s, "tlive001");
	struct arena *a = msg_arena(m);
	const char *p = text, *nl;
	char *body;
	size_t n = 0;

	msg_set_live(m, true);
	msg_set_client(m, "127.0.0.1", "localhost");
	msg_set_helo(m, "localhost");
	msg_add_rcpt(m, one_rcpt[0]);
	pipeline_phase(m, PHASE_CONNECT);
	msg_set_mail_from(m, from);
	pipeline_phase(m, PHASE_ENVFROM);
	while ((nl = strchr(p, '\n')) != NULL && nl != p) {
		const char *colon = memchr(p, ':', (size_t)(nl - p));

		assert_non_null(colon);
		pipeline_header(m, arena_strndup(a, p, (size_t)(colon - p)),
		    arena_strndup(a, colon + 2, (size_t)(nl - colon - 2)));
		p = nl + 1;
	}
	pipeline_eoh(m);
	p = nl != NULL ? nl + 1 : p + strlen(p);
	body = arena_alloc(a, 2 * strlen(p) + 1);
	for (; *p != '\0'; p++) {
		if (*p == '\n')
			body[n++] = '\r';
		body[n++] = *p;
	}
	pipeline_body(m, (const unsigned char *)body, n);
	*v_r = pipeline_eom(m);
	return m;
}

static void
test_lists(void **unused)
{
	static const char *const ov[] = {
		"BlockSenders=spam@bad.example, @junk.example, .worse.example, <>",
		"BlockClients=192.0.2.0/24, 2001:db8:bad::/48",
		"AllowSenders=friend@good.example",
		"AllowClients=198.51.100.7",
		"BlockReplyText=Go away", "RejectScore=0",
		"TrustedNetworks=127.0.0.1/32",
	};
	static const struct {
		const char *ip, *from, *hit;
		enum verdict_action action;
	} cases[] = {
		{ "203.0.113.1", "spam@bad.example", "POLICY_BLOCK_SENDER",
		  ACTION_REJECT },
		{ "203.0.113.1", "SPAM@Bad.Example", "POLICY_BLOCK_SENDER",
		  ACTION_REJECT },
		{ "203.0.113.1", "other@bad.example", NULL, ACTION_ACCEPT },
		{ "203.0.113.1", "x@junk.example", "POLICY_BLOCK_SENDER",
		  ACTION_REJECT },
		{ "203.0.113.1", "x@sub.junk.example", NULL, ACTION_ACCEPT },
		{ "203.0.113.1", "x@a.worse.example", "POLICY_BLOCK_SENDER",
		  ACTION_REJECT },
		{ "203.0.113.1", "x@worse.example", NULL, ACTION_ACCEPT },
		{ "203.0.113.1", "x@notworse.example", NULL, ACTION_ACCEPT },
		{ "203.0.113.1", "", "POLICY_BLOCK_SENDER", ACTION_REJECT },
		{ "192.0.2.77", "a@example.org", "POLICY_BLOCK_CLIENT",
		  ACTION_REJECT },
		{ "192.0.3.1", "a@example.org", NULL, ACTION_ACCEPT },
		{ "2001:db8:bad::25", "a@example.org", "POLICY_BLOCK_CLIENT",
		  ACTION_REJECT },
		{ "2001:db8:bae::25", "a@example.org", NULL, ACTION_ACCEPT },
		{ "203.0.113.1", "friend@good.example", "POLICY_ALLOW_SENDER",
		  ACTION_ACCEPT },
		{ "198.51.100.7", "a@example.org", "POLICY_ALLOW_CLIENT",
		  ACTION_ACCEPT },
	};
	struct snap *s = snap_must(ov, NELEM(ov));

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct verdict *v;
		struct msg *m = scan(s, plain_msg, cases[i].ip, cases[i].from,
		    one_rcpt, &v);
		bool has_block = msg_has_hit(m, "POLICY_BLOCK_SENDER") ||
		    msg_has_hit(m, "POLICY_BLOCK_CLIENT");

		if (cases[i].hit != NULL && !msg_has_hit(m, cases[i].hit))
			fail_msg("case %zu <%s> %s: no %s", i, cases[i].from,
			    cases[i].ip, cases[i].hit);
		if (cases[i].hit == NULL && has_block)
			fail_msg("case %zu <%s> %s: blocked", i, cases[i].from,
			    cases[i].ip);
		if (v->action != cases[i].action)
			fail_msg("case %zu <%s>: action %s, want %s", i,
			    cases[i].from, action_name(v->action),
			    action_name(cases[i].action));
		if (v->action == ACTION_REJECT) {
			assert_string_equal(v->rcode, "550");
			assert_string_equal(v->xcode, "5.7.1");
			assert_string_equal(v->text, "Go away");
			assert_string_equal(v->reason, "policy");
		}
		if (cases[i].hit != NULL &&
		    strncmp(cases[i].hit, "POLICY_ALLOW", 12) == 0)
			assert_true(v->score <= -99);
		msg_end(&m);
	}
	snap_unref(&s);
}

static void
test_block_action(void **unused)
{
	static const char *const ovq[] = { "BlockSenders=bad.example",
	    "BlockAction=quarantine" };
	static const char *const ovs[] = { "BlockSenders=bad.example",
	    "BlockAction=score", "RejectScore=50" };
	const struct verdict *v;
	struct snap *s = snap_must(ovq, NELEM(ovq));
	struct msg *m = scan(s, plain_msg, "203.0.113.1", "x@bad.example",
	    one_rcpt, &v);

	assert_int_equal(v->action, ACTION_QUARANTINE);
	assert_string_equal(v->reason, "policy");
	msg_end(&m);
	snap_unref(&s);

	/* score: only the finding's 100 points count. */
	s = snap_must(ovs, NELEM(ovs));
	m = scan(s, plain_msg, "203.0.113.1", "x@bad.example", one_rcpt, &v);
	assert_int_equal(v->action, ACTION_REJECT);
	assert_string_equal(v->reason, "spam");
	assert_true(v->score >= 100);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_bad_config(void **unused)
{
	static const struct { const char *ov, *want; } cases[] = {
		{ "BlockClients=192.0.2.300", "BlockClients: \"192.0.2.300\"" },
		{ "AllowClients=example.org", "AllowClients" },
		{ "BlockSenders=@", "BlockSenders" },
		{ "DomainThresholds=example.org TagScore=x", "DomainThresholds" },
		{ "DomainThresholds=example.org Bogus=3", "DomainThresholds" },
		{ "DomainThresholds=example.org", "no thresholds" },
		{ "DomainThresholds=example.org RejectScore=nan", "DomainThresholds" },
		{ "DomainThresholds=example.org TagScore=inf", "DomainThresholds" },
		{ "ReleaseKeyFile=/nonexistent/vigil/key", "/nonexistent/vigil/key" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *err = NULL;
		struct snap *s = snap_with(&cases[i].ov, 1, &err);

		if (s != NULL)
			fail_msg("case %zu %s: accepted", i, cases[i].ov);
		if (err == NULL || strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu %s: error \"%s\"", i, cases[i].ov,
			    err);
		free(err);
	}
}

/* Score 100 (a block in score mode) against per-domain thresholds. */
static void
test_domain_thresholds(void **unused)
{
	static const char *const strict_rcpts[] = { "a@lenient.example",
	    "b@strict.example", NULL };
	static const char *const lenient_first[] = { "a@lenient.example",
	    "b@other.example", NULL };
	static const char *const sub_rcpt[] = { "a@mx.strict.example", NULL };
	static const struct { const char *mode; const char *const *rcpts;
	    enum verdict_action want; } cases[] = {
		/* core: quarantine at 80; strict: reject at 50;
		 * lenient: everything off but tag */
		{ "strictest", strict_rcpts, ACTION_REJECT },
		{ "loosest", strict_rcpts, ACTION_TAG },
		{ "first", strict_rcpts, ACTION_TAG },
		{ "strictest", lenient_first, ACTION_QUARANTINE },
		{ "loosest", lenient_first, ACTION_TAG },
		{ "strictest", one_rcpt, ACTION_QUARANTINE },
		{ "strictest", sub_rcpt, ACTION_REJECT },
	};

	char path[256];
	FILE *f;

	/* Repeated options come from a file (-o replaces). */
	snprintf(path, sizeof(path), "%s/vigil-dt-XXXXXX.conf",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	f = fdopen(mkstemps(path, 5), "w");
	assert_non_null(f);
	fputs("BlockSenders bad.example\nBlockAction score\n"
	    "RejectScore 0\nQuarantineScore 80\n"
	    "DomainThresholds strict.example RejectScore=50\n"
	    "DomainThresholds .strict.example RejectScore=50\n"
	    "DomainThresholds lenient.example QuarantineScore=0 "
	    "RejectScore=0 TagScore=4\n", f);
	fclose(f);
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *mode, *err = NULL;
		const char *ov[1];
		const struct verdict *v;
		struct cfg *c;
		struct snap *s;
		struct msg *m;

		assert_true(asprintf(&mode, "RecipientThresholds=%s",
		    cases[i].mode) > 0);
		ov[0] = mode;
		c = cfg_load(path, ov, 1, &err);
		if (c == NULL || (s = snap_build(c, &err)) == NULL)
			fail_msg("config: %s", err);
		m = scan(s, plain_msg, "203.0.113.1", "x@bad.example",
		    cases[i].rcpts, &v);
		if (v->action != cases[i].want)
			fail_msg("case %zu %s: %s, want %s", i, cases[i].mode,
			    action_name(v->action),
			    action_name(cases[i].want));
		msg_end(&m);
		snap_unref(&s);
		cfg_unref(&c);	/* the snapshot held its own reference */
		free(mode);
	}
	unlink(path);
}

static int token_unused(struct snap *, const char *, const char *);

/* Release tokens: a fresh quarantine folder with a key and an issued
 * nonce; the same message comes back three ways. */
static void
test_release_token(void **unused)
{
	char dir[256], *qopt, *msgtext, cmd[300];
	const char *qid = "00112233445566778899aabbccddeeff";
	const char *nonce = "0f0e0d0c0b0a09080706050403020100";
	const char *err = NULL, *body;
	const int64_t now = (int64_t)time(NULL);
	struct arena *a = arena_new("test");
	struct release_key key;
	const struct verdict *v;
	struct qstore *q;
	struct snap *s;
	struct msg *m;
	char *oerr = NULL;

	snprintf(dir, sizeof(dir), "%s/vigil-p-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&qopt, "QuarantineDir=%s", dir) > 0);
	{
		const char *ov[] = { qopt, "BlockSenders=bad.example" };

		s = snap_must(ov, 2);
	}
	assert_true(release_key_load(a, snap_cfg(s), true, &key, &err));
	q = quarantine_open(snap_cfg(s), true, &oerr);
	assert_non_null(q);
	assert_true(quarantine_token_issue(q, qid, nonce, 1700000000));
	quarantine_close(&q);
	body = strstr(plain_msg, "\n\n") + 2;

	/* Valid: passes although the sender is blocked.  Offline scans
	 * show the pass and leave the token alone. */
	msgtext = arena_printf(a, "X-Vigil-Release: %s\n%s",
	    release_token_make(a, &key, qid, nonce, now, one_rcpt, 1,
	    (const unsigned char *)body, strlen(body)), plain_msg);
	for (int i = 0; i < 2; i++) {
		m = scan(s, msgtext, "127.0.0.1", "x@bad.example", one_rcpt,
		    &v);
		assert_true(msg_has_hit(m, "POLICY_RELEASED"));
		assert_int_equal(v->action, ACTION_ACCEPT);
		msg_end(&m);
	}
	m = scan_live(s, msgtext, "x@bad.example", &v);
	assert_true(msg_has_hit(m, "POLICY_RELEASED"));
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_non_null(strstr(v->reason, qid));
	msg_end(&m);

	/* The same token again: used, no pass, the block decides. */
	m = scan_live(s, msgtext, "x@bad.example", &v);
	assert_false(msg_has_hit(m, "POLICY_RELEASED"));
	assert_true(msg_has_hit(m, "POLICY_RELEASE_INVALID"));
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);

	/* A valid MAC over a changed body: no pass. */
	q = quarantine_open(snap_cfg(s), false, &oerr);
	assert_true(quarantine_token_issue(q, qid,
	    "1f0e0d0c0b0a09080706050403020100", 1700000000));
	quarantine_close(&q);
	msgtext = arena_printf(a, "X-Vigil-Release: %s\n%sAnd more.\n",
	    release_token_make(a, &key, qid,
	    "1f0e0d0c0b0a09080706050403020100", now, one_rcpt, 1,
	    (const unsigned char *)body, strlen(body)), plain_msg);
	m = scan_live(s, msgtext, "x@bad.example", &v);
	assert_true(msg_has_hit(m, "POLICY_RELEASE_INVALID"));
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);

	/*
	 * issue 15.11: a token past ReleaseTokenLifetime, or one made for
	 * other recipients, gets no pass although its MAC and nonce are
	 * good.
	 */
	{
		static const char *const other_rcpt[] = { "mallory@evil.example" };
		const char *n2 = "3f0e0d0c0b0a09080706050403020100";
		const char *n3 = "4f0e0d0c0b0a09080706050403020100";

		q = quarantine_open(snap_cfg(s), false, &oerr);
		assert_true(quarantine_token_issue(q, qid, n2, now - 8 * 86400));
		assert_true(quarantine_token_issue(q, qid, n3, now));
		quarantine_close(&q);
		msgtext = arena_printf(a, "X-Vigil-Release: %s\n%s",
		    release_token_make(a, &key, qid, n2, now - 8 * 86400,
		    one_rcpt, 1, (const unsigned char *)body, strlen(body)),
		    plain_msg);
		m = scan_live(s, msgtext, "x@bad.example", &v);
		assert_false(msg_has_hit(m, "POLICY_RELEASED"));
		assert_true(msg_has_hit(m, "POLICY_RELEASE_INVALID"));
		assert_int_equal(v->action, ACTION_REJECT);
		msg_end(&m);
		msgtext = arena_printf(a, "X-Vigil-Release: %s\n%s",
		    release_token_make(a, &key, qid, n3, now, other_rcpt, 1,
		    (const unsigned char *)body, strlen(body)), plain_msg);
		m = scan_live(s, msgtext, "x@bad.example", &v);
		assert_false(msg_has_hit(m, "POLICY_RELEASED"));
		assert_true(msg_has_hit(m, "POLICY_RELEASE_INVALID"));
		assert_int_equal(v->action, ACTION_REJECT);
		msg_end(&m);
		/* Neither used up its nonce. */
		assert_int_equal(token_unused(s, qid, n3), 1);
	}

	/* A forged one (another key). */
	key.bytes[3] ^= 0x40;
	msgtext = arena_printf(a, "X-Vigil-Release: %s\n%s",
	    release_token_make(a, &key, qid,
	    "1f0e0d0c0b0a09080706050403020100", now, one_rcpt, 1,
	    (const unsigned char *)body, strlen(body)), plain_msg);
	m = scan(s, msgtext, "127.0.0.1", "x@bad.example", one_rcpt, &v);
	assert_true(msg_has_hit(m, "POLICY_RELEASE_INVALID"));
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);

	snap_unref(&s);
	arena_free(&a);
	free(qopt);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Scans text as live mail from x@bad.example (a blocked sender): it gets
 * finding hit and action want. */
static void
expect_live(struct snap *s, const char *text, const char *hit, int want)
{
	const struct verdict *v;
	struct msg *m = scan_live(s, text, "x@bad.example", &v);

	assert_true(msg_has_hit(m, hit));
	assert_int_equal(v->action, want);
	msg_end(&m);
}

/* quarantine_token_peek() in s's store: 1 unused, 0 used or unknown. */
static int
token_unused(struct snap *s, const char *qid, const char *nonce)
{
	char *oerr = NULL;
	struct qstore *q = quarantine_open(snap_cfg(s), false, &oerr);
	int rc;

	assert_non_null(q);
	rc = quarantine_token_peek(q, qid, nonce);
	quarantine_close(&q);
	return rc;
}

/*
 * A released copy that a failing check tempfails gives its token back, so
 * the MTA's retry of that copy passes; once accepted, the token is used
 * and the same copy again gets no pass.
 */
static void
test_release_token_retry(void **unused)
{
	char dir[256], *qopt, *clamd, *msgtext, cmd[300];
	const char *qid = "00112233445566778899aabbccddeeff";
	const char *nonce = "2f0e0d0c0b0a09080706050403020100";
	const char *err = NULL, *body;
	const int64_t now = (int64_t)time(NULL);
	struct arena *a = arena_new("test");
	struct release_key key;
	struct qstore *q;
	struct snap *s, *down;
	char *oerr = NULL;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/vigil-p-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&qopt, "QuarantineDir=%s", dir) > 0);
	assert_true(asprintf(&clamd, "ClamdSocket=unix:%s/no-clamd.sock",
	    dir) > 0);
	{
		const char *ov[] = { qopt, "BlockSenders=bad.example" };
		const char *ov_down[] = { qopt, "BlockSenders=bad.example",
		    "Checks=policy,headers,av", "AVScan=yes", clamd };

		s = snap_must(ov, 2);
		down = snap_must(ov_down, 5);
	}
	assert_true(release_key_load(a, snap_cfg(s), true, &key, &err));
	q = quarantine_open(snap_cfg(s), true, &oerr);
	assert_non_null(q);
	assert_true(quarantine_token_issue(q, qid, nonce, 1700000000));
	quarantine_close(&q);
	body = strstr(plain_msg, "\n\n") + 2;
	msgtext = arena_printf(a, "X-Vigil-Release: %s\n%s",
	    release_token_make(a, &key, qid, nonce, now, one_rcpt, 1,
	    (const unsigned char *)body, strlen(body)), plain_msg);

	/* clamd is down: the pass does not beat the tempfail, and the
	 * token is unused again at the end of the message. */
	expect_live(down, msgtext, "POLICY_RELEASED", ACTION_TEMPFAIL);
	assert_int_equal(token_unused(s, qid, nonce), 1);

	/* The retry passes and uses the token up. */
	expect_live(s, msgtext, "POLICY_RELEASED", ACTION_ACCEPT);
	assert_int_equal(token_unused(s, qid, nonce), 0);

	/* A replay after the accepted copy: no pass, the block decides. */
	expect_live(s, msgtext, "POLICY_RELEASE_INVALID", ACTION_REJECT);

	snap_unref(&down);
	snap_unref(&s);
	arena_free(&a);
	free(qopt);
	free(clamd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_block_action),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_domain_thresholds),
		cmocka_unit_test(test_release_token),
		cmocka_unit_test(test_release_token_retry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
