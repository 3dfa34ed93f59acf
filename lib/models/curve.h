/* Learning curves of networks trained in epochs: the losses, the kind's metric and the learning
 * rate by epoch, drawn with cairo as PNG or SVG (told by the file name's extension). */
#ifndef DYN_MODELS_CURVE_H
#define DYN_MODELS_CURVE_H

#include <stddef.h>

#include "base/err.h"

struct cJSON;

/* The values of n epochs, borrowed. Any value may be NaN (not measured: its point is left out
 * and the line broken there); a NULL array has none. */
struct curve {
	const char *title;	       /* e.g. "mouse - keypoints"; NULL for "learning curve" */
	size_t n;		       /* epochs */
	const double *epoch;	       /* the x of each epoch (its number); NULL for 1..n */
	const double *loss, *val_loss; /* the first panel, log scale beyond a decade */
	const char *metric;	       /* the kind's metric ("error_px"), NULL for none */
	const double *metric_train;    /* the second panel: the metric on the training data */
	const double *metric_val;      /* and on the validation data */
	const double *lr;	       /* a thin third panel, when any is known */
};

/* Whether path can take a curve, checked before training or drawing: a usage error (DYN_EUSAGE)
 * for another extension than .png or .svg, DYN_EDATA with strerror for a file or directory that
 * cannot be written (a directory of that name too). Creates nothing. */
int curve_check_path(const char *path, struct err *e);

/* Draws c into path (1200x800). Errors: no epochs (DYN_EUSAGE), a file that cannot be written
 * (DYN_EDATA, with strerror), cairo missing. */
int curve_write(const char *path, const struct curve *c, struct err *e);

/* curve_write of a model's epochs as its index entry keeps them (training.epochs: objects with
 * epoch, loss, val_loss, lr, METRIC, val_METRIC and seconds, any number null or absent), titled
 * "ID - KIND". */
int curve_write_epochs(const char *path, const char *id, const char *kind,
		       const struct cJSON *epochs, struct err *e);

#endif
