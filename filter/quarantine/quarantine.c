/*
 * quarantine.c - the quarantine store.  Each message is one file
 * QuarantineDir/ID.eml (0600, written and fsync'd with its folder before
 * the index row is committed); the index is QuarantineDir/index.sqlite in
 * WAL mode with synchronous=FULL.  The milter side (quarantine_put) opens
 * the index per message, so a reload that moves QuarantineDir takes effect
 * at once and threads share nothing; SQLite's busy timeout serialises
 * concurrent writers.  The admin side (struct qstore) keeps one connection
 * and one arena that owns every entry it hands out.
 *
 * Re-injection and release tokens live in release.c; the index's other
 * tables (release nonces, false positives, counters) in quarantine_tokens.c.
 * With QuarantineDB set, every public function hands over to the
 * PostgreSQL backend (quarantine_pg.c) instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "quarantine/quarantine.h"
#include "quarantine/quarantine_private.h"
#include "snap.h"
#include "verdict.h"

#define ID_BYTES	16		/* 32 hex characters */
#define BUSY_MS		15000		/* wait for other writers this long */
#define SCHEMA_VERSION	3

/* Serialises the milter's index writes (see quarantine_put). */
static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;

const struct opt quarantine_opts[] = {
	{ "QuarantineDir", OPT_PATH, LOCALSTATEDIR "/lib/vigil/quarantine", 0, 0, NULL,
	  "Folder of the quarantine store: one file per message and index.sqlite (made on first use)" },
	{ "QuarantineDB", OPT_STRING, NULL, 0, 0, NULL,
	  "postgresql://USER@HOST/DB: keep the quarantine (entries, compressed bodies, release "
	  "nonces, false positives) in that PostgreSQL database, shared by every MX and vigilctl, "
	  "instead of QuarantineDir's files and index.sqlite; the password belongs in ~/.pgpass or "
	  "passfile=, not here" },
	{ "QuarantineDBTimeout", OPT_DURATION, "10s", 1000, 600000, NULL,
	  "Longest wait for the QuarantineDB server, to connect and for each answer; "
	  "past it the message is tempfailed" },
	{ "QuarantineMode", OPT_ENUM, "store", 0, 0, "store|hold",
	  "store: vigil's own quarantine; hold: the MTA's hold queue (postsuper -H)" },
	{ "ReleaseKeyFile", OPT_PATH, NULL, 0, 0, NULL,
	  "HMAC key for release tokens (default QuarantineDir/release.key, made on first release); "
	  "refused unless owned by the reader or root and mode 0600 or stricter" },
	{ "ReleaseTokenLifetime", OPT_DURATION, "7d", 60000, 31536000000.0, NULL,
	  "How long a release token lets its copy through after it was issued" },
	{ "SendmailCommand", OPT_STRING, "/usr/sbin/sendmail", 0, 0, NULL,
	  "The MTA's sendmail and its arguments, split at blanks (no shell), for release" },
	{ NULL }
};

static const char schema[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE IF NOT EXISTS entries ("
	" id TEXT PRIMARY KEY, time INTEGER NOT NULL, queue_id TEXT,"
	" client TEXT, sender TEXT, subject TEXT, score REAL, reason TEXT,"
	" action TEXT, size INTEGER, released INTEGER NOT NULL DEFAULT 0,"
	" versions TEXT, deleted INTEGER NOT NULL DEFAULT 0, deleted_by TEXT);"
	"CREATE INDEX IF NOT EXISTS entries_time ON entries(time);"
	"CREATE TABLE IF NOT EXISTS rcpts ("
	" id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
	" n INTEGER NOT NULL, addr TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS rcpts_id ON rcpts(id);"
	"CREATE TABLE IF NOT EXISTS hits ("
	" id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
	" n INTEGER NOT NULL, name TEXT NOT NULL, score REAL,"
	" detail TEXT);"
	"CREATE INDEX IF NOT EXISTS hits_id ON hits(id);"
	"CREATE TABLE IF NOT EXISTS tokens ("
	" nonce TEXT PRIMARY KEY, id TEXT NOT NULL, issued INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS false_positives ("
	" rule TEXT PRIMARY KEY, count INTEGER NOT NULL);"
	"PRAGMA user_version = 3;"
	"COMMIT;";

/*
 * Upgrades in place, one step per schema version, each in its own
 * transaction: 1 -> 2 adds the versions a verdict was made with (a JSON
 * object; NULL for entries written before); 2 -> 3 when and by whom an
 * entry was deleted (its row stays, listed as deleted, until purged).
 */
static const char *const upgrades[] = {
	NULL,
	"BEGIN IMMEDIATE;"
	"ALTER TABLE entries ADD COLUMN versions TEXT;"
	"PRAGMA user_version = 2;"
	"COMMIT;",
	"BEGIN IMMEDIATE;"
	"ALTER TABLE entries ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE entries ADD COLUMN deleted_by TEXT;"
	"PRAGMA user_version = 3;"
	"COMMIT;",
};

enum quarantine_mode
quarantine_mode(const struct cfg *c)
{
	return cfg_enum(c, "QuarantineMode") == 1 ? QUARANTINE_HOLD :
	    QUARANTINE_STORE;
}

bool
quarantine_id_is_valid(const char *id)
{
	size_t i;

	if (id == NULL)
		return false;
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == ID_BYTES * 2;
}

/* Creates dir (0700) and its missing parents (0755) unless it exists as
 * a folder. */
static bool
dir_make(struct arena *a, const char *dir, const char **err_r)
{
	struct stat st;
	char *p = arena_printf(a, "%s", dir);

	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			*err_r = arena_printf(a, "quarantine %s: mkdir %s: %s",
			    dir, p, strerror(errno));
			return false;
		}
		*s = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		*err_r = arena_printf(a, "quarantine %s: mkdir: %s", dir,
		    strerror(errno));
		return false;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*err_r = arena_printf(a, "quarantine %s: not a folder", dir);
		return false;
	}
	return true;
}

/* The index's PRAGMA user_version; 0 for a new (or unreadable) file. */
static int
schema_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Opens (and with create, makes) the index of dir.  The file is made 0600
 * before SQLite sees it, so its -wal and -shm files inherit that mode.
 */
static sqlite3 *
index_open(struct arena *a, const char *dir, bool create, const char **err_r)
{
	char *path = arena_printf(a, "%s/index.sqlite", dir);
	sqlite3 *db = NULL;
	char *emsg = NULL;
	int fd, rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (create) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (fd == -1) {
			*err_r = arena_printf(a, "quarantine index %s: open: %s",
			    path, strerror(errno));
			return NULL;
		}
		close(fd);
	}
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		*err_r = arena_printf(a, "quarantine index %s: open: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	/*
	 * The milter opens the index per message: closing the last
	 * connection must not checkpoint and delete the WAL every time (a
	 * handful of fsyncs); SQLite's auto-checkpoint at commit does it.
	 */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	    NULL, NULL, &emsg);
	/* An index from an earlier version: upgraded by whoever opens it
	 * first (another process may have done it meanwhile). */
	for (int v; rc == SQLITE_OK && (v = schema_version(db)) > 0 &&
	    v < SCHEMA_VERSION;) {
		rc = sqlite3_exec(db, upgrades[v], NULL, NULL, &emsg);
		if (rc != SQLITE_OK) {
			/* Nothing to undo if the transaction never began. */
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			if (schema_version(db) > v) {
				/* Someone else upgraded it first. */
				sqlite3_free(emsg);
				emsg = NULL;
				rc = SQLITE_OK;
			}
		}
	}
	/* The schema is written once (a write per open costs an fsync). */
	if (rc == SQLITE_OK && create && schema_version(db) < SCHEMA_VERSION)
		rc = sqlite3_exec(db, schema, NULL, NULL, &emsg);
	if (rc != SQLITE_OK) {
		*err_r = arena_printf(a, "quarantine index %s: setup: %s", path,
		    emsg != NULL ? emsg : sqlite3_errstr(rc));
		sqlite3_free(emsg);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void
db_close_deferred(void *db)
{
	sqlite3_close(db);
}

/* The schema version of dir's index before it is opened (0: none). */
static int
index_version(struct arena *a, const char *dir)
{
	char *path = arena_printf(a, "%s/index.sqlite", dir);
	sqlite3 *db = NULL;
	int v = 0;

	if (access(path, F_OK) == 0 && sqlite3_open_v2(path, &db,
	    SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		v = schema_version(db);
	sqlite3_close(db);
	return v;
}

static void
stmt_finalize_deferred(void *st)
{
	sqlite3_finalize(st);
}

/* Prepares sql; the statement is finalised when a is freed. */
sqlite3_stmt *
quarantine_prepare(struct arena *a, sqlite3 *db, const char *sql, const char **err_r)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*err_r = arena_printf(a, "quarantine index: prepare: %s",
		    sqlite3_errmsg(db));
		return NULL;
	}
	arena_defer(a, stmt_finalize_deferred, st);
	return st;
}

bool
quarantine_step(struct arena *a, sqlite3 *db, sqlite3_stmt *st, const char *what,
    const char **err_r)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*err_r = arena_printf(a, "quarantine index: %s: %s", what,
		    sqlite3_errmsg(db));
		return false;
	}
	sqlite3_reset(st);
	return true;
}

bool
quarantine_exec(struct arena *a, sqlite3 *db, const char *sql, const char **err_r)
{
	char *emsg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &emsg) != SQLITE_OK) {
		*err_r = arena_printf(a, "quarantine index: %s: %s", sql,
		    emsg != NULL ? emsg : sqlite3_errmsg(db));
		sqlite3_free(emsg);
		return false;
	}
	return true;
}

/* Writes len bytes at p to a new file path (0600) and fsyncs it. */
static bool
file_write_synced(struct arena *a, const char *path, const unsigned char *p,
    size_t len, const char **err_r)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		*err_r = arena_printf(a, "quarantine %s: create: %s", path,
		    strerror(errno));
		return false;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err_r = arena_printf(a,
			    "quarantine %s: write at %zu of %zu bytes: %s",
			    path, off, len, n == 0 ? "no progress" :
			    strerror(errno));
			close(fd);
			return false;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		*err_r = arena_printf(a, "quarantine %s: fsync: %s", path,
		    strerror(errno));
		close(fd);
		return false;
	}
	if (close(fd) == -1) {
		*err_r = arena_printf(a, "quarantine %s: close: %s", path,
		    strerror(errno));
		return false;
	}
	return true;
}

static bool
dir_sync(struct arena *a, const char *dir, const char **err_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1) {
		*err_r = arena_printf(a, "quarantine %s: fsync folder: %s", dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* Inserts m's entry, recipients and hits in one transaction. */
static bool
index_insert(struct arena *a, sqlite3 *db, struct msg *m,
    const struct verdict *v, const char *id, const char **err_r)
{
	const struct mview *view = msg_view(m);
	sqlite3_stmt *st;
	size_t i;

	if (!quarantine_exec(a, db, "BEGIN IMMEDIATE", err_r))
		return false;
	st = quarantine_prepare(a, db, "INSERT INTO entries (id, time, queue_id,"
	    " client, sender, subject, score, reason, action, size, versions)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?)", err_r);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, msg_queue_id(m), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, msg_client_addr(m), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, msg_mail_from(m) != NULL ? msg_mail_from(m) :
	    "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, view != NULL ? view->subject : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_double(st, 7, v->score);
	sqlite3_bind_text(st, 8, v->reason != NULL ? v->reason : "spam", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 9, action_name(v->action), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)msg_size(m));
	sqlite3_bind_text(st, 11, verdict_versions_json(m, v), -1,
	    SQLITE_STATIC);
	if (!quarantine_step(a, db, st, "insert entry", err_r))
		goto fail;

	st = quarantine_prepare(a, db, "INSERT INTO rcpts (id, n, addr)"
	    " VALUES (?,?,?)", err_r);
	if (st == NULL)
		goto fail;
	for (i = 0; i < msg_rcpt_count(m); i++) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, msg_rcpt(m, i), -1, SQLITE_STATIC);
		if (!quarantine_step(a, db, st, "insert recipient", err_r))
			goto fail;
	}

	st = quarantine_prepare(a, db, "INSERT INTO hits (id, n, name, score,"
	    " detail) VALUES (?,?,?,?,?)", err_r);
	if (st == NULL)
		goto fail;
	for (i = 0; i < msg_hit_count(m); i++) {
		const struct hit *h = msg_hit(m, i);

		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, h->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, h->score);
		sqlite3_bind_text(st, 5, h->detail != NULL ? h->detail : "", -1,
		    SQLITE_STATIC);
		if (!quarantine_step(a, db, st, "insert hit", err_r))
			goto fail;
	}
	if (!quarantine_exec(a, db, "COMMIT", err_r))
		goto fail;
	return true;
fail:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);	/* err_r set */
	return false;
}

bool
quarantine_put(struct msg *m, const struct verdict *v, const char **id_r,
    const char **err_r)
{
	struct arena *a = msg_arena(m);
	const struct cfg *c = snap_cfg(msg_snap(m));
	const char *dir = cfg_str(c, "QuarantineDir");
	const char *uri = cfg_str(c, "QuarantineDB");
	unsigned char rnd[ID_BYTES];
	const unsigned char *raw;
	char *id, *path;
	sqlite3 *db;
	size_t len;
	bool ok;

	if (uri != NULL) {
		if (!qpg_is_uri(uri)) {
			*err_r = "QuarantineDB is not a postgresql:// URI";
			return false;
		}
		if (!util_random(rnd, sizeof(rnd))) {
			*err_r = arena_printf(a, "quarantine: random id: %s",
			    strerror(errno));
			return false;
		}
		id = arena_alloc(a, ID_BYTES * 2 + 1);
		util_hex(id, rnd, sizeof(rnd));
		if ((raw = msg_raw(m, &len)) == NULL) {
			*err_r = "quarantine: the message's bytes are not "
			    "available";
			return false;
		}
		if (!qpg_put(a, uri, m, v, id, raw, len, err_r))
			return false;
		*id_r = id;
		return true;
	}
	if (dir == NULL) {
		*err_r = "QuarantineDir is not set";
		return false;
	}
	if (!dir_make(a, dir, err_r))
		return false;
	if (!util_random(rnd, sizeof(rnd))) {
		*err_r = arena_printf(a, "quarantine: random id: %s",
		    strerror(errno));
		return false;
	}
	id = arena_alloc(a, ID_BYTES * 2 + 1);
	util_hex(id, rnd, sizeof(rnd));
	path = arena_printf(a, "%s/%s.eml", dir, id);

	/* The file and its name are on disk before the index knows it. */
	raw = msg_raw(m, &len);
	if (raw == NULL) {
		*err_r = "quarantine: the message's bytes are not available";
		return false;
	}
	if (!file_write_synced(a, path, raw, len, err_r))
		goto fail_file;
	if (!dir_sync(a, dir, err_r))
		goto fail_file;

	/*
	 * One writer at a time in this process: threads queue on the mutex
	 * instead of on SQLite's busy handler, whose growing sleeps left
	 * some messages waiting seconds under 20 concurrent puts.
	 */
	pthread_mutex_lock(&index_lock);
	db = index_open(a, dir, true, err_r);
	if (db != NULL)	/* closed after its statements, with the arena */
		arena_defer(a, db_close_deferred, db);
	ok = db != NULL && index_insert(a, db, m, v, id, err_r);
	pthread_mutex_unlock(&index_lock);
	if (!ok)
		goto fail_file;
	*id_r = id;
	return true;
fail_file:
	/* The caller tempfails: no entry may point at a half-written file. */
	(void)unlink(path);	/* ENOENT when create failed */
	return false;
}

/* The admin side. */

/* The store at where (a folder or a postgresql:// URI). */
static struct qstore *
store_open(const struct cfg *c, const char *where, bool create,
    int *from_r, char **err_r)
{
	struct qstore *q;
	struct arena *a = arena_new("quarantine");
	const char *err = NULL;
	struct stat st;

	q = arena_alloc(a, sizeof(*q));
	q->arena = a;
	q->cfg = c;
	if (qpg_is_uri(where)) {
		if (!qpg_open(q, where, from_r))
			goto fail;
		return q;
	}
	q->dir = where;
	if (q->dir == NULL)
		err = "QuarantineDir is not set";
	else if (create && !dir_make(a, q->dir, &err))
		;
	else if (!create && stat(q->dir, &st) == -1)
		err = arena_printf(a, "quarantine %s: %s", q->dir,
		    strerror(errno));
	else if (!create && stat(arena_printf(a, "%s/index.sqlite", q->dir),
	    &st) == -1)
		err = arena_printf(a, "quarantine %s: no index.sqlite: %s "
		    "(nothing quarantined yet?)", q->dir, strerror(errno));
	else {
		if (from_r != NULL)
			*from_r = index_version(a, q->dir);
		q->db = index_open(a, q->dir, true, &err);
	}
	if (err != NULL) {
		q->err = err;
		goto fail;
	}
	arena_defer(a, db_close_deferred, q->db);
	return q;
fail:
	*err_r = strdup(q->err);
	if (*err_r == NULL)
		log_oom(strlen(q->err), "quarantine");
	arena_free(&a);
	return NULL;
}

/* QuarantineDB, or QuarantineDir; NULL with *err_r if neither works. */
static const char *
store_where(const struct cfg *c, char **err_r)
{
	const char *uri = cfg_str(c, "QuarantineDB");
	const char *err = NULL;

	if (uri != NULL && !qpg_is_uri(uri))
		err = "QuarantineDB is not a postgresql:// URI";
	else if (uri != NULL)
		return uri;
	else if (cfg_str(c, "QuarantineDir") == NULL)
		err = "QuarantineDir is not set";
	else
		return cfg_str(c, "QuarantineDir");
	*err_r = strdup(err);
	if (*err_r == NULL)
		log_oom(strlen(err), "quarantine");
	return NULL;
}

struct qstore *
quarantine_open(const struct cfg *c, bool create, char **err_r)
{
	const char *where = store_where(c, err_r);

	return where != NULL ? store_open(c, where, create, NULL, err_r) :
	    NULL;
}

struct qstore *
quarantine_open_at(const struct cfg *c, const char *where, bool create,
    char **err_r)
{
	return store_open(c, where, create, NULL, err_r);
}

bool
quarantine_is_shared(const struct cfg *c)
{
	return cfg_str(c, "QuarantineDB") != NULL;
}

bool
quarantine_cfg_check(const struct cfg *c, char **err_r)
{
	const char *uri = cfg_str(c, "QuarantineDB");
	char *why = NULL;

	*err_r = NULL;
	if (uri == NULL || qpg_uri_check(uri, &why))
		return true;
	/* Not the URI itself: it may hold a password. */
	if (asprintf(err_r, "QuarantineDB: %s", why != NULL ? why :
	    "cannot be read") < 0)
		*err_r = NULL;
	free(why);
	return false;
}

bool
quarantine_never_used(const struct cfg *c)
{
	const char *dir = cfg_str(c, "QuarantineDir");
	char *index = NULL;
	struct stat st;
	bool unused = false;

	if (quarantine_is_shared(c))
		return false;	/* the database says */
	if (dir != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    asprintf(&index, "%s/index.sqlite", dir) != -1 &&
	    access(index, F_OK) == -1 && errno == ENOENT)
		unused = true;
	free(index);
	return unused;
}

bool
quarantine_upgrade(const struct cfg *c, int *from_r, int *to_r,
    char **err_r)
{
	const char *where = store_where(c, err_r);
	struct qstore *q;

	*from_r = 0;
	if (where == NULL ||
	    (q = store_open(c, where, true, from_r, err_r)) == NULL)
		return false;
	*to_r = q->pg != NULL ? QPG_SCHEMA_VERSION : schema_version(q->db);
	quarantine_close(&q);
	return true;
}

const char *
quarantine_where(const struct qstore *q)
{
	return q->pg != NULL ? "PostgreSQL" : q->dir;
}

void
quarantine_close(struct qstore **qp)
{
	struct arena *a;

	if (qp == NULL || *qp == NULL)
		return;
	a = (*qp)->arena;
	*qp = NULL;
	arena_free(&a);
}

const char *
quarantine_error(const struct qstore *q)
{
	return q->err != NULL ? q->err : "no error";
}

const struct cfg *
quarantine_cfg(const struct qstore *q)
{
	return q->cfg;
}

static const char *
col_text(struct arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return arena_strdup(a, s != NULL ? (const char *)s : "");
}

#define ENTRY_COLUMNS \
	"id, time, queue_id, client, sender, subject, score, reason, size," \
	" released, versions, deleted, deleted_by"

static struct qentry *
entry_from_row(struct qstore *q, sqlite3_stmt *st)
{
	struct qentry *e = arena_alloc(q->arena, sizeof(*e));

	e->id = col_text(q->arena, st, 0);
	e->time = sqlite3_column_int64(st, 1);
	e->queue_id = col_text(q->arena, st, 2);
	e->client = col_text(q->arena, st, 3);
	e->sender = col_text(q->arena, st, 4);
	e->subject = col_text(q->arena, st, 5);
	e->score = sqlite3_column_double(st, 6);
	e->reason = col_text(q->arena, st, 7);
	e->size = sqlite3_column_int64(st, 8);
	e->released = sqlite3_column_int64(st, 9);
	e->versions = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL :
	    col_text(q->arena, st, 10);
	e->deleted = sqlite3_column_int64(st, 11);
	e->deleted_by = col_text(q->arena, st, 12);
	return e;
}

/* Fills e's recipients. */
static bool
entry_load_rcpts(struct qstore *q, sqlite3_stmt *st, struct qentry *e)
{
	const char **v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n + 1 >= cap) {
			const char **nv;

			cap = cap == 0 ? 4 : cap * 2;
			nv = arena_alloc(q->arena, cap * sizeof(*nv));
			if (n > 0)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
		}
		v[n++] = col_text(q->arena, st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: recipients "
		    "of %s: %s", e->id, sqlite3_errmsg(q->db));
		return false;
	}
	if (v == NULL)
		v = arena_alloc(q->arena, sizeof(*v));
	v[n] = NULL;
	e->rcpts = v;
	e->nrcpts = n;
	return true;
}

/* The WHERE clause of a struct qfilter, bound by filter_bind(). */
#define FILTER_WHERE \
	"(?1 = 0 OR time >= ?1)" \
	" AND (?2 = 0 OR time < ?2)" \
	" AND (?3 IS NULL OR instr(lower(sender), lower(?3)) > 0)" \
	" AND (?4 IS NULL OR EXISTS (SELECT 1 FROM rcpts r" \
	"  WHERE r.id = entries.id" \
	"  AND instr(lower(r.addr), lower(?4)) > 0))" \
	" AND (?5 IS NULL OR reason = ?5 OR (?5 = 'policy'" \
	"  AND reason NOT IN ('spam', 'virus')))" \
	" AND (?6 IS NULL OR score >= ?6)" \
	" AND (?7 = 1 OR deleted = 0)"

static void
filter_bind(sqlite3_stmt *st, const struct qfilter *f)
{
	sqlite3_bind_int64(st, 1, f->since);
	sqlite3_bind_int64(st, 2, f->before);
	if (f->sender != NULL)
		sqlite3_bind_text(st, 3, f->sender, -1, SQLITE_STATIC);
	if (f->rcpt != NULL)
		sqlite3_bind_text(st, 4, f->rcpt, -1, SQLITE_STATIC);
	if (f->reason != NULL)
		sqlite3_bind_text(st, 5, f->reason, -1, SQLITE_STATIC);
	if (f->has_min_score)
		sqlite3_bind_double(st, 6, f->min_score);
	sqlite3_bind_int(st, 7, f->with_deleted ? 1 : 0);
}

/* One entry as a JSON object, built by SQLite (json_object escapes). */
#define ENTRY_JSON \
	"json_object('id', id, 'time', time," \
	" 'date', strftime('%Y-%m-%dT%H:%M:%SZ', time, 'unixepoch')," \
	" 'queue_id', queue_id, 'client', client, 'sender', sender," \
	" 'rcpts', (SELECT json_group_array(addr) FROM" \
	"  (SELECT addr FROM rcpts r WHERE r.id = entries.id ORDER BY n))," \
	" 'subject', subject, 'score', score, 'reason', reason," \
	" 'action', action, 'size', size, 'released', released," \
	" 'versions', json(versions)," \
	" 'state', CASE WHEN deleted > 0 THEN 'deleted'" \
	"  WHEN released > 0 THEN 'released' ELSE 'held' END," \
	" 'deleted', deleted, 'deleted_by', deleted_by," \
	" 'hits', (SELECT json_group_array(json_object('name', name," \
	"  'score', score, 'detail', detail)) FROM" \
	"  (SELECT name, score, detail FROM hits h" \
	"   WHERE h.id = entries.id ORDER BY n)))"

bool
quarantine_list_json(struct qstore *q, const struct qfilter *f, FILE *out)
{
	static const struct qfilter none;
	sqlite3_stmt *st;
	int rc;

	if (q->pg != NULL)
		return qpg_list_json(q, f, out);
	st = quarantine_prepare(q->arena, q->db, "SELECT " ENTRY_JSON
	    " FROM entries WHERE " FILTER_WHERE " ORDER BY time, rowid", &q->err);
	if (st == NULL)
		return false;
	filter_bind(st, f != NULL ? f : &none);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "%s\n", sqlite3_column_text(st, 0));
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: list: %s",
		    sqlite3_errmsg(q->db));
		return false;
	}
	return true;
}

bool
quarantine_list(struct qstore *q, const struct qfilter *f,
    const struct qentry ***entries_r, size_t *n_r)
{
	static const struct qfilter none;
	sqlite3_stmt *st, *rst;
	const struct qentry **v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (f == NULL)
		f = &none;
	if (q->pg != NULL)
		return qpg_list(q, f, entries_r, n_r);
	st = quarantine_prepare(q->arena, q->db, "SELECT " ENTRY_COLUMNS
	    " FROM entries WHERE " FILTER_WHERE " ORDER BY time, rowid", &q->err);
	rst = quarantine_prepare(q->arena, q->db, "SELECT addr FROM rcpts"
	    " WHERE id = ? ORDER BY n", &q->err);
	if (st == NULL || rst == NULL)
		return false;
	filter_bind(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct qentry *e = entry_from_row(q, st);

		if (!entry_load_rcpts(q, rst, e))
			return false;
		if (n + 1 >= cap) {
			const struct qentry **nv;

			cap = cap == 0 ? 16 : cap * 2;
			nv = arena_alloc(q->arena, cap * sizeof(*nv));
			if (n > 0)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
		}
		v[n++] = e;
	}
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: list: %s",
		    sqlite3_errmsg(q->db));
		return false;
	}
	*entries_r = v;
	*n_r = n;
	return true;
}

static const struct qentry *
entry_get(struct qstore *q, const char *id);

const struct qentry *
quarantine_get(struct qstore *q, const char *id)
{
	const struct qentry *e = entry_get(q, id);

	if (e != NULL && e->deleted != 0) {
		q->err = arena_printf(q->arena, "quarantine entry %s was "
		    "deleted", id);
		return NULL;
	}
	return e;
}

const struct qentry *
quarantine_get_any(struct qstore *q, const char *id)
{
	return entry_get(q, id);
}

static const struct qentry *
entry_get(struct qstore *q, const char *id)
{
	sqlite3_stmt *st, *rst, *hst;
	struct qentry *e;
	struct qhit *hits = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!quarantine_id_is_valid(id)) {
		q->err = arena_printf(q->arena, "not a quarantine id: \"%.40s\"",
		    id);
		return NULL;
	}
	if (q->pg != NULL)
		return qpg_get(q, id);
	st = quarantine_prepare(q->arena, q->db, "SELECT " ENTRY_COLUMNS
	    " FROM entries WHERE id = ?", &q->err);
	rst = quarantine_prepare(q->arena, q->db, "SELECT addr FROM rcpts"
	    " WHERE id = ? ORDER BY n", &q->err);
	hst = quarantine_prepare(q->arena, q->db, "SELECT name, score, detail"
	    " FROM hits WHERE id = ? ORDER BY n", &q->err);
	if (st == NULL || rst == NULL || hst == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		q->err = arena_printf(q->arena, "no quarantine entry %s", id);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		q->err = arena_printf(q->arena, "quarantine index: get %s: %s",
		    id, sqlite3_errmsg(q->db));
		return NULL;
	}
	e = entry_from_row(q, st);
	sqlite3_reset(st);
	if (!entry_load_rcpts(q, rst, e))
		return NULL;
	sqlite3_bind_text(hst, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(hst)) == SQLITE_ROW) {
		if (n + 1 >= cap) {
			struct qhit *nh;

			cap = cap == 0 ? 8 : cap * 2;
			nh = arena_alloc(q->arena, cap * sizeof(*nh));
			if (n > 0)
				memcpy(nh, hits, n * sizeof(*nh));
			hits = nh;
		}
		hits[n].name = col_text(q->arena, hst, 0);
		hits[n].score = sqlite3_column_double(hst, 1);
		hits[n].detail = col_text(q->arena, hst, 2);
		n++;
	}
	if (rc != SQLITE_DONE) {
		q->err = arena_printf(q->arena, "quarantine index: hits of %s:"
		    " %s", id, sqlite3_errmsg(q->db));
		return NULL;
	}
	e->hits = hits;
	e->nhits = n;
	return e;
}

const char *
quarantine_path(struct qstore *q, const char *id)
{
	if (!quarantine_id_is_valid(id))
		BUG("quarantine_path: invalid id reached the store");
	if (q->pg != NULL)
		return NULL;	/* no files */
	return arena_printf(q->arena, "%s/%s.eml", q->dir, id);
}

const unsigned char *
quarantine_read(struct qstore *q, const char *id, size_t *len_r)
{
	const char *path;
	unsigned char *buf;
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	if (!quarantine_id_is_valid(id)) {
		q->err = arena_printf(q->arena, "not a quarantine id: \"%.40s\"",
		    id);
		return NULL;
	}
	if (q->pg != NULL)
		return qpg_read(q, id, len_r);
	path = quarantine_path(q, id);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fstat(fd, &st) == -1) {
		q->err = arena_printf(q->arena, "quarantine %s: open: %s",
		    path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	buf = arena_alloc(q->arena, (size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (off != (size_t)st.st_size) {
		q->err = arena_printf(q->arena, "quarantine %s: read %zu of "
		    "%lld bytes", path, off, (long long)st.st_size);
		return NULL;
	}
	*len_r = off;
	return buf;
}

/* Marks the row of id deleted inside the caller's transaction. */
static bool
index_delete(struct qstore *q, const char *id, const char *by)
{
	sqlite3_stmt *st;

	st = quarantine_prepare(q->arena, q->db, "UPDATE entries SET"
	    " deleted = ?, deleted_by = ? WHERE id = ? AND deleted = 0",
	    &q->err);
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	return quarantine_step(q->arena, q->db, st, "delete", &q->err);
}

bool
quarantine_delete(struct qstore *q, const char *id)
{
	return quarantine_delete_by(q, id, NULL);
}

/*
 * The message goes, the row stays (marked deleted, with when and by
 * whom) so that the entry lists as deleted until purge removes it.
 */
bool
quarantine_delete_by(struct qstore *q, const char *id, const char *by)
{
	const struct qentry *e;
	const char *path;

	if ((e = quarantine_get_any(q, id)) == NULL)
		return false;
	if (e->deleted != 0) {
		q->err = arena_printf(q->arena, "quarantine entry %s was "
		    "already deleted", id);
		return false;
	}
	if (by == NULL || *by == '\0')
		by = "vigilctl";
	if (q->pg != NULL)
		return qpg_delete(q, id, by);
	path = quarantine_path(q, id);
	if (!quarantine_exec(q->arena, q->db, "BEGIN IMMEDIATE", &q->err))
		return false;
	if (!index_delete(q, id, by) ||
	    !quarantine_exec(q->arena, q->db, "COMMIT", &q->err)) {
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	/* The row says deleted first: a file of a deleted row is only
	 * garbage. */
	if (unlink(path) == -1 && errno != ENOENT) {
		q->err = arena_printf(q->arena, "quarantine %s: unlink: %s",
		    path, strerror(errno));
		return false;
	}
	return true;
}

/* Removes files of entries that never made it into the index (a crash
 * between the file and the row) once they are older than before. */
static void
purge_orphans(struct qstore *q, int64_t before)
{
	sqlite3_stmt *st;
	struct dirent *d;
	struct stat sb;
	char id[ID_BYTES * 2 + 1];
	DIR *dir;

	/* A deleted row's file is garbage too (its unlink failed). */
	st = quarantine_prepare(q->arena, q->db, "SELECT 1 FROM entries"
	    " WHERE id = ? AND deleted = 0", &q->err);
	if (st == NULL || (dir = opendir(q->dir)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		const char *path;
		size_t len = strlen(d->d_name);

		if (len != ID_BYTES * 2 + 4 ||
		    strcmp(d->d_name + ID_BYTES * 2, ".eml") != 0)
			continue;
		memcpy(id, d->d_name, ID_BYTES * 2);
		id[ID_BYTES * 2] = '\0';
		if (!quarantine_id_is_valid(id))
			continue;
		path = quarantine_path(q, id);
		if (lstat(path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
		    (int64_t)sb.st_mtime >= before)
			continue;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_DONE)
			(void)unlink(path);	/* garbage either way */
		sqlite3_reset(st);
	}
	closedir(dir);
}

/*
 * One transaction removes the rows (entries, their recipients and hits,
 * and tokens issued before the cut); the files go afterwards, since a
 * file without a row is only garbage, while a row without a file would
 * be a broken entry.
 */
bool
quarantine_purge(struct qstore *q, int64_t before, size_t *n_r)
{
	struct qfilter f = { .before = before, .with_deleted = true };
	const struct qentry **v;
	sqlite3_stmt *del, *tok;
	size_t n, i;

	*n_r = 0;
	if (before <= 0) {
		q->err = "quarantine purge: no age given";
		return false;
	}
	if (q->pg != NULL)
		return qpg_purge(q, before, n_r);
	if (!quarantine_list(q, &f, &v, &n))
		return false;
	del = quarantine_prepare(q->arena, q->db, "DELETE FROM entries WHERE id = ?",
	    &q->err);
	tok = quarantine_prepare(q->arena, q->db, "DELETE FROM tokens"
	    " WHERE issued < ?", &q->err);
	if (del == NULL || tok == NULL ||
	    !quarantine_exec(q->arena, q->db, "BEGIN IMMEDIATE", &q->err))
		return false;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(del, 1, v[i]->id, -1, SQLITE_STATIC);
		if (!quarantine_step(q->arena, q->db, del, "purge", &q->err))
			goto fail;
	}
	sqlite3_bind_int64(tok, 1, before);
	if (!quarantine_step(q->arena, q->db, tok, "purge tokens", &q->err) ||
	    !quarantine_exec(q->arena, q->db, "COMMIT", &q->err))
		goto fail;
	for (i = 0; i < n; i++) {
		const char *path = quarantine_path(q, v[i]->id);

		if (unlink(path) == -1 && errno != ENOENT) {
			q->err = arena_printf(q->arena, "quarantine %s: "
			    "unlink: %s", path, strerror(errno));
			return false;
		}
		(*n_r)++;
	}
	purge_orphans(q, before);
	return true;
fail:
	(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);	/* err set */
	return false;
}

/* Migration into an SQLite store: the file, then the rows (kept if the
 * id is already there). */
static bool
sq_import(struct qstore *q, const struct qentry *e, const unsigned char *raw,
    size_t len)
{
	const char *path = quarantine_path(q, e->id);
	sqlite3_stmt *st;
	size_t i;

	if (access(path, F_OK) == 0)
		return true;	/* migrated before */
	if (!file_write_synced(q->arena, path, raw, len, &q->err) ||
	    !dir_sync(q->arena, q->dir, &q->err) ||
	    !quarantine_exec(q->arena, q->db, "BEGIN IMMEDIATE", &q->err))
		goto fail_file;
	st = quarantine_prepare(q->arena, q->db, "INSERT OR IGNORE INTO entries"
	    " (id, time, queue_id, client, sender, subject, score, reason,"
	    " action, size, released, versions)"
	    " VALUES (?,?,?,?,?,?,?,?,'quarantine',?,?,?)", &q->err);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->time);
	sqlite3_bind_text(st, 3, e->queue_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->subject, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, e->score);
	sqlite3_bind_text(st, 8, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->size);
	sqlite3_bind_int64(st, 10, e->released);
	if (e->versions != NULL)
		sqlite3_bind_text(st, 11, e->versions, -1, SQLITE_STATIC);
	if (!quarantine_step(q->arena, q->db, st, "import entry", &q->err))
		goto fail;
	st = quarantine_prepare(q->arena, q->db, "INSERT INTO rcpts (id, n, addr)"
	    " VALUES (?,?,?)", &q->err);
	if (st == NULL)
		goto fail;
	for (i = 0; i < e->nrcpts; i++) {
		sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, e->rcpts[i], -1, SQLITE_STATIC);
		if (!quarantine_step(q->arena, q->db, st, "import recipient",
		    &q->err))
			goto fail;
	}
	st = quarantine_prepare(q->arena, q->db, "INSERT INTO hits (id, n, name,"
	    " score, detail) VALUES (?,?,?,?,?)", &q->err);
	if (st == NULL)
		goto fail;
	for (i = 0; i < e->nhits; i++) {
		sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, e->hits[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, e->hits[i].score);
		sqlite3_bind_text(st, 5, e->hits[i].detail, -1, SQLITE_STATIC);
		if (!quarantine_step(q->arena, q->db, st, "import hit", &q->err))
			goto fail;
	}
	if (quarantine_exec(q->arena, q->db, "COMMIT", &q->err))
		return true;
fail:
	(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
fail_file:
	(void)unlink(path);
	return false;
}

/*
 * Copies every entry with its message, then the release nonces and the
 * false-positive counts, from one store into the other.  Each entry is
 * its own transaction and an id already in to is kept, so a migration
 * that stopped half way can be run again; counts add up, so merging the
 * stores of several MXes into one database sums them.  Deleted entries,
 * whose messages are gone, are not copied.
 */
bool
quarantine_migrate(struct qstore *from, struct qstore *to, size_t *n_r,
    const char **err_r)
{
	const struct qentry **v;
	struct qtoken *tok;
	struct qfp *fps;
	size_t n, ntok, nfp;

	*n_r = 0;
	if (!quarantine_list(from, NULL, &v, &n))
		goto fail_from;
	for (size_t i = 0; i < n; i++) {
		const struct qentry *e = quarantine_get(from, v[i]->id);
		const unsigned char *raw;
		size_t len;

		if (e == NULL || (raw = quarantine_read(from, e->id, &len)) ==
		    NULL)
			goto fail_from;
		if (!(to->pg != NULL ? qpg_import(to, e, raw, len) :
		    sq_import(to, e, raw, len)))
			goto fail_to;
		(*n_r)++;
	}
	if (!(from->pg != NULL ? qpg_tokens(from, &tok, &ntok) :
	    quarantine_sq_tokens(from, &tok, &ntok)) ||
	    !(from->pg != NULL ? qpg_fps(from, &fps, &nfp) :
	    quarantine_sq_fps(from, &fps, &nfp)))
		goto fail_from;
	if (!(to->pg != NULL ? qpg_import_extra(to, tok, ntok, fps, nfp) :
	    quarantine_sq_import_extra(to, tok, ntok, fps, nfp)))
		goto fail_to;
	return true;
fail_from:
	*err_r = quarantine_error(from);
	return false;
fail_to:
	*err_r = quarantine_error(to);
	return false;
}
