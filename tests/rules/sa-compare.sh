#!/bin/sh
# sa-compare.sh - how closely vigil's rule engine agrees with SpamAssassin
# on SpamAssassin's own rule files (/usr/share/spamassassin, Debian's
# spamassassin package) over the messages of shared/corpus.
#
#   tests/rules/sa-compare.sh [EVERY]     (make check-rules-sa)
#
# EVERY=N compares every Nth message (default 1: all).  SpamAssassin runs
# through its library with network tests and Bayes off (sa-hits.pl);
# vigil runs `vigilctl rules test --batch`; sa-compare.py compares the
# regex rules vigil loaded and fails below 98% either way.
#
# The corpus lives outside the repository: $VIGIL_CORPUS, else
# $VIGIL_SHARED/corpus/spamassassin (run-all.sh sets VIGIL_SHARED; default
# ../shared beside the source tree).  Without it, or without SpamAssassin,
# one line says why and it counts as skipped ("0 passed, 0 failed, 1
# skipped"); it ends with "sa-compare: 1 passed, 0 failed" or "0 passed, 1
# failed".
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
EVERY=${1:-${SA_COMPARE_EVERY:-1}}
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
CORPUS=${VIGIL_CORPUS:-${VIGIL_SHARED:-$top_srcdir/../shared}/corpus/spamassassin}
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
HERE="$top_srcdir/tests/rules"

skip() {
	echo "sa-compare: skipped: $*"
	echo "sa-compare: 0 passed, 0 failed, 1 skipped"
	exit 0
}
if ! perl -MMail::SpamAssassin -e 1 2>/dev/null || [ ! -d "$SA_RULES" ]; then
	skip "SpamAssassin is not installed (apt-get install spamassassin)"
fi
if [ -z "${VIGIL_CORPUS:-}" ] && [ ! -d "${VIGIL_SHARED:-$top_srcdir/../shared}" ]; then
	skip "no ${VIGIL_SHARED:-$top_srcdir/../shared} (the corpus lives" \
	    "in ../shared beside the source tree, or set VIGIL_SHARED)"
fi
if [ ! -d "$CORPUS" ]; then
	echo "sa-compare: no corpus at $CORPUS" >&2
	echo "sa-compare: 0 passed, 1 failed"
	exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
find "$CORPUS" -type f ! -name '*.txt' | sort | awk -v n="$EVERY" 'NR % n == 0' >"$TMP/files"
echo "sa-compare: $(wc -l <"$TMP/files") messages, rules from $SA_RULES"
"$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" rules lint --no-stress "$SA_RULES" | tail -n 1
"$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" rules list >"$TMP/list"
xargs -n 1000 "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" rules test --batch \
    <"$TMP/files" >"$TMP/vigil" 2>"$TMP/vigil.err"
perl "$HERE/sa-hits.pl" "$SA_RULES" <"$TMP/files" >"$TMP/sa" 2>"$TMP/sa.err"
tail -n 1 "$TMP/sa.err"
# The eval: rules alone, function by function (a report: sa-compare.py
# decides).
python3 "$HERE/eval-compare.py" "$SA_RULES" "$TMP/list" "$TMP/sa" \
    "$TMP/vigil" | grep -v '^differs: ' || true
if python3 "$HERE/sa-compare.py" "$TMP/list" "$TMP/sa" "$TMP/vigil"; then
	echo "sa-compare: 1 passed, 0 failed"
else
	echo "sa-compare: 0 passed, 1 failed"
	exit 1
fi
