#!/bin/bash
# deb.sh - the Debian package end to end (make check-deb, part of make
# check-postfix).  Needs root, debhelper, lintian and postfix:
#   1. the distribution tree builds with `dpkg-buildpackage -us -uc -b`,
#      and lintian finds no errors in the package;
#   2. it installs: a vigil system user and group owning /var/lib/vigil
#      and /run/vigil, /etc/vigil/vigil.conf a conffile, rules.d, the
#      shipped rules, the man pages, the systemd unit enabled but not
#      started (policy-rc.d says no);
#   3. `vigil -n` without a configuration reports the installed rules,
#      Bayes learning and the AV state; the installed vigil, run as user
#      vigil on its installed defaults behind a private Postfix, filters
#      mail, makes its Bayes store (vigil's, not world-readable) and
#      writes a LogFile that the installed logrotate file rotates;
#   4. `dpkg --purge` leaves nothing of it running or on disk.
# Skipped when a vigil package is installed already (not ours to touch).
set -u
. "$(dirname "$0")/lib.sh"
pf_need_root
for b in dpkg-buildpackage dh lintian setpriv; do
	if ! command -v "$b" >/dev/null 2>&1; then
		echo "SKIP: $b missing (apt-get install debhelper lintian)" >&2
		exit 77
	fi
done
if dpkg-query -W -f='${Status}' vigil 2>/dev/null | grep -q installed; then
	echo "SKIP: a vigil package is installed on this machine" >&2
	exit 77
fi
had_user=no
getent passwd vigil >/dev/null && had_user=yes
had_policy=yes
pf_setup || exit 1
D=$PF_WORK/deb
mkdir -p "$D"
# cleanup: whatever happens, the package and what it made go.
cleanup() {
	pkill -u vigil -x vigil 2>/dev/null
	if dpkg-query -W -f='${Status}' vigil 2>/dev/null | grep -q installed; then
		dpkg --purge vigil >/dev/null 2>&1
	fi
	if [ "$had_user" = no ] && getent passwd vigil >/dev/null; then
		deluser --system --quiet vigil >/dev/null 2>&1
		delgroup --system --quiet vigil >/dev/null 2>&1
	fi
	[ "$had_policy" = yes ] || rm -f /usr/sbin/policy-rc.d
	pf_teardown
}
trap cleanup EXIT

# ------------------------------------------------------------- 1. build
if ! make -C "$top_builddir" distdir distdir="$D/vigil-src" >"$D/dist.log" 2>&1; then
	pf_fail "the distribution tree" "$(tail -5 "$D/dist.log")"
	pf_summary
	exit 1
fi
if (cd "$D/vigil-src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -us -uc -b) >"$D/build.log" 2>&1; then
	pf_ok "dpkg-buildpackage -us -uc -b builds the package"
else
	pf_fail "dpkg-buildpackage" "$(tail -15 "$D/build.log")"
	pf_summary
	exit 1
fi
deb=$(ls "$D"/vigil_*.deb | head -1)
if lintian --fail-on error "$deb" >"$D/lintian.log" 2>&1; then
	pf_ok "lintian: no errors ($(grep -c '^W:' "$D/lintian.log") warnings)"
	sed -n 's/^W: /# lintian warning: /p' "$D/lintian.log"
else
	pf_fail "lintian" "$(grep '^E:' "$D/lintian.log" | head -10)"
fi

# ----------------------------------------------------------- 2. install
if [ ! -e /usr/sbin/policy-rc.d ]; then
	had_policy=no
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
if dpkg -i "$deb" >"$D/install.log" 2>&1; then
	pf_ok "dpkg -i installs it"
else
	pf_fail "dpkg -i" "$(tail -10 "$D/install.log")"
	pf_summary
	exit 1
fi
pf_check "a vigil system user and group" getent passwd vigil
pf_check "the vigil group" getent group vigil
for d in /var/lib/vigil /run/vigil; do
	o=$(stat -c '%U:%G %a' "$d" 2>/dev/null)
	[ "$o" = "vigil:vigil 750" ] && pf_ok "$d owned by vigil ($o)" ||
	    pf_fail "$d owned by vigil" "${o:-missing}"
done
if dpkg-query -W -f='${Conffiles}\n' vigil | grep -q ' /etc/vigil/vigil.conf '; then
	pf_ok "/etc/vigil/vigil.conf is a conffile"
else
	pf_fail "/etc/vigil/vigil.conf is a conffile" "$(dpkg-query -W -f='${Conffiles}' vigil)"
fi
if dpkg-query -W -f='${Conffiles}\n' vigil | grep -q ' /etc/logrotate.d/vigil '; then
	pf_ok "/etc/logrotate.d/vigil is a conffile"
else
	pf_fail "/etc/logrotate.d/vigil is a conffile" "$(dpkg-query -W -f='${Conffiles}' vigil)"
fi
pf_check "/etc/vigil/rules.d" test -d /etc/vigil/rules.d
pf_check "the shipped rules in /usr/share/vigil/rules" \
    test -f /usr/share/vigil/rules/90_scores.rules
pf_check "the man pages" test -f /usr/share/man/man5/vigil.conf.5.gz
pf_check "the systemd unit" test -f /lib/systemd/system/vigil.service
pf_check "the unit is enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/vigil.service
if pgrep -u vigil -x vigil >/dev/null; then
	pf_fail "not started by the postinst (policy-rc.d)" "$(pgrep -a -u vigil)"
else
	pf_ok "not started by the postinst (policy-rc.d says no)"
fi

# -------------------------------------------------- 3. vigil -n, mail
# No configuration at all: the embedded defaults, as this package built
# them (vigil.conf moved aside for the while), run as the unit's
# ExecStartPre runs it, as user vigil.
mv /etc/vigil/vigil.conf "$D/vigil.conf.saved"
setpriv --reuid=vigil --regid=vigil --init-groups /usr/sbin/vigil -n \
    >"$D/n.out" 2>"$D/n.err"
rc=$?
mv "$D/vigil.conf.saved" /etc/vigil/vigil.conf
n=$(sed -n 's|^  rules *on: \([0-9]*\) rules from /usr/share/vigil/rules\( then .*\)\{0,1\}$|\1|p' "$D/n.out")
if [ "$rc" -eq 0 ] &&
    grep -q '/etc/vigil/vigil.conf not found: using the embedded defaults' "$D/n.err" &&
    [ "${n:-0}" -gt 0 ] &&
    grep -Eq '^  bayes +on: learning' "$D/n.out" &&
    grep -Eq '^  av +(on: libclamav, [0-9]+ signatures from /var/lib/clamav|off: no signatures in /var/lib/clamav \(install clamav-freshclam\))$' "$D/n.out"; then
	pf_ok "vigil -n without a configuration: $n rules, Bayes learning, av $(sed -n 's/^  av *//p' "$D/n.out")"
else
	pf_fail "vigil -n without a configuration" "exit $rc: $(cat "$D/n.err" "$D/n.out")"
fi
# The folder the unit's LogsDirectory= makes, for a LogFile.
mkdir -p /var/log/vigil
chown vigil:vigil /var/log/vigil
chmod 750 /var/log/vigil
# The installed defaults, with the sockets where this Postfix reaches
# them and lookups from the empty zone (no network).
chown vigil:vigil "$PF_WORK/run"
# The zone where user vigil can read it: the build tree may sit in a
# folder only root enters (the sanitizer pass builds in a private one).
cp "$top_srcdir/tests/data/dns/empty.zone" "$PF_WORK/run/empty.zone"
chmod 644 "$PF_WORK/run/empty.zone"
ctl=(/usr/bin/vigilctl -o "ControlSocket=$PF_WORK/run/control.sock")
pf_milter_start "unix:$PF_SOCK" setpriv --reuid=vigil --regid=vigil \
    --init-groups /usr/sbin/vigil -f -p "unix:$PF_SOCK" \
    -o "ControlSocket=$PF_WORK/run/control.sock" \
    -o "DNSZoneFile=$PF_WORK/run/empty.zone" \
    -o "LogFile=/var/log/vigil/vigil.json" -o "LogFormat=json" ||
    { pf_fail "the installed vigil starts as vigil" "$(tail -5 "$PF_VIGIL_LOG")"; pf_summary; exit 1; }
uid=$(ps -o user= -p "$PF_MILTER_PID" 2>/dev/null | tr -d ' ')
[ "$uid" = vigil ] && pf_ok "the installed vigil runs as vigil" ||
    pf_fail "the installed vigil runs as vigil" "user ${uid:-?}"
pf_send --xclient 203.0.113.5 --from sender@example.net \
    --rcpt user@sink.invalid --id-prefix deb \
    "$top_srcdir/samples/messages/ham-plain.eml" \
    "$top_srcdir/samples/messages/spam-tagged.eml" >"$D/sent.tsv"
pf_wait_drain 60 >/dev/null
f=$(pf_delivered deb-0) && [ "$(pf_header X-Spam-Status "$f" | cut -c1-3)" = "No," ] &&
    pf_ok "ham delivered with X-Spam-Status: No" ||
    pf_fail "ham delivered" "$(cat "$D/sent.tsv"; tail -3 "$PF_VIGIL_LOG")"
f=$(pf_delivered deb-1) && [ "$(pf_header X-Spam-Status "$f" | cut -c1-4)" = "Yes," ] &&
    pf_ok "spam tagged by the shipped rules" ||
    pf_fail "spam tagged" "$(cat "$D/sent.tsv"; tail -3 "$PF_VIGIL_LOG")"
"${ctl[@]}" stats >"$D/stats" 2>&1
if grep -q '^check.rules.status on: [0-9]* rules from /usr/share/vigil/rules' "$D/stats" &&
    grep -q '^check.bayes.status on: learning' "$D/stats"; then
	pf_ok "vigilctl stats: the installed rules, Bayes learning"
else
	pf_fail "vigilctl stats" "$(grep status "$D/stats")"
fi
o=$(stat -c '%U %A' /var/lib/vigil/bayes /var/lib/vigil/bayes/data.mdb 2>/dev/null | tr '\n' ' ')
case $o in
vigil\ drwxr-x---\ vigil\ -rw-r-----\ |vigil\ drwxr-x---\ vigil\ -rw-------\ )
	pf_ok "the Bayes store made by vigil in /var/lib/vigil ($o)" ;;
*)	pf_fail "the Bayes store made by vigil, not world-readable" "${o:-missing}" ;;
esac
n=$(grep -c '"action":' /var/log/vigil/vigil.json 2>/dev/null)
[ "${n:-0}" -eq 2 ] && pf_ok "LogFile: a record for each message" ||
    pf_fail "LogFile /var/log/vigil/vigil.json" "${n:-no} records"
if logrotate -f -s "$D/logrotate.state" /etc/logrotate.d/vigil >"$D/logrotate.log" 2>&1 &&
    [ "$(grep -c '"action":' /var/log/vigil/vigil.json.1 2>/dev/null)" -eq 2 ]; then
	pf_ok "logrotate rotates it with /etc/logrotate.d/vigil"
else
	pf_fail "logrotate /etc/logrotate.d/vigil" "$(cat "$D/logrotate.log"; ls -l /var/log/vigil)"
fi
pf_vigil_stop

# --------------------------------------------------------------- 4. purge
if dpkg --purge vigil >"$D/purge.log" 2>&1; then
	pf_ok "dpkg --purge"
else
	pf_fail "dpkg --purge" "$(tail -5 "$D/purge.log")"
fi
# The purge stops the service: wait (10 s at most) for its processes to go.
# (other vigils, built elsewhere, may run on this machine)
left() { pgrep -u vigil >/dev/null 2>&1 || pgrep -f '^/usr/sbin/vigil' >/dev/null; }
i=0
while left && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if left; then
	pf_fail "nothing of it left running" "$(pgrep -a -f '^/usr/sbin/vigil')"
else
	pf_ok "nothing of it left running"
fi
left=
for p in /usr/sbin/vigil /usr/bin/vigilctl /etc/vigil /var/lib/vigil \
    /run/vigil /var/log/vigil /etc/logrotate.d/vigil /usr/share/vigil \
    /lib/systemd/system/vigil.service \
    /etc/systemd/system/multi-user.target.wants/vigil.service; do
	[ -e "$p" ] && left="$left $p"
done
[ -z "$left" ] && pf_ok "nothing of it left on disk" ||
    pf_fail "nothing of it left on disk" "$left"
pf_summary
