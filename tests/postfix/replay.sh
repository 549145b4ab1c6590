#!/bin/bash
# replay.sh - a shadow rule's would-be effect on real quarantined mail:
# 40 messages go through a private Postfix into vigil's quarantine while
# a shadow rule (ShadowRulesDir) is evaluated and logged but never
# scores; `vigilctl replay quarantine` then scans the 40 with the running
# configuration and with the shadow rule scoring, and says which would
# have been delivered instead (15 from a partner), why (the rule gained,
# its points) and the totals; exit 1 as something changes.  Also
# --weights and -o change the candidate, --rules adds to it, and a
# source nothing changes on exits 0.
# Opt-in (make check-postfix-replay), as root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/postfix/lib.sh"
pf_need_root
VIGILCTL=$top_builddir/filter/vigilctl
CONF=$top_srcdir/samples/vigil.conf

pf_setup || exit 1
trap 'pf_teardown' EXIT
T=$PF_WORK/t
mkdir -p "$T/msgs" "$PF_WORK/rules.d" "$PF_WORK/shadow"
cat >"$PF_WORK/rules.d/offer.rules" <<'EOR'
header T_REPLAY_OFFER Subject =~ /special offer/
score  T_REPLAY_OFFER 8
EOR
cat >"$PF_WORK/shadow/partner.rules" <<'EOR'
header T_SHADOW_PARTNER From =~ /\@partner\.example/
score  T_SHADOW_PARTNER -5
EOR
OPTS=(Checks=headers,rules,policy "LocalRulesDir=$PF_WORK/rules.d"
    "ShadowRulesDir=$PF_WORK/shadow" TagScore=4 QuarantineScore=6
    RejectScore=20 QuarantineMode=store "QuarantineDir=$PF_WORK/quarantine"
    "ControlSocket=$PF_WORK/run/control.sock")
CTL=("$VIGILCTL" -c "$CONF")
for kv in "${OPTS[@]}"; do
	CTL+=(-o "$kv")
done
if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts" "$(tail -5 "$PF_VIGIL_LOG")"
	pf_summary
	exit 1
fi

# 25 from a stranger, 15 from a partner: all "special offer", all
# quarantined while the partner rule is on trial.
for i in $(seq 1 40); do
	if [ "$i" -le 25 ]; then from="Shop <shop$i@stranger.example>"
	else from="Partner <news$i@partner.example>"; fi
	printf 'From: %s\r\nTo: alice@sink.invalid\r\nSubject: special offer %s\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <offer-%s@example.org>\r\n\r\nOur special offer number %s.\r\n' \
	    "$from" "$i" "$i" "$i" >"$T/msgs/m$i.eml"
	echo "$T/msgs/m$i.eml"
done >"$T/manifest"
pf_verdict_mark
pf_send --xclient 192.0.2.60 --rcpt alice@sink.invalid --id-prefix r \
    --manifest "$T/manifest" >"$T/send.tsv"
pf_wait_verdicts 40
pf_wait_drain 60
n=$("${CTL[@]}" quarantine list --json 2>/dev/null | wc -l)
shadowed=$(grep -c 'verdict=quarantine .* shadow=T_SHADOW_PARTNER' "$PF_VIGIL_LOG")
if [ "$n" = 40 ] && [ "$shadowed" = 15 ]; then
	pf_ok "40 messages quarantined; the shadow rule logged on 15, never scored"
else
	pf_fail "quarantine of 40" "entries $n, shadow-logged $shadowed; $(tail -3 "$PF_VIGIL_LOG")"
fi

# --- the shadow rule's would-be effect --------------------------------
"${CTL[@]}" replay quarantine >"$T/r1.out" 2>"$T/r1.err"
rc=$?
changed=$(grep -c ': quarantine -> accept (score 8.0 -> 3.0)' "$T/r1.out")
gained=$(grep -c '^    + T_SHADOW_PARTNER *-5.0$' "$T/r1.out")
if [ $rc = 1 ] && [ "$changed" = 15 ] && [ "$gained" = 15 ] &&
    grep -q '^replayed 40 message(s): 15 change action, 0 change score only, 25 unchanged' "$T/r1.out" &&
    grep -Eq '^  quarantine +40 +25$' "$T/r1.out" &&
    grep -Eq '^  accept +0 +15$' "$T/r1.out" &&
    grep -q '^  rule T_SHADOW_PARTNER gained on 15 message(s), -5.0$' "$T/r1.out"; then
	pf_ok "replay quarantine: 15 of 40 would be accepted, T_SHADOW_PARTNER -5.0 gained; exit 1"
else
	pf_fail "replay quarantine (rc $rc, $changed changed, $gained gained)" \
	    "$(tail -8 "$T/r1.out"; cat "$T/r1.err")"
fi
# The changes are named by quarantine id: a partner's entry is among them.
id=$("${CTL[@]}" quarantine list --json | "$PYTHON" -c 'import json, sys
for l in sys.stdin:
	e = json.loads(l)
	if e["subject"] == "special offer 33":
		print(e["id"])')
if [ -n "$id" ] && grep -q "^$id: quarantine -> accept" "$T/r1.out"; then
	pf_ok "changes are named by quarantine id ($id: offer 33 from the partner)"
else
	pf_fail "quarantine ids in replay's output" "id '$id'; $(head -3 "$T/r1.out")"
fi

# One entry, as trace names it.
"${CTL[@]}" replay "quarantine:$id" >"$T/r1b.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^$id: quarantine -> accept" "$T/r1b.out" &&
    grep -q '^replayed 1 message(s): 1 change action' "$T/r1b.out"; then
	pf_ok "replay quarantine:ID replays that entry alone"
else
	pf_fail "replay quarantine:$id (rc $rc)" "$(cat "$T/r1b.out")"
fi
"${CTL[@]}" replay quarantine:0000 >/dev/null 2>&1
rc=$?
[ $rc = 66 ] && pf_ok "replay of an unknown quarantine entry exits 66" ||
    pf_fail "replay quarantine:0000" "rc $rc"

# --- a candidate with other weights and a setting changed -------------
printf 'score T_REPLAY_OFFER 30\n' >"$T/weights"
"${CTL[@]}" replay --weights "$T/weights" -o RejectScore=26 quarantine \
    >"$T/r2.out" 2>&1
rc=$?
if [ $rc = 1 ] &&
    grep -q '^replayed 40 message(s): 25 change action, 15 change score only, 0 unchanged' "$T/r2.out" &&
    grep -Eq '^  reject +0 +25$' "$T/r2.out" &&
    grep -Eq '^  quarantine +40 +15$' "$T/r2.out" &&
    grep -q '^  rule T_REPLAY_OFFER rescored on 40 message(s), now +30.0$' "$T/r2.out"; then
	pf_ok "replay --weights -o RejectScore=26: 25 rejected, 15 still quarantined, T_REPLAY_OFFER rescored"
else
	pf_fail "replay --weights (rc $rc)" "$(tail -8 "$T/r2.out")"
fi

# --- --rules adds a candidate rule; a folder source --------------------
printf 'header T_CAND_NUM Subject =~ /offer 1\\d$/\nscore T_CAND_NUM 20\n' \
    >"$T/cand.rules"
"${CTL[@]}" replay --rules "$T/cand.rules" "$T/msgs" >"$T/r3.out" 2>&1
rc=$?
if [ $rc = 1 ] && [ "$(grep -c 'quarantine -> reject' "$T/r3.out")" = 10 ] &&
    grep -q '^  rule T_CAND_NUM gained on 10 message(s), +20.0$' "$T/r3.out"; then
	pf_ok "replay --rules FILE on a folder: offers 10-19 would be rejected"
else
	pf_fail "replay --rules (rc $rc)" "$(tail -8 "$T/r3.out")"
fi

# --- nothing changes: exit 0 -------------------------------------------
for i in 1 2 3; do cp "$T/msgs/m$i.eml" "$T/plain$i.eml"; done
for i in 4 5; do	# an mbox of two more
	printf 'From x@y Mon Dec  7 10:00:00 2026\n'
	tr -d '\r' <"$T/msgs/m$i.eml"
	echo
done >"$T/box.mbox"
"${CTL[@]}" replay "$T/plain1.eml" "$T/plain2.eml" "$T/plain3.eml" \
    "$T/box.mbox" >"$T/r4.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^replayed 5 message(s): 0 change action, 0 change score only, 5 unchanged' "$T/r4.out"; then
	pf_ok "replay of files and an mbox the shadow rule misses: nothing changes, exit 0"
else
	pf_fail "replay with no change (rc $rc)" "$(cat "$T/r4.out")"
fi
"${CTL[@]}" replay "$T/nonexistent" >/dev/null 2>&1
rc=$?
[ $rc = 66 ] && pf_ok "replay of a missing source exits 66" ||
    pf_fail "replay missing source" "rc $rc"

pf_summary
