#!/bin/sh
# leak-test.sh - the sanitizer build sees a leak in vigil's worker.
#
# The worker ends with _exit(), where LeakSanitizer's exit hook never
# runs; the sanitizer build runs the leak check itself first (main.c,
# worker_exit).  This starts the daemon twice and stops it with SIGTERM:
#   - as it is: exit status 0, and no sanitizer report;
#   - with VIGIL_TEST_LEAK=1 (honoured by the sanitizer build alone; the
#     worker loses 4096 bytes on purpose): exit status 1 (ASan's), and a
#     LeakSanitizer report naming test_leak.
# The reports go to a folder of this test (log_path), not to run-all.sh's
# sanitizer-reports, where the deliberate one would fail the pass; the
# suppressions (LSAN_OPTIONS) stay the pass's own.  Outside the sanitizer
# build it skips.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
VIGIL=$top_builddir/filter/vigil
pass=0 fail=0

if [ ! -x "$VIGIL" ]; then
	echo "FAIL $VIGIL not built"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! grep -q __lsan_do_leak_check "$VIGIL"; then
	echo "SKIP: $VIGIL is not a sanitizer build (configure --enable-sanitizers)"
	echo "leak-test: 0 passed, 0 failed, 1 skipped"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-leak.XXXXXX") || exit 1
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

cat >"$T/vigil.conf" <<EOF
Socket unix:$T/v.sock
ControlSocket $T/c.sock
Checks headers
BayesDir $T/bayes
QuarantineDir $T/quarantine
EOF

# run NAME [ENV=VALUE]: start the daemon, wait for its socket, SIGTERM,
# wait for it (60 s at most); sets rc (124: had to be killed) and leaves
# the sanitizer's reports in $T/NAME/.
run() {
	name=$1
	shift
	mkdir -p "$T/$name"
	rm -f "$T/v.sock"
	env "$@" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:log_path=$T/$name/asan" \
	    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/$name/ubsan" \
	    "$VIGIL" -f -c "$T/vigil.conf" >"$T/$name.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$T/v.sock" ] && kill -0 "$pid" 2>/dev/null &&
	    [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -S "$T/v.sock" ]; then
		echo "# vigil did not listen:"; tail -5 "$T/$name.log"
	fi
	kill -TERM "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# vigil still running 60 s after SIGTERM: killed"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=124
	else
		wait "$pid"
		rc=$?
	fi
	pid=
}

# reports NAME: the sanitizer reports of run NAME, concatenated.
reports() { cat "$T/$1"/* 2>/dev/null; }

run clean
if [ "$rc" -eq 0 ]; then
	ok "without VIGIL_TEST_LEAK: vigil stops with status 0"
else
	bad "without VIGIL_TEST_LEAK: vigil stopped with status $rc"
	tail -5 "$T/clean.log"
fi
if [ -z "$(reports clean)" ]; then
	ok "without VIGIL_TEST_LEAK: no sanitizer report"
else
	bad "without VIGIL_TEST_LEAK: a sanitizer report"
	reports clean | grep -E 'ERROR|SUMMARY|#[0-9] ' | head -20
fi
if grep -q 'vigil stopped' "$T/clean.log"; then
	ok "the worker stopped by its own exit path"
else
	bad "the worker never logged \"vigil stopped\""
fi

run leak VIGIL_TEST_LEAK=1
if [ "$rc" -eq 1 ]; then
	ok "VIGIL_TEST_LEAK=1: vigil stops with status 1 (the leak check's)"
else
	bad "VIGIL_TEST_LEAK=1: vigil stopped with status $rc, not 1"
	tail -5 "$T/leak.log"
fi
if reports leak | grep -q 'ERROR: LeakSanitizer: detected memory leaks' &&
    reports leak | grep -q 'in test_leak '; then
	ok "VIGIL_TEST_LEAK=1: LeakSanitizer reports the allocation in test_leak"
else
	bad "VIGIL_TEST_LEAK=1: no LeakSanitizer report naming test_leak"
	reports leak | head -20
fi
if reports leak | grep -q 'SUMMARY: AddressSanitizer: 4096 byte(s) leaked in 1 allocation(s)'; then
	ok "VIGIL_TEST_LEAK=1: that leak alone (4096 bytes, 1 allocation)"
else
	bad "VIGIL_TEST_LEAK=1: the summary is not the one deliberate leak"
	reports leak | grep SUMMARY
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
