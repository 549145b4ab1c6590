/*
 * arena.h - region allocator: everything a message (or a connection) owns
 * is allocated here and released at once by arena_free().  Non-memory
 * resources register a destructor with arena_defer() on the line that
 * creates them.  Allocation never returns NULL: out of memory aborts with
 * the arena's tag in the log (the MTA's milter_default_action covers mail
 * in flight).
 */
#ifndef VIGIL_ARENA_H
#define VIGIL_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a)	__attribute__((format(printf, f, a)))

struct arena;

/* Returns a new empty arena; tag shows in out-of-memory messages. */
struct arena	*arena_new(const char *tag);
/* Returns zeroed memory aligned for any type; never NULL. */
void		*arena_alloc(struct arena *, size_t);
/* Returns a NUL-terminated copy of s (NULL stays NULL). */
char		*arena_strdup(struct arena *, const char *s);
/* Returns a NUL-terminated copy of the n bytes at s. */
char		*arena_strndup(struct arena *, const char *s, size_t n);
/* Returns a copy of the n bytes at p. */
void		*arena_memdup(struct arena *, const void *p, size_t n);
char		*arena_printf(struct arena *, const char *, ...) PRINTF_LIKE(2, 3);
char		*arena_vprintf(struct arena *, const char *, va_list);
/*
 * Room for one more element in a growable array of n elements of size
 * bytes each, *cap of which are allocated at base (NULL and 0 at first).
 * Returns base while n < *cap; else a block of twice the capacity (at
 * least 8) with the n elements in it, and sets *cap; the new room is
 * zeroed.  The array grows in place when it is the arena's last
 * allocation; an old block is left to the arena.  Usage: v = arena_grow(a, v, n, &cap, sizeof(*v)); v[n++] = x;
 */
void		*arena_grow(struct arena *, void *base, size_t n, size_t *cap,
		    size_t size);
/* fn(arg) runs when the arena is freed, last registered first. */
void		 arena_defer(struct arena *, void (*fn)(void *), void *arg);
/* Bytes handed out so far (for limits and statistics). */
size_t		 arena_used(const struct arena *);
/* Runs the deferred calls, frees everything, sets *ap to NULL; NULL-safe. */
void		 arena_free(struct arena **ap);

#endif
