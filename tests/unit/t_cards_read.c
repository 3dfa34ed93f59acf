/* Unit tests of lib/cards/read and card_validate: every input shape, ids and labels, the
 * long format streamed card by card, limits, and every bad input with its message. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cards/read.h"
#include "io/stream.h"
#include "base/base.h"
#include "check.h"
#include "fixture.h"

/* A closed loop of n points: upstroke on top, load from base to base + amp. */
static void loop_text(struct strbuf *sb, const char *prefix, size_t n, double base, double amp)
{
	for (size_t i = 0; i < n; i++) {
		double t = 2 * M_PI * (double)i / (double)n;
		strbuf_addf(sb, "%s%.6f,%.6f\n", prefix, 1.5 * (1 - cos(t)),
			    base + amp * (0.5 + 0.5 * sin(t)));
	}
}

/* Reads every card of one path; the ids joined by spaces, labels after '='; errors as "!msg". */
static char *read_all(const char *path, const struct card_read_opts *o, size_t *ncards)
{
	struct card_reader *r;
	struct card c;
	struct strbuf sb = STRBUF_INIT;
	struct err e = ERR_INIT;
	int k;
	size_t n = 0;
	card_init(&c);
	card_reader_open(&r, &path, 1, o);
	while ((k = card_reader_next(r, &c, &e)) != 0) {
		if (sb.len)
			strbuf_addch(&sb, ' ');
		if (k < 0) {
			strbuf_addf(&sb, "!%s", e.msg);
			err_clear(&e);
			continue;
		}
		strbuf_addf(&sb, "%s", c.id);
		if (c.label)
			strbuf_addf(&sb, "=%s", c.label);
		strbuf_addf(&sb, "#%zu", c.n);
		n++;
	}
	card_release(&c);
	card_reader_free(&r);
	if (ncards)
		*ncards = n;
	return strbuf_detach(&sb, NULL);
}

/* The first error reading path, or "" when it reads cleanly. */
static char *first_error(const char *path, const struct card_read_opts *o)
{
	struct card_reader *r;
	struct card c;
	struct err e = ERR_INIT;
	int k;
	char *msg;
	card_init(&c);
	card_reader_open(&r, &path, 1, o);
	while ((k = card_reader_next(r, &c, &e)) > 0)
		;
	msg = xstrdup(k < 0 ? e.msg : "");
	card_release(&c);
	card_reader_free(&r);
	return msg;
}

static void test_validate(void)
{
	struct card c;
	struct err e = ERR_INIT;
	size_t alloc = 0;
	card_init(&c);
	card_set_id(&c, "t.csv:c1", NULL);
	for (int i = 0; i < 5; i++)
		card_push(&c, &alloc, i, i % 2);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg, "t.csv:c1: card has 5 points (at least 8 are needed)"),
	      "validate: 5 points: %s", e.msg);
	err_clear(&e);
	c.n = 0;
	for (int i = 0; i < 12; i++) {
		double t = 2 * M_PI * i / 12;
		card_push(&c, &alloc, 1 - cos(t), 2 + sin(t));
	}
	check(card_validate(&c, &e) == 0, "validate: a closed loop passes");
	c.y[3] = NAN;
	err_clear(&e);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg, "t.csv:c1: point 4: load is nan (not finite)"),
	      "validate: NaN load: %s", e.msg);
	c.y[3] = 2;
	c.x[5] = INFINITY;
	err_clear(&e);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg, "t.csv:c1: point 6: position is inf (not finite)"),
	      "validate: infinite position: %s", e.msg);
	for (size_t i = 0; i < c.n; i++)
		c.y[i] = 7.5, c.x[i] = (double)i;
	err_clear(&e);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg, "t.csv:c1: the load is constant (7.5 at every point)"),
	      "validate: constant load: %s", e.msg);
	for (size_t i = 0; i < c.n; i++)
		c.x[i] = 3, c.y[i] = (double)i;
	err_clear(&e);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg, "t.csv:c1: the position is constant (3 at every point)"),
	      "validate: constant position: %s", e.msg);
	/* Three points over and over: a triangle traced four times. */
	for (size_t i = 0; i < c.n; i++)
		c.x[i] = (double)(i % 3), c.y[i] = (double)((i % 3) * (i % 3));
	err_clear(&e);
	check(card_validate(&c, &e) < 0 &&
		  !strcmp(e.msg,
			  "t.csv:c1: the curve repeats 3 distinct points (at least 4 are needed)"),
	      "validate: self-repeating: %s", e.msg);
	/* Half a loop: the upstroke only, from bottom left to top right. */
	for (size_t i = 0; i < c.n; i++) {
		double t = M_PI * (double)i / (double)(c.n - 1);
		c.x[i] = 1 - cos(t);
		c.y[i] = sin(t / 2);
	}
	err_clear(&e);
	check(card_validate(&c, &e) < 0 && strstr(e.msg, "t.csv:c1: the curve is open: its ends") &&
		  strstr(e.msg, "(at most 0.50)"),
	      "validate: open curve: %s", e.msg);
	/* A coarse closed card of 8 points: its last step is long but no longer than the rest. */
	c.n = 0;
	for (int i = 0; i < 8; i++) {
		double t = 2 * M_PI * i / 8;
		card_push(&c, &alloc, 1 - cos(t), sin(t));
	}
	err_clear(&e);
	check(card_validate(&c, &e) == 0, "validate: 8 coarse points are a closed card: %s", e.msg);
	card_release(&c);
}

static void test_csv(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p, *got;
	size_t n;

	got = read_all("../testdata/cards/one.csv", NULL, &n);
	check(!strcmp(got, "../testdata/cards/one.csv#24"), "csv: one card: %s", got);
	free(got);

	got = read_all("../testdata/cards/oilfield3.csv", NULL, &n);
	check(!strcmp(got, "../testdata/cards/oilfield3.csv:c0004=LIQUID_NOT_ENOUGH#200 "
			   "../testdata/cards/oilfield3.csv:c0018=REGULAR_WORK#250 "
			   "../testdata/cards/oilfield3.csv:c0050=ROD_BROKEN#200"),
	      "csv: long format, ids and markers: %s", got);
	free(got);

	/* x, y columns; a label column in a one-card file. */
	strbuf_adds(&sb, "x,y,marker\n");
	for (int i = 0; i < 10; i++)
		strbuf_addf(&sb, "%g,%g,pump-off\n", 1 - cos(2 * M_PI * i / 10),
			    sin(2 * M_PI * i / 10));
	p = fx_write_str("xy.csv", sb.buf);
	got = read_all(p, NULL, NULL);
	check(strstr(got, "xy.csv=pump-off#10") != NULL, "csv: x,y columns and a marker: %s", got);
	free(got);
	free(p);

	/* No header: two numeric columns. */
	strbuf_reset(&sb);
	loop_text(&sb, "", 16, 10, 5);
	p = fx_write_str("bare.csv", sb.buf);
	got = read_all(p, NULL, NULL);
	check(strstr(got, "bare.csv#16") != NULL, "csv: headerless points: %s", got);
	free(got);
	free(p);

	/* Settable column names. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "well,kind,s,f\n");
	loop_text(&sb, "w1,a,", 12, 10, 5);
	loop_text(&sb, "w2,b,", 14, 10, 5);
	p = fx_write_str("named.csv", sb.buf);
	{
		struct card_read_opts o = {
		    .card_col = "well", .x_col = "s", .y_col = "f", .label_col = "kind"};
		got = read_all(p, &o, NULL);
		check(strstr(got, "named.csv:w1=a#12 ") && strstr(got, "named.csv:w2=b#14"),
		      "csv: column names set: %s", got);
		free(got);
		got = first_error(p, NULL);
		check(strstr(got, "named.csv: no \"position\" and \"load\" columns (the header has "
				  "\"well\", \"kind\", \"s\", \"f\")") != NULL,
		      "csv: missing columns named: %s", got);
		free(got);
	}
	free(p);

	/* A bad number: FILE:LINE: column "load": expected a number, got "abc". */
	p = fx_write_str("bad.csv", "position,load\n0,1\n1,abc\n");
	got = first_error(p, NULL);
	check(strstr(got, "bad.csv:3: column \"load\": expected a number, got \"abc\"") != NULL,
	      "csv: bad number: %s", got);
	free(got);
	free(p);

	/* NaN in a points file. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "position,load\n");
	loop_text(&sb, "", 10, 10, 5);
	strbuf_adds(&sb, "0.5,nan\n");
	p = fx_write_str("nan.csv", sb.buf);
	got = first_error(p, NULL);
	check(strstr(got, "nan.csv:12: column \"load\": expected a finite number, got \"nan\""),
	      "csv: nan: %s", got);
	free(got);
	free(p);

	/* Too few points: the card is named, and the reader goes on to the next card. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "card,position,load\n");
	loop_text(&sb, "a,", 5, 10, 5);
	loop_text(&sb, "b,", 12, 10, 5);
	p = fx_write_str("few.csv", sb.buf);
	got = read_all(p, NULL, &n);
	check(strstr(got, "!") &&
		  strstr(got, "few.csv:a: card has 5 points (at least 8 are "
			      "needed) ") &&
		  strstr(got, "few.csv:b#12") && n == 1,
	      "csv: a short card refused, the next read: %s", got);
	free(got);
	free(p);

	/* A card's rows apart. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "card,position,load\n");
	loop_text(&sb, "a,", 10, 10, 5);
	loop_text(&sb, "b,", 10, 10, 5);
	loop_text(&sb, "a,", 10, 10, 5);
	p = fx_write_str("apart.csv", sb.buf);
	got = read_all(p, NULL, &n);
	check(strstr(got, "apart.csv:22: card \"a\" again after other cards (the rows of a "
			  "card must be together)") &&
		  n == 2,
	      "csv: a card's rows apart: %s", got);
	free(got);
	free(p);

	/* Points limit: the card is refused when the limit is passed, not read whole. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "position,load\n");
	loop_text(&sb, "", 40, 10, 5);
	p = fx_write_str("long.csv", sb.buf);
	{
		struct card_read_opts o = {.max_points = 30};
		got = first_error(p, &o);
		check(strstr(got, "long.csv:32: card \"") &&
			  strstr(got, "long.csv\" has more than 30 points (the limit)"),
		      "csv: points limit: %s", got);
		free(got);
	}
	free(p);

	p = fx_write_str("empty.csv", "position,load\n");
	got = first_error(p, NULL);
	check(strstr(got, "empty.csv: no points") != NULL, "csv: header only: %s", got);
	free(got);
	free(p);
	strbuf_release(&sb);
}

/* Many cards streamed: each comes whole and in order; the reader keeps one at a time. */
static void test_stream_many(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct card_reader *r;
	struct card c;
	struct err e = ERR_INIT;
	char *p;
	const char *paths[1];
	size_t n = 0, bad = 0;
	int k;
	strbuf_adds(&sb, "card,marker,position,load\n");
	for (int i = 0; i < 3000; i++) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "k%05d,m%d,", i, i % 7);
		loop_text(&sb, prefix, 20 + (size_t)(i % 5), 10 + i % 3, 5);
	}
	p = fx_write_str("many.csv", sb.buf);
	paths[0] = p;
	card_init(&c);
	card_reader_open(&r, paths, 1, NULL);
	while ((k = card_reader_next(r, &c, &e)) > 0) {
		char want[64];
		snprintf(want, sizeof(want), "%s:k%05zu", p, n);
		if (strcmp(c.id, want) || c.n != 20 + n % 5 || !c.label ||
		    c.label[1] - '0' != (int)(n % 7))
			bad++;
		n++;
	}
	check(k == 0 && n == 3000 && bad == 0, "stream: 3000 cards one at a time, %zu wrong", bad);
	card_release(&c);
	card_reader_free(&r);
	free(p);
	strbuf_release(&sb);
}

static void test_json(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p, *got;
	size_t n;

	got = read_all("../testdata/cards/cards.json", NULL, &n);
	check(!strcmp(got, "../testdata/cards/cards.json:w1=normal#24 "
			   "../testdata/cards/cards.json:7#24 "
			   "../testdata/cards/cards.json:3=gas-lock#24"),
	      "json: array of cards, ids and markers: %s", got);
	free(got);

	strbuf_adds(&sb, "{\"points\": [");
	for (int i = 0; i < 12; i++)
		strbuf_addf(&sb, "%s[%g, %g]", i ? "," : "", 1 - cos(2 * M_PI * i / 12),
			    3 + sin(2 * M_PI * i / 12));
	strbuf_adds(&sb, "]}");
	p = fx_write_str("pts.json", sb.buf);
	got = read_all(p, NULL, NULL);
	check(strstr(got, "pts.json#12") != NULL, "json: {\"points\": ...}: %s", got);
	free(got);
	free(p);

	strbuf_reset(&sb);
	strbuf_adds(&sb, "[");
	for (int i = 0; i < 9; i++)
		strbuf_addf(&sb, "%s{\"x\": %g, \"y\": %g}", i ? "," : "",
			    1 - cos(2 * M_PI * i / 9), 3 + sin(2 * M_PI * i / 9));
	strbuf_adds(&sb, "]");
	p = fx_write_str("objs.json", sb.buf);
	got = read_all(p, NULL, NULL);
	check(strstr(got, "objs.json#9") != NULL, "json: [{x, y}, ...]: %s", got);
	free(got);
	free(p);

	strbuf_reset(&sb);
	strbuf_adds(&sb, "{\"id\": \"well-3\", \"marker\": \"sand\", \"raw_data\": [");
	for (int i = 0; i < 10; i++)
		strbuf_addf(&sb, "%s[%g, %g]", i ? "," : "", 1 - cos(2 * M_PI * i / 10),
			    3 + sin(2 * M_PI * i / 10));
	strbuf_adds(&sb, "]}");
	p = fx_write_str("raw.json", sb.buf);
	got = read_all(p, NULL, NULL);
	check(strstr(got, "raw.json:well-3=sand#10") != NULL, "json: raw_data: %s", got);
	free(got);
	free(p);

	p = fx_write_str("badpt.json", "{\"points\": [[0, 1], [1, \"x\"]]}");
	got = first_error(p, NULL);
	check(strstr(got, "badpt.json: card \"") &&
		  strstr(got, "\": point 2: expected [position, load] or {\"x\": .., \"y\": ..} "
			      "numbers"),
	      "json: bad point: %s", got);
	free(got);
	free(p);

	p = fx_write_str("trunc.json", "{\"points\": [[0, 1], [1, 2]");
	got = first_error(p, NULL);
	check(strstr(got, "trunc.json: malformed JSON") != NULL, "json: malformed: %s", got);
	free(got);
	free(p);

	/* A JSON document over the limit for documents read whole. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "{\"points\": [");
	for (int i = 0; i < 20000; i++)
		strbuf_addf(&sb, "%s[%d, %d]", i ? "," : "", i % 7, i % 11);
	strbuf_adds(&sb, "]}");
	p = fx_write_str("big.json", sb.buf);
	{
		struct card_read_opts o = {.max_doc_bytes = 100000};
		got = first_error(p, &o);
		check(strstr(got, "big.json: larger than 100000 bytes (the limit for a JSON "
				  "document or a picture)") != NULL,
		      "json: document size limit: %s", got);
		free(got);
	}
	free(p);
	strbuf_release(&sb);
}

/* stdin: "-" is named "stdin". */
static void test_stdin(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p, *got;
	int fd, saved;
	strbuf_adds(&sb, "card,position,load\n");
	loop_text(&sb, "3,", 10, 10, 5);
	p = fx_write_str("in.csv", sb.buf);
	fd = open(p, O_RDONLY);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	got = read_all("-", NULL, NULL);
	dup2(saved, 0);
	close(saved);
	check(!strcmp(got, "stdin:3#10"), "stdin: id stdin:3: %s", got);
	free(got);
	free(p);
	strbuf_release(&sb);
}

/* A file over the size limit is refused from its size: a sparse 1 GB file. */
static void test_huge_file(void)
{
	char *p = fx_path("huge.csv");
	char *got;
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0 && ftruncate(fd, (off_t)1 << 30) == 0, "huge: a sparse 1 GB file");
	if (fd >= 0)
		close(fd);
	got = first_error(p, NULL);
	check(strstr(got, "huge.csv\": 1073741824 bytes, more than the limit for a card input "
			  "(268435456)") != NULL,
	      "huge: 1 GB refused at once: %s", got);
	free(got);
	unlink(p);
	free(p);
}

static void test_archives(void)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char *p, *got;
	strbuf_adds(&a, "position,load\n");
	loop_text(&a, "", 12, 10, 5);
	strbuf_adds(&b, "card,marker,position,load\n");
	loop_text(&b, "c1,normal,", 10, 10, 5);
	loop_text(&b, "c2,pump-off,", 11, 10, 5);
	{
		const struct fx_member m[] = {
		    {"train/fluid-pound/001.csv", a.buf, 0},
		    {"train/long.csv", b.buf, 0},
		    {"notes.md", "not a card", 0},
		    {"__MACOSX/train/._001.csv", "junk", 0},
		};
		p = fx_path("cards.zip");
		check(fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 4) == 0,
		      "archive: zip written");
		got = read_all(p, NULL, NULL);
		check(strstr(got, "cards.zip:train/fluid-pound/001.csv=fluid-pound#12 ") &&
			  strstr(got, "cards.zip:train/long.csv:c1=normal#10 ") &&
			  strstr(got, "cards.zip:train/long.csv:c2=pump-off#11") &&
			  !strstr(got, "notes") && !strstr(got, "MACOSX"),
		      "archive: zip members, directory labels, long format inside: %s", got);
		free(got);
		free(p);
		p = fx_path("cards.tar.gz");
		check(fx_archive(p, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, m, 4) ==
			  0,
		      "archive: tar.gz written");
		got = read_all(p, NULL, NULL);
		check(strstr(got, "cards.tar.gz:train/fluid-pound/001.csv=fluid-pound#12 ") &&
			  strstr(got, "cards.tar.gz:train/long.csv:c2=pump-off#11"),
		      "archive: tar.gz: %s", got);
		free(got);
		free(p);
	}
	{
		const struct fx_member m[] = {{"ok.csv", a.buf, 0}, {"../evil.csv", a.buf, 0}};
		p = fx_path("dotdot.tar");
		fx_archive(p, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, m, 2);
		got = read_all(p, NULL, NULL);
		check(strstr(got, "dotdot.tar:ok.csv#12 ") &&
			  strstr(got, "dotdot.tar: member \"../evil.csv\": \"..\" in its name "
				      "(refused)"),
		      "archive: a ../ member refused, naming archive and member: %s", got);
		free(got);
		free(p);
	}
	{
		const struct fx_member m[] = {{"/etc/cards.csv", a.buf, 0}};
		p = fx_path("abs.zip");
		fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 1);
		got = read_all(p, NULL, NULL);
		check(strstr(got, "abs.zip: member \"/etc/cards.csv\": absolute name (refused)"),
		      "archive: an absolute member refused: %s", got);
		free(got);
		free(p);
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

/* A decompression bomb: 80 MB of one byte in a gzip file of about 80 KB (not zeros: they
 * would read as an empty tar archive). Reading it stops once
 * the output passes STREAM_RATIO_FROM at more than STREAM_MAX_RATIO times the input. */
static void test_bomb(void)
{
	char *p = fx_path("bomb.csv.gz"), *got;
	struct archive *a = archive_write_new();
	struct archive_entry *en = archive_entry_new();
	char *zeros = xmalloc(1 << 20);
	struct stream *st;
	struct err e = ERR_INIT;
	char *buf = xmalloc(1 << 16);
	ssize_t k;
	unsigned long long total = 0;
	memset(zeros, 'x', 1 << 20);
	archive_write_add_filter_gzip(a);
	archive_write_set_format_raw(a);
	archive_write_open_filename(a, p);
	archive_entry_set_pathname(en, "bomb.csv");
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_size(en, 80 << 20);
	archive_write_header(a, en);
	for (int i = 0; i < 80; i++)
		archive_write_data(a, zeros, 1 << 20);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(en);

	check(stream_open(&st, p, &e) == 0, "bomb: opened: %s", e.msg);
	while ((k = stream_read(st, buf, 1 << 16, &e)) > 0)
		total += (unsigned long long)k;
	check(k < 0 && strstr(e.msg, "bomb.csv.gz: decompresses to more than 250 times its size") &&
		  total <= STREAM_RATIO_FROM + (1 << 20),
	      "bomb: stopped after %llu bytes: %s", total, e.msg);
	stream_free(&st);
	/* Through the card reader, with its own cap. */
	{
		struct card_read_opts o = {.max_bytes = 1 << 20};
		got = first_error(p, &o);
		check(strstr(got, "bomb.csv.gz: more than 1048576 bytes decompressed (the limit)"),
		      "bomb: the reader's cap: %s", got);
		free(got);
	}
	got = first_error(p, NULL);
	check(strstr(got, "bomb.csv.gz: decompresses to more than 250 times its size"),
	      "bomb: the reader stops at the ratio: %s", got);
	free(got);
	free(buf);
	free(zeros);
	free(p);
}

/* The cap counts every member of an archive. */
static void test_archive_cap(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p, *got;
	strbuf_adds(&sb, "card,position,load\n");
	for (int i = 0; i < 200; i++) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "c%d,", i);
		loop_text(&sb, prefix, 40, 10, 5);
	}
	{
		const struct fx_member m[] = {{"a.csv", sb.buf, 0}, {"b.csv", sb.buf, 0}};
		struct card_read_opts o = {.max_bytes = 3 * sb.len / 2};
		p = fx_path("cap.zip");
		fx_archive(p, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2);
		got = read_all(p, &o, NULL);
		check(strstr(got, "cap.zip:a.csv:c199#40 ") && !strstr(got, "b.csv:c199") &&
			  strstr(got, "cap.zip:b.csv: more than"),
		      "cap: counted over the members: ...%s",
		      got + (strlen(got) > 200 ? strlen(got) - 200 : 0));
		free(got);
		free(p);
	}
	strbuf_release(&sb);
}

int main(void)
{
	fx_mkdir("t-cards-read");
	test_validate();
	test_csv();
	test_stream_many();
	test_json();
	test_stdin();
	test_huge_file();
	test_archives();
	test_bomb();
	test_archive_cap();
	fx_rmdir();
	return check_done();
}
