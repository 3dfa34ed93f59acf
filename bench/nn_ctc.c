/* Training speed of a small CRNN in lib/nn (bench/nn_ctc.sh runs it beside bench/nn_ctc.py, the
 * same network in PyTorch): convolutions with batch norm and pooling over 1x32x128 line images,
 * the map turned into a sequence of 32 steps, a bidirectional LSTM, a per-step classifier, CTC.
 * A step is forward, CTC loss and gradient, backward and an AdamW update on one batch; the
 * batches are made before the clock starts. Prints the median step's wall seconds and the CPU
 * seconds of all timed steps divided by their number.
 *
 * ARCH "ocr" is instead the default network of lib/ocr/crnn (the recognizer of bench/ocr_crnn.sh):
 * 1x32x384 images, the same convolutions, a per-step projection to 128, a bidirectional LSTM
 * of 128, 74 classes at 96 steps, built by ocr_crnn_new.
 *
 * usage: nn_ctc THREADS STEPS [BATCH [ARCH]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "ocr/crnn.h"

enum { MAXLAB = 12 };
static int CLASSES = 80, STEPS_T = 32, H = 32, W = 128;

static const struct nn_layer_desc crnn[] = {
    {.op = NN_CONV2D, .name = "c1", .out = 32, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn1"},
    {.op = NN_RELU},
    {.op = NN_MAXPOOL2D, .k = 2},
    {.op = NN_CONV2D, .name = "c2", .out = 64, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn2"},
    {.op = NN_RELU},
    {.op = NN_MAXPOOL2D, .k = 2},
    {.op = NN_CONV2D, .name = "c3", .out = 96, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn3"},
    {.op = NN_RELU},
    {.op = NN_TO_SEQ},
    {.op = NN_LSTM, .name = "rnn", .out = 128, .bidirectional = 1},
    {.op = NN_CONV1D, .name = "fc", .out = 80, .k = 1}, /* CLASSES */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the process, all threads */
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: nn_ctc THREADS STEPS [BATCH [ARCH]]\n");
		return 2;
	}
	int T = (int)strtol(argv[1], NULL, 10), steps = (int)strtol(argv[2], NULL, 10);
	int B = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 32, warm = 2;
	if (T < 1 || steps < 1 || B < 1 || B > 1024) {
		fprintf(stderr, "nn_ctc: bad arguments\n");
		return 2;
	}
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = H,
				.w = W,
				.layers = crnn,
				.nlayers = (int)(sizeof(crnn) / sizeof(crnn[0])),
				.max_batch = B,
				.threads = T};
	struct nn_net *net = NULL;
	struct ocr_crnn *oc = NULL;
	struct err e = ERR_INIT;
	if (argc > 4 && !strcmp(argv[4], "ocr")) {
		struct ocr_crnn_opts co = {.max_batch = B, .threads = T};
		if (ocr_crnn_new(&oc, &co, &e) < 0) {
			fprintf(stderr, "nn_ctc: %s\n", e.msg);
			return 1;
		}
		net = ocr_crnn_net(oc);
		H = ocr_crnn_opts(oc)->height, W = ocr_crnn_opts(oc)->max_width;
		CLASSES = ocr_crnn_classes(oc), STEPS_T = ocr_crnn_steps(oc);
	} else if (nn_net_new(&net, &d, &e) < 0) {
		fprintf(stderr, "nn_ctc: %s\n", e.msg);
		return 1;
	}
	nn_net_init(net, 1);
	struct nn_optim o;
	nn_optim_init(&o, NN_ADAMW, nn_net_nparams(net));
	struct rng r;
	rng_init(&r, 2);
	int n = warm + steps;
	size_t nx = (size_t)B * H * W;
	float *x = xmallocarray(nx * (size_t)n, sizeof(float));
	int *tg = xmallocarray((size_t)n * B * MAXLAB, sizeof(int));
	int *tl = xmallocarray((size_t)n * B, sizeof(int)),
	    *in = xmallocarray((size_t)B, sizeof(int));
	float *dz = xmallocarray((size_t)B * CLASSES * STEPS_T, sizeof(float));
	double *sec = xmallocarray((size_t)steps, sizeof(double));
	for (size_t i = 0; i < nx * (size_t)n; i++)
		x[i] = (float)rng_uniform(&r);
	for (int s = 0; s < n; s++)
		for (int b = 0; b < B; b++) {
			int len = 4 + (int)rng_below(&r, MAXLAB - 3);
			tl[s * B + b] = len;
			for (int j = 0; j < len; j++)
				tg[((size_t)s * B + b) * MAXLAB + j] =
				    1 + (int)rng_below(&r, CLASSES - 1);
		}
	for (int b = 0; b < B; b++)
		in[b] = STEPS_T;
	double cpu0 = 0;
	for (int s = 0; s < n; s++) {
		if (s == warm)
			cpu0 = cpu_now();
		/* the targets concatenated, as nn_ctc_loss takes them */
		int cat[1024 * MAXLAB], m = 0;
		for (int b = 0; b < B; b++)
			for (int j = 0; j < tl[s * B + b]; j++)
				cat[m++] = tg[((size_t)s * B + b) * MAXLAB + j];
		double t0 = now();
		float loss;
		const float *z = nn_net_forward(net, x + (size_t)s * nx, B, 1);
		if (nn_ctc_loss(&loss, NULL, dz, z, cat, in, tl + s * B, B, CLASSES, STEPS_T, 0,
				NN_REDUCE_MEAN, 1, &e) < 0) {
			fprintf(stderr, "nn_ctc: %s\n", e.msg);
			return 1;
		}
		nn_net_zero_grad(net);
		nn_net_backward(net, dz);
		nn_net_step(net, &o);
		if (s >= warm)
			sec[s - warm] = now() - t0;
	}
	double cpu = (cpu_now() - cpu0) / steps;
	qsort(sec, (size_t)steps, sizeof(double), cmp_double);
	printf("%.6f %.6f\n",
	       steps % 2 ? sec[steps / 2] : (sec[steps / 2 - 1] + sec[steps / 2]) / 2, cpu);
	nn_optim_release(&o);
	if (oc)
		ocr_crnn_free(&oc);
	else
		nn_net_free(&net);
	free(x), free(tg), free(tl), free(in), free(dz), free(sec);
	return 0;
}
