#!/bin/sh
# learn.sh - `vigilctl scores learn` and learned scores in the verdict, end
# to end on a seeded synthetic corpus (tests/bayes/mkcorpus.py): the file
# it writes, Bayes's points between its anchors, the score set of a
# message without a voting store, an immature store that says so, and the
# errors an admin can make.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-scores-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/tools/tap.sh"
# status DESC WANT GOT
status() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, want $2)"; fi
}

python3 "$top_srcdir/tests/bayes/mkcorpus.py" "$T/corpus" 240 || exit 1
C=$T/corpus
mkdir -p "$T/rules"
# Two rules for spam words, one for ham words, one that never hits.
cat > "$T/rules/10_t.rules" <<'RULES'
body T_CASINO /\bcasino\b/
describe T_CASINO Says casino
score T_CASINO 1.0
body T_LOTTERY /\blottery winner\b/
score T_LOTTERY 1.0
body T_AGENDA /\bagenda\b/
score T_AGENDA -0.5
body T_NEVER /zebracornfish/
score T_NEVER 2.5
RULES
cat > "$T/vigil.conf" <<CONF
Checks	headers, rules, bayes
LogLevel	warn
RulesDir	$T/rules
BayesDir	$T/bayes
BayesAutolearn	no
CONF
v() { "$CTL" -c "$T/vigil.conf" "$@"; }

v bayes learn --ham "$C/ham.maildir" > /dev/null 2>&1
v bayes learn --spam "$C/spam.mbox" > /dev/null 2>&1

v scores learn --spam "$C/spam.mbox" --ham "$C/ham.maildir" --verbose \
    -o "$T/learned.rules" > "$T/out" 2>&1
status "scores learn succeeds" 0 $?
expect "it counts the corpus" "240 spam, 240 ham, 0 duplicates" "$T/out"
expect "it reports held-out errors" "held out: with Bayes FP [0-9]+ FN [0-9]+" "$T/out"
expect "lambda chosen by held-out folds" "with Bayes, lambda 0.1, ham weight 1, [0-9]+ groups of [0-9]+: held out" "$T/out"
L=$T/learned.rules
expect "header: corpus" "^# Corpus: 240 spam, 240 ham" "$L"
expect "header: held-out FP/FN" "^# Held out, with Bayes: +FP [0-9.]+ % \([0-9]+\), FN" "$L"
expect "header: largest changes" "^# Largest changes \(with Bayes\): " "$L"
for a in BAYES_HAM BAYES_LEAN_HAM BAYES_NEUTRAL BAYES_LEAN_SPAM BAYES_SPAM; do
	expect "anchor $a scored in the Bayes sets" \
	    "^score $a 0 0 -?[0-9]+\.[0-9]{3} -?[0-9]+\.[0-9]{3}$" "$L"
done
expect "spam rule: four score sets" \
    "^score T_CASINO -?[0-9.]+ -?[0-9.]+ -?[0-9.]+ -?[0-9.]+$" "$L"
if grep -q "^score T_NEVER" "$L"; then
	bad "a rule that never hit keeps its own score (it was refitted)"
else
	ok "a rule that never hit keeps its own score"
fi
# Without Bayes the spam words carry the verdict: positive points.
s0=$(awk '$2 == "T_CASINO" { print $3 }' "$L")
if awk "BEGIN { exit !($s0 > 0) }"; then ok "T_CASINO weighs for spam without Bayes ($s0)"
else bad "T_CASINO weighs for spam without Bayes ($s0)"; fi
# The set without Bayes (a fresh install's) places its threshold above
# every held-out ham, unless told otherwise.
v scores learn --spam "$C/spam.mbox" --ham "$C/ham.maildir" --fp-target 10 \
    -o "$T/half.rules" > "$T/out" 2>&1
status "scores learn --fp-target 10 succeeds" 0 $?
expect "header: the target without Bayes is no held-out ham" \
    "^# Threshold: TagScore at 10 % of held-out ham \(0 % without Bayes\)" \
    "$T/half.rules"
n=$(sed -n 's/^# Held out, without Bayes: FP [0-9.]* % (\([0-9]*\)).*/\1/p' \
    "$T/half.rules")
if [ "$n" = 0 ]; then
	ok "without Bayes: none of the 240 held-out ham tagged"
else
	bad "without Bayes: none of the 240 held-out ham tagged (${n:-none})"
fi
v scores learn --spam "$C/spam.mbox" --ham "$C/ham.maildir" --fp-target 10 \
    --fp-target-untrained 10 -o "$T/same.rules" > "$T/out" 2>&1
status "scores learn --fp-target-untrained 10 succeeds" 0 $?
n2=$(sed -n 's/^# Held out, without Bayes: FP [0-9.]* % (\([0-9]*\)).*/\1/p' \
    "$T/same.rules")
if [ -n "$n2" ] && [ -n "$n" ] && [ "$n2" -gt "$n" ] && [ "$n2" -le 24 ]; then
	ok "--fp-target-untrained 10 places it at 10 % ($n2 of 240, more than $n)"
else
	bad "--fp-target-untrained 10 places it at 10 % (${n2:-none} of 240, default: ${n:-none})"
fi
# The ham weight of the set without Bayes: chosen on the folds (said in
# the header), or as given; a heavier ham pulls the spam-like ham down.
expect "header: the ham weight chosen is said" \
    "^# each ham weighing (1|3|10|30) spam\), 10 folds" "$T/half.rules"
for hw in 1 30; do
	v scores learn --spam "$C/spam.mbox" --ham "$C/ham.maildir" \
	    --ham-weight-untrained $hw -o "$T/hw$hw.rules" > "$T/out" 2>&1
	status "scores learn --ham-weight-untrained $hw succeeds" 0 $?
done
expect "header: the ham weight given is used" \
    "^# each ham weighing 30 spam\)" "$T/hw30.rules"
# It weighs in the set without Bayes only: that set's points change, the
# set with Bayes stays as it was.
cols() { awk -v f="$2" '$1 == "score" { print $2, $f }' "$1"; }
for hw in 1 30; do
	cols "$T/hw$hw.rules" 3 > "$T/hw$hw.plain"
	cols "$T/hw$hw.rules" 5 > "$T/hw$hw.bayes"
done
if [ -s "$T/hw1.plain" ] && ! cmp -s "$T/hw1.plain" "$T/hw30.plain"; then
	ok "--ham-weight-untrained changes the points without Bayes"
else
	bad "--ham-weight-untrained changes the points without Bayes"
fi
if [ -s "$T/hw1.bayes" ] && cmp -s "$T/hw1.bayes" "$T/hw30.bayes"; then
	ok "--ham-weight-untrained leaves the points with Bayes alone"
else
	bad "--ham-weight-untrained leaves the points with Bayes alone"
	diff "$T/hw1.bayes" "$T/hw30.bayes" | head -5
fi
# A plugin block's rules are tried out of each set on the folds: a block
# holding the strongest spam rule stays in (its rule keeps its weight), and
# the header says which blocks each set left out.
mkdir -p "$T/prules"
sed 's/^body T_CASINO /ifplugin Mail::SpamAssassin::Plugin::MIMEEval\nbody T_CASINO /; s/^describe T_CASINO .*/&\nendif/' \
    "$T/rules/10_t.rules" > "$T/prules/10_t.rules"
v -o RulesDir="$T/prules" scores learn --spam "$C/spam.mbox" \
    --ham "$C/ham.maildir" --lambda 1 --ham-weight-untrained 1 \
    --group-jaccard none --verbose -o "$T/p.rules" > "$T/out" 2>&1
status "scores learn with a plugin block succeeds" 0 $?
expect "each set tries the block out on the folds" \
    "without Bayes, without MIMEEval's 1: held out" "$T/out"
expect "the header says what each set left out" \
    "^# Plugin blocks left out \(without Bayes\): (none|MIMEEval)$" "$T/p.rules"
s0=$(awk '$1 == "score" && $2 == "T_CASINO" { print $3 }' "$T/p.rules")
if awk "BEGIN { exit !(${s0:-0} > 0.01) }"; then
	ok "the block of the strongest spam rule stays in ($s0)"
else
	bad "the block of the strongest spam rule stays in (${s0:-none})"
fi
expect "it is kept without Bayes" \
    "^# Plugin blocks left out \(without Bayes\): none$" "$T/p.rules"
# Findings that fire on the same evidence share one weight: T_CASINO and
# T_CASINO_TOO (the same word in any case) hit the same messages; grouped,
# each carries half of one weight, and the pair weighs less than the two
# fitted apart, where L2 lets the one piece of evidence count twice.
mkdir -p "$T/grules"
cp "$T/rules/10_t.rules" "$T/grules/"
printf 'body T_CASINO_TOO /casino/i\nscore T_CASINO_TOO 1.0\n' \
    > "$T/grules/20_t.rules"
for j in 0.8 none; do
	v -o RulesDir="$T/grules" scores learn --spam "$C/spam.mbox" \
	    --ham "$C/ham.maildir" --lambda 1 --ham-weight-untrained 1 \
	    --group-jaccard $j -o "$T/g$j.rules" > "$T/out" 2>&1
	status "scores learn --group-jaccard $j succeeds" 0 $?
done
expect "header: the group is named" \
    "^#   (T_CASINO T_CASINO_TOO|T_CASINO_TOO T_CASINO)$" "$T/g0.8.rules"
expect "header: no groups with none" \
    "^# Groups weighed as one \(without Bayes\): none$" "$T/gnone.rules"
# pair FILE COLUMN: T_CASINO's and T_CASINO_TOO's points, T_LOTTERY's.
pair() { awk -v f="$2" '$1 == "score" && $2 ~ /^T_(CASINO|CASINO_TOO|LOTTERY)$/ {
	p[$2] = $f } END { print p["T_CASINO"], p["T_CASINO_TOO"], p["T_LOTTERY"] }' "$1"; }
for col in 3 5; do
	set -- $(pair "$T/g0.8.rules" $col) $(pair "$T/gnone.rules" $col)
	if [ $# -eq 6 ] && [ "$1" = "$2" ]; then
		ok "grouped: both carry the same points (set $col: $1)"
	else
		bad "grouped: both carry the same points (set $col: $*)"
	fi
	# Against T_LOTTERY, fitted alone in both: the pair's share falls.
	if [ $# -eq 6 ] && awk "BEGIN { exit !(($1 + $2) / $3 < ($4 + $5) / $6) }"; then
		ok "grouped: the pair weighs less than apart (set $col: $1+$2 vs $4+$5, T_LOTTERY $3, $6)"
	else
		bad "grouped: the pair weighs less than apart (set $col: $*)"
	fi
done
v scores learn --group-jaccard 1.5 --spam "$C/spam.mbox" > "$T/out" 2>&1
status "bad --group-jaccard: usage (64)" 64 $?
v scores learn --ham-weight-untrained 0.5 --spam "$C/spam.mbox" > "$T/out" 2>&1
status "bad --ham-weight-untrained: usage (64)" 64 $?
v scores learn --fp-target-untrained -1 --spam "$C/spam.mbox" > "$T/out" 2>&1
status "bad --fp-target-untrained: usage (64)" 64 $?
# Deterministic: the same corpus gives the same scores.
v scores learn --spam "$C/spam.mbox" --ham "$C/ham.maildir" \
    -o "$T/again.rules" > /dev/null 2>&1
if cmp -s "$L" "$T/again.rules"; then ok "the fit is deterministic"
else bad "the fit is deterministic"; diff "$L" "$T/again.rules" | head; fi
v rules lint "$T/rules" "$L" > "$T/out" 2>&1
status "rules lint accepts the learned file" 0 $?

cp "$L" "$T/rules/90_scores.rules"
# A mature store votes: a Bayes finding between (or at) anchors, and the
# verdict follows the learned threshold.
v scan --json "$C/unseen-spam.eml" > "$T/out" 2>&1
expect "unseen spam: Bayes points from the anchors" \
    '"detail":"P=[0-9.]+, logit -?[0-9.]+: (between BAYES_[A-Z_]+ -?[0-9.]+ and )?BAYES_[A-Z_]+ -?[0-9.]+"' "$T/out"
expect "unseen spam: tagged or worse" '"action":"(tag|quarantine|reject)"' "$T/out"
expect "unseen spam: Bayes voting" '"bayes_state":"voting"' "$T/out"
v scan --json "$C/unseen-ham.eml" > "$T/out" 2>&1
expect "unseen ham: accepted" '"action":"accept"' "$T/out"
v scan "$C/unseen-spam.eml" > "$T/out" 2>&1
expect "scan explains Bayes's points" "BAYES_[0-9]+ +P=" "$T/out"

# An immature store: learning, votes with its maturity squared.
v -o BayesMinSpam=480 scan --json "$C/unseen-spam.eml" > "$T/out" 2>&1
expect "immature store: says it is learning" \
    '"bayes_state":"learning, 240/480 spam, 240/200 ham"' "$T/out"
expect "immature store: votes at a quarter" 'votes at 25 %' "$T/out"

# No store: the rules alone, scored with the set made for them.
v -o BayesDir="$T/empty" scan --json "$C/unseen-spam.eml" > "$T/out" 2>&1
expect "empty store: not ready" '"name":"BAYES_NOT_READY"' "$T/out"
want=$(awk '$2 == "T_CASINO" { printf "%.2f", $3 }' "$L")
expect "empty store: T_CASINO scored from the first set ($want)" \
    "\"name\":\"T_CASINO\",\"score\":$want," "$T/out"

# What a new scores file changes, before it goes live: the rules with
# their own scores (OLD: an empty file) against the learned ones.
: > "$T/none.rules"
rm -f "$T/rules/90_scores.rules"
v scores diff "$T/none.rules" "$L" --spam "$C/spam.mbox" --ham "$C/ham.maildir" \
    "$C/unseen-spam.eml" > "$T/out" 2>&1
status "scores diff succeeds" 0 $?
expect "diff: messages whose action changes" \
    "^spam $C/spam.mbox#[0-9]+: accept -?[0-9.]+ -> (tag|quarantine|reject) [0-9.]+$" "$T/out"
expect "diff: unlabelled mail listed without a label" \
    "^$C/unseen-spam.eml: accept" "$T/out"
expect "diff: the count" "^481 messages, [1-9][0-9]* change their action$" "$T/out"
expect "diff: false negatives before and after" \
    "^spam: 240, false negatives 2[0-9][0-9] \([0-9.]+ %\) -> [0-9]+ " "$T/out"
expect "diff: false positives before and after" \
    "^ham:  240, false positives [0-9]+ \([0-9.]+ %\) -> [0-9]+ " "$T/out"
v scores diff "$T/none.rules" "$T/nonexistent.rules" "$C/unseen-spam.eml" \
    > "$T/out" 2>&1
status "diff: a missing scores file (66)" 66 $?
cp "$L" "$T/rules/90_scores.rules"

# The site's own corrections: released quarantined mail is ham, mail
# still held as spam is spam.  Ten of each, written as the milter does
# (the schema of filter/quarantine/quarantine.c), new messages made from the corpus.
mkdir -p "$T/q"
python3 - "$top_srcdir/filter/quarantine/quarantine.c" "$T/q" "$C" <<'PY' ||
import os, re, sqlite3, sys, time
src, qdir, corpus = sys.argv[1:4]
text = open(src).read()
body = text.split("static const char schema[] =", 1)[1].split(";\n", 1)[0]
schema = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
con = sqlite3.connect(os.path.join(qdir, "index.sqlite"))
con.executescript(schema)
spam = open(os.path.join(corpus, "unseen-spam.eml")).read()
ham = open(os.path.join(corpus, "unseen-ham.eml")).read()
for i in range(20):
    is_spam = i < 10
    qid = "%032x" % (0xabc000 + i)
    msg = (spam if is_spam else ham).replace("Message-ID: <",
        "Message-ID: <q%d." % i, 1)
    open(os.path.join(qdir, qid + ".eml"), "w").write(msg)
    os.chmod(os.path.join(qdir, qid + ".eml"), 0o600)
    con.execute("INSERT INTO entries (id, time, queue_id, client, sender,"
        " subject, score, reason, action, size, released) VALUES"
        " (?, ?, 'Q', '192.0.2.9', 'x@example.org', 's', 9.0, 'spam',"
        " 'quarantine', ?, ?)", (qid, int(time.time()), len(msg),
        0 if is_spam else int(time.time())))
con.commit()
PY
    bad "cannot build the quarantine"
v -o QuarantineDir="$T/q" scores learn --from-quarantine \
    --spam "$C/spam.mbox" --ham "$C/ham.maildir" -o "$T/q.rules" \
    > "$T/out" 2>&1
status "scores learn --from-quarantine" 0 $?
expect "quarantine: held spam and released ham counted" \
    "250 spam, 250 ham, 0 duplicates" "$T/out"
expect "quarantine: named in the header" \
    "quarantine 10 spam, 10 released as ham" "$T/q.rules"

# SpamAssassin's rule set: read after RulesDir, then weighed by
# RulesDir/spamassassin.scores (its own score lines were made for another
# engine); auto only joins the default RulesDir.
mkdir -p "$T/sa"
cat > "$T/sa/20_t.cf" <<'CF'
body T_SA_ZEBRA /zebracorn/
score T_SA_ZEBRA 9.9
CF
echo "score T_SA_ZEBRA 1.5 1.5 4.2 4.2" > "$T/rules/spamassassin.scores"
printf 'From: a@example.org\nTo: b@example.net\nSubject: z\nMessage-ID: <z@example.org>\n\nzebracorn\n' > "$T/zebra.eml"
v -o BayesDir="$T/empty" -o SpamAssassinRules="$T/sa" scan --json "$T/zebra.eml" > "$T/out" 2>&1
expect "SpamAssassin's rule read, weighed by spamassassin.scores (no Bayes: 1.5)" \
    '"name":"T_SA_ZEBRA","score":1.50,' "$T/out"
v -o BayesDir="$T/empty" scan --json "$T/zebra.eml" > "$T/out" 2>&1
if grep -q T_SA_ZEBRA "$T/out"; then bad "auto with a RulesDir of its own reads SpamAssassin's rules"
else ok "auto with a RulesDir of its own: only what it names"; fi
v -o SpamAssassinRules="$T/nonexistent" scan "$T/zebra.eml" > "$T/out" 2>&1
status "SpamAssassinRules that does not exist: configuration error (78)" 78 $?
rm -f "$T/rules/spamassassin.scores"

# Errors.
v scores learn --spam "$C/spam.mbox" > "$T/out" 2>&1
status "spam only: too few to learn from (65)" 65 $?
expect "spam only: says why" "too few to learn from" "$T/out"
v scores learn --spam "$C/spam.mbox" --ham "$T/nonexistent" > "$T/out" 2>&1
status "missing path: 66" 66 $?
v scores learn --fp-target lots --spam "$C/spam.mbox" > "$T/out" 2>&1
status "bad --fp-target: usage (64)" 64 $?
v scores learn --help > "$T/out" 2>&1
status "scores learn --help: 0" 0 $?
expect "help says what it writes" "rules file of score lines" "$T/out"
v scores > "$T/out" 2>&1
status "scores without a command: usage (64)" 64 $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
