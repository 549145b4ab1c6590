#!/usr/bin/env bash
# vigil-peer.sh - vigil through the shared MTA benchmark (../shared/bench/mta)
# with the full pipeline this tree has, against Postfix without a milter in
# the same run, and the null milter (--peer null) in the same session for
# the ratio.  Needs root, postfix, dnsmasq, iproute2 (see bench/mta/README).
#
#   contrib/bench/vigil-peer.sh [-n N] [-c C] [--no-null] [--rspamd]
#       [--out DIR] [-o Keyword=value]...
#
# The harness folder is copied to a temporary folder (shared/ is
# read-only) and gets peers/vigil.sh, which runs filter/vigil with
# samples/vigil.conf and:
#   - every check registered in this build (Checks all), with the shipped
#     rules plus SpamAssassin's rule set when the spamassassin package is
#     installed;
#   - Bayes (LMDB) trained, before the measured phase, on the harness's
#     training manifests (disjoint from the measured mix);
#   - SPF, DKIM and DMARC through the system resolver of a network
#     namespace whose resolv.conf points at a dnsmasq on its loopback that
#     answers NXDOMAIN at once (what the peers get, peers/_dns.sh);
#   - ClamAV in-process with the test signatures of
#     shared/oracles/clamav/db;
#   - the quarantine in the peer's folder.
# Prints the harness's summaries and one line per filter: msgs/s ratio,
# filter CPU ms/msg, p99 latency, peak RSS.  -n (2000) messages a phase
# at -c (8) connections; results in --out (default /tmp/vigil-bench-*).
# --rspamd also runs the harness's rspamd peer (Debian's rspamd package,
# its default rules, Bayes in redis trained on the same manifests) in the
# same session, for the ratio the goal is stated in.
# --bench-opt passes an option to the harness's bench.sh (repeatable), e.g.
# --bench-opt --no-baseline when only the filter's own figures matter.
# -o passes a setting to vigil after the bench's own (repeatable), e.g.
# -o Checks=headers to see what the core costs without the checks.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top}"
shared=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}
N=2000 C=8 NULL=1 RSPAMD=0 OUT= EXTRA= BOPT=
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-c) C=$2; shift 2 ;;
	--no-null) NULL=0; shift ;;
	--rspamd) RSPAMD=1; shift ;;
	--bench-opt) BOPT="$BOPT $2"; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-o) EXTRA="$EXTRA -o $2"; shift 2 ;;
	*) echo "usage: $0 [-n N] [-c C] [--no-null] [--rspamd] [--out DIR]" \
	    "[--bench-opt OPT]... [-o Keyword=value]..." >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "vigil-peer.sh: needs root (private Postfix, cgroups, netns)" >&2
	exit 77
fi
for need in "$shared/bench/mta/bench.sh" "$top_builddir/filter/vigil" \
    "$shared/corpus/spamassassin"; do
	if [ ! -e "$need" ]; then
		echo "vigil-peer.sh: $need missing (VIGIL_SHARED, make)" >&2
		exit 1
	fi
done
for b in ip dnsmasq postfix; do
	command -v "$b" >/dev/null || { echo "vigil-peer.sh: $b missing" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/vigil-bench-XXXXXX)}
mkdir -p "$OUT"
H=$OUT/mta
rm -rf "$H"
cp -a "$shared/bench/mta" "$H"
ns=vigilbench$$
trap 'ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null;
	ip netns del "$ns" 2>/dev/null; rm -rf "/etc/netns/$ns"' EXIT

# The namespace vigil resolves in: loopback only, dnsmasq on 127.0.0.1:53.
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
export VIGIL_BENCH_NS=$ns VIGIL_BENCH_TOP=$top VIGIL_BENCH_BUILD=$top_builddir
export VIGIL_BENCH_CLAMDB=$shared/oracles/clamav/db VIGIL_BENCH_EXTRA=$EXTRA
export MTABENCH_CORPUS=$shared/corpus/spamassassin
# The rules: the shipped ones, then SpamAssassin's rule set (spamassassin
# package) when installed, read from one folder in lexical order.
export VIGIL_BENCH_RULES=$OUT/rules
rm -rf "$VIGIL_BENCH_RULES"
mkdir -p "$VIGIL_BENCH_RULES"
for f in "$top"/rules/*.rules; do ln -s "$f" "$VIGIL_BENCH_RULES/"; done
for f in /usr/share/spamassassin/*.cf; do
	[ -f "$f" ] && ln -s "$f" "$VIGIL_BENCH_RULES/sa_$(basename "$f")"
done
export MTABENCH_TRAIN_CORPUS=$shared/corpus/spamassassin
# The rules' compiled regex prefilter, kept between runs as a daemon
# keeps it in /var/cache/vigil (made, if need be, before the measure).
export VIGIL_BENCH_RULES_CACHE=${VIGIL_BENCH_RULES_CACHE:-/var/tmp/vigil-bench-rules-cache}

cat >"$H/peers/vigil.sh" <<'PEER'
# vigil (written by contrib/bench/vigil-peer.sh): the full pipeline.  Its
# socket (mode 0660) in group postfix, the harness Postfix's mail_owner.
MILTER=unix:$PEER_DIR/vigil.sock
VIGIL_ARGS=(-f -c "$VIGIL_BENCH_TOP/samples/vigil.conf" -p "unix:$PEER_DIR/vigil.sock"
	-o "ControlSocket=$PEER_DIR/control.sock" -o "Syslog=no"
	-o "SocketGroup=postfix"
	-o "Checks=all" -o "BayesDir=$PEER_DIR/bayes" -o "AVScan=yes"
	-o "DatabaseDirectory=$VIGIL_BENCH_CLAMDB" -o "QuarantineDir=$PEER_DIR/quarantine"
	-o "TempDirectory=$PEER_DIR/tmp" -o "DNSTimeout=2s" -o "BayesAutolearn=no"
	-o "RulesDir=$VIGIL_BENCH_RULES" -o "RulesCacheDir=$VIGIL_BENCH_RULES_CACHE")
# shellcheck disable=SC2206 # -o Keyword=value words, split on purpose
VIGIL_ARGS+=($VIGIL_BENCH_EXTRA)
peer_setup() {
	mkdir -p "$PEER_DIR/bayes" "$PEER_DIR/quarantine" "$PEER_DIR/tmp"
	# NXDOMAIN for every name, at once, inside the namespace.
	in_group dns "ip netns exec $VIGIL_BENCH_NS dnsmasq --keep-in-foreground \
	    --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
	    --listen-address=127.0.0.1 --bind-interfaces --port=53 --address=/#/ \
	    --user=nobody --group=nogroup </dev/null >/dev/null 2>&1 &"
	sleep 0.5
	# Bayes, trained before the measured phases (not measured).
	"$VIGIL_BENCH_BUILD/filter/vigilctl" -c "$VIGIL_BENCH_TOP/samples/vigil.conf" \
	    -o "BayesDir=$PEER_DIR/bayes" bayes learn --spam --list "$TRAIN_SPAM" \
	    >"$PEER_DIR/learn.log" 2>&1 &&
	"$VIGIL_BENCH_BUILD/filter/vigilctl" -c "$VIGIL_BENCH_TOP/samples/vigil.conf" \
	    -o "BayesDir=$PEER_DIR/bayes" bayes learn --ham --list "$TRAIN_HAM" \
	    >>"$PEER_DIR/learn.log" 2>&1 ||
	    { tail -5 "$PEER_DIR/learn.log" >&2; return 1; }
	# The rules' regex prefilter (-o RulesRegexPrefilter=yes) compiled
	# once, or found in the cache.
	"$VIGIL_BENCH_BUILD/filter/vigilctl" -c "$VIGIL_BENCH_TOP/samples/vigil.conf" \
	    -o "RulesDir=$VIGIL_BENCH_RULES" -o "RulesCacheDir=$VIGIL_BENCH_RULES_CACHE" \
	    $VIGIL_BENCH_EXTRA rules test "$VIGIL_BENCH_TOP/tests/golden/rules/ACCOUNT_SUSPENDED.hit.eml" \
	    >/dev/null 2>>"$PEER_DIR/learn.log" || true
}
peer_start() {
	( umask 000; exec ip netns exec "$VIGIL_BENCH_NS" \
	    "$VIGIL_BENCH_BUILD/filter/vigil" "${VIGIL_ARGS[@]}" \
	    </dev/null >"$PEER_DIR/vigil.log" 2>&1 ) &
}
peer_version() {
	echo "vigil $("$VIGIL_BENCH_BUILD/filter/vigil" -V | cut -d' ' -f2) ($(git -C "$VIGIL_BENCH_TOP" rev-parse --short HEAD 2>/dev/null)) checks=all rules=$(ls "$VIGIL_BENCH_RULES" | wc -l)files bayes=lmdb av=libclamav-testdb dns=netns-nxdomain${VIGIL_BENCH_EXTRA:+ extra:$VIGIL_BENCH_EXTRA}"
}
peer_collect() {
	cp "$PEER_DIR/vigil.log" "$PEER_DIR/learn.log" "$1/" 2>/dev/null
	grep -o 'verdict=[a-z]*' "$PEER_DIR/vigil.log" | sort | uniq -c >"$1/verdicts.txt"
}
PEER

cd "$H" || exit 1
rc=0
echo "== vigil ($N messages, $C connections)"
# shellcheck disable=SC2086 # harness options, split on purpose
./bench.sh --peer vigil -n "$N" -c "$C" --label vigil --out "$OUT/vigil" $BOPT ||
	rc=1
if [ "$NULL" = 1 ]; then
	echo "== null milter, same session"
	# shellcheck disable=SC2086
	./bench.sh --peer null -n "$N" -c "$C" --label null --out "$OUT/null" $BOPT ||
		rc=1
fi
if [ "$RSPAMD" = 1 ]; then
	echo "== rspamd, same session"
	if command -v rspamd >/dev/null; then
		./bench.sh --peer rspamd -n "$N" -c "$C" --label rspamd \
		    --out "$OUT/rspamd" $BOPT || rc=1
	else
		echo "vigil-peer.sh: rspamd not installed (apt-get install rspamd)" >&2
		rc=1
	fi
fi
echo "== results in $OUT"
for d in "$OUT"/vigil "$OUT"/null "$OUT"/rspamd; do
	[ -f "$d/summary.md" ] && { echo "--- $(basename "$d")"; cat "$d/summary.md"; }
done
[ -f "$OUT/vigil/verdicts.txt" ] && { echo "--- vigil verdicts"; cat "$OUT/vigil/verdicts.txt"; }
# One line per filter from the milter phases, and vigil's CPU per message
# as a multiple of each other filter's in this session; last, the
# analysis figures: what each filter adds to the null milter's CPU (the
# milter protocol's own cost), their ratio, and vigil's p99 over the null
# milter's.
python3 - "$OUT" <<'SUM'
import json, os, sys
out = sys.argv[1]
cpu = {}
p99 = {}
for name in ("vigil", "null", "rspamd"):
    try:
        with open(os.path.join(out, name, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        continue
    base = next((p for p in s["phases"] if p["name"].endswith("-baseline")), None)
    for p in s["phases"]:
        if not p["name"].endswith("-milter"):
            continue
        cpu[name] = p["cpu_ms_per_msg"]["peer"]
        p99[name] = p["lat_p99_ms"]
        ratio = p["msgs_per_s"] / base["msgs_per_s"] if base else float("nan")
        print("%-7s msgs/s ratio %.3f  filter CPU %.2f ms/msg  p99 %.0f ms  "
              "peak RSS %.0f MB  outcomes %s" % (name, ratio, cpu[name],
              p["lat_p99_ms"], p["peer_peak_rss_mb"], p["outcomes"]))
for other in ("null", "rspamd"):
    if "vigil" in cpu and cpu.get(other):
        print("vigil CPU / %s CPU: %.2f" % (other, cpu["vigil"] / cpu[other]))
if "null" in cpu:
    def over(name):
        return "%.2f ms/msg" % (cpu[name] - cpu["null"]) if name in cpu \
            else "n/a (not run)"
    ratio = "n/a"
    if "vigil" in cpu and "rspamd" in cpu and cpu["rspamd"] > cpu["null"]:
        ratio = "%.2f" % ((cpu["vigil"] - cpu["null"]) /
                          (cpu["rspamd"] - cpu["null"]))
    print("analysis: vigil - null %s, rspamd - null %s, ratio %s" %
          (over("vigil"), over("rspamd"), ratio))
    if "vigil" in p99:
        print("p99: vigil %.0f ms - null %.0f ms = %+.0f ms" %
              (p99["vigil"], p99["null"], p99["vigil"] - p99["null"]))
else:
    print("analysis: no null milter phase (--no-null): no figures")
SUM
exit $rc
