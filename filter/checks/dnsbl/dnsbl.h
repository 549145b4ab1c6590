/*
 * dnsbl.h - DNS lists (DNSBL, DNSWL, URI lists), as SpamAssassin's DNS
 * rules declare them: `header NAME eval:check_rbl('set', 'zone.')`,
 * check_rbl_sub, check_rbl_txt, check_rbl_from_host/_domain, urirhssub,
 * urirhsbl, uridnsbl, uridnssub (with `body NAME eval:check_uridnsbl`)
 * and askdns.
 *
 * rules_parse.c hands those lines to dnsbl_rules.c, which keeps them in
 * the rule set (struct dnsbl_rules); the dnsbl check (dnsbl.c) reads
 * them from the rules check's set, starts the lookups as their inputs
 * become known and scores the answers at end of message.  The rules
 * check never evaluates them.
 */
#ifndef VIGIL_DNSBL_H
#define VIGIL_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dnsbl_rules;
struct snap;

/* An empty table (never NULL); freed with the rule set. */
struct dnsbl_rules *dnsbl_rules_new(void);
void		 dnsbl_rules_free(struct dnsbl_rules **);

/*
 * `header NAME eval:FN(ARGS)` or `body NAME eval:FN(ARGS)`; call is the
 * text after "eval:".  Returns 1 when the rule is a DNS rule and was
 * kept, 0 when FN is no DNS function (the caller skips the rule as
 * before), -1 when it is one but cannot be read (why says why).
 */
int		 dnsbl_rules_eval(struct dnsbl_rules *, const char *name,
		    const char *call, char *why, size_t whylen);
/* urirhssub, urirhsbl, uridnsbl, uridnssub and askdns lines: rest is
 * the text after the rule name.  0 on success, -1 with why. */
int		 dnsbl_rules_directive(struct dnsbl_rules *, const char *kw,
		    const char *name, const char *rest, char *why,
		    size_t whylen);
/* The tflags of NAME (domains_only, ips_only, a) as written. */
void		 dnsbl_rules_tflags(struct dnsbl_rules *, const char *name,
		    const char *flags);
/* uridnsbl_skip_domain d1 d2 ... */
void		 dnsbl_rules_skip_domains(struct dnsbl_rules *,
		    const char *list);
/* Does a DNS rule of this name exist? */
bool		 dnsbl_rules_has(const struct dnsbl_rules *, const char *name);
/* The table's own copy of an existing rule's name (lives with it). */
const char	*dnsbl_rules_name(const struct dnsbl_rules *, const char *name);

struct msg;
/* The DNS rules that hit for m, sub-rules (__NAME) too, for metas; names
 * owned by the rule set, array by m's arena.  NULL and 0 when the lists
 * did not run. */
const char *const *dnsbl_msg_hits(struct msg *m, size_t *n_r);
size_t		 dnsbl_rules_count(const struct dnsbl_rules *);

/*
 * `vigil -n`: the lists the snapshot's rules use and their state, each
 * probed once when DNSLists is on.  Writes one line a list to out.
 */
void		 dnsbl_report(struct snap *, FILE *out);

#endif
