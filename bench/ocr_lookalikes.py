#!/usr/bin/python3
"""How much of the line recognizer's error the generated text itself forces (issue 12).

Latin and Cyrillic capitals drawn alike (A/А, B/В, C/С, E/Е, H/Н, K/К, M/М, O/О, P/Р, T/Т, X/Х,
Y/У: the pairs ocr_normalize folds) look the same in most fonts lib/ocr/synth draws from, so a
reader can tell their script only from the rest of the line. Over the reference lines of a test
set (bench/ocr_crnn.sh writes OUT/truth.txt) this finds the lines the generator's marking pattern
made (an article prefix of 1-3 capitals of one script, Cyrillic 7 times in 10; a serial letter,
always Cyrillic) and the rest (random characters of the alphabet, Latin and Cyrillic alike
equally likely), and estimates what the best reader scores as read when it cannot see the
script of a look-alike: a prefix of look-alikes only read as Cyrillic (right 70% of the time),
each look-alike of a random line right half of the time. The folded figures of
bench/ocr_crnn.c (ocr_normalize) have no such floor. Fonts that lack Cyrillic draw it from
another font, which gives the script away: the floor is an upper bound of what is forced.

usage: /usr/bin/python3 bench/ocr_lookalikes.py TRUTH.txt
"""
import re
import sys

LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
ALIKE = set("ABCEHKMOPTXY") | set("АВСЕНКМОРТХУ")
SEPS = "./-"
PATTERN = re.compile(
    f"^(?:([{LATIN}]{{1,3}}|[{CYRILLIC}]{{1,3}})[{SEPS}]?)?[0-9][0-9{SEPS}]*"
    f"(?: [{CYRILLIC}]?[0-9]+)?$")


def main(path):
    lines = [l.rstrip("\n") for l in open(path, encoding="utf-8")]
    n = len(lines)
    chars = sum(len(s) for s in lines)
    prefix_alike = random_lines = 0
    exact = 0.0
    char_err = 0.0
    for s in lines:
        m = PATTERN.match(s)
        if m:
            prefix = m.group(1) or ""
            if prefix and all(c in ALIKE for c in prefix):
                prefix_alike += 1
                exact += 0.7
                char_err += 0.3 * len(prefix)
            else:
                exact += 1
        else:
            random_lines += 1
            k = sum(c in ALIKE for c in s)
            exact += 0.5 ** k
            char_err += 0.5 * k
    print(f"{n} lines, {chars} characters: {n - random_lines} of the marking pattern, "
          f"{prefix_alike} ({100 * prefix_alike / n:.1f}%) of them with a prefix of look-alikes "
          f"only; {random_lines} ({100 * random_lines / n:.1f}%) random characters")
    print(f"best reader blind to the script of look-alikes, as read: exact lines at most "
          f"{100 * exact / n:.1f}%, CER at least {100 * char_err / chars:.2f}%")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: ocr_lookalikes.py TRUTH.txt")
    main(sys.argv[1])
