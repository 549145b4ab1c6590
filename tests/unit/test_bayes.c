/*
 * test_bayes.c - the Bayes classifier's parts: tokenizer, classifier,
 * bands, and the store contract run the same way against both backends
 * (LMDB in a temporary folder, Redis as a private redis-server on
 * 127.0.0.1 that this test starts and stops).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <lmdb.h>

#include "checks/bayes/bayes.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "msg.h"
#include "pipeline.h"
#include "t.h"

/* ---- tokenizer ---- */

struct words {
	char	*v[64];
	size_t	 n;
};

static void
collect(void *arg, const char *tok, size_t len)
{
	struct words *w = arg;

	if (w->n < 64)
		w->v[w->n++] = g_strndup(tok, len);
}

static void
words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		g_free(w->v[i]);
	w->n = 0;
}

static void
test_words(void **state)
{
	static const struct {
		const char *in;
		const char *want;	/* tokens joined by | */
	} cases[] = {
		{ "Hello, World!", "hello|world!" },
		{ "FREE money $$$ now", "free|money|$$$|now" },
		{ "e-mail me at Bob.Smith@Example.COM.", "e-mail|me|at|bob.smith@example.com" },
		{ "...trailing--", "trailing" },
		/* Cyrillic and Greek fold to lower case, not mangled. */
		{ "ПРИВЕТ Мир", "привет|мир" },
		{ "ΚΑΛΗΜΕΡΑ", "καλημερα" },
		/* Han: one token a character. */
		{ "免费赠送", "免|费|赠|送" },
		/* Long words and base64 noise are summarised. */
		{ "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgbm9pc2U0", "sk:m2" },
		{ "a x 12", "12" },
		/* Invalid UTF-8 is a separator. */
		{ "ab\xff\xfe" "cd", "ab|cd" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct words w = { .n = 0 };
		GString	*got = g_string_new(NULL);

		bayes_tok_words(cases[i].in, strlen(cases[i].in), collect, &w);
		for (size_t j = 0; j < w.n; j++)
			g_string_append_printf(got, "%s%s", j ? "|" : "",
			    w.v[j]);
		if (strcmp(got->str, cases[i].want) != 0)
			fail_msg("case %zu in=\"%s\": got \"%s\" want \"%s\"",
			    i, cases[i].in, got->str, cases[i].want);
		g_string_free(got, TRUE);
		words_free(&w);
	}
}

static bool
has_tok(const struct bayes_toks *t, uint64_t h)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == h)
			return true;
	return false;
}

static void
test_tokenize_view(void **state)
{
	struct arena *a = arena_new("test");
	struct mhdr hdrs[] = {
		{ "Subject", "Cheap pills", "Cheap pills" },
		{ "From", "Bob <bob@pharma.example>", "Bob <bob@pharma.example>" },
		{ "X-Spam-Status", "Yes, score=20", "Yes, score=20" },
	};
	struct mpart parts[] = {
		{ .type = "text/html", .is_text = true, .is_html = true,
		  .html_images = 3, .html_forms = 1 },
		{ .type = "application/zip", .filename = "Invoice.ZIP",
		  .is_attachment = true },
	};
	struct murl urls[] = {
		{ .url = "http://www.pharma.example/buy", .host =
		  "www.pharma.example", .domain = "pharma.example" },
	};
	const char body[] = "Buy cheap pills now cheap";
	struct mview v = {
		.hdrs = hdrs, .nhdrs = 3, .parts = parts, .nparts = 2,
		.urls = urls, .nurls = 1, .subject = "Cheap pills",
		.body_text = body, .body_len = sizeof(body) - 1,
	};
	struct bayes_toks t;

	(void)state;
	bayes_tokenize(a, &v, &t);
	assert_true(t.n > 10);
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.v[i - 1] < t.v[i]);	/* sorted, distinct */
	assert_true(has_tok(&t, bayes_tok_hash("", "cheap", 5)));
	assert_true(has_tok(&t, bayes_tok_hash("", "pills", 5)));
	/* The subject's words are not the body's. */
	assert_true(has_tok(&t, (BAYES_TOK_HEADER | bayes_tok_hash("subject", "cheap", 5))));
	assert_true((BAYES_TOK_HEADER | bayes_tok_hash("subject", "cheap", 5)) !=
	    bayes_tok_hash("", "cheap", 5));
	assert_true(has_tok(&t, (BAYES_TOK_HEADER | bayes_tok_hash("from:dom", "pharma.example",
	    14))));
	assert_true(has_tok(&t, bayes_tok_hash("uh", "www.pharma.example",
	    18)));
	assert_true(has_tok(&t, bayes_tok_hash("ud", "pharma.example", 14)));
	assert_true(has_tok(&t, bayes_tok_hash("fname", "invoice.zip", 11)));
	assert_true(has_tok(&t, bayes_tok_hash("fext", "zip", 3)));
	/* Other filters' verdicts are never learned from. */
	assert_false(has_tok(&t, (BAYES_TOK_HEADER | bayes_tok_hash("hn", "x-spam-status", 13))));
	assert_false(has_tok(&t, (BAYES_TOK_HEADER | bayes_tok_hash("x-spam-status", "yes", 3))));
	assert_true(has_tok(&t, (BAYES_TOK_HEADER | bayes_tok_hash("hn", "subject", 7))));

	/* The same message gives the same tokens; a word more, more. */
	struct bayes_toks t2;
	bayes_tokenize(a, &v, &t2);
	assert_int_equal(t.n, t2.n);
	assert_memory_equal(t.v, t2.v, t.n * sizeof(*t.v));
	arena_free(&a);
}

/* ---- classifier ---- */

static void
test_classify(void **state)
{
	struct bayes_count spammy[20], hammy[20], mixed[20];
	double	 rs, rh, r10;

	(void)state;
	for (int i = 0; i < 20; i++) {
		spammy[i] = (struct bayes_count){ 90, 1 };
		hammy[i] = (struct bayes_count){ 1, 90 };
		mixed[i] = i % 2 ? spammy[i] : hammy[i];
	}
	double	 ps = bayes_classify_ex(&bayes_params_default, NULL, spammy, 20, 100,
	    100, &rs);
	double	 ph = bayes_classify_ex(&bayes_params_default, NULL, hammy, 20, 100,
	    100, &rh);
	double	 pm = bayes_classify(NULL, mixed, 20, 100, 100);
	assert_true(ps > 0.95);
	assert_true(ph < 0.05);
	assert_true(fabs(pm - 0.5) < 0.1);
	assert_true(rs > 0 && rh < 0);
	/* Unseen tokens only, or nothing learned: no opinion. */
	struct bayes_count none[3] = { { 0, 0 } };
	assert_true(bayes_classify(NULL, none, 3, 100, 100) == 0.5);
	assert_true(bayes_classify(NULL, spammy, 20, 0, 0) == 0.5);
	/* The probability is the logistic of the mean logit. */
	assert_true(fabs(ps - 1.0 / (1.0 + exp(-rs))) < 1e-12);
	/* Stronger evidence ranks higher: more spam, fewer ham sightings. */
	struct bayes_count stronger[20];
	double	 rst;
	for (int i = 0; i < 20; i++)
		stronger[i] = (struct bayes_count){ 90, 0 };
	bayes_classify_ex(&bayes_params_default, NULL, stronger, 20, 100, 100, &rst);
	assert_true(rst > rs);
	/* Neutral tokens (|f - 0.5| < min_dev) are left out. */
	struct bayes_count neutral[2] = { { 50, 50 }, { 90, 1 } };
	double	 rn;
	bayes_classify_ex(&bayes_params_default, NULL, neutral, 2, 100, 100, &rn);
	bayes_classify_ex(&bayes_params_default, NULL, spammy, 1, 100, 100, &r10);
	assert_true(fabs(rn - r10) < 1e-12);

	/* Headers and body weigh half each, however many tokens each has:
	 * one spammy header token against 19 hammy body tokens. */
	uint64_t toks[20];
	struct bayes_count hb[20];
	for (int i = 0; i < 20; i++) {
		toks[i] = (uint64_t)i | (i == 0 ? BAYES_TOK_HEADER : 0);
		hb[i] = i == 0 ? (struct bayes_count){ 90, 0 } :
		    (struct bayes_count){ 0, 90 };
	}
	double	 rhb;
	double	 phb = bayes_classify_ex(&bayes_params_default, toks, hb, 20,
	    100, 100, &rhb);
	if (fabs(phb - 0.5) >= 0.02)
		fail_msg("header vs body: p=%g logit=%g", phb, rhb);
	/* Without the header mark, the body's 19 outvote it. */
	assert_true(bayes_classify(NULL, hb, 20, 100, 100) < 0.05);
}

static void
test_bands(void **state)
{
	static const struct { double p; const char *want; } cases[] = {
		{ 0.0, "BAYES_00" }, { 0.009, "BAYES_00" },
		{ 0.01, "BAYES_05" }, { 0.3, "BAYES_40" },
		{ 0.5, "BAYES_50" }, { 0.7, "BAYES_60" },
		{ 0.9, "BAYES_80" }, { 0.97, "BAYES_95" },
		{ 0.995, "BAYES_99" }, { 1.0, "BAYES_99" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(bayes_band_of(cases[i].p)->name, cases[i].want))
			fail_msg("p=%g: got %s want %s", cases[i].p,
			    bayes_band_of(cases[i].p)->name, cases[i].want);
	assert_string_equal(bayes_bands[bayes_nbands - 1].name, "BAYES_999");
}

/* ---- stores: the same contract for both backends ---- */

struct backend {
	const char	*name;
	char		 dir[64];	/* LMDB folder or redis dir */
	char		 addr[64];	/* redis host:port */
	pid_t		 redis_pid;
};

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int	 fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		return -1;
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool
can_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int	 fd = socket(AF_INET, SOCK_STREAM, 0);
	bool	 ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int
lmdb_group_setup(void **state)
{
	struct backend *b = calloc(1, sizeof(*b));

	b->name = "lmdb";
	snprintf(b->dir, sizeof(b->dir), "/tmp/test_bayes.XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		return -1;
	*state = b;
	return 0;
}

static int
redis_group_setup(void **state)
{
	struct backend *b = calloc(1, sizeof(*b));
	int	 port = free_port();
	char	 portstr[16];

	b->name = "redis";
	snprintf(b->dir, sizeof(b->dir), "/tmp/test_bayes_redis.XXXXXX");
	if (port < 0 || mkdtemp(b->dir) == NULL)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(b->addr, sizeof(b->addr), "127.0.0.1:%d", port);
	if ((b->redis_pid = fork()) == 0) {
		execlp("redis-server", "redis-server", "--bind", "127.0.0.1",
		    "--port", portstr, "--dir", b->dir, "--save", "",
		    "--appendonly", "no", "--daemonize", "no",
		    "--loglevel", "warning", "--logfile", "redis.log",
		    (char *)NULL);
		fprintf(stderr, "test_bayes: exec redis-server: %s\n",
		    strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 100 && !can_connect(port); i++) {
		int	 st;

		if (waitpid(b->redis_pid, &st, WNOHANG) == b->redis_pid) {
			fprintf(stderr, "test_bayes: redis-server exited\n");
			return -1;
		}
		usleep(50000);
	}
	if (!can_connect(port)) {
		fprintf(stderr, "test_bayes: redis-server on %s not up\n",
		    b->addr);
		return -1;
	}
	*state = b;
	return 0;
}

static int
group_teardown(void **state)
{
	struct backend *b = *state;
	char	 cmd[128];

	if (b->redis_pid > 0) {
		kill(b->redis_pid, SIGTERM);
		waitpid(b->redis_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_bayes: could not remove %s\n", b->dir);
	free(b);
	return 0;
}

/* LMDB again, lookups through the B-tree instead of the bucket index. */
static int
lmdb_btree_group_setup(void **state)
{
	bayes_lmdb_use_index = false;
	return lmdb_group_setup(state);
}

static int
lmdb_btree_group_teardown(void **state)
{
	bayes_lmdb_use_index = true;
	return group_teardown(state);
}

/* A fresh, empty store for each test: a new LMDB folder or Redis prefix. */
static struct bayes_store *
store_open(struct backend *b, const char *tag)
{
	struct bayes_store_cfg sc = { .map_size = 64 << 20,
	    .redis_timeout_ms = 1000 };
	char	 path[128], prefix[64];
	char	*err = NULL;
	struct bayes_store *s;

	if (b->redis_pid > 0) {
		snprintf(prefix, sizeof(prefix), "t:%s:", tag);
		sc.redis = b->addr;
		sc.redis_prefix = prefix;
		sc.redis_db = 1;
	} else {
		snprintf(path, sizeof(path), "%s/%s", b->dir, tag);
		sc.dir = path;
	}
	s = bayes_store_open(&sc, &err);
	if (s == NULL)
		fail_msg("%s: open: %s", b->name, err);
	return s;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The radix sort against qsort: sizes around its pass choices, uniform
 * hashes, many duplicates, and values differing only in low bits. */
static void
test_sort_u64(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 31, 32, 33, 1000, 4096,
	    70000, 300000 };
	GRand	*r = g_rand_new_with_seed(7);

	(void)state;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int kind = 0; kind < 3; kind++) {
			size_t	 n = sizes[si];
			uint64_t *v = g_new0(uint64_t, n + 1);
			uint64_t *w = g_new0(uint64_t, n + 1);
			uint64_t *tmp = g_new0(uint64_t, n + 1);

			for (size_t i = 0; i < n; i++) {
				uint64_t x = (uint64_t)g_rand_int(r) << 32 |
				    g_rand_int(r);

				v[i] = kind == 0 ? x : kind == 1 ?
				    (x % 50) * 0x9e3779b97f4a7c15ULL :
				    0xabcdef0000000000ULL | (x & 0xffff);
			}
			memcpy(w, v, n * sizeof(*v));
			qsort(w, n, sizeof(*w), cmp_u64);
			bayes_sort_u64(v, tmp, n, kind == 1 ? 5 : 0);
			if (n > 0 && memcmp(v, w, n * sizeof(*v)) != 0)
				fail_msg("n %zu kind %d: not sorted", n, kind);
			g_free(v);
			g_free(w);
			g_free(tmp);
		}
	g_rand_free(r);
}

/*
 * A store in the former layout (one "tok" entry a token: spam, ham, day
 * as three u32) is converted to buckets when opened, counts kept; 3000
 * tokens make the conversion split buckets.
 */
static void
test_lmdb_convert(void **state)
{
	char	 dir[] = "/tmp/test_bayes_conv.XXXXXX", cmd[128];
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 tok, meta;
	const size_t N = 3000;
	char	*err = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 4);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "tok", MDB_CREATE | MDB_INTEGERKEY,
	    &tok), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
	for (size_t i = 0; i < N; i++) {
		uint64_t t = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
		uint32_t v[3] = { (uint32_t)(i % 7), (uint32_t)(i % 5 + 1), 20000 };
		MDB_val	 k = { sizeof(t), &t }, d = { sizeof(v), v };

		assert_int_equal(mdb_put(txn, tok, &k, &d, 0), 0);
	}
	/* The former layout kept no token count: ms_entries was it. */
	uint64_t x = 3;
	MDB_val	 k = { 5, "nspam" }, d = { sizeof(x), &x };
	assert_int_equal(mdb_put(txn, meta, &k, &d, 0), 0);
	k = (MDB_val){ 4, "nham" };
	assert_int_equal(mdb_put(txn, meta, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	struct bayes_store_cfg sc = { .dir = dir, .map_size = 64 << 20 };
	struct bayes_store *s = bayes_lmdb_open(&sc, &err);
	assert_non_null(s);
	/* Token i is the (i + 1)-th multiple: sorted, with i beside it. */
	uint64_t (*ti)[2] = calloc(N, sizeof(*ti));
	uint64_t *toks = calloc(N, sizeof(*toks));
	struct bayes_count *c = calloc(N, sizeof(*c));
	struct bayes_totals t;
	assert_non_null(ti);
	assert_non_null(toks);
	assert_non_null(c);
	for (size_t i = 0; i < N; i++) {
		ti[i][0] = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
		ti[i][1] = i;
	}
	qsort(ti, N, sizeof(*ti), cmp_u64);	/* by the first u64 */
	for (size_t j = 0; j < N; j++)
		toks[j] = ti[j][0];
	assert_int_equal(s->ops->lookup(s, toks, N, c, &t, &err), 0);
	for (size_t j = 0; j < N; j++) {
		size_t	 i = (size_t)ti[j][1];

		if (c[j].spam != i % 7 || c[j].ham != i % 5 + 1)
			fail_msg("token %zu: %u/%u", i, c[j].spam, c[j].ham);
	}
	assert_int_equal(t.nspam, 3);
	assert_int_equal(t.ntokens, N);
	free(ti);
	free(toks);
	free(c);
	bayes_store_close(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
learn1(struct bayes_store *s, const char *digest, const uint64_t *t,
    size_t n, enum bayes_class cls, bool forget, int want)
{
	struct bayes_learn it = { .toks = t, .ntoks = n, .cls = cls,
	    .forget = forget };
	char	*err = NULL;

	memset(it.digest, 0, sizeof(it.digest));
	memcpy(it.digest, digest, strlen(digest));
	if (s->ops->learn(s, &it, 1, &err) == -1)
		fail_msg("%s: learn: %s", s->ops->name, err);
	if ((int)it.result != want)
		fail_msg("%s: learn %s: result %s, want %s", s->ops->name,
		    digest, bayes_result_name(it.result),
		    bayes_result_name(want));
}

static void
expect_counts(struct bayes_store *s, const uint64_t *t, size_t n,
    const struct bayes_count *want, uint64_t nspam, uint64_t nham)
{
	struct bayes_count got[8];
	struct bayes_totals tot;
	char	*err = NULL;

	if (s->ops->lookup(s, t, n, got, &tot, &err) == -1)
		fail_msg("%s: lookup: %s", s->ops->name, err);
	for (size_t i = 0; i < n; i++)
		if (got[i].spam != want[i].spam || got[i].ham != want[i].ham)
			fail_msg("%s: token %zu: %u/%u want %u/%u",
			    s->ops->name, i, got[i].spam, got[i].ham,
			    want[i].spam, want[i].ham);
	assert_int_equal(tot.nspam, nspam);
	assert_int_equal(tot.nham, nham);
}

static void
test_store_learn(void **state)
{
	struct bayes_store *s = store_open(*state, "learn");
	const uint64_t a[] = { 1, 5, 9 }, b[] = { 5, 7 };
	const uint64_t all[] = { 1, 5, 7, 9, 11 };

	/* Empty store: zeros, not errors. */
	expect_counts(s, all, 5, (struct bayes_count[]){ {0,0}, {0,0},
	    {0,0}, {0,0}, {0,0} }, 0, 0);
	learn1(s, "m1", a, 3, BAYES_SPAM, false, BAYES_LEARNED);
	learn1(s, "m2", b, 2, BAYES_HAM, false, BAYES_LEARNED);
	expect_counts(s, all, 5, (struct bayes_count[]){ {1,0}, {1,1},
	    {0,1}, {1,0}, {0,0} }, 1, 1);
	/* Learning again counts once. */
	learn1(s, "m1", a, 3, BAYES_SPAM, false, BAYES_ALREADY);
	expect_counts(s, all, 5, (struct bayes_count[]){ {1,0}, {1,1},
	    {0,1}, {1,0}, {0,0} }, 1, 1);
	/* As the other class: moved. */
	learn1(s, "m1", a, 3, BAYES_HAM, false, BAYES_MOVED);
	expect_counts(s, all, 5, (struct bayes_count[]){ {0,1}, {0,2},
	    {0,1}, {0,1}, {0,0} }, 0, 2);
	/* Forget. */
	learn1(s, "m2", b, 2, BAYES_HAM, true, BAYES_FORGOTTEN);
	learn1(s, "m2", b, 2, BAYES_HAM, true, BAYES_UNKNOWN);
	expect_counts(s, all, 5, (struct bayes_count[]){ {0,1}, {0,1},
	    {0,0}, {0,1}, {0,0} }, 0, 1);

	struct bayes_totals t;
	char	*err = NULL;
	assert_int_equal(s->ops->totals(s, &t, &err), 0);
	assert_int_equal(t.ntokens, 3);
	assert_true(t.last_learn > time(NULL) - 60);
	bayes_store_close(&s);
	assert_null(s);
}

static void
test_store_batch(void **state)
{
	struct bayes_store *s = store_open(*state, "batch");
	uint64_t toks[300];
	struct bayes_learn items[100];
	char	*err = NULL;

	for (size_t i = 0; i < 300; i++)
		toks[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < 100; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		snprintf((char *)items[i].digest, BAYES_DIGEST_LEN, "b%zu", i);
		items[i].toks = toks + i;
		items[i].ntoks = 200;
		items[i].cls = i % 2 ? BAYES_SPAM : BAYES_HAM;
	}
	assert_int_equal(s->ops->learn(s, items, 100, &err), 0);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(items[i].result, BAYES_LEARNED);
	struct bayes_totals t;
	assert_int_equal(s->ops->totals(s, &t, &err), 0);
	assert_int_equal(t.nspam, 50);
	assert_int_equal(t.nham, 50);
	assert_int_equal(t.ntokens, 299);
	/* Token 150 is in messages 0..100 (exclusive of i > 150): 100 times. */
	struct bayes_count c;
	assert_int_equal(s->ops->lookup(s, &toks[150], 1, &c, NULL, &err), 0);
	assert_int_equal(c.spam + c.ham, 100);

	/*
	 * One batch that moves, forgets and learns messages sharing tokens:
	 * b0 (ham) moves to spam, b1 (spam) is forgotten, b100 is new spam
	 * and b2 is already ham.  Token 150 was in b0..b99: 50 spam (odd)
	 * and 50 ham (even).
	 */
	struct bayes_learn mix[4];
	memset(mix, 0, sizeof(mix));
	for (size_t i = 0; i < 4; i++)
		mix[i].ntoks = 200;
	memcpy(mix[0].digest, items[0].digest, BAYES_DIGEST_LEN);
	mix[0].toks = toks + 0;
	mix[0].cls = BAYES_SPAM;
	memcpy(mix[1].digest, items[1].digest, BAYES_DIGEST_LEN);
	mix[1].toks = toks + 1;
	mix[1].cls = BAYES_SPAM;
	mix[1].forget = true;
	snprintf((char *)mix[2].digest, BAYES_DIGEST_LEN, "b100");
	mix[2].toks = toks + 100;
	mix[2].cls = BAYES_SPAM;
	memcpy(mix[3].digest, items[2].digest, BAYES_DIGEST_LEN);
	mix[3].toks = toks + 2;
	mix[3].cls = BAYES_HAM;
	assert_int_equal(s->ops->learn(s, mix, 4, &err), 0);
	assert_int_equal(mix[0].result, BAYES_MOVED);
	assert_int_equal(mix[1].result, BAYES_FORGOTTEN);
	assert_int_equal(mix[2].result, BAYES_LEARNED);
	assert_int_equal(mix[3].result, BAYES_ALREADY);
	assert_int_equal(s->ops->totals(s, &t, &err), 0);
	assert_int_equal(t.nspam, 50 + 1 - 1 + 1);
	assert_int_equal(t.nham, 50 - 1);
	/* 150: +1 spam -1 ham (b0), -1 spam (b1), +1 spam (b100). */
	assert_int_equal(s->ops->lookup(s, &toks[150], 1, &c, NULL, &err), 0);
	assert_int_equal(c.spam, 51);
	assert_int_equal(c.ham, 49);
	/* 0 was b0's alone: now spam only.  1 was in b0 and b1: spam 1. */
	assert_int_equal(s->ops->lookup(s, &toks[0], 1, &c, NULL, &err), 0);
	assert_int_equal(c.spam, 1);
	assert_int_equal(c.ham, 0);
	assert_int_equal(s->ops->lookup(s, &toks[1], 1, &c, NULL, &err), 0);
	assert_int_equal(c.spam, 1);
	assert_int_equal(c.ham, 0);
	/* 299 is b100's alone; 299 distinct before, still: 0..299. */
	assert_int_equal(s->ops->lookup(s, &toks[299], 1, &c, NULL, &err), 0);
	assert_int_equal(c.spam, 1);
	assert_int_equal(t.ntokens, 300);
	bayes_store_close(&s);
}

static void
test_store_expire(void **state)
{
	struct bayes_store *s = store_open(*state, "expire");
	const uint64_t a[] = { 2, 4, 6 }, b[] = { 4 };
	struct bayes_expire_stats st;
	char	*err = NULL;

	learn1(s, "x1", a, 3, BAYES_SPAM, false, BAYES_LEARNED);
	learn1(s, "x2", b, 1, BAYES_HAM, false, BAYES_LEARNED);
	/* Nothing is older than a day ago. */
	assert_int_equal(s->ops->expire(s, time(NULL) - 86400 * 2, 1, 1000,
	    &st, &err), 0);
	assert_int_equal(st.dropped, 0);
	/* With the cut-off tomorrow, tokens seen once go; 4 (twice) stays.
	 * A budget of 1 a call: the work is bounded and resumes (Redis
	 * scans a small hash, up to 128 fields, in one step; LMDB a bucket,
	 * up to 190 tokens). */
	struct backend *be = *state;
	uint64_t dropped = 0;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(s->ops->expire(s, time(NULL) + 86400 * 2, 1,
		    1, &st, &err), 0);
		assert_true(st.scanned <= (be->redis_pid > 0 ? 128u : 190u));
		dropped += st.dropped;
		if (st.done)
			break;
	}
	assert_true(st.done);
	assert_int_equal(dropped, 2);
	expect_counts(s, a, 3, (struct bayes_count[]){ {0,0}, {1,1},
	    {0,0} }, 1, 1);
	bayes_store_close(&s);
}

/*
 * Many tokens: LMDB splits its buckets many times over; every count must
 * survive the splits, and forgetting everything leaves no token behind.
 */
static void
test_store_many(void **state)
{
	struct bayes_store *s = store_open(*state, "many");
	enum { N = 5000 };
	uint64_t *toks = calloc(N, sizeof(*toks));
	struct bayes_count *c = calloc(N, sizeof(*c));
	struct bayes_totals t;
	char	*err = NULL;

	assert_non_null(toks);
	assert_non_null(c);
	for (size_t i = 0; i < N; i++)
		toks[i] = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
	qsort(toks, N, sizeof(*toks), cmp_u64);
	/* The first half as spam, every token as ham. */
	learn1(s, "m-spam", toks, N / 2, BAYES_SPAM, false, BAYES_LEARNED);
	learn1(s, "m-ham", toks, N, BAYES_HAM, false, BAYES_LEARNED);
	assert_int_equal(s->ops->lookup(s, toks, N, c, &t, &err), 0);
	for (size_t i = 0; i < N; i++)
		if (c[i].spam != (i < N / 2) || c[i].ham != 1)
			fail_msg("%s: token %zu: %u/%u", s->ops->name, i,
			    c[i].spam, c[i].ham);
	assert_int_equal(t.ntokens, N);
	/* Unsorted, the counts are the same (reversed here). */
	uint64_t *rev = calloc(N, sizeof(*rev));
	assert_non_null(rev);
	for (size_t i = 0; i < N; i++)
		rev[i] = toks[N - 1 - i];
	assert_int_equal(s->ops->lookup(s, rev, N, c, &t, &err), 0);
	for (size_t i = 0; i < N; i++)
		if (c[N - 1 - i].spam != (i < N / 2) || c[N - 1 - i].ham != 1)
			fail_msg("%s: reversed, token %zu: %u/%u", s->ops->name,
			    i, c[N - 1 - i].spam, c[N - 1 - i].ham);
	free(rev);
	learn1(s, "m-spam", toks, N / 2, BAYES_SPAM, true, BAYES_FORGOTTEN);
	learn1(s, "m-ham", toks, N, BAYES_HAM, true, BAYES_FORGOTTEN);
	assert_int_equal(s->ops->lookup(s, toks, N, c, &t, &err), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(c[i].spam + c[i].ham, 0);
	assert_int_equal(s->ops->totals(s, &t, &err), 0);
	assert_int_equal(t.ntokens, 0);
	free(toks);
	free(c);
	bayes_store_close(&s);
}

static void
test_store_threads_share(void **state)
{
	/* Two handles on one store (a reload while mail flows) see the
	 * same data. */
	struct bayes_store *s1 = store_open(*state, "share");
	struct bayes_store *s2 = store_open(*state, "share");
	const uint64_t a[] = { 42 };

	learn1(s1, "s1", a, 1, BAYES_SPAM, false, BAYES_LEARNED);
	expect_counts(s2, a, 1, (struct bayes_count[]){ {1,0} }, 1, 0);
	bayes_store_close(&s1);
	expect_counts(s2, a, 1, (struct bayes_count[]){ {1,0} }, 1, 0);
	bayes_store_close(&s2);
}

/*
 * Lookups while another thread learns (LMDB: every learn a new snapshot,
 * and a lookup finds buckets through a copy of the snapshot's index).
 * Token T is in every message, so in each lookup its counts must be the
 * totals of the same snapshot; the other tokens make buckets split.
 */
#define CONC_T		0x5555555555555555ULL
#define CONC_MSGS	150
#define CONC_TOKS	301
struct conc {
	struct bayes_store *s;
	atomic_int	 done;
	atomic_int	 bad, lookups;
};

static uint64_t
conc_tok(int m, int j)
{
	uint64_t x = ((uint64_t)m << 32 | (uint64_t)j) * 0x9e3779b97f4a7c15ULL;

	return x ^ x >> 29;
}

static void *
conc_reader(void *arg)
{
	struct conc *cc = arg;
	uint64_t toks[64];
	struct bayes_count c[64];
	char	*err = NULL;

	while (!atomic_load(&cc->done)) {
		struct bayes_totals t;
		size_t	 n = 0;

		toks[n++] = CONC_T;
		for (int m = 0; m < CONC_MSGS && n < 64; m += 3)
			toks[n++] = conc_tok(m, 1);
		qsort(toks, n, sizeof(*toks), cmp_u64);
		if (cc->s->ops->lookup(cc->s, toks, n, c, &t, &err) == -1) {
			free(err);
			atomic_fetch_add(&cc->bad, 1);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (toks[i] == CONC_T && (c[i].spam != t.nspam ||
			    c[i].ham != t.nham))
				atomic_fetch_add(&cc->bad, 1);
		atomic_fetch_add(&cc->lookups, 1);
	}
	return NULL;
}

static void
test_store_concurrent(void **state)
{
	struct backend *b = *state;
	struct conc cc = { .s = NULL };
	pthread_t t[3];

	if (strcmp(b->name, "lmdb") != 0)
		skip();
	cc.s = store_open(b, "conc");
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, conc_reader, &cc),
		    0);
	for (int m = 0; m < CONC_MSGS; m++) {
		uint64_t toks[CONC_TOKS];
		char	 dg[BAYES_DIGEST_LEN] = { 0 };

		toks[0] = CONC_T;
		for (int j = 1; j < CONC_TOKS; j++)
			toks[j] = conc_tok(m, j);
		qsort(toks, CONC_TOKS, sizeof(*toks), cmp_u64);
		snprintf(dg, sizeof(dg), "c%d", m);
		learn1(cc.s, dg, toks, CONC_TOKS, m % 3 ? BAYES_HAM :
		    BAYES_SPAM, false, BAYES_LEARNED);
	}
	atomic_store(&cc.done, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&cc.bad), 0);
	assert_true(atomic_load(&cc.lookups) > 0);
	expect_counts(cc.s, (const uint64_t[]){ CONC_T }, 1,
	    (struct bayes_count[]){ { CONC_MSGS / 3, CONC_MSGS - CONC_MSGS / 3 } },
	    CONC_MSGS / 3, CONC_MSGS - CONC_MSGS / 3);
	bayes_store_close(&cc.s);
}

/* The autolearn queue on this backend: four threads queue messages
 * (some twice) at once; the learner learns them in batches, each message
 * once, and closing it drains the queue before the store closes. */
struct pusher {
	struct bayes_learner *l;
	int		 base;
};

static void *
pusher_main(void *arg)
{
	struct pusher *p = arg;

	for (int i = 0; i < 100; i++) {
		struct bayes_al_item *it = calloc(1, sizeof(*it));
		int	 id = p->base + i % 75;	/* 25 repeats */

		assert_non_null(it);
		memcpy(it->digest, &id, sizeof(id));
		it->ntoks = 3;
		it->toks = malloc(3 * sizeof(*it->toks));
		it->toks[0] = 7;
		it->toks[1] = 1000 + (uint64_t)id;
		it->toks[2] = BAYES_TOK_HEADER | 9;
		it->cls = id % 2 ? BAYES_SPAM : BAYES_HAM;
		snprintf(it->qid, sizeof(it->qid), "Q%d", id);
		assert_true(bayes_learner_push(p->l, it));
	}
	return NULL;
}

static void
test_store_learner(void **state)
{
	struct bayes_store *s = store_open(*state, "learner");
	struct bayes_learner *l = bayes_learner_new(s, 1000);
	struct pusher p[4];
	pthread_t t[4];
	struct bayes_totals tot;
	char	*err = NULL;
	int	 save = log_get_level();

	log_set_level(LOG_WARNING);	/* 400 info lines */
	for (int i = 0; i < 4; i++) {
		p[i] = (struct pusher){ .l = l, .base = i * 1000 };
		assert_int_equal(pthread_create(&t[i], NULL, pusher_main,
		    &p[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	const struct bayes_learner_stats *ls = bayes_learner_stats(l);
	assert_true(bayes_learner_flush(l, 20000));
	/* Every queued item counted (learned or already), none dropped,
	 * in fewer batches than items. */
	assert_int_equal(atomic_load(&ls->spam) + atomic_load(&ls->ham), 400);
	assert_int_equal(atomic_load(&ls->dropped), 0);
	assert_int_equal(atomic_load(&ls->failed), 0);
	assert_true(atomic_load(&ls->batches) < 400);
	bayes_learner_free(&l, 10000);
	log_set_level(save);
	assert_int_equal(s->ops->totals(s, &tot, &err), 0);
	/* 300 distinct messages, ids 0..74 of each thread: 37 odd each. */
	assert_int_equal(tot.nspam, 4 * 37);
	assert_int_equal(tot.nham, 4 * 38);
	expect_counts(s, (const uint64_t[]){ 7 }, 1,
	    (struct bayes_count[]){ { 4 * 37, 4 * 38 } }, 4 * 37, 4 * 38);
	bayes_store_close(&s);
}

static void
test_redis_unreachable(void **state)
{
	struct bayes_store_cfg sc = { .redis_timeout_ms = 300,
	    .redis_prefix = "x:" };
	char	 addr[32], *err = NULL;
	struct bayes_store *s;
	struct bayes_count c;
	uint64_t t = 1;
	int	 port = free_port();

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	sc.redis = addr;
	/* Opening does not connect: Redis may come up later. */
	assert_non_null(s = bayes_store_open(&sc, &err));
	assert_int_equal(s->ops->lookup(s, &t, 1, &c, NULL, &err), -1);
	assert_non_null(strstr(err, addr));
	assert_non_null(strstr(err, "connect"));
	free(err);
	bayes_store_close(&s);

	sc.redis = "127.0.0.1:99999";
	assert_null(bayes_store_open(&sc, &err));
	assert_non_null(strstr(err, "bad port"));
	free(err);
}

/* ---- autolearn through the real pipeline ---- */

extern const struct check check_bayes;

/* A counter of the Bayes check's stats in snapshot s. */
static long
stat_of(struct snap *s, const char *name)
{
	char	*buf = NULL, *p;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);
	long	 v = -1;

	assert_non_null(f);
	check_bayes.stats(snap_state(s, &check_bayes), f);
	fclose(f);
	for (p = strtok(buf, "\n"); p != NULL; p = strtok(NULL, "\n"))
		if (strncmp(p, name, strlen(name)) == 0 &&
		    p[strlen(name)] == ' ')
			v = atol(p + strlen(name) + 1);
	free(buf);
	return v;
}

/* A message the header checks score 0 (learned as ham), number i. */
static char *
ham_text(int i)
{
	return g_strdup_printf("From: Bob <bob@example.org>\n"
	    "Date: Mon, 2 Sep 2002 12:00:00 +0000\n"
	    "Message-ID: <q%d@example.org>\nSubject: lunch %d\n\n"
	    "see you at %d word%d\n", i, i, i, i);
}

/* Feeds text ("Name: value" lines, blank line, body) as the milter does. */
static void
feed_live(struct snap *s, const char *text, bool is_live)
{
	struct msg *m = msg_new(s, "live");
	const char *p = text, *eol;

	msg_set_live(m, is_live);
	msg_set_client(m, "192.0.2.7", "mx.example.net");
	pipeline_phase(m, PHASE_CONNECT);
	msg_set_helo(m, "mx.example.net");
	msg_set_mail_from(m, "a@example.org");
	msg_add_rcpt(m, "bob@example.com");
	pipeline_phase(m, PHASE_ENVFROM);
	while ((eol = strchr(p, '\n')) != NULL && eol != p) {
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		char	*name = g_strndup(p, (size_t)(colon - p));
		char	*value = g_strndup(colon + 2, (size_t)(eol - colon - 2));

		pipeline_header(m, name, value);
		g_free(name);
		g_free(value);
		p = eol + 1;
	}
	pipeline_eoh(m);
	if (eol != NULL)
		pipeline_body(m, (const unsigned char *)eol + 1,
		    strlen(eol + 1));
	(void)pipeline_eom(m);
	msg_end(&m);
}

static void
test_autolearn(void **state)
{
	char	 dir[] = "/tmp/test_bayes_al.XXXXXX", conf[512], *err = NULL;
	/* Other checks' points: 3.9 (no Date, no Message-ID, bad From). */
	static const char spam[] = "From: nobody\nSubject: buy\n\ncheap pills\n";
	static const char ham[] = "From: Bob <bob@example.org>\n"
	    "Date: Mon, 2 Sep 2002 12:00:00 +0000\n"
	    "Message-ID: <1@example.org>\nSubject: lunch\n\nsee you\n";
	/* 0.5 points (no Message-ID): between the two thresholds. */
	static const char middle[] = "From: Bob <bob@example.org>\n"
	    "Date: Mon, 2 Sep 2002 12:00:00 +0000\nSubject: hm\n\nhm\n";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "Checks headers, bayes\nBayesDir %s/db\n"
	    "AutolearnSpamScore 3\nAutolearnHamScore 0.1\n", dir);
	struct snap *s = t_snap(conf, NULL, 0);
	struct bayes_store_cfg sc = { .dir = NULL, .map_size = 64 << 20 };
	char	 db[600];
	snprintf(db, sizeof(db), "%s/db", dir);
	sc.dir = db;
	struct bayes_store *st = bayes_store_open(&sc, &err);
	struct bayes_totals t;
	assert_non_null(st);

	/* Offline scans never learn. */
	const struct verdict *v;
	struct msg *m = t_scan(s, spam, &v);
	msg_end(&m);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nspam + t.nham, 0);

	feed_live(s, spam, true);
	feed_live(s, ham, true);
	feed_live(s, middle, true);
	feed_live(s, spam, true);	/* again: counted once */
	/* Learned in the background: nothing yet blocks the message. */
	assert_true(bayes_learner_flush(bayes_snap_learner(s), 10000));
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nspam, 1);
	assert_int_equal(t.nham, 1);
	/* The counters say so, once the queue is drained. */
	assert_int_equal(stat_of(s, "bayes.autolearn.spam"), 2);
	assert_int_equal(stat_of(s, "bayes.autolearn.ham"), 1);
	assert_int_equal(stat_of(s, "bayes.autolearn.dropped"), 0);
	assert_int_equal(stat_of(s, "bayes.autolearn.queued"), 0);
	assert_true(stat_of(s, "bayes.autolearn.batches") >= 1);

	/* BayesAutolearn off: live mail is not learned. */
	snap_unref(&s);
	snprintf(conf, sizeof(conf), "Checks headers, bayes\nBayesDir %s/db\n"
	    "AutolearnSpamScore 3\nBayesAutolearn no\n", dir);
	s = t_snap(conf, NULL, 0);
	feed_live(s, "From: x\nSubject: other\n\nother\n", true);
	assert_null(bayes_snap_learner(s));
	/* Tearing the snapshot down drains a learner's queue: judged after
	 * that, a message queued for learning would be counted. */
	snap_unref(&s);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nspam, 1);
	bayes_store_close(&st);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", dir);
	assert_int_equal(system(conf), 0);
}

/* A tiny queue: what does not fit is dropped and counted, never waited
 * for; what fit is learned. */
static void
test_autolearn_dropped(void **state)
{
	char	 dir[] = "/tmp/test_bayes_ad.XXXXXX", conf[1024], *err = NULL;
	char	 db[600];
	struct bayes_totals t;
	int	 nmsg = 6;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	struct bayes_store_cfg sc = { .dir = db, .map_size = 64 << 20 };
	struct bayes_store *st = bayes_store_open(&sc, &err);
	assert_non_null(st);

	/* The learner alone: it gathers a batch for BAYES_AL_BATCH_MS, so
	 * a second item pushed at once finds the one-item queue full. */
	struct bayes_learner *l = bayes_learner_new(st, 1);
	uint64_t tok[3] = { 1, 2, 3 };
	bool	 ok[3];

	for (int i = 0; i < 3; i++) {
		struct bayes_al_item *it = calloc(1, sizeof(*it));

		it->digest[0] = (unsigned char)(i + 1);
		it->toks = malloc(sizeof(tok));
		memcpy(it->toks, tok, sizeof(tok));
		it->ntoks = 3;
		it->cls = BAYES_SPAM;
		snprintf(it->qid, sizeof(it->qid), "Q%d", i);
		ok[i] = bayes_learner_push(l, it);
	}
	assert_true(ok[0]);
	assert_false(ok[1]);
	assert_false(ok[2]);
	assert_int_equal(atomic_load(&bayes_learner_stats(l)->dropped), 2);
	assert_true(bayes_learner_flush(l, 10000));
	assert_int_equal(atomic_load(&bayes_learner_stats(l)->spam), 1);
	bayes_learner_free(&l, 10000);
	assert_null(l);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nspam, 1);

	/* Big messages: a batch holds at most BAYES_AL_BATCH_TOKS tokens
	 * (LMDB keeps its largest transaction's pages), so two of more
	 * than half that each are learned one at a time. */
	l = bayes_learner_new(st, 10);
	for (int i = 0; i < 3; i++) {
		struct bayes_al_item *it = calloc(1, sizeof(*it));
		size_t	 nt = BAYES_AL_BATCH_TOKS / 2 + 1;

		it->digest[0] = 0x80 | (unsigned char)i;
		it->toks = malloc(nt * sizeof(*it->toks));
		for (size_t j = 0; j < nt; j++)
			it->toks[j] = ((uint64_t)i << 32) + j;
		it->ntoks = nt;
		it->cls = BAYES_HAM;
		assert_true(bayes_learner_push(l, it));
	}
	assert_true(bayes_learner_flush(l, 60000));
	assert_int_equal(atomic_load(&bayes_learner_stats(l)->ham), 3);
	assert_int_equal(atomic_load(&bayes_learner_stats(l)->batches), 3);
	bayes_learner_free(&l, 10000);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nham, 3);

	/* Through the pipeline with BayesAutolearnQueue 1: every message
	 * is either learned or dropped (and counted), none waits. */
	snprintf(conf, sizeof(conf), "Checks headers, bayes\nBayesDir %s\n"
	    "AutolearnSpamScore 3\nAutolearnHamScore 0.1\n"
	    "BayesAutolearnQueue 1\n", db);
	struct snap *s = t_snap(conf, NULL, 0);
	for (int i = 0; i < nmsg; i++) {
		char	*txt = ham_text(i);

		feed_live(s, txt, true);
		g_free(txt);
	}
	assert_true(bayes_learner_flush(bayes_snap_learner(s), 10000));
	long	 learned = stat_of(s, "bayes.autolearn.ham");
	long	 dropped = stat_of(s, "bayes.autolearn.dropped");
	assert_true(dropped >= 1);
	assert_true(learned >= 1);
	assert_int_equal(learned + dropped, nmsg);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal((long)t.nham, 3 + learned);
	snap_unref(&s);
	bayes_store_close(&st);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", dir);
	assert_int_equal(system(conf), 0);
}

/* A reload while messages are queued: the old snapshot's learner learns
 * them all before its store closes, beside the new snapshot's. */
static void
test_autolearn_reload(void **state)
{
	char	 dir[] = "/tmp/test_bayes_ar.XXXXXX", conf[1024], *err = NULL;
	char	 db[600];
	struct bayes_totals t;
	int	 nmsg = 40;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	/* Batches wait a minute for more: the 40 messages are all still
	 * queued at the reload however slowly they are fed. */
	snprintf(conf, sizeof(conf), "Checks headers, bayes\nBayesDir %s\n"
	    "AutolearnSpamScore 3\nAutolearnHamScore 0.1\n"
	    "BayesAutolearnQueue 1000\nBayesAutolearnWait 60s\n", db);
	struct snap *old = t_snap(conf, NULL, 0);
	for (int i = 0; i < nmsg; i++) {
		char	*txt = ham_text(i);

		feed_live(old, txt, true);
		g_free(txt);
	}
	/* All still queued (the batch window has not passed). */
	assert_int_equal(stat_of(old, "bayes.autolearn.queued"), nmsg);
	assert_int_equal(stat_of(old, "bayes.autolearn.dropped"), 0);
	struct snap *cur = t_snap(conf, NULL, 0);
	snap_unref(&old);	/* the reload drops the old snapshot */
	for (int i = nmsg; i < 2 * nmsg; i++) {
		char	*txt = ham_text(i);

		feed_live(cur, txt, true);
		g_free(txt);
	}
	snap_unref(&cur);	/* shutdown: drained too */

	struct bayes_store_cfg sc = { .dir = db, .map_size = 64 << 20 };
	struct bayes_store *st = bayes_store_open(&sc, &err);
	assert_non_null(st);
	assert_int_equal(st->ops->totals(st, &t, &err), 0);
	assert_int_equal(t.nham, 2 * nmsg);
	bayes_store_close(&st);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", dir);
	assert_int_equal(system(conf), 0);
}

/* ---- scan --explain: the strongest tokens both ways ---- */

/*
 * A store trained so that the test message has two known tokens each
 * way, one stronger than the other: "viagra" in 8 spams and the
 * subject's "free" in 4; "lunch" in 8 hams and "meeting" in 3.  The
 * explanation names them, as the tokenizer made them, strongest first,
 * with their counts; the tokens the names come with are the milter's.
 */
static void
test_explain_strongest(void **state)
{
	char	 dir[] = "/tmp/test_bayes_explain.XXXXXX", conf[700], db[600];
	char	 text[256], *err = NULL;
	struct bayes_store_cfg sc = { .map_size = 64 << 20 };
	struct bayes_store *st;
	struct bayes_explain ex;
	const struct verdict *v;
	struct snap *s;
	struct msg *m;
	int	 res;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	sc.dir = db;
	assert_non_null(st = bayes_store_open(&sc, &err));
	s = t_snap("Checks headers\n", NULL, 0);
	for (int i = 0; i < 8; i++) {
		snprintf(text, sizeof(text), "From: s%d@spam.example\n"
		    "Message-ID: <s%d@spam.example>\nSubject: %s%d\n\n"
		    "viagra offer%d\n", i, i, i < 4 ? "free stuff" : "hello",
		    i, i);
		m = t_scan(s, text, &v);
		assert_int_equal(bayes_learn_msg(st, m, BAYES_SPAM, false,
		    &res, &err), 0);
		msg_end(&m);
		snprintf(text, sizeof(text), "From: h%d@example.org\n"
		    "Message-ID: <h%d@example.org>\nSubject: plans%d\n\n"
		    "%s at%d lunch\n", i, i, i, i < 3 ? "meeting" : "see", i);
		m = t_scan(s, text, &v);
		assert_int_equal(bayes_learn_msg(st, m, BAYES_HAM, false,
		    &res, &err), 0);
		msg_end(&m);
	}
	snap_unref(&s);
	bayes_store_close(&st);

	snprintf(conf, sizeof(conf), "Checks headers, bayes\nBayesDir %s\n"
	    "BayesMinSpam 1\nBayesMinHam 1\nBayesAutolearn no\n", db);
	s = t_snap(conf, NULL, 0);
	m = t_scan(s, "From: x@other.example\nMessage-ID: <x@other.example>\n"
	    "Subject: free\n\nviagra lunch meeting\n", &v);
	assert_int_equal(bayes_explain_msg(m, 5, &ex, &err), 0);
	assert_int_equal(ex.learned_spam, 8);
	assert_int_equal(ex.learned_ham, 8);
	assert_true(ex.nknown > 0 && ex.nknown < ex.ntoks);

	/* Toward spam: viagra (8 spams), then the subject's free (4). */
	assert_int_equal(ex.nspam, 2);
	assert_string_equal(ex.spam[0].text, "viagra");
	assert_int_equal(ex.spam[0].spam, 8);
	assert_int_equal(ex.spam[0].ham, 0);
	assert_false(ex.spam[0].is_header);
	assert_string_equal(ex.spam[1].text, "subject:free");
	assert_int_equal(ex.spam[1].spam, 4);
	assert_true(ex.spam[1].is_header);
	assert_true(ex.spam[0].fw > ex.spam[1].fw && ex.spam[1].fw > 0.95);
	/* Toward ham: lunch (8 hams), then meeting (3). */
	assert_int_equal(ex.nham, 2);
	assert_string_equal(ex.ham[0].text, "lunch");
	assert_int_equal(ex.ham[0].ham, 8);
	assert_string_equal(ex.ham[1].text, "meeting");
	assert_int_equal(ex.ham[1].ham, 3);
	assert_int_equal(ex.ham[1].spam, 0);
	assert_true(ex.ham[0].fw < ex.ham[1].fw && ex.ham[1].fw < 0.05);
	/* The probability is the check's own. */
	assert_true(ex.p > 0.0 && ex.p < 1.0);

	/* At most max a side, the strongest kept. */
	assert_int_equal(bayes_explain_msg(m, 1, &ex, &err), 0);
	assert_int_equal(ex.nspam, 1);
	assert_string_equal(ex.spam[0].text, "viagra");
	assert_int_equal(ex.nham, 1);
	assert_string_equal(ex.ham[0].text, "lunch");

	/* Named tokenizing makes the milter's tokens, every one named. */
	struct bayes_toks plain, named;
	struct bayes_tok_names names;
	bayes_tokenize(msg_arena(m), msg_view(m), &plain);
	bayes_tokenize_named(msg_arena(m), msg_view(m), &named, &names);
	assert_int_equal(plain.n, named.n);
	assert_memory_equal(plain.v, named.v, plain.n * sizeof(*plain.v));
	assert_int_equal(names.n, named.n);
	for (size_t i = 0; i < named.n; i++)
		assert_non_null(bayes_tok_name_of(&names, named.v[i]));
	assert_string_equal(bayes_tok_name_of(&names, bayes_tok_hash("",
	    "viagra", 6)), "viagra");
	assert_string_equal(bayes_tok_name_of(&names, BAYES_TOK_HEADER |
	    bayes_tok_hash("subject", "free", 4)), "subject:free");
	assert_null(bayes_tok_name_of(&names, bayes_tok_hash("", "free", 4)));
	/* Pairs: neighbours, and a word skipped. */
	bool	 is_pair = false, is_skip = false;
	for (size_t i = 0; i < names.n; i++) {
		is_pair |= strcmp(names.v[i].text, "lunch meeting") == 0;
		is_skip |= strcmp(names.v[i].text, "viagra * meeting") == 0;
	}
	assert_true(is_pair);
	assert_true(is_skip);
	msg_end(&m);
	snap_unref(&s);

	/* Bayes off: no explanation, and why. */
	s = t_snap("Checks headers\n", NULL, 0);
	m = t_scan(s, "Subject: free\n\nviagra\n", &v);
	assert_int_equal(bayes_explain_msg(m, 5, &ex, &err), -1);
	assert_non_null(strstr(err, "Bayes is off"));
	free(err);
	msg_end(&m);
	snap_unref(&s);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", dir);
	assert_int_equal(system(conf), 0);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_tokenize_view),
		cmocka_unit_test(test_sort_u64),
		cmocka_unit_test(test_lmdb_convert),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_bands),
		cmocka_unit_test(test_redis_unreachable),
		cmocka_unit_test(test_autolearn),
		cmocka_unit_test(test_autolearn_dropped),
		cmocka_unit_test(test_autolearn_reload),
		cmocka_unit_test(test_explain_strongest),
	};
	const struct CMUnitTest store[] = {
		cmocka_unit_test(test_store_learn),
		cmocka_unit_test(test_store_batch),
		cmocka_unit_test(test_store_expire),
		cmocka_unit_test(test_store_many),
		cmocka_unit_test(test_store_threads_share),
		cmocka_unit_test(test_store_concurrent),
		cmocka_unit_test(test_store_learner),
	};
	int	 fails = 0;

	fails += cmocka_run_group_tests_name("bayes", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("bayes store lmdb", store,
	    lmdb_group_setup, group_teardown);
	fails += cmocka_run_group_tests_name("bayes store lmdb, B-tree lookups",
	    store, lmdb_btree_group_setup, lmdb_btree_group_teardown);
	fails += cmocka_run_group_tests_name("bayes store redis", store,
	    redis_group_setup, group_teardown);
	return fails != 0;
}
