/*
 * rules_eval_head.c - more of SpamAssassin's header eval: tests
 * (Mail::SpamAssassin::Plugin::HeaderEval) and the relay ones
 * (RelayEval) on vigil's relay list (rules_relay.c), each with the
 * meaning of its Perl original.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "lib/arena.h"
#include "url.h"

/* Charsets whose text reads as capitals (Constants.pm
 * CHARSETS_LIKELY_TO_FP_AS_CAPS). */
#define CAPS_CHARSETS "(?:(?:iso-?)?8859-5|(?:iso-?)?8859-7|koi8-r|" \
	"koi8-u|windows-1251|windows-1253|cp1251|cp1253|" \
	"(?:iso-?)?10646-1|unicode-1-1|utf-?(?:7|8|16|32)|ucs-?[24]|" \
	"big5|gb(?:k|2312|18030)|euc-(?:cn|jp|kr|tw)|iso-2022-(?:cn|jp|" \
	"kr)|shift_jis|windows-31j|ks_c_5601-1987)"

static char *
get(const struct rules_input *in, const char *hdr, unsigned hmod)
{
	char *v = rules_get(in, hdr, hmod);

	return v != NULL ? v : g_strdup("");
}

/* PerMsgStatus::get() of a plain header: its values joined, the last
 * line end chomped off as Perl code comparing with it sees it. */
static char *
get_chomp(const struct rules_input *in, const char *hdr, unsigned hmod)
{
	char *v = get(in, hdr, hmod);
	size_t n = strlen(v);

	if (n > 0 && v[n - 1] == '\n')
		v[n - 1] = '\0';
	return v;
}

/* subject_is_all_caps(): a Subject of two words or more, at least ten
 * characters, Re:/Fwd: aside, whose letters are all capitals. */
static double
subject_all_caps(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *s = get_chomp(in, "Subject", 0), *raw, *p;
	GRegex *re;
	char *t;
	GString *letters;
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "Subject";
	g_strstrip(s);
	re = rules_evalfn_re("^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):"
	    "\\s*)+", G_REGEX_CASELESS);
	t = g_regex_replace_literal(re, s, -1, 0, "", 0, NULL);
	if (strpbrk(t, " \t\n\r\f") == NULL || strlen(t) < 10)
		goto out;
	letters = g_string_new(NULL);
	for (p = t; *p != '\0'; p++)
		if (g_ascii_isalpha(*p))
			g_string_append_c(letters, *p);
	raw = get(in, "Subject", HMOD_RAW);
	if (!rules_evalfn_match("=\\?" CAPS_CHARSETS "\\?",
	    G_REGEX_CASELESS, raw)) {
		hit = letters->len > 0;
		for (size_t i = 0; i < letters->len && hit; i++)
			hit = !g_ascii_islower(letters->str[i]);
	}
	g_free(raw);
	g_string_free(letters, TRUE);
out:
	g_free(t);
	g_free(s);
	return hit;
}

/* Is s plain ASCII? */
static bool
ascii_only(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Can the Subject subj not hold the To text to, however cased?  Every
 * alternative of check_for_to_in_subject's patterns holds the text.
 * Known only when both are ASCII (Unicode case folding, as the regex's,
 * pairs a few other characters with ASCII letters). */
static bool
surely_absent(const char *subj, const char *to)
{
	size_t n = strlen(to), m = strlen(subj);

	if (!ascii_only(subj) || !ascii_only(to))
		return false;
	for (size_t i = 0; i + n <= m; i++)
		if (g_ascii_strncasecmp(subj + i, to, n) == 0)
			return false;
	return true;
}

/* check_for_to_in_subject('address'|'user'): the To address, or its
 * user part, in the Subject. */
static double
to_in_subject(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *to = get_chomp(in, "To", HMOD_ADDR), *subj, *q, *pat;
	bool hit = false;

	(void)nargs;
	*where_r = "Subject";
	if (to[0] == '\0') {
		g_free(to);
		return 0;
	}
	subj = get_chomp(in, "Subject", 0);
	if (strcmp(args[0], "address") == 0) {
		if (surely_absent(subj, to)) {
			g_free(subj);
			g_free(to);
			return 0;
		}
		q = g_regex_escape_string(to, -1);
		pat = g_strdup_printf("\\b%s\\b", q);
		hit = g_regex_match_simple(pat, subj, G_REGEX_CASELESS, 0);
	} else {
		char *at = strchr(to, '@');

		if (at != NULL)
			*at = '\0';
		if (surely_absent(subj, to)) {
			g_free(subj);
			g_free(to);
			return 0;
		}
		q = g_regex_escape_string(to, -1);
		pat = g_strdup_printf("^(?:(?:re|fw):\\s*(?:\\w+\\s+)?%s$|"
		    "(?-i:%s)\\s*[,:;!?-](?:$|\\s)|%s$|,\\s*%s[,:;!?-]$)", q, q,
		    q, q);
		hit = g_regex_match_simple(pat, subj, G_REGEX_CASELESS, 0);
	}
	g_free(q);
	g_free(pat);
	g_free(subj);
	g_free(to);
	return hit;
}

static const char *
to_in_subject_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	return strcmp(args[0], "address") == 0 || strcmp(args[0], "user") ==
	    0 ? NULL : "the test is neither 'address' nor 'user'";
}

/* HeaderEval's _check_recipients: the To/Cc (then Bcc) addresses, runs
 * of equal ones (case aside) once; sorted: 7 or more in order; similar:
 * the share of pairs with the same first two characters of user or of
 * another host. */
static void
recipients(const struct rules_input *in, bool *sorted_r,
    double *similar_r)
{
	static const char *const src[] = { "ToCc", "Bcc" };
	GPtrArray *inputs = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *addr = g_ptr_array_new();
	const char *prev = "";

	for (size_t k = 0; k < G_N_ELEMENTS(src); k++) {
		char *v = rules_get(in, src[k], HMOD_ADDR);

		if (v != NULL) {
			char **l = g_strsplit(v, "\n", -1);

			for (char **p = l; *p != NULL; p++)
				if (**p != '\0')
					g_ptr_array_add(inputs, g_strdup(*p));
			g_strfreev(l);
		}
		g_free(v);
		if (inputs->len >= 5)
			break;
	}
	for (guint i = 0; i < inputs->len && addr->len < 256; i++) {
		const char *cur = inputs->pdata[i];

		if (g_ascii_strcasecmp(cur, prev) != 0)
			g_ptr_array_add(addr, (gpointer)(prev = cur));
	}
	*sorted_r = false;
	if (addr->len >= 7) {
		*sorted_r = true;
		for (guint i = 1; i < addr->len && *sorted_r; i++)
			*sorted_r = strcmp(addr->pdata[i - 1], addr->pdata[i])
			    <= 0;
	}
	*similar_r = 0;
	if (addr->len >= 5) {
		double hits = 0, comb = 0;

		for (guint i = 0; i < addr->len; i++)
			for (guint j = i + 1; j < addr->len; j++) {
				const char *a = addr->pdata[i], *b =
				    addr->pdata[j];
				const char *ha = strchr(a, '@'), *hb =
				    strchr(b, '@');

				if (strncmp(a, b, 2) == 0 && (strlen(a) >= 2 ||
				    strlen(a) == strlen(b)))
					hits++;
				ha = ha != NULL ? ha + 1 : "";
				hb = hb != NULL ? hb + 1 : "";
				if (strncmp(ha, hb, 2) == 0 && (strlen(ha) >=
				    2 || strlen(ha) == strlen(hb)) &&
				    strcmp(ha, hb) != 0)
					hits++;
				comb++;
			}
		*similar_r = comb > 0 ? hits / comb : 0;
	}
	g_ptr_array_free(addr, TRUE);
	g_ptr_array_free(inputs, TRUE);
}

static double
sorted_recipients(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	bool sorted;
	double similar;

	(void)args;
	(void)nargs;
	*where_r = "To";
	recipients(in, &sorted, &similar);
	return sorted;
}

/* similar_recipients(min, max): in [min, max) ('undef': open). */
static double
similar_recipients(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	bool sorted;
	double similar;

	(void)nargs;
	*where_r = "To";
	recipients(in, &sorted, &similar);
	return (strcmp(args[0], "undef") == 0 || similar >=
	    g_ascii_strtod(args[0], NULL)) && (strcmp(args[1], "undef") == 0 ||
	    similar < g_ascii_strtod(args[1], NULL));
}

/* check_for_matching_env_and_hdr_from(): the envelope sender is the
 * From address (case aside). */
static double
env_and_hdr_from(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *a = get_chomp(in, "EnvelopeFrom", HMOD_ADDR);
	char *b = get_chomp(in, "From", HMOD_ADDR);
	bool eq;

	/* get() in scalar context: the first address alone. */
	a[strcspn(a, "\n")] = '\0';
	b[strcspn(b, "\n")] = '\0';
	eq = g_ascii_strcasecmp(a, b) == 0;

	(void)args;
	(void)nargs;
	*where_r = "From";
	g_free(a);
	g_free(b);
	return eq;
}

/* check_for_forged_gmail_received_headers(): From gmail.com, without
 * the marks Google's own relays leave. */
static double
forged_gmail(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *from = get_chomp(in, "From", HMOD_ADDR), *xgms, *xss, *xr, *r;
	bool hit = true;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	if (!rules_evalfn_match("\\bgmail\\.com$", G_REGEX_CASELESS, from)) {
		g_free(from);
		return 0;
	}
	xgms = get_chomp(in, "X-Gm-Message-State", 0);
	xss = get_chomp(in, "X-Google-Smtp-Source", 0);
	xr = get_chomp(in, "X-Received", 0);
	r = get_chomp(in, "Received", 0);
	if (rules_evalfn_match("by 10\\.\\S+ with SMTP id \\S+", 0, xr) ||
	    rules_evalfn_match("by 2002\\:a\\d\\d\\:\\w+\\:\\S+ with SMTP "
	    "id \\S+", 0, xr) ||
	    rules_evalfn_match("by smtp\\.googlemail\\.com with ESMTPSA id "
	    "\\S+", 0, r) ||
	    (strlen(xgms) >= 60 && strlen(xss) >= 60))
		hit = false;
	g_free(from);
	g_free(xgms);
	g_free(xss);
	g_free(xr);
	g_free(r);
	return hit;
}

/* The relay lists (rules_relay.c), built once a message per thread and
 * dropped by rules_eval_head_reset(). */
static _Thread_local const struct rules_input *relay_in;
static _Thread_local char *relay_t, *relay_u;

/* forged_hotmail()'s answer for the message being evaluated (two rules
 * ask), dropped with the relays. */
static _Thread_local const struct rules_input *hotmail_in;
static _Thread_local int hotmail_res;

void
rules_eval_head_reset(void)
{
	g_free(relay_t);
	g_free(relay_u);
	relay_t = relay_u = NULL;
	relay_in = NULL;
	hotmail_in = NULL;
}

static void
relays(const struct rules_input *in, const char **t_r, const char **u_r)
{
	if (relay_in != in || relay_t == NULL) {
		rules_eval_head_reset();
		relays_build(in, &relay_t, &relay_u);
		relay_in = in;
	}
	*t_r = relay_t;
	*u_r = relay_u;
}

/* --- forged Received headers of the big free mail providers */

/* Constants.pm's $IP_ADDRESS, near enough: IPv4 or an IPv6 form. */
#define IP_RE "(?:(?:\\d{1,3}\\.){3}\\d{1,3}|(?:IPv6:)?[0-9a-fA-F]{0,4}" \
	"(?::[0-9a-fA-F]{0,4}){2,7})"

static bool
m(const char *re, const char *s)
{
	return rules_evalfn_match(re, 0, s);
}

/* get('Received'), each blank run one space. */
static char *
received_flat(const struct rules_input *in, const char *hdr)
{
	char *r = get(in, hdr, 0), *w = r;
	bool sp = false;

	for (const char *p = r; *p != '\0'; p++) {
		if (g_ascii_isspace(*p)) {
			if (!sp)
				*w++ = ' ';
			sp = true;
		} else {
			*w++ = *p;
			sp = false;
		}
	}
	*w = '\0';
	return r;
}

/* gated_through_received_hdr_remover(): an ezmlm list or MSN Groups,
 * which drop Received headers, or none at all. */
static bool
gated(const struct rules_input *in)
{
	char *txt = rules_get(in, "Mailing-List", 0), *rcvd;
	bool yes = false;

	if (txt != NULL && rules_evalfn_match("^contact \\S+\\@\\S+\\; run "
	    "by ezmlm$", G_REGEX_MULTILINE, txt)) {
		char *dlto = get(in, "Delivered-To", 0);
		char *r = get(in, "Received", 0);

		yes = rules_evalfn_match("^mailing list \\S+\\@\\S+",
		    G_REGEX_MULTILINE, dlto) && m("qmail \\d+ invoked (?:from "
		    "network|by .{3,20})\\); \\d+ ... \\d+", r);
		g_free(dlto);
		g_free(r);
	}
	g_free(txt);
	if (yes)
		return true;
	if ((rcvd = rules_get(in, "Received", 0)) == NULL)
		return true;
	yes = m("from groups\\.msn\\.com \\(\\S+\\.msn\\.com ", rcvd);
	g_free(rcvd);
	return yes;
}

static double
gated_fn(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "Received";
	return gated(in);
}

/* check_for_fake_aol_relay_in_rcvd(): an AOL relay name (rly-xx99.)
 * without AOL's own marks. */
static double
fake_aol(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *r = received_flat(in, "Received");
	bool hit = rules_evalfn_match(" rly-[a-z][a-z]\\d\\d\\.",
	    G_REGEX_CASELESS, r) && !m("\\/AOL-\\d+\\.\\d+\\.\\d+\\)", r) &&
	    !m("ESMTP id (?:RELAY|MAILRELAY|MAILIN)", r);

	(void)args;
	(void)nargs;
	*where_r = "Received";
	g_free(r);
	return hit;
}

static bool
from_at(const struct rules_input *in, const char *re)
{
	char *from = get_chomp(in, "From", HMOD_ADDR);
	bool yes = rules_evalfn_match(re, G_REGEX_CASELESS, from);

	g_free(from);
	return yes;
}

/* msn groups: check_for_msn_groups_headers. */
static bool
msn_groups(const struct rules_input *in, const char *rcvd)
{
	char *to = get(in, "To", 0), *list = NULL, *server = NULL, *mid;
	GMatchInfo *mi = NULL;
	bool yes = false;
	GRegex *re = rules_evalfn_re("<(\\S+)\\@groups\\.msn\\.com>",
	    G_REGEX_CASELESS);

	if (g_regex_match(re, to, 0, &mi))
		list = g_match_info_fetch(mi, 1);
	g_match_info_free(mi);
	mi = NULL;
	re = rules_evalfn_re("from mail pickup service by ((?:p\\d\\d\\.)"
	    "groups\\.msn\\.com)\\b", 0);
	if (list != NULL && g_regex_match(re, rcvd, 0, &mi))
		server = g_match_info_fetch(mi, 1);
	g_match_info_free(mi);
	if (server != NULL) {
		char *q = g_regex_escape_string(strcmp(list, "notifications") ==
		    0 ? server : list, -1), *pat;

		mid = get(in, "Message-Id", 0);
		if (strcmp(list, "notifications") == 0) {
			pat = g_strdup_printf("^<\\S+\\@%s>", q);
			yes = g_regex_match_simple(pat, mid, G_REGEX_RAW, 0);
		} else {
			char *env = get(in, "EnvelopeFrom", HMOD_ADDR), *p2;

			pat = g_strdup_printf("^<%s-\\S+\\@groups\\.msn\\.com>",
			    q);
			p2 = g_strdup_printf("%s-bounce\\@groups\\.msn\\.com", q);
			yes = g_regex_match_simple(pat, mid, G_REGEX_RAW, 0) &&
			    g_regex_match_simple(p2, env, G_REGEX_RAW, 0);
			g_free(p2);
			g_free(env);
		}
		g_free(pat);
		g_free(q);
		g_free(mid);
	}
	g_free(server);
	g_free(list);
	g_free(to);
	return yes;
}

/* HeaderEval's _check_for_forged_hotmail_received_headers: 1 for a
 * Received naming hotmail.com that Hotmail did not write, 2 for a
 * hotmail.com From without any, 0 otherwise. */
static int
forged_hotmail(const struct rules_input *in)
{
	char *rcvd = received_flat(in, "Received"), *ipv, *origv;
	bool ip, orig;
	int res = 0;

	if (m("from mail pickup service by hotmail\\.com with Microsoft "
	    "SMTPSVC;", rcvd) || msn_groups(in, rcvd) || gated(in))
		goto out;
	ipv = rules_get(in, "X-Originating-Ip", 0);
	origv = rules_get(in, "X-OriginatorOrg", 0);
	ip = ipv != NULL && m(IP_RE, ipv);
	orig = origv != NULL && m("hotmail\\.com|msonline\\-outlook", origv);
	g_free(ipv);
	g_free(origv);
	if ((ip && m("from (?:\\S*\\.)?hotmail.com \\(\\S+\\.hotmail(?:\\."
	    "msn)?\\.com[ \\)]", rcvd)) ||
	    (orig && m("from \\S*\\.outbound\\.protection\\.outlook\\.com "
	    "\\(\\S+\\.outbound\\.protection\\.outlook\\.com[ \\)]", rcvd)) ||
	    (orig && m("from \\S*\\.(?:eur|nam)prd\\d+\\.prod\\.outlook\\.com "
	    "\\(" IP_RE "\\)", rcvd)) ||
	    (ip && m("from \\S*\\.hotmail.com \\(\\[" IP_RE "\\][ \\):]",
	    rcvd)) ||
	    (ip && m("from \\S+ by \\S+\\.hotmail(?:\\.msn)?\\.com with HTTP"
	    "\\;", rcvd)) ||
	    (ip && m("from \\[66\\.218.\\S+\\] by \\S+\\.yahoo\\.com", rcvd)))
		goto out;
	if (m("(?:from |HELO |helo=)\\S*hotmail\\.com\\b", rcvd))
		res = 1;
	else if (from_at(in, "\\bhotmail\\.com$"))
		res = 2;
out:
	g_free(rcvd);
	return res;
}

/* forged_hotmail(), worked out once a message. */
static int
forged_hotmail_once(const struct rules_input *in)
{
	if (hotmail_in != in) {
		hotmail_res = forged_hotmail(in);
		hotmail_in = in;
	}
	return hotmail_res;
}

static double
forged_hotmail_rcvd(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "Received";
	return forged_hotmail_once(in) == 1;
}

static double
no_hotmail_rcvd(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "Received";
	return forged_hotmail_once(in) == 2;
}

/* check_for_forged_eudoramail_received_headers() */
static double
forged_eudoramail(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *rcvd, *ipv;
	bool hit;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	if (!from_at(in, "\\beudoramail\\.com$"))
		return 0;
	rcvd = received_flat(in, "Received");
	ipv = rules_get(in, "X-Sender-Ip", 0);
	hit = !gated(in) && !(m("by \\S*whowhere.com\\;", rcvd) && ipv !=
	    NULL && m(IP_RE, ipv));
	g_free(ipv);
	g_free(rcvd);
	return hit;
}

/* check_for_forged_yahoo_received_headers(): From yahoo.com without a
 * relay or Received line of Yahoo's. */
static double
forged_yahoo(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *rcvd, *rf, *rt;
	const char *t, *u;
	bool hit = true;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	if (!from_at(in, "\\byahoo\\.com$"))
		return 0;
	rf = get_chomp(in, "Resent-From", 0);
	rt = get_chomp(in, "Resent-To", 0);
	rcvd = NULL;
	if (rf[0] != '\0' && rt[0] != '\0') {
		rcvd = received_flat(in, "X-Received");
		if (rcvd[0] == '\0') {
			g_free(rcvd);
			rcvd = NULL;
		}
	}
	if (rcvd == NULL)
		rcvd = received_flat(in, "Received");
	g_free(rf);
	g_free(rt);
	relays(in, &t, &u);
	if (gated(in) || m(" rdns=\\S+\\.yahoo\\.com ", t) ||
	    m("^[^\\]]+ rdns=\\S+\\.yahoo\\.com ", u) ||
	    m("by web\\S+\\.mail\\S*\\.yahoo\\.com via HTTP", rcvd) ||
	    m("by sonic\\S+\\.consmr\\.mail\\S*\\.yahoo\\.com with HTTP",
	    rcvd) || m("by smtp\\S+\\.yahoo\\.com with SMTP", rcvd) ||
	    m("from \\[" IP_RE "\\] by \\S+\\.(?:groups|scd|dcn)\\.yahoo\\.com "
	    "with NNFMP", rcvd) ||
	    (m("\\bmailer\\d+\\.bulk\\.scd\\.yahoo\\.com\\b", rcvd) &&
	    from_at(in, "\\@reply\\.yahoo\\.com$")) ||
	    m("by \\w+\\.\\w+\\.yahoo\\.com \\(\\d+\\.\\d+\\.\\d+\\/\\d+\\.\\d+"
	    "\\.\\d+\\)(?: with ESMTP)? id \\w+", rcvd))
		hit = false;
	g_free(rcvd);
	return hit;
}

/* check_for_forged_juno_received_headers() */
static double
forged_juno(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *xorig, *xmailer, *rcvd;
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	if (!from_at(in, "\\bjuno\\.com$") || gated(in))
		return 0;
	xorig = get_chomp(in, "X-Originating-IP", 0);
	xmailer = get_chomp(in, "X-Mailer", 0);
	rcvd = get(in, "Received", 0);
	if (xorig[0] != '\0') {
		if ((!m("from.*\\b(?:juno|untd)\\.com.*[\\[\\(]" IP_RE
		    "[\\]\\)].*by", rcvd) && !m(" cookie\\.(?:juno|untd)\\.com ",
		    rcvd)) || strstr(xmailer, "Juno ") == NULL)
			hit = true;
	} else {
		if (m("from.*\\bmail\\.com.*\\[" IP_RE "\\].*by", rcvd)) {
			if (!m("\\bmail\\.com", xmailer))
				hit = true;
		} else if (m("from (webmail\\S+\\.untd\\.com) \\(\\1 \\[" IP_RE
		    "\\]\\) by", rcvd)) {
			if (!m("^Webmail Version \\d", xmailer))
				hit = true;
		} else
			hit = true;
		if (!m(IP_RE, xorig))
			hit = true;
	}
	g_free(xorig);
	g_free(xmailer);
	g_free(rcvd);
	return hit;
}

/* An IPv4 address in a private, loopback, link-local or shared range
 * (Constants.pm IS_IP_PRIVATE, IPv4 part). */
static bool
ip4_private(const char *ip)
{
	return m("^(?:10|127|0)\\.|^192\\.168\\.|^169\\.254\\.|"
	    "^172\\.(?:1[6-9]|2\\d|3[01])\\.|^100\\.(?:6[4-9]|[7-9]\\d|"
	    "1[01]\\d|12[0-7])\\.", ip);
}

/* helo_ip_mismatch(): an untrusted relay that said HELO with a public
 * IPv4 address outside the /24 of the public IPv4 address it came from. */
static double
helo_ip_mismatch(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	static GRegex *re;
	const char *t, *u;
	GMatchInfo *mi = NULL;
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	if (g_once_init_enter(&re))
		g_once_init_leave(&re, g_regex_new("\\[ ip=(\\S*) rdns=\\S* "
		    "helo=(\\S*) ", G_REGEX_RAW, 0, NULL));
	relays(in, &t, &u);
	g_regex_match(re, u, 0, &mi);
	while (g_match_info_matches(mi) && !hit) {
		char *ip = g_match_info_fetch(mi, 1);
		char *helo = g_match_info_fetch(mi, 2);
		/* Constants.pm's IS_IPV4_ADDRESS: no octet over 255 nor
		 * with a leading zero. */
		const char *v4 = "^(?:(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
		    "\\.){3}(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)$";

		if (m(v4, helo) && !ip4_private(helo) && m(v4, ip) &&
		    !ip4_private(ip) && strcmp(helo, ip) != 0) {
			/* the first three octets, dot included */
			const char *d = helo;

			for (int k = 0; k < 3; k++)
				d = strchr(d, '.') + 1;
			hit = strncmp(ip, helo, (size_t)(d - helo)) != 0;
		}
		g_free(ip);
		g_free(helo);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	return hit;
}

/* --- relays (RelayEval), counted in rules_relay.c's lists; the
 * Received lines SpamAssassin cannot read are counted apart
 * (relays_facts) and are no relay. */

static size_t
count_relays(const char *list)
{
	size_t n = 0;

	for (const char *p = list; (p = strstr(p, "[ ip=")) != NULL; p++)
		n++;
	return n;
}

static void
relay_counts(const struct rules_input *in, size_t *trusted_r,
    size_t *untrusted_r)
{
	const char *t, *u;

	relays(in, &t, &u);
	*trusted_r = count_relays(t);
	*untrusted_r = count_relays(u);
}

/* check_all_trusted(): every relay trusted, there is one, and no
 * Received line went unread. */
static double
all_trusted(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct relay_facts f;
	size_t t, u;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	relay_counts(in, &t, &u);
	relays_facts(in, &f);
	return t > 0 && u == 0 && f.unparseable == 0;
}

/* check_no_relays(): no relay read from the Received headers, and none
 * that could not be read. */
static double
no_relays(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct relay_facts f;
	size_t t, u;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	relay_counts(in, &t, &u);
	relays_facts(in, &f);
	return t == 0 && u == 0 && f.unparseable == 0;
}

/* check_relays_unparseable(): a Received line SpamAssassin's parser
 * cannot read (a "from" handover with no address and "by" it knows). */
static double
relays_unparseable(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct relay_facts f;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	relays_facts(in, &f);
	return f.unparseable > 0;
}

/* check_for_no_rdns_dotcom_helo(): the oldest untrusted relay from a
 * public address said HELO as a big provider (aol.com, hotmail.com,
 * yahoo.com, ...) and its MTA found no reverse DNS for it. */
static double
no_rdns_dotcom_helo(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct relay_facts f;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	relays_facts(in, &f);
	return f.no_rdns_dotcom_helo;
}

/* RelayEval's hostname_to_domain: an IP address as it is, else the
 * last two labels (three when the last is a short one other than ie,
 * fr, de); g_malloc'd. */
static char *
hostname_to_domain(const char *h)
{
	char **parts;
	guint n;
	char *out;

	if (!m("[a-zA-Z]", h))
		return g_strdup(h);
	parts = g_strsplit(h, ".", -1);
	n = g_strv_length(parts);
	/* Perl's split drops the empty fields at the end */
	while (n > 0 && parts[n - 1][0] == '\0') {
		g_free(parts[n - 1]);
		parts[--n] = NULL;
	}
	if (n > 1 && m("(?:\\S{3,}|ie|fr|de)", parts[n - 1]))
		out = g_strjoin(".", parts[n - 2], parts[n - 1], NULL);
	else if (n > 2)
		out = g_strjoin(".", parts[n - 3], parts[n - 2], parts[n - 1],
		    NULL);
	else
		out = g_strdup(h);
	g_strfreev(parts);
	return out;
}

/* check_for_forged_received_trail(): more than one untrusted relay whose
 * "by" domain is not the domain of the host the next older relay says
 * it came from (RelayEval's _check_for_forged_received, mismatch_from). */
static double
forged_received_trail(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	static const char *const dom_re = "^\\w+(?:[\\w.-]+\\.)+\\w+$";
	GRegex *re = rules_evalfn_re("\\[ ip=(\\S*) rdns=(\\S*) helo=\\S* "
	    "by=(\\S*) ", 0);
	GPtrArray *from = g_ptr_array_new_with_free_func(g_free);
	GMatchInfo *mi = NULL;
	const char *t, *u;
	int mismatch = 0;

	(void)args;
	(void)nargs;
	*where_r = "Received";
	relays(in, &t, &u);
	g_regex_match(re, u, 0, &mi);
	for (guint i = 0; g_match_info_matches(mi); i++) {
		char *ip = g_match_info_fetch(mi, 1);
		char *r0 = g_match_info_fetch(mi, 2), *rdns =
		    g_ascii_strdown(r0, -1);
		char *by = g_match_info_fetch(mi, 3), *lby =
		    g_ascii_strdown(by, -1), *bd = hostname_to_domain(lby);
		char *fd = hostname_to_domain(rdns);

		g_ptr_array_add(from, fd);
		if (m(dom_re, bd)) {
			const char *prev;

			if (m("^localhost(?:\\.localdomain)?$", fd) &&
			    strcmp(ip, "127.0.0.1") == 0) {
				g_free(fd);
				from->pdata[i] = NULL;
			}
			prev = i > 0 ? from->pdata[i - 1] : NULL;
			if (prev != NULL && m(dom_re, prev) &&
			    strcmp(bd, prev) != 0 && !(strcmp(bd,
			    "msn.com") == 0 && strcmp(prev, "hotmail.com") ==
			    0))
				mismatch++;
		}
		g_free(ip);
		g_free(r0);
		g_free(rdns);
		g_free(by);
		g_free(lby);
		g_free(bd);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	g_ptr_array_free(from, TRUE);
	return mismatch > 1;
}

/* check_for_faraway_charset_in_headers(): an RFC 2047 charset of From
 * or Subject outside the ok_locales (never under "all", the default). */
static double
faraway_charset_headers(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	static const char *const hdrs[] = { "From", "Subject" };
	GRegex *re = rules_evalfn_re("=\\?(.+?)\\?.\\?.*?\\?=", 0);

	(void)args;
	(void)nargs;
	*where_r = "From";
	if (rules_locales_all() || re == NULL)
		return 0;
	for (size_t h = 0; h < G_N_ELEMENTS(hdrs); h++) {
		char *v = rules_get(in, hdrs[h], HMOD_RAW);
		GMatchInfo *mi = NULL;
		bool bad = false;

		if (v == NULL)
			continue;
		g_regex_match(re, v, 0, &mi);
		while (!bad && g_match_info_matches(mi)) {
			char *cs = g_match_info_fetch(mi, 1);

			bad = !rules_charset_ok(cs);
			g_free(cs);
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
		g_free(v);
		if (bad) {
			*where_r = hdrs[h];
			return 1;
		}
	}
	return 0;
}

/* check_ratware_envelope_from(): the envelope sender reads
 * DOMAIN.USER@ of the To address, DOMAIN its registrable domain with a
 * known top-level domain (SRS addresses aside). */
static double
ratware_envelope_from(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	char *to = get_chomp(in, "To", HMOD_ADDR);
	char *from = get_chomp(in, "EnvelopeFrom", HMOD_ADDR);
	const char *at = strchr(to, '@');
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "EnvelopeFrom";
	if (to[0] != '\0' && from[0] != '\0' && at != NULL && at > to &&
	    at[1] != '\0' && strchr(at + 1, '@') == NULL &&
	    !rules_evalfn_match("^SRS\\d[=+-]", G_REGEX_CASELESS, from)) {
		struct arena *a = arena_new("ratware");
		char *host = g_ascii_strdown(at + 1, -1);
		const char *dom = url_domain(a, host);
		const char *tld = dom != NULL ? strrchr(dom, '.') : NULL;

		if (tld != NULL && url_is_tld(tld + 1)) {
			char *user = g_strndup(to, (size_t)(at - to));
			char *qd = g_regex_escape_string(dom, -1);
			char *qu = g_regex_escape_string(user, -1);
			char *re = g_strdup_printf("\\b%s.%s@", qd, qu);
			GRegex *r = g_regex_new(re, G_REGEX_RAW |
			    G_REGEX_CASELESS, 0, NULL);

			hit = r != NULL && g_regex_match(r, from, 0, NULL);
			if (r != NULL)
				g_regex_unref(r);
			g_free(re);
			g_free(qu);
			g_free(qd);
			g_free(user);
		}
		g_free(host);
		arena_free(&a);
	}
	g_free(to);
	g_free(from);
	return hit;
}

const struct rules_evalfn rules_evalfn_head[] = {
	{ "subject_is_all_caps", 0, 0, subject_all_caps, NULL },
	{ "check_for_to_in_subject", 1, 1, to_in_subject,
	  to_in_subject_check },
	{ "sorted_recipients", 0, 0, sorted_recipients, NULL },
	{ "similar_recipients", 2, 2, similar_recipients, NULL },
	{ "check_for_matching_env_and_hdr_from", 0, 0, env_and_hdr_from,
	  NULL },
	{ "check_for_forged_gmail_received_headers", 0, 0, forged_gmail,
	  NULL },
	{ "gated_through_received_hdr_remover", 0, 0, gated_fn, NULL },
	{ "check_for_fake_aol_relay_in_rcvd", 0, 0, fake_aol, NULL },
	{ "check_for_forged_hotmail_received_headers", 0, 0,
	  forged_hotmail_rcvd, NULL },
	{ "check_for_no_hotmail_received_headers", 0, 0, no_hotmail_rcvd,
	  NULL },
	{ "check_for_forged_eudoramail_received_headers", 0, 0,
	  forged_eudoramail, NULL },
	{ "check_for_forged_yahoo_received_headers", 0, 0, forged_yahoo,
	  NULL },
	{ "check_for_forged_juno_received_headers", 0, 0, forged_juno, NULL },
	{ "check_all_trusted", 0, 0, all_trusted, NULL },
	{ "helo_ip_mismatch", 0, 0, helo_ip_mismatch, NULL },
	{ "check_no_relays", 0, 0, no_relays, NULL },
	{ "check_relays_unparseable", 0, 0, relays_unparseable, NULL },
	{ "check_for_no_rdns_dotcom_helo", 0, 0, no_rdns_dotcom_helo, NULL },
	{ "check_for_forged_received_trail", 0, 0, forged_received_trail,
	  NULL },
	{ "check_for_faraway_charset_in_headers", 0, 0,
	  faraway_charset_headers, NULL },
	{ "check_ratware_envelope_from", 0, 0, ratware_envelope_from, NULL },
	{ NULL, 0, 0, NULL, NULL }
};
