#!/usr/bin/env bash
# av-corrupt.sh - issue 8.4 "a corrupt ClamAV database on reload", end to
# end through a private Postfix (make check-postfix-av-corrupt; root; see
# lib.sh).  The signatures and messages come from tests/av/gen_samples.py.
#
# vigil scans in-process with a good test database (EICAR by NDB and HDB)
# and watches DatabaseDirectory (AVReloadCheck): a change there is how a
# signature reload is triggered (freshclam writes new files; SIGHUP or
# `vigilctl reload` rebuild the configuration and keep the same engine).
# While PF_AVC_N (300) messages flow at PF_AVC_C (10) connections:
#
#   a. the NDB file is replaced (written beside, renamed in) by one that
#      adds a new signature (the own marker) and then torn, binary bytes;
#   b. `vigilctl reload` rebuilds the configuration;
#   c. a truncated main.cvd (a header, then half a gzip stream) lands.
#
# Each broken database is refused with its error logged ("reload failed,
# generation 1 keeps scanning: ...") and counted (av.reload_failures);
# generation 1 keeps serving: every EICAR is rejected 554 with its name,
# the own-marker message (whose signature only the broken file has) and
# the clean ones are delivered; nothing is deferred or lost; no scan
# error; and after the run, with both broken files still there, the same.  Then the good files come back with the marker's signature: a
# new generation is swapped in and rejects the marker.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
N=${PF_AVC_N:-300}
C=${PF_AVC_C:-10}
RCPT=rcpt@sink.invalid

pf_setup || exit 1
T=$PF_WORK/avc
mkdir -p "$T/db"
"$PYTHON" "$top_srcdir/tests/av/gen_samples.py" "$T/data" >/dev/null || exit 1
M=$T/data/msg
grep -v Vigil.Test.Own "$T/data/db/vigil-test.ndb" >"$T/db/vigil-test.ndb"
cp "$T/data/db/vigil-test.hdb" "$T/db/"
OPTS=(AVScan=yes "DatabaseDirectory=$T/db" AVReloadCheck=200ms)
ctl() {
	local o=() kv
	for kv in "${OPTS[@]}"; do o+=(-o "$kv"); done
	"$CTL" -c "$CONF" -o "ControlSocket=$PF_WORK/run/control.sock" "${o[@]}" "$@"
}
stat_of() { ctl stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }

if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with AVScan=yes" "see above"
	pf_summary
	exit 1
fi
WPID=$(pf_vigil_worker_pid)
pf_ok "vigil starts with the generated signatures (generation $(stat_of av.engine.generation))"

pf_verdict_mark
# wait_log N PATTERN [SECS]: until PATTERN occurs N times in vigil's log.
wait_log() {
	local i=0 n=$((${3:-30} * 10))
	while [ "$(grep -c "$2" "$PF_VIGIL_LOG")" -lt "$1" ] && [ $i -lt $n ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(grep -c "$2" "$PF_VIGIL_LOG")" -ge "$1" ]
}
FAILED='check=av reload failed, generation 1 keeps scanning'
own_hex=$(printf 'VIGIL-AV-SELFTEST-MARKER-3f1d0c77e2a94b58' | od -An -tx1 | tr -d ' \n')

pf_send --rcpt "$RCPT" --id-prefix r -n "$N" -c "$C" --deadline 600 \
    "$M/clean.eml" "$M/eicar-zip.eml" "$M/own-zip.eml" \
    "$M/att-zip-clean.eml" "$M/eicar-base64.eml" >"$T/run.tsv" &
sender=$!

# a. a torn NDB: good lines, the new signature, then binary junk.
pf_wait_verdicts $((N / 4))
{ cat "$T/db/vigil-test.ndb"
  printf 'Vigil.Test.Own.NDB:0:*:%s\n' "$own_hex"
  printf 'Vigil.Test.Torn.NDB:0:*:4142\x00\xff\xfe\x01\x02garbage\x89PNG\r\n\x1a'
  head -c 200 /dev/zero | tr '\0' '\377'; } >"$T/db/vigil-test.ndb.tmp"
mv "$T/db/vigil-test.ndb.tmp" "$T/db/vigil-test.ndb"
pf_log "torn vigil-test.ndb renamed in after $(pf_verdicts_since) messages"
if wait_log 1 "$FAILED"; then
	pf_ok "torn NDB refused: $(grep -m1 -o "reload failed.*" "$PF_VIGIL_LOG")"
else
	pf_fail "torn NDB refused" "$(grep 'check=av' "$PF_VIGIL_LOG" | tail -3)"
fi

# b. a configuration reload while the directory is broken.
pf_wait_verdicts $((N / 2))
if out=$(ctl reload 2>&1); then
	pf_ok "vigilctl reload with a broken database directory: $out"
else
	pf_fail "vigilctl reload" "$out"
fi

# c. a truncated main.cvd beside it.
pf_wait_verdicts $((N * 2 / 3))
"$PYTHON" - "$T/db/main.cvd.tmp" <<'EOF'
import sys
h = (b"ClamAV-VDB:27 Nov 2026 10-00 +0000:62:1000:90:" + b"0" * 32 +
     b":" + b"x" * 30 + b":builder:1795800000").ljust(512, b" ")
open(sys.argv[1], "wb").write(h + b"\x1f\x8b\x08\x00" + b"\x00" * 100)
EOF
mv "$T/db/main.cvd.tmp" "$T/db/main.cvd"
pf_log "truncated main.cvd renamed in after $(pf_verdicts_since) messages"
if wait_log 2 "$FAILED"; then
	pf_ok "truncated CVD refused: $(grep "$FAILED" "$PF_VIGIL_LOG" | tail -1 | grep -o 'reload failed.*')"
else
	pf_fail "truncated CVD refused" "$(grep 'check=av' "$PF_VIGIL_LOG" | tail -3)"
fi

wait "$sender"
pf_wait_drain 120 || pf_fail "queue drains" "$(pf_queue_count) left"
pf_log "sent: $(cut -f4 "$T/run.tsv" | sort | uniq -c | tr '\n' ' ')"

if out=$(pf_account "$T/run.tsv"); then
	pf_ok "every message accounted for ($(echo "$out" | head -1))"
else
	pf_fail "every message accounted for" "$out"
fi
sent=$(wc -l <"$T/run.tsv")
[ "$sent" -eq "$N" ] && pf_ok "$sent messages sent" || pf_fail "messages sent" "$sent of $N"
bad=$(awk -F'\t' '$2 ~ /eicar/ && !($4 == 554 && $6 ~ /virus Vigil\.Test\.EICAR/)' "$T/run.tsv" | wc -l)
n_eicar=$(awk -F'\t' '$2 ~ /eicar/' "$T/run.tsv" | wc -l)
[ "$bad" -eq 0 ] && [ "$n_eicar" -gt 0 ] &&
    pf_ok "all $n_eicar EICAR messages rejected by the kept engine" ||
    pf_fail "EICAR rejected" "$bad of $n_eicar not rejected with 554 virus"
bad=$(awk -F'\t' '$2 !~ /eicar/ && $4 != 250' "$T/run.tsv" | wc -l)
n_clean=$(awk -F'\t' '$2 !~ /eicar/' "$T/run.tsv" | wc -l)
[ "$bad" -eq 0 ] &&
    pf_ok "all $n_clean other messages accepted (the broken file's new signature never served)" ||
    pf_fail "other messages accepted" "$bad of $n_clean not 250: $(awk -F'\t' '$2 !~ /eicar/ && $4 != 250 { print $2, $4, $6 }' "$T/run.tsv" | head -3)"
gen=$(stat_of av.engine.generation)
fails=$(stat_of av.reload_failures)
if [ "$gen" = 1 ] && [ "${fails:-0}" -ge 2 ]; then
	pf_ok "vigilctl stats: av.engine.generation 1, av.reload_failures $fails"
else
	pf_fail "vigilctl stats" "generation $gen, reload failures $fails"
fi
if grep -q 'check=av rc=' "$PF_VIGIL_LOG"; then
	pf_fail "no scan errors" "$(grep -m3 'check=av rc=' "$PF_VIGIL_LOG")"
else
	pf_ok "no scan errors in vigil's log"
fi
if [ "$(pf_vigil_worker_pid)" = "$WPID" ] && ! grep -q 'worker killed\|worker exited' "$PF_VIGIL_LOG"; then
	pf_ok "the same worker served the whole run"
else
	pf_fail "the same worker served the whole run" "$(grep worker "$PF_VIGIL_LOG" | tail -2)"
fi

# Both broken files still in place: the kept engine serves new mail.
pf_send --rcpt "$RCPT" --id-prefix kept "$M/eicar-zip.eml" "$M/own-zip.eml" \
    "$M/clean.eml" >"$T/kept.tsv"
pf_wait_drain 30
got=$(cut -f4 "$T/kept.tsv" | tr '\n' ' ')
if [ "$got" = "554 250 250 " ] && out=$(pf_account "$T/kept.tsv"); then
	pf_ok "after both failures: EICAR rejected, marker and clean delivered ($(echo "$out" | head -1))"
else
	pf_fail "after both failures" "$(cut -f2,4,6 "$T/kept.tsv")"
fi

# The good files again, now with the marker's signature: a new engine.
rm -f "$T/db/main.cvd"
cp "$T/data/db/vigil-test.ndb" "$T/db/vigil-test.ndb.tmp"
mv "$T/db/vigil-test.ndb.tmp" "$T/db/vigil-test.ndb"
if wait_log 1 'check=av engine generation 2 in service'; then
	pf_ok "repaired database: $(grep -m1 -o 'engine generation 2 in service.*' "$PF_VIGIL_LOG")"
else
	pf_fail "repaired database loaded" "$(grep 'check=av' "$PF_VIGIL_LOG" | tail -3)"
fi
pf_send --rcpt "$RCPT" --id-prefix after "$M/own-zip.eml" "$M/eicar-zip.eml" \
    "$M/clean.eml" >"$T/after.tsv"
pf_wait_drain 30
got=$(cut -f4 "$T/after.tsv" | tr '\n' ' ')
if [ "$got" = "554 554 250 " ] && grep -q 'Vigil.Test.Own.NDB' "$T/after.tsv" &&
    out=$(pf_account "$T/after.tsv"); then
	pf_ok "generation 2: marker and EICAR rejected, clean delivered ($(echo "$out" | head -1))"
else
	pf_fail "generation 2" "$(cut -f2,4,6 "$T/after.tsv")"
fi
pf_summary
