/*
 * rules_eval_freemail.c - SpamAssassin's FreeMail plugin: is an address
 * at a free mail provider, by the freemail_domains lists of the rule
 * files (20_freemail_domains.cf; rules_parse.c keeps them sorted in
 * carrier rules, rules_int.h), with freemail_welcomelist and the
 * plugin's built-in exemptions (abuse@, postmaster@, ...).
 * check_freemail_from, check_freemail_header and check_freemail_replyto
 * follow FreeMail.pm with its defaults (freemail_max_body_emails 5,
 * freemail_max_body_freemails 3, freemail_skip_when_over_max 1,
 * freemail_skip_bulk_envfrom 1; the welcomelist_auth imports off).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

#define MAX_BODY_EMAILS		5
#define MAX_BODY_FREEMAILS	3

/* FreeMail.pm's $email_welcomelist and $skip_replyto_envfrom. */
static const char email_welcome_re[] =
	"^(?:abuse|support|sales|info|helpdesk|contact|kontakt"
	"|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}"
	"|bounced?-|[a-f0-9]{8}(?:\\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-"
	"[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)\\@";
static const char skip_envfrom_re[] =
	"(?:^(?:post|host|domain)master|^double-bounce"
	"|^(?:sentto|owner|return|(?:gr)?bounced?)-.+"
	"|-(?:request|bounces?|admin|owner)"
	"|\\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)\\@";
/* Its email_regex; valid TLDs as letters (the TLD list is the
 * registry's). */
static const char email_re[] =
	"(?=.{0,64}\\@)(?<![a-z0-9!#\\$%&'*+\\/=?^_`{|}~-])"
	"([a-z0-9!#\\$%&'*+\\/=?^_`{|}~-]+(?:\\.[a-z0-9!#\\$%&'*+\\/=?^_`{|}~-]+)*"
	"\\@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\\.){1,4}"
	"(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59}))(?![a-z0-9-]|\\.[a-z0-9])";

static GRegex *
re_once(GRegex **slot, const char *re)
{
	if (g_once_init_enter(slot))
		g_once_init_leave(slot, g_regex_new(re, G_REGEX_CASELESS |
		    G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, NULL));
	return *slot;
}

/* The sorted words of a carrier rule, or NULL. */
static char **
carrier_list(const char *name)
{
	const struct rules_set *set = rules_evalfn_set();
	struct rule *r = set != NULL ? rules_find(set, name) : NULL;

	return r != NULL ? r->eval_args : NULL;
}

static bool
in_sorted(char **list, const char *w)
{
	size_t lo = 0, hi = 0;

	if (list == NULL)
		return false;
	while (list[hi] != NULL)
		hi++;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(list[mid], w);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A wildcard entry: '*' any run of characters but '.', '?' one. */
static bool
glob_match(const char *g, const char *s)
{
	if (*g == '\0')
		return *s == '\0';
	if (*g == '*') {
		for (;;) {
			if (glob_match(g + 1, s))
				return true;
			if (*s == '\0' || *s == '.')
				return false;
			s++;
		}
	}
	if (*s == '\0')
		return false;
	return (*g == '?' || *g == *s) && glob_match(g + 1, s + 1);
}

/* FreeMail.pm's _is_freemail, on a lower-case address. */
static bool
is_freemail(const char *email)
{
	static GRegex *welcome;
	char **doms = carrier_list(RULES_FREEMAIL_DOMAINS);
	char **wild = carrier_list(RULES_FREEMAIL_WILD);
	char **wl = carrier_list(RULES_FREEMAIL_WELCOME);
	const char *at = strrchr(email, '@');
	const char *dom = at != NULL ? at + 1 : email;

	if (email[0] == '\0' || (doms == NULL && wild == NULL))
		return false;
	if (in_sorted(wl, email) || in_sorted(wl, dom) ||
	    g_regex_match(re_once(&welcome, email_welcome_re), email, 0, NULL))
		return false;
	if (at == NULL)
		return false;
	if (in_sorted(doms, dom))
		return true;
	for (char **d = wild; d != NULL && *d != NULL; d++)
		if (glob_match(*d, dom))
			return true;
	return false;
}

/* An optional regex argument: /re/flags or a bare pattern (Util.pm's
 * compile_regexp): the pattern (g_malloc'd) and its flags. */
static char *
arg_pattern(const char *a, unsigned *flags_r)
{
	size_t n = strlen(a);

	*flags_r = 0;
	if (n >= 2 && a[0] == '/' && strrchr(a, '/') > a) {
		const char *end = strrchr(a, '/');

		for (const char *q = end + 1; *q != '\0'; q++)
			if (*q == 'i')
				*flags_r |= G_REGEX_CASELESS;
		return g_strndup(a + 1, (size_t)(end - a - 1));
	}
	return g_strdup(a);
}

/* The argument's regex, compiled once (the rule files' patterns). */
static GRegex *
arg_regex(const char *a)
{
	unsigned f;
	char *pat = arg_pattern(a, &f);
	GRegex *re = rules_evalfn_re(pat, f);

	g_free(pat);
	return re;
}

/* Does the argument compile?  (When the rule is read.) */
static bool
arg_regex_ok(const char *a)
{
	unsigned f;
	char *pat = arg_pattern(a, &f);
	GRegex *re = g_regex_new(pat, (GRegexCompileFlags)f | G_REGEX_RAW, 0,
	    NULL);

	g_free(pat);
	if (re == NULL)
		return false;
	g_regex_unref(re);
	return true;
}

/* Does one of addrs qualify (freemail, and matching re when given)? */
static bool
any_freemail(GPtrArray *addrs, const char *re_arg)
{
	GRegex *re = re_arg != NULL ? arg_regex(re_arg) : NULL;
	bool hit = false;

	for (guint i = 0; i < addrs->len && !hit; i++)
		hit = is_freemail(addrs->pdata[i]) && (re == NULL ||
		    g_regex_match(re, addrs->pdata[i], 0, NULL));
	return hit;
}

/* check_freemail_from([regex]): one of the From addresses
 * (PerMsgStatus's all_from_addrs) is a freemail one. */
static double
freemail_from(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GPtrArray *a = rules_evalfn_from_addrs(in);
	bool hit;

	*where_r = "From";
	hit = any_freemail(a, nargs > 0 ? args[0] : NULL);
	g_ptr_array_free(a, TRUE);
	return hit;
}

/* check_freemail_header('Hdr'[, regex]): an address of Hdr is freemail. */
static double
freemail_header(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char *hdr = g_strdup(args[0]);
	bool hit;

	*where_r = args[0];
	if (g_str_has_suffix(hdr, ":addr"))
		hdr[strlen(hdr) - 5] = '\0';
	rules_evalfn_addrs(in, hdr, 0, a);
	hit = any_freemail(a, nargs > 1 ? args[1] : NULL);
	g_free(hdr);
	g_ptr_array_free(a, TRUE);
	return hit;
}

static bool
in_list(GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(a->pdata[i], s) == 0)
			return true;
	return false;
}

/* Whether p holds "mailto:", in any case. */
static bool
has_mailto(const char *p, size_t len)
{
	for (const char *q = p; len >= 7 && (q = memchr(q, ':',
	    len - (size_t)(q - p))) != NULL; q++)
		if (q - p >= 6 && g_ascii_strncasecmp(q - 6, "mailto", 6) == 0)
			return true;
	return false;
}

/* Whether the rendered text holds addr (lower case), in any case: the
 * text's URI parser finds it there too. */
static bool
in_text(const struct rules_input *in, const char *addr)
{
	size_t n = strlen(addr);

	for (size_t i = 0; i < in->nbody; i++) {
		const char *p = in->body[i].p, *end = p + in->body[i].len;

		for (; p + n <= end; p++)
			if (g_ascii_tolower(*p) == addr[0] &&
			    g_ascii_strncasecmp(p, addr, n) == 0)
				return true;
	}
	return false;
}

/*
 * FreeMail.pm's _parse_body: the freemail addresses of the body's mailto:
 * links and text (not those in URLs, nor "addr>" or "addr  word:"
 * forms), into out; false when there are too many addresses or freemail
 * ones to judge (the check is skipped).
 */
static bool
body_freemails_scan(const struct rules_input *in, GPtrArray *out)
{
	static GRegex *email, *url_at, *tagged, *anchor;
	GPtrArray *emails = g_ptr_array_new_with_free_func(g_free);
	size_t nall = 0, nfm = 0;
	bool ok = true;

	re_once(&email, email_re);
	re_once(&url_at, "<?https?://\\S{0,255}(?:\\@|%40)\\S{0,255}");
	if (g_once_init_enter(&tagged)) {
		char *p = g_strdup_printf("<?(?<!mailto:)%s(?:>|\\s{1,10}(?!"
		    "(?:fa(?:x|csi)|tel|phone|e?-?mail))[a-z]{2,11}:)",
		    email_re);

		g_once_init_leave(&tagged, g_regex_new(p, G_REGEX_CASELESS |
		    G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, NULL));
		g_free(p);
	}
	/* The mailto: links of <a> tags alone (FreeMail.pm takes the URIs
	 * of type "a" but not "parsed": a form's action is not one, nor an
	 * address the text shows too, which the text's scan below judges). */
	if (g_once_init_enter(&anchor)) {
		char *p = g_strdup_printf("<a\\s[^>]*?\\bhref\\s*=\\s*[\"']?"
		    "\\s*mailto:%s", email_re);

		g_once_init_leave(&anchor, g_regex_new(p, G_REGEX_CASELESS |
		    G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, NULL));
		g_free(p);
	}
	for (size_t i = 0; i < in->nrawbody && emails->len < 20; i++) {
		GMatchInfo *mi = NULL;

		if (!has_mailto(in->rawbody[i].p, in->rawbody[i].len))
			continue;
		g_regex_match_full(anchor, in->rawbody[i].p, in->rawbody[i].len,
		    0, 0, &mi, NULL);
		while (g_match_info_matches(mi) && emails->len < 20) {
			char *e = g_match_info_fetch(mi, 1), *l =
			    g_ascii_strdown(e, -1);

			g_free(e);
			if (!in_list(emails, l) && !in_text(in, l))
				g_ptr_array_add(emails, l);
			else
				g_free(l);
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
	}
	for (size_t i = 0; i < in->nbody && emails->len < 40; i++) {
		char *t, *u, *v;
		GMatchInfo *mi = NULL;

		/* Every address holds an "@" and the replacements add none:
		 * a paragraph without one has nothing to find (and the three
		 * regexes cost about a tenth of the rules' time on them). */
		if (memchr(in->body[i].p, '@', in->body[i].len) == NULL)
			continue;
		t = g_strndup(in->body[i].p, in->body[i].len);
		u = g_regex_replace_literal(url_at, t, -1, 0, " ", 0, NULL);
		v = g_regex_replace_literal(tagged, u, -1, 0, " ", 0, NULL);
		g_regex_match(email, v, 0, &mi);
		while (g_match_info_matches(mi) && emails->len < 40) {
			char *e = g_match_info_fetch(mi, 1), *l =
			    g_ascii_strdown(e, -1);

			g_free(e);
			if (!in_list(emails, l))
				g_ptr_array_add(emails, l);
			else
				g_free(l);
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
		g_free(t);
		g_free(u);
		g_free(v);
	}
	for (guint i = 0; i < emails->len && ok; i++) {
		if (++nall == MAX_BODY_EMAILS) {
			ok = false;
			break;
		}
		if (!is_freemail(emails->pdata[i]))
			continue;
		if (++nfm == MAX_BODY_FREEMAILS) {
			ok = false;
			break;
		}
		g_ptr_array_add(out, g_strdup(emails->pdata[i]));
	}
	g_ptr_array_free(emails, TRUE);
	return ok;
}

/* The body's freemail addresses of the message being evaluated, found
 * once for both of check_freemail_replyto's rules; dropped by
 * rules_eval_freemail_reset(). */
static _Thread_local const struct rules_input *body_in;
static _Thread_local GPtrArray *body_found;
static _Thread_local bool body_ok;

void
rules_eval_freemail_reset(void)
{
	if (body_found != NULL)
		g_ptr_array_free(body_found, TRUE);
	body_found = NULL;
	body_in = NULL;
}

/* body_freemails_scan's answer, into out (copies). */
static bool
body_freemails(const struct rules_input *in, GPtrArray *out)
{
	if (body_in != in) {
		rules_eval_freemail_reset();
		body_found = g_ptr_array_new_with_free_func(g_free);
		body_ok = body_freemails_scan(in, body_found);
		body_in = in;
	}
	for (guint i = 0; i < body_found->len; i++)
		g_ptr_array_add(out, g_strdup(body_found->pdata[i]));
	return body_ok;
}

/* check_freemail_replyto('replyto'|'reply'): From and Reply-To are
 * different freemail addresses, or the reply address is freemail and the
 * body names another freemail one. */
static double
freemail_replyto(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	static GRegex *skip;
	const char *what = nargs > 0 ? args[0] : "replyto";
	GPtrArray *from = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *rt = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *body = g_ptr_array_new_with_free_func(g_free);
	char *env = rules_get(in, "EnvelopeFrom", 0);
	bool from_fm = false, rt_fm = false, from_not_in_rt = true;
	double hit = 0;

	*where_r = "Reply-To";
	if (env != NULL && g_regex_match(re_once(&skip, skip_envfrom_re), env,
	    0, NULL))
		goto out;
	rules_evalfn_addrs(in, "From", 0, from);
	rules_evalfn_addrs(in, "Reply-To", 0, rt);
	for (guint i = 0; i < from->len; i++) {
		from_fm = from_fm || is_freemail(from->pdata[i]);
		if (in_list(rt, from->pdata[i]))
			from_not_in_rt = false;
	}
	for (guint i = 0; i < rt->len; i++)
		rt_fm = rt_fm || is_freemail(rt->pdata[i]);
	if (from_fm && rt_fm && from_not_in_rt) {
		hit = 1;
		goto out;
	}
	/* 'reply' wants a freemail From, whatever Reply-To is (FreeMail.pm
	 * tests it in an elsif after Reply-To's own test). */
	if (strcmp(what, "replyto") == 0 ? !rt_fm : ((rt->len > 0 && !rt_fm) ||
	    !from_fm))
		goto out;
	if (!body_freemails(in, body))
		goto out;
	{
		GPtrArray *reply = strcmp(what, "replyto") == 0 || rt_fm ? rt :
		    from;

		for (guint i = 0; i < body->len && hit == 0; i++)
			for (guint j = 0; j < reply->len; j++)
				if (strcmp(body->pdata[i], reply->pdata[j]) !=
				    0) {
					hit = 1;
					break;
				}
	}
out:
	g_free(env);
	g_ptr_array_free(from, TRUE);
	g_ptr_array_free(rt, TRUE);
	g_ptr_array_free(body, TRUE);
	return hit;
}

static const char *
replyto_check(const char *const *args, size_t nargs)
{
	return nargs == 0 || strcmp(args[0], "replyto") == 0 ||
	    strcmp(args[0], "reply") == 0 ? NULL :
	    "the option is neither 'replyto' nor 'reply'";
}

static const char *
header_check(const char *const *args, size_t nargs)
{
	return nargs < 2 || arg_regex_ok(args[1]) ? NULL :
	    "the regex does not compile";
}

static const char *
from_check(const char *const *args, size_t nargs)
{
	return nargs < 1 || arg_regex_ok(args[0]) ? NULL :
	    "the regex does not compile";
}

/* The carriers' function: the lists are data, never a hit. */
static double
vigil_list(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)in;
	(void)args;
	(void)nargs;
	*where_r = "";
	return 0;
}

const struct rules_evalfn rules_evalfn_freemail[] = {
	{ "check_freemail_from", 0, 1, freemail_from, from_check },
	{ "check_freemail_header", 1, 2, freemail_header, header_check },
	{ "check_freemail_replyto", 0, 1, freemail_replyto, replyto_check },
	{ RULES_FREEMAIL_FN, 0, 100000, vigil_list, NULL },
	{ NULL, 0, 0, NULL, NULL }
};
