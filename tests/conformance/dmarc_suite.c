/*
 * dmarc_suite.c - the DMARC cases of the shared oracle (cases.tsv:
 * OpenDMARC's parse and alignment tables, mail-auth's alignment and
 * policy-discovery cases) through vigil's DMARC code: record parsing
 * (dmarc_parse_status), alignment (dmarc_is_aligned) and the evaluation
 * the check runs (dmarc_evaluate, with the record handed in).
 *
 *   dmarc_suite [-v] [-x xfail-list] cases.tsv
 *
 * Each row runs and counts once.  The oracle harness runs "align" rows
 * twice, without and with a public suffix list; vigil always uses the
 * PSL, so a second round would ask the same question and count it
 * twice.  "policy" rows of an era other than rfc7489 are
 * printed, not counted.  Prints "dmarc: N passed, N failed"; exits 1 when
 * a case fails that the expected-failure list does not name.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/auth/auth.h"
#include "harness.h"

static enum auth_res
outcome(const char *s)
{
	return strcmp(s, "pass") == 0 ? AUTH_PASS : strcmp(s, "fail") == 0 ?
	    AUTH_FAIL : AUTH_NONE;
}

/* The policy vigil would apply, in libopendmarc's words. */
static const char *
policy_name(const struct dmarc_input *in)
{
	struct auth_dmarc out;

	if (!dmarc_evaluate(in, 0, &out))
		return "DMARC_POLICY_ABSENT";
	if (out.result == AUTH_PASS)
		return "DMARC_POLICY_PASS";
	switch (out.applied) {
	case DMARC_P_REJECT: return "DMARC_POLICY_REJECT";
	case DMARC_P_QUARANTINE: return "DMARC_POLICY_QUARANTINE";
	default: return "DMARC_POLICY_NONE";
	}
}

int
main(int argc, char **argv)
{
	const char *path;
	bool verbose;
	struct xfail *xf;
	char line[4096];
	FILE *f;
	int pass = 0, fail = 0, info = 0;

	path = harness_init(argc, argv, "dmarc_suite", "cases.tsv", &verbose,
	    &xf);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fl[16], got[64];
		const char *want = NULL, *era = "rfc7489";
		int n;
		bool ok;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = harness_split(line, fl, 16);
		if (strcmp(fl[0], "parse") == 0 && n >= 5) {
			snprintf(got, sizeof(got), "%s",
			    dmarc_parse_status(fl[2], fl[3]));
			want = fl[4];
		} else if (strcmp(fl[0], "align") == 0 && n >= 6) {
			snprintf(got, sizeof(got), "%d",
			    dmarc_is_aligned(fl[2], fl[3],
			    fl[4][0] == 's') ? 0 : -1);
			want = fl[5];
		} else if (strcmp(fl[0], "policy") == 0 && n >= 11) {
			const char *dd = fl[6];
			enum auth_res dr = outcome(fl[7]);
			struct dmarc_input in = {
				.from_domain = fl[3],
				.record = fl[5],
				.record_domain = strcmp(fl[4], "-") != 0 ?
				    fl[4] : fl[3],
			};

			era = fl[2];
			if (strcmp(fl[7], "none") != 0) {
				in.ndkim = 1;
				in.dkim_domains = &dd;
				in.dkim_results = &dr;
			}
			if (strcmp(fl[9], "none") != 0) {
				in.spf_domain = fl[8];
				in.spf_result = outcome(fl[9]);
			}
			snprintf(got, sizeof(got), "%s", policy_name(&in));
			want = fl[10];
		} else
			continue;
		ok = strcmp(got, want) == 0;
		if (strcmp(era, "rfc7489") != 0) {
			info++;
			printf("INFO-%s %s want %s got %s\n",
			    ok ? "same" : "diff", fl[1], want, got);
			continue;
		}
		xfail_note(xf, fl[1], ok);
		if (ok)
			pass++;
		else
			fail++;
		if (verbose || !ok)
			printf("%s %-18s want %-30s got %s\n", ok ? "PASS" :
			    xfail_listed(xf, fl[1]) ? "XFAIL" : "FAIL",
			    fl[1], want, got);
	}
	fclose(f);
	{
		char extra[80];

		snprintf(extra, sizeof(extra), ", %d cases, %d informational "
		    "not counted", pass + fail, info);
		return xfail_report(xf, "dmarc", pass, "dmarc.xfail", extra) ?
		    0 : 1;
	}
}
