/* Unit tests of lib/io/records: CSV, JSON, NDJSON, compressed input, archives, errors, and
 * robustness against random and truncated input. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/numparse.h"
#include "io/records.h"
#include "base/base.h"
#include "check.h"
#include "fixture.h"

/* Reads all records of path into a text: "cols\nLINE: f|f|...\n" and "ERR: msg" on error.
 * Paths under fx_dir are shown relative to it. */
static char *dump_opts(const char *path, const struct rec_opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	struct rec_reader *r;
	struct err e = ERR_INIT;
	int k;
	if (rec_open(&r, path, o, &e) < 0) {
		strbuf_addf(&sb, "ERR: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < rec_ncols(r); i++)
		strbuf_addf(&sb, "%s%s", i ? "|" : "", rec_colname(r, i));
	strbuf_addch(&sb, '\n');
	while ((k = rec_next(r, &e)) == 1) {
		strbuf_addf(&sb, "%zu:", rec_line(r));
		for (size_t i = 0; i < rec_ncols(r); i++) {
			size_t len;
			const char *f = rec_field(r, i, &len);
			if (i)
				strbuf_addch(&sb, '|');
			if (f)
				strbuf_add(&sb, f, len);
			else
				strbuf_adds(&sb, "<null>");
		}
		strbuf_addch(&sb, '\n');
	}
	if (k < 0)
		strbuf_addf(&sb, "ERR: %s", e.msg);
	rec_free(&r);
out:
	/* Strip the temporary directory from messages. */
	{
		struct strbuf o2 = STRBUF_INIT;
		size_t tl = strlen(fx_dir);
		for (size_t i = 0; i < sb.len; i++) {
			if (!strncmp(sb.buf + i, fx_dir, tl) && sb.buf[i + tl] == '/') {
				i += tl;
				continue;
			}
			strbuf_addch(&o2, sb.buf[i]);
		}
		strbuf_release(&sb);
		return strbuf_detach(&o2, NULL);
	}
}

static char *dump(const char *path)
{
	return dump_opts(path, NULL);
}

#define check_dump(path, expect, name)                                                             \
	do {                                                                                       \
		char *got_ = dump(path);                                                           \
		check(!strcmp(got_, expect), "%s", name);                                          \
		if (strcmp(got_, expect))                                                          \
			printf("# got:\n%s\n# expected:\n%s\n", got_, expect);                     \
		free(got_);                                                                        \
	} while (0)

#define check_dump_str(fname, data, expect, name)                                                  \
	do {                                                                                       \
		char *p_ = fx_write_str(fname, data);                                              \
		check_dump(p_, expect, name);                                                      \
		free(p_);                                                                          \
	} while (0)

/* ---- CSV ---- */

static void test_csv(void)
{
	/* A name given twice would read the first column twice (issue 15, defect 1). */
	{
		char *p = fx_write_str("dup.csv", "a,a,y\n1,2,0\n");
		char *got = dump(p);
		check(strstr(got, "ERR: ") == got &&
			  strstr(got, "dup.csv:1: column \"a\" is both column 1 and column 2 "
				      "(names must differ)"),
		      "a duplicate column name is refused, naming both: %s", got);
		free(got);
		free(p);
	}
	check_dump_str("dupkey.ndjson", "{\"a\": 1, \"b\": 2, \"a\": 3}\n{\"a\": 4, \"b\": 5}\n",
		       "a|b\n1:1|2\n2:4|5\n", "a repeated JSON key is one column, its first value");
	/* 20,000 columns: found by name through the index (a scan per name was quadratic). */
	{
		struct strbuf sb = STRBUF_INIT;
		struct rec_reader *r = NULL;
		struct err e = ERR_INIT;
		bool all = true;
		for (int i = 0; i < 20000; i++)
			strbuf_addf(&sb, "%sc%d", i ? "," : "", i);
		strbuf_addch(&sb, '\n');
		char *p = fx_write_str("wide.csv", sb.buf);
		check(rec_open(&r, p, NULL, &e) == 0 && rec_ncols(r) == 20000, "wide header: %s",
		      e.msg);
		for (int i = 0; r && i < 20000; i += 7) {
			char name[16];
			snprintf(name, sizeof(name), "c%d", i);
			all &= rec_colindex(r, name) == i;
		}
		check(all && r && rec_colindex(r, "c20000") == -1,
		      "every column found by its name");
		rec_free(&r);
		strbuf_release(&sb);
		free(p);
	}
	check_dump_str(
	    "q.csv",
	    "\xef\xbb\xbfid,name,score\r\n1,\"Smith, J\",3.5\r\n2,\"multi\r\nline\",4\r\n"
	    "\r\n3,\"say \"\"hi\"\"\",5\r\n",
	    "id|name|score\n2:1|Smith, J|3.5\n3:2|multi\r\nline|4\n6:3|say \"hi\"|5\n",
	    "csv: BOM, quotes, embedded CRLF, blank line, doubled quotes, line numbers");
	check_dump_str("sp.csv", "a , b\n  x y  ,\"  z \"\n,\n", "a|b\n2:x y|  z \n3:|\n",
		       "csv: blanks around unquoted fields trimmed");
	check_dump_str("last.csv", "a,b\n1,2", "a|b\n2:1|2\n", "csv: last line without newline");
	check_dump_str("lastq.csv", "a,b\n1,\"2\"", "a|b\n2:1|2\n",
		       "csv: quoted last field without newline");
	check_dump_str("ragged.csv", "a,b\n1,2\n3\n4,5\n",
		       "a|b\n2:1|2\nERR: ragged.csv:3: expected 2 fields, got 1",
		       "csv: ragged row named by file and line");
	check_dump_str("ragged2.csv", "a,b\n\"1\n\",2,3\n",
		       "a|b\nERR: ragged2.csv:2: expected 2 fields, got 3",
		       "csv: ragged quoted row");
	check_dump_str("empty.csv", "", "ERR: empty.csv: empty input", "csv: empty input");
	check_dump_str("blank.csv", " \n\r\n\n", "ERR: blank.csv: empty input",
		       "csv: blank input is empty");
	check_dump_str("bom.csv", "\xef\xbb\xbf", "ERR: bom.csv: empty input", "csv: only a BOM");
	check_dump_str("hdr.csv", "a,b,c\n", "a|b|c\n", "csv: header only gives no rows");
	check_dump_str("unterm.csv", "a,b\n1,2\n3,\"x\ny\n",
		       "a|b\n2:1|2\nERR: unterm.csv:3: unterminated quoted field",
		       "csv: unterminated quote");
	check_dump_str("t2.tsv", "a\tb\n\t\n \r\n1\t2\n", "a|b\n2:|\n4:1|2\n",
		       "tsv: a tab alone is a row of empty fields, blank lines skipped");
	check_dump_str("junk.csv", "a,b\n1,\"x\"y\n2,3\n",
		       "a|b\nERR: junk.csv:2: unterminated quoted field",
		       "csv: text after a closing quote is reported");
	check_dump_str("inch.csv", "a,b\n12\" pipe,3\n", "a|b\n2:12\" pipe|3\n",
		       "csv: a quote inside an unquoted field is kept");
	check_dump_str("t.tsv", "a\tb c\n1\t x \n", "a|b c\n2:1|x\n", "tsv by extension");
	{
		struct rec_opts o = {REC_CSV, ';'};
		char *p = fx_write_str("semi.txt", "a;b\n1,5;\"x;y\"\n");
		char *got = dump_opts(p, &o);
		check(!strcmp(got, "a|b\n2:1,5|x;y\n"), "csv: --delimiter ';'");
		free(got);
		free(p);
	}
	check_dump_str("noext", "x,y\n1,2\n", "x|y\n2:1|2\n", "csv sniffed without extension");
	check_dump_str("u16.csv",
		       "\xff\xfe"
		       "a\x00",
		       "ERR: u16.csv: UTF-16 text is not supported (convert it to UTF-8)",
		       "csv: UTF-16 is refused");
	check_dump_str("nul.csv", "a,b\n1,x\0y\n", "a|b\n2:1|x\n", "csv: NUL byte in a field");
}

/* Many rows across buffer boundaries, with quoted multi-line fields now and then. */
static void test_csv_big(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct rec_reader *r;
	struct err e = ERR_INIT;
	size_t line = 2, rows = 0, bad = 0;
	char *p;
	int k;
	strbuf_adds(&sb, "n,text,v\n");
	for (size_t i = 0; i < 60000; i++) {
		if (i % 997 == 0)
			strbuf_addf(&sb, "%zu,\"a\nb,\"\"c\"\"\r\nd\",%zu.5\n", i, i);
		else
			strbuf_addf(&sb, "%zu,some text here %zu,%zu.25\r\n", i, i * 7, i);
	}
	p = fx_write("big.csv", sb.buf, sb.len);
	if (rec_open(&r, p, NULL, &e) < 0) {
		check(0, "big csv opens: %s", e.msg);
		return;
	}
	while ((k = rec_next(r, &e)) == 1) {
		double n, v;
		if (rec_number(r, 0, &n, &e) < 0 || rec_number(r, 2, &v, &e) < 0 ||
		    n != (double)rows || v != (double)rows + (rows % 997 ? 0.25 : 0.5) ||
		    rec_line(r) != line)
			bad++;
		line += rows % 997 == 0 ? 3 : 1;
		rows++;
	}
	check(k == 0 && rows == 60000 && bad == 0, "big csv: %zu rows, %zu bad, line numbers", rows,
	      bad);
	rec_free(&r);
	free(p);
	strbuf_release(&sb);
}

/* ---- JSON ---- */

static void test_json(void)
{
	check_dump_str(
	    "a.json",
	    "[{\"a\": 1, \"b\": \"x\", \"c\": true},\n {\"b\": \"y\", \"a\": 2.5, \"z\": 0},\n"
	    " {\"a\": null}, {\"a\": 1e300, \"b\": [1,2], \"c\": false}]",
	    "a|b|c\n1:1|x|true\n2:2.5|y|<null>\n3:<null>|<null>|<null>\n"
	    "4:1e+300|[1,2]|false\n",
	    "json: array of objects matched by key");
	check_dump_str("s.json", "{\"X\": [[1, 2.5], [3, -4]], \"y\": [\"a\", \"b\"]}",
		       "x0|x1|y\n1:1|2.5|a\n2:3|-4|b\n", "json: services' shape with y");
	check_dump_str("s2.json", "{\"X\": [[1], [2]]}", "x0\n1:1\n2:2\n",
		       "json: services' shape without y");
	check_dump_str("s3.json", "{\"X\": [[1, 2], [3]]}",
		       "x0|x1\n1:1|2\nERR: s3.json:2: expected 2 values, got 1",
		       "json: services' shape, short row");
	check_dump_str("s4.json", "{\"X\": [[1, 2], [3, 4]], \"y\": [1]}",
		       "ERR: s4.json: \"y\" has 1 values but \"X\" has 2 rows",
		       "json: services' shape, y of another length");
	check_dump_str("s5.json", "{\"X\": 3}", "ERR: s5.json: \"X\": expected an array of rows",
		       "json: X not an array");
	check_dump_str("aa.json", "[[1, \"u\"], [2, \"v\"]]", "x0|x1\n1:1|u\n2:2|v\n",
		       "json: array of arrays");
	check_dump_str("mixed.json", "[{\"a\": 1}, 5]",
		       "a\n1:1\nERR: mixed.json:2: expected an object", "json: non-object element");
	check_dump_str("bad.json", "[\n{\"a\": 1},\n{\"a\": }\n]",
		       "ERR: bad.json:3: malformed JSON", "json: malformed, with line");
	check_dump_str("trail.json", "[1]\n[2]",
		       "ERR: trail.json:2: malformed JSON: data after the document",
		       "json: data after the document");
	check_dump_str("scalar.json", "3", "ERR: scalar.json: expected a JSON array or object",
		       "json: scalar document");
	check_dump_str("e.json", " \n ", "ERR: e.json: empty input", "json: empty");
	check_dump_str("ea.json", "[]", "\n", "json: empty array has no rows");
	check_dump_str("sniff", "  [{\"k\": \"v\"}]", "k\n1:v\n", "json sniffed by '['");
	check_dump_str("sniff2", "{\n \"X\": [[1]]\n}", "x0\n1:1\n", "json object sniffed by '{'");
	check_dump_str("one.json", "{\"a\": 1, \"b\": 2}", "a|b\n1:1|2\n", "json: one object");
}

static void test_ndjson(void)
{
	check_dump_str("n.ndjson",
		       "{\"a\": 1, \"b\": \"x\"}\n\n{\"b\": \"y\", \"a\": 0.1}\r\n{\"a\": 3}",
		       "a|b\n1:1|x\n3:0.1|y\n4:3|<null>\n", "ndjson: by extension, blank lines");
	check_dump_str("n2", "{\"a\": 1}\n{\"a\": 2}\n", "a\n1:1\n2:2\n", "ndjson sniffed");
	check_dump_str("n3.jsonl", "{\"a\": 1}\n{\"a\": 2\n{\"a\": 3}\n",
		       "a\n1:1\nERR: n3.jsonl:2: malformed JSON", "ndjson: malformed line");
	check_dump_str("n4.ndjson", "{\"a\": 1}\n[1]\n",
		       "a\n1:1\nERR: n4.ndjson:2: expected a JSON object", "ndjson: not an object");
	check_dump_str("n5.ndjson", "{\"a\": 1} 7\n",
		       "ERR: n5.ndjson:1: malformed JSON: data after the object",
		       "ndjson: trailing data");
	check_dump_str("lines.json", "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": }\n",
		       "a\n1:1\n3:2\nERR: lines.json:4: malformed JSON",
		       "ndjson content under a .json name");
	check_dump_str("n6.ndjson", "\n\n", "ERR: n6.ndjson: empty input", "ndjson: empty");
}

/* ---- numbers ---- */

static void check_num_err_at(const char *fname, const char *data, int nrec, size_t col,
			     const char *expect)
{
	char *p = fx_write_str(fname, data);
	struct rec_reader *r;
	struct err e = ERR_INIT;
	double v;
	int rc = -2;
	if (rec_open(&r, p, NULL, &e) == 0) {
		while (nrec-- > 0 && rec_next(r, &e) == 1)
			rc = rec_number(r, col, &v, &e);
	}
	{
		char *msg = e.msg;
		size_t tl = strlen(fx_dir);
		if (!strncmp(msg, fx_dir, tl))
			msg += tl + 1;
		check(rc == -1 && e.code == DYN_EDATA && !strcmp(msg, expect), "number error: %s",
		      expect);
		if (strcmp(msg, expect))
			printf("# got: %s\n", msg);
	}
	rec_free(&r);
	free(p);
}

static void check_num_err(const char *fname, const char *data, size_t col, const char *expect)
{
	check_num_err_at(fname, data, 1, col, expect);
}

static void test_numbers(void)
{
	struct rec_reader *r;
	struct err e = ERR_INIT;
	double v[6];
	char *p;

	check_num_err("data.csv", "id,age\n1,abc\n", 1,
		      "data.csv:2: column \"age\": expected a number, got \"abc\"");
	check_num_err("data.csv", "id,age\n1,\n", 1, "data.csv:2: column \"age\": missing value");
	check_num_err("data.csv", "id,age\n1,\"  \"\n", 1,
		      "data.csv:2: column \"age\": missing value");
	check_num_err("data.csv", "id,age\n1,nan\n", 1,
		      "data.csv:2: column \"age\": expected a finite number, got \"nan\"");
	check_num_err("data.csv", "id,age\n1,-Inf\n", 1,
		      "data.csv:2: column \"age\": expected a finite number, got \"-Inf\"");
	check_num_err("data.csv", "id,age\n1,\"a\"\"b\x01\"\n", 1,
		      "data.csv:2: column \"age\": expected a number, got \"a\\\"b\\x01\"");
	check_num_err("data.csv", "id,age\n1,1.5.2\n", 1,
		      "data.csv:2: column \"age\": expected a number, got \"1.5.2\"");
	check_num_err("d.json", "[{\"age\": true}]", 0,
		      "d.json:1: column \"age\": expected a number, got \"true\"");
	check_num_err_at("d.json", "[{\"age\": 1}, {\"x\": 1}]", 2, 0,
			 "d.json:2: column \"age\": missing value");
	check_num_err("d.json", "[{\"age\": null}]", 0, "d.json:1: column \"age\": missing value");
	check_num_err("d.json", "[{\"age\": \"12x\"}]", 0,
		      "d.json:1: column \"age\": expected a number, got \"12x\"");
	check_num_err("d.json", "[{\"age\": 1e999}]", 0,
		      "d.json:1: column \"age\": expected a finite number, got \"inf\"");

	p = fx_write_str("nums.csv",
			 "a,b,c,d,e,f\n 0.1 ,-0,1e-5,\"2.5\",0x10,123456789012345678901234\n");
	check(rec_open(&r, p, NULL, &e) == 0 && rec_next(r, &e) == 1, "numbers csv opens");
	for (size_t i = 0; i < 6; i++)
		check(rec_number(r, i, &v[i], &e) == 0, "rec_number column %zu", i);
	check(v[0] == 0.1 && v[1] == 0 && signbit(v[1]) && v[2] == 1e-5 && v[3] == 2.5 &&
		  v[4] == 16 && v[5] == 123456789012345678901234.0,
	      "csv numbers exact (blanks, -0, exponent, quoted, hex, long)");
	check(rec_colindex(r, "c") == 2 && rec_colindex(r, "zz") == -1, "rec_colindex");
	check(rec_field(r, 6, NULL) == NULL, "rec_field out of range is NULL");
	rec_free(&r);
	free(p);

	/* JSON numbers come back exactly: no text round trip. */
	p = fx_write_str("exact.json",
			 "[{\"a\": 0.1, \"b\": 1.7976931348623157e308, \"c\": 5e-324, "
			 "\"d\": 0.30000000000000004, \"e\": 9007199254740993}]");
	check(rec_open(&r, p, NULL, &e) == 0 && rec_next(r, &e) == 1, "exact json opens");
	for (size_t i = 0; i < 5; i++)
		check(rec_number(r, i, &v[i], &e) == 0, "json rec_number %zu", i);
	check(v[0] == 0.1 && v[1] == 1.7976931348623157e308 && v[2] == 5e-324 &&
		  v[3] == 0.30000000000000004 && v[4] == 9007199254740992.0,
	      "json numbers exact");
	{
		size_t len;
		const char *f = rec_field(r, 3, &len);
		check(f && !strcmp(f, "0.30000000000000004") && len == 19,
		      "json number text is round-trip (%s)", f ? f : "NULL");
		f = rec_field(r, 0, &len);
		check(f && !strcmp(f, "0.1"), "json number text is shortest (%s)", f ? f : "NULL");
	}
	rec_free(&r);
	free(p);
}

/* The fast path of num_parse must agree with strtod bit for bit. */
static void test_numparse(void)
{
	uint64_t s = 88172645463325252ULL;
	size_t bad = 0, n = 200000;
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		double a, b;
		int len;
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		switch (s % 5) {
		case 0:
			len = snprintf(buf, sizeof(buf), "%.*f", (int)(s >> 8) % 10,
				       (double)(int64_t)(s >> 20) / 1e6);
			break;
		case 1:
			len = snprintf(buf, sizeof(buf), "%llu.%llue%d",
				       (unsigned long long)(s >> 40), (unsigned long long)(s >> 50),
				       (int)((s >> 4) % 60) - 30);
			break;
		case 2:
			len = snprintf(buf, sizeof(buf), "%.17g", (double)(s >> 11) * 0x1p-53);
			break;
		case 3:
			len = snprintf(buf, sizeof(buf), "-%llu",
				       (unsigned long long)(s >> (s % 40)));
			break;
		default:
			len = snprintf(buf, sizeof(buf), "0.%0*llu", (int)(s % 25),
				       (unsigned long long)(s >> 45));
		}
		a = strtod(buf, NULL);
		if (num_parse(buf, (size_t)len, &b) != 0 || memcmp(&a, &b, sizeof(a)))
			bad++;
	}
	check(bad == 0, "num_parse equals strtod on %zu random decimals (%zu differ)", n, bad);
	{
		double v;
		check(num_parse("1e400", 5, &v) == -1, "num_parse: overflow is not a number");
		check(num_parse("nan", 3, &v) == 1, "num_parse: nan is non-finite");
		check(num_parse("", 0, &v) == -1 && num_parse("-", 1, &v) == -1 &&
			  num_parse("1e", 2, &v) == -1 && num_parse(".", 1, &v) == -1,
		      "num_parse: malformed");
		check(num_parse("1e-400", 6, &v) == 0 && v == 0, "num_parse: underflow is zero");
	}
}

/* ---- compression and archives ---- */

/* Reads path as standard input through a pipe (not seekable). */
static char *dump_stdin_pipe(const char *path)
{
	int fds[2], saved = dup(0);
	pid_t pid;
	char *got;
	if (pipe(fds) < 0)
		return xstrdup("pipe failed");
	pid = fork();
	if (pid == 0) {
		char buf[4096];
		ssize_t n;
		int fd = open(path, O_RDONLY);
		close(fds[0]);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			if (write(fds[1], buf, (size_t)n) != n)
				break;
		_exit(0);
	}
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	got = dump("-");
	dup2(saved, 0);
	close(saved);
	while (wait(NULL) > 0)
		;
	return got;
}

static void test_compressed(void)
{
	static const struct {
		const char *ext;
		int filter;
	} filters[] = {
	    {"gz", ARCHIVE_FILTER_GZIP},
	    {"xz", ARCHIVE_FILTER_XZ},
	    {"bz2", ARCHIVE_FILTER_BZIP2},
	    {"zst", ARCHIVE_FILTER_ZSTD},
	};
	const char *csv = "a,b\n1,\"x,y\"\n2,z\n";
	const struct fx_member m = {"data", csv, 0};
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		char name[64], *p, *got;
		snprintf(name, sizeof(name), "c.csv.%s", filters[i].ext);
		p = fx_path(name);
		if (fx_archive(p, ARCHIVE_FORMAT_RAW, filters[i].filter, &m, 1) < 0) {
			check(0, "cannot write a %s file with libarchive", filters[i].ext);
			free(p);
			continue;
		}
		check_dump(p, "a|b\n2:1|x,y\n3:2|z\n", name);
		/* The same bytes under a name that says nothing, and through a pipe. */
		snprintf(name, sizeof(name), "blob-%s", filters[i].ext);
		{
			char *q = fx_path(name);
			check(rename(p, q) == 0, "rename");
			check_dump(q, "a|b\n2:1|x,y\n3:2|z\n", name);
			got = dump_stdin_pipe(q);
			check(!strcmp(got, "a|b\n2:1|x,y\n3:2|z\n"), "%s through a pipe on stdin",
			      filters[i].ext);
			free(got);
			free(q);
		}
		free(p);
	}
	{
		const struct fx_member mj = {"data", "{\"a\": 1}\n{\"a\": 2}\n", 0};
		char *p = fx_path("j.ndjson.gz");
		fx_archive(p, ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP, &mj, 1);
		check_dump(p, "a\n1:1\n2:2\n", "gzipped ndjson by extension");
		free(p);
	}
	{
		const struct fx_member me = {"data", "", 0};
		char *p = fx_path("empty.csv.gz");
		fx_archive(p, ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP, &me, 1);
		check_dump(p, "ERR: empty.csv.gz: empty input", "gzipped empty file");
		free(p);
	}
	{
		char *p =
		    fx_write("trunc.csv.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x4b", 11);
		char *got = dump(p);
		check(!strncmp(got, "ERR: trunc.csv.gz: ", 19), "truncated gzip is an error (%s)",
		      got);
		free(got);
		free(p);
	}
}

static void test_archives(void)
{
	const struct fx_member two[] = {
	    {"dir/", NULL, 0},
	    {"dir/a.csv", "k,v\n1,one\n2,two\n", 0},
	    {"README.txt", "not data", 0},
	    {"b.csv", "k,v\n3,\"th\nree\"\n4,oops,extra\n", 0},
	};
	const struct fx_member differ[] = {
	    {"a.csv", "k,v\n1,one\n", 0},
	    {"b.csv", "k,w\n2,two\n", 0},
	};
	const struct fx_member js[] = {
	    {"a.json", "[{\"k\": 1}]", 0},
	    {"b.ndjson", "{\"k\": 2}\n", 0},
	    {"c.csv", "k\n3\n", 0},
	};
	static const struct {
		const char *name;
		int format, filter;
	} kinds[] = {
	    {"t.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE},
	    {"t.tar.gz", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP},
	    {"t.tar", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_NONE},
	    {"t.7z", ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE},
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *p = fx_path(kinds[i].name), *expect, *got;
		struct strbuf sb = STRBUF_INIT;
		if (fx_archive(p, kinds[i].format, kinds[i].filter, two, ARRAY_SIZE(two)) < 0) {
			check(0, "cannot write %s", kinds[i].name);
			free(p);
			continue;
		}
		strbuf_addf(&sb,
			    "k|v\n2:1|one\n3:2|two\n2:3|th\nree\nERR: %s:b.csv:4: expected 2 "
			    "fields, got 3",
			    kinds[i].name);
		expect = strbuf_detach(&sb, NULL);
		check_dump(p, expect, kinds[i].name);
		if (kinds[i].format == ARCHIVE_FORMAT_7ZIP) {
			got = dump_stdin_pipe(p);
			check(!strcmp(got, "ERR: stdin: a 7z archive cannot be read from a pipe "
					   "(give its path)"),
			      "7z through a pipe is refused clearly");
			free(got);
		} else {
			got = dump_stdin_pipe(p);
			free(expect);
			strbuf_addf(&sb, "k|v\n2:1|one\n3:2|two\n2:3|th\nree\nERR: stdin:b.csv:4: "
					 "expected 2 fields, got 3");
			expect = strbuf_detach(&sb, NULL);
			check(!strcmp(got, expect), "%s through a pipe", kinds[i].name);
			if (strcmp(got, expect))
				printf("# got:\n%s\n", got);
			free(got);
		}
		free(expect);
		free(p);
	}
	{
		char *p = fx_path("d.zip");
		fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, differ, 2);
		check_dump(
		    p,
		    "k|v\n2:1|one\nERR: d.zip:b.csv: columns differ from those of \"d.zip:a.csv\"",
		    "archive members with other columns");
		free(p);
	}
	{
		char *p = fx_path("j.zip");
		fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, js, 3);
		check_dump(p, "k\n1:1\n1:2\n2:3\n", "archive of json, ndjson and csv members");
		free(p);
	}
	{
		const struct fx_member none[] = {{"x.txt", "hello", 0}};
		char *p = fx_path("n.zip");
		fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, none, 1);
		check_dump(p, "ERR: n.zip: no CSV or JSON member with data",
			   "archive without data");
		free(p);
	}
}

static char *fx_slurp(const char *path, size_t *len);

static void test_files(void)
{
	char *d = fx_path("adir"), *m = fx_path("missing.csv"), *got;
	struct strbuf sb = STRBUF_INIT;
	mkdir(d, 0755);
	check_dump(d, "ERR: adir: is a directory", "a directory is an error naming it");
	got = dump(m);
	strbuf_addf(&sb, "ERR: \"missing.csv\": %s", strerror(ENOENT));
	check(!strcmp(got, sb.buf), "missing file: %s", got);
	free(got);
	strbuf_release(&sb);
	{
		/* Standard input as a regular file. */
		char *p = fx_write_str("in.csv", "a\n1\n");
		int fd = open(p, O_RDONLY), saved = dup(0);
		dup2(fd, 0);
		close(fd);
		got = dump(NULL);
		check(!strcmp(got, "a\n2:1\n"), "stdin (NULL path)");
		free(got);
		{
			struct rec_reader *r;
			struct err e = ERR_INIT;
			lseek(0, 0, SEEK_SET);
			check(rec_open(&r, "-", NULL, &e) == 0 && !strcmp(rec_name(r), "stdin") &&
				  !rec_positional(r) && !rec_service_shape(r),
			      "stdin is named \"stdin\"");
			rec_free(&r);
		}
		dup2(saved, 0);
		close(saved);
		free(p);
	}
	{
		/* Standard input: a gzip file whose first bytes were already read by someone
		 * else (here: a junk line before the gzip data). */
		const struct fx_member gzm = {"data", "a\n7\n", 0};
		char *p = fx_path("skip.gz"), *data, *q;
		size_t len;
		struct strbuf cat = STRBUF_INIT;
		int fd, saved = dup(0);
		char junk[5];
		fx_archive(p, ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP, &gzm, 1);
		data = fx_slurp(p, &len);
		strbuf_adds(&cat, "junk\n");
		strbuf_add(&cat, data, len);
		q = fx_write("skip.bin", cat.buf, cat.len);
		fd = open(q, O_RDONLY);
		check(read(fd, junk, 5) == 5, "skip 5 bytes");
		dup2(fd, 0);
		close(fd);
		got = dump("-");
		check(!strcmp(got, "a\n2:7\n"),
		      "stdin: compressed file read from its current offset");
		free(got);
		dup2(saved, 0);
		close(saved);
		free(data);
		free(p);
		free(q);
		strbuf_release(&cat);
	}
	free(d);
	free(m);
}

/* A pipe fed one line at a time (tail -f | dyn predict): each row is read as soon as its line
 * is there, without waiting for more input. alarm() turns a hang into a failure. */
static void test_interactive(void)
{
	int fds[2], saved = dup(0);
	struct rec_reader *r = NULL;
	struct err e = ERR_INIT;
	const char *f;
	if (pipe(fds) < 0)
		return;
	check(write(fds[1], "a,b\n1,2\n", 8) == 8, "write to pipe");
	dup2(fds[0], 0);
	close(fds[0]);
	alarm(20);
	check(rec_open(&r, "-", NULL, &e) == 0, "interactive: opens with one line of data");
	check(r && rec_next(r, &e) == 1 && (f = rec_field(r, 1, NULL)) && !strcmp(f, "2"),
	      "interactive: the first row comes without more input");
	check(write(fds[1], "{\"x\": 3}\n", 9) == 9, "write to pipe");
	close(fds[1]);
	check(r && rec_next(r, &e) == -1 && strstr(e.msg, "stdin:3: expected 2 fields, got 1"),
	      "interactive: then the next line");
	alarm(0);
	rec_free(&r);
	dup2(saved, 0);
	close(saved);
}

/* ---- robustness ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_fuzz(void)
{
	static const char alphabet[] = ",,,\n\n\r\"\"\"aZ01.9-e {}[]:\"\\\t\0\xef\xbb\xbf\x1f\x8b";
	static const char *const seeds[] = {
	    "a,b\n1,\"x\ny\"\n2,3\n",
	    "[{\"a\": 1, \"b\": [1, {\"c\": 2}]}, {\"a\": \"s\\u00e9\"}]",
	    "{\"X\": [[1, 2], [3, 4]], \"y\": [0, 1]}",
	    "{\"a\": 1}\n{\"a\": 2}\n",
	};
	static const char *const names[] = {"f.csv", "f.json", "f.ndjson", "f"};
	size_t crashes_avoided = 0, bad_codes = 0;
	for (int i = 0; i < 400; i++) {
		struct strbuf sb = STRBUF_INIT;
		struct rec_reader *r;
		struct err e = ERR_INIT;
		char *p;
		int k;
		if (i < 100) {
			size_t n = next_rand() % 2000;
			for (size_t j = 0; j < n; j++)
				strbuf_addch(&sb, alphabet[next_rand() % (sizeof(alphabet) - 1)]);
		} else if (i < 300) {
			/* A seed, truncated and with a few bytes changed. */
			const char *s = seeds[i % ARRAY_SIZE(seeds)];
			size_t n = strlen(s);
			strbuf_add(&sb, s, next_rand() % (n + 1));
			for (int j = 0; j < 3 && sb.len; j++)
				sb.buf[next_rand() % sb.len] =
				    alphabet[next_rand() % (sizeof(alphabet) - 1)];
		} else if (i < 390) {
			size_t n = next_rand() % 3000;
			for (size_t j = 0; j < n; j++)
				strbuf_addch(&sb, (char)(next_rand() & 0xff));
		} else {
			/* Huge fields, quoted and not. */
			strbuf_adds(&sb, "a,b\n");
			if (i % 2)
				strbuf_addch(&sb, '"');
			for (size_t j = 0; j < 3000000; j++)
				strbuf_addch(&sb, (char)('a' + j % 26));
			strbuf_adds(&sb, i % 4 < 2 ? ",1\n" : "\n");
		}
		p = fx_write(names[i % ARRAY_SIZE(names)], sb.buf, sb.len);
		if (rec_open(&r, p, NULL, &e) < 0) {
			bad_codes += e.code != DYN_EDATA || !e.msg[0];
		} else {
			while ((k = rec_next(r, &e)) == 1)
				for (size_t c = 0; c < rec_ncols(r) + 1; c++) {
					double v;
					size_t len;
					rec_field(r, c, &len);
					if (rec_number(r, c, &v, &e) < 0)
						bad_codes += e.code != DYN_EDATA || !e.msg[0];
				}
			if (k < 0)
				bad_codes += e.code != DYN_EDATA || !e.msg[0];
			else
				bad_codes += k != 0;
			rec_free(&r);
		}
		crashes_avoided++;
		free(p);
		strbuf_release(&sb);
	}
	check(crashes_avoided == 400 && bad_codes == 0,
	      "400 random, truncated and huge inputs: no crash, errors are data errors (%zu bad)",
	      bad_codes);
}

/* Corrupted and truncated compressed files and archives: errors, never crashes. */
static void test_fuzz_archives(void)
{
	static const struct {
		const char *name;
		int format, filter;
	} kinds[] = {
	    {"z.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE},
	    {"z.tar.gz", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP},
	    {"z.csv.gz", ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP},
	    {"z.csv.xz", ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_XZ},
	    {"z.csv.bz2", ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_BZIP2},
	    {"z.csv.zst", ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_ZSTD},
	    {"z.7z", ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE},
	};
	const struct fx_member m[] = {
	    {"a.csv", "k,v\n1,\"one\ntwo\"\n2,3\n4,5\n6,7\n8,9\n10,11\n", 0},
	    {"b.json", "[{\"k\": 1, \"v\": 2}, {\"k\": 3, \"v\": 4}]", 0},
	};
	size_t runs = 0, bad = 0;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *p = fx_path(kinds[i].name), *orig;
		size_t olen;
		if (fx_archive(p, kinds[i].format, kinds[i].filter, m,
			       kinds[i].format == ARCHIVE_FORMAT_RAW ? 1 : 2) < 0) {
			free(p);
			continue;
		}
		orig = fx_slurp(p, &olen);
		for (int v = 0; v < 30 && olen > 8; v++) {
			struct strbuf sb = STRBUF_INIT;
			struct rec_reader *r;
			struct err e = ERR_INIT;
			char *q;
			int k;
			strbuf_add(&sb, orig, v % 2 ? olen : 6 + next_rand() % (olen - 6));
			for (int j = 0; j < (v % 2 ? 1 + v % 4 : 0); j++)
				sb.buf[6 + next_rand() % (sb.len - 6)] ^=
				    (char)(1 + next_rand() % 255);
			q = fx_write(kinds[i].name, sb.buf, sb.len);
			if (rec_open(&r, q, NULL, &e) < 0) {
				bad += e.code != DYN_EDATA || !e.msg[0];
			} else {
				while ((k = rec_next(r, &e)) == 1)
					for (size_t c = 0; c < rec_ncols(r); c++) {
						double d;
						if (rec_number(r, c, &d, &e) < 0)
							bad += e.code != DYN_EDATA;
					}
				if (k < 0)
					bad += e.code != DYN_EDATA || !e.msg[0];
				rec_free(&r);
			}
			runs++;
			free(q);
			strbuf_release(&sb);
		}
		free(orig);
		free(p);
	}
	check(runs == 30 * ARRAY_SIZE(kinds) && bad == 0,
	      "%zu corrupted or truncated archives and compressed files: errors, no crash", runs);
}

/* An empty strbuf reads as "" however it was made or emptied: STRBUF_INIT, strbuf_init, reset,
 * release, detach (its buf was NULL from STRBUF_INIT, and an empty reading killed the OCR
 * report's folded figures). */
static void test_strbuf_empty(void)
{
	struct strbuf a = STRBUF_INIT, b;
	strbuf_init(&b);
	check(a.buf && !strcmp(a.buf, "") && a.len == 0, "STRBUF_INIT is \"\"");
	check(b.buf && !strcmp(b.buf, "") && b.len == 0, "strbuf_init is \"\"");
	strbuf_reset(&a);
	check(a.buf && !strcmp(a.buf, ""), "reset of an empty strbuf is \"\"");
	strbuf_adds(&a, "x");
	strbuf_reset(&a);
	check(a.buf && !strcmp(a.buf, "") && a.len == 0, "reset after an add is \"\"");
	strbuf_release(&a);
	check(a.buf && !strcmp(a.buf, "") && a.alloc == 0, "released is \"\"");
	char *d = strbuf_detach(&b, NULL);
	check(d && !strcmp(d, "") && b.buf && !strcmp(b.buf, ""),
	      "detached from an empty strbuf: an owned \"\", and it is empty again");
	free(d);
}

int main(void)
{
	fx_mkdir("t_io");
	test_strbuf_empty();
	test_csv();
	test_csv_big();
	test_json();
	test_ndjson();
	test_numbers();
	test_numparse();
	test_compressed();
	test_archives();
	test_files();
	test_interactive();
	test_fuzz();
	test_fuzz_archives();
	fx_rmdir();
	return check_done();
}
