/* Dual coordinate descent for the L2-loss linear SVM (see linsvm.h). Each binary problem
 * keeps its dual variables alpha_i >= 0 and the primal w = sum alpha_i y_i x_i up to date,
 * so that one coordinate step costs one sparse dot product and one sparse axpy.
 *
 * The one-vs-rest problems of a group of classes are solved in lockstep: one pass visits the
 * rows in one random order and, at row i, takes the coordinate step of every class of the
 * group. Their weights are stored interleaved (feature-major), so the g weights of a feature
 * share a cache line and a row's g dot products and g updates cost about one random memory
 * access per non-zero instead of g. Each class keeps its own shrinking and stopping test
 * (those of liblinear's solver), so each solves exactly its own problem. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/linsvm.h"
#include "base/base.h"
#include "base/par.h"
#include "core/rng.h"

/* A row of X as the solver reads it: its columns renumbered in place (see linsvm_fit), its
 * values taken in single precision, e.v[q] as (float)e.v[q] (the sums were tuned on a packed
 * copy of 8 bytes a non-zero; reading X itself spares that copy, 134 MB on WordNet's 16.7
 * million non-zeros, to the same bits). */
struct svm_row {
	const uint32_t *j;
	const double *v;
};

static inline struct svm_row row_at(const struct csr *X, size_t i)
{
	return (struct svm_row){X->indices + X->indptr[i], X->data + X->indptr[i]};
}

/* Groups of up to this many classes get loops unrolled for their size. */
#define LINSVM_MAX_UNROLL 10
/* Other sets of classes are taken this many at a time (see row_dot_sel). */
#define LINSVM_CHUNK 8
/* A row's sums and updates are taken for all the group's classes (dense) when at least
 * 1 / LINSVM_DENSE_DIV of them take part. */
#define LINSVM_DENSE_DIV 4
/* Lines of a feature's weights prefetched for a row (up to 64 classes a group). */
#define LINSVM_MAX_LINES 8

struct svm_problem {
	const struct csr *X;
	const uint32_t *col; /* col[j]: the solver's number of X's column j */
	const double *qd0;   /* x_i . x_i + 1 (the bias feature) */
	const int *y;
	size_t k, kp; /* classes; binary problems (1 for two classes) */
	const struct linsvm_opts *o;
	double *W; /* k x (d + 1) */
	size_t ngroups;
	int *max_iter_used, *unconverged; /* per group */
};

/* dot[c] += sum of x * w[j][c] over the entries of a row, for every class c < G of a group
 * (w: the G weights of a feature, then padding to ws). Inlined with G a constant, the G sums live
 * in registers and the class loop unrolls; each sum is still taken in the row's order. */
static inline __attribute__((always_inline)) void
row_dot_all(struct svm_row e, size_t len, const double *wt, size_t ws, size_t G, double *dot)
{
	double acc[LINSVM_MAX_UNROLL];
	for (size_t c = 0; c < G; c++)
		acc[c] = dot[c];
	for (size_t q = 0; q < len; q++) {
		const double *wj = wt + (size_t)e.j[q] * ws;
		double x = (float)e.v[q];
		for (size_t c = 0; c < G; c++)
			acc[c] += x * wj[c];
	}
	for (size_t c = 0; c < G; c++)
		dot[c] = acc[c];
}

/* w[j][c] += x * delta[c] over the entries of a row, for every class c < G. */
static inline __attribute__((always_inline)) void
row_update_all(struct svm_row e, size_t len, double *wt, size_t ws, size_t G, const double *delta)
{
	double dl[LINSVM_MAX_UNROLL];
	for (size_t c = 0; c < G; c++)
		dl[c] = delta[c];
	for (size_t q = 0; q < len; q++) {
		double *wj = wt + (size_t)e.j[q] * ws;
		double x = (float)e.v[q];
		for (size_t c = 0; c < G; c++)
			wj[c] += x * dl[c];
	}
}

/* The same for a chosen few classes sel[0..L) of a group (w: ws doubles per feature):
 * dot[l] += sum of x * w[j][sel[l]]. With L a constant the L sums are independent chains in
 * registers instead of round trips through memory; each is still taken in the row's order,
 * so the result does not depend on how the classes are chunked. */
static inline __attribute__((always_inline)) void row_dot_sel(struct svm_row e, size_t len,
							      const double *wt, size_t ws,
							      const size_t *sel, size_t L,
							      double *dot)
{
	double acc[LINSVM_CHUNK];
	size_t off[LINSVM_CHUNK];
	for (size_t l = 0; l < L; l++) {
		acc[l] = dot[l];
		off[l] = sel[l];
	}
	for (size_t q = 0; q < len; q++) {
		const double *wj = wt + (size_t)e.j[q] * ws;
		double x = (float)e.v[q];
#pragma GCC unroll 8
		for (size_t l = 0; l < L; l++)
			acc[l] += x * wj[off[l]];
	}
	for (size_t l = 0; l < L; l++)
		dot[l] = acc[l];
}

/* w[j][sel[l]] += x * delta[l] over the entries of a row, for l < L. */
static inline __attribute__((always_inline)) void row_update_sel(struct svm_row e, size_t len,
								 double *wt, size_t ws,
								 const size_t *sel, size_t L,
								 const double *delta)
{
	double dl[LINSVM_CHUNK];
	size_t off[LINSVM_CHUNK];
	for (size_t l = 0; l < L; l++) {
		dl[l] = delta[l];
		off[l] = sel[l];
	}
	for (size_t q = 0; q < len; q++) {
		double *wj = wt + (size_t)e.j[q] * ws;
		double x = (float)e.v[q];
#pragma GCC unroll 8
		for (size_t l = 0; l < L; l++)
			wj[off[l]] += x * dl[l];
	}
}

/* Four doubles, a vector of the instruction set the code is compiled for (two SSE2 registers,
 * one AVX2 register); read and written in place through linsvm_v4u (any alignment, may alias
 * the doubles it covers). */
typedef double linsvm_v4 __attribute__((vector_size(32)));
typedef double linsvm_v4u __attribute__((vector_size(32), aligned(8), may_alias));

/* dot[c] += sum of x * w[j][c] over the entries of a row for every c < ws, all of a group's
 * classes (and its padding, whose weights are 0) as vectors, 16 or 8 at a time: cheaper than
 * picking the live classes when most of them are. Each sum is still taken in the row's order,
 * each product and each sum rounded as in row_dot_sel: the same bits. */
static inline __attribute__((always_inline)) void
row_dot_dense(struct svm_row e, size_t len, const double *wt, size_t ws, double *dot)
{
	for (size_t c0 = 0; c0 < ws; c0 += 8) {
		int two = c0 + 16 <= ws; /* ws is a multiple of 8 (see svm_solve_group) */
		linsvm_v4 a[4];
		memcpy(a, dot + c0, (two ? 4 : 2) * sizeof(*a));
		for (size_t q = 0; q < len; q++) {
			const double *wj = wt + (size_t)e.j[q] * ws + c0;
			double x = (float)e.v[q];
			const linsvm_v4u *w = (const linsvm_v4u *)wj;
			a[0] += x * w[0];
			a[1] += x * w[1];
			if (two) {
				a[2] += x * w[2];
				a[3] += x * w[3];
			}
		}
		memcpy(dot + c0, a, (two ? 4 : 2) * sizeof(*a));
		c0 += two ? 8 : 0;
	}
}

/* w[j][c] += x * delta[c] over the entries of a row for every c < ws, as vectors (delta is 0
 * for the classes that do not move: adding x * 0 leaves a weight as it was, none being -0). */
static inline __attribute__((always_inline)) void
row_update_dense(struct svm_row e, size_t len, double *wt, size_t ws, const double *delta)
{
	for (size_t c0 = 0; c0 < ws; c0 += 8) {
		int two = c0 + 16 <= ws;
		linsvm_v4 dl[4];
		memcpy(dl, delta + c0, (two ? 4 : 2) * sizeof(*dl));
		for (size_t q = 0; q < len; q++) {
			double *wj = wt + (size_t)e.j[q] * ws + c0;
			double x = (float)e.v[q];
			linsvm_v4u *w = (linsvm_v4u *)wj;
			w[0] += x * dl[0];
			w[1] += x * dl[1];
			if (two) {
				w[2] += x * dl[2];
				w[3] += x * dl[3];
			}
		}
		c0 += two ? 8 : 0;
	}
}

#define SEL_DOT(e, len, wt, ws, sel, dot, L)	  row_dot_sel(e, len, wt, ws, sel, L, dot)
#define SEL_UPDATE(e, len, wt, ws, sel, delta, L) row_update_sel(e, len, wt, ws, sel, L, delta)

/* The cases of a switch on a count that call F(..., count) with the count a constant. */
#define LINSVM_CASES_1_7(F, ...)                                                                   \
	case 1:                                                                                    \
		F(__VA_ARGS__, 1);                                                                 \
		break;                                                                             \
	case 2:                                                                                    \
		F(__VA_ARGS__, 2);                                                                 \
		break;                                                                             \
	case 3:                                                                                    \
		F(__VA_ARGS__, 3);                                                                 \
		break;                                                                             \
	case 4:                                                                                    \
		F(__VA_ARGS__, 4);                                                                 \
		break;                                                                             \
	case 5:                                                                                    \
		F(__VA_ARGS__, 5);                                                                 \
		break;                                                                             \
	case 6:                                                                                    \
		F(__VA_ARGS__, 6);                                                                 \
		break;                                                                             \
	case 7:                                                                                    \
		F(__VA_ARGS__, 7);                                                                 \
		break;

#define LINSVM_CASES(F, ...)                                                                       \
	LINSVM_CASES_1_7(F, __VA_ARGS__)                                                           \
	case 8:                                                                                    \
		F(__VA_ARGS__, 8);                                                                 \
		break;                                                                             \
	case 9:                                                                                    \
		F(__VA_ARGS__, 9);                                                                 \
		break;                                                                             \
	case 10:                                                                                   \
		F(__VA_ARGS__, 10);                                                                \
		break;

#define LINSVM_CHUNK_CASES(F, ...)                                                                 \
	LINSVM_CASES_1_7(F, __VA_ARGS__)                                                           \
	default:                                                                                   \
		F(__VA_ARGS__, LINSVM_CHUNK);                                                      \
		break;

/* Asks for every cache line of weights that the row's sums for the classes sel[0..n)
 * (ascending) will read. The weights are read at random and each sum is a chain that waits on
 * them: asked for at once, the misses overlap instead of coming one by one. */
static void row_prefetch(struct svm_row e, size_t len, const double *wt, size_t ws,
			 const size_t *sel, size_t n)
{
	size_t line[LINSVM_MAX_LINES], nline = 0;
	for (size_t l = 0; l < n && nline < LINSVM_MAX_LINES; l++) {
		size_t first = sel[l] & ~(size_t)7; /* 8 doubles a line (see ws) */
		if (!nline || line[nline - 1] != first)
			line[nline++] = first;
	}
	for (size_t q = 0; q < len; q++) {
		const double *wj = wt + (size_t)e.j[q] * ws;
		for (size_t k = 0; k < nline; k++)
			__builtin_prefetch(wj + line[k]);
	}
}

/* dot[l] += the row's sums for the classes sel[0..n), LINSVM_CHUNK at a time. */
static void row_dot_some(struct svm_row e, size_t len, const double *wt, size_t ws,
			 const size_t *sel, size_t n, double *dot)
{
	for (size_t l = 0; l < n; l += LINSVM_CHUNK) {
		switch (n - l) {
			LINSVM_CHUNK_CASES(SEL_DOT, e, len, wt, ws, sel + l, dot + l)
		}
	}
}

/* The updates of the classes sel[0..n), LINSVM_CHUNK at a time. */
static void row_update_some(struct svm_row e, size_t len, double *wt, size_t ws, const size_t *sel,
			    size_t n, const double *delta)
{
	for (size_t l = 0; l < n; l += LINSVM_CHUNK) {
		switch (n - l) {
			LINSVM_CHUNK_CASES(SEL_UPDATE, e, len, wt, ws, sel + l, delta + l)
		}
	}
}

#define ROW_DOT(e, len, wt, ws, dot, G)	     row_dot_all(e, len, wt, ws, G, dot)
#define ROW_UPDATE(e, len, wt, ws, delta, G) row_update_all(e, len, wt, ws, G, delta)

/* The classes still optimizing a row (late passes have few): those of the g not done whose
 * variable at the row is not shrunk (sh: the row's flags). Returns their count. */
static size_t row_live(const unsigned char *sh, const unsigned char *done, size_t g, size_t *live)
{
	size_t nl = 0;
	for (size_t c = 0; c < g; c++)
		if (!done[c] && !sh[c])
			live[nl++] = c;
	return nl;
}

/* Solves the problems cls[0..g) (class c against the rest) in lockstep; fills their rows of
 * p->W and the group's entries of p->max_iter_used and p->unconverged. */
__attribute__((target_clones("avx2", "default"))) static void
svm_solve_group(struct svm_problem *p, size_t grp, const size_t *cls, size_t g, uint64_t seed)
{
	const struct csr *X = p->X;
	const size_t *ip = X->indptr;
	const struct linsvm_opts *o = p->o;
	size_t n = X->nrows, d = X->ncols, n1 = n ? n : 1;
	/* (d + 1) x ws, bias row last. A feature's g weights start a cache line and take whole
	 * lines (ws: g rounded up to 8 doubles) so a row step touches as few lines as it can */
	size_t ws = g <= 4 ? g : (g + 7) & ~(size_t)7;
	double *wt_mem = xcalloc((d + 1) * ws + 8, sizeof(double));
	double *wt = (double *)(((uintptr_t)wt_mem + 63) & ~(uintptr_t)63);
	/* before the first write: the weights are read at random, huge pages spare TLB misses */
	mem_advise_huge(wt, (d + 1) * ws * sizeof(*wt));
	double *alpha = xcalloc_huge(n1 * g, sizeof(*alpha));
	/* squared hinge: D_ii = 1 / (2 C_i), no upper bound on alpha; C_i is a class's own, so
	 * D_ii is one of two numbers a class (not an array of n x g: less memory to fault in) */
	double *dpos = xmallocarray(g, sizeof(*dpos)), *dneg = xmallocarray(g, sizeof(*dneg));
	signed char *yy = xmallocarray(n1 * g, sizeof(*yy));
	unsigned char *shrunk = xcalloc(n1 * g, 1);
	size_t *index = xmallocarray(n1, sizeof(*index));
	size_t *nshrunk = xcalloc(g, sizeof(*nshrunk));
	unsigned char *done = xcalloc(g, 1);
	int *iters = xcalloc(g, sizeof(*iters));
	double *pgmax_old = xmallocarray(g, sizeof(double)),
	       *pgmax = xmallocarray(g, sizeof(double));
	double *pgmin = xmallocarray(g, sizeof(double)), *dot = xmallocarray(g, sizeof(double));
	double *delta = xmallocarray(g, sizeof(double));
	size_t *live = xmallocarray(g, sizeof(*live)), *moved = xmallocarray(g, sizeof(*moved));
	size_t *live1 = xmallocarray(g, sizeof(*live1));
	double *ddot = xmallocarray(ws, sizeof(*ddot)), *ddelta = xmallocarray(ws, sizeof(*ddelta));
	uint64_t rs = seed;
	size_t ndone = 0;
	int iter = 0;

	for (size_t c = 0; c < g; c++) {
		/* like liblinear: the positive class's C is weighted; the rest share C, except
		 * for two classes, where each side has its own weight */
		double neg_c = o->C;
		double pos_c = neg_c;
		if (o->weight) {
			pos_c *= o->weight[cls[c]];
			if (p->k == 2)
				neg_c *= o->weight[1 - cls[c]];
		}
		dpos[c] = 0.5 / pos_c;
		dneg[c] = 0.5 / neg_c;
		for (size_t i = 0; i < n; i++)
			yy[i * g + c] = (size_t)p->y[i] == cls[c] ? 1 : -1;
		pgmax_old[c] = INFINITY;
	}
	for (size_t i = 0; i < n; i++)
		index[i] = i;
	if (o->alpha) {
		/* a warm start: w = sum alpha_i y_i x_i of the given duals, rows in order (the
		 * same sums whichever classes share the group). The squared hinge's dual has no
		 * upper bound (the loss is in D_ii): its feasible set is alpha >= 0, and a value
		 * outside it (negative, NaN, infinite) starts at 0. The labels are this call's, so
		 * a row's variable is right whatever its label was where it came from. */
		for (size_t i = 0; i < n; i++) {
			size_t nm = 0;
			for (size_t c = 0; c < g; c++) {
				float a = o->alpha[i * p->kp + (p->k == 2 ? 0 : cls[c])];
				size_t ic = i * g + c;
				alpha[ic] = a > 0 && isfinite(a) ? a : 0;
				if (alpha[ic] > 0) {
					delta[nm] = alpha[ic] * yy[ic];
					moved[nm++] = c;
				}
			}
			if (nm) {
				row_update_some(row_at(X, i), ip[i + 1] - ip[i], wt, ws, moved, nm,
						delta);
				for (size_t l = 0; l < nm; l++)
					wt[d * ws + moved[l]] += delta[l];
			}
		}
	}

	while (iter < o->max_iter && ndone < g) {
		/* a permutation of all the rows, whichever classes still use them: every group
		 * draws the same ones, so that a class's path does not depend on the classes it is
		 * solved with, nor the result on the number of threads */
		for (size_t s = 0; s + 1 < n; s++) {
			size_t j = s + (size_t)(rng_splitmix64(&rs) % (n - s));
			size_t t = index[s];
			index[s] = index[j];
			index[j] = t;
		}
		for (size_t c = 0; c < g; c++) {
			pgmax[c] = -INFINITY;
			pgmin[c] = INFINITY;
		}
		/* the rows come in random order and their weights' lines are read at random: each
		 * step asks for what the next rows will read, a row ahead for its weights, two for
		 * its entries and variables, three for where its entries start */
		size_t nl = 0;
		if (n) {
			nl = row_live(shrunk + index[0] * g, done, g, live);
			row_prefetch(row_at(X, index[0]), ip[index[0] + 1] - ip[index[0]], wt, ws,
				     live, nl);
		}
		for (size_t s = 0; s < n; s++) {
			size_t i = index[s];
			const double *bias = wt + d * ws;
			size_t nm = 0, nl1 = 0;
			if (s + 3 < n)
				__builtin_prefetch(ip + index[s + 3]);
			if (s + 2 < n) {
				size_t i2 = index[s + 2];
				__builtin_prefetch(shrunk + i2 * g);
				__builtin_prefetch(yy + i2 * g);
				for (size_t b = 0; b < g * sizeof(double); b += 64)
					__builtin_prefetch((const char *)(alpha + i2 * g) + b);
				for (size_t q = ip[i2]; q < ip[i2 + 1]; q += 8) {
					__builtin_prefetch(X->indices + q);
					__builtin_prefetch(X->data + q);
				}
			}
			if (s + 1 < n) {
				size_t i1 = index[s + 1];
				nl1 = row_live(shrunk + i1 * g, done, g, live1);
				row_prefetch(row_at(X, i1), ip[i1 + 1] - ip[i1], wt, ws, live1,
					     nl1);
			}
			if (nl == 0)
				goto next; /* every class is done or shrunk at this row */
			if (g > LINSVM_MAX_UNROLL && nl * LINSVM_DENSE_DIV >= g) {
				/* a quarter or more of the classes live: the sums of all of them
				 * as vectors cost less than those of the live ones one by one */
				memcpy(ddot, bias, ws * sizeof(*ddot));
				row_dot_dense(row_at(X, i), ip[i + 1] - ip[i], wt, ws, ddot);
				for (size_t l = 0; l < nl; l++)
					dot[l] = ddot[live[l]];
			} else if (nl == g && g <= LINSVM_MAX_UNROLL) {
				struct svm_row e = row_at(X, i);
				size_t len = ip[i + 1] - ip[i];
				for (size_t l = 0; l < nl; l++)
					dot[l] = bias[l];
				switch (g) {
					LINSVM_CASES(ROW_DOT, e, len, wt, ws, dot)
				default:
					break;
				}
			} else {
				for (size_t l = 0; l < nl; l++)
					dot[l] = bias[live[l]];
				row_dot_some(row_at(X, i), ip[i + 1] - ip[i], wt, ws, live, nl,
					     dot);
			}
			for (size_t l = 0; l < nl; l++) {
				size_t c = live[l], ic = i * g + c;
				double yi = yy[ic], dg = yi > 0 ? dpos[c] : dneg[c];
				double gr = yi * dot[l] - 1 + alpha[ic] * dg;
				double pg = 0;
				if (alpha[ic] == 0) {
					if (gr > pgmax_old[c]) {
						/* shrink: at its bound and likely to stay there */
						shrunk[ic] = 1;
						nshrunk[c]++;
						continue;
					}
					if (gr < 0)
						pg = gr;
				} else {
					pg = gr;
				}
				if (pg > pgmax[c])
					pgmax[c] = pg;
				if (pg < pgmin[c])
					pgmin[c] = pg;
				if (fabs(pg) > 1e-12) {
					double old = alpha[ic];
					alpha[ic] = fmax(old - gr / (p->qd0[i] + dg), 0.0);
					delta[nm] = (alpha[ic] - old) * yi;
					moved[nm++] = c;
				}
			}
			if (nm == g && g <= LINSVM_MAX_UNROLL) {
				/* every class moved: delta is in class order */
				struct svm_row e = row_at(X, i);
				size_t len = ip[i + 1] - ip[i];
				switch (g) {
					LINSVM_CASES(ROW_UPDATE, e, len, wt, ws, delta)
				default:
					break;
				}
			} else if (g > LINSVM_MAX_UNROLL && nm * LINSVM_DENSE_DIV >= g) {
				memset(ddelta, 0, ws * sizeof(*ddelta));
				for (size_t l = 0; l < nm; l++)
					ddelta[moved[l]] = delta[l];
				row_update_dense(row_at(X, i), ip[i + 1] - ip[i], wt, ws, ddelta);
			} else if (nm) {
				row_update_some(row_at(X, i), ip[i + 1] - ip[i], wt, ws, moved, nm,
						delta);
			}
			for (size_t l = 0; l < nm; l++) /* the bias feature */
				wt[d * ws + moved[l]] += delta[l];
		next:;
			size_t *t = live;
			live = live1;
			live1 = t;
			nl = nl1;
		}
		iter++;
		for (size_t c = 0; c < g; c++) {
			if (done[c])
				continue;
			if (pgmax[c] - pgmin[c] <= o->tol) {
				if (nshrunk[c] == 0) {
					done[c] = 1;
					iters[c] = iter;
					ndone++;
					continue;
				}
				/* converged on its active set: check once more on all rows */
				for (size_t i = 0; i < n; i++)
					shrunk[i * g + c] = 0;
				nshrunk[c] = 0;
				pgmax_old[c] = INFINITY;
				continue;
			}
			pgmax_old[c] = pgmax[c] <= 0 ? INFINITY : pgmax[c];
		}
	}
	p->max_iter_used[grp] = 0;
	p->unconverged[grp] = 0;
	for (size_t c = 0; c < g; c++) {
		double *w = p->W + cls[c] * (d + 1);
		for (size_t j = 0; j < d; j++)
			w[j] = wt[(size_t)p->col[j] * ws + c];
		w[d] = wt[d * ws + c];
		if (o->alpha)
			for (size_t i = 0; i < n; i++)
				o->alpha[i * p->kp + (p->k == 2 ? 0 : cls[c])] =
				    (float)alpha[i * g + c];
		int it = done[c] ? iters[c] : iter;
		if (it > p->max_iter_used[grp])
			p->max_iter_used[grp] = it;
		if (!done[c])
			p->unconverged[grp]++;
	}
	free(wt_mem);
	free(alpha);
	free(dpos);
	free(dneg);
	free(yy);
	free(shrunk);
	free(index);
	free(nshrunk);
	free(done);
	free(iters);
	free(pgmax_old);
	free(pgmax);
	free(pgmin);
	free(dot);
	free(delta);
	free(live);
	free(live1);
	free(ddot);
	free(ddelta);
	free(moved);
}

static void svm_group(void *arg, size_t grp, int t)
{
	struct svm_problem *p = arg;
	size_t *cls = xmallocarray(p->kp, sizeof(*cls));
	/* group grp: classes grp, grp + ngroups, ...; for two classes the one problem is class 1
	 * against class 0 */
	size_t g = 0;
	for (size_t c = grp; c < p->kp; c += p->ngroups)
		cls[g++] = p->k == 2 ? 1 : c;
	svm_solve_group(p, grp, cls, g, p->o->seed * 0x2545F4914F6CDD1DULL + 1);
	free(cls);
}

int linsvm_fit(struct csr *X, const int *y, size_t k, const struct linsvm_opts *o, double *W,
	       struct linsvm_info *info, struct err *e)
{
	if (k < 2)
		return err_set(e, DYN_EDATA, "svm: need at least two classes, got %zu", k);
	if (!(o->C > 0))
		return err_set(e, DYN_EUSAGE, "svm: C must be > 0");
	size_t n = X->nrows, d1 = X->ncols + 1;
	size_t d = X->ncols;
	double *qd0 = xmallocarray(n ? n : 1, sizeof(*qd0));
	uint32_t *col = xcalloc(d ? d : 1, sizeof(*col));
	size_t *nzcol = xcalloc(d + 1, sizeof(*nzcol));
	/* Columns renumbered by decreasing frequency: the weights of the frequent terms, which
	 * nearly every row reads, share cache lines and pages instead of being spread over the
	 * whole vocabulary. Only the memory layout changes: every sum is taken in the same order,
	 * so the solution is the same. (Counting sort, stable: ties keep their order.) */
	for (size_t q = 0; q < X->nnz; q++)
		nzcol[X->indices[q]]++;
	size_t maxc = 0;
	for (size_t j = 0; j < d; j++)
		if (nzcol[j] > maxc)
			maxc = nzcol[j];
	size_t *bucket = xcalloc(maxc + 2, sizeof(*bucket));
	for (size_t j = 0; j < d; j++)
		bucket[maxc - nzcol[j] + 1]++;
	for (size_t b = 1; b <= maxc + 1; b++)
		bucket[b] += bucket[b - 1];
	for (size_t j = 0; j < d; j++)
		col[j] = (uint32_t)bucket[maxc - nzcol[j]]++;
	free(bucket);
	free(nzcol);
	for (size_t q = 0; q < X->nnz; q++)
		X->indices[q] = col[X->indices[q]];
	/* the diagonal from the values the solver uses, so that each step is exact for them */
	for (size_t i = 0; i < n; i++) {
		double s = 1.0;
		for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
			double x = (float)X->data[q];
			s += x * x;
		}
		qd0[i] = s;
	}
	struct svm_problem p = {.X = X, .col = col, .qd0 = qd0, .y = y, .k = k, .o = o, .W = W};
	p.kp = k == 2 ? 1 : k;
	/* as many groups as threads: each thread solves its classes in lockstep */
	int nt = par_threads(p.kp, o->threads);
	p.ngroups = (size_t)nt;
	p.max_iter_used = xcalloc(p.ngroups, sizeof(int));
	p.unconverged = xcalloc(p.ngroups, sizeof(int));
	par_for(p.ngroups, nt, svm_group, &p);
	if (k == 2)
		for (size_t j = 0; j < d1; j++)
			W[j] = -W[d1 + j];
	if (info) {
		info->max_iter_used = 0;
		info->unconverged = 0;
		for (size_t grp = 0; grp < p.ngroups; grp++) {
			if (p.max_iter_used[grp] > info->max_iter_used)
				info->max_iter_used = p.max_iter_used[grp];
			info->unconverged += p.unconverged[grp];
		}
	}
	free(p.max_iter_used);
	free(p.unconverged);
	/* X's columns as they were */
	uint32_t *inv = xmallocarray(d ? d : 1, sizeof(*inv));
	for (size_t j = 0; j < d; j++)
		inv[col[j]] = (uint32_t)j;
	for (size_t q = 0; q < X->nnz; q++)
		X->indices[q] = inv[X->indices[q]];
	free(inv);
	free(qd0);
	free(col);
	return 0;
}
