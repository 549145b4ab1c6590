#!/usr/bin/env bash
# http.sh - vigil-web's security over HTTP, against a real quarantine
# filled through a private Postfix (make check-postfix-web; root).
# The checks are in webcheck.py; here: the digest mailed through
# Postfix, and what the page's releases delivered.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/../postfix/lib.sh"
. "$(dirname "$0")/setup.sh"

if ! web_setup; then
	pf_fail "setup: quarantine and vigil-web" "see above"
	pf_summary
	exit 1
fi
pf_ok "vigil-web listens on $WEB_URL"

# The digest, mailed: through Postfix's sendmail to alice only.
if "${CTL[@]}" digest --send --rcpt "$ALICE" >"$T/send.out" 2>&1 &&
    grep -q "sent digest to $ALICE (3 messages)" "$T/send.out"; then
	pf_wait_drain 60
	f=$(grep -l "^Subject: Quarantined mail for you (3)" "$PF_SINK_DIR"/* 2>/dev/null | head -1)
	if [ -n "$f" ] && grep -q "^X-Rcpt-Args: <$ALICE>" "$f" &&
	    ! grep -q "^X-Rcpt-Args: <$BOB>" "$f" &&
	    grep -q "$WEB_URL/u?r=alice%40sink.invalid&id=&x=" "$f"; then
		pf_ok "digest --send mails alice her links through Postfix"
	else
		pf_fail "digest mail" "$(ls "$PF_SINK_DIR"; cat "$T/send.out")"
	fi
else
	pf_fail "digest --send" "$(cat "$T/send.out")"
fi

"$PYTHON" "$(dirname "$0")/webcheck.py" "$WEB_URL" "$T/digest.mbox" \
    "$KEYFILE" "$ADMIN_USER" "$ADMIN_PASS" "$ID_A" "$ID_B" "$ID_C" "$ID_D" \
    "$T/state"
read -r p f <"$T/state" || { p=0; f=1; }
PF_PASSED=$((PF_PASSED + p))
PF_FAILED=$((PF_FAILED + f))

# What the releases delivered: a-0 to alice only, c-0 (admin) to bob.
pf_wait_drain 60
fa=$(pf_delivered a-0)
if [ -n "$fa" ] && grep -q "^X-Rcpt-Args: <$ALICE>" "$fa" &&
    [ "$(grep -c '^X-Rcpt-Args:' "$fa")" = 1 ]; then
	pf_ok "alice's release is delivered through Postfix, to her alone"
else
	pf_fail "alice's release delivered" "${fa:-not in the sink}"
fi
fc=$(pf_delivered c-0)
if [ -n "$fc" ] && grep -q "^X-Rcpt-Args: <$BOB>" "$fc"; then
	pf_ok "the admin's release is delivered to bob"
else
	pf_fail "admin release delivered" "${fc:-not in the sink}"
fi
if [ -z "$(pf_delivered b-0)" ] && [ -z "$(pf_delivered d-0)" ]; then
	pf_ok "nothing else was delivered"
else
	pf_fail "nothing else delivered" "b-0 or d-0 in the sink"
fi
if grep -q "web: action=release id=$ID_A by=user rcpt=$ALICE" "$PF_WORK/web.log" &&
    grep -q "web: action=delete id=$ID_B by=user" "$PF_WORK/web.log" &&
    grep -q "web: action=release id=$ID_C by=admin:$ADMIN_USER" "$PF_WORK/web.log" &&
    grep -q "web: refused link=bad mac" "$PF_WORK/web.log"; then
	pf_ok "every action and refusal is logged"
else
	pf_fail "audit log" "$(cat "$PF_WORK/web.log")"
fi
if "${CTL[@]}" quarantine list --json >"$T/after.json" &&
    grep -q "\"id\": *\"$ID_A\".*\"released\": *[1-9]" "$T/after.json"; then
	pf_ok "vigilctl sees alice's release in the index"
else
	pf_fail "release in index" "$(head -c 600 "$T/after.json")"
fi
web_stop
pf_summary
