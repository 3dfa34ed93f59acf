/* Stamped-marking reading: a CRNN line recognizer (ocr/crnn.h) trained on the lines dyn draws
 * itself (ocr/synth.h) and on labeled line crops; on a photo, the text finder's candidate
 * lines (ocr/find.h) are cut upright both ways round and read, and the surest reading is the
 * answer. */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "io/image.h"
#include "models/model.h"
#include "ocr/crnn.h"
#include "ocr/find.h"
#include "ocr/synth.h"
#include "store/safetensors.h"

/* Lines of held-out synthetic text the report is measured on: a run of its own, which no
 * training draws from (training runs are the fit's seed and the seed ^ OCR_VAL_RUN). */
#define OCR_REPORT_RUN	 0x6f63722d72657054ULL
#define OCR_VAL_RUN	 0x6f63722d76616cULL
#define OCR_REPORT_LINES 300

static const struct param_spec ocr_params[] = {
    {"alphabet", PARAM_STRING, "", 0, 4096, 0, NULL,
     "the characters it reads, UTF-8 (empty: digits, - . / space, Latin and Cyrillic "
     "capitals)"},
    {"height", PARAM_INT, "32", 16, 128, 0, NULL,
     "line images' height in pixels (a multiple of 4)"},
    {"max_width", PARAM_INT, "0", 0, 4096, 0, NULL,
     "widest line image in pixels (0: 12 times the height)"},
    {"channels", PARAM_INT, "32", 4, 256, 0, NULL,
     "channels of the first convolution (the next two have 2 and 3 times as many)"},
    {"hidden", PARAM_INT, "128", 8, 1024, 0, NULL, "LSTM units a direction"},
    {"lstm_layers", PARAM_INT, "1", 1, 2, 0, NULL, "bidirectional LSTM layers"},
    {"epochs", PARAM_INT, "10", 1, 100000, 0, NULL, "epochs"},
    {"lines", PARAM_INT, "4000", 0, 10000000, 0, NULL,
     "synthetic lines an epoch (new ones each epoch), besides the labeled crops"},
    {"batch_size", PARAM_INT, "32", 1, 256, 0, NULL, "lines per step"},
    {"lr", PARAM_NUM, "0.001", 0, 10, PARAM_MIN_OPEN, NULL,
     "peak learning rate (AdamW, cosine schedule)"},
    {"minutes", PARAM_NUM, "0", 0, 1e6, 0, NULL,
     "training time budget (0: none): training stops after it, the cosine schedule following "
     "its share spent instead of the epochs"},
    {"effects", PARAM_NUM, "1", 0, 1, 0, NULL,
     "strength of the stamping effects on synthetic lines (0: clean print)"},
    {"val_lines", PARAM_INT, "200", 0, 100000, 0, NULL,
     "held-out synthetic lines read after each epoch (val_loss, val_cer)"},
    {"beam", PARAM_INT, "1", 1, 64, 0, NULL, "reading: beam width (1: best path)"},
    {"candidates", PARAM_INT, "4", 1, 64, 0, NULL, "reading: candidate lines read a photo"},
    {"work_side", PARAM_INT, "1024", 256, 4096, 0, NULL,
     "reading: the long side of the copy lines are looked for on"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

struct ocr_state {
	struct ocr_crnn *c;
	pthread_mutex_t lock; /* the network's activations are one set */
};

static void ocr_free_state(void *p)
{
	struct ocr_state *st = p;
	if (!st)
		return;
	ocr_crnn_free(&st->c);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static void ocr_opts_of(const struct params *p, int threads, struct ocr_crnn_opts *o)
{
	const char *alpha = params_str(p, "alphabet");
	int c0 = (int)params_num(p, "channels");
	memset(o, 0, sizeof(*o));
	o->height = (int)params_num(p, "height");
	o->max_width = (int)params_num(p, "max_width");
	o->channels[0] = c0;
	o->channels[1] = 2 * c0;
	o->channels[2] = 3 * c0;
	o->hidden = (int)params_num(p, "hidden");
	o->lstm_layers = (int)params_num(p, "lstm_layers");
	o->alphabet = alpha && *alpha ? alpha : NULL;
	o->max_batch = (int)params_num(p, "batch_size");
	if (o->max_batch < 32)
		o->max_batch = 32; /* a photo's candidates are read in batches of at least this */
	o->threads = threads;
}

static int ocr_build(struct ocr_state **out, const struct params *p, int threads, struct err *e)
{
	struct ocr_state *st = xcalloc(1, sizeof(*st));
	struct ocr_crnn_opts o;
	ocr_opts_of(p, threads, &o);
	pthread_mutex_init(&st->lock, NULL);
	if (ocr_crnn_new(&st->c, &o, e) < 0) {
		ocr_free_state(st);
		return -1;
	}
	*out = st;
	return 0;
}

static int ocr_synth_of(struct ocr_synth **s, const struct ocr_state *st, double effects,
			struct err *e)
{
	const struct ocr_crnn_opts *co = ocr_crnn_opts(st->c);
	struct ocr_synth_opts so;
	struct strbuf alpha = STRBUF_INIT;
	const struct ocr_alphabet *a = ocr_crnn_alphabet(st->c);
	int ret;
	memset(&so, 0, sizeof(so));
	so.height = co->height;
	so.max_width = co->max_width;
	/* the recognizer's alphabet, as text: every index decoded once */
	{
		int *idx = xmallocarray(a->n ? a->n : 1, sizeof(int));
		for (size_t i = 0; i < a->n; i++)
			idx[i] = (int)i;
		ocr_alphabet_decode(a, idx, a->n, &alpha);
		free(idx);
	}
	so.alphabet = alpha.buf;
	so.effects = effects;
	ret = ocr_synth_new(s, &so, e);
	strbuf_release(&alpha);
	return ret;
}

struct ocr_report_arg {
	const struct fit_ctx *ctx;
	int epochs;
	struct err *e;
	int failed;
};

static int ocr_on_epoch(void *arg, const struct ocr_crnn_epoch *ep)
{
	struct ocr_report_arg *a = arg;
	struct epoch_stats es;
	memset(&es, 0, sizeof(es));
	es.epoch = ep->epoch + 1;
	es.epochs = a->epochs;
	es.loss = ep->loss;
	es.val_loss = ep->val_loss;
	es.lr = ep->lr;
	es.metric = "cer";
	es.train_metric = NAN;
	es.val_metric = ep->val_cer;
	es.seconds = ep->seconds;
	progress_update(a->ctx->progress, (double)ep->epoch + 1, (double)a->epochs);
	if (a->ctx->on_epoch && a->ctx->on_epoch(a->ctx->on_epoch_arg, &es, a->e) < 0) {
		a->failed = 1;
		return 1;
	}
	return 0;
}

/* The labeled crops' texts must be read with the alphabet: refused before training. */
static int ocr_check(const struct params *p, const struct dataset *ds, const char *weights,
		     bool warm, struct err *e)
{
	struct ocr_alphabet a;
	const char *alpha = params_str(p, "alphabet");
	char what[64];
	int ret = -1;
	(void)weights;
	(void)warm;
	ocr_alphabet_init(&a);
	if (ocr_alphabet_parse(&a, alpha && *alpha ? alpha : NULL, e) < 0)
		goto out;
	for (size_t i = 0; i < ds->n; i++) {
		snprintf(what, sizeof(what), "labeled line %zu", i + 1);
		if (!ds->text[i][0]) {
			err_set(e, DYN_EDATA, "%s: an empty text", what);
			goto out;
		}
		if (ocr_alphabet_check(&a, ds->text[i], what, e) < 0)
			goto out;
	}
	ret = 0;
out:
	ocr_alphabet_release(&a);
	return ret;
}

static int ocr_fit(struct model *m, const struct dataset *ds, const struct model *warm,
		   const struct fit_ctx *ctx, struct err *e)
{
	const struct params *p = &m->params;
	struct ocr_state *st = NULL;
	struct ocr_synth *syn = NULL;
	struct ocr_crnn_sample *samples = NULL;
	struct ocr_crnn_train_opts to;
	struct ocr_report_arg ra;
	int ret = -1;
	cJSON *info = cJSON_CreateObject();

	if (ocr_build(&st, p, par_cpus(ctx->threads), e) < 0)
		goto out;
	if (warm) {
		err_set(e, DYN_EUSAGE,
			"--warm-start: ocr models train from their own initialization (start a new "
			"model with the confirmed crops as data)");
		goto out;
	}
	if (params_num(p, "lines") > 0 && ocr_synth_of(&syn, st, params_num(p, "effects"), e) < 0)
		goto out;
	if (ds->n) {
		samples = xcalloc(ds->n, sizeof(*samples));
		for (size_t i = 0; i < ds->n; i++) {
			samples[i].im = &ds->images[i];
			samples[i].text = ds->text[i];
		}
	}
	memset(&to, 0, sizeof(to));
	to.seed = ctx->seed;
	to.synth = syn;
	to.synth_lines = syn ? (long)params_num(p, "lines") : 0;
	to.samples = samples;
	to.nsamples = ds->n;
	to.val_lines = syn ? (long)params_num(p, "val_lines") : 0;
	to.val_seed = ctx->seed ^ OCR_VAL_RUN;
	to.epochs = (int)params_num(p, "epochs");
	to.batch = (int)params_num(p, "batch_size");
	to.lr = (float)params_num(p, "lr");
	to.max_seconds = 60 * params_num(p, "minutes");
	to.keep_best = to.val_lines > 0;
	ra.ctx = ctx;
	ra.epochs = to.epochs;
	ra.e = e;
	ra.failed = 0;
	to.report = ocr_on_epoch;
	to.arg = &ra;
	if (ocr_crnn_train(st->c, &to, e) < 0 || ra.failed)
		goto out;
	cJSON_AddNumberToObject(info, "parameters", (double)nn_net_nparams(ocr_crnn_net(st->c)));
	cJSON_AddNumberToObject(info, "steps", (double)ocr_crnn_steps(st->c));
	cJSON_AddNumberToObject(info, "classes", (double)ocr_crnn_classes(st->c));
	cJSON_Delete(m->info);
	m->info = info;
	info = NULL;
	m->state = st;
	st = NULL;
	ret = 0;
out:
	cJSON_Delete(info);
	ocr_free_state(st);
	ocr_synth_free(&syn);
	free(samples);
	return ret;
}

/* Reads the candidates of one photo: each cut both ways round, the surer reading kept; the
 * answer is the surest line, where every line read with its box. */
static int ocr_read_photo(struct ocr_state *st, const struct params *p, const struct img *im,
			  struct text_answer *a, struct err *e)
{
	struct ocr_find_opts fo;
	struct ocr_cand *cands = NULL;
	size_t nc = 0, i, k;
	struct img *cuts = NULL;
	const struct img **ptrs = NULL;
	struct strbuf *texts = NULL;
	float *conf = NULL;
	int height = ocr_crnn_opts(st->c)->height, beam = (int)params_num(p, "beam"), ret = -1;
	cJSON *where = cJSON_CreateArray();
	double best = -1;

	memset(&fo, 0, sizeof(fo));
	fo.work_side = (size_t)params_num(p, "work_side");
	fo.max_cands = (size_t)params_num(p, "candidates");
	fo.rings = true;
	if (ocr_find(im, &fo, &cands, &nc, e) < 0)
		goto out;
	k = 2 * nc;
	cuts = xcalloc(k ? k : 1, sizeof(*cuts));
	ptrs = xcalloc(k ? k : 1, sizeof(*ptrs));
	texts = xcalloc(k ? k : 1, sizeof(*texts));
	conf = xcalloc(k ? k : 1, sizeof(*conf));
	for (i = 0; i < k; i++) {
		img_init(&cuts[i]);
		strbuf_init(&texts[i]);
		if (ocr_find_cut(im, &cands[i / 2], height, i % 2, &cuts[i], e) < 0)
			goto out;
		ptrs[i] = &cuts[i];
	}
	if (k && ocr_crnn_read_batch(st->c, ptrs, k, beam, texts, conf, e) < 0)
		goto out;
	strbuf_reset(&a->text);
	a->confidence = 0;
	for (i = 0; i < nc; i++) {
		size_t j = conf[2 * i + 1] > conf[2 * i] ? 2 * i + 1 : 2 * i;
		const struct ocr_box *b = &cands[i].box;
		cJSON *l = cJSON_CreateObject(), *box = cJSON_CreateArray();
		double ang = fmod(b->angle + (j % 2 ? 180 : 0), 360);
		cJSON_AddStringToObject(l, "text", texts[j].buf);
		cJSON_AddNumberToObject(l, "confidence", round(conf[j] * 1000) / 1000);
		cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->cx * 10) / 10));
		cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->cy * 10) / 10));
		cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->w * 10) / 10));
		cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->h * 10) / 10));
		cJSON_AddItemToArray(box, cJSON_CreateNumber(round(ang * 10) / 10));
		cJSON_AddItemToObject(l, "box", box);
		if (cands[i].kind == OCR_CAND_RING)
			cJSON_AddTrueToObject(l, "ring");
		cJSON_AddItemToArray(where, l);
		if (texts[j].len && conf[j] > best) {
			best = conf[j];
			strbuf_reset(&a->text);
			strbuf_add(&a->text, texts[j].buf, texts[j].len);
			a->confidence = conf[j];
		}
	}
	{
		char *s = cJSON_PrintUnformatted(where);
		strbuf_reset(&a->where);
		strbuf_adds(&a->where, s);
		free(s);
	}
	ret = 0;
out:
	for (i = 0; cuts && i < k; i++) {
		img_release(&cuts[i]);
		strbuf_release(&texts[i]);
	}
	free(cuts);
	free(ptrs);
	free(texts);
	free(conf);
	free(cands);
	cJSON_Delete(where);
	return ret;
}

static int ocr_read(const struct model *m, const struct batch *b, struct text_answer *out,
		    struct err *e)
{
	struct ocr_state *st = m->state;
	int ret = 0;
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < b->n && !ret; i++)
		if (ocr_read_photo(st, &m->params, &b->frames[i], &out[i], e) < 0)
			ret = -1;
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static int ocr_evaluate(const struct model *m, const struct dataset *v, cJSON **report,
			struct err *e)
{
	struct ocr_state *st = m->state;
	struct ocr_synth *syn = NULL;
	size_t n = OCR_REPORT_LINES, i, chars = 0, edits = 0, exact = 0;
	struct img *ims = xcalloc(n, sizeof(*ims));
	const struct img **ptrs = xcalloc(n, sizeof(*ptrs));
	char **truth = xcalloc(n, sizeof(char *));
	struct strbuf *texts = xcalloc(n, sizeof(*texts));
	cJSON *rep = NULL, *ev;
	int ret = -1, r;
	(void)v;
	for (i = 0; i < n; i++) {
		img_init(&ims[i]);
		strbuf_init(&texts[i]);
	}
	if (ocr_synth_of(&syn, st, params_num(&m->params, "effects"), e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (ocr_synth_line(syn, ocr_synth_seed(OCR_REPORT_RUN, i), &ims[i], &truth[i], e) <
		    0)
			goto out;
		ptrs[i] = &ims[i];
	}
	pthread_mutex_lock(&st->lock);
	r = ocr_crnn_read_batch(st->c, ptrs, n, (int)params_num(&m->params, "beam"), texts, NULL,
				e);
	pthread_mutex_unlock(&st->lock);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		size_t d = ocr_edit_chars(texts[i].buf, truth[i]);
		chars += ocr_count_chars(truth[i]);
		edits += d;
		exact += d == 0;
	}
	rep = cJSON_CreateObject();
	cJSON_AddNumberToObject(rep, "cer", chars ? (double)edits / (double)chars : NAN);
	cJSON_AddNumberToObject(rep, "line_accuracy", (double)exact / (double)n);
	cJSON_AddNumberToObject(rep, "lines", (double)n);
	ev = cJSON_AddObjectToObject(rep, "evaluation");
	cJSON_AddStringToObject(ev, "method", "synthetic");
	cJSON_AddNumberToObject(ev, "lines", (double)n);
	*report = rep;
	ret = 0;
out:
	for (i = 0; i < n; i++) {
		img_release(&ims[i]);
		strbuf_release(&texts[i]);
		free(truth[i]);
	}
	free(ims);
	free(ptrs);
	free(truth);
	free(texts);
	ocr_synth_free(&syn);
	return ret;
}

static void ocr_frame_size(const struct model *m, size_t src_w, size_t src_h, size_t *w, size_t *h,
			   int *channels)
{
	(void)m;
	(void)src_w;
	(void)src_h;
	*w = *h = 0; /* photos at their own size: the finder scales its own copy */
	*channels = 1;
}

static int ocr_save(const struct model *m, struct st_file *f, struct err *e)
{
	const struct ocr_state *st = m->state;
	(void)e;
	model_net_save(f, "crnn", ocr_crnn_net(st->c));
	return 0;
}

static int ocr_load(struct model *m, struct st_file *f, struct err *e)
{
	struct ocr_state *st = NULL;
	if (ocr_build(&st, &m->params, par_cpus(0), e) < 0)
		return -1;
	if (model_net_load(f, "crnn", ocr_crnn_net(st->c), e) < 0) {
		ocr_free_state(st);
		return -1;
	}
	m->state = st;
	return 0;
}

const struct model_kind model_ocr = {
    .name = "ocr",
    .summary = "stamped-marking reading: a CRNN trained on generated lines, run on photos",
    .input = INPUT_PHOTO,
    .output = OUTPUT_TEXT,
    .unit = "labeled lines",
    .train = TRAIN_EPOCHS,
    .params = ocr_params,
    .check = ocr_check,
    .fit = ocr_fit,
    .read = ocr_read,
    .evaluate = ocr_evaluate,
    .frame_size = ocr_frame_size,
    .save = ocr_save,
    .load = ocr_load,
    .free_state = ocr_free_state,
};
