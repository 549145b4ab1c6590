/*
 * rules_screen.c - a cheaper regex that must match wherever a rule's
 * pattern matches: the pattern without its leading items that can match
 * the empty string, such as (?:\b|\s)[_\W]{0,3}, \W?, \b or a lookahead.
 *
 * Those openings leave PCRE2 no good place to start: a match may begin
 * at almost any byte, and the rest of the pattern is tried there.  Many
 * of SpamAssassin's obfuscation rules open that way and have no literal
 * for the prefilter (rules_pf.c).  The rest of the pattern (the screen)
 * starts only where its first item can, and a subject it does not match
 * cannot hold a match of the whole pattern, which need not run.
 *
 * Why that is sound: a pattern that is a sequence of items A B (no | at
 * its top level) matches a subject only along a path through A and then
 * B, so every match of A B holds a match of B on the same subject,
 * starting where A's part ends.  The screen runs on the very subject the
 * pattern runs on (the same chunk, the same header value), so the
 * assertions B holds (\b, ^, $, lookarounds) see the same characters
 * around them as they do in the full match.  What would break it, and
 * makes the pattern keep no screen:
 *   - a top-level |, (?x) or /x (item boundaries are not plain text),
 *     an option setting such as (?i) at the top level (B would lose it);
 *   - back references, recursion, subroutine calls and conditionals
 *     (B would name groups of A, or renumber them), \K, \G, \Q...\E,
 *     callouts and backtracking verbs such as (*COMMIT) or (*SKIP),
 *     which can make a search give up before it reaches B's match.
 * A screen that reaches a match limit tells nothing: the pattern runs.
 * (A pattern its screen spares can no longer reach a limit there either:
 * rules.limit.NAME may count less than without screens, never a hit.)
 *
 * The screen is only a heuristic's choice (rules_set.c keeps it where
 * PCRE2 can start it in far fewer places); that choice never changes a
 * result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"

struct sp {
	const char	*p;		/* pattern */
	size_t		 n, i;
	bool		 bad;		/* no screen for this pattern */
	GArray		*starts;	/* top level: items that match text */
};

static size_t	group_end(struct sp *, size_t at, bool *nullable_r,
		    bool *optset_r);

/* A quantifier at s->i: its minimum in *min_r; false when there is none
 * (a '{' that does not make one is a literal in PCRE2 10.42). */
static bool
quantifier(struct sp *s, unsigned long *min_r)
{
	const char *p = s->p;
	size_t i = s->i, j;

	if (i >= s->n)
		return false;
	if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
		*min_r = p[i] == '+' ? 1 : 0;
		i++;
	} else if (p[i] == '{') {
		unsigned long min = 0;

		j = i + 1;
		if (j >= s->n || p[j] < '0' || p[j] > '9')
			return false;
		while (j < s->n && p[j] >= '0' && p[j] <= '9')
			min = min * 10 + (unsigned long)(p[j++] - '0');
		if (j < s->n && p[j] == ',') {
			j++;
			while (j < s->n && p[j] >= '0' && p[j] <= '9')
				j++;
		}
		if (j >= s->n || p[j] != '}')
			return false;
		*min_r = min;
		i = j + 1;
	} else
		return false;
	/* Lazy or possessive: the minimum stays. */
	if (i < s->n && (p[i] == '?' || p[i] == '+'))
		i++;
	s->i = i;
	return true;
}

/* Skips the escape at s->i (a backslash); *assert_r: it matches no
 * character (\b \B \A \Z \z). */
static void
escape(struct sp *s, bool *assert_r)
{
	const char *p = s->p;
	size_t i = s->i + 1;
	char c;

	*assert_r = false;
	if (i >= s->n) {
		s->bad = true;
		return;
	}
	c = p[i++];
	switch (c) {
	case 'b': case 'B': case 'A': case 'Z': case 'z':
		*assert_r = true;
		break;
	/* Back references, \K, \G, quoting: no screen. */
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9': case 'g': case 'k': case 'K': case 'G': case 'Q':
	case 'E':
		s->bad = true;
		return;
	case 'x': case 'o': case 'p': case 'P': case 'N':
		if (i < s->n && p[i] == '{') {
			while (i < s->n && p[i] != '}')
				i++;
			if (i >= s->n) {
				s->bad = true;
				return;
			}
			i++;
		} else if (c == 'x') {
			for (int k = 0; k < 2 && i < s->n &&
			    g_ascii_isxdigit(p[i]); k++)
				i++;
		} else if (c == 'p' || c == 'P')
			i++;
		break;
	case 'c':
		i++;
		break;
	case '0':
		for (int k = 0; k < 2 && i < s->n && p[i] >= '0' &&
		    p[i] <= '7'; k++)
			i++;
		break;
	default:
		break;
	}
	s->i = i > s->n ? s->n : i;
}

/* Skips the class at s->i ('['), as rx_translate reads one. */
static void
class_skip(struct sp *s)
{
	const char *p = s->p;
	size_t i = s->i + 1;

	if (i < s->n && p[i] == '^')
		i++;
	if (i < s->n && p[i] == ']')
		i++;
	while (i < s->n && p[i] != ']') {
		if (p[i] == '\\') {
			if (i + 1 < s->n && (p[i + 1] == 'Q' || p[i + 1] == 'E'))
				s->bad = true;
			i += 2;
			continue;
		}
		if (p[i] == '[' && i + 1 < s->n && (p[i + 1] == ':' ||
		    p[i + 1] == '.' || p[i + 1] == '=')) {
			const char *e = strstr(p + i + 2, ":]");

			if (e == NULL || (size_t)(e - p) >= s->n) {
				s->bad = true;
				return;
			}
			i = (size_t)(e - p) + 2;
			continue;
		}
		i++;
	}
	if (i >= s->n) {
		s->bad = true;
		return;
	}
	s->i = i + 1;
}

/*
 * Reads the items of a sequence from s->i up to a '|' or ')' (depth 0
 * of this call) or the end.  Returns whether every item can match the
 * empty string; *first_r (if not NULL) gets the offset of the first item
 * that cannot (s->n when none).
 */
static bool
sequence(struct sp *s, bool top, size_t *first_r)
{
	bool all = true;

	if (first_r != NULL)
		*first_r = s->n;
	while (s->i < s->n && !s->bad) {
		const char *p = s->p;
		size_t start = s->i;
		bool nullable = false;
		unsigned long min;

		if (p[start] == '|' || p[start] == ')')
			break;
		switch (p[start]) {
		case '\\':
			escape(s, &nullable);
			break;
		case '[':
			class_skip(s);
			break;
		case '^': case '$':
			s->i++;
			nullable = true;
			break;
		case '(': {
			bool optset = false;

			s->i = group_end(s, start, &nullable, &optset);
			/* (?i) at the top level sets options for the items
			 * after it, which a screen might start after. */
			if (optset && top)
				s->bad = true;
			break;
		}
		case '*': case '+': case '?': case '{':
			if (p[start] != '{') {
				s->bad = true;	/* a quantifier of nothing */
				break;
			}
			s->i++;
			break;
		default:
			s->i++;
			break;
		}
		if (s->bad)
			break;
		if (quantifier(s, &min) && min == 0)
			nullable = true;
		if (!nullable) {
			if (all && first_r != NULL)
				*first_r = start;
			if (top && s->starts != NULL)
				g_array_append_val(s->starts, start);
			all = false;
		}
	}
	return all;
}

/*
 * Skips the group opening at at; returns the offset after its ')'.
 * *nullable_r: it can match the empty string; *optset_r: it is an
 * option setting such as (?i).  Sets s->bad for the groups a screen
 * cannot be made around.
 */
static size_t
group_end(struct sp *s, size_t at, bool *nullable_r, bool *optset_r)
{
	const char *p = s->p;
	size_t i = at + 1;
	bool assertion = false, nullable = false;

	*nullable_r = false;
	*optset_r = false;
	if (i < s->n && p[i] == '*') {
		s->bad = true;			/* (*VERB) */
		return 0;
	}
	if (i < s->n && p[i] == '?') {
		char c = i + 1 < s->n ? p[i + 1] : '\0';

		if (c == '#') {			/* comment */
			const char *e = memchr(p + i, ')', s->n - i);

			if (e == NULL) {
				s->bad = true;
				return 0;
			}
			*nullable_r = true;
			return (size_t)(e - p) + 1;
		}
		if (c == ':' || c == '>' || c == '|')
			i += 2;
		else if (c == '=' || c == '!') {
			assertion = true;
			i += 2;
		} else if (c == '<' && i + 2 < s->n && (p[i + 2] == '=' ||
		    p[i + 2] == '!')) {
			assertion = true;
			i += 3;
		} else if (c == '<' || c == '\'' || (c == 'P' && i + 2 < s->n &&
		    p[i + 2] == '<')) {
			/* A named group: (?<name> (?'name' (?P<name> */
			char close = c == '\'' ? '\'' : '>';
			const char *e = memchr(p + i, close, s->n - i);

			if (e == NULL) {
				s->bad = true;
				return 0;
			}
			i = (size_t)(e - p) + 1;
		} else {
			/* Flags: (?i:...) is a group; (?i) sets options for
			 * the rest; anything else (recursion, conditionals,
			 * callouts, (?P=name)) gets no screen. */
			size_t j = i + 1;

			while (j < s->n && (g_ascii_isalpha(p[j]) ||
			    p[j] == '-' || p[j] == '^')) {
				if (p[j] == 'x' || p[j] == 'P' || p[j] == 'R' ||
				    p[j] == 'C')
					s->bad = true;
				j++;
			}
			if (j == i + 1 || j >= s->n || (p[j] != ':' &&
			    p[j] != ')') || s->bad) {
				s->bad = true;
				return 0;
			}
			if (p[j] == ')') {
				/* An option setting: fine inside a group, but
				 * not at the top level (the caller checks). */
				*nullable_r = *optset_r = true;
				return j + 1;
			}
			i = j + 1;
		}
	}
	/* The alternatives. */
	s->i = i;
	for (;;) {
		if (sequence(s, false, NULL))
			nullable = true;
		if (s->bad)
			return 0;
		if (s->i >= s->n) {
			s->bad = true;		/* unbalanced */
			return 0;
		}
		if (p[s->i] == ')')
			break;
		s->i++;				/* '|' */
	}
	*nullable_r = nullable || assertion;
	return s->i + 1;
}

/*
 * The quantifier at i: min, max (-1: none) and the lazy or possessive
 * mark ('\0' for none); the offset after it, 0 when there is none.
 */
static size_t
quant_read(const char *p, size_t n, size_t i, long *min_r, long *max_r,
    char *mark_r)
{
	*mark_r = '\0';
	if (i >= n)
		return 0;
	if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
		*min_r = p[i] == '+' ? 1 : 0;
		*max_r = p[i] == '?' ? 1 : -1;
		i++;
	} else if (p[i] == '{') {
		char *end;

		if (i + 1 >= n || !g_ascii_isdigit(p[i + 1]))
			return 0;
		*min_r = strtol(p + i + 1, &end, 10);
		*max_r = *min_r;
		if (*end == ',') {
			*max_r = g_ascii_isdigit(end[1]) ? strtol(end + 1,
			    &end, 10) : -1;
			if (*max_r < 0 && *end == ',')
				end++;
		}
		if (*end != '}' || (size_t)(end - p) >= n)
			return 0;
		i = (size_t)(end - p) + 1;
	} else
		return 0;
	if (i < n && (p[i] == '?' || p[i] == '+'))
		*mark_r = p[i++];
	return i;
}

/*
 * A pattern whose first item that cannot match empty is a repeated group
 * such as (?:A B){3} T, with A able to match empty: every match runs
 * through the group at least once, so B (?:A B){2} T matches too, on the
 * same subject, where the first B starts.  Returns that screen, or NULL.
 */
static char *
group_screen(const char *pattern, size_t first)
{
	size_t n = strlen(pattern), open, end, qend, inner;
	struct sp g;
	bool nullable, optset;
	long min, max;
	char mark;
	GString *out;

	if (pattern[first] != '(')
		return NULL;
	if (strncmp(pattern + first, "(?:", 3) == 0)
		open = first + 3;
	else if (pattern[first + 1] != '?' && pattern[first + 1] != '*')
		open = first + 1;	/* capturing: no back reference uses it */
	else
		return NULL;		/* flags, atomic, named, ...: as it is */
	g = (struct sp){ .p = pattern, .n = n };
	end = group_end(&g, first, &nullable, &optset);
	if (g.bad || optset)
		return NULL;
	qend = quant_read(pattern, n, end, &min, &max, &mark);
	/* A possessive repeat takes what it can and gives nothing back: the
	 * screen's count could differ from the pattern's. */
	if (qend == 0 || min < 1 || mark == '+')
		return NULL;
	/* The group's items up to the ')', no | among them. */
	g = (struct sp){ .p = pattern, .n = end - 1, .i = open };
	if (sequence(&g, false, &inner) || g.bad || g.i != end - 1 ||
	    inner == open || inner >= end - 1)
		return NULL;
	out = g_string_new_len(pattern + inner, (gssize)(end - 1 - inner));
	if (max != 1) {
		g_string_append(out, "(?:");
		g_string_append_len(out, pattern + open, (gssize)(end - 1 -
		    open));
		if (max < 0)
			g_string_append_printf(out, "){%ld,}", min - 1);
		else if (min == max)
			g_string_append_printf(out, "){%ld}", min - 1);
		else
			g_string_append_printf(out, "){%ld,%ld}", min - 1,
			    max - 1);
		if (mark == '?')
			g_string_append_c(out, '?');
	}
	g_string_append(out, pattern + qend);
	return g_string_free(out, FALSE);
}

char **
rx_screens(const char *pattern, const char *flags, size_t max)
{
	struct sp s = { .p = pattern, .n = strlen(pattern) };
	GPtrArray *out;
	size_t first;
	char *g;

	if (flags != NULL && strchr(flags, 'x') != NULL)
		return NULL;
	s.starts = g_array_new(FALSE, FALSE, sizeof(size_t));
	/* The whole pattern is read, not only its opening: an unsafe
	 * construct anywhere (a back reference into a left-out group, a
	 * verb) means no screen. */
	if (sequence(&s, true, &first) || s.bad || s.i != s.n ||
	    first >= s.n) {
		g_array_free(s.starts, TRUE);
		return NULL;
	}
	out = g_ptr_array_new();
	if ((g = group_screen(pattern, first)) != NULL)
		g_ptr_array_add(out, g);
	else if (first > 0)
		g_ptr_array_add(out, g_strdup(pattern + first));
	/* The rest from each later item that must match text: any part of
	 * a sequence is in every match of it (see above). */
	for (guint i = 1; i < s.starts->len && out->len < max; i++)
		g_ptr_array_add(out, g_strdup(pattern +
		    g_array_index(s.starts, size_t, i)));
	g_array_free(s.starts, TRUE);
	if (out->len == 0) {
		g_ptr_array_free(out, TRUE);
		return NULL;
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
