/* Record readers: CSV through libcsv with a zero-copy fast path for lines without quotes, JSON
 * documents and NDJSON lines through cJSON, over the byte streams of stream.c; archive members
 * are read one after the other as one stream of records. */
#include <cjson/cJSON.h>
#include <csv.h>
#include <ctype.h>
#include <math.h>

#include "io/records.h"
#include "base/strmap.h"
#include "base/numparse.h"
#include "io/stream.h"
#include "base/base.h"

#define BUF_INIT (1 << 20)

/* libcsv's parser state while inside a field (libcsv.c: FIELD_BEGUN); with quoted set, the
 * input ended inside quotes. */
#define LIBCSV_FIELD_BEGUN 2

struct csv_fieldpos {
	size_t off, len;
};

struct rec_reader {
	struct stream *st;
	bool borrowed; /* st belongs to the caller: one source, not advanced, not freed */
	struct rec_opts opts;
	char *name;	  /* the current source, as messages name it */
	char *first_name; /* the source that fixed the columns */
	bool done;

	char **cols;
	size_t ncols;
	struct strmap colmap; /* column name -> index, built once the columns are known */
	bool positional, service;

	/* The current source. */
	enum rec_format fmt;
	char delim;
	char *buf; /* bytes [pos, end) not consumed yet; one spare byte after end */
	size_t pos, end, cap, scan;
	bool eof;
	size_t line;  /* lines consumed */
	size_t rline; /* line (or element index) of the current record */
	bool pending; /* the current record was read while opening the source */

	/* CSV: the current record. */
	const char **fptr;
	size_t *flen;
	size_t nf, falloc;
	/* CSV through libcsv: fields accumulate in the arena until the row ends. */
	struct csv_parser csv;
	bool csv_ready, midrow, row_done;
	struct strbuf arena;
	struct csv_fieldpos *afld;
	size_t an, aalloc;

	/* JSON and NDJSON. */
	cJSON *doc;
	const cJSON *next_el, *ynext;
	size_t idx, d;
	bool has_y;
	const cJSON **jf;
	size_t jfalloc;
	struct strbuf *ftext; /* per column: the text of a non-string JSON field */
};

static bool csv_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* libcsv's space and terminator predicates: only LF ends a row, so that one line fed to the
 * parser completes at most one row and CR of CRLF is trimmed like a trailing blank. */
static int csv_space_fn(unsigned char c)
{
	return csv_is_space(c);
}

static int csv_term_fn(unsigned char c)
{
	return c == '\n';
}

static const char *const compress_suffixes[] = {".gz", ".xz",  ".zst",	".zstd", ".bz2",
						".bz", ".lz4", ".lzma", ".z",	 ".tgz"};

/* The format a name implies (".csv", ".tsv", ".json", ".ndjson", ".jsonl", under any
 * compression suffix), or REC_AUTO. */
static enum rec_format fmt_from_name(const char *name, char *delim)
{
	const char *base = strrchr(name, '/');
	size_t len;
	base = base ? base + 1 : name;
	len = strlen(base);
	for (size_t i = 0; i < ARRAY_SIZE(compress_suffixes); i++) {
		size_t sl = strlen(compress_suffixes[i]);
		if (len > sl && !strcasecmp(base + len - sl, compress_suffixes[i])) {
			len -= sl;
			break;
		}
	}
#define ENDS(s) (len > strlen(s) && !strncasecmp(base + len - strlen(s), s, strlen(s)))
	if (ENDS(".csv"))
		return REC_CSV;
	if (ENDS(".tsv") || ENDS(".tab")) {
		*delim = '\t';
		return REC_CSV;
	}
	if (ENDS(".json"))
		return REC_JSON;
	if (ENDS(".ndjson") || ENDS(".jsonl"))
		return REC_NDJSON;
#undef ENDS
	return REC_AUTO;
}

/* Appends s[0..len) to sb for a message: at most 60 bytes, control bytes escaped. */
static void quote_value(struct strbuf *sb, const char *s, size_t len)
{
	size_t n = len > 60 ? 60 : len;
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else
			strbuf_addch(sb, (char)c);
	}
	if (n < len)
		strbuf_adds(sb, "...");
	strbuf_addch(sb, '"');
}

/* ---- the byte buffer ---- */

/* Reads more of the source after the unconsumed bytes: 1, 0 at its end, -1 on error. */
static int buf_fill(struct rec_reader *r, struct err *e)
{
	ssize_t n;
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->end < 4096) {
		r->cap *= 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
	n = stream_read(r->st, r->buf + r->end, r->cap - r->end - 1, e);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

/* The next line [*p, *p + *len) including its '\n' (absent at the end of the input): 1, 0 at
 * the end, -1 on error. The line is consumed. */
static int buf_line(struct rec_reader *r, char **p, size_t *len, struct err *e)
{
	for (;;) {
		char *start = r->buf + r->pos;
		char *nl = memchr(start + r->scan, '\n', r->end - r->pos - r->scan);
		if (nl || r->eof) {
			*p = start;
			*len = nl ? (size_t)(nl - start) + 1 : r->end - r->pos;
			r->pos += *len;
			r->scan = 0;
			if (!*len)
				return 0;
			r->line++;
			return 1;
		}
		r->scan = r->end - r->pos;
		if (buf_fill(r, e) < 0)
			return -1;
	}
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)p[i]))
			return false;
	return true;
}

/* ---- CSV ---- */

static void csv_push(struct rec_reader *r, const char *p, size_t len)
{
	if (r->nf == r->falloc) {
		r->falloc = r->falloc ? 2 * r->falloc : 64;
		r->fptr = xreallocarray(r->fptr, r->falloc, sizeof(*r->fptr));
		r->flen = xreallocarray(r->flen, r->falloc, sizeof(*r->flen));
	}
	r->fptr[r->nf] = p;
	r->flen[r->nf] = len;
	r->nf++;
}

static void csv_cb_field(void *s, size_t len, void *data)
{
	struct rec_reader *r = data;
	ALLOC_GROW(r->afld, r->an + 1, r->aalloc);
	r->afld[r->an].off = r->arena.len;
	r->afld[r->an].len = len;
	r->an++;
	if (len)
		strbuf_add(&r->arena, s, len);
	strbuf_addch(&r->arena, '\0');
}

static void csv_cb_row(int c, void *data)
{
	struct rec_reader *r = data;
	r->row_done = true;
}

/* Splits a line without quotes in place, as libcsv would: fields trimmed of blanks. */
static void csv_split_fast(struct rec_reader *r, char *p, char *end)
{
	const char delim = r->delim;
	r->nf = 0;
	for (;;) {
		char *q = memchr(p, delim, (size_t)(end - p));
		char *fe = q ? q : end;
		while (p < fe && csv_is_space((unsigned char)*p) && *p != delim)
			p++;
		while (fe > p && csv_is_space((unsigned char)fe[-1]) && fe[-1] != delim)
			fe--;
		csv_push(r, p, (size_t)(fe - p));
		*fe = '\0';
		if (!q)
			break;
		p = q + 1;
	}
}

/* A line of blanks holds no row (libcsv skips it too). */
static bool csv_blank(const struct rec_reader *r, const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == r->delim || !csv_is_space((unsigned char)*p))
			return false;
	return true;
}

static void csv_take_arena(struct rec_reader *r)
{
	r->nf = 0;
	for (size_t i = 0; i < r->an; i++)
		csv_push(r, r->arena.buf + r->afld[i].off, r->afld[i].len);
}

/* The next row into fptr/flen/nf: 1, 0 at the end, -1 on error. */
static int csv_row(struct rec_reader *r, struct err *e)
{
	char *p;
	size_t len;
	int k;
	for (;;) {
		k = buf_line(r, &p, &len, e);
		if (k < 0)
			return -1;
		if (k == 0) {
			if (!r->midrow)
				return 0;
			if (r->csv.pstate == LIBCSV_FIELD_BEGUN && r->csv.quoted)
				return err_set(e, DYN_EDATA, "%s:%zu: unterminated quoted field",
					       r->name, r->rline);
			r->row_done = false;
			csv_fini(&r->csv, csv_cb_field, csv_cb_row, r);
			r->midrow = false;
			csv_take_arena(r);
			return 1;
		}
		if (!r->midrow && !memchr(p, '"', len)) {
			char *end = p + len;
			if (end[-1] == '\n')
				end--;
			if (csv_blank(r, p, end))
				continue;
			r->rline = r->line;
			csv_split_fast(r, p, end);
			return 1;
		}
		if (!r->midrow) {
			r->rline = r->line;
			strbuf_reset(&r->arena);
			r->an = 0;
			r->midrow = true;
		}
		r->row_done = false;
		if (csv_parse(&r->csv, p, len, csv_cb_field, csv_cb_row, r) != len)
			return err_set(e, DYN_EDATA, "%s:%zu: %s", r->name, r->rline,
				       csv_strerror(csv_error(&r->csv)));
		if (r->row_done) {
			r->midrow = false;
			csv_take_arena(r);
			return 1;
		}
	}
}

/* ---- NDJSON ---- */

/* Parses the next non-blank line into r->doc: 1, 0 at the end, -1 on error. */
static int ndjson_line(struct rec_reader *r, struct err *e)
{
	char *p;
	size_t len;
	const char *endp = NULL;
	for (;;) {
		int k = buf_line(r, &p, &len, e);
		if (k <= 0)
			return k;
		if (blank(p, len))
			continue;
		/* cJSON reads up to a NUL: end the line with one (there is a spare byte). */
		if (p[len - 1] == '\n')
			len--;
		p[len] = '\0';
		r->rline = r->line;
		cJSON_Delete(r->doc);
		r->doc = cJSON_ParseWithLengthOpts(p, len, &endp, 0);
		if (r->doc && endp && !blank(endp, (size_t)(p + len - endp)))
			return err_set(e, DYN_EDATA,
				       "%s:%zu: malformed JSON: data after the object", r->name,
				       r->rline);
		if (!r->doc)
			return err_set(e, DYN_EDATA, "%s:%zu: malformed JSON", r->name, r->rline);
		if (!cJSON_IsObject(r->doc))
			return err_set(e, DYN_EDATA, "%s:%zu: expected a JSON object", r->name,
				       r->rline);
		return 1;
	}
}

/* ---- JSON ---- */

static void json_need(struct rec_reader *r, size_t n)
{
	if (n > r->jfalloc) {
		size_t old = r->jfalloc;
		r->jf = xreallocarray(r->jf, n, sizeof(*r->jf));
		r->ftext = xreallocarray(r->ftext, n, sizeof(*r->ftext));
		for (size_t i = old; i < n; i++) {
			r->jf[i] = NULL;
			strbuf_init(&r->ftext[i]);
		}
		r->jfalloc = n;
	}
}

/* Fields of an object record: matched by key, in the common case at the same position. */
static void json_map_object(struct rec_reader *r, const cJSON *obj)
{
	size_t j = 0;
	json_need(r, r->ncols);
	for (size_t i = 0; i < r->ncols; i++)
		r->jf[i] = NULL;
	for (const cJSON *c = obj->child; c; c = c->next, j++) {
		long k;
		if (!c->string)
			continue;
		if (j < r->ncols && !r->jf[j] && !strcmp(c->string, r->cols[j])) {
			r->jf[j] = c;
			continue;
		}
		k = (long)strmap_get(&r->colmap, c->string, strlen(c->string));
		if (k >= 0 && !r->jf[k])
			r->jf[k] = c;
	}
}

/* NDJSON whose first object is the services' {"X": [...]} document: several such documents
 * in one file would read as records with an "X" column of arrays. */
static int service_docs(const struct rec_reader *r, struct err *e)
{
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r->doc, "X")))
		return 0;
	return err_set(
	    e, DYN_EDATA,
	    "%s: several {\"X\": [...]} documents: the services' shape is one document a "
	    "file (or give records, one object a line)",
	    r->name);
}

/* The keys of an object, each once (a repeated key keeps its first place). */
static char **keys_of(const cJSON *obj, size_t *n)
{
	char **cols = NULL;
	size_t alloc = 0;
	struct strmap seen;
	strmap_init(&seen);
	*n = 0;
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (!c->string || strmap_intern(&seen, c->string, strlen(c->string)) < *n)
			continue;
		ALLOC_GROW(cols, *n + 1, alloc);
		cols[(*n)++] = xstrdup(c->string);
	}
	strmap_release(&seen);
	return cols;
}

/* Indexes the columns by name (rec_colindex and the matching of JSON keys look names up
 * there, not by a scan: a file of 100,000 columns was quadratic), refusing a name given twice:
 * both columns would be read as the first. */
static int cols_index(struct rec_reader *r, struct err *e)
{
	strmap_release(&r->colmap);
	strmap_init(&r->colmap);
	for (size_t i = 0; i < r->ncols; i++) {
		size_t k = strmap_intern(&r->colmap, r->cols[i], strlen(r->cols[i]));
		if (k != i)
			return err_set(e, DYN_EDATA,
				       "%s:1: column \"%s\" is both column %zu and column %zu "
				       "(names must differ)",
				       r->name, r->cols[i], k + 1, i + 1);
	}
	return 0;
}

static char **positional_cols(size_t d, bool y, size_t *n)
{
	char **cols = xcalloc(d + 1, sizeof(*cols));
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < d; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "x%zu", i);
		cols[i] = xstrdup(sb.buf);
	}
	if (y)
		cols[d] = xstrdup("y");
	*n = d + (y ? 1 : 0);
	strbuf_release(&sb);
	return cols;
}

static size_t line_at(const char *text, const char *at)
{
	size_t line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

/* Reads the whole source and parses it; sets the columns (*cols, *n). 1, 0 when empty, -1. */
static int json_open(struct rec_reader *r, char ***cols, size_t *n, struct err *e)
{
	struct strbuf text = STRBUF_INIT;
	const char *endp = NULL;
	const cJSON *root, *first;
	int ret = -1;

	strbuf_add(&text, r->buf + r->pos, r->end - r->pos);
	r->pos = r->end;
	while (!r->eof) {
		ssize_t k;
		strbuf_grow(&text, BUF_INIT);
		k = stream_read(r->st, text.buf + text.len, text.alloc - text.len - 1, e);
		if (k < 0)
			goto out;
		if (k == 0)
			r->eof = true;
		text.len += (size_t)k;
		text.buf[text.len] = '\0';
	}
	if (blank(text.buf, text.len)) {
		ret = 0;
		goto out;
	}
	r->doc = cJSON_ParseWithLengthOpts(text.buf, text.len, &endp, 0);
	if (r->doc && endp) {
		while (endp < text.buf + text.len && isspace((unsigned char)*endp))
			endp++;
		if (endp != text.buf + text.len && r->opts.format == REC_AUTO &&
		    cJSON_IsObject(r->doc) && *endp == '{') {
			/* Objects one after the other: NDJSON under a .json name. Read it as such
			 * from the text in memory. */
			cJSON_Delete(r->doc);
			r->doc = NULL;
			free(r->buf);
			r->buf = strbuf_detach(&text, &r->end);
			r->cap = r->end + 1;
			r->pos = r->scan = r->line = 0;
			r->eof = true;
			r->fmt = REC_NDJSON;
			ret = ndjson_line(r, e);
			if (ret == 1 && service_docs(r, e) < 0)
				ret = -1;
			if (ret == 1) {
				*cols = keys_of(r->doc, n);
				r->pending = true;
			}
			goto out;
		}
		if (endp != text.buf + text.len) {
			err_set(e, DYN_EDATA, "%s:%zu: malformed JSON: data after the document",
				r->name, line_at(text.buf, endp));
			goto out;
		}
	}
	if (!r->doc) {
		if (endp && endp >= text.buf && endp <= text.buf + text.len)
			err_set(e, DYN_EDATA, "%s:%zu: malformed JSON", r->name,
				line_at(text.buf, endp));
		else
			err_set(e, DYN_EDATA, "%s: malformed JSON", r->name);
		goto out;
	}
	root = r->doc;
	if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "X")) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "X");
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(root, "y");
		if (!cJSON_IsArray(x)) {
			err_set(e, DYN_EDATA, "%s: \"X\": expected an array of rows", r->name);
			goto out;
		}
		if (y && !cJSON_IsNull(y)) {
			if (!cJSON_IsArray(y)) {
				err_set(e, DYN_EDATA, "%s: \"y\": expected an array", r->name);
				goto out;
			}
			if (cJSON_GetArraySize(y) != cJSON_GetArraySize(x)) {
				err_set(e, DYN_EDATA,
					"%s: \"y\" has %d values but \"X\" has %d rows", r->name,
					cJSON_GetArraySize(y), cJSON_GetArraySize(x));
				goto out;
			}
			r->has_y = true;
			r->ynext = y->child;
		}
		/* The services' bodies also carried settings ("config", "hyperparameters",
		 * "model"...): refused by name rather than silently dropped, the dyn equivalent
		 * named (a settings object is --params, which takes it as it was). */
		for (const cJSON *k = root->child; k; k = k->next) {
			if (!k->string || !strcmp(k->string, "X") || !strcmp(k->string, "y"))
				continue;
			err_set(
			    e, DYN_EDATA,
			    "%s: \"%s\" is not read from data: give settings on the command line "
			    "(dyn fit KIND --params '<its JSON object>', or the options of "
			    "dyn-fit(1))",
			    r->name, k->string);
			goto out;
		}
		first = x->child;
		if (first && !cJSON_IsArray(first)) {
			err_set(e, DYN_EDATA, "%s: \"X\": expected an array of rows", r->name);
			goto out;
		}
		r->d = first ? (size_t)cJSON_GetArraySize(first) : 0;
		r->positional = r->service = true;
		r->next_el = first;
		*cols = positional_cols(r->d, r->has_y, n);
	} else if (cJSON_IsObject(root)) {
		/* One object: one record. */
		r->next_el = root;
		*cols = keys_of(root, n);
	} else if (cJSON_IsArray(root)) {
		first = root->child;
		r->next_el = first;
		if (!first) {
			*cols = NULL;
			*n = 0;
		} else if (cJSON_IsObject(first)) {
			*cols = keys_of(first, n);
		} else if (cJSON_IsArray(first)) {
			r->d = (size_t)cJSON_GetArraySize(first);
			r->positional = true;
			*cols = positional_cols(r->d, false, n);
		} else {
			err_set(e, DYN_EDATA, "%s: expected an array of objects or of arrays",
				r->name);
			goto out;
		}
	} else {
		err_set(e, DYN_EDATA, "%s: expected a JSON array or object", r->name);
		goto out;
	}
	ret = 1;
out:
	strbuf_release(&text);
	return ret;
}

static int json_next(struct rec_reader *r, struct err *e)
{
	const cJSON *el = r->next_el;
	if (!el)
		return 0;
	r->next_el = el->next;
	r->rline = ++r->idx;
	if (r->positional) {
		size_t m = 0;
		if (!cJSON_IsArray(el))
			return err_set(e, DYN_EDATA, "%s:%zu: expected an array of %zu values",
				       r->name, r->rline, r->d);
		json_need(r, r->ncols);
		for (const cJSON *c = el->child; c; c = c->next, m++)
			if (m < r->d)
				r->jf[m] = c;
		if (m != r->d)
			return err_set(e, DYN_EDATA, "%s:%zu: expected %zu values, got %zu",
				       r->name, r->rline, r->d, m);
		if (r->has_y) {
			r->jf[r->d] = r->ynext;
			r->ynext = r->ynext ? r->ynext->next : NULL;
		}
		return 1;
	}
	if (!cJSON_IsObject(el))
		return err_set(e, DYN_EDATA, "%s:%zu: expected an object", r->name, r->rline);
	json_map_object(r, el);
	return 1;
}

/* ---- sources ---- */

static void src_reset(struct rec_reader *r)
{
	if (r->csv_ready)
		csv_free(&r->csv);
	r->csv_ready = r->midrow = r->row_done = false;
	cJSON_Delete(r->doc);
	r->doc = NULL;
	r->next_el = r->ynext = NULL;
	r->idx = r->d = 0;
	r->has_y = r->positional = r->service = false;
	r->pos = r->end = r->scan = 0;
	r->eof = false;
	r->line = r->rline = 0;
	r->pending = false;
	r->nf = 0;
}

/* Decides between one JSON document and NDJSON when the input starts with '{': NDJSON when
 * the first line holds exactly one object that is not the services' {"X": ...} shape. */
static int sniff_ndjson(struct rec_reader *r, size_t rel, bool *nd, struct err *e)
{
	/* rel and scanned are relative to pos: buf_fill moves the unconsumed bytes. */
	size_t scanned = rel, len;
	const char *nl, *line, *endp = NULL;
	cJSON *obj;
	for (;;) {
		nl = memchr(r->buf + r->pos + scanned, '\n', r->end - r->pos - scanned);
		if (nl || r->eof)
			break;
		scanned = r->end - r->pos;
		if (buf_fill(r, e) < 0)
			return -1;
	}
	line = r->buf + r->pos + rel;
	len = nl ? (size_t)(nl - line) : r->end - r->pos - rel;
	obj = cJSON_ParseWithLengthOpts(line, len, &endp, 0);
	*nd = obj && cJSON_IsObject(obj) && endp && blank(endp, (size_t)(line + len - endp)) &&
	      !cJSON_GetObjectItemCaseSensitive(obj, "X");
	cJSON_Delete(obj);
	return 0;
}

/* Opens the source named name (the stream's file or its current member): decides the format,
 * reads the header or first record, and returns its columns (cols, n): 1, 0 when the source
 * is empty, -1 on error. */
static int src_open(struct rec_reader *r, const char *name, const char *fmt_name, char ***cols,
		    size_t *n, struct err *e)
{
	enum rec_format f = r->opts.format;
	char delim = r->opts.delimiter;
	char tdelim = ',';
	int k;

	src_reset(r);
	free(r->name);
	r->name = xstrdup(name);
	*cols = NULL;
	*n = 0;
	if (f == REC_AUTO) {
		f = fmt_from_name(fmt_name, &tdelim);
	} else if (f == REC_CSV) {
		fmt_from_name(fmt_name, &tdelim);
	}
	r->delim = delim ? delim : tdelim;

	/* A UTF-8 byte order mark says nothing about the data: skip it. */
	while (r->end - r->pos < 3 && !r->eof && !memchr(r->buf + r->pos, '\n', r->end - r->pos))
		if (buf_fill(r, e) < 0)
			return -1;
	if (r->end - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xef\xbb\xbf", 3))
		r->pos += 3;
	else if (r->end - r->pos >= 2 && (!memcmp(r->buf + r->pos, "\xff\xfe", 2) ||
					  !memcmp(r->buf + r->pos, "\xfe\xff", 2)))
		return err_set(e, DYN_EDATA,
			       "%s: UTF-16 text is not supported (convert it to UTF-8)", r->name);
	{
		/* text never holds a NUL byte: say so rather than read binary data as a header */
		const char *z = memchr(r->buf + r->pos, 0, r->end - r->pos);
		if (z)
			return err_set(
			    e, DYN_EDATA,
			    "%s: binary data (a NUL byte at byte %zu), not CSV or JSON text",
			    r->name, (size_t)(z - (r->buf + r->pos)) + 1);
	}

	if (f == REC_AUTO || f == REC_JSON) {
		/* The first non-blank byte tells JSON from CSV. */
		size_t i = r->pos;
		for (;;) {
			while (i < r->end && isspace((unsigned char)r->buf[i]))
				i++;
			if (i < r->end || r->eof)
				break;
			i -= r->pos;
			if (buf_fill(r, e) < 0)
				return -1;
			i += r->pos;
		}
		if (i == r->end)
			return 0;
		if (f == REC_AUTO) {
			if (r->buf[i] == '[') {
				f = REC_JSON;
			} else if (r->buf[i] == '{') {
				bool nd;
				if (sniff_ndjson(r, i - r->pos, &nd, e) < 0)
					return -1;
				f = nd ? REC_NDJSON : REC_JSON;
			} else {
				f = REC_CSV;
			}
		}
	}
	r->fmt = f;
	switch (f) {
	case REC_CSV:
		csv_init(&r->csv, 0);
		/* libcsv grows a field's buffer by this many bytes at a time (128 by default):
		 * a 10 MB text would cost 80,000 reallocations, each a copy under ASan */
		csv_set_blk_size(&r->csv, 1 << 16);
		r->csv_ready = true;
		csv_set_delim(&r->csv, (unsigned char)r->delim);
		csv_set_space_func(&r->csv, csv_space_fn);
		csv_set_term_func(&r->csv, csv_term_fn);
		/* libcsv grows its field buffer by this much at a time: the default (128 bytes)
		 * makes a long field quadratic. */
		csv_set_blk_size(&r->csv, 1 << 18);
		k = csv_row(r, e);
		if (k <= 0)
			return k;
		*cols = xcalloc(r->nf ? r->nf : 1, sizeof(**cols));
		for (size_t i = 0; i < r->nf; i++)
			(*cols)[i] = xstrndup(r->fptr[i], r->flen[i]);
		*n = r->nf;
		return 1;
	case REC_NDJSON:
		k = ndjson_line(r, e);
		if (k <= 0)
			return k;
		if (service_docs(r, e) < 0)
			return -1;
		*cols = keys_of(r->doc, n);
		r->pending = true;
		return 1;
	default:
		return json_open(r, cols, n, e);
	}
}

static void cols_free(char **cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
}

/* Data members of an archive: by extension, or all files when the format is given. */
static bool member_wanted(const struct rec_reader *r, const char *name)
{
	const char *base = strrchr(name, '/');
	char d = 0;
	base = base ? base + 1 : name;
	if (!strncmp(name, "__MACOSX/", 9) || base[0] == '.' || !base[0])
		return false;
	return r->opts.format != REC_AUTO || fmt_from_name(name, &d) != REC_AUTO;
}

/* Opens the archive's next data member with data: 1, 0 after the last, -1 on error. */
static int member_open(struct rec_reader *r, struct err *e)
{
	for (;;) {
		const char *m;
		char **cols;
		size_t n;
		struct strbuf name = STRBUF_INIT;
		int k = stream_next_member(r->st, &m, e);
		if (k <= 0)
			return k;
		if (!member_wanted(r, m))
			continue;
		strbuf_addf(&name, "%s:%s", stream_name(r->st), m);
		k = src_open(r, name.buf, m, &cols, &n, e);
		strbuf_release(&name);
		if (k < 0)
			return -1;
		if (k == 0)
			continue;
		if (!r->first_name) {
			r->first_name = xstrdup(r->name);
			r->cols = cols;
			r->ncols = n;
			return 1;
		}
		k = n == r->ncols;
		for (size_t i = 0; k && i < n; i++)
			k = !strcmp(cols[i], r->cols[i]);
		cols_free(cols, n);
		if (!k)
			return err_set(e, DYN_EDATA, "%s: columns differ from those of \"%s\"",
				       r->name, r->first_name);
		return 1;
	}
}

int rec_open(struct rec_reader **out, const char *path, const struct rec_opts *o, struct err *e)
{
	struct rec_reader *r = xcalloc(1, sizeof(*r));
	int ret = -1, k;

	if (o)
		r->opts = *o;
	strbuf_init(&r->arena);
	r->cap = BUF_INIT;
	r->buf = xmalloc(r->cap);
	if (stream_open(&r->st, path, e) < 0)
		goto out;
	if (stream_is_archive(r->st)) {
		k = member_open(r, e);
		if (k < 0)
			goto out;
		if (k == 0) {
			err_set(e, DYN_EDATA, "%s: no CSV or JSON member with data",
				stream_name(r->st));
			goto out;
		}
	} else {
		k = src_open(r, stream_name(r->st), stream_name(r->st), &r->cols, &r->ncols, e);
		if (k < 0)
			goto out;
		if (k == 0) {
			err_set(e, DYN_EDATA, "%s: empty input", stream_name(r->st));
			goto out;
		}
	}
	if (cols_index(r, e) < 0)
		goto out;
	json_need(r, r->ncols + 1);
	ret = 0;
out:
	if (ret < 0)
		rec_free(&r);
	*out = r;
	return ret;
}

int rec_open_stream(struct rec_reader **out, struct stream *st, const char *name,
		    const struct rec_opts *o, struct err *e)
{
	struct rec_reader *r = xcalloc(1, sizeof(*r));
	int ret = -1, k;

	if (o)
		r->opts = *o;
	strbuf_init(&r->arena);
	r->cap = BUF_INIT;
	r->buf = xmalloc(r->cap);
	r->st = st;
	r->borrowed = true;
	k = src_open(r, name, name, &r->cols, &r->ncols, e);
	if (k < 0)
		goto out;
	if (k == 0) {
		err_set(e, DYN_EDATA, "%s: empty input", name);
		goto out;
	}
	if (cols_index(r, e) < 0)
		goto out;
	json_need(r, r->ncols + 1);
	ret = 0;
out:
	if (ret < 0)
		rec_free(&r);
	*out = r;
	return ret;
}

int rec_parse_delimiter(const char *s, char *out, struct err *e)
{
	if (!strcmp(s, "\\t") || !strcmp(s, "tab")) {
		*out = '\t';
		return 0;
	}
	if (strlen(s) != 1)
		return err_set(e, DYN_EUSAGE,
			       "option --delimiter: expected one character, got \"%s\"", s);
	if (s[0] == '\n' || s[0] == '\r' || s[0] == '"')
		return err_set(
		    e, DYN_EUSAGE,
		    "option --delimiter: a newline, carriage return or double quote cannot "
		    "separate fields");
	*out = s[0];
	return 0;
}

void rec_free(struct rec_reader **rp)
{
	struct rec_reader *r = *rp;
	if (!r)
		return;
	src_reset(r);
	if (!r->borrowed)
		stream_free(&r->st);
	cols_free(r->cols, r->ncols);
	strmap_release(&r->colmap);
	for (size_t i = 0; i < r->jfalloc; i++)
		strbuf_release(&r->ftext[i]);
	free(r->ftext);
	free(r->jf);
	free(r->fptr);
	free(r->flen);
	free(r->afld);
	strbuf_release(&r->arena);
	free(r->buf);
	free(r->name);
	free(r->first_name);
	free(r);
	*rp = NULL;
}

const char *rec_name(const struct rec_reader *r)
{
	return r->name;
}

bool rec_positional(const struct rec_reader *r)
{
	return r->positional;
}

bool rec_service_shape(const struct rec_reader *r)
{
	return r->service;
}

size_t rec_ncols(const struct rec_reader *r)
{
	return r->ncols;
}

const char *rec_colname(const struct rec_reader *r, size_t i)
{
	return i < r->ncols ? r->cols[i] : NULL;
}

long rec_colindex(const struct rec_reader *r, const char *name)
{
	return (long)strmap_get(&r->colmap, name, strlen(name));
}

/* The next record of the current source: 1, 0 at its end, -1 on error. */
static int src_next(struct rec_reader *r, struct err *e)
{
	int k;
	switch (r->fmt) {
	case REC_CSV:
		k = csv_row(r, e);
		if (k == 1 && r->nf != r->ncols)
			return err_set(e, DYN_EDATA, "%s:%zu: expected %zu fields, got %zu",
				       r->name, r->rline, r->ncols, r->nf);
		return k;
	case REC_NDJSON:
		if (r->pending)
			k = 1;
		else
			k = ndjson_line(r, e);
		r->pending = false;
		if (k == 1)
			json_map_object(r, r->doc);
		return k;
	default:
		return json_next(r, e);
	}
}

int rec_next(struct rec_reader *r, struct err *e)
{
	for (;;) {
		int k;
		if (r->done)
			return 0;
		k = src_next(r, e);
		if (k != 0)
			return k;
		if (!r->borrowed && stream_is_archive(r->st)) {
			k = member_open(r, e);
			if (k < 0)
				return -1;
			if (k == 1)
				continue;
		}
		r->done = true;
		return 0;
	}
}

size_t rec_line(const struct rec_reader *r)
{
	return r->rline;
}

const char *rec_field(const struct rec_reader *r, size_t i, size_t *len)
{
	const cJSON *v;
	struct strbuf *sb;
	size_t dummy;
	if (!len)
		len = &dummy;
	*len = 0;
	if (i >= r->ncols)
		return NULL;
	if (r->fmt == REC_CSV) {
		if (i >= r->nf)
			return NULL;
		*len = r->flen[i];
		return r->fptr[i];
	}
	v = r->jf[i];
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v)) {
		*len = strlen(v->valuestring);
		return v->valuestring;
	}
	sb = &r->ftext[i];
	strbuf_reset(sb);
	if (cJSON_IsNumber(v)) {
		strbuf_add_double(sb, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		strbuf_adds(sb, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		char *t = cJSON_PrintUnformatted(v);
		if (t)
			strbuf_adds(sb, t);
		cJSON_free(t);
	}
	*len = sb->len;
	return sb->buf ? sb->buf : "";
}

static int number_error(const struct rec_reader *r, size_t i, const char *what, const char *s,
			size_t len, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	quote_value(&sb, s, len);
	err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": %s, got %s", r->name, r->rline, r->cols[i],
		what, sb.buf);
	strbuf_release(&sb);
	return -1;
}

int rec_number(const struct rec_reader *r, size_t i, double *out, struct err *e)
{
	const char *s;
	size_t len;
	int k;
	if (i >= r->ncols)
		return err_set(e, DYN_EDATA, "%s:%zu: no column %zu", r->name, r->rline, i);
	if (r->fmt != REC_CSV) {
		const cJSON *v = r->jf[i];
		if (v && cJSON_IsNumber(v)) {
			if (!isfinite(v->valuedouble)) {
				s = rec_field(r, i, &len);
				return number_error(r, i, "expected a finite number", s, len, e);
			}
			*out = v->valuedouble;
			return 0;
		}
	}
	s = rec_field(r, i, &len);
	if (!s || blank(s, len))
		return err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": missing value", r->name,
			       r->rline, r->cols[i]);
	if (r->fmt != REC_CSV && !cJSON_IsString(r->jf[i]))
		return number_error(r, i, "expected a number", s, len, e);
	k = num_parse(s, len, out);
	if (k == 0)
		return 0;
	return number_error(r, i, k > 0 ? "expected a finite number" : "expected a number", s, len,
			    e);
}
