#!/bin/sh
# vigilctl-bayes.sh - `vigilctl bayes` and the bayes check end to end, the
# same steps against both stores: LMDB in a temporary folder and Redis as a
# private redis-server on 127.0.0.1 (a free port, its own folder).
# Trains on a seeded synthetic corpus (mkcorpus.py): a Maildir of ham, an
# mbox of spam, stdin; checks readiness, idempotence, moving, forgetting,
# the "bayes" field of `vigilctl scan --json`, the strongest tokens both
# ways that `scan --explain` shows, and that a store that cannot be
# reached leaves mail scanned with BAYES_UNAVAILABLE.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-bayes-test.XXXXXX)
redis_pid=

cleanup() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

python3 "$top_srcdir/tests/bayes/mkcorpus.py" "$T/corpus" 210 || exit 1
C=$T/corpus
cat > "$T/vigil.conf" <<'CONF'
Checks	headers, bayes
LogLevel	warn
BayesDir	bayes-db
CONF

# ordered DESC SIDE FILE: FILE (scan --explain) lists tokens toward SIDE,
# at least 5 and at most 10, strongest first (f(w) down toward spam, up
# toward ham).
ordered() {
	if awk -v side="$2" '
	    /^    toward / { in_side = ($0 ~ "^    toward " side ":") ; next }
	    /^  [^ ]/ { in_side = 0 }
	    in_side && /^      [01]\.[0-9]+  spam / {
		f = $1 + 0; n++
		if (n > 1 && ((side == "spam" && f > last) ||
		    (side == "ham" && f < last))) bad = 1
		last = f
	    }
	    END { exit !(n >= 5 && n <= 10 && !bad) }' "$3"; then
		ok "$1"
	else
		bad "$1 (tokens toward $2 not 5-10 or out of order:)"
		sed 's/^/#   /' "$3"
	fi
}

# explain_steps -o ... : scan --explain shows Bayes's strongest tokens
# both ways, as text, with f(w) and counts; never without --explain.
explain_steps() {
	v "$@" scan --explain "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: explain: Bayes's tokens, store totals" \
	    "^  bayes tokens: [0-9]+ of the message's [0-9]+ known to the store \(210 spam, 210 ham learned\), P=0\.9" \
	    "$out"
	expect "$name: explain: the sender's domain toward spam, counts" \
	    "^      1\.0000  spam 210 +ham 0 +hdr  from:dom:spam\.example$" \
	    "$out"
	expect "$name: explain: a body word toward spam" \
	    "^      0\.9[0-9]+  spam [0-9]+ +ham 0 +body [a-z]+$" "$out"
	ordered "$name: explain: spam's tokens toward spam, strongest first" \
	    spam "$out"
	v "$@" scan --explain "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: explain: the sender's domain toward ham" \
	    "^      0\.0000  spam 0 +ham 210 +hdr  from:dom:example\.org$" \
	    "$out"
	ordered "$name: explain: ham's tokens toward ham, strongest first" \
	    ham "$out"
	v "$@" scan --explain --json "$C/unseen-ham.eml" > "$out" 2>&1
	if python3 - "$out" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
bt = o["bayes_tokens"]
ham = bt["ham"]
p = [t["probability"] for t in ham]
assert bt["learned_spam"] == 210 and bt["learned_ham"] == 210, bt
assert 5 <= len(ham) <= 10 and p == sorted(p) and p[-1] < 0.05, ham
assert any(t["token"] == "from:dom:example.org" and t["header"] and
    t["ham"] == 210 and t["spam"] == 0 for t in ham), ham
assert all(t["probability"] > 0.95 for t in bt["spam"]), bt["spam"]
PY
	then ok "$name: explain --json: bayes_tokens, ham's strongest in order"
	else bad "$name: explain --json: bayes_tokens"; sed 's/^/#   /' "$out"
	fi
	v "$@" scan --explain --ip 127.0.0.1 "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: explain, content checks skipped: Bayes did not run" \
	    "^  bayes tokens: the check did not run on this message" "$out"
	v "$@" scan --explain "$C/unseen-ham.eml" > "$out" 2>&1
	if grep -q "did not run" "$out"; then
		bad "$name: explain, Bayes ran: not said otherwise"
	else ok "$name: explain, Bayes ran: not said otherwise"; fi
	v "$@" scan "$C/unseen-spam.eml" > "$out" 2>&1
	if grep -q "bayes tokens" "$out"; then
		bad "$name: no tokens without --explain"
	else ok "$name: no tokens without --explain"; fi
	v "$@" scan --json "$C/unseen-spam.eml" > "$out" 2>&1
	if grep -q '"bayes_tokens"' "$out"; then
		bad "$name: --json without --explain has no bayes_tokens"
	else ok "$name: --json without --explain has no bayes_tokens"; fi
}

# run_steps NAME -o ... : the same steps for one backend.
run_steps() {
	name=$1
	shift
	v() { "$CTL" -c "$T/vigil.conf" "$@"; }
	out=$T/out.$name

	v "$@" bayes stats > "$out" 2>&1
	expect "$name: empty store is not ready" \
	    "ready: no: needs 200 more spam and 200 more ham" "$out"
	v "$@" scan --json "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: not ready: BAYES_NOT_READY" '"BAYES_NOT_READY"' "$out"
	expect "$name: not ready: bayes is null" '"bayes":null' "$out"
	v "$@" scan "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: not ready: scan says so in words" \
	    "^  bayes: no spam probability \(store not ready" "$out"
	v "$@" scan --explain "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: explain, nothing learned: no tokens, why" \
	    "^  bayes tokens: none \(the store has learned 0 spam and 0 ham" \
	    "$out"
	v "$@" bayes classify "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: not ready: classify unsure, why" \
	    "unseen-spam.eml	p\(spam\)=-	unsure \(not ready: learned 0 spam and 0 ham of 200 and 200\)" "$out"

	v "$@" bayes learn --ham "$C/ham.maildir" > "$out" 2>&1
	expect "$name: Maildir learned" "210 messages as ham: 210 learned" "$out"
	v "$@" bayes learn --spam "$C/spam.mbox" > "$out" 2>&1
	expect "$name: mbox learned" "210 messages as spam: 210 learned" "$out"
	v "$@" bayes learn --spam "$C/spam.mbox" > "$out" 2>&1
	expect "$name: learning twice counts once" \
	    "0 learned, 0 moved, 210 already known" "$out"

	v "$@" bayes stats > "$out" 2>&1
	expect "$name: stats spam" "^spam messages: 210$" "$out"
	expect "$name: stats ham" "^ham messages: 210$" "$out"
	expect "$name: stats ready" "^ready: yes$" "$out"
	expect "$name: stats tokens" "^tokens: [1-9][0-9]*$" "$out"
	expect "$name: stats last learn" "^last learn: [0-9]{4}-" "$out"

	v "$@" scan --json "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: spam hits BAYES_99" '"name":"BAYES_99"' "$out"
	expect "$name: spam probability" '"bayes":(0\.9[0-9]*|1\.0+)' "$out"
	v "$@" scan "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: scan: the probability, labelled" \
	    "^  bayes: spam probability (0\.9[0-9]*|1\.0+)$" "$out"
	explain_steps "$@"
	v "$@" scan --json "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: ham hits BAYES_00" '"name":"BAYES_00"' "$out"
	expect "$name: ham probability" '"bayes":0\.0[0-9]*' "$out"
	v "$@" bayes classify "$C/unseen-spam.eml" "$C/unseen-ham.eml" \
	    > "$out" 2>&1
	expect "$name: classify spam" "unseen-spam.eml	p\(spam\)=(0\.9[0-9]*|1\.0+)	spam$" "$out"
	expect "$name: classify ham" "unseen-ham.eml	p\(spam\)=0\.[0-9]+	ham$" "$out"
	printf '%s\n%s\n' "$C/unseen-spam.eml" "$C/unseen-ham.eml" > "$T/list"
	v "$@" bayes classify --list "$T/list" > "$out" 2>&1
	expect "$name: classify --list: spam" "unseen-spam.eml	p\(spam\)=(0\.9[0-9]*|1\.0+)	spam$" "$out"
	expect "$name: classify --list: ham" "unseen-ham.eml	p\(spam\)=0\.[0-9]+	ham$" "$out"
	v "$@" bayes classify --rank --list "$T/list" > "$out" 2>&1
	expect "$name: classify --rank --list" "unseen-ham.eml	[-0-9.]+	ham$" "$out"
	v "$@" bayes classify --rank "$C/unseen-spam.eml" > "$out" 2>&1
	expect "$name: classify --rank" "unseen-spam.eml	[-0-9.]+	spam$" "$out"

	v "$@" bayes learn --spam - < "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: stdin learned" "1 messages as spam: 1 learned" "$out"
	v "$@" bayes learn --ham "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: other class moves" "1 messages as ham: 0 learned, 1 moved" "$out"
	v "$@" bayes learn --ham --forget "$C/unseen-ham.eml" > "$out" 2>&1
	expect "$name: forget" "1 forgotten" "$out"
	v "$@" bayes stats > "$out" 2>&1
	expect "$name: counts back after move and forget (spam)" \
	    "^spam messages: 210$" "$out"
	expect "$name: counts back after move and forget (ham)" \
	    "^ham messages: 210$" "$out"

	v "$@" -o BayesMinSpam=1000 bayes stats > "$out" 2>&1
	expect "$name: stats says how many more" \
	    "needs 790 more spam and 0 more ham" "$out"
	v "$@" -o BayesMinSpam=1000 scan --json "$C/unseen-spam.eml" \
	    > "$out" 2>&1
	expect "$name: below BayesMinSpam: not ready" '"BAYES_NOT_READY"' "$out"

	v "$@" bayes expire > "$out" 2>&1
	expect "$name: expire runs" "visited [0-9]+ tokens, dropped 0" "$out"
}

# --- LMDB ---
run_steps lmdb -o "BayesDir=$T/lmdb"

# --- Redis: a private server on loopback ---
rport=$(free_port)
mkdir -p "$T/redis"
redis-server --bind 127.0.0.1 --port "$rport" --dir "$T/redis" \
    --save "" --appendonly no --logfile "$T/redis/log" &
redis_pid=$!
i=0
until redis-cli -h 127.0.0.1 -p "$rport" ping > /dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		bad "redis-server on 127.0.0.1:$rport did not start"
		break
	fi
	sleep 0.1
done
run_steps redis -o "BayesRedis=127.0.0.1:$rport" -o BayesRedisDatabase=3 \
    -o "BayesRedisPrefix=test{$$}:"

# --- A store that cannot be reached or opened: scanned without Bayes ---
dead=$(free_port)
"$CTL" -c "$T/vigil.conf" -o "BayesRedis=127.0.0.1:$dead" \
    -o BayesRedisTimeout=200ms scan --json "$C/unseen-spam.eml" > "$T/out" 2>&1
rc=$?
expect "redis down: BAYES_UNAVAILABLE" '"name":"BAYES_UNAVAILABLE"' "$T/out"
expect "redis down: the reason names the server" "127\.0\.0\.1:$dead" "$T/out"
expect "redis down: a verdict all the same" '"action":"accept"' "$T/out"
[ $rc -eq 0 ] && ok "redis down: scan exits 0" || bad "redis down: scan exit $rc"
: > "$T/not-a-folder"
"$CTL" -c "$T/vigil.conf" -o "BayesDir=$T/not-a-folder" \
    scan --json "$C/unseen-spam.eml" > "$T/out" 2>&1
expect "lmdb cannot open: BAYES_UNAVAILABLE" '"name":"BAYES_UNAVAILABLE"' "$T/out"
expect "lmdb cannot open: a verdict all the same" '"action":"accept"' "$T/out"

# --- A path that cannot be read: reported, the others learned, exit 66 ---
"$CTL" -c "$T/vigil.conf" -o "BayesDir=$T/lmdb2" bayes learn --spam \
    "$T/no-such-file" "$C/unseen-spam.eml" > "$T/out" 2>&1
rc=$?
expect "unreadable path: named" "no-such-file: No such file" "$T/out"
expect "unreadable path: the rest learned" "1 messages as spam: 1 learned" "$T/out"
[ $rc -eq 66 ] && ok "unreadable path: exit 66" || bad "unreadable path: exit $rc"

# --- Root learning into the daemon's state folder leaves the store the
# daemon's: a store made by root inside a folder another user owns is that
# user's (folder and both files), so the daemon (UserID) can still write it.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir "$T/state"
	chown nobody "$T/state"
	chmod 755 "$T"
	"$CTL" -c "$T/vigil.conf" -o "BayesDir=$T/state/bayes" bayes learn \
	    --spam "$C/unseen-spam.eml" > "$T/out" 2>&1
	owners=$(stat -c %U "$T/state/bayes" "$T/state/bayes/data.mdb" \
	    "$T/state/bayes/lock.mdb" 2>&1 | tr '\n' ' ')
	if [ "$owners" = "nobody nobody nobody " ]; then
		ok "root's store in nobody's folder is nobody's ($owners)"
	else
		bad "root's store in nobody's folder is nobody's ($owners)"
		sed 's/^/#   /' "$T/out"
	fi
	# The daemon's user can write it: learning as nobody works.
	if command -v setpriv >/dev/null 2>&1 &&
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$CTL" -c "$T/vigil.conf" -o "BayesDir=$T/state/bayes" bayes learn \
	    --ham "$C/unseen-spam.eml" > "$T/out" 2>&1; then
		ok "the store's owner can learn into it after root did"
	else
		bad "the store's owner can learn into it after root did"
		sed 's/^/#   /' "$T/out"
	fi
	# A store folder in root's own folder stays root's.
	"$CTL" -c "$T/vigil.conf" -o "BayesDir=$T/rootstore" bayes learn \
	    --spam "$C/unseen-spam.eml" > /dev/null 2>&1
	if [ "$(stat -c %U "$T/rootstore/data.mdb")" = root ]; then
		ok "a store in root's folder stays root's"
	else
		bad "a store in root's folder stays root's"
	fi
else
	echo "# not root or no user nobody: the store owner case is not run"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
