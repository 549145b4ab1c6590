/*
 * rules_set.c - a rule set's life: creation, compilation (attributes and
 * scores applied, ReplaceTags tags expanded, regexes and metas compiled,
 * evaluation order fixed, optional stress test), figures and counters,
 * and release.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_wlbl.h"
#include "checks/dnsbl/dnsbl_int.h"

struct rules_set *
rules_set_new(const struct rules_limits *lim)
{
	struct rules_set *set = g_new0(struct rules_set, 1);

	set->lim = *lim;
	set->rules = g_ptr_array_new();
	set->hslots = g_ptr_array_new();
	set->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	set->dnsbl = dnsbl_rules_new();
	set->ext_idx = g_hash_table_new(g_str_hash, g_str_equal);
	set->skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	set->scores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	set->score_order = g_ptr_array_new_with_free_func(g_free);
	set->attrs = g_hash_table_new(g_str_hash, g_str_equal);
	set->score_where = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	set->inactive = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	set->gated = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	set->strings = g_string_chunk_new(4096);
	set->replace_tag = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	set->replace_pre = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	set->replace_inter = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	set->replace_post = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	set->replace_rules = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	set->replace_start = g_strdup("<");
	set->replace_end = g_strdup(">");
	return set;
}

void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->hdr);
	free(r->if_unset);
	free(r->pattern);
	free(r->flags);
	rx_free(r->rx);
	rx_free(r->screen);
	g_strfreev(r->lits);
	g_strfreev(r->eval_args);
	g_free(r->expanded);
	g_free(r->lit_ids);
	free(r->expr);
	meta_free(r->meta);
	free(r);
}

static void
attr_free(gpointer key, gpointer value, gpointer data)
{
	struct rules_attr *a = value;

	g_free(key);
	g_free(a->describe);
	g_free(a);
}

void
rules_set_free(struct rules_set **setp)
{
	struct rules_set *set = *setp;

	if (set == NULL)
		return;
	*setp = NULL;
	for (guint i = 0; i < set->rules->len; i++)
		rule_free(set->rules->pdata[i]);
	g_ptr_array_free(set->rules, TRUE);
	g_ptr_array_free(set->hslots, TRUE);
	g_hash_table_destroy(set->by_name);
	g_hash_table_destroy(set->skipped);
	g_hash_table_destroy(set->ext_idx);
	dnsbl_rules_free(&set->dnsbl);
	g_hash_table_destroy(set->scores);
	g_ptr_array_free(set->score_order, TRUE);
	g_hash_table_foreach(set->attrs, attr_free, NULL);
	g_hash_table_destroy(set->attrs);
	g_hash_table_destroy(set->score_where);
	g_hash_table_destroy(set->inactive);
	g_hash_table_destroy(set->gated);
	g_string_chunk_free(set->strings);
	g_hash_table_destroy(set->replace_tag);
	g_hash_table_destroy(set->replace_pre);
	g_hash_table_destroy(set->replace_inter);
	g_hash_table_destroy(set->replace_post);
	g_hash_table_destroy(set->replace_rules);
	g_free(set->replace_start);
	g_free(set->replace_end);
	free(set->order);
	g_free(set->pf_gate);
	g_free(set->meta_zero);
	g_free(set->rdep_off);
	g_free(set->rdep);
	for (int t = 0; t < RULE_NTYPES; t++) {
		pf_free(set->pf[t]);
		hs_free(set->hs[t]);
	}
	g_free(set);
}

struct rules_attr *
attr_get(struct rules_set *set, const char *name)
{
	struct rules_attr *a = g_hash_table_lookup(set->attrs, name);

	if (a == NULL) {
		a = g_new0(struct rules_attr, 1);
		g_hash_table_insert(set->attrs, g_strdup(name), a);
	}
	return a;
}

/* Cuts the first "<KIND NAME>" out of *re; returns NAME or NULL. */
static char *
tag_modifier(const struct rules_set *set, GString *re, const char *kind)
{
	char *open = g_strconcat(set->replace_start, kind, " ", NULL);
	char *p = strstr(re->str, open), *e, *name = NULL;

	if (p != NULL && (e = strstr(p + strlen(open), set->replace_end))
	    != NULL && e > p + strlen(open)) {
		name = g_strndup(p + strlen(open), (size_t)(e - p -
		    strlen(open)));
		g_string_erase(re, p - re->str, e + strlen(set->replace_end) -
		    p);
	}
	g_free(open);
	return name;
}

/* Tags written once and called (replace_tags_called). */
struct tag_defs {
	GPtrArray	*names;		/* tags defined, in order */
	GString		*text;		/* their definitions */
};

static char	*replace_tags_n(const struct rules_set *, const char *, int,
		    struct tag_defs *);

/*
 * The ReplaceTags plugin: <NAME> in the pattern of a rule listed in
 * replace_rules becomes the replace_tag NAME text; <pre P>, <post P> and
 * <inter I> add text before, after and between tags.  As in
 * Mail::SpamAssassin::Plugin::ReplaceTags, up to six passes for tags
 * inside tags.  Returns a new pattern (g_malloc'd).
 */
static char *
replace_tags(const struct rules_set *set, const char *pattern)
{
	return replace_tags_n(set, pattern, 6, NULL);
}

/*
 * Does the tag text rep read as one item, a group or a class spanning
 * all of it?  Only then is a call to it, (?&name), the same as the text
 * written in its place: a quantifier after it, or a '|' in it, would
 * otherwise bind differently.
 */
static bool
tag_is_atom(const char *rep)
{
	size_t n = strlen(rep), i = 0;
	int depth = 0;

	if (n < 2 || (rep[0] != '(' && rep[0] != '[') || strstr(rep, "(?#"))
		return false;
	while (i < n) {
		if (rep[i] == '\\') {
			i += 2;
			continue;
		}
		if (rep[i] == '[') {
			/* A leading ] or ^] is a literal. */
			i++;
			if (i < n && rep[i] == '^')
				i++;
			if (i < n && rep[i] == ']')
				i++;
			while (i < n && rep[i] != ']')
				i += rep[i] == '\\' ? 2 : 1;
			if (i >= n)
				return false;
			i++;
		} else if (rep[i] == '(') {
			depth++;
			i++;
		} else if (rep[i] == ')') {
			if (--depth < 0)
				return false;
			i++;
		} else
			i++;
		if (depth == 0)
			return i == n;
	}
	return false;
}

/* The call standing for the tag name, its definition (the tag's text
 * with the tags in it replaced, passes left) added on first use. */
static void
tag_call(const struct rules_set *set, struct tag_defs *defs, const char
    *name, const char *rep, int passes, GString *out)
{
	guint i;

	for (i = 0; i < defs->names->len; i++)
		if (strcmp(defs->names->pdata[i], name) == 0)
			break;
	if (i == defs->names->len) {
		char *body = replace_tags_n(set, rep, passes, NULL);

		g_ptr_array_add(defs->names, g_strdup(name));
		g_string_append_printf(defs->text, "(?<vt%u>%s)", i, body);
		g_free(body);
	}
	g_string_append_printf(out, "(?&vt%u)", i);
}

/* With defs, a tag whose text is one item becomes a call (tag_call). */
static char *
replace_tags_n(const struct rules_set *set, const char *pattern,
    int maxpasses, struct tag_defs *defs)
{
	GString *re = g_string_new(pattern);
	GRegex *split = g_regex_new("(<[^<>]+>)", 0, 0, NULL);
	int passes = 0;
	bool again = false;

	if (maxpasses <= 0) {
		g_regex_unref(split);
		return g_string_free(re, FALSE);
	}

	do {
		char *pre = tag_modifier(set, re, "pre");
		char *post = tag_modifier(set, re, "post");
		char *inter = tag_modifier(set, re, "inter");
		const char *pre_s = pre ? g_hash_table_lookup(set->replace_pre,
		    pre) : NULL;
		const char *post_s = post ? g_hash_table_lookup(
		    set->replace_post, post) : NULL;
		const char *inter_s = inter ? g_hash_table_lookup(
		    set->replace_inter, inter) : NULL;
		char **parts = g_regex_split(split, re->str, 0);
		size_t np = g_strv_length(parts), slen, elen;
		GString *out = g_string_new(NULL);

		/* Perl's split drops trailing empty fields. */
		while (np > 0 && parts[np - 1][0] == '\0')
			np--;
		slen = strlen(set->replace_start);
		elen = strlen(set->replace_end);
		again = false;
		for (size_t i = 0; i < np; i++) {
			char *el = parts[i];
			size_t l = strlen(el);
			bool is_tag = l > slen + elen &&
			    strncmp(el, set->replace_start, slen) == 0 &&
			    strcmp(el + l - elen, set->replace_end) == 0;

			if (!is_tag) {
				if (el[0] == '\0' && inter_s != NULL)
					g_string_append(out, inter_s);
				else
					g_string_append(out, el);
				continue;
			}
			{
				char *name = g_strndup(el + slen, l - slen - elen);
				const char *rep = g_hash_table_lookup(
				    set->replace_tag, name);

				if (pre_s != NULL)
					g_string_append(out, pre_s);
				if (rep != NULL && rep[0] != '\0' && defs != NULL &&
				    tag_is_atom(rep))
					tag_call(set, defs, name, rep, maxpasses -
					    passes - 1, out);
				else if (rep != NULL && rep[0] != '\0') {
					g_string_append(out, rep);
					if (strchr(rep, '<') != NULL &&
					    strchr(rep, '>') != NULL)
						again = true;
				} else
					g_string_append(out, el);
				if (post_s != NULL)
					g_string_append(out, post_s);
				g_free(name);
			}
		}
		g_string_assign(re, out->str);
		g_string_free(out, TRUE);
		g_strfreev(parts);
		g_free(pre);
		g_free(post);
		g_free(inter);
		passes++;
	} while (again && passes < maxpasses);
	g_regex_unref(split);
	return g_string_free(re, FALSE);
}

/*
 * A pattern too large for PCRE2 once its tags are written out (a
 * compiled pattern is limited to 64 KB with a 2-byte link size, and
 * SpamAssassin's letter tags <A>..<Z> are a kilobyte each) can be
 * written with each tag once: its text goes in a definition group at
 * the end, (?(DEFINE)(?<vtN>...)), and each use becomes a call (?&vtN).
 * Since PCRE2 10.30 a call backtracks into as Perl's does, so it matches
 * what the text in its place would.  The groups come after the
 * pattern's own, whose numbers stay the same.  tags_callable: text
 * (the pattern, or a tag's) has nothing this would change: references to
 * groups (numbered or named), named groups, recursion, inline option
 * settings (the definitions run with the options at the end of the
 * pattern; a tag's option groups, (?i:...), stay inside it).
 */
static bool
tags_callable(const char *text, bool opts_ok)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (p[0] == '\\') {
			if (p[1] == '\0')
				break;
			/* \1..\9, \g{..}, \k<..>: references. */
			if ((p[1] >= '1' && p[1] <= '9') || p[1] == 'g' ||
			    p[1] == 'k')
				return false;
			p++;
			continue;
		}
		if (p[0] != '(' || p[1] != '?')
			continue;
		/* (?: (?= (?! (?> (?| and lookbehinds change nothing. */
		if (p[2] != '\0' && strchr(":=!>|", p[2]) != NULL)
			continue;
		if (p[2] == '<' && (p[3] == '=' || p[3] == '!'))
			continue;
		/* Options for a group, (?i:...), hold inside it alone; a
		 * setting, (?i), would reach past a tag's text. */
		if (opts_ok) {
			const char *q = p + 2;

			while (g_ascii_isalpha(*q) || *q == '-' || *q == '^')
				q++;
			if (q > p + 2 && *q == ':' && p[2] != 'P' &&
			    p[2] != 'R' && p[2] != 'C')
				continue;
		}
		return false;
	}
	return true;
}

/* The pattern of r with its tags called, or NULL when that could change
 * what it matches. */
static char *
replace_tags_called(const struct rules_set *set, const struct rule *r)
{
	GHashTable *const raw[] = {
		set->replace_pre, set->replace_inter, set->replace_post,
	};
	struct tag_defs defs;
	GHashTableIter it;
	gpointer v;
	char *pat;

	if (strchr(r->flags, 'x') != NULL || !tags_callable(r->pattern, false))
		return NULL;
	/* Any tag could be used: each must be safe to call, and the
	 * texts written around tags as safe as the pattern. */
	g_hash_table_iter_init(&it, set->replace_tag);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (!tags_callable(v, true))
			return NULL;
	for (size_t i = 0; i < NELEM(raw); i++) {
		g_hash_table_iter_init(&it, raw[i]);
		while (g_hash_table_iter_next(&it, NULL, &v))
			if (!tags_callable(v, false))
				return NULL;
	}
	defs.names = g_ptr_array_new_with_free_func(g_free);
	defs.text = g_string_new(NULL);
	pat = replace_tags_n(set, r->pattern, 6, &defs);
	if (defs.names->len > 0) {
		char *all = g_strconcat(pat, "(?(DEFINE)", defs.text->str, ")",
		    NULL);

		g_free(pat);
		pat = all;
	}
	g_ptr_array_free(defs.names, TRUE);
	g_string_free(defs.text, TRUE);
	return pat;
}

/* Hostile subjects for lint's stress test: long runs that make careless
 * patterns (nested quantifiers, .* chains) backtrack. */
static char *
stress_input(int kind, size_t *len_r)
{
	static const char *const units[] = {
		"a", " ", "a ", "aA1.", "=20", "<a ", "1", "\n \n", "x@x.",
		"http://a", ", ",
	};
	size_t n = 12000, ul;
	char *s;

	if (kind >= (int)NELEM(units))
		return NULL;
	ul = strlen(units[kind]);
	s = g_malloc(n + 2);
	for (size_t i = 0; i < n; i++)
		s[i] = units[kind][i % ul];
	/* Ends on a character most patterns do not expect. */
	s[n] = '!';
	s[n + 1] = '\0';
	*len_r = n + 1;
	return s;
}

static bool
rx_stress(const struct rx *rx)
{
	size_t len, so, eo;
	char *s;

	for (int k = 0; (s = stress_input(k, &len)) != NULL; k++) {
		enum rx_rc rc = rx_match(rx, s, len, 0, &so, &eo);

		g_free(s);
		if (rc == RX_LIMIT)
			return false;
	}
	return true;
}

/* VIGIL_RULES_PLAIN=1 turns the prefilter and the pattern rewriting
 * off: every rule runs as written on every chunk, the reference that
 * tests/rules/plain-compare.sh holds the fast path to.  VIGIL_RULES_NO_HS
 * (set) turns the regex prefilter alone off, to measure what it gains. */
static bool
rules_plain(void)
{
	const char *e = getenv("VIGIL_RULES_PLAIN");

	return e != NULL && strcmp(e, "1") == 0;
}

/*
 * Patterns that open with a one-character boundary group, such as
 * (?:\b|\s) or (?:^|\W), leave PCRE2 no way to skip ahead: the group
 * can start anywhere.  With the character looked behind at instead of
 * consumed, a match exists at the same places (one character later), and
 * PCRE2 starts only where what follows can start.  Compiled as written
 * when the rewritten one does not compile.
 */
static char *
lead_behind(const char *pat)
{
	static const char *const lead[][2] = {
		{ "(?:\\b|\\s)", "(?:\\b|(?<=\\s))" },
		{ "(?:^|\\s)", "(?:^|(?<=\\s))" },
		{ "(?:^|\\W)", "(?:^|(?<=\\W))" },
		{ "(?:\\A|\\s)", "(?:\\A|(?<=\\s))" },
	};

	for (size_t i = 0; i < NELEM(lead) && !rules_plain(); i++) {
		size_t n = strlen(lead[i][0]);

		if (strncmp(pat, lead[i][0], n) != 0)
			continue;
		/* A quantifier on the group would change what it means. */
		if (strchr("?*+{", pat[n]) != NULL && pat[n] != '\0')
			break;
		return g_strconcat(lead[i][1], pat + n, NULL);
	}
	return NULL;
}

static struct rx *
rx_compile_fast(const char *pat, const char *flags,
    const struct rules_limits *lim, char *err, size_t errlen,
    size_t *off_r, bool *too_large_r)
{
	char *alt = lead_behind(pat);

	if (alt != NULL) {
		struct rx *rx = rx_compile(alt, flags, lim, err, errlen, off_r,
		    too_large_r);

		g_free(alt);
		if (rx != NULL)
			return rx;
	}
	return rx_compile(pat, flags, lim, err, errlen, off_r, too_large_r);
}

/*
 * rx_compile_fast for a pattern with its tags called, equiv the same
 * written out, which the heads and ASCII readers follow (rx_set_equiv):
 * both opened the same way, so that they match at the same places.
 */
static struct rx *
rx_compile_called(const char *pat, const char *equiv, const char *flags,
    const struct rules_limits *lim, char *err, size_t errlen,
    size_t *off_r, bool *too_large_r)
{
	char *alt = lead_behind(pat), *alt_eq = NULL;
	struct rx *rx = NULL;

	if (alt != NULL && (alt_eq = lead_behind(equiv)) != NULL)
		rx = rx_compile_nojit(alt, flags, lim, err, errlen, off_r,
		    too_large_r);
	if (rx == NULL) {
		g_free(alt_eq);
		alt_eq = NULL;
		rx = rx_compile_nojit(pat, flags, lim, err, errlen, off_r,
		    too_large_r);
	}
	if (rx != NULL) {
		rx_set_equiv(rx, alt_eq != NULL ? alt_eq : equiv);
		rx_jit(rx);
	}
	g_free(alt);
	g_free(alt_eq);
	return rx;
}

/*
 * The screen of r (rules_screen.c): of the candidates, the one PCRE2 can
 * start in the fewest places (rx_start_cost), kept only when that is
 * clearly fewer than the whole pattern: otherwise it would only add a
 * second search to the first.  Header values are short: only the first
 * candidate is tried for them (each candidate costs a compile).
 */
#define SCREEN_GAIN	0.8
#define SCREEN_TRIES	4
#define SCREEN_MIN_COST	1.0

static struct rx *
screen_compile(struct rules_set *set, const struct rule *r, const char *pat)
{
	char err[256], **sc;
	size_t off;
	bool too_large;
	struct rx *best = NULL;
	double best_cost = SCREEN_GAIN * rx_start_cost(r->rx);

	/* A pattern PCRE2 starts only at one byte value, or at few, is
	 * not worth the compiles. */
	if (best_cost < SCREEN_GAIN * SCREEN_MIN_COST)
		return NULL;
	if ((sc = rx_screens(pat, r->flags, r->type == RULE_HEADER ||
	    r->type == RULE_MIMEHEADER ? 1 : SCREEN_TRIES)) == NULL)
		return NULL;
	for (char **c = sc; *c != NULL; c++) {
		/* JIT compiling costs more than the rest: only the keeper. */
		struct rx *rx = rx_compile_nojit(*c, r->flags, &set->lim, err,
		    sizeof(err), &off, &too_large);
		double cost;

		if (rx == NULL)
			continue;
		if ((cost = rx_start_cost(rx)) < best_cost) {
			rx_free(best);
			best = rx;
			best_cost = cost;
		} else
			rx_free(rx);
	}
	g_strfreev(sc);
	if (best != NULL)
		rx_jit(best);
	return best;
}

static void
compile_pattern(struct rules_set *set, struct rule *r, bool stress,
    const struct rules_diag *diag)
{
	char err[256], *pat = r->pattern, *expanded = NULL;
	const char *why = NULL;
	size_t off;
	bool too_large;
	char *tr;

	if (g_hash_table_contains(set->replace_rules, r->name))
		pat = expanded = replace_tags(set, r->pattern);
	if ((tr = rx_translate(pat, &why)) == NULL) {
		diag_emit(set, diag, RULES_WARN, r->file, r->line, r->col,
		    r->name, "skipped: %s", why);
		set->nskipped++;
		g_free(expanded);
		return;
	}
	free(tr);
	r->rx = rx_compile_fast(pat, r->flags, &set->lim, err, sizeof(err),
	    &off, &too_large);
	if (r->rx == NULL && too_large && expanded != NULL) {
		/* The analyses below (literals, screens, Hyperscan) still
		 * read the pattern with its tags written out. */
		char *called = replace_tags_called(set, r);

		if (called != NULL)
			r->rx = rx_compile_called(called, pat, r->flags,
			    &set->lim, err, sizeof(err), &off, &too_large);
		g_free(called);
	}
	if (r->rx == NULL && too_large) {
		diag_emit(set, diag, RULES_WARN, r->file, r->line, r->col,
		    r->name, "skipped: %s%s", err, expanded != NULL ?
		    " after tag replacement" : "");
		set->nskipped++;
	} else if (r->rx == NULL)
		diag_emit(set, diag, RULES_ERROR, r->file, r->line,
		    expanded != NULL ? r->col : r->col + (int)off, r->name,
		    "%s%s", err, expanded != NULL ? " (after tag replacement)" :
		    "");
	else if (stress && !rx_stress(r->rx))
		diag_emit(set, diag, RULES_WARN, r->file, r->line, r->col,
		    r->name, "regex reaches the match limit on a stress input "
		    "(catastrophic backtracking): it will count as not hit on "
		    "such messages");
	if (r->rx != NULL) {
		if (!rules_plain()) {
			r->lits = rx_literals_k(pat, r->flags, PF_MINLEN,
			    &r->lit_k);
			r->screen = screen_compile(set, r, pat);
		}
		r->expanded = expanded;
	} else
		g_free(expanded);
}

/* Depth-first ordering of metas; 1 = visiting, 2 = done. */
static bool
meta_visit(struct rules_set *set, struct rule *r, unsigned char *mark,
    GPtrArray *out, const struct rules_diag *diag)
{
	const char *const *deps;
	size_t nd;

	if (mark[r->idx] == 2)
		return true;
	if (mark[r->idx] == 1) {
		diag_emit(set, diag, RULES_ERROR, r->file, r->line, r->col,
		    r->name, "meta rules depend on each other in a loop");
		return false;
	}
	mark[r->idx] = 1;
	nd = meta_deps(r->meta, &deps);
	for (size_t i = 0; i < nd; i++) {
		struct rule *d = g_hash_table_lookup(set->by_name, deps[i]);

		if (d != NULL && d->type == RULE_META && d->is_enabled &&
		    !meta_visit(set, d, mark, out, diag)) {
			mark[r->idx] = 2;
			return false;
		}
	}
	mark[r->idx] = 2;
	g_ptr_array_add(out, r);
	return true;
}

/* The slot of DNS rule name among the values after the rules'. */
static size_t
ext_slot(struct rules_set *set, const char *name)
{
	gpointer v = g_hash_table_lookup(set->ext_idx, name);

	if (v != NULL)
		return GPOINTER_TO_SIZE(v) - 1;
	/* The key is the name the DNS table owns: it lives as long. */
	g_hash_table_insert(set->ext_idx, (gpointer)dnsbl_rules_name(
	    set->dnsbl, name), GSIZE_TO_POINTER(set->next + 1));
	return set->next++;
}

static int
order_cmp(const void *a, const void *b)
{
	const struct rule *x = *(struct rule *const *)a;
	const struct rule *y = *(struct rule *const *)b;

	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Findings of vigil's other checks, which `score` lines may weigh too
 * (vigilctl scores learn writes them).
 */
static bool
is_check_finding(const char *name)
{
	static const char *const prefixes[] = {
		"BAYES_", "SPF_", "DKIM_", "DMARC_", "AV_", "ATTACH_",
		"ARCHIVE_", "POLICY_", "HEADER_",
	};
	static const char *const names[] = {
		"MISSING_DATE", "MISSING_MID", "MISSING_FROM", "MISSING_SUBJECT",
		"FROM_MALFORMED", "MULTIPLE_FROM", "MIME_PARSE_ERROR",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * Does a name that a score, tflags or describe line gives belong to
 * something: a rule, a skipped one, a DNS rule, one defined in a block
 * that is off, or another check's finding?
 */
static bool
is_known_name(const struct rules_set *set, const char *name)
{
	return g_hash_table_contains(set->by_name, name) ||
	    g_hash_table_contains(set->skipped, name) ||
	    dnsbl_rules_has(set->dnsbl, name) ||
	    g_hash_table_contains(set->inactive, name) ||
	    is_check_finding(name);
}

struct orphan {
	const char	*name;
	const char	*kw;
	struct rules_where at;
};

static int
orphan_cmp(const void *a, const void *b)
{
	const struct orphan *x = a, *y = b;
	int c = strcmp(x->at.file, y->at.file);

	if (c != 0)
		return c;
	if (x->at.line != y->at.line)
		return x->at.line < y->at.line ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Lint: tflags and describe lines for a rule no file defines, in file
 * and line order.  Like a score for one, the flags or text reach nothing:
 * a typo in the name, or a rule removed and its lines left.
 */
static void
lint_orphan_attrs(struct rules_set *set, const struct rules_diag *diag)
{
	GArray *o = g_array_new(false, false, sizeof(struct orphan));
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, set->attrs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct rules_attr *a = v;
		struct orphan e = { .name = k };

		if (is_known_name(set, k))
			continue;
		if (a->tflags_at.file != NULL) {
			e.kw = "tflags";
			e.at = a->tflags_at;
			g_array_append_val(o, e);
		}
		if (a->describe_at.file != NULL) {
			e.kw = "describe";
			e.at = a->describe_at;
			g_array_append_val(o, e);
		}
	}
	g_array_sort(o, orphan_cmp);
	for (guint i = 0; i < o->len; i++) {
		const struct orphan *e = &g_array_index(o, struct orphan, i);

		diag_emit(set, diag, RULES_ERROR, e->at.file, e->at.line, 1,
		    e->name, "%s for a rule that is not defined", e->kw);
	}
	g_array_free(o, true);
}

/*
 * Each meta's value with all its names 0, and the metas each value slot
 * feeds (struct rules_set: meta_zero, rdep_off, rdep).
 */
static void
meta_index(struct rules_set *set)
{
	size_t nval = set->rules->len + set->next + 1;
	size_t nmeta = set->norder - set->nmeta_first, total = 0;
	double *zero = g_new0(double, nval);
	uint32_t *fill;

	set->meta_zero = g_new0(double, nmeta + 1);
	set->rdep_off = g_new0(uint32_t, nval + 1);
	for (size_t i = set->nmeta_first; i < set->norder; i++) {
		const struct meta *m = set->order[i]->meta;
		size_t n;
		const int *idx = meta_dep_idx(m, &n);

		set->meta_zero[i - set->nmeta_first] = meta_eval(m, zero);
		for (size_t k = 0; k < n; k++)
			if (idx[k] >= 0 && (size_t)idx[k] < nval) {
				set->rdep_off[idx[k] + 1]++;
				total++;
			}
	}
	for (size_t x = 0; x < nval; x++)
		set->rdep_off[x + 1] += set->rdep_off[x];
	set->rdep = g_new(uint32_t, total + 1);
	fill = g_memdup2(set->rdep_off, (nval + 1) * sizeof(*fill));
	for (size_t i = set->nmeta_first; i < set->norder; i++) {
		size_t n;
		const int *idx = meta_dep_idx(set->order[i]->meta, &n);

		for (size_t k = 0; k < n; k++)
			if (idx[k] >= 0 && (size_t)idx[k] < nval)
				set->rdep[fill[idx[k]]++] = (uint32_t)i;
	}
	g_free(fill);
	g_free(zero);
}

int
rules_compile(struct rules_set *set, bool stress,
    const struct rules_diag *diag)
{
	size_t errs = set->nerrors;
	GPtrArray *pats = g_ptr_array_new(), *metas = g_ptr_array_new();
	unsigned char *mark;

	dnsbl_rules_resolve(set->dnsbl);
	/* Attributes, scores and the patterns. */
	for (guint i = 0; i < set->rules->len; i++) {
		struct rule *r = set->rules->pdata[i];
		struct rules_attr *a = g_hash_table_lookup(set->attrs, r->name);
		double *sc = g_hash_table_lookup(set->scores, r->name);

		r->idx = i;
		if (a != NULL) {
			r->describe = a->describe;
			r->tflags = a->tflags;
			r->maxhits = a->maxhits;
			r->priority = a->priority;
		}
		if (r->is_from_shadow)
			r->tflags |= TF_SHADOW;
		if (sc != NULL) {
			/* The Bayes set is the rule's own; a rule scored 0
			 * there but not without Bayes still runs. */
			r->score = sc[2] != 0 ? sc[2] : sc[0];
			/* A network test scored only in the network sets
			 * (SPF_FAIL 0 0.919 0 0.001) runs too: vigil's own
			 * checks give it its answer, and the message's set
			 * (snap.h) its weight. */
			if (r->score == 0 && (r->tflags & TF_NET))
				r->score = sc[3] != 0 ? sc[3] : sc[1];
			r->has_score = true;
		} else {
			/* SpamAssassin's defaults: 1, 0.01 for T_ rules in
			 * testing, negative for nice rules. */
			r->score = strncmp(r->name, "T_", 2) == 0 ? 0.01 : 1.0;
			if (r->tflags & TF_NICE)
				r->score = -r->score;
			if (strncmp(r->name, "__", 2) != 0)
				diag_emit(set, diag, RULES_WARN, r->file,
				    r->line, 1, r->name, "no score: %g is used",
				    r->score);
		}
		if (r->type != RULE_META && !r->is_exists && r->evalfn == NULL)
			compile_pattern(set, r, stress, diag);
		else if (g_str_has_prefix(r->name, RULES_ADDRLIST_PREFIX))
			r->rx = rules_wlbl_list_rx(r, &set->lim);
	}
	dnsbl_rules_apply_scores(set->dnsbl, set->scores);
	/* Lint: a score for a rule that no file defines (SpamAssassin's
	 * --lint fails on it too), unless the rule is skipped or defined in
	 * a block that is off. */
	if (diag != NULL && diag->is_strict) {
		for (guint i = 0; i < set->score_order->len; i++) {
			const char *name = set->score_order->pdata[i];
			const struct rules_where *w;

			if (is_known_name(set, name))
				continue;
			w = g_hash_table_lookup(set->score_where, name);
			diag_emit(set, diag, RULES_ERROR, w != NULL ? w->file :
			    "-", w != NULL ? w->line : 0, 1, name, "score for "
			    "a rule that is not defined");
		}
		lint_orphan_attrs(set, diag);
	}
	/* Metas, once every name is known. */
	for (guint i = 0; i < set->rules->len; i++) {
		struct rule *r = set->rules->pdata[i];
		const char *const *deps;
		char err[256];
		int col, *idx;
		size_t nd;

		if (r->type != RULE_META)
			continue;
		if ((r->meta = meta_compile(r->expr, set, err, sizeof(err),
		    &col)) == NULL) {
			diag_emit(set, diag, RULES_ERROR, r->file, r->line,
			    r->col + col, r->name, "%s", err);
			continue;
		}
		nd = meta_deps(r->meta, &deps);
		idx = g_new(int, nd + 1);
		for (size_t k = 0; k < nd; k++) {
			struct rule *d = g_hash_table_lookup(set->by_name,
			    deps[k]);

			idx[k] = d != NULL ? (int)d->idx : -1;
			/* A DNS rule: its value comes with the input. */
			if (d == NULL && dnsbl_rules_has(set->dnsbl, deps[k])) {
				idx[k] = (int)(set->rules->len +
				    ext_slot(set, deps[k]));
				continue;
			}
			if (d == NULL && !g_hash_table_contains(set->skipped,
			    deps[k]))
				diag_emit(set, diag, RULES_WARN, r->file,
				    r->line, r->col, r->name, "meta names "
				    "unknown rule %s (counted as 0)", deps[k]);
		}
		meta_bind(r->meta, idx);
		g_free(idx);
	}
	/* The evaluation order: enabled pattern rules by type, then metas
	 * after everything they depend on. */
	for (guint i = 0; i < set->rules->len; i++) {
		struct rule *r = set->rules->pdata[i];
		bool ok = r->type == RULE_META ? r->meta != NULL :
		    r->rx != NULL || r->is_exists || r->evalfn != NULL;

		/* A score of 0 disables a rule, as in SpamAssassin. */
		r->is_enabled = ok && r->score != 0;
	}
	mark = g_malloc0(set->rules->len + 1);
	for (guint i = 0; i < set->rules->len; i++) {
		struct rule *r = set->rules->pdata[i];

		if (!r->is_enabled)
			continue;
		if (r->type == RULE_META)
			meta_visit(set, r, mark, metas, diag);
		else
			g_ptr_array_add(pats, r);
	}
	g_free(mark);
	/* An empty GPtrArray has pdata NULL: qsort and memcpy must not see
	 * it even with a length of 0. */
	if (pats->len > 0)
		qsort(pats->pdata, pats->len, sizeof(void *), order_cmp);
	set->norder = pats->len + metas->len;
	set->order = calloc(set->norder + 1, sizeof(*set->order));
	if (set->order == NULL)
		log_oom(set->norder * sizeof(*set->order), "rules order");
	if (pats->len > 0)
		memcpy(set->order, pats->pdata, pats->len * sizeof(void *));
	if (metas->len > 0)
		memcpy(set->order + pats->len, metas->pdata,
		    metas->len * sizeof(void *));
	set->nmeta_first = pats->len;
	for (size_t i = 0; i < set->norder; i++)
		set->order[i]->ord = (uint32_t)i;
	/* Header values: one slot each, shared by the rules matching it. */
	{
		GHashTable *slot = g_hash_table_new_full(g_str_hash,
		    g_str_equal, g_free, NULL);

		g_ptr_array_set_size(set->hslots, 0);

		for (guint i = 0; i < pats->len; i++) {
			struct rule *r = pats->pdata[i];
			char *key;
			gpointer v;

			if (r->type != RULE_HEADER || r->evalfn != NULL)
				continue;
			key = g_strdup_printf("%s\t%u", r->hdr, r->hmod);
			if (g_hash_table_lookup_extended(slot, key, NULL, &v))
				g_free(key);
			else {
				v = GUINT_TO_POINTER(set->hslots->len);
				g_ptr_array_add(set->hslots, r);
				g_hash_table_insert(slot, key, v);
			}
			r->hslot = GPOINTER_TO_UINT(v);
		}
		g_hash_table_destroy(slot);
	}
	/* The literal prefilters: header values (each a chunk) and the
	 * types matched chunk by chunk. */
	for (int t = RULE_HEADER; t <= RULE_URI && !rules_plain(); t++) {
		GPtrArray *of = g_ptr_array_new();
		char err[256];

		for (guint i = 0; i < pats->len; i++)
			if (((struct rule *)pats->pdata[i])->type ==
			    (enum rule_type)t)
				g_ptr_array_add(of, pats->pdata[i]);
		if (of->len > 0 && (set->pf[t] = pf_build((struct rule *const *)
		    of->pdata, of->len, err, sizeof(err))) == NULL &&
		    err[0] != '\0')
			diag_emit(set, diag, RULES_WARN, "-", 0, 0, "-",
			    "literal prefilter: %s (rules run without it)",
			    err);
		g_ptr_array_free(of, TRUE);
	}
	/* The regex prefilters: body and rawbody rules that the literal
	 * one cannot pass over (rules_hs.c). */
	for (int t = RULE_BODY; t <= RULE_RAWBODY && set->lim.regex_prefilter &&
	    !rules_plain() && getenv("VIGIL_RULES_NO_HS") == NULL; t++) {
		GPtrArray *of = g_ptr_array_new();

		for (guint i = 0; i < pats->len; i++) {
			struct rule *r = pats->pdata[i];

			if (r->type == (enum rule_type)t && r->nlit_ids == 0 &&
			    r->evalfn == NULL && r->rx != NULL)
				g_ptr_array_add(of, r);
		}
		if (of->len > 0)
			set->hs[t] = hs_build((struct rule *const *)of->pdata,
			    of->len, set->lim.cache_dir, t == RULE_BODY ?
			    "body" : "rawbody");
		g_ptr_array_free(of, TRUE);
	}
	set->pf_gate = g_new0(uint8_t, set->norder + 1);
	for (size_t i = 0; i < set->norder; i++) {
		const struct rule *r = set->order[i];

		if (r->type <= RULE_URI && set->pf[r->type] != NULL &&
		    r->nlit_ids > 0)
			set->pf_gate[i] = (uint8_t)(1 + r->type);
	}
	meta_index(set);
	g_ptr_array_free(pats, TRUE);
	g_ptr_array_free(metas, TRUE);
	set->is_compiled = true;
	return (int)(set->nerrors - errs);
}

void
rules_skipped_each(const struct rules_set *set,
    void (*fn)(const char *name, const char *why, void *), void *data)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, set->skipped);
	while (g_hash_table_iter_next(&it, &k, &v))
		fn(k, v, data);
}

void
rules_gated_each(const struct rules_set *set,
    void (*fn)(const char *name, const char *plugin, void *), void *data)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, set->gated);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!g_hash_table_contains(set->by_name, k) &&
		    !g_hash_table_contains(set->skipped, k) &&
		    !dnsbl_rules_has(set->dnsbl, k))
			fn(k, v, data);
}

void
rules_get_counts(const struct rules_set *set, struct rules_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < set->norder; i++) {
		c->loaded++;
		c->by_type[set->order[i]->type]++;
	}
	for (guint i = 0; i < set->rules->len; i++) {
		const struct rule *r = set->rules->pdata[i];

		if (!r->is_enabled && r->score == 0 && (r->type == RULE_META ?
		    r->meta != NULL : r->rx != NULL || r->is_exists ||
		    r->evalfn != NULL))
			c->disabled++;
	}
	c->skipped = set->nskipped;
	c->unread = set->nunread;
	c->errors = set->nerrors;
	c->warnings = set->nwarnings;
}

const struct dnsbl_rules *
rules_set_dnsbl(const struct rules_set *set)
{
	return set->dnsbl;
}

bool
rules_has_type(const struct rules_set *set, enum rule_type t)
{
	for (size_t i = 0; i < set->norder; i++)
		if (set->order[i]->type == t)
			return true;
	return false;
}

size_t
rules_count(const struct rules_set *set)
{
	return set->rules->len;
}

struct rule *
rules_at(const struct rules_set *set, size_t i)
{
	return i < set->rules->len ? set->rules->pdata[i] : NULL;
}

struct rule *
rules_find(const struct rules_set *set, const char *name)
{
	return g_hash_table_lookup(set->by_name, name);
}

size_t
rules_score_count(const struct rules_set *set)
{
	return set->score_order->len;
}

void
rules_score_at(const struct rules_set *set, size_t i, const char **name_r,
    double *score_r)
{
	const char *name = set->score_order->pdata[i];

	*name_r = name;
	*score_r = ((double *)g_hash_table_lookup(set->scores, name))[2];
}

bool
rules_score_source(const struct rules_set *set, const char *name,
    const char **file_r, int *line_r)
{
	const struct rules_where *w = g_hash_table_lookup(set->score_where,
	    name);

	if (w == NULL)
		return false;
	*file_r = w->file;
	*line_r = w->line;
	return true;
}

const double *
rules_score_sets_at(const struct rules_set *set, size_t i, const char **name_r)
{
	const char *name = set->score_order->pdata[i];

	*name_r = name;
	return g_hash_table_lookup(set->scores, name);
}

void
rules_write_stats(const struct rules_set *set, FILE *out)
{
	rules_hs_write_stats(out);
	fprintf(out, "rules.match_states %llu\n",
	    (unsigned long long)rx_match_states());
	if (atomic_load_explicit((_Atomic uint64_t *)&set->n_evals,
	    memory_order_relaxed) == 0)
		return;
	fprintf(out, "rules.evals %llu\n", (unsigned long long)
	    atomic_load_explicit((_Atomic uint64_t *)&set->n_evals,
	    memory_order_relaxed));
	fprintf(out, "rules.evals.timed %llu\n", (unsigned long long)
	    atomic_load_explicit((_Atomic uint64_t *)&set->n_timed,
	    memory_order_relaxed));
	for (size_t i = 0; i < set->norder; i++) {
		struct rule *r = set->order[i];

		const char *kind = r->tflags & TF_SHADOW ? "shadow" : "rules";

		fprintf(out, "%s.hits.%s %llu\n", kind, r->name,
		    (unsigned long long)atomic_load_explicit(
		    (_Atomic uint64_t *)&r->n_hits, memory_order_relaxed));
		fprintf(out, "%s.us.%s %llu\n", kind, r->name,
		    (unsigned long long)atomic_load_explicit(
		    (_Atomic uint64_t *)&r->ns_spent, memory_order_relaxed) /
		    1000);
		fprintf(out, "%s.limit.%s %llu\n", kind, r->name,
		    (unsigned long long)atomic_load_explicit(
		    (_Atomic uint64_t *)&r->n_limit, memory_order_relaxed));
	}
}
