/* Learning curves (see curve.h): panels stacked over one epoch axis, the losses on top, the
 * metric below them and the learning rate in a thin strip at the bottom. Layout in device
 * units of a 1200x800 canvas. */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "io/chart.h"
#include "models/curve.h"

#define W   1200.0
#define H   800.0
#define ML  90.0 /* margins: left, right, top, bottom */
#define MR  30.0
#define MT  60.0
#define MB  60.0
#define GAP 36.0 /* between panels: their legends sit there */

/* Markers on every point while they do not crowd the line; beyond, only on lone points. */
#define MARKERS_UP_TO 40

struct series {
	const double *v; /* NULL for none */
	const char *name;
	enum chart_colour colour;
	double width;
};

struct panel {
	const char *name; /* the y axis's */
	struct series s[2];
	size_t ns;
	double weight; /* share of the height */
};

int curve_check_path(const char *path, struct err *e)
{
	return chart_check_path(path, e);
}

static bool known(const double *v, size_t i)
{
	return v && isfinite(v[i]);
}

static double x_of(const struct curve *c, size_t i)
{
	return c->epoch && isfinite(c->epoch[i]) ? c->epoch[i] : (double)(i + 1);
}

/* The value range of a panel's series: false when none has a value. */
static bool panel_range(const struct panel *p, size_t n, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t k = 0; k < p->ns; k++)
		for (size_t i = 0; i < n; i++)
			if (known(p->s[k].v, i)) {
				*lo = fmin(*lo, p->s[k].v[i]);
				*hi = fmax(*hi, p->s[k].v[i]);
			}
	return *lo <= *hi;
}

/* The y axis of a panel: log when the values are positive and span more than a decade (a loss
 * falling by orders of magnitude would be a flat line after its first epochs), padded so that
 * no point sits on the frame; a constant gets a range around it. */
static void panel_axis(struct chart_axis *y, double lo, double hi)
{
	if (lo > 0 && hi / lo > 10) {
		double pad = pow(hi / lo, 0.05);
		y->log = true;
		y->v0 = lo / pad;
		y->v1 = hi * pad;
		return;
	}
	y->log = false;
	if (hi > lo) {
		y->v0 = lo - 0.05 * (hi - lo);
		y->v1 = hi + 0.05 * (hi - lo);
	} else {
		double half = lo != 0 ? fabs(lo) * 0.1 : 0.5;
		y->v0 = lo - half;
		y->v1 = hi + half;
	}
}

static void draw_series(cairo_t *cr, const struct curve *c, const struct series *s,
			const struct chart_axis *x, const struct chart_axis *y)
{
	bool pen = false;

	chart_colour(cr, s->colour);
	cairo_set_line_width(cr, s->width);
	for (size_t i = 0; i < c->n; i++) {
		double px, py;
		if (!known(s->v, i)) {
			pen = false;
			continue;
		}
		px = chart_pos(x, x_of(c, i));
		py = chart_pos(y, s->v[i]);
		if (pen)
			cairo_line_to(cr, px, py);
		else
			cairo_move_to(cr, px, py);
		pen = true;
	}
	cairo_stroke(cr);
	for (size_t i = 0; i < c->n; i++) {
		bool lone =
		    (i == 0 || !known(s->v, i - 1)) && (i + 1 == c->n || !known(s->v, i + 1));
		if (!known(s->v, i) || (c->n > MARKERS_UP_TO && !lone))
			continue;
		cairo_new_path(cr);
		cairo_arc(cr, chart_pos(x, x_of(c, i)), chart_pos(y, s->v[i]), s->width + 1.5, 0,
			  2 * M_PI);
		cairo_fill(cr);
	}
}

/* The names of the series that have values, each after a short line of its colour, ending at
 * the right edge x. */
static void legend(cairo_t *cr, const struct curve *c, const struct panel *p, double x, double y)
{
	cairo_set_font_size(cr, 13);
	for (size_t k = p->ns; k-- > 0;) {
		const struct series *s = &p->s[k];
		cairo_text_extents_t te;
		size_t i = 0;
		while (i < c->n && !known(s->v, i))
			i++;
		if (i == c->n)
			continue;
		cairo_text_extents(cr, s->name, &te);
		chart_colour(cr, CHART_LABEL);
		chart_text(cr, x, y, s->name, 1, 0.5);
		x -= te.x_advance + 6;
		chart_colour(cr, s->colour);
		cairo_set_line_width(cr, s->width);
		cairo_move_to(cr, x - 22, y);
		cairo_line_to(cr, x, y);
		cairo_stroke(cr);
		x -= 22 + 20;
	}
}

static void draw_panel(cairo_t *cr, const struct curve *c, const struct panel *p,
		       const struct chart_axis *x, double top, double bottom, bool last)
{
	struct chart_axis y = {0, 1, bottom, top, false, false};
	double lo, hi;
	bool any = panel_range(p, c->n, &lo, &hi);
	struct strbuf name = STRBUF_INIT;

	if (any)
		panel_axis(&y, lo, hi);
	chart_xaxis(cr, x, top, bottom, 10, last);
	if (any) {
		chart_yaxis(cr, &y, ML, W - MR, (int)fmax(2, (bottom - top) / 60));
		for (size_t k = 0; k < p->ns; k++)
			draw_series(cr, c, &p->s[k], x, &y);
	} else {
		/* a metric not measured yet (no validation data, no point found so far) */
		chart_colour(cr, CHART_LABEL);
		cairo_set_font_size(cr, 13);
		chart_text(cr, ML + (W - ML - MR) / 2, (top + bottom) / 2, "no values yet", 0.5,
			   0.5);
	}
	chart_colour(cr, CHART_FRAME);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, ML, top, W - ML - MR, bottom - top);
	cairo_stroke(cr);
	strbuf_adds(&name, p->name);
	if (y.log)
		strbuf_adds(&name, " (log scale)");
	chart_colour(cr, CHART_TITLE);
	chart_text_up(cr, 20, (top + bottom) / 2, name.buf, 14);
	strbuf_release(&name);
	legend(cr, c, p, W - MR, top - 12);
}

/* The last epoch's losses, top right: what a user watching the file looks for first. */
static void last_epoch(cairo_t *cr, const struct curve *c)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i = c->n - 1;
	strbuf_addf(&sb, "epoch %g", x_of(c, i));
	if (known(c->loss, i))
		strbuf_addf(&sb, "   loss %.4g", c->loss[i]);
	if (known(c->val_loss, i))
		strbuf_addf(&sb, "   val_loss %.4g", c->val_loss[i]);
	chart_colour(cr, CHART_LABEL);
	cairo_set_font_size(cr, 13);
	chart_text(cr, W - MR, MT / 2 - 8, sb.buf, 1, 0.5);
	strbuf_release(&sb);
}

static void draw(cairo_t *cr, const struct curve *c, const char *val_name)
{
	struct panel panels[3];
	struct chart_axis x = {INFINITY, -INFINITY, ML, W - MR, false, true};
	size_t np = 0, i;
	double weights = 0, top = MT, avail;

	panels[np++] = (struct panel){
	    "loss",
	    {{c->loss, "loss", CHART_BLUE, 2}, {c->val_loss, "val_loss", CHART_ORANGE, 2}},
	    2,
	    3};
	if (c->metric)
		panels[np++] = (struct panel){c->metric,
					      {{c->metric_train, c->metric, CHART_BLUE, 2},
					       {c->metric_val, val_name, CHART_ORANGE, 2}},
					      2,
					      2};
	for (i = 0; i < c->n && !known(c->lr, i); i++)
		;
	if (i < c->n)
		panels[np++] = (struct panel){"lr", {{c->lr, "lr", CHART_GREEN, 1.2}}, 1, 1};

	for (i = 0; i < c->n; i++) {
		x.v0 = fmin(x.v0, x_of(c, i));
		x.v1 = fmax(x.v1, x_of(c, i));
	}
	/* one epoch (or a few numbered alike): its points in the middle */
	if (x.v1 - x.v0 < 1) {
		x.v0 -= 0.5;
		x.v1 += 0.5;
	}

	for (i = 0; i < np; i++)
		weights += panels[i].weight;
	avail = H - MT - MB - GAP * (double)(np - 1);
	for (i = 0; i < np; i++) {
		double h = avail * panels[i].weight / weights;
		draw_panel(cr, c, &panels[i], &x, top, top + h, i + 1 == np);
		top += h + GAP;
	}
	chart_colour(cr, CHART_TITLE);
	cairo_set_font_size(cr, 14);
	chart_text(cr, ML + (W - ML - MR) / 2, H - MB + 34, "epoch", 0.5, 0);
	cairo_set_font_size(cr, 18);
	chart_text(cr, ML, MT / 2 - 8, c->title ? c->title : "learning curve", 0, 0.5);
	last_epoch(cr, c);
}

int curve_write(const char *path, const struct curve *c, struct err *e)
{
	struct chart ch;
	struct strbuf val = STRBUF_INIT;
	int ret;

	if (!c->n)
		return err_set(e, DYN_EUSAGE, "%s: no epochs to draw", path);
	if (chart_open(&ch, path, W, H, e) < 0)
		return -1;
	if (c->metric)
		strbuf_addf(&val, "val_%s", c->metric);
	draw(ch.cr, c, val.buf);
	ret = chart_close(&ch, e);
	strbuf_release(&val);
	return ret;
}

static bool is_column(const char *key)
{
	static const char *const cols[] = {"epoch", "loss", "val_loss", "lr", "seconds"};
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		if (!strcmp(key, cols[i]))
			return true;
	return false;
}

int curve_write_epochs(const char *path, const char *id, const char *kind,
		       const struct cJSON *epochs, struct err *e)
{
	/* columns: epoch, loss, val_loss, lr, the metric on training and validation data */
	enum { C_EPOCH, C_LOSS, C_VAL_LOSS, C_LR, C_METRIC, C_VAL_METRIC, NCOL };
	const cJSON *ep, *item;
	struct strbuf metric = STRBUF_INIT, val_metric = STRBUF_INIT, title = STRBUF_INIT;
	struct curve c;
	double *v = NULL;
	size_t n = cJSON_IsArray(epochs) ? (size_t)cJSON_GetArraySize(epochs) : 0, i = 0;
	int ret;

	if (!n)
		return err_set(e, DYN_EUSAGE, "%s: no epochs to draw", path);
	/* The kind's metric is the one key beyond the fixed ones; "val_X" alone names X too. */
	cJSON_ArrayForEach(ep, epochs)
	{
		cJSON_ArrayForEach(item, ep)
		{
			if (metric.len || !item->string || is_column(item->string))
				continue;
			strbuf_adds(&metric, strncmp(item->string, "val_", 4) ? item->string
									      : item->string + 4);
		}
	}
	if (metric.len)
		strbuf_addf(&val_metric, "val_%s", metric.buf);
	v = xmallocarray(n * NCOL, sizeof(*v));
	cJSON_ArrayForEach(ep, epochs)
	{
		const char *keys[NCOL] = {"epoch", "loss",     "val_loss",
					  "lr",	   metric.buf, val_metric.buf};
		for (int k = 0; k < NCOL; k++) {
			item = cJSON_IsObject(ep) && keys[k]
				   ? cJSON_GetObjectItemCaseSensitive(ep, keys[k])
				   : NULL;
			v[k * n + i] = cJSON_IsNumber(item) ? item->valuedouble : NAN;
		}
		i++;
	}
	strbuf_addf(&title, "%s - %s", id, kind);
	memset(&c, 0, sizeof(c));
	c.title = title.buf;
	c.n = n;
	c.epoch = v + C_EPOCH * n;
	c.loss = v + C_LOSS * n;
	c.val_loss = v + C_VAL_LOSS * n;
	c.lr = v + C_LR * n;
	if (metric.len) {
		c.metric = metric.buf;
		c.metric_train = v + C_METRIC * n;
		c.metric_val = v + C_VAL_METRIC * n;
	}
	ret = curve_write(path, &c, e);
	free(v);
	strbuf_release(&metric);
	strbuf_release(&val_metric);
	strbuf_release(&title);
	return ret;
}
