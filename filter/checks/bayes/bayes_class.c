/*
 * bayes_class.c - from token counts to a spam probability.
 *
 * Each token's spamminess is Gary Robinson's f(w): the ratio of its
 * per-message frequencies in spam and ham, pulled towards x by strength s
 * when it has been seen rarely.  Tokens close to neutral (|f - 0.5| <
 * min_dev) are ignored and the others (the most extreme max_toks) are
 * combined by their normalised geometric mean, the headers' and the
 * body's apart, then weighted.  Fisher's chi-square combining was
 * measured too and ranked worse on the benchmark corpus: it saturates at
 * 0 and 1 (contrib/accuracy/README has the figures).  Only clear evidence
 * counts (min_dev 0.45: f(w) beyond 0.05 or 0.95): many weak votes pulled
 * borderline messages to the middle, where false positives and false
 * negatives are decided.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bayes/bayes.h"
#include "lib/log.h"

const struct bayes_params bayes_params_default = {
	.s = 0.0178,
	.x = 0.52,
	.min_dev = 0.45,
	.max_toks = 100000,
	.header_weight = 0.5,
};

const struct bayes_band bayes_bands[] = {
	{ "BAYES_00",	0.00, 0.01, -1.9 },
	{ "BAYES_05",	0.01, 0.05, -0.5 },
	{ "BAYES_20",	0.05, 0.20, -0.001 },
	{ "BAYES_40",	0.20, 0.40, -0.001 },
	{ "BAYES_50",	0.40, 0.60, 0.8 },
	{ "BAYES_60",	0.60, 0.80, 1.5 },
	{ "BAYES_80",	0.80, 0.95, 2.0 },
	{ "BAYES_95",	0.95, 0.99, 3.0 },
	{ "BAYES_99",	0.99, 1.01, 3.5 },
	/* On top of BAYES_99. */
	{ "BAYES_999",	0.999, 1.01, 0.2 },
};
const size_t bayes_nbands = sizeof(bayes_bands) / sizeof(bayes_bands[0]);

const struct bayes_anchor bayes_anchors[BAYES_NANCHORS] = {
	{ "BAYES_HAM", -3.0 },
	{ "BAYES_LEAN_HAM", -1.5 },
	{ "BAYES_NEUTRAL", 0.0 },
	{ "BAYES_LEAN_SPAM", 1.5 },
	{ "BAYES_SPAM", 3.0 },
};

void
bayes_anchor_shares(double logit, double w_r[BAYES_NANCHORS])
{
	for (size_t i = 0; i < BAYES_NANCHORS; i++)
		w_r[i] = 0.0;
	if (!(logit > bayes_anchors[0].logit)) {	/* NaN too */
		w_r[0] = 1.0;
		return;
	}
	if (logit >= bayes_anchors[BAYES_NANCHORS - 1].logit) {
		w_r[BAYES_NANCHORS - 1] = 1.0;
		return;
	}
	for (size_t i = 0; i + 1 < BAYES_NANCHORS; i++) {
		double	 lo = bayes_anchors[i].logit;
		double	 hi = bayes_anchors[i + 1].logit;

		if (logit >= lo && logit < hi) {
			double	 t = (logit - lo) / (hi - lo);

			w_r[i] = 1.0 - t;
			w_r[i + 1] = t;
			return;
		}
	}
}

const struct bayes_band *
bayes_band_of(double p)
{
	for (size_t i = 0; i + 1 < bayes_nbands; i++)
		if (p < bayes_bands[i].hi)
			return &bayes_bands[i];
	return &bayes_bands[bayes_nbands - 2];
}

static int
cmp_dev(const void *a, const void *b)
{
	double	 x = fabs(*(const double *)a);
	double	 y = fabs(*(const double *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The mean of the (at most max) strongest of n logits; 0 when none. */
static double
mean_strongest(double *l, size_t n, size_t max)
{
	double	 sum = 0.0;

	if (n == 0)
		return 0.0;
	if (n > max) {
		qsort(l, n, sizeof(*l), cmp_dev);
		n = max;
	}
	for (size_t i = 0; i < n; i++)
		sum += l[i];
	return sum / (double)n;
}

/*
 * Robinson's f(w) of a token with counts c (rs, rh: 1 / messages learned
 * of each class, sx: s * x) in *fw_r; false when the token is unknown or
 * too close to neutral to count.
 */
static inline bool
token_fw(const struct bayes_params *bp, const struct bayes_count *c,
    double rs, double rh, double sx, double *fw_r)
{
	double	 tot = (double)c->spam + c->ham, ps, ph, p, fw;

	if (tot == 0)
		return false;
	ps = (double)c->spam * rs;
	ph = (double)c->ham * rh;
	p = ps / (ps + ph);
	fw = (sx + tot * p) / (bp->s + tot);
	if (fabs(fw - 0.5) < bp->min_dev)
		return false;
	*fw_r = fw;
	return true;
}

double
bayes_classify_ex(const struct bayes_params *bp, const uint64_t *toks,
    const struct bayes_count *c, size_t n, uint64_t nspam, uint64_t nham,
    double *logit_r)
{
	double	 stackl[1024], *l = stackl;
	size_t	 k = 0, nhdr = 0;

	if (logit_r != NULL)
		*logit_r = 0.0;
	if (nspam == 0 || nham == 0)
		return 0.5;
	if (n > sizeof(stackl) / sizeof(stackl[0]) &&
	    (l = malloc(n * sizeof(*l))) == NULL)
		return 0.5;

	/*
	 * Robinson's f(w) for every token seen before, as a logit; header
	 * tokens first in l[], body tokens from the end.
	 */
	size_t	 nbody = 0;
	const double rs = 1.0 / (double)nspam, rh = 1.0 / (double)nham;
	const double sx = bp->s * bp->x;
	for (size_t i = 0; i < n; i++) {
		double	 fw, lg;

		if (!token_fw(bp, &c[i], rs, rh, sx, &fw))
			continue;
		lg = log(fw / (1.0 - fw));
		if (toks != NULL && (toks[i] & BAYES_TOK_HEADER))
			l[nhdr++] = lg;
		else
			l[n - 1 - nbody++] = lg;
	}
	double	 mh = mean_strongest(l, nhdr, bp->max_toks);
	double	 mb = mean_strongest(l + n - nbody, nbody, bp->max_toks);
	if (l != stackl)
		free(l);
	k = nhdr + nbody;
	if (k == 0)
		return 0.5;
	/*
	 * The normalised geometric mean of the f(w) (the logistic of their
	 * mean logit), taken for the headers and for the rest separately
	 * and weighted: a long body no longer drowns what the headers say.
	 * Unlike Fisher's chi-square it does not pile messages up at
	 * exactly 0 and 1, so it also ranks them.
	 */
	double	 mean = nhdr == 0 ? mb : nbody == 0 ? mh :
	    bp->header_weight * mh + (1.0 - bp->header_weight) * mb;
	if (logit_r != NULL)
		*logit_r = mean;
	return 1.0 / (1.0 + exp(-mean));
}

double
bayes_classify(const uint64_t *toks, const struct bayes_count *c, size_t n,
    uint64_t nspam, uint64_t nham)
{
	return bayes_classify_ex(&bayes_params_default, toks, c, n, nspam,
	    nham, NULL);
}

/* Stronger first: further from 0.5 toward the side asked, then seen in
 * more messages, then made first. */
static int
cmp_why(const void *a, const void *b)
{
	const struct bayes_tok_why *x = a, *y = b;
	double	 dx = fabs(x->fw - 0.5), dy = fabs(y->fw - 0.5);
	uint64_t nx = (uint64_t)x->spam + x->ham, ny = (uint64_t)y->spam + y->ham;

	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t
bayes_strongest(const struct bayes_params *bp, const uint64_t *toks,
    const struct bayes_count *c, size_t n, uint64_t nspam, uint64_t nham,
    enum bayes_class cls, size_t max, struct bayes_tok_why *out_r)
{
	struct bayes_tok_why *all;
	size_t	 k = 0;

	if (nspam == 0 || nham == 0 || max == 0 || n == 0)
		return 0;
	if ((all = malloc(n * sizeof(*all))) == NULL)
		log_oom(n * sizeof(*all), "bayes");
	const double rs = 1.0 / (double)nspam, rh = 1.0 / (double)nham;
	const double sx = bp->s * bp->x;
	for (size_t i = 0; i < n; i++) {
		double	 fw;

		if (!token_fw(bp, &c[i], rs, rh, sx, &fw) ||
		    (cls == BAYES_SPAM) != (fw > 0.5))
			continue;
		all[k++] = (struct bayes_tok_why){ .idx = i, .fw = fw,
		    .spam = c[i].spam, .ham = c[i].ham, .is_header =
		    toks != NULL && (toks[i] & BAYES_TOK_HEADER) != 0 };
	}
	qsort(all, k, sizeof(*all), cmp_why);
	if (k > max)
		k = max;
	memcpy(out_r, all, k * sizeof(*all));
	free(all);
	return k;
}
