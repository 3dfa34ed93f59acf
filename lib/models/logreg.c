/* Logistic regression, binary (sigmoid) and multinomial (softmax), on features standardized
 * inside the model; the objective and solution of scikit-learn's LogisticRegression. */
#include "base/blas.h"
#include <float.h>
#include <math.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "core/lbfgs.h"
#include "core/mat.h"
#include "models/model.h"
#include "store/safetensors.h"

/*
 * Objective, for s_i the sample weights (1, or n / (k n_c) with class_weight=balanced) and
 * S = sum s_i:
 *   l2:   C sum s_i loss_i + 1/2 ||W||^2      l1: C sum s_i loss_i + ||W||_1      none: sum s_i
 * loss_i with W the weights on the standardized features (intercepts are not penalized). The solver
 * minimizes this divided by C S (a weighted mean log-loss plus penalty / (C S)): same minimizer,
 * but tol (the bound on the largest gradient component) then does not depend on the number of
 * rows, as in scikit-learn >= 1.4. That scaled value is what m->info reports as "objective".
 * Binary problems have one weight vector, for the second class (sorted order).
 */

enum { PEN_L2, PEN_L1, PEN_NONE }; /* order of "penalty" choices */
enum { CW_NONE, CW_BALANCED };	   /* order of "class_weight" choices */
#define PREDICT_CHUNK 512	   /* rows standardized at a time by predict */

static const struct param_spec logreg_params[] = {
    {"C", PARAM_NUM, "1", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "inverse of the regularization strength"},
    {"penalty", PARAM_CHOICE, "l2", NAN, NAN, 0, "l2|l1|none", "regularization"},
    {"max_iter", PARAM_INT, "100", 1, 1e6, 0, NULL, "iterations of the solver"},
    {"tol", PARAM_NUM, "1e-4", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "stopping tolerance on the largest gradient component"},
    {"class_weight", PARAM_CHOICE, "none", NAN, NAN, 0, "none|balanced",
     "balanced: weigh rows by n / (classes x rows of their class)"},
    {"fit_intercept", PARAM_BOOL, "true", NAN, NAN, 0, NULL, "learn an intercept"},
    /* The services passed {"solver": "lbfgs"}; dyn has one solver for this model. */
    {"solver", PARAM_CHOICE, "auto", NAN, NAN, PARAM_HIDDEN, "auto|lbfgs", "solver"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* A fitted model. */
struct logreg_state {
	size_t d, kp; /* features; weight vectors (1 for binary, else one per class) */
	double *W; /* (d + 1) x kp: row j < d weights of standardized feature j, row d intercepts */
	double *mean;  /* d */
	double *scale; /* d */
};

static void state_free(void *p)
{
	struct logreg_state *st = p;

	if (!st)
		return;
	free(st->W);
	free(st->mean);
	free(st->scale);
	free(st);
}

static struct logreg_state *state_new(size_t d, size_t kp)
{
	struct logreg_state *st = xcalloc(1, sizeof(*st));

	st->d = d;
	st->kp = kp;
	st->W = xcalloc((d + 1) * kp, sizeof(double));
	st->mean = xcalloc(d ? d : 1, sizeof(double));
	st->scale = xcalloc(d ? d : 1, sizeof(double));
	return st;
}

/* The problem the solver sees: parameters (d1 x kp, row-major) with d1 = d + 1 when the
 * intercept is fitted (the last column of Z is then all ones).
 *
 * The loss and gradient are sums over rows. They are computed per chunk of rows (a fixed
 * partition, so the result does not depend on the number of threads), chunks spread over
 * threads; inside a chunk, blocks of rows small enough to stay in cache go through GEMV/GEMM
 * twice (scores Z_b W, then gradient += Z_b^T G_b), so Z is read from memory once per
 * evaluation instead of twice. Wide problems (blocks would be tiny) use one chunk of all rows
 * and let OpenBLAS thread each product. */
struct problem {
	size_t n, d, d1, kp;
	const double *Z;  /* n x d1, standardized */
	const int *y;	  /* class indices */
	const double *sw; /* n weights summing to 1 */
	double l2;	  /* coefficient of 1/2 ||W||^2, 0 unless penalty l2 */
	double *S;	  /* n x kp scratch: scores, then loss derivatives */
	size_t chunk, nchunks, block;
	int threads;
	double *G;	 /* nchunks x (d1 kp) partial gradients */
	double *F;	 /* nchunks partial losses */
	const double *w; /* the point being evaluated */
	struct progress *progress;
	int max_iter;
};

#define EVAL_CHUNK 4096 /* rows per partial sum */
#define EVAL_BLOCK_ELEMS                                                                           \
	8192 /* doubles of Z per block: cache-sized, and below OpenBLAS's                          \
	      * threshold for threading a single GEMV */

static void problem_layout(struct problem *P, int threads)
{
	size_t width = P->d1 * P->kp;

	if (width * 8 > EVAL_BLOCK_ELEMS || P->n <= EVAL_CHUNK) {
		P->chunk = P->n;
		P->block = P->n;
		P->threads = 1;
	} else {
		P->chunk = EVAL_CHUNK;
		P->block = EVAL_BLOCK_ELEMS / width;
		P->threads = threads;
	}
	P->nchunks = (P->n + P->chunk - 1) / P->chunk;
	if ((size_t)P->threads > P->nchunks)
		P->threads = (int)P->nchunks;
	P->G = xmallocarray(P->nchunks, (width ? width : 1) * sizeof(double));
	P->F = xmallocarray(P->nchunks, sizeof(double));
}

/* Loss and gradient of chunk c into P->F[c] and P->G[c]. */
static void eval_chunk(const struct problem *P, size_t c)
{
	size_t kp = P->kp, d1 = P->d1, i0 = c * P->chunk;
	size_t i1 = i0 + P->chunk < P->n ? i0 + P->chunk : P->n;
	double *g = P->G + c * d1 * kp, f = 0;

	memset(g, 0, d1 * kp * sizeof(*g));
	for (size_t b0 = i0; b0 < i1; b0 += P->block) {
		size_t r = i1 - b0 < P->block ? i1 - b0 : P->block;
		const double *Zb = P->Z + b0 * d1;
		double *S = P->S + b0 * kp;
		const double *sw = P->sw + b0;
		const int *y = P->y + b0;

		if (kp == 1) {
			mat_gemv(false, r, d1, 1, Zb, d1, P->w, 0, S);
			for (size_t i = 0; i < r; i++) {
				/* log(1 + e^z) and the sigmoid from one exp(-|z|), stable both
				 * ways. */
				double z = S[i], yi = y[i] == 1, t = exp(-fabs(z));
				double sig = z >= 0 ? 1 / (1 + t) : t / (1 + t);
				f += sw[i] * (fmax(z, 0) + log1p(t) - yi * z);
				S[i] = sw[i] * (sig - yi);
			}
			mat_gemv(true, r, d1, 1, Zb, d1, S, 1, g);
		} else {
			mat_gemm(false, false, r, kp, d1, 1, Zb, d1, P->w, kp, 0, S, kp);
			for (size_t i = 0; i < r; i++) {
				double *s = S + i * kp, lse = mat_logsumexp(s, kp);
				f += sw[i] * (lse - s[y[i]]);
				for (size_t j = 0; j < kp; j++)
					s[j] = sw[i] * exp(s[j] - lse);
				s[y[i]] -= sw[i];
			}
			mat_gemm(true, false, d1, kp, r, 1, Zb, d1, S, kp, 1, g, kp);
		}
	}
	P->F[c] = f;
}

static void eval_item(void *arg, size_t c, int t)
{
	eval_chunk(arg, c);
}

static double problem_eval(void *arg, const double *w, double *g)
{
	struct problem *P = arg;
	size_t kp = P->kp, nw = P->d * kp, width = P->d1 * kp;
	double f = 0;

	P->w = w;
	/* One chunk (a wide problem, or few rows): its products are large enough for OpenBLAS to
	 * thread, outside any loop of dyn's (par.h). The partition into chunks depends on the
	 * problem alone, so whichever path is taken does not depend on the threads. */
	if (P->nchunks == 1)
		eval_chunk(P, 0);
	else
		par_for(P->nchunks, P->threads, eval_item, P);
	/* Sum the chunks in a fixed order: the same result whatever the thread count. */
	memcpy(g, P->G, width * sizeof(*g));
	f = P->F[0];
	for (size_t c = 1; c < P->nchunks; c++) {
		cblas_daxpy((int)width, 1, P->G + c * width, 1, g, 1);
		f += P->F[c];
	}
	if (P->l2 > 0) {
		/* The weight rows come first; the intercept row (if any) is not penalized. */
		f += 0.5 * P->l2 * cblas_ddot((int)nw, w, 1, w, 1);
		cblas_daxpy((int)nw, P->l2, w, 1, g, 1);
	}
	return f;
}

static void problem_iter(void *arg, int iter, double f)
{
	const struct problem *P = arg;

	(void)f;
	progress_update(P->progress, iter, P->max_iter);
}

/* The starting point from a model fitted earlier on the same features and classes, expressed
 * in this fit's standardization so that it reproduces the earlier decision function. */
static bool warm_point(const struct model *m, const struct logreg_state *st,
		       const struct model *warm, bool intercept, double *w)
{
	const struct logreg_state *ws;
	size_t d = st->d, kp = st->kp;

	if (!warm || warm->kind != m->kind || !warm->state || warm->d != m->d || warm->k != m->k)
		return false;
	for (size_t j = 0; j < m->d; j++)
		if (strcmp(warm->features[j], m->features[j]))
			return false;
	for (size_t c = 0; c < m->k; c++)
		if (strcmp(warm->classes[c], m->classes[c]))
			return false;
	ws = warm->state;
	if (ws->d != d || ws->kp != kp)
		return false;
	for (size_t c = 0; c < kp; c++) {
		double b = ws->W[d * kp + c];
		for (size_t j = 0; j < d; j++) {
			double wj = ws->W[j * kp + c] / ws->scale[j];
			w[j * kp + c] = wj * st->scale[j];
			b += wj * (st->mean[j] - ws->mean[j]);
		}
		if (intercept)
			w[d * kp + c] = b;
	}
	return true;
}

static int logreg_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		      const struct fit_ctx *ctx, struct err *e)
{
	size_t n = ds->n, d = ds->d, k = ds->k, kp = k == 2 ? 1 : k, d1, nw;
	int penalty = params_choice(&m->params, "penalty");
	bool intercept = params_num(&m->params, "fit_intercept") != 0;
	bool balanced = params_choice(&m->params, "class_weight") == CW_BALANCED;
	double C = params_num(&m->params, "C"), total = 0;
	struct logreg_state *st = NULL;
	struct problem P = {0};
	struct lbfgs_opts o;
	struct lbfgs_result r;
	struct lbfgs_fn fn;
	double *Z = NULL, *sw = NULL, *w = NULL, *S = NULL;
	unsigned char *mask = NULL;
	size_t *count = NULL;
	bool warm_used;
	int threads, blas = -1, ret = -1;

	if (n == 0)
		return err_set(e, DYN_EDATA, "logreg: no training rows");
	if (k < 2)
		return err_set(e, DYN_EDATA,
			       "logreg: the training data has %zu class; at least two are needed",
			       k);
	if (!ds->X)
		return err_set(e, DYN_EDATA, "logreg: the training data has no numeric features");
	d1 = d + (intercept ? 1 : 0);
	nw = d1 * kp;
	if (!mat_dims_ok(n, d1) || !mat_dims_ok(n, kp) || n > SIZE_MAX / (d1 ? d1 : 1) / 8)
		return err_set(e, DYN_EDATA, "logreg: %zu rows of %zu features: too large", n, d);
	/* the fit's thread budget bounds OpenBLAS's threads too (the one-chunk products are its) */
	if (ctx && ctx->threads > 0)
		blas = par_blas_set(ctx->threads);

	st = state_new(d, kp);
	mat_col_stats(ds->X, n, d, d, st->mean, st->scale);
	for (size_t j = 0; j < d; j++) {
		if (!isfinite(st->mean[j]) || !isfinite(st->scale[j])) {
			err_set(
			    e, DYN_EDATA,
			    "logreg: column \"%s\": values not finite or too large to standardize",
			    ds->features ? ds->features[j] : "?");
			goto out;
		}
	}
	/* The one standardized copy of X of this fit, with a column of ones for the intercept. */
	Z = mat_alloc(n * d1);
	mat_standardize(Z, d1, ds->X, n, d, d, st->mean, st->scale);
	if (intercept)
		for (size_t i = 0; i < n; i++)
			Z[i * d1 + d] = 1;

	count = xcalloc(k, sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		if (ds->y[i] < 0 || (size_t)ds->y[i] >= k) {
			err_set(e, DYN_EDATA, "logreg: row %zu: class index %d out of range", i + 1,
				ds->y[i]);
			goto out;
		}
		count[ds->y[i]]++;
	}
	sw = xmallocarray(n, sizeof(*sw));
	for (size_t i = 0; i < n; i++) {
		sw[i] = balanced ? (double)n / ((double)k * (double)count[ds->y[i]]) : 1.0;
		total += sw[i];
	}
	for (size_t i = 0; i < n; i++)
		sw[i] /= total;

	w = xcalloc(nw, sizeof(*w));
	warm_used = warm_point(m, st, warm, intercept, w);
	S = mat_alloc(n * kp);
	P.n = n;
	P.d = d;
	P.d1 = d1;
	P.kp = kp;
	P.Z = Z;
	P.y = ds->y;
	P.sw = sw;
	P.l2 = penalty == PEN_L2 ? 1.0 / (C * total) : 0;
	P.S = S;
	P.progress = ctx ? ctx->progress : NULL;
	P.max_iter = (int)params_num(&m->params, "max_iter");
	threads = ctx && ctx->threads > 0 ? ctx->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	problem_layout(&P, threads > 0 ? threads : 1);

	lbfgs_opts_init(&o);
	o.max_iter = P.max_iter;
	o.gtol = params_num(&m->params, "tol");
	/* The relative-decrease test only ends a fit whose remaining gain is of the order of
	 * what the gradient test allows (tol^2), so a small tol is honoured. */
	o.ftol = fmin(o.ftol, o.gtol * o.gtol);
	if (penalty == PEN_L1) {
		o.l1 = 1.0 / (C * total);
		mask = xcalloc(nw, 1);
		memset(mask, 1, d * kp);
		o.l1_mask = mask;
	}
	fn.eval = problem_eval;
	fn.arg = &P;
	fn.iter_done = problem_iter;
	lbfgs_minimize(nw, w, &fn, &o, &r);
	if (r.status == LBFGS_LINESEARCH_FAILED && !isfinite(r.f)) {
		err_set(e, DYN_EDATA, "logreg: the objective is not finite at the starting point");
		goto out;
	}

	for (size_t j = 0; j < d1; j++)
		memcpy(st->W + j * kp, w + j * kp, kp * sizeof(double));
	if (kp > 1 && intercept) {
		/* Softmax is unchanged by a common shift of the intercepts and nothing penalizes
		 * them: store the centred ones (as scikit-learn's solvers end with). */
		double mean_b = 0;
		for (size_t c = 0; c < kp; c++)
			mean_b += st->W[d * kp + c] / (double)kp;
		for (size_t c = 0; c < kp; c++)
			st->W[d * kp + c] -= mean_b;
	}
	cJSON_Delete(m->info);
	m->info = cJSON_CreateObject();
	cJSON_AddNumberToObject(m->info, "iterations", r.iterations);
	cJSON_AddBoolToObject(m->info, "converged", r.status == LBFGS_CONVERGED);
	cJSON_AddNumberToObject(m->info, "objective", r.f);
	if (warm)
		cJSON_AddBoolToObject(m->info, "warm_start", warm_used);
	if (r.status != LBFGS_CONVERGED) {
		struct strbuf sb = STRBUF_INIT;
		if (r.status == LBFGS_MAX_ITER)
			strbuf_addf(&sb,
				    "lbfgs did not converge in max_iter=%d iterations (largest "
				    "gradient component %.3g > tol); increase max_iter",
				    r.iterations, r.pg_max);
		else
			strbuf_addf(&sb,
				    "lbfgs stopped after %d iterations: the line search found no "
				    "decrease (largest gradient component %.3g > tol)",
				    r.iterations, r.pg_max);
		cJSON_AddStringToObject(m->info, "warning", sb.buf);
		strbuf_release(&sb);
	}
	state_free(m->state);
	m->state = st;
	st = NULL;
	ret = 0;
out:
	if (blas > 0)
		par_blas_set(blas);
	state_free(st);
	free(Z);
	free(sw);
	free(w);
	free(S);
	free(mask);
	free(count);
	free(P.G);
	free(P.F);
	return ret;
}

/* Probabilities of rows b->X[0..n): standardized PREDICT_CHUNK rows at a time into a buffer
 * of this call, so that concurrent calls share nothing mutable. */
static int logreg_predict(const struct model *m, const struct batch *b, double *proba,
			  struct err *e)
{
	const struct logreg_state *st = m->state;
	size_t d = st->d, kp = st->kp, k = m->k;
	double *Zc, *sc;

	if (b->d != d)
		return err_set(e, DYN_EDATA, "logreg: input has %zu features, the model %zu", b->d,
			       d);
	if (!mat_dims_ok(PREDICT_CHUNK, d + kp))
		return err_set(e, DYN_EDATA, "logreg: %zu features: too many", d);
	Zc = xmallocarray(PREDICT_CHUNK, (d ? d : 1) * sizeof(double));
	sc = xmallocarray(PREDICT_CHUNK, kp * sizeof(double));
	for (size_t i0 = 0; i0 < b->n; i0 += PREDICT_CHUNK) {
		size_t r = b->n - i0 < PREDICT_CHUNK ? b->n - i0 : PREDICT_CHUNK;
		/* Binary scores go to a buffer; multinomial ones straight into proba. */
		double *s = kp == 1 ? sc : proba + i0 * k;

		mat_standardize(Zc, d, b->X + i0 * d, r, d, d, st->mean, st->scale);
		for (size_t i = 0; i < r; i++)
			memcpy(s + i * kp, st->W + d * kp, kp * sizeof(double));
		mat_gemm(false, false, r, kp, d, 1, Zc, d, st->W, kp, 1, s, kp);
		if (kp == 1) {
			for (size_t i = 0; i < r; i++) {
				/* Each side from its own sigmoid: both keep full relative
				 * precision. */
				proba[(i0 + i) * 2] = mat_sigmoid(-s[i]);
				proba[(i0 + i) * 2 + 1] = mat_sigmoid(s[i]);
			}
		} else {
			mat_softmax_rows(s, r, k, k, NULL);
		}
	}
	free(Zc);
	free(sc);
	return 0;
}

static int logreg_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct logreg_state *st = m->state;
	size_t d = st->d, kp = st->kp, shape[2] = {kp, d};
	double *coef = xmallocarray(kp * (d ? d : 1), sizeof(double));

	mat_transpose(coef, st->W, d, kp);
	/* The transposed copy is the file's; the other tensors are the model's own arrays. */
	st_add_owned(f, "coef", ST_F64, 2, shape, coef);
	st_add(f, "intercept", ST_F64, 1, &kp, st->W + d * kp);
	st_add(f, "mean", ST_F64, 1, &d, st->mean);
	st_add(f, "scale", ST_F64, 1, &d, st->scale);
	return 0;
}

/* Copies tensor name (shape rows x cols, or a vector of cols when rows is 0) into out,
 * checking the shape and that every value is finite (and positive when positive). */
static int load_tensor(const struct st_file *f, const char *name, size_t rows, size_t cols,
		       bool positive, double *out, struct err *e)
{
	size_t ndim = rows ? 2 : 1, len = (rows ? rows : 1) * cols;
	const struct st_tensor *t = st_get(f, name, ST_F64, ndim, e);

	if (!t)
		return -1;
	if (rows ? t->shape[0] != rows || t->shape[1] != cols : t->shape[0] != cols) {
		if (rows)
			return err_set(e, DYN_EDATA,
				       "tensor \"%s\": expected shape %zu x %zu, got %zu x %zu",
				       name, rows, cols, t->shape[0], t->shape[1]);
		return err_set(e, DYN_EDATA, "tensor \"%s\": expected %zu values, got %zu", name,
			       cols, t->shape[0]);
	}
	/* Stored little-endian, as every platform dyn builds for. */
	memcpy(out, t->data, len * sizeof(double));
	for (size_t i = 0; i < len; i++)
		if (!isfinite(out[i]) || (positive && !(out[i] > 0)))
			return err_set(e, DYN_EDATA, "tensor \"%s\": invalid value %g at %zu", name,
				       out[i], i);
	return 0;
}

static int logreg_load(struct model *m, struct st_file *f, struct err *e)
{
	size_t d = m->d, kp = m->k == 2 ? 1 : m->k;
	struct logreg_state *st = state_new(d, kp);
	double *coef = xmallocarray(kp * (d ? d : 1), sizeof(double));
	int ret = -1;

	if (load_tensor(f, "coef", kp, d, false, coef, e) < 0 ||
	    load_tensor(f, "intercept", 0, kp, false, st->W + d * kp, e) < 0 ||
	    load_tensor(f, "mean", 0, d, false, st->mean, e) < 0 ||
	    load_tensor(f, "scale", 0, d, true, st->scale, e) < 0)
		goto out;
	mat_transpose(st->W, coef, kp, d);
	state_free(m->state);
	m->state = st;
	st = NULL;
	ret = 0;
out:
	state_free(st);
	free(coef);
	return ret;
}

const struct model_kind model_logreg = {
    .name = "logreg",
    .summary = "logistic regression (binary and multinomial, L2/L1), standardized features",
    .input = INPUT_TABULAR,
    .output = OUTPUT_CLASSES,
    .train = TRAIN_HOLDOUT | TRAIN_CV | TRAIN_REFIT | TRAIN_CLASSES,
    .params = logreg_params,
    .fit = logreg_fit,
    .predict = logreg_predict,
    .save = logreg_save,
    .load = logreg_load,
    .free_state = state_free,
};
