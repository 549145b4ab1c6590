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
trap 'rm -rf "$T"' EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"
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

mkdir "$T/q"
cat >"$T/vigil.conf" <<CONF
Checks		headers, rules
LogLevel	warn
RulesDir	$top_srcdir/rules
QuarantineDir	$T/q
ControlSocket	$T/control.sock
CONF
MSG=$top_srcdir/samples/messages/spam-headers.eml
HAM=$top_srcdir/samples/messages/ham-plain.eml

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
# What makes a rule not do what its author meant is an error too.
mkdir "$T/strict"
cat >"$T/strict/a.rules" <<'RULES'
body     DUP_RULE      /dup one/
body     DUP_RULE      /dup two/
score    DUP_RULE      1.0
meta     META_NOTHING  (NO_SUCH_SUB && OTHER_MISSING)
score    META_NOTHING  1.0
body     SLOW_RE       /(a+)+$/
score    SLOW_RE       1.0
body     HUGE          /huge/
score    HUGE          1e6
RULES
printf 'body LATIN1 /caf\351/\nscore LATIN1 1.0\n' >"$T/strict/b.rules"
run rules lint "$T/strict"
status "rules lint: strict findings" 1
expect "lint: a duplicate name is an error" \
    "a.rules:2:1: DUP_RULE: duplicate name: replaces the rule at" "$T/out"
expect "lint: a meta naming nothing is an error" \
    "a.rules:4:[0-9]+: META_NOTHING: meta names unknown rule NO_SUCH_SUB" "$T/out"
expect "lint: a regex failing the stress test is an error" \
    "a.rules:6:[0-9]+: SLOW_RE: regex reaches the match limit" "$T/out"
expect "lint: an unbounded score is an error" \
    "a.rules:9:1: HUGE: score: '1e6' is outside \[-1000, 1000\]" "$T/out"
expect "lint: a non-UTF-8 file is an error" \
    "b.rules:1:17: -: not UTF-8: byte \\\\xe9" "$T/out"
expect "lint: strict findings counted" "^5 rules loaded, 0 skipped, 6 errors, 1 warnings$" "$T/out"
run rules lint --warn-only "$T/strict"
status "rules lint --warn-only" 0
expect "lint --warn-only: shown as warnings" \
    "DUP_RULE: warning: duplicate name" "$T/out"
expect "lint --warn-only: the summary stays, says so" \
    "0 errors, 7 warnings; --warn-only: 6 errors shown as warnings$" "$T/out"
run rules lint --warn-only --no-stress "$T/lint/typo.rules"
status "rules lint --warn-only --no-stress, a typo" 0
# tflags and describe for a rule no file defines are errors, as a score
# is; not for a rule of a block that is off, nor for a skipped one.
mkdir "$T/orphan"
cat >"$T/orphan/o.rules" <<'RULES'
body     OA_RULE    /orphan attr/
score    OA_RULE    1.0
tflags   OA_RULEE   nice
describe OA_GONE    a rule removed, its text left
ifplugin Mail::SpamAssassin::Plugin::NoSuchPlugin
body     OA_GATED   /gated/
endif
tflags   OA_GATED   multiple
describe OA_GATED   a rule of a plugin not provided
header   OA_SKIP    eval:no_such_fn()
tflags   OA_SKIP    net
describe OA_SKIP    a rule needing an eval vigil lacks
RULES
run rules lint "$T/orphan/o.rules"
status "rules lint: tflags, describe for undefined rules" 1
expect "lint: tflags for an undefined rule" \
    "o.rules:3:1: OA_RULEE: tflags for a rule that is not defined" "$T/out"
expect "lint: describe for an undefined rule" \
    "o.rules:4:1: OA_GONE: describe for a rule that is not defined" "$T/out"
refute "lint: attributes of gated or skipped rules are not errors" \
    "OA_(GATED|SKIP): [a-z]+ for a rule" "$T/out"
expect "lint: orphan attributes counted" "^1 rules loaded, 1 skipped, 2 errors" "$T/out"
run rules lint --warn-only "$T/orphan/o.rules"
status "rules lint --warn-only: orphan attributes" 0
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
ifplugin Mail::SpamAssassin::Plugin::DCC
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
    "^4 rules not loaded, in blocks of plugins vigil does not provide \\(ifplugin false\\): DCC \\(3\\), ImageInfo \\(1\\)$" "$T/out"
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
# A second, older entry shares the first four digits of the id.
ID=0123456789abcdef0123456789abcdef
ID2=0123ffffffffffff0123456789abcdef
python3 - "$top_srcdir/filter/quarantine/quarantine.c" "$T/q/index.sqlite" "$ID" \
    "$MSG" "$T/q/$ID.eml" "$ID2" "$T/q/$ID2.eml" <<'PY' || bad "quarantine: no store"
import re, shutil, sqlite3, sys, time
src, db, qid, msg, dst, qid2, dst2 = sys.argv[1:8]
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
con.execute("INSERT INTO entries (id, time, queue_id, client, sender, subject,"
    " score, reason, action, size) VALUES (?, ?, 'Q2', '192.0.2.9',"
    " 'old@bad.example', 'Old news', 9.5, 'spam', 'quarantine', 100)",
    (qid2, int(time.time()) - 7200))
con.execute("INSERT INTO rcpts (id, n, addr) VALUES (?, 0, 'bob@example.org')",
    (qid2,))
con.commit()
shutil.copy(msg, dst)
shutil.copy(msg, dst2)
PY
chmod 600 "$T/q/$ID.eml" "$T/q/$ID2.eml"
VIGIL_CAPTURE=$T/capture
export VIGIL_CAPTURE
REL="-o SendmailCommand=$top_srcdir/tests/data/quarantine/capture-sendmail"
# shellcheck disable=SC2086
run $REL quarantine list
expect "quarantine list: a RELEASED column" "^ID +TIME \(UTC\) +SCORE +REASON +RELEASED" "$T/out"
expect "quarantine list: not released yet" "^$ID .* spam +- +prize@bad.example" "$T/out"
# Ids as git takes hashes: a unique prefix of 4 or more digits.
run quarantine show 0123
status "quarantine show, an ambiguous prefix" 1
expect "an ambiguous prefix: both candidates named" \
    "prefix 0123 is ambiguous; it starts ($ID|$ID2)" "$T/err"
expect "an ambiguous prefix: the other one too" "^  and ($ID|$ID2)$" "$T/err"
run quarantine show 01234
status "quarantine show, a unique prefix" 0
expect "quarantine show 01234: that entry" "$ID" "$T/out"
run quarantine show 012
status "quarantine show, a prefix too short" 1
expect "a prefix too short: says so" "4 or more of its hex digits" "$T/err"
run quarantine show abcd
status "quarantine show, a prefix of nothing" 1
expect "a prefix of nothing: says so" "no quarantine entry abcd\.\.\." "$T/err"
# shellcheck disable=SC2086
run $REL quarantine release 01234567
status "quarantine release" 0
expect "quarantine release: delivered" "alice@example.org" "$T/capture.args"
rm -f "$T/capture.args"
# shellcheck disable=SC2086
run $REL quarantine release "$ID"
status "quarantine release, second time" 1
expect "second release: refused, says when and how" \
    "$ID was already released at [0-9-]+ [0-9:]+ UTC; --again sends it again" "$T/err"
if [ -e "$T/capture.args" ]; then bad "second release: not delivered again"
else ok "second release: not delivered again"; fi
# shellcheck disable=SC2086
run $REL quarantine list
expect "quarantine list: released when" "^$ID .* spam +[0-9-]+ [0-9:]+ +prize" "$T/out"
# shellcheck disable=SC2086
run $REL quarantine release --force "$ID"
status "quarantine release --force" 0
expect "release --force: delivered again" "alice@example.org" "$T/capture.args"
rm -f "$T/capture.args"
# shellcheck disable=SC2086
run $REL quarantine release --again 01234567
status "quarantine release --again" 0
expect "release --again: delivered again" "alice@example.org" "$T/capture.args"

# --- purge --dry-run says what would go and removes nothing ---
run quarantine purge --older-than 1h --dry-run
status "quarantine purge --dry-run" 0
expect "purge --dry-run: the old entry" "^would purge $ID2 " "$T/out"
refute "purge --dry-run: not the new one" "$ID" "$T/out"
expect "purge --dry-run: the count" "^would purge 1 entries \(dry run" "$T/out"
run quarantine list
expect "purge --dry-run: the old entry is still there" "^$ID2 " "$T/out"
run quarantine purge --older-than 1h
status "quarantine purge" 0
expect "quarantine purge: the count" "^purged 1 entries" "$T/out"
run quarantine list
refute "quarantine purge: the old entry is gone" "^$ID2 " "$T/out"
expect "quarantine purge: the new entry stays" "^$ID " "$T/out"

# --- quarantine add: a store staged offline, as the milter fills it ---
Q2="-o QuarantineDir=$T/q2 -o Checks=headers,rules"
# shellcheck disable=SC2086
run $Q2 quarantine add --rcpt carol@example.org --from prize@bad.example \
    "$MSG" "$HAM"
status "quarantine add" 0
expect "quarantine add: the spam, its id, score and reason" \
    "^added $MSG as [0-9a-f]{32} \(score [0-9.]+, spam\)$" "$T/out"
expect "quarantine add: the ham too (whatever the verdict)" \
    "^added $HAM as [0-9a-f]{32} \(score 0\.0, clean\)$" "$T/out"
qid=$(sed -n "s|^added $MSG as \([0-9a-f]*\) .*|\1|p" "$T/out")
hid=$(sed -n "s|^added $HAM as \([0-9a-f]*\) .*|\1|p" "$T/out")
# shellcheck disable=SC2086
run $Q2 quarantine list
expect "quarantine add: listed with its envelope" \
    "^$qid .* spam +- +prize@bad\.example +carol@example\.org" "$T/out"
if [ -f "$T/q2/$qid.eml" ]; then ok "quarantine add: the message file"
else bad "quarantine add: no $T/q2/$qid.eml"; fi
rm -f "$T/capture.args"
# shellcheck disable=SC2086
run $Q2 $REL quarantine release "$(echo "$qid" | cut -c1-8)"
status "quarantine add, then release" 0
expect "an added entry is released to its recipients" "carol@example.org" \
    "$T/capture.args"
# The one released, the other held: list filters by state.
# shellcheck disable=SC2086
run $Q2 quarantine list --state released
status "quarantine list --state released" 0
expect "--state released: the released entry" "^$qid " "$T/out"
refute "--state released: not the held one" "^$hid " "$T/out"
# shellcheck disable=SC2086
run $Q2 quarantine list --state held
expect "--state held: the held entry" "^$hid .* +- +prize@bad" "$T/out"
refute "--state held: not the released one" "^$qid " "$T/out"
# shellcheck disable=SC2086
run $Q2 quarantine list --state held --json
if [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q "\"id\":\"$hid\"" "$T/out"
then ok "--state held --json: that one object"
else bad "--state held --json: not just $hid"; sed 's/^/#   /' "$T/out"; fi
# shellcheck disable=SC2086
run $Q2 quarantine list --state released --json
expect "--state released --json: released time" \
    "^\{\"id\":\"$qid\".*\"released\":[1-9][0-9]*" "$T/out"
# shellcheck disable=SC2086
run $Q2 quarantine list --state gone
status "quarantine list --state gone" 64
: >"$T/empty-add.eml"
# shellcheck disable=SC2086
run $Q2 quarantine add --rcpt carol@example.org "$T/empty-add.eml"
status "quarantine add, an empty file" 65
expect "quarantine add, an empty file: not added" \
    "empty-add.eml: not mail: empty; not added" "$T/err"
# shellcheck disable=SC2086
run $Q2 quarantine add "$MSG"
status "quarantine add without --rcpt" 64
# shellcheck disable=SC2086
run $Q2 quarantine add --rcpt carol@example.org /nonexistent
status "quarantine add, a missing file" 66
# shellcheck disable=SC2086
run $Q2 quarantine list
if [ "$(grep -c '^[0-9a-f]\{32\} ' "$T/out")" -eq 2 ]; then
	ok "quarantine add: two entries, no more"
else bad "quarantine add: $(grep -c '^[0-9a-f]\{32\} ' "$T/out") entries, want 2"; fi

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
# rules test reads them the same way.
run rules test --batch "$T/msgs" "$T/two.mbox"
status "rules test --batch a folder and an mbox" 0
expect "rules test --batch a folder: its messages" \
    "^$T/msgs/spam-headers.eml: .*DEAR_FRIEND" "$T/out"
expect "rules test --batch an mbox: its second message" \
    "^$T/two.mbox#2: .*DEAR_FRIEND" "$T/out"
expect "rules test --batch an mbox: its first message" "^$T/two.mbox#1:" "$T/out"
"$CTL" -c "$T/vigil.conf" rules test - DEAR_FRIEND <"$MSG" >"$T/out" 2>"$T/err"
rc=$?
status "rules test - RULE: stdin" 0
expect "rules test -: stdin" "^-: [0-9]+ rules hit" "$T/out"
run rules test /nonexistent DEAR_FRIEND
status "rules test a missing file" 66
expect "rules test a missing file: named" "/nonexistent: No such file" "$T/err"

# --- scan --check answers as spamc -c does: 1 for spam, 0 for ham ---
run -o Checks=headers,rules scan --check "$MSG"
status "scan --check, spam" 1
expect "scan --check: score/required and the action" \
    "^$MSG: [0-9.]+/5\.0 (tag|quarantine|reject)$" "$T/out"
run -o Checks=headers,rules scan --check "$HAM"
status "scan --check, ham" 0
expect "scan --check, ham: accept" "^$HAM: [0-9.]+/5\.0 accept$" "$T/out"
run -o Checks=headers,rules scan --check "$HAM" "$MSG"
status "scan --check, ham and spam" 1
run -o Checks=headers,rules scan "$MSG"
status "scan without --check, spam" 0
run scan --check --json "$MSG"
status "scan --check --json" 64

# --- scan --headers (-t): the message as delivered, as spamassassin -t ---
{ printf 'X-Spam-Status: No, score=-100\nX-Spam-Flag: NO\nX-Virus-Scanned: clean\n'
  cat "$MSG"; } >"$T/forged.eml"
run -o Checks=headers,rules -o "RewriteSubject=[SPAM] %s" -o RejectScore=0 -o QuarantineScore=0 \
    scan -t "$T/forged.eml"
status "scan -t" 0
for h in "X-Spam-Status: No" "X-Spam-Flag: NO" "X-Virus-Scanned"; do
	refute "scan -t: the sender's $h removed" "^$h" "$T/out"
done
expect "scan -t: X-Spam-Flag" "^X-Spam-Flag: YES$" "$T/out"
expect "scan -t: X-Spam-Score" "^X-Spam-Score: [0-9]+\.[0-9]$" "$T/out"
expect "scan -t: X-Spam-Status, SpamAssassin's form" \
    "^X-Spam-Status: Yes, score=[0-9.]+ required=5\.0 .*tests=.*DEAR_FRIEND" "$T/out"
expect "scan -t: the subject rewritten" \
    "^Subject: \[SPAM\] YOU HAVE WON" "$T/out"
expect "scan -t: the body" "^<a href=\"http://claim-prize" "$T/out"
# Our headers close the header: after the message's own, before the body.
awk '/^$/ { exit } { print }' "$T/out" | tail -n 1 >"$T/last"
expect "scan -t: X-Spam-Status ends the header" "^X-Spam-Status: " "$T/last"
if [ "$(grep -c '^Subject:' "$T/out")" -eq 1 ]; then ok "scan -t: one Subject"
else bad "scan -t: $(grep -c '^Subject:' "$T/out") Subject fields"; fi
run -o Checks=headers,rules scan --headers "$HAM"
expect "scan --headers, ham: X-Spam-Status: No" "^X-Spam-Status: No, score=" "$T/out"
refute "scan --headers, ham: no X-Spam-Flag" "^X-Spam-Flag" "$T/out"
sed '1,/^$/d' "$T/out" >"$T/body.out"
sed '1,/^$/d' "$HAM" >"$T/body.in"
if cmp -s "$T/body.in" "$T/body.out"; then ok "scan --headers: the body as it was"
else bad "scan --headers: the body changed"; fi
run -o Checks=headers,rules -o QuarantineScore=10 scan -t "$MSG"
status "scan -t, a message the milter quarantines" 0
expect "scan -t, quarantined: said on stderr" \
    "spam-headers.eml: quarantine: the milter would not deliver it" "$T/err"
run scan -t --json "$MSG"
status "scan -t --json" 64

# --- scan explains: describe texts, metas and negated rules ---
mkdir "$T/explain"
cat >"$T/explain/x.rules" <<'RULES'
header   NEG_SUBJ  Subject !~ /meeting/
describe NEG_SUBJ  Subject does not mention a meeting
score    NEG_SUBJ  0.5
body     __SUB_A   /Dear friend/
body     __SUB_B   /no such words/
meta     META_AB   __SUB_A || __SUB_B
describe META_AB   Either phrase
score    META_AB   1.0
RULES
run -o "RulesDir=$T/explain" -o Checks=rules scan "$MSG"
expect "scan: a negated rule says what did not match" \
    "^ +0\.5 NEG_SUBJ +Subject does not match /meeting/$" "$T/out"
expect "scan: a meta rule, its expression and the sub-rules that hit" \
    "^ +1\.0 META_AB +meta __SUB_A \|\| __SUB_B; hit: __SUB_A$" "$T/out"
refute "scan: describe texts only with --explain" "describe:" "$T/out"
run -o "RulesDir=$T/explain" -o Checks=rules scan --explain "$MSG"
expect "scan --explain: describe text" \
    "^ +describe: Subject does not mention a meeting$" "$T/out"
expect "scan --explain: the meta's expression" "^ +meta: __SUB_A \|\| __SUB_B$" "$T/out"
expect "scan --explain: the sub-rule that hit, where, on what" \
    "^ +__SUB_A +hit: body: \"Dear friend\"$" "$T/out"
expect "scan --explain: the sub-rule that did not" "^ +__SUB_B +no hit$" "$T/out"

# --- A message the content checks skip says why ---
run -o Checks=headers,rules scan --ip 127.0.0.1 "$MSG"
expect "scan, trusted client: why not scanned" \
    "^  content checks skipped: trusted client 127\.0\.0\.1 \(TrustedNetworks" "$T/out"
run -o Checks=headers,rules scan --ip 192.0.2.9 --auth bob "$MSG"
expect "scan, SMTP AUTH: why not scanned" \
    "^  content checks skipped: authenticated sender \(SMTP AUTH bob" "$T/out"
run -o Checks=headers,rules scan --ip 192.0.2.9 --auth bob --json "$MSG"
expect "scan --json, SMTP AUTH: skipped" '"skipped":"authenticated sender' "$T/out"
{ cat "$MSG"; i=0; while [ $i -lt 40 ]; do
	echo "padding padding padding padding padding padding padding padding"
	i=$((i + 1)); done; } >"$T/big.eml"
run -o Checks=headers,rules -o MaxScanSize=1024 -o OversizeAction=accept \
    scan --ip 192.0.2.9 "$T/big.eml"
expect "scan, over MaxScanSize: why not scanned" \
    "^  content checks skipped: over MaxScanSize \(1024 bytes; OversizeAction accept\)" "$T/out"
run -o Checks=headers,rules scan --ip 192.0.2.9 "$MSG"
refute "scan, scanned: no skip line" "content checks skipped" "$T/out"
run -o Checks=headers,rules scan --ip 192.0.2.9 --json "$MSG"
expect "scan --json, scanned: skipped null" '"skipped":null' "$T/out"

# --- Junk input is reported as such: never scanned, never learned ---
mkdir "$T/junk"
: >"$T/junk/empty.eml"
printf '\n \n\n' >"$T/junk/blank.eml"
printf 'GIF89a\001\000\001\000\000\000\000!\371\004' >"$T/junk/image.eml"
printf 'Checks headers\nLogLevel warn\n' >"$T/junk/vigil.conf"
run -o Checks=headers,rules scan "$T/junk" "$MSG"
status "scan junk and a message" 65
for f in empty blank image vigil.conf; do
	refute "scan junk: $f not scored" "^$T/junk/$f.*(score=|accept|tag)" \
	    "$T/out"
done
expect "scan junk: empty, said so" "$T/junk/empty.eml: not mail: empty" "$T/err"
expect "scan junk: blank, said so" "$T/junk/blank.eml: not mail: blank" "$T/err"
expect "scan junk: binary, said so" "$T/junk/image.eml: not mail: binary" "$T/err"
expect "scan junk: no header, said so" \
    "$T/junk/vigil.conf: not mail: no header field at the start" "$T/err"
expect "scan junk: the message beside it is scanned" \
    "^$MSG: [a-z]+ score=" "$T/out"
run -o Checks=headers,rules scan --json "$T/junk/empty.eml"
status "scan --json, an empty file" 65
if [ -s "$T/out" ]; then bad "scan --json, an empty file: no object"
else ok "scan --json, an empty file: no object"; fi
run -o "BayesDir=$T/bayes" bayes learn --spam "$T/junk" "$MSG"
status "bayes learn junk and a message" 65
expect "bayes learn: only the message learned" \
    ": 1 messages as spam: 1 learned" "$T/out"
expect "bayes learn: the empty file, not learned" \
    "$T/junk/empty.eml: not learned: not mail: empty" "$T/err"
expect "bayes learn: the binary file, not learned" \
    "$T/junk/image.eml: not learned: not mail: binary" "$T/err"
run -o "BayesDir=$T/bayes" bayes stats
expect "bayes stats: one spam learned" "^spam messages: 1$" "$T/out"
# A path that is missing is 66 for bayes too, as for scan and rules.
run -o "BayesDir=$T/bayes" bayes learn --ham /nonexistent "$HAM"
status "bayes learn, a missing path" 66
expect "bayes learn, a missing path: named" "/nonexistent: No such file" "$T/err"
expect "bayes learn, a missing path: the rest learned" \
    ": 1 messages as ham: 1 learned" "$T/out"
run -o "BayesDir=$T/bayes" bayes classify /nonexistent
status "bayes classify, a missing path" 66

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
expect "-h lists rules list" "rules list .*\[PATH" "$T/out"
expect "-h lists rules test --batch" "test --batch" "$T/out"
expect "-h lists the exit codes" "exit status: 0 ok" "$T/out"
# "help COMMAND" is "COMMAND --help", for every command -h lists.
"$CTL" -h | sed -n '/^commands:/,/^exit status/s/^  \([a-z]\{1,\}\) .*/\1/p' |
    sort -u >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 10 ] && ok "-h lists the commands" ||
    bad "-h lists $(wc -l <"$T/cmds") commands"
while read -r cmd; do
	run "$cmd" --help
	cp "$T/out" "$T/want"
	run help "$cmd"
	status "vigilctl help $cmd" 0
	if [ -s "$T/out" ] && cmp -s "$T/out" "$T/want" && [ ! -s "$T/err" ]
	then ok "vigilctl help $cmd: the same as $cmd --help"
	else bad "vigilctl help $cmd: not $cmd --help"; diff "$T/want" "$T/out" |
	    sed 's/^/#   /'; fi
done <"$T/cmds"
run help
status "vigilctl help" 0
expect "vigilctl help: the command list" "^commands:" "$T/out"
run help no-such-command
status "vigilctl help no-such-command" 64
expect "help no-such-command: says so" "unknown command \"no-such-command\"" "$T/err"
run --version
status "vigilctl --version" 0
run --bogus
status "vigilctl --bogus" 64
run scan --bogus "$MSG"
status "scan --bogus" 64

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
