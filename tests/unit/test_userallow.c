/*
 * test_userallow.c - the users' allowed senders (userallow.h) on a real
 * file: added once however often it is asked, matched only when every
 * recipient allowed the sender, case and <> ignored, the null sender
 * never, and a change of the file seen by the next lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "lib/arena.h"
#include "quarantine/userallow.h"

static int
count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void
test_add_and_match(void **state)
{
	char dir[] = "/tmp/test_userallow.XXXXXX", path[64], ov[96];
	const char *ovs[1] = { ov }, *err = NULL;
	const char *alice[] = { "<Alice@Example.org>" };
	const char *both[] = { "alice@example.org", "bob@example.org" };
	struct arena *a = arena_new("test");
	struct cfg *c;
	char *cerr = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(ov, sizeof(ov), "QuarantineDir=%s", dir);
	c = cfg_load(NULL, ovs, 1, &cerr);
	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/user-allow", dir);

	/* No file: nothing allowed, no error. */
	assert_int_equal(userallow_match(a, c, "friend@good.example", alice,
	    1, &err), 0);
	assert_true(userallow_add(a, c, "alice@example.org",
	    "Friend@Good.example", &err));
	assert_true(userallow_add(a, c, "ALICE@example.org",
	    "friend@good.example", &err));
	assert_int_equal(count_lines(path), 1);
	/* A bounce cannot be allowed. */
	assert_false(userallow_add(a, c, "alice@example.org", "", &err));
	assert_int_equal(count_lines(path), 1);

	assert_int_equal(userallow_match(a, c, "<friend@GOOD.example>", alice,
	    1, &err), 1);
	assert_int_equal(userallow_match(a, c, "other@good.example", alice,
	    1, &err), 0);
	assert_int_equal(userallow_match(a, c, "", alice, 1, &err), 0);
	/* Bob did not allow it: a message to both is not allowed. */
	assert_int_equal(userallow_match(a, c, "friend@good.example", both,
	    2, &err), 0);
	assert_true(userallow_add(a, c, "bob@example.org",
	    "friend@good.example", &err));
	assert_int_equal(userallow_match(a, c, "friend@good.example", both,
	    2, &err), 1);

	/* The file changed behind our back: the next lookup sees it. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("alice@example.org other@good.example\n", f);
	fclose(f);
	assert_int_equal(userallow_match(a, c, "friend@good.example", alice,
	    1, &err), 0);
	assert_int_equal(userallow_match(a, c, "other@good.example", alice,
	    1, &err), 1);

	userallow_cache_free();
	unlink(path);
	rmdir(dir);
	cfg_unref(&c);
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
