#!/bin/sh
# quarantine.sh - the quarantine's deleted state and the running daemon's
# quarantine found over its control socket (issue 19, item 5):
#
#   1. `quarantine delete` keeps the entry, listed as deleted (when, by
#      whom); list --state deleted|held|released filters by it; show says
#      so; release refuses it (65) and sends nothing; a second delete is
#      refused; digests leave it out; purge removes deleted rows for
#      good; stats count them;
#   2. an index from before the deleted state (schema version 2) is
#      upgraded by `vigilctl db upgrade` and its entries still list;
#   3. vigil started with -o QuarantineDir=X: a plain `vigilctl -c conf
#      quarantine list|show` and `vigilctl stats` find X's entries and
#      counts by asking the daemon; once it is stopped, vigilctl reads
#      its own configuration again.
# A real vigil daemon on a private socket; no network, root or MTA.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
VIGIL=$top_builddir/filter/vigil
T=$(mktemp -d /tmp/vigil-ctl-quarantine.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"
# run ARGS...: vigilctl with the test config; $rc, $T/out, $T/err.
run() {
	"$CTL" -c "$T/vigil.conf" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
status() {
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else
		bad "$1: exit $rc, want $2"; sed 's/^/#   /' "$T/out" "$T/err"; fi
}

mkdir "$T/q" "$T/run"
cat >"$T/vigil.conf" <<CONF
Checks		headers, rules
LogLevel	warn
RulesDir	$top_srcdir/rules
QuarantineDir	$T/q
ControlSocket	$T/run/control.sock
CONF
MSG=$top_srcdir/samples/messages/spam-headers.eml
HAM=$top_srcdir/samples/messages/ham-plain.eml
VIGIL_CAPTURE=$T/capture
export VIGIL_CAPTURE
REL="-o SendmailCommand=$top_srcdir/tests/data/quarantine/capture-sendmail"

# --- 1. deleted: the row stays, listed as such ---
run quarantine add --rcpt carol@example.org --from prize@bad.example \
    "$MSG" "$HAM" "$MSG"
status "quarantine add, three entries" 0
set -- $(sed -n 's/^added .* as \([0-9a-f]\{32\}\) .*/\1/p' "$T/out")
A=${1:-}; B=${2:-}; C=${3:-}
[ -n "$C" ] && ok "three ids" || bad "three ids: $*"
run quarantine delete "$(echo "$A" | cut -c1-8)"
status "quarantine delete (a prefix)" 0
expect "delete: says which" "^deleted $A$" "$T/out"
[ ! -e "$T/q/$A.eml" ] && ok "delete: the message file is gone" ||
    bad "delete: $T/q/$A.eml still there"
run quarantine list
status "quarantine list" 0
expect "list: a STATE column" "^ID +TIME \(UTC\) .* SUBJECT +STATE$" "$T/out"
expect "list: the deleted entry is listed as deleted" "^$A .* deleted$" "$T/out"
expect "list: the others are held" "^$B .* held$" "$T/out"
run quarantine list --state deleted
status "list --state deleted" 0
expect "--state deleted: that entry" "^$A " "$T/out"
refute "--state deleted: not the held ones" "^($B|$C) " "$T/out"
run quarantine list --state held
expect "--state held: the held ones" "^$C " "$T/out"
refute "--state held: not the deleted one" "^$A " "$T/out"
run quarantine list --json
expect "list --json: state and who deleted it" \
    "\"id\":\"$A\".*\"state\":\"deleted\",\"deleted\":[1-9][0-9]*,\"deleted_by\":\"vigilctl \(user [^)]+\)\"" \
    "$T/out"
expect "list --json: a held one says held" "\"id\":\"$B\".*\"state\":\"held\"" "$T/out"
run quarantine show "$A"
status "show a deleted entry" 0
expect "show: when and by whom it was deleted" \
    "^Deleted: +[0-9-]+ [0-9:]+ UTC by vigilctl \(user [^)]+\) \(the message is gone\)$" "$T/out"
rm -f "$T/capture.args"
# shellcheck disable=SC2086
run $REL quarantine release --again "$A"
status "release of a deleted entry, even with --again" 65
expect "release of a deleted entry: says why" \
    "$A was deleted at [0-9-]+ [0-9:]+ UTC by vigilctl .*; its message is gone" "$T/err"
[ ! -e "$T/capture.args" ] && ok "release of a deleted entry: nothing sent" ||
    bad "release of a deleted entry: sendmail was run"
run quarantine delete "$A"
status "delete twice" 1
expect "delete twice: says so" "already deleted" "$T/err"
# The digest (like the web pages) never shows a deleted entry.
run digest --rcpt carol@example.org
status "digest" 0
expect "digest: the two held ones" "^Subject: Quarantined mail for you \(2\)$" "$T/out"
expect "digest: a held one's link" "id=$B&" "$T/out"
refute "digest: not the deleted one" "id=$A&" "$T/out"
run stats
expect "stats (no daemon): the deleted count" "deleted +1$|quarantine\.deleted 1$" "$T/out"
expect "stats (no daemon): what is still there" "entries +2$|quarantine\.entries 2$" "$T/out"
# Purge removes rows for good, deleted ones too.
python3 - "$T/q/index.sqlite" "$A" <<'PY'
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
con.execute("UPDATE entries SET time = ? WHERE id = ?",
    (int(time.time()) - 7200, sys.argv[2]))
con.commit()
PY
run quarantine purge --older-than 1h --dry-run
expect "purge --dry-run: the deleted entry" "^would purge $A " "$T/out"
run quarantine purge --older-than 1h
expect "purge: the deleted entry's row" "^purged 1 entries" "$T/out"
run quarantine list --state deleted
refute "purge: the deleted row is gone for good" "^$A " "$T/out"

# --- 2. an index made before the deleted state ---
mkdir "$T/old"
python3 - "$T/old/index.sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.executescript("""
CREATE TABLE entries (id TEXT PRIMARY KEY, time INTEGER NOT NULL,
 queue_id TEXT, client TEXT, sender TEXT, subject TEXT, score REAL,
 reason TEXT, action TEXT, size INTEGER,
 released INTEGER NOT NULL DEFAULT 0, versions TEXT);
CREATE INDEX entries_time ON entries(time);
CREATE TABLE rcpts (id TEXT NOT NULL REFERENCES entries(id)
 ON DELETE CASCADE, n INTEGER NOT NULL, addr TEXT NOT NULL);
CREATE TABLE hits (id TEXT NOT NULL REFERENCES entries(id)
 ON DELETE CASCADE, n INTEGER NOT NULL, name TEXT NOT NULL, score REAL,
 detail TEXT);
CREATE TABLE tokens (nonce TEXT PRIMARY KEY, id TEXT NOT NULL,
 issued INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE false_positives (rule TEXT PRIMARY KEY, count INTEGER NOT NULL);
INSERT INTO entries (id, time, queue_id, client, sender, subject, score,
 reason, action, size) VALUES ('abcdef0123456789abcdef0123456789',
 strftime('%s', 'now'), 'Q1', '192.0.2.9', 'old@bad.example', 'Old',
 9.5, 'spam', 'quarantine', 10);
INSERT INTO rcpts VALUES ('abcdef0123456789abcdef0123456789', 0,
 'dave@example.org');
PRAGMA user_version = 2;
""")
con.commit()
PY
printf 'Subject: Old\n\nold\n' >"$T/old/abcdef0123456789abcdef0123456789.eml"
run -o "QuarantineDir=$T/old" db upgrade
status "db upgrade of a version 2 index" 0
expect "db upgrade: 2 -> 3" "^schema version 2 -> 3$" "$T/out"
run -o "QuarantineDir=$T/old" quarantine list
expect "upgraded index: its entry lists as held" "^abcdef0123456789abcdef0123456789 .* held$" "$T/out"
run -o "QuarantineDir=$T/old" quarantine delete abcdef01
status "upgraded index: delete" 0
run -o "QuarantineDir=$T/old" quarantine list --state deleted
expect "upgraded index: listed as deleted" "^abcdef0123456789abcdef0123456789 " "$T/out"

# --- 3. the daemon's quarantine, found over its control socket ---
mkdir "$T/qd"
run -o "QuarantineDir=$T/qd" quarantine add --rcpt erin@example.org \
    --from prize@bad.example "$MSG" "$MSG" "$HAM"
set -- $(sed -n 's/^added .* as \([0-9a-f]\{32\}\) .*/\1/p' "$T/out")
D1=${1:-}; D2=${2:-}
# Three, where vigilctl's own folder holds two: the counts differ.
[ -n "${3:-}" ] && ok "three entries in the daemon's folder" ||
    bad "staging: $*"
"$VIGIL" -f -c "$T/vigil.conf" -p "unix:$T/run/vigil.sock" \
    -o "QuarantineDir=$T/qd" >"$T/log" 2>&1 &
pid=$!
i=0
while [ ! -S "$T/run/control.sock" ] && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$T/run/control.sock" ] && ok "vigil -o QuarantineDir=... started" ||
    { bad "vigil did not start"; sed 's/^/#   /' "$T/log"; }
run quarantine list
status "plain quarantine list, daemon running" 0
expect "list: the daemon's entries" "^$D1 " "$T/out"
expect "list: the others too" "^$D2 " "$T/out"
refute "list: not vigilctl's own folder's" "^($B|$C) " "$T/out"
run quarantine show "$(echo "$D2" | cut -c1-8)"
status "plain quarantine show, daemon running" 0
expect "show: the daemon's entry" "^Id: +$D2$" "$T/out"
run stats --json
status "plain stats --json, daemon running" 0
expect "stats: the daemon's quarantine count" '"quarantine\.entries": 3,?$' "$T/out"
run stats
expect "stats: one quarantine section" "entries +3$|quarantine\.entries 3$" "$T/out"
n=$(grep -Ec 'entries +[0-9]+$|quarantine\.entries [0-9]+$' "$T/out")
[ "$n" -eq 1 ] && ok "stats: counted once" || bad "stats: $n entries lines"
run quarantine delete "$D1"
status "delete in the daemon's store" 0
[ ! -e "$T/qd/$D1.eml" ] && ok "delete: the daemon's file went" ||
    bad "delete: $T/qd/$D1.eml still there"
# vigilctl's own -o still wins over the daemon's.
run -o "QuarantineDir=$T/q" quarantine list
expect "-o QuarantineDir wins over the daemon's" "^$B " "$T/out"
refute "-o QuarantineDir: not the daemon's" "^$D2 " "$T/out"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
run quarantine list
expect "daemon stopped: vigilctl's own configuration again" "^$B " "$T/out"
refute "daemon stopped: not the daemon's folder" "^$D2 " "$T/out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
