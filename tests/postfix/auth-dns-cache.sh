#!/usr/bin/env bash
# auth-dns-cache.sh - SPF, DKIM and DMARC lookups through the shared,
# TTL-respecting cache (authdns.c over dns.c's dns_shared), counted at a
# real DNS server (make check-auth-dns-cache).  Needs root, iproute2 and
# dnsmasq.
#
# A network namespace gets its own loopback and a resolv.conf pointing at
# dnsmasq on its 127.0.0.1, which logs every query it gets.  The sender's
# domain publishes SPF with include:, mx and a: mechanisms that do not
# match before ip4: does (TXT, MX and A lookups, mail.example.org's A
# needed by both mx and a:) and a DMARC record.
#   1. records with TTL 300: vigilctl scan checks six messages in one
#      process; every name and type reaches dnsmasq once, and the results
#      are SPF_PASS and DMARC_PASS each time;
#   2. records with TTL 0: four messages; each name is asked once a
#      message (the TTL is kept: no answer outlives it), never twice
#      within one (mail.example.org's A, named by mx and a:, included).
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u

if [ -z "${VIGIL_AUTH_NETNS:-}" ]; then
	TEST=auth-dns-cache
	. "$(dirname "$0")/../tools/needs.sh"
	. "$(dirname "$0")/../tools/netns.sh"
	netns_enter dnsc VIGIL_AUTH_NETNS "$0" "$@"
fi

: "${top_srcdir:=.}" "${top_builddir:=.}"
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
CLIENT=192.0.2.5
T=$(mktemp -d /tmp/vigil-dnsc-XXXXXX)
pass=0 fail=0 DNSMASQ_PID=
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
stop_dns() {
	if [ -n "$DNSMASQ_PID" ]; then
		kill "$DNSMASQ_PID" 2>/dev/null
		wait "$DNSMASQ_PID" 2>/dev/null
		DNSMASQ_PID=
	fi
}
trap 'stop_dns; rm -rf "$T"' EXIT

start_dns() {	# TTL
	cat >"$T/dnsmasq.conf" <<EOF
port=53
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
log-queries
local-ttl=$1
local=/example.org/
txt-record=example.org,"v=spf1 include:_spf.example.org mx a:mail.example.org ip4:$CLIENT -all"
txt-record=_spf.example.org,"v=spf1 ip4:192.0.2.99 -all"
mx-host=example.org,mail.example.org,10
host-record=mail.example.org,192.0.2.7
txt-record=_dmarc.example.org,"v=DMARC1; p=reject"
EOF
	: >"$T/dnsmasq.log"
	dnsmasq --keep-in-foreground --pid-file= --user=root \
	    --conf-file="$T/dnsmasq.conf" --log-facility="$T/dnsmasq.log" \
	    2>>"$T/dnsmasq.err" &
	DNSMASQ_PID=$!
	for i in $(seq 1 50); do
		grep -q "started" "$T/dnsmasq.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$T/dnsmasq.err" "$T/dnsmasq.log" >&2
	return 1
}
# queries TYPE NAME: how many dnsmasq got
queries() {
	grep -c "query\[$1\] $2 from 127.0.0.1" "$T/dnsmasq.log"
}
scan() {	# N: N copies of one message, in one vigilctl process
	local files=()
	for i in $(seq 1 "$1"); do
		cp "$T/m.eml" "$T/m$i.eml"
		files+=("$T/m$i.eml")
	done
	"$VIGILCTL" -c "$CONF" -o "Checks=headers,spf,dkim,dmarc" \
	    -o "TrustedNetworks=127.0.0.1/32" scan --json --ip "$CLIENT" \
	    --helo mail.example.org --from alice@example.org "${files[@]}" \
	    2>"$T/vigilctl.err" | python3 -c 'import json, sys
for line in sys.stdin:
	hits = json.loads(line)["hits"]
	print(" ".join(h["name"] for h in hits
	    if h["name"].split("_")[0] in ("SPF", "DMARC")))' >"$T/results"
}
cat >"$T/m.eml" <<'EOF'
From: Alice <alice@example.org>
To: bob@example.com
Subject: cached
Date: Tue, 24 Nov 2026 10:15:00 +0100
Message-ID: <cache@example.org>

hello
EOF

# 1. TTL 300: once for all the messages.
start_dns 300 || { bad "dnsmasq did not start"; echo "$pass passed, $fail failed"; exit 1; }
scan 6
if [ "$(sort -u "$T/results")" = "SPF_PASS DMARC_PASS" ] &&
    [ "$(wc -l <"$T/results")" = 6 ]; then
	ok "TTL 300: six messages, SPF_PASS DMARC_PASS each"
else
	bad "TTL 300: results: $(cat "$T/results" "$T/vigilctl.err")"
fi
for q in "TXT example.org" "TXT _spf.example.org" "MX example.org" \
    "A mail.example.org" "TXT _dmarc.example.org"; do
	n=$(queries $q)
	[ "$n" = 1 ] && ok "TTL 300: $q asked once for six messages" ||
	    bad "TTL 300: $q asked $n times"
done
stop_dns

# 2. TTL 0: once a message, never twice within one.
start_dns 0 || { bad "dnsmasq did not start"; echo "$pass passed, $fail failed"; exit 1; }
scan 4
if [ "$(sort -u "$T/results")" = "SPF_PASS DMARC_PASS" ] &&
    [ "$(wc -l <"$T/results")" = 4 ]; then
	ok "TTL 0: four messages, SPF_PASS DMARC_PASS each"
else
	bad "TTL 0: results: $(cat "$T/results" "$T/vigilctl.err")"
fi
for q in "TXT example.org" "MX example.org" "A mail.example.org" \
    "TXT _dmarc.example.org"; do
	n=$(queries $q)
	[ "$n" = 4 ] && ok "TTL 0: $q asked once a message (4)" ||
	    bad "TTL 0: $q asked $n times for four messages"
done
stop_dns
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
