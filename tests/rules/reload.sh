#!/bin/sh
# reload.sh - the rules in the running daemon: a message through the
# milter (miltertest) hits a shipped rule, `vigilctl stats` shows the
# per-rule counters, a broken rule set is refused on reload with its
# error logged while the old set keeps serving, and a fixed set with a
# new rule goes live on the next reload.  Ends with "N passed, N failed".
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
here=$(cd "$top_srcdir/tests/rules" && pwd)
mdir=$(cd "$top_srcdir/tests/milter" && pwd)
VIGIL="$top_builddir/filter/vigil"
VIGILCTL="$top_builddir/filter/vigilctl"
MT=${MILTERTEST:-miltertest}
case "$MT" in no|"") MT=miltertest ;; esac
T=$(mktemp -d /tmp/vigil-rules-XXXXXX)
pass=0 fail=0 pid=
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
if ! command -v "$MT" >/dev/null 2>&1; then
	echo "FAIL miltertest not found (apt-get install miltertest)"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir "$T/rules"
cp "$top_srcdir"/rules/*.rules "$T/rules/"
cat >"$T/vigil.conf" <<EOC
Socket unix:$T/v.sock
ControlSocket $T/c.sock
Checks headers, rules
RulesDir $T/rules
Syslog no
LogLevel info
EOC
C="$VIGILCTL -c $T/vigil.conf"

send() {
	if "$MT" -D sock="unix:$T/v.sock" -D dir="$mdir" -s "$here/live.lua" \
	    >"$T/mt.out" 2>&1; then
		ok "$1: message through the milter"
	else
		bad "$1: miltertest"; cat "$T/mt.out"
	fi
}
stat() { $C stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }

"$VIGIL" -f -c "$T/vigil.conf" >"$T/log" 2>&1 &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -S "$T/v.sock" ] && [ -S "$T/c.sock" ] && break
	sleep 0.5
done
[ -S "$T/v.sock" ] || { bad "daemon did not start"; cat "$T/log"; echo "$pass passed, $fail failed"; exit 1; }

send "shipped rules"
[ "$(stat rules.hits.SUBJ_MEDS)" = 1 ] && ok "stats: rules.hits.SUBJ_MEDS 1" ||
    bad "stats: rules.hits.SUBJ_MEDS is '$(stat rules.hits.SUBJ_MEDS)'"
[ "$(stat rules.messages)" = 1 ] && ok "stats: rules.messages 1" ||
    bad "stats: rules.messages is '$(stat rules.messages)'"
[ -n "$(stat rules.us.SUBJ_MEDS)" ] && ok "stats: per-rule time" ||
    bad "stats: no rules.us.SUBJ_MEDS"
grep -q "SUBJ_MEDS" "$T/log" && ok "verdict line names SUBJ_MEDS" ||
    bad "verdict line without SUBJ_MEDS"

# A broken set is refused; the old one keeps serving.
echo 'body BROKEN_RULE /(unclosed/' >>"$T/rules/30_body.rules"
if $C reload >"$T/reload.out" 2>&1; then
	bad "reload of a broken set succeeded"
else
	ok "reload of a broken set refused"
fi
grep -q "30_body.rules:[0-9]*:[0-9]*: BROKEN_RULE: missing closing parenthesis" "$T/log" &&
    ok "error logged with file:line:col" || { bad "error not logged"; tail -5 "$T/log"; }
send "after refused reload"
[ "$(stat rules.hits.SUBJ_MEDS)" = 2 ] && ok "old set still serving" ||
    bad "old set: rules.hits.SUBJ_MEDS is '$(stat rules.hits.SUBJ_MEDS)'"

# Fixed, with a new rule: the next reload puts it in service.
grep -v BROKEN_RULE "$T/rules/30_body.rules" >"$T/x" && mv "$T/x" "$T/rules/30_body.rules"
printf 'header GOLDEN_TICKET Subject =~ /golden ticket/i\ndescribe GOLDEN_TICKET test\nscore GOLDEN_TICKET 0.5\n' \
    >"$T/rules/99_local.rules"
if $C reload >"$T/reload.out" 2>&1; then ok "reload of the fixed set"; else
	bad "reload of the fixed set"; cat "$T/reload.out"; fi
send "new set"
[ "$(stat rules.hits.GOLDEN_TICKET)" = 1 ] && ok "new rule in service" ||
    bad "new rule: rules.hits.GOLDEN_TICKET is '$(stat rules.hits.GOLDEN_TICKET)'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
