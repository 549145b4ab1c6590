#!/usr/bin/env python3
# report_gen.py OUT EXPECT NOW: writes a LogFile of 1,000 JSON records
# spread over the 14 days before NOW (the report's 7d and the 7d before),
# as vigil writes them, and the figures the report must show for the
# last 7 days (EXPECT, JSON), counted here on their own.  The report is
# run with --until NOW; records also stay clear of the period's, days'
# and hours' boundaries, so that a rounding there moves none.
import json, random, sys

out, expect_path, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
rng = random.Random(18)
DAY = 86400.0
start = now - 7 * DAY
actions = ["accept"] * 55 + ["tag"] * 20 + ["quarantine"] * 10 + \
    ["reject"] * 12 + ["tempfail"] * 3
rules = ["BAYES_99", "SUBJ_ALL_CAPS", "MISSING_MID", "DEAR_FRIEND",
         "URI_SHORTENER", "HTML_DISPLAY_NONE", "FROM_MALFORMED",
         "T_LOCAL_OFFER", "DKIM_INVALID", "SPF_FAIL", "RDNS_NONE",
         "LOTTERY_COMBO"]
nets = ["198.51.100.%d", "203.0.113.%d", "192.0.2.%d"]
domains = ["spam.example", "bulk.example", "Pharma.Example"]
sigs = ["Eicar-Signature", "Win.Trojan.Agent-1", "Doc.Dropper.X"]
zones = ["zen.spamhaus.org", "bl.spamcop.net", "multi.uribl.com"]

def clear(ts):
	"""Away from the period's, days' and hours' boundaries."""
	return abs(ts - start) > 600 and 600 < (ts - start) % DAY < DAY - 600 \
	    and 60 < (ts - start) % 3600 < 3540 and ts < now - 120

def offset():
	while True:
		ts = now - rng.uniform(120, 14 * DAY - 120)
		if clear(ts):
			return ts

recs = []
for i in range(1000):
	ts = offset()
	a = rng.choice(actions)
	hits = {r: round(rng.uniform(0.1, 3), 2)
		for r in rng.sample(rules, rng.randint(0, 4))}
	r = {"ts": round(ts, 3), "session": "%08x" % i,
	     "queue_id": "Q%05d" % i, "stage": "data", "action": a,
	     "verdict": a, "client_addr": rng.choice(nets) % rng.randint(1, 250),
	     "from": "u%d@%s" % (i, rng.choice(domains)) if a == "reject"
		else "user%d@ok.example" % i,
	     "rcpts": ["rcpt@example.net"], "score": 1.0, "required": 5.0,
	     "hits": hits, "shadow": [], "failures": [],
	     "versions": {"rules": "0" * 16, "bayes": "%d/%d" % (i, i)}}
	if a == "reject" and rng.random() < 0.3:
		r["av"] = {"result": "infected", "name": rng.choice(sigs)}
	if a == "tempfail":
		r["failures"] = [rng.choice(["dnsbl", "bayes", "av"])]
	if a == "quarantine":
		r["quarantine"] = "id%04d" % i
	r["bayes"] = None if rng.random() < 0.5 else 0.5
	r["bayes_state"] = "voting"
	if rng.random() < 0.8:	# DNS lists on: lookups, some unanswered
		n = rng.randint(1, 6)
		r["dnsbl"] = {"lookups": n, "answered": n if rng.random() < 0.85
			else rng.randint(0, n - 1),
			"disabled": rng.sample(zones, rng.choice([0] * 8 + [1, 2]))}
	recs.append(r)
# Releases of some quarantined entries: each a later, accepted record.
quar = [r for r in recs if "quarantine" in r]
for q in quar[::3]:
	ts = q["ts"] + 300
	if not clear(ts):
		continue
	recs.append({"ts": round(ts, 3), "action": "accept", "verdict": "accept",
	    "stage": "data", "from": q["from"], "hits": {}, "failures": [],
	    "release": q["quarantine"], "client_addr": "127.0.0.1"})
recs.sort(key=lambda r: r["ts"])
recs = recs[:1000]
with open(out, "w") as f:
	for r in recs:
		f.write(json.dumps(r) + "\n")

# What the last 7 days must show.
def cnt(d, k):
	d[k] = d.get(k, 0) + 1

cur = [r for r in recs if r["ts"] >= start]
prev = [r for r in recs if r["ts"] < start]
exp = {"total": len(cur), "previous": len(prev), "action": {}, "day": [0] * 7,
       "hourly": [0] * 168,
       "hour": [0] * 24, "rules": {}, "fp": {}, "nets": {}, "domains": {},
       "av": {}, "failures": {}, "dnsbl": {}}
import time
byid = {r["quarantine"]: r for r in recs if "quarantine" in r}
for r in cur:
	cnt(exp["action"], r["action"])
	exp["day"][int((r["ts"] - start) // DAY)] += 1
	exp["hourly"][int((r["ts"] - start) // 3600)] += 1
	exp["hour"][time.gmtime(r["ts"]).tm_hour] += 1
	for k in r["hits"]:
		cnt(exp["rules"], k)
	if r["action"] == "reject":
		a = r["client_addr"].rsplit(".", 1)[0] + ".0/24"
		cnt(exp["nets"], a)
		cnt(exp["domains"], r["from"].split("@")[1].lower())
	if "av" in r:
		cnt(exp["av"], r["av"]["name"])
	for c in r["failures"]:
		cnt(exp["failures"], c)
	if "dnsbl" in r:
		d = r["dnsbl"]
		cnt(exp["dnsbl"], "every lookup answered" if d["answered"] >= d["lookups"]
		    else "lookups unanswered within the budget")
		for z in d["disabled"]:
			cnt(exp["dnsbl"], "scored without %s (disabled)" % z)
	if "release" in r and r["release"] in byid:
		for k in byid[r["release"]]["hits"]:
			cnt(exp["fp"], k)
exp["hourly_labels"] = [time.strftime("%m-%d %H:%M", time.gmtime(start + h * 3600))
			for h in range(168)]
exp["day_labels"] = [time.strftime("%Y-%m-%d", time.gmtime(start + d * DAY))
		     for d in range(7)]
json.dump(exp, open(expect_path, "w"))
