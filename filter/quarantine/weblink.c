/*
 * weblink.c - signed links and CSRF tokens of the users' quarantine page
 * (HMAC-SHA256 via OpenSSL), and the options of vigil-web and of the
 * digest.  See weblink.h for what a link is bound to.  Owns nothing
 * beyond the strings it makes in the caller's arena.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/weblink.h"

#define LINK_DOMAIN	"vigil-web-link-v1"
#define CSRF_DOMAIN	"vigil-web-csrf-v1"
#define KEY_DOMAIN	"vigil-web-link-key-v1"

const struct opt web_opts[] = {
	{ "WebListen", OPT_STRING, "127.0.0.1:8025", 0, 0, NULL,
	  "Address and port vigil-web listens on (plain HTTP: put the site's TLS reverse proxy in front)" },
	{ "WebBaseURL", OPT_STRING, "http://localhost:8025", 0, 0, NULL,
	  "The page's public URL as users reach it through the proxy, for the digest's links and the Origin check" },
	{ "WebLinkLifetime", OPT_DURATION, "7d", 60000, 31536000000.0, NULL,
	  "How long a digest link stays valid" },
	{ "WebAdminPasswordFile", OPT_PATH, NULL, 0, 0, NULL,
	  "USER:HASH lines (crypt(3): htpasswd -B, mkpasswd, openssl passwd -6) for the admin view; unset: no admin view" },
	{ "UserAllowFile", OPT_PATH, NULL, 0, 0, NULL,
	  "Senders users allowed on the quarantine page, RECIPIENT SENDER lines (default QuarantineDir/user-allow); read by the filter" },
	{ "DigestDomains", OPT_LIST, NULL, 0, 0, NULL,
	  "Recipient domains that get a digest (dom, or .dom with its subdomains); unset: every recipient" },
	{ "DigestFrom", OPT_STRING, "postmaster", 0, 0, NULL,
	  "Sender address (From: and envelope) of the digest mail" },
	{ "DigestSubject", OPT_STRING, "Quarantined mail for you", 0, 0, NULL,
	  "Subject of the digest mail" },
	{ NULL }
};

void
weblink_key_derive(const struct release_key *rk, struct weblink_key *k_r)
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), rk->bytes, (int)rk->len,
	    (const unsigned char *)KEY_DOMAIN, strlen(KEY_DOMAIN), k_r->bytes,
	    &len) == NULL || len != sizeof(k_r->bytes))
		log_oom(256, "web link key");
}

bool
weblink_key_load(struct arena *a, const struct cfg *c,
    struct weblink_key *k_r, const char **err_r)
{
	struct release_key rk;

	if (!release_key_load(a, c, false, &rk, err_r))
		return false;
	weblink_key_derive(&rk, k_r);
	OPENSSL_cleanse(&rk, sizeof(rk));
	return true;
}

char *
weblink_rcpt_norm(struct arena *a, const char *rcpt)
{
	size_t len = strlen(rcpt);
	char *s;

	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	s = arena_strndup(a, rcpt, len);
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* HMAC over domain and n parts, each preceded by a NUL; hex into out. */
static void
mac_parts(const struct weblink_key *k, const char *domain,
    const char *const *parts, size_t n, char out[WEBLINK_MAC_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = strlen(domain), off;
	char *buf;

	for (size_t i = 0; i < n; i++)
		len += 1 + strlen(parts[i]);
	if ((buf = malloc(len)) == NULL)
		log_oom(len, "web link mac");
	off = strlen(domain);
	memcpy(buf, domain, off);
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(parts[i]);

		buf[off++] = '\0';
		memcpy(buf + off, parts[i], pl);
		off += pl;
	}
	if (HMAC(EVP_sha256(), k->bytes, sizeof(k->bytes),
	    (unsigned char *)buf, len, md, &mdlen) == NULL)
		log_oom(256, "web link hmac");
	free(buf);
	util_hex(out, md, mdlen);
}

static void
link_mac(struct arena *a, const struct weblink_key *k, const char *rcpt,
    const char *id, const char *expires, char out[WEBLINK_MAC_HEX + 1])
{
	const char *parts[3];

	parts[0] = weblink_rcpt_norm(a, rcpt);
	parts[1] = id;
	parts[2] = expires;
	mac_parts(k, LINK_DOMAIN, parts, 3, out);
}

char *
weblink_sign(struct arena *a, const struct weblink_key *k, const char *rcpt,
    const char *id, int64_t expires)
{
	char x[24], mac[WEBLINK_MAC_HEX + 1];

	snprintf(x, sizeof(x), "%lld", (long long)expires);
	link_mac(a, k, rcpt, id, x, mac);
	return arena_strdup(a, mac);
}

/* A decimal number of at most 19 digits, without sign or leading zero. */
static bool
is_time(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 19 && strspn(s, "0123456789") == n &&
	    (s[0] != '0' || n == 1);
}

enum weblink_check
weblink_verify(const struct weblink_key *k, const char *rcpt, const char *id,
    const char *expires, const char *mac, int64_t now)
{
	char want[WEBLINK_MAC_HEX + 1];
	struct arena *a;
	bool same;

	if (rcpt == NULL || *rcpt == '\0' || strlen(rcpt) > 320 ||
	    strchr(rcpt, '@') == NULL || id == NULL ||
	    (*id != '\0' && !quarantine_id_is_valid(id)) || expires == NULL ||
	    !is_time(expires) || mac == NULL ||
	    strlen(mac) != WEBLINK_MAC_HEX)
		return WEBLINK_MALFORMED;
	a = arena_new("web link");
	link_mac(a, k, rcpt, id, expires, want);
	arena_free(&a);
	same = CRYPTO_memcmp(want, mac, WEBLINK_MAC_HEX) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!same)
		return WEBLINK_BAD_MAC;
	/* The expiry is signed: read only once the MAC holds. */
	if (strtoll(expires, NULL, 10) < now)
		return WEBLINK_EXPIRED;
	return WEBLINK_VALID;
}

const char *
weblink_check_name(enum weblink_check rc)
{
	switch (rc) {
	case WEBLINK_VALID:	return "valid";
	case WEBLINK_MALFORMED:	return "malformed";
	case WEBLINK_BAD_MAC:	return "bad mac";
	case WEBLINK_EXPIRED:	return "expired";
	}
	return "?";
}

char *
weblink_qescape(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
weblink_url(struct arena *a, const struct weblink_key *k, const char *base,
    const char *path, const char *rcpt, const char *id, int64_t expires)
{
	size_t bl = strlen(base);
	const char *r = weblink_rcpt_norm(a, rcpt);

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	return arena_printf(a, "%.*s%s?r=%s&id=%s&x=%lld&s=%s", (int)bl, base,
	    path, weblink_qescape(a, r), id, (long long)expires,
	    weblink_sign(a, k, r, id, expires));
}

char *
weblink_csrf(struct arena *a, const struct weblink_key *k, const char *cookie,
    const char *scope, const char *id)
{
	const char *parts[3] = { cookie, scope, id };
	char mac[WEBLINK_MAC_HEX + 1];

	mac_parts(k, CSRF_DOMAIN, parts, 3, mac);
	return arena_strdup(a, mac);
}

bool
weblink_csrf_ok(const struct weblink_key *k, const char *cookie,
    const char *scope, const char *id, const char *token)
{
	const char *parts[3] = { cookie, scope, id };
	char want[WEBLINK_MAC_HEX + 1];
	bool same;

	if (cookie == NULL || strlen(cookie) < 32 || scope == NULL ||
	    *scope == '\0' || id == NULL || token == NULL ||
	    strlen(token) != WEBLINK_MAC_HEX)
		return false;
	mac_parts(k, CSRF_DOMAIN, parts, 3, want);
	same = CRYPTO_memcmp(want, token, WEBLINK_MAC_HEX) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return same;
}
