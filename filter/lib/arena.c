/*
 * arena.c - chunked bump allocator with deferred destructors.
 * Owns its chunks and the defer list; the memory it hands out is valid
 * until arena_free().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "log.h"

#define CHUNK_MIN	(16 * 1024)
#define ALIGN		16

struct chunk {
	struct chunk	*next;
	size_t		 size;	/* usable bytes after the header */
	size_t		 used;
	max_align_t	 data[];
};

struct defer {
	struct defer	*next;
	void		(*fn)(void *);
	void		*arg;
};

struct arena {
	const char	*tag;
	struct chunk	*chunks;
	struct defer	*defers;
	size_t		 total;
};

static void *
xmalloc(size_t n, const char *tag)
{
	void *p = malloc(n);

	if (p == NULL)
		log_oom(n, tag);
	return p;
}

struct arena *
arena_new(const char *tag)
{
	struct arena *a = xmalloc(sizeof(*a), tag);

	a->tag = tag;
	a->chunks = NULL;
	a->defers = NULL;
	a->total = 0;
	return a;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->chunks;
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (need < n)
		log_oom(n, a->tag);
	if (c == NULL || c->size - c->used < need) {
		size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;

		if (c != NULL && c->size * 2 > size && c->size < 1024 * 1024)
			size = c->size * 2;
		c = xmalloc(sizeof(*c) + size, a->tag);
		c->size = size;
		c->used = 0;
		/* A big one-off block goes behind the current chunk so the
		 * current chunk's free space is still used. */
		if (a->chunks != NULL && need > CHUNK_MIN) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += need;
	a->total += need;
	memset(p, 0, n);
	return p;
}

void *
arena_grow(struct arena *a, void *base, size_t n, size_t *cap, size_t size)
{
	struct chunk *c = a->chunks;
	size_t ncap, old, need;
	void *p;

	if (n < *cap)
		return base;
	ncap = *cap ? *cap * 2 : 8;
	if (size != 0 && ncap > SIZE_MAX / 2 / size)
		log_oom(SIZE_MAX, a->tag);
	old = (*cap * size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	need = (ncap * size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	/* The last block handed out from the current chunk grows in place. */
	if (base != NULL && c != NULL && (char *)base + old ==
	    (char *)c->data + c->used && c->size - c->used >= need - old) {
		memset((char *)base + old, 0, need - old);
		c->used += need - old;
		a->total += need - old;
		*cap = ncap;
		return base;
	}
	p = arena_alloc(a, ncap * size);
	if (n != 0)
		memcpy(p, base, n * size);
	*cap = ncap;
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (n != 0)	/* s may be NULL when n is 0 */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

void *
arena_memdup(struct arena *a, const void *s, size_t n)
{
	void *p = arena_alloc(a, n ? n : 1);

	if (n != 0)	/* s may be NULL when n is 0 */
		memcpy(p, s, n);
	return p;
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char buf[256], *p;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return arena_strdup(a, "(format error)");
	}
	if ((size_t)n < sizeof(buf)) {
		va_end(ap2);
		return arena_strndup(a, buf, (size_t)n);
	}
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
	struct defer *d = arena_alloc(a, sizeof(*d));

	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}

void
arena_free(struct arena **ap)
{
	struct arena *a;
	struct chunk *c, *next;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	*ap = NULL;
	/* Defers live in the chunks: run them all before freeing any. */
	for (struct defer *d = a->defers; d != NULL; d = d->next)
		d->fn(d->arg);
	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}
