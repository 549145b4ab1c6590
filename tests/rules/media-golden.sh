#!/bin/sh
# media-golden.sh - SpamAssassin's ImageInfo and PDFInfo plugins against
# SpamAssassin 4's own verdict: the messages media-gen.py writes (small
# GIF, PNG and JPEG images of chosen sizes, hand-written PDFs, truncated
# and corrupt ones) with its rules for the functions the shipped files
# do not call, through sa-hits.pl (PDFInfo loaded: Debian's v341.pre
# leaves it off) and `vigilctl rules test --batch`.  Every rule of
# 20_imageinfo.cf, 20_pdfinfo.cf, the golden rules and 72_active.cf's
# image rules that vigil loads must hit the same messages on both sides,
# and each message's expected rules must hit at all.
# Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
TEST=media-golden
. "$top_srcdir/tests/tools/sa.sh"
mkdir "$TMP/msg"
if ! python3 "$HERE/media-gen.py" "$TMP/msg"; then
	echo "media-golden: 0 passed, 1 failed"
	exit 1
fi
mv "$TMP/msg/99_media_golden.cf" "$TMP/rules/"
echo "loadplugin Mail::SpamAssassin::Plugin::PDFInfo" \
    >"$TMP/rules/99_media_golden.pre"
ls "$TMP"/msg/*.eml >"$TMP/files"
sa_run_both
# The rules compared: those the files define that vigil loaded.
{
	for f in 20_imageinfo.cf 20_pdfinfo.cf 99_media_golden.cf; do
		sed -n 's/^[ 	]*\(body\|rawbody\|meta\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	].*/\2/p' \
		    "$TMP/rules/$f"
	done
	echo __IMG_LE_300K
	echo __ONE_IMG
} | sort -u >"$TMP/defined"
awk '{print $1}' "$TMP/list" | sort -u | comm -12 - "$TMP/defined" \
    >"$TMP/rules-compared"
python3 "$HERE/golden-compare.py" "$TMP/rules-compared" "$TMP/sa" \
    "$TMP/vigil" "$TMP/msg/expect" media-golden
