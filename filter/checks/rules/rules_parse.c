/*
 * rules_parse.c - reads rule files into a rule set: the directives of
 * SpamAssassin's Mail::SpamAssassin::Conf that define and score rules,
 * if/ifplugin/else/endif, and the ReplaceTags plugin's tag directives.
 * Everything else is skipped with one warning per directive and file.
 *
 * Attributes (score, describe, tflags, priority) may come before or after
 * the rule they name and from any file; they are kept by name and applied
 * by rules_compile() (rules_set.c), later files overriding earlier ones.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/log.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "checks/rules/rules_eval_wlbl.h"

/* The plugins whose rules vigil runs itself: `ifplugin` is true for
 * these, false for every other plugin. */
static const char *const implemented_plugins[] = {
	"Mail::SpamAssassin::Plugin::ReplaceTags",
	"Mail::SpamAssassin::Plugin::Check",
	"Mail::SpamAssassin::Plugin::MIMEHeader",
	/* Their eval: tests that rules_evalfn.c implements run; the
	 * others are skipped one by one, with the reason. */
	"Mail::SpamAssassin::Plugin::HeaderEval",
	"Mail::SpamAssassin::Plugin::BodyEval",
	/* MIMEEval: rules_eval_mime.c.  Its MIME shape rules help the
	 * rules alone and cost the verdict with Bayes (on the train half's
	 * folds, 77 against 88); `scores learn` chooses, score set by
	 * score set, whether a plugin block's rules get a weight. */
	"Mail::SpamAssassin::Plugin::MIMEEval",
	"Mail::SpamAssassin::Plugin::HTMLEval",
	"Mail::SpamAssassin::Plugin::RelayEval",
	"Mail::SpamAssassin::Plugin::FreeMail",
	/* The DNS lists' (dnsbl_rules.c, dnsbl.c). */
	"Mail::SpamAssassin::Plugin::DNSEval",
	"Mail::SpamAssassin::Plugin::URIDNSBL",
	"Mail::SpamAssassin::Plugin::AskDNS",
	/* Their eval: tests answered from vigil's own checks' results
	 * (rules_eval_auth.c); Dmarc is DMARC's older name, which
	 * SpamAssassin's files still use. */
	"Mail::SpamAssassin::Plugin::SPF",
	"Mail::SpamAssassin::Plugin::DKIM",
	"Mail::SpamAssassin::Plugin::DMARC",
	"Mail::SpamAssassin::Plugin::Dmarc",
	/* BAYES_00..BAYES_999 read vigil's Bayes; bayes.c's finding of
	 * that name is the one scored (rules.c). */
	"Mail::SpamAssassin::Plugin::Bayes",
	/* rules_evalfn.c, with welcomelist_subject and blocklist_subject. */
	"Mail::SpamAssassin::Plugin::WelcomeListSubject",
	/* rules_eval_wlbl.c, with the lists wlbl_directive() reads. */
	"Mail::SpamAssassin::Plugin::WLBLEval",
	"Mail::SpamAssassin::Plugin::VBounce",
	/* rules_eval_media.c: the images' and PDFs' facts. */
	"Mail::SpamAssassin::Plugin::ImageInfo",
	"Mail::SpamAssassin::Plugin::PDFInfo",
	/* rules_eval_uri.c; rules_eval_fromname.c, with the settings
	 * fns_directive() reads. */
	"Mail::SpamAssassin::Plugin::URIEval",
	"Mail::SpamAssassin::Plugin::HTTPSMismatch",
	"Mail::SpamAssassin::Plugin::FromNameSpoof",
	NULL
};

/* Conf features (`if can(...)`) whose meaning vigil shares. */
static const char *const implemented_features[] = {
	"Mail::SpamAssassin::Conf::feature_bug6558_free",
	"Mail::SpamAssassin::Conf::perl_min_version_5010000",
	/* dnsbl_rules.c reads tflags a and domains_only.  (No
	 * feature_dns_block_rule: dnsbl.c disables a list that answers
	 * with an error code by itself.) */
	"Mail::SpamAssassin::Plugin::URIDNSBL::has_uridnsbl_for_a",
	"Mail::SpamAssassin::Plugin::URIDNSBL::has_tflags_domains_only",
	"Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length",
	/* T_SPF_PERMERROR and the like (rules_eval_auth.c).  Not DKIM's
	 * has_arc: vigil does not verify ARC. */
	"Mail::SpamAssassin::Plugin::SPF::has_check_for_spf_errors",
	/* SpamAssassin 4's welcomelist and blocklist names; and, as
	 * Debian's /etc/spamassassin/init.pre enables the compat
	 * welcomelist_blocklist, without the deprecated whitelist and
	 * blacklist metas (USER_IN_WHITELIST, ...). */
	"Mail::SpamAssassin::Conf::feature_welcomelist_blocklist",
	"Mail::SpamAssassin::Conf::compat_welcomelist_blocklist",
	NULL
};

/* The SpamAssassin version `if (version >= X)` compares with: the rule
 * language vigil follows is that of 4.0. */
#define RULES_SA_VERSION	4.000001

/* Directives read and ignored without a warning: they configure
 * SpamAssassin itself, not rules. */
static const char *const quiet_directives[] = {
	"require_version", "lang", "test", NULL
};

/* Rule directives of the DNS plugins (dnsbl_rules.c reads them). */
static const char *const dns_rule_directives[] = {
	"askdns", "urirhssub", "uridnsbl", "urirhsbl", "uridnssub", NULL
};

static bool
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

void
diag_emit(struct rules_set *set, const struct rules_diag *d,
    enum rules_sev sev, const char *file, int line, int col,
    const char *name, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (sev == RULES_ERROR)
		set->nerrors++;
	else
		set->nwarnings++;
	if (d == NULL || d->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d->fn(d->arg, sev, file, line, col, name, buf);
}

/* --- `if` expressions: version, plugin(X), can(X), ! && || ( ) and
 * comparisons of numbers. */

struct cond {
	const char	*p;
	bool		 bad;
};

static void
cond_ws(struct cond *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static double cond_or(struct cond *);

static double
cond_atom(struct cond *c)
{
	double v;

	cond_ws(c);
	if (*c->p == '!') {
		c->p++;
		return cond_atom(c) == 0;
	}
	if (*c->p == '(') {
		c->p++;
		v = cond_or(c);
		cond_ws(c);
		if (*c->p == ')')
			c->p++;
		else
			c->bad = true;
		return v;
	}
	if (strncmp(c->p, "version", 7) == 0) {
		c->p += 7;
		return RULES_SA_VERSION;
	}
	if (strncmp(c->p, "plugin(", 7) == 0 || strncmp(c->p, "can(", 4) == 0) {
		bool is_plugin = c->p[0] == 'p';
		const char *s = strchr(c->p, '(') + 1, *e = strchr(s, ')');
		char name[256];

		if (e == NULL || (size_t)(e - s) >= sizeof(name)) {
			c->bad = true;
			return 0;
		}
		memcpy(name, s, (size_t)(e - s));
		name[e - s] = '\0';
		c->p = e + 1;
		return in_list(is_plugin ? implemented_plugins :
		    implemented_features, name);
	}
	if (isdigit((unsigned char)*c->p)) {
		char *end;

		v = strtod(c->p, &end);
		c->p = end;
		return v;
	}
	c->bad = true;
	return 0;
}

/* Comparisons, two-character operators before their prefixes. */
enum cmp_op { CMP_GE, CMP_LE, CMP_EQ, CMP_NE, CMP_GT, CMP_LT };
static const struct {
	const char	*op;
	enum cmp_op	 id;
} cmp_ops[] = {
	{ ">=", CMP_GE }, { "<=", CMP_LE }, { "==", CMP_EQ },
	{ "!=", CMP_NE }, { ">", CMP_GT }, { "<", CMP_LT },
};

static double
cond_cmp(struct cond *c)
{
	double a = cond_atom(c), b;

	cond_ws(c);
	for (size_t i = 0; i < NELEM(cmp_ops); i++) {
		size_t n = strlen(cmp_ops[i].op);

		if (strncmp(c->p, cmp_ops[i].op, n) != 0)
			continue;
		c->p += n;
		b = cond_atom(c);
		switch (cmp_ops[i].id) {
		case CMP_GE: return a >= b;
		case CMP_LE: return a <= b;
		case CMP_EQ: return a == b;
		case CMP_NE: return a != b;
		case CMP_GT: return a > b;
		case CMP_LT: return a < b;
		}
	}
	return a;
}

/* A chain of operands joined by op ("&&" or "||"), each read by next;
 * every operand is read, whatever the value so far. */
static double
cond_chain(struct cond *c, const char *op, double (*next)(struct cond *))
{
	double v = next(c), w;

	for (;;) {
		cond_ws(c);
		if (strncmp(c->p, op, 2) != 0)
			return v;
		c->p += 2;
		w = next(c);
		v = op[0] == '&' ? (w != 0 && v != 0) : (w != 0 || v != 0);
	}
}

static double
cond_and(struct cond *c)
{
	return cond_chain(c, "&&", cond_cmp);
}

static double
cond_or(struct cond *c)
{
	return cond_chain(c, "||", cond_and);
}

/* Evaluates an `if` line's expression; -1 when it cannot be read. */
static int
cond_eval(const char *expr)
{
	struct cond c = { .p = expr };
	double v = cond_or(&c);

	cond_ws(&c);
	if (c.bad || *c.p != '\0')
		return -1;
	return v != 0;
}

/* --- one file */

struct pfile {
	struct rules_set	*set;
	const struct rules_diag	*diag;
	const char		*file;	/* owned by the set */
	int			 line;
	/* if/ifplugin nesting: is each level active? */
	bool			 active[64];
	bool			 was_active[64];
	/* the plugin of an `ifplugin` level (the name after the last
	 * ':'), else NULL */
	const char		*plugin[64];
	int			 depth;
	/* unsupported directives: first line and count, warned at the end */
	GHashTable		*unsupported;
};

struct unsup {
	int	line;
	int	count;
};

static bool
pf_active(const struct pfile *pf)
{
	for (int i = 0; i < pf->depth; i++)
		if (!pf->active[i])
			return false;
	return true;
}

/* Splits off the first word of *sp; returns it NUL-terminated. */
static char *
next_word(char **sp)
{
	char *s = *sp, *w;

	while (isspace((unsigned char)*s))
		s++;
	w = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (isspace((unsigned char)*s))
		s++;
	*sp = s;
	return w;
}

static bool
is_rule_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * Reads a Perl match operator at s: /re/flags or m{re}flags (any
 * delimiter).  Sets the pattern and flags (malloc'd) and returns the end.
 */
static const char *
read_regex(const char *s, char **pat_r, char **flags_r, const char **why_r)
{
	char open, close;
	int nest = 0;
	const char *start, *p;

	if (*s == 'm' && s[1] != '\0' && !isalnum((unsigned char)s[1]) &&
	    !isspace((unsigned char)s[1]))
		s++;
	else if (*s != '/') {
		*why_r = "expected /regex/ or m{regex}";
		return NULL;
	}
	open = *s;
	switch (open) {
	case '{': close = '}'; break;
	case '(': close = ')'; break;
	case '<': close = '>'; break;
	case '[': close = ']'; break;
	default: close = open; break;
	}
	start = ++s;
	for (p = start; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (open != close && *p == open) {
			nest++;
			continue;
		}
		if (*p == close) {
			if (nest-- == 0)
				break;
		}
	}
	if (*p == '\0') {
		*why_r = "regex has no closing delimiter";
		return NULL;
	}
	if ((*pat_r = strndup(start, (size_t)(p - start))) == NULL)
		log_oom((size_t)(p - start), "rules pattern");
	/* An escaped '/' means '/' in a /.../ pattern: PCRE2 reads \/ as
	 * '/' too, so the text stays as written. */
	s = ++p;
	while (isalpha((unsigned char)*p))
		p++;
	if ((*flags_r = strndup(s, (size_t)(p - s))) == NULL)
		log_oom((size_t)(p - s), "rules flags");
	return p;
}

static struct rule *
rule_new(struct pfile *pf, const char *name, enum rule_type type)
{
	struct rule *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		log_oom(sizeof(*r), "rules rule");
	if ((r->name = strdup(name)) == NULL)
		log_oom(strlen(name), "rules name");
	r->type = type;
	r->file = (char *)pf->file;
	r->line = pf->line;
	r->is_from_shadow = pf->set->is_loading_shadow;
	for (int i = pf->depth - 1; i >= 0 && r->plugin == NULL; i--)
		r->plugin = pf->plugin[i];
	return r;
}

/* Adds r to the set; a later definition replaces an earlier one. */
static void
rule_add(struct pfile *pf, struct rule *r)
{
	struct rules_set *set = pf->set;
	struct rule *old = g_hash_table_lookup(set->by_name, r->name);

	g_hash_table_remove(set->skipped, r->name);
	if (old != NULL) {
		diag_emit(set, pf->diag, RULES_WARN, pf->file, pf->line, 1,
		    r->name, "duplicate name: replaces the rule at %s:%d",
		    old->file, old->line);
		g_ptr_array_remove(set->rules, old);
		g_hash_table_remove(set->by_name, old->name);
		rule_free(old);
	}
	g_ptr_array_add(set->rules, r);
	g_hash_table_insert(set->by_name, r->name, r);
}

/* Notes a rule that will not run, and why (lint, meta dependencies). */
static void
rule_skip(struct pfile *pf, const char *name, const char *why)
{
	struct rules_set *set = pf->set;
	struct rule *old = g_hash_table_lookup(set->by_name, name);

	if (old != NULL) {
		g_ptr_array_remove(set->rules, old);
		g_hash_table_remove(set->by_name, old->name);
		rule_free(old);
	}
	g_hash_table_replace(set->skipped, g_strdup(name), g_strdup(why));
	set->nskipped++;
	diag_emit(set, pf->diag, RULES_WARN, pf->file, pf->line, 1, name,
	    "skipped: %s", why);
}

/* An eval: test vigil implements (rules_evalfn.c): a rule of type.
 * False when FN is not one of them; a bad call is reported. */
static bool
evalfn_rule(struct pfile *pf, const char *name, enum rule_type type,
    const char *call)
{
	char *fn = NULL, *args[8];
	size_t n = 0;
	const struct rules_evalfn *f;
	struct rule *r;
	const char *off;

	if (!rules_call_parse(call, &fn, args, NELEM(args) - 1, &n))
		return false;
	if ((off = rules_evalfn_kept_off(name)) != NULL &&
	    rules_evalfn_find(fn) != NULL) {
		for (size_t i = 0; i < n; i++)
			g_free(args[i]);
		g_free(fn);
		rule_skip(pf, name, off);
		return true;
	}
	if ((f = rules_evalfn_find(fn)) == NULL || type == RULE_MIMEHEADER ||
	    type == RULE_URI || n < f->min_args || n > f->max_args ||
	    (f->check != NULL && f->check((const char *const *)args, n) !=
	    NULL)) {
		char why[160];

		if (f != NULL && n >= f->min_args && n <= f->max_args &&
		    type != RULE_MIMEHEADER && type != RULE_URI)
			snprintf(why, sizeof(why), "eval:%s('%s'): %s", fn,
			    n > 0 ? args[0] : "", f->check((const char *
			    const *)args, n));
		else if (f != NULL)
			snprintf(why, sizeof(why), "eval:%s takes %u to %u "
			    "arguments in a %s rule", fn, f->min_args,
			    f->max_args, type == RULE_HEADER ? "header" :
			    "body, rawbody or full");
		for (size_t i = 0; i < n; i++)
			g_free(args[i]);
		g_free(fn);
		if (f == NULL)
			return false;
		rule_skip(pf, name, why);
		return true;
	}
	g_free(fn);
	r = rule_new(pf, name, type);
	r->evalfn = f;
	r->eval_args = g_new0(char *, n + 2);
	if (f->typed)
		r->eval_args[0] = g_strdup(type == RULE_BODY ? "body" :
		    type == RULE_RAWBODY ? "rawbody" : "full");
	memcpy(r->eval_args + (f->typed ? 1 : 0), args, n * sizeof(*args));
	rule_add(pf, r);
	return true;
}

/* Rules given as `eval:` tests run Perl code: skipped, but for those
 * vigil implements (rules_evalfn.c) and the DNS lists' (dnsbl_rules.c
 * keeps them; the dnsbl check runs them). */
static bool
skip_eval(struct pfile *pf, const char *name, enum rule_type type,
    const char *rest)
{
	char why[160];

	if (strncmp(rest, "eval:", 5) != 0)
		return false;
	if (evalfn_rule(pf, name, type, rest + 5))
		return true;
	switch (dnsbl_rules_eval(pf->set->dnsbl, name, rest + 5, why,
	    sizeof(why))) {
	case 1:
		g_hash_table_remove(pf->set->skipped, name);
		return true;
	case -1:
		rule_skip(pf, name, why);
		return true;
	default:
		break;
	}
	{
		char *fn = NULL, *args[8];
		size_t n = 0;

		if (rules_call_parse(rest + 5, &fn, args, NELEM(args) - 1,
		    &n)) {
			snprintf(why, sizeof(why), "eval:%s is not "
			    "implemented", fn);
			for (size_t i = 0; i < n; i++)
				g_free(args[i]);
			g_free(fn);
		} else
			snprintf(why, sizeof(why), "eval: test not read");
	}
	rule_skip(pf, name, why);
	return true;
}

/*
 * A new rule of type whose regex starts at rest (a column of line); NULL
 * when the regex cannot be read (reported).  *end_r: the text after it,
 * white space skipped.
 */
static struct rule *
rule_with_regex(struct pfile *pf, const char *name, enum rule_type type,
    const char *rest, const char *line, const char **end_r)
{
	struct rule *r;
	const char *why = NULL, *end;
	char *pat, *flags;
	int col = (int)(rest - line) + 1;

	if ((end = read_regex(rest, &pat, &flags, &why)) == NULL) {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    col, name, "%s", why);
		return NULL;
	}
	while (isspace((unsigned char)*end))
		end++;
	r = rule_new(pf, name, type);
	r->pattern = pat;
	r->flags = flags;
	/* Column of the first pattern character, for compile errors. */
	r->col = col + (*rest == 'm' ? 2 : 1);
	*end_r = end;
	return r;
}

/* Adds r when nothing is left at end; else reports it and frees r. */
static void
rule_add_at_end(struct pfile *pf, struct rule *r, const char *end,
    const char *line)
{
	if (*end != '\0') {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    (int)(end - line) + 1, r->name, "unexpected text after "
		    "the regex: '%.20s'", end);
		rule_free(r);
		return;
	}
	rule_add(pf, r);
}

static void
parse_pattern_rule(struct pfile *pf, const char *name, enum rule_type type,
    char *rest, const char *line)
{
	struct rule *r;
	const char *end;

	if (skip_eval(pf, name, type, rest))
		return;
	if ((r = rule_with_regex(pf, name, type, rest, line, &end)) != NULL)
		rule_add_at_end(pf, r, end, line);
}

/* Header modifiers: Hdr:raw, and for header rules :addr, :name, :first
 * and :last.  Cuts them off spec; false (the rule skipped) for others. */
static bool
header_mods(struct pfile *pf, const char *name, enum rule_type type,
    char *spec, unsigned *hmod_r)
{
	static const struct { const char *mod; unsigned bit; } mods[] = {
		{ "raw", HMOD_RAW }, { "addr", HMOD_ADDR },
		{ "name", HMOD_NAME }, { "first", HMOD_FIRST },
		{ "last", HMOD_LAST },
	};
	char *m, *nx, *colon = strchr(spec, ':');

	*hmod_r = 0;
	if (colon == NULL)
		return true;
	*colon = '\0';
	for (m = colon + 1; m != NULL && *m != '\0'; m = nx) {
		size_t k;

		if ((nx = strchr(m, ':')) != NULL)
			*nx++ = '\0';
		/* mimeheader knows :raw only, as in SpamAssassin. */
		for (k = 0; k < (type == RULE_MIMEHEADER ? 1 : NELEM(mods));
		    k++)
			if (strcmp(m, mods[k].mod) == 0)
				break;
		if (k == (type == RULE_MIMEHEADER ? 1 : NELEM(mods))) {
			char why[80];

			snprintf(why, sizeof(why), "header modifier :%.40s is "
			    "not supported", m);
			rule_skip(pf, name, why);
			return false;
		}
		*hmod_r |= mods[k].bit;
	}
	return true;
}

/* `[if-unset: STR]` at *endp, if there: sets r->if_unset.  False when
 * it does not close (reported). */
static bool
if_unset(struct pfile *pf, struct rule *r, const char **endp,
    const char *line)
{
	const char *end = *endp, *v, *close;

	if (strncmp(end, "[if-unset:", 10) != 0)
		return true;
	v = end + 10;
	if ((close = strrchr(v, ']')) == NULL) {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    (int)(end - line) + 1, r->name, "[if-unset: has no "
		    "closing ]");
		return false;
	}
	while (isspace((unsigned char)*v))
		v++;
	r->if_unset = strndup(v, (size_t)(close - v));
	g_strchomp(r->if_unset);
	for (end = close + 1; isspace((unsigned char)*end); end++)
		;
	*endp = end;
	return true;
}

/* The headers that relays added (ALL-TRUSTED, ALL-EXTERNAL, ...) need
 * where each Received header sits in the trust path: not computed here,
 * the rule is skipped.  The X-Spam-Relays-* headers are (rules_relay.c). */
static bool
is_relay_header(struct pfile *pf, const char *name, const char *hdr)
{
	char why[120];

	if (strncmp(hdr, "ALL-", 4) != 0)
		return false;
	snprintf(why, sizeof(why), "header %.40s is SpamAssassin's relay "
	    "analysis, which vigil does not compute", hdr);
	rule_skip(pf, name, why);
	return true;
}

/* header and mimeheader rules: `Hdr[:mods] =~ /re/ [if-unset: STR]`,
 * and header `exists:Hdr`. */
static void
parse_header_rule(struct pfile *pf, const char *name, enum rule_type type,
    char *rest, const char *line)
{
	struct rule *r;
	char *spec, *op;
	const char *end;
	unsigned hmod;

	if (skip_eval(pf, name, type, rest))
		return;
	if (type == RULE_HEADER && strncmp(rest, "exists:", 7) == 0) {
		if (is_relay_header(pf, name, rest + 7))
			return;
		r = rule_new(pf, name, RULE_HEADER);
		r->is_exists = true;
		r->hdr = strdup(rest + 7);
		g_strstrip(r->hdr);
		rule_add(pf, r);
		return;
	}
	spec = next_word(&rest);
	if (!header_mods(pf, name, type, spec, &hmod) ||
	    (type == RULE_HEADER && is_relay_header(pf, name, spec)))
		return;
	op = next_word(&rest);
	if (strcmp(op, "=~") != 0 && strcmp(op, "!~") != 0) {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    (int)(op - line) + 1, name, "expected =~ or !~ after the "
		    "header name, found '%.20s'", op);
		return;
	}
	if ((r = rule_with_regex(pf, name, type, rest, line, &end)) == NULL)
		return;
	if ((r->hdr = strdup(spec)) == NULL)
		log_oom(strlen(spec), "rules header");
	r->hmod = hmod;
	r->is_neg = op[0] == '!';
	if (!if_unset(pf, r, &end, line)) {
		rule_free(r);
		return;
	}
	rule_add_at_end(pf, r, end, line);
}

static void
parse_score(struct pfile *pf, const char *name, char *rest)
{
	double v[4];
	bool rel[4];
	int n = 0;
	struct rules_set *set = pf->set;

	while (*rest != '\0' && n < 4) {
		char *w = next_word(&rest), *end;
		size_t wl = strlen(w);

		rel[n] = wl > 2 && w[0] == '(' && w[wl - 1] == ')';
		if (rel[n]) {
			w[wl - 1] = '\0';
			w++;
		}
		v[n] = strtod(w, &end);
		if (end == w || *end != '\0') {
			diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line,
			    1, name, "score: '%s' is not a number", w);
			return;
		}
		/* Also catches nan and inf, which compare false. */
		if (!(v[n] >= -RULES_SCORE_MAX && v[n] <= RULES_SCORE_MAX)) {
			diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line,
			    1, name, "score: '%s' is outside [-%d, %d]", w,
			    RULES_SCORE_MAX, RULES_SCORE_MAX);
			return;
		}
		n++;
	}
	if (n != 1 && n != 4) {
		diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line, 1,
		    name, "score needs one value or four, found %d", n);
		return;
	}
	/*
	 * Four values: no Bayes/no net, net, Bayes, Bayes+net (snap.h's
	 * score sets); one value is all four.  A relative "(n)" adds to
	 * the score seen before.
	 */
	{
		double *old = g_hash_table_lookup(set->scores, name);
		double s[4];

		for (int k = 0; k < 4; k++) {
			int j = n == 4 ? k : 0;

			s[k] = v[j];
			if (!rel[j])
				continue;
			s[k] += old != NULL ? old[k] : 1.0;
			if (s[k] < -RULES_SCORE_MAX || s[k] > RULES_SCORE_MAX) {
				diag_emit(set, pf->diag, RULES_ERROR, pf->file,
				    pf->line, 1, name, "score: %.3f is outside "
				    "[-%d, %d]", s[k], RULES_SCORE_MAX,
				    RULES_SCORE_MAX);
				return;
			}
		}
		if (old == NULL) {
			old = g_new(double, 4);
			g_hash_table_insert(set->scores, g_strdup(name), old);
			g_ptr_array_add(set->score_order, g_strdup(name));
		}
		memcpy(old, s, sizeof(s));
		/* Where the score that counts was set (lint, rules list). */
		{
			struct rules_where *w = g_new(struct rules_where, 1);

			w->file = pf->file;
			w->line = pf->line;
			g_hash_table_replace(set->score_where, g_strdup(name),
			    w);
		}
	}
}

static void
parse_tflags(struct pfile *pf, const char *name, char *rest)
{
	static const struct { const char *flag; unsigned bit; } flags[] = {
		{ "nice", TF_NICE }, { "multiple", TF_MULTIPLE },
		{ "nosubject", TF_NOSUBJECT }, { "net", TF_NET },
		{ "learn", TF_LEARN }, { "userconf", TF_USERCONF },
		{ "noautolearn", TF_NOAUTOLEARN }, { "shadow", TF_SHADOW },
	};
	struct rules_attr *a = attr_get(pf->set, name);

	dnsbl_rules_tflags(pf->set->dnsbl, name, rest);
	a->tflags = 0;
	a->maxhits = 0;
	a->has_tflags = true;
	a->tflags_at.file = pf->file;
	a->tflags_at.line = pf->line;
	while (*rest != '\0') {
		char *w = next_word(&rest);

		if (strncmp(w, "maxhits=", 8) == 0)
			a->maxhits = (unsigned)strtoul(w + 8, NULL, 10);
		/* Other flags (publish, autolearn_force, domains_only, ...)
		 * change nothing in how vigil runs a rule. */
		for (size_t i = 0; i < NELEM(flags); i++)
			if (strcmp(w, flags[i].flag) == 0)
				a->tflags |= flags[i].bit;
	}
}

static void
parse_meta(struct pfile *pf, const char *name, char *rest, const char *line)
{
	struct rule *r = rule_new(pf, name, RULE_META);

	r->expr = strdup(rest);
	r->col = (int)(rest - line) + 1;
	rule_add(pf, r);
}

static void
parse_describe(struct pfile *pf, const char *name, char *rest)
{
	struct rules_attr *a = attr_get(pf->set, name);

	g_free(a->describe);
	a->describe = g_strdup(rest);
	a->describe_at.file = pf->file;
	a->describe_at.line = pf->line;
}

static void
parse_priority(struct pfile *pf, const char *name, char *rest)
{
	attr_get(pf->set, name)->priority = atoi(rest);
}

/* The directives that name a rule: `KEYWORD NAME REST`. */
enum dkind { D_HEADER, D_PATTERN, D_META, D_ATTR };
static const struct named_directive {
	const char	*kw;
	enum dkind	 kind;
	enum rule_type	 type;		/* D_HEADER, D_PATTERN */
	void		(*attr)(struct pfile *, const char *, char *);
	bool		 may_be_empty;
} named_directives[] = {
	{ "header", D_HEADER, RULE_HEADER, NULL, false },
	{ "mimeheader", D_HEADER, RULE_MIMEHEADER, NULL, false },
	{ "body", D_PATTERN, RULE_BODY, NULL, false },
	{ "rawbody", D_PATTERN, RULE_RAWBODY, NULL, false },
	{ "uri", D_PATTERN, RULE_URI, NULL, false },
	{ "full", D_PATTERN, RULE_FULL, NULL, false },
	{ "meta", D_META, RULE_META, NULL, false },
	{ "score", D_ATTR, RULE_META, parse_score, false },
	{ "describe", D_ATTR, RULE_META, parse_describe, true },
	{ "tflags", D_ATTR, RULE_META, parse_tflags, false },
	{ "priority", D_ATTR, RULE_META, parse_priority, false },
};

/* Does kw define a rule (not an attribute of one)? */
static bool
is_rule_directive(const char *kw)
{
	for (size_t i = 0; i < NELEM(named_directives); i++)
		if (strcmp(kw, named_directives[i].kw) == 0)
			return named_directives[i].kind != D_ATTR;
	return false;
}

/* The directive vigil reads that kw is most likely a typo of, or NULL. */
static const char *
directive_near(const char *kw)
{
	const char *best = NULL;
	int bd = 3;

	for (size_t i = 0; i < NELEM(named_directives); i++) {
		int d = rules_edit_distance(kw, named_directives[i].kw);

		if (d < bd) {
			bd = d;
			best = named_directives[i].kw;
		}
	}
	return best;
}

/* One directive of the table: the name checked, then its parser. */
static void
named_directive(struct pfile *pf, const struct named_directive *d,
    char *name, char *s, const char *line)
{
	if (!is_rule_name(name)) {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    (int)(name - line) + 1, name[0] ? name : "-",
		    "%s: '%s' is not a rule name (letters, digits, _)",
		    d->kw, name);
		return;
	}
	if (*s == '\0' && !d->may_be_empty) {
		diag_emit(pf->set, pf->diag, RULES_ERROR, pf->file, pf->line,
		    (int)strlen(line) + 1, name, "%s: nothing after the rule "
		    "name", d->kw);
		return;
	}
	switch (d->kind) {
	case D_HEADER:
		parse_header_rule(pf, name, d->type, s, line);
		break;
	case D_PATTERN:
		parse_pattern_rule(pf, name, d->type, s, line);
		break;
	case D_META:
		parse_meta(pf, name, s, line);
		break;
	case D_ATTR:
		d->attr(pf, name, s);
		break;
	}
}

/*
 * The rule named carrier that holds a list as its eval arguments, made
 * the first time (scored 0: it never runs).
 */
static struct rule *
carrier_rule(struct pfile *pf, const char *carrier)
{
	struct rule *r = g_hash_table_lookup(pf->set->by_name, carrier);

	if (r == NULL) {
		char zero[] = "0";

		r = rule_new(pf, carrier, RULE_HEADER);
		r->evalfn = rules_evalfn_find(RULES_FREEMAIL_FN);
		r->eval_args = g_new0(char *, 1);
		rule_add(pf, r);
		parse_score(pf, carrier, zero);
	}
	return r;
}

/*
 * FreeMail's freemail_domains and freemail_welcomelist (freemail_whitelist):
 * each word, lower case, joins the sorted list its carrier rule holds as
 * eval arguments (rules_eval_head.c reads them).  A carrier never runs:
 * its score is 0.  Words FreeMail.pm would refuse are warned about.
 */
static void
freemail_directive(struct pfile *pf, const char *kw, char *s)
{
	bool is_dom = strcmp(kw, "freemail_domains") == 0;

	while (*s != '\0') {
		char *w = g_ascii_strdown(next_word(&s), -1);
		const char *carrier = !is_dom ? RULES_FREEMAIL_WELCOME :
		    strpbrk(w, "*?") != NULL ? RULES_FREEMAIL_WILD :
		    RULES_FREEMAIL_DOMAINS;
		struct rule *r = carrier_rule(pf, carrier);
		size_t lo = 0, hi, n = 0;

		while (r->eval_args[n] != NULL)
			n++;
		hi = n;
		if (w[0] == '\0') {
			g_free(w);
			break;
		}
		if (is_dom ? w[strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789"
		    ".*?-")] != '\0' : !g_regex_match_simple("\\w[.@]\\w", w,
		    0, 0)) {
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: '%s' is not valid: ignored",
			    kw, w);
			g_free(w);
			continue;
		}
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (strcmp(r->eval_args[mid], w) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && strcmp(r->eval_args[lo], w) == 0) {
			g_free(w);
			continue;
		}
		r->eval_args = g_renew(char *, r->eval_args, n + 2);
		memmove(r->eval_args + lo + 1, r->eval_args + lo,
		    (n - lo + 1) * sizeof(char *));
		r->eval_args[lo] = w;
		n++;
	}
}

/*
 * WelcomeListSubject's welcomelist_subject and blocklist_subject
 * (whitelist_subject, blacklist_subject): the rest of the line, lower
 * case, is one pattern (blanks and all, as WelcomeListSubject.pm reads
 * it), and joins its carrier rule's eval arguments (rules_evalfn.c
 * matches them), once.
 */
static void
subject_list_directive(struct pfile *pf, const char *kw, char *s)
{
	const char *carrier = kw[0] == 'w' ? RULES_SUBJECT_WELCOME :
	    RULES_SUBJECT_BLOCK;
	struct rule *r = carrier_rule(pf, carrier);

	{
		char *w = g_strstrip(g_ascii_strdown(s, -1));
		size_t n = 0;
		bool seen = w[0] == '\0';

		for (; r->eval_args[n] != NULL; n++)
			seen = seen || strcmp(r->eval_args[n], w) == 0;
		if (seen) {
			g_free(w);
			return;
		}
		r->eval_args = g_renew(char *, r->eval_args, n + 2);
		r->eval_args[n] = w;
		r->eval_args[n + 1] = NULL;
	}
}

/* Adds entry (taken) to the list of the carrier prefix+name, unless
 * there; with drop_key, first drops the entries whose text up to a
 * blank, or after a "!", is the same. */
static void
wlbl_list_add(struct pfile *pf, const char *prefix, const char *name,
    char *entry, bool drop_key)
{
	char *carrier = g_strconcat(prefix, name, NULL);
	struct rule *r = carrier_rule(pf, carrier);
	size_t n = 0, w = 0;
	const char *key = entry + (entry[0] == '!');

	g_free(carrier);
	for (; r->eval_args[n] != NULL; n++) {
		const char *e = r->eval_args[n] + (drop_key &&
		    r->eval_args[n][0] == '!');

		if (strcmp(r->eval_args[n], entry) == 0 ||
		    (drop_key && strcmp(e, key) == 0)) {
			g_free(r->eval_args[n]);
			continue;
		}
		r->eval_args[w++] = r->eval_args[n];
	}
	r->eval_args = g_renew(char *, r->eval_args, w + 2);
	r->eval_args[w] = entry;
	r->eval_args[w + 1] = NULL;
}

/* Drops from the list prefix+name (if it exists) the entries key is,
 * or (rcvd) is the address of, or (hosts) is with its "!". */
static void
wlbl_list_remove(struct pfile *pf, const char *prefix, const char *name,
    const char *key, bool rcvd)
{
	char *carrier = g_strconcat(prefix, name, NULL);
	struct rule *r = g_hash_table_lookup(pf->set->by_name, carrier);
	size_t w = 0;

	g_free(carrier);
	if (r == NULL || r->eval_args == NULL)
		return;
	for (size_t n = 0; r->eval_args[n] != NULL; n++) {
		const char *e = r->eval_args[n];
		size_t kl = strlen(key);

		if (strcmp(prefix, RULES_URIHOST_PREFIX) == 0 && e[0] == '!')
			e++;
		if (strcmp(e, key) == 0 || (rcvd && strncmp(e, key, kl) == 0 &&
		    e[kl] == ' ')) {
			g_free(r->eval_args[n]);
			continue;
		}
		r->eval_args[w++] = r->eval_args[n];
	}
	r->eval_args[w] = NULL;
}

/* The (NAME) a list directive's value opens with (g_malloc'd; *sp
 * past it and the blanks after it), or NULL: ^ \( (.+?) \) \s+ */
static char *
list_name(char **sp)
{
	char *s = *sp, *close = s[0] == '(' ? strchr(s, ')') : NULL;
	char *name;

	if (close == NULL || close == s + 1 || !isspace((unsigned char)
	    close[1]))
		return NULL;
	name = g_strndup(s + 1, (size_t)(close - s - 1));
	s = close + 1;
	while (isspace((unsigned char)*s))
		s++;
	*sp = s;
	return name;
}

/* The directives of SpamAssassin's Conf.pm that fill WLBLEval's and
 * VBounce's address lists, by name, old name, and list. */
static const struct {
	const char	*kw, *old, *list;
	bool		 remove;
} wlbl_addr_directives[] = {
	{ "welcomelist_from", "whitelist_from", "welcomelist_from", false },
	{ "unwelcomelist_from", "unwhitelist_from", "welcomelist_from", true },
	{ "blocklist_from", "blacklist_from", "blocklist_from", false },
	{ "unblocklist_from", "unblacklist_from", "blocklist_from", true },
	{ "welcomelist_to", "whitelist_to", "welcomelist_to", false },
	{ "blocklist_to", "blacklist_to", "blocklist_to", false },
	{ "more_spam_to", NULL, "more_spam_to", false },
	{ "all_spam_to", NULL, "all_spam_to", false },
	{ "welcomelist_allows_relays", "whitelist_allows_relays",
	    "welcomelist_allows_relays", false },
	{ "welcomelist_bounce_relays", "whitelist_bounce_relays",
	    "welcomelist_bounce_relays", false },
	/* Plugin::SPF's and Conf.pm's: the envelope sender (SPF) or the
	 * author (DKIM) of an authenticated message */
	{ "welcomelist_from_spf", "whitelist_from_spf",
	    "welcomelist_from_spf", false },
	{ "def_welcomelist_from_spf", "def_whitelist_from_spf",
	    "def_welcomelist_from_spf", false },
	{ "welcomelist_auth", "whitelist_auth", "welcomelist_auth", false },
	{ "def_welcomelist_auth", "def_whitelist_auth",
	    "def_welcomelist_auth", false },
};

/* A bad line of a welcomelist or ADSP directive: an error for lint (as
 * SpamAssassin's --lint fails on it), a warning for the daemon, which
 * ignores the line and loads the rest. */
static enum rules_sev
bad_line_sev(const struct pfile *pf)
{
	return pf->diag != NULL && pf->diag->is_strict ? RULES_ERROR :
	    RULES_WARN;
}

/* adsp_override's signing practices, by keyword: N/U/A/D/1/2/3 */
static char
adsp_practice(const char *w)
{
	static const struct { const char *kw; char c; } p[] = {
		{ "nxdomain", 'N' }, { "unknown", 'U' }, { "all", 'A' },
		{ "discardable", 'D' }, { "custom_low", '1' },
		{ "custom_med", '2' }, { "custom_high", '3' },
	};

	if (*w == '\0')
		return 'D';
	for (size_t i = 0; i < NELEM(p); i++)
		if (g_ascii_strcasecmp(w, p[i].kw) == 0)
			return p[i].c;
	return '\0';
}

/*
 * Plugin::DKIM's adsp_override: "domain [practices]" as
 * ^ \@? ([*a-z0-9._-]+) (\s+ practices)? $, kept (lower case) as the
 * entry "domain C" of the list adsp_override, a later line for the same
 * domain replacing the earlier (Conf's hash).
 */
static void
adsp_override_directive(struct pfile *pf, char *s)
{
	char *dom = next_word(&s), *pr = next_word(&s), c;
	char *low;

	if (*dom == '@')
		dom++;
	c = adsp_practice(pr);
	if (*dom == '\0' || dom[strspn(dom, "*abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] != '\0' ||
	    c == '\0' || *s != '\0') {
		diag_emit(pf->set, pf->diag, bad_line_sev(pf), pf->file, pf->line, 1,
		    "-", "adsp_override: needs a domain and optionally one "
		    "of nxdomain, unknown, all, discardable, custom_low, "
		    "custom_med, custom_high: ignored");
		return;
	}
	low = g_ascii_strdown(dom, -1);
	wlbl_list_remove(pf, RULES_ADSP_PREFIX, "adsp_override", low, true);
	wlbl_list_add(pf, RULES_ADSP_PREFIX, "adsp_override",
	    g_strdup_printf("%s %c", low, c), false);
	g_free(low);
}

/*
 * Plugin::DKIM's welcomelist_from_dkim and def_welcomelist_from_dkim
 * ("author [signing-domain]", one a line: the entries "glob" and
 * "glob sdid", lower case, of their lists), unwelcomelist_from_dkim
 * (the same words, dropped from both), and the removals of
 * unwelcomelist_from_spf and unwelcomelist_auth (from the list and its
 * def_ one).  True when kw is one of them.
 */
static bool
wlbl_auth_directive(struct pfile *pf, const char *kw, char *s)
{
	static const char *const dkim[] = { "welcomelist_from_dkim",
	    "def_welcomelist_from_dkim" };
	const char *k = kw;
	bool def = false, un = false;

	if (strcmp(kw, "adsp_override") == 0) {
		adsp_override_directive(pf, s);
		return true;
	}
	if (strncmp(k, "def_", 4) == 0) {
		def = true;
		k += 4;
	} else if (strncmp(k, "un", 2) == 0) {
		un = true;
		k += 2;
	}
	if (strcmp(k, "welcomelist_from_dkim") != 0 &&
	    strcmp(k, "whitelist_from_dkim") != 0) {
		const char *list = NULL;

		if (!un)
			return false;
		if (strcmp(k, "welcomelist_from_spf") == 0 ||
		    strcmp(k, "whitelist_from_spf") == 0)
			list = "welcomelist_from_spf";
		else if (strcmp(k, "welcomelist_auth") == 0 ||
		    strcmp(k, "whitelist_auth") == 0)
			list = "welcomelist_auth";
		else
			return false;
		if (*s == '\0')
			diag_emit(pf->set, pf->diag, bad_line_sev(pf), pf->file,
			    pf->line, 1, "-", "%s: needs a value: ignored", kw);
		while (*s != '\0') {
			char *a = g_ascii_strdown(next_word(&s), -1);
			char *d = g_strconcat("def_", list, NULL);

			wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX, list, a,
			    false);
			wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX, d, a, false);
			g_free(d);
			g_free(a);
		}
		return true;
	}
	{
		char *addr = g_ascii_strdown(next_word(&s), -1);
		char *sdid = g_ascii_strdown(next_word(&s), -1);
		char *e = sdid[0] != '\0' ? g_strconcat(addr, " ", sdid, NULL) :
		    g_strdup(addr);

		if (addr[0] == '\0' || *s != '\0') {
			diag_emit(pf->set, pf->diag, bad_line_sev(pf), pf->file,
			    pf->line, 1, "-", "%s: needs an author address and "
			    "optionally a signing domain: ignored", kw);
			g_free(e);
		} else if (un) {
			for (size_t i = 0; i < NELEM(dkim); i++)
				wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX,
				    dkim[i], e, false);
			g_free(e);
		} else
			wlbl_list_add(pf, RULES_ADDRLIST_PREFIX, dkim[def], e,
			    false);
		g_free(addr);
		g_free(sdid);
	}
	return true;
}

/*
 * WLBLEval's lists (Conf.pm): address lists of lower-case globs, the
 * "address relay" pairs of (def_)welcomelist_from_rcvd, the named lists
 * of enlist_addrlist, and the URI host lists.  True when kw is one of
 * them.
 */
static bool
wlbl_directive(struct pfile *pf, const char *kw, char *s)
{
	const char *list = NULL;
	bool remove = false;
	char *name = NULL;

	for (size_t i = 0; i < NELEM(wlbl_addr_directives); i++)
		if (strcmp(kw, wlbl_addr_directives[i].kw) == 0 ||
		    (wlbl_addr_directives[i].old != NULL &&
		    strcmp(kw, wlbl_addr_directives[i].old) == 0)) {
			list = wlbl_addr_directives[i].list;
			remove = wlbl_addr_directives[i].remove;
		}
	if (list == NULL && (strcmp(kw, "enlist_addrlist") == 0 ||
	    strcmp(kw, "enlist_uri_host") == 0 ||
	    strcmp(kw, "delist_uri_host") == 0)) {
		name = list_name(&s);
		if ((name == NULL && kw[0] == 'e') || *s == '\0') {
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: needs (LISTNAME) and "
			    "values: ignored", kw);
			g_free(name);
			return true;
		}
		if (kw[2] == 'l' && kw[7] == 'a') {	/* enlist_addrlist */
			while (*s != '\0')
				wlbl_list_add(pf, RULES_ADDRLIST_PREFIX, name,
				    g_ascii_strdown(next_word(&s), -1), false);
		} else if (kw[0] == 'e') {
			while (*s != '\0')
				wlbl_list_add(pf, RULES_URIHOST_PREFIX, name,
				    g_ascii_strdown(next_word(&s), -1), true);
		} else {
			while (*s != '\0') {
				char *h = g_ascii_strdown(next_word(&s), -1);
				const char *key = h + (h[0] == '!');

				if (name != NULL)
					wlbl_list_remove(pf,
					    RULES_URIHOST_PREFIX, name, key,
					    false);
				else {
					GHashTableIter it;
					gpointer k;
					size_t pl = strlen(RULES_URIHOST_PREFIX);

					g_hash_table_iter_init(&it,
					    pf->set->by_name);
					while (g_hash_table_iter_next(&it, &k,
					    NULL))
						if (strncmp(k,
						    RULES_URIHOST_PREFIX,
						    pl) == 0)
							wlbl_list_remove(pf,
							    RULES_URIHOST_PREFIX,
							    (char *)k + pl, key,
							    false);
				}
				g_free(h);
			}
		}
		g_free(name);
		return true;
	}
	if (list == NULL && (strcmp(kw, "blocklist_uri_host") == 0 ||
	    strcmp(kw, "blacklist_uri_host") == 0 ||
	    strcmp(kw, "welcomelist_uri_host") == 0 ||
	    strcmp(kw, "whitelist_uri_host") == 0)) {
		const char *l = kw[0] == 'b' ? "BLOCK" : "WELCOME";

		while (*s != '\0')
			wlbl_list_add(pf, RULES_URIHOST_PREFIX, l,
			    g_ascii_strdown(next_word(&s), -1), true);
		return true;
	}
	if (list == NULL && (strcmp(kw, "welcomelist_from_rcvd") == 0 ||
	    strcmp(kw, "whitelist_from_rcvd") == 0 ||
	    strcmp(kw, "def_welcomelist_from_rcvd") == 0 ||
	    strcmp(kw, "def_whitelist_from_rcvd") == 0)) {
		char *addr = g_ascii_strdown(next_word(&s), -1);
		char *relay = g_ascii_strdown(next_word(&s), -1);

		if (addr[0] == '\0' || relay[0] == '\0' || *s != '\0')
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: needs an address and a "
			    "relay: ignored", kw);
		else
			wlbl_list_add(pf, RULES_ADDRLIST_PREFIX, kw[0] == 'd' ?
			    "def_welcomelist_from_rcvd" :
			    "welcomelist_from_rcvd", g_strconcat(addr, " ",
			    relay, NULL), false);
		g_free(addr);
		g_free(relay);
		return true;
	}
	if (list == NULL && (strcmp(kw, "unwelcomelist_from_rcvd") == 0 ||
	    strcmp(kw, "unwhitelist_from_rcvd") == 0)) {
		while (*s != '\0') {
			char *addr = g_ascii_strdown(next_word(&s), -1);

			wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX,
			    "welcomelist_from_rcvd", addr, true);
			wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX,
			    "def_welcomelist_from_rcvd", addr, true);
			g_free(addr);
		}
		return true;
	}
	if (list == NULL)
		return false;
	if (*s == '\0')
		diag_emit(pf->set, pf->diag, RULES_WARN, pf->file, pf->line, 1,
		    "-", "%s: needs a value: ignored", kw);
	while (*s != '\0') {
		char *a = g_ascii_strdown(next_word(&s), -1);

		if (remove) {
			wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX, list, a,
			    false);
			g_free(a);
		} else
			wlbl_list_add(pf, RULES_ADDRLIST_PREFIX, list, a,
			    false);
	}
	return true;
}

/*
 * FromNameSpoof's settings: fns_add_addrlist (NAME) and
 * fns_remove_addrlist (NAME) edit the owner list NAME (lower case) of
 * address globs; fns_extrachars N and fns_check 0|1|2 keep their last
 * value; fns_ignore_dkim (lower case) and fns_ignore_headers add words.
 * True when kw is one of them.
 */
static bool
fns_directive(struct pfile *pf, const char *kw, char *s)
{
	if (strcmp(kw, "fns_add_addrlist") == 0 ||
	    strcmp(kw, "fns_remove_addrlist") == 0) {
		char *name = list_name(&s), *low, *list;

		if (name == NULL || *s == '\0') {
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: needs (LISTNAME) and "
			    "values: ignored", kw);
			g_free(name);
			return true;
		}
		low = g_ascii_strdown(name, -1);
		list = g_strconcat("FNS_", low, NULL);
		while (*s != '\0') {
			char *a = g_ascii_strdown(next_word(&s), -1);

			if (kw[4] == 'a')
				wlbl_list_add(pf, RULES_ADDRLIST_PREFIX, list,
				    a, false);
			else {
				wlbl_list_remove(pf, RULES_ADDRLIST_PREFIX,
				    list, a, false);
				g_free(a);
			}
		}
		if (kw[4] == 'a')
			wlbl_list_add(pf, RULES_FNS_PREFIX, "OWNERS", low,
			    false);
		else
			g_free(low);
		g_free(list);
		g_free(name);
		return true;
	}
	if (strcmp(kw, "fns_extrachars") == 0 || strcmp(kw, "fns_check") == 0) {
		struct rule *r;
		char *v = next_word(&s), *end;

		if (*v == '\0' || *s != '\0' || (strtod(v, &end), *end != '\0') ||
		    (kw[4] == 'c' && (v[1] != '\0' || strchr("012", v[0]) ==
		    NULL))) {
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: '%s' is not a valid "
			    "value: ignored", kw, v);
			return true;
		}
		r = carrier_rule(pf, kw[4] == 'c' ? RULES_FNS_PREFIX "CHECK" :
		    RULES_FNS_PREFIX "EXTRACHARS");
		g_strfreev(r->eval_args);
		r->eval_args = g_new0(char *, 2);
		r->eval_args[0] = g_strdup(v);
		return true;
	}
	if (strcmp(kw, "fns_ignore_dkim") == 0 ||
	    strcmp(kw, "fns_ignore_headers") == 0) {
		bool dkim = kw[11] == 'd';

		if (*s == '\0')
			diag_emit(pf->set, pf->diag, RULES_WARN, pf->file,
			    pf->line, 1, "-", "%s: needs a value: ignored", kw);
		while (*s != '\0') {
			char *w = next_word(&s);

			wlbl_list_add(pf, RULES_FNS_PREFIX, dkim ?
			    "IGNORE_DKIM" : "IGNORE_HEADERS", dkim ?
			    g_ascii_strdown(w, -1) : g_strdup(w), false);
		}
		return true;
	}
	return false;
}

/*
 * ok_locales xx [yy ...]: only the last line counts (Conf.pm); its words
 * are the carrier rule's eval arguments.
 */
static void
ok_locales_directive(struct pfile *pf, char *s)
{
	struct rule *r;
	GPtrArray *w = g_ptr_array_new();

	if (*s == '\0') {
		diag_emit(pf->set, pf->diag, RULES_WARN, pf->file, pf->line, 1,
		    "-", "ok_locales: needs a value: ignored");
		g_ptr_array_free(w, TRUE);
		return;
	}
	while (*s != '\0')
		g_ptr_array_add(w, g_strdup(next_word(&s)));
	g_ptr_array_add(w, NULL);
	r = carrier_rule(pf, RULES_OK_LOCALES);
	g_strfreev(r->eval_args);
	r->eval_args = (char **)g_ptr_array_free(w, FALSE);
}

static void
directive(struct pfile *pf, char *s, const char *line)
{
	struct rules_set *set = pf->set;
	char *kw = next_word(&s), *name;

	/* Conditionals are read even inside inactive blocks. */
	if (strcmp(kw, "if") == 0 || strcmp(kw, "ifplugin") == 0) {
		int v;

		if (pf->depth == (int)NELEM(pf->active)) {
			diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line,
			    1, "-", "if blocks nested too deep");
			return;
		}
		if (kw[2] == 'p')
			v = in_list(implemented_plugins, g_strstrip(s));
		else if ((v = cond_eval(s)) < 0) {
			diag_emit(set, pf->diag, RULES_WARN, pf->file, pf->line,
			    (int)(s - line) + 1, "-", "cannot read the "
			    "condition '%.40s': block skipped", s);
			v = 0;
		}
		pf->active[pf->depth] = v;
		pf->was_active[pf->depth] = v;
		pf->plugin[pf->depth] = NULL;
		if (kw[2] == 'p') {
			const char *p = strrchr(s, ':');

			pf->plugin[pf->depth] = g_string_chunk_insert(
			    set->strings, p != NULL ? p + 1 : s);
		}
		pf->depth++;
		return;
	}
	if (strcmp(kw, "else") == 0) {
		if (pf->depth == 0) {
			diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line,
			    1, "-", "else without if");
			return;
		}
		pf->active[pf->depth - 1] = !pf->was_active[pf->depth - 1];
		return;
	}
	if (strcmp(kw, "endif") == 0) {
		if (pf->depth == 0) {
			diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line,
			    1, "-", "endif without if");
			return;
		}
		pf->depth--;
		return;
	}
	if (!pf_active(pf)) {
		/* Lint: scores elsewhere may name the rules of a block that
		 * is off; those are not undefined. */
		if (pf->diag != NULL && pf->diag->is_strict &&
		    (in_list(dns_rule_directives, kw) ||
		    is_rule_directive(kw))) {
			const char *rname = next_word(&s), *plugin = NULL;

			/* The innermost level that is off says why. */
			for (int i = pf->depth - 1; i >= 0; i--)
				if (!pf->active[i]) {
					plugin = pf->plugin[i];
					break;
				}
			if (plugin != NULL && !g_hash_table_contains(
			    set->gated, rname))
				g_hash_table_insert(set->gated, g_strdup(rname),
				    g_strdup(plugin));
			g_hash_table_add(set->inactive, g_strdup(rname));
		}
		return;
	}

	if (strcmp(kw, "replace_start") == 0 || strcmp(kw, "replace_end") == 0) {
		char **dst = kw[8] == 's' ? &set->replace_start :
		    &set->replace_end;

		g_free(*dst);
		*dst = g_strdup(g_strstrip(s));
		return;
	}
	if (strcmp(kw, "replace_rules") == 0) {
		while (*s != '\0')
			g_hash_table_add(set->replace_rules,
			    g_strdup(next_word(&s)));
		return;
	}
	if (in_list(quiet_directives, kw))
		return;
	if (strcmp(kw, "uridnsbl_skip_domain") == 0) {
		dnsbl_rules_skip_domains(set->dnsbl, s);
		return;
	}

	if (strcmp(kw, "freemail_domains") == 0 ||
	    strcmp(kw, "freemail_welcomelist") == 0 ||
	    strcmp(kw, "freemail_whitelist") == 0) {
		freemail_directive(pf, kw, s);
		return;
	}
	if (strcmp(kw, "welcomelist_subject") == 0 ||
	    strcmp(kw, "whitelist_subject") == 0 ||
	    strcmp(kw, "blocklist_subject") == 0 ||
	    strcmp(kw, "blacklist_subject") == 0) {
		subject_list_directive(pf, kw, s);
		return;
	}
	if (wlbl_auth_directive(pf, kw, s))
		return;
	if (wlbl_directive(pf, kw, s))
		return;
	if (fns_directive(pf, kw, s))
		return;
	if (strcmp(kw, "ok_locales") == 0) {
		ok_locales_directive(pf, s);
		return;
	}

	name = next_word(&s);
	if (strcmp(kw, "replace_tag") == 0 || strcmp(kw, "replace_pre") == 0 ||
	    strcmp(kw, "replace_inter") == 0 || strcmp(kw, "replace_post") == 0) {
		GHashTable *h = kw[8] == 't' ? set->replace_tag :
		    kw[8] == 'p' && kw[9] == 'r' ? set->replace_pre :
		    kw[8] == 'i' ? set->replace_inter : set->replace_post;

		g_hash_table_replace(h, g_strdup(name), g_strdup(s));
		return;
	}
	for (size_t i = 0; i < NELEM(named_directives); i++)
		if (strcmp(kw, named_directives[i].kw) == 0) {
			named_directive(pf, &named_directives[i], name, s,
			    line);
			return;
		}
	if (in_list(dns_rule_directives, kw)) {
		char why[160];

		if (!is_rule_name(name))
			diag_emit(set, pf->diag, RULES_ERROR, pf->file,
			    pf->line, 1, name[0] ? name : "-", "%s: '%s' is "
			    "not a rule name (letters, digits, _)", kw, name);
		else if (dnsbl_rules_directive(set->dnsbl, kw, name, s, why,
		    sizeof(why)) == -1)
			rule_skip(pf, name, why);
		else
			g_hash_table_remove(set->skipped, name);
	} else if (pf->diag != NULL && pf->diag->is_strict &&
	    !rules_is_sa_directive(kw)) {
		const char *near = directive_near(kw);

		diag_emit(set, pf->diag, RULES_ERROR, pf->file, pf->line, 1,
		    "-", "unknown directive '%.60s'%s%s%s", kw,
		    near != NULL ? " (did you mean '" : "",
		    near != NULL ? near : "", near != NULL ? "'?)" : "");
	} else {
		struct unsup *u = g_hash_table_lookup(pf->unsupported, kw);

		if (u == NULL) {
			u = g_new0(struct unsup, 1);
			u->line = pf->line;
			g_hash_table_insert(pf->unsupported, g_strdup(kw), u);
		}
		u->count++;
		set->nunread++;
	}
}

int
rules_load_string(struct rules_set *set, const char *file, const char *text,
    const struct rules_diag *diag)
{
	struct pfile pf = { .set = set, .diag = diag };
	size_t errs = set->nerrors;
	const char *p = text;
	GHashTableIter it;
	gpointer k, v;

	pf.file = g_string_chunk_insert(set->strings, file);
	pf.unsupported = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = g_strndup(p, n), *s, *hash;

		pf.line++;
		p += n + (nl != NULL);
		/* Comments: # to the end, unless escaped as \#. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
			if (hash > line && hash[-1] == '\\') {
				memmove(hash - 1, hash, strlen(hash) + 1);
				continue;
			}
			*hash = '\0';
			break;
		}
		g_strchomp(line);
		s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			directive(&pf, s, line);
		g_free(line);
	}
	if (pf.depth != 0)
		diag_emit(set, diag, RULES_ERROR, pf.file, pf.line, 1, "-",
		    "%d if block%s not closed with endif", pf.depth,
		    pf.depth > 1 ? "s" : "");
	g_hash_table_iter_init(&it, pf.unsupported);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct unsup *u = v;

		diag_emit(set, diag, RULES_WARN, pf.file, u->line, 1, "-",
		    "unsupported directive '%s' skipped (%d line%s in this "
		    "file)", (const char *)k, u->count, u->count > 1 ? "s" : "");
	}
	g_hash_table_destroy(pf.unsupported);
	return (int)(set->nerrors - errs);
}

static int
load_file(struct rules_set *set, const char *path,
    const struct rules_diag *diag)
{
	gchar *text = NULL;
	GError *gerr = NULL;
	int n;

	const char *nul;
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		diag_emit(set, diag, RULES_ERROR, path, 0, 0, "-", "cannot "
		    "read: %s", gerr->message);
		g_error_free(gerr);
		return 1;
	}
	/* Lint: NUL bytes mean it is not a rules file at all. */
	if (diag != NULL && diag->is_strict &&
	    (nul = memchr(text, '\0', len)) != NULL) {
		diag_emit(set, diag, RULES_ERROR, path, 0, 0, "-", "not a "
		    "rules file: NUL byte at offset %zu", (size_t)(nul - text));
		g_free(text);
		return 1;
	}
	rules_hash_text(set, text, len);
	n = rules_load_string(set, path, text, diag);
	g_free(text);
	return n;
}

int
rules_load_shadow_path(struct rules_set *set, const char *path,
    const struct rules_diag *diag)
{
	int errs;

	set->is_loading_shadow = true;
	errs = rules_load_path(set, path, diag);
	set->is_loading_shadow = false;
	return errs;
}

void
rules_hash_text(struct rules_set *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	set->content_hash = XXH3_64bits_withSeed(text, len, set->content_hash);
	/* The weights: `score` lines, blanks at either end ignored. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (e - p > 6 && strncmp(p, "score", 5) == 0 &&
		    (p[5] == ' ' || p[5] == '\t')) {
			const char *q = e;

			while (q > p && (q[-1] == ' ' || q[-1] == '\t' ||
			    q[-1] == '\r'))
				q--;
			set->score_hash = XXH3_64bits_withSeed(p,
			    (size_t)(q - p), set->score_hash);
		}
		p = e + 1;
	}
}

void
rules_set_hashes(const struct rules_set *set, uint64_t *rules_r,
    uint64_t *scores_r)
{
	*rules_r = set->content_hash;
	*scores_r = set->score_hash;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
rules_load_path(struct rules_set *set, const char *path,
    const struct rules_diag *diag)
{
	struct stat st;
	GPtrArray *names;
	DIR *d;
	struct dirent *de;
	int errs = 0;

	if (stat(path, &st) == -1) {
		diag_emit(set, diag, RULES_ERROR, path, 0, 0, "-", "%s",
		    strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(set, path, diag);
	if ((d = opendir(path)) == NULL) {
		diag_emit(set, diag, RULES_ERROR, path, 0, 0, "-", "opendir: %s",
		    strerror(errno));
		return 1;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (g_str_has_suffix(de->d_name, ".rules") ||
		    g_str_has_suffix(de->d_name, ".cf"))
			g_ptr_array_add(names, g_strdup(de->d_name));
	}
	closedir(d);
	if (names->len > 0)
		qsort(names->pdata, names->len, sizeof(char *), name_cmp);
	for (guint i = 0; i < names->len; i++) {
		char *p = g_build_filename(path, names->pdata[i], NULL);

		errs += load_file(set, p, diag);
		g_free(p);
	}
	if (names->len == 0)
		diag_emit(set, diag, RULES_WARN, path, 0, 0, "-",
		    "no *.rules or *.cf files in this folder");
	g_ptr_array_free(names, TRUE);
	return errs;
}
