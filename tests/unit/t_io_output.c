/* Unit tests of lib/io/output: every row format with quoting and escaping, documents, and
 * detection of write errors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>

#include "io/output.h"
#include "base/base.h"
#include "check.h"

struct capture {
	FILE *fp;
	char *buf;
	size_t len;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->buf, &c->len);
}

/* Closes the stream and compares what was written. */
static void cap_check(struct capture *c, const char *expect, const char *name)
{
	fclose(c->fp);
	check(c->buf && !strcmp(c->buf, expect), "%s", name);
	if (!c->buf || strcmp(c->buf, expect))
		printf("# got:\n%s# expected:\n%s", c->buf ? c->buf : "(null)", expect);
	free(c->buf);
}

static void test_rows(void)
{
	static const char *const cols3[] = {"id", "text, quoted", "p"};
	static const char *const kv[] = {"k", "v"};
	static const char *const lp[] = {"label", "probability"};
	struct capture c;
	struct out_writer *w;
	struct err e = ERR_INIT;

	cap_open(&c);
	w = out_new(c.fp, OUT_CSV, 3, cols3, NULL);
	out_int(w, 1);
	out_str(w, "a\"b");
	out_num(w, 0.5);
	out_int(w, 2);
	out_str(w, "x\ny");
	out_null(w);
	out_int(w, 3);
	out_str(w, "plain");
	out_num(w, 1e-7);
	check(out_finish(&w, &e) == 0 && !w, "csv finishes");
	cap_check(&c, "id,\"text, quoted\",p\n1,\"a\"\"b\",0.5\n2,\"x\ny\",\n3,plain,1e-07\n",
		  "csv: header, RFC 4180 quoting, nulls empty");

	cap_open(&c);
	w = out_new(c.fp, OUT_CSV, 2, kv, NULL);
	out_finish(&w, &e);
	cap_check(&c, "k,v\n", "csv: header even without rows");

	cap_open(&c);
	w = out_new(c.fp, OUT_NDJSON, 2, kv, NULL);
	out_str(w, "q\"\\\n\x01\t\xc3\xa9/");
	out_num(w, 0.1);
	out_null(w);
	out_num(w, NAN);
	out_str(w, "");
	out_num(w, 0.30000000000000004);
	check(out_finish(&w, &e) == 0, "ndjson finishes");
	cap_check(&c,
		  "{\"k\":\"q\\\"\\\\\\n\\u0001\\t\xc3\xa9/\",\"v\":0.1}\n{\"k\":null,\"v\":null}\n"
		  "{\"k\":\"\",\"v\":0.30000000000000004}\n",
		  "ndjson: escaping, shortest round-trip numbers, null and NaN as null");

	cap_open(&c);
	w = out_new(c.fp, OUT_JSON, 2, lp, "predictions");
	out_str(w, "a");
	out_num(w, 0.25);
	out_str(w, "b");
	out_int(w, 1);
	out_finish(&w, &e);
	cap_check(&c,
		  "{\"predictions\": [\n  {\"label\": \"a\", \"probability\": 0.25},\n"
		  "  {\"label\": \"b\", \"probability\": 1}\n]}\n",
		  "json: services' response shape, one row per line");

	cap_open(&c);
	w = out_new(c.fp, OUT_JSON, 2, kv, NULL);
	out_finish(&w, &e);
	cap_check(&c, "[]\n", "json: empty array");

	cap_open(&c);
	w = out_new(c.fp, OUT_JSON, 2, kv, "predictions");
	out_finish(&w, &e);
	cap_check(&c, "{\"predictions\": []}\n", "json: empty services' response");

	cap_open(&c);
	w = out_new(c.fp, OUT_JSON, 2, kv, NULL);
	out_str(w, "x");
	out_num(w, -2);
	out_finish(&w, &e);
	cap_check(&c, "[\n  {\"k\": \"x\", \"v\": -2}\n]\n", "json: array of objects");
}

static void test_table(void)
{
	static const char *const cols[] = {"id", "name", "score"};
	struct capture c;
	struct out_writer *w;
	struct err e = ERR_INIT;
	size_t lines = 0;

	cap_open(&c);
	w = out_new(c.fp, OUT_TABLE, 3, cols, NULL);
	out_int(w, 1);
	out_str(w, "alpha");
	out_num(w, 0.5);
	out_int(w, 22);
	out_str(w, "b\tc");
	out_num(w, 10.25);
	out_int(w, 3);
	out_null(w);
	out_null(w);
	check(out_finish(&w, &e) == 0, "table finishes");
	cap_check(&c,
		  "id  name   score\n"
		  "--  -----  -----\n"
		  " 1  alpha    0.5\n"
		  "22  b c    10.25\n"
		  " 3\n",
		  "table: aligned, numbers right, header underlined, no trailing blanks");

	cap_open(&c);
	w = out_new(c.fp, OUT_TABLE, 1, cols, NULL);
	for (int i = 0; i < 10005; i++)
		out_int(w, i);
	out_finish(&w, &e);
	fclose(c.fp);
	for (size_t i = 0; i < c.len; i++)
		lines += c.buf[i] == '\n';
	check(lines == 10007, "table: flushed in batches, all rows printed (%zu lines)", lines);
	free(c.buf);
}

static void test_linebuffered(void)
{
	static const char *const cols[] = {"a"};
	struct capture c;
	struct out_writer *w;
	struct err e = ERR_INIT;
	cap_open(&c);
	w = out_new(c.fp, OUT_NDJSON, 1, cols, NULL);
	out_set_linebuffered(w, true);
	out_int(w, 7);
	check(c.len == 8 && !strcmp(c.buf, "{\"a\":7}\n"), "line buffered: the row is flushed");
	out_finish(&w, &e);
	fclose(c.fp);
	free(c.buf);
}

static void test_doc(void)
{
	const char *json =
	    "{\"id\": \"m1\", \"params\": {\"C\": 1, \"kernel\": \"rbf\"}, "
	    "\"classes\": [\"a\", \"b\"], \"metrics\": [{\"k\": \"acc\", \"v\": 0.9}, "
	    "{\"k\": \"f1\", \"v\": 0.8}], \"empty\": [], \"m\": [[1, 2], [3, 4]], "
	    "\"ok\": true, \"none\": null}";
	cJSON *doc = cJSON_Parse(json);
	struct capture c;
	struct err e = ERR_INIT;

	cap_open(&c);
	check(out_doc(c.fp, OUT_TABLE, doc, &e) == 0, "doc as text");
	cap_check(&c,
		  "id: m1\n"
		  "params:\n"
		  "  C: 1\n"
		  "  kernel: rbf\n"
		  "classes: a, b\n"
		  "metrics:\n"
		  "  - k: acc\n"
		  "    v: 0.9\n"
		  "  - k: f1\n"
		  "    v: 0.8\n"
		  "empty: []\n"
		  "m:\n"
		  "  - 1, 2\n"
		  "  - 3, 4\n"
		  "ok: true\n"
		  "none: null\n",
		  "doc: key: value text for people");

	cap_open(&c);
	out_doc(c.fp, OUT_CSV, doc, &e);
	fclose(c.fp);
	check(c.buf && !strncmp(c.buf, "id: m1\n", 7), "doc: csv renders as text too");
	free(c.buf);

	cap_open(&c);
	out_doc(c.fp, OUT_NDJSON, doc, &e);
	fclose(c.fp);
	check(c.buf && c.len > 2 && c.buf[c.len - 1] == '\n' && !strchr(c.buf, '\n')[1] &&
		  !strncmp(c.buf, "{\"id\":\"m1\",\"params\":{\"C\":1,", 27),
	      "doc: ndjson on one line");
	free(c.buf);

	cap_open(&c);
	out_doc(c.fp, OUT_JSON, doc, &e);
	fclose(c.fp);
	{
		cJSON *back = c.buf ? cJSON_Parse(c.buf) : NULL;
		check(back && cJSON_Compare(back, doc, true) &&
			  strchr(c.buf, '\n') < c.buf + c.len - 1,
		      "doc: json pretty printed, reads back equal");
		cJSON_Delete(back);
	}
	free(c.buf);
	cJSON_Delete(doc);
}

static void test_write_errors(void)
{
	static const char *const cols[] = {"a", "b"};
	struct err e = ERR_INIT;
	struct out_writer *w;
	FILE *fp = fopen("/dev/full", "w");
	cJSON *doc = cJSON_Parse("{\"a\": 1}");
	if (!fp) {
		check(0, "cannot open /dev/full");
		return;
	}
	w = out_new(fp, OUT_CSV, 2, cols, NULL);
	for (int i = 0; i < 100; i++) {
		out_int(w, i);
		out_str(w, "x");
	}
	check(out_finish(&w, &e) == -1 && e.code == DYN_EDATA && !w, "csv to a full disk fails");
	check(!strcmp(e.msg, "output: No space left on device"), "write error message: %s", e.msg);
	clearerr(fp);
	err_clear(&e);
	w = out_new(fp, OUT_TABLE, 2, cols, NULL);
	out_int(w, 1);
	out_int(w, 2);
	check(out_finish(&w, &e) == -1, "table to a full disk fails: %s", e.msg);
	clearerr(fp);
	check(out_doc(fp, OUT_JSON, doc, &e) == -1, "document to a full disk fails: %s", e.msg);
	check(fclose(fp) != 0 || 1, "fp stays open for the caller");
	cJSON_Delete(doc);
	{
		enum out_format f;
		check(out_format_parse("table", &f) == 0 && f == OUT_TABLE &&
			  out_format_parse("csv", &f) == 0 && f == OUT_CSV &&
			  out_format_parse("json", &f) == 0 && f == OUT_JSON &&
			  out_format_parse("ndjson", &f) == 0 && f == OUT_NDJSON,
		      "out_format_parse: the four formats");
		check(out_format_parse("xml", &f) == -1 && out_format_parse("", &f) == -1 &&
			  out_format_parse("CSV", &f) == -1,
		      "out_format_parse: anything else");
	}
}

/* out_num writes exactly what strbuf_add_double writes (rec_field's text), only faster. */
static void test_num_text(void)
{
	static const char *const cols[] = {"v"};
	uint64_t s = 0x2545f4914f6cdd1dULL;
	size_t bad = 0, n = 20000;
	struct strbuf want = STRBUF_INIT;
	struct capture c;
	struct out_writer *w;
	struct err e = ERR_INIT;
	static const double special[] = {0.0,
					 -0.0,
					 1.0,
					 -1.0,
					 1e15,
					 999999999999999.0,
					 1e16,
					 -123456789.0,
					 0.1,
					 1e-300,
					 5e-324,
					 1.7976931348623157e308,
					 9007199254740993.0,
					 0.30000000000000004,
					 2.5};
	cap_open(&c);
	w = out_new(c.fp, OUT_CSV, 1, cols, NULL);
	strbuf_adds(&want, "v\n");
	for (size_t i = 0; i < n + ARRAY_SIZE(special); i++) {
		double v;
		if (i < ARRAY_SIZE(special)) {
			v = special[i];
		} else {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			switch (s % 4) {
			case 0:
				memcpy(&v, &s, sizeof(v));
				if (!isfinite(v))
					v = 1.5;
				break;
			case 1:
				v = (double)(s >> 11) * 0x1p-53;
				break;
			case 2:
				v = (double)((int64_t)s >> (s % 60));
				break;
			default:
				v = (double)(s % 100000) / 1000.0;
			}
		}
		out_num(w, v);
		strbuf_add_double(&want, v);
		strbuf_addch(&want, '\n');
	}
	out_finish(&w, &e);
	fclose(c.fp);
	if (!c.buf || strcmp(c.buf, want.buf))
		bad++;
	check(bad == 0, "out_num text equals strbuf_add_double on %zu doubles", n);
	free(c.buf);
	strbuf_release(&want);
}

int main(void)
{
	test_rows();
	test_table();
	test_linebuffered();
	test_doc();
	test_write_errors();
	test_num_text();
	return check_done();
}
