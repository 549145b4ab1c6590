#!/bin/sh
# run.sh - `make fuzz`: each libFuzzer target for FUZZ_SECONDS (default
# 60) from its seeds, with its dictionary.  The corpus grows in the build
# folder (tests/fuzz/work/NAME, kept between runs, never committed); a
# crash, leak, timeout (FUZZ_TIMEOUT s for one input) or out-of-memory
# (FUZZ_RSS_MB; the defaults per target are in targets.sh) leaves its input as
# tests/fuzz/work/NAME/crash-* (or leak-, timeout-, oom-) and fails the
# run.  FUZZ_TARGETS="mime url" runs a subset.  Ends with "fuzz: N
# passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VIGIL_SHARED:=$(cd "$top_srcdir/../shared" 2>/dev/null && pwd)}"
. "$top_srcdir/tests/fuzz/targets.sh"
secs=${FUZZ_SECONDS:-60}
pass=0 fail=0

for name in ${FUZZ_TARGETS:-$FUZZ_NAMES}; do
	bin=$top_builddir/tests/fuzz/fuzz_$name
	work=$top_builddir/tests/fuzz/work/$name
	mkdir -p "$work/corpus"
	# Seeds are copied in: libFuzzer adds to the first folder only.
	# Seeds are copied in under their content's hash (libFuzzer's own
	# naming), as it adds to the first folder only.
	find $(fuzz_seeds "$name") -type f -size -1024k 2>/dev/null |
	while read -r f; do
		cp "$f" "$work/corpus/$(sha1sum <"$f" | cut -c1-40)"
	done
	dict=$top_srcdir/tests/fuzz/dict/$name.dict
	if [ "$name" = cfg ]; then
		# every keyword the sample config names, as written
		dict=$work/cfg.dict
		sed -n 's/^#\{0,1\}\([A-Z][A-Za-z0-9]*\)[ 	].*/"\1 "/p' \
		    "$top_srcdir/samples/vigil.conf" | sort -u >"$dict"
	fi
	set -- $(fuzz_limits "$name")
	rss=${FUZZ_RSS_MB:-$1} tmo=${FUZZ_TIMEOUT:-$2}
	set -- -max_total_time="$secs" -timeout="$tmo" \
	    -rss_limit_mb="$rss" -max_len=262144 \
	    -print_final_stats=1 -artifact_prefix="$work/"
	[ -s "$dict" ] && set -- "$@" -dict="$dict"
	echo "== fuzz_$name: ${secs}s, $(ls "$work/corpus" | wc -l) inputs to start"
	if "$bin" "$@" "$work/corpus" >"$work/log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   fuzz_$name: $(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}') runs, corpus $(ls "$work/corpus" | wc -l)"
	else
		fail=$((fail + 1))
		echo "FAIL fuzz_$name: see $work/log"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/log" | head -10
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
