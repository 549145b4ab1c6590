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
 * qmail, Microsoft); a line it cannot read is skipped.  Whether
 * SpamAssassin counts a line as "unparseable" (a handover it could not
 * read, RelayEval's check_relays_unparseable, and the reason
 * ALL_TRUSTED and NO_RELAYS do not hit) is decided apart, by
 * received_unparseable(), with Received.pm's own patterns: such a line
 * is never a relay, as there.
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
	/* No reverse DNS although the MTA's form says it looked
	 * (Received.pm's no_reverse_dns). */
	bool	 no_rdns;
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

/* Received.pm's $IP_ADDRESS, near enough (IPv4, or IPv6 with at least
 * two colons), and $LOCALHOST. */
#define SA_IP	"(?:\\b(?<!:)(?:\\d{1,3}\\.){3}\\d{1,3}\\b|(?:IPv6:)?" \
	"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:\\.\\d+){0,3})"
#define SA_LH	"(?:localhost(?:\\.localdomain)?|127\\.0\\.0\\.1|::1)"

/*
 * The handovers Received.pm reads (goto enough) without an address in
 * square brackets, which its last resort, \[IP\] anywhere with a "by",
 * would find: the text after "from ".
 */
static const char *const sa_relay_forms[] = {
	"^(?=.* \\((?:SquirrelMail|NaSMail) authenticated user ).*" SA_IP
	    "\\b(?![.-]).{10,80}by \\S+ with HTTP",
	SA_IP " by \\S+ \\(" SA_IP "\\) with HTTP \\(WebMailUI\\)",
	"^\\S+ \\(\\[?" SA_IP "\\]?(?::\\d+)\\) by \\S+(?: \\(\\S+\\))? "
	    "with \\[XMail",
	"^\\(\\[" SA_IP ":\\d+\\] helo=\\S+\\) by \\S+ ",
	"^\\S+ \\(\\[" SA_IP ":\\d+\\]\\) by \\S+ ",
	"^\\S+ \\(\\[?" SA_IP "(?:%[A-Z0-9._~-]*)?\\]?\\) by \\S+ .* with "
	    "(?:Microsoft SMTP Server|mapi id) (?:\\([^\\)]+\\) )?\\d+\\.\\d+"
	    "\\.\\d+\\.\\d+(?:$| )",
	"^\\S+ \\( ?" SA_IP "\\) by \\S+.*\\(Scalix SMTP Relay",
	"^\\S+ \\((?:HELO|EHLO) \\S*\\) \\(" SA_IP "\\) by \\S+ "
	    "\\(qpsmtpd/\\S+\\) with (?:ESMTP|SMTP)",
	"^\\S+ \\(LHLO \\S*\\) \\(" SA_IP "\\) by \\S+ with LMTP",
	"^\\S+(?: \\((?:HELO|EHLO) \\S*\\))? \\((?:\\S+\\@)?\\[?" SA_IP
	    "\\]?\\)(?: \\(envelope-sender <\\S+>\\))? by \\S+(?: \\(.+\\))* "
	    "with (?:.* )?(?:SMTP|QMQP)(?! id )",
	"^\\(\\[?" SA_IP "\\]?\\) by \\S+ ",
	"^\\S+ \\[\\(" SA_IP "\\)\\] by \\S+ \\(" SA_IP "\\) ",
	"^\\S+ \\(\\[" SA_IP "(?:[.:]\\d+)?\\]\\).*? by \\S+ ",
	"^\\S+ \\((?:HELO|EHLO) [^\\)]*\\) \\((?:\\S*@)?\\[?" SA_IP
	    "\\]?\\).* by \\S+ ",
	"^\\S+ \\((?:\\S*@)?\\[?" SA_IP "\\]?\\).* by \\S+ ",
	"^\\S+\\(" SA_IP "\\) by \\S+ via smap ",
	"^\\S+\\(" SA_IP ", (?:HELO|EHLO) \\S*\\) by \\S+ via smap ",
	"^" SA_IP " by \\S+ \\((?:SMTPL|InterScan)\\b",
	"^\\S+ \\((?:HELO|EHLO) \\S*\\) \\((?:\\S+\\@)?" SA_IP ".*?\\) by "
	    "\\S+ with ",
	"^[^\\d]\\S+ \\(" SA_IP "\\) by \\S+ ",
	"^" SA_IP " by \\S+ with ",
	"^" SA_IP " \\((?:HELO|EHLO) \\S*\\) by \\S+ ",
	"^\\S+\\(" SA_IP "\\) by \\S+ ",
	"^" SA_IP " \\([A-Za-z][^\\)]+\\) by \\S+ with ",
	"^\\S+ \\((?:\\S+\\@)?" SA_IP "\\) by \\S+ with ",
	"^\\S+\\(" SA_IP "\\)(?:, claiming to be \"\\S+\")? via \\S+ by \\S+,",
	"^\\S+ \\(\\S+@" SA_IP " with login\\) by \\S+\\.yahoo\\.com with "
	    "SMTP",
	NULL
};

/* The lines after "from " Received.pm ignores (return 0): not a
 * handover, or one it knows says too little. */
static const char *const sa_skip_forms[] = {
	"^mail pickup service by \\S+ with Microsoft SMTPSVC$",
	"^(?=.*Exim).*\\bwith local(?:-\\S+)? ",
	"with (?:POP3|IMAP)",
	"^\\S+ by \\S+ with BSMTP",
	"^\\S+ \\(\\S+\\) by \\S+ \\(Content Technologies ",
	"^\\S+ \\([^\\s\\@]+\\@" SA_LH "\\) by \\S+ \\(",
	"^\\S+ \\S+ by \\S+ with local-e?smtp ",
	"^127\\.0\\.0\\.1 \\(AVG SMTP \\S+ \\[\\S+\\]\\)",
	"^\\S+\\@\\S+ by \\S+ ",
	"^Unknown/Local \\(",
	"^" SA_LH " \\((?:\\S+\\@)?" SA_LH "[\\)\\[]",
	"^\\S+ \\((?:\\S+\\@)?" SA_LH "\\) ",
	"^\\S+ \\(\\S+\\@\\S+ \\[" SA_LH "\\]\\) ",
	"^\\(AUTH: \\S+\\) by \\S+ with ",
	"^localhost \\(localhost \\[\\[UNIX: localhost\\]\\]\\) by ",
	"^\\S+\\.amazon\\.com by \\S+\\.amazon\\.com with ESMTP \\(peer "
	    "crosscheck: ",
	"^[^\\.]+ by \\S+ with Novell_GroupWise",
	"^no\\.name\\.available by \\S+ via smtpd \\(for ",
	"^\\S+ by \\S+ \\(.{0,100}\\) with qmail-scanner",
	"^\\S+ by \\S+ with local",
	"^\\S+ \\(\\[unix socket\\]\\) by \\S+ \\(Cyrus v[0-9]*?\\.[0-9]*?\\."
	    "[0-9]*?\\) with LMTPA",
	"^\\S+ by \\S+ (?:with|via|for|\\()",
	"^\\S+ (?:(?:with|via|for) \\S+|\\(unverified\\)) by\\b",
	"^\\S+ \\(unknown\\) by \\S+ \\(SG\\) with \\b",
	"^\\S+ \\(\\S+ \\[local\\]\\) by \\S+ \\(OpenSMTPD\\) with \\b",
	"\\(LSMTP for",
	"^\\(\\[" SA_LH "\\]\\) with MailEnable ",
	"^facebook\\.com \\([^\\)]+\\) by facebook\\.com with Thrift id \\S+$",
	"^\\S+ named \\S+ by gmailapi\\.google\\.com with HTTPREST$",
	"^\\S+ id \\S+$",
	"^\\[<.*? \\(Jetsend",
	NULL
};

static bool
any_form(const char *const *forms, const char *s)
{
	for (size_t i = 0; forms[i] != NULL; i++)
		if (rules_evalfn_match(forms[i], 0, s))
			return true;
	return false;
}

/*
 * Would SpamAssassin count this Received line (unfolded) as unparseable
 * (parse_received_line's undef): a "from" line it neither reads nor
 * knows to ignore.
 */
static bool
received_unparseable(const char *line)
{
	char *s = squeeze(line), *t;
	bool bad = false;
	size_t n;

	/* 1 while s/\s?;$// */
	while ((n = strlen(s)) > 0 && s[n - 1] == ';') {
		s[--n] = '\0';
		if (n > 0 && g_ascii_isspace(s[n - 1]))
			s[--n] = '\0';
	}
	/* s/\)by /) by / */
	if ((t = strstr(s, ")by ")) != NULL) {
		char *u = g_strdup_printf("%.*s) by %s", (int)(t - s), s, t + 4);

		g_free(s);
		s = u;
	}
	/* Received.pm's last resort first, as it reads most lines: an
	 * address in brackets and a "by". */
	if (!rules_evalfn_match("^\\(?from ", G_REGEX_CASELESS, s) ||
	    (rules_evalfn_match("\\[" SA_IP "\\]", 0, s) &&
	    rules_evalfn_match(" by \\S+(?:[^-A-Za-z0-9;.]|$)", 0, s)) ||
	    rules_evalfn_match("\\bwith local for\\b", 0, s) ||
	    (rules_evalfn_match("^from \\S+ by [^\\s;]+ ?;",
	    G_REGEX_CASELESS, s) && !rules_evalfn_match("^from \\[[\\d.]+\\] "
	    "by ", G_REGEX_CASELESS, s)))
		goto out;
	/* the date at the end */
	t = g_regex_replace(rules_evalfn_re("[\\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|"
	    "Fri|S(?:at|un)), )?\\d+ (?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|"
	    "Sep|Oct|Nov|Dec) \\d+ \\d+:\\d+(?::\\d+)? \\S+$", 0), s, -1, 0,
	    "", 0, NULL);
	if (t != NULL) {
		g_free(s);
		s = t;
	}
	if (strncmp(s, "from ", 5) == 0) {
		if (any_form(sa_relay_forms, s + 5) ||
		    any_form(sa_skip_forms, s + 5))
			goto out;
	} else if (strncmp(s, "FROM ", 5) == 0) {
		if (rules_evalfn_match("^\\S+ \\(\\S+ \\[" SA_IP "\\]\\) BY \\S+ "
		    "(?:\\([^\\)]+\\) WITH SMTP )?ID <?\\S+?>?(?: FOR <[^>]+>)?$",
		    0, s + 5))
			goto out;
	} else if (strncmp(s, "(from ", 6) == 0) {
		if (rules_evalfn_match("^\\S+\\@localhost\\) by \\S+ |"
		    "^[^\\s\\@]+\\@[^)]+\\) by \\S+\\(jqueuemail\\) id [^\\s;]+|"
		    "^\\S* \\[" SA_IP "\\]\\) by \\S+ \\(NAVGW .*?\\) with ",
		    0, s + 6))
			goto out;
	}
	bad = true;
out:
	g_free(s);
	return bad;
}

/*
 * Does the form of a Received line (squeezed, from its "from ") say the
 * MTA looked the client's name up, so that an empty rDNS means it has
 * none (Received.pm's mta_looked_up_dns: Sendmail's and Postfix's
 * forms, not Exim's, qmail's or Microsoft's)?
 */
static bool
mta_looked_up_dns(const char *s)
{
	static const char *const looked[] = {
		"^\\S+ \\(\\S+ ?\\[" SA_IP "\\]\\).*? by \\S+",
		"^\\S+ \\(\\S+ \\[" SA_IP "\\].*\\) by \\S+ \\(",
		"^\\S+ \\(\\[" SA_IP "(?:[.:]\\d+)?\\]\\).*? by \\S+ ",
		"^\\S+ \\(\\S*\\@\\[" SA_IP "\\].*\\) by \\S+ \\(",
		"^\\S+ \\[" SA_IP "\\] by \\S+ \\[" SA_IP "\\] with ",
		/* qmail-like: the name first, "unknown" when none */
		"^(?i:unknown) \\((?:HELO|EHLO) [^\\)]*\\) \\((?:\\S*@)?\\[?"
		    SA_IP "\\]?\\).* by \\S+ ",
		"^(?i:unknown) \\((?:\\S*@)?\\[?" SA_IP "\\]?\\).* by \\S+ ",
		NULL
	};

	if (strstr(s, "helo=") != NULL || strstr(s, "Exim") != NULL ||
	    strstr(s, " SMTPSVC") != NULL || strstr(s, "softdnserr") != NULL ||
	    strstr(s, "(Lotus Domino ") != NULL || strstr(s, "[XMail ") !=
	    NULL || strstr(s, "(ecelerity") != NULL || strstr(s,
	    "(Scalix SMTP Relay") != NULL ||
	    rules_evalfn_match(" with (?:Microsoft SMTP Server|mapi id) ", 0,
	    s) || rules_evalfn_match("^\\S+(?: \\((?:HELO|EHLO) \\S*\\))? "
	    "\\((?:\\S+\\@)?\\[?" SA_IP "\\]?\\)(?: \\(envelope-sender "
	    "<\\S+>\\))? by \\S+(?: \\(.+\\))* with (?:.* )?(?:SMTP|QMQP)"
	    "(?! id )", 0, s))
		return false;
	return any_form(looked, s);
}

/* The envelope sender a Received line names, as Received.pm takes it
 * ("envelope-from <A>", "envelope-sender A", "return-path: A"): its
 * angle brackets dropped, and the characters it cannot hold in its
 * relay strings made '!'.  NULL without one; g_malloc'd. */
static char *
envfrom_of(const char *rest)
{
	char *e = grab("(?:return-path:? |envelope-(?:sender|from)[ =])"
	    "(\\S+)\\b", rest), *p;
	size_t n;

	if (e == NULL)
		return NULL;
	for (p = e; *p == ' ' || *p == '<'; p++)
		;
	memmove(e, p, strlen(p) + 1);
	n = strlen(e);
	while (n > 0 && (e[n - 1] == '>' || e[n - 1] == ' '))
		e[--n] = '\0';
	for (p = e; *p; p++)
		if (strchr(" \t#[]()<>|", *p) != NULL)
			*p = '!';
	return e;
}

/* Received.pm's last touch: the characters a relay string cannot hold
 * become '!' (a "NAME(JetMail" by, a "NAME([IP])" HELO). */
static void
mark_bad(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (strchr("#[]()<>|", *s) != NULL)
			*s = '!';
}

/* Whether a Received line is qmail's without "(HELO ...)", where the
 * name is both the HELO and the reverse DNS (qmail leaves out a HELO
 * equal to it, Received.pm bug 2744): "from NAME (IP) by ... with SMTP"
 * without an id, NAME ([IP]) there too, and from NAME (IP) or
 * (IDENT@IP), unbracketed, by any MTA but Microsoft's (whose forms come
 * first there, as Sendmail's with brackets do). */
static bool
qmail_same(const char *line)
{
	char *s = squeeze(line);
	const char *f = s + 5;
	bool yes;

	yes = rules_evalfn_match("^\\S+ \\((?:\\S+@)?\\[?" IPV4 "\\]?\\)"
	    "(?: \\(envelope-sender <\\S+>\\))? by \\S+(?: \\(.+\\))* with "
	    "(?:.* )?(?:SMTP|QMQP)(?! id )", 0, f) ||
	    (rules_evalfn_match("^\\S+ \\((?:\\S*@)?" IPV4 "\\).* by \\S+ ",
	    0, f) && !rules_evalfn_match(" with "
	    "(?:Microsoft SMTP Server|mapi id) (?:\\([^\\)]+\\) )?"
	    "\\d+\\.\\d+\\.\\d+\\.\\d+(?:$| )", 0, f) &&
	    strstr(f, " SMTPSVC") == NULL);
	g_free(s);
	return yes;
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
		/* Sendmail's "from [HELO-IP] (RDNS [IP])": the one inside
		 * the parentheses is the client. */
		if (from[0] == '[')
			r->ip = grab("^\\S+ \\([^()\\s]+ \\[(" IPV4 ")\\]",
			    from);
		if (r->ip == NULL)
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
		/* "from NAME(...)" or "from [IP] (...)": the whole word,
		 * marked (Received.pm's \S+: helo=!IP!). */
		if ((r->helo == NULL && from[0] == '[') || (r->helo != NULL &&
		    from[strlen(r->helo)] != ' ' &&
		    from[strlen(r->helo)] != '\0')) {
			g_free(r->helo);
			r->helo = grab("^(\\S+)", from);
			mark_bad(r->helo);
		}
		if (strchr(from, '(') != NULL)
			r->rdns = grab("\\((?:[^@()\\s]*@)?([^@()\\s\\[]+)"
			    "\\s+\\[", from);
		if (strchr(from, '@') != NULL)
			r->ident = grab("\\(([^@()\\s\\[]+)@[^()\\s]+\\s+\\[",
			    from);
		/* qmail without "(HELO ...)": the name is both. */
		if (r->rdns == NULL && r->helo != NULL && qmail_same(line))
			r->rdns = g_strdup(r->helo);
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

		r->by = grab(" by (\\S+)(?:[^-A-Za-z0-9;.]|$)", rest);
		if (r->by != NULL && r->by[0] != '\0' &&
		    r->by[strlen(r->by) - 1] == ';')
			r->by[strlen(r->by) - 1] = '\0';
		mark_bad(r->by);
		/* Received.pm wants an IP address and a "by". */
		ok = r->by != NULL;
		r->no_rdns = ok && r->rdns == NULL && strncmp(rest, "from ",
		    5) == 0 && mta_looked_up_dns(rest + 5);
		if (strstr(rest, " id ") != NULL)
			r->id = grab(" id ([^\\s;()]+)", rest);
		if (strcasestr(rest, "envelope-") != NULL ||
		    strcasestr(rest, "return-path") != NULL)
			r->envfrom = envfrom_of(rest);
		/* Received.pm: an authenticated SMTP or a webmail (HTTP)
		 * handover. */
		if (strcasestr(rest, "SMTPA") != NULL ||
		    strcasestr(rest, "SMTPSA") != NULL ||
		    strcasestr(rest, " with HTTP") != NULL)
			r->auth = grab(" with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|"
			    "HTTP[SU]?)(?: |;|$)", rest);
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
static _Thread_local struct relay_facts kept_facts;
/* The envelope sender of the last hop (Received.pm's lasthop), NULL if
 * none (kept_env_hop false: no relay at all). */
static _Thread_local char *kept_env;
static _Thread_local bool kept_env_hop;

void
rules_relays_forget(void)
{
	g_free(kept_t);
	g_free(kept_u);
	g_free(kept_env);
	kept_t = kept_u = kept_env = NULL;
	kept_env_hop = false;
	kept_in = NULL;
}

static void relays_parse(const struct rules_input *, char **, char **,
    struct relay_facts *, bool *, char **);

/* Parses in's Received headers unless they are kept already. */
static void
relays_keep(const struct rules_input *in)
{
	if (kept_in != in || kept_t == NULL) {
		rules_relays_forget();
		relays_parse(in, &kept_t, &kept_u, &kept_facts, &kept_env_hop,
		    &kept_env);
		kept_in = in;
	}
}

/* Both lists for in, from one pass over its Received headers;
 * g_malloc'd. */
void
relays_build(const struct rules_input *in, char **trusted_r,
    char **untrusted_r)
{
	if (rules_evalfn_set() == NULL) {
		struct relay_facts f;
		char *env;
		bool hop;

		relays_parse(in, trusted_r, untrusted_r, &f, &hop, &env);
		g_free(env);
		return;
	}
	relays_keep(in);
	*trusted_r = g_strdup(kept_t);
	*untrusted_r = g_strdup(kept_u);
}

void
relays_facts(const struct rules_input *in, struct relay_facts *f_r)
{
	if (rules_evalfn_set() == NULL) {
		char *t, *u, *env;
		bool hop;

		relays_parse(in, &t, &u, f_r, &hop, &env);
		g_free(t);
		g_free(u);
		g_free(env);
		return;
	}
	relays_keep(in);
	*f_r = kept_facts;
}

/* RelayEval's _check_received_helos: for an untrusted relay from a
 * public address, a HELO of a big mail provider's domain without the
 * reverse DNS its MTA looked for.  Each such relay sets the answer anew
 * (as there), so the oldest one decides. */
static void
dotcom_helo(const struct relay *r, struct relay_facts *f)
{
	if (ip_private(r->ip))
		return;
	f->no_rdns_dotcom_helo = r->no_rdns && r->helo != NULL &&
	    rules_evalfn_match("(?:\\.|^)(?:lycos\\.com|lycos\\.co\\.uk|"
	    "hotmail\\.com|localhost\\.com|excite\\.com|caramail\\.com|"
	    "cs\\.com|aol\\.com|msn\\.com|yahoo\\.com|drizzle\\.com)$",
	    G_REGEX_CASELESS, r->helo);
}

static void
relays_parse(const struct rules_input *in, char **trusted_r,
    char **untrusted_r, struct relay_facts *f, bool *hop_r, char **env_r)
{
	GString *trusted, *untrusted;
	bool in_trusted = true, any_trusted = false, any_untrusted = false;
	/* The oldest trusted relay's envelope sender, the newest untrusted
	 * one's. */
	char *env_t = NULL, *env_u = NULL;

	memset(f, 0, sizeof(*f));
	trusted = g_string_new(NULL);
	untrusted = g_string_new(NULL);
	for (size_t i = 0; i < in->nhdrs; i++) {
		struct relay r = { 0 };

		if (g_ascii_strcasecmp(in->hdrs[i].name, "Received") != 0)
			continue;
		/* A mail fetcher's handover (fetchmail, POP3, IMAP): inside
		 * the trusted part, the parse starts again after it. */
		if (fetcher_handover(in->hdrs[i].raw)) {
			if (in_trusted) {
				g_string_truncate(trusted, 0);
				any_trusted = false;
				g_clear_pointer(&env_t, g_free);
			}
			continue;
		}
		/* One SpamAssassin cannot read is no relay there either. */
		if (received_unparseable(in->hdrs[i].raw)) {
			f->unparseable++;
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
		if (!in_trusted)
			dotcom_helo(&r, f);
		relay_append(in_trusted ? trusted : untrusted, &r, in_trusted);
		if (in_trusted) {
			any_trusted = true;
			g_free(env_t);
			env_t = g_strdup(r.envfrom);
		} else if (!any_untrusted) {
			any_untrusted = true;
			env_u = g_strdup(r.envfrom);
		}
		relay_clear(&r);
	}
	*trusted_r = g_string_free(trusted, FALSE);
	*untrusted_r = g_string_free(untrusted, FALSE);
	/* PerMsgStatus's last hop: the last untrusted relay, else the first
	 * trusted one (the oldest). */
	*hop_r = any_untrusted || any_trusted;
	if (any_untrusted) {
		*env_r = env_u;
		g_free(env_t);
	} else {
		*env_r = env_t;
		g_free(env_u);
	}
}

/* Whether a name header comes after some Received header (PerMsgStatus's
 * get("ALL") =~ /^Received:.*?^NAME:/smi: relayed through a list that
 * may have changed the envelope). */
static bool
after_received(const struct rules_input *in, const char *name)
{
	bool rcvd = false;

	for (size_t i = 0; i < in->nhdrs; i++) {
		if (g_ascii_strcasecmp(in->hdrs[i].name, "Received") == 0)
			rcvd = true;
		else if (rcvd && g_ascii_strcasecmp(in->hdrs[i].name,
		    name) == 0)
			return true;
	}
	return false;
}

/* Whether the :addr answer a holds an address as SpamAssassin's parser
 * keeps one, something on either side of an "@" ("@ (Unverified)"
 * gives none there), or is the null sender "". */
static bool
addr_ok(const char *a)
{
	const char *at;

	if (a == NULL)
		return false;
	if (*a == '\0')
		return true;
	at = strchr(a, '@');
	return at != NULL && at > a && at[1] != '\0' && at[1] != '\n';
}

/*
 * EnvelopeFrom when no SMTP envelope is known (a message scanned
 * offline), as PerMsgStatus::get_envelope_from() guesses it without
 * envelope_sender_header: the last hop's envelope-from in Received,
 * else X-Envelope-From, Envelope-Sender or Return-Path (the first of
 * each) unless it comes after a Received header; none if X-Sender and
 * a fetchmail handover make them all doubtful.  NULL for none;
 * g_malloc'd.
 */
char *
relays_envelope_from(const struct rules_input *in)
{
	static const char *const hdrs[] = { "X-Envelope-From",
	    "Envelope-Sender", "Return-Path" };
	char *env = NULL, *xs;
	bool hop;

	if (rules_evalfn_set() == NULL) {
		char *t, *u;
		struct relay_facts f;

		relays_parse(in, &t, &u, &f, &hop, &env);
		g_free(t);
		g_free(u);
	} else {
		relays_keep(in);
		hop = kept_env_hop;
		env = g_strdup(kept_env);
	}
	if (hop && env != NULL && (env[0] == '\0' ||
	    (strchr(env, '@') != NULL && env[0] != '@')))
		return env;
	g_free(env);
	xs = rules_get(in, "X-Sender", HMOD_FIRST | HMOD_ADDR);
	if (addr_ok(xs)) {
		for (size_t i = 0; i < in->nhdrs; i++)
			if (g_ascii_strcasecmp(in->hdrs[i].name,
			    "Received") == 0 &&
			    strstr(in->hdrs[i].raw, "(fetchmail") != NULL) {
				g_free(xs);
				return NULL;
			}
	}
	g_free(xs);
	for (size_t i = 0; i < G_N_ELEMENTS(hdrs); i++) {
		if (!addr_ok(env = rules_get(in, hdrs[i], HMOD_FIRST |
		    HMOD_ADDR))) {
			g_free(env);
			continue;
		}
		if (!after_received(in, hdrs[i]))
			return env;
		g_free(env);
		/* X-Envelope-From after a Received: none at all. */
		if (i == 0)
			return NULL;
	}
	return NULL;
}
