/*
 * url.h - finds URLs in plain text, normalises them and names their
 * registrable domain (libpsl, with the system's public suffix list).
 */
#ifndef VIGIL_URL_H
#define VIGIL_URL_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct murl;

/* Loads the public suffix list once; safe to call repeatedly. */
void	url_init(void);

/*
 * Normalises one URL as written (text or attribute): scheme and host
 * lower-cased, IDN converted to ASCII, default port and fragment dropped,
 * schemeless "www." given http://.  Fills u (strings in the arena) and
 * returns true, or false for what is not a web or mail URL.
 */
bool	url_normalize(struct arena *, const char *in, size_t n, struct murl *u);

/* Calls fn for every URL-looking run of text in s[0..n). */
void	url_scan_text(const char *s, size_t n,
	    void (*fn)(void *arg, const char *url, size_t len), void *arg);

/* Is label (no dots) a top-level domain of the public suffix list? */
bool	url_is_tld(const char *label);

/* The registrable domain of host (arena copy), or host itself. */
const char *url_domain(struct arena *, const char *host);

#endif
