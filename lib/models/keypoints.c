/* Pose keypoints: a confidence-map network (vision/confmap.h) on frames scaled by input_scale,
 * one map a body part, trained in epochs with Adam, a learning rate reduced on plateaus and
 * early stopping; peaks refined below the map's pixel give each node's position and score.
 * One animal a frame: single-instance maps. Frames with several animals (SLEAP's top-down
 * way): one network finds each animal's anchor (a node, or the middle of its points) in a map
 * of the whole frame, a second one finds the nodes of the animal centred in a fixed-size crop;
 * both are trained in turn into one model, and predict crops around each anchor found. */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/base.h"
#include "base/par.h"
#include "base/strv.h"
#include "core/rng.h"
#include "io/image.h"
#include "models/model.h"
#include "models/pretrained.h"
#include "nn/backbone.h"
#include "nn/nn.h"
#include "store/safetensors.h"
#include "vision/confmap.h"
#include "vision/pose.h"
#include "vision/resize.h"

/* The backbone choices, in the order of the "backbone" parameter's: resnet is an encoder
 * network from random weights, pretrained the same with --weights. */
enum { BB_UNET, BB_LEAP, BB_HOURGLASS, BB_RESNET, BB_PRETRAINED };

static const struct param_spec kp_params[] = {
    {"backbone", PARAM_CHOICE, "unet", NAN, NAN, 0, "unet|leap|hourglass|resnet|pretrained",
     "network: unet, leap, hourglass, or an encoder (--encoder) and a decoder: resnet from "
     "random weights, pretrained from --weights"},
    {"encoder", PARAM_CHOICE, "resnet18", NAN, NAN, 0,
     "resnet18|resnet34|resnet50|vgg16|mobilenetv2",
     "resnet and pretrained backbones: torchvision's encoder"},
    {"epochs", PARAM_INT, "100", 1, 100000, 0, NULL, "passes over the training frames"},
    {"lr", PARAM_NUM, "0.001", 0, 10, PARAM_MIN_OPEN, NULL, "learning rate (Adam)"},
    {"batch_size", PARAM_INT, "4", 1, 256, 0, NULL, "frames per step"},
    {"sigma", PARAM_NUM, "2.5", 0, 1000, PARAM_MIN_OPEN, NULL,
     "spread of the confidence maps' Gaussians, in pixels of the network's input (after "
     "input_scale)"},
    {"output_stride", PARAM_INT, "2", 1, 64, 0, NULL,
     "input pixels per confidence-map pixel (a power of 2 up to the deepest stride)"},
    {"input_scale", PARAM_NUM, "0.25", 0, 1, PARAM_MIN_OPEN, NULL,
     "frames are scaled by this before the network (and padded to the deepest stride)"},
    {"filters", PARAM_INT, "0", 0, 1024, 0, NULL,
     "filters of the first level (0: the backbone's own, 16 for unet)"},
    {"max_stride", PARAM_INT, "16", 2, 256, 0, NULL,
     "unet, leap, hourglass: the deepest stride, a power of 2 (32 for encoders)"},
    {"batchnorm", PARAM_BOOL, "true", NAN, NAN, 0, NULL,
     "unet and leap: batch normalization after each convolution"},
    {"rotation", PARAM_NUM, "15", 0, 180, 0, NULL,
     "augmentation: rotate training frames by up to this many degrees either way"},
    {"flip", PARAM_BOOL, "false", NAN, NAN, 0, NULL,
     "augmentation: mirror half the training frames (the skeleton's symmetric nodes swap)"},
    {"scale", PARAM_NUM, "0.05", 0, 0.5, 0, NULL,
     "augmentation: zoom training frames by up to this share either way"},
    {"brightness", PARAM_NUM, "0.1", 0, 1, 0, NULL,
     "augmentation: shift brightness by up to this share of the range"},
    {"contrast", PARAM_NUM, "0.1", 0, 1, 0, NULL,
     "augmentation: scale contrast by up to this share either way"},
    {"plateau_patience", PARAM_INT, "5", 0, 100000, 0, NULL,
     "halve the learning rate after this many epochs without a better loss (0: never)"},
    {"patience", PARAM_INT, "15", 0, 100000, 0, NULL,
     "stop after this many epochs without a better validation loss, keeping the best "
     "weights (0: train all epochs)"},
    {"peak_threshold", PARAM_NUM, "0.2", 0, 1, 0, NULL,
     "a node whose map peaks below this is not found (x and y empty)"},
    {"refine", PARAM_CHOICE, "integral", NAN, NAN, 0, "integral|gaussian|quadratic|none",
     "sub-pixel refinement of the peaks"},
    {"instances", PARAM_CHOICE, "auto", NAN, NAN, 0, "auto|single|multi",
     "animals a frame: multi trains a centroid and a centred-instance network (top-down), "
     "single one set of maps; auto is multi when a labeled frame holds several animals"},
    {"anchor", PARAM_STRING, "", 0, 256, 0, NULL,
     "multi: the node an animal's crop is centred on (empty: the middle of its labeled "
     "points)"},
    {"crop_size", PARAM_INT, "0", 0, 4096, 0, NULL,
     "multi: side of the square crop around each animal, in pixels of the network's input, a "
     "multiple of the deepest stride (0: the largest labeled animal plus a margin)"},
    {"max_instances", PARAM_INT, "0", 0, 1000, 0, NULL,
     "multi: the most animals predict finds in a frame (0: twice the most in a labeled "
     "frame)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* Where frames go: the training frames' size at the source (src), scaled (in) and padded to
 * the deepest stride (pad), and the network's channels. */
struct kp_geom {
	size_t src_w, src_h, in_w, in_h, pad_w, pad_h;
	int c;
};

struct kp_state {
	struct nn_backbone bb;
	struct nn_net *net;
	struct kp_geom g;
	struct confmap_geom cg;
	struct pose_skeleton skel; /* names borrowed from nowhere: edges and symmetries only */
	float mean[3], std[3];	   /* input normalization a channel */
	int max_batch;
	pthread_mutex_t lock; /* one set of activations: one predict at a time */
	/* Multi-animal models: this network gives one map, the animals' anchors; inst finds
	 * the nodes of the animal centred in a crop x crop cut of the frame at this network's
	 * input scale (its own g: a crop is its frame). NULL for one animal a frame. */
	struct kp_state *inst;
	size_t crop, max_inst;
	long anchor; /* node, or -1: the middle of the labeled points */
};

static void kp_free(void *p)
{
	struct kp_state *st = p;
	if (!st)
		return;
	kp_free(st->inst);
	nn_net_free(&st->net);
	nn_backbone_release(&st->bb);
	free(st->skel.edges);
	free(st->skel.syms);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static bool kp_encoder(const struct params *p)
{
	int b = params_choice(p, "backbone");
	return b == BB_RESNET || b == BB_PRETRAINED;
}

/* The backbone options of p for nnodes maps, but the input's size. */
static void kp_bb_opts(const struct params *p, size_t nnodes, struct nn_backbone_opts *o)
{
	static const enum nn_backbone_kind kinds[] = {NN_BACKBONE_UNET, NN_BACKBONE_LEAP,
						      NN_BACKBONE_HOURGLASS, NN_BACKBONE_ENCODER,
						      NN_BACKBONE_ENCODER};
	memset(o, 0, sizeof(*o));
	o->kind = kinds[params_choice(p, "backbone")];
	if (kp_encoder(p))
		o->encoder = (enum nn_encoder)params_choice(p, "encoder");
	o->c = kp_encoder(p) ? 3 : 1;
	o->nout = (int)nnodes;
	o->filters = (int)params_num(p, "filters");
	o->max_stride = kp_encoder(p) ? 0 : (int)params_num(p, "max_stride");
	o->output_stride = (int)params_num(p, "output_stride");
	o->batchnorm = params_num(p, "batchnorm") != 0;
}

/* The deepest stride of p's backbone. */
static size_t kp_max_stride(const struct params *p)
{
	struct nn_backbone_opts o;
	kp_bb_opts(p, 1, &o);
	return (size_t)nn_backbone_max_stride(&o);
}

/* The backbone options of p for nnodes maps over frames of src_w x src_h scaled by scale. */
static int kp_opts(const struct params *p, size_t nnodes, size_t src_w, size_t src_h, double scale,
		   struct nn_backbone_opts *o, struct kp_geom *g, struct err *e)
{
	size_t ms;
	kp_bb_opts(p, nnodes, o);
	g->src_w = src_w;
	g->src_h = src_h;
	g->in_w = (size_t)fmax(1, floor((double)src_w * scale + 0.5));
	g->in_h = (size_t)fmax(1, floor((double)src_h * scale + 0.5));
	ms = (size_t)nn_backbone_max_stride(o);
	if (ms < 1 || (ms & (ms - 1)))
		return err_set(e, DYN_EUSAGE,
			       "hyperparameter \"max_stride\": expected a power of 2, got %zu", ms);
	if (g->in_w < IMG_MIN_SIDE || g->in_h < IMG_MIN_SIDE)
		return err_set(e, DYN_EUSAGE,
			       "input_scale %g makes the %zux%zu frames %zux%zu: too small for a "
			       "network (at least %d pixels a side)",
			       scale, src_w, src_h, g->in_w, g->in_h, IMG_MIN_SIDE);
	g->pad_w = (g->in_w + ms - 1) / ms * ms;
	g->pad_h = (g->in_h + ms - 1) / ms * ms;
	g->c = o->c;
	o->h = (int)g->pad_h;
	o->w = (int)g->pad_w;
	return 0;
}

/* The network's description and maps for p, nnodes and frames of src_w x src_h scaled by
 * scale, without building it: every setting checked. */
static int kp_describe(struct nn_backbone *bb, struct kp_geom *g, struct confmap_geom *cg,
		       const struct params *p, size_t nnodes, size_t src_w, size_t src_h,
		       double scale, struct err *e)
{
	struct nn_backbone_opts o;
	if (kp_opts(p, nnodes, src_w, src_h, scale, &o, g, e) < 0 ||
	    nn_backbone_describe(bb, &o, e) < 0 ||
	    confmap_geom_init(cg, g->pad_w, g->pad_h, (size_t)params_num(p, "output_stride"),
			      params_num(p, "sigma"), e) < 0)
		return -1;
	if ((size_t)bb->out_w != cg->out_w || (size_t)bb->out_h != cg->out_h)
		return err_set(e, DYN_EUSAGE,
			       "the backbone's maps are %dx%d, not the %zux%zu of output_stride %g",
			       bb->out_w, bb->out_h, cg->out_w, cg->out_h,
			       params_num(p, "output_stride"));
	return 0;
}

/* What the weights file asks of the backbone. */
static int kp_check_weights(const struct params *p, const char *weights, bool warm, struct err *e)
{
	if (weights && !kp_encoder(p)) {
		static const char *const names[] = {"unet", "leap", "hourglass"};
		return err_set(e, DYN_EUSAGE,
			       "--weights: the %s backbone has no encoder to load (use --backbone "
			       "pretrained)",
			       names[params_choice(p, "backbone")]);
	}
	if (params_choice(p, "backbone") == BB_PRETRAINED && !weights && !warm)
		return err_set(
		    e, DYN_EUSAGE,
		    "--backbone pretrained needs --weights FILE.safetensors: torchvision's %s "
		    "state dict saved as safetensors (dyn downloads nothing; --backbone resnet "
		    "trains the encoder from random weights)",
		    nn_encoder_name((enum nn_encoder)params_choice(p, "encoder")));
	return 0;
}

/* Whether p trains the top-down pair of networks on pd: "instances" says so, or (auto) a
 * labeled frame holds several animals. */
static bool kp_is_multi(const struct params *p, const struct pose_dataset *pd)
{
	int c = params_choice(p, "instances");
	if (c != 0)
		return c == 2;
	for (size_t i = 0; i < pd->nframes; i++)
		if (pd->frames[i].ninst > 1)
			return true;
	return false;
}

/* A multi-animal model's settings on pd: the anchor node (-1: the middle of the points), the
 * crop side in pixels of the network's input (crop_size, else the largest labeled animal's
 * extent plus a margin of a tenth of it, at least 8 pixels a side, rounded up to the deepest
 * stride ms) and the most animals predict looks for. */
static int kp_multi_setup(const struct params *p, const struct pose_dataset *pd, size_t ms,
			  long *anchor, size_t *crop, size_t *max_inst, struct err *e)
{
	const char *an = params_str(p, "anchor");
	size_t k = pd->skel.nnodes, most = 0, c = (size_t)params_num(p, "crop_size");
	double scale = params_num(p, "input_scale"), ext = 0;
	*anchor = -1;
	if (an && *an && (*anchor = pose_skeleton_node(&pd->skel, an)) < 0) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < k; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", pd->skel.nodes[i]);
		err_set(e, DYN_EUSAGE,
			"--anchor \"%s\": no node of that name (the skeleton has %s)", an, sb.buf);
		strbuf_release(&sb);
		return -1;
	}
	for (size_t i = 0; i < pd->nframes; i++)
		most = pd->frames[i].ninst > most ? pd->frames[i].ninst : most;
	for (size_t q = 0; q < pd->ninst; q++) {
		const struct pose_point *pt = pd->points + q * k;
		float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
		for (size_t nd = 0; nd < k; nd++)
			if (pose_point_usable(&pt[nd])) {
				x0 = fminf(x0, pt[nd].x);
				x1 = fmaxf(x1, pt[nd].x);
				y0 = fminf(y0, pt[nd].y);
				y1 = fmaxf(y1, pt[nd].y);
			}
		if (x0 <= x1)
			ext = fmax(ext, fmax(x1 - x0, y1 - y0));
	}
	if (c) {
		if (c % ms || c < IMG_MIN_SIDE)
			return err_set(e, DYN_EUSAGE,
				       "hyperparameter \"crop_size\": expected a multiple of the "
				       "deepest stride %zu (at least %d), got %zu",
				       ms, IMG_MIN_SIDE, c);
	} else {
		/* no larger than the frame (labels far outside it are no reason to grow) */
		double side = fmin(fmax((double)pd->width, (double)pd->height) * scale, 4096);
		ext = fmin(ext * scale, side);
		c = (size_t)ceil(ext + 2 * fmax(8, 0.1 * ext));
		c = (c + ms - 1) / ms * ms;
		while (c < IMG_MIN_SIDE)
			c += ms;
	}
	*crop = c;
	*max_inst = (size_t)params_num(p, "max_instances");
	if (!*max_inst)
		*max_inst = most > 0 ? 2 * most : 1;
	return 0;
}

static int kp_check(const struct params *p, const struct dataset *ds, const char *weights,
		    const struct model *warm, struct err *e)
{
	struct nn_backbone bb;
	struct kp_geom g;
	struct confmap_geom cg;
	bool multi;
	int r;
	if (!ds->pose)
		return err_set(e, DYN_EUSAGE, "keypoints models train on a pose dataset");
	if (kp_check_weights(p, weights, warm != NULL, e) < 0)
		return -1;
	multi = kp_is_multi(p, ds->pose);
	memset(&bb, 0, sizeof(bb));
	r = kp_describe(&bb, &g, &cg, p, multi ? 1 : ds->k, ds->pose->width, ds->pose->height,
			params_num(p, "input_scale"), e);
	if (r == 0 && multi) {
		long anchor;
		size_t crop, mi;
		r = kp_multi_setup(p, ds->pose, kp_max_stride(p), &anchor, &crop, &mi, e);
		nn_backbone_release(&bb);
		memset(&bb, 0, sizeof(bb));
		if (r == 0)
			r = kp_describe(&bb, &g, &cg, p, ds->k, crop, crop, 1, e);
	}
	nn_backbone_release(&bb);
	return r;
}

/* Builds st's network (not initialized) for p, nnodes and frames of src_w x src_h scaled by
 * scale. */
static int kp_build(struct kp_state **out, const struct params *p, size_t nnodes, size_t src_w,
		    size_t src_h, double scale, int max_batch, int threads, struct err *e)
{
	struct kp_state *st = xcalloc(1, sizeof(*st));
	struct nn_net_desc d;
	int oc;
	pthread_mutex_init(&st->lock, NULL);
	pose_skeleton_init(&st->skel);
	st->anchor = -1;
	if (kp_describe(&st->bb, &st->g, &st->cg, p, nnodes, src_w, src_h, scale, e) < 0)
		goto fail;
	for (oc = 0; oc < 3; oc++) {
		/* torchvision's encoders were trained on ImageNet's normalization */
		static const float im_mean[3] = {0.485f, 0.456f, 0.406f};
		static const float im_std[3] = {0.229f, 0.224f, 0.225f};
		st->mean[oc] = kp_encoder(p) ? im_mean[oc] : 0;
		st->std[oc] = kp_encoder(p) ? im_std[oc] : 1;
	}
	memset(&d, 0, sizeof(d));
	d.dims = 3;
	d.c = st->g.c;
	d.h = (int)st->g.pad_h;
	d.w = (int)st->g.pad_w;
	d.layers = st->bb.layers;
	d.nlayers = st->bb.nlayers;
	d.max_batch = max_batch;
	d.threads = threads;
	st->max_batch = max_batch;
	if (nn_net_new(&st->net, &d, e) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	kp_free(st);
	return -1;
}

/* A frame at the network's scale: im (any size, gray or RGB) resampled to in_w x in_h with the
 * network's channels, into out (in_w * in_h * c bytes, interleaved). */
static int kp_scale_frame(const struct kp_geom *g, const struct img *im, unsigned char *out,
			  struct err *e)
{
	const unsigned char *src = im->px;
	unsigned char *conv = NULL;
	size_t n = im->w * im->h, i;
	int ret;
	if (im->channels != g->c) {
		conv = xmallocarray(n ? n : 1, (size_t)g->c);
		for (i = 0; i < n; i++) {
			if (g->c == 1) { /* ITU-R BT.601 luma, as stb_image makes gray */
				const unsigned char *q = im->px + 3 * i;
				conv[i] =
				    (unsigned char)((77 * q[0] + 150 * q[1] + 29 * q[2]) >> 8);
			} else {
				conv[3 * i] = conv[3 * i + 1] = conv[3 * i + 2] = im->px[i];
			}
		}
		src = conv;
	}
	if (im->w == g->in_w && im->h == g->in_h) {
		memcpy(out, src, g->in_w * g->in_h * (size_t)g->c);
		ret = 0;
	} else {
		ret = vis_resize_image(out, g->in_w, g->in_h, src, im->w, im->h, g->c, e);
	}
	free(conv);
	return ret;
}

/* The network's input (c planes of pad_w x pad_h floats) of a scaled frame: normalized, zero
 * (the mean) in the padding. */
static void kp_planes(const struct kp_state *st, const unsigned char *px, float *out)
{
	const struct kp_geom *g = &st->g;
	size_t plane = g->pad_w * g->pad_h;
	memset(out, 0, (size_t)g->c * plane * sizeof(float));
	for (int c = 0; c < g->c; c++) {
		float *o = out + (size_t)c * plane;
		float m = st->mean[c], s = 1 / st->std[c];
		for (size_t y = 0; y < g->in_h; y++)
			for (size_t x = 0; x < g->in_w; x++)
				o[y * g->pad_w + x] =
				    (px[(y * g->in_w + x) * (size_t)g->c + (size_t)c] / 255.0f -
				     m) *
				    s;
	}
}

/* A position at the source scale to the network's input, and back: pixel centres map to pixel
 * centres (the top-left pixel's centre is 0, 0 at both). */
static float to_input(float v, size_t src, size_t in)
{
	return (float)(((double)v + 0.5) * (double)in / (double)src - 0.5);
}

static float to_source(float v, size_t src, size_t in)
{
	return (float)(((double)v + 0.5) * (double)src / (double)in - 0.5);
}

/* The refinement p asks for. */
static enum confmap_refine kp_refine(const struct params *p)
{
	static const enum confmap_refine refine[] = {CONFMAP_REFINE_INTEGRAL,
						     CONFMAP_REFINE_GAUSSIAN,
						     CONFMAP_REFINE_QUADRATIC, CONFMAP_REFINE_NONE};
	return refine[params_choice(p, "refine")];
}

/* Forward passes over n inputs X (at the network's size), peaks per node into pk
 * (n x nnodes), the mean squared error against targets T when T is not NULL. */
static double kp_forward(struct kp_state *st, const struct params *p, size_t k, const float *X,
			 const float *T, size_t n, struct confmap_peak *pk)
{
	size_t in_size = (size_t)st->g.c * st->g.pad_w * st->g.pad_h;
	size_t map_size = k * st->cg.out_w * st->cg.out_h, i;
	double sl = 0;
	for (i = 0; i < n; i += (size_t)st->max_batch) {
		int b = (int)(n - i < (size_t)st->max_batch ? n - i : (size_t)st->max_batch);
		const float *maps = nn_net_forward(st->net, X + i * in_size, b, 0);
		if (T)
			sl +=
			    (double)nn_mse(NULL, maps, T + i * map_size, (size_t)b * map_size) * b;
		for (int q = 0; q < b && pk; q++)
			confmap_peaks(&st->cg, maps + (size_t)q * map_size, k, kp_refine(p),
				      (float)params_num(p, "peak_threshold"),
				      pk + (i + (size_t)q) * k);
	}
	return n ? sl / (double)n : NAN;
}

/* ---- Training -------------------------------------------------------------------------- */

/* The frames of a dataset at the network's scale, with their labels there: px (n frames of
 * in_w x in_h x c bytes) and pts (n x ninst... flattened: first[i] .. first[i] + ninst[i]
 * instances of nnodes points each). */
struct kp_frames {
	size_t n, k;
	unsigned char *px;
	struct pose_point *pts;
	size_t *first, *ninst;
};

static void kp_frames_release(struct kp_frames *f)
{
	free(f->px);
	free(f->pts);
	free(f->first);
	free(f->ninst);
	memset(f, 0, sizeof(*f));
}

struct decode_job {
	const struct dataset *ds;
	const struct kp_geom *g;
	struct kp_frames *f;
	struct err *errs;
	int *failed;
};

static void decode_one(void *arg, size_t i, int t)
{
	struct decode_job *j = arg;
	struct img im;
	(void)t;
	img_init(&im);
	if (pose_frame_image(j->ds->pose, j->ds->frame[i], j->g->c, &im, &j->errs[i]) < 0 ||
	    kp_scale_frame(j->g, &im, j->f->px + i * j->g->in_w * j->g->in_h * (size_t)j->g->c,
			   &j->errs[i]) < 0)
		j->failed[i] = 1;
	img_release(&im);
}

/* Decodes ds's frames once (a training reads each many times) on threads. */
static int kp_frames_load(struct kp_frames *f, const struct dataset *ds, const struct kp_geom *g,
			  int threads, struct err *e)
{
	const struct pose_dataset *pd = ds->pose;
	size_t i, total = 0, k = pd->skel.nnodes, fs = g->in_w * g->in_h * (size_t)g->c;
	struct decode_job j;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	f->n = ds->n;
	f->k = k;
	f->px = xmallocarray(ds->n ? ds->n : 1, fs);
	f->first = xmallocarray(ds->n ? ds->n : 1, sizeof(size_t));
	f->ninst = xmallocarray(ds->n ? ds->n : 1, sizeof(size_t));
	for (i = 0; i < ds->n; i++) {
		f->first[i] = total;
		f->ninst[i] = pd->frames[ds->frame[i]].ninst;
		total += f->ninst[i];
	}
	f->pts = xmallocarray(total ? total * k : 1, sizeof(*f->pts));
	for (i = 0; i < ds->n; i++)
		for (size_t q = 0; q < f->ninst[i]; q++) {
			const struct pose_point *src = pose_frame_instance(pd, ds->frame[i], q);
			struct pose_point *dst = f->pts + (f->first[i] + q) * k;
			for (size_t nd = 0; nd < k; nd++) {
				dst[nd] = src[nd];
				dst[nd].x = to_input(src[nd].x, g->src_w, g->in_w);
				dst[nd].y = to_input(src[nd].y, g->src_h, g->in_h);
			}
		}
	j.ds = ds;
	j.g = g;
	j.f = f;
	j.errs = xcalloc(ds->n ? ds->n : 1, sizeof(struct err));
	j.failed = xcalloc(ds->n ? ds->n : 1, sizeof(int));
	par_for(ds->n, threads, decode_one, &j);
	for (i = 0; i < ds->n; i++)
		if (j.failed[i]) {
			*e = j.errs[i];
			ret = -1;
			break;
		}
	free(j.errs);
	free(j.failed);
	if (ret < 0)
		kp_frames_release(f);
	return ret;
}

/* What one network trains on: n samples, each a whole frame of a kp_frames or a crop of one
 * (x0, y0: where the crop starts, in pixels of the frames), holding ninst[i] instances of kk
 * points each (pts from first[i] * kk) in the sample's own pixels. */
struct kp_samples {
	size_t n, kk;
	size_t *frame;
	long *x0, *y0; /* NULL: whole frames */
	struct pose_point *pts;
	size_t *first, *ninst;
};

static void kp_samples_release(struct kp_samples *s)
{
	free(s->frame);
	free(s->x0);
	free(s->y0);
	free(s->pts);
	free(s->first);
	free(s->ninst);
	memset(s, 0, sizeof(*s));
}

/* What a network of a model learns from a frame: every animal's nodes in one set of maps (one
 * animal a frame), each animal's centre in one map (the centroid network), or one crop a
 * labeled animal centred on it with that animal's nodes (the centred-instance network). */
enum kp_role { KP_FRAMES, KP_CENTROIDS, KP_CROPS };

/* The samples of frames f for role; anchor and crop (a side in f's pixels) for the last two.
 * Animals without a usable point have no centre: they are no centroid and give no crop. */
static void kp_samples_make(struct kp_samples *s, const struct kp_frames *f, enum kp_role role,
			    long anchor, size_t crop)
{
	size_t k = f->k, total = 0, n = 0, np = 0, cap;
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < f->n; i++)
		total += f->ninst[i];
	s->kk = role == KP_CENTROIDS ? 1 : k;
	cap = role == KP_CROPS ? total : f->n;
	s->frame = xmallocarray(cap ? cap : 1, sizeof(size_t));
	s->first = xmallocarray(cap ? cap : 1, sizeof(size_t));
	s->ninst = xmallocarray(cap ? cap : 1, sizeof(size_t));
	s->pts = xmallocarray(total ? total : 1, s->kk * sizeof(*s->pts));
	if (role == KP_CROPS) {
		s->x0 = xmallocarray(cap ? cap : 1, sizeof(long));
		s->y0 = xmallocarray(cap ? cap : 1, sizeof(long));
	}
	for (size_t i = 0; i < f->n; i++) {
		if (role != KP_CROPS) {
			s->frame[n] = i;
			s->first[n] = np;
			s->ninst[n] = 0;
		}
		for (size_t q = 0; q < f->ninst[i]; q++) {
			const struct pose_point *src = f->pts + (f->first[i] + q) * k;
			struct pose_point *dst = s->pts + np * s->kk;
			float cx, cy;
			long x0, y0;
			if (role == KP_FRAMES) {
				memcpy(dst, src, k * sizeof(*dst));
				np++;
				s->ninst[n]++;
				continue;
			}
			if (!confmap_instance_center(src, k, anchor, &cx, &cy))
				continue;
			if (role == KP_CENTROIDS) {
				dst->x = cx;
				dst->y = cy;
				dst->vis = POSE_VISIBLE;
				np++;
				s->ninst[n]++;
				continue;
			}
			confmap_crop_origin(cx, cy, crop, crop, &x0, &y0);
			s->frame[n] = i;
			s->x0[n] = x0;
			s->y0[n] = y0;
			s->first[n] = np;
			s->ninst[n] = 1;
			for (size_t nd = 0; nd < k; nd++) {
				dst[nd] = src[nd];
				dst[nd].x = src[nd].x - (float)x0;
				dst[nd].y = src[nd].y - (float)y0;
			}
			np++;
			n++;
		}
		if (role != KP_CROPS)
			n++;
	}
	s->n = n;
}

/* The network input of sample i for st: its frame (frames of geometry fg), or its crop of it
 * (buf holds the crop's pixels: st's in_w x in_h x c bytes). */
static void kp_sample_planes(const struct kp_state *st, const struct kp_geom *fg,
			     const struct kp_frames *f, const struct kp_samples *s, size_t i,
			     unsigned char *buf, float *out)
{
	unsigned char *px = f->px + s->frame[i] * fg->in_w * fg->in_h * (size_t)fg->c;
	if (s->x0) {
		struct img im = {fg->in_w, fg->in_h, fg->c, px};
		confmap_crop(&im, s->x0[i], s->y0[i], st->g.in_w, st->g.in_h, buf);
		px = buf;
	}
	kp_planes(st, px, out);
}

/* Inputs and targets of samples s of frames f without augmentation (validation). */
static void kp_plain(const struct kp_state *st, const struct kp_geom *fg, const struct kp_frames *f,
		     const struct kp_samples *s, float *X, float *T)
{
	size_t in_size = (size_t)st->g.c * st->g.pad_w * st->g.pad_h;
	size_t map_size = s->kk * st->cg.out_w * st->cg.out_h;
	unsigned char *buf = xmallocarray(st->g.in_w * st->g.in_h, (size_t)st->g.c);
	for (size_t i = 0; i < s->n; i++) {
		kp_sample_planes(st, fg, f, s, i, buf, X + i * in_size);
		confmap_make_multi(&st->cg, s->pts + s->first[i] * s->kk, s->ninst[i], s->kk,
				   T + i * map_size);
	}
	free(buf);
}

/* Errors in source pixels (frames of geometry fg) of peaks pk (n x kk, in the samples'
 * pixels) against the labels of samples s (their first instance); usable ones into err
 * (n x kk; NaN for none). */
static void kp_errors(const struct kp_geom *fg, const struct kp_samples *s,
		      const struct confmap_peak *pk, double *err)
{
	size_t k = s->kk;
	for (size_t i = 0; i < s->n; i++)
		for (size_t nd = 0; nd < k; nd++) {
			struct pose_point lab;
			const struct confmap_peak *q = &pk[i * k + nd];
			float px = q->x, py = q->y;
			err[i * k + nd] = NAN;
			if (!s->ninst[i])
				continue;
			lab = s->pts[s->first[i] * k + nd];
			if (s->x0) { /* a crop's pixels to the frame's */
				lab.x += (float)s->x0[i];
				lab.y += (float)s->y0[i];
				px += (float)s->x0[i];
				py += (float)s->y0[i];
			}
			lab.x = to_source(lab.x, fg->src_w, fg->in_w);
			lab.y = to_source(lab.y, fg->src_h, fg->in_h);
			if (!pose_point_usable(&lab))
				continue;
			if (isnan(q->x)) {
				err[i * k + nd] = INFINITY; /* labeled but not found */
				continue;
			}
			err[i * k + nd] =
			    pose_point_error(to_source(px, fg->src_w, fg->in_w),
					     to_source(py, fg->src_h, fg->in_h), &lab);
		}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of the non-NaN values of v[0..n) (sorted in place: NaNs dropped first). */
static double median_of(double *v, size_t n, size_t *used)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[m++] = v[i];
	*used = m;
	if (!m)
		return NAN;
	qsort(v, m, sizeof(double), cmp_double);
	return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/* Copies the tensors of src into dst's of the same name and shape; all of them must be there
 * (a warm start of the same network). */
static int kp_copy_weights(struct nn_net *dst, const struct nn_net *src, struct err *e)
{
	for (int i = 0; i < nn_net_ntensors(dst); i++) {
		const struct nn_tensor *t = nn_net_tensor(dst, i), *s = nn_net_find(src, t->name);
		if (!s || s->size != t->size || memcmp(s->shape, t->shape, sizeof(t->shape)))
			return err_set(e, DYN_EUSAGE,
				       "the model to start from has no tensor \"%s\" of this shape "
				       "(another backbone, frame size or skeleton?)",
				       t->name);
		memcpy(t->data, s->data, t->size * sizeof(float));
	}
	return 0;
}

static int kp_load_weights(struct kp_state *st, const struct params *p, const char *path,
			   struct err *e)
{
	struct st_file f;
	FILE *fp;
	int ret = -1;
	st_init(&f);
	if (!(fp = fopen(path, "rb")))
		return err_sys(e, "--weights: \"%s\"", path);
	if (fseek(fp, 0, SEEK_END) == 0) {
		long size = ftell(fp);
		rewind(fp);
		if (size >= 0 && st_read(&f, fileno(fp), (uint64_t)size, NULL, e) == 0 &&
		    pretrained_load(st->net, &st->bb, &f, path,
				    nn_encoder_name((enum nn_encoder)params_choice(p, "encoder")),
				    e) >= 0)
			ret = 0;
		else if (size < 0)
			err_sys(e, "--weights: \"%s\"", path);
	} else {
		err_sys(e, "--weights: \"%s\"", path);
	}
	fclose(fp);
	st_release(&f);
	return ret;
}

/* Swaps the points of symmetric nodes (a mirrored frame's left is its right). */
static void kp_flip_points(const size_t *map, float *xy, size_t k)
{
	for (size_t nd = 0; nd < k; nd++)
		if (map[nd] > nd) {
			float tx = xy[2 * nd], ty = xy[2 * nd + 1];
			xy[2 * nd] = xy[2 * map[nd]];
			xy[2 * nd + 1] = xy[2 * map[nd] + 1];
			xy[2 * map[nd]] = tx;
			xy[2 * map[nd] + 1] = ty;
		}
}

/* One network's training, a phase of a model's: the centroid network of a multi-animal model
 * is phase 0 and its centred-instance network phase 1; a one-animal model has phase 0 only. */
struct kp_phase {
	int phase;
	long epoch0, epochs_all;      /* epochs reported before this phase's, and in all */
	const struct nn_net *done;    /* phase 1: the trained centroid network (in checkpoints) */
	const struct st_file *resume; /* this phase's checkpoint to go on from, or NULL */
	uint64_t seed;
	long run;	/* out: epochs run */
	int best_epoch; /* out: the epoch kept (0-based), -1: the last */
};

/* The state of a training between epochs: what a checkpoint holds. */
struct kp_run {
	struct nn_net *net;
	struct nn_optim *opt;
	struct nn_sched *sched;
	struct nn_early *early;
	struct rng *r;
	size_t *order, n;
	float **best; /* the best epoch's state, or NULL */
	long epoch;   /* epochs done */
	const struct kp_phase *ph;
};

/* Gives ctx->on_checkpoint the state after an epoch. */
static int kp_checkpoint(const struct fit_ctx *ctx, const struct kp_run *k, struct err *e)
{
	struct st_file f;
	size_t ns = nn_net_state_size(k->net), shape[1];
	float *state = xmallocarray(ns, sizeof(float));
	int64_t *order = xmallocarray(k->n, sizeof(int64_t));
	char buf[256];
	int ret;

	st_init(&f);
	nn_net_get_state(k->net, state);
	shape[0] = ns;
	st_add_owned(&f, "ckpt.state", ST_F32, 1, shape, state);
	if (*k->best)
		st_add(&f, "ckpt.best", ST_F32, 1, shape, *k->best);
	shape[0] = k->opt->n;
	st_add(&f, "ckpt.adam_m", ST_F32, 1, shape, k->opt->m);
	st_add(&f, "ckpt.adam_v", ST_F32, 1, shape, k->opt->v);
	for (size_t i = 0; i < k->n; i++)
		order[i] = (int64_t)k->order[i];
	shape[0] = k->n;
	st_add_owned(&f, "ckpt.order", ST_I64, 1, shape, order);
	snprintf(buf, sizeof(buf), "%ld", k->epoch);
	st_set_meta(&f, "ckpt.epoch", buf);
	snprintf(buf, sizeof(buf), "%ld %.9g", k->opt->t, (double)k->opt->lr);
	st_set_meta(&f, "ckpt.optim", buf);
	snprintf(buf, sizeof(buf), "%.9g %.9g %d %d %d", (double)k->sched->lr,
		 (double)k->sched->best, k->sched->bad, k->sched->cooldown_left, k->sched->seen);
	st_set_meta(&f, "ckpt.sched", buf);
	snprintf(buf, sizeof(buf), "%.9g %d %d %d", (double)k->early->best, k->early->best_epoch,
		 k->early->bad, k->early->seen);
	st_set_meta(&f, "ckpt.early", buf);
	snprintf(buf, sizeof(buf), "%llu %llu %llu %llu %.17g %d", (unsigned long long)k->r->s[0],
		 (unsigned long long)k->r->s[1], (unsigned long long)k->r->s[2],
		 (unsigned long long)k->r->s[3], k->r->spare, k->r->has_spare);
	st_set_meta(&f, "ckpt.rng", buf);
	if (k->ph->phase) {
		snprintf(buf, sizeof(buf), "%d %ld", k->ph->phase, k->ph->epoch0);
		st_set_meta(&f, "ckpt.phase", buf);
		model_net_save(&f, "ckpt.centroid", k->ph->done);
	}
	ret = ctx->on_checkpoint(ctx->on_checkpoint_arg, &f, e);
	st_release(&f);
	return ret;
}

/* A float tensor of checkpoint f of exactly n values, or NULL with e set. */
static const float *ckpt_floats(const struct st_file *f, const char *name, size_t n, struct err *e)
{
	const struct st_tensor *t = st_get(f, name, ST_F32, 1, e);
	if (t && t->shape[0] != n) {
		err_set(e, DYN_EDATA, "checkpoint: \"%s\" has %zu values, the training %zu", name,
			t->shape[0], n);
		return NULL;
	}
	return t ? t->data : NULL;
}

/* Puts the training where checkpoint f left it. */
static int kp_restore(const struct st_file *f, struct kp_run *k, struct err *e)
{
	size_t ns = nn_net_state_size(k->net);
	const float *state, *m, *v;
	const struct st_tensor *ord;
	const char *ep = st_get_meta(f, "ckpt.epoch"), *op = st_get_meta(f, "ckpt.optim"),
		   *sc = st_get_meta(f, "ckpt.sched"), *ea = st_get_meta(f, "ckpt.early"),
		   *rn = st_get_meta(f, "ckpt.rng");
	unsigned long long s[4];
	double lr, best, ebest, spare;
	int has_spare;
	if (!(state = ckpt_floats(f, "ckpt.state", ns, e)) ||
	    !(m = ckpt_floats(f, "ckpt.adam_m", k->opt->n, e)) ||
	    !(v = ckpt_floats(f, "ckpt.adam_v", k->opt->n, e)) ||
	    !(ord = st_get(f, "ckpt.order", ST_I64, 1, e)))
		return -1;
	if (ord->shape[0] != k->n)
		return err_set(e, DYN_EDATA, "checkpoint: made on %zu frames, the training has %zu",
			       ord->shape[0], k->n);
	if (!ep || !op || !sc || !ea || !rn || sscanf(ep, "%ld", &k->epoch) != 1 ||
	    sscanf(op, "%ld %lg", &k->opt->t, &lr) != 2 ||
	    sscanf(sc, "%lg %lg %d %d %d", &lr, &best, &k->sched->bad, &k->sched->cooldown_left,
		   &k->sched->seen) != 5 ||
	    sscanf(ea, "%lg %d %d %d", &ebest, &k->early->best_epoch, &k->early->bad,
		   &k->early->seen) != 4 ||
	    sscanf(rn, "%llu %llu %llu %llu %lg %d", &s[0], &s[1], &s[2], &s[3], &spare,
		   &has_spare) != 6 ||
	    k->epoch < 0)
		return err_set(e, DYN_EDATA, "checkpoint: its training state cannot be read");
	k->sched->lr = (float)lr;
	k->sched->best = (float)best;
	k->early->best = (float)ebest;
	for (int i = 0; i < 4; i++)
		k->r->s[i] = s[i];
	k->r->spare = spare;
	k->r->has_spare = has_spare;
	nn_net_set_state(k->net, state);
	memcpy(k->opt->m, m, k->opt->n * sizeof(float));
	memcpy(k->opt->v, v, k->opt->n * sizeof(float));
	for (size_t i = 0; i < k->n; i++) {
		int64_t o = ((const int64_t *)ord->data)[i];
		if (o < 0 || (uint64_t)o >= k->n)
			return err_set(e, DYN_EDATA, "checkpoint: a frame order out of range");
		k->order[i] = (size_t)o;
	}
	if (st_has(f, "ckpt.best")) {
		const float *b = ckpt_floats(f, "ckpt.best", ns, e);
		if (!b)
			return -1;
		*k->best = xmallocarray(ns, sizeof(float));
		memcpy(*k->best, b, ns * sizeof(float));
	}
	return 0;
}

/* Trains st's network (initialized) on samples tr of frames tf, watching samples va of vf
 * (may be empty), both frames of geometry fg; flipmap maps the samples' kk nodes under a
 * mirror. */
static int kp_train(struct kp_state *st, const struct params *p, const struct kp_geom *fg,
		    const struct kp_frames *tf, const struct kp_samples *tr,
		    const struct kp_frames *vf, const struct kp_samples *va, const size_t *flipmap,
		    const struct fit_ctx *ctx, struct kp_phase *ph, struct err *e)
{
	size_t k = tr->kk, n = tr->n, nv = va->n, i, step, steps, in_size, map_size, *order = NULL;
	int B = st->max_batch, ret = -1;
	long epochs = (long)params_num(p, "epochs"), ep;
	int patience = (int)params_num(p, "patience");
	float *X = NULL, *T = NULL, *Xv = NULL, *Tv = NULL, *base = NULL, *dmaps = NULL,
	      *best = NULL, *xy = NULL;
	unsigned char *buf = NULL;
	struct confmap_peak *pk = NULL;
	double *errs = NULL;
	struct pose_point *pts = NULL;
	struct nn_optim opt;
	struct nn_sched sched;
	struct nn_early early;
	struct nn_aug_image aug;
	struct rng r;
	struct kp_run kr;
	bool have_opt = false;

	in_size = (size_t)st->g.c * st->g.pad_w * st->g.pad_h;
	map_size = k * st->cg.out_w * st->cg.out_h;
	X = xmallocarray((size_t)B, in_size * sizeof(float));
	T = xmallocarray((size_t)B, map_size * sizeof(float));
	dmaps = xmallocarray((size_t)B, map_size * sizeof(float));
	base = xmallocarray(in_size, sizeof(float));
	buf = xmallocarray(st->g.in_w * st->g.in_h, (size_t)st->g.c);
	xy = xmallocarray(2 * k, sizeof(float));
	pts = xmallocarray(k, sizeof(*pts));
	order = xmallocarray(n, sizeof(size_t));
	for (i = 0; i < n; i++)
		order[i] = i;
	if (nv) {
		Xv = xmallocarray(nv, in_size * sizeof(float));
		Tv = xmallocarray(nv, map_size * sizeof(float));
		kp_plain(st, fg, vf, va, Xv, Tv);
		pk = xmallocarray(nv, k * sizeof(*pk));
		errs = xmallocarray(nv, k * sizeof(double));
	}
	memset(&aug, 0, sizeof(aug));
	aug.rot = (float)(params_num(p, "rotation") * M_PI / 180);
	aug.zoom = (float)params_num(p, "scale");
	aug.flip = params_num(p, "flip") != 0 ? 0.5f : 0;
	aug.bright = (float)params_num(p, "brightness");
	aug.contrast = (float)params_num(p, "contrast");
	nn_optim_init(&opt, NN_ADAM, nn_net_nparams(st->net));
	have_opt = true;
	nn_sched_init(&sched, NN_SCHED_PLATEAU, (float)params_num(p, "lr"));
	sched.factor = 0.5f;
	sched.patience = (int)params_num(p, "plateau_patience");
	sched.min_lr = 1e-6f;
	nn_early_init(&early, patience, 0, 0);
	rng_init(&r, ph->seed);
	kr.net = st->net;
	kr.opt = &opt;
	kr.sched = &sched;
	kr.early = &early;
	kr.r = &r;
	kr.order = order;
	kr.n = n;
	kr.best = &best;
	kr.epoch = 0;
	kr.ph = ph;
	ph->best_epoch = -1;
	if (ph->resume && kp_restore(ph->resume, &kr, e) < 0)
		goto out;
	steps = (size_t)epochs * ((n + (size_t)B - 1) / (size_t)B);
	step = (size_t)kr.epoch * ((n + (size_t)B - 1) / (size_t)B);
	ph->run = kr.epoch;
	/* a checkpoint of the epoch that stopped the training ends it */
	if (ph->resume && patience && nv && nn_early_stop(&early))
		ep = epochs;
	else
		ep = kr.epoch;
	for (; ep < epochs; ep++) {
		struct epoch_stats es;
		double t0 = clock_monotonic(), sl = 0;
		size_t seen = 0;
		opt.lr = sched.lr;
		rng_shuffle(&r, order, n);
		/* A last batch of one would make batch statistics meaningless: it joins none. */
		for (i = 0; i + 1 < n || (i < n && n == 1); i += (size_t)B) {
			int b = (int)(n - i < (size_t)B ? n - i : (size_t)B);
			for (int q = 0; q < b; q++) {
				size_t si = order[i + (size_t)q], ni = tr->ninst[si];
				float *Tq = T + (size_t)q * map_size;
				kp_sample_planes(st, fg, tf, tr, si, buf, base);
				memset(Tq, 0, map_size * sizeof(float));
				/* one draw of the transform for the picture and all its animals */
				struct rng keep = r;
				for (size_t inst = 0; inst < (ni ? ni : 1); inst++) {
					const struct pose_point *src =
					    ni ? tr->pts + (tr->first[si] + inst) * k : NULL;
					struct rng rr = keep;
					int flipped;
					for (size_t nd = 0; nd < k; nd++) {
						xy[2 * nd] = src ? src[nd].x : NAN;
						xy[2 * nd + 1] = src ? src[nd].y : NAN;
					}
					flipped = nn_aug_image_points(
					    X + (size_t)q * in_size, base, st->g.c,
					    (int)st->g.pad_h, (int)st->g.pad_w, &rr, &aug, xy, k);
					if (inst + 1 == (ni ? ni : 1))
						r = rr;
					if (!src)
						break;
					if (flipped)
						kp_flip_points(flipmap, xy, k);
					for (size_t nd = 0; nd < k; nd++) {
						pts[nd] = src[flipped ? flipmap[nd] : nd];
						pts[nd].x = xy[2 * nd];
						pts[nd].y = xy[2 * nd + 1];
					}
					if (inst == 0) {
						confmap_make(&st->cg, pts, k, Tq);
					} else {
						/* each pixel the largest of the animals' values */
						float *tmp = dmaps;
						confmap_make(&st->cg, pts, k, tmp);
						for (size_t v = 0; v < map_size; v++)
							Tq[v] = Tq[v] > tmp[v] ? Tq[v] : tmp[v];
					}
				}
			}
			const float *maps = nn_net_forward(st->net, X, b, 1);
			sl += (double)nn_mse(dmaps, maps, T, (size_t)b * map_size) * b;
			seen += (size_t)b;
			nn_net_zero_grad(st->net);
			nn_net_backward(st->net, dmaps);
			nn_net_step(st->net, &opt);
			progress_update(ctx->progress, (double)++step, (double)steps);
		}
		memset(&es, 0, sizeof(es));
		es.epoch = ph->epoch0 + ep + 1;
		es.epochs = ph->epochs_all;
		es.loss = seen ? sl / (double)seen : NAN;
		es.lr = opt.lr;
		es.metric = "error_px";
		es.train_metric = es.val_metric = es.val_loss = NAN;
		if (nv) {
			size_t used;
			es.val_loss = kp_forward(st, p, k, Xv, Tv, nv, pk);
			kp_errors(fg, va, pk, errs);
			es.val_metric = median_of(errs, nv * k, &used);
		}
		es.seconds = clock_monotonic() - t0;
		ph->run = ep + 1;
		if (ctx->on_epoch && ctx->on_epoch(ctx->on_epoch_arg, &es, e) < 0)
			goto out;
		if (sched.patience > 0)
			nn_sched_plateau(&sched, (float)(nv ? es.val_loss : es.loss));
		if (patience && nv) {
			if (nn_early_update(&early, (int)ep, (float)es.val_loss)) {
				if (!best)
					best =
					    xmallocarray(nn_net_state_size(st->net), sizeof(float));
				nn_net_get_state(st->net, best);
			}
		}
		kr.epoch = ep + 1;
		if (ctx->on_checkpoint && kp_checkpoint(ctx, &kr, e) < 0)
			goto out;
		if (patience && nv && nn_early_stop(&early))
			break;
	}
	if (best) {
		nn_net_set_state(st->net, best);
		ph->best_epoch = early.best_epoch;
	}
	ret = 0;
out:
	if (have_opt)
		nn_optim_release(&opt);
	free(X);
	free(T);
	free(Xv);
	free(Tv);
	free(base);
	free(buf);
	free(dmaps);
	free(best);
	free(xy);
	free(pts);
	free(pk);
	free(errs);
	free(order);
	return ret;
}

/* Copies the skeleton's edges and symmetries of pd into st (node names are the classes). */
static void kp_keep_skeleton(struct kp_state *st, const struct pose_dataset *pd, size_t k)
{
	st->skel.nnodes = k;
	st->skel.nedges = pd->skel.nedges;
	st->skel.edges = xmallocarray(2 * pd->skel.nedges + 1, sizeof(size_t));
	if (pd->skel.nedges)
		memcpy(st->skel.edges, pd->skel.edges, 2 * pd->skel.nedges * sizeof(size_t));
	st->skel.nsyms = pd->skel.nsyms;
	st->skel.syms = xmallocarray(2 * pd->skel.nsyms + 1, sizeof(size_t));
	if (pd->skel.nsyms)
		memcpy(st->skel.syms, pd->skel.syms, 2 * pd->skel.nsyms * sizeof(size_t));
}

/* The phase a checkpoint was made in, and the epochs run before it. */
static int kp_ckpt_phase(const struct st_file *f, int *phase, long *epoch0, struct err *e)
{
	const char *ph = f ? st_get_meta(f, "ckpt.phase") : NULL;
	*phase = 0;
	*epoch0 = 0;
	if (ph && (sscanf(ph, "%d %ld", phase, epoch0) != 2 || *phase != 1 || *epoch0 < 0))
		return err_set(e, DYN_EDATA, "checkpoint: its training phase cannot be read");
	return 0;
}

static int kp_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		  const struct fit_ctx *ctx, struct err *e)
{
	const struct params *p = &m->params;
	const struct pose_dataset *pd = ds->pose;
	struct kp_state *st = NULL;
	struct kp_frames tr, va;
	struct kp_samples s_tr, s_va, c_tr, c_va;
	size_t k = m->k, n = ds->n, *flipmap = NULL, one[1] = {0};
	int threads = par_cpus(ctx->threads), B = (int)params_num(p, "batch_size"), ret = -1;
	long epochs = (long)params_num(p, "epochs");
	double scale = params_num(p, "input_scale");
	struct kp_phase ph;
	cJSON *info = cJSON_CreateObject();
	bool multi;
	char buf[64];

	memset(&tr, 0, sizeof(tr));
	memset(&va, 0, sizeof(va));
	memset(&s_tr, 0, sizeof(s_tr));
	memset(&s_va, 0, sizeof(s_va));
	memset(&c_tr, 0, sizeof(c_tr));
	memset(&c_va, 0, sizeof(c_va));
	memset(&ph, 0, sizeof(ph));
	if (!pd || !n) {
		err_set(e, DYN_EUSAGE, "keypoints models train on a pose dataset");
		goto out;
	}
	multi = kp_is_multi(p, pd);
	if (kp_check_weights(p, ctx->weights, warm != NULL, e) < 0)
		goto out;
	if (warm && (((const struct kp_state *)warm->state)->inst != NULL) != multi) {
		err_set(e, DYN_EUSAGE,
			"--warm-start: that model finds %s a frame, this one would find %s",
			multi ? "one animal" : "several animals", multi ? "several" : "one");
		goto out;
	}
	if ((size_t)B > n)
		B = (int)n;
	if (kp_build(&st, p, multi ? 1 : k, pd->width, pd->height, scale, B, threads, e) < 0)
		goto out;
	nn_net_init(st->net, ctx->seed);
	if (ctx->weights && kp_load_weights(st, p, ctx->weights, e) < 0)
		goto out;
	if (warm) {
		const struct kp_state *ws = warm->state;
		if (ws->g.src_w != st->g.src_w || ws->g.src_h != st->g.src_h) {
			err_set(e, DYN_EUSAGE,
				"--warm-start: that model was trained on %zux%zu frames, these are "
				"%zux%zu",
				ws->g.src_w, ws->g.src_h, st->g.src_w, st->g.src_h);
			goto out;
		}
		if (kp_copy_weights(st->net, ws->net, e) < 0)
			goto out;
	}
	if (kp_frames_load(&tr, ds, &st->g, threads, e) < 0)
		goto out;
	if (ctx->valid && ctx->valid->n && kp_frames_load(&va, ctx->valid, &st->g, threads, e) < 0)
		goto out;
	flipmap = xmallocarray(k, sizeof(size_t));
	pose_skeleton_flip_map(&pd->skel, flipmap);
	ph.epochs_all = epochs;
	ph.resume = ctx->resume;
	ph.seed = ctx->seed ^ 0x6b657970ULL;
	if (!multi) {
		kp_samples_make(&s_tr, &tr, KP_FRAMES, -1, 0);
		kp_samples_make(&s_va, &va, KP_FRAMES, -1, 0);
		if (kp_train(st, p, &st->g, &tr, &s_tr, &va, &s_va, flipmap, ctx, &ph, e) < 0)
			goto out;
	} else {
		int phase;
		long run0;
		if (kp_multi_setup(p, pd, kp_max_stride(p), &st->anchor, &st->crop, &st->max_inst,
				   e) < 0 ||
		    kp_ckpt_phase(ctx->resume, &phase, &run0, e) < 0)
			goto out;
		kp_samples_make(&c_tr, &tr, KP_CENTROIDS, st->anchor, st->crop);
		kp_samples_make(&c_va, &va, KP_CENTROIDS, st->anchor, st->crop);
		kp_samples_make(&s_tr, &tr, KP_CROPS, st->anchor, st->crop);
		kp_samples_make(&s_va, &va, KP_CROPS, st->anchor, st->crop);
		if (!s_tr.n) {
			err_set(e, DYN_EDATA, "no animal with a labeled visible point to train on");
			goto out;
		}
		if (kp_build(&st->inst, p, k, st->crop, st->crop, 1,
			     (int)(s_tr.n < (size_t)B ? s_tr.n : (size_t)B), threads, e) < 0)
			goto out;
		nn_net_init(st->inst->net, ctx->seed ^ 0x696e7374ULL);
		if (ctx->weights && kp_load_weights(st->inst, p, ctx->weights, e) < 0)
			goto out;
		if (warm &&
		    kp_copy_weights(st->inst->net,
				    ((const struct kp_state *)warm->state)->inst->net, e) < 0)
			goto out;
		ph.epochs_all = 2 * epochs;
		if (phase == 1) { /* the centroid network was done */
			if (model_net_load(ctx->resume, "ckpt.centroid", st->net, e) < 0)
				goto out;
			ph.run = run0;
		} else if (kp_train(st, p, &st->g, &tr, &c_tr, &va, &c_va, one, ctx, &ph, e) < 0) {
			goto out;
		}
		cJSON_AddNumberToObject(info, "centroid_epochs_run", (double)ph.run);
		run0 = ph.run;
		ph.phase = 1;
		ph.epoch0 = run0;
		ph.done = st->net;
		ph.resume = phase == 1 ? ctx->resume : NULL;
		ph.seed = ctx->seed ^ 0x63726f70ULL;
		if (kp_train(st->inst, p, &st->g, &tr, &s_tr, &va, &s_va, flipmap, ctx, &ph, e) < 0)
			goto out;
		cJSON_AddNumberToObject(info, "instance_epochs_run", (double)ph.run);
		ph.run += run0;
		kp_keep_skeleton(st->inst, pd, k);
	}
	if (ph.best_epoch >= 0)
		cJSON_AddNumberToObject(info, "best_epoch", (double)ph.best_epoch + 1);
	cJSON_AddNumberToObject(info, "parameters",
				(double)nn_net_nparams(st->net) +
				    (st->inst ? (double)nn_net_nparams(st->inst->net) : 0));
	cJSON_AddNumberToObject(info, "epochs_run", (double)ph.run);
	snprintf(buf, sizeof(buf), "%zux%zu", st->g.src_w, st->g.src_h);
	cJSON_AddStringToObject(info, "frame_size", buf);
	snprintf(buf, sizeof(buf), "%zux%zu", st->g.pad_w, st->g.pad_h);
	cJSON_AddStringToObject(info, "input_size", buf);
	snprintf(buf, sizeof(buf), "%zux%zu", st->cg.out_w, st->cg.out_h);
	cJSON_AddStringToObject(info, "map_size", buf);
	if (multi) {
		cJSON_AddStringToObject(info, "instances", "multi");
		cJSON_AddStringToObject(info, "anchor",
					st->anchor >= 0 ? pd->skel.nodes[st->anchor] : "centroid");
		snprintf(buf, sizeof(buf), "%zux%zu", st->crop, st->crop);
		cJSON_AddStringToObject(info, "crop_size", buf);
		cJSON_AddNumberToObject(info, "max_instances", (double)st->max_inst);
		cJSON_AddNumberToObject(info, "training_crops", (double)s_tr.n);
	}
	kp_keep_skeleton(st, pd, k);
	cJSON_Delete(m->info);
	m->info = info;
	info = NULL;
	m->state = st;
	st = NULL;
	ret = 0;
out:
	cJSON_Delete(info);
	kp_free(st);
	kp_frames_release(&tr);
	kp_frames_release(&va);
	kp_samples_release(&s_tr);
	kp_samples_release(&s_va);
	kp_samples_release(&c_tr);
	kp_samples_release(&c_va);
	free(flipmap);
	return ret;
}

/* ---- Prediction ------------------------------------------------------------------------ */

static void kp_frame_size(const struct model *m, size_t src_w, size_t src_h, size_t *w, size_t *h,
			  int *channels)
{
	const struct kp_state *st = m->state;
	(void)src_w;
	(void)src_h;
	/* frames of another size are scaled to the network's whole (each axis apart) */
	*w = st->g.in_w;
	*h = st->g.in_h;
	*channels = st->g.c;
}

#define PREDICT_CHUNK 16

/* The animals predict gives a frame: one, or a multi-animal model's max_instances. */
static size_t kp_instances(const struct model *m)
{
	const struct kp_state *st = m->state;
	return st && st->inst ? st->max_inst : 1;
}

/* A multi-animal model's predict: the anchors found in each frame's map, a crop around each
 * to the centred-instance network, its peaks moved back to the frame. Fills n x max_inst x k x
 * 3 values, the strongest anchor first; slots past the animals found are all NaN. Called with
 * st->lock held. */
static int kp_predict_multi(const struct model *m, const struct batch *b, double *out,
			    struct err *e)
{
	struct kp_state *st = m->state, *is = st->inst;
	const struct params *p = &m->params;
	size_t k = m->k, mi = st->max_inst, crop = st->crop, c = (size_t)st->g.c;
	size_t in_size = c * st->g.pad_w * st->g.pad_h, is_size = c * is->g.pad_w * is->g.pad_h;
	size_t fs = st->g.in_w * st->g.in_h * c, map1 = st->cg.out_w * st->cg.out_h;
	size_t ib = (size_t)is->max_batch;
	unsigned char *px = xmallocarray(PREDICT_CHUNK, fs), *cbuf = xmallocarray(crop * crop, c);
	float *X = xmallocarray(PREDICT_CHUNK, in_size * sizeof(float));
	float *Xi = xmallocarray(ib, is_size * sizeof(float));
	struct confmap_peak *cen = xmallocarray(PREDICT_CHUNK * mi, sizeof(*cen));
	struct confmap_peak *pk = xmallocarray(ib, k * sizeof(*pk));
	size_t *ncen = xmallocarray(PREDICT_CHUNK, sizeof(size_t));
	long *x0 = xmallocarray(ib, sizeof(long)), *y0 = xmallocarray(ib, sizeof(long));
	float thr = (float)params_num(p, "peak_threshold");
	int ret = -1;

	for (size_t i = 0; i < b->n * mi * k * 3; i++)
		out[i] = NAN;
	for (size_t i = 0; i < b->n; i += PREDICT_CHUNK) {
		size_t nb = b->n - i < PREDICT_CHUNK ? b->n - i : PREDICT_CHUNK;
		for (size_t q = 0; q < nb; q++) {
			if (kp_scale_frame(&st->g, &b->frames[i + q], px + q * fs, e) < 0)
				goto out;
			kp_planes(st, px + q * fs, X + q * in_size);
		}
		for (size_t q = 0; q < nb; q += (size_t)st->max_batch) {
			size_t bb = nb - q < (size_t)st->max_batch ? nb - q : (size_t)st->max_batch;
			const float *maps = nn_net_forward(st->net, X + q * in_size, (int)bb, 0);
			for (size_t r = 0; r < bb; r++)
				ncen[q + r] =
				    confmap_peaks_multi(&st->cg, maps + r * map1, kp_refine(p), thr,
							mi, cen + (q + r) * mi);
		}
		for (size_t q = 0; q < nb; q++) {
			const struct img *im = &b->frames[i + q];
			struct img fr = {st->g.in_w, st->g.in_h, st->g.c, px + q * fs};
			size_t sw = b->frame_w ? b->frame_w[i + q] : im->w;
			size_t sh = b->frame_h ? b->frame_h[i + q] : im->h;
			for (size_t a = 0; a < ncen[q]; a += ib) {
				size_t na = ncen[q] - a < ib ? ncen[q] - a : ib;
				for (size_t r = 0; r < na; r++) {
					const struct confmap_peak *ce = &cen[q * mi + a + r];
					confmap_crop_origin(ce->x, ce->y, crop, crop, &x0[r],
							    &y0[r]);
					confmap_crop(&fr, x0[r], y0[r], crop, crop, cbuf);
					kp_planes(is, cbuf, Xi + r * is_size);
				}
				kp_forward(is, p, k, Xi, NULL, na, pk);
				for (size_t r = 0; r < na; r++)
					for (size_t nd = 0; nd < k; nd++) {
						const struct confmap_peak *c1 = &pk[r * k + nd];
						double *o =
						    out + (((i + q) * mi + a + r) * k + nd) * 3;
						o[0] = isnan(c1->x)
							   ? NAN
							   : to_source(c1->x + (float)x0[r], sw,
								       st->g.in_w);
						o[1] = isnan(c1->y)
							   ? NAN
							   : to_source(c1->y + (float)y0[r], sh,
								       st->g.in_h);
						o[2] = c1->score;
					}
			}
		}
	}
	ret = 0;
out:
	free(px);
	free(cbuf);
	free(X);
	free(Xi);
	free(cen);
	free(pk);
	free(ncen);
	free(x0);
	free(y0);
	return ret;
}

static int kp_predict(const struct model *m, const struct batch *b, double *out, struct err *e)
{
	struct kp_state *st = m->state;
	size_t k = m->k, in_size = (size_t)st->g.c * st->g.pad_w * st->g.pad_h;
	size_t fs = st->g.in_w * st->g.in_h * (size_t)st->g.c, i;
	unsigned char *px = xmallocarray(fs, 1);
	float *X = xmallocarray(PREDICT_CHUNK, in_size * sizeof(float));
	struct confmap_peak *pk = xmallocarray(PREDICT_CHUNK, k * sizeof(*pk));
	int ret = -1;

	pthread_mutex_lock(&st->lock);
	if (st->inst) {
		ret = kp_predict_multi(m, b, out, e);
		goto out;
	}
	for (i = 0; i < b->n; i += PREDICT_CHUNK) {
		size_t nb = b->n - i < PREDICT_CHUNK ? b->n - i : PREDICT_CHUNK;
		for (size_t q = 0; q < nb; q++) {
			if (kp_scale_frame(&st->g, &b->frames[i + q], px, e) < 0)
				goto out;
			kp_planes(st, px, X + q * in_size);
		}
		kp_forward(st, &m->params, k, X, NULL, nb, pk);
		for (size_t q = 0; q < nb; q++) {
			const struct img *im = &b->frames[i + q];
			size_t sw = b->frame_w ? b->frame_w[i + q] : im->w;
			size_t sh = b->frame_h ? b->frame_h[i + q] : im->h;
			for (size_t nd = 0; nd < k; nd++) {
				const struct confmap_peak *c = &pk[q * k + nd];
				double *o = out + ((i + q) * k + nd) * 3;
				o[0] = isnan(c->x) ? NAN : to_source(c->x, sw, st->g.in_w);
				o[1] = isnan(c->y) ? NAN : to_source(c->y, sh, st->g.in_h);
				o[2] = c->score;
			}
		}
	}
	ret = 0;
out:
	pthread_mutex_unlock(&st->lock);
	free(px);
	free(X);
	free(pk);
	return ret;
}

/* ---- Evaluation ------------------------------------------------------------------------ */

struct eval_job {
	const struct dataset *v;
	struct img *frames;
	struct err *errs;
	int *failed;
};

static void eval_decode(void *arg, size_t i, int t)
{
	struct eval_job *j = arg;
	(void)t;
	if (pose_frame_image(j->v->pose, j->v->frame[i], 3, &j->frames[i], &j->errs[i]) < 0)
		j->failed[i] = 1;
}

/* Whether predict found predicted instance pr (k nodes, x y score each): its slot is not
 * all NaN. */
static bool kp_inst_found(const double *pr, size_t k)
{
	for (size_t nd = 0; nd < k; nd++)
		if (!isnan(pr[3 * nd + 2]))
			return true;
	return false;
}

/* Whether labeled instance l and predicted instance pr (k nodes, x y score each) can be
 * matched, and their mean distance over the nodes labeled in one and found in the other. */
static double kp_match_cost(const struct pose_point *l, const double *pr, size_t k)
{
	double sum = 0;
	size_t m = 0;
	for (size_t nd = 0; nd < k; nd++)
		if (pose_point_usable(&l[nd]) && !isnan(pr[3 * nd])) {
			sum += pose_point_error((float)pr[3 * nd], (float)pr[3 * nd + 1], &l[nd]);
			m++;
		}
	return m ? sum / (double)m : INFINITY;
}

/* A multi-animal model's report on frames v from its predictions pred (n x mi x k x 3): in
 * each frame, predicted and labeled animals are matched greedily, the pair of the smallest
 * mean node distance first; the errors are the matched animals' and instance recall the
 * share of the labeled animals (those with a usable point) matched. */
static cJSON *kp_report_multi(const struct model *m, const struct dataset *v, const double *pred,
			      size_t mi)
{
	size_t k = m->k, n = v->n, labeled = 0, matched = 0, predicted = 0, all = 0, found = 0,
	       hit5 = 0, hit10 = 0, ne = 0, used;
	double *errs = xmallocarray(n * mi * k + 1, sizeof(double)), sum = 0;
	size_t *enode = xmallocarray(n * mi * k + 1, sizeof(size_t));
	double *col = xmallocarray(n * mi * k + 1, sizeof(double));
	double *cost = NULL;
	size_t ccap = 0;
	cJSON *rep = cJSON_CreateObject(), *nodes;

	for (size_t i = 0; i < n; i++) {
		const struct pose_frame *f = &v->pose->frames[v->frame[i]];
		const double *pf = pred + i * mi * k * 3;
		size_t nl = f->ninst, np = 0;
		bool *lused, *pused;
		while (np < mi && kp_inst_found(pf + np * k * 3, k))
			np++;
		predicted += np;
		for (size_t l = 0; l < nl; l++) {
			const struct pose_point *lp = pose_frame_instance(v->pose, v->frame[i], l);
			for (size_t nd = 0; nd < k; nd++)
				if (pose_point_usable(&lp[nd])) {
					labeled++;
					break;
				}
		}
		if (nl * np > ccap) {
			ccap = nl * np;
			free(cost);
			cost = xmallocarray(ccap, sizeof(double));
		}
		for (size_t l = 0; l < nl; l++)
			for (size_t q = 0; q < np; q++)
				cost[l * np + q] =
				    kp_match_cost(pose_frame_instance(v->pose, v->frame[i], l),
						  pf + q * k * 3, k);
		lused = xcalloc(nl + 1, sizeof(bool));
		pused = xcalloc(np + 1, sizeof(bool));
		for (;;) {
			size_t bl = 0, bq = 0;
			double best = INFINITY;
			const struct pose_point *lp;
			for (size_t l = 0; l < nl; l++)
				for (size_t q = 0; q < np; q++)
					if (!lused[l] && !pused[q] && cost[l * np + q] < best) {
						best = cost[l * np + q];
						bl = l;
						bq = q;
					}
			if (!isfinite(best))
				break;
			lused[bl] = pused[bq] = true;
			matched++;
			lp = pose_frame_instance(v->pose, v->frame[i], bl);
			for (size_t nd = 0; nd < k; nd++) {
				const double *o = pf + (bq * k + nd) * 3;
				if (!pose_point_usable(&lp[nd]))
					continue;
				all++;
				enode[ne] = nd;
				if (isnan(o[0])) {
					errs[ne++] = INFINITY;
					continue;
				}
				errs[ne] = pose_point_error((float)o[0], (float)o[1], &lp[nd]);
				found++;
				sum += errs[ne];
				hit5 += errs[ne] <= 5;
				hit10 += errs[ne] <= 10;
				ne++;
			}
		}
		free(lused);
		free(pused);
	}
	cJSON_AddNumberToObject(rep, "frames", (double)n);
	cJSON_AddNumberToObject(rep, "instances", (double)labeled);
	cJSON_AddNumberToObject(rep, "instances_found", (double)matched);
	cJSON_AddNumberToObject(rep, "instance_recall",
				labeled ? (double)matched / (double)labeled : NAN);
	cJSON_AddNumberToObject(rep, "predicted_instances", (double)predicted);
	cJSON_AddNumberToObject(rep, "instance_precision",
				predicted ? (double)matched / (double)predicted : NAN);
	cJSON_AddNumberToObject(rep, "points", (double)all);
	cJSON_AddNumberToObject(rep, "found", (double)found);
	cJSON_AddNumberToObject(rep, "mean_error_px", found ? sum / (double)found : NAN);
	nodes = cJSON_AddObjectToObject(rep, "nodes");
	for (size_t nd = 0; nd < k; nd++) {
		size_t c = 0;
		cJSON *o = cJSON_AddObjectToObject(nodes, m->classes[nd]);
		for (size_t j = 0; j < ne; j++)
			if (enode[j] == nd)
				col[c++] = errs[j];
		cJSON_AddNumberToObject(o, "median_error_px", median_of(col, c, &used));
		cJSON_AddNumberToObject(o, "points", (double)used);
	}
	{
		double med = median_of(errs, ne, &used), p90 = NAN;
		if (used)
			p90 = errs[(size_t)floor(0.9 * (double)(used - 1) + 0.5)];
		cJSON_AddNumberToObject(rep, "median_error_px", med);
		cJSON_AddNumberToObject(rep, "p90_error_px", p90);
	}
	cJSON_AddNumberToObject(rep, "pck_5px", all ? (double)hit5 / (double)all : NAN);
	cJSON_AddNumberToObject(rep, "pck_10px", all ? (double)hit10 / (double)all : NAN);
	free(errs);
	free(enode);
	free(col);
	free(cost);
	return rep;
}

static int kp_evaluate(const struct model *m, const struct dataset *v, cJSON **report,
		       struct err *e)
{
	size_t k = m->k, n = v->n, i, nd, used, all = 0, hit5 = 0, hit10 = 0, found = 0;
	struct img *frames = xcalloc(n ? n : 1, sizeof(*frames));
	size_t mi = kp_instances(m);
	double *pred = xmallocarray(n ? n : 1, mi * 3 * k * sizeof(double));
	double *errs = xmallocarray(n ? n : 1, k * sizeof(double));
	double *col = xmallocarray(n ? n : 1, sizeof(double)), sum = 0;
	struct eval_job j = {v, frames, xcalloc(n ? n : 1, sizeof(struct err)),
			     xcalloc(n ? n : 1, sizeof(int))};
	struct batch b;
	cJSON *rep = NULL, *nodes;
	int ret = -1;

	for (i = 0; i < n; i++)
		img_init(&frames[i]);
	par_for(n, par_cpus(0), eval_decode, &j);
	for (i = 0; i < n; i++)
		if (j.failed[i]) {
			*e = j.errs[i];
			goto out;
		}
	memset(&b, 0, sizeof(b));
	b.n = n;
	b.frames = frames;
	if (kp_predict(m, &b, pred, e) < 0)
		goto out;
	if (((const struct kp_state *)m->state)->inst) {
		*report = kp_report_multi(m, v, pred, mi);
		ret = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct pose_frame *f = &v->pose->frames[v->frame[i]];
		for (nd = 0; nd < k; nd++) {
			double *er = &errs[i * k + nd];
			const struct pose_point *lab;
			*er = NAN;
			if (!f->ninst)
				continue;
			lab = pose_frame_instance(v->pose, v->frame[i], 0) + nd;
			if (!pose_point_usable(lab))
				continue;
			all++;
			if (isnan(pred[(i * k + nd) * 3])) {
				*er = INFINITY;
				continue;
			}
			*er = pose_point_error((float)pred[(i * k + nd) * 3],
					       (float)pred[(i * k + nd) * 3 + 1], lab);
			found++;
			sum += *er;
			hit5 += *er <= 5;
			hit10 += *er <= 10;
		}
	}
	rep = cJSON_CreateObject();
	cJSON_AddNumberToObject(rep, "frames", (double)n);
	cJSON_AddNumberToObject(rep, "points", (double)all);
	cJSON_AddNumberToObject(rep, "found", (double)found);
	cJSON_AddNumberToObject(rep, "mean_error_px", found ? sum / (double)found : NAN);
	nodes = cJSON_AddObjectToObject(rep, "nodes");
	for (nd = 0; nd < k; nd++) {
		size_t c = 0;
		for (i = 0; i < n; i++)
			col[c++] = errs[i * k + nd];
		cJSON *o = cJSON_AddObjectToObject(nodes, m->classes[nd]);
		double med = median_of(col, c, &used);
		cJSON_AddNumberToObject(o, "median_error_px", med);
		cJSON_AddNumberToObject(o, "points", (double)used);
	}
	{
		double med = median_of(errs, n * k, &used), p90 = NAN;
		if (used)
			p90 = errs[(size_t)floor(0.9 * (double)(used - 1) + 0.5)];
		cJSON_AddNumberToObject(rep, "median_error_px", med);
		cJSON_AddNumberToObject(rep, "p90_error_px", p90);
	}
	cJSON_AddNumberToObject(rep, "pck_5px", all ? (double)hit5 / (double)all : NAN);
	cJSON_AddNumberToObject(rep, "pck_10px", all ? (double)hit10 / (double)all : NAN);
	*report = rep;
	ret = 0;
out:
	for (i = 0; i < n; i++)
		img_release(&frames[i]);
	free(frames);
	free(pred);
	free(errs);
	free(col);
	free(j.errs);
	free(j.failed);
	return ret;
}

/* ---- The model file -------------------------------------------------------------------- */

static void pairs_json(struct strbuf *sb, const size_t *v, size_t n)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s[%zu,%zu]", i ? "," : "", v[2 * i], v[2 * i + 1]);
	strbuf_addch(sb, ']');
}

static int kp_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct kp_state *st = m->state;
	struct strbuf sb = STRBUF_INIT;
	(void)e;
	strbuf_addf(&sb, "%zux%zu", st->g.src_w, st->g.src_h);
	st_set_meta(f, "keypoints.frame", sb.buf);
	strbuf_reset(&sb);
	pairs_json(&sb, st->skel.edges, st->skel.nedges);
	st_set_meta(f, "keypoints.edges", sb.buf);
	strbuf_reset(&sb);
	pairs_json(&sb, st->skel.syms, st->skel.nsyms);
	st_set_meta(f, "keypoints.symmetries", sb.buf);
	if (st->inst) {
		/* the anchors' network is "net", the centred-instance one "instance" */
		strbuf_reset(&sb);
		strbuf_addf(&sb, "{\"crop\":%zu,\"anchor\":%ld,\"max_instances\":%zu}", st->crop,
			    st->anchor, st->max_inst);
		st_set_meta(f, "keypoints.multi", sb.buf);
		model_net_save(f, "instance", st->inst->net);
	}
	strbuf_release(&sb);
	model_net_save(f, "net", st->net);
	return 0;
}

/* Node index pairs from JSON text ([[0,1],...]), each index below k. */
static int pairs_parse(const char *text, size_t k, size_t **out, size_t *n, const char *what,
		       struct err *e)
{
	cJSON *doc = text ? cJSON_Parse(text) : NULL, *it;
	size_t i = 0;
	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(doc)) {
		cJSON_Delete(doc);
		return err_set(e, DYN_EDATA, "model file: no valid \"keypoints.%s\"", what);
	}
	*out = xmallocarray((size_t)cJSON_GetArraySize(doc) * 2 + 1, sizeof(size_t));
	cJSON_ArrayForEach(it, doc)
	{
		cJSON *a = cJSON_GetArrayItem(it, 0), *b = cJSON_GetArrayItem(it, 1);
		if (cJSON_GetArraySize(it) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
		    a->valuedouble < 0 || b->valuedouble < 0 || a->valuedouble >= (double)k ||
		    b->valuedouble >= (double)k) {
			cJSON_Delete(doc);
			FREE_AND_NULL(*out);
			return err_set(e, DYN_EDATA, "model file: bad \"keypoints.%s\"", what);
		}
		(*out)[2 * i] = (size_t)a->valuedouble;
		(*out)[2 * i + 1] = (size_t)b->valuedouble;
		i++;
	}
	*n = i;
	cJSON_Delete(doc);
	return 0;
}

static int kp_load(struct model *m, struct st_file *f, struct err *e)
{
	struct kp_state *st = NULL;
	const char *fr = st_get_meta(f, "keypoints.frame"), *mu = st_get_meta(f, "keypoints.multi");
	unsigned long w = 0, h = 0;
	size_t crop = 0, mi = 0;
	long anchor = -1;
	if (!fr || sscanf(fr, "%lux%lu", &w, &h) != 2 || w < 1 || h < 1 || w > 1000000 ||
	    h > 1000000)
		return err_set(e, DYN_EDATA, "model file: no valid \"keypoints.frame\"");
	if (m->k < 1)
		return err_set(e, DYN_EDATA, "model file: a skeleton without nodes");
	if (mu) {
		cJSON *doc = cJSON_Parse(mu), *c = cJSON_GetObjectItem(doc, "crop"),
		      *a = cJSON_GetObjectItem(doc, "anchor"),
		      *x = cJSON_GetObjectItem(doc, "max_instances");
		bool ok = cJSON_IsNumber(c) && cJSON_IsNumber(a) && cJSON_IsNumber(x) &&
			  c->valuedouble >= IMG_MIN_SIDE && c->valuedouble <= 4096 &&
			  c->valuedouble == floor(c->valuedouble) && a->valuedouble >= -1 &&
			  a->valuedouble < (double)m->k &&
			  a->valuedouble == floor(a->valuedouble) && x->valuedouble >= 1 &&
			  x->valuedouble <= 1000 && x->valuedouble == floor(x->valuedouble);
		if (ok) {
			crop = (size_t)c->valuedouble;
			anchor = (long)a->valuedouble;
			mi = (size_t)x->valuedouble;
		}
		cJSON_Delete(doc);
		if (!ok)
			return err_set(e, DYN_EDATA, "model file: no valid \"keypoints.multi\"");
	}
	if (kp_build(&st, &m->params, mu ? 1 : m->k, w, h, params_num(&m->params, "input_scale"), 8,
		     par_cpus(0), e) < 0)
		return -1;
	if (mu) {
		st->crop = crop;
		st->anchor = anchor;
		st->max_inst = mi;
		if (kp_build(&st->inst, &m->params, m->k, crop, crop, 1, 8, par_cpus(0), e) < 0 ||
		    model_net_load(f, "instance", st->inst->net, e) < 0)
			goto fail;
	}
	st->skel.nnodes = m->k;
	if (pairs_parse(st_get_meta(f, "keypoints.edges"), m->k, &st->skel.edges, &st->skel.nedges,
			"edges", e) < 0 ||
	    pairs_parse(st_get_meta(f, "keypoints.symmetries"), m->k, &st->skel.syms,
			&st->skel.nsyms, "symmetries", e) < 0)
		goto fail;
	if (model_net_load(f, "net", st->net, e) < 0)
		goto fail;
	m->state = st;
	return 0;
fail:
	kp_free(st);
	return -1;
}

static const struct pose_skeleton *kp_skeleton(const struct model *m)
{
	const struct kp_state *st = m->state;
	return st ? &st->skel : NULL;
}

const struct model_kind model_keypoints = {
    .name = "keypoints",
    .summary = "pose keypoints: a confidence-map network on labeled frames (DeepLabCut, COCO, "
	       "SLEAP)",
    .input = INPUT_POSE,
    .output = OUTPUT_KEYPOINTS,
    .unit = "frames",
    .train = TRAIN_HOLDOUT | TRAIN_EPOCHS | TRAIN_RESUME | TRAIN_WEIGHTS,
    .params = kp_params,
    .check = kp_check,
    .fit = kp_fit,
    .predict = kp_predict,
    .evaluate = kp_evaluate,
    .instances = kp_instances,
    .frame_size = kp_frame_size,
    .skeleton = kp_skeleton,
    .save = kp_save,
    .load = kp_load,
    .free_state = kp_free,
};
