/* Loading stored models (see stored.h). */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/base.h"
#include "base/trace.h"
#include "models/curve.h"
#include "models/stored.h"
#include "store/safetensors.h"

int model_from_store(struct store *s, const char *id, struct model **out, struct err *e)
{
	cJSON *index = NULL, *entry;
	struct st_file f;
	char where[128];
	const char *status;
	int ret = -1;

	*out = NULL;
	st_init(&f);
	if (!store_valid_id(id)) {
		err_set(e, DYN_EUSAGE,
			"invalid model id \"%s\": ids match [A-Za-z0-9][A-Za-z0-9._-]{0,63}", id);
		goto out;
	}
	if (store_read_index(s, &index, e) < 0)
		goto out;
	if (!(entry = store_find(index, id, e)))
		goto out;
	status = store_entry_status(entry);
	if (strcmp(status, "done")) {
		err_set(e, DYN_EDATA, "model \"%s\" %s", id,
			!strcmp(status, "running") ? "is still training"
			: !strcmp(status, "failed")
			    ? "failed to train (see 'dyn models show'; 'dyn models rm' removes it)"
			    : "has an unknown training status");
		goto out;
	}
	if (store_load_model(s, entry, &f, e) < 0)
		goto out;
	snprintf(where, sizeof(where), "model \"%s\"", id);
	if (model_load(out, &f, where, e) < 0)
		goto out;
	trace_perf("load model");
	ret = 0;
out:
	st_release(&f);
	cJSON_Delete(index);
	return ret;
}

static void add_model_fields(cJSON *entry, const struct params *p, char *const *features, size_t d,
			     char *const *classes, size_t k)
{
	cJSON *arr;
	size_t i;
	cJSON_AddItemToObject(entry, "params", params_to_json(p));
	arr = cJSON_AddArrayToObject(entry, "features");
	for (i = 0; i < d; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(features[i]));
	arr = cJSON_AddArrayToObject(entry, "classes");
	for (i = 0; i < k; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(classes[i]));
}

static void add_provenance(cJSON *data, const char *const *paths, size_t npaths, size_t rows,
			   const char *sha)
{
	cJSON *arr = cJSON_AddArrayToObject(data, "paths");
	size_t i;
	/* no path: the rows came from standard input; a kind that trains on no data at all (an ocr
	 * model on its synthetic lines alone) has no path either, and no rows */
	if (!npaths && rows)
		cJSON_AddItemToArray(arr, cJSON_CreateString("stdin"));
	for (i = 0; i < npaths; i++)
		cJSON_AddItemToArray(
		    arr, cJSON_CreateString(strcmp(paths[i], "-") ? paths[i] : "stdin"));
	cJSON_AddNumberToObject(data, "rows", (double)rows);
	cJSON_AddStringToObject(data, "sha256", sha);
}

struct cJSON *model_entry_begin(const char *id, const struct model_kind *kind,
				const struct params *p, char *const *features, size_t d,
				char *const *classes, size_t k, const char *const *paths,
				size_t npaths, size_t rows, const char *sha, const char *note)
{
	cJSON *entry = cJSON_CreateObject(), *data;
	if (id)
		cJSON_AddStringToObject(entry, "id", id);
	cJSON_AddStringToObject(entry, "kind", kind->name);
	add_model_fields(entry, p, features, d, classes, k);
	cJSON_AddNullToObject(entry, "metrics");
	data = cJSON_AddObjectToObject(entry, "data");
	add_provenance(data, paths, npaths, rows, sha);
	if (note)
		cJSON_AddStringToObject(entry, "note", note);
	else
		cJSON_AddNullToObject(entry, "note");
	return entry;
}

struct cJSON *model_entry(const char *id, const struct model *m, struct cJSON *report,
			  const char *started, const char *finished, const struct cJSON *epochs,
			  const char *const *paths, size_t npaths, size_t rows, const char *sha,
			  const char *note)
{
	cJSON *entry = cJSON_CreateObject(), *tr, *data;
	if (id)
		cJSON_AddStringToObject(entry, "id", id);
	cJSON_AddStringToObject(entry, "kind", m->kind->name);
	cJSON_AddStringToObject(entry, "created_at", finished);
	add_model_fields(entry, &m->params, m->features, m->d, m->classes, m->k);
	cJSON_AddItemToObject(entry, "metrics", report ? report : cJSON_CreateNull());
	tr = cJSON_AddObjectToObject(entry, "training");
	cJSON_AddStringToObject(tr, "status", "done");
	cJSON_AddStringToObject(tr, "started_at", started);
	cJSON_AddStringToObject(tr, "finished_at", finished);
	cJSON_AddItemToObject(tr, "epochs",
			      epochs ? cJSON_Duplicate(epochs, 1) : cJSON_CreateArray());
	if (m->info)
		cJSON_AddItemToObject(tr, "info", cJSON_Duplicate(m->info, 1));
	data = cJSON_AddObjectToObject(entry, "data");
	add_provenance(data, paths, npaths, rows, sha);
	if (note)
		cJSON_AddStringToObject(entry, "note", note);
	else
		cJSON_AddNullToObject(entry, "note");
	return entry;
}

struct cJSON *model_describe(struct store *s, const char *id, struct err *e)
{
	cJSON *index = NULL, *entry, *copy = NULL;
	struct model *m = NULL;
	struct err fe = ERR_INIT;
	struct st_file f;
	const char *status;
	cJSON *tr;

	st_init(&f);
	if (store_read_index(s, &index, e) < 0)
		goto out;
	if (!(entry = store_find(index, id, e)))
		goto out;
	copy = cJSON_Duplicate(entry, 1);
	status = store_entry_status(entry);
	tr = cJSON_GetObjectItemCaseSensitive(copy, "training");
	if (cJSON_IsObject(tr)) {
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(tr, "status");
		if (cJSON_IsString(old) && strcmp(old->valuestring, status)) {
			/* a running entry whose process is gone */
			cJSON_ReplaceItemInObjectCaseSensitive(tr, "status",
							       cJSON_CreateString(status));
			if (!cJSON_GetObjectItemCaseSensitive(tr, "error") &&
			    !strcmp(status, "failed"))
				cJSON_AddStringToObject(
				    tr, "error", "the training process ended before it finished");
		}
	}
	if (strcmp(status, "done"))
		cJSON_AddStringToObject(copy, "integrity", "no model file (not trained)");
	else if (store_load_model(s, entry, &f, &fe) == 0 &&
		 model_load(&m, &f, "model file", &fe) == 0)
		cJSON_AddStringToObject(copy, "integrity", "ok");
	else
		cJSON_AddStringToObject(copy, "integrity", fe.msg);
out:
	model_free(&m);
	st_release(&f);
	cJSON_Delete(index);
	return copy;
}

struct train_log {
	struct store *s;
	char *id;
	bool registered; /* false when replacing a model: nothing to update until the end */
	cJSON *epochs;
	const char *plot, *kind; /* train_log_plot */
	double drawn;		 /* when the curve was last drawn (monotonic seconds) */
};

int train_log_begin(struct train_log **out, struct store *s, const char *id, const char *prefix,
		    bool replace, struct cJSON *entry, struct err *e)
{
	struct train_log *l = xcalloc(1, sizeof(*l));
	*out = NULL;
	if (store_begin_training(s, id, prefix, replace, entry, &l->id, &l->registered, e) < 0) {
		free(l);
		return -1;
	}
	l->s = s;
	l->epochs = cJSON_CreateArray();
	*out = l;
	return 0;
}

const char *train_log_id(const struct train_log *l)
{
	return l->id;
}

static void add_num_or_null(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

int train_log_epoch(struct train_log *l, const struct epoch_stats *st, struct err *e)
{
	cJSON *ep = cJSON_CreateObject();
	char key[80];
	cJSON_AddNumberToObject(ep, "epoch", (double)st->epoch);
	add_num_or_null(ep, "loss", st->loss);
	add_num_or_null(ep, "val_loss", st->val_loss);
	add_num_or_null(ep, "lr", st->lr);
	if (st->metric) {
		add_num_or_null(ep, st->metric, st->train_metric);
		snprintf(key, sizeof(key), "val_%s", st->metric);
		add_num_or_null(ep, key, st->val_metric);
	}
	add_num_or_null(ep, "seconds", st->seconds);
	cJSON_AddItemToArray(l->epochs, ep);
	if (l->plot) {
		struct err pe = ERR_INIT;
		double now = clock_monotonic();
		if (now - l->drawn >= 1) {
			train_log_draw(l, &pe);
			l->drawn = now;
		}
	}
	if (!l->registered)
		return 0;
	return store_update_epochs(l->s, l->id, l->epochs, e);
}

int train_log_resume(struct train_log *l, const struct cJSON *epochs, struct err *e)
{
	if (!cJSON_IsArray(epochs))
		return err_set(e, DYN_EDATA, "checkpoint: no epochs");
	cJSON_Delete(l->epochs);
	l->epochs = cJSON_Duplicate(epochs, 1);
	if (!l->registered)
		return 0;
	return store_update_epochs(l->s, l->id, l->epochs, e);
}

void train_log_plot(struct train_log *l, const char *path, const char *kind)
{
	l->plot = path;
	l->kind = kind;
	l->drawn = -INFINITY;
}

int train_log_draw(struct train_log *l, struct err *e)
{
	return curve_write_epochs(l->plot, l->id, l->kind, l->epochs, e);
}

const struct cJSON *train_log_epochs(const struct train_log *l)
{
	return l->epochs;
}

void train_log_fail(struct train_log *l, const char *msg)
{
	struct err e = ERR_INIT;
	if (l && l->registered)
		store_fail_training(l->s, l->id, msg, &e);
}

void train_log_free(struct train_log **lp)
{
	struct train_log *l = *lp;
	if (!l)
		return;
	free(l->id);
	cJSON_Delete(l->epochs);
	free(l);
	*lp = NULL;
}
