# tap.sh - the counting every test script shares; sourced (". tap.sh")
# after top_srcdir is set.  A script ends with
#     echo "$pass passed, $fail failed"
# and may override expect/refute with its own.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
# expect DESC REGEX FILE: FILE has a line matching the extended regex.
expect() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else
		bad "$1 (no /$2/ in:)"; sed 's/^/#   /' "$3" | head -40; fi
}
# refute DESC REGEX FILE: FILE has no such line.
refute() {
	if grep -Eq -- "$2" "$3"; then
		bad "$1 (/$2/ in:)"; sed 's/^/#   /' "$3" | head -40; else ok "$1"; fi
}
