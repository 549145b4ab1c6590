#!/bin/bash
# demo.sh - the README's first command, `sh samples/demo.sh`, as written:
# run by sh (dash on Debian), it must install vigil into a private folder,
# start it and a private Postfix, pass every sample message through them
# and show the seven outcomes (accepted, tagged with a rewritten subject,
# quarantined, a virus rejected, DMARC rejected, a signed message passing
# DKIM, a forged X-Spam-Status replaced), release the quarantined one and
# see it delivered, explain the same verdicts offline, all within a
# minute, and leave nothing running.  Opt-in (make check-postfix), root.
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
# What the built-in defaults would write outside the demo's folder: the
# prefix's vigil folders (state, run, cache, config, rules) and programs.
mark=$(mktemp /tmp/vigil-demo-mark.XXXXXX)
trap 'rm -f "$out" "$mark"' EXIT
outside=$("$top_builddir/filter/vigilctl" -c /dev/null config --defaults |
    sed -n 's|^#[A-Za-z]* \(unix:\)\{0,1\}\(/.*/vigil\)\(/.*\)\{0,1\}$|\2|p' |
    sort -u)
pfx=$(printf '%s\n' "$outside" | sed -n 's|/share/vigil$||p' | head -1)
[ -n "$pfx" ] && outside="$outside $pfx/sbin/vigil $pfx/bin/vigilctl"
t0=$(date +%s)
if (cd "$top_srcdir" && timeout 300 sh samples/demo.sh) >"$out" 2>&1; then
	pf_ok "sh samples/demo.sh exits 0"
else
	pf_fail "sh samples/demo.sh exits 0" "$(tail -5 "$out")"
fi
t=$(($(date +%s) - t0))
[ "$t" -lt 60 ] && pf_ok "the demo takes under a minute ($t s)" ||
    pf_fail "the demo takes under a minute" "$t s"
n=0
for m in "$top_srcdir"/samples/messages/*.eml; do
	b=$(basename "$m")
	n=$((n + 1))
	# Its section: what it shows, the SMTP reply, vigil's verdict.
	sec=$(sed -n "/^=== $b\$/,/^\$/p" "$out")
	if printf '%s\n' "$sec" | grep -q '^shows: ..*' &&
	    printf '%s\n' "$sec" | grep -q '^SMTP: [245][0-9][0-9] '; then
		pf_ok "$b: what it shows and its SMTP reply"
	else
		pf_fail "$b: section" "${sec:-no section}"
	fi
	if grep -q "^samples/messages/$b: [a-z]* score=" "$out"; then
		pf_ok "$b: explained offline"
	else
		pf_fail "$b: explained offline" "no vigilctl scan line"
	fi
done
[ "$n" -ge 7 ] || pf_fail "sample messages" "only $n in samples/messages"
# outcome NAME MESSAGE PATTERN...: MESSAGE's section matches each PATTERN.
outcome() {
	local name=$1 sec p
	sec=$(sed -n "/^=== $2\$/,/^\$/p" "$out")
	shift 2
	for p in "$@"; do
		if ! printf '%s\n' "$sec" | grep -Eq -- "$p"; then
			pf_fail "$name" "no /$p/ in: ${sec:-no section}"
			return
		fi
	done
	pf_ok "$name"
}
outcome "accepted: delivered, X-Spam-Status: No" ham-plain.eml \
    '^SMTP: 250 ' '^    X-Spam-Status: No, score='
outcome "tagged: X-Spam-Status: Yes and a rewritten subject" spam-tagged.eml \
    '^SMTP: 250 ' 'verdict=tag ' '^    X-Spam-Status: Yes, score=' \
    '^    Subject: \[SPAM\] '
outcome "quarantined, not delivered" spam-headers.eml \
    'verdict=quarantine ' '^not delivered$'
outcome "a virus (EICAR in a zip) rejected with 554 naming it" \
    virus-eicar-zip.eml '^SMTP: 554 5\.7\.1 virus [A-Za-z.]*EICAR[^ ]* found'
outcome "DMARC fail rejected" dmarc-forged.eml \
    '^SMTP: 550 5\.7\.1 .*DMARC' '^not delivered$'
outcome "a signed message: dkim=pass, dmarc=pass" dkim-signed.eml \
    '^SMTP: 250 ' 'Authentication-Results: .*dkim=pass .*dmarc=pass'
outcome "forged X-Spam-Status replaced" forged-status.eml \
    '^    X-Spam-Status: No, score=-1\.8|^    X-Spam-Status: (No|Yes), score=[0-9.-]+ '
if grep -q 'score=-100\.0' <(sed -n '/^=== forged-status.eml$/,/^$/p' "$out"); then
	pf_fail "the sender's forged X-Spam-Status is gone" "score=-100.0 delivered"
else
	pf_ok "the sender's forged X-Spam-Status is gone"
fi
if grep -q '^\$ vigilctl quarantine list' "$out" &&
    grep -q '^\$ vigilctl quarantine show [0-9a-f]' "$out" &&
    grep -q '^released [0-9a-f]* to 1 recipient' "$out" &&
    sed -n '/^released copy delivered with:$/,/^$/p' "$out" |
    grep -q 'X-Spam-Status:'; then
	pf_ok "quarantine list/show/release; the released copy delivered"
else
	pf_fail "quarantine release" "$(sed -n '/^=== the quarantine$/,/^offline/p' "$out")"
fi
if grep -q '^vigil -n says what will run:' "$out" &&
    grep -Eq '^      rules +on: [0-9]+ rules from .*/inst/' "$out"; then
	pf_ok "vigil -n of the install: its shipped rules"
else
	pf_fail "vigil -n of the install" "$(grep -A5 'vigil -n' "$out")"
fi
# Done when: `vigilctl scan` on the installed defaults scores the tagged
# sample as the milter did.
live=$(sed -n '/^=== spam-tagged.eml$/,/^$/s/^vigil: .* verdict=tag score=\([-0-9.]*\)\/.*/\1/p' "$out")
off=$(sed -n 's|^samples/messages/spam-tagged.eml: tag score=\([-0-9.]*\) .*|\1|p' "$out")
if [ -n "$live" ] && [ "$live" = "$off" ]; then
	pf_ok "the tagged sample: vigilctl scan gives the milter's score ($off)"
else
	pf_fail "the tagged sample: vigilctl scan gives the milter's score" \
	    "milter ${live:-none}, vigilctl scan ${off:-none}"
fi
# The forged one's dmarc=fail, in the explanation of its rejection.
if sed -n '/^\$ vigilctl scan .*dmarc-forged.eml$/,/^\$ /p' "$out" |
    grep -q '^  authentication_results: .*dmarc=fail '; then
	pf_ok "the forged message explained: dmarc=fail"
else
	pf_fail "the forged message explained: dmarc=fail" \
	    "$(sed -n '/^\$ vigilctl scan .*dmarc-forged.eml$/,/^\$ /p' "$out")"
fi
# Nothing written where the built-in defaults point (the real prefix).
new=
for p in $outside; do
	[ -e "$p" ] && [ -n "$(find "$p" -newer "$mark" -print -quit)" ] &&
	    new="$new $p"
done
if [ -z "$outside" ]; then
	pf_fail "nothing written outside the demo's folder" "no default paths"
elif [ -n "$new" ]; then
	pf_fail "nothing written outside the demo's folder" "written:$new"
else
	pf_ok "nothing written outside the demo's folder ($(echo $outside | wc -w) places)"
fi
# Other vigils may run on this machine: the demo's ran from its install.
# Its supervisor is reaped when the demo ends; the worker follows it by
# its death signal: wait (at most 10 s) for it to go.
inst=$(sed -n 's/^installed into \([^;]*\);.*/\1/p' "$out")
i=0
while [ -n "$inst" ] && pgrep -f "$inst/" >/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$inst" ]; then
	pf_fail "the demo leaves no vigil running" "no install folder shown"
elif pgrep -f "$inst/" >/dev/null; then
	pf_fail "the demo leaves no vigil running" "$(pgrep -a -f "$inst/")"
elif [ -e "$inst" ]; then
	pf_fail "the demo leaves nothing behind" "$inst is still there"
else
	pf_ok "the demo leaves no vigil running and removes its folder"
fi
pf_summary
