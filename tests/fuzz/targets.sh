# targets.sh - sourced by replay.sh and run.sh: the fuzz targets and the
# seeds each starts from.  fuzz_seeds NAME prints one path a line (files
# or folders): the committed seeds and past crashes (seeds/NAME), the demo
# messages and sample config, and the shared MIME corpus when present
# (read in place, never copied into the tree).
FUZZ_NAMES="mime header url html cfg rules dmarc archive authres"

fuzz_seeds() {
	echo "$top_srcdir/tests/fuzz/seeds/$1"
	case $1 in
	mime|header|url|html)
		echo "$top_srcdir/samples/messages"
		if [ -n "${VIGIL_SHARED:-}" ] && [ -d "$VIGIL_SHARED/oracles/mime" ]; then
			echo "$VIGIL_SHARED/oracles/mime"
		fi ;;
	cfg)
		echo "$top_srcdir/samples/vigil.conf" ;;
	rules)
		echo "$top_srcdir/rules" ;;
	esac
}

# fuzz_limits NAME: "RSS_MB TIMEOUT_S" for one input.  The targets of
# hostile input classes (issue 15) get limits that the bounds they test
# keep far below: a decompression bomb, a quadratic parse or a runaway
# match past them is reported as an out-of-memory or a timeout, i.e. a
# crash.  FUZZ_RSS_MB and FUZZ_TIMEOUT override for every target.
fuzz_limits() {
	case $1 in
	archive) echo "512 5" ;;
	dmarc) echo "512 2" ;;
	authres) echo "256 1" ;;
	*) echo "2048 10" ;;
	esac
}
