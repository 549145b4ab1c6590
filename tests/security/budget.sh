#!/bin/sh
# budget.sh - one budget per message (issue 15): MessageTimeLimit and
# MessageMemoryLimit stop a check at its next safe point, the verdict
# carries SCAN_INCOMPLETE naming what was cut or did not run, and the
# message takes OnIncomplete (tempfail by default, or accept).  The
# defaults leave every message of the shared corpus alone (a sample of
# it, when ../shared is there).  Offline, through `vigilctl scan`; the
# same through a private Postfix is tests/security/hostile.sh.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/filter/vigilctl
CONF=$top_srcdir/samples/vigil.conf
PYTHON=${PYTHON:-python3}
shared=${VIGIL_SHARED:-$top_srcdir/../shared}
T=$(mktemp -d /tmp/vigil-budget.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

. "$top_srcdir/tests/tools/tap.sh"
# scan FILE OPTION...: vigilctl scan --json with -o OPTIONs; $T/out.
scan() {
	f=$1
	shift
	set -- $(for o in "$@"; do printf -- '-o %s ' "$o"; done)
	"$CTL" -c "$CONF" "$@" scan --json "$f" >"$T/out" 2>"$T/err"
}
# field EXPR: a Python expression over r, the last scan's JSON.
field() {
	"$PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
inc = [h for h in r["hits"] if h["name"] == "SCAN_INCOMPLETE"]
inc = inc[0]["detail"] if inc else ""
print(eval(sys.argv[2]))' "$T/out" "$1"
}
# expect DESC GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		bad "$1: got '$2', want '$3'"; sed 's/^/#   /' "$T/out" "$T/err"
	fi
}

# A 3 MB text message: its parsed view alone passes 1 MB.
"$PYTHON" - "$T/big.eml" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\nTo: b@example.net\nSubject: long\n"
            "Date: Mon, 7 Dec 2026 01:00:00 +0000\n"
            "Message-ID: <long@example.org>\n\n")
    f.write(("word " * 15 + "\n") * 40000)
EOF
# A tar.gz of one 1 GB member of zeros under an innocent name: listing
# it decompresses all of it (a third of a second to seconds of CPU; 200
# MB took 60 ms on a fast machine, under the 100 ms budget below).
"$PYTHON" - "$T/bomb.eml" <<'EOF'
import base64, io, sys, tarfile, zlib
size = 1 << 30
hdr = tarfile.TarInfo("report.txt")
hdr.size = size
raw = hdr.tobuf(format=tarfile.USTAR_FORMAT)
z = zlib.compressobj(9, zlib.DEFLATED, 31)
out = [z.compress(raw)]
zero = bytes(1 << 20)
for _ in range(size >> 20):
    out.append(z.compress(zero))
out.append(z.compress(bytes(1024)))
out.append(z.flush())
data = base64.encodebytes(b"".join(out)).decode()
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\nTo: b@example.net\nSubject: report\n"
            "Date: Mon, 7 Dec 2026 01:00:00 +0000\n"
            "Message-ID: <bomb@example.org>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
            "Content-Type: text/plain\n\nsee attached\n--b\n"
            "Content-Type: application/octet-stream; name=notes.dat\n"
            "Content-Transfer-Encoding: base64\n\n" + data + "--b--\n")
EOF

# 1. Memory: past MessageMemoryLimit the rest does not run; tempfail.
scan "$T/big.eml" MessageMemoryLimit=1m
expect "memory budget: action" "$(field 'r["action"]')" tempfail
expect "memory budget: SCAN_INCOMPLETE says why" \
    "$(field '"MessageMemoryLimit" in inc')" True
expect "memory budget: names the rules check" \
    "$(field '"rules" in inc.split(": ")[-1].split(",")')" True

# 2. OnIncomplete accept: the message passes, the finding stays.
scan "$T/big.eml" MessageMemoryLimit=1m OnIncomplete=accept
expect "OnIncomplete accept: action" "$(field 'r["action"]')" accept
expect "OnIncomplete accept: SCAN_INCOMPLETE" "$(field 'inc != ""')" True

# 3. The same message within the default budget: complete.
scan "$T/big.eml"
expect "default budget: no SCAN_INCOMPLETE" "$(field 'inc')" ""

# 4. CPU: with the archive bounds lifted, the listing is stopped by
#    MessageTimeLimit within a few polls of it, and names attach.
scan "$T/bomb.eml" MessageTimeLimit=100ms AttachArchiveMaxBytes=4g \
    AttachArchiveMaxTime=60s
expect "time budget: action" "$(field 'r["action"]')" tempfail
expect "time budget: names attach" \
    "$(field '"attach" in inc.split(": ")[-1].split(",")')" True
expect "time budget: stopped near the limit (< 1 s CPU)" \
    "$(field 'r["budget"]["cpu_ms"] < 1000')" True

# 5. With the default bounds the archive limit stops it first: complete.
scan "$T/bomb.eml"
expect "archive bound before the budget: no SCAN_INCOMPLETE" \
    "$(field 'inc')" ""
expect "archive bound before the budget: ATTACH_ARCHIVE_LIMIT" \
    "$(field 'any(h["name"] == "ATTACH_ARCHIVE_LIMIT" for h in r["hits"])')" \
    True

# 6. dkim-signatures-held: 1000 DKIM-Signature fields a message, five
#    messages in one process: libopendkim holds each field it is given
#    (about 25 KB) past the message, so only 4 x DKIMMaxSignatures are
#    given to it; the peak grows by less than 10 MB over four more (it grew
#    by 100 MB when all were given).
"$PYTHON" - "$T/dk1000.eml" <<'EOF2'
import sys
sig = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example%d.org;"
       " s=sel%d; h=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5"
       "NMpJWZG3hSuFU=; b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\n")
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\nSubject: x\n" +
            "".join(sig % (i, i) for i in range(1000)) + "\nhi\n")
EOF2
grew=$("$PYTHON" - "$CTL" "$CONF" "$top_srcdir/tests/data/dns/empty.zone" \
    "$T/dk1000.eml" <<'EOF2'
import resource, subprocess, sys
ctl, conf, zone, msg = sys.argv[1:]
def peak(n):
    p = subprocess.run([ctl, "-c", conf, "-o", "DNSZoneFile=" + zone, "-o",
                        "Checks=dkim", "scan", "--ip", "192.0.2.40"] +
                       [msg] * n, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
one = peak(1)
print(peak(5) - one)
EOF2
)
if [ "$grew" -lt 10240 ]; then
	ok "1000 DKIM signatures x 5: peak RSS grew by $grew kB over x 1"
else
	bad "1000 DKIM signatures x 5: peak RSS grew by $grew kB over x 1"
fi

# 7. The defaults against real mail: no corpus message comes near.
corpus=$shared/corpus/spamassassin
if [ -d "$corpus/ham" ] && [ -d "$corpus/spam" ]; then
	{ ls "$corpus/ham" | sed -n '1~25p' | sed "s|^|$corpus/ham/|"
	  ls "$corpus/spam" | sed -n '1~10p' | sed "s|^|$corpus/spam/|"
	} >"$T/list"
	xargs "$CTL" -c "$CONF" scan --json <"$T/list" >"$T/corpus.json" \
	    2>"$T/err"
	got=$("$PYTHON" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n = sum(1 for r in rows for h in r["hits"] if h["name"] == "SCAN_INCOMPLETE")
cpu = max(r["budget"]["cpu_ms"] for r in rows)
mem = max(r["budget"]["memory"] for r in rows)
print(len(rows), n, "cpu_ms=%.1f memory=%d" % (cpu, mem))' "$T/corpus.json")
	set -- $got
	if [ "$1" -gt 100 ] && [ "$2" -eq 0 ]; then
		ok "corpus sample: $1 messages, none incomplete ($3 $4 at most)"
	else
		bad "corpus sample: $got"
	fi
else
	echo "# no shared corpus at $shared: sample skipped"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
