/*
 * verdict.h - from findings and thresholds to one action, with the reply
 * and the headers that go with it.  Pure: no MTA calls (action.c and
 * vigilctl turn a verdict into effects).
 */
#ifndef VIGIL_VERDICT_H
#define VIGIL_VERDICT_H

#include <stdbool.h>

#include "snap.h"

struct msg;

struct verdict {
	enum verdict_action action;
	double		 score;
	double		 required;	/* the tag threshold used */
	const char	*rcode;		/* "550", "451", ... for reject/tempfail */
	const char	*xcode;		/* "5.7.1", ... */
	const char	*text;		/* reply text */
	const char	*reason;	/* "spam", "virus", "policy", "error", ... */
	const char	*status;	/* X-Spam-Status value */
	const char	*new_subject;	/* NULL: leave the subject alone */
	bool		 is_spam;	/* score >= required */
	bool		 add_spam_headers;
	/* What the verdict was made with (snap.h): each version, and the
	 * first 8 hex digits of a hash over the rule set, scores,
	 * configuration generation and AV database (not the Bayes store,
	 * which moves with every message learned) for X-Spam-Status. */
	const char	*versions[SNAP_V_N];
	const char	*version;
};

/* "rules:0a1b...,scores:...,config:3,bayes:120/80,av:27490": the log
 * line's versions= value; in m's arena. */
const char	*verdict_versions_text(struct msg *m, const struct verdict *v);
/* The same as a JSON object ({"rules": "0a1b...", ...}). */
const char	*verdict_versions_json(struct msg *m, const struct verdict *v);

/* Decides the verdict for m; result in m's arena. */
const struct verdict *verdict_decide(struct msg *m);

/* Does an admin's pass (msg_pass) decide m's verdict?  It does unless a
 * check failed and its policy tempfails the message. */
bool		 verdict_pass_holds(const struct msg *m);

#endif
