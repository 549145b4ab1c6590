#!/bin/sh
# hs-select.sh - the regex prefilter keeps only the patterns worth their
# scan (rules_hs.c, worth_it): with SpamAssassin's FUZZY_BILLION and
# FUZZY_PHENT (25_replace.cf, their tags expanded), the daemon measures
# both on its probe, leaves out FUZZY_PHENT (whose approximation
# Hyperscan scans for many times what PCRE2 spends on it) and keeps
# FUZZY_BILLION, logs and counts the choice (rules.regex_prefilter.
# left_out), stores it with the database (a second start loads the same
# one pattern) and matches as without the prefilter.  Needs Hyperscan and
# SpamAssassin's rules.  Ends with "N passed, N failed".
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
VIGIL="$top_builddir/filter/vigil"
VIGILCTL="$top_builddir/filter/vigilctl"
SA=/usr/share/spamassassin/25_replace.cf
if ! grep -q '^#define HAVE_HYPERSCAN 1' "$top_builddir/config.h" 2>/dev/null; then
	echo "hs-select: 0 passed, 0 failed, 1 skipped (built without Hyperscan)"
	exit 77
fi
if [ ! -r "$SA" ]; then
	echo "hs-select: 0 passed, 0 failed, 1 skipped (no $SA)"
	exit 77
fi
T=$(mktemp -d /tmp/vigil-hsselect-XXXXXX)
pass=0 fail=0 pid=
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
	rm -f "$T/c.sock" "$T/v.sock"
}
cleanup() { stop; rm -rf "$T"; }
trap cleanup EXIT INT TERM

mkdir "$T/rules" "$T/cache"
# The tags and the two rules, as SpamAssassin ships them.
{
	grep -E '^replace_(tag|inter|post|pre|start|end)[[:space:]]' "$SA"
	grep -E '^(body|replace_rules)[[:space:]]+FUZZY_(BILLION|PHENT)[[:space:]]*' "$SA"
	printf 'score FUZZY_BILLION 0.1\nscore FUZZY_PHENT 0.1\n'
} >"$T/rules/10_fuzzy.rules"
[ "$(grep -c '^body' "$T/rules/10_fuzzy.rules")" = 2 ] ||
    { echo "hs-select: the two rules are not in $SA"; exit 1; }
cat >"$T/vigil.conf" <<EOC
Socket unix:$T/v.sock
ControlSocket $T/c.sock
Checks headers, rules
RulesDir $T/rules
SpamAssassinRules no
RulesRegexPrefilter yes
RulesCacheDir $T/cache
Syslog no
LogLevel debug
EOC
C="$VIGILCTL -c $T/vigil.conf"
stat() { $C stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
start() {	# LABEL: starts the daemon, its log in $T/log.LABEL
	"$VIGIL" -f -c "$T/vigil.conf" >"$T/log.$1" 2>&1 &
	pid=$!
	for i in $(seq 1 240); do
		[ -S "$T/c.sock" ] && [ -n "$(stat rules.regex_prefilter.compiled)" ] &&
		    return 0
		sleep 0.5
	done
	bad "$1: the daemon did not start"
	cat "$T/log.$1"
	return 1
}

start first || { echo "$pass passed, $fail failed"; exit 1; }
grep -q "regex prefilter leaves out FUZZY_PHENT: " "$T/log.first" &&
    ok "FUZZY_PHENT left out" ||
    { bad "FUZZY_PHENT not left out"; grep prefilter "$T/log.first"; }
grep -q "regex prefilter keeps FUZZY_BILLION: " "$T/log.first" &&
    ok "FUZZY_BILLION kept" ||
    { bad "FUZZY_BILLION not kept"; grep prefilter "$T/log.first"; }
grep -q "body regex prefilter: 1 of 2 patterns worth their scan" \
    "$T/log.first" && grep -q "body regex prefilter of 1 patterns compiled" \
    "$T/log.first" && ok "one pattern of two compiled" ||
    { bad "not one of two compiled"; grep prefilter "$T/log.first"; }
[ "$(stat rules.regex_prefilter.left_out)" = 1 ] &&
    ok "stats: rules.regex_prefilter.left_out 1" ||
    bad "stats: left_out is '$(stat rules.regex_prefilter.left_out)'"
stop

# The choice is stored with the database: no measure on a load.
start second || { echo "$pass passed, $fail failed"; exit 1; }
if grep -q "body regex prefilter of 1 patterns loaded from" "$T/log.second" &&
    ! grep -q "worth their scan" "$T/log.second"; then
	ok "second start: the same choice loaded, nothing measured"
else
	bad "second start: not loaded"; grep prefilter "$T/log.second"
fi
stop

# The same hits with the prefilter as without it.
cat >"$T/m.eml" <<'EOF'
From: a@example.org
To: b@example.com
Subject: offer
Content-Type: text/plain; charset=us-ascii

Cheap ph3nterm1ne and a b1ll1on reasons to buy it today.
EOF
$C rules test "$T/m.eml" 2>/dev/null | sed 's/, rules took .*//' >"$T/m.hs"
VIGIL_RULES_NO_HS=1 $C rules test "$T/m.eml" 2>/dev/null |
    sed 's/, rules took .*//' >"$T/m.plain"
if cmp -s "$T/m.hs" "$T/m.plain"; then
	ok "the same hits with and without the prefilter"
else
	bad "hits differ"; diff "$T/m.plain" "$T/m.hs"
fi
n=$(grep -c '^ *FUZZY_' "$T/m.hs" 2>/dev/null || true)
[ "$n" = 2 ] && ok "m.eml hits both rules" || { bad "m.eml hits $n of 2"; cat "$T/m.hs"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
