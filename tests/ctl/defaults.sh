#!/bin/sh
# defaults.sh - vigil out of the box (issue 14): with no config file it
# runs every check that needs no site data and says what runs and what
# does not, and why (`vigil -n`, the startup log, `vigilctl stats`);
# missing state and run folders are made at startup; AV without a
# signature database is off, said once, never a per-message error; the
# built-in paths follow configure's prefixes.  No root or network.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
VIGIL=$top_builddir/filter/vigil
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-defaults-test.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"

: >"$T/empty.conf"
# Built-in paths come from configure, none from a hard-coded /etc.
"$CTL" -c "$T/empty.conf" config --defaults >"$T/defaults" 2>&1
expect "RulesDir defaults under the data folder" \
    '^#RulesDir /.*/vigil/rules$' "$T/defaults"
expect "LocalRulesDir defaults under sysconfdir" \
    '^#LocalRulesDir /.*/vigil/rules.d$' "$T/defaults"
expect "QuarantineDir defaults under the state folder" \
    '^#QuarantineDir /.*/lib/vigil/quarantine$' "$T/defaults"
refute "no /etc/vigil/rules left" '/etc/vigil/rules$' "$T/defaults"

# Everything under $T: only what a site must choose is set here.
st=$T/state
set -- -o "RulesDir=$top_srcdir/rules" -o "LocalRulesDir=$T/rules.d" \
    -o "ControlSocket=$T/run/control.sock" -o "BayesDir=$st/bayes" \
    -o "QuarantineDir=$st/quarantine" -o "QuarantineScore=10" \
    -o "DatabaseDirectory=$T/clamav" \
    -o "DNSZoneFile=$top_srcdir/tests/data/dns/empty.zone"
mkdir "$T/rules.d"
printf 'score MISSING_DATE 0.1\n' >"$T/rules.d/local.rules"

# vigil -n: one screen of what runs and what does not.
if "$VIGIL" -n "$@" >"$T/n.out" 2>"$T/n.err"; then
	ok "vigil -n exits 0 on the embedded defaults"
else
	bad "vigil -n exits 0"; sed 's/^/#   /' "$T/n.out" "$T/n.err"
fi
expect "vigil -n: configuration OK" 'configuration OK' "$T/n.out"
expect "vigil -n: AV off, and why" \
    "^  av +off: no signatures in $T/clamav \(install clamav-freshclam\)" \
    "$T/n.out"
expect "vigil -n: rules from both folders" \
    "^  rules +on: [0-9]+ rules from $top_srcdir/rules then $T/rules.d" \
    "$T/n.out"
for c in headers spf dkim dmarc; do
	expect "vigil -n: $c on" "^  $c +on" "$T/n.out"
done
[ "$(wc -l <"$T/n.out")" -le 24 ] && ok "vigil -n fits one screen" ||
    bad "vigil -n: $(wc -l <"$T/n.out") lines"

# Without the bayes check and a QuarantineScore, no state folder is made.
"$VIGIL" -f -p "unix:$T/run0/vigil.sock" -o "Checks=headers" \
    -o "ControlSocket=$T/run0/control.sock" -o "BayesDir=$T/no/bayes" \
    -o "QuarantineDir=$T/no/quarantine" >"$T/log0" 2>&1 &
pid=$!
i=0
while [ ! -S "$T/run0/control.sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill "$pid"
wait "$pid" 2>/dev/null
pid=
[ ! -e "$T/no" ] && ok "no state folder made for checks that do not run" ||
    bad "state folders made for checks that do not run"

# The daemon makes its folders, says once what is off, and stats tell.
"$VIGIL" -f -p "unix:$T/run/vigil.sock" "$@" >"$T/log" 2>&1 &
pid=$!
i=0
while [ ! -S "$T/run/control.sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
for d in "$T/run" "$st/bayes" "$st/quarantine"; do
	[ -d "$d" ] && ok "startup made $d" || bad "startup made $d"
done
"$CTL" -c "$T/empty.conf" -o "ControlSocket=$T/run/control.sock" stats \
    >"$T/stats" 2>&1
expect "stats: Bayes says it is learning" \
    '^check\.bayes\.status on: learning, 0/200 spam, 0/200 ham$' "$T/stats"
expect "stats: AV off, and why" '^check\.av\.status off: no signatures' \
    "$T/stats"
expect "startup log: Bayes state" \
    'check=bayes on: learning, 0/200 spam, 0/200 ham' "$T/log"
n=$(grep -c 'no signatures' "$T/log")
[ "$n" -eq 1 ] && ok "AV off said once at startup" ||
    bad "AV off said $n times"

# A message through vigilctl scan: AV off is no error.
"$CTL" -c "$T/empty.conf" "$@" scan "$top_srcdir/samples/messages/ham-plain.eml" \
    >"$T/scan" 2>&1
expect "scan: the message is scanned" 'ham-plain.eml: [a-z]+ score=' \
    "$T/scan"
refute "scan: no AV error for a missing database" 'check=av.*(fail|tempfail)' \
    "$T/scan"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
