#!/usr/bin/python3
"""A real labelled text corpus from Debian's wordnet-base: every WordNet 3.0 synset's gloss (its
definition and example sentences) labelled with its lexicographer file, the 45 coarse classes
of WordNet (noun.artifact, verb.motion, adj.all...). 117,659 documents, short (about 12 words),
imbalanced (14,435 adj.all, 42 noun.motive). Written as CSV text,label in a fixed shuffled order.

WordNet 3.0 is (c) 2006 Princeton University, under the WordNet License (BSD-like: use, copy,
modify and distribute for any purpose, with the copyright notice); see
/usr/share/doc/wordnet-base/copyright.

usage: wordnet_corpus.py [WORDNET_DIR] > corpus.csv   (default /usr/share/wordnet)
"""
import csv
import os
import random
import sys

# The lexicographer files in the order of their numbers (WordNet's lexnames(5WN)); data.* give
# the number, the second field of each synset line.
LEXNAMES = """adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute
noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group
noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession
noun.process noun.quantity noun.relation noun.shape noun.state noun.substance noun.time
verb.body verb.change verb.cognition verb.communication verb.competition verb.consumption
verb.contact verb.creation verb.emotion verb.motion verb.perception verb.possession verb.social
verb.stative verb.weather adj.ppl""".split()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"
    rows = []
    for pos in ("adj", "adv", "noun", "verb"):
        path = os.path.join(root, "data." + pos)
        if not os.path.exists(path):
            sys.exit("wordnet_corpus.py: %s not found (apt-get install wordnet-base)" % path)
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):  # the licence header
                    continue
                head, _, gloss = line.partition(" | ")
                rows.append((gloss.strip(), LEXNAMES[int(head.split()[1])]))
    random.Random(1).shuffle(rows)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["text", "label"])
    w.writerows(rows)


main()
