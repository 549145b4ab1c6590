#!/bin/sh
# run-all.sh - builds vigil and runs every test suite it has: unit and
# protocol tests (make check), the end-to-end suites through a private
# Postfix (make check-postfix), the conformance suites (make
# check-conformance), the fuzzers' short pass, and make distcheck.  Each
# suite's own "N passed, N failed" counts are added up; the last line is
# the total.  Exits non-zero if anything failed.
#
# Needs the packages of .ci/packages.sh and root (a private Postfix).
# VIGIL_SKIP="distcheck fuzz" skips suites by name.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=${VIGIL_TEST_OUT:-$(mktemp -d /tmp/vigil-tests-XXXXXX)}
mkdir -p "$out"
total_pass=0 total_fail=0 total_skip=0
export VIGIL_SHARED=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}

skipped() { case " ${VIGIL_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }

# Adds the counts a suite printed; a failure without counts counts as one.
tally() { # name rc logfile
	p=0 f=0 found=0
	# "N passed, N failed" lines (optionally "word: " before them).
	for line in $(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$3" |
	    sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2:\3/'); do
		p=$((p + ${line%%:*})); f=$((f + ${line##*:})); found=1
	done
	# A suite that failed without saying how counts as one failure; one
	# that passed without counting anything ran no test and adds nothing.
	if [ "$2" -ne 0 ] && [ $f = 0 ]; then f=$((f + 1)); fi
	[ $found = 0 ] && [ "$2" -eq 0 ] && echo "   ($1 ran no counted test)"
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	echo "== $1: $p passed, $f failed (exit $2, log $3)"
}

step() { # name command...
	name=$1; shift
	if skipped "$name"; then
		echo "== $name: skipped"; total_skip=$((total_skip + 1)); return
	fi
	echo "== $name: $*"
	"$@" > "$out/$name.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then tail -40 "$out/$name.log"; fi
	tally "$name" $rc "$out/$name.log"
}

# make check: count the test cases inside each program's log.
check_counts() {
	make -j2 check > "$out/check.log" 2>&1
	rc=$?
	p=0 f=0
	for log in $(find tests -name '*.log' ! -name test-suite.log 2>/dev/null); do
		trs=${log%.log}.trs
		[ -f "$trs" ] || continue
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
		if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
			line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
			p=$((p + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
			f=$((f + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
		elif grep -q '^\[==========\]' "$log"; then
			np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
			nf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
			p=$((p + ${np:-0})); f=$((f + ${nf:-0}))
			[ "$res" != PASS ] && [ "$res" != SKIP ] && [ "${nf:-0}" = 0 ] && f=$((f + 1))
		elif [ "$res" = PASS ]; then p=$((p + 1))
		elif [ "$res" != SKIP ]; then f=$((f + 1))
		fi
		echo "   $log: $res" >> "$out/check-summary.log"
	done
	[ $rc -ne 0 ] && { grep -E '^(FAIL|ERROR)' "$out/check.log"; cat "$out/check-summary.log"; }
	[ $rc -ne 0 ] && [ $f = 0 ] && f=1
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	echo "== check: $p passed, $f failed (exit $rc, log $out/check.log)"
}

build() {
	autoreconf -fi && ./configure ${VIGIL_CONFIGURE_FLAGS:-} && make -j2
}

echo "== build"
if ! build > "$out/build.log" 2>&1; then
	tail -40 "$out/build.log"
	echo "build failed"
	echo "total: 0 passed, 1 failed"
	exit 1
fi
check_counts
step check-postfix make check-postfix
step check-conformance make check-conformance
step distcheck make -j2 distcheck
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ]
