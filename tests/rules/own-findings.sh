#!/bin/sh
# own-findings.sh - names that are both a finding of vigil's own checks
# and a SpamAssassin rule (headers.c's MISSING_DATE, MISSING_MID,
# MISSING_SUBJECT, MISSING_FROM beside 20_head_tests.cf's metas of those
# names): with SpamAssassin's rules loaded, the message must carry each
# such name once, weighing what vigil's check gives it without them, while
# SpamAssassin's metas over the rule still see it.  SpamAssassin itself
# (sa-hits.pl) must hit the rules on the same messages, or the test
# proves nothing.  Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
TEST=own-findings
. "$top_srcdir/tests/tools/sa.sh"
. "$top_srcdir/tests/tools/tap.sh"

# No Date, no Message-ID, no Subject, no To, no Received: every header
# finding at issue, and NO_HEADERS_MESSAGE, SpamAssassin's meta over
# MISSING_DATE and MISSING_MID.
printf 'From: Alice <alice@example.org>\n\nThe report is attached.\n' \
    >"$TMP/bare.eml"
# No From either.
printf 'To: bob@example.net\nSubject: report\n\nThe report is attached.\n' \
    >"$TMP/nofrom.eml"
ls "$TMP"/*.eml >"$TMP/files"
perl "$HERE/sa-hits.pl" "$TMP/rules" <"$TMP/files" >"$TMP/sa" 2>"$TMP/sa.err"
xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$TMP/rules" \
    rules test --batch <"$TMP/files" >"$TMP/vigil" 2>"$TMP/vigil.err"
sa_all_read "$(wc -l <"$TMP/files")" "$TMP/sa" "$TMP/vigil"

# NAME=WEIGHT of each finding of a scan, sorted.
scan() {
	"$VIGILCTL" -c "$CONF" -o "SpamAssassinRules=$1" scan --json "$2" \
	    2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted("%s=%.3f" % (h["name"], h["score"])
    for h in json.load(sys.stdin)["hits"])))'
}
for m in "bare MISSING_DATE MISSING_MID MISSING_SUBJECT NO_HEADERS_MESSAGE" \
    "nofrom MISSING_FROM MISSING_DATE MISSING_MID"; do
	set -- $m
	f=$TMP/$1.eml
	b=$1
	shift
	sa=" $(grep -F "$f:" "$TMP/sa" | cut -d: -f2-) "
	vg=" $(grep -F "$f:" "$TMP/vigil" | cut -d: -f2-) "
	for r in "$@"; do
		case $sa in *" $r "*) ok "$b: SpamAssassin hits $r" ;;
		*) bad "$b: SpamAssassin does not hit $r" ;; esac
		case $vg in *" $r "*) ok "$b: vigil's rule $r hits" ;;
		*) bad "$b: vigil's rule $r does not hit" ;; esac
	done
	with=$(scan "$SA_RULES" "$f")
	without=$(scan no "$f")
	dup=$(echo "$with" | tr ' ' '\n' | sed 's/=.*//' | uniq -d | tr '\n' ' ')
	if [ -z "$dup" ]; then
		ok "$b: each finding once"
	else
		bad "$b: counted twice: $dup"
	fi
	# The header check's findings weigh the same with SpamAssassin's rules.
	for r in MISSING_DATE MISSING_MID MISSING_SUBJECT MISSING_FROM; do
		w1=$(echo "$with" | tr ' ' '\n' | grep "^$r=" | tr '\n' ' ')
		w0=$(echo "$without" | tr ' ' '\n' | grep "^$r=" | tr '\n' ' ')
		if [ "$w1" = "$w0" ]; then
			ok "$b: ${w0:-no $r} with and without SpamAssassin's rules"
		else
			bad "$b: $r with SpamAssassin's rules: ${w1:-none};" \
			    "without: ${w0:-none}"
		fi
	done
done
echo "$TEST: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
