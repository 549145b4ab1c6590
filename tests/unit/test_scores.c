/*
 * test_scores.c - the logistic regression of `vigilctl scores learn`
 * against known solutions, Bayes's anchors, and score sets in the
 * verdict, groups of findings that hit together.
 */
#include "t.h"

#include <math.h>

#include "checks/bayes/bayes.h"
#include "scores/groups.h"
#include "scores/logreg.h"

/*
 * One binary feature: the unregularised fit has a closed form, the
 * log-odds of each group: b = logit(P(spam | x = 0)), b + w =
 * logit(P(spam | x = 1)).  30 of 100 without the feature are spam, 80
 * of 100 with it.
 */
static void
test_closed_form(void **state)
{
	enum { N = 200 };
	size_t	 row[N + 1];
	uint32_t idx[N];
	double	 y[N], w[2];
	size_t	 k = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		bool	 has = i >= 100;

		row[i] = k;
		if (has)
			idx[k++] = 0;
		y[i] = has ? (i - 100 < 80) : (i < 30);
	}
	row[N] = k;
	struct lr_data x = { .n = N, .d = 1, .row = row, .idx = idx,
	    .y = y };
	assert_true(lr_fit(&x, NULL, 1e-9, w) > 0);
	assert_true(fabs(w[1] - log(0.3 / 0.7)) < 1e-6);
	assert_true(fabs(w[0] + w[1] - log(0.8 / 0.2)) < 1e-6);
}

/* A fixed pseudo-random problem: sparse binary rows, one real-valued
 * feature, costs; n rows, d features. */
struct problem {
	size_t	 row[401];
	uint32_t idx[401 * 8];
	double	 val[401 * 8], y[400], cost[400];
	struct lr_data x;
};

static void
make_problem(struct problem *p)
{
	uint64_t s = 42;
	size_t	 k = 0, n = 400, d = 7;

	for (size_t i = 0; i < n; i++) {
		double	 z = -0.5;

		p->row[i] = k;
		for (uint32_t j = 0; j < d - 1; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			if ((s >> 33) % 3 == 0) {
				p->idx[k] = j;
				p->val[k++] = 1.0;
				z += (double)j - 2.5;
			}
		}
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		p->idx[k] = (uint32_t)d - 1;
		p->val[k] = (double)((s >> 33) % 1000) / 250.0 - 2.0;
		z += p->val[k++];
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Noisy labels: the model is not separable. */
		p->y[i] = ((s >> 33) % 1000) / 1000.0 < 1.0 / (1.0 + exp(-z));
		p->cost[i] = i % 5 == 0 ? 3.0 : 1.0;
	}
	p->row[n] = k;
	p->x = (struct lr_data){ .n = n, .d = d, .row = p->row,
	    .idx = p->idx, .val = p->val, .y = p->y, .cost = p->cost };
}

/* At the fitted w no coordinate step lowers the objective. */
static void
test_optimum(void **state)
{
	static struct problem p;
	double	 w[8], w2[8], f;

	(void)state;
	make_problem(&p);
	assert_true(lr_fit(&p.x, NULL, 0.7, w) > 0);
	f = lr_objective(&p.x, NULL, 0.7, w);
	for (size_t j = 0; j <= p.x.d; j++)
		for (int sgn = -1; sgn <= 1; sgn += 2) {
			memcpy(w2, w, sizeof(w));
			w2[j] += sgn * 1e-4;
			assert_true(lr_objective(&p.x, NULL, 0.7, w2) >= f);
		}
	/* Regularisation shrinks: a larger lambda, a smaller |w|. */
	double	 ws[8], n1 = 0, n2 = 0;
	assert_true(lr_fit(&p.x, NULL, 50.0, ws) > 0);
	for (size_t j = 0; j < p.x.d; j++) {
		n1 += w[j] * w[j];
		n2 += ws[j] * ws[j];
	}
	assert_true(n2 < n1);
}

/* Rows left out of use do not count: the same as a problem without
 * them. */
static void
test_use_mask(void **state)
{
	static struct problem p, q;
	bool	 use[400];
	double	 w1[8], w2[8];

	(void)state;
	make_problem(&p);
	make_problem(&q);
	for (size_t i = 0; i < 400; i++)
		use[i] = i < 300;
	q.x.n = 300;
	assert_true(lr_fit(&p.x, use, 1.0, w1) > 0);
	assert_true(lr_fit(&q.x, NULL, 1.0, w2) > 0);
	for (size_t j = 0; j <= p.x.d; j++)
		assert_true(fabs(w1[j] - w2[j]) < 1e-9);
}

/*
 * Bounded signs: a feature that the free fit makes negative but may not
 * be stays at 0, and the others are the fit without it; a feature let
 * free is untouched.  Here feature 0 marks ham (3 of 100 spam), so its
 * free weight is negative.
 */
static void
test_signed(void **state)
{
	enum { N = 300 };
	size_t	 row[N + 1];
	uint32_t idx[2 * N];
	double	 y[N], w[3], wf[3], w1[2];
	size_t	 k = 0, k1 = 0;
	size_t	 row1[N + 1];
	uint32_t idx1[N];
	signed char sign[2] = { 1, 1 }, free2[2] = { 0, 1 };

	(void)state;
	for (size_t i = 0; i < N; i++) {
		bool	 f0 = i < 100, f1 = i % 3 == 0;

		row[i] = k;
		row1[i] = k1;
		if (f0)
			idx[k++] = 0;
		if (f1) {
			idx[k++] = 1;
			idx1[k1++] = 0;
		}
		y[i] = f0 ? i < 3 : (f1 ? i % 2 == 0 || i % 9 == 0 : i % 4 == 0);
	}
	row[N] = k;
	row1[N] = k1;
	struct lr_data x = { .n = N, .d = 2, .row = row, .idx = idx, .y = y };
	struct lr_data x1 = { .n = N, .d = 1, .row = row1, .idx = idx1,
	    .y = y };

	assert_true(lr_fit(&x, NULL, 0.5, wf) > 0);
	assert_true(wf[0] < 0);
	assert_true(lr_fit_signed(&x, NULL, 0.5, sign, w) > 1);
	assert_true(w[0] == 0.0);
	assert_true(lr_fit(&x1, NULL, 0.5, w1) > 0);
	assert_true(fabs(w[1] - w1[0]) < 1e-9 && fabs(w[2] - w1[1]) < 1e-9);
	/* Free: the same as the plain fit. */
	assert_true(lr_fit_signed(&x, NULL, 0.5, free2, w) == 1);
	for (size_t j = 0; j < 3; j++)
		assert_true(fabs(w[j] - wf[j]) < 1e-9);
}

/* The anchors share a logit between two neighbours, adding up to 1. */
static void
test_anchor_shares(void **state)
{
	double	 sh[BAYES_NANCHORS];

	(void)state;
	bayes_anchor_shares(-9.0, sh);
	assert_true(sh[0] == 1.0 && sh[1] == 0.0);
	bayes_anchor_shares(9.0, sh);
	assert_true(sh[BAYES_NANCHORS - 1] == 1.0);
	bayes_anchor_shares(0.75, sh);	/* half way NEUTRAL .. LEAN_SPAM */
	assert_true(fabs(sh[2] - 0.5) < 1e-12 && fabs(sh[3] - 0.5) < 1e-12);
	assert_string_equal(bayes_anchors[2].name, "BAYES_NEUTRAL");
	bayes_anchor_shares(NAN, sh);
	assert_true(sh[0] == 1.0);
	for (double l = -4; l <= 4; l += 0.3) {
		double	 sum = 0;

		bayes_anchor_shares(l, sh);
		for (size_t i = 0; i < BAYES_NANCHORS; i++)
			sum += sh[i];
		assert_true(fabs(sum - 1.0) < 1e-12);
	}
}

/*
 * Score sets: `score NAME a b c d` scores a message without a voting
 * Bayes store with a, one with it with c.  Here Bayes is off: the first
 * set, for the rule and for a finding of another check alike.
 */
static void
test_score_sets(void **state)
{
	char	 dir[] = "/tmp/vigil-scores-XXXXXX";
	char	 path[256], conf[512];
	const struct verdict *v;
	FILE	*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/10_t.rules", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "body T_WORD /zebracorn/\n"
	    "score T_WORD 1.5 1.5 4.0 4.0\n"
	    "score MISSING_DATE 0.25 0.25 2.0 2.0\n");
	fclose(f);
	snprintf(conf, sizeof(conf), "Checks headers, rules\nRulesDir %s\n",
	    dir);
	struct snap *s = t_snap(conf, NULL, 0);
	struct msg *m = t_scan(s, "From: a@example.org\nTo: b@example.net\n"
	    "Subject: x\nMessage-ID: <1@example.org>\n\nzebracorn\n", &v);

	assert_true(fabs(v->score - 1.75) < 1e-9);
	assert_int_equal(msg_score_set(m), SCORE_SET_PLAIN);
	/* The same hits in the Bayes set. */
	msg_use_score_set(m, SCORE_SET_BAYES);
	assert_true(fabs(msg_score(m) - 6.0) < 1e-9);
	assert_true(fabs(msg_score_in_set(m, SCORE_SET_PLAIN) - 1.75) < 1e-9);
	msg_end(&m);
	snap_unref(&s);
	unlink(path);
	rmdir(dir);
}

/*
 * Groups of findings that hit together.  A and B hit the same ten rows,
 * C nine of them and one more (Jaccard 9/11 with each), D half of them;
 * E and F hit the same rows but may not weigh the same way; G, H and I
 * a chain, each shifted one row from the last: G and H alike (9/11), H
 * and I alike, G and I not (8/12), so a complete-linkage group does not
 * take I in.
 */
enum { GA, GB, GC, GD, GE, GF, GG, GH, GI, GN };

static void
test_groups(void **state)
{
	enum { N = 50 };
	size_t	 row[N + 1], k = 0;
	uint32_t idx[N * GN], group[GN];
	signed char sign[GN] = { 1, 1, 1, 1, -1, 1, 1, 1, 1 };

	(void)state;
	for (size_t i = 0; i < N; i++) {
		row[i] = k;
		if (i < 10)
			idx[k++] = GA;
		if (i < 10)
			idx[k++] = GB;
		if (i < 9 || i == 10)
			idx[k++] = GC;
		if (i < 5)
			idx[k++] = GD;
		if (i >= 20 && i < 30) {
			idx[k++] = GE;
			idx[k++] = GF;
		}
		if (i >= 30 && i < 40)
			idx[k++] = GG;
		if (i >= 31 && i < 41)
			idx[k++] = GH;
		if (i >= 32 && i < 42)
			idx[k++] = GI;
	}
	row[N] = k;
	assert_int_equal(feature_groups(N, GN, row, idx, sign, 0.8, group), 6);
	assert_int_equal(group[GA], 0);
	assert_int_equal(group[GB], 0);
	assert_int_equal(group[GC], 0);
	assert_int_not_equal(group[GD], 0);
	assert_int_not_equal(group[GE], group[GF]);
	assert_int_equal(group[GG], group[GH]);
	assert_int_not_equal(group[GI], group[GG]);
	/* Identical hits only. */
	assert_int_equal(feature_groups(N, GN, row, idx, sign, 1.0, group), 8);
	assert_int_equal(group[GA], group[GB]);
	assert_int_not_equal(group[GA], group[GC]);
	/* Without signs, E and F are alike. */
	assert_int_equal(feature_groups(N, GN, row, idx, NULL, 1.0, group), 7);
	assert_int_equal(group[GE], group[GF]);
	/* Above 1: every finding alone, numbered by hits. */
	assert_int_equal(feature_groups(N, GN, row, idx, sign, 2.0, group), GN);
	assert_int_equal(group[GA], 0);
	assert_int_equal(group[GD], GN - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_form),
		cmocka_unit_test(test_optimum),
		cmocka_unit_test(test_use_mask),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_anchor_shares),
		cmocka_unit_test(test_score_sets),
		cmocka_unit_test(test_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
