/*
 * test_rep.c - greylisting and rate limits (filter/checks/rep) against a
 * real redis-server started here on a free loopback port in a private
 * folder.  The cores take the time as an argument, so the clock moves
 * without sleeping; two clients on one server stand for two MX hosts.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks/rep/rep.h"
#include "metrics/metrics.h"
#include "t.h"

static char	 dir[64];
static char	 addr[64];
static int	 port;
static pid_t	 redis_pid;

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int	 fd = socket(AF_INET, SOCK_STREAM, 0), p;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		return -1;
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

static int
can_connect(int p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)p) };
	int	 fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int
redis_up(void **state)
{
	char	 portstr[16];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_rep.XXXXXX");
	if ((port = free_port()) < 0 || mkdtemp(dir) == NULL)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	if ((redis_pid = fork()) == 0) {
		execlp("redis-server", "redis-server", "--bind", "127.0.0.1",
		    "--port", portstr, "--dir", dir, "--save", "",
		    "--appendonly", "no", "--daemonize", "no",
		    "--loglevel", "warning", "--logfile", "redis.log",
		    (char *)NULL);
		fprintf(stderr, "test_rep: exec redis-server: %s\n",
		    strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 100 && !can_connect(port); i++) {
		int	 st;

		if (waitpid(redis_pid, &st, WNOHANG) == redis_pid) {
			fprintf(stderr, "test_rep: redis-server exited\n");
			redis_pid = 0;
			return -1;
		}
		usleep(50000);
	}
	return can_connect(port) ? 0 : -1;
}

static int
redis_down(void **state)
{
	char	 cmd[128];

	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGCONT);
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_rep: could not remove %s\n", dir);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A client (one "MX") of the test server running script. */
static struct rep_redis *
client(const char *script, unsigned timeout_ms)
{
	char	*err = NULL;
	struct rep_redis *r = rep_redis_new(addr, 3, timeout_ms, script, &err);

	if (r == NULL)
		fail_msg("rep_redis_new %s: %s", addr, err);
	return r;
}

/* ---- no server needed ---------------------------------------------- */

static void
test_client_net(void **state)
{
	static const struct { const char *ip, *want; } cases[] = {
		{ "192.0.2.77", "192.0.2.0/24" },
		{ "::ffff:198.51.100.9", "198.51.100.0/24" },
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
		{ "2001:db8::1", "2001:db8::/64" },
		{ "not-an-address", NULL },
		{ "", NULL },
	};
	char	 buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rep_client_net(cases[i].ip, buf, sizeof(buf));

		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
	assert_null(rep_client_net(NULL, buf, sizeof(buf)));
}

static void
test_rl_parse(void **state)
{
	static const struct { const char *s; int ok; long long n, ms; } cases[] = {
		{ "100/1h", 1, 100, 3600000 },
		{ "10/30s", 1, 10, 30000 },
		{ "5/500ms", 1, 5, 500 },
		{ "1000/1d", 1, 1000, 86400000 },
		{ "3/60", 1, 3, 60000 },
		{ "2/1.5m", 1, 2, 90000 },
		{ "0/1h", 0, 0, 0 },
		{ "-1/1h", 0, 0, 0 },
		{ "10", 0, 0, 0 },
		{ "10/", 0, 0, 0 },
		{ "10/1w", 0, 0, 0 },
		{ "x/1h", 0, 0, 0 },
		{ "10/0s", 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long n = -1, ms = -1;
		int	 ok = rl_parse(cases[i].s, &n, &ms);

		if (ok != cases[i].ok)
			fail_msg("rl_parse(\"%s\") = %d", cases[i].s, ok);
		if (ok && (n != cases[i].n || ms != cases[i].ms))
			fail_msg("rl_parse(\"%s\") = %lld/%lldms", cases[i].s,
			    n, ms);
	}
}

static void
test_band_parse(void **state)
{
	static const struct { const char *s; bool ok; double lo, hi; } cases[] = {
		{ "3..8", true, 3, 8 },
		{ "-1.5..2.5", true, -1.5, 2.5 },
		{ "3.0..3.5", true, 3, 3.5 },
		{ "8..3", false, 0, 0 },
		{ "3..3", false, 0, 0 },
		{ "3..", false, 0, 0 },
		{ "..3", false, 0, 0 },
		{ "x..4", false, 0, 0 },
		{ "3-8", false, 0, 0 },
		{ "3..8x", false, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double	 lo = -99, hi = -99;
		bool	 ok = grey_band_parse(cases[i].s, &lo, &hi);

		if (ok != cases[i].ok)
			fail_msg("grey_band_parse(\"%s\") = %d", cases[i].s, ok);
		if (ok && (lo != cases[i].lo || hi != cases[i].hi))
			fail_msg("grey_band_parse(\"%s\") = %g..%g", cases[i].s,
			    lo, hi);
	}
}

static void
test_bad_address(void **state)
{
	char	*err = NULL;

	(void)state;
	assert_null(rep_redis_new("127.0.0.1:99999", 0, 100, "", &err));
	assert_non_null(strstr(err, "bad port"));
	free(err);
	err = NULL;
	assert_null(rep_redis_new("[::1", 0, 100, "", &err));
	assert_non_null(strstr(err, "missing ]"));
	free(err);
}

/* The counters of `vigilctl stats` become Prometheus families. */
static void
test_metrics(void **state)
{
	static const char stats[] =
	    "greylist.deferred 3\ngreylist.retried 2\ngreylist.allowed 1\n"
	    "greylist.unavailable 0\nratelimit.taken 5\n"
	    "ratelimit.limited.client 4\nratelimit.limited.recipient 0\n"
	    "ratelimit.unavailable 1\n";
	static const char *const want[] = {
	    "# TYPE vigil_greylist_messages_total counter",
	    "vigil_greylist_messages_total{result=\"deferred\"} 3",
	    "vigil_greylist_messages_total{result=\"retried\"} 2",
	    "vigil_greylist_messages_total{result=\"allowed\"} 1",
	    "vigil_greylist_messages_total{result=\"unavailable\"} 0",
	    "vigil_ratelimit_limited_messages_total{bucket=\"client\"} 4",
	    "vigil_ratelimit_limited_messages_total{bucket=\"recipient\"} 0",
	    "vigil_ratelimit_taken_total 5",
	    "vigil_ratelimit_unavailable_messages_total 1",
	};
	struct metrics_fmt f = { .top_rules = 10 };
	char	*buf = NULL;
	size_t	 len = 0;

	(void)state;
	f.out = open_memstream(&buf, &len);
	assert_non_null(f.out);
	metrics_from_stats(&f, stats);
	metrics_end(&f);
	fclose(f.out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(buf, want[i]) == NULL)
			fail_msg("missing \"%s\" in:\n%s", want[i], buf);
	free(buf);
}

/* ---- greylisting --------------------------------------------------- */

static const struct grey_cfg gc = {
	.prefix = "t:grey:", .delay_ms = 300000, .window_ms = 4 * 3600000LL,
	.allow_ms = 35 * 86400000LL, .client_after = 3,
};

static int
grey(struct rep_redis *r, const struct grey_cfg *c, const char *net,
    const char *from, const char *rcpt, int64_t now, long long *wait_r)
{
	const char *rcpts[1] = { rcpt };
	char	*err = NULL;
	long long wait = -1;
	int	 res = grey_query(r, c, net, from, rcpts, 1, now, &wait, &err);

	if (res == -1)
		fail_msg("grey_query: %s", err);
	if (wait_r != NULL)
		*wait_r = wait;
	return res;
}

/* First attempt deferred for the delay, an early retry deferred for what
 * is left, a retry after the delay passes (through another MX), and
 * later mail of the triplet passes at once. */
static void
test_grey_triplet(void **state)
{
	struct rep_redis *mx1 = client(rep_greylist_lua, 1000);
	struct rep_redis *mx2 = client(rep_greylist_lua, 1000);
	int64_t	 t0 = 1800000000000LL;
	long long wait;

	(void)state;
	assert_int_equal(grey(mx1, &gc, "192.0.2.0/24", "a@example.org",
	    "b@example.com", t0, &wait), GREY_NEW);
	assert_int_equal(wait, 300);
	assert_int_equal(grey(mx2, &gc, "192.0.2.0/24", "A@Example.org",
	    "b@example.com", t0 + 60000, &wait), GREY_EARLY);
	assert_int_equal(wait, 240);
	assert_int_equal(grey(mx2, &gc, "192.0.2.0/24", "a@example.org",
	    "b@example.com", t0 + 300000, NULL), GREY_RETRIED);
	assert_int_equal(grey(mx1, &gc, "192.0.2.0/24", "a@example.org",
	    "b@example.com", t0 + 400000, NULL), GREY_KNOWN);
	/* Another recipient, another sender, another network: new. */
	assert_int_equal(grey(mx1, &gc, "192.0.2.0/24", "a@example.org",
	    "c@example.com", t0 + 400000, NULL), GREY_NEW);
	assert_int_equal(grey(mx1, &gc, "192.0.2.0/24", "z@example.org",
	    "b@example.com", t0 + 400000, NULL), GREY_NEW);
	assert_int_equal(grey(mx1, &gc, "198.51.100.0/24", "a@example.org",
	    "b@example.com", t0 + 400000, NULL), GREY_NEW);
	rep_redis_free(&mx1);
	rep_redis_free(&mx2);
	assert_null(mx1);
}

/* A message to two recipients is deferred while either triplet waits. */
static void
test_grey_two_rcpts(void **state)
{
	struct rep_redis *r = client(rep_greylist_lua, 1000);
	const char *rcpts[2] = { "x@example.com", "y@example.com" };
	int64_t	 t0 = 1800000000000LL;
	long long wait;
	char	*err = NULL;

	(void)state;
	assert_int_equal(grey(r, &gc, "203.0.113.0/24", "s@example.org",
	    "x@example.com", t0, NULL), GREY_NEW);
	assert_int_equal(grey_query(r, &gc, "203.0.113.0/24", "s@example.org",
	    rcpts, 2, t0 + 200000, &wait, &err), GREY_NEW);
	assert_int_equal(wait, 300);
	assert_int_equal(grey_query(r, &gc, "203.0.113.0/24", "s@example.org",
	    rcpts, 2, t0 + 400000, &wait, &err), GREY_EARLY);
	assert_int_equal(wait, 100);
	assert_int_equal(grey_query(r, &gc, "203.0.113.0/24", "s@example.org",
	    rcpts, 2, t0 + 500000, &wait, &err), GREY_RETRIED);
	rep_redis_free(&r);
}

/* client_after retried triplets allow the whole network. */
static void
test_grey_client_allow(void **state)
{
	struct rep_redis *r = client(rep_greylist_lua, 1000);
	int64_t	 t0 = 1800000000000LL;
	char	 from[64];

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(from, sizeof(from), "s%d@example.net", i);
		assert_int_equal(grey(r, &gc, "2001:db8::/64", from,
		    "r@example.com", t0, NULL), GREY_NEW);
		assert_int_equal(grey(r, &gc, "2001:db8::/64", from,
		    "r@example.com", t0 + 300000, NULL),
		    i < 3 ? GREY_RETRIED : GREY_CLIENT);
	}
	assert_int_equal(grey(r, &gc, "2001:db8::/64", "new@example.net",
	    "r@example.com", t0 + 300000, NULL), GREY_CLIENT);
	/* Not another network. */
	assert_int_equal(grey(r, &gc, "2001:db8:0:1::/64", "new@example.net",
	    "r@example.com", t0 + 300000, NULL), GREY_NEW);
	rep_redis_free(&r);
}

/* Past delay + window the first attempt is forgotten: starts over.  The
 * keys expire in Redis's real time, so the window is short here. */
static void
test_grey_window(void **state)
{
	struct grey_cfg c = gc;
	struct rep_redis *r = client(rep_greylist_lua, 1000);
	int64_t	 t0 = 1800000000000LL;

	(void)state;
	c.delay_ms = 100;
	c.window_ms = 200;
	assert_int_equal(grey(r, &c, "192.0.2.0/24", "late@example.org",
	    "b@example.com", t0, NULL), GREY_NEW);
	usleep(500000);		/* lint-sleep: the window expires in Redis */
	assert_int_equal(grey(r, &c, "192.0.2.0/24", "late@example.org",
	    "b@example.com", t0 + 500, NULL), GREY_NEW);
	assert_int_equal(grey(r, &c, "192.0.2.0/24", "late@example.org",
	    "b@example.com", t0 + 650, NULL), GREY_RETRIED);
	rep_redis_free(&r);
}

/* ---- rate limits --------------------------------------------------- */

static int
take(struct rep_redis *r, const struct rl_bucket *b, size_t n, int64_t now,
    long long *wait_r)
{
	char	*err = NULL;
	long long wait = -1;
	int	 res = rl_take(r, b, n, now, &wait, &err);

	if (res == -1)
		fail_msg("rl_take: %s", err);
	if (wait_r != NULL)
		*wait_r = wait;
	return res;
}

/* A bucket of 3 per minute drained through two MXes together. */
static void
test_rl_bucket_two_mx(void **state)
{
	struct rep_redis *mx1 = client(rep_ratelimit_lua, 1000);
	struct rep_redis *mx2 = client(rep_ratelimit_lua, 1000);
	struct rl_bucket b = { "t:rl:rc:192.0.2.0/24", 3, 60000 };
	int64_t	 t0 = 1800000000000LL;
	long long wait;

	(void)state;
	assert_int_equal(take(mx1, &b, 1, t0, NULL), 0);
	assert_int_equal(take(mx2, &b, 1, t0 + 1, NULL), 0);
	assert_int_equal(take(mx1, &b, 1, t0 + 2, NULL), 0);
	assert_int_equal(take(mx2, &b, 1, t0 + 3, &wait), 1);
	/* One token comes back every 20 s. */
	assert_true(wait > 19000 && wait <= 20000);
	assert_int_equal(take(mx1, &b, 1, t0 + 10000, &wait), 1);
	assert_true(wait > 9000 && wait <= 10000);
	assert_int_equal(take(mx1, &b, 1, t0 + 20003, NULL), 0);
	assert_int_equal(take(mx2, &b, 1, t0 + 20004, NULL), 1);
	/* A clock behind the last writer's refills nothing. */
	assert_int_equal(take(mx2, &b, 1, t0, NULL), 1);
	/* Full again after the period, never more than the burst. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(mx1, &b, 1, t0 + 3600000, NULL), 0);
	assert_int_equal(take(mx1, &b, 1, t0 + 3600000, NULL), 1);
	rep_redis_free(&mx1);
	rep_redis_free(&mx2);
}

/* Several buckets are taken all or none. */
static void
test_rl_all_or_none(void **state)
{
	struct rep_redis *r = client(rep_ratelimit_lua, 1000);
	struct rl_bucket b[2] = {
		{ "t:rl:rd:example.org", 5, 60000 },
		{ "t:rl:ru:alice", 1, 60000 },
	};
	int64_t	 t0 = 1800000000000LL;

	(void)state;
	assert_int_equal(take(r, b, 2, t0, NULL), 0);
	assert_int_equal(take(r, b, 2, t0, NULL), 2);
	assert_int_equal(take(r, b, 2, t0, NULL), 2);
	/* The domain lost one token, not three: four left. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(take(r, &b[0], 1, t0, NULL), 0);
	assert_int_equal(take(r, &b[0], 1, t0, NULL), 1);
	rep_redis_free(&r);
}

/* EVALSHA first; after SCRIPT FLUSH (a restarted server) EVAL, once. */
static void
test_evalsha_fallback(void **state)
{
	struct rep_redis *r = client(rep_ratelimit_lua, 1000);
	struct rl_bucket b = { "t:rl:rr:x@example.com", 100, 60000 };
	unsigned long long sha, ev;
	char	 cmd[128];

	(void)state;
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	rep_redis_counts(r, &sha, &ev);
	assert_int_equal(sha, 2);
	assert_int_equal(ev, 0);
	snprintf(cmd, sizeof(cmd), "redis-cli -p %d script flush >/dev/null",
	    port);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	rep_redis_counts(r, &sha, &ev);
	assert_int_equal(ev, 1);
	assert_int_equal(sha, 4);	/* the NOSCRIPT one counted too */
	rep_redis_free(&r);
}

/* ---- Redis unreachable or hung -------------------------------------- */

static void
test_unreachable(void **state)
{
	struct rl_bucket b = { "t:rl:rc:x", 1, 1000 };
	char	 a[64], *err = NULL;
	struct rep_redis *r;
	long long wait;
	double	 t;

	(void)state;
	snprintf(a, sizeof(a), "127.0.0.1:%d", free_port());
	r = rep_redis_new(a, 0, 200, rep_ratelimit_lua, &err);
	assert_non_null(r);
	assert_int_equal(rl_take(r, &b, 1, 0, &wait, &err), -1);
	assert_non_null(strstr(err, a));
	assert_non_null(strstr(err, "connect"));
	free(err);
	err = NULL;
	/* Within the pause: at once, with the same reason. */
	t = now_s();
	assert_int_equal(rl_take(r, &b, 1, 0, &wait, &err), -1);
	assert_true(now_s() - t < 0.05);
	assert_non_null(strstr(err, "retried within"));
	free(err);
	rep_redis_free(&r);
}

/* A hung server (SIGSTOP) costs at most the timeout, then the pause;
 * once it answers again the calls work. */
static void
test_hung(void **state)
{
	struct rep_redis *r = client(rep_ratelimit_lua, 200);
	struct rl_bucket b = { "t:rl:rc:hung", 100, 1000 };
	long long wait;
	char	*err = NULL;
	double	 t;

	(void)state;
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	kill(redis_pid, SIGSTOP);
	t = now_s();
	assert_int_equal(rl_take(r, &b, 1, 1800000000000LL, &wait, &err), -1);
	kill(redis_pid, SIGCONT);
	assert_true(now_s() - t < 1.0);
	assert_non_null(strstr(err, "EVALSHA"));
	free(err);
	usleep(1100000);	/* lint-sleep: a dead server is retried after 1 s */
	assert_int_equal(take(r, &b, 1, 1800000000000LL, NULL), 0);
	rep_redis_free(&r);
}

/* ---- the checks in the pipeline ----------------------------------- */

/* A snapshot running only greylist and ratelimit on the test server (or
 * on redis_addr), the whole score range grey. */
static struct snap *
glue_snap(const char *redis_addr)
{
	char	 conf[512];

	snprintf(conf, sizeof(conf), "Checks greylist,ratelimit\n"
	    "GreylistScore -10..1\nGreylistDelay 1h\n"
	    "ReputationRedis %s\nReputationRedisDatabase 3\n"
	    "ReputationRedisPrefix glue:\nRateLimitClient 1/1h\n"
	    "TrustedNetworks 203.0.113.0/24\n", redis_addr);
	return t_snap(conf, NULL, 0);
}

static struct msg *
glue_msg(struct snap *s, const char *ip, const char *from, const char *user,
    bool is_live)
{
	struct msg *m = msg_new(s, "test");

	msg_set_live(m, is_live);
	msg_set_client(m, ip, "mx.example.net");
	msg_set_helo(m, "mx.example.net");
	if (user != NULL)
		msg_set_auth_user(m, user);
	msg_set_mail_from(m, from);
	msg_add_rcpt(m, "bob@example.com");
	return m;
}

/* The forced action after the EOM phase, its text in *text_r. */
static int
glue_eom(struct msg *m, const char **text_r)
{
	const char *rcode, *xcode, *reason;

	pipeline_phase(m, PHASE_EOM);
	*text_r = NULL;
	return msg_forced_action(m, &rcode, &xcode, text_r, &reason);
}

static void
test_glue_greylist(void **state)
{
	struct snap *s = glue_snap(addr);
	struct msg *m;
	const char *text;

	(void)state;
	/* An internet client's grey-band message: 451 4.7.1. */
	m = glue_msg(s, "192.0.2.7", "g1@example.org", NULL, true);
	assert_int_equal(glue_eom(m, &text), ACTION_TEMPFAIL);
	assert_non_null(strstr(text, "Greylisted"));
	assert_non_null(strstr(text, "try again in 3600 seconds"));
	msg_end(&m);
	/* Never: authenticated, trusted, offline scans, out of the band,
	 * already decided. */
	m = glue_msg(s, "192.0.2.7", "g2@example.org", "alice", true);
	assert_int_equal(glue_eom(m, &text), -1);
	msg_end(&m);
	m = glue_msg(s, "203.0.113.9", "g3@example.org", NULL, true);
	assert_int_equal(glue_eom(m, &text), -1);
	msg_end(&m);
	m = glue_msg(s, "192.0.2.7", "g4@example.org", NULL, false);
	assert_int_equal(glue_eom(m, &text), -1);
	msg_end(&m);
	m = glue_msg(s, "192.0.2.7", "g5@example.org", NULL, true);
	msg_add_hit_scored(m, "T_SPAMMY", 5.0, "");
	assert_int_equal(glue_eom(m, &text), -1);
	msg_end(&m);
	m = glue_msg(s, "192.0.2.7", "g6@example.org", NULL, true);
	msg_force_action(m, ACTION_REJECT, "550", "5.7.1", "virus", "virus");
	assert_int_equal(glue_eom(m, &text), ACTION_REJECT);
	msg_end(&m);
	snap_unref(&s);
}

static void
test_glue_ratelimit(void **state)
{
	struct snap *s = glue_snap(addr);
	struct msg *m;
	const char *text, *rcode, *xcode, *reason;

	(void)state;
	m = glue_msg(s, "198.51.100.1", "r@example.org", NULL, true);
	pipeline_phase(m, PHASE_ENVFROM);
	assert_int_equal(msg_forced_action(m, &rcode, &xcode, &text, &reason),
	    -1);
	msg_end(&m);
	m = glue_msg(s, "198.51.100.2", "r@example.org", NULL, true);
	pipeline_phase(m, PHASE_ENVFROM);
	assert_int_equal(msg_forced_action(m, &rcode, &xcode, &text, &reason),
	    ACTION_TEMPFAIL);
	assert_string_equal(rcode, "451");
	assert_string_equal(xcode, "4.7.1");
	assert_string_equal(reason, "ratelimit");
	assert_non_null(strstr(text, "Rate limit exceeded for client network "
	    "198.51.100.0/24; retry after 3600 seconds"));
	msg_end(&m);
	/* The user's bucket only, for an authenticated client. */
	m = glue_msg(s, "198.51.100.3", "r@example.org", "bob", true);
	pipeline_phase(m, PHASE_ENVFROM);
	assert_int_equal(msg_forced_action(m, &rcode, &xcode, &text, &reason),
	    -1);
	msg_end(&m);
	snap_unref(&s);
}

/* Redis unreachable: a finding of score 0 and no decision. */
static void
test_glue_unavailable(void **state)
{
	char	 dead[64];
	struct snap *s;
	struct msg *m;
	const char *text;

	(void)state;
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", free_port());
	s = glue_snap(dead);
	m = glue_msg(s, "192.0.2.7", "u@example.org", NULL, true);
	pipeline_phase(m, PHASE_ENVFROM);
	assert_int_equal(glue_eom(m, &text), -1);
	assert_true(msg_has_hit(m, "GREYLIST_UNAVAILABLE"));
	assert_true(msg_has_hit(m, "RATELIMIT_UNAVAILABLE"));
	assert_true(msg_score(m) == 0);
	msg_end(&m);
	snap_unref(&s);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_client_net),
		cmocka_unit_test(test_rl_parse),
		cmocka_unit_test(test_band_parse),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_metrics),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_grey_triplet),
		cmocka_unit_test(test_grey_two_rcpts),
		cmocka_unit_test(test_grey_client_allow),
		cmocka_unit_test(test_grey_window),
		cmocka_unit_test(test_rl_bucket_two_mx),
		cmocka_unit_test(test_rl_all_or_none),
		cmocka_unit_test(test_evalsha_fallback),
		cmocka_unit_test(test_hung),
		cmocka_unit_test(test_glue_greylist),
		cmocka_unit_test(test_glue_ratelimit),
		cmocka_unit_test(test_glue_unavailable),
	};
	int	 fails = 0;

	if (system("command -v redis-server >/dev/null") != 0) {
		printf("test_rep: 0 passed, 0 failed, 1 skipped "
		    "(redis-server not installed)\n");
		return 77;
	}
	fails += cmocka_run_group_tests_name("rep", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("rep with redis-server", live,
	    redis_up, redis_down);
	return fails != 0;
}
