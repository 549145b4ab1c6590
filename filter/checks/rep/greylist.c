/*
 * greylist.c - greylisting by score, with its state in Redis shared by
 * every MX host (rep.h).
 *
 * Only a message whose score, once every other check ran, falls in the
 * grey band (GreylistScore LOW..HIGH: at least LOW, less than HIGH) is
 * greylisted: clean mail is never delayed, clear spam is left to the
 * thresholds.  The first attempt of each triplet (client network /24 or
 * /64, envelope sender, recipient) is answered 451 4.7.1; a retry after
 * GreylistDelay and within GreylistWindow passes and allows the triplet
 * for GreylistAllow; GreylistClientAllow retried triplets allow the whole
 * client network.  Never for authenticated clients, TrustedNetworks,
 * released messages, offline scans, or a message another check already
 * decided (a virus stays rejected).
 *
 * Keys under ReputationRedisPrefix P:
 *   P gt:NET:SENDER:RCPT  first attempt (ms) while waiting, "ok" once
 *                         retried; expires after delay+window / allow
 *   P gn:NET              retried triplets of the network
 *   P ga:NET              the network is allowed
 *
 * Owns: the Redis client of a snapshot.  The verdict turns the forced
 * tempfail into the SMTP answer.
 */
#include "config.h"

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
 * KEYS: ga, gn, triplets...  ARGV: now, delay, window, allow,
 * client_after (ms but the last).  Returns { result, wait_ms } with
 * result an enum grey_result.
 */
const char rep_greylist_lua[] =
"local now, delay = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
"local window, allow = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"local after = tonumber(ARGV[5])\n"
"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
"  redis.call('PEXPIRE', KEYS[1], allow)\n"
"  return { 4, 0 }\n"
"end\n"
"local defer, wait, new = false, 0, false\n"
"for i = 3, #KEYS do\n"
"  local v = redis.call('GET', KEYS[i])\n"
"  if not v then\n"
"    redis.call('SET', KEYS[i], tostring(now), 'PX', delay + window)\n"
"    defer, new = true, true\n"
"    if delay > wait then wait = delay end\n"
"  elseif v ~= 'ok' then\n"
"    local w = tonumber(v) + delay - now\n"
"    if w > 0 then\n"
"      defer = true\n"
"      if w > wait then wait = w end\n"
"    end\n"
"  end\n"
"end\n"
"if defer then\n"
"  if new then return { 1, wait } end\n"
"  return { 2, wait }\n"
"end\n"
"local passed = 0\n"
"for i = 3, #KEYS do\n"
"  if redis.call('GET', KEYS[i]) ~= 'ok' then passed = passed + 1 end\n"
"  redis.call('SET', KEYS[i], 'ok', 'PX', allow)\n"
"end\n"
"if passed == 0 then return { 5, 0 } end\n"
"if after > 0 then\n"
"  local n = redis.call('INCRBY', KEYS[2], passed)\n"
"  redis.call('PEXPIRE', KEYS[2], allow)\n"
"  if n >= after then redis.call('SET', KEYS[1], '1', 'PX', allow) end\n"
"end\n"
"return { 3, 0 }\n";

#define GREY_MAX_RCPTS	100	/* triplets looked up per message */

struct grey_state {
	bool		 is_on;
	double		 low, high;
	struct grey_cfg	 gc;
	struct rep_redis *redis;
};

/* Process-wide: they survive reloads, as the daemon's counters do. */
static _Atomic unsigned long long n_deferred, n_retried, n_allowed,
    n_unavailable;

static char setup_err[512];

int
grey_query(struct rep_redis *r, const struct grey_cfg *gc, const char *net,
    const char *from, const char *const *rcpts, size_t nrcpts, int64_t now_ms,
    long long *wait_s_r, char **err_r)
{
	size_t	 nkeys = 2 + nrcpts;
	char	**keys = calloc(nkeys, sizeof(*keys));
	char	 args[5][24];
	const char *argp[5];
	long long out[2];
	int	 rc;

	if (keys == NULL)
		log_oom(nkeys * sizeof(*keys), "greylist");
	keys[0] = g_strdup_printf("%sga:%s", gc->prefix, net);
	keys[1] = g_strdup_printf("%sgn:%s", gc->prefix, net);
	for (size_t i = 0; i < nrcpts; i++) {
		char *f = g_ascii_strdown(from, -1);
		char *t = g_ascii_strdown(rcpts[i], -1);

		keys[2 + i] = g_strdup_printf("%sgt:%s:%s:%s", gc->prefix, net,
		    f, t);
		g_free(f);
		g_free(t);
	}
	snprintf(args[0], sizeof(args[0]), "%lld", (long long)now_ms);
	snprintf(args[1], sizeof(args[1]), "%lld", (long long)gc->delay_ms);
	snprintf(args[2], sizeof(args[2]), "%lld", (long long)gc->window_ms);
	snprintf(args[3], sizeof(args[3]), "%lld", (long long)gc->allow_ms);
	snprintf(args[4], sizeof(args[4]), "%lld", gc->client_after);
	for (int i = 0; i < 5; i++)
		argp[i] = args[i];
	rc = rep_redis_eval(r, (const char *const *)keys, nkeys, argp, 5, out,
	    2, err_r);
	for (size_t i = 0; i < nkeys; i++)
		g_free(keys[i]);
	free(keys);
	if (rc == -1)
		return -1;
	if (out[0] < GREY_NEW || out[0] > GREY_KNOWN) {
		if (asprintf(err_r, "redis %s: greylist script answered %lld",
		    rep_redis_where(r), out[0]) == -1)
			log_oom(64, "greylist");
		return -1;
	}
	*wait_s_r = (out[1] + 999) / 1000;
	return (int)out[0];
}

/* "LOW..HIGH" ("3." reads as a number: split at the dots first). */
bool
grey_band_parse(const char *s, double *low_r, double *high_r)
{
	char	*end, low[64];
	const char *dots = strstr(s, "..");

	if (dots == NULL || dots == s || (size_t)(dots - s) >= sizeof(low))
		return false;
	memcpy(low, s, (size_t)(dots - s));
	low[dots - s] = '\0';
	*low_r = g_ascii_strtod(low, &end);
	if (*end != '\0')
		return false;
	*high_r = g_ascii_strtod(dots + 2, &end);
	return end != dots + 2 && *end == '\0' && *low_r < *high_r;
}

static void
greylist_teardown(void *state)
{
	struct grey_state *st = state;

	if (st == NULL)
		return;
	rep_redis_free(&st->redis);
	g_free(st);
}

static void *
greylist_setup(struct snap *snap, const char **err_r)
{
	const struct cfg *c = snap_cfg(snap);
	struct grey_state *st = g_new0(struct grey_state, 1);
	const char *band = cfg_str(c, "GreylistScore");
	char	*err = NULL;

	if (band == NULL || *band == '\0')
		return st;
	if (!grey_band_parse(band, &st->low, &st->high)) {
		snprintf(setup_err, sizeof(setup_err), "GreylistScore: \"%s\" "
		    "is not LOW..HIGH with LOW < HIGH (e.g. 3..8)", band);
		goto fail;
	}
	if ((st->redis = rep_redis_from_cfg(c, rep_greylist_lua, &err)) ==
	    NULL) {
		snprintf(setup_err, sizeof(setup_err), "GreylistScore: %s",
		    err);
		free(err);
		goto fail;
	}
	st->gc.prefix = rep_prefix(c);
	st->gc.delay_ms = (int64_t)cfg_duration_ms(c, "GreylistDelay");
	st->gc.window_ms = (int64_t)cfg_duration_ms(c, "GreylistWindow");
	st->gc.allow_ms = (int64_t)cfg_duration_ms(c, "GreylistAllow");
	st->gc.client_after = cfg_int(c, "GreylistClientAllow");
	st->is_on = true;
	return st;
fail:
	*err_r = setup_err;
	greylist_teardown(st);
	return NULL;
}

/* The score as the verdict will weigh it (verdict.c picks the same set). */
static double
score_now(const struct msg *m)
{
	return msg_score_in_set(m, msg_bayes_votes(m) ? (msg_net_votes(m) ?
	    SCORE_SET_BAYES_NET : SCORE_SET_BAYES) : (msg_net_votes(m) ?
	    SCORE_SET_NET : SCORE_SET_PLAIN));
}

static enum check_rc
greylist_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct grey_state *st = state;
	struct arena *a = msg_arena(m);
	const char *rcode, *xcode, *text, *reason, *net;
	const char *rcpts[GREY_MAX_RCPTS];
	size_t	 n = msg_rcpt_count(m);
	char	 netbuf[64], *err = NULL;
	long long wait_s = 0;
	double	 score;
	int	 res;

	(void)phase;
	if (!st->is_on) {
		*why_r = "GreylistScore unset";
		return CHECK_SKIP;
	}
	if (!msg_is_live(m) || msg_is_trusted(m) || msg_pass(m) != NULL ||
	    msg_forced_action(m, &rcode, &xcode, &text, &reason) >= 0 ||
	    n == 0)
		return CHECK_SKIP;
	score = score_now(m);
	if (score < st->low || score >= st->high)
		return CHECK_SKIP;
	if ((net = rep_client_net(msg_client_addr(m), netbuf,
	    sizeof(netbuf))) == NULL)
		return CHECK_SKIP;
	if (n > GREY_MAX_RCPTS)
		n = GREY_MAX_RCPTS;
	for (size_t i = 0; i < n; i++)
		rcpts[i] = msg_rcpt(m, i);

	res = grey_query(st->redis, &st->gc, net, msg_mail_from(m), rcpts, n,
	    g_get_real_time() / 1000, &wait_s, &err);
	switch (res) {
	case -1:
		/* Redis down or slow: no greylisting, the mail flows. */
		atomic_fetch_add(&n_unavailable, 1);
		msg_add_hit(m, "GREYLIST_UNAVAILABLE", 0, "%s", err);
		log_msg(LOG_WARNING, m, "check=greylist result=unavailable "
		    "why=\"%s\"", err);
		free(err);
		break;
	case GREY_NEW:
	case GREY_EARLY:
		atomic_fetch_add(&n_deferred, 1);
		msg_force_action(m, ACTION_TEMPFAIL, "451", "4.7.1",
		    arena_printf(a, "Greylisted: mail from %s for this sender "
		    "and recipient is accepted on a retry; try again in %lld "
		    "seconds", net, wait_s > 0 ? wait_s : 1), "greylist");
		msg_set_field(m, "greylist", res == GREY_NEW ? "\"new\"" :
		    "\"early\"");
		break;
	case GREY_RETRIED:
		atomic_fetch_add(&n_retried, 1);
		msg_add_hit(m, "GREYLIST_RETRIED", 0, "%s retried", net);
		break;
	default:
		atomic_fetch_add(&n_allowed, 1);
		break;
	}
	return CHECK_DONE;
}

static void
greylist_stats(void *state, FILE *out)
{
	(void)state;
	fprintf(out, "greylist.deferred %llu\n", atomic_load(&n_deferred));
	fprintf(out, "greylist.retried %llu\n", atomic_load(&n_retried));
	fprintf(out, "greylist.allowed %llu\n", atomic_load(&n_allowed));
	fprintf(out, "greylist.unavailable %llu\n",
	    atomic_load(&n_unavailable));
}

static void
greylist_status(void *state, char *buf, size_t bufsz)
{
	struct grey_state *st = state;

	if (!st->is_on) {
		snprintf(buf, bufsz, "off: GreylistScore unset");
		return;
	}
	snprintf(buf, bufsz, "on: scores %g..%g, delay %llds, redis %s",
	    st->low, st->high, (long long)(st->gc.delay_ms / 1000),
	    rep_redis_where(st->redis));
}

const struct check check_greylist = {
	.name = "greylist",
	.phases = PHASE_EOM,
	.is_content = 0,
	.setup = greylist_setup,
	.run = greylist_run,
	.teardown = greylist_teardown,
	.stats = greylist_stats,
	.status = greylist_status,
};
