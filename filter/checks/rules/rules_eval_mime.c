/*
 * rules_eval_mime.c - SpamAssassin's MIME shape and HTML structure eval:
 * tests (Mail::SpamAssassin::Plugin::MIMEEval and HTMLEval), on the
 * message's MIME tree as SpamAssassin's Message.pm cuts it: every part,
 * the message itself first, depth first (find_parts), with each leaf's
 * raw body lines; and each text/html leaf decoded and counted as
 * HTML.pm's parser counts it (tags, HTML 4 elements, their balance, the
 * text length).
 *
 * The tree is built once a message, on the first call that needs it,
 * and kept in a per-thread cache that rules_evalfn_reset() drops after
 * each evaluation.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"

#define MIME_MAX_PARTS	1000	/* Message.pm's default part limit */
#define MIME_MAX_DEPTH	20
#define URI_MAX		8192	/* Constants.pm's MAX_URI_LENGTH */

struct mnode {
	char		*ctype;		/* lower case, "text/plain" default */
	char		*cte, *cd;	/* lower case, "" when none */
	char		*charset;	/* lower case, or NULL */
	char		*name;
	char		*ct_raw, *cd_raw;	/* unfolded as read, or NULL */
	bool		 leaf;
	const char	*body;		/* leaves: the raw body, in full */
	size_t		 body_len;
	int		 parent;	/* index, -1 for the message */
};

/* HTML.pm's counts for one text/html leaf. */
struct hres {
	GHashTable	*inside;	/* tag -> balance (int *) */
	double		 tags, elements, tags_seen, elements_seen;
	double		 closed_extra;
	double		 length;
	/* text_style: font sizes */
	GArray		*style;		/* struct tstyle */
	int		 basefont, max_size, min_size;
	/* The text results: NULL until the first comment, <title>, <a> */
	GPtrArray	*comment, *title, *anchor;	/* GString * */
	GPtrArray	*anchor_href;	/* each <a>'s href, trimmed (char *) */
	bool		 uri_truncated;	/* a link longer than URI_MAX */
	GString		*rendered;	/* the text as displayed */
	double		 image_area, non_space_len, obfuscation;
	bool		 embeds, form_action_mailto, font_face_bad;
	bool		 iframe_src, font_low_contrast, font_invalid_color;
	bool		 text_any;	/* HTML.pm's $self->{text} not empty */
	bool		 text_word_end;	/* its last element ends in a word */
	unsigned	 charsets;	/* meta Content-Type charsets */
	guint		 node;		/* its part in mtree's nodes */
};

struct tstyle {
	char		 tag[16];
	int		 size;
	char		 fg[16], bg[16];	/* "#rrggbb", "invalid", ... */
};

struct mtree {
	GArray		*nodes;		/* struct mnode */
	GArray		*html;		/* struct hres */
	bool		 html_done;
	/* MIMEEval's _check_attachments */
	bool		 att_done;
	double		 base64_count, qp_count_parts, html_count, text_count;
	bool		 base64_encoded_text, bad_iso_charset, multipart_alt;
	bool		 faraway_charset;
	double		 multipart_ratio, qp_ratio, text_unicode_ratio;
	bool		 qp_long_line;
	double		 ascii_text_illegal;
	double		 attachment;
	/* BodyEval's _multipart_alternative_difference */
	bool		 madiff_done;
	double		 madiff, madiff_html, madiff_text;
	/* check_for_uppercase's share of capitals (-1: none to count) */
	bool		 caps_done;
	double		 caps_pct;
	/* Another eval file's facts about the parts (rules_eval_media.c) */
	void		*facts;
	GDestroyNotify	 facts_free;
};

static _Thread_local struct mtree *cache;
static _Thread_local const struct rules_input *cache_in;

/* --- headers of a part */

static const char *
next_line(const char *p, const char *end, size_t *len_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*len_r = (size_t)((nl != NULL ? nl + 1 : end) - p);
	return p;
}

/* Does the line look like a header field's first line? */
static bool
is_field(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != ':')
		i++;
	return i > 0 && i < n && p[i] == ':';
}

/*
 * Reads the header block at [p, end): the last Content-Type,
 * Content-Transfer-Encoding and Content-Disposition (unfolded,
 * g_malloc'd into v[0..2]); returns where the body starts (after the
 * blank line, or at the first line that is neither a field nor a fold).
 */
static const char *
read_head(const char *p, const char *end, char *v[3])
{
	static const char *const want[3] = { "content-type",
	    "content-transfer-encoding", "content-disposition" };
	int cur = -1;
	size_t n;

	while (p < end) {
		next_line(p, end, &n);
		if (n == 1 || (n == 2 && p[0] == '\r')) {
			p += n;
			break;
		}
		if ((p[0] == ' ' || p[0] == '\t') && cur != -2) {
			if (cur >= 0) {
				char *more = g_strndup(p, n);
				char *j = g_strconcat(v[cur], " ", g_strstrip(
				    more), NULL);

				g_free(more);
				g_free(v[cur]);
				v[cur] = j;
			}
		} else if (is_field(p, n)) {
			const char *c = memchr(p, ':', n);

			cur = -1;
			for (int k = 0; k < 3; k++)
				if ((size_t)(c - p) == strlen(want[k]) &&
				    g_ascii_strncasecmp(p, want[k],
				    (size_t)(c - p)) == 0) {
					g_free(v[k]);
					v[k] = g_strndup(c + 1, (size_t)(p + n -
					    c - 1));
					g_strstrip(v[k]);
					cur = k;
				}
		} else
			break;
		p += n;
	}
	return p;
}

/* A parameter of a Content-Type value (Util.pm parse_content_type). */
static char *
ct_param(const char *ct, const char *param)
{
	char *re = g_strdup_printf("\\b%s\\s*=\\s*[\"']?([^\"';]+)", param);
	GRegex *r = rules_evalfn_re(re, G_REGEX_CASELESS);
	GMatchInfo *mi = NULL;
	char *out = NULL;

	if (r != NULL && g_regex_match(r, ct, 0, &mi))
		out = g_strstrip(g_match_info_fetch(mi, 1));
	g_match_info_free(mi);
	g_free(re);
	return out;
}

static void parse_node(struct mtree *t, const char *p, const char *end,
    int parent, int depth, const char *defctype);

/* The parts of a multipart body between its boundary lines. */
static void
parse_multipart(struct mtree *t, const char *p, const char *end,
    const char *boundary, int self, int depth, const char *defctype)
{
	size_t blen = strlen(boundary), n;
	const char *start = NULL;

	while (p < end && t->nodes->len < MIME_MAX_PARTS) {
		next_line(p, end, &n);
		if (n >= 2 + blen && p[0] == '-' && p[1] == '-' &&
		    memcmp(p + 2, boundary, blen) == 0) {
			const char *r = p + 2 + blen, *le = p + n;
			bool close = le - r >= 2 && r[0] == '-' && r[1] == '-';

			if (close)
				r += 2;
			while (r < le && isspace((unsigned char)*r))
				r++;
			if (r == le) {
				if (start != NULL) {
					/* The line end before a boundary is
					 * the boundary's. */
					const char *e = p;

					if (e > start && e[-1] == '\n')
						e--;
					parse_node(t, start, e, self, depth +
					    1, defctype);
				}
				start = close ? NULL : p + n;
				if (close)
					return;
				p += n;
				continue;
			}
		}
		p += n;
	}
	if (start != NULL)
		parse_node(t, start, end, self, depth + 1, defctype);
}

static void
parse_node(struct mtree *t, const char *p, const char *end, int parent,
    int depth, const char *defctype)
{
	char *v[3] = { NULL, NULL, NULL }, *ct, *b;
	struct mnode nd = { .parent = parent };
	const char *body = read_head(p, end, v);
	int self = (int)t->nodes->len;

	ct = v[0] != NULL ? g_ascii_strdown(v[0], -1) : NULL;
	if (ct != NULL) {
		char *semi = strpbrk(ct, "; \t");

		nd.ctype = semi != NULL ? g_strndup(ct, (size_t)(semi - ct)) :
		    g_strdup(ct);
		nd.charset = ct_param(ct, "charset");
		nd.name = ct_param(ct, "name");
	}
	if (nd.ctype == NULL || nd.ctype[0] == '\0' ||
	    strchr(nd.ctype, '/') == NULL) {
		g_free(nd.ctype);
		nd.ctype = g_strdup(defctype);
	}
	nd.cte = v[1] != NULL ? g_ascii_strdown(v[1], -1) : g_strdup("");
	nd.cd = v[2] != NULL ? g_ascii_strdown(v[2], -1) : g_strdup("");
	nd.leaf = true;
	nd.ct_raw = v[0];
	nd.cd_raw = v[2];
	v[0] = v[2] = NULL;
	g_array_append_val(t->nodes, nd);
	b = nd.ct_raw != NULL ? ct_param(nd.ct_raw, "boundary") : NULL;
	if (g_str_has_prefix(nd.ctype, "multipart/") && b != NULL &&
	    depth < MIME_MAX_DEPTH) {
		g_array_index(t->nodes, struct mnode, self).leaf = false;
		parse_multipart(t, body, end, b, self, depth,
		    strcmp(nd.ctype, "multipart/digest") == 0 ?
		    "message/rfc822" : "text/plain");
	} else if (strcmp(nd.ctype, "message/rfc822") == 0 &&
	    depth < MIME_MAX_DEPTH && (nd.cte[0] == '\0' ||
	    strcmp(nd.cte, "7bit") == 0 || strcmp(nd.cte, "8bit") == 0)) {
		g_array_index(t->nodes, struct mnode, self).leaf = false;
		parse_node(t, body, end, self, depth + 1, "text/plain");
	} else {
		g_array_index(t->nodes, struct mnode, self).body = body;
		g_array_index(t->nodes, struct mnode, self).body_len =
		    (size_t)(end - body);
	}
	g_free(b);
	g_free(ct);
	for (int k = 0; k < 3; k++)
		g_free(v[k]);
}

static void
hres_clear(gpointer p)
{
	struct hres *h = p;

	if (h->inside != NULL)
		g_hash_table_destroy(h->inside);
	if (h->style != NULL)
		g_array_free(h->style, TRUE);
	if (h->comment != NULL)
		g_ptr_array_free(h->comment, TRUE);
	if (h->title != NULL)
		g_ptr_array_free(h->title, TRUE);
	if (h->anchor != NULL)
		g_ptr_array_free(h->anchor, TRUE);
	if (h->anchor_href != NULL)
		g_ptr_array_free(h->anchor_href, TRUE);
	if (h->rendered != NULL)
		g_string_free(h->rendered, TRUE);
}

void
rules_eval_mime_reset(void)
{
	if (cache == NULL)
		return;
	for (guint i = 0; i < cache->nodes->len; i++) {
		struct mnode *n = &g_array_index(cache->nodes, struct mnode,
		    i);

		g_free(n->ctype);
		g_free(n->cte);
		g_free(n->cd);
		g_free(n->charset);
		g_free(n->name);
		g_free(n->ct_raw);
		g_free(n->cd_raw);
	}
	if (cache->facts != NULL)
		cache->facts_free(cache->facts);
	g_array_free(cache->nodes, TRUE);
	if (cache->html != NULL)
		g_array_free(cache->html, TRUE);
	g_free(cache);
	cache = NULL;
	cache_in = NULL;
}

/* The message's MIME tree (cached until the next reset). */
static struct mtree *
tree(const struct rules_input *in)
{
	if (cache != NULL && cache_in == in)
		return cache;
	rules_eval_mime_reset();
	cache = g_new0(struct mtree, 1);
	cache_in = in;
	cache->nodes = g_array_new(FALSE, TRUE, sizeof(struct mnode));
	if (in->full != NULL)
		parse_node(cache, in->full, in->full + in->full_len, -1, 0,
		    "text/plain");
	return cache;
}

/* --- decoding a leaf */

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c -
	    'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A leaf's body, transfer decoded; g_malloc'd, *len_r.  A base64 body
 * is decoded up to about max bytes (0: all). */
static char *
leaf_decode_max(const struct mnode *n, size_t max, size_t *len_r)
{
	if (strstr(n->cte, "base64") != NULL) {
		char *s = g_strndup(n->body, n->body_len);
		/* the base64 characters of max bytes, whole quads */
		size_t keep = max > 0 && max < SIZE_MAX / 2 ? (max + 2) / 3 *
		    4 : SIZE_MAX;
		gsize out = 0;
		guchar *d;

		/* g_base64_decode stops at nothing: drop what is not
		 * base64 first, as MIME::Base64 does. */
		{
			char *w = s;

			for (const char *r = s; *r != '\0' &&
			    (size_t)(w - s) < keep; r++)
				if (g_ascii_isalnum(*r) || *r == '+' ||
				    *r == '/' || *r == '=')
					*w++ = *r;
			*w = '\0';
		}
		d = g_base64_decode(s, &out);
		g_free(s);
		*len_r = out;
		return (char *)d;
	}
	if (strstr(n->cte, "quoted-printable") != NULL) {
		GString *o = g_string_sized_new(n->body_len);
		const char *p = n->body, *e = n->body + n->body_len;

		while (p < e) {
			if (*p == '=' && p + 1 < e && p[1] == '\n')
				p += 2;
			else if (*p == '=' && p + 2 < e && p[1] == '\r' &&
			    p[2] == '\n')
				p += 3;
			else if (*p == '=' && p + 2 < e && hexval(p[1]) >= 0 &&
			    hexval(p[2]) >= 0) {
				g_string_append_c(o, (char)(hexval(p[1]) * 16 +
				    hexval(p[2])));
				p += 3;
			} else
				g_string_append_c(o, *p++);
		}
		*len_r = o->len;
		return g_string_free(o, FALSE);
	}
	*len_r = n->body_len;
	return g_strndup(n->body, n->body_len);
}

static char *
leaf_decode(const struct mnode *n, size_t *len_r)
{
	return leaf_decode_max(n, 0, len_r);
}

/* --- the tree for the other eval files (rules_eval_int.h) */

bool
rules_eval_mime_part(const struct rules_input *in, size_t i,
    struct rules_mime_part *p_r)
{
	struct mtree *t = tree(in);
	const struct mnode *n;

	if (i >= t->nodes->len)
		return false;
	n = &g_array_index(t->nodes, struct mnode, i);
	*p_r = (struct rules_mime_part){ .ctype = n->ctype, .cte = n->cte,
	    .ct_raw = n->ct_raw, .cd_raw = n->cd_raw, .leaf = n->leaf };
	return true;
}

char *
rules_eval_mime_decode(const struct rules_input *in, size_t i, size_t max,
    size_t *len_r)
{
	struct mtree *t = tree(in);

	*len_r = 0;
	if (i >= t->nodes->len || !g_array_index(t->nodes, struct mnode,
	    i).leaf)
		return NULL;
	return leaf_decode_max(&g_array_index(t->nodes, struct mnode, i), max,
	    len_r);
}

void *
rules_eval_mime_facts(const struct rules_input *in,
    void *(*make)(const struct rules_input *), GDestroyNotify free_fn)
{
	struct mtree *t = tree(in);

	if (t->facts == NULL) {
		t->facts = make(in);
		t->facts_free = free_fn;
	}
	return t->facts;
}

/* --- HTML.pm's counts */

/* HTML 4.01 and XHTML 1.0 elements (HTML.pm's %elements). */
static const char *const html_elements[] = {
	"a", "abbr", "acronym", "address", "area", "b", "base", "bdo", "big",
	"blockquote", "body", "br", "button", "caption", "cite", "code",
	"col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em",
	"fieldset", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr",
	"html", "i", "img", "input", "ins", "kbd", "label", "legend", "li",
	"link", "map", "meta", "noscript", "object", "ol", "optgroup",
	"option", "p", "param", "pre", "q", "samp", "script", "select",
	"small", "span", "strong", "style", "sub", "sup", "table", "tbody",
	"td", "textarea", "tfoot", "th", "thead", "title", "tr", "tt", "ul",
	"var", "applet", "basefont", "center", "dir", "font", "frame",
	"frameset", "iframe", "isindex", "menu", "noframes", "s", "strike",
	"u", "nobr", "x-sigsep", "x-tab", NULL
};

/* A set of the elements, made once a process (every tag of every HTML
 * part asks, twice). */
static gpointer
elements_make(gpointer unused)
{
	GHashTable *set = g_hash_table_new(g_str_hash, g_str_equal);

	(void)unused;
	for (size_t i = 0; html_elements[i] != NULL; i++)
		g_hash_table_add(set, (gpointer)html_elements[i]);
	return set;
}

static bool
is_element(const char *tag)
{
	static GOnce once = G_ONCE_INIT;

	return g_hash_table_contains(g_once(&once, elements_make, NULL), tag);
}

/* HTML.pm's html_tag: tag seen with num +1 (start) or -1 (end); true
 * for a namespace tag (o:p, st1:x), which HTML.pm only counts. */
static bool
html_tag(struct hres *h, const char *tag, int num)
{
	int *bal = g_hash_table_lookup(h->inside, tag);
	bool seen = bal != NULL;
	/* "o:" or "st" digit ":" first, or the regex cannot match */
	bool ns = ((tag[0] == 'o' && tag[1] == ':') || (tag[0] == 's' &&
	    tag[1] == 't' && tag[2] >= '0' && tag[2] <= '9' && tag[3] ==
	    ':')) && rules_evalfn_match("^(?:o|st\\d):[\\w-]+/?$", 0, tag);

	if (is_element(tag) || ns) {
		h->elements++;
		if (!seen)
			h->elements_seen++;
	}
	h->tags++;
	if (!seen) {
		h->tags_seen++;
		bal = g_new0(int, 1);
		g_hash_table_insert(h->inside, g_strdup(tag), bal);
	}
	*bal += num;
	if (*bal < 0) {
		*bal = 0;
		h->closed_extra++;
	}
	return ns;
}

/* The end of a tag starting at p (after its name): the '>' outside
 * quotes, or NULL. */
static const char *
tag_end(const char *p, const char *e)
{
	char q = 0;

	for (; p < e; p++) {
		if (q != 0) {
			if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			/* A quote opens a value only after '=' */
			const char *b = p - 1;

			while (isspace((unsigned char)*b))
				b--;
			if (*b == '=')
				q = *p;
		} else if (*p == '>')
			return p;
	}
	return NULL;
}

/* HTML.pm's %ok_attributes: may tag's attribute change its style? */
static bool
ok_attr(const char *tag, const char *name)
{
	static const char *const ok[][7] = {
		{ "basefont", "color", "face", "size", NULL },
		{ "body", "text", "bgcolor", "link", "alink", "vlink",
		  "background" },
		{ "font", "color", "face", "size", NULL },
		{ "marquee", "bgcolor", "background", NULL },
		{ "table", "bgcolor", "style", NULL },
		{ "td", "bgcolor", "style", NULL },
		{ "th", "bgcolor", "style", NULL },
		{ "tr", "bgcolor", "style", NULL },
		{ "span", "style", NULL }, { "p", "style", NULL },
		{ "div", "style", NULL }, { "a", "style", NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
		if (strcmp(ok[i][0], tag) == 0) {
			for (size_t k = 1; k < 7 && ok[i][k] != NULL; k++)
				if (strcmp(ok[i][k], name) == 0)
					return true;
			return false;
		}
	return false;
}

/* The next attribute of a tag at *pp (up to e): its lower-case name and
 * its value (quotes off), g_malloc'd; false at the end. */
static bool
next_attr(const char **pp, const char *e, char **name_r, char **value_r)
{
	const char *p = *pp, *st;

	while (p < e && (isspace((unsigned char)*p) || *p == '/'))
		p++;
	if (p >= e)
		return false;
	st = p;
	while (p < e && !isspace((unsigned char)*p) && *p != '=' && *p != '/')
		p++;
	*name_r = g_ascii_strdown(st, p - st);
	while (p < e && isspace((unsigned char)*p))
		p++;
	if (p < e && *p == '=') {
		p++;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (p < e && (*p == '"' || *p == '\'')) {
			char q = *p++;

			st = p;
			while (p < e && *p != q)
				p++;
			*value_r = g_strndup(st, (size_t)(p - st));
			if (p < e)
				p++;
		} else {
			st = p;
			while (p < e && !isspace((unsigned char)*p))
				p++;
			*value_r = g_strndup(st, (size_t)(p - st));
		}
	} else
		*value_r = g_strdup("");
	*pp = p;
	return true;
}

/* HTML.pm's %html_color: HTML 4's and CSS 3's colour names, sorted. */
static const struct hcolor { const char *name; unsigned rgb; } colors[] = {
	{ "aliceblue", 0xf0f8ff },
	{ "antiquewhite", 0xfaebd7 },
	{ "aqua", 0x00ffff },
	{ "aquamarine", 0x7fffd4 },
	{ "azure", 0xf0ffff },
	{ "beige", 0xf5f5dc },
	{ "bisque", 0xffe4c4 },
	{ "black", 0x000000 },
	{ "blanchedalmond", 0xffebcd },
	{ "blue", 0x0000ff },
	{ "blueviolet", 0x8a2be2 },
	{ "brown", 0xa52a2a },
	{ "burlywood", 0xdeb887 },
	{ "cadetblue", 0x5f9ea0 },
	{ "chartreuse", 0x7fff00 },
	{ "chocolate", 0xd2691e },
	{ "coral", 0xff7f50 },
	{ "cornflowerblue", 0x6495ed },
	{ "cornsilk", 0xfff8dc },
	{ "crimson", 0xdc143c },
	{ "cyan", 0x00ffff },
	{ "darkblue", 0x00008b },
	{ "darkcyan", 0x008b8b },
	{ "darkgoldenrod", 0xb8860b },
	{ "darkgray", 0xa9a9a9 },
	{ "darkgreen", 0x006400 },
	{ "darkgrey", 0xa9a9a9 },
	{ "darkkhaki", 0xbdb76b },
	{ "darkmagenta", 0x8b008b },
	{ "darkolivegreen", 0x556b2f },
	{ "darkorange", 0xff8c00 },
	{ "darkorchid", 0x9932cc },
	{ "darkred", 0x8b0000 },
	{ "darksalmon", 0xe9967a },
	{ "darkseagreen", 0x8fbc8f },
	{ "darkslateblue", 0x483d8b },
	{ "darkslategray", 0x2f4f4f },
	{ "darkslategrey", 0x2f4f4f },
	{ "darkturquoise", 0x00ced1 },
	{ "darkviolet", 0x9400d3 },
	{ "deeppink", 0xff1493 },
	{ "deepskyblue", 0x00bfff },
	{ "dimgray", 0x696969 },
	{ "dimgrey", 0x696969 },
	{ "dodgerblue", 0x1e90ff },
	{ "firebrick", 0xb22222 },
	{ "floralwhite", 0xfffaf0 },
	{ "forestgreen", 0x228b22 },
	{ "fuchsia", 0xff00ff },
	{ "gainsboro", 0xdcdcdc },
	{ "ghostwhite", 0xf8f8ff },
	{ "gold", 0xffd700 },
	{ "goldenrod", 0xdaa520 },
	{ "gray", 0x808080 },
	{ "green", 0x008000 },
	{ "greenyellow", 0xadff2f },
	{ "grey", 0x808080 },
	{ "honeydew", 0xf0fff0 },
	{ "hotpink", 0xff69b4 },
	{ "indianred", 0xcd5c5c },
	{ "indigo", 0x4b0082 },
	{ "ivory", 0xfffff0 },
	{ "khaki", 0xf0e68c },
	{ "lavender", 0xe6e6fa },
	{ "lavenderblush", 0xfff0f5 },
	{ "lawngreen", 0x7cfc00 },
	{ "lemonchiffon", 0xfffacd },
	{ "lightblue", 0xadd8e6 },
	{ "lightcoral", 0xf08080 },
	{ "lightcyan", 0xe0ffff },
	{ "lightgoldenrodyellow", 0xfafad2 },
	{ "lightgray", 0xd3d3d3 },
	{ "lightgreen", 0x90ee90 },
	{ "lightgrey", 0xd3d3d3 },
	{ "lightpink", 0xffb6c1 },
	{ "lightsalmon", 0xffa07a },
	{ "lightseagreen", 0x20b2aa },
	{ "lightskyblue", 0x87cefa },
	{ "lightslategray", 0x778899 },
	{ "lightslategrey", 0x778899 },
	{ "lightsteelblue", 0xb0c4de },
	{ "lightyellow", 0xffffe0 },
	{ "lime", 0x00ff00 },
	{ "limegreen", 0x32cd32 },
	{ "linen", 0xfaf0e6 },
	{ "magenta", 0xff00ff },
	{ "maroon", 0x800000 },
	{ "mediumaquamarine", 0x66cdaa },
	{ "mediumblue", 0x0000cd },
	{ "mediumorchid", 0xba55d3 },
	{ "mediumpurple", 0x9370db },
	{ "mediumseagreen", 0x3cb371 },
	{ "mediumslateblue", 0x7b68ee },
	{ "mediumspringgreen", 0x00fa9a },
	{ "mediumturquoise", 0x48d1cc },
	{ "mediumvioletred", 0xc71585 },
	{ "midnightblue", 0x191970 },
	{ "mintcream", 0xf5fffa },
	{ "mistyrose", 0xffe4e1 },
	{ "moccasin", 0xffe4b5 },
	{ "navajowhite", 0xffdead },
	{ "navy", 0x000080 },
	{ "oldlace", 0xfdf5e6 },
	{ "olive", 0x808000 },
	{ "olivedrab", 0x6b8e23 },
	{ "orange", 0xffa500 },
	{ "orangered", 0xff4500 },
	{ "orchid", 0xda70d6 },
	{ "palegoldenrod", 0xeee8aa },
	{ "palegreen", 0x98fb98 },
	{ "paleturquoise", 0xafeeee },
	{ "palevioletred", 0xdb7093 },
	{ "papayawhip", 0xffefd5 },
	{ "peachpuff", 0xffdab9 },
	{ "peru", 0xcd853f },
	{ "pink", 0xffc0cb },
	{ "plum", 0xdda0dd },
	{ "powderblue", 0xb0e0e6 },
	{ "purple", 0x800080 },
	{ "red", 0xff0000 },
	{ "rosybrown", 0xbc8f8f },
	{ "royalblue", 0x4169e1 },
	{ "saddlebrown", 0x8b4513 },
	{ "salmon", 0xfa8072 },
	{ "sandybrown", 0xf4a460 },
	{ "seagreen", 0x2e8b57 },
	{ "seashell", 0xfff5ee },
	{ "sienna", 0xa0522d },
	{ "silver", 0xc0c0c0 },
	{ "skyblue", 0x87ceeb },
	{ "slateblue", 0x6a5acd },
	{ "slategray", 0x708090 },
	{ "slategrey", 0x708090 },
	{ "snow", 0xfffafa },
	{ "springgreen", 0x00ff7f },
	{ "steelblue", 0x4682b4 },
	{ "tan", 0xd2b48c },
	{ "teal", 0x008080 },
	{ "thistle", 0xd8bfd8 },
	{ "tomato", 0xff6347 },
	{ "turquoise", 0x40e0d0 },
	{ "violet", 0xee82ee },
	{ "wheat", 0xf5deb3 },
	{ "white", 0xffffff },
	{ "whitesmoke", 0xf5f5f5 },
	{ "yellow", 0xffff00 },
	{ "yellowgreen", 0x9acd32 },
};

static int
color_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct hcolor *)e)->name);
}

/* Perl's sprintf of HTML.pm's dec2hex: at least two hex digits. */
static void
dec2hex(GString *o, const char *dec)
{
	unsigned long v = strtoul(dec, NULL, 10);

	g_string_append_printf(o, "%s%lx", v < 16 ? "0" : "", v);
}

/* HTML.pm's name_to_rgb: "#rrggbb" (or shorter, from a short hex), or
 * "invalid"; into out (16 bytes). */
static void
name_to_rgb(const char *in, char *out)
{
	char *c = g_strstrip(g_ascii_strdown(in, -1));
	const struct hcolor *hc = bsearch(c, colors, G_N_ELEMENTS(colors),
	    sizeof(colors[0]), color_cmp);
	GMatchInfo *mi = NULL;
	GString *x = NULL;

	g_strlcpy(out, "invalid", 16);
	if (hc != NULL) {
		g_snprintf(out, 16, "#%06x", hc->rgb);
		g_free(c);
		return;
	}
	if (!rules_evalfn_match("^[#a-f0-9]*$|rgb\\([\\d%, ]*\\)",
	    G_REGEX_CASELESS, c)) {
		g_free(c);
		return;
	}
	if (g_regex_match(rules_evalfn_re("rgb\\((\\d+)%,\\s*(\\d+)%,\\s*"
	    "(\\d+)%\\s*\\)", G_REGEX_CASELESS), c, 0, &mi)) {
		x = g_string_new("#");
		for (int i = 1; i <= 3; i++) {
			char *d = g_match_info_fetch(mi, i), n[32];

			g_snprintf(n, sizeof(n), "%d", (int)(strtod(d, NULL) /
			    100 * 255));
			dec2hex(x, n);
			g_free(d);
		}
		g_free(c);
		c = g_string_free(x, FALSE);
	}
	g_match_info_free(mi);
	mi = NULL;
	if (g_regex_match(rules_evalfn_re("rgb\\((\\d+),\\s*(\\d+),\\s*"
	    "(\\d+)\\s*\\)", G_REGEX_CASELESS), c, 0, &mi)) {
		x = g_string_new("#");
		for (int i = 1; i <= 3; i++) {
			char *d = g_match_info_fetch(mi, i);

			dec2hex(x, d);
			g_free(d);
		}
		g_free(c);
		c = g_string_free(x, FALSE);
	}
	g_match_info_free(mi);
	if (c[0] == '#') {
		char hex[8];
		size_t n = 0;

		for (const char *p = c; *p != '\0' && n < 6; p++)
			if (isxdigit((unsigned char)*p))
				hex[n++] = (char)g_ascii_tolower(*p);
		if (n > 3 && n < 6)
			n = 3;
		while (n % 3 != 0)
			hex[n++] = '0';
		hex[n] = '\0';
		if (n == 3)
			g_snprintf(out, 16, "#%c%c%c%c%c%c", hex[0], hex[0],
			    hex[1], hex[1], hex[2], hex[2]);
		else
			g_snprintf(out, 16, "#%s", hex);
	}
	g_free(c);
}

/* HTML.pm's parse_css_background, the last layer's values: the first
 * that is a colour, into out; false when none is. */
static bool
css_background(const char *v, char *out)
{
	GPtrArray *layer = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *last = NULL;
	GString *tok = g_string_new("");
	int stack[64], sp = 0, state = 0;
	bool found = false;

	for (const char *p = v; *p != '\0'; p++) {
		char ch = *p;

		if (state == 0 && ch == ' ') {
			if (tok->len > 0)
				g_ptr_array_add(layer, g_strdup(tok->str));
			g_string_truncate(tok, 0);
		} else if (state == 0 && ch == ',') {
			if (tok->len > 0)
				g_ptr_array_add(layer, g_strdup(tok->str));
			g_string_truncate(tok, 0);
			if (last != NULL)
				g_ptr_array_free(last, TRUE);
			last = layer;
			layer = g_ptr_array_new_with_free_func(g_free);
		} else if (state == 1 && ch == ')') {
			g_string_append_c(tok, ch);
			g_ptr_array_add(layer, g_strdup(tok->str));
			g_string_truncate(tok, 0);
			state = sp > 0 ? stack[--sp] : 0;
		} else if ((state == 2 && ch == '"') ||
		    (state == 3 && ch == '\'')) {
			g_string_append_c(tok, ch);
			state = sp > 0 ? stack[--sp] : 0;
		} else if ((state == 0 && ch == '(') || (state <= 1 &&
		    (ch == '"' || ch == '\''))) {
			g_string_append_c(tok, ch);
			if (sp < (int)G_N_ELEMENTS(stack))
				stack[sp++] = state;
			state = ch == '(' ? 1 : ch == '"' ? 2 : 3;
		} else
			g_string_append_c(tok, ch);
	}
	if (tok->len > 0)
		g_ptr_array_add(layer, g_strdup(tok->str));
	if (layer->len > 0) {
		if (last != NULL)
			g_ptr_array_free(last, TRUE);
		last = layer;
		layer = NULL;
	}
	for (guint i = 0; last != NULL && i < last->len && !found; i++) {
		name_to_rgb(g_ptr_array_index(last, i), out);
		found = strcmp(out, "invalid") != 0;
	}
	if (layer != NULL)
		g_ptr_array_free(layer, TRUE);
	if (last != NULL)
		g_ptr_array_free(last, TRUE);
	g_string_free(tok, TRUE);
	return found;
}

/* A style attribute's colours (HTML.pm's text_style): into nw, the
 * parent's background behind a transparent one. */
static void
style_colors(struct tstyle *nw, const struct tstyle *parent, const char *st)
{
	char **parts = g_strsplit(st, ";", -1);
	GRegex *color = rules_evalfn_re("^\\s*(background-)?color:\\s*(.+?)"
	    "\\s*$", G_REGEX_CASELESS | G_REGEX_DOTALL);
	GRegex *bg = rules_evalfn_re("^\\s*background:\\s*(.+?)\\s*$",
	    G_REGEX_DOTALL);

	for (char **p = parts; *p != NULL; p++) {
		GMatchInfo *mi = NULL;

		if (g_regex_match(color, *p, 0, &mi)) {
			char *w = g_match_info_fetch(mi, 1);
			char *v = g_match_info_fetch(mi, 2), *lv;
			char *dst = w[0] != '\0' ? nw->bg : nw->fg;
			char *low = g_ascii_strdown(v, -1);

			lv = g_regex_replace_literal(rules_evalfn_re(
			    "\\s*!\\s*important$", 0), low, -1, 0, "", 0, NULL);
			g_free(low);
			g_free(v);
			if (strstr(lv, "rgb") != NULL) {
				char **n;
				GString *d = g_string_new("");
				unsigned rgb[3] = { 0, 0, 0 };

				for (const char *q = lv; *q != '\0'; q++)
					if (isdigit((unsigned char)*q) ||
					    *q == ',')
						g_string_append_c(d, *q);
				n = g_strsplit(d->str, ",", 4);
				for (int i = 0; i < 3 && n[i] != NULL; i++) {
					unsigned long x = strtoul(n[i], NULL,
					    10);

					rgb[i] = x > 255 ? 255 : (unsigned)x;
				}
				g_snprintf(dst, 16, "#%02x%02x%02x", rgb[0],
				    rgb[1], rgb[2]);
				g_strfreev(n);
				g_string_free(d, TRUE);
			} else if (strcmp(lv, "inherit") == 0)
				;
			else if (strcmp(lv, "transparent") == 0)
				g_strlcpy(dst, "transparent", 16);
			else
				name_to_rgb(lv, dst);
			g_free(lv);
			g_free(w);
		} else {
			g_match_info_free(mi);
			mi = NULL;
			if (g_regex_match(bg, *p, 0, &mi)) {
				char *v = g_match_info_fetch(mi, 1);
				char *lv = g_ascii_strdown(v, -1), c[16];

				if (css_background(lv, c))
					g_strlcpy(nw->bg, c, 16);
				g_free(lv);
				g_free(v);
			}
		}
		g_match_info_free(mi);
	}
	g_strfreev(parts);
	if (strcmp(nw->bg, "transparent") == 0)
		g_strlcpy(nw->bg, parent->bg, 16);
	if (strcmp(nw->fg, "transparent") == 0)
		g_strlcpy(nw->fg, nw->bg, 16);
}

/* HTML.pm's html_font_invisible, for its two results: the text's
 * colour on its background (the same, or nearly), an invalid colour. */
/* Does s match /^#?[0-9a-f]{6}$/?  Decided here for a string that is
 * the six digits and nothing more or cannot match; the regex reads the
 * rest (what "$" takes before a line end). */
static bool
hex_color(const char *s)
{
	const char *p = s + (*s == '#');
	size_t k = 0;

	while (k < 6 && ((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' &&
	    p[k] <= 'f')))
		k++;
	if (k < 6)
		return false;
	if (p[6] == '\0')
		return true;
	return rules_evalfn_match("^#?[0-9a-f]{6}$", 0, s);
}

/* sscanf(p, "%2x%2x%2x", ...) == 3: by hand when p is six hex digits. */
static bool
rgb_of(const char *p, unsigned *r, unsigned *g, unsigned *b)
{
	for (int i = 0; i < 6; i++)
		if (!g_ascii_isxdigit(p[i]))
			return sscanf(p, "%2x%2x%2x", r, g, b) == 3;
	*r = (unsigned)(g_ascii_xdigit_value(p[0]) * 16 +
	    g_ascii_xdigit_value(p[1]));
	*g = (unsigned)(g_ascii_xdigit_value(p[2]) * 16 +
	    g_ascii_xdigit_value(p[3]));
	*b = (unsigned)(g_ascii_xdigit_value(p[4]) * 16 +
	    g_ascii_xdigit_value(p[5]));
	return true;
}

static void
font_invisible(struct hres *h)
{
	const struct tstyle *t = &g_array_index(h->style, struct tstyle,
	    h->style->len - 1);
	size_t fl = strlen(t->fg), bl = strlen(t->bg);
	unsigned r1, g1, b1, r2, g2, b2;

	if (strcmp(t->fg + (fl > 6 ? fl - 6 : 0), t->bg + (bl > 6 ? bl - 6 :
	    0)) == 0) {
		h->font_low_contrast = true;
		return;
	}
	if (hex_color(t->fg) && hex_color(t->bg) && rgb_of(t->fg + fl - 6,
	    &r1, &g1, &b1) && rgb_of(t->bg + bl - 6, &r2, &g2, &b2)) {
		double r = (double)r1 - r2, g = (double)g1 - g2, b =
		    (double)b1 - b2;

		if (sqrt(pow(0.2126 * r, 2) + pow(0.7152 * g, 2) +
		    pow(0.0722 * b, 2)) < 12) {
			h->font_low_contrast = true;
			return;
		}
	}
	if (strcmp(t->fg, "invalid") == 0 || strcmp(t->bg, "invalid") == 0)
		h->font_invalid_color = true;
}

/* HTML.pm's close_table_tag: a <td> or <tr> closes the cells and fonts
 * left open. */
static void
close_table_tag(struct hres *h, const char *tag)
{
	bool open = false;

	for (guint i = 0; i < h->style->len && !open; i++)
		open = strcmp(g_array_index(h->style, struct tstyle, i).tag,
		    tag) == 0;
	while (open && h->style->len > 0) {
		const char *top = g_array_index(h->style, struct tstyle,
		    h->style->len - 1).tag;

		if ((strcmp(tag, "td") == 0 && (strcmp(top, "font") == 0 ||
		    strcmp(top, "td") == 0)) || (strcmp(tag, "tr") == 0 &&
		    (strcmp(top, "font") == 0 || strcmp(top, "td") == 0 ||
		    strcmp(top, "tr") == 0)))
			g_array_set_size(h->style, h->style->len - 1);
		else
			break;
	}
}

/* HTML.pm's text_style, for the font sizes (max_size, min_size): a
 * style stack of the text-style elements, sizes absolute, relative to
 * the basefont, or one up (big) or down (small). */
static void
text_style(struct hres *h, const char *tag, const char *attrs,
    const char *e, int num)
{
	struct tstyle nw, parent;
	char *name, *value;
	const char *p = attrs;

	if (strcmp(tag, "th") == 0)
		tag = "td";
	if (num != 1) {
		bool open = false;

		if (strcmp(tag, "body") == 0)
			return;
		for (guint i = 0; i < h->style->len && !open; i++)
			open = strcmp(g_array_index(h->style, struct tstyle,
			    i).tag, tag) == 0;
		while (open && h->style->len > 0) {
			struct tstyle top = g_array_index(h->style,
			    struct tstyle, h->style->len - 1);

			g_array_set_size(h->style, h->style->len - 1);
			if (strcmp(top.tag, tag) == 0)
				break;
		}
		return;
	}
	if (strcmp(tag, "basefont") == 0) {
		while (next_attr(&p, e, &name, &value)) {
			bool set = strcmp(name, "size") == 0 &&
			    rules_evalfn_match("^\\s*\\d", 0, value);

			if (set)
				h->basefont = atoi(value);
			g_free(name);
			g_free(value);
			if (set)
				return;
		}
		p = attrs;
	}
	if (strcmp(tag, "td") == 0 || strcmp(tag, "tr") == 0)
		close_table_tag(h, tag);
	nw = h->style->len > 0 ? g_array_index(h->style, struct tstyle,
	    h->style->len - 1) : (struct tstyle){ "default", 3, "#000000",
	    "#ffffff" };
	parent = nw;
	g_strlcpy(nw.tag, tag, sizeof(nw.tag));
	if (strcmp(tag, "big") == 0 || strcmp(tag, "small") == 0) {
		nw.size += tag[0] == 'b' ? 1 : -1;
		g_array_append_val(h->style, nw);
		return;
	}
	while (next_attr(&p, e, &name, &value)) {
		if (ok_attr(tag, name)) {
			if (strcmp(name, "size") == 0) {
				const char *v = value;

				while (isspace((unsigned char)*v))
					v++;
				if ((*v == '+' || *v == '-') &&
				    isdigit((unsigned char)v[1]))
					nw.size = h->basefont + atoi(v);
				else if (isdigit((unsigned char)*v))
					nw.size = atoi(v);
			} else if (strcmp(name, "text") == 0 ||
			    strcmp(name, "color") == 0)
				name_to_rgb(value, nw.fg);
			else if (strcmp(name, "style") == 0)
				style_colors(&nw, &parent, value);
			/* a bgcolor attribute changes nothing: HTML.pm
			 * rewrites the attribute, not the style */
			if (nw.size > h->max_size)
				h->max_size = nw.size;
			else if (nw.size < h->min_size)
				h->min_size = nw.size;
		}
		g_free(name);
		g_free(value);
	}
	g_array_append_val(h->style, nw);
}

static bool
text_style_element(const char *tag)
{
	static const char *const t[] = { "body", "font", "table", "tr",
	    "th", "td", "big", "small", "basefont", "marquee", "span", "p",
	    "div", "a", NULL };

	for (size_t i = 0; t[i] != NULL; i++)
		if (strcmp(t[i], tag) == 0)
			return true;
	return false;
}

/* HTML.pm's %tricks: rendered, but not counted as elements. */
static bool
is_trick(const char *tag)
{
	return strcmp(tag, "bgsound") == 0 || strcmp(tag, "embed") == 0 ||
	    strcmp(tag, "listing") == 0 || strcmp(tag, "plaintext") == 0 ||
	    strcmp(tag, "xmp") == 0;
}

static int
inside(const struct hres *h, const char *tag)
{
	const int *v = g_hash_table_lookup(h->inside, tag);

	return v != NULL ? *v : 0;
}

/* The named entities HTML::Parser decodes that mail uses most. */
static const struct { const char *name; gunichar c; } entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "hellip", 0x2026 },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "laquo", 0xab },
	{ "raquo", 0xbb }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bull", 0x2022 },
	{ "middot", 0xb7 }, { "euro", 0x20ac }, { "pound", 0xa3 },
	{ "yen", 0xa5 }, { "cent", 0xa2 }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "shy", 0xad }, { "deg", 0xb0 },
	{ "times", 0xd7 }, { "eacute", 0xe9 }, { "egrave", 0xe8 },
	{ "agrave", 0xe0 }, { "uuml", 0xfc }, { "ouml", 0xf6 },
	{ "auml", 0xe4 }, { "szlig", 0xdf }, { "ccedil", 0xe7 },
};

/* Appends s decoded as HTML::Parser's dtext: character references and
 * the named entities above. */
static void
dtext_append(GString *o, const char *s, size_t n)
{
	const char *p = s, *e = s + n;

	while (p < e) {
		const char *amp = memchr(p, '&', (size_t)(e - p)), *q;
		gunichar c = 0;
		bool ok = false;

		if (amp == NULL) {
			g_string_append_len(o, p, e - p);
			break;
		}
		g_string_append_len(o, p, amp - p);
		q = amp + 1;
		if (q < e && *q == '#') {
			bool hex = q + 1 < e && (q[1] == 'x' || q[1] == 'X');
			const char *d = q + (hex ? 2 : 1);

			while (d < e && (hex ? isxdigit((unsigned char)*d) :
			    isdigit((unsigned char)*d)) && c < 0x110000) {
				c = c * (hex ? 16 : 10) + (gunichar)(hex ?
				    hexval(*d) : *d - '0');
				d++;
			}
			ok = d > q + (hex ? 2 : 1) && c > 0 && c < 0x110000;
			if (ok && d < e && *d == ';')
				d++;
			q = d;
		} else {
			for (size_t i = 0; i < G_N_ELEMENTS(entities); i++) {
				size_t l = strlen(entities[i].name);

				if ((size_t)(e - q) >= l && memcmp(q,
				    entities[i].name, l) == 0 && (q + l == e ||
				    !isalnum((unsigned char)q[l]))) {
					c = entities[i].c;
					q += l;
					if (q < e && *q == ';')
						q++;
					ok = true;
					break;
				}
			}
		}
		if (ok)
			g_string_append_unichar(o, c);
		else
			g_string_append_c(o, '&');
		p = ok ? q : amp + 1;
	}
}

/* Is the character a "word" one for HTML.pm's obfuscation count: not
 * white space nor ASCII punctuation?  The first (or last) character of
 * s. */
static bool
word_at(const char *s, size_t n, bool last)
{
	const char *c;
	gunichar u;

	if (n == 0)
		return false;
	c = last ? g_utf8_find_prev_char(s, s + n) : s;
	if (c == NULL)
		c = s;
	u = (unsigned char)*c < 0x80 ? (gunichar)*c :
	    g_utf8_get_char_validated(c, (gssize)(s + n - c));
	if (u == (gunichar)-1 || u == (gunichar)-2)
		return true;
	if (u < 0x80)
		return !(isspace((int)u) || (u >= 0x21 && u <= 0x2f) ||
		    (u >= 0x3a && u <= 0x40) || (u >= 0x5b && u <= 0x60) ||
		    (u >= 0x7b && u <= 0x7e));
	return !g_unichar_isspace(u) && u != 0x85 && u != 0xa0;
}

/* HTML.pm's html_text: one text event (dtext).  The text goes straight
 * onto the rendered text, and is read there. */
static void
html_text(struct hres *h, const char *s, size_t n, bool decode)
{
	GString *r = h->rendered;
	size_t off = r->len;
	const char *t, *te;
	size_t tlen;
	double nonsp = 0;

	if (n == 0 || inside(h, "script") > 0 || inside(h, "style") > 0)
		return;
	if (decode)
		dtext_append(r, s, n);
	else
		g_string_append_len(r, s, n);
	/* r is not appended to again below: t stays where it is */
	t = r->str + off;
	tlen = r->len - off;
	te = t + tlen;
	if (inside(h, "a") > 0 && h->anchor != NULL && h->anchor->len > 0)
		g_string_append_len(g_ptr_array_index(h->anchor,
		    h->anchor->len - 1), t, (gssize)tlen);
	if (inside(h, "title") > 0 && h->title != NULL && h->title->len > 0)
		g_string_append_len(g_ptr_array_index(h->title,
		    h->title->len - 1), t, (gssize)tlen);
	for (size_t i = 0; i < tlen; i++)
		if (!strchr(" \t\n\r\f\v", t[i])) {
			font_invisible(h);
			break;
		}
	if (h->text_any && h->text_word_end && word_at(t, tlen, false))
		h->obfuscation++;
	h->text_word_end = word_at(t, tlen, true);
	h->text_any = true;
	/* Node.pm's non_space_len: characters of the rendered text that
	 * are not white space (an NBSP is a space) */
	for (const char *c = t; c < te; c = g_utf8_next_char(c)) {
		gunichar u = (unsigned char)*c < 0x80 ? (gunichar)*c :
		    g_utf8_get_char_validated(c, (gssize)(te - c));

		if (u == (gunichar)-1 || u == (gunichar)-2) {
			nonsp++;
			continue;
		}
		if (!(u < 0x80 ? isspace((int)u) != 0 : g_unichar_isspace(u) ||
		    u == 0x85 || u == 0xa0))
			nonsp++;
	}
	h->non_space_len += nonsp;
}

/* HTML.pm's html_whitespace: the white space a tag displays. */
static void
html_whitespace(struct hres *h, const char *tag)
{
	static const char *const one[] = { "li", "th", "td", "dt", "dd",
	    "embed", "h1", "h2", "h3", "h4", "h5", "h6", NULL };
	static const char *const two[] = { "p", "hr", "blockquote", "pre",
	    "listing", "plaintext", "xmp", "title", NULL };
	const char *ws = NULL;

	if (strcmp(tag, "br") == 0 || strcmp(tag, "div") == 0)
		ws = "\n";
	for (size_t i = 0; ws == NULL && one[i] != NULL; i++)
		if (strcmp(tag, one[i]) == 0)
			ws = " ";
	for (size_t i = 0; ws == NULL && two[i] != NULL; i++)
		if (strcmp(tag, two[i]) == 0)
			ws = "\n\n";
	if (ws == NULL)
		return;
	g_string_append(h->rendered, ws);
	h->text_any = true;
	h->text_word_end = false;
}

/* The first value of a tag's attribute (g_malloc'd), or NULL. */
static char *
tag_attr(const char *attrs, const char *e, const char *want)
{
	const char *p = attrs;
	char *name, *value;

	while (next_attr(&p, e, &name, &value)) {
		bool yes = strcmp(name, want) == 0;

		g_free(name);
		if (yes)
			return value;
		g_free(value);
	}
	return NULL;
}

static void
gstring_free(gpointer s)
{
	g_string_free(s, TRUE);
}

static GString *
push_str(GPtrArray **a)
{
	GString *s = g_string_new("");

	if (*a == NULL)
		*a = g_ptr_array_new_with_free_func(gstring_free);
	g_ptr_array_add(*a, s);
	return s;
}

/* HTML.pm's canon_uri: a link without the blanks (and no-break
 * spaces) around it, cut to URI_MAX bytes (noted); g_malloc'd. */
static char *
canon_uri(struct hres *h, const char *v)
{
	const char *s = v, *e = v + strlen(v);

	for (;;) {
		if (s < e && isspace((unsigned char)*s))
			s++;
		else if (e - s >= 2 && (unsigned char)s[0] == 0xc2 &&
		    (unsigned char)s[1] == 0xa0)
			s += 2;
		else
			break;
	}
	for (;;) {
		if (e > s && isspace((unsigned char)e[-1]))
			e--;
		else if (e - s >= 2 && (unsigned char)e[-2] == 0xc2 &&
		    (unsigned char)e[-1] == 0xa0)
			e -= 2;
		else
			break;
	}
	if (e - s > URI_MAX) {
		h->uri_truncated = true;
		e = s + URI_MAX;
	}
	return g_strndup(s, (size_t)(e - s));
}

/* HTML.pm's html_uri: the links of a start tag that canon_uri cuts
 * (<a>'s href: html_tests keeps it; a meta refresh's URL is not read). */
static void
link_lengths(struct hres *h, const char *tag, const char *attrs,
    const char *e)
{
	static const char *const by_tag[][2] = {
		{ "area", "href" }, { "link", "href" },
		{ "a", "data-saferedirecturl" },
		{ "body", "background" }, { "table", "background" },
		{ "tr", "background" }, { "td", "background" },
		{ "img", "src" }, { "frame", "src" }, { "iframe", "src" },
		{ "embed", "src" }, { "script", "src" }, { "bgsound", "src" },
		{ "form", "action" }, { "base", "href" },
	};

	/* Most attributes are short: the tag is only read for a long one. */
	if ((size_t)(e - attrs) <= URI_MAX)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(by_tag); i++) {
		char *v;

		if (strcmp(tag, by_tag[i][0]) != 0 ||
		    (v = tag_attr(attrs, e, by_tag[i][1])) == NULL)
			continue;
		g_free(canon_uri(h, v));
		g_free(v);
	}
}

/* HTML.pm's html_tests (and html_uri's iframe): a start tag. */
static void
html_tests(struct hres *h, const char *tag, const char *attrs,
    const char *e)
{
	char *v;

	if (strcmp(tag, "font") == 0 && (v = tag_attr(attrs, e, "face")) !=
	    NULL) {
		if (!rules_evalfn_match("^\\s*[\"'.]?[a-z ][a-z -]*[a-z]\\d?"
		    "[\"']?(?:,\\s*[\"']?[a-z][a-z -]*[a-z]\\d?[\"']?)*;?$",
		    G_REGEX_CASELESS, v))
			h->font_face_bad = true;
		g_free(v);
	}
	if (strcmp(tag, "img") == 0 && inside(h, "a") > 0 &&
	    h->anchor != NULL && h->anchor->len > 0)
		g_string_append(g_ptr_array_index(h->anchor,
		    h->anchor->len - 1), "<img>\n");
	if (strcmp(tag, "img") == 0) {
		char *wv = tag_attr(attrs, e, "width");
		char *hv = tag_attr(attrs, e, "height");

		if (wv != NULL && hv != NULL) {
			double w = 0, ht = 0;

			if (rules_evalfn_match("^\\d+%?$", 0, wv))
				w = g_ascii_strtod(wv, NULL) *
				    (strchr(wv, '%') != NULL ? 8 : 1);
			if (rules_evalfn_match("^\\d+%?$", 0, hv))
				ht = g_ascii_strtod(hv, NULL) *
				    (strchr(hv, '%') != NULL ? 6 : 1);
			if (w <= 0)
				w = 200;
			if (ht <= 0)
				ht = 200;
			h->image_area += w * ht;
		}
		g_free(wv);
		g_free(hv);
	}
	if (strcmp(tag, "form") == 0 && (v = tag_attr(attrs, e, "action")) !=
	    NULL) {
		if (rules_evalfn_match("mailto:", G_REGEX_CASELESS, v))
			h->form_action_mailto = true;
		g_free(v);
	}
	if (strcmp(tag, "object") == 0 || strcmp(tag, "embed") == 0)
		h->embeds = true;
	if (strcmp(tag, "a") == 0) {
		push_str(&h->anchor);
		if (h->anchor_href == NULL)
			h->anchor_href = g_ptr_array_new_with_free_func(g_free);
		v = tag_attr(attrs, e, "href");
		g_ptr_array_add(h->anchor_href, v != NULL ? canon_uri(h, v) :
		    g_strdup(""));
		g_free(v);
	}
	link_lengths(h, tag, attrs, e);
	if (strcmp(tag, "title") == 0)
		push_str(&h->title);
	if (strcmp(tag, "iframe") == 0 && (v = tag_attr(attrs, e, "src")) !=
	    NULL) {
		/* push_uri skips a src that is blank once trimmed */
		if (*g_strstrip(v) != '\0')
			h->iframe_src = true;
		g_free(v);
	}
	if (strcmp(tag, "meta") == 0) {
		char *he = tag_attr(attrs, e, "http-equiv");

		v = tag_attr(attrs, e, "content");
		if (he != NULL && v != NULL && rules_evalfn_match(
		    "Content-Type", G_REGEX_CASELESS, he) && rules_evalfn_match(
		    "\\bcharset\\s*=\\s*[\"']?[^\"']", G_REGEX_CASELESS, v))
			h->charsets++;
		g_free(he);
		g_free(v);
	}
}

/* A declaration's keyword HTML::Parser knows (others are comments). */
static bool
decl_keyword(const char *p, const char *e)
{
	static const char *const kw[] = { "doctype", "entity", "element",
	    "attlist", "notation", "linktype", "shortref", "usemap", NULL };

	for (size_t i = 0; kw[i] != NULL; i++) {
		size_t l = strlen(kw[i]);

		if ((size_t)(e - p) > l && g_ascii_strncasecmp(p, kw[i], l) ==
		    0 && !isalnum((unsigned char)p[l]))
			return true;
	}
	return false;
}

/* Counts one HTML text as HTML::Parser reports it to HTML.pm: tags,
 * comments, declarations and text events. */
static void
html_count(struct hres *h, const char *s, size_t n)
{
	static const char *const literal[] = { "script", "style", "xmp",
	    "iframe", "textarea", "title", "plaintext", NULL };
	const char *p = s, *e = s + n, *ts = s;
	const char *raw_until = NULL;	/* inside script/style: its name */
	bool raw_decode = false;

	h->inside = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	h->style = g_array_new(FALSE, FALSE, sizeof(struct tstyle));
	g_array_append_val(h->style, ((struct tstyle){ "default", 3,
	    "#000000", "#ffffff" }));
	h->rendered = g_string_new("");
	h->basefont = h->max_size = h->min_size = 3;
	/* length is counted in characters of the decoded text */
	h->length = g_utf8_validate(s, (gssize)n, NULL) ?
	    (double)g_utf8_strlen(s, (gssize)n) : (double)n;
	while (p < e) {
		const char *lt = memchr(p, '<', (size_t)(e - p)), *gt, *q;
		bool end_tag, ns;
		char name[64];
		size_t k = 0;

		if (lt == NULL || lt + 1 >= e)
			break;
		p = lt + 1;
		if (raw_until != NULL) {
			size_t rl = strlen(raw_until);

			if (*p != '/' || (size_t)(e - p - 1) < rl ||
			    g_ascii_strncasecmp(p + 1, raw_until, rl) != 0 ||
			    isalnum((unsigned char)p[1 + rl]))
				continue;
		}
		if (e - p >= 3 && memcmp(p, "!--", 3) == 0) {
			const char *c = g_strstr_len(p + 3, e - p - 3, "-->");

			html_text(h, ts, (size_t)(lt - ts), true);
			p = c != NULL ? c + 3 : e;
			if (c != NULL)
				g_string_append_len(push_str(&h->comment), lt,
				    p - lt);
			ts = p;
			continue;
		}
		if (*p == '!' || *p == '?') {
			gt = memchr(p, '>', (size_t)(e - p));
			html_text(h, ts, (size_t)(lt - ts), true);
			if (*p == '!' && p + 1 < e && g_ascii_strncasecmp(p + 1,
			    "doctype", 7) == 0 && decl_keyword(p + 1, e)) {
				/* html_declaration */
				h->elements++;
				h->tags++;
				if (!g_hash_table_contains(h->inside,
				    "!doctype"))
					g_hash_table_insert(h->inside,
					    g_strdup("!doctype"), g_new0(int,
					    1));
			} else if (*p == '!' && gt != NULL && p[1] != '[' &&
			    !decl_keyword(p + 1, e))
				g_string_append_len(push_str(&h->comment), lt,
				    gt + 1 - lt);
			p = gt != NULL ? gt + 1 : e;
			ts = p;
			continue;
		}
		end_tag = *p == '/';
		q = end_tag ? p + 1 : p;
		if (q >= e || !isalpha((unsigned char)*q)) {
			/* HTML::Parser starts a new text event at a '<'
			 * that opens no markup */
			html_text(h, ts, (size_t)(lt - ts), true);
			ts = lt;
			continue;
		}
		while (q < e && !isspace((unsigned char)*q) && *q != '>' &&
		    !(*q == '/' && q + 1 < e && q[1] == '>')) {
			if (k < sizeof(name) - 1)
				name[k++] = (char)g_ascii_tolower(*q);
			q++;
		}
		name[k] = '\0';
		if ((gt = tag_end(q, e)) == NULL)
			break;		/* an unclosed tag is text */
		html_text(h, ts, (size_t)(lt - ts), raw_until == NULL ||
		    raw_decode);
		ts = gt + 1;
		ns = html_tag(h, name, end_tag ? -1 : 1);
		if (!ns && (is_element(name) || is_trick(name))) {
			if (text_style_element(name))
				text_style(h, name, q, gt, end_tag ? -1 : 1);
			html_whitespace(h, name);
			if (!end_tag)
				html_tests(h, name, q, gt);
		}
		/* HTML::Parser reads these elements' content as text. */
		if (!end_tag)
			for (size_t i = 0; literal[i] != NULL; i++)
				if (strcmp(name, literal[i]) == 0) {
					raw_until = literal[i];
					raw_decode = strcmp(name, "title") ==
					    0 || strcmp(name, "textarea") == 0;
				}
		if (end_tag && raw_until != NULL)
			raw_until = NULL;
		p = gt + 1;
	}
	html_text(h, ts, (size_t)(e - ts), raw_until == NULL || raw_decode);
	/* HTML.pm closes an open style or script at the end. */
	for (int i = 0; i < 2; i++) {
		const char *t = i == 0 ? "style" : "script";
		int *v;

		while ((v = g_hash_table_lookup(h->inside, t)) != NULL &&
		    *v > 0)
			html_tag(h, t, -1);
	}
}

static bool charset_ascii(const char *cs);

/* Every text/html leaf's counts (Message.pm renders each one). */
static GArray *
html_all(const struct rules_input *in)
{
	struct mtree *t = tree(in);

	if (t->html_done)
		return t->html;
	t->html_done = true;
	t->html = g_array_new(FALSE, TRUE, sizeof(struct hres));
	g_array_set_clear_func(t->html, hres_clear);
	for (guint i = 0; i < t->nodes->len; i++) {
		const struct mnode *n = &g_array_index(t->nodes, struct mnode,
		    i);
		struct hres h = { 0 };
		size_t len;
		char *d;

		if (!n->leaf || strcmp(n->ctype, "text/html") != 0)
			continue;
		d = leaf_decode(n, &len);
		/* normalize_charset (on by default): HTML.pm reads
		 * characters of the declared charset */
		if (n->charset != NULL && !charset_ascii(n->charset) &&
		    g_ascii_strcasecmp(n->charset, "utf-8") != 0 &&
		    g_ascii_strcasecmp(n->charset, "utf8") != 0) {
			gsize out = 0;
			char *u = g_convert(d, (gssize)len, "UTF-8",
			    n->charset, NULL, &out, NULL);

			if (u != NULL) {
				g_free(d);
				d = u;
				len = out;
			}
		}
		h.node = i;
		html_count(&h, d, len);
		g_free(d);
		g_array_append_val(t->html, h);
	}
	return t->html;
}

void
rules_eval_mime_anchors(const struct rules_input *in,
    void (*fn)(void *arg, guint part, const char *href, const char *text),
    void *arg)
{
	GArray *all = html_all(in);

	for (guint i = 0; i < all->len; i++) {
		const struct hres *h = &g_array_index(all, struct hres, i);

		if (h->anchor == NULL || h->anchor_href == NULL)
			continue;
		for (guint k = 0; k < h->anchor->len && k <
		    h->anchor_href->len; k++)
			fn(arg, i, h->anchor_href->pdata[k], ((GString *)
			    h->anchor->pdata[k])->str);
	}
}

bool
rules_eval_mime_uri_truncated(const struct rules_input *in)
{
	GArray *all = html_all(in);

	for (guint i = 0; i < all->len; i++)
		if (g_array_index(all, struct hres, i).uri_truncated)
			return true;
	return false;
}

/* A value of HTML.pm's results by name; false when it is not there. */
static bool
html_value(const struct hres *h, const char *test, double *v_r)
{
	if (strcmp(test, "html") == 0) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "max_size") == 0) {
		*v_r = h->max_size;
		return true;
	}
	if (strcmp(test, "min_size") == 0) {
		*v_r = h->min_size;
		return true;
	}
	if (strcmp(test, "length") == 0) {
		*v_r = h->length;
		return true;
	}
	if (strcmp(test, "closed_extra_ratio") == 0 && h->tags > 0) {
		*v_r = h->closed_extra / h->tags;
		return true;
	}
	if (strcmp(test, "bad_tag_ratio") == 0 && h->elements > 0 &&
	    h->tags > 0) {
		*v_r = (h->tags - h->elements) / h->tags;
		return true;
	}
	if (strcmp(test, "obfuscation_ratio") == 0 && h->obfuscation > 0 &&
	    h->tags > 0) {
		*v_r = h->obfuscation / h->tags;
		return true;
	}
	if (strcmp(test, "image_area") == 0) {
		*v_r = h->image_area;
		return true;
	}
	if (strcmp(test, "non_space_len") == 0) {
		*v_r = h->non_space_len;
		return true;
	}
	if (strcmp(test, "embeds") == 0 && h->embeds) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "font_face_bad") == 0 && h->font_face_bad) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "font_low_contrast") == 0 && h->font_low_contrast) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "font_invalid_color") == 0 && h->font_invalid_color) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "form_action_mailto") == 0 && h->form_action_mailto) {
		*v_r = 1;
		return true;
	}
	if (strcmp(test, "non_element_ratio") == 0 && h->elements_seen > 0 &&
	    h->tags_seen > 0) {
		*v_r = (h->tags_seen - h->elements_seen) / h->tags_seen;
		return true;
	}
	return false;
}

static const char *const html_tests_known[] = {
	"html", "length", "max_size", "min_size", "closed_extra_ratio",
	"bad_tag_ratio", "non_element_ratio", "obfuscation_ratio",
	"image_area", "non_space_len", "embeds", "font_face_bad",
	"form_action_mailto", "font_low_contrast", "font_invalid_color",
	NULL
};

static const char *
html_test_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	for (size_t i = 0; html_tests_known[i] != NULL; i++)
		if (strcmp(html_tests_known[i], args[0]) == 0)
			return NULL;
	return "this HTML result is not computed";
}

/* html_test('html'): an HTML part was rendered. */
static double
html_test(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	double v;

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if (html_value(&g_array_index(all, struct hres, i), args[0],
		    &v) && v != 0)
			return 1;
	return 0;
}

/* html_range('test', min, max): min < value <= max ('inf': open). */
static double
html_range(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	double min = g_ascii_strtod(args[1], NULL), v;
	bool open = strcmp(args[2], "inf") == 0;
	double max = open ? INFINITY : g_ascii_strtod(args[2], NULL);

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if (html_value(&g_array_index(all, struct hres, i), args[0],
		    &v) && v > min && (open || v <= max))
			return 1;
	return 0;
}

/* An expression of HTMLEval ('< 384', '!= 0', '>= 2'): op and number. */
static bool
expr_true(double val, const char *expr)
{
	const char *p = expr;
	char op[3] = { 0 };
	size_t k = 0;
	double n;

	while (isspace((unsigned char)*p))
		p++;
	while (k < 2 && (*p == '<' || *p == '>' || *p == '=' || *p == '!'))
		op[k++] = *p++;
	n = g_ascii_strtod(p, NULL);
	if (strcmp(op, "<") == 0)
		return val < n;
	if (strcmp(op, "<=") == 0)
		return val <= n;
	if (strcmp(op, ">") == 0)
		return val > n;
	if (strcmp(op, ">=") == 0)
		return val >= n;
	if (strcmp(op, "==") == 0)
		return val == n;
	if (strcmp(op, "!=") == 0)
		return val != n;
	return false;
}

static const char *
expr_check(const char *const *args, size_t nargs)
{
	const char *e = args[nargs - 1];

	if (!rules_evalfn_match("^\\s*(<|<=|>|>=|==|!=)\\s*-?[0-9]+\\s*$", 0,
	    e))
		return "the expression is not OP NUMBER";
	return NULL;
}

static const char *
html_eval_check(const char *const *args, size_t nargs)
{
	const char *why = expr_check(args, nargs);

	return why != NULL ? why : html_test_check(args, nargs);
}

/* html_eval('test', 'OP N') */
static double
html_eval(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	double v;

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if (html_value(&g_array_index(all, struct hres, i), args[0],
		    &v) && expr_true(v, args[1]))
			return 1;
	return 0;
}

/* html_tag_exists('tag'): a part has the tag (opened or closed). */
static double
html_tag_exists(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if (g_hash_table_contains(g_array_index(all, struct hres,
		    i).inside, args[0]))
			return 1;
	return 0;
}

/* html_tag_balance('tag', 'OP N'): the tag's opens minus closes. */
static double
html_tag_balance(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	int *v;

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if ((v = g_hash_table_lookup(g_array_index(all, struct hres,
		    i).inside, args[0])) != NULL && expr_true(*v, args[1]))
			return 1;
	return 0;
}

/* html_image_only(min, max): an HTML part with an <img> whose length is
 * in (min, max]. */
static double
html_image_only(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	double min = g_ascii_strtod(args[0], NULL), max =
	    g_ascii_strtod(args[1], NULL);

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++) {
		const struct hres *h = &g_array_index(all, struct hres, i);

		if (g_hash_table_contains(h->inside, "img") &&
		    h->length > min && h->length <= max)
			return 1;
	}
	return 0;
}

/* The array results html_text_match reads. */
static GPtrArray *
html_strings(const struct hres *h, const char *name)
{
	if (strcmp(name, "comment") == 0)
		return h->comment;
	if (strcmp(name, "title") == 0)
		return h->title;
	if (strcmp(name, "anchor") == 0)
		return h->anchor;
	return NULL;
}

static const char *
html_text_match_check(const char *const *args, size_t nargs)
{
	GRegex *re;

	(void)nargs;
	if (strcmp(args[0], "comment") != 0 && strcmp(args[0], "title") != 0 &&
	    strcmp(args[0], "anchor") != 0)
		return "this HTML text is not kept";
	if ((re = g_regex_new(args[1], G_REGEX_RAW, 0, NULL)) == NULL)
		return "the pattern does not compile";
	g_regex_unref(re);
	return NULL;
}

/* html_text_match('comment|title|anchor', 're') (not_match: a string
 * the pattern does not match). */
static double
text_match(const struct rules_input *in, const char *const *args,
    bool want)
{
	GArray *all = html_all(in);
	GRegex *re = rules_evalfn_re(args[1], 0);

	if (re == NULL)
		return 0;
	for (guint i = 0; i < all->len; i++) {
		GPtrArray *a = html_strings(&g_array_index(all, struct hres,
		    i), args[0]);

		for (guint k = 0; a != NULL && k < a->len; k++) {
			const GString *s = g_ptr_array_index(a, k);

			if (g_regex_match_full(re, s->str, (gssize)s->len, 0, 0,
			    NULL, NULL) == want)
				return 1;
		}
	}
	return 0;
}

static double
html_text_match(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "HTML";
	return text_match(in, args, true);
}

static double
html_text_not_match(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	*where_r = "HTML";
	return text_match(in, args, false);
}

/* html_image_ratio(min, max): a part's non-space text length over its
 * image area (img width x height) in (min, max]. */
static double
html_image_ratio(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	double min = g_ascii_strtod(args[0], NULL), max =
	    g_ascii_strtod(args[1], NULL);

	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++) {
		const struct hres *h = &g_array_index(all, struct hres, i);
		double r;

		if (h->image_area <= 0)
			continue;
		r = h->non_space_len / h->image_area;
		if (r > min && r <= max)
			return 1;
	}
	return 0;
}

static double
ulen(const char *s, size_t n)
{
	return g_utf8_validate(s, (gssize)n, NULL) ?
	    (double)g_utf8_strlen(s, (gssize)n) : (double)n;
}

/* html_title_subject_ratio(r): a part's longest <title> is more than r
 * times as long as the Subject (its newline counted, as get() keeps
 * it). */
static double
html_title_subject_ratio(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);
	char *subj = rules_get(in, "Subject", 0);
	double ratio = g_ascii_strtod(args[0], NULL), sl;
	double hit = 0;

	(void)nargs;
	*where_r = "HTML";
	if (subj == NULL || subj[0] == '\0') {
		g_free(subj);
		return 0;
	}
	sl = ulen(subj, strlen(subj));
	for (guint i = 0; i < all->len && hit == 0; i++) {
		const struct hres *h = &g_array_index(all, struct hres, i);
		double max = 0;

		for (guint k = 0; h->title != NULL && k < h->title->len; k++) {
			const GString *t = g_ptr_array_index(h->title, k);

			/* Perl's truth: "" and "0" are false */
			if (t->len == 0 || (t->len == 1 && t->str[0] == '0'))
				continue;
			if (ulen(t->str, t->len) / sl > max)
				max = ulen(t->str, t->len) / sl;
		}
		if (max > ratio)
			hit = 1;
	}
	g_free(subj);
	return hit;
}

/* html_charset_faraway(): a part's <meta> charsets mostly outside the
 * ok_locales.  Never true, whatever ok_locales says: HTML.pm keeps those
 * charsets in its parser object, not in the results (html_all) the test
 * reads, so SpamAssassin 4 never sees one. */
static double
html_charset_faraway(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)in;
	(void)args;
	(void)nargs;
	*where_r = "HTML";
	return 0;
}

/* check_iframe_src(): an <iframe> with a src. */
static double
check_iframe_src(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	GArray *all = html_all(in);

	(void)args;
	(void)nargs;
	*where_r = "HTML";
	for (guint i = 0; i < all->len; i++)
		if (g_array_index(all, struct hres, i).iframe_src)
			return 1;
	return 0;
}

/* --- BodyEval's multipart_alternative_difference */

/* The words of a rendered text (split on white space, those with a
 * word character) counted into words (word -> count). */
static void
count_words(GHashTable *words, const char *s, size_t n)
{
	const char *p = s, *e = s + n;

	while (p < e) {
		const char *st;
		bool w = false;

		while (p < e) {
			gunichar u;

			if ((unsigned char)*p < 0x80) {
				if (!isspace((unsigned char)*p))
					break;
				p++;
				continue;
			}
			/* decoded only off ASCII */
			u = g_utf8_get_char_validated(p, e - p);
			if (u == (gunichar)-1 || u == (gunichar)-2 ||
			    !(g_unichar_isspace(u) || u == 0x85))
				break;
			p = g_utf8_next_char(p);
		}
		st = p;
		while (p < e) {
			gunichar u;

			if ((unsigned char)*p < 0x80) {
				if (isspace((unsigned char)*p))
					break;
				w = w || isalnum((unsigned char)*p) || *p == '_';
				p++;
				continue;
			}
			u = g_utf8_get_char_validated(p, e - p);
			if (u == (gunichar)-1 || u == (gunichar)-2) {
				p++;
				continue;
			}
			if (g_unichar_isspace(u) || u == 0x85)
				break;
			w = w || g_unichar_isalnum(u) || g_unichar_ismark(u);
			p = g_utf8_next_char(p);
		}
		if (w) {
			char *k = g_strndup(st, (size_t)(p - st));
			int *c = g_hash_table_lookup(words, k);

			if (c == NULL) {
				c = g_new0(int, 1);
				g_hash_table_insert(words, k, c);
			} else
				g_free(k);
			(*c)++;
		}
	}
}

/* Is node i under node anc (or anc itself)? */
static bool
under(const struct mtree *t, guint i, guint anc)
{
	for (int k = (int)i; k >= 0; k = g_array_index(t->nodes,
	    struct mnode, k).parent)
		if ((guint)k == anc)
			return true;
	return false;
}

static void
madiff_compute(const struct rules_input *in)
{
	struct mtree *t = tree(in);
	GArray *all = html_all(in);

	if (t->madiff_done)
		return;
	t->madiff_done = true;
	/* content_summary() (multipart/alternative, text/html,
	 * text/calendar): an invitation, left alone */
	if (t->nodes->len == 3 && strcmp(g_array_index(t->nodes,
	    struct mnode, 0).ctype, "multipart/alternative") == 0 &&
	    strcmp(g_array_index(t->nodes, struct mnode, 1).ctype,
	    "text/html") == 0 && strcmp(g_array_index(t->nodes, struct mnode,
	    2).ctype, "text/calendar") == 0 && g_array_index(t->nodes,
	    struct mnode, 1).parent == 0 && g_array_index(t->nodes,
	    struct mnode, 2).parent == 0)
		return;
	for (guint a = 0; a < t->nodes->len; a++) {
		GHashTable *html, *text;
		GHashTableIter it;
		gpointer k, v;
		double orig, left;

		if (!g_str_has_prefix(g_array_index(t->nodes, struct mnode,
		    a).ctype, "multipart/alternative"))
			continue;
		html = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    g_free);
		text = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    g_free);
		for (guint i = a + 1; i < t->nodes->len; i++) {
			const struct mnode *n = &g_array_index(t->nodes,
			    struct mnode, i);

			if (!n->leaf || !under(t, i, a))
				continue;
			if (strcmp(n->ctype, "text/html") == 0) {
				for (guint h = 0; h < all->len; h++) {
					const struct hres *r = &g_array_index(
					    all, struct hres, h);

					if (r->node != i)
						continue;
					count_words(html, r->rendered->str,
					    r->rendered->len);
					if (g_hash_table_size(html) == 0 &&
					    g_hash_table_contains(r->inside,
					    "img"))
						g_hash_table_insert(html,
						    g_strdup("\n"), g_new0(int,
						    1));
				}
			} else if (strcmp(n->ctype, "text/plain") == 0) {
				size_t len;
				char *d = leaf_decode(n, &len), *u = NULL;
				gsize out = 0;

				if (n->charset != NULL &&
				    !charset_ascii(n->charset))
					u = g_convert(d, (gssize)len, "UTF-8",
					    n->charset, NULL, &out, NULL);
				if (u != NULL)
					count_words(text, u, out);
				else
					count_words(text, d, len);
				g_free(u);
				g_free(d);
			}
		}
		orig = g_hash_table_size(html);
		if (orig > 0) {
			t->madiff_html = orig;
			t->madiff_text = g_hash_table_size(text);
			g_hash_table_iter_init(&it, text);
			while (g_hash_table_iter_next(&it, &k, &v)) {
				int *hc = g_hash_table_lookup(html, k);

				if (hc != NULL && *hc - *(int *)v < 1)
					g_hash_table_remove(html, k);
			}
			left = g_hash_table_size(html);
			if (left / orig * 100 > t->madiff)
				t->madiff = left / orig * 100;
		}
		g_hash_table_destroy(html);
		g_hash_table_destroy(text);
	}
}

/* multipart_alternative_difference(min, max): the share (percent) of
 * the HTML alternative's words its text alternative lacks, in (min,
 * max] (min 0: from 0; max 'undef': open). */
static double
madiff(const struct rules_input *in, const char *const *args, size_t nargs,
    const char **where_r)
{
	struct mtree *t = tree(in);
	double min = g_ascii_strtod(args[0], NULL);

	(void)nargs;
	*where_r = "body";
	madiff_compute(in);
	return (min == 0 || t->madiff > min) && (strcmp(args[1], "undef") ==
	    0 || t->madiff <= g_ascii_strtod(args[1], NULL));
}

/* multipart_alternative_difference_count(ratio, minhtml): text words
 * over HTML words above ratio, with more than minhtml HTML words. */
static double
madiff_count(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);

	(void)nargs;
	*where_r = "body";
	madiff_compute(in);
	if (!(t->madiff_html > g_ascii_strtod(args[1], NULL)))
		return 0;
	return t->madiff_text / t->madiff_html > g_ascii_strtod(args[0],
	    NULL);
}

/* check_stock_info(min): in the first text/plain part, the number of
 * different stock tip labels ("Symbol: ", "Current price: ",
 * "Rating: "...) is at least min (min 0: always). */
static double
check_stock_info(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);
	double min = g_ascii_strtod(args[0], NULL);
	GRegex *label = rules_evalfn_re("^\\s*([^:\\s][^:\\n]{2,29})\\s*:"
	    "\\s*\\S", G_REGEX_MULTILINE);
	GRegex *stock = rules_evalfn_re("^(trad(?:e|ing)date|company(?:name)?|"
	    "s\\w?(?:t\\w?o\\w?c\\w?k|y\\w?m(?:\\w?b\\w?o\\w?l)?)|"
	    "t(?:arget|icker)|(?:opening|current)p(?:rice)?|"
	    "p(?:rojected|osition)|expectations|weeks?high|"
	    "marketperformance|(?:year|week|month|day|price)"
	    "(?:target|estimates?)|sector|r(?:ecommendation|ating))$", 0);
	GHashTable *hits;
	GMatchInfo *mi = NULL;
	double n;
	size_t len;
	char *d = NULL;

	(void)nargs;
	*where_r = "body";
	if (min == 0)
		return 1;
	for (guint i = 0; i < t->nodes->len && d == NULL; i++) {
		const struct mnode *nd = &g_array_index(t->nodes,
		    struct mnode, i);

		if (nd->leaf && strcmp(nd->ctype, "text/plain") == 0)
			d = leaf_decode(nd, &len);
	}
	if (d == NULL)
		return 0;
	hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_regex_match_full(label, d, (gssize)len, 0, 0, &mi, NULL);
	while (g_match_info_matches(mi)) {
		char *l = g_match_info_fetch(mi, 1), *w = l;

		/* lc, then only the letters a-z */
		for (const char *r = l; *r != '\0'; r++)
			if (g_ascii_isalpha(*r))
				*w++ = g_ascii_tolower(*r);
		*w = '\0';
		if (g_regex_match(stock, l, 0, NULL))
			g_hash_table_add(hits, l);
		else
			g_free(l);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	n = g_hash_table_size(hits);
	g_hash_table_destroy(hits);
	g_free(d);
	return n >= min;
}

/* --- MIMEEval's _check_attachments */

static bool
charset_ascii(const char *cs)
{
	return rules_evalfn_match("(?:us-ascii|ansi_x3\\.4-1968|iso-ir-6|"
	    "ansi_x3\\.4-1986|iso_646\\.irv:1991|ascii|iso646-us|us|ibm367|"
	    "cp367|csascii)", 0, cs);
}

static void
check_attachments(const struct rules_input *in)
{
	struct mtree *t = tree(in);
	GArray *part_bytes, *part_type;
	double qp_bytes = 0, qp_count = 0, normal = 0, unicode = 0;
	int part = -1;
	GRegex *qp_re, *trail_re, *uni_re;

	if (t->att_done)
		return;
	t->att_done = true;
	t->multipart_ratio = 1.0;
	part_bytes = g_array_new(FALSE, TRUE, sizeof(double));
	part_type = g_array_new(FALSE, TRUE, sizeof(const char *));
	qp_re = rules_evalfn_re("=(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])",
	    0);
	trail_re = rules_evalfn_re("((?:=09|=20)+)\\s*$", 0);
	uni_re = rules_evalfn_re("&#x[0-9A-F]{4};", 0);
	for (guint i = 0; i < t->nodes->len; i++) {
		const struct mnode *n = &g_array_index(t->nodes, struct mnode,
		    i);
		const char *cs = n->charset != NULL ? n->charset : "";
		bool in_cd;
		double nan_bytes = -1;

		if (strcmp(n->ctype, "multipart/alternative") == 0)
			t->multipart_alt = true;
		/* _check_mime_header */
		if (strcmp(n->ctype, "text/html") == 0)
			t->html_count++;
		else if (g_str_has_prefix(n->ctype, "text"))
			t->text_count++;
		if (strstr(n->cte, "base64") != NULL)
			t->base64_count++;
		else if (strstr(n->cte, "quoted-printable") != NULL)
			t->qp_count_parts++;
		if (n->cd[0] != '\0' && strstr(n->cd, "attachment") != NULL)
			t->attachment++;
		if (g_str_has_prefix(n->ctype, "text") &&
		    strstr(n->cte, "base64") != NULL &&
		    (cs[0] == '\0' || charset_ascii(cs)) &&
		    !g_str_has_prefix(n->cd, "attachment") &&
		    !g_str_has_prefix(n->cd, "inline"))
			t->base64_encoded_text = true;
		if (rules_evalfn_match("iso-\\S+-\\S+\\b",
		    G_REGEX_CASELESS, cs) && !rules_evalfn_match(
		    "iso-(?:8859-\\d{1,2}|2022-(?:jp|kr))\\b",
		    G_REGEX_CASELESS, cs))
			t->bad_iso_charset = true;
		/* a charset with a letter outside the ok_locales */
		if (!t->faraway_charset && rules_evalfn_match("[a-z]",
		    G_REGEX_CASELESS, cs) && !rules_locales_all() &&
		    !rules_charset_ok(cs))
			t->faraway_charset = true;
		if (!n->leaf)
			continue;
		part++;
		g_array_set_size(part_bytes, (guint)part + 1);
		g_array_set_size(part_type, (guint)part + 1);
		g_array_index(part_type, const char *, part) = n->ctype;
		in_cd = strstr(n->cd, "attachment") != NULL;
		g_array_index(part_bytes, double, part) = in_cd ? nan_bytes : 0;
		{
			const char *p = n->body, *e = n->body + n->body_len;
			size_t len;

			while (p < e) {
				char *line;

				next_line(p, e, &len);
				if (t->multipart_alt && !in_cd &&
				    (strcmp(n->ctype, "text/plain") == 0 ||
				    strcmp(n->ctype, "text/html") == 0))
					g_array_index(part_bytes, double,
					    part) += (double)len;
				line = g_strndup(p, len);
				if (strcmp(n->cte, "quoted-printable") == 0 &&
				    strncmp(line, "SPAM: ", 6) != 0) {
					GMatchInfo *mi = NULL;
					int c = 0;

					if (len > 79)
						t->qp_long_line = true;
					qp_bytes += (double)len;
					if (strchr(line, '=') != NULL) {
						g_regex_match(qp_re, line, 0,
						    &mi);
						while (g_match_info_matches(mi)) {
							c++;
							g_match_info_next(mi,
							    NULL);
						}
						g_match_info_free(mi);
						if (c > 0) {
							qp_count += c;
							mi = NULL;
							if (g_regex_match(
							    trail_re, line, 0,
							    &mi)) {
								char *tr =
								    g_match_info_fetch(
								    mi, 1);

								qp_count -= (double)
								    strlen(tr) / 3;
								g_free(tr);
							}
							g_match_info_free(mi);
						}
					}
				}
				if (strcmp(n->ctype, "text/plain") == 0 &&
				    (n->charset == NULL ||
				    strcmp(n->charset, "us-ascii") == 0)) {
					for (size_t k = 0; k < len; k++) {
						unsigned char c =
						    (unsigned char)line[k];

						if (c == 0 || c == 0x0d ||
						    c >= 0x80) {
							t->ascii_text_illegal++;
							break;
						}
					}
				}
				if (strcmp(n->ctype, "text/plain") == 0 &&
				    (n->cte[0] == '\0' ||
				    strcmp(n->cte, "7bit") == 0 ||
				    strcmp(n->cte, "8bit") == 0)) {
					GMatchInfo *mi = NULL;
					int subs = 0;
					size_t rest = len;

					g_regex_match(uni_re, line, 0, &mi);
					while (g_match_info_matches(mi)) {
						subs++;
						g_match_info_next(mi, NULL);
					}
					g_match_info_free(mi);
					rest -= (size_t)subs * 8;
					normal += (double)rest;
					unicode += subs;
				}
				g_free(line);
				p += len;
			}
		}
	}
	/* MIMEEval then reuses mime_qp_count for the encoded characters:
	 * a quoted-printable part with none does not count. */
	if (qp_bytes > 0) {
		t->qp_ratio = qp_count / qp_bytes;
		t->qp_count_parts = qp_count;
	}
	if (normal > 0)
		t->text_unicode_ratio = unicode / normal;
	if (t->multipart_alt) {
		double text = -1, html = -1;

		for (int i = part; i >= 0; i--) {
			double b = g_array_index(part_bytes, double, i);
			const char *ty = g_array_index(part_type, const char *,
			    i);

			if (b < 0)
				continue;
			if (html < 0 && strcmp(ty, "text/html") == 0)
				html = b;
			else if (text < 0 && strcmp(ty, "text/plain") == 0)
				text = b;
			if (html >= 0 && text >= 0)
				break;
		}
		if (text >= 0 && html > 0)
			t->multipart_ratio = text / html;
	}
	g_array_free(part_bytes, TRUE);
	g_array_free(part_type, TRUE);
}

static const char *const mime_tests[] = {
	"mime_base64_count", "mime_base64_encoded_text", "mime_qp_count",
	"mime_qp_long_line", "mime_multipart_alternative",
	"mime_bad_iso_charset", "mime_attachment", "mime_faraway_charset",
	"mimepart_limit_exceeded", NULL
};

static const char *
mime_check(const char *const *args, size_t nargs)
{
	(void)nargs;
	for (size_t i = 0; mime_tests[i] != NULL; i++)
		if (strcmp(mime_tests[i], args[0]) == 0)
			return NULL;
	return "this MIME result is not computed";
}

/* check_for_mime('mime_...'): the flag or count is set. */
static double
check_for_mime(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);
	const char *w = args[0];

	(void)nargs;
	check_attachments(in);
	*where_r = "MIME";
	if (strcmp(w, "mime_base64_count") == 0)
		return t->base64_count > 0;
	if (strcmp(w, "mime_base64_encoded_text") == 0)
		return t->base64_encoded_text;
	if (strcmp(w, "mime_qp_count") == 0)
		return t->qp_count_parts > 0;
	if (strcmp(w, "mime_qp_long_line") == 0)
		return t->qp_long_line;
	if (strcmp(w, "mime_multipart_alternative") == 0)
		return t->multipart_alt;
	if (strcmp(w, "mime_bad_iso_charset") == 0)
		return t->bad_iso_charset;
	if (strcmp(w, "mime_attachment") == 0)
		return t->attachment > 0;
	if (strcmp(w, "mime_faraway_charset") == 0)
		return t->faraway_charset;
	/* Message.pm notes mimepart_limit_exceeded on the message, not
	 * where check_for_mime looks (the PerMsgStatus): it never hits
	 * there (check_msg_parse_flags sees it). */
	return 0;
}

/* The message's own Content-Type starts with text/html. */
static bool
top_html(const struct rules_input *in)
{
	char *ct = rules_get(in, "Content-Type", 0);
	bool yes = ct != NULL && g_ascii_strncasecmp(ct, "text/html", 9) == 0;

	g_free(ct);
	return yes;
}

static double
check_for_mime_html(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	*where_r = "MIME";
	if (top_html(in))
		return 1;
	check_attachments(in);
	return tree(in)->html_count > 0;
}

static double
check_for_mime_html_only(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	struct mtree *t;

	(void)args;
	(void)nargs;
	*where_r = "MIME";
	if (top_html(in))
		return 1;
	check_attachments(in);
	t = tree(in);
	return t->html_count > 0 && t->text_count == 0;
}

/* check_mime_multipart_ratio(min, max): text/plain over text/html bytes
 * of a multipart/alternative, in [min, max). */
static double
check_mime_multipart_ratio(const struct rules_input *in,
    const char *const *args, size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);

	(void)nargs;
	check_attachments(in);
	*where_r = "MIME";
	return t->multipart_ratio >= g_ascii_strtod(args[0], NULL) &&
	    t->multipart_ratio < g_ascii_strtod(args[1], NULL);
}

/* check_qp_ratio(min) */
static double
check_qp_ratio(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	check_attachments(in);
	*where_r = "MIME";
	return tree(in)->qp_ratio >= g_ascii_strtod(args[0], NULL);
}

/* check_for_ascii_text_illegal(): a us-ascii text/plain line with NUL,
 * CR or 8-bit bytes. */
static double
ascii_text_illegal(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)args;
	(void)nargs;
	check_attachments(in);
	*where_r = "MIME";
	return tree(in)->ascii_text_illegal > 0;
}

/* check_abundant_unicode_ratio(ratio): &#xHHHH; entities in plain text. */
static double
abundant_unicode(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	(void)nargs;
	check_attachments(in);
	*where_r = "MIME";
	return tree(in)->text_unicode_ratio >= g_ascii_strtod(args[0], NULL);
}

/* check_ma_non_text(): a multipart/alternative holding a part that is
 * not text (multipart/related and application/rtf aside). */
static double
ma_non_text(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);

	(void)args;
	(void)nargs;
	*where_r = "MIME";
	for (guint i = 0; i < t->nodes->len; i++) {
		const struct mnode *n = &g_array_index(t->nodes, struct mnode,
		    i);
		bool under = false;

		/* a descendant of a multipart/alternative? */
		for (int p = n->parent; p >= 0; p = g_array_index(t->nodes,
		    struct mnode, p).parent)
			if (strcmp(g_array_index(t->nodes, struct mnode,
			    p).ctype, "multipart/alternative") == 0) {
				under = true;
				break;
			}
		if (!under || strcmp(n->ctype, "multipart/related") == 0 ||
		    strcmp(n->ctype, "application/rtf") == 0 ||
		    g_str_has_prefix(n->ctype, "text/"))
			continue;
		/* find_parts(qr/./, 1): leaves only */
		if (!n->leaf)
			continue;
		return 1;
	}
	return 0;
}

/* check_base64_length(min[, max]): the longest raw line of the base64
 * leaves (its line end counted; application/ics aside) is at least min
 * and at most max. */
static double
base64_length(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);
	size_t longest = 0;

	*where_r = "MIME";
	for (guint i = 0; i < t->nodes->len; i++) {
		const struct mnode *n = &g_array_index(t->nodes, struct mnode,
		    i);
		const char *p, *e;
		size_t len;

		if (!n->leaf || strcmp(n->cte, "base64") != 0 ||
		    strcmp(n->ctype, "application/ics") == 0)
			continue;
		p = n->body;
		e = n->body + n->body_len;
		for (; p < e; p += len) {
			next_line(p, e, &len);
			if (len > longest)
				longest = len;
		}
	}
	if (nargs > 1 && (double)longest > g_ascii_strtod(args[1], NULL))
		return 0;
	return (double)longest >= g_ascii_strtod(args[0], NULL);
}

/* Charsets whose text reads as capitals (Constants.pm
 * CHARSETS_LIKELY_TO_FP_AS_CAPS), anchored. */
#define CAPS_CHARSETS_RE "^(?:(?:iso-?)?8859-5|(?:iso-?)?8859-7|koi8-r|" \
	"koi8-u|windows-1251|windows-1253|cp1251|cp1253|" \
	"(?:iso-?)?10646-1|unicode-1-1|utf-?(?:7|8|16|32)|ucs-?[24]|" \
	"big5|gb(?:k|2312|18030)|euc-(?:cn|jp|kr|tw)|iso-2022-(?:cn|jp|" \
	"kr)|shift_jis|windows-31j|ks_c_5601-1987)$"

/* MIMEEval's body_charset_is_likely_to_fp: the message's charset or a
 * part's is one whose text reads as capitals. */
static bool
charset_fp_caps(const struct rules_input *in)
{
	struct mtree *t = tree(in);
	char *ct = rules_get(in, "Content-Type", 0);
	bool yes = false;

	if (ct != NULL) {
		GMatchInfo *mi = NULL;
		GRegex *re = rules_evalfn_re("charset=(?:\"([^\"]+)\"|'([^']+)'|"
		    "(\\S+))", G_REGEX_CASELESS);

		if (g_regex_match(re, ct, 0, &mi)) {
			for (int k = 1; k <= 3 && !yes; k++) {
				char *c = g_match_info_fetch(mi, k);

				yes = c != NULL && c[0] != '\0' &&
				    rules_evalfn_match(CAPS_CHARSETS_RE,
				    G_REGEX_CASELESS, c);
				g_free(c);
			}
		}
		g_match_info_free(mi);
		g_free(ct);
	}
	for (guint i = 0; i < t->nodes->len && !yes; i++) {
		const char *cs = g_array_index(t->nodes, struct mnode,
		    i).charset;

		yes = cs != NULL && rules_evalfn_match("[a-z]",
		    G_REGEX_CASELESS, cs) && rules_evalfn_match(
		    CAPS_CHARSETS_RE, G_REGEX_CASELESS, cs);
	}
	return yes;
}

/* The share of capitals check_for_uppercase compares, in percent, once
 * a message (-1 for a charset whose capitals say nothing). */
static double
caps_share(const struct rules_input *in)
{
	static GRegex *two_words, *b64, *iso2022;
	double len = 0, lower = 0, upper = 0;

	if (charset_fp_caps(in))
		return -1;
	if (g_once_init_enter(&two_words))
		g_once_init_leave(&two_words, g_regex_new("\\S\\s+\\S",
		    G_REGEX_RAW, 0, NULL));
	if (g_once_init_enter(&b64))
		g_once_init_leave(&b64, g_regex_new("^(?:[A-Za-z0-9+\\/=]{60,76} "
		    "){2}", G_REGEX_RAW, 0, NULL));
	if (g_once_init_enter(&iso2022))
		g_once_init_leave(&iso2022, g_regex_new("\\x1b\\$B.*\\x1b\\(B",
		    G_REGEX_RAW | G_REGEX_DOTALL, 0, NULL));
	for (size_t i = 0; i < in->nbody; i++) {
		char *line = g_strndup(in->body[i].p, in->body[i].len), *l2;

		if (!g_regex_match(two_words, line, 0, NULL) ||
		    g_regex_match(b64, line, 0, NULL)) {
			g_free(line);
			continue;
		}
		l2 = g_regex_replace_literal(iso2022, line, -1, 0, "", 0,
		    NULL);
		len += g_utf8_validate(l2, -1, NULL) ?
		    (double)g_utf8_strlen(l2, -1) : (double)strlen(l2);
		for (const char *p = l2; *p != '\0'; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
				lower++;
			else if (*p >= 'A' && *p <= 'Z')
				upper++;
		g_free(l2);
		g_free(line);
	}
	if (len < 200 || upper + lower == 0)
		return 0;
	return upper / (upper + lower) * 100;
}

/* check_for_uppercase(min, max): of the letters and digits of the body
 * lines that hold two words (base64-looking lines aside), the capitals'
 * share in percent is in (min, max]; bodies under 200 characters have
 * none. */
static double
check_for_uppercase(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	struct mtree *t = tree(in);

	(void)nargs;
	*where_r = "body";
	if (!t->caps_done) {
		t->caps_pct = caps_share(in);
		t->caps_done = true;
	}
	return t->caps_pct >= 0 &&
	    t->caps_pct > g_ascii_strtod(args[0], NULL) &&
	    t->caps_pct <= g_ascii_strtod(args[1], NULL);
}

const struct rules_evalfn rules_evalfn_mime[] = {
	{ "check_for_mime", 1, 1, check_for_mime, mime_check },
	{ "check_for_mime_html", 0, 0, check_for_mime_html, NULL },
	{ "check_for_mime_html_only", 0, 0, check_for_mime_html_only, NULL },
	{ "check_mime_multipart_ratio", 2, 2, check_mime_multipart_ratio,
	  NULL },
	{ "check_qp_ratio", 1, 1, check_qp_ratio, NULL },
	{ "check_for_ascii_text_illegal", 0, 0, ascii_text_illegal, NULL },
	{ "check_abundant_unicode_ratio", 1, 1, abundant_unicode, NULL },
	{ "check_ma_non_text", 0, 0, ma_non_text, NULL },
	{ "check_base64_length", 1, 2, base64_length, NULL },
	/* BodyEval passes the body first; the rule gives the range. */
	{ "check_for_uppercase", 2, 2, check_for_uppercase, NULL },
	{ "html_test", 1, 1, html_test, html_test_check },
	{ "html_range", 3, 3, html_range, html_test_check },
	{ "html_eval", 2, 2, html_eval, html_eval_check },
	{ "html_tag_exists", 1, 1, html_tag_exists, NULL },
	{ "html_tag_balance", 2, 2, html_tag_balance, expr_check },
	{ "html_image_only", 2, 2, html_image_only, NULL },
	{ "html_text_match", 2, 2, html_text_match, html_text_match_check },
	{ "html_text_not_match", 2, 2, html_text_not_match,
	  html_text_match_check },
	{ "html_image_ratio", 2, 2, html_image_ratio, NULL },
	{ "html_title_subject_ratio", 1, 1, html_title_subject_ratio, NULL },
	{ "html_charset_faraway", 0, 0, html_charset_faraway, NULL },
	{ "check_iframe_src", 0, 0, check_iframe_src, NULL },
	/* BodyEval passes the body first; the rule gives the rest. */
	{ "multipart_alternative_difference", 2, 2, madiff, NULL },
	{ "check_stock_info", 1, 1, check_stock_info, NULL },
	{ "multipart_alternative_difference_count", 2, 2, madiff_count,
	  NULL },
	{ NULL, 0, 0, NULL, NULL }
};
