/* Backbones for confidence maps (lib/nn/backbone.c): torchvision's resnet18, resnet34, resnet50,
 * vgg16 encoders and mobilenet_v2's, built under torchvision's tensor names, give PyTorch's
 * features on formula weights (tests/ref/backbone_torch.py); every backbone builds to the right
 * output shape and lowers an MSE loss on blob targets in a few steps; bad settings are refused with
 * a reason. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "nn/backbone.h"
#include "nn/nn.h"
#include "models/pretrained.h"
#include "store/safetensors.h"
#include "check.h"
#include "backbone_ref.h"

/* The formula of tests/ref/backbone_torch.py. */
static float formula(size_t i, int k, double scale, double offset)
{
	return (float)(offset + scale * sin(0.37 * (double)i + 1.3 * k));
}

static void fill(struct nn_net *net)
{
	for (int t = 0; t < nn_net_ntensors(net); t++) {
		const struct nn_tensor *x = nn_net_tensor(net, t);
		const char *dot = strrchr(x->name, '.');
		int k = 0;
		for (const char *p = x->name; *p; p++)
			k += (unsigned char)*p;
		k %= 97;
		for (size_t i = 0; i < x->size; i++) {
			float v;
			if (!strcmp(dot, ".weight") && x->ndim == 4)
				v = formula(
				    i, k,
				    1.5 / sqrt((double)(x->shape[1] * x->shape[2] * x->shape[3])),
				    0);
			else if (!strcmp(dot, ".weight"))
				v = formula(i, k, 0.1, 1);
			else if (!strcmp(dot, ".running_var"))
				v = formula(i, k, 0.5, 1);
			else
				v = formula(i, k, 0.1, 0);
			x->data[i] = v;
		}
	}
}

static void encoder_vs_torch(enum nn_encoder enc, int size, const float *want, size_t n)
{
	struct nn_backbone bb;
	struct nn_backbone_opts o = {.kind = NN_BACKBONE_ENCODER,
				     .encoder = enc,
				     .c = 3,
				     .h = size,
				     .w = size,
				     .encoder_only = 1};
	struct err e = ERR_INIT;
	struct nn_net *net = NULL;
	float *x = xmallocarray((size_t)3 * size * size, sizeof(float));
	int foreign = 0;

	check(nn_backbone_describe(&bb, &o, &e) == 0, "%s describes: %s", nn_encoder_name(enc),
	      e.msg);
	struct nn_net_desc d = {.dims = 3,
				.c = 3,
				.h = size,
				.w = size,
				.layers = bb.layers,
				.nlayers = bb.nlayers,
				.max_batch = 1,
				.threads = 2};
	check(nn_net_new(&net, &d, &e) == 0, "%s builds: %s", nn_encoder_name(enc), e.msg);
	if (!net)
		goto out;
	check((size_t)bb.out_c * bb.out_h * bb.out_w == n && nn_net_out_size(net) == n,
	      "%s: %dx%dx%d features", nn_encoder_name(enc), bb.out_c, bb.out_h, bb.out_w);
	for (int t = 0; t < nn_net_ntensors(net); t++)
		foreign += !nn_backbone_is_encoder_tensor(&bb, nn_net_tensor(net, t)->name);
	check(!foreign, "%s: every tensor is the encoder's, under torchvision's name (%d not)",
	      nn_encoder_name(enc), foreign);
	fill(net);
	for (size_t i = 0; i < (size_t)3 * size * size; i++)
		x[i] = formula(i, 7, 1, 0);
	if (nn_net_out_size(net) == n) {
		const float *y = nn_net_forward(net, x, 1, 0);
		double m = 0;
		for (size_t i = 0; i < n; i++) {
			double err =
			    fabs((double)y[i] - want[i]) / fmax(1.0, fabs((double)want[i]));
			if (!(err <= m))
				m = err;
		}
		check(m <= 1e-4, "%s forward equals torchvision's (max relative error %.3g)",
		      nn_encoder_name(enc), m);
	}
out:
	nn_net_free(&net);
	nn_backbone_release(&bb);
	free(x);
}

/* Trains o's network a few Adam steps on a Gaussian blob a channel; returns the loss ratio
 * last / first, or -1 when it does not build or has the wrong shape. */
static double train_blobs(const struct nn_backbone_opts *o, int steps, const char *what)
{
	struct nn_backbone bb;
	struct err e = ERR_INIT;
	struct nn_net *net = NULL;
	struct nn_optim opt;
	const int B = 2, os = o->output_stride ? o->output_stride : 1;
	size_t in = (size_t)o->c * o->h * o->w;
	double first = 0, last = 0;

	if (nn_backbone_describe(&bb, o, &e) < 0) {
		check(0, "%s describes: %s", what, e.msg);
		nn_backbone_release(&bb);
		return -1;
	}
	check(bb.out_c == o->nout && bb.out_h == o->h / os && bb.out_w == o->w / os,
	      "%s: output %dx%dx%d for stride %d", what, bb.out_c, bb.out_h, bb.out_w, os);
	struct nn_net_desc d = {.dims = 3,
				.c = o->c,
				.h = o->h,
				.w = o->w,
				.layers = bb.layers,
				.nlayers = bb.nlayers,
				.max_batch = B,
				.threads = 2};
	if (nn_net_new(&net, &d, &e) < 0) {
		check(0, "%s builds: %s", what, e.msg);
		nn_backbone_release(&bb);
		return -1;
	}
	nn_net_init(net, 1);
	size_t out = nn_net_out_size(net);
	float *x = xcalloc((size_t)B * in, sizeof(float)),
	      *t = xcalloc((size_t)B * out, sizeof(float));
	float *g = xcalloc((size_t)B * out, sizeof(float));
	/* a bright square in the image, and a Gaussian at its centre in each map */
	for (int b = 0; b < B; b++) {
		int cx = o->w / 4 + b * o->w / 3, cy = o->h / 3 + b * o->h / 4;
		for (int c = 0; c < o->c; c++)
			for (int y = cy - 2; y <= cy + 2; y++)
				for (int xx = cx - 2; xx <= cx + 2; xx++)
					x[(size_t)b * in + ((size_t)c * o->h + y) * o->w + xx] = 1;
		for (int k = 0; k < o->nout; k++)
			for (int y = 0; y < bb.out_h; y++)
				for (int xx = 0; xx < bb.out_w; xx++) {
					double dx = (xx + 0.5) * os - cx - k,
					       dy = (y + 0.5) * os - cy;
					t[(size_t)b * out + ((size_t)k * bb.out_h + y) * bb.out_w +
					  xx] = (float)exp(-(dx * dx + dy * dy) / (2 * 3.0 * 3.0));
				}
	}
	nn_optim_init(&opt, NN_ADAM, nn_net_nparams(net));
	opt.lr = 3e-3f;
	for (int s = 0; s < steps; s++) {
		const float *y = nn_net_forward(net, x, B, 1);
		double loss = nn_mse(g, y, t, (size_t)B * out);
		if (s == 0)
			first = loss;
		last = loss;
		nn_net_zero_grad(net);
		nn_net_backward(net, g);
		nn_net_step(net, &opt);
	}
	nn_optim_release(&opt);
	nn_net_free(&net);
	nn_backbone_release(&bb);
	free(x);
	free(t);
	free(g);
	return first > 0 ? last / first : -1;
}

static void test_backbones(void)
{
	struct nn_backbone_opts unet = {.kind = NN_BACKBONE_UNET,
					.c = 1,
					.h = 32,
					.w = 32,
					.nout = 2,
					.filters = 4,
					.max_stride = 8,
					.output_stride = 2,
					.batchnorm = 1};
	double r = train_blobs(&unet, 30, "unet");
	check(r >= 0 && r < 0.5, "unet: 30 steps lower the loss (ratio %.3f)", r);

	struct nn_backbone_opts leap = unet;
	leap.kind = NN_BACKBONE_LEAP;
	leap.output_stride = 1;
	leap.batchnorm = 0;
	r = train_blobs(&leap, 30, "leap");
	check(r >= 0 && r < 0.9, "leap: 30 steps lower the loss (ratio %.3f)", r);

	struct nn_backbone_opts hg = {.kind = NN_BACKBONE_HOURGLASS,
				      .c = 1,
				      .h = 32,
				      .w = 32,
				      .nout = 2,
				      .filters = 4,
				      .max_stride = 16,
				      .output_stride = 4};
	r = train_blobs(&hg, 30, "hourglass");
	check(r >= 0 && r < 0.9, "hourglass: 30 steps lower the loss (ratio %.3f)", r);

	struct nn_backbone_opts enc = {.kind = NN_BACKBONE_ENCODER,
				       .encoder = NN_ENCODER_RESNET18,
				       .c = 3,
				       .h = 32,
				       .w = 32,
				       .nout = 2,
				       .filters = 16,
				       .output_stride = 4};
	r = train_blobs(&enc, 8, "resnet18 encoder-decoder");
	check(r >= 0 && r < 1, "resnet18 encoder-decoder: 8 steps lower the loss (ratio %.3f)", r);
	enc.encoder = NN_ENCODER_MOBILENET_V2;
	enc.output_stride = 2;
	r = train_blobs(&enc, 8, "mobilenetv2 encoder-decoder");
	check(r >= 0 && r < 1, "mobilenetv2 encoder-decoder: 8 steps lower the loss (ratio %.3f)",
	      r);
}

static struct nn_net *resnet18_net(struct nn_backbone *bb, int size)
{
	struct nn_backbone_opts o = {.kind = NN_BACKBONE_ENCODER,
				     .encoder = NN_ENCODER_RESNET18,
				     .c = 3,
				     .h = size,
				     .w = size,
				     .encoder_only = 1};
	struct err e = ERR_INIT;
	struct nn_net *net = NULL;
	if (nn_backbone_describe(bb, &o, &e) < 0)
		return NULL;
	struct nn_net_desc d = {.dims = 3,
				.c = 3,
				.h = size,
				.w = size,
				.layers = bb->layers,
				.nlayers = bb->nlayers,
				.max_batch = 1,
				.threads = 1};
	nn_net_new(&net, &d, &e);
	return net;
}

/* A state dict as torchvision saves it (the encoder, a classifier, num_batches_tracked),
 * through the safetensors bytes, loads by name; a missing or misshapen tensor is named. */
static void test_pretrained(void)
{
	struct nn_backbone bb, bb2;
	struct nn_net *src = resnet18_net(&bb, 32), *dst = resnet18_net(&bb2, 32);
	struct st_file f, g;
	struct strbuf bytes = STRBUF_INIT;
	struct err e = ERR_INIT;
	float x[3 * 32 * 32], *want = NULL;
	static int64_t tracked = 7;
	static float fc[10 * 512];
	size_t one = 1, fcs[2] = {10, 512};

	if (!src || !dst) {
		check(0, "resnet18 builds");
		goto out;
	}
	fill(src);
	nn_net_init(dst, 3);
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		x[i] = formula(i, 7, 1, 0);
	want = xmallocarray(nn_net_out_size(src), sizeof(float));
	memcpy(want, nn_net_forward(src, x, 1, 0), nn_net_out_size(src) * sizeof(float));
	st_init(&f);
	for (int i = 0; i < nn_net_ntensors(src); i++) {
		const struct nn_tensor *t = nn_net_tensor(src, i);
		st_add(&f, t->name, ST_F32, (size_t)t->ndim, t->shape, t->data);
	}
	st_add(&f, "bn1.num_batches_tracked", ST_I64, 1, &one, &tracked);
	st_add(&f, "fc.weight", ST_F32, 2, fcs, fc);
	st_serialize(&f, &bytes);
	st_init(&g);
	check(st_parse(&g, bytes.buf, bytes.len, &e) == 0, "state dict bytes parse: %s", e.msg);
	int n = pretrained_load(dst, &bb2, &g, "r18.safetensors", "resnet18", &e);
	check(n == nn_net_ntensors(dst), "every encoder tensor loaded (%d): %s", n, e.msg);
	const float *y = nn_net_forward(dst, x, 1, 0);
	check(!memcmp(y, want, nn_net_out_size(dst) * sizeof(float)),
	      "the loaded encoder computes what the saved one did");
	st_release(&g);

	/* a conv1 for gray pictures, and a state dict without layer4 */
	size_t gray[4] = {64, 1, 7, 7};
	st_add(&f, "conv1.weight", ST_F32, 4, gray, fc);
	strbuf_reset(&bytes);
	st_serialize(&f, &bytes);
	st_init(&g);
	st_parse(&g, bytes.buf, bytes.len, &e);
	err_clear(&e);
	check(pretrained_load(dst, &bb2, &g, "r18.safetensors", "resnet18", &e) < 0 &&
		  !strcmp(e.msg, "r18.safetensors: tensor \"conv1.weight\" is 64x1x7x7, the "
				 "resnet18 encoder needs 64x3x7x7"),
	      "a misshapen tensor is named with both shapes: %s", e.msg);
	st_release(&g);
	st_release(&f);
	st_init(&f);
	st_add(&f, "fc.weight", ST_F32, 2, fcs, fc);
	strbuf_reset(&bytes);
	st_serialize(&f, &bytes);
	st_init(&g);
	st_parse(&g, bytes.buf, bytes.len, &e);
	err_clear(&e);
	check(pretrained_load(dst, &bb2, &g, "fc.safetensors", "resnet18", &e) < 0 &&
		  strstr(e.msg, "fc.safetensors: no tensor \"conv1.weight\": not a torchvision "
				"resnet18 state dict"),
	      "a file without the encoder is named: %s", e.msg);
	st_release(&g);
	st_release(&f);
out:
	strbuf_release(&bytes);
	free(want);
	nn_net_free(&src);
	nn_net_free(&dst);
	nn_backbone_release(&bb);
	nn_backbone_release(&bb2);
}

static void test_errors(void)
{
	struct nn_backbone bb;
	struct err e = ERR_INIT;
	struct nn_backbone_opts o = {.kind = NN_BACKBONE_UNET,
				     .c = 1,
				     .h = 100,
				     .w = 64,
				     .nout = 2,
				     .max_stride = 16,
				     .output_stride = 2};
	check(nn_backbone_describe(&bb, &o, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "input 64x100: the backbone needs sides that divide by its "
				"deepest stride, 16"),
	      "a side that does not divide by the stride: %s", e.msg);
	nn_backbone_release(&bb);
	err_clear(&e);
	o.h = 64;
	o.output_stride = 3;
	check(nn_backbone_describe(&bb, &o, &e) < 0 &&
		  strstr(e.msg, "output stride 3: expected a power of 2 up to 16"),
	      "output stride 3: %s", e.msg);
	nn_backbone_release(&bb);
	err_clear(&e);
	o.output_stride = 32;
	check(nn_backbone_describe(&bb, &o, &e) < 0 && strstr(e.msg, "output stride 32"),
	      "output stride deeper than the network: %s", e.msg);
	nn_backbone_release(&bb);
	err_clear(&e);
	o.kind = NN_BACKBONE_ENCODER;
	o.output_stride = 4;
	check(nn_backbone_describe(&bb, &o, &e) < 0 &&
		  strstr(e.msg, "the resnet18 encoder takes 3 channels, not 1"),
	      "a gray input to a torchvision encoder: %s", e.msg);
	nn_backbone_release(&bb);
	enum nn_encoder enc;
	enum nn_backbone_kind k;
	check(nn_encoder_parse("resnet50", &enc) == 0 && enc == NN_ENCODER_RESNET50 &&
		  nn_encoder_parse("mobilenet", &enc) < 0 && nn_backbone_parse("leap", &k) == 0 &&
		  k == NN_BACKBONE_LEAP,
	      "names parse");
}

int main(void)
{
	encoder_vs_torch(NN_ENCODER_RESNET18, 64, backbone_ref_resnet18,
			 ARRAY_SIZE(backbone_ref_resnet18));
	encoder_vs_torch(NN_ENCODER_RESNET34, 32, backbone_ref_resnet34,
			 ARRAY_SIZE(backbone_ref_resnet34));
	encoder_vs_torch(NN_ENCODER_RESNET50, 32, backbone_ref_resnet50,
			 ARRAY_SIZE(backbone_ref_resnet50));
	encoder_vs_torch(NN_ENCODER_VGG16, 64, backbone_ref_vgg16, ARRAY_SIZE(backbone_ref_vgg16));
	encoder_vs_torch(NN_ENCODER_MOBILENET_V2, 32, backbone_ref_mobilenetv2,
			 ARRAY_SIZE(backbone_ref_mobilenetv2));
	test_backbones();
	test_pretrained();
	test_errors();
	return check_done();
}
