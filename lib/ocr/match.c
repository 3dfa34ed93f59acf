/* The order matcher: the orders table (CSV through lib/io/records, XLSX through lib/io/stream
 * and a small XML scanner for its two parts that matter), a sorted 3-gram posting list over the
 * articles folded into OCR confusion classes, and a weighted Levenshtein distance. */
#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include <utf8proc.h>

#include "base/base.h"
#include "base/trace.h"
#include "io/records.h"
#include "io/stream.h"
#include "ocr/match.h"
#include "text/text.h"

#define KEY_MAX	      128		  /* code points of a key compared; the rest is ignored */
#define XLSX_PART_MAX ((size_t)512 << 20) /* bytes of one XML part read */
#define XLSX_MAX_COLS 16384		  /* columns A..XFD, as Excel has */
#define SEP_COST      0.15
#define SEP_SUB	      0.1
#define CONFUSE_COST  0.35

/* ---- characters ---- */

/* Invalid bytes are kept distinct from every character: U+DC80.. as Python's surrogateescape. */
static size_t decode(const char *s, int32_t *out, size_t cap)
{
	size_t len = strlen(s), i = 0, n = 0;
	while (i < len && n < cap) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) {
			cp = 0xDC00 + (unsigned char)s[i];
			k = 1;
		}
		out[n++] = cp;
		i += (size_t)k;
	}
	return n;
}

static bool is_sep(int32_t c)
{
	return c == ' ' || c == '.' || c == '-' || c == '/' || c == '_' || c == ',' || c == '\t' ||
	       c == 0x2013 || c == 0x2014 || c == 0x00A0;
}

/* Upper case, then Cyrillic letters drawn like a Latin one as that one. */
static int32_t fold(int32_t c)
{
	static const int32_t cyr[][2] = {
	    {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x0401, 'E'}, {0x041A, 'K'},
	    {0x041C, 'M'}, {0x041D, 'H'}, {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'},
	    {0x0422, 'T'}, {0x0425, 'X'}, {0x0423, 'Y'},
	};
	if (c < 0xDC00 || c > 0xDCFF)
		c = utf8proc_toupper(c);
	if (c >= 0x0400 && c < 0x0430)
		for (size_t i = 0; i < ARRAY_SIZE(cyr); i++)
			if (cyr[i][0] == c)
				return cyr[i][1];
	return c;
}

/* Groups of folded characters a reader of stamped digits mixes up; 0 for none. The group's
 * first member stands for it in the index. */
static const int32_t confusions[][5] = {
    {'0', 'O', 'D', 'Q', 0}, {'1', 'I', 'L', '7', 0}, {'8', 'B', '3', 0x0417, 0},
    {'5', 'S', 0, 0, 0},     {'2', 'Z', 0, 0, 0},     {'6', 'G', 0x0411, 0, 0},
    {'4', 0x0427, 0, 0, 0},
};

static int confusion_group(int32_t c)
{
	for (size_t g = 0; g < ARRAY_SIZE(confusions); g++)
		for (size_t i = 0; i < 5 && confusions[g][i]; i++)
			if (confusions[g][i] == c)
				return (int)g + 1;
	return 0;
}

static int32_t index_class(int32_t c)
{
	int g = confusion_group(c);
	return g ? confusions[g - 1][0] : c;
}

void ocr_normalize(const char *text, struct strbuf *out)
{
	int32_t cp[KEY_MAX * 4];
	size_t n = decode(text, cp, ARRAY_SIZE(cp));
	for (size_t i = 0; i < n; i++) {
		char u[8];
		int32_t c = fold(cp[i]);
		if (c >= 0xDC00 && c <= 0xDCFF) {
			strbuf_addch(out, c - 0xDC00);
			continue;
		}
		strbuf_add(out, u, (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)u));
	}
}

/* ---- distance ---- */

static double indel(int32_t c)
{
	return is_sep(c) ? SEP_COST : 1;
}

static double weight(const int32_t *a, size_t n)
{
	double w = 0;
	for (size_t i = 0; i < n; i++)
		w += indel(a[i]);
	return w;
}

/* Levenshtein with the costs above over folded keys, two rows of the table; each character's
 * separator flag and confusion group looked up once. */
static double dist(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	double prev[KEY_MAX + 1], cur[KEY_MAX + 1], ia[KEY_MAX], ib[KEY_MAX];
	signed char ga[KEY_MAX], gb[KEY_MAX];
	if (na > KEY_MAX)
		na = KEY_MAX;
	if (nb > KEY_MAX)
		nb = KEY_MAX;
	/* group: -1 separator, 0 none, else the confusion group */
	for (size_t i = 0; i < na; i++) {
		ia[i] = indel(a[i]);
		ga[i] = (signed char)(is_sep(a[i]) ? -1 : confusion_group(a[i]));
	}
	for (size_t j = 0; j < nb; j++) {
		ib[j] = indel(b[j]);
		gb[j] = (signed char)(is_sep(b[j]) ? -1 : confusion_group(b[j]));
	}
	prev[0] = 0;
	for (size_t j = 1; j <= nb; j++)
		prev[j] = prev[j - 1] + ib[j - 1];
	for (size_t i = 1; i <= na; i++) {
		int32_t ca = a[i - 1];
		signed char g = ga[i - 1];
		cur[0] = prev[0] + ia[i - 1];
		for (size_t j = 1; j <= nb; j++) {
			double sub, d, del, ins;
			if (ca == b[j - 1])
				sub = 0;
			else if (g == -1 && gb[j - 1] == -1)
				sub = SEP_SUB;
			else if (g > 0 && g == gb[j - 1])
				sub = CONFUSE_COST;
			else
				sub = 1;
			d = prev[j - 1] + sub;
			del = prev[j] + ia[i - 1];
			ins = cur[j - 1] + ib[j - 1];
			if (del < d)
				d = del;
			if (ins < d)
				d = ins;
			cur[j] = d;
		}
		memcpy(prev, cur, (nb + 1) * sizeof(double));
	}
	return prev[nb];
}

static double sim(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	double wa, wb, w, s;
	na = na > KEY_MAX ? KEY_MAX : na;
	nb = nb > KEY_MAX ? KEY_MAX : nb;
	wa = weight(a, na);
	wb = weight(b, nb);
	w = wa > wb ? wa : wb;
	if (w <= 0)
		return wa == wb ? 1 : 0;
	s = 1 - dist(a, na, b, nb) / w;
	return s < 0 ? 0 : s;
}

/* Decoded, folded and trimmed of separators at both ends. */
static size_t key(const char *s, int32_t *out, size_t cap)
{
	size_t n = decode(s, out, cap), a = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = fold(out[i]);
	while (a < n && is_sep(out[a]))
		a++;
	while (n > a && is_sep(out[n - 1]))
		n--;
	memmove(out, out + a, (n - a) * sizeof(*out));
	return n - a;
}

double ocr_distance(const char *a, const char *b)
{
	int32_t ka[KEY_MAX], kb[KEY_MAX];
	size_t na = decode(a, ka, KEY_MAX), nb = decode(b, kb, KEY_MAX);
	for (size_t i = 0; i < na; i++)
		ka[i] = fold(ka[i]);
	for (size_t i = 0; i < nb; i++)
		kb[i] = fold(kb[i]);
	return dist(ka, na, kb, nb);
}

double ocr_similarity(const char *a, const char *b)
{
	int32_t ka[KEY_MAX], kb[KEY_MAX];
	size_t na = decode(a, ka, KEY_MAX), nb = decode(b, kb, KEY_MAX);
	for (size_t i = 0; i < na; i++)
		ka[i] = fold(ka[i]);
	for (size_t i = 0; i < nb; i++)
		kb[i] = fold(kb[i]);
	return sim(ka, na, kb, nb);
}

/* ---- the table ---- */

struct posting {
	uint64_t gram;
	size_t row;
};

struct ocr_orders {
	struct ocr_order *rows;
	size_t nrows, alloc;
	struct strbuf pool; /* the fields, NUL-terminated; rows point into it once loaded */
	size_t (*off)[OCR_NCOLS];
	size_t off_alloc;
	/* folded keys of article and serial: keys[kofs[r][0] .. + klen[r][0]] */
	int32_t *keys;
	size_t nkeys, keys_alloc;
	size_t (*kofs)[2];
	size_t (*klen)[2];
	struct posting *post;
	size_t npost;
};

static const char *const col_names[OCR_NCOLS] = {"article", "serial", "name", "order", "station"};
static const char *const aliases[OCR_NCOLS][8] = {
    {"article", "артикул", "обозначение", "децимальный номер", "чертеж", "чертёж", "part number",
     NULL},
    {"serial", "серийный номер", "заводской номер", "зав. номер", "зав.номер", "s/n",
     "serial number", NULL},
    {"name", "наименование", "название", "деталь", NULL},
    {"order", "заказ", "номер заказа", "№ заказа", "order number", NULL},
    {"station", "станция", "участок", "установка", "unit", NULL},
};
static const bool required[OCR_NCOLS] = {true, true, false, true, false};

/* Case-folded, trimmed: how header names are compared. */
static void header_key(const char *s, size_t len, struct strbuf *out)
{
	struct err e = ERR_INIT;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	strbuf_reset(out);
	if (text_fold(s, len, TEXT_UTF8_REPLACE, out, &e) < 0)
		strbuf_add(out, s, len);
}

/* Finds the columns in the header names[0..n) (NULL entries: empty cells); col[k] = index or
 * -1. Fails naming every required column missing. */
static int map_header(const char *const *names, size_t n, const struct ocr_orders_opts *opts,
		      long col[OCR_NCOLS], const char *path, struct err *e)
{
	struct strbuf h = STRBUF_INIT, a = STRBUF_INIT, miss = STRBUF_INIT, seen = STRBUF_INIT;
	int ret = 0;
	for (int k = 0; k < OCR_NCOLS; k++) {
		col[k] = -1;
		for (size_t j = 0; j < n && col[k] < 0; j++) {
			if (!names[j])
				continue;
			header_key(names[j], strlen(names[j]), &h);
			if (opts && opts->names[k]) {
				header_key(opts->names[k], strlen(opts->names[k]), &a);
				if (!strcmp(a.buf, h.buf))
					col[k] = (long)j;
				continue;
			}
			for (size_t q = 0; aliases[k][q]; q++)
				if (!strcmp(aliases[k][q], h.buf))
					col[k] = (long)j;
		}
		if (col[k] < 0 && (required[k] || (opts && opts->names[k])))
			strbuf_addf(&miss, "%s\"%s\"", miss.len ? ", " : "",
				    opts && opts->names[k] ? opts->names[k] : col_names[k]);
	}
	if (miss.len) {
		size_t shown = 0;
		for (size_t j = 0; j < n && shown < 12; j++)
			if (names[j] && names[j][0]) {
				strbuf_addf(&seen, "%s\"%s\"", shown ? ", " : "", names[j]);
				shown++;
			}
		ret = err_set(e, DYN_EDATA, "\"%s\": missing column%s %s (the header has %s)", path,
			      strchr(miss.buf, ',') ? "s" : "", miss.buf,
			      seen.len ? seen.buf : "no names");
	}
	strbuf_release(&h);
	strbuf_release(&a);
	strbuf_release(&miss);
	strbuf_release(&seen);
	return ret;
}

static void add_trimmed(struct strbuf *pool, const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	strbuf_add(pool, s, len);
	strbuf_addch(pool, 0);
}

/* Appends a row from its fields (NULL: empty); rows without an article are skipped. */
static int add_row(struct ocr_orders *o, const char *const f[OCR_NCOLS],
		   const size_t flen[OCR_NCOLS], size_t line, const char *path, struct err *e)
{
	size_t alen = 0;
	if (f[OCR_ARTICLE])
		for (size_t i = 0; i < flen[OCR_ARTICLE]; i++)
			alen += !isspace((unsigned char)f[OCR_ARTICLE][i]);
	if (!alen)
		return 0;
	if (o->nrows == OCR_ORDERS_MAX_ROWS)
		return err_set(e, DYN_EDATA, "\"%s\": more than %zu orders", path,
			       OCR_ORDERS_MAX_ROWS);
	ALLOC_GROW(o->rows, o->nrows + 1, o->alloc);
	ALLOC_GROW(o->off, o->nrows + 1, o->off_alloc);
	for (int k = 0; k < OCR_NCOLS; k++) {
		o->off[o->nrows][k] = o->pool.len;
		add_trimmed(&o->pool, f[k] ? f[k] : "", f[k] ? flen[k] : 0);
	}
	o->rows[o->nrows].line = line;
	o->nrows++;
	return 0;
}

static int load_records(struct ocr_orders *o, const char *path, const struct ocr_orders_opts *opts,
			struct err *e)
{
	struct rec_reader *r = NULL;
	const char **names = NULL;
	long col[OCR_NCOLS];
	int ret = -1, k;
	if (rec_open(&r, path, NULL, e) < 0)
		goto out;
	names = xcalloc(rec_ncols(r) + 1, sizeof(*names));
	for (size_t j = 0; j < rec_ncols(r); j++)
		names[j] = rec_colname(r, j);
	if (map_header(names, rec_ncols(r), opts, col, path, e) < 0)
		goto out;
	while ((k = rec_next(r, e)) > 0) {
		const char *f[OCR_NCOLS];
		size_t fl[OCR_NCOLS];
		for (int c = 0; c < OCR_NCOLS; c++) {
			f[c] = col[c] >= 0 ? rec_field(r, (size_t)col[c], &fl[c]) : NULL;
			if (!f[c])
				fl[c] = 0;
		}
		if (add_row(o, f, fl, rec_line(r), path, e) < 0)
			goto out;
	}
	if (k < 0)
		goto out;
	ret = 0;
out:
	free(names);
	rec_free(&r);
	return ret;
}

/* ---- XLSX ---- */

/* A scanner for the XML that spreadsheet writers produce: elements, attributes, text, with
 * comments, processing instructions and a DOCTYPE skipped (entities other than the five
 * predefined and numeric ones are left as written, never expanded). */
enum xml_kind { XML_END, XML_OPEN, XML_CLOSE, XML_EMPTY, XML_TEXT, XML_CDATA, XML_BAD };

struct xml {
	const char *p, *end;
};

struct xml_tok {
	enum xml_kind kind;
	const char *name, *attrs, *text; /* name: local part, without a namespace prefix */
	size_t nlen, alen, tlen;
};

static const char *find(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	for (; p + n <= end; p++)
		if (!memcmp(p, s, n))
			return p;
	return NULL;
}

static enum xml_kind xml_next(struct xml *x, struct xml_tok *t)
{
	const char *p = x->p, *q;
	memset(t, 0, sizeof(*t));
	if (p >= x->end)
		return t->kind = XML_END;
	if (*p != '<') {
		q = memchr(p, '<', (size_t)(x->end - p));
		q = q ? q : x->end;
		t->text = p;
		t->tlen = (size_t)(q - p);
		x->p = q;
		return t->kind = XML_TEXT;
	}
	if (x->end - p >= 4 && !memcmp(p, "<!--", 4)) {
		q = find(p + 4, x->end, "-->");
		if (!q)
			return t->kind = XML_BAD;
		x->p = q + 3;
		return xml_next(x, t);
	}
	if (x->end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
		q = find(p + 9, x->end, "]]>");
		if (!q)
			return t->kind = XML_BAD;
		t->text = p + 9;
		t->tlen = (size_t)(q - p - 9);
		x->p = q + 3;
		return t->kind = XML_CDATA;
	}
	if (x->end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
		q = find(p + 2, x->end, p[1] == '?' ? "?>" : ">");
		if (!q)
			return t->kind = XML_BAD;
		x->p = q + (p[1] == '?' ? 2 : 1);
		return xml_next(x, t);
	}
	t->kind = XML_OPEN;
	p++;
	if (p < x->end && *p == '/') {
		t->kind = XML_CLOSE;
		p++;
	}
	t->name = p;
	while (p < x->end && !isspace((unsigned char)*p) && *p != '>' && *p != '/')
		p++;
	t->nlen = (size_t)(p - t->name);
	t->attrs = p;
	{
		char quote = 0;
		while (p < x->end && (quote || *p != '>')) {
			if (quote && *p == quote)
				quote = 0;
			else if (!quote && (*p == '"' || *p == '\''))
				quote = *p;
			p++;
		}
	}
	if (p >= x->end || !t->nlen)
		return t->kind = XML_BAD;
	t->alen = (size_t)(p - t->attrs);
	if (t->kind == XML_OPEN && t->alen && p[-1] == '/') {
		t->kind = XML_EMPTY;
		t->alen--;
	}
	x->p = p + 1;
	q = memchr(t->name, ':', t->nlen);
	if (q) {
		t->nlen -= (size_t)(q + 1 - t->name);
		t->name = q + 1;
	}
	return t->kind;
}

static bool tok_is(const struct xml_tok *t, const char *name)
{
	return t->nlen == strlen(name) && !memcmp(t->name, name, t->nlen);
}

/* The value of attribute name (exact, unprefixed) in t, or NULL; *len its length. */
static const char *xml_attr(const struct xml_tok *t, const char *name, size_t *len)
{
	const char *p = t->attrs, *end = t->attrs + t->alen;
	size_t nl = strlen(name);
	while (p < end) {
		const char *a, *v;
		size_t al;
		char quote;
		while (p < end && isspace((unsigned char)*p))
			p++;
		a = p;
		while (p < end && *p != '=' && !isspace((unsigned char)*p))
			p++;
		al = (size_t)(p - a);
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p != '=')
			return NULL;
		p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return NULL;
		quote = *p++;
		v = p;
		while (p < end && *p != quote)
			p++;
		if (p >= end)
			return NULL;
		if (al == nl && !memcmp(a, name, nl)) {
			*len = (size_t)(p - v);
			return v;
		}
		p++;
	}
	return NULL;
}

/* Appends text with the predefined and numeric character references decoded. */
static void xml_text(struct strbuf *out, const char *s, size_t len)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t j, k;
		bool done = false;
		if (!amp) {
			strbuf_add(out, s + i, len - i);
			return;
		}
		j = (size_t)(amp - s);
		strbuf_add(out, s + i, j - i);
		i = j + 1;
		for (k = 0; k < ARRAY_SIZE(ents) && !done; k++) {
			size_t el = strlen(ents[k].name);
			if (len - i >= el && !memcmp(s + i, ents[k].name, el)) {
				strbuf_addch(out, ents[k].c);
				i += el;
				done = true;
			}
		}
		if (!done && i < len && s[i] == '#') {
			bool hex = i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X');
			size_t p = i + 1 + hex;
			long v = 0;
			while (p < len && p - i < 10 && isxdigit((unsigned char)s[p]) &&
			       (hex || isdigit((unsigned char)s[p]))) {
				int d = isdigit((unsigned char)s[p])
					    ? s[p] - '0'
					    : tolower((unsigned char)s[p]) - 'a' + 10;
				v = v * (hex ? 16 : 10) + d;
				p++;
			}
			if (p < len && s[p] == ';' && p > i + 1 + hex &&
			    utf8proc_codepoint_valid((int32_t)v)) {
				char u[8];
				strbuf_add(out, u,
					   (size_t)utf8proc_encode_char((int32_t)v,
									(utf8proc_uint8_t *)u));
				i = p + 1;
				done = true;
			}
		}
		if (!done)
			strbuf_addch(out, '&');
	}
}

/* Reads the two parts of the workbook (sheet required, shared strings optional). */
static int xlsx_parts(const char *path, struct strbuf *shared, struct strbuf *sheet,
		      bool *has_shared, struct err *e)
{
	struct stream *st = NULL;
	const char *m;
	bool has_sheet = false;
	int ret = -1, k;
	char *buf = xmalloc(1 << 16);
	*has_shared = false;
	if (stream_open(&st, path, e) < 0)
		goto out;
	if (!stream_is_archive(st)) {
		err_set(e, DYN_EDATA, "\"%s\": not an XLSX workbook (not a zip archive)", path);
		goto out;
	}
	while ((k = stream_next_member(st, &m, e)) > 0) {
		struct strbuf *to = NULL;
		ssize_t n;
		if (!strcmp(m, "xl/sharedStrings.xml")) {
			to = shared;
			*has_shared = true;
		} else if (!strcmp(m, "xl/worksheets/sheet1.xml")) {
			to = sheet;
			has_sheet = true;
		}
		if (!to)
			continue;
		while ((n = stream_read(st, buf, 1 << 16, e)) > 0) {
			if (to->len + (size_t)n > XLSX_PART_MAX) {
				err_set(e, DYN_EDATA, "\"%s\": member \"%s\" larger than %zu MiB",
					path, m, XLSX_PART_MAX >> 20);
				goto out;
			}
			strbuf_add(to, buf, (size_t)n);
		}
		if (n < 0)
			goto out;
		if (has_sheet && *has_shared)
			break;
	}
	if (k < 0)
		goto out;
	if (!has_sheet) {
		err_set(e, DYN_EDATA,
			"\"%s\": not an XLSX workbook (no first sheet xl/worksheets/sheet1.xml)",
			path);
		goto out;
	}
	ret = 0;
out:
	free(buf);
	stream_free(&st);
	return ret;
}

/* The shared strings, NUL-terminated in pool, at offsets *ofs[0..*n). */
static int xlsx_shared(const struct strbuf *xmlbuf, struct strbuf *pool, size_t **ofs, size_t *n,
		       const char *path, struct err *e)
{
	struct xml x = {xmlbuf->buf, xmlbuf->buf + xmlbuf->len};
	struct xml_tok t;
	size_t alloc = 0;
	int in_si = 0, in_t = 0, in_rph = 0;
	enum xml_kind k;
	while ((k = xml_next(&x, &t)) != XML_END) {
		if (k == XML_BAD)
			return err_set(e, DYN_EDATA,
				       "\"%s\": xl/sharedStrings.xml: broken XML at byte %zu", path,
				       (size_t)(x.p - xmlbuf->buf));
		if ((k == XML_OPEN || k == XML_EMPTY) && tok_is(&t, "si")) {
			ALLOC_GROW(*ofs, *n + 1, alloc);
			(*ofs)[(*n)++] = pool->len;
			in_si = k == XML_OPEN;
			if (!in_si)
				strbuf_addch(pool, 0);
		} else if (k == XML_CLOSE && tok_is(&t, "si") && in_si) {
			strbuf_addch(pool, 0);
			in_si = 0;
		} else if (k == XML_OPEN && tok_is(&t, "rPh")) {
			in_rph++;
		} else if (k == XML_CLOSE && tok_is(&t, "rPh") && in_rph) {
			in_rph--;
		} else if (tok_is(&t, "t")) {
			in_t = k == XML_OPEN;
		} else if ((k == XML_TEXT || k == XML_CDATA) && in_si && in_t && !in_rph) {
			if (k == XML_TEXT)
				xml_text(pool, t.text, t.tlen);
			else
				strbuf_add(pool, t.text, t.tlen);
		}
	}
	if (in_si)
		return err_set(e, DYN_EDATA, "\"%s\": xl/sharedStrings.xml: truncated", path);
	return 0;
}

/* Column of a cell reference ("AB12" -> 27), or -1. */
static long cell_col(const char *r, size_t len)
{
	long c = 0;
	size_t i = 0;
	while (i < len && isalpha((unsigned char)r[i]) && i < 3) {
		c = c * 26 + (toupper((unsigned char)r[i]) - 'A' + 1);
		i++;
	}
	if (!i || i == len || !isdigit((unsigned char)r[i]) || c > XLSX_MAX_COLS)
		return -1;
	return c - 1;
}

static int load_xlsx(struct ocr_orders *o, const char *path, const struct ocr_orders_opts *opts,
		     struct err *e)
{
	struct strbuf shared = STRBUF_INIT, sheet = STRBUF_INIT, spool = STRBUF_INIT;
	struct strbuf cell = STRBUF_INIT, rowtext = STRBUF_INIT;
	size_t *sofs = NULL, ns = 0, rowno = 0;
	bool has_shared, header_done = false, in_v = false, in_is = false, in_t = false;
	bool in_c = false;
	long col[OCR_NCOLS], curcol = -1;
	char type[16] = "";
	/* the current row's cells we keep: offsets into rowtext (header: every cell) */
	size_t *cofs = NULL, calloc_n = 0;
	long *ccol = NULL;
	size_t nc = 0, ccol_alloc = 0;
	struct xml x;
	struct xml_tok t;
	enum xml_kind k;
	int ret = -1;

	if (xlsx_parts(path, &shared, &sheet, &has_shared, e) < 0)
		goto out;
	if (has_shared && xlsx_shared(&shared, &spool, &sofs, &ns, path, e) < 0)
		goto out;
	x.p = sheet.buf;
	x.end = sheet.buf + sheet.len;
	while ((k = xml_next(&x, &t)) != XML_END) {
		const char *v;
		size_t vl;
		if (k == XML_BAD) {
			err_set(e, DYN_EDATA,
				"\"%s\": xl/worksheets/sheet1.xml: broken XML at byte %zu", path,
				(size_t)(x.p - sheet.buf));
			goto out;
		}
		if (k == XML_OPEN && tok_is(&t, "row")) {
			v = xml_attr(&t, "r", &vl);
			rowno = v ? strtoul(v, NULL, 10) : rowno + 1;
			curcol = -1;
			nc = 0;
			strbuf_reset(&rowtext);
		} else if ((k == XML_OPEN || k == XML_EMPTY) && tok_is(&t, "c")) {
			v = xml_attr(&t, "r", &vl);
			curcol = v ? cell_col(v, vl) : curcol + 1;
			if (curcol < 0 || curcol >= XLSX_MAX_COLS) {
				err_set(e, DYN_EDATA,
					"\"%s\": row %zu: bad cell reference \"%.*s\"", path, rowno,
					v ? (int)(vl > 20 ? 20 : vl) : 0, v ? v : "");
				goto out;
			}
			v = xml_attr(&t, "t", &vl);
			snprintf(type, sizeof(type), "%.*s", v ? (int)(vl > 15 ? 15 : vl) : 0,
				 v ? v : "");
			in_c = k == XML_OPEN;
			strbuf_reset(&cell);
		} else if (k == XML_OPEN && tok_is(&t, "v")) {
			in_v = true;
		} else if (k == XML_CLOSE && tok_is(&t, "v")) {
			in_v = false;
		} else if ((k == XML_OPEN || k == XML_CLOSE) && tok_is(&t, "is")) {
			in_is = k == XML_OPEN;
		} else if ((k == XML_OPEN || k == XML_CLOSE) && tok_is(&t, "t")) {
			in_t = k == XML_OPEN;
		} else if ((k == XML_TEXT || k == XML_CDATA) && in_c && (in_v || (in_is && in_t))) {
			if (k == XML_TEXT)
				xml_text(&cell, t.text, t.tlen);
			else
				strbuf_add(&cell, t.text, t.tlen);
		} else if (k == XML_CLOSE && tok_is(&t, "c") && in_c) {
			const char *val = cell.buf ? cell.buf : "";
			in_c = false;
			if (!strcmp(type, "s")) {
				char *endp;
				unsigned long idx;
				errno = 0;
				idx = strtoul(val, &endp, 10);
				if (endp == val || *endp || errno || idx >= ns) {
					err_set(e, DYN_EDATA,
						"\"%s\": row %zu: shared string \"%s\" out of "
						"range (%zu "
						"strings)",
						path, rowno, val, ns);
					goto out;
				}
				val = spool.buf + sofs[idx];
			} else if (!strcmp(type, "b")) {
				val = !strcmp(val, "1") ? "TRUE" : "FALSE";
			}
			ALLOC_GROW(cofs, nc + 1, calloc_n);
			ALLOC_GROW(ccol, nc + 1, ccol_alloc);
			cofs[nc] = rowtext.len;
			ccol[nc++] = curcol;
			strbuf_adds(&rowtext, val);
			strbuf_addch(&rowtext, 0);
		} else if (k == XML_CLOSE && tok_is(&t, "row")) {
			if (!header_done) {
				long maxc = -1;
				const char **names;
				bool any = false;
				for (size_t i = 0; i < nc; i++) {
					maxc = ccol[i] > maxc ? ccol[i] : maxc;
					any |= rowtext.buf[cofs[i]] != 0;
				}
				if (!any)
					continue; /* blank rows above the header */
				names = xcalloc((size_t)maxc + 1, sizeof(*names));
				for (size_t i = 0; i < nc; i++)
					names[ccol[i]] = rowtext.buf + cofs[i];
				int mapped =
				    map_header(names, (size_t)maxc + 1, opts, col, path, e);
				free(names);
				if (mapped < 0)
					goto out;
				header_done = true;
			} else {
				const char *f[OCR_NCOLS] = {0};
				size_t fl[OCR_NCOLS] = {0};
				for (size_t i = 0; i < nc; i++)
					for (int c = 0; c < OCR_NCOLS; c++)
						if (col[c] == ccol[i]) {
							f[c] = rowtext.buf + cofs[i];
							fl[c] = strlen(f[c]);
						}
				if (add_row(o, f, fl, rowno, path, e) < 0)
					goto out;
			}
		}
	}
	if (!header_done) {
		err_set(e, DYN_EDATA, "\"%s\": the first sheet is empty (no header row)", path);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&shared);
	strbuf_release(&sheet);
	strbuf_release(&spool);
	strbuf_release(&cell);
	strbuf_release(&rowtext);
	free(sofs);
	free(cofs);
	free(ccol);
	return ret;
}

/* ---- index ---- */

#define GRAM_EDGE  0x1FFFFF /* the padding at both ends of a key, so that short keys have grams */
#define SERIAL_TAG ((uint64_t)1 << 63) /* grams use 63 bits: this one marks a serial's */

/* The 3-grams of a folded key: separators dropped, confusion groups merged, padded. */
static size_t grams(const int32_t *k, size_t n, uint64_t *out)
{
	int32_t c[KEY_MAX + 2];
	size_t m = 0, g = 0;
	c[m++] = GRAM_EDGE;
	for (size_t i = 0; i < n && i < KEY_MAX; i++)
		if (!is_sep(k[i]))
			c[m++] = index_class(k[i]) & 0x1FFFFF;
	c[m++] = GRAM_EDGE;
	for (size_t i = 0; i + 3 <= m; i++)
		out[g++] = (uint64_t)c[i] << 42 | (uint64_t)c[i + 1] << 21 | (uint64_t)c[i + 2];
	return g;
}

/* Sorts postings by gram, keeping their order within a gram: an LSD radix sort, a byte a pass,
 * skipping the bytes all postings share. build_index adds postings row by row, so this is the
 * order by gram, then row, in a few passes over the array instead of a comparison sort's
 * n log n calls: with 20,000 orders, qsort took about 7% of reading a photo. */
static void sort_postings(struct posting *p, size_t n)
{
	struct posting *tmp = xmallocarray(n ? n : 1, sizeof(*tmp)), *src = p, *dst = tmp;
	for (int shift = 0; shift < 64 && n; shift += 8) {
		size_t at[256] = {0}, sum = 0;
		for (size_t i = 0; i < n; i++)
			at[src[i].gram >> shift & 255]++;
		if (at[src[0].gram >> shift & 255] == n)
			continue;
		for (int b = 0; b < 256; b++) {
			size_t c = at[b];
			at[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[at[src[i].gram >> shift & 255]++] = src[i];
		struct posting *t = src;
		src = dst;
		dst = t;
	}
	if (src != p)
		memcpy(p, src, n * sizeof(*p));
	free(tmp);
}

static void build_index(struct ocr_orders *o)
{
	int32_t k[KEY_MAX];
	uint64_t g[KEY_MAX + 2];
	size_t alloc = 0;
	o->kofs = xmallocarray(o->nrows ? o->nrows : 1, sizeof(*o->kofs));
	o->klen = xmallocarray(o->nrows ? o->nrows : 1, sizeof(*o->klen));
	/* never NULL, even when every key is empty (an article of separators only) */
	ALLOC_GROW(o->keys, 1, o->keys_alloc);
	for (size_t r = 0; r < o->nrows; r++) {
		for (int part = 0; part < 2; part++) {
			const char *f = o->rows[r].f[part == 0 ? OCR_ARTICLE : OCR_SERIAL];
			size_t n = key(f, k, KEY_MAX);
			ALLOC_GROW(o->keys, o->nkeys + n, o->keys_alloc);
			if (n)
				memcpy(o->keys + o->nkeys, k, n * sizeof(*k));
			o->kofs[r][part] = o->nkeys;
			o->klen[r][part] = n;
			o->nkeys += n;
			/* serial grams too, tagged apart: among many parts of one article the
			 * serial decides which rows make the shortlist */
			{
				size_t ng = grams(k, n, g);
				ALLOC_GROW(o->post, o->npost + ng, alloc);
				for (size_t i = 0; i < ng; i++) {
					o->post[o->npost + i].gram = g[i] | (part ? SERIAL_TAG : 0);
					o->post[o->npost + i].row = r;
				}
				o->npost += ng;
			}
		}
	}
	sort_postings(o->post, o->npost);
	/* a gram twice in one key counts once */
	{
		size_t w = 0;
		for (size_t i = 0; i < o->npost; i++)
			if (!w || o->post[i].gram != o->post[w - 1].gram ||
			    o->post[i].row != o->post[w - 1].row)
				o->post[w++] = o->post[i];
		o->npost = w;
	}
}

static bool is_xlsx_name(const char *path)
{
	size_t n = strlen(path);
	return (n > 5 && !strcasecmp(path + n - 5, ".xlsx")) ||
	       (n > 5 && !strcasecmp(path + n - 5, ".xlsm"));
}

int ocr_orders_load(struct ocr_orders **out, const char *path, const struct ocr_orders_opts *opts,
		    struct err *e)
{
	struct ocr_orders *o = xcalloc(1, sizeof(*o));
	int ret = -1;
	strbuf_init(&o->pool);
	if (!path) {
		err_set(e, DYN_EUSAGE, "orders: no file given");
		goto out;
	}
	if ((is_xlsx_name(path) ? load_xlsx(o, path, opts, e) : load_records(o, path, opts, e)) < 0)
		goto out;
	trace_perf("ocr: read orders");
	for (size_t r = 0; r < o->nrows; r++)
		for (int k = 0; k < OCR_NCOLS; k++)
			o->rows[r].f[k] = o->pool.buf + o->off[r][k];
	build_index(o);
	trace_perf("ocr: index orders");
	ret = 0;
out:
	if (ret < 0)
		ocr_orders_free(&o);
	*out = o;
	return ret;
}

void ocr_orders_free(struct ocr_orders **op)
{
	struct ocr_orders *o = *op;
	if (!o)
		return;
	free(o->rows);
	free(o->off);
	strbuf_release(&o->pool);
	free(o->keys);
	free(o->kofs);
	free(o->klen);
	free(o->post);
	free(o);
	*op = NULL;
}

size_t ocr_orders_count(const struct ocr_orders *o)
{
	return o->nrows;
}

const struct ocr_order *ocr_orders_row(const struct ocr_orders *o, size_t i)
{
	return i < o->nrows ? &o->rows[i] : NULL;
}

/* ---- matching ---- */

struct cand {
	size_t row, hits;
};

static int cmp_match(const void *a, const void *b)
{
	const struct ocr_match *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Rows sharing the most 3-grams with the query keys, at most cap of them, best first (ties in
 * table order), in *c. Counts in an array over the rows, then rows bucketed by count: no sort
 * of the (possibly long) posting lists. */
static size_t shortlist(const struct ocr_orders *o, const int32_t *const *q, const size_t *qn,
			const bool *serial, size_t nq, size_t cap, struct cand **c)
{
	uint64_t g[3 * (KEY_MAX + 2)] = {0};
	size_t ng = 0, *touched = NULL, nt = 0, t_alloc = 0, nc = 0, maxhits = 0;
	uint16_t *count;
	size_t *start, *fill;
	for (size_t i = 0; i < nq; i++) {
		size_t k = grams(q[i], qn[i], g + ng);
		if (serial[i])
			for (size_t j = ng; j < ng + k; j++)
				g[j] |= SERIAL_TAG;
		ng += k;
	}
	qsort(g, ng, sizeof(*g), cmp_u64);
	count = xcalloc(o->nrows ? o->nrows : 1, sizeof(*count));
	for (size_t i = 0; i < ng; i++) {
		size_t lo = 0, hi = o->npost;
		if (i && g[i] == g[i - 1])
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (o->post[mid].gram < g[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < o->npost && o->post[lo].gram == g[i]; lo++) {
			size_t r = o->post[lo].row;
			if (!count[r]++) {
				ALLOC_GROW(touched, nt + 1, t_alloc);
				touched[nt++] = r;
			}
			if (count[r] > maxhits)
				maxhits = count[r];
		}
	}
	/* rows in table order within each count: a counting sort of touched, sorted by row */
	if (nt > o->nrows / 8) {
		nt = 0;
		for (size_t r = 0; r < o->nrows; r++)
			if (count[r])
				touched[nt++] = r;
	} else if (nt) {
		qsort(touched, nt, sizeof(*touched), cmp_u64);
	}
	start = xcalloc(maxhits + 2, sizeof(*start));
	fill = xcalloc(maxhits + 2, sizeof(*fill));
	for (size_t i = 0; i < nt; i++)
		start[maxhits - count[touched[i]] + 1]++;
	for (size_t h = 1; h <= maxhits + 1; h++)
		start[h] += start[h - 1];
	*c = xmallocarray(nt ? nt : 1, sizeof(**c));
	for (size_t i = 0; i < nt; i++) {
		size_t b = maxhits - count[touched[i]];
		struct cand *d = &(*c)[start[b] + fill[b]++];
		d->row = touched[i];
		d->hits = count[touched[i]];
	}
	nc = nt;
	free(start);
	free(fill);
	free(touched);
	free(count);
	return nc < cap ? nc : cap;
}

/* Keeps the reading split as article a and serial s when it scores better against row (A, S). */
static void consider(struct ocr_match *m, double w, const int32_t *a, size_t na, const int32_t *s,
		     size_t ns, const int32_t *A, size_t nA, const int32_t *S, size_t nS)
{
	double sa = sim(a, na, A, nA), ss = sim(s, ns, S, nS), sc = (1 - w) * sa + w * ss;
	if (sc > m->score) {
		m->score = sc;
		m->article_score = sa;
		m->serial_score = ss;
	}
}

int ocr_orders_match(const struct ocr_orders *o, const char *text, const struct ocr_match_opts *mo,
		     struct ocr_match *out, size_t *n, struct err *e)
{
	size_t top_k = mo && mo->top_k ? mo->top_k : 5;
	size_t cap = mo && mo->shortlist ? mo->shortlist : 200;
	double thr = mo && mo->threshold ? mo->threshold : OCR_MATCH_THRESHOLD;
	double w = mo && mo->serial_weight > 0 ? mo->serial_weight : 0.3;
	int32_t whole[KEY_MAX], art[KEY_MAX], ser[KEY_MAX];
	size_t nw, na = 0, ns = 0, nsel, nres = 0;
	bool split = false;
	struct cand *c = NULL;
	struct ocr_match *res;

	*n = 0;
	if (text_utf8_bad_offset(text, strlen(text)))
		return err_set(e, DYN_EUSAGE, "match: invalid UTF-8 at byte %zu",
			       text_utf8_bad_offset(text, strlen(text)));
	if (w > 1)
		w = 1;
	nw = key(text, whole, KEY_MAX);
	for (size_t i = nw; i-- > 0;)
		if (whole[i] == ' ' || whole[i] == 0x00A0) {
			na = i;
			while (na > 0 && is_sep(whole[na - 1]))
				na--;
			memcpy(art, whole, na * sizeof(*art));
			ns = nw - i - 1;
			memcpy(ser, whole + i + 1, ns * sizeof(*ser));
			split = na > 0;
			break;
		}
	{
		const int32_t *q[3] = {whole, art, ser};
		size_t qn[3] = {nw, na, ns};
		const bool serial[3] = {false, false, true};
		nsel = shortlist(o, q, qn, serial, split ? 3 : 1, cap, &c);
	}
	if (!nsel) {
		/* nothing in common with any article: score every row of a small table, so that
		 * a reading garbled in every third character is still judged */
		free(c);
		nsel = o->nrows <= 20000 ? o->nrows : 0;
		c = xmallocarray(nsel ? nsel : 1, sizeof(*c));
		for (size_t i = 0; i < nsel; i++)
			c[i].row = i, c[i].hits = 0;
	}
	res = xmallocarray(nsel ? nsel : 1, sizeof(*res));
	for (size_t i = 0; i < nsel; i++) {
		size_t r = c[i].row;
		const int32_t *A = o->keys + o->kofs[r][0], *S = o->keys + o->kofs[r][1];
		size_t nA = o->klen[r][0], nS = o->klen[r][1];
		struct ocr_match m = {r, 0, 0, 0};
		/* no serial read (or none in the row): the article alone, at most 1 - w when the
		 * row has a serial the reading lacks */
		m.article_score = sim(whole, nw, A, nA);
		m.serial_score = nS ? 0 : 1;
		m.score = nS ? (1 - w) * m.article_score : m.article_score;
		if (split)
			consider(&m, w, art, na, ser, ns, A, nA, S, nS);
		if (nS && nw > nS) {
			/* the space lost or misplaced: the last nS characters other than
			 * separators taken as the serial */
			size_t cut = nw, k = 0, ea;
			while (cut > 0 && k < nS)
				k += !is_sep(whole[--cut]);
			ea = cut;
			while (ea > 0 && is_sep(whole[ea - 1]))
				ea--;
			if (ea > 0)
				consider(&m, w, whole, ea, whole + cut, nw - cut, A, nA, S, nS);
		}
		if (m.score >= thr || thr < 0)
			res[nres++] = m;
	}
	if (nres)
		qsort(res, nres, sizeof(*res), cmp_match);
	*n = nres < top_k ? nres : top_k;
	memcpy(out, res, *n * sizeof(*out));
	free(res);
	free(c);
	return 0;
}

size_t ocr_content_chars(const char *text, size_t *digits)
{
	size_t n = 0, nd = 0;
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c & 0xC0) == 0x80 || strchr(" .-/", *c))
			continue;
		n++;
		nd += *c >= '0' && *c <= '9';
	}
	if (digits)
		*digits = nd;
	return n;
}

int ocr_orders_match_lines(const struct ocr_orders *o, const char *const *texts, size_t nt,
			   const struct ocr_match_opts *mo, struct ocr_match *out, size_t *n,
			   struct err *e)
{
	size_t top_k = mo && mo->top_k ? mo->top_k : 5, nall = 0, nres = 0, got;
	struct ocr_match *all = xmallocarray(nt * top_k + 1, sizeof(*all));
	int ret = -1;
	*n = 0;
	for (size_t i = 0; i < nt; i++) {
		if (ocr_content_chars(texts[i], NULL) < OCR_LINE_MIN_CHARS)
			continue;
		if (ocr_orders_match(o, texts[i], mo, all + nall, &got, e) < 0)
			goto out;
		nall += got;
	}
	/* a row several lines found keeps its best score */
	qsort(all, nall, sizeof(*all), cmp_match);
	for (size_t i = 0; i < nall && nres < top_k; i++) {
		bool seen = false;
		for (size_t j = 0; j < nres && !seen; j++)
			seen = out[j].row == all[i].row;
		if (!seen)
			out[nres++] = all[i];
	}
	*n = nres;
	ret = 0;
out:
	free(all);
	return ret;
}
