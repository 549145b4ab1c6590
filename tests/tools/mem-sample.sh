#!/bin/sh
# mem-sample.sh - samples a running vigil's memory over time, beside a
# long load run (tests/postfix/load.sh), to tell a leak from a plateau:
#
#	PF_TMP=/tmp/load PF_LOAD_N=50000 make check-load &
#	sh tests/tools/mem-sample.sh /tmp/load 15 > samples.txt
#
# WORK is the run's $PF_WORK, or a folder holding it (PF_TMP: the newest
# vigil-pf.* in it is taken).  Every SECS seconds (15) while its control
# socket exists, one line:
#	epoch verdicts heap_in_use_kB anon_kB rss_kB connections
# verdicts: messages vigil has logged a verdict for; heap_in_use:
# `vigilctl stats` heap.in_use (malloc's bytes in use, all arenas);
# anon, rss: the worker's RssAnon and VmRSS; connections: open milter
# connections (0: idle).  Ends when the socket has gone after being seen.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=${VIGILCTL:-$top_builddir/filter/vigilctl}
CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
where=${1:?usage: mem-sample.sh WORK [SECS]}
every=${2:-15}
seen=0

while :; do
	if [ -S "$where/run/control.sock" ]; then
		w=$where
	else
		w=$(ls -dt "$where"/vigil-pf.* 2>/dev/null | head -1)
	fi
	sock=${w:+$w/run/control.sock}
	if [ -n "$sock" ] && [ -S "$sock" ]; then
		seen=1
		sup=$(pgrep -o -f "ControlSocket=$sock" 2>/dev/null)
		wk=${sup:+$(pgrep -P "$sup" | head -1)}
		st=$("$CTL" -c "$CONF" -o "ControlSocket=$sock" stats 2>/dev/null)
		heap=$(echo "$st" | awk '$1 == "heap.in_use" { printf "%d", $2 / 1024 }')
		conns=$(echo "$st" | awk '$1 == "connections.active" { print $2 }')
		n=$(grep -c 'verdict=' "$w/vigil.log" 2>/dev/null)
		anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/${wk:-0}/status" 2>/dev/null)
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${wk:-0}/status" 2>/dev/null)
		echo "$(date +%s) ${n:-?} ${heap:-?} ${anon:-?} ${rss:-?} ${conns:-?}"
	elif [ "$seen" = 1 ]; then
		exit 0
	fi
	sleep "$every"
done
