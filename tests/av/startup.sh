#!/bin/sh
# startup.sh - a missing or empty DatabaseDirectory stops startup with a
# message naming it: the daemon (vigil -f), its config check (vigil -n)
# and vigilctl scan all refuse.  A database that exists lets them start.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
conf=$top_srcdir/samples/vigil.conf
msg=$top_srcdir/samples/messages/ham-plain.eml
tmp=$(mktemp -d /tmp/vigil-av-startup.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail=0
mkdir "$tmp/empty"
python3 "$top_srcdir/tests/av/gen_samples.py" "$tmp/data" || exit 1

for dir in "$tmp/missing" "$tmp/empty"; do
	o="-o Checks=headers,av,attach -o AVScan=yes -o DatabaseDirectory=$dir"
	# vigilctl scan: exit 78 (EX_CONFIG), the directory named.
	"$top_builddir/filter/vigilctl" -c "$conf" $o scan "$msg" \
	    >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] || ! grep -q "DatabaseDirectory $dir" "$tmp/out"; then
		echo "FAIL vigilctl with $dir: rc=$rc"; cat "$tmp/out"; fail=1
	else
		echo "ok   vigilctl refuses $dir: $(grep -m1 DatabaseDirectory "$tmp/out")"
	fi
	# vigil -n (configuration check) and vigil -f (the daemon itself).
	for mode in -n -f; do
		timeout 30 "$top_builddir/filter/vigil" $mode -c "$conf" $o \
		    -o "ControlSocket=$tmp/control.sock" \
		    -p "unix:$tmp/vigil.sock" >"$tmp/out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] ||
		    ! grep -q "DatabaseDirectory $dir" "$tmp/out"; then
			echo "FAIL vigil $mode with $dir: rc=$rc"
			cat "$tmp/out"; fail=1
		else
			echo "ok   vigil $mode refuses $dir (exit $rc)"
		fi
	done
done

# The control case: with signatures the same commands start.
o="-o Checks=headers,av,attach -o AVScan=yes -o DatabaseDirectory=$tmp/data/db"
if "$top_builddir/filter/vigil" -n -c "$conf" $o >"$tmp/out" 2>&1; then
	echo "ok   vigil -n accepts $tmp/data/db"
else
	echo "FAIL vigil -n with a database"; cat "$tmp/out"; fail=1
fi
"$top_builddir/filter/vigil" -f -c "$conf" $o \
    -o "ControlSocket=$tmp/control.sock" -p "unix:$tmp/vigil.sock" \
    >"$tmp/daemon.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$tmp/vigil.sock" ] && [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
if [ -S "$tmp/vigil.sock" ]; then
	echo "ok   vigil -f starts with $tmp/data/db"
else
	echo "FAIL vigil -f did not start with a database"
	cat "$tmp/daemon.log"; fail=1
fi
exit $fail
