/* A forecast chart drawn with cairo: the history, the forecast and its interval bands, with
 * dated x axis and labelled y axis, as PNG or SVG (told by the file name's extension). */
#ifndef DYN_TS_PLOT_H
#define DYN_TS_PLOT_H

#include <stddef.h>

#include "base/err.h"

struct ts_plot {
	const char *title;
	const char *ylabel;   /* the unit of the values, e.g. "tickets per day"; NULL for none */
	const long *hist_day; /* day numbers of the history points */
	const double *hist;
	size_t nhist;
	const long *fc_day;	      /* day numbers of the forecast points */
	const double *mean, *lo, *hi; /* lo/hi: nlevels x h, row per level */
	size_t h, nlevels;
	const double *levels; /* e.g. {80, 95} */
};

/* 0 when path ends in .png or .svg (case-insensitive), -1 otherwise. */
int ts_plot_format_ok(const char *path);

/* Draws p into path (PNG or SVG). Errors: an unwritable file (DYN_EDATA, with strerror). */
int ts_plot_write(const char *path, const struct ts_plot *p, struct err *e);

#endif
