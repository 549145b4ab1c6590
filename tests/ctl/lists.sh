#!/bin/sh
# lists.sh - vigilctl allow|block add|del|list (issue 19 item 6): the
# entries kept in ListsFile, the file's mode and atomic rewrite, expiry
# marked by list, scan naming the entry that decided (with its comment),
# and the exit status of each mistake: 64 usage, 65 a bad value, 1 del
# of an entry that is not there or a file that cannot be written, 78 an unreadable or malformed file.
# No daemon, network or root needed (tests/postfix/lists.sh runs the
# daemon).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-lists-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"
run() {
	"$CTL" -c "$T/vigil.conf" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
status() {
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else
		bad "$1: exit $rc, want $2"; sed 's/^/#   /' "$T/out" "$T/err"; fi
}

cat >"$T/vigil.conf" <<CONF
Checks		policy, headers
LogLevel	warn
ListsFile	$T/lists
QuarantineDir	$T/q
ControlSocket	$T/control.sock
TrustedNetworks	127.0.0.1/32
CONF
HAM=$top_srcdir/samples/messages/ham-plain.eml

# --- Nothing yet: an empty list, no file made by reading ---
run block list
status "block list, no file" 0
[ -s "$T/out" ] && bad "block list, no file: prints nothing" || ok "block list, no file: prints nothing"
[ -e "$T/lists" ] && bad "list makes no file" || ok "list makes no file"

# --- add: normalised, mode 0644, the daemon not running is said ---
umask 077
run block add sender Spam@Bad.Example --comment "bought list" --expires 30d
status "block add sender" 0
expect "block add: says what" "^added to block sender spam@bad.example$" "$T/out"
expect "block add: no daemon, says so" "not running" "$T/out"
mode=$(stat -c %a "$T/lists")
[ "$mode" = 644 ] && ok "new ListsFile mode 644 (umask 077)" || bad "new ListsFile mode $mode, want 644"
umask 022
run block add domain Junk.Example
status "block add domain" 0
run allow add client 192.0.2.0/24 --comment office
status "allow add client" 0
run allow add sender @partner.example
status "allow add sender @domain" 0

run block list
status "block list" 0
expect "block list: the sender with expiry and comment" \
    "^sender +spam@bad.example +live +20[0-9-]+T[0-9:]+Z +20[0-9-]+T[0-9:]+Z +bought list$" "$T/out"
expect "block list: the domain, never expires" "^domain +junk.example +live +never " "$T/out"
refute "block list: no allow entries" "192.0.2.0|partner" "$T/out"
run allow list client
status "allow list client" 0
expect "allow list client: the client" "^client +192.0.2.0/24 +live +never .* office$" "$T/out"
refute "allow list client: only clients" "partner" "$T/out"

run block list --json
status "block list --json" 0
if python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
s = [e for e in v if e["value"] == "spam@bad.example"][0]
assert len(v) == 2 and all(e["list"] == "block" for e in v)
assert s["kind"] == "sender" and s["state"] == "live"
assert s["comment"] == "bought list" and s["expires"].endswith("Z")
d = [e for e in v if e["kind"] == "domain"][0]
assert d["expires"] is None and d["comment"] == ""
' "$T/out"; then ok "block list --json: the entries as JSON"
else bad "block list --json"; sed 's/^/#   /' "$T/out"; fi
run block add --json sender x@y.example
status "block add --json" 64

# --- The same entry again updates it; the file is replaced whole ---
ino=$(stat -c %i "$T/lists")
chmod 640 "$T/lists"
run block add sender spam@bad.example --comment "still bought"
status "block add again" 0
expect "block add again: updated" "^updated in block sender spam@bad.example$" "$T/out"
[ "$(stat -c %i "$T/lists")" != "$ino" ] && ok "rewrite: a new file renamed over" || bad "rewrite: same inode"
[ "$(stat -c %a "$T/lists")" = 640 ] && ok "rewrite keeps the mode" || bad "rewrite: mode $(stat -c %a "$T/lists"), want 640"
[ "$(grep -c 'spam@bad.example' "$T/lists")" = 1 ] && ok "one line per entry" || bad "spam@bad.example twice"
ls "$T" | grep -q tmp && bad "temporary file left" || ok "no temporary file left"
# A symlink in its place lends nothing and its target is left alone.
printf '# secret\n' >"$T/target"
chmod 600 "$T/target"
cp "$T/lists" "$T/lists.saved"
ln -sf "$T/target" "$T/lists"
run block add domain other.example
status "block add over a symlink" 0
[ -L "$T/lists" ] && bad "symlink replaced by a file" || ok "symlink replaced by a file"
[ "$(stat -c %a "$T/lists")" = 644 ] && ok "symlink: the new file is 0644" || bad "symlink: mode $(stat -c %a "$T/lists")"
[ "$(cat "$T/target")" = "# secret" ] && [ "$(stat -c %a "$T/target")" = 600 ] &&
    ok "symlink: its target untouched" || bad "symlink: its target changed"
cp "$T/lists.saved" "$T/lists"
chmod 640 "$T/lists"
run block list sender
expect "updated: new comment, never expires" "^sender +spam@bad.example +live +never .* still bought$" "$T/out"

# --- scan names the entry that decided, with its comment ---
run scan --from spam@bad.example --ip 203.0.113.9 "$HAM"
status "scan blocked sender" 0
expect "scan: rejected" "reject" "$T/out"
expect "scan: the entry and its comment" \
    "POLICY_BLOCK_SENDER +sender <spam@bad.example> matches block sender spam@bad.example in ListsFile \"still bought\"" "$T/out"
run scan --explain --from x@mx.junk.example --ip 203.0.113.9 "$HAM"
expect "scan --explain: domain covers subdomains" \
    "POLICY_BLOCK_SENDER .* matches block domain junk.example in ListsFile" "$T/out"
run scan --from x@notjunk.example --ip 203.0.113.9 "$HAM"
refute "scan: a longer domain is not a subdomain" "POLICY_BLOCK" "$T/out"
run scan --from a@partner.example --ip 192.0.2.44 "$HAM"
expect "scan: allowed client" "POLICY_ALLOW_CLIENT +client 192.0.2.44 matches allow client 192.0.2.0/24 in ListsFile \"office\"" "$T/out"
expect "scan: allowed @domain sender" "POLICY_ALLOW_SENDER .*allow sender @partner.example" "$T/out"

# --- Expiry: list marks it, scan stops applying it ---
run block add client 198.51.100.9 --expires 1s --comment brief
status "block add --expires 1s" 0
n=0
while :; do
	run block list client
	grep -Eq "198.51.100.9 +expired" "$T/out" && break
	n=$((n + 1)); [ $n -ge 50 ] && break
	sleep 0.1
done
expect "list marks the expired entry" "^client +198.51.100.9 +expired " "$T/out"
run scan --from a@example.org --ip 198.51.100.9 "$HAM"
refute "scan: an expired entry does not apply" "POLICY_BLOCK_CLIENT" "$T/out"

# --- del ---
run block del domain junk.example
status "block del domain" 0
expect "del: says what" "^removed from block domain junk.example$" "$T/out"
refute "del: gone from the file" "junk.example" "$T/lists"
run block del domain junk.example
status "block del of an absent entry" 1
expect "del absent: says so on stderr" "no domain junk.example" "$T/err"
run allow del sender spam@bad.example
status "allow del of a block entry" 1

# --- Mistakes ---
run block
status "block alone" 64
run block frob sender a@b.example
status "block frob" 64
run block add
status "block add, no kind" 64
run block add user a@b.example
status "block add user (no such kind)" 64
run block add sender
status "block add sender, no value" 64
run block add sender a@b.example extra
status "block add, extra argument" 64
run block add sender a@b.example --bogus
status "block add --bogus" 64
run block del sender spam@bad.example --comment x
status "block del --comment" 64
run block list sender extra
status "block list, extra argument" 64
run block add client 300.1.2.3
status "block add client 300.1.2.3" 65
expect "bad client: says why" "not an IP address or CIDR block" "$T/err"
run block add sender nobody
status "block add sender nobody" 65
run block add domain @bad.example
status "block add domain @bad.example" 65
run block add sender a@b.example --expires soon
status "block add --expires soon" 65
run block add sender a@b.example --comment "$(printf 'two\nlines')"
status "block add --comment with a line break" 65
refute "refused adds leave the file alone" "a@b.example|nobody|300.1.2.3" "$T/lists"
[ -s "$T/out" ] && bad "errors print nothing on stdout" || ok "errors print nothing on stdout"

# --- A malformed or unwritable file ---
cp "$T/lists" "$T/lists.good"
printf 'block\tsender\n' >>"$T/lists"
run block list
status "malformed ListsFile" 78
expect "malformed: file and line" "lists:[0-9]+: want LIST KIND" "$T/err"
run scan --from a@b.example "$HAM"
status "scan refuses a malformed ListsFile" 78
cp "$T/lists.good" "$T/lists"
run -o ListsFile="$T/nodir/lists" block add sender a@b.example
status "ListsFile in a missing folder" 1
expect "missing folder: says why" "No such file" "$T/err"
run help block
status "help block" 0
expect "help block: the forms" "block add sender\|client\|domain VALUE" "$T/out"
run allow --help
status "allow --help" 0

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
