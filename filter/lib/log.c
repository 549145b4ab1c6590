/*
 * log.c - one sink for every log line: syslog, or stderr with a time
 * stamp when running in the foreground or from vigilctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

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
