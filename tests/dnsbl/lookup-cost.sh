#!/usr/bin/env bash
# lookup-cost.sh - what a DNS list lookup costs the filter in system
# calls, and that negative answers are cached (make check-dnsbl-cost).
# Needs root, iproute2, dnsmasq and strace.
#
# In a network namespace whose resolv.conf points at a dnsmasq on its own
# loopback, `vigilctl scan` runs ten messages, each with its own untrusted
# relay and two link domains of its own, against 20 lists (10 check_rbl
# sets, 10 urirhssub lists, as 20_dnsbl_tests.cf and 25_uribl.cf write
# them), every lookup answered NXDOMAIN at once.  Under strace -f:
#   1. the lookups reach the server (each list asked for each relay and
#      link domain) and the listed ones score;
#   2. the lists add at most 4 system calls a lookup over the same scan
#      with DNSLists no (a send, a receive, the poll that waits for it
#      and the lock's futex): no socket, pipe round trip or thread
#      wake-up a lookup; and a socket (on a new random port) every 200
#      queries, no more, no fewer;
#   3. scanning the same messages again in the same process sends no
#      query: the NXDOMAIN answers are kept (for the floor of 10 s when,
#      as here, the server sends no SOA);
#   4. an NXDOMAIN that carries an SOA (a second dnsmasq, authoritative
#      for soa.vigil, MINIMUM 300) is kept for that minimum: a message
#      scanned 11 s later asks the list without an SOA again, not it;
#   5. uridnsbl: a link domain's name server (NS soa.vigil, a name
#      compressed in the reply; its address from the authoritative
#      dnsmasq) in a list scores.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1: $2"; fail=$((fail + 1)); }

if [ -z "${VIGIL_COST_NETNS:-}" ]; then
	TEST=dnsbl-cost
	. "$(dirname "$0")/../tools/needs.sh"
	needs_bins strace
	. "$(dirname "$0")/../tools/netns.sh"
	netns_enter dnscost VIGIL_COST_NETNS "$0" "$@"
fi

T=$(mktemp -d /tmp/vigil-dnscost.XXXXXX)
DNSMASQ_PID= AUTH_PID=
trap 'for p in $DNSMASQ_PID $AUTH_PID; do kill "$p" 2>/dev/null; done
	rm -rf "$T"' EXIT

# NXDOMAIN for every name (no SOA), but one listed relay and one listed
# link domain.
dnsmasq --keep-in-foreground --pid-file= --user=root --conf-file=/dev/null \
    --no-resolv --no-hosts --no-poll --listen-address=127.0.0.1 \
    --bind-interfaces --port=53 --log-queries --log-facility="$T/dns.log" \
    --address=/1.100.51.198.bl0.cost.vigil/127.0.0.2 \
    --address=/link1-a.example.uri0.cost.vigil/127.0.0.2 \
    --address=/77.100.51.198.nsbl.cost.vigil/127.0.0.2 \
    --server=/soa.vigil/127.0.0.2 --address=/#/ &
DNSMASQ_PID=$!
# soa.vigil, authoritative: NXDOMAIN with its SOA.
ip addr add 127.0.0.2/8 dev lo 2>/dev/null
dnsmasq --keep-in-foreground --pid-file= --user=root --conf-file=/dev/null \
    --no-resolv --no-hosts --no-poll --listen-address=127.0.0.2 \
    --bind-interfaces --port=53 --auth-server=ns.soa.vigil,127.0.0.2 \
    --auth-zone=soa.vigil --auth-soa=1,hostmaster.soa.vigil,1200,120,604800 \
    --auth-ttl=300 --host-record=ns.soa.vigil,198.51.100.77 \
    --log-facility="$T/auth.log" &
AUTH_PID=$!
for _ in $(seq 50); do
	grep -q 'started' "$T/dns.log" 2>/dev/null &&
	    grep -q 'started' "$T/auth.log" 2>/dev/null && break
	sleep 0.1
done

: >"$T/lists.rules"
for i in $(seq 0 9); do
	cat >>"$T/lists.rules" <<EOF
header   RCVD_IN_COST$i   eval:check_rbl('cost$i', 'bl$i.cost.vigil.')
tflags   RCVD_IN_COST$i   net
score    RCVD_IN_COST$i   0 1.0 0 1.0
urirhssub  URIBL_COST$i   uri$i.cost.vigil.   A   127.0.0.2
body       URIBL_COST$i   eval:check_uridnsbl('URIBL_COST$i')
tflags     URIBL_COST$i   net
score      URIBL_COST$i   0 1.0 0 1.0
EOF
done
mkdir -p "$T/msgs" "$T/none"
for k in $(seq 1 10); do
	cat >"$T/msgs/m$k.eml" <<EOF
Received: from relay$k.example (relay$k.example [198.51.100.$k])
	by mx.cost.vigil with ESMTP id C$k; Fri, 27 Nov 2026 10:00:00 +0000
From: Sender $k <s$k@sender.example>
To: rcpt@sink.invalid
Subject: offer $k
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <cost-$k@sender.example>

See http://www.link$k-a.example/x and http://link$k-b.example/y today.
EOF
done

# scan NAME DNSLists [PATH...]: the scan under strace -f -c (NAME.sys),
# its output (NAME.out) and the queries it sent (NAME.q).  RULES: the
# rules file ($T/lists.rules).
scan() {
	local name=$1 lists=$2 before
	shift 2
	before=$(grep -c 'query\[' "$T/dns.log")
	# LeakSanitizer cannot run under ptrace (the sanitizer build).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -c -o "$T/$name.sys" "$top_builddir/filter/vigilctl" \
	    -c "$top_srcdir/samples/vigil.conf" \
	    -o "RulesDir=${RULES:-$T/lists.rules}" \
	    -o "LocalRulesDir=$T/none" -o "BayesDir=$T/bayes" -o AVScan=no \
	    -o "Checks=headers,dnsbl,rules" -o "TrustedNetworks=127.0.0.1/32" \
	    -o "DNSLists=$lists" -o DNSListsBudget=5s \
	    scan "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $(( $(grep -c 'query\[' "$T/dns.log") - before )) >"$T/$name.q"
}
# calls FILE [SYSCALL]: the calls strace -c counted (all, or of one)
calls() {
	awk -v s="${2:-total}" '$NF == s { print $4; f = 1 }
	    END { if (!f) print 0 }' "$1"
}

scan off no "$T/msgs"
scan on yes "$T/msgs"
q=$(cat "$T/on.q")
# 10 relays x 10 lists, 20 link domains x 10 lists, 20 probes.
if [ "$q" -ge 300 ] && grep -q 'RCVD_IN_COST0' "$T/on.out" &&
    grep -q 'URIBL_COST0' "$T/on.out"; then
	ok "20 lists asked: $q queries for 10 messages, the listed relay and link scored"
else
	bad "20 lists asked" "$q queries; $(grep -c COST "$T/on.out") hits; $(tail -3 "$T/on.err")"
fi
off=$(calls "$T/off.sys") on=$(calls "$T/on.sys")
socks=$(( $(calls "$T/on.sys" socket) - $(calls "$T/off.sys" socket) ))
per=$(awk -v a="$on" -v b="$off" -v q="$q" \
    'BEGIN { printf "%.1f", (q > 0 ? (a - b) / q : 999) }')
if awk -v p="$per" 'BEGIN { exit !(p <= 4) }'; then
	ok "a lookup costs $per system calls"
else
	bad "a lookup costs at most 4 system calls" \
	    "$per a lookup ($on - $off calls, $q queries)"
fi
if [ "$socks" -ge 2 ] && [ "$socks" -le $((1 + q / 200)) ]; then
	ok "$socks sockets for $q queries: a new one (a new port) every 200"
else
	bad "a socket every 200 queries" "$socks sockets for $q queries"
fi
scan again yes "$T/msgs" "$T/msgs"
q2=$(cat "$T/again.q")
# The first pass asks them all again (a new process), the second none.
if [ "$q2" -le "$q" ] && [ "$q2" -ge 300 ]; then
	ok "the same messages scanned twice: $q2 queries, none for the second pass"
else
	bad "negative answers cached" "$q2 queries for two passes (one: $q)"
fi

cat >"$T/soa.rules" <<'EOF'
header   RCVD_IN_NOSOA   eval:check_rbl('nosoa', 'bl0.cost.vigil.')
tflags   RCVD_IN_NOSOA   net
score    RCVD_IN_NOSOA   0 1.0 0 1.0
header   RCVD_IN_SOA     eval:check_rbl('soa', 'bl.soa.vigil.')
tflags   RCVD_IN_SOA     net
score    RCVD_IN_SOA     0 1.0 0 1.0
EOF
# m2, then m2 again from standard input 11 s later (past the floor).
asked() {	# ZONE: queries so far for m2's relay in ZONE
	grep -c "query\[A\] 2\.100\.51\.198\.$1 " "$T/dns.log"
}
nosoa=$(asked 'bl0\.cost\.vigil') soa=$(asked 'bl\.soa\.vigil')
# lint-sleep: the 10 s floor of a negative answer without an SOA must pass
(sleep 11; cat "$T/msgs/m2.eml") | RULES=$T/soa.rules scan soa yes \
    "$T/msgs/m2.eml" -
nosoa=$(( $(asked 'bl0\.cost\.vigil') - nosoa ))
soa=$(( $(asked 'bl\.soa\.vigil') - soa ))
if [ "$nosoa" = 2 ] && [ "$soa" = 1 ]; then
	ok "NXDOMAIN kept for its SOA's minimum (asked once), without an SOA for 10 s (asked again)"
else
	bad "NXDOMAIN kept for its SOA's minimum" \
	    "with SOA asked $soa times, without $nosoa times; $(tail -3 "$T/soa.err")"
fi

cat >"$T/ns.rules" <<'EOF'
uridnsbl  URIBL_NS_COST  nsbl.cost.vigil.  A
body      URIBL_NS_COST  eval:check_uridnsbl('URIBL_NS_COST')
tflags    URIBL_NS_COST  net
score     URIBL_NS_COST  0 1.0 0 1.0
EOF
sed 's|http://www.link1-a.example/x|http://www.soa.vigil/x|' \
    "$T/msgs/m1.eml" >"$T/ns.eml"
RULES=$T/ns.rules scan ns yes "$T/ns.eml"
if grep -q 'URIBL_NS_COST' "$T/ns.out" &&
    grep -q 'query\[NS\] soa\.vigil ' "$T/dns.log" &&
    grep -q 'query\[A\] ns\.soa\.vigil ' "$T/dns.log"; then
	ok "uridnsbl: the link domain's name server listed, scored"
else
	bad "uridnsbl: name server listed" "$(grep -c URIBL_NS "$T/ns.out") hits; $(grep -E 'soa\.vigil|nsbl' "$T/dns.log" | tail -4)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
