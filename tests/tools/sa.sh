# sa.sh - what the scripts that compare vigil's verdict on a set of
# messages with SpamAssassin's share; sourced (". sa.sh") with TEST set
# to the name their lines begin with, after top_srcdir and top_builddir.
# Skips the script (tests/tools/needs.sh) without SpamAssassin; then
# makes TMP, a folder removed on exit (a script with more to clean sets
# its own trap, and removes TMP too), holding TMP/rules, a copy of
# SpamAssassin's rules (SA_RULES) the script may add its lines to.
# POSIX sh.

. "$top_srcdir/tests/tools/needs.sh"
needs_sa
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -R "$SA_RULES" "$TMP/rules"

# sa_all_read N OUT...: each OUT (one line a message) holds N lines;
# otherwise prints the OUT.err files beside them and fails the script.
sa_all_read() {
	_n=$1
	shift
	for _o in "$@"; do
		if [ "$(wc -l <"$_o")" -ne "$_n" ]; then
			for _e in "$@"; do
				cat "$_e.err" >&2 2>/dev/null
			done
			echo "$TEST: 0 passed, 1 failed"
			exit 1
		fi
	done
}

# sa_run_both: the messages listed in TMP/files through vigil (`rules
# test --batch`, its rules in TMP/list) and SpamAssassin (sa-hits.pl),
# both with the rules of TMP/rules, into TMP/vigil and TMP/sa, one line
# a message each (else the script fails).
sa_run_both() {
	"$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$TMP/rules" \
	    rules list >"$TMP/list" 2>/dev/null
	xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$TMP/rules" \
	    rules test --batch <"$TMP/files" >"$TMP/vigil" 2>"$TMP/vigil.err"
	perl "$top_srcdir/tests/rules/sa-hits.pl" "$TMP/rules" <"$TMP/files" \
	    >"$TMP/sa" 2>"$TMP/sa.err"
	sa_all_read "$(wc -l <"$TMP/files")" "$TMP/sa" "$TMP/vigil"
}
