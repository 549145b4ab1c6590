/*
 * bayes_lmdb.c - the Bayes token store in LMDB (the default backend).
 *
 * One environment in BayesDir with three databases:
 *   tokb  buckets of tokens: the highest token hash a bucket covers
 *         (integer key) -> the lowest it covers and a hash table of up to
 *         BK_SLOTS tokens (hash, then spam, ham and last-use day packed
 *         in 64 bits), one page in all
 *   msg   message digest -> class (1 byte): what was learned, for idempotence
 *   meta  "nspam", "nham", "ntok", "last", "xpos" -> u64
 *
 * Why buckets and not one B-tree entry a token: a message has about 700
 * tokens, spread at random over the store, and a B-tree search ends in a
 * binary search of a cold leaf page (7 or 8 cache misses a token).  The
 * bucket index is small enough to stay in the cache, and a token's slot
 * in its bucket is computed, so a lookup costs about one miss.  A bucket
 * that fills up is split in two halves of its hash range.  Stores in the
 * former layout ("tok", one entry a token) are converted when opened.
 * Lookups do not even search the bucket index in the B-tree: they use a
 * copy of it (struct bidx), made once for each committed snapshot.
 *
 * Readers take a read-only transaction per lookup and never block writers;
 * a learn or an expire step is one short write transaction, so it is safe
 * while mail flows.  LMDB forbids opening one environment twice in a
 * process, and a reload builds a new snapshot beside the running one, so
 * environments are shared through a small reference-counted table here.
 * This file is the only one that includes <lmdb.h>.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unistd.h>

#include <lmdb.h>

#include "checks/bayes/bayes.h"
#include "checks/bayes/bayes_bucket.h"
#include "lib/log.h"
#include "lib/util.h"

/*
 * A copy of the bucket index of one snapshot of the store (one committed
 * write transaction, by its id), so that a lookup finds each token's
 * bucket without a B-tree search.  A bucket's bytes stay where they are
 * in the map for as long as a reader of that snapshot is open, and a
 * lookup uses the copy only inside a read transaction of the same id.
 * Built by the first lookup that sees a new snapshot; the others use the
 * B-tree meanwhile.
 */
struct bidx {
	uint64_t	 txnid;
	size_t		 n;		/* buckets */
	uint64_t	*hi;		/* each bucket's highest hash, ascending */
	const unsigned char **val;	/* its bytes in the map; NULL: foreign */
	uint32_t	*dir;		/* top `bits` bits of a hash: first j */
	unsigned	 bits;		/* with hi[j] >= the least such hash */
	unsigned	 refs;		/* under lenv.idx_lock */
};

/* Tests turn the index off to run lookups through the B-tree. */
bool	 bayes_lmdb_use_index = true;

struct lenv {
	struct lenv	*next;
	char		*path;		/* realpath of the folder */
	MDB_env		*env;
	MDB_dbi		 tokb, msg, meta;
	bool		 is_readonly;
	unsigned	 refs;
	pthread_mutex_t	 idx_lock;
	struct bidx	*idx;		/* the newest built; NULL: none */
	bool		 idx_building;
};

struct lstore {
	struct bayes_store base;	/* first: the generic handle */
	struct lenv	*le;
};

/* Loads a stored bucket for editing (a foreign size starts empty). */
static void
bk_load(struct bucket *b, const MDB_val *v)
{
	if (v->mv_size == sizeof(*b)) {
		memcpy(b, v->mv_data, sizeof(*b));
		if (b->nslots == BK_SLOTS)
			return;
	}
	uint64_t lo = 0;
	if (v->mv_size >= sizeof(lo))
		memcpy(&lo, v->mv_data, sizeof(lo));
	bk_init(b, lo);
}

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lenv *envs;

static char *
lm_err(const char *where, const char *what, int rc)
{
	/* mdb_strerror() also knows the errno values. */
	return bayes_strf("lmdb %s: %s: %s", where, what, mdb_strerror(rc));
}

/* Creates dir, and its missing parents when parents is set. */
static int
lm_mkdir(const char *dir, bool parents)
{
	char	 buf[PATH_MAX];
	size_t	 len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; parents && *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) == -1 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) == -1 && errno != EEXIST)
		return errno;
	return 0;
}

/* One token's change (converting the former layout). */
struct tokdelta {
	uint64_t	 tok;
	int32_t		 spam, ham;
	uint32_t	 day;		/* of the use, when counts grow */
};

/*
 * A learn's changes as lists of tokens, one list for each kind of change
 * (KS_* below): sorting 8-byte hashes moves a third of the bytes that
 * whole changes would, and the lists are then merged in token order.
 */
enum { KS_SPAM_ADD, KS_HAM_ADD, KS_SPAM_SUB, KS_HAM_SUB, KS_N };
struct keyset {
	uint64_t	*v;
	size_t		 n, cap;
};

/*
 * Working memory of a thread, kept between calls (a fresh sort buffer a
 * batch costs page faults) and freed when the thread ends.
 */
struct scratch {
	const unsigned char **bkv;	/* lookup: each token's bucket */
	size_t		 bkcap;
	uint64_t	*tmp;		/* sort buffer */
	size_t		 tmpcap;
	struct keyset	 ks[KS_N];	/* a learn's changes */
	struct bucket	 bk[3];		/* buckets being edited */
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static struct util_spares scratch_spares = UTIL_SPARES_INIT;

/* At a thread's exit: kept for the next thread (util_spare_keep). */
static void
scratch_free(void *arg)
{
	struct scratch *sc = arg;

	if (util_spare_keep(&scratch_spares, sc))
		return;
	free(sc->bkv);
	free(sc->tmp);
	for (int i = 0; i < KS_N; i++)
		free(sc->ks[i].v);
	free(sc);
}

static void
scratch_init(void)
{
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		log_oom(0, "bayes: pthread_key_create");
}

static struct scratch *
scratch(void)
{
	struct scratch *sc;

	pthread_once(&scratch_once, scratch_init);
	if ((sc = pthread_getspecific(scratch_key)) == NULL) {
		if (((sc = util_spare_take(&scratch_spares)) == NULL &&
		    (sc = calloc(1, sizeof(*sc))) == NULL) ||
		    pthread_setspecific(scratch_key, sc) != 0)
			log_oom(sizeof(*sc), "bayes");
	}
	return sc;
}

static int	lm_convert(struct lenv *, MDB_txn *);

/* Opens the environment and its databases; returns an MDB or errno code. */
static int
lm_env_open(struct lenv *le, uint64_t map_size, const char **what_r)
{
	MDB_txn	*txn;
	unsigned flags = MDB_NOTLS | MDB_NOMETASYNC;
	int	 rc;

	*what_r = "mdb_env_create";
	if ((rc = mdb_env_create(&le->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(le->env, 4);
	mdb_env_set_maxreaders(le->env, 512);
	*what_r = "mdb_env_set_mapsize";
	if ((rc = mdb_env_set_mapsize(le->env, map_size)) != 0)
		goto fail;
	*what_r = "mdb_env_open";
	rc = mdb_env_open(le->env, le->path, flags, 0640);
	if (rc == EACCES || rc == EROFS) {
		/* A reader without write access (vigilctl scan as a user). */
		mdb_env_close(le->env);
		if ((rc = mdb_env_create(&le->env)) != 0)
			return rc;
		mdb_env_set_maxdbs(le->env, 4);
		mdb_env_set_mapsize(le->env, map_size);
		rc = mdb_env_open(le->env, le->path, flags | MDB_RDONLY, 0640);
		le->is_readonly = true;
	}
	if (rc != 0)
		goto fail;
	*what_r = "open databases";
	if ((rc = mdb_txn_begin(le->env, NULL,
	    le->is_readonly ? MDB_RDONLY : 0, &txn)) != 0)
		goto fail;
	unsigned create = le->is_readonly ? 0 : MDB_CREATE;
	if ((rc = mdb_dbi_open(txn, "tokb", create | MDB_INTEGERKEY,
	    &le->tokb)) != 0 ||
	    (rc = mdb_dbi_open(txn, "msg", create, &le->msg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", create, &le->meta)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	*what_r = "convert the former token layout";
	if (!le->is_readonly && (rc = lm_convert(le, txn)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	*what_r = "open databases";
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	mdb_env_close(le->env);
	le->env = NULL;
	return rc;
}

static void
bidx_free(struct bidx *b)
{
	if (b == NULL)
		return;
	free(b->hi);
	free(b->val);
	free(b->dir);
	free(b);
}

/* Reads the bucket index of txn's snapshot; NULL on an LMDB error. */
static struct bidx *
bidx_build(struct lenv *le, MDB_txn *txn)
{
	struct bidx *b;
	MDB_cursor *cur;
	MDB_val	 k, v;
	size_t	 cap = 1024;
	int	 rc;

	if (mdb_cursor_open(txn, le->tokb, &cur) != 0)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->hi = malloc(cap * sizeof(*b->hi))) == NULL ||
	    (b->val = malloc(cap * sizeof(*b->val))) == NULL)
		log_oom(cap * sizeof(*b->hi), "bayes");
	b->txnid = mdb_txn_id(txn);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != sizeof(uint64_t))
			continue;
		if (b->n == cap) {
			cap *= 2;
			if ((b->hi = realloc(b->hi, cap * sizeof(*b->hi))) ==
			    NULL || (b->val = realloc(b->val,
			    cap * sizeof(*b->val))) == NULL)
				log_oom(cap * sizeof(*b->hi), "bayes");
		}
		memcpy(&b->hi[b->n], k.mv_data, sizeof(uint64_t));
		b->val[b->n] = v.mv_size == sizeof(struct bucket) ?
		    v.mv_data : NULL;
		b->n++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		bidx_free(b);
		return NULL;
	}
	/* About one bucket a directory entry. */
	b->bits = 1;
	while (b->bits < 24 && ((size_t)1 << b->bits) < b->n)
		b->bits++;
	size_t	 nd = (size_t)1 << b->bits;
	if ((b->dir = malloc(nd * sizeof(*b->dir))) == NULL)
		log_oom(nd * sizeof(*b->dir), "bayes");
	for (size_t p = 0, j = 0; p < nd; p++) {
		uint64_t least = (uint64_t)p << (64 - b->bits);

		while (j < b->n && b->hi[j] < least)
			j++;
		b->dir[p] = (uint32_t)j;
	}
	return b;
}

/*
 * The index of txn's snapshot with a reference taken (bidx_put() gives
 * it back), or NULL when another thread is building it.
 */
static struct bidx *
bidx_get(struct lenv *le, MDB_txn *txn)
{
	uint64_t id = mdb_txn_id(txn);
	struct bidx *b;

	pthread_mutex_lock(&le->idx_lock);
	if ((b = le->idx) != NULL && b->txnid == id) {
		b->refs++;
		pthread_mutex_unlock(&le->idx_lock);
		return b;
	}
	if (le->idx_building) {
		pthread_mutex_unlock(&le->idx_lock);
		return NULL;
	}
	le->idx_building = true;
	pthread_mutex_unlock(&le->idx_lock);

	b = bidx_build(le, txn);

	pthread_mutex_lock(&le->idx_lock);
	le->idx_building = false;
	if (b != NULL) {
		b->refs = 1;			/* ours */
		if (le->idx == NULL || le->idx->txnid < id) {
			struct bidx *old = le->idx;

			le->idx = b;
			b->refs++;		/* the environment's */
			if (old != NULL && --old->refs == 0)
				bidx_free(old);
		}
	}
	pthread_mutex_unlock(&le->idx_lock);
	return b;
}

static void
bidx_put(struct lenv *le, struct bidx *b)
{
	pthread_mutex_lock(&le->idx_lock);
	if (--b->refs == 0)
		bidx_free(b);
	pthread_mutex_unlock(&le->idx_lock);
}

static void
lm_env_release(struct lenv *le)
{
	pthread_mutex_lock(&envs_lock);
	if (--le->refs == 0) {
		for (struct lenv **pp = &envs; *pp != NULL; pp = &(*pp)->next)
			if (*pp == le) {
				*pp = le->next;
				break;
			}
		if (le->idx != NULL && --le->idx->refs == 0)
			bidx_free(le->idx);
		pthread_mutex_destroy(&le->idx_lock);
		mdb_env_close(le->env);
		free(le->path);
		free(le);
	}
	pthread_mutex_unlock(&envs_lock);
}

static uint64_t
meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
	MDB_val	 k = { strlen(key), (void *)key }, v;
	uint64_t x = 0;

	if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == sizeof(x))
		memcpy(&x, v.mv_data, sizeof(x));
	return x;
}

static int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t x)
{
	MDB_val	 k = { strlen(key), (void *)key }, v = { sizeof(x), &x };

	return mdb_put(txn, dbi, &k, &v, 0);
}

static void
lm_totals_txn(struct lenv *le, MDB_txn *txn, struct bayes_totals *t)
{
	MDB_stat st;

	memset(t, 0, sizeof(*t));
	t->nspam = meta_get(txn, le->meta, "nspam");
	t->nham = meta_get(txn, le->meta, "nham");
	t->last_learn = (int64_t)meta_get(txn, le->meta, "last");
	t->ntokens = meta_get(txn, le->meta, "ntok");
	if (mdb_stat(txn, le->tokb, &st) == 0) {
		t->bytes = (uint64_t)st.ms_psize * (st.ms_branch_pages +
		    st.ms_leaf_pages + st.ms_overflow_pages);
	}
}

static int
lm_lookup(struct bayes_store *bs, const uint64_t *toks, size_t n,
    struct bayes_count *c, struct bayes_totals *tot, char **err_r)
{
	struct lenv *le = ((struct lstore *)bs)->le;
	MDB_txn	*txn;
	MDB_cursor *cur;
	int	 rc;

	if ((rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, &txn)) != 0) {
		*err_r = lm_err(bs->where, "read transaction", rc);
		return -1;
	}
	if (tot != NULL)
		lm_totals_txn(le, txn, tot);
	memset(c, 0, n * sizeof(*c));
	/*
	 * Two passes.  The first finds each token's bucket (in the copy of
	 * the snapshot's index, or else in the B-tree, searched only when a
	 * token leaves the bucket at hand: tokens come sorted and buckets
	 * cover ranges of hashes) and asks the CPU to fetch its home slot;
	 * the second reads the slots in place.  The cache misses of all the
	 * tokens overlap instead of queueing.
	 */
	struct scratch *sc = scratch();
	if (n > sc->bkcap) {
		sc->bkcap = n * 2;
		free(sc->bkv);
		if ((sc->bkv = malloc(sc->bkcap * sizeof(*sc->bkv))) == NULL)
			log_oom(sc->bkcap * sizeof(*sc->bkv), "bayes");
	}
	const unsigned char **bkv = sc->bkv;
	struct bidx *bx = bayes_lmdb_use_index ? bidx_get(le, txn) : NULL;
	if (bx != NULL) {
		/* The snapshot's index: a directory step, then a short scan. */
		unsigned shift = 64 - bx->bits;
		size_t	 j = 0;
		uint64_t last = 0;

		for (size_t i = 0; i < n; i++) {
			uint64_t t = tok_key(toks[i]);
			size_t	 d = bx->dir[t >> shift];

			if (t < last)
				j = 0;		/* not sorted after all */
			last = t;
			if (d > j)
				j = d;
			while (j < bx->n && bx->hi[j] < t)
				j++;
			bkv[i] = j < bx->n ? bx->val[j] : NULL;
			if (bkv[i] != NULL)
				__builtin_prefetch(bkv[i] +
				    offsetof(struct bucket, s) +
				    slot_home(t, BK_SLOTS) *
				    sizeof(struct slot));
		}
		for (size_t i = 0; i < n; i++) {
			if (bkv[i] == NULL)
				continue;
			uint64_t x = bk_find_stored(bkv[i],
			    sizeof(struct bucket), tok_key(toks[i]));
			c[i].spam = slot_spam(x);
			c[i].ham = slot_ham(x);
		}
		bidx_put(le, bx);
		mdb_txn_abort(txn);
		return 0;
	}
	if ((rc = mdb_cursor_open(txn, le->tokb, &cur)) != 0) {
		mdb_txn_abort(txn);
		*err_r = lm_err(bs->where, "cursor", rc);
		return -1;
	}
	MDB_val	 k, v = { 0, NULL };
	uint64_t lo = 1, hi = 0;	/* tokens known in the bucket at hand */
	for (size_t i = 0; i < n; i++) {
		uint64_t t = tok_key(toks[i]);

		bkv[i] = NULL;
		if (t < lo || t > hi) {
			k.mv_size = sizeof(t);
			k.mv_data = &t;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == MDB_NOTFOUND) {
				lo = 1;
				hi = 0;
				continue;	/* nothing at or after t */
			}
			if (rc != 0) {
				mdb_cursor_close(cur);
				mdb_txn_abort(txn);
				*err_r = lm_err(bs->where, "token lookup", rc);
				return -1;
			}
			/* The bucket with the first key >= t holds t. */
			memcpy(&hi, k.mv_data, sizeof(hi));
			lo = t;
			if (v.mv_size != sizeof(struct bucket)) {
				lo = 1;
				hi = 0;
				continue;	/* not ours: nothing known */
			}
		}
		bkv[i] = v.mv_data;
		__builtin_prefetch((const unsigned char *)v.mv_data +
		    offsetof(struct bucket, s) +
		    slot_home(t, BK_SLOTS) * sizeof(struct slot));
	}
	for (size_t i = 0; i < n; i++) {
		if (bkv[i] == NULL)
			continue;
		uint64_t x = bk_find_stored(bkv[i], sizeof(struct bucket),
		    tok_key(toks[i]));
		c[i].spam = slot_spam(x);
		c[i].ham = slot_ham(x);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return 0;
}

/*
 * Maps the whole pages of [p, p + len) in one call: a learn batch's
 * buffers are megabytes, and taking their pages one fault at a time
 * costs twice as much (on a virtual machine, some 11 us a page against
 * 0.6 us here and 5 us at the first touch).  Best effort.
 */
static void
prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	static uintptr_t pg;

	if (pg == 0)
		pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t b = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(pg - 1);

	if (len >= 64 * pg && e > b)
		(void)madvise((void *)b, e - b, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

/* Adds a message's tokens (sorted, distinct) to a list of changes. */
static void
keyset_add(struct keyset *ks, const uint64_t *toks, size_t n)
{
	if (ks->n + n > ks->cap) {
		size_t	 old = ks->cap;

		ks->cap = (ks->n + n) * 2;
		if ((ks->v = realloc(ks->v, ks->cap * sizeof(*ks->v))) == NULL)
			log_oom(ks->cap * sizeof(*ks->v), "bayes");
		prefault(ks->v + old, (ks->cap - old) * sizeof(*ks->v));
	}
	uint64_t *d = ks->v + ks->n;
	for (size_t i = 0; i < n; i++)
		d[i] = tok_key(toks[i]);
	ks->n += n;
}

/*
 * The changes to apply, in token order: either an array of changes
 * sorted by token (d, nd) or the sorted lists of a learn, whose changes
 * all have day `day` (dsrc_lists()).  Equal tokens are summed.
 */
struct dsrc {
	const struct tokdelta *d;
	size_t		 nd, id;
	/* The lists not yet read through: next value, end, and what each
	 * value adds to the spam and ham counts. */
	const uint64_t	*p[KS_N], *e[KS_N];
	int32_t		 ws[KS_N], wh[KS_N];
	int		 nopen;
	uint32_t	 day;
};

static void
dsrc_lists(struct dsrc *s, const struct keyset *ks, uint32_t day)
{
	static const int32_t ws[KS_N] = { 1, 0, -1, 0 };
	static const int32_t wh[KS_N] = { 0, 1, 0, -1 };

	memset(s, 0, sizeof(*s));
	for (int k = 0; k < KS_N; k++)
		if (ks[k].n > 0) {
			s->p[s->nopen] = ks[k].v;
			s->e[s->nopen] = ks[k].v + ks[k].n;
			s->ws[s->nopen] = ws[k];
			s->wh[s->nopen] = wh[k];
			s->nopen++;
		}
	s->day = day;
}

/* The next token and its summed change; false at the end. */
static bool
dsrc_next(struct dsrc *s, uint64_t *t_r, int32_t *ds_r, int32_t *dh_r,
    uint32_t *day_r)
{
	int32_t	 ds = 0, dh = 0;
	uint32_t day = 0;
	uint64_t t;

	if (s->d != NULL) {
		if (s->id == s->nd)
			return false;
		t = s->d[s->id].tok;
		for (; s->id < s->nd && s->d[s->id].tok == t; s->id++) {
			ds += s->d[s->id].spam;
			dh += s->d[s->id].ham;
			if (s->d[s->id].day > day)
				day = s->d[s->id].day;
		}
	} else {
		if (s->nopen == 0)
			return false;
		t = *s->p[0];
		for (int j = 1; j < s->nopen; j++)
			if (*s->p[j] < t)
				t = *s->p[j];
		for (int j = 0; j < s->nopen;) {
			const uint64_t *q = s->p[j], *e = s->e[j];

			while (q < e && *q == t)
				q++;
			int32_t	 c = (int32_t)(q - s->p[j]);
			ds += c * s->ws[j];
			dh += c * s->wh[j];
			if (q < e) {
				s->p[j++] = q;
				continue;
			}
			/* Read through: the last open list takes its place. */
			s->nopen--;
			s->p[j] = s->p[s->nopen];
			s->e[j] = s->e[s->nopen];
			s->ws[j] = s->ws[s->nopen];
			s->wh[j] = s->wh[s->nopen];
		}
		day = s->day;
	}
	*t_r = t;
	*ds_r = ds;
	*dh_r = dh;
	*day_r = day;
	return true;
}

static uint32_t
add_clamped(uint32_t c, int32_t d)
{
	int64_t	 r = (int64_t)c + d;

	return r < 0 ? 0 : r > CNT_MAX ? CNT_MAX : (uint32_t)r;
}

static int
bk_put(MDB_cursor *cur, const struct bucket *b, uint64_t hi)
{
	MDB_val	 k = { sizeof(hi), &hi }, v = { sizeof(*b), (void *)b };

	return mdb_cursor_put(cur, &k, &v, 0);
}

/*
 * Splits the full bucket b (covering lo..hi) at the middle of its range:
 * the half without token t is stored, b becomes the half with t and *hi_r
 * its highest hash.
 */
static int
bk_split(MDB_cursor *cur, struct bucket *b, uint64_t *hi_r, uint64_t t)
{
	struct scratch *sc = scratch();
	struct bucket *left = &sc->bk[1], *right = &sc->bk[2];
	uint64_t hi = *hi_r, mid = b->lo + (hi - b->lo) / 2;
	int	 rc;

	bk_init(left, b->lo);
	bk_init(right, mid + 1);
	for (uint32_t i = 0; i < BK_SLOTS; i++)
		if (b->s[i].tok != 0)
			bk_insert(b->s[i].tok <= mid ? left : right,
			    b->s[i].tok, b->s[i].v);
	if (t <= mid) {
		if ((rc = bk_put(cur, right, hi)) != 0)
			return rc;
		*b = *left;
		*hi_r = mid;
	} else {
		if ((rc = bk_put(cur, left, mid)) != 0)
			return rc;
		*b = *right;
	}
	return 0;
}

/*
 * Applies the changes of a whole batch in token order, one bucket at a
 * time: each bucket is read, edited and written once a batch.  *ntok_r
 * follows the number of distinct tokens.
 */
static int
lm_apply(struct lenv *le, MDB_txn *txn, struct dsrc *d, uint64_t *ntok_r)
{
	struct bucket *bp = &scratch()->bk[0];
	MDB_cursor *cur;
	MDB_val	 k, v;
	uint64_t lo = 1, hi = 0;	/* the bucket in b: none */
	bool	 dirty = false;
	int	 rc = 0;

	if ((rc = mdb_cursor_open(txn, le->tokb, &cur)) != 0)
		return rc;
	uint64_t t;
	int32_t	 ds, dh;
	uint32_t day;
	while (dsrc_next(d, &t, &ds, &dh, &day)) {
		if (ds == 0 && dh == 0)
			continue;
		if (t < lo || t > hi) {
			if (dirty && (rc = bk_put(cur, bp, hi)) != 0)
				break;
			dirty = false;
			k.mv_size = sizeof(t);
			k.mv_data = &t;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == MDB_NOTFOUND) {
				/* An empty store: one bucket for all. */
				bk_init(bp, 0);
				hi = UINT64_MAX;
				dirty = true;
			} else if (rc != 0)
				break;
			else {
				memcpy(&hi, k.mv_data, sizeof(hi));
				bk_load(bp, &v);
			}
			rc = 0;
			lo = bp->lo;
		}
		uint32_t s = bk_slot(bp, t);
		if (bp->s[s].tok == 0) {
			if (ds < 0 || dh < 0)
				continue;	/* nothing to take away */
			/* Split until t's half has room (once, but for
			 * hashes that crowd a tiny range). */
			while (bp->nused >= BK_MAX_USED && hi > bp->lo) {
				if ((rc = bk_split(cur, bp, &hi, t)) != 0)
					break;
				lo = bp->lo;
			}
			if (rc != 0)
				break;
			if (bp->nused >= BK_SLOTS - 1)
				continue;	/* cannot happen: full range */
			s = bk_slot(bp, t);
			bk_insert(bp, t, slot_pack(add_clamped(0, ds),
			    add_clamped(0, dh), day));
			(*ntok_r)++;
			dirty = true;
			continue;
		}
		uint64_t x = bp->s[s].v;
		uint32_t sp = add_clamped(slot_spam(x), ds);
		uint32_t hm = add_clamped(slot_ham(x), dh);
		if (sp == 0 && hm == 0) {
			bk_remove(bp, s);
			if (*ntok_r > 0)
				(*ntok_r)--;
		} else
			bp->s[s].v = slot_pack(sp, hm, ds > 0 || dh > 0 ?
			    day : slot_day(x));
		dirty = true;
	}
	if (rc == 0 && dirty)
		rc = bk_put(cur, bp, hi);
	mdb_cursor_close(cur);
	return rc;
}

static int
cmp_tokdelta(const void *a, const void *b)
{
	uint64_t x = ((const struct tokdelta *)a)->tok;
	uint64_t y = ((const struct tokdelta *)b)->tok;

	return x < y ? -1 : x > y;
}

/*
 * Stores written before the bucketed layout kept one entry a token in
 * "tok" (spam, ham, day as 3 x u32): moved into "tokb" once, in the
 * transaction that opens the store.
 */
static int
lm_convert(struct lenv *le, MDB_txn *txn)
{
	struct {
		struct tokdelta *v;
		size_t	 n, cap;
	}	 d = { NULL, 0, 0 };
	MDB_dbi	 old;
	MDB_cursor *cur;
	MDB_val	 k, v;
	uint64_t ntok = meta_get(txn, le->meta, "ntok");
	int	 rc;

	if ((rc = mdb_dbi_open(txn, "tok", MDB_INTEGERKEY, &old)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = mdb_cursor_open(txn, old, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t tv[3];
		uint64_t t;

		if (k.mv_size != sizeof(t) || v.mv_size != sizeof(tv))
			continue;
		memcpy(&t, k.mv_data, sizeof(t));
		memcpy(tv, v.mv_data, sizeof(tv));
		if (d.n == d.cap) {
			d.cap = d.cap == 0 ? 4096 : d.cap * 2;
			if ((d.v = realloc(d.v, d.cap * sizeof(*d.v))) == NULL)
				log_oom(d.cap * sizeof(*d.v), "bayes");
		}
		d.v[d.n++] = (struct tokdelta){ tok_key(t),
		    (int32_t)(tv[0] > CNT_MAX ? CNT_MAX : tv[0]),
		    (int32_t)(tv[1] > CNT_MAX ? CNT_MAX : tv[1]), tv[2] };
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		free(d.v);
		return rc;
	}
	/* In key order already; sorted anyway, as lm_apply() needs. */
	qsort(d.v, d.n, sizeof(*d.v), cmp_tokdelta);
	struct dsrc src = { .d = d.v, .nd = d.n };
	rc = lm_apply(le, txn, &src, &ntok);
	free(d.v);
	if (rc == 0 && (rc = meta_put(txn, le->meta, "ntok", ntok)) == 0)
		rc = mdb_drop(txn, old, 1);
	return rc;
}

static int
lm_learn(struct bayes_store *bs, struct bayes_learn *items, size_t n,
    char **err_r)
{
	struct scratch *sc = scratch();		/* kept: see struct scratch */
	struct keyset *ks = sc->ks;
	struct lenv *le = ((struct lstore *)bs)->le;
	MDB_txn	*txn;
	int64_t	 now = time(NULL);
	uint32_t day = bayes_day(now);
	int	 rc;

	if (le->is_readonly) {
		*err_r = lm_err(bs->where, "learn", EACCES);
		return -1;
	}
	if ((rc = mdb_txn_begin(le->env, NULL, 0, &txn)) != 0) {
		*err_r = lm_err(bs->where, "write transaction", rc);
		return -1;
	}
	uint64_t cnt[2] = { meta_get(txn, le->meta, "nham"),
	    meta_get(txn, le->meta, "nspam") };
	for (int i = 0; i < KS_N; i++)
		ks[i].n = 0;
	/* Decide each message by its digest, collecting token changes. */
	for (size_t i = 0; i < n; i++) {
		struct bayes_learn *it = &items[i];
		MDB_val	 k = { BAYES_DIGEST_LEN, it->digest }, v;
		int	 was = -1;
		unsigned char c = (unsigned char)it->cls;

		rc = mdb_get(txn, le->msg, &k, &v);
		if (rc == 0 && v.mv_size >= 1)
			was = ((unsigned char *)v.mv_data)[0] & 1;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			goto fail;
		if (it->forget) {
			if (was < 0) {
				it->result = BAYES_UNKNOWN;
				continue;
			}
			keyset_add(&ks[was == BAYES_SPAM ? KS_SPAM_SUB :
			    KS_HAM_SUB], it->toks, it->ntoks);
			if ((rc = mdb_del(txn, le->msg, &k, NULL)) != 0)
				goto fail;
			if (cnt[was] > 0)
				cnt[was]--;
			it->result = BAYES_FORGOTTEN;
			continue;
		}
		if (was == (int)it->cls) {
			it->result = BAYES_ALREADY;
			continue;
		}
		if (was >= 0) {
			keyset_add(&ks[was == BAYES_SPAM ? KS_SPAM_SUB :
			    KS_HAM_SUB], it->toks, it->ntoks);
			if (cnt[was] > 0)
				cnt[was]--;
		}
		keyset_add(&ks[it->cls == BAYES_SPAM ? KS_SPAM_ADD :
		    KS_HAM_ADD], it->toks, it->ntoks);
		v.mv_size = 1;
		v.mv_data = &c;
		if ((rc = mdb_put(txn, le->msg, &k, &v, 0)) != 0)
			goto fail;
		cnt[it->cls]++;
		it->result = was >= 0 ? BAYES_MOVED : BAYES_LEARNED;
	}
	/* Each list sorted (the buffer is kept: see struct scratch). */
	size_t	 most = 0;
	for (int i = 0; i < KS_N; i++)
		if (ks[i].n > most)
			most = ks[i].n;
	if (most > sc->tmpcap) {
		free(sc->tmp);
		sc->tmpcap = most + most / 2;
		if ((sc->tmp = malloc(sc->tmpcap * sizeof(*sc->tmp))) == NULL)
			log_oom(sc->tmpcap * sizeof(*sc->tmp), "bayes");
		prefault(sc->tmp, most * sizeof(*sc->tmp));
	}
	for (int i = 0; i < KS_N; i++)
		bayes_sort_u64(ks[i].v, sc->tmp, ks[i].n, 1);
	struct dsrc src;
	dsrc_lists(&src, ks, day);
	uint64_t ntok = meta_get(txn, le->meta, "ntok");
	if ((rc = lm_apply(le, txn, &src, &ntok)) != 0)
		goto fail;
	if ((rc = meta_put(txn, le->meta, "ntok", ntok)) != 0 ||
	    (rc = meta_put(txn, le->meta, "nham", cnt[0])) != 0 ||
	    (rc = meta_put(txn, le->meta, "nspam", cnt[1])) != 0 ||
	    (rc = meta_put(txn, le->meta, "last", (uint64_t)now)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		*err_r = lm_err(bs->where, "commit", rc);
		return -1;
	}
	return 0;
fail:
	mdb_txn_abort(txn);
	*err_r = lm_err(bs->where, "learn", rc);
	return -1;
}

static int
lm_totals(struct bayes_store *bs, struct bayes_totals *t, char **err_r)
{
	struct lenv *le = ((struct lstore *)bs)->le;
	MDB_txn	*txn;
	int	 rc;

	if ((rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, &txn)) != 0) {
		*err_r = lm_err(bs->where, "read transaction", rc);
		return -1;
	}
	lm_totals_txn(le, txn, t);
	mdb_txn_abort(txn);
	return 0;
}

/*
 * Visits whole buckets from where the last call stopped, until budget
 * tokens were seen (so at most BK_MAX_USED more than budget).
 */
static int
lm_expire(struct bayes_store *bs, int64_t cutoff, uint32_t max_count,
    uint64_t budget, struct bayes_expire_stats *st, char **err_r)
{
	struct scratch *sc = scratch();
	struct bucket *bp = &sc->bk[0], *nbp = &sc->bk[1];
	struct lenv *le = ((struct lstore *)bs)->le;
	MDB_txn	*txn;
	MDB_cursor *cur;
	MDB_val	 k, v;
	uint32_t cut_day = bayes_day(cutoff);
	uint64_t pos, hi = 0, ntok;
	int	 rc;

	memset(st, 0, sizeof(*st));
	if (le->is_readonly) {
		*err_r = lm_err(bs->where, "expire", EACCES);
		return -1;
	}
	if ((rc = mdb_txn_begin(le->env, NULL, 0, &txn)) != 0) {
		*err_r = lm_err(bs->where, "write transaction", rc);
		return -1;
	}
	if ((rc = mdb_cursor_open(txn, le->tokb, &cur)) != 0)
		goto fail;
	pos = meta_get(txn, le->meta, "xpos");
	ntok = meta_get(txn, le->meta, "ntok");
	k.mv_size = sizeof(pos);
	k.mv_data = &pos;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && (st->scanned == 0 || st->scanned < budget)) {
		uint64_t dropped = 0;

		memcpy(&hi, k.mv_data, sizeof(hi));
		bk_load(bp, &v);
		bk_init(nbp, bp->lo);
		for (uint32_t i = 0; i < BK_SLOTS; i++) {
			uint64_t x = bp->s[i].v;

			if (bp->s[i].tok == 0)
				continue;
			st->scanned++;
			if ((uint64_t)slot_spam(x) + slot_ham(x) <= max_count &&
			    slot_day(x) < cut_day)
				dropped++;
			else
				bk_insert(nbp, bp->s[i].tok, x);
		}
		if (dropped > 0) {
			MDB_val	 nv = { sizeof(*nbp), nbp };

			if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)) != 0)
				break;
			st->dropped += dropped;
			ntok = ntok > dropped ? ntok - dropped : 0;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND) {
		st->done = true;
		pos = 0;
		rc = 0;
	} else if (rc == 0)
		memcpy(&pos, k.mv_data, sizeof(pos));	/* resume here */
	mdb_cursor_close(cur);
	if (rc != 0)
		goto fail;
	if ((rc = meta_put(txn, le->meta, "xpos", pos)) != 0 ||
	    (rc = meta_put(txn, le->meta, "ntok", ntok)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		*err_r = lm_err(bs->where, "commit", rc);
		return -1;
	}
	return 0;
fail:
	mdb_txn_abort(txn);
	*err_r = lm_err(bs->where, "expire", rc);
	return -1;
}

static void
lm_close(struct bayes_store *bs)
{
	struct lstore *s = (struct lstore *)bs;

	lm_env_release(s->le);
	free(s->base.where);
	free(s);
}

static const struct bayes_store_ops lmdb_ops = {
	.name = "lmdb",
	.lookup = lm_lookup,
	.learn = lm_learn,
	.totals = lm_totals,
	.expire = lm_expire,
	.close = lm_close,
};

/*
 * Run as root (vigilctl, or vigil before it drops to UserID), a store
 * made or first opened here would be root's, and the daemon, running as
 * its own user, could no longer write it.  A store folder inside a folder
 * another user owns (the state folder, /var/lib/vigil: the daemon's) is
 * that user's: the folder and its two files, when root's, are handed to
 * the state folder's owner.  By descriptor and never through a symlink
 * or a file with other links, since that folder is the other user's to
 * change.
 */
static void
lm_give_to_state_owner(const char *real)
{
	char	 parent[PATH_MAX];
	const char *slash = strrchr(real, '/');
	struct stat pst, st;
	int	 pfd, dfd;

	if (geteuid() != 0 || slash == NULL || slash == real ||
	    (size_t)(slash - real) >= sizeof(parent))
		return;
	memcpy(parent, real, (size_t)(slash - real));
	parent[slash - real] = '\0';
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if (fstat(pfd, &pst) == 0 && pst.st_uid != 0 &&
	    (dfd = openat(pfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		static const char *const files[] = { "data.mdb", "lock.mdb" };

		if (fstat(dfd, &st) == 0 && st.st_uid == 0 &&
		    fchown(dfd, pst.st_uid, pst.st_gid) == -1)
			log_sys(LOG_WARNING, "bayes: %s: give to uid %ld: %s",
			    real, (long)pst.st_uid, strerror(errno));
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			int fd = openat(dfd, files[i], O_RDONLY | O_NOFOLLOW |
			    O_NONBLOCK | O_CLOEXEC);

			if (fd == -1)
				continue;
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_nlink == 1 && st.st_uid == 0 &&
			    fchown(fd, pst.st_uid, pst.st_gid) == -1)
				log_sys(LOG_WARNING, "bayes: %s/%s: give to "
				    "uid %ld: %s", real, files[i],
				    (long)pst.st_uid, strerror(errno));
			close(fd);
		}
		close(dfd);
	}
	close(pfd);
}

struct bayes_store *
bayes_lmdb_open(const struct bayes_store_cfg *sc, char **err_r)
{
	struct lenv *le;
	struct lstore *s;
	char	 real[PATH_MAX];
	const char *what;
	int	 rc;

	if ((rc = lm_mkdir(sc->dir, sc->create_parents)) != 0) {
		*err_r = lm_err(sc->dir, "create folder", rc);
		return NULL;
	}
	if (realpath(sc->dir, real) == NULL) {
		*err_r = lm_err(sc->dir, "realpath", errno);
		return NULL;
	}
	pthread_mutex_lock(&envs_lock);
	for (le = envs; le != NULL; le = le->next)
		if (strcmp(le->path, real) == 0)
			break;
	if (le == NULL) {
		if ((le = calloc(1, sizeof(*le))) == NULL ||
		    (le->path = strdup(real)) == NULL)
			log_oom(sizeof(*le), "bayes");
		pthread_mutex_init(&le->idx_lock, NULL);
		if ((rc = lm_env_open(le, sc->map_size, &what)) != 0) {
			pthread_mutex_unlock(&envs_lock);
			*err_r = lm_err(real, what, rc);
			pthread_mutex_destroy(&le->idx_lock);
			free(le->path);
			free(le);
			return NULL;
		}
		le->next = envs;
		envs = le;
	}
	le->refs++;
	pthread_mutex_unlock(&envs_lock);
	lm_give_to_state_owner(real);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->base.where = strdup(real)) == NULL)
		log_oom(sizeof(*s), "bayes");
	s->base.ops = &lmdb_ops;
	s->le = le;
	return &s->base;
}
