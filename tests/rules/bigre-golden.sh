#!/bin/sh
# bigre-golden.sh - the SpamAssassin rules too large for PCRE2 once their
# ReplaceTags tags are written out (72_active.cf's __MY_MALWARE, __PAY_ME,
# __YOUR_WEBCAM, __YOUR_ONAN, __YOUR_PERSONAL, __HOURS_DEADLINE,
# __FILL_THIS_FORM_LONG1 and 2, compiled with each tag once as a
# definition group) against SpamAssassin 4's own verdict: the messages of
# tests/golden/bigre (hits, hits with Cyrillic lookalike letters, near
# misses, two extortion texts) through sa-hits.pl and `vigilctl rules test
# --batch`; the eight rules and the metas that use them must hit the same
# messages on both sides, and the rules each message was written for must
# hit at all.  Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
GOLDEN="$top_srcdir/tests/golden/bigre"
TEST=bigre-golden
. "$top_srcdir/tests/tools/sa.sh"
ls "$GOLDEN"/*.eml >"$TMP/files"
sa_run_both
# The rules compared: the eight, and the metas naming one of them, that
# vigil loaded.
BIG='__MY_MALWARE __PAY_ME __YOUR_WEBCAM __YOUR_ONAN __YOUR_PERSONAL __HOURS_DEADLINE __FILL_THIS_FORM_LONG1 __FILL_THIS_FORM_LONG2'
{
	for r in $BIG; do
		echo "$r"
		cat "$TMP/rules"/*.cf | sed -n "s/^[ 	]*meta[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	].*\<$r\>.*/\1/p"
	done
} | sort -u >"$TMP/defined"
awk '{print $1}' "$TMP/list" | sort -u | comm -12 - "$TMP/defined" \
    >"$TMP/rules-compared"
# file<TAB>rule the message must hit on both sides
cat >"$TMP/expect" <<'EOF2'
malware	__MY_MALWARE
malware-cyrillic	__MY_MALWARE
pay-me	__PAY_ME
pay-me-cyrillic	__PAY_ME
webcam	__YOUR_WEBCAM
webcam-cyrillic	__YOUR_WEBCAM
onan	__YOUR_ONAN
onan-cyrillic	__YOUR_ONAN
personal	__YOUR_PERSONAL
personal-cyrillic	__YOUR_PERSONAL
deadline	__HOURS_DEADLINE
deadline-cyrillic	__HOURS_DEADLINE
form-numbered	__FILL_THIS_FORM_LONG1
form-numbered	__FILL_THIS_FORM_LONG
form-plain	__FILL_THIS_FORM_LONG2
form-ellipsis	__FILL_THIS_FORM_LONG2
extortion	__EXTORT_MANY
extortion	__MY_MALWARE
extortion	__PAY_ME
extortion	__YOUR_WEBCAM
extortion	__YOUR_ONAN
extortion	__YOUR_PERSONAL
extortion	__HOURS_DEADLINE
extortion-cyrillic	__EXTORT_MANY
extortion-cyrillic	__YOUR_ONAN
extortion-cyrillic	__PAY_ME
EOF2
python3 "$HERE/golden-compare.py" "$TMP/rules-compared" "$TMP/sa" "$TMP/vigil" \
    "$TMP/expect" bigre-golden
