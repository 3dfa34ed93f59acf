/* Stamped-marking reading: a CRNN line recognizer (ocr/crnn.h) trained on the lines dyn draws
 * itself (ocr/synth.h) and on labeled line crops; on a photo, the text finder's candidate
 * lines (ocr/find.h) are cut upright both ways round and read, and the surest reading is the
 * answer. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "io/image.h"
#include "models/model.h"
#include "base/sha256.h"
#include "base/trace.h"
#include "ocr/confirmed.h"
#include "ocr/crnn.h"
#include "ocr/find.h"
#include "ocr/match.h"
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
    {"lstm_layers", PARAM_INT, "2", 1, 2, 0, NULL, "bidirectional LSTM layers"},
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

/* A warm start goes on from warm's weights: the same alphabet (its classes, in its order) and
 * every tensor of the same shape (height, channels, hidden units, LSTM layers; max_width and the
 * training settings may differ). Copies them into st's network unless st is NULL. */
static int ocr_warm_weights(struct ocr_state *st, const struct params *p, const struct model *warm,
			    struct err *e)
{
	const struct ocr_state *ws = warm->state;
	const char *a = params_str(p, "alphabet"), *wa = params_str(&warm->params, "alphabet");
	struct ocr_state *mine = NULL;
	struct nn_net *dst, *src = ocr_crnn_net(ws->c);
	int ret = -1;
	a = a ? a : "", wa = wa ? wa : "";
	if (strcmp(a, wa)) {
		err_set(e, DYN_EUSAGE,
			"--warm-start: the model reads %s%s%s, not %s%s%s (a network goes on only "
			"with its own alphabet)",
			*wa ? "\"" : "", *wa ? wa : "the default alphabet", *wa ? "\"" : "",
			*a ? "\"" : "", *a ? a : "the default alphabet", *a ? "\"" : "");
		goto out;
	}
	if (!st && ocr_build(&mine, p, 1, e) < 0)
		goto out;
	dst = ocr_crnn_net(st ? st->c : mine->c);
	for (int i = 0; i < nn_net_ntensors(dst); i++) {
		const struct nn_tensor *t = nn_net_tensor(dst, i), *s = nn_net_find(src, t->name);
		if (!s || s->ndim != t->ndim || memcmp(s->shape, t->shape, sizeof(t->shape))) {
			err_set(e, DYN_EUSAGE,
				"--warm-start: the model's network has no tensor \"%s\" of this "
				"shape (another height, channels, hidden or lstm_layers: give the "
				"model's own or none)",
				t->name);
			goto out;
		}
	}
	for (int i = 0; st && i < nn_net_ntensors(dst); i++) {
		const struct nn_tensor *t = nn_net_tensor(dst, i), *s = nn_net_find(src, t->name);
		memcpy(t->data, s->data, t->size * sizeof(float));
	}
	ret = 0;
out:
	ocr_free_state(mine);
	return ret;
}

/* The labeled crops' texts must be read with the alphabet, and a warm start's network must
 * take the model's weights: refused before training. */
static int ocr_check(const struct params *p, const struct dataset *ds, const char *weights,
		     const struct model *warm, struct err *e)
{
	struct ocr_alphabet a;
	const char *alpha = params_str(p, "alphabet");
	char what[64];
	int ret = -1;
	(void)weights;
	ocr_alphabet_init(&a);
	if (warm && ocr_warm_weights(NULL, p, warm, e) < 0)
		goto out;
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
	if (warm && ocr_warm_weights(st, p, warm, e) < 0)
		goto out;
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
	to.warm = warm != NULL;
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

/* A photo's candidate lines, each cut both ways round (cut 2 i + flip) and read. Embedded
 * value: photo_reading_release frees it. */
struct photo_reading {
	struct ocr_cand *cands;
	size_t nc;
	struct strbuf *texts;
	struct ocr_crnn_conf *cf; /* each reading's confidences */
};

static void photo_reading_release(struct photo_reading *r)
{
	for (size_t i = 0; r->texts && i < 2 * r->nc; i++)
		strbuf_release(&r->texts[i]);
	free(r->texts);
	free(r->cf);
	free(r->cands);
	memset(r, 0, sizeof(*r));
}

static int read_lines(struct ocr_state *st, const struct params *p, const struct img *im,
		      struct photo_reading *r, struct err *e)
{
	struct ocr_find_opts fo;
	size_t i, k;
	struct img *cuts = NULL;
	const struct img **ptrs = NULL;
	int height = ocr_crnn_opts(st->c)->height, beam = (int)params_num(p, "beam"), ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&fo, 0, sizeof(fo));
	fo.work_side = (size_t)params_num(p, "work_side");
	fo.max_cands = (size_t)params_num(p, "candidates");
	fo.rings = true;
	if (ocr_find(im, &fo, &r->cands, &r->nc, e) < 0)
		goto out;
	trace_perf("ocr: find lines");
	k = 2 * r->nc;
	cuts = xcalloc(k ? k : 1, sizeof(*cuts));
	ptrs = xcalloc(k ? k : 1, sizeof(*ptrs));
	r->texts = xcalloc(k ? k : 1, sizeof(*r->texts));
	r->cf = xcalloc(k ? k : 1, sizeof(*r->cf));
	for (i = 0; i < k; i++) {
		img_init(&cuts[i]);
		strbuf_init(&r->texts[i]);
	}
	for (i = 0; i < k; i++) {
		if (ocr_find_cut(im, &r->cands[i / 2], height, i % 2, &cuts[i], e) < 0)
			goto out;
		ptrs[i] = &cuts[i];
	}
	trace_perf("ocr: cut lines");
	if (k && ocr_crnn_read_confs(st->c, ptrs, k, beam, r->texts, r->cf, e) < 0)
		goto out;
	trace_perf("ocr: read lines");
	ret = 0;
out:
	for (i = 0; cuts && i < 2 * r->nc; i++)
		img_release(&cuts[i]);
	free(cuts);
	free(ptrs);
	if (ret < 0)
		photo_reading_release(r);
	return ret;
}

/* Line i's box as predict prints it: centre, size and reading direction (flip: turned). */
static cJSON *box_json(const struct ocr_cand *c, bool flip)
{
	const struct ocr_box *b = &c->box;
	cJSON *box = cJSON_CreateArray();
	double ang = fmod(b->angle + (flip ? 180 : 0), 360);
	cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->cx * 10) / 10));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->cy * 10) / 10));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->w * 10) / 10));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(round(b->h * 10) / 10));
	cJSON_AddItemToArray(box, cJSON_CreateNumber(round(ang * 10) / 10));
	return box;
}

/* Whether a reading has a marking's shape: at least three characters other than spaces and
 * separators, a digit among them (articles and serials are numbered). */
static bool marking_like(const char *t)
{
	size_t digits;
	return ocr_content_chars(t, &digits) >= 3 && digits > 0;
}

/* Reads the candidates of one photo: each cut both ways round, the better fitting reading
 * kept; the answer is the surest line shaped like a marking, else the surest line, where every
 * line read with its box, and a->lines every line's text. */
static int ocr_read_photo(struct ocr_state *st, const struct params *p, const struct img *im,
			  struct text_answer *a, struct err *e)
{
	struct photo_reading r;
	cJSON *where;
	double best = -1;

	if (read_lines(st, p, im, &r, e) < 0)
		return -1;
	where = cJSON_CreateArray();
	strbuf_reset(&a->text);
	strv_release(&a->lines);
	a->confidence = 0;
	for (size_t i = 0; i < r.nc; i++) {
		/* the way round whose whole reading fits better: turned, a line reads as other
		 * characters (6 for 9) that can each be sure, so the least sure one does not tell
		 * the ways apart as well as the mean over the path does (bench/ocr_e2e.sh: 17 of
		 * 30 orders found this way, 15 by the confidence) */
		size_t j = r.cf[2 * i + 1].path > r.cf[2 * i].path ? 2 * i + 1 : 2 * i;
		float conf = OCR_CRNN_CONF(&r.cf[j]);
		cJSON *l = cJSON_CreateObject();
		/* the answer: the surest line that looks like a marking, else the surest line;
		 * specks and edges read as one or two letters with high confidence */
		double rank = conf + (marking_like(r.texts[j].buf) ? 1 : 0);
		cJSON_AddStringToObject(l, "text", r.texts[j].buf);
		cJSON_AddNumberToObject(l, "confidence", round(conf * 1000) / 1000);
		cJSON_AddItemToObject(l, "box", box_json(&r.cands[i], j % 2));
		if (r.cands[i].kind == OCR_CAND_RING)
			cJSON_AddTrueToObject(l, "ring");
		cJSON_AddItemToArray(where, l);
		strv_push(&a->lines, r.texts[j].buf, r.texts[j].len);
		if (r.texts[j].len && rank > best) {
			best = rank;
			strbuf_reset(&a->text);
			strbuf_add(&a->text, r.texts[j].buf, r.texts[j].len);
			a->confidence = conf;
		}
	}
	{
		char *s = cJSON_PrintUnformatted(where);
		strbuf_reset(&a->where);
		strbuf_adds(&a->where, s);
		free(s);
	}
	cJSON_Delete(where);
	photo_reading_release(&r);
	return 0;
}

/* The height a confirmed line is kept at: its ink's own height in the photo over the fill a
 * cut gives it, at least the network's (never a cut narrower than what it reads) and at most
 * CONFIRM_MAX_HEIGHT (a crop of a few kilobytes), so that a model of another height trains on
 * it without enlarging it. */
#define CONFIRM_MAX_HEIGHT 96

static int ocr_confirm(const struct model *m, const char *id, const char *store,
		       const struct img *photo, const char *source, const char *text,
		       struct strbuf *note, struct err *e)
{
	struct ocr_state *st = m->state;
	struct photo_reading r;
	struct img crop;
	struct ocr_confirmation c;
	char hash[65], *box = NULL;
	size_t best = 0, bestd = (size_t)-1;
	long long total = 0;
	int net_h = ocr_crnn_opts(st->c)->height, ret = -1, rr, added;
	double h;

	memset(&r, 0, sizeof(r));
	img_init(&crop);
	if (!text[strspn(text, " ")])
		return err_set(e, DYN_EUSAGE, "--confirm: an empty text");
	if (text[0] == ' ' || text[strlen(text) - 1] == ' ' || strstr(text, "  "))
		return err_set(
		    e, DYN_EUSAGE,
		    "--confirm: \"%s\": a space at either end or two in a row (the model "
		    "reads one space between words)",
		    text);
	if (ocr_alphabet_check(ocr_crnn_alphabet(st->c), text, "--confirm", e) < 0) {
		char msg[sizeof(e->msg)];
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return err_set(e, DYN_EUSAGE, "%s of model \"%s\"", msg, id);
	}
	if (ocr_count_chars(text) > OCR_SYNTH_MAX_CHARS)
		return err_set(e, DYN_EUSAGE, "--confirm: a line of more than %d characters",
			       OCR_SYNTH_MAX_CHARS);
	if (!photo)
		return 0;
	pthread_mutex_lock(&st->lock);
	rr = read_lines(st, &m->params, photo, &r, e);
	pthread_mutex_unlock(&st->lock);
	if (rr < 0)
		goto out;
	if (!r.nc) {
		err_set(e, DYN_EDATA,
			"--confirm: \"%s\": no text line found to keep (cut the line out and train "
			"on it as a labeled crop: dyn fit ocr CROPS.csv)",
			source);
		goto out;
	}
	/* the line, and its way round, whose reading is nearest the confirmed text (ties: the
	 * surer reading): the one the person read */
	for (size_t j = 0; j < 2 * r.nc; j++) {
		size_t d = ocr_edit_chars(r.texts[j].buf, text);
		if (d < bestd ||
		    (d == bestd && OCR_CRNN_CONF(&r.cf[j]) > OCR_CRNN_CONF(&r.cf[best])))
			best = j, bestd = d;
	}
	if (r.cands[best / 2].kind == OCR_CAND_RING)
		h = (r.cands[best / 2].ring.r_out - r.cands[best / 2].ring.r_in) / OCR_CUT_FILL;
	else
		h = r.cands[best / 2].box.h / OCR_CUT_FILL;
	h = h < net_h ? net_h : h > CONFIRM_MAX_HEIGHT ? CONFIRM_MAX_HEIGHT : h;
	if (ocr_find_cut(photo, &r.cands[best / 2], (int)lround(h), best % 2, &crop, e) < 0)
		goto out;
	{
		cJSON *b = box_json(&r.cands[best / 2], best % 2);
		box = cJSON_PrintUnformatted(b);
		cJSON_Delete(b);
	}
	memset(&c, 0, sizeof(c));
	c.crop = &crop;
	c.text = text;
	c.source = source;
	c.box = box;
	c.reading = r.texts[best].buf;
	c.model = id;
	if ((added = ocr_confirmed_add(store, &c, hash, &total, e)) < 0)
		goto out;
	strbuf_addf(note,
		    "%s line %zu of \"%s\" (read \"%s\") as confirmed sample %.12s, \"%s\" "
		    "(%lld in the store)",
		    added ? "kept" : "confirmed again", best / 2 + 1, source, r.texts[best].buf,
		    hash, text, total);
	ret = 0;
out:
	free(box);
	img_release(&crop);
	photo_reading_release(&r);
	return ret;
}

/* The samples confirmed in the store, as labeled crops. */
struct confirmed_walk {
	struct dataset *ds;
	size_t alloc, talloc;
	struct sha256 sha;
	struct strbuf bytes;
};

static int take_confirmed(void *arg, const struct ocr_confirmed *s, struct err *e)
{
	struct confirmed_walk *w = arg;
	struct dataset *ds = w->ds;
	struct stat sb;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct img *dst;
	if (fd < 0)
		return err_sys(e, "confirmed sample \"%s\"", s->path);
	/* a crop is a few kilobytes: anything large is not one of ours */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)64 << 20) {
		close(fd);
		return err_set(e, DYN_EDATA, "confirmed sample \"%s\": not a crop dyn kept",
			       s->path);
	}
	strbuf_reset(&w->bytes);
	if (strbuf_read_fd(&w->bytes, fd) < 0) {
		close(fd);
		return err_sys(e, "confirmed sample \"%s\"", s->path);
	}
	close(fd);
	ALLOC_GROW(ds->images, ds->n + 1, w->alloc);
	ALLOC_GROW(ds->text, ds->n + 1, w->talloc);
	dst = &ds->images[ds->n];
	img_init(dst);
	ds->text[ds->n] = xstrdup(s->text);
	ds->n++;
	if (img_decode_upright(dst, w->bytes.buf, w->bytes.len, 1, s->path, e) < 0)
		return err_prefix(e, "confirmed sample");
	sha256_update(&w->sha, s->hash, strlen(s->hash));
	sha256_update(&w->sha, s->text, strlen(s->text) + 1);
	return 0;
}

static int ocr_confirmed(struct dataset *ds, const char *store, char sha256[65], const char **where,
			 struct err *e)
{
	struct confirmed_walk w;
	size_t before = ds->n;
	int r;
	memset(&w, 0, sizeof(w));
	w.ds = ds;
	w.alloc = w.talloc = ds->n;
	strbuf_init(&w.bytes);
	sha256_init(&w.sha);
	*where = OCR_CONFIRMED_DB;
	r = ocr_confirmed_each(store, take_confirmed, &w, e);
	sha256_final_hex(&w.sha, sha256);
	strbuf_release(&w.bytes);
	if (r == 0 && ds->n == before)
		return err_set(e, DYN_EDATA,
			       "--confirmed: no confirmed samples in the store (see dyn predict "
			       "--confirm)");
	return r ? -1 : 0;
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
	size_t fchars = 0, fedits = 0, fexact = 0;
	struct strbuf fa = STRBUF_INIT, fb = STRBUF_INIT;
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
		/* Latin and Cyrillic capitals drawn alike (A/А, M/М...) are one glyph in the
		 * fonts: the generated text's script of a look-alike can only be guessed from the
		 * rest of the line, and the matcher compares them folded (ocr_normalize) */
		strbuf_reset(&fa);
		strbuf_reset(&fb);
		ocr_normalize(truth[i], &fa);
		ocr_normalize(texts[i].buf, &fb);
		d = ocr_edit_chars(fb.buf, fa.buf);
		fchars += ocr_count_chars(fa.buf);
		fedits += d;
		fexact += d == 0;
	}
	rep = cJSON_CreateObject();
	cJSON_AddNumberToObject(rep, "cer", chars ? (double)edits / (double)chars : NAN);
	cJSON_AddNumberToObject(rep, "line_accuracy", (double)exact / (double)n);
	cJSON_AddNumberToObject(rep, "cer_folded", fchars ? (double)fedits / (double)fchars : NAN);
	cJSON_AddNumberToObject(rep, "line_accuracy_folded", (double)fexact / (double)n);
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
	strbuf_release(&fa);
	strbuf_release(&fb);
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
    .confirm = ocr_confirm,
    .confirmed = ocr_confirmed,
    .frame_size = ocr_frame_size,
    .save = ocr_save,
    .load = ocr_load,
    .free_state = ocr_free_state,
};
