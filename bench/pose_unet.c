/* Speed of the pose UNet of issue 11 in lib/nn (bench/pose_unet.sh runs it beside
 * bench/pose_torch.py, the same network in PyTorch): the network lib/nn/backbone.c describes for
 * kind unet, a 1x128x160 input (quarter-scale gray), 16 filters doubling to 256 at stride 16,
 * batch norm, 4 confidence maps at output stride 2 (4x64x80).
 *
 *   train: a step is forward in training mode, MSE against target maps, backward and an Adam
 *          update on one batch (default 4); the batches are made before the clock starts.
 *   infer: a step is one forward in eval mode (default batch 8).
 *   profile: training steps as train, with nn_net_profile on after the warm-up: prints a line
 *          a layer (name, forward and backward CPU milliseconds a step), then the reduction of
 *          the gradient partials, the loss, nn_net_zero_grad and the Adam step (CPU ms a
 *          step each) and the whole step's CPU ms.
 *   core: prints the OpenBLAS core (kernels) the products run on.
 *   Both print the median step's wall seconds, the CPU seconds (all threads) of the timed steps
 *   divided by their number, the parameter count (trainable floats, padding not counted), and
 *   the median step's CPU seconds (getrusage, user + system: what a loaded machine distorts
 *   least).
 *   video: decodes VIDEO with lib/vision/video.h to gray at 160x128 (FFmpeg's decoder on
 *          DECODERS threads, 0: FFmpeg's choice) and runs the network on batches of 8 frames,
 *          the first FRAMES frames (0: all); prints frames, wall seconds, CPU seconds, and the
 *          wall seconds spent in vid_next.
 *
 * usage: pose_unet train|infer|profile THREADS STEPS [BATCH]
 *        pose_unet core
 *        pose_unet video THREADS VIDEO [FRAMES [DECODERS [BATCH]]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/base.h"
#include "base/blas.h"
#include "core/rng.h"
#include "nn/backbone.h"
#include "nn/nn.h"
#include "vision/video.h"

enum { H = 128, W = 160, NOUT = 4, WARM = 2 };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* user + system CPU seconds of the process (all threads), from getrusage */
static double rusage_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
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

/* trainable floats without the alignment padding: what PyTorch's parameters() count */
static size_t count_params(const struct nn_net *net)
{
	size_t n = 0;
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		if (t->grad)
			n += t->size;
	}
	return n;
}

static int video(struct nn_net *net, int B, const char *path, long long frames, int decoders)
{
	struct vid_opts o = VID_OPTS_INIT;
	struct vid_reader *r = NULL;
	struct vid_frame f;
	struct err e = ERR_INIT;
	size_t px = (size_t)H * W;
	float *x = xmallocarray(px * (size_t)B, sizeof(float));
	double sink = 0, dec = 0, t0 = now(), c0 = cpu_now(), t;
	long long n = 0;
	int k = 1, nb = 0;

	o.pix = VID_GRAY, o.width = W, o.height = H, o.threads = decoders;
	if (vid_open(&r, path, &o, &e) < 0) {
		fprintf(stderr, "pose_unet: %s\n", e.msg);
		free(x);
		return 1;
	}
	while (k == 1 && (!frames || n < frames)) {
		t = now();
		k = vid_next(r, &f, &e);
		dec += now() - t;
		if (k < 0) {
			fprintf(stderr, "pose_unet: %s\n", e.msg);
			break;
		}
		if (k == 1) {
			for (size_t i = 0; i < px; i++)
				x[(size_t)nb * px + i] = (float)f.px[i] * (1.0f / 255);
			nb++;
			n++;
		}
		if (nb == B || (nb && k != 1) || (nb && frames && n == frames)) {
			const float *y = nn_net_forward(net, x, nb, 0);
			sink += y[0];
			nb = 0;
		}
	}
	vid_free(&r);
	free(x);
	if (k < 0)
		return 1;
	printf("%lld %.6f %.6f %.6f\n", n, now() - t0, cpu_now() - c0, dec);
	/* keeps the forwards from being optimized away, where nothing else reads them */
	if (sink != sink)
		fprintf(stderr, "pose_unet: NaN in the output\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct nn_backbone bb;
	struct nn_backbone_opts bo = {.kind = NN_BACKBONE_UNET,
				      .c = 1,
				      .h = H,
				      .w = W,
				      .nout = NOUT,
				      .filters = 16,
				      .filters_rate = 2,
				      .max_stride = 16,
				      .output_stride = 2,
				      .batchnorm = 1};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	int rc = 0;

	if (argc == 2 && !strcmp(argv[1], "core")) {
		printf("%s\n", openblas_get_corename());
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr,
			"usage: pose_unet train|infer|profile THREADS STEPS [BATCH]\n"
			"       pose_unet video THREADS VIDEO [FRAMES [DECODERS [BATCH]]]\n");
		return 2;
	}
	const char *mode = argv[1];
	int prof = !strcmp(mode, "profile"), train = prof || !strcmp(mode, "train");
	int vid = !strcmp(mode, "video");
	int T = (int)strtol(argv[2], NULL, 10), steps = vid ? 1 : (int)strtol(argv[3], NULL, 10);
	int bi = vid ? 6 : 4, B = argc > bi ? (int)strtol(argv[bi], NULL, 10) : train ? 4 : 8;
	if ((!train && !vid && strcmp(mode, "infer")) || T < 1 || steps < 1 || B < 1 || B > 256) {
		fprintf(stderr, "pose_unet: bad arguments\n");
		return 2;
	}
	if (nn_backbone_describe(&bb, &bo, &e) < 0) {
		fprintf(stderr, "pose_unet: %s\n", e.msg);
		nn_backbone_release(&bb);
		return 1;
	}
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = H,
				.w = W,
				.layers = bb.layers,
				.nlayers = bb.nlayers,
				.max_batch = B,
				.threads = T};
	if (nn_net_new(&net, &d, &e) < 0) {
		fprintf(stderr, "pose_unet: %s\n", e.msg);
		nn_backbone_release(&bb);
		return 1;
	}
	nn_net_init(net, 1);
	if (vid) {
		rc = video(net, B, argv[3], argc > 4 ? strtoll(argv[4], NULL, 10) : 0,
			   argc > 5 ? (int)strtol(argv[5], NULL, 10) : 1);
		nn_net_free(&net);
		nn_backbone_release(&bb);
		return rc;
	}

	struct nn_optim o;
	nn_optim_init(&o, NN_ADAM, nn_net_nparams(net));
	struct rng r;
	rng_init(&r, 2);
	int n = WARM + steps;
	size_t nx = (size_t)B * H * W, ny = (size_t)B * nn_net_out_size(net);
	float *x = xmallocarray(nx * (size_t)n, sizeof(float));
	float *tg = xmallocarray(ny * (size_t)n, sizeof(float));
	float *dy = xmallocarray(ny, sizeof(float));
	double *sec = xmallocarray((size_t)steps, sizeof(double)), cpu0 = 0, sink = 0;
	double *csec = xmallocarray((size_t)steps, sizeof(double));
	double ph[3] = {0}, c; /* loss, zero_grad, optimizer: CPU seconds */
	for (size_t i = 0; i < nx * (size_t)n; i++)
		x[i] = (float)rng_uniform(&r);
	for (size_t i = 0; i < ny * (size_t)n; i++)
		tg[i] = (float)rng_uniform(&r);
	for (int s = 0; s < n; s++) {
		if (s == WARM) {
			cpu0 = cpu_now();
			if (prof)
				nn_net_profile(net, 1);
		}
		double t0 = now(), r0 = rusage_cpu();
		const float *y = nn_net_forward(net, x + (size_t)s * nx, B, train);
		if (train) {
			c = cpu_now();
			sink += nn_mse(dy, y, tg + (size_t)s * ny, ny);
			ph[0] += s >= WARM ? cpu_now() - c : 0;
			c = cpu_now();
			nn_net_zero_grad(net);
			ph[1] += s >= WARM ? cpu_now() - c : 0;
			nn_net_backward(net, dy);
			c = cpu_now();
			nn_net_step(net, &o);
			ph[2] += s >= WARM ? cpu_now() - c : 0;
		} else {
			sink += y[0];
		}
		if (s >= WARM) {
			sec[s - WARM] = now() - t0;
			csec[s - WARM] = rusage_cpu() - r0;
		}
	}
	double cpu = (cpu_now() - cpu0) / steps;
	if (prof) {
		double f, b;
		const char *name;
		for (int i = 0; (name = nn_net_profile_get(net, i, &f, &b)); i++)
			printf("%-16s %8.2f %8.2f\n", name, 1e3 * f / steps, 1e3 * b / steps);
		printf("(loss)           %8.2f\n(zero_grad)      %8.2f\n(adam)           %8.2f\n"
		       "(step)           %8.2f\n",
		       1e3 * ph[0] / steps, 1e3 * ph[1] / steps, 1e3 * ph[2] / steps, 1e3 * cpu);
	}
	printf("%.6f %.6f %zu %.6f\n", median(sec, steps), cpu, count_params(net),
	       median(csec, steps));
	if (sink != sink)
		fprintf(stderr, "pose_unet: NaN loss\n");
	nn_optim_release(&o);
	nn_net_free(&net);
	nn_backbone_release(&bb);
	free(x), free(tg), free(dy), free(sec), free(csec);
	return rc;
}
