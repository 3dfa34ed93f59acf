/* Dual coordinate descent for the L2-loss linear SVM (see linsvm.h). Each binary problem
 * keeps its dual variables alpha_i >= 0 and the primal w = sum alpha_i y_i x_i up to date,
 * so that one coordinate step costs one sparse dot product and one sparse axpy. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/linsvm.h"
#include "base/base.h"

struct svm_problem {
	const struct csr *X;
	const double *qd0; /* x_i . x_i + 1 (the bias feature) */
	const int *y;
	size_t k;
	const struct linsvm_opts *o;
	double *W;
	size_t next;	 /* next class to solve (under lock) */
	size_t nclasses; /* binary problems to solve */
	pthread_mutex_t lock;
	int max_iter_used, unconverged;
};

/* A small deterministic generator (splitmix64) for the coordinate order. */
static uint64_t svm_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Solves class c against the rest; w has d + 1 entries (bias last). */
static int svm_solve_one(struct svm_problem *p, size_t c, double *w)
{
	const struct csr *X = p->X;
	const struct linsvm_opts *o = p->o;
	size_t n = X->nrows, d = X->ncols;
	signed char *yy = xmallocarray(n ? n : 1, sizeof(*yy));
	double *alpha = xcalloc(n ? n : 1, sizeof(*alpha));
	double *diag = xmallocarray(n ? n : 1, sizeof(*diag));
	size_t *index = xmallocarray(n ? n : 1, sizeof(*index));
	uint64_t rs = o->seed * 0x2545F4914F6CDD1DULL + c + 1;
	/* like liblinear: the positive class's C is weighted; the rest share C, except for
	 * two classes, where each side has its own weight */
	double pos_c = o->C, neg_c = o->C;
	int iter = 0;

	if (o->weight) {
		pos_c *= o->weight[c];
		if (p->k == 2)
			neg_c *= o->weight[1 - c];
	}
	memset(w, 0, (d + 1) * sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		yy[i] = (size_t)p->y[i] == c ? 1 : -1;
		double ci = yy[i] > 0 ? pos_c : neg_c;
		/* squared hinge: D_ii = 1 / (2 C_i), no upper bound on alpha */
		diag[i] = 0.5 / ci;
		index[i] = i;
	}

	size_t active = n;
	double pgmax_old = INFINITY;
	while (iter < o->max_iter) {
		double pgmax = -INFINITY, pgmin = INFINITY;
		for (size_t s = 0; s + 1 < active; s++) {
			size_t j = s + (size_t)(svm_rand(&rs) % (active - s));
			size_t t = index[s];
			index[s] = index[j];
			index[j] = t;
		}
		for (size_t s = 0; s < active; s++) {
			size_t i = index[s];
			double yi = yy[i];
			double g = yi * (csr_row_dot(X, i, w) + w[d]) - 1 + alpha[i] * diag[i];
			double pg = 0;
			if (alpha[i] == 0) {
				if (g > pgmax_old) {
					/* shrink: this coordinate is at its bound and likely to
					 * stay */
					active--;
					index[s] = index[active];
					index[active] = i;
					s--;
					continue;
				}
				if (g < 0)
					pg = g;
			} else {
				pg = g;
			}
			if (pg > pgmax)
				pgmax = pg;
			if (pg < pgmin)
				pgmin = pg;
			if (fabs(pg) > 1e-12) {
				double old = alpha[i];
				double qd = p->qd0[i] + diag[i];
				alpha[i] = fmax(old - g / qd, 0.0);
				double delta = (alpha[i] - old) * yi;
				csr_row_axpy(X, i, delta, w);
				w[d] += delta;
			}
		}
		iter++;
		if (pgmax - pgmin <= o->tol) {
			if (active == n)
				break;
			/* converged on the active set: check once more on all coordinates */
			active = n;
			pgmax_old = INFINITY;
			continue;
		}
		pgmax_old = pgmax <= 0 ? INFINITY : pgmax;
	}
	free(yy);
	free(alpha);
	free(diag);
	free(index);
	return iter;
}

static void *svm_worker(void *arg)
{
	struct svm_problem *p = arg;
	size_t d1 = p->X->ncols + 1;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t c = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (c >= p->nclasses)
			break;
		/* for two classes the one problem is class 1 against class 0 */
		size_t cls = p->k == 2 ? 1 : c;
		int it = svm_solve_one(p, cls, p->W + cls * d1);
		pthread_mutex_lock(&p->lock);
		if (it > p->max_iter_used)
			p->max_iter_used = it;
		if (it >= p->o->max_iter)
			p->unconverged++;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

int linsvm_fit(const struct csr *X, const int *y, size_t k, const struct linsvm_opts *o, double *W,
	       struct linsvm_info *info, struct err *e)
{
	if (k < 2)
		return err_set(e, DYN_EDATA, "svm: need at least two classes, got %zu", k);
	if (!(o->C > 0))
		return err_set(e, DYN_EUSAGE, "svm: C must be > 0");
	size_t n = X->nrows, d1 = X->ncols + 1;
	double *qd0 = xmallocarray(n ? n : 1, sizeof(*qd0));
	for (size_t i = 0; i < n; i++)
		qd0[i] = csr_row_sqnorm(X, i) + 1.0;
	struct svm_problem p = {.X = X, .qd0 = qd0, .y = y, .k = k, .o = o, .W = W};
	p.nclasses = k == 2 ? 1 : k;
	pthread_mutex_init(&p.lock, NULL);
	int nt = o->threads > 1 ? o->threads : 1;
	if ((size_t)nt > p.nclasses)
		nt = (int)p.nclasses;
	pthread_t *th = xmallocarray((size_t)nt, sizeof(*th));
	int started = 0;
	for (int t = 1; t < nt; t++) {
		if (pthread_create(&th[t], NULL, svm_worker, &p) != 0)
			break;
		started++;
	}
	svm_worker(&p);
	for (int t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&p.lock);
	if (k == 2)
		for (size_t j = 0; j < d1; j++)
			W[j] = -W[d1 + j];
	if (info) {
		info->max_iter_used = p.max_iter_used;
		info->unconverged = p.unconverged;
	}
	free(th);
	free(qd0);
	return 0;
}
