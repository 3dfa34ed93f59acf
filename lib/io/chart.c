/* Charts with cairo (see chart.h): the library loaded on first use, canvases, axes, text. */
#include <errno.h>
#include <math.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHART_NO_MACROS
#include "io/chart.h"
#include "base/base.h"
#include "base/lazylib.h"

struct chart_cairo_fns chart_cairo;

static int chart_load(struct err *e)
{
	static int loaded;
	return LAZYLIB_LOAD(CHART_CAIRO_FUNCS, chart_cairo, "libcairo.so.2", &loaded, "--plot", e);
}

static const char *ext_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : "";
}

int chart_format_ok(const char *path)
{
	const char *x = ext_of(path);
	return !strcasecmp(x, "png") || !strcasecmp(x, "svg") ? 0 : -1;
}

int chart_check_path(const char *path, struct err *e)
{
	struct stat st;
	char *dir;
	const char *slash = strrchr(path, '/');
	int ret = 0;

	if (chart_format_ok(path) < 0)
		return err_set(e, DYN_EUSAGE,
			       "expected a file name ending in .png or .svg, got \"%s\"", path);
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			errno = EISDIR;
		if (S_ISDIR(st.st_mode) || access(path, W_OK) < 0)
			ret = err_sys(e, "\"%s\": cannot be written", path);
		return ret;
	}
	/* "/x.png" lives in the root */
	dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	if (access(dir, W_OK | X_OK) < 0)
		ret = err_sys(e, "\"%s\": cannot be written", path);
	free(dir);
	return ret;
}

int chart_open(struct chart *c, const char *path, double w, double h, struct err *e)
{
	FILE *probe;

	memset(c, 0, sizeof(*c));
	if (chart_load(e) < 0)
		return -1;
	/* cairo reports a failed write as a bare status: open the file first for a real errno. */
	probe = fopen(path, "wb");
	if (!probe)
		return err_sys(e, "%s", path);
	fclose(probe);
	c->path = path;
	c->w = w;
	c->h = h;
	c->svg = !strcasecmp(ext_of(path), "svg");
	if (c->svg)
		c->surface = chart_cairo.cairo_svg_surface_create(path, w, h);
	else
		c->surface =
		    chart_cairo.cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
	c->cr = chart_cairo.cairo_create(c->surface);
	chart_cairo.cairo_set_source_rgb(c->cr, 1, 1, 1);
	chart_cairo.cairo_paint(c->cr);
	chart_cairo.cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
					   CAIRO_FONT_WEIGHT_NORMAL);
	return 0;
}

int chart_close(struct chart *c, struct err *e)
{
	cairo_status_t st;

	if (!c->cr)
		return 0;
	st = chart_cairo.cairo_status(c->cr);
	chart_cairo.cairo_destroy(c->cr);
	c->cr = NULL;
	if (st == CAIRO_STATUS_SUCCESS && !c->svg)
		st = chart_cairo.cairo_surface_write_to_png(c->surface, c->path);
	chart_cairo.cairo_surface_finish(c->surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = chart_cairo.cairo_surface_status(c->surface);
	chart_cairo.cairo_surface_destroy(c->surface);
	c->surface = NULL;
	if (st != CAIRO_STATUS_SUCCESS)
		return err_set(e, DYN_EDATA, "%s: cannot draw the plot: %s", c->path,
			       chart_cairo.cairo_status_to_string(st));
	return 0;
}

double chart_pos(const struct chart_axis *a, double v)
{
	double t = a->log ? (log10(v) - log10(a->v0)) / (log10(a->v1) - log10(a->v0))
			  : (v - a->v0) / (a->v1 - a->v0);
	return a->p0 + t * (a->p1 - a->p0);
}

double chart_nice_step(double range, int target)
{
	double raw = range / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
	return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

size_t chart_ticks(const struct chart_axis *a, int target, double *ticks, size_t max)
{
	size_t n = 0;
	double step;

	if (!(a->v1 > a->v0) || !isfinite(a->v1 - a->v0) || target < 1)
		return 0;
	/* A log axis shorter than a decade has too few powers of ten: linear ticks suit it. */
	if (a->log && a->v0 > 0 && a->v1 / a->v0 >= 10) {
		static const double all[] = {1, 2, 5};
		double span = log10(a->v1 / a->v0), d0 = floor(log10(a->v0) + 1e-9);
		double d1 = floor(log10(a->v1) + 1e-9), every = 1;
		size_t nm = span <= 3 ? ARRAY_SIZE(all) : 1;
		/* a long axis: every k-th power of ten within it, about target of them */
		if (nm == 1) {
			d0 = ceil(log10(a->v0) - 1e-9);
			every = fmax(1, ceil((d1 - d0 + 1) / target));
		}
		for (double d = d0; d <= d1 && n < max; d += every)
			for (size_t m = 0; m < nm && n < max; m++) {
				double v = all[m] * pow(10, d);
				if (v >= a->v0 * (1 - 1e-9) && v <= a->v1 * (1 + 1e-9))
					ticks[n++] = v;
			}
		return n;
	}
	step = chart_nice_step(a->v1 - a->v0, target);
	if (a->integer && step < 1)
		step = 1;
	/* v0 / step a hair above a whole number is that number (0.0009 / 0.0001 is 9.0000...02) */
	for (double k = ceil(a->v0 / step - 1e-9); n < max; k++) {
		double v = k * step;
		if (v > a->v1 + step * 1e-9)
			break;
		/* -0 and the rounding residue of a zero tick print as 0 */
		ticks[n++] = fabs(v) < step / 1e6 ? 0 : v;
	}
	return n;
}

void chart_text(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
	cairo_text_extents_t te;
	chart_cairo.cairo_text_extents(cr, s, &te);
	chart_cairo.cairo_move_to(cr, x - te.width * ax - te.x_bearing,
				  y - te.height * ay - te.y_bearing);
	chart_cairo.cairo_show_text(cr, s);
}

void chart_text_up(cairo_t *cr, double x, double y, const char *s, double size)
{
	chart_cairo.cairo_save(cr);
	chart_cairo.cairo_translate(cr, x, y);
	chart_cairo.cairo_rotate(cr, -M_PI / 2);
	chart_cairo.cairo_set_font_size(cr, size);
	chart_text(cr, 0, 0, s, 0.5, 0.5);
	chart_cairo.cairo_restore(cr);
}

static void grid_line(cairo_t *cr, double x0, double y0, double x1, double y1)
{
	chart_colour(cr, CHART_GRID);
	chart_cairo.cairo_set_line_width(cr, 1);
	chart_cairo.cairo_move_to(cr, x0, y0);
	chart_cairo.cairo_line_to(cr, x1, y1);
	chart_cairo.cairo_stroke(cr);
}

void chart_yaxis(cairo_t *cr, const struct chart_axis *y, double x0, double x1, int target)
{
	double ticks[64];
	size_t n = chart_ticks(y, target, ticks, ARRAY_SIZE(ticks));
	char buf[32];

	chart_cairo.cairo_set_font_size(cr, 13);
	for (size_t i = 0; i < n; i++) {
		double p = chart_pos(y, ticks[i]);
		grid_line(cr, x0, p, x1, p);
		chart_colour(cr, CHART_LABEL);
		snprintf(buf, sizeof(buf), "%g", ticks[i]);
		chart_text(cr, x0 - 8, p, buf, 1, 0.5);
	}
}

void chart_xaxis(cairo_t *cr, const struct chart_axis *x, double y0, double y1, int target,
		 bool labels)
{
	double ticks[64];
	size_t n = chart_ticks(x, target, ticks, ARRAY_SIZE(ticks));
	char buf[32];

	chart_cairo.cairo_set_font_size(cr, 13);
	for (size_t i = 0; i < n; i++) {
		double p = chart_pos(x, ticks[i]);
		grid_line(cr, p, y0, p, y1);
		if (!labels)
			continue;
		chart_colour(cr, CHART_LABEL);
		snprintf(buf, sizeof(buf), "%g", ticks[i]);
		chart_text(cr, p, y1 + 10, buf, 0.5, 0);
	}
}

void chart_colour(cairo_t *cr, enum chart_colour c)
{
	static const double rgb[][3] = {
	    [CHART_GRID] = {0.88, 0.88, 0.88}, [CHART_LABEL] = {0.2, 0.2, 0.2},
	    [CHART_FRAME] = {0.3, 0.3, 0.3},   [CHART_TITLE] = {0, 0, 0},
	    [CHART_DARK] = {0.15, 0.15, 0.15}, [CHART_BLUE] = {0.1, 0.35, 0.75},
	    [CHART_ORANGE] = {0.9, 0.45, 0.1}, [CHART_GREEN] = {0.2, 0.6, 0.3},
	};
	chart_cairo.cairo_set_source_rgb(cr, rgb[c][0], rgb[c][1], rgb[c][2]);
}
