#!/bin/sh
# bench.sh - per-message antivirus cost (make bench): the corpus scanned
# through the pipeline with the generated test signatures, and with the
# real database when DatabaseDirectory's default (/var/lib/clamav) has one.
#   MTABENCH_CORPUS  folder of messages (default $VIGIL_SHARED/corpus/spamassassin,
#                    VIGIL_SHARED default ../shared)
#   AV_BENCH_MSGS    messages per run (default 1000)
set -eu
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${MTABENCH_CORPUS:-${VIGIL_SHARED:-$top_srcdir/../shared}/corpus/spamassassin}
n=${AV_BENCH_MSGS:-1000}
tmp=$(mktemp -d /tmp/vigil-bench-av.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
python3 "$top_srcdir/tests/av/gen_samples.py" "$tmp" >/dev/null
# The corpus may be split in folders (ham/, spam/): take each.
dirs=$(find "$corpus" -mindepth 1 -type d | sort)
[ -n "$dirs" ] || dirs=$corpus
for d in $dirs; do
	"$top_builddir/tests/av/bench_av" "$tmp/db" "$d" "$n"
	# ClamAV unpacks MIME parts into temp files: on a tmpfs as well.
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		printf '(AVTempDirectory=/dev/shm) '
		"$top_builddir/tests/av/bench_av" "$tmp/db" "$d" "$n" \
		    AVTempDirectory=/dev/shm
	fi
done
if ls /var/lib/clamav/*.c[lv]d >/dev/null 2>&1; then
	for d in $dirs; do
		"$top_builddir/tests/av/bench_av" /var/lib/clamav "$d" "$n"
	done
else
	echo "av: /var/lib/clamav has no database: real-database figures skipped"
fi
