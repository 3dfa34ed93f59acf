#!/usr/bin/python3
"""Reference values of tests/unit/t_text.c, from scikit-learn's TfidfVectorizer.

Run from the repository root:  /usr/bin/python3 tests/ref/text_tfidf.py > /tmp/ref.c
(scikit-learn 1.2.1 from Debian's python3-sklearn). Prints C initializers pasted into the test.
Features are a FeatureUnion of a word vectorizer and a char_wb vectorizer, as dyn's text model
hstacks its word and char blocks, each l2-normalized.
"""
import csv
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

ROWS = [0, 4, 8, 1234, 2999]
SETTINGS = [
    ("default", dict(), dict()),
    # min_df 2, sublinear tf, and max_features 4995: it keeps all 3531 word terms and cuts
    # the char terms where their corpus totals have no tie (sklearn's argsort is not stable,
    # so a cut inside a tie would keep arbitrary terms)
    ("pruned", dict(min_df=2, sublinear_tf=True, max_features=4995),
     dict(min_df=2, sublinear_tf=True, max_features=4995)),
]


def cstr(s):
    out = '"'
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out += "\\" + c
        elif 32 <= b < 127:
            out += c
        else:
            out += "\\%03o" % b
    return out + '"'


def main():
    docs = [r[0] for r in list(csv.reader(open("testdata/text/tickets.csv", encoding="utf-8")))[1:]]
    for name, wk, ck in SETTINGS:
        w = TfidfVectorizer(ngram_range=(1, 2), **wk)
        c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **ck)
        X = FeatureUnion([("w", w), ("c", c)]).fit_transform(docs).tocsr()
        names = ["w:" + t for t in w.get_feature_names_out()] + \
                ["c:" + t for t in c.get_feature_names_out()]
        print("/* %s: %d word terms, %d char terms */" % (name, len(w.vocabulary_),
                                                          len(c.vocabulary_)))
        print("static const struct ref_row ref_%s[] = {" % name)
        for r in ROWS:
            row = X.getrow(r)
            pairs = sorted(zip(row.data, row.indices), key=lambda p: (-p[0], names[p[1]]))[:8]
            print("\t{%d, %d, %r, {" % (r, row.nnz, float(row.data.sum())))
            for v, j in pairs:
                print("\t\t{%s, %r}," % (cstr(names[j]), float(v)))
            print("\t}},")
        print("};")
    # analyzers on hand-made text
    text = "Hello, WORLD! Привет,  МИР ёлка 42 a_b x\tВход_2FA xx-yy"
    wa = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()
    ca = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    print("static const char ana_text[] = %s;" % cstr(text))
    for nm, a in (("ana_words", wa), ("ana_chars", ca)):
        print("static const char *const %s[] = {" % nm)
        for t in a(text):
            print("\t%s," % cstr(t))
        print("\tNULL,\n};")


if __name__ == "__main__" and len(sys.argv) == 1:
    main()


def default_features():
    """dyn fit text's default features: word 1-2-grams and char_wb 2-4-grams, each block
    TF-IDF weighted and l2-normalized, terms in fewer than 2 documents dropped."""
    return FeatureUnion([("w", TfidfVectorizer(ngram_range=(1, 2), min_df=2)),
                         ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                               min_df=2))])


def solvers():
    """Decision values of LinearSVC and probabilities of LogisticRegression on the default
    features of the first 600 tickets, fit to tight tolerances: both objectives are strictly
    convex, so any solver that converges must give these."""
    from sklearn.svm import LinearSVC
    from sklearn.linear_model import LogisticRegression
    rows = list(csv.reader(open("testdata/text/tickets.csv", encoding="utf-8")))[1:601]
    docs, y = [r[0] for r in rows], [r[1] for r in rows]
    X = default_features().fit_transform(docs)
    svm = LinearSVC(C=1, tol=1e-10, max_iter=100000).fit(X, y)
    # newton-cg: lbfgs stops on scipy's relative decrease test first (its objective here is
    # 1.6e-9 above the optimum, 1e-5 off in probabilities); newton-cg reaches it
    lr = LogisticRegression(C=10, tol=1e-10, max_iter=100000, solver="newton-cg").fit(X, y)
    print("/* classes: %s */" % " ".join(svm.classes_))
    print("static const double ref_svm_dec[][10] = {")
    for r in (0, 1, 2, 599):
        print("\t{%s}," % ", ".join(repr(float(v)) for v in svm.decision_function(X[r])[0]))
    print("};")
    print("static const double ref_lr_proba[][10] = {")
    for r in (0, 1, 2, 599):
        print("\t{%s}," % ", ".join(repr(float(v)) for v in lr.predict_proba(X[r])[0]))
    print("};")


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "solvers":
    solvers()


def accuracy():
    """Held-out accuracy: train on the first 2400 tickets, test on the last 600."""
    from sklearn.svm import LinearSVC
    from sklearn.linear_model import LogisticRegression
    rows = list(csv.reader(open("testdata/text/tickets.csv", encoding="utf-8")))[1:]
    docs, y = [r[0] for r in rows], [r[1] for r in rows]
    fu = default_features()
    Xtr = fu.fit_transform(docs[:2400])
    Xte = fu.transform(docs[2400:])
    for name, m in (("LinearSVC()", LinearSVC()),
                    ("LinearSVC(class_weight='balanced')", LinearSVC(class_weight="balanced")),
                    ("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000)),
                    ("LogisticRegression(C=10, max_iter=1000)",
                     LogisticRegression(C=10, max_iter=1000))):
        acc = (m.fit(Xtr, y[:2400]).predict(Xte) == y[2400:]).mean()
        print("/* %s: accuracy %r */" % (name, float(acc)))


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "accuracy":
    accuracy()


def wordnet():
    """Held-out accuracy on the real WordNet excerpt: train on the first 2400 glosses, test on
    the last 600 (tests/t4200-text-wordnet.sh)."""
    from sklearn.svm import LinearSVC
    from sklearn.linear_model import LogisticRegression
    rows = list(csv.reader(open("testdata/text/wordnet-3k.csv", encoding="utf-8")))[1:]
    docs, y = [r[0] for r in rows], [r[1] for r in rows]
    fu = FeatureUnion([("w", TfidfVectorizer(ngram_range=(1, 2))),
                       ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)))])
    Xtr = fu.fit_transform(docs[:2400])
    Xte = fu.transform(docs[2400:])
    for name, m in (("LinearSVC()", LinearSVC()),
                    ("LinearSVC(class_weight='balanced')", LinearSVC(class_weight="balanced")),
                    ("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000))):
        acc = (m.fit(Xtr, y[:2400]).predict(Xte) == y[2400:]).mean()
        print("# %s: accuracy %r" % (name, float(acc)))


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "wordnet":
    wordnet()
