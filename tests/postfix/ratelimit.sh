#!/usr/bin/env bash
# ratelimit.sh - rate limits shared by two MX hosts (issue 20), end to
# end: MX 1 is a private Postfix with vigil as its milter, MX 2 a second
# vigil driven by miltertest (rep-mx2.lua), both on one redis-server
# started here (127.0.0.1, a free port, its own folder).
# make check-postfix-ratelimit; root; see lib.sh.
#
# RateLimitClient 4/1h, RateLimitSenderDomain 3/1h, RateLimitRecipient
# 3/1h, RateLimitUser 2/1h; each part drains one bucket through both MXes
# (its other keys distinct):
#   A. client network 192.0.2.0/24: 2 messages through MX 1, 2 through
#      MX 2, then both answer 451 4.7.1 at MAIL FROM ("Rate limit
#      exceeded for client network 192.0.2.0/24; retry after N seconds");
#      another network still passes.
#   B. sender domain bulk.example: 2 + 1, then 451 on MX 1.
#   C. recipient: 2 + 1, then 451 at end of message on MX 1.
#   D. authenticated user (MX 2, {auth_authen}): counted in the user's
#      bucket only (the exhausted client network does not stop it),
#      refused after 2.
#   E. Redis stopped: delivered with RATELIMIT_UNAVAILABLE.
#   F. vigilctl stats of each MX counts what it refused.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
pf_need_root
for cmd in redis-server miltertest; do
	command -v $cmd >/dev/null || {
		echo "ratelimit: 0 passed, 0 failed, 1 skipped ($cmd not installed)"
		exit 77
	}
done

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
HERE=$(cd "$(dirname "$0")" && pwd)

redis_pid= mx2_pid=
redis_stop() {
	[ -n "$redis_pid" ] || return 0
	kill -"${1:-TERM}" "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=
}
mx2_stop() {
	[ -n "$mx2_pid" ] || return 0
	kill -TERM "$mx2_pid" 2>/dev/null
	wait "$mx2_pid" 2>/dev/null
	mx2_pid=
}
pf_setup || exit 1
trap 'mx2_stop; redis_stop KILL; pf_teardown' EXIT
T=$PF_WORK/rl
mkdir -p "$T/data"
RPORT=$(pf_free_port)
redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$T/data" --save "" \
    --appendonly no --logfile "$T/redis.log" </dev/null >/dev/null 2>&1 &
redis_pid=$!
if ! pf_wait_sock "127.0.0.1:$RPORT" 20; then
	pf_fail "redis-server starts" "$(tail -5 "$T/redis.log")"
	pf_summary
	exit 1
fi

OPTS=(Checks=headers,ratelimit TagScore=20 QuarantineScore=0 RejectScore=0
    AddHeaders=all "ReputationRedis=127.0.0.1:$RPORT"
    ReputationRedisPrefix=t: TrustedNetworks=203.0.113.0/24
    RateLimitClient=4/1h RateLimitSenderDomain=3/1h
    RateLimitRecipient=3/1h RateLimitUser=2/1h)
if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "MX 1: vigil starts with RateLimit*" "see above"
	pf_summary
	exit 1
fi
MX2_SOCK=$PF_WORK/mx2.sock
MX2_LOG=$PF_WORK/mx2.log
args=("$PF_VIGIL" -f -c "$CONF" -p "unix:$MX2_SOCK"
    -o "ControlSocket=$PF_WORK/run/mx2-control.sock"
    -o "QuarantineDir=$PF_WORK/mx2-quarantine" -o "BayesDir=$PF_WORK/mx2-bayes"
    -o "DNSZoneFile=$PF_LIB_DIR/../data/dns/empty.zone")
for kv in "${OPTS[@]}"; do args+=(-o "$kv"); done
"${args[@]}" >"$MX2_LOG" 2>&1 &
mx2_pid=$!
if ! pf_wait_sock "unix:$MX2_SOCK" 30; then
	pf_fail "MX 2: vigil starts" "$(tail -5 "$MX2_LOG")"
	pf_summary
	exit 1
fi

# mx1 ID CLIENT FROM RCPT: "stage code reply" of one message through MX 1
mx1() {
	printf 'From: %s\r\nTo: %s\r\nSubject: report %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n\r\nHello.\r\n' \
	    "$3" "$4" "$1" "$1" >"$T/$1.eml"
	pf_send --id-prefix "$1" --xclient "$2" --from "$3" --rcpt "$4" \
	    "$T/$1.eml" | awk -F'\t' '{ print $3, $4, $6 }'
}
# mx2 CLIENT FROM RCPT USER [N]: one "stage result" line a message
mx2() {
	miltertest -D sock="unix:$MX2_SOCK" -D ip="$1" -D from="$2" \
	    -D rcpt="$3" -D user="$4" -D n="${5:-1}" -s "$HERE/rep-mx2.lua" 2>&1
}
expect() {	# expect NAME GOT WANT-GLOB
	# shellcheck disable=SC2053
	if [[ $2 == $3 ]]; then
		pf_ok "$1: $2"
	else
		pf_fail "$1" "got \"$2\", want $3"
	fi
}

# ------------------------------------------------------------ A. client
expect "A1 MX 1, client 192.0.2.50" "$(mx1 a1 192.0.2.50 x@a1.example ra1@sink.invalid)" "eom 250 *"
expect "A2 MX 1, client 192.0.2.50" "$(mx1 a2 192.0.2.50 x@a2.example ra2@sink.invalid)" "eom 250 *"
expect "A3 MX 2, client 192.0.2.51" "$(mx2 192.0.2.51 y@a3.example ra3@sink.invalid '')" "eom accept"
expect "A4 MX 2, client 192.0.2.51" "$(mx2 192.0.2.51 y@a4.example ra4@sink.invalid '')" "eom accept"
expect "A5 MX 2 refuses the 5th of the /24" "$(mx2 192.0.2.52 y@a5.example ra5@sink.invalid '')" "mail reply"
expect "A6 MX 1 refuses it too, with the time to retry" \
    "$(mx1 a6 192.0.2.53 x@a6.example ra6@sink.invalid)" \
    "mail 451 4.7.1 Rate limit exceeded for client network 192.0.2.0/24; retry after [0-9]* seconds"
if grep 'verdict=tempfail stage=mail' "$MX2_LOG" | grep -q 'reason=ratelimit'; then
	pf_ok "MX 2 logged verdict=tempfail stage=mail reason=ratelimit"
else
	pf_fail "MX 2 logged the rate-limit tempfail" "$(grep verdict= "$MX2_LOG" | tail -3)"
fi
expect "A7 another network passes" "$(mx1 a7 198.51.100.7 x@a7.example ra7@sink.invalid)" "eom 250 *"

# ------------------------------------------------------------ B. sender domain
expect "B1 MX 1" "$(mx1 b1 10.1.1.1 a@bulk.example rb1@sink.invalid)" "eom 250 *"
expect "B2 MX 2" "$(mx2 10.1.2.1 b@bulk.example rb2@sink.invalid '')" "eom accept"
expect "B3 MX 1" "$(mx1 b3 10.1.3.1 c@Bulk.Example rb3@sink.invalid)" "eom 250 *"
expect "B4 MX 1 refuses the domain's 4th" "$(mx1 b4 10.1.4.1 d@bulk.example rb4@sink.invalid)" \
    "mail 451 4.7.1 Rate limit exceeded for sender domain bulk.example; retry after [0-9]* seconds"

# ------------------------------------------------------------ C. recipient
expect "C1 MX 1" "$(mx1 c1 10.2.1.1 a@c1.example popular@sink.invalid)" "eom 250 *"
expect "C2 MX 2" "$(mx2 10.2.2.1 a@c2.example popular@sink.invalid '')" "eom accept"
expect "C3 MX 1" "$(mx1 c3 10.2.3.1 a@c3.example popular@sink.invalid)" "eom 250 *"
expect "C4 MX 2 refuses the recipient's 4th at end of message" \
    "$(mx2 10.2.4.1 a@c4.example popular@sink.invalid '')" "eom reply"
expect "C4 MX 2 logged it" "$(grep 'q=MXTWO1 verdict=' "$MX2_LOG" | tail -1 |
    grep -o 'verdict=[a-z]* .*reason=[a-z]*' | sed 's/ .* / /')" "verdict=tempfail reason=ratelimit"
expect "C5 MX 1 too" "$(mx1 c5 10.2.5.1 a@c5.example popular@sink.invalid)" \
    "eom 451 4.7.1 Rate limit exceeded for recipient popular@sink.invalid; retry after [0-9]* seconds"

# ------------------------------------------------------------ D. user
got=$(mx2 192.0.2.60 alice@d.example rd@sink.invalid alice 3 | tr '\n' ',')
expect "D user alice: 2 pass (client limit not applied), the 3rd refused" "$got" \
    "eom accept,eom accept,mail reply,"

pf_wait_drain 60

# ------------------------------------------------------------ E. Redis down
redis_stop TERM
expect "E Redis down: mail flows" "$(mx1 e1 10.3.1.1 a@e.example re@sink.invalid)" "eom 250 *"
pf_wait_drain 60
f=$(pf_delivered e1-0) && st=$(pf_header X-Spam-Status "$f") || st="not delivered"
expect "E delivered copy says RATELIMIT_UNAVAILABLE" "$st" "*RATELIMIT_UNAVAILABLE*"

# ------------------------------------------------------------ F. counters
stats() {
	"$CTL" -c "$CONF" -o "ControlSocket=$PF_WORK/run/$1" stats |
	    grep '^ratelimit\.limited\.\|^ratelimit\.unavailable' | tr '\n' ' '
}
expect "F MX 1 stats" "$(stats control.sock)" \
    "ratelimit.limited.client 1 ratelimit.limited.recipient 1 ratelimit.limited.sender_domain 1 ratelimit.limited.user 0 ratelimit.unavailable 1 "
expect "F MX 2 stats" "$(stats mx2-control.sock)" \
    "ratelimit.limited.client 1 ratelimit.limited.recipient 1 ratelimit.limited.sender_domain 0 ratelimit.limited.user 1 ratelimit.unavailable 0 "

pf_summary
