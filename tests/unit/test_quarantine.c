/*
 * test_quarantine.c - the quarantine store and release tokens on a real
 * folder and a real SQLite index: messages go through scan_buffer() like
 * vigilctl scan, then quarantine_put() as the milter calls it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "mime.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "snap.h"
#include "verdict.h"

static const char spam_msg[] =
	"From: Prize Office <prize@bad.example>\n"
	"To: Alice <alice@example.org>\n"
	"Subject: =?UTF-8?B?WW91IGhhdmUgd29uIOKCrDEwMA==?=\n"
	"Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
	"Message-ID: <prize@bad.example>\n"
	"\n"
	"Claim your prize.\n"
	"\x1b[31mred\x1b[0m\n";

struct fixture {
	char		 dir[256];
	char		 qdir[300];
	struct cfg	*cfg;
	struct snap	*snap;
};

static void
rm_tree(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A snapshot whose QuarantineDir is a fresh folder; extra overrides. */
static struct fixture *
fixture_new(const char *extra1, const char *extra2)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *ov[5];
	size_t n = 0;
	char *err = NULL, *qopt;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/vigil-q-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->qdir, sizeof(f->qdir), "%s/q", f->dir);
	assert_true(asprintf(&qopt, "QuarantineDir=%s", f->qdir) > 0);
	ov[n++] = qopt;
	ov[n++] = "Checks=policy,headers";	/* no DNS from the other checks */
	if (extra1 != NULL)
		ov[n++] = extra1;
	if (extra2 != NULL)
		ov[n++] = extra2;
	f->cfg = cfg_load(NULL, ov, n, &err);
	if (f->cfg == NULL)
		fail_msg("cfg_load: %s", err);
	f->snap = snap_build(f->cfg, &err);	/* takes its own reference */
	if (f->snap == NULL)
		fail_msg("snap_build: %s", err);
	free(qopt);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	snap_unref(&f->snap);
	cfg_unref(&f->cfg);
	rm_tree(f->dir);
	free(f);
}

static struct msg *
scan(struct fixture *f, const char *text, const char *from,
    const struct verdict **v_r)
{
	static const char *const rcpts[] = { "alice@example.org",
	    "bob@example.net" };
	struct scan_env env = {
		.client_addr = "192.0.2.7", .client_name = "mx.bad.example",
		.helo = "mx.bad.example", .mail_from = from, .rcpts = rcpts,
		.nrcpts = 2, .queue_id = "4ZabcQ1",
	};

	return scan_buffer(f->snap, &env, (const unsigned char *)text,
	    strlen(text), "t0000001", v_r);
}

/* Stores one message as the milter would for a verdict with reason;
 * returns its id (malloc'd). */
static char *
put_reason(struct fixture *f, const char *from, const char *reason)
{
	const struct verdict *sv;
	struct msg *m = scan(f, spam_msg, from, &sv);
	struct verdict v = *sv;
	const char *id = NULL, *err = NULL;
	char *r;

	v.action = ACTION_QUARANTINE;
	v.reason = reason;
	if (!quarantine_put(m, &v, &id, &err))
		fail_msg("quarantine_put: %s", err);
	r = strdup(id);
	msg_end(&m);
	return r;
}

static char *
put(struct fixture *f, const char *from)
{
	return put_reason(f, from, "spam");
}

static void
test_id_validation(void **unused)
{
	static const struct { const char *id; bool ok; } cases[] = {
		{ "0123456789abcdef0123456789abcdef", true },
		{ "0123456789ABCDEF0123456789abcdef", false },
		{ "0123456789abcdef0123456789abcde", false },
		{ "0123456789abcdef0123456789abcdef0", false },
		{ "../../../../../../../../etc/passw", false },
		{ "0123456789abcdef/123456789abcdef", false },
		{ "", false },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		if (quarantine_id_is_valid(cases[i].id) != cases[i].ok)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].id,
			    cases[i].ok);
	assert_false(quarantine_id_is_valid(NULL));
}

static void
test_put_and_get(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char *id = put(f, "prize@bad.example");
	char path[512], *err = NULL;
	const struct qentry *e;
	const unsigned char *raw;
	struct qstore *q;
	struct stat st;
	size_t len;

	assert_true(quarantine_id_is_valid(id));
	snprintf(path, sizeof(path), "%s/%s.eml", f->qdir, id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/index.sqlite", f->qdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	q = quarantine_open(f->cfg, false, &err);
	if (q == NULL)
		fail_msg("open: %s", err);
	e = quarantine_get(q, id);
	if (e == NULL)
		fail_msg("get: %s", quarantine_error(q));
	assert_string_equal(e->sender, "prize@bad.example");
	assert_int_equal(e->nrcpts, 2);
	assert_string_equal(e->rcpts[0], "alice@example.org");
	assert_string_equal(e->rcpts[1], "bob@example.net");
	assert_string_equal(e->client, "192.0.2.7");
	assert_string_equal(e->queue_id, "4ZabcQ1");
	assert_string_equal(e->subject, "You have won \xe2\x82\xac" "100");
	assert_true(e->time > 0 && llabs(e->time - (int64_t)time(NULL)) < 60);
	raw = quarantine_read(q, id, &len);
	assert_non_null(raw);
	assert_int_equal((int64_t)len, e->size);
	assert_non_null(strstr((const char *)raw, "Claim your prize.\r\n"));
	assert_int_equal(e->released, 0);

	/* Unknown and invalid ids say so. */
	assert_null(quarantine_get(q, "0123456789abcdef0123456789abcdef"));
	assert_non_null(strstr(quarantine_error(q), "no quarantine entry"));
	assert_null(quarantine_get(q, "../index.sqlite"));
	assert_non_null(strstr(quarantine_error(q), "not a quarantine id"));
	assert_null(quarantine_read(q, "../index", &len));
	quarantine_close(&q);
	assert_null(q);
	free(id);
	fixture_free(f);
}

static void
test_list_filters(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char *a = put(f, "prize@bad.example");
	char *b = put(f, "news@letters.example"), *c;
	const struct qentry **v;
	struct qfilter flt;
	struct qstore *q;
	char *err = NULL, *buf = NULL;
	size_t n, blen = 0;
	FILE *out;

	q = quarantine_open(f->cfg, false, &err);
	assert_non_null(q);
	assert_true(quarantine_list(q, NULL, &v, &n));
	assert_int_equal(n, 2);

	memset(&flt, 0, sizeof(flt));
	flt.sender = "LETTERS";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, b);

	memset(&flt, 0, sizeof(flt));
	flt.rcpt = "bob@";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 2);
	flt.rcpt = "carol@";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);

	memset(&flt, 0, sizeof(flt));
	flt.since = (int64_t)time(NULL) + 3600;
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);
	flt.since = (int64_t)time(NULL) - 3600;
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 2);

	memset(&flt, 0, sizeof(flt));
	flt.has_min_score = true;
	flt.min_score = 1e6;
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);

	memset(&flt, 0, sizeof(flt));
	flt.reason = "virus";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);

	/* policy: every reason but spam and virus. */
	c = put_reason(f, "dmarc@bad.example", "dmarc");
	flt.reason = "policy";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, c);
	flt.reason = "dmarc";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	flt.reason = "spam";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 2);
	assert_true(quarantine_delete(q, c));
	free(c);

	/* JSON: one object a line, escaped by SQLite. */
	out = open_memstream(&buf, &blen);
	assert_true(quarantine_list_json(q, NULL, out));
	fclose(out);
	assert_non_null(strstr(buf, a));
	assert_non_null(strstr(buf, "\"rcpts\":[\"alice@example.org\","
	    "\"bob@example.net\"]"));
	assert_non_null(strchr(buf, '\n'));
	assert_non_null(strchr(strchr(buf, '\n') + 1, '\n'));
	free(buf);

	/* Delete one: its message goes, its row stays, marked deleted with
	 * when and by whom, out of every list but the one that asks. */
	assert_true(quarantine_delete_by(q, a, "vigilctl (user test)"));
	assert_false(quarantine_delete(q, a));
	assert_non_null(strstr(quarantine_error(q), "already deleted"));
	assert_null(quarantine_get(q, a));
	assert_non_null(strstr(quarantine_error(q), "was deleted"));
	{
		const struct qentry *e = quarantine_get_any(q, a);
		char path[512];
		FILE *st;

		assert_non_null(e);
		assert_true(e->deleted >= (int64_t)time(NULL) - 60);
		assert_string_equal(e->deleted_by, "vigilctl (user test)");
		assert_string_equal(e->sender, "prize@bad.example");
		snprintf(path, sizeof(path), "%s/%s.eml", f->qdir, a);
		assert_int_equal(access(path, F_OK), -1);
		assert_null(quarantine_read(q, a, &blen));
		buf = NULL;
		st = open_memstream(&buf, &blen);
		assert_true(quarantine_write_stats(q, st));
		fclose(st);
		assert_non_null(strstr(buf, "quarantine.entries 1\n"));
		assert_non_null(strstr(buf, "quarantine.deleted 2\n"));
		free(buf);
	}
	assert_true(quarantine_list(q, NULL, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, b);
	flt = (struct qfilter){ .with_deleted = true };
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 3);
	buf = NULL;
	out = open_memstream(&buf, &blen);
	assert_true(quarantine_list_json(q, &flt, out));
	fclose(out);
	assert_non_null(strstr(buf, "\"state\":\"deleted\""));
	assert_non_null(strstr(buf, "\"deleted_by\":\"vigilctl (user test)\""));
	assert_non_null(strstr(buf, "\"state\":\"held\""));
	free(buf);

	/* Purge removes for good whatever is older, deleted rows too. */
	assert_true(quarantine_purge(q, (int64_t)time(NULL) - 3600, &n));
	assert_int_equal(n, 0);
	assert_true(quarantine_purge(q, (int64_t)time(NULL) + 1, &n));
	assert_int_equal(n, 3);
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);
	quarantine_close(&q);
	free(a);
	free(b);
	fixture_free(f);
}

/* Disk full (here: the file size limit): false, no file, no entry. */
static void
test_put_disk_full(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char *first = put(f, "prize@bad.example");	/* the index exists */
	struct rlimit old, lim = { 64, 64 };
	const struct verdict *v;
	const char *id = NULL, *err = NULL;
	const struct qentry **list;
	struct msg *m = scan(f, spam_msg, "full@bad.example", &v);
	struct qstore *q;
	char *oerr = NULL, cmd[512];
	size_t n;
	bool ok;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ok = quarantine_put(m, v, &id, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_false(ok);
	assert_non_null(strstr(err, "write"));
	msg_end(&m);
	/* Only the first message's file is there. */
	snprintf(cmd, sizeof(cmd), "test $(ls '%s' | grep -c '\\.eml$') = 1",
	    f->qdir);
	assert_int_equal(system(cmd), 0);
	q = quarantine_open(f->cfg, false, &oerr);
	assert_non_null(q);
	assert_true(quarantine_list(q, NULL, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->id, first);
	quarantine_close(&q);
	free(first);
	fixture_free(f);
}

/* A broken index: false with the index named, and the file removed. */
static void
test_put_index_error(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	const struct verdict *v;
	const char *id = NULL, *err = NULL;
	struct msg *m = scan(f, spam_msg, "x@bad.example", &v);
	char path[512], cmd[512];
	FILE *fp;

	assert_int_equal(mkdir(f->qdir, 0700), 0);
	snprintf(path, sizeof(path), "%s/index.sqlite", f->qdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all\n", fp);
	fclose(fp);
	assert_false(quarantine_put(m, v, &id, &err));
	assert_non_null(strstr(err, "index"));
	msg_end(&m);
	snprintf(cmd, sizeof(cmd), "test $(ls '%s' | grep -c '\\.eml$') = 0",
	    f->qdir);
	assert_int_equal(system(cmd), 0);
	fixture_free(f);
}

static void
test_tokens(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	struct arena *a = arena_new("test");
	struct release_key key, other;
	const char *err = NULL, *id = NULL, *nonce = NULL, *tok;
	static const char body_crlf[] = "line one\r\nline two\r\n\r\n";
	static const char body_lf[] = "line one\nline two\n";
	static const char body_changed[] = "line one\nline 2\n";
	static const char *const rcpts[] = { "alice@example.org",
	    "<Bob@Example.NET>" };
	static const char *const rcpts_other_order[] = { "bob@example.net",
	    "Alice@example.org" };
	static const char *const rcpts_more[] = { "alice@example.org",
	    "bob@example.net", "mallory@evil.example" };
	const int64_t WEEK = 7 * 86400, now = (int64_t)time(NULL);
	const char *qid = "00112233445566778899aabbccddeeff";
	const char *n1 = "ffeeddccbbaa99887766554433221100";
	char *oerr = NULL, *bad;
	struct qstore *q;

	/* No key yet: loading without create fails, with create makes one. */
	assert_false(release_key_load(a, f->cfg, false, &key, &err));
	assert_non_null(strstr(err, "release.key"));
	assert_int_equal(mkdir(f->qdir, 0700), 0);
	assert_true(release_key_load(a, f->cfg, true, &key, &err));
	assert_int_equal(key.len, 32);
	assert_true(release_key_load(a, f->cfg, false, &other, &err));
	assert_memory_equal(key.bytes, other.bytes, 32);

	tok = release_token_make(a, &key, qid, n1, now, rcpts, 2,
	    (const unsigned char *)body_crlf, strlen(body_crlf));
	/* CRLF or LF, trailing empty lines: the same body. */
	assert_int_equal(release_token_verify(a, &key, tok, rcpts_other_order, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_VALID);
	assert_string_equal(id, qid);
	assert_string_equal(nonce, n1);
	assert_int_equal(release_token_verify(a, &key, tok, rcpts, 2,
	    (const unsigned char *)body_changed, strlen(body_changed), now,
	    WEEK, &id, &nonce), RELEASE_BAD_MAC);
	other.bytes[0] ^= 1;
	assert_int_equal(release_token_verify(a, &other, tok, rcpts, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_BAD_MAC);
	/* Another id under the same MAC. */
	bad = arena_strdup(a, tok);
	memcpy(strstr(bad, "id=") + 3, "1", 1);
	assert_int_equal(release_token_verify(a, &key, bad, rcpts, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_BAD_MAC);
	assert_int_equal(release_token_verify(a, &key, "v=2; id=../x",
	    rcpts, 2, (const unsigned char *)body_lf, strlen(body_lf), now,
	    WEEK, &id, &nonce), RELEASE_MALFORMED);
	assert_int_equal(release_token_verify(a, &key, "", rcpts, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_MALFORMED);

	/*
	 * issue 15.11: the signed issue time was never checked, and the
	 * token was not bound to the recipients.  A copy to anyone else, or
	 * one that comes back after the lifetime, gets no pass.
	 */
	assert_int_equal(release_token_verify(a, &key, tok, rcpts_more, 3,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_BAD_MAC);
	assert_int_equal(release_token_verify(a, &key, tok, rcpts, 1,
	    (const unsigned char *)body_lf, strlen(body_lf), now, WEEK, &id,
	    &nonce), RELEASE_BAD_MAC);
	assert_int_equal(release_token_verify(a, &key, tok, rcpts, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now + WEEK + 1,
	    WEEK, &id, &nonce), RELEASE_EXPIRED);
	assert_int_equal(release_token_verify(a, &key, tok, rcpts, 2,
	    (const unsigned char *)body_lf, strlen(body_lf), now + WEEK,
	    WEEK, &id, &nonce), RELEASE_VALID);

	/* Single use. */
	q = quarantine_open(f->cfg, true, &oerr);
	assert_non_null(q);
	assert_int_equal(quarantine_token_consume(q, qid, n1), 0);
	assert_true(quarantine_token_issue(q, qid, n1, 1700000000));
	assert_int_equal(quarantine_token_consume(q, "ffffffffffffffffffffffffffffffff", n1), 0);
	assert_int_equal(quarantine_token_consume(q, qid, n1), 1);
	assert_int_equal(quarantine_token_consume(q, qid, n1), 0);
	quarantine_close(&q);
	arena_free(&a);
	fixture_free(f);
}

/* release_send with a sendmail that records its argv and input. */
static void
test_release_send(void **unused)
{
	struct fixture *f;
	struct arena *a = arena_new("test");
	const char *srcdir = getenv("top_srcdir");
	char *cmdopt, *id, cap[512], *oerr = NULL, *buf;
	const char *err = NULL, *tid, *tnonce, *hdr, *end;
	const struct qentry *e;
	const unsigned char *body;
	struct release_key key;
	struct qstore *q;
	size_t len, blen;
	FILE *fp;

	assert_true(asprintf(&cmdopt, "SendmailCommand=%s/tests/data/"
	    "quarantine/capture-sendmail -x", srcdir != NULL ? srcdir : ".")
	    > 0);
	f = fixture_new(cmdopt, NULL);
	id = put(f, "prize@bad.example");
	snprintf(cap, sizeof(cap), "%s/capture", f->dir);
	setenv("VIGIL_CAPTURE", cap, 1);
	q = quarantine_open(f->cfg, false, &oerr);
	assert_non_null(q);
	e = quarantine_get(q, id);
	assert_non_null(e);
	if (!release_send(a, q, e, NULL, 0, &err))
		fail_msg("release_send: %s", err);

	/* argv: the command's words, then the envelope after "--". */
	fp = fopen(arena_printf(a, "%s.args", cap), "r");
	assert_non_null(fp);
	buf = calloc(1, 4096);
	assert_true(fread(buf, 1, 4095, fp) > 0);
	fclose(fp);
	assert_string_equal(buf, "-x\n-i\n-f\nprize@bad.example\n--\n"
	    "alice@example.org\nbob@example.net\n");

	/* The message: our token first, LF line ends, body unchanged. */
	fp = fopen(arena_printf(a, "%s.msg", cap), "r");
	assert_non_null(fp);
	memset(buf, 0, 4096);
	len = fread(buf, 1, 4095, fp);
	fclose(fp);
	assert_true(len > 0);
	assert_null(strchr(buf, '\r'));
	assert_true(strncmp(buf, "X-Vigil-Release: v=2; id=", 25) == 0);
	end = strchr(buf, '\n');
	hdr = arena_strndup(a, buf + 17, (size_t)(end - buf - 17));
	body = release_body((const unsigned char *)buf, len, &blen);
	assert_true(release_key_load(a, f->cfg, false, &key, &err));
	{
		const char *rc[] = { "alice@example.org", "bob@example.net" };

		assert_int_equal(release_token_verify(a, &key, hdr, rc, 2,
		    body, blen, (int64_t)time(NULL), 86400, &tid, &tnonce),
		    RELEASE_VALID);
	}
	assert_string_equal(tid, id);
	assert_int_equal(quarantine_token_consume(q, tid, tnonce), 1);
	e = quarantine_get(q, id);
	assert_true(e->released > 0);

	/* --to, and a second release carries a new token. */
	{
		const char *to[] = { "admin@example.org" };

		assert_true(release_send(a, q, e, to, 1, &err));
		fp = fopen(arena_printf(a, "%s.args", cap), "r");
		memset(buf, 0, 4096);
		assert_true(fread(buf, 1, 4095, fp) > 0);
		fclose(fp);
		assert_non_null(strstr(buf, "--\nadmin@example.org\n"));
		assert_null(strstr(buf, "alice"));
	}
	quarantine_close(&q);
	free(buf);
	free(id);
	free(cmdopt);
	fixture_free(f);
	arena_free(&a);
}

/* A sendmail that fails: an error naming it, the entry not released. */
static void
test_release_fails(void **unused)
{
	struct fixture *f = fixture_new("SendmailCommand=/bin/false", NULL);
	struct arena *a = arena_new("test");
	char *id = put(f, "prize@bad.example"), *oerr = NULL;
	const char *err = NULL;
	const struct qentry *e;
	struct qstore *q;

	q = quarantine_open(f->cfg, false, &oerr);
	assert_non_null(q);
	e = quarantine_get(q, id);
	assert_false(release_send(a, q, e, NULL, 0, &err));
	assert_non_null(strstr(err, "/bin/false exited with status 1"));
	e = quarantine_get(q, id);
	assert_int_equal(e->released, 0);
	quarantine_close(&q);
	free(id);
	arena_free(&a);
	fixture_free(f);
}

static void
test_false_positives(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char *oerr = NULL, *buf = NULL;
	struct qhit hits[] = { { "RULE_A", 2.5, "" }, { "RULE_B", -1, "" },
	    { "RULE_C", 0.5, "" } };
	struct qentry e = { .id = "00112233445566778899aabbccddeeff",
	    .hits = hits, .nhits = 3 };
	struct qstore *q = quarantine_open(f->cfg, true, &oerr);
	size_t blen = 0;
	FILE *out;

	assert_non_null(q);
	assert_true(quarantine_record_fp(q, &e));
	assert_true(quarantine_record_fp(q, &e));
	out = open_memstream(&buf, &blen);
	assert_true(quarantine_write_stats(q, out));
	fclose(out);
	assert_non_null(strstr(buf, "quarantine.false_positives.RULE_A 2\n"));
	assert_non_null(strstr(buf, "quarantine.false_positives.RULE_C 2\n"));
	assert_null(strstr(buf, "RULE_B"));
	free(buf);
	quarantine_close(&q);
	fixture_free(f);
}

/* What `quarantine show` previews: decoded text of every text part. */
static void
test_preview_text(void **unused)
{
	static const char qp[] =
		"From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=\"XX\"\r\n\r\n"
		"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"Caf=E9 au lait\r\n"
		"--XX\r\nContent-Type: text/html\r\n\r\n"
		"<p>html <b>part</b></p>\r\n--XX--\r\n";
	struct arena *a = arena_new("test");
	size_t len = 0;
	char *t = mime_body_text(a, (const unsigned char *)qp, strlen(qp),
	    &len);

	assert_non_null(t);
	assert_non_null(strstr(t, "Caf\xc3\xa9 au lait"));
	assert_non_null(strstr(t, "html part"));
	assert_null(strstr(t, "<b>"));
	arena_free(&a);
}

/* purge also removes old files that never got an index row. */
static void
test_purge_orphans(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char *id = put(f, "prize@bad.example"), *oerr = NULL;
	char old[512], fresh[512];
	struct timespec ts[2] = { { .tv_sec = 1000000000 },
	    { .tv_sec = 1000000000 } };
	struct qstore *q;
	size_t n;
	FILE *fp;

	snprintf(old, sizeof(old), "%s/%s.eml", f->qdir,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(fresh, sizeof(fresh), "%s/%s.eml", f->qdir,
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	fp = fopen(old, "w");
	fputs("orphan\n", fp);
	fclose(fp);
	assert_int_equal(utimensat(AT_FDCWD, old, ts, 0), 0);
	fp = fopen(fresh, "w");
	fputs("orphan\n", fp);
	fclose(fp);
	q = quarantine_open(f->cfg, false, &oerr);
	assert_non_null(q);
	assert_true(quarantine_purge(q, (int64_t)time(NULL) - 3600, &n));
	assert_int_equal(n, 0);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	/* The indexed entry is untouched. */
	assert_non_null(quarantine_get(q, id));
	quarantine_close(&q);
	free(id);
	fixture_free(f);
}

/* As root (vigilctl), a new key belongs to the folder's owner (the
 * daemon's user), or the filter could not read it. */
static void
test_key_owner(void **unused)
{
	struct fixture *f;
	struct arena *a;
	struct release_key key;
	const char *err = NULL;
	char path[512];
	struct stat st;

	if (geteuid() != 0)
		skip();
	f = fixture_new(NULL, NULL);
	a = arena_new("test");
	assert_int_equal(mkdir(f->qdir, 0700), 0);
	assert_int_equal(chown(f->qdir, 65534, 65534), 0);
	assert_true(release_key_load(a, f->cfg, true, &key, &err));
	snprintf(path, sizeof(path), "%s/release.key", f->qdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_mode & 0777, 0600);
	arena_free(&a);
	fixture_free(f);
}

/*
 * Whoever can read the key can sign releases: a key file that group or
 * others may read or write is refused with the reason, as one owned by
 * another user (not root) when we are not root.
 */
static void
test_key_mode(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	struct arena *a = arena_new("test");
	struct release_key key;
	const char *err = NULL;
	char path[512];
	int status;
	pid_t pid;

	assert_int_equal(mkdir(f->qdir, 0700), 0);
	assert_true(release_key_load(a, f->cfg, true, &key, &err));
	snprintf(path, sizeof(path), "%s/release.key", f->qdir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_false(release_key_load(a, f->cfg, false, &key, &err));
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_false(release_key_load(a, f->cfg, false, &key, &err));
	assert_non_null(strstr(err, "group or others"));
	assert_int_equal(chmod(path, 0400), 0);
	assert_true(release_key_load(a, f->cfg, false, &key, &err));
	if (geteuid() == 0) {
		/* Another user's key, read as nobody: refused for its owner. */
		assert_int_equal(chmod(f->dir, 0711), 0);
		assert_int_equal(chmod(f->qdir, 0711), 0);
		assert_int_equal(chown(path, 1, 1), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			bool ok;

			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(2);
			ok = release_key_load(a, f->cfg, false, &key, &err);
			_exit(!ok && strstr(err, "owned by uid 1") != NULL ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	arena_free(&a);
	fixture_free(f);
}

/* An index as version 1 wrote it: entries without versions. */
static const char schema_v1[] =
	"CREATE TABLE entries ("
	" id TEXT PRIMARY KEY, time INTEGER NOT NULL, queue_id TEXT,"
	" client TEXT, sender TEXT, subject TEXT, score REAL, reason TEXT,"
	" action TEXT, size INTEGER, released INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX entries_time ON entries(time);"
	"CREATE TABLE rcpts (id TEXT NOT NULL REFERENCES entries(id)"
	" ON DELETE CASCADE, n INTEGER NOT NULL, addr TEXT NOT NULL);"
	"CREATE TABLE hits (id TEXT NOT NULL REFERENCES entries(id)"
	" ON DELETE CASCADE, n INTEGER NOT NULL, name TEXT NOT NULL,"
	" score REAL, detail TEXT);"
	"CREATE TABLE tokens (nonce TEXT PRIMARY KEY, id TEXT NOT NULL,"
	" issued INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE false_positives (rule TEXT PRIMARY KEY,"
	" count INTEGER NOT NULL);"
	"INSERT INTO entries (id, time, queue_id, client, sender, subject,"
	" score, reason, action, size) VALUES"
	" ('0123456789abcdef0123456789abcdef', 1700000000, 'Q1', '192.0.2.9',"
	" 'old@example.org', 'old', 9.0, 'spam', 'quarantine', 10);"
	"PRAGMA user_version = 1;";

static int
index_version(const char *qdir)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	snprintf(path, sizeof(path), "%s/index.sqlite", qdir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A store from before verdict versions: upgraded in place when the
 * milter (or vigilctl) opens it; old entries keep working, new ones
 * carry the versions their verdict was made with. */
static void
test_schema_upgrade_versions(void **unused)
{
	struct fixture *f = fixture_new(NULL, NULL);
	char path[512], *err = NULL, *id;
	sqlite3 *db;
	struct qstore *q;
	const struct qentry *e;
	char *json = NULL;
	size_t len = 0;
	FILE *out;

	(void)unused;
	assert_int_equal(mkdir(f->qdir, 0700), 0);
	snprintf(path, sizeof(path), "%s/index.sqlite", f->qdir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	/* vigilctl's read-only use upgrades too. */
	q = quarantine_open(f->cfg, false, &err);
	if (q == NULL)
		fail_msg("quarantine_open: %s", err);
	assert_int_equal(index_version(f->qdir), 3);
	e = quarantine_get(q, "0123456789abcdef0123456789abcdef");
	assert_non_null(e);
	assert_string_equal(e->sender, "old@example.org");
	assert_null(e->versions);
	assert_int_equal(e->deleted, 0);
	quarantine_close(&q);

	id = put(f, "prize@bad.example");
	q = quarantine_open(f->cfg, false, &err);
	assert_non_null(q);
	e = quarantine_get(q, id);
	assert_non_null(e);
	assert_non_null(e->versions);
	assert_non_null(strstr(e->versions, "\"config\": \""));
	assert_non_null(strstr(e->versions, "\"combined\": \""));
	out = open_memstream(&json, &len);
	assert_true(quarantine_list_json(q, NULL, out));
	fclose(out);
	/* JSON objects in the listing, null for the old entry. */
	assert_non_null(strstr(json, "\"versions\":{\"rules\":"));
	assert_non_null(strstr(json, "\"versions\":null"));
	free(json);
	/* The old entry can be deleted (the version 3 columns are there). */
	assert_true(quarantine_delete(q, "0123456789abcdef0123456789abcdef"));
	e = quarantine_get_any(q, "0123456789abcdef0123456789abcdef");
	assert_non_null(e);
	assert_true(e->deleted > 0);
	assert_string_equal(e->deleted_by, "vigilctl");
	quarantine_close(&q);
	free(id);
	fixture_free(f);
}

/* A QuarantineDB libpq cannot read is refused when the configuration
 * is loaded (vigil -n, start, reload), not at the first quarantined
 * message; the error names the option, never the URI (a password). */
static void
test_db_uri_checked_at_load(void **state)
{
	static const char *const bad[] = {
		"QuarantineDB=mysql://vigil:s3cret@db/vigil",
		"QuarantineDB=postgresql://vigil:s3cret@db/vigil?nosuch=1",
	};
	static const char *const good[] = {
		"QuarantineDB=postgresql://vigil:s3cret@db.example:5432/vigil"
		    "?connect_timeout=5",
	};
	struct cfg *c;
	struct snap *s;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cfg_load(NULL, &bad[i], 1, &err);
		assert_non_null(c);
		s = snap_build(c, &err);
		assert_null(s);
		assert_non_null(err);
		assert_non_null(strstr(err, "QuarantineDB: "));
		assert_null(strstr(err, "s3cret"));
		free(err);
		err = NULL;
		cfg_unref(&c);
	}
	c = cfg_load(NULL, good, 1, &err);
	assert_non_null(c);
	s = snap_build(c, &err);	/* no connection is made here */
	if (s == NULL)
		fail_msg("snap_build: %s", err);
	snap_unref(&s);
	cfg_unref(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_validation),
		cmocka_unit_test(test_put_and_get),
		cmocka_unit_test(test_list_filters),
		cmocka_unit_test(test_put_disk_full),
		cmocka_unit_test(test_put_index_error),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_release_send),
		cmocka_unit_test(test_release_fails),
		cmocka_unit_test(test_false_positives),
		cmocka_unit_test(test_preview_text),
		cmocka_unit_test(test_purge_orphans),
		cmocka_unit_test(test_key_owner),
		cmocka_unit_test(test_key_mode),
		cmocka_unit_test(test_schema_upgrade_versions),
		cmocka_unit_test(test_db_uri_checked_at_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
