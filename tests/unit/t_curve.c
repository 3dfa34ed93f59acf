/* Unit tests of lib/models/curve and the axes of lib/io/chart: tick values (linear, log,
 * integer), learning curves written as PNG (decoded back: size, and the colours of the series
 * that were drawn) and SVG (paths), with missing values, one epoch, constant values, epochs as
 * an index entry keeps them (the metric found by its key), and the errors. */
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"
#include "io/chart.h"
#include "io/image.h"
#include "models/curve.h"

static char dir[] = "/tmp/t_curve.XXXXXX";

/* Pixels of a drawing near each series colour of the chart palette. */
struct counts {
	size_t w, h, blue, orange, green, white;
};

static bool near(const unsigned char *p, int r, int g, int b)
{
	return abs(p[0] - r) < 30 && abs(p[1] - g) < 30 && abs(p[2] - b) < 30;
}

/* Decodes the PNG at path and counts its pixels by colour; -1 when it does not decode. */
static int png_counts(const char *path, struct counts *c)
{
	struct strbuf sb = STRBUF_INIT;
	struct img im;
	struct err e = ERR_INIT;
	FILE *fp = fopen(path, "rb");
	int ret = -1;

	memset(c, 0, sizeof(*c));
	img_init(&im);
	if (!fp)
		return -1;
	if (strbuf_read_fd(&sb, fileno(fp)) < 0 || img_decode(&im, sb.buf, sb.len, 3, path, &e) < 0)
		goto out;
	c->w = im.w;
	c->h = im.h;
	for (size_t i = 0; i < im.w * im.h; i++) {
		const unsigned char *p = im.px + 3 * i;
		c->white += p[0] == 255 && p[1] == 255 && p[2] == 255;
		c->blue += near(p, 26, 89, 191);
		c->orange += near(p, 230, 115, 26);
		c->green += near(p, 51, 153, 77);
	}
	ret = 0;
out:
	fclose(fp);
	strbuf_release(&sb);
	img_release(&im);
	return ret;
}

static size_t count_str(const char *path, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "rb");
	size_t n = 0;
	if (!fp)
		return 0;
	if (strbuf_read_fd(&sb, fileno(fp)) == 0)
		for (const char *p = sb.buf; p && (p = strstr(p, s)); p++)
			n++;
	fclose(fp);
	strbuf_release(&sb);
	return n;
}

static void test_ticks(void)
{
	double t[64];
	const struct chart_axis lin = {0, 1, 0, 100, false, false};
	const struct chart_axis logx = {0.002, 1.5, 0, 100, true, false};
	const struct chart_axis lr = {1e-6, 2e-3, 0, 100, true, false};
	const struct chart_axis ints = {0.5, 1.5, 0, 100, false, true};
	const struct chart_axis flat = {3, 3, 0, 100, false, false};
	const struct chart_axis tiny = {0.0009, 0.0011, 0, 100, false, false};
	size_t n;

	n = chart_ticks(&lin, 5, t, 64);
	check(n == 6 && t[0] == 0 && fabs(t[1] - 0.2) < 1e-12 && fabs(t[5] - 1) < 1e-12,
	      "linear 0..1: 0, 0.2, ..., 1 (%zu ticks)", n);
	n = chart_ticks(&logx, 6, t, 64);
	check(n == 9 && fabs(t[0] - 0.002) < 1e-15 && fabs(t[1] - 0.005) < 1e-15 &&
		  fabs(t[n - 1] - 1) < 1e-12,
	      "log 0.002..1.5: 1-2-5 in each decade, within the axis (%zu ticks)", n);
	n = chart_ticks(&lr, 2, t, 64);
	check(n == 2 && fabs(t[0] - 1e-6) < 1e-18 && fabs(t[1] - 1e-4) < 1e-17,
	      "log over 3 decades, 2 ticks: every other power of ten (%zu: %g, %g)", n, t[0], t[1]);
	n = chart_ticks(&ints, 10, t, 64);
	check(n == 1 && t[0] == 1, "integer axis 0.5..1.5: the one whole number (%zu ticks)", n);
	n = chart_ticks(&tiny, 2, t, 64);
	check(n == 3 && fabs(t[0] - 0.0009) < 1e-15,
	      "0.0009..0.0011: its bottom tick despite 0.0009 / 0.0001 > 9 (%zu ticks)", n);
	check(chart_ticks(&flat, 5, t, 64) == 0, "an empty range has no ticks");
	check(chart_ticks(&lin, 5, t, 3) == 3, "no more ticks than room for");
	check(fabs(chart_pos(&logx, 0.002)) < 1e-9 && fabs(chart_pos(&logx, 1.5) - 100) < 1e-9 &&
		  fabs(chart_pos(&logx, sqrt(0.003)) - 50) < 1e-9 &&
		  fabs(chart_pos(&lin, 0.25) - 25) < 1e-12,
	      "positions on linear and log axes");
}

static void test_curve(void)
{
	char png[64], svg[64], bad[] = "/nonexistent-dir/c.png";
	double epoch[20], loss[20], val[20], acc[20], vacc[20], lr[20], nan20[20];
	struct curve c;
	struct counts k;
	struct err e = ERR_INIT;

	snprintf(png, sizeof(png), "%s/c.png", dir);
	snprintf(svg, sizeof(svg), "%s/c.svg", dir);
	for (int i = 0; i < 20; i++) {
		epoch[i] = i + 1;
		loss[i] = 2.0 * exp(-0.3 * i); /* 2 .. 0.007: a log axis */
		val[i] = 2.2 * exp(-0.25 * i);
		acc[i] = 0.5 + 0.02 * i;
		vacc[i] = 0.45 + 0.02 * i;
		lr[i] = 1e-3 * (i < 10 ? 1 : 0.5);
		nan20[i] = NAN;
	}
	memset(&c, 0, sizeof(c));
	c.title = "m - dynamogram";
	c.n = 20;
	c.epoch = epoch;
	c.loss = loss;
	c.val_loss = val;
	c.metric = "accuracy";
	c.metric_train = acc;
	c.metric_val = vacc;
	c.lr = lr;

	check(curve_write(png, &c, &e) == 0, "PNG written: %s", e.msg);
	check(png_counts(png, &k) == 0 && k.w == 1200 && k.h == 800, "the PNG decodes, 1200x800");
	check(k.white > k.w * k.h / 2 && k.white < k.w * k.h - 20000,
	      "a white background with a drawing on it (%zu white)", k.white);
	check(k.blue > 500 && k.orange > 500 && k.green > 100,
	      "training (blue), validation (orange) and lr (green) drawn: %zu, %zu, %zu", k.blue,
	      k.orange, k.green);
	check(curve_write(svg, &c, &e) == 0, "SVG written: %s", e.msg);
	check(count_str(svg, "<svg") == 1 && count_str(svg, "<path") > 20,
	      "an SVG document of paths (%zu)", count_str(svg, "<path"));

	/* Missing values: a gap in the losses, no validation data, lr unknown. */
	loss[5] = NAN;
	loss[6] = INFINITY;
	c.val_loss = nan20;
	c.metric_val = nan20;
	c.lr = nan20;
	check(curve_write(png, &c, &e) == 0 && png_counts(png, &k) == 0,
	      "missing values drawn around: %s", e.msg);
	check(k.blue > 500 && k.orange == 0 && k.green == 0,
	      "no validation or lr line when they have no value (%zu orange, %zu green)", k.orange,
	      k.green);
	c.loss = nan20;
	c.metric_train = nan20;
	check(curve_write(png, &c, &e) == 0 && png_counts(png, &k) == 0 && k.blue == 0,
	      "no values at all: empty panels");
	c.loss = loss;
	c.metric_train = acc;
	loss[5] = 1;
	loss[6] = 1;

	/* One epoch: its points are markers. */
	c.n = 1;
	c.val_loss = val;
	check(curve_write(png, &c, &e) == 0 && png_counts(png, &k) == 0 && k.blue > 10 &&
		  k.orange > 10,
	      "one epoch: markers (%zu blue, %zu orange pixels)", k.blue, k.orange);

	/* Constant values, no epoch numbers: a level line over 1..n (alone: the validation line
	 * would cover it). */
	for (int i = 0; i < 20; i++)
		loss[i] = 0.25;
	c.n = 20;
	c.val_loss = NULL;
	c.epoch = NULL;
	c.metric = NULL;
	check(curve_write(png, &c, &e) == 0 && png_counts(png, &k) == 0 && k.blue > 500,
	      "constant values drawn as a line (%zu blue)", k.blue);

	c.n = 0;
	err_clear(&e);
	check(curve_write(png, &c, &e) < 0 && e.code == DYN_EUSAGE && strstr(e.msg, "no epochs"),
	      "no epochs: %s", e.msg);
	c.n = 20;
	err_clear(&e);
	check(curve_write(bad, &c, &e) < 0 && e.code == DYN_EDATA &&
		  strstr(e.msg, "/nonexistent-dir/c.png: No such file or directory"),
	      "unwritable path: %s", e.msg);
	err_clear(&e);
	check(curve_check_path("c.pdf", &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "expected a file name ending in .png or .svg, got \"c.pdf\""),
	      "check: an extension other than png or svg: %s", e.msg);
	err_clear(&e);
	check(curve_check_path(bad, &e) < 0 && e.code == DYN_EDATA &&
		  strstr(e.msg, "\"/nonexistent-dir/c.png\": cannot be written: No such file"),
	      "check: a directory that does not exist: %s", e.msg);
	err_clear(&e);
	snprintf(svg, sizeof(svg), "%s/d.png", dir);
	mkdir(svg, 0700);
	err_clear(&e);
	check(curve_check_path(svg, &e) < 0 && e.code == DYN_EDATA &&
		  strstr(e.msg, "cannot be written: Is a directory"),
	      "check: a directory named like a picture: %s", e.msg);
	rmdir(svg);
	snprintf(svg, sizeof(svg), "%s/new.SVG", dir);
	check(curve_check_path(png, &e) == 0 && curve_check_path(svg, &e) == 0 &&
		  access(svg, F_OK) < 0,
	      "check: an existing file, a new one in a writable directory");
	unlink(png);
	snprintf(svg, sizeof(svg), "%s/c.svg", dir);
	unlink(svg);
}

static void test_epochs(void)
{
	/* As the index keeps them: numbers or null, the metric under its own key. */
	static const char *const acc =
	    "[{\"epoch\": 1, \"loss\": null, \"val_loss\": null, \"lr\": null, \"accuracy\": 0.5, "
	    "\"val_accuracy\": null, \"seconds\": 0.1}, {\"epoch\": 2, \"loss\": null, \"lr\": "
	    "null, "
	    "\"accuracy\": 0.7, \"seconds\": 0.1}, {\"epoch\": 3, \"accuracy\": 0.8}]";
	static const char *const val_only =
	    "[{\"epoch\": 1, \"val_error_px\": 4.5}, {\"epoch\": 2, \"val_error_px\": 3.5}]";
	char png[64];
	cJSON *a = cJSON_Parse(acc), *v = cJSON_Parse(val_only), *empty = cJSON_Parse("[]");
	struct counts k;
	struct err e = ERR_INIT;

	snprintf(png, sizeof(png), "%s/e.png", dir);
	check(a && v && empty, "fixtures parse");
	check(curve_write_epochs(png, "m", "dynamogram", a, &e) == 0 && png_counts(png, &k) == 0,
	      "epochs of an entry drawn: %s", e.msg);
	check(k.blue > 20 && k.orange == 0,
	      "the metric found by its key and drawn alone (%zu blue, %zu orange)", k.blue,
	      k.orange);
	check(curve_write_epochs(png, "m", "keypoints", v, &e) == 0 && png_counts(png, &k) == 0 &&
		  k.orange > 20 && k.blue == 0,
	      "a metric known by its val_ key only (%zu orange)", k.orange);
	err_clear(&e);
	check(curve_write_epochs(png, "m", "logreg", empty, &e) < 0 && e.code == DYN_EUSAGE,
	      "an empty epochs array: %s", e.msg);
	err_clear(&e);
	check(curve_write_epochs(png, "m", "logreg", NULL, &e) < 0 && e.code == DYN_EUSAGE,
	      "no epochs array: %s", e.msg);
	cJSON_Delete(a);
	cJSON_Delete(v);
	cJSON_Delete(empty);
	unlink(png);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_ticks();
	test_curve();
	test_epochs();
	rmdir(dir);
	return check_done();
}
