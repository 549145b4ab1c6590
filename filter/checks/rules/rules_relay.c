/*
 * rules_relay.c - SpamAssassin's relay pseudo-headers, X-Spam-Relays-
 * Trusted, -Untrusted, -Internal and -External, from the Received
 * headers (Mail::SpamAssassin::Message::Metadata::Received):
 *
 *   [ ip=IP rdns=RDNS helo=HELO by=BY ident=IDENT envfrom=FROM intl=0|1
 *     id=ID auth=AUTH msa=0 ]
 *
 * one per relay, newest first, separated by a space.  vigil has no
 * trusted_networks: trust is inferred as SpamAssassin infers it without
 * one (a relay is trusted, and internal, while its IP is private or it
 * authenticated; from the first other one on, none is).
 *
 * The Received parser reads the common forms (Postfix, Sendmail, Exim,
 * qmail, Microsoft); a line it cannot read is skipped, as SpamAssassin
 * skips an "unparseable" one.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "lib/log.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

struct relay {
	char	*ip, *rdns, *helo, *by, *ident, *envfrom, *id, *auth;
};

static void
relay_clear(struct relay *r)
{
	g_free(r->ip);
	g_free(r->rdns);
	g_free(r->helo);
	g_free(r->by);
	g_free(r->ident);
	g_free(r->envfrom);
	g_free(r->id);
	g_free(r->auth);
	memset(r, 0, sizeof(*r));
}

/* The first match of re (group 1) in s, or NULL; g_malloc'd.  Each
 * pattern is compiled once, on first use, into *slot. */
static char *
grab_re(GRegex **slot, const char *re, const char *s)
{
	GMatchInfo *mi = NULL;
	char *out = NULL;

	if (g_once_init_enter(slot)) {
		GRegex *g = g_regex_new(re, G_REGEX_CASELESS | G_REGEX_RAW |
		    G_REGEX_OPTIMIZE, 0, NULL);

		if (g == NULL)
			BUG("rules: relay pattern %s does not compile", re);
		g_once_init_leave(slot, g);
	}
	if (g_regex_match(*slot, s, 0, &mi))
		out = g_match_info_fetch(mi, 1);
	g_match_info_free(mi);
	return out;
}
#define grab(re, s)	({ static GRegex *slot_; grab_re(&slot_, re, s); })

#define IPV4	"(?:\\d{1,3}\\.){3}\\d{1,3}"
#define IPV6	"(?:IPv6:)?[0-9a-f]*:[0-9a-f:.]+"

/* Is ip private (Constants.pm IP_PRIVATE)? */
static bool
ip_private(const char *ip)
{
	static GRegex *re;

	if (g_once_init_enter(&re))
		g_once_init_leave(&re, g_regex_new("^(?:(?:10|127|169\\.254|172\\.(?:1[6-9]|2[0-9]|"
		    "3[01])|192\\.168|100\\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|"
		    "12[0-7]))\\.|(?:IPv6:)?(?:::1$|f[cd]|fe[89ab]))",
		    G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL));
	return g_regex_match(re, ip, 0, NULL);
}

/* A copy of line with each run of white space one space, trimmed, as
 * Received.pm reads it. */
static char *
squeeze(const char *line)
{
	char *s = g_strdup(line), *o = s;

	for (const char *p = line; *p != '\0'; p++) {
		if (g_ascii_isspace(*p)) {
			if (o > s && o[-1] != ' ')
				*o++ = ' ';
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return g_strchomp(s);
}

/*
 * One Received line (unfolded) into r; false when it holds no relay (no
 * "from" with an IP address).
 */
static bool
parse_received(const char *line, struct relay *r)
{
	char *s = squeeze(line), *semi, *by, *from;
	bool ok = false;

	/* The date after the last ';' says nothing about the relay. */
	if ((semi = strrchr(s, ';')) != NULL)
		*semi = '\0';
	if (g_ascii_strncasecmp(s, "from ", 5) != 0)
		goto out;
	from = s + 5;
	by = strstr(from, " by ");
	if (by != NULL)
		*by = '\0';
	/* Each pattern runs only where its text can be (cheap tests
	 * first: this runs for every Received header of every message). */
	if (strchr(from, '[') != NULL) {
		r->ip = grab("\\[(" IPV4 ")\\]", from);
		if (r->ip == NULL)
			r->ip = grab("\\[(" IPV6 ")\\]", from);
	}
	if (r->ip == NULL && strchr(from, '(') != NULL)
		r->ip = grab("\\((?:[^()\\s]*\\s)?(" IPV4 ")\\)", from);
	if (r->ip == NULL && g_ascii_isdigit(from[0]))
		r->ip = grab("^(" IPV4 ")\\b", from);
	if (r->ip == NULL)
		goto out;
	if (strchr(from, '(') != NULL && strstr(from, "helo=") != NULL) {
		/* Exim: from RDNS ([IP] helo=HELO) or from [IP] (helo=HELO) */
		r->helo = grab("helo=([^\\s()\\]]+)", from);
		r->rdns = grab("^([^\\s(\\[]+)\\s", from);
	} else {
		/* Postfix, Sendmail: from HELO (RDNS [IP]); qmail: from
		 * RDNS (HELO helo) (IP); Sendmail's ident: (user@RDNS [IP]) */
		r->helo = grab("^([^\\s(\\[]+)", from);
		if (strchr(from, '(') != NULL)
			r->rdns = grab("\\((?:[^@()\\s]*@)?([^@()\\s\\[]+)"
			    "\\s+\\[", from);
		if (strchr(from, '@') != NULL)
			r->ident = grab("\\(([^@()\\s\\[]+)@[^()\\s]+\\s+\\[",
			    from);
		if (strstr(from, "(HELO ") != NULL &&
		    (by = grab("\\(HELO ([^\\s()]+)\\)", from)) != NULL) {
			/* qmail: from RDNS (HELO helo) (IP) */
			g_free(r->rdns);
			r->rdns = r->helo;
			r->helo = by;
		}
	}
	if (r->rdns != NULL) {
		size_t n = strlen(r->rdns);

		while (n > 0 && r->rdns[n - 1] == '.')
			r->rdns[--n] = '\0';
	}
	if (r->rdns != NULL && g_ascii_strcasecmp(r->rdns, "unknown") == 0) {
		g_free(r->rdns);
		r->rdns = NULL;
	}
	if (r->helo != NULL && r->helo[0] == '[') {
		/* A literal: kept without its brackets, as Received.pm. */
		memmove(r->helo, r->helo + 1, strlen(r->helo));
		if (r->helo[0] != '\0' && r->helo[strlen(r->helo) - 1] == ']')
			r->helo[strlen(r->helo) - 1] = '\0';
	}
	ok = true;
out:
	if (ok) {
		char *rest = squeeze(line);

		r->by = grab(" by ([^\\s;()]+)", rest);
		/* Received.pm wants an IP address and a "by". */
		ok = r->by != NULL;
		if (strstr(rest, " id ") != NULL)
			r->id = grab(" id ([^\\s;()]+)", rest);
		if (strcasestr(rest, "envelope-") != NULL)
			r->envfrom = grab("envelope-(?:from|sender) "
			    "<?([^\\s<>();]+)", rest);
		if (strcasestr(rest, "SMTPA") != NULL ||
		    strcasestr(rest, "SMTPSA") != NULL)
			r->auth = grab(" with ((?:E|L)SMTPS?A)\\b", rest);
		if (r->auth == NULL && strstr(rest, "(Authenticated sender:") !=
		    NULL)
			r->auth = g_strdup("Postfix");
		g_free(rest);
	}
	g_free(s);
	return ok;
}

static bool
fetcher_handover(const char *line)
{
	char *w = grab("\\bwith\\s+(POP3|IMAP)\\b", line);
	bool yes = w != NULL;

	g_free(w);
	return yes;
}

static void
relay_append(GString *out, const struct relay *r, bool internal)
{
	if (out->len > 0)
		g_string_append_c(out, ' ');
	g_string_append_printf(out, "[ ip=%s rdns=%s helo=%s by=%s ident=%s "
	    "envfrom=%s intl=%d id=%s auth=%s msa=0 ]", r->ip,
	    r->rdns ? r->rdns : "", r->helo ? r->helo : "",
	    r->by ? r->by : "", r->ident ? r->ident : "",
	    r->envfrom ? r->envfrom : "", internal, r->id ? r->id : "",
	    r->auth ? r->auth : "");
}

/* Which relays a pseudo-header lists: 1 the trusted (internal) ones, 0
 * the others, -1 for any other header. */
int
relays_which(const char *name)
{
	if (g_ascii_strcasecmp(name, "X-Spam-Relays-Trusted") == 0 ||
	    g_ascii_strcasecmp(name, "X-Spam-Relays-Internal") == 0)
		return 1;
	if (g_ascii_strcasecmp(name, "X-Spam-Relays-Untrusted") == 0 ||
	    g_ascii_strcasecmp(name, "X-Spam-Relays-External") == 0)
		return 0;
	return -1;
}

/* The lists of the message being evaluated: the header rules'
 * X-Spam-Relays-* slots and the eval functions ask for them apart, so
 * they are parsed once and kept until rules_relays_forget(), as long as
 * an evaluation runs (rules_evalfn_set()). */
static _Thread_local const struct rules_input *kept_in;
static _Thread_local char *kept_t, *kept_u;

void
rules_relays_forget(void)
{
	g_free(kept_t);
	g_free(kept_u);
	kept_t = kept_u = NULL;
	kept_in = NULL;
}

static void relays_parse(const struct rules_input *, char **, char **);

/* Both lists for in, from one pass over its Received headers;
 * g_malloc'd. */
void
relays_build(const struct rules_input *in, char **trusted_r,
    char **untrusted_r)
{
	if (rules_evalfn_set() == NULL) {
		relays_parse(in, trusted_r, untrusted_r);
		return;
	}
	if (kept_in != in || kept_t == NULL) {
		rules_relays_forget();
		relays_parse(in, &kept_t, &kept_u);
		kept_in = in;
	}
	*trusted_r = g_strdup(kept_t);
	*untrusted_r = g_strdup(kept_u);
}

static void
relays_parse(const struct rules_input *in, char **trusted_r,
    char **untrusted_r)
{
	GString *trusted, *untrusted;
	bool in_trusted = true;

	trusted = g_string_new(NULL);
	untrusted = g_string_new(NULL);
	for (size_t i = 0; i < in->nhdrs; i++) {
		struct relay r = { 0 };

		if (g_ascii_strcasecmp(in->hdrs[i].name, "Received") != 0)
			continue;
		/* A mail fetcher's handover (fetchmail, POP3, IMAP): inside
		 * the trusted part, the parse starts again after it. */
		if (fetcher_handover(in->hdrs[i].raw)) {
			if (in_trusted)
				g_string_truncate(trusted, 0);
			continue;
		}
		if (!parse_received(in->hdrs[i].raw, &r)) {
			relay_clear(&r);
			continue;
		}
		/* Without trusted_networks: trusted (and internal) while
		 * private or authenticated. */
		if (in_trusted && !ip_private(r.ip) && r.auth == NULL)
			in_trusted = false;
		relay_append(in_trusted ? trusted : untrusted, &r, in_trusted);
		relay_clear(&r);
	}
	*trusted_r = g_string_free(trusted, FALSE);
	*untrusted_r = g_string_free(untrusted, FALSE);
}
