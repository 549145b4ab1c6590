#!/bin/sh
# install.sh - what `make install DESTDIR=...` puts where (issue 14, item
# 1): the programs; the shipped rules in $(pkgdatadir)/rules, where the
# built-in RulesDir reads them, replaced by the next install; an empty
# LocalRulesDir, $(sysconfdir)/vigil/rules.d, whose files an install
# never touches; the annotated vigil.conf (every option commented out at
# this build's default) only where there is none yet; the docs; the man
# pages.  Every built-in path of the programs follows configure's
# folders (none hard-coded), and `vigil -n` on the installed tree with no
# configuration reports the rules it loaded, Bayes learning and the AV
# state.  `make uninstall` keeps an edited vigil.conf.  No root or
# network: everything is written under a temporary folder.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-install-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/tools/tap.sh"
check() { # NAME COMMAND...: ok when COMMAND succeeds
	n=$1
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}
# The configure folders, from make (tests/package/package.am); a run by
# hand takes them from the built programs' defaults.
def() { "$CTL" -c /dev/null config --defaults | sed -n "s|^#$1 ||p"; }
sysconfdir=${VIGIL_SYSCONFDIR:-$(dirname "$(dirname "$(def LocalRulesDir)")")}
datadir=${VIGIL_DATADIR:-$(dirname "$(dirname "$(def RulesDir)")")}
localstatedir=${VIGIL_LOCALSTATEDIR:-$(dirname "$(dirname "$(dirname "$(def BayesDir)")")")}
runstatedir=${VIGIL_RUNSTATEDIR:-$(dirname "$(dirname "$(def ControlSocket)")")}
inst() { # install into $T/root, log in $T/install.log
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C "$top_builddir" \
	    install DESTDIR="$T/root" >"$T/install.log" 2>&1
}

# Built-in paths: the programs name this build's folders and no other
# place of vigil's own (other packages' paths, /var/lib/clamav or
# /usr/sbin/sendmail, are Debian's and stay).
for b in vigil vigilctl; do
	p=$(find "$top_builddir/filter" -maxdepth 1 -type f -name "$b" | head -1)
	strings "$p" | grep -oE '[A-Za-z0-9_./-]*/(etc|share|lib|run|cache)/vigil(/[A-Za-z0-9_.-]*)*' |
	    sort -u >"$T/paths"
	stray=$(grep -vE "^($sysconfdir|$datadir|$localstatedir|$runstatedir)/" "$T/paths")
	if [ ! -s "$T/paths" ]; then
		bad "$b: no built-in paths found"
	elif [ -n "$stray" ]; then
		bad "$b: hard-coded paths outside configure's folders:" $stray
	else
		ok "$b: its $(wc -l <"$T/paths") built-in paths follow configure's folders"
	fi
done
RULES=$(def RulesDir)
LOCAL=$(def LocalRulesDir)
ETC=$(dirname "$LOCAL")
[ "$RULES" = "$datadir/vigil/rules" ] && [ "$LOCAL" = "$sysconfdir/vigil/rules.d" ] &&
    ok "config --defaults: RulesDir $RULES, LocalRulesDir $LOCAL" ||
    bad "config --defaults: RulesDir $RULES, LocalRulesDir $LOCAL"

# ---------------------------------------------------------- the install
if inst; then
	ok "make install DESTDIR=... exits 0"
else
	bad "make install DESTDIR=..."
	sed 's/^/#   /' "$T/install.log" | tail -20
	echo "$pass passed, $fail failed"
	exit 1
fi
R=$T/root
for p in sbin/vigil bin/vigilctl; do
	n=$(find "$R" -type f -perm -0100 -path "*/$p" | wc -l)
	[ "$n" -eq 1 ] && ok "the program $p" || bad "the program $p ($n found)"
done
n=0
for f in "$top_srcdir"/rules/*.rules "$top_srcdir"/rules/spamassassin.scores; do
	cmp -s "$f" "$R$RULES/$(basename "$f")" || { bad "shipped rule file $(basename "$f") not in $RULES"; n=$((n + 1)); }
done
[ "$n" -eq 0 ] && ok "every shipped rule file in RulesDir ($(ls "$R$RULES" | wc -l) files)"
check "LocalRulesDir made, empty" test -d "$R$LOCAL" -a -z "$(ls -A "$R$LOCAL" 2>/dev/null)"
"$CTL" -c /dev/null config --defaults >"$T/defaults.conf"
check "vigil.conf: the annotated defaults" cmp -s "$T/defaults.conf" "$R$ETC/vigil.conf"
check "vigil.conf: every option commented out" \
    test -z "$(grep -v -e '^#' -e '^[[:space:]]*$' "$R$ETC/vigil.conf")"
for p in man8/vigil.8 man8/vigilctl.8 man5/vigil.conf.5 man5/vigil-rules.5 \
    doc/vigil/README; do
	n=$(find "$R" -type f -path "*/$p" | wc -l)
	[ "$n" -eq 1 ] && ok "installed $p" || bad "installed $p ($n found)"
done

# vigil -n on the installed tree, no configuration: the built-in paths
# but for the two that DESTDIR moves.
# Without -c vigil reads $sysconfdir/vigil/vigil.conf; where this machine
# has one, an empty file stands for none.
VIGIL=$(find "$R" -type f -path '*/sbin/vigil' | head -1)
set --
[ -e "$ETC/vigil.conf" ] && set -- -c /dev/null
"$VIGIL" -n "$@" -o "RulesDir=$R$RULES" -o "LocalRulesDir=$R$LOCAL" \
    >"$T/n.out" 2>"$T/n.err"
rc=$?
[ "$rc" -eq 0 ] && ok "vigil -n exits 0 without a configuration" ||
    { bad "vigil -n exits $rc"; sed 's/^/#   /' "$T/n.out" "$T/n.err"; }
if [ $# -eq 0 ]; then
	grep -q "$ETC/vigil.conf not found: using the embedded defaults" "$T/n.err" &&
	    ok "vigil -n: the embedded defaults" ||
	    { bad "vigil -n: the embedded defaults"; sed 's/^/#   /' "$T/n.err"; }
fi
n=$(sed -n "s|^  rules *on: \([0-9]*\) rules from $R$RULES then $R$LOCAL\$|\1|p" "$T/n.out")
# The same rules as the source tree's, counted the same way.
want=$("$VIGIL" -n -c /dev/null -o "RulesDir=$top_srcdir/rules" 2>/dev/null |
    sed -n 's|^  rules *on: \([0-9]*\) rules from .*|\1|p')
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$want" ]; then
	ok "vigil -n: $n rules loaded from the installed folders"
else
	bad "vigil -n: rules (${n:-none}, the tree has ${want:-none})"
	sed 's/^/#   /' "$T/n.out"
fi
grep -Eq '^  bayes +on: learning' "$T/n.out" && ok "vigil -n: Bayes learning" ||
    { bad "vigil -n: Bayes learning"; grep bayes "$T/n.out"; }
grep -Eq '^  av +(on: libclamav, [0-9]+ signatures from /var/lib/clamav|off: no signatures in /var/lib/clamav \(install clamav-freshclam\))$' "$T/n.out" &&
    ok "vigil -n: the AV state ($(sed -n 's/^  av *//p' "$T/n.out"))" ||
    { bad "vigil -n: the AV state"; grep ' av ' "$T/n.out"; }

# ------------------------------------------------- the next install
# The admin's vigil.conf and local rules stay; a shipped rule file is the
# package's and is replaced.
printf 'TagScore 6\n' >>"$R$ETC/vigil.conf"
printf 'score MISSING_DATE 0.1\n' >"$R$LOCAL/local.rules"
printf 'header BROKEN\n' >>"$R$RULES/10_headers.rules"
if inst; then ok "make install again exits 0"; else bad "make install again"; fi
check "an edited vigil.conf is kept" grep -q '^TagScore 6$' "$R$ETC/vigil.conf"
check "the local rules are kept" test -s "$R$LOCAL/local.rules"
check "a shipped rule file is replaced" \
    cmp -s "$top_srcdir/rules/10_headers.rules" "$R$RULES/10_headers.rules"

# ---------------------------------------------------------- uninstall
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C "$top_builddir" \
    uninstall DESTDIR="$R" >"$T/uninstall.log" 2>&1
check "make uninstall removes the programs" \
    test -z "$(find "$R" -type f \( -name vigil -o -name vigilctl \))"
check "make uninstall keeps the edited vigil.conf" test -f "$R$ETC/vigil.conf"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
