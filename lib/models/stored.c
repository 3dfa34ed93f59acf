/* Loading stored models (see stored.h). */
#include <cjson/cJSON.h>

#include "base/base.h"
#include "models/stored.h"
#include "store/safetensors.h"

int model_from_store(struct store *s, const char *id, struct model **out, struct err *e)
{
	cJSON *index = NULL, *entry;
	struct st_file f;
	char where[128];
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
	if (store_load_model(s, entry, &f, e) < 0)
		goto out;
	snprintf(where, sizeof(where), "model \"%s\"", id);
	if (model_load(out, &f, where, e) < 0)
		goto out;
	ret = 0;
out:
	st_release(&f);
	cJSON_Delete(index);
	return ret;
}

struct cJSON *model_entry(const char *id, const struct model *m, struct cJSON *report,
			  const char *started, const char *finished, const char *const *paths,
			  size_t npaths, size_t rows, const char *sha, const char *note)
{
	cJSON *entry = cJSON_CreateObject(), *arr, *tr, *data;
	size_t i;
	if (id)
		cJSON_AddStringToObject(entry, "id", id);
	cJSON_AddStringToObject(entry, "kind", m->kind->name);
	cJSON_AddStringToObject(entry, "created_at", finished);
	cJSON_AddItemToObject(entry, "params", params_to_json(&m->params));
	arr = cJSON_AddArrayToObject(entry, "features");
	for (i = 0; i < m->d; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(m->features[i]));
	arr = cJSON_AddArrayToObject(entry, "classes");
	for (i = 0; i < m->k; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(m->classes[i]));
	cJSON_AddItemToObject(entry, "metrics", report ? report : cJSON_CreateNull());
	tr = cJSON_AddObjectToObject(entry, "training");
	cJSON_AddStringToObject(tr, "status", "finished");
	cJSON_AddStringToObject(tr, "started_at", started);
	cJSON_AddStringToObject(tr, "finished_at", finished);
	cJSON_AddArrayToObject(tr, "epochs");
	if (m->info)
		cJSON_AddItemToObject(tr, "info", cJSON_Duplicate(m->info, 1));
	data = cJSON_AddObjectToObject(entry, "data");
	arr = cJSON_AddArrayToObject(data, "paths");
	if (!npaths)
		cJSON_AddItemToArray(arr, cJSON_CreateString("stdin"));
	for (i = 0; i < npaths; i++)
		cJSON_AddItemToArray(
		    arr, cJSON_CreateString(strcmp(paths[i], "-") ? paths[i] : "stdin"));
	cJSON_AddNumberToObject(data, "rows", (double)rows);
	cJSON_AddStringToObject(data, "sha256", sha);
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

	st_init(&f);
	if (store_read_index(s, &index, e) < 0)
		goto out;
	if (!(entry = store_find(index, id, e)))
		goto out;
	copy = cJSON_Duplicate(entry, 1);
	if (store_load_model(s, entry, &f, &fe) == 0 && model_load(&m, &f, "model file", &fe) == 0)
		cJSON_AddStringToObject(copy, "integrity", "ok");
	else
		cJSON_AddStringToObject(copy, "integrity", fe.msg);
out:
	model_free(&m);
	st_release(&f);
	cJSON_Delete(index);
	return copy;
}
