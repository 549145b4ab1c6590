#!/usr/bin/env bash
# load.sh - issue 8.3: PF_LOAD_N (10,000) messages, a seeded mix of the
# shared corpus (ham and spam), through a private Postfix with vigil at
# PF_LOAD_C (50) connections (make check-load).  Every message must be
# delivered, rejected or quarantined (matched by a unique id), and vigil's
# memory (VmRSS of supervisor and worker, sampled twice a second) must not
# grow over the last half of the run: the mean of the last tenth of the
# samples may exceed the mean of the tenth after the midpoint by at most
# PF_LOAD_RSS_SLACK percent (5) or 4 MB, whichever is larger.  Judged on
# RssAnon (heap); VmRSS and the mapped-file part are reported beside it.
# The corpus: $VIGIL_SHARED/corpus/spamassassin (default ../shared).
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
# SPF/DKIM/DMARC from a zone file: the same answers with or without DNS.
PF_DNS_ZONE=${PF_DNS_ZONE:-$top_srcdir/tests/data/postfix/zone.txt}
N=${PF_LOAD_N:-10000}
C=${PF_LOAD_C:-50}
SLACK=${PF_LOAD_RSS_SLACK:-5}
SHARED=${VIGIL_SHARED:-$top_srcdir/../shared}
CORPUS=$SHARED/corpus/spamassassin
if [ ! -d "$CORPUS/ham" ] || [ ! -d "$CORPUS/spam" ]; then
	echo "load.sh: no corpus at $CORPUS (set VIGIL_SHARED)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

pf_setup || exit 1
# PF_LOAD_OPTS: more Keyword=value overrides, blank-separated (e.g.
# "Checks=headers" to see which checks a memory growth comes from).
# shellcheck disable=SC2086
pf_vigil_start "$CONF" "DNSZoneFile=$PF_DNS_ZONE" ${PF_LOAD_OPTS:-} || { pf_fail "vigil starts" "see above"; pf_summary; exit 1; }
T=$PF_WORK/t
mkdir -p "$T"
# A fixed mix: every corpus message once, shuffled with a fixed seed;
# the sender cycles through it for N messages.
"$PYTHON" - "$CORPUS" "$T/mix.txt" <<'PYEOF'
import os, random, sys
paths = []
for cls in ("ham", "spam"):
	d = os.path.join(sys.argv[1], cls)
	paths += sorted(os.path.join(d, f) for f in os.listdir(d))
random.Random(8).shuffle(paths)
open(sys.argv[2], "w").write("\n".join(paths) + "\n")
PYEOF
pf_log "sending $N messages ($(wc -l <"$T/mix.txt") distinct) at $C connections"

# Memory sampler: "epoch rss anon file" (kB) a line while the sender runs.
( t0=$SECONDS
  while :; do
	echo "$(date +%s) $(pf_vigil_mem)"
	sleep 0.5
  done ) >"$T/rss.txt" &
SAMPLER=$!
t0=$(date +%s.%N)
pf_send --manifest "$T/mix.txt" -n "$N" -c "$C" --xclient auto --id-prefix load \
    --deadline 3000 >"$T/load.tsv" 2>"$T/send.err"
t1=$(date +%s.%N)
kill "$SAMPLER"
wait "$SAMPLER" 2>/dev/null
if pf_wait_drain 600; then
	pf_ok "queue drained"
else
	pf_fail "queue drained" "$(pf_queue_count) left"
fi
t2=$(date +%s.%N)
rate=$(sed -n 's/.* \([0-9.]*\) msg\/s.*/\1/p' "$T/send.err")
pf_log "$(cat "$T/send.err")"
e2e=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", b - a }')
codes=$(cut -f4 "$T/load.tsv" | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $2, $1; sep = " " }')
pf_log "sent in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s ($rate msg/s), drained after $e2e s; replies: $codes"

if pf_account "$T/load.tsv" >"$T/load.acct"; then
	pf_ok "$N messages at $C connections accounted for ($rate msg/s accepted): $(head -1 "$T/load.acct")"
else
	pf_fail "$N messages at $C connections accounted for" "$(cat "$T/load.acct")"
fi
lines=$(grep -c 'verdict=.* score=' "$PF_VIGIL_LOG")
if [ "$lines" -eq "$N" ]; then
	pf_ok "one vigil log line per message ($lines)"
else
	pf_fail "one vigil log line per message" "$lines lines for $N messages"
fi

# Memory: flat over the last half.  Judged on RssAnon (heap and stacks:
# what a leak grows); VmRSS also counts mapped files such as the Bayes
# LMDB store, which grows as autolearn adds tokens, and is shown beside.
verdict=$(awk -v slack="$SLACK" '
    BEGIN { n = 0 }
    $2 > 0 { r[n] = $2; a[n] = $3; f[n] = $4; n++ }
    END {
	if (n < 10) { print "FAIL only " n " samples"; exit }
	h = int(n / 2); k = int(n / 10)
	for (i = h; i < h + k; i++) { am += a[i]; rm += r[i]; fm += f[i] }
	for (i = n - k; i < n; i++) { ae += a[i]; re += r[i]; fe += f[i] }
	am /= k; ae /= k; rm /= k; re /= k; fm /= k; fe /= k
	peak = 0; for (i = 0; i < n; i++) if (r[i] > peak) peak = r[i]
	lim = am * slack / 100; if (lim < 4096) lim = 4096
	printf "%s anon %d kB at start, %.0f after the midpoint, %.0f at the end (growth %+.0f, limit %.0f); VmRSS %d, %.0f, %.0f kB (mapped files %.0f -> %.0f), peak %d kB; %d samples\n",
	    (ae - am <= lim ? "ok" : "FAIL"), a[0], am, ae, ae - am, lim,
	    r[0], rm, re, fm, fe, peak, n
    }' "$T/rss.txt")
case $verdict in
ok*) pf_ok "memory flat over the last half: ${verdict#ok }" ;;
*) pf_fail "memory flat over the last half" "${verdict#FAIL }" ;;
esac
if ! pf_vigil_pid >/dev/null || grep -q 'worker killed\|worker exited' "$PF_VIGIL_LOG"; then
	pf_fail "vigil ran the whole load without a restart" "$(grep 'worker' "$PF_VIGIL_LOG" | tail -3)"
else
	pf_ok "vigil ran the whole load without a restart"
fi
pf_summary
