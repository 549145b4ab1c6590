#!/bin/sh
# replay.sh - `make check`: every fuzz target once over its seeds and the
# inputs that crashed it before (tests/fuzz/seeds/NAME/crash-*).  In a
# plain build the targets carry replay.c's main(); in a fuzzer build
# (--enable-fuzzers) libFuzzer's, given -runs=0.  Both stop at the first
# crash, leak or sanitizer report.  Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VIGIL_SHARED:=$(cd "$top_srcdir/../shared" 2>/dev/null && pwd)}"
. "$top_srcdir/tests/fuzz/targets.sh"
pass=0 fail=0
log=$(mktemp /tmp/vigil-replay-XXXXXX)
trap 'rm -f "$log" "$log.list"' EXIT

for name in $FUZZ_NAMES; do
	bin=$top_builddir/tests/fuzz/fuzz_$name
	# Files, not folders: libFuzzer runs each file named once and
	# exits (given a folder it would start fuzzing).
	find $(fuzz_seeds "$name") -type f -size -1024k 2>/dev/null | sort >"$log.list"
	n=$(wc -l <"$log.list")
	rc=1
	# with no file, libFuzzer would fuzz forever: never call it so
	if [ "$n" -gt 0 ]; then
		# shellcheck disable=SC2046 # seed paths have no blanks
		(cd "${TMPDIR:-/tmp}" && "$bin" $(cat "$log.list")) >"$log" 2>&1
		rc=$?
	fi
	if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then
		pass=$((pass + 1))
		echo "ok   fuzz_$name: $n inputs replayed"
	else
		fail=$((fail + 1))
		echo "FAIL fuzz_$name: exit $rc on its $n seeds:"
		grep -E 'ERROR|SUMMARY|runtime error|replay:|==[0-9]+==' "$log" | head -20
		tail -5 "$log"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
