#!/bin/sh
# parse-golden.sh - what SpamAssassin's message parser notes about a
# message's shape (check_msg_parse_flags: HEAD_LONG, MISSING_HB_SEP,
# MISSING_MIME_HB_SEP, T_TVD_MIME_EPI, T_TVD_MIME_NO_HEADERS;
# check_for_mime's mimepart_limit_exceeded) and the charset tests
# ok_locales governs (CHARSET_FARAWAY, __MIME_CHARSET_FARAWAY,
# CHARSET_FARAWAY_HEADER, __HTML_CHARSET_FARAWAY and their metas),
# against SpamAssassin 4's own verdict: the messages of tests/golden/parse
# and hostile ones made here (too many parts, headers too long in all,
# over-long body lines, an encoded forwarded message, an empty one), with
# the settings and rules of tests/golden/parse/parse.cf (ok_locales en ja)
# added to a copy of the installed rules, through sa-hits.pl and `vigilctl
# rules test --batch`.  Every rule compared must hit the same messages on
# both sides, and the rules each message was written for must hit at all.
# Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
GOLDEN="$top_srcdir/tests/golden/parse"
TEST=parse-golden
. "$top_srcdir/tests/tools/sa.sh"
# SpamAssassin adds the locale of its environment to ok_locales
LC_ALL=C
export LC_ALL
cp "$GOLDEN/parse.cf" "$TMP/rules/99_parse_golden.cf"
mkdir "$TMP/msg"
HDR='From: Alice <alice@example.com>
To: bob@example.org
Date: Mon, 7 Dec 2026 10:00:00 +0000'
# 1001 parts: the parser stops at 1000
{
	printf '%s\nMessage-ID: <g1@example.com>\nSubject: many parts\n' "$HDR"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
	awk 'BEGIN { for (i = 0; i < 1001; i++)
	    printf "--b\nContent-Type: text/plain\n\npart %d\n", i
	    print "--b--"; print "an epilogue past the limit" }'
} >"$TMP/msg/many-parts.eml"
# 999 parts and an epilogue: within the limit
{
	printf '%s\nMessage-ID: <g2@example.com>\nSubject: parts\n' "$HDR"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
	awk 'BEGIN { for (i = 0; i < 999; i++)
	    printf "--b\nContent-Type: text/plain\n\npart %d\n", i
	    print "--b--"; print "an epilogue" }'
} >"$TMP/msg/999-parts.eml"
# ten fields of 7000 bytes: each within 8192, 70000 in all
{
	printf '%s\nMessage-ID: <g3@example.com>\nSubject: long headers\n' "$HDR"
	awk 'BEGIN { s = ""; for (i = 0; i < 700; i++) s = s "abcdefghi "
	    for (i = 0; i < 10; i++) printf "X-Filler-%d: %s\n", i, s }'
	printf '\nbody\n'
} >"$TMP/msg/head-total.eml"
# a field of 8191 and one of 8193 bytes after the colon (line end in)
{
	printf '%s\nMessage-ID: <g4@example.com>\nSubject: at the limit\n' "$HDR"
	awk 'BEGIN { s = ""; for (i = 0; i < 8189; i++) s = s "x"
	    printf "X-Edge: %s\n", s }'
	printf '\nbody\n'
} >"$TMP/msg/head-8191.eml"
{
	printf '%s\nMessage-ID: <g5@example.com>\nSubject: past the limit\n' "$HDR"
	awk 'BEGIN { s = ""; for (i = 0; i < 8191; i++) s = s "x"
	    printf "X-Edge: %s\n", s }'
	printf '\nbody\n'
} >"$TMP/msg/head-8193.eml"
# body lines of 5000 bytes in a part, the boundary after them
{
	printf '%s\nMessage-ID: <g6@example.com>\nSubject: long lines\n' "$HDR"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
	printf -- '--b\nContent-Type: text/plain\n\n'
	awk 'BEGIN { s = ""; for (i = 0; i < 5000; i++) s = s "y"; print s; print s }'
	printf -- '--b--\n'
} >"$TMP/msg/long-lines.eml"
# a base64 forwarded message whose multipart has an epilogue and a part
# without headers
{
	printf '%s\nMessage-ID: <g7@example.com>\nSubject: encoded forward\n' "$HDR"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
	printf -- '--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n'
	printf 'From: x@example.net\nSubject: inner\nContent-Type: multipart/mixed; boundary="ib"\n\n--ib\nno headers\n--ib--\ninner epilogue\n' |
	    base64
	printf -- '--b--\n'
} >"$TMP/msg/rfc822-base64.eml"
: >"$TMP/msg/empty.eml"
{ ls "$GOLDEN"/*.eml; ls "$TMP"/msg/*.eml; } >"$TMP/files"
sa_run_both
{
	sed -n 's/^[ 	]*\(header\|body\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	].*/\2/p' \
	    "$TMP/rules/99_parse_golden.cf"
	cat "$TMP/rules"/*.cf | sed -n 's/^[ 	]*\(header\|body\|rawbody\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	]\{1,\}eval:\(check_msg_parse_flags\|check_for_faraway_charset\|html_charset_faraway\|check_for_mime(.mime_faraway_charset\|check_for_mime(.mimepart_limit\).*/\2/p'
	echo MIME_CHARSET_FARAWAY
	echo HTML_CHARSET_FARAWAY
} | sort -u >"$TMP/defined"
awk '{print $1}' "$TMP/list" | sort -u | comm -12 - "$TMP/defined" \
    >"$TMP/rules-compared"
# file<TAB>rule the message must hit on both sides
cat >"$TMP/expect" <<'EOF2'
head-long-value	HEAD_LONG
head-long-folded	HEAD_LONG
head-long-key	HEAD_LONG
head-8193	HEAD_LONG
no-sep-dash	MISSING_HB_SEP
no-sep-junk	MISSING_HB_SEP
no-sep-eof	MISSING_HB_SEP
mime-blank-after-boundary-no-sep	MISSING_HB_SEP
head-total	HEAD_LONG
mime-no-hb-sep	MISSING_MIME_HB_SEP
mime-no-headers	T_TVD_MIME_NO_HEADERS
mime-no-headers-first	T_TVD_MIME_NO_HEADERS
mime-epilogue	T_TVD_MIME_EPI
mime-nested-epilogue	T_TVD_MIME_EPI
rfc822-inner-epi	T_TVD_MIME_EPI
rfc822-inner-epi	MISSING_MIME_HB_SEP
rfc822-base64	T_TVD_MIME_EPI
rfc822-base64	GOLDEN_PARSE_MIME_HEADERS
many-parts	GOLDEN_PARSE_PART_LIMIT
999-parts	GOLDEN_PARSE_EPILOGUE
charset-koi8r	CHARSET_FARAWAY
charset-koi8r	MIME_CHARSET_FARAWAY
charset-koi8r-ascii	__MIME_CHARSET_FARAWAY
charset-big5	CHARSET_FARAWAY
charset-header	CHARSET_FARAWAY_HEADER
charset-mime-part	MIME_CHARSET_FARAWAY
EOF2
python3 "$HERE/golden-compare.py" "$TMP/rules-compared" "$TMP/sa" "$TMP/vigil" \
    "$TMP/expect" parse-golden
