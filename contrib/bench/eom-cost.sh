#!/usr/bin/env bash
# eom-cost.sh - what the analysis of a message costs, in instructions:
# `vigilctl scan --json` under callgrind, collecting inside pipeline_eom
# only (the rule set's compile and the process's start left out), over
# the SpamAssassin corpus sample of contrib/bench/README (one in 40 of the
# ham and one in 19 of the spam, NR%40==1 and NR%19==1 over the sorted
# names: 104 + 100 messages), with what bench-peer runs: the shipped rules
# and SpamAssassin's, Bayes (LMDB) trained on one in five of the corpus,
# ClamAV with the shared test signatures, SPF/DKIM/DMARC and the DNS
# lists' rules asking a dnsmasq that answers NXDOMAIN, in a network
# namespace of its own.  Prints pipeline_eom's instructions a message and
# the costliest functions (inclusive); keeps the callgrind file and the
# scan's output in the work folder (-k DIR) for callgrind_annotate and
# for comparing two builds' verdicts.  Root, valgrind, dnsmasq; about a
# minute a run on a 2-core machine.
#
#   contrib/bench/eom-cost.sh [-k DIR] [-t TOP] [-o Keyword=value]...
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top}"
shared=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}
KEEP= TOPN=30 EXTRA=()
while [ $# -gt 0 ]; do
	case $1 in
	-k) KEEP=$2; shift 2 ;;
	-t) TOPN=$2; shift 2 ;;
	-o) EXTRA+=(-o "$2"); shift 2 ;;
	*) echo "usage: $0 [-k DIR] [-t TOP] [-o Keyword=value]..." >&2
	   exit 2 ;;
	esac
done
TEST=eom-cost.sh
if [ -z "${VIGIL_EOM_COST_NETNS:-}" ]; then
	. "$top/tests/tools/needs.sh"
	needs_bins valgrind callgrind_annotate
	. "$top/tests/tools/netns.sh"
	netns_enter eom-cost VIGIL_EOM_COST_NETNS "$0" "$@"
fi
corpus=$shared/corpus/spamassassin
clamdb=$shared/oracles/clamav/db
[ -d "$corpus" ] || { echo "eom-cost.sh: $corpus missing" >&2; exit 1; }

W=${KEEP:-$(mktemp -d /tmp/vigil-eom-cost.XXXXXX)}
mkdir -p "$W"
. "$top/tests/tools/netns.sh"
if [ -n "$KEEP" ]; then netns_trap; else netns_trap "$W"; fi
netns_dnsmasq "$W" --conf-file=/dev/null --no-poll --address=/#/

# The sample, the training lists and the rules.
find "$corpus/ham" -type f | sort | awk 'NR % 40 == 1' >"$W/sample"
find "$corpus/spam" -type f | sort | awk 'NR % 19 == 1' >>"$W/sample"
find "$corpus/ham" -type f | sort | awk 'NR % 5 == 3' >"$W/train-ham"
find "$corpus/spam" -type f | sort | awk 'NR % 5 == 3' >"$W/train-spam"
n=$(wc -l <"$W/sample")
rm -rf "$W/rules" "$W/none" "$W/bayes" "$W/tmp"
mkdir -p "$W/rules" "$W/none" "$W/tmp"
for f in "$top"/rules/*.rules; do ln -s "$f" "$W/rules/"; done
for f in /usr/share/spamassassin/*.cf; do
	[ -f "$f" ] && ln -s "$f" "$W/rules/sa_$(basename "$f")"
done
V=$top_builddir/filter/vigilctl
ARGS=(-c "$top/samples/vigil.conf" -o Checks=all -o "BayesDir=$W/bayes"
    -o AVScan=yes -o "DatabaseDirectory=$clamdb" -o "TempDirectory=$W/tmp"
    -o DNSTimeout=2s -o BayesAutolearn=no -o "RulesDir=$W/rules"
    -o "LocalRulesDir=$W/none" -o Syslog=no "${EXTRA[@]}")
"$V" "${ARGS[@]}" bayes learn --spam --list "$W/train-spam" >/dev/null &&
    "$V" "${ARGS[@]}" bayes learn --ham --list "$W/train-ham" >/dev/null ||
    { echo "eom-cost.sh: bayes learn failed" >&2; exit 1; }

xargs valgrind --tool=callgrind --quiet \
    --toggle-collect=pipeline_eom --callgrind-out-file="$W/eom.cg" \
    "$V" "${ARGS[@]}" scan --json <"$W/sample" >"$W/scan.json" \
    2>"$W/scan.err"
callgrind_annotate --auto=no --inclusive=yes "$W/eom.cg" 2>/dev/null >"$W/eom.txt"
awk -v n="$n" '/:pipeline_eom \[/ { gsub(",", "", $1);
    printf "messages %d, pipeline_eom %.3fM instructions a message\n",
    n, $1 / n / 1e6; exit }' "$W/eom.txt"
# Below pipeline_eom, named functions only (JIT code has no name).
echo "costliest under it (inclusive, M instructions a message):"
grep -E '^ *[0-9,]+ \(' "$W/eom.txt" | grep -v -e 'PROGRAM TOTALS' \
    -e '???:0x' | awk -v n="$n" -v t="$TOPN" '
    /:pipeline_eom \[/ { go = 1; next }
    go && k++ < t { c = $1; gsub(",", "", c); name = $0;
	sub(/^[^)]*\) +/, "", name); sub(/ \[.*/, "", name);
	printf "  %7.3f  %s\n", c / n / 1e6, name }'
