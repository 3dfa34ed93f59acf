/* Unit tests of model_train's contract with a kind (lib/models/train.c): the training a kind
 * declares is what it gets (no refit keeps the split's model and passes the held-out rows as
 * its validation set; a refit from the split's model gets it and the rows it was fit on;
 * epochs are reported for the stored model only; an evaluation the kind does not support is a
 * usage error). A recording kind stands in for a network. */
#include <cjson/cJSON.h>

#include "base/base.h"
#include "check.h"
#include "models/train.h"

/* What the recording kind saw, fit by fit. */
static struct {
	int fits;
	size_t n[16], nvalid[16];
	int with_epochs[16];
	bool refit_next[16], refit_from[16];
	double x0[20];	/* the first fit's rows */
	int rows_match; /* the refit's refit_rows name the first fit's rows, in its order */
} seen;

static const struct param_spec rec_params[] = {{NULL, 0, NULL, 0, 0, 0, NULL, NULL}};

static int rec_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		   const struct fit_ctx *ctx, struct err *e)
{
	struct epoch_stats st;
	int f = seen.fits++;
	if (f < 16) {
		seen.n[f] = ds->n;
		seen.nvalid[f] = ctx->valid ? ctx->valid->n : 0;
		seen.with_epochs[f] = ctx->on_epoch != NULL;
		seen.refit_next[f] = ctx->refit_next;
		seen.refit_from[f] = ctx->refit_from != NULL;
	}
	if (f == 0)
		for (size_t i = 0; i < ds->n && i < 20; i++)
			seen.x0[i] = ds->X[i];
	if (ctx->refit_from) {
		seen.rows_match = ctx->refit_nrows == *(const size_t *)ctx->refit_from->state;
		for (size_t r = 0; r < ctx->refit_nrows; r++)
			seen.rows_match = seen.rows_match && ctx->refit_rows[r] < ds->n &&
					  ds->X[ctx->refit_rows[r]] == seen.x0[r];
	}
	memset(&st, 0, sizeof(st));
	st.epoch = 1;
	if (ctx->on_epoch && ctx->on_epoch(ctx->on_epoch_arg, &st, e) < 0)
		return -1;
	m->state = xmallocarray(1, sizeof(size_t)); /* the rows it was fit on */
	*(size_t *)m->state = ds->n;
	return 0;
}

/* Predicts the first class for all. */
static int rec_predict(const struct model *m, const struct batch *b, double *proba, struct err *e)
{
	for (size_t i = 0; i < b->n; i++)
		for (size_t c = 0; c < m->k; c++)
			proba[i * m->k + c] = c == 0;
	return 0;
}

static struct model_kind rec_kind = {
    .name = "rec",
    .summary = "records what it is given",
    .input = INPUT_TABULAR,
    .output = OUTPUT_CLASSES,
    .params = rec_params,
    .fit = rec_fit,
    .predict = rec_predict,
    .free_state = free,
};

static int epochs_heard;
static int on_epoch(void *arg, const struct epoch_stats *st, struct err *e)
{
	epochs_heard++;
	return 0;
}

static void make_data(struct dataset *ds)
{
	dataset_init(ds);
	ds->n = 20;
	ds->d = 1;
	ds->X = xcalloc(20, sizeof(double));
	ds->y = xcalloc(20, sizeof(int));
	ds->features = xcalloc(1, sizeof(char *));
	ds->features[0] = xstrdup("x");
	ds->k = 2;
	ds->classes = xcalloc(2, sizeof(char *));
	ds->classes[0] = xstrdup("a");
	ds->classes[1] = xstrdup("b");
	for (size_t i = 0; i < 20; i++) {
		ds->X[i] = (double)i;
		ds->y[i] = (int)(i % 2);
	}
}

static int train(unsigned support, double test_fraction, long cv, bool refit, struct err *e)
{
	struct dataset ds;
	struct train_opts o;
	struct params p;
	struct model *m = NULL;
	cJSON *rep = NULL;
	int r;
	rec_kind.train = support;
	make_data(&ds);
	params_init(&p, rec_params);
	memset(&o, 0, sizeof(o));
	o.test_fraction = test_fraction;
	o.cv = cv;
	o.refit = refit;
	o.ctx.seed = 1;
	o.ctx.on_epoch = on_epoch;
	memset(&seen, 0, sizeof(seen));
	epochs_heard = 0;
	r = model_train(&m, &rec_kind, &p, &ds, &o, &rep, e);
	model_free(&m);
	cJSON_Delete(rep);
	params_release(&p);
	dataset_release(&ds);
	return r;
}

int main(void)
{
	struct err e = ERR_INIT;
	const unsigned NET = TRAIN_HOLDOUT | TRAIN_CV | TRAIN_CLASSES | TRAIN_EPOCHS;

	check(train(NET, 0.2, 0, true, &e) == 0 && seen.fits == 1,
	      "no refit: one fit on the training split");
	check(seen.n[0] == 16 && seen.nvalid[0] == 4 && seen.with_epochs[0] && epochs_heard == 1,
	      "it gets the 4 held-out rows as validation and reports its epochs");

	check(train(NET | TRAIN_REFIT, 0.2, 0, true, &e) == 0 && seen.fits == 2,
	      "refit: a fit on the split, then on all rows");
	check(seen.n[0] == 16 && seen.nvalid[0] == 0 && !seen.with_epochs[0] && seen.n[1] == 20 &&
		  seen.with_epochs[1] && epochs_heard == 1,
	      "only the stored (refit) model's epochs are reported, no validation set");

	check(train(NET | TRAIN_REFIT | TRAIN_REFIT_FROM, 0.2, 0, true, &e) == 0 &&
		  seen.fits == 2 && seen.refit_next[0] && !seen.refit_from[0] &&
		  !seen.refit_next[1] && seen.refit_from[1],
	      "refit from: the split's fit knows it will be refit from, the refit gets its model");
	check(seen.rows_match, "and the rows of all that the split's model was fit on, in order");
	check(train(NET | TRAIN_REFIT, 0.2, 0, true, &e) == 0 && !seen.refit_next[0] &&
		  !seen.refit_from[1],
	      "refit without TRAIN_REFIT_FROM: no model to start from");

	check(train(NET, 0, 4, true, &e) == 0 && seen.fits == 5,
	      "cv 4: four folds, then the stored model on all rows");
	check(!seen.with_epochs[0] && !seen.with_epochs[3] && seen.with_epochs[4] &&
		  seen.n[4] == 20 && epochs_heard == 1,
	      "the folds' epochs are not reported, the stored model's are");

	check(train(TRAIN_HOLDOUT | TRAIN_CLASSES, 0, 3, true, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "--cv: rec models are not cross-validated"),
	      "--cv on a kind without TRAIN_CV: %s", e.msg);
	err_clear(&e);
	check(train(TRAIN_CV | TRAIN_CLASSES, 0.2, 0, true, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "--test-fraction"),
	      "a held-out split on a kind without TRAIN_HOLDOUT: %s", e.msg);
	err_clear(&e);
	check(train(TRAIN_CV | TRAIN_CLASSES, 0, 0, true, &e) == 0 && seen.fits == 1 &&
		  seen.n[0] == 20,
	      "without a held-out split: one fit on all rows");
	return check_done();
}
