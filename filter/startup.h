/*
 * startup.h - the daemon's preparations before it takes mail, and its
 * summary of what will run (`vigil -n`, the startup log).
 */
#ifndef VIGIL_STARTUP_H
#define VIGIL_STARTUP_H

#include <stdio.h>
#include <sys/types.h>

struct cfg;
struct snap;

/*
 * Makes the folders the configuration names when missing (the milter
 * and control sockets' folders, PidFile's, QuarantineDir, BayesDir),
 * owned by uid:gid when started as root (uid -1: leave as made), given
 * by descriptor and never through a symlink in a folder root does not
 * own.  A folder it cannot make is logged with the fix; what needs it
 * fails later with its own error.
 */
void	startup_make_dirs(const struct cfg *, const char *spec, uid_t uid,
	    gid_t gid);
/* Started as root: gives the Bayes store's files that root made (an
 * earlier version built the snapshot before dropping privileges) to
 * uid:gid, through descriptors, reading none of them. */
void	startup_give_store(const struct cfg *, uid_t uid, gid_t gid);
/* Logs one line per check: "check=av off: no signatures in ...". */
void	startup_log_checks(const struct snap *);
/* The one-screen summary of `vigil -n`. */
void	startup_print_summary(FILE *, const struct snap *, const char *spec);

#endif
