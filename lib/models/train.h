/* Training with evaluation: a stratified held-out split or K-fold cross-validation for the
 * report, an optional cross-validated grid search, then a refit on all rows, as far as the
 * kind supports each (enum train_support). */
#ifndef DYN_MODELS_TRAIN_H
#define DYN_MODELS_TRAIN_H

#include <stdbool.h>

#include "models/model.h"

struct cJSON;

struct train_opts {
	double test_fraction;	       /* held-out share for the report, 0 <= f < 1 */
	long cv;		       /* K >= 2: K-fold CV report instead of the split; 0 none */
	const struct param_grid *grid; /* NULL: no search */
	bool refit; /* store a model refit on all rows (default), for kinds with TRAIN_REFIT */
	const struct model *warm; /* start from this model (same kind, features, classes) */
	struct fit_ctx ctx;
};

/* Trains a model of kind with params p on ds. *out (caller owns: model_free) gets the model to
 * store; *report (caller owns: cJSON_Delete) the metrics report with an "evaluation" object
 * saying how it was measured, and "grid" results when searched; p is updated to the chosen
 * parameters. o->ctx.on_epoch hears the epochs of the stored model's training only (not those
 * of cross-validation folds). A kind without TRAIN_REFIT keeps the model of the training split
 * and gets the held-out rows as its validation set; asking a kind for an evaluation it does
 * not support is a DYN_EUSAGE error. */
int model_train(struct model **out, const struct model_kind *kind, struct params *p,
		const struct dataset *ds, const struct train_opts *o, struct cJSON **report,
		struct err *e);

/* Predicts class probabilities for ds's rows in batches (n x k, caller owns). */
double *model_predict_all(const struct model *m, const struct dataset *ds, struct err *e);

#endif
