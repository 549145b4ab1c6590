/*
 * logreg.c - L2-regularised logistic regression by Newton's method
 * (logreg.h).  The Hessian X'SX + lambda I is dense (d + 1 square) and
 * built from the sparse rows, O(sum of squared row lengths) a step; the
 * step solves it by Cholesky.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "scores/logreg.h"

#define LR_MAX_STEPS	100
#define LR_TOL		1e-10

static double
entry_val(const struct lr_data *x, size_t k)
{
	return x->val != NULL ? x->val[k] : 1.0;
}

static bool
in_use(const bool *use, size_t i)
{
	return use == NULL || use[i];
}

double
lr_margin(const struct lr_data *x, size_t i, const double *w)
{
	double	 z = w[x->d];

	for (size_t k = x->row[i]; k < x->row[i + 1]; k++)
		z += w[x->idx[k]] * entry_val(x, k);
	return z;
}

/* log(1 + exp(z)) without overflow. */
static double
log1pexp(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

double
lr_objective(const struct lr_data *x, const bool *use, double lambda,
    const double *w)
{
	double	 f = 0.0;

	for (size_t i = 0; i < x->n; i++) {
		double	 z, c = x->cost != NULL ? x->cost[i] : 1.0;

		if (!in_use(use, i))
			continue;
		z = lr_margin(x, i, w);
		/* -log P(y | z) */
		f += c * (x->y[i] > 0.5 ? log1pexp(-z) : log1pexp(z));
	}
	for (size_t j = 0; j < x->d; j++)
		f += 0.5 * lambda * w[j] * w[j];
	return f;
}

/* Solves A s = g in place (s in g) by Cholesky; A is overwritten.
 * Returns -1 when A is not positive definite. */
static int
cholesky_solve(double *a, double *g, size_t m)
{
	for (size_t j = 0; j < m; j++) {
		double	 s = a[j * m + j];

		for (size_t k = 0; k < j; k++)
			s -= a[j * m + k] * a[j * m + k];
		if (!(s > 0))
			return -1;
		a[j * m + j] = sqrt(s);
		for (size_t i = j + 1; i < m; i++) {
			double	 t = a[i * m + j];

			for (size_t k = 0; k < j; k++)
				t -= a[i * m + k] * a[j * m + k];
			a[i * m + j] = t / a[j * m + j];
		}
	}
	for (size_t i = 0; i < m; i++) {	/* L y = g */
		double	 t = g[i];

		for (size_t k = 0; k < i; k++)
			t -= a[i * m + k] * g[k];
		g[i] = t / a[i * m + i];
	}
	for (size_t i = m; i-- > 0;) {		/* L' s = y */
		double	 t = g[i];

		for (size_t k = i + 1; k < m; k++)
			t -= a[k * m + i] * g[k];
		g[i] = t / a[i * m + i];
	}
	return 0;
}

/* Newton's method with the features in held (NULL: none) kept at 0,
 * from w as it is (warm) or from 0. */
static int
fit_held(const struct lr_data *x, const bool *use, double lambda,
    const bool *held, bool warm, double *w)
{
	size_t	 m = x->d + 1;	/* the weights and the intercept */
	double	*h = malloc(m * m * sizeof(*h));
	double	*g = malloc(m * sizeof(*g));
	double	*w2 = malloc(m * sizeof(*w2));
	int	 steps;

	if (h == NULL || g == NULL || w2 == NULL)
		log_oom(m * m * sizeof(*h), "scores");
	if (!warm)
		memset(w, 0, m * sizeof(*w));
	for (size_t j = 0; held != NULL && j < x->d; j++)
		if (held[j])
			w[j] = 0.0;
	double	 f = lr_objective(x, use, lambda, w);
	for (steps = 0; steps < LR_MAX_STEPS; steps++) {
		double	 max_step = 0.0;

		memset(h, 0, m * m * sizeof(*h));
		memset(g, 0, m * sizeof(*g));
		for (size_t i = 0; i < x->n; i++) {
			double	 c = x->cost != NULL ? x->cost[i] : 1.0;
			double	 z, p, r, s;

			if (!in_use(use, i))
				continue;
			z = lr_margin(x, i, w);
			p = 1.0 / (1.0 + exp(-z));
			r = c * (p - x->y[i]);
			s = c * p * (1.0 - p);
			g[x->d] += r;
			h[x->d * m + x->d] += s;
			for (size_t k = x->row[i]; k < x->row[i + 1]; k++) {
				size_t	 a = x->idx[k];
				double	 va = entry_val(x, k);

				g[a] += r * va;
				h[a * m + x->d] += s * va;
				h[x->d * m + a] += s * va;
				for (size_t l = x->row[i]; l < x->row[i + 1];
				    l++)
					h[a * m + x->idx[l]] += s * va *
					    entry_val(x, l);
			}
		}
		for (size_t j = 0; j < x->d; j++) {
			g[j] += lambda * w[j];
			h[j * m + j] += lambda;
		}
		/* A tiny ridge keeps an all-absent feature solvable. */
		for (size_t j = 0; j < m; j++)
			h[j * m + j] += 1e-12;
		/* A held feature does not move: its row and column out. */
		for (size_t j = 0; held != NULL && j < x->d; j++) {
			if (!held[j])
				continue;
			for (size_t k = 0; k < m; k++)
				h[j * m + k] = h[k * m + j] = 0.0;
			h[j * m + j] = 1.0;
			g[j] = 0.0;
		}
		if (cholesky_solve(h, g, m) == -1) {
			steps = -1;
			break;
		}
		/* Halve the step until the objective does not rise. */
		double	 t = 1.0, f2;
		for (;;) {
			for (size_t j = 0; j < m; j++)
				w2[j] = w[j] - t * g[j];
			f2 = lr_objective(x, use, lambda, w2);
			if (f2 <= f + 1e-12 * fabs(f) || t < 1e-6)
				break;
			t *= 0.5;
		}
		for (size_t j = 0; j < m; j++) {
			double	 d = fabs(t * g[j]);

			if (d > max_step)
				max_step = d;
			w[j] = w2[j];
		}
		f = f2;
		if (max_step < LR_TOL)
			break;
	}
	free(h);
	free(g);
	free(w2);
	return steps < 0 ? -1 : steps + 1;
}

int
lr_fit(const struct lr_data *x, const bool *use, double lambda, double *w)
{
	return fit_held(x, use, lambda, NULL, false, w);
}

/* The objective's gradient at w for feature j (rows in use). */
static double
gradient_at(const struct lr_data *x, const bool *use, double lambda,
    const double *w, size_t j)
{
	double	 g = lambda * w[j];

	for (size_t i = 0; i < x->n; i++) {
		double	 c = x->cost != NULL ? x->cost[i] : 1.0, p;

		if (!in_use(use, i))
			continue;
		for (size_t k = x->row[i]; k < x->row[i + 1]; k++)
			if (x->idx[k] == j) {
				p = 1.0 / (1.0 + exp(-lr_margin(x, i, w)));
				g += c * (p - x->y[i]) * entry_val(x, k);
			}
	}
	return g;
}

int
lr_fit_signed(const struct lr_data *x, const bool *use, double lambda,
    const signed char *sign, double *w)
{
	bool	*held = calloc(x->d + 1, sizeof(*held));
	int	 fits = 0;

	if (held == NULL)
		log_oom(x->d + 1, "scores");
	for (size_t round = 0; round < 2 * x->d + 2; round++) {
		size_t	 worst = SIZE_MAX;
		double	 worst_g = 1e-7;
		bool	 crossed = false;

		/* Each refit starts where the last one ended: the
		 * problem is convex, the optimum the same, the steps few. */
		if (fit_held(x, use, lambda, held, round > 0, w) < 0) {
			fits = -1;
			break;
		}
		fits++;
		/* Every weight past zero is held there, and refitted. */
		for (size_t j = 0; j < x->d; j++)
			if (!held[j] && sign[j] != 0 && sign[j] * w[j] < 0) {
				held[j] = true;
				crossed = true;
			}
		if (crossed)
			continue;
		/* A held weight that would move into its side is let go,
		 * the one that would gain most first. */
		for (size_t j = 0; j < x->d; j++) {
			double	 g;

			if (!held[j])
				continue;
			g = -gradient_at(x, use, lambda, w, j) * sign[j];
			if (g > worst_g) {
				worst_g = g;
				worst = j;
			}
		}
		if (worst == SIZE_MAX)
			break;
		held[worst] = false;
	}
	free(held);
	return fits;
}
