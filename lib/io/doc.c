/* Dot-path accessors over cJSON documents (see doc.h). */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "io/doc.h"

const struct cJSON *doc_get(const struct cJSON *doc, const char *path)
{
	char key[256];
	while (doc && path && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		doc = cJSON_GetObjectItemCaseSensitive(doc, key);
		path = dot ? dot + 1 : NULL;
	}
	return doc;
}

const char *doc_str(const struct cJSON *doc, const char *path)
{
	const cJSON *x = doc_get(doc, path);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

double doc_num(const struct cJSON *doc, const char *path)
{
	const cJSON *x = doc_get(doc, path);
	return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

size_t doc_len(const struct cJSON *doc, const char *path)
{
	const cJSON *x = doc_get(doc, path);
	return cJSON_IsArray(x) ? (size_t)cJSON_GetArraySize(x) : 0;
}

const struct cJSON *doc_at(const struct cJSON *doc, const char *path, size_t i)
{
	const cJSON *x = doc_get(doc, path);
	return cJSON_IsArray(x) ? cJSON_GetArrayItem(x, (int)i) : NULL;
}

const char *doc_key(const struct cJSON *doc, const char *path, size_t i)
{
	const cJSON *x = doc_get(doc, path), *c;
	if (!cJSON_IsObject(x))
		return NULL;
	for (c = x->child; c && i; c = c->next)
		i--;
	return c ? c->string : NULL;
}

struct cJSON *doc_detach(struct cJSON *doc, const char *path)
{
	const char *dot = strrchr(path, '.');
	cJSON *parent = doc, *x = (cJSON *)doc_get(doc, path);
	char head[256];
	if (!x)
		return NULL;
	if (dot) {
		size_t len = (size_t)(dot - path);
		if (len >= sizeof(head))
			return NULL;
		memcpy(head, path, len);
		head[len] = '\0';
		parent = (cJSON *)doc_get(doc, head);
	}
	return cJSON_DetachItemViaPointer(parent, x);
}

void doc_free(struct cJSON *doc)
{
	cJSON_Delete(doc);
}
