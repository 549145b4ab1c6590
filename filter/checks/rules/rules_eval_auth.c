/*
 * rules_eval_auth.c - the eval: tests of SpamAssassin's SPF, DKIM,
 * DMARC and Bayes plugins (Mail::SpamAssassin::Plugin::SPF, DKIM,
 * DMARC, Bayes), answered from what vigil's own checks found about the
 * message
 * (rules_auth.h, filled by rules.c) instead of asking the DNS again.
 * With no such result (the check did not run: an offline scan without
 * a client address, `Checks=rules`) a test does not hit, as
 * SpamAssassin's do not with its network tests off.
 *
 * A finding of the same name that spf.c, dkim.c or dmarc.c adds stays
 * the message's one finding of that name (BAYES_*: bayes.c's, added
 * after the rules): rules.c adds none for such a
 * rule (nor for one saying the same under another name, DMARC_REJECT
 * beside DMARC_FAIL_REJECT), so a result is counted once, while
 * SpamAssassin's metas over it (FORGED_SPF_HELO, FROM_BANK_NOAUTH,
 * DKIM_INVALID ...) see it.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "checks/rules/rules_auth.h"
#include "checks/rules/rules_eval_wlbl.h"

/* Plugin::DKIM's dkim_minimum_key_bits default: weaker keys make no
 * author signature, nor a valid one for a rule naming domains. */
#define DKIM_MIN_KEY_BITS	1024

/* ---- SPF --------------------------------------------------------- */

static const struct auth_spf *
spf_of(const struct rules_input *in)
{
	return in->auth != NULL ? in->auth->spf : NULL;
}

/*
 * The MAIL FROM result: spf.c checks the HELO identity in its place for
 * the null sender, where SpamAssassin checks none (no EnvelopeFrom).
 * False when there is none.
 */
static bool
spf_mfrom(const struct rules_input *in, enum auth_res *r)
{
	const struct auth_spf *s = spf_of(in);

	if (s == NULL || s->identity == NULL ||
	    strcmp(s->identity, "mailfrom") != 0)
		return false;
	*r = s->result;
	return true;
}

/* Does SpamAssassin skip HELO h: an address literal, or one label? */
static bool
helo_unchecked(const char *h)
{
	const char *p = h;
	int dots = 0;

	if (h == NULL || *h == '\0' || strchr(h, '.') == NULL)
		return true;
	if (*p == '[' || *p == '!')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			break;
	}
	return dots == 3 && (*p == '\0' || ((*p == ']' || *p == '!') &&
	    p[1] == '\0'));
}

/* The HELO result: the null sender's (the one spf.c checked), or the
 * HELO check's (SPFCheckHelo).  False when there is none. */
static bool
spf_helo(const struct rules_input *in, enum auth_res *r)
{
	const struct auth_spf *s = spf_of(in);

	if (s == NULL || helo_unchecked(s->helo))
		return false;
	if (s->identity != NULL && strcmp(s->identity, "helo") == 0) {
		*r = s->result;
		return true;
	}
	if (!s->helo_checked)
		return false;
	*r = s->helo_result;
	return true;
}

/* Mail::SPF's result codes as vigil's: RFC 7208's "permerror" is what
 * libspf2 calls a policy or a syntax error. */
static bool
spf_is(enum auth_res got, enum auth_res want)
{
	if (want == AUTH_PERMERROR)
		return got == AUTH_PERMERROR || got == AUTH_POLICY;
	return got == want;
}

/* The MAIL FROM (or with helo the HELO) result is want. */
static bool
spf_result_is(const struct rules_input *in, bool helo, enum auth_res want)
{
	enum auth_res r;

	return (helo ? spf_helo(in, &r) : spf_mfrom(in, &r)) &&
	    spf_is(r, want);
}

#define SPF_FN(fname, helo, want)					\
	RULES_EVALFN_NOARGS(fname, (helo) ? "SPF (HELO)" : "SPF",	\
	    spf_result_is(in, (helo), (want)))

SPF_FN(spf_pass, false, AUTH_PASS)
SPF_FN(spf_neutral, false, AUTH_NEUTRAL)
SPF_FN(spf_none, false, AUTH_NONE)
SPF_FN(spf_fail, false, AUTH_FAIL)
SPF_FN(spf_softfail, false, AUTH_SOFTFAIL)
SPF_FN(spf_permerror, false, AUTH_PERMERROR)
SPF_FN(spf_temperror, false, AUTH_TEMPERROR)
SPF_FN(spf_helo_pass, true, AUTH_PASS)
SPF_FN(spf_helo_neutral, true, AUTH_NEUTRAL)
SPF_FN(spf_helo_none, true, AUTH_NONE)
SPF_FN(spf_helo_fail, true, AUTH_FAIL)
SPF_FN(spf_helo_softfail, true, AUTH_SOFTFAIL)
SPF_FN(spf_helo_permerror, true, AUTH_PERMERROR)
SPF_FN(spf_helo_temperror, true, AUTH_TEMPERROR)

/* ---- DKIM -------------------------------------------------------- */

static const struct auth_dkim *
dkim_of(const struct rules_input *in)
{
	return in->auth != NULL ? in->auth->dkim : NULL;
}

/*
 * The signer's domain as Plugin::DKIM compares it (its "SDID"): that of
 * the signature's identity (i=, by default @d=), lower case, as dkim.c
 * read it.
 */
static const char *
sig_sdid(const struct auth_dkim_sig *s)
{
	if (s->idomain != NULL)
		return s->idomain;
	return s->domain != NULL ? s->domain : "";
}

/*
 * Is dom the domain pattern pat names?  "*.d" and ".d" name d and every
 * name ending in ".d" (as the pattern (^|\.)d$ would); anything else names
 * the domain itself.  Case does not matter.  One reading for the DKIM
 * welcomelists' signing domains and check_dkim_adsp's domain arguments.
 */
static bool
domain_named(const char *dom, const char *pat)
{
	size_t pl, dl;

	if (pat[0] == '*' && pat[1] == '.')
		pat++;
	if (pat[0] != '.')
		return g_ascii_strcasecmp(dom, pat) == 0;
	pat++;
	pl = strlen(pat);
	dl = strlen(dom);
	if (dl == pl)
		return g_ascii_strcasecmp(dom, pat) == 0;
	return dl > pl && dom[dl - pl - 1] == '.' &&
	    g_ascii_strcasecmp(dom + dl - pl, pat) == 0;
}

/* Does sdid match one of the rule's domains?  No domains: any. */
static bool
sdid_in(const char *sdid, const char *const *doms, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (domain_named(sdid, doms[i]))
			return true;
	return false;
}

/* The author domains: those of every From address, lower case. */
static GPtrArray *
author_domains(const struct rules_input *in)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	char *from = rules_get(in, "From", HMOD_ADDR), **addrs;

	if (from == NULL)
		return v;
	addrs = g_strsplit(from, "\n", -1);
	for (size_t i = 0; addrs[i] != NULL; i++) {
		char *at = strrchr(addrs[i], '@');

		if (at != NULL && at[1] != '\0')
			g_ptr_array_add(v, g_strchomp(g_ascii_strdown(at + 1,
			    -1)));
	}
	g_strfreev(addrs);
	g_free(from);
	return v;
}

static bool
in_list(GPtrArray *v, const char *s)
{
	for (guint i = 0; i < v->len; i++)
		if (strcmp(v->pdata[i], s) == 0)
			return true;
	return false;
}

/*
 * Plugin::DKIM's _check_dkim_signed_by: a signature (valid, with a key
 * of DKIM_MIN_KEY_BITS or more when must_be_valid; from an author
 * domain when authors is not NULL) whose SDID is one of doms.
 */
static bool
signed_by(const struct rules_input *in, bool must_be_valid,
    GPtrArray *authors, const char *const *doms, size_t ndoms)
{
	const struct auth_dkim *dk = dkim_of(in);
	bool hit = false;

	for (size_t i = 0; dk != NULL && i < dk->nsigs && !hit; i++) {
		const struct auth_dkim_sig *s = &dk->sigs[i];
		const char *sdid = sig_sdid(s);

		if (must_be_valid && (s->result != AUTH_PASS ||
		    (s->key_bits != 0 && s->key_bits < DKIM_MIN_KEY_BITS)))
			continue;
		hit = (authors == NULL || in_list(authors, sdid)) &&
		    sdid_in(sdid, doms, ndoms);
	}
	return hit;
}

/* check_dkim_signed([domain...]): a DKIM signature, valid or not. */
static double
dkim_signed(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct auth_dkim *dk = dkim_of(in);

	*where_r = "DKIM-Signature";
	if (dk == NULL || dk->nsigs == 0)
		return 0;
	return nargs == 0 || signed_by(in, false, NULL, args, nargs);
}

/* check_dkim_valid([domain...]): a valid signature (of a domain named,
 * with a key strong enough, when the rule names domains). */
static double
dkim_valid(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct auth_dkim *dk = dkim_of(in);
	bool any = false;

	*where_r = "DKIM-Signature";
	for (size_t i = 0; dk != NULL && i < dk->nsigs; i++)
		any = any || dk->sigs[i].result == AUTH_PASS;
	if (!any)
		return 0;
	return nargs == 0 || signed_by(in, true, NULL, args, nargs);
}

/* check_dkim_valid_author_sig([domain...]): a valid signature, with a
 * key strong enough, whose signer is a From address's domain. */
static double
dkim_valid_author_sig(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GPtrArray *authors;
	bool hit;

	*where_r = "DKIM-Signature";
	if (dkim_of(in) == NULL)
		return 0;
	authors = author_domains(in);
	hit = signed_by(in, true, authors, args, nargs);
	g_ptr_array_free(authors, TRUE);
	return hit;
}

/* check_dkim_valid_envelopefrom(): a valid signature, with a key strong
 * enough, of the envelope sender's domain. */
static double
dkim_valid_envelopefrom(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	char *env = rules_get(in, "EnvelopeFrom", HMOD_ADDR), *at;
	const char *dom[1];
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "DKIM-Signature";
	if (env != NULL && (at = strchr(env, '@')) != NULL && at[1] != '\0' &&
	    dkim_of(in) != NULL) {
		char *d = g_ascii_strdown(at + 1, strcspn(at + 1, " \t\n"));

		dom[0] = d;
		hit = signed_by(in, true, NULL, dom, 1);
		g_free(d);
	}
	g_free(env);
	return hit;
}

/*
 * check_dkim_dependable(): the signatures were verified and none was
 * cut short (SpamAssassin: __TRUNCATED, a message cut by spamc's size
 * limit; dkim.c always reads the whole message).
 */
static double
dkim_dependable(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "DKIM-Signature";
	return dkim_of(in) != NULL;
}

/* check_dkim_signsome, _signall, _testing: DomainKeys' policies, gone
 * from Plugin::DKIM, which answers 0. */
static double
dkim_no_policy(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)in;
	(void)args;
	(void)nargs;
	*where_r = "DKIM-Signature";
	return 0;
}

/* ---- SPF and DKIM welcomelists ------------------------------------ */

static const struct rule *
addrlist(const char *name)
{
	return rules_wlbl_list(RULES_ADDRLIST_PREFIX, name);
}

/*
 * Plugin::SPF's check_for_spf_welcomelist_from (def false) and
 * check_for_def_spf_welcomelist_from (def true): the envelope sender
 * whose SPF passed (not the From: a forger passes SPF for his own
 * domain) is in (def_)welcomelist_from_spf or (def_)welcomelist_auth.
 */
static bool
spf_welcome(const struct rules_input *in, bool def)
{
	const struct auth_spf *s = spf_of(in);

	if (!spf_result_is(in, false, AUTH_PASS) || s->sender == NULL ||
	    s->sender[0] == '\0')
		return false;
	return rules_wlbl_listed(addrlist(def ? "def_welcomelist_from_spf" :
	    "welcomelist_from_spf"), s->sender) ||
	    rules_wlbl_listed(addrlist(def ? "def_welcomelist_auth" :
	    "welcomelist_auth"), s->sender);
}

RULES_EVALFN_NOARGS(spf_welcomelist, "SPF", spf_welcome(in, false))
RULES_EVALFN_NOARGS(def_spf_welcomelist, "SPF", spf_welcome(in, true))

/* Is sig valid for a welcomelist: it verified, with a key of
 * DKIM_MIN_KEY_BITS or more? */
static bool
sig_counts(const struct auth_dkim_sig *s)
{
	return s->result == AUTH_PASS && (s->key_bits == 0 ||
	    s->key_bits >= DKIM_MIN_KEY_BITS) && s->selector != NULL &&
	    s->selector[0] != '\0';
}

/*
 * _wlcheck_list's match of a signature's SDID with an entry's signing
 * domain (after its blank; none: an author domain signature, SDID the
 * author's domain).  "*.d" and ".d" are d's subdomains, not d; an
 * address stands for its domain.
 */
static bool
sdid_acceptable(const char *sdid, const char *entry, const char *adom)
{
	const char *want = strchr(entry, ' '), *at;
	size_t sl = strlen(sdid), wl;

	if (sdid[0] == '\0')	/* an i= without "@": no SDID, no match */
		return false;
	if (want == NULL)
		return strcmp(sdid, adom) == 0;
	want++;
	if ((at = strrchr(want, '@')) != NULL)
		want = at + 1;
	if (want[0] == '*' && want[1] == '.')
		want++;
	if (want[0] != '.')
		return g_ascii_strcasecmp(sdid, want) == 0;
	wl = strlen(want);
	return sl >= wl && g_ascii_strcasecmp(sdid + sl - wl, want) == 0;
}

/* Does a valid signature of the message fit an entry of the list name
 * whose glob the author (lower case, of domain adom) matches?  auth:
 * the list is (def_)welcomelist_auth's, whose entries want an author
 * domain signature. */
static bool
dkim_list_match(const struct auth_dkim *dk, const char *name, bool auth,
    const char *author, const char *adom)
{
	const struct rule *c = addrlist(name);

	if (!rules_wlbl_listed(c, author))
		return false;
	for (size_t i = 0; c->eval_args[i] != NULL; i++) {
		const char *e = c->eval_args[i];

		if (!rules_wlbl_entry_matches(e, author))
			continue;
		for (size_t j = 0; j < dk->nsigs; j++)
			if (sig_counts(&dk->sigs[j]) && sdid_acceptable(
			    sig_sdid(&dk->sigs[j]), auth ? "" : e, adom))
				return true;
	}
	return false;
}

/*
 * Plugin::DKIM's check_for_dkim_welcomelist_from (def false) and
 * check_for_def_dkim_welcomelist_from (def true): a From address is in
 * (def_)welcomelist_from_dkim and the message carries a valid signature
 * of the signing domain the entry names (none named: of the author's
 * domain), or in (def_)welcomelist_auth with a valid author domain
 * signature.
 */
static bool
dkim_welcome(const struct rules_input *in, bool def)
{
	const struct auth_dkim *dk = dkim_of(in);
	char *from, **addrs;
	bool hit = false;

	if (dk == NULL || dk->nsigs == 0 ||
	    (from = rules_get(in, "From", HMOD_ADDR)) == NULL)
		return false;
	addrs = g_strsplit(from, "\n", -1);
	for (size_t i = 0; !hit && addrs[i] != NULL; i++) {
		char *low = g_ascii_strdown(g_strstrip(addrs[i]), -1);
		const char *at = strrchr(low, '@');
		const char *adom = at != NULL ? at + 1 : "";

		if (low[0] != '\0')
			hit = dkim_list_match(dk, def ?
			    "def_welcomelist_from_dkim" :
			    "welcomelist_from_dkim", false, low, adom) ||
			    dkim_list_match(dk, def ? "def_welcomelist_auth" :
			    "welcomelist_auth", true, low, adom);
		g_free(low);
	}
	g_strfreev(addrs);
	g_free(from);
	return hit;
}

RULES_EVALFN_NOARGS(dkim_welcomelist, "DKIM-Signature",
    dkim_welcome(in, false))
RULES_EVALFN_NOARGS(def_dkim_welcomelist, "DKIM-Signature",
    dkim_welcome(in, true))

/* ---- ADSP -------------------------------------------------------- */

/* Has the message a valid author domain signature of dom (a key strong
 * enough)? */
static bool
has_valid_author_sig(const struct auth_dkim *dk, const char *dom)
{
	for (size_t i = 0; i < dk->nsigs; i++)
		if (dk->sigs[i].result == AUTH_PASS &&
		    (dk->sigs[i].key_bits == 0 ||
		    dk->sigs[i].key_bits >= DKIM_MIN_KEY_BITS) &&
		    strcmp(sig_sdid(&dk->sigs[i]), dom) == 0)
			return true;
	return false;
}

/* Was the key of an author domain signature of dom not to be had (a
 * DNS time-out: the domain's practices are then not held against it)? */
static bool
author_sig_tempfailed(const struct auth_dkim *dk, const char *dom)
{
	for (size_t i = 0; i < dk->nsigs; i++)
		if (dk->sigs[i].result == AUTH_TEMPERROR &&
		    strcmp(sig_sdid(&dk->sigs[i]), dom) == 0)
			return true;
	return false;
}

/* adsp_override's practices for dom: its entry, or those of "*.b.c.d",
 * "*.c.d", "*.d", "*" in turn; 0 for none. */
static char
adsp_override(const char *dom)
{
	const struct rule *c = rules_wlbl_list(RULES_ADSP_PREFIX,
	    "adsp_override");
	char *key = g_strdup(dom);
	char found = 0;

	if (c == NULL || c->eval_args == NULL) {
		g_free(key);
		return 0;
	}
	for (const char *d = dom; found == 0;) {
		size_t kl = strlen(key);

		for (size_t i = 0; found == 0 && c->eval_args[i] != NULL; i++)
			if (strncmp(c->eval_args[i], key, kl) == 0 &&
			    c->eval_args[i][kl] == ' ')
				found = c->eval_args[i][kl + 1];
		if (strcmp(key, "*") == 0)
			break;
		d = strchr(d, '.');
		g_free(key);
		if (d == NULL)
			key = g_strdup("*");
		else
			key = g_strconcat("*", d++, NULL);
	}
	g_free(key);
	return found;
}

/* The dkim= tag of an ADSP record ("dkim=all; ..."): A, D ("strict"
 * too, the old SSP's), else U (unknown, no tag, or another value). */
static char
adsp_record(const char *rec)
{
	char **tags = g_strsplit(rec, ";", -1);
	char c = 'U';

	for (size_t i = 0; tags[i] != NULL; i++) {
		char *t = g_strstrip(tags[i]), *eq = strchr(t, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(g_strchomp(t), "dkim") != 0)
			continue;
		t = g_strchug(eq + 1);
		c = strcmp(t, "all") == 0 ? 'A' : strcmp(t, "discardable") == 0
		    || strcmp(t, "strict") == 0 ? 'D' : 'U';
	}
	g_strfreev(tags);
	return c;
}

/*
 * Mail::DKIM::AuthorDomainPolicy's fetch, through vigil's resolver and
 * the message's DNS budget: the first TXT record of
 * _adsp._domainkey.dom; with none, N when dom itself does not exist
 * (its MX lookup says NXDOMAIN), else U (so is a failed lookup).
 */
static char
adsp_dns(const struct rules_input *in, const char *dom)
{
	char *name, **rrs = NULL, **mx = NULL;
	size_t n = 0, nmx = 0;
	enum adns_rc rc;
	char c = 'U';

	if (in->auth->dns == NULL || in->auth->budget == NULL ||
	    strlen(dom) > 230)
		return 'U';
	name = g_strconcat("_adsp._domainkey.", dom, NULL);
	rc = adns_query(in->auth->dns, name, ADNS_TXT, in->auth->budget, &rrs,
	    &n);
	g_free(name);
	if (rc == ADNS_OK && n > 0)
		c = adsp_record(rrs[0]);
	else if (adns_query(in->auth->dns, dom, ADNS_MX, in->auth->budget,
	    &mx, &nmx) == ADNS_NXDOMAIN)
		c = 'N';
	free(rrs);
	free(mx);
	return c;
}

/* _check_dkim_adsp's practices of an author domain without a valid
 * author domain signature (0: none held against it): adsp_override's,
 * else the domain's own (its DNS). */
static char
adsp_of(const struct rules_input *in, const struct auth_dkim *dk,
    const char *dom)
{
	char c;

	if (has_valid_author_sig(dk, dom) || author_sig_tempfailed(dk, dom))
		return 0;
	if ((c = adsp_override(dom)) != 0)
		return c;
	return adsp_dns(in, dom);
}

/* check_dkim_adsp's domain arguments (domain_named's patterns). */
static bool
adsp_domain_named(const char *dom, const char *const *args, size_t nargs)
{
	for (size_t i = 1; i < nargs; i++)
		if (domain_named(dom, args[i]))
			return true;
	return false;
}

/*
 * check_dkim_adsp(C[, domain...]): the signing practices of an author
 * domain (a fully qualified one) with no valid author domain signature
 * are one of the characters of C ("*": any but unknown); with domains,
 * some author domain is one named.  The practices are adsp_override's.
 */
static double
dkim_adsp(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct auth_dkim *dk = dkim_of(in);
	const char *want = strcmp(args[0], "*") == 0 ? "NAD123" : args[0];
	GPtrArray *authors;
	bool match = false, named = nargs < 2;

	*where_r = "DKIM-Signature";
	if (dk == NULL)
		return 0;
	authors = author_domains(in);
	for (guint i = 0; i < authors->len; i++) {
		const char *dom = authors->pdata[i];
		char p;

		/* the domains named may be any author's */
		if (!named)
			named = adsp_domain_named(dom, args, nargs);
		/* practices only of a fully qualified one: /.\.[a-z-]{2,}\z/i */
		if (!rules_evalfn_match(".\\.[a-z-]{2,}\\z",
		    G_REGEX_CASELESS, dom))
			continue;
		p = adsp_of(in, dk, dom);
		if (p != 0 && strchr(want, p) != NULL)
			match = true;
	}
	g_ptr_array_free(authors, TRUE);
	return match && named;
}

static const char *
adsp_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	return args[0][0] == '\0' || args[0][strspn(args[0],
	    "NUAD123*")] != '\0' ? "needs practices of N, U, A, D, 1, 2, 3 "
	    "or *" : NULL;
}

/* ---- DMARC ------------------------------------------------------- */

/*
 * Plugin::DMARC's policy for a failure is the disposition after pct=
 * (vigil's applied); DMARC_MISSING is a From domain with no usable
 * record (Mail::DMARC's result "none").
 */
enum dm_want { DMW_PASS, DMW_REJECT, DMW_QUAR, DMW_NONE, DMW_MISSING };

static bool
dmarc_is(const struct rules_input *in, enum dm_want w)
{
	const struct auth_dmarc *d = in->auth != NULL ? in->auth->dmarc :
	    NULL;

	if (d == NULL || d->from_domain == NULL)
		return false;
	switch (w) {
	case DMW_PASS:
		return d->result == AUTH_PASS;
	case DMW_REJECT:
		return d->result == AUTH_FAIL && d->applied == DMARC_P_REJECT;
	case DMW_QUAR:
		return d->result == AUTH_FAIL &&
		    d->applied == DMARC_P_QUARANTINE;
	case DMW_NONE:
		return d->result == AUTH_FAIL && d->applied == DMARC_P_NONE;
	case DMW_MISSING:
		return d->result == AUTH_NONE;
	}
	return false;
}

#define DMARC_FN(fname, want)						\
	RULES_EVALFN_NOARGS(fname, "DMARC", dmarc_is(in, (want)))

DMARC_FN(dmarc_pass, DMW_PASS)
DMARC_FN(dmarc_reject, DMW_REJECT)
DMARC_FN(dmarc_quarantine, DMW_QUAR)
DMARC_FN(dmarc_none, DMW_NONE)
DMARC_FN(dmarc_missing, DMW_MISSING)

/* ---- Bayes ------------------------------------------------------- */

/* check_bayes(min, max): the classifier's probability is in (min, max]
 * (min 0: from 0 included; max "undef": no bound), as Plugin::Bayes. */
static double
bayes_range(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	double lo = g_ascii_strtod(args[0], NULL), p;

	(void)nargs;
	*where_r = "Bayes";
	if (in->auth == NULL || !in->auth->has_bayes)
		return 0;
	p = in->auth->bayes_p;
	return (lo == 0 || p > lo) && (strcmp(args[1], "undef") == 0 ||
	    p <= g_ascii_strtod(args[1], NULL));
}

#define DOMS	16		/* domains a DKIM rule may name */

const struct rules_evalfn rules_evalfn_auth[] = {
	{ "check_for_spf_pass", 0, 0, spf_pass, NULL },
	{ "check_for_spf_neutral", 0, 0, spf_neutral, NULL },
	{ "check_for_spf_none", 0, 0, spf_none, NULL },
	{ "check_for_spf_fail", 0, 0, spf_fail, NULL },
	{ "check_for_spf_softfail", 0, 0, spf_softfail, NULL },
	{ "check_for_spf_permerror", 0, 0, spf_permerror, NULL },
	{ "check_for_spf_temperror", 0, 0, spf_temperror, NULL },
	{ "check_for_spf_helo_pass", 0, 0, spf_helo_pass, NULL },
	{ "check_for_spf_helo_neutral", 0, 0, spf_helo_neutral, NULL },
	{ "check_for_spf_helo_none", 0, 0, spf_helo_none, NULL },
	{ "check_for_spf_helo_fail", 0, 0, spf_helo_fail, NULL },
	{ "check_for_spf_helo_softfail", 0, 0, spf_helo_softfail, NULL },
	{ "check_for_spf_helo_permerror", 0, 0, spf_helo_permerror, NULL },
	{ "check_for_spf_helo_temperror", 0, 0, spf_helo_temperror, NULL },
	{ "check_dkim_signed", 0, DOMS, dkim_signed, NULL },
	{ "check_dkim_valid", 0, DOMS, dkim_valid, NULL },
	{ "check_dkim_verified", 0, DOMS, dkim_valid, NULL },
	{ "check_dkim_valid_author_sig", 0, DOMS, dkim_valid_author_sig,
	  NULL },
	{ "check_dkim_valid_envelopefrom", 0, 0, dkim_valid_envelopefrom,
	  NULL },
	{ "check_dkim_dependable", 0, 0, dkim_dependable, NULL },
	{ "check_dkim_signsome", 0, 0, dkim_no_policy, NULL },
	{ "check_dkim_signall", 0, 0, dkim_no_policy, NULL },
	{ "check_dkim_testing", 0, 0, dkim_no_policy, NULL },
	{ "check_for_spf_welcomelist_from", 0, 0, spf_welcomelist, NULL },
	{ "check_for_spf_whitelist_from", 0, 0, spf_welcomelist, NULL },
	{ "check_for_def_spf_welcomelist_from", 0, 0, def_spf_welcomelist,
	  NULL },
	{ "check_for_def_spf_whitelist_from", 0, 0, def_spf_welcomelist,
	  NULL },
	{ "check_for_dkim_welcomelist_from", 0, 0, dkim_welcomelist, NULL },
	{ "check_for_dkim_whitelist_from", 0, 0, dkim_welcomelist, NULL },
	{ "check_for_def_dkim_welcomelist_from", 0, 0, def_dkim_welcomelist,
	  NULL },
	{ "check_for_def_dkim_whitelist_from", 0, 0, def_dkim_welcomelist,
	  NULL },
	{ "check_dkim_adsp", 1, 1 + DOMS, dkim_adsp, adsp_check },
	{ "check_dmarc_pass", 0, 0, dmarc_pass, NULL },
	{ "check_dmarc_reject", 0, 0, dmarc_reject, NULL },
	{ "check_dmarc_quarantine", 0, 0, dmarc_quarantine, NULL },
	{ "check_dmarc_none", 0, 0, dmarc_none, NULL },
	{ "check_dmarc_missing", 0, 0, dmarc_missing, NULL },
	{ "check_bayes", 2, 2, bayes_range, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

bool
rules_evalfn_is_auth(const struct rules_evalfn *f)
{
	for (const struct rules_evalfn *t = rules_evalfn_auth; t->name != NULL;
	    t++)
		if (t == f)
			return true;
	return false;
}

bool
rules_evalfn_is_bayes(const struct rules_evalfn *f)
{
	return f != NULL && f->fn == bayes_range;
}
