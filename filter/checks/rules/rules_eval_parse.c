/*
 * rules_eval_parse.c - what SpamAssassin's message parser (Message.pm)
 * notes about a message's shape while it cuts it, for MIMEEval's
 * check_msg_parse_flags(FLAG); and the ok_locales setting with
 * Locales.pm's charset test, for the *_faraway_charset* eval tests.
 *
 * The flags are found by walking the raw message line by line as
 * Message.pm does (its header loop, its parse queue of multipart and
 * message/rfc822 parts, its limits), not from vigil's own MIME tree:
 * they describe exactly the malformations that parser tolerates.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

/* Constants.pm */
#define MAX_HEADER_KEY_LENGTH	256
#define MAX_HEADER_VALUE_LENGTH	8192
#define MAX_HEADER_LENGTH	65536
#define MAX_BODY_LINE_LENGTH	2048
#define MAX_PARTS		1000	/* _parse_multipart's limit */
#define SUBPARSE		20	/* Message->new's default depth */

enum pflag {
	PF_TRUNCATED, PF_NO_HB_SEP, PF_NO_MIME_HB_SEP, PF_EPILOGUE,
	PF_NO_MIME_HEADERS, PF_PART_LIMIT, PF_N
};

static const char *const pflag_names[PF_N] = {
	"truncated_header", "missing_head_body_separator",
	"missing_mime_head_body_separator", "mime_epilogue_exists",
	"missing_mime_headers", "mimepart_limit_exceeded"
};

/* A line, its "\n" included (the last one may lack it). */
struct ln {
	const char	*p;
	size_t		 n;
};

/* A part waiting in the parse queue: its type, boundary, lines and
 * the MIME levels still to parse below it. */
struct qitem {
	char		*type, *boundary, *cte;
	GArray		*lines;		/* struct ln */
	int		 subparse;
};

struct pstate {
	bool		 flag[PF_N];
	GQueue		 queue;		/* struct qitem * */
	GPtrArray	*keep;		/* buffers lines point into */
};

static _Thread_local bool cache_done;
static _Thread_local bool cache_flag[PF_N];
static _Thread_local const struct rules_input *cache_in;

void
rules_eval_parse_reset(void)
{
	cache_done = false;
	cache_in = NULL;
}

static GArray *
split_lines(const char *p, size_t len)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct ln));
	const char *e = p + len;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		struct ln l = { p, (size_t)((nl != NULL ? nl + 1 : e) - p) };

		g_array_append_val(a, l);
		p += l.n;
	}
	return a;
}

#define LN(a, i)	(g_array_index((a), struct ln, (i)))

/* /^[\041-\071\073-\176]+[ \t]*:/ (wsp: the blanks before ':' too) */
static bool
field_start(const struct ln *l, bool wsp)
{
	size_t i = 0;

	while (i < l->n && l->p[i] >= 041 && l->p[i] <= 0176 &&
	    l->p[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (wsp && i < l->n && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	return i < l->n && l->p[i] == ':';
}

/* /^\s*$/-like: only white space (after a "--boundary"). */
static bool
all_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isspace(p[i]))
			return false;
	return true;
}

/* /^--\Qb\E(--)?\s*$/: 0 no, 1 a boundary, 2 the closing one. */
static int
boundary_line(const struct ln *l, const char *b)
{
	size_t bl = strlen(b);

	if (l->n < 2 + bl || l->p[0] != '-' || l->p[1] != '-' ||
	    memcmp(l->p + 2, b, bl) != 0)
		return 0;
	if (all_space(l->p + 2 + bl, l->n - 2 - bl))
		return 1;
	if (l->n >= 4 + bl && l->p[2 + bl] == '-' && l->p[3 + bl] == '-' &&
	    all_space(l->p + 4 + bl, l->n - 4 - bl))
		return 2;
	return 0;
}

/* Node::header's stored value: folds joined, trimmed, line ends gone. */
static char *
header_value(const char *v, size_t n)
{
	GString *s = g_string_new_len(v, (gssize)n);
	char *out;
	size_t o = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->str[i] == '\n' && i + 1 < s->len &&
		    (s->str[i + 1] == ' ' || s->str[i + 1] == '\t')) {
			s->str[o++] = ' ';
			while (i + 1 < s->len && (s->str[i + 1] == ' ' ||
			    s->str[i + 1] == '\t'))
				i++;
			continue;
		}
		s->str[o++] = s->str[i];
	}
	g_string_truncate(s, o);
	out = g_strstrip(g_string_free(s, FALSE));
	for (char *r = out, *w = out;; r++) {
		if (*r == '\n' || (*r == '\r' && r[1] == '\n'))
			continue;
		if ((*w++ = *r) == '\0')
			break;
	}
	return out;
}

/* Util.pm's parse_content_type of the last Content-Type value (NULL:
 * none): the type, *boundary_r (g_malloc'd or NULL), whether it was
 * missing. */
static char *
content_type(const char *ct, char **boundary_r, bool *missing_r)
{
	GMatchInfo *mi = NULL;
	GRegex *re = rules_evalfn_re("\\bboundary\\s*=\\s*(\"[^\"]+|"
	    "[^\\s\";]+(?=[\\s;]|$))", G_REGEX_CASELESS);
	char *t, *semi, *o;
	bool missing = ct == NULL || ct[0] == '\0' || strcmp(ct, "0") == 0;

	if (missing)
		ct = "text/plain; charset=us-ascii";
	*boundary_r = NULL;
	if (re != NULL && g_regex_match(re, ct, 0, &mi)) {
		char *b = g_match_info_fetch(mi, 1), *w = b;

		for (char *r = b; *r != '\0'; r++)
			if (*r != '"')
				*w++ = *r;
		*w = '\0';
		*boundary_r = b;
	}
	g_match_info_free(mi);
	while (g_ascii_isspace(*ct))
		ct++;
	t = g_strdup(ct);
	if ((semi = strchr(t, ';')) != NULL)
		*semi = '\0';
	/* only something/something */
	{
		char *sl = strchr(t, '/');

		if (sl != NULL && sl > t) {
			char *e = sl + 1;

			while (*e != '\0' && *e != '/' && !g_ascii_isspace(*e))
				e++;
			*e = '\0';
		}
	}
	o = g_ascii_strdown(t, -1);
	g_free(t);
	if (o[0] == '\0')
		missing = true;
	if (o[0] == '\0' || (g_str_has_prefix(o, "text") &&
	    !g_ascii_isalnum(o[4]) && o[4] != '_' &&
	    strcmp(o, "text/x-vcard") != 0 && strcmp(o, "text/calendar") != 0 &&
	    strcmp(o, "text/html") != 0)) {
		g_free(o);
		o = g_strdup("text/plain");
	}
	{
		char *w = o;

		for (char *r = o; *r != '\0'; r++) {
			unsigned char c = (unsigned char)*r;

			if (c <= 040 || c >= 0177 || strchr("\"(),:;<=>?@[\\]",
			    c) != NULL)
				continue;
			*w++ = *r;
		}
		*w = '\0';
	}
	*missing_r = missing;
	return o;
}

static void
queue_push(struct pstate *st, char *type, char *boundary, char *cte,
    GArray *lines, int subparse)
{
	struct qitem *q = g_new0(struct qitem, 1);

	q->type = type;
	q->boundary = boundary;
	q->cte = cte;
	q->lines = lines;
	q->subparse = subparse;
	g_queue_push_tail(&st->queue, q);
}

static void
qitem_free(struct qitem *q)
{
	g_free(q->type);
	g_free(q->boundary);
	g_free(q->cte);
	g_array_free(q->lines, TRUE);
	g_free(q);
}

/*
 * Message->new on text: its header loop (flags only for the message
 * itself: a sub-message's are its own), then its body queued to parse.
 */
static void
parse_message(struct pstate *st, const char *text, size_t len, bool top,
    int subparse)
{
	GArray *all = split_lines(text, len), *body;
	guint i = 0;
	int errors = 0;
	GString *hdr = NULL;
	char *ct = NULL, *cte = NULL, *type, *boundary;
	size_t total = 0;
	bool missing;
	static const struct ln empty = { "\n", 1 };

	if (all->len == 0)
		g_array_append_val(all, empty);
	/* an mbox separator */
	if (LN(all, 0).n >= 5 && memcmp(LN(all, 0).p, "From", 4) == 0 &&
	    g_ascii_isspace(LN(all, 0).p[4])) {
		const struct ln *f = &LN(all, 0);
		size_t k = 4;

		/* /^From\s+(?!:)/: \s+ may give back all but one blank */
		while (k < f->n && g_ascii_isspace(f->p[k]))
			k++;
		if (k - 4 >= 2 || k == f->n || f->p[k] != ':')
			i = 1;
	}
	for (;;) {
		bool eof = i >= all->len;
		struct ln cur = eof ? empty : LN(all, i++);

		if (!eof && (cur.p[0] == ' ' || cur.p[0] == '\t')) {
			if (hdr == NULL)
				hdr = g_string_new(NULL);
			g_string_append_len(hdr, cur.p, (gssize)cur.n);
			continue;
		}
		if (hdr != NULL) {
			const char *c = memchr(hdr->str, ':', hdr->len);

			if (c != NULL) {
				size_t kl = (size_t)(c - hdr->str);
				size_t vl = hdr->len - kl - 1;

				while (kl > 0 && (hdr->str[kl - 1] == ' ' ||
				    hdr->str[kl - 1] == '\t'))
					kl--;
				if (kl > MAX_HEADER_KEY_LENGTH) {
					kl = MAX_HEADER_KEY_LENGTH;
					st->flag[PF_TRUNCATED] |= top;
				}
				if (vl > MAX_HEADER_VALUE_LENGTH) {
					vl = MAX_HEADER_VALUE_LENGTH;
					st->flag[PF_TRUNCATED] |= top;
				}
				total += kl + 2;
				if (kl == 12 && g_ascii_strncasecmp(hdr->str,
				    "content-type", 12) == 0) {
					g_free(ct);
					ct = header_value(c + 1, vl);
					total += strlen(ct);
				} else if (kl == 25 && g_ascii_strncasecmp(
				    hdr->str, "content-transfer-encoding",
				    25) == 0) {
					g_free(cte);
					cte = header_value(c + 1, vl);
					total += strlen(cte);
				} else {
					char *v = header_value(c + 1, vl);

					total += strlen(v);
					g_free(v);
				}
			}
			g_string_free(hdr, TRUE);
			hdr = NULL;
		}
		if (cur.n == 1 && cur.p[0] == '\n') {
			if (eof)
				st->flag[PF_NO_HB_SEP] |= top;
			break;
		}
		if (cur.n >= 2 && cur.p[0] == '-' && cur.p[1] == '-') {
			st->flag[PF_NO_HB_SEP] |= top;
			i--;
			break;
		}
		if (!field_start(&cur, true) && ++errors > 3) {
			st->flag[PF_NO_HB_SEP] |= top;
			i--;
			break;
		}
		hdr = g_string_new_len(cur.p, (gssize)cur.n);
	}
	/* get_all_headers() stops at MAX_HEADER_LENGTH too (decoded
	 * values; the raw ones here). */
	if (total > MAX_HEADER_LENGTH)
		st->flag[PF_TRUNCATED] |= top;
	body = g_array_new(FALSE, FALSE, sizeof(struct ln));
	if (i < all->len)
		g_array_append_vals(body, &LN(all, i), all->len - i);
	g_array_free(all, TRUE);
	type = content_type(ct, &boundary, &missing);
	g_free(ct);
	/* bug 6845: a multipart body that starts with neither a blank
	 * line nor its boundary gets one blank line first */
	if (g_str_has_prefix(type, "multipart/") && body->len > 1 &&
	    !all_space(LN(body, 0).p, LN(body, 0).n)) {
		const struct ln *f = &LN(body, 0);
		size_t bl = boundary != NULL ? strlen(boundary) : 0;

		if (boundary == NULL || f->n < 2 + bl || f->p[0] != '-' ||
		    f->p[1] != '-' || memcmp(f->p + 2, boundary, bl) != 0)
			g_array_prepend_val(body, empty);
	}
	queue_push(st, type, boundary, cte, body, subparse);
}

/* Appends l to part, cut in MAX_BODY_LINE_LENGTH pieces each given a
 * "\n" as Message.pm does. */
static void
part_add(struct pstate *st, GArray *part, struct ln l)
{
	while (l.n > MAX_BODY_LINE_LENGTH) {
		char *c = g_malloc(MAX_BODY_LINE_LENGTH + 1);
		struct ln piece = { c, MAX_BODY_LINE_LENGTH + 1 };

		memcpy(c, l.p, MAX_BODY_LINE_LENGTH);
		c[MAX_BODY_LINE_LENGTH] = '\n';
		g_ptr_array_add(st->keep, c);
		g_array_append_val(part, piece);
		l.p += MAX_BODY_LINE_LENGTH;
		l.n -= MAX_BODY_LINE_LENGTH;
	}
	g_array_append_val(part, l);
}

/* A part's header field (as _parse_multipart splits it on /:\s* /):
 * keeps the last Content-Type and Content-Transfer-Encoding. */
static void
part_field(GString *h, char **ct, char **cte)
{
	const char *c = memchr(h->str, ':', h->len);
	size_t kl;
	char **slot = NULL;

	if (c == NULL)
		return;
	kl = (size_t)(c - h->str);
	if (kl == 12 && g_ascii_strncasecmp(h->str, "content-type", 12) == 0)
		slot = ct;
	else if (kl == 25 && g_ascii_strncasecmp(h->str,
	    "content-transfer-encoding", 25) == 0)
		slot = cte;
	if (slot == NULL)
		return;
	g_free(*slot);
	*slot = header_value(c + 1, h->len - kl - 1);
}

/* Message.pm's _parse_multipart on q: its flags, its parts queued. */
static void
parse_multipart(struct pstate *st, struct qitem *q)
{
	GArray *body = q->lines, *part = NULL;
	const char *b = q->boundary;
	guint start = 0, left;
	int subparse = q->subparse - 1, partcnt = 0;
	bool nested = false, in_body = false;
	GString *hdr = NULL;
	char *ct = NULL, *cte = NULL;

	for (guint k = 0; k < body->len; k++)
		if (boundary_line(&LN(body, k), b) == 1) {
			if (k + 1 < body->len &&
			    !field_start(&LN(body, k + 1), false))
				st->flag[PF_NO_MIME_HEADERS] = true;
			start = k + 1;
			break;
		}
	left = body->len - start;
	for (guint k = start; k < body->len; k++) {
		struct ln l = LN(body, k);
		int bl = boundary_line(&l, b);
		bool end = bl != 0, last = bl == 2;

		if (end && nested) {
			end = false;
			if (last)
				nested = false;
		}
		if (--left == 0 || end) {
			bool missing;
			char *type, *pb;

			if (part == NULL)
				part = g_array_new(FALSE, FALSE,
				    sizeof(struct ln));
			if (!end)
				part_add(st, part, l);
			else if (part->len > 0) {
				struct ln *e = &LN(part, part->len - 1);

				if (e->n > 0 && e->p[e->n - 1] == '\n')
					e->n--;
				if (e->n == 0)
					g_array_set_size(part, part->len - 1);
			}
			type = content_type(ct, &pb, &missing);
			if (missing && strcmp(q->type,
			    "multipart/digest") == 0) {
				g_free(type);
				type = g_strdup("message/rfc822");
			}
			if (pb == NULL)
				pb = g_strdup(b);
			queue_push(st, type, pb, cte, part, subparse);
			cte = NULL;
			part = NULL;
			g_free(ct);
			ct = NULL;
			if (hdr != NULL)
				g_string_free(hdr, TRUE);
			hdr = NULL;
			in_body = false;
			if (end && last)
				break;
			if (left > 0 && !field_start(&LN(body, body->len -
			    left), false))
				st->flag[PF_NO_MIME_HEADERS] = true;
			if (++partcnt == MAX_PARTS) {
				st->flag[PF_PART_LIMIT] = true;
				return;
			}
			continue;
		}
		if (part == NULL)
			part = g_array_new(FALSE, FALSE, sizeof(struct ln));
		if (!in_body) {
			if (field_start(&l, true)) {
				if (hdr != NULL) {
					part_field(hdr, &ct, &cte);
					g_string_free(hdr, TRUE);
				}
				hdr = g_string_new_len(l.p, (gssize)l.n);
				continue;
			}
			if ((l.p[0] == ' ' || l.p[0] == '\t') && hdr != NULL) {
				g_string_append_len(hdr, l.p, (gssize)l.n);
				continue;
			}
			if (hdr != NULL) {
				const char *c = memchr(hdr->str, ':',
				    hdr->len);

				part_field(hdr, &ct, &cte);
				if (c != NULL && c - hdr->str == 12 &&
				    g_ascii_strncasecmp(hdr->str,
				    "content-type", 12) == 0) {
					bool m;
					char *nb, *t = content_type(ct, &nb,
					    &m);

					if (nb != NULL && strcmp(nb, b) == 0)
						nested = true;
					g_free(nb);
					g_free(t);
				}
				g_string_free(hdr, TRUE);
				hdr = NULL;
			}
			in_body = true;
			if (l.n == 1 || (l.n == 2 && l.p[0] == '\r') ||
			    (l.n == 1 && l.p[0] == '\r') || l.n == 0)
				continue;
			st->flag[PF_NO_MIME_HB_SEP] = true;
		}
		part_add(st, part, l);
	}
	if (part != NULL)
		g_array_free(part, TRUE);
	if (hdr != NULL)
		g_string_free(hdr, TRUE);
	g_free(ct);
	g_free(cte);
	/* an epilogue: lines after the closing boundary with more than
	 * white space and dots */
	for (guint k = body->len - left; k < body->len; k++) {
		const struct ln *e = &LN(body, k);

		for (size_t i = 0; i < e->n; i++)
			if (!g_ascii_isspace(e->p[i]) && e->p[i] != '.') {
				st->flag[PF_EPILOGUE] = true;
				return;
			}
	}
}

/* Util.pm's qp_decode (and the CRLF to LF after it). */
static GString *
qp_decode(const char *p, size_t n)
{
	GString *o = g_string_sized_new(n);

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t') {
			size_t j = i;

			while (j < n && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j == n || p[j] == '\n' || (p[j] == '\r' &&
			    j + 1 < n && p[j + 1] == '\n')) {
				i = j - 1;
				continue;
			}
		}
		if (p[i] == '=' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			continue;
		}
		if (p[i] == '=' && i + 2 < n && p[i + 1] == '\r' &&
		    p[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (p[i] == '=' && i + 2 < n && g_ascii_isxdigit(p[i + 1]) &&
		    g_ascii_isxdigit(p[i + 2])) {
			g_string_append_c(o, (char)(g_ascii_xdigit_value(p[i +
			    1]) * 16 + g_ascii_xdigit_value(p[i + 2])));
			i += 2;
			continue;
		}
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		g_string_append_c(o, p[i]);
	}
	return o;
}

/* Node::decode of a message/rfc822 part, then the CRLF line ends a
 * Message->new on it would turn into LF (g_malloc'd, *len_r). */
static char *
decode_part(const struct qitem *q, size_t *len_r)
{
	GString *raw = g_string_new(NULL);
	char *out;

	for (guint k = 0; k < q->lines->len; k++)
		g_string_append_len(raw, LN(q->lines, k).p,
		    (gssize)LN(q->lines, k).n);
	if (q->cte != NULL && g_ascii_strcasecmp(q->cte,
	    "quoted-printable") == 0) {
		GString *d = qp_decode(raw->str, raw->len);

		g_string_free(raw, TRUE);
		raw = d;
	} else if (q->cte != NULL && g_ascii_strcasecmp(q->cte,
	    "base64") == 0) {
		gsize n = 0;
		guchar *d;
		size_t w = 0;

		for (size_t i = 0; i < raw->len; i++)
			if (g_ascii_isalnum(raw->str[i]) || raw->str[i] ==
			    '+' || raw->str[i] == '/' || raw->str[i] == '=')
				raw->str[w++] = raw->str[i];
		g_string_truncate(raw, w);
		d = g_base64_decode(raw->str, &n);
		g_string_free(raw, TRUE);
		raw = g_string_new_len((const char *)d, (gssize)n);
		g_free(d);
	}
	/* CRLF: Message->new squashes it when its first or last line has
	 * one; vigil's own copy of the message is LF already */
	{
		const char *nl = memchr(raw->str, '\n', raw->len);
		bool crlf = (nl != NULL && nl > raw->str && nl[-1] == '\r') ||
		    (raw->len >= 2 && raw->str[raw->len - 1] == '\n' &&
		    raw->str[raw->len - 2] == '\r');

		if (crlf) {
			size_t w = 0;

			for (size_t i = 0; i < raw->len; i++)
				if (!(raw->str[i] == '\r' && i + 1 <
				    raw->len && raw->str[i + 1] == '\n'))
					raw->str[w++] = raw->str[i];
			g_string_truncate(raw, w);
		}
	}
	*len_r = raw->len;
	out = g_string_free(raw, FALSE);
	return out;
}

static void
compute(const struct rules_input *in, bool flag[PF_N])
{
	struct pstate st = { .keep = g_ptr_array_new_with_free_func(g_free) };
	struct qitem *q;

	g_queue_init(&st.queue);
	parse_message(&st, in->full != NULL ? in->full : "", in->full != NULL ?
	    in->full_len : 0, true, SUBPARSE);
	while ((q = g_queue_pop_head(&st.queue)) != NULL) {
		if (g_str_has_prefix(q->type, "multipart/") &&
		    q->boundary != NULL && q->subparse > 0)
			parse_multipart(&st, q);
		else if ((strcmp(q->type, "message/rfc822") == 0 ||
		    strcmp(q->type, "message/global") == 0) &&
		    q->subparse > 0) {
			size_t n;
			char *d = decode_part(q, &n);

			if (n > 0) {
				g_ptr_array_add(st.keep, d);
				parse_message(&st, d, n, false,
				    q->subparse - 1);
			} else
				g_free(d);
		}
		qitem_free(q);
	}
	/* full is the spool's copy, which has the blank line; whether the
	 * message read had it, pipeline.c noted */
	st.flag[PF_NO_HB_SEP] |= in->no_separator;
	memcpy(flag, st.flag, sizeof(st.flag));
	g_ptr_array_free(st.keep, TRUE);
}

bool
rules_eval_parse_flag(const struct rules_input *in, const char *name)
{
	if (!cache_done || cache_in != in) {
		compute(in, cache_flag);
		cache_done = true;
		cache_in = in;
	}
	for (int i = 0; i < PF_N; i++)
		if (strcmp(pflag_names[i], name) == 0)
			return cache_flag[i];
	return false;
}

static const char *
parse_flags_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	for (int i = 0; i < PF_N; i++)
		if (strcmp(pflag_names[i], args[0]) == 0)
			return NULL;
	return "this parser flag is not computed";
}

/* check_msg_parse_flags(FLAG): Message.pm noted FLAG. */
static double
check_msg_parse_flags(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "message";
	return rules_eval_parse_flag(in, args[0]);
}

/* --- ok_locales and Locales.pm */

/* Util.pm's get_my_locales: the ok_locales words ("all" when the
 * setting is absent).  SpamAssassin adds the process's LC_ALL (or
 * LANGUAGE, LC_MESSAGES, LANG); vigil, a daemon, leaves its own
 * environment out: a site says what it reads with ok_locales. */
static const char *const *
my_locales(void)
{
	static const char *const all[] = { "all", NULL };
	const struct rules_set *set = rules_evalfn_set();
	const struct rule *r = set != NULL ? rules_find(set,
	    RULES_OK_LOCALES) : NULL;

	if (r == NULL || r->eval_args == NULL)
		return all;
	return (const char *const *)r->eval_args;
}

bool
rules_locales_all(void)
{
	for (const char *const *l = my_locales(); *l != NULL; l++)
		if (strcmp(*l, "all") == 0)
			return true;
	return false;
}

static const struct {
	const char *loc, *sets;
} charsets_for_locale[] = {
	{ "ja", " EUCJP JISX020119760 JISX020819830 JISX020819900 "
	  "JISX020819970 JISX021219900 JISX021320001 JISX021320002 "
	  "SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201 JISX0208 "
	  "JISX0212 " },
	{ "ko", " EUCKR KSC56011987 " },
	{ "ru", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "ka", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "tg", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "be", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "uk", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "bg", " KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866 " },
	{ "th", " TIS620 " },
	{ "zh", " GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW "
	  "ISO2022CN " },
};

/* Locales.pm's is_charset_ok_for_locales with the ok_locales. */
bool
rules_charset_ok(const char *charset)
{
	GString *cs = g_string_new(NULL);
	const char *s;
	bool ok = false;

	for (const char *p = charset; *p != '\0'; p++)
		if (g_ascii_isalnum(*p))
			g_string_append_c(cs, g_ascii_toupper(*p));
	s = cs->str;
	if (g_str_has_prefix(s, "3D"))	/* broken by quoted-printable */
		s += 2;
	/* (Locales.pm's cut at a ':' never applies: it is gone) */
	if (strcmp(s, "USASCII") == 0 || strcmp(s, "ASCII") == 0 ||
	    g_str_has_prefix(s, "ISO8859") || g_str_has_prefix(s, "ISO10646") ||
	    g_str_has_prefix(s, "UTF") || g_str_has_prefix(s, "UCS") ||
	    g_str_has_prefix(s, "CP125") || g_str_has_prefix(s, "WINDOWS") ||
	    strcmp(s, "IBM852") == 0 ||
	    g_str_has_prefix(s, "UNICODE11UTF7") ||
	    g_str_has_prefix(s, "UNICODE11UTF8") ||
	    strcmp(s, "XUNKNOWN") == 0 || strcmp(s, "ISO") == 0)
		ok = true;
	for (const char *const *l = my_locales(); !ok && *l != NULL; l++) {
		char loc[3];
		char *want;

		if (strcmp(*l, "C") == 0)
			strcpy(loc, "en");
		else if (g_ascii_islower((*l)[0]) && g_ascii_islower((*l)[1])) {
			loc[0] = (*l)[0];
			loc[1] = (*l)[1];
			loc[2] = '\0';
		} else
			continue;
		want = g_strconcat(" ", s, " ", NULL);
		for (size_t i = 0; i < G_N_ELEMENTS(charsets_for_locale); i++)
			if (strcmp(charsets_for_locale[i].loc, loc) == 0 &&
			    strstr(charsets_for_locale[i].sets, want) != NULL)
				ok = true;
		g_free(want);
	}
	g_string_free(cs, TRUE);
	return ok;
}

/* MIMEEval's get_charset_from_ct_line (g_malloc'd or NULL). */
static char *
ct_charset(const char *ct)
{
	static const char *const pats[] = { "charset=\"([^\"]+)\"",
	    "charset='([^']+)'", "charset=(\\S+)" };
	char *out = NULL;

	for (size_t i = 0; out == NULL && i < G_N_ELEMENTS(pats); i++) {
		GMatchInfo *mi = NULL;
		GRegex *re = rules_evalfn_re(pats[i], G_REGEX_CASELESS);

		if (re != NULL && g_regex_match(re, ct, 0, &mi))
			out = g_match_info_fetch(mi, 1);
		g_match_info_free(mi);
	}
	return out;
}

/* check_for_faraway_charset(): the message's Content-Type charset is
 * not one of the ok_locales' and most of the body text is 8-bit. */
static double
check_for_faraway_charset(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	char *ct, *cs;
	bool hit = false;

	(void)args;
	(void)nargs;
	*where_r = "body";
	if (rules_locales_all())
		return 0;
	ct = rules_get(in, "Content-Type", 0);
	cs = ct != NULL ? ct_charset(ct) : NULL;
	if (cs != NULL && !rules_charset_ok(cs)) {
		size_t hi = 0, len = 0;

		/* are_more_high_bits_set on the body lines joined by "\n" */
		for (size_t i = 0; i < in->nbody; i++) {
			len += in->body[i].len + (i > 0);
			for (size_t k = 0; k < in->body[i].len; k++)
				hi += (unsigned char)in->body[i].p[k] >= 0x80;
		}
		hit = len - hi <= hi && hi > 3;
	}
	g_free(cs);
	g_free(ct);
	return hit;
}

const struct rules_evalfn rules_evalfn_parse[] = {
	{ "check_msg_parse_flags", 1, 1, check_msg_parse_flags,
	  parse_flags_check },
	{ "check_for_faraway_charset", 0, 0, check_for_faraway_charset,
	  NULL },
	{ NULL, 0, 0, NULL, NULL }
};
