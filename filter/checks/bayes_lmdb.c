/*
 * bayes_lmdb.c - the Bayes token store in LMDB (the default backend).
 *
 * One environment in BayesDir with three databases:
 *   tok   8-byte token hash (integer key) -> spam, ham, last-use day (3 x u32)
 *   msg   message digest -> class (1 byte): what was learned, for idempotence
 *   meta  "nspam", "nham", "last", "xpos" -> u64
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
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "checks/bayes.h"
#include "lib/log.h"

struct lenv {
	struct lenv	*next;
	char		*path;		/* realpath of the folder */
	MDB_env		*env;
	MDB_dbi		 tok, msg, meta;
	bool		 is_readonly;
	unsigned	 refs;
};

struct lstore {
	struct bayes_store base;	/* first: the generic handle */
	struct lenv	*le;
};

struct tokval {
	uint32_t	 spam, ham, day;
};

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
	if ((rc = mdb_dbi_open(txn, "tok", create | MDB_INTEGERKEY,
	    &le->tok)) != 0 ||
	    (rc = mdb_dbi_open(txn, "msg", create, &le->msg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", create, &le->meta)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	mdb_env_close(le->env);
	le->env = NULL;
	return rc;
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
	if (mdb_stat(txn, le->tok, &st) == 0) {
		t->ntokens = st.ms_entries;
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
	if ((rc = mdb_cursor_open(txn, le->tok, &cur)) != 0) {
		mdb_txn_abort(txn);
		*err_r = lm_err(bs->where, "cursor", rc);
		return -1;
	}
	/*
	 * The tokens are sorted and so is the database: walk both with one
	 * cursor, seeking forward only when the next token is not already
	 * under it.
	 */
	MDB_val	 k, v;
	uint64_t curkey = 0;
	bool	 valid = false;
	for (size_t i = 0; i < n; i++) {
		uint64_t t = toks[i];

		if (!valid || curkey < t) {
			k.mv_size = sizeof(t);
			k.mv_data = &t;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == MDB_NOTFOUND)
				break;	/* nothing at or after t */
			if (rc != 0) {
				mdb_cursor_close(cur);
				mdb_txn_abort(txn);
				*err_r = lm_err(bs->where, "token lookup", rc);
				return -1;
			}
			memcpy(&curkey, k.mv_data, sizeof(curkey));
			valid = true;
		}
		if (curkey == t && v.mv_size == sizeof(struct tokval)) {
			struct tokval tv;

			memcpy(&tv, v.mv_data, sizeof(tv));
			c[i].spam = tv.spam;
			c[i].ham = tv.ham;
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return 0;
}

/* One token's change within a learn transaction. */
struct tokdelta {
	uint64_t	 tok;
	int32_t		 spam, ham;
};

struct deltas {
	struct tokdelta	*v;
	size_t		 n, cap;
};

static void
deltas_add(struct deltas *d, const uint64_t *toks, size_t n,
    enum bayes_class cls, int delta)
{
	if (d->n + n > d->cap) {
		d->cap = (d->n + n) * 2;
		if ((d->v = realloc(d->v, d->cap * sizeof(*d->v))) == NULL)
			log_oom(d->cap * sizeof(*d->v), "bayes");
	}
	for (size_t i = 0; i < n; i++) {
		struct tokdelta *td = &d->v[d->n++];

		td->tok = toks[i];
		td->spam = cls == BAYES_SPAM ? delta : 0;
		td->ham = cls == BAYES_HAM ? delta : 0;
	}
}

static int
cmp_delta(const void *a, const void *b)
{
	uint64_t x = ((const struct tokdelta *)a)->tok;
	uint64_t y = ((const struct tokdelta *)b)->tok;

	return x < y ? -1 : x > y;
}

static uint32_t
add_clamped(uint32_t c, int32_t d)
{
	int64_t	 r = (int64_t)c + d;

	return r < 0 ? 0 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/*
 * Applies the changes of a whole batch in token order with one cursor:
 * neighbouring tokens share pages, so each page is found and copied once
 * instead of once a message.
 */
static int
lm_apply(struct lenv *le, MDB_txn *txn, struct deltas *d, uint32_t day)
{
	MDB_cursor *cur;
	MDB_val	 k, v;
	int	 rc;

	if (d->n > 1)	/* d->v is NULL while the batch is empty */
		qsort(d->v, d->n, sizeof(*d->v), cmp_delta);
	if ((rc = mdb_cursor_open(txn, le->tok, &cur)) != 0)
		return rc;
	for (size_t i = 0; i < d->n;) {
		uint64_t t = d->v[i].tok;
		int32_t	 ds = 0, dh = 0;
		struct tokval tv = { 0, 0, day };

		for (; i < d->n && d->v[i].tok == t; i++) {
			ds += d->v[i].spam;
			dh += d->v[i].ham;
		}
		if (ds == 0 && dh == 0)
			continue;
		k.mv_size = sizeof(t);
		k.mv_data = &t;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (rc == MDB_NOTFOUND) {
			if (ds < 0 || dh < 0 || (ds == 0 && dh == 0))
				continue;	/* nothing to take away */
			tv.spam = (uint32_t)ds;
			tv.ham = (uint32_t)dh;
			v.mv_size = sizeof(tv);
			v.mv_data = &tv;
			if ((rc = mdb_cursor_put(cur, &k, &v, 0)) != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		if (v.mv_size == sizeof(tv))
			memcpy(&tv, v.mv_data, sizeof(tv));
		tv.spam = add_clamped(tv.spam, ds);
		tv.ham = add_clamped(tv.ham, dh);
		if (ds > 0 || dh > 0)
			tv.day = day;
		if (tv.spam == 0 && tv.ham == 0)
			rc = mdb_cursor_del(cur, 0);
		else {
			v.mv_size = sizeof(tv);
			v.mv_data = &tv;
			rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		}
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
lm_learn(struct bayes_store *bs, struct bayes_learn *items, size_t n,
    char **err_r)
{
	struct lenv *le = ((struct lstore *)bs)->le;
	struct deltas d = { NULL, 0, 0 };
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
			deltas_add(&d, it->toks, it->ntoks,
			    (enum bayes_class)was, -1);
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
			deltas_add(&d, it->toks, it->ntoks,
			    (enum bayes_class)was, -1);
			if (cnt[was] > 0)
				cnt[was]--;
		}
		deltas_add(&d, it->toks, it->ntoks, it->cls, +1);
		v.mv_size = 1;
		v.mv_data = &c;
		if ((rc = mdb_put(txn, le->msg, &k, &v, 0)) != 0)
			goto fail;
		cnt[it->cls]++;
		it->result = was >= 0 ? BAYES_MOVED : BAYES_LEARNED;
	}
	if ((rc = lm_apply(le, txn, &d, day)) != 0)
		goto fail;
	free(d.v);
	d.v = NULL;
	if ((rc = meta_put(txn, le->meta, "nham", cnt[0])) != 0 ||
	    (rc = meta_put(txn, le->meta, "nspam", cnt[1])) != 0 ||
	    (rc = meta_put(txn, le->meta, "last", (uint64_t)now)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		*err_r = lm_err(bs->where, "commit", rc);
		return -1;
	}
	return 0;
fail:
	free(d.v);
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

static int
lm_expire(struct bayes_store *bs, int64_t cutoff, uint32_t max_count,
    uint64_t budget, struct bayes_expire_stats *st, char **err_r)
{
	struct lenv *le = ((struct lstore *)bs)->le;
	MDB_txn	*txn;
	MDB_cursor *cur;
	MDB_val	 k, v;
	uint32_t cut_day = bayes_day(cutoff);
	uint64_t pos;
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
	if ((rc = mdb_cursor_open(txn, le->tok, &cur)) != 0)
		goto fail;
	pos = meta_get(txn, le->meta, "xpos");
	k.mv_size = sizeof(pos);
	k.mv_data = &pos;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && st->scanned < budget) {
		struct tokval tv;

		st->scanned++;
		memcpy(&pos, k.mv_data, sizeof(pos));
		if (v.mv_size == sizeof(tv)) {
			memcpy(&tv, v.mv_data, sizeof(tv));
			if ((uint64_t)tv.spam + tv.ham <= max_count &&
			    tv.day < cut_day) {
				if ((rc = mdb_cursor_del(cur, 0)) != 0)
					break;
				st->dropped++;
				/* The cursor now sits on the next entry. */
				rc = mdb_cursor_get(cur, &k, &v,
				    MDB_GET_CURRENT);
				continue;
			}
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
	if ((rc = meta_put(txn, le->meta, "xpos", pos)) != 0)
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
		if ((rc = lm_env_open(le, sc->map_size, &what)) != 0) {
			pthread_mutex_unlock(&envs_lock);
			*err_r = lm_err(real, what, rc);
			free(le->path);
			free(le);
			return NULL;
		}
		le->next = envs;
		envs = le;
	}
	le->refs++;
	pthread_mutex_unlock(&envs_lock);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->base.where = strdup(real)) == NULL)
		log_oom(sizeof(*s), "bayes");
	s->base.ops = &lmdb_ops;
	s->le = le;
	return &s->base;
}
