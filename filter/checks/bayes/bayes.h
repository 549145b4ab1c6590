/*
 * bayes.h - the Bayesian classifier's parts, shared by the check
 * (bayes.c), the admin command (ctl_bayes.c) and the tests:
 *
 *   tokenizer  (bayes_tok.c)    message view -> set of 64-bit token hashes
 *   classifier (bayes_class.c)  token counts -> probability, SpamAssassin bands
 *   store      (bayes_store.c)  one interface over two backends:
 *              bayes_lmdb.c (default, BayesDir) and bayes_redis.c (BayesRedis)
 *
 * Nothing here talks to the MTA.  A store is opened once per snapshot and
 * is safe to use from several threads at once; every function that can
 * fail returns -1 with a malloc'd message in *err_r (caller frees).
 */
#ifndef VIGIL_BAYES_H
#define VIGIL_BAYES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct arena;
struct cfg;
struct mview;


/* ---- tokenizer ---- */

/* The top bit of a token's hash says it came from the headers. */
#define BAYES_TOK_HEADER	(1ULL << 63)

/* A set of distinct token hashes, sorted ascending. */
struct bayes_toks {
	uint64_t	*v;
	size_t		 n;
};

/* Tokenizer settings; the defaults are the measured best (tests and the
 * tuning bench may change them before tokenizing, never concurrently). */
struct bayes_tok_params {
	int		 window;	/* OSB: pair each word with up to N before */
	size_t		 text_max;	/* bytes of body text tokenized */
	size_t		 min_len;	/* shorter words skipped */
	size_t		 max_len;	/* longer words summarised */
	bool		 headers;	/* words of the headers */
	bool		 received;	/* words of Received: */
	bool		 shapes;	/* shapes of Message-ID, Date, From */
	bool		 received_ips;	/* /16 and /24 of Received: addresses */
};
extern struct bayes_tok_params bayes_tok_params;

/*
 * Tokenizes a parsed message: decoded text (HTML rendered) as words and
 * sparse bigrams, chosen headers prefixed by their name, URL hosts and
 * registrable domains, attachment names and types, HTML structure.
 * The result lives in arena a.
 */
void		 bayes_tokenize(struct arena *a, const struct mview *v,
		    struct bayes_toks *out_r);

/* A token's text as the tokenizer made it: "viagra" (body word),
 * "subject:free", "from:dom:example.org", "cheap pills" (a pair),
 * "mime:parts:1". */
struct bayes_tok_name {
	uint64_t	 hash;		/* as in bayes_toks (header bit too) */
	const char	*text;
	size_t		 order;		/* made as the order-th name */
};
struct bayes_tok_names {
	struct bayes_tok_name *v;	/* sorted by hash, distinct */
	size_t		 n;
};

/*
 * As bayes_tokenize(), and *names_r gets the text of every token (for
 * `vigilctl scan --explain`; slower, never on the milter's path).  Both
 * live in arena a.
 */
void		 bayes_tokenize_named(struct arena *a, const struct mview *v,
		    struct bayes_toks *out_r, struct bayes_tok_names *names_r);
/* The text of token hash, or NULL when names has none. */
const char	*bayes_tok_name_of(const struct bayes_tok_names *names,
		    uint64_t hash);

/*
 * Calls fn for every token of text as the body tokenizer sees it
 * (UTF-8 aware, case-folded), with the token's bytes; for tests and
 * `vigilctl bayes tokens`.
 */
void		 bayes_tok_words(const char *text, size_t len,
		    void (*fn)(void *arg, const char *tok, size_t len),
		    void *arg);

/* The hash of token text under a prefix ("" for body words), as a body
 * token (header tokens have BAYES_TOK_HEADER added). */
uint64_t	 bayes_tok_hash(const char *prefix, const char *tok, size_t len);

/* Sorts n token hashes ascending; tmp has room for n (radix sort).  spread:
 * 0 for distinct values, more (bits) for values repeated many times. */
void		 bayes_sort_u64(uint64_t *v, uint64_t *tmp, size_t n,
		    unsigned spread);

/* ---- classifier ---- */

enum bayes_class { BAYES_HAM = 0, BAYES_SPAM = 1 };

struct bayes_count {
	uint32_t	 spam;
	uint32_t	 ham;
};

struct bayes_totals {
	uint64_t	 nspam;		/* messages learned as spam */
	uint64_t	 nham;
	uint64_t	 ntokens;	/* distinct tokens stored */
	uint64_t	 bytes;		/* store size on disk or in memory */
	int64_t		 last_learn;	/* unix time, 0 = never */
};

struct bayes_params {
	double		 s;		/* Robinson's strength of the prior */
	double		 x;		/* prior spamminess of a rare token */
	double		 min_dev;	/* ignore tokens with |f - 0.5| below */
	size_t		 max_toks;	/* combine at most this many (each side) */
	double		 header_weight;	/* share of the headers' mean logit */
};
extern const struct bayes_params bayes_params_default;

/*
 * As bayes_classify(), with explicit parameters; *logit_r (if not NULL)
 * gets the mean logit of the tokens used (the probability's logit).
 */
double		 bayes_classify_ex(const struct bayes_params *,
		    const uint64_t *toks, const struct bayes_count *c,
		    size_t n, uint64_t nspam, uint64_t nham, double *logit_r);

/*
 * Combines the counts c[i] of the n tokens toks[i] (nspam/nham messages
 * learned) into the probability that the message is spam, in [0, 1].
 * toks may be NULL (every token counts as a body token).
 */
double		 bayes_classify(const uint64_t *toks,
		    const struct bayes_count *c, size_t n, uint64_t nspam,
		    uint64_t nham);

/* One token of a message, as it weighed in the classification. */
struct bayes_tok_why {
	size_t		 idx;		/* in toks[] */
	const char	*text;		/* NULL until named (bayes_explain) */
	double		 fw;		/* Robinson's f(w), its spam probability */
	uint32_t	 spam, ham;	/* messages of each class that had it */
	bool		 is_header;
};

/*
 * The at most max tokens of toks[0..n) that pushed the classification
 * hardest toward cls (those bayes_classify_ex() combines: |f(w) - 0.5| at
 * least min_dev), strongest first: f(w) descending toward spam,
 * ascending toward ham; ties go to the token seen in more messages, then
 * to the lower index.  Fills out_r[] and returns how many; 0 when the
 * store has not learned both classes.
 */
size_t		 bayes_strongest(const struct bayes_params *,
		    const uint64_t *toks, const struct bayes_count *c,
		    size_t n, uint64_t nspam, uint64_t nham,
		    enum bayes_class cls, size_t max,
		    struct bayes_tok_why *out_r);

/* The SpamAssassin band of probability p: "BAYES_00" ... "BAYES_99",
 * with its default score; BAYES_999 is added on top of BAYES_99. */
struct bayes_band {
	const char	*name;
	double		 lo, hi;	/* lo <= p < hi (hi of the last is 1.01) */
	double		 score;
};
extern const struct bayes_band bayes_bands[];
extern const size_t bayes_nbands;
const struct bayes_band *bayes_band_of(double p);

/*
 * Learned weights (vigilctl scores learn): Bayes's points are a
 * piecewise linear function of the classifier's mean logit, given at
 * five anchors, from confident ham to confident spam, each a `score`
 * name: BAYES_HAM (logit -3 and below), BAYES_LEAN_HAM (-1.5),
 * BAYES_NEUTRAL (0), BAYES_LEAN_SPAM (1.5), BAYES_SPAM (3 and above).
 * The learner and the check share these.
 */
#define BAYES_NANCHORS	5
struct bayes_anchor {
	const char	*name;
	double		 logit;
};
extern const struct bayes_anchor bayes_anchors[BAYES_NANCHORS];
/* Each anchor's share of a logit (they add up to 1; at most two are
 * non-zero): w_r[i] for bayes_anchors[i]. */
void		 bayes_anchor_shares(double logit, double w_r[BAYES_NANCHORS]);

/* ---- store ---- */

#define BAYES_DIGEST_LEN	16

/* One message to learn or forget. */
struct bayes_learn {
	unsigned char	 digest[BAYES_DIGEST_LEN];
	const uint64_t	*toks;
	size_t		 ntoks;
	enum bayes_class cls;
	bool		 forget;
	/* Result: what the store did. */
	enum {
		BAYES_LEARNED,		/* new message counted */
		BAYES_MOVED,		/* was learned as the other class */
		BAYES_ALREADY,		/* already learned as this class */
		BAYES_FORGOTTEN,	/* forget: removed */
		BAYES_UNKNOWN,		/* forget: was never learned */
	}		 result;
};

struct bayes_expire_stats {
	uint64_t	 scanned;
	uint64_t	 dropped;
	bool		 done;		/* wrapped around: a full pass ended */
};

struct bayes_store;

struct bayes_store_ops {
	const char	*name;
	/* counts_r[i] for toks[i]; tokens never seen count 0/0. */
	int		(*lookup)(struct bayes_store *, const uint64_t *toks,
			    size_t n, struct bayes_count *counts_r,
			    struct bayes_totals *tot_r, char **err_r);
	/* All items in one transaction; fills items[i].result. */
	int		(*learn)(struct bayes_store *, struct bayes_learn *items,
			    size_t n, char **err_r);
	int		(*totals)(struct bayes_store *, struct bayes_totals *,
			    char **err_r);
	/* Drops tokens seen at most max_count times whose last use is
	 * before cutoff (unix time); visits at most budget tokens from
	 * where the last call stopped. */
	int		(*expire)(struct bayes_store *, int64_t cutoff,
			    uint32_t max_count, uint64_t budget,
			    struct bayes_expire_stats *st_r, char **err_r);
	void		(*close)(struct bayes_store *);
};

struct bayes_store {
	const struct bayes_store_ops *ops;
	char		*where;		/* path or host:port, for messages */
};

struct bayes_store_cfg {
	const char	*dir;		/* LMDB folder (NULL: use redis) */
	uint64_t	 map_size;
	const char	*redis;		/* "host:port" or NULL */
	int		 redis_db;
	const char	*redis_prefix;
	uint64_t	 redis_timeout_ms;
	/* Create BayesDir's missing parents too (vigilctl bayes learn);
	 * the check creates the last folder only, so that a scan never
	 * builds a tree where the installation made none. */
	bool		 create_parents;
};

/* Opens the configured backend; NULL with *err_r on failure. */
struct bayes_store *bayes_store_open(const struct bayes_store_cfg *,
		    char **err_r);
struct bayes_store *bayes_lmdb_open(const struct bayes_store_cfg *,
		    char **err_r);
struct bayes_store *bayes_redis_open(const struct bayes_store_cfg *,
		    char **err_r);
/* LMDB lookups find buckets through a copy of the snapshot's bucket
 * index (default); tests set it false to use the B-tree. */
extern bool	 bayes_lmdb_use_index;
/* Closes and sets *sp to NULL; NULL-safe. */
void		 bayes_store_close(struct bayes_store **sp);
/* The store settings a configuration asks for (strings owned by c). */
void		 bayes_store_cfg_from(const struct cfg *c,
		    struct bayes_store_cfg *out_r);

/* ---- the check (bayes.c), for vigilctl ---- */

struct msg;

/* The digest that makes learning idempotent: Message-ID (or Date, From,
 * Subject) and body. */
void		 bayes_msg_digest(struct msg *m,
		    unsigned char out[BAYES_DIGEST_LEN]);
/* Tokenizes m and learns (or forgets) it; *result_r is a BAYES_* result. */
int		 bayes_learn_msg(struct bayes_store *, struct msg *m,
		    enum bayes_class cls, bool forget, int *result_r,
		    char **err_r);
/*
 * `vigilctl scan --explain`: m (scanned with snapshot msg_snap(m)) tokenized
 * again with the tokens' texts and looked up in the Bayes check's store;
 * the at most max strongest tokens each way, in m's arena.  -1 with
 * *err_r (malloc'd) when Bayes is off or its store cannot be read.
 */
struct bayes_explain {
	struct bayes_tok_why *spam;	/* toward spam, strongest first */
	size_t		 nspam;
	struct bayes_tok_why *ham;	/* toward ham, strongest first */
	size_t		 nham;
	size_t		 ntoks;		/* distinct tokens of the message */
	size_t		 nknown;	/* ... the store has seen */
	uint64_t	 learned_spam, learned_ham;	/* store totals */
	double		 p, logit;	/* bayes_classify_ex()'s */
};
int		 bayes_explain_msg(struct msg *m, size_t max,
		    struct bayes_explain *out_r, char **err_r);
/* `vigilctl scan --explain` (ctl_scan_bayes.c): bayes_explain_msg(m, max)
 * printed as text lines, or as a JSON object ({"error": why} when
 * there is none). */
void		 ctl_scan_bayes_human(struct msg *m, size_t max);
void		 ctl_scan_bayes_json(struct msg *m, size_t max);

/* "learned", "moved", "already", "forgotten", "unknown". */
const char	*bayes_result_name(int result);

/* ---- autolearn queue (bayes_learner.c) ---- */

/* A batch is learned when it holds this many messages, or when its
 * oldest one has waited this long (BayesAutolearnWait's default). */
#define BAYES_AL_BATCH_MAX	256
#define BAYES_AL_BATCH_MS	150
/* ...or, whichever comes first, this many tokens (at least one message):
 * LMDB keeps the pages of its largest write transaction on the heap. */
#define BAYES_AL_BATCH_TOKS	200000
/* How long closing a snapshot waits for its queue to drain. */
#define BAYES_AL_DRAIN_MS	10000

/* One message to autolearn; owned by the queue once pushed. */
struct bayes_al_item {
	unsigned char	 digest[BAYES_DIGEST_LEN];
	uint64_t	*toks;		/* malloc'd, sorted, distinct */
	size_t		 ntoks;
	enum bayes_class cls;
	double		 score;		/* for the log line */
	char		 sid[40];	/* session and queue id, for the log */
	char		 qid[40];
	int64_t		 queued_ms;	/* set by the queue (monotonic) */
};
void		 bayes_al_item_free(struct bayes_al_item *);

struct bayes_learner_stats {
	atomic_ulong	 spam, ham;	/* learned (any result) */
	atomic_ulong	 failed;	/* the store refused the batch */
	atomic_ulong	 dropped;	/* queue full, or shut down first */
	atomic_ulong	 batches;	/* learn calls that succeeded */
};

struct bayes_learner;
/* A queue of at most queue_max messages for store (which must outlive
 * the learner); its thread starts with the first item. */
struct bayes_learner *bayes_learner_new(struct bayes_store *store,
		    size_t queue_max);
/* How long the oldest queued message waits for others to join its
 * batch (BAYES_AL_BATCH_MS unless set). */
void		 bayes_learner_set_wait(struct bayes_learner *, uint64_t ms);
/* Queues it, or when the queue is full drops (frees) it, counts it and
 * returns false.  Never waits for the store. */
bool		 bayes_learner_push(struct bayes_learner *,
		    struct bayes_al_item *it);
/* Waits until everything queued so far is learned (or timeout_ms);
 * true when the queue is empty. */
bool		 bayes_learner_flush(struct bayes_learner *,
		    uint64_t timeout_ms);
/* Messages queued or being learned. */
size_t		 bayes_learner_queued(struct bayes_learner *);
const struct bayes_learner_stats *bayes_learner_stats(
		    const struct bayes_learner *);
/* Learns what is queued (for at most drain_ms, then drops the rest),
 * stops the thread and frees; *lp = NULL.  NULL-safe. */
void		 bayes_learner_free(struct bayes_learner **lp,
		    uint64_t drain_ms);
/* The autolearn queue of a snapshot's Bayes check (NULL: none). */
struct snap;
struct bayes_learner *bayes_snap_learner(const struct snap *);
/*
 * The spam probability the Bayes check will give m (its store looked up
 * once for both: the rules' check_bayes asks before the check runs);
 * false when it gives none (Bayes off or not in Checks, the store
 * unavailable, fewer messages learned than BayesMinSpam/BayesMinHam).
 */
struct msg;
bool		 bayes_msg_probability(struct msg *m, double *p_r);

/* `vigilctl bayes bench` (ctl_bayes_bench.c). */
struct ctl_opts;
int		 ctl_bayes_bench(const struct ctl_opts *, int argc, char **argv);

/* A malloc'd printf (error messages for *err_r, key names). */
char		*bayes_strf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* Days since the epoch, as stored with each token. */
uint32_t	 bayes_day(int64_t unix_time);

#endif
