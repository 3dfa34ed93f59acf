/* The network object of lib/nn: two fixed networks against PyTorch (outputs, loss, every
 * gradient, running statistics, optimizer steps; tests/ref/nn_torch.py), bit-identical training
 * for 1, 2 and 3 threads, a small learning task, and shape errors at build time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "store/safetensors.h"
#include "check.h"
#include "nn_ref.h"

static const float *ref(const char *name, int n)
{
	for (int i = 0; i < nn_nrefs; i++)
		if (!strcmp(nn_refs[i].name, name)) {
			if (nn_refs[i].n != n)
				return NULL;
			return nn_refs[i].v;
		}
	return NULL;
}

/* Largest |a - b| / max(1, |b|) over n values. */
static double max_err(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
		if (!(e <= m))
			m = e; /* NaN propagates */
	}
	return m;
}

static void compare(const char *what, const float *got, const char *prefix, const char *name,
		    size_t n)
{
	char key[128];
	snprintf(key, sizeof(key), "%s%s", prefix, name);
	const float *want = ref(key, (int)n);
	if (!want) {
		check(0, "%s: reference %s with %zu values", what, key, n);
		return;
	}
	double e = max_err(got, want, n);
	check(e <= 1e-4, "%s %s (max error %.3g)", what, key, e);
}

/* Every tensor of the net set from "<prefix>init.<name>". */
static void load_init(struct nn_net *net, const char *prefix)
{
	int all = 1;
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		char key[128];
		snprintf(key, sizeof(key), "%sinit.%s", prefix, t->name);
		const float *v = ref(key, (int)t->size);
		if (!v) {
			all = 0;
			continue;
		}
		memcpy(t->data, v, t->size * sizeof(float));
	}
	check(all, "%s: every tensor has a reference value of its size", prefix);
}

static const struct nn_layer_desc net_a[] = {
    {.op = NN_CONV1D, .name = "c1", .out = 4, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn1"},
    {.op = NN_RELU},
    {.op = NN_MAXPOOL1D, .name = "p1", .k = 2},
    {.op = NN_CONV1D, .name = "c2", .out = 4, .k = 3, .pad = 2, .dilation = 2},
    {.op = NN_RELU, .name = "r2"},
    {.op = NN_ADD, .name = "add", .from = "r2", .from2 = "p1"},
    {.op = NN_CONV1D, .name = "c3", .from = "p1", .out = 2, .k = 1},
    {.op = NN_CONCAT, .name = "cat", .from = "add", .from2 = "c3"},
    {.op = NN_UPSAMPLE, .scale = 2, .bilinear = 1},
    {.op = NN_AVGPOOL1D, .k = 2},
    {.op = NN_GAP},
    {.op = NN_DROPOUT, .p = 0},
    {.op = NN_DENSE, .name = "fc", .out = 3},
};

static const struct nn_layer_desc net_b[] = {
    {.op = NN_CONV2D, .name = "c1", .out = 4, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn1"},
    {.op = NN_LEAKY_RELU, .slope = 0.01f},
    {.op = NN_MAXPOOL2D, .name = "mp", .k = 2},
    {.op = NN_CONV2D, .name = "c2", .out = 4, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn2"},
    {.op = NN_RELU, .name = "r2"},
    {.op = NN_ADD, .name = "add", .from = "r2", .from2 = "mp"},
    {.op = NN_CONVT2D, .name = "ct", .out = 2, .k = 2, .stride = 2},
    {.op = NN_UPSAMPLE, .name = "up", .from = "add", .scale = 2, .bilinear = 1},
    {.op = NN_CONCAT, .from = "ct", .from2 = "up"},
    {.op = NN_CONV2D, .name = "c3", .out = 3, .k = 3, .stride = 2, .pad = 1},
    {.op = NN_SIGMOID},
    {.op = NN_AVGPOOL2D, .k = 2, .stride = 2, .pad = 1},
    {.op = NN_AVGPOOL2D, .k = 2, .stride = 1},
    {.op = NN_FLATTEN},
    {.op = NN_DENSE, .name = "fc", .out = 4},
};

static void against_torch(const char *prefix, const struct nn_net_desc *d, int B)
{
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	int ok = nn_net_new(&net, d, &e) == 0;
	check(ok, "%s: network built (%s)", prefix, e.msg);
	if (!ok)
		return;
	load_init(net, prefix);
	size_t in_size, out_size = nn_net_out_size(net);
	const float *ginp, *x;
	nn_net_node(net, "input", NULL, &in_size);
	char key[64];
	snprintf(key, sizeof(key), "%sinput", prefix);
	x = ref(key, (int)(B * in_size));
	check(x != NULL, "%s: input of %d samples", prefix, B);
	if (!x)
		goto out;

	const float *y = nn_net_forward(net, x, B, 1);
	compare("train forward", y, prefix, "out_train", (size_t)B * out_size);
	float *dy = xmallocarray((size_t)B * out_size, sizeof(float)), loss;
	if (!strcmp(prefix, "a.")) {
		int t[4] = {0, 2, 1, 2};
		float w[3] = {1, 2, 0.5f};
		loss = nn_softmax_xent(dy, NULL, y, t, w, B, (int)out_size);
	} else {
		float t[12];
		for (int i = 0; i < 12; i++)
			t[i] = (float)sin(0.37 * i + 1.3 * 13);
		loss = nn_mse(dy, y, t, (size_t)B * out_size);
	}
	compare("loss", &loss, prefix, "loss", 1);
	nn_net_zero_grad(net);
	nn_net_backward(net, dy);
	nn_net_node(net, "input", &ginp, NULL);
	compare("gradient", ginp, prefix, "grad.input", (size_t)B * in_size);
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", t->grad ? "grad" : "train", t->name);
		compare(t->grad ? "gradient" : "running statistic", t->grad ? t->grad : t->data,
			prefix, name, t->size);
	}
	y = nn_net_forward(net, x, B, 0);
	compare("eval forward", y, prefix, "out_eval", (size_t)B * out_size);

	/* a second training pass: every node's gradient starts again from 0 */
	y = nn_net_forward(net, x, B, 1);
	if (!strcmp(prefix, "a.")) {
		int t[4] = {0, 2, 1, 2};
		float w[3] = {1, 2, 0.5f};
		nn_softmax_xent(dy, NULL, y, t, w, B, (int)out_size);
	} else {
		float t[12];
		for (int i = 0; i < 12; i++)
			t[i] = (float)sin(0.37 * i + 1.3 * 13);
		nn_mse(dy, y, t, (size_t)B * out_size);
	}
	nn_net_zero_grad(net);
	nn_net_backward(net, dy);
	compare("second pass, gradient", ginp, prefix, "grad.input", (size_t)B * in_size);
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		char name[128];
		snprintf(name, sizeof(name), "grad.%s", t->name);
		if (t->grad)
			compare("second pass, gradient", t->grad, prefix, name, t->size);
	}
	free(dy);

	/* two steps of each optimizer from the same weights and gradients */
	size_t np = nn_net_nparams(net);
	float *start = xmallocarray(np, sizeof(float));
	memcpy(start, nn_net_params(net), np * sizeof(float));
	const char *names[3] = {"sgd", "adam", "adamw"};
	for (int k = 0; k < 3; k++) {
		struct nn_optim o;
		nn_optim_init(&o, k == 0 ? NN_SGD : k == 1 ? NN_ADAM : NN_ADAMW, np);
		if (k == 0)
			o.lr = 0.1f, o.momentum = 0.9f, o.weight_decay = 1e-2f;
		else
			o.lr = 1e-2f, o.weight_decay = k == 1 ? 1e-2f : 0.1f;
		memcpy(nn_net_params(net), start, np * sizeof(float));
		nn_net_step(net, &o);
		nn_net_step(net, &o);
		for (int i = 0; i < nn_net_ntensors(net); i++) {
			const struct nn_tensor *t = nn_net_tensor(net, i);
			char name[128];
			if (!t->grad)
				continue;
			snprintf(name, sizeof(name), "%s.%s", names[k], t->name);
			compare("two optimizer steps", t->data, prefix, name, t->size);
		}
		nn_optim_release(&o);
	}
	free(start);
out:
	nn_net_free(&net);
}

/* A 2-D network with batch norm and dropout trained a few steps: the weights after it. */
static float *train_steps(int threads, size_t *np)
{
	static const struct nn_layer_desc L[] = {
	    {.op = NN_CONV2D, .name = "c1", .out = 6, .k = 3, .pad = 1},
	    {.op = NN_BATCHNORM, .name = "bn1"},
	    {.op = NN_RELU, .name = "r1"},
	    {.op = NN_CONV2D, .name = "c2", .out = 6, .k = 3, .pad = 1},
	    {.op = NN_ADD, .from2 = "r1"},
	    {.op = NN_MAXPOOL2D, .k = 2},
	    {.op = NN_DROPOUT, .p = 0.3f},
	    {.op = NN_CONV2D, .name = "c3", .out = 4, .k = 3, .stride = 2},
	    {.op = NN_GAP},
	    {.op = NN_DENSE, .name = "fc", .out = 3},
	};
	struct nn_net_desc d = {.dims = 3,
				.c = 2,
				.h = 12,
				.w = 12,
				.layers = L,
				.nlayers = 10,
				.max_batch = 13,
				.threads = 3};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	struct rng r;
	float x[13 * 2 * 144], dy[13 * 3];
	int t[13];
	if (nn_net_new(&net, &d, &e) < 0)
		return NULL;
	nn_net_init(net, 1234);
	nn_net_set_threads(net, threads);
	struct nn_optim o;
	nn_optim_init(&o, NN_ADAMW, nn_net_nparams(net));
	rng_init(&r, 99);
	for (int step = 0; step < 4; step++) {
		int B = step == 3 ? 5 : 13; /* a batch smaller than the chunk count too */
		for (int i = 0; i < B * 2 * 144; i++)
			x[i] = (float)rng_normal(&r);
		for (int i = 0; i < B; i++)
			t[i] = (int)rng_below(&r, 3);
		const float *y = nn_net_forward(net, x, B, 1);
		nn_softmax_xent(dy, NULL, y, t, NULL, B, 3);
		nn_net_zero_grad(net);
		nn_net_backward(net, dy);
		nn_net_step(net, &o);
	}
	nn_optim_release(&o);
	*np = nn_net_nparams(net);
	float *w = xmallocarray(*np + 6, sizeof(float));
	memcpy(w, nn_net_params(net), *np * sizeof(float));
	/* the running statistics are part of the result too */
	memcpy(w + *np, nn_net_find(net, "bn1.running_var")->data, 6 * sizeof(float));
	nn_net_free(&net);
	return w;
}

static void test_determinism(void)
{
	size_t n1 = 0, n2 = 0, n3 = 0;
	float *w1 = train_steps(1, &n1), *w2 = train_steps(2, &n2), *w3 = train_steps(3, &n3);
	check(w1 && w2 && w3 && n1 == n2 && n2 == n3, "determinism: three runs");
	if (w1 && w2 && w3) {
		check(!memcmp(w1, w2, (n1 + 6) * sizeof(float)),
		      "1 and 2 threads: bit-identical weights and running statistics");
		check(!memcmp(w1, w3, (n1 + 6) * sizeof(float)),
		      "1 and 3 threads: bit-identical weights and running statistics");
	}
	free(w1);
	free(w2);
	free(w3);
}

/* nn_net_profile: a row a layer named as its node, then the reduction, CPU seconds that add up
 * to something after a training step on 2 threads, zeros when off */
static void test_profile(void)
{
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = 8,
				.w = 8,
				.layers = net_b,
				.nlayers = (int)ARRAY_SIZE(net_b),
				.max_batch = 4,
				.threads = 2};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	check(nn_net_new(&net, &d, &e) == 0, "profile: network built (%s)", e.msg);
	if (!net)
		return;
	float x[4 * 64], dy[4 * 4];
	for (int i = 0; i < 4 * 64; i++)
		x[i] = (float)sin(i * 0.37);
	for (int i = 0; i < 16; i++)
		dy[i] = 0.1f * (float)(i % 5);
	double f, b, sum = 0, neg = 0;
	nn_net_profile(net, 1);
	for (int s = 0; s < 20; s++) {
		nn_net_forward(net, x, 4, 1);
		nn_net_backward(net, dy);
	}
	const char *name;
	int rows = 0, named = 1;
	for (; (name = nn_net_profile_get(net, rows, &f, &b)); rows++) {
		sum += f + b;
		neg += (f < 0) + (b < 0);
		if (rows == 0)
			named &= !strcmp(name, "c1");
		if (rows == 4)
			named &= !strcmp(name, "c2");
	}
	check(rows == d.nlayers + 1 && named &&
		  !strcmp(nn_net_profile_get(net, d.nlayers, &f, &b), "(reduce)"),
	      "profile: a row a layer, by name, then the reduction");
	check(sum > 0 && neg == 0, "profile: CPU seconds counted (%.3g s)", sum);
	nn_net_profile(net, 0);
	nn_net_profile_get(net, 0, &f, &b);
	check(f == 0 && b == 0, "profile: nothing counted when off");
	nn_net_free(&net);
}

/* Sine against square waves of random frequency, phase and amplitude, with noise. */
static void make_wave(float *x, int *y, int L, struct rng *r)
{
	int square = (int)rng_below(r, 2);
	double f = 2 + 4 * rng_uniform(r), ph = 6.283 * rng_uniform(r), a = 0.5 + rng_uniform(r);
	for (int i = 0; i < L; i++) {
		double s = sin(6.283 * f * i / L + ph);
		if (square)
			s = s >= 0 ? 1 : -1;
		x[i] = (float)(a * s + 0.2 * rng_normal(r));
	}
	*y = square;
}

static void test_learning(void)
{
	static const struct nn_layer_desc L[] = {
	    {.op = NN_CONV1D, .name = "c1", .out = 8, .k = 5, .pad = 2},
	    {.op = NN_BATCHNORM, .name = "bn1"},
	    {.op = NN_RELU},
	    {.op = NN_MAXPOOL1D, .k = 2},
	    {.op = NN_CONV1D, .name = "c2", .out = 8, .k = 5, .pad = 2},
	    {.op = NN_RELU},
	    {.op = NN_GAP},
	    {.op = NN_DENSE, .name = "fc", .out = 2},
	};
	enum { LEN = 64, BATCH = 32 };
	struct nn_net_desc d = {.dims = 2,
				.c = 1,
				.w = LEN,
				.layers = L,
				.nlayers = 8,
				.max_batch = BATCH,
				.threads = 2};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	struct rng r;
	float x[BATCH * LEN], dy[BATCH * 2];
	int t[BATCH], right = 0, total = 0;
	check(nn_net_new(&net, &d, &e) == 0, "learning: network built (%s)", e.msg);
	if (!net)
		return;
	nn_net_init(net, 5);
	struct nn_optim o;
	nn_optim_init(&o, NN_ADAM, nn_net_nparams(net));
	o.lr = 1e-2f;
	rng_init(&r, 3);
	float first = 0, last = 0;
	for (int step = 0; step < 150; step++) {
		for (int i = 0; i < BATCH; i++)
			make_wave(x + i * LEN, &t[i], LEN, &r);
		const float *y = nn_net_forward(net, x, BATCH, 1);
		float loss = nn_softmax_xent(dy, NULL, y, t, NULL, BATCH, 2);
		if (step == 0)
			first = loss;
		last = loss;
		nn_net_zero_grad(net);
		nn_net_backward(net, dy);
		nn_net_step(net, &o);
	}
	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < BATCH; i++)
			make_wave(x + i * LEN, &t[i], LEN, &r);
		const float *y = nn_net_forward(net, x, BATCH, 0);
		for (int i = 0; i < BATCH; i++, total++)
			right += (y[2 * i + 1] > y[2 * i]) == t[i];
	}
	check(last < first / 4, "learning: loss %.3f -> %.3f", (double)first, (double)last);
	check(right >= total * 95 / 100, "learning: sine vs square, %d of %d held-out right", right,
	      total);
	nn_optim_release(&o);
	nn_net_free(&net);
}

static void expect_error(const char *what, const struct nn_layer_desc *L, int n, int dims, int c,
			 int h, int w, int max_batch, const char *msg)
{
	struct nn_net_desc d = {.dims = dims,
				.c = c,
				.h = h,
				.w = w,
				.layers = L,
				.nlayers = n,
				.max_batch = max_batch,
				.threads = 1};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	int rc = nn_net_new(&net, &d, &e);
	check(rc == -1 && net == NULL && e.code == DYN_EUSAGE && !strcmp(e.msg, msg),
	      "bad description, %s: \"%s\"", what, e.msg);
	nn_net_free(&net);
}

static void test_errors(void)
{
	struct nn_layer_desc c2[] = {{.op = NN_CONV2D, .out = 4, .k = 3}};
	expect_error("conv2d on a curve", c2, 1, 2, 3, 1, 16, 4,
		     "nn: layer 0 \"conv2d0\": conv2d needs a (C, H, W) input, got (3, 16)");
	struct nn_layer_desc big[] = {{.op = NN_CONV1D, .name = "c", .out = 4, .k = 9}};
	expect_error("kernel longer than the input", big, 1, 2, 3, 1, 8, 4,
		     "nn: layer 0 \"c\": conv1d with kernel 9, stride 1, pad 0, dilation 1 does "
		     "not fit input (3, 8)");
	struct nn_layer_desc add[] = {{.op = NN_CONV1D, .name = "c", .out = 4, .k = 3},
				      {.op = NN_ADD, .name = "a", .from2 = "input"}};
	expect_error("residual of different shapes", add, 2, 2, 3, 1, 8, 4,
		     "nn: layer 1 \"a\": add needs equal shapes, got (4, 6) and (3, 8)");
	struct nn_layer_desc cat[] = {{.op = NN_MAXPOOL2D, .name = "p", .k = 2},
				      {.op = NN_CONCAT, .name = "j", .from2 = "input"}};
	expect_error("concat of different sizes", cat, 2, 3, 1, 8, 8, 4,
		     "nn: layer 1 \"j\": concat needs equal sizes but for channels, got (1, 4, "
		     "4) and (1, 8, 8)");
	struct nn_layer_desc from[] = {{.op = NN_RELU, .name = "r", .from = "r2"},
				       {.op = NN_RELU, .name = "r2"}};
	expect_error("input from a later layer", from, 2, 1, 5, 1, 1, 4,
		     "nn: layer 0 \"r\": input \"r2\" is not an earlier layer");
	struct nn_layer_desc twice[] = {{.op = NN_RELU, .name = "r"}, {.op = NN_RELU, .name = "r"}};
	expect_error("a name used twice", twice, 2, 1, 5, 1, 1, 4,
		     "nn: layer 1: name \"r\" is used twice");
	struct nn_layer_desc drop[] = {{.op = NN_DROPOUT, .p = 1}};
	expect_error("dropout 1", drop, 1, 1, 5, 1, 1, 4,
		     "nn: layer 0 \"dropout0\": dropout p must be in [0, 1), got 1");
	struct nn_layer_desc pool[] = {{.op = NN_MAXPOOL1D, .k = 2, .pad = 2}};
	expect_error("pooling pad over half the kernel", pool, 1, 2, 1, 1, 8, 4,
		     "nn: layer 0 \"maxpool1d0\": maxpool1d with kernel 2, stride 2, pad 2 does "
		     "not fit input (1, 8) (pad at most half the kernel)");
	struct nn_layer_desc one[] = {{.op = NN_ADD, .name = "a"}};
	expect_error("add without a second input", one, 1, 1, 5, 1, 1, 4,
		     "nn: layer 0 \"a\": add needs a second input");
	expect_error("batch 0", one, 1, 1, 5, 1, 1, 0,
		     "nn: max batch must be in 1..16777216, got 0");
	struct nn_layer_desc huge[] = {{.op = NN_DENSE, .name = "fc", .out = 1 << 20}};
	expect_error("a dense layer of 2^30 weights", huge, 1, 1, 1000, 1, 1, 4,
		     "nn: layer 0 \"fc\": dense is too large");
	struct nn_layer_desc up[] = {{.op = NN_UPSAMPLE, .name = "up", .scale = 64}};
	expect_error("an upsampling beyond the size bound", up, 1, 3, 64, 512, 512, 1,
		     "nn: layer 0 \"up\": output too large");
	struct nn_layer_desc bad_op[] = {{.op = (enum nn_op)99}};
	expect_error("unknown operation", bad_op, 1, 1, 5, 1, 1, 4,
		     "nn: layer 0: unknown operation 99");
}

static void test_tensors(void)
{
	static const struct nn_layer_desc L[] = {
	    {.op = NN_CONV1D, .name = "conv1", .out = 4, .k = 3},
	    {.op = NN_BATCHNORM, .name = "bn1"},
	    {.op = NN_FLATTEN},
	    {.op = NN_DENSE, .name = "fc", .out = 2, .no_bias = 1},
	};
	struct nn_net_desc d = {
	    .dims = 2, .c = 3, .w = 10, .layers = L, .nlayers = 4, .max_batch = 2};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	check(nn_net_new(&net, &d, &e) == 0, "tensors: built");
	if (!net)
		return;
	const char *names[] = {"conv1.weight",	   "conv1.bias",      "bn1.weight", "bn1.bias",
			       "bn1.running_mean", "bn1.running_var", "fc.weight"};
	int n = nn_net_ntensors(net), ok = n == 7;
	for (int i = 0; ok && i < n; i++)
		ok = !strcmp(nn_net_tensor(net, i)->name, names[i]);
	check(ok, "tensors in state_dict order (%d)", n);
	const struct nn_tensor *w = nn_net_find(net, "conv1.weight");
	check(w && w->ndim == 3 && w->shape[0] == 4 && w->shape[1] == 3 && w->shape[2] == 3 &&
		  w->grad,
	      "conv1.weight is (4, 3, 3) and trainable");
	const struct nn_tensor *rv = nn_net_find(net, "bn1.running_var");
	check(rv && !rv->grad && rv->data[0] == 1, "running variance: a buffer starting at 1");
	const struct nn_tensor *fc = nn_net_find(net, "fc.weight");
	check(fc && fc->shape[0] == 2 && fc->shape[1] == 32, "fc.weight is (2, 32)");
	/* PyTorch's default bound 1/sqrt(fan_in), reached closely by 36 draws */
	nn_net_init(net, 77);
	double mx = 0;
	for (size_t i = 0; i < w->size; i++)
		mx = fmax(mx, fabs(w->data[i]));
	check(mx <= 1 / sqrt(9.0) && mx > 0.8 / sqrt(9.0), "conv init within 1/sqrt(fan_in) (%g)",
	      mx);
	float first = w->data[0];
	nn_net_init(net, 78);
	check(w->data[0] != first, "another seed, other weights");
	nn_net_init(net, 77);
	check(w->data[0] == first, "the same seed, the same weights");
	check(nn_net_forward(net, (float[60]){0}, 3, 0) == NULL,
	      "a batch over the maximum refused");

	size_t np = nn_net_nparams(net);
	float *mask = xmallocarray(np, sizeof(float));
	nn_net_decay_mask(net, mask);
	const float *P = nn_net_params(net);
	const struct nn_tensor *cb = nn_net_find(net, "conv1.bias");
	const struct nn_tensor *g = nn_net_find(net, "bn1.weight");
	double on = 0;
	for (size_t i = 0; i < np; i++)
		on += mask[i];
	check(mask[w->data - P] == 1 && mask[fc->data - P + 63] == 1 && mask[cb->data - P] == 0 &&
		  mask[g->data - P] == 0 && on == 36 + 64,
	      "decay mask: conv and dense weights only (%g set)", on);
	free(mask);

	/* the state kept at the best epoch and put back */
	float x[60], y1[4];
	for (int i = 0; i < 60; i++)
		x[i] = (float)cos(0.3 * i);
	nn_net_forward(net, x, 2, 1);
	float *state = xmallocarray(nn_net_state_size(net), sizeof(float));
	nn_net_get_state(net, state);
	memcpy(y1, nn_net_forward(net, x, 2, 0), sizeof(y1));
	nn_net_init(net, 5);
	nn_net_set_state(net, state);
	check(nn_net_state_size(net) > np && !memcmp(nn_net_forward(net, x, 2, 0), y1, sizeof(y1)),
	      "state: parameters and running statistics put back");
	free(state);
	nn_net_free(&net);
}

/* Flatten of the input itself, without the input's gradient: the dense weight's gradient is
 * sum over samples of dout x input. */
static void test_flatten_input(void)
{
	static const struct nn_layer_desc L[] = {{.op = NN_FLATTEN},
						 {.op = NN_DENSE, .name = "fc", .out = 2}};
	struct nn_net_desc d = {.dims = 3,
				.c = 2,
				.h = 2,
				.w = 3,
				.layers = L,
				.nlayers = 2,
				.max_batch = 3,
				.threads = 2};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	float x[3 * 12], dy[6] = {1, -2, 0.5f, 3, -1, 0.25f};
	const float *g;
	for (int i = 0; i < 36; i++)
		x[i] = (float)i / 10;
	if (nn_net_new(&net, &d, &e) < 0) {
		check(0, "flatten of the input: built (%s)", e.msg);
		return;
	}
	nn_net_forward(net, x, 3, 1);
	nn_net_backward(net, dy);
	const struct nn_tensor *w = nn_net_find(net, "fc.weight");
	double err = 0;
	for (int o = 0; o < 2; o++)
		for (int i = 0; i < 12; i++) {
			double want = 0;
			for (int b = 0; b < 3; b++)
				want += dy[b * 2 + o] * x[b * 12 + i];
			err = fmax(err, fabs(w->grad[o * 12 + i] - want));
		}
	check(err < 1e-5, "flatten of the input: dense weight gradient (max error %.3g)", err);
	check(nn_net_node(net, "input", &g, NULL) && g == NULL,
	      "no input gradient unless asked for");
	nn_net_free(&net);
}

/* Eval mode runs batch norm inside the chunks; its forward and backward through the network
 * equal the layer functions' in eval mode. */
static void test_bn_eval(void)
{
	static const struct nn_layer_desc L[] = {{.op = NN_BATCHNORM, .name = "bn"}};
	struct nn_net_desc d = {.dims = 2,
				.c = 3,
				.w = 5,
				.layers = L,
				.nlayers = 1,
				.max_batch = 4,
				.threads = 2,
				.input_grad = 1};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	float x[60], dy[60], y[60], dx[60] = {0}, dg[3] = {0}, db[3] = {0}, m[3], r[3];
	const float *gx;
	if (nn_net_new(&net, &d, &e) < 0) {
		check(0, "eval batch norm: built (%s)", e.msg);
		return;
	}
	for (int i = 0; i < 60; i++)
		x[i] = (float)sin(0.7 * i) * 3, dy[i] = (float)cos(0.3 * i);
	float *g = nn_net_find(net, "bn.weight")->data, *b = nn_net_find(net, "bn.bias")->data;
	float *rm = nn_net_find(net, "bn.running_mean")->data;
	float *rv = nn_net_find(net, "bn.running_var")->data;
	for (int c = 0; c < 3; c++)
		g[c] = 1.5f - 0.2f * (float)c, b[c] = 0.1f * (float)c, rm[c] = 0.3f * (float)c,
		rv[c] = 0.5f + (float)c;
	const float *out = nn_net_forward(net, x, 4, 0);
	nn_batchnorm_forward(y, m, r, x, g, b, rm, rv, 4, 3, 5, 0.1f, 1e-5f, 0);
	check(!memcmp(out, y, sizeof(y)), "eval batch norm: the network's output = the layer's");
	nn_net_backward(net, dy);
	nn_batchnorm_backward(dx, dg, db, dy, x, m, r, g, 4, 3, 5, 0);
	nn_net_node(net, "input", &gx, NULL);
	check(!memcmp(gx, dx, sizeof(dx)) && !memcmp(nn_net_find(net, "bn.weight")->grad, dg, 12),
	      "eval batch norm: the network's gradients = the layer's");
	nn_net_free(&net);
}

/* The named tensors written with lib/store/safetensors.h and read into another network give
 * the same outputs: what a model kind's save and load do. */
static void test_safetensors(void)
{
	static const struct nn_layer_desc L[] = {
	    {.op = NN_CONV2D, .name = "conv1", .out = 3, .k = 3, .pad = 1},
	    {.op = NN_BATCHNORM, .name = "bn1"},
	    {.op = NN_RELU},
	    {.op = NN_GAP},
	    {.op = NN_DENSE, .name = "fc", .out = 2},
	};
	struct nn_net_desc d = {
	    .dims = 3, .c = 1, .h = 6, .w = 6, .layers = L, .nlayers = 5, .max_batch = 4};
	struct nn_net *a = NULL, *b = NULL;
	struct err e = ERR_INIT;
	struct st_file f, g;
	struct strbuf img = STRBUF_INIT;
	float x[4 * 36], ya[8];
	int ok = 1;
	for (int i = 0; i < 4 * 36; i++)
		x[i] = (float)sin(0.37 * i);
	if (nn_net_new(&a, &d, &e) < 0 || nn_net_new(&b, &d, &e) < 0) {
		check(0, "safetensors: networks built (%s)", e.msg);
		goto out;
	}
	nn_net_init(a, 3);
	nn_net_init(b, 4);
	nn_net_forward(a, x, 4, 1); /* running statistics move away from 0 and 1 */
	memcpy(ya, nn_net_forward(a, x, 4, 0), sizeof(ya));
	st_init(&f);
	st_init(&g);
	for (int i = 0; i < nn_net_ntensors(a); i++) {
		const struct nn_tensor *t = nn_net_tensor(a, i);
		st_add(&f, t->name, ST_F32, (size_t)t->ndim, t->shape, t->data);
	}
	st_serialize(&f, &img);
	ok = st_parse(&g, img.buf, img.len, &e) == 0;
	for (int i = 0; ok && i < nn_net_ntensors(b); i++) {
		const struct nn_tensor *t = nn_net_tensor(b, i);
		const struct st_tensor *s = st_get(&g, t->name, ST_F32, (size_t)t->ndim, &e);
		ok = s && !memcmp(s->shape, t->shape, sizeof(size_t) * (size_t)t->ndim);
		if (ok)
			memcpy(t->data, s->data, t->size * sizeof(float));
	}
	check(ok, "safetensors: every tensor read back by name and shape (%s)", e.msg);
	check(ok && !memcmp(nn_net_forward(b, x, 4, 0), ya, sizeof(ya)),
	      "safetensors: the network read back gives the same outputs");
	st_release(&f);
	st_release(&g);
	strbuf_release(&img);
out:
	nn_net_free(&a);
	nn_net_free(&b);
}

int main(void)
{
	struct nn_net_desc a = {.dims = 2,
				.c = 3,
				.w = 16,
				.layers = net_a,
				.nlayers = 14,
				.max_batch = 4,
				.threads = 2,
				.input_grad = 1};
	struct nn_net_desc b = {.dims = 3,
				.c = 2,
				.h = 8,
				.w = 8,
				.layers = net_b,
				.nlayers = 17,
				.max_batch = 3,
				.threads = 2,
				.input_grad = 1};
	against_torch("a.", &a, 4);
	against_torch("b.", &b, 3);
	test_determinism();
	test_profile();
	test_learning();
	test_errors();
	test_tensors();
	test_safetensors();
	test_flatten_input();
	test_bn_eval();
	return check_done();
}
