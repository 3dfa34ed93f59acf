/* Result writers: rows as an aligned table, CSV (RFC 4180), a JSON array of objects, or NDJSON;
 * and single documents. The writer streams (csv, ndjson, json) or buffers (table). */
#ifndef DYN_IO_OUTPUT_H
#define DYN_IO_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"

struct cJSON;

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON, OUT_NDJSON };

/* Parses "table|csv|json|ndjson"; -1 on anything else. */
int out_format_parse(const char *s, enum out_format *f);

struct out_writer;

/* A writer of rows with these columns to fp (not owned). For OUT_JSON, json_key non-NULL wraps
 * the array as {"json_key": [...]} (the services' response shape). *w owned by caller. */
struct out_writer *out_new(FILE *fp, enum out_format f, size_t ncols, const char *const *cols,
			   const char *json_key);
/* Whether CSV writers made from now on write their header line (default true): a sharded run's
 * parts leave it out, to be concatenated under one (dyn --no-header). */
void out_default_header(bool on);

/* Cells of the current row, left to right; the row ends after ncols cells. */
void out_str(struct out_writer *w, const char *s);
void out_num(struct out_writer *w, double v); /* shortest round-trip text, C locale */
void out_int(struct out_writer *w, long long v);
void out_null(struct out_writer *w);
/* Flushes after each row when set (for interactive pipelines); off by default. */
void out_set_linebuffered(struct out_writer *w, bool on);
/* Ends the output (closes the JSON array, prints the table) and checks the stream for write
 * errors (EPIPE, ENOSPC): -1 with e set if there was one. Frees w in all cases. */
int out_finish(struct out_writer **w, struct err *e);

/* Appends s as a JSON string (quoted, escaped) to sb. */
struct strbuf;
void out_json_string(struct strbuf *sb, const char *s);

/* Prints one document: OUT_JSON/OUT_NDJSON as JSON (pretty / one line), OUT_TABLE and OUT_CSV
 * as indented "key: value" text for people. */
int out_doc(FILE *fp, enum out_format f, const struct cJSON *doc, struct err *e);

#endif
