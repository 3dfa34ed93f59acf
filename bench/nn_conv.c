/* Convolution speed of lib/nn against the machine's OpenBLAS sgemm on the products the
 * convolution is made of, in one run (bench/nn_conv.sh builds and runs it).
 *
 * For each layer: "sgemm" times the three products of a forward and backward pass (forward
 * W x col, weight gradient dY x col^T, input gradient W^T x dY) for every sample, and nothing
 * else; "conv" times nn_conv_forward + nn_conv_backward (im2col, col2im, bias, the same
 * products). Both count the convolution's useful FLOPs, 3 x 2 N Cout Cin K Hout Wout, so the
 * ratio conv/sgemm is the share of time spent in the products. One thread first (the layer
 * functions; OpenBLAS on one thread), then the network object on T threads over the batch
 * against the same per-sample products spread over T threads (par_for, OpenBLAS on one thread
 * in each: OpenBLAS's own threads do worse on products this small). The two measurements
 * alternate R times and medians are compared (the machine's speed drifts).
 *
 * usage: nn_conv [R] [T] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "base/par.h"
#include "core/rng.h"
#include "nn/nn.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the process, all threads. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static float *rand_vec(size_t n, struct rng *r)
{
	float *v = xmallocarray(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(rng_uniform(r) - 0.5);
	return v;
}

struct layer {
	const char *what;
	int N, two;
	struct nn_conv g;
	float *x, *w, *b, *y, *dy, *dx, *dw, *db, *col;
	float *cols[64], *dws[64]; /* per thread, for the threaded products */
	int T;
	struct nn_net *net;
};

/* The products alone for sample b, as the convolution does them (col: scratch of thread t). */
static void sgemm_sample(void *arg, size_t b, int t)
{
	struct layer *L = arg;
	const struct nn_conv *g = &L->g;
	int S = g->oh * g->ow, K = g->cin * g->kh * g->kw;
	float *y = L->y + b * g->cout * S, *col = L->cols[t], *dw = L->dws[t];
	const float *dy = L->dy + b * g->cout * S;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, S, K, 1.0f, L->w, K, col, S,
		    0.0f, y, S);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cout, K, S, 1.0f, dy, S, col, S,
		    1.0f, dw, K);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, S, g->cout, 1.0f, L->w, K, dy, S,
		    0.0f, col, S);
}

static void run_sgemm(struct layer *L)
{
	for (int b = 0; b < L->N; b++)
		sgemm_sample(L, (size_t)b, 0);
}

/* The same products on T threads over the samples, OpenBLAS on one thread in each. */
static void run_sgemm_threads(struct layer *L)
{
	par_for((size_t)L->N, L->T, sgemm_sample, L);
}

static void run_conv(struct layer *L)
{
	nn_conv_forward(L->y, L->x, L->w, L->b, L->N, &L->g, L->col);
	nn_conv_backward(L->dx, L->dw, L->db, L->dy, L->x, L->w, L->N, &L->g, L->col);
}

static void run_net(struct layer *L)
{
	nn_net_forward(L->net, L->x, L->N, 1);
	nn_net_backward(L->net, L->dy);
}

/* Seconds per call of fn, over enough calls to last about 0.15 s. */
static double time_it(void (*fn)(struct layer *), struct layer *L)
{
	int reps = 1;
	double t0, t;
	for (;;) {
		t0 = now();
		for (int i = 0; i < reps; i++)
			fn(L);
		t = now() - t0;
		if (t > 0.15 || reps > 1 << 20)
			return t / reps;
		reps *= t < 0.01 ? 8 : 2;
	}
}

static void setup(struct layer *L, const char *what, int N, int two, int cin, int cout, int h,
		  int w, int k, int pad, int threads)
{
	struct rng r;
	struct err e = ERR_INIT;
	rng_init(&r, 1);
	memset(L, 0, sizeof(*L));
	L->what = what, L->N = N, L->two = two;
	if (two)
		nn_conv2d_setup(&L->g, cin, cout, h, w, k, k, 1, 1, pad, pad, 1, 1);
	else
		nn_conv1d_setup(&L->g, cin, cout, w, k, 1, pad, 1);
	size_t nx = (size_t)N * cin * h * w, ny = (size_t)N * cout * L->g.oh * L->g.ow;
	size_t nw = (size_t)cout * cin * k * (two ? k : 1);
	L->x = rand_vec(nx, &r), L->dx = rand_vec(nx, &r);
	L->y = rand_vec(ny, &r), L->dy = rand_vec(ny, &r);
	L->w = rand_vec(nw, &r), L->dw = rand_vec(nw, &r);
	L->b = rand_vec((size_t)cout, &r), L->db = rand_vec((size_t)cout, &r);
	L->col = rand_vec(nn_conv_scratch(&L->g), &r);
	L->T = threads;
	for (int t = 0; t < threads; t++) {
		L->cols[t] = rand_vec(nn_conv_scratch(&L->g), &r);
		L->dws[t] = rand_vec(nw, &r);
	}
	L->cols[0] = L->col, L->dws[0] = L->dw;
	struct nn_layer_desc d = {
	    .op = two ? NN_CONV2D : NN_CONV1D, .name = "conv", .out = cout, .k = k, .pad = pad};
	struct nn_net_desc nd = {.dims = two ? 3 : 2,
				 .c = cin,
				 .h = h,
				 .w = w,
				 .layers = &d,
				 .nlayers = 1,
				 .max_batch = N,
				 .threads = threads,
				 .input_grad = 1};
	if (nn_net_new(&L->net, &nd, &e) < 0) {
		fprintf(stderr, "nn_conv: %s\n", e.msg);
		exit(1);
	}
}

static void release(struct layer *L)
{
	free(L->x), free(L->dx), free(L->y), free(L->dy), free(L->w), free(L->dw);
	free(L->b), free(L->db), free(L->col);
	for (int t = 1; t < L->T; t++)
		free(L->cols[t]), free(L->dws[t]);
	nn_net_free(&L->net);
}

/* A pump-card-like 1-D CNN, (64, 4, 256) in: training steps per second on 1 and T threads. */
static void net_steps(int R, int T)
{
	static const struct nn_layer_desc L[] = {
	    {.op = NN_CONV1D, .name = "c1", .out = 32, .k = 7, .pad = 3, .no_bias = 1},
	    {.op = NN_BATCHNORM, .name = "bn1"},
	    {.op = NN_RELU},
	    {.op = NN_MAXPOOL1D, .k = 2},
	    {.op = NN_CONV1D, .name = "c2", .out = 64, .k = 5, .pad = 2, .no_bias = 1},
	    {.op = NN_BATCHNORM, .name = "bn2"},
	    {.op = NN_RELU},
	    {.op = NN_MAXPOOL1D, .k = 2},
	    {.op = NN_CONV1D, .name = "c3", .out = 128, .k = 3, .pad = 1, .no_bias = 1},
	    {.op = NN_BATCHNORM, .name = "bn3"},
	    {.op = NN_RELU},
	    {.op = NN_GAP},
	    {.op = NN_DROPOUT, .p = 0.2f},
	    {.op = NN_DENSE, .name = "fc", .out = 8},
	};
	enum { N = 64, C = 4, LEN = 256 };
	struct nn_net_desc d = {
	    .dims = 2, .c = C, .w = LEN, .layers = L, .nlayers = 14, .max_batch = N, .threads = T};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	struct rng r;
	struct nn_optim o;
	int t[N];
	float dy[N * 8];
	if (nn_net_new(&net, &d, &e) < 0) {
		fprintf(stderr, "nn_conv: %s\n", e.msg);
		exit(1);
	}
	rng_init(&r, 3);
	float *x = rand_vec((size_t)N * C * LEN, &r);
	for (int i = 0; i < N; i++)
		t[i] = i % 8;
	nn_optim_init(&o, NN_ADAM, nn_net_nparams(net));
	double tt[2][99], tc[2][99];
	for (int k = 0; k < R; k++)
		for (int th = 0; th < 2; th++) {
			nn_net_set_threads(net, th ? T : 1);
			int steps = 0;
			double t0 = now(), c0 = cpu_now(), el;
			do {
				const float *y = nn_net_forward(net, x, N, 1);
				nn_softmax_xent(dy, NULL, y, t, NULL, N, 8);
				nn_net_zero_grad(net);
				nn_net_backward(net, dy);
				nn_net_step(net, &o);
				steps++;
			} while ((el = now() - t0) < 0.3);
			tt[th][k] = el / steps;
			tc[th][k] = (cpu_now() - c0) / steps;
		}
	double t1 = median(tt[0], R), tT = median(tt[1], R);
	printf("pump-card-like 1-D CNN (%zu parameters), batch %d of (%d, %d): training step "
	       "%.2f ms on 1 thread, %.2f ms on %d (%.2fx), %.0f samples/s\n",
	       nn_net_nparams(net), N, C, LEN, 1e3 * t1, 1e3 * tT, T, t1 / tT, N / tT);
	/* on a shared machine wall time waits for cores; CPU time says what the threads cost */
	printf("  CPU time per step: %.2f ms on 1 thread, %.2f ms on %d\n", 1e3 * median(tc[0], R),
	       1e3 * median(tc[1], R), T);
	for (int k = 0; k < R; k++)
		for (int th = 0; th < 2; th++) {
			nn_net_set_threads(net, th ? T : 1);
			int steps = 0;
			double t0 = now(), el;
			do {
				nn_net_forward(net, x, N, 0);
				steps++;
			} while ((el = now() - t0) < 0.2);
			tt[th][k] = el / steps;
		}
	t1 = median(tt[0], R), tT = median(tt[1], R);
	printf("the same, prediction (eval forward): %.0f samples/s on 1 thread, %.0f on %d "
	       "(%.2fx)\n",
	       N / t1, N / tT, T, t1 / tT);
	nn_optim_release(&o);
	free(x);
	nn_net_free(&net);
}

int main(int argc, char **argv)
{
	int R = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	int T = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2;
	struct layer layers[2];
	if (R < 1 || R > 99 || T < 1 || T > 64) {
		fprintf(stderr, "usage: nn_conv [R 1..99] [T 1..64]\n");
		return 2;
	}
	openblas_set_num_threads(1);
	{
		/* the machine's sgemm on one large product, for scale */
		enum { M = 512 };
		struct rng r;
		rng_init(&r, 2);
		float *a = rand_vec(M * M, &r), *b = rand_vec(M * M, &r), *c = rand_vec(M * M, &r);
		double best = 1e9;
		for (int i = 0; i < 5; i++) {
			double t0 = now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, M, 1.0f, a, M,
				    b, M, 0.0f, c, M);
			double t = now() - t0;
			best = t < best ? t : best;
		}
		printf("sgemm 512x512x512, one thread: %.1f GFLOP/s (best of 5)\n",
		       2.0 * M * M * M / best / 1e9);
		free(a), free(b), free(c);
	}
	setup(&layers[0], "conv1d N=64 C=32->64 L=128 k=5 pad=2", 64, 0, 32, 64, 1, 128, 5, 2, T);
	setup(&layers[1], "conv2d N=32 C=16->32 32x32 k=3 pad=1", 32, 1, 16, 32, 32, 32, 3, 1, T);
	printf("%-40s %8s %8s %8s  %8s %8s %8s\n", "layer (forward+backward)", "sgemm1", "conv1",
	       "ratio1", "sgemmT", "netT", "ratioT");
	for (int l = 0; l < 2; l++) {
		struct layer *L = &layers[l];
		const struct nn_conv *g = &L->g;
		double flops = 3.0 * 2 * L->N * g->cout * g->cin * g->kh * g->kw * g->oh * g->ow;
		double ts1[99], tc1[99], tsT[99], tnT[99];
		for (int r = 0; r < R; r++) {
			ts1[r] = time_it(run_sgemm, L);
			tc1[r] = time_it(run_conv, L);
			tsT[r] = time_it(run_sgemm_threads, L);
			tnT[r] = time_it(run_net, L);
		}
		double s1 = flops / median(ts1, R) / 1e9, c1 = flops / median(tc1, R) / 1e9;
		double sT = flops / median(tsT, R) / 1e9, nT = flops / median(tnT, R) / 1e9;
		printf("%-40s %8.1f %8.1f %7.0f%%  %8.1f %8.1f %7.0f%%\n", L->what, s1, c1,
		       100 * c1 / s1, sT, nT, 100 * nT / sT);
	}
	printf("GFLOP/s, medians of %d alternated runs; T = %d threads; ratio = conv / sgemm\n", R,
	       T);
	release(&layers[0]);
	release(&layers[1]);
	net_steps(R, T);
	return 0;
}
