/*
 * dnsbl_int.h - the DNS lists' insides, shared by dnsbl_rules.c (the
 * rule table) and dnsbl.c (the check) and nothing else.
 */
#ifndef VIGIL_DNSBL_INT_H
#define VIGIL_DNSBL_INT_H

#include <stdint.h>

#include <glib.h>

#include "checks/dnsbl.h"

enum dnsbl_kind {
	DNSBL_RBL,		/* check_rbl, check_rbl_txt: relays' IPs */
	DNSBL_RBL_SUB,		/* check_rbl_sub: answers of a set */
	DNSBL_FROM_HOST,	/* check_rbl_from_host: From's host */
	DNSBL_FROM_DOMAIN,	/* check_rbl_from_domain: its reg. domain */
	DNSBL_URIRHS,		/* urirhsbl, urirhssub: link domains */
	DNSBL_URIDNS,		/* uridnsbl, uridnssub: their NS's (or A) IPs */
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
/* The zone rule r's answers come from (RBL_SUB: its set's). */
const struct dnsbl_rule *dnsbl_rule_source(const struct dnsbl_rules *,
		    const struct dnsbl_rule *r);

#endif
