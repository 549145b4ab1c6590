/*
 * test_weblink.c - the signed links and CSRF tokens of vigil-web
 * (weblink.h): a link verifies only for the recipient, id and expiry it
 * was made for, under the key it was made with, and until it expires;
 * the key loads from a real release key file with its mode checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "lib/arena.h"
#include "quarantine/release.h"
#include "quarantine/weblink.h"

#define ID1	"0123456789abcdef0123456789abcdef"
#define ID2	"fedcba9876543210fedcba9876543210"
#define NOW	1796000000

static struct weblink_key k1, k2;

static int
setup(void **state)
{
	struct release_key rk = { .len = 32 };

	memset(rk.bytes, 0x11, rk.len);
	weblink_key_derive(&rk, &k1);
	rk.bytes[0] ^= 1;
	weblink_key_derive(&rk, &k2);
	return 0;
}

static void
test_link_roundtrip_and_refusals(void **state)
{
	struct arena *a = arena_new("test");
	const char *mac = weblink_sign(a, &k1, "Alice@Example.ORG", ID1,
	    NOW + 60);
	char bad[WEBLINK_MAC_HEX + 1];

	assert_int_equal(strlen(mac), WEBLINK_MAC_HEX);
	/* The same link, any case or <> around the address. */
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000060", mac, NOW), WEBLINK_VALID);
	assert_int_equal(weblink_verify(&k1, "<ALICE@example.org>", ID1,
	    "1796000060", mac, NOW), WEBLINK_VALID);
	/* Another recipient, another id, the list instead of the message,
	 * a later expiry, another key: the MAC fails. */
	assert_int_equal(weblink_verify(&k1, "bob@example.org", ID1,
	    "1796000060", mac, NOW), WEBLINK_BAD_MAC);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID2,
	    "1796000060", mac, NOW), WEBLINK_BAD_MAC);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", "",
	    "1796000060", mac, NOW), WEBLINK_BAD_MAC);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000061", mac, NOW), WEBLINK_BAD_MAC);
	assert_int_equal(weblink_verify(&k2, "alice@example.org", ID1,
	    "1796000060", mac, NOW), WEBLINK_BAD_MAC);
	/* One flipped digit. */
	strcpy(bad, mac);
	bad[10] = bad[10] == '0' ? '1' : '0';
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000060", bad, NOW), WEBLINK_BAD_MAC);
	/* Expired: a second after its time, not at it. */
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000060", mac, NOW + 60), WEBLINK_VALID);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000060", mac, NOW + 61), WEBLINK_EXPIRED);
	/* Malformed parts never reach the MAC. */
	assert_int_equal(weblink_verify(&k1, "alice@example.org", "../x",
	    "1796000060", mac, NOW), WEBLINK_MALFORMED);
	assert_int_equal(weblink_verify(&k1, "alice", ID1, "1796000060", mac,
	    NOW), WEBLINK_MALFORMED);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "01796000060", mac, NOW), WEBLINK_MALFORMED);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1, "-1",
	    mac, NOW), WEBLINK_MALFORMED);
	assert_int_equal(weblink_verify(&k1, "alice@example.org", ID1,
	    "1796000060", "abc", NOW), WEBLINK_MALFORMED);
	assert_int_equal(weblink_verify(&k1, NULL, ID1, "1796000060", mac,
	    NOW), WEBLINK_MALFORMED);
	arena_free(&a);
}

static void
test_url(void **state)
{
	struct arena *a = arena_new("test");
	const char *u = weblink_url(a, &k1, "https://q.example.org/", "/u",
	    "<A+b@Example.org>", "", NOW);
	const char *mac = weblink_sign(a, &k1, "a+b@example.org", "", NOW);
	char *want = arena_printf(a, "https://q.example.org/u?r=a%%2Bb%%40"
	    "example.org&id=&x=%d&s=%s", NOW, mac);

	assert_string_equal(u, want);
	assert_string_equal(weblink_qescape(a, "a b&c=d\"<"),
	    "a%20b%26c%3Dd%22%3C");
	arena_free(&a);
}

static void
test_csrf(void **state)
{
	struct arena *a = arena_new("test");
	const char *cookie = "00112233445566778899aabbccddeeff";
	const char *t = weblink_csrf(a, &k1, cookie, "alice@example.org", ID1);

	assert_true(weblink_csrf_ok(&k1, cookie, "alice@example.org", ID1, t));
	assert_false(weblink_csrf_ok(&k2, cookie, "alice@example.org", ID1,
	    t));
	assert_false(weblink_csrf_ok(&k1, "00112233445566778899aabbccddeefe",
	    "alice@example.org", ID1, t));
	assert_false(weblink_csrf_ok(&k1, cookie, "bob@example.org", ID1, t));
	assert_false(weblink_csrf_ok(&k1, cookie, "alice@example.org", ID2,
	    t));
	assert_false(weblink_csrf_ok(&k1, cookie, "alice@example.org", ID1,
	    ""));
	assert_false(weblink_csrf_ok(&k1, "short", "alice@example.org", ID1,
	    weblink_csrf(a, &k1, "short", "alice@example.org", ID1)));
	assert_false(weblink_csrf_ok(&k1, NULL, "alice@example.org", ID1, t));
	arena_free(&a);
}

/* The key comes from the release key file, whose mode is checked. */
static void
test_key_file(void **state)
{
	char dir[] = "/tmp/test_weblink.XXXXXX", path[64], ov[96];
	const char *ovs[1] = { ov }, *err = NULL;
	struct weblink_key k;
	struct arena *a = arena_new("test");
	struct cfg *c;
	char *cerr = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/release.key", dir);
	snprintf(ov, sizeof(ov), "ReleaseKeyFile=%s", path);
	c = cfg_load(NULL, ovs, 1, &cerr);
	assert_non_null(c);
	/* Missing: refused, and not made (only a release or digest makes
	 * it). */
	assert_false(weblink_key_load(a, c, &k, &err));
	assert_int_equal(access(path, F_OK), -1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1111111111111111111111111111111111111111111111111111111111111111"
	    "\n", f);
	fclose(f);
	chmod(path, 0644);
	err = NULL;
	assert_false(weblink_key_load(a, c, &k, &err));
	assert_non_null(strstr(err, "chmod 600"));
	chmod(path, 0600);
	assert_true(weblink_key_load(a, c, &k, &err));
	/* The same bytes as setup()'s first key. */
	assert_memory_equal(k.bytes, k1.bytes, sizeof(k.bytes));
	unlink(path);
	rmdir(dir);
	cfg_unref(&c);
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_roundtrip_and_refusals),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
