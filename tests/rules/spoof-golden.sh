#!/bin/sh
# spoof-golden.sh - SpamAssassin's FromNameSpoof, URIEval and
# HTTPSMismatch plugins against SpamAssassin 4's own verdict: the
# messages of tests/golden/spoof with the rules and settings of
# tests/golden/spoof/spoof.cf (added to a copy of the installed rules;
# FromNameSpoof, which Debian's v342.pre leaves out, loaded by a .pre),
# through sa-hits.pl and `vigilctl rules test --batch`; every rule of
# spoof.cf, and of the installed files, that calls one of their
# functions or is a meta of those blocks must hit the same messages on
# both sides, and the rules each message was written for must hit at
# all.  Skipped (exit 77) without SpamAssassin.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
HERE="$top_srcdir/tests/rules"
GOLDEN="$top_srcdir/tests/golden/spoof"
TEST=spoof-golden
. "$top_srcdir/tests/tools/sa.sh"
echo "loadplugin Mail::SpamAssassin::Plugin::FromNameSpoof" \
    >"$TMP/rules/99_spoof_golden.pre"
cp "$GOLDEN/spoof.cf" "$TMP/rules/99_spoof_golden.cf"
ls "$GOLDEN"/*.eml >"$TMP/files"
sa_run_both
# The rules compared: spoof.cf's, the installed rules that call the
# plugins' functions, and the metas of their blocks, that vigil loaded.
{
	sed -n 's/^[ 	]*\(header\|body\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	].*/\2/p' \
	    "$TMP/rules/99_spoof_golden.cf"
	cat "$TMP/rules"/*.cf | sed -n 's/^[ 	]*\(header\|body\|uri\|rawbody\|full\)[ 	]\{1,\}\([A-Za-z0-9_]\{1,\}\)[ 	]\{1,\}eval:check_\(fromname_\|https_\|for_http_redirector\|uri_truncated\).*/\2/p'
	echo T_FROMNAME_EQUALS_TO
	echo T_FROMNAME_SPOOFED_EMAIL
	echo HTTPS_HTTP_MISMATCH
} | sort -u >"$TMP/defined"
awk '{print $1}' "$TMP/list" | sort -u | comm -12 - "$TMP/defined" \
    >"$TMP/rules-compared"
# file<TAB>rule the message must hit on both sides
cat >"$TMP/expect" <<'EOF2'
fns-spoof	GOLDEN_FNS_SPOOF
fns-spoof	GOLDEN_FNS_OWNERS
fns-spoof	GOLDEN_FNS_DOMAIN
fns-spoof	__PLUGIN_FROMNAME_SPOOF
fns-same	GOLDEN_FNS_EMAIL
fns-subdomain	GOLDEN_FNS_SPOOF0
fns-owner-list	GOLDEN_FNS_SPOOF2
fns-owner-removed	GOLDEN_FNS_OWNERS
fns-owner-label	GOLDEN_FNS_DOMAIN
fns-to	GOLDEN_FNS_EQ_TO
fns-to-cc	__PLUGIN_FROMNAME_EQUALS_TO
fns-replyto	GOLDEN_FNS_EQ_REPLYTO
fns-long	GOLDEN_FNS_EMAIL
fns-extra-short	GOLDEN_FNS_DIFFERENT
fns-ip	GOLDEN_FNS_SPOOF
fns-idn-ace	GOLDEN_FNS_SPOOF
https-mismatch	GOLDEN_HTTPS_MISMATCH
https-mismatch	HTTPS_HTTP_MISMATCH
https-many	GOLDEN_HTTPS_MISMATCH
https-text-ip	GOLDEN_HTTPS_MISMATCH
https-entity	GOLDEN_HTTPS_MISMATCH
ip-mismatch	GOLDEN_HTTPS_IP_MISMATCH
redirector	GOLDEN_REDIRECTOR
redirector-encoded	GOLDEN_REDIRECTOR
truncated-html	GOLDEN_URI_TRUNCATED
truncated-html	URI_TRUNCATED
truncated-img	GOLDEN_URI_TRUNCATED
EOF2
python3 "$HERE/golden-compare.py" "$TMP/rules-compared" "$TMP/sa" "$TMP/vigil" \
    "$TMP/expect" spoof-golden
