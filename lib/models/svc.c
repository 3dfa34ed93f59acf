/* The svc model kind: C-SVC with libsvm's algorithm (lib/core/smo.h), one-vs-one for k > 2
 * classes, probabilities by Platt scaling from an internal 5-fold cross-validation and
 * pairwise coupling, as svm-train -b 1 / svm-predict -b 1 do. The predicted label is the class
 * of highest probability (as svm-predict -b 1 reports it), which can differ from the one-vs-one
 * vote on rows near a boundary. */
#include <math.h>

#include "base/blas.h"
#include <cjson/cJSON.h>

#include "core/kernel.h"
#include "core/rng.h"
#include "core/platt.h"
#include "core/smo.h"
#include "models/model.h"
#include "models/svc.h"
#include "store/safetensors.h"

#include "base/base.h"
#include "base/par.h"

enum { SCALE_STANDARD = 0, SCALE_NONE = 1 };
enum { GAMMA_SCALE = 0, GAMMA_AUTO = 1 };
enum { WEIGHT_BALANCED = 0, WEIGHT_NONE = 1 };

#define CV_FOLDS 5
/* Rows per block in predict: the kernel block (rows x SVs) stays within about 32 MiB. */
#define PREDICT_BLOCK	    256
#define PREDICT_BLOCK_BYTES ((size_t)32 << 20)
/* Probabilities are kept off 0 and 1, like libsvm, so that log-losses stay finite. */
#define MIN_PROB 1e-7

static const struct param_spec svc_params[] = {
    {"C", PARAM_NUM, "1", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "penalty on margin violations (larger fits the training data harder)"},
    {"kernel", PARAM_CHOICE, "rbf", NAN, NAN, 0, "linear|rbf|poly|sigmoid", "kernel function"},
    {"gamma", PARAM_NUM, "scale", 0, INFINITY, PARAM_MIN_OPEN | PARAM_OR_CHOICE, "scale|auto",
     "kernel coefficient of rbf, poly and sigmoid: scale = 1/(d Var(X)) (so 1/d with "
     "scale=standard), auto = 1/d"},
    {"degree", PARAM_INT, "3", 1, 10, 0, NULL, "degree of the poly kernel"},
    {"coef0", PARAM_NUM, "0", -INFINITY, INFINITY, 0, NULL,
     "constant term of the poly and sigmoid kernels"},
    {"tol", PARAM_NUM, "0.001", 0, INFINITY, PARAM_MIN_OPEN, NULL,
     "stopping tolerance on the KKT violation (libsvm's -e)"},
    {"cache_mb", PARAM_INT, "200", 1, 65536, 0, NULL,
     "kernel cache in MiB, shared by the training threads (libsvm's -m, default 100 there)"},
    {"shrinking", PARAM_BOOL, "true", NAN, NAN, 0, NULL, "use the shrinking heuristic"},
    {"class_weight", PARAM_CHOICE, "none", NAN, NAN, 0, "balanced|none",
     "balanced multiplies C of each class by n / (k n_class)"},
    {"scale", PARAM_CHOICE, "standard", NAN, NAN, 0, "standard|none",
     "standardize features (mean, population std) inside the model"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* A trained model: support vectors grouped by class, libsvm's coefficient layout. */
struct svc_state {
	struct kernel kernel;
	size_t d, k, nsv, npairs;
	double *mean, *scale;	       /* d: x_std = (x - mean) / scale */
	double *sv, *sv_sq;	       /* nsv x d (standardized), nsv squared norms */
	double *coef;		       /* (k-1) x nsv: y alpha of each SV in its pairs */
	double *rho, *prob_a, *prob_b; /* npairs, pairs (0,1), (0,2), ..., (k-2,k-1) */
	int64_t *nsv_class;	       /* k */
	size_t *start;		       /* k: first SV of each class */
};

static void svc_free_state(void *p)
{
	struct svc_state *s = p;
	if (!s)
		return;
	free(s->mean);
	free(s->scale);
	free(s->sv);
	free(s->sv_sq);
	free(s->coef);
	free(s->rho);
	free(s->prob_a);
	free(s->prob_b);
	free(s->nsv_class);
	free(s->start);
	free(s);
}

/* K = kernel(A rows, B rows), na x nb row-major: one dgemm then the kernel function. */
static void kernel_block(const struct kernel *k, const double *A, const double *asq, size_t na,
			 const double *B, const double *bsq, size_t nb, size_t d, double *K)
{
	if (na == 0 || nb == 0)
		return;
	if (d > 0)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)nb, (int)d, 1.0,
			    A, (int)d, B, (int)d, 0.0, K, (int)nb);
	else
		memset(K, 0, na * nb * sizeof(double));
	for (size_t r = 0; r < na; r++)
		kernel_from_dots(k, asq ? asq[r] : 0, bsq, K + r * nb, nb);
}

static void row_norms(const double *X, size_t n, size_t d, double *sq)
{
	for (size_t i = 0; i < n; i++)
		sq[i] = d ? cblas_ddot((int)d, X + i * d, 1, X + i * d, 1) : 0;
}

/* Everything the training jobs share. Job (pair p, fold f): f < CV_FOLDS trains on the other
 * folds of pair p and writes decision values of fold f; f == CV_FOLDS is the final fit. */
struct svc_train {
	const double *X; /* n x d standardized */
	size_t n, d, k, npairs;
	struct kernel kernel;
	double tol;
	size_t cache_bytes;
	bool shrinking;
	uint64_t seed;
	size_t *order;		/* rows grouped by class */
	size_t *cstart, *count; /* per class, into order */
	double *Cc;		/* per class C */
	size_t *pi, *pj;	/* per pair */
	double **alpha;		/* per pair final multipliers, over class i then class j rows */
	double *rho;
	long *iter;
	double **dec; /* per pair CV decision values, subproblem order */
	size_t **perm;

	size_t njobs;
	size_t job_cache; /* each running job's share of cache_bytes */
	struct progress *progress;
};

/* Gathers the rows of sub (indices into the pair's subproblem) into X, y. */
static void gather(const struct svc_train *t, size_t p, const size_t *sub, size_t m, double *X,
		   signed char *y)
{
	size_t ci = t->pi[p], cj = t->pj[p], ni = t->count[ci];
	for (size_t r = 0; r < m; r++) {
		size_t q = sub[r], row;
		if (q < ni) {
			row = t->order[t->cstart[ci] + q];
			y[r] = 1;
		} else {
			row = t->order[t->cstart[cj] + q - ni];
			y[r] = -1;
		}
		memcpy(X + r * t->d, t->X + row * t->d, t->d * sizeof(double));
	}
}

static void solve(const struct svc_train *t, size_t p, const double *X, const signed char *y,
		  size_t m, size_t cache_bytes, struct smo_result *r)
{
	struct smo_problem pr = {
	    .n = m,
	    .d = t->d,
	    .X = X,
	    .y = y,
	    .kernel = t->kernel,
	    .Cp = t->Cc[t->pi[p]],
	    .Cn = t->Cc[t->pj[p]],
	    .tol = t->tol,
	    .cache_bytes = cache_bytes,
	    .shrinking = t->shrinking,
	};
	smo_solve(&pr, r);
}

static void run_job(struct svc_train *t, size_t job, size_t cache_bytes)
{
	size_t p = job / (CV_FOLDS + 1), f = job % (CV_FOLDS + 1);
	size_t m = t->count[t->pi[p]] + t->count[t->pj[p]], d = t->d;
	size_t *sub = xmallocarray(m, sizeof(size_t));
	double *X = xmallocarray(m * d + 1, sizeof(double));
	signed char *y = xmallocarray(m, 1);
	struct smo_result r = {0};

	if (f == CV_FOLDS) {
		for (size_t q = 0; q < m; q++)
			sub[q] = q;
		gather(t, p, sub, m, X, y);
		solve(t, p, X, y, m, cache_bytes, &r);
		t->alpha[p] = r.alpha;
		t->rho[p] = r.rho;
		t->iter[p] = r.iter;
		goto out;
	}
	/* libsvm's folds: contiguous slices of one random permutation, not stratified. */
	size_t b = f * m / CV_FOLDS, e = (f + 1) * m / CV_FOLDS, mt = 0, npos = 0;
	const size_t *perm = t->perm[p];
	for (size_t q = 0; q < m; q++)
		if (q < b || q >= e)
			sub[mt++] = perm[q];
	gather(t, p, sub, mt, X, y);
	for (size_t q = 0; q < mt; q++)
		npos += y[q] > 0;
	double *dec = t->dec[p];
	if (npos == 0 || npos == mt) {
		/* One class only in the training part: the fold predicts it outright. */
		for (size_t q = b; q < e; q++)
			dec[perm[q]] = mt == 0 ? 0 : npos ? 1 : -1;
		goto out;
	}
	solve(t, p, X, y, mt, cache_bytes, &r);
	/* Compact the support vectors in place, then score the held-out slice in one block. */
	size_t nsv = 0;
	double *coef = xmallocarray(mt, sizeof(double));
	for (size_t q = 0; q < mt; q++) {
		if (r.alpha[q] > 0) {
			memmove(X + nsv * d, X + q * d, d * sizeof(double));
			coef[nsv++] = y[q] * r.alpha[q];
		}
	}
	size_t nt = e - b;
	double *Xt = xmallocarray(nt * d + 1, sizeof(double));
	signed char *yt = xmallocarray(nt + 1, 1);
	gather(t, p, perm + b, nt, Xt, yt);
	double *sq = xmallocarray(nsv + nt + 1, sizeof(double));
	row_norms(X, nsv, d, sq);
	row_norms(Xt, nt, d, sq + nsv);
	double *K = xmallocarray(nt * nsv + 1, sizeof(double));
	kernel_block(&t->kernel, Xt, sq + nsv, nt, X, sq, nsv, d, K);
	for (size_t q = 0; q < nt; q++)
		dec[perm[b + q]] =
		    (nsv ? cblas_ddot((int)nsv, K + q * nsv, 1, coef, 1) : 0) - r.rho;
	free(K);
	free(sq);
	free(Xt);
	free(yt);
	free(coef);
	free(r.alpha);
out:
	free(sub);
	free(X);
	free(y);
}

static void job_item(void *arg, size_t job, int t)
{
	struct svc_train *tr = arg;
	run_job(tr, job, tr->job_cache);
}

static void job_progress(void *arg, size_t done)
{
	const struct svc_train *tr = arg;
	progress_update(tr->progress, (double)done, (double)tr->njobs);
}

/* Runs all jobs on up to threads threads (the calling one included), sharing the cache
 * budget among them. */
static void run_jobs(struct svc_train *t, int threads)
{
	int nt = par_threads(t->njobs, threads);
	t->job_cache = t->cache_bytes / (size_t)nt;
	par_for_progress(t->njobs, nt, job_item, job_progress, t);
}

static struct kernel kernel_of_params(const struct params *p)
{
	struct kernel k = {0};
	static const enum kernel_type types[] = {KERNEL_LINEAR, KERNEL_RBF, KERNEL_POLY,
						 KERNEL_SIGMOID};
	int c = params_choice(p, "kernel");
	k.type = types[c >= 0 && c < 4 ? c : 1];
	k.degree = (int)params_num(p, "degree");
	k.coef0 = params_num(p, "coef0");
	return k;
}

static void set_info(struct model *m, const struct svc_state *s, const long *iter)
{
	cJSON_Delete(m->info);
	m->info = cJSON_CreateObject();
	cJSON_AddNumberToObject(m->info, "support_vectors", (double)s->nsv);
	cJSON *per = cJSON_AddArrayToObject(m->info, "support_vectors_per_class");
	for (size_t c = 0; c < s->k; c++)
		cJSON_AddItemToArray(per, cJSON_CreateNumber((double)s->nsv_class[c]));
	if (iter) {
		long total = 0;
		cJSON *it = cJSON_CreateArray();
		for (size_t p = 0; p < s->npairs; p++) {
			total += iter[p];
			cJSON_AddItemToArray(it, cJSON_CreateNumber((double)iter[p]));
		}
		cJSON_AddNumberToObject(m->info, "iterations", (double)total);
		cJSON_AddItemToObject(m->info, "iterations_per_pair", it);
	}
	cJSON_AddNumberToObject(m->info, "gamma", s->kernel.gamma);
}

static size_t *class_starts(const int64_t *cnt, size_t k)
{
	size_t *st = xmallocarray(k + 1, sizeof(size_t));
	st[0] = 0;
	for (size_t c = 0; c < k; c++)
		st[c + 1] = st[c] + (size_t)cnt[c];
	return st;
}

static int svc_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		   const struct fit_ctx *ctx, struct err *e)
{
	size_t n = ds->n, d = ds->d, k = m->k;
	struct svc_train t = {0};
	struct svc_state *s = NULL;
	double *Xs = NULL;
	int ret = -1;

	if (warm)
		return err_set(e, DYN_EUSAGE,
			       "svc: warm start is not supported (the SMO solver starts from zero; "
			       "refit on all the data instead)");
	if (n == 0)
		return err_set(e, DYN_EDATA, "svc: no training rows");
	if (k < 2)
		return err_set(e, DYN_EDATA, "svc: training data has fewer than two classes");

	s = xcalloc(1, sizeof(*s));
	s->d = d;
	s->k = k;
	s->npairs = k * (k - 1) / 2;
	s->kernel = kernel_of_params(&m->params);
	s->mean = xcalloc(d + 1, sizeof(double));
	s->scale = xmallocarray(d + 1, sizeof(double));
	for (size_t j = 0; j < d; j++)
		s->scale[j] = 1;
	if (params_choice(&m->params, "scale") == SCALE_STANDARD) {
		for (size_t j = 0; j < d; j++) {
			double mu = 0, v = 0;
			for (size_t i = 0; i < n; i++)
				mu += ds->X[i * d + j];
			mu /= (double)n;
			for (size_t i = 0; i < n; i++)
				v += (ds->X[i * d + j] - mu) * (ds->X[i * d + j] - mu);
			v = sqrt(v / (double)n);
			s->mean[j] = mu;
			/* A constant feature carries nothing; keep it finite rather than divide by
			 * 0. */
			s->scale[j] = v > 0 ? v : 1;
		}
	}
	Xs = xmallocarray(n * d + 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			Xs[i * d + j] = (ds->X[i * d + j] - s->mean[j]) / s->scale[j];

	int gc = params_choice(&m->params, "gamma");
	if (gc == GAMMA_SCALE) {
		double mu = 0, v = 0, nd = (double)n * (double)d;
		for (size_t i = 0; i < n * d; i++)
			mu += Xs[i];
		mu /= nd > 0 ? nd : 1;
		for (size_t i = 0; i < n * d; i++)
			v += (Xs[i] - mu) * (Xs[i] - mu);
		v /= nd > 0 ? nd : 1;
		s->kernel.gamma = v > 0 ? 1.0 / ((double)d * v) : 1.0;
	} else if (gc == GAMMA_AUTO) {
		s->kernel.gamma = d ? 1.0 / (double)d : 1.0;
	} else {
		s->kernel.gamma = params_num(&m->params, "gamma");
	}

	/* Group rows by class, keeping their order within a class (libsvm does the same, which
	 * makes the solver's path and so its result identical). */
	t.X = Xs;
	t.n = n;
	t.d = d;
	t.k = k;
	t.npairs = s->npairs;
	t.kernel = s->kernel;
	t.tol = params_num(&m->params, "tol");
	t.cache_bytes = (size_t)params_num(&m->params, "cache_mb") << 20;
	t.shrinking = params_num(&m->params, "shrinking") != 0;
	t.seed = ctx ? ctx->seed : 0;
	t.count = xcalloc(k + 1, sizeof(size_t));
	t.cstart = xcalloc(k + 1, sizeof(size_t));
	t.order = xmallocarray(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		if (ds->y[i] < 0 || (size_t)ds->y[i] >= k) {
			err_set(e, DYN_EDATA, "svc: row %zu: class index %d out of range", i + 1,
				ds->y[i]);
			goto out;
		}
		t.count[ds->y[i]]++;
	}
	for (size_t c = 1; c <= k; c++)
		t.cstart[c] = t.cstart[c - 1] + t.count[c - 1];
	{
		size_t *fill = xmallocarray(k, sizeof(size_t));
		memcpy(fill, t.cstart, k * sizeof(size_t));
		for (size_t i = 0; i < n; i++)
			t.order[fill[ds->y[i]]++] = i;
		free(fill);
	}
	for (size_t c = 0; c < k; c++)
		if (t.count[c] == 0) {
			err_set(e, DYN_EDATA, "svc: class \"%s\" has no training rows",
				m->classes ? m->classes[c] : "?");
			goto out;
		}
	t.Cc = xmallocarray(k, sizeof(double));
	double C = params_num(&m->params, "C");
	bool balanced = params_choice(&m->params, "class_weight") == WEIGHT_BALANCED;
	for (size_t c = 0; c < k; c++)
		t.Cc[c] = balanced ? C * (double)n / ((double)k * (double)t.count[c]) : C;

	size_t np = s->npairs;
	t.pi = xmallocarray(np, sizeof(size_t));
	t.pj = xmallocarray(np, sizeof(size_t));
	t.alpha = xcalloc(np, sizeof(double *));
	t.dec = xcalloc(np, sizeof(double *));
	t.perm = xcalloc(np, sizeof(size_t *));
	t.rho = xcalloc(np, sizeof(double));
	t.iter = xcalloc(np, sizeof(long));
	for (size_t i = 0, p = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++, p++) {
			size_t mm = t.count[i] + t.count[j];
			t.pi[p] = i;
			t.pj[p] = j;
			t.dec[p] = xcalloc(mm, sizeof(double));
			t.perm[p] = xmallocarray(mm, sizeof(size_t));
			for (size_t q = 0; q < mm; q++)
				t.perm[p][q] = q;
			struct rng rng;
			rng_init(&rng, t.seed * 1000003 + p);
			rng_shuffle(&rng, t.perm[p], mm);
		}
	t.njobs = np * (CV_FOLDS + 1);
	t.progress = ctx ? ctx->progress : NULL;
	run_jobs(&t, ctx ? ctx->threads : 1);

	/* A training row is a support vector of the model if it is one in any pair. */
	{
		unsigned char *isv = xcalloc(n, 1);
		size_t *svidx = xmallocarray(n, sizeof(size_t));
		for (size_t p = 0; p < np; p++) {
			size_t ci = t.pi[p], cj = t.pj[p], ni = t.count[ci];
			for (size_t q = 0; q < ni + t.count[cj]; q++)
				if (t.alpha[p][q] > 0)
					isv[q < ni ? t.order[t.cstart[ci] + q]
						   : t.order[t.cstart[cj] + q - ni]] = 1;
		}
		s->nsv_class = xcalloc(k, sizeof(int64_t));
		size_t nsv = 0;
		for (size_t c = 0; c < k; c++)
			for (size_t q = 0; q < t.count[c]; q++) {
				size_t row = t.order[t.cstart[c] + q];
				if (isv[row]) {
					svidx[row] = nsv++;
					s->nsv_class[c]++;
				}
			}
		s->nsv = nsv;
		s->sv = xmallocarray(nsv * d + 1, sizeof(double));
		for (size_t i = 0; i < n; i++)
			if (isv[i])
				memcpy(s->sv + svidx[i] * d, Xs + i * d, d * sizeof(double));
		s->coef = xcalloc((k - 1) * nsv + 1, sizeof(double));
		for (size_t p = 0; p < np; p++) {
			size_t ci = t.pi[p], cj = t.pj[p], ni = t.count[ci];
			for (size_t q = 0; q < ni + t.count[cj]; q++) {
				double a = t.alpha[p][q];
				if (a <= 0)
					continue;
				if (q < ni)
					s->coef[(cj - 1) * nsv + svidx[t.order[t.cstart[ci] + q]]] =
					    a;
				else
					s->coef[ci * nsv + svidx[t.order[t.cstart[cj] + q - ni]]] =
					    -a;
			}
		}
		free(isv);
		free(svidx);
	}
	s->rho = xmallocarray(np, sizeof(double));
	s->prob_a = xmallocarray(np, sizeof(double));
	s->prob_b = xmallocarray(np, sizeof(double));
	for (size_t p = 0; p < np; p++) {
		size_t mm = t.count[t.pi[p]] + t.count[t.pj[p]], ni = t.count[t.pi[p]];
		signed char *yy = xmallocarray(mm, 1);
		for (size_t q = 0; q < mm; q++)
			yy[q] = q < ni ? 1 : -1;
		s->rho[p] = t.rho[p];
		platt_fit(t.dec[p], yy, mm, &s->prob_a[p], &s->prob_b[p]);
		free(yy);
	}
	s->start = class_starts(s->nsv_class, k);
	s->sv_sq = xmallocarray(s->nsv + 1, sizeof(double));
	row_norms(s->sv, s->nsv, d, s->sv_sq);
	set_info(m, s, t.iter);
	m->state = s;
	s = NULL;
	ret = 0;
out:
	for (size_t p = 0; p < t.npairs && t.alpha; p++) {
		free(t.alpha[p]);
		free(t.dec[p]);
		free(t.perm[p]);
	}
	free(t.alpha);
	free(t.dec);
	free(t.perm);
	free(t.rho);
	free(t.iter);
	free(t.pi);
	free(t.pj);
	free(t.Cc);
	free(t.order);
	free(t.count);
	free(t.cstart);
	free(Xs);
	svc_free_state(s);
	return ret;
}

/* Decision values of nb standardized rows (nb x npairs, pair order (0,1), (0,2)...); K is
 * scratch of nb x nsv. */
static void decision_block(const struct svc_state *s, const double *Xs, const double *xsq,
			   size_t nb, double *K, double *dec)
{
	size_t nsv = s->nsv, k = s->k;
	kernel_block(&s->kernel, Xs, xsq, nb, s->sv, s->sv_sq, nsv, s->d, K);
	double *tmp = xmallocarray(nb, sizeof(double));
	for (size_t i = 0, p = 0; i < k; i++) {
		for (size_t j = i + 1; j < k; j++, p++) {
			size_t si = s->start[i], ni = s->start[i + 1] - si;
			size_t sj = s->start[j], nj = s->start[j + 1] - sj;
			for (size_t r = 0; r < nb; r++)
				tmp[r] = -s->rho[p];
			if (ni)
				cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)ni, 1.0,
					    K + si, (int)nsv, s->coef + (j - 1) * nsv + si, 1, 1.0,
					    tmp, 1);
			if (nj)
				cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)nj, 1.0,
					    K + sj, (int)nsv, s->coef + i * nsv + sj, 1, 1.0, tmp,
					    1);
			for (size_t r = 0; r < nb; r++)
				dec[r * s->npairs + p] = tmp[r];
		}
	}
	free(tmp);
}

static size_t block_rows(const struct svc_state *s)
{
	size_t per_row = (s->nsv + 1) * sizeof(double);
	size_t blk = PREDICT_BLOCK_BYTES / per_row;
	return blk < 1 ? 1 : blk > PREDICT_BLOCK ? PREDICT_BLOCK : blk;
}

static void standardize(const struct svc_state *s, const double *X, size_t nb, double *Xs,
			double *xsq)
{
	size_t d = s->d;
	for (size_t r = 0; r < nb; r++)
		for (size_t j = 0; j < d; j++)
			Xs[r * d + j] = (X[r * d + j] - s->mean[j]) / s->scale[j];
	row_norms(Xs, nb, d, xsq);
}

static double clamp_prob(double p)
{
	return p < MIN_PROB ? MIN_PROB : p > 1 - MIN_PROB ? 1 - MIN_PROB : p;
}

static int svc_predict(const struct model *m, const struct batch *b, double *proba, struct err *e)
{
	const struct svc_state *s = m->state;
	size_t d = s->d, k = s->k, np = s->npairs;
	if (b->d != d)
		return err_set(e, DYN_EDATA, "svc: batch has %zu features, the model %zu", b->d, d);
	size_t blk = block_rows(s);
	double *Xs = xmallocarray(blk * d + 1, sizeof(double));
	double *xsq = xmallocarray(blk, sizeof(double));
	double *K = xmallocarray(blk * s->nsv + 1, sizeof(double));
	double *dec = xmallocarray(blk * np, sizeof(double));
	double *r = xcalloc(k * k, sizeof(double));
	double *work = xmallocarray(k * k + k, sizeof(double));
	for (size_t r0 = 0; r0 < b->n; r0 += blk) {
		size_t nb = b->n - r0 < blk ? b->n - r0 : blk;
		standardize(s, b->X + r0 * d, nb, Xs, xsq);
		decision_block(s, Xs, xsq, nb, K, dec);
		for (size_t q = 0; q < nb; q++) {
			double *out = proba + (r0 + q) * k;
			for (size_t i = 0, p = 0; i < k; i++)
				for (size_t j = i + 1; j < k; j++, p++) {
					double pp = clamp_prob(platt_prob(
					    dec[q * np + p], s->prob_a[p], s->prob_b[p]));
					r[i * k + j] = pp;
					r[j * k + i] = 1 - pp;
				}
			if (k == 2) {
				out[0] = r[1];
				out[1] = r[2];
			} else {
				platt_couple(r, k, out, work);
			}
		}
	}
	free(Xs);
	free(xsq);
	free(K);
	free(dec);
	free(r);
	free(work);
	return 0;
}

int svc_decision_values(const struct model *m, const struct batch *b, double *dec, struct err *e)
{
	const struct svc_state *s = m->state;
	size_t d = s->d;
	if (b->d != d)
		return err_set(e, DYN_EDATA, "svc: batch has %zu features, the model %zu", b->d, d);
	size_t blk = block_rows(s);
	double *Xs = xmallocarray(blk * d + 1, sizeof(double));
	double *xsq = xmallocarray(blk, sizeof(double));
	double *K = xmallocarray(blk * s->nsv + 1, sizeof(double));
	for (size_t r0 = 0; r0 < b->n; r0 += blk) {
		size_t nb = b->n - r0 < blk ? b->n - r0 : blk;
		standardize(s, b->X + r0 * d, nb, Xs, xsq);
		decision_block(s, Xs, xsq, nb, K, dec + r0 * s->npairs);
	}
	free(Xs);
	free(xsq);
	free(K);
	return 0;
}

static int svc_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct svc_state *s = m->state;
	size_t sh[2];
	sh[0] = s->nsv;
	sh[1] = s->d;
	st_add(f, "sv", ST_F64, 2, sh, s->sv);
	sh[0] = s->k - 1;
	sh[1] = s->nsv;
	st_add(f, "dual_coef", ST_F64, 2, sh, s->coef);
	sh[0] = s->npairs;
	st_add(f, "rho", ST_F64, 1, sh, s->rho);
	st_add(f, "prob_a", ST_F64, 1, sh, s->prob_a);
	st_add(f, "prob_b", ST_F64, 1, sh, s->prob_b);
	sh[0] = s->k;
	st_add(f, "n_sv", ST_I64, 1, sh, s->nsv_class);
	sh[0] = s->d;
	st_add(f, "mean", ST_F64, 1, sh, s->mean);
	st_add(f, "scale", ST_F64, 1, sh, s->scale);
	sh[0] = 1;
	st_add(f, "gamma", ST_F64, 1, sh, &s->kernel.gamma);
	return 0;
}

/* Fetches a tensor of the exact shape (n0 [x n1]) or fails naming it. */
static const void *get_shaped(const struct st_file *f, const char *name, enum st_dtype dt,
			      size_t ndim, size_t n0, size_t n1, struct err *e)
{
	const struct st_tensor *t = st_get(f, name, dt, ndim, e);
	if (!t)
		return NULL;
	if (t->shape[0] != n0 || (ndim == 2 && t->shape[1] != n1)) {
		err_set(e, DYN_EDATA, "svc: tensor \"%s\" has the wrong shape", name);
		return NULL;
	}
	return t->data;
}

static double *dup_doubles(const void *src, size_t n)
{
	double *v = xmallocarray(n + 1, sizeof(double));
	memcpy(v, src, n * sizeof(double));
	return v;
}

static int svc_load(struct model *m, struct st_file *f, struct err *e)
{
	size_t d = m->d, k = m->k, np = k * (k - 1) / 2;
	const void *p;
	const struct st_tensor *t = st_get(f, "n_sv", ST_I64, 1, e);
	if (!t)
		return -1;
	if (t->shape[0] != k)
		return err_set(e, DYN_EDATA, "svc: tensor \"n_sv\" has the wrong shape");
	const int64_t *cnt = t->data;
	size_t nsv = 0;
	for (size_t c = 0; c < k; c++) {
		if (cnt[c] < 0 || (uint64_t)cnt[c] > SIZE_MAX / 2)
			return err_set(e, DYN_EDATA, "svc: tensor \"n_sv\" holds a bad count");
		nsv += (size_t)cnt[c];
	}
	struct svc_state *s = xcalloc(1, sizeof(*s));
	s->d = d;
	s->k = k;
	s->npairs = np;
	s->nsv = nsv;
	s->nsv_class = xmallocarray(k, sizeof(int64_t));
	memcpy(s->nsv_class, cnt, k * sizeof(int64_t));
	s->start = class_starts(cnt, k);
	s->kernel = kernel_of_params(&m->params);
#define GET(field, name, ndim, n0, n1)                                                             \
	do {                                                                                       \
		if (!(p = get_shaped(f, name, ST_F64, ndim, n0, n1, e)))                           \
			goto fail;                                                                 \
		s->field = dup_doubles(p, (n0) * ((ndim) == 2 ? (n1) : 1));                        \
	} while (0)
	GET(sv, "sv", 2, nsv, d);
	GET(coef, "dual_coef", 2, k - 1, nsv);
	GET(rho, "rho", 1, np, 0);
	GET(prob_a, "prob_a", 1, np, 0);
	GET(prob_b, "prob_b", 1, np, 0);
	GET(mean, "mean", 1, d, 0);
	GET(scale, "scale", 1, d, 0);
#undef GET
	if (!(p = get_shaped(f, "gamma", ST_F64, 1, 1, 0, e)))
		goto fail;
	memcpy(&s->kernel.gamma, p, sizeof(double));
	if (!(s->kernel.gamma > 0) || !isfinite(s->kernel.gamma)) {
		err_set(e, DYN_EDATA, "svc: tensor \"gamma\" is not a positive number");
		goto fail;
	}
	for (size_t j = 0; j < d; j++)
		if (!(s->scale[j] > 0) || !isfinite(s->scale[j]) || !isfinite(s->mean[j])) {
			err_set(e, DYN_EDATA,
				"svc: tensor \"scale\" or \"mean\" holds a bad value");
			goto fail;
		}
	s->sv_sq = xmallocarray(nsv + 1, sizeof(double));
	row_norms(s->sv, nsv, d, s->sv_sq);
	set_info(m, s, NULL);
	m->state = s;
	return 0;
fail:
	svc_free_state(s);
	return -1;
}

const struct model_kind model_svc = {
    .name = "svc",
    .summary = "support vector classifier (libsvm's C-SVC; one-vs-one; Platt probabilities)",
    .input = INPUT_TABULAR,
    .output = OUTPUT_CLASSES,
    .train = TRAIN_HOLDOUT | TRAIN_CV | TRAIN_REFIT | TRAIN_CLASSES,
    .params = svc_params,
    .fit = svc_fit,
    .predict = svc_predict,
    .save = svc_save,
    .load = svc_load,
    .free_state = svc_free_state,
};
