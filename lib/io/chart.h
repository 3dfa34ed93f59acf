/* Charts drawn with cairo, shared by dyn's plots (forecasts, learning curves): cairo loaded on
 * first use, a canvas written as PNG or SVG by the file's extension, value axes with "nice"
 * ticks (linear or log), text placement, the palette. Include this instead of <cairo.h>. */
#ifndef DYN_IO_CHART_H
#define DYN_IO_CHART_H

#include <cairo.h>
#include <cairo-svg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/lazylib.h"

#define CHART_CAIRO_FUNCS(X)                                                                       \
	X(cairo_arc)                                                                               \
	X(cairo_close_path)                                                                        \
	X(cairo_create)                                                                            \
	X(cairo_destroy)                                                                           \
	X(cairo_fill)                                                                              \
	X(cairo_image_surface_create)                                                              \
	X(cairo_line_to)                                                                           \
	X(cairo_move_to)                                                                           \
	X(cairo_new_path)                                                                          \
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

struct chart_cairo_fns {
	CHART_CAIRO_FUNCS(LAZYLIB_MEMBER)
};

/* The cairo functions, filled by the first chart_open (cairo is not linked: base/lazylib.h
 * says why): call them only on a canvas chart_open gave. */
extern struct chart_cairo_fns chart_cairo;

#ifndef CHART_NO_MACROS
#define cairo_arc		   (chart_cairo.cairo_arc)
#define cairo_close_path	   (chart_cairo.cairo_close_path)
#define cairo_create		   (chart_cairo.cairo_create)
#define cairo_destroy		   (chart_cairo.cairo_destroy)
#define cairo_fill		   (chart_cairo.cairo_fill)
#define cairo_image_surface_create (chart_cairo.cairo_image_surface_create)
#define cairo_line_to		   (chart_cairo.cairo_line_to)
#define cairo_move_to		   (chart_cairo.cairo_move_to)
#define cairo_new_path		   (chart_cairo.cairo_new_path)
#define cairo_paint		   (chart_cairo.cairo_paint)
#define cairo_rectangle		   (chart_cairo.cairo_rectangle)
#define cairo_restore		   (chart_cairo.cairo_restore)
#define cairo_rotate		   (chart_cairo.cairo_rotate)
#define cairo_save		   (chart_cairo.cairo_save)
#define cairo_select_font_face	   (chart_cairo.cairo_select_font_face)
#define cairo_set_font_size	   (chart_cairo.cairo_set_font_size)
#define cairo_set_line_width	   (chart_cairo.cairo_set_line_width)
#define cairo_set_source_rgb	   (chart_cairo.cairo_set_source_rgb)
#define cairo_set_source_rgba	   (chart_cairo.cairo_set_source_rgba)
#define cairo_show_text		   (chart_cairo.cairo_show_text)
#define cairo_status		   (chart_cairo.cairo_status)
#define cairo_status_to_string	   (chart_cairo.cairo_status_to_string)
#define cairo_stroke		   (chart_cairo.cairo_stroke)
#define cairo_surface_destroy	   (chart_cairo.cairo_surface_destroy)
#define cairo_surface_finish	   (chart_cairo.cairo_surface_finish)
#define cairo_surface_status	   (chart_cairo.cairo_surface_status)
#define cairo_surface_write_to_png (chart_cairo.cairo_surface_write_to_png)
#define cairo_svg_surface_create   (chart_cairo.cairo_svg_surface_create)
#define cairo_text_extents	   (chart_cairo.cairo_text_extents)
#define cairo_translate		   (chart_cairo.cairo_translate)
#endif

/* 0 when path ends in .png or .svg (any case), -1 otherwise. */
int chart_format_ok(const char *path);

/* Whether path can take a chart, before anything is computed for it: a usage error (DYN_EUSAGE)
 * for another extension than .png or .svg, DYN_EDATA with strerror for a file or directory that
 * cannot be written (a directory of that name too). Creates nothing. */
int chart_check_path(const char *path, struct err *e);

/* A canvas being drawn into a file. Embedded value: chart_open / chart_close. */
struct chart {
	cairo_surface_t *surface;
	cairo_t *cr;
	double w, h;	  /* device units: pixels of the PNG, points of the SVG */
	bool svg;	  /* else PNG */
	const char *path; /* borrowed from the caller of chart_open */
};

/* Loads cairo and starts a w x h canvas for path (PNG or SVG by its extension), painted white,
 * in a sans-serif font. Errors: cairo missing, path that cannot be written (DYN_EDATA with
 * strerror, naming path). */
int chart_open(struct chart *c, const char *path, double w, double h, struct err *e);
/* Writes the file and releases the canvas, also when drawing failed (an error naming path with
 * cairo's reason, DYN_EDATA). */
int chart_close(struct chart *c, struct err *e);

/* A value axis: values v0..v1 drawn at device positions p0..p1 (a y axis has p1 above p0,
 * values growing upwards); a log axis (v0 > 0) places log10 of the values; an integer axis
 * (counts, epochs) has its ticks on whole numbers. */
struct chart_axis {
	double v0, v1, p0, p1;
	bool log, integer;
};

double chart_pos(const struct chart_axis *a, double v);
/* About target tick values within the axis, into ticks (at most max of them); the count. Linear:
 * multiples of a 1-2-5 step; log: powers of ten, with 2 and 5 between them on a short axis. */
size_t chart_ticks(const struct chart_axis *a, int target, double *ticks, size_t max);
/* The 1, 2 or 5 times a power of ten that cuts range into about target steps. */
double chart_nice_step(double range, int target);
/* Horizontal grid lines from x0 to x1 at the ticks of y, labelled left of x0. */
void chart_yaxis(cairo_t *cr, const struct chart_axis *y, double x0, double x1, int target);
/* Vertical grid lines from y0 (top) to y1 at the ticks of x, labelled below y1 when labels. */
void chart_xaxis(cairo_t *cr, const struct chart_axis *x, double y0, double y1, int target,
		 bool labels);

/* s drawn with its box's point (ax, ay) at (x, y): ax 0 left .. 1 right, ay 0 top .. 1 bottom
 * (0.5, 0.5 centres it). */
void chart_text(cairo_t *cr, double x, double y, const char *s, double ax, double ay);
/* s written upwards, centred on (x, y), in size points (an axis's name). */
void chart_text_up(cairo_t *cr, double x, double y, const char *s, double size);

enum chart_colour {
	CHART_GRID,   /* grid lines */
	CHART_LABEL,  /* tick labels */
	CHART_FRAME,  /* the plot area's frame */
	CHART_TITLE,  /* titles */
	CHART_DARK,   /* an observed series (a history) */
	CHART_BLUE,   /* the first series (a forecast, a training value) */
	CHART_ORANGE, /* the second series (a validation value) */
	CHART_GREEN,  /* a third series */
};
void chart_colour(cairo_t *cr, enum chart_colour c);

#endif
