# setup.sh - what the page's tests share (sourced after lib.sh): a private
# Postfix with vigil as its milter (smtpd and pickup, so that released
# mail meets it), four quarantined messages, and vigil-web on a free
# loopback port.
#
#   a-0  to alice alone, text and HTML with script, an image, a link
#   b-0  to alice alone (for delete)
#   c-0  to bob alone (another user's id)
#   d-0  to alice and bob (shared: users cannot delete it)
#   m-0  to malice, whose address contains alice's
#
# Sets QDIR, T, CTL (vigilctl with the test's options), WEB_URL, WEB_PID,
# KEYFILE, ADMIN_USER, ADMIN_PASS and ID_A..ID_D.
CONF=$top_srcdir/samples/vigil.conf
VIGILCTL=$top_builddir/filter/vigilctl
VIGILWEB=$top_builddir/web/vigil-web
SPAMMER=spammer@bad.example
PUSHY=pushy@bad.example
ALICE=alice@sink.invalid
BOB=bob@sink.invalid
ADMIN_USER=postmaster
ADMIN_PASS=correct-horse-battery

web_setup() {
	local port kv
	pf_setup || return 1
	trap 'web_stop; pf_teardown' EXIT
	QDIR=$PF_WORK/quarantine
	T=$PF_WORK/t
	mkdir -p "$T"
	port=$(pf_free_port)
	WEB_URL=http://127.0.0.1:$port
	KEYFILE=$QDIR/release.key
	printf '%s:%s\n' "$ADMIN_USER" "$(openssl passwd -6 "$ADMIN_PASS")" \
	    >"$PF_WORK/admin.passwd"
	OPTS=(QuarantineDir="$QDIR" QuarantineMode=store QuarantineScore=5
	    RejectScore=0 BlockSenders="$SPAMMER, $PUSHY" BlockAction=score
	    SendmailCommand="/usr/sbin/sendmail -C $PF_PFC"
	    ControlSocket="$PF_WORK/run/control.sock" BayesDir="$PF_WORK/bayes"
	    WebListen="127.0.0.1:$port" WebBaseURL="$WEB_URL"
	    WebAdminPasswordFile="$PF_WORK/admin.passwd"
	    DigestFrom=quarantine@mx.vigil-test.invalid)
	CTL=("$VIGILCTL" -c "$CONF")
	for kv in "${OPTS[@]}"; do
		CTL+=(-o "$kv")
	done
	pf_vigil_start "$CONF" "${OPTS[@]}" || return 1
	postconf -c "$PF_PFC" -e "non_smtpd_milters = unix:$PF_SOCK"
	pf_postfix_reload

	cat >"$T/a.eml" <<'EOM'
From: Prize Office <spammer@bad.example>
To: Alice <alice@sink.invalid>
Subject: <b>You won</b> a "prize" & more
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <web-a@bad.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Claim your prize at <script>alert("plain")</script> today.
--b1
Content-Type: text/html; charset=utf-8

<html><head><script>document.title="owned"</script>
<link rel="stylesheet" href="http://192.0.2.99/x.css"></head>
<body><p>Claim <b>your</b> prize</p><img src="http://192.0.2.99/pixel.gif">
<iframe src="http://192.0.2.99/frame"></iframe></body></html>
--b1--
EOM
	sed -e 's/web-a@/web-b@/' -e 's/^Subject: .*/Subject: Cheap pills/' \
	    "$T/a.eml" >"$T/b.eml"
	sed -e 's/web-a@/web-c@/' -e 's/^Subject: .*/Subject: For Bob only/' \
	    -e 's/^To: .*/To: bob@sink.invalid/' "$T/a.eml" >"$T/c.eml"
	sed -e 's/web-a@/web-d@/' -e 's/^Subject: .*/Subject: For both of you/' \
	    "$T/a.eml" >"$T/d.eml"
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$ALICE" \
	    --id-prefix a "$T/a.eml" >"$T/a.tsv"
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$ALICE" \
	    --id-prefix b "$T/b.eml" >"$T/b.tsv"
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$BOB" \
	    --id-prefix c "$T/c.eml" >"$T/c.tsv"
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$ALICE" \
	    --rcpt "$BOB" --id-prefix d "$T/d.eml" >"$T/d.tsv"
	sed -e 's/web-a@/web-m@/' -e 's/^Subject: .*/Subject: For Malice/' \
	    -e 's/^To: .*/To: malice@sink.invalid/' "$T/a.eml" >"$T/m.eml"
	pf_send --xclient 192.0.2.20 --from "$SPAMMER" \
	    --rcpt malice@sink.invalid --id-prefix m "$T/m.eml" >"$T/m.tsv"
	pf_wait_drain 60
	"${CTL[@]}" quarantine list --json >"$T/list.json" || return 1
	ID_A=$(grep '"You won' "$T/list.json" | sed 's/.*"id": *"\([0-9a-f]*\)".*/\1/')
	ID_B=$(grep 'Cheap pills' "$T/list.json" | sed 's/.*"id": *"\([0-9a-f]*\)".*/\1/')
	ID_C=$(grep 'For Bob only' "$T/list.json" | sed 's/.*"id": *"\([0-9a-f]*\)".*/\1/')
	ID_D=$(grep 'For both' "$T/list.json" | sed 's/.*"id": *"\([0-9a-f]*\)".*/\1/')
	if [ -z "$ID_A" ] || [ -z "$ID_B" ] || [ -z "$ID_C" ] || [ -z "$ID_D" ] ||
	    ! grep -q 'For Malice' "$T/list.json"; then
		echo "web_setup: not all five messages were quarantined:" >&2
		cat "$T/list.json" >&2
		return 1
	fi
	pf_ok "five messages quarantined through Postfix"
	# The digest makes the release key if nothing released yet.
	"${CTL[@]}" digest >"$T/digest.mbox" 2>"$T/digest.err" || {
		cat "$T/digest.err" >&2
		return 1
	}
	local web=("$VIGILWEB" -c "$CONF")
	for kv in "${OPTS[@]}"; do
		web+=(-o "$kv")
	done
	"${web[@]}" >"$PF_WORK/web.log" 2>&1 &
	WEB_PID=$!
	if ! pf_wait_sock "127.0.0.1:$port" 20; then
		cat "$PF_WORK/web.log" >&2
		return 1
	fi
}

web_stop() {
	if [ -n "${WEB_PID:-}" ]; then
		kill "$WEB_PID" 2>/dev/null
		wait "$WEB_PID" 2>/dev/null
		WEB_PID=
	fi
}
