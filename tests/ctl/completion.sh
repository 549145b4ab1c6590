#!/bin/bash
# completion.sh - vigilctl's bash completion (filter/ctl/completion/vigilctl)
# against the built vigilctl: commands, subcommands, options, vigil.conf
# keywords after -o and quarantine ids, each list asked of the program.
# bash is what runs completions; no daemon, network or root needed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-completion-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"

# shellcheck source=../../filter/ctl/completion/vigilctl
. "$top_srcdir/filter/ctl/completion/vigilctl"
if complete -p vigilctl 2>/dev/null | grep -q -- '-F _vigilctl'; then
	ok "the script registers _vigilctl for vigilctl"
else
	bad "the script registers _vigilctl for vigilctl"
fi

# comp WORD...: the completions of the last word, as bash splits the
# line (the program is the built vigilctl), one a line in $T/out.
comp() {
	COMP_WORDS=("$CTL" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_vigilctl
	printf '%s\n' "${COMPREPLY[@]}" >"$T/out"
}
# has DESC WORD: WORD is one of the completions; only DESC WORD: the only one.
has() {
	if grep -qxF -- "$2" "$T/out"; then ok "$1"; else
		bad "$1 (no \"$2\" in:)"; sed 's/^/#   /' "$T/out"; fi
}
only() {
	if [ "$(cat "$T/out")" = "$2" ]; then ok "$1"; else
		bad "$1 (want only \"$2\":)"; sed 's/^/#   /' "$T/out"; fi
}

comp ""
for c in scan quarantine rules bayes stats reload help; do
	has "commands: $c" "$c"
done
comp sca
only "sca: scan" scan
comp -
has "global options: -c" -c
has "global options: --help" --help
comp help qu
only "help qu: quarantine" quarantine
comp scan --
for o in --check --explain --headers --json --ip --rcpt --help; do
	has "scan options: $o" "$o"
done
comp scan --ch
only "scan --ch: --check" --check
comp quarantine ""
for s in list show release delete purge migrate add; do
	has "quarantine subcommands: $s" "$s"
done
comp bayes ""
for s in learn stats expire classify bench; do
	has "bayes subcommands: $s" "$s"
done
comp rules l
has "rules l: lint" lint
has "rules l: list" list
comp block ""
for s in add del list; do
	has "block subcommands: $s" "$s"
done
comp allow add ""
for k in sender client domain; do
	has "allow add: kind $k" "$k"
done
comp block add sender a@b.example --
has "block add options: --expires" --expires
comp quarantine release --
has "quarantine release options: --again" --again
comp -o QuarantineDi
only "-o QuarantineDi: the keyword and =" QuarantineDir=
comp -o ""
if [ "$(wc -l <"$T/out")" -ge 100 ]; then ok "-o: every keyword ($(wc -l <"$T/out"))"
else bad "-o: $(wc -l <"$T/out") keywords"; fi

# Quarantine ids from the store the -c and -o given name.
cat >"$T/vigil.conf" <<CONF
Checks		headers, rules
LogLevel	warn
RulesDir	$top_srcdir/rules
QuarantineDir	$T/q
CONF
"$CTL" -c "$T/vigil.conf" quarantine add --rcpt a@example.org \
    "$top_srcdir/samples/messages/spam-headers.eml" >"$T/add" 2>&1 ||
    bad "quarantine add failed: $(cat "$T/add")"
id=$(sed -n 's/^added .* as \([0-9a-f]\{32\}\) .*/\1/p' "$T/add")
comp -c "$T/vigil.conf" quarantine release ""
only "release: the ids of -c's store" "$id"
comp -c "$T/vigil.conf" quarantine show "$(echo "$id" | cut -c1-4)"
only "show PREFIX: that id" "$id"
# bash splits -o Keyword=value at "=".
comp -o QuarantineDir = "$T/q" quarantine delete ""
only "delete: the ids of -o's store" "$id"
comp quarantine show ""
if grep -qxF -- "$id" "$T/out"; then bad "show: ids of another store"
else ok "show: no ids of another store"; fi
# A deleted entry: still offered to show, not to release or delete.
"$CTL" -c "$T/vigil.conf" quarantine delete "$id" >/dev/null 2>&1 ||
    bad "quarantine delete failed"
comp -c "$T/vigil.conf" quarantine show ""
only "show: a deleted entry too" "$id"
comp -c "$T/vigil.conf" quarantine release ""
if grep -qxF -- "$id" "$T/out"; then bad "release: a deleted entry offered"
else ok "release: no deleted entry offered"; fi

# Paths where a command takes them.
cp "$top_srcdir/samples/messages/spam-headers.eml" "$T/msg.eml"
comp scan "$T/ms"
only "scan PATH: files" "$T/msg.eml"
comp -c "$T/vig"
only "-c FILE: files" "$T/vigil.conf"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
