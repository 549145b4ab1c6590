/*
 * dnsbl_int.h - the DNS lists' insides, shared by dnsbl_rules.c (the
 * rule table) and dnsbl.c (the check) and nothing else.
 */
#ifndef VIGIL_DNSBL_INT_H
#define VIGIL_DNSBL_INT_H

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "checks/dnsbl/dns.h"
#include "checks/dnsbl/dnsbl.h"
#include "lib/util.h"

enum dnsbl_kind {
	DNSBL_RBL,		/* check_rbl, check_rbl_txt: relays' IPs */
	DNSBL_RBL_SUB,		/* check_rbl_sub: answers of a set */
	DNSBL_FROM_HOST,	/* check_rbl_from_host: From's host */
	DNSBL_FROM_DOMAIN,	/* check_rbl_from_domain: its reg. domain */
	DNSBL_URIRHS,		/* urirhsbl, urirhssub: link domains */
	DNSBL_URIDNS,		/* uridnsbl, uridnssub: their NS hosts' IPs */
	DNSBL_URIDNS_A,		/* the same with tflags a: the domain's IPs */
	DNSBL_ASKDNS,		/* askdns: a templated name */
};

/* Which relays a check_rbl set looks up, by its name's suffix. */
enum dnsbl_which {
	DNSBL_UNTRUSTED,	/* every untrusted relay */
	DNSBL_FIRSTTRUSTED,	/* -firsttrusted: the one our trusted hosts
				 * received the mail from */
	DNSBL_LASTEXTERNAL,	/* -lastexternal: the one our internal
				 * hosts received it from */
	DNSBL_NOTFIRSTHOP,	/* -notfirsthop: untrusted but that one */
};

enum dnsbl_sub_kind {
	DNSBL_SUB_ANY,		/* no subtest: any answer lists */
	DNSBL_SUB_IP,		/* 127.0.0.2 */
	DNSBL_SUB_RANGE,	/* 127.0.0.4-127.0.0.7 */
	DNSBL_SUB_MASK,		/* 127.0.0.0/255.255.255.0 */
	DNSBL_SUB_BITS,		/* 8: answer & 8 */
	DNSBL_SUB_RE,		/* a regex (with or without /.../) */
};

struct dnsbl_sub {
	enum dnsbl_sub_kind kind;
	uint32_t	 a, b;		/* IP, range ends, IP and mask, bits */
	GRegex		*re;
	char		*text;		/* as written: logs */
};

#define DNSBL_TF_DOMAINS_ONLY	(1u << 0)
#define DNSBL_TF_IPS_ONLY	(1u << 1)
#define DNSBL_TF_A		(1u << 2)

struct dnsbl_rule {
	char		*name;
	enum dnsbl_kind	 kind;
	char		*set;		/* check_rbl*: the set's full name */
	enum dnsbl_which which;
	char		*zone;		/* no final dot; NULL for RBL_SUB
					 * and ASKDNS */
	int		 qtype;		/* DNS_T_A or DNS_T_TXT */
	struct dnsbl_sub sub;
	char		*query;		/* askdns: the name with its tags */
	unsigned	 tflags;	/* DNSBL_TF_* */
	bool		 is_body_link;	/* `body NAME eval:check_uridnsbl` seen */
	bool		 is_off;	/* scored 0 with network tests: never
					 * runs, as in SpamAssassin */
	bool		 is_wanted;	/* a source some rule that runs needs:
					 * its lookups start */
};

struct dnsbl_rules {
	GPtrArray	*rules;		/* struct dnsbl_rule *, in order */
	GHashTable	*by_name;	/* name -> struct dnsbl_rule * */
	GHashTable	*sets;		/* set name -> its check_rbl rule */
	GHashTable	*tflags;	/* name -> DNSBL_TF_* (GUINT_TO_POINTER) */
	GHashTable	*skip;		/* uridnsbl_skip_domain names */
	bool		 is_resolved;	/* dnsbl_rules_resolve ran */
};

/* Does answer (dotted quad or TXT) satisfy sub for qtype? */
bool		 dnsbl_sub_match(const struct dnsbl_sub *, int qtype,
		    const char *answer);
/* Applies tflags and the sets' zones to the rules (once, idempotent). */
void		 dnsbl_rules_resolve(struct dnsbl_rules *);
/*
 * The scores (name -> double[4], SpamAssassin's score sets): a rule
 * scored 0 in both sets with network tests is off (SpamAssassin does
 * not run it), and a list none of whose rules runs is never asked.
 */
void		 dnsbl_rules_apply_scores(struct dnsbl_rules *,
		    GHashTable *scores);
/* The zone rule r's answers come from (RBL_SUB: its set's). */
const struct dnsbl_rule *dnsbl_rule_source(const struct dnsbl_rules *,
		    const struct dnsbl_rule *r);


/* ---- the check's state (dnsbl.c) ------------------------------------ */

/* One snapshot's. */
struct dnsbl_state {
	struct dns	*dns;
	bool		 is_on;
	uint64_t	 budget_us, recheck_us;
	struct util_cidr *trusted, *internal;
	size_t		 ntrusted, ninternal;
	_Atomic uint64_t n_msgs, n_hits, n_timeouts;
};

/* One message's (its check slot): its lookups by "type/name". */
struct lookup {
	struct dns_q	*q;
	const char	*zone;		/* owned by the rule set; NULL: askdns */
	char		*key;		/* what was looked up: IP, domain */
	unsigned	 kinds;		/* 1 << enum dnsbl_kind that asked */
	bool		 is_probe;
	enum dns_rc	 rc;		/* after collection */
};

struct dmsg {
	struct dnsbl_state *st;
	const struct dnsbl_rules *rules;
	GHashTable	*by_name;	/* "type/name" -> struct lookup */
	GPtrArray	*order;		/* the same lookups, as started */
	GPtrArray	*chain;		/* relays' IPs, newest first (char *) */
	GPtrArray	*rev;		/* each one's reverse name (char *), NULL
					 * for one no list can know */
	size_t		 untrusted, external;	/* first index of each */
	bool		 has_headers;
	GHashTable	*disabled;	/* zones skipped for this message */
	const char	**hits;		/* rules that hit, sub-rules too */
	size_t		 nhits;
};

/* ---- the lists' health (dnsbl_health.c): the process's, kept across
 * snapshots ----------------------------------------------------------- */

/* Is zone usable for dm's message?  Starts its probe (1.0.0.127.ZONE,
 * or invalid.ZONE for a domain list: names RFC 5782 says no list holds)
 * when one is due: first use, or the recheck time of a disabled list.
 * A disabled zone goes into dm->disabled. */
bool		 dnsbl_zone_usable(struct dmsg *dm, const char *zone,
		    bool is_domain);
bool		 dnsbl_zone_is_disabled(const char *zone);
/* Spamhaus's error answers: why, or NULL for any other answer. */
const char	*dnsbl_error_answer(const char *answer);
/* Judges each zone dm asked from its collected answers: disables the
 * ones that answered wrongly, enables a disabled one whose probe
 * answered right. */
void		 dnsbl_zones_judge(struct dmsg *dm);
/* The message went without the zones in disabled: counts them and adds
 * the finding DNSBL_LIST_DISABLED. */
void		 dnsbl_zones_without(struct msg *m, GHashTable *disabled);
/* "dnsbl.disabled.ZONE N" lines. */
void		 dnsbl_zones_write_stats(FILE *out);

#endif
