/* Unit tests of lib/ts/plot.c: PNG and SVG files are written (signature, size), degenerate
 * inputs (one point, all zeros, no history) draw without error, and a bad path is an error. */
#include <unistd.h>

#include "check.h"
#include "base/base.h"
#include "ts/date.h"
#include "ts/plot.h"

static long file_head(const char *path, unsigned char *buf, size_t n)
{
	FILE *fp = fopen(path, "rb");
	long size;
	if (!fp)
		return -1;
	if (fread(buf, 1, n, fp) != n)
		memset(buf, 0, n);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	return size;
}

int main(void)
{
	char dir[] = "/tmp/t_ts_plot.XXXXXX", png[64], svg[64];
	long hd[400], fd[30], d0;
	double h[400], mean[30], lo[60], hi[60], levels[] = {80, 95}, zero[30] = {0};
	unsigned char head[8];
	struct ts_plot p;
	struct err e = ERR_INIT;

	if (!mkdtemp(dir))
		return 1;
	snprintf(png, sizeof(png), "%s/f.png", dir);
	snprintf(svg, sizeof(svg), "%s/f.svg", dir);
	ts_date_parse("2023-06-01", 10, &d0);
	for (int i = 0; i < 400; i++) {
		hd[i] = d0 + i;
		h[i] = 20 + 10 * (i % 7 < 5) + (i % 13);
	}
	for (int i = 0; i < 30; i++) {
		fd[i] = d0 + 400 + i;
		mean[i] = 30;
		lo[i] = 25 - i * 0.1;
		hi[i] = 35 + i * 0.1;
		lo[30 + i] = 20 - i * 0.2;
		hi[30 + i] = 40 + i * 0.2;
	}
	memset(&p, 0, sizeof(p));
	p.title = "queue 6 Invoices - ETS(A,N,A)";
	p.ylabel = "tickets per day";
	p.hist_day = hd;
	p.hist = h;
	p.nhist = 400;
	p.fc_day = fd;
	p.mean = mean;
	p.lo = lo;
	p.hi = hi;
	p.h = 30;
	p.nlevels = 2;
	p.levels = levels;

	check(ts_plot_format_ok("a.PNG") == 0 && ts_plot_format_ok("a.svg") == 0 &&
		  ts_plot_format_ok("a.pdf") < 0 && ts_plot_format_ok("png") < 0,
	      "formats by extension");
	check(ts_plot_write(png, &p, &e) == 0, "PNG written: %s", e.msg);
	check(file_head(png, head, 8) > 10000 && !memcmp(head, "\x89PNG\r\n\x1a\n", 8),
	      "PNG signature and a real image");
	check(ts_plot_write(svg, &p, &e) == 0, "SVG written: %s", e.msg);
	check(file_head(svg, head, 5) > 1000 && !memcmp(head, "<?xml", 5), "SVG document");

	p.nhist = 1;
	p.hist = zero;
	p.mean = zero;
	p.lo = zero;
	p.hi = zero;
	p.nlevels = 1;
	check(ts_plot_write(png, &p, &e) == 0, "one point of history, all zeros");
	p.nhist = 0;
	p.h = 1;
	check(ts_plot_write(png, &p, &e) == 0, "no history, one forecast point");

	err_clear(&e);
	check(ts_plot_write("/nonexistent-dir/f.png", &p, &e) < 0 && e.code == DYN_EDATA &&
		  strstr(e.msg, "/nonexistent-dir/f.png: No such file or directory"),
	      "unwritable path: %s", e.msg);
	unlink(png);
	unlink(svg);
	rmdir(dir);
	return check_done();
}
