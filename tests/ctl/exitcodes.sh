#!/bin/sh
# exitcodes.sh - vigilctl as an admin scripts it (issue 19): what each
# command prints and the status it exits with, the way one relies on
# `spamassassin --lint`, `spamc -c`, `sa-learn` or `postqueue`:
# 0 ok, 1 the answer is "no" (lint found errors, a rule did not hit),
# 64 usage, 65 bad data (no such rule), 66 input missing, 69 daemon
# unreachable, 78 configuration.  No daemon, network or root needed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-ctl-test.XXXXXX)
pass=0
fail=0
trap 'rm -rf "$T"' EXIT INT TERM

ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
# run ARGS...: vigilctl with the test config; $rc, $T/out, $T/err.
run() {
	"$CTL" -c "$T/vigil.conf" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# status DESC WANT: the last run exited WANT.
status() {
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else
		bad "$1: exit $rc, want $2"; sed 's/^/#   /' "$T/out" "$T/err"; fi
}
# expect DESC PATTERN FILE: FILE has a line matching the extended regex.
expect() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else
		bad "$1 (no /$2/ in:)"; sed 's/^/#   /' "$3"; fi
}
# refute DESC PATTERN FILE: no line of FILE matches.
refute() {
	if grep -Eq -- "$2" "$3"; then
		bad "$1 (/$2/ in:)"; sed 's/^/#   /' "$3"; else ok "$1"; fi
}

mkdir "$T/q"
cat >"$T/vigil.conf" <<CONF
Checks		headers, rules
LogLevel	warn
RulesDir	$top_srcdir/rules
QuarantineDir	$T/q
ControlSocket	$T/control.sock
CONF
MSG=$top_srcdir/samples/messages/spam-headers.eml

# --- Inputs that do not exist are errors, not empty answers ---
run rules bench /nonexistent
status "rules bench /nonexistent" 66
expect "rules bench /nonexistent: says why" "/nonexistent.*No such file" "$T/err"
run rules list /nonexistent
status "rules list /nonexistent" 66
expect "rules list /nonexistent: says why" "/nonexistent.*No such file" "$T/err"
run rules list
status "rules list (RulesDir)" 0
expect "rules list: NAME TYPE SCORE" "^[A-Z_0-9]+ [a-z]+(-exists)? -?[0-9.]+$" "$T/out"

# --- rules lint is strict about typos, not about what vigil skips ---
mkdir "$T/lint"
cat >"$T/lint/typo.rules" <<'RULES'
bodyy    AUDIT_TYPO   /x/
body     AUDIT_OK     /audit-ok/
describe AUDIT_OK     a rule that is fine
score    AUDIT_OK     1.0
score    NOT_DEFINED  2.0
report_safe 1
RULES
run rules lint "$T/lint/typo.rules"
status "rules lint: a typo'd directive" 1
expect "lint: unknown directive, a hint" \
    "typo.rules:1:1: -: unknown directive 'bodyy' \(did you mean 'body'\?\)" "$T/out"
expect "lint: score for an undefined rule" \
    "typo.rules:5:1: NOT_DEFINED: score for a rule that is not defined" "$T/out"
expect "lint: SpamAssassin's own directive stays a warning" \
    "typo.rules:6:1: -: warning: unsupported directive 'report_safe'" "$T/out"
expect "lint: the count" "1 rules loaded, 0 skipped, 2 errors, 1 warnings; 1 lines of directives not read" "$T/out"
# The daemon's loading (here vigilctl's snapshot) stays lenient.
run -o "RulesDir=$T/lint" scan "$MSG"
status "scan with the typo'd set: the daemon would load it" 0
run rules list "$T/lint/typo.rules"
status "rules list: the typo'd set loads" 0
expect "rules list: the good rule" "^AUDIT_OK body 1$" "$T/out"
printf 'header \033[31mX\001 foo =~ /\377/\n\033]0;pwned\007 x\n' \
    >"$T/lint/esc.rules"
run rules lint "$T/lint/esc.rules"
status "rules lint: control bytes" 1
if LC_ALL=C grep -q "$(printf '[\001\007\033\377]')" "$T/out"; then
	bad "rules lint: raw control bytes on the terminal"; else
	ok "rules lint: no raw control bytes"; fi
expect "rules lint: bytes escaped" "unknown directive '\\\\x1b]0;pwned\\\\x07'" "$T/out"
printf 'body A /x/\n\000\000\001\002' >"$T/lint/binary.rules"
run rules lint "$T/lint/binary.rules"
status "rules lint: a binary file" 1
expect "rules lint: a binary file, said so" "not a rules file: NUL byte at offset 11" "$T/out"
# Eval functions vigil lacks: named with the rules each would bring.
mkdir "$T/evals"
cat >"$T/evals/e.rules" <<'RULES'
header E1 eval:no_such_fn()
body   E2 eval:no_such_fn('1')
header E3 eval:other_missing()
body   OK /x/
RULES
run rules lint "$T/evals/e.rules"
status "rules lint: rules needing missing eval functions are skipped, not errors" 0
expect "rules lint: missing eval functions, most rules first" \
    "^eval functions vigil lacks \\(rules each would bring\\): no_such_fn \\(2\\), other_missing \\(1\\)$" "$T/out"
expect "rules lint: those rules counted as skipped" "^1 rules loaded, 3 skipped" "$T/out"
# Rules lint does not load, each counted with its reason: those of a
# plugin vigil does not provide (by plugin), and those scored 0.
mkdir "$T/gated"
cat >"$T/gated/g.cf" <<'RULES'
ifplugin Mail::SpamAssassin::Plugin::VBounce
body   VB1 /bounce one/
header VB2 Subject =~ /bounce two/
if (version >= 3.004000)
body   VB3 /bounce three/
endif
endif
ifplugin Mail::SpamAssassin::Plugin::ImageInfo
body   II1 /image/
else
body   II2 /no image plugin/
endif
ifplugin Mail::SpamAssassin::Plugin::Pyzor
body   VB1 /defined twice, counted once/
endif
body   OFF /off/
score  OFF 0
body   ON  /on/
RULES
run rules lint "$T/gated/g.cf"
status "rules lint: rules of plugins not provided are not errors" 0
expect "rules lint: rules of plugins not provided, by plugin" \
    "^4 rules not loaded, in blocks of plugins vigil does not provide \\(ifplugin false\\): VBounce \\(3\\), ImageInfo \\(1\\)$" "$T/out"
expect "rules lint: the count says what was not loaded and why" \
    "^2 rules loaded, 0 skipped, 0 errors, 2 warnings; 1 scored 0 \\(off\\); 4 in blocks of plugins not provided$" "$T/out"
# SpamAssassin's own rules: what vigil skips are warnings; no typo found.
if [ -d /usr/share/spamassassin ]; then
	run rules lint --no-stress /usr/share/spamassassin
	refute "lint of SpamAssassin's rules: no unknown directive" \
	    "unknown directive" "$T/out"
	expect "lint of SpamAssassin's rules: its directives are warnings" \
	    "warning: unsupported directive 'report_safe'" "$T/out"
fi

# --- rules test with named rules: 1 when one did not hit, 65 unknown ---
run rules test "$MSG" NO_SUCH_RULE
status "rules test MSG NO_SUCH_RULE" 65
expect "rules test NO_SUCH_RULE: named" "no such rule: NO_SUCH_RULE" "$T/err"
hit=$("$CTL" -c "$T/vigil.conf" rules test --batch "$MSG" | awk '{ print $2 }')
if [ -n "$hit" ]; then
	run rules test "$MSG" "$hit"
	status "rules test MSG $hit (hits)" 0
else
	bad "rules test --batch: $MSG hits no rule"
fi
"$CTL" -c "$T/vigil.conf" rules test --batch "$MSG" | tr ' ' '\n' >"$T/hits"
miss=$("$CTL" -c "$T/vigil.conf" rules list | awk '{ print $1 }' |
    grep -v '^__' | grep -vxF -f "$T/hits" | head -n 1)
run rules test "$MSG" "$miss"
status "rules test MSG $miss (no hit)" 1

# --- Flags a command does not take are usage errors ---
for cmd in "stats --jsn" "stats --prometheus" "reload now" "config --bogus" \
    "bayes stats --json" "bayes frob" "rules lint --json" "rules list --json" \
    "rules bench --json" "rules test --json $MSG" \
    "-o BayesDir=$T/bayes bayes classify --json $MSG"; do
	# shellcheck disable=SC2086
	run $cmd
	status "$cmd" 64
	expect "$cmd: says what is wrong" \
	    "unexpected argument|unknown (command|option)" "$T/err"
done

run stats
status "stats, no daemon" 69
expect "stats, no daemon: names the socket" "control.sock.*is vigil running" "$T/err"
run stats --json
status "stats --json, no daemon" 69

# --- An empty quarantine is an empty list ---
run quarantine list
status "quarantine list (empty store)" 0
expect "quarantine list (empty store): header" "^ID +TIME" "$T/out"
refute "quarantine list (empty store): no error" "nothing quarantined" "$T/err"
run quarantine list --json
status "quarantine list --json (empty store)" 0

# --- A release is delivered once; a second one only with --force ---
# One entry, written as the milter writes it: the schema from
# filter/quarantine/quarantine.c, a row, the message file.
ID=0123456789abcdef0123456789abcdef
python3 - "$top_srcdir/filter/quarantine/quarantine.c" "$T/q/index.sqlite" "$ID" \
    "$MSG" "$T/q/$ID.eml" <<'PY' || bad "quarantine: cannot build the store"
import re, shutil, sqlite3, sys, time
src, db, qid, msg, dst = sys.argv[1:6]
text = open(src).read()
body = text.split("static const char schema[] =", 1)[1].split(";\n", 1)[0]
schema = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
con = sqlite3.connect(db)
con.executescript(schema)
con.execute("INSERT INTO entries (id, time, queue_id, client, sender, subject,"
    " score, reason, action, size) VALUES (?, ?, 'Q1', '192.0.2.9',"
    " 'prize@bad.example', 'You won', 12.5, 'spam', 'quarantine', 100)",
    (qid, int(time.time())))
con.execute("INSERT INTO rcpts (id, n, addr) VALUES (?, 0, 'alice@example.org')",
    (qid,))
con.commit()
shutil.copy(msg, dst)
PY
chmod 600 "$T/q/$ID.eml"
VIGIL_CAPTURE=$T/capture
export VIGIL_CAPTURE
REL="-o SendmailCommand=$top_srcdir/tests/data/quarantine/capture-sendmail"
# shellcheck disable=SC2086
run $REL quarantine list
expect "quarantine list: a RELEASED column" "^ID +TIME \(UTC\) +SCORE +REASON +RELEASED" "$T/out"
expect "quarantine list: not released yet" "^$ID .* spam +- +prize@bad.example" "$T/out"
# shellcheck disable=SC2086
run $REL quarantine release "$ID"
status "quarantine release" 0
expect "quarantine release: delivered" "alice@example.org" "$T/capture.args"
rm -f "$T/capture.args"
# shellcheck disable=SC2086
run $REL quarantine release "$ID"
status "quarantine release, second time" 1
expect "second release: refused, says when and how" \
    "$ID was already released at [0-9-]+ [0-9:]+ UTC; --force sends it again" "$T/err"
if [ -e "$T/capture.args" ]; then bad "second release: not delivered again"
else ok "second release: not delivered again"; fi
# shellcheck disable=SC2086
run $REL quarantine list
expect "quarantine list: released when" "^$ID .* spam +[0-9-]+ [0-9:]+ +prize" "$T/out"
# shellcheck disable=SC2086
run $REL quarantine release --force "$ID"
status "quarantine release --force" 0
expect "release --force: delivered again" "alice@example.org" "$T/capture.args"

rm -rf "$T/q"
run quarantine list
status "quarantine list (no QuarantineDir folder)" 1

# --- scan's plain output is for people: no JSON in it ---
if python3 "$top_srcdir/tests/av/gen_samples.py" "$T/av" >/dev/null; then
	AV="-o Checks=headers,av -o AVScan=yes -o DatabaseDirectory=$T/av/db"
	# shellcheck disable=SC2086
	run $AV scan "$MSG" "$T/av/msg/eicar-zip.eml"
	status "scan with AV" 0
	expect "scan: av, clean, in words" \
	    "^  av: result=clean; scanner=ClamAV [^;]+; path=[a-z]+; ms=[0-9.]+$" "$T/out"
	expect "scan: av, infected, the name" \
	    "^  av: result=infected; name=Vigil\.Test\.EICAR[^;]*; scanner=" "$T/out"
	refute "scan: no JSON in plain output" \
	    '^  [a-z_]+: (.*[{}"]|null$)' "$T/out"
	# shellcheck disable=SC2086
	run $AV scan --json "$MSG"
	expect "scan --json: av stays an object" '"av":\{"result":"clean"' "$T/out"
else
	bad "tests/av/gen_samples.py failed"
fi

# --- scan reads what bayes learn reads: folders, mbox, stdin ---
mkdir "$T/msgs"
cp "$top_srcdir/samples/messages/ham-plain.eml" "$MSG" "$T/msgs/"
for f in "$top_srcdir/samples/messages/ham-plain.eml" "$MSG"; do
	echo "From someone@example.org Sat Jan  1 00:00:00 2026"
	cat "$f"
	echo
done >"$T/two.mbox"
run -o Checks=headers scan "$T/msgs" "$T/two.mbox"
status "scan a folder and an mbox" 0
expect "scan a folder: its messages" "^$T/msgs/spam-headers.eml: " "$T/out"
expect "scan an mbox: its first message" "^$T/two.mbox#1: accept" "$T/out"
expect "scan an mbox: its second message" "^$T/two.mbox#2: " "$T/out"
run -o Checks=headers scan /nonexistent "$MSG"
status "scan a missing file" 66
expect "scan a missing file: named" "vigilctl scan: /nonexistent: No such file" "$T/err"
expect "scan a missing file: the others scanned" "spam-headers.eml: " "$T/out"
"$CTL" -c "$T/vigil.conf" -o Checks=headers scan - <"$MSG" >"$T/out" 2>&1
expect "scan -: stdin" "^-: " "$T/out"

# --- Help: --help everywhere, -h where it means nothing else; stdout, 0 ---
for cmd in "--help" "-h" "scan --help" "scan -h" "rules --help" "rules -h" \
    "rules lint --help" "rules test --help" "quarantine --help" \
    "quarantine list --help" "quarantine -h" "bayes --help" "bayes -h" \
    "bayes learn --help" "stats --help" "reload --help" "config --help"; do
	# shellcheck disable=SC2086
	run $cmd
	status "vigilctl $cmd" 0
	expect "vigilctl $cmd: usage on stdout" "^usage: vigilctl" "$T/out"
	if [ -s "$T/err" ]; then bad "vigilctl $cmd: quiet on stderr";
	else ok "vigilctl $cmd: quiet on stderr"; fi
done
run -h
expect "-h lists rules list" "rules .*list \[PATH" "$T/out"
expect "-h lists rules test --batch" "test --batch" "$T/out"
expect "-h lists the exit codes" "exit status: 0 ok" "$T/out"
run --version
status "vigilctl --version" 0
run --bogus
status "vigilctl --bogus" 64
run scan --bogus "$MSG"
status "scan --bogus" 64

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
