#!/bin/sh
# hs-cache.sh - the regex prefilter's database cache (RulesCacheDir,
# rules_hs.c) in the running daemon: the first start compiles it and
# writes the file; the second loads it (no compile: the log says so and
# the stats count it) and leaves the file as it was; a file with a byte
# of its database changed, one made by "another Hyperscan" (its header's
# version string) and one cut short are each refused with a warning and
# compiled again; a reload with a new rule compiles a new file and
# removes the old one.  The rules' hits are the same as without the
# prefilter (VIGIL_RULES_NO_HS).  Every pattern goes into the database
# (VIGIL_RULES_HS_ALL), so the counts below do not hang on the measure
# that chooses them (hs-select.sh tests that).  Ends with "N passed, N
# failed".
set -u
VIGIL_RULES_HS_ALL=1
export VIGIL_RULES_HS_ALL
: "${top_srcdir:=.}" "${top_builddir:=.}"
VIGIL="$top_builddir/filter/vigil"
VIGILCTL="$top_builddir/filter/vigilctl"
if ! grep -q '^#define HAVE_HYPERSCAN 1' "$top_builddir/config.h" 2>/dev/null; then
	echo "hs-cache: 0 passed, 0 failed, 1 skipped (built without Hyperscan)"
	exit 77
fi
T=$(mktemp -d /tmp/vigil-hscache-XXXXXX)
pass=0 fail=0 pid=
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
cleanup() { stop; rm -rf "$T"; }
trap cleanup EXIT INT TERM

mkdir "$T/rules" "$T/cache"
# Body rules without a literal of two characters: the regex prefilter's.
cat >"$T/rules/10_body.rules" <<'EOF'
body HS_DIGITS     /\b\d{3}[-.]\d{4}\b/
describe HS_DIGITS a phone number
score HS_DIGITS 0.1
body HS_MIXED      /\b[a-z]\d[a-z]\d[a-z]\b/i
describe HS_MIXED letters and digits mixed
score HS_MIXED 0.1
body HS_SPACED     /(?:\b|\s)[a-z](?:[\s.]{1,3}[a-z]){5}\b/i
describe HS_SPACED letters spaced out
score HS_SPACED 0.1
rawbody HS_RAW     /=[0-9A-F]{2}=[0-9A-F]{2}=[0-9A-F]{2}/
describe HS_RAW quoted-printable runs left undecoded
score HS_RAW 0.1
EOF
cat >"$T/vigil.conf" <<EOC
Socket unix:$T/v.sock
ControlSocket $T/c.sock
Checks headers, rules
RulesDir $T/rules
SpamAssassinRules no
RulesRegexPrefilter yes
RulesCacheDir $T/cache
Syslog no
LogLevel info
EOC
C="$VIGILCTL -c $T/vigil.conf"
stat() { $C stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }

start() {	# LABEL: starts the daemon, its log in $T/log.LABEL
	"$VIGIL" -f -c "$T/vigil.conf" >"$T/log.$1" 2>&1 &
	pid=$!
	for i in $(seq 1 60); do
		[ -S "$T/c.sock" ] && [ -n "$(stat rules.regex_prefilter.compiled)" ] &&
		    return 0
		sleep 0.5
	done
	bad "$1: the daemon did not start"
	cat "$T/log.$1"
	return 1
}
hsdb() { ls "$T"/cache/rules-body-*.hsdb 2>/dev/null; }

start first || { echo "$pass passed, $fail failed"; exit 1; }
if grep -q "body regex prefilter of 3 patterns compiled" "$T/log.first" &&
    grep -q "rawbody regex prefilter of 1 patterns compiled" "$T/log.first"; then
	ok "first start: both prefilters compiled"
else
	bad "first start: no compile logged"; grep rules "$T/log.first"
fi
[ "$(stat rules.regex_prefilter.compiled)" = 2 ] &&
    ok "stats: rules.regex_prefilter.compiled 2" ||
    bad "stats: compiled is '$(stat rules.regex_prefilter.compiled)'"
f=$(hsdb)
[ -n "$f" ] && [ -s "$f" ] && ok "cache file written: $(basename "$f")" ||
    bad "no cache file in $T/cache"
sum1=$(cksum <"$f" 2>/dev/null)
stop
rm -f "$T/c.sock" "$T/v.sock"

touch -d '2020-01-01 00:00' "$f"
start second || { echo "$pass passed, $fail failed"; exit 1; }
if grep -q "body regex prefilter of 3 patterns loaded from $f" "$T/log.second" &&
    ! grep -q "patterns compiled" "$T/log.second"; then
	ok "second start: loaded from the cache, nothing compiled"
else
	bad "second start: not loaded from the cache"; grep rules "$T/log.second"
fi
[ "$(stat rules.regex_prefilter.compiled)" = 0 ] &&
    [ "$(stat rules.regex_prefilter.cache_loads)" = 2 ] &&
    ok "stats: 0 compiled, 2 cache loads" ||
    bad "stats: compiled $(stat rules.regex_prefilter.compiled), loads $(stat rules.regex_prefilter.cache_loads)"
if [ "$(command stat -c %Y "$f")" = "$(date -d '2020-01-01 00:00' +%s)" ] &&
    [ "$(cksum <"$f")" = "$sum1" ]; then
	ok "the cache file was left as it was"
else
	bad "the cache file was rewritten"
fi

# A reload with a new rule: a new database, the old file removed.
printf 'body HS_NEW /\\b\\d\\d:\\d\\d\\b/\nscore HS_NEW 0.1\n' >"$T/rules/20_new.rules"
if $C reload >"$T/reload.out" 2>&1; then
	for i in $(seq 1 100); do
		grep -q "body regex prefilter of 4 patterns compiled" \
		    "$T/log.second" && [ "$(hsdb | wc -l)" = 1 ] && break
		sleep 0.1
	done
	if grep -q "body regex prefilter of 4 patterns compiled" "$T/log.second" &&
	    [ "$(hsdb | wc -l)" = 1 ] && [ "$(hsdb)" != "$f" ]; then
		ok "reload: compiled for the new set, the old file removed"
	else
		bad "reload: $(hsdb | tr '\n' ' ')"; grep rules "$T/log.second"
	fi
else
	bad "reload failed"; cat "$T/reload.out"
fi
stop
rm -f "$T/c.sock" "$T/v.sock" "$T/rules/20_new.rules"

# Damaged files: each refused with a warning, compiled and rewritten.
damage() {	# LABEL WHY: after $f was damaged
	start "$1" || return
	if grep -q "warn: rules: $f: $2: not used, compiled again" "$T/log.$1" &&
	    grep -q "body regex prefilter of 3 patterns compiled" "$T/log.$1"; then
		ok "$1: refused ($2) and compiled again"
	else
		bad "$1: not refused as '$2'"; grep rules "$T/log.$1"
	fi
	[ "$(stat rules.regex_prefilter.cache_rejected)" = 1 ] &&
	    ok "$1: stats: rules.regex_prefilter.cache_rejected 1" ||
	    bad "$1: cache_rejected is '$(stat rules.regex_prefilter.cache_rejected)'"
	stop
	rm -f "$T/c.sock" "$T/v.sock"
	[ "$(cksum <"$f")" = "$sum1" ] && ok "$1: the file is whole again" ||
	    bad "$1: the file was not rewritten"
}
start again >/dev/null || true	# the set without HS_NEW: its file back
stop
rm -f "$T/c.sock" "$T/v.sock"
f=$(hsdb)
sum1=$(cksum <"$f")
size=$(wc -c <"$f")
# One byte of the database (past the header) flipped.
off=$((size - 100))
b=$(dd if="$f" bs=1 skip=$off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
    dd of="$f" bs=1 seek=$off count=1 conv=notrunc 2>/dev/null
damage corrupt "checksum mismatch"
# Another Hyperscan's file: the version in the header (offset 8).
printf '9.9.9 0000-00-00' | dd of="$f" bs=1 seek=8 conv=notrunc 2>/dev/null
damage version "made by another Hyperscan (9.9.9 0000-00-00)"
# Cut short.
head -c $((size / 2)) "$f" >"$T/half" && cat "$T/half" >"$f"
damage truncated "truncated or overlong"

# The same hits with the prefilter as without it.
cat >"$T/m.eml" <<'EOF'
From: a@example.org
To: b@example.com
Subject: call me
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Call 555-1234 or write to a1b2c today: f r e e   m o n e y
=E2=80=9C=E2=80=9D quoted.
EOF
printf 'From: a@example.org\nTo: b@example.com\nSubject: hi\n\nnothing here 55-12 abc\n' >"$T/n.eml"
for m in m n; do
	# (the time a message took aside)
	$C rules test "$T/$m.eml" 2>/dev/null | sed 's/, rules took .*//' \
	    >"$T/$m.hs"
	VIGIL_RULES_NO_HS=1 $C rules test "$T/$m.eml" 2>/dev/null |
	    sed 's/, rules took .*//' >"$T/$m.plain"
	if cmp -s "$T/$m.hs" "$T/$m.plain"; then
		ok "$m.eml: the same hits with and without the prefilter"
	else
		bad "$m.eml: hits differ"; diff "$T/$m.plain" "$T/$m.hs"
	fi
done
n=$(grep -c '^ *HS_' "$T/m.hs" 2>/dev/null || true)
[ "$n" = 4 ] && ok "m.eml hits the four rules" || { bad "m.eml hits $n of 4"; cat "$T/m.hs"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
