/*
 * mime.h - builds a message's flat view (msg.h struct mview) from its raw
 * bytes with GMime 3: decoded headers, text parts in UTF-8, HTML rendered,
 * URLs, attachments.  GMime's objects do not outlive the call; the view
 * lives in the message's arena.
 */
#ifndef VIGIL_MIME_H
#define VIGIL_MIME_H

#include <stddef.h>

struct arena;
struct msg;
struct mview;

/* Initialises GMime and the URL tables once per process. */
void		 mime_init(void);
/* Never fails: an unparseable message gives a view of its raw text with
 * parse_error set. */
struct mview	*mime_build_view(struct msg *, const unsigned char *raw, size_t len);
/*
 * The text of a whole stored message (text parts in UTF-8, HTML rendered,
 * joined as in the view) in a, length in *len_r; NULL when it has no text
 * part or cannot be parsed.  Needs no message: for `vigilctl quarantine
 * show`.
 */
char		*mime_body_text(struct arena *, const unsigned char *raw,
		    size_t len, size_t *len_r);
/* Valid UTF-8 copy of s[0..n) (bad bytes as U+FFFD; NULs as spaces). */
char		*mime_utf8(struct arena *, const char *s, size_t n, size_t *len_r);

#endif
