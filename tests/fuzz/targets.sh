# targets.sh - sourced by replay.sh and run.sh: the fuzz targets and the
# seeds each starts from.  fuzz_seeds NAME prints one path a line (files
# or folders): the committed seeds and past crashes (seeds/NAME), the demo
# messages and sample config, and the shared MIME corpus when present
# (read in place, never copied into the tree).
FUZZ_NAMES="mime header url html cfg rules"

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
