/*
 * quarantine.h - the quarantine store: one file per message under
 * QuarantineDir plus an SQLite index, or, with QuarantineDB set, one
 * PostgreSQL database that several MXes share (bodies compressed in it).  The milter calls quarantine_put()
 * for ACTION_QUARANTINE and tells the MTA to drop the message only when it
 * returned true (file and directory fsync'd, index row committed).
 *
 * The admin side (vigilctl quarantine) opens the same store with
 * quarantine_open() and lists, shows, releases, deletes and purges
 * entries.  Ids are random lower-case hex and are checked by
 * quarantine_id_is_valid() on every use, so no id can name a path outside
 * the folder.
 */
#ifndef VIGIL_QUARANTINE_H
#define VIGIL_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"

struct cfg;
struct msg;
struct verdict;

/* QuarantineDir, QuarantineDB, QuarantineMode and the release options (registry.c). */
extern const struct opt quarantine_opts[];

enum quarantine_mode {
	QUARANTINE_STORE = 0,	/* our store; the MTA discards the message */
	QUARANTINE_HOLD,	/* the MTA's hold queue (smfi_quarantine) */
};

/* The configured QuarantineMode. */
enum quarantine_mode quarantine_mode(const struct cfg *);

/* Stores m; true with *id_r (arena string), or false with *err_r saying
 * what failed (the message must then be tempfailed, never dropped). */
bool	quarantine_put(struct msg *m, const struct verdict *v,
	    const char **id_r, const char **err_r);

/* Is id the shape of an id this store hands out (no path characters)? */
bool	quarantine_id_is_valid(const char *id);

/* One indexed entry; strings owned by the store. */
struct qhit {
	const char	*name;
	double		 score;
	const char	*detail;
};

struct qentry {
	const char	*id;
	int64_t		 time;		/* seconds since the epoch */
	const char	*queue_id;
	const char	*client;
	const char	*sender;	/* "" for the null sender */
	const char *const *rcpts;	/* NULL-terminated */
	size_t		 nrcpts;
	const char	*subject;	/* decoded */
	double		 score;
	const char	*reason;	/* "spam", "virus", "policy", ... */
	int64_t		 size;
	int64_t		 released;	/* time of the last release, or 0 */
	/* The verdict's versions as JSON text ({"rules": ..., "combined":
	 * ...}); NULL for entries from before they were kept. */
	const char	*versions;
	const struct qhit *hits;
	size_t		 nhits;
	/* When the entry was deleted (its message removed, its row kept so
	 * that it lists as deleted until purged), or 0; and by whom. */
	int64_t		 deleted;
	const char	*deleted_by;	/* "" when not deleted */
};

struct qfilter {
	int64_t		 since;		/* 0: any */
	int64_t		 before;	/* 0: any (entries older than this) */
	const char	*sender;	/* substring, case-insensitive; NULL: any */
	const char	*rcpt;		/* substring, case-insensitive; NULL: any */
	/* exact; "policy" also takes every reason but spam and virus
	 * (dmarc, attachment, ...); NULL: any */
	const char	*reason;
	bool		 has_min_score;
	double		 min_score;
	/* Deleted entries are left out unless this is set (the web pages and
	 * digests never see them; vigilctl quarantine list does). */
	bool		 with_deleted;
};

struct qstore;

/*
 * Opens the store named by cfg's QuarantineDir (creating the folder and
 * index when create is true).  Returns it, or NULL with *err_r set to a
 * malloc'd message (caller frees).
 */
struct qstore	*quarantine_open(const struct cfg *, bool create, char **err_r);
/* The same for an explicit folder or postgresql:// URI (migration). */
struct qstore	*quarantine_open_at(const struct cfg *, const char *where,
		    bool create, char **err_r);
/* Is the configured store a database shared by hosts (QuarantineDB)? */
bool		 quarantine_is_shared(const struct cfg *);
/* QuarantineDB, when set, is a URI libpq reads; false and *err_r
 * (malloc'd) if not.  Checked when a configuration is loaded, so that
 * vigil -n and a start refuse it rather than the first quarantined
 * message. */
bool		 quarantine_cfg_check(const struct cfg *, char **err_r);
/* A folder store whose folder exists and holds no index yet: a fresh
 * install with nothing quarantined (never true of a database). */
bool		 quarantine_never_used(const struct cfg *);
/* "PostgreSQL" or the folder, for messages. */
const char	*quarantine_where(const struct qstore *);
/* Makes or upgrades the configured store's schema: versions before and
 * after in *from_r (0: none) and *to_r; false with *err_r (malloc'd). */
bool		 quarantine_upgrade(const struct cfg *, int *from_r, int *to_r,
		    char **err_r);
/* Copies every entry, message, release nonce and false-positive count
 * of from into to (ids already in to are kept); *n_r entries. */
bool		 quarantine_migrate(struct qstore *from, struct qstore *to,
		    size_t *n_r, const char **err_r);
/* Closes the store and frees every entry and string it handed out. */
void		 quarantine_close(struct qstore **);
/* The last error on the store: what failed and why. */
const char	*quarantine_error(const struct qstore *);
const struct cfg *quarantine_cfg(const struct qstore *);

/* Entries matching f (NULL: all), oldest first; false on error. */
bool		 quarantine_list(struct qstore *, const struct qfilter *f,
		    const struct qentry ***entries_r, size_t *n_r);
/* Writes one JSON object a line per matching entry (with recipients and
 * hits), oldest first; false on error. */
bool		 quarantine_list_json(struct qstore *, const struct qfilter *f,
		    FILE *out);
/* One entry with its hits; NULL when unknown, deleted, invalid or on
 * error. */
const struct qentry *quarantine_get(struct qstore *, const char *id);
/* The same, deleted entries included (their deleted field set). */
const struct qentry *quarantine_get_any(struct qstore *, const char *id);
/* The message file of an entry (string owned by the store); NULL for a
 * store that keeps no files (QuarantineDB). */
const char	*quarantine_path(struct qstore *, const char *id);
/* Reads the stored message into memory owned by the store. */
const unsigned char *quarantine_read(struct qstore *, const char *id,
		    size_t *len_r);
/* Removes an entry's message and marks its index row deleted now by
 * `by` (who or what; NULL: "vigilctl"); false for one already deleted. */
bool		 quarantine_delete(struct qstore *, const char *id);
bool		 quarantine_delete_by(struct qstore *, const char *id,
		    const char *by);
/* Removes every entry older than before, deleted ones too, for good;
 * count in *n_r. */
bool		 quarantine_purge(struct qstore *, int64_t before, size_t *n_r);
/* Marks an entry released now. */
bool		 quarantine_mark_released(struct qstore *, const char *id);

/*
 * Release tokens: a single-use nonce recorded in the index when a release
 * is issued, consumed when the filter sees it come back, and made unused
 * again if that copy is then not accepted (the MTA retries it).
 */
bool		 quarantine_token_issue(struct qstore *, const char *id,
		    const char *nonce, int64_t issued);
/* 1: consumed now; 0: unknown or already used; -1: error. */
int		 quarantine_token_consume(struct qstore *, const char *id,
		    const char *nonce);

/* Makes a consumed token unused again; false with the error. */
bool		 quarantine_token_restore(struct qstore *, const char *id,
		    const char *nonce);

/* The same answer as consume, without using the token (offline scans). */
int		 quarantine_token_peek(struct qstore *, const char *id,
		    const char *nonce);

/* False positives: one count per rule that hit a released-as-ham entry. */
bool		 quarantine_record_fp(struct qstore *, const struct qentry *);
/* Writes "quarantine.* value" counter lines (entries and bytes held or
 * released, released, deleted, false positives). */
bool		 quarantine_write_stats(struct qstore *, FILE *out);

#endif
