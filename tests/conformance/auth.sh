#!/bin/sh
# auth.sh - `make check-conformance` for SPF, DKIM and DMARC: the shared
# oracle suites through vigil's own code, one line per suite:
#   spf: N passed, N failed
# "failed" counts failures the expected-failure list next to this script
# does not name (the runner then exits 1); listed ones are counted apart.
# The suites' data live outside the repository, in $VIGIL_SHARED/oracles
# (run-all.sh sets VIGIL_SHARED; default ../shared beside the source
# tree; VIGIL_ORACLES overrides).  Without them (a bare clone) the suites
# are skipped: one line says why, and "0 passed, 0 failed, 1 skipped".
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
shared=${VIGIL_SHARED:-$top_srcdir/../shared}
oracles=${VIGIL_ORACLES:-$shared/oracles}
here=$top_srcdir/tests/conformance
bin=$top_builddir/tests/conformance

for f in spf/data/rfc7208-tests.yml dkim/data/manifest.tsv dmarc/data/cases.tsv; do
	if [ ! -r "$oracles/$f" ]; then
		if [ -n "${VIGIL_ORACLES:-}" ] || [ -d "$shared" ]; then
			# asked for, or ../shared there without them: an error
			echo "conformance: $oracles/$f not found" >&2
			echo "conformance: 0 passed, 1 failed"
			exit 2
		fi
		echo "conformance: skipped: no $shared (the oracle suites" \
		    "live in ../shared beside the source tree, or set" \
		    "VIGIL_SHARED)"
		echo "conformance: 0 passed, 0 failed, 1 skipped"
		exit 0
	fi
done

log=$(mktemp "${TMPDIR:-/tmp}/vigil-conformance.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
rc=0
run() {
	suite=$1
	shift
	if "$@" >"$log" 2>&1; then
		grep "^$suite: " "$log"
	else
		st=$?
		# the whole output: what failed, and against which list
		cat "$log"
		echo "conformance: $suite runner failed (exit $st)" >&2
		rc=1
	fi
}
run spf "$bin/spf_suite" -x "$here/spf.xfail" "$oracles/spf/data/rfc7208-tests.yml"
run dkim "$bin/dkim_suite" -x "$here/dkim.xfail" "$oracles/dkim/data"
run dmarc "$bin/dmarc_suite" -x "$here/dmarc.xfail" "$oracles/dmarc/data/cases.tsv"
exit $rc
