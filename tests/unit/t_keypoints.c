/* The keypoints kind below the command line: augmentation moves points with the picture, a
 * pretrained encoder is loaded from a safetensors file by torchvision's names (and a file that
 * does not fit is refused naming the tensor), and a model survives its file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/strbuf.h"
#include "core/rng.h"
#include "io/image.h"
#include "models/data.h"
#include "models/model.h"
#include "models/train.h"
#include "nn/backbone.h"
#include "nn/nn.h"
#include "store/safetensors.h"
#include "check.h"

#define MINI "../testdata/pose/openfield-mini"

/* A bright 3x3 spot at (px, py) goes where nn_aug_image_points says its centre goes: the
 * weighted centre of the output's bright pixels. */
static void test_aug_points(void)
{
	enum { Hh = 48, Ww = 64 };
	static float in[Hh * Ww], out[Hh * Ww];
	struct nn_aug_image a = {0.5f, 0.2f, 0.1f, 0.5f, 0, 0, 0, 0};
	int worst_ok = 1, flips = 0;
	for (int trial = 0; trial < 40; trial++) {
		struct rng r;
		float px = 20 + (float)(trial % 7) * 3, py = 15 + (float)(trial % 5) * 3;
		float xy[2] = {px, py};
		double sw = 0, sx = 0, sy = 0;
		memset(in, 0, sizeof(in));
		for (int dy = -1; dy <= 1; dy++)
			for (int dx = -1; dx <= 1; dx++)
				in[((int)py + dy) * Ww + (int)px + dx] = 1;
		rng_init(&r, (uint64_t)trial);
		flips += nn_aug_image_points(out, in, 1, Hh, Ww, &r, &a, xy, 1);
		for (int y = 0; y < Hh; y++)
			for (int x = 0; x < Ww; x++) {
				double v = out[y * Ww + x];
				sw += v;
				sx += v * x;
				sy += v * y;
			}
		if (!(sw > 1 && fabs(sx / sw - xy[0]) < 0.35 && fabs(sy / sw - xy[1]) < 0.35)) {
			printf("# trial %d: spot at %.2f,%.2f, point at %.2f,%.2f\n", trial,
			       sx / sw, sy / sw, xy[0], xy[1]);
			worst_ok = 0;
		}
	}
	check(worst_ok, "augmentation: a point lands on its spot (rotation, zoom, shift, flip)");
	check(flips > 5 && flips < 35, "augmentation: about half the pictures mirrored (%d/40)",
	      flips);
	{
		float xy[2] = {NAN, NAN};
		struct rng r;
		rng_init(&r, 1);
		nn_aug_image_points(out, in, 1, Hh, Ww, &r, &a, xy, 1);
		check(isnan(xy[0]) && isnan(xy[1]), "augmentation: an unlabeled point stays NaN");
	}
}

/* A safetensors file holding every encoder tensor of a resnet18 backbone for frames of
 * 160x120 at input scale 0.2 (32x24, padded to 32x32), random values; one tensor's shape
 * changed when bad. Returns the file's tensors (caller releases). */
static void make_weights(const char *path, struct st_file *f, bool bad)
{
	struct nn_backbone bb;
	struct nn_backbone_opts o;
	struct nn_net_desc d;
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct rng r;
	FILE *fp;
	memset(&o, 0, sizeof(o));
	memset(&bb, 0, sizeof(bb));
	o.kind = NN_BACKBONE_ENCODER;
	o.encoder = NN_ENCODER_RESNET18;
	o.c = 3;
	o.h = o.w = 32;
	o.nout = 4;
	o.output_stride = 2;
	if (nn_backbone_describe(&bb, &o, &e) < 0)
		abort();
	memset(&d, 0, sizeof(d));
	d.dims = 3;
	d.c = 3;
	d.h = d.w = 32;
	d.layers = bb.layers;
	d.nlayers = bb.nlayers;
	d.max_batch = 1;
	d.threads = 1;
	if (nn_net_new(&net, &d, &e) < 0)
		abort();
	rng_init(&r, 7);
	st_init(f);
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		size_t shape[4];
		float *v;
		if (!nn_backbone_is_encoder_tensor(&bb, t->name))
			continue;
		memcpy(shape, t->shape, sizeof(shape));
		if (bad && !strcmp(t->name, "layer2.0.conv1.weight"))
			shape[0] = 7;
		v = xmallocarray(t->size + 64, sizeof(float));
		for (size_t j = 0; j < t->size + 64; j++)
			v[j] = (float)(rng_uniform(&r) - 0.5) * 0.1f;
		st_add_owned(f, t->name, ST_F32, (size_t)t->ndim, shape, v);
	}
	/* what a torchvision state dict has besides: the classifier */
	{
		size_t shape[2] = {10, 512};
		st_add_owned(f, "fc.weight", ST_F32, 2, shape, xcalloc(5120, sizeof(float)));
	}
	st_serialize(f, &sb);
	fp = fopen(path, "wb");
	if (!fp || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		abort();
	fclose(fp);
	strbuf_release(&sb);
	nn_net_free(&net);
	nn_backbone_release(&bb);
}

static int train(struct model **m, const char *weights, struct err *e)
{
	const struct model_kind *kind = model_kind_find("keypoints");
	const char *paths[] = {MINI};
	struct dataset ds;
	struct params p;
	struct train_opts to;
	struct cJSON *report = NULL;
	char sha[65];
	int rc;
	dataset_init(&ds);
	if (dataset_load(&ds, INPUT_POSE, paths, 1, &(struct load_opts){0}, sha, e) < 0)
		return -1;
	params_init(&p, kind->params);
	params_set(&p, "keypoints", "backbone", "pretrained", e);
	params_set(&p, "keypoints", "input_scale", "0.2", e);
	params_set(&p, "keypoints", "epochs", "1", e);
	params_set(&p, "keypoints", "lr", "1e-12", e);
	memset(&to, 0, sizeof(to));
	to.ctx.seed = 1;
	to.ctx.threads = 1;
	to.ctx.weights = weights;
	rc = model_train(m, kind, &p, &ds, &to, &report, e);
	cJSON_Delete(report);
	params_release(&p);
	dataset_release(&ds);
	return rc;
}

static void test_pretrained(const char *dir)
{
	struct st_file want, saved, bad;
	struct model *m = NULL, *back = NULL;
	struct err e = ERR_INIT;
	struct strbuf path = STRBUF_INIT, badpath = STRBUF_INIT;
	size_t checked = 0, differ = 0;

	strbuf_addf(&path, "%s/w.safetensors", dir);
	strbuf_addf(&badpath, "%s/bad.safetensors", dir);
	make_weights(path.buf, &want, false);
	make_weights(badpath.buf, &bad, true);
	check(train(&m, path.buf, &e) == 0, "fit with --weights: %s", e.msg);
	st_init(&saved);
	if (m && model_save(m, &saved, &e) == 0) {
		for (size_t i = 0; i < want.n; i++) {
			char name[128];
			const struct st_tensor *s;
			const float *a = want.t[i].data;
			if (!strcmp(want.t[i].name, "fc.weight"))
				continue;
			snprintf(name, sizeof(name), "net.%s", want.t[i].name);
			if (strstr(name, "running_") || strstr(name, "num_batches"))
				continue; /* batch statistics move in training, whatever the lr */
			s = st_get(&saved, name, ST_F32, want.t[i].ndim, &e);
			if (!s || s->nbytes != want.t[i].nbytes) {
				differ++;
				continue;
			}
			for (size_t j = 0; j < want.t[i].nbytes / 4; j++)
				if (fabsf(((const float *)s->data)[j] - a[j]) > 1e-6f) {
					differ++;
					break;
				}
			checked++;
		}
	}
	check(checked > 40 && differ == 0,
	      "the encoder's tensors are the file's, by torchvision's names (%zu checked, %zu "
	      "differ)",
	      checked, differ);
	/* the model's file gives the same model back */
	if (m) {
		struct strbuf bytes = STRBUF_INIT;
		struct st_file f;
		st_serialize(&saved, &bytes);
		st_init(&f);
		check(st_parse(&f, bytes.buf, bytes.len, &e) == 0 &&
			  model_load(&back, &f, "test", &e) == 0,
		      "model file read back: %s", e.msg);
		if (back) {
			struct img fr;
			struct batch b;
			double p1[12], p2[12];
			bool same = true;
			img_init(&fr);
			fr.w = 160;
			fr.h = 120;
			fr.channels = 1;
			fr.px = xmallocarray(160 * 120, 1);
			for (size_t q = 0; q < 160 * 120; q++)
				fr.px[q] = (unsigned char)((q * 7) % 251);
			memset(&b, 0, sizeof(b));
			b.n = 1;
			b.frames = &fr;
			check(m->kind->predict(m, &b, p1, &e) == 0 &&
				  back->kind->predict(back, &b, p2, &e) == 0,
			      "predict on a gray frame with an RGB encoder: %s", e.msg);
			for (int q = 0; q < 12; q++)
				same = same && ((isnan(p1[q]) && isnan(p2[q])) || p1[q] == p2[q]);
			check(same, "the model read back predicts as the model written");
			img_release(&fr);
		}
		st_release(&f);
		strbuf_release(&bytes);
	}
	model_free(&m);
	model_free(&back);
	e = (struct err)ERR_INIT;
	check(train(&m, badpath.buf, &e) < 0 && strstr(e.msg, "layer2.0.conv1.weight") &&
		  strstr(e.msg, "7x64x3x3") && strstr(e.msg, "128x64x3x3"),
	      "a weights file that does not fit names the tensor and both shapes: %s", e.msg);
	model_free(&m);
	e = (struct err)ERR_INIT;
	check(train(&m, "/nonexistent/w.safetensors", &e) < 0 && strstr(e.msg, "--weights"),
	      "a missing weights file: %s", e.msg);
	model_free(&m);
	st_release(&want);
	st_release(&bad);
	st_release(&saved);
	strbuf_release(&path);
	strbuf_release(&badpath);
}

int main(void)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/dyn-t-kp.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	test_aug_points();
	test_pretrained(dir);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return check_done();
}
