/*
 * quarantine_private.h - what the quarantine's files share (and nothing
 * else): the admin-side store, its SQLite helpers and the PostgreSQL
 * backend.  Every statement, result and string lives in the store's
 * arena.
 *
 * A store has one of two backends.  The default keeps one file per
 * message under QuarantineDir and an SQLite index (quarantine.c,
 * quarantine_tokens.c); with QuarantineDB set to a postgresql:// URI,
 * entries, message bodies, release nonces and false-positive counts live
 * in that database (quarantine_pg.c).  The public functions of
 * quarantine.h dispatch on q->pg.
 */
#ifndef VIGIL_QUARANTINE_PRIVATE_H
#define VIGIL_QUARANTINE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

struct arena;
struct cfg;
struct msg;
struct qentry;
struct qfilter;
struct verdict;
struct pg_conn;

struct qstore {
	struct arena	*arena;		/* entries, strings, errors */
	const struct cfg *cfg;		/* the caller's; not referenced */
	const char	*dir;
	sqlite3		*db;
	struct pg_conn	*pg;		/* PGconn when QuarantineDB is set */
	const char	*err;
};

/* One release nonce and one false-positive count, for migration. */
struct qtoken {
	const char	*nonce;
	const char	*id;
	int64_t		 issued;
	int64_t		 used;
};

struct qfp {
	const char	*rule;
	int64_t		 count;
};

/* Prepares sql; finalised when a is freed.  NULL with *err_r. */
sqlite3_stmt	*quarantine_prepare(struct arena *a, sqlite3 *db,
		    const char *sql, const char **err_r);
/* Steps st once (DONE or ROW is success) and resets it; what names the
 * operation in *err_r. */
bool		 quarantine_step(struct arena *a, sqlite3 *db,
		    sqlite3_stmt *st, const char *what, const char **err_r);
/* Runs sql (no rows); false with *err_r. */
bool		 quarantine_exec(struct arena *a, sqlite3 *db, const char *sql,
		    const char **err_r);

/* SQLite's side of migration (quarantine_tokens.c). */
bool		 quarantine_sq_tokens(struct qstore *, struct qtoken **v_r,
		    size_t *n_r);
bool		 quarantine_sq_fps(struct qstore *, struct qfp **v_r,
		    size_t *n_r);
bool		 quarantine_sq_import_extra(struct qstore *,
		    const struct qtoken *, size_t ntok, const struct qfp *,
		    size_t nfp);

/*
 * The PostgreSQL backend (quarantine_pg.c).  Each function is the
 * PostgreSQL side of the quarantine.h function of the same name.
 */
#define QPG_SCHEMA_VERSION	2

bool		 qpg_is_uri(const char *s);
/* Can libpq read the URI?  If not, false and *err_r (malloc'd) says why. */
bool		 qpg_uri_check(const char *uri, char **err_r);
bool		 qpg_put(struct arena *a, const char *uri, struct msg *m,
		    const struct verdict *v, const char *id,
		    const unsigned char *raw, size_t len, const char **err_r);
/* Connects q (arena-owned connection) and makes or upgrades the schema;
 * *from_r (may be NULL) gets the version found (0: none). */
bool		 qpg_open(struct qstore *q, const char *uri, int *from_r);
bool		 qpg_list(struct qstore *, const struct qfilter *,
		    const struct qentry ***entries_r, size_t *n_r);
bool		 qpg_list_json(struct qstore *, const struct qfilter *,
		    FILE *out);
const struct qentry *qpg_get(struct qstore *, const char *id);
const unsigned char *qpg_read(struct qstore *, const char *id,
		    size_t *len_r);
bool		 qpg_delete(struct qstore *, const char *id, const char *by);
bool		 qpg_purge(struct qstore *, int64_t before, size_t *n_r);
bool		 qpg_mark_released(struct qstore *, const char *id);
bool		 qpg_token_issue(struct qstore *, const char *id,
		    const char *nonce, int64_t issued);
int		 qpg_token_consume(struct qstore *, const char *id,
		    const char *nonce);
bool		 qpg_token_restore(struct qstore *, const char *id,
		    const char *nonce);
int		 qpg_token_peek(struct qstore *, const char *id,
		    const char *nonce);
bool		 qpg_record_fp(struct qstore *, const struct qentry *);
bool		 qpg_write_stats(struct qstore *, FILE *out);
/* Migration: one entry with its body (kept if the id is already
 * there); nonces and counts (counts add up). */
bool		 qpg_import(struct qstore *, const struct qentry *,
		    const unsigned char *raw, size_t len);
bool		 qpg_tokens(struct qstore *, struct qtoken **v_r, size_t *n_r);
bool		 qpg_fps(struct qstore *, struct qfp **v_r, size_t *n_r);
bool		 qpg_import_extra(struct qstore *, const struct qtoken *,
		    size_t ntok, const struct qfp *, size_t nfp);

#endif
