#!/bin/sh
# report.sh - vigilctl report over a LogFile of 1,000 messages (made by
# report_gen.py over 14 days, with the figures it expects counted on its
# own): the text report's totals, shares, top rules, false positives,
# rejected networks and domains, AV signatures and check failures against
# the week before; then the --html page (by day, hour of day, hour by
# hour, action and each top list) rendered by headless Chromium
# (Debian's chromium): every plot is drawn, its bars non-empty SVG paths
# whose <title>s carry the expected counts, the page loads nothing from
# outside and logs no console error.  The console check is first shown to
# catch a page that does log errors.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
T=$(mktemp -d /tmp/vigil-report-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/tools/tap.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

now=$(date +%s)
python3 "$top_srcdir/tests/ctl/report_gen.py" "$T/log.json" "$T/expect.json" "$now"
[ "$(wc -l <"$T/log.json")" = 1000 ] && ok "a log of 1,000 records" ||
    bad "generated log has $(wc -l <"$T/log.json") records"

# The period ends where the generator's does (--until), so that the
# seconds between the two move nothing.
"$CTL" -c /dev/null report --since 7d --until "@$now" --log "$T/log.json" \
    --html "$T/r.html" >"$T/r.txt" 2>"$T/r.err"
rc=$?
[ $rc = 0 ] && ok "report exits 0" || bad "report exit $rc: $(cat "$T/r.err")"
iso=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)
"$CTL" -c /dev/null report --since 7d --until "$iso" --log "$T/log.json" \
    >"$T/r-iso.txt" 2>&1
"$CTL" -c /dev/null report --since 7d --until "$((now - 7 * 86400))" \
    --log "$T/log.json" >/dev/null 2>&1
rc=$?
if cmp -s "$T/r.txt" "$T/r-iso.txt" && [ $rc = 64 ]; then
	ok "--until $iso is --until @$now; a bare number is a usage error"
else
	bad "--until forms (rc $rc): $(diff "$T/r.txt" "$T/r-iso.txt" | head -3)"
fi

# The text report against the expected figures.
if python3 - "$T/expect.json" "$T/r.txt" <<'EOP'
import json, re, sys
e = json.load(open(sys.argv[1]))
txt = open(sys.argv[2]).read()
errs = []
def want(pat, what):
	if not re.search(pat, txt, re.M):
		errs.append("%s: /%s/" % (what, pat))
want(r"^messages %d  \(previous %d, " % (e["total"], e["previous"]), "total")
for a, n in e["action"].items():
	want("^" + re.escape("  %-12s %7d %6.1f%%" % (a, n, 100.0 * n / e["total"])), "action " + a)
for d, n in zip(e["day_labels"], e["day"]):
	want(r"^  %s %7d$" % (d, n), "day " + d)
for h, n in enumerate(e["hour"]):
	want(r"^  %02d %7d  \(previous" % (h, n), "hour %d" % h)
def section(title, key):
	body = txt.split(title + "\n", 1)[1].split("\n")
	top = sorted(e[key].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
	for i, (k, n) in enumerate(top):
		line = body[i]
		if not re.match(re.escape("  %-32s %7d  (previous " % (k, n)) + r"\d+, ", line):
			errs.append("%s #%d: want %s %d, got %r" % (title, i, k, n, line))
	if not top and body[0] != "  (none)":
		errs.append(title + ": want (none)")
section("top rules by hits", "rules")
section("top rules by false positives (hits on released mail)", "fp")
section("top rejected client networks", "nets")
section("top rejected sender domains", "domains")
section("AV detections by signature", "av")
section("check failures", "failures")
section("DNS list health (messages)", "dnsbl")
if not e["fp"]:
	errs.append("the generated log has no false positive (test data)")
if errs: print("\n".join(errs))
sys.exit(1 if errs else 0)
EOP
then
	ok "text: totals, actions, days, hours and every top list as counted"
else
	bad "text report differs from the expected figures"
fi

# The page: self-contained.
if grep -qiE '<script|<link|<img|<iframe|@import|url\(|src=' "$T/r.html" ||
    [ "$(grep -oE 'https?://[^"]*' "$T/r.html" | sort -u)" != "http://www.w3.org/2000/svg" ]; then
	bad "the page refers to something outside itself"
else
	ok "the page is self-contained (no script, link, image or URL)"
fi

if [ -z "$CHROMIUM" ]; then
	echo "report.sh: chromium not found (apt-get install chromium): page not rendered"
	echo "report: $pass passed, $fail failed, 1 skipped"
	[ $fail = 0 ] || exit 1
	exit 77
fi
# render FILE: the DOM after load on stdout, Chromium's log in $T/console.
render() {
	HOME=$T timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --no-first-run --user-data-dir="$T/profile" --enable-logging=stderr \
	    --v=0 --virtual-time-budget=2000 --dump-dom "file://$1" \
	    2>"$T/console"
}
# Console errors of the page: Chromium logs them as CONSOLE lines.
console_errors() { grep -c 'CONSOLE' "$T/console"; }

cat >"$T/broken.html" <<'EOH'
<!DOCTYPE html><html><body><p>x</p>
<script>console.error("boom"); undefined_function();</script></body></html>
EOH
render "$T/broken.html" >/dev/null
if [ "$(console_errors)" -ge 1 ]; then
	ok "the console check catches a page that logs errors"
else
	bad "console check: no CONSOLE line for a broken page ($(tail -3 "$T/console"))"
fi

render "$T/r.html" >"$T/dom.html"
if [ "$(console_errors)" = 0 ] && [ -s "$T/dom.html" ]; then
	ok "Chromium renders the report with no console error"
else
	bad "console errors: $(grep CONSOLE "$T/console" | head -3)"
fi
if python3 - "$T/expect.json" "$T/dom.html" <<'EOP'
import json, sys
from html.parser import HTMLParser
e = json.load(open(sys.argv[1]))
class P(HTMLParser):
	def __init__(s):
		super().__init__()
		s.plots, s.cur, s.intitle, s.bar = {}, None, False, None
	def handle_starttag(s, tag, a):
		a = dict(a)
		if tag == "svg" and a.get("class") == "plot":
			s.cur = s.plots.setdefault(a["id"], [])
		elif tag == "path" and a.get("class") == "bar" and s.cur is not None:
			s.bar = {"d": a.get("d", ""), "title": ""}
			s.cur.append(s.bar)
		elif tag == "title" and s.bar is not None:
			s.intitle = True
	def handle_endtag(s, tag):
		if tag == "title": s.intitle = False
		if tag == "path": s.bar = None
		if tag == "svg": s.cur = None
	def handle_data(s, d):
		if s.intitle and s.bar is not None: s.bar["title"] += d
p = P()
p.feed(open(sys.argv[2]).read())
errs = []
def check(pid, want):
	bars = p.plots.get(pid)
	if bars is None:
		errs.append("%s: no plot" % pid); return
	got = [b["title"] for b in bars]
	if got != want:
		errs.append("%s: titles %r, want %r" % (pid, got[:5], want[:5]))
	for b in bars:
		if len(b["d"].split()) < 5 or "v-0.0" in b["d"] or "v0.0" in b["d"]:
			errs.append("%s: empty bar %r" % (pid, b["d"]))
def top(key):
	return ["%s: %d" % kv for kv in
	    sorted(e[key].items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
check("plot-day", ["%s: %d" % x for x in zip(e["day_labels"], e["day"])])
check("plot-hour", ["%02d: %d" % (h, n) for h, n in enumerate(e["hour"])])
check("plot-hourly", ["%s: %d" % x for x in zip(e["hourly_labels"], e["hourly"])])
order = ["accept", "tag", "quarantine", "reject", "tempfail", "discard"]
check("plot-action", ["%s: %d" % (a, e["action"][a]) for a in order if a in e["action"]])
for pid, key in (("plot-rules", "rules"), ("plot-fp", "fp"), ("plot-nets", "nets"),
    ("plot-domains", "domains"), ("plot-av", "av"), ("plot-failures", "failures"),
    ("plot-dnsbl", "dnsbl")):
	check(pid, top(key))
if errs: print("\n".join(errs))
n = sum(len(v) for v in p.plots.values())
print("%d plots, %d bars" % (len(p.plots), n))
sys.exit(1 if errs or len(p.plots) != 11 else 0)
EOP
then
	ok "Chromium's DOM: 11 plots, every bar a non-empty path titled with its count"
else
	bad "plots in the rendered page"
fi
# Sender-supplied text is escaped: a domain with markup stays text.
printf '{"ts": %s, "action": "reject", "from": "x@<b>evil</b>.example", "client_addr": "192.0.2.9", "hits": {}}\n' \
    "$((now - 60))" >"$T/evil.json"
"$CTL" -c /dev/null report --since 1d --until "@$now" --log "$T/evil.json" \
    --html "$T/evil.html" >/dev/null 2>&1
if grep -q '&lt;b&gt;evil&lt;/b&gt;.example: 1' "$T/evil.html" && ! grep -q '<b>evil' "$T/evil.html"; then
	ok "sender-supplied names are escaped in the page"
else
	bad "escaping: $(grep -o '.\{20\}evil.\{20\}' "$T/evil.html" | head -2)"
fi

echo "report: $pass passed, $fail failed"
[ $fail = 0 ]
