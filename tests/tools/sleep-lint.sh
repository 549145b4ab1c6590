#!/bin/sh
# sleep-lint.sh - no test sleeps and then checks once (make check).
#
# A fixed pause followed by a one-shot check ("kill -HUP; sleep 1; grep")
# passes on an idle machine and flakes on a loaded one: a test waits for
# the condition itself, in a bounded loop.  This reads every test source
# under tests/ (shell, Lua, Python, C, automake fragments, and the
# scripts embedded in them) and fails on each sleep that is not:
#   - inside a retry loop: a while/until/repeat loop, a C for loop with a
#     condition, or a for loop over a list that breaks, found by
#     indentation (the sleep's enclosing lines), or on a one-line
#     "while ...; do ...; sleep ...; done";
#   - marked "lint-sleep: REASON" on its line or the line above, for a
#     pause that is itself the point (time that must pass before a
#     recheck interval ends, a message kept in flight); the reason is
#     printed with the count.
# Usage: sleep-lint.sh [FILE|DIR]...   (default: the tree's tests/)
# First it checks itself on a few snippets (one it must reject, ones it
# must accept), then the tree; ends with "N passed, N failed".
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# lint FILE...: one "FILE:LINE: text" line per bad sleep, on stdout;
# "marked FILE:LINE: reason" lines for the marked ones.
lint() {
	awk '
	function indent(s,   n, i, c) {
		n = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\t") n += 8 - n % 8
			else if (c == " ") n++
			else break
		}
		return n
	}
	function blank(s) { return s ~ /^[ \t]*$/ }
	function comment(s) { return s ~ /^[ \t]*(#|--|\/\/|\/?\*)/ }
	function is_sleep(s) {
		if (comment(s)) return 0
		return s ~ /(^|[^A-Za-z0-9_.$-])sleep[ \t]+[0-9.$]/ ||
		    s ~ /(mt|time|os)\.sleep[ \t]*\(/ ||
		    s ~ /(^|[^A-Za-z0-9_])(usleep|nanosleep|sleep)[ \t]*\(/ ||
		    s ~ /(^|[^A-Za-z0-9_])g_usleep[ \t]*\(/
	}
	# A loop on this line around the sleep: "do ... sleep ... done".
	function one_line_loop(s) {
		return s ~ /(^|[ \t;])(while|until|for)[ \t].*(;|[ \t])do[ \t].*sleep.*(;|[ \t])done/ ||
		    s ~ /(^|[ \t;])do[ \t].*sleep.*(;|[ \t])done([ \t;]|$)/
	}
	function loop_header(s) {
		sub(/^[ \t]*/, "", s)
		sub(/^\([ \t]*/, "", s)
		return s ~ /^(while|until|repeat|do)([ \t({:]|$)/ ||
		    s ~ /^\}[ \t]*while/ || s ~ /^for[ \t(]/
	}
	# The body of the loop whose header is line h leaves it early: a
	# break, or a return out of the function around it.
	function body_breaks(h,   i, d) {
		d = indent(L[h])
		for (i = h + 1; i <= n; i++) {
			if (blank(L[i])) continue
			if (indent(L[i]) <= d) return (L[i] ~ /break/)
			if (L[i] ~ /(^|[^A-Za-z_])(break|return)([^A-Za-z_]|$)/)
				return 1
		}
		return 0
	}
	# A retry loop encloses line k (by indentation).
	function in_loop(k,   i, d, s) {
		d = indent(L[k])
		for (i = k - 1; i >= 1 && d > 0; i--) {
			if (blank(L[i]) || comment(L[i])) continue
			if (indent(L[i]) >= d) continue
			d = indent(L[i])
			s = L[i]; sub(/^[ \t]*/, "", s)
			# C: for (init; condition; step) loops on its condition
			if (s ~ /^for[ \t]*\([^;]*;[ \t]*[^; \t)]/) return 1
			# shell, Lua: a for over a list is a retry loop if it breaks
			if (s ~ /^for[ \t(]/) {
				if (body_breaks(i)) return 1
				continue
			}
			if (loop_header(L[i])) return 1
		}
		return 0
	}
	function flush(   k, r) {
		for (k = 1; k <= n; k++) {
			if (!is_sleep(L[k])) continue
			if (L[k] ~ /lint-sleep:/ || (k > 1 && L[k - 1] ~ /lint-sleep:/)) {
				r = (L[k] ~ /lint-sleep:/) ? L[k] : L[k - 1]
				sub(/.*lint-sleep:[ \t]*/, "", r)
				sub(/[ \t]*\*\/[ \t]*$/, "", r)
				print "marked " F ":" k ": " r
				continue
			}
			if (one_line_loop(L[k]) || in_loop(k)) continue
			s = L[k]; sub(/^[ \t]*/, "", s)
			print F ":" k ": " s
		}
	}
	FNR == 1 { if (NR > 1) flush(); delete L; n = 0; F = FILENAME }
	{ L[++n] = $0 }
	END { if (n) flush() }
	' "$@"
}

# Self-check: snippets it must reject and accept.
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-sleep-lint.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
printf 'kill -HUP "$pid"\nsleep 1\ngrep -q reloaded "$log" || fail\n' >"$T/bad1.sh"
printf 'postfix reload; sleep 1\npf_ok started\n' >"$T/bad2.sh"
printf 'for f in a b; do\n\tkill -HUP "$pid"; sleep 1\n\tgrep -q "$f" log\ndone\n' >"$T/bad3.sh"
printf 'run(function()\n\tos.execute("kill " .. pid)\n\tmt.sleep(0.5)\n\tcheck(x)\nend)\n' >"$T/bad4.lua"
printf 'int\nf(void)\n{\n\tusleep(100000);\n\tassert_true(done);\n}\n' >"$T/bad5.c"
printf 'i=0\nwhile ! grep -q x log && [ $i -lt 50 ]; do\n\tsleep 0.1\n\ti=$((i + 1))\ndone\n' >"$T/good1.sh"
printf 'for _ in $(seq 50); do\n\tgrep -q x log && break\n\tsleep 0.1\ndone\n' >"$T/good2.sh"
printf 'up() {\n\tfor _ in $(seq 50); do\n\t\tgrep -q x log && return 0\n\t\tsleep 0.1\n\tdone\n\treturn 1\n}\n' >"$T/good2r.sh"
printf 'while [ ! -S s ] && [ $i -lt 9 ]; do sleep 0.1; i=$((i+1)); done\n' >"$T/good3.sh"
printf 'while True:\n\ttry:\n\t\tconnect()\n\texcept OSError:\n\t\ttime.sleep(0.1)\n' >"$T/good4.py"
printf '# lint-sleep: the recheck interval (1 s) must pass\nsleep 1.1\n' >"$T/good5.sh"
printf 'while (n != want &&\n    now() < end)\n\tusleep(1000);\n' >"$T/good6.c"
printf 'for (int i = 0; i < 9 && !up(); i++)\n\tusleep(1000);\n' >"$T/good7.c"
for f in bad1.sh bad2.sh bad3.sh bad4.lua bad5.c; do
	if lint "$T/$f" | grep -q "^$T/$f:"; then
		ok "the lint rejects a sleep then a one-shot check ($f)"
	else
		bad "the lint let through $f: $(tr '\n' ' ' <"$T/$f")"
	fi
done
for f in good1.sh good2.sh good2r.sh good3.sh good4.py good5.sh good6.c good7.c; do
	if [ -z "$(lint "$T/$f" | grep -v '^marked ')" ]; then
		ok "the lint accepts $f"
	else
		bad "the lint rejects $f: $(lint "$T/$f")"
	fi
done

# The tree.
[ $# -gt 0 ] || set -- "$top_srcdir/tests"
files=$(find "$@" -type f \( -name '*.sh' -o -name '*.bash' -o -name '*.lua' \
    -o -name '*.py' -o -name '*.c' -o -name '*.am' \) ! -name sleep-lint.sh |
    sort)
# shellcheck disable=SC2086
out=$(lint $files)
found=$(echo "$out" | grep -v '^marked ' | grep -c .)
marked=$(echo "$out" | grep -c '^marked ')
echo "$out" | grep '^marked ' | sed "s|$top_srcdir/||; s/^/#   /"
if [ "$found" -eq 0 ]; then
	ok "no sleep followed by a one-shot check in $(echo "$files" | wc -l) test files ($marked deliberate pauses, marked)"
else
	echo "$out" | grep -v '^marked ' | sed "s|$top_srcdir/||; s/^/#   /"
	bad "$found sleeps not in a retry loop (wait for the condition, or mark a deliberate pause \"lint-sleep: REASON\")"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
