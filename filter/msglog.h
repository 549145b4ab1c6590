/*
 * msglog.h - LogFile: one record a message, for the admin's "where is my
 * mail?" (vigilctl trace) and the report (vigilctl report).  LogFormat
 * json writes one JSON object a line; text the key=value verdict line.
 * The file itself (appending, reopening when rotated) is lib/log.c's.
 */
#ifndef VIGIL_MSGLOG_H
#define VIGIL_MSGLOG_H

#include "snap.h"

struct cfg;
struct msg;
struct verdict;

/*
 * Opens cfg's LogFile if it names one.  0 (also when unset), or -1 with
 * *err_r a malloc'd message (caller frees).
 */
int	msglog_open(const struct cfg *, char **err_r);

/*
 * The record of m's verdict v at end of message; done is what was done
 * (a quarantined message is discarded), extra the log line's tail
 * (" quarantine=ID" or " quarantine=hold", or NULL).
 */
void	msglog_verdict(struct msg *m, const struct verdict *v,
	    enum verdict_action done, const char *extra);

/* The record of a message refused at MAIL FROM (no content seen). */
void	msglog_refused(struct msg *m, enum verdict_action done,
	    const char *rcode, const char *xcode, const char *text,
	    const char *reason);

#endif
