/*
 * dkim_suite.c - the DKIM vectors of the shared oracle (manifest.tsv:
 * RFC 8463, dkimpy, Mail::DKIM, mail-auth) through vigil's own DKIM
 * check: keys become a DNSZoneFile, each message goes through
 * scan_buffer, and the overall result is read back from the check
 * (auth_dkim) in Mail::DKIM's words: pass if a signature verified, fail
 * if one did not match, invalid if none could be evaluated, none without
 * signatures.
 *
 *   dkim_suite [-v] [-x xfail-list] DATA-DIR
 *
 * Only era "rfc6376" rows count; the others (DomainKeys, pre-RFC drafts,
 * the dropped g= tag) are printed as LEGACY.  The vectors use 512-bit
 * keys, so DKIMMinKeyBits is 512 here, and old x= tags need the row's
 * clock drift.  Prints "dkim: N passed, N failed"; exits 1 when a case
 * fails that the expected-failure list does not name.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "checks/auth.h"
#include "lib/log.h"
#include "xfail.h"

static bool verbose;
static char tmpdir[] = "/tmp/vigil-dkim-suite-XXXXXX";

static char *
slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0, r;
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(cap + 1);
	while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len_r = n;
	return buf;
}

static struct snap *
snap_for(const char *zone, const char *drift)
{
	char zopt[1200], dopt[64], *err = NULL;
	const char *ov[] = {
		/* only the check under test: no rules, AV or Bayes to build */
		zopt, dopt, "Checks=spf,dkim,dmarc", "DKIMMinKeyBits=512",
		"TrustedNetworks=",
		"SkipTrusted=no", "SPFEnable=no", "DMARCEnable=no",
		"AuthResults=no",
	};
	struct cfg *c;
	struct snap *s;

	snprintf(zopt, sizeof(zopt), "DNSZoneFile=%s", zone);
	snprintf(dopt, sizeof(dopt), "DKIMClockDrift=%ss", drift);
	if ((c = cfg_load(NULL, ov, sizeof(ov) / sizeof(ov[0]), &err)) == NULL ||
	    (s = snap_build(c, &err)) == NULL) {
		fprintf(stderr, "dkim_suite: %s\n", err);
		exit(2);
	}
	cfg_unref(&c);
	return s;
}

/* In the child: "overall\tdetail" to fd. */
static void
run_case(struct snap *s, const char *msg, size_t len, int fd)
{
	struct scan_env env = { 0 };
	const struct verdict *v;
	const struct auth_dkim *d;
	const char *overall = "none";
	bool any_pass = false, any_fail = false;
	struct msg *m;

	env.client_addr = "192.0.2.1";
	env.mail_from = "";
	m = scan_buffer(s, &env, (const unsigned char *)msg, len, "dkim", &v);
	if ((d = auth_dkim(m)) == NULL) {
		dprintf(fd, "no-result\t");
		_exit(0);
	}
	for (size_t i = 0; i < d->nsigs; i++) {
		any_pass |= d->sigs[i].result == AUTH_PASS;
		any_fail |= d->sigs[i].result == AUTH_FAIL;
	}
	if (d->nsigs > 0)
		overall = any_pass ? "pass" : any_fail ? "fail" : "invalid";
	dprintf(fd, "%s\t", overall);
	for (size_t i = 0; i < d->nsigs; i++)
		dprintf(fd, " sig%zu=%s/%s/%s:%s(%s)", i + 1, d->sigs[i].domain,
		    d->sigs[i].selector, d->sigs[i].algorithm,
		    auth_res_name(d->sigs[i].result),
		    d->sigs[i].why != NULL ? d->sigs[i].why : "ok");
	msg_end(&m);
	_exit(0);
}

/* Runs one message in a child; got (size gotsz) gets the result. */
static void
run_child(struct snap *s, const char *msg, size_t len, char *got,
    size_t gotsz, char *detail, size_t detsz)
{
	char buf[8192];
	int pfd[2], status = 0;
	size_t off = 0;
	ssize_t r;
	pid_t pid;
	char *tab;

	fflush(stdout);
	if (pipe(pfd) < 0) {
		perror("pipe");
		exit(2);
	}
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		alarm(20);
		run_case(s, msg, len, pfd[1]);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	tab = strchr(buf, '\t');
	if (WIFSIGNALED(status))
		snprintf(got, gotsz, "CRASH(signal %d)", WTERMSIG(status));
	else if (tab == NULL)
		snprintf(got, gotsz, "NO-RESULT");
	else {
		*tab = '\0';
		snprintf(got, gotsz, "%s", buf);
		snprintf(detail, detsz, "%s", tab + 1);
	}
}

int
main(int argc, char **argv)
{
	const char *xfpath = NULL, *dir;
	char path[1200], line[4096];
	struct xfail *xf;
	int pass = 0, fail = 0, skip = 0, c, ncase = 0;
	FILE *man;

	while ((c = getopt(argc, argv, "vx:")) != -1) {
		switch (c) {
		case 'v': verbose = true; break;
		case 'x': xfpath = optarg; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	dir = argv[optind];
	log_init("dkim_suite", 1, 0);
	log_set_level(LOG_ERR);
	if ((xf = xfail_load(xfpath)) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
	if ((man = fopen(path, "r")) == NULL) {
		fprintf(stderr, "dkim_suite: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	while (fgets(line, sizeof(line), man) != NULL) {
		char *f[7], *p = line, *data, *msg, zone[1300];
		char got[64] = "", detail[4096] = "";
		size_t len, mlen;
		int n = 0;
		struct snap *s;
		bool ok;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		f[n++] = p;
		for (; *p != '\0' && n < 7; p++)
			if (*p == '\t') {
				*p = '\0';
				f[n++] = p + 1;
			}
		if (n < 6)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f[1]);
		if ((data = slurp(path, &len)) == NULL) {
			fprintf(stderr, "dkim_suite: %s: %s\n", path,
			    strerror(errno));
			return 2;
		}
		msg = data;
		mlen = len;
		if (strcmp(f[2], "COMBINED") == 0) {
			/* key lines, an empty line, then the message */
			char *sep = strstr(data, "\n\n");
			FILE *zf;

			if (sep == NULL) {
				fprintf(stderr, "dkim_suite: %s: no blank "
				    "line\n", path);
				return 2;
			}
			snprintf(zone, sizeof(zone), "%s/keys-%d.txt", tmpdir,
			    ncase);
			if ((zf = fopen(zone, "w")) == NULL ||
			    fwrite(data, 1, (size_t)(sep - data + 1), zf) !=
			    (size_t)(sep - data + 1) || fclose(zf) != 0) {
				perror(zone);
				return 2;
			}
			msg = sep + 2;
			mlen = len - (size_t)(msg - data);
		} else
			snprintf(zone, sizeof(zone), "%s/%s", dir, f[2]);
		ncase++;
		s = snap_for(zone, f[3]);
		run_child(s, msg, mlen, got, sizeof(got), detail,
		    sizeof(detail));
		snap_unref(&s);
		free(data);
		if (strcmp(f[2], "COMBINED") == 0)
			unlink(zone);
		ok = strcmp(got, f[4]) == 0;
		if (strcmp(f[5], "rfc6376") != 0) {
			skip++;
			if (verbose)
				printf("LEGACY(%s) %s %s want %s got %s\n", f[5],
				    ok ? "same" : "DIFF", f[0], f[4], got);
			continue;
		}
		xfail_note(xf, f[0], ok);
		if (ok)
			pass++;
		else
			fail++;
		if (verbose || !ok)
			printf("%s %s want %s got %s --%s\n", ok ? "PASS" :
			    xfail_listed(xf, f[0]) ? "XFAIL" : "FAIL", f[0],
			    f[4], got, detail);
	}
	fclose(man);
	rmdir(tmpdir);
	snprintf(line, sizeof(line), ", %d cases, %d legacy vectors not "
	    "counted", pass + fail, skip);
	return xfail_report(xf, "dkim", pass, "dkim.xfail", line) ? 0 : 1;
usage:
	fprintf(stderr, "usage: dkim_suite [-v] [-x xfail-list] DATA-DIR\n");
	return 2;
}
