#!/usr/bin/env bash
# dnsbl-dns.sh - the DNS lists end to end against a real DNS server
# (make check-dnsbl-dns, part of make check-postfix).  Needs root,
# iproute2, dnsmasq and postfix.
#
# As in auth-dns.sh, a network namespace whose resolv.conf points at
# dnsmasq on its own loopback; vigil (c-ares, through resolv.conf)
# and a private Postfix run inside it.  dnsmasq serves a DNSBL (bl.vigil),
# a DNSWL (wl.vigil), a URI list (uri.vigil), a list answering every query
# with Spamhaus's "query refused" 127.255.255.254 (refused.vigil), and
# forwards slow.vigil to a socket that never answers.  The rules are
# written as SpamAssassin's 20_dnsbl_tests.cf and 25_uribl.cf write them.
#
#   1. a listed client is scored through Postfix (net score set: 3.0),
#      its lookups started when it connected;
#   2. a DNSWL client gets its negative score (-5.0);
#   3. a listed link domain is scored;
#   4. the refused list is disabled, logged once, counted in
#      `vigilctl stats` (dnsbl.disabled.refused.vigil), shown by `vigil -n`,
#      and no message is scored by it;
#   5. the list that never answers costs at most DNSListsBudget a
#      message, the mail flows, and it is disabled in the end.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u

# ---------------------------------------------------------- the namespace
if [ -z "${VIGIL_DNSBL_NETNS:-}" ]; then
	TEST=dnsbl-dns
	. "$(dirname "$0")/../tools/needs.sh"
	needs_bins postfix
	. "$(dirname "$0")/../tools/netns.sh"
	netns_enter dnsbl VIGIL_DNSBL_NETNS "$0" "$@"
fi

# ------------------------------------------------------- inside: set up
. "$(dirname "$0")/lib.sh"
CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
BUDGET=2	# DNSListsBudget, seconds
RCPT=rcpt@sink.invalid
DNSMASQ_PID=
HOLE_PID=

pf_setup || exit 1
T=$PF_WORK/dnsbl
mkdir -p "$T"
stop_dns() {
	for p in "$DNSMASQ_PID" "$HOLE_PID"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	DNSMASQ_PID= HOLE_PID=
}
trap 'stop_dns; pf_teardown' EXIT

# A UDP socket that reads queries and never answers: slow.vigil's server.
"$PYTHON" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5354))
while True:
	s.recv(4096)' &
HOLE_PID=$!

cat >"$T/dnsmasq.conf" <<EOF
port=53
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
log-queries
local=/bl.vigil/
local=/wl.vigil/
local=/uri.vigil/
local=/example/
address=/5.2.0.192.bl.vigil/127.0.0.2
address=/6.2.0.192.wl.vigil/127.0.10.3
address=/spam-domain.example.uri.vigil/127.0.1.2
address=/refused.vigil/127.255.255.254
server=/slow.vigil/127.0.0.1#5354
EOF
dnsmasq --keep-in-foreground --pid-file= --user=root \
    --conf-file="$T/dnsmasq.conf" --log-facility=- >>"$T/dnsmasq.log" 2>&1 &
DNSMASQ_PID=$!
# dnsmasq answers: the listed client's entry resolves.
dns_ok() {
	"$PYTHON" - <<'EOF'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in
    [b"5", b"2", b"0", b"192", b"bl", b"vigil"]) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
try:
	s.sendto(q, ("127.0.0.1", 53))
	r = s.recv(4096)
	sys.exit(0 if r[:2] == b"\x12\x34" and struct.unpack(">H", r[6:8])[0] > 0 else 1)
except OSError:
	sys.exit(1)
EOF
}
i=0
until dns_ok; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		cat "$T/dnsmasq.log" >&2
		pf_fail "dnsmasq serves the test zones" "see above"
		pf_summary
		exit 1
	fi
	sleep 0.1
done
pf_ok "dnsmasq serves the list zones in namespace $VIGIL_DNSBL_NETNS"

cat >"$T/lists.rules" <<'EOF'
header   RCVD_IN_T_BL       eval:check_rbl('tbl', 'bl.vigil.')
tflags   RCVD_IN_T_BL       net
score    RCVD_IN_T_BL       0 3.0 0 3.0
header   __RCVD_IN_T_WL     eval:check_rbl('twl-firsttrusted', 'wl.vigil.')
tflags   __RCVD_IN_T_WL     net
header   RCVD_IN_T_WL_HI    eval:check_rbl_sub('twl-firsttrusted', '^127\.0\.\d+\.3$')
tflags   RCVD_IN_T_WL_HI    net nice
score    RCVD_IN_T_WL_HI    0 -5 0 -5
header   RCVD_IN_T_REFUSED  eval:check_rbl('trefused', 'refused.vigil.')
tflags   RCVD_IN_T_REFUSED  net
score    RCVD_IN_T_REFUSED  0 4.0 0 4.0
header   RCVD_IN_T_SLOW     eval:check_rbl('tslow', 'slow.vigil.')
tflags   RCVD_IN_T_SLOW     net
score    RCVD_IN_T_SLOW     0 4.0 0 4.0
urirhssub  URIBL_T_SPAM     uri.vigil.   A   127.0.1.2
body       URIBL_T_SPAM     eval:check_uridnsbl('URIBL_T_SPAM')
tflags     URIBL_T_SPAM     net
score      URIBL_T_SPAM     0 2.5 0 2.5
EOF
cat >"$T/plain.eml" <<'EOF'
From: Alice <alice@sender.example>
To: rcpt@sink.invalid
Subject: quarterly figures
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <dnsbl-1@sender.example>

Hello, the figures are in the usual place.
EOF
cat >"$T/link.eml" <<'EOF'
From: Alice <alice@sender.example>
To: rcpt@sink.invalid
Subject: an offer
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <dnsbl-2@sender.example>

Buy at http://www.spam-domain.example/now today.
EOF

VOPTS=("RulesDir=$T/lists.rules" "Checks=headers,dnsbl,rules"
    "TrustedNetworks=127.0.0.1/32" "DNSLists=yes"
    "DNSListsBudget=${BUDGET}s" "TagScore=50" "RejectScore=0"
    "QuarantineScore=0")
if ! PF_REAL_DNS=1 pf_vigil_start "$CONF" "${VOPTS[@]}"; then
	pf_fail "vigil starts" "see above"
	pf_summary
	exit 1
fi

# send NAME CLIENT FILE: one message; its result line in $T/NAME.tsv
send() {
	pf_send --xclient "$2" --helo mail.sender.example \
	    --from alice@sender.example --rcpt "$RCPT" --id-prefix "$1-" \
	    "$3" >"$T/$1.tsv"
}
status() {	# NAME: X-Spam-Status of NAME's delivered copy
	local f
	f=$(pf_delivered "$(cut -f1 "$T/$1.tsv")") &&
	    pf_header X-Spam-Status "$f"
}

# ------------------------------------------- 1.-3. listed, DNSWL, link
send listed 192.0.2.5 "$T/plain.eml"
send wl 192.0.2.6 "$T/plain.eml"
send link 192.0.2.7 "$T/link.eml"
pf_wait_drain 60
s=$(status listed)
if printf '%s' "$s" | grep -q 'score=3\.0 ' &&
    printf '%s' "$s" | grep -q 'RCVD_IN_T_BL'; then
	pf_ok "listed client scored through Postfix (RCVD_IN_T_BL 3.0)"
else
	pf_fail "listed client scored" "X-Spam-Status: $s $(cat "$T/listed.tsv")"
fi
s=$(status wl)
if printf '%s' "$s" | grep -q 'score=-5\.0 ' &&
    printf '%s' "$s" | grep -q 'RCVD_IN_T_WL_HI'; then
	pf_ok "DNSWL client gets its negative score (-5.0)"
else
	pf_fail "DNSWL client scored" "X-Spam-Status: $s"
fi
s=$(status link)
if printf '%s' "$s" | grep -q 'URIBL_T_SPAM' &&
    ! printf '%s' "$s" | grep -q 'RCVD_IN_T_BL'; then
	pf_ok "listed link domain scored (URIBL_T_SPAM)"
else
	pf_fail "listed link domain scored" "X-Spam-Status: $s"
fi

# ------------------------------------------------ 4. refused list
if pf_vigil_log | grep -q 'RCVD_IN_T_REFUSED'; then
	pf_fail "no message scored by the refused list" \
	    "$(pf_vigil_log | grep RCVD_IN_T_REFUSED | head -3)"
else
	pf_ok "no message scored by the refused list"
fi
n=$(pf_vigil_log | grep -c 'list refused.vigil disabled: answered 127.255.255.254')
if [ "$n" = 1 ]; then
	pf_ok "refused list disabled and logged once"
else
	pf_fail "refused list disabled and logged once" "$n log lines"
fi
stats=$("$top_builddir/filter/vigilctl" -c "$CONF" \
    -o "ControlSocket=$PF_WORK/run/control.sock" stats 2>&1)
if printf '%s\n' "$stats" | grep -q '^dnsbl\.disabled\.refused\.vigil [1-9]'; then
	pf_ok "vigilctl stats counts it (dnsbl.disabled.refused.vigil)"
else
	pf_fail "vigilctl stats counts it" "$(printf '%s\n' "$stats" |
	    grep '^dnsbl\.')"
fi
# Each message's lookups of its client were already in flight or
# answered: the connect hook started them (one table for all messages).
hits=$(printf '%s\n' "$stats" | sed -n 's/^dns\.cache_hits //p')
if [ "${hits:-0}" -ge 3 ]; then
	pf_ok "the client's lookups start at connect ($hits found in the shared table)"
else
	pf_fail "the client's lookups start at connect" "$(printf '%s\n' \
	    "$stats" | grep '^dns\.')"
fi
if pf_vigil_log | grep 'verdict=' | grep -q 'DNSBL_LIST_DISABLED'; then
	pf_ok "verdicts made without it are flagged (DNSBL_LIST_DISABLED)"
else
	pf_fail "verdicts flagged" "$(pf_vigil_log | grep verdict= | head -2)"
fi
args=()
for kv in "${VOPTS[@]}"; do
	args+=(-o "$kv")
done
out=$("$PF_VIGIL" -n -c "$CONF" "${args[@]}" -o "BayesDir=$PF_WORK/bayes" \
    -o "ControlSocket=$PF_WORK/run/n.sock" 2>&1)
if printf '%s\n' "$out" | grep -q '^dnsbl: refused.vigil: disabled: answered 127.255.255.254' &&
    printf '%s\n' "$out" | grep -q '^dnsbl: bl.vigil: ok'; then
	pf_ok "vigil -n shows the refused list disabled, the others ok"
else
	pf_fail "vigil -n shows the lists" "$out"
fi

# ------------------------------------------------ 5. a list that times out
ok=1
for k in 1 2 3 4; do
	send "slow$k" "192.0.2.$((20 + k))" "$T/plain.eml"
	[ "$(cut -f4 "$T/slow$k.tsv")" = 250 ] || ok=0
done
pf_wait_drain 60
for k in 1 2 3 4; do
	status "slow$k" >/dev/null || ok=0
done
# the verdict's ms= within the budget (and a second for the rest)
worst=$(pf_vigil_log | grep 'verdict=' | sed -n 's/.* ms=\([0-9]*\).*/\1/p' |
    sort -n | tail -1)
if [ "$ok" = 1 ] && [ -n "$worst" ] && [ "$worst" -le $((BUDGET * 1000 + 1000)) ]; then
	pf_ok "a list that never answers costs at most the budget (worst ${worst} ms), mail flows"
else
	pf_fail "timing list: budget and flow" "ok=$ok worst=${worst:-?} ms"
fi
if pf_vigil_log | grep -q 'list slow.vigil disabled: never answers'; then
	pf_ok "the list that never answers is disabled"
else
	pf_fail "the list that never answers is disabled" \
	    "$(pf_vigil_log | grep dnsbl | tail -3)"
fi

pf_summary
