#!/usr/bin/env bash
# run.sh - vigil end to end through a real, private Postfix (make
# check-postfix).  Needs root and the postfix package; see lib.sh.
#
#   1. every samples/messages/*.eml through Postfix + vigil, presented as an
#      internet client: accepted ones are delivered carrying X-Spam-Status
#      (and X-Spam-Flag/X-Spam-Score when tagged), rejected ones got
#      550 5.7.1, and each fate is the one `vigilctl scan` gives offline;
#   2. headers over 1 KB (one long line, one long folded header) pass
#      intact;
#   3. forged incoming X-Spam-* headers are removed;
#   4. PF_CONC_N (500) messages at PF_CONC_C (20) connections: every
#      message delivered, rejected or quarantined, matched by a unique id,
#      and one vigil log line each.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
# SPF/DKIM/DMARC from a zone file: the same answers with or without DNS.
PF_DNS_ZONE=${PF_DNS_ZONE:-$top_srcdir/tests/data/postfix/zone.txt}
VIGILCTL=${PF_VIGILCTL:-$top_builddir/filter/vigilctl}
# Thresholds at which the samples take every path (with the shipped
# rules and their learned scores for mail without a voting Bayes store:
# ham accepted, broken-mime.eml and reject-two-froms.eml tagged,
# spam-headers.eml rejected); vigilctl gets the same.
VIGIL_OPTS=(TagScore=3 SubjectScore=3 RejectScore=10
    "DNSZoneFile=$PF_DNS_ZONE")
CONC_N=${PF_CONC_N:-500}
CONC_C=${PF_CONC_C:-20}
ENV_FROM=sender@example.org
ENV_RCPT=rcpt@sink.invalid
ENV_HELO=client.example.org

pf_setup || exit 1
if ! pf_vigil_start "$CONF" "${VIGIL_OPTS[@]}"; then
	pf_fail "vigil starts with $CONF" "see above"
	pf_summary
	exit 1
fi
pf_ok "vigil starts as Postfix's milter"
T=$PF_WORK/t
mkdir -p "$T"

# offline FILE IP: "action score" from vigilctl scan --json on FILE.
offline() {
	local kv o=()
	for kv in "${VIGIL_OPTS[@]}"; do
		o+=(-o "$kv")
	done
	"$VIGILCTL" -c "$CONF" "${o[@]}" scan --json --ip "$2" --helo "$ENV_HELO" \
	    --from "$ENV_FROM" --rcpt "$ENV_RCPT" "$1" 2>"$T/vigilctl.err" |
	    "$PYTHON" -c 'import json, sys
o = json.loads(sys.stdin.read().strip().splitlines()[0])
print(o["action"], "%.1f" % float(o["score"]))'
}

# as_seen ORIG ID [DELIVERED] > OUT: the message as the milter saw it:
# our id header, the original, and the Message-Id/Date that Postfix's
# cleanup adds when they are missing (taken from the delivered copy).
as_seen() {
	"$PYTHON" - "$@" <<'PYEOF'
import re, sys
orig = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
mid = sys.argv[2].encode()
head, sep, body = orig.partition(b"\n\n")
names = set(re.findall(rb"(?m)^([!-9;-~]+):", head.lower()))
top, added = b"", b""
if len(sys.argv) > 3:
	dhead = open(sys.argv[3], "rb").read().replace(b"\r\n", b"\n").partition(b"\n\n")[0]
	fields = re.findall(rb"(?m)^[!-9;-~]+:.*(?:\n[ \t].*)*", dhead)
	# Postfix does not hand the Received: header it adds to the milter
	# (vigil's log shows NO_RECEIVED for these messages), so it stays out.
	for f in fields:
		n = f.split(b":", 1)[0].lower()
		if n in (b"message-id", b"date") and n not in names:
			added += f + b"\n"
sys.stdout.buffer.write(top + b"X-Harness-Id: " + mid + b"\n" + head + b"\n" +
    added + b"\n" + body)
PYEOF
}

# ------------------------------------------------------------ 1. samples
test_samples() {
	local samples=("$top_srcdir"/samples/messages/*.eml
	    "$top_srcdir"/tests/data/postfix/*.eml)
	local seen=""
	if [ ! -f "${samples[0]}" ]; then
		pf_fail "samples" "no samples/messages/*.eml"
		return
	fi
	pf_send --xclient 192.0.2.10 --helo "$ENV_HELO" --from "$ENV_FROM" \
	    --rcpt "$ENV_RCPT" --id-prefix s "${samples[@]}" >"$T/samples.tsv"
	pf_wait_drain 60 || pf_fail "samples: queue drains" "$(pf_queue_count) left"
	local id file stage code qid text f status want got copy
	while IFS=$'\t' read -r id file stage code qid text; do
		name="sample $(basename "$file")"
		# the same message the milter saw, scanned offline
		copy=$T/$id.eml
		as_seen "$file" "$id" $(pf_delivered "$id") >"$copy"
		want=$(offline "$copy" 192.0.2.10) || want="error"
		case $code in
		250)
			f=$(pf_delivered "$id")
			if [ -z "$f" ]; then
				if [ "${want%% *}" = quarantine ] &&
				    grep -q "$qid" "$PF_VIGIL_LOG"; then
					pf_ok "$name: quarantined, as vigilctl says"
				else
					pf_fail "$name" "accepted ($qid) but not delivered; vigilctl: $want"
				fi
				continue
			fi
			status=$(pf_header X-Spam-Status "$f")
			if [ "$(printf '%s\n' "$status" | grep -c .)" != 1 ]; then
				pf_fail "$name" "want one X-Spam-Status, got: $status"
				continue
			fi
			got=$(printf '%s\n' "$status" |
			    sed -n 's/^\(Yes\|No\), score=\(-\{0,1\}[0-9.]*\) required=.*/\1 \2/p')
			case ${got%% *} in
			Yes)
				if [ -z "$(pf_header X-Spam-Flag "$f")" ] ||
				    [ -z "$(pf_header X-Spam-Score "$f")" ]; then
					pf_fail "$name" "tagged without X-Spam-Flag/X-Spam-Score"
					continue
				fi
				case $(pf_header Subject "$f") in
				"[SPAM] "*) ;;
				*)	pf_fail "$name" "tagged, Subject not rewritten: $(pf_header Subject "$f")"
					continue ;;
				esac
				got="tag ${got#* }" ;;
			No)
				got="accept ${got#* }" ;;
			*)
				pf_fail "$name" "bad X-Spam-Status: $status"
				continue ;;
			esac
			if [ "$got" = "$want" ]; then
				seen="$seen ${got% *}"
				pf_ok "$name: ${got% *} (score ${got#* }), as vigilctl says"
			else
				pf_fail "$name" "milter: $got, vigilctl scan: $want"
			fi ;;
		5*)
			if [ -n "$(pf_delivered "$id")" ]; then
				pf_fail "$name" "rejected ($code) yet delivered"
			elif [ "$code" != 550 ] || [ "${text#5.7.1}" = "$text" ]; then
				pf_fail "$name" "want 550 5.7.1, got $code $text"
			elif [ "${want%% *}" != reject ]; then
				pf_fail "$name" "milter rejected, vigilctl scan: $want"
			else
				seen="$seen reject"
				pf_ok "$name: rejected with $code $text"
			fi ;;
		*)
			pf_fail "$name" "$stage: $code $text (vigilctl: $want)" ;;
		esac
	done <"$T/samples.tsv"
	case "$seen " in
	*" accept "*" tag "*|*" tag "*" accept "*) ;;
	*)	pf_fail "samples take every path" "seen:$seen" ; return ;;
	esac
	case "$seen " in
	*" reject "*) pf_ok "samples were accepted, tagged and rejected" ;;
	*)	pf_fail "samples take every path" "seen:$seen" ;;
	esac
}

# ------------------------------------------------------------ 2. long headers
test_long_header() {
	local m=$T/long-header.eml f qid line
	"$PYTHON" - "$m" <<'EOF'
import sys
refs = "\n ".join("<%04d.long-header-test@example.org>" % i for i in range(150))
one = "X-Long-Line: " + "x" * 1500
with open(sys.argv[1], "w") as f:
	f.write("From: Alice <alice@example.org>\n"
	    "To: Bob <rcpt@sink.invalid>\n"
	    "Subject: a message with headers over 1 KB\n"
	    "Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
	    "Message-ID: <long-header@example.org>\n"
	    "References: " + refs + "\n" + one + "\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain\n\n"
	    "Hello Bob,\nthe headers above are long; the mail must pass.\n")
EOF
	pf_send --xclient 192.0.2.11 --id-prefix long "$m" >"$T/long.tsv"
	pf_wait_drain 30
	IFS=$'\t' read -r _ _ _ code qid text <"$T/long.tsv"
	f=$(pf_delivered long-0)
	if [ "$code" != 250 ] || [ -z "$f" ]; then
		pf_fail "header over 1 KB passes" "$code $text; delivered: ${f:-no}"
		return
	fi
	# Postfix's smtp client folds lines over 998 bytes (smtp_line_length_
	# limit) with CRLF SPACE; unfolded and without that space it is whole.
	line=$(pf_header X-Long-Line "$f" | tr -d ' ')
	if [ "$line" != "$(printf 'x%.0s' $(seq 1500))" ]; then
		pf_fail "header over 1 KB passes" "X-Long-Line is ${#line} bytes, sent 1500"
	elif [ "$(pf_header References "$f" | wc -c)" -lt 5000 ]; then
		pf_fail "header over 1 KB passes" "References shortened"
	elif ! grep -q "$qid" "$PF_VIGIL_LOG"; then
		pf_fail "header over 1 KB passes" "no vigil log line for $qid"
	else
		pf_ok "headers of 1.5 KB and 5 KB pass intact and are scanned"
	fi
}

# ------------------------------------------------------------ 3. forged headers
test_forged() {
	local m=$T/forged.eml f status
	cat >"$m" <<'EOF'
From: Alice <alice@example.org>
To: Bob <rcpt@sink.invalid>
Subject: lunch tomorrow
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <forged-spam-headers@example.org>
X-Spam-Status: No, score=-99.0 required=5.0 tests=FORGED_BY_SENDER
X-Spam-Flag: NO-FORGED
X-Spam-Score: -99.0
MIME-Version: 1.0
Content-Type: text/plain

Shall we meet at noon?
EOF
	pf_send --xclient 192.0.2.12 --id-prefix forged "$m" >"$T/forged.tsv"
	pf_wait_drain 30
	f=$(pf_delivered forged-0)
	if [ -z "$f" ]; then
		pf_fail "forged X-Spam-* removed" "not delivered: $(cut -f4,6 "$T/forged.tsv")"
		return
	fi
	status=$(pf_header X-Spam-Status "$f")
	if grep -q 'FORGED_BY_SENDER\|NO-FORGED\|-99\.0' "$f"; then
		pf_fail "forged X-Spam-* removed" "forged values still there: $(grep 'FORGED_BY_SENDER\|NO-FORGED\|-99\.0' "$f" | head -3)"
	elif [ "$(printf '%s\n' "$status" | grep -c .)" != 1 ]; then
		pf_fail "forged X-Spam-* removed" "X-Spam-Status: $status"
	else
		pf_ok "forged X-Spam-Status/Flag/Score removed, vigil's own added"
	fi
}

# ------------------------------------------------------------ 4. concurrency
test_concurrency() {
	local files=("$top_srcdir"/samples/messages/*.eml "$top_srcdir"/tests/data/postfix/*.eml
	    "$T/long-header.eml" "$T/forged.eml")
	local lines0 lines1 t0 t1
	lines0=$(grep -c 'verdict=.* score=' "$PF_VIGIL_LOG")
	t0=$(date +%s)
	pf_send -n "$CONC_N" -c "$CONC_C" --xclient auto --id-prefix c \
	    "${files[@]}" >"$T/conc.tsv"
	pf_wait_drain 300 || pf_fail "concurrency: queue drains" "$(pf_queue_count) left"
	t1=$(date +%s)
	if pf_account "$T/conc.tsv" >"$T/conc.acct"; then
		pf_ok "$CONC_N messages at $CONC_C connections accounted for in $((t1 - t0)) s: $(head -1 "$T/conc.acct")"
	else
		pf_fail "$CONC_N messages at $CONC_C connections" "$(cat "$T/conc.acct")"
	fi
	lines1=$(grep -c 'verdict=.* score=' "$PF_VIGIL_LOG")
	if [ $((lines1 - lines0)) -eq "$CONC_N" ]; then
		pf_ok "one vigil log line per message ($CONC_N)"
	else
		pf_fail "one vigil log line per message" "$((lines1 - lines0)) lines for $CONC_N messages"
	fi
}

test_samples
test_long_header
test_forged
test_concurrency
if ! pf_vigil_pid >/dev/null; then
	pf_fail "vigil still running" "it exited: $(tail -3 "$PF_VIGIL_LOG")"
fi
if [ "$PF_FAILED" -gt 0 ]; then
	echo "--- vigil log (last 20 lines)"
	tail -20 "$PF_VIGIL_LOG"
fi
pf_summary
