#!/bin/sh
# vigil adapter for the accuracy harness (shared/bench/accuracy/evaluate.py):
#   vigil-adapter.sh train spam|ham LISTFILE
#   vigil-adapter.sh classify LISTFILE   -> <path>\t<score>\t<spam|ham>
# Bayes only, default settings: every training message is learned into an
# LMDB store under $EVAL_WORKDIR (autolearn never runs offline); the score
# is the classifier's ranking score (higher = spammier), the verdict its
# own, at BayesSpamThreshold.  The configuration must not set BayesRedis
# (samples/vigil.conf does not).  VIGILCTL and VIGIL_CONF override the
# programs found next to this script in a built tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${EVAL_WORKDIR:?EVAL_WORKDIR not set}"
VIGILCTL=${VIGILCTL:-$here/../../filter/vigilctl}
VIGIL_CONF=${VIGIL_CONF:-$here/../../samples/vigil.conf}
ctl() {
	"$VIGILCTL" -c "$VIGIL_CONF" -o "BayesDir=$EVAL_WORKDIR/bayes" "$@"
}
cmd=${1:-}
case "$cmd" in
train)
	case "${2:-}" in spam|ham) ;; *) echo "bad label ${2:-}" >&2; exit 2 ;; esac
	ctl bayes learn "--$2" --list "$3" >&2
	;;
classify)
	ctl bayes classify --rank --list "$2"
	;;
*)
	echo "usage: $0 train spam|ham LIST | classify LIST" >&2
	exit 2
	;;
esac
