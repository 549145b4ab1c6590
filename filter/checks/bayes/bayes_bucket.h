/*
 * bayes_bucket.h - the buckets of the LMDB token store (bayes_lmdb.c):
 * a bucket covers a range of token hashes and holds up to BK_SLOTS of
 * them in an open-addressing table (linear probing, a token's home slot
 * computed from its hash), one page in all.  Nothing here talks to LMDB.
 */
#ifndef VIGIL_BAYES_BUCKET_H
#define VIGIL_BAYES_BUCKET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A token in a bucket: hash 0 is a free slot (tok_key() avoids it). */
struct slot {
	uint64_t	 tok;
	uint64_t	 v;		/* spam | ham << 24 | day << 48 */
};

#define BK_SLOTS	254	/* 16 + 254 * 16 bytes: one overflow page */
#define BK_MAX_USED	190	/* split above three quarters full */
#define CNT_MAX		0xffffffU

/* A bucket as stored (and as edited in memory). */
struct bucket {
	uint64_t	 lo;		/* lowest hash covered; the key is the highest */
	uint32_t	 nslots;	/* BK_SLOTS */
	uint32_t	 nused;
	struct slot	 s[BK_SLOTS];
};

static inline uint64_t
tok_key(uint64_t t)
{
	return t == 0 ? 1 : t;
}

static inline uint32_t
slot_spam(uint64_t v)
{
	return (uint32_t)(v & CNT_MAX);
}

static inline uint32_t
slot_ham(uint64_t v)
{
	return (uint32_t)((v >> 24) & CNT_MAX);
}

static inline uint32_t
slot_day(uint64_t v)
{
	return (uint32_t)(v >> 48);
}

static inline uint64_t
slot_pack(uint32_t spam, uint32_t ham, uint32_t day)
{
	return (uint64_t)spam | (uint64_t)ham << 24 |
	    (uint64_t)(day > 0xffff ? 0xffff : day) << 48;
}

/* The home slot of a token: its (mixed) hash scaled to the table. */
static inline uint32_t
slot_home(uint64_t t, uint32_t nslots)
{
	return (uint32_t)(((unsigned __int128)(t * 0x9e3779b97f4a7c15ULL) *
	    nslots) >> 64);
}

/* Reads slot i of a stored bucket (any alignment). */
static inline struct slot
slot_at(const unsigned char *b, size_t i)
{
	struct slot sl;

	memcpy(&sl, b + offsetof(struct bucket, s) + i * sizeof(sl),
	    sizeof(sl));
	return sl;
}

/* The packed counts of t in a stored bucket, 0 when absent. */
static inline uint64_t
bk_find_stored(const unsigned char *b, size_t len, uint64_t t)
{
	const uint32_t n = BK_SLOTS;

	if (len != sizeof(struct bucket))
		return 0;
	for (uint32_t i = slot_home(t, n), k = 0; k < n; k++) {
		struct slot sl = slot_at(b, i);

		if (sl.tok == t)
			return sl.v;
		if (sl.tok == 0)
			return 0;
		if (++i == n)
			i = 0;
	}
	return 0;
}

/* The slot of t in an in-memory bucket, or the free slot where it goes. */
static inline uint32_t
bk_slot(const struct bucket *b, uint64_t t)
{
	uint32_t i = slot_home(t, BK_SLOTS);

	while (b->s[i].tok != 0 && b->s[i].tok != t)
		if (++i == BK_SLOTS)
			i = 0;
	return i;
}

static inline void
bk_insert(struct bucket *b, uint64_t t, uint64_t v)
{
	uint32_t i = bk_slot(b, t);

	if (b->s[i].tok == 0)
		b->nused++;
	b->s[i].tok = t;
	b->s[i].v = v;
}

/* Frees slot i, moving later entries of its probe run back. */
static inline void
bk_remove(struct bucket *b, uint32_t i)
{
	uint32_t j = i;

	b->s[i].tok = 0;
	b->nused--;
	for (;;) {
		if (++j == BK_SLOTS)
			j = 0;
		if (b->s[j].tok == 0)
			return;
		uint32_t k = slot_home(b->s[j].tok, BK_SLOTS);
		/* Stays when its home is cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		b->s[i] = b->s[j];
		b->s[j].tok = 0;
		i = j;
	}
}

static inline void
bk_init(struct bucket *b, uint64_t lo)
{
	memset(b, 0, sizeof(*b));
	b->lo = lo;
	b->nslots = BK_SLOTS;
}

#endif
