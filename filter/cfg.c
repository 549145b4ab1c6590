/*
 * cfg.c - loads `Keyword value` files against the option tables and keeps
 * the result as an immutable, reference-counted snapshot.  Owns every
 * string it hands out; nothing here knows what an option means.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "lib/log.h"
#include "lib/util.h"

/* The date of the manual pages (vigil.conf(5) is generated). */
#define VIGIL_MAN_DATE	"December 6, 2026"

#define SOCKET_DEFAULT	"unix:" RUNSTATEDIR "/vigil/vigil.sock"

const struct opt core_opts[] = {
	{ "Socket", OPT_STRING, SOCKET_DEFAULT, 0, 0, NULL,
	  "Where the MTA reaches the milter: unix:/path or inet:port@host" },
	{ "SocketGroup", OPT_STRING, NULL, 0, 0, NULL,
	  "Group of the unix milter socket, mode 0660; the MTA's user must be "
	  "in it (unset: the daemon's group)" },
	{ "ControlSocket", OPT_PATH, RUNSTATEDIR "/vigil/control.sock", 0, 0, NULL,
	  "Unix socket for vigilctl reload and stats (mode 0600, daemon user only)" },
	{ "PidFile", OPT_PATH, NULL, 0, 0, NULL,
	  "File that holds the daemon's process id (unset: none)" },
	{ "UserID", OPT_STRING, NULL, 0, 0, NULL,
	  "user[:group] to run as after binding the socket; the rules, the "
	  "stores and ClamAV's databases are read as this user, and vigil -n "
	  "started as root checks them as it (unset: stay as started)" },
	{ "Syslog", OPT_BOOL, "yes", 0, 0, NULL,
	  "Log to syslog (the -f flag logs to stderr instead)" },
	{ "SyslogFacility", OPT_ENUM, "mail", 0, 0,
	  "mail|daemon|local0|local1|local2|local3|local4|local5|local6|local7",
	  "Syslog facility" },
	{ "LogLevel", OPT_ENUM, "info", 0, 0, "err|warn|info|debug",
	  "Lowest level logged" },
	{ "LogFile", OPT_PATH, NULL, 0, 0, NULL,
	  "File that gets one record per message (appended; opened at start, "
	  "before UserID applies, and reopened on SIGUSR1 or when logrotate "
	  "moved it; a reload does not change it; unset: none)" },
	{ "LogFormat", OPT_ENUM, "text", 0, 0, "text|json",
	  "Records in LogFile: text (the verdict line) or json (one object "
	  "a line, read by vigilctl trace and report)" },
	{ "OnError", OPT_ENUM, "tempfail", 0, 0, "tempfail|accept",
	  "What happens to a message when a check fails internally" },
	{ "MaxScanSize", OPT_SIZE, "10m", 1024, 2147483647.0, NULL,
	  "Bytes of a message that are scanned; see OversizeAction" },
	{ "OversizeAction", OPT_ENUM, "scan", 0, 0, "scan|accept|tempfail",
	  "What happens to a message over MaxScanSize: scan (its first "
	  "MaxScanSize bytes, every part's headers past them, the verdict "
	  "marked SCAN_TRUNCATED, as SpamAssassin truncates), accept "
	  "(unscanned, with an X-Vigil-Scan header) or tempfail" },
	{ "MessageTimeLimit", OPT_DURATION, "20s", 100, 90000, NULL,
	  "CPU time the checks of one message may spend; a check still "
	  "running past it is stopped at its next safe point, the verdict "
	  "carries SCAN_INCOMPLETE and the message takes OnIncomplete.  The "
	  "end-of-message checks are also stopped after three times this in "
	  "wall-clock time, within Postfix's milter_content_timeout (300s)" },
	{ "MessageMemoryLimit", OPT_SIZE, "256m", 1048576, 17179869184.0, NULL,
	  "Bytes the analysis of one message may allocate (its arena, the "
	  "spool held in memory, decompressed archive members); past it as "
	  "for MessageTimeLimit" },
	{ "OnIncomplete", OPT_ENUM, "tempfail", 0, 0, "tempfail|accept",
	  "What happens to a message whose checks did not all run within "
	  "MessageTimeLimit and MessageMemoryLimit: tempfail (the MTA "
	  "retries) or accept with an X-Vigil-Scan header naming them" },
	{ "MaxHeaderCount", OPT_INT, "1000", 10, 1000000, NULL,
	  "Header fields of a message that the checks examine; past it the "
	  "rest are not examined (forged copies of ours are still removed) "
	  "and HEADER_LIMIT is found" },
	{ "MaxHeaderBytes", OPT_SIZE, "1m", 4096, 1073741824.0, NULL,
	  "Header bytes of a message that the checks examine, as for "
	  "MaxHeaderCount" },
	{ "SpoolMemoryMax", OPT_SIZE, "1m", 4096, 1073741824.0, NULL,
	  "Message bytes kept in memory before spilling to a private temp file" },
	{ "TempDirectory", OPT_PATH, "/tmp", 0, 0, NULL,
	  "Folder for spilled message bodies (files are unlinked at once)" },
	{ "TagScore", OPT_DOUBLE, "5.0", -1000, 1000, NULL,
	  "Score from which mail is tagged as spam (X-Spam-Flag: YES)" },
	{ "SubjectScore", OPT_DOUBLE, "5.0", -1000, 1000, NULL,
	  "Score from which RewriteSubject is applied" },
	{ "RewriteSubject", OPT_STRING, NULL, 0, 0, NULL,
	  "New subject for tagged mail, %s = the old one, e.g. \"[SPAM] %s\" (unset: off)" },
	{ "QuarantineScore", OPT_DOUBLE, "0", -1000, 1000, NULL,
	  "Score from which mail is quarantined (0: off)" },
	{ "RejectScore", OPT_DOUBLE, "15.0", -1000, 1000, NULL,
	  "Score from which mail is rejected (0: off)" },
	{ "DiscardScore", OPT_DOUBLE, "0", -1000, 1000, NULL,
	  "Score from which mail is silently discarded (0: off; use with care)" },
	{ "RejectText", OPT_STRING, "Message rejected as spam", 0, 0, NULL,
	  "Text of the 550 5.7.1 reply to rejected mail" },
	{ "AuthservID", OPT_STRING, NULL, 0, 0, NULL,
	  "authserv-id of Authentication-Results (unset: the host name)" },
	{ "TrustedNetworks", OPT_LIST, "127.0.0.0/8, ::1", 0, 0, NULL,
	  "Client networks whose mail skips content checks when SkipTrusted is on" },
	{ "SkipTrusted", OPT_BOOL, "yes", 0, 0, NULL,
	  "Skip content checks for TrustedNetworks and authenticated senders" },
	{ "AddHeaders", OPT_ENUM, "all", 0, 0, "all|spam",
	  "Add X-Spam-Status to every message (all) or only to spam" },
	{ "Checks", OPT_LIST, "all", 0, 0, NULL,
	  "Checks to run, by name (headers, rules, spf, dkim, dmarc, av, bayes, ...); all = every one" },
	{ "ShutdownTimeout", OPT_DURATION, "30s", 0, 3600000, NULL,
	  "On SIGTERM, how long messages in flight may take to finish" },
	{ "ScanThreads", OPT_INT, "-1", -1, 1024, NULL,
	  "Long-lived threads that run the end-of-message checks (-1: one "
	  "per CPU; 0: each connection's own thread); when all are busy a "
	  "message runs on its connection's thread.  Read at start" },
	{ "MetricsListen", OPT_STRING, NULL, 0, 0, NULL,
	  "host:port where Prometheus scrapes /metrics (e.g. 127.0.0.1:9466; "
	  "unset: off).  Read at start" },
	{ "MetricsTopRules", OPT_INT, "50", 0, 100000, NULL,
	  "Rules with their own vigil_rule_hits_total series (the busiest); "
	  "the others are summed as rule=\"other\"" },
	{ NULL }
};

struct val {
	const struct opt *o;
	bool		 set;
	char		*str;		/* as given (paths resolved) */
	double		 num;		/* INT, DOUBLE, SIZE, DURATION(ms), BOOL, ENUM */
	char		**items;	/* LIST, MULTI: NULL-terminated */
	size_t		 nitems;
};

struct cfg {
	atomic_int	 refs;
	char		*file;
	char		*dir;
	size_t		 nvals;
	struct val	*vals;
};

/* ---------------------------------------------------------------- lookup */

const struct opt *
cfg_find_opt(const char *name)
{
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name; o++)
			if (strcasecmp(o->name, name) == 0)
				return o;
	return NULL;
}

static struct val *
find_val(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->nvals; i++)
		if (strcasecmp(c->vals[i].o->name, name) == 0)
			return &c->vals[i];
	return NULL;
}

static const struct val *
need_val(const struct cfg *c, const char *name, enum opt_type t1,
    enum opt_type t2)
{
	const struct val *v = find_val(c, name);

	if (v == NULL)
		BUG("option %s is not declared in any table", name);
	if (v->o->type != t1 && v->o->type != t2)
		BUG("option %s read with the wrong type", name);
	return v;
}

/* ---------------------------------------------------------------- parsing */

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		log_oom(strlen(s) + 1, "cfg");
	return p;
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL)
		log_oom(n * sz, "cfg");
	return p;
}

static char *
resolve(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/' || dir == NULL)
		return xstrdup(path);
	out = xcalloc(strlen(dir) + strlen(path) + 2, 1);
	sprintf(out, "%s/%s", dir, path);
	return out;
}

static int
enum_index(const char *choices, const char *s)
{
	const char *p = choices;
	int i = 0;
	size_t n = strlen(s);

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncasecmp(p, s, n) == 0)
			return i;
		i++;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return -1;
}

static void
free_items(struct val *v)
{
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->nitems = 0;
}

static void
add_item(struct val *v, const char *s, size_t n)
{
	char **items = realloc(v->items, (v->nitems + 2) * sizeof(*items));

	if (items == NULL)
		log_oom((v->nitems + 2) * sizeof(*items), "cfg");
	v->items = items;
	v->items[v->nitems] = xcalloc(n + 1, 1);
	memcpy(v->items[v->nitems], s, n);
	v->nitems++;
	v->items[v->nitems] = NULL;
}

/*
 * Sets v from text.  dir resolves relative paths; replace drops earlier
 * list items (defaults, or the file's items under an override).  Returns
 * NULL or a static problem text.
 */
static const char *
set_val(struct val *v, const char *text, const char *dir, bool replace,
    char *why, size_t whysz)
{
	const struct opt *o = v->o;
	char *end;
	uint64_t u;

	switch (o->type) {
	case OPT_BOOL:
		if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0 ||
		    strcasecmp(text, "on") == 0 || strcmp(text, "1") == 0)
			v->num = 1;
		else if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0 ||
		    strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0)
			v->num = 0;
		else
			return "expected yes or no";
		break;
	case OPT_INT:
		errno = 0;
		v->num = (double)strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0')
			return "expected an integer";
		goto bounds;
	case OPT_DOUBLE:
		errno = 0;
		v->num = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0')
			return "expected a number";
		/* nan compares false with every bound: it would pass. */
		if (!isfinite(v->num))
			return "expected a finite number";
		goto bounds;
	case OPT_SIZE:
		if (!util_parse_size(text, &u))
			return "expected a size such as 512k or 10m";
		v->num = (double)u;
		goto bounds;
	case OPT_DURATION:
		if (!util_parse_duration(text, &u))
			return "expected a duration such as 500ms, 30s or 5m";
		v->num = (double)u;
		goto bounds;
	case OPT_ENUM: {
		int i = enum_index(o->choices, text);

		if (i < 0) {
			snprintf(why, whysz, "expected one of %s", o->choices);
			return why;
		}
		v->num = i;
		break;
	}
	case OPT_STRING:
	case OPT_PATH:
		if (*text == '\0')
			return "empty value";
		break;
	case OPT_LIST: {
		const char *p = text;

		if (replace)
			free_items(v);
		while (*p) {
			size_t n;

			while (*p == ',' || isspace((unsigned char)*p))
				p++;
			n = strcspn(p, ", \t");
			if (n > 0)
				add_item(v, p, n);
			p += n;
		}
		break;
	}
	case OPT_MULTI:
		if (replace)
			free_items(v);
		if (*text == '\0')
			return "empty value";
		add_item(v, text, strlen(text));
		break;
	}
	free(v->str);
	v->str = o->type == OPT_PATH ? resolve(dir, text) : xstrdup(text);
	return NULL;
bounds:
	if ((o->min != 0 || o->max != 0) && (v->num < o->min || v->num > o->max)) {
		snprintf(why, whysz, "%s is out of range [%g, %g]", text,
		    o->type == OPT_DURATION ? o->min / 1000 : o->min,
		    o->type == OPT_DURATION ? o->max / 1000 : o->max);
		return why;
	}
	free(v->str);
	v->str = xstrdup(text);
	return NULL;
}

static char *
fmt_err(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		log_oom(strlen(fmt), "cfg");
	va_end(ap);
	return s;
}

/* Strips blanks around s in place; removes one pair of enclosing "". */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

static bool
is_list(const struct val *v)
{
	return v->o->type == OPT_LIST || v->o->type == OPT_MULTI;
}

static int
load_file(struct cfg *c, const char *path, char **err_r)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	bool *seen;

	if (f == NULL) {
		*err_r = fmt_err("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	seen = xcalloc(c->nvals, sizeof(*seen));
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p, *key, *val;
		struct val *v;
		const char *prob;

		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			*err_r = fmt_err("%s:%u: NUL byte in line", path, lineno);
			goto fail;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		key = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
		val = trim(p);
		if ((v = find_val(c, key)) == NULL) {
			*err_r = fmt_err("%s:%u: %s: unknown keyword", path, lineno, key);
			goto fail;
		}
		if (*val == '\0') {
			*err_r = fmt_err("%s:%u: %s: missing value", path, lineno, key);
			goto fail;
		}
		/* The first occurrence of a list replaces its default. */
		prob = set_val(v, val, c->dir, is_list(v) && !seen[v - c->vals],
		    why, sizeof(why));
		if (prob != NULL) {
			*err_r = fmt_err("%s:%u: %s: %s", path, lineno, v->o->name, prob);
			goto fail;
		}
		seen[v - c->vals] = true;
		v->set = true;
	}
	if (ferror(f)) {
		*err_r = fmt_err("%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	free(seen);
	free(line);
	fclose(f);
	return 0;
fail:
	free(seen);
	free(line);
	fclose(f);
	return -1;
}

static void
cfg_free(struct cfg *c)
{
	for (size_t i = 0; i < c->nvals; i++) {
		free(c->vals[i].str);
		free_items(&c->vals[i]);
	}
	free(c->vals);
	free(c->file);
	free(c->dir);
	free(c);
}

struct cfg *
cfg_load(const char *path, const char *const *overrides, size_t noverrides,
    char **err_r)
{
	struct cfg *c = xcalloc(1, sizeof(*c));
	size_t n = 0, i;
	char why[256], cwd[PATH_MAX];

	*err_r = NULL;
	atomic_init(&c->refs, 1);
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name; o++)
			n++;
	c->vals = xcalloc(n, sizeof(*c->vals));
	c->nvals = n;
	if (path != NULL) {
		const char *slash = strrchr(path, '/');
		char *abs = NULL;

		c->file = xstrdup(path);
		if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
			abs = fmt_err("%s/%s", cwd, path);
			slash = strrchr(abs, '/');
			c->dir = xcalloc((size_t)(slash - abs) + 1, 1);
			memcpy(c->dir, abs, (size_t)(slash - abs));
			free(abs);
		} else if (slash != NULL) {
			c->dir = xcalloc((size_t)(slash - path) + 2, 1);
			memcpy(c->dir, path, slash == path ? 1 : (size_t)(slash - path));
		} else
			c->dir = xstrdup(".");
	} else {
		c->file = xstrdup("(defaults)");
		c->dir = xstrdup(getcwd(cwd, sizeof(cwd)) ? cwd : ".");
	}

	/* Defaults; a broken default is a bug in a table. */
	i = 0;
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name; o++, i++) {
			c->vals[i].o = o;
			if (o->def == NULL)
				continue;
			if (set_val(&c->vals[i], o->def, SYSCONFDIR "/vigil", true,
			    why, sizeof(why)) != NULL)
				BUG("default of %s: %s", o->name, why);
		}
	for (i = 0; i < c->nvals; i++)
		for (size_t j = i + 1; j < c->nvals; j++)
			if (strcasecmp(c->vals[i].o->name, c->vals[j].o->name) == 0)
				BUG("option %s declared twice", c->vals[i].o->name);

	if (path != NULL && load_file(c, path, err_r) < 0)
		goto fail;

	/* Overrides: relative paths are relative to the current folder. */
	for (i = 0; i < noverrides; i++) {
		const char *eq = strchr(overrides[i], '=');
		char key[128], *val;
		struct val *v;
		const char *prob;

		if (eq == NULL || eq == overrides[i] ||
		    (size_t)(eq - overrides[i]) >= sizeof(key)) {
			*err_r = fmt_err("-o %s: expected Keyword=value", overrides[i]);
			goto fail;
		}
		memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
		key[eq - overrides[i]] = '\0';
		if ((v = find_val(c, key)) == NULL) {
			*err_r = fmt_err("-o %s: %s: unknown keyword", overrides[i], key);
			goto fail;
		}
		val = xstrdup(eq + 1);
		prob = set_val(v, trim(val), getcwd(cwd, sizeof(cwd)) ? cwd : ".",
		    true, why, sizeof(why));
		free(val);
		if (prob != NULL) {
			*err_r = fmt_err("-o %s: %s: %s", overrides[i], v->o->name, prob);
			goto fail;
		}
		v->set = true;
	}
	return c;
fail:
	cfg_free(c);
	return NULL;
}

struct cfg *
cfg_ref(struct cfg *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void
cfg_unref(struct cfg **cp)
{
	struct cfg *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	*cp = NULL;
	if (atomic_fetch_sub(&c->refs, 1) == 1)
		cfg_free(c);
}

/* ---------------------------------------------------------------- access */

bool
cfg_bool(const struct cfg *c, const char *name)
{
	return need_val(c, name, OPT_BOOL, OPT_BOOL)->num != 0;
}

long long
cfg_int(const struct cfg *c, const char *name)
{
	return (long long)need_val(c, name, OPT_INT, OPT_INT)->num;
}

double
cfg_double(const struct cfg *c, const char *name)
{
	return need_val(c, name, OPT_DOUBLE, OPT_INT)->num;
}

uint64_t
cfg_size(const struct cfg *c, const char *name)
{
	return (uint64_t)need_val(c, name, OPT_SIZE, OPT_SIZE)->num;
}

uint64_t
cfg_duration_ms(const struct cfg *c, const char *name)
{
	return (uint64_t)need_val(c, name, OPT_DURATION, OPT_DURATION)->num;
}

const char *
cfg_str(const struct cfg *c, const char *name)
{
	return need_val(c, name, OPT_STRING, OPT_PATH)->str;
}

int
cfg_enum(const struct cfg *c, const char *name)
{
	return (int)need_val(c, name, OPT_ENUM, OPT_ENUM)->num;
}

const char *
cfg_enum_str(const struct cfg *c, const char *name)
{
	return need_val(c, name, OPT_ENUM, OPT_ENUM)->str;
}

const char *const *
cfg_list(const struct cfg *c, const char *name, size_t *n_r)
{
	static const char *const empty[] = { NULL };
	const struct val *v = need_val(c, name, OPT_LIST, OPT_MULTI);

	if (n_r != NULL)
		*n_r = v->nitems;
	return v->items ? (const char *const *)v->items : empty;
}

bool
cfg_is_set(const struct cfg *c, const char *name)
{
	const struct val *v = find_val(c, name);

	if (v == NULL)
		BUG("option %s is not declared in any table", name);
	return v->set;
}

const char *
cfg_file(const struct cfg *c)
{
	return c->file;
}

const char *
cfg_dir(const struct cfg *c)
{
	return c->dir;
}

char *
cfg_resolve(const struct cfg *c, const char *path)
{
	return resolve(c->dir, path);
}

static const char *
type_hint(const struct opt *o)
{
	switch (o->type) {
	case OPT_BOOL: return "yes|no";
	case OPT_INT: return "integer";
	case OPT_DOUBLE: return "number";
	case OPT_SIZE: return "size";
	case OPT_DURATION: return "duration";
	case OPT_STRING: return "text";
	case OPT_PATH: return "path";
	case OPT_ENUM: return o->choices;
	case OPT_LIST: return "list";
	case OPT_MULTI: return "repeatable";
	}
	return "?";
}

void
cfg_write_defaults(FILE *out)
{
	fprintf(out, "# vigil.conf: every option with its default.\n");
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name; o++) {
			fprintf(out, "\n# %s (%s)\n", o->help, type_hint(o));
			if (o->def != NULL)
				fprintf(out, "#%s %s\n", o->name, o->def);
			else
				fprintf(out, "#%s\n", o->name);
		}
}

/* Writes s as mdoc text: backslashes escaped, and a line never starts
 * with a control character. */
static void
man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		/* A new sentence starts a new line, as roff wants. */
		if ((*s == '.' || *s == '?' || *s == '!') && s[1] == ' ') {
			const char *n = s + 1;

			while (*n == ' ')
				n++;
			if (isupper((unsigned char)*n)) {
				fputc(*s, out);
				fputc('\n', out);
				s = n - 1;
				continue;
			}
		}
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '|')
			fputs("\\(ba", out);
		else
			fputc(*s, out);
	}
}

/* An option's value for the list head: its type, or its choices when
 * they are short enough for the head line. */
static void
man_type(FILE *out, const struct opt *o)
{
	fputs(" Ar ", out);
	if (o->type == OPT_ENUM && strlen(o->choices) > 24)
		fputs("word", out);
	else
		man_text(out, type_hint(o));
}

/* Writes s with its commas and bars as ", " so that roff can break it. */
static void
man_words(FILE *out, const char *s)
{
	bool first = true;

	while (*s) {
		size_t n;

		while (*s == ',' || *s == '|' || *s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, ",| \t");
		if (n == 0)
			break;
		fputs(first ? "" : ", ", out);
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\\')
				fputs("\\e", out);
			else
				fputc(s[i], out);
		}
		first = false;
		s += n;
	}
}

void
cfg_write_man(FILE *out)
{
	fputs(".Dd " VIGIL_MAN_DATE "\n"
	    ".Dt VIGIL.CONF 5\n"
	    ".Os\n"
	    ".Sh NAME\n"
	    ".Nm vigil.conf\n"
	    ".Nd configuration of the vigil mail filter\n"
	    ".Sh SYNOPSIS\n"
	    ".Pa " SYSCONFDIR "/vigil/vigil.conf\n"
	    ".Sh DESCRIPTION\n"
	    ".Xr vigil 8\n"
	    "and\n"
	    ".Xr vigilctl 8\n"
	    "read their settings from this file, one\n"
	    ".Dq Ar Keyword value\n"
	    "a line, as in opendkim.conf and clamav-milter.conf.\n"
	    "Blank lines and lines starting with\n"
	    ".Ql #\n"
	    "are ignored; keywords are case-insensitive; a value may be\n"
	    "enclosed in double quotes.\n"
	    "Relative paths are relative to the folder of the file.\n"
	    "An option that is not set keeps its default, and without a\n"
	    "file at all vigil runs on these defaults.\n"
	    "An error stops startup and names the file, the line, the\n"
	    "keyword and the problem; a reload (SIGHUP,\n"
	    ".Ql vigilctl reload )\n"
	    "that fails keeps the running configuration.\n"
	    ".Pp\n"
	    "Values are of these types:\n"
	    ".Bl -tag -width duration -compact\n"
	    ".It Ar yes|no\n"
	    "yes, no, true, false, on, off, 1 or 0\n"
	    ".It Ar size\n"
	    "bytes with an optional k, m or g suffix: 512k, 10m\n"
	    ".It Ar duration\n"
	    "500ms, 30s, 5m, 2h, 30d; a plain number is seconds\n"
	    ".It Ar list\n"
	    "words separated by commas or blanks; the first line replaces\n"
	    "the default, repeated lines add\n"
	    ".It Ar repeatable\n"
	    "one item per line; repeated lines add\n"
	    ".It Ar a|b|c\n"
	    "one of the words\n"
	    ".El\n"
	    ".Pp\n"
	    "The defaults below are those of this build, as\n"
	    ".Ql vigilctl config --defaults\n"
	    "prints them.\n", out);
	for (size_t t = 0; cfg_tables[t] != NULL; t++) {
		fputs(".Ss ", out);
		man_text(out, cfg_table_titles[t] ? cfg_table_titles[t] :
		    "Other options");
		fputs("\n.Bl -tag -width Ds\n", out);
		for (const struct opt *o = cfg_tables[t]; o->name; o++) {
			fprintf(out, ".It Cm %s", o->name);
			man_type(out, o);
			fputs("\n", out);
			man_text(out, o->help);
			fputs(".\n", out);
			if (o->type == OPT_ENUM && strlen(o->choices) > 24) {
				fputs("One of: ", out);
				man_words(out, o->choices);
				fputs(".\n", out);
			}
			if (o->def != NULL && o->type == OPT_LIST) {
				fputs("Default: ", out);
				man_words(out, o->def);
				fputs(".\n", out);
			} else if (o->def != NULL) {
				fputs("Default:\n.Ql ", out);
				man_text(out, o->def);
				fputs(" .\n", out);
			} else
				fputs("Unset by default.\n", out);
		}
		fputs(".El\n", out);
	}
	fputs(".Sh FILES\n"
	    ".Bl -tag -width Ds\n"
	    ".It Pa " SYSCONFDIR "/vigil/vigil.conf\n"
	    "this file; installed with every option commented out\n"
	    ".It Pa " DATADIR "/vigil/rules\n"
	    "the shipped rules\n"
	    ".Pq Cm RulesDir\n"
	    ".It Pa " SYSCONFDIR "/vigil/rules.d\n"
	    "the site's rules, read after them\n"
	    ".Pq Cm LocalRulesDir\n"
	    ".El\n"
	    ".Sh EXAMPLES\n"
	    ".Bd -literal -offset indent\n"
	    "Socket          unix:" RUNSTATEDIR "/vigil/vigil.sock\n"
	    "UserID          vigil\n"
	    "TagScore        5.0\n"
	    "RewriteSubject  \"[SPAM] %s\"\n"
	    "QuarantineScore 10\n"
	    "RejectScore     15\n"
	    ".Ed\n"
	    ".Sh SEE ALSO\n"
	    ".Xr vigil-rules 5 ,\n"
	    ".Xr vigil 8 ,\n"
	    ".Xr vigilctl 8\n", out);
}

void
cfg_dump(FILE *out, const struct cfg *c)
{
	for (size_t i = 0; i < c->nvals; i++) {
		const struct val *v = &c->vals[i];

		if (is_list(v)) {
			if (v->nitems == 0)
				fprintf(out, "#%s\n", v->o->name);
			else if (v->o->type == OPT_MULTI)
				for (size_t j = 0; j < v->nitems; j++)
					fprintf(out, "%s %s\n", v->o->name, v->items[j]);
			else {
				fprintf(out, "%s", v->o->name);
				for (size_t j = 0; j < v->nitems; j++)
					fprintf(out, "%s%s", j ? ", " : " ", v->items[j]);
				fprintf(out, "\n");
			}
		} else if (v->str != NULL)
			fprintf(out, "%s %s\n", v->o->name, v->str);
		else
			fprintf(out, "#%s\n", v->o->name);
	}
}
