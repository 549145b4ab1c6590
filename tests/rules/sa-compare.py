#!/usr/bin/env python3
"""sa-compare.py - compares vigil's rule hits with SpamAssassin's.

usage: sa-compare.py RULES_LIST SA_HITS VIGIL_HITS [--top N]

RULES_LIST is `vigilctl rules list` output ("NAME TYPE SCORE"); the hits
files are "FILE: RULE RULE ..." lines (sa-hits.pl, `vigilctl rules test
--batch`).  Only messages present in both and the regex rules vigil loaded
(header, body, rawbody, uri, full; not exists:, not metas) are compared,
each (message, rule) pair counted once.
"""
import sys
from collections import Counter

REGEX_TYPES = {"header", "body", "rawbody", "uri", "full", "mimeheader"}


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
    top = 15
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    rules = {}
    with open(args[0]) as f:
        for line in f:
            name, kind, _score = line.split()
            rules[name] = kind
    regex = {n for n, k in rules.items() if k in REGEX_TYPES}
    sa, vg = read_hits(args[1]), read_hits(args[2])
    msgs = sorted(set(sa) & set(vg))
    both = only_sa = only_vg = 0
    miss, extra, per_rule_sa = Counter(), Counter(), Counter()
    for m in msgs:
        s, v = sa[m] & regex, vg[m] & regex
        both += len(s & v)
        only_sa += len(s - v)
        only_vg += len(v - s)
        for r in s:
            per_rule_sa[r] += 1
        for r in s - v:
            miss[r] += 1
        for r in v - s:
            extra[r] += 1
    sa_total, vg_total = both + only_sa, both + only_vg
    recall = 100.0 * both / sa_total if sa_total else 0.0
    precision = 100.0 * both / vg_total if vg_total else 0.0
    print(f"messages compared: {len(msgs)}")
    print(f"regex rules loaded by vigil: {len(regex)} "
          f"({sum(1 for r in per_rule_sa)} hit at least once in SpamAssassin)")
    print(f"(message, rule) hits: SpamAssassin {sa_total}, vigil {vg_total}, "
          f"both {both}")
    print(f"vigil finds {recall:.2f}% of SpamAssassin's hits; "
          f"{precision:.2f}% of vigil's hits are SpamAssassin's too")
    print(f"top rules SpamAssassin hit and vigil did not:")
    for r, n in miss.most_common(top):
        print(f"  {r:32} {rules[r]:8} {n:6} of {per_rule_sa[r]}")
    print(f"top rules vigil hit and SpamAssassin did not:")
    for r, n in extra.most_common(top):
        print(f"  {r:32} {rules[r]:8} {n:6}")
    ok = recall >= 98.0 and precision >= 98.0
    print("PASS" if ok else "BELOW 98%")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
