/*
 * weblink.h - the signed links of the users' quarantine page (vigil-web)
 * and of the digest mail (vigilctl digest) that carries them.
 *
 * A link names one recipient, a quarantine id ("" for the recipient's
 * whole list) and an expiry time, and carries
 *
 *	s = HMAC-SHA256(K, "vigil-web-link-v1" 0 rcpt 0 id 0 expires)
 *
 * where rcpt is the address in lower case without <>, and K is derived
 * from the release key (release.h: ReleaseKeyFile, with its strict file
 * checks) as HMAC-SHA256(release key, "vigil-web-link-key-v1").  Whoever
 * can release mail already holds that key; a new release key revokes
 * every link.  A link is refused when its MAC does not hold (forged, or
 * edited to name another recipient or id) or when it has expired.  Use
 * once: a message's link also stops working once its entry is released
 * or deleted, which the page checks against the store.
 *
 * The page's forms carry a CSRF token bound to a random per-browser value
 * (a SameSite=Strict cookie) and to the recipient and id of the link:
 * HMAC-SHA256(K, "vigil-web-csrf-v1" 0 cookie 0 scope 0 id).
 */
#ifndef VIGIL_WEBLINK_H
#define VIGIL_WEBLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

struct arena;
struct cfg;
struct release_key;

/* WebListen, WebBaseURL, WebLinkLifetime, WebAdminPasswordFile and the
 * digest's options (registry.c). */
extern const struct opt web_opts[];

#define WEBLINK_MAC_HEX	64

struct weblink_key {
	unsigned char	 bytes[32];
};

/* K from the release key (see above). */
void	 weblink_key_derive(const struct release_key *, struct weblink_key *k_r);
/* Loads the release key of c (never creating it) and derives K; false
 * with *err_r (in a) when the key cannot be read. */
bool	 weblink_key_load(struct arena *a, const struct cfg *c,
	    struct weblink_key *k_r, const char **err_r);

/* The address as links bind it: without <>, lower case; in a. */
char	*weblink_rcpt_norm(struct arena *a, const char *rcpt);

/* The hex MAC of a link (WEBLINK_MAC_HEX digits), in a. */
char	*weblink_sign(struct arena *a, const struct weblink_key *,
	    const char *rcpt, const char *id, int64_t expires);

enum weblink_check {
	WEBLINK_VALID,
	WEBLINK_MALFORMED,	/* a part missing or not of our shape */
	WEBLINK_BAD_MAC,	/* forged, or another recipient or id */
	WEBLINK_EXPIRED,	/* MAC good, past its expiry */
};

/* Checks a link's parts as they came in the query (expires as text);
 * id "" is the list link.  Constant-time MAC comparison. */
enum weblink_check weblink_verify(const struct weblink_key *,
	    const char *rcpt, const char *id, const char *expires,
	    const char *mac, int64_t now);
const char *weblink_check_name(enum weblink_check);

/* base + path + "?r=RCPT&id=ID&x=EXPIRES&s=MAC", percent-encoded; in a. */
char	*weblink_url(struct arena *a, const struct weblink_key *,
	    const char *base, const char *path, const char *rcpt,
	    const char *id, int64_t expires);

/* The CSRF token of a form (hex), bound to the browser's cookie value,
 * a scope (the recipient, or "admin:USER") and the id. */
char	*weblink_csrf(struct arena *a, const struct weblink_key *,
	    const char *cookie, const char *scope, const char *id);
/* Does token match?  Constant time; false for NULL or empty parts. */
bool	 weblink_csrf_ok(const struct weblink_key *, const char *cookie,
	    const char *scope, const char *id, const char *token);

/* s percent-encoded for a query value (unreserved characters stay). */
char	*weblink_qescape(struct arena *a, const char *s);

#endif
