/*
 * dkim_sign.c - signs a message for the tests with libopendkim:
 *
 *   dkim_sign -d DOMAIN -s SELECTOR -k KEYFILE [-a rsa-sha256|ed25519-sha256]
 *             [-c relaxed/relaxed] < message > signed
 *
 * KEYFILE is a PEM private key (opendkim-genkey's .private, or an
 * ed25519 key from `openssl genpkey -algorithm ed25519`).  Writes the
 * DKIM-Signature header, then the message unchanged.  LF line ends are
 * signed as CRLF, as they travel over SMTP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#include "slurp.h"

/*
 * The sanitizer build: libopendkim's key loader leaks the ed25519 key
 * it reads (dkim_privkey_load, inside dkim_eom), which tests/lsan.supp
 * suppresses by that function's name.  The allocations are made deep in
 * libcrypto, which has no frame pointers: only the slow unwinder
 * reaches dkim_privkey_load, so this program asks for it (ASAN_OPTIONS
 * in the environment still has the last word).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DKIM_SIGN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(DKIM_SIGN_ASAN)
#define DKIM_SIGN_ASAN 1
#endif
#ifdef DKIM_SIGN_ASAN
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
#endif

int
main(int argc, char **argv)
{
	const char *dom = NULL, *sel = NULL, *keyfile = NULL;
	const char *alg = "rsa-sha256", *canon = "relaxed/relaxed";
	dkim_alg_t a;
	dkim_canon_t hc, bc;
	DKIM_LIB *lib;
	DKIM *d;
	DKIM_STAT st;
	FILE *kf;
	char *key, *msg, hdr[8192];
	size_t klen, mlen;
	int c;

	while ((c = getopt(argc, argv, "d:s:k:a:c:")) != -1) {
		switch (c) {
		case 'd': dom = optarg; break;
		case 's': sel = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'a': alg = optarg; break;
		case 'c': canon = optarg; break;
		default: goto usage;
		}
	}
	if (dom == NULL || sel == NULL || keyfile == NULL)
		goto usage;
	a = strcmp(alg, "ed25519-sha256") == 0 ? DKIM_SIGN_ED25519SHA256 :
	    DKIM_SIGN_RSASHA256;
	hc = strncmp(canon, "simple", 6) == 0 ? DKIM_CANON_SIMPLE :
	    DKIM_CANON_RELAXED;
	bc = strstr(canon, "/simple") != NULL ? DKIM_CANON_SIMPLE :
	    DKIM_CANON_RELAXED;
	if ((kf = fopen(keyfile, "r")) == NULL) {
		perror(keyfile);
		return 2;
	}
	key = slurp_stream(kf, &klen);
	fclose(kf);
	msg = slurp_stream(stdin, &mlen);
	if (key == NULL || msg == NULL) {
		fprintf(stderr, "dkim_sign: reading %s failed\n",
		    key == NULL ? keyfile : "the message");
		return 2;
	}
	if ((lib = dkim_init(NULL, NULL)) == NULL) {
		fprintf(stderr, "dkim_sign: dkim_init failed\n");
		return 2;
	}
	{
		unsigned flags = DKIM_LIBFLAGS_FIXCRLF, bits = 512;

		/* Tests sign with small keys too, to see them refused. */
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
		    sizeof(flags));
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
		    sizeof(bits));
	}
	d = dkim_sign(lib, (const unsigned char *)"test", NULL,
	    (dkim_sigkey_t)key, (const unsigned char *)sel,
	    (const unsigned char *)dom, hc, bc, a, -1, &st);
	if (d == NULL) {
		fprintf(stderr, "dkim_sign: %s\n", dkim_getresultstr(st));
		return 1;
	}
	if ((st = dkim_chunk(d, (unsigned char *)msg, mlen)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr(d, (unsigned char *)hdr, sizeof(hdr),
	    strlen("DKIM-Signature: "))) != DKIM_STAT_OK) {
		fprintf(stderr, "dkim_sign: %s: %s\n", dkim_getresultstr(st),
		    dkim_geterror(d) != NULL ? dkim_geterror(d) : "");
		return 1;
	}
	printf("DKIM-Signature: %s\n", hdr);
	fwrite(msg, 1, mlen, stdout);
	dkim_free(d);
	dkim_close(lib);
	free(key);
	free(msg);
	return 0;
usage:
	fprintf(stderr, "usage: dkim_sign -d DOMAIN -s SELECTOR -k KEYFILE "
	    "[-a rsa-sha256|ed25519-sha256] [-c hdr/body] < msg\n");
	return 2;
}
