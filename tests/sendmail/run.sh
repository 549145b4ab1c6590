#!/usr/bin/env bash
# run.sh - vigil behind a real Sendmail 8.17 (issue 8.7; make
# check-sendmail).  Debian's sendmail-bin conflicts with postfix, so the
# packages are unpacked with dpkg-deb -x into a private folder (from
# $VIGIL_SENDMAIL_DEBS, default /var/cache/vigil-test/sendmail, which
# .ci/packages.sh fills with apt-get download; fetched the same way if
# missing).  A sendmail.cf is built with Sendmail's own m4 files and the
# INPUT_MAIL_FILTER line of contrib/sendmail.mc (socket path replaced);
# Sendmail listens on 127.0.0.1 and relays to the harness's smtp-sink.
# Checks: a message tagged (X-Spam-Flag/Status/Score, subject rewritten),
# a clean one accepted with X-Spam-Status: No, a spam one refused with
# 550 5.7.1, a virus (EICAR in a zip, made at run time by
# tests/av/gen_samples.py, with its test signatures) refused with 554
# 5.7.1, and Sendmail tempfails (4xx) while vigil is down.
# Mail comes from 127.0.0.1 (Sendmail has no XCLIENT), so vigil runs
# with SkipTrusted=no.  Prints ok/FAIL lines, then "N passed, N failed".
set -u
. "$(dirname "$0")/../postfix/lib.sh"

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
# SPF/DKIM/DMARC from a zone file: the same answers with or without DNS.
PF_DNS_ZONE=${PF_DNS_ZONE:-$top_srcdir/tests/data/postfix/zone.txt}
DEBS=${VIGIL_SENDMAIL_DEBS:-/var/cache/vigil-test/sendmail}
# Thresholds at which tagged.eml is tagged and reject-two-froms.eml
# refused with the shipped rules' learned scores (no Bayes store: the
# rules' own score set), ham-plain.eml accepted.
VIGIL_OPTS=(SkipTrusted=no TagScore=0.5 SubjectScore=0.5 RejectScore=5.0
    "DNSZoneFile=$PF_DNS_ZONE")

pf_workdir || exit 1
# Sendmail counts [127.0.0.1] as itself and would not relay there.
PF_SINK_ADDR=127.0.0.2
pf_sink_start || exit 1
SM=$PF_WORK/sendmail
mkdir -p "$SM/root" "$SM/mqueue" "$SM/etc"
chmod 700 "$SM/mqueue"

# ------------------------------------------------------------ unpack
if ! ls "$DEBS"/sendmail-bin_*.deb >/dev/null 2>&1; then
	mkdir -p "$DEBS"
	(cd "$DEBS" && apt-get download sendmail-bin sendmail-base sendmail-cf) \
	    >"$PF_WORK/apt.log" 2>&1
fi
for d in "$DEBS"/sendmail-bin_*.deb "$DEBS"/sendmail-base_*.deb "$DEBS"/sendmail-cf_*.deb; do
	[ -f "$d" ] && dpkg-deb -x "$d" "$SM/root"
done
SENDMAIL=$SM/root/usr/libexec/sendmail/sendmail
CFDIR=$SM/root/usr/share/sendmail/cf
if [ ! -x "$SENDMAIL" ] || [ ! -f "$CFDIR/m4/cf.m4" ]; then
	pf_fail "Sendmail unpacked" "no sendmail-bin/-cf in $DEBS: $(tail -2 "$PF_WORK/apt.log" 2>/dev/null)"
	pf_summary
	exit 1
fi
# sm_run CMD...: run CMD where /etc/hosts is $SM/etc/hosts: Sendmail
# sleeps a minute at start when it cannot qualify the machine's name.
printf '127.0.0.1\tlocalhost %s mx.sendmail-test.invalid\n' "$(hostname)" >"$SM/etc/hosts"
sm_run() {
	unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
	    "$SM/etc/hosts" "$@"
}
version=$(sm_run "$SENDMAIL" -d0.1 -bt -C /dev/null </dev/null 2>&1 | sed -n 's/^Version //p')
case $version in
8.17*) pf_ok "real Sendmail $version unpacked privately" ;;
*) pf_fail "Sendmail 8.17" "version: ${version:-none}" ;;
esac

# ------------------------------------------------------------ sendmail.cf
SM_PORT=$(pf_free_port)
while [ "$SM_PORT" = "$PF_SINK_PORT" ]; do
	SM_PORT=$(pf_free_port)
done
filter_line=$(grep '^INPUT_MAIL_FILTER' "$top_srcdir/contrib/sendmail.mc" |
    sed "s|unix:/run/vigil/vigil.sock|unix:$PF_SOCK|")
if [ -z "$filter_line" ]; then
	pf_fail "contrib/sendmail.mc has an INPUT_MAIL_FILTER line" "none found"
	pf_summary
	exit 1
fi
printf 'hosts files\n' >"$SM/etc/service.switch"
: >"$SM/etc/local-host-names"
cat >"$SM/etc/test.mc" <<MCEOF
divert(-1)
divert(0)dnl
VERSIONID(\`vigil test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.sendmail-test.invalid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM/etc/hosts')dnl
define(\`confCW_FILE', \`$SM/etc/local-host-names')dnl
define(\`QUEUE_DIR', \`$SM/mqueue')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confHELP_FILE', \`')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confMILTER_LOG_LEVEL', \`6')dnl
define(\`SMART_HOST', \`[$PF_SINK_ADDR]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PF_SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $PF_SINK_PORT')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $PF_SINK_PORT')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
$filter_line
define(\`confINPUT_MAIL_FILTERS', \`vigil')dnl
MAILER(\`smtp')dnl
MCEOF
: >"$SM/statistics"
if m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$SM/etc/test.mc" \
    >"$SM/etc/sendmail.cf" 2>"$PF_WORK/m4.log" &&
    grep -q "^Xvigil, S=unix:$PF_SOCK" "$SM/etc/sendmail.cf"; then
	pf_ok "sendmail.cf built with contrib/sendmail.mc's INPUT_MAIL_FILTER"
else
	pf_fail "sendmail.cf built" "$(head -5 "$PF_WORK/m4.log")"
	pf_summary
	exit 1
fi

# ------------------------------------------------------------ run
# ClamAV with the test signatures and an EICAR message made at run time.
AV=$PF_WORK/av
if ! "$PYTHON" "$top_srcdir/tests/av/gen_samples.py" "$AV" >"$PF_WORK/av.log" 2>&1; then
	pf_fail "test signatures generated" "$(tail -3 "$PF_WORK/av.log")"
fi
VIGIL_OPTS+=(AVScan=yes "DatabaseDirectory=$AV/db")
pf_vigil_start "$CONF" "${VIGIL_OPTS[@]}" || { pf_fail "vigil starts" "see above"; pf_summary; exit 1; }
sm_run "$SENDMAIL" -C "$SM/etc/sendmail.cf" -bd -q30s -L sm-vigil-test \
    >"$PF_WORK/sendmail.out" 2>&1
if pf_wait_sock "127.0.0.1:$SM_PORT" 30; then
	pf_ok "Sendmail listens on 127.0.0.1:$SM_PORT with vigil as its filter"
else
	pf_fail "Sendmail starts" "$(cat "$PF_WORK/sendmail.out")"
	pf_summary
	exit 1
fi
sm_stop() {
	[ -s "$SM/sendmail.pid" ] && kill "$(head -1 "$SM/sendmail.pid")" 2>/dev/null
}
trap 'sm_stop; pf_teardown' EXIT
PF_SMTP_PORT=$SM_PORT

# Wait until the sink holds message ID (Sendmail delivers in the background).
wait_delivered() {
	local i=0 f
	while [ $i -lt 150 ]; do
		f=$(pf_delivered "$1") && { echo "$f"; return 0; }
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

pf_send --from sender@example.net --rcpt rcpt@sink.invalid --id-prefix tag \
    "$top_srcdir/tests/data/sendmail/tagged.eml" >"$PF_WORK/tag.tsv"
IFS=$'\t' read -r _ _ stage code _ text <"$PF_WORK/tag.tsv"
if [ "$code" != 250 ]; then
	pf_fail "tagged message accepted by Sendmail" "$stage: $code $text"
elif ! f=$(wait_delivered tag-0); then
	pf_fail "tagged message delivered" "not in the sink after 30 s"
else
	status=$(pf_header X-Spam-Status "$f")
	case "$status|$(pf_header X-Spam-Flag "$f")|$(pf_header Subject "$f")" in
	Yes,\ score=*FROM_MALFORMED*"|YES|[SPAM] "*)
		pf_ok "tagged through Sendmail: X-Spam-Status: $status" ;;
	*)
		pf_fail "tagged through Sendmail" "X-Spam-Status: $status; Flag: $(pf_header X-Spam-Flag "$f"); Subject: $(pf_header Subject "$f")" ;;
	esac
fi

pf_send --from sender@example.net --rcpt rcpt@sink.invalid --id-prefix ham \
    "$top_srcdir/samples/messages/ham-plain.eml" >"$PF_WORK/ham.tsv"
if f=$(wait_delivered ham-0) && pf_header X-Spam-Status "$f" | grep -q '^No, score='; then
	pf_ok "clean message accepted through Sendmail with X-Spam-Status: No"
else
	pf_fail "clean message through Sendmail" "$(cut -f3,4,6 "$PF_WORK/ham.tsv"); X-Spam-Status: $(pf_header X-Spam-Status "${f:-/dev/null}")"
fi

pf_send --from sender@example.net --rcpt rcpt@sink.invalid --id-prefix rej \
    "$top_srcdir/tests/data/postfix/reject-two-froms.eml" >"$PF_WORK/rej.tsv"
IFS=$'\t' read -r _ _ stage code _ text <"$PF_WORK/rej.tsv"
if [ "$code" = 550 ] && [ "${text#5.7.1}" != "$text" ]; then
	pf_ok "spam refused through Sendmail: $code $text"
else
	pf_fail "spam refused through Sendmail" "$stage: $code $text"
fi

pf_send --from sender@example.net --rcpt rcpt@sink.invalid --id-prefix virus \
    "$AV/msg/eicar-zip.eml" >"$PF_WORK/virus.tsv"
IFS=$'\t' read -r _ _ stage code _ text <"$PF_WORK/virus.tsv"
case "$code $text" in
"554 5.7.1 virus "*" found")
	pf_ok "virus rejected through Sendmail: $code $text" ;;
*)	pf_fail "virus rejected through Sendmail" "$stage: $code $text" ;;
esac

# F=T: with vigil gone Sendmail must tempfail, not pass mail unfiltered.
pf_vigil_kill KILL
pf_send --from sender@example.net --rcpt rcpt@sink.invalid --id-prefix down \
    "$top_srcdir/samples/messages/ham-plain.eml" >"$PF_WORK/down.tsv"
IFS=$'\t' read -r _ _ stage code _ text <"$PF_WORK/down.tsv"
case $code in
4*) pf_ok "Sendmail tempfails while vigil is down ($stage: $code $text)" ;;
*) pf_fail "Sendmail tempfails while vigil is down" "$stage: $code $text" ;;
esac
if [ "$PF_FAILED" -gt 0 ]; then
	echo "--- vigil log"
	tail -10 "$PF_VIGIL_LOG"
fi
pf_summary
