/* Text features: a Unicode-aware tokenizer (utf8proc case folding, optional Snowball stemming)
 * and a TF-IDF vectorizer over word n-grams and char n-grams that computes exactly what
 * scikit-learn's TfidfVectorizer computes (smooth idf, optional sublinear tf, l2 rows). */
#ifndef DYN_TEXT_TEXT_H
#define DYN_TEXT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "core/sparse.h"

enum text_stem {
	TEXT_STEM_NONE,
	TEXT_STEM_AUTO, /* per token: Russian for Cyrillic tokens, English for Latin ones */
	TEXT_STEM_ENGLISH,
	TEXT_STEM_RUSSIAN,
};

enum text_utf8 {
	TEXT_UTF8_ERROR,   /* invalid UTF-8 is an error naming the byte offset */
	TEXT_UTF8_REPLACE, /* each invalid byte becomes U+FFFD */
};

/* Case-folds s (len bytes) into out (appended): full Unicode case folding (utf8proc), no
 * normalization otherwise. Returns 0, or -1 with e = "invalid UTF-8 at byte N" (N 1-based)
 * when mode is TEXT_UTF8_ERROR. */
int text_fold(const char *s, size_t len, enum text_utf8 mode, struct strbuf *out, struct err *e);
/* 0 when s is valid UTF-8, else the 1-based offset of the first bad byte. */
size_t text_utf8_bad_offset(const char *s, size_t len);
/* Appends s to out with each byte that is not part of valid UTF-8 replaced by U+FFFD. */
void text_utf8_repair(const char *s, size_t len, struct strbuf *out);

/* Settings of a vectorizer. A block is off when its nmin is 0. */
struct tfidf_opts {
	int word_min, word_max; /* word n-grams, tokens as sklearn's (?u)\b\w\w+\b */
	int char_min, char_max; /* char n-grams inside word boundaries (sklearn's char_wb) */
	double min_df;		/* >= 1: a document count; < 1: a fraction of the documents */
	size_t max_features;	/* per block, the most frequent terms; 0 keeps all */
	bool sublinear_tf;	/* tf = 1 + ln(tf) */
	enum text_stem stem;	/* applied to word tokens only */
	enum text_utf8 invalid_utf8;
	int threads; /* threads of fit and transform (the documents split between them; the
		      * result is the same for any number); a run-time choice, not saved */
};

/* The defaults of the text model: words 1-2, chars 2-5, min_df 1, no limit. */
void tfidf_opts_default(struct tfidf_opts *o);

enum { TFIDF_WORD = 0, TFIDF_CHAR = 1, TFIDF_NBLOCKS = 2 };

struct term_map;

/* One block of features (words or chars): its sorted vocabulary and idf. */
struct tfidf_block {
	size_t nterms;
	char *terms;	      /* nterms NUL-terminated terms, concatenated, bytewise sorted */
	size_t terms_len;     /* bytes in terms, NULs included */
	double *idf;	      /* nterms */
	struct term_map *map; /* term -> index, for transform */
};

/* A fitted vectorizer. Embedded value: tfidf_init / tfidf_release. Columns are the word block's
 * terms then the char block's. transform is safe from several threads at once. */
struct tfidf {
	struct tfidf_opts o;
	size_t n_docs;
	struct tfidf_block b[TFIDF_NBLOCKS];
	size_t nfeatures;
};

/* Whether s (UTF-8) has a letter or a digit: a text of punctuation, symbols and spaces alone
 * says nothing a classifier could use, whatever character n-grams it shares with others. */
bool text_has_alnum(const char *s);

void tfidf_init(struct tfidf *v);
void tfidf_release(struct tfidf *v);

/* Learns the vocabulary and idf from docs[0..n) and writes their TF-IDF rows to X (initialised
 * here, owned by the caller). Errors: invalid UTF-8 ("document N: invalid UTF-8 at byte M"),
 * no term left after pruning. */
int tfidf_fit_transform(struct tfidf *v, const struct tfidf_opts *o, const char *const *docs,
			size_t n, struct csr *X, struct err *e);
/* Documents counted once for the vocabularies of several subsets of them (a held-out split's
 * training rows, then all rows) without analyzing the texts again. Heap object: tfidf_count /
 * tfidf_counts_free. */
struct tfidf_counts;
/* Counts docs[0..n), which must outlive the counts (they are not copied). Errors as
 * tfidf_fit_transform's. */
int tfidf_count(struct tfidf_counts **cp, const struct tfidf_opts *o, const char *const *docs,
		size_t n, struct err *e);
/* As tfidf_fit_transform on the counted documents rows[0..nrows) (all of them, in order, when
 * rows is NULL): the same vocabulary, idf and rows, X's row r being document rows[r]. */
int tfidf_fit_counts(struct tfidf *v, const struct tfidf_counts *c, const size_t *rows,
		     size_t nrows, struct csr *X, struct err *e);
/* The number of documents counted, and whether docs is the array they were counted from. */
size_t tfidf_counts_docs(const struct tfidf_counts *c, const char *const *docs);
void tfidf_counts_free(struct tfidf_counts **cp);
/* TF-IDF rows of docs[0..n) with the fitted vocabulary, into X (initialised here). Terms not
 * in the vocabulary are ignored; a document without any known term is a row of zeros. */
int tfidf_transform(const struct tfidf *v, const char *const *docs, size_t n, struct csr *X,
		    struct err *e);

/* Per-thread working memory for tfidf_row. Heap object: tfidf_row_new / tfidf_row_free. */
struct tfidf_row;
struct tfidf_row *tfidf_row_new(void);
void tfidf_row_free(struct tfidf_row **r);
/* The TF-IDF row of one document, without building a matrix (for streaming predictions):
 * *nnz entries in *idx / *val, owned by r and valid until its next use. Errors as transform
 * (without the document number). */
int tfidf_row(const struct tfidf *v, struct tfidf_row *r, const char *doc, const uint32_t **idx,
	      const double **val, size_t *nnz, struct err *e);

/* The name of feature j ("w:refund", "c: ref"), for descriptions. */
const char *tfidf_term(const struct tfidf *v, size_t j, int *block);

/* Rebuilds block bi from saved data: terms as concatenated NUL-terminated strings (len bytes,
 * strictly increasing), and nterms idf values. Errors name what is wrong. */
int tfidf_set_block(struct tfidf *v, int bi, const char *terms, size_t len, size_t nterms,
		    const double *idf, struct err *e);

/* The terms of one document, as the vectorizer's analyzer sees them (for tests): appended to
 * out as NUL-terminated strings; *count is their number. */
int tfidf_analyze(const struct tfidf_opts *o, int block, const char *doc, struct strbuf *out,
		  size_t *count, struct err *e);

#endif
