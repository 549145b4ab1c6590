/*
 * bayes_redis.c - the Bayes token store in Redis, for several MX hosts
 * sharing one database (BayesRedis host:port, BayesRedisDatabase,
 * BayesRedisPrefix).
 *
 * Keys under the prefix P (one hash each; token fields are the 8 raw
 * bytes of the hash):
 *   P S   token -> times seen in spam      P H   token -> times seen in ham
 *   P D   token -> day of last use         P M   digest -> "s" | "h"
 *   P N   nspam, nham, last (unix time), xpos (expire cursor)
 * A lookup is two pipelined HMGETs; a learn is one Lua script per
 * message, so a message is counted once even when several hosts learn it
 * at the same time.  For Redis Cluster put the prefix in braces
 * ("{vigil}:bayes:") so that the five keys share a slot.
 *
 * hiredis contexts are not thread-safe: one connection, used under a
 * mutex and reopened after an error.  This file is the only one that
 * includes <hiredis/hiredis.h>.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "checks/bayes/bayes.h"
#include "lib/log.h"

struct rstore {
	struct bayes_store base;
	pthread_mutex_t	 lock;
	redisContext	*rc;		/* NULL: reconnect before use */
	char		*host;
	int		 port;
	int		 db;
	struct timeval	 tv;
	char		*key[5];	/* S H D M N */
	size_t		 keylen[5];
};

enum { K_S, K_H, K_D, K_M, K_N };

/*
 * KEYS: S H D M N.  ARGV: digest, class ("s"|"h"), forget ("1"|"0"),
 * day, now, tokens...  Returns 0 learned, 1 moved, 2 already,
 * 3 forgotten, 4 unknown.
 */
static const char learn_lua[] =
"local was = redis.call('HGET', KEYS[4], ARGV[1])\n"
"local cls, day = ARGV[2], ARGV[4]\n"
"local function apply(c, delta)\n"
"  local h, other = KEYS[1], KEYS[2]\n"
"  if c == 'h' then h, other = KEYS[2], KEYS[1] end\n"
"  for i = 6, #ARGV do\n"
"    local t = ARGV[i]\n"
"    if delta > 0 then\n"
"      redis.call('HINCRBY', h, t, 1)\n"
"      redis.call('HSET', KEYS[3], t, day)\n"
"    elseif redis.call('HEXISTS', h, t) == 1 then\n"
"      if redis.call('HINCRBY', h, t, -1) <= 0 then\n"
"        redis.call('HDEL', h, t)\n"
"        if redis.call('HEXISTS', other, t) == 0 then\n"
"          redis.call('HDEL', KEYS[3], t)\n"
"        end\n"
"      end\n"
"    end\n"
"  end\n"
"end\n"
"local function count(c, delta)\n"
"  local f = 'nham'\n"
"  if c == 's' then f = 'nspam' end\n"
"  if delta > 0 or tonumber(redis.call('HGET', KEYS[5], f) or '0') > 0 then\n"
"    redis.call('HINCRBY', KEYS[5], f, delta)\n"
"  end\n"
"end\n"
"if ARGV[3] == '1' then\n"
"  if not was then return 4 end\n"
"  apply(was, -1); count(was, -1)\n"
"  redis.call('HDEL', KEYS[4], ARGV[1])\n"
"  return 3\n"
"end\n"
"if was == cls then return 2 end\n"
"if was then apply(was, -1); count(was, -1) end\n"
"apply(cls, 1); count(cls, 1)\n"
"redis.call('HSET', KEYS[4], ARGV[1], cls)\n"
"redis.call('HSET', KEYS[5], 'last', ARGV[5])\n"
"if was then return 1 end\n"
"return 0\n";

/*
 * KEYS: S H D N.  ARGV: count, cutoff day, max count.  One HSCAN step
 * from the saved cursor; returns { next cursor, scanned, dropped }.
 */
static const char expire_lua[] =
"local cur = redis.call('HGET', KEYS[4], 'xpos') or '0'\n"
"local r = redis.call('HSCAN', KEYS[3], cur, 'COUNT', ARGV[1])\n"
"local kv, scanned, dropped = r[2], 0, 0\n"
"local cut, maxc = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
"for i = 1, #kv, 2 do\n"
"  scanned = scanned + 1\n"
"  if tonumber(kv[i + 1]) < cut then\n"
"    local t = kv[i]\n"
"    local s = tonumber(redis.call('HGET', KEYS[1], t) or '0')\n"
"    local h = tonumber(redis.call('HGET', KEYS[2], t) or '0')\n"
"    if s + h <= maxc then\n"
"      redis.call('HDEL', KEYS[1], t); redis.call('HDEL', KEYS[2], t)\n"
"      redis.call('HDEL', KEYS[3], t)\n"
"      dropped = dropped + 1\n"
"    end\n"
"  end\n"
"end\n"
"redis.call('HSET', KEYS[4], 'xpos', r[1])\n"
"return { r[1], scanned, dropped }\n";

static char *
rd_err(struct rstore *s, const char *what)
{
	char	*e;

	if (s->rc != NULL && s->rc->err != 0)
		e = bayes_strf("redis %s: %s: %s", s->base.where, what,
		    s->rc->errstr);
	else
		e = bayes_strf("redis %s: %s: %s", s->base.where, what,
		    "no connection");
	return e;
}

/* Drops a broken connection so the next call reconnects. */
static void
rd_drop(struct rstore *s)
{
	if (s->rc != NULL)
		redisFree(s->rc);
	s->rc = NULL;
}

static int
rd_connect(struct rstore *s, char **err_r)
{
	redisReply *r;

	if (s->rc != NULL)
		return 0;
	s->rc = redisConnectWithTimeout(s->host, s->port, s->tv);
	if (s->rc == NULL || s->rc->err != 0) {
		*err_r = rd_err(s, "connect");
		rd_drop(s);
		return -1;
	}
	if (redisSetTimeout(s->rc, s->tv) != REDIS_OK) {
		*err_r = rd_err(s, "set timeout");
		rd_drop(s);
		return -1;
	}
	if (s->db != 0) {
		r = redisCommand(s->rc, "SELECT %d", s->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			*err_r = r != NULL ? bayes_strf("redis %s: SELECT %d: %s",
			    s->base.where, s->db, r->str) :
			    rd_err(s, "SELECT");
			if (r != NULL)
				freeReplyObject(r);
			rd_drop(s);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* Reads one pipelined reply; NULL with *err_r on failure (connection
 * dropped). */
static redisReply *
rd_reply(struct rstore *s, const char *what, char **err_r)
{
	void	*r = NULL;

	if (redisGetReply(s->rc, &r) != REDIS_OK || r == NULL) {
		*err_r = rd_err(s, what);
		rd_drop(s);
		return NULL;
	}
	if (((redisReply *)r)->type == REDIS_REPLY_ERROR) {
		*err_r = bayes_strf("redis %s: %s: %s", s->base.where, what,
		    ((redisReply *)r)->str);
		freeReplyObject(r);
		rd_drop(s);	/* the rest of the pipeline is unread */
		return NULL;
	}
	return r;
}

static uint64_t
rd_num(const redisReply *r)
{
	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer > 0 ? (uint64_t)r->integer : 0;
	if (r->type == REDIS_REPLY_STRING)
		return strtoull(r->str, NULL, 10);
	return 0;
}

static void
rd_append_meta(struct rstore *s)
{
	redisAppendCommand(s->rc, "HMGET %b nspam nham last",
	    s->key[K_N], s->keylen[K_N]);
	redisAppendCommand(s->rc, "HLEN %b", s->key[K_D], s->keylen[K_D]);
}

static int
rd_read_meta(struct rstore *s, struct bayes_totals *t, char **err_r)
{
	redisReply *r;

	memset(t, 0, sizeof(*t));
	if ((r = rd_reply(s, "HMGET totals", err_r)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
		t->nspam = rd_num(r->element[0]);
		t->nham = rd_num(r->element[1]);
		t->last_learn = (int64_t)rd_num(r->element[2]);
	}
	freeReplyObject(r);
	if ((r = rd_reply(s, "HLEN tokens", err_r)) == NULL)
		return -1;
	t->ntokens = rd_num(r);
	freeReplyObject(r);
	return 0;
}

/* HMGET key tok... as an argv command. */
static void
rd_append_hmget(struct rstore *s, int key, const uint64_t *toks, size_t n,
    const char **argv, size_t *argvlen)
{
	argv[0] = "HMGET";
	argvlen[0] = 5;
	argv[1] = s->key[key];
	argvlen[1] = s->keylen[key];
	for (size_t i = 0; i < n; i++) {
		argv[2 + i] = (const char *)&toks[i];
		argvlen[2 + i] = sizeof(toks[i]);
	}
	redisAppendCommandArgv(s->rc, (int)n + 2, argv, argvlen);
}

static int
rd_lookup(struct bayes_store *bs, const uint64_t *toks, size_t n,
    struct bayes_count *c, struct bayes_totals *tot, char **err_r)
{
	struct rstore *s = (struct rstore *)bs;
	const char **argv;
	size_t	*argvlen;
	redisReply *r;
	int	 ret = -1;

	memset(c, 0, n * sizeof(*c));
	if ((argv = calloc(n + 2, sizeof(*argv))) == NULL ||
	    (argvlen = calloc(n + 2, sizeof(*argvlen))) == NULL)
		log_oom((n + 2) * sizeof(*argv), "bayes");
	pthread_mutex_lock(&s->lock);
	if (rd_connect(s, err_r) == -1)
		goto out;
	if (tot != NULL)
		rd_append_meta(s);
	if (n > 0) {
		rd_append_hmget(s, K_S, toks, n, argv, argvlen);
		rd_append_hmget(s, K_H, toks, n, argv, argvlen);
	}
	if (tot != NULL && rd_read_meta(s, tot, err_r) == -1)
		goto out;
	for (int k = 0; k < 2 && n > 0; k++) {
		if ((r = rd_reply(s, "HMGET tokens", err_r)) == NULL)
			goto out;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
			*err_r = bayes_strf("redis %s: HMGET: unexpected reply",
			    s->base.where);
			freeReplyObject(r);
			rd_drop(s);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)rd_num(r->element[i]);

			if (k == 0)
				c[i].spam = v;
			else
				c[i].ham = v;
		}
		freeReplyObject(r);
	}
	ret = 0;
out:
	pthread_mutex_unlock(&s->lock);
	free(argv);
	free(argvlen);
	return ret;
}

static int
rd_learn(struct bayes_store *bs, struct bayes_learn *items, size_t n,
    char **err_r)
{
	struct rstore *s = (struct rstore *)bs;
	char	 day[16], now[24];
	int	 ret = -1;
	size_t	 sent = 0;

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(day, sizeof(day), "%u", bayes_day(time(NULL)));
	pthread_mutex_lock(&s->lock);
	if (rd_connect(s, err_r) == -1)
		goto out;
	/* Pipeline the scripts in groups so the output buffer stays small. */
	while (sent < n) {
		size_t	 group = n - sent < 64 ? n - sent : 64;

		for (size_t j = 0; j < group; j++) {
			struct bayes_learn *it = &items[sent + j];
			size_t	 argc = 3 + 5 + 5 + it->ntoks;
			const char **argv = calloc(argc, sizeof(*argv));
			size_t	*argvlen = calloc(argc, sizeof(*argvlen));
			size_t	 a = 0;

			if (argv == NULL || argvlen == NULL)
				log_oom(argc * sizeof(*argv), "bayes");
#define ARG(p, l)	do { argv[a] = (p); argvlen[a] = (l); a++; } while (0)
			ARG("EVAL", 4);
			ARG(learn_lua, sizeof(learn_lua) - 1);
			ARG("5", 1);
			for (int k = 0; k < 5; k++)
				ARG(s->key[k], s->keylen[k]);
			ARG((const char *)it->digest, BAYES_DIGEST_LEN);
			ARG(it->cls == BAYES_SPAM ? "s" : "h", 1);
			ARG(it->forget ? "1" : "0", 1);
			ARG(day, strlen(day));
			ARG(now, strlen(now));
			for (size_t i = 0; i < it->ntoks; i++)
				ARG((const char *)&it->toks[i],
				    sizeof(it->toks[i]));
#undef ARG
			redisAppendCommandArgv(s->rc, (int)a, argv, argvlen);
			free(argv);
			free(argvlen);
		}
		for (size_t j = 0; j < group; j++) {
			redisReply *r = rd_reply(s, "EVAL learn", err_r);
			static const int map[] = { BAYES_LEARNED, BAYES_MOVED,
			    BAYES_ALREADY, BAYES_FORGOTTEN, BAYES_UNKNOWN };

			if (r == NULL)
				goto out;
			if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 ||
			    r->integer > 4) {
				freeReplyObject(r);
				*err_r = bayes_strf("redis %s: learn: "
				    "unexpected reply", s->base.where);
				rd_drop(s);
				goto out;
			}
			items[sent + j].result = map[r->integer];
			freeReplyObject(r);
		}
		sent += group;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int
rd_totals(struct bayes_store *bs, struct bayes_totals *t, char **err_r)
{
	struct rstore *s = (struct rstore *)bs;
	int	 ret = -1;

	pthread_mutex_lock(&s->lock);
	if (rd_connect(s, err_r) == -1)
		goto out;
	rd_append_meta(s);
	for (int k = 0; k < 3; k++)
		redisAppendCommand(s->rc, "MEMORY USAGE %b", s->key[k],
		    s->keylen[k]);
	if (rd_read_meta(s, t, err_r) == -1)
		goto out;
	for (int k = 0; k < 3; k++) {
		redisReply *r = rd_reply(s, "MEMORY USAGE", err_r);

		if (r == NULL)
			goto out;
		t->bytes += rd_num(r);
		freeReplyObject(r);
	}
	ret = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int
rd_expire(struct bayes_store *bs, int64_t cutoff, uint32_t max_count,
    uint64_t budget, struct bayes_expire_stats *st, char **err_r)
{
	struct rstore *s = (struct rstore *)bs;
	int	 ret = -1;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	if (rd_connect(s, err_r) == -1)
		goto out;
	/* Steps of at most 1000 fields keep each script short. */
	while (st->scanned < budget && !st->done) {
		uint64_t step = budget - st->scanned < 1000 ?
		    budget - st->scanned : 1000;
		redisReply *r = redisCommand(s->rc,
		    "EVAL %s 4 %b %b %b %b %llu %u %u", expire_lua,
		    s->key[K_S], s->keylen[K_S], s->key[K_H], s->keylen[K_H],
		    s->key[K_D], s->keylen[K_D], s->key[K_N], s->keylen[K_N],
		    (unsigned long long)step, bayes_day(cutoff), max_count);

		if (r == NULL) {
			*err_r = rd_err(s, "EVAL expire");
			rd_drop(s);
			goto out;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
		    r->element[0]->type != REDIS_REPLY_STRING) {
			*err_r = bayes_strf("redis %s: expire: %s",
			    s->base.where, r->type == REDIS_REPLY_ERROR ?
			    r->str : "unexpected reply");
			freeReplyObject(r);
			goto out;
		}
		st->done = strcmp(r->element[0]->str, "0") == 0;
		st->scanned += rd_num(r->element[1]);
		st->dropped += rd_num(r->element[2]);
		/* HSCAN may return nothing for a step; the cursor moves. */
		if (rd_num(r->element[1]) == 0 && !st->done)
			st->scanned++;
		freeReplyObject(r);
	}
	ret = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void
rd_close(struct bayes_store *bs)
{
	struct rstore *s = (struct rstore *)bs;

	rd_drop(s);
	pthread_mutex_destroy(&s->lock);
	for (int k = 0; k < 5; k++)
		free(s->key[k]);
	free(s->host);
	free(s->base.where);
	free(s);
}

static const struct bayes_store_ops redis_ops = {
	.name = "redis",
	.lookup = rd_lookup,
	.learn = rd_learn,
	.totals = rd_totals,
	.expire = rd_expire,
	.close = rd_close,
};

struct bayes_store *
bayes_redis_open(const struct bayes_store_cfg *sc, char **err_r)
{
	struct rstore *s;
	const char *colon;
	char	*end;
	long	 port;

	/* host:port, [v6]:port or host (port 6379). */
	const char *h = sc->redis;
	size_t	 hlen;
	if (h[0] == '[') {
		const char *rb = strchr(h, ']');
		if (rb == NULL) {
			*err_r = bayes_strf("BayesRedis %s: missing ]", h);
			return NULL;
		}
		h++;
		hlen = (size_t)(rb - h);
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(h, ':');
		hlen = colon != NULL ? (size_t)(colon - h) : strlen(h);
	}
	port = 6379;
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
			*err_r = bayes_strf("BayesRedis %s: bad port",
			    sc->redis);
			return NULL;
		}
	}
	if (hlen == 0) {
		*err_r = bayes_strf("BayesRedis %s: no host", sc->redis);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		log_oom(sizeof(*s), "bayes");
	pthread_mutex_init(&s->lock, NULL);
	s->base.ops = &redis_ops;
	s->host = strndup(h, hlen);
	s->base.where = strdup(sc->redis);
	s->port = (int)port;
	s->db = sc->redis_db;
	s->tv.tv_sec = (time_t)(sc->redis_timeout_ms / 1000);
	s->tv.tv_usec = (suseconds_t)(sc->redis_timeout_ms % 1000) * 1000;
	const char *pfx = sc->redis_prefix != NULL ? sc->redis_prefix : "";
	static const char suffix[5] = { 'S', 'H', 'D', 'M', 'N' };
	for (int k = 0; k < 5; k++) {
		s->key[k] = bayes_strf("%s%c", pfx, suffix[k]);
		s->keylen[k] = strlen(s->key[k]);
	}
	if (s->host == NULL || s->base.where == NULL)
		log_oom(hlen, "bayes");
	/*
	 * Not connecting here: Redis may be down at startup and come back;
	 * each lookup connects when it needs to and reports failure then.
	 */
	return &s->base;
}
