/*
 * url.c - URL finding and normalisation.  The public suffix data is
 * libpsl's; IDN conversion is GLib's.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libpsl.h>

#include "lib/arena.h"
#include "msg.h"
#include "url.h"

static psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void
psl_load(void)
{
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = (psl_ctx_t *)psl_builtin();
}

void
url_init(void)
{
	pthread_once(&psl_once, psl_load);
}

bool
url_is_tld(const char *label)
{
	url_init();
	return psl != NULL && label != NULL && *label != '\0' &&
	    strchr(label, '.') == NULL &&
	    psl_is_public_suffix2(psl, label, PSL_TYPE_ANY |
	    PSL_TYPE_NO_STAR_RULE) != 0;
}

/*
 * Registrable domains of recent hosts: a public suffix lookup costs some
 * 10,000 instructions and mail names the same few hosts again and again.
 * Direct-mapped by a hash of the host; names too long for a slot are not
 * kept.
 */
#define DOMAIN_CACHE	512
#define DOMAIN_MAX	80

static struct {
	char	 host[DOMAIN_MAX], domain[DOMAIN_MAX];
} domain_cache[DOMAIN_CACHE];
static pthread_mutex_t domain_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
url_domain(struct arena *a, const char *host)
{
	const char *d;
	char found[DOMAIN_MAX];
	size_t hl, dl;
	uint32_t h = 2166136261u;

	url_init();
	if (psl == NULL || host == NULL || *host == '\0')
		return host;
	for (const char *p = host; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h %= DOMAIN_CACHE;
	found[0] = '\0';
	pthread_mutex_lock(&domain_lock);
	if (strcmp(domain_cache[h].host, host) == 0)
		memcpy(found, domain_cache[h].domain, sizeof(found));
	pthread_mutex_unlock(&domain_lock);
	if (found[0] != '\0')
		return arena_strdup(a, found);
	d = psl_registrable_domain(psl, host);
	d = d ? d : host;
	hl = strlen(host);
	dl = strlen(d);
	if (hl < DOMAIN_MAX && dl < DOMAIN_MAX && dl > 0) {
		pthread_mutex_lock(&domain_lock);
		memcpy(domain_cache[h].host, host, hl + 1);
		memcpy(domain_cache[h].domain, d, dl + 1);
		pthread_mutex_unlock(&domain_lock);
	}
	return arena_strdup(a, d);
}

static int
hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static bool
is_ipv4_literal(const char *h)
{
	int dots = 0;

	for (; *h; h++) {
		if (*h == '.')
			dots++;
		else if (!isdigit((unsigned char)*h))
			return false;
	}
	return dots == 3;
}

bool
url_normalize(struct arena *a, const char *in, size_t n, struct murl *u)
{
	const char *p = in, *end = in + n, *hs, *he, *rest;
	char scheme[16];
	size_t sl = 0;
	GString *host;
	char *ascii;

	memset(u, 0, sizeof(*u));
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end)
		return false;
	/* Scheme. */
	while (p + sl < end && sl < sizeof(scheme) - 1 &&
	    (isalnum((unsigned char)p[sl]) || p[sl] == '+' || p[sl] == '-' || p[sl] == '.'))
		sl++;
	if (p + sl < end && p[sl] == ':' && sl > 0) {
		for (size_t i = 0; i < sl; i++)
			scheme[i] = (char)tolower((unsigned char)p[i]);
		scheme[sl] = '\0';
		if (strcmp(scheme, "mailto") == 0) {
			const char *at = memchr(p, '@', (size_t)(end - p));
			const char *he2;

			if (at == NULL)
				return false;
			hs = at + 1;
			he2 = hs;
			while (he2 < end && *he2 != '?' && *he2 != '>' && *he2 != '&')
				he2++;
			host = g_string_new_len(hs, he2 - hs);
			g_string_ascii_down(host);
			u->url = arena_printf(a, "mailto:%.*s", (int)(he2 - (p + sl + 1)),
			    p + sl + 1);
			u->host = arena_strdup(a, host->str);
			g_string_free(host, TRUE);
			u->domain = url_domain(a, u->host);
			return *u->host != '\0';
		}
		if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
		    strcmp(scheme, "ftp") != 0)
			return false;
		p += sl + 1;
		while (p < end && (*p == '/' || *p == '\\'))
			p++;
	} else if ((size_t)(end - p) > 4 && strncasecmp(p, "www.", 4) == 0) {
		strcpy(scheme, "http");
	} else
		return false;
	/* Authority: drop userinfo, find host and port. */
	hs = p;
	he = p;
	while (he < end && *he != '/' && *he != '?' && *he != '#' && *he != '\\')
		he++;
	rest = he;
	for (const char *q = he; q > hs; q--)
		if (q[-1] == '@') {
			hs = q;
			break;
		}
	host = g_string_new(NULL);
	for (const char *q = hs; q < he; q++) {
		if (*q == ':' && !(q == hs) && memchr(hs, '[', (size_t)(he - hs)) == NULL)
			break;	/* port */
		if (*q == '%' && q + 2 < he && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
			g_string_append_c(host, (char)(hexval(q[1]) * 16 + hexval(q[2])));
			q += 2;
			continue;
		}
		g_string_append_c(host, *q);
	}
	while (host->len > 0 && host->str[host->len - 1] == '.')
		g_string_truncate(host, host->len - 1);
	/* g_hostname_to_ascii() wants valid UTF-8: a lead byte at the end
	 * made it read past the string (fuzz_url found it). */
	if (host->len == 0 || host->len > 253 ||
	    !g_utf8_validate(host->str, (gssize)host->len, NULL)) {
		g_string_free(host, TRUE);
		return false;
	}
	ascii = g_hostname_to_ascii(host->str);
	g_string_free(host, TRUE);
	if (ascii == NULL)
		return false;
	for (char *q = ascii; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	u->host = arena_strdup(a, ascii);
	g_free(ascii);
	/* Path and query kept as written, fragment dropped. */
	{
		const char *frag = memchr(rest, '#', (size_t)(end - rest));
		const char *pe = frag ? frag : end;

		u->url = arena_printf(a, "%s://%s%.*s", scheme, u->host,
		    (int)(pe - rest), rest);
	}
	u->domain = is_ipv4_literal(u->host) ? u->host : url_domain(a, u->host);
	return true;
}

static bool
url_char(unsigned char c)
{
	return c > 0x20 && c != '<' && c != '>' && c != '"' && c != '\'' &&
	    c != '`' && c != '{' && c != '}' && c != '|' && c != '^' &&
	    c != 0x7f;
}

/* Could a URL start at s[i]?  Cheap first-letter test, then the prefix. */
static bool
url_start(const char *s, size_t i, size_t n)
{
	const char *p = s + i;
	size_t left = n - i;

	switch (*p | 0x20) {
	case 'h':
		return (left > 7 && strncasecmp(p, "http://", 7) == 0) ||
		    (left > 8 && strncasecmp(p, "https://", 8) == 0);
	case 'f':
		return left > 6 && strncasecmp(p, "ftp://", 6) == 0;
	case 'w':
		return left > 4 && strncasecmp(p, "www.", 4) == 0;
	case 'm':
		return left > 7 && strncasecmp(p, "mailto:", 7) == 0;
	}
	return false;
}

/* The letters a URL may start with (url_start()). */
static const bool url_first[256] = {
	['h'] = true, ['H'] = true, ['f'] = true, ['F'] = true,
	['w'] = true, ['W'] = true, ['m'] = true, ['M'] = true,
};

void
url_scan_text(const char *s, size_t n, void (*fn)(void *, const char *, size_t),
    void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t start = SIZE_MAX, j;

		/* Find the next scheme or www. at a word start. */
		for (; i < n; i++) {
			if (!url_first[(unsigned char)s[i]])
				continue;
			if ((i == 0 || !isalnum((unsigned char)s[i - 1])) &&
			    url_start(s, i, n)) {
				start = i;
				break;
			}
		}
		if (start == SIZE_MAX)
			return;
		for (j = start; j < n && url_char((unsigned char)s[j]); j++)
			;
		/* Trailing punctuation belongs to the sentence. */
		while (j > start && strchr(".,;:!?)]", s[j - 1]) != NULL)
			j--;
		if (j - start > 4)
			fn(arg, s + start, j - start);
		i = j > start ? j : start + 1;
	}
}
