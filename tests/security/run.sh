#!/usr/bin/env bash
# run.sh - security tests (make check-security; root, a private Postfix
# through tests/postfix/lib.sh):
#
#   1. forged headers: incoming X-Spam-*, X-Virus-*, X-Vigil-* and
#      Authentication-Results naming our authserv-id (any case, folded,
#      before or after another one, after a comment, quoted, after 64
#      junk X-Spam-* fields) are removed end to end; an
#      Authentication-Results of another authserv-id stays;
#   2. privileges: with UserID the worker that handles mail runs with the
#      user's uid, gid and groups only, no capabilities, and mail flows;
#      the milter socket is 0660 in SocketGroup (another user: EACCES);
#      the worker goes with a SIGKILLed supervisor; a PidFile symlink is
#      not followed;
#   3. control socket: only its owner can connect (another user gets
#      EACCES), with and without UserID;
#   4. quarantine ids that try to leave the folder (../x, absolute paths,
#      a/../b, a symlink out) are refused by every vigilctl quarantine
#      command and the file outside is left alone;
#   5. a rule written to backtrack cannot stall a message past its limit
#      (vigilctl scan and through Postfix; needs the rules module).
# Release tokens (forged, replayed) are tested in tests/postfix/quarantine.sh
# and tests/unit/test_policy.c.  Prints ok/FAIL and "N passed, N failed".
set -u
. "$(dirname "$0")/../postfix/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
VIGILCTL=$top_builddir/filter/vigilctl
AUTHSERV=mx.example.test
OTHER_USER=daemon

pf_setup || exit 1
T=$PF_WORK/t
mkdir -p "$T"

# as USER CMD...: run CMD with USER's uid, gid and groups only.
as() {
	local user=$1
	shift
	setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$@"
}

# connect_as USER PATH: 0 if USER can connect to the unix socket PATH;
# prints the errno name otherwise.
connect_as() {
	as "$1" "$PYTHON" -c 'import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
	s.connect(sys.argv[1])
except OSError as e:
	print(errno.errorcode.get(e.errno, e.errno))
	sys.exit(1)' "$2"
}

# header_count NAME FILE: how many NAME headers FILE's top header has.
header_count() {
	awk -v want="$(echo "$1" | tr 'A-Z' 'a-z')" '
	    /^\r?$/ { exit }
	    /^[^ \t]/ { if (tolower(substr($0, 1, index($0, ":") - 1)) == want) n++ }
	    END { print n + 0 }' "$2"
}

worker_pid() { # the supervisor's child that serves mail
	pgrep -P "$(pf_vigil_pid)" | head -1
}

# ------------------------------------------------------------ 1 + 2 + 3
mkdir -p "$PF_WORK/ctl-nobody"
chown nobody "$PF_WORK/ctl-nobody"
CTL=$PF_WORK/ctl-nobody/control.sock
if ! pf_vigil_start "$CONF" UserID=nobody "AuthservID=$AUTHSERV" \
    "ControlSocket=$CTL" "TempDirectory=$T"; then
	pf_fail "vigil starts with UserID nobody" "$(pf_vigil_log | tail -5)"
	pf_summary
	exit 1
fi

test_forged() {
	local m=$T/forged.eml f bad
	cat >"$m" <<EOF
Authentication-Results: $AUTHSERV; spf=pass smtp.mailfrom=FORGEDMARK1@example.org
Authentication-Results: elsewhere.example.net; spf=fail smtp.mailfrom=kept@example.org
authentication-results:   MX.EXAMPLE.TEST;
	dkim=pass header.d=FORGEDMARK2.example
Authentication-Results: $AUTHSERV.evil.example; spf=pass smtp.mailfrom=kept-too@example.org
From: Alice <alice@example.org>
To: Bob <rcpt@sink.invalid>
Subject: lunch
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <forged-security@example.org>
X-Spam-Status: No, score=-99.0 required=5.0 tests=FORGEDMARK3
X-SPAM-FLAG: FORGEDMARK4
X-Spam-Score: -99.0
X-Virus-Scanned: clean FORGEDMARK5
X-Virus-Status: Clean FORGEDMARK6
X-Vigil-Scan: FORGEDMARK7
X-Vigil-Release: v=1; id=FORGEDMARK8; n=00; t=0; mac=00
MIME-Version: 1.0
Content-Type: text/plain

Shall we meet at noon?
EOF
	pf_send --xclient 192.0.2.40 --helo client.example.org \
	    --from alice@example.org --rcpt rcpt@sink.invalid --id-prefix forged \
	    "$m" >"$T/forged.tsv"
	pf_wait_drain 30
	f=$(pf_delivered forged-0)
	if [ -z "$f" ]; then
		pf_fail "forged headers removed" "not delivered: $(cut -f4,6 "$T/forged.tsv")"
		return
	fi
	bad=$(grep -n 'FORGEDMARK[0-9]' "$f" | head -5)
	if [ -n "$bad" ]; then
		pf_fail "forged X-Spam-*, X-Virus-*, X-Vigil-*, our Authentication-Results removed" "$bad"
	else
		pf_ok "forged X-Spam-*, X-Virus-*, X-Vigil-* and our Authentication-Results (any case, folded) removed"
	fi
	if grep -q 'kept@example.org' "$f" && grep -q 'kept-too@example.org' "$f"; then
		pf_ok "Authentication-Results of other authserv-ids kept"
	else
		pf_fail "other Authentication-Results kept" "$(grep -i '^Authentication-Results' "$f")"
	fi
	if [ "$(header_count X-Spam-Status "$f")" = 1 ]; then
		pf_ok "exactly one X-Spam-Status, vigil's own"
	else
		pf_fail "one X-Spam-Status" "$(grep -i '^X-Spam' "$f")"
	fi
}

# More forged copies than the milter once recorded (64), then our
# authserv-id hidden the ways RFC 8601 allows: after a comment, quoted.
test_forged_hostile() {
	local m=$T/forged-hostile.eml f bad i
	{
		for i in $(seq 1 64); do echo "X-Spam-Junk$i: x"; done
		cat <<EOF
Authentication-Results: $AUTHSERV; dmarc=pass header.from=FORGEDMARK9.example
Authentication-Results: (trusted relay) $AUTHSERV; dmarc=pass header.from=FORGEDMARK10.example
Authentication-Results: "$AUTHSERV"; dmarc=pass header.from=FORGEDMARK11.example
Authentication-Results: ($AUTHSERV) elsewhere.example.net; spf=fail smtp.mailfrom=kept3@example.org
X-Spam-Status: No, score=-99.0 required=5.0 tests=FORGEDMARK12
From: Alice <alice@example.org>
To: Bob <rcpt@sink.invalid>
Subject: lunch again
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <forged-hostile@example.org>

Shall we meet at one?
EOF
	} >"$m"
	pf_send --xclient 192.0.2.40 --helo client.example.org \
	    --from alice@example.org --rcpt rcpt@sink.invalid --id-prefix hostile \
	    "$m" >"$T/hostile.tsv"
	pf_wait_drain 30
	f=$(pf_delivered hostile-0)
	if [ -z "$f" ]; then
		pf_fail "forged headers after 64 junk ones removed" "not delivered: $(cut -f4,6 "$T/hostile.tsv")"
		return
	fi
	bad=$(grep -n 'FORGEDMARK[0-9]*\|^X-Spam-Junk' "$f" | head -5)
	if [ -n "$bad" ]; then
		pf_fail "forged headers after 64 junk ones, our authserv-id after a comment or quoted, removed" "$bad"
	else
		pf_ok "forged headers after 64 junk ones, our authserv-id after a comment or quoted, removed"
	fi
	if grep -q 'kept3@example.org' "$f"; then
		pf_ok "Authentication-Results of another authserv-id, ours in a comment, kept"
	else
		pf_fail "Authentication-Results with ours in a comment kept" "$(grep -i '^Authentication-Results' "$f")"
	fi
}

test_privileges() {
	local w uid gid groups cap nu ng
	w=$(worker_pid)
	if [ -z "$w" ]; then
		pf_fail "worker runs as nobody" "no worker process under $(pf_vigil_pid)"
		return
	fi
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$w/status")
	gid=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$w/status")
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$w/status" | xargs)
	cap=$(awk '/^CapEff:/ { print $2 }' "/proc/$w/status")
	nu=$(id -u nobody)
	ng=$(id -g nobody)
	if [ "$uid" = "$nu $nu $nu $nu" ] && [ "$gid" = "$ng $ng $ng $ng" ] &&
	    { [ "$groups" = "$ng" ] || [ -z "$groups" ]; } &&
	    [ "$cap" = 0000000000000000 ]; then
		pf_ok "the worker runs as nobody: real, effective, saved uid and gid; no other group; no capabilities"
	else
		pf_fail "worker unprivileged" "Uid $uid Gid $gid Groups '$groups' CapEff $cap"
	fi
	if grep -q 'verdict=' "$PF_VIGIL_LOG" && [ -n "$(pf_delivered forged-0)" ]; then
		pf_ok "mail flows through the unprivileged worker"
	else
		pf_fail "mail through the unprivileged worker" "$(pf_vigil_log | tail -3)"
	fi
}

test_control() { # OWNER PATH
	local owner=$1 path=$2 mode why i=0
	# The worker makes its control socket after the milter socket
	# listens: wait for it (bounded) before reading its mode.
	while [ ! -S "$path" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	mode=$(stat -c '%U %a' "$path" 2>/dev/null)
	if [ "$mode" != "$owner 600" ]; then
		pf_fail "control socket owned by $owner, mode 600" "${mode:-missing}"
	else
		pf_ok "control socket $owner, mode 600"
	fi
	if connect_as "$owner" "$path" >/dev/null; then
		pf_ok "its owner ($owner) connects"
	else
		pf_fail "the owner connects" "$owner: $(connect_as "$owner" "$path")"
	fi
	if why=$(connect_as "$OTHER_USER" "$path"); then
		pf_fail "another user is refused" "$OTHER_USER connected to $path"
	elif [ "$why" = EACCES ]; then
		pf_ok "another user ($OTHER_USER) is refused: EACCES"
	else
		pf_fail "another user is refused with EACCES" "got $why"
	fi
}

# The milter socket as Postfix reaches it: 0660 in SocketGroup (postfix,
# set by lib.sh), so another local user cannot speak the milter
# protocol with forged macros.
test_milter_socket() {
	local mode why
	mode=$(stat -c '%a %G' "$PF_SOCK" 2>/dev/null)
	if [ "$mode" = "660 postfix" ]; then
		pf_ok "milter socket mode 660, group postfix (SocketGroup)"
	else
		pf_fail "milter socket mode 660 in group postfix" "${mode:-missing}"
	fi
	if why=$(connect_as "$OTHER_USER" "$PF_SOCK"); then
		pf_fail "another user is refused the milter socket" "$OTHER_USER connected"
	elif [ "$why" = EACCES ]; then
		pf_ok "another local user ($OTHER_USER) cannot reach the milter socket: EACCES"
	else
		pf_fail "another user is refused the milter socket with EACCES" "got $why"
	fi
}

# The worker, no longer root, goes with a SIGKILLed supervisor.
test_supervisor_killed() {
	local w i=0
	w=$(worker_pid)
	if [ -z "$w" ]; then
		pf_fail "worker gone with its supervisor" "no worker"
		return
	fi
	pf_vigil_kill KILL
	while [ -d "/proc/$w" ] && [ $i -lt 60 ] &&
	    [ "$(awk '/^State:/ { print $2 }' "/proc/$w/status" 2>/dev/null)" != Z ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if [ -d "/proc/$w" ] &&
	    [ "$(awk '/^State:/ { print $2 }' "/proc/$w/status" 2>/dev/null)" != Z ]; then
		pf_fail "worker gone with its supervisor" "worker $w (uid $(awk '/^Uid:/ { print $2 }' "/proc/$w/status")) still runs"
		kill -KILL "$w" 2>/dev/null
	else
		pf_ok "the worker (nobody) is gone when its supervisor is SIGKILLed"
	fi
}

test_forged
test_forged_hostile
test_privileges
test_control nobody "$CTL"
test_milter_socket
test_supervisor_killed

# A PidFile that is a symlink in the run folder: root does not write
# through it; vigil stops (73) and says why.
test_pidfile_symlink() {
	local victim=$PF_WORK/precious link=$PF_WORK/run/link.pid rc
	echo keep >"$victim"
	ln -sf "$victim" "$link"
	timeout 10 "$PF_VIGIL" -f -c "$CONF" -p "unix:$PF_WORK/run/pid.sock" \
	    -o UserID=nobody -o "PidFile=$link" \
	    -o "ControlSocket=$PF_WORK/run/pid-control.sock" >"$T/pid.log" 2>&1
	rc=$?
	if [ $rc = 73 ] && [ "$(cat "$victim")" = keep ] &&
	    grep -q "is a symbolic link" "$T/pid.log"; then
		pf_ok "a PidFile that is a symlink is not followed: exit 73, the file behind it intact"
	else
		pf_fail "PidFile symlink not followed" "exit $rc, file: $(cat "$victim"), $(tail -1 "$T/pid.log")"
	fi
}
test_pidfile_symlink

# Without UserID the control socket belongs to root: nobody is refused.
CTL=$PF_WORK/run/control.sock
if pf_vigil_start "$CONF" "ControlSocket=$CTL"; then
	OTHER_USER=nobody test_control root "$CTL"
	if "$VIGILCTL" -c "$CONF" -o "ControlSocket=$CTL" stats >"$T/stats" 2>&1 &&
	    grep -q '^messages' "$T/stats"; then
		pf_ok "vigilctl stats works for the owner"
	else
		pf_fail "vigilctl stats for the owner" "$(head -3 "$T/stats")"
	fi
	if as nobody "$VIGILCTL" -c "$CONF" -o "ControlSocket=$CTL" stats \
	    >"$T/stats-nobody" 2>&1; then
		pf_fail "vigilctl stats as nobody fails" "$(head -3 "$T/stats-nobody")"
	else
		pf_ok "vigilctl stats as nobody fails: $(head -1 "$T/stats-nobody")"
	fi
	pf_vigil_stop 30
else
	pf_fail "vigil starts without UserID" "$(pf_vigil_log | tail -5)"
fi

# ------------------------------------------------------------ 4
test_quarantine_ids() {
	local q=$PF_WORK/quar/q outside=$PF_WORK/quar/secret id cmd out rc
	mkdir -p "$q"
	echo "not a quarantined message" >"$outside.eml"
	cp "$outside.eml" "$outside.orig"
	ln -s "$outside.eml" "$q/link.eml"
	local ids=("../secret" "../secret.eml" "$outside" "$outside.eml"
	    "a/../../secret" "..%2fsecret" "link" "link.eml" "." ".." ""
	    "-rf" "secret;id")
	for cmd in show release delete; do
		for id in "${ids[@]}"; do
			out=$("$VIGILCTL" -c "$CONF" -o "QuarantineDir=$q" \
			    quarantine "$cmd" -- "$id" 2>&1)
			rc=$?
			if [ $rc -eq 0 ]; then
				pf_fail "quarantine $cmd '$id' refused" "exit 0: $out"
				return
			fi
			if printf '%s' "$out" | grep -q 'not a quarantined message'; then
				pf_fail "quarantine $cmd '$id' reads nothing outside" "$out"
				return
			fi
		done
	done
	if cmp -s "$outside.eml" "$outside.orig" && [ -L "$q/link.eml" ]; then
		pf_ok "quarantine show/release/delete refuse ${#ids[@]} ids that leave the folder; nothing outside touched"
	else
		pf_fail "nothing outside the quarantine touched" "$(ls -l "$PF_WORK/quar" "$q")"
	fi
	# A well-formed id, indexed, whose message file is a symlink out of
	# the folder (the daemon's user could plant one): the id passes the
	# format check, so the file itself must not be followed.
	local vid=0123456789abcdef0123456789abcdef
	python3 - "$top_srcdir/filter/quarantine/quarantine.c" "$q/index.sqlite" "$vid" <<'PY'
import re, sqlite3, sys, time
src, db, qid = sys.argv[1:4]
text = open(src).read()
body = text.split("static const char schema[] =", 1)[1].split(";\n", 1)[0]
schema = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
con = sqlite3.connect(db)
con.executescript(schema)
con.execute("INSERT INTO entries (id, time, queue_id, client, sender, subject,"
    " score, reason, action, size) VALUES (?, ?, 'Q1', '192.0.2.9',"
    " 'x@example.org', 's', 12.5, 'spam', 'quarantine', 30)",
    (qid, int(time.time())))
con.execute("INSERT INTO rcpts (id, n, addr) VALUES (?, 0, 'alice@example.org')",
    (qid,))
con.commit()
PY
	ln -s "$outside.eml" "$q/$vid.eml"
	for cmd in show release delete; do
		out=$("$VIGILCTL" -c "$CONF" -o "QuarantineDir=$q" \
		    -o "SendmailCommand=/bin/false" quarantine "$cmd" -- "$vid" 2>&1)
		if printf '%s' "$out" | grep -q 'not a quarantined message'; then
			pf_fail "quarantine $cmd of an indexed id whose file is a symlink" "read through it: $out"
			return
		fi
	done
	if cmp -s "$outside.eml" "$outside.orig"; then
		pf_ok "an indexed, well-formed id whose file is a symlink out: not followed by show, release or delete"
	else
		pf_fail "an indexed id whose file is a symlink out" "the file outside changed"
	fi
}
test_quarantine_ids

# ------------------------------------------------------------ 5
# A rule written to backtrack (nested quantifiers over 30 KB of one
# letter) meets the PCRE2 match limit: the message is still scanned,
# delivered and logged, and the rules around it still hit.  "In time" is
# measured against the same message with a letter the rules cannot
# backtrack on (base.eml), on the same build and machine: at most ten
# times that and 2 s, where a runaway backtrack takes minutes (a fixed
# wall-clock limit would pass or fail with the build and the load).
test_backtrack() {
	local d=$PF_WORK/rules m=$T/backtrack.eml base=$T/base.eml t0 t1 ms f out
	local ms0 lim
	mkdir -p "$d"
	cat >"$d/90_security.rules" <<'RULES'
body     SEC_BACKTRACK   /^(a+)+b$/m
score    SEC_BACKTRACK   7.0
rawbody  SEC_BACKTRACK2  /(a|aa|a?a)+b/
score    SEC_BACKTRACK2  7.0
body     SEC_CANARY      /canary phrase/
score    SEC_CANARY      0.5
RULES
	if ! "$PF_VIGIL" -n -c "$CONF" -o "RulesDir=$d" >"$T/rules-n.out" 2>&1; then
		if grep -q 'RulesDir: unknown keyword' "$T/rules-n.out"; then
			echo "skip - backtracking rule: this build has no rules module"
			return
		fi
		pf_fail "the backtracking rules load" "$(cat "$T/rules-n.out")"
		return
	fi
	"$PYTHON" - "$m" "$base" <<'PY'
import sys
for path, letter in ((sys.argv[1], "a"), (sys.argv[2], "c")):
	with open(path, "w") as f:
		f.write("From: Alice <alice@example.org>\nTo: Bob <rcpt@sink.invalid>\n"
		    "Subject: a long line\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
		    "Message-ID: <backtrack@example.org>\nContent-Type: text/plain\n\n"
		    "the canary phrase\n" + letter * 30000 + "!\n")
PY
	scan_ms() { # FILE: prints the scan's output, sets ms
		t0=$(date +%s%N)
		out=$("$VIGILCTL" -c "$CONF" -o "RulesDir=$d" -o "BayesDir=$PF_WORK/bayes" \
		    -o "DNSZoneFile=$top_srcdir/tests/data/dns/empty.zone" scan --json "$1" 2>&1)
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
	}
	scan_ms "$base"
	ms0=$ms
	lim=$((ms0 * 10 + 2000))
	scan_ms "$m"
	if ! printf '%s' "$out" | grep -q SEC_CANARY; then
		pf_fail "rules run beside a backtracking one" "no SEC_CANARY: $(printf '%s' "$out" | head -c 300)"
	elif printf '%s' "$out" | grep -q 'SEC_BACKTRACK'; then
		pf_fail "a backtracking rule counts as not hit" "$(printf '%s' "$out" | head -c 300)"
	elif [ "$ms" -gt "$lim" ]; then
		pf_fail "a backtracking rule is cut at its limit" "vigilctl scan took $ms ms, $ms0 ms without the backtracking input (limit $lim)"
	else
		pf_ok "a backtracking rule is cut at the match limit: scan in $ms ms ($ms0 ms without the backtracking input, limit $lim), other rules hit"
	fi
	# and through the milter: delivered within the same bound
	pf_vigil_start "$CONF" "RulesDir=$d" "ControlSocket=$PF_WORK/run/c2.sock" || {
		pf_fail "vigil starts with the backtracking rules" "$(pf_vigil_log | tail -3)"
		return
	}
	t0=$(date +%s%N)
	pf_send --xclient 192.0.2.41 --id-prefix btbase "$base" >"$T/btbase.tsv"
	t1=$(date +%s%N)
	ms0=$(((t1 - t0) / 1000000))
	lim=$((ms0 * 10 + 2000))
	t0=$(date +%s%N)
	pf_send --xclient 192.0.2.41 --id-prefix bt "$m" >"$T/bt.tsv"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	pf_wait_drain 30
	f=$(pf_delivered bt-0)
	if [ -n "$f" ] && [ "$ms" -le "$lim" ] && grep -q 'SEC_CANARY' "$f"; then
		pf_ok "through Postfix: delivered, SMTP transaction $ms ms ($ms0 ms without the backtracking input, limit $lim)"
	else
		pf_fail "backtracking rule through Postfix" "$ms ms ($ms0 without the backtracking input, limit $lim), delivered: ${f:-no}; $(cut -f4,6 "$T/bt.tsv")"
	fi
	pf_vigil_stop 30
}
test_backtrack

pf_summary
