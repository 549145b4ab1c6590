#!/usr/bin/env python3
"""account.py - every message sent is accounted for, or the run fails.

    account.py --sink DIR [--vigil-log FILE] [--hold-ids FILE]
               [--quarantine-db FILE]... [--allow-tempfail] [--list FILE]
               RESULTS...

RESULTS are smtpsend.py outputs (id, file, stage, code, queue_id, text).
The sink folder holds one file per delivered message (smtp-sink -d); a
delivered copy is matched by its `X-Harness-Id:` header.  A message is

  delivered    250 and exactly one copy in the sink
  rejected     5xx and no copy in the sink
  quarantined  250, no copy, and its queue id is in Postfix's hold queue
               (--hold-ids) or in a quarantine store's index
               (--quarantine-db: the message is where the admin finds it,
               not merely said to be by a log line)
  discarded    250, no copy, and vigil's verdict line for its queue id
               says discard (a discarded message leaves nothing else)
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
	"""{queue_id: verdict} from vigil's verdict lines (q=QID verdict=V)."""
	fates = {}
	if not path or not os.path.exists(path):
		return fates
	with open(path, "rb") as fh:
		for raw in fh:
			m = re.search(r" q=(\S+) verdict=(\w+)", raw.decode("latin-1"))
			if m:
				fates[m.group(1)] = m.group(2)
	return fates


def store_qids(paths):
	"""The queue ids indexed in quarantine stores (index.sqlite)."""
	import sqlite3
	qids = set()
	for path in paths or []:
		if not os.path.exists(path):
			continue
		con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
		try:
			for (qid,) in con.execute("SELECT queue_id FROM entries"):
				if qid:
					qids.add(qid)
		finally:
			con.close()
	return qids


def main():
	ap = argparse.ArgumentParser(description=__doc__,
	    formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--sink", required=True)
	ap.add_argument("--vigil-log")
	ap.add_argument("--hold-ids")
	ap.add_argument("--quarantine-db", action="append")
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
	stored = store_qids(a.quarantine_db)
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
		elif code == 250 and qid in stored:
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
