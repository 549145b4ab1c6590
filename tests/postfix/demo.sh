#!/bin/bash
# demo.sh - the README's first command, `sh samples/demo.sh`, as written:
# run by sh (dash on Debian), it must start vigil on its embedded defaults
# and a private Postfix, pass every sample message through them, show
# each one's verdict and delivered headers, explain the same verdicts
# offline, and leave nothing running.  Opt-in (make check-postfix), root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/postfix/lib.sh"
pf_need_root
out=$(mktemp /tmp/vigil-demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT

# The demo runs the programs of top_builddir (exported by make): the
# source tree's own in an in-tree build, as in a fresh clone; it never
# builds in a source tree that a separate build uses.
export top_builddir
before=$(pgrep -c -x vigil || true)
if (cd "$top_srcdir" && timeout 300 sh samples/demo.sh) >"$out" 2>&1; then
	pf_ok "sh samples/demo.sh exits 0"
else
	pf_fail "sh samples/demo.sh exits 0" "$(tail -5 "$out")"
fi
n=0
for m in "$top_srcdir"/samples/messages/*.eml; do
	b=$(basename "$m")
	n=$((n + 1))
	# Its section: the SMTP reply, vigil's verdict line, what was delivered.
	sec=$(sed -n "/^=== $b\$/,/^\$/p" "$out")
	if printf '%s\n' "$sec" | grep -q '^SMTP: 250 ' &&
	    printf '%s\n' "$sec" | grep -q '^vigil: .* verdict=[a-z]* score=' &&
	    printf '%s\n' "$sec" | grep -q '^    X-Spam-Status: '; then
		pf_ok "$b: accepted, vigil's verdict and its delivered X-Spam-Status shown"
	else
		pf_fail "$b: verdict shown" "${sec:-no section}"
	fi
	if grep -q "^samples/messages/$b: [a-z]* score=" "$out"; then
		pf_ok "$b: explained offline"
	else
		pf_fail "$b: explained offline" "no vigilctl scan line"
	fi
done
[ "$n" -ge 4 ] || pf_fail "sample messages" "only $n in samples/messages"
# The sender's forged status is not what the delivered copy carries.
sec=$(sed -n '/^=== forged-status.eml$/,/^$/p' "$out")
if printf '%s\n' "$sec" | grep -q 'X-Spam-Status:' &&
    ! printf '%s\n' "$sec" | grep -q 'score=-100.0'; then
	pf_ok "forged X-Spam-Status replaced in the demo"
else
	pf_fail "forged X-Spam-Status replaced in the demo" "$sec"
fi
sleep 1
after=$(pgrep -c -x vigil || true)
if [ "${after:-0}" -le "${before:-0}" ]; then
	pf_ok "the demo leaves no vigil running"
else
	pf_fail "the demo leaves no vigil running" "$before before, $after after"
fi
pf_summary
