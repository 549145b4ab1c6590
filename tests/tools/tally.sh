#!/bin/sh
# tally.sh - the counting behind tests/run-all.sh's last line: what one
# suite's log says it ran, and the sum of all suites.
#
#   tally.sh log NAME RC LOG        a suite run as one command (exit RC)
#   tally.sh automake NAME RC DIR   make check (exit RC) in build folder DIR:
#                                   every test's DIR/tests/**/*.log and .trs
#   tally.sh skipped NAME           a suite left out by name (VIGIL_SKIP)
#   tally.sh total FILE             the sum of the "== " lines in FILE
#
# The first three print one line, "== NAME: P passed, F failed, S skipped"
# and what it came from; run-all.sh keeps them and `total` adds them up to
# "total: P passed, F failed, S skipped".  tests/tools/tally-test.sh feeds
# this a log of every shape.
#
# What a log says it ran, every line of it added up:
#  - "N passed, N failed" lines, optionally "NAME: " before and
#    ", N skipped" after (our scripts; a skipped suite prints
#    "NAME: 0 passed, 0 failed, 1 skipped");
#  - cmocka's "[  PASSED  ] N test(s)", "[  FAILED  ] N test(s)" and
#    "[  SKIPPED ] N test(s)", one of each per group of tests;
#  - automake's "Testsuite summary" ("# PASS:  N", FAIL, SKIP...), which
#    is all make distcheck shows of the tests it runs.
# Then:
#  - a run that exited non-zero (automake: FAIL, ERROR, XPASS) and
#    counted no failure counts as one failure, and its passes are not
#    credited: a count printed before the failure does not say what
#    passed;
#  - a run that counted nothing at all is a failure (it ran no test),
#    except an automake test, whose PASS counts one and SKIP one skipped;
#    "0 passed, 0 failed" alone is a failure there too.
set -u

# count LOG: "P F S FOUND" (FOUND: 1 if a count line was seen at all)
count() {
	awk '
	/^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed/ {
		s = $0
		sub(/^[A-Za-z0-9_.-]+: /, "", s)
		split(s, w, /[ ,]+/)
		p += w[1]; f += w[3]
		if (w[6] ~ /^skipped/) k += w[5]
		found = 1
		next
	}
	/^\[  PASSED  \] [0-9]+ test/ { p += $4; found = 1; next }
	/^\[  FAILED  \] [0-9]+ test/ { f += $4; found = 1; next }
	/^\[  SKIPPED \] [0-9]+ test/ { k += $4; found = 1; next }
	/^# (PASS|XFAIL): +[0-9]+$/ { p += $3; found = 1; next }
	/^# (FAIL|XPASS|ERROR): +[0-9]+$/ { f += $3; found = 1; next }
	/^# SKIP: +[0-9]+$/ { k += $3; found = 1; next }
	END { printf "%d %d %d %d\n", p, f, k, found }
	' "$1"
}

# judge NAME KIND(log|automake) BAD P F S FOUND WHAT: prints the line.
# BAD: 0 the run went well, 1 it failed (exit status, automake FAIL),
# 2 automake said SKIP.
judge() {
	name=$1 kind=$2 bad=$3 p=$4 f=$5 s=$6 found=$7 what=$8 note=
	if [ "$bad" = 1 ] && [ "$f" -eq 0 ]; then
		[ "$p" -gt 0 ] && note=" ($p passes not credited: it failed)"
		[ "$p" -eq 0 ] && note=" (failed without counting a failure)"
		p=0 f=1
	elif [ $((p + f + s)) -eq 0 ]; then
		if [ "$kind" = automake ] && [ "$found" = 0 ] && [ "$bad" = 2 ]; then
			s=1
		elif [ "$kind" = automake ] && [ "$found" = 0 ]; then
			p=1
		else
			f=1 note=" (ran no counted test)"
		fi
	fi
	echo "== $name: $p passed, $f failed, $s skipped$note ($what)"
}

# trs_result TRS: automake's verdict: 0 pass, 1 fail, 2 skip
trs_result() {
	case $(sed -n 's/^:test-result: //p' "$1" | head -1) in
	PASS | XFAIL) echo 0 ;;
	SKIP) echo 2 ;;
	*) echo 1 ;;
	esac
}

case ${1:-} in
log)
	[ $# -eq 4 ] || { echo "usage: tally.sh log NAME RC LOG" >&2; exit 2; }
	bad=0
	[ "$3" -ne 0 ] && bad=1
	# shellcheck disable=SC2046 # four numbers
	judge "$2" log $bad $(count "$4") "exit $3, log $4"
	;;
automake)
	[ $# -eq 4 ] || { echo "usage: tally.sh automake NAME RC DIR" >&2; exit 2; }
	name=$2 rc=$3 dir=$4
	P=0 F=0 S=0 n=0
	for trs in $(find "$dir/tests" -name '*.trs' 2>/dev/null | sort); do
		log=${trs%.trs}.log
		[ -f "$log" ] || continue
		n=$((n + 1))
		# shellcheck disable=SC2046 # four numbers
		line=$(judge "${log#"$dir"/}" automake "$(trs_result "$trs")" \
		    $(count "$log") "log $log")
		echo "   ${line#== }"
		set -- $(echo "$line" | sed -E 's/^== .*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/')
		P=$((P + $1)) F=$((F + $2)) S=$((S + $3))
	done
	note=
	if [ "$rc" -ne 0 ] && [ $F -eq 0 ]; then
		F=1 note=" (make exited $rc with no test failed)"
	elif [ $n -eq 0 ]; then
		F=1 note=" (ran no test)"
	fi
	echo "== $name: $P passed, $F failed, $S skipped$note (exit $rc, $n tests)"
	;;
skipped)
	[ $# -eq 2 ] || { echo "usage: tally.sh skipped NAME" >&2; exit 2; }
	echo "== $2: 0 passed, 0 failed, 1 skipped (VIGIL_SKIP)"
	;;
total)
	[ $# -eq 2 ] || { echo "usage: tally.sh total FILE" >&2; exit 2; }
	sed -nE 's/^== [^ ]+: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/p' "$2" |
	    awk '{ p += $1; f += $2; s += $3 }
	    END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
	;;
*)
	echo "usage: tally.sh log|automake|skipped|total ..." >&2
	exit 2
	;;
esac
