#!/bin/bash
# demo.sh - vigil's main job, end to end, on its embedded defaults: build
# (if needed), start vigil and a private Postfix on 127.0.0.1 with vigil as
# its milter, send every samples/messages/*.eml through it as internet
# mail, and show what happened to each: vigil's verdict line and the
# headers the delivered copy carries (or the SMTP reply that refused it).
# Needs root (Postfix) and the packages of .ci/packages.sh.  Leaves
# nothing running.
# The README runs it as `sh samples/demo.sh`: dash on Debian, so the bash
# this script and tests/postfix/lib.sh are written in is called here.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# The programs: built in this tree (built here when missing), or in the
# build tree that top_builddir names (a separate build, as the tests use).
: "${top_builddir:=$top}"
if [ ! -x "$top_builddir/filter/vigil" ] || [ ! -x "$top_builddir/filter/vigilctl" ]; then
	if [ "$top_builddir" != "$top" ]; then
		echo "demo.sh: no vigil built in $top_builddir" >&2
		exit 1
	fi
	echo "building vigil (log: /tmp/vigil-demo-build.log)"
	{ autoreconf -fi && ./configure && make -j2; } >/tmp/vigil-demo-build.log 2>&1 ||
	    { tail -20 /tmp/vigil-demo-build.log; exit 1; }
fi
top_srcdir=$top
. "$top/tests/postfix/lib.sh"
pf_need_root
pf_setup || exit 1
# No -c and no /etc/vigil/vigil.conf: vigil runs on its embedded defaults;
# only the sockets are placed in the demo's folder, and SPF/DKIM/DMARC
# lookups are answered from an empty zone so that the demo gives the same
# answers on any machine, with or without a network.
zone=$top/tests/data/dns/empty.zone
pf_milter_start "unix:$PF_SOCK" "$top_builddir/filter/vigil" -f -p "unix:$PF_SOCK" \
    -o "ControlSocket=$PF_WORK/control.sock" -o "DNSZoneFile=$zone" || exit 1
echo
echo "vigil $("$top_builddir/filter/vigil" -V | cut -d' ' -f2) is the milter of a private Postfix on 127.0.0.1:$PF_SMTP_PORT"
echo "sending $(ls samples/messages/*.eml | wc -l) messages from samples/messages as client 203.0.113.5"
echo
pf_send --xclient 203.0.113.5 --helo mail.example.net --from sender@example.net \
    --rcpt user@sink.invalid --id-prefix demo samples/messages/*.eml >"$PF_WORK/sent.tsv"
pf_wait_drain 60 >/dev/null
while IFS=$'\t' read -r id file stage code qid text; do
	echo "=== $(basename "$file")"
	echo "SMTP: $code $text"
	grep "q=$qid verdict=" "$PF_VIGIL_LOG" | sed 's/^[^ ]* [^ ]* [a-z]*: /vigil: /'
	if f=$(pf_delivered "$id"); then
		echo "delivered with:"
		grep -aiE '^(X-Spam-[A-Za-z]+|Authentication-Results|X-Virus-[A-Za-z]+|Subject):' "$f" |
		    sed 's/^/    /'
	else
		echo "not delivered"
	fi
	echo
done <"$PF_WORK/sent.tsv"
echo "offline, the same verdicts with every point explained:"
echo "    filter/vigilctl scan --ip 203.0.113.5 samples/messages/*.eml"
"$top_builddir/filter/vigilctl" -o "DNSZoneFile=$zone" scan --ip 203.0.113.5 --helo mail.example.net \
    --from sender@example.net samples/messages/*.eml
