/*
 * log.h - logging to syslog or stderr, key=value style.  The message and
 * connection prefixes (s=SESSION q=QUEUEID) are added by msg.h's
 * log_msg(); this layer knows nothing of mail.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include "arena.h"

/* Where log lines go: stderr (foreground, tools) or syslog. */
void	log_init(const char *ident, int to_stderr, int facility);
/* Lines above this level (LOG_DEBUG > LOG_INFO) are dropped. */
void	log_set_level(int level);
int	log_get_level(void);
void	log_sys(int level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void	log_vsys(int level, const char *fmt, va_list);
/* "out of memory: N bytes for TAG", then abort(). */
void	log_oom(size_t n, const char *tag) __attribute__((noreturn));
/* A broken invariant: log and abort. */
#define BUG(...)	log_bug(__FILE__, __LINE__, __VA_ARGS__)
void	log_bug(const char *file, int line, const char *fmt, ...)
	    PRINTF_LIKE(3, 4) __attribute__((noreturn));
/*
 * LogFile: one record a line, appended to a file that logrotate may move.
 * log_file_open() opens (creating, mode 0640) path for appending; -1 with
 * errno.  log_file_write() adds line and a newline in one write(2); it
 * reopens the path first when log_file_reopen() asked for it (safe in a
 * signal handler) or when, checked once a second, the path no longer
 * names the open file (moved or deleted by logrotate).  A failed write
 * or reopen is logged once through log_sys() and the record dropped:
 * the log never holds mail back.
 */
int	log_file_open(const char *path);
void	log_file_write(const char *line, size_t len);
void	log_file_reopen(void);
/* Is a LogFile open? */
int	log_file_is_open(void);
void	log_file_close(void);

/*
 * Copies at most max bytes of s into buf (size bufsz) with control
 * characters, quotes and backslashes escaped, "..." marking a cut.
 * For sender-supplied values in log lines.  Returns buf.
 */
char	*log_escape(char *buf, size_t bufsz, const char *s, size_t max);

#endif
