/*
 * rules_check.h - what the rules check shares with vigilctl's rules
 * commands (ctl_rules.c).
 */
#ifndef VIGIL_RULES_CHECK_H
#define VIGIL_RULES_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/rules/rules.h"

struct cfg;
struct msg;

extern const struct check check_rules;
extern const struct opt rules_opts[];

/* One message's evaluation (in the message's arena). */
struct rules_result {
	struct rules_hit *hits;		/* every hit, sub-rules too */
	size_t		 nhits;
	uint64_t	 ns;		/* input building + evaluation */
	uint64_t	 cpu_ns;	/* the same, in this thread's CPU time */
};

/* Whether rules_result() carries cpu_ns: a thread CPU clock read is a
 * system call in some virtual machines, so only `rules bench` asks. */
extern bool	rules_cpu_time;

/* The result of the rules check for m, or NULL when it did not run. */
struct rules_result *rules_result(struct msg *m);

/* Loads and compiles dir, then sa_dir (SpamAssassin's rules, and
 * dir/spamassassin.scores after them), then local (each a file or
 * folder, or NULL), then shadow_dir (NULL: none), whose rules are all shadow rules; NULL
 * with *err_r (g_malloc'd) when it has errors, each reported to diag. */
struct rules_set *rules_build(const char *dir, const char *sa_dir,
	    const char *local, const char *shadow_dir,
	    const struct rules_limits *, const struct rules_diag *diag,
	    bool stress, char **err_r);
/* SpamAssassinRules resolved: a folder (g_malloc'd), or NULL for none
 * (no, or auto with no SpamAssassin rules installed). */
char	*rules_sa_dir_from_cfg(const struct cfg *);
/* The folders the configuration says to read, in order: RulesDir and
 * LocalRulesDir, each NULL when it is a default that is missing (or, for
 * the local one, holds no rule files).  Strings owned by cfg. */
void	rules_dirs_from_cfg(const struct cfg *, const char **dir_r,
	    const char **local_r);
void	rules_limits_from_cfg(const struct cfg *, struct rules_limits *);
/* The set a snapshot's rules state holds. */
const struct rules_set *rules_state_set(const void *state);

#endif
