/*
 * html.c - a forgiving HTML-to-text renderer.  It is a scanner, not a
 * tree builder: tags are recognised one at a time, block-level tags end a
 * line (paragraph tags, and two line breaks in a row, end a paragraph, as
 * in SpamAssassin's renderer), script/style/head content is dropped, character references are
 * decoded, and attributes that carry URLs or hide text are noted.  Mail
 * HTML is routinely broken; every byte sequence renders to something.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "lib/arena.h"
#include "msg.h"

struct buf {
	struct arena	*a;
	char		*p;
	size_t		 len, cap;
};

static void
buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = arena_alloc(b->a, cap);
		if (b->len)
			memcpy(np, b->p, b->len);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_put(b, u, n);
}

static const struct {
	const char	*name;
	uint32_t	 cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "euro", 0x20ac }, { "pound", 0xa3 },
	{ "yen", 0xa5 }, { "cent", 0xa2 }, { "sect", 0xa7 }, { "deg", 0xb0 },
	{ "middot", 0xb7 }, { "bull", 0x2022 }, { "hellip", 0x2026 },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "shy", 0xad }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "times", 0xd7 }, { "eacute", 0xe9 },
	{ "egrave", 0xe8 }, { "agrave", 0xe0 }, { "aacute", 0xe1 },
	{ "uuml", 0xfc }, { "ouml", 0xf6 }, { "auml", 0xe4 }, { "szlig", 0xdf },
	{ "ccedil", 0xe7 }, { "ntilde", 0xf1 },
};

/* Decodes the reference at s (after '&'); returns bytes consumed or 0. */
static size_t
decode_ref(const char *s, size_t n, uint32_t *cp_r)
{
	size_t i = 0;

	if (n > 0 && s[0] == '#') {
		uint32_t v = 0;
		bool hex = n > 1 && (s[1] == 'x' || s[1] == 'X');
		size_t digits = 0;

		i = hex ? 2 : 1;
		for (; i < n && digits < 8; i++, digits++) {
			int c = (unsigned char)s[i];

			if (hex && isxdigit(c))
				v = v * 16 + (uint32_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
			else if (!hex && isdigit(c))
				v = v * 10 + (uint32_t)(c - '0');
			else
				break;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		*cp_r = v;
		return i;
	}
	for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]); e++) {
		size_t l = strlen(entities[e].name);

		if (l <= n && memcmp(s, entities[e].name, l) == 0) {
			*cp_r = entities[e].cp;
			if (l < n && s[l] == ';')
				l++;
			return l;
		}
	}
	return 0;
}

/* Decodes character references of s[0..n) into the arena. */
static char *
decode_attr(struct arena *a, const char *s, size_t n)
{
	struct buf b = { a, NULL, 0, 0 };

	buf_put(&b, "", 0);
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t run = amp ? (size_t)(amp - (s + i)) : n - i;
		uint32_t cp;
		size_t k;

		/* The text up to the next '&' goes out in one piece. */
		buf_put(&b, s + i, run);
		i += run;
		if (i >= n)
			break;
		if ((k = decode_ref(s + i + 1, n - i - 1, &cp)) > 0) {
			buf_utf8(&b, cp);
			i += k + 1;
		} else
			buf_put(&b, s + i++, 1);
	}
	return b.p;
}

/* Is s[0..n) the name want (a string literal), in any case? */
#define name_is(s, n, want)						\
	((n) == sizeof(want) - 1 && strncasecmp((s), (want), (n)) == 0)

static const struct {
	const char	*name;
	size_t		 len;
} block_tags[] = {
#define T(s)	{ s, sizeof(s) - 1 }
	T("p"), T("div"), T("br"), T("tr"), T("li"), T("ul"), T("ol"),
	T("table"), T("h1"), T("h2"), T("h3"), T("h4"), T("h5"), T("h6"),
	T("blockquote"), T("hr"), T("dd"), T("dt"), T("pre"), T("title"),
	T("center"), T("form"), T("body"), T("html"),
#undef T
};

/*
 * The tags after which SpamAssassin's renderer (HTML.pm html_whitespace,
 * for the start and the end tag alike) writes a blank line: a paragraph
 * break, so its body rules see the text on either side as two
 * paragraphs.  br and div write a newline each time, so two in a row are
 * a paragraph break too.
 */
static bool
is_paragraph(const char *s, size_t n)
{
	return name_is(s, n, "p") || name_is(s, n, "hr") ||
	    name_is(s, n, "blockquote") || name_is(s, n, "pre") ||
	    name_is(s, n, "listing") || name_is(s, n, "plaintext") ||
	    name_is(s, n, "xmp") || name_is(s, n, "title");
}

static bool
is_block(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(block_tags) / sizeof(block_tags[0]); i++)
		if (block_tags[i].len == n &&
		    strncasecmp(s, block_tags[i].name, n) == 0)
			return true;
	return false;
}

/* Does a style attribute make its element's text invisible? */
static bool
style_hides(const char *v)
{
	char low[512];
	size_t n = 0, o = 0;

	for (; v[n] && o < sizeof(low) - 1; n++)
		if (!isspace((unsigned char)v[n]))
			low[o++] = (char)tolower((unsigned char)v[n]);
	low[o] = '\0';
	return strstr(low, "display:none") || strstr(low, "visibility:hidden") ||
	    strstr(low, "font-size:0") || strstr(low, "font-size:1px") ||
	    strstr(low, "opacity:0;") || strstr(low, "max-height:0");
}

struct tag {
	const char	*name;
	size_t		 nlen;
	bool		 closing, selfclose;
	const char	*attr_href, *attr_src, *attr_action, *attr_style;
	size_t		 href_n, src_n, action_n, style_n;
};

/* Parses the tag starting at s[0] == '<'; returns its length (to '>'). */
static size_t
parse_tag(const char *s, size_t n, struct tag *t)
{
	size_t i = 1;

	memset(t, 0, sizeof(*t));
	if (i < n && s[i] == '/') {
		t->closing = true;
		i++;
	}
	t->name = s + i;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == ':' || s[i] == '-'))
		i++;
	t->nlen = (size_t)(s + i - t->name);
	while (i < n && s[i] != '>') {
		const char *an, *av = NULL;
		size_t anl, avl = 0;

		while (i < n && (isspace((unsigned char)s[i]) || s[i] == '/')) {
			if (s[i] == '/')
				t->selfclose = true;
			i++;
		}
		an = s + i;
		while (i < n && !isspace((unsigned char)s[i]) && s[i] != '=' &&
		    s[i] != '>' && s[i] != '/')
			i++;
		anl = (size_t)(s + i - an);
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '=') {
			i++;
			while (i < n && isspace((unsigned char)s[i]))
				i++;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				char q = s[i++];

				av = s + i;
				while (i < n && s[i] != q)
					i++;
				avl = (size_t)(s + i - av);
				if (i < n)
					i++;
			} else {
				av = s + i;
				while (i < n && !isspace((unsigned char)s[i]) && s[i] != '>')
					i++;
				avl = (size_t)(s + i - av);
			}
		}
		if (anl == 0 && av == NULL) {
			if (i < n && s[i] != '>')
				i++;
			continue;
		}
		if (av == NULL)
			continue;
		if (name_is(an, anl, "href")) {
			t->attr_href = av;
			t->href_n = avl;
		} else if (name_is(an, anl, "src")) {
			t->attr_src = av;
			t->src_n = avl;
		} else if (name_is(an, anl, "action")) {
			t->attr_action = av;
			t->action_n = avl;
		} else if (name_is(an, anl, "style")) {
			t->attr_style = av;
			t->style_n = avl;
		}
	}
	return i < n ? i + 1 : n;
}

#define MAX_LINKS	1000

static void
add_link(struct arena *a, struct html_out *out, size_t *cap, const char *v,
    size_t n, unsigned kind)
{
	if (out->nlinks >= MAX_LINKS || n == 0)
		return;
	out->links = arena_grow(a, out->links, out->nlinks, cap,
	    sizeof(*out->links));
	out->links[out->nlinks].url = decode_attr(a, v, n);
	out->links[out->nlinks].anchor = NULL;
	out->links[out->nlinks].kind = kind;
	out->nlinks++;
}

void
html_render(struct arena *a, const char *s, size_t n, struct html_out *out)
{
	struct buf b = { a, NULL, 0, 0 };
	size_t i = 0, linkcap = 0, anchor_start = 0;
	int skip = 0;		/* inside script/style/head */
	int hidden = 0;		/* depth of elements styled invisible */
	size_t open_anchor = SIZE_MAX;
	bool space = true;	/* last output was whitespace */

	memset(out, 0, sizeof(*out));
	buf_put(&b, "", 0);
	while (i < n) {
		char c = s[i];

		if (c == '<') {
			struct tag t;
			size_t len;

			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				const char *end = memmem(s + i + 4, n - i - 4, "-->", 3);

				i = end ? (size_t)(end - s) + 3 : n;
				continue;
			}
			if (i + 1 < n && !isalpha((unsigned char)s[i + 1]) &&
			    s[i + 1] != '/' && s[i + 1] != '!' && s[i + 1] != '?') {
				/* A lone '<' is text. */
				goto text;
			}
			len = parse_tag(s + i, n - i, &t);
			i += len;
			if (name_is(t.name, t.nlen, "script") ||
			    name_is(t.name, t.nlen, "style") ||
			    name_is(t.name, t.nlen, "head")) {
				if (t.closing) {
					if (skip > 0)
						skip--;
				} else if (!t.selfclose)
					skip++;
				continue;
			}
			if (t.attr_style && !t.closing && !t.selfclose) {
				char *st = decode_attr(a, t.attr_style, t.style_n);

				if (style_hides(st))
					hidden++;
			} else if (t.closing && hidden > 0 &&
			    (name_is(t.name, t.nlen, "div") || name_is(t.name, t.nlen, "span") ||
			    name_is(t.name, t.nlen, "p") || name_is(t.name, t.nlen, "font") ||
			    name_is(t.name, t.nlen, "td") || name_is(t.name, t.nlen, "table")))
				hidden--;
			if (!t.closing) {
				if (name_is(t.name, t.nlen, "a")) {
					out->anchors++;
					if (t.attr_href) {
						add_link(a, out, &linkcap, t.attr_href, t.href_n, MURL_HREF);
						open_anchor = out->nlinks - 1;
						anchor_start = b.len;
					}
				} else if (name_is(t.name, t.nlen, "img")) {
					out->images++;
					if (t.attr_src)
						add_link(a, out, &linkcap, t.attr_src, t.src_n, MURL_SRC);
				} else if (name_is(t.name, t.nlen, "form")) {
					out->forms++;
					if (t.attr_action)
						add_link(a, out, &linkcap, t.attr_action, t.action_n, MURL_FORM);
				} else if (t.attr_href)
					add_link(a, out, &linkcap, t.attr_href, t.href_n, MURL_HREF);
				else if (t.attr_src)
					add_link(a, out, &linkcap, t.attr_src, t.src_n, MURL_SRC);
			} else if (name_is(t.name, t.nlen, "a") && open_anchor != SIZE_MAX &&
			    open_anchor < out->nlinks) {
				out->links[open_anchor].anchor =
				    arena_strndup(a, b.p + anchor_start, b.len - anchor_start);
				open_anchor = SIZE_MAX;
			}
			if (skip == 0 && b.len > 0 && (is_paragraph(t.name,
			    t.nlen) || name_is(t.name, t.nlen, "br") ||
			    name_is(t.name, t.nlen, "div"))) {
				/* At most a blank line: more says no more. */
				bool	 para = is_paragraph(t.name, t.nlen);
				size_t	 nl = 0;

				while (b.len > 0 && b.p[b.len - 1] == ' ')
					b.len--;
				while (nl < b.len && nl < 2 &&
				    b.p[b.len - 1 - nl] == '\n')
					nl++;
				if (nl < 2)
					buf_put(&b, "\n\n", para ? 2 - nl : 1);
				space = true;
			} else if (skip == 0 && is_block(t.name, t.nlen) &&
			    b.len > 0 && b.p[b.len - 1] != '\n') {
				while (b.len > 0 && b.p[b.len - 1] == ' ')
					b.len--;
				buf_put(&b, "\n", 1);
				space = true;
			}
			continue;
		}
text:
		if (skip > 0) {
			i++;
			continue;
		}
		if (c == '&') {
			uint32_t cp;
			size_t k = decode_ref(s + i + 1, n - i - 1, &cp);

			if (k > 0) {
				i += k + 1;
				if (cp == 0xa0 || cp == ' ') {
					if (!space)
						buf_put(&b, " ", 1);
					space = true;
				} else {
					buf_utf8(&b, cp);
					space = false;
					if (hidden)
						out->hidden_chars++;
				}
				continue;
			}
		}
		if (isspace((unsigned char)c) || c == '\0') {
			if (!space)
				buf_put(&b, " ", 1);
			space = true;
			i++;
			continue;
		}
		{
			/* A run of ordinary text goes out in one piece. */
			size_t j = i + 1;

			while (j < n && s[j] != '<' && s[j] != '&' && s[j] != '\0' &&
			    !isspace((unsigned char)s[j]))
				j++;
			buf_put(&b, s + i, j - i);
			space = false;
			if (hidden)
				out->hidden_chars += j - i;
			i = j;
		}
	}
	while (b.len > 0 && (b.p[b.len - 1] == ' ' || b.p[b.len - 1] == '\n'))
		b.p[--b.len] = '\0';
	out->text = b.p;
	out->len = b.len;
}
