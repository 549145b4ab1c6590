#!/usr/bin/env bash
# auth-dns.sh - SPF, DKIM and DMARC end to end against a real DNS server
# (make check-auth-dns, part of make check-postfix).  Needs root, iproute2,
# dnsmasq and postfix.
#
# A network namespace gets its own loopback and, through
# /etc/netns/NAME/resolv.conf (which `ip netns exec` mounts over
# /etc/resolv.conf), a resolver pointing at dnsmasq on its 127.0.0.1.
# dnsmasq serves the test zones; vigil and a private Postfix (lib.sh) run
# in the same namespace, so vigil asks dnsmasq through the system
# resolver exactly as in production.  Keys come from opendkim-genkey (RSA)
# and openssl (ed25519); tests/tools/dkim_sign signs the messages.
#
#   1. a signed message from example.org (SPF, DKIM, DMARC pass) is
#      delivered with our Authentication-Results; a forged one claiming
#      our authserv-id is removed, a foreign one kept; an ed25519
#      signature passes too, and so does simple/simple over header fields
#      written without a space after the colon ("Subject:x": the milter
#      negotiates SMFIP_HDR_LEADSPC), offline as well;
#   2. the same message altered after signing: dkim=fail, still delivered
#      (DMARC passes through aligned SPF);
#   3. SPF fail is rejected at MAIL FROM (550 5.7.23, SPFRejectFail);
#   4. a DMARC p=reject failure is rejected (550 5.7.1, DMARCEnforce);
#   5. with dnsmasq stopped (SIGSTOP: queries go unanswered) the results
#      are temperror and the message is tempfailed (451) within
#      DNSTimeout; with OnError=accept it is delivered with spf=temperror;
#   6. with dnsmasq gone (queries refused) the same tempfail, at once;
#   and vigilctl scan --ip --helo --from gives the same results offline.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u

# ---------------------------------------------------------- the namespace
if [ -z "${VIGIL_AUTH_NETNS:-}" ]; then
	TEST=auth-dns
	. "$(dirname "$0")/../tools/needs.sh"
	needs_bins opendkim-genkey openssl postfix
	. "$(dirname "$0")/../tools/netns.sh"
	netns_enter auth VIGIL_AUTH_NETNS "$0" "$@"
fi

# ------------------------------------------------------- inside: set up
. "$(dirname "$0")/lib.sh"
CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
SIGN=$top_builddir/tests/tools/dkim_sign
TIMEOUT=3	# DNSTimeout, seconds
CLIENT=192.0.2.5	# the internet client, only named in XCLIENT
# (libspf2 passes any loopback client without a lookup)
RCPT=rcpt@sink.invalid
AUTHSERV=mx.vigil-test.invalid
DNSMASQ_PID=

if [ ! -x "$SIGN" ]; then
	echo "auth-dns: $SIGN not built (make check builds it)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
pf_setup || exit 1
T=$PF_WORK/auth
mkdir -p "$T"
stop_dns() {
	if [ -n "$DNSMASQ_PID" ]; then
		kill -CONT "$DNSMASQ_PID" 2>/dev/null
		kill "$DNSMASQ_PID" 2>/dev/null
		wait "$DNSMASQ_PID" 2>/dev/null
		DNSMASQ_PID=
	fi
}
trap 'stop_dns; pf_teardown' EXIT

# Keys: RSA from opendkim-genkey, ed25519 from openssl.
opendkim-genkey -D "$T" -d example.org -s sel -b 2048 || exit 1
openssl genpkey -algorithm ed25519 -out "$T/ed.private" 2>/dev/null || exit 1
rsa_p=$(tr -d '\n\t ' <"$T/sel.txt" | sed -e 's/^.*p=//' -e 's/)[^)]*$//' \
    -e 's/"//g')
ed_p=$(openssl pkey -in "$T/ed.private" -pubout -outform DER | tail -c 32 |
    base64)

# The zones.  A TXT string holds 255 bytes: the RSA key goes in pieces.
dkim_txt="\"v=DKIM1; k=rsa; p=${rsa_p:0:200}\""
rest=${rsa_p:200}
while [ -n "$rest" ]; do
	dkim_txt="$dkim_txt,\"${rest:0:250}\""
	rest=${rest:250}
done
cat >"$T/dnsmasq.conf" <<EOF
port=53
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
log-queries
local=/example.org/
local=/other.example/
local=/spf-fail.example/
txt-record=example.org,"v=spf1 ip4:$CLIENT -all"
txt-record=_dmarc.example.org,"v=DMARC1; p=reject; rua=mailto:dmarc@example.org"
txt-record=sel._domainkey.example.org,$dkim_txt
txt-record=ed._domainkey.example.org,"v=DKIM1; k=ed25519; p=$ed_p"
txt-record=other.example,"v=spf1 ip4:$CLIENT -all"
txt-record=spf-fail.example,"v=spf1 ip4:192.0.2.99 -all"
EOF
start_dns() {
	dnsmasq --keep-in-foreground --pid-file= --user=root \
	    --conf-file="$T/dnsmasq.conf" --log-facility=- \
	    >>"$T/dnsmasq.log" 2>&1 &
	DNSMASQ_PID=$!
	local i=0
	until dig_ok; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			cat "$T/dnsmasq.log" >&2
			return 1
		fi
		sleep 0.1
	done
}
# dig_ok: the resolver answers through dnsmasq (no dig needed).
dig_ok() {
	"$PYTHON" - <<'EOF'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in [b"example", b"org"]) + b"\0"
q += struct.pack(">HH", 16, 1)
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
if ! start_dns; then
	pf_fail "dnsmasq serves the test zones" "see above"
	pf_summary
	exit 1
fi
pf_ok "dnsmasq serves the test zones in namespace $VIGIL_AUTH_NETNS"

# The messages.
cat >"$T/plain.eml" <<'EOF'
From: Alice <alice@example.org>
To: rcpt@sink.invalid
Subject: quarterly figures
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <auth-dns-1@example.org>

Hello,

the figures are in the usual place.

Alice
EOF
"$SIGN" -d example.org -s sel -k "$T/sel.private" <"$T/plain.eml" \
    >"$T/signed.eml" || exit 1
"$SIGN" -a ed25519-sha256 -d example.org -s ed -k "$T/ed.private" \
    <"$T/plain.eml" >"$T/signed-ed.eml" || exit 1
"$SIGN" -c simple/simple -d example.org -s sel -k "$T/sel.private" \
    <"$T/plain.eml" >"$T/signed-simple.eml" || exit 1
sed 's/usual place/unusual place/' "$T/signed.eml" >"$T/altered.eml"
# "To:rcpt", "Subject:quarterly", "Date:  Fri", "Message-ID: <tab><": only
# the exact bytes after each colon verify under simple canonicalization.
sed -e 's/^To: /To:/' -e 's/^Subject: /Subject:/' -e 's/^Date: /Date:  /' \
    -e 's/^Message-ID: /Message-ID: \t/' -e 's/auth-dns-1@/auth-dns-2@/' \
    "$T/plain.eml" >"$T/nospace.eml"
"$SIGN" -c simple/simple -d example.org -s sel -k "$T/sel.private" \
    <"$T/nospace.eml" >"$T/signed-nospace.eml" || exit 1
# forged results on top: one claiming our authserv-id, one foreign
{
	printf 'Authentication-Results: %s; dkim=pass header.d=bank.example\n' \
	    "$AUTHSERV"
	printf 'Authentication-Results: relay.other.example; spf=pass\n'
	cat "$T/signed.eml"
} >"$T/forged.eml"

start_vigil() {
	PF_REAL_DNS=1 pf_vigil_start "$CONF" "AuthservID=$AUTHSERV" \
	    "TrustedNetworks=127.0.0.1/32" "DNSTimeout=${TIMEOUT}s" \
	    "SPFRejectFail=yes" "DMARCEnforce=reject" \
	    "ControlSocket=$PF_WORK/run/control.sock" "$@"
}
if ! start_vigil; then
	pf_fail "vigil starts" "see above"
	pf_summary
	exit 1
fi

# send NAME FROM FILE: one message; its result line in $T/NAME.tsv
send() {
	pf_send --xclient "$CLIENT" --helo mail.example.org --from "$2" \
	    --rcpt "$RCPT" --id-prefix "$1-" "$3" >"$T/$1.tsv"
}
# field NAME N: field N of NAME's result line (3 stage, 4 code, 6 reply)
field() {
	cut -f"$2" "$T/$1.tsv"
}
# delivered NAME: the sink copy of NAME's message
delivered() {
	pf_delivered "$(field "$1" 1)"
}

# ------------------------------------------------------ 1. all pass
send forged alice@example.org "$T/forged.eml"
send ed alice@example.org "$T/signed-ed.eml"
send simple alice@example.org "$T/signed-simple.eml"
send nospace alice@example.org "$T/signed-nospace.eml"
pf_wait_drain 60
if f=$(delivered forged); then
	ars=$(pf_header Authentication-Results "$f")
	ours=$(printf '%s\n' "$ars" | grep -c "^$AUTHSERV;")
	# header.b is quoted when its 8 characters hold a "/"
	want="^$AUTHSERV; spf=pass smtp.mailfrom=example.org; dkim=pass"
	want="$want header.d=example.org header.s=sel header.a=rsa-sha256"
	want="$want"' header.b=("[^"]{8}"|[^ ;"]{8}); dmarc=pass'
	want="$want header.from=example.org\$"
	if [ "$ours" = 1 ] && printf '%s\n' "$ars" | grep -Eq "$want"; then
		pf_ok "signed message: spf, dkim and dmarc pass in our A-R"
	else
		pf_fail "signed message: A-R" "got: $ars"
	fi
	if printf '%s\n' "$ars" | grep -q 'bank.example'; then
		pf_fail "forged A-R with our authserv-id removed" "$ars"
	else
		pf_ok "forged A-R with our authserv-id removed"
	fi
	if printf '%s\n' "$ars" | grep -q '^relay.other.example; spf=pass'; then
		pf_ok "foreign A-R kept"
	else
		pf_fail "foreign A-R kept" "$ars"
	fi
else
	pf_fail "signed message delivered" "$(cat "$T/forged.tsv")"
fi
if f=$(delivered ed) && pf_header Authentication-Results "$f" |
    grep -q 'dkim=pass header.d=example.org header.s=ed header.a=ed25519-sha256'; then
	pf_ok "ed25519 signature passes"
else
	pf_fail "ed25519 signature passes" "$(cat "$T/ed.tsv")"
fi

if f=$(delivered simple) && pf_header Authentication-Results "$f" |
    grep -q 'dkim=pass header.d=example.org header.s=sel'; then
	pf_ok "simple/simple canonicalization passes through Postfix"
else
	pf_fail "simple/simple canonicalization" "$(cat "$T/simple.tsv")"
fi

if f=$(delivered nospace) && pf_header Authentication-Results "$f" |
    grep -q 'dkim=pass header.d=example.org header.s=sel'; then
	pf_ok "simple/simple over 'Subject:x' style headers passes through Postfix"
else
	pf_fail "simple/simple over 'Subject:x' style headers" \
	    "$(cat "$T/nospace.tsv") $(pf_header Authentication-Results "${f:-/dev/null}")"
fi
# ours with one space after the colon (with LEADSPC the MTA adds none)
if [ -n "${f:-}" ] && grep -q '^Subject:quarterly figures' "$f" &&
    grep -q '^To:rcpt@sink.invalid' "$f" &&
    grep -q "^Authentication-Results: $AUTHSERV;" "$f"; then
	pf_ok "'Subject:x' delivered as written; our A-R as 'Name: value'"
else
	pf_fail "'Subject:x' delivered as written" "$(head -12 "${f:-/dev/null}")"
fi

# ------------------------------------------------------ 2. altered
send altered alice@example.org "$T/altered.eml"
pf_wait_drain 60
if f=$(delivered altered) && ar=$(pf_header Authentication-Results "$f") &&
    printf '%s\n' "$ar" | grep -q 'dkim=fail (body hash mismatch) header.d=example.org' &&
    printf '%s\n' "$ar" | grep -q 'dmarc=pass'; then
	pf_ok "altered message: dkim=fail, delivered on aligned SPF"
else
	pf_fail "altered message: dkim=fail" "$(cat "$T/altered.tsv") ${ar:-}"
fi

# ------------------------------------------------------ 3. SPF fail
send spffail bob@spf-fail.example "$T/plain.eml"
if [ "$(field spffail 3)" = mail ] && [ "$(field spffail 4)" = 550 ] &&
    field spffail 6 | grep -q '5\.7\.23'; then
	pf_ok "SPF fail rejected at MAIL FROM with 550 5.7.23"
else
	pf_fail "SPF fail rejected at MAIL FROM" "$(cat "$T/spffail.tsv")"
fi

# ------------------------------------------------------ 4. DMARC reject
send dmarc carol@other.example "$T/plain.eml"
if [ "$(field dmarc 4)" = 550 ] && field dmarc 6 | grep -q '5\.7\.1.*DMARC'; then
	pf_ok "DMARC p=reject failure rejected with 550 5.7.1"
else
	pf_fail "DMARC p=reject failure rejected" "$(cat "$T/dmarc.tsv")"
fi

# ------------------------------------------------ vigilctl scan, offline
# The same checks offline, through the system resolver (dnsmasq here).
offline() { # FROM FILE: the SPF, DKIM and DMARC findings of vigilctl scan
	"$top_builddir/filter/vigilctl" -c "$CONF" -o "AuthservID=$AUTHSERV" \
	    -o "Checks=headers,spf,dkim,dmarc,authres" \
	    -o "TrustedNetworks=127.0.0.1/32" scan --json --ip "$CLIENT" \
	    --helo mail.example.org --from "$1" "$2" 2>>"$T/vigilctl.err" |
	    "$PYTHON" -c 'import json, sys
hits = json.loads(sys.stdin.readline())["hits"]
print(" ".join(h["name"] for h in hits
    if h["name"].split("_")[0] in ("SPF", "DKIM", "DMARC")))'
}
got=$(offline alice@example.org "$T/signed.eml")
if [ "$got" = "SPF_PASS DKIM_VALID DKIM_VALID_AU DMARC_PASS" ]; then
	pf_ok "vigilctl scan: SPF, DKIM and DMARC offline through the resolver"
else
	pf_fail "vigilctl scan offline" "got: $got $(cat "$T/vigilctl.err")"
fi
got=$(offline alice@example.org "$T/signed-nospace.eml")
if [ "$got" = "SPF_PASS DKIM_VALID DKIM_VALID_AU DMARC_PASS" ]; then
	pf_ok "vigilctl scan: simple/simple over 'Subject:x' style headers offline"
else
	pf_fail "vigilctl scan: 'Subject:x' offline" "got: $got"
fi
got=$(offline carol@spf-fail.example "$T/plain.eml")
if [ "$got" = "SPF_FAIL DKIM_NONE DMARC_FAIL_REJECT" ]; then
	pf_ok "vigilctl scan: SPF fail and DMARC fail offline"
else
	pf_fail "vigilctl scan: SPF fail offline" "got: $got"
fi

# ------------------------------------------------------ 5. DNS hangs
# vigil_ms: how long the last SPF evaluation that hit a DNS failure
# waited, from vigil's log ("... failed after NNNms ...")
vigil_ms() {
	grep 'check=spf rc=tempfail' "$PF_VIGIL_LOG" | tail -1 |
	    sed -n 's/.* failed after \([0-9]*\)ms.*/\1/p'
}
kill -STOP "$DNSMASQ_PID"
t0=$(date +%s%N)
send hang alice@example.org "$T/signed.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
vms=$(vigil_ms)
# vigil's own time is bounded by DNSTimeout (1s resolution); the whole
# SMTP session also waits for Postfix's own lookups, never for long.
if [ "$(field hang 4)" = 451 ] && [ -n "$vms" ] &&
    [ "$vms" -lt $((TIMEOUT * 1000 + 1000)) ] && [ "$ms" -lt 30000 ]; then
	pf_ok "DNS server stopped: tempfail 451, vigil ${vms}ms (DNSTimeout ${TIMEOUT}s)"
else
	pf_fail "DNS server stopped: tempfail within DNSTimeout" \
	    "vigil ${vms:-?}ms, session ${ms}ms: $(cat "$T/hang.tsv")"
fi
if grep -q 'check=spf rc=tempfail' "$PF_VIGIL_LOG"; then
	pf_ok "spf temperror logged"
else
	pf_fail "spf temperror logged" "$(tail -5 "$PF_VIGIL_LOG")"
fi
echo "timing: DNS stopped: vigil ${vms:-?}ms, SMTP session ${ms}ms, DNSTimeout=${TIMEOUT}s"

# the configured action: OnError=accept delivers with temperror
pf_vigil_stop
start_vigil OnError=accept
send hangacc alice@example.org "$T/signed.eml"
pf_wait_drain 60
if f=$(delivered hangacc) &&
    pf_header Authentication-Results "$f" | grep -q 'spf=temperror'; then
	pf_ok "OnError=accept: delivered with spf=temperror"
else
	pf_fail "OnError=accept: delivered with spf=temperror" \
	    "$(cat "$T/hangacc.tsv")"
fi
pf_vigil_stop
start_vigil

# ------------------------------------------------------ 6. DNS gone
stop_dns
t0=$(date +%s%N)
send gone alice@example.org "$T/signed.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
vms=$(vigil_ms)
if [ "$(field gone 4)" = 451 ] && [ -n "$vms" ] &&
    [ "$vms" -lt $((TIMEOUT * 1000 + 1000)) ]; then
	pf_ok "DNS server gone: tempfail 451, vigil ${vms}ms"
else
	pf_fail "DNS server gone: tempfail" \
	    "vigil ${vms:-?}ms, session ${ms}ms: $(cat "$T/gone.tsv")"
fi
echo "timing: DNS gone: vigil ${vms:-?}ms, SMTP session ${ms}ms"

pf_summary
