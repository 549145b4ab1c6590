#!/bin/sh
# vigil's whole verdict on the accuracy harness
# (shared/bench/accuracy/evaluate.py):
#   vigil-verdict.sh train spam|ham LISTFILE
#   vigil-verdict.sh classify LISTFILE   -> <path>\t<score>\t<spam|ham>
# Training learns Bayes (`vigilctl bayes learn`) into an LMDB store under
# $EVAL_WORKDIR; classifying runs `vigilctl scan --json` on every message,
# every check offline (an empty DNS zone, autolearn off), and says spam
# when the action is anything but accept, at the shipped thresholds.
#   VIGIL_CONF      the configuration (default: samples/vigil.conf)
#   VIGIL_RULES     folders whose rules files make RulesDir, in order
#                   (default: the configuration's own RulesDir)
#   VIGIL_OPTS      more -o Keyword=value for vigilctl (e.g.
#                   "-o SpamAssassinRules=/usr/share/spamassassin")
#   VIGIL_REFIT=1   fit the scores on the training lists too (`vigilctl
#                   scores learn`), for a rule set the shipped weights
#                   were not fitted on
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${EVAL_WORKDIR:?EVAL_WORKDIR not set}"
VIGILCTL=${VIGILCTL:-$here/../../filter/vigilctl}
VIGIL_CONF=${VIGIL_CONF:-$here/../../samples/vigil.conf}
W=$EVAL_WORKDIR
: > "$W/zone" 2>/dev/null || true
opts="-o BayesDir=$W/bayes -o DNSZoneFile=$W/zone -o BayesAutolearn=no ${VIGIL_OPTS:-}"
if [ -n "${VIGIL_RULES:-}" ]; then
	if [ ! -d "$W/rules" ]; then
		mkdir -p "$W/rules"
		for d in $VIGIL_RULES; do
			for f in "$d"/*.rules "$d"/*.cf; do
				[ -f "$f" ] && ln -sf "$f" "$W/rules/"
			done
		done
	fi
	opts="$opts -o RulesDir=$W/rules"
fi
ctl() {
	# shellcheck disable=SC2086
	"$VIGILCTL" -c "$VIGIL_CONF" $opts "$@"
}
case "${1:-}" in
train)
	case "${2:-}" in spam|ham) ;; *) echo "bad label ${2:-}" >&2; exit 2 ;; esac
	cp "$3" "$W/train_$2"
	ctl bayes learn "--$2" --list "$3" >&2
	if [ "${VIGIL_REFIT:-0}" = 1 ] && [ -f "$W/train_spam" ] &&
	    [ -f "$W/train_ham" ]; then
		# Sorts after every rules file: zz_.
		ctl scores learn --spam-list "$W/train_spam" \
		    --ham-list "$W/train_ham" -o "$W/zz_refit.rules" >&2
		if [ -d "$W/rules" ]; then
			mv "$W/zz_refit.rules" "$W/rules/"
		else
			echo "VIGIL_REFIT needs VIGIL_RULES" >&2
			exit 2
		fi
	fi
	;;
classify)
	tr '\n' '\0' < "$2" | xargs -0 "$VIGILCTL" -c "$VIGIL_CONF" $opts \
	    scan --json 2> "$W/scan.err" |
	python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    v = "ham" if d["action"] == "accept" else "spam"
    print("%s\t%.3f\t%s" % (d["file"], d["score"], v))'
	;;
*)
	echo "usage: $0 train spam|ham LIST | classify LIST" >&2
	exit 2
	;;
esac
