/* The "text" model kind: TF-IDF features of one text column (lib/text) and a linear classifier
 * on them, multinomial logistic regression (trust-region Newton on the sparse matrix, core/mlogit)
 * or a linear SVM (dual coordinate descent, one-vs-rest). */
#include <math.h>

#include "base/blas.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "base/trace.h"
#include "core/linsvm.h"
#include "core/mat.h"
#include "core/mlogit.h"
#include "core/platt.h"
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
    /* svm by default: on real corpora it is the more accurate and the faster (bench/RESULTS.md,
     * issue 13); logreg for calibrated probabilities */
    {"model", PARAM_CHOICE, "svm", NAN, NAN, 0, "logreg|svm",
     "classifier: linear SVM (faster, and more accurate on text) or logistic regression "
     "(calibrated probabilities)"},
    {"C", PARAM_NUM, "1", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "inverse of the regularization strength"},
    {"max_iter", PARAM_INT, "1000", 1, 1e6, 0, NULL,
     "iterations of the solver (Newton iterations for logreg, passes for svm)"},
    {"tol", PARAM_NUM, "auto", 0, INFINITY, PARAM_MIN_OPEN | PARAM_OR_CHOICE, "auto",
     "stopping tolerance (auto: 1e-4 for logreg, 0.1 for svm)"},
    {"class_weight", PARAM_CHOICE, "none", NAN, NAN, 0, "none|balanced",
     "balanced weighs each class by n / (classes x its rows)"},
    {"ngram_word", PARAM_CHOICE, "1-2", NAN, NAN, 0, WORD_RANGES,
     "word n-gram lengths, from-to, or none"},
    {"ngram_char", PARAM_CHOICE, "2-4", NAN, NAN, 0, CHAR_RANGES,
     "character n-gram lengths inside word boundaries, from-to, or none"},
    {"min_df", PARAM_NUM, "2", 0, 1e9, PARAM_MIN_OPEN, NULL,
     "drop terms in fewer documents than this (a fraction of them when below 1)"},
    {"max_features", PARAM_INT, "0", 0, 1e9, 0, NULL,
     "keep the most frequent terms of each n-gram kind (0: all)"},
    {"sublinear_tf", PARAM_BOOL, "false", NAN, NAN, 0, NULL, "term frequency 1 + ln(tf)"},
    {"stem", PARAM_CHOICE, "none", NAN, NAN, 0, "none|auto|english|russian",
     "Snowball stemming of words (auto: by script)"},
    {"invalid_utf8", PARAM_CHOICE, "error", NAN, NAN, 0, "error|replace",
     "invalid UTF-8 in a text is an error, or each bad byte becomes U+FFFD"},
    /* The services passed {"solver": "lbfgs"}; dyn has one solver per model. */
    {"solver", PARAM_CHOICE, "auto", NAN, NAN, 0, "auto|lbfgs",
     "solver: auto is a trust-region Newton method for logreg and the dual coordinate solver "
     "for svm; lbfgs (the ticket service sent it with either model) is taken and changes "
     "neither (logreg's optimum is the same)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

struct text_state {
	struct tfidf v;
	int svm;
	size_t D, kp;	 /* features; weight vectors */
	double *W;	 /* kp x (D + 1), row-major: weights then intercept */
	double platt[2]; /* svm: A, B of sigmoid(A f + B) */
	double *Wt;	 /* D x kp: W's weights transposed, so a term's kp weights are adjacent */
	/* svm, after the held-out split's fit (fit_ctx.refit_next; not saved): the dual variables
	 * of its alpha_n training rows, alpha_n x kp, for the refit to start from */
	float *alpha;
	size_t alpha_n;
};

/* Classes summed at a time (see chunk_scores: 24 sums take 12 of the 16 SSE registers); terms
 * looked ahead (see prefetch_term). */
#define SCORE_CHUNK    24
#define SCORE_PREFETCH 8

/* Threads for a call without a context (predict): the machine's, within reason. */
static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Threads of a fit: --threads, else the machine's (no result depends on the number). */
static int fit_threads(const struct fit_ctx *ctx)
{
	return ctx && ctx->threads > 0 ? ctx->threads : default_threads();
}

/* Columns of W transposed at a time: their block of Wt stays in cache while it is written. */
#define TRANSPOSE_BLOCK 256

/* Wt's rows [j0, j1). */
struct transpose_job {
	struct text_state *st;
	size_t j0, j1;
};

static void *transpose_run(void *arg)
{
	const struct transpose_job *J = arg;
	struct text_state *st = J->st;
	size_t kp = st->kp, D1 = st->D + 1;
	for (size_t j0 = J->j0; j0 < J->j1; j0 += TRANSPOSE_BLOCK) {
		size_t j1 = J->j1 - j0 < TRANSPOSE_BLOCK ? J->j1 : j0 + TRANSPOSE_BLOCK;
		for (size_t c = 0; c < kp; c++)
			for (size_t j = j0; j < j1; j++)
				st->Wt[j * kp + c] = st->W[c * D1 + j];
	}
	return NULL;
}

/* The predict-side copy of the weights. */
static void state_ready(struct text_state *st)
{
	size_t D = st->D, nt = (size_t)default_threads();
	struct transpose_job job[8];
	free(st->Wt);
	st->Wt = xmallocarray(D ? D : 1, st->kp * sizeof(double));
	/* a fresh hundred megabytes is as many page faults as there are pages; and the scores
	 * look its terms up all over it */
	mem_advise_huge(st->Wt, D * st->kp * sizeof(double));
	if (nt > ARRAY_SIZE(job))
		nt = ARRAY_SIZE(job);
	if (nt > D / TRANSPOSE_BLOCK)
		nt = D / TRANSPOSE_BLOCK ? D / TRANSPOSE_BLOCK : 1;
	for (size_t t = 0; t < nt; t++)
		job[t] = (struct transpose_job){st, D * t / nt, D * (t + 1) / nt};
	par_run(transpose_run, job, sizeof(*job), nt);
	st->v.o.threads = default_threads();
}

/* Asks for the kp weights of a term to be brought into cache: a row's terms are all over Wt,
 * and waiting for each in turn is most of the time of scoring it. */
static inline void prefetch_term(const double *w, size_t kp)
{
	const char *p = (const char *)w;
	for (size_t b = 0; b < kp * sizeof(double); b += 64)
		__builtin_prefetch(p + b);
	__builtin_prefetch(p + kp * sizeof(double) - 1);
}

/* s[c0 + l] = intercept + sum of x * weight over the terms of a row, for the L classes from c0:
 * inlined with L a constant, the L sums stay in registers. Each sum is taken intercept first,
 * then in the row's order, whatever the chunking: training scores and predict's are the same
 * numbers. The first chunk's pass fetches the terms' weights ahead for all chunks. */
static inline __attribute__((always_inline)) void
chunk_scores(const struct text_state *st, const uint32_t *idx, const double *val, size_t nnz,
	     size_t c0, size_t L, int prefetch, double *s)
{
	size_t kp = st->kp;
	double acc[SCORE_CHUNK];
	for (size_t l = 0; l < L; l++)
		acc[l] = st->W[(c0 + l) * (st->D + 1) + st->D];
	for (size_t q = 0; q < nnz; q++) {
		const double *w = st->Wt + (size_t)idx[q] * kp + c0;
		double x = val[q];
		if (prefetch && q + SCORE_PREFETCH < nnz)
			prefetch_term(st->Wt + (size_t)idx[q + SCORE_PREFETCH] * kp, kp);
#pragma GCC unroll 24
		for (size_t l = 0; l < L; l++)
			acc[l] += x * w[l];
	}
	for (size_t l = 0; l < L; l++)
		s[c0 + l] = acc[l];
}

#define SCORE_CASE(n)                                                                              \
	case n:                                                                                    \
		chunk_scores(st, idx, val, nnz, c0, n, prefetch, s);                               \
		break

/* chunk_scores of the chunk at c0, L a constant in each case. */
static inline __attribute__((always_inline)) void
chunk_scores_any(const struct text_state *st, const uint32_t *idx, const double *val, size_t nnz,
		 size_t c0, size_t L, int prefetch, double *s)
{
	switch (L) {
		SCORE_CASE(1);
		SCORE_CASE(2);
		SCORE_CASE(3);
		SCORE_CASE(4);
		SCORE_CASE(5);
		SCORE_CASE(6);
		SCORE_CASE(7);
		SCORE_CASE(8);
		SCORE_CASE(9);
		SCORE_CASE(10);
		SCORE_CASE(11);
		SCORE_CASE(12);
		SCORE_CASE(13);
		SCORE_CASE(14);
		SCORE_CASE(15);
		SCORE_CASE(16);
		SCORE_CASE(17);
		SCORE_CASE(18);
		SCORE_CASE(19);
		SCORE_CASE(20);
		SCORE_CASE(21);
		SCORE_CASE(22);
		SCORE_CASE(23);
	default:
		chunk_scores(st, idx, val, nnz, c0, SCORE_CHUNK, prefetch, s);
		break;
	}
}

#undef SCORE_CASE

/* The scores s (kp) of a row of nnz terms: decision values for the SVM, logits for logistic
 * regression. Needs st->Wt. */
static void row_scores(const struct text_state *st, const uint32_t *idx, const double *val,
		       size_t nnz, double *s)
{
	size_t kp = st->kp;
	chunk_scores_any(st, idx, val, nnz, 0, kp < SCORE_CHUNK ? kp : SCORE_CHUNK, 1, s);
	for (size_t c0 = SCORE_CHUNK; c0 < kp; c0 += SCORE_CHUNK)
		chunk_scores_any(st, idx, val, nnz, c0,
				 kp - c0 < SCORE_CHUNK ? kp - c0 : SCORE_CHUNK, 0, s);
}

static void state_free(void *p)
{
	struct text_state *st = p;
	if (!st)
		return;
	tfidf_release(&st->v);
	free(st->W);
	free(st->Wt);
	free(st->alpha);
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

/* Under "auto", a fit that only makes the held-out report (a refit on all rows follows) stops
 * at this many times the solver's tolerance. Such a model is never stored; the report's figures
 * are its accuracy and log-loss on the held-out rows, which a sample of them gives to a few
 * tenths of a point (one standard error of the accuracy: 0.4 points on 10,000 rows). On the
 * Debian package descriptions (10,150 held-out rows, 58 classes) the looser stop moved the
 * report's accuracy by 0.04 points for the svm and 0.02 for logreg, and took 0.8 s against
 * 1.4-1.8 s (svm) and 49 products against 69 (logreg). The refit, whose model is stored,
 * stops at the tolerance itself. */
#define HOLDOUT_TOL_FACTOR 10

/* tol, or the solver's own default for "auto": 1e-4 for logreg (scikit-learn's), 0.1 for the
 * dual SVM solver (liblinear's default for its dual solvers; scikit-learn's LinearSVC asks for
 * 1e-4, which costs several times the passes for the same held-out accuracy on text), and
 * HOLDOUT_TOL_FACTOR times that for a held-out fit a refit will replace. */
static double tol_of(const struct params *p, double automatic, const struct fit_ctx *ctx)
{
	if (params_choice(p, "tol") != 0)
		return params_num(p, "tol");
	return ctx && ctx->refit_next ? automatic * HOLDOUT_TOL_FACTOR : automatic;
}

/* The tolerance in the model's info; and for a refit, the held-out fit's before it. */
static void add_tol(struct model *m, double automatic, const struct fit_ctx *ctx)
{
	cJSON_AddNumberToObject(m->info, "tol", tol_of(&m->params, automatic, ctx));
	if (ctx && ctx->refit_from) {
		struct fit_ctx held = {.refit_next = true};
		cJSON_AddNumberToObject(m->info, "holdout_tol",
					tol_of(&m->params, automatic, &held));
	}
}

/* ---- logistic regression on a sparse matrix ---- */

static void add_warning(struct cJSON *info, const char *msg)
{
	cJSON_AddStringToObject(info, "warning", msg);
}

struct lr_progress {
	struct progress *progress;
	int max_iter;
};

static void lr_iter(void *arg, int iter)
{
	const struct lr_progress *P = arg;
	progress_update(P->progress, iter, P->max_iter);
}

/* The weights of the model from, fit on other rows (the held-out split's training part), as a
 * starting point in st's columns: a term of both vocabularies keeps its weights, a new term
 * starts at zero, the intercepts carry over. Both vocabularies are sorted bytewise per block,
 * so one merge finds the common terms. Returns whether from could be used. */
static int warm_weights(const struct model *m, struct text_state *st, const struct model *from)
{
	const struct text_state *fs;
	if (!from || from->kind != m->kind || !from->state || from->k != m->k)
		return 0;
	fs = from->state;
	if (fs->svm != st->svm || fs->kp != st->kp)
		return 0;
	for (size_t c = 0; c < m->k; c++)
		if (strcmp(from->classes[c], m->classes[c]))
			return 0;
	size_t kp = st->kp, D1 = st->D + 1, F1 = fs->D + 1, col = 0, fcol = 0;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		const struct tfidf_block *b = &st->v.b[bi], *fb = &fs->v.b[bi];
		const char *t = b->terms, *ft = fb->terms;
		size_t q = 0, fq = 0;
		while (q < b->nterms && fq < fb->nterms) {
			int cmp = strcmp(t, ft);
			if (cmp == 0)
				for (size_t c = 0; c < kp; c++)
					st->W[c * D1 + col + q] = fs->W[c * F1 + fcol + fq];
			if (cmp <= 0) {
				t += strlen(t) + 1;
				q++;
			}
			if (cmp >= 0) {
				ft += strlen(ft) + 1;
				fq++;
			}
		}
		col += b->nterms;
		fcol += fb->nterms;
	}
	for (size_t c = 0; c < kp; c++)
		st->W[c * D1 + st->D] = fs->W[c * F1 + fs->D];
	return 1;
}

/* The dual variables of the model ctx->refit_from, fit on the rows ctx->refit_rows of these
 * n, as a starting point for the SVM of st (*alpha, n x kp, caller owns; the rows it was not
 * fit on at zero). Returns whether they could be used; *alpha is NULL when not. */
static int warm_duals(const struct model *m, const struct text_state *st, size_t n,
		      const struct fit_ctx *ctx, float **alpha)
{
	const struct model *from = ctx->refit_from;
	const struct text_state *fs = from->state;
	size_t kp = st->kp;
	*alpha = NULL;
	if (from->kind != m->kind || !fs || !fs->alpha || fs->kp != kp || from->k != m->k ||
	    !ctx->refit_rows || fs->alpha_n != ctx->refit_nrows)
		return 0;
	/* a dual variable belongs to a (row, class) pair: the classes must be the same */
	for (size_t c = 0; c < m->k; c++)
		if (strcmp(from->classes[c], m->classes[c]))
			return 0;
	for (size_t r = 0; r < fs->alpha_n; r++)
		if (ctx->refit_rows[r] >= n)
			return 0;
	*alpha = xcalloc_huge(n, kp * sizeof(**alpha));
	for (size_t r = 0; r < fs->alpha_n; r++)
		memcpy(*alpha + ctx->refit_rows[r] * kp, fs->alpha + r * kp, kp * sizeof(**alpha));
	return 1;
}

static int fit_logreg(struct model *m, struct text_state *st, const struct csr *X, const int *y,
		      const double *cw, const struct fit_ctx *ctx, struct err *e)
{
	struct mlogit_opts o = {0};
	struct mlogit_info info;
	struct lr_progress pr = {ctx ? ctx->progress : NULL, 0};

	o.C = params_num(&m->params, "C");
	o.weight = cw;
	o.tol = tol_of(&m->params, 1e-4, ctx);
	o.max_iter = pr.max_iter = (int)params_num(&m->params, "max_iter");
	o.threads = fit_threads(ctx);
	o.iter_done = lr_iter;
	o.arg = &pr;
	int warm = warm_weights(m, st, ctx ? ctx->refit_from : NULL);
	/* the products are dyn's loops; OpenBLAS is not called (par.h) */
	if (mlogit_fit(X, y, m->k, &o, st->W, &info, e) < 0) {
		err_prefix(e, "text");
		return -1;
	}
	cJSON_AddNumberToObject(m->info, "iterations", info.iterations);
	cJSON_AddNumberToObject(m->info, "hessian_products", info.cg_iterations);
	if (info.sample_rows) {
		/* the start: a fit of a sample of the rows (mlogit.h) */
		cJSON_AddNumberToObject(m->info, "sample_rows", (double)info.sample_rows);
		cJSON_AddNumberToObject(m->info, "sample_iterations", info.sample_iterations);
		cJSON_AddNumberToObject(m->info, "sample_hessian_products",
					info.sample_cg_iterations);
	}
	add_tol(m, 1e-4, ctx);
	cJSON_AddBoolToObject(m->info, "converged", info.converged);
	cJSON_AddNumberToObject(m->info, "objective", info.f);
	if (ctx && ctx->refit_from)
		cJSON_AddBoolToObject(m->info, "warm_start", warm);
	if (!info.converged)
		add_warning(m->info, "logreg: the Newton solver did not converge in max_iter "
				     "iterations; increase max_iter");
	return 0;
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

/* Training rows [first, last): their scores (into f, n x kp, when X is set) and probabilities
 * (into proba, n x k, when set; from f when X is not set). */
struct score_job {
	const struct text_state *st;
	const struct csr *X;
	size_t k, first, last;
	double *f, *proba;
};

static void *score_run(void *arg)
{
	const struct score_job *J = arg;
	const struct text_state *st = J->st;
	const struct csr *X = J->X;
	size_t kp = st->kp;
	double *buf = J->f ? NULL : xmallocarray(kp, sizeof(*buf));
	for (size_t i = J->first; i < J->last; i++) {
		double *s = J->f ? J->f + i * kp : buf;
		if (X)
			row_scores(st, X->indices + X->indptr[i], X->data + X->indptr[i],
				   X->indptr[i + 1] - X->indptr[i], s);
		if (J->proba)
			scores_to_proba(st, J->k, s, J->proba + i * J->k);
	}
	free(buf);
	return NULL;
}

/* Runs score_run over the n training rows on nt threads. */
static void score_rows(const struct text_state *st, const struct csr *X, size_t n, size_t k,
		       double *f, double *proba, int threads)
{
	size_t nt = threads > 1 ? (size_t)threads : 1;
	if (nt > n)
		nt = n ? n : 1;
	struct score_job *job = xcalloc(nt, sizeof(*job));
	for (size_t t = 0; t < nt; t++)
		job[t] = (struct score_job){st, X, k, n * t / nt, n * (t + 1) / nt, f, proba};
	par_run(score_run, job, sizeof(*job), nt);
	free(job);
}

static int fit_svm(struct model *m, struct text_state *st, struct csr *X, const int *y,
		   const double *cw, const struct fit_ctx *ctx, struct err *e)
{
	size_t k = m->k, D1 = X->ncols + 1;
	struct linsvm_opts o = {0};
	struct linsvm_info info;
	/* two classes: one problem, kept as the second class's row; more: the solver's rows are
	 * the model's, written in place (a copy of a hundred megabytes is not free) */
	double *W = k == 2 ? xmallocarray(k, D1 * sizeof(double)) : st->W;

	o.C = params_num(&m->params, "C");
	o.tol = tol_of(&m->params, 0.1, ctx);
	o.max_iter = (int)params_num(&m->params, "max_iter");
	o.weight = cw;
	o.seed = ctx ? ctx->seed : 0;
	/* no --threads: the machine's, as for the vectorizer (the solution does not depend on
	 * how the classes are shared out, see linsvm.h) */
	o.threads = fit_threads(ctx);
	/* The refit after a held-out report starts from the held-out fit's dual variables, each
	 * training row's its own, the held-out rows at zero: a feasible point of the same dual
	 * problem whatever the features (the vocabulary and idf changed), whose optimum is
	 * unique. How much it saves depends on the data: little at the default tol on the
	 * bundled corpora (a pass or two, sometimes none). */
	int warm = 0;
	if (ctx && ctx->refit_from)
		warm = warm_duals(m, st, X->nrows, ctx, &o.alpha);
	else if (ctx && ctx->refit_next)
		o.alpha = xcalloc_huge(X->nrows, st->kp * sizeof(*o.alpha));
	int ret = linsvm_fit(X, y, k, &o, W, &info, e);
	if (ret == 0 && ctx && ctx->refit_next) {
		st->alpha = o.alpha;
		st->alpha_n = X->nrows;
	} else {
		free(o.alpha);
	}
	if (ctx && ctx->refit_from)
		cJSON_AddBoolToObject(m->info, "warm_start", warm);
	if (k == 2) {
		if (ret == 0)
			memcpy(st->W, W + D1, D1 * sizeof(double));
		free(W);
	}
	if (ret < 0)
		return -1;
	cJSON_AddNumberToObject(m->info, "iterations", info.max_iter_used);
	add_tol(m, 0.1, ctx);
	cJSON_AddBoolToObject(m->info, "converged", info.unconverged == 0);
	if (info.unconverged)
		add_warning(m->info, "svm: the dual solver did not converge in max_iter passes "
				     "for some classes; increase max_iter");
	return 0;
}

static void counts_release(void *p)
{
	struct tfidf_counts *c = p;
	tfidf_counts_free(&c);
}

/* The vocabulary and the matrix of ds. A held-out fit that a refit follows counts every
 * document of the whole data, its own and the held-out ones, and leaves the counts to the
 * refit (ctx->carry), which then reads no text: the same vocabularies and rows as counting
 * each fit's documents (tfidf_fit_counts), one pass over the texts fewer. */
static int count_and_fit(struct text_state *st, const struct tfidf_opts *o,
			 const struct dataset *ds, const struct fit_ctx *ctx, struct csr *X,
			 struct err *e)
{
	const char *const *docs = (const char *const *)ds->text;
	struct tfidf_counts *c = NULL;
	if (ctx && ctx->refit_next && ctx->carry && !ctx->carry->p && ctx->all && ctx->all->text &&
	    ctx->all_rows) {
		if (tfidf_count(&c, o, (const char *const *)ctx->all->text, ctx->all->n, e) < 0)
			return -1;
		if (tfidf_fit_counts(&st->v, c, ctx->all_rows, ds->n, X, e) < 0) {
			tfidf_counts_free(&c);
			return -1;
		}
		ctx->carry->p = c;
		ctx->carry->release = counts_release;
		return 0;
	}
	if (ctx && ctx->refit_from && ctx->carry && ctx->carry->release == counts_release &&
	    tfidf_counts_docs(ctx->carry->p, docs) == ds->n) {
		c = ctx->carry->p;
		ctx->carry->p = NULL;
		int rc = tfidf_fit_counts(&st->v, c, NULL, ds->n, X, e);
		tfidf_counts_free(&c); /* before the solver's memory is taken */
		return rc;
	}
	return tfidf_fit_transform(&st->v, o, docs, ds->n, X, e);
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

	tfidf_init(&st->v);
	if (warm) {
		state_free(st);
		return err_set(
		    e, DYN_EUSAGE,
		    "text: warm start is not supported (the vocabulary is learnt from the "
		    "data; refit on all the data instead)");
	}
	if (!ds->text)
		return state_free(st), err_set(e, DYN_EDATA, "text: the data has no text column");
	if (n == 0 || k < 2) {
		state_free(st);
		return err_set(e, DYN_EDATA, "text: need rows of at least two classes");
	}
	opts_from_params(&m->params, &o);
	o.threads = fit_threads(ctx);
	if (o.word_min == 0 && o.char_min == 0) {
		state_free(st);
		return err_set(e, DYN_EUSAGE,
			       "text: ngram_word and ngram_char are both none: no features");
	}
	if (count_and_fit(st, &o, ds, ctx, &X, e) < 0) {
		err_prefix(e, "text");
		goto out;
	}
	have_x = 1;
	trace_perf("text: tf-idf");
	st->svm = params_choice(&m->params, "model") == MODEL_SVM;
	st->D = X.ncols;
	st->kp = k == 2 ? 1 : k;
	st->W = xcalloc(st->kp * (st->D + 1), sizeof(double));
	mem_advise_huge(st->W, st->kp * (st->D + 1) * sizeof(double)); /* see state_ready */
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
	/* the SVM's probabilities: its training decision values calibrated; and, when the
	 * training report wants them, the training rows' probabilities from the same scores */
	FREE_AND_NULL(m->train_proba);
	double *proba = NULL;
	if (ctx && ctx->train_proba) {
		proba = m->train_proba = xmallocarray(n, k * sizeof(double));
		mem_advise_huge(proba, n * k * sizeof(double));
	}
	if (st->svm) {
		f = xmallocarray(n, st->kp * sizeof(*f));
		mem_advise_huge(f, n * st->kp * sizeof(*f));
		score_rows(st, &X, n, k, f, NULL, o.threads);
		platt_fit_pooled(f, ds->y, n, st->kp, o.threads, &st->platt[0], &st->platt[1]);
		if (proba)
			score_rows(st, NULL, n, k, f, proba, o.threads);
	} else if (proba) {
		score_rows(st, &X, n, k, NULL, proba, o.threads);
	}
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
	size_t k = j->m->k;
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
		if (!nnz || !text_has_alnum(j->text[i])) {
			/* nothing the model knows, or only punctuation: no answer rather than the
			 * classes' prior or a guess from n-grams of "!!!" */
			for (size_t c = 0; c < k; c++)
				p[c] = NAN;
			continue;
		}
		row_scores(st, idx, val, nnz, s);
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

/* The weights (kp x (D + 1), intercepts last), dense as "coef", or, when that takes less room,
 * as the compressed sparse rows "coef_indptr" (I64, kp + 1), "coef_indices" (I32, the columns)
 * and "coef_values" (F64) of the same matrix, scipy.sparse.csr_matrix's three arrays. An SVM's
 * weights are mostly exact zeros (three in five on WordNet: a file 40% smaller). */
static void save_coef(struct st_file *f, const double *W, size_t rows, size_t cols)
{
	size_t nnz = 0, shape[2] = {rows, cols};
	for (size_t q = 0; q < rows * cols; q++)
		nnz += W[q] != 0;
	if (nnz * (sizeof(int32_t) + sizeof(double)) + (rows + 1) * sizeof(int64_t) >=
		rows * cols * sizeof(double) ||
	    cols > INT32_MAX) {
		st_add(f, "coef", ST_F64, 2, shape, W);
		return;
	}
	int64_t *indptr = xmallocarray(rows + 1, sizeof(*indptr));
	int32_t *indices = xmallocarray(nnz ? nnz : 1, sizeof(*indices));
	double *values = xmallocarray(nnz ? nnz : 1, sizeof(*values));
	mem_advise_huge(indices, nnz * sizeof(*indices));
	mem_advise_huge(values, nnz * sizeof(*values));
	size_t q = 0, len = rows + 1;
	indptr[0] = 0;
	for (size_t r = 0; r < rows; r++) {
		for (size_t j = 0; j < cols; j++)
			if (W[r * cols + j] != 0) {
				indices[q] = (int32_t)j;
				values[q++] = W[r * cols + j];
			}
		indptr[r + 1] = (int64_t)q;
	}
	st_add_owned(f, "coef_indptr", ST_I64, 1, &len, indptr);
	st_add_owned(f, "coef_indices", ST_I32, 1, &nnz, indices);
	st_add_owned(f, "coef_values", ST_F64, 1, &nnz, values);
}

/* The weights as save_coef wrote them, into a new rows x cols array (returned), or NULL with e
 * set. */
static double *load_coef(struct st_file *f, size_t rows, size_t cols, struct err *e)
{
	const struct st_tensor *t, *ip, *ix;
	double *W = NULL;
	if (!st_has(f, "coef") && st_has(f, "coef_indptr")) {
		if (!(ip = st_get(f, "coef_indptr", ST_I64, 1, e)) ||
		    !(ix = st_get(f, "coef_indices", ST_I32, 1, e)) ||
		    !(t = st_get(f, "coef_values", ST_F64, 1, e)))
			return NULL;
		const int64_t *indptr = ip->data;
		const int32_t *indices = ix->data;
		const double *values = t->data;
		size_t nnz = t->shape[0];
		if (ip->shape[0] != rows + 1 || ix->shape[0] != nnz || indptr[0] != 0 ||
		    (uint64_t)indptr[rows] != nnz) {
			err_set(e, DYN_EDATA,
				"tensors \"coef_*\": expected %zu rows of %zu values, got %zu "
				"rows, %zu columns and %zu values",
				rows, cols, ip->shape[0] ? ip->shape[0] - 1 : 0, ix->shape[0], nnz);
			return NULL;
		}
		W = xcalloc(rows * cols, sizeof(*W));
		mem_advise_huge(W, rows * cols * sizeof(*W));
		for (size_t r = 0; r < rows; r++) {
			if (indptr[r + 1] < indptr[r] || (uint64_t)indptr[r + 1] > nnz) {
				err_set(e, DYN_EDATA,
					"tensor \"coef_indptr\": invalid offset at %zu", r + 1);
				goto bad;
			}
			for (int64_t q = indptr[r]; q < indptr[r + 1]; q++) {
				if (indices[q] < 0 || (size_t)indices[q] >= cols ||
				    (q > indptr[r] && indices[q] <= indices[q - 1])) {
					err_set(e, DYN_EDATA,
						"tensor \"coef_indices\": invalid column at %lld",
						(long long)q);
					goto bad;
				}
				if (!isfinite(values[q])) {
					err_set(e, DYN_EDATA,
						"tensor \"coef_values\": invalid value at %lld",
						(long long)q);
					goto bad;
				}
				W[r * cols + (size_t)indices[q]] = values[q];
			}
		}
		return W;
	}
	if (!(t = st_get(f, "coef", ST_F64, 2, e)))
		return NULL;
	if (t->shape[0] != rows || t->shape[1] != cols) {
		err_set(e, DYN_EDATA, "tensor \"coef\": expected shape %zu x %zu, got %zu x %zu",
			rows, cols, t->shape[0], t->shape[1]);
		return NULL;
	}
	/* The biggest tensor by far: kept, not copied. */
	W = st_take(f, t);
	for (size_t i = 0; i < rows * cols; i++)
		if (!isfinite(W[i])) {
			err_set(e, DYN_EDATA, "tensor \"coef\": invalid value at %zu", i);
			goto bad;
		}
	return W;
bad:
	free(W);
	return NULL;
}

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
	save_coef(f, st->W, shape[0], shape[1]);
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
	if (!(st->W = load_coef(f, st->kp, st->D + 1, e)))
		goto out;
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
    .output = OUTPUT_CLASSES,
    .train = TRAIN_HOLDOUT | TRAIN_CV | TRAIN_REFIT | TRAIN_REFIT_FROM | TRAIN_CLASSES,
    .params = text_params,
    .fit = text_fit,
    .predict = text_predict,
    .save = text_save,
    .load = text_load,
    .free_state = state_free,
};
