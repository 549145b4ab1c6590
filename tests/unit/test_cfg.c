/*
 * test_cfg.c - the config loader: types, bounds, errors with file:line,
 * overrides, relative paths, lists.
 */
#include "t.h"

static struct cfg *
load(const char *text, const char *const *ov, size_t nov, char **err_r)
{
	char *path = t_write_file(text);
	struct cfg *c = cfg_load(path, ov, nov, err_r);

	unlink(path);
	free(path);
	return c;
}

static void
test_defaults(void **state)
{
	char *err = NULL;
	struct cfg *c = cfg_load(NULL, NULL, 0, &err);

	assert_non_null(c);
	assert_true(cfg_double(c, "TagScore") == 5.0);
	assert_int_equal(cfg_size(c, "SpoolMemoryMax"), 1024 * 1024);
	assert_string_equal(cfg_enum_str(c, "OnError"), "tempfail");
	assert_null(cfg_str(c, "UserID"));
	assert_false(cfg_is_set(c, "TagScore"));
	cfg_unref(&c);
	assert_null(c);
}

static void
test_values_and_lists(void **state)
{
	char *err = NULL;
	struct cfg *c = load("# comment\n\nTagScore 4.5\nSpoolMemoryMax 64k\n"
	    "TrustedNetworks 10.0.0.0/8, 192.0.2.1\nTrustedNetworks ::1\n"
	    "RewriteSubject \"[SPAM] %s\"\nShutdownTimeout 2m\nSkipTrusted no\n",
	    NULL, 0, &err);
	size_t n;
	const char *const *l;

	assert_non_null(c);
	assert_true(cfg_double(c, "TagScore") == 4.5);
	assert_int_equal(cfg_size(c, "SpoolMemoryMax"), 65536);
	assert_int_equal(cfg_duration_ms(c, "ShutdownTimeout"), 120000);
	assert_false(cfg_bool(c, "SkipTrusted"));
	assert_string_equal(cfg_str(c, "RewriteSubject"), "[SPAM] %s");
	l = cfg_list(c, "TrustedNetworks", &n);
	assert_int_equal(n, 3);	/* the default list was replaced, not added to */
	assert_string_equal(l[0], "10.0.0.0/8");
	assert_string_equal(l[2], "::1");
	assert_true(cfg_is_set(c, "TagScore"));
	cfg_unref(&c);
}

static void
test_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "TagScore 5\nNoSuchKeyword 1\n", ":2: NoSuchKeyword: unknown keyword" },
		{ "TagScore five\n", ":1: TagScore: expected a number" },
		{ "\n\nSpoolMemoryMax 12q\n", ":3: SpoolMemoryMax: expected a size" },
		{ "SpoolMemoryMax 1\n", ":1: SpoolMemoryMax: 1 is out of range" },
		{ "OnError maybe\n", ":1: OnError: expected one of tempfail|accept" },
		{ "SkipTrusted perhaps\n", ":1: SkipTrusted: expected yes or no" },
		{ "TagScore\n", ":1: TagScore: missing value" },
		{ "ShutdownTimeout 5 parsecs\n", ":1: ShutdownTimeout: expected a duration" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;
		struct cfg *c = load(cases[i].text, NULL, 0, &err);

		assert_null(c);
		assert_non_null(err);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
		free(err);
	}
}

static void
test_missing_file(void **state)
{
	char *err = NULL;

	assert_null(cfg_load("/nonexistent/vigil.conf", NULL, 0, &err));
	assert_non_null(strstr(err, "/nonexistent/vigil.conf: cannot open"));
	free(err);
}

static void
test_overrides(void **state)
{
	const char *ov[] = { "TagScore=3", "OnError=accept" };
	const char *bad[] = { "Bogus=1" };
	const char *noeq[] = { "TagScore" };
	char *err = NULL;
	struct cfg *c = load("TagScore 6\n", ov, 2, &err);

	assert_non_null(c);
	assert_true(cfg_double(c, "TagScore") == 3.0);
	assert_string_equal(cfg_enum_str(c, "OnError"), "accept");
	cfg_unref(&c);
	assert_null(load("TagScore 6\n", bad, 1, &err));
	assert_non_null(strstr(err, "Bogus: unknown keyword"));
	free(err);
	assert_null(load("", noeq, 1, &err));
	assert_non_null(strstr(err, "expected Keyword=value"));
	free(err);
}

/* nan compares false with both bounds: RejectScore=nan would turn
 * rejects off without a word.  Non-finite numbers are refused. */
static void
test_non_finite(void **state)
{
	static const char *const vals[] = {
		"RejectScore=nan", "RejectScore=NaN", "TagScore=inf",
		"TagScore=-inf", "RejectScore=infinity", "TagScore=nan(1)",
	};
	char *err = NULL;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const char *ov[] = { vals[i] };

		assert_null(load("", ov, 1, &err));
		assert_non_null(strstr(err, "expected a finite number"));
		free(err);
		err = NULL;
	}
	assert_null(load("RejectScore nan\n", NULL, 0, &err));
	assert_non_null(strstr(err, ":1: RejectScore"));
	free(err);
}

static void
test_relative_paths(void **state)
{
	char dir[] = "/tmp/vigil-cfgdir-XXXXXX";
	char path[256];
	FILE *f;
	char *err = NULL;
	struct cfg *c;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vigil.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("TempDirectory spool\nPidFile /run/x.pid\n", f);
	fclose(f);
	c = cfg_load(path, NULL, 0, &err);
	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/spool", dir);
	assert_string_equal(cfg_str(c, "TempDirectory"), path);
	assert_string_equal(cfg_str(c, "PidFile"), "/run/x.pid");
	cfg_unref(&c);
	snprintf(path, sizeof(path), "%s/vigil.conf", dir);
	unlink(path);
	rmdir(dir);
}

/* Every option of every table appears in samples/vigil.conf. */
static void
test_sample_lists_every_option(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[1024];
	FILE *f;
	size_t missing = 0;

	snprintf(path, sizeof(path), "%s/samples/vigil.conf", top ? top : ".");
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name; o++) {
			bool found = false;
			size_t n = strlen(o->name);

			f = fopen(path, "r");
			if (f == NULL)
				fail_msg("%s: cannot open", path);
			while (!found && fgets(line, sizeof(line), f) != NULL) {
				const char *p = line[0] == '#' ? line + 1 : line;

				found = strncmp(p, o->name, n) == 0 &&
				    (p[n] == ' ' || p[n] == '\t' || p[n] == '\n');
			}
			fclose(f);
			if (!found) {
				print_error("samples/vigil.conf lacks %s\n", o->name);
				missing++;
			}
		}
	assert_int_equal(missing, 0);
	/* And the sample itself loads. */
	{
		char *err = NULL;
		struct cfg *c = cfg_load(path, NULL, 0, &err);

		if (c == NULL)
			fail_msg("%s", err);
		cfg_unref(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_lists),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_non_finite),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_sample_lists_every_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
