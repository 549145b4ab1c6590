#!/bin/sh
# eval-golden.sh - the eval: tests vigil implements against SpamAssassin's
# own verdict: the hand-made messages of tests/golden/eval, each written
# for some of the functions, through SpamAssassin 4 (sa-hits.pl, its
# installed rules, network tests and Bayes off) and through `vigilctl
# rules test --batch` with the same rules; every hit of an eval rule
# vigil runs must be the same on both sides (eval-compare.py).  The
# rules SpamAssassin's set scores 0 (so neither side runs them) but
# whose functions vigil implements get a score for the test, in a copy
# of the rules, so that they run on both sides; and the rules vigil
# keeps off (rules_evalfn.c kept_off) run under other names.
# Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
TEST=eval-golden
. "$top_srcdir/tests/tools/sa.sh"
cat >"$TMP/rules/99_eval_golden.cf" <<'EOF'
score BLANK_LINES_80_90 1
score NO_DNS_FOR_FROM 1
score TVD_STOCK1 1
score HTML_COMMENT_SHORT 1
score HTML_FORMACTION_MAILTO 1
score HTML_IFRAME_SRC 1
body GOLDEN_IMAGE_RATIO_02 eval:html_image_ratio('0.000','0.002')
body GOLDEN_IMAGE_RATIO_04 eval:html_image_ratio('0.002','0.004')
body GOLDEN_IMAGE_RATIO_06 eval:html_image_ratio('0.004','0.006')
body GOLDEN_IMAGE_RATIO_08 eval:html_image_ratio('0.006','0.008')
score GOLDEN_IMAGE_RATIO_02 1
score GOLDEN_IMAGE_RATIO_04 1
score GOLDEN_IMAGE_RATIO_06 1
score GOLDEN_IMAGE_RATIO_08 1
welcomelist_subject invoice?#????
welcomelist_subject lunch on friday nomatch
blocklist_subject win*cruise
blocklist_subject lunch.on
EOF
SA_RULES="$TMP/rules"
ls "$top_srcdir"/tests/golden/eval/*.eml >"$TMP/files"
V() { "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" "$@"; }
V rules list >"$TMP/list" 2>/dev/null
xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$SA_RULES" rules test --batch <"$TMP/files" >"$TMP/vigil" 2>"$TMP/vigil.err"
perl "$HERE/sa-hits.pl" "$SA_RULES" <"$TMP/files" >"$TMP/sa" 2>"$TMP/sa.err"
# The rules of the functions the messages are written for must run (a
# rule vigil does not load is left out of the comparison).
missing=
for r in __UNPARSEABLE_RELAY_COUNT NO_RDNS_DOTCOM_HELO ALL_TRUSTED \
    NO_DNS_FOR_FROM SUBJECT_IN_WELCOMELIST SUBJECT_IN_BLOCKLIST; do
	grep -q "^$r " "$TMP/list" || missing="$missing $r"
done
if [ -n "$missing" ]; then
	echo "eval-golden: not loaded:$missing" >&2
	echo "eval-golden: 0 passed, 1 failed"
	exit 1
fi
sa_all_read "$(wc -l <"$TMP/files")" "$TMP/sa" "$TMP/vigil"
if python3 "$HERE/eval-compare.py" "$SA_RULES" "$TMP/list" "$TMP/sa" \
    "$TMP/vigil"; then
	echo "eval-golden: 1 passed, 0 failed"
else
	echo "eval-golden: 0 passed, 1 failed"
	exit 1
fi
