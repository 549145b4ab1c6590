/*
 * policy.h - what the policy check offers the verdict: per-recipient-domain
 * thresholds (DomainThresholds), combined over a message's recipients by
 * RecipientThresholds (strictest by default).
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

struct msg;

/* Score thresholds; a value <= 0 means that action is off. */
struct thresholds {
	double	tag;
	double	subject;
	double	quarantine;
	double	reject;
	double	discard;
};

/*
 * On entry *th holds the core's thresholds; on return the ones that apply
 * to m's recipients.  Leaves *th alone when no override matches.
 */
void	policy_thresholds(const struct msg *m, struct thresholds *th);

#endif
