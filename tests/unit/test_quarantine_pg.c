/*
 * test_quarantine_pg.c - the quarantine on a real PostgreSQL
 * (QuarantineDB), started by test_quarantine_pg.sh, which passes its URI
 * in VIGIL_TEST_PG_URI.  Each test gets a schema of its own (the URI's
 * search_path), so the tests share one server and nothing else.
 * Messages go through scan_buffer() like vigilctl scan, then
 * quarantine_put() as the milter calls it.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "cfg.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
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
	"Bytes that are not UTF-8: \xff\xfe\n";

static const char *base_uri;
static int schema_seq;

struct fixture {
	char		 schema[64];
	char		 dir[256];
	char		*uri;
	struct cfg	*cfg;
	struct snap	*snap;
};

/* Runs sql on the base database; fails the test on error. */
static void
sql(const char *uri, const char *q)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", uri, PQerrorMessage(c));
	r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

/* The first column of the first row of q as a number. */
static long
sql_num(const char *uri, const char *q)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r = PQexec(c, q);
	long v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* A snapshot whose QuarantineDB is a fresh schema of the test server. */
static struct fixture *
fixture_new_opt(const char *uri_override, const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *ov[5];
	size_t nov = 3;
	char *err = NULL, *opt, *ddl, *qdir;

	assert_non_null(f);
	snprintf(f->schema, sizeof(f->schema), "t%d_%ld", ++schema_seq,
	    (long)getpid());
	assert_true(asprintf(&ddl, "CREATE SCHEMA %s", f->schema) > 0);
	sql(base_uri, ddl);
	free(ddl);
	assert_true(asprintf(&f->uri, "%s?options=-csearch_path%%3D%s",
	    base_uri, f->schema) > 0);
	snprintf(f->dir, sizeof(f->dir), "%s/vigil-qpg-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&opt, "QuarantineDB=%s", uri_override != NULL ?
	    uri_override : f->uri) > 0);
	assert_true(asprintf(&qdir, "QuarantineDir=%s/q", f->dir) > 0);
	ov[0] = opt;
	ov[1] = qdir;
	ov[2] = "Checks=policy,headers";
	if (extra != NULL)
		ov[nov++] = extra;
	f->cfg = cfg_load(NULL, ov, nov, &err);
	if (f->cfg == NULL)
		fail_msg("cfg_load: %s", err);
	f->snap = snap_build(f->cfg, &err);
	if (f->snap == NULL)
		fail_msg("snap_build: %s", err);
	free(opt);
	free(qdir);
	return f;
}

static struct fixture *
fixture_new_uri(const char *uri_override)
{
	return fixture_new_opt(uri_override, NULL);
}

static struct fixture *
fixture_new(void)
{
	return fixture_new_uri(NULL);
}

static void
fixture_free(struct fixture *f)
{
	char cmd[512];

	snap_unref(&f->snap);
	cfg_unref(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->uri);
	free(f);
}

static struct msg *
scan(struct fixture *f, const char *from, const struct verdict **v_r)
{
	static const char *const rcpts[] = { "alice@example.org",
	    "bob@example.net" };
	struct scan_env env = {
		.client_addr = "192.0.2.7", .client_name = "mx.bad.example",
		.helo = "mx.bad.example", .mail_from = from, .rcpts = rcpts,
		.nrcpts = 2, .queue_id = "4ZabcQ1",
	};

	return scan_buffer(f->snap, &env, (const unsigned char *)spam_msg,
	    strlen(spam_msg), "t0000001", v_r);
}

/* Stores one message as the milter does; its id (malloc'd), or NULL with
 * the error in *err_r (malloc'd) when want_fail. */
static char *
put_reason(struct fixture *f, const char *from, const char *reason,
    double score, char **err_r)
{
	const struct verdict *sv;
	struct msg *m = scan(f, from, &sv);
	struct verdict v = *sv;
	const char *id = NULL, *err = NULL;
	char *r = NULL;

	v.action = ACTION_QUARANTINE;
	v.reason = reason;
	v.score = score;
	msg_add_hit(m, "TEST_RULE", 2.5, "detail \xc3");
	if (quarantine_put(m, &v, &id, &err))
		r = strdup(id);
	else if (err_r != NULL)
		*err_r = strdup(err);
	else
		fail_msg("quarantine_put: %s", err);
	msg_end(&m);
	return r;
}

static char *
put(struct fixture *f, const char *from)
{
	return put_reason(f, from, "spam", 12.5, NULL);
}

static struct qstore *
open_store(struct fixture *f)
{
	char *err = NULL;
	struct qstore *q = quarantine_open(f->cfg, false, &err);

	if (q == NULL)
		fail_msg("quarantine_open: %s", err);
	return q;
}

/* What the milter stores is what vigilctl gets back: the fields, the
 * hits, and the message byte for byte (bodies are compressed). */
static void
test_put_get_read(void **unused)
{
	struct fixture *f = fixture_new();
	char *id = put(f, "prize@bad.\xff" "example");
	const struct verdict *sv;
	struct msg *m = scan(f, "x@y", &sv);
	const unsigned char *raw, *want;
	const struct qentry *e;
	struct qstore *q = open_store(f);
	char *q1;
	size_t len, wlen;

	assert_true(quarantine_id_is_valid(id));
	e = quarantine_get(q, id);
	if (e == NULL)
		fail_msg("get: %s", quarantine_error(q));
	/* Not UTF-8 in, U+FFFD out: the row is accepted, not refused. */
	assert_string_equal(e->sender, "prize@bad.\xef\xbf\xbd" "example");
	assert_int_equal(e->nrcpts, 2);
	assert_string_equal(e->rcpts[0], "alice@example.org");
	assert_string_equal(e->rcpts[1], "bob@example.net");
	assert_string_equal(e->client, "192.0.2.7");
	assert_string_equal(e->queue_id, "4ZabcQ1");
	assert_string_equal(e->subject, "You have won \xe2\x82\xac" "100");
	assert_string_equal(e->reason, "spam");
	assert_true(e->score == 12.5);
	assert_int_equal(e->released, 0);
	assert_true(llabs(e->time - (int64_t)time(NULL)) < 60);
	assert_true(e->nhits >= 1);
	assert_string_equal(e->hits[e->nhits - 1].name, "TEST_RULE");
	assert_string_equal(e->hits[e->nhits - 1].detail,
	    "detail \xef\xbf\xbd");
	assert_null(quarantine_path(q, id));

	raw = quarantine_read(q, id, &len);
	if (raw == NULL)
		fail_msg("read: %s", quarantine_error(q));
	want = msg_raw(m, &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(raw, want, len);
	assert_int_equal((int64_t)len, e->size);
	assert_non_null(memmem(raw, len, "\xff\xfe", 2));
	/* Stored compressed: fewer bytes in the row than in the message
	 * would not hold for so short a message, but the column is not
	 * the message's text. */
	assert_true(asprintf(&q1, "SELECT count(*) FROM %s.vigil_entries"
	    " WHERE body_size = %zu AND position('Claim'::bytea in body) = 0",
	    f->schema, len) > 0);
	assert_int_equal(sql_num(base_uri, q1), 1);
	free(q1);

	assert_null(quarantine_get(q, "0123456789abcdef0123456789abcdef"));
	assert_non_null(strstr(quarantine_error(q), "no quarantine entry"));
	assert_null(quarantine_get(q, "../x"));
	quarantine_close(&q);
	msg_end(&m);
	free(id);
	fixture_free(f);
}

static void
test_list_filters_json(void **unused)
{
	struct fixture *f = fixture_new();
	char *a = put_reason(f, "prize@bad.example", "spam", 12.5, NULL);
	char *b = put_reason(f, "news@letters.example", "dmarc", 3, NULL);
	char *c = put_reason(f, "x@virus.example", "virus", 100, NULL);
	const struct qentry **v;
	struct qfilter flt;
	struct qstore *q = open_store(f);
	char *buf = NULL;
	size_t n, blen = 0, lines = 0;
	FILE *out;

	assert_true(quarantine_list(q, NULL, &v, &n));
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->id, a);	/* oldest first */
	assert_string_equal(v[2]->id, c);
	assert_int_equal(v[1]->nrcpts, 2);

	memset(&flt, 0, sizeof(flt));
	flt.sender = "LETTERS";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, b);

	memset(&flt, 0, sizeof(flt));
	flt.rcpt = "BOB@";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 3);
	flt.rcpt = "carol@";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);

	memset(&flt, 0, sizeof(flt));
	flt.reason = "policy";		/* everything but spam and virus */
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, b);
	flt.reason = "virus";
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, c);

	memset(&flt, 0, sizeof(flt));
	flt.has_min_score = true;
	flt.min_score = 12.5;
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 2);
	flt.since = (int64_t)time(NULL) + 3600;
	assert_true(quarantine_list(q, &flt, &v, &n));
	assert_int_equal(n, 0);

	out = open_memstream(&buf, &blen);
	assert_true(quarantine_list_json(q, NULL, out));
	fclose(out);
	for (size_t i = 0; i < blen; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 3);
	assert_non_null(strstr(buf, a));
	assert_non_null(strstr(buf, "\"rcpts\": [\"alice@example.org\", "
	    "\"bob@example.net\"]"));
	assert_non_null(strstr(buf, "\"name\": \"TEST_RULE\""));
	assert_non_null(strstr(buf, "\"date\": \""));
	free(buf);
	quarantine_close(&q);
	free(a);
	free(b);
	free(c);
	fixture_free(f);
}

/* A nonce issued on one host is consumed once, from any host: two
 * stores (two connections, like two MXes) race for it. */
static void
test_tokens_shared(void **unused)
{
	struct fixture *f = fixture_new();
	char *id = put(f, "prize@bad.example");
	const char *nonce = "00112233445566778899aabbccddeeff";
	struct qstore *q1 = open_store(f), *q2 = open_store(f);

	assert_int_equal(quarantine_token_peek(q2, id, nonce), 0);
	assert_true(quarantine_token_issue(q1, id, nonce, 1700000000));
	assert_int_equal(quarantine_token_peek(q2, id, nonce), 1);
	assert_int_equal(quarantine_token_consume(q2, id, nonce), 1);
	assert_int_equal(quarantine_token_consume(q1, id, nonce), 0);
	assert_int_equal(quarantine_token_consume(q2, id, nonce), 0);
	assert_int_equal(quarantine_token_peek(q1, id, nonce), 0);
	/* Given back (the copy was tempfailed): usable once more. */
	assert_true(quarantine_token_restore(q1, id, nonce));
	assert_int_equal(quarantine_token_consume(q1, id, nonce), 1);
	assert_int_equal(quarantine_token_consume(q2, id, nonce), 0);
	/* Bound to its entry. */
	assert_true(quarantine_token_issue(q1, id, "ffeeddccbbaa99887766554433221100",
	    1700000000));
	assert_int_equal(quarantine_token_consume(q2,
	    "0123456789abcdef0123456789abcdef",
	    "ffeeddccbbaa99887766554433221100"), 0);
	/* Issued twice is an error (the nonce is the key). */
	assert_false(quarantine_token_issue(q2, id, nonce, 1700000001));

	assert_true(quarantine_mark_released(q2, id));
	assert_true(quarantine_get(q1, id)->released > 0);
	quarantine_close(&q1);
	quarantine_close(&q2);
	free(id);
	fixture_free(f);
}

static void
test_delete_purge_stats(void **unused)
{
	struct fixture *f = fixture_new();
	char *a = put(f, "a@bad.example"), *b = put(f, "b@bad.example");
	struct qstore *q = open_store(f);
	const struct qentry *e;
	char *buf = NULL, *s;
	size_t n, blen = 0;
	FILE *out;

	/* Deleted: the body goes, the row stays (listed as deleted). */
	assert_true(quarantine_delete_by(q, a, "vigilctl (user test)"));
	assert_null(quarantine_get(q, a));
	assert_false(quarantine_delete(q, a));
	assert_non_null(strstr(quarantine_error(q), "already deleted"));
	e = quarantine_get_any(q, a);
	assert_non_null(e);
	assert_true(e->deleted > 0);
	assert_string_equal(e->deleted_by, "vigilctl (user test)");
	assert_null(quarantine_read(q, a, &n));
	assert_non_null(strstr(quarantine_error(q), "deleted"));
	assert_true(asprintf(&s, "SELECT length(body) FROM %s.vigil_entries"
	    " WHERE id = '%s'", f->schema, a) > 0);
	assert_int_equal(sql_num(base_uri, s), 0);
	free(s);
	assert_true(asprintf(&s, "SELECT count(*) FROM %s.vigil_rcpts"
	    " WHERE id = '%s'", f->schema, a) > 0);
	assert_true(e->nrcpts > 0);
	assert_int_equal(sql_num(base_uri, s), (int)e->nrcpts);	/* kept */
	free(s);
	{
		struct qfilter all = { .with_deleted = true };
		const struct qentry **v;

		assert_true(quarantine_list(q, NULL, &v, &n));
		assert_int_equal(n, 1);
		assert_true(quarantine_list(q, &all, &v, &n));
		assert_int_equal(n, 2);
		out = open_memstream(&buf, &blen);
		assert_true(quarantine_list_json(q, &all, out));
		fclose(out);
		assert_non_null(strstr(buf, "\"state\": \"deleted\""));
		free(buf);
		buf = NULL;
		blen = 0;
	}

	e = quarantine_get(q, b);
	assert_non_null(e);
	assert_true(quarantine_record_fp(q, e));
	assert_true(quarantine_record_fp(q, e));
	out = open_memstream(&buf, &blen);
	assert_true(quarantine_write_stats(q, out));
	fclose(out);
	assert_non_null(strstr(buf, "quarantine.entries 1\n"));
	assert_non_null(strstr(buf, "quarantine.deleted 1\n"));
	assert_non_null(strstr(buf, "quarantine.false_positives.TEST_RULE 2\n"));
	free(buf);

	assert_false(quarantine_purge(q, 0, &n));
	assert_true(quarantine_purge(q, (int64_t)time(NULL) - 3600, &n));
	assert_int_equal(n, 0);
	assert_true(quarantine_purge(q, (int64_t)time(NULL) + 1, &n));
	assert_int_equal(n, 2);		/* the deleted row too */
	assert_null(quarantine_get(q, b));
	assert_null(quarantine_get_any(q, a));
	quarantine_close(&q);
	free(a);
	free(b);
	fixture_free(f);
}

/* The row commits whole or not at all: a failing recipient insert
 * leaves no entry, and put says so (the milter then tempfails). */
static void
test_put_is_one_transaction(void **unused)
{
	struct fixture *f = fixture_new();
	char *id = put(f, "first@bad.example"), *err = NULL, *s;

	assert_true(asprintf(&s, "CREATE FUNCTION %s.refuse() RETURNS trigger"
	    " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no hits today';"
	    " END $$; CREATE TRIGGER refuse BEFORE INSERT ON %s.vigil_hits"
	    " FOR EACH ROW EXECUTE FUNCTION %s.refuse()", f->schema, f->schema,
	    f->schema) > 0);
	sql(base_uri, s);
	free(s);
	assert_null(put_reason(f, "second@bad.example", "spam", 9, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "no hits today"));
	free(err);
	assert_true(asprintf(&s, "SELECT count(*) FROM %s.vigil_entries", f->schema) > 0);
	assert_int_equal(sql_num(base_uri, s), 1);
	free(s);
	free(id);
	fixture_free(f);
}

/* No database: put fails (tempfail), open fails, with the reason. */
static void
test_unreachable(void **unused)
{
	struct fixture *f = fixture_new_uri(
	    "postgresql://vigil@127.0.0.1:1/vigil?connect_timeout=2");
	char *err = NULL;
	struct qstore *q;

	assert_null(put_reason(f, "a@bad.example", "spam", 9, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "quarantine database: connect"));
	free(err);
	err = NULL;
	q = quarantine_open(f->cfg, false, &err);
	assert_null(q);
	assert_non_null(strstr(err, "connect"));
	free(err);
	fixture_free(f);
}

/* The schema is versioned: made on first use, upgraded by db upgrade,
 * and a newer one is refused rather than written to. */
static void
test_schema_version(void **unused)
{
	struct fixture *f = fixture_new();
	char *err = NULL, *s, *id;
	int from = -1, to = -1;

	struct qstore *q;
	const struct qentry *e;

	assert_true(quarantine_upgrade(f->cfg, &from, &to, &err));
	assert_int_equal(from, 0);
	assert_int_equal(to, 2);
	assert_true(quarantine_upgrade(f->cfg, &from, &to, &err));
	assert_int_equal(from, 2);
	assert_int_equal(to, 2);

	/* A version 1 database (no deleted state) with an entry in it:
	 * db upgrade adds the columns, the entry stays and can be deleted. */
	id = put(f, "old@bad.example");
	assert_true(asprintf(&s, "ALTER TABLE %s.vigil_entries DROP COLUMN"
	    " deleted, DROP COLUMN deleted_by; UPDATE %s.vigil_schema SET"
	    " version = 1", f->schema, f->schema) > 0);
	sql(base_uri, s);
	free(s);
	assert_true(quarantine_upgrade(f->cfg, &from, &to, &err));
	assert_int_equal(from, 1);
	assert_int_equal(to, 2);
	q = open_store(f);
	e = quarantine_get(q, id);
	assert_non_null(e);
	assert_int_equal(e->deleted, 0);
	assert_true(quarantine_delete(q, id));
	e = quarantine_get_any(q, id);
	assert_non_null(e);
	assert_string_equal(e->deleted_by, "vigilctl");
	quarantine_close(&q);
	free(id);

	assert_true(asprintf(&s, "UPDATE %s.vigil_schema SET version = 99",
	    f->schema) > 0);
	sql(base_uri, s);
	free(s);
	assert_false(quarantine_upgrade(f->cfg, &from, &to, &err));
	assert_non_null(strstr(err, "newer"));
	free(err);
	err = NULL;
	id = put_reason(f, "a@bad.example", "spam", 9, &err);
	assert_null(id);
	assert_non_null(strstr(err, "newer"));
	free(err);
	fixture_free(f);
}

/* SQLite -> PostgreSQL -> SQLite keeps every entry, message, nonce and
 * count; running it again adds no entry. */
static void
test_migrate(void **unused)
{
	struct fixture *f = fixture_new();
	const char *nonce = "00112233445566778899aabbccddeeff";
	struct qstore *sq, *pg, *back;
	const struct qentry **v;
	const struct qentry *e;
	const unsigned char *raw, *raw2;
	char *err = NULL, *id, *src, *dst, *opt;
	const char *merr = NULL;
	struct cfg *lc;
	struct snap *ls;
	size_t n, len, len2;
	const char *ov[2];

	/* An SQLite store made by the milter (no QuarantineDB). */
	assert_true(asprintf(&src, "%s/src", f->dir) > 0);
	assert_true(asprintf(&dst, "%s/back", f->dir) > 0);
	assert_true(asprintf(&opt, "QuarantineDir=%s", src) > 0);
	ov[0] = opt;
	ov[1] = "Checks=policy,headers";
	lc = cfg_load(NULL, ov, 2, &err);
	assert_non_null(lc);
	ls = snap_build(lc, &err);
	assert_non_null(ls);
	{
		struct snap *keep = f->snap;
		struct cfg *keepc = f->cfg;

		f->snap = ls;
		f->cfg = lc;
		id = put(f, "prize@bad.example");
		free(put(f, "other@bad.example"));
		f->snap = keep;
		f->cfg = keepc;
	}
	sq = quarantine_open(lc, false, &err);
	assert_non_null(sq);
	assert_true(quarantine_token_issue(sq, id, nonce, 1700000000));
	assert_true(quarantine_record_fp(sq, quarantine_get(sq, id)));

	pg = open_store(f);
	assert_true(quarantine_migrate(sq, pg, &n, &merr));
	assert_int_equal(n, 2);
	assert_true(quarantine_migrate(sq, pg, &n, &merr));	/* again */
	assert_true(quarantine_list(pg, NULL, &v, &n));
	assert_int_equal(n, 2);
	e = quarantine_get(pg, id);
	assert_non_null(e);
	assert_int_equal(e->nrcpts, 2);
	raw = quarantine_read(sq, id, &len);
	raw2 = quarantine_read(pg, id, &len2);
	assert_non_null(raw2);
	assert_int_equal(len, len2);
	assert_memory_equal(raw, raw2, len);
	assert_int_equal(quarantine_token_peek(pg, id, nonce), 1);

	/* And back into a new folder. */
	back = quarantine_open_at(lc, dst, true, &err);
	assert_non_null(back);
	assert_true(quarantine_migrate(pg, back, &n, &merr));
	assert_int_equal(n, 2);
	raw2 = quarantine_read(back, id, &len2);
	assert_non_null(raw2);
	assert_int_equal(len, len2);
	assert_memory_equal(raw, raw2, len);
	assert_int_equal(quarantine_token_peek(back, id, nonce), 1);
	assert_true(quarantine_get(back, id)->nhits >= 1);

	quarantine_close(&back);
	quarantine_close(&pg);
	quarantine_close(&sq);
	snap_unref(&ls);
	cfg_unref(&lc);
	free(id);
	free(src);
	free(dst);
	free(opt);
	fixture_free(f);
}

/* Sends sig to the server (pid) and each process it started. */
static void
signal_server(pid_t pid, int sig)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		char path[300], buf[512], *p;
		long ppid = 0;
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL)
			(void)sscanf(p + 2, "%*c %ld", &ppid);
		fclose(f);
		if (ppid == (long)pid)
			(void)kill((pid_t)atol(d->d_name), sig);
	}
	closedir(dir);
	(void)kill(pid, sig);
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A server that stops answering (frozen: it still accepts TCP) costs
 * QuarantineDBTimeout, not a thread for good: an open store's query and
 * a new connection both fail in about that time, and the store's
 * connection is not used again.  Runs last: the server is stopped for a
 * few seconds.
 */
static void
test_frozen_server(void **unused)
{
	const char *spid = getenv("VIGIL_TEST_PG_PID");
	struct fixture *f;
	struct qstore *q;
	const struct qentry **v;
	char *err = NULL, *id;
	const char *qerr, *qerr2;
	double t0, t_list, t_get, t_put;
	bool listed, got;
	size_t n;

	if (spid == NULL)
		skip();
	f = fixture_new_opt(NULL, "QuarantineDBTimeout=2s");
	q = open_store(f);
	signal_server((pid_t)atol(spid), SIGSTOP);
	t0 = secs();
	listed = quarantine_list(q, NULL, &v, &n);
	t_list = secs() - t0;
	qerr = strdup(quarantine_error(q));
	t0 = secs();
	got = quarantine_get(q, "0123456789abcdef0123456789abcdef") != NULL;
	t_get = secs() - t0;
	qerr2 = strdup(quarantine_error(q));
	t0 = secs();
	id = put_reason(f, "a@bad.example", "spam", 9, &err);
	t_put = secs() - t0;
	signal_server((pid_t)atol(spid), SIGCONT);

	assert_false(listed);
	if (strstr(qerr, "QuarantineDBTimeout") == NULL)
		fail_msg("list: %s", qerr);
	assert_true(t_list > 1.5 && t_list < 6);
	assert_false(got);
	assert_non_null(strstr(qerr2, "timed out before"));
	assert_true(t_get < 1);
	assert_null(id);
	if (strstr(err, "connect") == NULL)
		fail_msg("put: %s", err);
	assert_true(t_put > 1.5 && t_put < 8);
	free(err);
	free((char *)qerr);
	free((char *)qerr2);
	quarantine_close(&q);
	/* Answering again: the next message is stored. */
	id = put(f, "b@bad.example");
	assert_non_null(id);
	free(id);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_read),
		cmocka_unit_test(test_list_filters_json),
		cmocka_unit_test(test_tokens_shared),
		cmocka_unit_test(test_delete_purge_stats),
		cmocka_unit_test(test_put_is_one_transaction),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_schema_version),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_frozen_server),
	};

	base_uri = getenv("VIGIL_TEST_PG_URI");
	if (base_uri == NULL) {
		printf("test_quarantine_pg: 0 passed, 0 failed, 1 skipped "
		    "(no VIGIL_TEST_PG_URI: run test_quarantine_pg.sh)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
