#!/bin/bash
# trace.sh - "where is my mail?" end to end: vigil writes its JSON
# LogFile (LogFormat json) behind a private Postfix; `vigilctl trace`
# finds a quarantined, a rejected and a delivered message by sender and
# by message-id and tells their stories (verdict and points, SMTP reply,
# headers added, quarantine id and release, Postfix's delivery status
# joined by queue id from its maillog).  Also: the log is reopened after
# logrotate moves it (SIGUSR1 to the daemon) and records go on.
# Opt-in (make check-postfix-trace), as root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/postfix/lib.sh"
pf_need_root
VIGILCTL=$top_builddir/filter/vigilctl
CONF=$top_srcdir/samples/vigil.conf

pf_setup || exit 1
trap 'pf_teardown' EXIT
T=$PF_WORK/t
mkdir -p "$T" "$PF_WORK/rules.d" "$PF_WORK/log"
chmod 777 "$PF_WORK/log"
LOG=$PF_WORK/log/vigil.json
cat >"$PF_WORK/rules.d/trace.rules" <<'EOR'
header T_TRACE_QUAR Subject =~ /quarterly invoice/
score  T_TRACE_QUAR 8
header T_TRACE_REJ  Subject =~ /miracle pills/
score  T_TRACE_REJ  40
EOR
OPTS=(Checks=headers,rules,policy "LocalRulesDir=$PF_WORK/rules.d"
    TagScore=4 QuarantineScore=6 RejectScore=20 QuarantineMode=store
    "QuarantineDir=$PF_WORK/quarantine" "LogFile=$LOG" LogFormat=json
    AddHeaders=all "SendmailCommand=/usr/sbin/sendmail -C $PF_PFC"
    "BlockSenders=blocked@spam.example"
    "ControlSocket=$PF_WORK/run/control.sock")
CTL=("$VIGILCTL" -c "$CONF")
for kv in "${OPTS[@]}"; do
	CTL+=(-o "$kv")
done
if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with LogFile" "$(tail -5 "$PF_VIGIL_LOG")"
	pf_summary
	exit 1
fi
postconf -c "$PF_PFC" -e "non_smtpd_milters = unix:$PF_SOCK"
pf_postfix_reload

msg() {	# msg FILE SUBJECT MESSAGE-ID
	printf 'From: Someone <someone@example.org>\r\nTo: alice@sink.invalid\r\nSubject: %s\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\n\r\nHello there.\r\n' \
	    "$2" "$3" >"$1"
}
msg "$T/quar.eml" "Your quarterly invoice" "inv-77@billing.example"
msg "$T/rej.eml" "miracle pills for you" "pills-1@pharma.example"
msg "$T/ham.eml" "lunch on friday" "lunch-5@friends.example"
pf_send --xclient 192.0.2.40 --from billing@billing.example \
    --rcpt alice@sink.invalid --no-id "$T/quar.eml" >"$T/quar.tsv"
pf_send --xclient 192.0.2.41 --from pusher@pharma.example \
    --rcpt bob@sink.invalid --no-id "$T/rej.eml" >"$T/rej.tsv"
pf_send --xclient 192.0.2.42 --from carol@friends.example \
    --rcpt alice@sink.invalid --no-id "$T/ham.eml" >"$T/ham.tsv"
pf_wait_drain 60 || pf_fail "queue drains" "$(pf_queue_count) left"
IFS=$'\t' read -r _ _ _ qcode QQID _ <"$T/quar.tsv"
IFS=$'\t' read -r _ _ _ rcode _ _ <"$T/rej.tsv"
IFS=$'\t' read -r _ _ _ hcode HQID _ <"$T/ham.tsv"
if [ "$qcode" = 250 ] && [ "${rcode:0:1}" = 5 ] && [ "$hcode" = 250 ]; then
	pf_ok "SMTP: quarantined 250 ($QQID), rejected $rcode, clean 250 ($HQID)"
else
	pf_fail "SMTP answers" "$(cat "$T"/*.tsv)"
fi

# --- The log: one JSON object a message ------------------------------
if "$PYTHON" - "$LOG" <<'EOP'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
by = {r["from"]: r for r in recs}
q, r, h = by["billing@billing.example"], by["pusher@pharma.example"], by["carol@friends.example"]
ok = (len(recs) == 3 and q["action"] == "quarantine" and q["verdict"] == "quarantine"
    and len(q["quarantine"]) > 8 and q["hits"]["T_TRACE_QUAR"] == 8
    and q["message_id"] == "<inv-77@billing.example>"
    and r["action"] == "reject" and r["reply"]["code"] == "550"
    and h["action"] == "accept" and "X-Spam-Status" in h["headers"]
    and h["rcpts"] == ["alice@sink.invalid"] and h["client_addr"] == "192.0.2.42"
    and all(len(x["versions"]["rules"]) == 16 for x in recs)
    and all(x["subject"] for x in recs))
sys.exit(0 if ok else 1)
EOP
then
	pf_ok "LogFile: three JSON records with action, hits, reply, headers, quarantine, versions"
else
	pf_fail "LogFile records" "$(cat "$LOG")"
fi

# --- trace by sender: the quarantined message ----------------------
QID=$("$PYTHON" -c 'import json,sys
for l in open(sys.argv[1]):
	r = json.loads(l)
	if "quarantine" in r: print(r["quarantine"])' "$LOG")
"${CTL[@]}" trace --from billing@billing.example --maillog "$PF_PFLOG" \
    >"$T/tq.out" 2>"$T/tq.err"
rc=$?
if [ $rc = 0 ] && grep -q "queue $QQID message-id <inv-77@billing.example>" "$T/tq.out" &&
    grep -q "received from unknown\[192.0.2.40\] helo client.example.org" "$T/tq.out" &&
    grep -q "verdict quarantine: score 8.0" "$T/tq.out" &&
    grep -q "T_TRACE_QUAR +8.0" "$T/tq.out" &&
    grep -q "quarantine: $QID, not released" "$T/tq.out" &&
    grep -q "postfix: milter-discard" "$T/tq.out" &&
    grep -q "^1 message(s) found" "$T/tq.out"; then
	pf_ok "trace --from: the quarantined message, its points, entry $QID, Postfix's discard"
else
	pf_fail "trace --from billing@ (rc $rc)" "$(cat "$T/tq.out" "$T/tq.err")"
fi

# --- trace by message-id: the rejected message ---------------------
"${CTL[@]}" trace --message-id pills-1@pharma.example >"$T/tr.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "verdict reject: score 40" "$T/tr.out" &&
    grep -q "reject: 550 5.7.1" "$T/tr.out" &&
    grep -q "envelope <pusher@pharma.example> -> <bob@sink.invalid>" "$T/tr.out" &&
    grep -q "^1 message(s) found" "$T/tr.out"; then
	pf_ok "trace --message-id: the rejected message with its SMTP reply"
else
	pf_fail "trace --message-id pills-1 (rc $rc)" "$(cat "$T/tr.out")"
fi
"${CTL[@]}" trace --from pusher@pharma.example >"$T/tr2.out" 2>&1 &&
    grep -q "verdict reject" "$T/tr2.out" &&
    pf_ok "trace --from finds the rejected message too" ||
    pf_fail "trace --from pusher@" "$(cat "$T/tr2.out")"
"${CTL[@]}" trace --message-id '<inv-77@billing.example>' >"$T/tq2.out" 2>&1 &&
    grep -q "quarantine: $QID" "$T/tq2.out" &&
    pf_ok "trace --message-id <...> finds the quarantined message" ||
    pf_fail "trace --message-id inv-77" "$(cat "$T/tq2.out")"

# --- delivered: headers added and Postfix's status=sent ---------------
"${CTL[@]}" trace --to alice@ --subject LUNCH --maillog "$PF_PFLOG" \
    >"$T/th.out" 2>&1
if grep -q "accept, headers added:" "$T/th.out" &&
    grep -q "X-Spam-Status: No, score=" "$T/th.out" &&
    grep -q "postfix: to=<alice@sink.invalid>.* status=sent" "$T/th.out" &&
    grep -q "^1 message(s) found" "$T/th.out"; then
	pf_ok "trace --to --subject: headers added and Postfix's status=sent"
else
	pf_fail "trace delivered message" "$(cat "$T/th.out")"
fi

# --- nothing found: exit 1 --------------------------------------------
"${CTL[@]}" trace --from nobody@nowhere.example >"$T/none.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "^0 message(s) found" "$T/none.out" &&
    pf_ok "trace with no match exits 1" ||
    pf_fail "trace with no match (rc $rc)" "$(cat "$T/none.out")"

# --- release: the index's time and the released copy's record ---------
if "${CTL[@]}" quarantine release "$QID" >"$T/rel.out" 2>&1; then
	pf_wait_drain 60
	for _ in $(seq 50); do
		[ "$(grep -c '"release"' "$LOG")" -ge 1 ] && break
		sleep 0.2
	done
	"${CTL[@]}" trace --message-id inv-77@billing.example --maillog "$PF_PFLOG" \
	    >"$T/trel.out" 2>&1
	if grep -q "quarantine: $QID, released 20" "$T/trel.out" &&
	    grep -q "released copy: .* accept" "$T/trel.out" &&
	    grep -q "a released copy of quarantine entry $QID" "$T/trel.out" &&
	    grep -q "^2 message(s) found" "$T/trel.out"; then
		pf_ok "trace after release: release time, the copy's verdict"
	else
		pf_fail "trace after release" "$(cat "$T/trel.out")"
	fi
else
	pf_fail "quarantine release" "$(cat "$T/rel.out")"
fi

# --- logrotate: move the file, SIGUSR1, records go to the new one ----
mv "$LOG" "$LOG.1"
kill -USR1 "$(pf_vigil_pid)"
sleep 0.5	# lint-sleep: the signal passes through the supervisor to the worker
msg "$T/after.eml" "after rotation" "rot-1@friends.example"
pf_send --xclient 192.0.2.43 --from dave@friends.example \
    --rcpt alice@sink.invalid --no-id "$T/after.eml" >/dev/null
pf_wait_drain 30
for _ in $(seq 50); do
	[ -s "$LOG" ] && break
	sleep 0.2
done
if [ "$(grep -c 'rot-1@friends.example' "$LOG" 2>/dev/null)" = 1 ] &&
    ! grep -q 'rot-1@' "$LOG.1" && kill -0 "$(pf_vigil_pid)"; then
	pf_ok "after logrotate's move and SIGUSR1 the record goes to a new LogFile"
else
	pf_fail "reopen on SIGUSR1" "$(ls -l "$PF_WORK/log"; tail -3 "$PF_VIGIL_LOG")"
fi
"${CTL[@]}" trace --from billing@billing.example >"$T/trot.out" 2>&1 &&
    grep -q "quarantine: $QID" "$T/trot.out" &&
    pf_ok "trace reads the rotated file (LogFile.1) as well" ||
    pf_fail "trace over LogFile.1" "$(cat "$T/trot.out")"

# --- report over the same log: the week's counts ----------------------
"${CTL[@]}" report --since 1d --html "$T/report.html" >"$T/report.txt" 2>&1
if grep -q '^messages 5  (previous 0, new)' "$T/report.txt" &&
    grep -Eq '^  accept +3 +60.0%' "$T/report.txt" &&
    grep -Eq '^  quarantine +1 +20.0%' "$T/report.txt" &&
    grep -Eq '^  reject +1 +20.0%' "$T/report.txt" &&
    grep -Eq '^  T_TRACE_QUAR +1 ' "$T/report.txt" &&
    grep -A3 '^top rules by false positives' "$T/report.txt" | grep -Eq '^  T_TRACE_QUAR +1 ' &&
    grep -A1 '^top rejected client networks' "$T/report.txt" | grep -Eq '^  192.0.2.0/24 +1 ' &&
    grep -A1 '^top rejected sender domains' "$T/report.txt" | grep -Eq '^  pharma.example +1 ' &&
    grep -q '<title>reject: 1</title>' "$T/report.html"; then
	pf_ok "report from this LogFile: 5 messages, the released one a false positive of T_TRACE_QUAR"
else
	pf_fail "report over the trace log" "$(sed -n "/^top/,\$p" "$T/report.txt"; grep -o "<title>[^<]*" "$T/report.html" | head -12)"
fi

# --- refused at MAIL FROM: a record without content -------------------
pf_send --xclient 192.0.2.44 --from blocked@spam.example \
    --rcpt alice@sink.invalid --no-id "$T/ham.eml" >"$T/blk.tsv"
IFS=$'\t' read -r _ _ _ bcode _ _ <"$T/blk.tsv"
for _ in $(seq 50); do
	grep -q 'blocked@spam.example' "$LOG" && break
	sleep 0.2
done
"${CTL[@]}" trace --from blocked@ >"$T/tb.out" 2>&1
if [ "${bcode:0:1}" = 5 ] && grep -q "verdict reject at MAIL FROM (policy)" "$T/tb.out" &&
    grep -q "reject: 550 5.7.1 " "$T/tb.out" &&
    grep -q "received from .*\[192.0.2.44\]" "$T/tb.out"; then
	pf_ok "trace: a sender refused at MAIL FROM ($bcode), with the reply"
else
	pf_fail "trace of a blocked sender (SMTP $bcode)" "$(cat "$T/tb.out")"
fi

pf_summary
