#!/bin/sh
# clamd.sh - scanning through a real clamd: a private clamd (the generated
# signatures, a unix socket in a temp dir) gets every sample over INSTREAM
# and must give the results in EXPECTED, heuristics included; then clamd
# stops and a message must be deferred (AVOnError tempfail), not passed;
# so must one over clamd's StreamMaxLength.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
CLAMD=${CLAMD:-$(command -v clamd || echo /usr/sbin/clamd)}
if [ ! -x "$CLAMD" ]; then
	echo "FAIL clamd not found: apt-get install clamav-daemon (.ci/packages.sh)"
	exit 1
fi
tmp=$(mktemp -d /tmp/vigil-av-clamd.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
python3 "$top_srcdir/tests/av/gen_samples.py" "$tmp" || exit 1
cat >"$tmp/clamd.conf" <<CONF
LocalSocket $tmp/clamd.sock
DatabaseDirectory $tmp/db
Foreground yes
LogFile $tmp/clamd.log
TemporaryDirectory $tmp
AlertEncryptedArchive yes
StreamMaxLength 200K
CONF
"$CLAMD" -c "$tmp/clamd.conf" >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -S "$tmp/clamd.sock" ] && [ $i -lt 300 ]; do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1; i=$((i + 1))
done
if [ ! -S "$tmp/clamd.sock" ]; then
	echo "FAIL clamd did not start"; cat "$tmp/clamd.log"; exit 1
fi

vc() {
	"$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
	    -o Checks=headers,av,attach \
	    -o AVScan=yes -o "ClamdSocket=unix:$tmp/clamd.sock" "$@"
}

fail=0 n=0
while IFS='	' read -r file want; do
	out=$(vc scan --json "$tmp/msg/$file" 2>"$tmp/err")
	n=$((n + 1))
	case $want in
	virus:*)
		name=${want#virus:}
		echo "$out" | grep -q "\"AV_VIRUS\",\"score\":[0-9.]*,\"detail\":\"$name" &&
		    echo "$out" | grep -q '"action":"reject"' &&
		    echo "$out" | grep -q "\"reply\":\"virus $name[^\"]* found\"" &&
		    echo "$out" | grep -q '"rcode":"554","xcode":"5.7.1"' ;;
	heuristic:*)
		echo "$out" | grep -q "\"AV_HEURISTIC\",\"score\":[0-9.]*,\"detail\":\"${want#heuristic:}\"" &&
		    ! echo "$out" | grep -q AV_VIRUS ;;
	hit:*)
		echo "$out" | grep -q "\"${want#hit:}\"" &&
		    echo "$out" | grep -q '"av":{"result":"clean"' ;;
	clean)
		echo "$out" | grep -q '"av":{"result":"clean"' &&
		    ! echo "$out" | grep -q '"AV_\|"ATTACH_' ;;
	*)
		# a label this script cannot check must not pass unchecked
		echo "unknown expectation \"$want\" in EXPECTED" >"$tmp/err"
		false ;;
	esac
	if [ $? -eq 0 ]; then
		echo "ok   $file $want"
	else
		echo "FAIL $file want $want: $out"; cat "$tmp/err"; fail=1
	fi
done <"$tmp/EXPECTED"
[ "$n" -ge 24 ] || { echo "FAIL only $n samples"; fail=1; }

# Over clamd's StreamMaxLength: clamd refuses, the message is deferred.
{ sed -n '1,/^\r$/p' "$tmp/msg/clean.eml"
  i=0; while [ $i -lt 5000 ]; do
	echo "line $i of a message larger than clamd accepts, padding padding"
	i=$((i + 1)); done; } >"$tmp/big.eml"
out=$(vc scan --json "$tmp/big.eml" 2>"$tmp/err")
if echo "$out" | grep -q '"action":"tempfail"' &&
    grep -q "check=av rc=tempfail.*size limit exceeded" "$tmp/err"; then
	echo "ok   over StreamMaxLength: tempfail ($(grep -o 'why=.*' "$tmp/err" | head -1))"
else
	echo "FAIL over StreamMaxLength: $out"; cat "$tmp/err"; fail=1
fi

# clamd gone: the message is deferred with a log line saying why.
kill "$pid"; wait "$pid" 2>/dev/null; pid=
out=$(vc scan --json "$tmp/msg/clean.eml" 2>"$tmp/err")
if echo "$out" | grep -q '"action":"tempfail"' &&
    grep -q "check=av rc=tempfail.*clamd unix:$tmp/clamd.sock: connect" "$tmp/err"; then
	echo "ok   clamd down: tempfail ($(grep -o 'why=.*' "$tmp/err" | head -1))"
else
	echo "FAIL clamd down: $out"; cat "$tmp/err"; fail=1
fi
out=$(vc -o AVOnError=accept scan --json "$tmp/msg/clean.eml" 2>"$tmp/err")
if echo "$out" | grep -q '"action":"accept"'; then
	echo "ok   clamd down with AVOnError=accept: accepted"
else
	echo "FAIL clamd down, AVOnError=accept: $out"; fail=1
fi
exit $fail
