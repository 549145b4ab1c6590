#!/bin/sh
# wlbl-golden.sh - SpamAssassin's WLBLEval and VBounce plugins against
# SpamAssassin 4's own verdict: the messages of tests/golden/wlbl with the
# lists of tests/golden/wlbl/wlbl.cf (added to a copy of the installed
# rules), through sa-hits.pl and `vigilctl rules test --batch`; every
# rule of 60_welcomelist.cf, 20_vbounce.cf and wlbl.cf that vigil loads
# must hit the same messages on both sides, and the rules each message
# was written for must hit at all (so agreement on nothing fails).
# Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
GOLDEN="$top_srcdir/tests/golden/wlbl"
TEST=wlbl-golden
. "$top_srcdir/tests/tools/sa.sh"
cp "$GOLDEN/wlbl.cf" "$TMP/rules/99_wlbl_golden.cf"
ls "$GOLDEN"/*.eml >"$TMP/files"
sa_run_both
# The rules compared: those the three files define that vigil loaded.
for f in 60_welcomelist.cf 20_vbounce.cf 99_wlbl_golden.cf; do
	sed -n 's/^[ 	]*\(header\|body\|rawbody\|full\|uri\|meta\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	].*/\2/p' \
	    "$TMP/rules/$f"
done | sort -u >"$TMP/defined"
awk '{print $1}' "$TMP/list" | sort -u | comm -12 - "$TMP/defined" \
    >"$TMP/rules-compared"
# file<TAB>rule the message must hit on both sides
cat >"$TMP/expect" <<'EOF2'
welcome-from	USER_IN_WELCOMELIST
welcome-glob	USER_IN_WELCOMELIST
whitelist-old	USER_IN_WELCOMELIST
block-from	USER_IN_BLOCKLIST
block-from	GOLDEN_REPLYTO_LIST
to-lists	USER_IN_WELCOMELIST_TO
to-lists	USER_IN_BLOCKLIST_TO
to-lists	USER_IN_MORE_SPAM_TO
to-golden	GOLDEN_TO_LIST
rcvd-for	USER_IN_ALL_SPAM_TO
rcvd-welcome	USER_IN_WELCOMELIST
rcvd-forged	GOLDEN_FORGED
def-rcvd	USER_IN_DEF_WELCOMELIST
def-forged	GOLDEN_FORGED_DEF
def-classful	USER_IN_DEF_WELCOMELIST
uri-block	URI_HOST_IN_BLOCKLIST
uri-welcome	URI_HOST_IN_WELCOMELIST
uri-welcome	GOLDEN_URI_LIST
uri-click	GOLDEN_URI_LIST
rp-match	GOLDEN_RP_MATCHES
rp-couk	GOLDEN_RP_MATCHES
bounce	__MY_SERVERS_FOUND
bounce-text	__MY_SERVERS_FOUND
bounce	__HAVE_BOUNCE_RELAYS
EOF2
python3 "$HERE/golden-compare.py" "$TMP/rules-compared" "$TMP/sa" "$TMP/vigil" \
    "$TMP/expect" wlbl-golden
