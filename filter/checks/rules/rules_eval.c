/*
 * rules_eval.c - runs a compiled rule set on one message: header values
 * as SpamAssassin's PerMsgStatus::get() builds them (pseudo-headers,
 * :raw/:addr/:name, [if-unset:]), body paragraphs, rawbody chunks, URIs
 * and the full message; then the metas.  Per-rule time, hits and limit
 * stops go to the rule's atomic counters.
 */
#include "config.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

#define MATCH_SHOW	60	/* bytes of matched text kept for reports */
/* Per-rule time is measured on one message in TIME_EVERY and counted
 * TIME_EVERY times: a clock read costs about as much as a short rule
 * (over 100 ns in a virtual machine).  The count is the process's, not a
 * thread's: a daemon's connection thread that scans its one message
 * itself would otherwise start at 0 and time every message it sees. */
#define TIME_EVERY	8
static atomic_uint time_tick;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
counter_add(uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit((_Atomic uint64_t *)c, n,
	    memory_order_relaxed);
}

/* --- addresses, for :addr and :name */

/* The "<" that opens an address's angle brackets: the first outside a
 * quoted string and a comment ("a <b@c>" <d@e> is d@e's), or NULL. */
static char *
angle_open(char *one)
{
	int paren = 0;
	bool quote = false;

	for (char *p = one; *p != '\0'; p++) {
		if (*p == '\\' && (quote || paren > 0) && p[1] != '\0')
			p++;
		else if (*p == '"' && paren == 0)
			quote = !quote;
		else if (!quote && *p == '(')
			paren++;
		else if (!quote && *p == ')' && paren > 0)
			paren--;
		else if (!quote && paren == 0 && *p == '<')
			return p;
	}
	return NULL;
}

/* Splits one header value into its addresses: commas outside quotes,
 * comments and angle brackets separate them. */
static void
addr_split(GString *out_addr, GString *out_name, const char *v, bool want_name)
{
	const char *p = v, *start = v;
	int paren = 0, angle = 0;
	bool quote = false;

	for (;; p++) {
		if (*p == '\\' && quote && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"' && paren == 0)
			quote = !quote;
		else if (!quote && *p == '(')
			paren++;
		else if (!quote && *p == ')' && paren > 0)
			paren--;
		else if (!quote && paren == 0 && *p == '<')
			angle++;
		else if (!quote && paren == 0 && *p == '>' && angle > 0)
			angle--;
		if (*p != '\0' && (*p != ',' || quote || paren || angle))
			continue;
		/* One address in [start, p). */
		{
			char *one = g_strndup(start, (size_t)(p - start));
			char *lt = angle_open(one), *gt;
			char *addr = NULL, *name = NULL;

			/* "group: a, b;" keeps only the addresses. */
			if (lt == NULL || (gt = strchr(lt, '>')) == NULL) {
				GString *s = g_string_new(NULL);

				/* addr-spec, comments removed. */
				for (const char *q = one; *q; q++) {
					if (*q == '(') {
						int d = 1;

						while (*++q && d > 0)
							d += *q == '(' ? 1 :
							    *q == ')' ? -1 : 0;
						q--;
						continue;
					}
					if (!isspace((unsigned char)*q))
						g_string_append_c(s, *q);
				}
				if (strchr(s->str, ':') != NULL &&
				    strchr(s->str, '@') != NULL)
					g_string_erase(s, 0,
					    strchr(s->str, ':') - s->str + 1);
				if (s->len && s->str[s->len - 1] == ';')
					g_string_truncate(s, s->len - 1);
				addr = g_string_free(s, FALSE);
				/* "addr (Full Name)": the comment is the name. */
				{
					char *o = strchr(one, '('),
					    *c = o ? strrchr(o, ')') : NULL;

					if (c != NULL)
						name = g_strstrip(g_strndup(
						    o + 1, (size_t)(c - o - 1)));
				}
			} else {
				addr = g_strndup(lt + 1, (size_t)(gt - lt - 1));
				g_strstrip(addr);
				*lt = '\0';
				name = g_strstrip(g_strdup(one));
				if (strchr(name, ':') != NULL)
					memmove(name, strchr(name, ':') + 1,
					    strlen(strchr(name, ':')));
				g_strstrip(name);
				if (name[0] == '"' && strlen(name) > 1 &&
				    name[strlen(name) - 1] == '"') {
					name[strlen(name) - 1] = '\0';
					memmove(name, name + 1, strlen(name));
				}
			}
			if (addr != NULL && addr[0] != '\0') {
				if (out_addr->len)
					g_string_append_c(out_addr, '\n');
				g_string_append(out_addr, addr);
			}
			if (name != NULL) {
				/* Whitespace runs to one space; 'quoted' names
				 * lose their quotes (PerMsgStatus). */
				char **w = g_strsplit_set(name, " \t", -1);
				GString *j = g_string_new(NULL);

				for (char **q = w; *q; q++)
					if (**q != '\0')
						g_string_append_printf(j, "%s%s",
						    j->len ? " " : "", *q);
				g_strfreev(w);
				g_free(name);
				name = g_string_free(j, FALSE);
				if (strlen(name) > 1 && name[0] == '\'' &&
				    name[strlen(name) - 1] == '\'') {
					name[strlen(name) - 1] = '\0';
					memmove(name, name + 1, strlen(name));
				}
			}
			if (want_name && name != NULL && name[0] != '\0') {
				if (out_name->len)
					g_string_append_c(out_name, '\n');
				g_string_append(out_name, name);
			}
			g_free(addr);
			g_free(name);
			g_free(one);
		}
		if (*p == '\0')
			break;
		start = p + 1;
	}
}

/* --- header values */

/*
 * The values a header rule sees, in order.  With modifiers (:addr, :name,
 * :first, :last) they are kept one by one for the modifiers to work on;
 * without, they go straight into the joined value: those ending in "\n"
 * are joined as they are, others with "\n" between them (Check.pm, bug
 * 8121), as the first one decides.
 */
struct hvals {
	GPtrArray	*v;		/* modifiers: each value, g_malloc'd */
	GString		*s;		/* otherwise: the joined value */
	size_t		 n;
	bool		 nl;		/* the first value ends in "\n" */
};

/* Appends the value a b c d (from b on, NULL ends it). */
static void
hvals_add(struct hvals *h, const char *a, const char *b, const char *c,
    const char *d)
{
	if (h->v != NULL) {
		g_ptr_array_add(h->v, g_strconcat(a, b, c, d, NULL));
		return;
	}
	if (h->n > 0 && !h->nl)
		g_string_append_c(h->s, '\n');
	g_string_append(h->s, a);
	if (b != NULL) {
		g_string_append(h->s, b);
		if (c != NULL) {
			g_string_append(h->s, c);
			if (d != NULL)
				g_string_append(h->s, d);
		}
	}
	if (h->n++ == 0)
		h->nl = h->s->len > 0 && h->s->str[h->s->len - 1] == '\n';
}

static bool
name_is(const char *a, const char *b)
{
	/* The first letter first: most names differ there. */
	return g_ascii_tolower(*a) == g_ascii_tolower(*b) &&
	    strcasecmp(a, b) == 0;
}

/*
 * The index of a message's headers by name: an open-addressed table of
 * the first header of each name, and for each header the next one of
 * its name, so that a lookup reads only the headers it returns (a
 * message has a few dozen headers; its header rules look up hundreds
 * of names, most of them absent).
 */
struct rules_hidx {
	uint32_t	 mask;		/* slots - 1 */
	uint32_t	*slot;		/* 1 + first header of a name, 0: empty */
	uint32_t	*next;		/* 1 + next header of that name, 0: none */
};

/* FNV-1a of the name in ASCII lower case. */
static uint32_t
hidx_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)g_ascii_tolower(*s)) * 16777619u;
	return h;
}

const struct rules_hidx *
rules_hidx_build(struct arena *a, const struct rules_hdr *hdrs, size_t n)
{
	struct rules_hidx *x;
	uint32_t *last;
	size_t size = 16;

	if (n >= UINT32_MAX / 4)
		return NULL;
	while (size < 2 * n)
		size *= 2;
	x = arena_alloc(a, sizeof(*x));
	x->mask = (uint32_t)size - 1;
	x->slot = arena_alloc(a, size * sizeof(*x->slot));
	x->next = arena_alloc(a, (n + 1) * sizeof(*x->next));
	/* The last header of each slot's name, to append in order. */
	last = arena_alloc(a, size * sizeof(*last));
	for (size_t i = 0; i < n; i++) {
		uint32_t k = hidx_hash(hdrs[i].name) & x->mask;

		while (x->slot[k] != 0 &&
		    !name_is(hdrs[x->slot[k] - 1].name, hdrs[i].name))
			k = (k + 1) & x->mask;
		if (x->slot[k] == 0)
			x->slot[k] = (uint32_t)i + 1;
		else
			x->next[last[k] - 1] = (uint32_t)i + 1;
		last[k] = (uint32_t)i + 1;
	}
	return x;
}

/* 1 + the first header named name, 0 when there is none. */
static uint32_t
hidx_first(const struct rules_input *in, const char *name)
{
	const struct rules_hidx *x = in->hidx;
	uint32_t k = hidx_hash(name) & x->mask;

	for (; x->slot[k] != 0; k = (k + 1) & x->mask)
		if (name_is(in->hdrs[x->slot[k] - 1].name, name))
			return x->slot[k];
	return 0;
}

/* Adds every value of header name (raw or decoded, each ending in
 * "\n"); returns how many there were. */
static size_t
hdr_collect(const struct rules_input *in, const char *name, bool raw,
    struct hvals *out)
{
	size_t n = 0;

	if (in->hidx != NULL) {
		for (uint32_t i = hidx_first(in, name); i != 0;
		    i = in->hidx->next[i - 1]) {
			if (raw)
				hvals_add(out, in->hdrs[i - 1].raw, NULL, NULL,
				    NULL);
			else
				hvals_add(out, in->hdrs[i - 1].value, "\n",
				    NULL, NULL);
			n++;
		}
		return n;
	}
	for (size_t i = 0; i < in->nhdrs; i++) {
		if (!name_is(in->hdrs[i].name, name))
			continue;
		if (raw)
			hvals_add(out, in->hdrs[i].raw, NULL, NULL, NULL);
		else
			hvals_add(out, in->hdrs[i].value, "\n", NULL, NULL);
		n++;
	}
	return n;
}

/*
 * The value a header rule matches, as PerMsgStatus::get() returns it:
 * NULL when the header does not exist (undef).  g_malloc'd.
 */
static char *
hdr_value(const struct rules_input *in, const struct rule *r)
{
	bool raw = (r->hmod & HMOD_RAW) != 0;
	/* :addr parses the raw value; :name the decoded one unless :raw
	 * (PerMsgStatus decodes the phrase after parsing). */
	bool needraw = raw || (r->hmod & HMOD_ADDR);
	bool mods = (r->hmod & (HMOD_FIRST | HMOD_LAST | HMOD_ADDR |
	    HMOD_NAME)) != 0;
	struct hvals hv = { 0 };
	GPtrArray *v;
	const char *h = r->hdr;
	char *res = NULL;

	if (mods)
		hv.v = g_ptr_array_new_with_free_func(g_free);
	else
		hv.s = g_string_new(NULL);
	if (strcmp(h, "ALL") == 0) {
		for (size_t i = 0; i < in->nhdrs; i++)
			if (raw)
				hvals_add(&hv, in->hdrs[i].name, ":",
				    in->hdrs[i].raw, NULL);
			else
				hvals_add(&hv, in->hdrs[i].name, ": ",
				    in->hdrs[i].value, "\n");
	} else if (name_is(h, "EnvelopeFrom")) {
		if (in->envelope_from != NULL)
			hvals_add(&hv, in->envelope_from, NULL, NULL, NULL);
		else {
			char *env = relays_envelope_from(in);

			if (env != NULL)
				hvals_add(&hv, env, NULL, NULL, NULL);
			g_free(env);
		}
	} else if (name_is(h, "ToCc")) {
		hdr_collect(in, "To", raw, &hv);
		hdr_collect(in, "Cc", raw, &hv);
	} else if (strcmp(h, "MESSAGEID") == 0) {
		hdr_collect(in, "X-Message-Id", raw, &hv);
		hdr_collect(in, "Resent-Message-Id", raw, &hv);
		hdr_collect(in, "X-Original-Message-ID", raw, &hv);
		hdr_collect(in, "Message-Id", raw, &hv);
	} else
		hdr_collect(in, h, needraw, &hv);

	if (!mods) {
		if (hv.n == 0) {
			g_string_free(hv.s, TRUE);
			return NULL;
		}
		return g_string_free(hv.s, FALSE);
	}
	v = hv.v;
	if (v->len > 0 && (r->hmod & (HMOD_FIRST | HMOD_LAST))) {
		char *keep = g_strdup(v->pdata[(r->hmod & HMOD_FIRST) ? 0 :
		    v->len - 1]);

		g_ptr_array_set_size(v, 0);
		g_ptr_array_add(v, keep);
	}
	if (v->len > 0 && (r->hmod & (HMOD_ADDR | HMOD_NAME))) {
		GString *addrs = g_string_new(NULL), *names = g_string_new(NULL);

		for (guint i = 0; i < v->len; i++) {
			char *one = g_strdup(v->pdata[i]);

			/* Unfold before splitting. */
			for (char *q = one; *q; q++)
				if (*q == '\n' || *q == '\r' || *q == '\t')
					*q = ' ';
			addr_split(addrs, names, one, (r->hmod & HMOD_NAME));
			g_free(one);
		}
		g_ptr_array_set_size(v, 0);
		if ((r->hmod & HMOD_NAME) && names->len)
			g_ptr_array_add(v, g_strdup(names->str));
		else if (!(r->hmod & HMOD_NAME) && addrs->len)
			g_ptr_array_add(v, g_strdup(addrs->str));
		g_string_free(addrs, TRUE);
		g_string_free(names, TRUE);
	}
	if (v->len > 0) {
		/* Values ending in "\n" are joined as they are, others
		 * with "\n" between them (Check.pm, bug 8121). */
		const char *first = v->pdata[0];
		bool nl = first[0] != '\0' && first[strlen(first) - 1] == '\n';
		GString *s = g_string_new(NULL);

		for (guint i = 0; i < v->len; i++) {
			if (i > 0 && !nl)
				g_string_append_c(s, '\n');
			g_string_append(s, v->pdata[i]);
		}
		res = g_string_free(s, FALSE);
	}
	g_ptr_array_free(v, TRUE);
	return res;
}

/* --- matching */

struct ev {
	const struct rules_set	*set;
	const struct rules_input *in;
	struct arena		*a;
	char			**hval;		/* each header slot's value */
	unsigned char		*hstate;	/* 0: not made, 1: made, 2: owned */
	bool			 limited;	/* this rule hit a limit */
	/* first match, for the report */
	const char		*m_where;
	int			 cur_part;	/* chunk being matched */
	int			 m_part;	/* rawbody: part index */
	const char		*m_text;
	size_t			 m_len;
	/* the literal prefilter's scan of each type, made on first use */
	struct pf_scan		*scan[RULE_NTYPES];
	bool			 scanned[RULE_NTYPES];
	/* the regex prefilter's (rules_hs.c), made on first use */
	struct hs_scan		*rscan[RULE_NTYPES];
	bool			 rscanned[RULE_NTYPES];
	uint32_t		*cand;		/* chunk numbers */
	size_t			 ncand_max;
	struct rules_chunk	*uri_chunks;	/* the URIs as chunks */
	/* The rules whose literals the scans saw (pf_mark), for each
	 * type once it is scanned; all may when a scan failed. */
	uint8_t			*may;
	bool			 marked[RULE_NTYPES];
	bool			 all_may[RULE_NTYPES];
	char			*relays[2];	/* untrusted, trusted lists */
	GHashTable		*lcache;	/* value -> its lower case */
};

/*
 * Does s hold none of r's required literals (rules_lit.c)?  Then r
 * cannot match s and its regex need not run.  The lower-case copy of s
 * is made once a message.
 */
static bool
lits_absent(struct ev *ev, const struct rule *r, const char *s, size_t len)
{
	char *lc;
	size_t n = 0;

	if (r->lits == NULL)
		return false;
	/* Many literals on a long value cost more than the regex. */
	while (r->lits[n] != NULL)
		n++;
	if (n * len > 16384)
		return false;
	if ((lc = g_hash_table_lookup(ev->lcache, s)) == NULL) {
		lc = arena_alloc(ev->a, len + 1);
		for (size_t i = 0; i < len; i++)	/* ASCII, as PCRE2 */
			lc[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] +
			    'a' - 'A') : s[i];
		lc[len] = '\0';
		g_hash_table_insert(ev->lcache, (gpointer)s, lc);
	}
	for (char **l = r->lits; *l != NULL; l++)
		if (memmem(lc, len, *l, strlen(*l)) != NULL)
			return false;
	return true;
}

static void
note_limit(const struct rule *r)
{
	struct rule *w = (struct rule *)r;

	counter_add(&w->n_limit, 1);
	if (atomic_exchange_explicit((_Atomic int *)&w->limit_logged, 1,
	    memory_order_relaxed) == 0)
		log_sys(LOG_WARNING, "rules: %s (%s:%d) reached the regex match "
		    "limit and counts as not hit; logged once, counted in "
		    "rules.limit.%s", r->name, r->file, r->line, r->name);
}

/*
 * Counts the matches of r in s (at most max, 0 = one match is enough).
 * Returns the count; on a limit, sets ev->limited and returns 0.
 */
static unsigned
match_count(struct ev *ev, const struct rule *r, const char *s, size_t len,
    unsigned max, const char *where)
{
	unsigned n = 0;
	size_t start = 0, so, eo;

	for (;;) {
		enum rx_rc rc = rx_match(r->rx, s, len, start, &so, &eo);

		if (rc == RX_LIMIT || rc == RX_ERROR) {
			ev->limited = true;
			return 0;
		}
		if (rc == RX_NOMATCH)
			return n;
		if (n == 0 && ev->m_where == NULL) {
			ev->m_where = where;
			ev->m_part = ev->cur_part;
			ev->m_text = s + so;
			ev->m_len = eo - so;
		}
		n++;
		if (max == 0 || n >= max)
			return n;
		start = eo > so ? eo : eo + 1;
		if (start > len)
			return n;
	}
}

/*
 * Can r's screen (rules_screen.c) tell that r does not match s?  A
 * screen that stops at a limit tells nothing.
 */
static bool
screened_out(const struct rule *r, const char *s, size_t len)
{
	size_t so, eo;

	return r->screen != NULL && rx_match(r->screen, s, len, 0, &so,
	    &eo) == RX_NOMATCH;
}

/* The value of header slot i, made once a message (NULL: no header). */
static const char *
hslot_value(struct ev *ev, uint32_t i)
{
	const struct rule *r = ev->set->hslots->pdata[i];
	int which;

	if (ev->hstate[i] != 0)
		return ev->hval[i];
	if ((which = relays_which(r->hdr)) >= 0) {
		/* The relay lists: built once a message, always there. */
		if (ev->relays[0] == NULL)
			relays_build(ev->in, &ev->relays[1], &ev->relays[0]);
		ev->hval[i] = ev->relays[which];
		ev->hstate[i] = 1;
	} else {
		ev->hval[i] = hdr_value(ev->in, r);
		ev->hstate[i] = 2;
	}
	return ev->hval[i];
}

/*
 * The header prefilter: every slot's value a chunk, scanned once for the
 * literals of every header rule.
 */
static void
header_scan(struct ev *ev)
{
	size_t n = ev->set->hslots->len;
	struct rules_chunk *c = arena_alloc(ev->a, (n + 1) * sizeof(*c));

	for (size_t i = 0; i < n; i++) {
		const char *v = hslot_value(ev, (uint32_t)i);

		c[i] = (struct rules_chunk){ v != NULL ? v : "",
		    v != NULL ? strlen(v) : 0, 0 };
	}
	ev->scan[RULE_HEADER] = pf_run(ev->set->pf[RULE_HEADER], c, n,
	    ev->a);
	ev->scanned[RULE_HEADER] = true;
}

/* Can r not match s, the value of its slot (or what stands for it)? */
static bool
header_skips(struct ev *ev, const struct rule *r, const char *val,
    const char *s)
{
	int may;

	/* The scan saw the slot's value: with if-unset or a negation,
	 * rules have no literal ids. */
	if (r->nlit_ids > 0 && val != NULL) {
		if (!ev->scanned[RULE_HEADER])
			header_scan(ev);
		if ((may = pf_may_match(ev->scan[RULE_HEADER], r, r->hslot)) >=
		    0)
			return may == 0;
	}
	return lits_absent(ev, r, s, strlen(s));
}

static unsigned
eval_header(struct ev *ev, const struct rule *r)
{
	const char *val;
	unsigned limit = (r->tflags & TF_MULTIPLE) ?
	    (r->maxhits ? r->maxhits : UINT32_MAX) : 1;
	const char *s;
	unsigned n;

	val = hslot_value(ev, r->hslot);
	if (r->is_exists) {
		if (val == NULL)
			return 0;
		ev->m_where = r->hdr;
		return 1;
	}
	/* A missing header is undef in SpamAssassin, matched as "". */
	s = val != NULL ? val : r->if_unset != NULL ? r->if_unset : "";
	n = header_skips(ev, r, val, s) || screened_out(r, s, strlen(s)) ?
	    0 : match_count(ev, r, s, strlen(s), r->is_neg ? 1 : limit,
	    r->hdr);
	if (ev->limited)
		return 0;
	if (r->is_neg) {
		ev->m_where = r->hdr;
		ev->m_text = NULL;
		return n == 0;
	}
	return n;
}

/*
 * Matches r on each chunk it may match in (the prefilter's answer), as
 * SpamAssassin matches each line, paragraph or URI on its own.
 */
static unsigned
eval_chunks(struct ev *ev, const struct rule *r,
    const struct rules_chunk *c, size_t nc, const char *kind)
{
	unsigned total = 0, limit = (r->tflags & TF_MULTIPLE) ?
	    (r->maxhits ? r->maxhits : UINT32_MAX) : 1;
	size_t n;

	if (!ev->scanned[r->type]) {
		ev->scan[r->type] = pf_run(ev->set->pf[r->type], c, nc, ev->a);
		ev->scanned[r->type] = true;
	}
	if (nc > ev->ncand_max) {
		ev->ncand_max = nc * 2;
		ev->cand = arena_alloc(ev->a, ev->ncand_max *
		    sizeof(*ev->cand));
	}
	if (r->hs_id != 0 && !ev->rscanned[r->type]) {
		ev->rscan[r->type] = hs_run(ev->set->hs[r->type], c, nc, ev->a);
		ev->rscanned[r->type] = true;
	}
	n = pf_chunks(ev->scan[r->type], r, nc, ev->cand);
	for (size_t k = 0; k < n && total < limit; k++) {
		size_t i = ev->cand[k];
		const char *where = c[i].part < 0 ? "Subject" : kind;

		/* nosubject: the first line of body is the subject. */
		if (i == 0 && r->type == RULE_BODY &&
		    (r->tflags & TF_NOSUBJECT) && c[0].part < 0)
			continue;
		if ((r->hs_id != 0 && !hs_may_match(ev->rscan[r->type], r,
		    i)) || screened_out(r, c[i].p, c[i].len))
			continue;
		ev->cur_part = c[i].part;
		total += match_count(ev, r, c[i].p, c[i].len, limit - total,
		    where);
		if (ev->limited)
			return 0;
	}
	return total;
}

static void
uri_chunks_make(struct ev *ev)
{
	if (ev->uri_chunks == NULL) {
		ev->uri_chunks = arena_alloc(ev->a, (ev->in->nuris + 1) *
		    sizeof(*ev->uri_chunks));
		for (size_t i = 0; i < ev->in->nuris; i++)
			ev->uri_chunks[i] = (struct rules_chunk){
				.p = ev->in->uris[i],
				.len = strlen(ev->in->uris[i]),
			};
	}
}

static unsigned
eval_uris(struct ev *ev, const struct rule *r)
{
	uri_chunks_make(ev);
	return eval_chunks(ev, r, ev->uri_chunks, ev->in->nuris, "uri");
}

/*
 * Scans type t's text with its prefilter (as the first of its rules
 * would) and notes which rules have a literal there: the others cannot
 * match anywhere and are not looked at.  A rule whose literals are all
 * absent would find no chunk to run on (pf_chunks) or, for a header
 * rule, no slot value holding one; a missing header's "" holds none.
 */
static void
type_mark(struct ev *ev, enum rule_type t)
{
	const struct rules_chunk *c = NULL;
	size_t nc = 0;

	ev->marked[t] = true;
	if (!ev->scanned[t]) {
		switch (t) {
		case RULE_HEADER:
			header_scan(ev);
			break;
		case RULE_BODY:
			c = ev->in->body;
			nc = ev->in->nbody;
			break;
		case RULE_RAWBODY:
			c = ev->in->rawbody;
			nc = ev->in->nrawbody;
			break;
		case RULE_URI:
			uri_chunks_make(ev);
			c = ev->uri_chunks;
			nc = ev->in->nuris;
			break;
		default:
			break;
		}
		if (t != RULE_HEADER) {
			ev->scan[t] = pf_run(ev->set->pf[t], c, nc, ev->a);
			ev->scanned[t] = true;
		}
	}
	if (ev->scan[t] == NULL)
		ev->all_may[t] = true;
	else
		pf_mark(ev->scan[t], ev->may);
}

/* One part's value of a mimeheader rule (Node.pm get_header: the last
 * one; raw_header with :raw); NULL when the part has no such header. */
static const char *
mpart_value(struct ev *ev, const struct rules_mpart *p,
    const struct rule *r)
{
	bool raw = (r->hmod & HMOD_RAW) != 0;
	const char *v = NULL;

	if (strcmp(r->hdr, "ALL") == 0) {
		GString *s = g_string_new(NULL);
		const char *out;

		for (size_t i = 0; i < p->nhdrs; i++)
			g_string_append_printf(s, "%s: %s%s", p->hdrs[i].name,
			    raw ? p->hdrs[i].raw : p->hdrs[i].value,
			    raw ? "" : "\n");
		out = arena_strdup(ev->a, s->str);
		g_string_free(s, TRUE);
		return out;
	}
	for (size_t i = 0; i < p->nhdrs; i++)
		if (name_is(p->hdrs[i].name, r->hdr))
			v = raw ? p->hdrs[i].raw : p->hdrs[i].value_nl != NULL ?
			    p->hdrs[i].value_nl : arena_printf(ev->a, "%s\n",
			    p->hdrs[i].value);
	return v;
}

/*
 * mimeheader (the MIMEHeader plugin): the pattern on the header of each
 * MIME part in turn, the message itself first; the first part that
 * matches gives the hits.  A missing header is [if-unset:] or "".  A
 * negated rule hits when no part matches.
 */
static unsigned
eval_mimeheader(struct ev *ev, const struct rule *r)
{
	unsigned limit = (r->tflags & TF_MULTIPLE) ?
	    (r->maxhits ? r->maxhits : UINT32_MAX) : 1;

	for (size_t i = 0; i < ev->in->nmparts; i++) {
		const char *v = mpart_value(ev, &ev->in->mparts[i], r);
		unsigned n;

		if (v == NULL)
			v = r->if_unset != NULL ? r->if_unset : "";
		ev->cur_part = (int)i;
		n = lits_absent(ev, r, v, strlen(v)) ||
		    screened_out(r, v, strlen(v)) ? 0 : match_count(ev, r,
		    v, strlen(v), r->is_neg ? 1 : limit, r->hdr);
		if (ev->limited)
			return 0;
		if (n > 0)
			return r->is_neg ? 0 : n;
	}
	if (r->is_neg) {
		ev->m_where = r->hdr;
		return 1;
	}
	return 0;
}

static unsigned
eval_rule(struct ev *ev, const struct rule *r)
{
	if (r->evalfn != NULL) {
		size_t n = 0;

		while (r->eval_args[n] != NULL)
			n++;
		return r->evalfn->fn(ev->in, (const char *const *)r->eval_args,
		    n, &ev->m_where);
	}
	switch (r->type) {
	case RULE_HEADER:
		return eval_header(ev, r);
	case RULE_BODY:
		return eval_chunks(ev, r, ev->in->body, ev->in->nbody, "body");
	case RULE_RAWBODY:
		return eval_chunks(ev, r, ev->in->rawbody, ev->in->nrawbody,
		    "rawbody");
	case RULE_URI:
		return eval_uris(ev, r);
	case RULE_MIMEHEADER:
		return eval_mimeheader(ev, r);
	case RULE_FULL:
		if (lits_absent(ev, r, ev->in->full, ev->in->full_len) ||
		    screened_out(r, ev->in->full, ev->in->full_len))
			return 0;
		return match_count(ev, r, ev->in->full, ev->in->full_len,
		    (r->tflags & TF_MULTIPLE) ? (r->maxhits ? r->maxhits :
		    UINT32_MAX) : 1, "full");
	default:
		return 0;
	}
}

/*
 * rules_get's answers for the message being evaluated: the eval
 * functions ask for the same few headers again and again (Received,
 * From:addr, To...), each time joined and parsed anew.  Kept per thread
 * until rules_get_forget() (rules_evalfn_reset() at the end of each
 * evaluation), and only for the message they were made for.
 */
struct get_memo {
	unsigned	 hmod;
	char		*hdr;
	char		*v;		/* NULL: no such header */
};

static _Thread_local GHashTable *get_memo;	/* struct get_memo, a set */
static _Thread_local const struct rules_input *get_memo_in;

static guint
get_memo_hash(gconstpointer k)
{
	const struct get_memo *m = k;

	return g_str_hash(m->hdr) ^ m->hmod;
}

static gboolean
get_memo_equal(gconstpointer a, gconstpointer b)
{
	const struct get_memo *x = a, *y = b;

	return x->hmod == y->hmod && strcmp(x->hdr, y->hdr) == 0;
}

static void
get_memo_free(gpointer p)
{
	struct get_memo *m = p;

	g_free(m->hdr);
	g_free(m->v);
	g_free(m);
}

void
rules_get_forget(void)
{
	if (get_memo != NULL)
		g_hash_table_destroy(get_memo);
	get_memo = NULL;
	get_memo_in = NULL;
}

char *
rules_get(const struct rules_input *in, const char *hdr, unsigned hmod)
{
	struct rule r = { .hdr = (char *)hdr, .hmod = hmod };
	struct get_memo key = { hmod, (char *)hdr, NULL }, *m;

	if (in != get_memo_in) {
		rules_get_forget();
		get_memo = g_hash_table_new_full(get_memo_hash,
		    get_memo_equal, get_memo_free, NULL);
		get_memo_in = in;
	}
	if ((m = g_hash_table_lookup(get_memo, &key)) == NULL) {
		m = g_new(struct get_memo, 1);
		m->hmod = hmod;
		m->hdr = g_strdup(hdr);
		m->v = hdr_value(in, &r);
		g_hash_table_add(get_memo, m);
	}
	return g_strdup(m->v);
}

static const char *
shorten(struct arena *a, const char *s, size_t len)
{
	char raw[MATCH_SHOW + 1], buf[4 * MATCH_SHOW + 8];
	size_t n = len > MATCH_SHOW ? MATCH_SHOW : len;

	if (s == NULL)
		return "";
	memcpy(raw, s, n);
	raw[n] = '\0';
	log_escape(buf, sizeof(buf), raw, n);
	return arena_printf(a, "%s%s", buf, len > n ? "..." : "");
}

/* Value slot x is no longer 0: the metas naming it must be evaluated. */
static inline void
feeds(const struct rules_set *set, uint8_t *dirty, size_t x)
{
	for (uint32_t k = set->rdep_off[x]; k < set->rdep_off[x + 1]; k++)
		dirty[set->rdep[k]] = 1;
}

struct rules_hit *
rules_eval(const struct rules_set *set, const struct rules_input *in,
    struct arena *a, size_t *nhits_r)
{
	struct rules_hit *hits;
	double *values;
	size_t nh = 0;
	struct ev ev = { .set = set, .in = in, .a = a };
	uint8_t *dirty;

	values = arena_alloc(a, (set->rules->len + set->next + 1) *
	    sizeof(*values));
	dirty = arena_alloc(a, set->norder + 1);
	memset(dirty, 0, set->norder + 1);
	for (size_t i = 0; i < in->next_hits; i++) {
		gpointer k = g_hash_table_lookup(set->ext_idx, in->ext_hits[i]);

		if (k != NULL) {
			size_t x = set->rules->len + GPOINTER_TO_SIZE(k) - 1;

			values[x] = 1;
			feeds(set, dirty, x);
		}
	}
	hits = arena_alloc(a, (set->norder + 1) * sizeof(*hits));
	ev.hval = arena_alloc(a, (set->hslots->len + 1) * sizeof(*ev.hval));
	ev.hstate = arena_alloc(a, set->hslots->len + 1);
	memset(ev.hstate, 0, set->hslots->len + 1);
	ev.lcache = g_hash_table_new(g_direct_hash, g_direct_equal);
	bool timed = atomic_fetch_add_explicit(&time_tick, 1,
	    memory_order_relaxed) % TIME_EVERY == 0;
	uint64_t t0 = timed ? now_ns() : 0, t1;

	/* The set is shared read-only but for its atomic counters. */
	counter_add((uint64_t *)&set->n_evals, 1);
	if (timed)
		counter_add((uint64_t *)&set->n_timed, 1);
	rules_evalfn_begin(set);

	ev.may = arena_alloc(a, set->norder + 1);
	for (size_t i = 0; i < set->norder; i++) {
		struct rule *r;
		double v;

		/* A rule none of whose literals occurs: not even read (its
		 * value stays 0). */
		if (set->pf_gate[i] != 0) {
			enum rule_type t = (enum rule_type)(set->pf_gate[i] - 1);

			if (!ev.marked[t])
				type_mark(&ev, t);
			if (!ev.may[i] && !ev.all_may[t])
				continue;
		}
		/* A meta none of whose names is set: its value is known. */
		if (i >= set->nmeta_first && !dirty[i] &&
		    set->meta_zero[i - set->nmeta_first] == 0)
			continue;
		r = set->order[i];
		ev.limited = false;
		ev.m_where = NULL;
		ev.m_text = NULL;
		ev.m_len = 0;
		if (r->type == RULE_META) {
			v = dirty[i] ? meta_eval(r->meta, values) :
			    set->meta_zero[i - set->nmeta_first];
			if (v != 0)
				values[r->idx] = 1;
		} else {
			v = eval_rule(&ev, r);
			values[r->idx] = v;
		}
		if (v != 0)
			feeds(set, dirty, r->idx);
		if (timed) {
			/* One read a rule: its end is the next one's start. */
			t1 = now_ns();
			counter_add(&r->ns_spent, (t1 - t0) * TIME_EVERY);
			t0 = t1;
		}
		if (ev.limited) {
			note_limit(r);
			continue;
		}
		if (v == 0)
			continue;
		counter_add(&r->n_hits, 1);
		hits[nh].rule = r;
		hits[nh].count = r->type == RULE_META ? 1 : (unsigned)v;
		hits[nh].value = v;
		if (ev.m_where == NULL)
			hits[nh].where = "";
		else if (r->type == RULE_RAWBODY && ev.m_part >= 0)
			hits[nh].where = arena_printf(a, "rawbody part %d",
			    ev.m_part + 1);
		else if (r->type == RULE_MIMEHEADER && !r->is_neg)
			hits[nh].where = arena_printf(a, "%s of MIME part %d",
			    ev.m_where, ev.m_part + 1);
		else
			hits[nh].where = arena_strdup(a, ev.m_where);
		hits[nh].match = shorten(a, ev.m_text, ev.m_len);
		nh++;
	}
	for (size_t i = 0; i < set->hslots->len; i++)
		if (ev.hstate[i] == 2)
			g_free(ev.hval[i]);
	g_hash_table_destroy(ev.lcache);
	g_free(ev.relays[0]);
	g_free(ev.relays[1]);
	rules_evalfn_reset();
	hits[nh].rule = NULL;
	if (nhits_r != NULL)
		*nhits_r = nh;
	return hits;
}
