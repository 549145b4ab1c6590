#!/usr/bin/env bash
# dns-sender.sh - check_dns_sender (NO_DNS_FOR_FROM) against SpamAssassin
# 4 with its network tests on, both asking a real DNS server: in a
# network namespace, dnsmasq on its own loopback serves has-a.test (an A
# record), has-mx.test (an MX record) and nothing else under test.
# (nowhere.test: NXDOMAIN).  SpamAssassin (sa-hits.pl, SA_HITS_DNS) and
# `vigilctl rules test` with DNSLists on read the dns-sender-*.eml
# messages of tests/golden/eval with NO_DNS_FOR_FROM scored, so that it
# runs on both sides; the test checks that SpamAssassin asked A and MX of
# each sender domain (the rule ran), and that both sides hit the same
# messages.  Needs root (the namespace), iproute2, dnsmasq and
# SpamAssassin; skipped (exit 77) without them.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
HERE="$top_srcdir/tests/rules"

TEST=dns-sender
if [ -z "${VIGIL_DNS_SENDER_NETNS:-}" ]; then
	. "$top_srcdir/tests/tools/needs.sh"
	needs_bins perl
	needs_sa
	. "$top_srcdir/tests/tools/netns.sh"
	netns_enter dnssender VIGIL_DNS_SENDER_NETNS "$0" "$@"
fi

# ------------------------------------------------------------ inside
. "$top_srcdir/tests/tools/netns.sh"
. "$top_srcdir/tests/tools/tap.sh"
TMP=$(mktemp -d)
netns_trap "$TMP"

netns_dnsmasq "$TMP" --local=/test/ \
    --address=/has-a.test/192.0.2.1 --mx-host=has-mx.test,mx.example.org

cp -R "$SA_RULES" "$TMP/rules"
echo "score NO_DNS_FOR_FROM 1" >"$TMP/rules/99_dns_sender.cf"
ls "$top_srcdir"/tests/golden/eval/dns-sender-*.eml >"$TMP/files"
SA_HITS_DNS=127.0.0.1 perl "$HERE/sa-hits.pl" "$TMP/rules" <"$TMP/files" \
    >"$TMP/sa" 2>"$TMP/sa.err"
xargs "$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
    -o Checks=rules -o DNSLists=yes -o "RulesDir=$TMP/rules" \
    rules test --batch <"$TMP/files" >"$TMP/vigil" 2>"$TMP/vigil.err"

n=$(wc -l <"$TMP/files")
if [ "$n" -ge 3 ] && [ "$(wc -l <"$TMP/sa")" -eq "$n" ] &&
    [ "$(wc -l <"$TMP/vigil")" -eq "$n" ]; then
	ok "both sides read the $n messages"
else
	cat "$TMP/sa.err" "$TMP/vigil.err" >&2
	bad "the messages were not all read"
fi
# The rule ran on SpamAssassin's side: A and MX of every sender domain.
for d in nowhere.test has-a.test has-mx.test; do
	for t in A MX; do
		if grep -q "query\[$t\] $d from" "$TMP/dnsmasq.log"; then
			ok "SpamAssassin asked $t $d"
		else
			bad "SpamAssassin did not ask $t $d"
		fi
	done
done
# vigil loads the rule (it would not be compared otherwise).
if "$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
    -o Checks=rules -o "RulesDir=$TMP/rules" rules list 2>/dev/null |
    grep -q '^NO_DNS_FOR_FROM '; then
	ok "vigil runs NO_DNS_FOR_FROM"
else
	bad "vigil does not load NO_DNS_FOR_FROM"
fi
while IFS= read -r f; do
	s=$(grep -F "$f:" "$TMP/sa" | tr ' ' '\n' | grep -cx NO_DNS_FOR_FROM)
	v=$(grep -F "$f:" "$TMP/vigil" | tr ' ' '\n' |
	    grep -cx NO_DNS_FOR_FROM)
	if [ "$s" = "$v" ]; then
		ok "$(basename "$f"): NO_DNS_FOR_FROM $s on both sides"
	else
		bad "$(basename "$f"): NO_DNS_FOR_FROM SpamAssassin $s," \
		    "vigil $v"
	fi
done <"$TMP/files"
echo "dns-sender: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
