/*
 * page.c - HTML building for vigil-web (see page.h): escaping of every
 * outside value and the page's stylesheet.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "web/page.h"

const char page_css[] =
	"body{font-family:sans-serif;margin:2em auto;max-width:60em;"
	"padding:0 1em;color:#222}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{border-bottom:1px solid #ccc;padding:.3em .5em;"
	"text-align:left;vertical-align:top}\n"
	"pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;"
	"border:1px solid #ddd;padding:1em}\n"
	"form.act{display:inline;margin-right:1em}\n"
	".err{color:#a00}\n.ok{color:#060}\n.meta td{border:none}\n";

bool
page_begin(struct page *p, struct arena *a, const char *title)
{
	p->a = a;
	p->buf = NULL;
	p->len = 0;
	p->f = open_memstream(&p->buf, &p->len);
	if (p->f == NULL)
		return false;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<link rel=\"stylesheet\" href=\"/style.css\"><title>", p->f);
	page_text(p, title);
	fputs("</title></head><body>\n<h1>", p->f);
	page_text(p, title);
	fputs("</h1>\n", p->f);
	return true;
}

void
page_end(struct page *p)
{
	fputs("</body></html>\n", p->f);
	fclose(p->f);
	p->f = NULL;
}

void
page_raw(struct page *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
}

void
page_textn(struct page *p, const char *s, size_t n)
{
	size_t ulen;
	/* Valid UTF-8 first, so that no byte sequence can hide a '<'. */
	const unsigned char *u = (const unsigned char *)mime_utf8(p->a, s, n,
	    &ulen);

	for (size_t i = 0; i < ulen; i++) {
		unsigned char c = u[i];

		switch (c) {
		case '&': fputs("&amp;", p->f); break;
		case '<': fputs("&lt;", p->f); break;
		case '>': fputs("&gt;", p->f); break;
		case '"': fputs("&quot;", p->f); break;
		case '\'': fputs("&#39;", p->f); break;
		case '\n': case '\t': fputc(c, p->f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				break;
			/* C1 controls (U+0080..U+009F) and bidi overrides
			 * (U+202A..U+202E, U+2066..U+2069) are dropped. */
			if (c == 0xc2 && i + 1 < ulen && u[i + 1] <= 0x9f) {
				i++;
				break;
			}
			if (c == 0xe2 && i + 2 < ulen && ((u[i + 1] == 0x80 &&
			    u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
			    (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 &&
			    u[i + 2] <= 0xa9))) {
				i += 2;
				break;
			}
			fputc(c, p->f);
		}
	}
}

void
page_text(struct page *p, const char *s)
{
	page_textn(p, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

void
page_hidden(struct page *p, const char *name, const char *value)
{
	fprintf(p->f, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	page_text(p, value);
	fputs("\">", p->f);
}
