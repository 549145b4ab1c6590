/*
 * test_metrics.c - the exposition format: stats lines become families
 * with Prometheus names, units and labels, whole and once each; rule
 * hits keep the busiest rules and sum the rest; histograms are
 * cumulative; both text formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/metrics.h"
#include "metrics/stats_view.h"

/* Renders stats through metrics_from_stats; caller frees. */
static char *
render(const char *stats, bool om, size_t top)
{
	char *buf = NULL;
	size_t len = 0;
	struct metrics_fmt f = { .is_openmetrics = om, .top_rules = top };

	f.out = open_memstream(&buf, &len);
	assert_non_null(f.out);
	metrics_from_stats(&f, stats);
	metrics_end(&f);
	fclose(f.out);
	return buf;
}

static void
want(const char *out, const char *line)
{
	if (strstr(out, line) == NULL)
		fail_msg("missing \"%s\" in:\n%s", line, out);
}

static void
refuse(const char *out, const char *line)
{
	if (strstr(out, line) != NULL)
		fail_msg("unexpected \"%s\" in:\n%s", line, out);
}

static size_t
count(const char *out, const char *s)
{
	size_t n = 0;

	for (const char *p = out; (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

static void
test_names_units_labels(void **state)
{
	char *out = render(
	    "reloads 3\n"
	    "check.spf.failures 2\n"
	    "check.spf.ms.mean 1.5\n"
	    "check.dkim.failures 0\n"
	    "av.scan_ms_total 1500\n"
	    "av.clean 7\n"
	    "av.infected 1\n"
	    "bayes.learned.spam 200\n"
	    "bayes.ready 1\n"
	    "scan.pooled 5\n"
	    "scan.inline 1\n"
	    "quarantine.entries 4\n"
	    "messages.accept 9\n"
	    "some.new.counter 12\n", false, 10);

	(void)state;
	want(out, "# TYPE vigil_reloads_total counter\nvigil_reloads_total 3\n");
	want(out, "vigil_check_failures_total{check=\"spf\"} 2\n");
	want(out, "vigil_check_failures_total{check=\"dkim\"} 0\n");
	assert_int_equal(count(out, "# TYPE vigil_check_failures_total"), 1);
	refuse(out, "ms_mean");
	refuse(out, "messages_accept");
	/* Units: milliseconds come out as seconds. */
	want(out, "vigil_av_scan_seconds_total 1.5\n");
	want(out, "vigil_av_results_total{result=\"clean\"} 7\n");
	want(out, "vigil_av_results_total{result=\"infected\"} 1\n");
	assert_int_equal(count(out, "# TYPE vigil_av_results_total"), 1);
	want(out, "vigil_bayes_learned_messages{class=\"spam\"} 200\n");
	want(out, "# TYPE vigil_bayes_ready gauge\nvigil_bayes_ready 1\n");
	want(out, "vigil_scan_messages_total{thread=\"pool\"} 5\n");
	want(out, "vigil_scan_messages_total{thread=\"connection\"} 1\n");
	want(out, "vigil_quarantine_messages 4\n");
	/* Not mapped yet: still exported, untyped. */
	want(out, "# TYPE vigil_some_new_counter untyped\nvigil_some_new_counter 12\n");
	refuse(out, "# EOF");
	free(out);
}

static void
test_openmetrics(void **state)
{
	char *out = render("reloads 3\nuptime.s 10\nsome.x 1\n", true, 10);

	(void)state;
	/* OpenMetrics names the counter family without _total. */
	want(out, "# TYPE vigil_reloads counter\nvigil_reloads_total 3\n");
	want(out, "# TYPE vigil_uptime_seconds gauge\n");
	want(out, "# TYPE vigil_some_x unknown\n");
	assert_true(strlen(out) > 6 &&
	    strcmp(out + strlen(out) - 6, "# EOF\n") == 0);
	free(out);
}

static void
test_rule_top_n(void **state)
{
	char *out = render(
	    "rules.hits.RARE 1\n"
	    "rules.hits.BUSY 50\n"
	    "rules.hits.NEVER 0\n"
	    "rules.hits.MID 7\n"
	    "rules.hits.LOW 2\n"
	    "rules.us.BUSY 1234\n", false, 2);

	(void)state;
	want(out, "vigil_rule_hits_total{rule=\"BUSY\"} 50\n");
	want(out, "vigil_rule_hits_total{rule=\"MID\"} 7\n");
	want(out, "vigil_rule_hits_total{rule=\"other\"} 3\n");
	refuse(out, "rule=\"LOW\"");
	refuse(out, "rule=\"NEVER\"");
	refuse(out, "rules_us");
	/* The busiest first. */
	assert_true(strstr(out, "\"BUSY\"") < strstr(out, "\"MID\""));
	free(out);
	/* No room at all: one series. */
	out = render("rules.hits.A 1\nrules.hits.B 2\n", false, 0);
	want(out, "vigil_rule_hits_total{rule=\"other\"} 3\n");
	assert_int_equal(count(out, "vigil_rule_hits_total{"), 1);
	free(out);
}

static void
test_versions_and_escaping(void **state)
{
	char *out = render("version.rules 0123abcd\nversion.config 4\n"
	    "version.bayes 10/20\nversion.odd a\"b\\c\n", false, 10);
	char buf[32];

	(void)state;
	want(out, "vigil_version_info{rules=\"0123abcd\",config=\"4\","
	    "odd=\"a\\\"b\\\\c\"} 1\n");
	refuse(out, "bayes=");
	free(out);
	assert_string_equal(metrics_escape(buf, sizeof(buf), "x\ny"), "x\\ny");
}

static void
test_histogram(void **state)
{
	static struct histo h;
	struct histo_read r;
	char *buf = NULL;
	size_t len = 0;
	struct metrics_fmt f = { 0 };

	(void)state;
	histo_observe(&h, 300);		/* 0.3 ms */
	histo_observe(&h, 2000);	/* 2 ms */
	histo_observe(&h, 20000000);	/* 20 s: only +Inf */
	histo_read(&h, &r);
	f.out = open_memstream(&buf, &len);
	metrics_family(&f, "t_seconds", METRICS_HISTOGRAM, "test");
	metrics_histo(&f, "t_seconds", "check=\"x\"", &r);
	fclose(f.out);
	want(buf, "# TYPE t_seconds histogram\n");
	want(buf, "t_seconds_bucket{check=\"x\",le=\"0.0005\"} 1\n");
	want(buf, "t_seconds_bucket{check=\"x\",le=\"0.001\"} 1\n");
	want(buf, "t_seconds_bucket{check=\"x\",le=\"0.0025\"} 2\n");
	want(buf, "t_seconds_bucket{check=\"x\",le=\"10\"} 2\n");
	want(buf, "t_seconds_bucket{check=\"x\",le=\"+Inf\"} 3\n");
	want(buf, "t_seconds_count{check=\"x\"} 3\n");
	want(buf, "t_seconds_sum{check=\"x\"} 20.0023\n");
	free(buf);
	/* Quantiles: the bucket's bound, the longest observation past the
	 * last bound or below the bound. */
	assert_true(r.max_s > 19.99 && r.max_s < 20.01);
	assert_true(histo_quantile(&r, 0.3) == 0.0005);
	assert_true(histo_quantile(&r, 0.5) == 0.0025);
	assert_true(histo_quantile(&r, 0.99) > 19.99);
	{
		static struct histo e, one;
		struct histo_read re, ro;

		histo_read(&e, &re);
		assert_true(histo_quantile(&re, 0.99) == 0.0);
		histo_observe(&one, 700);	/* 0.7 ms: bucket 0.001 */
		histo_read(&one, &ro);
		assert_true(ro.max_s > 0.00069 && ro.max_s < 0.00071);
		assert_true(histo_quantile(&ro, 0.99) == ro.max_s);
	}
}

/* vigilctl stats: JSON for scripts, groups for people. */
static void
test_stats_views(void **state)
{
	static const char text[] =
	    "uptime.s 5\n"
	    "messages.tag 2\n"
	    "rules.hits.B 1\n"
	    "check.rules.runs 3\n"
	    "messages.accept 7\n"
	    "rules.hits.A 9\n"
	    "rules.hits.C 0\n"
	    "rules.us.A 120\n"
	    "check.rules.failures 0\n"
	    "check.rules.ms.mean 0.250\n"
	    "version.rules 0a1b2c3d\n"
	    "version.scores 12345678\n";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	stats_write_json(f, text);
	fclose(f);
	want(buf, "\"messages.accept\": 7,");
	want(buf, "\"version.rules\": \"0a1b2c3d\"");
	want(buf, "\"version.scores\": \"12345678\"");
	want(buf, "\"rules.us.A\": 120");
	/* Sorted by name. */
	assert_true(strstr(buf, "check.rules.runs") < strstr(buf, "messages.accept"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	stats_write_human(f, text);
	fclose(f);
	/* Versions lead; lines stay "name value" for scripts. */
	assert_true(strncmp(buf, "# versions in service\nversion.rules 0a1b2c3d\n",
	    45) == 0);
	want(buf, "\n# messages by action\nmessages.accept 7\nmessages.tag 2\n");
	want(buf, "check.rules.failures 0\ncheck.rules.ms.mean 0.250\n"
	    "check.rules.runs 3\n");
	/* Busiest rule first, its time with it; no line for C. */
	want(buf, "rules.hits.A 9\nrules.us.A 120\nrules.hits.B 1\n");
	refuse(buf, "rules.hits.C");
	want(buf, "# 1 rules without hits");
	want(buf, "# process\nuptime.s 5\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_units_labels),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_rule_top_n),
		cmocka_unit_test(test_versions_and_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_stats_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
