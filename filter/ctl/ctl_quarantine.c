/*
 * ctl_quarantine.c - `vigilctl quarantine list|show|release|delete|purge|
 * migrate` and `vigilctl db upgrade`: the admin's view of the quarantine
 * store (files and SQLite, or PostgreSQL with QuarantineDB).  Reads the index directly
 * (quarantine.h); release goes through release.c.  Everything printed
 * from a message is made harmless for a terminal first.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "checks/bayes/bayes.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "mime.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "snap.h"
#include "verdict.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

#define EXIT_USAGE	EX_USAGE
#define PREVIEW_BYTES	2048
#define PREVIEW_LINES	40

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "vigilctl quarantine: %s\n", why);
	ctl_help_usage("quarantine", stderr);
	return EXIT_USAGE;
}

/*
 * Writes n bytes of s so that a terminal shows them and obeys none:
 * C0 and C1 control characters and DEL become visible escapes; newlines
 * and tabs stay when keep_lines.
 */
static void
term_write(FILE *out, const char *s, size_t n, bool keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (keep_lines && (c == '\n' || c == '\t'))
			fputc(c, out);
		else if (c == '\r' && keep_lines && i + 1 < n &&
		    p[i + 1] == '\n')
			;	/* CRLF shows as a line end */
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else if (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			fprintf(out, "\\u%04x", p[i + 1]);	/* C1 control */
			i++;
		} else
			fputc(c, out);
	}
}

static void
term_puts(FILE *out, const char *s)
{
	term_write(out, s, strlen(s), false);
}

/* Characters (not bytes) in a UTF-8 string, for column widths. */
static size_t
u8_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* s cut to at most max characters (marking the cut), terminal-safe. */
static char *
cell(struct arena *a, const char *s, size_t max)
{
	char *buf = NULL, *r;
	size_t len = 0, i, w = 0;
	FILE *f;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++w == max &&
		    u8_width(s + i) > 1)
			break;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return arena_strdup(a, "?");
	term_write(f, s, i, false);
	if (s[i] != '\0')
		fputs("\u2026" /* ellipsis */, f);
	fclose(f);
	r = arena_strdup(a, buf);
	free(buf);
	return r;
}

static void
time_text(char *buf, size_t sz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
}

/*
 * The running daemon's answer to "quarantine" on its ControlSocket:
 * "Keyword value" lines (QuarantineDir, QuarantineDB, ReleaseKeyFile),
 * malloc'd; NULL when no daemon answers (nothing said: vigilctl then
 * reads its own configuration, as offline).
 */
#define DAEMON_WAIT_MS	3000
static char *
daemon_quarantine(const struct cfg *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = cfg_str(c, "ControlSocket");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	char chunk[1024];
	ssize_t n;
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return NULL;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, "quarantine\n", 11) != 11 ||
	    (mem = open_memstream(&buf, &len)) == NULL) {
		close(fd);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, DAEMON_WAIT_MS) != 1 ||
		    (n = read(fd, chunk, sizeof(chunk))) <= 0)
			break;
		fwrite(chunk, 1, (size_t)n, mem);
	}
	close(fd);
	fclose(mem);
	/* An older daemon answers "error unknown command". */
	if (buf != NULL && strncmp(buf, "ok\n", 3) == 0)
		return buf;
	free(buf);
	return NULL;
}

/*
 * vigilctl's configuration, with the running daemon's quarantine options
 * when it answers on the control socket: its QuarantineDir (or
 * QuarantineDB) and ReleaseKeyFile, which it may have from -o, come
 * before vigilctl's own -o (which still win).  *where_r (owned by the
 * result) names the store to open: the daemon's when it keeps one in a
 * folder while vigilctl's file names a database, else NULL.
 */
static struct cfg *
qcfg(const struct ctl_opts *o, const char **where_r)
{
	struct cfg *c = ctl_cfg(o), *dc;
	struct ctl_opts d = { .cfg_path = o->cfg_path };
	char *ans, *line, *sp, *next;
	const char **ov;
	bool has_db = false;
	size_t n = 0;

	*where_r = NULL;
	if (c == NULL || (ans = daemon_quarantine(c)) == NULL)
		return c;
	ov = calloc(o->noverrides + 4, sizeof(*ov));
	if (ov == NULL) {
		free(ans);
		return c;
	}
	for (line = ans + 3; *line != '\0' && n < 3; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			break;
		*next++ = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '=';
		has_db |= strncmp(line, "QuarantineDB=", 13) == 0;
		ov[n++] = line;
	}
	for (size_t i = 0; i < o->noverrides; i++)
		ov[n++] = o->overrides[i];
	d.overrides = ov;
	d.noverrides = n;
	if ((dc = ctl_cfg(&d)) != NULL) {
		cfg_unref(&c);
		c = dc;
		if (!has_db && cfg_str(c, "QuarantineDB") != NULL &&
		    cfg_str(c, "QuarantineDir") != NULL)
			*where_r = cfg_str(c, "QuarantineDir");
	}
	free(ov);
	free(ans);
	return c;
}

static struct qstore *
store_open(const struct ctl_opts *o, struct cfg **cfg_r)
{
	struct qstore *q;
	const char *where;
	char *err = NULL;

	*cfg_r = qcfg(o, &where);
	if (*cfg_r == NULL)
		return NULL;
	q = where != NULL ? quarantine_open_at(*cfg_r, where, false, &err) :
	    quarantine_open(*cfg_r, false, &err);
	if (q == NULL) {
		fprintf(stderr, "vigilctl quarantine: %s\n", err);
		free(err);
		cfg_unref(cfg_r);
	}
	return q;
}

/*
 * True when QuarantineDir exists but holds no index yet: nothing was ever
 * quarantined, which list shows as an empty list, not as an error.
 */
static bool
store_is_unused(const struct ctl_opts *o)
{
	const char *where;
	struct cfg *c = qcfg(o, &where);
	bool unused;

	if (c == NULL)
		return false;
	unused = quarantine_never_used(c);
	cfg_unref(&c);
	return unused;
}

/* held, released or deleted (whether released before or not). */
static const char *
entry_state(const struct qentry *e)
{
	return e->deleted != 0 ? "deleted" : e->released != 0 ? "released" :
	    "held";
}

static void
list_table(struct arena *a, const struct qentry **v, size_t n)
{
	static const char *const head[] = { "ID", "TIME (UTC)", "SCORE",
	    "REASON", "RELEASED (UTC)", "SENDER", "RECIPIENTS", "SUBJECT",
	    "STATE" };
	enum { NCOL = 9 };
	static const size_t maxw[NCOL] = { 32, 19, 8, 10, 19, 32, 32, 50, 8 };
	char ***rows = arena_alloc(a, (n + 1) * sizeof(*rows));
	size_t w[NCOL], i, c;

	for (c = 0; c < NCOL; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < n; i++) {
		const struct qentry *e = v[i];
		char tbuf[32], *rc;

		time_text(tbuf, sizeof(tbuf), e->time);
		rc = arena_strdup(a, e->nrcpts > 0 ? e->rcpts[0] : "");
		if (e->nrcpts > 1)
			rc = arena_printf(a, "%s +%zu", rc, e->nrcpts - 1);
		rows[i] = arena_alloc(a, NCOL * sizeof(char *));
		rows[i][0] = arena_strdup(a, e->id);
		rows[i][1] = arena_strdup(a, tbuf);
		rows[i][2] = arena_printf(a, "%.1f", e->score);
		rows[i][3] = cell(a, e->reason, maxw[3]);
		if (e->released != 0) {
			time_text(tbuf, sizeof(tbuf), e->released);
			rows[i][4] = arena_strdup(a, tbuf);
		} else
			rows[i][4] = arena_strdup(a, "-");
		rows[i][5] = cell(a, *e->sender != '\0' ? e->sender : "<>",
		    maxw[5]);
		rows[i][6] = cell(a, rc, maxw[6]);
		rows[i][7] = cell(a, e->subject, maxw[7]);
		rows[i][8] = arena_strdup(a, entry_state(e));
		for (c = 0; c < NCOL; c++)
			if (u8_width(rows[i][c]) > w[c])
				w[c] = u8_width(rows[i][c]);
	}
	for (c = 0; c + 1 < NCOL; c++)
		printf("%-*s  ", (int)w[c], head[c]);
	printf("%s\n", head[NCOL - 1]);
	for (i = 0; i < n; i++)
		for (c = 0; c < NCOL; c++) {
			const char *s = rows[i][c];
			size_t pad = w[c] - u8_width(s);

			if (c + 1 == NCOL)
				printf("%s\n", s);
			else if (c == 2)	/* numbers align right */
				printf("%*s%s  ", (int)pad, "", s);
			else
				printf("%s%*s  ", s, (int)pad, "");
		}
}

/* Keeps the entries of v in state (held, released or deleted; NULL:
 * all): the new count. */
static size_t
keep_state(const struct qentry **v, size_t n, const char *state)
{
	size_t k = 0;

	if (state == NULL)
		return n;
	for (size_t i = 0; i < n; i++)
		if (strcmp(entry_state(v[i]), state) == 0)
			v[k++] = v[i];
	return k;
}

/* The store's JSON lines of the entries in v only: each line starts
 * with its id, {"id":"ID" from SQLite, {"id": "ID" from PostgreSQL's
 * jsonb (quarantine.c's ENTRY_JSON and its twin in quarantine_pg.c). */
static bool
list_json_of(struct qstore *q, const struct qfilter *f,
    const struct qentry **v, size_t n)
{
	static const char pre[] = "{\"id\":";
	GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
	char *buf = NULL, *line, *next, *end, *id;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	bool ok;

	if (mem == NULL) {
		g_hash_table_destroy(ids);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		g_hash_table_add(ids, (gpointer)v[i]->id);
	ok = quarantine_list_json(q, f, mem);
	fclose(mem);
	for (line = buf; ok && line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, pre, sizeof(pre) - 1) != 0)
			continue;
		id = line + sizeof(pre) - 1;
		id += strspn(id, " ");
		if (*id++ != '"' || (end = strchr(id, '"')) == NULL)
			continue;
		*end = '\0';
		if (g_hash_table_contains(ids, id)) {
			*end = '"';
			printf("%s\n", line);
		}
	}
	free(buf);
	g_hash_table_destroy(ids);
	return ok;
}

static int
cmd_list(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "sender", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "min-score", required_argument, NULL, 'm' },
		{ "reason", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct qfilter f = { .with_deleted = true };
	bool json = false;
	const char *state = NULL;	/* NULL: any */
	struct qstore *q;
	struct cfg *c;
	const struct qentry **v;
	size_t n;
	char *end;
	int ch, rc = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!util_parse_since(optarg, &f.since))
				return usage("--since: want a duration (30d) "
				    "or a date (2026-11-27[T10:00:00])");
			break;
		case 'f': f.sender = optarg; break;
		case 'r': f.rcpt = optarg; break;
		case 'm':
			f.min_score = strtod(optarg, &end);
			if (end == optarg || *end != '\0')
				return usage("--min-score: want a number");
			f.has_min_score = true;
			break;
		case 'R':
			if (*optarg == '\0' || strspn(optarg,
			    "abcdefghijklmnopqrstuvwxyz") != strlen(optarg))
				return usage("--reason: want virus, spam, "
				    "policy (all but those two) or a reason "
				    "such as dmarc");
			f.reason = optarg;
			break;
		case 'j': json = true; break;
		case 'S':
			if (strcmp(optarg, "held") != 0 &&
			    strcmp(optarg, "released") != 0 &&
			    strcmp(optarg, "deleted") != 0)
				return usage("--state: want held (never "
				    "released), released or deleted");
			state = optarg;
			break;
		default: return usage(NULL);
		}
	}
	if (optind != argc)
		return usage("list takes no ids");
	if (store_is_unused(o)) {
		if (!json) {
			struct arena *a = arena_new("quarantine list");

			list_table(a, NULL, 0);
			arena_free(&a);
		}
		return 0;
	}
	if ((q = store_open(o, &c)) == NULL)
		return 1;
	if (json && state == NULL) {
		if (!quarantine_list_json(q, &f, stdout))
			rc = 1;
	} else if (quarantine_list(q, &f, &v, &n)) {
		struct arena *a = arena_new("quarantine list");

		n = keep_state(v, n, state);
		if (!json)
			list_table(a, v, n);
		else if (!list_json_of(q, &f, v, n))
			rc = 1;
		arena_free(&a);
	} else
		rc = 1;
	if (rc != 0)
		fprintf(stderr, "vigilctl quarantine list: %s\n",
		    quarantine_error(q));
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

/*
 * The first lines of the message's text: decoded (MIME, charsets, HTML
 * rendered) when it parses, else the body as stored.
 */
static void
show_preview(const unsigned char *msg, size_t len)
{
	struct arena *a = arena_new("quarantine preview");
	size_t blen, i, lines = 0;
	const char *body = mime_body_text(a, msg, len, &blen);

	if (body == NULL) {
		body = (const char *)release_body(msg, len, &blen);
		printf("(not decoded: the body as stored)\n");
	}
	for (i = 0; i < blen && i < PREVIEW_BYTES; i++)
		if (body[i] == '\n' && ++lines == PREVIEW_LINES)
			break;
	term_write(stdout, body, i, true);
	if (i < blen)
		printf("\n[... %zu more bytes]", blen - i);
	putchar('\n');
	arena_free(&a);
}

static void
show_entry(const struct qentry *e, const unsigned char *msg, size_t len)
{
	const unsigned char *body;
	char tbuf[32];
	size_t blen, i;

	time_text(tbuf, sizeof(tbuf), e->time);
	printf("Id:         %s\n", e->id);
	printf("Time:       %s UTC\n", tbuf);
	printf("Queue id:   ");
	term_puts(stdout, e->queue_id);
	printf("\nClient:     ");
	term_puts(stdout, e->client);
	printf("\nSender:     <");
	term_puts(stdout, e->sender);
	printf(">\nRecipients:");
	for (i = 0; i < e->nrcpts; i++) {
		printf(i == 0 ? " <" : ", <");
		term_puts(stdout, e->rcpts[i]);
		putchar('>');
	}
	printf("\nSubject:    ");
	term_puts(stdout, e->subject);
	printf("\nScore:      %.2f\nReason:     ", e->score);
	term_puts(stdout, e->reason);
	printf("\nSize:       %lld bytes\n", (long long)e->size);
	if (e->released != 0) {
		time_text(tbuf, sizeof(tbuf), e->released);
		printf("Released:   %s UTC\n", tbuf);
	}
	if (e->deleted != 0) {
		time_text(tbuf, sizeof(tbuf), e->deleted);
		printf("Deleted:    %s UTC by ", tbuf);
		term_puts(stdout, e->deleted_by);
		printf(" (the message is gone)\n");
	}
	if (e->versions != NULL) {
		printf("Versions:   ");
		term_puts(stdout, e->versions);
		putchar('\n');
	}
	printf("\nHits:\n");
	for (i = 0; i < e->nhits; i++) {
		printf("  %-28s %7.2f  ", e->hits[i].name, e->hits[i].score);
		term_puts(stdout, e->hits[i].detail);
		putchar('\n');
	}
	if (msg == NULL)
		return;
	printf("\nHeaders:\n");
	body = release_body(msg, len, &blen);
	term_write(stdout, (const char *)msg, (size_t)(body - msg), true);
	printf("Preview:\n");
	show_preview(msg, len);
}

/*
 * The full id of arg: arg itself when it is one, else the one entry
 * whose id starts with arg (at least MIN_PREFIX hex digits, as git takes
 * abbreviated hashes).  NULL after saying why (unknown, ambiguous, not
 * an id) on stderr after who.  The result is owned by q.
 */
#define MIN_PREFIX	4
static const char *
resolve_id(struct qstore *q, const char *who, const char *arg)
{
	static const struct qfilter all = { .with_deleted = true };
	const struct qentry **v;
	const char *found = NULL;
	size_t n, len = strlen(arg), nmatch = 0;

	if (quarantine_id_is_valid(arg))
		return arg;
	if (len < MIN_PREFIX || strspn(arg, "0123456789abcdef") != len) {
		fprintf(stderr, "vigilctl quarantine %s: not a quarantine id "
		    "or a prefix of one (%d or more of its hex digits): "
		    "\"%.40s\"\n", who, MIN_PREFIX, arg);
		return NULL;
	}
	if (!quarantine_list(q, &all, &v, &n)) {
		fprintf(stderr, "vigilctl quarantine %s: %s\n", who,
		    quarantine_error(q));
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i]->id, arg, len) == 0) {
			if (nmatch++ == 0)
				found = v[i]->id;
			else if (nmatch == 2)
				fprintf(stderr, "vigilctl quarantine %s: id "
				    "prefix %s is ambiguous; it starts %s\n  "
				    "and %s", who, arg, found, v[i]->id);
			else
				fprintf(stderr, "\n  and %s", v[i]->id);
		}
	if (nmatch == 1)
		return found;
	if (nmatch == 0)
		fprintf(stderr, "vigilctl quarantine %s: no quarantine entry "
		    "%s...\n", who, arg);
	else
		fprintf(stderr, "\n");
	return NULL;
}

static int
cmd_show(const struct ctl_opts *o, int argc, char **argv)
{
	const struct qentry *e;
	const unsigned char *msg;
	const char *id;
	struct qstore *q;
	struct cfg *c;
	size_t len = 0;
	int rc = 0;

	if (argc != 2)
		return usage("show takes one id");
	if ((q = store_open(o, &c)) == NULL)
		return 1;
	if ((id = resolve_id(q, "show", argv[1])) == NULL) {
		quarantine_close(&q);
		cfg_unref(&c);
		return 1;
	}
	e = quarantine_get_any(q, id);
	if (e == NULL) {
		fprintf(stderr, "vigilctl quarantine show: %s\n",
		    quarantine_error(q));
		rc = 1;
	} else if (e->deleted != 0)
		show_entry(e, NULL, 0);	/* the row without its message */
	else {
		msg = quarantine_read(q, e->id, &len);
		show_entry(e, msg, len);
		if (msg == NULL) {
			fprintf(stderr, "vigilctl quarantine show: %s\n",
			    quarantine_error(q));
			rc = 1;
		}
	}
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

/* What --learn-ham needs: a snapshot to parse with, the Bayes store. */
struct learner {
	struct snap		*snap;
	struct bayes_store	*store;
};

/* Opens both before anything is released; false after saying why. */
static bool
learner_open(const struct ctl_opts *o, struct learner *l)
{
	struct bayes_store_cfg sc;
	char *err = NULL;

	if ((l->snap = ctl_snap(o)) == NULL)
		return false;
	bayes_store_cfg_from(snap_cfg(l->snap), &sc);
	if ((l->store = bayes_store_open(&sc, &err)) == NULL) {
		fprintf(stderr, "vigilctl quarantine release --learn-ham: "
		    "Bayes store: %s\n", err);
		free(err);
		snap_unref(&l->snap);
		return false;
	}
	return true;
}

static void
learner_close(struct learner *l)
{
	bayes_store_close(&l->store);
	snap_unref(&l->snap);
}

/*
 * Release-as-ham: the message is learned as ham in Bayes (parsed as the
 * milter saw it, no check run) and a false positive is counted against
 * every rule that pushed it toward spam, for `vigilctl stats`.
 */
static bool
learn_ham(struct arena *a, struct qstore *q, struct learner *l,
    const struct qentry *e, const char **err_r)
{
	const unsigned char *raw;
	struct msg *m;
	char *err = NULL;
	size_t len;
	int res;

	if ((raw = quarantine_read(q, e->id, &len)) == NULL) {
		*err_r = quarantine_error(q);
		return false;
	}
	m = parse_buffer(l->snap, raw, len, "release");
	if (bayes_learn_msg(l->store, m, BAYES_HAM, false, &res, &err) == -1) {
		*err_r = arena_printf(a, "Bayes: %s", err);
		free(err);
		msg_end(&m);
		return false;
	}
	msg_end(&m);
	if (!quarantine_record_fp(q, e)) {
		*err_r = quarantine_error(q);
		return false;
	}
	printf("learned %s as ham (%s), false positive counted for its "
	    "rules\n", e->id, bayes_result_name(res));
	return true;
}

static int
cmd_release(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "learn-ham", no_argument, NULL, 'l' },
		{ "again", no_argument, NULL, 'F' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char **to;
	size_t nto = 0;
	bool learn = false, force = false;
	struct learner lr = { NULL, NULL };
	struct qstore *q;
	struct cfg *c;
	struct arena *a;
	int ch, rc = 0;

	to = calloc((size_t)argc + 1, sizeof(*to));
	if (to == NULL)
		return 1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (strchr(optarg, '@') == NULL || optarg[0] == '-') {
				free(to);
				return usage("--to: want an address");
			}
			to[nto++] = optarg;
			break;
		case 'l': learn = true; break;
		case 'F': force = true; break;
		default: free(to); return usage(NULL);
		}
	}
	if (optind == argc) {
		free(to);
		return usage("release: give at least one id");
	}
	if (learn && !learner_open(o, &lr)) {
		free(to);
		return 1;
	}
	if ((q = store_open(o, &c)) == NULL) {
		if (learn)
			learner_close(&lr);
		free(to);
		return 1;
	}
	a = arena_new("quarantine release");
	for (int i = optind; i < argc; i++) {
		const char *id = resolve_id(q, "release", argv[i]);
		const struct qentry *e;
		const char *err = NULL;

		if (id == NULL) {
			rc = 1;
			continue;
		}
		if ((e = quarantine_get_any(q, id)) == NULL) {
			fprintf(stderr, "vigilctl quarantine release: %s\n",
			    quarantine_error(q));
			rc = 1;
			continue;
		}
		/* Nothing left to send, --again or not. */
		if (e->deleted != 0) {
			char tbuf[32];

			time_text(tbuf, sizeof(tbuf), e->deleted);
			fprintf(stderr, "vigilctl quarantine release: %s was "
			    "deleted at %s UTC by %s; its message is gone\n",
			    e->id, tbuf, e->deleted_by);
			if (rc == 0)
				rc = EX_DATAERR;
			continue;
		}
		/* A second release delivers a second copy: only on purpose. */
		if (e->released != 0 && !force) {
			char tbuf[32];

			time_text(tbuf, sizeof(tbuf), e->released);
			fprintf(stderr, "vigilctl quarantine release: %s was "
			    "already released at %s UTC; --again sends it "
			    "again\n", e->id, tbuf);
			rc = 1;
			continue;
		}
		if (!release_send(a, q, e, to, nto, &err)) {
			fprintf(stderr, "vigilctl quarantine release: %s\n",
			    err);
			rc = 1;
			continue;
		}
		printf("released %s to %zu recipient(s)\n", e->id,
		    nto > 0 ? nto : e->nrcpts);
		if (learn && !learn_ham(a, q, &lr, e, &err)) {
			fprintf(stderr, "vigilctl quarantine release: "
			    "--learn-ham %s: %s\n", e->id, err);
			rc = 1;
		}
	}
	if (learn)
		learner_close(&lr);
	arena_free(&a);
	quarantine_close(&q);
	cfg_unref(&c);
	free(to);
	return rc;
}

static int
cmd_delete(const struct ctl_opts *o, int argc, char **argv)
{
	struct passwd *pw;
	struct qstore *q;
	struct cfg *c;
	char *by = NULL;
	int rc = 0;

	if (argc < 2)
		return usage("delete: give at least one id");
	if ((q = store_open(o, &c)) == NULL)
		return 1;
	if ((pw = getpwuid(getuid())) != NULL &&
	    asprintf(&by, "vigilctl (user %s)", pw->pw_name) == -1)
		by = NULL;
	for (int i = 1; i < argc; i++) {
		const char *id = resolve_id(q, "delete", argv[i]);

		if (id == NULL)
			rc = 1;
		else if (quarantine_delete_by(q, id, by))
			printf("deleted %s\n", id);
		else {
			fprintf(stderr, "vigilctl quarantine delete: %s\n",
			    quarantine_error(q));
			rc = 1;
		}
	}
	free(by);
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

static int
cmd_purge(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct qstore *q;
	struct cfg *c;
	uint64_t ms = 0;
	int64_t before;
	size_t n = 0;
	bool have = false, dry = false;
	int ch, rc = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'n') {
			dry = true;
			continue;
		}
		if (ch != 'o')
			return usage(NULL);
		if (!util_parse_duration(optarg, &ms))
			return usage("--older-than: want a duration (30d)");
		have = true;
	}
	if (!have || optind != argc)
		return usage("purge needs --older-than DUR [--dry-run] and "
		    "nothing else");
	if ((q = store_open(o, &c)) == NULL)
		return 1;
	before = (int64_t)time(NULL) - (int64_t)(ms / 1000);
	if (dry) {
		struct qfilter f = { .before = before, .with_deleted = true };
		const struct qentry **v;

		if (!quarantine_list(q, &f, &v, &n)) {
			fprintf(stderr, "vigilctl quarantine purge: %s\n",
			    quarantine_error(q));
			rc = 1;
		} else {
			for (size_t i = 0; i < n; i++) {
				char tbuf[32];

				time_text(tbuf, sizeof(tbuf), v[i]->time);
				printf("would purge %s %s UTC\n", v[i]->id,
				    tbuf);
			}
			printf("would purge %zu entries (dry run: nothing "
			    "removed)\n", n);
		}
	} else if (!quarantine_purge(q, before, &n)) {
		fprintf(stderr, "vigilctl quarantine purge: %s (after %zu "
		    "removed)\n", quarantine_error(q), n);
		rc = 1;
	} else
		printf("purged %zu entries\n", n);
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

static int
cmd_migrate(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct qstore *from, *to;
	const char *dest = NULL, *err = NULL;
	char *oerr = NULL;
	struct cfg *c;
	size_t n = 0;
	int ch, rc = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 't')
			return usage(NULL);
		dest = optarg;
	}
	if (dest == NULL || optind != argc)
		return usage("migrate needs --to DIR|postgresql://... and "
		    "nothing else");
	if ((from = store_open(o, &c)) == NULL)
		return 1;
	if ((to = quarantine_open_at(c, dest, true, &oerr)) == NULL) {
		fprintf(stderr, "vigilctl quarantine migrate: %s\n", oerr);
		free(oerr);
		quarantine_close(&from);
		cfg_unref(&c);
		return 1;
	}
	if (!quarantine_migrate(from, to, &n, &err)) {
		fprintf(stderr, "vigilctl quarantine migrate: %s (after %zu "
		    "entries)\n", err, n);
		rc = 1;
	} else
		printf("migrated %zu entries from %s to %s\n", n,
		    quarantine_where(from), quarantine_where(to));
	quarantine_close(&to);
	quarantine_close(&from);
	cfg_unref(&c);
	return rc;
}

struct add_ctx {
	struct snap		*snap;
	const struct scan_env	*env;
	int			 rc;
};

/* One message of quarantine add: scanned, then stored with its verdict. */
static int
add_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct add_ctx *ax = arg;
	const struct verdict *v;
	const char *why, *id = NULL, *err = NULL;
	struct msg *m;

	if ((why = ctl_not_mail(data, len)) != NULL) {
		fprintf(stderr, "vigilctl quarantine add: %s: not mail: %s; "
		    "not added\n", name, why);
		ax->rc = EX_DATAERR;
		return 0;
	}
	m = scan_buffer(ax->snap, ax->env, data, len, "ctl", &v);
	if (!quarantine_put(m, v, &id, &err)) {
		fprintf(stderr, "vigilctl quarantine add: %s: %s\n", name, err);
		ax->rc = 1;
	} else
		printf("added %s as %s (score %.1f, %s)\n", name, id,
		    v->score, v->reason != NULL ? v->reason : "-");
	msg_end(&m);
	return 0;
}

static int
cmd_add(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rcpt", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct scan_env env = { 0 };
	struct add_ctx ax = { 0 };
	const char **rcpts;
	unsigned nerrors = 0;
	int ch;

	if ((rcpts = calloc((size_t)argc + 1, sizeof(*rcpts))) == NULL)
		return EX_OSERR;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (strchr(optarg, '@') == NULL || optarg[0] == '-') {
				free(rcpts);
				return usage("--rcpt: want an address");
			}
			rcpts[env.nrcpts++] = optarg;
			break;
		case 'f': env.mail_from = optarg; break;
		case 'i': env.client_addr = optarg; break;
		case 'H': env.helo = optarg; break;
		default: free(rcpts); return usage(NULL);
		}
	}
	env.rcpts = rcpts;
	if (env.nrcpts == 0 || optind == argc) {
		free(rcpts);
		return usage("add needs --rcpt ADDR (the recipients a release "
		    "delivers to) and a message");
	}
	if ((ax.snap = ctl_snap(o)) == NULL) {
		free(rcpts);
		return EX_CONFIG;
	}
	ax.env = &env;
	for (int i = optind; i < argc; i++)
		(void)ctl_read_messages("vigilctl quarantine add", argv[i],
		    add_one, &ax, &nerrors);	/* add_one never stops */
	snap_unref(&ax.snap);
	free(rcpts);
	return nerrors > 0 ? EX_NOINPUT : ax.rc;
}

int
ctl_quarantine(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct ctl_opts *, int, char **);
	} cmds[] = {
		{ "list", cmd_list }, { "show", cmd_show },
		{ "release", cmd_release }, { "delete", cmd_delete },
		{ "purge", cmd_purge }, { "migrate", cmd_migrate },
		{ "add", cmd_add },
	};

	if (ctl_wants_help(argc, argv, argc)) {
		ctl_help_command("quarantine", stdout);
		return 0;
	}
	if (argc < 2)
		return usage(NULL);
	for (size_t i = 0; i < NELEM(cmds); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(o, argc - 1, argv + 1);
	fprintf(stderr, "vigilctl quarantine: unknown command \"%s\"\n",
	    argv[1]);
	return usage(NULL);
}

int
ctl_quarantine_stats(const struct ctl_opts *o, FILE *out)
{
	const char *where;
	struct cfg *c = qcfg(o, &where);
	struct qstore *q;
	char *err = NULL, *index = NULL;
	int rc = 0;

	if (c == NULL)
		return 1;
	if (quarantine_is_shared(c) && where == NULL)
		goto open;
	if (cfg_str(c, "QuarantineDir") == NULL) {
		cfg_unref(&c);
		return 0;
	}
	/* No index yet: nothing was quarantined, nothing to count. */
	if (asprintf(&index, "%s/index.sqlite", cfg_str(c, "QuarantineDir"))
	    == -1 || access(index, F_OK) == -1) {
		free(index);
		cfg_unref(&c);
		return 0;
	}
	free(index);
open:
	q = where != NULL ? quarantine_open_at(c, where, false, &err) :
	    quarantine_open(c, false, &err);
	if (q == NULL || !quarantine_write_stats(q, out)) {
		fprintf(stderr, "vigilctl stats: %s\n", q == NULL ? err :
		    quarantine_error(q));
		rc = 1;
	}
	free(err);
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

/* `vigilctl db upgrade`: makes or upgrades the quarantine store's schema
 * (the daemon does it too on first use, if its role may). */
int
ctl_db(const struct ctl_opts *o, int argc, char **argv)
{
	struct cfg *c;
	char *err = NULL;
	int from, to, rc = 0;

	if (ctl_wants_help(argc, argv, argc) ||
	    argc != 2 || strcmp(argv[1], "upgrade") != 0) {
		if (ctl_wants_help(argc, argv, argc)) {
			ctl_help_command("db", stdout);
			return 0;
		}
		ctl_help_usage("db", stderr);
		return EXIT_USAGE;
	}
	if ((c = ctl_cfg(o)) == NULL)
		return EX_CONFIG;
	if (!quarantine_upgrade(c, &from, &to, &err)) {
		fprintf(stderr, "vigilctl db upgrade: %s\n", err);
		free(err);
		rc = 1;
	} else if (from == to)
		printf("schema version %d: up to date\n", to);
	else
		printf("schema version %d -> %d\n", from, to);
	cfg_unref(&c);
	return rc;
}
