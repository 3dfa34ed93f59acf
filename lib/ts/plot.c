/* Forecast charts with cairo (see plot.h). Layout in device units of a 1200x600 canvas; the
 * axes get "nice" ticks: 1-2-5 steps for counts, calendar steps (weeks, months, quarters,
 * years) for dates, so labels always fall on dates a person would pick. */
#include <math.h>

#include "base/base.h"
#include "io/chart.h"
#include "ts/date.h"
#include "ts/plot.h"

#define W  1200.0
#define H  600.0
#define ML 80.0 /* margins: left, right, top, bottom */
#define MR 30.0
#define MT 50.0
#define MB 60.0

int ts_plot_format_ok(const char *path)
{
	return chart_format_ok(path);
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

static void y_axis(cairo_t *cr, const struct frame *f)
{
	const struct chart_axis y = {f->y0, f->y1, H - MB, MT, false, false};
	chart_yaxis(cr, &y, ML, W - MR, 6);
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
	cairo_set_font_size(cr, 13);
	while (day <= f->x1) {
		ts_civil_from_days(day, &y, &m, &d);
		if (day >= f->x0 && (!step_m || (m - 1) % (step_m > 12 ? 12 : step_m) == 0) &&
		    (step_m <= 12 || y % (step_m / 12) == 0)) {
			double x = px(f, (double)day);
			chart_colour(cr, CHART_GRID);
			cairo_set_line_width(cr, 1);
			cairo_move_to(cr, x, MT);
			cairo_line_to(cr, x, H - MB);
			cairo_stroke(cr);
			chart_colour(cr, CHART_LABEL);
			if (step_m >= 12)
				snprintf(buf, sizeof(buf), "%d", y);
			else if (step_m)
				snprintf(buf, sizeof(buf), "%s %d", mon[m - 1], y);
			else
				snprintf(buf, sizeof(buf), "%s %d", mon[m - 1], d);
			chart_text(cr, x, H - MB + 10, buf, 0.5, 0);
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
		cairo_set_source_rgba(cr, 0.27, 0.51, 0.71, 0.18 + 0.14 * (double)r);
		for (i = 0; i < p->h; i++) {
			double x = px(&f, (double)p->fc_day[i]), y = py(&f, p->hi[k * p->h + i]);
			if (i == 0)
				cairo_move_to(cr, x, y);
			else
				cairo_line_to(cr, x, y);
		}
		for (i = p->h; i-- > 0;)
			cairo_line_to(cr, px(&f, (double)p->fc_day[i]),
				      py(&f, p->lo[k * p->h + i]));
		cairo_close_path(cr);
		cairo_fill(cr);
	}

	/* History. */
	chart_colour(cr, CHART_DARK);
	cairo_set_line_width(cr, 1.3);
	for (i = 0; i < p->nhist; i++) {
		double x = px(&f, (double)p->hist_day[i]), y = py(&f, p->hist[i]);
		if (i == 0)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);

	/* Forecast, joined to the last observation. */
	chart_colour(cr, CHART_BLUE);
	cairo_set_line_width(cr, 2);
	if (p->nhist)
		cairo_move_to(cr, px(&f, (double)p->hist_day[p->nhist - 1]),
			      py(&f, p->hist[p->nhist - 1]));
	for (i = 0; i < p->h; i++) {
		double x = px(&f, (double)p->fc_day[i]), y = py(&f, p->mean[i]);
		if (i == 0 && !p->nhist)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);

	/* Frame, title and legend. */
	chart_colour(cr, CHART_FRAME);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
	cairo_stroke(cr);
	chart_colour(cr, CHART_TITLE);
	cairo_set_font_size(cr, 18);
	chart_text(cr, ML, MT / 2, p->title ? p->title : "forecast", 0, 0.5);
	if (p->ylabel) {
		/* The unit of the y axis, written upwards along it. */
		chart_text_up(cr, 20, MT + (H - MT - MB) / 2, p->ylabel, 14);
	}
	cairo_set_font_size(cr, 13);
	{
		struct strbuf sb = STRBUF_INIT;
		strbuf_adds(&sb, "black: history   blue: forecast");
		for (l = 0; l < p->nlevels; l++)
			strbuf_addf(&sb, "%s%g%%", l ? ", " : "   bands: ", p->levels[l]);
		if (p->nlevels)
			strbuf_adds(&sb, " intervals");
		chart_text(cr, W - MR, MT / 2, sb.buf, 1, 0.5);
		strbuf_release(&sb);
	}
}

int ts_plot_write(const char *path, const struct ts_plot *p, struct err *e)
{
	struct chart c;
	if (chart_open(&c, path, W, H, e) < 0)
		return -1;
	draw(c.cr, p);
	return chart_close(&c, e);
}
