#!/bin/sh
# bench-verdict.sh - `make bench-verdict`: the shared accuracy harness's
# rows for the whole verdict on the seed-1 split of the shared corpus:
# vigil as shipped (samples/vigil.conf, rules/ with its learned scores),
# vigil with SpamAssassin's installed rules added (SpamAssassinRules, as
# an installed vigil with the default RulesDir reads them, weighed by the
# shipped rules/spamassassin.scores), and SpamAssassin 4 itself (rules +
# Bayes, no network) when it is installed.  Bayes is trained on the train half; the test half is
# measured.  Results and logs under $OUT (default /tmp/vigil-bench-verdict).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
shared=${VIGIL_SHARED:-$top_srcdir/../shared}
acc=$shared/bench/accuracy
corpus=$shared/corpus/spamassassin
split=$acc/splits/spamassassin-seed1
OUT=${OUT:-/tmp/vigil-bench-verdict}
if [ ! -f "$acc/evaluate.py" ] || [ ! -d "$corpus" ]; then
	echo "bench-verdict: needs the shared accuracy harness and corpus" \
	    "($shared; set VIGIL_SHARED)" >&2
	exit 77
fi
mkdir -p "$OUT"
a=$top_srcdir/contrib/accuracy/vigil-verdict.sh
export VIGILCTL="$top_builddir/filter/vigilctl"
export VIGIL_CONF="$top_srcdir/samples/vigil.conf"

run() { # name [VAR=value]... -- train-cmd classify-cmd
	name=$1
	shift
	rm -rf "$OUT/work-$name"
	env "$@" python3 "$acc/evaluate.py" --corpus "$corpus" --seed 1 $header \
	    --name "$name" --split-dir "$split" --workdir "$OUT/work-$name" \
	    --json "$OUT/results.jsonl" --scores "$OUT/scores-$name.tsv" \
	    --train-cmd "$TRAIN" --classify-cmd "$CLASSIFY" \
	    > "$OUT/$name.out" 2> "$OUT/$name.log"
	rc=$?
	grep '^|' "$OUT/$name.out"
	header=
	[ $rc -eq 0 ] || { tail -5 "$OUT/$name.log" >&2; failed=1; }
}
failed=0
header=--header
TRAIN="$a train {label} {list}" CLASSIFY="$a classify {list}"
run vigil-shipped X=1
if [ -d /usr/share/spamassassin ]; then
	run vigil+sa-rules \
	    VIGIL_OPTS="-o SpamAssassinRules=/usr/share/spamassassin"
	if perl -MMail::SpamAssassin -e1 2>/dev/null; then
		TRAIN="perl $acc/adapters/spamassassin.pl train {label} {list}"
		CLASSIFY="perl $acc/adapters/spamassassin.pl classify {list}"
		run spamassassin SA_MODE=full
	fi
else
	echo "(SpamAssassin is not installed: its rows are left out)"
fi
exit $failed
