#!/bin/bash
# demo.sh - the whole product in one command.  Installs vigil (make
# install into a private folder), starts it on the installed defaults with
# a few site choices, behind a private Postfix on 127.0.0.1, and sends
# samples/messages/*.eml (each says in its X-Demo header what it shows)
# plus an EICAR zip made here.  For each it prints vigil's verdict line,
# the SMTP reply, and the headers of the delivered copy: accepted, tagged
# (X-Spam-Status, rewritten subject), quarantined, rejected as spam,
# rejected as a virus (554 naming the signature), rejected by DMARC, a
# DKIM-signed message with dkim=pass, a forged X-Spam-Status replaced.
# Then `vigilctl quarantine list/show/release` and the released copy
# delivered, and the same messages through `vigilctl scan` with every
# point explained.  SPF, DKIM and DMARC are answered from
# samples/demo.zone, so the results are the same on any machine.
# Needs root (Postfix) and the packages of .ci/packages.sh.  Writes only
# under its temporary folder and leaves nothing running.
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
W=$PF_WORK/demo
mkdir -p "$W/msg"

# -------------------------------------------------------------- install
# `make install` into a private root: the programs, the shipped rules, the
# annotated vigil.conf (every option commented out), the man pages.
INST=$PF_WORK/inst
if ! make -C "$top_builddir" install DESTDIR="$INST" >"$W/install.log" 2>&1; then
	tail -20 "$W/install.log"
	exit 1
fi
VIGIL=$(find "$INST" -type f -name vigil -path '*/sbin/*' | head -1)
CTL=$(find "$INST" -type f -name vigilctl -path '*/bin/*' | head -1)
CONF=$(find "$INST" -type f -name vigil.conf | head -1)
# The built-in paths point at the real prefix; the installed rules are
# under $INST, so that is all the configuration moves there.
def() { "$CTL" -c /dev/null config --defaults | sed -n "s|^#$1 ||p"; }
# ClamAV's database, or test signatures made as tests/av makes them.
db=/var/lib/clamav
if ! ls "$db"/*.c[lv]d >/dev/null 2>&1; then
	"$PYTHON" "$top/tests/av/gen_samples.py" "$W/av" >/dev/null || exit 1
	db=$W/av/db
fi
cp "$W/av/msg/eicar-zip.eml" "$W/msg/virus-eicar-zip.eml" 2>/dev/null ||
    "$PYTHON" "$top/tests/av/gen_samples.py" "$W/av" >/dev/null &&
    cp "$W/av/msg/eicar-zip.eml" "$W/msg/virus-eicar-zip.eml"
cat >>"$CONF" <<EOF

# ---- samples/demo.sh: the install lives under $INST
RulesDir	$INST$(def RulesDir)
LocalRulesDir	$INST$(def LocalRulesDir)
ControlSocket	$PF_WORK/run/control.sock
QuarantineDir	$W/state/quarantine
BayesDir	$W/state/bayes
# ---- the demo site's choices
AuthservID	mx.example.test
RewriteSubject	"[SPAM] %s"
QuarantineScore	10
RejectScore	20
DMARCEnforce	reject
DNSZoneFile	$top/samples/demo.zone
DatabaseDirectory $db
SendmailCommand	/usr/sbin/sendmail -C $PF_PFC
EOF
echo "installed into $INST; configuration $CONF"
echo "vigil -n says what will run:"
"$VIGIL" -n -c "$CONF" -p "unix:$PF_SOCK" 2>/dev/null | sed 's/^/    /'
echo

# Released mail comes back through sendmail and pickup: it meets the
# milter there too.
postconf -c "$PF_PFC" -e "non_smtpd_milters = unix:$PF_SOCK"
pf_milter_start "unix:$PF_SOCK" "$VIGIL" -f -c "$CONF" -p "unix:$PF_SOCK" || exit 1
postfix -c "$PF_PFC" reload >/dev/null 2>&1
echo "vigil $("$VIGIL" -V | cut -d' ' -f2) is the milter of a private Postfix on 127.0.0.1:$PF_SMTP_PORT"
echo

# envelope FILE: "CLIENT FROM" from its X-Demo-Envelope header, if any.
envelope() {
	local c f
	c=$(sed -n '/^$/q; s/^X-Demo-Envelope:.*client=\([^ ]*\).*/\1/p' "$1")
	f=$(sed -n '/^$/q; s/^X-Demo-Envelope:.*from=\([^ ]*\).*/\1/p' "$1")
	echo "${c:-203.0.113.5} ${f:-sender@example.net}"
}
# what FILE: its X-Demo header, unfolded.
what() {
	sed -n '/^$/q; /^X-Demo:/,/^[^ \t]/p' "$1" | sed '$!b; /^X-Demo:/!d' |
	    sed 's/^X-Demo: *//; s/^[ \t]*//' | tr '\n' ' ' | sed 's/ *$//'
}
MSGS=("$top"/samples/messages/*.eml "$W/msg/virus-eicar-zip.eml")
n=0
for m in "${MSGS[@]}"; do
	n=$((n + 1))
	read -r ip from < <(envelope "$m")
	pf_send --xclient "$ip" --helo mail.example.net --from "$from" \
	    --rcpt user@sink.invalid --id-prefix "d$n-" "$m"
done >"$W/sent.tsv"
pf_wait_drain 60 >/dev/null
while IFS=$'\t' read -r id file stage code qid text; do
	b=$(basename "$file")
	echo "=== $b"
	w=$(what "$file")
	[ -n "$w" ] || w="an EICAR test virus in a zip attachment, made at run time: rejected (554)"
	echo "shows: $w"
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
done <"$W/sent.tsv"

# ----------------------------------------------------------- quarantine
echo "=== the quarantine"
echo "\$ vigilctl quarantine list"
"$CTL" -c "$CONF" quarantine list | tee "$W/qlist"
qid=$(awk 'NR > 1 && $1 ~ /^[0-9a-f]+$/ { print $1; exit }' "$W/qlist")
if [ -z "$qid" ]; then
	qid=$(sed -n 's/^\([0-9a-f]\{8,\}\)[ \t].*/\1/p' "$W/qlist" | head -1)
fi
if [ -n "$qid" ]; then
	echo "\$ vigilctl quarantine show $qid"
	"$CTL" -c "$CONF" quarantine show "$qid" | tee "$W/qshow" | head -20
	echo "\$ vigilctl quarantine release $qid"
	"$CTL" -c "$CONF" quarantine release "$qid"
	pf_wait_drain 60 >/dev/null
	# The released copy still carries the harness id it was sent with.
	pq=$(sed -n 's/^Queue id: *//p' "$W/qshow")
	id=$(awk -F'\t' -v q="$pq" '$5 == q { print $1 }' "$W/sent.tsv")
	if [ -n "$id" ] && f=$(pf_delivered "$id"); then
		echo "released copy delivered with:"
		grep -aiE '^(X-Spam-[A-Za-z]+|Subject):' "$f" | sed 's/^/    /'
	else
		echo "released copy not delivered"
	fi
fi
echo

# ------------------------------------------------------------- offline
echo "offline, the same verdicts with every point explained:"
for m in "${MSGS[@]}"; do
	read -r ip from < <(envelope "$m")
	echo "\$ vigilctl scan --ip $ip --from $from ${m#"$top"/}"
	(cd "$top" && "$CTL" -c "$CONF" scan --ip "$ip" --helo mail.example.net \
	    --from "$from" --rcpt user@sink.invalid "${m#"$top"/}")
done
