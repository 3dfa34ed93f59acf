/* Record readers: CSV (RFC 4180, via libcsv), JSON and NDJSON (via cJSON), from a path or
 * stdin, transparently decompressed (gzip, xz, zstd, bzip2 via libarchive's raw format) and
 * from archive members (zip, tar, tar.gz, 7z). A reader yields one record at a time, so a
 * CSV or NDJSON stream is read in constant memory; a JSON document is parsed whole. */
#ifndef DYN_IO_RECORDS_H
#define DYN_IO_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum rec_format {
	REC_AUTO = 0, /* by extension (.csv .tsv .json .ndjson .jsonl, under any compression
		       * suffix), else by the first non-blank byte: '[' or '{' JSON, else CSV */
	REC_CSV,
	REC_JSON,
	REC_NDJSON,
};

struct rec_opts {
	enum rec_format format;
	char delimiter; /* CSV field delimiter; 0 means ',' (or '\t' for .tsv) */
};

struct rec_reader;

/* The --delimiter option's value: one character, "\\t" or "tab" for a tab. A newline, a
 * carriage return or a double quote cannot separate CSV fields: DYN_EUSAGE. */
int rec_parse_delimiter(const char *s, char *out, struct err *e);

/* Opens path ("-" or NULL: standard input, named "stdin" in messages). The header (CSV) or
 * the first object's keys (JSON/NDJSON) fix the columns. JSON shapes accepted:
 *   - an array of objects, or NDJSON objects: columns are the keys;
 *   - the services' shape {"X": [[...], ...], "y": [...]} (y optional) and a bare array of
 *     arrays: columns are positional, named "x0".."x{d-1}", plus "y" when present.
 * Errors: missing/unreadable file, directory, empty input, header only is NOT an error here
 * (rec_next returns 0). *r is owned by the caller: rec_free. */
int rec_open(struct rec_reader **r, const char *path, const struct rec_opts *o, struct err *e);
void rec_free(struct rec_reader **r);

struct stream;
/* Reads only the current file or archive member of st (borrowed: neither advanced to the next
 * member nor freed by rec_free); name is used in messages and, with REC_AUTO, its extension
 * gives the format. st's limits are left as they are. */
int rec_open_stream(struct rec_reader **r, struct stream *st, const char *name,
		    const struct rec_opts *o, struct err *e);

/* The name used in messages ("tickets.csv", "stdin", "data.zip:part1.csv"). */
const char *rec_name(const struct rec_reader *r);
/* True when columns are positional (the services' {"X": ...} shape or arrays of arrays). */
bool rec_positional(const struct rec_reader *r);
/* True for the services' {"X": ...} document shape (predict answers {"predictions": ...}). */
bool rec_service_shape(const struct rec_reader *r);

size_t rec_ncols(const struct rec_reader *r);
const char *rec_colname(const struct rec_reader *r, size_t i);
/* Index of the column with this name, or -1. */
long rec_colindex(const struct rec_reader *r, const char *name);

/* Advances to the next record: 1 when there is one, 0 at the end, -1 on error (a ragged CSV
 * row, malformed JSON, a read error), with e naming "file:line". */
int rec_next(struct rec_reader *r, struct err *e);

/* Line (CSV, NDJSON: the physical line where the record starts; JSON: the element's 1-based
 * index) of the current record. */
size_t rec_line(const struct rec_reader *r);

/* Field i of the current record as NUL-terminated text: NULL when absent or JSON null; *len
 * its length (len may be NULL). JSON numbers are given in their shortest round-trip text,
 * strings unquoted. The pointer is valid until the next rec_next. */
const char *rec_field(const struct rec_reader *r, size_t i, size_t *len);

/* Field i as a finite double. Errors (DYN_EDATA) read
 *   FILE:LINE: column "NAME": expected a number, got "abc"
 * and likewise for missing values and NaN/Inf. */
int rec_number(const struct rec_reader *r, size_t i, double *out, struct err *e);

#endif
