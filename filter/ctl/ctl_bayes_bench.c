/*
 * ctl_bayes_bench.c - `vigilctl bayes bench`: learning and classification
 * speed of the Bayes classifier in-process on one core, with LMDB in a
 * fresh temporary folder, plus its accuracy on the same split (FP and FN
 * at the default threshold, 1-AUC from the ranking score).
 *
 *   vigilctl bayes bench [--cv] [--threshold P] CORPUS SPLITDIR
 *
 * SPLITDIR holds train_ham.txt, train_spam.txt, test_ham.txt and
 * test_spam.txt with paths relative to CORPUS (the accuracy harness's
 * format).  --cv ignores the test lists and splits the training lists in
 * two instead, so that settings can be chosen without looking at the test
 * half.  Tuning flags (--window, --text-max, --no-headers, --no-received,
 * --no-shapes, --no-received-ips,
 * --s, --x, --min-dev, --max-toks, --header-weight) change the tokenizer and classifier
 * for the run.  Messages are read into memory first: the timings are
 * parsing, tokenizing and the store, not the disk.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "checks/bayes/bayes.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

/* Messages a learn transaction (as `vigilctl bayes learn`). */
#define LEARN_BATCH	1024

struct bmsg {
	char		*path;
	gchar		*data;
	gsize		 len;
	bool		 is_spam;
	double		 p, rank;
};

struct bset {
	struct bmsg	*v;
	size_t		 n;
};

static int
bset_load(struct bset *bs, const char *corpus, const char *list,
    bool is_spam)
{
	gchar	*text, **lines;
	GError	*gerr = NULL;

	if (!g_file_get_contents(list, &text, NULL, &gerr)) {
		fprintf(stderr, "vigilctl bayes bench: %s\n", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	for (size_t i = 0; lines[i] != NULL; i++) {
		struct bmsg *m;

		g_strstrip(lines[i]);
		if (lines[i][0] == '\0')
			continue;
		bs->v = g_realloc_n(bs->v, bs->n + 1, sizeof(*bs->v));
		m = &bs->v[bs->n];
		memset(m, 0, sizeof(*m));
		m->path = lines[i][0] == '/' ? g_strdup(lines[i]) :
		    g_build_filename(corpus, lines[i], NULL);
		m->is_spam = is_spam;
		if (!g_file_get_contents(m->path, &m->data, &m->len, &gerr)) {
			fprintf(stderr, "vigilctl bayes bench: %s\n",
			    gerr->message);
			g_error_free(gerr);
			g_strfreev(lines);
			return -1;
		}
		bs->n++;
	}
	g_strfreev(lines);
	return 0;
}

static uint64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
cmp_rank(const void *a, const void *b)
{
	double	 x = (*(const struct bmsg *const *)a)->rank;
	double	 y = (*(const struct bmsg *const *)b)->rank;

	return x < y ? -1 : x > y;
}

/* 1 - AUC by the rank sum (Mann-Whitney), ties counting one half. */
static double
one_minus_auc(struct bmsg *v, size_t n)
{
	struct bmsg **s = g_new(struct bmsg *, n);
	double	 rsum = 0.0;
	size_t	 nspam = 0, nham = 0;

	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), cmp_rank);
	for (size_t i = 0; i < n;) {
		size_t	 j = i;

		while (j < n && s[j]->rank == s[i]->rank)
			j++;
		double	 r = (double)(i + 1 + j) / 2.0;	/* mean rank */
		for (size_t k = i; k < j; k++)
			if (s[k]->is_spam) {
				rsum += r;
				nspam++;
			} else
				nham++;
		i = j;
	}
	g_free(s);
	if (nspam == 0 || nham == 0)
		return NAN;
	double	 u = rsum - (double)nspam * (nspam + 1) / 2.0;
	return 1.0 - u / ((double)nspam * nham);
}

/*
 * The stages are timed by the monotonic clock (vDSO, some 25 ns a read):
 * the thread's CPU clock is a system call here (over 1 us a read, and a
 * message took six), which the product never makes.  The report shares
 * out each phase's CPU time by the stages' shares of its wall time; a
 * learn batch, which also waits for the disk, is timed by both clocks.
 */
static uint64_t
stage_us(void)
{
	return util_now_us();
}

/*
 * Time of each stage, learning [0] and classifying [1] apart, and
 * tokens seen and found in the store (for the report).
 */
struct stage {
	uint64_t	 parse_us, tok_us, store_us, class_us;
	uint64_t	 store_cpu_us;	/* learn: its CPU time (it waits for
					 * the disk), once a batch */
	uint64_t	 ntoks, nfound;
};
static struct stage stages[2];
static int cur_stage;

/* Parses and tokenizes; toks malloc'd. */
static int
bench_tokens(struct snap *s, const struct bmsg *bm, uint64_t **toks_r,
    size_t *n_r, unsigned char *digest)
{
	struct bayes_toks tk;
	struct msg *m;

	uint64_t c0 = stage_us();
	if ((m = parse_buffer(s, (const unsigned char *)bm->data, bm->len,
	    "bench")) == NULL) {
		fprintf(stderr, "vigilctl bayes bench: %s: cannot parse\n",
		    bm->path);
		return -1;
	}
	const struct mview *v = msg_view(m);
	uint64_t c1 = stage_us();
	bayes_tokenize(msg_arena(m), v, &tk);
	stages[cur_stage].parse_us += c1 - c0;
	stages[cur_stage].tok_us += stage_us() - c1;
	stages[cur_stage].ntoks += tk.n;
	if (digest != NULL)
		bayes_msg_digest(m, digest);
	*toks_r = g_memdup2(tk.v, tk.n * sizeof(*tk.v));
	*n_r = tk.n;
	msg_end(&m);
	return 0;
}

static int
bench_learn(struct snap *s, struct bayes_store *st, struct bmsg **v, size_t n)
{
	struct bayes_learn items[LEARN_BATCH];
	size_t	 k = 0;
	char	*err = NULL;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || k == LEARN_BATCH) {
			uint64_t c0 = stage_us(), p0 = cpu_us();
			int	 rc = st->ops->learn(st, items, k, &err);

			stages[0].store_cpu_us += cpu_us() - p0;
			stages[0].store_us += stage_us() - c0;

			for (size_t j = 0; j < k; j++)
				g_free((void *)items[j].toks);
			if (rc == -1) {
				fprintf(stderr, "vigilctl bayes bench: %s\n",
				    err);
				free(err);
				return -1;
			}
			k = 0;
			if (i == n)
				break;
		}
		struct bayes_learn *it = &items[k];
		uint64_t *t;

		memset(it, 0, sizeof(*it));
		if (bench_tokens(s, v[i], &t, &it->ntoks, it->digest) == -1)
			return -1;
		it->toks = t;
		it->cls = v[i]->is_spam ? BAYES_SPAM : BAYES_HAM;
		k++;
	}
	return 0;
}

static int
bench_classify(struct snap *s, struct bayes_store *st,
    const struct bayes_params *bp, struct bmsg **v, size_t n)
{
	struct bayes_count *cnt = NULL;
	size_t	 cap = 0;
	char	*err = NULL;

	for (size_t i = 0; i < n; i++) {
		struct bayes_totals tot;
		uint64_t *t;
		size_t	 nt;

		if (bench_tokens(s, v[i], &t, &nt, NULL) == -1)
			return -1;
		if (nt + 1 > cap) {
			cap = (nt + 1) * 2;
			cnt = g_renew(struct bayes_count, cnt, cap);
		}
		uint64_t c0 = stage_us();
		if (st->ops->lookup(st, t, nt, cnt, &tot, &err) == -1) {
			fprintf(stderr, "vigilctl bayes bench: %s\n", err);
			free(err);
			g_free(t);
			g_free(cnt);
			return -1;
		}
		uint64_t c1 = stage_us();
		v[i]->p = bayes_classify_ex(bp, t, cnt, nt, tot.nspam,
		    tot.nham, &v[i]->rank);
		stages[1].store_us += c1 - c0;
		stages[1].class_us += stage_us() - c1;
		for (size_t j = 0; j < nt; j++)
			stages[1].nfound += cnt[j].spam + cnt[j].ham > 0;
		g_free(t);
	}
	g_free(cnt);
	return 0;
}

static void
shuffle(struct bmsg **v, size_t n, guint32 seed)
{
	GRand	*r = g_rand_new_with_seed(seed);

	for (size_t i = n; i > 1; i--) {
		size_t	 j = (size_t)g_rand_int_range(r, 0, (gint32)i);
		struct bmsg *x = v[i - 1];

		v[i - 1] = v[j];
		v[j] = x;
	}
	g_rand_free(r);
}

int
ctl_bayes_bench(const struct ctl_opts *o, int argc, char **argv)
{
	struct bayes_params bp = bayes_params_default;
	double	 threshold = -1;
	bool	 is_cv = false;
	int	 c, rc = 1;
	static const struct option lopts[] = {
		{ "cv", no_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "text-max", required_argument, NULL, 'T' },
		{ "no-headers", no_argument, NULL, 'H' },
		{ "no-received", no_argument, NULL, 'R' },
		{ "no-shapes", no_argument, NULL, 'S' },
		{ "no-received-ips", no_argument, NULL, 'I' },
		{ "s", required_argument, NULL, 's' },
		{ "x", required_argument, NULL, 'x' },
		{ "min-dev", required_argument, NULL, 'd' },
		{ "max-toks", required_argument, NULL, 'm' },
		{ "header-weight", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': is_cv = true; break;
		case 't': threshold = atof(optarg); break;
		case 'w': bayes_tok_params.window = atoi(optarg); break;
		case 'T': bayes_tok_params.text_max = strtoul(optarg, NULL, 10);
			break;
		case 'H': bayes_tok_params.headers = false; break;
		case 'R': bayes_tok_params.received = false; break;
		case 'S': bayes_tok_params.shapes = false; break;
		case 'I': bayes_tok_params.received_ips = false; break;
		case 's': bp.s = atof(optarg); break;
		case 'x': bp.x = atof(optarg); break;
		case 'd': bp.min_dev = atof(optarg); break;
		case 'm': bp.max_toks = strtoul(optarg, NULL, 10); break;
		case 'W': bp.header_weight = atof(optarg); break;
		default: return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		ctl_help_usage("bayes bench", stderr);
		return EX_USAGE;
	}
	const char *corpus = argv[optind], *split = argv[optind + 1];

	/* A snapshot for parsing only: the store is a fresh one of ours. */
	struct ctl_opts o2 = *o;
	const char **ov = g_new0(const char *, o->noverrides + 1);
	memcpy(ov, o->overrides, o->noverrides * sizeof(*ov));
	ov[o->noverrides] = "BayesEnable=no";
	o2.overrides = ov;
	o2.noverrides = o->noverrides + 1;
	struct snap *s = ctl_snap(&o2);
	g_free(ov);
	if (s == NULL)
		return 1;
	if (threshold < 0)
		threshold = cfg_double(snap_cfg(s), "BayesSpamThreshold");

	static const char *const lists[4] = { "train_ham.txt",
	    "train_spam.txt", "test_ham.txt", "test_spam.txt" };
	struct bset sets[4] = { { NULL, 0 } };
	for (int i = 0; i < 4; i++) {
		char	*p = g_build_filename(split, lists[i], NULL);
		int	 r = bset_load(&sets[i], corpus, p, i % 2 == 1);

		g_free(p);
		if (r == -1)
			goto out_sets;
	}

	/* Training and test messages, each shuffled with a fixed seed. */
	size_t	 ntrain = 0, ntest = 0;
	struct bmsg **train = g_new(struct bmsg *, sets[0].n + sets[1].n);
	struct bmsg **test = g_new(struct bmsg *, sets[0].n + sets[1].n +
	    sets[2].n + sets[3].n);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < sets[k].n; i++) {
			if (is_cv && i % 2 == 1)
				test[ntest++] = &sets[k].v[i];
			else
				train[ntrain++] = &sets[k].v[i];
		}
	if (!is_cv)
		for (int k = 2; k < 4; k++)
			for (size_t i = 0; i < sets[k].n; i++)
				test[ntest++] = &sets[k].v[i];
	shuffle(train, ntrain, 1);
	shuffle(test, ntest, 2);

	char	 dir[] = "/tmp/vigil-bayes-bench.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "vigilctl bayes bench: mkdtemp %s: %s\n", dir,
		    strerror(errno));
		goto out_lists;
	}
	struct bayes_store_cfg sc = { .dir = dir, .map_size = 1ULL << 30 };
	char	*err = NULL;
	struct bayes_store *st = bayes_lmdb_open(&sc, &err);
	if (st == NULL) {
		fprintf(stderr, "vigilctl bayes bench: %s\n", err);
		free(err);
		goto out_dir;
	}

	/* CPU time of this thread is what one core does; wall time is shown
	 * too (it includes waiting for a busy machine). */
	memset(stages, 0, sizeof(stages));
	cur_stage = 0;
	uint64_t w0 = util_now_us(), t0 = cpu_us();
	if (bench_learn(s, st, train, ntrain) == -1)
		goto out_store;
	uint64_t w1 = util_now_us(), t1 = cpu_us();
	cur_stage = 1;
	if (bench_classify(s, st, &bp, test, ntest) == -1)
		goto out_store;
	uint64_t w2 = util_now_us(), t2 = cpu_us();

	size_t	 fp = 0, fn = 0, nham = 0, nspam = 0;
	for (size_t i = 0; i < ntest; i++) {
		bool	 says_spam = test[i]->p >= threshold;

		if (test[i]->is_spam) {
			nspam++;
			fn += !says_spam;
		} else {
			nham++;
			fp += says_spam;
		}
	}
	struct bmsg *tv = g_new(struct bmsg, ntest);
	for (size_t i = 0; i < ntest; i++)
		tv[i] = *test[i];
	double	 auc1 = one_minus_auc(tv, ntest);
	g_free(tv);
	struct bayes_totals tot;
	if (st->ops->totals(st, &tot, &err) == -1) {
		fprintf(stderr, "vigilctl bayes bench: %s\n", err);
		free(err);
		goto out_store;
	}
	double	 ls = (double)(t1 - t0) / 1e6, cs = (double)(t2 - t1) / 1e6;
	double	 lw = (double)(w1 - w0) / 1e6, cw = (double)(w2 - w1) / 1e6;
	printf("bayes bench (%s, LMDB, one thread, parse + tokenize + store):\n"
	    "  learn:    %zu messages, %.2f s CPU = %.0f msg/s a core "
	    "(wall %.2f s = %.0f msg/s)\n"
	    "  classify: %zu messages, %.2f s CPU = %.0f msg/s a core "
	    "(wall %.2f s = %.0f msg/s)\n",
	    is_cv ? "cross-validation on the training half" : "train/test",
	    ntrain, ls, (double)ntrain / ls, lw, (double)ntrain / lw,
	    ntest, cs, (double)ntest / cs, cw, (double)ntest / cw);
	/*
	 * CPU microseconds a message by stage (each phase's CPU time shared
	 * out by the stages' wall time): parsing is the core's (msg.c,
	 * mime.c), the rest is Bayes's own, so the rate without parsing
	 * shows what Bayes costs once parsing gets cheaper.
	 */
	for (int k = 0; k < 2; k++) {
		const struct stage *g = &stages[k];
		double	 nm = (double)(k == 0 ? ntrain : ntest);
		double	 tot_us = (double)(k == 0 ? t1 - t0 : t2 - t1);
		double	 wall = (double)(k == 0 ? w1 - w0 : w2 - w1);
		double	 known = (double)g->store_cpu_us;
		if (known > 0)
			wall -= (double)g->store_us;
		double	 f = wall > 0 ? (tot_us - known) / wall : 1.0;
		double	 parse = f * (double)g->parse_us, tok = f * g->tok_us;
		double	 store = known > 0 ? known : f * (double)g->store_us;
		double	 cl = f * (double)g->class_us;
		double	 own = tot_us - parse;

		if (nm == 0)
			continue;
		printf("  %-8s  us/msg: parse %.1f, tokenize %.1f, store %.1f, "
		    "classifier %.1f, other %.1f; without parsing %.0f msg/s\n",
		    k == 0 ? "learn" : "classify", parse / nm, tok / nm,
		    store / nm, cl / nm, (own - tok - store - cl) / nm,
		    own > 0 ? nm * 1e6 / own : 0.0);
	}
	printf("  %.0f tokens a message; in classify %.0f of them known to "
	    "the store\n", (double)(stages[0].ntoks + stages[1].ntoks) /
	    (double)(ntrain + ntest), ntest ? (double)stages[1].nfound /
	    (double)ntest : 0.0);
	printf("tokens stored %llu, store %llu bytes\n",
	    (unsigned long long)tot.ntokens, (unsigned long long)tot.bytes);
	printf("accuracy: FP %.2f %% (%zu of %zu ham), FN %.2f %% (%zu of %zu "
	    "spam) at P >= %.3f; 1-AUC %.4f %%\n",
	    100.0 * fp / (nham ? nham : 1), fp, nham,
	    100.0 * fn / (nspam ? nspam : 1), fn, nspam, threshold,
	    100.0 * auc1);
	if (getenv("VIGIL_BENCH_SCORES") != NULL) {
		FILE	*f = fopen(getenv("VIGIL_BENCH_SCORES"), "w");

		for (size_t i = 0; f != NULL && i < ntest; i++)
			fprintf(f, "%s\t%.6f\t%.6f\t%s\n", test[i]->is_spam ?
			    "spam" : "ham", test[i]->p, test[i]->rank,
			    test[i]->path);
		if (f != NULL)
			fclose(f);
	}
	rc = 0;
out_store:
	bayes_store_close(&st);
out_dir:
	{
		/* The store's two files, then the folder. */
		char	*p = g_build_filename(dir, "data.mdb", NULL);
		unlink(p);
		g_free(p);
		p = g_build_filename(dir, "lock.mdb", NULL);
		unlink(p);
		g_free(p);
		rmdir(dir);
	}
out_lists:
	g_free(train);
	g_free(test);
out_sets:
	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < sets[k].n; i++) {
			g_free(sets[k].v[i].path);
			g_free(sets[k].v[i].data);
		}
		g_free(sets[k].v);
	}
	snap_unref(&s);
	return rc;
}
