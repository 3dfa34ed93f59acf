/* Ticket data: loading the queue tree and the daily counts, and the series built on them
 * (see tickets.h). Rows are hashed to their queue and stored in a dense per-queue array of
 * days, so that 10^7 rows take one pass and no sort. */
#include <limits.h>
#include <math.h>

#include "base/base.h"
#include "ts/date.h"
#include "ts/tickets.h"

/* The longest span of days one queue may cover (about 274 years): a guard against a typo in a
 * year turning into gigabytes of empty days. */
#define TS_MAX_SPAN 100000L

void ts_data_init(struct ts_data *d)
{
	memset(d, 0, sizeof(*d));
	d->min_day = 1;
	d->max_day = 0;
}

void ts_data_release(struct ts_data *d)
{
	for (size_t i = 0; i < d->nq; i++) {
		struct ts_queue *q = &d->q[i];
		free(q->id);
		free(q->name);
		free(q->child);
		free(q->val);
		free(q->seen);
	}
	free(d->q);
	free(d->slots);
	free(d->tree_name);
	ts_data_init(d);
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Whether the queue id (NUL-terminated) is s[0..len); s may hold NUL bytes (found by
 * tests/fuzz/f_tickets: strncmp stopped at one and id[len] was read past id's end). */
static bool id_equal(const char *id, const char *s, size_t len)
{
	return strnlen(id, len + 1) == len && !memcmp(id, s, len);
}

static long find_n(const struct ts_data *d, const char *s, size_t len)
{
	size_t mask, i;
	if (!d->nslots)
		return -1;
	mask = d->nslots - 1;
	for (i = (size_t)hash_bytes(s, len) & mask; d->slots[i]; i = (i + 1) & mask)
		if (id_equal(d->q[d->slots[i] - 1].id, s, len))
			return (long)(d->slots[i] - 1);
	return -1;
}

size_t ts_subtree_rows(const struct ts_data *d, size_t qi)
{
	const struct ts_queue *q = &d->q[qi];
	size_t n = 0;
	for (size_t k = 0; k < q->nchild; k++)
		n += d->q[q->child[k]].rows + ts_subtree_rows(d, q->child[k]);
	return n;
}

long ts_data_find(const struct ts_data *d, const char *id)
{
	return find_n(d, id, strlen(id));
}

static void rehash(struct ts_data *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 64, mask = n - 1;
	free(d->slots);
	d->slots = xcalloc(n, sizeof(*d->slots));
	d->nslots = n;
	for (size_t k = 0; k < d->nq; k++) {
		size_t i = (size_t)hash_bytes(d->q[k].id, strlen(d->q[k].id)) & mask;
		while (d->slots[i])
			i = (i + 1) & mask;
		d->slots[i] = k + 1;
	}
}

static size_t add_queue(struct ts_data *d, const char *s, size_t len)
{
	struct ts_queue *q;
	ALLOC_GROW(d->q, d->nq + 1, d->alloc);
	q = &d->q[d->nq++];
	memset(q, 0, sizeof(*q));
	q->id = xstrndup(s, len);
	q->level = -1;
	q->parent = -1;
	q->first = 1;
	q->last = 0;
	/* Keep the table at most half full. */
	if (2 * d->nq > d->nslots) {
		rehash(d);
	} else {
		size_t mask = d->nslots - 1, i = (size_t)hash_bytes(s, len) & mask;
		while (d->slots[i])
			i = (i + 1) & mask;
		d->slots[i] = d->nq;
	}
	return d->nq - 1;
}

/* A field's text for a message: at most 40 bytes, control and non-ASCII bytes as \xNN (the
 * message must stay one valid line whatever the input holds). */
static void quote_field(struct strbuf *sb, const char *s, size_t len)
{
	size_t n = len > 40 ? 40 : len;
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			strbuf_addf(sb, "\\x%02x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	if (len > n)
		strbuf_adds(sb, "...");
	strbuf_addch(sb, '"');
}

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n, k;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n + 1;
	}
	return true;
}

static const char *field(const struct rec_reader *r, long col, size_t *len)
{
	const char *s = col >= 0 ? rec_field(r, (size_t)col, len) : NULL;
	if (!s) {
		*len = 0;
		return "";
	}
	return s;
}

/* Checks a text field (id, name): valid UTF-8. */
static int text_field(const struct rec_reader *r, long col, const char *s, size_t len,
		      struct err *e)
{
	if (utf8_valid((const unsigned char *)s, len))
		return 0;
	return err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": invalid UTF-8", rec_name(r),
		       rec_line(r), rec_colname(r, (size_t)col));
}

/* ---- the queue tree ---- */

static int tree_error(struct ts_data *d, const size_t *lines, size_t qi, struct err *e,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int tree_error(struct ts_data *d, const size_t *lines, size_t qi, struct err *e,
		      const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	err_set(e, DYN_EDATA, "%s:%zu: column \"parent_id\": %s", d->tree_name, lines[qi], sb.buf);
	strbuf_release(&sb);
	return -1;
}

/* Children lists, subtree sizes and heights, bottom-up in order of decreasing depth. */
static void tree_shape(struct ts_data *d)
{
	size_t n = d->nq, i;
	long *depth = xcalloc(n ? n : 1, sizeof(*depth));
	size_t *order = xmallocarray(n ? n : 1, sizeof(*order)), maxd = 0, k = 0;
	for (i = 0; i < n; i++) {
		long p = d->q[i].parent, dd = 0;
		while (p >= 0) {
			dd++;
			p = d->q[p].parent;
		}
		depth[i] = dd;
		if ((size_t)dd > maxd)
			maxd = (size_t)dd;
		if (d->q[i].parent >= 0)
			d->q[d->q[i].parent].nchild++;
	}
	for (i = 0; i < n; i++) {
		d->q[i].child = xmallocarray(d->q[i].nchild ? d->q[i].nchild : 1, sizeof(size_t));
		d->q[i].nchild = 0;
	}
	for (i = 0; i < n; i++)
		if (d->q[i].parent >= 0) {
			struct ts_queue *p = &d->q[d->q[i].parent];
			p->child[p->nchild++] = i;
		}
	for (long dd = (long)maxd; dd >= 0; dd--)
		for (i = 0; i < n; i++)
			if (depth[i] == dd)
				order[k++] = i;
	for (k = 0; k < n; k++) {
		struct ts_queue *q = &d->q[order[k]];
		if (!q->nchild)
			q->nleaves = 1;
		if (q->parent >= 0) {
			struct ts_queue *p = &d->q[q->parent];
			p->ndesc += 1 + q->ndesc;
			p->nleaves += q->nleaves;
			if (q->height + 1 > p->height)
				p->height = q->height + 1;
		}
	}
	free(depth);
	free(order);
}

int ts_data_load_queues(struct ts_data *d, const char *path, const struct rec_opts *ro,
			struct err *e)
{
	struct rec_reader *r = NULL;
	char **parent = NULL;
	size_t *lines = NULL, nalloc = 0, i, first_new = d->nq;
	long c_id, c_name, c_level, c_parent;
	unsigned char *state = NULL;
	int ret = -1, rc;

	if (rec_open(&r, path, ro, e) < 0)
		goto out;
	c_id = rec_colindex(r, "id");
	c_name = rec_colindex(r, "name");
	c_level = rec_colindex(r, "level");
	c_parent = rec_colindex(r, "parent_id");
	if (c_id < 0) {
		err_set(e, DYN_EDATA, "%s: no column \"id\" (expected id,name,level,parent_id)",
			rec_name(r));
		goto out;
	}
	free(d->tree_name);
	d->tree_name = xstrdup(rec_name(r));
	while ((rc = rec_next(r, e)) > 0) {
		size_t len, plen;
		const char *s = field(r, c_id, &len), *p;
		struct ts_queue *q;
		long qi;
		if (!len) {
			err_set(e, DYN_EDATA, "%s:%zu: column \"id\": empty queue id", rec_name(r),
				rec_line(r));
			goto out;
		}
		if (text_field(r, c_id, s, len, e) < 0)
			goto out;
		qi = find_n(d, s, len);
		if (qi >= 0) {
			struct strbuf sb = STRBUF_INIT;
			quote_field(&sb, s, len);
			err_set(e, DYN_EDATA, "%s:%zu: column \"id\": duplicate queue id %s",
				rec_name(r), rec_line(r), sb.buf);
			strbuf_release(&sb);
			goto out;
		}
		qi = (long)add_queue(d, s, len);
		q = &d->q[qi];
		q->in_tree = true;
		ALLOC_GROW(parent, d->nq, nalloc);
		lines = xreallocarray(lines, nalloc, sizeof(*lines));
		lines[qi] = rec_line(r);
		parent[qi] = NULL;
		s = field(r, c_name, &len);
		if (text_field(r, c_name, s, len, e) < 0)
			goto out;
		q->name = xstrndup(s, len);
		s = field(r, c_level, &len);
		if (len) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_add(&sb, s, len);
			if (parse_long(sb.buf, &q->level) < 0 || q->level < 0) {
				strbuf_reset(&sb);
				quote_field(&sb, s, len);
				err_set(e, DYN_EDATA,
					"%s:%zu: column \"level\": expected a whole number, got %s",
					rec_name(r), rec_line(r), sb.buf);
				strbuf_release(&sb);
				goto out;
			}
			strbuf_release(&sb);
		}
		p = field(r, c_parent, &plen);
		/* Roots have an empty parent_id; "null" and "None" (as JSON and pandas dumps
		 * write them) mean the same. Anything else must name a queue. */
		if (plen && !(plen == 4 && !memcmp(p, "null", 4)) &&
		    !(plen == 4 && !memcmp(p, "None", 4)))
			parent[qi] = xstrndup(p, plen);
	}
	if (rc < 0)
		goto out;
	for (i = first_new; i < d->nq; i++) {
		long pi;
		if (!parent[i])
			continue;
		pi = ts_data_find(d, parent[i]);
		if (pi < 0) {
			tree_error(d, lines, i, e,
				   "parent \"%s\" of queue \"%s\" is not in the file", parent[i],
				   d->q[i].id);
			goto out;
		}
		d->q[i].parent = pi;
	}
	/* Cycle check: walk up from each queue, marking the path (1) and known-good (2) nodes. */
	state = xcalloc(d->nq ? d->nq : 1, 1);
	for (i = 0; i < d->nq; i++) {
		long p = (long)i;
		while (p >= 0 && !state[p]) {
			state[p] = 1;
			p = d->q[p].parent;
		}
		if (p >= 0 && state[p] == 1) {
			struct strbuf path_sb = STRBUF_INIT;
			long c = p;
			do {
				strbuf_addf(&path_sb, "%s -> ", d->q[c].id);
				c = d->q[c].parent;
			} while (c != p);
			strbuf_adds(&path_sb, d->q[p].id);
			tree_error(d, lines, (size_t)p, e, "queue \"%s\" is in a parent cycle (%s)",
				   d->q[p].id, path_sb.buf);
			strbuf_release(&path_sb);
			goto out;
		}
		for (p = (long)i; p >= 0 && state[p] == 1; p = d->q[p].parent)
			state[p] = 2;
	}
	tree_shape(d);
	d->has_tree = true;
	ret = 0;
out:
	if (parent)
		for (i = first_new; i < d->nq; i++)
			free(parent[i]);
	free(parent);
	free(lines);
	free(state);
	rec_free(&r);
	return ret;
}

/* ---- ticket rows ---- */

/* Makes q's array cover day. */
static int cover_day(struct ts_queue *q, long day, struct err *e, const struct rec_reader *r)
{
	long lo, hi, nbase;
	size_t ncap;
	double *nv;
	unsigned char *ns;
	if (q->cap && day >= q->base && day < q->base + (long)q->cap)
		return 0;
	lo = q->cap ? (day < q->base ? day : q->base) : day;
	hi = q->cap ? (day >= q->base + (long)q->cap ? day : q->base + (long)q->cap - 1) : day;
	if (hi - lo >= TS_MAX_SPAN)
		return err_set(e, DYN_EDATA, "%s:%zu: queue \"%s\": dates span more than %ld days",
			       rec_name(r), rec_line(r), q->id, TS_MAX_SPAN);
	/* Room to grow in the direction the data goes, so that appending is amortized O(1). */
	ncap = (size_t)(hi - lo + 1) + (size_t)(hi - lo + 1) / 2 + 64;
	nbase = q->cap && day < q->base ? hi - (long)ncap + 1 : lo;
	nv = xcalloc(ncap, sizeof(*nv));
	ns = xcalloc(ncap, 1);
	if (q->cap) {
		memcpy(nv + (q->base - nbase), q->val, q->cap * sizeof(*nv));
		memcpy(ns + (q->base - nbase), q->seen, q->cap);
	}
	free(q->val);
	free(q->seen);
	q->val = nv;
	q->seen = ns;
	q->base = nbase;
	q->cap = ncap;
	return 0;
}

static void issue(struct ts_issues *is, enum ts_issue kind, const struct err *e)
{
	if (!is->count[kind]++)
		memcpy(is->first[kind], e->msg, sizeof(is->first[kind]));
}

int ts_data_load_tickets(struct ts_data *d, const char *path, const struct ts_load_opts *o,
			 struct err *e)
{
	struct rec_reader *r = NULL;
	const char *cn_id = o->id_col ? o->id_col : "queueId";
	const char *cn_date = o->date_col ? o->date_col : "date";
	const char *cn_val = o->value_col ? o->value_col : "new_tickets";
	long c_id, c_date, c_val, qi = -1;
	struct strbuf sb = STRBUF_INIT;
	int ret = -1, rc;

	if (rec_open(&r, path, &o->rec, e) < 0)
		goto out;
	c_id = rec_colindex(r, cn_id);
	c_date = rec_colindex(r, cn_date);
	c_val = rec_colindex(r, cn_val);
	if (c_id < 0 || c_date < 0 || c_val < 0) {
		const char *miss = c_id < 0 ? cn_id : c_date < 0 ? cn_date : cn_val;
		strbuf_reset(&sb);
		for (size_t i = 0; i < rec_ncols(r); i++)
			strbuf_addf(&sb, "%s%s", i ? "," : "", rec_colname(r, i));
		err_set(e, DYN_EDATA, "%s: no column \"%s\" (columns: %s)", rec_name(r), miss,
			sb.buf);
		goto out;
	}
	while ((rc = rec_next(r, e)) > 0) {
		size_t ilen, dlen, vlen;
		const char *sid = field(r, c_id, &ilen), *sd = field(r, c_date, &dlen);
		const char *sv = field(r, c_val, &vlen);
		int kind = -1; /* enum ts_issue of a bad row */
		struct ts_queue *q;
		long day;
		double v;
		size_t at;

		d->rows++;
		/* Rows come grouped by queue in practice: try the last queue before hashing. */
		if (qi < 0 || !id_equal(d->q[qi].id, sid, ilen)) {
			qi = find_n(d, sid, ilen);
			if (qi < 0) {
				if (!ilen) {
					err_set(e, DYN_EDATA,
						"%s:%zu: column \"%s\": empty queue id",
						rec_name(r), rec_line(r), cn_id);
					kind = TS_UNKNOWN_QUEUE;
				} else if (text_field(r, c_id, sid, ilen, e) < 0) {
					kind = TS_UNKNOWN_QUEUE;
				} else if (d->has_tree) {
					strbuf_reset(&sb);
					quote_field(&sb, sid, ilen);
					err_set(e, DYN_EDATA,
						"%s:%zu: column \"%s\": queue %s is not in %s",
						rec_name(r), rec_line(r), cn_id, sb.buf,
						d->tree_name);
					kind = TS_UNKNOWN_QUEUE;
				} else {
					qi = (long)add_queue(d, sid, ilen);
				}
			}
		}
		if (kind < 0 && ts_date_parse(sd, dlen, &day) < 0) {
			strbuf_reset(&sb);
			quote_field(&sb, sd, dlen);
			err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": expected YYYY-MM-DD, got %s",
				rec_name(r), rec_line(r), cn_date, sb.buf);
			kind = TS_BAD_DATE;
		}
		if (kind < 0) {
			/* Load is often hours, cost or volume: any finite number; a negative or
			 * fractional one is only a problem where counts are expected (--check). */
			if (parse_double(sv, vlen, &v, false) < 0 || !(fabs(v) <= TS_MAX_VALUE)) {
				strbuf_reset(&sb);
				quote_field(&sb, sv, vlen);
				err_set(e, DYN_EDATA,
					"%s:%zu: column \"%s\": expected a number (at most 1e15 in "
					"magnitude), got %s",
					rec_name(r), rec_line(r), cn_val, sb.buf);
				kind = TS_BAD_VALUE;
			} else if (o->lenient && v < 0) {
				strbuf_reset(&sb);
				quote_field(&sb, sv, vlen);
				err_set(e, DYN_EDATA,
					"%s:%zu: column \"%s\": expected a count >= 0, got %s",
					rec_name(r), rec_line(r), cn_val, sb.buf);
				kind = TS_NEGATIVE;
			} else if (o->lenient && v != floor(v)) {
				strbuf_reset(&sb);
				quote_field(&sb, sv, vlen);
				err_set(e, DYN_EDATA,
					"%s:%zu: column \"%s\": expected a whole count, got %s",
					rec_name(r), rec_line(r), cn_val, sb.buf);
				kind = TS_NON_INTEGER;
			}
			if (kind < 0 || kind == TS_NEGATIVE || kind == TS_NON_INTEGER) {
				d->negative |= v < 0;
				d->fractional |= v != floor(v);
			}
		}
		if (kind >= 0) {
			if (!o->lenient)
				goto out;
			issue(&d->issues, (enum ts_issue)kind, e);
			err_clear(e);
			/* A negative or fractional count is still a count: --check reports it
			 * and keeps the row; an unreadable one is dropped. */
			if (kind != TS_NEGATIVE && kind != TS_NON_INTEGER)
				continue;
		}
		q = &d->q[qi];
		if (cover_day(q, day, e, r) < 0)
			goto out;
		at = (size_t)(day - q->base);
		if (q->seen[at]) {
			if (o->dups == TS_DUP_ERROR) {
				char ds[TS_DATE_LEN];
				ts_date_format(day, ds);
				err_set(e, DYN_EDATA,
					"%s:%zu: duplicate row for queue \"%s\" on %s (use "
					"--duplicates "
					"sum to add them up)",
					rec_name(r), rec_line(r), q->id, ds);
				if (!o->lenient)
					goto out;
				issue(&d->issues, TS_DUPLICATE, e);
				err_clear(e);
			}
			if (q->seen[at] < 255)
				q->seen[at]++;
		} else {
			q->seen[at] = 1;
		}
		q->val[at] += v;
		q->rows++;
		if (q->first > q->last) {
			q->first = q->last = day;
		} else {
			if (day < q->first)
				q->first = day;
			if (day > q->last)
				q->last = day;
		}
		if (d->min_day > d->max_day) {
			d->min_day = d->max_day = day;
		} else {
			if (day < d->min_day)
				d->min_day = day;
			if (day > d->max_day)
				d->max_day = day;
		}
	}
	if (rc < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&sb);
	rec_free(&r);
	return ret;
}

int ts_query_parse(const struct ts_query_args *a, struct ts_load_opts *lo, enum ts_missing *missing,
		   long *from, long *to, struct err *e)
{
	memset(lo, 0, sizeof(*lo));
	lo->id_col = a->id_col;
	lo->date_col = a->date_col;
	lo->value_col = a->value_col;
	*missing = TS_MISSING_ZERO;
	if (a->missing && !strcmp(a->missing, "skip"))
		*missing = TS_MISSING_SKIP;
	else if (a->missing && strcmp(a->missing, "zero"))
		return err_set(e, DYN_EUSAGE, "option --missing: expected zero or skip, got \"%s\"",
			       a->missing);
	lo->dups = TS_DUP_ERROR;
	if (a->dups && !strcmp(a->dups, "sum"))
		lo->dups = TS_DUP_SUM;
	else if (a->dups && strcmp(a->dups, "error"))
		return err_set(e, DYN_EUSAGE,
			       "option --duplicates: expected error or sum, got \"%s\"", a->dups);
	if (a->input_format) {
		if (!strcmp(a->input_format, "csv"))
			lo->rec.format = REC_CSV;
		else if (!strcmp(a->input_format, "json"))
			lo->rec.format = REC_JSON;
		else if (!strcmp(a->input_format, "ndjson"))
			lo->rec.format = REC_NDJSON;
		else
			return err_set(
			    e, DYN_EUSAGE,
			    "option --input-format: expected csv, json or ndjson, got \"%s\"",
			    a->input_format);
	}
	if (a->delimiter && rec_parse_delimiter(a->delimiter, &lo->rec.delimiter, e) < 0)
		return -1;
	*from = LONG_MIN / 2;
	*to = LONG_MAX / 2;
	if (a->from && ts_date_parse(a->from, strlen(a->from), from) < 0)
		return err_set(e, DYN_EUSAGE, "option --from: expected YYYY-MM-DD, got \"%s\"",
			       a->from);
	if (a->to && ts_date_parse(a->to, strlen(a->to), to) < 0)
		return err_set(e, DYN_EUSAGE, "option --to: expected YYYY-MM-DD, got \"%s\"",
			       a->to);
	if (*from > *to)
		return err_set(e, DYN_EUSAGE, "option --from: %s is after --to %s", a->from, a->to);
	return 0;
}

int ts_data_load(struct ts_data *d, const char *queues, char *const *paths, size_t npaths,
		 const struct ts_load_opts *o, struct err *e)
{
	if (queues && ts_data_load_queues(d, queues, &o->rec, e) < 0)
		return -1;
	if (!npaths)
		return ts_data_load_tickets(d, "-", o, e);
	for (size_t i = 0; i < npaths; i++)
		if (ts_data_load_tickets(d, paths[i], o, e) < 0)
			return -1;
	return 0;
}

int ts_data_select(const struct ts_data *d, const char *const *ids, size_t nids, size_t **out,
		   size_t *n, struct err *e)
{
	size_t k = 0;
	unsigned char *taken;
	if (!nids) {
		*out = ts_data_sorted(d);
		*n = d->nq;
		return 0;
	}
	*out = xmallocarray(nids, sizeof(**out));
	taken = xcalloc(d->nq ? d->nq : 1, 1);
	for (size_t i = 0; i < nids; i++) {
		long qi = ts_data_find(d, ids[i]);
		if (qi < 0) {
			free(taken);
			FREE_AND_NULL(*out);
			return err_set(e, DYN_ENOTFOUND, "queue \"%s\": not found%s%s", ids[i],
				       d->has_tree ? " in " : "", d->has_tree ? d->tree_name : "");
		}
		if (!taken[qi]) {
			taken[qi] = 1;
			(*out)[k++] = (size_t)qi;
		}
	}
	free(taken);
	*n = k;
	return 0;
}

static int id_cmp(const char *a, const char *b)
{
	long x, y;
	if (parse_long(a, &x) == 0 && parse_long(b, &y) == 0 && x != y)
		return x < y ? -1 : 1;
	return strcmp(a, b);
}

static const struct ts_data *sort_data;

static int cmp_index(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	return id_cmp(sort_data->q[i].id, sort_data->q[j].id);
}

size_t *ts_data_sorted(const struct ts_data *d)
{
	size_t *ix = xmallocarray(d->nq ? d->nq : 1, sizeof(*ix));
	for (size_t i = 0; i < d->nq; i++)
		ix[i] = i;
	/* qsort has no context argument in C11; the sort is not reentrant, which is fine for
	 * the commands that call it once from the main thread. */
	sort_data = d;
	qsort(ix, d->nq, sizeof(*ix), cmp_index);
	sort_data = NULL;
	return ix;
}

/* ---- series ---- */

int ts_gran_parse(const char *s, enum ts_gran *g)
{
	/* daily, weekly, monthly: the ticket service's names */
	if (!strcmp(s, "day") || !strcmp(s, "daily"))
		*g = TS_DAY;
	else if (!strcmp(s, "week") || !strcmp(s, "weekly"))
		*g = TS_WEEK;
	else if (!strcmp(s, "month") || !strcmp(s, "monthly"))
		*g = TS_MONTH;
	else
		return -1;
	return 0;
}

long ts_gran_next(enum ts_gran g, long day)
{
	switch (g) {
	case TS_WEEK:
		return ts_week_start(day) + 7;
	case TS_MONTH:
		return ts_next_month(day);
	default:
		return day + 1;
	}
}

static long gran_start(enum ts_gran g, long day)
{
	switch (g) {
	case TS_WEEK:
		return ts_week_start(day);
	case TS_MONTH:
		return ts_month_start(day);
	default:
		return day;
	}
}

void ts_series_init(struct ts_series *s)
{
	memset(s, 0, sizeof(*s));
}

void ts_series_release(struct ts_series *s)
{
	free(s->v);
	free(s->start);
	free(s->days);
	ts_series_init(s);
}

static void series_alloc(struct ts_series *s, size_t n)
{
	ts_series_release(s);
	s->n = n;
	s->v = xcalloc(n ? n : 1, sizeof(*s->v));
	s->start = xcalloc(n ? n : 1, sizeof(*s->start));
	s->days = xcalloc(n ? n : 1, sizeof(*s->days));
}

void ts_series_daily(const struct ts_data *d, size_t qi, long from, long to, bool rollup,
		     enum ts_missing missing, struct ts_series *s)
{
	size_t *stack = NULL, nstack = 0, astack = 0, *members = NULL, nm = 0, am = 0, i;
	long lo = 1, hi = 0;
	unsigned char *has;

	/* The queue and, with rollup, its whole subtree. */
	ALLOC_GROW(stack, 1, astack);
	stack[nstack++] = qi;
	while (nstack) {
		size_t k = stack[--nstack];
		const struct ts_queue *q = &d->q[k];
		ALLOC_GROW(members, nm + 1, am);
		members[nm++] = k;
		if (q->first <= q->last) {
			if (lo > hi) {
				lo = q->first;
				hi = q->last;
			} else {
				lo = q->first < lo ? q->first : lo;
				hi = q->last > hi ? q->last : hi;
			}
		}
		if (!rollup)
			break;
		for (i = 0; i < q->nchild; i++) {
			ALLOC_GROW(stack, nstack + 1, astack);
			stack[nstack++] = q->child[i];
		}
	}
	if (lo < from)
		lo = from;
	if (hi > to)
		hi = to;
	series_alloc(s, lo <= hi ? (size_t)(hi - lo + 1) : 0);
	has = xcalloc(s->n ? s->n : 1, 1);
	for (i = 0; i < nm; i++) {
		const struct ts_queue *q = &d->q[members[i]];
		long a = q->first > lo ? q->first : lo, b = q->last < hi ? q->last : hi;
		for (long day = a; day <= b; day++) {
			size_t at = (size_t)(day - q->base);
			if (q->seen[at]) {
				s->v[day - lo] += q->val[at];
				has[day - lo] = 1;
			}
		}
	}
	for (i = 0; i < s->n; i++) {
		s->start[i] = lo + (long)i;
		s->days[i] = 1;
		if (!has[i] && missing == TS_MISSING_SKIP)
			s->v[i] = NAN;
	}
	free(has);
	free(stack);
	free(members);
}

void ts_series_bucket(const struct ts_series *daily, enum ts_gran g, struct ts_series *out)
{
	size_t n = 0, i, j;
	unsigned char *any;
	if (g == TS_DAY || !daily->n) {
		series_alloc(out, daily->n);
		for (i = 0; i < daily->n; i++) {
			out->v[i] = daily->v[i];
			out->start[i] = daily->start[i];
			out->days[i] = daily->days[i];
		}
		return;
	}
	/* Daily series are contiguous: count the periods between the first and last day. */
	for (long p = gran_start(g, daily->start[0]); p <= daily->start[daily->n - 1];
	     p = ts_gran_next(g, p))
		n++;
	series_alloc(out, n);
	any = xcalloc(n, 1);
	j = 0;
	out->start[0] = gran_start(g, daily->start[0]);
	for (i = 0; i < daily->n; i++) {
		long p = gran_start(g, daily->start[i]);
		if (p != out->start[j])
			out->start[++j] = p;
		out->days[j]++;
		if (!isnan(daily->v[i])) {
			out->v[j] += daily->v[i];
			any[j] = 1;
		}
	}
	/* A period with no data at all is missing, not zero. */
	for (j = 0; j < n; j++)
		if (!any[j])
			out->v[j] = NAN;
	free(any);
}

bool ts_is_stamp(const struct ts_stamps *st, long first, long day)
{
	switch (st->gran) {
	case TS_WEEK:
		return (day - first) % 7 == 0;
	case TS_MONTH:
		return st->month_end ? ts_month_start(day + 1) == day + 1
				     : ts_month_start(day) == day;
	default:
		return true;
	}
}

long ts_stamp_next(const struct ts_stamps *st, long day)
{
	switch (st->gran) {
	case TS_WEEK:
		return day + 7;
	case TS_MONTH:
		return st->month_end ? ts_next_month(day + 1) - 1 : ts_next_month(day);
	default:
		return day + 1;
	}
}

/* The weekdays of queue k's rows and its descendants'. */
static unsigned char subtree_mask(const struct ts_data *d, size_t k, const unsigned char *masks)
{
	unsigned char m = masks[k];
	for (size_t c = 0; c < d->q[k].nchild; c++)
		m |= subtree_mask(d, d->q[k].child[c], masks);
	return m;
}

int ts_data_stamps(const struct ts_data *d, int want, bool rollup, struct ts_stamps *st,
		   struct err *e)
{
	/* what all the dates share, and the first two that break each pattern */
	long first = LONG_MAX, off_week = LONG_MIN, off_first = LONG_MIN, off_last = LONG_MIN;
	long week_ref = LONG_MIN;
	int ret = 0;
	size_t distinct = 0, months = 0;
	long last_month = LONG_MIN;
	unsigned char *any;
	long lo = d->min_day, hi = d->max_day;

	memset(st, 0, sizeof(*st));
	if (lo > hi) {
		st->gran = want > 0 ? (enum ts_gran)want : TS_DAY;
		return 0;
	}
	if (hi - lo > 400000)
		hi = lo + 400000; /* dates are bounded at load; this only guards the array */
	any = xcalloc((size_t)(hi - lo + 1), 1);
	/* weekly rows: each series on one weekday of its own (one site's weeks start on Sundays,
	 * another's on Mondays); masks[k]: the weekdays queue k's rows fall on */
	unsigned char *masks = xcalloc(d->nq ? d->nq : 1, 1), all = 0;
	for (size_t k = 0; k < d->nq; k++) {
		const struct ts_queue *q = &d->q[k];
		for (long day = q->first; day <= q->last; day++)
			if (day >= lo && day <= hi && q->seen[day - q->base]) {
				any[day - lo] = 1;
				if (masks[k] && !(masks[k] & (1u << ts_weekday(day))) &&
				    off_week == LONG_MIN) {
					off_week = day;
					week_ref = q->first;
				}
				masks[k] |= (unsigned char)(1u << ts_weekday(day));
			}
		all |= masks[k];
	}
	for (long day = lo; day <= hi; day++) {
		if (!any[day - lo])
			continue;
		if (first == LONG_MAX)
			first = day;
		distinct++;
		if (ts_month_start(day) != last_month) {
			last_month = ts_month_start(day);
			months++;
		}
		if (off_first == LONG_MIN && ts_month_start(day) != day)
			off_first = day;
		if (off_last == LONG_MIN && ts_month_start(day + 1) != day + 1)
			off_last = day;
	}
	free(any);
	/* a month's rows on the 1st are rarely all on one weekday, but two of them can be */
	bool by_month = want < 0 && months >= 2 && months == distinct &&
			(off_first == LONG_MIN || off_last == LONG_MIN);
	bool by_week = want < 0 && distinct >= 2 && off_week == LONG_MIN;
	if (want == TS_DAY) {
		st->gran = TS_DAY;
	} else if (want == TS_MONTH || by_month) {
		if (off_first != LONG_MIN && off_last != LONG_MIN) {
			char a[TS_DATE_LEN];
			ts_date_format(off_first, a);
			ret =
			    err_set(e, DYN_EDATA,
				    "--input-granularity month: a row on %s, neither the first nor "
				    "the last day of its month",
				    a);
			goto out;
		}
		if (months != distinct) {
			ret = err_set(e, DYN_EDATA,
				      "--input-granularity month: %zu dates in %zu months, not one "
				      "row a month",
				      distinct, months);
			goto out;
		}
		st->gran = TS_MONTH;
		st->month_end = off_first != LONG_MIN;
	} else if (want == TS_WEEK || by_week) {
		if (off_week != LONG_MIN) {
			char a[TS_DATE_LEN], b[TS_DATE_LEN];
			ts_date_format(week_ref, a);
			ts_date_format(off_week, b);
			ret =
			    err_set(e, DYN_EDATA,
				    "--input-granularity week: rows on %s (a %s) and %s (a %s) are "
				    "not one row a week",
				    a, ts_weekday_name(ts_weekday(week_ref)), b,
				    ts_weekday_name(ts_weekday(off_week)));
			goto out;
		}
		/* with --rollup a parent's series adds up its children's: their rows must share a
		 * weekday */
		for (size_t k = 0; rollup && k < d->nq; k++) {
			unsigned char sub = subtree_mask(d, k, masks);
			if (sub & (sub - 1)) {
				ret =
				    err_set(e, DYN_EDATA,
					    "--rollup: the weekly rows under queue \"%s\" fall on "
					    "different weekdays: their weeks do not add up",
					    d->q[k].id);
				goto out;
			}
		}
		st->gran = TS_WEEK;
		/* one weekday for all the series, or -1: each its own */
		st->weekday = all && !(all & (all - 1)) ? ts_weekday(first) : -1;
	} else {
		st->gran = TS_DAY;
	}
out:
	free(masks);
	return ret;
}
