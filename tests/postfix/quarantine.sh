#!/usr/bin/env bash
# quarantine.sh - the quarantine end to end through a real, private Postfix
# (make check-postfix).  Needs root and the postfix package; see lib.sh.
#
#   1. a spam-scored message (blocked sender, BlockAction score) gets
#      SMTP 250, nothing is delivered, and it is in `quarantine list
#      --json` with its envelope; `show` prints its hits;
#   2. `release` delivers it to the sink with its original recipients
#      through Postfix's sendmail, and it is not quarantined again;
#   3. a message carrying a forged release header is quarantined, and so
#      is one replaying the header of the released copy;
#   4. `purge --older-than 30d` removes entries older than that (their
#      index time moved back) and nothing else; `delete` and unknown ids;
#   5. 20 connections quarantining at once leave 20 intact entries;
#   6. `release --to ADDR --learn-ham` delivers to ADDR only, learns the
#      message as ham in Bayes (vigilctl bayes stats) and counts a false
#      positive per rule that hit, shown by `vigilctl stats`;
#   7. list's filters (--sender --rcpt --min-score --reason --since) and
#      a bounce (null sender) quarantined and released as one;
#   7b. a release that a failing check tempfails (clamd gone) keeps its
#      token: Postfix keeps the copy in its maildrop and, once the check
#      works again, pickup's retry of that copy is delivered and uses the
#      token up; a replay of it is quarantined;
#   8. QuarantineMode hold puts the message on Postfix's hold queue;
#   9. a store that cannot be written: 451, the message is not dropped;
#  10. BlockAction reject: a blocked sender or client network gets
#      550 5.7.1 at MAIL FROM, an allowed sender passes, others pass.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
VIGILCTL=${PF_VIGILCTL:-$top_builddir/filter/vigilctl}
SPAMMER=spammer@bad.example
RCPT1=alice@sink.invalid
RCPT2=bob@sink.invalid

pf_setup || exit 1
QDIR=$PF_WORK/quarantine
T=$PF_WORK/t
mkdir -p "$T"
# Options shared by the daemon and vigilctl.
OPTS=(QuarantineDir="$QDIR" QuarantineMode=store QuarantineScore=5
    RejectScore=0 BlockSenders="$SPAMMER, <>" BlockAction=score
    SendmailCommand="/usr/sbin/sendmail -C $PF_PFC"
    ControlSocket="$PF_WORK/run/control.sock" BayesDir="$PF_WORK/bayes")
CTL=("$VIGILCTL" -c "$CONF")
for kv in "${OPTS[@]}"; do
	CTL+=(-o "$kv")
done

if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with $CONF" "see above"
	pf_summary
	exit 1
fi
# Released mail comes back through sendmail and pickup: it must meet the
# milter there too.
postconf -c "$PF_PFC" -e "non_smtpd_milters = unix:$PF_SOCK"
if ! pf_postfix_reload; then
	pf_fail "Postfix reloads with vigil for pickup too" "see above"
	pf_summary
	exit 1
fi
pf_ok "vigil starts as Postfix's milter (smtpd and pickup)"

# json_field FILE KEY: KEY of every JSON line in FILE, one a line.
json_field() {
	"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
	v = json.loads(line)[sys.argv[2]]
	print(" ".join(v) if isinstance(v, list) else v)' "$1" "$2"
}

entries() {
	"${CTL[@]}" quarantine list --json >"$T/list.json" 2>"$T/list.err" ||
	    return 1
	wc -l <"$T/list.json"
}

cat >"$T/spam.eml" <<'EOF'
From: Prize Office <spammer@bad.example>
To: Alice <alice@sink.invalid>, Bob <bob@sink.invalid>
Subject: You have won a prize
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <prize-1@bad.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Claim your prize today.
Terminal games: \033[2J\033]0;owned\007 end.
.leading dot line stays.
EOF
# The line above carries ESC and BEL for `show` to neutralise.
"$PYTHON" - "$T/spam.eml" <<'EOF'
import sys
p = sys.argv[1]
d = open(p, "rb").read().replace(b"\\033", b"\x1b").replace(b"\\007", b"\x07")
open(p, "wb").write(d)
EOF

# ------------------------------------------------------------ 1. quarantined
test_quarantined() {
	local code qid text
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --rcpt "$RCPT2" --id-prefix q "$T/spam.eml" >"$T/q.tsv"
	pf_wait_drain 30
	IFS=$'\t' read -r _ _ _ code qid text <"$T/q.tsv"
	if [ "$code" != 250 ]; then
		pf_fail "spam is accepted for quarantine" "$code $text"
		return 1
	fi
	if [ -n "$(pf_delivered q-0)" ]; then
		pf_fail "quarantined spam is not delivered" "it was"
		return 1
	fi
	pf_ok "spam gets 250 ($qid) and is not delivered"
	if [ "$(entries)" != 1 ]; then
		pf_fail "list --json shows one entry" "$(cat "$T/list.json" "$T/list.err")"
		return 1
	fi
	ID=$(json_field "$T/list.json" id)
	if [ "$(json_field "$T/list.json" sender)" = "$SPAMMER" ] &&
	    [ "$(json_field "$T/list.json" rcpts)" = "$RCPT1 $RCPT2" ] &&
	    [ "$(json_field "$T/list.json" queue_id)" = "$qid" ] &&
	    [ "$(json_field "$T/list.json" subject)" = "You have won a prize" ] &&
	    [ "$(json_field "$T/list.json" client)" = 192.0.2.20 ]; then
		pf_ok "list --json: id $ID with sender, recipients, queue id, subject, client"
	else
		pf_fail "list --json fields" "$(cat "$T/list.json")"
	fi
	if [ "$(stat -c %a "$QDIR/$ID.eml")" = 600 ] &&
	    grep -q '^X-Harness-Id: q-0' "$QDIR/$ID.eml"; then
		pf_ok "the message file is $QDIR/$ID.eml, mode 600"
	else
		pf_fail "message file" "$(ls -l "$QDIR")"
	fi
	"${CTL[@]}" quarantine show "$ID" >"$T/show.out" 2>&1
	if grep -q 'POLICY_BLOCK_SENDER .*100\.00 *sender <spammer@bad.example>' "$T/show.out" &&
	    grep -q '^Preview:' "$T/show.out" &&
	    grep -q 'Claim your prize today' "$T/show.out"; then
		pf_ok "show prints the hits with details and a preview"
	else
		pf_fail "show" "$(cat "$T/show.out")"
	fi
	if grep -q "$(printf '\033')" "$T/show.out" ||
	    grep -q "$(printf '\007')" "$T/show.out" ||
	    ! grep -qF 'Terminal games: \x1b[2J\x1b]0;owned\x07 end.' "$T/show.out"; then
		pf_fail "show makes control characters harmless" "$(grep -a 'Terminal games' "$T/show.out" | od -c | head -5)"
	else
		pf_ok "show prints ESC and BEL as \\x1b and \\x07"
	fi
	"${CTL[@]}" quarantine list >"$T/list.txt" 2>&1
	if head -1 "$T/list.txt" | grep -q '^ID  *TIME' &&
	    grep -q "^$ID .*spammer@bad.example" "$T/list.txt"; then
		pf_ok "list prints a table"
	else
		pf_fail "list table" "$(cat "$T/list.txt")"
	fi
}

# ------------------------------------------------------------ 2. release
test_release() {
	local f
	if ! "${CTL[@]}" quarantine release "$ID" >"$T/rel.out" 2>&1; then
		pf_fail "release" "$(cat "$T/rel.out")"
		return 1
	fi
	pf_wait_drain 60
	f=$(pf_delivered q-0)
	if [ -z "$f" ]; then
		pf_fail "released message is delivered" "not in the sink; $(tail -5 "$PF_VIGIL_LOG")"
		return 1
	fi
	# smtp-sink writes the envelope recipients as X-Rcpt-Args lines.
	if grep -q "^X-Rcpt-Args: <$RCPT1>" "$f" && grep -q "^X-Rcpt-Args: <$RCPT2>" "$f" &&
	    grep -q "^X-Mail-Args: <$SPAMMER>" "$f" &&
	    grep -q '^\.leading dot line stays' "$f"; then
		pf_ok "release delivers to the original recipients, body intact"
	else
		pf_fail "release envelope" "$(head -20 "$f")"
	fi
	if grep -qi '^X-Vigil-Release:' "$f"; then
		pf_fail "release token removed on delivery" "$(grep -i '^X-Vigil-Release:' "$f")"
	else
		pf_ok "the release token is removed from the delivered copy"
	fi
	if [ "$(entries)" = 1 ] && grep -q "POLICY_RELEASED" "$PF_VIGIL_LOG"; then
		pf_ok "the released message is not quarantined again"
	else
		pf_fail "not quarantined again" "$(cat "$T/list.json")"
	fi
}

# ------------------------------------------------------------ 3. forged, replayed
# token ID NONCE KEYFILE|- FILE RCPTS: a release header for FILE's body
# to the blank-separated RCPTS, made independently of vigil's code
# (HMAC-SHA256 as release.h describes); KEYFILE - signs with a key that
# is not the site's.
token() {
	"$PYTHON" - "$@" <<'EOF2'
import hashlib, hmac, re, sys, time
qid, nonce, keyfile, path, rcpts = sys.argv[1:6]
key = b"k" * 32 if keyfile == "-" else bytes.fromhex(open(keyfile).read().strip())
raw = open(path, "rb").read().replace(b"\r\n", b"\n")
body = raw.split(b"\n\n", 1)[1].rstrip(b"\r\n")
t = str(int(time.time()))
r = sorted(set(a.strip("<>").lower() for a in rcpts.split()))
rh = hashlib.sha256("".join(a + "\n" for a in r).encode()).hexdigest()
msg = b"\0".join([b"vigil-release-v2", qid.encode(), nonce.encode(), t.encode(),
    hashlib.sha256(body).hexdigest().encode(), rh.encode()])
mac = hmac.new(key, msg, hashlib.sha256).hexdigest()
print("X-Vigil-Release: v=2; id=%s; n=%s; t=%s; mac=%s" % (qid, nonce, t, mac))
EOF2
}

# send_with_token NAME HEADER: spam.eml with HEADER on top; 0 when it was
# quarantined (250, not delivered, one more entry whose hits say WHY).
send_with_token() {
	local name=$1 hdr=$2 why=$3 n0 n1 last
	n0=$(entries)
	json_field "$T/list.json" id | sort >"$T/$name.before"
	{ printf '%s\n' "$hdr"; cat "$T/spam.eml"; } >"$T/$name.eml"
	pf_send --xclient 192.0.2.21 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix "$name" "$T/$name.eml" >"$T/$name.tsv"
	pf_wait_drain 30
	n1=$(entries)
	# The new entry: the one id that was not listed before.
	last=$(json_field "$T/list.json" id | sort | comm -13 "$T/$name.before" -)
	if [ -n "$(pf_delivered "$name-0")" ] || [ "$n1" != $((n0 + 1)) ]; then
		echo "delivered: $(pf_delivered "$name-0"); entries $n0 -> $n1"
		return 1
	fi
	"${CTL[@]}" quarantine show "$last" >"$T/$name.show" 2>&1
	if ! grep -q "POLICY_RELEASE_INVALID.*$why" "$T/$name.show"; then
		echo "hits: $(grep -A5 '^Hits:' "$T/$name.show")"
		return 1
	fi
}

test_forged_token() {
	local out used
	if out=$(send_with_token forged "$(token "$ID" \
	    0123456789abcdef0123456789abcdef - "$T/spam.eml" "$RCPT1")" "bad mac"); then
		pf_ok "a release header signed with another key gets no pass: quarantined"
	else
		pf_fail "forged release header" "$out"
	fi
	if out=$(send_with_token garbage "X-Vigil-Release: v=2; id=$ID; pass" \
	    malformed); then
		pf_ok "a malformed release header gets no pass: quarantined"
	else
		pf_fail "malformed release header" "$out"
	fi
	used=$(sqlite3 "$QDIR/index.sqlite" \
	    "SELECT nonce FROM tokens WHERE id = '$ID' AND used > 0")
	if [ -z "$used" ]; then
		pf_fail "replayed release header" "no used token for $ID in the index"
		return
	fi
	# The site's key, the real id and nonce, the same body: only the
	# single use stops it.
	if out=$(send_with_token replay "$(token "$ID" "$used" \
	    "$QDIR/release.key" "$T/spam.eml" "$RCPT1")" "already used"); then
		pf_ok "a replayed release token gets no pass: quarantined"
	else
		pf_fail "replayed release header" "$out"
	fi
}

# ------------------------------------------------------------ 4. purge, delete
test_purge() {
	local n0 old out
	n0=$(entries)
	old=$(json_field "$T/list.json" id | head -2)
	# Age two entries by 40 days in the index.
	for id in $old; do
		sqlite3 "$QDIR/index.sqlite" \
		    "UPDATE entries SET time = time - 40 * 86400 WHERE id = '$id'"
	done
	out=$("${CTL[@]}" quarantine purge --older-than 30d 2>&1)
	if [ "$out" = "purged 2 entries" ] && [ "$(entries)" = $((n0 - 2)) ] &&
	    for id in $old; do [ ! -e "$QDIR/$id.eml" ] || exit 1; done; then
		pf_ok "purge --older-than 30d removes the 2 old entries and files, keeps $((n0 - 2))"
	else
		pf_fail "purge" "$out; $(cat "$T/list.json")"
	fi
	if "${CTL[@]}" quarantine show 0123456789abcdef0123456789abcdef >"$T/unk.out" 2>&1; then
		pf_fail "unknown id" "exit 0: $(cat "$T/unk.out")"
	elif grep -q 'no quarantine entry 0123456789abcdef0123456789abcdef' "$T/unk.out"; then
		pf_ok "show of an unknown id: clear message, non-zero exit"
	else
		pf_fail "unknown id message" "$(cat "$T/unk.out")"
	fi
	if "${CTL[@]}" quarantine release ../../etc/passwd >"$T/bad.out" 2>&1 ||
	    ! grep -q 'not a quarantine id' "$T/bad.out"; then
		pf_fail "path as id" "$(cat "$T/bad.out")"
	else
		pf_ok "an id that is a path is refused"
	fi
}

# ------------------------------------------------------------ 5. concurrency
test_concurrent() {
	local n0 n1 bad=0 id size
	n0=$(entries)
	pf_send -n 20 -c 20 --xclient auto --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix conc "$T/spam.eml" >"$T/conc.tsv"
	pf_wait_drain 60
	n1=$(entries)
	if [ "$(cut -f4 "$T/conc.tsv" | grep -c '^250$')" != 20 ] ||
	    [ "$n1" != $((n0 + 20)) ]; then
		pf_fail "20 connections quarantining at once" "replies: $(cut -f4 "$T/conc.tsv" | sort | uniq -c | tr '\n' ' '); entries $n0 -> $n1"
		return
	fi
	# Every new entry: its file exists, has the indexed size and one of
	# the 20 harness ids, each id exactly once.
	"$PYTHON" - "$T/list.json" "$QDIR" >"$T/conc.check" <<'EOF'
import json, os, re, sys
seen = {}
for line in open(sys.argv[1]):
	e = json.loads(line)
	p = os.path.join(sys.argv[2], e["id"] + ".eml")
	data = open(p, "rb").read()
	if len(data) != e["size"]:
		print("size mismatch", e["id"], len(data), e["size"])
	m = re.search(rb"^X-Harness-Id: (conc-\d+)\r?$", data, re.M)
	if m:
		seen[m.group(1)] = seen.get(m.group(1), 0) + 1
		if not data.rstrip().endswith(b".leading dot line stays."):
			print("truncated", e["id"])
if len(seen) != 20 or any(v != 1 for v in seen.values()):
	print("ids", seen)
EOF
	if [ -s "$T/conc.check" ]; then
		pf_fail "20 intact entries" "$(cat "$T/conc.check")"
	else
		pf_ok "20 connections quarantining at once: 20 intact entries"
	fi
}

# ------------------------------------------------------------ 6. --to, --learn-ham
test_learn_ham() {
	local id f out
	entries >/dev/null
	id=$(json_field "$T/list.json" id | tail -1)
	if ! "${CTL[@]}" quarantine release "$id" --to admin@sink.invalid \
	    --learn-ham >"$T/ham.out" 2>&1; then
		pf_fail "release --to --learn-ham" "$(cat "$T/ham.out")"
		return
	fi
	pf_wait_drain 60
	f=$(grep -l "^X-Rcpt-Args: <admin@sink.invalid>" "$PF_SINK_DIR"/* 2>/dev/null | head -1)
	if [ -n "$f" ] && [ "$(grep -c '^X-Rcpt-Args:' "$f")" = 1 ]; then
		pf_ok "release --to delivers to that address only"
	else
		pf_fail "release --to" "sink file: ${f:-none}"
	fi
	# (the first released entry was purged above: one released left)
	# (autolearn may have taken it as spam: then it moves to ham)
	if grep -Eq "^learned $id as ham \((learned|moved)\)" "$T/ham.out" &&
	    "${CTL[@]}" bayes stats 2>&1 | grep -q '^ham messages: 1$'; then
		pf_ok "--learn-ham learns the message as ham in Bayes"
	else
		pf_fail "--learn-ham in Bayes" "$(cat "$T/ham.out"; "${CTL[@]}" bayes stats 2>&1)"
	fi
	out=$("${CTL[@]}" stats 2>&1)
	if printf '%s\n' "$out" | grep -q '^quarantine.false_positives.POLICY_BLOCK_SENDER 1$' &&
	    printf '%s\n' "$out" | grep -q '^quarantine.released 1$'; then
		pf_ok "--learn-ham counts a false positive per rule, shown by vigilctl stats"
	else
		pf_fail "vigilctl stats after --learn-ham" "$out"
	fi
}

# ------------------------------------------------------------ 7. filters, bounces
# count ARGS...: entries that `list --json ARGS` prints (or "error N").
count() {
	local rc
	"${CTL[@]}" quarantine list --json "$@" >"$T/count.json" 2>"$T/count.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "error $rc"
	else
		wc -l <"$T/count.json"
	fi
}

test_filters() {
	local all got want
	all=$(entries)
	got="$(count --sender BAD.example) $(count --sender nobody@) $(count --rcpt alice@sink) $(count --rcpt bob@) $(count --min-score 100) $(count --min-score 1000) $(count --reason spam) $(count --reason virus) $(count --since 1h) $(count --since 2099-01-01) $(count --reason policy) $(count --reason 'bad!')"
	want="$all 0 $all 0 $all 0 $all 0 $all 0 0 error 64"
	if [ "$got" = "$want" ]; then
		pf_ok "list filters: --sender --rcpt --min-score --reason --since (bad --reason: exit 64, EX_USAGE)"
	else
		pf_fail "list filters" "got '$got', want '$want'"
	fi
}

test_bounce() {
	local n0 id f
	n0=$(entries)
	pf_send --xclient 192.0.2.24 --from '' --rcpt "$RCPT1" \
	    --id-prefix bounce "$T/spam.eml" >"$T/bounce.tsv"
	pf_wait_drain 30
	if [ "$(entries)" != $((n0 + 1)) ] || [ -n "$(pf_delivered bounce-0)" ]; then
		pf_fail "a bounce is quarantined" "entries $n0 -> $(entries); $(cut -f4,6 "$T/bounce.tsv")"
		return
	fi
	id=$(json_field "$T/list.json" id | tail -1)
	if ! "${CTL[@]}" quarantine release "$id" >"$T/bounce.out" 2>&1; then
		pf_fail "a bounce is released" "$(cat "$T/bounce.out")"
		return
	fi
	pf_wait_drain 30
	f=$(pf_delivered bounce-0)
	if [ -n "$f" ] && grep -q '^X-Mail-Args: <>' "$f"; then
		pf_ok "a bounce (null sender) is quarantined and released with the null sender"
	else
		pf_fail "bounce release" "delivered: ${f:-no} $(head -5 "${f:-/dev/null}")"
	fi
}

# ------------------------------------------------------------ 7b. release retried
# wait_for SECS CMD...: until CMD succeeds (0) or SECS pass (1)
wait_for() {
	local n=$(($1 * 10)) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ $i -ge $n ] && return 1
		sleep 0.1
	done
}

# token_state ID: "unused used" counts of ID's release tokens
token_state() {
	sqlite3 "$QDIR/index.sqlite" "SELECT sum(used = 0), sum(used > 0) FROM tokens WHERE id = '$1'" |
	    tr '|' ' '
}

test_release_retry() {
	local n0 id used out
	n0=$(entries)
	pf_send --xclient 192.0.2.26 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix retry "$T/spam.eml" >"$T/retry.tsv"
	pf_wait_drain 30
	if [ "$(entries)" != $((n0 + 1)) ]; then
		pf_fail "release retry: quarantined first" "entries $n0 -> $(entries)"
		return
	fi
	id=$(json_field "$T/list.json" id | tail -1)
	# clamd gone: every message is tempfailed, the released copy too
	pf_vigil_stop 30
	if ! pf_vigil_start "$CONF" "${OPTS[@]}" AVScan=yes \
	    "ClamdSocket=unix:$PF_WORK/no-clamd.sock"; then
		pf_fail "vigil restarts with clamd gone" "see above"
		return
	fi
	if ! "${CTL[@]}" quarantine release "$id" >"$T/retry.out" 2>&1; then
		pf_fail "release retry: release" "$(cat "$T/retry.out")"
		return
	fi
	if wait_for 90 grep -q "release $id not accepted: token kept" \
	    "$PF_VIGIL_LOG" && [ -z "$(pf_delivered retry-0)" ] &&
	    [ "$(token_state "$id")" = "1 0" ]; then
		pf_ok "a release tempfailed by a failing check keeps its token"
	else
		pf_fail "tempfailed release keeps its token" "tokens (unused used): $(token_state "$id"); $(grep -a "$id" "$PF_VIGIL_LOG" | tail -3)"
		return
	fi
	# clamd back (here: AV off): pickup retries the same copy
	pf_vigil_stop 30
	if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
		pf_fail "vigil restarts" "see above"
		return
	fi
	postkick -c "$PF_PFC" public pickup W 2>/dev/null
	if wait_for 120 pf_delivered retry-0 >/dev/null &&
	    [ "$(entries)" = $((n0 + 1)) ] &&
	    [ "$(token_state "$id")" = "0 1" ]; then
		pf_ok "the MTA's retry of that copy is delivered with the same token, which is then used up"
	else
		pf_fail "retry delivered" "delivered: $(pf_delivered retry-0); entries $n0 -> $(entries); tokens $(token_state "$id")"
		return
	fi
	used=$(sqlite3 "$QDIR/index.sqlite" \
	    "SELECT nonce FROM tokens WHERE id = '$id' AND used > 0")
	if out=$(send_with_token replay2 "$(token "$id" "$used" \
	    "$QDIR/release.key" "$T/spam.eml" "$RCPT1")" "already used"); then
		pf_ok "a replay of the retried release's token is quarantined"
	else
		pf_fail "replay after a retried release" "$out"
	fi
}

# ------------------------------------------------------------ 8. hold mode
test_hold() {
	local n0 code text
	n0=$(entries)
	pf_vigil_stop 30
	if ! pf_vigil_start "$CONF" "${OPTS[@]}" QuarantineMode=hold; then
		pf_fail "vigil restarts with QuarantineMode hold" "see above"
		return
	fi
	pf_send --xclient 192.0.2.23 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix hold "$T/spam.eml" >"$T/hold.tsv"
	pf_wait_drain 30
	IFS=$'\t' read -r _ _ _ code _ text <"$T/hold.tsv"
	if [ "$code" = 250 ] && [ "$(pf_hold_count)" = 1 ] &&
	    [ -z "$(pf_delivered hold-0)" ] && [ "$(entries)" = "$n0" ]; then
		pf_ok "QuarantineMode hold: on Postfix's hold queue, not in the store"
	else
		pf_fail "QuarantineMode hold" "$code $text; held $(pf_hold_count); entries $n0 -> $(entries)"
	fi
}

# ------------------------------------------------------------ 9. store broken
test_store_broken() {
	local code text
	pf_vigil_stop 30
	# A folder under a regular file can never be made.
	if ! pf_vigil_start "$CONF" "${OPTS[@]}" QuarantineDir=/dev/null/quarantine; then
		pf_fail "vigil restarts with a broken QuarantineDir" "see above"
		return
	fi
	pf_send --xclient 192.0.2.25 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix broken "$T/spam.eml" >"$T/broken.tsv"
	IFS=$'\t' read -r _ _ _ code _ text <"$T/broken.tsv"
	if [ "${code#4}" != "$code" ] && [ -z "$(pf_delivered broken-0)" ] &&
	    grep -q 'quarantine /dev/null/quarantine: mkdir: Not a directory; tempfail' "$PF_VIGIL_LOG"; then
		pf_ok "a store that cannot be written: $code $text (tempfail, never dropped)"
	else
		pf_fail "broken store" "$code $text; $(grep -a 'tempfail' "$PF_VIGIL_LOG" | tail -2)"
	fi
}

# ------------------------------------------------------------ 10. block lists
test_block_reject() {
	local i stage code text
	pf_vigil_stop 30
	if ! pf_vigil_start "$CONF" "${OPTS[@]}" BlockAction=reject \
	    BlockClients=198.51.100.0/24 AllowSenders=friend@good.example \
	    "BlockReplyText=Refused here"; then
		pf_fail "vigil restarts with BlockAction reject" "see above"
		return
	fi
	pf_send --xclient 192.0.2.30 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix blk-s "$T/spam.eml" >"$T/blk.tsv"
	pf_send --xclient 198.51.100.77 --from someone@example.org \
	    --rcpt "$RCPT1" --id-prefix blk-c "$T/spam.eml" >>"$T/blk.tsv"
	pf_send --xclient 192.0.2.31 --from friend@good.example \
	    --rcpt "$RCPT1" --id-prefix blk-a "$T/spam.eml" >>"$T/blk.tsv"
	pf_send --xclient 192.0.2.32 --from someone@example.org \
	    --rcpt "$RCPT1" --id-prefix blk-o "$T/spam.eml" >>"$T/blk.tsv"
	pf_wait_drain 30
	i=0
	while IFS=$'\t' read -r _ _ stage code _ text; do
		case $i in
		0|1) [ "$stage $code ${text%% *}" = "mail 550 5.7.1" ] &&
			[ "${text#*Refused here}" != "$text" ] || break ;;
		2|3) [ "$code" = 250 ] || break ;;
		esac
		i=$((i + 1))
	done <"$T/blk.tsv"
	if [ $i = 4 ] && [ -n "$(pf_delivered blk-a-0)" ] &&
	    grep -q 'POLICY_ALLOW_SENDER' "$(pf_delivered blk-a-0)" &&
	    [ -n "$(pf_delivered blk-o-0)" ]; then
		pf_ok "block lists: sender and client network get 550 5.7.1 at MAIL FROM; allowed and other senders pass"
	else
		pf_fail "block lists" "$(cat "$T/blk.tsv")"
	fi
}

ID=
test_quarantined && test_release
[ -n "$ID" ] && test_forged_token
test_purge
test_concurrent
test_learn_ham
test_filters
test_bounce
test_release_retry
test_hold
test_store_broken
test_block_reject
if ! pf_vigil_pid >/dev/null; then
	pf_fail "vigil still running" "it exited: $(tail -3 "$PF_VIGIL_LOG")"
fi
if [ "$PF_FAILED" -gt 0 ]; then
	echo "--- vigil log (last 20 lines)"
	tail -20 "$PF_VIGIL_LOG"
	echo "--- postfix log (last 20 lines)"
	tail -20 "$PF_PFLOG"
fi
pf_summary
