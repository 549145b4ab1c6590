/*
 * av.c - the antivirus check: the whole raw message goes to ClamAV, which
 * does the MIME and archive decoding itself.
 *
 * In-process (the default) one libclamav engine serves every thread.  The
 * engine sits in a refcounted holder with a watcher thread that polls the
 * DatabaseDirectory (cl_statchkdir); on a change it builds a new engine
 * beside the running one and swaps it in when it is ready.  A scan takes
 * a reference on the engine it starts with, so the old engine is freed
 * when its last scan ends: mail keeps flowing through a reload.  Memory
 * peaks at two engines (old + new) during a reload.  Config reloads that
 * keep the same database and limits share the holder, so they neither
 * reload signatures nor double the memory.
 *
 * With ClamdSocket set, the message goes over clamd's INSTREAM instead
 * (av_clamd.c).  A virus becomes the hit AV_VIRUS and the OnVirus action;
 * a heuristic detection (Heuristics.*) only the scored hit AV_HEURISTIC.
 * Scan errors are CHECK_TEMPFAIL; the pipeline applies AVOnError.
 */
#include "config.h"

#include <clamav.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "snap.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "checks/av.h"

/* A virus decides through OnVirus; a score would let RejectScore
 * override OnVirus=tag|quarantine.  `score AV_VIRUS n` can add one. */
#define AV_VIRUS_SCORE		0.0
#define AV_HEURISTIC_SCORE	3.0

/* Order of OnVirus's choices. */
enum av_on_virus { ONV_REJECT, ONV_QUARANTINE, ONV_TAG, ONV_DISCARD };

const struct opt av_opts[] = {
	{ "AVScan", OPT_BOOL, "no", 0, 0, NULL,
	  "Scan every message for viruses: libclamav in-process, or clamd "
	  "when ClamdSocket is set" },
	{ "DatabaseDirectory", OPT_PATH, "/var/lib/clamav", 0, 0, NULL,
	  "ClamAV signature directory of the in-process engine; missing or "
	  "empty stops startup" },
	{ "ClamdSocket", OPT_STRING, NULL, 0, 0, NULL,
	  "Scan through clamd's INSTREAM instead: unix:/path or "
	  "inet:port@host" },
	{ "ClamdTimeout", OPT_DURATION, "30s", 100, 3600000, NULL,
	  "Time allowed for one clamd connection, send and answer" },
	{ "AVMaxScanSize", OPT_SIZE, "100m", 1024, 4294967295.0, NULL,
	  "Bytes ClamAV scans at most per message (decoded parts included)" },
	{ "AVMaxFileSize", OPT_SIZE, "25m", 1024, 4294967295.0, NULL,
	  "Largest single file (part, archive member) ClamAV scans" },
	{ "AVMaxRecursion", OPT_INT, "17", 1, 100, NULL,
	  "Deepest nesting of archives and messages ClamAV follows" },
	{ "AVMaxFiles", OPT_INT, "10000", 1, 1000000, NULL,
	  "Most files ClamAV scans inside one message" },
	{ "AVMaxScanTime", OPT_DURATION, "120s", 100, 3600000, NULL,
	  "Time ClamAV may spend on one message before giving up (an error)" },
	{ "AVHeuristics", OPT_BOOL, "yes", 0, 0, NULL,
	  "Heuristic detections (encrypted archives, OLE2 macros, phishing) "
	  "as the scored hit AV_HEURISTIC" },
	{ "OnVirus", OPT_ENUM, "reject", 0, 0, "reject|quarantine|tag|discard",
	  "Action for a virus (reject: 554 5.7.1 virus NAME found)" },
	{ "AVOnError", OPT_ENUM, "tempfail", 0, 0, "tempfail|accept",
	  "Action when a message cannot be scanned" },
	{ "AVAddHeaders", OPT_BOOL, "yes", 0, 0, NULL,
	  "Add X-Virus-Scanned and X-Virus-Status to scanned messages" },
	{ "AVTempDirectory", OPT_PATH, NULL, 0, 0, NULL,
	  "Where ClamAV unpacks parts and archives (default: TempDirectory "
	  "if it is a tmpfs, else /dev/shm if it is a writable tmpfs, else "
	  "TempDirectory); on disk each message costs about 1-6 ms more" },
	{ "AVReloadCheck", OPT_DURATION, "60s", 100, 86400000, NULL,
	  "How often DatabaseDirectory is checked for new signatures" },
	{ NULL }
};

struct av_limits {
	uint64_t	 max_scansize;
	uint64_t	 max_filesize;
	long long	 max_recursion;
	long long	 max_files;
	uint64_t	 max_scantime_ms;
	const char	*tmpdir;	/* NULL: libclamav's default */
};

/* One compiled engine; freed by whoever drops the last reference. */
struct av_engine {
	struct cl_engine *eng;
	unsigned	 refs;		/* under the holder's lock */
	unsigned	 sigs;
	unsigned	 gen;
	double		 load_ms;
};

/* The current engine of one database, and the thread that reloads it. */
struct av_holder {
	char		*key;		/* directory and limits */
	unsigned	 users;		/* states using it (av_holders_lock) */
	char		*dbdir;
	struct av_limits lim;
	char		*tmpdir;
	uint64_t	 check_ms;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* stop requests */
	struct av_engine *cur;
	bool		 stop;
	bool		 has_watcher;
	pthread_t	 watcher;	/* detached; frees the holder */
	struct cl_stat	 dbstat;	/* only the watcher touches it */
	bool		 has_dbstat;
	unsigned	 gen;
};

struct av_state {
	bool		 enabled;
	bool		 heuristics;
	bool		 add_headers;
	int		 on_virus;	/* enum av_on_virus */
	struct av_holder *holder;	/* libclamav */
	struct av_clamd	*clamd;		/* or clamd */
};

/* Process-wide counters for `vigilctl stats`; atomic. */
static struct {
	unsigned long long scanned, clean, infected, heuristic, errors;
	unsigned long long scan_us, reloads, reload_failures;
	unsigned long long engines_live;
} av_count;
#define COUNT_ADD(f, n)	\
	__atomic_add_fetch(&av_count.f, (n), __ATOMIC_RELAXED)
#define COUNT_GET(f)	__atomic_load_n(&av_count.f, __ATOMIC_RELAXED)

static pthread_mutex_t av_holders_lock = PTHREAD_MUTEX_INITIALIZER;
static struct av_holder *av_shared;	/* the latest holder, for reuse */
static pthread_once_t av_init_once = PTHREAD_ONCE_INIT;
static cl_error_t av_init_rc;
static char av_err[1024];		/* setup()'s error text */

/* What libclamav said during one scan (the scan's context). */
struct av_scan_note {
	bool	 no_tmpdir;	/* it could not make its per-scan folder */
};

/* The scan running on this thread: libclamav does not hand every message
 * the scan's context. */
static __thread struct av_scan_note *av_cur_note;

/* libclamav's own messages go to our log instead of stderr. */
static void
av_cl_msg(enum cl_msg severity, const char *fullmsg, const char *msg,
    void *ctx)
{
	struct av_scan_note *note = ctx != NULL ? ctx : av_cur_note;
	size_t n = strlen(msg);

	/*
	 * XXX libclamav 1.4 returns CL_CLEAN without scanning anything when
	 * mkdir of its per-scan temp folder fails (temp directory full,
	 * missing or read-only); its error message is the only trace.
	 */
	if (note != NULL && severity == CL_MSG_ERROR &&
	    strstr(msg, "temporary directory") != NULL)
		note->no_tmpdir = true;

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	log_sys(severity == CL_MSG_ERROR ? LOG_ERR : severity ==
	    CL_MSG_WARN ? LOG_WARNING : LOG_DEBUG, "check=av libclamav: %.*s",
	    (int)n, msg);
}

static void
av_cl_init(void)
{
	cl_set_clcb_msg(av_cl_msg);
	av_init_rc = cl_init(CL_INIT_DEFAULT);
}

static double
ms_since(uint64_t t0)
{
	return (double)(util_now_us() - t0) / 1000.0;
}

/* Builds and compiles an engine from dir; NULL with err filled. */
static struct av_engine *
engine_load(const char *dir, const struct av_limits *lim, char *err,
    size_t errsz)
{
	struct av_engine *e;
	struct cl_engine *eng;
	struct stat sb;
	unsigned sigs = 0;
	uint64_t t0 = util_now_us();
	cl_error_t rc;

	if (stat(dir, &sb) == -1) {
		snprintf(err, errsz, "DatabaseDirectory %s: %s", dir,
		    strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "DatabaseDirectory %s: not a directory",
		    dir);
		return NULL;
	}
	/* An empty directory (no freshclam run yet) gets its own message. */
	if (cl_countsigs(dir, CL_COUNTSIGS_ALL, &sigs) != CL_SUCCESS ||
	    sigs == 0) {
		snprintf(err, errsz, "DatabaseDirectory %s: no signatures "
		    "(empty: run freshclam or point DatabaseDirectory at a "
		    "database)", dir);
		return NULL;
	}
	sigs = 0;
	if ((eng = cl_engine_new()) == NULL) {
		snprintf(err, errsz, "DatabaseDirectory %s: cl_engine_new "
		    "failed (out of memory?)", dir);
		return NULL;
	}
	/* Limits first: they apply while compiling. */
	if ((rc = cl_engine_set_num(eng, CL_ENGINE_MAX_SCANSIZE,
	    (long long)lim->max_scansize)) != CL_SUCCESS ||
	    (rc = cl_engine_set_num(eng, CL_ENGINE_MAX_FILESIZE,
	    (long long)lim->max_filesize)) != CL_SUCCESS ||
	    (rc = cl_engine_set_num(eng, CL_ENGINE_MAX_RECURSION,
	    lim->max_recursion)) != CL_SUCCESS ||
	    (rc = cl_engine_set_num(eng, CL_ENGINE_MAX_FILES,
	    lim->max_files)) != CL_SUCCESS ||
	    (rc = cl_engine_set_num(eng, CL_ENGINE_MAX_SCANTIME,
	    (long long)lim->max_scantime_ms)) != CL_SUCCESS ||
	    (lim->tmpdir != NULL && (rc = cl_engine_set_str(eng,
	    CL_ENGINE_TMPDIR, lim->tmpdir)) != CL_SUCCESS)) {
		snprintf(err, errsz, "DatabaseDirectory %s: setting scan "
		    "limits: %s", dir, cl_strerror(rc));
		cl_engine_free(eng);
		return NULL;
	}
	if ((rc = cl_load(dir, eng, &sigs, CL_DB_STDOPT)) != CL_SUCCESS) {
		snprintf(err, errsz, "DatabaseDirectory %s: loading "
		    "signatures: %s", dir, cl_strerror(rc));
		cl_engine_free(eng);
		return NULL;
	}
	if (sigs == 0) {
		snprintf(err, errsz, "DatabaseDirectory %s: no signatures "
		    "(empty: run freshclam or point DatabaseDirectory at a "
		    "database)", dir);
		cl_engine_free(eng);
		return NULL;
	}
	if ((rc = cl_engine_compile(eng)) != CL_SUCCESS) {
		snprintf(err, errsz, "DatabaseDirectory %s: compiling %u "
		    "signatures: %s", dir, sigs, cl_strerror(rc));
		cl_engine_free(eng);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		log_oom(sizeof(*e), "av engine");
	e->eng = eng;
	e->refs = 1;
	e->sigs = sigs;
	e->load_ms = ms_since(t0);
	COUNT_ADD(engines_live, 1);
	return e;
}

/* Takes a reference on h's current engine (NULL if none). */
static struct av_engine *
engine_get(struct av_holder *h)
{
	struct av_engine *e;

	pthread_mutex_lock(&h->lock);
	if ((e = h->cur) != NULL)
		e->refs++;
	pthread_mutex_unlock(&h->lock);
	return e;
}

/* Drops a reference; the last one frees the engine. NULL-safe. */
static void
engine_put(struct av_holder *h, struct av_engine **ep)
{
	struct av_engine *e = *ep;
	bool last;

	*ep = NULL;
	if (e == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&h->lock);
	if (last) {
		log_sys(LOG_INFO, "check=av engine generation %u freed "
		    "(last scan done)", e->gen);
		cl_engine_free(e->eng);
		free(e);
		__atomic_sub_fetch(&av_count.engines_live, 1, __ATOMIC_RELAXED);
	}
}

/* Remembers the database files' state; false (logged) on error. */
static bool
holder_stat(struct av_holder *h)
{
	cl_error_t rc;

	if (h->has_dbstat)
		cl_statfree(&h->dbstat);
	memset(&h->dbstat, 0, sizeof(h->dbstat));
	h->has_dbstat = false;
	if ((rc = cl_statinidir(h->dbdir, &h->dbstat)) != CL_SUCCESS) {
		log_sys(LOG_ERR, "check=av DatabaseDirectory %s: watching "
		    "for changes: %s", h->dbdir, cl_strerror(rc));
		return false;
	}
	h->has_dbstat = true;
	return true;
}

/* Builds a new engine from the changed directory and swaps it in. */
static void
holder_reload(struct av_holder *h)
{
	struct av_engine *e, *old;
	char err[1024];

	/* Stat the files first: a change during the load shows next time. */
	holder_stat(h);
	log_sys(LOG_INFO, "check=av DatabaseDirectory %s changed: loading "
	    "a new engine", h->dbdir);
	if ((e = engine_load(h->dbdir, &h->lim, err, sizeof(err))) == NULL) {
		COUNT_ADD(reload_failures, 1);
		log_sys(LOG_ERR, "check=av reload failed, generation %u keeps "
		    "scanning: %s", h->gen, err);
		return;
	}
	pthread_mutex_lock(&h->lock);
	e->gen = ++h->gen;
	old = h->cur;
	h->cur = e;
	pthread_mutex_unlock(&h->lock);
	COUNT_ADD(reloads, 1);
	log_sys(LOG_INFO, "check=av engine generation %u in service: %u "
	    "signatures loaded in %.0f ms", e->gen, e->sigs, e->load_ms);
	engine_put(h, &old);
}

static void holder_destroy(struct av_holder *);

static void *
holder_watch(void *arg)
{
	struct av_holder *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += h->check_ms / 1000;
		ts.tv_nsec += (long)(h->check_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!h->stop &&
		    pthread_cond_timedwait(&h->wake, &h->lock, &ts) == 0)
			;
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->lock);
		if (!h->has_dbstat)
			holder_reload(h);
		else if (cl_statchkdir(&h->dbstat) == 1)
			holder_reload(h);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	/* Asked to stop: the holder is ours alone now. */
	holder_destroy(h);
	return NULL;
}

/* Frees h and its engine reference; no scan may be using h. */
static void
holder_destroy(struct av_holder *h)
{
	engine_put(h, &h->cur);
	if (h->has_dbstat)
		cl_statfree(&h->dbstat);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h->key);
	free(h->dbdir);
	free(h->tmpdir);
	free(h);
}

/*
 * Releases h.  The watcher, when running, is told to stop and frees h
 * itself: it may be loading a database, and whoever drops the last
 * snapshot (a mail thread) must not wait for that.
 */
static void
holder_free(struct av_holder **hp)
{
	struct av_holder *h = *hp;

	*hp = NULL;
	if (h == NULL)
		return;
	if (!h->has_watcher) {
		holder_destroy(h);
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

/* Loads the first engine and starts the watcher; NULL with err filled. */
static struct av_holder *
holder_new(const char *key, const char *dbdir, const struct av_limits *lim,
    uint64_t check_ms, char *err, size_t errsz)
{
	struct av_holder *h;
	pthread_condattr_t ca;
	struct stat sb;
	int rc;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		log_oom(sizeof(*h), "av holder");
	if ((h->key = strdup(key)) == NULL ||
	    (h->dbdir = strdup(dbdir)) == NULL ||
	    (lim->tmpdir != NULL && (h->tmpdir = strdup(lim->tmpdir)) == NULL))
		log_oom(strlen(key), "av holder");
	h->lim = *lim;
	h->lim.tmpdir = h->tmpdir;
	h->check_ms = check_ms;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);

	/* Watch first: a change during the first load shows next time. */
	if (stat(h->dbdir, &sb) == 0 && S_ISDIR(sb.st_mode))
		holder_stat(h);
	if ((h->cur = engine_load(h->dbdir, &h->lim, err, errsz)) == NULL) {
		holder_free(&h);
		return NULL;
	}
	h->cur->gen = h->gen = 1;
	log_sys(LOG_INFO, "check=av engine generation 1: %u signatures from "
	    "%s loaded in %.0f ms", h->cur->sigs, h->dbdir, h->cur->load_ms);
	if ((rc = pthread_create(&h->watcher, NULL, holder_watch, h)) != 0) {
		snprintf(err, errsz, "DatabaseDirectory %s: starting the "
		    "reload thread: %s", dbdir, strerror(rc));
		holder_free(&h);
		return NULL;
	}
	h->has_watcher = true;
	(void)pthread_detach(h->watcher);	/* only fails for a bad id */
	return h;
}

/* The holder for these settings: the shared one if equal, else a new one. */
static struct av_holder *
holder_get(const char *dbdir, const struct av_limits *lim, uint64_t check_ms,
    char *err, size_t errsz)
{
	struct av_holder *h;
	char key[4096];

	snprintf(key, sizeof(key), "%s|%llu|%llu|%lld|%lld|%llu|%s|%llu",
	    dbdir, (unsigned long long)lim->max_scansize,
	    (unsigned long long)lim->max_filesize, lim->max_recursion,
	    lim->max_files, (unsigned long long)lim->max_scantime_ms,
	    lim->tmpdir ? lim->tmpdir : "", (unsigned long long)check_ms);
	pthread_mutex_lock(&av_holders_lock);
	if (av_shared != NULL && strcmp(av_shared->key, key) == 0) {
		h = av_shared;
		h->users++;
		pthread_mutex_unlock(&av_holders_lock);
		return h;
	}
	pthread_mutex_unlock(&av_holders_lock);

	if ((h = holder_new(key, dbdir, lim, check_ms, err, errsz)) == NULL)
		return NULL;
	pthread_mutex_lock(&av_holders_lock);
	h->users = 1;
	av_shared = h;
	pthread_mutex_unlock(&av_holders_lock);
	return h;
}

static void
holder_release(struct av_holder **hp)
{
	struct av_holder *h = *hp;
	bool last;

	*hp = NULL;
	if (h == NULL)
		return;
	pthread_mutex_lock(&av_holders_lock);
	last = --h->users == 0;
	if (last && av_shared == h)
		av_shared = NULL;
	pthread_mutex_unlock(&av_holders_lock);
	if (last)
		holder_free(&h);
}

static void
av_teardown(void *arg)
{
	struct av_state *st = arg;

	if (st == NULL)
		return;
	holder_release(&st->holder);
	av_clamd_free(&st->clamd);
	free(st);
}

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC	0x01021994
#endif

static bool
is_tmpfs(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/*
 * Where libclamav unpacks a message when AVTempDirectory is not set.  It
 * writes every MIME part it decodes to a file in a directory of its own
 * made for each scan: on a disk file system that is most of a clean
 * message's scan time (inodes created, discarded, freed), on a tmpfs a
 * fraction of it.  So: TempDirectory when it is a tmpfs, else /dev/shm
 * when it is a tmpfs we may write to, else TempDirectory.  The files
 * are bounded by AVMaxScanSize and AVMaxFileSize and removed after the
 * scan.
 */
static const char *
av_default_tmpdir(const char *tmp_dir)
{
	if (tmp_dir != NULL && is_tmpfs(tmp_dir))
		return tmp_dir;
	if (is_tmpfs("/dev/shm") && access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return tmp_dir;
}

static void *
av_setup(struct snap *s, const char **err_r)
{
	const struct cfg *c = snap_cfg(s);
	struct av_state *st;
	struct av_limits lim;
	const char *spec;
	char *cerr = NULL;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "av state");
	st->enabled = cfg_bool(c, "AVScan");
	st->heuristics = cfg_bool(c, "AVHeuristics");
	st->add_headers = cfg_bool(c, "AVAddHeaders");
	st->on_virus = cfg_enum(c, "OnVirus");
	if (!st->enabled)
		return st;

	lim.max_scansize = cfg_size(c, "AVMaxScanSize");
	lim.max_filesize = cfg_size(c, "AVMaxFileSize");
	lim.max_recursion = cfg_int(c, "AVMaxRecursion");
	lim.max_files = cfg_int(c, "AVMaxFiles");
	lim.max_scantime_ms = cfg_duration_ms(c, "AVMaxScanTime");
	if ((lim.tmpdir = cfg_str(c, "AVTempDirectory")) == NULL)
		lim.tmpdir = av_default_tmpdir(snap_core(s)->tmp_dir);

	if ((spec = cfg_str(c, "ClamdSocket")) != NULL && *spec != '\0') {
		struct arena *a;
		const char *why;

		st->clamd = av_clamd_new(spec, cfg_duration_ms(c,
		    "ClamdTimeout"), &cerr);
		if (st->clamd == NULL) {
			snprintf(av_err, sizeof(av_err), "ClamdSocket %s: %s",
			    spec, cerr);
			free(cerr);
			av_teardown(st);
			*err_r = av_err;
			return NULL;
		}
		/* clamd may start after us: a failed ping is only a warning. */
		a = arena_new("av setup");
		if (av_clamd_ping(st->clamd, a, &why) == -1)
			log_sys(LOG_WARNING, "check=av clamd %s not answering "
			    "yet (messages follow AVOnError until it does): %s",
			    spec, why);
		arena_free(&a);
		return st;
	}

	pthread_once(&av_init_once, av_cl_init);
	if (av_init_rc != CL_SUCCESS) {
		snprintf(av_err, sizeof(av_err), "libclamav cl_init: %s",
		    cl_strerror(av_init_rc));
		av_teardown(st);
		*err_r = av_err;
		return NULL;
	}
	st->holder = holder_get(cfg_str(c, "DatabaseDirectory"), &lim,
	    cfg_duration_ms(c, "AVReloadCheck"), av_err, sizeof(av_err));
	if (st->holder == NULL) {
		av_teardown(st);
		*err_r = av_err;
		return NULL;
	}
	return st;
}

/* Scans buf with the current engine. */
static enum av_result
engine_scan(struct av_state *st, struct arena *a, const unsigned char *buf,
    size_t len, const char **name_r, const char **why_r,
    const char **scanner_r)
{
	struct av_engine *e;
	struct cl_scan_options o;
	struct av_scan_note note = { false };
	cl_fmap_t *map;
	const char *vn = NULL;
	unsigned long scanned = 0;
	cl_error_t rc;

	*scanner_r = arena_printf(a, "ClamAV %s", cl_retver());
	if (len == 0)
		return AV_CLEAN;	/* nothing to map, nothing to find */
	if ((e = engine_get(st->holder)) == NULL) {
		*why_r = "libclamav engine not ready";
		return AV_ERROR;
	}
	*scanner_r = arena_printf(a, "ClamAV %s (%u signatures, "
	    "generation %u)", cl_retver(), e->sigs, e->gen);
	memset(&o, 0, sizeof(o));
	o.parse = ~0u;
	if (st->heuristics) {
		o.general = CL_SCAN_GENERAL_HEURISTICS;
		o.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
		    CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
		    CL_SCAN_HEURISTIC_MACROS |
		    CL_SCAN_HEURISTIC_PHISHING_SSL_MISMATCH |
		    CL_SCAN_HEURISTIC_PHISHING_CLOAK;
	}
	if ((map = cl_fmap_open_memory(buf, len)) == NULL) {
		engine_put(st->holder, &e);
		*why_r = arena_printf(a, "libclamav: mapping %zu bytes "
		    "failed", len);
		return AV_ERROR;
	}
	av_cur_note = &note;
	rc = cl_scanmap_callback(map, NULL, &vn, &scanned, e->eng, &o, &note);
	av_cur_note = NULL;
	cl_fmap_close(map);
	if (rc == CL_CLEAN && note.no_tmpdir) {
		engine_put(st->holder, &e);
		*why_r = arena_printf(a, "libclamav could not create its temp "
		    "folder in %s (full, missing or read-only): not scanned",
		    st->holder->lim.tmpdir ? st->holder->lim.tmpdir : "its default");
		return AV_ERROR;
	}
	if (rc == CL_VIRUS)
		*name_r = arena_strdup(a, vn != NULL ? vn : "unnamed");
	engine_put(st->holder, &e);
	switch (rc) {
	case CL_CLEAN:
		return AV_CLEAN;
	case CL_VIRUS:
		return AV_FOUND;
	default:
		*why_r = arena_printf(a, "libclamav scan of %zu bytes: %s",
		    len, cl_strerror(rc));
		return AV_ERROR;
	}
}

/* A signature name for JSON: anything unusual becomes '?'. */
static char *
json_name(struct arena *a, const char *s)
{
	char *out = arena_strdup(a, s);

	for (char *p = out; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ||
		    (unsigned char)*p >= 0x7f)
			*p = '?';
	return out;
}

static void
av_record(struct av_state *st, struct msg *m, const char *result,
    const char *name, const char *scanner, double ms)
{
	struct arena *a = msg_arena(m);

	msg_set_field(m, "av", arena_printf(a, "{\"result\":\"%s\","
	    "\"name\":%s%s%s,\"scanner\":\"%s\",\"ms\":%.3f}", result,
	    name ? "\"" : "", name ? json_name(a, name) : "null",
	    name ? "\"" : "", json_name(a, scanner), ms));
	if (!st->add_headers)
		return;
	msg_add_header_out(m, "X-Virus-Scanned",
	    arena_printf(a, "%s by vigil", scanner));
	if (name == NULL)
		msg_add_header_out(m, "X-Virus-Status", "Clean");
	else
		msg_add_header_out(m, "X-Virus-Status",
		    arena_printf(a, "%s (%s)", strcmp(result, "infected") == 0 ?
		    "Infected" : "Suspect", name));
}

static enum check_rc
av_run(void *arg, struct msg *m, enum check_phase phase, const char **why_r)
{
	static const enum verdict_action onv[] = {
		[ONV_REJECT] = ACTION_REJECT,
		[ONV_QUARANTINE] = ACTION_QUARANTINE,
		[ONV_TAG] = ACTION_TAG,
		[ONV_DISCARD] = ACTION_DISCARD,
	};
	struct av_state *st = arg;
	struct arena *a = msg_arena(m);
	const unsigned char *raw;
	const char *name = NULL, *why = NULL, *scanner = "clamd";
	enum av_result res;
	uint64_t t0;
	double ms;
	size_t len;

	if (!st->enabled) {
		*why_r = "AVScan is off";
		return CHECK_SKIP;
	}
	if (msg_is_oversize(m)) {
		*why_r = "larger than MaxScanSize: not scanned";
		if (st->add_headers)
			msg_add_header_out(m, "X-Virus-Status",
			    "Not scanned (too large)");
		return CHECK_SKIP;
	}
	raw = msg_raw(m, &len);
	t0 = util_now_us();
	if (st->clamd != NULL) {
		scanner = arena_printf(a, "clamd at %s",
		    av_clamd_describe(st->clamd));
		res = av_clamd_scan(st->clamd, a, raw, len, &name, &why);
	} else
		res = engine_scan(st, a, raw, len, &name, &why, &scanner);
	COUNT_ADD(scan_us, util_now_us() - t0);
	COUNT_ADD(scanned, 1);
	ms = ms_since(t0);

	switch (res) {
	case AV_ERROR:
		COUNT_ADD(errors, 1);
		msg_set_field(m, "av", "{\"result\":\"error\"}");
		*why_r = why;
		return CHECK_TEMPFAIL;
	case AV_CLEAN:
		COUNT_ADD(clean, 1);
		av_record(st, m, "clean", NULL, scanner, ms);
		return CHECK_DONE;
	case AV_FOUND:
		break;
	}
	if (strncmp(name, "Heuristics.", 11) == 0 && !st->heuristics) {
		/* Phishing alerts come from the database, not the scan
		 * options: AVHeuristics no ignores them here. */
		COUNT_ADD(clean, 1);
		av_record(st, m, "clean", NULL, scanner, ms);
		return CHECK_DONE;
	}
	if (strncmp(name, "Heuristics.", 11) == 0) {
		/* Encrypted archives, macros, phishing: they misfire. */
		COUNT_ADD(heuristic, 1);
		msg_add_hit(m, "AV_HEURISTIC", AV_HEURISTIC_SCORE, "%s", name);
		av_record(st, m, "heuristic", name, scanner, ms);
		return CHECK_DONE;
	}
	COUNT_ADD(infected, 1);
	msg_add_hit(m, "AV_VIRUS", AV_VIRUS_SCORE, "%s", name);
	msg_force_action(m, onv[st->on_virus], "554", "5.7.1",
	    arena_printf(a, "virus %s found", name), "virus");
	av_record(st, m, "infected", name, scanner, ms);
	log_msg(LOG_NOTICE, m, "check=av virus=%s action=%s", name,
	    action_name(onv[st->on_virus]));
	return CHECK_DONE;
}

static void
av_stats(void *arg, FILE *out)
{
	struct av_state *st = arg;
	struct av_engine *e;

	fprintf(out, "av.scanned %llu\n", COUNT_GET(scanned));
	fprintf(out, "av.clean %llu\n", COUNT_GET(clean));
	fprintf(out, "av.infected %llu\n", COUNT_GET(infected));
	fprintf(out, "av.heuristic %llu\n", COUNT_GET(heuristic));
	fprintf(out, "av.errors %llu\n", COUNT_GET(errors));
	fprintf(out, "av.scan_ms_total %.3f\n", COUNT_GET(scan_us) / 1000.0);
	fprintf(out, "av.reloads %llu\n", COUNT_GET(reloads));
	fprintf(out, "av.reload_failures %llu\n", COUNT_GET(reload_failures));
	fprintf(out, "av.engines_live %llu\n", COUNT_GET(engines_live));
	if (st == NULL || st->holder == NULL)
		return;
	if ((e = engine_get(st->holder)) == NULL)
		return;
	fprintf(out, "av.engine.generation %u\n", e->gen);
	fprintf(out, "av.engine.signatures %u\n", e->sigs);
	fprintf(out, "av.engine.load_ms %.0f\n", e->load_ms);
	engine_put(st->holder, &e);
}

const struct check check_av = {
	.name = "av",
	.phases = PHASE_EOM,
	/* Viruses from trusted or authenticated senders are still viruses. */
	.is_content = 0,
	.setup = av_setup,
	.run = av_run,
	.teardown = av_teardown,
	.stats = av_stats,
	.on_error_opt = "AVOnError",
};
