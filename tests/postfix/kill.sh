#!/usr/bin/env bash
# kill.sh - vigil killed with SIGKILL mid-stream loses no mail (issue 8.4).
#
# PF_KILL_N (200) messages enter through the upstream port (a Postfix
# that queues them and relays to the milter port, as an internet MTA
# would).  Once some have been delivered, vigil gets SIGKILL.  Then:
#   - the milter port tempfails (4xx) instead of accepting unscanned mail,
#     and the upstream queue holds the deferred messages;
#   - vigil is restarted, `postqueue -f` retries the deferred mail;
#   - every message is delivered exactly once, all of it scanned.
# Then the same with only the worker process killed: the supervisor
# starts a new one and the deferred mail goes through.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
# SPF/DKIM/DMARC from a zone file: the same answers with or without DNS.
PF_DNS_ZONE=${PF_DNS_ZONE:-$top_srcdir/tests/data/postfix/zone.txt}
N=${PF_KILL_N:-200}
# "mid-stream" needs some delivered before the kill and some after
[ "$N" -ge 10 ] || { echo "kill.sh: PF_KILL_N=$N: at least 10"; echo "0 passed, 1 failed"; exit 1; }

pf_setup || exit 1
pf_vigil_start "$CONF" "DNSZoneFile=$PF_DNS_ZONE" || { pf_fail "vigil starts" "see above"; pf_summary; exit 1; }
T=$PF_WORK/t
mkdir -p "$T/msgs"
# Clean, well-formed messages of a few sizes: each must be delivered.
"$PYTHON" - "$T/msgs" <<'PYEOF'
import sys
for i in range(20):
	body = "".join("line %d of a message that vigil will scan and pass\n" % k
	    for k in range(1, 1 + 40 * (1 + i % 5) ** 2))
	with open("%s/k%02d.eml" % (sys.argv[1], i), "w") as f:
		f.write("From: Alice <alice@example.org>\nTo: Bob <rcpt@sink.invalid>\n"
		    "Subject: fault test %d\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
		    "Message-ID: <kill-%d@example.org>\nMIME-Version: 1.0\n"
		    "Content-Type: text/plain\n\n%s" % (i, i, body))
PYEOF
sink_count() {
	find "$PF_SINK_DIR" -type f | wc -l
}

pf_send_upstream -n "$N" -c 10 --xclient auto --id-prefix k "$T"/msgs/*.eml \
    >"$T/kill.tsv" &
SENDER=$!
# kill once a tenth of the messages are through
end=$(($(date +%s) + 120))
while [ "$(sink_count)" -lt $((N / 10)) ] && [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.05
done
killed_at=$(sink_count)
victim=$(pf_vigil_pid)
pf_vigil_kill KILL
pf_log "vigil ($victim) killed after $killed_at deliveries"
# Mid-stream: some mail through vigil before the kill, some after.
if [ "$killed_at" -gt 0 ] && [ "$killed_at" -lt "$N" ]; then
	pf_ok "vigil killed with SIGKILL mid-stream ($killed_at of $N delivered)"
else
	pf_fail "vigil killed mid-stream" "$killed_at of $N delivered before the kill"
fi
wait "$SENDER" || pf_fail "upstream accepts every message" "$(grep -vc '	250	' "$T/kill.tsv") not accepted"

# With vigil gone the milter port must tempfail, never accept unscanned.
printf 'From: a@example.org\nTo: rcpt@sink.invalid\nSubject: direct\n\nx\n' >"$T/direct.eml"
pf_send --xclient 192.0.2.20 --id-prefix direct "$T/direct.eml" >"$T/direct.tsv"
IFS=$'\t' read -r _ _ stage code _ text <"$T/direct.tsv"
case $code in
4*) pf_ok "Postfix tempfails while vigil is down ($stage: $code $text)" ;;
*) pf_fail "Postfix tempfails while vigil is down" "$stage: $code $text" ;;
esac

# Let the upstream try what is left: wait until every queued message has
# been tried and deferred (a flush before that would miss the late ones).
deferred_count() {
	find "$PF_PFQ/deferred" -type f | wc -l
}
end=$(($(date +%s) + 90))
while { [ "$(deferred_count)" -eq 0 ] ||
    [ "$(pf_queue_count)" -gt "$(deferred_count)" ]; } &&
    [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.2
done
deferred=$(deferred_count)
if [ "$deferred" -gt 0 ]; then
	pf_ok "undelivered mail waits in the deferred queue ($deferred messages)"
else
	pf_fail "mail deferred while vigil is down" "deferred queue empty, $(sink_count) delivered"
fi
if grep -q 'status=deferred.*4\.[0-9]\.[0-9]' "$PF_PFLOG"; then
	pf_ok "Postfix logs the 4xx deferrals"
else
	pf_fail "Postfix logs the 4xx deferrals" "no status=deferred with a 4.x.x reply in its log"
fi

# Restart vigil and flush: everything arrives, exactly once.
if pf_vigil_start "$CONF" "DNSZoneFile=$PF_DNS_ZONE"; then
	pf_ok "vigil restarts after SIGKILL"
else
	pf_fail "vigil restarts after SIGKILL" "see above"
fi
# An MTA retries until the mail is through: flush up to three times.
flushes=0
while [ $flushes -lt 3 ]; do
	pf_flush
	flushes=$((flushes + 1))
	pf_wait_drain 40 && break
done
if [ "$(pf_queue_count)" -eq 0 ]; then
	pf_ok "postqueue -f drains the queue after the restart ($flushes flush(es))"
else
	pf_fail "queue drains after the restart" "$(pf_queue_count) left after $flushes flushes"
fi
if pf_account "$T/kill.tsv" >"$T/kill.acct" &&
    grep -q "delivered=$N " "$T/kill.acct"; then
	pf_ok "nothing lost: $(head -1 "$T/kill.acct")"
else
	pf_fail "nothing lost" "$(cat "$T/kill.acct")"
fi
scanned=$(grep -rl '^X-Spam-Status: ' "$PF_SINK_DIR" | wc -l)
if [ "$scanned" -eq "$N" ]; then
	pf_ok "every delivered copy was scanned (X-Spam-Status on all $N)"
else
	pf_fail "every delivered copy was scanned" "$scanned of $N carry X-Spam-Status"
fi

# The worker alone killed: the supervisor starts a new one by itself and
# the mail deferred meanwhile goes through on the next try.
pf_send_upstream -n "$N" -c 10 --xclient auto --id-prefix w "$T"/msgs/*.eml \
    >"$T/worker.tsv" &
SENDER=$!
base=$(sink_count)
end=$(($(date +%s) + 120))
while [ "$(sink_count)" -lt $((base + N / 10)) ] && [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.05
done
worker=$(pf_vigil_worker_pid)
through=$(($(sink_count) - base))
if [ -n "$worker" ] && kill -KILL "$worker"; then
	pf_log "vigil worker ($worker) killed after $through deliveries"
	if [ "$through" -gt 0 ] && [ "$through" -lt "$N" ]; then
		pf_ok "vigil worker killed mid-stream ($through of $N delivered)"
	else
		pf_fail "vigil worker killed mid-stream" "$through of $N delivered before the kill"
	fi
else
	pf_fail "vigil worker killed" "no worker process under $(pf_vigil_pid)"
fi
wait "$SENDER"
end=$(($(date +%s) + 30))
while [ -z "$(pf_vigil_worker_pid)" ] || [ "$(pf_vigil_worker_pid)" = "$worker" ]; do
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.2
done
if grep -q 'worker killed by signal 9; restarting' "$PF_VIGIL_LOG" &&
    pf_wait_sock "unix:$PF_SOCK" 30; then
	pf_ok "the supervisor restarts a worker killed with SIGKILL"
else
	pf_fail "the supervisor restarts a killed worker" "$(tail -3 "$PF_VIGIL_LOG")"
fi
flushes=0
while [ $flushes -lt 3 ]; do
	pf_wait_drain 40 && break
	pf_flush
	flushes=$((flushes + 1))
done
if pf_account "$T/worker.tsv" >"$T/worker.acct" &&
    grep -q "delivered=$N " "$T/worker.acct"; then
	pf_ok "worker killed: nothing lost ($flushes flush(es)): $(head -1 "$T/worker.acct")"
else
	pf_fail "worker killed: nothing lost" "$(cat "$T/worker.acct")"
fi
pf_summary
