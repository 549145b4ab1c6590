/*
 * registry.c - which option tables and checks exist, in pipeline order.
 * An optional module is one file plus one line here.
 */
#include <stddef.h>

#include "cfg.h"
#include "check.h"

extern const struct check check_headers;
extern const struct opt quarantine_opts[];
extern const struct opt av_opts[], attach_opts[];
extern const struct check check_av, check_attach;
extern const struct check check_spf, check_dkim, check_dmarc, check_authres;
extern const struct opt authdns_opts[], spf_opts[], dkim_opts[], dmarc_opts[],
    authres_opts[];
extern const struct check check_bayes;
extern const struct opt bayes_opts[];
extern const struct check check_policy;
extern const struct opt policy_opts[];
extern const struct check check_dnsbl;
extern const struct opt dnsbl_opts[];
extern const struct check check_rules;
extern const struct opt rules_opts[];
extern const struct check check_ratelimit, check_greylist;
extern const struct opt rep_opts[];
extern const struct opt web_opts[];

const struct opt *const cfg_tables[] = {
	core_opts,
	quarantine_opts,
	av_opts,
	attach_opts,
	authdns_opts, spf_opts, dkim_opts, dmarc_opts, authres_opts,
	bayes_opts,
	policy_opts,
	dnsbl_opts,
	rules_opts,
	rep_opts,
	web_opts,
	NULL
};

/* Section titles of vigil.conf(5), one per table above, in order. */
const char *const cfg_table_titles[] = {
	"The daemon, scores and actions",
	"Quarantine and release",
	"Antivirus (ClamAV)",
	"Attachments",
	"DNS for SPF, DKIM and DMARC",
	"SPF",
	"DKIM",
	"DMARC",
	"Authentication-Results",
	"Bayes classifier",
	"Policy: lists and per-recipient thresholds",
	"DNS block lists",
	"Rules",
	"Greylisting and rate limits (Redis)",
	"Quarantine page (vigil-web) and digest",
	NULL
};

const struct check *const checks[] = {
	&check_policy,
	&check_headers,
	&check_spf, &check_dkim, &check_dmarc, &check_authres,
	&check_av,
	&check_attach,
	/* Before rules and bayes: its findings are part of the score
	 * they see. */
	&check_dnsbl,
	&check_rules,
	/* Last: it sees every other finding (autolearn, msg_score). */
	&check_bayes,
	/* After every scoring check: greylisting reads the final score,
	 * and both only defer what no other check decided. */
	&check_ratelimit,
	&check_greylist,
	NULL
};
