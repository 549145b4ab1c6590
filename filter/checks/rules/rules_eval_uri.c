/*
 * rules_eval_uri.c - SpamAssassin's URIEval and HTTPSMismatch plugins
 * (check_for_http_redirector, check_https_ip_mismatch,
 * check_uri_truncated; check_https_http_mismatch): links whose text
 * names another site than the one they lead to, or that lead through
 * another site; and RegistryBoundaries' uri_to_domain, which
 * FromNameSpoof shares, on libpsl's public suffix list.
 *
 * The HTML links and their texts are rules_eval_mime.c's, read as
 * HTML.pm reads them; the other links are the message's URIs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "lib/arena.h"
#include "url.h"

#define URI_MAX		8192	/* Constants.pm's MAX_URI_LENGTH */
/* Redirections followed through one link (each step one site to the
 * same site): bounds a crafted link's cost. */
#define REDIR_MAX	64

bool
rules_is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * Util.pm's is_fqdn_valid on a lower-case ASCII name: at most 253
 * bytes without its trailing dots, two labels or more of 1 to 63
 * letters, digits, "_" and inner "-", no "_" in the last two.
 */
static bool
fqdn_valid(const char *host)
{
	size_t len = strlen(host), nlabels = 1, label = 0, idx = 0;

	while (len > 0 && host[len - 1] == '.')
		len--;
	if (len > 253 || len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		nlabels += host[i] == '.';
	if (nlabels < 2)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || host[i] == '.') {
			const char *l = host + i - label;

			if (label < 1 || label > 63 || l[0] == '-' ||
			    l[label - 1] == '-')
				return false;
			/* the last two labels hold no "_" */
			if (nlabels - idx <= 2 && memchr(l, '_', label) != NULL)
				return false;
			idx++;
			label = 0;
			continue;
		}
		if (!g_ascii_isalnum(host[i]) && host[i] != '_' &&
		    host[i] != '-')
			return false;
		label++;
	}
	return true;
}

char *
rules_uri_to_domain(const char *uri, char **host_r)
{
	char *s = g_ascii_strdown(uri, -1), *host, *dom = NULL, *p;
	struct arena *a;

	if (host_r != NULL)
		*host_r = NULL;
	if (g_str_has_prefix(s, "javascript:") || g_str_has_prefix(s, "cid:") ||
	    g_str_has_prefix(s, "file:"))
		goto out;
	if (g_str_has_prefix(s, "mailto:")) {
		char *at;

		memmove(s, s + 7, strlen(s + 7) + 1);
		s[strcspn(s, "?")] = '\0';
		if ((at = strchr(s, '@')) != NULL && strchr(at + 1, '@') !=
		    NULL)
			goto out;		/* several "@" */
		if (at == NULL)
			goto out;
		memmove(s, at + 1, strlen(at + 1) + 1);
	} else {
		char *at;

		/* the scheme, the path and what follows, the user */
		for (p = s; *p >= 'a' && *p <= 'z'; p++)
			;
		if (p > s && *p == ':') {
			p++;
			for (int k = 0; k < 2 && *p == '/'; k++)
				p++;
			memmove(s, p, strlen(p) + 1);
		}
		s[strcspn(s, "/?#")] = '\0';
		if ((at = strrchr(s, '@')) != NULL)
			memmove(s, at + 1, strlen(at + 1) + 1);
		/* s{:\d*$}{} */
		if ((p = strrchr(s, ':')) != NULL && p[strspn(p + 1,
		    "0123456789") + 1] == '\0')
			*p = '\0';
	}
	/* a %-escape of a printable byte: SpamAssassin sees the decoded
	 * link as well, and takes that one */
	for (p = strchr(s, '%'); p != NULL; p = strchr(p + 1, '%')) {
		int v = g_ascii_xdigit_value(p[1]) * 16 +
		    g_ascii_xdigit_value(p[2]);

		if (g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]) &&
		    v >= 0x21 && v <= 0x7e)
			goto out;
	}
	/*
	 * idn_to_ascii: SpamAssassin 4.0.1 without Net::LibIDN (as
	 * Debian installs it) lower-cases a name and converts nothing, so
	 * a name of other characters is no valid one; an IDN written in
	 * its ASCII form (xn--) is.
	 */
	if (rules_is_ip(s)) {
		dom = g_strdup(s);
		host = s;
	} else {
		const char *dot = strrchr(s, '.');

		if (!fqdn_valid(s) || dot == NULL || !url_is_tld(dot + 1))
			goto out;
		host = s;
		a = arena_new("uri-domain");
		dom = g_strdup(url_domain(a, host));
		arena_free(&a);
	}
	if (host_r != NULL) {
		*host_r = s;
		s = NULL;
	}
out:
	g_free(s);
	return dom;
}

/* RegistryBoundaries' is_domain_valid: a dot, and a known top-level
 * domain after the last one. */
static bool
domain_valid(const char *d)
{
	const char *dot;

	if (d == NULL || strpbrk(d, " \t\n\r\f\v") != NULL ||
	    (dot = strrchr(d, '.')) == NULL)
		return false;
	return url_is_tld(dot + 1);
}

/* trim_domain: the registrable domain of a lower-case host name
 * (itself when it has none); g_malloc'd. */
static char *
trim_domain(const char *host)
{
	struct arena *a = arena_new("uri-trim");
	char *d = g_strdup(url_domain(a, host));

	arena_free(&a);
	return d;
}

/* ---- HTTPSMismatch ---------------------------------------------------- */

/* One HTML part's links that have a text, each href once. */
struct anchors {
	guint		 part;
	GHashTable	*texts;		/* href -> GPtrArray of texts */
	GPtrArray	*order;		/* the hrefs, first seen first */
	GPtrArray	*parts;		/* struct anchors *, the others */
};

static void
anchors_free(gpointer p)
{
	struct anchors *an = p;

	g_hash_table_destroy(an->texts);
	g_ptr_array_free(an->order, TRUE);
	g_free(an);
}

static void
anchor_add(void *arg, guint part, const char *href, const char *text)
{
	GPtrArray *parts = arg;
	struct anchors *an = parts->len > 0 ? parts->pdata[parts->len - 1] :
	    NULL;
	GPtrArray *t;

	if (an == NULL || an->part != part) {
		an = g_new0(struct anchors, 1);
		an->part = part;
		an->texts = g_hash_table_new_full(g_str_hash, g_str_equal,
		    g_free, (GDestroyNotify)g_ptr_array_unref);
		an->order = g_ptr_array_new();
		g_ptr_array_add(parts, an);
	}
	if ((t = g_hash_table_lookup(an->texts, href)) == NULL) {
		char *k = g_strdup(href);

		t = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(an->texts, k, t);
		g_ptr_array_add(an->order, k);
	}
	g_ptr_array_add(t, g_strdup(text));
}

/* HTML.pm's uri_detail anchor texts, part by part (g_ptr_array_unref). */
static GPtrArray *
anchors_of(const struct rules_input *in)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(anchors_free);

	rules_eval_mime_anchors(in, anchor_add, parts);
	return parts;
}

/* The first match of group 1 of pattern in s, g_malloc'd, or NULL. */
static char *
capture(const char *pattern, unsigned flags, const char *s)
{
	GMatchInfo *mi = NULL;
	char *c = NULL;

	if (g_regex_match(rules_evalfn_re(pattern, flags), s, 0, &mi))
		c = g_match_info_fetch(mi, 1);
	g_match_info_free(mi);
	return c;
}

/* The registrable domain an href leads to, as check_https_http_mismatch
 * takes it: NULL for an href not http(s), to an IP address, or without
 * a valid domain. */
static char *
href_domain(const char *href)
{
	char *host = capture("^https?://([^/:?#]+)", G_REGEX_CASELESS, href);
	char *low, *trim, *dom;

	if (host == NULL)
		return NULL;
	if (rules_is_ip(host)) {
		g_free(host);
		return NULL;
	}
	low = g_ascii_strdown(host, -1);
	g_free(host);
	trim = trim_domain(low);
	g_free(low);
	dom = rules_uri_to_domain(trim, NULL);
	if (!domain_valid(dom)) {
		g_free(trim);
		trim = NULL;
	}
	g_free(dom);
	return trim;
}

/* The site an anchor's text names with https://, or NULL. */
static char *
text_https(const char *text)
{
	char *h = capture("https://([^\\s/:?#]+)", G_REGEX_CASELESS, text);
	char *low, *trim;

	if (h == NULL)
		return NULL;
	low = g_ascii_strdown(h, -1);
	g_free(h);
	if (rules_is_ip(low))
		return low;
	trim = trim_domain(low);
	g_free(low);
	if (!domain_valid(trim)) {
		g_free(trim);
		return NULL;
	}
	return trim;
}

/* check_https_http_mismatch(min, max): in one HTML part, a link to a
 * site whose text says https:// and another site, among at least min
 * (1 when 0) and fewer than max links with a text to a valid domain. */
static double
https_http_mismatch(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	long min = nargs > 0 ? strtol(args[0], NULL, 10) : 0;
	bool has_max = nargs > 1;
	long max = has_max ? strtol(args[1], NULL, 10) : 0;
	GPtrArray *parts = anchors_of(in);
	bool hit = false;

	*where_r = "HTML";
	if (min == 0)
		min = 1;
	for (guint i = 0; !hit && i < parts->len; i++) {
		const struct anchors *an = parts->pdata[i];
		bool mismatch = false;
		long n = 0;

		for (guint k = 0; k < an->order->len; k++) {
			const char *href = an->order->pdata[k];
			GPtrArray *t = g_hash_table_lookup(an->texts, href);
			char *dom = href_domain(href);

			if (dom == NULL)
				continue;
			n++;
			for (guint j = 0; !mismatch && j < t->len; j++) {
				char *https = text_https(t->pdata[j]);

				mismatch = https != NULL && strcmp(https, dom) !=
				    0;
				g_free(https);
			}
			g_free(dom);
		}
		hit = mismatch && n >= min && (!has_max || n < max);
	}
	g_ptr_array_unref(parts);
	return hit;
}

/* ---- URIEval ---------------------------------------------------------- */

/* check_https_ip_mismatch(): a link to an IP address whose text says
 * https: but does not start with https:// to an IP address. */
static double
https_ip_mismatch(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	static const char ip_link[] =
	    "^https?:/*(?:[^@/]+@)?\\d+\\.\\d+\\.\\d+\\.\\d+";
	static const char ip_https[] =
	    "^https:/*(?:[^@/]+@)?\\d+\\.\\d+\\.\\d+\\.\\d+";
	GPtrArray *parts = anchors_of(in);
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; !hit && i < parts->len; i++) {
		const struct anchors *an = parts->pdata[i];

		for (guint k = 0; !hit && k < an->order->len; k++) {
			const char *href = an->order->pdata[k];
			GPtrArray *t = g_hash_table_lookup(an->texts, href);

			if (!rules_evalfn_match(ip_link, G_REGEX_CASELESS, href))
				continue;
			for (guint j = 0; !hit && j < t->len; j++)
				hit = !rules_evalfn_match(ip_https,
				    G_REGEX_CASELESS, t->pdata[j]) &&
				    rules_evalfn_match("https:",
				    G_REGEX_CASELESS, t->pdata[j]);
		}
	}
	g_ptr_array_unref(parts);
	return hit;
}

/* uri_to_domain(name) || name; g_malloc'd. */
static char *
domain_or_self(const char *name)
{
	char *d = rules_uri_to_domain(name, NULL);

	return d != NULL ? d : g_strdup(name);
}

/* Does the link lead through one site to another: a second http(s)
 * link inside it whose site differs from the one before, each read as
 * its registrable domain (the name itself when it has none)? */
static bool
redirects(const char *uri)
{
	static const char pat[] =
	    "^https?://([^/:?]+).+?(https?:/{0,2}?([^/:?]+).*)$";
	GRegex *re = rules_evalfn_re(pat, G_REGEX_CASELESS);
	char *s = g_strndup(uri, strnlen(uri, URI_MAX));
	bool hit = false;

	for (int step = 0; step < REDIR_MAX && !hit; step++) {
		GMatchInfo *mi = NULL;
		char *r, *d, *rest;

		if (!g_regex_match(re, s, 0, &mi)) {
			g_match_info_free(mi);
			break;
		}
		r = g_match_info_fetch(mi, 1);
		rest = g_match_info_fetch(mi, 2);
		d = g_match_info_fetch(mi, 3);
		g_match_info_free(mi);
		{
			char *rd = domain_or_self(r), *dd = domain_or_self(d);

			hit = strcmp(rd, dd) != 0;
			g_free(rd);
			g_free(dd);
		}
		g_free(r);
		g_free(d);
		g_free(s);
		s = rest;
	}
	g_free(s);
	return hit;
}

/* The link with its %-escapes decoded (Util.pm's url_encode, which
 * SpamAssassin's canonical forms of a link hold), or NULL when it has
 * none; g_malloc'd. */
static char *
percent_decoded(const char *uri)
{
	GString *o;
	bool any = false;

	if (strchr(uri, '%') == NULL)
		return NULL;
	o = g_string_new(NULL);
	for (const char *p = uri; *p != '\0'; p++)
		if (p[0] == '%' && g_ascii_isxdigit(p[1]) &&
		    g_ascii_isxdigit(p[2])) {
			g_string_append_c(o, (char)(g_ascii_xdigit_value(p[1]) *
			    16 + g_ascii_xdigit_value(p[2])));
			p += 2;
			any = true;
		} else
			g_string_append_c(o, *p);
	if (!any) {
		g_string_free(o, TRUE);
		return NULL;
	}
	return g_string_free(o, FALSE);
}

/* check_for_http_redirector(): a link that leads through one site to
 * another (http://a.example/?u=http://b.example/). */
static double
http_redirector(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "uri";
	for (size_t i = 0; !hit && i < in->nuris; i++) {
		char *dec;

		/* most links hold one "http" alone */
		if (strlen(in->uris[i]) < 8 || (strchr(in->uris[i], '%') ==
		    NULL && strcasestr(in->uris[i] + 4, "http") == NULL))
			continue;
		hit = redirects(in->uris[i]);
		if (!hit && (dec = percent_decoded(in->uris[i])) != NULL) {
			hit = redirects(dec);
			g_free(dec);
		}
	}
	return hit;
}

/* check_uri_truncated(): an HTML link longer than MAX_URI_LENGTH, which
 * SpamAssassin cuts.  (A link of the text is never that long: the text
 * reaches its parser in lines of MAX_BODY_LINE_LENGTH bytes.) */
static double
uri_truncated(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "uri";
	return rules_eval_mime_uri_truncated(in);
}

const struct rules_evalfn rules_evalfn_uri[] = {
	{ "check_https_http_mismatch", 0, 2, https_http_mismatch, NULL },
	{ "check_https_ip_mismatch", 0, 0, https_ip_mismatch, NULL },
	{ "check_for_http_redirector", 0, 0, http_redirector, NULL },
	{ "check_uri_truncated", 0, 0, uri_truncated, NULL },
	{ NULL, 0, 0, NULL, NULL }
};
