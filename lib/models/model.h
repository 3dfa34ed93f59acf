/* One interface for every model kind (fit, predict, save, load, describe) and the table of
 * kinds. Commands know kinds only through this table; adding a kind touches lib/models/ only. */
#ifndef DYN_MODELS_MODEL_H
#define DYN_MODELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/progress.h"
#include "models/params.h"

struct cJSON;
struct st_file;

/* What a kind reads: the commands pick the loader from this, never from the kind's name. */
enum input_kind {
	INPUT_TABULAR, /* numeric feature columns */
	INPUT_TEXT,    /* one text column */
};

/* A batch of inputs: n rows of d features (row-major) or n texts. Borrowed pointers. */
struct batch {
	size_t n;
	size_t d;
	const double *X;
	const char *const *text;
};

/* Training data: a batch plus labels. Embedded value: dataset_init / dataset_release (frees
 * everything it points to). */
struct dataset {
	size_t n, d;
	double *X;	 /* n x d, row-major (INPUT_TABULAR) */
	char **text;	 /* n texts (INPUT_TEXT; then d = 1, X = NULL) */
	char **features; /* d names; for INPUT_TEXT the one text column */
	size_t k;	 /* classes */
	char **classes;	 /* k names, sorted numerically if all numbers, else bytewise */
	int *y;		 /* n class indices */
};

void dataset_init(struct dataset *ds);
void dataset_release(struct dataset *ds);
/* The rows idx[0..m) of src as a new dataset (classes and features kept whole). */
void dataset_subset(struct dataset *dst, const struct dataset *src, const size_t *idx, size_t m);
struct batch dataset_batch(const struct dataset *ds);

struct fit_ctx {
	unsigned long seed;
	int threads;
	struct progress *progress;
	bool quiet;
	bool train_proba; /* the training report is wanted: fit may leave m->train_proba */
};

struct model_kind;

/* A trained (or loaded) model. Heap object: model_new / model_free. */
struct model {
	const struct model_kind *kind;
	struct params params;
	size_t d;
	char **features;
	size_t k;
	char **classes;
	void *state;	    /* owned; freed by kind->free_state */
	struct cJSON *info; /* kind's extra description (iterations, support vectors...), owned */
	/* Optional, owned: when its context's train_proba is set, fit may leave here the
	 * probabilities of its training rows (n x k, as predict would give them) when it has them
	 * for less than predicting every row again; the training report then uses them. NULL
	 * otherwise. */
	double *train_proba;
};

struct model_kind {
	const char *name;
	const char *summary;
	enum input_kind input;
	const struct param_spec *params;
	/* Trains m (params, features and classes already set) on ds; fills m->state and may set
	 * m->info. warm, when not NULL, is a model of the same kind to start from. */
	int (*fit)(struct model *m, const struct dataset *ds, const struct model *warm,
		   const struct fit_ctx *ctx, struct err *e);
	/* Class probabilities, n x k row-major, for a batch whose columns are in m's feature
	 * order. Must be safe to call from several threads on one model. */
	int (*predict)(const struct model *m, const struct batch *b, double *proba, struct err *e);
	/* Adds the kind's tensors and metadata to f; tensors may borrow m's arrays (st_add), as
	 * f goes before m. */
	int (*save)(const struct model *m, struct st_file *f, struct err *e);
	/* Reads them back, validating every shape against m->d and m->k; may keep a tensor's
	 * memory (st_take) rather than copy it. */
	int (*load)(struct model *m, struct st_file *f, struct err *e);
	void (*free_state)(void *state);
};

/* The table of kinds, NULL-terminated. */
extern const struct model_kind *const model_kinds[];
const struct model_kind *model_kind_find(const char *name);

struct model *model_new(const struct model_kind *kind);
void model_free(struct model **m);

/* Describes a whole model (common metadata + the kind's tensors) as a safetensors file in f
 * (st_init'ed by the caller, who releases it): the tensors borrow m's arrays, so m must outlive
 * f; st_image_init gives the bytes to write without copying them. */
int model_save(const struct model *m, struct st_file *f, struct err *e);
/* Builds the model described by f (as model_save writes it: st_parse or st_read gives it); may
 * take tensors' memory from f. *out owned by caller. where names the source in messages. */
int model_load(struct model **out, struct st_file *f, const char *where, struct err *e);

#endif
