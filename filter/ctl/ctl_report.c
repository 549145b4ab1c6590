/*
 * ctl_report.c - vigilctl report: what the filter did over a period, from
 * LogFile's JSON records (logread.c), each figure against the period
 * before: volume by day and by hour of day, the share of each action, the
 * top rules by hits and by false positives (the hits of quarantined
 * messages that were released: the released copy's record names the
 * entry), the top rejected client networks (/24, /48) and sender domains,
 * Bayes readiness, AV detections by signature, check failures and DNS
 * list health (messages whose lookups all answered within the budget,
 * and those scored without a disabled list).
 * --html writes the same as one self-contained page: inline CSS and SVG
 * bar charts, each bar a <path> whose <title> says "LABEL: COUNT"; no
 * script, font or other file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <glib.h>

#include "ctl/logread.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

#define TOP_N		10
#define DAY		86400.0

/* What one period holds. */
struct period {
	unsigned	 n;
	GHashTable	*action, *rules, *fp, *nets, *domains, *av, *failures;
	GHashTable	*dnsbl;		/* DNS list health: messages by state */
	unsigned	 hour[24];
	unsigned	*day;		/* ndays */
	unsigned	*hourly;	/* nhours, ending now */
	unsigned	 bayes_voted;
	char		*bayes_state;	/* the latest record's */
	char		*bayes_version;	/* "SPAM/HAM" learned */
	double		 bayes_ts;
};

struct report {
	double		 now, len, start;	/* the current period: start.. */
	bool		 is_until;	/* --until: later records are left out */
	unsigned	 ndays;
	unsigned	 nhours;	/* the hourly series: the last ones */
	struct period	 cur, prev;
	GHashTable	*quarantined;	/* entry id -> hits (json_object) */
	GPtrArray	*releases;	/* "C"|"P" + entry id */
};

static void
period_init(struct period *p, unsigned ndays, unsigned nhours)
{
	GHashTable **t[] = { &p->action, &p->rules, &p->fp, &p->nets,
	    &p->domains, &p->av, &p->failures, &p->dnsbl };

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		*t[i] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    NULL);
	p->day = g_new0(unsigned, ndays);
	p->hourly = g_new0(unsigned, nhours ? nhours : 1);
}

static void
period_free(struct period *p)
{
	GHashTable *t[] = { p->action, p->rules, p->fp, p->nets, p->domains,
	    p->av, p->failures, p->dnsbl };

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		g_hash_table_destroy(t[i]);
	g_free(p->day);
	g_free(p->hourly);
	g_free(p->bayes_state);
	g_free(p->bayes_version);
}

static void
count(GHashTable *t, const char *key)
{
	gpointer old;

	if (key == NULL || *key == '\0')
		return;
	old = g_hash_table_lookup(t, key);
	g_hash_table_replace(t, g_strdup(key),
	    GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
}

static unsigned
get(GHashTable *t, const char *key)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(t, key));
}

/* The client's network: /24 for IPv4, /48 for IPv6. */
static char *
network(const char *addr)
{
	unsigned char b[16];
	char out[INET6_ADDRSTRLEN];

	if (addr == NULL)
		return NULL;
	if (inet_pton(AF_INET, addr, b) == 1) {
		b[3] = 0;
		inet_ntop(AF_INET, b, out, sizeof(out));
		return g_strdup_printf("%s/24", out);
	}
	if (inet_pton(AF_INET6, addr, b) == 1) {
		memset(b + 6, 0, 10);
		inet_ntop(AF_INET6, b, out, sizeof(out));
		return g_strdup_printf("%s/48", out);
	}
	return NULL;
}

/* A message's "dnsbl" field: each list it went without (disabled), and
 * whether every lookup answered within the budget. */
static void
count_dnsbl(struct period *p, struct json_object *o)
{
	struct json_object *d;
	char *key;

	if (lr_num(o, "answered", 0) < lr_num(o, "lookups", 0))
		count(p->dnsbl, "lookups unanswered within the budget");
	else
		count(p->dnsbl, "every lookup answered");
	if (json_object_object_get_ex(o, "disabled", &d) &&
	    json_object_is_type(d, json_type_array))
		for (size_t i = 0; i < json_object_array_length(d); i++) {
			key = g_strdup_printf("scored without %s (disabled)",
			    json_object_get_string(
			    json_object_array_get_idx(d, i)));
			count(p->dnsbl, key);
			g_free(key);
		}
}

static void
take(void *arg, struct json_object *rec)
{
	struct report *r = arg;
	double ts = lr_num(rec, "ts", 0);
	bool is_cur = ts >= r->start;
	struct period *p = is_cur ? &r->cur : &r->prev;
	const char *action = lr_str(rec, "action"), *s;
	struct json_object *o;
	time_t tt = (time_t)ts;
	struct tm tm;

	if (r->is_until && ts > r->now)
		return;
	p->n++;
	count(p->action, action);
	gmtime_r(&tt, &tm);
	p->hour[tm.tm_hour]++;
	if (is_cur) {
		/* A record from after now (a clock stepped back) counts in
		 * the last day and hour. */
		unsigned d = (unsigned)((ts - r->start) / DAY);

		p->day[d < r->ndays ? d : r->ndays - 1]++;
		if (ts >= r->now - r->nhours * 3600.0) {
			unsigned h = (unsigned)((ts - (r->now - r->nhours *
			    3600.0)) / 3600.0);

			p->hourly[h < r->nhours ? h : r->nhours - 1]++;
		}
	}
	if (json_object_object_get_ex(rec, "hits", &o) &&
	    json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)v;
			count(p->rules, k);
		}
		if ((s = lr_str(rec, "quarantine")) != NULL &&
		    strcmp(s, "hold") != 0)
			g_hash_table_replace(r->quarantined, g_strdup(s),
			    json_object_get(o));
	}
	if ((s = lr_str(rec, "release")) != NULL)
		g_ptr_array_add(r->releases, g_strdup_printf("%c%s",
		    is_cur ? 'C' : 'P', s));
	if (action != NULL && strcmp(action, "reject") == 0) {
		char *net = network(lr_str(rec, "client_addr"));
		const char *from = lr_str(rec, "from"), *at;

		count(p->nets, net);
		g_free(net);
		if (from != NULL && (at = strrchr(from, '@')) != NULL) {
			char *dom = g_ascii_strdown(at + 1, -1);

			count(p->domains, dom);
			g_free(dom);
		} else if (from != NULL && *from == '\0')
			count(p->domains, "<> (null sender)");
	}
	if (json_object_object_get_ex(rec, "av", &o) &&
	    (s = lr_str(o, "name")) != NULL)
		count(p->av, s);
	if (json_object_object_get_ex(rec, "failures", &o) &&
	    json_object_is_type(o, json_type_array))
		for (size_t i = 0; i < json_object_array_length(o); i++)
			count(p->failures, json_object_get_string(
			    json_object_array_get_idx(o, i)));
	if (json_object_object_get_ex(rec, "dnsbl", &o) &&
	    json_object_is_type(o, json_type_object))
		count_dnsbl(p, o);
	if (json_object_object_get_ex(rec, "bayes", &o) &&
	    !json_object_is_type(o, json_type_null))
		p->bayes_voted++;
	if (ts >= p->bayes_ts) {
		p->bayes_ts = ts;
		if ((s = lr_str(rec, "bayes_state")) != NULL) {
			g_free(p->bayes_state);
			p->bayes_state = g_strdup(s);
		}
		if (json_object_object_get_ex(rec, "versions", &o) &&
		    (s = lr_str(o, "bayes")) != NULL) {
			g_free(p->bayes_version);
			p->bayes_version = g_strdup(s);
		}
	}
}

/* False positives: each rule that hit a quarantined entry later
 * released, in the period of the release. */
static void
count_fp(struct report *r)
{
	for (guint i = 0; i < r->releases->len; i++) {
		const char *rel = r->releases->pdata[i];
		struct period *p = rel[0] == 'C' ? &r->cur : &r->prev;
		struct json_object *hits = g_hash_table_lookup(r->quarantined,
		    rel + 1);

		if (hits == NULL)
			continue;
		json_object_object_foreach(hits, k, v) {
			(void)v;
			count(p->fp, k);
		}
	}
}

struct kc {
	const char	*key;
	unsigned	 n;
};

static gint
by_count(gconstpointer a, gconstpointer b)
{
	const struct kc *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* The table's entries, most first (then by name); at most max. */
static GArray *
top(GHashTable *t, unsigned max)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct kc));
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct kc e = { k, GPOINTER_TO_UINT(v) };

		g_array_append_val(a, e);
	}
	g_array_sort(a, by_count);
	if (max > 0 && a->len > max)
		g_array_set_size(a, max);
	return a;
}

/* "+25.0%", "-3.1%", "new", "=". */
static const char *
change(char *buf, size_t sz, unsigned cur, unsigned prev)
{
	if (prev == 0)
		snprintf(buf, sz, cur > 0 ? "new" : "=");
	else if (cur == prev)
		snprintf(buf, sz, "=");
	else
		snprintf(buf, sz, "%+.1f%%", 100.0 * ((double)cur - prev) / prev);
	return buf;
}

static const char *const actions[] = {
	"accept", "tag", "quarantine", "reject", "tempfail", "discard",
};

/* ---------------------------------------------------------------- text */

static void
text_table(const char *title, GHashTable *cur, GHashTable *prev)
{
	GArray *a = top(cur, TOP_N);
	char ch[32];

	printf("%s\n", title);
	if (a->len == 0)
		printf("  (none)\n");
	for (guint i = 0; i < a->len; i++) {
		struct kc *e = &g_array_index(a, struct kc, i);
		unsigned p = get(prev, e->key);

		printf("  %-32s %7u  (previous %u, %s)\n", e->key, e->n, p,
		    change(ch, sizeof(ch), e->n, p));
	}
	g_array_free(a, TRUE);
}

static void
write_text(struct report *r, const char *since)
{
	char ch[32], a[32], b[32];
	time_t t0 = (time_t)r->start, t1 = (time_t)r->now;
	struct tm tm;

	strftime(a, sizeof(a), "%Y-%m-%dT%H:%MZ", gmtime_r(&t0, &tm));
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%MZ", gmtime_r(&t1, &tm));
	printf("vigil report %s .. %s (%s), against the %s before\n", a, b,
	    since, since);
	printf("messages %u  (previous %u, %s)\n", r->cur.n, r->prev.n,
	    change(ch, sizeof(ch), r->cur.n, r->prev.n));
	printf("by action\n");
	for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
		unsigned c = get(r->cur.action, actions[i]);
		unsigned p = get(r->prev.action, actions[i]);

		if (c == 0 && p == 0)
			continue;
		printf("  %-12s %7u %6.1f%%  (previous %u, %s)\n", actions[i],
		    c, r->cur.n ? 100.0 * c / r->cur.n : 0.0, p,
		    change(ch, sizeof(ch), c, p));
	}
	printf("by day\n");
	for (unsigned d = 0; d < r->ndays; d++) {
		time_t t = (time_t)(r->start + d * DAY);

		strftime(a, sizeof(a), "%Y-%m-%d", gmtime_r(&t, &tm));
		printf("  %s %7u\n", a, r->cur.day[d]);
	}
	printf("by hour of day (UTC)\n");
	for (int h = 0; h < 24; h++)
		printf("  %02d %7u  (previous %u)\n", h, r->cur.hour[h],
		    r->prev.hour[h]);
	text_table("top rules by hits", r->cur.rules, r->prev.rules);
	text_table("top rules by false positives (hits on released mail)",
	    r->cur.fp, r->prev.fp);
	text_table("top rejected client networks", r->cur.nets, r->prev.nets);
	text_table("top rejected sender domains", r->cur.domains,
	    r->prev.domains);
	printf("Bayes: %s; learned %s; voted on %u of %u messages (previous "
	    "%u of %u)\n", r->cur.bayes_state ? r->cur.bayes_state :
	    "not in the log", r->cur.bayes_version ? r->cur.bayes_version :
	    "-", r->cur.bayes_voted, r->cur.n, r->prev.bayes_voted, r->prev.n);
	text_table("AV detections by signature", r->cur.av, r->prev.av);
	text_table("check failures", r->cur.failures, r->prev.failures);
	text_table("DNS list health (messages)", r->cur.dnsbl, r->prev.dnsbl);
}

/* ---------------------------------------------------------------- html */

struct bar {
	char		*label;
	unsigned	 n;
};

/* One SVG bar chart: a <path> a bar, its <title> "LABEL: COUNT". */
static void
svg_bars(FILE *f, const char *id, const char *title, const struct bar *b,
    size_t nb, bool vertical_labels)
{
	const double w = 760, h = 200, left = 40, bottom = vertical_labels ?
	    90 : 30, top_pad = 10;
	double bw, maxv = 0;
	size_t every;

	for (size_t i = 0; i < nb; i++)
		if (b[i].n > maxv)
			maxv = b[i].n;
	if (maxv == 0)
		maxv = 1;
	bw = (w - left - 10) / (nb ? nb : 1);
	/* Many bars: a label on every few, each bar still has its title. */
	every = nb > 31 ? (nb + 11) / 12 : 1;
	fprintf(f, "<figure><figcaption>%s</figcaption>\n<svg class=\"plot\" "
	    "id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	    "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	    title, id, w, h + bottom, w, h + bottom);
	fprintf(f, "<path class=\"axis\" d=\"M%.0f %.0f V%.0f H%.0f\"/>\n",
	    left, top_pad, h, w - 5);
	fprintf(f, "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">%.0f</text>\n", left - 4, top_pad + 8, maxv);
	for (size_t i = 0; i < nb; i++) {
		double bh = (h - top_pad) * b[i].n / maxv;
		double x = left + i * bw + bw * 0.1;
		gchar *lab = g_markup_escape_text(b[i].label, -1);

		/* A zero still gets a hairline, so each bar has a shape. */
		if (bh < 0.5)
			bh = 0.5;
		fprintf(f, "<path class=\"bar\" d=\"M%.1f %.1f h%.1f v%.1f "
		    "h%.1f Z\"><title>%s: %u</title></path>\n", x, h,
		    bw * 0.8, -bh, -bw * 0.8, lab, b[i].n);
		if (i % every != 0)
			;
		else if (vertical_labels)
			fprintf(f, "<text class=\"lab\" transform=\"translate("
			    "%.1f %.0f) rotate(60)\">%s</text>\n",
			    x + bw * 0.3, h + 12, lab);
		else
			fprintf(f, "<text class=\"lab\" x=\"%.1f\" y=\"%.0f\" "
			    "text-anchor=\"middle\">%s</text>\n", x + bw * 0.4,
			    h + 16, lab);
		g_free(lab);
	}
	fprintf(f, "</svg></figure>\n");
}

static void
html_top(FILE *f, const char *id, const char *title, GHashTable *cur,
    GHashTable *prev)
{
	GArray *a = top(cur, TOP_N);
	struct bar *b = g_new0(struct bar, a->len ? a->len : 1);
	char ch[32];

	fprintf(f, "<section><h2>%s</h2>\n", title);
	if (a->len == 0) {
		fprintf(f, "<p class=\"none\">None in this period.</p></section>\n");
		g_free(b);
		g_array_free(a, TRUE);
		return;
	}
	for (guint i = 0; i < a->len; i++) {
		struct kc *e = &g_array_index(a, struct kc, i);

		b[i].label = (char *)e->key;
		b[i].n = e->n;
	}
	svg_bars(f, id, title, b, a->len, true);
	fprintf(f, "<table><tr><th>name</th><th>count</th><th>previous</th>"
	    "<th>change</th></tr>\n");
	for (guint i = 0; i < a->len; i++) {
		struct kc *e = &g_array_index(a, struct kc, i);
		gchar *k = g_markup_escape_text(e->key, -1);
		unsigned p = get(prev, e->key);

		fprintf(f, "<tr><td>%s</td><td>%u</td><td>%u</td><td>%s</td>"
		    "</tr>\n", k, e->n, p, change(ch, sizeof(ch), e->n, p));
		g_free(k);
	}
	fprintf(f, "</table></section>\n");
	g_free(b);
	g_array_free(a, TRUE);
}

static int
write_html(struct report *r, const char *since, const char *path)
{
	FILE *f = fopen(path, "w");
	struct bar b[24];
	struct bar *days;
	char ch[32], a[32], c[32];
	time_t t0 = (time_t)r->start, t1 = (time_t)r->now;
	struct tm tm;
	size_t na = 0;
	gchar *bs;

	if (f == NULL) {
		fprintf(stderr, "vigilctl report: --html %s: %s\n", path,
		    strerror(errno));
		return EX_CANTCREAT;
	}
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M", gmtime_r(&t0, &tm));
	strftime(c, sizeof(c), "%Y-%m-%d %H:%M", gmtime_r(&t1, &tm));
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset="
	    "\"utf-8\"><title>vigil report %s</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:2em;color:#222}\n"
	    "table{border-collapse:collapse;margin:.5em 0}\n"
	    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\n"
	    "td:first-child,th:first-child{text-align:left}\n"
	    ".bar{fill:#3b78b8}.bar:hover{fill:#e07020}\n"
	    ".axis{fill:none;stroke:#888}\n"
	    ".lab,.tick{font-size:10px;fill:#444}\n"
	    "figure{margin:1em 0}figcaption{font-weight:bold}\n"
	    "</style></head><body>\n", since);
	fprintf(f, "<h1>vigil report</h1>\n<p>%s UTC to %s UTC (%s), against "
	    "the %s before.</p>\n", a, c, since, since);
	fprintf(f, "<p>Messages: <b id=\"total\">%u</b> (previous %u, %s)</p>\n",
	    r->cur.n, r->prev.n, change(ch, sizeof(ch), r->cur.n, r->prev.n));

	/* Volume. */
	days = g_new0(struct bar, r->ndays);
	for (unsigned d = 0; d < r->ndays; d++) {
		time_t t = (time_t)(r->start + d * DAY);

		strftime(a, sizeof(a), "%Y-%m-%d", gmtime_r(&t, &tm));
		days[d].label = g_strdup(a);
		days[d].n = r->cur.day[d];
	}
	fprintf(f, "<section><h2>Volume</h2>\n");
	svg_bars(f, "plot-day", "Messages by day", days, r->ndays, true);
	for (unsigned d = 0; d < r->ndays; d++)
		g_free(days[d].label);
	g_free(days);
	for (int h = 0; h < 24; h++) {
		b[h].label = g_strdup_printf("%02d", h);
		b[h].n = r->cur.hour[h];
	}
	svg_bars(f, "plot-hour", "Messages by hour of day (UTC)", b, 24,
	    false);
	for (int h = 0; h < 24; h++)
		g_free(b[h].label);
	/* Hour by hour: the last hours of the period (a week at most). */
	days = g_new0(struct bar, r->nhours);
	for (unsigned h = 0; h < r->nhours; h++) {
		time_t t = (time_t)(r->now - (r->nhours - h) * 3600.0);

		strftime(a, sizeof(a), "%m-%d %H:%M", gmtime_r(&t, &tm));
		days[h].label = g_strdup(a);
		days[h].n = r->cur.hourly[h];
	}
	svg_bars(f, "plot-hourly", "Messages hour by hour (UTC, each bar the "
	    "hour from its time)", days, r->nhours, false);
	for (unsigned h = 0; h < r->nhours; h++)
		g_free(days[h].label);
	g_free(days);
	fprintf(f, "</section>\n");

	/* Actions. */
	fprintf(f, "<section><h2>Actions</h2>\n");
	for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
		if (get(r->cur.action, actions[i]) == 0 &&
		    get(r->prev.action, actions[i]) == 0)
			continue;
		b[na].label = (char *)actions[i];
		b[na].n = get(r->cur.action, actions[i]);
		na++;
	}
	svg_bars(f, "plot-action", "Messages by action", b, na, false);
	fprintf(f, "<table><tr><th>action</th><th>count</th><th>share</th>"
	    "<th>previous</th><th>change</th></tr>\n");
	for (size_t i = 0; i < na; i++) {
		unsigned p = get(r->prev.action, b[i].label);

		fprintf(f, "<tr><td>%s</td><td>%u</td><td>%.1f%%</td><td>%u"
		    "</td><td>%s</td></tr>\n", b[i].label, b[i].n,
		    r->cur.n ? 100.0 * b[i].n / r->cur.n : 0.0, p,
		    change(ch, sizeof(ch), b[i].n, p));
	}
	fprintf(f, "</table></section>\n");

	html_top(f, "plot-rules", "Top rules by hits", r->cur.rules,
	    r->prev.rules);
	html_top(f, "plot-fp", "Top rules by false positives (hits on "
	    "released mail)", r->cur.fp, r->prev.fp);
	html_top(f, "plot-nets", "Top rejected client networks", r->cur.nets,
	    r->prev.nets);
	html_top(f, "plot-domains", "Top rejected sender domains",
	    r->cur.domains, r->prev.domains);
	bs = g_markup_escape_text(r->cur.bayes_state ? r->cur.bayes_state :
	    "not in the log", -1);
	fprintf(f, "<section><h2>Bayes</h2><p>State: %s; learned (spam/ham) "
	    "%s; voted on %u of %u messages (previous %u of %u).</p>"
	    "</section>\n", bs, r->cur.bayes_version ? r->cur.bayes_version :
	    "-", r->cur.bayes_voted, r->cur.n, r->prev.bayes_voted, r->prev.n);
	g_free(bs);
	html_top(f, "plot-av", "AV detections by signature", r->cur.av,
	    r->prev.av);
	html_top(f, "plot-failures", "Check failures", r->cur.failures,
	    r->prev.failures);
	html_top(f, "plot-dnsbl", "DNS list health (messages)", r->cur.dnsbl,
	    r->prev.dnsbl);
	fprintf(f, "</body></html>\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "vigilctl report: --html %s: %s\n", path,
		    strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* "@SECONDS" or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC). */
static bool
parse_time(const char *text, double *t_r)
{
	struct tm tm = { 0 };
	const char *end;
	char *e;

	if (text[0] == '@') {
		long long v = strtoll(text + 1, &e, 10);

		if (e == text + 1 || *e != '\0' || v < 0)
			return false;
		*t_r = (double)v;
		return true;
	}
	end = strptime(text, "%Y-%m-%dT%H:%M", &tm);
	if (end != NULL && *end == ':')
		end = strptime(end, ":%S", &tm);
	if (end == NULL || strcmp(end, "Z") != 0)
		return false;
	*t_r = (double)timegm(&tm);
	return true;
}

static void
rec_free(void *p)
{
	json_object_put(p);
}

int
ctl_report(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "log", required_argument, NULL, 'l' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *since = "7d", *log = NULL, *html = NULL, *until = NULL;
	struct report r = { 0 };
	double from;
	unsigned nbad = 0;
	char *path;
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (ch) {
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'l': log = optarg; break;
		case 'H': html = optarg; break;
		case 'h':
			ctl_help_command("report", stdout);
			return 0;
		default:
			ctl_help_usage("report", stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigilctl report: unexpected argument \"%s\"\n",
		    argv[optind]);
		ctl_help_usage("report", stderr);
		return EX_USAGE;
	}
	if (!logread_since(since, &from) || from >= (double)time(NULL)) {
		fprintf(stderr, "vigilctl report: --since %s: not a duration "
		    "(7d, 12h, 30m)\n", since);
		return EX_USAGE;
	}
	r.now = (double)time(NULL);
	if (until != NULL) {
		if (!parse_time(until, &r.now)) {
			fprintf(stderr, "vigilctl report: --until %s: not a time "
			    "(2026-12-07T00:00:00Z or @SECONDS)\n", until);
			return EX_USAGE;
		}
		r.is_until = true;
	}
	/* The period's length, ending at now or --until. */
	r.start = r.now - ((double)time(NULL) - from);
	if ((path = logread_path(o, log, "vigilctl report", &rc)) == NULL)
		return rc;
	r.len = r.now - r.start;
	r.ndays = (unsigned)(r.len / DAY);
	if (r.ndays * DAY < r.len)
		r.ndays++;		/* the last day is a part */
	r.nhours = (unsigned)((r.len < 7 * DAY ? r.len : 7 * DAY) / 3600.0);
	if (r.nhours == 0)
		r.nhours = 1;
	period_init(&r.cur, r.ndays, r.nhours);
	period_init(&r.prev, 1, 1);
	r.quarantined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    rec_free);
	r.releases = g_ptr_array_new_with_free_func(g_free);
	rc = logread_each("vigilctl report", path, r.start - r.len, take, &r,
	    &nbad);
	free(path);
	if (rc == 0) {
		count_fp(&r);
		if (nbad > 0)
			fprintf(stderr, "vigilctl report: %u line(s) were not "
			    "JSON records (LogFormat json?)\n", nbad);
		write_text(&r, since);
		if (html != NULL)
			rc = write_html(&r, since, html);
	}
	g_hash_table_destroy(r.quarantined);
	g_ptr_array_free(r.releases, TRUE);
	period_free(&r.cur);
	period_free(&r.prev);
	return rc;
}
