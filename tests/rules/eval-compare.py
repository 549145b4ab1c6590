#!/usr/bin/env python3
"""eval-compare.py - compares vigil's eval: rule hits with SpamAssassin's.

usage: eval-compare.py RULES_DIR RULES_LIST SA_HITS VIGIL_HITS [--min PCT]

The eval rules are the `header|body|rawbody|full NAME eval:FN(...)` lines
of RULES_DIR's *.cf files that vigil loaded (RULES_LIST, `vigilctl rules
list`); the hits files are "FILE: RULE RULE ..." lines (sa-hits.pl,
`vigilctl rules test --batch`).  Prints, for each eval function, the
(message, rule) hits of each side and those they share, then every
message where they differ; fails when either side's share of the other's
hits is below --min (default 100: every hit the same).
"""
import glob
import re
import sys
from collections import Counter, defaultdict

EVAL = re.compile(r"^\s*(header|body|rawbody|full)\s+(\w+)\s+eval:\s*(\w+)")


def read_hits(path):
    hits = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            name, _, rest = line.rstrip("\n").partition(": ")
            if name.endswith(":"):
                name, rest = name[:-1], ""
            hits[name] = set(rest.split())
    return hits


def main():
    args = sys.argv[1:]
    need = 100.0
    if "--min" in args:
        i = args.index("--min")
        need = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 4:
        sys.exit(__doc__)
    fn_of = {}
    for path in sorted(glob.glob(args[0] + "/*.cf")):
        with open(path, encoding="latin-1") as f:
            for line in f:
                m = EVAL.match(line)
                if m:
                    fn_of[m.group(2)] = m.group(3)
    loaded = set()
    with open(args[1]) as f:
        for line in f:
            name, kind = line.split()[:2]
            if kind in ("header", "body", "rawbody", "full"):
                loaded.add(name)
    rules = {r for r in fn_of if r in loaded}
    sa, vg = read_hits(args[2]), read_hits(args[3])
    msgs = sorted(set(sa) & set(vg))
    per = defaultdict(Counter)
    diffs = []
    for m in msgs:
        s, v = sa[m] & rules, vg[m] & rules
        for r in s | v:
            c = per[fn_of[r]]
            c["sa"] += r in s
            c["vigil"] += r in v
            c["both"] += r in s and r in v
        if s != v:
            diffs.append((m, sorted(s - v), sorted(v - s)))
    tot = Counter()
    print(f"messages compared: {len(msgs)}; eval rules vigil runs: "
          f"{len(rules)}")
    print(f"{'function':44} {'SA':>6} {'vigil':>6} {'both':>6}")
    for fn in sorted(per, key=lambda k: -per[k]["sa"]):
        c = per[fn]
        tot.update(c)
        print(f"{fn:44} {c['sa']:6} {c['vigil']:6} {c['both']:6}")
    for m, only_sa, only_vg in diffs[:40]:
        print(f"differs: {m}: SpamAssassin only {' '.join(only_sa) or '-'};"
              f" vigil only {' '.join(only_vg) or '-'}")
    rec = 100.0 * tot["both"] / tot["sa"] if tot["sa"] else 100.0
    prec = 100.0 * tot["both"] / tot["vigil"] if tot["vigil"] else 100.0
    print(f"eval hits: SpamAssassin {tot['sa']}, vigil {tot['vigil']}, both "
          f"{tot['both']}: vigil finds {rec:.2f} % of SpamAssassin's, "
          f"{prec:.2f} % of vigil's are SpamAssassin's")
    return 0 if rec >= need and prec >= need else 1


if __name__ == "__main__":
    sys.exit(main())
