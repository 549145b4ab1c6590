/*
 * rules_auth.h - what vigil's own checks found about a message that
 * SpamAssassin's SPF, DKIM, DMARC and Bayes plugins would work out
 * themselves: rules.c fills it from the message before the rules run,
 * rules_eval_auth.c answers those plugins' eval: tests from it.  Every
 * pointer is the message's (its arena), valid while the rules run.
 */
#ifndef VIGIL_RULES_AUTH_H
#define VIGIL_RULES_AUTH_H

#include <stdbool.h>

#include "checks/auth/auth.h"

struct rules_auth {
	const struct auth_spf	*spf;	/* NULL: SPF did not run */
	const struct auth_dkim	*dkim;	/* NULL: DKIM did not run */
	const struct auth_dmarc	*dmarc;	/* NULL: DMARC did not run */
	bool			 has_bayes;	/* Bayes gives a probability */
	double			 bayes_p;	/* and it is this */
	/* The resolver of the lookups SpamAssassin's DKIM plugin makes
	 * beyond the signatures' keys (ADSP's), and the message's DNS
	 * budget it spends; NULL: none made. */
	struct adns		*dns;
	struct adns_budget	*budget;
};

struct rules_evalfn;
/* Is f one of those tests (rules_eval_auth.c)?  check_bayes? */
bool	rules_evalfn_is_auth(const struct rules_evalfn *f);
bool	rules_evalfn_is_bayes(const struct rules_evalfn *f);

#endif
