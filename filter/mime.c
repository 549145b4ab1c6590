/*
 * mime.c - the flat view, built once per message.  GMime parses; this
 * file only walks the tree, decodes into UTF-8 and copies what the checks
 * read into the message arena, within fixed limits on parts and depth so
 * that hostile nesting costs bounded work.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "html.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "mime.h"
#include "msg.h"
#include "msg_private.h"
#include "url.h"

#define MAX_PARTS	500
#define MAX_DEPTH	20
#define MAX_URLS	2000
#define MAX_TEXT	(4u << 20)	/* bytes of decoded text kept per message */

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void
mime_init_once(void)
{
	g_mime_init();
	url_init();
}

void
mime_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

char *
mime_utf8(struct arena *a, const char *s, size_t n, size_t *len_r)
{
	char *out = arena_alloc(a, n * 3 + 1), *o = out;
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *bad;

		if (g_utf8_validate(p, end - p, &bad)) {
			memcpy(o, p, (size_t)(end - p));
			o += end - p;
			break;
		}
		memcpy(o, p, (size_t)(bad - p));
		o += bad - p;
		if (*bad == '\0')
			*o++ = ' ';
		else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		p = bad + 1;
	}
	*o = '\0';
	if (len_r)
		*len_r = (size_t)(o - out);
	return out;
}

/* State of one view build. */
struct build {
	struct msg	*m;
	struct arena	*a;
	struct mpart	*parts;
	size_t		 nparts, partcap;
	struct murl	*urls;
	size_t		 nurls, urlcap;
	GString		*body;
	unsigned	 warnings;	/* GMime parser warnings */
	unsigned	 content_fields;	/* Content-* fields walked */
};

static void
add_url(struct build *b, const char *s, size_t n, unsigned src,
    const char *anchor)
{
	struct murl u;

	if (b->nurls >= MAX_URLS || !url_normalize(b->a, s, n, &u))
		return;
	u.src = src;
	u.anchor_text = anchor;
	for (size_t i = 0; i < b->nurls; i++)
		if (strcmp(b->urls[i].url, u.url) == 0) {
			b->urls[i].src |= src;
			return;
		}
	b->urls = arena_grow(b->a, b->urls, b->nurls, &b->urlcap,
	    sizeof(*b->urls));
	b->urls[b->nurls++] = u;
}

static void
text_url(void *arg, const char *s, size_t n)
{
	add_url(arg, s, n, MURL_TEXT, NULL);
}

static struct mpart *
new_part(struct build *b)
{
	b->parts = arena_grow(b->a, b->parts, b->nparts, &b->partcap,
	    sizeof(*b->parts));
	return &b->parts[b->nparts++];
}

static const char *
sniff(const unsigned char *d, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *type;
	} magic[] = {
		{ "MZ", 2, "application/x-dosexec" },
		{ "\x7f" "ELF", 4, "application/x-executable" },
		{ "PK\x03\x04", 4, "application/zip" },
		{ "%PDF-", 5, "application/pdf" },
		{ "Rar!\x1a\x07", 6, "application/vnd.rar" },
		{ "7z\xbc\xaf\x27\x1c", 6, "application/x-7z-compressed" },
		{ "\x1f\x8b", 2, "application/gzip" },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "application/x-ole-storage" },
		{ "{\\rtf", 5, "text/rtf" },
		{ "\x89PNG", 4, "image/png" },
		{ "GIF8", 4, "image/gif" },
		{ "\xff\xd8\xff", 3, "image/jpeg" },
	};

	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if (n >= magic[i].len && memcmp(d, magic[i].magic, magic[i].len) == 0)
			return magic[i].type;
	return NULL;
}

/* Transfer-decodes a leaf part's content into a GByteArray. */
static GByteArray *
part_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *out;
	GByteArray *arr;

	if (w == NULL)
		return NULL;
	arr = g_byte_array_new();
	out = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	g_mime_data_wrapper_write_to_stream(w, out);
	g_object_unref(out);
	return arr;
}

/*
 * Converters to UTF-8, kept between messages: opening one costs more than
 * converting a whole part (glibc loads and initialises a gconv module).
 * A converter is used by one thread at a time: taken from the pool under
 * the lock, given back after the conversion.
 */
#define ICONV_POOL	16

static struct {
	char	 name[40];
	iconv_t	 cd;
	bool	 busy;
} iconv_pool[ICONV_POOL];
static pthread_mutex_t iconv_lock = PTHREAD_MUTEX_INITIALIZER;

static iconv_t
conv_take(const char *name, int *slot_r)
{
	*slot_r = -1;
	/* An empty name (charset*=x'y' decodes to one) means the locale's
	 * charset to iconv, which says nothing of the text: unknown.  The
	 * pool marks free slots by an empty name, too. */
	if (name[0] == '\0')
		return (iconv_t)-1;
	if (strlen(name) >= sizeof(iconv_pool[0].name))
		return iconv_open("UTF-8", name);
	pthread_mutex_lock(&iconv_lock);
	for (int i = 0; i < ICONV_POOL; i++)
		if (!iconv_pool[i].busy && iconv_pool[i].name[0] != '\0' &&
		    strcmp(iconv_pool[i].name, name) == 0) {
			iconv_pool[i].busy = true;
			*slot_r = i;
			pthread_mutex_unlock(&iconv_lock);
			/* Back to the initial shift state. */
			iconv(iconv_pool[i].cd, NULL, NULL, NULL, NULL);
			return iconv_pool[i].cd;
		}
	pthread_mutex_unlock(&iconv_lock);
	return iconv_open("UTF-8", name);
}

static void
conv_give(const char *name, iconv_t cd, int slot)
{
	if (slot >= 0) {
		pthread_mutex_lock(&iconv_lock);
		iconv_pool[slot].busy = false;
		pthread_mutex_unlock(&iconv_lock);
		return;
	}
	pthread_mutex_lock(&iconv_lock);
	for (int i = 0; i < ICONV_POOL; i++)
		if (iconv_pool[i].name[0] == '\0' &&
		    strlen(name) < sizeof(iconv_pool[i].name)) {
			strcpy(iconv_pool[i].name, name);
			iconv_pool[i].cd = cd;
			cd = (iconv_t)-1;
			break;
		}
	pthread_mutex_unlock(&iconv_lock);
	if (cd != (iconv_t)-1)
		iconv_close(cd);	/* the pool is full */
}

/*
 * Converts s[0..n) from the iconv charset name to UTF-8 into the arena, as
 * g_convert() does: NULL when the charset is unknown, or the input has an
 * invalid or incomplete sequence.
 */
static char *
convert(struct arena *a, const char *name, const char *s, size_t n,
    size_t *len_r)
{
	int slot;
	iconv_t cd = conv_take(name, &slot);
	size_t cap, inleft = n;
	char *in = (char *)s, *out, *o;
	bool ok = true;

	if (cd == (iconv_t)-1)
		return NULL;
	/* Four bytes of UTF-8 a byte is enough for every charset but the
	 * odd escape-heavy one; a longer result grows the buffer. */
	cap = n * 4 + 16;
	out = o = arena_alloc(a, cap);
	for (;;) {
		size_t outleft = cap - 1 - (size_t)(o - out);

		if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1) {
			/* Flush a stateful encoding's pending shift. */
			if (iconv(cd, NULL, NULL, &o, &outleft) != (size_t)-1)
				break;
		}
		if (errno != E2BIG) {
			ok = false;
			break;
		}
		{
			size_t used = (size_t)(o - out);
			char *bigger = arena_alloc(a, cap * 2);

			memcpy(bigger, out, used);
			out = bigger;
			o = out + used;
			cap *= 2;
		}
	}
	conv_give(name, cd, slot);
	if (!ok)
		return NULL;
	*o = '\0';
	*len_r = (size_t)(o - out);
	return out;
}

/* Is s[0..n) UTF-8 without NULs, fit to be used as it is? */
static bool
clean_utf8(const char *s, size_t n)
{
	return memchr(s, '\0', n) == NULL && g_utf8_validate(s, (gssize)n, NULL);
}

/*
 * Converts text in charset to UTF-8 in the arena.  s[0..n) is in the
 * message's arena with a NUL after it: when it is already clean UTF-8 it
 * is the result, without a copy.
 */
static const char *
to_utf8(struct arena *a, const char *charset, const char *s, size_t n,
    size_t *len_r)
{
	if (n == 0 || s == NULL) {
		*len_r = 0;
		return "";
	}
	if (memchr(s, '\0', n) != NULL) {
		/* NULs would end the text early in every C string API below. */
		char *copy = arena_strndup(a, s, n);

		for (size_t i = 0; i < n; i++)
			if (copy[i] == '\0')
				copy[i] = ' ';
		s = copy;
	}
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		const char *iconv_name = g_mime_charset_iconv_name(charset);
		size_t outlen = 0;
		char *conv = convert(a, iconv_name, s, n, &outlen);

		if (conv != NULL && clean_utf8(conv, outlen)) {
			*len_r = outlen;
			return conv;
		}
		if (conv != NULL)
			return mime_utf8(a, conv, outlen, len_r);
	}
	if (g_utf8_validate(s, (gssize)n, NULL)) {
		*len_r = n;
		return s;
	}
	{
		/* Undeclared or wrong charset: let GMime guess (it tries the
		 * user charsets, then Latin-1). */
		char *guess = g_mime_utils_decode_8bit(NULL, s, n);

		if (guess != NULL) {
			char *r = mime_utf8(a, guess, strlen(guess), len_r);

			g_free(guess);
			return r;
		}
	}
	return mime_utf8(a, s, n, len_r);
}

static void
body_append(struct build *b, const char *t, size_t n)
{
	if (b->body->len >= MAX_TEXT)
		return;
	if (b->body->len > 0)
		g_string_append_c(b->body, '\n');
	g_string_append_len(b->body, t, (gssize)MIN(n, MAX_TEXT - b->body->len));
}

static void
leaf(struct build *b, GMimeObject *obj, unsigned depth)
{
	GMimePart *part = GMIME_PART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	struct mpart *p;
	GByteArray *arr;
	char *type;
	const char *fn, *cs;

	if (b->nparts >= MAX_PARTS)
		return;
	p = new_part(b);
	p->depth = depth;
	type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	p->type = arena_strdup(b->a, type);
	for (char *q = (char *)p->type; *q; q++)
		*q = g_ascii_tolower(*q);
	g_free(type);
	cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
	p->charset = arena_strdup(b->a, cs);
	fn = g_mime_part_get_filename(part);
	p->filename = fn ? mime_utf8(b->a, fn, strlen(fn), NULL) : NULL;
	if (cd != NULL && g_mime_content_disposition_get_disposition(cd) != NULL)
		p->disposition = arena_strdup(b->a,
		    g_mime_content_disposition_get_disposition(cd));
	switch (g_mime_part_get_content_encoding(part)) {
	case GMIME_CONTENT_ENCODING_BASE64: p->encoding = "base64"; break;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: p->encoding = "quoted-printable"; break;
	case GMIME_CONTENT_ENCODING_UUENCODE: p->encoding = "x-uuencode"; break;
	case GMIME_CONTENT_ENCODING_8BIT: p->encoding = "8bit"; break;
	case GMIME_CONTENT_ENCODING_BINARY: p->encoding = "binary"; break;
	default: p->encoding = NULL; break;
	}
	p->is_attachment = p->filename != NULL ||
	    (p->disposition && g_ascii_strcasecmp(p->disposition, "attachment") == 0);
	p->is_html = strcmp(p->type, "text/html") == 0;
	p->is_text = !p->is_attachment &&
	    (p->is_html || strcmp(p->type, "text/plain") == 0);

	arr = part_bytes(part);
	if (arr == NULL)
		return;
	/* NUL-terminated, so that clean UTF-8 text is its own text. */
	p->data = (const unsigned char *)arena_strndup(b->a,
	    (const char *)arr->data, arr->len);
	p->size = arr->len;
	g_byte_array_free(arr, TRUE);
	p->sniffed_type = sniff(p->data, p->size);
	if (p->is_text) {
		size_t tl;
		const char *t = to_utf8(b->a, p->charset,
		    (const char *)p->data, p->size, &tl);

		if (p->is_html) {
			struct html_out h;

			p->html = t;
			p->html_len = tl;
			html_render(b->a, t, tl, &h);
			p->text = h.text;
			p->text_len = h.len;
			p->html_images = h.images;
			p->html_forms = h.forms;
			p->html_links = h.anchors;
			p->html_hidden_chars = h.hidden_chars;
			for (size_t i = 0; i < h.nlinks; i++)
				add_url(b, h.links[i].url, strlen(h.links[i].url),
				    h.links[i].kind, h.links[i].anchor);
		} else {
			p->text = t;
			p->text_len = tl;
		}
		url_scan_text(p->text, p->text_len, text_url, b);
		body_append(b, p->text, p->text_len);
	}
}

static void walk(struct build *, GMimeObject *, unsigned);

/* Counts obj's Content-* fields into b->content_fields. */
static void
count_content_fields(struct build *b, GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;

	for (int i = 0; i < n; i++) {
		const char *name = g_mime_header_get_name(
		    g_mime_header_list_get_header_at(hl, i));

		if (name != NULL && g_ascii_strncasecmp(name, "Content-", 8) == 0)
			b->content_fields++;
	}
}

static void
walk(struct build *b, GMimeObject *obj, unsigned depth)
{
	/* Each part is a safe point for the message's budget. */
	if (obj == NULL || depth > MAX_DEPTH || b->nparts >= MAX_PARTS ||
	    msg_budget_spent())
		return;
	count_content_fields(b, obj);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk(b, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL) {
			count_content_fields(b, GMIME_OBJECT(inner));
			walk(b, g_mime_message_get_mime_part(inner), depth + 1);
		}
	} else if (GMIME_IS_PART(obj))
		leaf(b, obj, depth);
}

/* Unfolds a raw header value (drops CR/LF) and decodes RFC 2047 words. */
static const char *
decode_header(struct arena *a, const char *raw)
{
	size_t n = strlen(raw), o = 0;
	char *unf = arena_alloc(a, n + 1);
	char *dec;
	const char *r;

	for (size_t i = 0; i < n; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			unf[o++] = raw[i];
	unf[o] = '\0';
	while (*unf == ' ' || *unf == '\t')
		unf++;
	/* Most values have no encoded words: plain ASCII or UTF-8 is kept
	 * as it is, without GMime's charset guessing. */
	if (strstr(unf, "=?") == NULL && g_utf8_validate(unf, -1, NULL))
		return unf;
	dec = g_mime_utils_header_decode_text(NULL, unf);
	r = mime_utf8(a, dec ? dec : unf, strlen(dec ? dec : unf), NULL);
	g_free(dec);
	return r;
}

/* Does GMime need this top-level field to build the MIME tree? */
static bool
is_mime_field(const char *name)
{
	return g_ascii_strncasecmp(name, "Content-", 8) == 0;
}

/*
 * The top-level header fields GMime needs, as "Name: value" lines with
 * CRLF line ends (as msg.c spools them), then the empty line.  Only the
 * Content-* fields shape the MIME tree: leaving out the others (Received,
 * DKIM-Signature, address and date fields) spares GMime an object for
 * each and the parsing of address lists and dates nobody reads from its
 * tree; the view's headers come from the message's own list.
 */
static char *
mime_headers(struct arena *a, const struct mhdr *h, size_t nh, size_t *len_r)
{
	size_t cap = 3, o = 0;
	char *out;

	for (size_t i = 0; i < nh; i++)
		if (is_mime_field(h[i].name))
			cap += strlen(h[i].name) + 2 * strlen(h[i].raw) + 5;
	out = arena_alloc(a, cap);
	for (size_t i = 0; i < nh; i++) {
		const char *r = h[i].raw;
		size_t nl = strlen(h[i].name);

		if (!is_mime_field(h[i].name))
			continue;
		memcpy(out + o, h[i].name, nl);
		o += nl;
		out[o++] = ':';
		if (r[0] != ' ' && r[0] != '\t')
			out[o++] = ' ';
		for (; *r != '\0'; r++) {
			if (*r != '\r' && *r != '\n') {
				out[o++] = *r;
				continue;
			}
			out[o++] = '\r';
			out[o++] = '\n';
			if (r[0] == '\r' && r[1] == '\n')
				r++;
		}
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '\r';
	out[o++] = '\n';
	*len_r = o;
	return out;
}

static void
parser_warning(gint64 offset, GMimeParserWarning errcode, const gchar *item,
    gpointer arg)
{
	struct build *b = arg;

	(void)offset;
	(void)errcode;
	(void)item;
	b->warnings++;
}

/*
 * The MIME tree of m: its Content-* fields, then its body, read by GMime
 * in place (the body stays in the spool).  Returns the top part, or NULL
 * when GMime cannot parse it; the tree reads from the two byte arrays
 * set in ba_r, which the caller frees (not their bytes) after unreffing
 * the tree.
 */
static GMimeObject *
parse_body(struct msg *m, struct build *b, const struct mhdr *hdrs, size_t nh,
    GByteArray *ba_r[2])
{
	size_t hlen, blen;
	const char *head = mime_headers(b->a, hdrs, nh, &hlen);
	const unsigned char *body = msg_body(m, &blen);
	GByteArray *hb, *bb;
	GMimeStream *hs, *bs, *cat;
	GMimeParser *parser;
	GMimeParserOptions *po;
	GMimeObject *top;

	/* The byte arrays borrow the arena's and the spool's bytes. */
	ba_r[0] = hb = g_byte_array_new_take((guint8 *)head, hlen);
	ba_r[1] = bb = g_byte_array_new_take((guint8 *)body, blen);
	hs = g_mime_stream_mem_new_with_byte_array(hb);
	bs = g_mime_stream_mem_new_with_byte_array(bb);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(hs), FALSE);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(bs), FALSE);
	cat = g_mime_stream_cat_new();
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), hs);
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), bs);
	parser = g_mime_parser_new_with_stream(cat);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	/* Its warnings (defects) are counted for the view. */
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, parser_warning, b);
	top = g_mime_parser_construct_part(parser, po);
	g_mime_parser_options_free(po);
	g_object_unref(parser);
	g_object_unref(cat);
	g_object_unref(hs);
	g_object_unref(bs);
	return top;
}

struct mview *
mime_build_view(struct msg *m, const unsigned char *raw, size_t len)
{
	struct arena *a = msg_arena(m);
	struct mview *v = arena_alloc(a, sizeof(*v));
	struct build b = { .m = m, .a = a };
	struct mhdr *hdrs;
	size_t nh;
	GMimeObject *top;
	GByteArray *ba[2];

	mime_init();
	b.body = g_string_new(NULL);
	/* Headers: decoded from what was received. */
	hdrs = msg_hdrs_mutable(m, &nh);
	for (size_t i = 0; i < nh; i++)
		hdrs[i].value = decode_header(a, hdrs[i].raw);
	v->hdrs = hdrs;
	v->nhdrs = nh;
	v->subject = "";
	for (size_t i = 0; i < nh; i++)
		if (g_ascii_strcasecmp(hdrs[i].name, "Subject") == 0) {
			v->subject = hdrs[i].value;
			break;
		}

	/* GMime builds the MIME tree only (see mime_headers()). */
	top = parse_body(m, &b, hdrs, nh, ba);
	if (top != NULL)
		walk(&b, top, 0);
	else {
		/* Scanned as raw text: everything after the first blank line
		 * (or all of it) is the body. */
		const unsigned char *body = raw;
		size_t blen = len;
		const unsigned char *sep = memmem(raw, len, "\r\n\r\n", 4);
		char *t;
		size_t tl;

		if (sep != NULL) {
			body = sep + 4;
			blen = len - (size_t)(body - raw);
		}
		v->parse_error = true;
		v->parse_error_why = "no message could be parsed";
		t = mime_utf8(a, (const char *)body, MIN(blen, MAX_TEXT), &tl);
		url_scan_text(t, tl, text_url, &b);
		body_append(&b, t, tl);
	}
	if (top != NULL)
		g_object_unref(top);
	g_byte_array_free(ba[0], FALSE);	/* the bytes are the arena's */
	g_byte_array_free(ba[1], FALSE);	/* and the spool's */

	v->parts = b.parts;
	v->nparts = b.nparts;
	v->urls = b.urls;
	v->nurls = b.nurls;
	v->mime_warnings = b.warnings;
	v->content_fields = b.content_fields;
	v->body_text = arena_strndup(a, b.body->str, b.body->len);
	v->body_len = b.body->len;
	g_string_free(b.body, TRUE);
	return v;
}

char *
mime_body_text(struct arena *a, const unsigned char *raw, size_t len,
    size_t *len_r)
{
	struct build b = { .m = NULL, .a = a };
	GByteArray *arr;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *gm;
	char *text;

	mime_init();
	b.body = g_string_new(NULL);
	arr = g_byte_array_new_take((guint8 *)raw, len);
	stream = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	gm = g_mime_parser_construct_message(parser, NULL);
	if (gm != NULL && g_mime_message_get_mime_part(gm) != NULL)
		walk(&b, g_mime_message_get_mime_part(gm), 0);
	if (gm != NULL)
		g_object_unref(gm);
	g_object_unref(parser);
	g_object_unref(stream);
	g_byte_array_free(arr, FALSE);	/* the bytes are the caller's */
	if (b.body->len == 0) {
		g_string_free(b.body, TRUE);
		return NULL;
	}
	text = arena_strndup(a, b.body->str, b.body->len);
	*len_r = b.body->len;
	g_string_free(b.body, TRUE);
	return text;
}
