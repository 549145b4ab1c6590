/*
 * release.h - getting a quarantined message back to its recipients.
 *
 * A release re-injects the stored message through the MTA's sendmail
 * (SendmailCommand, split at blanks and run without a shell) with one
 * header added in front:
 *
 *	X-Vigil-Release: v=2; id=ID; n=NONCE; t=ISSUED; mac=HEX
 *
 * mac is HMAC-SHA256 under the release key over the id, the nonce, the
 * time, the SHA-256 of the body (line ends and trailing empty lines
 * normalised, since the MTA may rewrite them) and the SHA-256 of the
 * envelope recipients (without <>, lower case, sorted, one a line), so
 * the token is bound to that message for those recipients: a copy sent
 * to anyone else fails the MAC.  A token older than ReleaseTokenLifetime
 * is refused, whatever its nonce says.  The nonce is recorded in the
 * quarantine index when the release is issued and consumed when the
 * filter sees it come back; if a failing check, or the milter unable to
 * change the headers, then tempfails that copy, the nonce is given back,
 * for the MTA retries the same copy.  A forged token fails the MAC, a
 * replayed one (after an accepted copy) finds its nonce used.
 */
#ifndef VIGIL_RELEASE_H
#define VIGIL_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct cfg;
struct qentry;
struct qstore;

#define RELEASE_HEADER	"X-Vigil-Release"
#define RELEASE_KEY_MAX	64

struct release_key {
	unsigned char	 bytes[RELEASE_KEY_MAX];
	size_t		 len;
};

/* The key file: ReleaseKeyFile, or QuarantineDir/release.key; malloc'd. */
char	*release_key_path(const struct cfg *);

/*
 * Loads the release key (hex in the key file).  With create, a missing
 * file is made (0600, 32 random bytes) first.  False with *err_r (in a)
 * when the file is missing, unreadable or too short.
 */
bool	 release_key_load(struct arena *a, const struct cfg *, bool create,
	    struct release_key *key_r, const char **err_r);

/* The body of a whole message (after the first empty line). */
const unsigned char *release_body(const unsigned char *msg, size_t len,
	    size_t *blen_r);

/* The header value for a release of id to the nrcpts rcpts, in a. */
char	*release_token_make(struct arena *a, const struct release_key *,
	    const char *id, const char *nonce, int64_t issued,
	    const char *const *rcpts, size_t nrcpts,
	    const unsigned char *body, size_t len);

enum release_check {
	RELEASE_VALID,		/* MAC good; the nonce still has to be consumed */
	RELEASE_MALFORMED,	/* not a token of ours */
	RELEASE_BAD_MAC,	/* forged, or the message or recipients changed */
	RELEASE_EXPIRED,	/* MAC good, issued more than lifetime ago */
};

/* Checks a header value against the body and the envelope recipients,
 * and its issue time against now - lifetime (seconds); on VALID, *id_r
 * and *nonce_r (in a) say which release to consume. */
enum release_check release_token_verify(struct arena *a,
	    const struct release_key *, const char *value,
	    const char *const *rcpts, size_t nrcpts,
	    const unsigned char *body, size_t len, int64_t now,
	    int64_t lifetime, const char **id_r, const char **nonce_r);
const char *release_check_name(enum release_check);

/*
 * Re-injects entry e of store q to its recipients (or to the nto
 * addresses in to) with a fresh token, and marks it released.  False with
 * *err_r (in a) saying what failed; the entry stays in the store.
 */
bool	 release_send(struct arena *a, struct qstore *q,
	    const struct qentry *e, const char *const *to, size_t nto,
	    const char **err_r);

#endif
