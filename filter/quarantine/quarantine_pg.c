/*
 * quarantine_pg.c - the quarantine on PostgreSQL (QuarantineDB
 * postgresql://...): the index, the message bodies (zlib-compressed, in
 * a bytea column stored without PostgreSQL's own compression), release
 * nonces and their use, and false-positive counts, all in one database
 * that every MX and every vigilctl of a site opens.
 *
 * Bodies live in the database rather than in a folder on shared storage:
 * the row and its body commit in one transaction (no file without a row,
 * no row without a file, nothing to fsync on a network file system), any
 * host that can reach the database can show and release a message, and
 * backups are the database's.  Compressed by the client, since mail text
 * shrinks three to five times and so does the traffic between MX and
 * database.
 *
 * Every operation uses the store's one connection (the milter: one per
 * quarantined message); a write is one transaction and the milter tells
 * the MTA to drop the message only after COMMIT succeeded.  An
 * unreachable database is an error, so the message is tempfailed and the
 * MTA retries it.  No wait is longer than QuarantineDBTimeout: connecting
 * (libpq's connect_timeout) and each answer (polled here), so a server
 * that hangs, or a network that drops its packets, costs a message that
 * long and not a thread for good; a connection that timed out is not
 * used again.  If the connection breaks during COMMIT the outcome is
 * unknown: the message is tempfailed, and at worst is quarantined twice.
 *
 * Text columns must be valid UTF-8 in a UTF-8 database, while mail need
 * not be: strings are made valid (bad bytes become U+FFFD) before they
 * are sent; the stored message itself is kept byte for byte.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <zlib.h>

#include "cfg.h"
#include "lib/arena.h"
#include "msg.h"
#include "quarantine/quarantine.h"
#include "quarantine/quarantine_private.h"
#include "snap.h"
#include "verdict.h"

/* pg_advisory_xact_lock key while the schema is made or upgraded. */
#define SCHEMA_LOCK	"7616916"

static const char schema_v1[] =
	"CREATE TABLE vigil_entries ("
	" seq bigserial NOT NULL, id text PRIMARY KEY, time bigint NOT NULL,"
	" queue_id text, client text, sender text, subject text,"
	" score double precision, reason text, action text, size bigint,"
	" released bigint NOT NULL DEFAULT 0, versions text,"
	" body bytea NOT NULL, body_size bigint NOT NULL);"
	"ALTER TABLE vigil_entries ALTER COLUMN body SET STORAGE EXTERNAL;"
	"CREATE INDEX vigil_entries_time ON vigil_entries (time, seq);"
	"CREATE TABLE vigil_rcpts ("
	" id text NOT NULL REFERENCES vigil_entries (id) ON DELETE CASCADE,"
	" n integer NOT NULL, addr text NOT NULL);"
	"CREATE INDEX vigil_rcpts_id ON vigil_rcpts (id);"
	"CREATE TABLE vigil_hits ("
	" id text NOT NULL REFERENCES vigil_entries (id) ON DELETE CASCADE,"
	" n integer NOT NULL, name text NOT NULL, score double precision,"
	" detail text);"
	"CREATE INDEX vigil_hits_id ON vigil_hits (id);"
	/* Every release issued and when its copy came back: the history. */
	"CREATE TABLE vigil_tokens ("
	" nonce text PRIMARY KEY, id text NOT NULL, issued bigint NOT NULL,"
	" used bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX vigil_tokens_id ON vigil_tokens (id);"
	"CREATE TABLE vigil_false_positives ("
	" rule text PRIMARY KEY, count bigint NOT NULL);";

/*
 * upgrades[v] takes the schema from version v to v + 1 (upgrades[0]
 * makes it); each runs in the transaction that holds the schema lock.
 */
static const char *const upgrades[QPG_SCHEMA_VERSION] = {
	schema_v1,
	/* 2: when and by whom an entry was deleted; its body is emptied
	 * and its row kept (listed as deleted) until purged. */
	"ALTER TABLE vigil_entries"
	" ADD COLUMN deleted bigint NOT NULL DEFAULT 0,"
	" ADD COLUMN deleted_by text;",
};

bool
qpg_is_uri(const char *s)
{
	return s != NULL && (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0);
}

bool
qpg_uri_check(const char *uri, char **err_r)
{
	PQconninfoOption *o;
	char *perr = NULL;

	*err_r = NULL;
	if (!qpg_is_uri(uri)) {
		*err_r = strdup("not a postgresql:// URI");
		return false;
	}
	if ((o = PQconninfoParse(uri, &perr)) == NULL) {
		/* libpq's message ends with a newline. */
		if (perr != NULL)
			perr[strcspn(perr, "\n")] = '\0';
		if (asprintf(err_r, "%s", perr != NULL ? perr :
		    "cannot be read") < 0)
			*err_r = NULL;
		PQfreemem(perr);
		return false;
	}
	PQconninfoFree(o);
	return true;
}

/* A connection and how long any answer may take. */
struct pg_conn {
	PGconn		*c;
	int64_t		 timeout_ms;
	bool		 dead;		/* timed out: its state is unknown */
};

static void
conn_finish(void *c)
{
	PQfinish(c);
}

static void
result_clear(void *r)
{
	PQclear(r);
}

/* libpq's message on one line (it may span several), for the log. */
static const char *
pg_msg(struct arena *a, const char *s)
{
	size_t n = strlen(s), o = 0;
	char *r;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	r = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			if (o > 0 && r[o - 1] != ' ')
				r[o++] = ' ';
		} else
			r[o++] = s[i];
	}
	r[o] = '\0';
	return r;
}

/* The server's notices (a ROLLBACK with nothing to undo) are not news
 * for the log, and stderr is the daemon's. */
static void
notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static struct pg_conn *
pg_connect(struct arena *a, const char *uri, int64_t timeout_ms,
    const char **err_r)
{
	/* The URI (dbname, expanded) overrides what comes before it. */
	static const char *const keys[] = {
		"connect_timeout", "client_encoding", "application_name",
		"options", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "dbname", NULL
	};
	const char *vals[] = {
		/* whole seconds, at least 2 (libpq's minimum) */
		arena_printf(a, "%" PRId64, timeout_ms < 2000 ? 2 :
		    (timeout_ms + 999) / 1000),
		"UTF8", "vigil",
		arena_printf(a, "-c statement_timeout=%" PRId64, timeout_ms),
		"10", "5", "3", arena_printf(a, "%" PRId64, timeout_ms),
		uri, NULL
	};
	struct pg_conn *pc = arena_alloc(a, sizeof(*pc));

	pc->timeout_ms = timeout_ms;
	pc->c = PQconnectdbParams(keys, vals, 1);
	if (pc->c == NULL) {
		*err_r = "quarantine database: connect: out of memory";
		return NULL;
	}
	arena_defer(a, conn_finish, pc->c);
	PQsetNoticeProcessor(pc->c, notice_drop, NULL);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		*err_r = arena_printf(a, "quarantine database: connect: %s",
		    pg_msg(a, PQerrorMessage(pc->c)));
		return NULL;
	}
	return pc;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/*
 * The answer to what was just sent: the first failed result, or the
 * last one; NULL with *err_r when none came within the timeout (the
 * connection is then dead) or the connection failed.
 */
static PGresult *
pg_answer(struct arena *a, struct pg_conn *pc, const char **err_r)
{
	int64_t deadline = now_ms() + pc->timeout_ms;
	PGresult *keep = NULL, *r;

	for (;;) {
		while (PQisBusy(pc->c)) {
			struct pollfd p = { .fd = PQsocket(pc->c),
			    .events = POLLIN };
			int64_t left = deadline - now_ms();
			int rc;

			if (left <= 0) {
				pc->dead = true;
				*err_r = arena_printf(a, "no answer within "
				    "%" PRId64 " ms (QuarantineDBTimeout)",
				    pc->timeout_ms);
				PQclear(keep);
				return NULL;
			}
			rc = poll(&p, 1, (int)left);
			if (rc == -1 && errno != EINTR) {
				*err_r = arena_printf(a, "poll: %s",
				    strerror(errno));
				pc->dead = true;
				PQclear(keep);
				return NULL;
			}
			if (rc > 0 && !PQconsumeInput(pc->c)) {
				*err_r = pg_msg(a, PQerrorMessage(pc->c));
				PQclear(keep);
				return NULL;
			}
		}
		if ((r = PQgetResult(pc->c)) == NULL)
			break;
		if (keep == NULL || result_ok(keep)) {
			PQclear(keep);
			keep = r;
		} else
			PQclear(r);
	}
	if (keep == NULL)
		*err_r = pg_msg(a, PQerrorMessage(pc->c));
	return keep;
}

/*
 * Runs sql with n text parameters (NULL is SQL NULL); binary, when not
 * NULL, gives parameters sent as bytes with their lengths.  The result
 * is cleared with a; NULL with *err_r on any failure.
 */
static PGresult *
pg_run(struct arena *a, struct pg_conn *pc, const char *what,
    const char *sql, int n, const char *const *vals, const int *lens,
    const int *binary, int binary_result, const char **err_r)
{
	const char *why = NULL;
	PGresult *r = NULL;

	if (pc->dead)
		why = "the connection timed out before";
	else if (!PQsendQueryParams(pc->c, sql, n, NULL, vals, lens, binary,
	    binary_result))
		why = pg_msg(a, PQerrorMessage(pc->c));
	else if ((r = pg_answer(a, pc, &why)) != NULL) {
		arena_defer(a, result_clear, r);
		if (!result_ok(r))
			why = pg_msg(a, PQresultErrorMessage(r));
	}
	if (why != NULL) {
		*err_r = arena_printf(a, "quarantine database: %s: %s", what,
		    why);
		return NULL;
	}
	return r;
}

/* Runs sql without parameters (several statements allowed). */
static bool
pg_cmd(struct arena *a, struct pg_conn *pc, const char *sql,
    const char **err_r)
{
	const char *why = NULL;
	PGresult *r = NULL;

	if (pc->dead)
		why = "the connection timed out before";
	else if (!PQsendQuery(pc->c, sql))
		why = pg_msg(a, PQerrorMessage(pc->c));
	else if ((r = pg_answer(a, pc, &why)) != NULL && !result_ok(r))
		why = pg_msg(a, PQresultErrorMessage(r));
	PQclear(r);
	if (why != NULL) {
		*err_r = arena_printf(a, "quarantine database: %.60s: %s", sql,
		    why);
		return false;
	}
	return true;
}

static void
pg_rollback(struct arena *a, struct pg_conn *pc)
{
	const char *ignored;

	(void)pg_cmd(a, pc, "ROLLBACK", &ignored);
}

/* The rows a command changed. */
static long
pg_changed(PGresult *r)
{
	return strtol(PQcmdTuples(r), NULL, 10);
}

static const char *
i64(struct arena *a, int64_t v)
{
	return arena_printf(a, "%" PRId64, v);
}

static const char *
dbl(struct arena *a, double v)
{
	return arena_printf(a, "%.17g", v);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if none. */
static size_t
u8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return p[0] != 0 ? 1 : 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* s as valid UTF-8 (each bad byte becomes U+FFFD); NULL stays NULL. */
static const char *
u8(struct arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i, k, o = 0;
	char *r;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	for (i = 0; i < n; i += k)
		if ((k = u8_seq(p + i, n - i)) == 0)
			break;
	if (i == n)
		return s;
	r = arena_alloc(a, n * 3 + 1);
	for (i = 0; i < n; i += k) {
		if ((k = u8_seq(p + i, n - i)) == 0) {
			memcpy(r + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(r + o, s + i, k);
			o += k;
		}
	}
	r[o] = '\0';
	return r;
}

/*
 * The schema's version (0: none yet); brings it to QPG_SCHEMA_VERSION
 * under an advisory lock, so MXes starting together make it once.  A
 * schema newer than this program knows is refused.
 */
static bool
schema_ensure(struct arena *a, struct pg_conn *c, int *from_r, const char **err_r)
{
	PGresult *r;
	int v = 0;

	for (int pass = 0; pass < 2; pass++) {
		r = pg_run(a, c, "schema", "SELECT to_regclass('vigil_schema')"
		    " IS NOT NULL", 0, NULL, NULL, NULL, 0, err_r);
		if (r == NULL)
			goto fail;
		v = 0;
		if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
			r = pg_run(a, c, "schema", "SELECT coalesce(max(version),"
			    " 0) FROM vigil_schema", 0, NULL, NULL, NULL, 0,
			    err_r);
			if (r == NULL)
				goto fail;
			v = atoi(PQgetvalue(r, 0, 0));
		}
		if (from_r != NULL && pass == 0)
			*from_r = v;
		if (v > QPG_SCHEMA_VERSION) {
			*err_r = arena_printf(a, "quarantine database: schema "
			    "version %d is newer than this vigil's (%d)", v,
			    QPG_SCHEMA_VERSION);
			goto fail;
		}
		if (v == QPG_SCHEMA_VERSION) {
			if (pass == 1 && !pg_cmd(a, c, "COMMIT", err_r))
				goto fail;
			return true;
		}
		if (pass == 1)
			break;
		/* Again under the lock: another host may have done it. */
		if (!pg_cmd(a, c, "BEGIN", err_r) ||
		    !pg_cmd(a, c, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")",
		    err_r))
			goto fail;
	}
	if (v == 0 && !pg_cmd(a, c, "CREATE TABLE vigil_schema"
	    " (version integer NOT NULL); INSERT INTO vigil_schema VALUES (0)",
	    err_r))
		goto fail;
	for (; v < QPG_SCHEMA_VERSION; v++) {
		const char *vals[] = { i64(a, v + 1) };

		if (!pg_cmd(a, c, upgrades[v], err_r) ||
		    pg_run(a, c, "schema version", "UPDATE vigil_schema SET"
		    " version = $1::integer", 1, vals, NULL, NULL, 0,
		    err_r) == NULL)
			goto fail;
	}
	if (!pg_cmd(a, c, "COMMIT", err_r))
		goto fail;
	return true;
fail:
	pg_rollback(a, c);
	return false;
}

/* Compresses len bytes at raw into a (zlib). */
static unsigned char *
deflate_body(struct arena *a, const unsigned char *raw, size_t len,
    size_t *zlen_r, const char **err_r)
{
	uLongf zlen = compressBound((uLong)len);
	unsigned char *z = arena_alloc(a, zlen);
	int rc = compress2(z, &zlen, raw, (uLong)len, Z_DEFAULT_COMPRESSION);

	if (rc != Z_OK) {
		*err_r = arena_printf(a, "quarantine: compress: %s",
		    zError(rc));
		return NULL;
	}
	*zlen_r = zlen;
	return z;
}

#define ENTRY_INSERT \
	"INSERT INTO vigil_entries (id, time, queue_id, client, sender," \
	" subject, score, reason, action, size, released, versions, body," \
	" body_size) VALUES ($1, $2::bigint, $3, $4, $5, $6," \
	" $7::double precision, $8, $9, $10::bigint, $11::bigint, $12, $13," \
	" $14::bigint) ON CONFLICT (id) DO NOTHING"

/* Field values of one entry row, in ENTRY_INSERT's order. */
struct row {
	const char	*v[14];
	int		 len[14];
	int		 bin[14];
};

static bool
row_insert(struct arena *a, struct pg_conn *c, struct row *r,
    const unsigned char *raw, size_t len, const char *const *rcpts,
    size_t nrcpts, const struct qhit *hits, size_t nhits, bool *new_r,
    const char **err_r)
{
	PGresult *res;
	unsigned char *z;
	size_t zlen, i;

	if ((z = deflate_body(a, raw, len, &zlen, err_r)) == NULL)
		return false;
	r->v[12] = (const char *)z;
	r->len[12] = (int)zlen;
	r->bin[12] = 1;
	r->v[13] = i64(a, (int64_t)len);
	if (!pg_cmd(a, c, "BEGIN", err_r))
		return false;
	res = pg_run(a, c, "insert entry", ENTRY_INSERT, 14, r->v, r->len,
	    r->bin, 0, err_r);
	if (res == NULL)
		goto fail;
	*new_r = pg_changed(res) == 1;
	for (i = 0; *new_r && i < nrcpts; i++) {
		const char *v[] = { r->v[0], i64(a, (int64_t)i), u8(a, rcpts[i]) };

		if (pg_run(a, c, "insert recipient", "INSERT INTO vigil_rcpts"
		    " (id, n, addr) VALUES ($1, $2::integer, $3)", 3, v, NULL,
		    NULL, 0, err_r) == NULL)
			goto fail;
	}
	for (i = 0; *new_r && i < nhits; i++) {
		const char *v[] = { r->v[0], i64(a, (int64_t)i),
		    u8(a, hits[i].name), dbl(a, hits[i].score),
		    u8(a, hits[i].detail != NULL ? hits[i].detail : "") };

		if (pg_run(a, c, "insert hit", "INSERT INTO vigil_hits (id, n,"
		    " name, score, detail) VALUES ($1, $2::integer, $3,"
		    " $4::double precision, $5)", 5, v, NULL, NULL, 0,
		    err_r) == NULL)
			goto fail;
	}
	if (!pg_cmd(a, c, "COMMIT", err_r))
		goto fail;
	return true;
fail:
	pg_rollback(a, c);
	return false;
}

bool
qpg_put(struct arena *a, const char *uri, struct msg *m,
    const struct verdict *v, const char *id, const unsigned char *raw,
    size_t len, const char **err_r)
{
	const struct mview *view = msg_view(m);
	struct row r = { 0 };
	const char **rcpts;
	struct qhit *hits;
	size_t i, nr = msg_rcpt_count(m), nh = msg_hit_count(m);
	struct pg_conn *c;
	bool isnew;

	if ((c = pg_connect(a, uri, (int64_t)cfg_duration_ms(
	    snap_cfg(msg_snap(m)), "QuarantineDBTimeout"), err_r)) == NULL ||
	    !schema_ensure(a, c, NULL, err_r))
		return false;
	r.v[0] = id;
	r.v[1] = i64(a, (int64_t)time(NULL));
	r.v[2] = u8(a, msg_queue_id(m));
	r.v[3] = u8(a, msg_client_addr(m));
	r.v[4] = u8(a, msg_mail_from(m) != NULL ? msg_mail_from(m) : "");
	r.v[5] = u8(a, view != NULL ? view->subject : "");
	r.v[6] = dbl(a, v->score);
	r.v[7] = u8(a, v->reason != NULL ? v->reason : "spam");
	r.v[8] = action_name(v->action);
	r.v[9] = i64(a, (int64_t)msg_size(m));
	r.v[10] = "0";
	r.v[11] = u8(a, verdict_versions_json(m, v));
	rcpts = arena_alloc(a, (nr + 1) * sizeof(*rcpts));
	for (i = 0; i < nr; i++)
		rcpts[i] = msg_rcpt(m, i);
	hits = arena_alloc(a, (nh + 1) * sizeof(*hits));
	for (i = 0; i < nh; i++) {
		const struct hit *h = msg_hit(m, i);

		hits[i].name = h->name;
		hits[i].score = h->score;
		hits[i].detail = h->detail;
	}
	if (!row_insert(a, c, &r, raw, len, rcpts, nr, hits, nh, &isnew,
	    err_r))
		return false;
	if (!isnew) {
		*err_r = arena_printf(a, "quarantine database: id %s is taken",
		    id);
		return false;
	}
	return true;
}

bool
qpg_open(struct qstore *q, const char *uri, int *from_r)
{
	struct pg_conn *c = pg_connect(q->arena, uri, (int64_t)cfg_duration_ms(
	    q->cfg, "QuarantineDBTimeout"), &q->err);

	if (c == NULL || !schema_ensure(q->arena, c, from_r, &q->err))
		return false;
	q->pg = c;
	return true;
}

#define PGC(q)	((q)->pg)

#define ENTRY_COLUMNS \
	"e.id, e.time, e.queue_id, e.client, e.sender, e.subject, e.score," \
	" e.reason, e.size, e.released, e.versions," \
	" (SELECT string_agg(addr, E'\\n' ORDER BY n) FROM vigil_rcpts r" \
	"  WHERE r.id = e.id), e.deleted, e.deleted_by"

/* The WHERE clause of a struct qfilter, with filter_vals(). */
#define FILTER_WHERE \
	"($1::bigint = 0 OR e.time >= $1::bigint)" \
	" AND ($2::bigint = 0 OR e.time < $2::bigint)" \
	" AND ($3::text IS NULL OR strpos(lower(e.sender), lower($3::text)) > 0)" \
	" AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM vigil_rcpts r" \
	"  WHERE r.id = e.id AND strpos(lower(r.addr), lower($4::text)) > 0))" \
	" AND ($5::text IS NULL OR e.reason = $5::text OR ($5::text = 'policy'" \
	"  AND e.reason NOT IN ('spam', 'virus')))" \
	" AND ($6::double precision IS NULL OR e.score >= $6::double precision)" \
	" AND ($7::boolean OR e.deleted = 0)"

static void
filter_vals(struct arena *a, const struct qfilter *f, const char *v[7])
{
	v[0] = i64(a, f->since);
	v[1] = i64(a, f->before);
	v[2] = u8(a, f->sender);
	v[3] = u8(a, f->rcpt);
	v[4] = u8(a, f->reason);
	v[5] = f->has_min_score ? dbl(a, f->min_score) : NULL;
	v[6] = f->with_deleted ? "true" : "false";
}

static struct qentry *
entry_from_row(struct qstore *q, PGresult *r, int row)
{
	struct qentry *e = arena_alloc(q->arena, sizeof(*e));
	const char **v;
	size_t n = 0;
	char *rc, *s, *save = NULL;

#define COL(i)	arena_strdup(q->arena, PQgetvalue(r, row, (i)))
	e->id = COL(0);
	e->time = strtoll(PQgetvalue(r, row, 1), NULL, 10);
	e->queue_id = COL(2);
	e->client = COL(3);
	e->sender = COL(4);
	e->subject = COL(5);
	e->score = strtod(PQgetvalue(r, row, 6), NULL);
	e->reason = COL(7);
	e->size = strtoll(PQgetvalue(r, row, 8), NULL, 10);
	e->released = strtoll(PQgetvalue(r, row, 9), NULL, 10);
	e->versions = PQgetisnull(r, row, 10) ? NULL : COL(10);
	rc = COL(11);
	e->deleted = strtoll(PQgetvalue(r, row, 12), NULL, 10);
	e->deleted_by = COL(13);
#undef COL
	for (s = rc; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	v = arena_alloc(q->arena, (n + 2) * sizeof(*v));
	n = 0;
	if (!PQgetisnull(r, row, 11))
		for (s = strtok_r(rc, "\n", &save); s != NULL;
		    s = strtok_r(NULL, "\n", &save))
			v[n++] = s;
	v[n] = NULL;
	e->rcpts = v;
	e->nrcpts = n;
	return e;
}

bool
qpg_list(struct qstore *q, const struct qfilter *f,
    const struct qentry ***entries_r, size_t *n_r)
{
	static const struct qfilter none;
	const struct qentry **v;
	const char *vals[7];
	PGresult *r;
	int n;

	filter_vals(q->arena, f != NULL ? f : &none, vals);
	r = pg_run(q->arena, PGC(q), "list", "SELECT " ENTRY_COLUMNS
	    " FROM vigil_entries e WHERE " FILTER_WHERE " ORDER BY e.time,"
	    " e.seq", 7, vals, NULL, NULL, 0, &q->err);
	if (r == NULL)
		return false;
	n = PQntuples(r);
	v = arena_alloc(q->arena, ((size_t)n + 1) * sizeof(*v));
	for (int i = 0; i < n; i++)
		v[i] = entry_from_row(q, r, i);
	*entries_r = v;
	*n_r = (size_t)n;
	return true;
}

/* One entry as a JSON object, built by PostgreSQL (jsonb: one line). */
#define ENTRY_JSON \
	"jsonb_build_object('id', e.id, 'time', e.time," \
	" 'date', to_char(to_timestamp(e.time) AT TIME ZONE 'UTC'," \
	"  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
	" 'queue_id', e.queue_id, 'client', e.client, 'sender', e.sender," \
	" 'rcpts', coalesce((SELECT jsonb_agg(addr ORDER BY n)" \
	"  FROM vigil_rcpts r WHERE r.id = e.id), '[]'::jsonb)," \
	" 'subject', e.subject, 'score', e.score, 'reason', e.reason," \
	" 'action', e.action, 'size', e.size, 'released', e.released," \
	" 'versions', e.versions::jsonb," \
	" 'state', CASE WHEN e.deleted > 0 THEN 'deleted'" \
	"  WHEN e.released > 0 THEN 'released' ELSE 'held' END," \
	" 'deleted', e.deleted, 'deleted_by', e.deleted_by," \
	" 'hits', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name," \
	"  'score', score, 'detail', detail) ORDER BY n) FROM vigil_hits h" \
	"  WHERE h.id = e.id), '[]'::jsonb))::text"

bool
qpg_list_json(struct qstore *q, const struct qfilter *f, FILE *out)
{
	static const struct qfilter none;
	const char *vals[7];
	PGresult *r;

	filter_vals(q->arena, f != NULL ? f : &none, vals);
	r = pg_run(q->arena, PGC(q), "list", "SELECT " ENTRY_JSON
	    " FROM vigil_entries e WHERE " FILTER_WHERE " ORDER BY e.time,"
	    " e.seq", 7, vals, NULL, NULL, 0, &q->err);
	if (r == NULL)
		return false;
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s\n", PQgetvalue(r, i, 0));
	return true;
}

const struct qentry *
qpg_get(struct qstore *q, const char *id)
{
	const char *vals[] = { id };
	struct qentry *e;
	struct qhit *hits;
	PGresult *r, *h;
	int n;

	r = pg_run(q->arena, PGC(q), "get", "SELECT " ENTRY_COLUMNS
	    " FROM vigil_entries e WHERE e.id = $1", 1, vals, NULL, NULL, 0,
	    &q->err);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 0) {
		q->err = arena_printf(q->arena, "no quarantine entry %s", id);
		return NULL;
	}
	h = pg_run(q->arena, PGC(q), "hits", "SELECT name, score, detail FROM"
	    " vigil_hits WHERE id = $1 ORDER BY n", 1, vals, NULL, NULL, 0,
	    &q->err);
	if (h == NULL)
		return NULL;
	e = entry_from_row(q, r, 0);
	n = PQntuples(h);
	hits = arena_alloc(q->arena, ((size_t)n + 1) * sizeof(*hits));
	for (int i = 0; i < n; i++) {
		hits[i].name = arena_strdup(q->arena, PQgetvalue(h, i, 0));
		hits[i].score = strtod(PQgetvalue(h, i, 1), NULL);
		hits[i].detail = arena_strdup(q->arena, PQgetvalue(h, i, 2));
	}
	e->hits = hits;
	e->nhits = (size_t)n;
	return e;
}

const unsigned char *
qpg_read(struct qstore *q, const char *id, size_t *len_r)
{
	const char *vals[] = { id };
	unsigned char *buf;
	uint64_t size;
	uLongf out;
	PGresult *r;
	int rc;

	/* Binary results: the body's bytes and the size as an int8. */
	r = pg_run(q->arena, PGC(q), "read", "SELECT body, body_size,"
	    " deleted FROM vigil_entries WHERE id = $1", 1, vals, NULL, NULL,
	    1, &q->err);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 0) {
		q->err = arena_printf(q->arena, "no quarantine entry %s", id);
		return NULL;
	}
	if (PQgetlength(r, 0, 2) != 8 || memcmp(PQgetvalue(r, 0, 2),
	    "\0\0\0\0\0\0\0\0", 8) != 0) {
		q->err = arena_printf(q->arena, "quarantine entry %s was "
		    "deleted: its message is gone", id);
		return NULL;
	}
	if (PQgetlength(r, 0, 1) != 8) {
		q->err = "quarantine database: read: bad body size";
		return NULL;
	}
	memcpy(&size, PQgetvalue(r, 0, 1), 8);
	size = be64toh(size);
	buf = arena_alloc(q->arena, (size_t)size + 1);
	out = (uLongf)size;
	rc = uncompress(buf, &out, (const unsigned char *)PQgetvalue(r, 0, 0),
	    (uLong)PQgetlength(r, 0, 0));
	if (rc != Z_OK || out != size) {
		q->err = arena_printf(q->arena, "quarantine %s: body does not "
		    "decompress: %s", id, rc != Z_OK ? zError(rc) :
		    "size differs");
		return NULL;
	}
	buf[size] = '\0';
	*len_r = (size_t)size;
	return buf;
}

/* The body goes, the row stays, marked deleted (see quarantine.c). */
bool
qpg_delete(struct qstore *q, const char *id, const char *by)
{
	const char *vals[] = { i64(q->arena, (int64_t)time(NULL)), u8(q->arena, by),
	    id };
	PGresult *r;

	r = pg_run(q->arena, PGC(q), "delete", "UPDATE vigil_entries SET"
	    " deleted = $1::bigint, deleted_by = $2, body = ''::bytea"
	    " WHERE id = $3 AND deleted = 0", 3, vals, NULL, NULL, 0, &q->err);
	if (r == NULL)
		return false;
	if (pg_changed(r) != 1) {
		q->err = arena_printf(q->arena, "no quarantine entry %s (or "
		    "already deleted)", id);
		return false;
	}
	return true;
}

bool
qpg_purge(struct qstore *q, int64_t before, size_t *n_r)
{
	const char *vals[] = { i64(q->arena, before) };
	PGresult *r;

	if (!pg_cmd(q->arena, PGC(q), "BEGIN", &q->err))
		return false;
	r = pg_run(q->arena, PGC(q), "purge", "DELETE FROM vigil_entries"
	    " WHERE time < $1::bigint", 1, vals, NULL, NULL, 0, &q->err);
	if (r == NULL || pg_run(q->arena, PGC(q), "purge tokens", "DELETE FROM"
	    " vigil_tokens WHERE issued < $1::bigint", 1, vals, NULL, NULL, 0,
	    &q->err) == NULL || !pg_cmd(q->arena, PGC(q), "COMMIT", &q->err)) {
		pg_rollback(q->arena, PGC(q));
		return false;
	}
	*n_r = (size_t)pg_changed(r);
	return true;
}

bool
qpg_mark_released(struct qstore *q, const char *id)
{
	const char *vals[] = { i64(q->arena, (int64_t)time(NULL)), id };

	return pg_run(q->arena, PGC(q), "mark released", "UPDATE vigil_entries"
	    " SET released = $1::bigint WHERE id = $2", 2, vals, NULL, NULL, 0,
	    &q->err) != NULL;
}

bool
qpg_token_issue(struct qstore *q, const char *id, const char *nonce,
    int64_t issued)
{
	const char *vals[] = { nonce, id, i64(q->arena, issued) };

	return pg_run(q->arena, PGC(q), "issue token", "INSERT INTO"
	    " vigil_tokens (nonce, id, issued) VALUES ($1, $2, $3::bigint)",
	    3, vals, NULL, NULL, 0, &q->err) != NULL;
}

/* One UPDATE: of two hosts consuming the same nonce, one changes it. */
int
qpg_token_consume(struct qstore *q, const char *id, const char *nonce)
{
	const char *vals[] = { i64(q->arena, (int64_t)time(NULL)), nonce, id };
	PGresult *r;

	r = pg_run(q->arena, PGC(q), "consume token", "UPDATE vigil_tokens"
	    " SET used = $1::bigint WHERE nonce = $2 AND id = $3 AND used = 0",
	    3, vals, NULL, NULL, 0, &q->err);
	if (r == NULL)
		return -1;
	return pg_changed(r) == 1 ? 1 : 0;
}

bool
qpg_token_restore(struct qstore *q, const char *id, const char *nonce)
{
	const char *vals[] = { nonce, id };

	return pg_run(q->arena, PGC(q), "restore token", "UPDATE vigil_tokens"
	    " SET used = 0 WHERE nonce = $1 AND id = $2 AND used > 0", 2, vals,
	    NULL, NULL, 0, &q->err) != NULL;
}

int
qpg_token_peek(struct qstore *q, const char *id, const char *nonce)
{
	const char *vals[] = { nonce, id };
	PGresult *r;

	r = pg_run(q->arena, PGC(q), "token", "SELECT 1 FROM vigil_tokens"
	    " WHERE nonce = $1 AND id = $2 AND used = 0", 2, vals, NULL, NULL,
	    0, &q->err);
	if (r == NULL)
		return -1;
	return PQntuples(r) > 0 ? 1 : 0;
}

static bool
fp_add(struct qstore *q, const char *rule, int64_t count)
{
	const char *vals[] = { u8(q->arena, rule), i64(q->arena, count) };

	return pg_run(q->arena, PGC(q), "record false positive", "INSERT INTO"
	    " vigil_false_positives (rule, count) VALUES ($1, $2::bigint)"
	    " ON CONFLICT (rule) DO UPDATE SET count ="
	    " vigil_false_positives.count + EXCLUDED.count", 2, vals, NULL,
	    NULL, 0, &q->err) != NULL;
}

bool
qpg_record_fp(struct qstore *q, const struct qentry *e)
{
	if (!pg_cmd(q->arena, PGC(q), "BEGIN", &q->err))
		return false;
	for (size_t i = 0; i < e->nhits; i++) {
		if (e->hits[i].score <= 0)
			continue;	/* only rules that pushed toward spam */
		if (!fp_add(q, e->hits[i].name, 1)) {
			pg_rollback(q->arena, PGC(q));
			return false;
		}
	}
	if (!pg_cmd(q->arena, PGC(q), "COMMIT", &q->err)) {
		pg_rollback(q->arena, PGC(q));
		return false;
	}
	return true;
}

bool
qpg_write_stats(struct qstore *q, FILE *out)
{
	PGresult *r;

	r = pg_run(q->arena, PGC(q), "stats", "SELECT 'quarantine.entries',"
	    " count(*) FROM vigil_entries WHERE deleted = 0 UNION ALL"
	    " SELECT 'quarantine.bytes', coalesce(sum(size), 0)"
	    "  FROM vigil_entries WHERE deleted = 0 UNION ALL"
	    " SELECT 'quarantine.released', count(*) FROM vigil_entries"
	    "  WHERE released > 0 AND deleted = 0 UNION ALL"
	    " SELECT 'quarantine.deleted', count(*) FROM vigil_entries"
	    "  WHERE deleted > 0 UNION ALL"
	    " SELECT 'quarantine.false_positives.' || rule, count"
	    "  FROM vigil_false_positives", 0, NULL, NULL, NULL, 0, &q->err);
	if (r == NULL)
		return false;
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s %s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1));
	return true;
}

bool
qpg_import(struct qstore *q, const struct qentry *e,
    const unsigned char *raw, size_t len)
{
	struct arena *a = q->arena;
	struct row r = { 0 };
	bool isnew;

	r.v[0] = e->id;
	r.v[1] = i64(a, e->time);
	r.v[2] = u8(a, e->queue_id);
	r.v[3] = u8(a, e->client);
	r.v[4] = u8(a, e->sender);
	r.v[5] = u8(a, e->subject);
	r.v[6] = dbl(a, e->score);
	r.v[7] = u8(a, e->reason);
	r.v[8] = "quarantine";
	r.v[9] = i64(a, e->size);
	r.v[10] = i64(a, e->released);
	r.v[11] = u8(a, e->versions);
	return row_insert(a, PGC(q), &r, raw, len, e->rcpts, e->nrcpts,
	    e->hits, e->nhits, &isnew, &q->err);
}

bool
qpg_tokens(struct qstore *q, struct qtoken **v_r, size_t *n_r)
{
	struct qtoken *v;
	PGresult *r;
	int n;

	r = pg_run(q->arena, PGC(q), "tokens", "SELECT nonce, id, issued, used"
	    " FROM vigil_tokens ORDER BY issued", 0, NULL, NULL, NULL, 0,
	    &q->err);
	if (r == NULL)
		return false;
	n = PQntuples(r);
	v = arena_alloc(q->arena, ((size_t)n + 1) * sizeof(*v));
	for (int i = 0; i < n; i++) {
		v[i].nonce = arena_strdup(q->arena, PQgetvalue(r, i, 0));
		v[i].id = arena_strdup(q->arena, PQgetvalue(r, i, 1));
		v[i].issued = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		v[i].used = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	}
	*v_r = v;
	*n_r = (size_t)n;
	return true;
}

bool
qpg_fps(struct qstore *q, struct qfp **v_r, size_t *n_r)
{
	struct qfp *v;
	PGresult *r;
	int n;

	r = pg_run(q->arena, PGC(q), "false positives", "SELECT rule, count"
	    " FROM vigil_false_positives ORDER BY rule", 0, NULL, NULL, NULL,
	    0, &q->err);
	if (r == NULL)
		return false;
	n = PQntuples(r);
	v = arena_alloc(q->arena, ((size_t)n + 1) * sizeof(*v));
	for (int i = 0; i < n; i++) {
		v[i].rule = arena_strdup(q->arena, PQgetvalue(r, i, 0));
		v[i].count = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
	*v_r = v;
	*n_r = (size_t)n;
	return true;
}

bool
qpg_import_extra(struct qstore *q, const struct qtoken *t, size_t ntok,
    const struct qfp *f, size_t nfp)
{
	if (!pg_cmd(q->arena, PGC(q), "BEGIN", &q->err))
		return false;
	for (size_t i = 0; i < ntok; i++) {
		const char *vals[] = { t[i].nonce, t[i].id,
		    i64(q->arena, t[i].issued), i64(q->arena, t[i].used) };

		if (pg_run(q->arena, PGC(q), "import token", "INSERT INTO"
		    " vigil_tokens (nonce, id, issued, used) VALUES ($1, $2,"
		    " $3::bigint, $4::bigint) ON CONFLICT (nonce) DO NOTHING",
		    4, vals, NULL, NULL, 0, &q->err) == NULL)
			goto fail;
	}
	for (size_t i = 0; i < nfp; i++)
		if (!fp_add(q, f[i].rule, f[i].count))
			goto fail;
	if (pg_cmd(q->arena, PGC(q), "COMMIT", &q->err))
		return true;
fail:
	pg_rollback(q->arena, PGC(q));
	return false;
}
