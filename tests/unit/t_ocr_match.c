/* Unit tests of the order matcher (lib/ocr/match): OCR-confusion readings against a small orders
 * table, ties, rejects, duplicate articles, header aliases and missing columns, XLSX reading
 * (the workbooks in testdata/ocr, made by testdata/ocr/make_xlsx.py) and broken workbooks. */
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "ocr/match.h"
#include "check.h"

static char tmpdir[4096];

static const char *write_tmp(const char *name, const char *text, size_t len)
{
	static char path[4200];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	return path;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = xmalloc((size_t)n);
		*len = fread(buf, 1, (size_t)n, f);
	}
	fclose(f);
	return buf;
}

/* The order of the best match of a reading, or "-" when rejected. */
static const char *best(const struct ocr_orders *o, const char *text, double *score)
{
	struct ocr_match m[5];
	struct err e = ERR_INIT;
	size_t n = 0;
	*score = 0;
	if (ocr_orders_match(o, text, NULL, m, &n, &e) < 0 || !n)
		return "-";
	*score = m[0].score;
	return ocr_orders_row(o, m[0].row)->f[OCR_ORDER];
}

static const char orders_csv[] = "Артикул,Серийный номер,Наименование,Заказ,Станция\n"
				 "АМ117.07.01.211,29,Фланец,З-1043,Станция 3\n"
				 "195-30-1285,2660,Кольцо,З-1044,Станция 1\n"
				 "195-30-1285,2661,Кольцо,З-1045,Станция 1\n"
				 "ВК-12/3,0034,Втулка,З-1050,Участок 2\n"
				 "80.15.336,118,Вал,З-1051,Участок 2\n"
				 "КД.302.15.001,7,Крышка,З-1060,Станция 2\n"
				 "КД.302.15.001,7,Крышка,З-1061,Станция 2\n"
				 "ЕМ-5.220,31,Корпус,З-1070,Станция 4\n"
				 ",,пустая строка,,\n";

int main(void)
{
	struct ocr_orders *o = NULL;
	struct ocr_orders_opts opts = {{0}};
	struct err e = ERR_INIT;
	struct ocr_match m[8];
	size_t n;
	double sc;

	snprintf(tmpdir, sizeof(tmpdir), "%s/t_ocr_match.%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	if (mkdir(tmpdir, 0700) < 0) {
		printf("not ok - mkdir %s\n", tmpdir);
		return 1;
	}

	/* the distance itself */
	check(ocr_distance("AM117", "АМ117") == 0, "Latin and Cyrillic look-alikes cost nothing");
	check(ocr_distance("am117", "AM117") == 0, "case costs nothing");
	check_close(ocr_distance("0", "O"), 0.35, 1e-12, "0/O is a confusion");
	check_close(ocr_distance("8", "З"), 0.35, 1e-12, "8/З (Cyrillic Ze) is a confusion");
	check_close(ocr_distance("1", "7"), 0.35, 1e-12, "1/7 is a confusion");
	check(ocr_distance("0", "X") == 1, "0/X is a plain substitution");
	check_close(ocr_distance("12.34", "12-34"), 0.1, 1e-12, "separator for separator");
	check_close(ocr_distance("1234", "12.34"), 0.15, 1e-12, "a separator inserted");
	check(ocr_distance("123", "1234") == 1 && ocr_distance("", "") == 0, "insertion, empty");
	check(ocr_similarity("АМ117.07", "AM117.07") == 1, "similarity 1 across scripts");
	check(ocr_similarity("ABC", "XYZ") == 0, "similarity 0 for nothing in common");
	{
		struct strbuf sb = STRBUF_INIT;
		ocr_normalize("ам117.07 ёж", &sb);
		check(!strcmp(sb.buf, "AM117.07 EЖ"), "normalize: %s", sb.buf);
		strbuf_release(&sb);
	}

	/* a CSV table with the service's Russian column names */
	check(ocr_orders_load(&o, write_tmp("orders.csv", orders_csv, strlen(orders_csv)), NULL,
			      &e) == 0,
	      "load orders.csv: %s", e.msg);
	if (!o)
		return check_done();
	check(ocr_orders_count(o) == 8, "8 rows, the one without an article skipped (%zu)",
	      ocr_orders_count(o));
	check(!strcmp(ocr_orders_row(o, 0)->f[OCR_NAME], "Фланец") &&
		  !strcmp(ocr_orders_row(o, 0)->f[OCR_STATION], "Станция 3") &&
		  ocr_orders_row(o, 0)->line == 2,
	      "fields and line of row 0");
	{
		/* reading -> expected order: what a recognizer gets wrong on stamped metal */
		static const char *const cases[][2] = {
		    {"АМ117.07.01.211 29", "З-1043"}, /* exact */
		    {"AM117.07.01.211 29", "З-1043"}, /* Latin A and M */
		    {"AM1I7.O7.0I.2II 29", "З-1043"}, /* 1/I, 0/O */
		    {"AM117 07 01 211 29", "З-1043"}, /* dots read as spaces */
		    {"АМ117.07.01.21129", "З-1043"},  /* the space lost */
		    {"АМ11707012II 29", "З-1043"},    /* dots lost, 1 read as I */
		    {"195-30-1285 2660", "З-1044"},   /* exact */
		    {"I95-3O-I285 266O", "З-1044"},   /* I/1, O/0 */
		    {"195.30.1285 2660", "З-1044"},   /* other separators */
		    {"19530128S 2660", "З-1044"},     /* separators lost, S for 5 */
		    {"195-30-1285 2661", "З-1045"},   /* the serial decides */
		    {"195-30-I285 266I", "З-1045"},   /* ... also misread */
		    {"BK-12/3 0034", "З-1050"},	      /* Latin B and K */
		    {"8K-12/3 OO34", "З-1050"},	      /* 8 for B, O for 0 */
		    {"ВК-I2/З 0034", "З-1050"},	      /* Cyrillic Ze for 3 */
		    {"B0.15.336 118", "З-1051"},      /* B for 8 */
		    {"80.15.33G 1I8", "З-1051"},      /* G for 6 */
		    {"EM-S.22O 3I", "З-1070"},	      /* Latin E M, S/5, O/0 */
		    {"ЕМ-5.220 31", "З-1070"},	      /* exact */
		    {"XYZ 99", "-"},		      /* nothing like it: rejected */
		    {"555-44-3333 1", "-"},	      /* another article: rejected */
		    {"", "-"},			      /* empty: rejected */
		};
		int wrong = 0;
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			const char *got = best(o, cases[i][0], &sc);
			if (strcmp(got, cases[i][1])) {
				wrong++;
				printf("# \"%s\": got %s (%.3f), want %s\n", cases[i][0], got, sc,
				       cases[i][1]);
			}
		}
		check(wrong == 0, "%zu OCR-confusion readings find their order (%d wrong)",
		      ARRAY_SIZE(cases), wrong);
	}
	check(ocr_orders_match(o, "АМ117.07.01.211 29", NULL, m, &n, &e) == 0 && n >= 1 &&
		  m[0].score == 1 && m[0].article_score == 1 && m[0].serial_score == 1,
	      "an exact reading scores 1");
	check(ocr_orders_match(o, "AM1I7.O7.0I.2II 29", NULL, m, &n, &e) == 0 && n >= 1 &&
		  m[0].score < 1 && m[0].score > 0.8,
	      "confusions lower the score a little (%.3f)", n ? m[0].score : 0);
	/* scores in [0, 1], best first */
	{
		struct ocr_match_opts mo = {.top_k = 8, .threshold = -1};
		int bad = 0;
		check(ocr_orders_match(o, "195-30-1285 2660", &mo, m, &n, &e) == 0 && n >= 3,
		      "no threshold: more rows (%zu)", n);
		for (size_t i = 0; i < n; i++)
			bad +=
			    m[i].score < 0 || m[i].score > 1 || (i && m[i].score > m[i - 1].score);
		check(bad == 0, "scores in [0, 1], sorted");
		mo.top_k = 1;
		check(ocr_orders_match(o, "195-30-1285 2660", &mo, m, &n, &e) == 0 && n == 1,
		      "top_k 1");
		mo.top_k = 5;
		mo.threshold = 0.999;
		check(ocr_orders_match(o, "I95-3O-I285 2660", &mo, m, &n, &e) == 0 && n == 0,
		      "a high threshold rejects a confused reading");
	}
	/* ties: the article without a serial fits both of its parts equally */
	check(ocr_orders_match(o, "195-30-1285", NULL, m, &n, &e) == 0 && n == 2 && m[0].row == 1 &&
		  m[1].row == 2 && m[0].score == m[1].score,
	      "article alone: both serials tie, in table order (%zu, %.3f)", n, n ? m[0].score : 0);
	/* duplicate rows (same article and serial, two orders) are both kept and tie */
	check(ocr_orders_match(o, "КД.302.15.001 7", NULL, m, &n, &e) == 0 && n >= 2 &&
		  !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], "З-1060") &&
		  !strcmp(ocr_orders_row(o, m[1].row)->f[OCR_ORDER], "З-1061") && m[0].score == 1 &&
		  m[1].score == 1,
	      "duplicate rows: both returned, tied, in table order");
	/* the lines of one photo: a speck read as a letter, the steel grade, the marking misread,
	 * the marking again from the other side; the best row any line finds, once */
	{
		static const char *const lines[] = {"Ф", "", "12Х18Н10Т", "AM1I7.O7.0I.2II 29",
						    "АМ117.07.01.211 29"};
		static const char *const none[] = {"Ф", "", "XYZ 99"};
		struct ocr_match_opts mo = {.top_k = 3};
		check(ocr_orders_match_lines(o, lines, ARRAY_SIZE(lines), &mo, m, &n, &e) == 0 &&
			  n == 1 && !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], "З-1043") &&
			  m[0].score == 1,
		      "lines of a photo: the marking's row, once, at its best line's score (%zu)",
		      n);
		check(ocr_orders_match_lines(o, lines, 3, &mo, m, &n, &e) == 0 && n == 0,
		      "lines of a photo without the marking: rejected");
		check(ocr_orders_match_lines(o, none, ARRAY_SIZE(none), &mo, m, &n, &e) == 0 &&
			  n == 0,
		      "lines that find nothing: rejected");
		mo.top_k = 2;
		static const char *const two[] = {"КД.302.15.001 7", "195-30-1285 2661"};
		check(ocr_orders_match_lines(o, two, 2, &mo, m, &n, &e) == 0 && n == 2 &&
			  m[0].score == 1 && m[1].score == 1 &&
			  !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], "З-1045") &&
			  !strcmp(ocr_orders_row(o, m[1].row)->f[OCR_ORDER], "З-1060"),
		      "two lines, two exact rows: top 2 in table order");
		static const char *const bad[] = {"АМ117", "AB\xff"};
		check(ocr_orders_match_lines(o, bad, 2, &mo, m, &n, &e) < 0 && e.code == DYN_EUSAGE,
		      "a line of invalid UTF-8: %s", e.msg);
	}
	check(ocr_orders_match(o, "AB\xff", NULL, m, &n, &e) < 0 && e.code == DYN_EUSAGE,
	      "invalid UTF-8 reading: %s", e.msg);
	ocr_orders_free(&o);

	/* headers: English names, overrides, missing columns */
	{
		/* a line with too few characters to tell an order by (a speck, an edge) is not
		 * searched for, though a short article reads the same */
		static const char shortrow[] =
		    "Article,Serial,Order\n4-/,,P1\nАМ117.07.01.211,29,P2\n";
		static const char *const junk[] = {"4. -", "Ф"};
		static const char *const junk_and_marking[] = {"4. -", "АМ117.07.01.211 29"};
		struct ocr_match_opts mo = {.top_k = 3};
		check(
		    ocr_orders_load(&o, write_tmp("short.csv", shortrow, strlen(shortrow)), NULL,
				    &e) == 0 &&
			ocr_orders_match(o, "4-/", &mo, m, &n, &e) == 0 && n == 1 &&
			ocr_orders_match_lines(o, junk, 2, &mo, m, &n, &e) == 0 && n == 0,
		    "a line of %d characters finds no row (%zu; the short article alone finds it)",
		    OCR_LINE_MIN_CHARS - 1, n);
		check(ocr_orders_match_lines(o, junk_and_marking, 2, &mo, m, &n, &e) == 0 &&
			  n == 1 && !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], "P2"),
		      "beside it, the marking finds its row only");
		ocr_orders_free(&o);
		static const char en[] = "Article,Serial,Order\nAB-1,5,P1\n";
		static const char custom[] = "Part;SN;PO;Where\nAB-1;5;P1;here\n";
		static const char missing[] = "Артикул,Наименование,Кол-во\nАБ-1,Вал,2\n";
		check(ocr_orders_load(&o, write_tmp("en.csv", en, strlen(en)), NULL, &e) == 0 &&
			  ocr_orders_count(o) == 1 &&
			  !strcmp(ocr_orders_row(o, 0)->f[OCR_NAME], "") &&
			  !strcmp(ocr_orders_row(o, 0)->f[OCR_ORDER], "P1"),
		      "English names, name and station optional: %s", e.msg);
		ocr_orders_free(&o);
		opts.names[OCR_ARTICLE] = "part";
		opts.names[OCR_SERIAL] = "SN";
		opts.names[OCR_ORDER] = "po";
		opts.names[OCR_STATION] = "Where";
		check(ocr_orders_load(&o, write_tmp("custom.csv", custom, strlen(custom)), &opts,
				      &e) < 0,
		      "';' is not the CSV delimiter: columns missing");
		ocr_orders_free(&o);
		{
			static const char custom_c[] = "Part,SN,PO,Where\nAB-1,5,P1,here\n";
			check(ocr_orders_load(&o,
					      write_tmp("custom.csv", custom_c, strlen(custom_c)),
					      &opts, &e) == 0 &&
				  !strcmp(ocr_orders_row(o, 0)->f[OCR_STATION], "here"),
			      "column names given by the caller: %s", e.msg);
			ocr_orders_free(&o);
		}
		memset(&opts, 0, sizeof(opts));
		check(ocr_orders_load(&o, write_tmp("missing.csv", missing, strlen(missing)), NULL,
				      &e) < 0 &&
			  e.code == DYN_EDATA && !o &&
			  strstr(e.msg, "missing columns \"serial\", \"order\"") &&
			  strstr(e.msg, "\"Артикул\", \"Наименование\", \"Кол-во\"") &&
			  strstr(e.msg, "missing.csv"),
		      "missing columns named: %s", e.msg);
		check(ocr_orders_load(&o, "/nonexistent/orders.csv", NULL, &e) < 0 &&
			  e.code == DYN_EDATA,
		      "a missing file: %s", e.msg);
	}

	/* many parts of one article: the serial brings the right one into the shortlist */
	{
		struct strbuf big = STRBUF_INIT;
		strbuf_adds(&big, "article,serial,order\n");
		for (int i = 1; i <= 600; i++)
			strbuf_addf(&big, "АБ-17.05,%d,Z-%d\n", 1000 + i, i);
		check(ocr_orders_load(&o, write_tmp("big.csv", big.buf, big.len), NULL, &e) == 0,
		      "600 parts of one article");
		if (o) {
			struct ocr_match_opts mo = {.shortlist = 50};
			check(ocr_orders_match(o, "AB-I7.O5 1587", &mo, m, &n, &e) == 0 && n >= 1 &&
				  !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], "Z-587"),
			      "serial 1587 found among 600 rows of its article with a shortlist of "
			      "50 (%s)",
			      n ? ocr_orders_row(o, m[0].row)->f[OCR_ORDER] : "none");
			ocr_orders_free(&o);
		}
		strbuf_release(&big);
	}
	{
		/* a column named by the caller must be there, even an optional one */
		static const char en[] = "Article,Serial,Order\nAB-1,5,P1\n";
		opts.names[OCR_STATION] = "Цех";
		check(ocr_orders_load(&o, write_tmp("en2.csv", en, strlen(en)), &opts, &e) < 0 &&
			  strstr(e.msg, "missing column \"Цех\""),
		      "a named optional column missing: %s", e.msg);
		memset(&opts, 0, sizeof(opts));
	}

	/* XLSX */
	check(ocr_orders_load(&o, "../testdata/ocr/orders.xlsx", NULL, &e) == 0,
	      "load orders.xlsx: %s", e.msg);
	if (o) {
		const struct ocr_order *r;
		check(ocr_orders_count(o) == 4,
		      "4 rows (blank row above the header, row without "
		      "an article skipped): %zu",
		      ocr_orders_count(o));
		r = ocr_orders_row(o, 0);
		check(r && !strcmp(r->f[OCR_ARTICLE], "АМ117.07.01.211") &&
			  !strcmp(r->f[OCR_SERIAL], "29") &&
			  !strcmp(r->f[OCR_NAME], "Фланец опорный") && r->line == 3,
		      "shared strings, a number, rich text without its phonetic run: \"%s\"",
		      r ? r->f[OCR_NAME] : "");
		r = ocr_orders_row(o, 1);
		check(r && !strcmp(r->f[OCR_NAME], "Кольцо & шайба") &&
			  !strcmp(r->f[OCR_STATION], "Станция 1"),
		      "an entity and an inline string");
		r = ocr_orders_row(o, 2);
		check(r && !strcmp(r->f[OCR_SERIAL], "2661") && !strcmp(r->f[OCR_ORDER], "З-1045"),
		      "cells without a reference follow one another");
		r = ocr_orders_row(o, 3);
		check(r && !strcmp(r->f[OCR_SERIAL], "0034") && !strcmp(r->f[OCR_NAME], "") &&
			  !strcmp(r->f[OCR_ORDER], "З-1050"),
		      "missing cells are empty");
		check(!strcmp(best(o, "I95-3O-I285 2661", &sc), "З-1045"),
		      "matching an XLSX table");
		ocr_orders_free(&o);
	}
	check(ocr_orders_load(&o, "../testdata/ocr/nosheet.xlsx", NULL, &e) < 0 &&
		  e.code == DYN_EDATA && strstr(e.msg, "no first sheet"),
	      "a workbook without its sheet: %s", e.msg);
	check(ocr_orders_load(&o, "../testdata/ocr/badref.xlsx", NULL, &e) < 0 &&
		  e.code == DYN_EDATA && strstr(e.msg, "shared string \"99\" out of range"),
	      "a shared string out of range: %s", e.msg);
	{
		const char *p = write_tmp("csv.xlsx", orders_csv, strlen(orders_csv));
		check(ocr_orders_load(&o, p, NULL, &e) < 0 && e.code == DYN_EDATA &&
			  strstr(e.msg, "not an XLSX workbook (not a zip archive)") &&
			  strstr(e.msg, "csv.xlsx"),
		      "a CSV named .xlsx: %s", e.msg);
	}
	{
		size_t len = 0;
		char *x = slurp("../testdata/ocr/orders.xlsx", &len);
		check(x && len > 100, "read orders.xlsx");
		if (x) {
			int bad = 0, errors = 0;
			/* cut short at several places: an error naming the file, except when only
			 * the zip's central directory is lost (libarchive then reads the members
			 * from their local headers: the same rows) */
			for (size_t cut = 10; cut < len; cut += len / 7) {
				const char *p = write_tmp("cut.xlsx", x, cut);
				err_clear(&e);
				if (ocr_orders_load(&o, p, NULL, &e) == 0
					? ocr_orders_count(o) != 4
					: e.code != DYN_EDATA || !strstr(e.msg, "cut.xlsx")) {
					printf("# cut at %zu: %s\n", cut, e.msg);
					bad++;
				}
				errors += o == NULL;
				ocr_orders_free(&o);
			}
			check(bad == 0 && errors >= 4,
			      "truncated workbooks are clear errors (%d of 7)", errors);
			memset(x + len / 3, 'Z', 64);
			write_tmp("garbled.xlsx", x, len);
			if (ocr_orders_load(&o, write_tmp("garbled.xlsx", x, len), NULL, &e) < 0)
				check(e.code == DYN_EDATA && strstr(e.msg, "garbled.xlsx"),
				      "a garbled workbook: %s", e.msg);
			else
				check(ocr_orders_count(o) <= 4,
				      "a garbled workbook read no more rows");
			ocr_orders_free(&o);
			free(x);
		}
	}
	check(ocr_orders_load(&o, "../testdata/ocr/badxml.xlsx", NULL, &e) < 0 &&
		  e.code == DYN_EDATA && strstr(e.msg, "sheet1.xml: broken XML"),
	      "a sheet cut inside a tag: %s", e.msg);
	{
		static const char seps[] = "article,serial,order\n--.,,Z-1\n";
		static const char hdr[] = "article,serial,order\n";
		check(ocr_orders_load(&o, write_tmp("seps.csv", seps, strlen(seps)), NULL, &e) ==
			      0 &&
			  ocr_orders_count(o) == 1,
		      "an article of separators only, no serial");
		if (o) {
			check(ocr_orders_match(o, "12 3", NULL, m, &n, &e) == 0 && n == 0,
			      "... matches nothing");
			ocr_orders_free(&o);
		}
		check(ocr_orders_load(&o, write_tmp("empty.csv", hdr, strlen(hdr)), NULL, &e) ==
			      0 &&
			  ocr_orders_count(o) == 0,
		      "a header only: no rows");
		if (o) {
			check(ocr_orders_match(o, "AB 1", NULL, m, &n, &e) == 0 && n == 0,
			      "nothing to match in an empty table");
			ocr_orders_free(&o);
		}
	}
	{
		char cmd[4300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	return check_done();
}
