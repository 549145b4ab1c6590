#!/bin/sh
# reproduce.sh - the shipped weights (rules/90_scores.rules, and
# rules/spamassassin.scores for the shipped rules with SpamAssassin's)
# come out of `make scores` as they are: fitted on the train half of the
# shared corpus's seed-1 split with samples/vigil.conf.
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
# A data check: whether the files match the corpus does not depend on the
# build.  Under ASan the fit of the untrained columns' grid takes most of
# half an hour; tests/scores/learn.sh runs `scores learn` itself under the
# sanitizers.
if grep -q __asan_init "$top_builddir/filter/vigilctl" 2>/dev/null; then
	echo "SKIP: a sanitizer build (the normal build checks the score files;" \
	    "tests/scores/learn.sh runs scores learn under the sanitizers)"
	exit 77
fi
T=$(mktemp -d /tmp/vigil-scores-repro.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
sh "$top_srcdir/tests/scores/lists.sh" "$corpus" "$split" train "$T/lists" ||
    exit 1
pass=0 fail=0 skip=0
# refit NAME SPAMASSASSINRULES FILE: fit as `make scores` does, compare.
refit() {
	if ! "$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
	    -o "SpamAssassinRules=$2" scores learn --spam-list "$T/lists/spam" \
	    --ham-list "$T/lists/ham" -o "$T/$1" 2> "$T/err"; then
		cat "$T/err"
		echo "not ok - $1: scores learn failed"
		fail=$((fail + 1))
		return
	fi
	grep -v '^#' "$top_srcdir/rules/$1" > "$T/shipped"
	grep -v '^#' "$T/$1" > "$T/new"
	n=$(wc -l < "$T/shipped")
	if [ "$n" -gt 50 ] && cmp -s "$T/shipped" "$T/new"; then
		echo "ok - rules/$1 reproduces from the corpus ($n score lines)"
		pass=$((pass + 1))
	else
		echo "not ok - rules/$1 differs from a fresh fit ($n lines):"
		diff "$T/shipped" "$T/new" | head -20
		fail=$((fail + 1))
	fi
}
refit 90_scores.rules no
# The scores for the shipped rules with SpamAssassin's, fitted with
# Debian's spamassassin package's rules.
if [ -d /usr/share/spamassassin ]; then
	refit spamassassin.scores /usr/share/spamassassin
else
	echo "SKIP: no /usr/share/spamassassin (apt-get install spamassassin):" \
	    "rules/spamassassin.scores not checked"
	skip=$((skip + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
