#!/usr/bin/env bash
# redis-gone.sh - issue 8.4 "Redis gone", end to end through a private
# Postfix (make check-postfix-redis-gone; root; see lib.sh).
#
# vigil keeps its Bayes tokens in a redis-server started here (127.0.0.1,
# a free port, its own folder), trained with `vigilctl bayes learn` on the
# seeded synthetic corpus of tests/bayes/mkcorpus.py and saved to disk.
#
#   1. Redis up: mail is classified (a BAYES_xx band in X-Spam-Status).
#   2. PF_REDIS_N (300) messages at PF_REDIS_C (10) connections; after a
#      third of them redis-server is killed (SIGKILL), after two thirds it
#      is started again on the same port and folder.  Every message is
#      delivered (none rejected, deferred or lost); each delivered copy
#      carries either a Bayes band or BAYES_UNAVAILABLE (never neither:
#      no message silently skips Bayes); some were scanned while Redis was
#      gone (BAYES_UNAVAILABLE, and vigil logged check=bayes
#      result=unavailable); vigil's worker never restarted.
#   3. Redis back: every message after the run is classified again.
#   4. Redis hung (SIGSTOP): BayesRedisTimeout bounds each message; mail
#      still flows with BAYES_UNAVAILABLE; SIGCONT brings Bayes back.
#   5. Hung again with ScanThreads=1: messages whose end-of-message
#      checks find the scan thread busy run on their own thread.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
pf_need_root
command -v redis-server >/dev/null || { echo "redis-server not installed" >&2; exit 77; }

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
N=${PF_REDIS_N:-300}
C=${PF_REDIS_C:-10}
TIMEOUT_MS=300

redis_pid=
redis_stop() {
	[ -n "$redis_pid" ] || return 0
	kill -CONT "$redis_pid" 2>/dev/null
	kill -"${1:-TERM}" "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=
}
pf_setup || exit 1
# after pf_setup, whose pf_workdir sets its own EXIT trap
trap 'redis_stop KILL; pf_teardown' EXIT
T=$PF_WORK/redis
mkdir -p "$T/data"
RPORT=$(pf_free_port)
redis_start() {
	redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$T/data" \
	    --save "" --appendonly no --logfile "$T/redis.log" </dev/null >/dev/null 2>&1 &
	redis_pid=$!
	pf_wait_sock "127.0.0.1:$RPORT" 20 &&
	    redis-cli -h 127.0.0.1 -p "$RPORT" ping 2>/dev/null | grep -q PONG
}
redis_start || { pf_fail "redis-server starts" "$(tail -5 "$T/redis.log")"; pf_summary; exit 1; }

"$PYTHON" "$top_srcdir/tests/bayes/mkcorpus.py" "$T/corpus" 210 || exit 1
OPTS=(Checks=headers,bayes "BayesRedis=127.0.0.1:$RPORT"
    "BayesRedisTimeout=${TIMEOUT_MS}ms" "BayesRedisPrefix=vigil-test:"
    BayesAutolearn=no TagScore=100 RejectScore=0 AddHeaders=all)
ctl() {
	local o=() kv
	for kv in "${OPTS[@]}"; do o+=(-o "$kv"); done
	"$CTL" -c "$CONF" "${o[@]}" "$@"
}
pf_check "learn ham into redis" ctl bayes learn --ham "$T/corpus/ham.maildir"
pf_check "learn spam into redis" ctl bayes learn --spam "$T/corpus/spam.mbox"
# On disk, so that the server started again after SIGKILL has the tokens.
redis-cli -h 127.0.0.1 -p "$RPORT" save >/dev/null

if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with BayesRedis" "see above"
	pf_summary
	exit 1
fi
WPID=$(pf_vigil_worker_pid)
MSGS=("$T/corpus/unseen-spam.eml" "$T/corpus/unseen-ham.eml")

# classify TSV: "band=N unavailable=N both=N none=N missing=N" over the
# messages of an smtpsend result file, from each delivered copy's
# X-Spam-Status: a BAYES_xx probability band, BAYES_UNAVAILABLE, both
# (never expected) or none (Bayes silently skipped); missing: no copy.
classify() {
	find "$PF_SINK_DIR" -type f -exec awk '
	    FNR == 1 { inhdr = 1; id = ""; st = ""; cur = "" }
	    !inhdr { next }
	    { sub(/\r$/, "") }
	    /^$/ { inhdr = 0; if (id != "") print id "\t" st; next }
	    /^[ \t]/ { if (cur == "x-spam-status") st = st " " $0; next }
	    { cur = tolower(substr($0, 1, index($0, ":") - 1))
	      v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v)
	      if (cur == "x-harness-id") id = v
	      if (cur == "x-spam-status") st = v }' {} + >"$T/sink-status.tsv"
	awk -F'\t' '
	    FILENAME == ARGV[1] { st[$1] = $2; next }
	    !($1 in st) { miss++; next }
	    { b = st[$1] ~ /BAYES_[0-9]/; u = st[$1] ~ /BAYES_UNAVAILABLE/
	      if (b && u) both++; else if (b) band++; else if (u) un++; else none++ }
	    END { printf "band=%d unavailable=%d both=%d none=%d missing=%d\n",
		band, un, both, none, miss }' "$T/sink-status.tsv" "$1"
}

# ------------------------------------------------------------ 1. up
pf_send --xclient auto --id-prefix up -n 10 "${MSGS[@]}" >"$T/up.tsv"
pf_wait_drain 60
got=$(classify "$T/up.tsv")
case $got in
"band=10 unavailable=0 both=0 none=0 missing=0")
	pf_ok "redis up: 10 messages classified ($got)" ;;
*)	pf_fail "redis up: messages classified" "$got" ;;
esac

# ------------------------------------------------------------ 2. gone
pf_verdict_mark
pf_send --xclient auto --id-prefix gone -n "$N" -c "$C" --deadline 600 \
    "${MSGS[@]}" >"$T/gone.tsv" &
sender=$!
pf_wait_verdicts $((N / 3))
redis_stop KILL
pf_log "redis-server killed after $(pf_verdicts_since) messages"
pf_wait_verdicts $((N * 2 / 3))
if redis_start; then
	pf_log "redis-server started again after $(pf_verdicts_since) messages"
else
	pf_fail "redis-server starts again" "$(tail -5 "$T/redis.log")"
fi
wait "$sender"
pf_wait_drain 120 || pf_fail "queue drains" "$(pf_queue_count) left"

if out=$(pf_account "$T/up.tsv" "$T/gone.tsv"); then
	pf_ok "redis killed mid-run: every message accounted for ($(echo "$out" | head -1))"
else
	pf_fail "redis killed mid-run: every message accounted for" "$out"
fi
sent=$(wc -l <"$T/gone.tsv")
not250=$(awk -F'\t' '$4 != 250' "$T/gone.tsv" | wc -l)
if [ "$sent" -eq "$N" ] && [ "$not250" -eq 0 ]; then
	pf_ok "redis killed mid-run: all $N accepted (250), none deferred or rejected"
else
	pf_fail "redis killed mid-run: all accepted" "$sent sent, $not250 not 250: $(awk -F'\t' '$4 != 250 { print $4, $6 }' "$T/gone.tsv" | sort | uniq -c | head -3)"
fi
got=$(classify "$T/gone.tsv")
pf_log "during the run: $got"
n_band=$(echo "$got" | sed 's/.*band=\([0-9]*\) .*/\1/')
n_un=$(echo "$got" | sed 's/.*unavailable=\([0-9]*\) .*/\1/')
case $got in
*" both=0 none=0 missing=0")
	if [ "$n_un" -gt 0 ] && [ "$n_band" -gt 0 ]; then
		pf_ok "each message scanned with Bayes or with BAYES_UNAVAILABLE ($n_band classified, $n_un without Bayes)"
	else
		pf_fail "some messages scanned without Bayes, some with" "$got"
	fi ;;
*)	pf_fail "each message scanned with Bayes or with BAYES_UNAVAILABLE" "$got" ;;
esac
logged=$(grep -c 'check=bayes result=unavailable' "$PF_VIGIL_LOG")
if [ "$logged" -ge "$n_un" ] && [ "$logged" -gt 0 ]; then
	pf_ok "vigil logged why: $(grep -m1 -o 'check=bayes result=unavailable.*' "$PF_VIGIL_LOG")"
else
	pf_fail "vigil logged check=bayes result=unavailable" "$logged lines for $n_un messages"
fi
if [ "$(pf_vigil_worker_pid)" = "$WPID" ] && ! grep -q 'worker killed\|worker exited' "$PF_VIGIL_LOG"; then
	pf_ok "the same worker served the whole run"
else
	pf_fail "the same worker served the whole run" "$(grep worker "$PF_VIGIL_LOG" | tail -2)"
fi

# ------------------------------------------------------------ 3. back
pf_send --xclient auto --id-prefix back -n 20 -c 4 "${MSGS[@]}" >"$T/back.tsv"
pf_wait_drain 60
got=$(classify "$T/back.tsv")
case $got in
"band=20 unavailable=0 both=0 none=0 missing=0")
	pf_ok "redis back: Bayes used again for every message ($got)" ;;
*)	pf_fail "redis back: Bayes used again" "$got" ;;
esac
# The restarted server still had the trained tokens: spam and ham apart.
f=$(pf_delivered back-0)
g=$(pf_delivered back-1)
if [ -n "$f" ] && [ -n "$g" ] &&
    pf_header X-Spam-Status "$f" | grep -q 'BAYES_99' &&
    pf_header X-Spam-Status "$g" | grep -q 'BAYES_00'; then
	pf_ok "redis back: spam BAYES_99, ham BAYES_00"
else
	pf_fail "redis back: spam BAYES_99, ham BAYES_00" \
	    "$(pf_header X-Spam-Status "$f"; pf_header X-Spam-Status "$g")"
fi

# ------------------------------------------------------------ 4. hung
# send_hung NAME N C: N messages at C connections to a Redis that accepts
# and never answers (SIGSTOP), results in $T/NAME.tsv, the sending time
# in $ms; Redis resumes and the queue drains after.
send_hung() {
	local t0 t1
	kill -STOP "$redis_pid"
	t0=$(date +%s%N)
	pf_send --xclient auto --id-prefix "$1" -n "$2" -c "$3" "${MSGS[@]}" \
	    >"$T/$1.tsv"
	t1=$(date +%s%N)
	kill -CONT "$redis_pid"
	pf_wait_drain 60
	ms=$(((t1 - t0) / 1000000))
}
# Each lookup waits at most BayesRedisTimeout, the message goes on
# without Bayes.
send_hung hung 6 3
got=$(classify "$T/hung.tsv")
# 6 messages, 2 at a time each: at most a few timeouts apiece plus
# Postfix's own time; 20 s is far below milter_content_timeout.
if [ "$got" = "band=0 unavailable=6 both=0 none=0 missing=0" ] &&
    [ "$(awk -F'\t' '$4 == 250' "$T/hung.tsv" | wc -l)" -eq 6 ] && [ "$ms" -lt 20000 ]; then
	pf_ok "redis hung: 6 messages delivered without Bayes in $ms ms (timeout ${TIMEOUT_MS} ms)"
else
	pf_fail "redis hung" "$got in $ms ms: $(cut -f4,6 "$T/hung.tsv" | sort | uniq -c)"
fi
pf_send --xclient auto --id-prefix cont -n 4 "${MSGS[@]}" >"$T/cont.tsv"
pf_wait_drain 60
got=$(classify "$T/cont.tsv")
case $got in
"band=4 unavailable=0 both=0 none=0 missing=0")
	pf_ok "redis resumed: Bayes used again ($got)" ;;
*)	pf_fail "redis resumed: Bayes used again" "$got" ;;
esac

# ------------------------------------------------ 5. hung, one scan thread
# The scan threads never make a message wait for another: with one scan
# thread and every Bayes lookup waiting out its timeout, messages that
# reach their end at the same time run on their own connection's thread
# (scan.inline) instead of queueing behind the one on the scan thread.
pf_vigil_stop
if ! pf_vigil_start "$CONF" "${OPTS[@]}" ScanThreads=1 \
    "BayesRedisTimeout=2s" "ControlSocket=$PF_WORK/run/control.sock"; then
	pf_fail "vigil starts with one scan thread" "see above"
	pf_summary
	exit 1
fi
send_hung pool 4 4
ctl -o "ControlSocket=$PF_WORK/run/control.sock" stats >"$T/pool.stats" 2>&1
pooled=$(awk '$1 == "scan.pooled" { print $2 }' "$T/pool.stats")
inline=$(awk '$1 == "scan.inline" { print $2 }' "$T/pool.stats")
if [ "$(awk -F'\t' '$4 == 250' "$T/pool.tsv" | wc -l)" -eq 4 ] &&
    [ "${pooled:-0}" -ge 1 ] && [ "${inline:-0}" -ge 1 ] &&
    [ $((pooled + inline)) -eq 4 ]; then
	pf_ok "one scan thread busy: $inline of 4 ran on their own thread, 4 delivered in $ms ms"
else
	pf_fail "one scan thread busy: the others ran on their own thread" \
	    "pooled=${pooled:-?} inline=${inline:-?} in $ms ms: $(cut -f4,6 "$T/pool.tsv" | sort | uniq -c)"
fi

if out=$(pf_account "$T/back.tsv" "$T/hung.tsv" "$T/cont.tsv" "$T/pool.tsv"); then
	pf_ok "after the faults: every message accounted for ($(echo "$out" | head -1))"
else
	pf_fail "after the faults: every message accounted for" "$out"
fi
pf_summary
