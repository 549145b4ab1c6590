/*
 * rules_lit.c - the literals a pattern cannot match without: a set of
 * strings of which every match contains at least one, as RE2's and
 * Hyperscan's prefilters compute them.  The set lets a rule that cannot
 * match a message be skipped without running its regex (rules_pf.c).
 *
 * The reading is conservative: whatever this parser does not understand
 * (conditionals, an inline (?x), recursion, classes, unknown escapes)
 * only weakens the answer, down to "no literal" (NULL).  Literals are
 * lowercased: the prefilter compares without case, which finds a
 * superset of what a case-sensitive pattern can match (without UTF,
 * PCRE2 folds ASCII letters only, as g_ascii_tolower does).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"

#define LIT_MAX_SET	128	/* strings in one set, beyond: no literal */
#define LIT_MAX_K	255	/* occurrences counted, at most */

/*
 * A factor: NULL (nothing known) or a set of lowercased strings, k of
 * whose occurrences every match contains in disjoint places (k >= 1:
 * (?:...(?:name|city)...){3} holds three).
 */
typedef struct {
	GPtrArray	*s;
	unsigned	 k;
} fac_t;

struct lp {
	const char	*p, *end;
	bool		 ext;		/* /x: white space and # comments */
	bool		 bad;		/* give up on the whole pattern */
};

static void
fac_free(fac_t *f)
{
	if (f != NULL) {
		g_ptr_array_free(f->s, TRUE);
		g_free(f);
	}
}

static fac_t *
fac_new(void)
{
	fac_t *f = g_new(fac_t, 1);

	f->s = g_ptr_array_new_with_free_func(g_free);
	f->k = 1;
	return f;
}

static size_t
fac_minlen(const fac_t *f)
{
	size_t m = SIZE_MAX;

	for (guint i = 0; i < f->s->len; i++) {
		size_t l = strlen(f->s->pdata[i]);

		if (l < m)
			m = l;
	}
	return m;
}

/* Is a better than b (NULL is worst)?  Longer shortest string first,
 * then more occurrences, then fewer strings. */
static bool
fac_better(const fac_t *a, const fac_t *b)
{
	size_t la, lb;

	if (a == NULL)
		return false;
	if (b == NULL)
		return true;
	la = fac_minlen(a);
	lb = fac_minlen(b);
	if (la != lb)
		return la > lb;
	return a->k != b->k ? a->k > b->k : a->s->len < b->s->len;
}

/* Keeps the better of *best and f, freeing the other. */
static void
fac_keep(fac_t **best, fac_t *f)
{
	if (fac_better(f, *best)) {
		fac_free(*best);
		*best = f;
	} else
		fac_free(f);
}

static void
skip_ext(struct lp *lp)
{
	while (lp->ext && lp->p < lp->end) {
		if (isspace((unsigned char)*lp->p))
			lp->p++;
		else if (*lp->p == '#') {
			while (lp->p < lp->end && *lp->p != '\n')
				lp->p++;
		} else
			break;
	}
}

/* A quantifier's range: {1,1} when there is none; max ULONG_MAX when
 * unbounded. */
static void
hd_quant(struct lp *lp, unsigned long *min_r, unsigned long *max_r)
{
	const char *p;

	skip_ext(lp);
	*min_r = *max_r = 1;
	if (lp->p >= lp->end)
		return;
	switch (*lp->p) {
	case '?': *min_r = 0; lp->p++; break;
	case '*': *min_r = 0; *max_r = ULONG_MAX; lp->p++; break;
	case '+': *max_r = ULONG_MAX; lp->p++; break;
	case '{':
		p = lp->p + 1;
		if (p >= lp->end || !isdigit((unsigned char)*p))
			return;
		{
			unsigned long n = strtoul(p, (char **)&p, 10), m = n;

			if (p < lp->end && *p == ',') {
				p++;
				m = ULONG_MAX;
				if (p < lp->end && isdigit((unsigned char)*p))
					m = strtoul(p, (char **)&p, 10);
			}
			if (p >= lp->end || *p != '}')
				return;
			lp->p = p + 1;
			*min_r = n;
			*max_r = m;
		}
		break;
	default:
		return;
	}
	if (lp->p < lp->end && (*lp->p == '?' || *lp->p == '+'))
		lp->p++;
}

/*
 * Reads a quantifier after an atom, if any: *min_r is its minimum (at
 * most LIT_MAX_K) and *multi_r whether it may repeat.  No quantifier: 1
 * and false.
 */
static void
quantifier(struct lp *lp, unsigned *min_r, bool *multi_r)
{
	unsigned long min, max;

	hd_quant(lp, &min, &max);
	*min_r = min > LIT_MAX_K ? LIT_MAX_K : (unsigned)min;
	*multi_r = max > 1;
}

/* Skips a character class at lp->p ('['); false if it does not end. */
static bool
skip_class(struct lp *lp)
{
	const char *p = lp->p + 1;

	if (p < lp->end && *p == '^')
		p++;
	if (p < lp->end && *p == ']')
		p++;
	while (p < lp->end && *p != ']') {
		if (*p == '\\' && p + 1 < lp->end)
			p += 2;
		else if (*p == '[' && p + 1 < lp->end && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");

			p = e != NULL && e < lp->end ? e + 2 : p + 1;
		} else
			p++;
	}
	if (p >= lp->end)
		return false;
	lp->p = p + 1;
	return true;
}

/*
 * Reads one escape after '\\' at lp->p: returns the literal byte it
 * stands for, -1 for a non-literal atom (\d, a back-reference...), or -2
 * for a zero-width assertion (\b, \A...).
 */
static int
escape(struct lp *lp)
{
	char c;

	if (++lp->p >= lp->end) {
		lp->bad = true;
		return -1;
	}
	c = *lp->p++;
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'e': return 0x1b;
	case 'a': return 0x07;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return -2;
	case 'x': {
		unsigned v = 0;
		int n = 0;

		if (lp->p < lp->end && *lp->p == '{') {
			const char *e = memchr(lp->p, '}', (size_t)(lp->end -
			    lp->p));

			if (e == NULL) {
				lp->bad = true;
				return -1;
			}
			v = (unsigned)strtoul(lp->p + 1, NULL, 16);
			lp->p = e + 1;
			return v <= 0xff ? (int)v : -1;
		}
		while (n < 2 && lp->p < lp->end &&
		    isxdigit((unsigned char)*lp->p)) {
			v = v * 16 + (unsigned)g_ascii_xdigit_value(*lp->p++);
			n++;
		}
		return (int)v;
	}
	case 'p': case 'P': case 'g': case 'k': case 'o': case 'N': case 'c':
		/* \p{..}, \g{..}, \k<..>, \o{..}: skip a braced argument. */
		if (lp->p < lp->end && strchr("{<'", *lp->p) != NULL) {
			char close = *lp->p == '{' ? '}' : *lp->p == '<' ? '>' :
			    '\'';
			const char *e = memchr(lp->p, close, (size_t)(lp->end -
			    lp->p));

			if (e == NULL) {
				lp->bad = true;
				return -1;
			}
			lp->p = e + 1;
		} else if (c == 'c' || c == 'p' || c == 'P' || c == 'g')
			lp->p += lp->p < lp->end;	/* \cX, \pL, \g1 */
		return -1;
	default:
		break;
	}
	/* Punctuation stands for itself; letters and digits not named
	 * above are classes, back-references or octal: not literals. */
	if (isalnum((unsigned char)c))
		return -1;
	return (unsigned char)c;
}

static fac_t *alternation(struct lp *lp, GPtrArray **exact_r);

/* Skips a group's contents after its opening, up to and with ')'. */
static void
skip_group(struct lp *lp)
{
	fac_free(alternation(lp, NULL));
	if (lp->p < lp->end && *lp->p == ')')
		lp->p++;
	else
		lp->bad = true;
}

/*
 * Reads a group after '(': its factor (NULL when it says nothing, or is
 * zero-width).  *skip_r: the group is a comment or sets options, and
 * the text around it reads as if it were not there.  *exact_r: the
 * strings one of which every match of the group is, or NULL.
 */
static fac_t *
group(struct lp *lp, bool *skip_r, GPtrArray **exact_r)
{
	fac_t *f;

	*skip_r = false;
	*exact_r = NULL;
	if (lp->p < lp->end && *lp->p == '?') {
		const char *q = lp->p + 1;

		if (q >= lp->end) {
			lp->bad = true;
			return NULL;
		}
		switch (*q) {
		case '#': {
			const char *e = memchr(q, ')', (size_t)(lp->end - q));

			if (e == NULL)
				lp->bad = true;
			else
				lp->p = e + 1;
			*skip_r = true;
			return NULL;
		}
		case '=': case '!':
			lp->p = q + 1;
			skip_group(lp);
			return NULL;
		case '<':
			if (q + 1 < lp->end && (q[1] == '=' || q[1] == '!')) {
				lp->p = q + 2;
				skip_group(lp);
				return NULL;
			}
			/* (?<name>...) */
			if ((q = memchr(q, '>', (size_t)(lp->end - q))) == NULL) {
				lp->bad = true;
				return NULL;
			}
			lp->p = q + 1;
			break;
		case 'P':
			if (q + 1 < lp->end && q[1] == '<') {
				if ((q = memchr(q, '>', (size_t)(lp->end - q))) ==
				    NULL) {
					lp->bad = true;
					return NULL;
				}
				lp->p = q + 1;
				break;
			}
			/* (?P=name), (?P>name): references. */
			lp->p = q;
			skip_group(lp);
			return NULL;
		case '\'':
			if ((q = memchr(q + 1, '\'', (size_t)(lp->end - q - 1)))
			    == NULL) {
				lp->bad = true;
				return NULL;
			}
			lp->p = q + 1;
			break;
		case ':': case '>': case '|':
			lp->p = q + 1;
			break;
		case '(':
			/* A conditional: which branch runs is unknown. */
			lp->p = q;
			skip_group(lp);
			return NULL;
		default: {
			/* Options: (?i), (?s-m), (?i:...).  An x turned on
			 * changes how the rest reads: give up. */
			bool neg = false;

			while (q < lp->end && (isalpha((unsigned char)*q) ||
			    *q == '-' || *q == '^')) {
				if (*q == '-')
					neg = true;
				else if (*q == 'x' && !neg)
					lp->bad = true;
				q++;
			}
			if (q >= lp->end || (*q != ')' && *q != ':')) {
				/* (?R), (?1), (?&name), ... */
				lp->p = lp->p + 1;
				skip_group(lp);
				return NULL;
			}
			lp->p = q + 1;
			if (*q == ')') {
				*skip_r = true;
				return NULL;
			}
			break;
		}
		}
	}
	f = alternation(lp, exact_r);
	if (lp->p < lp->end && *lp->p == ')')
		lp->p++;
	else {
		lp->bad = true;
		if (*exact_r != NULL)
			g_ptr_array_free(*exact_r, TRUE);
		*exact_r = NULL;
	}
	return f;
}

/*
 * A run: the strings one of which the text matched since some point
 * is, lowercased, at most LIT_RUN_MAX of them (e-?mai?l gives email,
 * emal, e-mail and e-mal).
 */
#define LIT_RUN_MAX	16
#define LIT_REP_MAX	8	/* c{n,}: at most this many c kept */

static GPtrArray *
strs_new(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

static void
run_reset(GPtrArray *run)
{
	g_ptr_array_set_size(run, 0);
	g_ptr_array_add(run, g_strdup(""));
}

static void
run_set(GPtrArray *run, const GPtrArray *to)
{
	g_ptr_array_set_size(run, 0);
	for (guint i = 0; i < to->len; i++)
		g_ptr_array_add(run, g_strdup(to->pdata[i]));
}

/* run := run followed by one of tail (with keep: or by nothing). */
static bool
run_product(GPtrArray *run, const GPtrArray *tail, bool keep)
{
	GPtrArray *out;

	if (run->len * (tail->len + keep) > LIT_RUN_MAX)
		return false;
	out = g_ptr_array_sized_new(run->len * (tail->len + keep));
	for (guint i = 0; i < run->len; i++) {
		if (keep)
			g_ptr_array_add(out, g_strdup(run->pdata[i]));
		for (guint j = 0; j < tail->len; j++)
			g_ptr_array_add(out, g_strconcat(run->pdata[i],
			    tail->pdata[j], NULL));
	}
	/* The new strings replace the old ones. */
	g_ptr_array_set_size(run, 0);
	for (guint i = 0; i < out->len; i++)
		g_ptr_array_add(run, out->pdata[i]);
	g_ptr_array_free(out, TRUE);
	return true;
}

static bool
run_append(GPtrArray *run, const char *s, bool optional)
{
	size_t n = strlen(s);

	if (optional) {
		GPtrArray one = { .pdata = (gpointer *)&s, .len = 1 };

		return run_product(run, &one, true);
	}
	/* Appended in place: the common case, one string. */
	for (guint i = 0; i < run->len; i++) {
		size_t l = strlen(run->pdata[i]);
		char *t = g_realloc(run->pdata[i], l + n + 1);

		memcpy(t + l, s, n + 1);
		run->pdata[i] = t;
	}
	return true;
}

/* The run as a factor, when none of its strings is empty; then a new
 * run starts. */
static void
run_flush(fac_t **best, GPtrArray *run)
{
	bool empty = false;

	for (guint i = 0; i < run->len; i++)
		if (((char *)run->pdata[i])[0] == '\0')
			empty = true;
	if (!empty) {
		fac_t *f = fac_new();

		/* A string holding another one of the set says no more:
		 * disburs|disburse is disburs. */
		for (guint i = 0; i < run->len; i++) {
			bool holds = false;

			for (guint j = 0; j < run->len && !holds; j++)
				holds = j != i && strstr(run->pdata[i],
				    run->pdata[j]) != NULL && (strcmp(
				    run->pdata[i], run->pdata[j]) != 0 || j < i);
			if (!holds)
				g_ptr_array_add(f->s, g_strdup(run->pdata[i]));
		}
		fac_keep(best, f);
	}
	run_reset(run);
}

/*
 * The characters a class at lp->p ('[') stands for, lowercased, when it
 * is a short list of plain ones ([ae], [sS], [\xe7]); else NULL.  Does
 * not move lp.
 */
#define LIT_CLASS_MAX	4

static GPtrArray *
class_chars(const struct lp *lp)
{
	const char *p = lp->p + 1;
	char got[LIT_CLASS_MAX];
	size_t n = 0;
	GPtrArray *out;

	if (p < lp->end && (*p == '^' || *p == ']'))
		return NULL;
	while (p < lp->end && *p != ']') {
		int c = (unsigned char)*p++;

		if (c == '[' || (c == '-' && p < lp->end && *p != ']' &&
		    n > 0))
			return NULL;		/* [: :] or a range */
		if (c == '\\') {
			if (p >= lp->end)
				return NULL;
			c = (unsigned char)*p++;
			if (c == 'x') {
				unsigned v = 0;
				int k = 0;

				while (k < 2 && p < lp->end &&
				    isxdigit((unsigned char)*p)) {
					v = v * 16 + (unsigned)
					    g_ascii_xdigit_value(*p++);
					k++;
				}
				if (k == 0)
					return NULL;
				c = (int)v;
			} else if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (isalnum(c))
				return NULL;	/* \d, \w, octal... */
		}
		if (c == 0)
			return NULL;
		if (p < lp->end && *p == '-' && p + 1 < lp->end && p[1] != ']')
			return NULL;		/* a range */
		c = g_ascii_tolower((char)c) & 0xff;
		if (memchr(got, c, n) == NULL) {
			if (n == LIT_CLASS_MAX)
				return NULL;
			got[n++] = (char)c;
		}
	}
	if (p >= lp->end || n == 0)
		return NULL;
	out = strs_new();
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(out, g_strndup(&got[i], 1));
	return out;
}

/*
 * Puts an atom that matches one of the strings of ex (a literal group
 * or a short class), quantified by min and multi, after the run.
 */
static void
run_take(fac_t **best, GPtrArray *run, bool *exact, const GPtrArray *ex,
    unsigned min, bool multi)
{
	if (min > 0) {
		/* The first repetition follows the run; the last one is
		 * followed by what comes next. */
		if (!run_product(run, ex, false)) {
			run_flush(best, run);
			*exact = false;
			run_set(run, ex);
		}
		if (multi || min > 1) {
			run_flush(best, run);
			*exact = false;
			run_set(run, ex);
		}
	} else if (!multi) {
		/* Optional: with or without it. */
		if (!run_product(run, ex, true)) {
			run_flush(best, run);
			*exact = false;
		}
	} else {
		run_flush(best, run);
		*exact = false;
	}
}

/*
 * A sequence of atoms up to '|', ')' or the end: its best factor.
 * *exact_r (when asked): the strings one of which the whole sequence
 * matches, when it is literal text throughout, or NULL.
 */
static fac_t *
sequence(struct lp *lp, GPtrArray **exact_r)
{
	GPtrArray *run = strs_new();
	fac_t *best = NULL;
	bool exact = true;	/* run holds everything matched so far */

	run_reset(run);
	for (;;) {
		unsigned min;
		bool multi;
		int c;

		skip_ext(lp);
		if (lp->bad || lp->p >= lp->end || *lp->p == '|' ||
		    *lp->p == ')')
			break;
		c = (unsigned char)*lp->p;
		if (c == '(') {
			GPtrArray *gex;
			fac_t *g;
			bool skip;

			lp->p++;
			g = group(lp, &skip, &gex);
			if (skip)
				continue;
			quantifier(lp, &min, &multi);
			if (gex != NULL) {
				run_take(&best, run, &exact, gex, min, multi);
				g_ptr_array_free(gex, TRUE);
			} else {
				run_flush(&best, run);
				exact = false;
			}
			if (min > 0 && g != NULL) {
				/* Each repetition holds its own k. */
				g->k = g->k * min > LIT_MAX_K ? LIT_MAX_K :
				    g->k * min;
				fac_keep(&best, g);
			} else
				fac_free(g);
			continue;
		}
		if (c == '[') {
			GPtrArray *cc = class_chars(lp);

			if (!skip_class(lp)) {
				if (cc != NULL)
					g_ptr_array_free(cc, TRUE);
				lp->bad = true;
				break;
			}
			if (cc != NULL) {
				quantifier(lp, &min, &multi);
				run_take(&best, run, &exact, cc, min, multi);
				g_ptr_array_free(cc, TRUE);
				continue;
			}
			c = -1;
		} else if (c == '\\') {
			if (lp->p + 1 < lp->end && lp->p[1] == 'Q') {
				/* \Q...\E: literal text. */
				const char *e = strstr(lp->p + 2, "\\E");
				const char *stop = e != NULL && e < lp->end ?
				    e : lp->end;
				size_t tl = (size_t)(stop - (lp->p + 2));
				char *t = g_ascii_strdown(lp->p + 2, (gssize)tl);
				bool quant;

				lp->p = stop < lp->end ? stop + 2 : stop;
				/* A quantifier after \E takes the last
				 * character only. */
				quant = lp->p < lp->end &&
				    strchr("?*+{", *lp->p) != NULL;
				if (quant && t[0] != '\0')
					t[strlen(t) - 1] = '\0';
				if (!run_append(run, t, false)) {
					run_flush(&best, run);
					exact = false;
					g_ptr_array_set_size(run, 0);
					g_ptr_array_add(run, g_strdup(t));
				}
				g_free(t);
				if (quant) {
					quantifier(lp, &min, &multi);
					run_flush(&best, run);
					exact = false;
				}
				continue;
			}
			c = escape(lp);
		} else if (c == '.' || c == '^' || c == '$') {
			lp->p++;
			c = c == '.' ? -1 : -2;
		} else
			lp->p++;
		if (c == 0)
			c = -1;		/* strings end at NUL */
		quantifier(lp, &min, &multi);
		if (c < 0 || (min == 0 && multi)) {
			/* Not literal (or zero-width, taken as a break),
			 * or c*: the run ends. */
			run_flush(&best, run);
			exact = false;
			continue;
		}
		{
			char lc[LIT_REP_MAX + 1];
			unsigned n = min == 0 ? 1 : min > LIT_REP_MAX ?
			    LIT_REP_MAX : min;

			memset(lc, g_ascii_tolower((char)c), n);
			lc[n] = '\0';
			if (min == 0) {
				/* c?: with or without it. */
				if (!run_append(run, lc, true)) {
					run_flush(&best, run);
					exact = false;
				}
				continue;
			}
			if (!run_append(run, lc, false)) {
				run_flush(&best, run);
				exact = false;
				g_ptr_array_set_size(run, 0);
				g_ptr_array_add(run, g_strdup(lc));
			}
			if (multi || min > LIT_REP_MAX) {
				/* c+, c{n,m}: the run ends; the next one
				 * starts with the last n of them. */
				run_flush(&best, run);
				exact = false;
				g_ptr_array_set_size(run, 0);
				g_ptr_array_add(run, g_strdup(lc));
			}
		}
	}
	if (exact_r != NULL)
		*exact_r = NULL;
	if (exact && !lp->bad && exact_r != NULL) {
		*exact_r = strs_new();
		run_set(*exact_r, run);
	}
	run_flush(&best, run);
	g_ptr_array_free(run, TRUE);
	return best;
}

/* Alternatives: every one must give a factor; the union is the set,
 * and holds as many occurrences as the poorest alternative.  *exact_r
 * (when asked): the union of the alternatives' exact sets, when every
 * one has one. */
static fac_t *
alternation(struct lp *lp, GPtrArray **exact_r)
{
	GPtrArray *ex = NULL;
	fac_t *all = sequence(lp, exact_r != NULL ? &ex : NULL);

	while (!lp->bad && lp->p < lp->end && *lp->p == '|') {
		GPtrArray *e = NULL;
		fac_t *f;

		lp->p++;
		f = sequence(lp, ex != NULL ? &e : NULL);
		if (ex != NULL && (e == NULL || ex->len + e->len >
		    LIT_RUN_MAX)) {
			g_ptr_array_free(ex, TRUE);
			ex = NULL;
		} else if (ex != NULL)
			for (guint i = 0; i < e->len; i++)
				g_ptr_array_add(ex, g_strdup(e->pdata[i]));
		if (e != NULL)
			g_ptr_array_free(e, TRUE);
		if (all != NULL && (f == NULL || all->s->len + f->s->len >
		    LIT_MAX_SET)) {
			fac_free(all);
			all = NULL;
		} else if (all != NULL) {
			for (guint i = 0; i < f->s->len; i++)
				g_ptr_array_add(all->s,
				    g_strdup(f->s->pdata[i]));
			if (f->k < all->k)
				all->k = f->k;
		}
		fac_free(f);
	}
	if (exact_r != NULL)
		*exact_r = ex;
	else if (ex != NULL)
		g_ptr_array_free(ex, TRUE);
	return all;
}

char **
rx_literals(const char *pattern, const char *flags, size_t minlen)
{
	return rx_literals_k(pattern, flags, minlen, NULL);
}

char **
rx_literals_k(const char *pattern, const char *flags, size_t minlen,
    unsigned *k_r)
{
	struct lp lp = { .p = pattern, .end = pattern + strlen(pattern) };
	fac_t *f;
	char **out;

	lp.ext = flags != NULL && strchr(flags, 'x') != NULL;
	f = alternation(&lp, NULL);
	if (lp.bad || lp.p != lp.end || f == NULL || fac_minlen(f) < minlen) {
		fac_free(f);
		return NULL;
	}
	out = g_new0(char *, f->s->len + 1);
	for (guint i = 0; i < f->s->len; i++)
		out[i] = g_strdup(f->s->pdata[i]);
	if (k_r != NULL)
		*k_r = f->k;
	fac_free(f);
	return out;
}

/*
 * Heads: where a match can start.  rx_heads() gives a set of strings
 * and a lead such that every match starting at p holds one of the
 * strings (lowercased) at p + d for some 0 <= d <= lead: the items the
 * pattern opens with that are not literal text, such as \s? or the
 * optional words of (?:your\s)?(?:name|city), add their widest width to
 * the lead, or (when they have heads of their own) add those to the
 * set.  rules_re.c tries a match only at the places such an occurrence
 * allows, instead of at every byte PCRE2's start bitmap lets through.
 *
 * As for the literals above, whatever is not understood gives no heads
 * (NULL), never a wrong set: back references, recursion, conditionals,
 * \G, \K, backtracking verbs (which change where a search goes on), /x.
 */
#define HD_INF		SIZE_MAX
#define HD_MAX_SET	256	/* strings in a set, beyond: no heads */
#define HD_MAX_LEAD	64	/* beyond: no heads, too many places */
#define HD_MIN_LEN	2	/* a set holding a shorter string: none */

struct hd {
	GPtrArray	*s;		/* heads, or NULL: none known */
	GArray		*ld;		/* each one's lead (guint) */
	size_t		 maxw;		/* widest match, HD_INF: unbounded */
	bool		 nullable;	/* matches the empty string */
	bool		 exact;		/* every match is one of s */
};

static void
hd_drop(struct hd *h)
{
	if (h->s != NULL)
		g_ptr_array_free(h->s, TRUE);
	if (h->ld != NULL)
		g_array_free(h->ld, TRUE);
	h->s = NULL;
	h->ld = NULL;
}

static size_t
w_add(size_t a, size_t b)
{
	return a == HD_INF || b == HD_INF || a + b < a ? HD_INF : a + b;
}

static size_t
w_mul(size_t a, unsigned long n)
{
	if (n == 0 || a == 0)
		return 0;
	if (a == HD_INF || n == ULONG_MAX || a > HD_INF / n)
		return HD_INF;
	return a * n;
}

/* Adds the strings of from (with their leads, or none) to to's heads,
 * each shift bytes further from the start. */
static void
hd_add(struct hd *to, const GPtrArray *from, const GArray *from_ld,
    size_t shift, bool *bad_r)
{
	if (to->s == NULL) {
		to->s = strs_new();
		to->ld = g_array_new(FALSE, FALSE, sizeof(guint));
	}
	for (guint i = 0; i < from->len; i++) {
		size_t l = w_add(shift, from_ld != NULL ? g_array_index(from_ld,
		    guint, i) : 0);
		guint v = l > HD_MAX_LEAD ? HD_MAX_LEAD + 1 : (guint)l;

		g_ptr_array_add(to->s, g_strdup(from->pdata[i]));
		g_array_append_val(to->ld, v);
		if (l > HD_MAX_LEAD)
			*bad_r = true;
	}
	if (to->s->len > HD_MAX_SET)
		*bad_r = true;
}

static struct hd hd_alternation(struct lp *lp);

/*
 * One atom at lp->p: its heads (a literal character or a short class
 * gives its characters, a group its own heads), widths and whether it
 * is zero-width or a literal (*lit_r: the strings of one character it
 * matches, for a run).
 */
static struct hd
hd_atom(struct lp *lp, GPtrArray **lit_r)
{
	struct hd h = { NULL, NULL, 1, false, false };
	int c = (unsigned char)*lp->p;

	*lit_r = NULL;
	if (c == '(') {
		const char *q = lp->p + 1;
		bool zero = false;

		if (q < lp->end && *q == '*') {
			lp->bad = true;		/* (*VERB), (*UTF)... */
			return h;
		}
		lp->p++;
		if (q < lp->end && *q == '?') {
			q++;
			if (q >= lp->end) {
				lp->bad = true;
				return h;
			}
			switch (*q) {
			case '#': {
				const char *e = memchr(q, ')', (size_t)(lp->end -
				    q));

				if (e == NULL)
					lp->bad = true;
				else
					lp->p = e + 1;
				h.maxw = 0;
				h.nullable = true;
				return h;
			}
			case '=': case '!':
				lp->p = q + 1;
				zero = true;
				break;
			case '<':
				if (q + 1 < lp->end && (q[1] == '=' ||
				    q[1] == '!')) {
					lp->p = q + 2;
					zero = true;
					break;
				}
				if ((q = memchr(q, '>', (size_t)(lp->end - q))) ==
				    NULL) {
					lp->bad = true;
					return h;
				}
				lp->p = q + 1;
				break;
			case 'P':
				if (q + 1 < lp->end && q[1] == '<' && (q = memchr(q,
				    '>', (size_t)(lp->end - q))) != NULL) {
					lp->p = q + 1;
					break;
				}
				lp->bad = true;		/* references */
				return h;
			case '\'':
				if ((q = memchr(q + 1, '\'', (size_t)(lp->end - q -
				    1))) == NULL) {
					lp->bad = true;
					return h;
				}
				lp->p = q + 1;
				break;
			case ':': case '>': case '|':
				lp->p = q + 1;
				break;
			default: {
				bool neg = false;

				/* Options; anything else (conditionals,
				 * recursion, callouts) gives up. */
				while (q < lp->end && (isalpha((unsigned char)*q)
				    || *q == '-' || *q == '^')) {
					if (*q == '-')
						neg = true;
					else if (*q == 'x' && !neg)
						lp->bad = true;
					q++;
				}
				if (q >= lp->end || (*q != ')' && *q != ':')) {
					lp->bad = true;
					return h;
				}
				lp->p = q + 1;
				if (*q == ')') {
					h.maxw = 0;
					h.nullable = true;
					return h;
				}
				break;
			}
			}
		}
		{
			struct hd in = hd_alternation(lp);

			if (lp->p < lp->end && *lp->p == ')')
				lp->p++;
			else
				lp->bad = true;
			if (zero) {
				hd_drop(&in);
				h.maxw = 0;
				h.nullable = true;
				return h;
			}
			return in;
		}
	}
	if (c == '[') {
		GPtrArray *cc = class_chars(lp);

		if (!skip_class(lp)) {
			if (cc != NULL)
				g_ptr_array_free(cc, TRUE);
			lp->bad = true;
			return h;
		}
		*lit_r = cc;
		return h;
	}
	if (c == '\\') {
		int e;

		if (lp->p + 1 < lp->end && strchr("123456789gkGKRXQE",
		    lp->p[1]) != NULL) {
			/* References, \G, \K, \R, \X and \Q: give up. */
			lp->bad = true;
			return h;
		}
		e = escape(lp);
		if (e == -2) {
			h.maxw = 0;
			h.nullable = true;
		} else if (e > 0) {
			char s[2] = { g_ascii_tolower((char)e), '\0' };

			*lit_r = strs_new();
			g_ptr_array_add(*lit_r, g_strdup(s));
		}
		return h;
	}
	lp->p++;
	if (c == '^' || c == '$') {
		h.maxw = 0;
		h.nullable = true;
	} else if (c != '.') {
		char s[2] = { g_ascii_tolower((char)c), '\0' };

		*lit_r = strs_new();
		g_ptr_array_add(*lit_r, g_strdup(s));
	}
	return h;
}

/*
 * A sequence of atoms up to '|', ')' or the end.  A run of literal text
 * at the lead (characters, short classes, groups of literal text, each
 * once or optional) gives the heads; an item before it that is not
 * literal widens the lead, or, when it may be empty and has heads of
 * its own, adds those (a match where it is not empty opens with them).
 */
static struct hd
hd_sequence(struct lp *lp)
{
	struct hd out = { NULL, NULL, 0, true, false };
	GPtrArray *run = NULL;		/* literal text at the lead */
	size_t lead = 0;		/* widest text before the head */
	bool done = false, fail = false, exact = true;

	for (;;) {
		unsigned long min, max;
		GPtrArray *lit;
		size_t litw = 1;
		struct hd a;

		skip_ext(lp);
		if (lp->bad || lp->p >= lp->end || *lp->p == '|' ||
		    *lp->p == ')')
			break;
		a = hd_atom(lp, &lit);
		if (lp->bad) {
			hd_drop(&a);
			if (lit != NULL)
				g_ptr_array_free(lit, TRUE);
			break;
		}
		hd_quant(lp, &min, &max);
		if (lit == NULL && a.exact && a.s != NULL) {
			/* A group of literal text reads as a literal. */
			lit = a.s;
			a.s = NULL;
			litw = a.maxw;
		}
		out.maxw = w_add(out.maxw, w_mul(lit != NULL ? litw : a.maxw,
		    max));
		if (min >= 1 && (lit != NULL || !a.nullable))
			out.nullable = false;
		if (lit != NULL) {
			if (run != NULL) {
				/* Once or optional: the run goes on.  More
				 * than once: one more, and the run ends. */
				bool goes_on = max == 1 && run_product(run, lit,
				    min == 0);

				if (!goes_on && max != 1 && min >= 1)
					(void)run_product(run, lit, false);
				if (!goes_on) {
					hd_add(&out, run, NULL, lead, &fail);
					g_ptr_array_free(run, TRUE);
					run = NULL;
					done = true;
					exact = false;
				}
			} else if (!done && min >= 1) {
				run = strs_new();
				run_set(run, lit);
				if (max != 1) {
					hd_add(&out, run, NULL, lead, &fail);
					g_ptr_array_free(run, TRUE);
					run = NULL;
					done = true;
					exact = false;
				}
			} else {
				bool heads = !done && max != 0;

				/* Optional text: a match where it is there
				 * opens with it, one where it is not goes on
				 * at the same lead.  A single character says
				 * too little: it widens the lead instead. */
				for (guint i = 0; heads && i < lit->len; i++)
					heads = strlen(lit->pdata[i]) >= HD_MIN_LEN;
				exact = false;
				if (heads)
					hd_add(&out, lit, NULL, lead, &fail);
				else if (!done)
					lead = w_add(lead, w_mul(litw, max));
			}
			g_ptr_array_free(lit, TRUE);
			hd_drop(&a);
			if (lead == HD_INF || lead > HD_MAX_LEAD)
				fail = true;
			continue;
		}
		if (a.maxw != 0 || a.s != NULL)
			exact = false;
		if (run != NULL && a.maxw != 0) {
			hd_add(&out, run, NULL, lead, &fail);
			g_ptr_array_free(run, TRUE);
			run = NULL;
			done = true;
		}
		if (!done && a.maxw != 0) {
			/* A repeated atom's first repetition opens it; one
			 * that may be left out adds its heads, and what
			 * follows it is at the same lead. */
			if (a.s != NULL && max != 0) {
				hd_add(&out, a.s, a.ld, lead, &fail);
				if (min >= 1)
					done = true;
			} else
				lead = w_add(lead, w_mul(a.maxw, max));
			if (lead == HD_INF || lead > HD_MAX_LEAD)
				fail = true;
		}
		hd_drop(&a);
	}
	if (run != NULL) {
		if (exact && !fail) {
			/* Literal text throughout: exactly these. */
			hd_add(&out, run, NULL, 0, &fail);
			g_ptr_array_free(run, TRUE);
			out.exact = true;
			return out;
		}
		hd_add(&out, run, NULL, lead, &fail);
		g_ptr_array_free(run, TRUE);
		done = true;
	}
	if (!done || fail)
		hd_drop(&out);
	out.exact = false;
	return out;
}

static struct hd
hd_alternation(struct lp *lp)
{
	struct hd all = hd_sequence(lp);
	bool fail = all.s == NULL;

	while (!lp->bad && lp->p < lp->end && *lp->p == '|') {
		struct hd b;

		lp->p++;
		b = hd_sequence(lp);
		if (b.s == NULL || fail)
			fail = true;
		else
			hd_add(&all, b.s, b.ld, 0, &fail);
		all.exact = all.exact && b.exact;
		hd_drop(&b);
		if (b.maxw > all.maxw)
			all.maxw = b.maxw;
		all.nullable = all.nullable || b.nullable;
	}
	if (fail)
		hd_drop(&all);
	if (all.s == NULL)
		all.exact = false;
	return all;
}

char **
rx_heads(const char *pattern, const char *flags, unsigned **leads_r)
{
	struct lp lp = { .p = pattern, .end = pattern + strlen(pattern) };
	struct hd h;
	char **out;
	unsigned *leads;
	guint n = 0;

	if (flags != NULL && strchr(flags, 'x') != NULL)
		return NULL;
	h = hd_alternation(&lp);
	if (lp.bad || lp.p != lp.end || h.s == NULL || h.nullable) {
		hd_drop(&h);
		return NULL;
	}
	out = g_new0(char *, h.s->len + 1);
	leads = g_new0(unsigned, h.s->len + 1);
	for (guint i = 0; i < h.s->len; i++) {
		const char *s = h.s->pdata[i];
		guint li = g_array_index(h.ld, guint, i);
		bool dup = false;

		if (strlen(s) < HD_MIN_LEN) {
			g_strfreev(out);
			g_free(leads);
			hd_drop(&h);
			return NULL;
		}
		/* A string that opens with another of the set, at no
		 * greater lead, adds no place: name and names are name. */
		for (guint j = 0; j < h.s->len && !dup; j++) {
			const char *t = h.s->pdata[j];
			guint lj = g_array_index(h.ld, guint, j);
			size_t tl = strlen(t);

			dup = j != i && strncmp(s, t, tl) == 0 && lj >= li &&
			    (strlen(s) > tl || lj > li || j < i);
		}
		if (!dup) {
			leads[n] = li;
			out[n++] = g_strdup(s);
		}
	}
	*leads_r = leads;
	hd_drop(&h);
	return out;
}
