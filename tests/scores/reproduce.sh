#!/bin/sh
# reproduce.sh - the shipped weights (rules/90_scores.rules) come out of
# `make scores` as they are: fitted on the train half of the shared
# corpus's seed-1 split with the shipped rules and samples/vigil.conf.
# Compares every score line (the comment header has the date); a
# difference means the rules or the checks changed since the weights were
# fitted: run `make scores` and commit the file.  Needs the shared corpus
# (VIGIL_SHARED, or ../shared beside the tree); skipped without it.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
shared=${VIGIL_SHARED:-$top_srcdir/../shared}
corpus=$shared/corpus/spamassassin
split=$shared/bench/accuracy/splits/spamassassin-seed1
if [ ! -d "$corpus" ] || [ ! -d "$split" ]; then
	echo "SKIP: no shared corpus at $shared (set VIGIL_SHARED)"
	exit 77
fi
T=$(mktemp -d /tmp/vigil-scores-repro.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
sh "$top_srcdir/tests/scores/lists.sh" "$corpus" "$split" train "$T/lists" ||
    exit 1
if ! "$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
    scores learn --spam-list "$T/lists/spam" --ham-list "$T/lists/ham" \
    -o "$T/new.rules" 2> "$T/err"; then
	cat "$T/err"
	echo "0 passed, 1 failed"
	exit 1
fi
grep -v '^#' "$top_srcdir/rules/90_scores.rules" > "$T/shipped"
grep -v '^#' "$T/new.rules" > "$T/new"
n=$(wc -l < "$T/shipped")
if [ "$n" -gt 50 ] && cmp -s "$T/shipped" "$T/new"; then
	echo "ok - rules/90_scores.rules reproduces from the corpus ($n score lines)"
	echo "1 passed, 0 failed"
	exit 0
fi
echo "not ok - rules/90_scores.rules differs from a fresh fit ($n lines):"
diff "$T/shipped" "$T/new" | head -20
echo "0 passed, 1 failed"
exit 1
