/*
 * spfsyntax.c - see spfsyntax.h.  A direct reading of the ABNF in RFC
 * 7208 section 12, plus its prose rules: redirect= and exp= at most once
 * (6), the c, r and t macros only in explanations (7.3), and numeric
 * CIDR lengths within range without leading zeros.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/auth/spfsyntax.h"
#include "lib/log.h"

static bool
is_alnum(int c)
{
	return isascii(c) && isalnum(c);
}

/*
 * Checks the macro-string in [s, e).  in_exp allows the c, r and t
 * macros and spaces.  *ends_macro_r tells whether it ends with a
 * macro-expand.
 */
static const char *
check_macro_string(const char *s, const char *e, bool in_exp,
    bool *ends_macro_r, const char **lit_start_r)
{
	const char *lit = s;

	*ends_macro_r = false;
	while (s < e) {
		unsigned char c = (unsigned char)*s;

		if (c == '%') {
			if (s + 1 >= e)
				return "lone % in macro-string";
			if (s[1] == '%' || s[1] == '_' || s[1] == '-') {
				s += 2;
				*ends_macro_r = true;
				lit = s;
				continue;
			}
			if (s[1] != '{')
				return "invalid macro (% not followed by {, %, _ or -)";
			s += 2;
			if (s >= e || strchr(in_exp ? "slodiphcrtvSLODIPHCRTV" :
			    "slodiphvSLODIPHV", *s) == NULL || *s == '\0')
				return "invalid macro letter";
			s++;
			while (s < e && isascii((unsigned char)*s) &&
			    isdigit((unsigned char)*s))
				s++;
			if (s < e && (*s == 'r' || *s == 'R'))
				s++;
			while (s < e && *s != '\0' && strchr(".-+,/_=", *s) != NULL)
				s++;
			if (s >= e || *s != '}')
				return "unterminated or malformed macro";
			s++;
			*ends_macro_r = true;
			lit = s;
			continue;
		}
		if (c == ' ' && in_exp) {
			s++;
			*ends_macro_r = false;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			return "character not allowed in macro-string";
		s++;
		*ends_macro_r = false;
	}
	if (lit_start_r != NULL)
		*lit_start_r = lit;
	return NULL;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool
is_toplabel(const char *s, const char *e)
{
	bool has_alpha = false;

	if (s >= e || e - s > 63)
		return false;
	for (const char *p = s; p < e; p++) {
		if (!is_alnum((unsigned char)*p) && *p != '-')
			return false;
		if (isalpha((unsigned char)*p))
			has_alpha = true;
	}
	if (*s == '-' || e[-1] == '-')
		return false;
	/* All alphanumerics need a letter; with a hyphen any mix is fine. */
	return has_alpha || memchr(s, '-', e - s) != NULL;
}

/* domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static const char *
check_domain_spec(const char *s, const char *e)
{
	const char *why, *lit, *dot, *end;
	bool ends_macro;

	if (s >= e)
		return "empty domain-spec";
	if ((why = check_macro_string(s, e, false, &ends_macro, &lit)) != NULL)
		return why;
	if (ends_macro)
		return NULL;
	end = e;
	if (end > lit && end[-1] == '.')
		end--;
	for (dot = end; dot > lit && dot[-1] != '.'; dot--)
		;
	if (dot == lit || dot - 1 < s)
		return "domain-spec does not end in a top label";
	if (!is_toplabel(dot, end))
		return "invalid top label in domain-spec";
	/* Labels are at most 63 octets (RFC 7208 4.3). */
	for (const char *p = lit, *q; p < end; p = q + 1) {
		q = memchr(p, '.', end - p);
		if (q == NULL)
			q = end;
		if (q - p > 63)
			return "label longer than 63 octets";
	}
	return NULL;
}

/* "/" ( "0" / %x31-39 *DIGIT ) within max; advances *sp. */
static bool
parse_cidr(const char **sp, const char *e, unsigned max)
{
	const char *s = *sp + 1;
	unsigned v = 0;
	size_t n = 0;

	while (s + n < e && isascii((unsigned char)s[n]) &&
	    isdigit((unsigned char)s[n])) {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (++n > 3)
			return false;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return false;
	*sp = s + n;
	return true;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] at the
 * end of [s, e): returns where the domain part ends, or NULL when a
 * length is out of range or malformed. */
static const char *
split_dual_cidr(const char *s, const char *e)
{
	const char *d = e, *p;

	/* "//digits" at the end: the IPv6 length. */
	for (p = d; p > s && isdigit((unsigned char)p[-1]); p--)
		;
	if (p < d && p - s >= 2 && p[-1] == '/' && p[-2] == '/') {
		const char *c = p - 1;

		if (!parse_cidr(&c, e, 128) || c != d)
			return NULL;
		d = p - 2;
	}
	/* "/digits" before it: the IPv4 length. */
	for (p = d; p > s && isdigit((unsigned char)p[-1]); p--)
		;
	if (p < d && p - s >= 1 && p[-1] == '/' &&
	    (p - s < 2 || p[-2] != '/')) {
		const char *c = p - 1;

		if (!parse_cidr(&c, d, 32) || c != d)
			return NULL;
		d = p - 1;
	}
	return d;
}

static const char *
check_term(const char *t, const char *e, int *nredirect, int *nexp)
{
	const char *p, *name_end, *arg;
	char name[16];
	size_t nlen;
	bool has_qual = false;

	/* modifier: name "=" ..., name = ALPHA *( ALPHA / DIGIT / - _ . ) */
	for (p = t; p < e && (is_alnum((unsigned char)*p) ||
	    strchr("-_.", *p) != NULL) && *p != '\0'; p++)
		;
	if (p < e && *p == '=' && p > t && isalpha((unsigned char)*t)) {
		nlen = (size_t)(p - t);
		arg = p + 1;
		if (nlen == 8 && strncasecmp(t, "redirect", 8) == 0) {
			if (++*nredirect > 1)
				return "redirect= given twice";
			return check_domain_spec(arg, e);
		}
		if (nlen == 3 && strncasecmp(t, "exp", 3) == 0) {
			if (++*nexp > 1)
				return "exp= given twice";
			return check_domain_spec(arg, e);
		}
		{
			bool ends;

			return check_macro_string(arg, e, false, &ends, NULL);
		}
	}

	/* directive = [ qualifier ] mechanism */
	if (strchr("+-?~", *t) != NULL) {
		t++;
		has_qual = true;
	}
	(void)has_qual;
	for (name_end = t; name_end < e && is_alnum((unsigned char)*name_end);
	    name_end++)
		;
	nlen = (size_t)(name_end - t);
	if (nlen == 0 || nlen >= sizeof(name))
		return "unknown mechanism";
	memcpy(name, t, nlen);
	name[nlen] = '\0';
	for (char *q = name; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	p = name_end;

	if (strcmp(name, "all") == 0)
		return p == e ? NULL : "junk after all";
	if (strcmp(name, "include") == 0 || strcmp(name, "exists") == 0) {
		if (p >= e || *p != ':')
			return "include/exists needs :domain";
		return check_domain_spec(p + 1, e);
	}
	if (strcmp(name, "ptr") == 0) {
		if (p == e)
			return NULL;
		if (*p != ':')
			return "junk after ptr";
		return check_domain_spec(p + 1, e);
	}
	if (strcmp(name, "a") == 0 || strcmp(name, "mx") == 0) {
		const char *dend = split_dual_cidr(p, e);

		if (dend == NULL)
			return "invalid CIDR length";
		if (p == dend)
			return NULL;
		if (*p != ':')
			return "junk after a/mx";
		return check_domain_spec(p + 1, dend);
	}
	if (strcmp(name, "ip4") == 0 || strcmp(name, "ip6") == 0) {
		bool is6 = name[2] == '6';
		const char *slash;
		char addr[64];
		unsigned char buf[16];

		if (p >= e || *p != ':')
			return "ip4/ip6 needs :address";
		p++;
		slash = memchr(p, '/', e - p);
		if (slash == NULL)
			slash = e;
		if ((size_t)(slash - p) >= sizeof(addr))
			return "invalid address";
		memcpy(addr, p, slash - p);
		addr[slash - p] = '\0';
		if (inet_pton(is6 ? AF_INET6 : AF_INET, addr, buf) != 1)
			return "invalid address";
		if (slash < e) {
			p = slash;
			if (!parse_cidr(&p, e, is6 ? 128 : 32) || p != e)
				return "invalid CIDR length";
		}
		return NULL;
	}
	return "unknown mechanism";
}

/* The next space-separated term at *p: [*t_r, *e_r), *p after it; false
 * when only spaces are left. */
static bool
next_term(const char **p, const char **t_r, const char **e_r)
{
	const char *q = *p;

	while (*q == ' ')
		q++;
	if (*q == '\0') {
		*p = q;
		return false;
	}
	*t_r = q;
	while (*q != '\0' && *q != ' ')
		q++;
	*e_r = *p = q;
	return true;
}

const char *
spfsyntax_check_record(const char *rec)
{
	const char *p, *why;
	int nredirect = 0, nexp = 0;

	if (strncasecmp(rec, "v=spf1", 6) != 0)
		return "no v=spf1";
	p = rec + 6;
	while (*p != '\0') {
		const char *t, *e;

		if (*p != ' ')
			return "terms must be separated by spaces";
		if (!next_term(&p, &t, &e))
			break;
		if ((why = check_term(t, e, &nredirect, &nexp)) != NULL)
			return why;
	}
	return NULL;
}

bool
spfsyntax_is_explanation(const char *s)
{
	bool ends;

	return check_macro_string(s, s + strlen(s), true, &ends, NULL) == NULL;
}

/* Appends n bytes of s to the growing string *bp. */
static void
buf_add(char **bp, size_t *lenp, size_t *capp, const char *s, size_t n)
{
	if (*lenp + n + 1 > *capp) {
		*capp = (*lenp + n + 1) * 2;
		if ((*bp = realloc(*bp, *capp)) == NULL)
			log_oom(*capp, "spf record");
	}
	memcpy(*bp + *lenp, s, n);
	*lenp += n;
	(*bp)[*lenp] = '\0';
}

/* The "/N" or "//N" at the end of [s, e): its value, or -1. */
static long
tail_cidr(const char *s, const char **end_r, bool dbl)
{
	const char *p = *end_r;

	while (p > s && isdigit((unsigned char)p[-1]))
		p--;
	if (p == *end_r || p == s || p[-1] != '/')
		return -1;
	if (dbl != (p - s >= 2 && p[-2] == '/'))
		return -1;
	{
		long v = strtol(p, NULL, 10);

		*end_r = p - (dbl ? 2 : 1);
		return v;
	}
}

char *
spfsyntax_rewrite_cidr0(const char *rec)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	bool changed = false;
	const char *p = rec;
	char *mods = NULL;	/* redirect= and exp=, moved to the end */
	size_t mlen = 0, mcap = 0;

	if (spfsyntax_check_record(rec) != NULL)
		return NULL;
	buf_add(&out, &len, &cap, rec, 6);	/* "v=spf1" */
	p += 6;
	while (*p != '\0') {
		const char *t, *e, *m, *dend;
		char q[2] = "";
		long v4 = -1, v6 = -1;
		size_t nlen;

		if (!next_term(&p, &t, &e))
			break;
		buf_add(&out, &len, &cap, " ", 1);
		m = t;
		if (strchr("+-?~", *m) != NULL)
			q[0] = *m++;
		nlen = strcspn(m, ":/= ");
		if (m + nlen > e)
			nlen = (size_t)(e - m);
		if (m == t && m + nlen < e && m[nlen] == '=') {
			/* A modifier.  libspf2 refuses some valid unknown ones
			 * (RFC 7208 6: ignore them) and a redirect= before
			 * mechanisms; order does not matter for either. */
			len--;	/* the blank added above */
			changed = true;
			if ((nlen == 8 && strncasecmp(m, "redirect", 8) == 0) ||
			    (nlen == 3 && strncasecmp(m, "exp", 3) == 0)) {
				buf_add(&mods, &mlen, &mcap, " ", 1);
				buf_add(&mods, &mlen, &mcap, t, (size_t)(e - t));
			}
			continue;
		}
		if ((nlen == 3 && (strncasecmp(m, "ip4", 3) == 0 ||
		    strncasecmp(m, "ip6", 3) == 0)) && e - t > 2 &&
		    e[-2] == '/' && e[-1] == '0') {
			bool is6 = m[2] == '6';
			char buf[96];

			snprintf(buf, sizeof(buf), "%s%s %s%s", q,
			    is6 ? "ip6:::/1" : "ip4:0.0.0.0/1", q,
			    is6 ? "ip6:8000::/1" : "ip4:128.0.0.0/1");
			buf_add(&out, &len, &cap, buf, strlen(buf));
			changed = true;
			continue;
		}
		if ((nlen == 1 && tolower((unsigned char)*m) == 'a') ||
		    (nlen == 2 && strncasecmp(m, "mx", 2) == 0)) {
			dend = e;
			v6 = tail_cidr(m + nlen, &dend, true);
			v4 = tail_cidr(m + nlen, &dend, false);
			if (v4 == 0 || v6 == 0) {
				const char *dom = m + nlen;
				char kind[8], num[32];

				snprintf(kind, sizeof(kind), "%s%s%s",
				    nlen == 1 ? "a" : "mx", v4 == 0 ? "4" : "",
				    v6 == 0 ? "6" : "");
				buf_add(&out, &len, &cap, q, strlen(q));
				buf_add(&out, &len, &cap, "a:", 2);
				if (dom < dend && *dom == ':')
					buf_add(&out, &len, &cap, dom + 1,
					    (size_t)(dend - dom - 1));
				else
					buf_add(&out, &len, &cap, "%{d}", 4);
				if (dom < dend && *dom == ':' && dend[-1] == '.')
					len--;	/* the domain's trailing dot */
				buf_add(&out, &len, &cap, ".", 1);
				buf_add(&out, &len, &cap, kind, strlen(kind));
				buf_add(&out, &len, &cap, "." SPFSYNTAX_CIDR0_SUFFIX,
				    strlen("." SPFSYNTAX_CIDR0_SUFFIX));
				if (v4 >= 0) {
					snprintf(num, sizeof(num), "/%ld",
					    v4 == 0 ? 1 : v4);
					buf_add(&out, &len, &cap, num, strlen(num));
				}
				if (v6 >= 0) {
					snprintf(num, sizeof(num), "//%ld",
					    v6 == 0 ? 1 : v6);
					buf_add(&out, &len, &cap, num, strlen(num));
				}
				changed = true;
				continue;
			}
		}
		buf_add(&out, &len, &cap, t, (size_t)(e - t));
	}
	if (mods != NULL) {
		buf_add(&out, &len, &cap, mods, mlen);
		free(mods);
	}
	/* Modifiers already at the end and all known: nothing changed. */
	if (changed && out != NULL && strcmp(out, rec) == 0)
		changed = false;
	if (!changed) {
		free(out);
		return NULL;
	}
	return out;
}
