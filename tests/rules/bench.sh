#!/bin/sh
# bench.sh - the rules part of `make bench`: rules-only time per message
# and MB/s on shared/corpus with the shipped rules and with SpamAssassin's
# rule files, and SpamAssassin itself checking the same messages with the
# same rule files, side by side in one run.
#
#   tests/rules/bench.sh [EVERY]    (default: every 10th corpus message)
#
# vigil's figure is the rules check alone (building its view of the
# message and evaluating every rule), from `vigilctl rules bench`.
# SpamAssassin's is Mail::SpamAssassin::check() per message (parsing
# plus all its tests, network and Bayes off), from sa-hits.pl.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
EVERY=${1:-${BENCH_RULES_EVERY:-10}}
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
CORPUS=${VIGIL_CORPUS:-${VIGIL_SHARED:-$top_srcdir/../shared}/corpus/spamassassin}
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -d "$CORPUS" ] || { echo "bench-rules: no corpus at $CORPUS" >&2; exit 1; }
find "$CORPUS" -type f ! -name '*.txt' | sort | awk -v n="$EVERY" 'NR % n == 0' >"$TMP/files"
echo "bench-rules: $(wc -l <"$TMP/files") messages (every ${EVERY}th of $CORPUS)"
printf 'vigil, shipped rules:       '
xargs "$VIGILCTL" -c "$CONF" -o Checks=rules rules bench <"$TMP/files" | tee "$TMP/ship"
if ! perl -MMail::SpamAssassin -e 1 2>/dev/null || [ ! -d "$SA_RULES" ]; then
	echo "bench-rules: SpamAssassin not installed; no side-by-side figure"
	exit 0
fi
# vigil's run is seconds long and SpamAssassin's minutes: vigil runs
# before and after SpamAssassin and the mean of the two is compared, so
# that a burst of load on a shared machine weighs on both sides alike.
vigil_sa() {
	printf 'vigil, SpamAssassin rules:  '
	xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" \
	    rules bench <"$TMP/files" | tee "$1"
}
vigil_sa "$TMP/vsa1"
printf 'SpamAssassin itself:        '
perl "$top_srcdir/tests/rules/sa-hits.pl" "$SA_RULES" <"$TMP/files" \
    2>&1 >/dev/null | tail -n 1 | tee "$TMP/sa"
vigil_sa "$TMP/vsa2"
# Two ratios: CPU time (each side's own CPU, steady on a busy machine) and
# wall-clock time (what a message waits, which load on a shared machine
# stretches unevenly between the short and the long run).
mean() {	# FIELD FILE FILE
	sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p" "$2" "$3" |
	    awk '{ t += $1; n++ } END { if (n) printf "%.3f", t / n }'
}
v=$(mean ms_per_msg "$TMP/vsa1" "$TMP/vsa2")
s=$(sed -n 's/.* ms_per_msg=\([0-9.]*\).*/\1/p' "$TMP/sa")
vc=$(mean cpu_ms_per_msg "$TMP/vsa1" "$TMP/vsa2")
sc=$(sed -n 's/.*cpu_ms_per_msg=\([0-9.]*\).*/\1/p' "$TMP/sa")
awk -v v="$vc" -v s="$sc" 'BEGIN { if (v > 0) printf "speed-up on SpamAssassin rules, CPU time: %.1fx (%.3f ms vs %.3f ms per message)\n", s / v, v, s }'
awk -v v="$v" -v s="$s" 'BEGIN { if (v > 0) printf "speed-up on SpamAssassin rules, wall clock: %.1fx (%.3f ms vs %.3f ms per message)\n", s / v, v, s }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
