/*
 * rules_eval_wlbl.c - SpamAssassin's WLBLEval and VBounce plugins: the
 * address lists of welcomelist_from, blocklist_from, welcomelist_to,
 * more_spam_to, all_spam_to, blocklist_to, enlist_addrlist and
 * welcomelist_bounce_relays (globs, compiled as Conf/Parser.pm's
 * add_to_addrlist does), welcomelist_from_rcvd and
 * def_welcomelist_from_rcvd (an address and the relay it must come
 * through), and the URI host lists of enlist_uri_host,
 * blocklist_uri_host and welcomelist_uri_host.  rules_parse.c keeps
 * every list in a carrier rule's eval arguments (rules_int.h); the
 * functions here read them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "checks/rules/rules_eval_wlbl.h"
#include "lib/arena.h"
#include "url.h"

const struct rule *
rules_wlbl_list(const char *prefix, const char *name)
{
	const struct rules_set *set = rules_evalfn_set();
	char *carrier;
	const struct rule *r;

	if (set == NULL)
		return NULL;
	carrier = g_strconcat(prefix, name, NULL);
	r = rules_find(set, carrier);
	g_free(carrier);
	return r;
}

/*
 * add_to_addrlist's pattern of a glob: NUL, backslash and "(" become
 * "_", every other character but letters, digits, "_", "*" and "?" is
 * escaped, "?" is any character, a run of "*" any string; anchored.
 * g_malloc'd.
 */
char *
rules_wlbl_glob_re(const char *glob)
{
	GString *re = g_string_new("^");

	for (const char *p = glob; *p != '\0'; p++) {
		if (*p == '\\' || *p == '(')
			g_string_append_c(re, '_');
		else if (*p == '?')
			g_string_append_c(re, '.');
		else if (*p == '*') {
			while (p[1] == '*')
				p++;
			g_string_append(re, ".*");
		} else if (g_ascii_isalnum(*p) || *p == '_')
			g_string_append_c(re, *p);
		else {
			g_string_append_c(re, '\\');
			g_string_append_c(re, *p);
		}
	}
	g_string_append_c(re, '$');
	return g_string_free(re, FALSE);
}

bool
rules_wlbl_entry_matches(const char *entry, const char *low)
{
	char *glob = g_strndup(entry, strcspn(entry, " "));
	char *re = rules_wlbl_glob_re(glob);
	bool m = rules_evalfn_match(re, 0, low);

	g_free(re);
	g_free(glob);
	return m;
}

struct rx *
rules_wlbl_list_rx(const struct rule *c, const struct rules_limits *lim)
{
	GString *alt;
	struct rx *rx;
	char err[256];
	size_t off;
	bool too_large;

	if (c->eval_args == NULL || c->eval_args[0] == NULL)
		return NULL;
	alt = g_string_new("^(?:");
	for (size_t i = 0; c->eval_args[i] != NULL; i++) {
		const char *e = c->eval_args[i];
		char *glob = g_strndup(e, strcspn(e, " "));
		char *re = rules_wlbl_glob_re(glob);

		if (i > 0)
			g_string_append_c(alt, '|');
		/* without its ^ and $ */
		g_string_append_len(alt, re + 1, (gssize)strlen(re) - 2);
		g_free(re);
		g_free(glob);
	}
	g_string_append(alt, ")$");
	rx = rx_compile(alt->str, "", lim, err, sizeof(err), &off,
	    &too_large);
	g_string_free(alt, TRUE);
	return rx;
}

/* Does low match one of the globs of the list c (its alternation, or
 * when that did not compile each glob)? */
static bool
globs_match(const struct rule *c, const char *low)
{
	size_t so, eo;

	if (c->rx != NULL)
		return rx_match(c->rx, low, strlen(low), 0, &so, &eo) ==
		    RX_MATCH;
	for (size_t i = 0; c->eval_args[i] != NULL; i++)
		if (rules_wlbl_entry_matches(c->eval_args[i], low))
			return true;
	return false;
}

bool
rules_wlbl_listed(const struct rule *c, const char *addr)
{
	char *low;
	bool hit = false;

	if (c == NULL || c->eval_args == NULL || c->eval_args[0] == NULL ||
	    addr == NULL)
		return false;
	low = g_ascii_strdown(addr, -1);
	for (size_t i = 0; !hit && c->eval_args[i] != NULL; i++)
		hit = strcmp(c->eval_args[i], low) == 0;
	if (!hit)
		hit = globs_match(c, low);
	g_free(low);
	return hit;
}

/* A raw header value with each line break and the blanks after it one
 * space, leading blanks off; g_malloc'd. */
static char *
unfold(const char *raw)
{
	GString *o = g_string_new(NULL);

	while (*raw == ' ' || *raw == '\t')
		raw++;
	for (const char *p = raw; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			if (p[1] == ' ' || p[1] == '\t') {
				while (p[1] == ' ' || p[1] == '\t')
					p++;
				g_string_append_c(o, ' ');
			} else
				g_string_append_c(o, '\n');
			continue;
		}
		g_string_append_c(o, *p);
	}
	return g_string_free(o, FALSE);
}

/* PerMsgStatus's all_to_addrs: the "for <addr>" of the first three
 * Received headers (a valid domain), then the recipient headers. */
GPtrArray *
rules_wlbl_all_to_addrs(const struct rules_input *in)
{
	static const char *const hdrs[] = { "To", "Apparently-To",
	    "Delivered-To", "Envelope-Recipients", "Apparently-Resent-To",
	    "X-Envelope-To", "Envelope-To", "X-Delivered-To",
	    "X-Original-To", "X-Rcpt-To", "X-Real-To", "Cc" };
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GRegex *re;
	char *v = NULL;
	int nrcvd = 0;

	rules_evalfn_addrs(in, "Resent-To", HMOD_FIRST, a);
	rules_evalfn_addrs(in, "Resent-Cc", HMOD_FIRST, a);
	if (a->len > 0)
		return a;
	re = rules_evalfn_re(" for <?(\\S+\\@(\\S+?))>?;", 0);
	for (size_t i = 0; i < in->nhdrs && nrcvd < 3; i++) {
		GMatchInfo *mi = NULL;

		if (g_ascii_strcasecmp(in->hdrs[i].name, "Received") != 0)
			continue;
		nrcvd++;
		/* as PerMsgStatus::get has it: a fold is one space */
		g_free(v);
		v = unfold(in->hdrs[i].raw != NULL ? in->hdrs[i].raw :
		    in->hdrs[i].value);
		if (re != NULL && g_regex_match(re, v, 0, &mi)) {
			char *addr = g_match_info_fetch(mi, 1);
			char *dom = g_match_info_fetch(mi, 2);

			/* is_fqdn_valid: a dot, labels of letters, digits
			 * and inner hyphens, a TLD not all digits */
			if (rules_evalfn_match("^(?=.{1,253}$)(?:(?!-)[a-z0-9-]"
			    "{1,63}(?<!-)\\.)+(?!\\d+$)(?!-)[a-z0-9-]{2,63}"
			    "(?<!-)$", G_REGEX_CASELESS, dom))
				g_ptr_array_add(a, addr);
			else
				g_free(addr);
			g_free(dom);
		}
		g_match_info_free(mi);
	}
	g_free(v);
	for (size_t i = 0; i < G_N_ELEMENTS(hdrs); i++)
		rules_evalfn_addrs(in, hdrs[i], 0, a);
	return a;
}

/* Any of the From addresses (all_from_addrs), or with to the To ones
 * (all_to_addrs), in the address list named list. */
static bool
addrs_listed(const struct rules_input *in, bool to, const char *list)
{
	GPtrArray *addrs = to ? rules_wlbl_all_to_addrs(in) : rules_evalfn_from_addrs(in);
	const struct rule *c = rules_wlbl_list(RULES_ADDRLIST_PREFIX, list);
	bool hit = false;

	for (guint i = 0; !hit && i < addrs->len; i++)
		hit = rules_wlbl_listed(c, addrs->pdata[i]);
	g_ptr_array_free(addrs, TRUE);
	return hit;
}

RULES_EVALFN_NOARGS(from_in_blocklist, "From",
    addrs_listed(in, false, "blocklist_from"))
RULES_EVALFN_NOARGS(to_in_blocklist, "To",
    addrs_listed(in, true, "blocklist_to"))
RULES_EVALFN_NOARGS(to_in_welcomelist, "To",
    addrs_listed(in, true, "welcomelist_to"))
RULES_EVALFN_NOARGS(to_in_more_spam, "To",
    addrs_listed(in, true, "more_spam_to"))
RULES_EVALFN_NOARGS(to_in_all_spam, "To",
    addrs_listed(in, true, "all_spam_to"))

/* check_from_in_list(LIST), check_to_in_list(LIST): enlist_addrlist's
 * lists (or any address list of the configuration by its name). */
static double
from_in_list(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "From";
	return addrs_listed(in, false, args[0]);
}

static double
to_in_list(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "To";
	return addrs_listed(in, true, args[0]);
}

/* check_replyto_in_list(LIST): Reply-To:addr (the first address). */
static double
replyto_in_list(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *v = rules_get(in, "Reply-To", HMOD_ADDR | HMOD_FIRST);
	bool hit;

	(void)nargs;
	*where_r = "Reply-To";
	if (v == NULL)
		return 0;
	hit = v[0] != '\0' && rules_wlbl_listed(rules_wlbl_list(
	    RULES_ADDRLIST_PREFIX, args[0]), v);
	g_free(v);
	return hit;
}

/*
 * The relays _check_welcomelist_rcvd looks at: the first untrusted one,
 * or when there is none every trusted one, as "ip rdns" pairs (rdns
 * lower case, may be empty); g_malloc'd vector.
 */
static char **
rcvd_relays(const struct rules_input *in)
{
	char *t = NULL, *u = NULL;
	GPtrArray *out = g_ptr_array_new();
	GRegex *re = rules_evalfn_re("\\[ ip=(\\S*) rdns=(\\S*) ", 0);
	const char *src;
	GMatchInfo *mi = NULL;

	relays_build(in, &t, &u);
	src = u != NULL && u[0] != '\0' ? u : t;
	if (src != NULL && re != NULL && g_regex_match(re, src, 0, &mi)) {
		do {
			char *ip = g_match_info_fetch(mi, 1);
			char *rdns = g_match_info_fetch(mi, 2);
			char *low = g_ascii_strdown(rdns, -1);

			g_ptr_array_add(out, g_strconcat(ip, " ", low, NULL));
			g_free(ip);
			g_free(rdns);
			g_free(low);
		} while (src == t && g_match_info_next(mi, NULL));
	}
	g_match_info_free(mi);
	g_free(t);
	g_free(u);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* Is ip within the network "a.b.c.d/len" or "v6/len"? */
static bool
ip_in_net(const char *ip, const char *net)
{
	unsigned char a[16], n[16];
	char *addr = g_strdup(net), *slash = strchr(addr, '/');
	int fam = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	int nfam = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	long bits = fam == AF_INET6 ? 128 : 32;
	bool ok;

	if (slash != NULL) {
		*slash = '\0';
		bits = strtol(slash + 1, NULL, 10);
	}
	ok = fam == nfam && inet_pton(fam, ip, a) == 1 &&
	    inet_pton(nfam, addr, n) == 1 && bits >= 0 &&
	    bits <= (fam == AF_INET6 ? 128 : 32);
	g_free(addr);
	if (!ok)
		return false;
	for (long i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i % 8);

		if ((a[i / 8] & m) != (n[i / 8] & m))
			return false;
	}
	return true;
}

/* Does one relay ("ip rdns") match the relay part of an entry? */
static bool
relay_matches(const char *relay, const char *domain)
{
	const char *sp = strchr(relay, ' ');
	char *ip = g_strndup(relay, (size_t)(sp - relay));
	const char *rdns = sp + 1;
	bool hit = false;
	size_t dl = strlen(domain);

	if (domain[0] == '[') {
		const char *close = strchr(domain, ']');
		char *wl;

		if (close == NULL) {
			g_free(ip);
			return false;
		}
		wl = g_strndup(domain + 1, (size_t)(close - domain - 1));
		if (close[1] == '/') {
			char *t = g_strconcat(wl, close + 1, NULL);

			g_free(wl);
			wl = t;
		}
		if (ip[0] == '\0')
			hit = false;
		else if (rules_evalfn_match("^\\d+\\.\\d+\\.\\d+\\.\\d+\\z", 0,
		    wl))
			hit = strcmp(wl, ip) == 0;
		else if (rules_evalfn_match("^[\\d.]+\\z", 0, wl)) {
			size_t n = strlen(wl);

			while (n > 0 && wl[n - 1] == '.')
				n--;
			hit = strncmp(ip, wl, n) == 0 && ip[n] == '.';
		} else
			hit = ip_in_net(ip, wl);
		g_free(wl);
	} else {
		size_t rl = strlen(rdns);

		/* /(?:^|\.)\Qdomain\E$/i */
		hit = rl >= dl && g_ascii_strcasecmp(rdns + rl - dl,
		    domain) == 0 && (rl == dl || rdns[rl - dl - 1] == '.');
	}
	g_free(ip);
	return hit;
}

/*
 * _check_welcomelist_rcvd over the entries "glob domain" of the list
 * named list: 1 when addr matches a glob and a relay matches its
 * domain, -1 when it matches a glob but no relay (a forgery, unless
 * welcomelist_allows_relays names it), else 0.
 */
static int
welcomelist_rcvd(const struct rules_input *in, char ***relays_r,
    const char *list, const char *addr)
{
	const struct rule *c = rules_wlbl_list(RULES_ADDRLIST_PREFIX, list);
	char *low, **relays;
	int found = 0;

	if (c == NULL || c->eval_args == NULL || c->eval_args[0] == NULL)
		return 0;
	low = g_ascii_strdown(addr, -1);
	/* the entries one at a time only when one of them matches; the
	 * relays (Received parsed) only then too */
	if (!globs_match(c, low)) {
		g_free(low);
		return 0;
	}
	if (*relays_r == NULL)
		*relays_r = rcvd_relays(in);
	if ((relays = *relays_r)[0] == NULL) {
		g_free(low);
		return 0;
	}
	for (size_t i = 0; c->eval_args[i] != NULL; i++) {
		const char *e = c->eval_args[i], *sp = strchr(e, ' ');

		if (sp == NULL || !rules_wlbl_entry_matches(e, low))
			continue;
		for (size_t j = 0; relays[j] != NULL; j++)
			if (relay_matches(relays[j], sp + 1)) {
				g_free(low);
				return 1;
			}
		found = -1;
	}
	if (found != 0 && rules_wlbl_listed(rules_wlbl_list(
	    RULES_ADDRLIST_PREFIX, "welcomelist_allows_relays"), low))
		found = 0;
	g_free(low);
	return found;
}

/* _check_from_in_welcomelist (def false) and
 * _check_from_in_default_welcomelist (def true): 1, -1 or 0. */
static int
from_welcome_state(const struct rules_input *in, bool def)
{
	GPtrArray *a = rules_evalfn_from_addrs(in);
	char **relays = NULL;
	int found = 0;

	for (guint i = 0; i < a->len; i++) {
		int wh;

		if (!def && rules_wlbl_listed(rules_wlbl_list(RULES_ADDRLIST_PREFIX,
		    "welcomelist_from"), a->pdata[i])) {
			found = 1;
			break;
		}
		wh = welcomelist_rcvd(in, &relays, def ?
		    "def_welcomelist_from_rcvd" :
		    "welcomelist_from_rcvd", a->pdata[i]);
		if (wh == 1) {
			found = 1;
			break;
		}
		if (wh == -1)
			found = -1;
	}
	g_strfreev(relays);
	g_ptr_array_free(a, TRUE);
	return found;
}

/* check_from_in_welcomelist (def false) and
 * check_from_in_default_welcomelist (def true), or with forged their
 * check_forged_in_*: listed in one, forged there and not listed in the
 * other. */
static bool
from_welcome(const struct rules_input *in, bool def, bool forged)
{
	if (forged)
		return from_welcome_state(in, def) < 0 &&
		    from_welcome_state(in, !def) == 0;
	return from_welcome_state(in, def) > 0;
}

RULES_EVALFN_NOARGS(from_in_welcomelist, "From",
    from_welcome(in, false, false))
RULES_EVALFN_NOARGS(from_in_default_welcomelist, "From",
    from_welcome(in, true, false))
RULES_EVALFN_NOARGS(forged_in_welcomelist, "From",
    from_welcome(in, false, true))
RULES_EVALFN_NOARGS(forged_in_default_welcomelist, "From",
    from_welcome(in, true, true))

/*
 * check_mailfrom_matches_rcvd: the envelope sender's registrable domain
 * is that of the reverse DNS of the relay that handed the message over
 * (the first untrusted one, or when all are trusted any of them).
 * SpamAssassin's registry boundaries are the public suffix list's here.
 */
static double
mailfrom_matches_rcvd(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *sender = rules_get(in, "EnvelopeFrom", HMOD_ADDR | HMOD_FIRST);
	char **relays = NULL;
	struct arena *a = NULL;
	const char *at, *adom;
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "EnvelopeFrom";
	if (sender == NULL)
		return 0;
	/* / \@ ( [^\@]+ \. [^\@]+ ) \z/x */
	at = strrchr(sender, '@');
	if (at == NULL || at == sender + strlen(sender) - 1 ||
	    strchr(at + 1, '.') == NULL || at[1] == '.' ||
	    sender[strlen(sender) - 1] == '.') {
		g_free(sender);
		return 0;
	}
	relays = rcvd_relays(in);
	a = arena_new("wlbl");
	{
		char *low = g_ascii_strdown(at + 1, -1);

		adom = url_domain(a, low);
		g_free(low);
	}
	for (size_t i = 0; !hit && relays[i] != NULL; i++) {
		const char *rdns = strchr(relays[i], ' ') + 1;

		if (rdns[0] == '\0')
			continue;
		hit = strcmp(url_domain(a, rdns), adom) == 0;
	}
	arena_free(&a);
	g_strfreev(relays);
	g_free(sender);
	return hit;
}

/* The host of a URI (lower case, g_malloc'd), NULL for none or mailto:. */
static char *
uri_host(const char *uri)
{
	const char *p = strstr(uri, "://"), *end;

	if (g_ascii_strncasecmp(uri, "mailto:", 7) == 0)
		return NULL;
	p = p != NULL ? p + 3 : uri;
	end = p + strcspn(p, "/?#");
	{
		const char *at = NULL;

		for (const char *q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL)
			p = at + 1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close != NULL)
			end = close + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon != NULL)
			end = colon;
	}
	while (end > p && end[-1] == '.')
		end--;
	if (end == p)
		return NULL;
	return g_ascii_strdown(p, end - p);
}

/* The verdict of list for a name: 1 listed, 0 "!name", -1 absent. */
static int
host_verdict(char *const *l, const char *name)
{
	for (size_t i = 0; l[i] != NULL; i++) {
		const char *e = l[i] + (l[i][0] == '!');

		if (strcmp(e, name) == 0)
			return l[i][0] != '!';
	}
	return -1;
}

/* check_uri_host_listed(NAME): a link's host or one of its parent
 * domains is in the URI host list NAME, the nearest entry deciding. */
static double
uri_host_listed(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct rule *c = rules_wlbl_list(RULES_URIHOST_PREFIX, args[0]);
	char *const *l = c != NULL ? c->eval_args : NULL;
	bool hit = false;

	(void)nargs;
	*where_r = "uri";
	if (l == NULL || l[0] == NULL)
		return 0;
	for (size_t i = 0; !hit && i < in->nuris; i++) {
		char *host = uri_host(in->uris[i]);
		const char *keys[11];
		size_t nk = 0;

		if (host == NULL)
			continue;
		if (host[0] == '[') {
			host[strlen(host) - 1] = '\0';
			keys[nk++] = host + 1;
		} else if (rules_evalfn_match("^\\d+\\.\\d+\\.\\d+\\.\\d+\\z",
		    0, host))
			keys[nk++] = host;
		else if (strrchr(host, '.') == NULL ||
		    !url_is_tld(strrchr(host, '.') + 1) ||
		    !rules_evalfn_match("^[a-z0-9_-]+(?:\\.[a-z0-9_-]+)+\\z",
		    0, host)) {
			/* SpamAssassin's URI details name no host of a
			 * domain outside the registry's top-level domains,
			 * nor one with an empty label ("info...click") */
			g_free(host);
			continue;
		} else
			for (const char *h = host;;) {
				const char *dot = strchr(h, '.');

				if (nk == G_N_ELEMENTS(keys)) {
					memmove(keys, keys + 1,
					    (nk - 1) * sizeof(*keys));
					nk--;
				}
				keys[nk++] = h;
				if (dot == NULL)
					break;
				h = dot + 1;
			}
		for (size_t k = 0; k < nk; k++) {
			int v = host_verdict(l, keys[k]);

			if (v >= 0) {
				hit = v == 1;
				break;
			}
		}
		g_free(host);
	}
	return hit;
}

static double
uri_host_in_blocklist(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	static const char *const block[] = { "BLOCK" };

	(void)args;
	(void)nargs;
	return uri_host_listed(in, block, 1, where_r);
}

static double
uri_host_in_welcomelist(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	static const char *const welcome[] = { "WELCOME" };

	(void)args;
	(void)nargs;
	return uri_host_listed(in, welcome, 1, where_r);
}

/* VBounce's have_any_bounce_relays. */
static double
have_bounce_relays(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct rule *c = rules_wlbl_list(RULES_ADDRLIST_PREFIX,
	    "welcomelist_bounce_relays");

	(void)in;
	(void)args;
	(void)nargs;
	*where_r = "body";
	return c != NULL && c->eval_args != NULL && c->eval_args[0] != NULL;
}

/* Each "\s(\S+\.\S+)\s" of s (a Received line), in the list? */
static bool
relays_in_line(const struct rule *c, const char *s, bool spaces_only)
{
	GRegex *re = rules_evalfn_re(spaces_only ? " (\\S+\\.\\S+) " :
	    "\\s(\\S+\\.\\S+)\\s", 0);
	GMatchInfo *mi = NULL;
	bool hit = false;

	if (re != NULL && g_regex_match(re, s, 0, &mi))
		do {
			char *r = g_match_info_fetch(mi, 1);

			hit = rules_wlbl_listed(c, r);
			g_free(r);
		} while (!hit && g_match_info_next(mi, NULL));
	g_match_info_free(mi);
	return hit;
}

/*
 * VBounce's check_welcomelist_bounce_relays: a host of a Received line
 * quoted in the body's text, or in the pristine body (the headers of a
 * message/rfc822 part), is in welcomelist_bounce_relays.
 */
static double
bounce_relays(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct rule *c = rules_wlbl_list(RULES_ADDRLIST_PREFIX,
	    "welcomelist_bounce_relays");
	const char *body, *end;
	GString *full;
	bool found = false, hit = false;

	(void)args;
	(void)nargs;
	*where_r = "body";
	if (c == NULL || c->eval_args == NULL || c->eval_args[0] == NULL)
		return 0;
	for (size_t i = 0; i < in->nbody; i++) {
		char *s = g_strndup(in->body[i].p, in->body[i].len);

		hit = rules_evalfn_match("^[> ]*Received:", G_REGEX_CASELESS,
		    s) && relays_in_line(c, s, true);
		g_free(s);
		if (hit)
			return 1;
	}
	if (in->full == NULL)
		return 0;
	/* The pristine body: after the header's blank line. */
	end = in->full + in->full_len;
	body = g_strstr_len(in->full, (gssize)in->full_len, "\n\n");
	{
		const char *crlf = g_strstr_len(in->full, (gssize)in->full_len,
		    "\r\n\r\n");

		if (crlf != NULL && (body == NULL || crlf < body))
			body = crlf + 4;
		else if (body != NULL)
			body += 2;
	}
	if (body == NULL)
		return 0;
	full = g_string_new(NULL);
	while (!hit && body < end) {
		const char *nl = memchr(body, '\n', (size_t)(end - body));
		size_t n = (size_t)((nl != NULL ? nl : end) - body);
		char *line = g_strndup(body, n);

		body = nl != NULL ? nl + 1 : end;
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (!found) {
			if (!rules_evalfn_match("^[> ]*Received:",
			    G_REGEX_CASELESS, line)) {
				g_free(line);
				continue;
			}
			found = true;
		}
		if (line[0] == ' ' || line[0] == '\t')
			g_string_append(full, line);
		else
			g_string_assign(full, line);
		g_free(line);
		if (rules_evalfn_match("^[> ]*Received:", G_REGEX_CASELESS,
		    full->str))
			hit = relays_in_line(c, full->str, false);
	}
	g_string_free(full, TRUE);
	return hit;
}

static const char *
list_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	return args[0][0] == '\0' ? "needs a list name" : NULL;
}

const struct rules_evalfn rules_evalfn_wlbl[] = {
	{ "check_from_in_welcomelist", 0, 0, from_in_welcomelist, NULL },
	{ "check_from_in_whitelist", 0, 0, from_in_welcomelist, NULL },
	{ "check_from_in_blocklist", 0, 0, from_in_blocklist, NULL },
	{ "check_from_in_blacklist", 0, 0, from_in_blocklist, NULL },
	{ "check_from_in_default_welcomelist", 0, 0,
	    from_in_default_welcomelist, NULL },
	{ "check_from_in_default_whitelist", 0, 0,
	    from_in_default_welcomelist, NULL },
	{ "check_forged_in_welcomelist", 0, 0, forged_in_welcomelist, NULL },
	{ "check_forged_in_whitelist", 0, 0, forged_in_welcomelist, NULL },
	{ "check_forged_in_default_welcomelist", 0, 0,
	    forged_in_default_welcomelist, NULL },
	{ "check_forged_in_default_whitelist", 0, 0,
	    forged_in_default_welcomelist, NULL },
	{ "check_to_in_welcomelist", 0, 0, to_in_welcomelist, NULL },
	{ "check_to_in_whitelist", 0, 0, to_in_welcomelist, NULL },
	{ "check_to_in_blocklist", 0, 0, to_in_blocklist, NULL },
	{ "check_to_in_blacklist", 0, 0, to_in_blocklist, NULL },
	{ "check_to_in_more_spam", 0, 0, to_in_more_spam, NULL },
	{ "check_to_in_all_spam", 0, 0, to_in_all_spam, NULL },
	{ "check_mailfrom_matches_rcvd", 0, 0, mailfrom_matches_rcvd, NULL },
	{ "check_from_in_list", 1, 1, from_in_list, list_check },
	{ "check_to_in_list", 1, 1, to_in_list, list_check },
	{ "check_replyto_in_list", 1, 1, replyto_in_list, list_check },
	{ "check_uri_host_listed", 1, 1, uri_host_listed, list_check },
	{ "check_uri_host_in_blocklist", 0, 0, uri_host_in_blocklist, NULL },
	{ "check_uri_host_in_blacklist", 0, 0, uri_host_in_blocklist, NULL },
	{ "check_uri_host_in_welcomelist", 0, 0, uri_host_in_welcomelist,
	    NULL },
	{ "check_uri_host_in_whitelist", 0, 0, uri_host_in_welcomelist,
	    NULL },
	{ "have_any_bounce_relays", 0, 0, have_bounce_relays, NULL },
	{ "check_welcomelist_bounce_relays", 0, 0, bounce_relays, NULL },
	{ "check_whitelist_bounce_relays", 0, 0, bounce_relays, NULL },
	{ NULL, 0, 0, NULL, NULL }
};
