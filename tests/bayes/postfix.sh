#!/bin/bash
# postfix.sh - the Bayes check end to end through a real private Postfix
# (tests/postfix/lib.sh): a store trained with vigilctl bayes learn, mail
# from the internet (XCLIENT) scanned by the running daemon, the BAYES_*
# finding in the delivered X-Spam-Status, and autolearn of live mail that
# the other checks scored clearly, logged and counted in the store.
# Opt-in (make check-postfix), as root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/postfix/lib.sh"
pf_need_root
CTL=$top_builddir/filter/vigilctl

pf_setup || exit 1
C=$PF_WORK/corpus
"$PYTHON" "$top_srcdir/tests/bayes/mkcorpus.py" "$C" 210 || exit 1
OPTS=(Checks=headers,bayes "BayesDir=$PF_WORK/bayes" AutolearnSpamScore=3
    AutolearnHamScore=0.1 TagScore=100 RejectScore=0 AddHeaders=all)
ctl() {
	local o=()
	for kv in "${OPTS[@]}"; do o+=(-o "$kv"); done
	"$CTL" -c "$top_srcdir/samples/vigil.conf" "${o[@]}" "$@"
}
pf_check "learn ham" ctl bayes learn --ham "$C/ham.maildir"
pf_check "learn spam" ctl bayes learn --spam "$C/spam.mbox"

if ! pf_vigil_start "$top_srcdir/samples/vigil.conf" "${OPTS[@]}"; then
	pf_fail "vigil starts with bayes" "see above"
	pf_summary
	exit 1
fi

# Scored mail: the trained classes.
pf_send --xclient 192.0.2.20 --id-prefix spam "$C/unseen-spam.eml" \
    > "$PF_WORK/spam.tsv"
pf_send --xclient 192.0.2.21 --id-prefix ham "$C/unseen-ham.eml" \
    > "$PF_WORK/ham.tsv"
# Live mail the header checks score 3.9 (no Date, no Message-ID, a From
# without an address): learned as spam.
printf 'From: nobody\r\nTo: user@example.net\r\nSubject: casino winner\r\n\r\nclick free money now\r\n' \
    > "$PF_WORK/autolearn.eml"
pf_send --xclient 192.0.2.22 --id-prefix al "$PF_WORK/autolearn.eml" \
    > "$PF_WORK/al.tsv"
pf_wait_drain 60 || pf_fail "queue drains" "$(pf_queue_count) left"

f=$(pf_delivered spam-0)
if [ -n "$f" ] && grep -q '^X-Spam-Status:.*BAYES_99' "$f"; then
	pf_ok "spam delivered with BAYES_99"
else
	pf_fail "spam delivered with BAYES_99" "$(grep -i '^X-Spam' "$f" 2>&1)"
fi
f=$(pf_delivered ham-0)
if [ -n "$f" ] && grep -q '^X-Spam-Status:.*BAYES_00' "$f"; then
	pf_ok "ham delivered with BAYES_00"
else
	pf_fail "ham delivered with BAYES_00" "$(grep -i '^X-Spam' "$f" 2>&1)"
fi
# Autolearn happens in the background, in batches (at most a fraction of
# a second after the message): wait for its log line, with the queue id.
for _ in $(seq 50); do
	pf_vigil_log | grep -q 'check=bayes autolearn=spam score=3.9 result=learned' && break
	sleep 0.1
done
if pf_vigil_log | grep -q 'check=bayes autolearn=spam score=3.9 result=learned'; then
	pf_ok "autolearn logged"
else
	pf_fail "autolearn logged" "$(pf_vigil_log | grep -i bayes | tail -5)"
fi
# Logged when its batch is learned, still with the message's queue id.
pf_check "autolearn logged with the queue id" grep -q \
    'q=[^- ][^ ]* check=bayes autolearn=spam score=3.9' "$PF_VIGIL_LOG"
# The scored messages (0 points from the header checks) were learned as
# ham; the autolearned one as spam.
ctl bayes stats > "$PF_WORK/stats" 2>&1
pf_check "autolearn counted (spam)" grep -q '^spam messages: 211$' "$PF_WORK/stats"
pf_check "autolearn counted (ham)" grep -q '^ham messages: 212$' "$PF_WORK/stats"
# The daemon's counters: the 1 spam and the ham learned, none dropped.
ctl -o "ControlSocket=$PF_WORK/run/control.sock" stats > "$PF_WORK/dstats" 2>&1
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$PF_WORK/dstats"; }
if [ "$(stat_of bayes.autolearn.spam)" = 1 ] &&
    [ "$(stat_of bayes.autolearn.ham)" -ge 1 ] &&
    [ "$(stat_of bayes.autolearn.dropped)" = 0 ] &&
    [ "$(stat_of bayes.autolearn.queued)" = 0 ]; then
	pf_ok "vigilctl stats: autolearn counted, none dropped or queued"
else
	pf_fail "vigilctl stats: autolearn counted" "$(grep autolearn "$PF_WORK/dstats")"
fi

# Stopping the daemon loses no autolearn: with batches that gather for a
# minute, three messages are still queued when SIGTERM comes, and the
# stop learns them before the store closes.
pf_vigil_stop || pf_fail "vigil stops" "exit $?"
if ! pf_vigil_start "$top_srcdir/samples/vigil.conf" "${OPTS[@]}" \
    BayesAutolearnWait=60s; then
	pf_fail "vigil starts again" "see above"
	pf_summary
	exit 1
fi
for i in 1 2 3; do
	printf 'From: nobody\r\nTo: user@example.net\r\nSubject: casino winner %s\r\n\r\nclick free money now, round %s\r\n' \
	    "$i" "$i" > "$PF_WORK/drain-$i.eml"
done
pf_send --xclient 192.0.2.23 --id-prefix drain "$PF_WORK"/drain-?.eml \
    > "$PF_WORK/drain.tsv"
pf_check "drain: three messages accepted" test \
    "$(awk '$4 ~ /^2/' "$PF_WORK/drain.tsv" | wc -l)" = 3
ctl -o "ControlSocket=$PF_WORK/run/control.sock" stats > "$PF_WORK/dstats" 2>&1
pf_check "drain: the three still queued before the stop" test \
    "$(stat_of bayes.autolearn.queued)" = 3
pf_vigil_stop
pf_check "drain: vigil stopped cleanly" test $? = 0
pf_check "drain: the stop said it learns the queue" grep -q \
    'check=bayes autolearn: learning 3 queued messages before the store closes' \
    "$PF_VIGIL_LOG"
pf_check "drain: each learned" test "$(grep -c \
    'check=bayes autolearn=spam score=3.9 result=learned' "$PF_VIGIL_LOG")" = 4
ctl bayes stats > "$PF_WORK/stats" 2>&1
pf_check "drain: counted in the store (spam)" grep -q '^spam messages: 214$' \
    "$PF_WORK/stats"
pf_summary
