/*
 * rules_meta.c - meta rule expressions: rule names (their hit counts),
 * numbers, ( ), ! and unary -, * /, + -, < > <= >=, == !=, && ||, with
 * Perl's precedence and values.  Compiled once to postfix; evaluated per
 * message on an array of rule values indexed like the rule set.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "checks/rules/rules.h"

enum tok {
	T_NUM, T_NAME, T_NOT, T_NEG, T_MUL, T_DIV, T_ADD, T_SUB,
	T_LT, T_GT, T_LE, T_GE, T_EQ, T_NE, T_AND, T_OR, T_LPAREN, T_RPAREN,
};

struct op {
	enum tok	 tok;
	int		 dep;	/* T_NAME: index into deps */
	int		 idx;	/* T_NAME: the rule's index (meta_bind), -1 */
	double		 num;
};

struct meta {
	struct op	*code;		/* postfix */
	size_t		 ncode;
	const char	**deps;		/* names, owned */
	size_t		 ndeps;
	int		*idx;		/* rule index per dep, -1 unknown */
	size_t		 max_stack;
};

static int
prec(enum tok t)
{
	switch (t) {
	case T_NOT: case T_NEG:	return 7;
	case T_MUL: case T_DIV:	return 6;
	case T_ADD: case T_SUB:	return 5;
	case T_LT: case T_GT: case T_LE: case T_GE: return 4;
	case T_EQ: case T_NE:	return 3;
	case T_AND:		return 2;
	case T_OR:		return 1;
	default:		return 0;
	}
}

static bool
is_unary(enum tok t)
{
	return t == T_NOT || t == T_NEG;
}

static int
dep_add(struct meta *m, const char *s, size_t n)
{
	for (size_t i = 0; i < m->ndeps; i++)
		if (strlen(m->deps[i]) == n && memcmp(m->deps[i], s, n) == 0)
			return (int)i;
	m->deps = realloc(m->deps, (m->ndeps + 1) * sizeof(*m->deps));
	if (m->deps == NULL)
		log_oom((m->ndeps + 1) * sizeof(*m->deps), "rules meta");
	if ((m->deps[m->ndeps] = strndup(s, n)) == NULL)
		log_oom(n + 1, "rules meta");
	return (int)m->ndeps++;
}

static void
emit(struct meta *m, struct op op)
{
	m->code = realloc(m->code, (m->ncode + 1) * sizeof(*m->code));
	if (m->code == NULL)
		log_oom((m->ncode + 1) * sizeof(*m->code), "rules meta");
	m->code[m->ncode++] = op;
}

struct meta *
meta_compile(const char *expr, const struct rules_set *set, char *err,
    size_t errlen, int *col_r)
{
	struct meta *m;
	enum tok *ops;		/* operator stack */
	size_t nops = 0, len = strlen(expr);
	bool want_operand = true;
	long depth = 0, maxdepth = 0;
	const char *p = expr;

	(void)set;
	*col_r = 0;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (ops = calloc(len + 1, sizeof(*ops))) == NULL)
		log_oom(len, "rules meta");
	while (*p != '\0') {
		enum tok t;
		const char *start = p;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		*col_r = (int)(p - expr);
		if (want_operand) {
			if (isalpha((unsigned char)*p) || *p == '_') {
				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				emit(m, (struct op){ .tok = T_NAME,
				    .dep = dep_add(m, start, (size_t)(p - start)),
				    .idx = -1 });
				want_operand = false;
				if (++depth > maxdepth)
					maxdepth = depth;
				continue;
			}
			if (isdigit((unsigned char)*p) || *p == '.') {
				char *end;
				double v = strtod(p, &end);

				p = end;
				emit(m, (struct op){ .tok = T_NUM, .num = v });
				want_operand = false;
				if (++depth > maxdepth)
					maxdepth = depth;
				continue;
			}
			if (*p == '(') {
				ops[nops++] = T_LPAREN;
				p++;
				continue;
			}
			if (*p == '!' && p[1] != '=') {
				ops[nops++] = T_NOT;
				p++;
				continue;
			}
			if (*p == '-' || *p == '+') {
				if (*p == '-')
					ops[nops++] = T_NEG;
				p++;
				continue;
			}
			snprintf(err, errlen, "expected a rule name, number or "
			    "( at '%.20s'", p);
			goto fail;
		}
		/* An operator or a closing parenthesis. */
		if (*p == ')') {
			while (nops > 0 && ops[nops - 1] != T_LPAREN) {
				enum tok o = ops[--nops];

				emit(m, (struct op){ .tok = o });
				if (!is_unary(o))
					depth--;
			}
			if (nops == 0) {
				snprintf(err, errlen, "unbalanced )");
				goto fail;
			}
			nops--;
			p++;
			continue;
		}
		if (strncmp(p, "&&", 2) == 0) { t = T_AND; p += 2; }
		else if (strncmp(p, "||", 2) == 0) { t = T_OR; p += 2; }
		else if (strncmp(p, ">=", 2) == 0) { t = T_GE; p += 2; }
		else if (strncmp(p, "<=", 2) == 0) { t = T_LE; p += 2; }
		else if (strncmp(p, "==", 2) == 0) { t = T_EQ; p += 2; }
		else if (strncmp(p, "!=", 2) == 0) { t = T_NE; p += 2; }
		else if (*p == '>') { t = T_GT; p++; }
		else if (*p == '<') { t = T_LT; p++; }
		else if (*p == '+') { t = T_ADD; p++; }
		else if (*p == '-') { t = T_SUB; p++; }
		else if (*p == '*') { t = T_MUL; p++; }
		else if (*p == '/') { t = T_DIV; p++; }
		else {
			snprintf(err, errlen, "unknown operator at '%.20s'", p);
			goto fail;
		}
		/* Left-associative: pop operators of higher or equal rank. */
		while (nops > 0 && ops[nops - 1] != T_LPAREN &&
		    prec(ops[nops - 1]) >= prec(t)) {
			enum tok o = ops[--nops];

			emit(m, (struct op){ .tok = o });
			if (!is_unary(o))
				depth--;
		}
		ops[nops++] = t;
		want_operand = true;
	}
	*col_r = (int)(p - expr);
	if (want_operand) {
		snprintf(err, errlen, "expression ends where an operand is "
		    "expected");
		goto fail;
	}
	while (nops > 0) {
		enum tok o = ops[--nops];

		if (o == T_LPAREN) {
			snprintf(err, errlen, "unbalanced (");
			goto fail;
		}
		emit(m, (struct op){ .tok = o });
	}
	free(ops);
	m->max_stack = (size_t)maxdepth + 1;
	if ((m->idx = calloc(m->ndeps + 1, sizeof(*m->idx))) == NULL)
		log_oom(m->ndeps, "rules meta");
	for (size_t i = 0; i < m->ndeps; i++)
		m->idx[i] = -1;
	return m;
fail:
	free(ops);
	meta_free(m);
	return NULL;
}

void
meta_free(struct meta *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->ndeps; i++)
		free((char *)m->deps[i]);
	free(m->deps);
	free(m->idx);
	free(m->code);
	free(m);
}

size_t
meta_deps(const struct meta *m, const char *const **names_r)
{
	*names_r = (const char *const *)m->deps;
	return m->ndeps;
}

void
meta_bind(struct meta *m, const int *idx)
{
	if (m->ndeps > 0)
		memcpy(m->idx, idx, m->ndeps * sizeof(*idx));
	/* Each name's rule index in its op: one load less an operand. */
	for (size_t i = 0; i < m->ncode; i++)
		if (m->code[i].tok == T_NAME)
			m->code[i].idx = m->idx[m->code[i].dep];
}

const int *
meta_dep_idx(const struct meta *m, size_t *n_r)
{
	*n_r = m->ndeps;
	return m->idx;
}

double
meta_eval(const struct meta *m, const double *values)
{
	double stack[64], *st = stack, *heap = NULL;
	size_t sp = 0;

	/* The commonest metas: one name, or a name and its negation. */
	if (m->ncode == 1 && m->code[0].tok == T_NAME)
		return m->code[0].idx < 0 ? 0 : values[m->code[0].idx];
	if (m->max_stack > (sizeof(stack) / sizeof(stack[0]))) {
		if ((heap = malloc(m->max_stack * sizeof(*heap))) == NULL)
			log_oom(m->max_stack * sizeof(*heap), "rules meta");
		st = heap;
	}
	for (size_t i = 0; i < m->ncode; i++) {
		const struct op *o = &m->code[i];
		double a, b;

		switch (o->tok) {
		case T_NUM:
			st[sp++] = o->num;
			continue;
		case T_NAME:
			st[sp++] = o->idx < 0 ? 0 : values[o->idx];
			continue;
		case T_NOT:
			st[sp - 1] = st[sp - 1] == 0;
			continue;
		case T_NEG:
			st[sp - 1] = -st[sp - 1];
			continue;
		default:
			break;
		}
		b = st[--sp];
		a = st[sp - 1];
		switch (o->tok) {
		case T_MUL: a = a * b; break;
		/* Perl dies on division by zero; the rule does not hit. */
		case T_DIV: a = b == 0 ? 0 : a / b; break;
		case T_ADD: a = a + b; break;
		case T_SUB: a = a - b; break;
		case T_LT: a = a < b; break;
		case T_GT: a = a > b; break;
		case T_LE: a = a <= b; break;
		case T_GE: a = a >= b; break;
		case T_EQ: a = a == b; break;
		case T_NE: a = a != b; break;
		/* Perl: && and || yield the deciding operand. */
		case T_AND: a = a != 0 ? b : a; break;
		case T_OR: a = a != 0 ? a : b; break;
		default: BUG("rules meta: bad op %d", o->tok);
		}
		st[sp - 1] = a;
	}
	{
		double v = sp > 0 ? st[sp - 1] : 0;

		free(heap);
		return isnan(v) ? 0 : v;
	}
}
