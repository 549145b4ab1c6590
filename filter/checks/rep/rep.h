/*
 * rep.h - shared reputation state in Redis: greylisting by score
 * (greylist.c) and token-bucket rate limits (ratelimit.c), over one small
 * Redis client (rep_redis.c) that runs Lua scripts (EVALSHA, falling back
 * to EVAL when the server lost its script cache).
 *
 * Every MX host's vigil points at the same Redis, so a triplet that
 * retried through one MX is known to the others and a bucket drains on
 * all of them together.  Redis down or slow (ReputationRedisTimeout):
 * the checks add GREYLIST_UNAVAILABLE / RATELIMIT_UNAVAILABLE (score 0)
 * and the mail flows.
 *
 * The cores below take the time as an argument, so that the unit tests
 * (tests/unit/test_rep.c, against a real redis-server) can move the
 * clock without sleeping.
 */
#ifndef VIGIL_REP_H
#define VIGIL_REP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct rep_redis;

/* ---- rep_redis.c: one connection, thread-safe ---------------------- */

/*
 * A client of the Redis at addr (host:port, [v6]:port, host, or a unix
 * socket path starting with '/'), database db, every call bounded by
 * timeout_ms; script is the Lua source it runs.  Does not connect yet.
 * Returns NULL with *err_r (malloc'd) on a malformed address.
 */
struct rep_redis *rep_redis_new(const char *addr, int db,
		    unsigned timeout_ms, const char *script, char **err_r);
void		 rep_redis_free(struct rep_redis **);
/* "host:port" as configured; owned by r. */
const char	*rep_redis_where(const struct rep_redis *);
/*
 * Runs the script with keys[0..nkeys) and args[0..nargs); its reply must
 * be an array of integers, copied into out[0..nout) (missing ones 0).
 * Returns 0, or -1 with *err_r (malloc'd: what failed and why).  After a
 * failure to reach the server, calls fail at once for a second before the
 * next connection attempt, so that a dead Redis costs one timeout a
 * second, not one a message.
 */
int		 rep_redis_eval(struct rep_redis *, const char *const *keys,
		    size_t nkeys, const char *const *args, size_t nargs,
		    long long *out, size_t nout, char **err_r);
/* Scripts run by EVALSHA, and by EVAL (first use, or NOSCRIPT). */
void		 rep_redis_counts(const struct rep_redis *,
		    unsigned long long *evalsha_r, unsigned long long *eval_r);

/* The options every module of the folder reads (ReputationRedis...), or
 * NULL with *err_r when no Redis is configured. */
struct rep_redis *rep_redis_from_cfg(const struct cfg *, const char *script,
		    char **err_r);
const char	*rep_prefix(const struct cfg *);

/* The client's network as text: a.b.c.0/24 for IPv4, the /64 for IPv6
 * (IPv4-mapped IPv6 as IPv4); buf of at least 64 bytes.  NULL when ip
 * is no address. */
const char	*rep_client_net(const char *ip, char *buf, size_t bufsz);

/* ---- greylist.c --------------------------------------------------- */

extern const char rep_greylist_lua[];

struct grey_cfg {
	const char	*prefix;
	int64_t		 delay_ms;	/* a retry sooner is deferred again */
	int64_t		 window_ms;	/* a retry later starts over */
	int64_t		 allow_ms;	/* a triplet that retried passes */
	long long	 client_after;	/* retried triplets that allow the
					 * whole client network (0: never) */
};

enum grey_result {
	GREY_NEW = 1,		/* first time: deferred */
	GREY_EARLY,		/* retried before the delay: deferred */
	GREY_RETRIED,		/* retried in the window: passes now */
	GREY_CLIENT,		/* the client network is allowed */
	GREY_KNOWN,		/* every triplet passed before */
};

/* GreylistScore's "LOW..HIGH" (LOW < HIGH); false when malformed. */
bool		 grey_band_parse(const char *s, double *low_r, double *high_r);

/* Looks up and updates the triplets (net, from, rcpts[i]) at now_ms.
 * Returns an enum grey_result and the seconds to wait in *wait_s_r
 * (deferred ones), or -1 with *err_r. */
int		 grey_query(struct rep_redis *, const struct grey_cfg *,
		    const char *net, const char *from,
		    const char *const *rcpts, size_t nrcpts, int64_t now_ms,
		    long long *wait_s_r, char **err_r);

/* ---- ratelimit.c -------------------------------------------------- */

extern const char rep_ratelimit_lua[];

/* One bucket: burst tokens, refilled at burst per period_ms. */
struct rl_bucket {
	const char	*key;		/* full Redis key */
	long long	 burst;
	long long	 period_ms;
};

/*
 * Takes one token from each bucket if every one has a token; else takes
 * none.  Returns 0 (taken) or the 1-based index of the first empty
 * bucket, with the milliseconds until it has a token in *wait_ms_r;
 * -1 with *err_r on failure.
 */
int		 rl_take(struct rep_redis *, const struct rl_bucket *,
		    size_t n, int64_t now_ms, long long *wait_ms_r,
		    char **err_r);
/* "N/DURATION" (100/1h, 10/30s, 5/500ms, 1000/1d) into *burst_r and
 * *period_ms_r; false when malformed. */
int		 rl_parse(const char *s, long long *burst_r,
		    long long *period_ms_r);

#endif
