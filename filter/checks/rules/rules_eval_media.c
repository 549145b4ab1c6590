/*
 * rules_eval_media.c - SpamAssassin's image and PDF eval: tests
 * (Mail::SpamAssassin::Plugin::ImageInfo and PDFInfo), with their
 * meaning: the GIF, PNG and JPEG leaves' dimensions read from their
 * headers, and each PDF leaf's lines read as PDFInfo reads them (image
 * dimensions, the document's details, encryption, its MD5s).
 *
 * What the parts hold is found once a message, on the first call that
 * asks, and kept with rules_eval_mime.c's MIME tree (dropped with it by
 * rules_evalfn_reset()).  Hostile input: each image and PDF is read up
 * to MEDIA_MAX_BYTES of its decoded body; every reader checks its bounds
 * before each read (a truncated or corrupt image has no dimensions) and
 * walks its data once, so the cost stays linear in the part.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

/* What of an image or a PDF is read (a PDF beyond it: its start alone,
 * MD5 included). */
#define MEDIA_MAX_BYTES	(4u * 1024 * 1024)
/* PDFInfo's own bounds: the lines of the fuzzy MD5, a detail's length. */
#define PDF_FUZZY_LINES	70
#define PDF_DETAIL_MAX	256

enum img_type { IMG_GIF, IMG_PNG, IMG_JPEG, IMG_ALL, IMG_N };
static const char *const img_names[IMG_N] = { "gif", "png", "jpeg", "all" };

enum pdf_detail { PD_AUTHOR, PD_CREATOR, PD_CREATED, PD_MODIFIED,
	PD_PRODUCER, PD_TITLE, PD_N };
static const char *const pd_names[PD_N] = { "author", "creator", "created",
	"modified", "producer", "title" };

struct media {
	/* ImageInfo: images counted by type; area and "HxW" of those whose
	 * dimensions were read (a set is NULL until its first) */
	double		 img_count[IMG_N], img_area[IMG_N];
	GHashTable	*img_dims[IMG_N];
	GHashTable	*img_names;	/* of images with dimensions */
	/* PDFInfo */
	double		 pdf_count, pdf_images;
	double		 pdf_area;	/* the last PDF with images' total */
	bool		 pdf_area_set, pdf_encrypted;
	GHashTable	*pdf_names, *pdf_dims, *pdf_md5, *pdf_fuzzy;
	GHashTable	*pdf_details[PD_N];
};

static void
set_free(GHashTable *h)
{
	if (h != NULL)
		g_hash_table_destroy(h);
}

static void
media_free(gpointer p)
{
	struct media *m = p;

	for (int i = 0; i < IMG_N; i++)
		set_free(m->img_dims[i]);
	set_free(m->img_names);
	set_free(m->pdf_names);
	set_free(m->pdf_dims);
	set_free(m->pdf_md5);
	set_free(m->pdf_fuzzy);
	for (int i = 0; i < PD_N; i++)
		set_free(m->pdf_details[i]);
	g_free(m);
}

/* Adds s (n bytes, or -1: to its NUL) to the set *h, made if need be. */
static void
set_add(GHashTable **h, const char *s, gssize n)
{
	if (*h == NULL)
		*h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    NULL);
	g_hash_table_add(*h, n < 0 ? g_strdup(s) : g_strndup(s, (gsize)n));
}

/* Perl's truth of a string: neither empty nor "0". */
static bool
perl_true(const char *s)
{
	return s != NULL && s[0] != '\0' && strcmp(s, "0") != 0;
}

/* --- a part's name, as Message.pm finds it */

static char *
re_fetch(const char *pattern, unsigned flags, const char *s)
{
	GMatchInfo *mi = NULL;
	char *out = NULL;

	if (s != NULL && g_regex_match(rules_evalfn_re(pattern, flags), s, 0,
	    &mi))
		out = g_match_info_fetch(mi, 1);
	g_match_info_free(mi);
	return out;
}

/* RFC 2231 continuations of a Content-Type's name (name*0=, name*1=,
 * ...), joined in their order; NULL when none.  Parts numbered
 * NAME_PIECES or more are left out. */
#define NAME_PIECES	64
static char *
name_pieces(const char *ct)
{
	GMatchInfo *mi = NULL;
	char *piece[NAME_PIECES] = { NULL };
	GString *out;
	bool any = false;

	if (ct == NULL || !g_regex_match(rules_evalfn_re(
	    "\\b(?:file)?name\\*0\\s*=", G_REGEX_CASELESS), ct, 0, NULL))
		return NULL;
	g_regex_match(rules_evalfn_re("\\b(?:file)?name\\*(\\d+)\\s*=\\s*"
	    "[\"']?(.*?)[\"']?(?:;|$)", G_REGEX_CASELESS), ct, 0, &mi);
	for (; g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
		char *num = g_match_info_fetch(mi, 1);
		unsigned long k = strtoul(num, NULL, 10);

		if (strlen(num) < 4 && k < NAME_PIECES) {
			g_free(piece[k]);
			piece[k] = g_match_info_fetch(mi, 2);
			any = true;
		}
		g_free(num);
	}
	g_match_info_free(mi);
	if (!any)
		return NULL;
	out = g_string_new(NULL);
	for (size_t k = 0; k < NAME_PIECES; k++)
		if (piece[k] != NULL) {
			g_string_append(out, piece[k]);
			g_free(piece[k]);
		}
	return g_string_free(out, FALSE);
}

/* The Content-Disposition's name= (filename= too), else the
 * Content-Type's name= or filename=, or its RFC 2231 continuations
 * (Util.pm parse_content_type); NULL when none.  (Not RFC 2047
 * words.) */
static char *
part_name(const struct rules_mime_part *p)
{
	char *n = re_fetch("name=\\s*\"?([^\";]+)\"?", G_REGEX_CASELESS,
	    p->cd_raw);

	if (n == NULL)
		n = re_fetch("\\b(?:file)?name\\s*=\\s*[\"']?(.*?)[\"']?(?:;|$)",
		    G_REGEX_CASELESS, p->ct_raw);
	if (!perl_true(n)) {
		g_free(n);
		n = name_pieces(p->ct_raw);
	}
	if (n != NULL && !perl_true(n)) {
		g_free(n);
		n = NULL;
	}
	return n;
}

/* --- image headers */

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long
be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

/* GIF: the logical screen's width and height after "GIF87a"/"GIF89a". */
static bool
gif_dims(const unsigned char *d, size_t n, double *w_r, double *h_r)
{
	if (n < 10 || memcmp(d, "GIF8", 4) != 0 || (d[4] != '7' &&
	    d[4] != '9') || d[5] != 'a')
		return false;
	*w_r = d[6] | d[7] << 8;
	*h_r = d[8] | d[9] << 8;
	return true;
}

/*
 * PNG: ImageInfo walks 8 bytes (a chunk's length and type) at a time
 * from the signature until IEND or an IHDR of length 13, whose first
 * eight bytes are the width and height (read when the twelve bytes
 * before its CRC's place are there).  It does not skip a chunk's data:
 * nor does this, for the same answer.
 */
static bool
png_dims(const unsigned char *d, size_t n, double *w_r, double *h_r)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a,
	    0x1a, 0x0a };

	if (n < 8 || memcmp(d, sig, 8) != 0)
		return false;
	for (size_t pos = 8; pos < n; pos += 8) {
		if (n - pos < 8)
			return false;
		if (memcmp(d + pos + 4, "IEND", 4) == 0)
			return false;
		if (memcmp(d + pos + 4, "IHDR", 4) == 0 && be32(d + pos) ==
		    13) {
			if (n - (pos + 8) < 12)
				return false;
			*w_r = (double)be32(d + pos + 8);
			*h_r = (double)be32(d + pos + 12);
			return true;
		}
	}
	return false;
}

/* JPEG: the markers after SOI, each skipped by its length, up to the
 * first start of frame (C0-C3, C5-C7, C9-CB, CD-CF): its height and
 * width.  A scan or the end, a byte that is no marker, a length under 2
 * end the walk. */
static bool
jpeg_dims(const unsigned char *d, size_t n, double *w_r, double *h_r)
{
	size_t pos = 2;

	if (n < 2 || d[0] != 0xff || d[1] != 0xd8)
		return false;
	while (n - pos >= 4) {
		unsigned mark = d[pos + 1], len = be16(d + pos + 2);
		size_t blen;

		if (d[pos] != 0xff || mark == 0xda || mark == 0xd9 || len < 2)
			return false;
		pos += 4;
		blen = MIN((size_t)len - 2, n - pos);
		if ((mark >= 0xc0 && mark <= 0xc3) || (mark >= 0xc5 &&
		    mark <= 0xc7) || (mark >= 0xc9 && mark <= 0xcb) ||
		    (mark >= 0xcd && mark <= 0xcf)) {
			if (blen < 5)
				return false;
			*h_r = be16(d + pos + 1);
			*w_r = be16(d + pos + 3);
			return true;
		}
		pos += blen;
	}
	return false;
}

static void
image_part(struct media *m, const struct rules_input *in, size_t i,
    const struct rules_mime_part *p, enum img_type t)
{
	size_t n;
	/* a GIF's 13 bytes are all ImageInfo decodes of it */
	char *d = rules_eval_mime_decode(in, i, t == IMG_GIF ? 13 :
	    MEDIA_MAX_BYTES, &n);
	const unsigned char *u = (const unsigned char *)d;
	double w = 0, h = 0;
	bool ok;

	m->img_count[t]++;
	m->img_count[IMG_ALL]++;
	if (d == NULL)
		return;
	n = MIN(n, MEDIA_MAX_BYTES);
	ok = t == IMG_GIF ? gif_dims(u, n, &w, &h) : t == IMG_PNG ?
	    png_dims(u, n, &w, &h) : jpeg_dims(u, n, &w, &h);
	g_free(d);
	if (ok && w > 0 && h > 0) {
		char dim[48], *name = part_name(p);

		snprintf(dim, sizeof(dim), "%.0fx%.0f", h, w);
		m->img_area[t] += w * h;
		m->img_area[IMG_ALL] += w * h;
		set_add(&m->img_dims[t], dim, -1);
		set_add(&m->img_dims[IMG_ALL], dim, -1);
		if (name != NULL)
			set_add(&m->img_names, name, -1);
		g_free(name);
	}
}

/* --- PDF */

/* Perl's \s on bytes. */
static bool
pspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static bool
pdigit(int c)
{
	return c >= '0' && c <= '9';
}

/* Digits at *p (up to e): their start and length, *p past them. */
static size_t
digits(const char **p, const char *e)
{
	const char *s = *p;

	while (*p < e && pdigit(**p))
		(*p)++;
	return (size_t)(*p - s);
}

/* Does the line read "N N N N N N cm" (/^\d+(\s+\d+){5}\s+cm$/)?  Then
 * the first and fourth numbers' places. */
static bool
cm_line(const char *p, const char *e, const char **n1, size_t *l1,
    const char **n4, size_t *l4)
{
	for (int k = 0; k < 6; k++) {
		const char *s = p;
		size_t l;

		if (k > 0) {
			if (p == e || !pspace(*p))
				return false;
			while (p < e && pspace(*p))
				p++;
			s = p;
		}
		if ((l = digits(&p, e)) == 0)
			return false;
		if (k == 0) {
			*n1 = s;
			*l1 = l;
		} else if (k == 3) {
			*n4 = s;
			*l4 = l;
		}
	}
	if (p == e || !pspace(*p))
		return false;
	while (p < e && pspace(*p))
		p++;
	return e - p == 2 && p[0] == 'c' && p[1] == 'm';
}

static bool
starts(const char *p, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

/* /Width\s(\d+)/Height\s(\d+) anywhere in the line: the leftmost. */
static bool
width_height(const char *p, const char *e, const char **w, size_t *wl,
    const char **h, size_t *hl)
{
	const char *s;

	while ((s = memmem(p, (size_t)(e - p), "/Width", 6)) != NULL) {
		const char *q = s + 6;

		p = s + 1;
		if (q == e || !pspace(*q++))
			continue;
		*w = q;
		if ((*wl = digits(&q, e)) == 0 || !starts(q, e, "/Height"))
			continue;
		q += 7;
		if (q == e || !pspace(*q++))
			continue;
		*h = q;
		if ((*hl = digits(&q, e)) > 0)
			return true;
	}
	return false;
}

/* PDFInfo's _parse_string of a "(...)" or "<hex>" value: its bytes,
 * escapes and byte order mark undone, at most PDF_DETAIL_MAX. */
static char *
pdf_string(const char *s, size_t n)
{
	GString *o = g_string_sized_new(MIN(n, 2 * PDF_DETAIL_MAX));
	size_t i;

	if (n > 0 && s[0] == '<') {
		for (i = 0; i + 1 < n;) {
			int a = g_ascii_xdigit_value(s[i]),
			    b = g_ascii_xdigit_value(s[i + 1]);

			if (a >= 0 && b >= 0) {
				g_string_append_c(o, (char)(a << 4 | b));
				i += 2;
			} else
				i++;
		}
	} else {
		if (n > 0 && s[0] == '(') {
			s++;
			n--;
		}
		if (n > 0 && s[n - 1] == ')')
			n--;
		/* \ddd (0-3, 0-7, 0-7) not after a backslash: its byte */
		for (i = 0; i < n;) {
			if (s[i] == '\\' && (i == 0 || s[i - 1] != '\\') &&
			    i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
			    s[i + 2] >= '0' && s[i + 2] <= '7' &&
			    s[i + 3] >= '0' && s[i + 3] <= '7') {
				g_string_append_c(o, (char)((s[i + 1] - '0') *
				    64 + (s[i + 2] - '0') * 8 + s[i + 3] -
				    '0'));
				i += 4;
			} else
				g_string_append_c(o, s[i++]);
		}
	}
	if (o->len >= 2 && (((guchar)o->str[0] == 0xfe && (guchar)o->str[1] ==
	    0xff) || ((guchar)o->str[0] == 0xff && (guchar)o->str[1] ==
	    0xfe))) {
		size_t w = 0;

		for (i = 2; i < o->len; i++)
			if (o->str[i] != '\0')
				o->str[w++] = o->str[i];
		g_string_truncate(o, w);
	}
	return g_string_free(o, FALSE);
}

/* The "(...)" string's \( \) \\ undone, and the length cut. */
static char *
pdf_detail_value(const char *s, size_t n)
{
	char *v = pdf_string(s, n);

	if (n > 0 && s[0] != '<') {
		char *w = v;

		for (const char *r = v; *r != '\0'; r++) {
			if (r[0] == '\\' && (r[1] == '(' || r[1] == ')' ||
			    r[1] == '\\'))
				r++;
			*w++ = *r;
		}
		*w = '\0';
	}
	if (strlen(v) > PDF_DETAIL_MAX)
		v[PDF_DETAIL_MAX] = '\0';
	return v;
}

/*
 * /KEY\s{0,2}( \( .*? (?<!\\) \) | < [^>]* > ) in the line, the leftmost:
 * its value's place.  Linear: once no ')' (or '>') follows a place, no
 * later '(' (or '<') is tried.
 */
static bool
pdf_keyed(const char *p, const char *e, const char *key, const char **v_r,
    size_t *n_r)
{
	size_t kl = strlen(key);
	bool no_paren = false, no_angle = false;
	const char *s;

	while ((s = memmem(p, (size_t)(e - p), key, kl)) != NULL) {
		const char *q = s + kl, *c;

		p = s + 1;
		for (int k = 0; k < 2 && q < e && pspace(*q); k++)
			q++;
		if (q == e)
			return false;
		if (*q == '(' && !no_paren) {
			for (c = q + 1; c < e && (*c != ')' || c[-1] == '\\');
			    c++)
				;
			if (c < e) {
				*v_r = q;
				*n_r = (size_t)(c + 1 - q);
				return true;
			}
			no_paren = true;
		} else if (*q == '<' && !no_angle) {
			if ((c = memchr(q, '>', (size_t)(e - q))) != NULL) {
				*v_r = q;
				*n_r = (size_t)(c + 1 - q);
				return true;
			}
			no_angle = true;
		}
	}
	return false;
}

/* /KEY\s{0,2}\(D:(\d+): the digits. */
static bool
pdf_date(const char *p, const char *e, const char *key, const char **v_r,
    size_t *n_r)
{
	size_t kl = strlen(key);
	const char *s;

	while ((s = memmem(p, (size_t)(e - p), key, kl)) != NULL) {
		const char *q = s + kl;

		p = s + 1;
		for (int k = 0; k < 2 && q < e && pspace(*q); k++)
			q++;
		if (!starts(q, e, "(D:"))
			continue;
		q += 3;
		*v_r = q;
		if ((*n_r = digits(&q, e)) > 0)
			return true;
	}
	return false;
}

static char *
md5_upper(const char *d, size_t n)
{
	char *hex = g_compute_checksum_for_data(G_CHECKSUM_MD5,
	    (const guchar *)d, n);

	for (char *c = hex; *c != '\0'; c++)
		*c = g_ascii_toupper(*c);
	return hex;
}

/* Where "%PDF-d.d" starts within the first 1024 bytes and 1, or 0. */
static bool
pdf_header(const char *d, size_t n)
{
	for (size_t i = 0; i <= 1024 && i + 8 <= n; i++)
		if (d[i] == '%' && memcmp(d + i, "%PDF-", 5) == 0 &&
		    pdigit(d[i + 5]) && d[i + 6] == '.' && pdigit(d[i + 7]))
			return true;
	return false;
}

/* One PDF's lines (runs of bytes other than \n). */
static void
pdf_lines(struct media *m, const char *d, size_t n)
{
	static const char *const keyed[PD_N] = { "/Author", "/Creator", NULL,
	    NULL, "/Producer", "/Title" };
	GString *fuzzy = g_string_new(NULL), *tags = g_string_new(NULL);
	bool no_more_fuzzy = false, got_image = false;
	unsigned line_count = 0;
	double th = 0, tw = 0, ta = 0;
	const char *p = d, *end = d + n;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *a, *b;
		size_t al, bl;

		if (e == NULL)
			e = end;
		if (e == p) {
			p++;
			continue;
		}
		if (!no_more_fuzzy && ++line_count < PDF_FUZZY_LINES) {
			if (*p != '%' && !starts(p, e, "/Height") &&
			    !starts(p, e, "/Width") && !starts(p, e,
			    "/MediaBox") && !starts(p, e, "/CropBox") &&
			    !cm_line(p, e, &a, &al, &b, &bl)) {
				const char *t = e;

				while (t > p && pspace(t[-1]))
					t--;
				g_string_append_len(fuzzy, p, t - p);
			}
			if (memmem(p, (size_t)(e - p), "stream", 6) != NULL)
				no_more_fuzzy = true;
		}
		if (memmem(p, (size_t)(e - p), "/Image", 6) != NULL)
			got_image = true;
		if (!m->pdf_encrypted && starts(p, e, "/Encrypt"))
			m->pdf_encrypted = true;
		if (got_image) {
			const char *w = NULL, *h = NULL;
			size_t wl = 0, hl = 0;

			if (cm_line(p, e, &w, &wl, &h, &hl))
				;
			else if ((starts(p, e, "/Width") && e - p > 7 &&
			    pspace(p[6]) && pdigit(p[7])) || (starts(p, e,
			    "/Height") && e - p > 8 && pspace(p[7]) &&
			    pdigit(p[8])))
				w = h = NULL;	/* one of the two alone */
			else if (!width_height(p, e, &w, &wl, &h, &hl))
				w = h = NULL;
			if (w != NULL && h != NULL && !(wl == 1 && *w == '0') &&
			    !(hl == 1 && *h == '0')) {
				char *ws = g_strndup(w, wl), *hs = g_strndup(h,
				    hl), *dim = g_strdup_printf("%sx%s", hs, ws);
				double wv = g_ascii_strtod(ws, NULL);
				double hv = g_ascii_strtod(hs, NULL);

				no_more_fuzzy = true;
				th += hv;
				tw += wv;
				ta += wv * hv;
				set_add(&m->pdf_dims, dim, -1);
				m->pdf_images++;
				got_image = false;
				g_free(ws);
				g_free(hs);
				g_free(dim);
			}
		}
		if (memchr(p, '/', (size_t)(e - p)) != NULL) {
			if (*p == '/') {
				const char *t = p + 1;

				while (t < e && g_ascii_isalpha(*t))
					t++;
				g_string_append_len(tags, p + 1, t - p - 1);
			}
			for (int k = 0; k < PD_N; k++) {
				const char *v;
				size_t vl;
				bool found = keyed[k] != NULL ? pdf_keyed(p, e,
				    keyed[k], &v, &vl) : pdf_date(p, e,
				    k == PD_CREATED ? "/CreationDate" :
				    "/ModDate", &v, &vl);

				if (found) {
					char *val = pdf_detail_value(v, vl);

					set_add(&m->pdf_details[k], val, -1);
					g_free(val);
				}
			}
		}
		p = e;
	}
	if (th > 0 && tw > 0) {
		char *dim = g_strdup_printf("%.0fx%.0f", th, tw);

		set_add(&m->pdf_dims, dim, -1);
		g_free(dim);
	}
	if (ta > 0) {
		m->pdf_area = ta;
		m->pdf_area_set = true;
	}
	if (fuzzy->len > 0 && !(fuzzy->len == 1 && fuzzy->str[0] == '0')) {
		char *md5 = md5_upper(fuzzy->str, fuzzy->len);

		set_add(&m->pdf_fuzzy, md5, -1);
		g_free(md5);
	}
	if (tags->len > 0) {
		char *md5 = md5_upper(tags->str, tags->len);

		set_add(&m->pdf_fuzzy, md5, -1);
		g_free(md5);
	}
	g_string_free(fuzzy, TRUE);
	g_string_free(tags, TRUE);
}

static void
pdf_part(struct media *m, const struct rules_input *in, size_t i,
    const struct rules_mime_part *p)
{
	size_t n;
	char *d = rules_eval_mime_decode(in, i, MEDIA_MAX_BYTES, &n), *s;

	m->pdf_count++;
	if (d == NULL)
		return;
	n = MIN(n, MEDIA_MAX_BYTES);
	s = d;
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (pdf_header(s, n)) {
		char *name = part_name(p);

		if (name != NULL)
			set_add(&m->pdf_names, name, -1);
		g_free(name);
		pdf_lines(m, s, n);
		if (n > 0 && !(n == 1 && s[0] == '0')) {
			char *md5 = md5_upper(s, n);

			set_add(&m->pdf_md5, md5, -1);
			g_free(md5);
		}
	}
	g_free(d);
}

/* --- the parts */

static void *
media_make(const struct rules_input *in)
{
	struct media *m = g_new0(struct media, 1);
	struct rules_mime_part p;

	for (size_t i = 0; rules_eval_mime_part(in, i, &p); i++) {
		const char *sub;

		if (!p.leaf || (sub = strchr(p.ctype, '/')) == NULL)
			continue;
		sub++;
		/* ImageInfo: image/gif, png, jpeg, jpg in base64 */
		if (g_str_has_prefix(p.ctype, "image/") &&
		    strcmp(p.cte, "base64") == 0) {
			if (strcmp(sub, "gif") == 0)
				image_part(m, in, i, &p, IMG_GIF);
			else if (strcmp(sub, "png") == 0)
				image_part(m, in, i, &p, IMG_PNG);
			else if (strcmp(sub, "jpeg") == 0 ||
			    strcmp(sub, "jpg") == 0)
				image_part(m, in, i, &p, IMG_JPEG);
		}
		/* PDFInfo: image/ or application/ pdf or octet-stream, of
		 * a pdf type or named *.pdf or *.fdf */
		if ((g_str_has_prefix(p.ctype, "image/") ||
		    g_str_has_prefix(p.ctype, "application/")) &&
		    (strcmp(sub, "pdf") == 0 || strcmp(sub, "octet-stream") ==
		    0)) {
			char *name = part_name(&p);
			size_t nl = name != NULL ? strlen(name) : 0;
			bool named = nl >= 4 && name[nl - 4] == '.' &&
			    (g_ascii_tolower(name[nl - 3]) == 'p' ||
			    g_ascii_tolower(name[nl - 3]) == 'f') &&
			    g_ascii_strcasecmp(name + nl - 2, "df") == 0;

			g_free(name);
			if (named || strcmp(sub, "pdf") == 0)
				pdf_part(m, in, i, &p);
		}
	}
	return m;
}

static const struct media *
media(const struct rules_input *in)
{
	return rules_eval_mime_facts(in, media_make, media_free);
}

/* --- the eval functions */

static double
num(const char *s)
{
	return g_ascii_strtod(s, NULL);
}

/* The plugins' result_check: min <= v <= max (max optional), and v !=
 * max when nomaxequal. */
static double
in_range(double v, const char *min, const char *max, bool nomaxequal)
{
	if (v < num(min) || (max != NULL && v > num(max)))
		return 0;
	if (nomaxequal && max != NULL && v == num(max))
		return 0;
	return 1;
}

static int
img_type(const char *s)
{
	for (int t = 0; t < IMG_N; t++)
		if (strcmp(img_names[t], s) == 0)
			return t;
	return -1;
}

/* The rule's own text (the typed argument: body or rawbody; none for
 * a full rule): its chunks. */
static const struct rules_chunk *
text_of(const struct rules_input *in, const char *type, size_t *n_r)
{
	bool raw = strcmp(type, "rawbody") == 0;

	*n_r = raw ? in->nrawbody : strcmp(type, "body") == 0 ? in->nbody :
	    0;
	return raw ? in->rawbody : in->body;
}

static double
text_len(const struct rules_input *in, const char *type)
{
	size_t n;
	const struct rules_chunk *c = text_of(in, type, &n);
	double len = 0;

	for (size_t i = 0; i < n; i++)
		len += (double)c[i].len;
	return len;
}

/* A dimensions set ("HxW") has one within [minh, maxh] x [minw, maxw]
 * (the maxima optional). */
static double
dims_in(GHashTable *dims, const char *const *args, size_t nargs)
{
	GHashTableIter it;
	gpointer k;

	if (dims == NULL)
		return 0;
	g_hash_table_iter_init(&it, dims);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		double h = g_ascii_strtod(k, NULL);
		double w = g_ascii_strtod(strchr(k, 'x') + 1, NULL);

		if (h < num(args[0]) || w < num(args[1]))
			continue;
		if ((nargs > 2 && h > num(args[2])) || (nargs > 3 &&
		    w > num(args[3])))
			continue;
		return 1;
	}
	return 0;
}

/* The set has a string the pattern matches. */
static double
set_match(GHashTable *set, GRegex *re)
{
	GHashTableIter it;
	gpointer k;

	if (set == NULL || re == NULL)
		return 0;
	g_hash_table_iter_init(&it, set);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (g_regex_match_full(re, k, -1, 0, 0, NULL, NULL))
			return 1;
	return 0;
}

/* A Perl pattern as compile_regexp(re, 2) reads it: /re/flags,
 * m{re}flags (any delimiter) or bare; NULL when it does not compile. */
static GRegex *
perl_re(const char *s)
{
	char close = 0, *pat;
	unsigned flags = 0;
	const char *b = s, *e;
	GRegex *re;

	if (s[0] == '/') {
		close = '/';
		b = s + 1;
	} else if ((s[0] == 'm' || (s[0] == 'q' && s[1] == 'r')) &&
	    s[s[0] == 'm' ? 1 : 2] != '\0') {
		char o = s[s[0] == 'm' ? 1 : 2];

		if (!g_ascii_isalnum(o) && o != '_' && o != '\\') {
			close = o == '{' ? '}' : o == '(' ? ')' : o == '<' ?
			    '>' : o == '[' ? ']' : o;
			b = s + (s[0] == 'm' ? 2 : 3);
		}
	}
	e = b + strlen(b);
	if (close != 0) {
		while (e > b && e[-1] >= 'a' && e[-1] <= 'z' && e[-1] != 'e')
			e--;
		for (const char *f = e; *f != '\0'; f++)
			flags |= *f == 'i' ? G_REGEX_CASELESS : *f == 's' ?
			    G_REGEX_DOTALL : *f == 'm' ? G_REGEX_MULTILINE :
			    *f == 'x' ? G_REGEX_EXTENDED : 0;
		if (e == b || e[-1] != close)
			return NULL;
		e--;
	}
	pat = g_strndup(b, (size_t)(e - b));
	re = rules_evalfn_re(pat, flags);
	g_free(pat);
	return re;
}

/* A pattern that does not compile matches nothing ("(?!)", as
 * rules_evalfn_re gives it), as the plugins' answer 0. */

/* image_count(type, min[, max]): images of the type (gif, png, jpeg,
 * all), dimensions read or not. */
static double
image_count(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	int t = img_type(args[0]);

	*where_r = "images";
	return t < 0 ? 0 : in_range(media(in)->img_count[t], args[1], nargs >
	    2 ? args[2] : NULL, false);
}

/* pixel_coverage(type, min[, max]): their total area. */
static double
pixel_coverage(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	int t = img_type(args[0]);

	*where_r = "images";
	return t < 0 ? 0 : in_range(media(in)->img_area[t], args[1], nargs >
	    2 ? args[2] : NULL, false);
}

/* image_size_exact(type, height, width) */
static double
image_size_exact(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	int t = img_type(args[0]);
	char *dim;
	bool hit;

	(void)nargs;
	*where_r = "images";
	if (t < 0 || media(in)->img_dims[t] == NULL)
		return 0;
	dim = g_strdup_printf("%sx%s", args[1], args[2]);
	hit = g_hash_table_contains(media(in)->img_dims[t], dim);
	g_free(dim);
	return hit;
}

/* image_size_range(type, minh, minw[, maxh[, maxw]]) */
static double
image_size_range(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	int t = img_type(args[0]);

	*where_r = "images";
	return t < 0 ? 0 : dims_in(media(in)->img_dims[t], args + 1, nargs -
	    1);
}

/* image_named(name): an image with dimensions has that name. */
static double
image_named(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GHashTable *n = media(in)->img_names;

	(void)nargs;
	*where_r = "images";
	return n != NULL && g_hash_table_contains(n, args[0]);
}

/* image_name_regex(re): ... a name the (bare) pattern matches. */
static double
image_name_regex(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "images";
	return set_match(media(in)->img_names, rules_evalfn_re(args[0], 0));
}

/* image_to_text_ratio(type, min, max): the rule's text length (body
 * or rawbody) over the images' area, in [min, max). */
static double
image_to_text_ratio(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	int t = img_type(args[1]);
	double len = text_len(in, args[0]), area;

	(void)nargs;
	*where_r = "images";
	if (t < 0 || len <= 0 || (area = media(in)->img_area[t]) <= 0)
		return 0;
	return in_range(len / area, args[2], args[3], true);
}

static double
pdf_count(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	*where_r = "PDF";
	return nargs == 0 ? 0 : in_range(media(in)->pdf_count, args[0],
	    nargs > 1 ? args[1] : NULL, false);
}

static double
pdf_image_count(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	*where_r = "PDF";
	return nargs == 0 ? 0 : in_range(media(in)->pdf_images, args[0],
	    nargs > 1 ? args[1] : NULL, false);
}

static double
pdf_pixel_coverage(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct media *m = media(in);

	*where_r = "PDF";
	return nargs == 0 || !m->pdf_area_set ? 0 : in_range(m->pdf_area,
	    args[0], nargs > 1 ? args[1] : NULL, false);
}

/* pdf_image_to_text_ratio(min, max): as image_to_text_ratio, over the
 * last PDF with images' area. */
static double
pdf_image_to_text_ratio(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	const struct media *m = media(in);
	double len = text_len(in, args[0]);

	(void)nargs;
	*where_r = "PDF";
	if (!m->pdf_area_set || m->pdf_area == 0 || len == 0)
		return 0;
	return in_range(len / m->pdf_area, args[1], args[2], true);
}

static double
pdf_named(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GHashTable *n = media(in)->pdf_names;

	(void)nargs;
	*where_r = "PDF";
	return n != NULL && g_hash_table_contains(n, args[0]);
}

static double
pdf_name_regex(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GHashTable *n = media(in)->pdf_names;

	(void)nargs;
	*where_r = "PDF";
	return n == NULL ? 0 : set_match(n, perl_re(args[0]));
}

static double
pdf_is_encrypted(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "PDF";
	return media(in)->pdf_encrypted;
}

/* pdf_is_empty_body([min]): a PDF, and the text's paragraphs after the
 * first (the body's subject) that are not blank hold at most min
 * bytes. */
static double
pdf_is_empty_body(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	double min = nargs > 1 ? num(args[1]) : 0, bytes = 0;
	size_t n;
	const struct rules_chunk *text = text_of(in, args[0], &n);

	*where_r = "PDF";
	if (media(in)->pdf_count == 0)
		return 0;
	for (size_t i = 1; i < n; i++) {
		const struct rules_chunk *c = &text[i];
		bool blank = true;

		for (size_t k = 0; k < c->len && blank; k++)
			blank = pspace(c->p[k]);
		if (blank)
			continue;
		if ((bytes += (double)c->len) > min)
			return 0;
	}
	return 1;
}

static double
pdf_image_size_exact(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GHashTable *d = media(in)->pdf_dims;
	char *dim;
	bool hit;

	(void)nargs;
	*where_r = "PDF";
	if (d == NULL)
		return 0;
	dim = g_strdup_printf("%sx%s", args[0], args[1]);
	hit = g_hash_table_contains(d, dim);
	g_free(dim);
	return hit;
}

static double
pdf_image_size_range(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	*where_r = "PDF";
	return dims_in(media(in)->pdf_dims, args, nargs);
}

static double
md5_in(GHashTable *set, const char *md5)
{
	char *up = g_ascii_strup(md5, -1);
	bool hit = set != NULL && g_hash_table_contains(set, up);

	g_free(up);
	return hit;
}

static double
pdf_match_md5(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "PDF";
	return md5_in(media(in)->pdf_md5, args[0]);
}

static double
pdf_match_fuzzy_md5(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "PDF";
	return md5_in(media(in)->pdf_fuzzy, args[0]);
}

/* pdf_match_details(author|creator|created|modified|producer|title,
 * re) */
static double
pdf_match_details(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "PDF";
	for (int k = 0; k < PD_N; k++)
		if (strcmp(pd_names[k], args[0]) == 0)
			return set_match(media(in)->pdf_details[k],
			    media(in)->pdf_details[k] != NULL ?
			    perl_re(args[1]) : NULL);
	return 0;
}

const struct rules_evalfn rules_evalfn_media[] = {
	{ "image_count", 2, 3, image_count, NULL, false },
	{ "pixel_coverage", 2, 3, pixel_coverage, NULL, false },
	{ "image_size_exact", 3, 3, image_size_exact, NULL, false },
	{ "image_size_range", 3, 5, image_size_range, NULL, false },
	{ "image_named", 1, 1, image_named, NULL, false },
	{ "image_name_regex", 1, 1, image_name_regex, NULL, false },
	{ "image_to_text_ratio", 3, 3, image_to_text_ratio, NULL, true },
	{ "pdf_count", 0, 2, pdf_count, NULL, false },
	{ "pdf_image_count", 0, 2, pdf_image_count, NULL, false },
	{ "pdf_pixel_coverage", 0, 2, pdf_pixel_coverage, NULL, false },
	{ "pdf_image_to_text_ratio", 2, 2, pdf_image_to_text_ratio, NULL,
	  true },
	{ "pdf_named", 1, 1, pdf_named, NULL, false },
	{ "pdf_name_regex", 1, 1, pdf_name_regex, NULL, false },
	{ "pdf_is_encrypted", 0, 0, pdf_is_encrypted, NULL, false },
	{ "pdf_is_empty_body", 0, 1, pdf_is_empty_body, NULL, true },
	{ "pdf_image_size_exact", 2, 2, pdf_image_size_exact, NULL, false },
	{ "pdf_image_size_range", 2, 4, pdf_image_size_range, NULL, false },
	{ "pdf_match_md5", 1, 1, pdf_match_md5, NULL, false },
	{ "pdf_match_fuzzy_md5", 1, 1, pdf_match_fuzzy_md5, NULL, false },
	{ "pdf_match_details", 2, 2, pdf_match_details, NULL, false },
	{ NULL, 0, 0, NULL, NULL, false }
};
