/* The "text" model kind: TF-IDF features of one text column (lib/text) and a linear classifier
 * on them, multinomial logistic regression (L-BFGS on the sparse matrix) or a linear SVM (dual
 * coordinate descent, one-vs-rest). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "base/trace.h"
#include "core/lbfgs.h"
#include "core/linsvm.h"
#include "core/mat.h"
#include "core/sparse.h"
#include "models/model.h"
#include "store/safetensors.h"
#include "text/text.h"

/*
 * Logistic regression minimizes, for sample weights s_i (1, or n / (k n_c) when balanced) and
 * S = sum s_i, the weighted mean log-loss plus ||W||^2 / (2 C S) (intercepts not penalized):
 * scikit-learn's LogisticRegression objective divided by C S, so tol does not depend on n.
 * Binary problems have one weight vector (sigmoid), more classes one per class (softmax).
 *
 * The SVM minimizes 1/2 ||w||^2 + C sum_i c_i max(0, 1 - y_i w.x_i)^2 per class against the
 * rest, with the bias as a regularized weight of a constant feature (LinearSVC's objective).
 * Its probabilities come from one Platt sigmoid sigmoid(A f + B) fitted on the training
 * decision values of all classes pooled (one-vs-rest targets, Platt's smoothed labels), then
 * normalized over the classes; for two classes p = sigmoid(A f + B) of the one problem. The
 * fit is on the training rows (no inner cross-validation, to keep fit fast), so the
 * probabilities lean confident; they order classes exactly as the decision values do, so the
 * predicted class is the SVM's.
 */

enum { MODEL_LOGREG, MODEL_SVM };
enum { CW_NONE, CW_BALANCED };

/* n-gram ranges as choices: the param system has no range type, and "1-2" (not "1,2") keeps
 * them apart from the commas of --grid lists. */
#define WORD_RANGES "none|1-1|1-2|1-3|2-2|2-3|3-3"
#define CHAR_RANGES                                                                                \
	"none|1-1|1-2|1-3|1-4|1-5|1-6|2-2|2-3|2-4|2-5|2-6|3-3|3-4|3-5|3-6|4-4|4-5|4-6|5-5|5-6|6-6"

static const struct param_spec text_params[] = {
    {"model", PARAM_CHOICE, "logreg", NAN, NAN, 0, "logreg|svm",
     "classifier: logistic regression or linear SVM"},
    {"C", PARAM_NUM, "1", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "inverse of the regularization strength"},
    {"max_iter", PARAM_INT, "1000", 1, 1e6, 0, NULL, "iterations (passes for svm) of the solver"},
    {"tol", PARAM_NUM, "auto", 0, INFINITY, PARAM_MIN_OPEN | PARAM_OR_CHOICE, "auto",
     "stopping tolerance (auto: 1e-4 for logreg, 0.1 for svm)"},
    {"class_weight", PARAM_CHOICE, "none", NAN, NAN, 0, "none|balanced",
     "balanced weighs each class by n / (classes x its rows)"},
    {"ngram_word", PARAM_CHOICE, "1-2", NAN, NAN, 0, WORD_RANGES,
     "word n-gram lengths, from-to, or none"},
    {"ngram_char", PARAM_CHOICE, "2-5", NAN, NAN, 0, CHAR_RANGES,
     "character n-gram lengths inside word boundaries, from-to, or none"},
    {"min_df", PARAM_NUM, "1", 0, 1e9, PARAM_MIN_OPEN, NULL,
     "drop terms in fewer documents than this (a fraction of them when below 1)"},
    {"max_features", PARAM_INT, "0", 0, 1e9, 0, NULL,
     "keep the most frequent terms of each n-gram kind (0: all)"},
    {"sublinear_tf", PARAM_BOOL, "false", NAN, NAN, 0, NULL, "term frequency 1 + ln(tf)"},
    {"stem", PARAM_CHOICE, "none", NAN, NAN, 0, "none|auto|english|russian",
     "Snowball stemming of words (auto: by script)"},
    {"invalid_utf8", PARAM_CHOICE, "error", NAN, NAN, 0, "error|replace",
     "invalid UTF-8 in a text is an error, or each bad byte becomes U+FFFD"},
    /* The services passed {"solver": "lbfgs"}; dyn has one solver per model. */
    {"solver", PARAM_CHOICE, "auto", NAN, NAN, PARAM_HIDDEN, "auto|lbfgs", "solver"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

struct text_state {
	struct tfidf v;
	int svm;
	size_t D, kp;	 /* features; weight vectors */
	double *W;	 /* kp x (D + 1), row-major: weights then intercept */
	double platt[2]; /* svm: A, B of sigmoid(A f + B) */
	double *Wt;	 /* D x kp: W's weights transposed, so a term's kp weights are adjacent */
};

/* Threads for a call without a context (predict): the machine's, within reason. */
static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* The predict-side copy of the weights. */
static void state_ready(struct text_state *st)
{
	free(st->Wt);
	st->Wt = xmallocarray(st->D ? st->D : 1, st->kp * sizeof(double));
	for (size_t c = 0; c < st->kp; c++)
		for (size_t j = 0; j < st->D; j++)
			st->Wt[j * st->kp + c] = st->W[c * (st->D + 1) + j];
	st->v.o.threads = default_threads();
}

static void state_free(void *p)
{
	struct text_state *st = p;
	if (!st)
		return;
	tfidf_release(&st->v);
	free(st->W);
	free(st->Wt);
	free(st);
}

/* "2-5" -> 2, 5; "none" -> 0, 0. */
static void range_of(const struct params *p, const char *name, int *lo, int *hi)
{
	struct strbuf sb = STRBUF_INIT;
	const struct param_spec *s = params_find(p->spec, name);
	params_value_text(p, (size_t)(s - p->spec), &sb);
	*lo = *hi = 0;
	if (sb.len == 3 && sb.buf[1] == '-') {
		*lo = sb.buf[0] - '0';
		*hi = sb.buf[2] - '0';
	}
	strbuf_release(&sb);
}

static void opts_from_params(const struct params *p, struct tfidf_opts *o)
{
	tfidf_opts_default(o);
	range_of(p, "ngram_word", &o->word_min, &o->word_max);
	range_of(p, "ngram_char", &o->char_min, &o->char_max);
	o->min_df = params_num(p, "min_df");
	o->max_features = (size_t)params_num(p, "max_features");
	o->sublinear_tf = params_num(p, "sublinear_tf") != 0;
	o->stem = (enum text_stem)params_choice(p, "stem");
	o->invalid_utf8 = (enum text_utf8)params_choice(p, "invalid_utf8");
}

/* tol, or the solver's own default for "auto": 1e-4 for L-BFGS (scikit-learn's), 0.1 for the
 * dual SVM solver (liblinear's default for its dual solvers; scikit-learn's LinearSVC asks for
 * 1e-4, which costs several times the passes for the same held-out accuracy on text). */
static double tol_of(const struct params *p, double automatic)
{
	return params_choice(p, "tol") == 0 ? automatic : params_num(p, "tol");
}

/* ---- logistic regression on a sparse matrix ---- */

struct lr_problem {
	const struct csr *X;
	const int *y;
	const double *sw; /* weights summing to 1 */
	size_t n, D, kp;
	double l2;
	double *S;  /* n x kp scores, then loss derivatives */
	double *Wt; /* (D + 1) x kp: w in the layout csr_matmul_dense wants */
	struct progress *progress;
	int max_iter;
};

/* w is kp x (D + 1) row-major (the stored layout); the products want it transposed. */
static double lr_eval(void *arg, const double *w, double *g)
{
	struct lr_problem *P = arg;
	size_t n = P->n, D = P->D, kp = P->kp, D1 = D + 1;
	double f = 0;

	mat_transpose(P->Wt, w, kp, D1);
	csr_matmul_dense(P->X, P->Wt, kp, P->S);
	for (size_t i = 0; i < n; i++) {
		double *s = P->S + i * kp;
		for (size_t c = 0; c < kp; c++)
			s[c] += w[c * D1 + D];
		if (kp == 1) {
			double z = s[0], yi = P->y[i] == 1;
			f += P->sw[i] * (mat_log1pexp(z) - yi * z);
			s[0] = P->sw[i] * (mat_sigmoid(z) - yi);
		} else {
			double lse = mat_logsumexp(s, kp);
			f += P->sw[i] * (lse - s[P->y[i]]);
			for (size_t c = 0; c < kp; c++)
				s[c] = P->sw[i] * exp(s[c] - lse);
			s[P->y[i]] -= P->sw[i];
		}
	}
	/* gradient: X^T S for the weights, column sums of S for the intercepts */
	csr_tmatmul_dense(P->X, P->S, kp, P->Wt);
	for (size_t c = 0; c < kp; c++) {
		double b = 0;
		for (size_t j = 0; j < D; j++)
			g[c * D1 + j] = P->Wt[j * kp + c] + P->l2 * w[c * D1 + j];
		for (size_t i = 0; i < n; i++)
			b += P->S[i * kp + c];
		g[c * D1 + D] = b;
		for (size_t j = 0; j < D; j++)
			f += 0.5 * P->l2 * w[c * D1 + j] * w[c * D1 + j];
	}
	return f;
}

static void lr_iter(void *arg, int iter, double f)
{
	const struct lr_problem *P = arg;
	(void)f;
	progress_update(P->progress, iter, P->max_iter);
}

static void add_warning(struct cJSON *info, const char *msg)
{
	cJSON_AddStringToObject(info, "warning", msg);
}

static int fit_logreg(struct model *m, struct text_state *st, const struct csr *X, const int *y,
		      const double *cw, const struct fit_ctx *ctx, struct err *e)
{
	size_t n = X->nrows, D = X->ncols, kp = st->kp, nw = kp * (D + 1);
	struct lr_problem P = {0};
	struct lbfgs_opts o;
	struct lbfgs_result r;
	struct lbfgs_fn fn;
	double *sw = xmallocarray(n ? n : 1, sizeof(*sw)), total = 0;

	for (size_t i = 0; i < n; i++)
		total += sw[i] = cw[y[i]];
	for (size_t i = 0; i < n; i++)
		sw[i] /= total;
	P.X = X;
	P.y = y;
	P.sw = sw;
	P.n = n;
	P.D = D;
	P.kp = kp;
	P.l2 = 1.0 / (params_num(&m->params, "C") * total);
	P.S = xmallocarray(n ? n : 1, kp * sizeof(double));
	P.Wt = xmallocarray(D + 1, kp * sizeof(double));
	P.progress = ctx ? ctx->progress : NULL;
	P.max_iter = (int)params_num(&m->params, "max_iter");
	lbfgs_opts_init(&o);
	o.max_iter = P.max_iter;
	o.gtol = tol_of(&m->params, 1e-4);
	o.ftol = fmin(o.ftol, o.gtol * o.gtol);
	fn.eval = lr_eval;
	fn.arg = &P;
	fn.iter_done = lr_iter;
	memset(st->W, 0, nw * sizeof(double));
	lbfgs_minimize(nw, st->W, &fn, &o, &r);
	free(P.S);
	free(P.Wt);
	free(sw);
	if (r.status == LBFGS_LINESEARCH_FAILED && !isfinite(r.f))
		return err_set(e, DYN_EDATA, "text: the objective is not finite");
	cJSON_AddNumberToObject(m->info, "iterations", r.iterations);
	cJSON_AddBoolToObject(m->info, "converged", r.status == LBFGS_CONVERGED);
	cJSON_AddNumberToObject(m->info, "objective", r.f);
	if (r.status == LBFGS_MAX_ITER)
		add_warning(m->info, "lbfgs did not converge in max_iter iterations; increase "
				     "max_iter");
	return 0;
}

/* Platt's sigmoid fit (with Lin, Lin and Weng's safeguards) of targets t_j on decision values
 * f_j: minimizes sum log1pexp(z_j) - t_j z_j, z_j = A f_j + B, by Newton with backtracking. */
static void platt_fit(const double *f, const unsigned char *pos, size_t m, double *A, double *B)
{
	double np = 0, nn = 0;
	for (size_t j = 0; j < m; j++)
		pos[j] ? np++ : nn++;
	double tp = (np + 1) / (np + 2), tn = 1 / (nn + 2);
	double a = 0, b = log((np + 1) / (nn + 1)), fval = 0;
	for (size_t j = 0; j < m; j++) {
		double z = a * f[j] + b;
		fval += mat_log1pexp(z) - (pos[j] ? tp : tn) * z;
	}
	for (int it = 0; it < 100; it++) {
		double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
		for (size_t j = 0; j < m; j++) {
			double p = mat_sigmoid(a * f[j] + b), t = pos[j] ? tp : tn, w = p * (1 - p);
			h11 += f[j] * f[j] * w;
			h22 += w;
			h21 += f[j] * w;
			g1 += f[j] * (p - t);
			g2 += p - t;
		}
		if (fabs(g1) < 1e-5 * (double)m && fabs(g2) < 1e-5 * (double)m)
			break;
		double det = h11 * h22 - h21 * h21;
		double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
		double gd = g1 * da + g2 * db, step = 1;
		while (step >= 1e-10) {
			double na = a + step * da, nb = b + step * db, nf = 0;
			for (size_t j = 0; j < m; j++) {
				double z = na * f[j] + nb;
				nf += mat_log1pexp(z) - (pos[j] ? tp : tn) * z;
			}
			if (nf < fval + 1e-4 * step * gd) {
				a = na, b = nb, fval = nf;
				break;
			}
			step /= 2;
		}
		if (step < 1e-10)
			break;
	}
	*A = a;
	*B = b;
}

/* The scores of every training row (n x kp: decision values for the SVM, logits for logistic
 * regression), summed in the order predict sums them (intercept, then the row's terms), so that
 * the probabilities made from them are predict's. Needs st->Wt. */
static double *train_scores(const struct text_state *st, const struct csr *X)
{
	size_t n = X->nrows, kp = st->kp, D1 = st->D + 1;
	double *f = xmallocarray(n ? n : 1, kp * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		double *s = f + i * kp;
		for (size_t c = 0; c < kp; c++)
			s[c] = st->W[c * D1 + st->D];
		for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
			const double *wt = st->Wt + (size_t)X->indices[q] * kp;
			double v = X->data[q];
			for (size_t c = 0; c < kp; c++)
				s[c] += v * wt[c];
		}
	}
	return f;
}

/* The training decision values f (n x kp) of every class, pooled, calibrated by one sigmoid. */
static void svm_calibrate(struct text_state *st, const double *f, size_t n, const int *y)
{
	size_t kp = st->kp, m = n * kp;
	unsigned char *pos = xmallocarray(m ? m : 1, 1);
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < kp; c++)
			pos[i * kp + c] = (size_t)y[i] == (kp == 1 ? 1 : c);
	platt_fit(f, pos, m, &st->platt[0], &st->platt[1]);
	free(pos);
}

/* Class probabilities p (k) from the scores s (kp, overwritten) of one document. */
static void scores_to_proba(const struct text_state *st, size_t k, double *s, double *p)
{
	size_t kp = st->kp;
	if (st->svm)
		for (size_t c = 0; c < kp; c++)
			s[c] = st->platt[0] * s[c] + st->platt[1];
	if (kp == 1) {
		p[0] = mat_sigmoid(-s[0]);
		p[1] = mat_sigmoid(s[0]);
	} else if (!st->svm) {
		double lse = mat_logsumexp(s, k);
		for (size_t c = 0; c < k; c++)
			p[c] = exp(s[c] - lse);
	} else {
		double tot = 0;
		for (size_t c = 0; c < k; c++)
			tot += p[c] = mat_sigmoid(s[c]);
		for (size_t c = 0; c < k; c++)
			p[c] /= tot;
	}
}

static int fit_svm(struct model *m, struct text_state *st, const struct csr *X, const int *y,
		   const double *cw, const struct fit_ctx *ctx, struct err *e)
{
	size_t k = m->k, D1 = X->ncols + 1;
	struct linsvm_opts o = {0};
	struct linsvm_info info;
	double *W = xmallocarray(k, D1 * sizeof(double));

	o.C = params_num(&m->params, "C");
	o.tol = tol_of(&m->params, 0.1);
	o.max_iter = (int)params_num(&m->params, "max_iter");
	o.weight = cw;
	o.seed = ctx ? ctx->seed : 0;
	/* no --threads: the machine's, as for the vectorizer (the solution does not depend on
	 * how the classes are shared out, see linsvm.h) */
	o.threads = ctx && ctx->threads > 0 ? ctx->threads : default_threads();
	if (linsvm_fit(X, y, k, &o, W, &info, e) < 0) {
		free(W);
		return -1;
	}
	/* two classes: one problem, kept as the second class's row */
	memcpy(st->W, k == 2 ? W + D1 : W, st->kp * D1 * sizeof(double));
	free(W);
	cJSON_AddNumberToObject(m->info, "iterations", info.max_iter_used);
	cJSON_AddBoolToObject(m->info, "converged", info.unconverged == 0);
	if (info.unconverged)
		add_warning(m->info, "svm: the dual solver did not converge in max_iter passes "
				     "for some classes; increase max_iter");
	return 0;
}

static int text_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		    const struct fit_ctx *ctx, struct err *e)
{
	struct tfidf_opts o;
	struct text_state *st = xcalloc(1, sizeof(*st));
	struct csr X;
	size_t n = ds->n, k = ds->k, *count = NULL;
	double *cw = NULL, *f = NULL;
	int have_x = 0, ret = -1;

	(void)warm; /* a refit is fast enough; warm starts are for the tabular kinds */
	tfidf_init(&st->v);
	if (!ds->text)
		return state_free(st), err_set(e, DYN_EDATA, "text: the data has no text column");
	if (n == 0 || k < 2) {
		state_free(st);
		return err_set(e, DYN_EDATA, "text: need rows of at least two classes");
	}
	opts_from_params(&m->params, &o);
	o.threads = ctx && ctx->threads > 0 ? ctx->threads : default_threads();
	if (o.word_min == 0 && o.char_min == 0) {
		state_free(st);
		return err_set(e, DYN_EUSAGE,
			       "text: ngram_word and ngram_char are both none: no features");
	}
	if (tfidf_fit_transform(&st->v, &o, (const char *const *)ds->text, n, &X, e) < 0) {
		err_prefix(e, "text");
		goto out;
	}
	have_x = 1;
	trace_perf("text: tf-idf");
	st->svm = params_choice(&m->params, "model") == MODEL_SVM;
	st->D = X.ncols;
	st->kp = k == 2 ? 1 : k;
	st->W = xcalloc(st->kp * (st->D + 1), sizeof(double));
	count = xcalloc(k, sizeof(*count));
	for (size_t i = 0; i < n; i++)
		count[ds->y[i]]++;
	cw = xmallocarray(k, sizeof(*cw));
	for (size_t c = 0; c < k; c++)
		cw[c] = params_choice(&m->params, "class_weight") == CW_BALANCED && count[c]
			    ? (double)n / ((double)k * (double)count[c])
			    : 1.0;
	cJSON_Delete(m->info);
	m->info = cJSON_CreateObject();
	cJSON_AddNumberToObject(m->info, "features", (double)st->D);
	cJSON_AddNumberToObject(m->info, "word_terms", (double)st->v.b[TFIDF_WORD].nterms);
	cJSON_AddNumberToObject(m->info, "char_terms", (double)st->v.b[TFIDF_CHAR].nterms);
	cJSON_AddNumberToObject(m->info, "nonzeros", (double)X.nnz);
	if (st->svm ? fit_svm(m, st, &X, ds->y, cw, ctx, e) < 0
		    : fit_logreg(m, st, &X, ds->y, cw, ctx, e) < 0)
		goto out;
	trace_perf("text: solve");
	state_ready(st);
	/* one pass over X for the SVM's calibration and the training report's probabilities */
	f = train_scores(st, &X);
	if (st->svm)
		svm_calibrate(st, f, n, ds->y);
	free(m->train_proba);
	m->train_proba = xmallocarray(n, k * sizeof(double));
	for (size_t i = 0; i < n; i++)
		scores_to_proba(st, k, f + i * st->kp, m->train_proba + i * k);
	trace_perf("text: scores, calibration");
	state_free(m->state);
	m->state = st;
	st = NULL;
	ret = 0;
out:
	if (have_x)
		csr_release(&X);
	state_free(st);
	free(count);
	free(cw);
	free(f);
	return ret;
}

/* Probabilities of texts [first, first + n) of a batch, one document at a time: no matrix is
 * built, so memory stays flat whatever the batch. */
struct predict_job {
	const struct model *m;
	const char *const *text;
	size_t first, n;
	double *proba;
	struct err e;
	int rc;
};

static void *predict_run(void *arg)
{
	struct predict_job *j = arg;
	const struct text_state *st = j->m->state;
	size_t k = j->m->k, kp = st->kp, D1 = st->D + 1;
	struct tfidf_row *r = tfidf_row_new();
	double *s = xmallocarray(k, sizeof(*s));

	j->rc = 0;
	for (size_t i = j->first; i < j->first + j->n; i++) {
		const uint32_t *idx;
		const double *val;
		size_t nnz;
		double *p = j->proba + i * k;
		if (tfidf_row(&st->v, r, j->text[i], &idx, &val, &nnz, &j->e) < 0) {
			/* the caller knows the file and line: predict of a batch has no row names
			 */
			err_prefix(&j->e, "text");
			j->rc = -1;
			break;
		}
		for (size_t c = 0; c < kp; c++)
			s[c] = st->W[c * D1 + st->D];
		for (size_t q = 0; q < nnz; q++) {
			const double *wt = st->Wt + (size_t)idx[q] * kp;
			for (size_t c = 0; c < kp; c++)
				s[c] += val[q] * wt[c];
		}
		scores_to_proba(st, k, s, p);
	}
	free(s);
	tfidf_row_free(&r);
	return NULL;
}

/* Below this many texts per thread, a thread costs more than it saves. */
#define PREDICT_MIN_PER_THREAD 128

static int text_predict(const struct model *m, const struct batch *b, double *proba, struct err *e)
{
	const struct text_state *st = m->state;
	size_t nt = (size_t)(st->v.o.threads > 1 ? st->v.o.threads : 1);
	int ret = 0;

	if (!b->text)
		return err_set(e, DYN_EDATA, "text: the input has no texts");
	if (nt > b->n / PREDICT_MIN_PER_THREAD)
		nt = b->n / PREDICT_MIN_PER_THREAD;
	if (nt < 1)
		nt = 1;
	struct predict_job *job = xcalloc(nt, sizeof(*job));
	for (size_t t = 0; t < nt; t++) {
		job[t].m = m;
		job[t].text = b->text;
		job[t].first = b->n * t / nt;
		job[t].n = b->n * (t + 1) / nt - job[t].first;
		job[t].proba = proba;
	}
	par_run(predict_run, job, sizeof(*job), nt);
	for (size_t t = 0; t < nt && ret == 0; t++)
		if (job[t].rc < 0) {
			*e = job[t].e;
			ret = -1;
		}
	free(job);
	return ret;
}

static const char *const block_names[TFIDF_NBLOCKS] = {"word", "char"};

static int text_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct text_state *st = m->state;
	size_t shape[2] = {st->kp, st->D + 1};
	char name[32];

	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		const struct tfidf_block *b = &st->v.b[bi];
		size_t len = b->terms_len, nt = b->nterms;
		/* the vocabulary: its terms as NUL-terminated UTF-8, in column order */
		snprintf(name, sizeof(name), "%s_terms", block_names[bi]);
		st_add(f, name, ST_U8, 1, &len, b->terms ? b->terms : "");
		snprintf(name, sizeof(name), "%s_idf", block_names[bi]);
		st_add(f, name, ST_F64, 1, &nt, b->idf ? (const void *)b->idf : (const void *)"");
	}
	st_add(f, "coef", ST_F64, 2, shape, st->W);
	if (st->svm) {
		size_t two = 2;
		st_add(f, "platt", ST_F64, 1, &two, st->platt);
	}
	(void)e;
	return 0;
}

static int text_load(struct model *m, struct st_file *f, struct err *e)
{
	struct text_state *st = xcalloc(1, sizeof(*st));
	char name[32];
	const struct st_tensor *t, *idf;
	int ret = -1;

	tfidf_init(&st->v);
	opts_from_params(&m->params, &st->v.o);
	st->svm = params_choice(&m->params, "model") == MODEL_SVM;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		snprintf(name, sizeof(name), "%s_terms", block_names[bi]);
		if (!(t = st_get(f, name, ST_U8, 1, e)))
			goto out;
		snprintf(name, sizeof(name), "%s_idf", block_names[bi]);
		if (!(idf = st_get(f, name, ST_F64, 1, e)))
			goto out;
		if (tfidf_set_block(&st->v, bi, t->data, t->shape[0], idf->shape[0], idf->data, e) <
		    0)
			goto out;
	}
	st->D = st->v.nfeatures;
	st->kp = m->k == 2 ? 1 : m->k;
	if (m->k < 2 || m->d != 1) {
		err_set(e, DYN_EDATA,
			"text: a text model has one text column and two or more "
			"classes");
		goto out;
	}
	if (!(t = st_get(f, "coef", ST_F64, 2, e)))
		goto out;
	if (t->shape[0] != st->kp || t->shape[1] != st->D + 1) {
		err_set(e, DYN_EDATA, "tensor \"coef\": expected shape %zu x %zu, got %zu x %zu",
			st->kp, st->D + 1, t->shape[0], t->shape[1]);
		goto out;
	}
	/* The biggest tensor by far: kept, not copied. */
	st->W = st_take(f, t);
	for (size_t i = 0; i < st->kp * (st->D + 1); i++)
		if (!isfinite(st->W[i])) {
			err_set(e, DYN_EDATA, "tensor \"coef\": invalid value at %zu", i);
			goto out;
		}
	if (st->svm) {
		if (!(t = st_get(f, "platt", ST_F64, 1, e)))
			goto out;
		if (t->shape[0] != 2) {
			err_set(e, DYN_EDATA, "tensor \"platt\": expected 2 values, got %zu",
				t->shape[0]);
			goto out;
		}
		memcpy(st->platt, t->data, sizeof(st->platt));
		if (!isfinite(st->platt[0]) || !isfinite(st->platt[1])) {
			err_set(e, DYN_EDATA, "tensor \"platt\": invalid value");
			goto out;
		}
	}
	state_ready(st);
	state_free(m->state);
	m->state = st;
	st = NULL;
	ret = 0;
out:
	state_free(st);
	return ret;
}

const struct model_kind model_text = {
    .name = "text",
    .summary = "text classification: TF-IDF of word and char n-grams, logistic regression "
	       "or linear SVM",
    .input = INPUT_TEXT,
    .params = text_params,
    .fit = text_fit,
    .predict = text_predict,
    .save = text_save,
    .load = text_load,
    .free_state = state_free,
};
