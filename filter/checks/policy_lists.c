/*
 * policy_lists.c - ListsFile: the allow and block lists kept by
 * vigilctl allow|block, their file format and their matching (see
 * policy_lists.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checks/policy_lists.h"
#include "lib/arena.h"
#include "lib/util.h"

static const char *const list_names[] = { "allow", "block" };
static const char *const kind_names[] = { "sender", "client", "domain" };

const char *
plist_list_name(enum plist_list l)
{
	return list_names[l];
}

const char *
plist_kind_name(enum plist_kind k)
{
	return kind_names[k];
}

int
plist_list_parse(const char *s)
{
	for (size_t i = 0; i < NELEM(list_names); i++)
		if (strcmp(s, list_names[i]) == 0)
			return (int)i;
	return -1;
}

int
plist_kind_parse(const char *s)
{
	for (size_t i = 0; i < NELEM(kind_names); i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

struct plist *
plist_new(void)
{
	struct arena *a = arena_new("lists");
	struct plist *l = arena_alloc(a, sizeof(*l));

	l->arena = a;
	return l;
}

void
plist_free(struct plist **lp)
{
	struct arena *a;

	if (*lp == NULL)
		return;
	a = (*lp)->arena;
	*lp = NULL;
	arena_free(&a);
}

/* A domain name: labels of letters, digits, - and _, dot-separated. */
static bool
is_domain(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || *s == '.')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
		    || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

const char *
plist_value(struct plist *l, enum plist_kind kind, const char *value,
    const char **why_r)
{
	char *v = arena_strdup(l->arena, value);
	struct util_cidr c;
	char *at;

	for (char *p = v; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	switch (kind) {
	case PLIST_CLIENT:
		if (!util_parse_cidr(value, &c)) {
			*why_r = "not an IP address or CIDR block";
			return NULL;
		}
		return v;
	case PLIST_DOMAIN:
		if (strlen(v) > 253 || !is_domain(v)) {
			*why_r = "not a domain name (example.org)";
			return NULL;
		}
		return v;
	case PLIST_SENDER:
		at = strrchr(v, '@');
		if (at == NULL || strlen(v) > 320 || !is_domain(at + 1)) {
			*why_r = "not an address (user@example.org) or @domain";
			return NULL;
		}
		for (const char *p = v; p < at; p++)
			if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
			    *p == 0x7f) {
				*why_r = "not an address (user@example.org) "
				    "or @domain";
				return NULL;
			}
		return v;
	}
	*why_r = "unknown kind";
	return NULL;
}

const char *
plist_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static bool
time_parse(const char *s, int64_t *t_r)
{
	struct tm tm = { 0 };
	int n = 0;

	if (strcmp(s, "-") == 0) {
		*t_r = 0;
		return true;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    s[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t_r = (int64_t)timegm(&tm);
	return *t_r > 0;
}

long
plist_find(const struct plist *l, enum plist_list list, enum plist_kind kind,
    const char *value)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].list == list && l->v[i].kind == kind &&
		    strcmp(l->v[i].value, value) == 0)
			return (long)i;
	return -1;
}

bool
plist_add(struct plist *l, enum plist_list list, enum plist_kind kind,
    const char *value, int64_t added, int64_t expires, const char *comment)
{
	long i = plist_find(l, list, kind, value);
	struct plist_entry *e;

	if (i >= 0) {
		e = &l->v[i];
		e->expires = expires;
		e->comment = arena_strdup(l->arena, comment);
		return false;
	}
	l->v = arena_grow(l->arena, l->v, l->n, &l->cap, sizeof(*l->v));
	e = &l->v[l->n++];
	e->list = list;
	e->kind = kind;
	e->value = arena_strdup(l->arena, value);
	e->added = added;
	e->expires = expires;
	e->comment = arena_strdup(l->arena, comment);
	if (kind == PLIST_CLIENT)
		(void)util_parse_cidr(value, &e->cidr);
	return true;
}

void
plist_del(struct plist *l, size_t i)
{
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

bool
plist_expired(const struct plist_entry *e, int64_t now)
{
	return e->expires != 0 && e->expires <= now;
}

/* Is dom equal to pat or a subdomain of it (both lower case)? */
static bool
in_domain(const char *dom, const char *pat)
{
	size_t dl = strlen(dom), pl = strlen(pat);

	if (dl == pl)
		return strcmp(dom, pat) == 0;
	return dl > pl && dom[dl - pl - 1] == '.' &&
	    strcmp(dom + dl - pl, pat) == 0;
}

const struct plist_entry *
plist_match(const struct plist *l, enum plist_list list,
    enum plist_kind kind, const char *sender, const char *ip, int64_t now)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;
	char dom[256] = "";

	if (at != NULL && strlen(at + 1) < sizeof(dom))
		for (size_t i = 0; at[i + 1] != '\0'; i++) {
			char ch = at[i + 1];

			dom[i] = (char)(ch >= 'A' && ch <= 'Z' ?
			    ch - 'A' + 'a' : ch);
			dom[i + 1] = '\0';
		}
	for (size_t i = 0; i < l->n; i++) {
		const struct plist_entry *e = &l->v[i];

		if (e->list != list || e->kind != kind ||
		    plist_expired(e, now))
			continue;
		switch (e->kind) {
		case PLIST_CLIENT:
			if (ip != NULL && util_cidr_match(&e->cidr, ip))
				return e;
			break;
		case PLIST_SENDER:
			if (at == NULL)
				break;
			if (e->value[0] == '@' ?
			    strcmp(dom, e->value + 1) == 0 :
			    strcasecmp(sender, e->value) == 0)
				return e;
			break;
		case PLIST_DOMAIN:
			if (dom[0] != '\0' && in_domain(dom, e->value))
				return e;
			break;
		}
	}
	return NULL;
}

/* Parses one line (no newline) into l; NULL or the reason it is bad. */
static const char *
parse_line(struct plist *l, char *line)
{
	char *f[6] = { NULL };
	char *p = line;
	const char *why = NULL, *value;
	int list, kind;
	int64_t added, expires;
	size_t n = 0;

	while (n < 5) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	f[5] = p != NULL ? p : (char *)"";
	if (n < 5)
		return "want LIST KIND VALUE ADDED EXPIRES [COMMENT], "
		    "tab-separated";
	if ((list = plist_list_parse(f[0])) < 0)
		return "LIST is not allow or block";
	if ((kind = plist_kind_parse(f[1])) < 0)
		return "KIND is not sender, client or domain";
	if ((value = plist_value(l, (enum plist_kind)kind, f[2], &why)) ==
	    NULL)
		return why;
	if (!time_parse(f[3], &added) || !time_parse(f[4], &expires))
		return "ADDED and EXPIRES are UTC times "
		    "(2026-12-07T09:00:00Z), EXPIRES - for never";
	if (plist_find(l, (enum plist_list)list, (enum plist_kind)kind,
	    value) >= 0)
		return "the same entry twice";
	plist_add(l, (enum plist_list)list, (enum plist_kind)kind, value,
	    added, expires, f[5]);
	return NULL;
}

struct plist *
plist_load(const char *path, char **err_r)
{
	struct plist *l = plist_new();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return l;
		if (asprintf(err_r, "%s: %s", path, strerror(errno)) < 0)
			*err_r = NULL;
		plist_free(&l);
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *why;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		if (strlen(line) != (size_t)len)
			why = "a NUL byte";
		else
			why = parse_line(l, line);
		if (why != NULL) {
			if (asprintf(err_r, "%s:%u: %s", path, lineno, why) < 0)
				*err_r = NULL;
			goto fail;
		}
	}
	if (ferror(f)) {
		if (asprintf(err_r, "%s: %s", path, strerror(errno)) < 0)
			*err_r = NULL;
		goto fail;
	}
	free(line);
	fclose(f);
	return l;
fail:
	free(line);
	fclose(f);
	plist_free(&l);
	return NULL;
}

static bool
save_fail(char **err_r, const char *what, const char *path)
{
	if (asprintf(err_r, "%s %s: %s", what, path, strerror(errno)) < 0)
		*err_r = NULL;
	return false;
}

bool
plist_save(const struct plist *l, const char *path, char **err_r)
{
	char *tmp = NULL, *dir = NULL, *slash;
	struct stat st;
	/* Only a regular file lends its mode and owner: a symlink planted
	 * in the folder is replaced, its target left alone. */
	bool exists = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	FILE *f = NULL;
	int fd = -1, dfd;
	bool ok = false;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0 ||
	    (dir = strdup(path)) == NULL) {
		free(tmp);
		return save_fail(err_r, "writing", path);
	}
	if ((fd = mkstemp(tmp)) < 0) {
		save_fail(err_r, "creating a file beside", path);
		goto out;
	}
	if (fchmod(fd, exists ? (st.st_mode & 07777) : 0644) != 0 ||
	    (exists && geteuid() == 0 &&
	    fchown(fd, st.st_uid, st.st_gid) != 0)) {
		save_fail(err_r, "setting the mode of", tmp);
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		save_fail(err_r, "writing", tmp);
		goto out;
	}
	fd = -1;
	fprintf(f, "# vigil allow and block lists, kept by vigilctl allow|block.\n"
	    "# LIST\tKIND\tVALUE\tADDED\tEXPIRES\tCOMMENT (tab-separated)\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct plist_entry *e = &l->v[i];
		char added[32], expires[32];

		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", list_names[e->list],
		    kind_names[e->kind], e->value,
		    plist_time(e->added, added, sizeof(added)),
		    plist_time(e->expires, expires, sizeof(expires)),
		    e->comment);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		save_fail(err_r, "writing", tmp);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		save_fail(err_r, "writing", tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		save_fail(err_r, "renaming over", path);
		goto out;
	}
	/* The rename itself on disk. */
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	ok = true;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (!ok)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ok;
}
