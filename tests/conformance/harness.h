/*
 * harness.h - what the conformance runners (spf_suite, dkim_suite,
 * dmarc_suite) share: the command line, a snapshot of only the checks
 * under test, one case in a child process, TSV rows and the
 * expected-failure lists.  Reading a file: ../tools/slurp.h.
 *
 * An expected-failure list is one case name a line, '#' comments.  A
 * failure not listed is a regression (the runner exits 1); a listed case
 * that passes is reported as fixed, so the list can shrink.
 */
#ifndef VIGIL_CONFORMANCE_HARNESS_H
#define VIGIL_CONFORMANCE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

struct snap;

/*
 * "NAME [-v] [-x xfail-list] ARG": sets up logging (errors only) and
 * *verbose_r, loads the list into *xf_r and returns ARG.  Prints the
 * usage and exits 2 on a bad command line or an unreadable list.
 */
struct xfail;
const char	*harness_init(int argc, char **argv, const char *name,
		    const char *arg_name, bool *verbose_r, struct xfail **xf_r);

/* A snapshot of the defaults plus overrides; exits 2 when it fails. */
struct snap	*harness_snap(const char *name, const char *const *ov,
		    size_t nov);

/*
 * Runs fn(arg, fd) in a child that writes "result\tdetail" to fd and
 * exits; killed by SIGALRM after secs.  got is the result, or
 * "CRASH(signal N)" or "NO-RESULT"; detail what followed the tab.
 */
void		 harness_run(void (*fn)(void *arg, int fd), void *arg,
		    unsigned secs, char *got, size_t gotsz, char *detail,
		    size_t detsz);

/* Splits line at tabs in place (its line end dropped) into at most max
 * fields; returns how many. */
int		 harness_split(char *line, char **fields, int max);

/* ---- expected failures ---------------------------------------------- */

struct xfail {
	char	**names;
	size_t	  n;
	char	**unexpected, **fixed;
	size_t	  nunexpected, nfixed, nexpected;
};

/* The list at path (NULL: an empty list); NULL when it cannot be read. */
struct xfail	*xfail_load(const char *path);
bool		 xfail_listed(const struct xfail *, const char *name);
/* Counts one case's outcome against the list. */
void		 xfail_note(struct xfail *, const char *name, bool passed);
/*
 * Prints "SUITE: N passed, N failed, N expected failures (LIST)" where
 * "failed" counts the failures the list does not name, then a detail
 * line; true when nothing failed unexpectedly.
 */
bool		 xfail_report(const struct xfail *, const char *suite,
		    int npass, const char *list, const char *extra);

#endif
