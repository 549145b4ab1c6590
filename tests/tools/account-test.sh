#!/bin/sh
# account-test.sh - the Postfix tests' accountant (tests/postfix/
# account.py) on hand-made cases: a message is quarantined only when a
# quarantine store or the hold queue has it, discarded only when vigil's
# verdict line for its queue id says so; a log line that merely mentions
# it proves nothing.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
A=$top_srcdir/tests/postfix/account.py
T=$(mktemp -d /tmp/vigil-account-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/tools/tap.sh"
mkdir -p "$T/sink"
printf 'X-Harness-Id: m1\n\nbody\n' > "$T/sink/1"
# id file stage code queue_id text
printf 'm1\ta.eml\teom\t250\tQAAA1\tok\n' > "$T/res"
printf 'm2\tb.eml\teom\t250\tQBBB2\tok\n' >> "$T/res"
printf 'm3\tc.eml\teom\t250\tQCCC3\tok\n' >> "$T/res"
printf 'm4\td.eml\teom\t550\tQDDD4\tno\n' >> "$T/res"
# m2: a log line that mentions quarantine and its id, but no store has it;
# m3: a line that mentions discard near its id, not its verdict.
cat > "$T/log" <<'LOG'
info: s=1 q=QAAA1 verdict=accept score=0.0/5.0
warning: quarantine write failed for QBBB2, kept in the queue
info: s=3 q=QCCC3 verdict=tag score=6.0/5.0 discard text=QCCC3
LOG
python3 "$A" --sink "$T/sink" --vigil-log "$T/log" "$T/res" > "$T/out"
rc=$?
if [ $rc -ne 0 ] && grep -q "quarantined=0 discarded=0 tempfailed=0 LOST=2" "$T/out"
then ok "a log line that mentions an id is no fate (2 LOST)"
else bad "log mentions counted as fates: $(head -1 "$T/out") (exit $rc)"; fi

python3 - "$T/q.sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("CREATE TABLE entries (id TEXT, queue_id TEXT)")
con.execute("INSERT INTO entries VALUES ('x', 'QBBB2')")
con.commit()
PY
sed -i 's/q=QCCC3 verdict=tag/q=QCCC3 verdict=discard/' "$T/log"
python3 "$A" --sink "$T/sink" --vigil-log "$T/log" --quarantine-db "$T/q.sqlite" \
    "$T/res" > "$T/out"
rc=$?
if [ $rc -eq 0 ] &&
    grep -q "sent=4 delivered=1 rejected=1 quarantined=1 discarded=1 tempfailed=0 LOST=0" "$T/out"
then ok "quarantined from the store, discarded from its verdict line"
else bad "store and verdict line: $(head -1 "$T/out") (exit $rc)"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
