#!/usr/bin/env python3
"""Does the AVFastText path find what the whole-message path finds?

    fast_diff.py VIGILCTL CONF FILE...

Takes the FILEs that vigil scans on the fast path; for each, a 24-byte
piece of its text (decoded, base64 and quoted-printable parts first) that
occurs in no other FILE becomes a signature of its own; then every such
message is scanned with AVFastText no and yes, and each must be found by
its own signature on both paths or on neither.  Prints the counts and
the messages that differ; exit 1 when one does.  A manual check (the
SpamAssassin corpus, the MIME oracle), not part of make check.
"""
import binascii
import collections
import email
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from email import policy


def scan(vigilctl, conf, db, fast, files):
    out = subprocess.run(
        [vigilctl, "-c", conf, "-o", "Checks=headers,av", "-o", "AVScan=yes",
         "-o", "DatabaseDirectory=" + db, "-o", "AVFastText=" + fast,
         "scan", "--json"] + files,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout
    return {d["file"]: d.get("av") or {} for d in
            map(json.loads, out.decode().splitlines())}


def texts(path):
    """The leaf parts' decoded bytes, encoded ones first."""
    try:
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=policy.compat32)
        parts = [(str(p.get("content-transfer-encoding", "")).strip().lower(),
                  p.get_payload(decode=True) or b"")
                 for p in m.walk() if not p.is_multipart()]
    except Exception:  # torture messages the email package refuses
        return []
    parts.sort(key=lambda t: t[0] not in ("base64", "quoted-printable"))
    return parts


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    vigilctl, conf, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "db")
        os.mkdir(db)
        with open(os.path.join(db, "dummy.ndb"), "w") as f:
            f.write("Fast.Diff.Dummy:0:*:%s\n" %
                    binascii.hexlify(b"no-such-text-8d1f2c").decode())
        first = scan(vigilctl, conf, db, "yes", files)
        fast = [p for p in files if first.get(p, {}).get("path") == "fast"]
        blobs = {p: open(p, "rb").read() + b"\0" + b"\0".join(
            d for _, d in texts(p)) for p in files}
        everything = b"\0".join(blobs.values())
        sigs, chosen = [], []
        for p in fast:
            parts = texts(p)
            if not parts:
                continue
            pieces = re.findall(rb"[\x21-\x7e][\x20-\x7e]{22}[\x21-\x7e]",
                                parts[0][1])
            random.shuffle(pieces)
            for s in pieces[:20]:
                if everything.count(s) == blobs[p].count(s):
                    sigs.append("Fast.Diff.%d:0:*:%s" % (
                        len(chosen), binascii.hexlify(s).decode()))
                    chosen.append((p, parts[0][0] or "7bit"))
                    break
        with open(os.path.join(db, "diff.ndb"), "w") as f:
            f.write("\n".join(sigs) + "\n")
        names = [p for p, _ in chosen]
        full, quick = (scan(vigilctl, conf, db, x, names)
                       for x in ("no", "yes"))
    counts, differ = collections.Counter(), []
    for i, (p, enc) in enumerate(chosen):
        want = "Fast.Diff.%d." % i
        a = (full.get(p, {}).get("name") or "").startswith(want)
        b = (quick.get(p, {}).get("name") or "").startswith(want)
        counts[(enc, a, b)] += 1
        if a and not b:
            differ.append(p)
    print("%d of %d messages on the fast path, %d with a signature of "
          "their own" % (len(fast), len(files), len(chosen)))
    for (enc, a, b), n in sorted(counts.items()):
        print("  %-16s whole message %-5s fast %-5s %d" % (
            enc, "found" if a else "-", "found" if b else "-", n))
    for p in differ:
        print("MISSED on the fast path: %s" % p)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
