/*
 * stats_view.c - the two views of `vigilctl stats` (stats_view.h).
 */
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "metrics/stats_view.h"

struct stat_line {
	char		*key;
	char		*val;
};

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct stat_line *)a)->key,
	    ((const struct stat_line *)b)->key);
}

/* The lines as key/value pairs sorted by key; *n_r of them. */
static struct stat_line *
parse(const char *text, size_t *n_r, char ***lines_r)
{
	char **lines = g_strsplit(text, "\n", -1);
	size_t n = 0, cap = g_strv_length(lines);
	struct stat_line *v = g_new0(struct stat_line, cap + 1);

	for (char **l = lines; *l != NULL; l++) {
		char *sp = strchr(*l, ' ');

		if (sp == NULL || sp == *l)
			continue;
		*sp = '\0';
		v[n].key = *l;
		v[n].val = sp + 1;
		n++;
	}
	qsort(v, n, sizeof(*v), by_key);
	*n_r = n;
	*lines_r = lines;
	return v;
}

static bool
is_number(const char *s)
{
	char *end;

	if (*s == '\0')
		return false;
	(void)strtod(s, &end);
	/* JSON has no hex, inf or nan. */
	return *end == '\0' && strpbrk(s, "xXnNiI") == NULL;
}

void
stats_write_json(FILE *out, const char *text)
{
	char **lines;
	size_t n;
	struct stat_line *v = parse(text, &n, &lines);

	fputc('{', out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", out);
		json_put_string(out, v[i].key);
		fputs(": ", out);
		/* Versions are names: a hash of digits stays a string. */
		if (is_number(v[i].val) && strncmp(v[i].key, "version.", 8) != 0)
			fputs(v[i].val, out);
		else
			json_put_string(out, v[i].val);
	}
	fputs(n ? "\n}\n" : "}\n", out);
	g_free(v);
	g_strfreev(lines);
}

/* Is key in group g ("g" itself or "g.anything")? */
static bool
in_group(const char *key, const char *g)
{
	size_t n = strlen(g);

	return strncmp(key, g, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

/* A blank line between sections, none before the first. */
static void
heading(FILE *out, bool *started, const char *title)
{
	fprintf(out, "%s# %s\n", *started ? "\n" : "", title);
	*started = true;
}

static void
put_group(FILE *out, bool *started, const char *title,
    const struct stat_line *v, size_t n, const char *prefix, bool *done)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (done[i] || !in_group(v[i].key, prefix))
			continue;
		if (!any)
			heading(out, started, title);
		any = true;
		done[i] = true;
		fprintf(out, "%s %s\n", v[i].key, v[i].val);
	}
}

static int
by_hits_desc(const void *a, const void *b)
{
	double x = strtod(((const struct stat_line *)a)->val, NULL);
	double y = strtod(((const struct stat_line *)b)->val, NULL);

	if (x != y)
		return x < y ? 1 : -1;
	return by_key(a, b);
}

/*
 * Rules of kind ("rules" or "shadow"): those that hit, busiest first,
 * each with its time and limit lines; rules without hits are counted,
 * not listed (--json has them).
 */
static void
put_rules(FILE *out, bool *started, const char *title, const char *kind,
    const struct stat_line *v, size_t n, bool *done)
{
	char hits_pfx[32], k[256];
	struct stat_line *hits = g_new0(struct stat_line, n + 1);
	size_t nh = 0, plen, idle = 0;
	static const char *const per_rule[] = { "us", "limit" };

	snprintf(hits_pfx, sizeof(hits_pfx), "%s.hits", kind);
	plen = strlen(hits_pfx) + 1;
	for (size_t i = 0; i < n; i++)
		if (in_group(v[i].key, hits_pfx) && v[i].key[plen - 1] == '.')
			hits[nh++] = v[i];
	qsort(hits, nh, sizeof(*hits), by_hits_desc);
	for (size_t i = 0; i < nh; i++) {
		const char *name = hits[i].key + plen;
		bool hit = strtod(hits[i].val, NULL) > 0;

		if (hit && i == 0)
			heading(out, started, title);
		if (hit)
			fprintf(out, "%s %s\n", hits[i].key, hits[i].val);
		else
			idle++;
		for (size_t j = 0; j < G_N_ELEMENTS(per_rule); j++) {
			snprintf(k, sizeof(k), "%s.%s.%s", kind, per_rule[j], name);
			for (size_t x = 0; x < n; x++)
				if (!done[x] && strcmp(v[x].key, k) == 0) {
					done[x] = true;
					if (hit)
						fprintf(out, "%s %s\n", v[x].key,
						    v[x].val);
				}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (in_group(v[i].key, hits_pfx))
			done[i] = true;
	if (idle > 0)
		fprintf(out, "# %zu %s without hits (vigilctl stats --json "
		    "lists them)\n", idle, kind);
	g_free(hits);
}

void
stats_write_human(FILE *out, const char *text)
{
	static const struct { const char *prefix, *title; } first[] = {
		{ "version", "versions in service" },
		{ "config", "configuration" },
		{ "messages", "messages by action" },
		{ "scan", "scanning" },
		{ "eom", "end of message by stage: handoff, scan, store, reply "
		  "(ms: mean, p50, p99, max)" },
		{ "check", "checks: runs, failures, mean time" },
	}, later[] = {
		{ "rules", "rules" },
		{ "bayes", "bayes" },
		{ "av", "antivirus" },
		{ "quarantine", "quarantine" },
		{ "policy", "policy" },
		{ "connections", "connections" },
		{ "reloads", "reloads" },
	};
	char **lines;
	size_t n;
	struct stat_line *v = parse(text, &n, &lines);
	bool *done = g_new0(bool, n + 1);
	bool started = false;

	for (size_t g = 0; g < G_N_ELEMENTS(first); g++)
		put_group(out, &started, first[g].title, v, n, first[g].prefix,
		    done);
	put_rules(out, &started, "rules that hit, busiest first", "rules", v,
	    n, done);
	put_rules(out, &started, "shadow rules that hit (never scored)",
	    "shadow", v, n, done);
	for (size_t g = 0; g < G_N_ELEMENTS(later); g++)
		put_group(out, &started, later[g].title, v, n, later[g].prefix,
		    done);
	/* Whatever is left (uptime, heap, a new check's counters). */
	for (size_t i = 0, headed = 0; i < n; i++)
		if (!done[i]) {
			if (!headed++)
				heading(out, &started, "process");
			fprintf(out, "%s %s\n", v[i].key, v[i].val);
		}
	g_free(done);
	g_free(v);
	g_strfreev(lines);
}
