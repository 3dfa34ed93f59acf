/* The order matcher: a marking read from a photo ("АМ117.07.01.211 29") is looked up in the
 * orders table (CSV or the service's XLSX) by a character 3-gram shortlist and an edit distance
 * whose costs know what OCR confuses (0/O/D, 1/I/L/7, 8/B/3, Latin and Cyrillic look-alikes). */
#ifndef DYN_OCR_MATCH_H
#define DYN_OCR_MATCH_H

#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

/* The columns of an orders table, in this order. */
enum ocr_col { OCR_ARTICLE, OCR_SERIAL, OCR_NAME, OCR_ORDER, OCR_STATION, OCR_NCOLS };

/* One row of the table, fields as written (trimmed), each owned by the table and never NULL
 * (an absent optional column gives ""). line: the CSV line or the sheet's row number. */
struct ocr_order {
	const char *f[OCR_NCOLS];
	size_t line;
};

struct ocr_orders_opts {
	/* Header name of each column (any case; NULL: the aliases below). Without an override a
	 * column is known by its English name or one of the service's Russian names:
	 *   article: article, артикул, обозначение, децимальный номер, чертеж, part number
	 *   serial:  serial, серийный номер, заводской номер, зав. номер, зав.номер, s/n
	 *   name:    name, наименование, название, деталь
	 *   order:   order, заказ, номер заказа, № заказа
	 *   station: station, станция, участок, установка, unit
	 * article, serial and order are required; name and station may be missing (""), unless
	 * named here. */
	const char *names[OCR_NCOLS];
};

/* A loaded table with its index. Heap object: ocr_orders_load / ocr_orders_free. Read-only
 * once loaded: threads may match against one table at once.
 *
 * Duplicate articles are kept: an article is a part design, and several parts of it (serial
 * numbers) are in the orders; the serial tells them apart. Rows equal in article and serial
 * are kept too (the same part in two orders): they tie, and both are returned in table
 * order, so the caller sees the ambiguity rather than a silent pick. Rows with an empty
 * article are skipped (blank lines of a sheet). */
struct ocr_orders;

/* Reads path: an XLSX workbook (name ending in .xlsx, any case: its first sheet,
 * xl/worksheets/sheet1.xml, with xl/sharedStrings.xml) or anything lib/io/records reads (CSV,
 * TSV, JSON, compressed). The first row is the header. Errors (DYN_EDATA, naming the file):
 * unreadable or broken file, missing columns (all named, with the header found), a sheet
 * that is not XLSX, more than OCR_ORDERS_MAX_ROWS rows. *o is owned by the caller. */
#define OCR_ORDERS_MAX_ROWS ((size_t)10 * 1000 * 1000)
int ocr_orders_load(struct ocr_orders **o, const char *path, const struct ocr_orders_opts *opts,
		    struct err *e);
void ocr_orders_free(struct ocr_orders **o);

size_t ocr_orders_count(const struct ocr_orders *o);
/* Row i (owned by o), i < ocr_orders_count. */
const struct ocr_order *ocr_orders_row(const struct ocr_orders *o, size_t i);

struct ocr_match_opts {
	size_t top_k;	  /* results wanted; 0: 5 */
	double threshold; /* rows scoring below are rejected; 0: OCR_MATCH_THRESHOLD; < 0: none */
	size_t shortlist; /* rows scored exactly after the 3-gram count; 0: 200 */
	double serial_weight; /* share of the serial in the score; 0: 0.3 (the article 0.7) */
};

#define OCR_MATCH_THRESHOLD 0.65

struct ocr_match {
	size_t row;	      /* index in the table (ocr_orders_row) */
	double score;	      /* in [0, 1]: 1 is an exact reading (separators aside) */
	double article_score; /* similarity of the article part, [0, 1] */
	double serial_score;  /* of the serial part, [0, 1] */
};

/* Finds the rows a reading (UTF-8, as the recognizer gave it: "article serial", separators and
 * look-alike letters as they came) belongs to: up to top_k of them scoring at least the
 * threshold, best first (ties in table order), in out[0..*n). *n == 0 means rejected: no
 * row is close enough. out holds at least top_k entries (owned by the caller).
 *
 * Each row is scored as (1 - w) * article similarity + w * serial similarity (w =
 * serial_weight; each similarity 1 - distance / length) under the best of three readings of
 * the text: split at its last space; its last characters, as many as the row's serial has, as
 * the serial (a space lost or misplaced); the whole text as the article with no serial read,
 * which scores at most 1 - w (0.7 by default: above the default threshold, so an article
 * read without its serial still finds the rows of that article, tied). Only the shortlist
 * (rows sharing the most 3-grams with the reading, article and serial grams counted apart,
 * confusion groups merged) is scored; when no row shares one, every row of a table up to
 * 20000 rows is. Errors (DYN_EUSAGE): invalid
 * UTF-8 in text. */
int ocr_orders_match(const struct ocr_orders *o, const char *text, const struct ocr_match_opts *mo,
		     struct ocr_match *out, size_t *n, struct err *e);

/* The characters of a UTF-8 text other than spaces and the separators . - /, and in *digits
 * (unless NULL) how many of them are digits. */
size_t ocr_content_chars(const char *text, size_t *digits);

/* Lines of fewer characters than this, separators and spaces not counted, are not searched
 * for by ocr_orders_match_lines: a speck or an edge read as "4. -" would find a short article
 * as well as the marking finds its own. */
#define OCR_LINE_MIN_CHARS 3

/* ocr_orders_match over the lines read in one photo (texts[0..nt), those shorter than
 * OCR_LINE_MIN_CHARS skipped): the rows any of them finds, each at the best score a line gave
 * it, best first (ties in table order), up to top_k in out[0..*n). A photo holds other lines
 * than its marking (steel grade, heat number), and the line the reader is surest of is not
 * always the marking. */
int ocr_orders_match_lines(const struct ocr_orders *o, const char *const *texts, size_t nt,
			   const struct ocr_match_opts *mo, struct ocr_match *out, size_t *n,
			   struct err *e);

/* The weighted edit distance between two UTF-8 strings (invalid bytes compared as they are):
 * insertion or deletion 1 (0.15 for a separator: space . - / _ ,), substitution 1, 0 for the
 * same character after case and look-alike folding (Cyrillic А and Latin A), 0.1 between two
 * separators, 0.35 between characters OCR confuses. Exposed for tests and for
 * explaining a match. */
double ocr_distance(const char *a, const char *b);
/* 1 - ocr_distance / the larger weight of a and b (each character 1, a separator 0.15),
 * clamped to [0, 1]; 1 for two empty strings. */
double ocr_similarity(const char *a, const char *b);

/* The key the index and the distance compare on: upper case, Cyrillic look-alikes as their
 * Latin twin (Ё as E), appended to out. "ам117.07" -> "AM117.07". */
void ocr_normalize(const char *text, struct strbuf *out);

#endif
