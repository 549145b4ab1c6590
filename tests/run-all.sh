#!/bin/sh
# run-all.sh - builds vigil and runs every test suite it has: unit and
# protocol tests (make check), the end-to-end suites through a private
# Postfix (make check-postfix), the conformance suites (make
# check-conformance), make distcheck, then a second build with ASan +
# UBSan (clang) that runs make check and check-postfix again and the
# fuzzers' short pass (FUZZ_SECONDS a target, 30).  Each
# suite's own counts are added up (tests/tools/tally.sh); the last line is
# the total, "total: N passed, N failed, N skipped".  Exits non-zero if
# anything failed.
#
# Needs the packages of .ci/packages.sh and root (a private Postfix).
# VIGIL_SKIP="distcheck sanitize" skips suites by name (sanitize: the
# whole second build).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=${VIGIL_TEST_OUT:-$(mktemp -d /tmp/vigil-tests-XXXXXX)}
# Readable by all: the sanitizer build's vigil, dropped to UserID (nobody
# in check-security) before it reads anything, loads its rules and zone
# files from the copy of the tree in here, and writes its reports here.
mkdir -p "$out" && chmod 755 "$out"
export VIGIL_SHARED=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}

# The SpamAssassin comparison runs SpamAssassin itself (about 0.1 s a
# message): every 20th corpus message here; make check-rules-sa alone
# compares them all.
export SA_COMPARE_EVERY=${SA_COMPARE_EVERY:-20}

skipped() { case " ${VIGIL_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }

# Each suite's counts: tests/tools/tally.sh reads its log (how, and what
# counts as a failure, is said there) and prints one "== NAME: P passed,
# F failed, S skipped" line, kept in $results for the total.
results=$out/results.txt
: > "$results"
: > "$out/failures.txt"
tally() { # log|automake|skipped NAME ...
	sh "$top/tests/tools/tally.sh" "$@" | tee -a "$results"
}

step() { # name command...
	name=$1; shift
	if skipped "$name"; then tally skipped "$name"; return; fi
	echo "== $name: $*"
	"$@" > "$out/$name.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		tail -40 "$out/$name.log"
		failures "$name" "$out/$name.log"
	fi
	tally log "$name" $rc "$out/$name.log"
}

# The failing lines of each suite that failed (with the three lines after
# each), printed again just above the total, where a reader of the last
# lines of the output finds them.
failures() { # name log
	grep -E -A3 '^(FAIL|ERROR|not ok|XPASS)\b' "$2" | head -60 |
	    sed "s/^/[$1] /" >> "$out/failures.txt"
}

# make check: count the test cases inside each program's log.
check_counts() { # [BUILD_DIR NAME]
	cdir=${1:-.} cname=${2:-check}
	if skipped "$cname"; then tally skipped "$cname"; return; fi
	(cd "$cdir" && make -j2 check) > "$out/$cname.log" 2>&1
	rc=$?
	sh "$top/tests/tools/tally.sh" automake "$cname" $rc "$cdir" \
	    > "$out/$cname-summary.log"
	if [ $rc -ne 0 ] || grep -q "^   .*, [1-9][0-9]* failed" "$out/$cname-summary.log"; then
		grep -E '^(FAIL|ERROR)' "$out/$cname.log"
		cat "$out/$cname-summary.log"
	fi
	tail -1 "$out/$cname-summary.log" | tee -a "$results"
	[ $rc -eq 0 ] || failures "$cname" "$out/$cname.log"
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
	echo "total: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
check_counts
step check-postfix make -k check-postfix
step check-conformance make -k check-conformance
step distcheck make -j2 distcheck
if skipped sanitize; then
	tally skipped sanitize
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
		tally log sanitize-build 1 "$out/sanitize-build.log"
	fi
fi
if [ -s "$out/failures.txt" ]; then
	echo "== what failed (logs in $out)"
	cat "$out/failures.txt"
fi
sh "$top/tests/tools/tally.sh" total "$results" | tee "$out/total.txt"
grep -q ', 0 failed,' "$out/total.txt"
