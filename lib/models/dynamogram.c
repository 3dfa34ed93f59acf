/* Dynamogram diagnosis: a convolutional network on a card's resampled curve (1-D) or on its
 * raster (2-D), trained in epochs with AdamW on a cosine schedule, giving marker
 * probabilities. The card's scalars (load range ratio, fill...) enter as constant channels, so
 * the network sees what min-max scaling would hide (../shared/dynamograms.md); optionally their
 * means also join the pooled features before the classifier. */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/base.h"
#include "base/par.h"
#include "cards/norm.h"
#include "core/rng.h"
#include "models/model.h"
#include "nn/nn.h"
#include "store/safetensors.h"

enum { ARCH_CURVE, ARCH_RASTER }; /* order of "arch" choices */
/* The card's absolute scale, in units near 1 for the oilfield cards (kN, m): maximum and minimum
 * load / 50, stroke / 4; and its sampling: points / 200, the top dead centre's index / points
 * (where the recording turns: a slow upstroke shows there). Card shapes alone confuse classes
 * that differ mostly in how heavy the well is (a parted rod's light band against a normal
 * card); a picture has neither scale nor sampling: 0. */
#define DYNO_ABSOLUTE	5
#define DYNO_MAX_LAYERS 32
/* The layout of a network's inputs, stored with the model ("dynamogram.inputs"): a model of
 * another layout cannot be read, as its first layer expects other channels. 2: the absolute
 * scalars really given (layout 1 read the switch as off), with the points and the top dead
 * centre among them; card_series and the joined means as switched. */
#define DYNO_INPUTS "2"

static const struct param_spec dyno_params[] = {
    {"arch", PARAM_CHOICE, "curve", NAN, NAN, 0, "curve|raster",
     "network: curve = 1-D convolutions on the resampled loop, raster = 2-D on its picture"},
    {"epochs", PARAM_INT, "60", 1, 100000, 0, NULL, "passes over the training cards"},
    {"lr", PARAM_NUM, "0.003", 0, 10, PARAM_MIN_OPEN, NULL, "peak learning rate (AdamW)"},
    {"batch_size", PARAM_INT, "32", 1, 4096, 0, NULL, "cards per step"},
    {"weight_decay", PARAM_NUM, "0.01", 0, 10, 0, NULL, "AdamW's decoupled weight decay"},
    {"width", PARAM_INT, "32", 4, 512, 0, NULL, "channels of the first layer (doubling later)"},
    {"dropout", PARAM_NUM, "0.2", 0, 0.95, 0, NULL, "dropout before the classifier"},
    {"points", PARAM_INT, "128", 16, 4096, 0, NULL, "curve: points the loop is resampled to"},
    {"wrap", PARAM_INT, "0", 0, 4096, 0, NULL,
     "curve: points of the loop repeated before its start and after its end (at most "
     "points), so that convolutions see across the closed loop's seam"},
    {"raster", PARAM_INT, "64", 16, 512, 0, NULL, "raster: picture side in pixels"},
    {"augment", PARAM_CHOICE, "auto", NAN, NAN, 0, "auto|true|false",
     "jitter training cards (curve: warp, shift, noise; raster: rotation, zoom, shift); auto: "
     "curve networks only"},
    {"warmup", PARAM_INT, "3", 0, 100000, 0, NULL, "epochs of linear learning-rate warm-up"},
    {"absolute", PARAM_BOOL, "true", NAN, NAN, 0, NULL,
     "curve: also feed the card's absolute scale (maximum and minimum load, stroke) and "
     "sampling (points, top dead centre's index) as channels (0 for pictures)"},
    {"label_smoothing", PARAM_NUM, "0", 0, 0.5, 0, NULL,
     "share of each training target spread evenly over all classes"},
    {"series", PARAM_BOOL, "false", NAN, NAN, 0, NULL,
     "curve: also feed the loop in its recorded order and its upstroke and downstroke load "
     "against position (card_series)"},
    {"join", PARAM_BOOL, "false", NAN, NAN, 0, NULL,
     "the input's channel means (the scalars among them) join the pooled features before the "
     "classifier"},
    {"patience", PARAM_INT, "0", 0, 100000, 0, NULL,
     "stop after this many epochs without a better validation loss, keeping the best "
     "weights (0: train all epochs)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* A network's input per card: curve (C, points) or raster (C, raster, raster). */
struct dyno_shape {
	int arch, c, h, w, absolute, series;
	size_t points, wrap, raster, size; /* size = c * h * w floats */
};

struct dyno_state {
	struct nn_net *net;
	struct dyno_shape sh;
	int width, max_batch;
	pthread_mutex_t lock; /* the network's activations are one set: one predict at a time */
};

static void dyno_shape_of(const struct params *p, struct dyno_shape *sh)
{
	sh->arch = params_choice(p, "arch");
	sh->points = (size_t)params_num(p, "points");
	sh->wrap = (size_t)params_num(p, "wrap");
	if (sh->arch != ARCH_CURVE)
		sh->wrap = 0;
	if (sh->wrap > sh->points)
		sh->wrap = sh->points;
	sh->raster = (size_t)params_num(p, "raster");
	sh->absolute = sh->arch == ARCH_CURVE && params_num(p, "absolute") != 0;
	sh->series = sh->arch == ARCH_CURVE && params_num(p, "series") != 0;
	if (sh->arch == ARCH_RASTER) {
		sh->c = 1 + CARD_SCALARS;
		sh->h = sh->w = (int)sh->raster;
	} else {
		sh->c = CARD_CURVE_CHANNELS + (sh->series ? CARD_SERIES_CHANNELS : 0) +
			CARD_SCALARS + (sh->absolute ? DYNO_ABSOLUTE : 0);
		sh->h = 1;
		sh->w = (int)(sh->points + 2 * sh->wrap);
	}
	sh->size = (size_t)sh->c * (size_t)sh->h * (size_t)sh->w;
}

static void dyno_absolute(const struct card *c, float out[DYNO_ABSOLUTE])
{
	double ymin = INFINITY, ymax = -INFINITY, xmin = INFINITY, xmax = -INFINITY;
	size_t top = 0;
	if (c->from_image) {
		for (int i = 0; i < DYNO_ABSOLUTE; i++)
			out[i] = 0;
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		ymin = fmin(ymin, c->y[i]);
		ymax = fmax(ymax, c->y[i]);
		xmin = fmin(xmin, c->x[i]);
		if (c->x[i] > xmax) {
			xmax = c->x[i];
			top = i;
		}
	}
	out[0] = (float)(ymax / 50);
	out[1] = (float)(ymin / 50);
	out[2] = (float)((xmax - xmin) / 4);
	out[3] = (float)((double)c->n / 200);
	out[4] = (float)((double)top / (double)c->n);
}

/* The card's network input (sh->size floats): the curve's channels or the raster, then each
 * scalar (and the absolute scale) as a constant channel. */
static int dyno_input(const struct card *c, const struct dyno_shape *sh, float *out, struct err *e)
{
	float sc[CARD_SCALARS + DYNO_ABSOLUTE];
	size_t nsc = CARD_SCALARS, plane = (size_t)sh->h * (size_t)sh->w, i, j, first;
	/* One validation and canonical form for the picture or curve and the scalars. */
	if (sh->arch == ARCH_RASTER) {
		if (card_features(c, 0, NULL, sh->raster, out, sc, e) < 0)
			return -1;
		first = 1;
	} else {
		size_t most = CARD_CURVE_CHANNELS > CARD_SERIES_CHANNELS ? CARD_CURVE_CHANNELS
									 : CARD_SERIES_CHANNELS;
		float *cur = xmallocarray(most * sh->points, sizeof(float));
		if (card_features(c, sh->points, cur, 0, NULL, sc, e) < 0) {
			free(cur);
			return -1;
		}
		for (j = 0; j < CARD_CURVE_CHANNELS; j++)
			for (i = 0; i < plane; i++)
				out[j * plane + i] =
				    cur[j * sh->points + (i + sh->points - sh->wrap) % sh->points];
		first = CARD_CURVE_CHANNELS;
		if (sh->series) {
			if (card_series(c, sh->points, cur, e) < 0) {
				free(cur);
				return -1;
			}
			/* Wrapped like the curve, though the branches are not circular. */
			for (j = 0; j < CARD_SERIES_CHANNELS; j++)
				for (i = 0; i < plane; i++)
					out[(first + j) * plane + i] =
					    cur[j * sh->points +
						(i + sh->points - sh->wrap) % sh->points];
			first += CARD_SERIES_CHANNELS;
		}
		free(cur);
	}
	if (sh->absolute) {
		dyno_absolute(c, sc + CARD_SCALARS);
		nsc += DYNO_ABSOLUTE;
	}
	for (j = 0; j < nsc; j++)
		for (i = 0; i < plane; i++)
			out[(first + j) * plane + i] = sc[j];
	return 0;
}

/* Layers of the two architectures, for k classes and base width w. Strings are static. */
static int dyno_layers(const struct dyno_shape *sh, int w, int k, float dropout, bool join,
		       struct nn_layer_desc *L)
{
	int n = 0;
	bool d2 = sh->arch == ARCH_RASTER;
	enum nn_op conv = d2 ? NN_CONV2D : NN_CONV1D, pool = d2 ? NN_MAXPOOL2D : NN_MAXPOOL1D;
	static const char *const cn[] = {"conv1", "conv2", "conv3", "conv4", "conv5"};
	static const char *const bn[] = {"bn1", "bn2", "bn3", "bn4", "bn5"};
	/* curve: 128 -> 64 -> 32 -> 16 -> 8; raster: 64 -> 32 -> 16 -> 8 -> 4 */
	const int widths[] = {w, w, 2 * w, 2 * w, 4 * w};
	const int ks1[] = {7, 5, 5, 3, 3};
	memset(L, 0, DYNO_MAX_LAYERS * sizeof(*L));
	for (int b = 0; b < 5; b++) {
		L[n].op = conv;
		L[n].name = cn[b];
		L[n].out = widths[b];
		L[n].k = d2 ? 3 : ks1[b];
		L[n].pad = L[n].k / 2;
		L[n].no_bias = 1; /* batch norm follows */
		n++;
		L[n].op = NN_BATCHNORM;
		L[n].name = bn[b];
		n++;
		L[n].op = NN_RELU;
		n++;
		if (b < 4) {
			L[n].op = pool;
			L[n].k = 2;
			n++;
		}
	}
	L[n].op = NN_GAP;
	L[n].name = "gap";
	n++;
	if (join) {
		/* The scalars are constant channels of the input: their means are the scalars.
		 * Joined after pooling they reach the classifier directly, rather than through five
		 * convolutions tuned to shapes. Batch norm puts them on the features' scale. */
		L[n].op = NN_GAP;
		L[n].name = "inmean";
		L[n].from = "input";
		n++;
		L[n].op = NN_BATCHNORM;
		L[n].name = "bn_in";
		n++;
		L[n].op = NN_CONCAT;
		L[n].name = "joined";
		L[n].from = "gap";
		L[n].from2 = "bn_in";
		n++;
	}
	if (dropout > 0) {
		L[n].op = NN_DROPOUT;
		L[n].p = dropout;
		n++;
	}
	L[n].op = NN_DENSE;
	L[n].name = "fc";
	L[n].out = k;
	n++;
	return n;
}

static void dyno_free(void *p)
{
	struct dyno_state *st = p;
	if (!st)
		return;
	nn_net_free(&st->net);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int dyno_build(struct dyno_state **out, const struct params *p, size_t k, int max_batch,
		      int threads, struct err *e)
{
	struct dyno_state *st = xcalloc(1, sizeof(*st));
	struct nn_layer_desc L[DYNO_MAX_LAYERS];
	struct nn_net_desc d;
	memset(&d, 0, sizeof(d));
	dyno_shape_of(p, &st->sh);
	st->width = (int)params_num(p, "width");
	d.dims = st->sh.arch == ARCH_RASTER ? 3 : 2;
	d.c = st->sh.c;
	d.h = st->sh.h;
	d.w = st->sh.w;
	d.layers = L;
	d.nlayers = dyno_layers(&st->sh, st->width, (int)k, (float)params_num(p, "dropout"),
				params_num(p, "join") != 0, L);
	d.max_batch = max_batch;
	st->max_batch = max_batch;
	d.threads = threads;
	pthread_mutex_init(&st->lock, NULL);
	if (nn_net_new(&st->net, &d, e) < 0) {
		dyno_free(st);
		return -1;
	}
	*out = st;
	return 0;
}

/* Inputs of n cards (n x sh->size floats, caller frees), on threads. */
struct inputs_job {
	const struct card *cards;
	const struct dyno_shape *sh;
	float *X;
	struct err *errs; /* per card */
	int *failed;
};

static void inputs_one(void *arg, size_t i, int t)
{
	struct inputs_job *j = arg;
	(void)t;
	if (dyno_input(&j->cards[i], j->sh, j->X + i * j->sh->size, &j->errs[i]) < 0)
		j->failed[i] = 1;
}

static float *dyno_inputs(const struct card *cards, size_t n, const struct dyno_shape *sh,
			  int threads, struct err *e)
{
	struct inputs_job j;
	float *X = xmallocarray(n ? n : 1, sh->size * sizeof(float));
	size_t i;
	j.cards = cards;
	j.sh = sh;
	j.X = X;
	j.errs = xcalloc(n ? n : 1, sizeof(struct err));
	j.failed = xcalloc(n ? n : 1, sizeof(int));
	par_for(n, threads, inputs_one, &j);
	for (i = 0; i < n; i++)
		if (j.failed[i]) {
			*e = j.errs[i];
			FREE_AND_NULL(X);
			break;
		}
	free(j.errs);
	free(j.failed);
	return X;
}

/* Loss and accuracy of the network in eval mode on n inputs X with labels y. */
/* How many of the b rows of logits (b x k) have their largest value at the label y. */
static size_t dyno_hits(const float *logits, const int *y, int b, size_t k)
{
	size_t hit = 0;
	for (int r = 0; r < b; r++) {
		const float *l = logits + (size_t)r * k;
		size_t best = 0;
		for (size_t c = 1; c < k; c++)
			if (l[c] > l[best])
				best = c;
		hit += (int)best == y[r];
	}
	return hit;
}

static void dyno_evaluate(struct nn_net *net, const struct dyno_shape *sh, const float *X,
			  const int *y, size_t n, int B, size_t k, double *loss, double *acc)
{
	double sl = 0;
	size_t i, hit = 0;
	for (i = 0; i < n; i += (size_t)B) {
		int b = (int)(n - i < (size_t)B ? n - i : (size_t)B);
		const float *logits = nn_net_forward(net, X + i * sh->size, b, 0);
		sl += (double)nn_softmax_xent(NULL, NULL, logits, y + i, NULL, b, (int)k) * b;
		hit += dyno_hits(logits, y + i, b, k);
	}
	*loss = n ? sl / (double)n : NAN;
	*acc = n ? (double)hit / (double)n : NAN;
}

/* Mean cross-entropy of B rows of logits against targets smoothed by eps (1 - eps on the
 * label, eps spread over all k classes), its gradient to dlogits (B, k). With eps 0 this is
 * nn_softmax_xent; smoothing keeps a small data set's network from driving its logits apart
 * to fit every card. */
static double dyno_xent_smooth(float *dlogits, const float *logits, const int *y, int B, int k,
			       double eps)
{
	double loss = 0;
	for (int b = 0; b < B; b++) {
		const float *z = logits + (size_t)b * (size_t)k;
		double mx = z[0], s = 1, lse; /* s: exp(z - mx) summed, 1 from the maximum */
		int top = 0;
		for (int c = 1; c < k; c++)
			if (z[c] > mx) {
				mx = z[c];
				top = c;
			}
		for (int c = 0; c < k; c++)
			if (c != top)
				s += exp((double)z[c] - mx);
		lse = mx + log(s);
		for (int c = 0; c < k; c++) {
			double q = eps / k + (c == y[b] ? 1 - eps : 0);
			loss += q * (lse - z[c]);
			dlogits[(size_t)b * (size_t)k + (size_t)c] =
			    (float)((exp((double)z[c] - lse) - q) / B);
		}
	}
	return loss / B;
}

/* Copies the tensors of src into dst's of the same name and shape; with all, every tensor of
 * dst must be found (a warm start), else those that match are taken (a pretrained model with
 * other classes keeps its own classifier). Returns the number copied. */
static int dyno_copy_weights(struct nn_net *dst, const struct nn_net *src, bool all, struct err *e)
{
	int i, copied = 0;
	for (i = 0; i < nn_net_ntensors(dst); i++) {
		const struct nn_tensor *t = nn_net_tensor(dst, i), *s = nn_net_find(src, t->name);
		if (!s || s->size != t->size || s->ndim != t->ndim ||
		    memcmp(s->shape, t->shape, sizeof(t->shape))) {
			if (all)
				return err_set(e, DYN_EUSAGE,
					       "the model to start from has no tensor \"%s\" of "
					       "this shape (other arch or width?)",
					       t->name);
			continue;
		}
		memcpy(t->data, s->data, t->size * sizeof(float));
		copied++;
	}
	return copied;
}

/* What a training reads besides the network: the inputs, labels and options. */
struct dyno_train {
	const struct dataset *ds;
	const struct fit_ctx *ctx;
	const struct params *p;
	const float *X, *Xv;
	const int *yv;
	size_t nv;
	int B;
	long epochs;
};

/* Trains st's network (initialized) on t's cards. Returns the epochs run, or -1 with e set;
 * info gets best_epoch with patience. */
static long dyno_train_net(struct dyno_state *st, const struct dyno_train *t, cJSON *info,
			   struct err *e)
{
	const struct params *p = t->p;
	const struct dataset *ds = t->ds;
	struct nn_net *net = st->net;
	size_t n = ds->n, k = ds->k, i, step, steps;
	int B = t->B, patience = (int)params_num(p, "patience");
	/* "auto|true|false"; auto jitters curves only: on pictures of generated pump cards the
	 * raster network reached 0.958 without jitter, 0.937 with (bench/RESULTS.md) */
	int aug_choice = params_choice(p, "augment");
	int augment = aug_choice == 1 || (aug_choice == 0 && st->sh.arch != ARCH_RASTER);
	long epochs = t->epochs, ep, ret = -1;
	double smooth = params_num(p, "label_smoothing");
	float *best = NULL, *xb, *dlogits;
	int *yb;
	size_t *order;
	struct nn_optim opt;
	struct nn_sched sched;
	struct nn_early early;
	struct rng r;

	xb = xmallocarray((size_t)B, st->sh.size * sizeof(float));
	dlogits = xmallocarray((size_t)B, k * sizeof(float));
	yb = xmallocarray((size_t)B, sizeof(int));
	order = xmallocarray(n, sizeof(size_t));
	for (i = 0; i < n; i++)
		order[i] = i;
	nn_optim_init(&opt, NN_ADAMW, nn_net_nparams(net));
	opt.weight_decay = (float)params_num(p, "weight_decay");
	nn_sched_init(&sched, NN_SCHED_COSINE, (float)params_num(p, "lr"));
	sched.t_max = (int)epochs;
	sched.warmup = (int)params_num(p, "warmup") < epochs ? (int)params_num(p, "warmup") : 0;
	nn_early_init(&early, patience, 0, 0);
	/* The training's own stream, apart from the network's initialization. */
	rng_init(&r, t->ctx->seed ^ 0x5dee7ba11f00dULL);
	steps = (size_t)epochs * ((n + (size_t)B - 1) / (size_t)B);
	step = 0;
	for (ep = 0; ep < epochs; ep++) {
		struct epoch_stats es;
		double t0 = clock_monotonic(), sl = 0;
		size_t hit = 0, seen = 0;
		opt.lr = nn_sched_lr(&sched, (int)ep);
		rng_shuffle(&r, order, n);
		/* A last batch of one would make batch statistics meaningless: it joins none. */
		for (i = 0; i + 1 < n || (i < n && n == 1); i += (size_t)B) {
			int b = (int)(n - i < (size_t)B ? n - i : (size_t)B);
			const float *logits;
			for (int q = 0; q < b; q++) {
				const float *src = t->X + order[i + (size_t)q] * st->sh.size;
				float *dst = xb + (size_t)q * st->sh.size;
				yb[q] = ds->y[order[i + (size_t)q]];
				if (!augment) {
					memcpy(dst, src, st->sh.size * sizeof(float));
				} else if (st->sh.arch == ARCH_RASTER) {
					struct nn_aug_image a = {0.08f, 0.08f, 0.05f, 0,
								 0,	0,     0,     0};
					nn_aug_image(dst, src, st->sh.c, st->sh.h, st->sh.w, &r,
						     &a);
				} else {
					struct nn_aug_curve a = {2, 0, 0.01f, 0.04f};
					nn_aug_curve(dst, src, st->sh.c, st->sh.w, &r, &a);
				}
			}
			seen += (size_t)b;
			logits = nn_net_forward(net, xb, b, 1);
			sl += dyno_xent_smooth(dlogits, logits, yb, b, (int)k, smooth) * b;
			hit += dyno_hits(logits, yb, b, k);
			nn_net_zero_grad(net);
			nn_net_backward(net, dlogits);
			nn_net_step(net, &opt);
			progress_update(t->ctx->progress, (double)++step, (double)steps);
		}
		memset(&es, 0, sizeof(es));
		es.epoch = ep + 1;
		es.epochs = epochs;
		es.loss = sl / (double)seen;
		es.lr = opt.lr;
		es.metric = "accuracy";
		es.train_metric = (double)hit / (double)seen;
		es.val_loss = es.val_metric = NAN;
		if (t->nv)
			dyno_evaluate(net, &st->sh, t->Xv, t->yv, t->nv, B, k, &es.val_loss,
				      &es.val_metric);
		es.seconds = clock_monotonic() - t0;
		if (t->ctx->on_epoch && t->ctx->on_epoch(t->ctx->on_epoch_arg, &es, e) < 0)
			goto out;
		if (patience && t->nv) {
			if (nn_early_update(&early, (int)ep, (float)es.val_loss)) {
				if (!best)
					best = xmallocarray(nn_net_state_size(net), sizeof(float));
				nn_net_get_state(net, best);
			}
			if (nn_early_stop(&early))
				break;
		}
	}
	if (best) { /* the best epoch's weights, buffers included */
		nn_net_set_state(net, best);
		cJSON_AddNumberToObject(info, "best_epoch", (double)early.best_epoch + 1);
	}
	ret = ep < epochs ? ep + 1 : epochs;
out:
	nn_optim_release(&opt);
	free(best);
	free(xb);
	free(dlogits);
	free(yb);
	free(order);
	return ret;
}

static int dyno_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		    const struct fit_ctx *ctx, struct err *e)
{
	const struct params *p = &m->params;
	struct dyno_state *st = NULL;
	struct dyno_train t;
	size_t n = ds->n, k = ds->k;
	int threads = par_cpus(ctx->threads), ret = -1;
	float *X = NULL, *Xv = NULL;
	long run = 0;
	cJSON *info = cJSON_CreateObject();

	memset(&t, 0, sizeof(t));
	t.B = (int)params_num(p, "batch_size");
	if ((size_t)t.B > n)
		t.B = (int)n;
	if (dyno_build(&st, p, k, t.B, threads, e) < 0)
		goto out;
	nn_net_init(st->net, ctx->seed);
	if (ctx->pretrained && !warm) {
		const struct dyno_state *ps = ctx->pretrained->state;
		if (ps->sh.arch != st->sh.arch || ps->sh.size != st->sh.size ||
		    ps->width != st->width) {
			err_set(
			    e, DYN_EUSAGE,
			    "--pretrained: that model's network differs (arch, points, raster or "
			    "width)");
			goto out;
		}
		if (dyno_copy_weights(st->net, ps->net, false, e) < 0)
			goto out;
	}
	if (warm) {
		const struct dyno_state *ws = warm->state;
		if (dyno_copy_weights(st->net, ws->net, true, e) < 0)
			goto out;
	}
	if (!(X = dyno_inputs(ds->cards, n, &st->sh, threads, e)))
		goto out;
	if (ctx->valid && ctx->valid->n) {
		if (!(Xv = dyno_inputs(ctx->valid->cards, ctx->valid->n, &st->sh, threads, e)))
			goto out;
		t.yv = ctx->valid->y;
		t.nv = ctx->valid->n;
	}
	t.ds = ds;
	t.ctx = ctx;
	t.p = p;
	t.X = X;
	t.Xv = Xv;
	t.epochs = (long)params_num(p, "epochs");
	if ((run = dyno_train_net(st, &t, info, e)) < 0)
		goto out;
	cJSON_AddNumberToObject(info, "parameters", (double)nn_net_nparams(st->net));
	cJSON_AddNumberToObject(info, "epochs_run", (double)run);
	cJSON_Delete(m->info);
	m->info = info;
	info = NULL;
	m->state = st;
	st = NULL;
	ret = 0;
out:
	cJSON_Delete(info);
	dyno_free(st);
	free(X);
	free(Xv);
	return ret;
}

#define PREDICT_CHUNK 64

static int dyno_predict(const struct model *m, const struct batch *b, double *proba, struct err *e)
{
	struct dyno_state *st = m->state;
	size_t i, k = m->k;
	float *X = NULL;
	int ret = -1;

	pthread_mutex_lock(&st->lock);
	for (i = 0; i < b->n; i += PREDICT_CHUNK) {
		size_t nb = b->n - i < PREDICT_CHUNK ? b->n - i : PREDICT_CHUNK;
		const float *logits;
		free(X);
		if (!(X = dyno_inputs(b->cards + i, nb, &st->sh, 1, e)))
			goto out;
		for (size_t c0 = 0; c0 < nb;) {
			size_t bb =
			    nb - c0 < (size_t)st->max_batch ? nb - c0 : (size_t)st->max_batch;
			logits = nn_net_forward(st->net, X + c0 * st->sh.size, (int)bb, 0);
			for (size_t q = 0; q < bb; q++) {
				const float *l = logits + q * k;
				double mx = l[0], sum = 0, *out = proba + (i + c0 + q) * k;
				for (size_t c = 1; c < k; c++)
					mx = l[c] > mx ? l[c] : mx;
				for (size_t c = 0; c < k; c++)
					sum += out[c] = exp((double)l[c] - mx);
				for (size_t c = 0; c < k; c++)
					out[c] /= sum;
			}
			c0 += bb;
		}
	}
	ret = 0;
out:
	pthread_mutex_unlock(&st->lock);
	free(X);
	return ret;
}

static int dyno_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct dyno_state *st = m->state;
	(void)e;
	st_set_meta(f, "dynamogram.inputs", DYNO_INPUTS);
	model_net_save(f, "net", st->net);
	return 0;
}

static int dyno_load(struct model *m, struct st_file *f, struct err *e)
{
	struct dyno_state *st = NULL;
	const char *inputs = st_get_meta(f, "dynamogram.inputs");
	if (!inputs || strcmp(inputs, DYNO_INPUTS))
		return err_set(e, DYN_EDATA,
			       "saved by an older dyn whose network took other inputs (layout %s, "
			       "now %s): train the model again",
			       inputs ? inputs : "1", DYNO_INPUTS);
	if (dyno_build(&st, &m->params, m->k, 256, 1, e) < 0)
		return -1;
	if (model_net_load(f, "net", st->net, e) < 0) {
		dyno_free(st);
		return -1;
	}
	m->state = st;
	return 0;
}

const struct model_kind model_dynamogram = {
    .name = "dynamogram",
    .summary = "dynamometer-card diagnosis: a convolutional network on cards (points or pictures)",
    .input = INPUT_CARD,
    .output = OUTPUT_CLASSES,
    .train = TRAIN_HOLDOUT | TRAIN_CV | TRAIN_CLASSES | TRAIN_EPOCHS,
    .params = dyno_params,
    .fit = dyno_fit,
    .predict = dyno_predict,
    .save = dyno_save,
    .load = dyno_load,
    .free_state = dyno_free,
};
