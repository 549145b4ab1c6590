#!/usr/bin/env bash
# av.sh - antivirus end to end through a real, private Postfix (make
# check-postfix-av; root; see lib.sh).  The signatures and messages come
# from tests/av/gen_samples.py, written at run time.
#
#   1. a virus (EICAR in a zip) is rejected at end of data with
#      554 5.7.1 virus NAME found and never delivered;
#   2. the clean message is delivered with X-Virus-Scanned and
#      X-Virus-Status: Clean; a sender's forged X-Virus-* lines are gone;
#   3. PF_AV_N (500) messages at PF_AV_C (10) connections while the
#      signature directory changes twice (a new signature, then a second
#      file): every message is delivered or rejected, none lost or
#      deferred; every EICAR message is rejected; the engine was swapped
#      both times; the new signature rejects its message afterwards;
#   4. OnVirus quarantine (QuarantineMode hold) and discard: the virus is
#      accepted, held or dropped, never delivered; the clean one delivered.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
N=${PF_AV_N:-500}
C=${PF_AV_C:-10}
RCPT=rcpt@sink.invalid

pf_setup || exit 1
T=$PF_WORK/av
mkdir -p "$T/db"
"$PYTHON" "$top_srcdir/tests/av/gen_samples.py" "$T/data" || exit 1
M=$T/data/msg
# Start without the own-marker signature: step 3 adds it.
grep -v Vigil.Test.Own "$T/data/db/vigil-test.ndb" >"$T/db/eicar.ndb"
cp "$T/data/db/vigil-test.hdb" "$T/db/"
grep Vigil.Test.Own "$T/data/db/vigil-test.ndb" >"$T/own.ndb"

if ! pf_vigil_start "$CONF" AVScan=yes "DatabaseDirectory=$T/db" \
    AVReloadCheck=200ms; then
	pf_fail "vigil starts with AVScan=yes" "see above"
	pf_summary
	exit 1
fi
pf_ok "vigil starts with the generated signatures"

# header NAME FILE: the first value of header NAME in FILE's top header.
header() {
	awk -v want="$(echo "$1" | tr 'A-Z' 'a-z')" '
	    /^\r?$/ { exit }
	    { sub(/\r$/, "") }
	    tolower(substr($0, 1, index($0, ":") - 1)) == want {
		v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v)
		print v; exit }' "$2"
}

# ------------------------------------------------------------ 1. virus
pf_send --rcpt "$RCPT" --id-prefix v "$M/eicar-zip.eml" >"$T/virus.tsv"
IFS=$'\t' read -r id _ stage code qid text <"$T/virus.tsv"
pf_wait_drain 30
case "$code $text" in
"554 5.7.1 virus Vigil.Test.EICAR."*" found")
	if [ -n "$(pf_delivered "$id")" ]; then
		pf_fail "virus" "rejected yet delivered"
	else
		pf_ok "virus rejected at $stage: $code $text"
	fi ;;
*)	pf_fail "virus" "want 554 5.7.1 virus NAME found, got $stage $code $text" ;;
esac

# ------------------------------------------------------------ 2. clean
pf_send --rcpt "$RCPT" --id-prefix c "$M/clean.eml" >"$T/clean.tsv"
IFS=$'\t' read -r id _ stage code qid text <"$T/clean.tsv"
pf_wait_drain 30
f=$(pf_delivered "$id")
if [ "$code" != 250 ] || [ -z "$f" ]; then
	pf_fail "clean" "want delivered, got $stage $code $text"
elif [ "$(header X-Virus-Status "$f")" != Clean ] ||
    [ -z "$(header X-Virus-Scanned "$f")" ]; then
	pf_fail "clean" "delivered without X-Virus-Status: Clean / X-Virus-Scanned"
else
	pf_ok "clean delivered: X-Virus-Scanned: $(header X-Virus-Scanned "$f")"
fi

# A sender's own X-Virus-* lines are not taken for ours.
{ printf 'X-Virus-Status: Clean (forged)\r\nX-Virus-Scanned: forged\r\n'
  cat "$M/clean.eml"; } >"$T/forged.eml"
pf_send --rcpt "$RCPT" --id-prefix f "$T/forged.eml" >"$T/forged.tsv"
IFS=$'\t' read -r id _ stage code qid text <"$T/forged.tsv"
pf_wait_drain 30
f=$(pf_delivered "$id")
if [ -z "$f" ]; then
	pf_fail "forged X-Virus-*" "not delivered: $stage $code $text"
elif [ "$(grep -ci '^X-Virus-' "$f")" != 2 ] || grep -qi '^X-Virus-.*forged' "$f"; then
	pf_fail "forged X-Virus-*" "$(grep -i '^X-Virus-' "$f" | tr '\r\n' '  ')"
else
	pf_ok "forged X-Virus-* replaced by ours"
fi

# ------------------------------------------------------------ 3. reload
# A mix: clean, EICAR, the own marker (clean until its signature lands).
# Progress is read from vigil's one verdict line per message.
base=$(grep -c 'verdict=' "$PF_VIGIL_LOG")
sent_at() { echo $(($(grep -c 'verdict=' "$PF_VIGIL_LOG") - base)); }
pf_send --rcpt "$RCPT" --id-prefix r -n "$N" -c "$C" --deadline 600 \
    "$M/clean.eml" "$M/eicar-zip.eml" "$M/own-zip.eml" \
    "$M/att-zip-clean.eml" >"$T/reload.tsv" &
sender=$!
# Change the database twice while the mail flows, as freshclam does
# (write beside, rename in).
i=0
while [ "$(sent_at)" -lt $((N / 4)) ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
cp "$T/own.ndb" "$T/db/own.tmp" && mv "$T/db/own.tmp" "$T/db/own.ndb"
pf_log "own.ndb added after $(sent_at) messages"
i=0
while [ "$(sent_at)" -lt $((N * 2 / 3)) ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
printf 'Vigil.Test.Extra.NDB:0:*:%s\n' \
    "$(printf 'VIGIL-AV-SECOND-RELOAD' | od -An -tx1 | tr -d ' \n')" \
    >"$T/db/extra.tmp" && mv "$T/db/extra.tmp" "$T/db/extra.ndb"
pf_log "extra.ndb added after $(sent_at) messages"
wait "$sender"
pf_wait_drain 120 || pf_fail "reload: queue drains" "$(pf_queue_count) left"

if out=$(pf_account "$T/virus.tsv" "$T/clean.tsv" "$T/forged.tsv" \
    "$T/reload.tsv"); then
	pf_ok "reload under load: every message accounted for ($(echo "$out" | head -1))"
else
	pf_fail "reload under load" "$out"
fi
sent=$(wc -l <"$T/reload.tsv")
[ "$sent" -eq "$N" ] && pf_ok "reload: $sent messages sent" ||
    pf_fail "reload: messages sent" "$sent of $N"
# Every EICAR copy rejected with its name, no 4xx anywhere.
bad=$(awk -F'\t' '$2 ~ /eicar-zip/ && !($4 == 554 && $6 ~ /virus Vigil.Test.EICAR/)' \
    "$T/reload.tsv" | wc -l)
tf=$(awk -F'\t' '$4 ~ /^4/' "$T/reload.tsv" | wc -l)
if [ "$bad" -eq 0 ] && [ "$tf" -eq 0 ]; then
	pf_ok "reload: every EICAR rejected, nothing deferred"
else
	pf_fail "reload" "$bad EICAR not rejected, $tf deferred"
fi
gen=$(grep -c 'check=av engine generation [0-9]* in service' "$PF_VIGIL_LOG")
freed=$(grep -c 'check=av engine generation [0-9]* freed' "$PF_VIGIL_LOG")
if [ "$gen" -ge 2 ] && [ "$freed" -ge 2 ]; then
	pf_ok "reload: $gen engines swapped in, $freed old ones freed"
else
	pf_fail "reload" "engines swapped in: $gen, freed: $freed"
fi
own_rej=$(awk -F'\t' '$2 ~ /own-zip/ && $4 == 554' "$T/reload.tsv" | wc -l)
own_ok=$(awk -F'\t' '$2 ~ /own-zip/ && $4 == 250' "$T/reload.tsv" | wc -l)
pf_log "own-marker messages: $own_ok delivered before its signature, $own_rej rejected after"
pf_send --rcpt "$RCPT" --id-prefix o "$M/own-zip.eml" >"$T/own.tsv"
IFS=$'\t' read -r id _ stage code qid text <"$T/own.tsv"
case "$code $text" in
"554 5.7.1 virus Vigil.Test.Own.NDB"*)
	pf_ok "the new signature rejects: $code $text" ;;
*)	pf_fail "new signature" "want 554 for own-zip, got $code $text" ;;
esac
if grep -q 'check=av rc=' "$PF_VIGIL_LOG"; then
	pf_fail "no scan errors" "$(grep -m3 'check=av rc=' "$PF_VIGIL_LOG")"
else
	pf_ok "no scan errors in vigil's log"
fi

# ------------------------------------------------------------ 4. OnVirus
# quarantine (Postfix's hold queue) and discard: accepted, never delivered.
for how in quarantine discard; do
	pf_vigil_stop 30
	if ! pf_vigil_start "$CONF" AVScan=yes "DatabaseDirectory=$T/db" \
	    "OnVirus=$how" QuarantineMode=hold; then
		pf_fail "OnVirus=$how" "vigil did not start"
		continue
	fi
	pf_send --rcpt "$RCPT" --id-prefix "$how" "$M/eicar-zip.eml" \
	    "$M/clean.eml" >"$T/$how.tsv"
	pf_wait_drain 30
	fate=${how%e}ed
	if out=$(pf_account "$T/$how.tsv") &&
	    echo "$out" | grep -q "delivered=1 rejected=0 .*$fate=1 .*LOST=0"; then
		pf_ok "OnVirus=$how: EICAR $fate, clean delivered"
	else
		pf_fail "OnVirus=$how" "$out"
	fi
done
pf_summary
