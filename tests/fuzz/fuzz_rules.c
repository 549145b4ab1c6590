/*
 * fuzz_rules.c - the rules parser: the input as a rules file through
 * rules_load_string() and rules_compile() (tags, regex translation to
 * PCRE2, metas, evaluation order), then the set read back.  Problems go
 * to a diagnostics callback that checks each names its file.
 */
#include "fuzz.h"

#include "checks/rules/rules.h"

static void
diag(void *arg, enum rules_sev sev, const char *file, int line, int col,
    const char *name, const char *what)
{
	(void)arg; (void)sev; (void)line; (void)col; (void)name;
	if (file == NULL || what == NULL || *what == '\0')
		abort();	/* every problem says where and what */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rules_limits lim = { .match_limit = 100000,
	    .depth_limit = 1000, .body_scan = 50000, .raw_scan = 500000 };
	const struct rules_diag d = { .fn = diag, .arg = NULL };
	struct rules_set *set;
	char *text;

	(void)fuzz_snap("Checks headers\n");
	text = fuzz_cstr(data, size);
	set = rules_set_new(&lim);
	(void)rules_load_string(set, "fuzz.rules", text, &d);
	if (rules_compile(set, false, &d) == 0)
		for (size_t i = 0; i < rules_count(set); i++)
			if (rules_at(set, i) == NULL)
				abort();
	rules_set_free(&set);
	free(text);
	return 0;
}
