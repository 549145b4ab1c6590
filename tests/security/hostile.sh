#!/usr/bin/env bash
# hostile.sh - the hostile-message suite of issue 15 through a private
# Postfix (make check-security-hostile; root).  hostile_gen.py writes one
# message of each class: archive bombs (tar.gz, tar.bz2, tar.xz, zip; 400
# MB of zeros each), nested archives under innocent names, 10k DKIM
# signatures, 100k header fields, 1 MB of folded continuation lines,
# MIME nested 1000 deep, a 4 MB base64 line, forged Authentication-Results
# hidden after comments, quoted, among 200 decoys.  Each goes through
# Postfix and vigil (samples/vigil.conf, MessageMemoryLimit 64m):
#
#   1. no message lost: each is delivered to the sink or refused with a
#      reply (and every reply is final: 2xx delivered, 4xx/5xx told);
#   2. its verdict within the budget: ms under 3 x MessageTimeLimit, the
#      finding its class should raise (ATTACH_ARCHIVE_LIMIT,
#      ATTACH_ARCHIVE_BANNED, DKIM_SIGS_UNVERIFIED, HEADER_LIMIT) in the
#      delivered copy's X-Spam-Status, the forged headers gone;
#   3. each message's peak RSS (VmHWM, reset before it) stays below
#      MessageMemoryLimit above the worker's size before it, and the
#      worker is the same process throughout;
#   4. the budget end to end: with the archive bounds lifted and a 100 ms
#      MessageTimeLimit, a bomb is tempfailed with SCAN_INCOMPLETE and
#      waits in the upstream's queue, `vigilctl stats` counts
#      check.attach.incomplete; with OnIncomplete accept the retry is
#      delivered with X-Vigil-Scan saying what did not run.
# Prints ok/FAIL and "N passed, N failed".
set -u
. "$(dirname "$0")/../postfix/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
AUTHSERV=mx.example.test
LIMIT_MB=64
SEND=(--xclient 192.0.2.40 --helo client.example.org
    --from mallory@example.org --rcpt rcpt@sink.invalid --timeout 120)

pf_setup || exit 1
T=$PF_WORK/t
mkdir -p "$T/gen"
classes=$("$PYTHON" "$top_srcdir/tests/security/hostile_gen.py" "$T/gen" \
    "$AUTHSERV" 400) || { pf_fail "hostile_gen.py" "no messages"; pf_summary; exit 1; }

ctl() { "$CTL" -c "$CONF" -o "ControlSocket=$PF_WORK/run/control.sock" "$@"; }
stat_of() { ctl stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
status_kb() { # FIELD PID: a /proc/PID/status field in kB
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status" 2>/dev/null
}

# ----------------------------------------------------------------- 1 - 3
if ! pf_vigil_start "$CONF" "AuthservID=$AUTHSERV" \
    "MessageMemoryLimit=${LIMIT_MB}m"; then
	pf_fail "vigil starts" "$(pf_vigil_log | tail -5)"
	pf_summary
	exit 1
fi
# One ordinary message first: what loads on first use is loaded.
printf 'From: a@example.org\nTo: rcpt@sink.invalid\nSubject: warm\nDate: Mon, 07 Dec 2026 02:00:00 +0000\nMessage-ID: <warm@example.org>\n\nhello\n' >"$T/warm.eml"
pf_verdict_mark
pf_send "${SEND[@]}" --id-prefix warm "$T/warm.eml" >/dev/null
pf_wait_verdicts 1
worker=$(pf_vigil_worker_pid)
sleep 1	# lint-sleep: the worker settles after its first verdict before the idle reading
idle=$(status_kb VmRSS "$worker")

# Each message's peak: VmHWM reset (clear_refs 5) before it, read after
# its verdict, less VmRSS before it.  Freed heap that a thread's malloc
# arena keeps counts in the next message's "before", not in its peak.
worst=0 worst_c=
for c in $classes; do
	echo 5 >"/proc/$worker/clear_refs"
	before=$(status_kb VmRSS "$worker")
	pf_verdict_mark
	pf_send "${SEND[@]}" --id-prefix "$c" "$T/gen/$c.eml" >"$T/$c.tsv"
	pf_wait_verdicts 1
	peak=$(status_kb VmHWM "$worker")
	echo "# $c: worker VmRSS $before kB before, peak $peak kB"
	echo "$c $((peak - before))" >>"$T/peaks"
	if [ $((peak - before)) -gt "$worst" ]; then
		worst=$((peak - before))
		worst_c=$c
	fi
done
pf_wait_drain 60

for c in $classes; do
	code=$(cut -f4 "$T/$c.tsv")
	stage=$(cut -f3 "$T/$c.tsv")
	f=$(pf_delivered "$c-0")
	case $code in
	250)	if [ -n "$f" ]; then
			pf_ok "$c: accepted and delivered"
		else
			pf_fail "$c: accepted and delivered" "250 at $stage but not in the sink"
			continue
		fi ;;
	4??|5??) pf_ok "$c: refused with a reply, the sender keeps it ($code at $stage: $(cut -f6 "$T/$c.tsv"))"
		continue ;;
	*)	pf_fail "$c: a reply" "none (code '$code' at '$stage')"
		continue ;;
	esac
	# The verdict of this message, by its Message-ID's queue id.
	qid=$(cut -f5 "$T/$c.tsv")
	line=$(grep " q=$qid verdict=" "$PF_VIGIL_LOG" | tail -1)
	ms=$(echo "$line" | sed -n 's/.* ms=\([0-9.]*\).*/\1/p')
	if [ -n "$ms" ] && awk -v ms="$ms" 'BEGIN { exit !(ms < 60000) }'; then
		pf_ok "$c: verdict in ${ms} ms, within the budget (3 x 20 s)"
	else
		pf_fail "$c: verdict within the budget" "${line:-no verdict line for q=$qid}"
	fi
	status=$(pf_header X-Spam-Status "$f")
	want=
	case $c in
	bomb-tgz|bomb-tbz2|bomb-txz) want=ATTACH_ARCHIVE_LIMIT ;;
	nested) want=ATTACH_ARCHIVE_BANNED ;;
	dkim10k) want=DKIM_SIGS_UNVERIFIED ;;
	headers100k) want=HEADER_LIMIT ;;
	esac
	if [ -n "$want" ]; then
		if echo "$status" | grep -q "[=,]$want\(,\|$\)"; then
			pf_ok "$c: $want found"
		else
			pf_fail "$c: $want found" "X-Spam-Status: $status"
		fi
	fi
	if [ "$c" = forged-ar ]; then
		if grep -q FORGEDMARK "$f"; then
			pf_fail "forged-ar: ours removed" "$(grep -n FORGEDMARK "$f" | head -3)"
		elif [ "$(grep -c '^Authentication-Results: decoy' "$f")" = 400 ]; then
			pf_ok "forged-ar: the 3 naming us removed, the 400 decoys kept"
		else
			pf_fail "forged-ar: decoys kept" "$(grep -c '^Authentication-Results: decoy' "$f") of 400"
		fi
	fi
done

if [ "$(pf_vigil_worker_pid)" = "$worker" ]; then
	pf_ok "the worker served every message (pid $worker, no restart)"
else
	pf_fail "one worker throughout" "was $worker, now $(pf_vigil_worker_pid)"
fi
if [ "$(wc -l <"$T/peaks")" -eq "$(echo $classes | wc -w)" ] &&
    [ "$worst" -lt $((LIMIT_MB * 1024)) ]; then
	pf_ok "each message's peak RSS below MessageMemoryLimit ${LIMIT_MB}m above the worker's size before it (at most $worst kB, $worst_c)"
else
	pf_fail "peak RSS below MessageMemoryLimit" "$(tr '\n' ' ' <"$T/peaks")"
fi
# Idle, the worker trims its heap (every 10 s).  What it keeps then is
# shown, not judged here: the hostile classes leave some memory behind
# in the process (libopendkim, GMime; tests/security/budget.sh bounds the
# DKIM part), and tests/postfix/load.sh holds ordinary mail to its heap
# bounds.
sleep 12	# lint-sleep: past the worker's 10 s heap trim
echo "# idle again: worker VmRSS $(status_kb VmRSS "$worker") kB (RssAnon $(status_kb RssAnon "$worker")), idle at start $idle kB"
if grep -q 'SCAN_INCOMPLETE' "$PF_VIGIL_LOG"; then
	pf_fail "no class needs the budget with the default bounds" "$(grep SCAN_INCOMPLETE "$PF_VIGIL_LOG" | head -3)"
else
	pf_ok "every class stopped by its own bound, none by the budget"
fi

# --------------------------------------------------------------------- 4
# The upstream relays from 127.0.0.1: not trusted here, so that the
# content checks run on what it relays.
BUDGET=("AuthservID=$AUTHSERV" TrustedNetworks=192.0.2.255/32 MessageTimeLimit=100ms
    AttachArchiveMaxBytes=4g AttachArchiveMaxTime=60s)
pf_vigil_stop
pf_vigil_start "$CONF" "${BUDGET[@]}" || pf_fail "vigil restarts" "$(pf_vigil_log | tail -3)"
pf_verdict_mark
pf_send_upstream --helo client.example.org --from mallory@example.org \
    --rcpt rcpt@sink.invalid --id-prefix budget "$T/gen/bomb-tgz.eml" >"$T/budget.tsv"
pf_wait_verdicts 1
line=$(grep 'verdict=' "$PF_VIGIL_LOG" | tail -1)
if echo "$line" | grep -q 'verdict=tempfail.*SCAN_INCOMPLETE'; then
	pf_ok "a bomb past a 100 ms budget: tempfail with SCAN_INCOMPLETE"
else
	pf_fail "bomb past the budget tempfailed" "${line:-no verdict}"
fi
n=$(stat_of check.attach.incomplete)
if [ "${n:-0}" -ge 1 ]; then
	pf_ok "vigilctl stats: check.attach.incomplete $n"
else
	pf_fail "vigilctl stats counts it" "check.attach.incomplete '${n}'"
fi
if [ "$(pf_queue_count)" -ge 1 ] && [ -z "$(pf_delivered budget-0)" ]; then
	pf_ok "the tempfailed message waits in the upstream's queue"
else
	pf_fail "tempfailed message queued" "queue $(pf_queue_count), delivered '$(pf_delivered budget-0)'"
fi
pf_vigil_stop
pf_vigil_start "$CONF" "${BUDGET[@]}" OnIncomplete=accept ||
    pf_fail "vigil restarts" "$(pf_vigil_log | tail -3)"
pf_flush
pf_wait_drain 60
f=$(pf_delivered budget-0)
if [ -n "$f" ] && pf_header X-Vigil-Scan "$f" | grep -q 'incomplete.*attach'; then
	pf_ok "OnIncomplete accept: the retry is delivered, X-Vigil-Scan: $(pf_header X-Vigil-Scan "$f")"
else
	pf_fail "OnIncomplete accept delivers the retry" "delivered '$f'; $(grep 'verdict=' "$PF_VIGIL_LOG" | tail -1)"
fi

pf_summary
