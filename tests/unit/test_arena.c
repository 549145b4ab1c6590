/*
 * test_arena.c - the arena: alignment, big blocks, printf, defers in
 * reverse order, idempotent free, growable arrays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/arena.h"

static int order[4], norder;

static void
rec(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
}

static void
test_alloc_and_free(void **state)
{
	struct arena *a = arena_new("test");
	char *big;

	for (int i = 0; i < 1000; i++) {
		char *p = arena_alloc(a, (size_t)i + 1);

		assert_int_equal((uintptr_t)p % 16, 0);
		assert_int_equal(p[i], 0);
		memset(p, 'x', (size_t)i + 1);
	}
	big = arena_alloc(a, 1 << 20);
	big[(1 << 20) - 1] = 1;
	assert_string_equal(arena_printf(a, "%s-%d", "n", 42), "n-42");
	assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
	assert_null(arena_strdup(a, NULL));
	/* Empty copies of no buffer (a MIME part without data): UBSan
	 * flagged memcpy(p, NULL, 0) here in the sanitizer build. */
	assert_string_equal(arena_strndup(a, NULL, 0), "");
	assert_non_null(arena_memdup(a, NULL, 0));
	{
		char longs[600];

		memset(longs, 'y', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		assert_string_equal(arena_printf(a, "%s", longs), longs);
	}
	norder = 0;
	arena_defer(a, rec, (void *)1);
	arena_defer(a, rec, (void *)2);
	arena_defer(a, rec, (void *)3);
	assert_true(arena_used(a) > (1 << 20));
	arena_free(&a);
	assert_null(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[2], 1);
	arena_free(&a);	/* idempotent */
	arena_free(NULL);
}

/* arena_grow keeps every element, zeroes new room, grows in place when it
 * can and copies when something was allocated after the array. */
static void
test_grow(void **state)
{
	struct arena *a = arena_new("test");
	uint64_t *v = NULL, *w = NULL, *prev;
	size_t n = 0, cap = 0, wn = 0, wcap = 0, moved = 0;

	(void)state;
	for (uint64_t i = 0; i < 100000; i++) {
		prev = v;
		v = arena_grow(a, v, n, &cap, sizeof(*v));
		assert_true(n < cap);
		assert_int_equal((uintptr_t)v % 16, 0);
		if (prev != NULL && prev != v)
			moved++;
		assert_int_equal(v[n], 0);
		v[n++] = i * 7;
	}
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(v[i], i * 7);
	/* Alone in its chunk, the array grew in place until the chunk was
	 * full: far fewer moves than doublings. */
	assert_true(moved < 10);
	/* Two arrays growing in turn cannot both be last: they are copied. */
	n = cap = 0;
	v = NULL;
	for (uint64_t i = 0; i < 1000; i++) {
		v = arena_grow(a, v, n, &cap, sizeof(*v));
		v[n++] = i;
		w = arena_grow(a, w, wn, &wcap, sizeof(*w));
		w[wn++] = i + 1;
	}
	for (uint64_t i = 0; i < 1000; i++) {
		assert_int_equal(v[i], i);
		assert_int_equal(w[i], i + 1);
	}
	/* Odd element sizes keep their alignment and contents. */
	{
		struct { char c[3]; } *t = NULL;
		size_t tn = 0, tcap = 0;

		for (int i = 0; i < 500; i++) {
			t = arena_grow(a, t, tn, &tcap, sizeof(*t));
			memset(t[tn].c, i & 0x7f, 3);
			tn++;
		}
		for (int i = 0; i < 500; i++)
			assert_int_equal(t[i].c[2], i & 0x7f);
	}
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_and_free),
		cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
