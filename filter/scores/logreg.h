/*
 * logreg.h - L2-regularised logistic regression on sparse rows, fitted
 * by Newton's method (vigilctl scores learn).
 *
 * A row is a message: the features it has (rule hits, value 1) and a
 * few with other values (Bayes's confidence).  The model is
 * P(spam) = 1 / (1 + exp(-(w . x + b))); the fit minimises
 *   sum_i c_i * logloss(y_i, w . x_i + b) + lambda / 2 * |w|^2
 * (b is not regularised).  The problem is strictly convex for lambda > 0,
 * so Newton's method with a halving line search finds the one minimum in
 * a handful of steps; each step solves the d x d system by Cholesky,
 * fine for the few thousand features a rule set has.
 */
#ifndef VIGIL_LOGREG_H
#define VIGIL_LOGREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lr_data {
	size_t		 n;	/* rows */
	size_t		 d;	/* features */
	const size_t	*row;	/* row i's entries: row[i] .. row[i + 1] - 1 */
	const uint32_t	*idx;	/* each entry's feature, < d */
	const double	*val;	/* each entry's value; NULL: all 1 */
	const double	*y;	/* 0 (ham) or 1 (spam) */
	const double	*cost;	/* each row's weight c_i; NULL: all 1 */
};

/*
 * Fits the rows whose use[i] is true (use NULL: all).  w has d + 1
 * values: the d weights, then the intercept b.  Returns the Newton steps
 * taken, or -1 when the system could not be solved (lambda <= 0 with
 * separable data).
 */
int		 lr_fit(const struct lr_data *, const bool *use, double lambda,
		    double *w);

/*
 * The same with each weight's sign bounded: sign[j] > 0 keeps w[j] >= 0,
 * < 0 keeps it <= 0, 0 leaves it free (the intercept is always free).
 * An active-set method: a weight that would cross zero is held there and
 * the rest refitted, until no held weight would move into its allowed
 * side.  Returns the fits made, or -1.
 */
int		 lr_fit_signed(const struct lr_data *, const bool *use,
		    double lambda, const signed char *sign, double *w);

/* w . x_i + b: row i's log-odds. */
double		 lr_margin(const struct lr_data *, size_t i, const double *w);

/* The objective at w over the rows in use (for tests). */
double		 lr_objective(const struct lr_data *, const bool *use,
		    double lambda, const double *w);

#endif
