/*
 * quarantine_private.h - what quarantine.c shares with quarantine_tokens.c
 * (and nothing else): the admin-side store and its SQLite helpers.  Every
 * statement and string lives in the store's arena.
 */
#ifndef VIGIL_QUARANTINE_PRIVATE_H
#define VIGIL_QUARANTINE_PRIVATE_H

#include <stdbool.h>

#include <sqlite3.h>

struct arena;
struct cfg;

struct qstore {
	struct arena	*arena;		/* entries, strings, errors */
	const struct cfg *cfg;		/* the caller's; not referenced */
	const char	*dir;
	sqlite3		*db;
	const char	*err;
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

#endif
