/*
 * bayes_class.c - from token counts to a spam probability.
 *
 * Each token's spamminess is Gary Robinson's f(w): the ratio of its
 * per-message frequencies in spam and ham, pulled towards x by strength s
 * when it has been seen rarely.  Tokens close to neutral (|f - 0.5| <
 * min_dev) are ignored, the most extreme ones (at most max_toks) are
 * combined with Fisher's chi-square method in both directions and
 * I = (1 + S - H) / 2 is the probability.  The parameters were chosen
 * by cross-validation on the training half of the benchmark corpus
 * (contrib/accuracy/README).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bayes.h"

const struct bayes_params bayes_params_default = {
	.s = 0.1,
	.x = 0.5,
	.min_dev = 0.2,
	.max_toks = 150,
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

const struct bayes_band *
bayes_band_of(double p)
{
	for (size_t i = 0; i + 1 < bayes_nbands; i++)
		if (p < bayes_bands[i].hi)
			return &bayes_bands[i];
	return &bayes_bands[bayes_nbands - 2];
}

/*
 * ln of the chi-square survival function Q(x2, v) for even v:
 * e^-m * sum_{i < v/2} m^i / i!, computed in logs so that strong
 * evidence does not underflow to 0 (the ranking needs it).
 */
static double
log_chi2q(double x2, size_t v)
{
	double	 m = x2 / 2.0, term = 0.0, lsum;
	size_t	 k = v / 2;

	/* log-sum-exp over the terms i = 0..k-1, term_i = i ln m - ln i! */
	double	 lmax = 0.0;
	for (size_t i = 1; i < k; i++) {
		term += log(m) - log((double)i);
		if (term > lmax)
			lmax = term;
	}
	term = 0.0;
	lsum = exp(0.0 - lmax);
	for (size_t i = 1; i < k; i++) {
		term += log(m) - log((double)i);
		lsum += exp(term - lmax);
	}
	double	 r = -m + lmax + log(lsum);
	return r > 0.0 ? 0.0 : r;
}

static int
cmp_dev(const void *a, const void *b)
{
	double	 x = fabs(*(const double *)a - 0.5);
	double	 y = fabs(*(const double *)b - 0.5);

	return x < y ? 1 : x > y ? -1 : 0;
}

double
bayes_classify_ex(const struct bayes_params *bp, const struct bayes_count *c,
    size_t n, uint64_t nspam, uint64_t nham, double *logit_r)
{
	double	 stackf[512], *f = stackf;
	size_t	 k = 0;

	if (logit_r != NULL)
		*logit_r = 0.0;
	if (nspam == 0 || nham == 0)
		return 0.5;
	if (n > sizeof(stackf) / sizeof(stackf[0]) &&
	    (f = malloc(n * sizeof(*f))) == NULL)
		return 0.5;

	/* Robinson's f(w) for every token seen before. */
	for (size_t i = 0; i < n; i++) {
		double	 tot = (double)c[i].spam + c[i].ham, ps, ph, p, fw;

		if (tot == 0)
			continue;
		ps = (double)c[i].spam / (double)nspam;
		ph = (double)c[i].ham / (double)nham;
		p = ps / (ps + ph);
		fw = (bp->s * bp->x + tot * p) / (bp->s + tot);
		if (fabs(fw - 0.5) < bp->min_dev)
			continue;
		f[k++] = fw;
	}
	if (k > bp->max_toks) {
		qsort(f, k, sizeof(*f), cmp_dev);
		k = bp->max_toks;
	}
	if (k == 0) {
		if (f != stackf)
			free(f);
		return 0.5;
	}

	/* Fisher: -2 sum ln f is chi-square with 2k degrees of freedom. */
	double	 lh = 0.0, ls = 0.0;
	for (size_t i = 0; i < k; i++) {
		double	 fw = f[i] < 1e-6 ? 1e-6 : f[i] > 1 - 1e-6 ?
		    1 - 1e-6 : f[i];

		lh += log(fw);
		ls += log1p(-fw);
	}
	if (f != stackf)
		free(f);
	/* qh small: the tokens are too spammy for ham; qs likewise. */
	double	 lqh = log_chi2q(-2.0 * lh, 2 * k);
	double	 lqs = log_chi2q(-2.0 * ls, 2 * k);
	double	 qh = exp(lqh), qs = exp(lqs);

	/* S = 1 - qs, H = 1 - qh, I = (1 + S - H) / 2.
	 * A ranking score that does not saturate: ln qh - ln qs. */
	if (logit_r != NULL)
		*logit_r = lqh - lqs;
	return (1.0 + qh - qs) / 2.0;
}

double
bayes_classify(const struct bayes_count *c, size_t n, uint64_t nspam,
    uint64_t nham)
{
	return bayes_classify_ex(&bayes_params_default, c, n, nspam, nham,
	    NULL);
}
