/* Models in the store: loading one by id with its integrity checks. */
#ifndef DYN_MODELS_STORED_H
#define DYN_MODELS_STORED_H

#include "models/model.h"
#include "store/store.h"

/* Loads model id from s: index entry, file hash and size, file format, shapes. Errors: model not
 * found (DYN_ENOTFOUND), mismatching or corrupt file (DYN_EDATA). *out owned by the caller. */
int model_from_store(struct store *s, const char *id, struct model **out, struct err *e);

/* The index entry of model id (a copy, caller owns) with "integrity": "ok" or what is wrong
 * with its file (a hash mismatch, a missing file, an unreadable format). DYN_ENOTFOUND when
 * there is no such model. */
struct cJSON *model_describe(struct store *s, const char *id, struct err *e);

/* A new index entry for model m (id may be NULL: the store names it): kind, params, features,
 * classes, metrics (report, consumed), training status and times with the kind's info, data
 * provenance (paths, "-" as "stdin"; rows; sha256 of the parsed data) and note. */
struct cJSON *model_entry(const char *id, const struct model *m, struct cJSON *report,
			  const char *started, const char *finished, const char *const *paths,
			  size_t npaths, size_t rows, const char *sha, const char *note);

#endif
