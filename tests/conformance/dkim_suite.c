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
#include "checks/auth/auth.h"
#include "harness.h"
#include "../tools/slurp.h"

static bool verbose;
static char tmpdir[] = "/tmp/vigil-dkim-suite-XXXXXX";

static struct snap *
snap_for(const char *zone, const char *drift)
{
	char zopt[1400], dopt[64];
	const char *ov[] = {
		/* only the check under test: no rules, AV or Bayes to build */
		zopt, dopt, "Checks=spf,dkim,dmarc", "DKIMMinKeyBits=512",
		"TrustedNetworks=",
		"SkipTrusted=no", "SPFEnable=no", "DMARCEnable=no",
		"AuthResults=no",
	};

	snprintf(zopt, sizeof(zopt), "DNSZoneFile=%s", zone);
	snprintf(dopt, sizeof(dopt), "DKIMClockDrift=%ss", drift);
	return harness_snap("dkim_suite", ov, sizeof(ov) / sizeof(ov[0]));
}

struct dk_case {
	struct snap	*s;
	const char	*msg;
	size_t		 len;
};

/* In the child: "overall\tdetail" to fd. */
static void
run_case(void *arg, int fd)
{
	const struct dk_case *dc = arg;
	struct scan_env env = { 0 };
	const struct verdict *v;
	const struct auth_dkim *d;
	const char *overall = "none";
	bool any_pass = false, any_fail = false;
	struct msg *m;

	env.client_addr = "192.0.2.1";
	env.mail_from = "";
	m = scan_buffer(dc->s, &env, (const unsigned char *)dc->msg, dc->len,
	    "dkim", &v);
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

int
main(int argc, char **argv)
{
	const char *dir;
	char path[1200], line[4096];
	struct xfail *xf;
	int pass = 0, fail = 0, skip = 0, ncase = 0;
	FILE *man;

	dir = harness_init(argc, argv, "dkim_suite", "DATA-DIR", &verbose, &xf);
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
		char *f[7], *data, *msg, zone[1300];
		char got[64] = "", detail[4096] = "";
		size_t len, mlen;
		struct dk_case dc;
		bool ok;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (harness_split(line, f, 7) < 6)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f[1]);
		if ((data = slurp_path(path, &len)) == NULL) {
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
		dc.s = snap_for(zone, f[3]);
		dc.msg = msg;
		dc.len = mlen;
		harness_run(run_case, &dc, 20, got, sizeof(got), detail,
		    sizeof(detail));
		snap_unref(&dc.s);
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
}
