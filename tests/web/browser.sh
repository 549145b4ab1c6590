#!/usr/bin/env bash
# browser.sh - the users' quarantine page in a real headless Chromium
# (Debian's chromium), driven by Playwright (playwright-core from npm,
# installed into a temporary folder now): alice's digest link opens her
# list, her release is delivered through a private Postfix, a forged link
# and bob's id are refused, the pages log no console error and make no
# request that leaves the server (make check-postfix-web-browser; root).
# Skips (77) only when chromium is not installed.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/../postfix/lib.sh"
. "$(dirname "$0")/setup.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
	echo "browser: chromium is not installed (apt-get install chromium)"
	echo "browser: 0 passed, 0 failed, 1 skipped"
	exit 77
fi
pf_need_root

if ! web_setup; then
	pf_fail "setup: quarantine and vigil-web" "see above"
	pf_summary
	exit 1
fi
pf_ok "vigil-web listens on $WEB_URL"

# Playwright, from npm, into the run's folder: nothing is vendored.
mkdir -p "$PF_WORK/node"
if ! (cd "$PF_WORK/node" && npm install --no-audit --no-fund --silent \
    playwright-core@1 >"$PF_WORK/npm.log" 2>&1); then
	pf_fail "npm install playwright-core" "$(tail -5 "$PF_WORK/npm.log")"
	pf_summary
	exit 1
fi

# Alice's links, from her digest.
awk '/^To: alice@sink.invalid/,/^From /' "$T/digest.mbox" >"$T/alice.txt"
LIST_URL=$(grep -o "$WEB_URL/u?[^ ]*" "$T/alice.txt" | head -1)
MSG_URL=$(grep -o "$WEB_URL/m?[^ ]*id=$ID_A[^ ]*" "$T/alice.txt" | head -1)
if [ -z "$LIST_URL" ] || [ -z "$MSG_URL" ]; then
	pf_fail "alice's digest has her links" "$(cat "$T/alice.txt")"
	pf_summary
	exit 1
fi

NODE_PATH=$PF_WORK/node/node_modules timeout 180 node \
    "$(dirname "$0")/browser.js" "$CHROMIUM" "$WEB_URL" "$LIST_URL" \
    "$MSG_URL" "$ID_C" "$T/state"
read -r p f <"$T/state" 2>/dev/null || { p=0; f=1; }
PF_PASSED=$((PF_PASSED + p))
PF_FAILED=$((PF_FAILED + f))

# The release clicked in the browser reaches alice through Postfix.
pf_wait_drain 60
fa=$(pf_delivered a-0)
if [ -n "$fa" ] && grep -q "^X-Rcpt-Args: <$ALICE>" "$fa" &&
    [ "$(grep -c '^X-Rcpt-Args:' "$fa")" = 1 ] &&
    grep -q 'Claim your prize' "$fa"; then
	pf_ok "the release clicked in Chromium is delivered to alice through Postfix"
else
	pf_fail "browser release delivered" "${fa:-not in the sink}; $(tail -3 "$PF_WORK/web.log")"
fi
web_stop
pf_summary
