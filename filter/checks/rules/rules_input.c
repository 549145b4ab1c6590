/*
 * rules_input.c - the message as rules see it, built from the flat view
 * the way SpamAssassin's Message.pm builds its arrays: LF line ends,
 * header values unfolded and decoded, the body as the subject followed by
 * the rendered text parts with whitespace collapsed and one paragraph a
 * line, rawbody as the transfer-decoded text parts in chunks of 2-4 KB.
 * Everything lives in the message's arena.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "mime.h"
#include "msg.h"
#include "url.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_input.h"

#define MAX_BODY_LINE	2048	/* Message.pm MAX_BODY_LINE_LENGTH */

/*
 * x, y and z as one string in the arena (where arena_printf("%s%s")
 * would run the formatter for the copies): xn, yn and zn bytes of them,
 * each up to a NUL.
 */
static char *
cat3(struct arena *a, const char *x, size_t xn, const char *y, size_t yn,
    const char *z, size_t zn)
{
	char *r;

	xn = strnlen(x, xn);
	yn = strnlen(y, yn);
	zn = strnlen(z, zn);
	r = arena_alloc(a, xn + yn + zn + 1);	/* cleared: the NUL is in */
	memcpy(r, x, xn);
	memcpy(r + xn, y, yn);
	memcpy(r + xn + yn, z, zn);
	return r;
}

/* s and a line end. */
static char *
with_nl(struct arena *a, const char *s)
{
	return cat3(a, s, SIZE_MAX, "\n", 1, "", 0);
}

/* Copies s with CRLF turned into LF. */
static char *
lf_copy(struct arena *a, const char *s, size_t n, size_t *len_r)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	const char *p = s, *e = s + n, *cr;

	/* Whole runs without a CR at a time: most text has none, or one
	 * a line. */
	while (p < e && (cr = memchr(p, '\r', (size_t)(e - p))) != NULL) {
		memcpy(o, p, (size_t)(cr - p));
		o += cr - p;
		if (cr + 1 == e || cr[1] != '\n')
			*o++ = '\r';
		p = cr + 1;
	}
	if (p < e) {
		memcpy(o, p, (size_t)(e - p));
		o += e - p;
	}
	*o = '\0';
	if (len_r != NULL)
		*len_r = (size_t)(o - out);
	return out;
}

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/*
 * Message.pm's whitespace handling: s/\n+\s*\n+/\0/g, s/\s+/ /g,
 * tr/\0/\n/ (in one pass: a whitespace run holding two or more newlines
 * becomes its text before the first newline, "\n", and its text after the
 * last newline, each collapsed).
 */
static size_t
collapse(char *s, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t j, first_nl = SIZE_MAX, last_nl = SIZE_MAX, nnl = 0;

		if (!is_ws((unsigned char)s[i])) {
			s[o++] = s[i] == '\0' ? '\n' : s[i];
			i++;
			continue;
		}
		for (j = i; j < n && is_ws((unsigned char)s[j]); j++) {
			if (s[j] == '\n') {
				if (first_nl == SIZE_MAX)
					first_nl = j;
				last_nl = j;
				nnl++;
			}
		}
		if (nnl >= 2) {
			if (first_nl > i)
				s[o++] = ' ';
			s[o++] = '\n';
			if (j > last_nl + 1)
				s[o++] = ' ';
		} else
			s[o++] = ' ';
		i = j;
	}
	return o;
}

/* Cuts text at a boundary near max, as Message.pm does for scan sizes. */
static size_t
scan_cut(const char *s, size_t n, size_t max, bool raw)
{
	const char *seps = raw ? "\n> " : "\n ";

	if (max == 0 || n <= max)
		return n;
	for (const char *c = seps; *c; c++) {
		const char *p = memchr(s + max, *c, n - max);

		if (p != NULL && (size_t)(p - s) - max <= 1024)
			return (size_t)(p - s) + 1;
	}
	return max;
}

struct chunks {
	struct rules_chunk	*v;
	size_t			 n, cap;
};

static void
chunk_add(struct arena *a, struct chunks *c, const char *p, size_t len,
    int part)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct rules_chunk *v = arena_alloc(a, cap * sizeof(*v));

		if (c->n)
			memcpy(v, c->v, c->n * sizeof(*v));
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct rules_chunk){ .p = p, .len = len, .part = part };
}

/* split_into_array_of_short_lines: at each "\n" (kept), long lines at
 * the last space before 2048 bytes. */
static void
split_lines(struct arena *a, struct chunks *c, const char *s, size_t n,
    int part)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - s) + 1 : n;

		while (end - i > MAX_BODY_LINE) {
			size_t k = MAX_BODY_LINE, cut = 0;

			/* rindex(line, ' ', 2048) + 1 */
			for (size_t q = i + k + 1; q-- > i;)
				if (s[q] == ' ') {
					cut = q - i + 1;
					break;
				}
			if (cut == 0)
				cut = MAX_BODY_LINE;
			chunk_add(a, c, s + i, cut, part);
			i += cut;
		}
		chunk_add(a, c, s + i, end - i, part);
		part = part < 0 ? 0 : part;
		i = end;
	}
}

/* split_into_array_of_short_paragraphs: 2-4 KB pieces ending at "\n",
 * ">" or " " when one is near. */
static void
split_paras(struct arena *a, struct chunks *c, const char *s, size_t n,
    int part)
{
	size_t ofs = 0;

	if (n <= MAX_BODY_LINE) {
		chunk_add(a, c, s, n, part);
		return;
	}
	for (; n - ofs > 2 * MAX_BODY_LINE;) {
		size_t j = SIZE_MAX;
		static const char seps[] = "\n> ";

		for (const char *sep = seps; *sep && j == SIZE_MAX; sep++) {
			const char *p = memchr(s + ofs + MAX_BODY_LINE, *sep,
			    n - ofs - MAX_BODY_LINE);

			if (p != NULL && (size_t)(p - s) - ofs + 1 <=
			    2 * MAX_BODY_LINE)
				j = (size_t)(p - s);
		}
		if (j == SIZE_MAX)
			j = ofs + MAX_BODY_LINE;
		chunk_add(a, c, s + ofs, j - ofs + 1, part);
		ofs = j + 1;
	}
	if (ofs < n)
		chunk_add(a, c, s + ofs, n - ofs, part);
}

/*
 * URIs in the rendered text, found as PerMsgStatus::_tbirdurire finds
 * them: a known scheme or www./ftp. prefix, a mail address (which
 * becomes mailto:), or a host name without a scheme whose last label is
 * a top-level domain (which becomes http://).
 */
#define URI_END		"><\"`}\\]{[|\\s\\x1b\\xa0"
#define URI_START	"><\"'`,{[(|\\s\\x1b\\xa0"
#define URI_END_MAIL	URI_END ",('\\x80-\\xff"
#define URI_SC_START	"!\"#$&'()*+,/:;<=>?@\\[\\\\\\]^`{|}~\\s\\x1b\\xa0"
static const char uri_re[] =
    "(?:\\b|(?<=[" URI_START "]))"
    "(?:(?:(?:https?|ftp)://|(?:www\\d{0,2}|ftp)\\.)[^" URI_END "]{1,2048}"
    "(?=[" URI_END "]|\\z)"
    "|(?:mailto:[^" URI_END_MAIL "]{1,2048}|[^" URI_END_MAIL "@]{1,251}"
    "@[^" URI_END_MAIL "]{1,251})(?=[" URI_END_MAIL "]|\\z)"
    "|(?:^|(?<=[" URI_SC_START "]))[a-z\\d][a-z\\d._-]{0,251}\\.[a-z]{2,63}"
    "\\.?(?::\\d{1,5})?(?:/[^" URI_END "]{1,2048})?(?=[" URI_END "]|\\z))";

static struct rx	*uri_rx;
static GOnce		 uri_once = G_ONCE_INIT;

static gpointer
uri_rx_init(gpointer lim)
{
	char err[256];
	size_t off;
	bool too_large;

	uri_rx = rx_compile(uri_re, "i", lim, err, sizeof(err), &off,
	    &too_large);
	if (uri_rx == NULL)
		BUG("rules: the URI pattern does not compile: %s at %zu", err,
		    off);
	return uri_rx;
}

/* Does the host at the start of s[0..n) end in a top-level domain? */
static bool
host_has_tld(const char *s, size_t n)
{
	size_t h = 0, dot;
	char label[64];

	while (h < n && s[h] != ':' && s[h] != '/')
		h++;
	while (h > 0 && s[h - 1] == '.')
		h--;
	for (dot = h; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	if (dot == 0 || h - dot >= sizeof(label) || h == dot)
		return false;
	for (size_t i = 0; i < h - dot; i++)
		label[i] = (char)g_ascii_tolower(s[dot + i]);
	label[h - dot] = '\0';
	return url_is_tld(label);
}

struct uris {
	GPtrArray	*v;
	GHashTable	*seen;
};

static void
uri_add(struct arena *a, struct uris *u, const char *s, size_t n)
{
	char *c = arena_strndup(a, s, n);

	if (g_hash_table_contains(u->seen, c))
		return;
	g_hash_table_add(u->seen, c);
	g_ptr_array_add(u->v, c);
}

/*
 * The URI pattern's runs: no byte of URI_END is ever part of a match
 * (every branch's classes leave them out), and every match holds a ".",
 * ":" or "@" (the scheme's colon, "www." and "ftp.", the address's "@",
 * the host's last dot).  So a match lies inside one run of bytes outside
 * URI_END, and only in a run holding one of those three: uri_scan
 * searches those runs alone, each as the subject ending where the run
 * ends (the pattern's lookaheads take that end as they take the
 * URI_END byte after it), the text before it still there for the
 * lookbehinds and \b.  The matches are those of the search over the
 * whole text, in the same order, for a fraction of the places PCRE2
 * would otherwise try (every word's start, each alternative).
 */
static const uint8_t *
uri_classes(void)
{
	/* 1: ends a run (URI_END), 2: a byte every match holds. */
	static uint8_t cls[256];
	static gsize done;

	if (g_once_init_enter(&done)) {
		for (const char *c = "><\"`}]{[| \t\n\v\f\r\x1b\xa0"; *c != '\0';
		    c++)
			cls[(unsigned char)*c] = 1;
		cls['.'] = cls[':'] = cls['@'] = 2;
		g_once_init_leave(&done, 1);
	}
	return cls;
}

static void
uri_scan(struct arena *a, struct uris *u, const struct rules_limits *lim,
    const char *s, size_t n)
{
	const uint8_t *cls = uri_classes();
	size_t start = 0, so, eo, run = 0, end = 0;

	g_once(&uri_once, uri_rx_init, (gpointer)lim);
	for (;;) {
		const char *p;
		size_t len, k;
		const char *paren;
		bool scheme;
		enum rx_rc rc;

		if (start >= end) {
			/* The next run holding a key byte. */
			size_t q = end > start ? end : start;

			while (q < n && cls[(unsigned char)s[q]] != 2)
				q++;
			if (q >= n)
				break;
			for (run = q; run > start && cls[(unsigned char)
			    s[run - 1]] != 1; run--)
				;
			for (end = q; end < n && cls[(unsigned char)s[end]] !=
			    1; end++)
				;
			start = run;
		}
		if ((rc = rx_match(uri_rx, s, end, start, &so, &eo)) !=
		    RX_MATCH) {
			if (rc != RX_NOMATCH)
				break;	/* a limit ends the scan, as before */
			start = end;	/* this run holds no more */
			continue;
		}
		p = s + so;
		len = eo - so;
		start = eo > so ? eo : eo + 1;
		/* ")" ends a URI unless a "(" came before it. */
		paren = memchr(p, ')', len);
		if (paren != NULL && memchr(p, '(', (size_t)(paren - p)) == NULL)
			len = (size_t)(paren - p);
		while (len > 0 && strchr("-~!@#^&*()_+=:;'?,.", p[len - 1]))
			len--;
		if (len == 0)
			continue;
		scheme = g_ascii_strncasecmp(p, "http", 4) == 0 ||
		    g_ascii_strncasecmp(p, "ftp", 3) == 0 ||
		    g_ascii_strncasecmp(p, "www", 3) == 0 ||
		    g_ascii_strncasecmp(p, "mailto:", 7) == 0;
		if (g_ascii_strncasecmp(p, "cid:", 4) == 0 ||
		    g_ascii_strncasecmp(p, "mid:", 4) == 0)
			continue;
		for (k = 0; k < len && g_ascii_isalnum(p[k]); k++)
			;
		if (k < len && p[k] == ':') {
			size_t q = k + 1;

			while (q < len && p[q] == '/')
				q++;
			if (q == len)
				continue;	/* "http://" alone */
		}
		if (g_ascii_strncasecmp(p, "http:", 5) == 0 ||
		    g_ascii_strncasecmp(p, "https:", 6) == 0 ||
		    g_ascii_strncasecmp(p, "ftp:", 4) == 0 ||
		    g_ascii_strncasecmp(p, "mailto:", 7) == 0) {
			uri_add(a, u, p, len);
			continue;
		}
		if (scheme && g_ascii_strncasecmp(p, "ftp.", 4) == 0) {
			uri_add(a, u, cat3(a, "ftp://", 6, p, len, "", 0),
			    len + 6);
			continue;
		}
		if (scheme) {
			uri_add(a, u, cat3(a, "http://", 7, p, len, "", 0),
			    len + 7);
			continue;
		}
		/* A mail address: needs a dot after the @. */
		{
			const char *at = memchr(p, '@', len);
			const char *slash = memchr(p, '/', len);

			if (at == NULL) {
				if (host_has_tld(p, len))
					uri_add(a, u, cat3(a, "http://", 7,
					    p, len, "", 0), len + 7);
				continue;
			}
			if (slash != NULL && slash < at) {
				uri_add(a, u, cat3(a, "http://", 7, p,
				    len, "", 0), len + 7);
				continue;
			}
			if (memchr(at + 1, '.', len - (size_t)(at + 1 - p)) ==
			    NULL || at + 1 == p + len)
				continue;
			uri_add(a, u, cat3(a, "mailto:", 7, p, len, "", 0),
			    len + 7);
		}
	}
}

/* --- MIME part headers, for mimeheader rules */

/* One part's headers as Message.pm stores them: the raw value after
 * "Name:" and its white space, line ends as LF, ending in "\n"; the
 * decoded value unfolded and trimmed. */
static void
part_headers(struct arena *a, GMimeObject *o, struct rules_mpart *out)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	struct rules_hdr *h = arena_alloc(a, ((size_t)n + 1) * sizeof(*h));

	for (int i = 0; i < n; i++) {
		GMimeHeader *gh = g_mime_header_list_get_header_at(hl, i);
		const char *raw = g_mime_header_get_raw_value(gh);
		char *lf, *val, *w;
		size_t len;

		raw = raw != NULL ? raw : "";
		while (g_ascii_isspace(*raw))
			raw++;
		lf = lf_copy(a, raw, strlen(raw), &len);
		while (len > 0 && lf[len - 1] == '\n')
			lf[--len] = '\0';
		h[i].name = arena_strdup(a, g_mime_header_get_name(gh));
		h[i].raw = with_nl(a, lf);
		/* Unfolded (line ends dropped), RFC 2047 decoded, trimmed,
		 * as the view's top-level values. */
		val = w = arena_strdup(a, lf);
		for (const char *q = lf; *q != '\0'; q++)
			if (*q != '\n')
				*w++ = *q;
		*w = '\0';
		if (strstr(val, "=?") != NULL) {
			char *dec = g_mime_utils_header_decode_text(NULL, val);

			if (dec != NULL)
				val = arena_strdup(a, dec);
			g_free(dec);
		}
		h[i].value = g_strstrip(val);
		h[i].value_nl = with_nl(a, h[i].value);
	}
	out->hdrs = h;
	out->nhdrs = (size_t)n;
}

/* Depth first below a multipart, as Node.pm's find_parts(): each part,
 * then the parts inside it. */
static void
walk_parts(struct arena *a, GMimeObject *o, GArray *out)
{
	struct rules_mpart p;

	part_headers(a, o, &p);
	g_array_append_val(out, p);
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk_parts(a, g_mime_multipart_get_part(mp, i), out);
	}
}

/* The message (its own headers) and every MIME part below it. */
/*
 * Whether the message's own header may make it a multipart: only then has
 * it MIME parts besides itself.  Any Content-Type field that mentions
 * multipart counts, however GMime would read it.
 */
static bool
maybe_multipart(const struct rules_input *in)
{
	for (size_t i = 0; i < in->nhdrs; i++) {
		const struct rules_hdr *h = &in->hdrs[i];

		if (strcasecmp(h->name, "Content-Type") == 0 &&
		    ((h->raw != NULL && strcasestr(h->raw, "multipart")) ||
		    (h->value != NULL && strcasestr(h->value, "multipart"))))
			return true;
	}
	return false;
}

static void
build_mparts(struct msg *m, struct rules_input *in)
{
	struct arena *a = msg_arena(m);
	GArray *v = g_array_new(FALSE, FALSE, sizeof(struct rules_mpart));
	struct rules_mpart root = { .hdrs = in->hdrs, .nhdrs = in->nhdrs };
	size_t len;
	const unsigned char *raw = msg_raw(m, &len);
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *gm;
	struct rules_mpart *out;

	g_array_append_val(v, root);
	if (!maybe_multipart(in)) {
		/* One part, the message: no second parse to find that. */
		out = arena_alloc(a, sizeof(*out));
		out[0] = root;
		in->mparts = out;
		in->nmparts = 1;
		g_array_free(v, TRUE);
		return;
	}
	mime_init();
	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	gm = g_mime_parser_construct_message(parser, NULL);
	if (gm != NULL) {
		GMimeObject *top = g_mime_message_get_mime_part(gm);

		/* The top part is the message itself: its children only. */
		if (top != NULL && GMIME_IS_MULTIPART(top)) {
			GMimeMultipart *mp = GMIME_MULTIPART(top);
			int n = g_mime_multipart_get_count(mp);

			for (int i = 0; i < n; i++)
				walk_parts(a, g_mime_multipart_get_part(mp, i),
				    v);
		}
		g_object_unref(gm);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	out = arena_alloc(a, v->len * sizeof(*out));
	memcpy(out, v->data, v->len * sizeof(*out));
	in->mparts = out;
	in->nmparts = v->len;
	g_array_free(v, TRUE);
}

static bool
is_rendered(const struct mpart *p)
{
	return p->text != NULL && (strcmp(p->type, "text/plain") == 0 ||
	    strcmp(p->type, "text/html") == 0);
}

void
rules_input_build(struct msg *m, const struct rules_limits *lim,
    bool want_mparts, struct rules_input *in)
{
	struct arena *a = msg_arena(m);
	const struct mview *v = msg_view(m);
	struct rules_hdr *h;
	struct chunks body = { 0 }, raw = { 0 };
	const char *subject = NULL, *from;
	const char **uris;
	GString *text;
	size_t n;

	memset(in, 0, sizeof(*in));
	/* Headers. */
	h = arena_alloc(a, (v->nhdrs + 1) * sizeof(*h));
	for (size_t i = 0; i < v->nhdrs; i++) {
		const struct mhdr *mh = &v->hdrs[i];
		const char *r = mh->raw != NULL ? mh->raw : "";
		char *lf = lf_copy(a, r, strlen(r), NULL);
		char *val = arena_strdup(a, mh->value != NULL ? mh->value : r);

		h[i].name = mh->name;
		/* As Message.pm stores it: after the colon, leading space
		 * and folding kept, ending in "\n". */
		h[i].raw = cat3(a, " ", lf[0] == ' ' || lf[0] == '\t' ||
		    lf[0] == '\0' ? 0 : 1, lf, SIZE_MAX, "\n", 1);
		h[i].value = g_strstrip(val);
		if (g_ascii_strcasecmp(mh->name, "Subject") == 0)
			subject = h[i].value;	/* the last one, as get_header */
	}
	in->hdrs = h;
	in->nhdrs = v->nhdrs;
	in->hidx = rules_hidx_build(a, h, v->nhdrs);
	if (want_mparts) {
		/* mimeheader rules see the message's own headers too. */
		for (size_t i = 0; i < v->nhdrs; i++)
			h[i].value_nl = with_nl(a, h[i].value);
		build_mparts(m, in);
	}
	from = msg_mail_from(m);
	/* A sender guessed from the headers is no envelope: EnvelopeFrom
	 * is then found as SpamAssassin finds it (rules_relay.c). */
	in->envelope_from = msg_mail_from_guessed(m) ? NULL : from;

	/* Body: subject, then the rendered text of each text part. */
	text = g_string_new(NULL);
	for (size_t i = 0; i < v->nparts; i++) {
		const struct mpart *p = &v->parts[i];

		if (!is_rendered(p))
			continue;
		size_t len;
		char *lf = lf_copy(a, p->text, p->text_len, &len);

		if (text->len > 0)
			g_string_append_c(text, '\n');
		/* LF line ends, as SpamAssassin reads messages: a CR left
		 * in would become a space before each paragraph break. */
		g_string_append_len(text, lf, scan_cut(lf, len, lim->body_scan,
		    false));
	}
	n = collapse(text->str, text->len);
	{
		const char *subj = subject != NULL ? with_nl(a, subject) :
		    "\n";
		char *all = arena_alloc(a, strlen(subj) + n + 1);

		memcpy(all, subj, strlen(subj));
		memcpy(all + strlen(subj), text->str, n);
		split_lines(a, &body, all, strlen(subj) + n, -1);
	}
	g_string_free(text, TRUE);
	in->body = body.v;
	in->nbody = body.n;

	/* Rawbody: transfer-decoded text parts, not rendered. */
	for (size_t i = 0; i < v->nparts; i++) {
		const struct mpart *p = &v->parts[i];
		size_t len;
		char *lf;

		if (strncmp(p->type, "text/", 5) != 0 &&
		    strncmp(p->type, "message/", 8) != 0)
			continue;
		if (strcmp(p->type, "text/calendar") == 0 || p->data == NULL)
			continue;
		lf = lf_copy(a, (const char *)p->data, p->size, &len);
		len = scan_cut(lf, len, lim->raw_scan, true);
		split_paras(a, &raw, lf, len, (int)i);
	}
	in->rawbody = raw.v;
	in->nrawbody = raw.n;

	/* URIs: the view's (HTML links and text, normalised), then those
	 * SpamAssassin's text parser finds, each once. */
	{
		struct uris u = {
			.v = g_ptr_array_new(),
			.seen = g_hash_table_new(g_str_hash, g_str_equal),
		};

		for (size_t i = 0; i < v->nurls; i++)
			uri_add(a, &u, v->urls[i].url, strlen(v->urls[i].url));
		for (size_t i = 0; i < in->nbody; i++)
			uri_scan(a, &u, lim, in->body[i].p, in->body[i].len);
		uris = arena_alloc(a, (u.v->len + 1) * sizeof(*uris));
		if (u.v->len > 0)	/* pdata is NULL when empty */
			memcpy(uris, u.v->pdata, u.v->len * sizeof(*uris));
		in->uris = uris;
		in->nuris = u.v->len;
		g_ptr_array_free(u.v, TRUE);
		g_hash_table_destroy(u.seen);
	}

	/* The whole message. */
	{
		size_t len;
		const unsigned char *r = msg_raw(m, &len);

		in->full = lf_copy(a, (const char *)r, len, &in->full_len);
		in->no_separator = msg_no_separator(m);
	}
}
