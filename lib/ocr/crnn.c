/* The line recognizer: a CRNN described from a few settings and built by lib/nn, line images
 * prepared for it, training on synthetic and labeled lines with CTC, and reading with best-path
 * or beam decoding. */
#include <math.h>
#include <time.h>

#include <utf8proc.h>

#include "base/base.h"
#include "base/par.h"
#include "core/rng.h"
#include "ocr/crnn.h"

#define POOL	   4 /* the width reduction of the two 2x2 pools: pixels a step */
#define STD_FLOOR  0.02f
#define NLAYERS	   32
#define MAX_LABELS OCR_SYNTH_MAX_CHARS

struct ocr_crnn {
	struct ocr_crnn_opts o;
	struct ocr_alphabet alpha;
	struct nn_layer_desc layers[NLAYERS];
	char names[NLAYERS][16];
	struct nn_net *net;
	int steps, classes;
	int threads; /* of the passes and line making now (<= o.threads) */
	float *x;    /* (max_batch, height, max_width) input */
	int *lens;   /* (max_batch) steps a line covers */
	int *labels; /* decoding scratch: (max_batch, steps) */
};

static int fill_opts(struct ocr_crnn_opts *o, const struct ocr_crnn_opts *in, struct err *e)
{
	static const int def_ch[3] = {32, 64, 96};
	*o = *in;
	if (!o->height)
		o->height = 32;
	if (!o->max_width)
		o->max_width = 12 * o->height;
	for (int i = 0; i < 3; i++)
		if (!o->channels[i])
			o->channels[i] = def_ch[i];
	if (!o->proj)
		o->proj = 128;
	if (!o->hidden)
		o->hidden = 128;
	if (!o->lstm_layers)
		o->lstm_layers = 1;
	if (!o->max_batch)
		o->max_batch = 32;
	if (!o->threads)
		o->threads = 1;
	if (o->height < 16 || o->height > 128 || o->height % 4)
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn: height %d is not a multiple of 4 in 16..128", o->height);
	if (o->max_width < 2 * o->height || o->max_width > 4096 || o->max_width % 4)
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn: max width %d is not a multiple of 4 in %d..4096",
			       o->max_width, 2 * o->height);
	for (int i = 0; i < 3; i++)
		if (o->channels[i] < 1 || o->channels[i] > 1024)
			return err_set(e, DYN_EUSAGE, "ocr crnn: channels %d out of range 1..1024",
				       o->channels[i]);
	if (o->proj < 1 || o->proj > 4096 || o->hidden < 1 || o->hidden > 4096)
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn: projection %d or hidden units %d out of range 1..4096",
			       o->proj, o->hidden);
	if (o->lstm_layers < 1 || o->lstm_layers > 2)
		return err_set(e, DYN_EUSAGE, "ocr crnn: lstm layers %d out of range 1..2",
			       o->lstm_layers);
	if (o->max_batch < 1 || o->max_batch > 4096)
		return err_set(e, DYN_EUSAGE, "ocr crnn: max batch %d out of range 1..4096",
			       o->max_batch);
	if (o->threads < 1 || o->threads > 256)
		return err_set(e, DYN_EUSAGE, "ocr crnn: threads %d out of range 1..256",
			       o->threads);
	return 0;
}

static struct nn_layer_desc *add_layer(struct ocr_crnn *c, int *n, enum nn_op op, const char *name)
{
	struct nn_layer_desc *L = &c->layers[*n];
	memset(L, 0, sizeof(*L));
	L->op = op;
	if (name) {
		snprintf(c->names[*n], sizeof(c->names[*n]), "%s", name);
		L->name = c->names[*n];
	}
	(*n)++;
	return L;
}

/* The layers of the header's drawing. */
static int describe(struct ocr_crnn *c)
{
	int n = 0;
	char nm[16];
	for (int i = 0; i < 3; i++) {
		snprintf(nm, sizeof(nm), "conv%d", i);
		struct nn_layer_desc *L = add_layer(c, &n, NN_CONV2D, nm);
		L->out = c->o.channels[i], L->k = 3, L->pad = 1, L->no_bias = 1;
		snprintf(nm, sizeof(nm), "bn%d", i);
		add_layer(c, &n, NN_BATCHNORM, nm);
		add_layer(c, &n, NN_RELU, NULL);
		if (i < 2)
			add_layer(c, &n, NN_MAXPOOL2D, NULL)->k = 2;
	}
	add_layer(c, &n, NN_TO_SEQ, NULL);
	struct nn_layer_desc *P = add_layer(c, &n, NN_CONV1D, "proj");
	P->out = c->o.proj, P->k = 1;
	for (int i = 0; i < c->o.lstm_layers; i++) {
		snprintf(nm, sizeof(nm), "rnn%d", i);
		struct nn_layer_desc *L = add_layer(c, &n, NN_LSTM, nm);
		L->out = c->o.hidden, L->bidirectional = 1;
	}
	struct nn_layer_desc *F = add_layer(c, &n, NN_CONV1D, "fc");
	F->out = c->classes, F->k = 1;
	return n;
}

int ocr_crnn_new(struct ocr_crnn **out, const struct ocr_crnn_opts *o, struct err *e)
{
	struct ocr_crnn *c = xcalloc(1, sizeof(*c));
	struct ocr_crnn_opts def = {0};
	int ret = -1;

	*out = NULL;
	ocr_alphabet_init(&c->alpha);
	if (fill_opts(&c->o, o ? o : &def, e) < 0)
		goto out;
	if (ocr_alphabet_parse(&c->alpha, c->o.alphabet, e) < 0) {
		err_prefix(e, "ocr crnn");
		goto out;
	}
	c->o.alphabet = NULL;
	c->classes = (int)c->alpha.n + 1;
	c->steps = c->o.max_width / POOL;
	c->threads = c->o.threads;
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = c->o.height,
				.w = c->o.max_width,
				.layers = c->layers,
				.nlayers = describe(c),
				.max_batch = c->o.max_batch,
				.threads = c->o.threads};
	if (nn_net_new(&c->net, &d, e) < 0) {
		err_prefix(e, "ocr crnn");
		goto out;
	}
	c->x = xmallocarray((size_t)c->o.max_batch * (size_t)c->o.height,
			    (size_t)c->o.max_width * sizeof(float));
	c->lens = xmallocarray((size_t)c->o.max_batch, sizeof(int));
	c->labels = xmallocarray((size_t)c->steps, sizeof(int));
	*out = c;
	c = NULL;
	ret = 0;
out:
	ocr_crnn_free(&c);
	return ret;
}

void ocr_crnn_free(struct ocr_crnn **cp)
{
	struct ocr_crnn *c = *cp;
	if (!c)
		return;
	nn_net_free(&c->net);
	ocr_alphabet_release(&c->alpha);
	free(c->x);
	free(c->lens);
	free(c->labels);
	free(c);
	*cp = NULL;
}

const struct ocr_crnn_opts *ocr_crnn_opts(const struct ocr_crnn *c)
{
	return &c->o;
}

const struct ocr_alphabet *ocr_crnn_alphabet(const struct ocr_crnn *c)
{
	return &c->alpha;
}

void ocr_crnn_set_threads(struct ocr_crnn *c, int threads)
{
	c->threads = threads < 1 ? 1 : threads > c->o.threads ? c->o.threads : threads;
	nn_net_set_threads(c->net, c->threads);
}

int ocr_crnn_steps(const struct ocr_crnn *c)
{
	return c->steps;
}

int ocr_crnn_classes(const struct ocr_crnn *c)
{
	return c->classes;
}

int ocr_crnn_ntensors(const struct ocr_crnn *c)
{
	return nn_net_ntensors(c->net);
}

const struct nn_tensor *ocr_crnn_tensor(const struct ocr_crnn *c, int i)
{
	return nn_net_tensor(c->net, i);
}

struct nn_net *ocr_crnn_net(struct ocr_crnn *c)
{
	return c->net;
}

/* ---- preparing a line ---- */

/* Weights of a 1-D area resampling from n source pixels to m: output j covers the source
 * interval [j s, (j + 1) s) with s = n / m, each source pixel weighted by its overlap (a
 * shrink averages, an enlargement blends at most two neighbours). lo[j] is the first source
 * index, cnt[j] how many, w the weights (at most m * (ceil(s) + 2)), normalized. */
static void area_weights(size_t n, size_t m, size_t *lo, size_t *cnt, float *w, size_t wcap)
{
	double s = (double)n / (double)m;
	size_t k = 0;
	for (size_t j = 0; j < m; j++) {
		double a = (double)j * s, b = a + s, tot = 0;
		size_t i0 = (size_t)floor(a), i1 = (size_t)ceil(b);
		if (i1 > n)
			i1 = n;
		if (i1 <= i0)
			i1 = i0 + 1;
		lo[j] = i0, cnt[j] = i1 - i0;
		for (size_t i = i0; i < i1 && k + (i - i0) < wcap; i++) {
			double ov = fmin(b, (double)i + 1) - fmax(a, (double)i);
			w[k + (i - i0)] = (float)(ov > 0 ? ov : 0);
			tot += ov > 0 ? ov : 0;
		}
		for (size_t i = 0; i < cnt[j]; i++)
			w[k + i] = tot > 0 ? (float)(w[k + i] / tot) : 1.0f / (float)cnt[j];
		k += cnt[j];
	}
}

int ocr_crnn_prepare(const struct ocr_crnn *c, const struct img *im, float *x, int *steps,
		     struct err *e)
{
	size_t H = (size_t)c->o.height, W = (size_t)c->o.max_width;
	if (!im || !im->px || !im->w || !im->h)
		return err_set(e, DYN_EDATA, "ocr crnn: empty line image");
	if (im->channels < 1 || im->channels > 4)
		return err_set(e, DYN_EDATA, "ocr crnn: line image with %d channels", im->channels);
	if (im->w > IMG_MAX_SIDE || im->h > IMG_MAX_SIDE)
		return err_set(e, DYN_EDATA, "ocr crnn: line image %zux%zu larger than %d a side",
			       im->w, im->h, IMG_MAX_SIDE);
	/* the width at the network's height, keeping the aspect; narrowed to W when wider */
	double wd = (double)im->w * (double)H / (double)im->h;
	size_t wt = wd < 1 ? 1 : wd > (double)W ? W : (size_t)lround(wd);
	int nc = im->channels >= 3 ? 3 : 1, stride = im->channels;
	size_t sy = im->h / H + 3, sx = im->w / wt + 3;
	size_t *ylo = xmallocarray(H, sizeof(size_t)), *ycnt = xmallocarray(H, sizeof(size_t));
	size_t *xlo = xmallocarray(wt, sizeof(size_t)), *xcnt = xmallocarray(wt, sizeof(size_t));
	float *yw = xmallocarray(H, sy * sizeof(float)), *xw = xmallocarray(wt, sx * sizeof(float));
	float *rows = xmallocarray(H, im->w * sizeof(float));
	area_weights(im->h, H, ylo, ycnt, yw, H * sy);
	area_weights(im->w, wt, xlo, xcnt, xw, wt * sx);
	/* rows first (H x im->w gray), then columns into x */
	size_t k = 0;
	for (size_t y = 0; y < H; y++) {
		float *r = rows + y * im->w;
		for (size_t i = 0; i < im->w; i++)
			r[i] = 0;
		for (size_t t = 0; t < ycnt[y]; t++) {
			const unsigned char *p = im->px + (ylo[y] + t) * im->w * (size_t)stride;
			float wy = yw[k + t] / (255.0f * (float)nc);
			for (size_t i = 0; i < im->w; i++) {
				int v = 0;
				for (int ch = 0; ch < nc; ch++)
					v += p[i * (size_t)stride + (size_t)ch];
				r[i] += wy * (float)v;
			}
		}
		k += ycnt[y];
	}
	double sum = 0, sq = 0;
	for (size_t y = 0; y < H; y++) {
		const float *r = rows + y * im->w;
		float *o = x + y * W;
		size_t kk = 0;
		for (size_t j = 0; j < wt; j++) {
			float v = 0;
			for (size_t t = 0; t < xcnt[j]; t++)
				v += xw[kk + t] * r[xlo[j] + t];
			kk += xcnt[j];
			o[j] = v;
			sum += v;
		}
	}
	double mean = sum / (double)(H * wt);
	for (size_t y = 0; y < H; y++)
		for (size_t j = 0; j < wt; j++) {
			double d = x[y * W + j] - mean;
			sq += d * d;
		}
	float sd = (float)sqrt(sq / (double)(H * wt));
	float scale = sd < STD_FLOOR ? 1.0f / STD_FLOOR : 1.0f / sd;
	for (size_t y = 0; y < H; y++) {
		float *o = x + y * W;
		for (size_t j = 0; j < wt; j++)
			o[j] = ((float)(o[j] - mean)) * scale;
		for (size_t j = wt; j < W; j++)
			o[j] = 0;
	}
	if (steps) {
		/* the steps over the line's pixels, and one more for the convolutions' reach */
		size_t s = (wt + POOL - 1) / POOL + 1;
		*steps = (int)(s > (size_t)c->steps ? (size_t)c->steps : s);
	}
	free(ylo), free(ycnt), free(xlo), free(xcnt), free(yw), free(xw), free(rows);
	return 0;
}

/* ---- reading ---- */

void ocr_crnn_path_conf(const float *zb, int K, int T, int len, struct ocr_crnn_conf *cf)
{
	double sum = 0, csum = 0, cmin = 1, smin = 1, run = 0;
	int prev = 0, nch = 0;
	for (int t = 0; t < len; t++) {
		int best = 0;
		float m = zb[t];
		for (int k = 1; k < K; k++)
			if (zb[(size_t)k * T + t] > m)
				m = zb[(size_t)k * T + t], best = k;
		double s = 0;
		for (int k = 0; k < K; k++)
			s += exp((double)(zb[(size_t)k * T + t] - m));
		double p = 1 / s;
		sum += log(p);
		smin = p < smin ? p : smin;
		if (best != prev && prev != 0) {
			/* the run of prev ended: its character's probability is known */
			csum += log(run), cmin = run < cmin ? run : cmin, nch++;
			run = 0;
		}
		if (best != 0)
			run = p > run ? p : run;
		prev = best;
	}
	if (prev != 0)
		csum += log(run), cmin = run < cmin ? run : cmin, nch++;
	cf->path = len > 0 ? (float)exp(sum / len) : 0;
	cf->step_min = len > 0 ? (float)smin : 0;
	/* a line read as empty has no character to be unsure of: its steps are all it has */
	cf->char_min = nch ? (float)cmin : cf->step_min;
	cf->char_mean = nch ? (float)exp(csum / nch) : cf->path;
}

/* Decodes sample b of the last forward's logits (B, K, T). */
static int decode(struct ocr_crnn *c, const float *z, int b, int len, int beam, struct strbuf *text,
		  struct ocr_crnn_conf *cf, struct err *e)
{
	int K = c->classes, T = c->steps, n;
	const float *zb = z + (size_t)b * (size_t)K * (size_t)T;
	float logp = 0;
	if (beam <= 1) {
		n = nn_ctc_greedy(c->labels, &logp, zb, K, T, len, 0);
	} else {
		int hl = 0;
		n = nn_ctc_beam(c->labels, &hl, &logp, 1, zb, K, T, len, 0, beam, e);
		if (n < 0)
			return err_prefix(e, "ocr crnn");
		n = n ? hl : 0;
	}
	for (int i = 0; i < n; i++)
		c->labels[i] -= 1;
	strbuf_reset(text);
	strbuf_grow(text, 1); /* an empty reading is "", not NULL */
	ocr_alphabet_decode(&c->alpha, c->labels, (size_t)n, text);
	if (cf) {
		ocr_crnn_path_conf(zb, K, T, len, cf);
		if (beam > 1) {
			/* the beam's reading summed over its alignments */
			float p = expf(logp / (float)(len > 0 ? len : 1));
			cf->path = p > 1 ? 1 : p < 0 ? 0 : p;
		}
	}
	return 0;
}

int ocr_crnn_read_confs(struct ocr_crnn *c, const struct img *const *ims, size_t n, int beam,
			struct strbuf *texts, struct ocr_crnn_conf *confs, struct err *e)
{
	size_t HW = (size_t)c->o.height * (size_t)c->o.max_width;
	if (beam > NN_CTC_MAX_BEAM)
		return err_set(e, DYN_EUSAGE, "ocr crnn: beam %d out of range 1..%d", beam,
			       NN_CTC_MAX_BEAM);
	for (size_t b0 = 0; b0 < n; b0 += (size_t)c->o.max_batch) {
		int B = (int)(n - b0 < (size_t)c->o.max_batch ? n - b0 : (size_t)c->o.max_batch);
		for (int b = 0; b < B; b++)
			if (ocr_crnn_prepare(c, ims[b0 + (size_t)b], c->x + (size_t)b * HW,
					     &c->lens[b], e) < 0)
				return err_prefix(e, "line %zu", b0 + (size_t)b + 1);
		const float *z = nn_net_forward(c->net, c->x, B, 0);
		for (int b = 0; b < B; b++)
			if (decode(c, z, b, c->lens[b], beam, &texts[b0 + (size_t)b],
				   confs ? &confs[b0 + (size_t)b] : NULL, e) < 0)
				return -1;
	}
	return 0;
}

int ocr_crnn_read_batch(struct ocr_crnn *c, const struct img *const *ims, size_t n, int beam,
			struct strbuf *texts, float *conf, struct err *e)
{
	struct ocr_crnn_conf *cf = conf ? xcalloc(n ? n : 1, sizeof(*cf)) : NULL;
	int ret = ocr_crnn_read_confs(c, ims, n, beam, texts, cf, e);
	for (size_t i = 0; ret == 0 && conf && i < n; i++)
		conf[i] = OCR_CRNN_CONF(&cf[i]);
	free(cf);
	return ret;
}

int ocr_crnn_read(struct ocr_crnn *c, const struct img *im, int beam, struct strbuf *text,
		  float *conf, struct err *e)
{
	return ocr_crnn_read_batch(c, &im, 1, beam, text, conf, e);
}

/* ---- character error ---- */

/* Code points of s into a new array (*n of them); an invalid byte stands as -1 - byte. */
static int32_t *code_points(const char *s, size_t *n)
{
	size_t len = strlen(s), k = 0;
	int32_t *cp = xmallocarray(len + 1, sizeof(int32_t));
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t v;
		utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &v);
		if (m <= 0) {
			cp[k++] = -1 - (unsigned char)s[i];
			i++;
		} else {
			cp[k++] = v;
			i += (size_t)m;
		}
	}
	*n = k;
	return cp;
}

size_t ocr_count_chars(const char *s)
{
	size_t n;
	free(code_points(s, &n));
	return n;
}

size_t ocr_edit_chars(const char *a, const char *b)
{
	size_t na, nb;
	int32_t *ca = code_points(a, &na), *cb = code_points(b, &nb);
	size_t *prev = xmallocarray(nb + 1, sizeof(size_t)),
	       *cur = xmallocarray(nb + 1, sizeof(size_t));
	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= na; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t d = prev[j - 1] + (ca[i - 1] != cb[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		size_t *t = prev;
		prev = cur, cur = t;
	}
	size_t d = prev[nb];
	free(ca), free(cb), free(prev), free(cur);
	return d;
}

/* ---- training ---- */

/* One batch being made: item j's line goes to x + j * HW, its labels to lab + j * MAX_LABELS. */
struct batch {
	const struct ocr_crnn *c;
	const struct ocr_crnn_train_opts *o;
	const size_t *items; /* item ids: < nsynth a synthetic line of the run, else a sample */
	size_t nsynth;	     /* synthetic lines in this epoch's id space */
	uint64_t run;	     /* seed of the synthetic lines' run */
	long base;	     /* index of synthetic line 0 of the epoch within the run */
	const struct ocr_crnn_sample *samples;
	float *x;
	int *lab, *nlab, *lens, *rc;
	char **texts; /* the references, for validation (NULL: not kept) */
	struct err *errs;
};

static void make_item(void *arg, size_t j, int t)
{
	struct batch *bt = arg;
	const struct ocr_crnn *c = bt->c;
	size_t HW = (size_t)c->o.height * (size_t)c->o.max_width, id = bt->items[j], nl = 0;
	struct img im;
	char *text = NULL;
	const struct img *src;
	const char *ref;
	struct err *e = &bt->errs[j];
	(void)t;
	img_init(&im);
	bt->rc[j] = -1;
	if (id < bt->nsynth) {
		if (ocr_synth_line(bt->o->synth, ocr_synth_seed(bt->run, (uint64_t)bt->base + id),
				   &im, &text, e) < 0)
			goto out;
		src = &im, ref = text;
	} else {
		src = bt->samples[id - bt->nsynth].im;
		ref = bt->samples[id - bt->nsynth].text;
	}
	if (ocr_crnn_prepare(c, src, bt->x + j * HW, &bt->lens[j], e) < 0 ||
	    ocr_alphabet_encode(&c->alpha, ref, bt->lab + j * MAX_LABELS, MAX_LABELS, &nl, "label",
				e) < 0)
		goto out;
	for (size_t i = 0; i < nl; i++)
		bt->lab[j * MAX_LABELS + i] += 1;
	bt->nlab[j] = (int)nl;
	if (bt->texts)
		bt->texts[j] = xstrdup(ref);
	bt->rc[j] = 0;
out:
	img_release(&im);
	free(text);
}

/* Makes items[0..B) in parallel; the first failure's error. */
static int make_batch(struct batch *bt, int B, struct err *e)
{
	par_for((size_t)B, bt->c->threads, make_item, bt);
	for (int j = 0; j < B; j++)
		if (bt->rc[j] < 0) {
			*e = bt->errs[j];
			return -1;
		}
	return 0;
}

/* The labels of the batch concatenated as nn_ctc_loss takes them. */
static int concat_labels(const struct batch *bt, int B, int *cat)
{
	int m = 0;
	for (int j = 0; j < B; j++)
		for (int i = 0; i < bt->nlab[j]; i++)
			cat[m++] = bt->lab[(size_t)j * MAX_LABELS + (size_t)i];
	return m;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The cosine schedule over the share f of a time budget, with a linear warm-up over its first
 * share w. */
static float budget_lr(float lr, double f, double w)
{
	double lo = lr / 100.0;
	if (f < w)
		return (float)(lr * (f + 0.01) / (w + 0.01));
	f = f >= 1 ? 1 : (f - w) / (1 - w);
	return (float)(lo + (lr - lo) * (1 + cos(M_PI * f)) / 2);
}

/* Validation: loss, CER and exact lines over the validation lines and samples. */
static int validate(struct ocr_crnn *c, const struct ocr_crnn_train_opts *o, struct batch *bt,
		    int *cat, struct ocr_crnn_epoch *ep, struct err *e)
{
	size_t nv = (size_t)o->val_lines + o->nval_samples, done = 0;
	size_t *items = xmallocarray(nv ? nv : 1, sizeof(size_t));
	double lsum = 0, edits = 0, chars = 0, exact = 0;
	struct strbuf sb = STRBUF_INIT;
	float *losses = xmallocarray((size_t)c->o.max_batch, sizeof(float));
	int ret = -1;
	ep->val_loss = ep->val_cer = ep->val_line_acc = NAN;
	for (size_t i = 0; i < nv; i++)
		items[i] = i;
	bt->items = items, bt->nsynth = (size_t)o->val_lines, bt->run = o->val_seed, bt->base = 0;
	bt->samples = o->val_samples;
	while (done < nv) {
		int B =
		    (int)(nv - done < (size_t)c->o.max_batch ? nv - done : (size_t)c->o.max_batch);
		float loss;
		bt->items = items + done;
		memset(bt->texts, 0, (size_t)B * sizeof(char *));
		int rc = make_batch(bt, B, e);
		if (rc == 0) {
			concat_labels(bt, B, cat);
			const float *z = nn_net_forward(c->net, bt->x, B, 0);
			rc = nn_ctc_loss(&loss, losses, NULL, z, cat, bt->lens, bt->nlab, B,
					 c->classes, c->steps, 0, NN_REDUCE_SUM, 1, e);
			for (int j = 0; rc == 0 && j < B; j++) {
				lsum += losses[j] / (bt->nlab[j] > 0 ? bt->nlab[j] : 1);
				rc = decode(c, z, j, bt->lens[j], 1, &sb, NULL, e);
				if (rc == 0) {
					size_t d = ocr_edit_chars(sb.buf, bt->texts[j]);
					edits += (double)d;
					chars += (double)ocr_count_chars(bt->texts[j]);
					exact += d == 0;
				}
			}
		}
		for (int j = 0; j < B; j++) {
			free(bt->texts[j]);
			bt->texts[j] = NULL;
		}
		if (rc < 0)
			goto out;
		done += (size_t)B;
	}
	if (nv) {
		ep->val_loss = (float)(lsum / (double)nv);
		ep->val_cer = (float)(chars > 0 ? edits / chars : edits > 0);
		ep->val_line_acc = (float)(exact / (double)nv);
	}
	ret = 0;
out:
	free(items);
	free(losses);
	strbuf_release(&sb);
	return ret;
}

static int check_train(const struct ocr_crnn *c, const struct ocr_crnn_train_opts *o, struct err *e)
{
	if (o->synth_lines < 0 || o->val_lines < 0 || (o->synth_lines && !o->synth) ||
	    (o->val_lines && !o->synth))
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn train: synthetic lines without a generator");
	if (o->synth_lines > 100000000L || o->val_lines > 100000000L)
		return err_set(e, DYN_EUSAGE, "ocr crnn train: too many synthetic lines a epoch");
	if (!o->synth_lines && !o->nsamples)
		return err_set(e, DYN_EUSAGE, "ocr crnn train: no training line");
	if (o->epochs < 0 || o->epochs > 100000 || o->batch < 0 || o->batch > c->o.max_batch)
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn train: epochs %d or batch %d out of range (batch 1..%d)",
			       o->epochs, o->batch, c->o.max_batch);
	if (!(o->lr >= 0) || !(o->weight_decay >= 0) || !(o->clip >= 0) || o->warmup < 0)
		return err_set(e, DYN_EUSAGE,
			       "ocr crnn train: negative learning rate, decay, clip "
			       "or warm-up");
	if (o->synth) {
		const struct ocr_alphabet *sa = ocr_synth_alphabet(o->synth);
		for (size_t i = 0; i < sa->n; i++)
			if (ocr_alphabet_index(&c->alpha, sa->cp[i]) < 0)
				return err_set(
				    e, DYN_EUSAGE,
				    "ocr crnn train: the generator's character U+%04X is "
				    "not in the recognizer's alphabet",
				    (unsigned)sa->cp[i]);
	}
	/* samples checked before any work: a bad one found at epoch 7 would waste the others */
	for (int v = 0; v < 2; v++) {
		const struct ocr_crnn_sample *s = v ? o->val_samples : o->samples;
		size_t n = v ? o->nval_samples : o->nsamples;
		for (size_t i = 0; i < n; i++) {
			if (!s[i].im || !s[i].im->px || !s[i].im->w || !s[i].im->h || !s[i].text)
				return err_set(e, DYN_EDATA, "ocr crnn train: %ssample %zu: empty",
					       v ? "validation " : "", i + 1);
			if (ocr_alphabet_check(&c->alpha, s[i].text, "label", e) < 0)
				return err_prefix(e, "ocr crnn train: %ssample %zu",
						  v ? "validation " : "", i + 1);
			if (ocr_count_chars(s[i].text) > MAX_LABELS)
				return err_set(e, DYN_EDATA,
					       "ocr crnn train: %ssample %zu: label longer than %d "
					       "characters",
					       v ? "validation " : "", i + 1, MAX_LABELS);
		}
	}
	return 0;
}

int ocr_crnn_train(struct ocr_crnn *c, const struct ocr_crnn_train_opts *o, struct err *e)
{
	int B = o->batch ? o->batch : c->o.max_batch, epochs = o->epochs ? o->epochs : 10;
	float lr = o->lr > 0 ? o->lr : 1e-3f, clip = o->clip > 0 ? o->clip : 5.0f;
	size_t np = nn_net_nparams(c->net), HW = (size_t)c->o.height * (size_t)c->o.max_width;
	size_t nsynth = (size_t)o->synth_lines, N = nsynth + o->nsamples,
	       mb = (size_t)c->o.max_batch;
	struct nn_optim opt;
	struct nn_sched sched;
	struct batch bt = {0};
	struct ocr_crnn_epoch ep = {0};
	size_t *order = NULL;
	float *mask = NULL, *dz = NULL, *best = NULL, best_cer = INFINITY, best_loss = INFINITY;
	int *cat = NULL, ret = -1, stop = 0;
	double t0 = wall();

	if (check_train(c, o, e) < 0)
		return -1;
	nn_optim_init(&opt, NN_ADAMW, np);
	opt.lr = lr;
	opt.weight_decay = o->weight_decay > 0 ? o->weight_decay : 1e-2f;
	mask = xmallocarray(np, sizeof(float));
	nn_net_decay_mask(c->net, mask);
	opt.decay_mask = mask;
	nn_sched_init(&sched, o->constant_lr ? NN_SCHED_CONST : NN_SCHED_COSINE, lr);
	sched.t_max = epochs;
	sched.warmup = o->warmup < epochs ? o->warmup : epochs - 1;
	sched.eta_min = lr / 100;
	if (!o->warm)
		nn_net_init(c->net, o->seed);
	order = xmallocarray(N, sizeof(size_t));
	dz = xmallocarray(mb * (size_t)c->classes, (size_t)c->steps * sizeof(float));
	cat = xmallocarray(mb, MAX_LABELS * sizeof(int));
	bt.c = c, bt.o = o;
	bt.x = xmallocarray(mb, HW * sizeof(float));
	bt.lab = xmallocarray(mb, MAX_LABELS * sizeof(int));
	bt.nlab = xmallocarray(mb, sizeof(int));
	bt.lens = xmallocarray(mb, sizeof(int));
	bt.rc = xmallocarray(mb, sizeof(int));
	bt.errs = xcalloc(mb, sizeof(struct err));
	bt.texts = xcalloc(mb, sizeof(char *));
	if (o->keep_best)
		best = xmallocarray(nn_net_state_size(c->net), sizeof(float));
	for (int epoch = 0; epoch < epochs && !stop; epoch++) {
		struct rng r;
		double lsum = 0;
		long nb = 0;
		rng_init(&r, ocr_synth_seed(o->seed ^ 0x6f63722d63726e6eULL, (uint64_t)epoch));
		for (size_t i = 0; i < N; i++)
			order[i] = i;
		rng_shuffle(&r, order, N);
		ep.epoch = epoch;
		ep.lr = o->constant_lr ? lr : nn_sched_lr(&sched, epoch);
		opt.lr = ep.lr;
		for (size_t b0 = 0; b0 < N && !stop; b0 += (size_t)B) {
			int nbt = (int)(N - b0 < (size_t)B ? N - b0 : (size_t)B);
			float loss;
			char **keep = bt.texts;
			bt.texts = NULL;
			bt.items = order + b0, bt.nsynth = nsynth, bt.run = o->seed;
			bt.base = (long)((uint64_t)epoch * nsynth);
			bt.samples = o->samples;
			if (o->max_seconds > 0 && !o->constant_lr)
				opt.lr = ep.lr = budget_lr(lr, (wall() - t0) / o->max_seconds,
							   (double)sched.warmup / epochs);
			int rc = make_batch(&bt, nbt, e);
			bt.texts = keep;
			if (rc < 0)
				goto out;
			concat_labels(&bt, nbt, cat);
			const float *z = nn_net_forward(c->net, bt.x, nbt, 1);
			if (nn_ctc_loss(&loss, NULL, dz, z, cat, bt.lens, bt.nlab, nbt, c->classes,
					c->steps, 0, NN_REDUCE_MEAN, 1, e) < 0) {
				err_prefix(e, "ocr crnn train");
				goto out;
			}
			nn_net_zero_grad(c->net);
			nn_net_backward(c->net, dz);
			nn_clip_grad_norm(nn_net_grads(c->net), np, clip);
			nn_net_step(c->net, &opt);
			lsum += loss, nb++;
			ep.steps++;
			ep.lines += nbt;
			if (o->max_seconds > 0 && wall() - t0 >= o->max_seconds)
				stop = 1;
		}
		ep.loss = (float)(nb ? lsum / (double)nb : NAN);
		if (validate(c, o, &bt, cat, &ep, e) < 0)
			goto out;
		ep.seconds = wall() - t0;
		if (best) {
			float cer = isnan(ep.val_cer) ? 0 : ep.val_cer;
			float vl = isnan(ep.val_loss) ? ep.loss : ep.val_loss;
			if (cer < best_cer || (cer == best_cer && vl < best_loss)) {
				best_cer = cer, best_loss = vl;
				nn_net_get_state(c->net, best);
			}
		}
		if (o->report && o->report(o->arg, &ep))
			stop = 1;
	}
	if (best)
		nn_net_set_state(c->net, best);
	ret = 0;
out:
	nn_optim_release(&opt);
	free(mask), free(order), free(dz), free(cat), free(best);
	free(bt.x), free(bt.lab), free(bt.nlab), free(bt.lens), free(bt.rc), free(bt.errs);
	free(bt.texts);
	return ret;
}
