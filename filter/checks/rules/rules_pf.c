/*
 * rules_pf.c - the literal prefilter: the required literals of every rule
 * of one type (rules_lit.c) in one Hyperscan literal database, scanned
 * once per message over the rule type's text.  A rule whose literals do
 * not occur cannot match and is not run; one whose literals occur runs
 * only on the chunks (body lines, rawbody paragraphs, URIs) they occur
 * in, since SpamAssassin matches each chunk on its own.  A rule whose
 * every match holds k >= 2 occurrences of its literals in disjoint places
 * ((?:...){3}) runs only on the chunks that hold k of them.
 *
 * Literal databases compile in milliseconds (no regex is compiled, only
 * strings), so reload stays as fast as before.  Without Hyperscan (not
 * on every architecture) every rule runs on every chunk, as before.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_HYPERSCAN
#include <hs.h>
#endif

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"

struct rules_pf {
#ifdef HAVE_HYPERSCAN
	hs_database_t	*db;
	uint64_t	 serial;	/* for the scratch cache */
#endif
	size_t		 nlits;
	size_t		*litlen;
	/* Rules with lit_k > 1 have a counter row: a literal's rows are
	 * rows[row_at[id] .. row_at[id] + row_n[id]). */
	uint32_t	 nrows;
	uint32_t	*row_at, *row_n;
	uint32_t	*rows;
	/* The rules (their ord) a literal is one of: lr[lr_at[id] ..
	 * lr_at[id + 1]). */
	uint32_t	*lr_at, *lr;
};

#ifdef HAVE_HYPERSCAN
static pthread_key_t	pf_key;
static pthread_once_t	pf_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t	pf_serials;

/*
 * A thread's scratch and the prefilters it was grown for, by serial (a
 * freed database's address may come back; a serial does not).
 * hs_alloc_scratch() checks the whole database's CRC on every call,
 * which cost as much as the scans themselves.
 */
#define PF_FITTED	8
struct pf_tls {
	hs_scratch_t	*s;
	uint64_t	 fitted[PF_FITTED];
	unsigned	 n;
};

static struct util_spares pf_spares = UTIL_SPARES_INIT;

/* At a thread's exit: kept for the next thread (util_spare_keep). */
static void
scratch_free(void *p)
{
	struct pf_tls *t = p;

	if (util_spare_keep(&pf_spares, t))
		return;
	hs_free_scratch(t->s);
	g_free(t);
}

static void
pf_key_init(void)
{
	if (pthread_key_create(&pf_key, scratch_free) != 0)
		BUG("rules: pthread_key_create failed");
}

/* This thread's scratch, grown to fit pf's database (again when force). */
static hs_scratch_t *
scratch_get(const struct rules_pf *pf, bool force)
{
	struct pf_tls *t;

	pthread_once(&pf_once, pf_key_init);
	if ((t = pthread_getspecific(pf_key)) == NULL) {
		if ((t = util_spare_take(&pf_spares)) == NULL)
			t = g_new0(struct pf_tls, 1);
		if (pthread_setspecific(pf_key, t) != 0)
			BUG("rules: pthread_setspecific failed");
	}
	for (unsigned k = 0; k < t->n && !force; k++)
		if (t->fitted[k] == pf->serial)
			return t->s;
	/* Scratch only grows: what fitted before still fits. */
	if (hs_alloc_scratch(pf->db, &t->s) != HS_SUCCESS)
		log_oom(1 << 20, "rules hyperscan scratch");
	if (t->n == PF_FITTED)
		t->n = 0;
	t->fitted[t->n++] = pf->serial;
	return t->s;
}
#endif

/* The counter rows of the rules that need k > 1 occurrences. */
static void
rows_build(struct rules_pf *pf, struct rule *const *rules, size_t n)
{
	uint32_t total = 0;

	pf->row_at = g_new0(uint32_t, pf->nlits);
	pf->row_n = g_new0(uint32_t, pf->nlits);
	for (size_t i = 0; i < n; i++) {
		struct rule *r = rules[i];

		if (r->nlit_ids == 0 || r->lit_k < 2)
			continue;
		r->pf_row = ++pf->nrows;
		for (uint32_t k = 0; k < r->nlit_ids; k++)
			pf->row_at[r->lit_ids[k]]++;	/* room, for now */
	}
	for (size_t id = 0; id < pf->nlits; id++) {
		uint32_t room = pf->row_at[id];

		pf->row_at[id] = total;
		total += room;
	}
	pf->rows = g_new(uint32_t, total + 1);
	for (size_t i = 0; i < n; i++) {
		struct rule *r = rules[i];

		if (r->pf_row == 0)
			continue;
		/* A literal listed twice in a set counts once. */
		for (uint32_t k = 0; k < r->nlit_ids; k++) {
			uint32_t id = r->lit_ids[k], *v = pf->rows +
			    pf->row_at[id], j;

			for (j = 0; j < pf->row_n[id] && v[j] != r->pf_row - 1;
			    j++)
				;
			if (j == pf->row_n[id])
				v[pf->row_n[id]++] = r->pf_row - 1;
		}
	}
}

/* Which rules each literal belongs to. */
static void
owners_build(struct rules_pf *pf, struct rule *const *rules, size_t n)
{
	uint32_t *fill;

	pf->lr_at = g_new0(uint32_t, pf->nlits + 1);
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < rules[i]->nlit_ids; k++)
			pf->lr_at[rules[i]->lit_ids[k] + 1]++;
	for (size_t id = 0; id < pf->nlits; id++)
		pf->lr_at[id + 1] += pf->lr_at[id];
	pf->lr = g_new(uint32_t, pf->lr_at[pf->nlits] + 1);
	fill = g_memdup2(pf->lr_at, (pf->nlits + 1) * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < rules[i]->nlit_ids; k++)
			pf->lr[fill[rules[i]->lit_ids[k]]++] = rules[i]->ord;
	g_free(fill);
}

struct rules_pf *
pf_build(struct rule *const *rules, size_t n, char *err, size_t errlen)
{
#ifdef HAVE_HYPERSCAN
	GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *lits = g_ptr_array_new_with_free_func(g_free);
	struct rules_pf *pf = NULL;
	hs_compile_error_t *ce = NULL;
	unsigned *flags, *idv;
	size_t *lens;

	err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct rule *r = rules[i];
		char **l;
		size_t k;

		if (r->rx == NULL || r->is_neg || r->if_unset != NULL ||
		    (l = r->lits) == NULL)
			continue;
		for (k = 0; l[k] != NULL; k++)
			;
		r->lit_ids = g_new(uint32_t, k);
		r->nlit_ids = (uint32_t)k;
		r->pf_row = 0;
		for (k = 0; l[k] != NULL; k++) {
			char *cut = g_strndup(l[k], PF_MAXLEN);
			gpointer v;

			if (!g_hash_table_lookup_extended(ids, cut, NULL, &v)) {
				v = GUINT_TO_POINTER(lits->len);
				g_ptr_array_add(lits, cut);
				g_hash_table_insert(ids, lits->pdata[lits->len -
				    1], v);
			} else
				g_free(cut);
			r->lit_ids[k] = GPOINTER_TO_UINT(v);
		}
	}
	g_hash_table_destroy(ids);
	if (lits->len == 0) {
		g_ptr_array_free(lits, TRUE);
		return NULL;
	}
	flags = g_new(unsigned, lits->len);
	idv = g_new(unsigned, lits->len);
	lens = g_new(size_t, lits->len);
	for (guint i = 0; i < lits->len; i++) {
		flags[i] = HS_FLAG_CASELESS;
		idv[i] = i;
		lens[i] = strlen(lits->pdata[i]);
	}
	pf = g_new0(struct rules_pf, 1);
	pf->nlits = lits->len;
	pf->litlen = lens;
	if (hs_compile_lit_multi((const char *const *)lits->pdata, flags, idv,
	    lens, lits->len, HS_MODE_BLOCK, NULL, &pf->db, &ce) !=
	    HS_SUCCESS) {
		snprintf(err, errlen, "%s", ce != NULL ? ce->message :
		    "hyperscan failed");
		hs_free_compile_error(ce);
		g_free(lens);
		g_free(pf);
		pf = NULL;
		/* The rules run without the prefilter. */
		for (size_t i = 0; i < n; i++) {
			g_free(rules[i]->lit_ids);
			rules[i]->lit_ids = NULL;
			rules[i]->nlit_ids = 0;
		}
	} else {
		pf->serial = atomic_fetch_add(&pf_serials, 1) + 1;
		rows_build(pf, rules, n);
		owners_build(pf, rules, n);
	}
	g_free(flags);
	g_free(idv);
	g_ptr_array_free(lits, TRUE);
	return pf;
#else
	(void)rules;
	(void)n;
	(void)errlen;
	err[0] = '\0';
	return NULL;
#endif
}

void
pf_free(struct rules_pf *pf)
{
	if (pf == NULL)
		return;
#ifdef HAVE_HYPERSCAN
	hs_free_database(pf->db);
#endif
	g_free(pf->litlen);
	g_free(pf->row_at);
	g_free(pf->row_n);
	g_free(pf->rows);
	g_free(pf->lr_at);
	g_free(pf->lr);
	g_free(pf);
}

size_t
pf_nlits(const struct rules_pf *pf)
{
	return pf != NULL ? pf->nlits : 0;
}

/* Where each literal occurred: up to PF_KEEP chunks, then "many". */
#define PF_KEEP		6
struct pf_lit {
	uint8_t		 n;		/* PF_KEEP + 1: more than PF_KEEP */
	uint32_t	 chunk[PF_KEEP];
};

/*
 * A scan's literals: most of a set's never occur in a message, so each
 * has a slot number (0: not seen) and only those seen get a pf_lit, in
 * the order the scan meets them: what a scan clears is 4 bytes a
 * literal, not a whole pf_lit.
 */
struct pf_scan {
	const struct rules_pf	*pf;
	uint32_t		*slot;		/* [literal id] */
	struct pf_lit		*lit;		/* [slot - 1] */
	size_t			 nlit, litcap;
	struct arena		*a;
	uint16_t		*cnt;		/* [row * nchunks + chunk] */
	const size_t		*starts;	/* chunk offsets in the text */
	size_t			 nchunks;
};

static const struct pf_lit pf_lit_none;

/* Literal id's occurrences so far (none when the scan has not met it). */
static const struct pf_lit *
lit_of(const struct pf_scan *sc, size_t id)
{
	return sc->slot[id] != 0 ? &sc->lit[sc->slot[id] - 1] : &pf_lit_none;
}

#ifdef HAVE_HYPERSCAN
static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	struct pf_scan *sc = arg;
	struct pf_lit *l;
	size_t start = (size_t)to - sc->pf->litlen[id];
	size_t lo = 0, hi = sc->nchunks;

	(void)from;
	(void)flags;
	if (sc->slot[id] == 0) {
		sc->lit = arena_grow(sc->a, sc->lit, sc->nlit, &sc->litcap,
		    sizeof(*sc->lit));
		sc->lit[sc->nlit].n = 0;
		sc->slot[id] = (uint32_t)++sc->nlit;
	}
	l = &sc->lit[sc->slot[id] - 1];
	if (l->n > PF_KEEP && sc->pf->row_n[id] == 0)
		return 0;
	/* The chunk holding start: the last one starting at or before. */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (sc->starts[mid] <= start)
			lo = mid;
		else
			hi = mid;
	}
	/* Occurrences for the rules that need several. */
	for (uint32_t j = 0; j < sc->pf->row_n[id]; j++) {
		uint16_t *c = &sc->cnt[(size_t)sc->pf->rows[sc->pf->row_at[id] +
		    j] * sc->nchunks + lo];

		if (*c < UINT16_MAX)
			(*c)++;
	}
	if (l->n > PF_KEEP || (l->n > 0 && l->chunk[l->n - 1] == lo))
		return 0;
	if (l->n == PF_KEEP)
		l->n++;
	else
		l->chunk[l->n++] = (uint32_t)lo;
	return 0;
}
#endif

struct pf_scan *
pf_run(const struct rules_pf *pf, const struct rules_chunk *c, size_t nc,
    struct arena *a)
{
	struct pf_scan *sc;
	size_t *starts, len = 0;
	const char *text;
	bool contiguous = true;

	if (pf == NULL || nc == 0)
		return NULL;
	starts = arena_alloc(a, nc * sizeof(*starts));
	for (size_t i = 0; i < nc; i++) {
		starts[i] = len;
		len += c[i].len;
		if (i > 0 && c[i - 1].p + c[i - 1].len != c[i].p)
			contiguous = false;
	}
	if (contiguous)
		text = c[0].p;
	else {
		char *t = arena_alloc(a, len + 1);

		for (size_t i = 0; i < nc; i++)
			memcpy(t + starts[i], c[i].p, c[i].len);
		text = t;
	}
	/* arena_alloc clears what it gives. */
	sc = arena_alloc(a, sizeof(*sc));
	sc->pf = pf;
	sc->a = a;
	sc->starts = starts;
	sc->nchunks = nc;
	sc->slot = arena_alloc(a, pf->nlits * sizeof(*sc->slot));
	sc->cnt = NULL;
	if (pf->nrows > 0)
		sc->cnt = arena_alloc(a, (size_t)pf->nrows * nc *
		    sizeof(*sc->cnt));
#ifdef HAVE_HYPERSCAN
	if (len > 0 && hs_scan(pf->db, text, (unsigned)len, 0,
	    scratch_get(pf, false), on_match, sc) != HS_SUCCESS) {
		/* A scratch that does not fit after all: once more with
		 * one grown for this database, from a clean scan. */
		memset(sc->slot, 0, pf->nlits * sizeof(*sc->slot));
		sc->nlit = 0;
		if (sc->cnt != NULL)
			memset(sc->cnt, 0, (size_t)pf->nrows * nc *
			    sizeof(*sc->cnt));
		if (hs_scan(pf->db, text, (unsigned)len, 0, scratch_get(pf,
		    true), on_match, sc) != HS_SUCCESS)
			return NULL;	/* every rule runs everywhere */
	}
#else
	(void)text;
#endif
	return sc;
}

void
pf_mark(const struct pf_scan *sc, uint8_t *may)
{
	const struct rules_pf *pf = sc->pf;

	for (size_t id = 0; id < pf->nlits; id++)
		if (lit_of(sc, id)->n > 0)
			for (uint32_t j = pf->lr_at[id]; j < pf->lr_at[id + 1];
			    j++)
				may[pf->lr[j]] = 1;
}

int
pf_may_match(const struct pf_scan *sc, const struct rule *r, size_t i)
{
	if (sc == NULL || r->nlit_ids == 0)
		return -1;
	if (r->pf_row != 0)
		return sc->cnt[(size_t)(r->pf_row - 1) * sc->nchunks + i] >=
		    r->lit_k;
	for (uint32_t k = 0; k < r->nlit_ids; k++) {
		const struct pf_lit *l = lit_of(sc, r->lit_ids[k]);

		if (l->n > PF_KEEP)
			return -1;
		for (uint8_t j = 0; j < l->n; j++)
			if (l->chunk[j] == i)
				return 1;
	}
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The chunks r may match in, ascending and each once, in out (room for
 * nc); returns how many.  Without a scan or literals for r: all of them.
 */
size_t
pf_chunks(const struct pf_scan *sc, const struct rule *r, size_t nc,
    uint32_t *out)
{
	size_t n = 0, from = SIZE_MAX, m;
	bool many = false;

	if (sc == NULL || r->nlit_ids == 0) {
		for (size_t i = 0; i < nc; i++)
			out[i] = (uint32_t)i;
		return nc;
	}
	if (r->pf_row != 0) {
		/* The chunks holding lit_k occurrences. */
		const uint16_t *c = sc->cnt + (size_t)(r->pf_row - 1) * nc;

		for (size_t i = 0; i < nc; i++)
			if (c[i] >= r->lit_k)
				out[n++] = (uint32_t)i;
		return n;
	}
	for (uint32_t k = 0; k < r->nlit_ids; k++) {
		const struct pf_lit *l = lit_of(sc, r->lit_ids[k]);

		if (l->n == 0)
			continue;
		if (l->chunk[0] < from)
			from = l->chunk[0];
		if (l->n > PF_KEEP)
			many = true;
	}
	if (from == SIZE_MAX)
		return 0;		/* no literal: no match */
	if (many) {
		/* A literal in many chunks: every chunk from the first. */
		for (size_t i = from; i < nc; i++)
			out[n++] = (uint32_t)i;
		return n;
	}
	for (uint32_t k = 0; k < r->nlit_ids; k++) {
		const struct pf_lit *l = lit_of(sc, r->lit_ids[k]);

		for (uint8_t j = 0; j < l->n; j++) {
			for (m = 0; m < n && out[m] != l->chunk[j]; m++)
				;
			if (m == n)	/* distinct chunks: at most nc */
				out[n++] = l->chunk[j];
		}
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), u32_cmp);
	return n;
}
