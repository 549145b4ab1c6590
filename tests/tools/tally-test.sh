#!/bin/sh
# tally-test.sh - make check: tests/tools/tally.sh, which makes
# run-all.sh's last line, against a log of each shape it must read:
# cmocka with several groups and with skipped tests, automake's SKIP and
# FAIL, a count printed before a failure, a suite that ran nothing, one
# skipped by name, and the sum of them all.  Ends with "N passed, N
# failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
TALLY="sh $top_srcdir/tests/tools/tally.sh"
T=$(mktemp -d /tmp/vigil-tally-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

# expect WHAT "P passed, F failed, S skipped" COMMAND...: the counts the
# last line of COMMAND's output must carry
expect() {
	what=$1 want=$2
	shift 2
	got=$("$@" | tail -1)
	case $got in
	"== "*": $want"*|"total: $want")
		pass=$((pass + 1)); echo "ok   $what: $want" ;;
	*)
		fail=$((fail + 1)); echo "FAIL $what: want $want, got: $got" ;;
	esac
	echo "$got" >>"$T/results"
}

# One cmocka group (name, passed, failed, skipped) as cmocka 1.1 prints it.
cmocka_group() {
	n=$(($2 + $3 + $4))
	echo "[==========] Running $n test(s)."
	echo "[ RUN      ] test_$1"
	echo "[       OK ] test_$1"
	echo "[==========] $n test(s) run."
	echo "[  PASSED  ] $2 test(s)."
	if [ "$4" -gt 0 ]; then
		echo "[  SKIPPED ] $4 test(s), listed below:"
		echo "[  SKIPPED ] test_$1_skipped"
	fi
	if [ "$3" -gt 0 ]; then
		echo "[  FAILED  ] $3 test(s), listed below:"
		echo "[  FAILED  ] test_$1_failed"
		echo
		echo " $3 FAILED TEST(S)"
	fi
}

# --- a suite's log -------------------------------------------------------
# Four groups, as test_bayes: every group counts, not the last.
{ cmocka_group a 10 0 0; cmocka_group b 7 0 0; cmocka_group c 7 0 0
  cmocka_group d 6 0 1; } >"$T/multi.log"
expect "cmocka, four groups" "30 passed, 0 failed, 1 skipped" \
    $TALLY log multi 0 "$T/multi.log"

{ cmocka_group a 4 1 0; cmocka_group b 3 0 0; } >"$T/cfail.log"
expect "cmocka, a failure in the first group" "7 passed, 1 failed, 0 skipped" \
    $TALLY log cfail 1 "$T/cfail.log"

{ echo "spf: 197 passed, 0 failed, 6 expected failures (spf.xfail)"
  echo "dkim: 36 passed, 0 failed"; echo "ok   x"; echo "12 passed, 0 failed"; } >"$T/lines.log"
expect "count lines add up" "245 passed, 0 failed, 0 skipped" \
    $TALLY log lines 0 "$T/lines.log"

{ echo "3 passed, 0 failed"
  echo "conformance: skipped: no ../shared"
  echo "conformance: 0 passed, 0 failed, 1 skipped"; } >"$T/skip.log"
expect "a suite that says it skipped" "3 passed, 0 failed, 1 skipped" \
    $TALLY log skip 0 "$T/skip.log"

echo "5 passed, 0 failed" >"$T/countfail.log"
expect "a count, then a non-zero exit" "0 passed, 1 failed, 0 skipped" \
    $TALLY log countfail 2 "$T/countfail.log"

echo "5 passed, 2 failed" >"$T/failed.log"
expect "failures counted, non-zero exit" "5 passed, 2 failed, 0 skipped" \
    $TALLY log failed 1 "$T/failed.log"

: >"$T/empty.log"
expect "a suite that printed nothing" "0 passed, 1 failed, 0 skipped" \
    $TALLY log empty 0 "$T/empty.log"

echo "0 passed, 0 failed" >"$T/zero.log"
expect "a suite that ran nothing" "0 passed, 1 failed, 0 skipped" \
    $TALLY log zero 0 "$T/zero.log"

printf '# TOTAL: 21\n# PASS:  19\n# SKIP:  1\n# XFAIL: 0\n# FAIL:  1\n# XPASS: 0\n# ERROR: 0\n' >"$T/distcheck.log"
expect "automake's summary (distcheck)" "19 passed, 1 failed, 1 skipped" \
    $TALLY log distcheck 2 "$T/distcheck.log"

expect "a suite skipped by name" "0 passed, 0 failed, 1 skipped" \
    $TALLY skipped sanitize

# --- make check: automake's .log and .trs --------------------------------
# trs DIR NAME RESULT: a test's .trs; its .log comes on stdin
trs() {
	mkdir -p "$1/tests"
	cat >"$1/tests/$2.log"
	printf ':test-result: %s\n:global-test-result: %s\n' "$3" "$3" \
	    >"$1/tests/$2.trs"
}
B=$T/build
{ cmocka_group a 10 0 0; cmocka_group b 7 0 0; cmocka_group c 7 0 0
  cmocka_group d 6 0 1; } | trs "$B" test_bayes PASS
echo "shared corpus not found" | trs "$B" skipped SKIP
echo "ok   something" | trs "$B" script PASS
printf '4 passed, 0 failed\n' | trs "$B" countfail FAIL
printf '0 passed, 0 failed\n' | trs "$B" zero PASS
cmocka_group m 5 0 1 | trs "$B" test_mime PASS
expect "make check: every shape at once" "36 passed, 2 failed, 3 skipped" \
    $TALLY automake check 2 "$B"

E=$T/none
mkdir -p "$E/tests"
expect "make check that ran no test" "0 passed, 1 failed, 0 skipped" \
    $TALLY automake check 0 "$E"

F=$T/buildfail
echo "ok   x" | trs "$F" script PASS
expect "make check failed, no test did" "1 passed, 1 failed, 0 skipped" \
    $TALLY automake check 2 "$F"

# --- the total of every line above ---------------------------------------
expect "total" "346 passed, 11 failed, 7 skipped" \
    $TALLY total "$T/results"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
