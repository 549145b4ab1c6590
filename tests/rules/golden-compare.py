#!/usr/bin/env python3
# golden-compare.py - the verdict of wlbl-golden.sh and media-golden.sh:
# over the rules compared (those vigil loads of the files under test),
# every message must hit the same ones in SpamAssassin and in vigil, and
# each "message<TAB>rule" of EXPECT must hit on both sides (so agreement
# on nothing fails).
#
#   golden-compare.py RULES SA VIGIL EXPECT LABEL
# SA and VIGIL: "FILE: RULE RULE ..." lines (sa-hits.pl, `vigilctl rules
# test --batch`).  Ends with "LABEL: N passed, M failed"; exit 1 on a
# failure.
import os, sys

def hits(path):
    out = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        name, _, rest = line.rstrip("\n").partition(": ")
        if name.endswith(":"):
            name, rest = name[:-1], ""
        out[os.path.basename(name)[:-4]] = set(rest.split())
    return out

label = sys.argv[5]
rules = set(open(sys.argv[1]).read().split())
sa, vg = hits(sys.argv[2]), hits(sys.argv[3])
passed = failed = 0
for line in open(sys.argv[4]):
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
print(f"{label}: {len(rules)} rules compared over {len(sa)} messages")
print(f"{label}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
