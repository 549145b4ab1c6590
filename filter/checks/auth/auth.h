/*
 * auth.h - what the sender-authentication checks (spf.c, dkim.c,
 * dmarc.c, authres.c) share: a small DNS client with a time budget, and
 * each check's per-message result so that DMARC and the
 * Authentication-Results builder read what SPF and DKIM found.
 *
 * Results live in the message's arena (msg_slot of their check) and are
 * NULL when the check did not run for the message.  No library type
 * appears here: each library stays inside its own file.
 */
#ifndef VIGIL_AUTH_H
#define VIGIL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

struct msg;
struct cfg;
struct opt;

/* ---- DNS (authdns.c) ------------------------------------------------ */

/* Record types, numbered as on the wire. */
enum adns_type {
	ADNS_A = 1,
	ADNS_NS = 2,		/* the DNS lists' uridnsbl (dnsbl.c) */
	ADNS_PTR = 12,
	ADNS_MX = 15,
	ADNS_TXT = 16,
	ADNS_AAAA = 28,
};

enum adns_rc {
	ADNS_OK,		/* one or more records */
	ADNS_NODATA,		/* the name exists, no record of the type */
	ADNS_NXDOMAIN,		/* the name does not exist */
	ADNS_TEMPFAIL,		/* timeout, SERVFAIL, budget spent, ... */
};

struct adns;

/*
 * What one message may still spend on lookups, in microseconds of real
 * time: SPF, DKIM and DMARC share it (auth_budget), so together they
 * never wait longer than DNSTimeout.
 */
struct adns_budget {
	uint64_t	 left_us;
	bool		 is_set;
	/* The message's answers so far ("type/name" -> the shared cache's
	 * lookup, held): no name is asked twice within a message, whatever
	 * its TTL.  NULL: none kept (adns_budget_keep). */
	void		*memo;
};

/* Keeps b's answers until the arena (the message's) is released. */
struct arena;
void		 adns_budget_keep(struct adns_budget *b, struct arena *a);

/*
 * A resolver: the system's (resolv.conf, through the process's shared
 * cache on c-ares, dns_shared(): an answer is reused by every message
 * within its TTL) or, when zone_path is set, a
 * static zone file (tests, offline checks).  timeout_ms is the budget one
 * message gets (auth_budget).  Returns NULL with a malloc'd *err_r on
 * failure.  Thread-safe once built.
 */
struct adns	*adns_new(const char *zone_path, uint64_t timeout_ms,
		    char **err_r);
/* NULL-safe; sets *ap to NULL. */
void		 adns_free(struct adns **ap);
uint64_t	 adns_timeout_ms(const struct adns *);
/*
 * Looks name up.  On ADNS_OK *rrs_r is a malloc'd NULL-terminated array
 * of strings in one block (caller frees it with free()): A/AAAA as text
 * addresses, MX and PTR as host names, TXT with its strings joined.
 * The wait is bounded by what is left of b, and its time is taken off
 * b (an answer b's memo already holds costs nothing); with nothing left the lookup fails
 * at once with ADNS_TEMPFAIL.  A zone file's TIMEOUT spends all of b.
 */
enum adns_rc	 adns_query(struct adns *, const char *name,
		    enum adns_type type, struct adns_budget *b, char ***rrs_r,
		    size_t *n_r);
const char	*adns_rc_name(enum adns_rc);
/* n strings in one malloc'd NULL-terminated array, as adns_query gives. */
char		**adns_pack(char *const *strs, size_t n);

/* Options shared by the three checks (DNSTimeout, DNSZoneFile). */
extern const struct opt authdns_opts[];	/* cfg.h */
/* Builds the resolver a check's setup() uses from the configuration. */
struct adns	*adns_from_cfg(const struct cfg *, char **err_r);

/* ---- results ------------------------------------------------------- */

/* RFC 8601 result words: the enum order is also the A-R spelling. */
enum auth_res {
	AUTH_NONE,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,
	AUTH_NEUTRAL,
	AUTH_POLICY,
	AUTH_TEMPERROR,
	AUTH_PERMERROR,
};
const char	*auth_res_name(enum auth_res);

/* The explanation libspf2 gives when a domain publishes none (logs only). */
extern const char spf_default_explanation[];

struct auth_spf {
	enum auth_res	 result;
	const char	*identity;	/* "mailfrom" or "helo" */
	const char	*domain;	/* domain of the checked identity */
	const char	*sender;	/* the checked address */
	const char	*explanation;	/* the library's text: logs only */
	bool		 helo_checked;	/* SPFCheckHelo also ran */
	enum auth_res	 helo_result;
	const char	*helo;
};

struct auth_dkim_sig {
	enum auth_res	 result;
	const char	*domain;	/* d= */
	const char	*idomain;	/* the domain of the identity (i=,
					 * by default @d=), lower case; ""
					 * for an i= without "@" */
	const char	*selector;	/* s= */
	const char	*algorithm;	/* "rsa-sha256", "ed25519-sha256", ... */
	const char	*b;		/* start of b= (at least 8 chars) */
	unsigned	 key_bits;
	const char	*why;		/* library's reason when not pass */
};

struct auth_dkim {
	size_t		 nsigs;
	const struct auth_dkim_sig *sigs;
	size_t		 nunverified;	/* past DKIMMaxSignatures, not in sigs */
	const char	*error;		/* whole-message failure, or NULL */
};

enum dmarc_policy {
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
};

struct auth_dmarc {
	enum auth_res	 result;	/* NONE: no record or no From */
	const char	*from_domain;
	const char	*record_domain;	/* where the record was found */
	enum dmarc_policy policy;	/* p= or sp= that applies */
	enum dmarc_policy applied;	/* after pct= */
	bool		 dkim_aligned, spf_aligned;
	const char	*why;		/* for logs and the finding's detail */
};

/*
 * The message's one author domain (lower case), or NULL when there is no
 * From, when the From fields name several domains, or when one of their
 * addresses has none (RFC 7489 6.6.1; dmarc.c evaluates every domain).
 * Parsed once per message; lives in its arena.
 */
const char	*auth_from_domain(struct msg *m);
/*
 * Does an Authentication-Results value name authserv-id id, as RFC 8601
 * parses it: after CFWS (comments included), as a token or a
 * quoted-string, any case?  The milter removes incoming ones that do.
 */
bool		 authres_names_id(const char *value, const char *id);
/* The message's DNS budget, DNSTimeout of r at first use. */
struct adns_budget *auth_budget(struct msg *m, const struct adns *r);

/* NULL when the check did not run (or not yet) for m. */
const struct auth_spf	*auth_spf(struct msg *m);
const struct auth_dkim	*auth_dkim(struct msg *m);
const struct auth_dmarc	*auth_dmarc(struct msg *m);

/* ---- pieces the conformance runners call directly --------------------- */

/* Is sub aligned with dom (strict: same name; relaxed: same
 * organizational domain per the public suffix list)? */
bool		 dmarc_is_aligned(const char *sub, const char *dom,
		    bool strict);
/* libopendmarc's verdict on a record, by name ("DMARC_PARSE_OKAY"...). */
const char	*dmarc_parse_status(const char *domain, const char *record);

struct dmarc_input {
	const char	*from_domain;
	const char	*record;	/* the TXT record found */
	const char	*record_domain;	/* where: from_domain or its org domain */
	size_t		 ndkim;
	const char *const *dkim_domains;	/* d= of each signature */
	const enum auth_res *dkim_results;
	const char	*spf_domain;	/* NULL: no SPF result */
	enum auth_res	 spf_result;
};
/*
 * Evaluates one message against a record (RFC 7489 section 6.6) with
 * libopendmarc, alignment re-checked by vigil.  Fills *out (strings in
 * the input's lifetime or static).  Returns false when the record is not
 * usable (out->why says why; out->result is AUTH_NONE or PERMERROR).
 * roll is a number in [0, 100) for pct= sampling.
 */
bool		 dmarc_evaluate(const struct dmarc_input *in, unsigned roll,
		    struct auth_dmarc *out);

#endif
