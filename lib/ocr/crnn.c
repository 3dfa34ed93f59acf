/* The line recognizer: a CRNN described from a few settings and built by lib/nn, line images
 * prepared for it, training on synthetic and labeled lines with CTC, and reading with best-path
 * or beam decoding. */
#include <math.h>

#include <utf8proc.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/par.h"
#include "core/rng.h"
#include "ocr/crnn.h"

#define POOL	   4 /* the width reduction of the two 2x2 pools: pixels a step */
#define STD_FLOOR  0.02f
#define NLAYERS	   32
#define MAX_LABELS OCR_SYNTH_MAX_CHARS
/* Widths the network is built at: bucket k of NBUCKETS reads (k + 1) / NBUCKETS of max_width,
 * so a batch of short lines is not run over max_width of padding (synthetic lines average about
 * two thirds of the default width). The buckets are networks of the same tensors; the one last
 * trained holds the newest state, copied to another before it runs. */
#define NBUCKETS 6
/* Training lines made and sorted by width together, then cut into batches (in batches) */
#define CHUNK_BATCHES 8

struct ocr_crnn {
	struct ocr_crnn_opts o;
	struct ocr_alphabet alpha;
	struct nn_layer_desc layers[NLAYERS];
	char names[NLAYERS][16];
	int nlayers;
	struct nn_net *net;	       /* nets[NBUCKETS - 1]: max_width, the authoritative state */
	struct nn_net *nets[NBUCKETS]; /* by width; made when first used */
	int widths[NBUCKETS];
	int cur;      /* the net whose state is the newest */
	float *state; /* (nn_net_state_size) copying between nets */
	float *xb;    /* (max_batch, height, max_width) a batch narrowed to its bucket */
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

/* Builds the network of bucket k (same tensors, its width). */
static int make_net(struct ocr_crnn *c, int k, struct err *e)
{
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = c->o.height,
				.w = c->widths[k],
				.layers = c->layers,
				.nlayers = c->nlayers,
				.max_batch = c->o.max_batch,
				.threads = c->o.threads};
	if (nn_net_new(&c->nets[k], &d, e) < 0)
		return err_prefix(e, "ocr crnn");
	nn_net_set_threads(c->nets[k], c->threads);
	if (c->net && (nn_net_nparams(c->nets[k]) != nn_net_nparams(c->net) ||
		       nn_net_state_size(c->nets[k]) != nn_net_state_size(c->net))) {
		nn_net_free(&c->nets[k]);
		return err_set(e, DYN_EUSAGE, "ocr crnn: width %d changes the tensors",
			       c->widths[k]);
	}
	return 0;
}

/* Net k with the newest state (copied from the net that has it), made when first used. */
static struct nn_net *use_net(struct ocr_crnn *c, int k, struct err *e)
{
	if (!c->nets[k] && make_net(c, k, e) < 0)
		return NULL;
	if (k != c->cur) {
		nn_net_get_state(c->nets[c->cur], c->state);
		nn_net_set_state(c->nets[k], c->state);
		c->cur = k;
	}
	return c->nets[k];
}

/* The narrowest bucket whose steps cover `steps`. */
static int bucket_of(const struct ocr_crnn *c, int steps)
{
	for (int k = 0; k < NBUCKETS - 1; k++)
		if (c->widths[k] / POOL >= steps)
			return k;
	return NBUCKETS - 1;
}

int ocr_crnn_bucket_steps(const struct ocr_crnn *c, int steps)
{
	return c->widths[bucket_of(c, steps)] / POOL;
}

/* Runs B prepared lines x (B, height, max_width) through the bucket that covers the longest
 * of lens (full: max_width's): the lines narrowed to its width (in c->xb), *T its steps. */
static const float *forward_bucket(struct ocr_crnn *c, const float *x, const int *lens, int B,
				   int training, int full, int *T, struct nn_net **net,
				   struct err *e)
{
	int m = 1;
	for (int b = 0; b < B; b++)
		m = lens[b] > m ? lens[b] : m;
	int k = full ? NBUCKETS - 1 : bucket_of(c, m);
	size_t H = (size_t)c->o.height, W = (size_t)c->o.max_width, Wk = (size_t)c->widths[k];
	if (!(*net = use_net(c, k, e)))
		return NULL;
	if (Wk != W) {
		for (size_t r = 0; r < (size_t)B * H; r++)
			memcpy(c->xb + r * Wk, x + r * W, Wk * sizeof(float));
		x = c->xb;
	}
	*T = (int)Wk / POOL;
	return nn_net_forward(*net, x, B, training);
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
	c->nlayers = describe(c);
	for (int k = 0; k < NBUCKETS; k++) {
		int w = (c->o.max_width * (k + 1) / NBUCKETS + POOL - 1) / POOL * POOL;
		c->widths[k] = w < 2 * POOL ? 2 * POOL : w;
	}
	c->widths[NBUCKETS - 1] = c->o.max_width;
	c->cur = NBUCKETS - 1;
	if (make_net(c, NBUCKETS - 1, e) < 0)
		goto out;
	c->net = c->nets[NBUCKETS - 1];
	c->state = xmallocarray(nn_net_state_size(c->net), sizeof(float));
	c->xb = xmallocarray((size_t)c->o.max_batch * (size_t)c->o.height,
			     (size_t)c->o.max_width * sizeof(float));
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
	for (int k = 0; k < NBUCKETS; k++)
		nn_net_free(&c->nets[k]);
	ocr_alphabet_release(&c->alpha);
	free(c->state);
	free(c->xb);
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
	for (int k = 0; k < NBUCKETS; k++)
		if (c->nets[k])
			nn_net_set_threads(c->nets[k], c->threads);
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

static int check_image(const struct img *im, struct err *e)
{
	if (!im || !im->px || !im->w || !im->h)
		return err_set(e, DYN_EDATA, "ocr crnn: empty line image");
	if (im->channels < 1 || im->channels > 4)
		return err_set(e, DYN_EDATA, "ocr crnn: line image with %d channels", im->channels);
	if (im->w > IMG_MAX_SIDE || im->h > IMG_MAX_SIDE)
		return err_set(e, DYN_EDATA, "ocr crnn: line image %zux%zu larger than %d a side",
			       im->w, im->h, IMG_MAX_SIDE);
	return 0;
}

/* The width of a (checked) line at the network's height, keeping the aspect; narrowed to
 * max_width when wider. */
static size_t line_width(const struct ocr_crnn *c, const struct img *im)
{
	double wd = (double)im->w * (double)c->o.height / (double)im->h;
	return wd < 1			     ? 1
	       : wd > (double)c->o.max_width ? (size_t)c->o.max_width
					     : (size_t)lround(wd);
}

/* The steps over a line wt pixels wide, and one more for the convolutions' reach. */
static int line_steps(const struct ocr_crnn *c, size_t wt)
{
	size_t s = (wt + POOL - 1) / POOL + 1;
	return (int)(s > (size_t)c->steps ? (size_t)c->steps : s);
}

int ocr_crnn_prepare(const struct ocr_crnn *c, const struct img *im, float *x, int *steps,
		     struct err *e)
{
	size_t H = (size_t)c->o.height, W = (size_t)c->o.max_width;
	if (check_image(im, e) < 0)
		return -1;
	size_t wt = line_width(c, im);
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
	if (steps)
		*steps = line_steps(c, wt);
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
static int decode(struct ocr_crnn *c, const float *z, int T, int b, int len, int beam,
		  struct strbuf *text, struct ocr_crnn_conf *cf, struct err *e)
{
	int K = c->classes, n;
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
	size_t HW = (size_t)c->o.height * (size_t)c->o.max_width, mb = (size_t)c->o.max_batch;
	size_t *order = NULL, cnt[NBUCKETS + 1] = {0};
	int *bk = NULL, ret = -1;
	if (beam > NN_CTC_MAX_BEAM)
		return err_set(e, DYN_EUSAGE, "ocr crnn: beam %d out of range 1..%d", beam,
			       NN_CTC_MAX_BEAM);
	for (size_t i = 0; i < n; i++)
		if (check_image(ims[i], e) < 0)
			return err_prefix(e, "line %zu", i + 1);
	/* each line read at the bucket of its own width, whatever the others: the reading of
	 * a line does not depend on the batch it came in (the reverse LSTM starts in the
	 * padding) */
	c->cur = NBUCKETS - 1; /* tensors may have been written: the full net's are the newest */
	order = xmallocarray(n ? n : 1, sizeof(size_t));
	bk = xmallocarray(n ? n : 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		bk[i] = bucket_of(c, line_steps(c, line_width(c, ims[i])));
		cnt[bk[i] + 1]++;
	}
	for (int k = 0; k < NBUCKETS; k++)
		cnt[k + 1] += cnt[k];
	for (size_t i = 0; i < n; i++)
		order[cnt[bk[i]]++] = i;
	for (size_t b0 = 0; b0 < n;) {
		int k = bk[order[b0]], B = 0, T;
		struct nn_net *net;
		while (b0 + (size_t)B < n && (size_t)B < mb && bk[order[b0 + (size_t)B]] == k) {
			size_t i = order[b0 + (size_t)B];
			if (ocr_crnn_prepare(c, ims[i], c->x + (size_t)B * HW, &c->lens[B], e) <
			    0) {
				err_prefix(e, "line %zu", i + 1);
				goto out;
			}
			B++;
		}
		const float *z = forward_bucket(c, c->x, c->lens, B, 0, 0, &T, &net, e);
		if (!z)
			goto out;
		for (int b = 0; b < B; b++) {
			size_t i = order[b0 + (size_t)b];
			if (decode(c, z, T, b, c->lens[b], beam, &texts[i],
				   confs ? &confs[i] : NULL, e) < 0)
				goto out;
		}
		b0 += (size_t)B;
	}
	ret = 0;
out:
	free(order);
	free(bk);
	return ret;
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

/* A chunk of lines being made: item j's line goes to x + j * HW, its labels to
 * lab + j * MAX_LABELS. */
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

size_t ocr_crnn_cut_batches(const struct ocr_crnn *c, const int *lens, size_t n, int B, int strict,
			    size_t *pos, size_t *starts)
{
	size_t nb = 0, m = 0;
	/* insertion sort: stable, and a chunk is a few hundred lines */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && lens[pos[j - 1]] > lens[i]) {
			pos[j] = pos[j - 1];
			j--;
		}
		pos[j] = i;
	}
	for (size_t i = 0; i < n; i++) {
		if (m == (size_t)B ||
		    (strict && m && bucket_of(c, lens[pos[i]]) != bucket_of(c, lens[pos[i - 1]])))
			m = 0;
		if (m == 0)
			starts[nb++] = i;
		m++;
	}
	starts[nb] = n;
	return nb;
}

/* Batch pos[0..B) of the chunk gathered: lines into c->x, steps into c->lens, label counts into
 * nlab, the labels concatenated into cat as nn_ctc_loss takes them. */
static void gather(struct ocr_crnn *c, const struct batch *bt, const size_t *pos, int B, int *nlab,
		   int *cat)
{
	size_t HW = (size_t)c->o.height * (size_t)c->o.max_width;
	int m = 0;
	for (int j = 0; j < B; j++) {
		size_t p = pos[j];
		memcpy(c->x + (size_t)j * HW, bt->x + p * HW, HW * sizeof(float));
		c->lens[j] = bt->lens[p];
		nlab[j] = bt->nlab[p];
		for (int i = 0; i < bt->nlab[p]; i++)
			cat[m++] = bt->lab[p * MAX_LABELS + (size_t)i];
	}
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

/* Validation: loss, CER and exact lines over the validation lines and samples, each line at
 * its own bucket as reading does. */
static int validate(struct ocr_crnn *c, const struct ocr_crnn_train_opts *o, struct batch *bt,
		    size_t cap, size_t *pos, size_t *starts, int *nlab, int *cat,
		    struct ocr_crnn_epoch *ep, struct err *e)
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
		size_t nch = nv - done < cap ? nv - done : cap;
		bt->items = items + done;
		memset(bt->texts, 0, nch * sizeof(char *));
		int rc = make_batch(bt, (int)nch, e);
		size_t nb =
		    rc == 0 ? ocr_crnn_cut_batches(c, bt->lens, nch, c->o.max_batch, 1, pos, starts)
			    : 0;
		for (size_t q = 0; rc == 0 && q < nb; q++) {
			int B = (int)(starts[q + 1] - starts[q]), T;
			const size_t *pq = pos + starts[q];
			struct nn_net *net;
			float loss;
			gather(c, bt, pq, B, nlab, cat);
			const float *z = forward_bucket(c, c->x, c->lens, B, 0, 0, &T, &net, e);
			rc = z ? nn_ctc_loss(&loss, losses, NULL, z, cat, c->lens, nlab, B,
					     c->classes, T, 0, NN_REDUCE_SUM, 1, e)
			       : -1;
			for (int j = 0; rc == 0 && j < B; j++) {
				const char *ref = bt->texts[pq[j]];
				lsum += losses[j] / (nlab[j] > 0 ? nlab[j] : 1);
				rc = decode(c, z, T, j, c->lens[j], 1, &sb, NULL, e);
				if (rc == 0) {
					size_t d = ocr_edit_chars(sb.buf, ref);
					edits += (double)d;
					chars += (double)ocr_count_chars(ref);
					exact += d == 0;
				}
			}
		}
		for (size_t j = 0; j < nch; j++) {
			free(bt->texts[j]);
			bt->texts[j] = NULL;
		}
		if (rc < 0)
			goto out;
		done += nch;
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
	       mb = (size_t)c->o.max_batch, cap = CHUNK_BATCHES * mb;
	struct nn_optim opt;
	struct nn_sched sched;
	struct batch bt = {0};
	struct ocr_crnn_epoch ep = {0};
	size_t *order = NULL, *pos = NULL, *starts = NULL, *bord = NULL;
	float *mask = NULL, *dz = NULL, *best = NULL, best_cer = INFINITY, best_loss = INFINITY;
	int *cat = NULL, *nlab = NULL, ret = -1, stop = 0;
	double t0 = clock_monotonic();

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
	c->cur = NBUCKETS - 1;
	order = xmallocarray(N, sizeof(size_t));
	pos = xmallocarray(cap, sizeof(size_t));
	starts = xmallocarray(cap + 1, sizeof(size_t));
	bord = xmallocarray(cap + 1, sizeof(size_t));
	dz = xmallocarray(mb * (size_t)c->classes, (size_t)c->steps * sizeof(float));
	cat = xmallocarray(mb, MAX_LABELS * sizeof(int));
	nlab = xmallocarray(mb, sizeof(int));
	bt.c = c, bt.o = o;
	bt.x = xmallocarray(cap, HW * sizeof(float));
	bt.lab = xmallocarray(cap, MAX_LABELS * sizeof(int));
	bt.nlab = xmallocarray(cap, sizeof(int));
	bt.lens = xmallocarray(cap, sizeof(int));
	bt.rc = xmallocarray(cap, sizeof(int));
	bt.errs = xcalloc(cap, sizeof(struct err));
	bt.texts = xcalloc(cap, sizeof(char *));
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
		/* chunks of CHUNK_BATCHES batches made together, sorted by width and cut into
		 * batches of lines of similar width, taken in random order */
		for (size_t c0 = 0; c0 < N && !stop; c0 += (size_t)B * CHUNK_BATCHES) {
			size_t nch =
			    N - c0 < (size_t)B * CHUNK_BATCHES ? N - c0 : (size_t)B * CHUNK_BATCHES;
			char **keep = bt.texts;
			bt.texts = NULL;
			bt.items = order + c0, bt.nsynth = nsynth, bt.run = o->seed;
			bt.base = (long)((uint64_t)epoch * nsynth);
			bt.samples = o->samples;
			int rc = make_batch(&bt, (int)nch, e);
			bt.texts = keep;
			if (rc < 0)
				goto out;
			size_t nbt = ocr_crnn_cut_batches(c, bt.lens, nch, B, 0, pos, starts);
			for (size_t q = 0; q < nbt; q++)
				bord[q] = q;
			rng_shuffle(&r, bord, nbt);
			for (size_t qi = 0; qi < nbt && !stop; qi++) {
				size_t q = bord[qi];
				int Bq = (int)(starts[q + 1] - starts[q]), T;
				struct nn_net *net;
				float loss;
				if (o->max_seconds > 0 && !o->constant_lr)
					opt.lr = ep.lr =
					    budget_lr(lr, (clock_monotonic() - t0) / o->max_seconds,
						      (double)sched.warmup / epochs);
				gather(c, &bt, pos + starts[q], Bq, nlab, cat);
				const float *z = forward_bucket(c, c->x, c->lens, Bq, 1,
								o->pad_full, &T, &net, e);
				if (!z || nn_ctc_loss(&loss, NULL, dz, z, cat, c->lens, nlab, Bq,
						      c->classes, T, 0, NN_REDUCE_MEAN, 1, e) < 0) {
					err_prefix(e, "ocr crnn train");
					goto out;
				}
				nn_net_zero_grad(net);
				nn_net_backward(net, dz);
				nn_clip_grad_norm(nn_net_grads(net), np, clip);
				nn_net_step(net, &opt);
				lsum += loss, nb++;
				ep.steps++;
				ep.lines += Bq;
				if (o->max_seconds > 0 && clock_monotonic() - t0 >= o->max_seconds)
					stop = 1;
			}
		}
		ep.loss = (float)(nb ? lsum / (double)nb : NAN);
		if (validate(c, o, &bt, cap, pos, starts, nlab, cat, &ep, e) < 0)
			goto out;
		ep.seconds = clock_monotonic() - t0;
		if (best) {
			float cer = isnan(ep.val_cer) ? 0 : ep.val_cer;
			float vl = isnan(ep.val_loss) ? ep.loss : ep.val_loss;
			if (cer < best_cer || (cer == best_cer && vl < best_loss)) {
				best_cer = cer, best_loss = vl;
				nn_net_get_state(c->nets[c->cur], best);
			}
		}
		if (o->report && o->report(o->arg, &ep))
			stop = 1;
	}
	/* the full net holds the result, as the tensors and the model file see it */
	if (!use_net(c, NBUCKETS - 1, e))
		goto out;
	if (best)
		nn_net_set_state(c->net, best);
	ret = 0;
out:
	nn_optim_release(&opt);
	free(mask), free(order), free(dz), free(cat), free(nlab), free(best);
	free(pos), free(starts), free(bord);
	free(bt.x), free(bt.lab), free(bt.nlab), free(bt.lens), free(bt.rc), free(bt.errs);
	free(bt.texts);
	c->cur = NBUCKETS - 1;
	return ret;
}
