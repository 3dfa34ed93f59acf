/* Result writers: CSV, NDJSON and JSON stream row by row; the table is buffered (in batches)
 * to align its columns. Write errors are remembered and reported by out_finish. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>

#include "base/numparse.h"
#include "io/output.h"
#include "base/base.h"

/* A table is for people: past this many rows, print what we have with the widths so far. */
#define TABLE_BATCH 10000

struct out_cell {
	char *text; /* NULL for null */
	bool num;
};

struct out_writer {
	FILE *fp;
	enum out_format f;
	size_t ncols;
	char **cols;
	char *json_key;
	bool linebuf;
	bool started;	/* header (csv, table) or opening bracket (json) written */
	bool no_header; /* CSV without its header line */
	size_t col;	/* next cell of the current row */
	size_t rows;
	int werrno; /* errno of the first failed write, or -1 when unknown */
	bool failed;
	struct strbuf line;
	/* table */
	struct out_cell *cells;
	size_t ncells, alloc;
	size_t *width;
	bool *numcol;
};

int out_format_parse(const char *s, enum out_format *f)
{
	static const char *const names[] = {"table", "csv", "json", "ndjson"};
	static const enum out_format fmts[] = {OUT_TABLE, OUT_CSV, OUT_JSON, OUT_NDJSON};
	if (!s)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*f = fmts[i];
			return 0;
		}
	return -1;
}

static void out_write(struct out_writer *w, const char *s, size_t len)
{
	if (len && fwrite(s, 1, len, w->fp) != len && !w->failed) {
		w->failed = true;
		w->werrno = errno ? errno : -1;
	}
}

void out_json_string(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			strbuf_adds(sb, "\\\"");
			break;
		case '\\':
			strbuf_adds(sb, "\\\\");
			break;
		case '\n':
			strbuf_adds(sb, "\\n");
			break;
		case '\r':
			strbuf_adds(sb, "\\r");
			break;
		case '\t':
			strbuf_adds(sb, "\\t");
			break;
		case '\b':
			strbuf_adds(sb, "\\b");
			break;
		case '\f':
			strbuf_adds(sb, "\\f");
			break;
		default:
			if (*p < 0x20)
				strbuf_addf(sb, "\\u%04x", *p);
			else
				strbuf_addch(sb, (char)*p);
		}
	}
	strbuf_addch(sb, '"');
}

static void csv_quote(struct strbuf *sb, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		strbuf_adds(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static bool header_default = true;

void out_default_header(bool on)
{
	header_default = on;
}

struct out_writer *out_new(FILE *fp, enum out_format f, size_t ncols, const char *const *cols,
			   const char *json_key)
{
	struct out_writer *w = xcalloc(1, sizeof(*w));
	w->fp = fp;
	w->f = f;
	w->ncols = ncols;
	w->cols = xcalloc(ncols ? ncols : 1, sizeof(*w->cols));
	for (size_t i = 0; i < ncols; i++)
		w->cols[i] = xstrdup(cols[i] ? cols[i] : "");
	w->json_key = json_key ? xstrdup(json_key) : NULL;
	w->no_header = !header_default;
	strbuf_init(&w->line);
	if (f == OUT_TABLE) {
		w->width = xcalloc(ncols ? ncols : 1, sizeof(*w->width));
		w->numcol = xcalloc(ncols ? ncols : 1, sizeof(*w->numcol));
	}
	return w;
}

void out_set_linebuffered(struct out_writer *w, bool on)
{
	w->linebuf = on;
}

/* ---- table ---- */

/* Display width: code points (UTF-8 continuation bytes take no column). */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(struct strbuf *sb, size_t n)
{
	while (n--)
		strbuf_addch(sb, ' ');
}

static void table_cell(struct out_writer *w, struct strbuf *sb, size_t i, const char *s, bool right)
{
	size_t tw = text_width(s);
	size_t gap = w->width[i] > tw ? w->width[i] - tw : 0;
	if (i > 0)
		strbuf_adds(sb, "  ");
	if (right)
		pad(sb, gap);
	strbuf_adds(sb, s);
	if (!right && i + 1 < w->ncols)
		pad(sb, gap);
}

static void table_flush(struct out_writer *w)
{
	struct strbuf *sb = &w->line;
	size_t nrows = w->ncols ? w->ncells / w->ncols : 0;
	if (!w->started) {
		/* Widths and alignment are fixed by the first batch (and the header). */
		for (size_t i = 0; i < w->ncols; i++) {
			size_t nn = 0, nnum = 0;
			w->width[i] = text_width(w->cols[i]);
			for (size_t r = 0; r < nrows; r++) {
				const struct out_cell *c = &w->cells[r * w->ncols + i];
				if (c->text) {
					nn++;
					nnum += c->num;
				}
			}
			w->numcol[i] = nn > 0 && nn == nnum;
		}
	}
	for (size_t k = 0; k < w->ncells; k++) {
		const struct out_cell *c = &w->cells[k];
		size_t tw = c->text ? text_width(c->text) : 0;
		if (tw > w->width[k % w->ncols] && !w->started)
			w->width[k % w->ncols] = tw;
	}
	strbuf_reset(sb);
	if (!w->started) {
		for (size_t i = 0; i < w->ncols; i++)
			table_cell(w, sb, i, w->cols[i], w->numcol[i]);
		strbuf_addch(sb, '\n');
		for (size_t i = 0; i < w->ncols; i++) {
			if (i > 0)
				strbuf_adds(sb, "  ");
			for (size_t j = 0; j < w->width[i]; j++)
				strbuf_addch(sb, '-');
		}
		strbuf_addch(sb, '\n');
		w->started = true;
	}
	for (size_t k = 0; k < w->ncells; k++) {
		const struct out_cell *c = &w->cells[k];
		size_t i = k % w->ncols;
		table_cell(w, sb, i, c->text ? c->text : "", c->num);
		if (i + 1 == w->ncols) {
			while (sb->len && sb->buf[sb->len - 1] == ' ')
				sb->buf[--sb->len] = '\0';
			strbuf_addch(sb, '\n');
			out_write(w, sb->buf, sb->len);
			strbuf_reset(sb);
		}
		free(w->cells[k].text);
	}
	w->ncells = 0;
}

static void table_add(struct out_writer *w, char *text, bool num)
{
	/* Control characters would break the alignment. */
	for (char *p = text; p && *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	ALLOC_GROW(w->cells, w->ncells + 1, w->alloc);
	w->cells[w->ncells].text = text;
	w->cells[w->ncells].num = num;
	w->ncells++;
}

/* ---- rows ---- */

static void row_begin(struct out_writer *w)
{
	if (w->f == OUT_CSV && !w->started && w->no_header)
		w->started = true;
	if (w->f == OUT_CSV && !w->started) {
		strbuf_reset(&w->line);
		for (size_t i = 0; i < w->ncols; i++) {
			if (i)
				strbuf_addch(&w->line, ',');
			csv_quote(&w->line, w->cols[i]);
		}
		strbuf_addch(&w->line, '\n');
		out_write(w, w->line.buf, w->line.len);
		w->started = true;
	}
	if (w->f == OUT_JSON && !w->started) {
		if (w->json_key) {
			strbuf_reset(&w->line);
			strbuf_addch(&w->line, '{');
			out_json_string(&w->line, w->json_key);
			strbuf_adds(&w->line, ": [");
			out_write(w, w->line.buf, w->line.len);
		} else {
			out_write(w, "[", 1);
		}
		w->started = true;
	}
	strbuf_reset(&w->line);
	if (w->f == OUT_JSON)
		strbuf_adds(&w->line, w->rows ? ",\n  {" : "\n  {");
	else if (w->f == OUT_NDJSON)
		strbuf_addch(&w->line, '{');
}

/* Adds one cell: text (NULL for null), as a JSON literal when raw (numbers). */
static void cell(struct out_writer *w, const char *text, bool num)
{
	struct strbuf *sb = &w->line;
	if (w->ncols == 0)
		return;
	if (w->f == OUT_TABLE) {
		table_add(w, text ? xstrdup(text) : NULL, num);
	} else {
		if (w->col == 0)
			row_begin(w);
		if (w->f == OUT_CSV) {
			if (w->col)
				strbuf_addch(sb, ',');
			if (text)
				csv_quote(sb, text);
		} else {
			if (w->col)
				strbuf_adds(sb, w->f == OUT_JSON ? ", " : ",");
			out_json_string(sb, w->cols[w->col]);
			strbuf_adds(sb, w->f == OUT_JSON ? ": " : ":");
			if (!text)
				strbuf_adds(sb, "null");
			else if (num)
				strbuf_adds(sb, text);
			else
				out_json_string(sb, text);
		}
	}
	if (++w->col < w->ncols)
		return;
	w->col = 0;
	w->rows++;
	if (w->f == OUT_TABLE) {
		if (w->ncells >= TABLE_BATCH * w->ncols)
			table_flush(w);
		return;
	}
	if (w->f == OUT_JSON)
		strbuf_addch(sb, '}');
	else if (w->f == OUT_NDJSON)
		strbuf_adds(sb, "}\n");
	else
		strbuf_addch(sb, '\n');
	out_write(w, sb->buf, sb->len);
	if (w->linebuf && fflush(w->fp) != 0 && !w->failed) {
		w->failed = true;
		w->werrno = errno;
	}
}

void out_str(struct out_writer *w, const char *s)
{
	cell(w, s, false);
}

void out_num(struct out_writer *w, double v)
{
	char tmp[40];
	if (!isfinite(v)) {
		/* JSON has no NaN or infinity. */
		if (w->f == OUT_JSON || w->f == OUT_NDJSON) {
			cell(w, NULL, true);
		} else {
			struct strbuf sb = STRBUF_INIT;
			strbuf_add_double(&sb, v);
			cell(w, sb.buf, true);
			strbuf_release(&sb);
		}
		return;
	}
	/* A table is read by people: six significant digits. Machine formats keep every bit. */
	if (w->f == OUT_TABLE)
		snprintf(tmp, sizeof(tmp), "%.6g", v);
	else
		fmt_double(tmp, v);
	cell(w, tmp, true);
}

void out_int(struct out_writer *w, long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%lld", v);
	cell(w, tmp, true);
}

void out_null(struct out_writer *w)
{
	cell(w, NULL, false);
}

static int check_stream(FILE *fp, bool failed, int werrno, struct err *e)
{
	const char *what = fp == stdout ? "standard output" : "output";
	errno = 0;
	if (fflush(fp) != 0 && !failed) {
		failed = true;
		werrno = errno;
	}
	if (ferror(fp) && !failed) {
		failed = true;
		werrno = -1;
	}
	if (!failed)
		return 0;
	if (werrno > 0)
		return err_set(e, DYN_EDATA, "%s: %s", what, strerror(werrno));
	return err_set(e, DYN_EDATA, "%s: write error", what);
}

int out_finish(struct out_writer **wp, struct err *e)
{
	struct out_writer *w = *wp;
	int ret;
	if (!w)
		return 0;
	while (w->col != 0) /* an unfinished row: complete it rather than lose it */
		out_null(w);
	switch (w->f) {
	case OUT_TABLE:
		table_flush(w);
		break;
	case OUT_CSV:
		if (!w->started)
			row_begin(w);
		break;
	case OUT_JSON:
		if (!w->started)
			row_begin(w); /* the opening bracket */
		out_write(w, w->rows ? "\n]" : "]", w->rows ? 2 : 1);
		if (w->json_key)
			out_write(w, "}", 1);
		out_write(w, "\n", 1);
		break;
	case OUT_NDJSON:
		break;
	}
	ret = check_stream(w->fp, w->failed, w->werrno, e);
	for (size_t i = 0; i < w->ncols; i++)
		free(w->cols[i]);
	for (size_t k = 0; k < w->ncells; k++)
		free(w->cells[k].text);
	free(w->cells);
	free(w->cols);
	free(w->json_key);
	free(w->width);
	free(w->numcol);
	strbuf_release(&w->line);
	free(w);
	*wp = NULL;
	return ret;
}

/* ---- documents ---- */

static void doc_scalar(struct strbuf *sb, const cJSON *v)
{
	if (cJSON_IsString(v))
		strbuf_adds(sb, v->valuestring);
	else if (cJSON_IsNumber(v))
		strbuf_add_double(sb, v->valuedouble);
	else if (cJSON_IsBool(v))
		strbuf_adds(sb, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		strbuf_adds(sb, "null");
	else if (cJSON_IsArray(v) && !v->child)
		strbuf_adds(sb, "[]");
	else if (cJSON_IsObject(v) && !v->child)
		strbuf_adds(sb, "{}");
}

static bool doc_is_scalar(const cJSON *v)
{
	return !(cJSON_IsArray(v) || cJSON_IsObject(v)) || !v->child;
}

static bool doc_flat_array(const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return false;
	for (const cJSON *c = v->child; c; c = c->next)
		if (!doc_is_scalar(c))
			return false;
	return true;
}

static void doc_flat(struct strbuf *sb, const cJSON *v)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (c != v->child)
			strbuf_adds(sb, ", ");
		doc_scalar(sb, c);
	}
}

static void doc_text(struct strbuf *sb, const cJSON *v, int indent);

/* An item of a block array: "- " then the value; objects continue at indent + 2. */
static void doc_item(struct strbuf *sb, const cJSON *c, int indent)
{
	pad(sb, (size_t)indent);
	strbuf_adds(sb, "- ");
	if (doc_is_scalar(c)) {
		doc_scalar(sb, c);
		strbuf_addch(sb, '\n');
	} else if (doc_flat_array(c)) {
		doc_flat(sb, c);
		strbuf_addch(sb, '\n');
	} else {
		/* The first line of the block follows the dash. */
		size_t mark = sb->len;
		doc_text(sb, c, indent + 2);
		memmove(sb->buf + mark, sb->buf + mark + indent + 2, sb->len - mark - indent - 2);
		sb->len -= (size_t)indent + 2;
		sb->buf[sb->len] = '\0';
	}
}

static void doc_text(struct strbuf *sb, const cJSON *v, int indent)
{
	if (doc_is_scalar(v)) {
		pad(sb, (size_t)indent);
		doc_scalar(sb, v);
		strbuf_addch(sb, '\n');
		return;
	}
	if (cJSON_IsArray(v)) {
		if (doc_flat_array(v)) {
			pad(sb, (size_t)indent);
			doc_flat(sb, v);
			strbuf_addch(sb, '\n');
			return;
		}
		for (const cJSON *c = v->child; c; c = c->next)
			doc_item(sb, c, indent);
		return;
	}
	for (const cJSON *c = v->child; c; c = c->next) {
		pad(sb, (size_t)indent);
		strbuf_adds(sb, c->string ? c->string : "");
		strbuf_addch(sb, ':');
		if (doc_is_scalar(c) || doc_flat_array(c)) {
			strbuf_addch(sb, ' ');
			if (cJSON_IsArray(c) && c->child)
				doc_flat(sb, c);
			else
				doc_scalar(sb, c);
			strbuf_addch(sb, '\n');
		} else {
			strbuf_addch(sb, '\n');
			doc_text(sb, c, indent + 2);
		}
	}
}

int out_doc(FILE *fp, enum out_format f, const cJSON *doc, struct err *e)
{
	bool failed = false;
	int werrno = 0;
	char *text = NULL;
	struct strbuf sb = STRBUF_INIT;
	const char *s;
	size_t len;

	if (f == OUT_JSON || f == OUT_NDJSON) {
		text = f == OUT_JSON ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
		strbuf_adds(&sb, text ? text : "null");
		strbuf_addch(&sb, '\n');
		cJSON_free(text);
	} else if (doc) {
		doc_text(&sb, doc, 0);
	}
	s = sb.buf ? sb.buf : "";
	len = sb.len;
	if (len && fwrite(s, 1, len, fp) != len) {
		failed = true;
		werrno = errno;
	}
	strbuf_release(&sb);
	return check_stream(fp, failed, werrno, e);
}
