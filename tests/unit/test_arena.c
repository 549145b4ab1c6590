/*
 * test_arena.c - the arena: alignment, big blocks, printf, defers in
 * reverse order, idempotent free.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
