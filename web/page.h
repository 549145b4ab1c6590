/*
 * page.h - HTML for vigil-web: a page is text built in an open_memstream
 * buffer; every value that came from a message or a request goes through
 * page_text() (HTML-escaped, control characters dropped, invalid UTF-8
 * replaced), so nothing of a message is ever markup.  No script anywhere;
 * the only style is the page's own stylesheet (/style.css).
 */
#ifndef VIGIL_WEB_PAGE_H
#define VIGIL_WEB_PAGE_H

#include <stddef.h>
#include <stdio.h>

#include "lib/arena.h"

struct page {
	FILE		*f;
	char		*buf;
	size_t		 len;
	struct arena	*a;		/* the request's */
};

/* Opens the buffer and writes the head and title; false when out of
 * memory. */
_Bool	 page_begin(struct page *, struct arena *a, const char *title);
/* Closes the body; the text in p->buf (malloc'd, caller frees). */
void	 page_end(struct page *);
/* Raw markup (ours only). */
void	 page_raw(struct page *, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Escaped text: &<>"' as entities, C0/C1 controls but \n and \t dropped. */
void	 page_text(struct page *, const char *s);
void	 page_textn(struct page *, const char *s, size_t n);
/* A hidden form field (name is ours, value escaped). */
void	 page_hidden(struct page *, const char *name, const char *value);

/* The stylesheet served at /style.css. */
extern const char page_css[];

#endif
