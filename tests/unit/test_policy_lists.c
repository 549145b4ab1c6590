/*
 * test_policy_lists.c - ListsFile (policy_lists.h): the file format
 * written and read back, malformed lines refused with their line
 * number, each kind's matching and expiry, and the policy check
 * re-reading a changed file at the next message without a new snapshot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "checks/policy_lists.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"

static char dir[] = "/tmp/vigil-lists-test.XXXXXX";
static char path[256];

static int
setup(void **unused)
{
	(void)unused;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/lists", dir);
	return 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	unlink(path);
	return rmdir(dir);
}

static void
write_file(const char *text)
{
	char tmp[300];
	FILE *f;

	/* Renamed over, as vigilctl does: a new inode each time. */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void
test_roundtrip(void **unused)
{
	struct plist *l = plist_new(), *r;
	const char *why = NULL, *v;
	char *err = NULL;
	struct stat st;

	(void)unused;
	unlink(path);
	/* A missing file is an empty list. */
	r = plist_load(path, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 0);
	plist_free(&r);

	v = plist_value(l, PLIST_SENDER, "Spam@Bad.Example", &why);
	assert_string_equal(v, "spam@bad.example");
	assert_true(plist_add(l, PLIST_BLOCK, PLIST_SENDER, v, 1765000000,
	    1767000000, "bought list, 2026"));
	v = plist_value(l, PLIST_CLIENT, "192.0.2.0/24", &why);
	assert_true(plist_add(l, PLIST_ALLOW, PLIST_CLIENT, v, 1765000000, 0,
	    ""));
	/* The same entry again updates it. */
	assert_false(plist_add(l, PLIST_BLOCK, PLIST_SENDER,
	    "spam@bad.example", 1765000001, 0, "again"));
	assert_int_equal(l->n, 2);
	assert_true(plist_save(l, path, &err));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	r = plist_load(path, &err);
	if (r == NULL)
		fail_msg("%s", err);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->v[0].list, PLIST_BLOCK);
	assert_int_equal(r->v[0].kind, PLIST_SENDER);
	assert_string_equal(r->v[0].value, "spam@bad.example");
	assert_int_equal(r->v[0].added, 1765000000);
	assert_int_equal(r->v[0].expires, 0);
	assert_string_equal(r->v[0].comment, "again");
	assert_int_equal(r->v[1].list, PLIST_ALLOW);
	assert_string_equal(r->v[1].value, "192.0.2.0/24");

	/* An existing file keeps its mode through a rewrite. */
	assert_int_equal(chmod(path, 0640), 0);
	plist_del(r, 0);
	assert_true(plist_save(r, path, &err));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	plist_free(&r);
	r = plist_load(path, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->v[0].value, "192.0.2.0/24");
	plist_free(&r);
	plist_free(&l);
}

static void
test_bad_lines(void **unused)
{
	static const struct { const char *line, *why; } cases[] = {
		{ "block\tsender\tspam@bad.example\n", "want LIST KIND" },
		{ "deny\tsender\ta@b.example\t2026-12-07T09:00:00Z\t-\n",
		  "LIST is not" },
		{ "block\tuser\ta@b.example\t2026-12-07T09:00:00Z\t-\n",
		  "KIND is not" },
		{ "block\tsender\tnobody\t2026-12-07T09:00:00Z\t-\n",
		  "not an address" },
		{ "block\tclient\t300.1.1.1\t2026-12-07T09:00:00Z\t-\n",
		  "not an IP" },
		{ "block\tdomain\tbad..example\t2026-12-07T09:00:00Z\t-\n",
		  "not a domain" },
		{ "block\tdomain\t@bad.example\t2026-12-07T09:00:00Z\t-\n",
		  "not a domain" },
		{ "block\tdomain\tbad.example\tyesterday\t-\n", "UTC times" },
		{ "block\tdomain\tbad.example\t2026-12-07T09:00:00Z\tnever\n",
		  "UTC times" },
		{ "block\tdomain\tbad.example\t2026-12-07T09:00:00Z\t-\n"
		  "block\tdomain\tBAD.example\t2026-12-08T09:00:00Z\t-\n",
		  "twice" },
	};

	(void)unused;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char text[512], want[300], *err = NULL;
		struct plist *l;

		snprintf(text, sizeof(text), "# comment\n\n%s", cases[i].line);
		write_file(text);
		l = plist_load(path, &err);
		if (l != NULL)
			fail_msg("case %zu loaded", i);
		assert_non_null(err);
		/* The line number counts the comment and blank line. */
		snprintf(want, sizeof(want), "%s:%d: ", path,
		    strchr(cases[i].line, '\n')[1] != '\0' ? 4 : 3);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\", want %s...%s", i, err, want,
			    cases[i].why);
		free(err);
	}
}

static void
test_match(void **unused)
{
	struct plist *l;
	char *err = NULL;
	const struct plist_entry *e;
	int64_t now = 1765100000;	/* 2025-12-07 */

	(void)unused;
	write_file(
	    "block\tsender\tspam@bad.example\t2025-12-01T00:00:00Z\t-\tone\n"
	    "block\tsender\t@junk.example\t2025-12-01T00:00:00Z\t-\tdom only\n"
	    "block\tdomain\tworse.example\t2025-12-01T00:00:00Z\t-\tsubs\n"
	    "block\tclient\t2001:db8:bad::/48\t2025-12-01T00:00:00Z\t-\t\n"
	    "block\tsender\told@bad.example\t2025-12-01T00:00:00Z\t"
	    "2025-12-06T00:00:00Z\tgone\n"
	    "allow\tclient\t198.51.100.7\t2025-12-01T00:00:00Z\t"
	    "2025-12-31T00:00:00Z\tuntil new year\n");
	l = plist_load(path, &err);
	if (l == NULL)
		fail_msg("%s", err);

	e = plist_match(l, PLIST_BLOCK, PLIST_SENDER, "SPAM@bad.EXAMPLE",
	    NULL, now);
	assert_non_null(e);
	assert_string_equal(e->comment, "one");
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER,
	    "other@bad.example", NULL, now));
	/* @domain: that domain, not its subdomains. */
	assert_non_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER,
	    "x@Junk.Example", NULL, now));
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER,
	    "x@sub.junk.example", NULL, now));
	/* domain: the domain and its subdomains, not a longer name. */
	assert_non_null(plist_match(l, PLIST_BLOCK, PLIST_DOMAIN,
	    "x@worse.example", NULL, now));
	assert_non_null(plist_match(l, PLIST_BLOCK, PLIST_DOMAIN,
	    "x@a.b.worse.example", NULL, now));
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_DOMAIN,
	    "x@notworse.example", NULL, now));
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_DOMAIN, "", NULL, now));
	/* The null sender matches no sender or domain entry. */
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER, "", NULL, now));
	/* Lists are apart: a block entry is no allow entry. */
	assert_null(plist_match(l, PLIST_ALLOW, PLIST_SENDER,
	    "spam@bad.example", NULL, now));
	/* Clients by CIDR, IPv6 too. */
	assert_non_null(plist_match(l, PLIST_BLOCK, PLIST_CLIENT, NULL,
	    "2001:db8:bad::25", now));
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_CLIENT, NULL,
	    "2001:db8:bae::25", now));
	/* Expiry: old@ expired on the 6th; the allow holds until the 31st. */
	assert_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER,
	    "old@bad.example", NULL, now));
	assert_non_null(plist_match(l, PLIST_BLOCK, PLIST_SENDER,
	    "old@bad.example", NULL, 1764900000));
	e = plist_match(l, PLIST_ALLOW, PLIST_CLIENT, NULL, "198.51.100.7",
	    now);
	assert_non_null(e);
	assert_string_equal(e->comment, "until new year");
	assert_null(plist_match(l, PLIST_ALLOW, PLIST_CLIENT, NULL,
	    "198.51.100.7", 1767200000));
	plist_free(&l);
}

static const char plain_msg[] =
	"From: Someone <someone@example.org>\n"
	"To: Alice <alice@example.org>\n"
	"Subject: hello\n"
	"Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
	"Message-ID: <hello@example.org>\n"
	"\n"
	"Just saying hello.\n";

static struct msg *
scan(struct snap *s, const char *from, const struct verdict **v_r)
{
	static const char *const rcpts[] = { "alice@example.org", NULL };
	struct scan_env env = { .client_addr = "203.0.113.1",
	    .client_name = "client", .helo = "client", .mail_from = from,
	    .rcpts = rcpts, .nrcpts = 1 };

	return scan_buffer(s, &env, (const unsigned char *)plain_msg,
	    strlen(plain_msg), "tlists01", v_r);
}

static struct snap *
snap_lists(char **err_r)
{
	char opt[300];
	const char *ov[] = { "Checks=policy,headers", opt,
	    "TrustedNetworks=127.0.0.1/32" };
	struct cfg *c;
	struct snap *s;

	snprintf(opt, sizeof(opt), "ListsFile=%s", path);
	*err_r = NULL;
	if ((c = cfg_load(NULL, ov, NELEM(ov), err_r)) == NULL)
		return NULL;
	s = snap_build(c, err_r);
	cfg_unref(&c);
	return s;
}

/* The check re-reads a changed file at the next message, keeps the
 * entries it had when the new file is bad, and refuses a bad file at
 * setup. */
static void
test_check_reload(void **unused)
{
	struct snap *s;
	struct msg *m;
	const struct verdict *v;
	char *err = NULL;

	(void)unused;
	unlink(path);
	s = snap_lists(&err);
	if (s == NULL)
		fail_msg("%s", err);
	m = scan(s, "spam@bad.example", &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	assert_false(msg_has_hit(m, "POLICY_BLOCK_SENDER"));
	msg_end(&m);

	/* Added while the snapshot lives: the next message sees it. */
	write_file("block\tdomain\tbad.example\t2026-12-01T00:00:00Z\t-\t"
	    "bought list\n");
	m = scan(s, "spam@mx.bad.example", &v);
	assert_int_equal(v->action, ACTION_REJECT);
	assert_true(msg_has_hit(m, "POLICY_BLOCK_SENDER"));
	msg_end(&m);

	/* A broken file: logged, the entries read before stay. */
	write_file("block\tdomain\tbad.example\n");
	m = scan(s, "spam@bad.example", &v);
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);

	/* Removed: lifted at the next message. */
	write_file("# empty\n");
	m = scan(s, "spam@bad.example", &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	msg_end(&m);
	unlink(path);
	m = scan(s, "spam@bad.example", &v);
	assert_int_equal(v->action, ACTION_ACCEPT);
	msg_end(&m);
	snap_unref(&s);

	/* A bad file at setup refuses the configuration, with the line. */
	write_file("allow\tclient\tnot-an-ip\t2026-12-01T00:00:00Z\t-\n");
	s = snap_lists(&err);
	assert_null(s);
	assert_non_null(err);
	if (strstr(err, ":1: not an IP") == NULL)
		fail_msg("error \"%s\"", err);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_check_reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
