/*
 * ratelimit.c - rate limits as token buckets in Redis, shared by every
 * MX host (rep.h).
 *
 * Four kinds of bucket, each off until configured as N/PERIOD (a bucket
 * of N tokens refilled at N per PERIOD; one message takes one token):
 *   RateLimitClient        P rc:NET     client network (/24, /64)
 *   RateLimitUser          P ru:USER    authenticated (SASL) user
 *   RateLimitSenderDomain  P rd:DOMAIN  envelope sender's domain
 *   RateLimitRecipient     P rr:ADDR    each recipient
 * The first three are taken at MAIL FROM, so that a client past its
 * limit is refused before it sends the message; recipients at the end
 * of the message, when they are all known.  Authenticated clients and
 * TrustedNetworks count only in their user's bucket.  All the buckets of
 * one step are taken in one script, all or none: a refused message does
 * not drain the others.  Past a bucket: 451 4.7.1 with the time to
 * retry.  Redis down or slow: RATELIMIT_UNAVAILABLE, the mail flows.
 *
 * Owns: the Redis client of a snapshot.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "checks/rep/rep.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "msg.h"
#include "snap.h"

/*
 * KEYS: buckets.  ARGV: now (ms), then burst and period (ms) of each
 * bucket.  A bucket is a hash { t = tokens, ts = time of t }, refilled
 * on read; a clock behind the last writer's (another MX) refills
 * nothing.  Returns { 0, 0 } when a token was taken from every bucket,
 * else { i, ms } for the first bucket i without a token and the time
 * until it has one.
 */
const char rep_ratelimit_lua[] =
"local now = tonumber(ARGV[1])\n"
"local tok, ts = {}, {}\n"
"for i = 1, #KEYS do\n"
"  local cap, per = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])\n"
"  local h = redis.call('HMGET', KEYS[i], 't', 'ts')\n"
"  local t, at = tonumber(h[1]), tonumber(h[2])\n"
"  if not t or not at then t, at = cap, now end\n"
"  if now > at then\n"
"    t = math.min(cap, t + (now - at) * cap / per)\n"
"    at = now\n"
"  end\n"
"  if t < 1 then\n"
"    return { i, math.ceil((1 - t) * per / cap) }\n"
"  end\n"
"  tok[i], ts[i] = t - 1, at\n"
"end\n"
"for i = 1, #KEYS do\n"
"  local cap, per = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])\n"
"  redis.call('HSET', KEYS[i], 't', string.format('%.6f', tok[i]),\n"
"      'ts', string.format('%d', ts[i]))\n"
"  redis.call('PEXPIRE', KEYS[i],\n"
"      math.ceil((cap - tok[i]) * per / cap) + 1000)\n"
"end\n"
"return { 0, 0 }\n";

#define RL_MAX_RCPTS	100	/* recipient buckets per message */

enum rl_kind { RL_CLIENT, RL_USER, RL_DOMAIN, RL_RCPT, RL_N };

static const struct {
	const char	*opt;
	const char	*key;		/* after the prefix */
	const char	*stat;		/* ratelimit.limited.STAT */
	const char	*what;		/* in the reply */
} kinds[RL_N] = {
	{ "RateLimitClient", "rc:", "client", "client network" },
	{ "RateLimitUser", "ru:", "user", "user" },
	{ "RateLimitSenderDomain", "rd:", "sender_domain", "sender domain" },
	{ "RateLimitRecipient", "rr:", "recipient", "recipient" },
};

struct rl_state {
	bool		 is_on;
	const char	*prefix;
	long long	 burst[RL_N], period_ms[RL_N];	/* burst 0: off */
	struct rep_redis *redis;
};

/* Steps that took their tokens, refused messages by bucket kind. */
static _Atomic unsigned long long n_taken, n_limited[RL_N], n_unavailable;

static char setup_err[512];

int
rl_parse(const char *s, long long *burst_r, long long *period_ms_r)
{
	char	*end;
	double	 n, mult = 1000;
	long long burst;

	errno = 0;
	burst = strtoll(s, &end, 10);
	if (errno != 0 || end == s || burst < 1 || burst > 1000000000 ||
	    *end != '/')
		return 0;
	s = end + 1;
	n = g_ascii_strtod(s, &end);
	if (end == s || !(n > 0))
		return 0;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else if (strcmp(end, "d") == 0)
		mult = 86400000;
	else
		return 0;
	if (n * mult < 1 || n * mult > 3650 * 86400000.0)
		return 0;
	*burst_r = burst;
	*period_ms_r = (long long)llround(n * mult);
	return 1;
}

int
rl_take(struct rep_redis *r, const struct rl_bucket *b, size_t n,
    int64_t now_ms, long long *wait_ms_r, char **err_r)
{
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char **args = calloc(1 + 2 * n, sizeof(*args));
	char	(*num)[24] = calloc(1 + 2 * n, sizeof(*num));
	long long out[2];
	int	 rc;

	if (keys == NULL || args == NULL || num == NULL)
		log_oom((1 + 2 * n) * 24, "ratelimit");
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)now_ms);
	args[0] = num[0];
	for (size_t i = 0; i < n; i++) {
		keys[i] = b[i].key;
		snprintf(num[1 + 2 * i], sizeof(num[0]), "%lld", b[i].burst);
		snprintf(num[2 + 2 * i], sizeof(num[0]), "%lld",
		    b[i].period_ms);
		args[1 + 2 * i] = num[1 + 2 * i];
		args[2 + 2 * i] = num[2 + 2 * i];
	}
	rc = rep_redis_eval(r, keys, n, args, 1 + 2 * n, out, 2, err_r);
	free(keys);
	free(args);
	free(num);
	if (rc == -1)
		return -1;
	if (out[0] < 0 || (size_t)out[0] > n) {
		if (asprintf(err_r, "redis %s: rate-limit script answered "
		    "%lld", rep_redis_where(r), out[0]) == -1)
			log_oom(64, "ratelimit");
		return -1;
	}
	*wait_ms_r = out[1];
	return (int)out[0];
}

static void
ratelimit_teardown(void *state)
{
	struct rl_state *st = state;

	if (st == NULL)
		return;
	rep_redis_free(&st->redis);
	g_free(st);
}

static void *
ratelimit_setup(struct snap *snap, const char **err_r)
{
	const struct cfg *c = snap_cfg(snap);
	struct rl_state *st = g_new0(struct rl_state, 1);
	char	*err = NULL;

	for (int k = 0; k < RL_N; k++) {
		const char *v = cfg_str(c, kinds[k].opt);

		if (v == NULL || *v == '\0')
			continue;
		if (!rl_parse(v, &st->burst[k], &st->period_ms[k])) {
			snprintf(setup_err, sizeof(setup_err), "%s: \"%s\" is "
			    "not N/PERIOD (e.g. 100/1h, 10/30s)",
			    kinds[k].opt, v);
			goto fail;
		}
		st->is_on = true;
	}
	if (!st->is_on)
		return st;
	if ((st->redis = rep_redis_from_cfg(c, rep_ratelimit_lua, &err)) ==
	    NULL) {
		snprintf(setup_err, sizeof(setup_err), "RateLimit: %s", err);
		free(err);
		goto fail;
	}
	st->prefix = rep_prefix(c);
	return st;
fail:
	*err_r = setup_err;
	ratelimit_teardown(st);
	return NULL;
}

/* Adds bucket kind k for name (lower-cased) to b[*n_r]. */
static void
add_bucket(struct rl_state *st, struct arena *a, enum rl_kind k,
    const char *name, struct rl_bucket *b, enum rl_kind *kind, size_t *n_r)
{
	char	*key;

	if (st->burst[k] == 0 || name == NULL || *name == '\0')
		return;
	key = arena_printf(a, "%s%s%s", st->prefix, kinds[k].key, name);
	for (char *p = key + strlen(st->prefix); *p; p++)
		*p = (char)tolower((unsigned char)*p);
	b[*n_r].key = key;
	b[*n_r].burst = st->burst[k];
	b[*n_r].period_ms = st->period_ms[k];
	kind[*n_r] = k;
	(*n_r)++;
}

static enum check_rc
ratelimit_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct rl_state *st = state;
	struct arena *a = msg_arena(m);
	struct rl_bucket b[RL_MAX_RCPTS + 3];
	enum rl_kind kind[RL_MAX_RCPTS + 3];
	const char *rcode, *xcode, *text, *reason, *name[RL_MAX_RCPTS + 3];
	char	 netbuf[64], *err = NULL;
	bool	 is_trusted = msg_is_trusted(m);
	long long wait_ms = 0;
	size_t	 n = 0;
	int	 res;

	if (!st->is_on) {
		*why_r = "no RateLimit* set";
		return CHECK_SKIP;
	}
	if (!msg_is_live(m) || msg_pass(m) != NULL ||
	    msg_forced_action(m, &rcode, &xcode, &text, &reason) >= 0)
		return CHECK_SKIP;

	/* The buckets of this step. */
	if (phase == PHASE_ENVFROM) {
		const char *from = msg_mail_from(m), *at = strrchr(from, '@');

		add_bucket(st, a, RL_USER, msg_auth_user(m), b, kind, &n);
		if (!is_trusted) {
			add_bucket(st, a, RL_CLIENT, rep_client_net(
			    msg_client_addr(m), netbuf, sizeof(netbuf)), b,
			    kind, &n);
			add_bucket(st, a, RL_DOMAIN, at ? at + 1 : NULL, b,
			    kind, &n);
		}
	} else if (!is_trusted) {
		size_t nr = msg_rcpt_count(m);

		for (size_t i = 0; i < nr && n < RL_MAX_RCPTS; i++)
			add_bucket(st, a, RL_RCPT, msg_rcpt(m, i), b, kind, &n);
	}
	if (n == 0)
		return CHECK_SKIP;
	for (size_t i = 0; i < n; i++)
		name[i] = b[i].key + strlen(st->prefix) + 3;

	res = rl_take(st->redis, b, n, g_get_real_time() / 1000, &wait_ms,
	    &err);
	if (res == -1) {
		/* Redis down or slow: no limits, the mail flows. */
		if (!msg_has_hit(m, "RATELIMIT_UNAVAILABLE")) {
			atomic_fetch_add(&n_unavailable, 1);	/* messages */
			msg_add_hit(m, "RATELIMIT_UNAVAILABLE", 0, "%s", err);
		}
		log_msg(LOG_WARNING, m, "check=ratelimit result=unavailable "
		    "why=\"%s\"", err);
		free(err);
		return CHECK_DONE;
	}
	if (res == 0) {
		atomic_fetch_add(&n_taken, 1);
		return CHECK_DONE;
	}
	/* Bucket res (1-based) is empty. */
	atomic_fetch_add(&n_limited[kind[res - 1]], 1);
	msg_force_action(m, ACTION_TEMPFAIL, "451", "4.7.1",
	    arena_printf(a, "Rate limit exceeded for %s %s; retry after %lld "
	    "seconds", kinds[kind[res - 1]].what, name[res - 1],
	    (wait_ms + 999) / 1000), "ratelimit");
	msg_set_field(m, "ratelimit", arena_printf(a, "\"%s\"",
	    kinds[kind[res - 1]].stat));
	return CHECK_DONE;
}

static void
ratelimit_stats(void *state, FILE *out)
{
	(void)state;
	fprintf(out, "ratelimit.taken %llu\n", atomic_load(&n_taken));
	for (int k = 0; k < RL_N; k++)
		fprintf(out, "ratelimit.limited.%s %llu\n", kinds[k].stat,
		    atomic_load(&n_limited[k]));
	fprintf(out, "ratelimit.unavailable %llu\n",
	    atomic_load(&n_unavailable));
}

static void
ratelimit_status(void *state, char *buf, size_t bufsz)
{
	struct rl_state *st = state;
	size_t	 o;

	if (!st->is_on) {
		snprintf(buf, bufsz, "off: no RateLimit* set");
		return;
	}
	o = (size_t)snprintf(buf, bufsz, "on: redis %s,",
	    rep_redis_where(st->redis));
	for (int k = 0; k < RL_N && o < bufsz; k++)
		if (st->burst[k] > 0)
			o += (size_t)snprintf(buf + o, bufsz - o, " %s %lld/%llds",
			    kinds[k].stat, st->burst[k],
			    st->period_ms[k] / 1000);
}

const struct check check_ratelimit = {
	.name = "ratelimit",
	.phases = PHASE_ENVFROM | PHASE_EOM,
	.is_content = 0,
	.setup = ratelimit_setup,
	.run = ratelimit_run,
	.teardown = ratelimit_teardown,
	.stats = ratelimit_stats,
	.status = ratelimit_status,
};
