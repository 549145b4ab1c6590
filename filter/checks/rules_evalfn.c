/*
 * rules_evalfn.c - SpamAssassin's eval: tests that vigil runs itself, in
 * C, with SpamAssassin's meaning (Mail::SpamAssassin::Plugin::HeaderEval
 * and BodyEval); rules_parse.c makes a rule of each `header|body|rawbody|
 * full NAME eval:FN(ARGS)` whose FN is in the table, and rules_eval.c
 * calls it like any other rule, so metas and scores see it.  Any other
 * eval: test is still skipped with a warning; the DNS lists' are
 * dnsbl_rules.c's.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules.h"
#include "checks/rules_int.h"

bool
rules_call_parse(const char *s, char **fn_r, char **args, size_t maxargs,
    size_t *nargs_r)
{
	const char *p = s, *st;
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	st = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == st)
		return false;
	*fn_r = g_strndup(st, (size_t)(p - st));
	while (isspace((unsigned char)*p))
		p++;
	*nargs_r = 0;
	if (*p == '\0')
		return true;	/* no parentheses: no arguments */
	if (*p++ != '(')
		goto bad;
	for (;;) {
		char q;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == ')')
			break;
		if ((*p != '\'' && *p != '"') || n == maxargs)
			goto bad;
		q = *p++;
		st = p;
		while (*p != '\0' && *p != q)
			p++;
		if (*p != q)
			goto bad;
		args[n++] = g_strndup(st, (size_t)(p - st));
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != ')')
			goto bad;
		break;
	}
	*nargs_r = n;
	return true;
bad:
	for (size_t i = 0; i < n; i++)
		g_free(args[i]);
	g_free(*fn_r);
	*fn_r = NULL;
	return false;
}

/* A header value is empty: none, or blanks only. */
static bool
is_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* check_for_missing_to_header(): no To (nor Apparently-To) value. */
static double
missing_to(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *to = rules_get(in, "To", 0);
	bool missing = is_blank(to);

	(void)args;
	(void)nargs;
	g_free(to);
	if (missing) {
		to = rules_get(in, "Apparently-To", 0);
		missing = is_blank(to);
		g_free(to);
	}
	*where_r = "To";
	return missing;
}

/* check_header_count_range('Hdr', min, max): how many different values
 * the headers named Hdr have, within [min, max]. */
static double
header_count_range(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	long n, min = strtol(args[1], NULL, 10), max = strtol(args[2], NULL,
	    10);

	(void)nargs;
	for (size_t i = 0; i < in->nhdrs; i++)
		if (g_ascii_strcasecmp(in->hdrs[i].name, args[0]) == 0)
			g_hash_table_add(seen, (gpointer)in->hdrs[i].value);
	n = (long)g_hash_table_size(seen);
	g_hash_table_destroy(seen);
	*where_r = args[0];
	return n >= min && n <= max;
}

/* The domain of an address value, cut to its last two labels as
 * HeaderEval.pm does (bug 6487's regex, not the public suffix list);
 * g_malloc'd, NULL when none. */
static char *
domain2(const char *addr)
{
	const char *at;
	char *d, *last, *prev = NULL, *cut;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	d = g_ascii_strdown(at + 1, -1);
	g_strstrip(d);
	if (*d == '\0') {
		g_free(d);
		return NULL;
	}
	/* s/^.+\.([^.]+\.[^.]+)$/$1/ */
	if ((last = strrchr(d, '.')) != NULL && last > d && last[1] != '\0')
		for (char *p = last - 1; p > d; p--)
			if (*p == '.') {
				prev = p;
				break;
			}
	if (prev == NULL || prev + 1 == last)
		return d;
	cut = g_strdup(prev + 1);
	g_free(d);
	return cut;
}

/* check_equal_from_domains(): From's and the envelope sender's domains
 * (last two labels) differ. */
static double
equal_from_domains(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *from = rules_get(in, "From", HMOD_ADDR);
	char *env = rules_get(in, "EnvelopeFrom", HMOD_ADDR);
	char *fd = domain2(from), *ed = domain2(env);
	bool differ = fd != NULL && ed != NULL && strcmp(fd, ed) != 0;

	(void)args;
	(void)nargs;
	g_free(from);
	g_free(env);
	g_free(fd);
	g_free(ed);
	*where_r = "From";
	return differ;
}

/* check_body_length('N'): the message body as received (after the
 * header's blank line) is at most N bytes. */
static double
body_length(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const char *sep;
	size_t len = 0;

	(void)nargs;
	if (in->full == NULL)
		return 0;
	if (strncmp(in->full, "\n", 1) == 0)
		len = in->full_len - 1;
	else if ((sep = g_strstr_len(in->full, (gssize)in->full_len,
	    "\n\n")) != NULL)
		len = in->full_len - (size_t)(sep + 2 - in->full);
	*where_r = "body";
	return len <= strtoul(args[0], NULL, 10);
}

static const struct rules_evalfn fns[] = {
	{ "check_for_missing_to_header", 0, 0, missing_to },
	{ "check_header_count_range", 3, 3, header_count_range },
	{ "check_equal_from_domains", 0, 0, equal_from_domains },
	/* BodyEval passes the body first; the rule gives the length. */
	{ "check_body_length", 1, 1, body_length },
};

const struct rules_evalfn *
rules_evalfn_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fns); i++)
		if (strcmp(fns[i].name, name) == 0)
			return &fns[i];
	return NULL;
}
