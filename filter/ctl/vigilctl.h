/*
 * vigilctl.h - shared pieces of the admin command.  Each subcommand is a
 * function in its own ctl_*.c file, registered in vigilctl.c's table.
 */
#ifndef VIGIL_VIGILCTL_H
#define VIGIL_VIGILCTL_H

#include <stdbool.h>
#include <stdio.h>
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
/* The same, the answer to out (errors still to stderr). */
int		 ctl_control_to(const struct ctl_opts *, const char *line,
		    FILE *out);

/*
 * True when a subcommand's arguments ask for help: "--help" anywhere
 * before "--", or "-h" among argv[1..upto] (a command whose options use
 * -h for something else passes 1).  The subcommand then prints its usage
 * to stdout and exits 0.
 */
bool		 ctl_wants_help(int argc, char **argv, int upto);

/*
 * The messages at path, one call of fn each: a file, a folder walked in
 * name order, a Maildir's cur/ and new/, an mbox (a file starting with
 * "From ") split into its messages, named path#N, or "-" for stdin.
 * A path that cannot be read is reported on stderr after who and
 * counted in *nerrors_r; fn's non-zero return stops the walk and is
 * returned.  data is valid during the call only.
 */
typedef int (*ctl_msg_fn)(void *arg, const char *name,
		    const unsigned char *data, size_t len);
int		 ctl_read_messages(const char *who, const char *path,
		    ctl_msg_fn fn, void *arg, unsigned *nerrors_r);
/*
 * Why data is not a mail message, or NULL when it may be one: empty (or
 * blank), a NUL byte in its header, or a first line that is no header
 * field ("Name: value") nor an mbox "From " line.  scan reports such
 * input and bayes learn never learns it.  The reason is a static string.
 */
const char	*ctl_not_mail(const unsigned char *data, size_t len);
/* The same for each path listed in the file list, one a line. */
int		 ctl_read_list(const char *who, const char *list,
		    ctl_msg_fn fn, void *arg, unsigned *nerrors_r);

/* Subcommands: argv[0] is the subcommand's name; return the exit status. */
typedef int (*ctl_fn)(const struct ctl_opts *, int argc, char **argv);
int	ctl_scan(const struct ctl_opts *, int, char **);
int	ctl_bayes(const struct ctl_opts *, int, char **);
int	ctl_quarantine(const struct ctl_opts *, int, char **);
int	ctl_db(const struct ctl_opts *, int, char **);
/* Appends the quarantine's counters (entries, false positives by rule)
 * from its index to `vigilctl stats`; 0 also when there is no store. */
int	ctl_quarantine_stats(const struct ctl_opts *, FILE *out);
/* vigilctl digest: each recipient's quarantined mail with signed links. */
int	ctl_digest(const struct ctl_opts *, int, char **);
int	ctl_rules(const struct ctl_opts *, int, char **);
int	ctl_scores(const struct ctl_opts *, int, char **);
int	ctl_trace(const struct ctl_opts *, int, char **);
int	ctl_replay(const struct ctl_opts *, int, char **);
int	ctl_report(const struct ctl_opts *, int, char **);
/* vigilctl allow|block add|del|list: the lists kept in ListsFile. */
int	ctl_lists(const struct ctl_opts *, int, char **);

#endif
