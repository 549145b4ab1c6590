/*
 * rules_re.c - the one file that talks to PCRE2: Perl patterns from rule
 * files compiled with JIT, matched with a match limit and a depth limit so
 * that no pattern can stall a message.
 *
 * Each thread keeps its own match data, match context and JIT stack
 * (created on first use, freed when the thread exits); compiled patterns
 * are shared read-only between threads.
 *
 * Heads: a pattern PCRE2 would try at almost every byte (its start
 * bitmap lets most letters through, as when it opens with optional
 * words: SpamAssassin's __FILL_THIS_FORM_ rules) but whose every match
 * holds one of a set of strings within a few bytes of its start
 * (rx_heads, rules_lit.c) is searched another way: a Hyperscan literal
 * database finds those strings in the subject, and the pattern,
 * compiled a second time anchored, is tried only at the places they
 * allow, in ascending order.  An unanchored search is the same anchored
 * attempt at every start in ascending order (PCRE2's start-up
 * optimisations only pass over places where the attempt must fail), so
 * the first place that matches is the match the search would have
 * found.  The match and depth limits hold for each attempt, as they do
 * for each start of an unanchored search.
 *
 * ASCII subjects: SpamAssassin's obfuscation tags (<C>, <I>, <A>... in
 * the FUZZY_ rules) are alternations whose branches mostly open with a
 * byte of 0x80 or above (UTF-8 lookalikes such as [\xc3][\x87\xa7]).
 * On a subject with no such byte those branches can never match, yet
 * PCRE2 tries each of them at every place the tag is tried.  A pattern
 * with such branches is compiled a second time without them (asc_build)
 * and that copy runs on subjects that are all ASCII: removing branches
 * that cannot match leaves the others tried in the same order, so the
 * match is the same one, at the same place.
 *
 * A pattern compiled in a form these readers do not follow (a tag
 * written once and called, rules_set.c) can be given the same pattern
 * written out (rx_set_equiv): heads and the ASCII copy are read from
 * that one, the anchored copy compiled from the pattern itself.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_HYPERSCAN
#include <hs.h>
#endif
#include <stdatomic.h>

#include <glib.h>

#include "lib/log.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "msg.h"

struct rx {
	pcre2_code	*code;
	bool		 is_jit;
	uint32_t	 match_limit;
	uint32_t	 depth_limit;
	char		*src;		/* translated pattern, until rx_jit */
	char		*equiv;		/* the same written otherwise, or NULL */
	uint32_t	 opts;
	pcre2_code	*asc;		/* for ASCII subjects; NULL: none */
	bool		 asc_jit;
#ifdef HAVE_HYPERSCAN
	hs_database_t	*heads;		/* NULL: searched as usual */
	unsigned	*lead;		/* by head id */
	size_t		*hlen;
	pcre2_code	*anch;		/* the pattern, anchored */
	bool		 anch_jit;
#endif
};

/* Per-thread matching state. */
struct rx_tls {
	pcre2_match_data	*md;
	pcre2_match_context	*mc;
	pcre2_jit_stack		*js;
#ifdef HAVE_HYPERSCAN
	hs_scratch_t		*hs;
	uint64_t		 hs_gen;
	uint8_t			*mark;		/* candidate starts */
	size_t			 markcap;
#endif
};

#ifdef HAVE_HYPERSCAN
/*
 * Hyperscan scratch for the heads databases: one grown to fit every
 * database compiled so far (scratch only grows), cloned by each thread
 * when a new database came since its last clone.
 */
static pthread_mutex_t	hs_lock = PTHREAD_MUTEX_INITIALIZER;
static hs_scratch_t	*hs_proto;
static _Atomic uint64_t	hs_gen;
#endif

static pthread_key_t	tls_key;
static pthread_once_t	tls_once = PTHREAD_ONCE_INIT;
/* This thread's, once made: rx_match looks it up on every call (about
 * 2000 a message), where pthread_once and pthread_getspecific cost
 * some 30 instructions; the key still frees it when the thread exits. */
static __thread struct rx_tls *tls_cur;

static struct util_spares tls_spares = UTIL_SPARES_INIT;
static _Atomic uint64_t tls_made;

uint64_t
rx_match_states(void)
{
	return atomic_load(&tls_made);
}

/* At a thread's exit: kept for the next thread (util_spare_keep). */
static void
tls_free(void *p)
{
	struct rx_tls *t = p;

	tls_cur = NULL;
	if (t == NULL || util_spare_keep(&tls_spares, t))
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	pcre2_jit_stack_free(t->js);
#ifdef HAVE_HYPERSCAN
	hs_free_scratch(t->hs);
	free(t->mark);
#endif
	free(t);
}

static void
tls_init(void)
{
	if (pthread_key_create(&tls_key, tls_free) != 0)
		BUG("rules: pthread_key_create failed");
}

static struct rx_tls *
tls_get(void)
{
	struct rx_tls *t;

	if (tls_cur != NULL)
		return tls_cur;
	pthread_once(&tls_once, tls_init);
	if ((t = pthread_getspecific(tls_key)) != NULL)
		return tls_cur = t;
	if ((t = util_spare_take(&tls_spares)) != NULL) {
		if (pthread_setspecific(tls_key, t) != 0)
			BUG("rules: pthread_setspecific failed");
		return tls_cur = t;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		log_oom(sizeof(*t), "rules tls");
	atomic_fetch_add(&tls_made, 1);
	/* One pair is enough: rules only need where the whole match is. */
	t->md = pcre2_match_data_create(1, NULL);
	t->mc = pcre2_match_context_create(NULL);
	t->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (t->md == NULL || t->mc == NULL || t->js == NULL)
		log_oom(1024 * 1024, "rules pcre2 match state");
	pcre2_jit_stack_assign(t->mc, NULL, t->js);
	if (pthread_setspecific(tls_key, t) != 0)
		BUG("rules: pthread_setspecific failed");
	return tls_cur = t;
}

/*
 * Perl patterns are PCRE2 patterns with a few exceptions.  Those PCRE2
 * reads differently or not at all are reported here; unknown escapes
 * such as \y (a literal y in Perl) are handled by
 * PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL at compile time.
 */
char *
rx_translate(const char *pat, const char **why_r)
{
	size_t n = strlen(pat);
	char *out, *o;
	bool in_class = false;

	if ((out = malloc(n + 1)) == NULL)
		log_oom(n + 1, "rules pattern");
	o = out;
	for (size_t i = 0; i < n; i++) {
		char c = pat[i];

		if (c == '\\' && i + 1 < n) {
			char d = pat[i + 1];

			if (d == 'b' && pat[i + 2] == '{' && !in_class) {
				*why_r = "\\b{...} boundaries are Perl-only";
				goto unsupported;
			}
			if (d == 'U' || d == 'L' || (d == 'u' && !in_class) ||
			    (d == 'l' && !in_class)) {
				*why_r = "case-changing escapes (\\U \\L \\u \\l) "
				    "belong to Perl strings, not patterns";
				goto unsupported;
			}
			*o++ = c;
			*o++ = d;
			i++;
			continue;
		}
		if (in_class) {
			if (c == ']')
				in_class = false;
			*o++ = c;
			continue;
		}
		if (c == '[') {
			in_class = true;
			*o++ = c;
			/* A leading ] or ^] is a literal. */
			if (pat[i + 1] == '^')
				*o++ = pat[++i];
			if (pat[i + 1] == ']')
				*o++ = pat[++i];
			continue;
		}
		if (c == '(' && pat[i + 1] == '?' &&
		    (pat[i + 2] == '{' || (pat[i + 2] == '?' &&
		    pat[i + 3] == '{'))) {
			*why_r = "embedded Perl code (?{...}) cannot run here";
			goto unsupported;
		}
		*o++ = c;
	}
	*o = '\0';
	return out;
unsupported:
	free(out);
	return NULL;
}

struct rx *
rx_compile(const char *pattern, const char *flags,
    const struct rules_limits *lim, char *err, size_t errlen, size_t *erroff_r,
    bool *too_large_r)
{
	struct rx *rx = rx_compile_nojit(pattern, flags, lim, err, errlen,
	    erroff_r, too_large_r);

	if (rx != NULL)
		rx_jit(rx);
	return rx;
}

static void	heads_build(struct rx *);
static void	asc_build(struct rx *);

void
rx_jit(struct rx *rx)
{
	/* Without JIT (e.g. no executable memory) the interpreter runs
	 * under the same limits: slower, never wrong. */
	rx->is_jit = pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE) == 0;
	if (rx->src != NULL) {
		heads_build(rx);
		if (!rx_has_heads(rx))
			asc_build(rx);
		free(rx->src);
		rx->src = NULL;
	}
	free(rx->equiv);
	rx->equiv = NULL;
}

void
rx_set_equiv(struct rx *rx, const char *pattern)
{
	const char *why;

	free(rx->equiv);
	rx->equiv = rx_translate(pattern, &why);
}

struct rx *
rx_compile_nojit(const char *pattern, const char *flags,
    const struct rules_limits *lim, char *err, size_t errlen, size_t *erroff_r,
    bool *too_large_r)
{
	uint32_t opts = 0;
	pcre2_compile_context *cc;
	pcre2_code *code;
	struct rx *rx;
	const char *why = NULL;
	char *pat;
	int ec;
	PCRE2_SIZE eoff;

	*erroff_r = 0;
	*too_large_r = false;
	for (const char *f = flags; *f != '\0'; f++) {
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		/* Perl match-time flags with no meaning for a rule. */
		case 'g': case 'o': case 'p': case 'a': case 'u': case 'l':
		case 'd':
			break;
		default:
			snprintf(err, errlen, "unknown regex flag '%c'", *f);
			return NULL;
		}
	}
	if ((pat = rx_translate(pattern, &why)) == NULL) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		log_oom(256, "rules pcre2 compile context");
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
	code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts,
	    &ec, &eoff, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];

		free(pat);
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "%s (pcre2 error %d)", (char *)msg, ec);
		*erroff_r = eoff;
		*too_large_r = ec == PCRE2_ERROR_PATTERN_TOO_LARGE;
		return NULL;
	}
	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		log_oom(sizeof(*rx), "rules rx");
	rx->code = code;
	rx->src = pat;
	rx->opts = opts;
	rx->match_limit = lim->match_limit;
	rx->depth_limit = lim->depth_limit;
	return rx;
}

void
rx_free(struct rx *rx)
{
	if (rx == NULL)
		return;
	pcre2_code_free(rx->code);
	pcre2_code_free(rx->asc);
	free(rx->src);
	free(rx->equiv);
#ifdef HAVE_HYPERSCAN
	if (rx->heads != NULL) {
		hs_free_database(rx->heads);
		g_free(rx->lead);
		g_free(rx->hlen);
		pcre2_code_free(rx->anch);
	}
#endif
	free(rx);
}

/*
 * Rough byte frequencies of English mail text, per thousand bytes, for
 * rx_start_cost (a heuristic: what it decides never changes a result).
 */
static double
byte_freq(unsigned c)
{
	static const char lower[] = "etaoinshrdlcumwfgypbvkjxqz";
	static const double fl[] = { 90, 65, 60, 60, 55, 55, 50, 45, 45, 30,
	    30, 22, 20, 20, 17, 17, 15, 15, 15, 11, 8, 6, 1, 1, 1, 1 };
	const char *p;

	if (c == ' ')
		return 150;
	if (c == '\n')
		return 20;
	if (c >= 'a' && c <= 'z' && (p = strchr(lower, (int)c)) != NULL)
		return fl[p - lower];
	if (c >= 'A' && c <= 'Z' && (p = strchr(lower, (int)c + 32)) != NULL)
		return fl[p - lower] / 10 + 0.5;
	if (c >= '0' && c <= '9')
		return 3;
	if (c == '.' || c == ',')
		return 10;
	if (c > ' ' && c < 0x7f)
		return 1;
	return 0.3;
}

/*
 * What a search for rx costs on a byte of English text, roughly, in
 * units of one byte looked at: PCRE2 looks for a known first byte with
 * memchr-like code (a tenth), tests each byte against a bitmap of first
 * bytes (one), and tries a match at each candidate (ten).
 */
double
rx_start_cost(const struct rx *rx)
{
	uint32_t type = 0, unit = 0, opts = 0;
	const uint8_t *bits = NULL;
	double sum = 0;

	pcre2_pattern_info(rx->code, PCRE2_INFO_FIRSTCODETYPE, &type);
	pcre2_pattern_info(rx->code, PCRE2_INFO_ALLOPTIONS, &opts);
	if (opts & PCRE2_ANCHORED)
		return 0.01;
	if (type == 1) {
		pcre2_pattern_info(rx->code, PCRE2_INFO_FIRSTCODEUNIT, &unit);
		sum = byte_freq(unit);
		if (opts & PCRE2_CASELESS)
			sum += (unit >= 'a' && unit <= 'z') ? byte_freq(unit -
			    32) : (unit >= 'A' && unit <= 'Z') ?
			    byte_freq(unit + 32) : 0;
		return 0.1 + 10 * sum / 1000;
	}
	if (type == 2)		/* after a newline only */
		return 0.1 + 10 * byte_freq('\n') / 1000;
	if (pcre2_pattern_info(rx->code, PCRE2_INFO_FIRSTBITMAP, &bits) != 0 ||
	    bits == NULL)
		return 10;
	for (unsigned c = 0; c < 256; c++)
		if (bits[c / 8] & (1u << (c % 8)))
			sum += byte_freq(c);
	return 1 + 10 * (sum > 1000 ? 1 : sum / 1000);
}

/*
 * Heads are worth it when the places they leave cost clearly less than
 * the places PCRE2's own start-up leaves (rx_start_cost's units): each
 * place an attempt (ten), each byte a look in the literal database.
 */
#define HEADS_MIN_COST	5.0	/* below: PCRE2 starts well on its own */
#define HEADS_GAIN	0.25
#define HEADS_SCAN	0.3
#define HEADS_MIN_SUBJECT 64	/* shorter subjects: searched as usual */

static void
heads_build(struct rx *rx)
{
#ifdef HAVE_HYPERSCAN
	double cost = rx_start_cost(rx), places = 0;
	unsigned *lead = NULL, *flags, *ids;
	size_t n, *hlen;
	char **h;
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	pcre2_compile_context *cc;
	pcre2_code *anch;
	int ec;
	PCRE2_SIZE eoff;

	const char *plain = getenv("VIGIL_RULES_PLAIN");

	if ((plain != NULL && strcmp(plain, "1") == 0) || getenv(
	    "VIGIL_RULES_NO_HEADS") != NULL)
		return;		/* as the other shortcuts (rules_set.c) */
	if (cost < HEADS_MIN_COST || (rx->opts & PCRE2_EXTENDED) ||
	    (h = rx_heads(rx->equiv != NULL ? rx->equiv : rx->src, "",
	    &lead)) == NULL)
		return;
	for (n = 0; h[n] != NULL; n++) {
		double p = lead[n] + 1;

		/* Caseless: a letter's two cases. */
		for (const char *c = h[n]; *c != '\0'; c++) {
			unsigned u = (unsigned char)*c;

			p *= (byte_freq(u) + (u >= 'a' && u <= 'z' ?
			    byte_freq(u - 32) : 0)) / 1000;
		}
		places += p;
	}
	if (HEADS_SCAN + 10 * places > HEADS_GAIN * cost)
		goto out;
	flags = g_new(unsigned, n);
	ids = g_new(unsigned, n);
	hlen = g_new(size_t, n);
	for (size_t i = 0; i < n; i++) {
		flags[i] = HS_FLAG_CASELESS;
		ids[i] = (unsigned)i;
		hlen[i] = strlen(h[i]);
	}
	if (hs_compile_lit_multi((const char *const *)h, flags, ids, hlen,
	    (unsigned)n, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		db = NULL;
	}
	g_free(flags);
	g_free(ids);
	if (db == NULL) {
		g_free(hlen);
		goto out;
	}
	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		log_oom(256, "rules pcre2 compile context");
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
	anch = pcre2_compile((PCRE2_SPTR)rx->src, PCRE2_ZERO_TERMINATED,
	    rx->opts | PCRE2_ANCHORED, &ec, &eoff, cc);
	pcre2_compile_context_free(cc);
	if (anch == NULL) {
		hs_free_database(db);
		g_free(hlen);
		goto out;
	}
	pthread_mutex_lock(&hs_lock);
	if (hs_alloc_scratch(db, &hs_proto) != HS_SUCCESS) {
		pthread_mutex_unlock(&hs_lock);
		log_oom(1 << 20, "rules hyperscan scratch");
	}
	atomic_fetch_add(&hs_gen, 1);
	pthread_mutex_unlock(&hs_lock);
	rx->anch = anch;
	rx->anch_jit = pcre2_jit_compile(anch, PCRE2_JIT_COMPLETE) == 0;
	rx->heads = db;
	rx->hlen = hlen;
	rx->lead = lead;
	lead = NULL;
out:
	g_strfreev(h);
	g_free(lead);
#else
	(void)rx;
#endif
}

/*
 * The ASCII copy of a pattern (see the top of this file): the pattern
 * with every branch removed whose first item must match a byte of 0x80
 * or above: a class of such bytes only (\xHH, HH >= 80, or the raw byte,
 * or ranges of them), or such a byte alone, without a quantifier that
 * lets it match nothing.  Anything this reader does not follow (\Q,
 * \c, verbs, conditionals, recursion, branch resets, comments, named
 * groups, a kept branch with a group whose every branch would go, a
 * removed branch holding a capture) means no copy.
 */
struct asc {
	const char	*p;
	size_t		 n, i;
	unsigned	 caps;		/* capturing groups seen */
	unsigned	 removed;
	unsigned	 empty;		/* groups left with no branch */
	bool		 bad;
};

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c -
	    'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A high byte (>= 0x80) written at p[i]: its end in *end_r. */
static bool
high_byte(const char *p, size_t n, size_t i, size_t *end_r)
{
	unsigned v = 0;
	size_t j;

	if ((unsigned char)p[i] >= 0x80) {
		*end_r = i + 1;
		return true;
	}
	if (p[i] != '\\' || i + 1 >= n || p[i + 1] != 'x')
		return false;
	j = i + 2;
	if (j < n && p[j] == '{') {
		for (j++; j < n && hexval(p[j]) >= 0; j++)
			v = v * 16 + (unsigned)hexval(p[j]);
		if (j >= n || p[j] != '}' || v > 0xff)
			return false;
		j++;
	} else {
		for (size_t k = 0; k < 2 && j < n && hexval(p[j]) >= 0; k++)
			v = v * 16 + (unsigned)hexval(p[j++]);
	}
	*end_r = j;
	return v >= 0x80;
}

/* Does a branch starting at p[b] open with an item that must match a
 * high byte? */
static bool
high_first(const char *p, size_t n, size_t b)
{
	size_t j = b, e;

	if (b < n && p[b] == '[') {
		bool any = false;

		j = b + 1;
		while (j < n && p[j] != ']') {
			if (!high_byte(p, n, j, &e))
				return false;
			j = e;
			if (j + 1 < n && p[j] == '-' && p[j + 1] != ']') {
				if (!high_byte(p, n, j + 1, &e))
					return false;
				j = e;
			}
			any = true;
		}
		if (j >= n || !any)
			return false;
		j++;
	} else if (b >= n || !high_byte(p, n, b, &j))
		return false;
	/* A quantifier that allows none (or could be read as one). */
	if (j < n && (p[j] == '?' || p[j] == '*'))
		return false;
	if (j + 1 < n && p[j] == '{' && (p[j + 1] == '0' || p[j + 1] == ','))
		return false;
	return true;
}

static void	asc_alt(struct asc *, GString *);

/* The item at a->i, appended to out. */
static void
asc_item(struct asc *a, GString *out)
{
	const char *p = a->p;
	size_t i = a->i, n = a->n;

	if (p[i] == '\\') {
		if (i + 1 >= n || p[i + 1] == 'Q' || p[i + 1] == 'E' ||
		    p[i + 1] == 'c') {
			a->bad = true;
			return;
		}
		g_string_append_len(out, p + i, 2);
		a->i = i + 2;
		return;
	}
	if (p[i] == '[') {
		size_t j = i + 1;

		if (j < n && p[j] == '^')
			j++;
		if (j < n && p[j] == ']')
			j++;
		while (j < n && p[j] != ']') {
			if (p[j] == '\\')
				j += 2;
			else if (p[j] == '[' && j + 1 < n && strchr(":.=",
			    p[j + 1]) != NULL) {
				/* [:alpha:] and the like, nothing less clear */
				size_t k = j + 2;

				while (k < n && (g_ascii_isalpha(p[k]) ||
				    p[k] == '^'))
					k++;
				if (p[j + 1] != ':' || k + 1 >= n ||
				    p[k] != ':' || p[k + 1] != ']') {
					a->bad = true;
					return;
				}
				j = k + 2;
			} else
				j++;
		}
		if (j >= n) {
			a->bad = true;
			return;
		}
		g_string_append_len(out, p + i, (gssize)(j + 1 - i));
		a->i = j + 1;
		return;
	}
	if (p[i] == '(') {
		size_t j = i + 1;

		if (j < n && p[j] == '*') {
			a->bad = true;		/* verbs */
			return;
		}
		if (j < n && p[j] == '?') {
			char c = j + 1 < n ? p[j + 1] : '\0';

			if (c == ':' || c == '=' || c == '!' || c == '>')
				j += 2;
			else if (c == '<' && j + 2 < n && (p[j + 2] == '=' ||
			    p[j + 2] == '!'))
				j += 3;
			else if (c == '<' || c == 'P' || c == '\'') {
				a->bad = true;	/* named groups */
				return;
			} else {
				/* (?i:...) or the setting (?i) */
				size_t k = j + 1;

				while (k < n && (g_ascii_isalpha(p[k]) ||
				    p[k] == '-' || p[k] == '^')) {
					if (p[k] == 'x' || p[k] == 'P' ||
					    p[k] == 'R' || p[k] == 'C')
						a->bad = true;
					k++;
				}
				if (a->bad || k == j + 1 || k >= n ||
				    (p[k] != ':' && p[k] != ')')) {
					a->bad = true;
					return;
				}
				if (p[k] == ')') {
					g_string_append_len(out, p + i,
					    (gssize)(k + 1 - i));
					a->i = k + 1;
					return;
				}
				j = k + 1;
			}
		} else
			a->caps++;
		g_string_append_len(out, p + i, (gssize)(j - i));
		a->i = j;
		asc_alt(a, out);
		if (a->bad || a->i >= n || p[a->i] != ')') {
			a->bad = true;
			return;
		}
		g_string_append_c(out, ')');
		a->i++;
		return;
	}
	g_string_append_c(out, p[i]);
	a->i = i + 1;
}

/* The branches from a->i to the ')' that ends them (or the end). */
static void
asc_alt(struct asc *a, GString *out)
{
	unsigned kept = 0;
	GString *br = g_string_new(NULL);

	for (;;) {
		size_t b = a->i;
		unsigned caps = a->caps, empty = a->empty;

		g_string_truncate(br, 0);
		while (!a->bad && a->i < a->n && a->p[a->i] != '|' &&
		    a->p[a->i] != ')')
			asc_item(a, br);
		if (a->bad)
			break;
		if (high_first(a->p, a->i, b) && a->caps == caps) {
			a->removed++;
			a->empty = empty;	/* what it held goes with it */
		} else if (a->empty != empty) {
			a->bad = true;	/* a group that kept no branch */
			break;
		} else {
			if (kept++ > 0)
				g_string_append_c(out, '|');
			g_string_append_len(out, br->str, (gssize)br->len);
		}
		if (a->i >= a->n || a->p[a->i] == ')')
			break;
		a->i++;				/* '|' */
	}
	if (kept == 0)
		a->empty++;		/* nothing left could match */
	g_string_free(br, TRUE);
}

char *
rx_ascii_pattern(const char *pattern)
{
	struct asc a = { .p = pattern, .n = strlen(pattern) };
	GString *out = g_string_new(NULL);

	asc_alt(&a, out);
	if (a.bad || a.empty > 0 || a.i != a.n || a.removed == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

static void
asc_build(struct rx *rx)
{
	const char *plain = getenv("VIGIL_RULES_PLAIN");
	const char *src = rx->equiv != NULL ? rx->equiv : rx->src;
	pcre2_compile_context *cc;
	char *pat;
	int ec;
	PCRE2_SIZE eoff;

	if ((plain != NULL && strcmp(plain, "1") == 0) || getenv(
	    "VIGIL_RULES_NO_ASCII") != NULL || (rx->opts & PCRE2_EXTENDED) ||
	    (pat = rx_ascii_pattern(src)) == NULL)
		return;
	/* A small cut saves less a message than the copy costs to compile
	 * (SpamAssassin's obfuscation tags lose three quarters and more). */
	if (strlen(pat) * 4 > strlen(src) * 3) {
		g_free(pat);
		return;
	}
	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		log_oom(256, "rules pcre2 compile context");
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
	rx->asc = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    rx->opts, &ec, &eoff, cc);
	pcre2_compile_context_free(cc);
	if (rx->asc != NULL)
		rx->asc_jit = pcre2_jit_compile(rx->asc, PCRE2_JIT_COMPLETE) ==
		    0;
	g_free(pat);
}

/* No byte of s[0, len) is 0x80 or above. */
static bool
all_ascii(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t or = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		or |= w;
	}
	for (; i < len; i++)
		or |= (unsigned char)s[i];
	return (or & 0x8080808080808080ULL) == 0;
}

bool
rx_has_heads(const struct rx *rx)
{
#ifdef HAVE_HYPERSCAN
	return rx->heads != NULL;
#else
	(void)rx;
	return false;
#endif
}

#ifdef HAVE_HYPERSCAN
struct heads_scan {
	const struct rx	*rx;
	uint8_t		*mark;		/* [0, n): offsets from the scan */
};

static int
on_head(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	struct heads_scan *hs = arg;
	size_t at = (size_t)to - hs->rx->hlen[id];
	size_t lead = hs->rx->lead[id];

	(void)from;
	(void)flags;
	/* A match starts at most lead bytes before the head (and not
	 * before the scan). */
	memset(hs->mark + (at > lead ? at - lead : 0), 1, (at > lead ? lead :
	    at) + 1);
	return 0;
}

static int
match_one(const struct rx_tls *t, const pcre2_code *code, bool jit,
    const char *s, size_t len, size_t start)
{
	return jit ? pcre2_jit_match(code, (PCRE2_SPTR)s, len, start, 0,
	    t->md, t->mc) : pcre2_match(code, (PCRE2_SPTR)s, len, start, 0,
	    t->md, t->mc);
}

/*
 * The search from start, tried only where the heads allow; *done_r false
 * when it could not be made (the caller searches as usual).
 */
static int
heads_search(const struct rx *rx, struct rx_tls *t, const char *s,
    size_t len, size_t start, bool *done_r)
{
	size_t n = len - start;
	struct heads_scan hs = { .rx = rx };
	const uint8_t *p, *end;
	uint64_t gen = atomic_load(&hs_gen);

	*done_r = false;
	if (t->hs_gen != gen || t->hs == NULL) {
		pthread_mutex_lock(&hs_lock);
		hs_free_scratch(t->hs);
		t->hs = NULL;
		if (hs_clone_scratch(hs_proto, &t->hs) != HS_SUCCESS)
			t->hs = NULL;
		t->hs_gen = atomic_load(&hs_gen);
		pthread_mutex_unlock(&hs_lock);
		if (t->hs == NULL)
			return 0;
	}
	if (n + 1 > t->markcap) {
		free(t->mark);
		t->markcap = n + 1 > 4096 ? n + 1 : 4096;
		if ((t->mark = malloc(t->markcap)) == NULL)
			log_oom(t->markcap, "rules heads");
	}
	memset(t->mark, 0, n + 1);
	hs.mark = t->mark;
	if (n > UINT32_MAX || hs_scan(rx->heads, s + start, (unsigned)n, 0,
	    t->hs, on_head, &hs) != HS_SUCCESS)
		return 0;
	*done_r = true;
	for (p = t->mark, end = t->mark + n; p < end; p++) {
		int rc;

		if ((p = memchr(p, 1, (size_t)(end - p))) == NULL)
			break;
		rc = match_one(t, rx->anch, rx->anch_jit, s, len, start +
		    (size_t)(p - t->mark));
		if (rc != PCRE2_ERROR_NOMATCH)
			return rc;
	}
	return PCRE2_ERROR_NOMATCH;
}
#endif

enum rx_rc
rx_match(const struct rx *rx, const char *s, size_t len, size_t start,
    size_t *so_r, size_t *eo_r)
{
	struct rx_tls *t = tls_get();
	PCRE2_SIZE *ov;
	int rc;

	/* Each match is bounded by the limits below; a message whose budget
	 * is spent gets no more matches at all. */
	if (msg_budget_spent())
		return RX_LIMIT;
	pcre2_set_match_limit(t->mc, rx->match_limit);
	pcre2_set_depth_limit(t->mc, rx->depth_limit);
#ifdef HAVE_HYPERSCAN
	if (rx->heads != NULL && start <= len && len - start >=
	    HEADS_MIN_SUBJECT) {
		bool done;

		rc = heads_search(rx, t, s, len, start, &done);
		if (!done)
			rc = match_one(t, rx->code, rx->is_jit, s, len, start);
	} else
#endif
	if (rx->asc != NULL && all_ascii(s, len))
		rc = rx->asc_jit ? pcre2_jit_match(rx->asc, (PCRE2_SPTR)s, len,
		    start, 0, t->md, t->mc) : pcre2_match(rx->asc,
		    (PCRE2_SPTR)s, len, start, 0, t->md, t->mc);
	else if (rx->is_jit)
		rc = pcre2_jit_match(rx->code, (PCRE2_SPTR)s, len, start, 0,
		    t->md, t->mc);
	else
		rc = pcre2_match(rx->code, (PCRE2_SPTR)s, len, start, 0,
		    t->md, t->mc);
	if (rc >= 0) {
		ov = pcre2_get_ovector_pointer(t->md);
		*so_r = ov[0];
		*eo_r = ov[1];
		return RX_MATCH;
	}
	switch (rc) {
	case PCRE2_ERROR_NOMATCH:
		return RX_NOMATCH;
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return RX_LIMIT;
	default:
		return RX_ERROR;
	}
}

