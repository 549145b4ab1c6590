#!/bin/sh
# plain-compare.sh - the rules' fast path (literal prefilter, rewritten
# pattern openings, screens, rules passed over for absent literals) must
# give the hits of every rule run as written on every chunk
# (VIGIL_RULES_PLAIN=1), hit for hit and with the same match counts
# (the fast path with the regex prefilter on, RulesRegexPrefilter, its
# databases kept in VIGIL_RULES_CACHE_DIR between runs)
# (tflags multiple): on the golden messages with the shipped rules and,
# when installed, SpamAssassin's, alone and together in one set; with a
# corpus folder as argument (or VIGIL_CORPUS), on its messages too.
#
#   tests/rules/plain-compare.sh [CORPUS_DIR]
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
CORPUS=${1:-${VIGIL_CORPUS:-}}
TMP=$(mktemp -d) || exit 99
trap 'rm -rf "$TMP"' EXIT
fail=0 pass=0

find "$top_srcdir/tests/golden/rules" -name '*.eml' | sort >"$TMP/golden"
[ -n "$CORPUS" ] && [ -d "$CORPUS" ] &&
	find "$CORPUS" -type f ! -name '*.txt' | sort >"$TMP/corpus"

CACHE=${VIGIL_RULES_CACHE_DIR:-${TMPDIR:-/tmp}/vigil-plain-compare-cache}
compare() {	# RULES FILES LABEL
	xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$1" \
	    -o RulesRegexPrefilter=yes -o "RulesCacheDir=$CACHE" \
	    rules test --batch --counts <"$2" >"$TMP/fast" 2>/dev/null
	VIGIL_RULES_PLAIN=1 xargs "$VIGILCTL" -c "$CONF" -o Checks=rules \
	    -o "RulesDir=$1" rules test --batch --counts <"$2" >"$TMP/plain" \
	    2>/dev/null
	if [ -s "$TMP/plain" ] && cmp -s "$TMP/fast" "$TMP/plain"; then
		pass=$((pass + 1))
		echo "ok: $3: $(wc -l <"$2") messages, the same hits"
	else
		fail=$((fail + 1))
		echo "FAIL: $3: the fast path differs from the plain one"
		diff "$TMP/plain" "$TMP/fast" | head -n 10
	fi
}

compare "$top_srcdir/rules" "$TMP/golden" "shipped rules, golden messages"
if [ -d "$SA_RULES" ]; then
	compare "$SA_RULES" "$TMP/golden" "SpamAssassin's rules, golden messages"
	[ -s "$TMP/corpus" 2>/dev/null ] &&
		compare "$SA_RULES" "$TMP/corpus" "SpamAssassin's rules, $CORPUS"
	# Both in one set, as rules bench is usually run: more rules share
	# a prefilter, header slots and screens' choices.
	mkdir "$TMP/both"
	for f in "$top_srcdir"/rules/*.rules; do
		ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" \
		    "$TMP/both/"
	done
	for f in "$SA_RULES"/*.cf; do
		ln -s "$f" "$TMP/both/sa_$(basename "$f")"
	done
	compare "$TMP/both" "$TMP/golden" "shipped and SpamAssassin's rules, golden messages"
	[ -s "$TMP/corpus" 2>/dev/null ] &&
		compare "$TMP/both" "$TMP/corpus" "shipped and SpamAssassin's rules, $CORPUS"
fi
[ -s "$TMP/corpus" 2>/dev/null ] &&
	compare "$top_srcdir/rules" "$TMP/corpus" "shipped rules, $CORPUS"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
