/*
 * util.h - small helpers with no mail knowledge: clocks, number and
 * duration parsing, string matching.
 */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Monotonic clock in microseconds. */
uint64_t	util_now_us(void);
/* Parses "10", "64k", "1m", "2g" (powers of 1024); false on junk. */
bool		util_parse_size(const char *s, uint64_t *out_r);
/* Parses "500ms", "30s", "5m", "2h", "30d" ("30" = seconds) into ms. */
bool		util_parse_duration(const char *s, uint64_t *ms_r);
/* A point in time: "30d", "2h" (that long ago) or "2026-11-27" /
 * "2026-11-27T10:00:00" (UTC), in seconds since the epoch. */
bool		util_parse_since(const char *s, int64_t *t_r);
/* Case-insensitive: does s start with prefix? */
bool		util_has_prefix_ci(const char *s, const char *prefix);
/* Parses an IPv4/IPv6 address with optional /len; false on junk. */
struct util_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned	bits;
};
bool		util_parse_cidr(const char *s, struct util_cidr *out_r);
/* Does the textual address ip fall inside c?  (IPv4-mapped IPv6 matches IPv4.) */
bool		util_cidr_match(const struct util_cidr *c, const char *ip);
/* Hex-encodes n bytes into out (2n+1 bytes). */
void		util_hex(char *out, const unsigned char *p, size_t n);
/* Fills p with n bytes from the kernel's random source; false on error. */
bool		util_random(void *p, size_t n);

/*
 * Per-thread state that outlives its thread.  libmilter gives each SMTP
 * connection a thread, which often runs a message's checks itself
 * (scanpool.c) and then exits: the state its checks built (match data,
 * JIT stacks, Hyperscan scratch, sort buffers) would be freed and built
 * again, cold, by the next connection's thread.  A module's thread-exit
 * destructor keeps such state here instead (util_spare_keep; false when
 * full: free it), and a thread without state takes one back first
 * (util_spare_take; NULL when none).  State kept here must belong to no
 * thread: no thread ids, no thread-local pointers.
 */
#define UTIL_SPARES	32
struct util_spares {
	pthread_mutex_t	 mu;
	void		*v[UTIL_SPARES];
	unsigned	 n;
};
#define UTIL_SPARES_INIT	{ PTHREAD_MUTEX_INITIALIZER, { NULL }, 0 }
void		*util_spare_take(struct util_spares *);
bool		 util_spare_keep(struct util_spares *, void *);

#endif
