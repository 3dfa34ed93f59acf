/* Training with evaluation (see train.h). Splits and folds are stratified and deterministic for
 * a seed: each class's rows are shuffled, then dealt out. */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "base/strv.h"
#include "base/trace.h"
#include "cards/card.h"
#include "models/train.h"

/* Rows grouped by class, each group shuffled: order[0..n), class c at [start[c], start[c+1]). */
static void stratify(const struct dataset *ds, unsigned long seed, size_t *order, size_t *start)
{
	struct rng r;
	size_t c, i, *fill = xcalloc(ds->k + 1, sizeof(*fill));
	rng_init(&r, seed);
	memset(start, 0, (ds->k + 1) * sizeof(*start));
	for (i = 0; i < ds->n; i++)
		start[ds->y[i] + 1]++;
	for (c = 0; c < ds->k; c++)
		start[c + 1] += start[c];
	for (i = 0; i < ds->n; i++)
		order[start[ds->y[i]] + fill[ds->y[i]]++] = i;
	for (c = 0; c < ds->k; c++)
		rng_shuffle(&r, order + start[c], start[c + 1] - start[c]);
	free(fill);
}

static int fit_one(struct model **out, const struct model_kind *kind, const struct params *p,
		   const struct dataset *ds, const struct model *warm, const struct fit_ctx *ctx,
		   struct err *e)
{
	struct model *m = model_new(kind);
	params_release(&m->params);
	params_copy(&m->params, p);
	m->d = ds->d;
	m->features = strv_dup(ds->features, ds->d);
	m->k = ds->k;
	m->classes = strv_dup(ds->classes, ds->k);
	if (kind->fit(m, ds, warm, ctx, e) < 0) {
		model_free(&m);
		return -1;
	}
	*out = m;
	return 0;
}

double *model_predict_all(const struct model *m, const struct dataset *ds, struct err *e)
{
	double *proba = xmallocarray(ds->n ? ds->n : 1, m->k * sizeof(double));
	size_t i, step = 4096;
	for (i = 0; i < ds->n; i += step) {
		struct batch b;
		memset(&b, 0, sizeof(b));
		b.n = ds->n - i < step ? ds->n - i : step;
		b.d = ds->d;
		b.X = ds->X ? ds->X + i * ds->d : NULL;
		b.text = ds->text ? (const char *const *)ds->text + i : NULL;
		b.cards = ds->cards ? ds->cards + i : NULL;
		if (m->kind->predict(m, &b, proba + i * m->k, e) < 0) {
			free(proba);
			return NULL;
		}
	}
	return proba;
}

/* Out-of-fold probabilities of K-fold CV (oof: n x k). */
static int cross_validate(const struct model_kind *kind, const struct params *p,
			  const struct dataset *ds, long K, const struct train_opts *o, double *oof,
			  struct err *e)
{
	size_t *order = xmallocarray(ds->n, sizeof(size_t));
	size_t *start = xmallocarray(ds->k + 1, sizeof(size_t));
	int *fold = xmallocarray(ds->n, sizeof(int));
	size_t *tr = xmallocarray(ds->n, sizeof(size_t)), *te = xmallocarray(ds->n, sizeof(size_t));
	size_t c, i;
	long f;
	int ret = -1;
	/* Only the stored model's training is reported epoch by epoch. */
	struct fit_ctx fold_ctx = o->ctx;
	fold_ctx.on_epoch = NULL;
	fold_ctx.valid = NULL;

	stratify(ds, o->ctx.seed, order, start);
	for (c = 0; c < ds->k; c++) {
		if (start[c + 1] - start[c] < (size_t)K) {
			err_set(e, DYN_EDATA, "--cv %ld: class \"%s\" has only %zu rows (need %ld)",
				K, ds->classes[c], start[c + 1] - start[c], K);
			goto out;
		}
		for (i = start[c]; i < start[c + 1]; i++)
			fold[order[i]] = (int)((i - start[c]) % (size_t)K);
	}
	for (f = 0; f < K; f++) {
		struct dataset dtr, dte;
		struct model *m = NULL;
		size_t ntr = 0, nte = 0;
		double *pr;
		for (i = 0; i < ds->n; i++) {
			if (fold[i] == f)
				te[nte++] = i;
			else
				tr[ntr++] = i;
		}
		dataset_subset(&dtr, ds, tr, ntr);
		dataset_subset(&dte, ds, te, nte);
		progress_update(o->ctx.progress, (double)f, (double)K);
		if (fit_one(&m, kind, p, &dtr, NULL, &fold_ctx, e) < 0 ||
		    !(pr = model_predict_all(m, &dte, e))) {
			model_free(&m);
			dataset_release(&dtr);
			dataset_release(&dte);
			goto out;
		}
		for (i = 0; i < nte; i++)
			memcpy(oof + te[i] * ds->k, pr + i * ds->k, ds->k * sizeof(double));
		free(pr);
		model_free(&m);
		dataset_release(&dtr);
		dataset_release(&dte);
	}
	ret = 0;
out:
	free(order);
	free(start);
	free(fold);
	free(tr);
	free(te);
	return ret;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static cJSON *evaluation(const char *method, double value)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "method", method);
	if (!strcmp(method, "cv"))
		cJSON_AddNumberToObject(ev, "folds", value);
	else if (!strcmp(method, "holdout"))
		cJSON_AddNumberToObject(ev, "test_fraction", value);
	return ev;
}

static double report_num(const cJSON *r, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, key);
	return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* The held-out report of a kind without classes: a share of the rows drawn at random (the same
 * for a seed and a number of rows), the model fit on the rest watching them (it is the model
 * kept: such kinds do not refit), and the kind's own evaluation of it on them. */
static int holdout_plain(struct model **out, cJSON **rep, const struct model_kind *kind,
			 const struct params *p, const struct dataset *ds,
			 const struct train_opts *o, struct err *e)
{
	size_t *order = xmallocarray(ds->n ? ds->n : 1, sizeof(size_t));
	size_t i, nte = (size_t)floor(o->test_fraction * (double)ds->n + 0.5);
	struct dataset dtr, dte;
	struct fit_ctx hctx = o->ctx;
	struct rng r;
	int ret = -1;

	if (nte == 0 && ds->n > 1)
		nte = 1;
	if (nte == 0 || nte >= ds->n) {
		free(order);
		return err_set(
		    e, DYN_EDATA,
		    "--test-fraction %g leaves no %s rows (%zu in all): use more data or "
		    "another fraction",
		    o->test_fraction, nte ? "training" : "held-out", ds->n);
	}
	rng_init(&r, o->ctx.seed);
	for (i = 0; i < ds->n; i++)
		order[i] = i;
	rng_shuffle(&r, order, ds->n);
	/* each part in the data's order, so that what is held out reads like the data */
	qsort(order, nte, sizeof(size_t), cmp_size);
	qsort(order + nte, ds->n - nte, sizeof(size_t), cmp_size);
	dataset_subset(&dte, ds, order, nte);
	dataset_subset(&dtr, ds, order + nte, ds->n - nte);
	hctx.valid = &dte;
	if (fit_one(out, kind, p, &dtr, o->warm, &hctx, e) < 0)
		goto done;
	if (kind->evaluate(*out, &dte, rep, e) < 0) {
		model_free(out);
		goto done;
	}
	cJSON_AddItemToObject(*rep, "evaluation", evaluation("holdout", o->test_fraction));
	cJSON_AddNumberToObject(cJSON_GetObjectItem(*rep, "evaluation"), "rows", (double)nte);
	ret = 0;
done:
	dataset_release(&dtr);
	dataset_release(&dte);
	free(order);
	return ret;
}

int model_train(struct model **out, const struct model_kind *kind, struct params *p,
		const struct dataset *ds, const struct train_opts *o, cJSON **report, struct err *e)
{
	cJSON *rep = NULL, *grid_results = NULL;
	double *oof = NULL, *pr = NULL;
	struct model *m = NULL, *held = NULL;
	size_t *held_rows = NULL, held_n = 0;  /* the rows held was fit on */
	struct fit_carry carry = {NULL, NULL}; /* from the held-out fit to the refit */
	int ret = -1;
	bool refit = o->refit && (kind->train & TRAIN_REFIT);

	*out = NULL;
	*report = NULL;
	if ((o->grid || o->cv >= 2) && !(kind->train & TRAIN_CV)) {
		err_set(e, DYN_EUSAGE,
			"%s: %s models are not cross-validated (use --test-fraction)",
			o->grid ? "--grid" : "--cv", kind->name);
		goto out;
	}
	if (o->test_fraction > 0 && !o->grid && o->cv < 2 && !(kind->train & TRAIN_HOLDOUT)) {
		err_set(e, DYN_EUSAGE, "--test-fraction: %s models have no held-out report",
			kind->name);
		goto out;
	}
	if (o->grid) {
		long K = o->cv >= 2 ? o->cv : 3;
		size_t g, best = 0, ng = grid_size(o->grid);
		double best_acc = -1, best_ll = INFINITY;
		struct params trial;
		cJSON *best_rep = NULL;
		params_copy(&trial, p);
		grid_results = cJSON_CreateArray();
		oof = xmallocarray(ds->n, ds->k * sizeof(double));
		for (g = 0; g < ng; g++) {
			cJSON *r, *item;
			double acc, ll;
			if (grid_point(o->grid, g, &trial, kind->name, e) < 0 ||
			    cross_validate(kind, &trial, ds, K, o, oof, e) < 0) {
				params_release(&trial);
				cJSON_Delete(best_rep);
				goto out;
			}
			r = metrics_report(ds->y, oof, ds->n, ds->k, ds->classes);
			acc = report_num(r, "accuracy");
			ll = report_num(r, "log_loss");
			item = cJSON_CreateObject();
			cJSON_AddItemToObject(item, "params", params_to_json(&trial));
			cJSON_AddNumberToObject(item, "accuracy", acc);
			cJSON_AddNumberToObject(item, "log_loss", ll);
			cJSON_AddItemToArray(grid_results, item);
			if (acc > best_acc || (acc == best_acc && ll < best_ll)) {
				best = g;
				best_acc = acc;
				best_ll = ll;
				cJSON_Delete(best_rep);
				best_rep = r;
			} else {
				cJSON_Delete(r);
			}
		}
		params_release(&trial);
		if (grid_point(o->grid, best, p, kind->name, e) < 0) {
			cJSON_Delete(best_rep);
			goto out;
		}
		if (o->cv >= 2) {
			rep = best_rep;
			cJSON_AddItemToObject(rep, "evaluation", evaluation("cv", (double)K));
		} else {
			cJSON_Delete(best_rep);
		}
	}
	if (!rep && o->cv >= 2) {
		oof = oof ? oof : xmallocarray(ds->n, ds->k * sizeof(double));
		if (cross_validate(kind, p, ds, o->cv, o, oof, e) < 0)
			goto out;
		rep = metrics_report(ds->y, oof, ds->n, ds->k, ds->classes);
		cJSON_AddItemToObject(rep, "evaluation", evaluation("cv", (double)o->cv));
		trace_perf("fit: report");
	}
	if (!rep && o->test_fraction > 0 && !(kind->train & TRAIN_CLASSES)) {
		if (holdout_plain(&m, &rep, kind, p, ds, o, e) < 0)
			goto out;
	}
	if (!rep && o->test_fraction > 0) {
		size_t *order = xmallocarray(ds->n, sizeof(size_t));
		size_t *start = xmallocarray(ds->k + 1, sizeof(size_t));
		size_t *tr = xmallocarray(ds->n, sizeof(size_t)),
		       *te = xmallocarray(ds->n, sizeof(size_t));
		size_t c, i, ntr = 0, nte = 0;
		struct dataset dtr, dte;
		stratify(ds, o->ctx.seed, order, start);
		for (c = 0; c < ds->k; c++) {
			size_t nc = start[c + 1] - start[c];
			size_t t = (size_t)floor(o->test_fraction * (double)nc + 0.5);
			if (t >= nc)
				t = nc - 1;
			for (i = 0; i < nc; i++) {
				if (i < t)
					te[nte++] = order[start[c] + i];
				else
					tr[ntr++] = order[start[c] + i];
			}
		}
		free(order);
		free(start);
		if (nte == 0) {
			free(tr);
			free(te);
			const char *what = ds->cards ? "cards" : "rows";
			err_set(
			    e, DYN_EDATA,
			    "--test-fraction %g leaves no held-out %s (%zu %s): use more data, a "
			    "larger fraction or --cv",
			    o->test_fraction, what, ds->n, what);
			goto out;
		}
		dataset_subset(&dtr, ds, tr, ntr);
		dataset_subset(&dte, ds, te, nte);
		free(te);
		/* A kind without refit keeps this model: it trains watching the held-out rows, and
		 * its epochs are the stored model's. */
		struct fit_ctx hctx = o->ctx;
		if (refit) {
			hctx.on_epoch = NULL;
			hctx.valid = NULL;
			hctx.refit_next = (kind->train & TRAIN_REFIT_FROM) != 0;
			if (hctx.refit_next) {
				hctx.all = ds;
				hctx.all_rows = tr;
				hctx.carry = &carry;
			}
		} else {
			hctx.valid = &dte;
		}
		if (fit_one(&m, kind, p, &dtr, o->warm, &hctx, e) < 0 ||
		    !(pr = model_predict_all(m, &dte, e))) {
			dataset_release(&dtr);
			dataset_release(&dte);
			free(tr);
			goto out;
		}
		rep = metrics_report(dte.y, pr, dte.n, dte.k, dte.classes);
		cJSON_AddItemToObject(rep, "evaluation", evaluation("holdout", o->test_fraction));
		trace_perf("fit: report");
		dataset_release(&dtr);
		dataset_release(&dte);
		if (refit && (kind->train & TRAIN_REFIT_FROM)) {
			held = m;
			m = NULL;
			held_rows = tr;
			held_n = ntr;
			tr = NULL;
		} else if (refit) {
			model_free(&m);
		}
		free(tr);
	}
	if (!m) {
		struct fit_ctx ctx = o->ctx;
		ctx.valid = NULL;
		ctx.train_proba = !rep; /* the report is on the training rows */
		ctx.refit_from = held;
		ctx.refit_rows = held_rows;
		ctx.refit_nrows = held_n;
		ctx.refit_next = false;
		ctx.carry = held ? &carry : NULL;
		int rc = fit_one(&m, kind, p, ds, o->warm, &ctx, e);
		model_free(&held);
		FREE_AND_NULL(held_rows);
		if (rc < 0)
			goto out;
		if (!rep && !(kind->train & TRAIN_CLASSES)) {
			if (kind->evaluate(m, ds, &rep, e) < 0)
				goto out;
			/* a kind may measure on data of its own making rather than on the rows */
			if (!cJSON_GetObjectItem(rep, "evaluation"))
				cJSON_AddItemToObject(rep, "evaluation", evaluation("training", 0));
		}
		if (!rep) {
			free(pr);
			/* the fit's own training probabilities, when it left them: the same numbers
			 * without a second pass over the rows */
			pr = m->train_proba;
			m->train_proba = NULL;
			if (!pr && !(pr = model_predict_all(m, ds, e)))
				goto out;
			rep = metrics_report(ds->y, pr, ds->n, ds->k, ds->classes);
			cJSON_AddItemToObject(rep, "evaluation", evaluation("training", 0));
			trace_perf("fit: report");
		}
	}
	if (grid_results) {
		cJSON_AddItemToObject(rep, "grid", grid_results);
		grid_results = NULL;
	}
	FREE_AND_NULL(m->train_proba);
	*out = m;
	m = NULL;
	*report = rep;
	rep = NULL;
	ret = 0;
out:
	if (carry.p && carry.release)
		carry.release(carry.p);
	model_free(&m);
	model_free(&held);
	free(held_rows);
	cJSON_Delete(rep);
	cJSON_Delete(grid_results);
	free(oof);
	free(pr);
	return ret;
}
