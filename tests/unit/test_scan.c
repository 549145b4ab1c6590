/*
 * test_scan.c - the verdict machinery through scan_buffer(): thresholds,
 * actions, X-Spam-Status, subject rewriting, forced actions, oversize
 * messages, spilling to disk, and the same bytes either way.
 */
#include "t.h"

#include <glib.h>

#include "check.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "msg_private.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_check.h"

/* Missing Date (1.4), Message-ID (0.5), malformed From (2.0): 3.9. */
static const char *bad_headers =
    "From: nobody\nTo: bob@example.com\nSubject: hello\n\nbody\n";
static const char *good =
    "From: Alice <alice@example.org>\nTo: bob@example.com\nSubject: hi\n"
    "Date: Tue, 24 Nov 2026 10:15:00 +0100\nMessage-ID: <a@example.org>\n\nbody\n";

/* X-Spam-Status wants: want with " version=<the verdict's>" put before
 * " tests=" (SpamAssassin's form, tests= last). */
static void
status_equal(const struct verdict *v, const char *want)
{
	const char *t = strstr(want, " tests=");
	char buf[512];

	assert_non_null(t);
	assert_int_equal(strlen(v->version), 8);
	assert_int_equal(strspn(v->version, "0123456789abcdef"), 8);
	snprintf(buf, sizeof(buf), "%.*s version=%s%s", (int)(t - want), want,
	    v->version, t);
	assert_string_equal(v->status, buf);
}

static void
test_accept_tag_reject(void **state)
{
	const char *tag[] = { "TagScore=3" };
	const char *rej[] = { "TagScore=3", "RejectScore=3.5", "RejectText=Go away" };
	const char *quar[] = { "TagScore=2", "QuarantineScore=3" };
	const struct verdict *v;
	struct snap *s;
	struct msg *m;

	s = t_snap(NULL, NULL, 0);
	m = t_scan(s, good, &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_true(v->score == 0);
	status_equal(v, "No, score=0.0 required=5.0 tests=none");
	msg_end(&m);
	m = t_scan(s, bad_headers, &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_false(v->is_spam);
	status_equal(v,
	    "No, score=3.9 required=5.0 tests=FROM_MALFORMED,MISSING_DATE,MISSING_MID");
	msg_end(&m);
	snap_unref(&s);

	s = t_snap(NULL, tag, 1);
	m = t_scan(s, bad_headers, &v);
	assert_int_equal(v->action, ACTION_TAG);
	assert_true(v->is_spam);
	status_equal(v,
	    "Yes, score=3.9 required=3.0 tests=FROM_MALFORMED,MISSING_DATE,MISSING_MID");
	assert_null(v->new_subject);	/* RewriteSubject unset */
	msg_end(&m);
	snap_unref(&s);

	s = t_snap(NULL, rej, 3);
	m = t_scan(s, bad_headers, &v);
	assert_int_equal(v->action, ACTION_REJECT);
	assert_string_equal(v->rcode, "550");
	assert_string_equal(v->xcode, "5.7.1");
	assert_string_equal(v->text, "Go away");
	msg_end(&m);
	snap_unref(&s);

	s = t_snap(NULL, quar, 2);
	m = t_scan(s, bad_headers, &v);
	assert_int_equal(v->action, ACTION_QUARANTINE);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_subject_rewrite(void **state)
{
	const char *ov[] = { "TagScore=3", "SubjectScore=3", "RewriteSubject=[SPAM] %s" };
	const char *bad_rw[] = { "RewriteSubject=[SPAM]" };
	const struct verdict *v;
	struct snap *s = t_snap(NULL, ov, 3);
	struct msg *m = t_scan(s, bad_headers, &v);
	char *err = NULL;
	struct cfg *c;

	assert_string_equal(v->new_subject, "[SPAM] hello");
	msg_end(&m);
	snap_unref(&s);
	/* A rewrite without %s would lose the subject: refused at load. */
	c = cfg_load(NULL, bad_rw, 1, &err);
	assert_non_null(c);
	assert_null(snap_build(c, &err));
	assert_non_null(strstr(err, "must contain %s"));
	free(err);
	cfg_unref(&c);
}

static void
test_forced_action_wins_when_stricter(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	struct msg *m = msg_new(s, "t");
	const struct verdict *v;

	msg_force_action(m, ACTION_QUARANTINE, NULL, NULL, NULL, "virus");
	msg_force_action(m, ACTION_TAG, NULL, NULL, NULL, "weaker");
	msg_force_action(m, ACTION_REJECT, "554", "5.7.1", "virus X found", "virus");
	v = pipeline_eom(m);
	assert_int_equal(v->action, ACTION_REJECT);
	assert_string_equal(v->rcode, "554");
	assert_string_equal(v->text, "virus X found");
	assert_string_equal(v->reason, "virus");
	msg_end(&m);
	snap_unref(&s);
}

static void
test_failure_policy(void **state)
{
	const char *acc[] = { "OnError=accept" };
	struct snap *s = t_snap(NULL, NULL, 0);
	struct msg *m = msg_new(s, "t");
	const struct verdict *v;

	msg_note_failure(m, "av", ACTION_TEMPFAIL, "engine not ready");
	v = pipeline_eom(m);
	assert_int_equal(v->action, ACTION_TEMPFAIL);
	assert_string_equal(v->rcode, "451");
	msg_end(&m);
	snap_unref(&s);
	s = t_snap(NULL, acc, 1);
	m = msg_new(s, "t");
	msg_note_failure(m, "av", snap_core(s)->on_error, "engine not ready");
	v = pipeline_eom(m);
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_int_equal(msg_failure_count(m), 1);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_oversize_passes_unscanned(void **state)
{
	const char *ov[] = { "MaxScanSize=2k", "TagScore=1",
	    "OversizeAction=accept" };
	const char *tf[] = { "MaxScanSize=2k", "OversizeAction=tempfail" };
	char *big = malloc(10000);
	const struct verdict *v;
	struct snap *s;
	struct msg *m;

	strcpy(big, bad_headers);
	memset(big + strlen(big), 'x', 8000);
	big[strlen(bad_headers) + 8000] = '\0';
	s = t_snap(NULL, ov, 3);
	m = t_scan(s, big, &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_string_equal(v->reason, "oversize");
	assert_int_equal(msg_hit_count(m), 0);	/* content checks skipped */
	assert_int_equal(msg_header_out_count(m), 1);
	msg_end(&m);
	snap_unref(&s);
	s = t_snap(NULL, tf, 2);
	m = t_scan(s, big, &v);
	assert_int_equal(v->action, ACTION_TEMPFAIL);
	assert_string_equal(v->rcode, "452");
	msg_end(&m);
	snap_unref(&s);
	free(big);
}

/*
 * oversize-padded-past-the-limit: a message padded past MaxScanSize is
 * scanned on its first MaxScanSize bytes by default, its headers found
 * wanting as any other's, and the attachment policy sees the names and
 * types of the parts past the cut; the verdict says it was truncated.
 */
static void
test_oversize_scanned_truncated(void **state)
{
	const char *conf = "Checks headers,attach\n";
	const char *ov[] = { "MaxScanSize=4k" };
	GString *g = g_string_new(bad_headers);
	const struct verdict *v;
	const unsigned char *raw;
	const char *name, *value;
	struct snap *s;
	struct msg *m;
	size_t len;
	bool said = false;

	g_string_truncate(g, strlen(bad_headers) - strlen("\nbody\n"));
	g_string_append(g, "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"=b\"\n\n"
	    "--=b\nContent-Type: text/plain\n\nhello\n"
	    "--=b\nContent-Type: application/octet-stream; name=pad.bin\n"
	    "Content-Transfer-Encoding: base64\n\n");
	for (int i = 0; i < 2000; i++)	/* 150 KB of padding */
		g_string_append(g, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		    "QUFBQUFBQUFBQUFBQUFBQUFB\n");
	g_string_append(g, "-- not a boundary\n\n"
	    "--=b\nContent-Type: application/x-msdownload\n"
	    "Content-Disposition: attachment;\n filename=\"invoice.exe\"\n\n"
	    "TVqQAAMAAAAEAAAA\n--=b--\n");
	s = t_snap(conf, ov, 1);
	m = t_scan(s, g->str, &v);
	assert_true(msg_is_oversize(m));
	assert_true(msg_is_truncated(m));
	assert_true(msg_has_hit(m, "SCAN_TRUNCATED"));
	assert_true(msg_has_hit(m, "MISSING_DATE"));	/* headers checked */
	assert_true(msg_has_hit(m, "ATTACH_BANNED_EXT"));
	assert_true(msg_has_hit(m, "ATTACH_BANNED_TYPE"));
	assert_string_not_equal(v->reason, "oversize");
	raw = msg_raw(m, &len);
	assert_true(len < 4096 + 1024);	/* the cut, plus part headers */
	assert_non_null(g_strstr_len((const char *)raw, (gssize)len,
	    "filename=\"invoice.exe\""));
	assert_null(g_strstr_len((const char *)raw, (gssize)len,
	    "not a boundary"));
	for (size_t i = 0; i < msg_header_out_count(m); i++) {
		msg_header_out(m, i, &name, &value);
		if (strcmp(name, "X-Vigil-Scan") == 0 &&
		    strstr(value, "truncated, the first 4096 of") != NULL)
			said = true;
	}
	assert_true(said);
	msg_end(&m);
	snap_unref(&s);
	g_string_free(g, TRUE);
}

/* A spilled message gives the same bytes and the same verdict. */
static void
test_spill_same_verdict(void **state)
{
	const char *small[] = { "SpoolMemoryMax=4k" };
	char *msgtext = malloc(200000);
	const struct verdict *v1, *v2;
	struct snap *s1 = t_snap(NULL, NULL, 0), *s2 = t_snap(NULL, small, 1);
	struct msg *m1, *m2;
	const unsigned char *r1, *r2;
	size_t l1, l2;

	strcpy(msgtext, bad_headers);
	for (int i = 0; i < 3000; i++)
		strcat(msgtext, "a line of body text to spill\n");
	m1 = t_scan(s1, msgtext, &v1);
	m2 = t_scan(s2, msgtext, &v2);
	/* The second went to disk, the first stayed in memory. */
	assert_false(msg_is_spilled(m1));
	assert_true(msg_is_spilled(m2));
	r1 = msg_raw(m1, &l1);
	r2 = msg_raw(m2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(r1, r2, l1);
	assert_true(v1->score == v2->score);
	assert_int_equal(v1->action, v2->action);
	msg_end(&m1);
	msg_end(&m2);
	snap_unref(&s1);
	snap_unref(&s2);
	free(msgtext);
}

/* LF input is stored as CRLF, folding kept, mbox From_ line dropped. */
static void
test_raw_is_crlf(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m = t_scan(s, "From alice@example.org Tue Nov 24 10:00:00 2026\n"
	    "Subject: one\n two\nFrom: a@example.org\n\nline1\nline2\r\nline3", &v);
	size_t len;
	const unsigned char *raw = msg_raw(m, &len);
	const char *want = "Subject: one\r\n two\r\nFrom: a@example.org\r\n\r\n"
	    "line1\r\nline2\r\nline3";

	assert_int_equal(len, strlen(want));
	assert_memory_equal(raw, want, len);
	assert_string_equal(msg_mail_from(m), "a@example.org");
	assert_string_equal(msg_view(m)->subject, "one two");
	msg_end(&m);
	snap_unref(&s);
}

/*
 * The bytes after a header's colon reach the raw message unchanged (no
 * space added, none dropped); the raw values the checks read lose only
 * the one space after the colon.
 */
static void
test_header_leading_blanks_kept(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m = t_scan(s, "Subject:hello\nTo:  bob@example.com\n"
	    "X-Tab:\tone\nFrom: a@example.org\nX-Empty:\n\nbody\n", &v);
	static const struct { const char *name, *raw; } want[] = {
		{ "Subject", "hello" }, { "To", " bob@example.com" },
		{ "X-Tab", "\tone" }, { "From", "a@example.org" },
		{ "X-Empty", "" },
	};
	const char *whole = "Subject:hello\r\nTo:  bob@example.com\r\n"
	    "X-Tab:\tone\r\nFrom: a@example.org\r\nX-Empty:\r\n\r\nbody\r\n";
	size_t len;
	const unsigned char *raw = msg_raw(m, &len);

	(void)state;
	assert_int_equal(len, strlen(whole));
	assert_memory_equal(raw, whole, len);
	assert_int_equal(msg_hdr_count(m), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_string_equal(msg_hdr(m, i)->name, want[i].name);
		assert_string_equal(msg_hdr(m, i)->raw, want[i].raw);
	}
	assert_string_equal(msg_view(m)->subject, "hello");
	msg_end(&m);
	snap_unref(&s);
}

static void
test_trusted_skips_content(void **state)
{
	const char *ov[] = { "TrustedNetworks=192.0.2.0/24" };
	const char *off[] = { "TrustedNetworks=192.0.2.0/24", "SkipTrusted=no" };
	struct snap *s = t_snap(NULL, ov, 1);
	const struct verdict *v;
	struct msg *m = t_scan(s, bad_headers, &v);

	assert_true(msg_is_trusted(m));
	assert_int_equal(msg_hit_count(m), 0);
	msg_end(&m);
	snap_unref(&s);
	s = t_snap(NULL, off, 2);
	m = t_scan(s, bad_headers, &v);
	assert_true(msg_has_hit(m, "MISSING_DATE"));
	msg_end(&m);
	snap_unref(&s);
}

/* Hostile input: every one gets a verdict. */
static void
test_hostile_input(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m;
	char *huge = malloc(1100000);
	static const char nul_msg[] = "Subject: a\0b\nFrom: x@y.z\n\nbody\0with NUL\xff\xfe\n";

	/* A 1 MB header. */
	strcpy(huge, "X-Long: ");
	memset(huge + 8, 'a', 1000000);
	strcpy(huge + 1000008, "\nFrom: a@example.org\n\nbody\n");
	m = t_scan(s, huge, &v);
	assert_non_null(v);
	assert_string_equal(msg_view(m)->hdrs[1].name, "From");
	msg_end(&m);
	/* NULs and bad UTF-8 (the scan sees the bytes after the NUL too). */
	m = scan_buffer(s, &(struct scan_env){ 0 }, (const unsigned char *)nul_msg,
	    sizeof(nul_msg) - 1, "t", &v);
	assert_non_null(v);
	assert_non_null(strstr(msg_view(m)->body_text, "with NUL"));
	msg_end(&m);
	/* No headers at all, only body; empty message. */
	m = t_scan(s, "\njust a body\n", &v);
	assert_true(msg_has_hit(m, "MISSING_FROM"));
	msg_end(&m);
	m = t_scan(s, "", &v);
	assert_non_null(v);
	msg_end(&m);
	free(huge);
	snap_unref(&s);
}

/*
 * A field folded over thousands of lines is copied once, not once a
 * line: 5000 continuation lines of 3 bytes used to take some 40 MB of
 * arena (80 KB of them, 827 MB); now about the size of the field.
 */
static void
test_folded_field_linear(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	enum { NLINES = 5000 };
	GString *t = g_string_new("X-Fold: a");
	GString *want = g_string_new(" a");
	struct msg *m;

	for (int i = 0; i < NLINES; i++) {
		g_string_append(t, i % 2 ? "\r\n b" : "\n\tc");
		g_string_append(want, i % 2 ? "\r\n b" : "\r\n\tc");
	}
	g_string_append(t, "\nFrom: a@example.org\n\nbody\n");
	m = parse_buffer(s, (const unsigned char *)t->str, t->len, "t");
	assert_int_equal(msg_hdr_count(m), 2);
	assert_string_equal(msg_hdr(m, 0)->raw, want->str + 1);
	assert_string_equal(msg_hdr(m, 1)->name, "From");
	assert_true(arena_used(msg_arena(m)) < 1024 * 1024);
	msg_end(&m);
	g_string_free(t, TRUE);
	g_string_free(want, TRUE);
	snap_unref(&s);
}

/*
 * Past MaxHeaderCount or MaxHeaderBytes the fields are kept in the
 * message but not examined, and HEADER_LIMIT says so; under them
 * nothing changes.
 */
static void
test_header_limits(void **state)
{
	const char *cnt[] = { "MaxHeaderCount=10" };
	const char *bytes[] = { "MaxHeaderBytes=4096" };
	struct snap *s = t_snap(NULL, cnt, 1);
	const struct verdict *v;
	GString *t = g_string_new(good);
	struct msg *m;
	size_t len;

	m = t_scan(s, good, &v);
	assert_false(msg_has_hit(m, "HEADER_LIMIT"));
	assert_int_equal(msg_hdr_count(m), 5);
	msg_end(&m);
	/* 5 + 6 fields: the last one is past 10. */
	g_string_truncate(t, strstr(good, "\n\n") + 1 - good);
	for (int i = 0; i < 6; i++)
		g_string_append_printf(t, "X-Junk-%d: %d\n", i, i);
	g_string_append(t, "\nbody\n");
	m = t_scan(s, t->str, &v);
	assert_true(msg_has_hit(m, "HEADER_LIMIT"));
	assert_int_equal(msg_hdr_count(m), 10);
	/* Stored whole all the same. */
	assert_non_null(memmem(msg_raw(m, &len), len, "X-Junk-5: 5\r\n", 13));
	msg_end(&m);
	snap_unref(&s);

	s = t_snap(NULL, bytes, 1);
	m = t_scan(s, t->str, &v);
	assert_false(msg_has_hit(m, "HEADER_LIMIT"));
	msg_end(&m);
	g_string_truncate(t, strstr(good, "\n\n") + 1 - good);
	g_string_append(t, "X-Big: ");
	for (int i = 0; i < 4000; i++)
		g_string_append_c(t, 'a');
	g_string_append(t, "\n\nbody\n");
	m = t_scan(s, t->str, &v);
	assert_true(msg_has_hit(m, "HEADER_LIMIT"));
	assert_int_equal(msg_hdr_count(m), 5);
	msg_end(&m);
	snap_unref(&s);
	g_string_free(t, TRUE);
}

static void
test_score_table(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m;

	snap_set_score(s, "MISSING_DATE", 10.0);
	m = t_scan(s, bad_headers, &v);
	assert_true(v->score > 12.4 && v->score < 12.6);
	msg_end(&m);
	snap_unref(&s);
}

/* A snapshot of rules text in a fresh RulesDir, and shadow text (or
 * NULL) in a ShadowRulesDir; the folders are removed. */
static struct snap *
rules_snap2(const char *rules, const char *shadow)
{
	char dir[] = "/tmp/vigil-ver-XXXXXX", path[64], spath[80], conf[256];
	struct snap *s;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/10_t.rules", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(rules, f);
	fclose(f);
	snprintf(spath, sizeof(spath), "%s/shadow.rules", dir);
	if (shadow != NULL) {
		assert_non_null(f = fopen(spath, "w"));
		fputs(shadow, f);
		fclose(f);
	}
	snprintf(conf, sizeof(conf), "Checks headers, rules\nRulesDir %s\n"
	    "%s%s\n", path, shadow ? "ShadowRulesDir " : "",
	    shadow ? spath : "");
	s = t_snap(conf, NULL, 0);
	unlink(path);
	unlink(spath);
	rmdir(dir);
	return s;
}

static struct snap *
rules_snap(const char *rules)
{
	return rules_snap2(rules, NULL);
}

static bool
has_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, name) == 0)
			return true;
	return false;
}

/* Shadow rules (tflags shadow, or ShadowRulesDir) run and are noted,
 * never scored. */
static void
test_shadow_rules(void **state)
{
	static const char live[] =
	    "header T_LIVE Subject =~ /hello/\nscore T_LIVE 1.0\n"
	    "header T_TRIAL Subject =~ /hel/\nscore T_TRIAL 4.0\n"
	    "tflags T_TRIAL shadow\n";
	static const char trial[] =
	    "header T_DIR Subject =~ /ello/\nscore T_DIR 3.0\n";
	const struct verdict *v;
	struct snap *s;
	struct msg *m;
	double base;

	(void)state;
	s = rules_snap2(live, trial);
	m = t_scan(s, bad_headers, &v);
	assert_true(has_hit(m, "T_LIVE"));
	assert_false(has_hit(m, "T_TRIAL"));
	assert_false(has_hit(m, "T_DIR"));
	assert_int_equal(msg_shadow_hit_count(m), 2);
	assert_true((strcmp(msg_shadow_hit(m, 0), "T_TRIAL") == 0 &&
	    strcmp(msg_shadow_hit(m, 1), "T_DIR") == 0) ||
	    (strcmp(msg_shadow_hit(m, 0), "T_DIR") == 0 &&
	    strcmp(msg_shadow_hit(m, 1), "T_TRIAL") == 0));
	/* Not in X-Spam-Status either. */
	assert_null(strstr(v->status, "T_TRIAL"));
	base = v->score;
	msg_end(&m);
	/* Counted apart from the live rules. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		rules_write_stats(rules_state_set(snap_state(s, &check_rules)), f);
		fclose(f);
		assert_non_null(strstr(buf, "\nshadow.hits.T_TRIAL 1\n"));
		assert_non_null(strstr(buf, "\nshadow.hits.T_DIR 1\n"));
		assert_non_null(strstr(buf, "rules.hits.T_LIVE 1\n"));
		assert_null(strstr(buf, "rules.hits.T_TRIAL"));
		free(buf);
	}
	snap_unref(&s);

	/* Without them the score is the same. */
	s = rules_snap("header T_LIVE Subject =~ /hello/\nscore T_LIVE 1.0\n");
	m = t_scan(s, bad_headers, &v);
	assert_true(v->score == base);
	assert_int_equal(msg_shadow_hit_count(m), 0);
	msg_end(&m);
	snap_unref(&s);
}

/* Every verdict carries the versions it was made with: the rule files'
 * text, their score lines alone, the configuration generation. */
static void
test_versions(void **state)
{
	static const char base[] =
	    "header T_HI Subject =~ /hello/\ndescribe T_HI hi\nscore T_HI 1.0\n";
	static const char redescribed[] =
	    "header T_HI Subject =~ /hello/\ndescribe T_HI hello\nscore T_HI 1.0\n";
	static const char rescored[] =
	    "header T_HI Subject =~ /hello/\ndescribe T_HI hi\n  score T_HI 2.0\n";
	const struct verdict *v;
	struct snap *s;
	struct msg *m;
	char rules1[17], scores1[17], ver1[9];
	unsigned gen1;

	(void)state;
	s = rules_snap(base);
	m = t_scan(s, bad_headers, &v);
	assert_int_equal(strlen(v->versions[SNAP_V_RULES]), 16);
	assert_int_equal(strlen(v->versions[SNAP_V_SCORES]), 16);
	assert_string_equal(v->versions[SNAP_V_AV], "-");	/* av not run */
	strcpy(rules1, v->versions[SNAP_V_RULES]);
	strcpy(scores1, v->versions[SNAP_V_SCORES]);
	strcpy(ver1, v->version);
	gen1 = (unsigned)atoi(v->versions[SNAP_V_CONFIG]);
	assert_true(gen1 >= 1);
	assert_non_null(strstr(v->status, ver1));
	assert_non_null(strstr(verdict_versions_text(m, v), rules1));
	msg_end(&m);
	snap_unref(&s);

	/* Same text again: same rule and score hashes, next generation. */
	s = rules_snap(base);
	m = t_scan(s, bad_headers, &v);
	assert_string_equal(v->versions[SNAP_V_RULES], rules1);
	assert_string_equal(v->versions[SNAP_V_SCORES], scores1);
	assert_int_equal(atoi(v->versions[SNAP_V_CONFIG]), gen1 + 1);
	assert_string_not_equal(v->version, ver1);
	msg_end(&m);
	snap_unref(&s);

	/* A description changed: the rule set, not the weights. */
	s = rules_snap(redescribed);
	m = t_scan(s, bad_headers, &v);
	assert_string_not_equal(v->versions[SNAP_V_RULES], rules1);
	assert_string_equal(v->versions[SNAP_V_SCORES], scores1);
	msg_end(&m);
	snap_unref(&s);

	/* A score changed (indented: blanks do not count): the weights. */
	s = rules_snap(rescored);
	m = t_scan(s, bad_headers, &v);
	assert_string_not_equal(v->versions[SNAP_V_SCORES], scores1);
	assert_non_null(strstr(verdict_versions_json(m, v), "\"combined\": \""));
	msg_end(&m);
	snap_unref(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_tag_reject),
		cmocka_unit_test(test_subject_rewrite),
		cmocka_unit_test(test_forced_action_wins_when_stricter),
		cmocka_unit_test(test_failure_policy),
		cmocka_unit_test(test_oversize_passes_unscanned),
		cmocka_unit_test(test_oversize_scanned_truncated),
		cmocka_unit_test(test_spill_same_verdict),
		cmocka_unit_test(test_raw_is_crlf),
		cmocka_unit_test(test_header_leading_blanks_kept),
		cmocka_unit_test(test_trusted_skips_content),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_folded_field_linear),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_score_table),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_shadow_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
