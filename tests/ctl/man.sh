#!/bin/sh
# man.sh - the manual pages render without warnings: vigil(8),
# vigilctl(8), vigil-rules(5) and vigil.conf(5), the last generated from
# the option tables; it must name every option `vigilctl config
# --defaults` lists.  mandoc -T lint (warnings and worse) and groff -ww,
# as man(1) and lintian run it, whichever are installed.  The hand-written
# pages are linted with the paths of the Debian package (/usr, /etc, /var):
# a build's own prefix can be long enough (a distcheck's _inst folder) that
# groff cannot adjust the line holding it, which says nothing of the page.
# The built pages are checked for every warning but that one.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
T=$(mktemp -d /tmp/vigil-man-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/tools/tap.sh"

lint() { # FILE [GROFF_FLAGS...]: warnings to $T/out
	lf=$1
	shift
	if command -v mandoc >/dev/null 2>&1; then
		mandoc -T lint -W warning "$lf" >>"$T/out" 2>&1
	fi
	# groff as man(1) and lintian run it: every warning.
	if command -v groff >/dev/null 2>&1; then
		groff -ww "$@" -mdoc -z "$lf" >>"$T/out" 2>&1
	fi
}
for p in vigil.8 vigilctl.8 vigil-rules.5 vigil.conf.5 vigil-web.8; do
	f=$top_builddir/doc/$p
	if [ ! -s "$f" ]; then
		bad "$p: not built"
		continue
	fi
	: >"$T/out"
	if [ -f "$top_srcdir/doc/$p.in" ]; then
		sed -e 's|@SYSCONFDIR@|/etc|g' -e 's|@PKGDATADIR@|/usr/share/vigil|g' \
		    -e 's|@LOCALSTATEDIR@|/var|g' -e 's|@RUNSTATEDIR@|/run|g' \
		    "$top_srcdir/doc/$p.in" >"$T/$p"
		# vigilctl(8): its COMMANDS from the help table, as built.
		if [ "$p" = vigilctl.8 ]; then
			"$top_builddir/filter/vigilctl" help --mdoc >"$T/cmds.mdoc"
			sed -e "/^@VIGILCTL_COMMANDS@\$/{r $T/cmds.mdoc" -e 'd;}' \
			    "$T/$p" >"$T/$p.new" && mv "$T/$p.new" "$T/$p"
		fi
		lint "$T/$p"
		lint "$f" -Wbreak
	else
		lint "$f"
	fi
	if [ -s "$T/out" ]; then
		bad "$p renders with warnings"
		sed 's/^/#   /' "$T/out"
	else
		ok "$p renders without warnings"
	fi
	if grep -q '@[A-Z]*@' "$f"; then
		bad "$p: unsubstituted @PLACEHOLDER@"
	else
		ok "$p: paths substituted"
	fi
done
"$top_builddir/filter/vigilctl" -c /dev/null config --defaults |
    sed -n 's/^#\([A-Z][A-Za-z0-9]*\)\( .*\)\{0,1\}$/\1/p' >"$T/opts"
n=0
while read -r o; do
	grep -q "^\.It Cm $o " "$top_builddir/doc/vigil.conf.5" || {
		bad "vigil.conf.5 lacks $o"
		n=$((n + 1))
	}
done <"$T/opts"
[ "$n" -eq 0 ] && ok "vigil.conf.5 lists all $(wc -l <"$T/opts") options"
# vigilctl(8) documents what `vigilctl help` lists: each command, each
# long option of each command's help, each exit status.
CTL=$top_builddir/filter/vigilctl
M=$top_builddir/doc/vigilctl.8
"$CTL" -h | sed -n '/^commands:/,/^exit status/s/^  \([a-z]\{1,\}\)\( .*\)\{0,1\}$/\1/p' |
    sort -u >"$T/cmds"
if [ "$(wc -l <"$T/cmds")" -ge 10 ]; then ok "vigilctl -h: $(wc -l <"$T/cmds") commands"
else bad "vigilctl -h: $(wc -l <"$T/cmds") commands"; fi
n=0
nopt=0
while read -r cmd; do
	grep -q "^\.It Cm $cmd\( \|$\)" "$M" || {
		bad "vigilctl.8 lacks the command $cmd"
		n=$((n + 1))
	}
	for opt in $("$CTL" help "$cmd" | grep -o -- '--[a-z][a-z0-9-]*' |
	    sort -u); do
		nopt=$((nopt + 1))
		grep -q -- "\\\\${opt#-}\([^a-z0-9-]\|$\)" "$M" || {
			bad "vigilctl.8 lacks $cmd $opt"
			n=$((n + 1))
		}
	done
done <"$T/cmds"
[ "$n" -eq 0 ] && ok "vigilctl.8 documents every command and its $nopt options"
# Help and the page come from one table: the page holds exactly what
# `vigilctl help --mdoc` prints, and `COMMAND --help` is `help COMMAND`.
if "$CTL" help --mdoc >"$T/mdoc" 2>"$T/mdoc.err" && [ -s "$T/mdoc" ]; then
	ok "vigilctl help --mdoc: the page's sections"
	sed -n '/^\.Sh COMMANDS/,/^\.Sh EXAMPLES/p' "$M" | sed '$d' >"$T/page"
	if grep -v '^\.\\"' "$T/mdoc" | cmp -s - "$T/page"; then
		ok "vigilctl.8: COMMANDS and EXIT STATUS are the help table's"
	else
		bad "vigilctl.8: COMMANDS and EXIT STATUS differ from help --mdoc"
		grep -v '^\.\\"' "$T/mdoc" | diff - "$T/page" | sed 's/^/#   /' | head -20
	fi
else
	bad "vigilctl help --mdoc"
	sed 's/^/#   /' "$T/mdoc.err"
fi
n=0
while read -r cmd; do
	"$CTL" help "$cmd" >"$T/h1" 2>&1
	"$CTL" "$cmd" --help >"$T/h2" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || ! cmp -s "$T/h1" "$T/h2" ||
	    ! grep -q "^usage: vigilctl $cmd\( \|$\)" "$T/h2"; then
		bad "vigilctl $cmd --help (exit $rc) is not vigilctl help $cmd"
		n=$((n + 1))
	fi
done <"$T/cmds"
[ "$n" -eq 0 ] && ok "vigilctl COMMAND --help is help COMMAND for $(wc -l <"$T/cmds") commands"
# Every long option a command's getopt table takes is in its help (and
# so in the page): filter/ctl/ctl_NAME*.c is the command NAME.
n=0
nopt=0
for f in "$top_srcdir"/filter/ctl/ctl_*.c; do
	c=$(basename "$f" .c)
	c=${c#ctl_}
	c=${c%%_*}
	"$CTL" help "$c" >"$T/help" 2>/dev/null || continue
	for o in $(sed -n 's/.*{ *"\([a-z][a-z0-9-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' "$f" | sort -u); do
		[ "$o" = help ] && continue
		nopt=$((nopt + 1))
		grep -q -- "--$o\([^a-z0-9-]\|$\)" "$T/help" || {
			bad "vigilctl help $c lacks --$o (${f##*/})"
			n=$((n + 1))
		}
	done
done
[ "$n" -eq 0 ] && ok "vigilctl help names all $nopt long options of the commands' tables"
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$M" >"$T/exit"
for code in 0 1 64 65 66 69 78; do
	if grep -q "\(^\|[^0-9]\)$code\([^0-9]\|$\)" "$T/exit" &&
	    "$CTL" -h | sed -n '/^exit status/,$p' | grep -q "\(^\|[^0-9]\)$code\([^0-9]\|$\)"
	then ok "exit status $code: in vigilctl.8 and vigilctl -h"
	else bad "exit status $code: not in both vigilctl.8 and vigilctl -h"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
