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

# DigestDomains: only those recipients get one.
"${CTL[@]}" -o DigestDomains=.sink.invalid digest >"$T/dd1.mbox" 2>&1
"${CTL[@]}" -o DigestDomains=example.org digest >"$T/dd2.mbox" 2>&1
if [ "$(grep -c '^To: ' "$T/dd1.mbox")" = 3 ] && [ ! -s "$T/dd2.mbox" ]; then
	pf_ok "DigestDomains: .sink.invalid gets alice, bob and malice; example.org nobody"
else
	pf_fail "DigestDomains" "$(grep '^To: ' "$T/dd1.mbox"; cat "$T/dd2.mbox")"
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

# Release and allow: alice allows pushy@; its next mail to her passes
# (POLICY_USER_ALLOW cancels the block), its mail to her and bob does not.
cat >"$T/e.eml" <<'EOM'
From: Pushy <pushy@bad.example>
To: Alice <alice@sink.invalid>
Subject: Meeting notes
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <web-e@bad.example>

Hello Alice, the notes from Thursday are below.
EOM
pf_send --xclient 192.0.2.21 --from "$PUSHY" --rcpt "$ALICE" --id-prefix e \
    "$T/e.eml" >/dev/null
pf_wait_drain 60
"${CTL[@]}" digest --rcpt "$ALICE" >"$T/digest2.mbox" 2>&1
E_URL=$(grep -o "$WEB_URL/m?[^ ]*" "$T/digest2.mbox" | while read -r u; do
	id=${u#*id=}; id=${id%%&*}
	"${CTL[@]}" quarantine show "$id" 2>/dev/null | grep -q 'Meeting notes' &&
	    echo "$u"
done | head -1)
if [ -z "$E_URL" ]; then
	pf_fail "pushy's mail is quarantined and in alice's digest" "$(cat "$T/digest2.mbox")"
else
	"$PYTHON" - "$E_URL" "$WEB_URL" >"$T/allow.out" 2>&1 <<'EOP'
import http.client, re, sys, urllib.parse
url, base = sys.argv[1:3]
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("GET", u.path + "?" + u.query)
r = c.getresponse(); body = r.read().decode(); c.close()
cookie = r.headers["Set-Cookie"].split(";")[0]
csrf = re.search(r'action="/m/allow">.*?name="csrf" value="([0-9a-f]+)"', body).group(1)
form = dict(urllib.parse.parse_qsl(u.query), csrf=csrf)
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("POST", "/m/allow", urllib.parse.urlencode(form),
          {"Content-Type": "application/x-www-form-urlencoded",
           "Origin": base, "Cookie": cookie})
r = c.getresponse(); print(r.status, r.read().decode())
EOP
	if grep -q '^200 ' "$T/allow.out" && grep -q 'will not be held from now on' "$T/allow.out" &&
	    grep -qx "$ALICE $PUSHY" "$QDIR/user-allow"; then
		pf_ok "release and allow: 200, alice allows $PUSHY in $QDIR/user-allow"
	else
		pf_fail "release and allow" "$(cat "$T/allow.out" "$QDIR/user-allow" 2>&1 | head -c 600)"
	fi
	pf_wait_drain 60
	if [ -n "$(pf_delivered e-0)" ]; then
		pf_ok "the allowed sender's quarantined message is delivered"
	else
		pf_fail "allowed message released" "not in the sink"
	fi
	sed 's/web-e@/web-f@/' "$T/e.eml" >"$T/f.eml"
	pf_send --xclient 192.0.2.21 --from "$PUSHY" --rcpt "$ALICE" --id-prefix f \
	    "$T/f.eml" >/dev/null
	sed 's/web-e@/web-g@/' "$T/e.eml" >"$T/g.eml"
	pf_send --xclient 192.0.2.21 --from "$PUSHY" --rcpt "$ALICE" --rcpt "$BOB" \
	    --id-prefix g "$T/g.eml" >/dev/null
	pf_wait_drain 60
	ff=$(pf_delivered f-0)
	if [ -n "$ff" ] && grep -q 'POLICY_USER_ALLOW' "$ff"; then
		pf_ok "pushy's next mail to alice passes (POLICY_USER_ALLOW)"
	else
		pf_fail "allowed sender passes" "${ff:-not delivered}; $(grep 'q=' "$PF_VIGIL_LOG" | tail -2)"
	fi
	if [ -z "$(pf_delivered g-0)" ] &&
	    "${CTL[@]}" quarantine list --rcpt "$BOB" --sender "$PUSHY" |
	    grep -q "$PUSHY"; then
		pf_ok "pushy's mail to alice and bob is still quarantined (bob did not allow)"
	else
		pf_fail "allow is per recipient" "g-0 delivered or not quarantined"
	fi
fi
web_stop
pf_summary
