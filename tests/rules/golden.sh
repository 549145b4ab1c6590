#!/bin/sh
# golden.sh - every shipped rule (rules/) hits its tests/golden/rules/
# NAME.hit.eml and misses its NAME.miss.eml, through the real pipeline
# (vigilctl rules test), and has a describe and (unless a __sub-rule) a
# score.  Also: the set lints without errors or warnings.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
VIGILCTL="$top_builddir/filter/vigilctl"
CONF="$top_srcdir/samples/vigil.conf"
RULES="$top_srcdir/rules"
GOLDEN="$top_srcdir/tests/golden/rules"
TMP=$(mktemp -d) || exit 99
trap 'rm -rf "$TMP"' EXIT
fail=0 pass=0

"$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$RULES" rules lint >"$TMP/lint" 2>&1
last=$(tail -n 1 "$TMP/lint")
case "$last" in
*" 0 errors, 0 warnings") pass=$((pass + 1)) ;;
*) echo "FAIL: lint: $last"; cat "$TMP/lint"; fail=$((fail + 1)) ;;
esac

"$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$RULES" rules list >"$TMP/list" || {
	echo "FAIL: rules list"; exit 1; }
n=$(wc -l <"$TMP/list")
scored=$(grep -vc '^__' "$TMP/list")
if [ "$scored" -ge 150 ]; then
	pass=$((pass + 1))
else
	echo "FAIL: only $scored scored rules (want 150 or more)"
	fail=$((fail + 1))
fi

# Every rule's two messages, scanned in one vigilctl run.
: >"$TMP/files"
while read -r name kind score; do
	for k in hit miss; do
		f="$GOLDEN/$name.$k.eml"
		if [ -f "$f" ]; then
			echo "$f" >>"$TMP/files"
		else
			echo "FAIL: $name: no $f"
			fail=$((fail + 1))
		fi
	done
done <"$TMP/list"
xargs "$VIGILCTL" -c "$CONF" -o Checks=rules -o "RulesDir=$RULES" rules test --batch \
    <"$TMP/files" >"$TMP/out" || { echo "FAIL: rules test"; exit 1; }

while read -r name kind score; do
	hitline=$(grep -F "/$name.hit.eml:" "$TMP/out")
	missline=$(grep -F "/$name.miss.eml:" "$TMP/out")
	case " ${hitline#*:} " in
	*" $name "*) pass=$((pass + 1)) ;;
	*) echo "FAIL: $name does not hit $name.hit.eml:${hitline#*:}"
	   fail=$((fail + 1)) ;;
	esac
	case " ${missline#*:} " in
	*" $name "*) echo "FAIL: $name hits $name.miss.eml"
	   fail=$((fail + 1)) ;;
	*) pass=$((pass + 1)) ;;
	esac
	# describe and score lines in the rule files
	if ! grep -Eq "^describe[[:space:]]+$name[[:space:]]+[^[:space:]]" "$RULES"/*.rules; then
		echo "FAIL: $name has no describe"; fail=$((fail + 1))
	fi
	case "$name" in
	__*) ;;
	*) if ! grep -Eq "^score[[:space:]]+$name[[:space:]]" "$RULES"/*.rules; then
		echo "FAIL: $name has no score"; fail=$((fail + 1))
	   fi ;;
	esac
done <"$TMP/list"

echo "golden rules: $n rules ($scored scored)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
