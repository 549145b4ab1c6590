/*
 * av.c - the antivirus check: the whole raw message goes to ClamAV, which
 * does the MIME and archive decoding itself.
 *
 * In-process (the default) one libclamav engine serves every thread.  The
 * engine sits in a refcounted holder with a watcher thread that polls the
 * DatabaseDirectory (the files' names, inodes, sizes and times); on a
 * change it builds a new engine beside the running one and swaps it in
 * when it is ready.  A scan takes a reference on the engine it starts
 * with, so the old engine is freed when its last scan ends: mail keeps
 * flowing through a reload.  Memory
 * peaks at two engines (old + new) during a reload.  Config reloads that
 * keep the same database and limits share the holder, so they neither
 * reload signatures nor double the memory.
 *
 * Plain text mail (AVFastText, on by default) skips libclamav's mail
 * parser, which writes every MIME part to a file in a folder of its own
 * made for each scan: most of a text message's scan time, and much of
 * it in the kernel.  A message qualifies when all of these hold:
 *   - GMime parsed it (the flat view) without a single warning, into at
 *     most FAST_MAX_PARTS leaves, every one text/plain, not an
 *     attachment, in 7bit, 8bit, base64 or quoted-printable;
 *   - every raw line that starts with "Content-" (headers, bodies,
 *     preamble, epilogue alike) is a field GMime took as a header (the
 *     counts agree) of a known name, Content-Type text/plain or
 *     multipart/mixed|alternative and Content-Transfer-Encoding one of
 *     the four above: no MIME text GMime would leave alone and
 *     libclamav's lenient parser might decode;
 *   - neither the raw message nor a decoded leaf has what only
 *     libclamav's parser decodes: a uuencode "begin NNN" line, yEnc
 *     "=ybegin", BinHex; and no leaf has "href" or "src" (HTML links in
 *     plain text, which its phishing check reads);
 *   - the two scans fit AVMaxScanSize (together), AVMaxFileSize,
 *     AVMaxFiles and AVMaxRecursion.
 * Then libclamav scans, from memory, the raw message with mail parsing
 * off (the mail and raw signatures) and the text as its mail parser
 * would have handed it on (the parts decoded and joined, LF line ends),
 * typed by content: text signatures, HTML found in the text and anything
 * embedded still get their own scanners.  The first virus decides; a
 * heuristic waits for the other scan.  AVMaxScanTime holds over the sum:
 * past it the result is an error, as it would be.
 * Everything else (attachments, HTML, message/rfc822, defects, odd
 * encodings) takes the whole-message path with mail parsing on, so MIME
 * that GMime and libclamav read differently still meets libclamav's own
 * parser.  HTML never takes the fast path: libclamav's phishing check
 * (display text against link) runs inside its mail parser only, and its
 * HTML scanner writes the normalised text (nocomment.html, notags.html)
 * to a temp folder of its own even when the HTML comes from memory
 * (cl_fmap_open_memory, libclamav 1.4: seen with strace), so a memory
 * path for HTML would keep the temp files and lose the phishing check.  What
 * the fast path gives up: the same check on bare http/https/ftp URLs of
 * plain text, which only matches URL hash lists (.gdb, Safe Browsing).
 * The JSON "av" object says which path ran ("path").
 *
 * With ClamdSocket set, the message goes over clamd's INSTREAM instead
 * (av_clamd.c).  A virus becomes the hit AV_VIRUS and the OnVirus action;
 * a heuristic detection (Heuristics.*) only the scored hit AV_HEURISTIC.
 * Scan errors are CHECK_TEMPFAIL; the pipeline applies AVOnError.
 */
#include "config.h"

#include <clamav.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "snap.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "checks/av/av.h"

/*
 * The sanitizer build: libclamav's loader keeps objects of its own past
 * cl_engine_free() (cli_initroots, phishing_init), reported as leaks by
 * a process that loaded an engine and exits normally (whether a stale
 * pointer on a stack still reaches them varies from run to run).
 * Allocations made while libclamav initialises and builds an engine are
 * left out of leak detection; vigil's own (the av_engine around it) and
 * those of scans stay in.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(AV_ASAN)
#define AV_ASAN 1
#endif
#ifdef AV_ASAN
#include <sanitizer/lsan_interface.h>
#define LSAN_OFF()	__lsan_disable()
#define LSAN_ON()	__lsan_enable()
#else
#define LSAN_OFF()	((void)0)
#define LSAN_ON()	((void)0)
#endif

/* A virus decides through OnVirus; a score would let RejectScore
 * override OnVirus=tag|quarantine.  `score AV_VIRUS n` can add one. */
#define AV_VIRUS_SCORE		0.0
#define AV_HEURISTIC_SCORE	3.0

/* Order of AVScan's choices. */
enum av_scan { AVSCAN_AUTO, AVSCAN_YES, AVSCAN_NO };

/* Order of OnVirus's choices. */
enum av_on_virus { ONV_REJECT, ONV_QUARANTINE, ONV_TAG, ONV_DISCARD };

const struct opt av_opts[] = {
	{ "AVScan", OPT_ENUM, "auto", 0, 0, "auto|yes|no",
	  "Scan every message for viruses: libclamav in-process, or clamd "
	  "when ClamdSocket is set (auto: when ClamdSocket is set or "
	  "DatabaseDirectory holds signatures; yes: a missing database stops "
	  "startup)" },
	{ "DatabaseDirectory", OPT_PATH, "/var/lib/clamav", 0, 0, NULL,
	  "ClamAV signature directory of the in-process engine (where "
	  "Debian's clamav-freshclam keeps it)" },
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
	{ "AVFastText", OPT_BOOL, "yes", 0, 0, NULL,
	  "Scan plain-text mail (text/plain parts only, no defects, nothing "
	  "uuencoded) from memory without libclamav's mail parser and its "
	  "temp files; other mail is scanned whole as before" },
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
	unsigned	 db_version;	/* newest .cvd/.cld's version, 0: none */
	time_t		 db_time;	/* its build time, else the files'
					 * newest mtime; 0: unknown */
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
	uint64_t	 dbsig;		/* dir_sig(); only the watcher uses it */
	bool		 has_dbstat;
	unsigned	 gen;
};

struct av_state {
	bool		 enabled;
	char		 off_why[256];	/* when not enabled: "off: WHY" */
	bool		 heuristics;
	bool		 add_headers;
	bool		 fast_text;	/* AVFastText */
	int		 on_virus;	/* enum av_on_virus */
	struct av_holder *holder;	/* libclamav */
	struct av_clamd	*clamd;		/* or clamd */
};

/* Process-wide counters for `vigilctl stats`; atomic. */
static struct {
	unsigned long long scanned, clean, infected, heuristic, errors;
	unsigned long long scan_us, reloads, reload_failures;
	unsigned long long engines_live;
	unsigned long long fast, full;
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
	LSAN_OFF();
	av_init_rc = cl_init(CL_INIT_DEFAULT);
	LSAN_ON();
}

static double
ms_since(uint64_t t0)
{
	return (double)(util_now_us() - t0) / 1000.0;
}

/* Builds and compiles an engine from dir; NULL with err filled. */
/* The newest modification time of dir's files (0: none readable): the
 * database's age when its files carry no CVD build time. */
static time_t
newest_mtime(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat sb;
	time_t newest = 0;
	char path[4096];

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_mtime > newest)
			newest = sb.st_mtime;
	}
	closedir(d);
	return newest;
}

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
	LSAN_OFF();
	if ((eng = cl_engine_new()) == NULL) {
		LSAN_ON();
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
		LSAN_ON();
		return NULL;
	}
	if ((rc = cl_load(dir, eng, &sigs, CL_DB_STDOPT)) != CL_SUCCESS) {
		snprintf(err, errsz, "DatabaseDirectory %s: loading "
		    "signatures: %s", dir, cl_strerror(rc));
		cl_engine_free(eng);
		LSAN_ON();
		return NULL;
	}
	if (sigs == 0) {
		snprintf(err, errsz, "DatabaseDirectory %s: no signatures "
		    "(empty: run freshclam or point DatabaseDirectory at a "
		    "database)", dir);
		cl_engine_free(eng);
		LSAN_ON();
		return NULL;
	}
	if ((rc = cl_engine_compile(eng)) != CL_SUCCESS) {
		snprintf(err, errsz, "DatabaseDirectory %s: compiling %u "
		    "signatures: %s", dir, sigs, cl_strerror(rc));
		cl_engine_free(eng);
		LSAN_ON();
		return NULL;
	}
	LSAN_ON();
	if ((e = calloc(1, sizeof(*e))) == NULL)
		log_oom(sizeof(*e), "av engine");
	e->eng = eng;
	e->refs = 1;
	e->sigs = sigs;
	e->load_ms = ms_since(t0);
	/* Signature files without a CVD header (a site's own .ndb) have
	 * neither: the signature count stands for the version then. */
	e->db_version = (unsigned)cl_engine_get_num(eng, CL_ENGINE_DB_VERSION,
	    NULL);
	e->db_time = (time_t)cl_engine_get_num(eng, CL_ENGINE_DB_TIME, NULL);
	if (e->db_time <= 0)
		e->db_time = newest_mtime(dir);
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

/* Is name a file libclamav loads from a database directory? */
static bool
is_db_file(const char *name)
{
	static const char *const ext[] = {
		"cvd", "cld", "cud", "db", "hdb", "hdu", "hsb", "hsu", "mdb",
		"mdu", "msb", "msu", "ndb", "ndu", "ldb", "ldu", "sdb", "zmd",
		"rmd", "idb", "fp", "sfp", "gdb", "pdb", "wdb", "cfg", "ftm",
		"ign", "ign2", "info", "yar", "yara", "pwdb", "cdb", "cat",
		"crb", "imp", "pem", NULL
	};
	const char *dot = strrchr(name, '.');

	if (dot == NULL || name[0] == '.')
		return false;
	for (size_t i = 0; ext[i] != NULL; i++)
		if (strcasecmp(dot + 1, ext[i]) == 0)
			return true;
	return false;
}

/*
 * A fingerprint of the database files: name, inode, size and change
 * times of each, combined so that the listing order does not matter.
 * libclamav's cl_statchkdir only looks for files whose inode it has not
 * seen or whose mtime (in seconds) moved: a removed file goes unseen, and
 * so does a file replaced within the same second by one that got a
 * removed file's inode (rm A; cp new B.tmp; mv B.tmp B).
 */
static bool
dir_sig(const char *dir, uint64_t *sig_r)
{
	DIR *d;
	struct dirent *de;
	uint64_t sig = 0, n = 0;

	if ((d = opendir(dir)) == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		struct {
			uint64_t ino, size, mt_s, mt_ns, ct_s, ct_ns;
		} st;
		XXH64_hash_t hh;

		if (!is_db_file(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &sb, 0) != 0)
			continue;
		memset(&st, 0, sizeof(st));
		st.ino = (uint64_t)sb.st_ino;
		st.size = (uint64_t)sb.st_size;
		st.mt_s = (uint64_t)sb.st_mtim.tv_sec;
		st.mt_ns = (uint64_t)sb.st_mtim.tv_nsec;
		st.ct_s = (uint64_t)sb.st_ctim.tv_sec;
		st.ct_ns = (uint64_t)sb.st_ctim.tv_nsec;
		hh = XXH64(de->d_name, strlen(de->d_name),
		    XXH64(&st, sizeof(st), 0));
		sig += hh;
		sig ^= hh * 0x9E3779B97F4A7C15ULL;
		n++;
	}
	closedir(d);
	*sig_r = sig ^ (n * 0xC2B2AE3D27D4EB4FULL);
	return true;
}

/* Remembers the database files' state; false (logged) on error. */
static bool
holder_stat(struct av_holder *h)
{
	h->has_dbstat = false;
	if (!dir_sig(h->dbdir, &h->dbsig)) {
		log_sys(LOG_ERR, "check=av DatabaseDirectory %s: watching "
		    "for changes: %s", h->dbdir, strerror(errno));
		return false;
	}
	h->has_dbstat = true;
	return true;
}

/* Have the database files changed since holder_stat? */
static bool
holder_changed(struct av_holder *h)
{
	uint64_t sig;

	return !h->has_dbstat || !dir_sig(h->dbdir, &sig) || sig != h->dbsig;
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
		if (holder_changed(h))
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

/* Does dir hold ClamAV signatures (AVScan auto)? */
static bool
has_signatures(const char *dir)
{
	unsigned sigs = 0;

	pthread_once(&av_init_once, av_cl_init);
	return av_init_rc == CL_SUCCESS && dir != NULL &&
	    cl_countsigs(dir, CL_COUNTSIGS_ALL, &sigs) == CL_SUCCESS &&
	    sigs > 0;
}

static void
av_status(void *arg, char *buf, size_t bufsz)
{
	const struct av_state *st = arg;
	unsigned sigs = 0;

	if (!st->enabled)
		snprintf(buf, bufsz, "%s", st->off_why);
	else if (st->clamd != NULL)
		snprintf(buf, bufsz, "on: clamd");
	else {
		pthread_mutex_lock(&st->holder->lock);
		if (st->holder->cur != NULL)
			sigs = st->holder->cur->sigs;
		pthread_mutex_unlock(&st->holder->lock);
		snprintf(buf, bufsz, "on: libclamav, %u signatures from %s",
		    sigs, st->holder->dbdir);
	}
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
	st->heuristics = cfg_bool(c, "AVHeuristics");
	st->add_headers = cfg_bool(c, "AVAddHeaders");
	st->on_virus = cfg_enum(c, "OnVirus");
	st->fast_text = cfg_bool(c, "AVFastText");
	spec = cfg_str(c, "ClamdSocket");
	switch (cfg_enum(c, "AVScan")) {
	case AVSCAN_NO:
		snprintf(st->off_why, sizeof(st->off_why), "off: AVScan no");
		return st;
	case AVSCAN_AUTO:
		/* No database yet (clamav-freshclam not installed or not
		 * run): off, said once at startup, not per message. */
		if ((spec == NULL || *spec == '\0') &&
		    !has_signatures(cfg_str(c, "DatabaseDirectory"))) {
			snprintf(st->off_why, sizeof(st->off_why), "off: no "
			    "signatures in %s (install clamav-freshclam)",
			    cfg_str(c, "DatabaseDirectory"));
			return st;
		}
		break;
	default:
		break;
	}
	st->enabled = true;

	lim.max_scansize = cfg_size(c, "AVMaxScanSize");
	lim.max_filesize = cfg_size(c, "AVMaxFileSize");
	lim.max_recursion = cfg_int(c, "AVMaxRecursion");
	lim.max_files = cfg_int(c, "AVMaxFiles");
	lim.max_scantime_ms = cfg_duration_ms(c, "AVMaxScanTime");
	if ((lim.tmpdir = cfg_str(c, "AVTempDirectory")) == NULL)
		lim.tmpdir = av_default_tmpdir(snap_core(s)->tmp_dir);

	if (spec != NULL && *spec != '\0') {
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

/* Most leaves a message may have for the fast path. */
#define FAST_MAX_PARTS	64

/* Does s[0..n) begin with the lower-case word w, in any case? */
static bool
ci_prefix(const unsigned char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && strncasecmp((const char *)s, w, k) == 0;
}

/* Does s[0..n) contain the lower-case word w, in any case? */
static bool
ci_contains(const unsigned char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	for (size_t i = 0; i + k <= n; i++)
		if (tolower(s[i]) == (unsigned char)w[0] &&
		    ci_prefix(s + i, n - i, w))
			return true;
	return false;
}

/*
 * Has s[0..n) anything only libclamav's mail parser decodes: a uuencode
 * "begin NNN" line (it takes any case), yEnc or BinHex?
 */
static bool
has_mail_encodings(const unsigned char *s, size_t n)
{
	if (ci_contains(s, n, "=ybegin") || ci_contains(s, n, "binhex"))
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if ((i > 0 && s[i - 1] != '\n') || !ci_prefix(s + i, n - i, "begin"))
			continue;
		for (j = i + 5; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
			;
		if (j > i + 5 && j < n && s[j] >= '0' && s[j] <= '9')
			return true;
	}
	return false;
}

/* Is s[0..n) (after blanks) the token w, then ';', a blank or the end? */
static bool
value_is(const unsigned char *s, size_t n, const char *w, bool params)
{
	size_t k = strlen(w);

	if (!ci_prefix(s, n, w))
		return false;
	for (size_t i = k; i < n; i++) {
		if (params && s[i] == ';')
			return true;
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	}
	return true;
}

/*
 * Checks every raw line that starts with "Content-": a field name we
 * know, Content-Type and Content-Transfer-Encoding of the fast path's
 * kinds.  Returns how many there are, or -1 when one does not pass.
 */
static long
raw_content_fields(const unsigned char *raw, size_t len)
{
	static const char *const names[] = {
		"content-type", "content-transfer-encoding",
		"content-disposition", "content-description", "content-id",
		"content-language", "content-location", "content-class",
		"content-md5", "content-length",
	};
	static const char *const types[] = {
		"text/plain", "multipart/mixed", "multipart/alternative",
	};
	static const char *const encodings[] = {
		"7bit", "8bit", "base64", "quoted-printable",
	};
	long count = 0;
	size_t i = 0;

	while (i < len) {
		const unsigned char *line = raw + i, *nl, *colon, *v;
		size_t n, vn, name_len;
		size_t k;

		nl = memchr(line, '\n', len - i);
		n = nl != NULL ? (size_t)(nl - line) : len - i;
		i += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (!ci_prefix(line, n, "content-"))
			continue;
		count++;
		if ((colon = memchr(line, ':', n)) == NULL)
			return -1;
		name_len = (size_t)(colon - line);
		for (k = 0; k < NELEM(names); k++)
			if (strlen(names[k]) == name_len &&
			    ci_prefix(line, name_len, names[k]))
				break;
		if (k == NELEM(names))
			return -1;
		v = colon + 1;
		vn = n - name_len - 1;
		while (vn > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		if (k == 0) {
			for (k = 0; k < NELEM(types); k++)
				if (value_is(v, vn, types[k], true))
					break;
			if (k == NELEM(types))
				return -1;
		} else if (k == 1) {
			for (k = 0; k < NELEM(encodings); k++)
				if (value_is(v, vn, encodings[k], false))
					break;
			if (k == NELEM(encodings))
				return -1;
		}
	}
	return count;
}

/* One buffer the fast path scans. */
struct av_buf {
	const unsigned char *p;
	size_t		 len;
	bool		 parse_mail;
};

/*
 * The buffers of m's fast path in bufs[2] (the raw message, then its
 * text), their number in *n_r; false (why in *why_r) when m takes the
 * whole-message path.
 */
static bool
fast_plan(struct av_state *st, struct msg *m, const unsigned char *raw,
    size_t len, struct av_buf *bufs, size_t *n_r, const char **why_r)
{
	const struct av_limits *lim = &st->holder->lim;
	const struct mview *v = msg_view(m);
	struct arena *a = msg_arena(m);
	unsigned char *text;
	size_t n = 0, tlen = 0;
	long fields;

	if (v->parse_error || v->mime_warnings > 0) {
		*why_r = "MIME defects";
		return false;
	}
	if (v->nparts == 0 || v->nparts > FAST_MAX_PARTS ||
	    lim->max_files < 2) {
		*why_r = "number of parts";
		return false;
	}
	if (len > lim->max_filesize) {
		*why_r = "size limits";
		return false;
	}
	for (size_t i = 0; i < v->nparts; i++) {
		const struct mpart *p = &v->parts[i];

		if (!p->is_text || strcmp(p->type, "text/plain") != 0 ||
		    (p->encoding != NULL && strcmp(p->encoding, "8bit") != 0 &&
		    strcmp(p->encoding, "base64") != 0 &&
		    strcmp(p->encoding, "quoted-printable") != 0)) {
			*why_r = "not plain text";
			return false;
		}
		if ((long long)p->depth + 2 > lim->max_recursion) {
			*why_r = "nesting";
			return false;
		}
	}
	fields = raw_content_fields(raw, len);
	if (fields < 0 || (unsigned long)fields != v->content_fields) {
		*why_r = "MIME fields";
		return false;
	}
	if (has_mail_encodings(raw, len)) {
		*why_r = "mail encodings";
		return false;
	}
	/*
	 * libclamav's parser joins the text/plain parts, decoded, into one
	 * text it hands on line by line with LF line ends: so do we.
	 */
	for (size_t i = 0; i < v->nparts; i++)
		tlen += v->parts[i].size + 1;
	text = arena_alloc(a, tlen + 1);
	tlen = 0;
	for (size_t i = 0; i < v->nparts; i++) {
		const struct mpart *p = &v->parts[i];
		const unsigned char *d = p->data;
		size_t dl = p->size;

		if (d == NULL || dl == 0)
			continue;
		if (has_mail_encodings(d, dl) || ci_contains(d, dl, "href") ||
		    ci_contains(d, dl, "src")) {
			*why_r = "mail encodings or links in a part";
			return false;
		}
		for (size_t j = 0; j < dl; j++)
			if (d[j] != '\r' || j + 1 >= dl || d[j + 1] != '\n')
				text[tlen++] = d[j];
		if (text[tlen - 1] != '\n')
			text[tlen++] = '\n';
	}
	if (tlen > lim->max_filesize || len + tlen > lim->max_scansize) {
		*why_r = "size limits";
		return false;
	}
	bufs[n++] = (struct av_buf){ raw, len, false };
	if (tlen > 0)
		bufs[n++] = (struct av_buf){ text, tlen, true };
	*n_r = n;
	return true;
}

/*
 * Scans one buffer with engine e: CL_CLEAN, CL_VIRUS (*vn set) or an
 * error, CL_ETMPDIR when libclamav could not make its temp folder.
 */
static cl_error_t
scan_one(struct av_state *st, struct av_engine *e, const struct av_buf *b,
    const char **vn)
{
	struct cl_scan_options o;
	struct av_scan_note note = { false };
	cl_fmap_t *map;
	unsigned long scanned = 0;
	cl_error_t rc;

	memset(&o, 0, sizeof(o));
	o.parse = ~0u;
	if (!b->parse_mail)
		o.parse &= ~(unsigned)CL_SCAN_PARSE_MAIL;
	if (st->heuristics) {
		o.general = CL_SCAN_GENERAL_HEURISTICS;
		o.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
		    CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
		    CL_SCAN_HEURISTIC_MACROS |
		    CL_SCAN_HEURISTIC_PHISHING_SSL_MISMATCH |
		    CL_SCAN_HEURISTIC_PHISHING_CLOAK;
	}
	if ((map = cl_fmap_open_memory(b->p, b->len)) == NULL)
		return CL_EMAP;
	av_cur_note = &note;
	rc = cl_scanmap_callback(map, NULL, vn, &scanned, e->eng, &o, &note);
	av_cur_note = NULL;
	cl_fmap_close(map);
	if (rc == CL_CLEAN && note.no_tmpdir)
		return CL_ETMPDIR;
	return rc;
}

/*
 * Scans m (raw bytes buf) with the current engine: the fast path when
 * it qualifies (*fast_r true), else the whole message with mail parsing.
 */
static enum av_result
engine_scan(struct av_state *st, struct msg *m, const unsigned char *buf,
    size_t len, const char **name_r, const char **why_r,
    const char **scanner_r, bool *fast_r)
{
	struct arena *a = msg_arena(m);
	struct av_engine *e;
	struct av_buf bufs[2];
	const char *heur = NULL, *nofast = "AVFastText is off";
	size_t nbufs = 1;
	uint64_t t0 = util_now_us();
	cl_error_t rc = CL_CLEAN;

	*fast_r = false;
	*scanner_r = arena_printf(a, "ClamAV %s", cl_retver());
	if (len == 0)
		return AV_CLEAN;	/* nothing to map, nothing to find */
	if (st->fast_text && fast_plan(st, m, buf, len, bufs, &nbufs, &nofast))
		*fast_r = true;
	else {
		bufs[0] = (struct av_buf){ buf, len, true };
		nbufs = 1;
		log_msg(LOG_DEBUG, m, "check=av whole message: %s", nofast);
	}
	if ((e = engine_get(st->holder)) == NULL) {
		*why_r = "libclamav engine not ready";
		return AV_ERROR;
	}
	*scanner_r = arena_printf(a, "ClamAV %s (%u signatures, "
	    "generation %u)", cl_retver(), e->sigs, e->gen);
	msg_set_version(m, SNAP_V_AV, e->db_version > 0 ?
	    arena_printf(a, "%u", e->db_version) :
	    arena_printf(a, "sigs:%u", e->sigs));
	for (size_t i = 0; i < nbufs; i++) {
		const char *vn = NULL;

		/* AVMaxScanTime holds over the sum of the scans. */
		if (i > 0 && util_now_us() - t0 >=
		    st->holder->lim.max_scantime_ms * 1000) {
			rc = CL_ETIMEOUT;
			break;
		}
		rc = scan_one(st, e, &bufs[i], &vn);
		if (rc == CL_VIRUS) {
			if (vn == NULL)
				vn = "unnamed";
			if (strncmp(vn, "Heuristics.", 11) != 0) {
				heur = NULL;
				*name_r = arena_strdup(a, vn);
				break;
			}
			/* A heuristic: a virus in a later scan comes first. */
			if (heur == NULL)
				heur = arena_strdup(a, vn);
			rc = CL_CLEAN;
			continue;
		}
		if (rc != CL_CLEAN)
			break;
	}
	if (rc == CL_CLEAN && nbufs > 1 && util_now_us() - t0 >
	    st->holder->lim.max_scantime_ms * 1000)
		rc = CL_ETIMEOUT;
	engine_put(st->holder, &e);
	if (rc == CL_CLEAN && heur != NULL) {
		*name_r = heur;
		return AV_FOUND;
	}
	switch (rc) {
	case CL_CLEAN:
		return AV_CLEAN;
	case CL_VIRUS:
		return AV_FOUND;
	case CL_ETMPDIR:
		*why_r = arena_printf(a, "libclamav could not create its temp "
		    "folder in %s (full, missing or read-only): not scanned",
		    st->holder->lim.tmpdir ? st->holder->lim.tmpdir :
		    "its default");
		return AV_ERROR;
	case CL_EMAP:
		*why_r = arena_printf(a, "libclamav: mapping %zu bytes "
		    "failed", len);
		return AV_ERROR;
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
    const char *name, const char *scanner, const char *path, double ms)
{
	struct arena *a = msg_arena(m);

	msg_set_field(m, "av", arena_printf(a, "{\"result\":\"%s\","
	    "\"name\":%s%s%s,\"scanner\":\"%s\",\"path\":\"%s\","
	    "\"ms\":%.3f}", result, name ? "\"" : "",
	    name ? json_name(a, name) : "null", name ? "\"" : "",
	    json_name(a, scanner), path, ms));
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
	const char *path = "clamd";
	enum av_result res;
	uint64_t t0;
	double ms;
	size_t len;
	bool fast = false;

	if (!st->enabled) {
		*why_r = st->off_why;
		return CHECK_SKIP;
	}
	if (msg_is_oversize(m) && !msg_is_truncated(m)) {
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
	} else {
		res = engine_scan(st, m, raw, len, &name, &why, &scanner,
		    &fast);
		path = fast ? "fast" : "full";
		if (fast)
			COUNT_ADD(fast, 1);
		else
			COUNT_ADD(full, 1);
	}
	COUNT_ADD(scan_us, util_now_us() - t0);
	COUNT_ADD(scanned, 1);
	ms = ms_since(t0);

	switch (res) {
	case AV_ERROR:
		COUNT_ADD(errors, 1);
		msg_set_field(m, "av", arena_printf(a, "{\"result\":"
		    "\"error\",\"path\":\"%s\"}", path));
		*why_r = why;
		return CHECK_TEMPFAIL;
	case AV_CLEAN:
		COUNT_ADD(clean, 1);
		av_record(st, m, "clean", NULL, scanner, path, ms);
		return CHECK_DONE;
	case AV_FOUND:
		break;
	}
	if (strncmp(name, "Heuristics.", 11) == 0 && !st->heuristics) {
		/* Phishing alerts come from the database, not the scan
		 * options: AVHeuristics no ignores them here. */
		COUNT_ADD(clean, 1);
		av_record(st, m, "clean", NULL, scanner, path, ms);
		return CHECK_DONE;
	}
	if (strncmp(name, "Heuristics.", 11) == 0) {
		/* Encrypted archives, macros, phishing: they misfire. */
		COUNT_ADD(heuristic, 1);
		msg_add_hit(m, "AV_HEURISTIC", AV_HEURISTIC_SCORE, "%s", name);
		av_record(st, m, "heuristic", name, scanner, path, ms);
		return CHECK_DONE;
	}
	COUNT_ADD(infected, 1);
	msg_add_hit(m, "AV_VIRUS", AV_VIRUS_SCORE, "%s", name);
	msg_force_action(m, onv[st->on_virus], "554", "5.7.1",
	    arena_printf(a, "virus %s found", name), "virus");
	av_record(st, m, "infected", name, scanner, path, ms);
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
	fprintf(out, "av.path_fast %llu\n", COUNT_GET(fast));
	fprintf(out, "av.path_full %llu\n", COUNT_GET(full));
	if (st == NULL || st->holder == NULL)
		return;
	if ((e = engine_get(st->holder)) == NULL)
		return;
	fprintf(out, "av.engine.generation %u\n", e->gen);
	fprintf(out, "av.engine.signatures %u\n", e->sigs);
	fprintf(out, "av.engine.load_ms %.0f\n", e->load_ms);
	fprintf(out, "av.engine.db_version %u\n", e->db_version);
	if (e->db_version > 0)
		fprintf(out, "version.av %u\n", e->db_version);
	else
		fprintf(out, "version.av sigs:%u\n", e->sigs);
	if (e->db_time > 0)
		fprintf(out, "av.engine.db_age_s %lld\n",
		    (long long)(time(NULL) - e->db_time));
	engine_put(st->holder, &e);
}

const struct check check_av = {
	.name = "av",
	.phases = PHASE_EOM,
	/* Viruses from trusted or authenticated senders are still viruses. */
	.is_content = 0,
	.setup = av_setup,
	.status = av_status,
	.run = av_run,
	.teardown = av_teardown,
	.stats = av_stats,
	.on_error_opt = "AVOnError",
};
