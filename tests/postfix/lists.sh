#!/usr/bin/env bash
# lists.sh - vigilctl allow|block against the running daemon (issue 19
# item 6), end to end through a private Postfix with vigil as its milter:
#   1. mail from spam@bad.example is delivered;
#   2. `vigilctl block add sender` asks the running vigil to reload: the
#      next message is refused 550 5.7.1 with no restart (same pid), and
#      vigil logs the ListsFile entry and its comment;
#   3. `vigilctl block del` lifts it: delivered again;
#   4. a change vigilctl cannot announce (the daemon's ControlSocket not
#      given) still applies at the next message: the daemon notices the
#      file changed;
#   5. an entry added with --expires stops applying once expired;
#   6. a ListsFile that cannot be looked at is logged once, not once a
#      message, and the mail flows.
# make check-postfix-lists; root; see lib.sh.  Prints ok/FAIL lines and
# ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
pf_need_root

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
CTL=$top_builddir/filter/vigilctl
pf_setup || exit 1
T=$PF_WORK/lists-test
mkdir -p "$T"
LISTS=$PF_WORK/lists
OPTS=(Checks=policy,headers "ListsFile=$LISTS" TagScore=0 QuarantineScore=0
    RejectScore=0 TrustedNetworks=127.0.0.1/32)
if ! pf_vigil_start "$CONF" "${OPTS[@]}"; then
	pf_fail "vigil starts with ListsFile" "see above"
	pf_summary
	exit 1
fi
pid=$(pf_vigil_pid)

# ctl ARGS...: vigilctl with the daemon's configuration and control socket.
ctl() {
	"$CTL" -c "$CONF" -o "ListsFile=$LISTS" \
	    -o "ControlSocket=$PF_WORK/run/control.sock" "$@"
}
# send N FROM [CLIENT]: "stage code reply" of message lN
send() {
	local n=$1
	shift
	printf 'From: %s\r\nTo: r@sink.invalid\r\nSubject: note %s\r\nMessage-ID: <l%s@example.org>\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n\r\nHello.\r\n' \
	    "$1" "$n" "$n" >"$T/$n.eml"
	pf_send --id-prefix "l$n" --xclient "${2:-203.0.113.5}" --from "$1" \
	    --rcpt "r$n@sink.invalid" "$T/$n.eml" | awk -F'\t' '{ print $3, $4, $6 }'
}
expect() {	# expect NAME GOT WANT-GLOB
	# shellcheck disable=SC2053
	if [[ $2 == $3 ]]; then
		pf_ok "$1: $2"
	else
		pf_fail "$1" "got \"$2\", want $3"
	fi
}

# 1. Nothing listed yet.
expect "1 before: delivered" "$(send 1 spam@bad.example)" "eom 250 *"

# 2. Blocked by the command line, applied by a reload.
if ctl block add sender spam@bad.example --comment "ticket 42" >"$T/out" 2>&1 &&
    grep -q "the running vigil reloaded" "$T/out"; then
	pf_ok "2 block add: the running vigil reloaded"
else
	pf_fail "2 block add" "$(cat "$T/out")"
fi
expect "2 after block add: refused" "$(send 2 spam@bad.example)" "* 550 5.7.1 *"
expect "2 another sender still passes" "$(send 3 friend@bad.example)" "eom 250 *"
if grep -q "check=policy lists_file=$LISTS list=block kind=sender entry=spam@bad.example comment=\"ticket 42\"" "$PF_VIGIL_LOG"; then
	pf_ok "2 vigil logs the entry and its comment"
else
	pf_fail "2 vigil logs the entry" "$(grep -E 'verdict=' "$PF_VIGIL_LOG" | tail -2)"
fi
[ "$(pf_vigil_pid)" = "$pid" ] && pf_ok "2 no restart (pid $pid)" ||
    pf_fail "2 no restart" "pid $pid is now $(pf_vigil_pid)"

# 3. del lifts it.
if ctl block del sender spam@bad.example >"$T/out" 2>&1; then
	pf_ok "3 block del"
else
	pf_fail "3 block del" "$(cat "$T/out")"
fi
expect "3 after block del: delivered" "$(send 4 spam@bad.example)" "eom 250 *"

# 4. No reload asked: the daemon sees the changed file at the next message.
if "$CTL" -c "$CONF" -o "ListsFile=$LISTS" -o "ControlSocket=$T/none.sock" \
    block add domain bad.example --comment "whole domain" >"$T/out" 2>&1 &&
    grep -q "not running" "$T/out"; then
	pf_ok "4 block add domain without the control socket"
else
	pf_fail "4 block add domain" "$(cat "$T/out")"
fi
expect "4 a subdomain's sender refused without a reload" \
    "$(send 5 x@mx.bad.example)" "* 550 5.7.1 *"
if grep -q "ListsFile $LISTS re-read" "$PF_VIGIL_LOG"; then
	pf_ok "4 vigil logs the re-read"
else
	pf_fail "4 vigil logs the re-read" "$(tail -3 "$PF_VIGIL_LOG")"
fi
ctl block del domain bad.example >/dev/null 2>&1

# 5. A client block that expires.
ctl block add client 198.51.100.0/24 --expires 3s --comment brief >"$T/out" 2>&1 ||
    pf_fail "5 block add client --expires 3s" "$(cat "$T/out")"
expect "5 blocked client refused" "$(send 6 a@example.org 198.51.100.20)" "* 550 5.7.1 *"
i=0
until ctl block list client | grep -Eq '198.51.100.0/24 +expired' || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect "5 expired: delivered" "$(send 7 a@example.org 198.51.100.20)" "eom 250 *"

# 6. A ListsFile that cannot be looked at (a symbolic link to itself: ELOOP)
#    keeps the entries read before and is said once, not once a message.
rm -f "$LISTS" && ln -s "$(basename "$LISTS")" "$LISTS"
expect "6 unreadable ListsFile: delivered" "$(send 8 a@example.org)" "eom 250 *"
expect "6 and the next message too" "$(send 9 b@example.org)" "eom 250 *"
n=$(grep -c "check=policy why=\"ListsFile $LISTS: Too many levels of symbolic links" "$PF_VIGIL_LOG")
[ "$n" = 1 ] && pf_ok "6 the error logged once for two messages" ||
    pf_fail "6 the error logged once" "$n times"
rm -f "$LISTS"
[ "$(pf_vigil_pid)" = "$pid" ] && pf_ok "no restart through it all" ||
    pf_fail "no restart through it all" "pid $pid is now $(pf_vigil_pid)"

pf_wait_drain 60 || pf_fail "queue drains" "$(pf_queue_count) left"
# The accepted messages reached the sink; the refused ones did not.
for i in 1 3 4 7 8 9; do
	pf_delivered "l$i-0" >/dev/null && pf_ok "l$i delivered" ||
	    pf_fail "l$i delivered" "not in the sink"
done
for i in 2 5 6; do
	pf_delivered "l$i-0" >/dev/null && pf_fail "l$i not delivered" \
	    "in the sink" || pf_ok "l$i not delivered"
done
pf_summary
