/* SMO for the C-SVC dual, following the algorithm of libsvm (Chang & Lin; Fan, Chen & Lin
 * 2005): written from the papers and libsvm's documented behaviour so that results agree with
 * svm-train (same working sets, same stopping rule, same bias). See smo.h. */
#include <float.h>
#include <math.h>

#include "core/smo.h"

#include "base/base.h"

#define TAU 1e-12

enum { AT_LOWER, AT_UPPER, FREE };

/* Solver state; every array is indexed by position (rows are permuted by shrinking). */
struct smo {
	size_t n, active;
	signed char *y;
	double *alpha, *G, *Gbar, *C;
	unsigned char *status;
	size_t *perm; /* position -> original row */
	const double *QD;
	struct kcache *kc;
	double tol;
	bool unshrink;
};

static void update_status(struct smo *s, size_t i)
{
	if (s->alpha[i] >= s->C[i])
		s->status[i] = AT_UPPER;
	else if (s->alpha[i] <= 0)
		s->status[i] = AT_LOWER;
	else
		s->status[i] = FREE;
}

static bool is_upper(const struct smo *s, size_t i)
{
	return s->status[i] == AT_UPPER;
}

static bool is_lower(const struct smo *s, size_t i)
{
	return s->status[i] == AT_LOWER;
}

static void swap_positions(struct smo *s, size_t i, size_t j)
{
	if (i == j)
		return;
	kcache_swap(s->kc, i, j);
#define SW(T, a)                                                                                   \
	do {                                                                                       \
		T t_ = (a)[i];                                                                     \
		(a)[i] = (a)[j];                                                                   \
		(a)[j] = t_;                                                                       \
	} while (0)
	SW(signed char, s->y);
	SW(double, s->alpha);
	SW(double, s->G);
	SW(double, s->Gbar);
	SW(double, s->C);
	SW(unsigned char, s->status);
	SW(size_t, s->perm);
#undef SW
}

/* Restores the gradient of the inactive positions from Gbar (the contribution of the
 * multipliers at their upper bound) plus the free multipliers' terms. */
static void reconstruct_gradient(struct smo *s)
{
	size_t n = s->n, act = s->active;
	if (act == n)
		return;
	for (size_t j = act; j < n; j++)
		s->G[j] = s->Gbar[j] - 1.0;
	size_t nfree = 0;
	for (size_t j = 0; j < act; j++)
		if (s->status[j] == FREE)
			nfree++;
	/* Whichever way touches fewer kernel entries: inactive rows over the active part, or
	 * the free active rows in full. */
	if ((double)nfree * (double)n > 2.0 * (double)act * (double)(n - act)) {
		for (size_t i = act; i < n; i++) {
			const float *Qi = kcache_row(s->kc, i, act);
			double g = 0;
			for (size_t j = 0; j < act; j++)
				if (s->status[j] == FREE)
					g += s->alpha[j] * Qi[j];
			s->G[i] += g;
		}
	} else {
		for (size_t i = 0; i < act; i++) {
			if (s->status[i] != FREE)
				continue;
			const float *Qi = kcache_row(s->kc, i, n);
			double a = s->alpha[i];
			for (size_t j = act; j < n; j++)
				s->G[j] += a * Qi[j];
		}
	}
}

/* WSS3: i maximizes -y_i G_i over I_up; j minimizes the second-order decrease of the objective
 * among I_low candidates violating the pair. Returns 1 when m(a) - M(a) < tol. */
static int select_working_set(struct smo *s, size_t *out_i, size_t *out_j)
{
	double Gmax = -INFINITY, Gmax2 = -INFINITY, best = INFINITY;
	long gi = -1, gj = -1;
	size_t act = s->active;
	const signed char *y = s->y;
	const double *G = s->G;
	for (size_t t = 0; t < act; t++) {
		if (y[t] > 0) {
			if (!is_upper(s, t) && -G[t] >= Gmax) {
				Gmax = -G[t];
				gi = (long)t;
			}
		} else {
			if (!is_lower(s, t) && G[t] >= Gmax) {
				Gmax = G[t];
				gi = (long)t;
			}
		}
	}
	const float *Qi = NULL;
	double QDi = 0;
	int yi = 0;
	if (gi >= 0) {
		Qi = kcache_row(s->kc, (size_t)gi, act);
		QDi = s->QD[gi];
		yi = y[gi];
	}
	for (size_t j = 0; j < act; j++) {
		double diff, quad;
		if (y[j] > 0) {
			if (is_lower(s, j))
				continue;
			diff = Gmax + G[j];
			if (G[j] >= Gmax2)
				Gmax2 = G[j];
			if (diff <= 0)
				continue;
			quad = QDi + s->QD[j] - 2.0 * yi * Qi[j];
		} else {
			if (is_upper(s, j))
				continue;
			diff = Gmax - G[j];
			if (-G[j] >= Gmax2)
				Gmax2 = -G[j];
			if (diff <= 0)
				continue;
			quad = QDi + s->QD[j] + 2.0 * yi * Qi[j];
		}
		double obj = -(diff * diff) / (quad > 0 ? quad : TAU);
		if (obj <= best) {
			best = obj;
			gj = (long)j;
		}
	}
	if (Gmax + Gmax2 < s->tol || gj < 0)
		return 1;
	*out_i = (size_t)gi;
	*out_j = (size_t)gj;
	return 0;
}

static bool be_shrunk(const struct smo *s, size_t i, double Gmax1, double Gmax2)
{
	if (is_upper(s, i))
		return s->y[i] > 0 ? -s->G[i] > Gmax1 : -s->G[i] > Gmax2;
	if (is_lower(s, i))
		return s->y[i] > 0 ? s->G[i] > Gmax2 : s->G[i] > Gmax1;
	return false;
}

/* Moves bounded multipliers that cannot change soon past the active part; near the end,
 * brings everything back once (unshrink) so that the final check sees all positions. */
static void do_shrinking(struct smo *s)
{
	double Gmax1 = -INFINITY; /* max -y G over I_up */
	double Gmax2 = -INFINITY; /* max  y G over I_low */
	for (size_t i = 0; i < s->active; i++) {
		if (s->y[i] > 0) {
			if (!is_upper(s, i) && -s->G[i] >= Gmax1)
				Gmax1 = -s->G[i];
			if (!is_lower(s, i) && s->G[i] >= Gmax2)
				Gmax2 = s->G[i];
		} else {
			if (!is_upper(s, i) && -s->G[i] >= Gmax2)
				Gmax2 = -s->G[i];
			if (!is_lower(s, i) && s->G[i] >= Gmax1)
				Gmax1 = s->G[i];
		}
	}
	if (!s->unshrink && Gmax1 + Gmax2 <= s->tol * 10) {
		s->unshrink = true;
		reconstruct_gradient(s);
		s->active = s->n;
	}
	for (size_t i = 0; i < s->active; i++) {
		if (!be_shrunk(s, i, Gmax1, Gmax2))
			continue;
		s->active--;
		while (s->active > i) {
			if (!be_shrunk(s, s->active, Gmax1, Gmax2)) {
				swap_positions(s, i, s->active);
				break;
			}
			s->active--;
		}
	}
}

/* The two-variable subproblem on (i, j), clipped to the box; then the gradient update. */
static void take_step(struct smo *s, size_t i, size_t j)
{
	size_t act = s->active;
	const float *Qi = kcache_row(s->kc, i, act);
	const float *Qj = kcache_row(s->kc, j, act);
	double Ci = s->C[i], Cj = s->C[j];
	double oi = s->alpha[i], oj = s->alpha[j];
	double *a = s->alpha;
	if (s->y[i] != s->y[j]) {
		double quad = s->QD[i] + s->QD[j] + 2 * Qi[j];
		double delta = (-s->G[i] - s->G[j]) / (quad > 0 ? quad : TAU);
		double diff = a[i] - a[j];
		a[i] += delta;
		a[j] += delta;
		if (diff > 0) {
			if (a[j] < 0) {
				a[j] = 0;
				a[i] = diff;
			}
		} else if (a[i] < 0) {
			a[i] = 0;
			a[j] = -diff;
		}
		if (diff > Ci - Cj) {
			if (a[i] > Ci) {
				a[i] = Ci;
				a[j] = Ci - diff;
			}
		} else if (a[j] > Cj) {
			a[j] = Cj;
			a[i] = Cj + diff;
		}
	} else {
		double quad = s->QD[i] + s->QD[j] - 2 * Qi[j];
		double delta = (s->G[i] - s->G[j]) / (quad > 0 ? quad : TAU);
		double sum = a[i] + a[j];
		a[i] -= delta;
		a[j] += delta;
		if (sum > Ci) {
			if (a[i] > Ci) {
				a[i] = Ci;
				a[j] = sum - Ci;
			}
		} else if (a[j] < 0) {
			a[j] = 0;
			a[i] = sum;
		}
		if (sum > Cj) {
			if (a[j] > Cj) {
				a[j] = Cj;
				a[i] = sum - Cj;
			}
		} else if (a[i] < 0) {
			a[i] = 0;
			a[j] = sum;
		}
	}
	double di = a[i] - oi, dj = a[j] - oj;
	double *G = s->G;
	for (size_t k = 0; k < act; k++)
		G[k] += Qi[k] * di + Qj[k] * dj;

	bool ui = is_upper(s, i), uj = is_upper(s, j);
	update_status(s, i);
	update_status(s, j);
	/* Gbar tracks sum over upper-bounded k of C_k Q_k: needed to rebuild shrunk gradients. */
	if (ui != is_upper(s, i)) {
		const float *Q = kcache_row(s->kc, i, s->n);
		double c = ui ? -Ci : Ci;
		for (size_t k = 0; k < s->n; k++)
			s->Gbar[k] += c * Q[k];
	}
	if (uj != is_upper(s, j)) {
		const float *Q = kcache_row(s->kc, j, s->n);
		double c = uj ? -Cj : Cj;
		for (size_t k = 0; k < s->n; k++)
			s->Gbar[k] += c * Q[k];
	}
}

/* The bias: the mean of y_i G_i over free multipliers, else the middle of the feasible
 * interval given by the bounded ones. */
static double calculate_rho(const struct smo *s)
{
	double ub = INFINITY, lb = -INFINITY, sum = 0;
	size_t nfree = 0;
	for (size_t i = 0; i < s->active; i++) {
		double yG = s->y[i] * s->G[i];
		if (is_upper(s, i)) {
			if (s->y[i] < 0)
				ub = fmin(ub, yG);
			else
				lb = fmax(lb, yG);
		} else if (is_lower(s, i)) {
			if (s->y[i] > 0)
				ub = fmin(ub, yG);
			else
				lb = fmax(lb, yG);
		} else {
			nfree++;
			sum += yG;
		}
	}
	return nfree > 0 ? sum / (double)nfree : (ub + lb) / 2;
}

void smo_solve(const struct smo_problem *p, struct smo_result *r)
{
	size_t n = p->n;
	struct smo s = {0};
	s.n = s.active = n;
	s.tol = p->tol;
	s.y = xmallocarray(n, 1);
	memcpy(s.y, p->y, n);
	s.alpha = xcalloc(n, sizeof(double));
	s.G = xmallocarray(n, sizeof(double));
	s.Gbar = xcalloc(n, sizeof(double));
	s.C = xmallocarray(n, sizeof(double));
	s.status = xmallocarray(n, 1);
	s.perm = xmallocarray(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		s.G[i] = -1.0;
		s.C[i] = s.y[i] > 0 ? p->Cp : p->Cn;
		s.perm[i] = i;
		update_status(&s, i);
	}
	s.kc = kcache_new(&p->kernel, p->X, p->y, n, p->d, p->cache_bytes);
	s.QD = kcache_diag(s.kc);

	long max_iter = n > 100000 ? (long)n * 100 : 10000000;
	long iter = 0;
	size_t counter = (n < 1000 ? n : 1000) + 1;
	r->max_iter_reached = false;
	while (1) {
		if (iter >= max_iter) {
			r->max_iter_reached = true;
			reconstruct_gradient(&s);
			s.active = n;
			break;
		}
		if (--counter == 0) {
			counter = n < 1000 ? n : 1000;
			if (p->shrinking)
				do_shrinking(&s);
		}
		size_t i = 0, j = 0;
		if (select_working_set(&s, &i, &j)) {
			reconstruct_gradient(&s);
			s.active = n;
			if (select_working_set(&s, &i, &j))
				break;
			counter = 1; /* shrink again at the next iteration */
		}
		iter++;
		take_step(&s, i, j);
	}

	r->rho = calculate_rho(&s);
	double obj = 0;
	for (size_t i = 0; i < n; i++)
		obj += s.alpha[i] * (s.G[i] - 1.0);
	r->obj = obj / 2;
	r->iter = iter;
	r->alpha = xmallocarray(n, sizeof(double));
	for (size_t i = 0; i < n; i++)
		r->alpha[s.perm[i]] = s.alpha[i];

	kcache_free(&s.kc);
	free(s.y);
	free(s.alpha);
	free(s.G);
	free(s.Gbar);
	free(s.C);
	free(s.status);
	free(s.perm);
}
