#!/usr/bin/env bash
# greylist.sh - greylisting by score (issue 20), end to end through a
# private Postfix with a redis-server started here (127.0.0.1, a free
# port, its own folder).  make check-postfix-greylist; root; see lib.sh.
#
# One rule (Subject "grey band") scores 4; GreylistScore 3..8 and a
# GreylistDelay of DELAY seconds.
#   1. A grey-band message from an internet client, sent through the
#      upstream Postfix (a real MTA that retries after a 4xx): vigil
#      answers 451 4.7.1 Greylisted once; Postfix's retry after the
#      delay passes and is delivered with GREYLIST_RETRIED.
#   2. Direct sessions: the first attempt of a new triplet gets 451 4.7.1
#      with the text; an early retry gets 451 again; a clean message from
#      the same client passes at once; after the delay the retry passes;
#      the next message of the triplet passes at once, without
#      GREYLIST_RETRIED.
#   3. A client in TrustedNetworks is never greylisted.
#   4. Redis hung (SIGSTOP), then stopped: the grey-band message of a new
#      triplet is delivered with GREYLIST_UNAVAILABLE, within the timeout;
#      nothing tempfailed.
#   5. vigilctl stats and the metrics count what happened.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
pf_need_root
command -v redis-server >/dev/null || {
	echo "greylist: 0 passed, 0 failed, 1 skipped (redis-server not installed)"
	exit 77
}

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
DELAY=3
RCPT=bob@sink.invalid

redis_pid=
redis_stop() {
	[ -n "$redis_pid" ] || return 0
	kill -"${1:-TERM}" "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=
}
pf_setup || exit 1
trap 'redis_stop KILL; pf_teardown' EXIT
T=$PF_WORK/grey
mkdir -p "$T/data" "$T/rules"
RPORT=$(pf_free_port)
redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$T/data" --save "" \
    --appendonly no --logfile "$T/redis.log" </dev/null >/dev/null 2>&1 &
redis_pid=$!
if ! pf_wait_sock "127.0.0.1:$RPORT" 20; then
	pf_fail "redis-server starts" "$(tail -5 "$T/redis.log")"
	pf_summary
	exit 1
fi

cat >"$T/rules/10_grey.rules" <<'EOF'
header   VT_GREY_BAND  Subject =~ /grey band/
describe VT_GREY_BAND  Test: puts the message in the grey band
score    VT_GREY_BAND  4.0
EOF
mkmsg() {	# mkmsg FILE SUBJECT
	printf 'From: a@example.org\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n\r\nHello.\r\n' \
	    "$RCPT" "$2" "$(basename "$1")" >"$1"
}
mkmsg "$T/grey.eml" "a grey band message"
mkmsg "$T/clean.eml" "lunch"

OPTS=(Checks=rules,greylist "RulesDir=$T/rules" SpamAssassinRules=no
    TagScore=20 QuarantineScore=0 RejectScore=0 AddHeaders=all
    "ReputationRedis=127.0.0.1:$RPORT" ReputationRedisPrefix=t:
    GreylistScore=3..8 "GreylistDelay=${DELAY}s"
    # Postfix relays the upstream's mail from 127.0.0.1 (the milter sees
    # the relaying session): not trusted here, so that it is greylisted.
    TrustedNetworks=203.0.113.0/24)
if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with GreylistScore" "see above"
	pf_summary
	exit 1
fi

# field N of the result line of message ID in FILE (smtpsend's TSV)
res() { awk -F'\t' -v id="$2" -v f="$3" '$1 == id { print $f }' "$1"; }
status_of() {	# status_of ID: the X-Spam-Status of its delivered copy
	local f
	f=$(pf_delivered "$1") || return 1
	pf_header X-Spam-Status "$f"
}

# ------------------------------------------------------------ 1. MTA retry
pf_send_upstream --xclient 192.0.2.30 --from up@example.org --rcpt "$RCPT" \
    --id-prefix up "$T/grey.eml" >"$T/up.tsv"
if [ "$(res "$T/up.tsv" up-0 4)" = 250 ]; then
	pf_ok "upstream took the message"
else
	pf_fail "upstream took the message" "$(cat "$T/up.tsv")"
fi
# Postfix relays it to the milter port at once: deferred by greylisting.
for _ in $(seq 50); do
	grep -q 'reason=greylist' "$PF_VIGIL_LOG" && break
	sleep 0.1
done
if grep 'verdict=tempfail' "$PF_VIGIL_LOG" | grep -q 'reason=greylist' &&
    grep -q '451 4.7.1 Greylisted' "$PF_PFLOG"; then
	pf_ok "first attempt through Postfix deferred: 451 4.7.1 Greylisted"
else
	pf_fail "first attempt deferred" "$(grep -E 'verdict=|451' \
	    "$PF_VIGIL_LOG" "$PF_PFLOG" | tail -5)"
fi
# lint-sleep: GreylistDelay must pass before the retry
sleep $((DELAY + 1))
pf_flush
pf_wait_drain 60
st=$(status_of up-0)
n=$(grep 'verdict=tempfail' "$PF_VIGIL_LOG" | grep -c 'reason=greylist')
case $st in
*GREYLIST_RETRIED*)
	if [ "$n" = 1 ]; then
		pf_ok "Postfix's retry after the delay delivered (GREYLIST_RETRIED), deferred once"
	else
		pf_fail "deferred once" "$n greylist tempfails"
	fi ;;
*)	pf_fail "retry delivered with GREYLIST_RETRIED" "status: ${st:-not delivered}" ;;
esac

# ------------------------------------------------------------ 2. direct
send() {	# send ID FROM FILE [smtpsend args]: result line of ID
	local id=$1 from=$2 file=$3
	shift 3
	pf_send --from "$from" --rcpt "$RCPT" --id-prefix "$id" "$@" "$file" \
	    >"$T/$id.tsv"
	res "$T/$id.tsv" "$id-0" 4
}
code=$(send d1 carol@example.org "$T/grey.eml" --xclient 192.0.2.40)
reply=$(res "$T/d1.tsv" d1-0 6)
case "$code $reply" in
"451 4.7.1 Greylisted"*"try again in"*)
	pf_ok "new triplet: $code $reply" ;;
*)	pf_fail "new triplet answered 451 4.7.1 Greylisted" "$code $reply" ;;
esac
code=$(send d2 carol@example.org "$T/grey.eml" --xclient 192.0.2.41)
if [ "$code" = 451 ]; then
	pf_ok "early retry (same /24) deferred again"
else
	pf_fail "early retry deferred again" "$code $(res "$T/d2.tsv" d2-0 6)"
fi
code=$(send d3 carol@example.org "$T/clean.eml" --xclient 192.0.2.40)
if [ "$code" = 250 ]; then
	pf_ok "clean message from the same client passes at once"
else
	pf_fail "clean message passes" "$code $(res "$T/d3.tsv" d3-0 6)"
fi
# lint-sleep: GreylistDelay must pass before the retry
sleep $((DELAY + 1))
code=$(send d4 Carol@Example.org "$T/grey.eml" --xclient 192.0.2.42)
if [ "$code" = 250 ]; then
	pf_ok "retry after the delay passes"
else
	pf_fail "retry after the delay passes" "$code $(res "$T/d4.tsv" d4-0 6)"
fi
code=$(send d5 carol@example.org "$T/grey.eml" --xclient 192.0.2.40)
pf_wait_drain 60
st4=$(status_of d4-0)
st5=$(status_of d5-0)
if [ "$code" = 250 ] && [[ $st4 == *GREYLIST_RETRIED* ]] &&
    [[ $st5 != *GREYLIST_RETRIED* ]] && [[ $st5 == *VT_GREY_BAND* ]]; then
	pf_ok "known triplet passes at once"
else
	pf_fail "known triplet passes at once" "$code; d4: $st4; d5: $st5"
fi

# ------------------------------------------------------------ 3. trusted
code=$(send tr1 dave@example.org "$T/grey.eml" --xclient 203.0.113.5)
if [ "$code" = 250 ]; then
	pf_ok "trusted client (TrustedNetworks) never greylisted"
else
	pf_fail "trusted client not greylisted" "$code $(res "$T/tr1.tsv" tr1-0 6)"
fi

# ------------------------------------------------------------ 4. Redis hung, down
# Hung (SIGSTOP): ReputationRedisTimeout (200ms) bounds the wait.
kill -STOP "$redis_pid"
t0=$(date +%s%N)
code=$(send hg1 frank@example.org "$T/grey.eml" --xclient 198.51.100.8)
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$redis_pid"
pf_wait_drain 60
st=$(status_of hg1-0)
if [ "$code" = 250 ] && [[ $st == *GREYLIST_UNAVAILABLE* ]] && [ "$ms" -lt 5000 ]; then
	pf_ok "Redis hung: delivered with GREYLIST_UNAVAILABLE (session ${ms} ms)"
else
	pf_fail "Redis hung: mail flows" "$code in ${ms} ms; $st"
fi
redis_stop TERM
sleep 1.2	# lint-sleep: past the pause after the timeout, a fresh connection attempt
code=$(send dn1 erin@example.org "$T/grey.eml" --xclient 198.51.100.7)
pf_wait_drain 60
st=$(status_of dn1-0)
if [ "$code" = 250 ] && [[ $st == *GREYLIST_UNAVAILABLE* ]] &&
    grep -q 'check=greylist result=unavailable' "$PF_VIGIL_LOG"; then
	pf_ok "Redis down: delivered with GREYLIST_UNAVAILABLE"
else
	pf_fail "Redis down: mail flows" "$code; $st"
fi

# ------------------------------------------------------------ 5. counters
stats=$("$CTL" -c "$CONF" -o "ControlSocket=$PF_WORK/run/control.sock" stats)
want="greylist.allowed 1 greylist.deferred 3 greylist.retried 2 greylist.unavailable 2"
got=$(printf '%s\n' "$stats" | grep '^greylist\.' | tr '\n' ' ' | sed 's/ $//')
if [ "$got" = "$want" ]; then
	pf_ok "vigilctl stats: $got"
else
	pf_fail "vigilctl stats" "got \"$got\", want \"$want\""
fi

pf_summary
