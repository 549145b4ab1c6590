# needs.sh - what a test or benchmark script needs of the machine;
# sourced (". needs.sh") with TEST set to the name its lines begin with.
# Each function returns when the need is met, and otherwise skips the
# script: it says why, in the line tests/tools/tally.sh counts ("TEST: 0
# passed, 0 failed, 1 skipped"), and exits 77.  POSIX sh.

: "${SA_RULES:=/usr/share/spamassassin}"

# needs_skip WHY...: skip the script.
needs_skip() {
	echo "$TEST: skipped: $*"
	echo "$TEST: 0 passed, 0 failed, 1 skipped"
	exit 77
}

# needs_root: root (a network namespace, tests/tools/netns.sh).
needs_root() {
	[ "$(id -u)" = 0 ] || needs_skip "needs root (a network namespace)"
}

# needs_bins PROGRAM...: each program on PATH.
needs_bins() {
	for _nb in "$@"; do
		command -v "$_nb" >/dev/null 2>&1 ||
		    needs_skip "$_nb missing (see .ci/packages.sh)"
	done
}

# needs_sa [MODULE...]: SpamAssassin (perl's Mail::SpamAssassin and its
# rules in SA_RULES) and each further perl module.
needs_sa() {
	if ! perl -MMail::SpamAssassin -e 1 2>/dev/null ||
	    [ ! -d "$SA_RULES" ]; then
		needs_skip "SpamAssassin is not installed (apt-get install" \
		    "spamassassin)"
	fi
	for _nm in "$@"; do
		perl -M"$_nm" -e 1 2>/dev/null ||
		    needs_skip "perl $_nm missing (see .ci/packages.sh)"
	done
}
