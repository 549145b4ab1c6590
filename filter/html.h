/*
 * html.h - renders HTML to plain text the way a reader would see it, and
 * notes what matters for filtering on the way: links, images, forms and
 * text styled to be invisible.  Tolerant of any input; never fails.
 */
#ifndef VIGIL_HTML_H
#define VIGIL_HTML_H

#include <stddef.h>

struct arena;

struct html_link {
	const char	*url;		/* attribute value, entities decoded */
	const char	*anchor;	/* link text (href only), or NULL */
	unsigned	 kind;		/* enum murl_src (msg.h) */
};

struct html_out {
	char		*text;		/* rendered UTF-8 text, NUL-terminated */
	size_t		 len;
	struct html_link *links;
	size_t		 nlinks;
	unsigned	 images, forms, anchors;
	size_t		 hidden_chars;
};

/* Renders n bytes of (UTF-8) HTML; everything in the arena. */
void	html_render(struct arena *, const char *html, size_t n,
	    struct html_out *out);

#endif
