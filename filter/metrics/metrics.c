/*
 * metrics.c - writes the Prometheus text format (0.0.4) or OpenMetrics
 * 1.0: family headers, samples, histograms, and the translation of the
 * `vigilctl stats` lines into conventional metric names (units in the
 * name, _total on counters, one label per varying part).  Owns nothing
 * past a call; the caller owns the stream.
 */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

static const char *
type_name(const struct metrics_fmt *f, enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER:	return "counter";
	case METRICS_GAUGE:	return "gauge";
	case METRICS_HISTOGRAM:	return "histogram";
	default:		return f->is_openmetrics ? "unknown" : "untyped";
	}
}

/* Counters' samples end in _total; the 0.0.4 format names the family
 * by its sample name, OpenMetrics without the suffix. */
void
metrics_family(const struct metrics_fmt *f, const char *name,
    enum metrics_type t, const char *help)
{
	const char *sfx = t == METRICS_COUNTER && !f->is_openmetrics ?
	    "_total" : "";

	fprintf(f->out, "# HELP %s%s %s\n", name, sfx, help);
	fprintf(f->out, "# TYPE %s%s %s\n", name, sfx, type_name(f, t));
}

static void
put_value(FILE *out, double v)
{
	if (isnan(v))
		fputs("NaN", out);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.9g", v);
}

void
metrics_sample(const struct metrics_fmt *f, const char *name,
    enum metrics_type t, const char *labels, double v)
{
	fprintf(f->out, "%s%s", name, t == METRICS_COUNTER ? "_total" : "");
	if (labels != NULL && *labels != '\0')
		fprintf(f->out, "{%s}", labels);
	fputc(' ', f->out);
	put_value(f->out, v);
	fputc('\n', f->out);
}

void
metrics_histo(const struct metrics_fmt *f, const char *name,
    const char *labels, const struct histo_read *h)
{
	const char *sep = labels != NULL && *labels != '\0' ? "," : "";

	if (labels == NULL)
		labels = "";
	for (int i = 0; i < HISTO_NBOUNDS; i++)
		fprintf(f->out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
		    sep, histo_bounds[i], h->cum[i]);
	fprintf(f->out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    h->cum[HISTO_NBOUNDS]);
	fprintf(f->out, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "");
	put_value(f->out, h->sum_s);
	fprintf(f->out, "\n%s_count%s%s%s %llu\n", name, *labels ? "{" : "",
	    labels, *labels ? "}" : "", h->cum[HISTO_NBOUNDS]);
}

char *
metrics_escape(char *buf, size_t bufsz, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < bufsz; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

void
metrics_end(const struct metrics_fmt *f)
{
	if (f->is_openmetrics)
		fputs("# EOF\n", f->out);
}

/* ------------------------------------------------------------ stats lines */

/*
 * One row maps stats names to a family.  key is a name, or a pattern
 * with one `*` whose match becomes the value of `label`; fixed rows may
 * set a constant label instead.  name NULL: not exported (shown another
 * way, or unbounded).  The first row that matches wins.
 */
struct map {
	const char	*key;
	const char	*name;
	enum metrics_type type;
	const char	*label;
	const char	*label_value;	/* fixed value, for rows without `*` */
	double		 scale;		/* 0: 1 */
	const char	*help;
};

#define C METRICS_COUNTER
#define G METRICS_GAUGE
static const struct map maps[] = {
	/* Shown as vigil_messages_total and the histograms instead. */
	{ "messages.*", NULL, C, NULL, NULL, 0, NULL },
	{ "scan.ms.mean", NULL, G, NULL, NULL, 0, NULL },
	{ "check.*.ms.mean", NULL, G, NULL, NULL, 0, NULL },
	{ "check.*.runs", NULL, C, NULL, NULL, 0, NULL },
	{ "eom.*.count", NULL, C, NULL, NULL, 0, NULL },
	{ "eom.*.ms.mean", NULL, G, NULL, NULL, 0, NULL },
	{ "eom.*.ms.p50", NULL, G, NULL, NULL, 0, NULL },
	{ "eom.*.ms.p99", NULL, G, NULL, NULL, 0, NULL },
	{ "eom.*.ms.max", NULL, G, NULL, NULL, 0, NULL },
	/* Per rule: time and limits are one series per rule each. */
	{ "rules.us.*", NULL, C, NULL, NULL, 0, NULL },
	{ "rules.limit.*", NULL, C, NULL, NULL, 0, NULL },
	{ "quarantine.false_positives.*", NULL, C, NULL, NULL, 0, NULL },
	{ "shadow.us.*", NULL, C, NULL, NULL, 0, NULL },
	{ "shadow.limit.*", NULL, C, NULL, NULL, 0, NULL },

	{ "check.*.failures", "vigil_check_failures", C, "check", NULL, 0,
	  "Check runs that failed (tempfail or error), by check" },
	{ "check.*.incomplete", "vigil_check_incomplete", C, "check", NULL, 0,
	  "Messages whose budget cut the check short or left it unrun, by "
	  "check (SCAN_INCOMPLETE)" },
	{ "connections.active", "vigil_connections_active", G, NULL, NULL, 0,
	  "SMTP connections the MTA has open to the filter" },
	{ "connections.total", "vigil_connections", C, NULL, NULL, 0,
	  "SMTP connections the MTA opened to the filter" },
	{ "reloads", "vigil_reloads", C, NULL, NULL, 0,
	  "Configuration reloads put in service" },
	{ "reloads.failed", "vigil_reload_failures", C, NULL, NULL, 0,
	  "Configuration reloads refused (the previous one kept serving)" },
	{ "config.generation", "vigil_config_generation", G, NULL, NULL, 0,
	  "Configuration in service: 1 at start, one more per reload" },
	{ "uptime.s", "vigil_uptime_seconds", G, NULL, NULL, 0,
	  "Seconds since the filter started" },
	{ "heap.in_use", "vigil_heap_in_use_bytes", G, NULL, NULL, 0,
	  "Heap bytes allocated (all malloc arenas)" },
	{ "heap.free", "vigil_heap_free_bytes", G, NULL, NULL, 0,
	  "Heap bytes free but still held by malloc" },
	{ "scan.pooled", "vigil_scan_messages", C, "thread", "pool", 0,
	  "Messages by where their end-of-message checks ran" },
	{ "scan.inline", "vigil_scan_messages", C, "thread", "connection", 0,
	  NULL },
	{ "scan.threads", "vigil_scan_threads", G, NULL, NULL, 0,
	  "Long-lived scan threads (ScanThreads)" },
	{ "scan.threads.busy", "vigil_scan_threads_busy", G, NULL, NULL, 0,
	  "Scan threads running a message now" },

	{ "rules.hits.*", "vigil_rule_hits", C, "rule", NULL, 0,
	  "Rule hits: the busiest rules by name, the rest as rule=\"other\"" },
	{ "shadow.hits.*", "vigil_shadow_rule_hits", C, "rule", NULL, 0,
	  "Hits of shadow rules (counted, never scored): the busiest, the "
	  "rest as rule=\"other\"" },
	{ "rules.messages", "vigil_rules_messages", C, NULL, NULL, 0,
	  "Messages the rules ran on" },
	{ "rules.us", "vigil_rules_seconds", C, NULL, NULL, 1e-6,
	  "Time spent matching rules" },

	{ "bayes.classified", "vigil_bayes_messages", C, "result", "classified",
	  0, "Messages Bayes saw, by what it could do" },
	{ "bayes.not_ready", "vigil_bayes_messages", C, "result", "not_ready",
	  0, NULL },
	{ "bayes.unavailable", "vigil_bayes_messages", C, "result",
	  "unavailable", 0, NULL },
	{ "bayes.ready", "vigil_bayes_ready", G, NULL, NULL, 0,
	  "1 when the store has learned enough of both classes to vote" },
	{ "bayes.learned.*", "vigil_bayes_learned_messages", G, "class", NULL,
	  0, "Messages in the Bayes store, by class" },
	{ "bayes.store.tokens", "vigil_bayes_tokens", G, NULL, NULL, 0,
	  "Distinct tokens in the Bayes store" },
	{ "bayes.store.bytes", "vigil_bayes_store_bytes", G, NULL, NULL, 0,
	  "Size of the Bayes store" },
	{ "bayes.store.last_learn", "vigil_bayes_last_learn_timestamp_seconds",
	  G, NULL, NULL, 0, "When the store last learned a message (0: never)" },
	{ "bayes.autolearn.queued", "vigil_bayes_autolearn_queued", G, NULL,
	  NULL, 0, "Messages waiting to be learned" },
	{ "bayes.autolearn.batches", "vigil_bayes_autolearn_batches", C, NULL,
	  NULL, 0, "Autolearn write transactions" },
	{ "bayes.autolearn.*", "vigil_bayes_autolearn_messages", C, "outcome",
	  NULL, 0, "Autolearn by outcome (spam, ham, failed, dropped)" },

	{ "av.scanned", "vigil_av_scanned_messages", C, NULL, NULL, 0,
	  "Messages the virus scanner saw" },
	{ "av.clean", "vigil_av_results", C, "result", "clean", 0,
	  "Virus scan results" },
	{ "av.infected", "vigil_av_results", C, "result", "infected", 0, NULL },
	{ "av.heuristic", "vigil_av_results", C, "result", "heuristic", 0,
	  NULL },
	{ "av.errors", "vigil_av_results", C, "result", "error", 0, NULL },
	{ "av.scan_ms_total", "vigil_av_scan_seconds", C, NULL, NULL, 1e-3,
	  "Time spent scanning for viruses" },
	{ "av.reloads", "vigil_av_reloads", C, NULL, NULL, 0,
	  "Signature database reloads" },
	{ "av.reload_failures", "vigil_av_reload_failures", C, NULL, NULL, 0,
	  "Signature database reloads that failed" },
	{ "av.engines_live", "vigil_av_engines", G, NULL, NULL, 0,
	  "Compiled engines in memory (more than one during a reload)" },
	{ "av.path_fast", "vigil_av_scan_path", C, "path", "fast", 0,
	  "Scans by path (fast: body in memory; full: temp file)" },
	{ "av.path_full", "vigil_av_scan_path", C, "path", "full", 0, NULL },
	{ "av.engine.generation", "vigil_av_engine_generation", G, NULL, NULL,
	  0, "Engine loads since start" },
	{ "av.engine.signatures", "vigil_av_signatures", G, NULL, NULL, 0,
	  "Signatures in the engine in service" },
	{ "av.engine.load_ms", "vigil_av_load_seconds", G, NULL, NULL, 1e-3,
	  "How long the engine in service took to load" },
	{ "av.engine.db_version", "vigil_av_database_version", G, NULL, NULL,
	  0, "Version of the newest signature database (daily.cvd), 0: none" },
	{ "av.engine.db_age_s", "vigil_av_database_age_seconds", G, NULL, NULL,
	  0, "Age of the newest signature database" },

	{ "greylist.deferred", "vigil_greylist_messages", C, "result",
	  "deferred", 0, "Grey-band messages greylisting saw, by outcome" },
	{ "greylist.retried", "vigil_greylist_messages", C, "result",
	  "retried", 0, NULL },
	{ "greylist.allowed", "vigil_greylist_messages", C, "result",
	  "allowed", 0, NULL },
	{ "greylist.unavailable", "vigil_greylist_messages", C, "result",
	  "unavailable", 0, NULL },
	{ "ratelimit.limited.*", "vigil_ratelimit_limited_messages", C,
	  "bucket", NULL, 0, "Messages refused past a rate-limit bucket" },
	{ "ratelimit.taken", "vigil_ratelimit_taken", C, NULL, NULL, 0,
	  "Steps (MAIL FROM, end of message) that took their tokens" },
	{ "ratelimit.unavailable", "vigil_ratelimit_unavailable_messages", C,
	  NULL, NULL, 0, "Messages not rate-limited: Redis unreachable" },

	{ "policy.released", "vigil_released_messages", C, NULL, NULL, 0,
	  "Quarantined messages released back to their recipients" },
	{ "policy.release_refused", "vigil_release_refused", C, NULL, NULL, 0,
	  "Release attempts refused (bad or used token)" },
	{ "quarantine.entries", "vigil_quarantine_messages", G, NULL, NULL, 0,
	  "Messages in the quarantine" },
	{ "quarantine.released", "vigil_quarantine_released_messages", G, NULL,
	  NULL, 0, "Quarantined messages marked released" },
	{ "quarantine.bytes", "vigil_quarantine_bytes", G, NULL, NULL, 0,
	  "Size of the quarantined messages" },
	{ "quarantine.deleted", "vigil_quarantine_deleted_messages", G, NULL,
	  NULL, 0, "Quarantine entries deleted (message removed) and not yet "
	  "purged" },
};
#undef C
#undef G

/* Does key match pattern?  The `*` part goes to *cap_r (in key). */
static bool
key_match(const char *pat, const char *key, const char **cap_r,
    size_t *caplen_r)
{
	const char *star = strchr(pat, '*');
	size_t pre, post, klen = strlen(key);

	*cap_r = NULL;
	*caplen_r = 0;
	if (star == NULL)
		return strcmp(pat, key) == 0;
	pre = (size_t)(star - pat);
	post = strlen(star + 1);
	if (klen <= pre + post || strncmp(pat, key, pre) != 0 ||
	    strcmp(key + klen - post, star + 1) != 0)
		return false;
	*cap_r = key + pre;
	*caplen_r = klen - pre - post;
	return true;
}

struct sample {
	char		*label;		/* value of the row's label, or NULL */
	double		 v;
};

struct fam {
	const struct map *row;		/* the first row of this name */
	GArray		*samples;	/* struct sample */
	bool		 is_top;	/* keep the busiest, sum the rest */
};

static int
by_value_desc(gconstpointer a, gconstpointer b)
{
	const struct sample *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return strcmp(x->label, y->label);
}

static void
put_fam(const struct metrics_fmt *f, struct fam *fm)
{
	const struct map *r = fm->row;
	char esc[256], labels[320];
	double other = 0;
	size_t n = fm->samples->len;

	if (fm->is_top)
		g_array_sort(fm->samples, by_value_desc);
	metrics_family(f, r->name, r->type, r->help);
	for (size_t i = 0; i < n; i++) {
		struct sample *s = &g_array_index(fm->samples, struct sample, i);

		if (fm->is_top && (i >= f->top_rules || s->v <= 0)) {
			other += s->v;
			continue;
		}
		if (s->label != NULL)
			snprintf(labels, sizeof(labels), "%s=\"%s\"", r->label,
			    metrics_escape(esc, sizeof(esc), s->label));
		else
			labels[0] = '\0';
		metrics_sample(f, r->name, r->type, labels, s->v);
	}
	if (fm->is_top) {
		snprintf(labels, sizeof(labels), "%s=\"other\"", r->label);
		metrics_sample(f, r->name, r->type, labels, other);
	}
}

/* The label part of the version info series, from "version.K V". */
static void
add_version(GString *info, const char *key, const char *val)
{
	char esc[256];
	char name[64];
	size_t o = 0;

	for (const char *p = key; *p && o + 1 < sizeof(name); p++)
		name[o++] = g_ascii_isalnum(*p) ? *p : '_';
	name[o] = '\0';
	g_string_append_printf(info, "%s%s=\"%s\"", info->len ? "," : "", name,
	    metrics_escape(esc, sizeof(esc), val));
}

/* vigil_ + the name with every other character an underscore. */
static char *
fallback_name(const char *key)
{
	GString *s = g_string_new("vigil_");

	for (const char *p = key; *p; p++)
		g_string_append_c(s, g_ascii_isalnum(*p) ? *p : '_');
	return g_string_free(s, FALSE);
}

void
metrics_from_stats(const struct metrics_fmt *f, const char *text)
{
	size_t nmaps = sizeof(maps) / sizeof(maps[0]);
	struct fam *fams = g_new0(struct fam, nmaps);
	GString *info = g_string_new(NULL), *rest = g_string_new(NULL);
	char **lines = g_strsplit(text, "\n", -1);

	/* Collect: families must come out whole, whatever the line order. */
	for (char **l = lines; *l != NULL; l++) {
		char *sp = strchr(*l, ' '), *end;
		const char *cap;
		size_t caplen, i;
		double v;

		if (sp == NULL || sp == *l)
			continue;
		*sp = '\0';
		/* The Bayes store's version moves with every message
		 * learned: as a label it would make a series per message
		 * (vigil_bayes_learned_messages has it). */
		if (strcmp(*l, "version.bayes") == 0)
			continue;
		if (strncmp(*l, "version.", 8) == 0) {
			add_version(info, *l + 8, sp + 1);
			continue;
		}
		v = strtod(sp + 1, &end);
		if (end == sp + 1 || *end != '\0')
			continue;	/* not a number */
		for (i = 0; i < nmaps; i++)
			if (key_match(maps[i].key, *l, &cap, &caplen))
				break;
		if (i == nmaps) {
			char *name = fallback_name(*l);

			g_string_append_printf(rest, "%s %.17g\n", name, v);
			g_free(name);
			continue;
		}
		if (maps[i].name == NULL)
			continue;
		/* All rows of one name share the first row's family. */
		for (size_t j = 0; j < i; j++)
			if (maps[j].name != NULL &&
			    strcmp(maps[j].name, maps[i].name) == 0) {
				i = j;
				break;
			}
		if (fams[i].samples == NULL) {
			fams[i].row = &maps[i];
			fams[i].samples = g_array_new(FALSE, FALSE,
			    sizeof(struct sample));
			fams[i].is_top = strcmp(maps[i].key, "rules.hits.*") == 0 ||
			    strcmp(maps[i].key, "shadow.hits.*") == 0;
		}
		{
			const struct map *r = &maps[i];
			struct sample s = { .v = v * (r->scale ? r->scale : 1) };

			/* The matching row, not the family's first, knows
			 * this line's label value and scale. */
			for (size_t k = i; k < nmaps; k++) {
				const char *c2;
				size_t l2;

				if (maps[k].name != NULL &&
				    strcmp(maps[k].name, r->name) == 0 &&
				    key_match(maps[k].key, *l, &c2, &l2)) {
					s.v = v * (maps[k].scale ? maps[k].scale : 1);
					s.label = c2 ? g_strndup(c2, l2) :
					    g_strdup(maps[k].label_value);
					break;
				}
			}
			g_array_append_val(fams[i].samples, s);
		}
	}

	for (size_t i = 0; i < nmaps; i++) {
		if (fams[i].samples == NULL)
			continue;
		put_fam(f, &fams[i]);
		for (size_t k = 0; k < fams[i].samples->len; k++)
			g_free(g_array_index(fams[i].samples, struct sample,
			    k).label);
		g_array_free(fams[i].samples, TRUE);
	}
	if (info->len > 0) {
		metrics_family(f, "vigil_version_info", METRICS_GAUGE,
		    "Versions in service: rule set, scores, configuration "
		    "generation, AV database");
		metrics_sample(f, "vigil_version_info", METRICS_GAUGE, info->str,
		    1);
	}
	/* Counters nobody mapped yet: exported as they are, untyped. */
	for (char **l = g_strsplit(rest->str, "\n", -1), **p = l; ; p++) {
		char *sp;

		if (*p == NULL) {
			g_strfreev(l);
			break;
		}
		if ((sp = strchr(*p, ' ')) == NULL)
			continue;
		*sp = '\0';
		metrics_family(f, *p, METRICS_UNKNOWN, "vigilctl stats counter");
		metrics_sample(f, *p, METRICS_UNKNOWN, "", strtod(sp + 1, NULL));
	}
	g_string_free(info, TRUE);
	g_string_free(rest, TRUE);
	g_strfreev(lines);
	g_free(fams);
}
