/*
 * userallow.h - the users' own allowed senders: what "release and allow
 * the sender" on the quarantine page (vigil-web) records, and what the
 * policy check reads for every message.
 *
 * UserAllowFile (default QuarantineDir/user-allow) holds one
 * "RECIPIENT SENDER" line per allowance, both lower case, written only
 * by appending under an exclusive lock.  A message is allowed when every
 * one of its recipients allowed its envelope sender (one verdict covers
 * them all); the null sender is never allowed this way.  The file is
 * read again when its size, time or inode changes, so new allowances
 * apply to the next message without a reload.
 */
#ifndef VIGIL_USERALLOW_H
#define VIGIL_USERALLOW_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct cfg;

/* The file's path (UserAllowFile or QuarantineDir/user-allow); malloc'd,
 * NULL when neither is set. */
char	*userallow_path(const struct cfg *);

/* Records that rcpt allows sender (no-op when it already does); false
 * with *err_r (in a) on an empty sender or a write error. */
bool	 userallow_add(struct arena *a, const struct cfg *, const char *rcpt,
	    const char *sender, const char **err_r);

/*
 * 1 when each of the n rcpts allowed sender, 0 when not (or no file),
 * -1 when the file cannot be read (*err_r in a).  Thread-safe: the
 * parsed file is shared by every caller of the process.
 */
int	 userallow_match(struct arena *a, const struct cfg *,
	    const char *sender, const char *const *rcpts, size_t n,
	    const char **err_r);

/* Frees the shared parsed file (at exit, for leak checkers). */
void	 userallow_cache_free(void);

#endif
