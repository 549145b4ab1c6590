/*
 * check.h - contract between the pipeline and one check.
 *
 * setup() runs once per snapshot (startup and every reload), with the
 * snapshot under construction: it reads its options from snap_cfg(), may
 * set scores (snap_set_score) and returns its state.  run() is called once
 * per message for each phase in `phases`.  header() and body(), when not
 * NULL, see every header and body chunk as they stream in (DKIM needs
 * them; vigilctl feeds a file the same way).  teardown() runs when the
 * snapshot's last message is done.
 *
 * A check only adds findings (msg_add_hit), output headers
 * (msg_add_header_out) and, for deciding checks, a forced action
 * (msg_force_action).  It never talks to the MTA.
 */
#ifndef VIGIL_CHECK_H
#define VIGIL_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct snap;
struct msg;

enum check_phase {
	PHASE_CONNECT	= 1 << 0,	/* client address and name known */
	PHASE_ENVFROM	= 1 << 1,	/* helo and sender known */
	PHASE_EOH	= 1 << 2,	/* all headers seen (raw, not parsed) */
	PHASE_EOM	= 1 << 3,	/* body complete, MIME parsed */
};

enum check_rc {
	CHECK_DONE,		/* ran; zero or more findings added */
	CHECK_SKIP,		/* not applicable; *why_r may say why */
	CHECK_TEMPFAIL,		/* transient: DNS timeout, scanner busy */
	CHECK_FAIL,		/* bad input or bug; *why_r says what */
};

struct check {
	const char	*name;		/* "spf": logs, findings */
	unsigned	 phases;	/* mask of enum check_phase */
	/* Content checks are skipped for trusted/authenticated clients
	 * when SkipTrusted is on; envelope checks decide for themselves. */
	int		 is_content;
	/* Returns state (non-NULL), or NULL with *err_r set to a string
	 * the check keeps valid until the next setup call. */
	void		*(*setup)(struct snap *, const char **err_r);
	/* *why_r strings live in the message arena. */
	enum check_rc	 (*run)(void *state, struct msg *, enum check_phase,
			    const char **why_r);
	/* Optional streaming hooks; value is the header value exactly as
	 * received after the colon (leading blanks and folding kept). */
	void		 (*header)(void *state, struct msg *, const char *name,
			    const char *value);
	void		 (*body)(void *state, struct msg *,
			    const unsigned char *chunk, size_t len);
	void		 (*teardown)(void *state);
	/* Optional: an SMTP client connected, before any message of its
	 * session exists (the milter's connect callback).  A check may start
	 * work its messages will want, e.g. DNS lookups of the address;
	 * thread-safe, never adds findings. */
	void		 (*connect)(void *state, struct snap *, const char *addr);
	/* Optional: writes counters as "name value" lines for `vigilctl
	 * stats` (e.g. "rules.hits.SUBJ_ALL_CAPS 12"); thread-safe. */
	void		 (*stats)(void *state, FILE *out);
	/* Optional: one line on what the check does in this snapshot, for
	 * `vigil -n` and the startup log, "on: 812 rules from DIR" or "off:
	 * WHY" (NULL: "on").  Thread-safe. */
	void		 (*status)(void *state, char *buf, size_t bufsz);
	/* Optional: the config option holding this check's on-error policy
	 * (e.g. "AVOnError"); NULL means the global OnError. */
	const char	*on_error_opt;
	/* Optional: the names of the findings the check adds, NULL-
	 * terminated, where one is also a rule's name (headers.c's
	 * MISSING_DATE beside SpamAssassin's): the finding stays the
	 * message's one of that name, with the check's weight, and the
	 * rule's hit only feeds metas (rules.c). */
	const char *const *findings;
};

/* The registered checks in pipeline order, NULL-terminated (registry.c). */
extern const struct check *const checks[];

const char	*check_rc_name(enum check_rc);

#endif
