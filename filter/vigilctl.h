/*
 * vigilctl.h - shared pieces of the admin command.  Each subcommand is a
 * function in its own ctl_*.c file, registered in vigilctl.c's table.
 */
#ifndef VIGIL_VIGILCTL_H
#define VIGIL_VIGILCTL_H

#include <stddef.h>

struct cfg;
struct snap;

struct ctl_opts {
	const char	*cfg_path;	/* -c, or the default */
	const char	**overrides;	/* -o Keyword=value ... */
	size_t		 noverrides;
};

/* Loads the configuration; prints the error and returns NULL on failure. */
struct cfg	*ctl_cfg(const struct ctl_opts *);
/* Loads the configuration and builds a snapshot (every check set up);
 * prints the error and returns NULL on failure. */
struct snap	*ctl_snap(const struct ctl_opts *);
/* Sends one line to the daemon's ControlSocket and copies the answer to
 * stdout; returns the exit status (0 ok, 1 refused, 69 unreachable). */
int		 ctl_control(const struct ctl_opts *, const char *line);

/* Subcommands: argv[0] is the subcommand's name; return the exit status. */
typedef int (*ctl_fn)(const struct ctl_opts *, int argc, char **argv);
int	ctl_scan(const struct ctl_opts *, int, char **);
int	ctl_bayes(const struct ctl_opts *, int, char **);
int	ctl_quarantine(const struct ctl_opts *, int, char **);
/* Appends the quarantine's counters (entries, false positives by rule)
 * from its index to `vigilctl stats`; 0 also when there is no store. */
int	ctl_quarantine_stats(const struct ctl_opts *);
int	ctl_rules(const struct ctl_opts *, int, char **);
int	ctl_scores(const struct ctl_opts *, int, char **);

/*
 * Message sources (ctl_bayes.c): a file, a Maildir, an mbox (split), a
 * folder (walked) or "-"; src_list reads one path a line.  fn gets each
 * message; its non-zero return stops.  Unreadable paths are reported
 * and counted in src_nerrors.
 */
typedef int (*src_fn)(void *arg, const char *name, const unsigned char *data,
    size_t len);
int	src_path(const char *path, src_fn fn, void *arg);
int	src_list(const char *list, src_fn fn, void *arg);
extern unsigned src_nerrors;

#endif
