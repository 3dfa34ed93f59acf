#!/usr/bin/python3
"""A second real labelled text corpus, with more classes: the short description of every binary
package in Debian's package index (the Packages file apt keeps under /var/lib/apt/lists after
`apt-get update`), labelled with the package's section (admin, devel, libs, python, x11, games,
science...: 58 sections in bookworm's main for amd64). About 63,000 documents of about 7 words,
very imbalanced (over 10,000 libs, 15 zope). Written as CSV text,label in a fixed shuffled order.

Each description is part of its package's debian/control and under that package's licence (all
of Debian main is DFSG-free); the index is published by Debian with the archive. Nothing of it
is stored in this repository: the benchmark reads the machine's copy.

usage: debian_corpus.py [PACKAGES_FILE] > corpus.csv
       (default: the main component of the first Packages index in /var/lib/apt/lists)
"""
import csv
import glob
import random
import subprocess
import sys


def index_path():
    for pat in ("*_dists_*_main_binary-*_Packages", "*_dists_*_main_binary-*_Packages.*"):
        found = sorted(p for p in glob.glob("/var/lib/apt/lists/" + pat)
                       if "security" not in p and "updates" not in p)
        if found:
            return found[0]
    sys.exit("debian_corpus.py: no Packages index in /var/lib/apt/lists (run apt-get update)")


def read_index(path):
    """The index's text, through apt's own decompressor (it reads every format apt keeps)."""
    r = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], capture_output=True,
                       check=True)
    return r.stdout.decode("utf-8", "replace")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else index_path()
    rows, seen = [], set()
    for stanza in read_index(path).split("\n\n"):
        f = {}
        for line in stanza.split("\n"):
            key, sep, val = line.partition(": ")
            if sep and not line.startswith(" "):
                f[key] = val.strip()
        if "Package" not in f or "Description" not in f or "Section" not in f:
            continue
        if f["Package"] in seen:  # one stanza a package (an index may list versions)
            continue
        seen.add(f["Package"])
        # "contrib/net" and "net" are the same section
        rows.append((f["Description"], f["Section"].rsplit("/", 1)[-1]))
    random.Random(1).shuffle(rows)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["text", "label"])
    w.writerows(rows)


main()
