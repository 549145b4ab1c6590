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

/* Does sdid match one of the rule's domains ("*.d" or ".d": d and its
 * subdomains)?  No domains: any. */
static bool
sdid_in(const char *sdid, const char *const *doms, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		const char *d = doms[i];

		if (d[0] == '*' && d[1] == '.')
			d++;
		if (d[0] == '.') {
			size_t dl = strlen(d + 1), sl = strlen(sdid);

			if (g_ascii_strcasecmp(sdid, d + 1) == 0 ||
			    (sl > dl + 1 && g_ascii_strcasecmp(sdid + sl - dl,
			    d + 1) == 0 && sdid[sl - dl - 1] == '.'))
				return true;
		} else if (g_ascii_strcasecmp(sdid, d) == 0)
			return true;
	}
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
