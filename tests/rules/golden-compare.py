#!/usr/bin/env python3
# golden-compare.py - the verdict of a golden agreement test
# (wlbl-golden.sh, spoof-golden.sh): SpamAssassin's and vigil's hits
# ("FILE: RULE ..." lines of sa-hits.pl and `vigilctl rules test
# --batch`) on the rules compared must be the same for every message,
# and each "message rule" line of EXPECT must hit on both sides (so
# agreement on nothing fails).
# usage: golden-compare.py NAME RULES SA VIGIL EXPECT
import os, sys

def hits(path):
    out = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        name, _, rest = line.rstrip("\n").partition(": ")
        if name.endswith(":"):
            name, rest = name[:-1], ""
        out[os.path.basename(name)[:-4]] = set(rest.split())
    return out

name = sys.argv[1]
rules = set(open(sys.argv[2]).read().split())
sa, vg = hits(sys.argv[3]), hits(sys.argv[4])
passed = failed = 0
for line in open(sys.argv[5]):
    msg, rule = line.split()
    if rule not in rules:
        print(f"FAIL {msg}: {rule} is not loaded by vigil")
        failed += 1
    elif rule in sa.get(msg, ()) and rule in vg.get(msg, ()):
        passed += 1
    else:
        print(f"FAIL {msg}: {rule} expected on both sides: "
              f"SpamAssassin {'hit' if rule in sa.get(msg, ()) else 'no'}, "
              f"vigil {'hit' if rule in vg.get(msg, ()) else 'no'}")
        failed += 1
for msg in sorted(sa):
    s, v = sa[msg] & rules, vg.get(msg, set()) & rules
    if s == v:
        passed += 1
    else:
        print(f"FAIL {msg}: SpamAssassin only {' '.join(sorted(s - v)) or '-'};"
              f" vigil only {' '.join(sorted(v - s)) or '-'}")
        failed += 1
print(f"{name}: {len(rules)} rules compared over {len(sa)} messages")
print(f"{name}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
