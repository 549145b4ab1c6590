#!/bin/sh
# bayes-rules.sh - SpamAssassin's Bayes rules (23_bayes.cf: BAYES_00 ..
# BAYES_999, eval:check_bayes) read vigil's Bayes, and count once.  A
# private LMDB store learns a few spam and ham messages (BayesMinSpam
# and BayesMinHam lowered to them); then, with SpamAssassin's rules and
# a local file of metas over BAYES_*, `vigilctl rules test` and `scan`
# read a spam-like and a ham-like message:
#   - each hits the BAYES_* rule whose range (min, max] holds the
#     probability vigil's Bayes gives it (scan's "bayes" field), and the
#     local meta over it: the names work in metas;
#   - its verdict carries that BAYES_* name once, weighed as when
#     SpamAssassin's Bayes blocks are not read (Bayes's learned or
#     built-in weight, not 50_scores.cf's BAYES_* lines);
#   - without the Bayes check (Checks=rules) no BAYES_* rule hits.
# SpamAssassin's own Bayes is another classifier, trained apart: its
# probabilities are not vigil's, so no hit-for-hit comparison is made.
# Skipped (exit 77) without SpamAssassin's rules.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
VIGILCTL="$top_builddir/filter/vigilctl"

if [ ! -f "$SA_RULES/23_bayes.cf" ]; then
	echo "bayes-rules: skipped: no $SA_RULES/23_bayes.cf (apt-get" \
	    "install spamassassin)"
	echo "bayes-rules: 0 passed, 0 failed, 1 skipped"
	exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# Messages: words only spam uses, words only ham uses.
msg() {	# file subject body
	printf 'From: %s\nTo: dave@example.net\nSubject: %s\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <%s@bayes.test>\n\n%s\n' \
	    "sender$4@example.org" "$2" "$(basename "$1")" "$3" >"$1"
}
mkdir -p "$TMP/spam" "$TMP/ham" "$TMP/local" "$TMP/norules"
for i in 1 2 3 4 5 6; do
	msg "$TMP/spam/$i.eml" "cheap pills casino bonus $i" \
	    "Cheap pills, casino bonus, lottery winner, claim your prize now. Viagra replica watches, crypto doubler $i." "$i"
	msg "$TMP/ham/$i.eml" "minutes of the meeting $i" \
	    "Hello Dave, the minutes of Thursday's meeting are attached; please add your notes on the budget review before Friday $i." "$i"
done
msg "$TMP/spam.eml" "casino bonus pills" \
    "Claim your casino bonus and cheap pills now, lottery winner, replica watches." 7
msg "$TMP/ham.eml" "meeting minutes" \
    "Hello Dave, the minutes of the budget review meeting: please add your notes before Thursday." 7

cat >"$TMP/local/bayes_meta.cf" <<'EOF'
meta     T_GOLDEN_BAYES_SPAM	(BAYES_95 || BAYES_99) && __HAS_SUBJECT
describe T_GOLDEN_BAYES_SPAM	Bayes says spam (a meta over BAYES_*)
score    T_GOLDEN_BAYES_SPAM	0.01
meta     T_GOLDEN_BAYES_HAM	(BAYES_00 || BAYES_05) && __HAS_SUBJECT
describe T_GOLDEN_BAYES_HAM	Bayes says ham (a meta over BAYES_*)
score    T_GOLDEN_BAYES_HAM	0.01
EOF
V() {
	"$VIGILCTL" -c "$top_srcdir/samples/vigil.conf" \
	    -o "BayesDir=$TMP/bayes" -o BayesMinSpam=6 -o BayesMinHam=6 \
	    -o BayesAutolearn=no "$@"
}
if V bayes learn --spam "$TMP/spam" >"$TMP/learn" 2>&1 &&
    V bayes learn --ham "$TMP/ham" >>"$TMP/learn" 2>&1; then
	ok "learned 6 spam and 6 ham"
else
	cat "$TMP/learn"
	bad "bayes learn failed"
fi
SA="-o SpamAssassinRules=$SA_RULES -o LocalRulesDir=$TMP/local"
# SpamAssassin's rules without its Bayes plugin's blocks, as vigil read
# them before it provided the plugin: the weights to keep.
cp -R "$SA_RULES" "$TMP/sa-nobayes"
rm -f "$TMP/sa-nobayes/23_bayes.cf"
sed -i '/^ifplugin Mail::SpamAssassin::Plugin::Bayes/,/^endif/d' \
    "$TMP/sa-nobayes/50_scores.cf"
for kind in spam ham; do
	f=$TMP/$kind.eml
	# shellcheck disable=SC2086
	hits=$(V -o Checks=bayes,rules $SA rules test --batch "$f" |
	    cut -d: -f2-)
	# shellcheck disable=SC2086
	V -o Checks=bayes,rules $SA scan --json "$f" >"$TMP/$kind.json"
	# shellcheck disable=SC2086
	V -o Checks=bayes,rules -o "SpamAssassinRules=$TMP/sa-nobayes" \
	    scan --json "$f" >"$TMP/$kind.plain.json"
	# The band 23_bayes.cf's ranges give scan's probability.
	want=$(python3 - "$TMP/$kind.json" "$SA_RULES/23_bayes.cf" <<'EOF'
import json, re, sys
p = float(json.load(open(sys.argv[1]))["bayes"])
for l in open(sys.argv[2]):
    m = re.match(r"body\s+(BAYES_\d+)\s+eval:check_bayes\('([\d.]+)',\s*'([\d.]+)'\)", l)
    if m and (float(m[2]) == 0 or p > float(m[2])) and p <= float(m[3]):
        print(m[1])
EOF
)
	got=$(echo "$hits" | tr ' ' '\n' | grep '^BAYES_' | sort | tr '\n' ' ')
	want=$(echo "$want" | sort | tr '\n' ' ')
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "$kind: the rules hit $got(the probability's bands)"
	else
		bad "$kind: the rules hit '${got}', the bands are '${want}'"
	fi
	meta=T_GOLDEN_BAYES_$(echo "$kind" | tr a-z A-Z)
	case " $hits " in
	*" $meta "*) ok "$kind: the meta $meta over BAYES_* hits" ;;
	*) bad "$kind: the meta $meta does not hit" ;;
	esac
	# And with no learned weights (an empty RulesDir: no
	# spamassassin.scores), Bayes's bands, weighed by the score table.
	# shellcheck disable=SC2086
	V -o Checks=bayes,rules $SA -o "RulesDir=$TMP/norules" scan --json \
	    "$f" >"$TMP/$kind.band.json"
	V -o Checks=bayes,rules -o "SpamAssassinRules=$TMP/sa-nobayes" \
	    -o "RulesDir=$TMP/norules" scan --json "$f" \
	    >"$TMP/$kind.band.plain.json"
	# One finding a name, weighed as without SpamAssassin's Bayes.
	for mode in "" .band; do
	w=$(python3 - "$TMP/$kind$mode.json" "$TMP/$kind$mode.plain.json" <<'EOF'
import json, sys
def bayes(p):
    return sorted((h["name"], h["score"]) for h in json.load(open(p))["hits"]
                  if h["name"].startswith("BAYES_"))
a, b = bayes(sys.argv[1]), bayes(sys.argv[2])
names = [n for n, _ in a]
print("ok" if a and a == b and len(names) == len(set(names)) else
      "with %s, without %s" % (a, b))
EOF
)
	if [ "$w" = ok ]; then
		ok "$kind: BAYES_* once, with Bayes's own weight" \
		    "(${mode:-.learned} weights)"
	else
		bad "$kind (${mode:-.learned} weights): $w"
	fi
	done
done
# No Bayes check, no BAYES_* rule.
# shellcheck disable=SC2086
if V -o Checks=rules $SA rules test --batch "$TMP/spam.eml" |
    grep -q ' BAYES_'; then
	bad "BAYES_* hit without the Bayes check"
else
	ok "no BAYES_* without the Bayes check"
fi
echo "bayes-rules: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
