/*
 * release.c - release tokens (HMAC-SHA256 via OpenSSL) and re-injection
 * through the MTA's sendmail.  See release.h for the token's shape and
 * what it is bound to.  The index side of a token (issue, consume) is in
 * quarantine.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"

extern char **environ;

#define KEY_NEW_BYTES	32
#define KEY_MIN_BYTES	16
#define NONCE_BYTES	16
#define MAC_DOMAIN	"vigil-release-v2"

char *
release_key_path(const struct cfg *c)
{
	const char *p = cfg_str(c, "ReleaseKeyFile");
	const char *dir = cfg_str(c, "QuarantineDir");
	char *s;

	if (p != NULL)
		s = strdup(p);
	else if (dir != NULL && asprintf(&s, "%s/release.key", dir) == -1)
		s = NULL;
	else if (dir == NULL)
		return NULL;
	if (s == NULL)
		log_oom(256, "release key path");
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Whoever can read the key can sign releases, and whoever can write it
 * can replace it: like ssh with a private key, refuse a file that others
 * may read or write, or that neither we nor root own (root reads the
 * daemon's key: vigilctl quarantine release).
 */
static bool
key_check(struct arena *a, const char *path, const struct stat *st,
    const char **err_r)
{
	if (!S_ISREG(st->st_mode))
		*err_r = arena_printf(a, "release key %s: not a regular file",
		    path);
	else if ((st->st_mode & 077) != 0)
		*err_r = arena_printf(a, "release key %s: mode %04o gives group "
		    "or others access; chmod 600 it", path,
		    (unsigned)(st->st_mode & 07777));
	else if (st->st_uid != geteuid() && st->st_uid != 0 && geteuid() != 0)
		*err_r = arena_printf(a, "release key %s: owned by uid %lu, "
		    "not by uid %lu or root", path, (unsigned long)st->st_uid,
		    (unsigned long)geteuid());
	else
		return true;
	return false;
}

/* Reads and decodes the key file; errno-style failure in *err_r. */
static bool
key_read(struct arena *a, const char *path, struct release_key *key_r,
    const char **err_r)
{
	char buf[RELEASE_KEY_MAX * 2 + 16];
	size_t n = 0, i;
	ssize_t r;
	struct stat st;
	int fd;

	/* Before open too, so that a wrong owner is named, not EACCES. */
	if (stat(path, &st) == 0 && !key_check(a, path, &st, err_r))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		*err_r = arena_printf(a, "release key %s: open: %s", path,
		    strerror(errno));
		return false;
	}
	if (fstat(fd, &st) == -1) {
		*err_r = arena_printf(a, "release key %s: fstat: %s", path,
		    strerror(errno));
		close(fd);
		return false;
	}
	if (!key_check(a, path, &st, err_r)) {
		close(fd);
		return false;
	}
	while (n < sizeof(buf) - 1 &&
	    (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	key_r->len = 0;
	for (i = 0; i + 1 < n && key_r->len < RELEASE_KEY_MAX; i += 2) {
		int hi = hexval((unsigned char)buf[i]);
		int lo = hexval((unsigned char)buf[i + 1]);

		if (hi < 0 || lo < 0)
			break;
		key_r->bytes[key_r->len++] = (unsigned char)(hi << 4 | lo);
	}
	if (i != n || key_r->len < KEY_MIN_BYTES) {
		*err_r = arena_printf(a, "release key %s: want %d to %d bytes "
		    "as hex digits on one line", path, KEY_MIN_BYTES,
		    RELEASE_KEY_MAX);
		return false;
	}
	return true;
}

/* Makes a new key file; a concurrent maker's file wins (link is atomic). */
static bool
key_create(struct arena *a, const char *path, const char **err_r)
{
	unsigned char k[KEY_NEW_BYTES];
	char hex[KEY_NEW_BYTES * 2 + 2];
	char *tmp = arena_printf(a, "%s.XXXXXX", path);
	char *dir = arena_strdup(a, path), *slash = strrchr(dir, '/');
	struct stat st;
	int fd;
	bool ok;

	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		dir = ".";

	if (!util_random(k, sizeof(k))) {
		*err_r = arena_printf(a, "release key %s: random: %s", path,
		    strerror(errno));
		return false;
	}
	util_hex(hex, k, sizeof(k));
	strcat(hex, "\n");
	fd = mkstemp(tmp);	/* mode 0600 */
	if (fd == -1) {
		*err_r = arena_printf(a, "release key %s: create: %s", tmp,
		    strerror(errno));
		return false;
	}
	/*
	 * vigilctl runs as root, the daemon as UserID: the key belongs to
	 * whoever owns its folder (the daemon made QuarantineDir), or the
	 * filter could not read it and no release would ever pass.
	 */
	if (geteuid() == 0 && stat(dir, &st) == 0 &&
	    fchown(fd, st.st_uid, st.st_gid) == -1) {
		*err_r = arena_printf(a, "release key %s: chown to %lu: %s",
		    tmp, (unsigned long)st.st_uid, strerror(errno));
		close(fd);
		(void)unlink(tmp);	/* never linked */
		return false;
	}
	ok = write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex) &&
	    fsync(fd) == 0;
	if (close(fd) == -1)
		ok = false;
	if (!ok)
		*err_r = arena_printf(a, "release key %s: write: %s", tmp,
		    strerror(errno));
	else if (link(tmp, path) == -1 && errno != EEXIST) {
		*err_r = arena_printf(a, "release key %s: link: %s", path,
		    strerror(errno));
		ok = false;
	}
	(void)unlink(tmp);	/* the key lives on under path */
	return ok;
}

bool
release_key_load(struct arena *a, const struct cfg *c, bool create,
    struct release_key *key_r, const char **err_r)
{
	char *path = release_key_path(c);
	const char *p;
	bool ok;

	if (path == NULL) {
		*err_r = "release key: neither ReleaseKeyFile nor QuarantineDir"
		    " is set";
		return false;
	}
	p = arena_strdup(a, path);
	free(path);
	if (create && access(p, F_OK) == -1 && errno == ENOENT &&
	    !key_create(a, p, err_r))
		return false;
	ok = key_read(a, p, key_r, err_r);
	return ok;
}

const unsigned char *
release_body(const unsigned char *msg, size_t len, size_t *blen_r)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		/* An empty line: "\n\n" or "\n\r\n". */
		if (i + 1 < len && msg[i + 1] == '\n') {
			*blen_r = len - (i + 2);
			return msg + i + 2;
		}
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n') {
			*blen_r = len - (i + 3);
			return msg + i + 3;
		}
	}
	*blen_r = 0;
	return msg + len;
}

/* SHA-256 of the body with CRLF as LF and trailing line ends dropped. */
static void
body_digest(const unsigned char *body, size_t len, char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned char buf[4096];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i, n = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		log_oom(sizeof(*buf), "sha256 context");
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	for (i = 0; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			continue;
		buf[n++] = body[i];
		if (n == sizeof(buf)) {
			EVP_DigestUpdate(ctx, buf, n);
			n = 0;
		}
	}
	EVP_DigestUpdate(ctx, buf, n);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	util_hex(hex, md, sizeof(md));
}

static int
addr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * SHA-256 of the recipients: without <>, lower case, sorted, each once,
 * one a line.  The same set in any order or case gives the same digest.
 */
static void
rcpts_digest(const char *const *rcpts, size_t n, char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char **v = calloc(n + 1, sizeof(*v));
	size_t i;

	if (ctx == NULL || v == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		log_oom(n * sizeof(*v), "recipient digest");
	for (i = 0; i < n; i++) {
		const char *r = rcpts[i];
		size_t len = strlen(r);

		if (len >= 2 && r[0] == '<' && r[len - 1] == '>') {
			r++;
			len -= 2;
		}
		if ((v[i] = strndup(r, len)) == NULL)
			log_oom(len, "recipient digest");
		for (char *p = v[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	qsort(v, n, sizeof(*v), addr_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		EVP_DigestUpdate(ctx, v[i], strlen(v[i]));
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	util_hex(hex, md, sizeof(md));
}

static void
token_mac(const struct release_key *key, const char *id, const char *nonce,
    const char *issued, const char *body_hex, const char *rcpts_hex,
    char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *input;
	int n;

	n = asprintf(&input, "%s%c%s%c%s%c%s%c%s%c%s", MAC_DOMAIN, 0, id, 0,
	    nonce, 0, issued, 0, body_hex, 0, rcpts_hex);
	if (n < 0)
		log_oom(256, "release mac");
	if (HMAC(EVP_sha256(), key->bytes, (int)key->len,
	    (unsigned char *)input, (size_t)n, md, &mdlen) == NULL)
		log_oom(256, "release hmac");
	free(input);
	util_hex(hex, md, mdlen);
}

char *
release_token_make(struct arena *a, const struct release_key *key,
    const char *id, const char *nonce, int64_t issued,
    const char *const *rcpts, size_t nrcpts, const unsigned char *body,
    size_t len)
{
	char body_hex[65], rcpts_hex[65], mac[65], t[24];

	snprintf(t, sizeof(t), "%lld", (long long)issued);
	body_digest(body, len, body_hex);
	rcpts_digest(rcpts, nrcpts, rcpts_hex);
	token_mac(key, id, nonce, t, body_hex, rcpts_hex, mac);
	return arena_printf(a, "v=2; id=%s; n=%s; t=%s; mac=%s", id, nonce, t,
	    mac);
}

/* Finds "name=" in a "k=v; k=v" list and copies its value into a. */
static const char *
tag_get(struct arena *a, const char *s, const char *name)
{
	size_t nl = strlen(name);
	const char *p = s, *end;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		    *p == ';')
			p++;
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			const char *v = p + nl + 1, *ve = end;

			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			return arena_strndup(a, v, (size_t)(ve - v));
		}
		p = end;
	}
	return NULL;
}

static bool
is_digits(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return false;
	return strspn(s, "0123456789") == strlen(s);
}

enum release_check
release_token_verify(struct arena *a, const struct release_key *key,
    const char *value, const char *const *rcpts, size_t nrcpts,
    const unsigned char *body, size_t len, int64_t now, int64_t lifetime,
    const char **id_r, const char **nonce_r)
{
	const char *v, *id, *nonce, *t, *mac;
	char body_hex[65], rcpts_hex[65], want[65];

	v = tag_get(a, value, "v");
	id = tag_get(a, value, "id");
	nonce = tag_get(a, value, "n");
	t = tag_get(a, value, "t");
	mac = tag_get(a, value, "mac");
	if (v == NULL || strcmp(v, "2") != 0 || !quarantine_id_is_valid(id) ||
	    !quarantine_id_is_valid(nonce) || !is_digits(t) || mac == NULL ||
	    strlen(mac) != 64)
		return RELEASE_MALFORMED;
	body_digest(body, len, body_hex);
	rcpts_digest(rcpts, nrcpts, rcpts_hex);
	token_mac(key, id, nonce, t, body_hex, rcpts_hex, want);
	if (CRYPTO_memcmp(want, mac, 64) != 0)
		return RELEASE_BAD_MAC;
	/* The time is signed: checked only once the MAC holds. */
	if (now - strtoll(t, NULL, 10) > lifetime)
		return RELEASE_EXPIRED;
	*id_r = id;
	*nonce_r = nonce;
	return RELEASE_VALID;
}

const char *
release_check_name(enum release_check rc)
{
	switch (rc) {
	case RELEASE_VALID:	return "valid";
	case RELEASE_MALFORMED:	return "malformed";
	case RELEASE_BAD_MAC:	return "bad mac";
	case RELEASE_EXPIRED:	return "expired";
	}
	return "?";
}

/* SendmailCommand split at blanks, then the envelope; NULL-terminated. */
static char **
sendmail_argv(struct arena *a, const struct cfg *c, const char *sender,
    const char *const *rcpts, size_t nrcpts)
{
	const char *cmd = cfg_str(c, "SendmailCommand");
	char *copy = arena_strdup(a, cmd != NULL ? cmd : "");
	size_t n = 0, cap = 8 + nrcpts + strlen(copy) / 2, i;
	char **argv = arena_alloc(a, cap * sizeof(*argv));
	char *tok, *save = NULL;

	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	if (n == 0)
		return NULL;
	argv[n++] = "-i";
	argv[n++] = "-f";
	argv[n++] = arena_strdup(a, *sender != '\0' ? sender : "<>");
	argv[n++] = "--";
	for (i = 0; i < nrcpts; i++)
		argv[n++] = arena_strdup(a, rcpts[i]);
	argv[n] = NULL;
	return argv;
}

/* Is the header line at p (up to its LF) one of our release headers? */
static bool
is_release_header(const unsigned char *p, size_t len)
{
	size_t hl = strlen(RELEASE_HEADER);

	return len > hl && strncasecmp((const char *)p, RELEASE_HEADER, hl) == 0
	    && p[hl] == ':';
}

/*
 * Writes the token header, then the message with LF line ends and without
 * any release header it already carried (a forged one that got it
 * quarantined, or ours from an earlier release).
 */
static bool
message_write(FILE *f, const char *token, const unsigned char *msg,
    size_t len)
{
	size_t i = 0, eol;
	bool in_headers = true, skipping = false;

	fprintf(f, "%s: %s\n", RELEASE_HEADER, token);
	while (i < len) {
		const unsigned char *nl = memchr(msg + i, '\n', len - i);
		size_t line_end = nl != NULL ? (size_t)(nl - msg) : len;

		eol = line_end;
		if (eol > i && msg[eol - 1] == '\r')
			eol--;
		if (in_headers) {
			if (eol == i)
				in_headers = false;
			else if (msg[i] == ' ' || msg[i] == '\t')
				;	/* continuation: follows its header */
			else
				skipping = is_release_header(msg + i, eol - i);
		}
		if (!(in_headers && skipping)) {
			fwrite(msg + i, 1, eol - i, f);
			if (nl != NULL)
				fputc('\n', f);
		}
		i = line_end + 1;
	}
	return fflush(f) == 0 && !ferror(f);
}

/* Runs argv with the message on its stdin; exit status 0 is success. */
static bool
sendmail_run(struct arena *a, char **argv, const char *token,
    const unsigned char *msg, size_t len, const char **err_r)
{
	posix_spawn_file_actions_t fa;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int pfd[2], status, rc;
	pid_t pid;
	FILE *f;
	bool wrote;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		*err_r = arena_printf(a, "release: pipe: %s", strerror(errno));
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (rc != 0) {
		close(pfd[1]);
		*err_r = arena_printf(a, "release: run %s: %s", argv[0],
		    strerror(rc));
		return false;
	}
	/* A sendmail that exits early must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old);
	f = fdopen(pfd[1], "w");
	if (f == NULL) {
		close(pfd[1]);
		wrote = false;
	} else {
		wrote = message_write(f, token, msg, len);
		if (fclose(f) != 0)
			wrote = false;
	}
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			*err_r = arena_printf(a, "release: wait for %s: %s",
			    argv[0], strerror(errno));
			return false;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*err_r = WIFEXITED(status) ?
		    arena_printf(a, "release: %s exited with status %d",
		    argv[0], WEXITSTATUS(status)) :
		    arena_printf(a, "release: %s killed by signal %d",
		    argv[0], WTERMSIG(status));
		return false;
	}
	if (!wrote) {
		*err_r = arena_printf(a, "release: writing the message to %s "
		    "failed", argv[0]);
		return false;
	}
	return true;
}

bool
release_send(struct arena *a, struct qstore *q, const struct qentry *e,
    const char *const *to, size_t nto, const char **err_r)
{
	const struct cfg *c = quarantine_cfg(q);
	struct release_key key;
	unsigned char rnd[NONCE_BYTES];
	const unsigned char *msg, *body;
	char nonce[NONCE_BYTES * 2 + 1], *token, **argv;
	size_t len, blen;
	int64_t now = (int64_t)time(NULL);

	if (to == NULL || nto == 0) {
		to = e->rcpts;
		nto = e->nrcpts;
	}
	if (nto == 0) {
		*err_r = arena_printf(a, "release %s: no recipients", e->id);
		return false;
	}
	argv = sendmail_argv(a, c, e->sender, to, nto);
	if (argv == NULL) {
		*err_r = "release: SendmailCommand is empty";
		return false;
	}
	if (!release_key_load(a, c, true, &key, err_r))
		return false;
	msg = quarantine_read(q, e->id, &len);
	if (msg == NULL) {
		*err_r = arena_strdup(a, quarantine_error(q));
		return false;
	}
	if (!util_random(rnd, sizeof(rnd))) {
		*err_r = arena_printf(a, "release: random nonce: %s",
		    strerror(errno));
		return false;
	}
	util_hex(nonce, rnd, sizeof(rnd));
	body = release_body(msg, len, &blen);
	token = release_token_make(a, &key, e->id, nonce, now, to, nto, body,
	    blen);
	OPENSSL_cleanse(&key, sizeof(key));

	/* The nonce is in the index before the message can come back. */
	if (!quarantine_token_issue(q, e->id, nonce, now)) {
		*err_r = arena_strdup(a, quarantine_error(q));
		return false;
	}
	if (!sendmail_run(a, argv, token, msg, len, err_r))
		return false;
	if (!quarantine_mark_released(q, e->id)) {
		*err_r = arena_printf(a, "release %s: sent, but marking it "
		    "released failed: %s", e->id, quarantine_error(q));
		return false;
	}
	return true;
}
