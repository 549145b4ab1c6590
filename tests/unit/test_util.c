/*
 * test_util.c - sizes, durations, CIDR matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/util.h"

static void
test_sizes_durations(void **state)
{
	uint64_t v;

	assert_true(util_parse_size("10", &v) && v == 10);
	assert_true(util_parse_size("64k", &v) && v == 65536);
	assert_true(util_parse_size("2M", &v) && v == 2 << 20);
	assert_false(util_parse_size("x", &v));
	assert_false(util_parse_size("1t", &v));
	assert_false(util_parse_size("-1", &v));
	assert_true(util_parse_duration("500ms", &v) && v == 500);
	assert_true(util_parse_duration("30", &v) && v == 30000);
	assert_true(util_parse_duration("30d", &v) && v == 30ull * 86400 * 1000);
	assert_false(util_parse_duration("5y", &v));
	/* Overflow, of the number or of number times unit: refused. */
	assert_false(util_parse_size("99999999999999999999", &v));
	assert_false(util_parse_size("17179869184g", &v));
	assert_false(util_parse_duration("18446744073709551615d", &v));
	assert_true(util_parse_size("16g", &v) && v == 16ull << 30);
}

static void
test_cidr(void **state)
{
	static const struct {
		const char *net, *ip;
		bool want;
	} cases[] = {
		{ "127.0.0.0/8", "127.1.2.3", true },
		{ "127.0.0.0/8", "128.0.0.1", false },
		{ "192.0.2.1", "192.0.2.1", true },
		{ "192.0.2.1", "192.0.2.2", false },
		{ "10.0.0.0/8", "::ffff:10.1.1.1", true },
		{ "2001:db8::/32", "2001:db8:1::5", true },
		{ "2001:db8::/32", "2001:db9::5", false },
		{ "::1", "::1", true },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "192.0.2.0/25", "192.0.2.200", false },
	};
	struct util_cidr c;

	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_true(util_parse_cidr(cases[i].net, &c));
		if (util_cidr_match(&c, cases[i].ip) != cases[i].want)
			fail_msg("case %zu: %s in %s", i, cases[i].ip, cases[i].net);
	}
	assert_false(util_parse_cidr("10.0.0.0/33", &c));
	assert_false(util_parse_cidr("example.com", &c));
	assert_false(util_parse_cidr("10.0.0.0/", &c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_durations),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
