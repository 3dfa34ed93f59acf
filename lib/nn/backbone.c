/* Backbone descriptions (see backbone.h). Each builder walks the network once, tracking the
 * shape of the node it is at, and names every layer: torchvision's names for its encoders, so
 * that "layer1.0.conv1.weight" is the tensor a torchvision state dict calls so. */
#include <stdarg.h>
#include <string.h>

#include "base/base.h"
#include "nn/backbone.h"

/* A node of the graph being built: its name and shape (C, H, W). */
struct node {
	const char *name;
	int c, h, w;
};

static const char *fmt_name(struct nn_backbone *bb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *fmt_name(struct nn_backbone *bb, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strv_push(&bb->names, buf, strlen(buf));
	return bb->names.v[bb->names.n - 1];
}

static struct node push(struct nn_backbone *bb, struct nn_layer_desc d, struct node out)
{
	ALLOC_GROW(bb->layers, (size_t)bb->nlayers + 1, bb->alloc);
	bb->layers[bb->nlayers++] = d;
	out.name = d.name;
	return out;
}

static struct node conv(struct nn_backbone *bb, struct node x, const char *name, int out, int k,
			int stride, int pad, int bias)
{
	struct nn_layer_desc d = {.op = NN_CONV2D,
				  .name = name,
				  .from = x.name,
				  .out = out,
				  .k = k,
				  .stride = stride,
				  .pad = pad,
				  .no_bias = !bias};
	struct node y = {NULL, out, (x.h + 2 * pad - k) / stride + 1,
			 (x.w + 2 * pad - k) / stride + 1};
	return push(bb, d, y);
}

static struct node simple(struct nn_backbone *bb, struct node x, enum nn_op op, const char *name)
{
	struct nn_layer_desc d = {.op = op, .name = name, .from = x.name};
	return push(bb, d, x);
}

static struct node maxpool(struct nn_backbone *bb, struct node x, const char *name, int k,
			   int stride, int pad)
{
	struct nn_layer_desc d = {
	    .op = NN_MAXPOOL2D, .name = name, .from = x.name, .k = k, .stride = stride, .pad = pad};
	struct node y = {NULL, x.c, (x.h + 2 * pad - k) / stride + 1,
			 (x.w + 2 * pad - k) / stride + 1};
	return push(bb, d, y);
}

static struct node upsample(struct nn_backbone *bb, struct node x, const char *name, int bilinear)
{
	struct nn_layer_desc d = {
	    .op = NN_UPSAMPLE, .name = name, .from = x.name, .scale = 2, .bilinear = bilinear};
	struct node y = {NULL, x.c, x.h * 2, x.w * 2};
	return push(bb, d, y);
}

static struct node join(struct nn_backbone *bb, enum nn_op op, struct node a, struct node b,
			const char *name)
{
	struct nn_layer_desc d = {.op = op, .name = name, .from = a.name, .from2 = b.name};
	struct node y = {NULL, op == NN_CONCAT ? a.c + b.c : a.c, a.h, a.w};
	return push(bb, d, y);
}

/* conv 3x3 (+ batch norm) + ReLU, named prefix.convI / prefix.bnI / prefix.reluI */
static struct node conv_block(struct nn_backbone *bb, struct node x, const char *prefix, int i,
			      int filters, int batchnorm)
{
	x = conv(bb, x, fmt_name(bb, "%s.conv%d", prefix, i), filters, 3, 1, 1, !batchnorm);
	if (batchnorm)
		x = simple(bb, x, NN_BATCHNORM, fmt_name(bb, "%s.bn%d", prefix, i));
	return simple(bb, x, NN_RELU, fmt_name(bb, "%s.relu%d", prefix, i));
}

static int log2i(int v)
{
	int k = 0;
	while (v > 1) {
		v >>= 1;
		k++;
	}
	return k;
}

static int level_filters(const struct nn_backbone_opts *o, int filters, int level)
{
	double f = filters;
	for (int i = 0; i < level; i++)
		f *= o->filters_rate;
	return f < 1 ? 1 : (int)(f + 0.5);
}

/* ---- UNet and LEAP ---- */

static struct node unet(struct nn_backbone *bb, const struct nn_backbone_opts *o, struct node x)
{
	int leap = o->kind == NN_BACKBONE_LEAP, depth = log2i(o->max_stride);
	int per = leap ? 3 : 2, f0 = o->filters ? o->filters : leap ? 32 : 16;
	struct node skip[16];
	for (int i = 0; i < depth; i++) {
		const char *p = fmt_name(bb, "down%d", i);
		for (int j = 0; j < per; j++)
			x = conv_block(bb, x, p, j, level_filters(o, f0, i), o->batchnorm);
		skip[i] = x;
		x = maxpool(bb, x, fmt_name(bb, "down%d.pool", i), 2, 2, 0);
	}
	for (int j = 0; j < per; j++)
		x = conv_block(bb, x, "middle", j, level_filters(o, f0, depth), o->batchnorm);
	for (int i = depth - 1; i >= log2i(o->output_stride); i--) {
		const char *p = fmt_name(bb, "up%d", i);
		x = upsample(bb, x, fmt_name(bb, "up%d.upsample", i), 1);
		if (!leap)
			x = join(bb, NN_CONCAT, x, skip[i], fmt_name(bb, "up%d.concat", i));
		for (int j = 0; j < 2; j++)
			x = conv_block(bb, x, p, j, level_filters(o, f0, i), o->batchnorm);
	}
	return x;
}

/* ---- stacked hourglass ---- */

/* conv-bn-relu, conv-bn, + x, relu: channels kept */
static struct node residual(struct nn_backbone *bb, struct node x, const char *p)
{
	struct node y = conv(bb, x, fmt_name(bb, "%s.conv1", p), x.c, 3, 1, 1, 0);
	y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "%s.bn1", p));
	y = simple(bb, y, NN_RELU, fmt_name(bb, "%s.relu1", p));
	y = conv(bb, y, fmt_name(bb, "%s.conv2", p), x.c, 3, 1, 1, 0);
	y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "%s.bn2", p));
	y = join(bb, NN_ADD, y, x, fmt_name(bb, "%s.add", p));
	return simple(bb, y, NN_RELU, fmt_name(bb, "%s.relu2", p));
}

static struct node hourglass_level(struct nn_backbone *bb, struct node x, int level)
{
	struct node up = residual(bb, x, fmt_name(bb, "hg%d.up", level));
	struct node low = maxpool(bb, x, fmt_name(bb, "hg%d.pool", level), 2, 2, 0);
	low = residual(bb, low, fmt_name(bb, "hg%d.low1", level));
	if (level > 1)
		low = hourglass_level(bb, low, level - 1);
	else
		low = residual(bb, low, fmt_name(bb, "hg%d.low2", level));
	low = residual(bb, low, fmt_name(bb, "hg%d.low3", level));
	low = upsample(bb, low, fmt_name(bb, "hg%d.upsample", level), 0);
	return join(bb, NN_ADD, up, low, fmt_name(bb, "hg%d.add", level));
}

static struct node hourglass(struct nn_backbone *bb, const struct nn_backbone_opts *o,
			     struct node x)
{
	int f = o->filters ? o->filters : 32, levels = log2i(o->max_stride) - 2;
	/* the stem takes the input to stride 4, where the hourglass works */
	x = conv(bb, x, "stem.conv", f, 7, 2, 3, 0);
	x = simple(bb, x, NN_BATCHNORM, "stem.bn");
	x = simple(bb, x, NN_RELU, "stem.relu");
	x = residual(bb, x, "stem.res");
	x = maxpool(bb, x, "stem.pool", 2, 2, 0);
	x = hourglass_level(bb, x, levels);
	x = residual(bb, x, "hg.out");
	for (int s = 4; s > o->output_stride; s /= 2) {
		const char *p = fmt_name(bb, "refine%d", s / 2);
		x = upsample(bb, x, fmt_name(bb, "refine%d.upsample", s / 2), 1);
		x = conv_block(bb, x, p, 0, f, 1);
	}
	return x;
}

/* ---- torchvision encoders ---- */

static const char *const resnet_prefixes[] = {"conv1",	"bn1",	  "layer1", "layer2",
					      "layer3", "layer4", NULL};
static const char *const vgg_prefixes[] = {"features", NULL};

/* torchvision's BasicBlock (expansion 1) or Bottleneck (expansion 4, stride on the 3x3) */
static struct node resnet_block(struct nn_backbone *bb, struct node x, int layer, int b, int width,
				int stride, int bottleneck)
{
	int out = bottleneck ? 4 * width : width;
	struct node y = x, id = x;
	if (bottleneck) {
		y = conv(bb, y, fmt_name(bb, "layer%d.%d.conv1", layer, b), width, 1, 1, 0, 0);
		y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.bn1", layer, b));
		y = simple(bb, y, NN_RELU, fmt_name(bb, "layer%d.%d.relu1", layer, b));
		y = conv(bb, y, fmt_name(bb, "layer%d.%d.conv2", layer, b), width, 3, stride, 1, 0);
		y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.bn2", layer, b));
		y = simple(bb, y, NN_RELU, fmt_name(bb, "layer%d.%d.relu2", layer, b));
		y = conv(bb, y, fmt_name(bb, "layer%d.%d.conv3", layer, b), out, 1, 1, 0, 0);
		y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.bn3", layer, b));
	} else {
		y = conv(bb, y, fmt_name(bb, "layer%d.%d.conv1", layer, b), width, 3, stride, 1, 0);
		y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.bn1", layer, b));
		y = simple(bb, y, NN_RELU, fmt_name(bb, "layer%d.%d.relu1", layer, b));
		y = conv(bb, y, fmt_name(bb, "layer%d.%d.conv2", layer, b), width, 3, 1, 1, 0);
		y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.bn2", layer, b));
	}
	if (stride != 1 || x.c != out) {
		id = conv(bb, x, fmt_name(bb, "layer%d.%d.downsample.0", layer, b), out, 1, stride,
			  0, 0);
		id =
		    simple(bb, id, NN_BATCHNORM, fmt_name(bb, "layer%d.%d.downsample.1", layer, b));
	}
	y = join(bb, NN_ADD, y, id, fmt_name(bb, "layer%d.%d.add", layer, b));
	return simple(bb, y, NN_RELU, fmt_name(bb, "layer%d.%d.relu", layer, b));
}

/* conv (+ groups), batch norm, and ReLU6 unless linear, as torchvision's Conv2dNormActivation
 * at prefix: prefix.0, prefix.1, prefix.2 */
static struct node cna(struct nn_backbone *bb, struct node x, const char *prefix, int out, int k,
		       int stride, int groups, int linear)
{
	struct nn_layer_desc d = {.op = NN_CONV2D,
				  .name = fmt_name(bb, "%s.0", prefix),
				  .from = x.name,
				  .out = out,
				  .k = k,
				  .stride = stride,
				  .pad = (k - 1) / 2,
				  .no_bias = 1,
				  .groups = groups};
	struct node y = {NULL, out, (x.h + 2 * d.pad - k) / stride + 1,
			 (x.w + 2 * d.pad - k) / stride + 1};
	y = push(bb, d, y);
	y = simple(bb, y, NN_BATCHNORM, fmt_name(bb, "%s.1", prefix));
	if (!linear) {
		struct nn_layer_desc r = {
		    .op = NN_RELU, .name = fmt_name(bb, "%s.2", prefix), .from = y.name, .cap = 6};
		y = push(bb, r, y);
	}
	return y;
}

/* torchvision's mobilenet_v2 "features" (width 1): a stem, 17 inverted residual blocks
 * (expand 1x1, depthwise 3x3, project 1x1; added to the input when the shape is kept) and a
 * 1x1 to 1280 channels */
static struct node mobilenet_v2(struct nn_backbone *bb, struct node x, struct node skip[4])
{
	static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
				      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
	int idx = 1;
	x = cna(bb, x, "features.0", 32, 3, 2, 1, 0);
	for (int g = 0; g < 7; g++)
		for (int r = 0; r < cfg[g][2]; r++, idx++) {
			int t = cfg[g][0], out = cfg[g][1], stride = r ? 1 : cfg[g][3];
			int hidden = x.c * t, j = 0;
			struct node y = x;
			if (t != 1)
				y = cna(bb, y, fmt_name(bb, "features.%d.conv.%d", idx, j++),
					hidden, 1, 1, 1, 0);
			y = cna(bb, y, fmt_name(bb, "features.%d.conv.%d", idx, j++), hidden, 3,
				stride, hidden, 0);
			y = conv(bb, y, fmt_name(bb, "features.%d.conv.%d", idx, j), out, 1, 1, 0,
				 0);
			y = simple(bb, y, NN_BATCHNORM,
				   fmt_name(bb, "features.%d.conv.%d", idx, j + 1));
			if (stride == 1 && x.c == out)
				y = join(bb, NN_ADD, x, y, fmt_name(bb, "features.%d.add", idx));
			x = y;
			/* the last block of each stride feeds the decoder */
			if (idx == 1 || idx == 3 || idx == 6 || idx == 13)
				skip[idx == 1 ? 0 : idx == 3 ? 1 : idx == 6 ? 2 : 3] = x;
		}
	x = cna(bb, x, "features.18", 1280, 1, 1, 1, 0);
	bb->encoder_prefixes = vgg_prefixes;
	return x;
}

/* The encoder's features at strides 2, 4, 8, 16 (skip[0..3]) and its output at 32. */
static struct node resnet(struct nn_backbone *bb, enum nn_encoder enc, struct node x,
			  struct node skip[4])
{
	static const int blocks[3][4] = {{2, 2, 2, 2}, {3, 4, 6, 3}, {3, 4, 6, 3}};
	int bottleneck = enc == NN_ENCODER_RESNET50;
	const int *nb = blocks[enc];
	x = conv(bb, x, "conv1", 64, 7, 2, 3, 0);
	x = simple(bb, x, NN_BATCHNORM, "bn1");
	x = simple(bb, x, NN_RELU, "relu");
	skip[0] = x;
	x = maxpool(bb, x, "maxpool", 3, 2, 1);
	for (int l = 0; l < 4; l++) {
		for (int b = 0; b < nb[l]; b++)
			x = resnet_block(bb, x, l + 1, b, 64 << l, b == 0 && l > 0 ? 2 : 1,
					 bottleneck);
		if (l < 3)
			skip[l + 1] = x;
	}
	bb->encoder_prefixes = resnet_prefixes;
	return x;
}

/* torchvision's vgg16 "features": 13 convolutions (with bias) and ReLUs, 5 max poolings; the
 * layer index is the module's index in the Sequential */
static struct node vgg16(struct nn_backbone *bb, struct node x, struct node skip[4])
{
	static const int cfg[] = {64, 64,  0,	128, 128, 0,   256, 256, 256,
				  0,  512, 512, 512, 0,	  512, 512, 512, 0};
	int idx = 0, pools = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cfg); i++) {
		if (cfg[i]) {
			x = conv(bb, x, fmt_name(bb, "features.%d", idx), cfg[i], 3, 1, 1, 1);
			x = simple(bb, x, NN_RELU, fmt_name(bb, "features.%d", idx + 1));
			idx += 2;
		} else {
			/* the features before the last pooling feed the decoder at stride 16 */
			if (pools > 0)
				skip[pools - 1] = x;
			x = maxpool(bb, x, fmt_name(bb, "features.%d", idx), 2, 2, 0);
			idx++;
			pools++;
		}
	}
	bb->encoder_prefixes = vgg_prefixes;
	return x;
}

static struct node encoder_decoder(struct nn_backbone *bb, const struct nn_backbone_opts *o,
				   struct node x)
{
	struct node skip[4];
	int f0 = o->filters ? o->filters : 256;
	if (o->encoder == NN_ENCODER_VGG16)
		x = vgg16(bb, x, skip);
	else if (o->encoder == NN_ENCODER_MOBILENET_V2)
		x = mobilenet_v2(bb, x, skip);
	else
		x = resnet(bb, o->encoder, x, skip);
	if (o->encoder_only)
		return x;
	/* stride 32 up to the output stride: upsample, the encoder's features of that stride,
	 * two convolutions; filters halve a level up */
	for (int s = 16, f = f0; s >= o->output_stride; s /= 2, f = f / 2 > 8 ? f / 2 : 8) {
		const char *p = fmt_name(bb, "decoder%d", s);
		x = upsample(bb, x, fmt_name(bb, "decoder%d.upsample", s), 1);
		if (s >= 2)
			x = join(bb, NN_CONCAT, x, skip[log2i(s) - 1],
				 fmt_name(bb, "decoder%d.concat", s));
		x = conv_block(bb, x, p, 0, f, 1);
		x = conv_block(bb, x, p, 1, f, 1);
	}
	return x;
}

/* ---- the table ---- */

int nn_backbone_max_stride(const struct nn_backbone_opts *o)
{
	if (o->kind == NN_BACKBONE_ENCODER)
		return 32;
	return o->max_stride ? o->max_stride : 16;
}

static int pow2(int v)
{
	return v >= 1 && (v & (v - 1)) == 0;
}

int nn_backbone_describe(struct nn_backbone *bb, const struct nn_backbone_opts *opts, struct err *e)
{
	struct nn_backbone_opts o = *opts;
	struct node x = {"input", o.c, o.h, o.w};
	int ms;

	memset(bb, 0, sizeof(*bb));
	strv_init(&bb->names);
	if (!o.filters_rate)
		o.filters_rate = 2;
	o.max_stride = nn_backbone_max_stride(&o);
	ms = o.max_stride;
	if (!o.output_stride)
		o.output_stride = 1;
	if (!pow2(ms) || ms > 1024 || (o.kind == NN_BACKBONE_HOURGLASS && ms < 8))
		return err_set(e, DYN_EUSAGE,
			       "max stride %d: expected a power of 2%s, at most 1024", ms,
			       o.kind == NN_BACKBONE_HOURGLASS ? " from 8" : "");
	if (!pow2(o.output_stride) || o.output_stride > ms ||
	    (o.kind == NN_BACKBONE_ENCODER && !o.encoder_only && o.output_stride > 16) ||
	    (o.kind == NN_BACKBONE_HOURGLASS && o.output_stride > 4))
		return err_set(e, DYN_EUSAGE, "output stride %d: expected a power of 2 up to %d",
			       o.output_stride,
			       o.kind == NN_BACKBONE_HOURGLASS ? 4
			       : o.kind == NN_BACKBONE_ENCODER ? 16
							       : ms);
	if (o.h < 1 || o.w < 1 || o.c < 1 || o.h % ms || o.w % ms)
		return err_set(e, DYN_EUSAGE,
			       "input %dx%d: the backbone needs sides that divide by its deepest "
			       "stride, %d",
			       o.w, o.h, ms);
	if (o.kind == NN_BACKBONE_ENCODER && o.c != 3)
		return err_set(e, DYN_EUSAGE, "the %s encoder takes 3 channels, not %d",
			       nn_encoder_name(o.encoder), o.c);
	if (o.nout < 1 && !o.encoder_only)
		return err_set(e, DYN_EUSAGE, "the backbone needs an output channel or more");
	switch (o.kind) {
	case NN_BACKBONE_UNET:
	case NN_BACKBONE_LEAP:
		x = unet(bb, &o, x);
		break;
	case NN_BACKBONE_HOURGLASS:
		x = hourglass(bb, &o, x);
		break;
	case NN_BACKBONE_ENCODER:
		x = encoder_decoder(bb, &o, x);
		break;
	}
	if (!o.encoder_only)
		x = conv(bb, x, "head", o.nout, 1, 1, 0, 1);
	bb->out_c = x.c;
	bb->out_h = x.h;
	bb->out_w = x.w;
	return 0;
}

void nn_backbone_release(struct nn_backbone *bb)
{
	free(bb->layers);
	strv_release(&bb->names);
	memset(bb, 0, sizeof(*bb));
}

static const char *const encoder_names[] = {"resnet18", "resnet34", "resnet50", "vgg16",
					    "mobilenetv2"};
static const char *const backbone_names[] = {"unet", "leap", "hourglass", "encoder"};

int nn_encoder_parse(const char *name, enum nn_encoder *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(encoder_names); i++)
		if (!strcmp(name, encoder_names[i])) {
			*out = (enum nn_encoder)i;
			return 0;
		}
	return -1;
}

const char *nn_encoder_name(enum nn_encoder enc)
{
	return (size_t)enc < ARRAY_SIZE(encoder_names) ? encoder_names[enc] : "?";
}

int nn_backbone_parse(const char *name, enum nn_backbone_kind *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(backbone_names); i++)
		if (!strcmp(name, backbone_names[i])) {
			*out = (enum nn_backbone_kind)i;
			return 0;
		}
	return -1;
}

int nn_backbone_is_encoder_tensor(const struct nn_backbone *bb, const char *name)
{
	if (!bb->encoder_prefixes)
		return 0;
	for (const char *const *p = bb->encoder_prefixes; *p; p++) {
		size_t n = strlen(*p);
		if (!strncmp(name, *p, n) && name[n] == '.')
			return 1;
	}
	return 0;
}
