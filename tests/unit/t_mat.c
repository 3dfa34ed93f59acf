/* Unit tests of the dense matrix helpers and the deterministic random number generator. */
#include <math.h>

#include "base/base.h"
#include "core/mat.h"
#include "core/rng.h"
#include "check.h"

int main(void)
{
	{
		/* Column 1 is constant (scale 1); column 2 has a large mean (two-pass variance). */
		double X[4 * 3] = {1, 5, 1e9 + 1, 2, 5, 1e9 + 2, 3, 5, 1e9 + 3, 6, 5, 1e9 + 6};
		double mean[3], scale[3], Z[4 * 4];
		mat_col_stats(X, 4, 3, 3, mean, scale);
		check_close(mean[0], 3, 1e-15, "column mean");
		/* population std of 1,2,3,6: sqrt(3.5) */
		check_close(scale[0], sqrt(3.5), 1e-15, "population std (ddof 0)");
		check(scale[1] == 1 && mean[1] == 5, "constant column gets scale 1");
		check_close(scale[2], sqrt(3.5), 1e-9, "std of a column with a large mean (%.17g)",
			    scale[2]);
		mat_standardize(Z, 4, X, 4, 3, 3, mean, scale);
		check_close(Z[3 * 4 + 0], 3 / sqrt(3.5), 1e-15, "standardize with a wider stride");
		check(Z[0 * 4 + 1] == 0, "constant column centred to 0");
	}
	{
		double A[2 * 3] = {1, 2, 3, 4, 5, 6}, B[3 * 2] = {1, 0, 0, 1, 1, 1}, C[4], y[3];
		mat_gemm(false, false, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2);
		check(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11, "gemm A*B");
		mat_gemm(true, false, 3, 3, 2, 1, A, 3, A, 3, 0, (double[9]){0}, 3);
		double x[2] = {1, -1};
		mat_gemv(true, 2, 3, 1, A, 3, x, 0, y);
		check(y[0] == -3 && y[1] == -3 && y[2] == -3, "gemv A^T x");
		double T[6];
		mat_transpose(T, A, 2, 3);
		check(T[1] == 4 && T[4] == 3, "transpose");
	}
	{
		double v[3] = {1000, 1000, 1000}, S[2 * 3] = {1000, 1001, 1002, -1000, 0, -1000},
		       lse[2];
		check_close(mat_logsumexp(v, 3), 1000 + log(3), 1e-15,
			    "logsumexp without overflow");
		mat_softmax_rows(S, 2, 3, 3, lse);
		double e = exp(1.0), den = 1 + e + e * e;
		check_close(S[2], e * e / den, 1e-15, "softmax of large values");
		check_close(lse[0], 1002 + log(1 + exp(-1.0) + exp(-2.0)), 1e-15, "row lse");
		check(S[3] == 0 && S[4] == 1, "softmax underflow is clean");
		check_close(mat_log1pexp(800), 800, 1e-15, "log1pexp(800)");
		check_close(mat_log1pexp(-800), 0, 1e-15, "log1pexp(-800)");
		check_close(mat_log1pexp(1e-20), log(2), 1e-15, "log1pexp(0)");
		check(mat_sigmoid(-800) == 0 && mat_sigmoid(800) == 1, "sigmoid saturates");
		check_close(mat_sigmoid(-40), exp(-40), 1e-12, "sigmoid tail keeps precision");
	}
	{
		double v[7] = {3, 1, NAN, 2, 1, -5, 3};
		size_t idx[7], want[7] = {5, 1, 4, 3, 0, 6, 2};
		mat_argsort(v, 7, idx);
		check(memcmp(idx, want, sizeof(want)) == 0, "argsort stable, NaN last");
	}
	{
		struct rng r, r2;
		rng_init(&r, 42);
		rng_init(&r2, 42);
		int same = 1;
		for (int i = 0; i < 100; i++)
			same &= rng_u64(&r) == rng_u64(&r2);
		check(same, "same seed, same stream");
		/* Reference value of xoshiro256** seeded by splitmix64(0) (checked against the
		 * reference algorithm in Python). */
		rng_init(&r, 0);
		uint64_t first = rng_u64(&r);
		check(first == 0x99ec5f36cb75f2b4ULL, "first output for seed 0 (%#llx)",
		      (unsigned long long)first);
		double s = 0, s2 = 0, u_min = 1, u_max = 0;
		int n = 200000;
		for (int i = 0; i < n; i++) {
			double z = rng_normal(&r), u = rng_uniform(&r);
			s += z;
			s2 += z * z;
			u_min = fmin(u_min, u);
			u_max = fmax(u_max, u);
		}
		check(fabs(s / n) < 0.01 && fabs(s2 / n - 1) < 0.02, "normal mean 0, variance 1");
		check(u_min >= 0 && u_max < 1, "uniform in [0, 1)");
		size_t a[10], cnt[10] = {0};
		for (int t = 0; t < 1000; t++) {
			for (size_t i = 0; i < 10; i++)
				a[i] = i;
			rng_shuffle(&r, a, 10);
			cnt[a[0]]++;
		}
		size_t seen = 0, cmin = 1000;
		for (size_t i = 0; i < 10; i++)
			cmin = cnt[i] < cmin ? cnt[i] : cmin;
		for (size_t i = 0; i < 10; i++)
			seen += a[i];
		check(seen == 45 && cmin > 50, "shuffle is a permutation and spreads");
		check(rng_below(&r, 1) == 0, "below(1) is 0");
	}
	return check_done();
}
