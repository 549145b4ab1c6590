/*
 * log.c - one sink for every log line: syslog, or stderr with a time
 * stamp when running in the foreground or from vigilctl; and LogFile,
 * the per-message records, reopened when rotated.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>

#include "log.h"

static int log_stderr = 1;
static int log_level = LOG_INFO;
static const char *log_ident = "vigil";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int to_stderr, int facility)
{
	log_ident = ident;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "err";
	case LOG_WARNING:
		return "warn";
	case LOG_NOTICE: case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void
log_vsys(int level, const char *fmt, va_list ap)
{
	char line[8192];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!log_stderr) {
		syslog(level, "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
	    (long)getpid(), level_name(level), line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
log_sys(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vsys(level, fmt, ap);
	va_end(ap);
}

void
log_oom(size_t n, const char *tag)
{
	/* No allocation here: stdio on a static buffer. */
	log_sys(LOG_CRIT, "out of memory: %zu bytes for %s", n,
	    tag ? tag : "?");
	abort();
}

void
log_bug(const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_sys(LOG_CRIT, "BUG at %s:%d: %s", file, line, buf);
	abort();
}

char *
log_escape(char *buf, size_t bufsz, const char *s, size_t max)
{
	size_t o = 0, i;

	if (bufsz == 0)
		return buf;
	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t n;

		if (c < 0x20 || c == 0x7f)
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else if (c == '"' || c == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
		else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (o + n + 4 >= bufsz)
			break;
		memcpy(buf + o, tmp, n);
		o += n;
	}
	if (s[i] != '\0') {
		if (o + 4 > bufsz)
			o = bufsz - 4;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* LogFile: the descriptor, the path it was opened from and what that
 * path named then, all under file_lock. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static int file_fd = -1;
static char *file_path;
static dev_t file_dev;
static ino_t file_ino;
static time_t file_checked;
static int file_failed;		/* a failure was logged; quiet until it works */
static volatile sig_atomic_t file_reopen_asked;

/*
 * Opens file_path; under file_lock.  0, or -1 with errno.  The first open
 * is root's, in a folder the daemon's user may own: a symlink there is
 * not followed (ELOOP) and a file with a second hard link is refused
 * (EMLINK), so that user cannot point root's append at another file.
 */
static int
file_open_locked(void)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO left at the path must not hang the daemon
	 * (it is refused below); a plain file's writes do not care. */
	int fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK | O_NOFOLLOW, 0640);
	int e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;		/* "Invalid argument": not a file */
		return -1;
	}
	if (st.st_nlink != 1) {
		close(fd);
		errno = EMLINK;
		return -1;
	}
	if (file_fd >= 0)
		close(file_fd);
	file_fd = fd;
	file_dev = st.st_dev;
	file_ino = st.st_ino;
	file_checked = time(NULL);
	return 0;
}

int
log_file_open(const char *path)
{
	int rc;

	pthread_mutex_lock(&file_lock);
	free(file_path);
	file_path = strdup(path);
	if (file_path == NULL) {
		pthread_mutex_unlock(&file_lock);
		errno = ENOMEM;
		return -1;
	}
	rc = file_open_locked();
	file_failed = 0;
	pthread_mutex_unlock(&file_lock);
	return rc;
}

void
log_file_reopen(void)
{
	file_reopen_asked = 1;
}

int
log_file_is_open(void)
{
	int r;

	pthread_mutex_lock(&file_lock);
	r = file_fd >= 0;
	pthread_mutex_unlock(&file_lock);
	return r;
}

/* Has the path stopped naming the open file?  Checked once a second. */
static int
file_moved_locked(void)
{
	struct stat st;
	time_t now = time(NULL);

	if (now == file_checked)
		return 0;
	file_checked = now;
	if (stat(file_path, &st) < 0)
		return 1;
	return st.st_dev != file_dev || st.st_ino != file_ino;
}

void
log_file_write(const char *line, size_t len)
{
	char *buf;
	const char *what = NULL;
	int err = 0;

	pthread_mutex_lock(&file_lock);
	if (file_path == NULL) {
		pthread_mutex_unlock(&file_lock);
		return;
	}
	if (file_reopen_asked || file_fd < 0 || file_moved_locked()) {
		file_reopen_asked = 0;
		if (file_open_locked() < 0) {
			what = "reopen";
			err = errno;
		}
	}
	if (file_fd >= 0 && what == NULL) {
		buf = malloc(len + 1);
		if (buf == NULL)
			log_oom(len + 1, "log record");
		memcpy(buf, line, len);
		buf[len] = '\n';
		/* One write on an O_APPEND descriptor: records from several
		 * threads or processes never interleave. */
		if (write(file_fd, buf, len + 1) != (ssize_t)(len + 1)) {
			what = "write";
			err = errno ? errno : ENOSPC;
		}
		free(buf);
	}
	if (what == NULL) {
		if (file_failed)
			log_sys(LOG_INFO, "LogFile %s: writing again", file_path);
		file_failed = 0;
		pthread_mutex_unlock(&file_lock);
		return;
	}
	if (!file_failed) {
		char path[1024];

		snprintf(path, sizeof(path), "%s", file_path);
		file_failed = 1;
		pthread_mutex_unlock(&file_lock);
		log_sys(LOG_ERR, "LogFile %s: %s: %s; records are dropped until "
		    "it works", path, what, strerror(err));
		return;
	}
	pthread_mutex_unlock(&file_lock);
}

void
log_file_close(void)
{
	pthread_mutex_lock(&file_lock);
	if (file_fd >= 0)
		close(file_fd);
	file_fd = -1;
	free(file_path);
	file_path = NULL;
	pthread_mutex_unlock(&file_lock);
}
