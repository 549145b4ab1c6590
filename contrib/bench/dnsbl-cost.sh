#!/usr/bin/env bash
# dnsbl-cost.sh - what the DNS lists cost a message, in instructions:
# `vigilctl scan` under callgrind over an even spread of the corpus, with
# DNSLists yes and with DNSLists no, the shipped rules plus SpamAssassin's
# rule set (its check_rbl, urirhssub and askdns lines: the lists), in a
# network namespace whose resolver is a dnsmasq answering NXDOMAIN at
# once, without an SOA (what the MTA harness's peers get).  Prints each
# run's instructions (every thread's) and the difference a message, and
# the queries dnsmasq got.  Root, valgrind, dnsmasq; a few minutes.
# With --cpu ROUNDS, no callgrind: the two scans ROUNDS times each, taking
# turns, and each one's CPU time (user + system, the kernel's work for
# the lookups included); prints the median difference a message.
#
#   contrib/bench/dnsbl-cost.sh [-n MESSAGES] [--cpu ROUNDS]
#       [-o Keyword=value]...
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top}"
shared=${VIGIL_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}
N=120 EXTRA=() CPU=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	--cpu) CPU=$2; shift 2 ;;
	-o) EXTRA+=(-o "$2"); shift 2 ;;
	*) echo "usage: $0 [-n MESSAGES] [--cpu ROUNDS] [-o Keyword=value]..." >&2
	   exit 2 ;;
	esac
done
TEST=dnsbl-cost.sh
if [ -z "${VIGIL_DNSBL_COST_NETNS:-}" ]; then
	. "$top/tests/tools/needs.sh"
	needs_bins valgrind callgrind_annotate
	. "$top/tests/tools/netns.sh"
	netns_enter dnsbl-cost VIGIL_DNSBL_COST_NETNS "$0" "$@"
fi
corpus=$shared/corpus/spamassassin
[ -d "$corpus" ] || { echo "dnsbl-cost.sh: $corpus missing" >&2; exit 1; }

W=$(mktemp -d /tmp/vigil-dnsbl-cost.XXXXXX)
. "$top/tests/tools/netns.sh"
netns_trap "$W"
netns_dnsmasq "$W" --conf-file=/dev/null --no-poll --address=/#/

# The messages: an even spread of ham and spam.
mkdir -p "$W/msgs" "$W/rules" "$W/none"
find "$corpus/ham" "$corpus/spam" -type f | sort >"$W/all"
total=$(wc -l <"$W/all")
step=$(( total / N > 0 ? total / N : 1 ))
awk -v s="$step" -v n="$N" 'NR % s == 0 && c < n { print; c++ }' "$W/all" |
    while read -r f; do
	ln -s "$f" "$W/msgs/$(echo "$f" | tr / _)"
done
for f in "$top"/rules/*.rules; do ln -s "$f" "$W/rules/"; done
for f in /usr/share/spamassassin/*.cf; do
	[ -f "$f" ] && ln -s "$f" "$W/rules/sa_$(basename "$f")"
done
n=$(find "$W/msgs" -type l | wc -l)

# cpu NAME DNSLists: one scan's CPU seconds (user + system) in NAME.cpu
cpu() {
	local t0 t1
	t0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
	"$top_builddir/filter/vigilctl" \
	    -c "$top/samples/vigil.conf" -o "RulesDir=$W/rules" \
	    -o "LocalRulesDir=$W/none" -o "BayesDir=$W/bayes" -o AVScan=no \
	    -o "DNSLists=$2" "${EXTRA[@]}" scan "$W/msgs" >"$W/$1.out" \
	    2>"$W/$1.err"
	t1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
	echo "$(( t1 - t0 ))" >>"$W/$1.cpu"
}
if [ "$CPU" -gt 0 ]; then
	for _ in $(seq "$CPU"); do
		cpu off no
		cpu on yes
	done
	hz=$(getconf CLK_TCK)
	echo "messages $n, $CPU rounds; CPU ticks (1/$hz s) a scan:"
	echo "  DNSLists=no  $(tr '\n' ' ' <"$W/off.cpu")"
	echo "  DNSLists=yes $(tr '\n' ' ' <"$W/on.cpu")"
	med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	awk -v a="$(med "$W/on.cpu")" -v b="$(med "$W/off.cpu")" -v n="$n" \
	    -v hz="$hz" 'BEGIN { printf "the lists: %.3f ms CPU a message (medians %.2f and %.2f s a scan)\n", (a - b) * 1000 / hz / n, a / hz, b / hz }'
	exit 0
fi

run() {	# run NAME DNSLists
	: >"$W/dnsmasq.log"
	valgrind --tool=callgrind --quiet \
	    --callgrind-out-file="$W/$1.cg" \
	    "$top_builddir/filter/vigilctl" -c "$top/samples/vigil.conf" \
	    -o "RulesDir=$W/rules" -o "LocalRulesDir=$W/none" \
	    -o "BayesDir=$W/bayes" -o AVScan=no -o "DNSLists=$2" \
	    "${EXTRA[@]}" scan "$W/msgs" >"$W/$1.out" 2>"$W/$1.err"
	grep -c "query\[" "$W/dnsmasq.log" >"$W/$1.queries"
	cp "$W/dnsmasq.log" "$W/$1.dnslog"
	callgrind_annotate "$W/$1.cg" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' >"$W/$1.ir"
}
run off no
run on yes
off=$(cat "$W/off.ir") on=$(cat "$W/on.ir")
echo "messages $n"
echo "instructions DNSLists=no $off, queries $(cat "$W/off.queries")"
echo "instructions DNSLists=yes $on, queries $(cat "$W/on.queries")"
awk -v a="$on" -v b="$off" -v n="$n" -v q="$(cat "$W/on.queries")" \
    'BEGIN { printf "the lists: %.3fM instructions a message, %.1f queries a message\n", (a - b) / n / 1e6, q / n }'
if [ -n "${DNSBL_COST_KEEP:-}" ]; then
	mkdir -p "$DNSBL_COST_KEEP"
	cp "$W"/*.cg "$W"/*.out "$W"/*.err "$W"/*.queries "$W"/*.dnslog "$DNSBL_COST_KEEP/"
fi
