#!/usr/bin/env python3
"""Writes a small synthetic training set for the Bayes tests (seeded, so
every run is the same): N ham messages as a Maildir, N spam messages as an
mbox, and one unseen message of each class as plain files.

    mkcorpus.py OUTDIR N
"""
import os
import random
import sys

HAM = ("meeting agenda review patch build release notes schedule minutes "
       "project budget quarterly draft kernel compiler thanks regards team "
       "lunch tomorrow report attached comments").split()
SPAM = ("viagra cheap pills casino winner lottery million dollars offer "
        "unsubscribe click free money guaranteed refinance mortgage rolex "
        "replica discount urgent bank transfer").split()
COMMON = "the a to of and in is for you we this that with on at it".split()


def message(rng, cls, i):
    words = HAM if cls == "ham" else SPAM
    body = " ".join(rng.choice(words) if rng.random() < 0.4 else
                    rng.choice(COMMON) for _ in range(60))
    subj = " ".join(rng.choice(words) for _ in range(4))
    dom = "example.org" if cls == "ham" else "spam.example"
    return ("From: {c}{i} <sender{i}@{d}>\n"
            "To: user@example.net\n"
            "Subject: {s}\n"
            "Message-ID: <{c}.{i}@{d}>\n"
            "Date: Mon, 2 Sep 2002 12:00:00 +0000\n"
            "\n"
            "{b}\nhttp://www.{d}/{c}/{i}\n").format(c=cls, i=i, d=dom,
                                                    s=subj, b=body)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(4)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(out, "ham.maildir", sub), exist_ok=True)
    for i in range(n):
        sub = "cur" if i % 2 else "new"
        with open(os.path.join(out, "ham.maildir", sub,
                               "%d.test:2," % i), "w") as f:
            f.write(message(rng, "ham", i))
    with open(os.path.join(out, "spam.mbox"), "w") as f:
        for i in range(n):
            f.write("From sender%d@spam.example Mon Sep  2 12:00:00 2002\n"
                    % i)
            f.write(message(rng, "spam", i))
            f.write("\n")
    for cls in ("ham", "spam"):
        with open(os.path.join(out, "unseen-%s.eml" % cls), "w") as f:
            f.write(message(rng, cls, 100000))


if __name__ == "__main__":
    main()
