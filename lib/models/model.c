/* What every model kind shares: datasets, the model object, and the model file (safetensors
 * with dyn's metadata: kind, features, classes, hyperparameters). */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/strv.h"
#include "cards/card.h"
#include "models/model.h"
#include "store/safetensors.h"
#include "io/image.h"
#include "nn/nn.h"
#include "vision/pose.h"

#define MODEL_FORMAT "1"

void dataset_init(struct dataset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void dataset_release(struct dataset *ds)
{
	free(ds->X);
	strv_free(ds->text, ds->n);
	for (size_t i = 0; ds->cards && i < ds->n; i++)
		card_release(&ds->cards[i]);
	free(ds->cards);
	strv_free(ds->features, ds->d);
	strv_free(ds->classes, ds->k);
	free(ds->y);
	free(ds->frame);
	for (size_t i = 0; ds->images && i < ds->n; i++)
		img_release(&ds->images[i]);
	free(ds->images);
	if (ds->own_pose)
		pose_free(&ds->pose);
	dataset_init(ds);
}

void dataset_subset(struct dataset *dst, const struct dataset *src, const size_t *idx, size_t m)
{
	size_t i;
	dataset_init(dst);
	dst->n = m;
	dst->d = src->d;
	dst->k = src->k;
	dst->features = strv_dup(src->features, src->d);
	dst->classes = strv_dup(src->classes, src->k);
	if (src->y)
		dst->y = xmallocarray(m ? m : 1, sizeof(*dst->y));
	if (src->frame) {
		dst->pose = src->pose;
		dst->frame = xmallocarray(m ? m : 1, sizeof(*dst->frame));
	}
	if (src->X)
		dst->X = xmallocarray(m ? m : 1, src->d * sizeof(double));
	if (src->text)
		dst->text = xcalloc(m ? m : 1, sizeof(char *));
	if (src->cards)
		dst->cards = xcalloc(m ? m : 1, sizeof(*dst->cards));
	if (src->images)
		dst->images = xcalloc(m ? m : 1, sizeof(*dst->images));
	for (i = 0; i < m; i++) {
		if (src->y)
			dst->y[i] = src->y[idx[i]];
		if (src->frame)
			dst->frame[i] = src->frame[idx[i]];
		if (src->X)
			memcpy(dst->X + i * src->d, src->X + idx[i] * src->d,
			       src->d * sizeof(double));
		if (src->text)
			dst->text[i] = xstrdup(src->text[idx[i]]);
		if (src->cards)
			card_copy(&dst->cards[i], &src->cards[idx[i]]);
		if (src->images) {
			const struct img *si = &src->images[idx[i]];
			struct img *di = &dst->images[i];
			*di = *si;
			di->px = xmallocarray(si->w * si->h, (size_t)si->channels);
			memcpy(di->px, si->px, si->w * si->h * (size_t)si->channels);
		}
	}
}

void model_net_save(struct st_file *f, const char *prefix, const struct nn_net *net)
{
	char name[160];
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		snprintf(name, sizeof(name), "%s.%s", prefix, t->name);
		st_add(f, name, ST_F32, (size_t)t->ndim, t->shape, t->data);
	}
}

int model_net_load(const struct st_file *f, const char *prefix, struct nn_net *net, struct err *e)
{
	char name[160];
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		const struct st_tensor *s;
		snprintf(name, sizeof(name), "%s.%s", prefix, t->name);
		if (!(s = st_get(f, name, ST_F32, (size_t)t->ndim, e)))
			return -1;
		if (memcmp(s->shape, t->shape, (size_t)t->ndim * sizeof(size_t)))
			return err_set(e, DYN_EDATA, "tensor \"%s\" has the wrong shape", name);
		memcpy(t->data, s->data, t->size * sizeof(float));
	}
	return 0;
}

void text_answer_init(struct text_answer *a)
{
	strbuf_init(&a->text);
	strbuf_init(&a->where);
	strv_init(&a->lines);
	a->confidence = NAN;
}

void text_answer_release(struct text_answer *a)
{
	strbuf_release(&a->text);
	strbuf_release(&a->where);
	strv_release(&a->lines);
}

struct batch dataset_batch(const struct dataset *ds)
{
	struct batch b;
	b.n = ds->n;
	b.d = ds->d;
	b.X = ds->X;
	b.text = (const char *const *)ds->text;
	b.cards = ds->cards;
	b.frames = NULL;
	b.frame_w = b.frame_h = NULL;
	return b;
}

const struct model_kind *model_kind_find(const char *name)
{
	size_t i;
	for (i = 0; model_kinds[i]; i++)
		if (!strcmp(model_kinds[i]->name, name))
			return model_kinds[i];
	return NULL;
}

struct model *model_new(const struct model_kind *kind)
{
	struct model *m = xcalloc(1, sizeof(*m));
	m->kind = kind;
	params_init(&m->params, kind->params);
	return m;
}

void model_free(struct model **mp)
{
	struct model *m = *mp;
	if (!m)
		return;
	if (m->state && m->kind->free_state)
		m->kind->free_state(m->state);
	params_release(&m->params);
	strv_free(m->features, m->d);
	strv_free(m->classes, m->k);
	cJSON_Delete(m->info);
	free(m->train_proba);
	free(m);
	*mp = NULL;
}

static char *strings_json(char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;
	size_t i;
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return s;
}

int model_save(const struct model *m, struct st_file *f, struct err *e)
{
	char *s;
	cJSON *pj;

	st_set_meta(f, "dyn.format", MODEL_FORMAT);
	st_set_meta(f, "dyn.kind", m->kind->name);
	s = strings_json(m->features, m->d);
	st_set_meta(f, "dyn.features", s);
	free(s);
	s = strings_json(m->classes, m->k);
	st_set_meta(f, "dyn.classes", s);
	free(s);
	pj = params_to_json(&m->params);
	s = cJSON_PrintUnformatted(pj);
	st_set_meta(f, "dyn.params", s);
	free(s);
	cJSON_Delete(pj);
	if (m->info) {
		/* What the solver said (iterations, support vectors...), kept with the weights. */
		s = cJSON_PrintUnformatted(m->info);
		st_set_meta(f, "dyn.info", s);
		free(s);
	}
	return m->kind->save(m, f, e);
}

/* Parses a JSON array of strings from metadata key; *n its length. */
static int meta_strings(const struct st_file *f, const char *key, char ***out, size_t *n,
			const char *where, struct err *e)
{
	const char *text = st_get_meta(f, key);
	cJSON *arr = NULL, *it;
	size_t i = 0;
	if (!text || !(arr = cJSON_Parse(text)) || !cJSON_IsArray(arr)) {
		/* JSON that is not an array is parsed, and freed here (found by
		 * tests/fuzz/f_safetensors) */
		if (text && arr)
			cJSON_Delete(arr);
		return err_set(e, DYN_EDATA, "%s: model file lacks a valid \"%s\"", where, key);
	}
	*n = (size_t)cJSON_GetArraySize(arr);
	*out = xcalloc(*n ? *n : 1, sizeof(char *));
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it)) {
			cJSON_Delete(arr);
			return err_set(e, DYN_EDATA, "%s: model file has a non-string in \"%s\"",
				       where, key);
		}
		(*out)[i++] = xstrdup(it->valuestring);
	}
	cJSON_Delete(arr);
	return 0;
}

int model_load(struct model **out, struct st_file *f, const char *where, struct err *e)
{
	const struct model_kind *kind;
	const char *kname, *fmt, *ptext;
	struct model *m = NULL;
	int ret = -1;

	*out = NULL;
	fmt = st_get_meta(f, "dyn.format");
	if (!fmt || strcmp(fmt, MODEL_FORMAT)) {
		err_set(e, DYN_EDATA, "%s: not a dyn model file of format %s", where, MODEL_FORMAT);
		goto out;
	}
	kname = st_get_meta(f, "dyn.kind");
	if (!kname || !(kind = model_kind_find(kname))) {
		err_set(e, DYN_EDATA, "%s: unknown model kind \"%s\"", where, kname ? kname : "");
		goto out;
	}
	m = model_new(kind);
	ptext = st_get_meta(f, "dyn.params");
	if (!ptext || params_set_json(&m->params, kind->name, ptext, e) < 0) {
		err_set(e, DYN_EDATA, "%s: model file has invalid hyperparameters", where);
		goto out;
	}
	if (meta_strings(f, "dyn.features", &m->features, &m->d, where, e) < 0 ||
	    meta_strings(f, "dyn.classes", &m->classes, &m->k, where, e) < 0)
		goto out;
	if ((kind->train & TRAIN_CLASSES) && m->k < 2) {
		err_set(e, DYN_EDATA, "%s: model file has fewer than two classes", where);
		goto out;
	}
	if (kind->load(m, f, e) < 0) {
		err_prefix(e, "%s", where);
		goto out;
	}
	if (!m->info && (ptext = st_get_meta(f, "dyn.info")))
		m->info = cJSON_Parse(ptext);
	*out = m;
	m = NULL;
	ret = 0;
out:
	model_free(&m);
	return ret;
}
