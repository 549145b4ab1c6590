/*
 * ctl_trace.c - vigilctl trace: "where is my mail?"  Reads LogFile's
 * JSON records (logread.c), keeps those matching every criterion given,
 * and tells each one's story: where it came from, the verdict with its
 * points, the headers added or the SMTP reply, the quarantine entry and
 * its release (from the quarantine index, and the released copy's own
 * record), and with --maillog what Postfix did with it, joined by queue
 * id.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include <glib.h>

#include "cfg.h"
#include "ctl/logread.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"
#include "quarantine/quarantine.h"

struct trace {
	const char	*from, *to, *subject, *message_id, *queue_id;
	GPtrArray	*all;		/* the records kept, json_object * */
};


static void
rec_free(void *p)
{
	json_object_put(p);
}

static bool
has_ci(const char *hay, const char *needle)
{
	gchar *h, *n;
	bool r;

	if (hay == NULL)
		return false;
	h = g_utf8_casefold(hay, -1);
	n = g_utf8_casefold(needle, -1);
	r = strstr(h, n) != NULL;
	g_free(h);
	g_free(n);
	return r;
}

/* A message-id without its angle brackets and spaces, for comparing. */
static char *
bare_id(const char *s)
{
	char *t = g_strstrip(g_strdup(s));
	size_t n = strlen(t);

	if (n >= 2 && t[0] == '<' && t[n - 1] == '>') {
		memmove(t, t + 1, n - 2);
		t[n - 2] = '\0';
	}
	return t;
}

static bool
matches(const struct trace *t, struct json_object *rec)
{
	if (t->from != NULL && !has_ci(lr_str(rec, "from"), t->from))
		return false;
	if (t->subject != NULL && !has_ci(lr_str(rec, "subject"), t->subject))
		return false;
	if (t->queue_id != NULL && (lr_str(rec, "queue_id") == NULL ||
	    strcmp(lr_str(rec, "queue_id"), t->queue_id) != 0))
		return false;
	if (t->message_id != NULL) {
		char *want, *have;
		bool same;

		if (lr_str(rec, "message_id") == NULL)
			return false;
		want = bare_id(t->message_id);
		have = bare_id(lr_str(rec, "message_id"));
		same = strcmp(want, have) == 0;
		g_free(want);
		g_free(have);
		if (!same)
			return false;
	}
	if (t->to != NULL) {
		struct json_object *r;
		bool any = false;

		if (json_object_object_get_ex(rec, "rcpts", &r) &&
		    json_object_is_type(r, json_type_array))
			for (size_t i = 0; i < json_object_array_length(r); i++)
				if (has_ci(json_object_get_string(
				    json_object_array_get_idx(r, i)), t->to))
					any = true;
		if (!any)
			return false;
	}
	return true;
}

/* Kept: the records that match, and released copies (a matching
 * quarantined record names its copy only there); a large log is not
 * held whole. */
static void
keep(void *arg, struct json_object *rec)
{
	struct trace *t = arg;

	if (matches(t, rec) || lr_str(rec, "release") != NULL)
		g_ptr_array_add(t->all, json_object_get(rec));
}

static const char *
or_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

static void
print_when(const char *label, int64_t t)
{
	struct tm tm;
	char buf[40];
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s%s", label, buf);
}

struct pts {
	const char	*name;
	double		 points;
};

static gint
by_points(gconstpointer a, gconstpointer b)
{
	const struct pts *x = a, *y = b;

	if (x->points != y->points)
		return x->points < y->points ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The hits, most points first. */
static void
print_hits(struct json_object *rec)
{
	struct json_object *h;
	GArray *a;

	if (!json_object_object_get_ex(rec, "hits", &h) ||
	    !json_object_is_type(h, json_type_object) ||
	    json_object_object_length(h) == 0)
		return;
	a = g_array_new(FALSE, FALSE, sizeof(struct pts));
	json_object_object_foreach(h, k, v) {
		struct pts p = { k, json_object_get_double(v) };

		g_array_append_val(a, p);
	}
	g_array_sort(a, by_points);
	printf("  rules:");
	for (guint i = 0; i < a->len; i++) {
		struct pts *p = &g_array_index(a, struct pts, i);

		printf("%s %s %+.1f", i ? "," : "", p->name, p->points);
	}
	printf("\n");
	g_array_free(a, TRUE);
}

static void
print_list(const char *label, struct json_object *rec, const char *key)
{
	struct json_object *a;

	if (!json_object_object_get_ex(rec, key, &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) == 0)
		return;
	printf("%s", label);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("%s%s", i ? ", " : " ", json_object_get_string(
		    json_object_array_get_idx(a, i)));
	printf("\n");
}

/* The quarantine entry: its release time, and the released copy's
 * record when the log has one. */
static void
print_quarantine(const struct trace *t, struct qstore *q, const char *id)
{
	const struct qentry *e = q != NULL && strcmp(id, "hold") != 0 ?
	    quarantine_get(q, id) : NULL;

	if (strcmp(id, "hold") == 0) {
		printf("  quarantine: held in Postfix's hold queue (postsuper -H "
		    "releases it)\n");
		return;
	}
	printf("  quarantine: %s", id);
	if (q != NULL && e == NULL)
		printf(" (no longer in the quarantine)");
	else if (e != NULL && e->released > 0)
		print_when(", released ", e->released);
	else if (e != NULL)
		printf(", not released (vigilctl quarantine release %s)", id);
	printf("\n");
	for (guint i = 0; i < t->all->len; i++) {
		struct json_object *r = t->all->pdata[i];
		const char *rel = lr_str(r, "release");

		if (rel != NULL && strcmp(rel, id) == 0)
			printf("  released copy: %s queue %s, %s\n",
			    or_dash(lr_str(r, "time")),
			    or_dash(lr_str(r, "queue_id")),
			    or_dash(lr_str(r, "action")));
	}
}

/* What Postfix logged for this queue id: deliveries, milter actions,
 * bounces, removal. */
static void
print_maillog(const char *maillog, const char *qid)
{
	FILE *f;
	char *line = NULL, *pat;
	size_t cap = 0;
	ssize_t n;

	if (maillog == NULL || qid == NULL || strcmp(qid, "-") == 0)
		return;
	if ((f = fopen(maillog, "r")) == NULL)
		return;		/* said once, in ctl_trace() */
	pat = g_strdup_printf(": %s: ", qid);
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *p = strstr(line, pat);

		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (p == NULL)
			continue;
		p += strlen(pat);
		if (strstr(p, "status=") == NULL && strncmp(p, "milter-", 7) != 0 &&
		    strcmp(p, "removed") != 0 && strncmp(p, "hold:", 5) != 0 &&
		    strncmp(p, "sender non-delivery", 19) != 0)
			continue;
		printf("  postfix: %s\n", p);
	}
	g_free(pat);
	free(line);
	fclose(f);
}

static void
story(const struct trace *t, struct qstore *q, struct json_object *rec,
    const char *maillog)
{
	struct json_object *o;
	const char *qid = lr_str(rec, "queue_id");
	const char *action = or_dash(lr_str(rec, "action"));
	const char *stage = or_dash(lr_str(rec, "stage"));
	const char *name;

	printf("%s queue %s message-id %s\n", or_dash(lr_str(rec, "time")),
	    or_dash(qid), or_dash(lr_str(rec, "message_id")));
	/* As Postfix writes a client: name[addr], "unknown" for no name
	 * (the MTA hands an unresolved one over as "[addr]"). */
	name = lr_str(rec, "client_name");
	if (name == NULL || *name == '\0' || name[0] == '[')
		name = "unknown";
	printf("  received from %s[%s] helo %s\n", name,
	    or_dash(lr_str(rec, "client_addr")), or_dash(lr_str(rec, "helo")));
	printf("  envelope <%s> ->", lr_str(rec, "from") ? lr_str(rec, "from") :
	    "");
	if (json_object_object_get_ex(rec, "rcpts", &o))
		for (size_t i = 0; i < json_object_array_length(o); i++)
			printf("%s <%s>", i ? "," : "", json_object_get_string(
			    json_object_array_get_idx(o, i)));
	printf("\n");
	if (lr_str(rec, "subject") != NULL)
		printf("  subject \"%s\"\n", lr_str(rec, "subject"));
	if (strcmp(stage, "mail") == 0)
		printf("  verdict %s at MAIL FROM (%s)\n", action,
		    or_dash(lr_str(rec, "reason")));
	else
		printf("  verdict %s: score %.1f, required %.1f, reason %s%s%s\n",
		    or_dash(lr_str(rec, "verdict")), lr_num(rec, "score", 0),
		    lr_num(rec, "required", 0), or_dash(lr_str(rec, "reason")),
		    lr_str(rec, "version") ? ", version " : "",
		    lr_str(rec, "version") ? lr_str(rec, "version") : "");
	print_hits(rec);
	print_list("  shadow rules (not scored):", rec, "shadow");
	print_list("  failed checks:", rec, "failures");
	if (json_object_object_get_ex(rec, "reply", &o))
		printf("  %s: %s %s %s\n", action,
		    or_dash(lr_str(o, "code")), or_dash(lr_str(o, "xcode")),
		    or_dash(lr_str(o, "text")));
	if (json_object_object_get_ex(rec, "headers", &o) &&
	    json_object_object_length(o) > 0) {
		printf("  %s, headers added:\n", action);
		json_object_object_foreach(o, k, v)
			printf("    %s: %s\n", k, json_object_get_string(v));
	}
	if (lr_str(rec, "subject_new") != NULL)
		printf("  subject rewritten: \"%s\"\n", lr_str(rec, "subject_new"));
	if (lr_str(rec, "quarantine") != NULL)
		print_quarantine(t, q, lr_str(rec, "quarantine"));
	if (lr_str(rec, "release") != NULL)
		printf("  a released copy of quarantine entry %s\n",
		    lr_str(rec, "release"));
	print_maillog(maillog, qid);
	printf("\n");
}

int
ctl_trace(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "subject", required_argument, NULL, 's' },
		{ "message-id", required_argument, NULL, 'm' },
		{ "queue-id", required_argument, NULL, 'q' },
		{ "since", required_argument, NULL, 'S' },
		{ "log", required_argument, NULL, 'l' },
		{ "maillog", required_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct trace t = { 0 };
	const char *log = NULL, *maillog = NULL;
	double since = 0;
	bool json = false;
	unsigned nbad = 0, found = 0;
	char *path;
	struct cfg *c = NULL;
	struct qstore *q = NULL;
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': t.from = optarg; break;
		case 't': t.to = optarg; break;
		case 's': t.subject = optarg; break;
		case 'm': t.message_id = optarg; break;
		case 'q': t.queue_id = optarg; break;
		case 'l': log = optarg; break;
		case 'M': maillog = optarg; break;
		case 'j': json = true; break;
		case 'S':
			if (!logread_since(optarg, &since)) {
				fprintf(stderr, "vigilctl trace: --since %s: not a "
				    "duration (2d, 12h, 30m)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			ctl_help_command("trace", stdout);
			return 0;
		default:
			ctl_help_usage("trace", stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigilctl trace: unexpected argument \"%s\"\n",
		    argv[optind]);
		ctl_help_usage("trace", stderr);
		return EX_USAGE;
	}
	if ((path = logread_path(o, log, "vigilctl trace", &rc)) == NULL)
		return rc;
	if (maillog != NULL) {
		FILE *f = fopen(maillog, "r");

		if (f == NULL) {
			fprintf(stderr, "vigilctl trace: --maillog %s: %s\n",
			    maillog, strerror(errno));
			free(path);
			return EX_NOINPUT;
		}
		fclose(f);
	}
	t.all = g_ptr_array_new_with_free_func(rec_free);
	rc = logread_each("vigilctl trace", path, since, keep, &t, &nbad);
	free(path);
	if (rc != 0) {
		g_ptr_array_free(t.all, TRUE);
		return rc;
	}
	/* The quarantine, for release times; without one, the log alone. */
	if (!json && (c = ctl_cfg(o)) != NULL) {
		char *err = NULL;

		/* The store reads c until it is closed. */
		q = quarantine_open(c, false, &err);
		free(err);
	}
	for (guint i = 0; i < t.all->len; i++) {
		struct json_object *rec = t.all->pdata[i];

		if (!matches(&t, rec))
			continue;
		found++;
		if (json)
			printf("%s\n", json_object_to_json_string_ext(rec,
			    JSON_C_TO_STRING_PLAIN));
		else
			story(&t, q, rec, maillog);
	}
	if (nbad > 0)
		fprintf(stderr, "vigilctl trace: %u line(s) were not JSON records "
		    "(LogFormat json?)\n", nbad);
	if (!json)
		printf("%u message(s) found\n", found);
	if (q != NULL)
		quarantine_close(&q);
	if (c != NULL)
		cfg_unref(&c);
	g_ptr_array_free(t.all, TRUE);
	return found > 0 ? 0 : 1;
}
