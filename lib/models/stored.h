/* Models in the store: loading one by id with its integrity checks. */
#ifndef DYN_MODELS_STORED_H
#define DYN_MODELS_STORED_H

#include "models/model.h"
#include "store/store.h"

/* Loads model id from s: index entry, training status, file hash and size, file format,
 * shapes. Errors: model not found (DYN_ENOTFOUND), a model still training or whose training
 * failed, mismatching or corrupt file (DYN_EDATA). *out owned by the caller. */
int model_from_store(struct store *s, const char *id, struct model **out, struct err *e);

/* The index entry of model id (a copy, caller owns) with "integrity": "ok" or what is wrong
 * with its file (a hash mismatch, a missing file, an unreadable format). DYN_ENOTFOUND when
 * there is no such model. */
struct cJSON *model_describe(struct store *s, const char *id, struct err *e);

/* A new index entry for model m (id may be NULL: the store names it): kind, params, features,
 * classes, metrics (report, consumed), training status "done", times, epochs (copied; NULL for
 * none) and the kind's info, data provenance (paths, "-" as "stdin"; rows; sha256 of the parsed
 * data) and note. */
struct cJSON *model_entry(const char *id, const struct model *m, struct cJSON *report,
			  const char *started, const char *finished, const struct cJSON *epochs,
			  const char *const *paths, size_t npaths, size_t rows, const char *sha,
			  const char *note);
/* The entry of a model about to train (store_begin_training adds its "training"): the same
 * fields, metrics null. */
struct cJSON *model_entry_begin(const char *id, const struct model_kind *kind,
				const struct params *p, char *const *features, size_t d,
				char *const *classes, size_t k, const char *const *paths,
				size_t npaths, size_t rows, const char *sha, const char *note);

/* The record of a training that runs in epochs (TRAIN_EPOCHS), kept in the store as it goes:
 * train_log_begin registers the model (store_begin_training; entry consumed, id NULL for a
 * generated one), train_log_epoch appends an epoch and rewrites the entry's epochs, and
 * train_log_fail marks the entry failed. Heap object: train_log_free (which leaves the entry
 * as it is: a finished training replaces it with store_add_model). */
struct train_log;
int train_log_begin(struct train_log **out, struct store *s, const char *id, const char *prefix,
		    bool replace, struct cJSON *entry, struct err *e);
/* The model's id (generated or given); owned by the log. */
const char *train_log_id(const struct train_log *l);
int train_log_epoch(struct train_log *l, const struct epoch_stats *st, struct err *e);
/* A resumed training: the epochs its checkpoint had (copied), as if they were logged. */
int train_log_resume(struct train_log *l, const struct cJSON *epochs, struct err *e);
/* The epochs so far (a JSON array owned by the log). */
const struct cJSON *train_log_epochs(const struct train_log *l);
/* Draws the learning curve of the epochs into path (models/curve.h; borrowed, as kind) as they
 * come: after an epoch when a second has passed since the last drawing, so that a user can watch
 * the file at little cost to a fast training (a failed drawing there waits for the next). */
void train_log_plot(struct train_log *l, const char *path, const char *kind);
/* Draws it now (the training's end); errors of curve_write_epochs. */
int train_log_draw(struct train_log *l, struct err *e);
/* Marks the entry failed with msg; errors of the store are ignored (the training's own error
 * is the one to report). */
void train_log_fail(struct train_log *l, const char *msg);
void train_log_free(struct train_log **l);

#endif
