/*
 * bayes.c - the Bayes check: at end of message it tokenizes the parsed
 * view, looks the tokens up in the store, adds one SpamAssassin-style
 * BAYES_xx finding and the "bayes" field for `vigilctl scan --json`, and
 * for live mail learns from messages the other checks scored clearly
 * (autolearn).  It runs last (registry.c) so that msg_score() is the score
 * of everything but Bayes.
 *
 * Autolearn never waits for the store: the message's tokens and digest go
 * to a bounded queue (BayesAutolearnQueue) that one thread per snapshot
 * learns in batches (bayes_learner.c); a full queue drops the message
 * from learning (bayes.autolearn.dropped).  Tearing the snapshot down
 * drains the queue before the store closes.
 *
 * A store that cannot be reached never costs mail: the message is scanned
 * without Bayes and BAYES_UNAVAILABLE (0 points) says why.
 */
#include "config.h"

#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cfg.h"
#include "check.h"
#include "checks/bayes/bayes.h"
#include "lib/log.h"
#include "msg.h"
#include "snap.h"

const struct opt bayes_opts[] = {
	{ "BayesEnable", OPT_BOOL, "yes", 0, 0, NULL,
	  "Classify messages with the Bayes token store" },
	{ "BayesDir", OPT_PATH, LOCALSTATEDIR "/lib/vigil/bayes", 0, 0, NULL,
	  "Folder of the LMDB token store (when BayesRedis is not set)" },
	{ "BayesMapSize", OPT_SIZE, "1g", 1 << 20, 1ULL << 40, NULL,
	  "Largest size the LMDB token store may grow to" },
	{ "BayesRedis", OPT_STRING, NULL, 0, 0, NULL,
	  "host:port of a Redis server holding the tokens (shared by MX hosts)" },
	{ "BayesRedisDatabase", OPT_INT, "0", 0, 1000, NULL,
	  "Redis database number for the tokens" },
	{ "BayesRedisPrefix", OPT_STRING, "vigil:bayes:", 0, 0, NULL,
	  "Prefix of the Redis keys (use {braces} for Redis Cluster)" },
	{ "BayesRedisTimeout", OPT_DURATION, "500ms", 10, 60000, NULL,
	  "Connect and reply timeout for Redis" },
	{ "BayesMinSpam", OPT_INT, "200", 0, 1e9, NULL,
	  "Spam messages to learn before Bayes scores anything" },
	{ "BayesMinHam", OPT_INT, "200", 0, 1e9, NULL,
	  "Ham messages to learn before Bayes scores anything" },
	{ "BayesSpamThreshold", OPT_DOUBLE, "0.5", 0, 1, NULL,
	  "Probability from which `vigilctl bayes classify` says spam" },
	{ "BayesAutolearn", OPT_BOOL, "yes", 0, 0, NULL,
	  "Learn from live mail that the other checks scored clearly" },
	{ "BayesAutolearnQueue", OPT_INT, "512", 1, 1000000, NULL,
	  "Messages waiting to be autolearned; when full, more are not "
	  "learned (bayes.autolearn.dropped)" },
	{ "BayesAutolearnWait", OPT_DURATION, "150ms", 0, 3600000, NULL,
	  "How long a message queued for autolearn waits for others to "
	  "share its store transaction; stopping the daemon learns what is "
	  "queued first" },
	{ "AutolearnSpamScore", OPT_DOUBLE, "12", -1000, 1000, NULL,
	  "Learn as spam at or above this score (without Bayes's points)" },
	{ "AutolearnHamScore", OPT_DOUBLE, "0.1", -1000, 1000, NULL,
	  "Learn as ham at or below this score (without Bayes's points)" },
	{ "BayesExpireAge", OPT_DURATION, "60d", 86400000.0, 3650 * 86400000.0,
	  NULL, "`vigilctl bayes expire` drops rare tokens unused this long" },
	{ "BayesExpireMaxCount", OPT_INT, "1", 0, 1000, NULL,
	  "Rare: seen at most this many times in all" },
	{ "BayesExpireBatch", OPT_INT, "100000", 100, 1e9, NULL,
	  "Tokens visited by one `vigilctl bayes expire` run (LMDB: whole "
	  "buckets)" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

extern const struct check check_bayes;

struct bayes_state {
	struct bayes_store *store;	/* NULL: disabled or open_error */
	char		*open_error;	/* why the LMDB store could not open */
	uint64_t	 min_spam, min_ham;
	bool		 is_autolearn;
	double		 al_spam, al_ham;
	/* Autolearn's queue and thread (NULL: no store or autolearn off). */
	struct bayes_learner *learner;
	atomic_ulong	 n_classified, n_not_ready, n_unavailable;
};

static void *
bayes_setup(struct snap *s, const char **err_r)
{
	static _Thread_local char errbuf[512];
	const struct cfg *c = snap_cfg(s);
	struct bayes_state *st;
	struct bayes_store_cfg sc;
	char	*err = NULL;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "bayes");
	if (!cfg_bool(c, "BayesEnable"))
		return st;	/* no store: run() skips */
	bayes_store_cfg_from(c, &sc);
	if ((st->store = bayes_store_open(&sc, &err)) == NULL) {
		if (sc.redis != NULL) {
			/* A malformed BayesRedis: a configuration error. */
			snprintf(errbuf, sizeof(errbuf), "%s", err);
			free(err);
			free(st);
			*err_r = errbuf;
			return NULL;
		}
		/*
		 * The store's folder is missing or not ours: mail is still
		 * scanned, without Bayes, and every message says why
		 * (BAYES_UNAVAILABLE), as when Redis is down.
		 */
		log_sys(LOG_WARNING, "check=bayes store unavailable: %s", err);
		st->open_error = err;
	}
	st->min_spam = (uint64_t)cfg_int(c, "BayesMinSpam");
	st->min_ham = (uint64_t)cfg_int(c, "BayesMinHam");
	st->is_autolearn = cfg_bool(c, "BayesAutolearn");
	st->al_spam = cfg_double(c, "AutolearnSpamScore");
	st->al_ham = cfg_double(c, "AutolearnHamScore");
	if (st->store != NULL && st->is_autolearn) {
		st->learner = bayes_learner_new(st->store,
		    (size_t)cfg_int(c, "BayesAutolearnQueue"));
		bayes_learner_set_wait(st->learner,
		    cfg_duration_ms(c, "BayesAutolearnWait"));
	}
	return st;
}

static void
bayes_teardown(void *arg)
{
	struct bayes_state *st = arg;

	if (st == NULL)
		return;
	/* The last message of this snapshot has ended: learn what it
	 * queued, then close the store. */
	bayes_learner_free(&st->learner, BAYES_AL_DRAIN_MS);
	bayes_store_close(&st->store);
	free(st->open_error);
	free(st);
}

void
bayes_msg_digest(struct msg *m, unsigned char out[BAYES_DIGEST_LEN])
{
	XXH3_state_t *xs = XXH3_createState();
	const char *mid = msg_hdr_raw(m, "Message-ID");
	const unsigned char *body;
	size_t	 blen;

	/*
	 * Message-ID and body: the same message learned from a file, from
	 * a mailbox or from the milter (which sees more Received lines)
	 * has the same digest.  Without a Message-ID, Date, From and
	 * Subject stand in.
	 */
	if (xs == NULL)
		log_oom(sizeof(*xs), "bayes");
	XXH3_128bits_reset(xs);
	if (mid != NULL)
		XXH3_128bits_update(xs, mid, strlen(mid));
	else {
		static const char *const hs[] = { "Date", "From", "Subject" };

		for (size_t i = 0; i < 3; i++) {
			const char *v = msg_hdr_raw(m, hs[i]);

			if (v != NULL)
				XXH3_128bits_update(xs, v, strlen(v) + 1);
		}
	}
	body = msg_body(m, &blen);
	if (body != NULL)
		XXH3_128bits_update(xs, body, blen);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(xs));
	XXH3_freeState(xs);
	memcpy(out, c.digest, BAYES_DIGEST_LEN);
}

int
bayes_learn_msg(struct bayes_store *store, struct msg *m,
    enum bayes_class cls, bool forget, int *result_r, char **err_r)
{
	struct bayes_toks tk;
	struct bayes_learn it = { .cls = cls, .forget = forget };

	bayes_tokenize(msg_arena(m), msg_view(m), &tk);
	bayes_msg_digest(m, it.digest);
	it.toks = tk.v;
	it.ntoks = tk.n;
	if (store->ops->learn(store, &it, 1, err_r) == -1)
		return -1;
	*result_r = it.result;
	return 0;
}

struct bayes_learner *
bayes_snap_learner(const struct snap *s)
{
	const struct bayes_state *st = snap_state(s, &check_bayes);

	return st != NULL ? st->learner : NULL;
}

/*
 * Queues live mail that everything but Bayes scored clearly for learning
 * (tk: its tokens, in the message's arena).  The learner thread learns it
 * with others in one store transaction and logs the result.
 */
static void
bayes_autolearn(struct bayes_state *st, struct msg *m, double score,
    const struct bayes_toks *tk)
{
	struct bayes_al_item *it;
	enum bayes_class cls;

	if (st->learner == NULL || !msg_is_live(m))
		return;
	if (msg_failure_count(m) > 0 || msg_forced_action(m, NULL, NULL,
	    NULL, NULL) >= 0)
		return;	/* a check failed or decided: the score is not all */
	if (score >= st->al_spam)
		cls = BAYES_SPAM;
	else if (score <= st->al_ham)
		cls = BAYES_HAM;
	else
		return;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		log_oom(sizeof(*it), "bayes");
	it->ntoks = tk->n;
	if ((it->toks = malloc((tk->n + 1) * sizeof(*it->toks))) == NULL)
		log_oom((tk->n + 1) * sizeof(*it->toks), "bayes");
	if (tk->n > 0)
		memcpy(it->toks, tk->v, tk->n * sizeof(*it->toks));
	bayes_msg_digest(m, it->digest);
	it->cls = cls;
	it->score = score;
	snprintf(it->sid, sizeof(it->sid), "%s", msg_session_id(m));
	snprintf(it->qid, sizeof(it->qid), "%s", msg_queue_id(m));
	if (!bayes_learner_push(st->learner, it))
		log_msg(LOG_WARNING, m, "check=bayes autolearn=%s score=%.1f "
		    "result=dropped why=\"queue full (BayesAutolearnQueue)\"",
		    cls == BAYES_SPAM ? "spam" : "ham", score);
}

/* scan's bayes_state of a store still learning: how far it is. */
static void
set_learning(struct msg *m, const struct bayes_state *st,
    const struct bayes_totals *tot)
{
	msg_set_field(m, "bayes_state", arena_printf(msg_arena(m),
	    "\"learning, %llu/%llu spam, %llu/%llu ham\"",
	    (unsigned long long)tot->nspam, (unsigned long long)st->min_spam,
	    (unsigned long long)tot->nham, (unsigned long long)st->min_ham));
}

/* One message's tokens and their counts in the store, looked up once
 * whoever asks first (the rules' check_bayes, or bayes_run). */
struct bayes_look {
	struct bayes_toks	 tk;
	struct bayes_count	*counts;
	struct bayes_totals	 tot;
	const char		*err;	/* the store's error, or NULL */
};

static struct bayes_look *
bayes_look(struct bayes_state *st, struct msg *m)
{
	void	**slot = msg_slot(m, &check_bayes);
	struct bayes_look *lk = *slot;
	char	*err = NULL;

	if (lk != NULL)
		return lk;
	lk = arena_alloc(msg_arena(m), sizeof(*lk));
	memset(lk, 0, sizeof(*lk));
	bayes_tokenize(msg_arena(m), msg_view(m), &lk->tk);
	lk->counts = arena_alloc(msg_arena(m), (lk->tk.n + 1) *
	    sizeof(*lk->counts));
	if (st->store->ops->lookup(st->store, lk->tk.v, lk->tk.n, lk->counts,
	    &lk->tot, &err) == -1) {
		lk->err = arena_strdup(msg_arena(m), err != NULL ? err :
		    "store lookup failed");
		free(err);
	}
	*slot = lk;
	return lk;
}

bool
bayes_msg_probability(struct msg *m, double *p_r)
{
	struct bayes_state *st = snap_state(msg_snap(m), &check_bayes);
	struct bayes_look *lk;

	if (st == NULL || st->store == NULL)
		return false;
	lk = bayes_look(st, m);
	if (lk->err != NULL || lk->tot.nspam < st->min_spam ||
	    lk->tot.nham < st->min_ham || lk->tot.nspam == 0 ||
	    lk->tot.nham == 0)
		return false;
	*p_r = bayes_classify(lk->tk.v, lk->counts, lk->tk.n, lk->tot.nspam,
	    lk->tot.nham);
	return true;
}

static enum check_rc
bayes_run(void *arg, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct bayes_state *st = arg;
	struct bayes_look *lk;
	struct bayes_toks tk;
	struct bayes_count *counts;
	struct bayes_totals tot;
	const struct bayes_band *b;
	/* Autolearn decides on the score without Bayes, in the set made
	 * for that (SpamAssassin's way). */
	double	 p, score = msg_score_in_set(m, SCORE_SET_PLAIN);

	if (st->store == NULL) {
		msg_set_field(m, "bayes", "null");
		if (st->open_error != NULL) {
			atomic_fetch_add(&st->n_unavailable, 1);
			msg_add_hit(m, "BAYES_UNAVAILABLE", 0, "%s",
			    st->open_error);
			return CHECK_DONE;
		}
		*why_r = "BayesEnable is off";
		return CHECK_SKIP;
	}
	lk = bayes_look(st, m);
	tk = lk->tk;
	counts = lk->counts;
	tot = lk->tot;
	if (lk->err != NULL) {
		atomic_fetch_add(&st->n_unavailable, 1);
		msg_add_hit(m, "BAYES_UNAVAILABLE", 0, "%s", lk->err);
		log_msg(LOG_WARNING, m, "check=bayes result=unavailable "
		    "why=\"%s\"", lk->err);
		msg_set_field(m, "bayes", "null");
		return CHECK_DONE;
	}
	/* The store as this verdict saw it: messages learned per class. */
	msg_set_version(m, SNAP_V_BAYES, arena_printf(msg_arena(m),
	    "%llu/%llu", (unsigned long long)tot.nspam,
	    (unsigned long long)tot.nham));
	double	 anchor_pts[BAYES_NANCHORS];
	bool	 is_mature = tot.nspam >= st->min_spam && tot.nham >= st->min_ham;
	bool	 is_weighted = true;

	for (size_t i = 0; i < BAYES_NANCHORS && is_weighted; i++) {
		const double *w = snap_score_sets(msg_snap(m),
		    bayes_anchors[i].name);

		if (w == NULL)
			is_weighted = false;
		else
			anchor_pts[i] = w[SCORE_SET_BAYES];
	}
	if (is_weighted && tot.nspam > 0 && tot.nham > 0) {
		/*
		 * Learned weights: the points follow the mean logit between
		 * the anchors.  An immature store adds only what its logit
		 * says beyond BAYES_NEUTRAL (no opinion), times its maturity
		 * squared (half way there: a quarter), on top of the score
		 * set made for rules without Bayes.
		 */
		double	 logit, sh[BAYES_NANCHORS], pts = 0.0;
		size_t	 lo = BAYES_NANCHORS, hi = 0;

		p = bayes_classify_ex(&bayes_params_default, tk.v, counts,
		    tk.n, tot.nspam, tot.nham, &logit);
		bayes_anchor_shares(logit, sh);
		for (size_t i = 0; i < BAYES_NANCHORS; i++) {
			pts += sh[i] * anchor_pts[i];
			if (sh[i] > 0 && lo == BAYES_NANCHORS)
				lo = i;
			if (sh[i] > 0)
				hi = i;
		}
		b = bayes_band_of(p);
		atomic_fetch_add(&st->n_classified, 1);
		if (is_mature) {
			msg_set_bayes_votes(m, true);
			msg_add_hit_scored(m, b->name, pts, lo == hi ?
			    arena_printf(msg_arena(m), "P=%.4f, logit %.2f: "
			    "%s %.2f", p, logit, bayes_anchors[lo].name,
			    anchor_pts[lo]) : arena_printf(msg_arena(m),
			    "P=%.4f, logit %.2f: between %s %.2f and %s %.2f",
			    p, logit, bayes_anchors[lo].name, anchor_pts[lo],
			    bayes_anchors[hi].name, anchor_pts[hi]));
			msg_set_field(m, "bayes_state", "\"voting\"");
		} else {
			double	 ms = st->min_spam ? (double)tot.nspam /
			    (double)st->min_spam : 1.0;
			double	 mh = st->min_ham ? (double)tot.nham /
			    (double)st->min_ham : 1.0;
			double	 mat = ms < mh ? ms : mh;

			pts = (pts - anchor_pts[2]) * mat * mat;
			msg_add_hit_scored(m, b->name, pts,
			    arena_printf(msg_arena(m), "P=%.4f, logit %.2f, "
			    "learning: %llu/%llu spam, %llu/%llu ham, votes at "
			    "%.0f %%", p, logit, (unsigned long long)tot.nspam,
			    (unsigned long long)st->min_spam,
			    (unsigned long long)tot.nham,
			    (unsigned long long)st->min_ham, 100 * mat * mat));
			set_learning(m, st, &tot);
		}
		msg_set_field(m, "bayes", arena_printf(msg_arena(m), "%.4f",
		    p));
	} else if (!is_mature) {
		atomic_fetch_add(&st->n_not_ready, 1);
		msg_add_hit(m, "BAYES_NOT_READY", 0,
		    "learned %llu spam and %llu ham of %llu and %llu",
		    (unsigned long long)tot.nspam,
		    (unsigned long long)tot.nham,
		    (unsigned long long)st->min_spam,
		    (unsigned long long)st->min_ham);
		msg_set_field(m, "bayes", "null");
		set_learning(m, st, &tot);
	} else {
		/* No learned weights: SpamAssassin's bands. */
		atomic_fetch_add(&st->n_classified, 1);
		msg_set_bayes_votes(m, true);
		p = bayes_classify(tk.v, counts, tk.n, tot.nspam, tot.nham);
		b = bayes_band_of(p);
		msg_add_hit(m, b->name, b->score, "P=%.4f", p);
		if (p >= bayes_bands[bayes_nbands - 1].lo)
			msg_add_hit(m, bayes_bands[bayes_nbands - 1].name,
			    bayes_bands[bayes_nbands - 1].score, "P=%.4f", p);
		msg_set_field(m, "bayes", arena_printf(msg_arena(m), "%.4f",
		    p));
		msg_set_field(m, "bayes_state", "\"voting\"");
	}
	bayes_autolearn(st, m, score, &tk);
	return CHECK_DONE;
}

/*
 * Not on the milter's path: bayes_run() tokenizes without texts; this
 * tokenizes again, with them, when an admin asks why.
 */
int
bayes_explain_msg(struct msg *m, size_t max, struct bayes_explain *out_r,
    char **err_r)
{
	const struct bayes_state *st = snap_state(msg_snap(m), &check_bayes);
	struct arena *a = msg_arena(m);
	struct bayes_toks tk;
	struct bayes_tok_names names;
	struct bayes_count *counts;
	struct bayes_totals tot;

	memset(out_r, 0, sizeof(*out_r));
	if (st == NULL || st->store == NULL) {
		*err_r = bayes_strf("Bayes is off: %s", st != NULL &&
		    st->open_error != NULL ? st->open_error :
		    "BayesEnable no, or not in Checks");
		return -1;
	}
	bayes_tokenize_named(a, msg_view(m), &tk, &names);
	counts = arena_alloc(a, (tk.n + 1) * sizeof(*counts));
	if (st->store->ops->lookup(st->store, tk.v, tk.n, counts, &tot,
	    err_r) == -1)
		return -1;
	out_r->ntoks = tk.n;
	for (size_t i = 0; i < tk.n; i++)
		if (counts[i].spam + counts[i].ham > 0)
			out_r->nknown++;
	out_r->learned_spam = tot.nspam;
	out_r->learned_ham = tot.nham;
	out_r->p = bayes_classify_ex(&bayes_params_default, tk.v, counts,
	    tk.n, tot.nspam, tot.nham, &out_r->logit);
	out_r->spam = arena_alloc(a, (max + 1) * sizeof(*out_r->spam));
	out_r->ham = arena_alloc(a, (max + 1) * sizeof(*out_r->ham));
	out_r->nspam = bayes_strongest(&bayes_params_default, tk.v, counts,
	    tk.n, tot.nspam, tot.nham, BAYES_SPAM, max, out_r->spam);
	out_r->nham = bayes_strongest(&bayes_params_default, tk.v, counts,
	    tk.n, tot.nspam, tot.nham, BAYES_HAM, max, out_r->ham);
	for (size_t i = 0; i < out_r->nspam; i++)
		out_r->spam[i].text = bayes_tok_name_of(&names,
		    tk.v[out_r->spam[i].idx]);
	for (size_t i = 0; i < out_r->nham; i++)
		out_r->ham[i].text = bayes_tok_name_of(&names,
		    tk.v[out_r->ham[i].idx]);
	return 0;
}

/* "learning, 37/200 spam, 12/200 ham", "voting, ..." or why it is off. */
static void
bayes_status(void *arg, char *buf, size_t bufsz)
{
	struct bayes_state *st = arg;
	struct bayes_totals tot;
	char	*err = NULL;

	if (st->store == NULL) {
		snprintf(buf, bufsz, "off: %s", st->open_error != NULL ?
		    st->open_error : "BayesEnable no");
		return;
	}
	if (st->store->ops->totals(st->store, &tot, &err) == -1) {
		snprintf(buf, bufsz, "on: store unreadable: %s", err);
		free(err);
		return;
	}
	if (tot.nspam >= st->min_spam && tot.nham >= st->min_ham)
		snprintf(buf, bufsz, "on: voting, %llu spam, %llu ham learned",
		    (unsigned long long)tot.nspam, (unsigned long long)tot.nham);
	else
		snprintf(buf, bufsz, "on: learning, %llu/%llu spam, %llu/%llu "
		    "ham", (unsigned long long)tot.nspam,
		    (unsigned long long)st->min_spam,
		    (unsigned long long)tot.nham,
		    (unsigned long long)st->min_ham);
}

static void
bayes_stats(void *arg, FILE *out)
{
	struct bayes_state *st = arg;
	static const struct bayes_learner_stats none;
	const struct bayes_learner_stats *ls = st->learner != NULL ?
	    bayes_learner_stats(st->learner) : &none;

	fprintf(out, "bayes.classified %lu\n", atomic_load(&st->n_classified));
	fprintf(out, "bayes.not_ready %lu\n", atomic_load(&st->n_not_ready));
	fprintf(out, "bayes.unavailable %lu\n",
	    atomic_load(&st->n_unavailable));
	fprintf(out, "bayes.autolearn.spam %lu\n", atomic_load(&ls->spam));
	fprintf(out, "bayes.autolearn.ham %lu\n", atomic_load(&ls->ham));
	fprintf(out, "bayes.autolearn.failed %lu\n", atomic_load(&ls->failed));
	fprintf(out, "bayes.autolearn.dropped %lu\n",
	    atomic_load(&ls->dropped));
	fprintf(out, "bayes.autolearn.batches %lu\n",
	    atomic_load(&ls->batches));
	fprintf(out, "bayes.autolearn.queued %zu\n", st->learner != NULL ?
	    bayes_learner_queued(st->learner) : 0);
	if (st->store != NULL) {
		struct bayes_totals tot;
		char	*err = NULL;

		/* Read when asked (a scrape), never per message. */
		if (st->store->ops->totals(st->store, &tot, &err) != 0) {
			log_sys(LOG_WARNING, "check=bayes stats: %s: %s",
			    st->store->where, err ? err : "totals failed");
			free(err);
			return;
		}
		fprintf(out, "version.bayes %llu/%llu\n",
		    (unsigned long long)tot.nspam, (unsigned long long)tot.nham);
		fprintf(out, "bayes.ready %d\n", tot.nspam >= st->min_spam &&
		    tot.nham >= st->min_ham);
		fprintf(out, "bayes.learned.spam %llu\n",
		    (unsigned long long)tot.nspam);
		fprintf(out, "bayes.learned.ham %llu\n",
		    (unsigned long long)tot.nham);
		fprintf(out, "bayes.store.tokens %llu\n",
		    (unsigned long long)tot.ntokens);
		fprintf(out, "bayes.store.bytes %llu\n",
		    (unsigned long long)tot.bytes);
		fprintf(out, "bayes.store.last_learn %lld\n",
		    (long long)tot.last_learn);
	}
}

const struct check check_bayes = {
	.name = "bayes",
	.phases = PHASE_EOM,
	.is_content = 1,
	.setup = bayes_setup,
	.run = bayes_run,
	.teardown = bayes_teardown,
	.stats = bayes_stats,
	.status = bayes_status,
};
