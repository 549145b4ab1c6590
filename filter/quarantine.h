/*
 * quarantine.h - the quarantine store: one file per message under
 * QuarantineDir plus an SQLite index.  The milter calls quarantine_put()
 * for ACTION_QUARANTINE and tells the MTA to drop the message only when it
 * returned true (file and directory fsync'd, index row committed).
 */
#ifndef VIGIL_QUARANTINE_H
#define VIGIL_QUARANTINE_H

#include <stdbool.h>

struct msg;
struct verdict;

/* Stores m; true with *id_r (arena string), or false with *err_r saying
 * what failed (the message must then be tempfailed, never dropped). */
bool	quarantine_put(struct msg *m, const struct verdict *v,
	    const char **id_r, const char **err_r);

#endif
