/*
 * ctl_digest.c - `vigilctl digest [--send]`: one mail per recipient
 * listing their quarantined, unreleased messages with signed links to
 * vigil-web (weblink.h): one for their list, one per message.  Without
 * --send the digests are printed as an mbox; with it each is handed to
 * SendmailCommand (as a release is), from DigestFrom.  Meant for a daily
 * timer or cron job.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "mime.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/weblink.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

extern char **environ;

struct item {
	const char		*rcpt;	/* normalised */
	const struct qentry	*e;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->rcpt, y->rcpt);

	if (c != 0)
		return c;
	return x->e->time > y->e->time ? -1 : x->e->time < y->e->time;
}

/* s as one line of text: valid UTF-8, controls as spaces. */
static const char *
line_text(struct arena *a, const char *s)
{
	size_t n;
	char *u = mime_utf8(a, s, strlen(s), &n);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			u[i] = ' ';
	return u;
}

/* The digest of items[0..n) (one recipient) as a message, in a. */
static char *
digest_make(struct arena *a, const struct cfg *c,
    const struct weblink_key *k, const struct item *items, size_t n,
    int64_t now, int64_t expires)
{
	const char *base = cfg_str(c, "WebBaseURL");
	const char *rcpt = items[0].rcpt;
	char date[64], until[40], t[40], *buf = NULL;
	unsigned char rnd[8];
	char mid[17];
	size_t len = 0;
	time_t tt = (time_t)now, te = (time_t)expires;
	struct tm tm;
	FILE *f;

	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	gmtime_r(&te, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm);
	if (!util_random(rnd, sizeof(rnd)))
		memset(rnd, 0, sizeof(rnd));
	util_hex(mid, rnd, sizeof(rnd));
	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fprintf(f, "From: %s\nTo: %s\nSubject: %s (%zu)\nDate: %s\n"
	    "Message-ID: <digest.%lld.%s@vigil>\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n"
	    "\n", cfg_str(c, "DigestFrom"), rcpt, cfg_str(c, "DigestSubject"),
	    n, date, (long long)now, mid);
	fprintf(f, "%zu message%s for you %s held in the quarantine.\n"
	    "Open one to read it as text, release it to your mailbox or "
	    "delete it.\n\nAll of them:\n%s\n", n, n == 1 ? "" : "s",
	    n == 1 ? "is" : "are",
	    weblink_url(a, k, base, "/u", rcpt, "", expires));
	for (size_t i = 0; i < n; i++) {
		const struct qentry *e = items[i].e;

		tt = (time_t)e->time;
		gmtime_r(&tt, &tm);
		strftime(t, sizeof(t), "%Y-%m-%d %H:%M UTC", &tm);
		fprintf(f, "\n%s  from %s\n  Subject: %s\n  Score %.1f (%s)\n"
		    "  %s\n", t, *e->sender != '\0' ?
		    line_text(a, e->sender) : "<>", line_text(a, e->subject),
		    e->score, line_text(a, e->reason),
		    weblink_url(a, k, base, "/m", rcpt, e->id, expires));
	}
	fprintf(f, "\nThese links work until %s; do not forward this mail:\n"
	    "whoever has the links can release or delete your mail.\n", until);
	fclose(f);
	{
		char *r = arena_strdup(a, buf);

		free(buf);
		return r;
	}
}

/* Hands msg to SendmailCommand for rcpt; false with *err_r (in a). */
static bool
digest_send(struct arena *a, const struct cfg *c, const char *rcpt,
    const char *msg, const char **err_r)
{
	const char *cmd = cfg_str(c, "SendmailCommand");
	char *copy = arena_strdup(a, cmd != NULL ? cmd : ""), *tok, *save;
	char **argv = arena_alloc(a, (strlen(copy) / 2 + 8) * sizeof(*argv));
	posix_spawn_file_actions_t fa;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t n = 0, len = strlen(msg);
	int pfd[2], status, rc;
	bool wrote;
	pid_t pid;

	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	if (n == 0) {
		*err_r = "SendmailCommand is empty";
		return false;
	}
	argv[n++] = "-i";
	argv[n++] = "-f";
	argv[n++] = arena_strdup(a, cfg_str(c, "DigestFrom"));
	argv[n++] = "--";
	argv[n++] = arena_strdup(a, rcpt);
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		*err_r = arena_printf(a, "pipe: %s", strerror(errno));
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (rc != 0) {
		close(pfd[1]);
		*err_r = arena_printf(a, "run %s: %s", argv[0], strerror(rc));
		return false;
	}
	sigaction(SIGPIPE, &ign, &old);
	wrote = write(pfd[1], msg, len) == (ssize_t)len;
	if (close(pfd[1]) == -1)
		wrote = false;
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			*err_r = arena_printf(a, "wait for %s: %s", argv[0],
			    strerror(errno));
			return false;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*err_r = arena_printf(a, "%s failed (status %d)", argv[0],
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return false;
	}
	if (!wrote) {
		*err_r = arena_printf(a, "writing to %s failed", argv[0]);
		return false;
	}
	return true;
}

/* Is rcpt's domain one of DigestDomains (all when unset)? */
static bool
digest_domain_ok(const struct cfg *c, const char *rcpt)
{
	size_t n = 0;
	const char *const *v = cfg_list(c, "DigestDomains", &n);
	const char *dom = strrchr(rcpt, '@');

	if (v == NULL || n == 0)
		return true;
	if (dom == NULL)
		return false;
	dom++;
	for (size_t i = 0; i < n; i++) {
		const char *d = v[i];
		size_t dl = strlen(dom), l = strlen(d);

		if (d[0] == '.') {
			/* .example.org: example.org and its subdomains */
			if (strcasecmp(dom, d + 1) == 0 || (dl > l &&
			    strcasecmp(dom + dl - l, d) == 0))
				return true;
		} else if (strcasecmp(dom, d) == 0)
			return true;
	}
	return false;
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "vigilctl digest: %s\n", why);
	ctl_help_usage("digest", stderr);
	return EX_USAGE;
}

int
ctl_digest(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "send", no_argument, NULL, 'S' },
		{ "since", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *only = NULL, *err = NULL;
	uint64_t since_ms = 86400000;
	struct qfilter f = { 0 };
	const struct qentry **v;
	struct release_key rk;
	struct weblink_key k;
	struct item *items;
	struct qstore *q;
	struct arena *a;
	struct cfg *c;
	bool send = false;
	size_t n, ni = 0;
	int64_t now = (int64_t)time(NULL), expires;
	char *cerr = NULL;
	int ch, rc = 0;

	if (ctl_wants_help(argc, argv, argc)) {
		ctl_help_command("digest", stdout);
		return 0;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': send = true; break;
		case 's':
			if (!util_parse_duration(optarg, &since_ms))
				return usage("--since: want a duration (1d)");
			break;
		case 'r':
			if (strchr(optarg, '@') == NULL)
				return usage("--rcpt: want an address");
			only = optarg;
			break;
		default: return usage(NULL);
		}
	}
	if (optind != argc)
		return usage("unexpected arguments");
	if ((c = ctl_cfg(o)) == NULL)
		return EX_CONFIG;
	if (quarantine_never_used(c)) {
		cfg_unref(&c);
		return 0;	/* nothing was ever quarantined */
	}
	a = arena_new("digest");
	/* The release key, made if this is the first use (as a release
	 * would), and the link key from it. */
	if (!release_key_load(a, c, true, &rk, &err)) {
		fprintf(stderr, "vigilctl digest: %s\n", err);
		arena_free(&a);
		cfg_unref(&c);
		return 1;
	}
	weblink_key_derive(&rk, &k);
	OPENSSL_cleanse(&rk, sizeof(rk));
	if ((q = quarantine_open(c, false, &cerr)) == NULL) {
		fprintf(stderr, "vigilctl digest: %s\n", cerr);
		free(cerr);
		arena_free(&a);
		cfg_unref(&c);
		return 1;
	}
	f.since = now - (int64_t)(since_ms / 1000);
	if (only != NULL)
		only = weblink_rcpt_norm(a, only);
	f.rcpt = only;
	if (!quarantine_list(q, &f, &v, &n)) {
		fprintf(stderr, "vigilctl digest: %s\n", quarantine_error(q));
		quarantine_close(&q);
		arena_free(&a);
		cfg_unref(&c);
		return 1;
	}
	/* One item per (recipient, unreleased entry). */
	ni = 0;
	for (size_t i = 0; i < n; i++)
		ni += v[i]->released == 0 ? v[i]->nrcpts : 0;
	items = arena_alloc(a, (ni + 1) * sizeof(*items));
	ni = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i]->released != 0)
			continue;
		for (size_t j = 0; j < v[i]->nrcpts; j++) {
			const char *r = weblink_rcpt_norm(a, v[i]->rcpts[j]);

			if (strchr(r, '@') == NULL ||
			    (only != NULL && strcmp(r, only) != 0) ||
			    !digest_domain_ok(c, r))
				continue;
			items[ni].rcpt = r;
			items[ni++].e = v[i];
		}
	}
	qsort(items, ni, sizeof(*items), item_cmp);
	expires = now + (int64_t)(cfg_duration_ms(c, "WebLinkLifetime") /
	    1000);
	for (size_t i = 0, j; i < ni; i = j) {
		const char *msg;

		for (j = i; j < ni && strcmp(items[j].rcpt, items[i].rcpt) == 0;)
			j++;
		msg = digest_make(a, c, &k, items + i, j - i, now, expires);
		if (msg == NULL) {
			fprintf(stderr, "vigilctl digest: out of memory\n");
			rc = 1;
			break;
		}
		if (!send) {
			printf("From %s %s", cfg_str(c, "DigestFrom"),
			    ctime(&(time_t){ (time_t)now }));
			fputs(msg, stdout);
			putchar('\n');
		} else if (!digest_send(a, c, items[i].rcpt, msg, &err)) {
			fprintf(stderr, "vigilctl digest: %s: %s\n",
			    items[i].rcpt, err);
			rc = 1;
		} else
			printf("sent digest to %s (%zu message%s)\n",
			    items[i].rcpt, j - i, j - i == 1 ? "" : "s");
	}
	OPENSSL_cleanse(&k, sizeof(k));
	quarantine_close(&q);
	arena_free(&a);
	cfg_unref(&c);
	return rc;
}
