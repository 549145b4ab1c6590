/*
 * ctl_scores.c - `vigilctl scores learn`: the points of every rule and
 * finding, learned from labelled mail, written as a rules file of
 * `score` lines that sorts after the rules it scores.
 *
 * Every message goes through the same checks as `vigilctl scan` (Bayes
 * and DNS off); what it hit is its row.  Bayes's say is a feature too:
 * its logit, with the message itself left out
 * of the counts, so each message is judged by a classifier that did not
 * learn from it, as new mail will be.  A logistic regression (logreg.h)
 * weighs the rows: it gives calibrated log-odds, the weights of rules
 * that hit together share the credit instead of adding up, and its
 * regularisation keeps a rule seen a few times near zero.  (The
 * perceptron SpamAssassin uses needs its learning rate and epochs tuned
 * and gives no log-odds.)  Held-out folds place the threshold where at
 * most --fp-target of ham would be tagged; the weights are then scaled
 * so that this threshold is TagScore.
 *
 * Bayes's say is given at five anchors of its logit (bayes.h), points
 * between them interpolated: the fit learns how much each degree of
 * confidence is worth instead of a fixed table of bands.
 *
 * Two models, SpamAssassin's score sets: with Bayes (set 2, the
 * `score NAME a b c d` line's third and fourth values) and without it
 * (first and second), the one a fresh install uses before Bayes has
 * learned enough.  On a fresh install the rules alone decide, with no
 * site Bayes to pull a commercial-looking ham back, so that set is fitted
 * for fewer false positives: its threshold sits above every held-out ham
 * (--fp-target-untrained, default 0), and each ham weighs more than a
 * spam in its fit (--ham-weight-untrained, chosen with lambda on the
 * folds), as SpamAssassin's perceptron prefers ham.  A fit with every
 * message weighed alike spends its weights on the bulk of the mail, far
 * from the threshold; the weighed one spends them on keeping the
 * spam-like ham down, which is where a fresh install's false positives
 * come from.
 *
 * Findings that fire on the same evidence (three rules for one link to
 * a bare IP address) may be fitted as one (groups.h); whether they are
 * is chosen on the folds with lambda and the ham weight
 * (--group-jaccard), as is every other choice of the fit: the corpus's
 * held-out messages decide, nothing else.  So is whether each score set
 * weighs the rules of each plugin block (`ifplugin`): one that says
 * again what the set already knows (MIME shape next to Bayes's MIME
 * tokens) can cost more on new mail than it brings.
 *
 * A set's weights are its folds' models averaged: the threshold was
 * placed on their held-out margins, and one model fitted on all the
 * mail would weigh each finding on more of it, at another scale.
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
#include "checks/rules/rules_check.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "scores/groups.h"
#include "scores/logreg.h"
#include "snap.h"
#include "verdict.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

static bool scores_verbose;

struct ex {
	char		*name;
	bool		 is_spam;
	unsigned	 fold;
	uint32_t	*hits;		/* indices into learn.names */
	size_t		 nhits;
	uint64_t	*toks;
	size_t		 ntoks;
	double		 logit;		/* Bayes, leave-one-out */
};

struct learn {
	struct snap	*snap;
	bool		 is_spam;
	unsigned	 folds;
	GPtrArray	*ex;
	GPtrArray	*names;		/* every finding seen */
	GHashTable	*name_idx;	/* name -> index + 1 */
	GArray		*name_n;	/* messages hitting each */
	GHashTable	*digests;
	uint64_t	 ndup;
};

/*
 * Findings that are not the message's own: DNS-based results the
 * offline run cannot give honestly (their configured scores stay),
 * Bayes (a feature of its own), an admin's policy, the state of a
 * check.
 */
static bool
is_feature(const char *name)
{
	static const char *const prefixes[] = {
		"BAYES_", "POLICY_", "SPF_", "DKIM_", "DMARC_", "AV_",
	};
	static const char *const suffixes[] = {
		"_TEMPERROR", "_UNAVAILABLE", "_NOT_READY",
	};
	size_t	 len = strlen(name);

	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		size_t	 sl = strlen(suffixes[i]);

		if (len > sl && strcmp(name + len - sl, suffixes[i]) == 0)
			return false;
	}
	return true;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Digests as hash keys (BAYES_DIGEST_LEN bytes). */
static guint
dg_hash(gconstpointer k)
{
	guint	 h;

	memcpy(&h, k, sizeof(h));
	return h;
}

static gboolean
dg_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, BAYES_DIGEST_LEN) == 0;
}

static int
learn_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct learn *l = arg;
	struct scan_env env = { 0 };
	const struct verdict *v;
	struct msg *m = scan_buffer(l->snap, &env, data, len, "scores", &v);
	unsigned char dg[BAYES_DIGEST_LEN];
	struct bayes_toks tk;
	struct ex *e;

	/* The same message twice counts once, as in the Bayes store. */
	bayes_msg_digest(m, dg);
	if (g_hash_table_contains(l->digests, dg)) {
		l->ndup++;
		msg_end(&m);
		return 0;
	}
	g_hash_table_add(l->digests, g_memdup2(dg, sizeof(dg)));
	e = g_new0(struct ex, 1);
	e->name = g_strdup(name);
	e->is_spam = l->is_spam;
	e->fold = (dg[0] | (unsigned)dg[1] << 8) % l->folds;
	e->hits = g_new(uint32_t, msg_hit_count(m) + 1);
	for (size_t i = 0; i < msg_hit_count(m); i++) {
		const char *hn = msg_hit(m, i)->name;
		guint idx;

		if (!is_feature(hn))
			continue;
		idx = GPOINTER_TO_UINT(g_hash_table_lookup(l->name_idx, hn));
		if (idx == 0) {
			g_ptr_array_add(l->names, g_strdup(hn));
			idx = l->names->len;
			g_hash_table_insert(l->name_idx,
			    l->names->pdata[idx - 1], GUINT_TO_POINTER(idx));
			g_array_append_val(l->name_n, (uint32_t){ 0 });
		}
		e->hits[e->nhits++] = idx - 1;
	}
	/* Once each (a rule may hit several times). */
	qsort(e->hits, e->nhits, sizeof(*e->hits), cmp_u32);
	size_t	 k = 0;
	for (size_t i = 0; i < e->nhits; i++)
		if (k == 0 || e->hits[k - 1] != e->hits[i])
			e->hits[k++] = e->hits[i];
	e->nhits = k;
	for (size_t i = 0; i < e->nhits; i++)
		g_array_index(l->name_n, uint32_t, e->hits[i])++;
	bayes_tokenize(msg_arena(m), msg_view(m), &tk);
	e->ntoks = tk.n;
	/* One more than n, so that a message without tokens has an array
	 * too; only the n the tokenizer made are copied. */
	e->toks = g_new0(uint64_t, tk.n + 1);
	if (tk.n > 0)
		memcpy(e->toks, tk.v, tk.n * sizeof(*tk.v));
	g_ptr_array_add(l->ex, e);
	msg_end(&m);
	return 0;
}

/*
 * The site's own verdicts: a quarantined message an admin released is
 * ham (a false positive), one still held as spam is spam.  Other held
 * mail (viruses, policy) says nothing about the score.
 */
static int
learn_quarantine(const struct ctl_opts *o, struct learn *l, GString *desc)
{
	struct cfg *c = ctl_cfg(o);
	struct qstore *q;
	const struct qentry **v;
	size_t	 n, nspam = 0, nham = 0;
	char	*err = NULL;
	int	 rc = 0;

	if (c == NULL)
		return EX_CONFIG;
	if (cfg_str(c, "QuarantineDir") == NULL ||
	    (q = quarantine_open(c, false, &err)) == NULL) {
		fprintf(stderr, "vigilctl scores: --from-quarantine: %s\n",
		    err != NULL ? err : "no QuarantineDir");
		free(err);
		cfg_unref(&c);
		return EX_NOINPUT;
	}
	if (!quarantine_list(q, NULL, &v, &n)) {
		fprintf(stderr, "vigilctl scores: --from-quarantine: %s\n",
		    quarantine_error(q));
		rc = EX_IOERR;
		n = 0;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const unsigned char *data;
		size_t	 len;
		char	*name;

		if (v[i]->released == 0 && strcmp(v[i]->reason, "spam") != 0)
			continue;
		if ((data = quarantine_read(q, v[i]->id, &len)) == NULL) {
			fprintf(stderr, "vigilctl scores: quarantine %s: %s\n",
			    v[i]->id, quarantine_error(q));
			continue;
		}
		l->is_spam = v[i]->released == 0;
		if (l->is_spam)
			nspam++;
		else
			nham++;
		name = g_strdup_printf("quarantine:%s", v[i]->id);
		rc = learn_one(l, name, data, len);
		g_free(name);
	}
	g_string_append_printf(desc, "%squarantine %zu spam, %zu released as "
	    "ham", desc->len ? ", " : "", nspam, nham);
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

/* ---- Bayes, leave-one-out ---- */

struct tokcount {
	uint64_t	 tok;
	uint32_t	 spam, ham;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_tc(const void *key, const void *elt)
{
	uint64_t x = *(const uint64_t *)key;
	uint64_t y = ((const struct tokcount *)elt)->tok;

	return x < y ? -1 : x > y;
}

/*
 * Each message's Bayes confidence, from the counts of every other
 * message: what a store that learned all the rest would say of it.
 */
static void
bayes_loo(struct learn *l)
{
	size_t	 total = 0, ntc = 0;
	uint64_t nspam = 0, nham = 0;

	for (guint i = 0; i < l->ex->len; i++) {
		struct ex *e = l->ex->pdata[i];

		total += e->ntoks;
		if (e->is_spam)
			nspam++;
		else
			nham++;
	}
	/* Every token with its class in the low bit, sorted and counted. */
	uint64_t *all = g_new(uint64_t, total + 1);
	size_t	 n = 0;
	for (guint i = 0; i < l->ex->len; i++) {
		struct ex *e = l->ex->pdata[i];

		for (size_t j = 0; j < e->ntoks; j++)
			all[n++] = e->toks[j];
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	struct tokcount *tc = g_new0(struct tokcount, n + 1);
	for (size_t i = 0; i < n; i++)
		if (ntc == 0 || tc[ntc - 1].tok != all[i])
			tc[ntc++].tok = all[i];
	g_free(all);
	for (guint i = 0; i < l->ex->len; i++) {
		struct ex *e = l->ex->pdata[i];

		for (size_t j = 0; j < e->ntoks; j++) {
			struct tokcount *t = bsearch(&e->toks[j], tc, ntc,
			    sizeof(*tc), cmp_tc);

			if (e->is_spam)
				t->spam++;
			else
				t->ham++;
		}
	}
	for (guint i = 0; i < l->ex->len; i++) {
		struct ex *e = l->ex->pdata[i];
		struct bayes_count *c = g_new(struct bayes_count, e->ntoks + 1);
		double	 logit = 0.0;

		for (size_t j = 0; j < e->ntoks; j++) {
			const struct tokcount *t = bsearch(&e->toks[j], tc,
			    ntc, sizeof(*tc), cmp_tc);

			c[j].spam = t->spam - (e->is_spam ? 1 : 0);
			c[j].ham = t->ham - (e->is_spam ? 0 : 1);
		}
		bayes_classify_ex(&bayes_params_default, e->toks, c, e->ntoks,
		    nspam - (e->is_spam ? 1 : 0), nham - (e->is_spam ? 0 : 1),
		    &logit);
		e->logit = logit;
		g_free(c);
	}
	g_free(tc);
}

/* ---- the fit ---- */

/*
 * The fit's columns: findings that fire on the same evidence
 * (groups.h) share one, each member worth 1/k of it.
 */
struct cols {
	uint32_t	*of;		/* each finding's column */
	double		*k;		/* each column's members */
	signed char	*sign;		/* each column's allowed sign, then
					 * Bayes's anchors' (free) */
	size_t		 n;		/* columns (without the anchors) */
	double		 jaccard;	/* the grouping's (> 1: none) */
};

struct model {
	bool		 with_bayes;
	const signed char *sign;	/* each finding's allowed sign */
	struct cols	 cols;		/* the fit's columns */
	size_t		 d;		/* columns, then Bayes's anchors */
	double		*w;		/* d + 1 */
	double		 threshold;	/* on the margin, from the folds */
	double		 scale;		/* points per unit of margin */
	double		 base;		/* Bayes: points at no confidence */
	double		 lambda;
	double		 ham_weight;	/* each ham's weight in the fit */
	unsigned	 cv_fp, cv_fn;	/* at the threshold, held out */
	unsigned	 cv_sel;	/* what the grid minimises */
	/* The plugin blocks whose rules the fit may leave out (each
	 * finding's fam: an index into fam_name, or -1), and those the
	 * folds left out (fam_out); skip: each finding left out. */
	const char *const *fam_name;
	const int	*fam;
	size_t		 nfam;
	bool		*fam_out;
	bool		*skip;
};

/*
 * The grid's criterion: the held-out spam let through summed over the
 * threshold at the target and the next SEL_RANKS - 1 ham above it, not
 * at the target alone.  At a target of one or no ham in two thousand,
 * which model lets fewest spam through turns on where a single ham
 * falls; the sum weighs the whole low false-positive end of the ranking.
 */
#define SEL_RANKS	5

/* Each ham row weighs w, each spam 1: x->cost, allocated once. */
static void
set_ham_weight(struct lr_data *x, double w)
{
	double	*c = (double *)x->cost;

	if (c == NULL) {
		c = g_new(double, x->n + 1);
		x->cost = c;
	}
	for (size_t i = 0; i < x->n; i++)
		c[i] = x->y[i] < 0.5 ? w : 1.0;
}

/*
 * The findings' hits (feat_of: each name's finding, UINT32_MAX for one
 * seen too rarely), the rows the groups are made from.
 */
static void
finding_rows(const struct learn *l, const uint32_t *feat_of, size_t **rowp,
    uint32_t **idxp)
{
	size_t	 cap = 0, k = 0;
	size_t	*row = g_new(size_t, l->ex->len + 1);

	for (guint i = 0; i < l->ex->len; i++)
		cap += ((struct ex *)l->ex->pdata[i])->nhits;
	uint32_t *idx = g_new(uint32_t, cap + 1);
	for (guint i = 0; i < l->ex->len; i++) {
		const struct ex *e = l->ex->pdata[i];

		row[i] = k;
		for (size_t j = 0; j < e->nhits; j++)
			if (feat_of[e->hits[j]] != UINT32_MAX)
				idx[k++] = feat_of[e->hits[j]];
	}
	row[l->ex->len] = k;
	*rowp = row;
	*idxp = idx;
}

/* The columns of the findings grouped at jaccard (> 1: one each). */
static void
make_cols(const struct learn *l, const size_t *frow, const uint32_t *fidx,
    size_t nfeat, const signed char *sign, double jaccard, struct cols *c)
{
	c->of = g_new(uint32_t, nfeat + 1);
	c->n = feature_groups(l->ex->len, nfeat, frow, fidx, sign, jaccard,
	    c->of);
	c->k = g_new0(double, c->n + 1);
	c->sign = g_new0(signed char, c->n + BAYES_NANCHORS);
	c->jaccard = jaccard;
	for (size_t j = 0; j < nfeat; j++) {
		c->k[c->of[j]] += 1.0;
		c->sign[c->of[j]] = sign[j];
	}
}

static void
free_cols(struct cols *c)
{
	g_free(c->of);
	g_free(c->k);
	g_free(c->sign);
	memset(c, 0, sizeof(*c));
}

/* The rows: every finding seen at least min_hits times, in its column,
 * then (with Bayes) the shares of its logit at the anchors. */
static void
build_rows(const struct learn *l, const uint32_t *feat_of,
    const struct cols *cols, bool with_bayes, const bool *skip,
    struct lr_data *x)
{
	size_t	 cap = 0, k = 0;
	size_t	*row = g_new(size_t, l->ex->len + 1);
	double	*y = g_new(double, l->ex->len + 1);

	for (guint i = 0; i < l->ex->len; i++)
		cap += ((struct ex *)l->ex->pdata[i])->nhits + BAYES_NANCHORS;
	uint32_t *idx = g_new(uint32_t, cap + 1);
	double	*val = g_new(double, cap + 1);
	for (guint i = 0; i < l->ex->len; i++) {
		const struct ex *e = l->ex->pdata[i];

		row[i] = k;
		y[i] = e->is_spam ? 1.0 : 0.0;
		for (size_t j = 0; j < e->nhits; j++) {
			uint32_t c;
			size_t	 q;

			if (feat_of[e->hits[j]] == UINT32_MAX ||
			    (skip != NULL && skip[feat_of[e->hits[j]]]))
				continue;
			c = cols->of[feat_of[e->hits[j]]];
			/* A group's members add up in its one entry. */
			for (q = row[i]; q < k && idx[q] != c; q++)
				;
			if (q == k) {
				idx[k] = c;
				val[k++] = 0.0;
			}
			val[q] += 1.0 / cols->k[c];
		}
		if (with_bayes) {
			double	 sh[BAYES_NANCHORS];

			bayes_anchor_shares(e->logit, sh);
			for (size_t q = 0; q < BAYES_NANCHORS; q++)
				if (sh[q] > 0) {
					idx[k] = (uint32_t)(cols->n + q);
					val[k++] = sh[q];
				}
		}
	}
	row[l->ex->len] = k;
	x->n = l->ex->len;
	x->d = cols->n + (with_bayes ? BAYES_NANCHORS : 0);
	x->row = row;
	x->idx = idx;
	x->val = val;
	x->y = y;
	x->cost = NULL;
	set_ham_weight(x, 1.0);
}

static void
free_rows(struct lr_data *x)
{
	g_free((void *)x->row);
	g_free((void *)x->idx);
	g_free((void *)x->val);
	g_free((void *)x->y);
	g_free((void *)x->cost);
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x > y ? -1 : x < y;
}

/*
 * Fits on each fold's complement, scores the fold, and places the
 * threshold above all but fp_target of the held-out ham (half way to
 * the next message above it); the held-out errors there in mo.  With
 * wavg, the folds' weights averaged there (x->d + 1).
 */
static int
cross_validate(const struct learn *l, const struct lr_data *x, double lambda,
    double fp_target, struct model *mo, double *wavg)
{
	size_t	 n = x->n, nham = 0, allowed;
	bool	*use = g_new(bool, n + 1);
	double	*z = g_new(double, n + 1), *hz = g_new(double, n + 1);
	double	*w = g_new(double, x->d + 1);
	int	 rc = 0;

	for (unsigned f = 0; f < l->folds && rc == 0; f++) {
		for (size_t i = 0; i < n; i++)
			use[i] = ((struct ex *)l->ex->pdata[i])->fold != f;
		if (lr_fit_signed(x, use, lambda, mo->cols.sign, w) < 0)
			rc = -1;
		for (size_t i = 0; i < n; i++)
			if (!use[i])
				z[i] = lr_margin(x, i, w);
		for (size_t j = 0; wavg != NULL && j <= x->d; j++)
			wavg[j] = (f ? wavg[j] : 0.0) + w[j] / l->folds;
	}
	for (size_t i = 0; i < n; i++)
		if (x->y[i] < 0.5)
			hz[nham++] = z[i];
	qsort(hz, nham, sizeof(*hz), cmp_desc);
	allowed = (size_t)floor(fp_target * (double)nham + 1e-9);
	if (nham == 0 || allowed >= nham)
		mo->threshold = nham ? hz[nham - 1] - 1.0 : 0.0;
	else {
		double	 above = INFINITY;

		for (size_t i = 0; i < n; i++)
			if (z[i] > hz[allowed] && z[i] < above)
				above = z[i];
		mo->threshold = isinf(above) ? hz[allowed] + 1.0 :
		    (hz[allowed] + above) / 2;
	}
	mo->cv_fp = mo->cv_fn = 0;
	for (size_t i = 0; i < n; i++) {
		bool	 says_spam = z[i] >= mo->threshold;

		if (x->y[i] < 0.5 && says_spam)
			mo->cv_fp++;
		else if (x->y[i] > 0.5 && !says_spam)
			mo->cv_fn++;
	}
	mo->cv_sel = 0;
	for (size_t k = allowed; k < allowed + SEL_RANKS && k < nham; k++)
		for (size_t i = 0; i < n; i++)
			if (x->y[i] > 0.5 && z[i] <= hz[k])
				mo->cv_sel++;
	mo->lambda = lambda;
	g_free(use);
	g_free(z);
	g_free(hz);
	g_free(w);
	return rc;
}

/*
 * The model: lambda and the ham weight as given, or (0) those of a small
 * grid with the fewest held-out false negatives near the target (cv_sel;
 * a tie goes
 * to the larger lambda, the simpler model, and the smaller ham weight);
 * then the fit on everything and the scale that makes the threshold
 * TagScore.
 */
static int
fit_model(const struct learn *l, const uint32_t *feat_of, size_t nfeat,
    double lambda, double ham_weight, double jaccard, double fp_target,
    double tag_score, struct model *mo)
{
	static const double grid[] = { 10, 3, 1, 0.3, 0.1 };
	static const double hw_grid[] = { 1, 3, 10, 30 };
	/* No groups, then findings that mostly hit together. */
	static const double jaccard_grid[] = { 2, 0.8 };
	size_t	 n = l->ex->len;
	size_t	 nl = lambda > 0 ? 1 : G_N_ELEMENTS(grid);
	size_t	 nw = ham_weight > 0 ? 1 : G_N_ELEMENTS(hw_grid);
	size_t	 nj = jaccard > 0 ? 1 : G_N_ELEMENTS(jaccard_grid);
	double	*hz = g_new(double, n + 1);
	struct model best = { 0 };
	struct lr_data xs, *x = &xs;
	size_t	*frow;
	uint32_t *fidx;
	int	 rc = 0;
	bool	 first = true;

	finding_rows(l, feat_of, &frow, &fidx);
	for (size_t jg = 0; jg < nj && rc == 0; jg++) {
		struct cols c;

		make_cols(l, frow, fidx, nfeat, mo->sign, jaccard > 0 ?
		    jaccard : jaccard_grid[jg], &c);
		build_rows(l, feat_of, &c, mo->with_bayes, NULL, x);
		for (size_t h = 0; h < nw && rc == 0; h++) {
			double	 hw = ham_weight > 0 ? ham_weight : hw_grid[h];

			set_ham_weight(x, hw);
			for (size_t g = 0; g < nl && rc == 0; g++) {
				struct model t = *mo;

				t.cols = c;
				rc = cross_validate(l, x, lambda > 0 ? lambda :
				    grid[g], fp_target, &t, NULL);
				t.ham_weight = hw;
				if (scores_verbose)
					fprintf(stderr, "vigilctl scores: %s "
					    "Bayes, lambda %g, ham weight %g, "
					    "%zu groups of %zu: held out FP %u "
					    "FN %u (sum %u)\n", mo->with_bayes ?
					    "with" : "without", t.lambda, hw,
					    c.n, nfeat, t.cv_fp, t.cv_fn,
					    t.cv_sel);
				if (first || t.cv_sel < best.cv_sel) {
					best = t;
					first = false;
				}
			}
		}
		free_rows(x);
		free_cols(&c);
	}
	*mo = best;
	/*
	 * Then each plugin block's rules, left out in turn at the chosen
	 * lambda, ham weight and groups: out for good when the folds do
	 * better without them.  (A block can carry what this model
	 * already has from elsewhere: with Bayes, MIMEEval's MIME shape
	 * rules say again what Bayes's MIME tokens say.)  Their weight is
	 * then 0 in this model, and they still run, for the metas and the
	 * other model.
	 */
	mo->skip = g_new0(bool, nfeat + 1);
	mo->fam_out = g_new0(bool, mo->nfam + 1);
	for (size_t f = 0; f < mo->nfam && rc == 0; f++) {
		struct model t = *mo;
		struct cols c;
		bool	*skip = g_new(bool, nfeat + 1);
		size_t	 nin = 0;

		for (size_t j = 0; j < nfeat; j++) {
			skip[j] = mo->skip[j] || mo->fam[j] == (int)f;
			nin += mo->fam[j] == (int)f;
		}
		if (nin == 0) {
			g_free(skip);
			continue;
		}
		make_cols(l, frow, fidx, nfeat, mo->sign, first ? 2.0 :
		    mo->cols.jaccard, &c);
		build_rows(l, feat_of, &c, mo->with_bayes, skip, x);
		set_ham_weight(x, mo->ham_weight);
		t.cols = c;
		rc = cross_validate(l, x, mo->lambda, fp_target, &t, NULL);
		if (scores_verbose)
			fprintf(stderr, "vigilctl scores: %s Bayes, without "
			    "%s's %zu: held out FP %u FN %u (sum %u)\n",
			    mo->with_bayes ? "with" : "without",
			    mo->fam_name[f], nin, t.cv_fp, t.cv_fn, t.cv_sel);
		free_rows(x);
		free_cols(&c);
		if (rc == 0 && t.cv_sel < mo->cv_sel) {
			mo->cv_fp = t.cv_fp;
			mo->cv_fn = t.cv_fn;
			mo->cv_sel = t.cv_sel;
			mo->threshold = t.threshold;
			mo->fam_out[f] = true;
			g_free(mo->skip);
			mo->skip = skip;
		} else
			g_free(skip);
	}
	make_cols(l, frow, fidx, nfeat, mo->sign, first ? 2.0 :
	    mo->cols.jaccard, &mo->cols);
	build_rows(l, feat_of, &mo->cols, mo->with_bayes, mo->skip, x);
	g_free(frow);
	g_free(fidx);
	set_ham_weight(x, mo->ham_weight);
	lambda = mo->lambda;
	mo->d = x->d;
	mo->w = g_new0(double, x->d + 1);
	/*
	 * The weights: the folds' models averaged.  The threshold comes
	 * from their held-out margins; a model fitted on everything would
	 * weigh each finding on more mail than they did, with margins of
	 * another scale than the one the threshold was placed on.
	 */
	if (rc == 0 && cross_validate(l, x, lambda, fp_target, mo, mo->w) < 0)
		rc = -1;
	if (rc == 0 && mo->with_bayes) {
		/*
		 * Every message Bayes votes on has one Bayes finding, which
		 * carries the intercept: the score is scale * (margin -
		 * threshold) + TagScore, and the scale puts the typical ham
		 * (the median's margin) at 0.
		 */
		size_t	 k = 0;

		for (size_t i = 0; i < n; i++)
			if (x->y[i] < 0.5)
				hz[k++] = lr_margin(x, i, mo->w);
		qsort(hz, k, sizeof(*hz), cmp_desc);
		if (mo->threshold - hz[k / 2] <= 0) {
			fprintf(stderr, "vigilctl scores: the typical ham is "
			    "spam at this threshold: too little ham?\n");
			rc = -1;
		} else {
			mo->scale = tag_score / (mo->threshold - hz[k / 2]);
			mo->base = tag_score + mo->scale * (mo->w[x->d] -
			    mo->threshold);
		}
	} else if (rc == 0) {
		/* No finding, no points: the intercept is 0 points and the
		 * threshold TagScore. */
		if (mo->threshold - mo->w[x->d] <= 0) {
			fprintf(stderr, "vigilctl scores: a message with no "
			    "findings would be spam at this threshold: too "
			    "little ham?\n");
			rc = -1;
		} else
			mo->scale = tag_score / (mo->threshold - mo->w[x->d]);
	}
	free_rows(x);
	g_free(hz);
	return rc;
}

/* Finding j's points: its share of its column's weight, three decimals
 * as SpamAssassin writes them, never exactly 0 (0 would switch the rule
 * off). */
static double
points(const struct model *mo, size_t j)
{
	uint32_t c = mo->cols.of[j];
	double	 p = round(mo->w[c] / mo->cols.k[c] * mo->scale * 1000.0) /
	    1000.0;

	if (p == 0.0)
		p = mo->w[c] < 0 ? -0.001 : 0.001;
	/* Within what a score line may say (RULES_SCORE_MAX). */
	return p > 999.0 ? 999.0 : p < -999.0 ? -999.0 : p;
}

struct change {
	const char	*name;
	double		 old, new;
};

static int
cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	double	 dx = fabs(x->new - x->old), dy = fabs(y->new - y->old);

	return dx > dy ? -1 : dx < dy ? 1 : strcmp(x->name, y->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
write_scores(FILE *out, const struct learn *l, const char *const *feat,
    size_t nfeat, const struct model *plain, const struct model *bayes,
    double fp_target, double fp_untrained, unsigned min_hits,
    const char *sources)
{
	size_t	 nspam = 0, nham = 0;
	time_t	 now = time(NULL);
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char	 date[32];
	struct change *ch = g_new(struct change, nfeat + 1);
	GString	*grp = g_string_new(NULL);
	const struct model *mods[] = { bayes, plain };

	if (sde != NULL)
		now = (time_t)strtoll(sde, NULL, 10);
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
	for (guint i = 0; i < l->ex->len; i++)
		if (((struct ex *)l->ex->pdata[i])->is_spam)
			nspam++;
		else
			nham++;
	/* The groups (their first member hits most), for each model. */
	for (size_t m = 0; m < G_N_ELEMENTS(mods); m++) {
		const struct cols *c = &mods[m]->cols;

		g_string_append_printf(grp, "# Groups weighed as one (%s "
		    "Bayes): ", m == 0 ? "with" : "without");
		if (c->n == nfeat) {
			g_string_append(grp, "none\n");
			continue;
		}
		g_string_append_printf(grp, "findings hitting together "
		    "(Jaccard >= %g):", c->jaccard);
		for (size_t g = 0; g < c->n; g++) {
			bool	 firstm = true;

			if (c->k[g] < 2)
				continue;
			for (size_t j = 0; j < nfeat; j++)
				if (c->of[j] == g) {
					g_string_append_printf(grp, "%s%s",
					    firstm ? "\n#   " : " ", feat[j]);
					firstm = false;
				}
		}
		g_string_append(grp, "\n");
	}
	for (size_t m = 0; m < G_N_ELEMENTS(mods); m++) {
		size_t	 nout = 0;

		g_string_append_printf(grp, "# Plugin blocks left out (%s "
		    "Bayes): ", m == 0 ? "with" : "without");
		for (size_t f = 0; f < mods[m]->nfam; f++)
			if (mods[m]->fam_out != NULL && mods[m]->fam_out[f])
				g_string_append_printf(grp, "%s%s", nout++ ?
				    ", " : "", mods[m]->fam_name[f]);
		g_string_append(grp, nout ? "\n" : "none\n");
	}
	fprintf(out, "# Scores learned by `vigilctl scores learn` on %s.\n"
	    "# Corpus: %zu spam, %zu ham (%s); %llu duplicates skipped.\n"
	    "# Model: logistic regression, L2 lambda %g (with Bayes) and %g "
	    "(without,\n# each ham weighing %g spam), %u folds, findings seen "
	    "in at least %u messages;\n# Bayes left-one-out.\n%s# Threshold: "
	    "TagScore at %.3g %% of held-out ham (%.3g %% without Bayes).\n",
	    date, nspam, nham, sources, (unsigned long long)l->ndup,
	    bayes->lambda, plain->lambda, plain->ham_weight, l->folds,
	    min_hits, grp->str, fp_target * 100, fp_untrained * 100);
	g_string_free(grp, TRUE);
	fprintf(out, "# Held out, with Bayes:    FP %.2f %% (%u), FN %.2f %% "
	    "(%u)\n", nham ? 100.0 * bayes->cv_fp / nham : 0, bayes->cv_fp,
	    nspam ? 100.0 * bayes->cv_fn / nspam : 0, bayes->cv_fn);
	fprintf(out, "# Held out, without Bayes: FP %.2f %% (%u), FN %.2f %% "
	    "(%u)\n", nham ? 100.0 * plain->cv_fp / nham : 0, plain->cv_fp,
	    nspam ? 100.0 * plain->cv_fn / nspam : 0, plain->cv_fn);
	for (size_t j = 0; j < nfeat; j++) {
		ch[j].name = feat[j];
		ch[j].old = snap_score(l->snap, feat[j], 1.0);
		ch[j].new = points(bayes, j);
	}
	qsort(ch, nfeat, sizeof(*ch), cmp_change);
	fprintf(out, "# Largest changes (with Bayes): ");
	size_t	 nch = 0;
	for (size_t j = 0; j < nfeat && nch < 8; j++)
		if (fabs(ch[j].new - ch[j].old) >= 0.0005)
			fprintf(out, "%s%s %.3g -> %.3g", nch++ ? ", " : "",
			    ch[j].name, ch[j].old, ch[j].new);
	if (nch == 0)
		fprintf(out, "none");
	fprintf(out, "\n#\n# score NAME without-Bayes (x2) with-Bayes (x2): "
	    "SpamAssassin's score sets.\n");
	g_free(ch);
	/* Bayes's points at its anchors: the intercept rides on them (their
	 * shares add up to 1). */
	for (size_t q = 0; q < BAYES_NANCHORS; q++) {
		double	 p = round((bayes->base + bayes->scale *
		    bayes->w[bayes->cols.n + q]) * 1000) / 1000 + 0.0; /* no -0 */

		fprintf(out, "score %s 0 0 %.3f %.3f\n",
		    bayes_anchors[q].name, p, p);
	}
	for (size_t j = 0; j < nfeat; j++)
		fprintf(out, "score %s %.3f %.3f %.3f %.3f\n", feat[j],
		    points(plain, j), points(plain, j), points(bayes, j),
		    points(bayes, j));
}

/* Help to stdout (--help), the usage lines to stderr (a mistake). */
static void
usage_learn(FILE *f)
{
	if (f == stdout)
		ctl_help_command("scores", f);
	else
		ctl_help_usage("scores", f);
}

/* A usage error after the lists were made: freed, EX_USAGE. */
static int
usage_free(GPtrArray *srcs, GString *desc)
{
	g_ptr_array_free(srcs, TRUE);
	g_string_free(desc, TRUE);
	return EX_USAGE;
}

static int
scores_learn(const struct ctl_opts *o0, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "spam", required_argument, NULL, 's' },
		{ "ham", required_argument, NULL, 'h' },
		{ "spam-list", required_argument, NULL, 'S' },
		{ "ham-list", required_argument, NULL, 'H' },
		{ "fp-target", required_argument, NULL, 'f' },
		{ "fp-target-untrained", required_argument, NULL, 'u' },
		{ "lambda", required_argument, NULL, 'l' },
		{ "ham-weight-untrained", required_argument, NULL, 'w' },
		{ "group-jaccard", required_argument, NULL, 'g' },
		{ "folds", required_argument, NULL, 'k' },
		{ "min-hits", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, 'D' },
		{ "from-quarantine", no_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = *o0;
	struct learn l = { .folds = 10 };
	double	 fp_target = 0.001, lambda = 0.0;	/* 0: chosen */
	double	 fp_untrained = 0;	/* above every held-out ham */
	double	 ham_weight = 0;	/* untrained set's; 0: chosen */
	double	 jaccard = 0;		/* 0: chosen, > 1: no groups */
	unsigned min_hits = 3;
	const char *out_path = NULL, *source = NULL;
	/* "sPATH", "HLIST", "Q": where the mail comes from, and its class */
	GPtrArray *srcs = g_ptr_array_new_with_free_func(g_free);
	GString	*desc = g_string_new(NULL);
	char	*zone = NULL;
	int	 ch, rc = 0;

	if (ctl_wants_help(argc, argv, argc)) {
		usage_learn(stdout);
		(void)usage_free(srcs, desc);
		return 0;
	}
	optind = 0;	/* a full restart: GNU getopt permutes again */
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		char	*end;

		switch (ch) {
		case 's': case 'h': case 'S': case 'H':
			g_ptr_array_add(srcs, g_strdup_printf("%c%s", ch,
			    optarg));
			break;
		case 'f': case 'u': {
			double	 v = strtod(optarg, &end) / 100.0;

			if (*end == '%')
				end++;
			if (*end != '\0' || !(v >= 0 && v < 1)) {
				fprintf(stderr, "vigilctl scores: --%s: "
				    "a percentage, e.g. 0.1%%\n", ch == 'f' ?
				    "fp-target" : "fp-target-untrained");
				return usage_free(srcs, desc);
			}
			*(ch == 'f' ? &fp_target : &fp_untrained) = v;
			break;
		}
		case 'l':
			lambda = strcmp(optarg, "auto") == 0 ? 0.0 :
			    strtod(optarg, &end);
			if (lambda != 0.0 && (*end != '\0' ||
			    !(lambda > 0 && lambda < 1e6))) {
				fprintf(stderr, "vigilctl scores: --lambda: a "
				    "positive number or auto\n");
				return usage_free(srcs, desc);
			}
			break;
		case 'w':
			ham_weight = strcmp(optarg, "auto") == 0 ? 0.0 :
			    strtod(optarg, &end);
			if (ham_weight != 0.0 && (*end != '\0' ||
			    !(ham_weight >= 1 && ham_weight <= 1000))) {
				fprintf(stderr, "vigilctl scores: "
				    "--ham-weight-untrained: 1 to 1000 or auto\n");
				return usage_free(srcs, desc);
			}
			break;
		case 'g':
			jaccard = strcmp(optarg, "auto") == 0 ? 0.0 :
			    strcmp(optarg, "none") == 0 ? 2.0 :
			    strtod(optarg, &end);
			if (jaccard != 0.0 && jaccard != 2.0 && (*end != '\0' ||
			    !(jaccard > 0 && jaccard <= 1))) {
				fprintf(stderr, "vigilctl scores: "
				    "--group-jaccard: above 0 to 1, none or "
				    "auto\n");
				return usage_free(srcs, desc);
			}
			break;
		case 'k':
			l.folds = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || l.folds < 2 || l.folds > 100) {
				fprintf(stderr, "vigilctl scores: --folds: 2 "
				    "to 100\n");
				return usage_free(srcs, desc);
			}
			break;
		case 'm':
			min_hits = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || min_hits < 1) {
				fprintf(stderr, "vigilctl scores: --min-hits: "
				    "at least 1\n");
				return usage_free(srcs, desc);
			}
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'D':
			source = optarg;
			break;
		case 'Q':
			g_ptr_array_add(srcs, g_strdup("Q"));
			break;
		case 'v':
			scores_verbose = true;
			break;
		default:
			usage_learn(stderr);
			return usage_free(srcs, desc);
		}
	}
	if (optind < argc || srcs->len == 0) {
		usage_learn(stderr);
		return usage_free(srcs, desc);
	}

	/*
	 * The checks as `scan` runs them, without Bayes (a feature of its
	 * own) and without DNS (an empty zone: answers the corpus's mail
	 * no longer has would be noise).
	 */
	char	 ztmp[] = "/tmp/vigil-scores-XXXXXX";
	int	 zfd = mkstemp(ztmp);
	if (zfd < 0) {
		fprintf(stderr, "vigilctl scores: %s: %s\n", ztmp,
		    strerror(errno));
		(void)usage_free(srcs, desc);
		return EX_CANTCREAT;
	}
	close(zfd);
	zone = g_strdup_printf("DNSZoneFile=%s", ztmp);
	const char **ov = g_new(const char *, o.noverrides + 3);
	for (size_t i = 0; i < o.noverrides; i++)
		ov[i] = o.overrides[i];
	ov[o.noverrides] = "BayesEnable=no";
	ov[o.noverrides + 1] = zone;
	o.overrides = ov;
	o.noverrides += 2;
	l.snap = ctl_snap(&o);
	unlink(ztmp);
	if (l.snap == NULL) {
		g_free(ov);
		g_free(zone);
		(void)usage_free(srcs, desc);
		return EX_CONFIG;
	}
	l.ex = g_ptr_array_new();
	l.names = g_ptr_array_new_with_free_func(g_free);
	l.name_idx = g_hash_table_new(g_str_hash, g_str_equal);
	l.name_n = g_array_new(FALSE, TRUE, sizeof(uint32_t));
	l.digests = g_hash_table_new_full(dg_hash, dg_equal, g_free, NULL);
	unsigned nerrors = 0;
	for (guint i = 0; i < srcs->len && rc == 0; i++) {
		const char *sp = srcs->pdata[i];

		l.is_spam = sp[0] == 's' || sp[0] == 'S';
		if (sp[0] == 'Q') {
			rc = learn_quarantine(o0, &l, desc);
			continue;
		}
		if (sp[0] == 'S' || sp[0] == 'H')
			rc = ctl_read_list("vigilctl scores", sp + 1,
			    learn_one, &l, &nerrors);
		else
			rc = ctl_read_messages("vigilctl scores", sp + 1,
			    learn_one, &l, &nerrors);
		g_string_append_printf(desc, "%s%s %s", desc->len ? ", " : "",
		    l.is_spam ? "spam" : "ham", sp + 1);
	}
	if (rc == 0 && nerrors > 0)
		rc = EX_NOINPUT;

	size_t	 nspam = 0, nham = 0;
	for (guint i = 0; i < l.ex->len; i++)
		if (((struct ex *)l.ex->pdata[i])->is_spam)
			nspam++;
		else
			nham++;
	if (rc == 0 && (nspam < l.folds || nham < l.folds)) {
		fprintf(stderr, "vigilctl scores: %zu spam and %zu ham: too "
		    "few to learn from\n", nspam, nham);
		rc = EX_DATAERR;
	}
	if (rc == 0) {
		/* Features: findings seen often enough, by name. */
		uint32_t *feat_of = g_new(uint32_t, l.names->len + 1);
		const char **feat = g_new(const char *, l.names->len + 1);
		size_t	 nfeat = 0;
		struct model mp = { .with_bayes = false };
		struct model mb = { .with_bayes = true };
		double	 tag = snap_core(l.snap)->tag_score;

		for (guint i = 0; i < l.names->len; i++)
			if (g_array_index(l.name_n, uint32_t, i) >= min_hits)
				feat[nfeat++] = l.names->pdata[i];
		qsort(feat, nfeat, sizeof(*feat), cmp_str);
		for (guint i = 0; i < l.names->len; i++)
			feat_of[i] = UINT32_MAX;
		for (size_t j = 0; j < nfeat; j++)
			feat_of[GPOINTER_TO_UINT(g_hash_table_lookup(
			    l.name_idx, feat[j])) - 1] = (uint32_t)j;
		/*
		 * SpamAssassin's convention, which keeps a corpus's quirks
		 * out of the points: a rule counts for spam (>= 0) unless its
		 * tflags say nice (<= 0).  Bayes's anchors are free.
		 */
		const void *rst = snap_state(l.snap, &check_rules);
		const struct rules_set *rs = rst ? rules_state_set(rst) : NULL;
		signed char *sign = g_new0(signed char, nfeat + BAYES_NANCHORS);
		for (size_t j = 0; j < nfeat; j++) {
			const struct rule *r = rs ? rules_find(rs, feat[j]) : NULL;

			sign[j] = r != NULL && (r->tflags & TF_NICE) ? -1 : 1;
		}
		mp.sign = mb.sign = sign;
		/* Each finding's plugin block, if a rule in one. */
		int	*fam = g_new(int, nfeat + 1);
		GPtrArray *fam_name = g_ptr_array_new();
		for (size_t j = 0; j < nfeat; j++) {
			const struct rule *r = rs ? rules_find(rs, feat[j]) :
			    NULL;

			fam[j] = -1;
			if (r == NULL || r->plugin == NULL)
				continue;
			for (guint f = 0; f < fam_name->len; f++)
				if (strcmp(fam_name->pdata[f], r->plugin) == 0)
					fam[j] = (int)f;
			if (fam[j] < 0) {
				fam[j] = (int)fam_name->len;
				g_ptr_array_add(fam_name, (void *)r->plugin);
			}
		}
		mp.fam = mb.fam = fam;
		mp.fam_name = mb.fam_name =
		    (const char *const *)fam_name->pdata;
		mp.nfam = mb.nfam = fam_name->len;
		fprintf(stderr, "vigilctl scores: %zu spam, %zu ham, %llu "
		    "duplicates; %zu findings, %zu seen in at least %u\n",
		    nspam, nham, (unsigned long long)l.ndup, (size_t)l.names->len,
		    nfeat, min_hits);
		bayes_loo(&l);
		if (fit_model(&l, feat_of, nfeat, lambda, ham_weight, jaccard,
		    fp_untrained, tag, &mp) < 0 ||
		    fit_model(&l, feat_of, nfeat, lambda, 1.0, jaccard,
		    fp_target, tag, &mb) < 0)
			rc = EX_SOFTWARE;
		else {
			FILE	*out = out_path != NULL ? fopen(out_path, "w") :
			    stdout;

			if (out == NULL) {
				fprintf(stderr, "vigilctl scores: %s: %s\n",
				    out_path, strerror(errno));
				rc = EX_CANTCREAT;
			} else {
				write_scores(out, &l, feat, nfeat, &mp, &mb,
				    fp_target, fp_untrained, min_hits,
				    source != NULL ?
				    source : desc->str);
				if ((out != stdout ? fclose(out) :
				    fflush(out)) != 0) {
					fprintf(stderr, "vigilctl scores: "
					    "write: %s\n", strerror(errno));
					rc = EX_IOERR;
				}
			}
			fprintf(stderr, "vigilctl scores: held out: with Bayes "
			    "FP %u FN %u, without FP %u FN %u\n", mb.cv_fp,
			    mb.cv_fn, mp.cv_fp, mp.cv_fn);
		}
		g_free(mp.w);
		g_free(mb.w);
		g_free(sign);
		g_free(fam);
		g_ptr_array_free(fam_name, TRUE);
		g_free(mp.skip);
		g_free(mb.skip);
		g_free(mp.fam_out);
		g_free(mb.fam_out);
		free_cols(&mp.cols);
		free_cols(&mb.cols);
		g_free(feat);
		g_free(feat_of);
	}
	for (guint i = 0; i < l.ex->len; i++) {
		struct ex *e = l.ex->pdata[i];

		g_free(e->name);
		g_free(e->hits);
		g_free(e->toks);
		g_free(e);
	}
	g_ptr_array_free(l.ex, TRUE);
	g_hash_table_destroy(l.name_idx);
	g_ptr_array_free(l.names, TRUE);
	g_array_free(l.name_n, TRUE);
	g_hash_table_destroy(l.digests);
	g_ptr_array_free(srcs, TRUE);
	g_string_free(desc, TRUE);
	snap_unref(&l.snap);
	g_free(ov);
	g_free(zone);
	return rc;
}

/* Removes a folder of links that weights_dir() made. */
static void
rm_weights_dir(char *dir)
{
	GDir	*d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			char	*p = g_build_filename(dir, name, NULL);

			unlink(p);
			g_free(p);
		}
		g_dir_close(d);
	}
	rmdir(dir);
	g_free(dir);
}

/* ---- diff ---- */

/*
 * A folder of links to every rules file of RulesDir, then the weights
 * file as zz_scores.rules, sorting after them: the rules as configured,
 * weighed by that file.  Returns the folder (caller removes it), NULL
 * with the error printed.
 */
static char *
weights_dir(const char *rules_dir, const char *weights)
{
	char	*dir = g_strdup("/tmp/vigil-scores-diff-XXXXXX");
	char	*abs = NULL, *link;
	GDir	*d;
	const char *name;

	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "vigilctl scores diff: %s: %s\n", dir,
		    strerror(errno));
		g_free(dir);
		return NULL;
	}
	if ((d = g_dir_open(rules_dir, 0, NULL)) != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			char	*src;

			if (!g_str_has_suffix(name, ".rules") &&
			    !g_str_has_suffix(name, ".cf"))
				continue;
			src = g_build_filename(rules_dir, name, NULL);
			if (!g_path_is_absolute(src)) {
				char	*cwd = g_get_current_dir();
				char	*t = g_build_filename(cwd, src, NULL);

				g_free(cwd);
				g_free(src);
				src = t;
			}
			link = g_build_filename(dir, name, NULL);
			if (symlink(src, link) == -1)
				fprintf(stderr, "vigilctl scores diff: %s: %s\n",
				    link, strerror(errno));
			g_free(link);
			g_free(src);
		}
		g_dir_close(d);
	}
	if (g_path_is_absolute(weights))
		abs = g_strdup(weights);
	else {
		char	*cwd = g_get_current_dir();

		abs = g_build_filename(cwd, weights, NULL);
		g_free(cwd);
	}
	link = g_build_filename(dir, "zz_scores.rules", NULL);
	if (access(abs, R_OK) == -1 || symlink(abs, link) == -1) {
		fprintf(stderr, "vigilctl scores diff: %s: %s\n", weights,
		    strerror(errno));
		g_free(link);
		g_free(abs);
		rm_weights_dir(dir);
		return NULL;
	}
	g_free(link);
	g_free(abs);
	return dir;
}

struct diff {
	struct snap	*old, *new;
	int		 label;		/* 1 spam, 0 ham, -1 unlabelled */
	unsigned	 n[2];		/* by label */
	unsigned	 fp[2], fn[2];	/* [0] old, [1] new */
	unsigned	 flips, nmsgs;
};

static int
diff_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct diff *df = arg;
	struct scan_env env = { 0 };
	const struct verdict *vo, *vn;
	struct msg *mo = scan_buffer(df->old, &env, data, len, "diff", &vo);
	struct msg *mn = scan_buffer(df->new, &env, data, len, "diff", &vn);
	bool	 so = vo->action != ACTION_ACCEPT;
	bool	 sn = vn->action != ACTION_ACCEPT;

	df->nmsgs++;
	if (df->label >= 0) {
		df->n[df->label]++;
		if (df->label == 0) {
			df->fp[0] += so;
			df->fp[1] += sn;
		} else {
			df->fn[0] += !so;
			df->fn[1] += !sn;
		}
	}
	if (vo->action != vn->action) {
		df->flips++;
		printf("%s%s: %s %.1f -> %s %.1f\n", df->label == 1 ?
		    "spam " : df->label == 0 ? "ham  " : "", name,
		    action_name(vo->action), vo->score,
		    action_name(vn->action), vn->score);
	}
	msg_end(&mo);
	msg_end(&mn);
	return 0;
}

static int
scores_diff(const struct ctl_opts *o0, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "spam", required_argument, NULL, 's' },
		{ "ham", required_argument, NULL, 'h' },
		{ "spam-list", required_argument, NULL, 'S' },
		{ "ham-list", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = *o0;
	struct diff df = { 0 };
	GPtrArray *srcs = g_ptr_array_new_with_free_func(g_free);
	struct cfg *c;
	char	*rules_dir, *dir_old = NULL, *dir_new = NULL;
	char	*ov_old = NULL, *ov_new = NULL;
	unsigned nerrors = 0;
	int	 ch, rc = 0;

	if (ctl_wants_help(argc, argv, argc)) {
		usage_learn(stdout);
		return 0;
	}
	optind = 0;	/* a full restart: GNU getopt permutes again */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': case 'h': case 'S': case 'H':
			g_ptr_array_add(srcs, g_strdup_printf("%c%s", ch,
			    optarg));
			break;
		default:
			usage_learn(stderr);
			g_ptr_array_free(srcs, TRUE);
			return EX_USAGE;
		}
	}
	if (argc - optind < 2 || (argc - optind == 2 && srcs->len == 0)) {
		usage_learn(stderr);
		g_ptr_array_free(srcs, TRUE);
		return EX_USAGE;
	}
	for (int i = optind + 2; i < argc; i++)
		g_ptr_array_add(srcs, g_strdup_printf("u%s", argv[i]));
	if ((c = ctl_cfg(&o)) == NULL) {
		g_ptr_array_free(srcs, TRUE);
		return EX_CONFIG;
	}
	rules_dir = g_strdup(cfg_str(c, "RulesDir"));
	cfg_unref(&c);
	if ((dir_old = weights_dir(rules_dir, argv[optind])) == NULL ||
	    (dir_new = weights_dir(rules_dir, argv[optind + 1])) == NULL) {
		rc = EX_NOINPUT;
		goto out;
	}
	/* Both see the same Bayes store; neither learns. */
	const char **ov = g_new(const char *, o.noverrides + 3);
	for (size_t i = 0; i < o.noverrides; i++)
		ov[i] = o.overrides[i];
	ov[o.noverrides] = "BayesAutolearn=no";
	o.overrides = ov;
	o.noverrides += 2;
	ov_old = g_strdup_printf("RulesDir=%s", dir_old);
	ov_new = g_strdup_printf("RulesDir=%s", dir_new);
	ov[o.noverrides - 1] = ov_old;
	df.old = ctl_snap(&o);
	ov[o.noverrides - 1] = ov_new;
	df.new = df.old != NULL ? ctl_snap(&o) : NULL;
	g_free(ov);
	if (df.old == NULL || df.new == NULL) {
		rc = EX_CONFIG;
		goto out;
	}
	for (guint i = 0; i < srcs->len && rc == 0; i++) {
		const char *sp = srcs->pdata[i];

		df.label = sp[0] == 'u' ? -1 : sp[0] == 's' || sp[0] == 'S';
		if (sp[0] == 'S' || sp[0] == 'H')
			rc = ctl_read_list("vigilctl scores diff", sp + 1,
			    diff_one, &df, &nerrors);
		else
			rc = ctl_read_messages("vigilctl scores diff", sp + 1,
			    diff_one, &df, &nerrors);
	}
	printf("%u messages, %u change their action\n", df.nmsgs, df.flips);
	if (df.n[0] > 0)
		printf("ham:  %u, false positives %u (%.2f %%) -> %u (%.2f %%)\n",
		    df.n[0], df.fp[0], 100.0 * df.fp[0] / df.n[0], df.fp[1],
		    100.0 * df.fp[1] / df.n[0]);
	if (df.n[1] > 0)
		printf("spam: %u, false negatives %u (%.2f %%) -> %u (%.2f %%)\n",
		    df.n[1], df.fn[0], 100.0 * df.fn[0] / df.n[1], df.fn[1],
		    100.0 * df.fn[1] / df.n[1]);
	if (rc == 0 && nerrors > 0)
		rc = EX_NOINPUT;
out:
	if (df.old != NULL)
		snap_unref(&df.old);
	if (df.new != NULL)
		snap_unref(&df.new);
	if (dir_old != NULL)
		rm_weights_dir(dir_old);
	if (dir_new != NULL)
		rm_weights_dir(dir_new);
	g_free(ov_old);
	g_free(ov_new);
	g_free(rules_dir);
	g_ptr_array_free(srcs, TRUE);
	return rc;
}

int
ctl_scores(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "learn") == 0)
		return scores_learn(o, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "diff") == 0)
		return scores_diff(o, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage_learn(stdout);
		return 0;
	}
	usage_learn(stderr);
	return EX_USAGE;
}
