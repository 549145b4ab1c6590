/*
 * quarantine_tokens.c - the quarantine index beyond its entries: release
 * nonces (issued by vigilctl, consumed once by the policy check and given
 * back when the copy that consumed one was not accepted), the
 * released mark, false positives per rule (release --learn-ham) and the
 * counters `vigilctl stats` prints; and what migration reads and writes
 * of them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/arena.h"
#include "quarantine/quarantine.h"
#include "quarantine/quarantine_private.h"

bool
quarantine_mark_released(struct qstore *q, const char *id)
{
	sqlite3_stmt *st;

	if (q->pg != NULL)
		return qpg_mark_released(q, id);

	st = quarantine_prepare(q->arena, q->db, "UPDATE entries SET released = ?"
	    " WHERE id = ?", &q->err);
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return quarantine_step(q->arena, q->db, st, "mark released", &q->err);
}

bool
quarantine_token_issue(struct qstore *q, const char *id, const char *nonce,
    int64_t issued)
{
	sqlite3_stmt *st;

	if (q->pg != NULL)
		return qpg_token_issue(q, id, nonce, issued);

	st = quarantine_prepare(q->arena, q->db, "INSERT INTO tokens (nonce, id,"
	    " issued) VALUES (?,?,?)", &q->err);
	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, issued);
	return quarantine_step(q->arena, q->db, st, "issue token", &q->err);
}

int
quarantine_token_consume(struct qstore *q, const char *id, const char *nonce)
{
	sqlite3_stmt *st;

	if (q->pg != NULL)
		return qpg_token_consume(q, id, nonce);

	st = quarantine_prepare(q->arena, q->db, "UPDATE tokens SET used = ?"
	    " WHERE nonce = ? AND id = ? AND used = 0", &q->err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (!quarantine_step(q->arena, q->db, st, "consume token", &q->err))
		return -1;
	return sqlite3_changes(q->db) == 1 ? 1 : 0;
}

bool
quarantine_token_restore(struct qstore *q, const char *id, const char *nonce)
{
	sqlite3_stmt *st;

	if (q->pg != NULL)
		return qpg_token_restore(q, id, nonce);

	st = quarantine_prepare(q->arena, q->db, "UPDATE tokens SET used = 0"
	    " WHERE nonce = ? AND id = ? AND used > 0", &q->err);
	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return quarantine_step(q->arena, q->db, st, "restore token", &q->err);
}

int
quarantine_token_peek(struct qstore *q, const char *id, const char *nonce)
{
	sqlite3_stmt *st;
	int rc;

	if (q->pg != NULL)
		return qpg_token_peek(q, id, nonce);

	st = quarantine_prepare(q->arena, q->db, "SELECT 1 FROM tokens"
	    " WHERE nonce = ? AND id = ? AND used = 0", &q->err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	q->err = arena_printf(q->arena, "quarantine index: token: %s",
	    sqlite3_errmsg(q->db));
	return -1;
}

bool
quarantine_record_fp(struct qstore *q, const struct qentry *e)
{
	sqlite3_stmt *st;
	size_t i;

	if (q->pg != NULL)
		return qpg_record_fp(q, e);

	st = quarantine_prepare(q->arena, q->db, "INSERT INTO false_positives"
	    " (rule, count) VALUES (?, 1)"
	    " ON CONFLICT(rule) DO UPDATE SET count = count + 1", &q->err);
	if (st == NULL)
		return false;
	if (!quarantine_exec(q->arena, q->db, "BEGIN IMMEDIATE", &q->err))
		return false;
	for (i = 0; i < e->nhits; i++) {
		if (e->hits[i].score <= 0)
			continue;	/* only rules that pushed toward spam */
		sqlite3_bind_text(st, 1, e->hits[i].name, -1, SQLITE_STATIC);
		if (!quarantine_step(q->arena, q->db, st, "record false positive",
		    &q->err)) {
			(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
	}
	return quarantine_exec(q->arena, q->db, "COMMIT", &q->err);
}

bool
quarantine_write_stats(struct qstore *q, FILE *out)
{
	sqlite3_stmt *st;
	int rc;

	if (q->pg != NULL)
		return qpg_write_stats(q, out);

	/* Deleted entries keep their rows but no message: counted apart. */
	st = quarantine_prepare(q->arena, q->db, "SELECT 'quarantine.entries',"
	    " count(*) FROM entries WHERE deleted = 0 UNION ALL"
	    " SELECT 'quarantine.bytes', coalesce(sum(size), 0) FROM entries"
	    "  WHERE deleted = 0 UNION ALL"
	    " SELECT 'quarantine.released', count(*) FROM entries"
	    "  WHERE released > 0 AND deleted = 0 UNION ALL"
	    " SELECT 'quarantine.deleted', count(*) FROM entries"
	    "  WHERE deleted > 0 UNION ALL"
	    " SELECT 'quarantine.false_positives.' || rule, count"
	    "  FROM false_positives", &q->err);
	if (st == NULL)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "%s %lld\n", sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: stats: %s",
		    sqlite3_errmsg(q->db));
		return false;
	}
	return true;
}

bool
quarantine_sq_tokens(struct qstore *q, struct qtoken **v_r, size_t *n_r)
{
	struct qtoken *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc;

	st = quarantine_prepare(q->arena, q->db, "SELECT nonce, id, issued, used"
	    " FROM tokens ORDER BY issued", &q->err);
	if (st == NULL)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(q->arena, v, n, &cap, sizeof(*v));
		v[n].nonce = arena_strdup(q->arena,
		    (const char *)sqlite3_column_text(st, 0));
		v[n].id = arena_strdup(q->arena,
		    (const char *)sqlite3_column_text(st, 1));
		v[n].issued = sqlite3_column_int64(st, 2);
		v[n].used = sqlite3_column_int64(st, 3);
		n++;
	}
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: tokens: %s",
		    sqlite3_errmsg(q->db));
		return false;
	}
	*v_r = v;
	*n_r = n;
	return true;
}

bool
quarantine_sq_fps(struct qstore *q, struct qfp **v_r, size_t *n_r)
{
	struct qfp *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc;

	st = quarantine_prepare(q->arena, q->db, "SELECT rule, count"
	    " FROM false_positives ORDER BY rule", &q->err);
	if (st == NULL)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(q->arena, v, n, &cap, sizeof(*v));
		v[n].rule = arena_strdup(q->arena,
		    (const char *)sqlite3_column_text(st, 0));
		v[n].count = sqlite3_column_int64(st, 1);
		n++;
	}
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: false "
		    "positives: %s", sqlite3_errmsg(q->db));
		return false;
	}
	*v_r = v;
	*n_r = n;
	return true;
}

bool
quarantine_sq_import_extra(struct qstore *q, const struct qtoken *t,
    size_t ntok, const struct qfp *f, size_t nfp)
{
	sqlite3_stmt *ts, *fs;
	size_t i;

	ts = quarantine_prepare(q->arena, q->db, "INSERT OR IGNORE INTO tokens"
	    " (nonce, id, issued, used) VALUES (?,?,?,?)", &q->err);
	fs = quarantine_prepare(q->arena, q->db, "INSERT INTO false_positives"
	    " (rule, count) VALUES (?, ?)"
	    " ON CONFLICT(rule) DO UPDATE SET count = count + excluded.count",
	    &q->err);
	if (ts == NULL || fs == NULL ||
	    !quarantine_exec(q->arena, q->db, "BEGIN IMMEDIATE", &q->err))
		return false;
	for (i = 0; i < ntok; i++) {
		sqlite3_bind_text(ts, 1, t[i].nonce, -1, SQLITE_STATIC);
		sqlite3_bind_text(ts, 2, t[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ts, 3, t[i].issued);
		sqlite3_bind_int64(ts, 4, t[i].used);
		if (!quarantine_step(q->arena, q->db, ts, "import token",
		    &q->err))
			goto fail;
	}
	for (i = 0; i < nfp; i++) {
		sqlite3_bind_text(fs, 1, f[i].rule, -1, SQLITE_STATIC);
		sqlite3_bind_int64(fs, 2, f[i].count);
		if (!quarantine_step(q->arena, q->db, fs, "import false "
		    "positive", &q->err))
			goto fail;
	}
	if (quarantine_exec(q->arena, q->db, "COMMIT", &q->err))
		return true;
fail:
	(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}
