#!/usr/bin/env python3
"""account.py - every message sent is accounted for, or the run fails.

    account.py --sink DIR [--vigil-log FILE] [--hold-ids FILE]
               [--allow-tempfail] [--list FILE] RESULTS...

RESULTS are smtpsend.py outputs (id, file, stage, code, queue_id, text).
The sink folder holds one file per delivered message (smtp-sink -d); a
delivered copy is matched by its `X-Harness-Id:` header.  A message is

  delivered    250 and exactly one copy in the sink
  rejected     5xx and no copy in the sink
  quarantined  250, no copy, and its queue id is in Postfix's hold queue
               (--hold-ids) or on a vigil log line with "quarantine"
  discarded    250, no copy, and a vigil log line with "discard" for it
  tempfailed   4xx (the client still holds it; an error unless
               --allow-tempfail)
  LOST         anything else: 250 without a copy, a copy of a 5xx,
               a connection error, or a duplicate copy

Prints one summary line `sent=.. delivered=.. ...` then up to 20 problem
lines; exit 0 only when nothing is LOST.  --list writes `id<TAB>fate
<TAB>sink-file` for every message.
"""
import argparse
import os
import re
import sys


def sink_ids(sink):
	"""{id: [paths]} from the sink's dump files."""
	found = {}
	for root, _, files in os.walk(sink):
		for fn in files:
			path = os.path.join(root, fn)
			try:
				fh = open(path, "rb")
			except OSError:
				continue
			with fh:
				for line in fh:
					line = line.rstrip(b"\r\n")
					if not line:
						break
					if line[:14].lower() == b"x-harness-id: ":
						mid = line[14:].strip().decode("latin-1")
						found.setdefault(mid, []).append(path)
						break
	return found


def log_fates(path):
	"""{queue_id: 'quarantine'|'discard'} from vigil's log lines."""
	fates = {}
	if not path or not os.path.exists(path):
		return fates
	with open(path, "rb") as fh:
		for raw in fh:
			line = raw.decode("latin-1")
			fate = None
			if re.search(r"\bquarantine", line):
				fate = "quarantine"
			elif re.search(r"\bdiscard", line):
				fate = "discard"
			if fate:
				for tok in re.findall(r"[0-9A-Za-z]{6,}", line):
					fates.setdefault(tok, fate)
	return fates


def main():
	ap = argparse.ArgumentParser(description=__doc__,
	    formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--sink", required=True)
	ap.add_argument("--vigil-log")
	ap.add_argument("--hold-ids")
	ap.add_argument("--allow-tempfail", action="store_true")
	ap.add_argument("--list")
	ap.add_argument("results", nargs="+")
	a = ap.parse_args()

	sent = []
	for r in a.results:
		with open(r, encoding="latin-1") as fh:
			for line in fh:
				f = line.rstrip("\n").split("\t")
				if len(f) >= 5:
					sent.append((f[0], f[1], f[2], int(f[3]), f[4],
					    f[5] if len(f) > 5 else ""))
	found = sink_ids(a.sink)
	fates = log_fates(a.vigil_log)
	hold = set()
	if a.hold_ids and os.path.exists(a.hold_ids):
		with open(a.hold_ids) as fh:
			hold = set(l.strip() for l in fh if l.strip())

	count = {k: 0 for k in ("delivered", "rejected", "quarantined",
	    "discarded", "tempfailed", "LOST")}
	problems = []
	listing = []
	seen = set()
	for mid, fn, stage, code, qid, text in sent:
		copies = found.get(mid, [])
		fate = "LOST"
		why = ""
		if mid in seen:
			why = "id sent twice (harness bug)"
		elif len(copies) > 1:
			why = "%d copies delivered" % len(copies)
		elif code == 250 and copies:
			fate = "delivered"
		elif code == 250 and qid in hold:
			fate = "quarantined"
		elif code == 250 and fates.get(qid) == "quarantine":
			fate = "quarantined"
		elif code == 250 and fates.get(qid) == "discard":
			fate = "discarded"
		elif code == 250:
			why = "accepted as %s but not delivered" % qid
		elif 500 <= code < 600 and not copies:
			fate = "rejected"
		elif 500 <= code < 600:
			why = "rejected (%d) yet delivered" % code
		elif 400 <= code < 500 and not copies:
			fate = "tempfailed"
			if not a.allow_tempfail:
				problems.append("%s %s: tempfailed at %s: %d %s" %
				    (mid, fn, stage, code, text))
		else:
			why = "no reply at %s: %s" % (stage, text)
		seen.add(mid)
		count[fate] += 1
		if fate == "LOST":
			problems.append("%s %s: %s" % (mid, fn, why))
		listing.append("%s\t%s\t%s" % (mid, fate, copies[0] if copies else "-"))
	stray = set(found) - seen
	print("sent=%d %s stray=%d" % (len(sent),
	    " ".join("%s=%d" % (k, v) for k, v in count.items()), len(stray)))
	for p in problems[:20]:
		print("  " + p)
	if a.list:
		with open(a.list, "w") as fh:
			fh.write("\n".join(listing) + "\n")
	bad = count["LOST"] + (0 if a.allow_tempfail else count["tempfailed"])
	return 1 if bad or not sent else 0


if __name__ == "__main__":
	sys.exit(main())
