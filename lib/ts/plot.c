/* Forecast charts with cairo (see plot.h). Layout in device units of a 1200x600 canvas; the
 * axes get "nice" ticks: 1-2-5 steps for counts, calendar steps (weeks, months, quarters,
 * years) for dates, so labels always fall on dates a person would pick. */
#include <cairo.h>
#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <strings.h>

#include "base/base.h"
#include "base/lazylib.h"
#include "ts/date.h"
#include "ts/plot.h"

/* cairo is loaded when a plot is drawn, not when dyn starts (base/lazylib.h says why). */
#define CAIRO_FUNCS(X)                                                                             \
	X(cairo_close_path)                                                                        \
	X(cairo_create)                                                                            \
	X(cairo_destroy)                                                                           \
	X(cairo_fill)                                                                              \
	X(cairo_image_surface_create)                                                              \
	X(cairo_line_to)                                                                           \
	X(cairo_move_to)                                                                           \
	X(cairo_paint)                                                                             \
	X(cairo_rectangle)                                                                         \
	X(cairo_restore)                                                                           \
	X(cairo_rotate)                                                                            \
	X(cairo_save)                                                                              \
	X(cairo_select_font_face)                                                                  \
	X(cairo_set_font_size)                                                                     \
	X(cairo_set_line_width)                                                                    \
	X(cairo_set_source_rgb)                                                                    \
	X(cairo_set_source_rgba)                                                                   \
	X(cairo_show_text)                                                                         \
	X(cairo_status)                                                                            \
	X(cairo_status_to_string)                                                                  \
	X(cairo_stroke)                                                                            \
	X(cairo_surface_destroy)                                                                   \
	X(cairo_surface_finish)                                                                    \
	X(cairo_surface_status)                                                                    \
	X(cairo_surface_write_to_png)                                                              \
	X(cairo_svg_surface_create)                                                                \
	X(cairo_text_extents)                                                                      \
	X(cairo_translate)

static struct {
#define X(f) __typeof__(f) *f;
	CAIRO_FUNCS(X)
#undef X
} cairo_fn;

static int cairo_load(struct err *e)
{
	static const char *const names[] = {
#define X(f) #f,
	    CAIRO_FUNCS(X)
#undef X
	};
	void **const slots[] = {
#define X(f) (void **)&cairo_fn.f,
	    CAIRO_FUNCS(X)
#undef X
	};
	static int loaded;
	return lazylib_load("libcairo.so.2", names, slots, ARRAY_SIZE(names), &loaded, "--plot", e);
}

#define W  1200.0
#define H  600.0
#define ML 80.0 /* margins: left, right, top, bottom */
#define MR 30.0
#define MT 50.0
#define MB 60.0

static const char *ext_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : "";
}

int ts_plot_format_ok(const char *path)
{
	const char *x = ext_of(path);
	return !strcasecmp(x, "png") || !strcasecmp(x, "svg") ? 0 : -1;
}

struct frame {
	double x0, x1, y0, y1; /* data ranges: days and counts */
};

static double px(const struct frame *f, double day)
{
	return ML + (day - f->x0) / (f->x1 - f->x0) * (W - ML - MR);
}

static double py(const struct frame *f, double v)
{
	return H - MB - (v - f->y0) / (f->y1 - f->y0) * (H - MT - MB);
}

static double nice_step(double range, int target)
{
	double raw = range / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
	return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
	cairo_text_extents_t te;
	cairo_fn.cairo_text_extents(cr, s, &te);
	cairo_fn.cairo_move_to(cr, x - te.width * ax - te.x_bearing,
			       y - te.height * ay - te.y_bearing);
	cairo_fn.cairo_show_text(cr, s);
}

static void y_axis(cairo_t *cr, const struct frame *f)
{
	double step = nice_step(f->y1 - f->y0, 6);
	char buf[32];
	cairo_fn.cairo_set_font_size(cr, 13);
	for (double v = ceil(f->y0 / step) * step; v <= f->y1 + 1e-9; v += step) {
		double y = py(f, v);
		cairo_fn.cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
		cairo_fn.cairo_set_line_width(cr, 1);
		cairo_fn.cairo_move_to(cr, ML, y);
		cairo_fn.cairo_line_to(cr, W - MR, y);
		cairo_fn.cairo_stroke(cr);
		cairo_fn.cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		snprintf(buf, sizeof(buf), "%g", fabs(v) < step / 1e6 ? 0 : v);
		text_at(cr, ML - 8, y, buf, 1, 0.5);
	}
}

/* Ticks on calendar boundaries: every 1, 2 or 4 weeks, or 1, 3, 6 or 12 months. */
static void x_axis(cairo_t *cr, const struct frame *f)
{
	static const int months[] = {1, 2, 3, 6, 12, 24, 60};
	double span = f->x1 - f->x0;
	char buf[32];
	long day;
	int y, m, d, step_m = 0, step_w = 0;
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	if (span <= 70)
		step_w = span <= 20 ? 0 : span <= 40 ? 1 : 2;
	if (span <= 70 && !step_w)
		step_w = -1; /* daily ticks */
	if (span > 70)
		for (size_t i = 0; i < ARRAY_SIZE(months); i++)
			if (span / (30.4 * months[i]) <= 10 || i + 1 == ARRAY_SIZE(months)) {
				step_m = months[i];
				break;
			}
	if (step_m)
		day = ts_month_start((long)ceil(f->x0) - 1);
	else if (step_w > 0)
		day = ts_week_start((long)ceil(f->x0)) + 7;
	else
		day = (long)ceil(f->x0);
	cairo_fn.cairo_set_font_size(cr, 13);
	while (day <= f->x1) {
		ts_civil_from_days(day, &y, &m, &d);
		if (day >= f->x0 && (!step_m || (m - 1) % (step_m > 12 ? 12 : step_m) == 0) &&
		    (step_m <= 12 || y % (step_m / 12) == 0)) {
			double x = px(f, (double)day);
			cairo_fn.cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
			cairo_fn.cairo_set_line_width(cr, 1);
			cairo_fn.cairo_move_to(cr, x, MT);
			cairo_fn.cairo_line_to(cr, x, H - MB);
			cairo_fn.cairo_stroke(cr);
			cairo_fn.cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
			if (step_m >= 12)
				snprintf(buf, sizeof(buf), "%d", y);
			else if (step_m)
				snprintf(buf, sizeof(buf), "%s %d", mon[m - 1], y);
			else
				snprintf(buf, sizeof(buf), "%s %d", mon[m - 1], d);
			text_at(cr, x, H - MB + 10, buf, 0.5, 0);
		}
		if (step_m)
			day = ts_next_month(day);
		else if (step_w > 0)
			day += 7L * step_w;
		else
			day++;
	}
}

static void draw(cairo_t *cr, const struct ts_plot *p)
{
	struct frame f;
	double lo = INFINITY, hi = -INFINITY;
	size_t i, l;

	cairo_fn.cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_fn.cairo_paint(cr);
	cairo_fn.cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
					CAIRO_FONT_WEIGHT_NORMAL);

	f.x0 = p->nhist ? (double)p->hist_day[0] : (double)p->fc_day[0];
	f.x1 = p->h ? (double)p->fc_day[p->h - 1] : (double)p->hist_day[p->nhist - 1];
	if (f.x1 <= f.x0)
		f.x1 = f.x0 + 1;
	for (i = 0; i < p->nhist; i++) {
		lo = fmin(lo, p->hist[i]);
		hi = fmax(hi, p->hist[i]);
	}
	for (i = 0; i < p->h; i++) {
		lo = fmin(lo, p->mean[i]);
		hi = fmax(hi, p->mean[i]);
		for (l = 0; l < p->nlevels; l++) {
			lo = fmin(lo, p->lo[l * p->h + i]);
			hi = fmax(hi, p->hi[l * p->h + i]);
		}
	}
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 1;
	}
	if (lo > 0)
		lo = 0; /* counts: show the zero line */
	if (hi <= lo)
		hi = lo + 1;
	f.y0 = lo;
	f.y1 = hi + (hi - lo) * 0.05;

	y_axis(cr, &f);
	x_axis(cr, &f);

	/* Interval bands, the highest level (widest) first so the narrower ones sit on top. */
	for (size_t r = 0; r < p->nlevels; r++) {
		size_t k = 0;
		for (l = 0; l < p->nlevels; l++) {
			size_t rank = 0;
			for (size_t m = 0; m < p->nlevels; m++)
				if (p->levels[m] > p->levels[l] ||
				    (m < l && p->levels[m] == p->levels[l]))
					rank++;
			if (rank == r)
				k = l;
		}
		cairo_fn.cairo_set_source_rgba(cr, 0.27, 0.51, 0.71, 0.18 + 0.14 * (double)r);
		for (i = 0; i < p->h; i++) {
			double x = px(&f, (double)p->fc_day[i]), y = py(&f, p->hi[k * p->h + i]);
			if (i == 0)
				cairo_fn.cairo_move_to(cr, x, y);
			else
				cairo_fn.cairo_line_to(cr, x, y);
		}
		for (i = p->h; i-- > 0;)
			cairo_fn.cairo_line_to(cr, px(&f, (double)p->fc_day[i]),
					       py(&f, p->lo[k * p->h + i]));
		cairo_fn.cairo_close_path(cr);
		cairo_fn.cairo_fill(cr);
	}

	/* History. */
	cairo_fn.cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
	cairo_fn.cairo_set_line_width(cr, 1.3);
	for (i = 0; i < p->nhist; i++) {
		double x = px(&f, (double)p->hist_day[i]), y = py(&f, p->hist[i]);
		if (i == 0)
			cairo_fn.cairo_move_to(cr, x, y);
		else
			cairo_fn.cairo_line_to(cr, x, y);
	}
	cairo_fn.cairo_stroke(cr);

	/* Forecast, joined to the last observation. */
	cairo_fn.cairo_set_source_rgb(cr, 0.1, 0.35, 0.75);
	cairo_fn.cairo_set_line_width(cr, 2);
	if (p->nhist)
		cairo_fn.cairo_move_to(cr, px(&f, (double)p->hist_day[p->nhist - 1]),
				       py(&f, p->hist[p->nhist - 1]));
	for (i = 0; i < p->h; i++) {
		double x = px(&f, (double)p->fc_day[i]), y = py(&f, p->mean[i]);
		if (i == 0 && !p->nhist)
			cairo_fn.cairo_move_to(cr, x, y);
		else
			cairo_fn.cairo_line_to(cr, x, y);
	}
	cairo_fn.cairo_stroke(cr);

	/* Frame, title and legend. */
	cairo_fn.cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_fn.cairo_set_line_width(cr, 1);
	cairo_fn.cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
	cairo_fn.cairo_stroke(cr);
	cairo_fn.cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_fn.cairo_set_font_size(cr, 18);
	text_at(cr, ML, MT / 2, p->title ? p->title : "forecast", 0, 0.5);
	if (p->ylabel) {
		/* The unit of the y axis, written upwards along it. */
		cairo_fn.cairo_save(cr);
		cairo_fn.cairo_translate(cr, 20, MT + (H - MT - MB) / 2);
		cairo_fn.cairo_rotate(cr, -M_PI / 2);
		cairo_fn.cairo_set_font_size(cr, 14);
		text_at(cr, 0, 0, p->ylabel, 0.5, 0.5);
		cairo_fn.cairo_restore(cr);
	}
	cairo_fn.cairo_set_font_size(cr, 13);
	{
		struct strbuf sb = STRBUF_INIT;
		strbuf_adds(&sb, "black: history   blue: forecast");
		for (l = 0; l < p->nlevels; l++)
			strbuf_addf(&sb, "%s%g%%", l ? ", " : "   bands: ", p->levels[l]);
		if (p->nlevels)
			strbuf_adds(&sb, " intervals");
		text_at(cr, W - MR, MT / 2, sb.buf, 1, 0.5);
		strbuf_release(&sb);
	}
}

int ts_plot_write(const char *path, const struct ts_plot *p, struct err *e)
{
	cairo_surface_t *s;
	cairo_t *cr;
	cairo_status_t st;
	int svg = !strcasecmp(ext_of(path), "svg"), ret = -1;
	FILE *probe;

	if (cairo_load(e) < 0)
		return -1;
	/* cairo reports a failed write as a bare status: open the file first for a real errno. */
	probe = fopen(path, "wb");
	if (!probe)
		return err_sys(e, "%s", path);
	fclose(probe);
	if (svg)
		s = cairo_fn.cairo_svg_surface_create(path, W, H);
	else
		s = cairo_fn.cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)W, (int)H);
	cr = cairo_fn.cairo_create(s);
	draw(cr, p);
	st = cairo_fn.cairo_status(cr);
	cairo_fn.cairo_destroy(cr);
	if (st == CAIRO_STATUS_SUCCESS && !svg)
		st = cairo_fn.cairo_surface_write_to_png(s, path);
	cairo_fn.cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_fn.cairo_surface_status(s);
	cairo_fn.cairo_surface_destroy(s);
	if (st != CAIRO_STATUS_SUCCESS) {
		err_set(e, DYN_EDATA, "%s: cannot draw the plot: %s", path,
			cairo_fn.cairo_status_to_string(st));
		goto out;
	}
	ret = 0;
out:
	return ret;
}
