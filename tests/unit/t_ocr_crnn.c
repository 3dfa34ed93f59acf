/* Unit tests of the line recognizer (lib/ocr/crnn): the default network builds with the tensors
 * a saved model names, line preparation, a tiny network learning short digit lines, the tensors
 * carried to a second recognizer, a blank line, and bad settings and inputs. */
#include <math.h>

#include "base/base.h"
#include "core/rng.h"
#include "ocr/crnn.h"
#include "check.h"

#define FONT "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

static void check_default(void)
{
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	int rc = ocr_crnn_new(&c, NULL, &e);
	check(rc == 0, "default network builds (%s)", e.msg);
	if (rc < 0)
		return;
	const struct ocr_crnn_opts *o = ocr_crnn_opts(c);
	check(o->height == 32 && o->max_width == 384, "default input 32x384 (%dx%d)", o->height,
	      o->max_width);
	check(ocr_crnn_steps(c) == 96, "96 steps (%d)", ocr_crnn_steps(c));
	check(ocr_crnn_classes(c) == (int)ocr_crnn_alphabet(c)->n + 1 && ocr_crnn_classes(c) == 74,
	      "classes: default alphabet + blank (%d)", ocr_crnn_classes(c));
	const struct nn_tensor *fc = nn_net_find(ocr_crnn_net(c), "fc.weight");
	const struct nn_tensor *ih = nn_net_find(ocr_crnn_net(c), "rnn0.weight_ih_l0_reverse");
	const struct nn_tensor *rm = nn_net_find(ocr_crnn_net(c), "bn2.running_mean");
	check(fc && fc->shape[0] == 74 && fc->shape[1] == 256, "fc.weight (74, 256, ...)");
	check(ih && ih->shape[0] == 512 && ih->shape[1] == 128,
	      "rnn0 reverse input weights (512, 128)");
	check(rm && rm->size == 96 && !rm->grad, "bn2.running_mean a buffer of 96");
	int found = 0;
	for (int i = 0; i < ocr_crnn_ntensors(c); i++)
		found += !strcmp(ocr_crnn_tensor(c, i)->name, "conv0.weight");
	check(found == 1, "conv0.weight enumerated once");
	ocr_crnn_free(&c);
	check(c == NULL, "free clears the pointer");
}

static void check_prepare(void)
{
	struct ocr_crnn_opts o = {.height = 16, .max_width = 64, .alphabet = "0123456789"};
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	struct img im;
	float x[16 * 64];
	int steps = -1;
	if (ocr_crnn_new(&c, &o, &e) < 0) {
		check(0, "small network builds (%s)", e.msg);
		return;
	}
	/* an RGB 20x8 image, left half black, right half white: 40x16 at the network's height */
	img_init(&im);
	im.w = 20, im.h = 8, im.channels = 3;
	im.px = xcalloc(20 * 8 * 3, 1);
	for (size_t y = 0; y < 8; y++)
		for (size_t i = 10; i < 20; i++)
			memset(im.px + (y * 20 + i) * 3, 255, 3);
	check(ocr_crnn_prepare(c, &im, x, &steps, &e) == 0, "prepare RGB (%s)", e.msg);
	check(steps == 11, "steps cover 40 pixels and one more (%d)", steps);
	check_close(x[0], -1, 1e-5, "black standardized to -1 (%g)", x[0]);
	check_close(x[5 * 64 + 39], 1, 1e-5, "white to +1 (%g)", x[5 * 64 + 39]);
	check(x[3 * 64 + 40] == 0 && x[15 * 64 + 63] == 0, "padding 0");
	/* a 400-wide line is narrowed to the network's width */
	img_release(&im);
	im.w = 400, im.h = 16, im.channels = 1;
	im.px = xcalloc(400 * 16, 1);
	memset(im.px, 200, 400 * 16);
	check(ocr_crnn_prepare(c, &im, x, &steps, &e) == 0 && steps == 16,
	      "a wide line takes all 16 steps (%d)", steps);
	check(x[0] == 0 && x[63] == 0, "a flat image is 0");
	/* bad images: errors, no crash */
	im.w = 0;
	check(ocr_crnn_prepare(c, &im, x, &steps, &e) < 0 && e.code == DYN_EDATA &&
		  strstr(e.msg, "empty line image"),
	      "0-width image refused (%s)", e.msg);
	im.w = 400, im.channels = 0;
	err_clear(&e);
	check(ocr_crnn_prepare(c, &im, x, &steps, &e) < 0 && strstr(e.msg, "0 channels"),
	      "0 channels refused (%s)", e.msg);
	im.channels = 1;
	struct strbuf sb = STRBUF_INIT;
	im.h = 0;
	err_clear(&e);
	check(ocr_crnn_read(c, &im, 1, &sb, NULL, &e) < 0 && strstr(e.msg, "line 1: ") &&
		  strstr(e.msg, "empty"),
	      "reading an empty image fails (%s)", e.msg);
	strbuf_release(&sb);
	img_release(&im);
	ocr_crnn_free(&c);
}

static void check_bad_settings(void)
{
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	struct ocr_crnn_opts o = {.height = 30};
	check(ocr_crnn_new(&c, &o, &e) < 0 && e.code == DYN_EUSAGE && strstr(e.msg, "height 30") &&
		  !c,
	      "height 30 refused (%s)", e.msg);
	o = (struct ocr_crnn_opts){.max_width = 4098};
	err_clear(&e);
	check(ocr_crnn_new(&c, &o, &e) < 0 && strstr(e.msg, "max width"), "width refused (%s)",
	      e.msg);
	o = (struct ocr_crnn_opts){.alphabet = ""};
	err_clear(&e);
	check(ocr_crnn_new(&c, &o, &e) < 0 && strstr(e.msg, "alphabet"),
	      "empty alphabet refused (%s)", e.msg);
	o = (struct ocr_crnn_opts){.lstm_layers = 3};
	err_clear(&e);
	check(ocr_crnn_new(&c, &o, &e) < 0 && strstr(e.msg, "lstm layers 3"),
	      "3 LSTM layers refused (%s)", e.msg);
}

struct trace {
	int n;
	float first_loss, last_loss, last_cer;
};

static int on_epoch(void *arg, const struct ocr_crnn_epoch *ep)
{
	struct trace *t = arg;
	if (t->n++ == 0)
		t->first_loss = ep->loss;
	t->last_loss = ep->loss;
	t->last_cer = ep->val_cer;
	return 0;
}

#define NTRAIN 192

/* A tiny network on short clean digit lines rendered with one font: the loss falls and it reads
 * most of its training lines back. */
static void check_training(void)
{
	struct ocr_synth_opts so = {.height = 16, .max_width = 64, .alphabet = "0123456789"};
	const char *fonts[] = {FONT};
	struct ocr_crnn_opts co = {.height = 16,
				   .max_width = 64,
				   .channels = {8, 16, 16},
				   .proj = 32,
				   .hidden = 32,
				   .alphabet = "0123456789",
				   .max_batch = 16,
				   .threads = 2};
	struct ocr_synth *s = NULL;
	struct ocr_crnn *c = NULL, *c2 = NULL;
	struct err e = ERR_INIT;
	struct img ims[NTRAIN];
	char texts[NTRAIN][8];
	struct ocr_crnn_sample smp[NTRAIN];
	struct rng r;

	so.fonts = fonts, so.nfonts = 1;
	if (ocr_synth_new(&s, &so, &e) < 0) {
		check(0, "generator (%s)", e.msg);
		return;
	}
	rng_init(&r, 5);
	for (int i = 0; i < NTRAIN; i++) {
		int len = 2 + (int)rng_below(&r, 3);
		for (int j = 0; j < len; j++)
			texts[i][j] = (char)('0' + rng_below(&r, 10));
		texts[i][len] = 0;
		img_init(&ims[i]);
		if (ocr_synth_render(s, (uint64_t)i, texts[i], 0, &ims[i], &e) < 0) {
			check(0, "render (%s)", e.msg);
			goto out;
		}
		smp[i].im = &ims[i], smp[i].text = texts[i];
	}
	if (ocr_crnn_new(&c, &co, &e) < 0) {
		check(0, "tiny network (%s)", e.msg);
		goto out;
	}
	struct trace tr = {0};
	struct ocr_crnn_train_opts to = {.seed = 3,
					 .samples = smp,
					 .nsamples = NTRAIN,
					 .val_samples = smp,
					 .nval_samples = 32,
					 .epochs = 40,
					 .batch = 16,
					 .lr = 3e-3f,
					 .report = on_epoch,
					 .arg = &tr};
	int rc = ocr_crnn_train(c, &to, &e);
	check(rc == 0, "training runs (%s)", e.msg);
	check(tr.n == 40, "40 epochs reported (%d)", tr.n);
	check(tr.last_loss < 0.25f * tr.first_loss, "CTC loss falls: %.3f -> %.3f", tr.first_loss,
	      tr.last_loss);
	/* reading back */
	const struct img *ptr[NTRAIN];
	struct strbuf out[NTRAIN];
	float conf[NTRAIN];
	for (int i = 0; i < NTRAIN; i++)
		ptr[i] = &ims[i], strbuf_init(&out[i]);
	int exact = 0, errs = 0, chars = 0;
	rc = ocr_crnn_read_batch(c, ptr, NTRAIN, 1, out, conf, &e);
	check(rc == 0, "read batch (%s)", e.msg);
	float cmin = 1, cmax = 0;
	for (int i = 0; rc == 0 && i < NTRAIN; i++) {
		exact += !strcmp(out[i].buf, texts[i]);
		errs += (int)ocr_edit_chars(out[i].buf, texts[i]);
		chars += (int)strlen(texts[i]);
		cmin = fminf(cmin, conf[i]), cmax = fmaxf(cmax, conf[i]);
	}
	check(exact >= NTRAIN * 8 / 10, "reads most training lines: %d of %d exact, CER %.3f",
	      exact, NTRAIN, (double)errs / chars);
	/* the last epoch's validation (the first 32 lines, each at its own width) is what reading
	 * gives: the trained state reached the full-width network the tensors are */
	double verr = 0, vch = 0;
	for (int i = 0; rc == 0 && i < 32; i++)
		verr += (double)ocr_edit_chars(out[i].buf, texts[i]),
		    vch += (double)strlen(texts[i]);
	check((float)(verr / vch) == tr.last_cer, "validation CER %.4f is reading's %.4f",
	      (double)tr.last_cer, verr / vch);
	/* a line reads the same whatever the widths of the lines read with it */
	{
		const struct img *rev[NTRAIN];
		struct strbuf out2[NTRAIN];
		float conf2[NTRAIN];
		int same = 0;
		for (int i = 0; i < NTRAIN; i++)
			rev[i] = ptr[NTRAIN - 1 - i], strbuf_init(&out2[i]);
		rc = ocr_crnn_read_batch(c, rev, NTRAIN, 1, out2, conf2, &e);
		for (int i = 0; rc == 0 && i < NTRAIN; i++)
			same += !strcmp(out2[NTRAIN - 1 - i].buf, out[i].buf) &&
				fabsf(conf2[NTRAIN - 1 - i] - conf[i]) <= 1e-6f;
		check(same == NTRAIN, "reversed batch reads the same: %d of %d", same, NTRAIN);
		/* beside a line wide enough to need the full width (the confidences may differ in
		 * the last bits: a batch of another size sums in another order) */
		struct img wide;
		img_init(&wide);
		wide.w = 64, wide.h = 16, wide.channels = 1;
		wide.px = xmalloc(64 * 16);
		memset(wide.px, 200, 64 * 16);
		same = 0;
		for (int i = 0; rc == 0 && i < 8; i++) {
			const struct img *two[2] = {&wide, &ims[i]};
			rc = ocr_crnn_read_batch(c, two, 2, 1, out2, conf2, &e);
			same += rc == 0 && !strcmp(out2[1].buf, out[i].buf) &&
				fabsf(conf2[1] - conf[i]) <= 1e-6f;
		}
		check(same == 8, "read beside a wide line, the same: %d of 8", same);
		img_release(&wide);
		for (int i = 0; i < NTRAIN; i++)
			strbuf_release(&out2[i]);
	}
	check(cmin >= 0 && cmax <= 1 && cmax > 0.5f, "confidences in [0, 1] (%.3f..%.3f)", cmin,
	      cmax);
	struct strbuf one = STRBUF_INIT;
	float c1 = -1;
	rc = ocr_crnn_read(c, &ims[0], 8, &one, &c1, &e);
	check(rc == 0 && !strcmp(one.buf, out[0].buf),
	      "beam 8 reads line 0 as greedy: \"%s\" / \"%s\"", one.buf, out[0].buf);
	check(c1 >= conf[0] - 1e-4f && c1 <= 1, "beam confidence >= best path's (%.4f, %.4f)", c1,
	      conf[0]);
	/* a blank line: no text, or little confidence */
	struct img blank;
	img_init(&blank);
	blank.w = 48, blank.h = 16, blank.channels = 1;
	blank.px = xmalloc(48 * 16);
	memset(blank.px, 180, 48 * 16);
	rc = ocr_crnn_read(c, &blank, 1, &one, &c1, &e);
	check(rc == 0 && (one.len == 0 || c1 < 0.5f), "blank line: \"%s\" confidence %.3f", one.buf,
	      c1);
	img_release(&blank);
	/* the tensors copied into a new recognizer of the same settings read the same */
	if (ocr_crnn_new(&c2, &co, &e) == 0) {
		for (int i = 0; i < ocr_crnn_ntensors(c2); i++) {
			const struct nn_tensor *d = ocr_crnn_tensor(c2, i);
			const struct nn_tensor *sr = nn_net_find(ocr_crnn_net(c), d->name);
			if (sr && sr->size == d->size)
				memcpy(d->data, sr->data, d->size * sizeof(float));
		}
		float c2c = -1;
		rc = ocr_crnn_read(c2, &ims[1], 1, &one, &c2c, &e);
		check(rc == 0 && !strcmp(one.buf, out[1].buf) && c2c == conf[1],
		      "copied tensors read line 1 the same (\"%s\" %.4f)", one.buf, c2c);
	}
	/* the same seed gives the same weights */
	struct trace tr2 = {0};
	to.epochs = 2, to.arg = &tr2;
	ocr_crnn_train(c, &to, &e);
	float l1 = tr2.last_loss;
	const struct nn_tensor *w1 = nn_net_find(ocr_crnn_net(c), "fc.weight");
	float *keep = xmallocarray(w1->size, sizeof(float));
	memcpy(keep, w1->data, w1->size * sizeof(float));
	tr2.n = 0;
	ocr_crnn_set_threads(c, 1);
	ocr_crnn_train(c, &to, &e);
	check(tr2.last_loss == l1 && !memcmp(keep, w1->data, w1->size * sizeof(float)),
	      "same seed, 1 or 2 threads: same loss and weights (%.6f %.6f)", l1, tr2.last_loss);
	free(keep);
	/* bad training input */
	const char *bad_text = "12A";
	struct ocr_crnn_sample bad = {&ims[0], bad_text};
	struct ocr_crnn_train_opts tb = {.samples = &bad, .nsamples = 1, .epochs = 1};
	err_clear(&e);
	check(ocr_crnn_train(c, &tb, &e) < 0 && e.code == DYN_EDATA && strstr(e.msg, "sample 1") &&
		  strstr(e.msg, "'A'"),
	      "a label outside the alphabet refused (%s)", e.msg);
	struct img empty;
	img_init(&empty);
	bad.im = &empty, bad.text = "1";
	err_clear(&e);
	check(ocr_crnn_train(c, &tb, &e) < 0 && strstr(e.msg, "empty"),
	      "an empty sample image refused (%s)", e.msg);
	tb.nsamples = 0;
	err_clear(&e);
	check(ocr_crnn_train(c, &tb, &e) < 0 && strstr(e.msg, "no training line"),
	      "no training line refused (%s)", e.msg);
	/* a generator drawing characters the recognizer lacks */
	struct ocr_synth *s2 = NULL;
	struct ocr_synth_opts so2 = {.height = 16, .alphabet = "0123456789AB"};
	so2.fonts = fonts, so2.nfonts = 1;
	if (ocr_synth_new(&s2, &so2, &e) == 0) {
		struct ocr_crnn_train_opts ts = {.synth = s2, .synth_lines = 4, .epochs = 1};
		err_clear(&e);
		check(ocr_crnn_train(c, &ts, &e) < 0 && strstr(e.msg, "U+0041"),
		      "generator alphabet outside the recognizer's refused (%s)", e.msg);
		ocr_synth_free(&s2);
	}
	strbuf_release(&one);
	for (int i = 0; i < NTRAIN; i++)
		strbuf_release(&out[i]);
out:
	for (int i = 0; i < NTRAIN; i++)
		img_release(&ims[i]);
	ocr_crnn_free(&c);
	ocr_crnn_free(&c2);
	ocr_synth_free(&s);
}

/* Synthetic lines from a generator, validated on another run: a short run completes and
 * reports finite figures. */
/* Batching by width: every line once, in order of width, batches no larger than asked, strict
 * batches of one width. */
static void check_buckets(void)
{
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	struct rng r;
	int steps[100], seen[100] = {0};
	size_t pos[100], starts[101];
	if (ocr_crnn_new(&c, NULL, &e) < 0) {
		check(0, "default network (%s)", e.msg);
		return;
	}
	/* 384 pixels: widths 64, 128, ..., 384, 16 steps apart */
	check(ocr_crnn_bucket_steps(c, 1) == 16 && ocr_crnn_bucket_steps(c, 16) == 16 &&
		  ocr_crnn_bucket_steps(c, 17) == 32 && ocr_crnn_bucket_steps(c, 81) == 96 &&
		  ocr_crnn_bucket_steps(c, 96) == 96,
	      "bucket steps 16, 16, 32, 96, 96 (%d %d %d %d %d)", ocr_crnn_bucket_steps(c, 1),
	      ocr_crnn_bucket_steps(c, 16), ocr_crnn_bucket_steps(c, 17),
	      ocr_crnn_bucket_steps(c, 81), ocr_crnn_bucket_steps(c, 96));
	rng_init(&r, 11);
	for (int i = 0; i < 100; i++)
		steps[i] = 2 + (int)rng_below(&r, 95);
	for (int strict = 0; strict < 2; strict++) {
		size_t nb = ocr_crnn_cut_batches(c, steps, 100, 16, strict, pos, starts);
		int ok = starts[0] == 0 && starts[nb] == 100, sorted = 1, one_width = 1;
		memset(seen, 0, sizeof(seen));
		for (size_t j = 0; j < nb; j++) {
			ok &= starts[j + 1] > starts[j] && starts[j + 1] - starts[j] <= 16;
			for (size_t i = starts[j]; i < starts[j + 1]; i++) {
				seen[pos[i]]++;
				if (i > starts[j]) {
					sorted &= steps[pos[i]] >= steps[pos[i - 1]];
					one_width &= ocr_crnn_bucket_steps(c, steps[pos[i]]) ==
						     ocr_crnn_bucket_steps(c, steps[pos[i - 1]]);
				}
			}
		}
		for (int i = 0; i < 100; i++)
			ok &= seen[i] == 1;
		check(ok && sorted, "strict %d: every line once, batches of 1..16 by width (%zu)",
		      strict, nb);
		if (strict)
			check(one_width, "strict batches hold lines of one width");
		else
			check(nb == 7, "7 batches of 100 lines (%zu)", nb);
	}
	ocr_crnn_free(&c);
}

static void check_synth_stream(void)
{
	struct ocr_synth_opts so = {.height = 16, .max_width = 128, .alphabet = "0123456789-."};
	struct ocr_crnn_opts co = {.height = 16,
				   .max_width = 128,
				   .channels = {4, 8, 8},
				   .proj = 16,
				   .hidden = 16,
				   .alphabet = "0123456789-.",
				   .max_batch = 8};
	const char *fonts[] = {FONT};
	struct ocr_synth *s = NULL;
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	struct trace tr = {0};
	so.fonts = fonts, so.nfonts = 1;
	if (ocr_synth_new(&s, &so, &e) < 0 || ocr_crnn_new(&c, &co, &e) < 0) {
		check(0, "synthetic stream setup (%s)", e.msg);
		goto out;
	}
	struct ocr_crnn_train_opts to = {.seed = 1,
					 .synth = s,
					 .synth_lines = 16,
					 .val_lines = 8,
					 .val_seed = 99,
					 .epochs = 2,
					 .keep_best = 1,
					 .report = on_epoch,
					 .arg = &tr};
	int rc = ocr_crnn_train(c, &to, &e);
	check(rc == 0 && tr.n == 2 && isfinite(tr.last_loss) && tr.last_cer >= 0,
	      "synthetic lines train and validate (%s; loss %.3f, CER %.3f)", e.msg, tr.last_loss,
	      tr.last_cer);
out:
	ocr_crnn_free(&c);
	ocr_synth_free(&s);
}

/* The confidences of a best path from logits whose softmax is known: steps blank, A, A, blank,
 * A, B, blank (the path reads "AAB"), each step's winner with probability p[t], the rest shared
 * by the other two classes. */
static void check_path_conf(void)
{
	enum { K = 3, T = 8, LEN = 7 };
	static const int cls[LEN] = {0, 1, 1, 0, 1, 2, 0};
	static const double p[LEN] = {0.9, 0.6, 0.8, 0.95, 0.7, 0.5, 0.4};
	float z[K * T];
	struct ocr_crnn_conf cf;
	double lg = 0;
	for (int t = 0; t < T; t++)
		for (int k = 0; k < K; k++)
			z[k * T + t] = t >= LEN ? 50.0f /* beyond len: never looked at */
						: (float)log(k == cls[t] ? p[t] : (1 - p[t]) / 2);
	for (int t = 0; t < LEN; t++)
		lg += log(p[t]);
	ocr_crnn_path_conf(z, K, T, LEN, &cf);
	check(fabs(cf.path - exp(lg / LEN)) < 1e-5, "path: geometric mean of the steps (%.5f)",
	      (double)cf.path);
	check(fabs(cf.step_min - 0.4) < 1e-5, "step_min: the least sure step, a blank (%.5f)",
	      (double)cf.step_min);
	check(fabs(cf.char_min - 0.5) < 1e-5,
	      "char_min: the least sure character, each its run's best step (%.5f)",
	      (double)cf.char_min);
	check(fabs(cf.char_mean - cbrt(0.8 * 0.7 * 0.5)) < 1e-5,
	      "char_mean: geometric mean over the 3 characters (%.5f)", (double)cf.char_mean);
	/* a line read as empty: its steps are all there is */
	for (int t = 0; t < LEN; t++)
		for (int k = 0; k < K; k++)
			z[k * T + t] = (float)log(k == 0 ? 0.9 : 0.05);
	ocr_crnn_path_conf(z, K, T, LEN, &cf);
	check(fabs(cf.char_min - 0.9) < 1e-5 && fabs(cf.char_mean - 0.9) < 1e-5,
	      "empty reading: char measures fall back to the steps (%.5f, %.5f)",
	      (double)cf.char_min, (double)cf.char_mean);
}

int main(void)
{
	check_path_conf();
	check_buckets();
	check_default();
	check_prepare();
	check_bad_settings();
	check_training();
	check_synth_stream();
	return check_done();
}
