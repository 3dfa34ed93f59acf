/* Speed of lib/ocr: synthetic marking lines generated a second (one thread, the default
 * effects), and the order matcher on a large table (load, then readings with OCR confusions
 * matched one by one), with how many of those readings found their own row.
 * usage: ocr [LINES [ROWS [QUERIES]]]   (defaults 2000, 100000, 2000) */
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "core/rng.h"
#include "ocr/match.h"
#include "ocr/synth.h"

/* CPU time of this process: the machine is shared, and wall time says more about the other
 * jobs than about this one. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Replaces a few characters with what a recognizer confuses them with. */
static void confuse(struct strbuf *sb, struct rng *r)
{
	static const char from[] = "0158O2", to[] = "OIS3D7";
	for (size_t i = 0; i < sb->len; i++) {
		const char *p = strchr(from, sb->buf[i]);
		if (p && *p && rng_uniform(r) < 0.15)
			sb->buf[i] = to[p - from];
	}
}

int main(int argc, char **argv)
{
	long lines = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
	long rows = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
	long queries = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
	struct ocr_synth_opts so = {.effects = 1};
	struct ocr_synth *s = NULL;
	struct ocr_orders *o = NULL;
	struct err e = ERR_INIT;
	struct img im;
	struct strbuf csv = STRBUF_INIT;
	char path[] = "/tmp/ocr-bench-XXXXXX";
	double t0, px = 0;
	long found = 0, rejected = 0;
	struct rng r;
	FILE *f;
	int fd;

	img_init(&im);
	if (ocr_synth_new(&s, &so, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	t0 = now();
	for (long i = 0; i < lines; i++) {
		char *text = NULL;
		if (ocr_synth_line(s, (uint64_t)i, &im, &text, &e) < 0)
			return 1;
		px += (double)(im.w * im.h);
		free(text);
	}
	printf("synth: %ld lines in %.2f CPU s: %.0f lines/s (mean width %.0f px at height 32, %zu "
	       "fonts)\n",
	       lines, now() - t0, (double)lines / (now() - t0), px / (double)lines / 32,
	       ocr_synth_nfonts(s));

	/* a table of the generator's own articles and serials */
	strbuf_adds(&csv, "article,serial,order\n");
	for (long i = 0; i < rows; i++) {
		struct strbuf t = STRBUF_INIT;
		char *sp;
		ocr_synth_text(s, 1000000 + (uint64_t)i, &t);
		sp = strrchr(t.buf, ' ');
		if (sp)
			*sp = 0;
		strbuf_addf(&csv, "\"%s\",\"%s\",O-%ld\n", t.buf, sp ? sp + 1 : "", i);
		strbuf_release(&t);
	}
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fwrite(csv.buf, 1, csv.len, f) != csv.len || fclose(f) != 0)
		return 1;
	t0 = now();
	if (ocr_orders_load(&o, path, NULL, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	printf("match: loaded %zu rows in %.2f CPU s\n", ocr_orders_count(o), now() - t0);
	rng_init(&r, 7);
	t0 = now();
	for (long q = 0; q < queries; q++) {
		size_t row = (size_t)rng_below(&r, ocr_orders_count(o)), n;
		const struct ocr_order *od = ocr_orders_row(o, row);
		struct strbuf t = STRBUF_INIT;
		struct ocr_match m[5];
		strbuf_addf(&t, "%s%s%s", od->f[OCR_ARTICLE], od->f[OCR_SERIAL][0] ? " " : "",
			    od->f[OCR_SERIAL]);
		confuse(&t, &r);
		ocr_orders_match(o, t.buf, NULL, m, &n, &e);
		if (!n)
			rejected++;
		else if (!strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ORDER], od->f[OCR_ORDER]) ||
			 (!strcmp(ocr_orders_row(o, m[0].row)->f[OCR_ARTICLE],
				  od->f[OCR_ARTICLE]) &&
			  !strcmp(ocr_orders_row(o, m[0].row)->f[OCR_SERIAL], od->f[OCR_SERIAL])))
			found++;
		strbuf_release(&t);
	}
	printf(
	    "match: %ld confused readings in %.2f CPU s: %.2f ms each; %ld found their row (or its "
	    "twin), %ld rejected\n",
	    queries, now() - t0, 1000 * (now() - t0) / (double)queries, found, rejected);
	unlink(path);
	ocr_orders_free(&o);
	ocr_synth_free(&s);
	img_release(&im);
	strbuf_release(&csv);
	return 0;
}
