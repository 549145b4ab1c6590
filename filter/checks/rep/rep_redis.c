/*
 * rep_redis.c - the Redis client of greylisting and rate limits, and the
 * options of both (one table: one section of vigil.conf(5)).
 *
 * The server is ReputationRedis, or when that is unset the one Bayes
 * uses (BayesRedis and BayesRedisDatabase): a site that shares Bayes
 * between its MX hosts already runs that Redis, and the keys cannot
 * collide (ReputationRedisPrefix).  The timeout is separate and short:
 * these checks sit on the path of every message.
 *
 * One hiredis context per client, used under a mutex (contexts are not
 * thread-safe) and reopened after an error.  A script is sent once with
 * SCRIPT LOAD and then run by EVALSHA; a NOSCRIPT answer (a restarted
 * or flushed server, a failover) runs it by EVAL, which caches it again.
 * This file is the only one of the folder that includes hiredis.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

#include "cfg.h"
#include "checks/rep/rep.h"
#include "lib/arena.h"
#include "lib/log.h"

const struct opt rep_opts[] = {
	{ "ReputationRedis", OPT_STRING, NULL, 0, 0, NULL,
	  "host:port (or /path of a unix socket) of the Redis server that "
	  "holds greylisting and rate-limit state, shared by the MX hosts; "
	  "unset: BayesRedis's server" },
	{ "ReputationRedisDatabase", OPT_INT, "0", 0, 1000, NULL,
	  "Redis database number of ReputationRedis (with BayesRedis's "
	  "server: BayesRedisDatabase)" },
	{ "ReputationRedisPrefix", OPT_STRING, "vigil:rep:", 0, 0, NULL,
	  "Prefix of the greylisting and rate-limit keys (for Redis Cluster "
	  "put it in {braces}: a script's keys must share a slot)" },
	{ "ReputationRedisTimeout", OPT_DURATION, "200ms", 10, 10000, NULL,
	  "Connect and reply timeout; past it the checks are skipped with "
	  "GREYLIST_UNAVAILABLE or RATELIMIT_UNAVAILABLE and the mail flows" },
	{ "GreylistScore", OPT_STRING, NULL, 0, 0, NULL,
	  "LOW..HIGH: greylist mail scoring at least LOW and less than HIGH "
	  "(e.g. 3..8): its first delivery attempt from a client network, "
	  "sender and recipient is answered 451 4.7.1; unset: off.  Never "
	  "for authenticated clients or TrustedNetworks" },
	{ "GreylistDelay", OPT_DURATION, "5m", 0, 86400000, NULL,
	  "A retry sooner than this after the first attempt is deferred "
	  "again" },
	{ "GreylistWindow", OPT_DURATION, "24h", 1000, 30 * 86400000.0, NULL,
	  "After the delay, how long a retry is awaited; later ones start "
	  "over" },
	{ "GreylistAllow", OPT_DURATION, "35d", 1000, 3650 * 86400000.0,
	  NULL, "A triplet that retried passes without delay this long "
	  "after its last message" },
	{ "GreylistClientAllow", OPT_INT, "5", 0, 1000000, NULL,
	  "Triplets of one client network (/24, /64) that retried before "
	  "the whole network passes without delay (0: never)" },
	{ "RateLimitClient", OPT_STRING, NULL, 0, 0, NULL,
	  "N/PERIOD (e.g. 100/1h): messages a client network (/24, /64) may "
	  "send, a token bucket of N refilled at N per PERIOD shared by all "
	  "MX hosts; past it 451 4.7.1 with the time to retry; unset: off" },
	{ "RateLimitUser", OPT_STRING, NULL, 0, 0, NULL,
	  "N/PERIOD: messages per authenticated (SASL) user; unset: off" },
	{ "RateLimitSenderDomain", OPT_STRING, NULL, 0, 0, NULL,
	  "N/PERIOD: messages per envelope sender domain; unset: off" },
	{ "RateLimitRecipient", OPT_STRING, NULL, 0, 0, NULL,
	  "N/PERIOD: messages per recipient address, counted at the end of "
	  "the message; unset: off.  Client, sender domain and recipient "
	  "limits do not apply to authenticated clients or TrustedNetworks" },
	{ NULL }
};

#define REP_RETRY_MS	1000	/* a dead server is tried again after */

struct rep_redis {
	pthread_mutex_t	 lock;
	redisContext	*rc;		/* NULL: reconnect before use */
	char		*where;		/* as configured */
	char		*host;		/* NULL: unix socket at where */
	int		 port;
	int		 db;
	struct timeval	 tv;
	const char	*script;
	char		 sha[41];	/* "" until SCRIPT LOAD answered */
	int64_t		 retry_at_ms;	/* no connection attempt before */
	char		*down_why;	/* the failure that set retry_at_ms */
	_Atomic unsigned long long n_evalsha, n_eval;
};

static char	*strf(const char *fmt, ...) PRINTF_LIKE(1, 2);

static char *
strf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		log_oom(strlen(fmt), "rep");
	va_end(ap);
	return s;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct rep_redis *
rep_redis_new(const char *addr, int db, unsigned timeout_ms,
    const char *script, char **err_r)
{
	struct rep_redis *r;
	const char *h = addr, *colon;
	size_t	 hlen;
	long	 port = 6379;
	char	*end;

	if (addr == NULL || *addr == '\0') {
		*err_r = strf("no Redis server");
		return NULL;
	}
	if (addr[0] == '/') {
		h = NULL;
		hlen = 0;
	} else if (h[0] == '[') {
		const char *rb = strchr(h, ']');

		if (rb == NULL) {
			*err_r = strf("Redis %s: missing ]", addr);
			return NULL;
		}
		h++;
		hlen = (size_t)(rb - h);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL) {
			*err_r = strf("Redis %s: junk after ]", addr);
			return NULL;
		}
	} else {
		colon = strrchr(h, ':');
		hlen = colon != NULL ? (size_t)(colon - h) : strlen(h);
	}
	if (h != NULL && colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
			*err_r = strf("Redis %s: bad port", addr);
			return NULL;
		}
	}
	if (h != NULL && hlen == 0) {
		*err_r = strf("Redis %s: no host", addr);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		log_oom(sizeof(*r), "rep");
	pthread_mutex_init(&r->lock, NULL);
	if ((r->where = strdup(addr)) == NULL ||
	    (h != NULL && (r->host = strndup(h, hlen)) == NULL))
		log_oom(strlen(addr), "rep");
	r->port = (int)port;
	r->db = db;
	r->tv.tv_sec = (time_t)(timeout_ms / 1000);
	r->tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	r->script = script;
	return r;
}

void
rep_redis_free(struct rep_redis **rp)
{
	struct rep_redis *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	if (r->rc != NULL)
		redisFree(r->rc);
	pthread_mutex_destroy(&r->lock);
	free(r->down_why);
	free(r->host);
	free(r->where);
	free(r);
}

const char *
rep_redis_where(const struct rep_redis *r)
{
	return r->where;
}

void
rep_redis_counts(const struct rep_redis *r, unsigned long long *evalsha_r,
    unsigned long long *eval_r)
{
	*evalsha_r = atomic_load(&r->n_evalsha);
	*eval_r = atomic_load(&r->n_eval);
}

/* "redis WHERE: WHAT: why" from the context's error. */
static char *
ctx_err(struct rep_redis *r, const char *what)
{
	return strf("redis %s: %s: %s", r->where, what,
	    r->rc != NULL && r->rc->err != 0 ? r->rc->errstr :
	    "no connection");
}

/* Drops a broken connection; the next call reconnects (after the
 * pause when the server could not be reached). */
static void
drop(struct rep_redis *r, const char *why, int is_down)
{
	if (r->rc != NULL)
		redisFree(r->rc);
	r->rc = NULL;
	r->sha[0] = '\0';
	if (is_down) {
		r->retry_at_ms = mono_ms() + REP_RETRY_MS;
		free(r->down_why);
		if ((r->down_why = strdup(why)) == NULL)
			log_oom(strlen(why), "rep");
	}
}

/* A reply, or NULL with *err_r (and the connection dropped). */
static redisReply *
command(struct rep_redis *r, const char *what, char **err_r, int argc,
    const char **argv, const size_t *argvlen)
{
	redisReply *rep = redisCommandArgv(r->rc, argc, argv, argvlen);

	if (rep == NULL) {
		*err_r = ctx_err(r, what);
		drop(r, *err_r, 1);
	}
	return rep;
}

static int
connect_redis(struct rep_redis *r, char **err_r)
{
	redisReply *rep;
	const char *argv[3];
	size_t	 argvlen[3];
	char	 db[16];

	if (r->rc != NULL)
		return 0;
	if (r->retry_at_ms != 0 && mono_ms() < r->retry_at_ms) {
		*err_r = strf("%s (retried within %d ms)", r->down_why,
		    REP_RETRY_MS);
		return -1;
	}
	if (r->host != NULL)
		r->rc = redisConnectWithTimeout(r->host, r->port, r->tv);
	else
		r->rc = redisConnectUnixWithTimeout(r->where, r->tv);
	if (r->rc == NULL || r->rc->err != 0 ||
	    redisSetTimeout(r->rc, r->tv) != REDIS_OK) {
		*err_r = ctx_err(r, "connect");
		drop(r, *err_r, 1);
		return -1;
	}
	if (r->db != 0) {
		snprintf(db, sizeof(db), "%d", r->db);
		argv[0] = "SELECT";
		argv[1] = db;
		argvlen[0] = 6;
		argvlen[1] = strlen(db);
		if ((rep = command(r, "SELECT", err_r, 2, argv, argvlen)) ==
		    NULL)
			return -1;
		if (rep->type == REDIS_REPLY_ERROR) {
			*err_r = strf("redis %s: SELECT %d: %s", r->where,
			    r->db, rep->str);
			freeReplyObject(rep);
			drop(r, *err_r, 1);
			return -1;
		}
		freeReplyObject(rep);
	}
	r->retry_at_ms = 0;
	/* The script's digest, for EVALSHA; without it EVAL is used. */
	argv[0] = "SCRIPT";
	argv[1] = "LOAD";
	argv[2] = r->script;
	argvlen[0] = 6;
	argvlen[1] = 4;
	argvlen[2] = strlen(r->script);
	if ((rep = command(r, "SCRIPT LOAD", err_r, 3, argv, argvlen)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_STRING && rep->len == 40)
		memcpy(r->sha, rep->str, 41);
	freeReplyObject(rep);
	return 0;
}

/* EVALSHA (or EVAL) script nkeys keys... args... */
static redisReply *
run_script(struct rep_redis *r, int by_sha, const char *const *keys,
    size_t nkeys, const char *const *args, size_t nargs, char **err_r)
{
	size_t	 argc = 3 + nkeys + nargs, i = 0;
	const char **argv = calloc(argc, sizeof(*argv));
	size_t	*argvlen = calloc(argc, sizeof(*argvlen));
	char	 nk[24];
	redisReply *rep;

	if (argv == NULL || argvlen == NULL)
		log_oom(argc * sizeof(*argv), "rep");
	snprintf(nk, sizeof(nk), "%zu", nkeys);
	argv[i++] = by_sha ? "EVALSHA" : "EVAL";
	argv[i++] = by_sha ? r->sha : r->script;
	argv[i++] = nk;
	for (size_t k = 0; k < nkeys; k++)
		argv[i++] = keys[k];
	for (size_t k = 0; k < nargs; k++)
		argv[i++] = args[k];
	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	rep = command(r, by_sha ? "EVALSHA" : "EVAL", err_r, (int)argc, argv,
	    argvlen);
	free(argv);
	free(argvlen);
	if (rep != NULL)
		atomic_fetch_add(by_sha ? &r->n_evalsha : &r->n_eval, 1);
	return rep;
}

int
rep_redis_eval(struct rep_redis *r, const char *const *keys, size_t nkeys,
    const char *const *args, size_t nargs, long long *out, size_t nout,
    char **err_r)
{
	redisReply *rep = NULL;
	int	 rc = -1;

	pthread_mutex_lock(&r->lock);
	if (connect_redis(r, err_r) == -1)
		goto out;
	if (r->sha[0] != '\0') {
		rep = run_script(r, 1, keys, nkeys, args, nargs, err_r);
		if (rep == NULL)
			goto out;
		if (rep->type == REDIS_REPLY_ERROR &&
		    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(rep);
			rep = NULL;
		}
	}
	if (rep == NULL &&
	    (rep = run_script(r, 0, keys, nkeys, args, nargs, err_r)) == NULL)
		goto out;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* The server answered: no pause, only this message. */
		*err_r = strf("redis %s: script: %s", r->where, rep->str);
		goto out;
	}
	if (rep->type != REDIS_REPLY_ARRAY) {
		*err_r = strf("redis %s: script: unexpected reply type %d",
		    r->where, rep->type);
		goto out;
	}
	for (size_t i = 0; i < nout; i++)
		out[i] = i < rep->elements &&
		    rep->element[i]->type == REDIS_REPLY_INTEGER ?
		    rep->element[i]->integer : 0;
	rc = 0;
out:
	if (rep != NULL)
		freeReplyObject(rep);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

struct rep_redis *
rep_redis_from_cfg(const struct cfg *c, const char *script, char **err_r)
{
	const char *addr = cfg_str(c, "ReputationRedis");
	int	 db = (int)cfg_int(c, "ReputationRedisDatabase");
	struct rep_redis *r;
	char	*e = NULL;

	if (addr == NULL || *addr == '\0') {
		addr = cfg_str(c, "BayesRedis");
		db = (int)cfg_int(c, "BayesRedisDatabase");
	}
	if (addr == NULL || *addr == '\0') {
		*err_r = strf("no Redis server: set ReputationRedis (or "
		    "BayesRedis)");
		return NULL;
	}
	r = rep_redis_new(addr, db,
	    (unsigned)cfg_duration_ms(c, "ReputationRedisTimeout"), script, &e);
	if (r == NULL) {
		*err_r = strf("ReputationRedis: %s", e);
		free(e);
	}
	return r;
}

const char *
rep_prefix(const struct cfg *c)
{
	const char *p = cfg_str(c, "ReputationRedisPrefix");

	return p != NULL ? p : "";
}

const char *
rep_client_net(const char *ip, char *buf, size_t bufsz)
{
	unsigned char a[16];
	char	 t[INET6_ADDRSTRLEN];

	if (ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, a) == 1) {
		a[3] = 0;
		inet_ntop(AF_INET, a, t, sizeof(t));
		snprintf(buf, bufsz, "%s/24", t);
		return buf;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return NULL;
	/* ::ffff:a.b.c.d is an IPv4 client. */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		a[15] = 0;
		inet_ntop(AF_INET, a + 12, t, sizeof(t));
		snprintf(buf, bufsz, "%s/24", t);
		return buf;
	}
	memset(a + 8, 0, 8);
	inet_ntop(AF_INET6, a, t, sizeof(t));
	snprintf(buf, bufsz, "%s/64", t);
	return buf;
}
