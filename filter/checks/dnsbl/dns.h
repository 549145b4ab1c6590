/*
 * dns.h - the asynchronous resolver of the DNS lists (dnsbl.c): lookups
 * start at once and are collected later, many in flight, all answered by
 * one cache shared by every message of a snapshot.
 *
 * Built on c-ares (dns.c is the only file that includes it), or on a
 * DNSZoneFile (authdns.c's zone table) for tests and offline runs: then
 * every answer is known as soon as the lookup starts, and a TIMEOUT line
 * leaves the lookup unanswered forever.
 *
 * A lookup (struct dns_q) is shared: the cache and every message waiting
 * for it hold a reference.  Its answers are read only once it is done and
 * stay valid while the reader holds its reference.
 */
#ifndef VIGIL_DNS_H
#define VIGIL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dns;
struct dns_q;

enum dns_rc {
	DNS_PENDING,		/* no answer yet (or never: a timeout) */
	DNS_OK,			/* one or more records of the type */
	DNS_NODATA,		/* the name exists, no record of the type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_ERROR,		/* SERVFAIL, REFUSED, resolver failure */
};

/* Record types, numbered as on the wire. */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

/*
 * A resolver: the system's (resolv.conf, through c-ares and our cache) or,
 * with zone_path, a static zone file.  The c-ares channel is made with
 * the first lookup (after the daemon forked); no thread of its own.
 * Returns NULL with a malloc'd *err_r on failure.
 */
struct dns	*dns_new(const char *zone_path, char **err_r);
/* Cancels the lookups in flight and frees them all.  NULL-safe; sets *dp
 * to NULL.  No message may still hold a lookup. */
void		 dns_free(struct dns **dp);
/* The process's resolver of SPF, DKIM and DMARC (authdns.c): answers
 * kept for their exact TTL; made on first use, freed at exit. */
struct dns	*dns_shared(void);
bool		 dns_is_zone(const struct dns *);

/*
 * Starts looking name up (or finds it in the cache: answered and not
 * past its TTL, or still in flight).  Never blocks on the network and
 * never fails: a lookup that cannot be sent is done with DNS_ERROR.
 * Returns a reference the caller drops with dns_q_unref().
 */
struct dns_q	*dns_start(struct dns *, const char *name, int type);
/*
 * Waits until q is done or the monotonic clock (util_now_us) reaches
 * deadline_us, whichever comes first, reading the replies of every
 * lookup meanwhile (one waiter at a time); never waits with a zone file.
 * Returns q's state: DNS_PENDING when it is still unanswered.
 */
enum dns_rc	 dns_wait(struct dns *, struct dns_q *, uint64_t deadline_us);
/* The answers of a done lookup (A and AAAA as addresses, NS, PTR and MX
 * as host names without the final dot, TXT strings joined),
 * owned by q; NULL and 0 when there are none. */
const char *const *dns_q_answers(const struct dns_q *, size_t *n_r);
const char	*dns_q_name(const struct dns_q *);
/* Drops a reference; sets *qp to NULL.  NULL-safe. */
void		 dns_q_unref(struct dns *, struct dns_q **qp);
const char	*dns_rc_name(enum dns_rc);

/* "dns.lookups N", "dns.cache_hits N", ... for `vigilctl stats`. */
void		 dns_write_stats(struct dns *, FILE *);

#endif
