#!/bin/sh
# run-all.sh - builds vigil and runs every test suite it has: unit and
# protocol tests (make check), the end-to-end suites through a private
# Postfix (make check-postfix), the conformance suites (make
# check-conformance), make distcheck, then a second build with ASan +
# UBSan (clang) that runs make check and check-postfix again and the
# fuzzers' short pass (FUZZ_SECONDS a target, 30).  Each
# suite's own "N passed, N failed" counts are added up; the last line is
# the total.  Exits non-zero if anything failed.
#
# Needs the packages of .ci/packages.sh and root (a private Postfix).
# VIGIL_SKIP="distcheck sanitize" skips suites by name (sanitize: the
# whole second build).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=${VIGIL_TEST_OUT:-$(mktemp -d /tmp/vigil-tests-XXXXXX)}
mkdir -p "$out"
total_pass=0 total_fail=0 total_skip=0
export VIGIL_SHARED=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}

# The SpamAssassin comparison runs SpamAssassin itself (about 0.1 s a
# message): every 20th corpus message here; make check-rules-sa alone
# compares them all.
export SA_COMPARE_EVERY=${SA_COMPARE_EVERY:-20}

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
check_counts() { # [BUILD_DIR NAME]
	cdir=${1:-.} cname=${2:-check}
	(cd "$cdir" && make -j2 check) > "$out/$cname.log" 2>&1
	rc=$?
	p=0 f=0
	: > "$out/$cname-summary.log"
	for log in $(find "$cdir/tests" -name '*.log' ! -name test-suite.log 2>/dev/null); do
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
		echo "   $log: $res" >> "$out/$cname-summary.log"
	done
	[ $rc -ne 0 ] && { grep -E '^(FAIL|ERROR)' "$out/$cname.log"; cat "$out/$cname-summary.log"; }
	[ $rc -ne 0 ] && [ $f = 0 ] && f=1
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	echo "== $cname: $p passed, $f failed (exit $rc, log $out/$cname.log)"
}

# The sanitizer build: a copy of the tree, cleaned, built in its own
# folder with clang, ASan + UBSan and the fuzzers (one build for both).
# Every sanitizer report, from any process (the daemon under Postfix
# too), lands in $san_reports; the sanitize-reports step fails on any.
san_src=$out/sanitize
san_dir=$san_src/build
san_reports=$out/sanitizer-reports
san_build() {
	rm -rf "$san_src" && mkdir -p "$san_src" && cp -a "$top/." "$san_src/" &&
	(cd "$san_src" && { [ ! -f Makefile ] || make distclean >/dev/null; } &&
	    rm -rf tests/fuzz/work && mkdir build && cd build &&
	    ../configure CC=clang --enable-sanitizers --enable-fuzzers \
	    ${VIGIL_CONFIGURE_FLAGS:-} && make -j2)
}
san_reports() {
	n=$(find "$san_reports" -type f | wc -l)
	for r in $(find "$san_reports" -type f | head -5); do
		echo "--- $r"; grep -E 'ERROR|SUMMARY|runtime error|#[0-4] ' "$r" | head -12
	done
	echo "sanitize-reports: $((n == 0)) passed, $n failed"
	[ "$n" -eq 0 ]
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
step check-postfix make -k check-postfix
step check-conformance make -k check-conformance
step distcheck make -j2 distcheck
if skipped sanitize; then
	echo "== sanitize: skipped"; total_skip=$((total_skip + 1))
else
	echo "== sanitize: build with ASan + UBSan + fuzzers in $san_dir"
	if san_build > "$out/sanitize-build.log" 2>&1; then
		mkdir -p "$san_reports" && chmod 1777 "$san_reports"
		export ASAN_OPTIONS="log_path=$san_reports/asan:detect_leaks=1:abort_on_error=0"
		export UBSAN_OPTIONS="log_path=$san_reports/ubsan:print_stacktrace=1:halt_on_error=1"
		export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
		check_counts "$san_dir" sanitize-check
		step sanitize-postfix make -k -C "$san_dir" check-postfix
		step fuzz make -C "$san_dir" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
		unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
		step sanitize-reports san_reports
	else
		tail -40 "$out/sanitize-build.log"
		tally sanitize-build 1 "$out/sanitize-build.log"
	fi
fi
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ]
