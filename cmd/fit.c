/* dyn fit KIND: train a model, evaluate it, register it in the store, print its id. */
#include <math.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "base/trace.h"
#include "io/doc.h"
#include "io/records.h"
#include "mark/markdb.h"
#include "base/strv.h"
#include "models/curve.h"
#include "models/data.h"
#include "models/stored.h"
#include "models/train.h"
#include "store/safetensors.h"
#include "store/store.h"

/* Hyperparameter options in the order given; --params is applied before them. */
struct param_arg {
	const char *name;
	const char *value;
};

struct fit_args {
	const char *id, *label, *features, *params, *grid, *warm, *note, *input_format;
	const char *delimiter, *text_column, *pretrained, *weights, *resume;
	const char *card_col, *position_col, *load_col;
	const char *plot;
	int replace, no_refit, marked, confirmed;
	double test_fraction;
	long cv;
	struct param_arg *pa;
	size_t npa, pa_alloc;
};

static int collect_param(const struct opt *o, const char *arg, struct err *e)
{
	struct fit_args *a = o->cb_data;
	ALLOC_GROW(a->pa, a->npa + 1, a->pa_alloc);
	a->pa[a->npa].name = o->long_name;
	a->pa[a->npa].value = arg;
	a->npa++;
	return 0;
}

/* The data paths an index entry gives a model trained with --marked. */
static const char *const marked_paths[] = {MARKDB_FILE};

static const char fit_usage[] = "dyn fit KIND [OPTIONS] [DATA...]";

static void kinds_help(FILE *fp)
{
	size_t i;
	fprintf(fp, "usage: %s\n\nKinds:\n", fit_usage);
	for (i = 0; model_kinds[i]; i++)
		fprintf(fp, "    %-12s%s\n", model_kinds[i]->name, model_kinds[i]->summary);
	fprintf(fp, "\n'dyn fit KIND -h' lists the options of a kind.\n");
}

/* The common options, then one option per hyperparameter of the kind. The returned table and
 * its strings are owned by the caller (free_options). */
static struct opt *build_options(const struct model_kind *kind, struct fit_args *a,
				 struct strbuf *names)
{
	const struct opt common[] = {
	    OPT_GROUP_("Model and store:"),
	    OPT_STRING_(0, "id", &a->id, "NAME", "model id (default: generated, e.g. svc-3f9a1c)"),
	    OPT_BOOL_(0, "replace", &a->replace, "replace an existing model of that id"),
	    OPT_STRING_(0, "note", &a->note, "TEXT", "a note kept with the model"),
	    OPT_STRING_(0, "warm-start", &a->warm, "MODEL", "continue from a stored model"),
	    OPT_STRING_(0, "pretrained", &a->pretrained, "MODEL",
			"networks: start from a stored model's weights (its classes may differ)"),
	    OPT_STRING_(0, "resume", &a->resume, "ID",
			"networks: go on with the training of ID, killed or failed midway, from "
			"its last epoch"),
	    OPT_STRING_(0, "weights", &a->weights, "FILE",
			"keypoints: the pretrained encoder's weights (torchvision's state dict "
			"as safetensors)"),
	    OPT_GROUP_("Data:"),
	    OPT_STRING_(0, "label", &a->label, "COL", "label column (default: label, else y)"),
	    OPT_STRING_(0, "features", &a->features, "COLS",
			"comma-separated feature columns (default: all others)"),
	    OPT_STRING_(0, "text-column", &a->text_column, "COL",
			"text column of text models (default: text)"),
	    OPT_STRING_(0, "card-column", &a->card_col, "COL",
			"cards: the card id column of a many-card CSV (default: card)"),
	    OPT_STRING_(0, "position-column", &a->position_col, "COL",
			"cards: the position column (default: position, else x)"),
	    OPT_STRING_(0, "load-column", &a->load_col, "COL",
			"cards: the load column (default: load, else y)"),
	    OPT_BOOL_(0, "marked", &a->marked,
		      "cards: train on the store's marked cards (see dyn mark); with --warm-start, "
		      "on those marked since that model"),
	    OPT_BOOL_(0, "confirmed", &a->confirmed,
		      "ocr: also train on the samples confirmed in the store (see dyn predict "
		      "--confirm)"),
	    OPT_STRING_(0, "input-format", &a->input_format, "FMT", "csv, json or ndjson"),
	    OPT_STRING_(0, "delimiter", &a->delimiter, "C", "CSV field delimiter"),
	    OPT_GROUP_("Evaluation:"),
	    OPT_DOUBLE_(0, "test-fraction", &a->test_fraction, "F",
			"held-out share for the report (default 0.2)", 0, 1),
	    OPT_LONG_(0, "cv", &a->cv, "K", "K-fold cross-validated report instead", 2, 1000),
	    OPT_STRING_(0, "grid", &a->grid, "SPEC",
			"cross-validated search, e.g. 'C=0.1,1,10 gamma=scale,0.01'"),
	    OPT_BOOL_(0, "no-refit", &a->no_refit, "keep the model fit on the training split"),
	    OPT_STRING_(0, "plot", &a->plot, "FILE",
			"networks: draw the learning curve into FILE (.png or .svg) as epochs end"),
	    OPT_GROUP_("Hyperparameters:"),
	    OPT_STRING_(0, "params", &a->params, "JSON|FILE", "hyperparameters as a JSON object"),
	};
	size_t nc = ARRAY_SIZE(common), np = 0, i;
	const struct param_spec *s;
	struct opt *t;
	size_t *offs;

	for (s = kind->params; s && s->name; s++)
		np++;
	t = xcalloc(nc + np + 1, sizeof(*t));
	memcpy(t, common, sizeof(common));
	offs = xcalloc(np + 1, sizeof(*offs));
	/* Option names and help texts live in one strbuf; pointers are fixed up once it is built.
	 */
	for (i = 0, s = kind->params; i < np; i++, s++) {
		size_t j;
		offs[i] = names->len;
		for (j = 0; s->name[j]; j++)
			strbuf_addch(names, s->name[j] == '_' ? '-' : s->name[j]);
		strbuf_addch(names, '\0');
		strbuf_addf(names, "%s (default %s)", s->help, s->def);
		strbuf_addch(names, '\0');
	}
	for (i = 0, s = kind->params; i < np; i++, s++) {
		struct opt *o = &t[nc + i];
		o->type = OPT_CALLBACK;
		o->long_name = names->buf + offs[i];
		o->help = o->long_name + strlen(o->long_name) + 1;
		o->argh = s->type == PARAM_CHOICE	 ? s->choices
			  : s->type == PARAM_BOOL	 ? "BOOL"
			  : (s->flags & PARAM_OR_CHOICE) ? "X"
			  : s->type == PARAM_INT	 ? "N"
							 : "X";
		o->cb = collect_param;
		o->cb_data = a;
		/* listed for the tests of every option's limits; params_set checks them */
		if (s->type == PARAM_INT || s->type == PARAM_NUM) {
			o->min = s->min;
			o->max = s->max;
		}
		o->flags = (s->flags & PARAM_HIDDEN) ? OPT_HIDDEN : 0;
	}
	free(offs);
	return t;
}

/* The hyperparameter options, in the order given. */
static int set_params(struct params *p, const struct model_kind *kind, const struct fit_args *a,
		      struct err *e)
{
	for (size_t i = 0; i < a->npa; i++)
		if (params_set(p, kind->name, a->pa[i].name, a->pa[i].value, e) < 0)
			return -1;
	return 0;
}

/* Each epoch of a network's training: into the store, and on stderr with -v. */
static int fit_on_epoch(void *arg, const struct epoch_stats *st, struct err *e)
{
	struct train_log *log = arg;
	if (global.verbose) {
		fprintf(stderr, "dyn: %s: epoch %ld/%ld: loss %.4f", train_log_id(log), st->epoch,
			st->epochs, st->loss);
		if (!isnan(st->val_loss))
			fprintf(stderr, ", val_loss %.4f", st->val_loss);
		if (st->metric && !isnan(st->val_metric))
			fprintf(stderr, ", val_%s %.4f", st->metric, st->val_metric);
		else if (st->metric && !isnan(st->train_metric))
			fprintf(stderr, ", %s %.4f", st->metric, st->train_metric);
		fprintf(stderr, ", lr %.3g, %.1f s\n", st->lr, st->seconds);
	}
	return train_log_epoch(log, st, e);
}

/* What a checkpoint keeps besides the kind's state: how to start the same training again. */
struct fit_checkpoint {
	struct store *store;
	struct train_log *log;
	char *resume; /* "dyn.resume": params, data paths, test fraction, seed, note */
};

static int fit_on_checkpoint(void *arg, struct st_file *f, struct err *e)
{
	struct fit_checkpoint *c = arg;
	struct st_image img;
	char *epochs = cJSON_PrintUnformatted(train_log_epochs(c->log));
	int r;
	st_set_meta(f, "dyn.resume", c->resume);
	st_set_meta(f, "dyn.epochs", epochs);
	free(epochs);
	st_image_init(&img, f);
	r = store_write_checkpoint(c->store, train_log_id(c->log), img.iov, img.niov, e);
	st_image_release(&img);
	return r;
}

static char *resume_doc(const struct params *p, char *const *paths, size_t n, double test_fraction,
			const char *note)
{
	cJSON *d = cJSON_CreateObject(), *arr;
	char *s;
	cJSON_AddItemToObject(d, "params", params_to_json(p));
	arr = cJSON_AddArrayToObject(d, "paths");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(paths[i]));
	cJSON_AddNumberToObject(d, "test_fraction", test_fraction);
	cJSON_AddNumberToObject(d, "seed", (double)global.seed);
	if (note)
		cJSON_AddStringToObject(d, "note", note);
	s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return s;
}

static int read_params_arg(const char *arg, struct strbuf *out, struct err *e)
{
	FILE *fp;
	if (arg[0] == '{' || arg[0] == ' ') {
		strbuf_adds(out, arg);
		return 0;
	}
	fp = fopen(arg, "r");
	if (!fp)
		return err_sys(e, "--params: \"%s\"", arg);
	if (strbuf_read_fd(out, fileno(fp)) < 0) {
		fclose(fp);
		return err_sys(e, "--params: \"%s\"", arg);
	}
	fclose(fp);
	return 0;
}

int cmd_fit(int argc, char **argv)
{
	struct fit_args a;
	const struct model_kind *kind;
	struct strbuf names = STRBUF_INIT, ptext = STRBUF_INIT;
	struct opt *opts = NULL;
	struct params p;
	struct param_grid grid;
	struct dataset ds;
	struct load_opts lo;
	struct train_opts to;
	struct store *store = NULL;
	struct model *m = NULL, *warm = NULL, *pre = NULL;
	struct cJSON *report = NULL, *entry = NULL;
	struct train_log *log = NULL;
	struct fit_checkpoint ck;
	struct st_file ckpt;
	cJSON *rdoc = NULL;
	struct strv rpaths, dpaths;
	const char *id;
	struct err e = ERR_INIT;
	char started[21], finished[21], sha[65], *new_id = NULL;
	struct st_file file;
	struct st_image img;
	size_t i;
	int rc = 0, r, n, have_params = 0, have_grid = 0;
	char usage[128], result[192];
	double acc, auc;
	const char *how;

	memset(&a, 0, sizeof(a));
	memset(&ck, 0, sizeof(ck));
	st_init(&file);
	st_init(&ckpt);
	strv_init(&rpaths);
	strv_init(&dpaths);
	a.test_fraction = NAN; /* 0.2 unless --params or the option says */
	a.cv = 0;
	dataset_init(&ds);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		kinds_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? DYN_EUSAGE : finish_stdout(0);
	}
	if (!strcmp(argv[1], "--list-options")) {
		for (i = 0; model_kinds[i]; i++)
			printf("%s\n", model_kinds[i]->name);
		return finish_stdout(0);
	}
	kind = model_kind_find(argv[1]);
	if (!kind)
		return usage_error("unknown model kind \"%s\" (see 'dyn fit -h')", argv[1]);
	params_init(&p, kind->params);
	have_params = 1;
	opts = build_options(kind, &a, &names);
	snprintf(usage, sizeof(usage), "dyn fit %s [OPTIONS] [DATA...]", kind->name);
	argv++;
	argc--;
	n = parse_cmd_options(argc, argv, opts, usage, &rc);
	if (n < 0)
		goto out;

	/* Everything about the command line is checked before any data is read. */
	if (a.params) {
		double tf = NAN;
		if (read_params_arg(a.params, &ptext, &e) < 0 ||
		    params_set_json_common(&p, kind->name, ptext.buf, &tf, &e) < 0) {
			e.code = DYN_EUSAGE;
			rc = report_err(&e);
			goto out;
		}
		if (isnan(a.test_fraction))
			a.test_fraction = tf;
	}
	/* a kind without a held-out report (it measures itself) is measured so by default */
	if (isnan(a.test_fraction))
		a.test_fraction = (kind->train & TRAIN_HOLDOUT) ? 0.2 : 0;
	if (set_params(&p, kind, &a, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.id && !store_valid_id(a.id)) {
		rc = usage_error(
		    "invalid model id \"%s\": ids match [A-Za-z0-9][A-Za-z0-9._-]{0,63}", a.id);
		goto out;
	}
	if (!(a.test_fraction >= 0 && a.test_fraction < 1)) {
		rc = usage_error(
		    "option --test-fraction: expected a number from 0 to below 1, got %g",
		    a.test_fraction);
		goto out;
	}
	if (a.cv == 1 || a.cv < 0 || a.cv > 1000) {
		rc = usage_error("option --cv: expected an integer from 2 to 1000, got %ld", a.cv);
		goto out;
	}
	grid_init(&grid);
	have_grid = 1;
	if (a.grid && grid_parse(&grid, &p, kind->name, a.grid, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.label = a.label;
	lo.features = a.features;
	lo.text_column = a.text_column;
	lo.one_class_ok = a.warm && (kind->train & TRAIN_EPOCHS);
	lo.cards.card_col = a.card_col;
	lo.cards.x_col = a.position_col;
	lo.cards.y_col = a.load_col;
	/* A kind with an invalid_utf8 parameter has invalid UTF-8 repaired while loading when it
	 * asks for it; otherwise the loader's error names the line. */
	if (params_find(kind->params, "invalid_utf8"))
		lo.utf8_replace = params_choice(&p, "invalid_utf8") == 1;
	if (a.input_format) {
		static const char *const fmts[] = {"csv", "json", "ndjson"};
		for (i = 0; i < ARRAY_SIZE(fmts); i++)
			if (!strcmp(a.input_format, fmts[i]))
				lo.rec.format = (enum rec_format)(REC_CSV + i);
		if (lo.rec.format == REC_AUTO) {
			rc = usage_error(
			    "option --input-format: expected csv, json or ndjson, got \"%s\"",
			    a.input_format);
			goto out;
		}
	}
	if (a.delimiter && rec_parse_delimiter(a.delimiter, &lo.rec.delimiter, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.weights && !(kind->train & TRAIN_WEIGHTS)) {
		rc = usage_error("--weights: %s models take no pretrained encoder", kind->name);
		goto out;
	}
	if (a.plot && !(kind->train & TRAIN_EPOCHS)) {
		rc = usage_error("option --plot: %s models do not train in epochs: no learning "
				 "curve to draw",
				 kind->name);
		goto out;
	}
	if (a.plot && curve_check_path(a.plot, &e) < 0) {
		err_prefix(&e, "option --plot");
		rc = report_err(&e);
		goto out;
	}
	if (a.marked && n > 0) {
		rc = usage_error("--marked: the cards come from the marking dataset, not \"%s\"",
				 argv[0]);
		goto out;
	}
	if (a.confirmed && !kind->confirmed) {
		rc = usage_error("--confirmed: %s models keep no confirmed samples", kind->name);
		goto out;
	}
	if (a.resume && !(kind->train & TRAIN_RESUME)) {
		rc = usage_error("--resume: %s models do not resume", kind->name);
		goto out;
	}
	if (a.resume && (n > 0 || a.marked || a.warm || a.pretrained || a.weights ||
			 (a.id && strcmp(a.id, a.resume)))) {
		rc = usage_error("--resume: the training goes on with its own data, id and "
				 "starting weights (give only hyperparameters to change, such as "
				 "--epochs)");
		goto out;
	}
	if (store_open(&store, store_path(), &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.resume) {
		/* the training's own settings, then the ones given again (--epochs) */
		const cJSON *it;
		const char *rtext;
		if (store_read_checkpoint(store, a.resume, &ckpt, &e) < 0) {
			err_prefix(&e, "--resume");
			rc = report_err(&e);
			goto out;
		}
		rtext = st_get_meta(&ckpt, "dyn.resume");
		rdoc = rtext ? cJSON_Parse(rtext) : NULL;
		it = cJSON_GetObjectItemCaseSensitive(rdoc, "params");
		if (!cJSON_IsObject(it) || !cJSON_IsArray(cJSON_GetObjectItem(rdoc, "paths"))) {
			err_set(
			    &e, DYN_EDATA,
			    "--resume: the checkpoint of \"%s\" does not say how it was trained",
			    a.resume);
			rc = report_err(&e);
			goto out;
		}
		{
			char *ptxt = cJSON_PrintUnformatted(it);
			int pr = params_set_json(&p, kind->name, ptxt, &e);
			free(ptxt);
			if (pr < 0 || set_params(&p, kind, &a, &e) < 0) {
				rc = report_err(&e);
				goto out;
			}
		}
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(rdoc, "paths"))
		{
			if (cJSON_IsString(it))
				strv_push(&rpaths, it->valuestring, strlen(it->valuestring));
		}
		argv = rpaths.v;
		n = (int)rpaths.n;
		a.test_fraction = doc_num(rdoc, "test_fraction");
		if (isnan(a.test_fraction))
			a.test_fraction = 0.2;
		if (!isnan(doc_num(rdoc, "seed")))
			global.seed = (long)doc_num(rdoc, "seed");
		if (!a.note)
			a.note = doc_str(rdoc, "note");
		a.id = a.resume;
	}
	if (a.warm) {
		if (model_from_store(store, a.warm, &warm, &e) < 0) {
			err_prefix(&e, "--warm-start");
			rc = report_err(&e);
			goto out;
		}
		if (warm->kind != kind) {
			rc = usage_error("--warm-start: model \"%s\" is a %s model, not %s", a.warm,
					 warm->kind->name, kind->name);
			goto out;
		}
		/* A network goes on with its own hyperparameters (its shape depends on them), but
		 * for those given again. */
		if (kind->train & TRAIN_EPOCHS) {
			params_release(&p);
			params_copy(&p, &warm->params);
			if ((a.params && params_set_json(&p, kind->name, ptext.buf, &e) < 0) ||
			    set_params(&p, kind, &a, &e) < 0) {
				rc = report_err(&e);
				goto out;
			}
		}
	}

	if (a.pretrained) {
		if (!(kind->train & TRAIN_EPOCHS)) {
			rc = usage_error("--pretrained: %s models do not start from weights",
					 kind->name);
			goto out;
		}
		if (model_from_store(store, a.pretrained, &pre, &e) < 0) {
			err_prefix(&e, "--pretrained");
			rc = report_err(&e);
			goto out;
		}
		if (pre->kind != kind) {
			rc = usage_error("--pretrained: model \"%s\" is a %s model, not %s",
					 a.pretrained, pre->kind->name, kind->name);
			goto out;
		}
	}

	utc_now(started);
	if (a.marked) {
		/* a warm start goes on with the cards marked since its model began training */
		struct cJSON *wentry = a.warm ? model_describe(store, a.warm, &e) : NULL;
		const char *since = wentry ? doc_str(wentry, "training.started_at") : NULL;
		if (wentry && !since)
			since = doc_str(wentry, "created_at");
		r = dataset_load_marked(&ds, kind, store_dir(store), since, &lo, sha, &e);
		doc_free(wentry);
		argv = (char **)marked_paths;
		n = 1;
	} else {
		r = dataset_load(&ds, kind->input, (const char *const *)argv, (size_t)n, &lo, sha,
				 &e);
	}
	if (r == 0 && a.confirmed) {
		/* the store's confirmed samples after the data given: the data's digest covers
		 * both, its paths name the samples' database */
		char csha[65], both[130];
		const char *where = NULL;
		r = kind->confirmed(&ds, store_dir(store), csha, &where, &e);
		if (r == 0) {
			memcpy(both, sha, 64);
			memcpy(both + 64, csha, 64);
			sha256_hex(both, sizeof(both), sha);
			for (i = 0; i < (size_t)n; i++)
				strv_push(&dpaths, argv[i], strlen(argv[i]));
			strv_push(&dpaths, where, strlen(where));
			argv = dpaths.v;
			n = (int)dpaths.n;
		}
	}
	if (r < 0) {
		rc = report_err(&e);
		goto out;
	}
	trace_perf("fit: read data");
	/* A network continues with new cards of some of its classes: they take its classes. */
	if (warm && (kind->train & TRAIN_EPOCHS) && (kind->train & TRAIN_CLASSES) &&
	    dataset_adopt_classes(&ds, warm->classes, warm->k, &e) < 0) {
		err_prefix(&e, "--warm-start: model \"%s\"", a.warm);
		rc = report_err(&e);
		goto out;
	}
	if (warm &&
	    (warm->d != ds.d || warm->k != ds.k || !strv_equal(warm->classes, ds.classes, ds.k) ||
	     !strv_equal(warm->features, ds.features, ds.d))) {
		rc = usage_error(
		    "--warm-start: model \"%s\" has %zu features and %zu classes, the data "
		    "%zu and %zu (or their names differ)",
		    a.warm, warm->d, warm->k, ds.d, ds.k);
		goto out;
	}
	/* A setting the data makes wrong (a network's shape) is refused before the model is
	 * registered. */
	if (kind->check && kind->check(&p, &ds, a.weights, warm, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	/* A network is in the store from its first epoch, shown running. */
	id = a.id;
	if (kind->train & TRAIN_EPOCHS) {
		entry = model_entry_begin(a.id, kind, &p, ds.features, ds.d, ds.classes, ds.k,
					  (const char *const *)argv, (size_t)n, ds.n, sha, a.note);
		r = train_log_begin(&log, store, a.id, kind->name, a.replace, entry, &e);
		entry = NULL;
		if (r < 0) {
			rc = report_err(&e);
			goto out;
		}
		id = train_log_id(log);
		if (a.resume) {
			const char *etext = st_get_meta(&ckpt, "dyn.epochs");
			cJSON *eps = etext ? cJSON_Parse(etext) : NULL;
			r = train_log_resume(log, eps, &e);
			cJSON_Delete(eps);
			if (r < 0) {
				train_log_fail(log, e.msg);
				rc = report_err(&e);
				goto out;
			}
		}
		if (a.plot)
			train_log_plot(log, a.plot, kind->name);
	}
	memset(&to, 0, sizeof(to));
	to.test_fraction = a.test_fraction;
	to.cv = a.cv;
	to.grid = a.grid ? &grid : NULL;
	to.refit = !a.no_refit;
	to.warm = warm;
	to.ctx.seed = (unsigned long)global.seed;
	to.ctx.threads = (int)global.threads;
	to.ctx.quiet = global.quiet;
	to.ctx.progress = cmd_progress("training");
	to.ctx.pretrained = pre;
	to.ctx.weights = a.weights;
	if (log) {
		to.ctx.on_epoch = fit_on_epoch;
		to.ctx.on_epoch_arg = log;
	}
	if (log && (kind->train & TRAIN_RESUME)) {
		ck.store = store;
		ck.log = log;
		ck.resume = resume_doc(&p, argv, (size_t)n, a.test_fraction, a.note);
		to.ctx.on_checkpoint = fit_on_checkpoint;
		to.ctx.on_checkpoint_arg = &ck;
		to.ctx.resume = a.resume ? &ckpt : NULL;
	}
	if (model_train(&m, kind, &p, &ds, &to, &report, &e) < 0) {
		progress_free(&to.ctx.progress);
		train_log_fail(log, e.msg);
		rc = report_err(&e);
		goto out;
	}
	progress_free(&to.ctx.progress);
	utc_now(finished);
	if (model_save(m, &file, &e) < 0) {
		train_log_fail(log, e.msg);
		rc = report_err(&e);
		goto out;
	}
	trace_perf("fit: serialize model");
	how = doc_str(report, "evaluation.method");
	if (kind->output == OUTPUT_TEXT) {
		acc = doc_num(report, "cer");
		auc = doc_num(report, "line_accuracy");
		snprintf(result, sizeof(result),
			 "%s character error rate %.4f (%.4f with look-alikes folded), lines read "
			 "exactly %.3f (%.3f)",
			 how ? how : "", acc, doc_num(report, "cer_folded"), auc,
			 doc_num(report, "line_accuracy_folded"));
	} else if (kind->output == OUTPUT_KEYPOINTS) {
		acc = doc_num(report, "median_error_px");
		auc = doc_num(report, "pck_10px");
		snprintf(result, sizeof(result), "%s median error %.2f px, PCK@10px %.3f",
			 how ? how : "", acc, auc);
	} else {
		acc = doc_num(report, "accuracy");
		auc = doc_num(report, "roc_auc");
		snprintf(result, sizeof(result), "%s accuracy %.4f, ROC AUC %.4f", how ? how : "",
			 acc, auc);
	}
	entry = model_entry(id, m, report, started, finished, log ? train_log_epochs(log) : NULL,
			    (const char *const *)argv, (size_t)n, ds.n, sha, a.note);
	report = NULL;
	/* The tensors go from the model to the file: st_image copies none of them. */
	st_image_init(&img, &file);
	r = store_add_model(store, id, kind->name, a.replace, img.iov, img.niov, entry, &new_id,
			    &e);
	st_image_release(&img);
	entry = NULL;
	if (r < 0) {
		train_log_fail(log, e.msg);
		rc = report_err(&e);
		goto out;
	}
	trace_perf("fit: store");
	if (ck.resume)
		store_drop_checkpoint(store, new_id);
	/* the model is kept (and its id printed) when only its curve cannot be drawn */
	if (a.plot && train_log_draw(log, &e) < 0) {
		err_prefix(&e, "option --plot");
		rc = report_err(&e);
	}
	printf("%s\n", new_id);
	summary("trained %s model \"%s\" on %zu %s: %s", kind->name, new_id, ds.n,
		kind->unit ? kind->unit : "rows", result);
	rc = finish_stdout(rc);
out:
	free(ck.resume);
	st_release(&ckpt);
	cJSON_Delete(rdoc);
	strv_release(&rpaths);
	strv_release(&dpaths);
	train_log_free(&log);
	free(new_id);
	st_release(&file);
	model_free(&m);
	model_free(&warm);
	model_free(&pre);
	store_free(&store);
	dataset_release(&ds);
	if (have_grid)
		grid_release(&grid);
	if (have_params)
		params_release(&p);
	strbuf_release(&names);
	strbuf_release(&ptext);
	free(opts);
	free(a.pa);
	doc_free(report);
	doc_free(entry);
	return rc;
}
