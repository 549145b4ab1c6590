/*
 * snap.h - a snapshot: one configuration plus the state every check built
 * from it (compiled rules, AV engine, stores) and the score table.
 * Messages hold a reference to the snapshot they started on; a reload
 * builds a new snapshot beside the running one and swaps it in only if
 * every check's setup() succeeded.
 */
#ifndef VIGIL_SNAP_H
#define VIGIL_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct check;

enum verdict_action {
	ACTION_ACCEPT = 0,
	ACTION_TAG,
	ACTION_QUARANTINE,
	ACTION_REJECT,
	ACTION_TEMPFAIL,
	ACTION_DISCARD,
};

/* Core settings read once per snapshot, used per message. */
struct snap_core {
	double		 tag_score;
	double		 subject_score;
	double		 quarantine_score;	/* <= 0: off */
	double		 reject_score;		/* <= 0: off */
	double		 discard_score;		/* <= 0: off */
	const char	*rewrite_subject;	/* NULL: off; "%s" = subject */
	const char	*reject_text;
	const char	*authserv_id;
	enum verdict_action on_error;		/* ACCEPT or TEMPFAIL */
	enum verdict_action oversize_action;	/* ACCEPT or TEMPFAIL */
	bool		 oversize_scan;		/* scan the first max_scan_size */
	size_t		 max_scan_size;
	size_t		 spool_mem_max;
	size_t		 max_hdr_count;		/* fields the checks see */
	size_t		 max_hdr_bytes;		/* and their bytes */
	uint64_t	 time_limit_us;		/* MessageTimeLimit (CPU) */
	size_t		 mem_limit;		/* MessageMemoryLimit */
	enum verdict_action on_incomplete;	/* ACCEPT or TEMPFAIL */
	const char	*tmp_dir;
	bool		 skip_trusted;		/* trusted/auth: no content checks */
	bool		 add_headers_always;	/* X-Spam-Status on every message */
};

/*
 * Builds a snapshot from cfg (takes a reference).  Returns it with one
 * reference, or NULL with *err_r set to a malloc'd message naming the
 * check that failed and why.
 */
struct snap	*snap_build(struct cfg *cfg, char **err_r);
struct snap	*snap_ref(struct snap *);
/* Drops a reference; the last one tears down every check. NULL-safe. */
void		 snap_unref(struct snap **);

const struct cfg *snap_cfg(const struct snap *);
const struct snap_core *snap_core(const struct snap *);
/* The state that check c's setup() returned in this snapshot; NULL when
 * the check is not enabled (the Checks option). */
void		*snap_state(const struct snap *, const struct check *c);
/* One line on what check c does in this snapshot: "on: ...", or "off:
 * WHY" (not in Checks, no data); written to buf. */
void		 snap_check_status(const struct snap *, const struct check *c,
		    char *buf, size_t bufsz);

/*
 * Score table: a rules file's `score NAME n` sets the score for any
 * finding NAME, whichever check adds it.  Only during setup().
 *
 * Each name has four scores, SpamAssassin's score sets: without Bayes
 * and network tests, with network tests, with Bayes, with both (`score
 * NAME n` sets all four alike).  A message is scored with the set that
 * fits what voted on it (msg_use_score_set()).
 */
enum score_set {
	SCORE_SET_PLAIN = 0,
	SCORE_SET_NET = 1,
	SCORE_SET_BAYES = 2,
	SCORE_SET_BAYES_NET = 3,
};
#define SCORE_SETS	4
void		 snap_set_score(struct snap *, const char *name, double score);
void		 snap_set_scores(struct snap *, const char *name,
		    const double v[SCORE_SETS]);
/* The configured score of NAME in the Bayes set, or def when none was set. */
double		 snap_score(const struct snap *, const char *name, double def);
/* NAME's four scores (valid while the snapshot lives), or NULL. */
const double	*snap_score_sets(const struct snap *, const char *name);
/* Is a score configured for NAME? */
bool		 snap_has_score(const struct snap *, const char *name);

/*
 * Versions a verdict is made with.  The rule set, its scores and the
 * configuration generation belong to the snapshot (set during setup);
 * the Bayes store and the AV database move on their own, so their
 * checks note them per message (msg_set_version) and the snapshot holds
 * the value at setup, or "-" when the check does not run.
 */
enum snap_version {
	SNAP_V_RULES,		/* XXH3 of the rule files' text, 16 hex */
	SNAP_V_SCORES,		/* XXH3 of their `score` lines, 16 hex */
	SNAP_V_CONFIG,		/* 1 for the first snapshot, +1 per reload */
	SNAP_V_BAYES,		/* messages learned: "SPAM/HAM" */
	SNAP_V_AV,		/* daily.cvd version, or "sigs:N" */
	SNAP_V_N,
};
extern const char *const snap_version_names[SNAP_V_N];
/* Sets version k (copied); during setup only. */
void		 snap_set_version(struct snap *, enum snap_version k,
		    const char *value);
/* Version k, "-" when none was set; valid while the snapshot lives. */
const char	*snap_version(const struct snap *, enum snap_version k);

/* Is the address inside TrustedNetworks? */
bool		 snap_is_trusted_ip(const struct snap *, const char *ip);

const char	*action_name(enum verdict_action);

#endif
