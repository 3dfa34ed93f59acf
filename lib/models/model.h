/* One interface for every model kind (fit, predict, save, load, describe) and the table of
 * kinds. Commands know kinds only through this table; adding a kind touches lib/models/ only. */
#ifndef DYN_MODELS_MODEL_H
#define DYN_MODELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/progress.h"
#include "base/strbuf.h"
#include "base/strv.h"
#include "models/params.h"

struct cJSON;
struct st_file;

struct card;

/* What a kind reads: lib/ decodes inputs from this (models/input.h for predict, models/data.h
 * for training), never from the kind's name. */
enum input_kind {
	INPUT_TABULAR, /* numeric feature columns */
	INPUT_TEXT,    /* one text column */
	INPUT_CARD,    /* dynamometer cards: points files or pictures (cards/read.h) */
	INPUT_PHOTO,   /* photos of parts: labeled line crops (image, text) to train on besides what
			* the kind makes itself; photos to read (at their own size, upright) */
	INPUT_POSE,    /* pictures of animals: a labeled pose dataset to train on (vision/pose.h),
			* frames of videos or pictures to predict (kind->frame_size) */
};

/* What a kind's predict gives per input; commands write the columns from this. */
enum output_kind {
	OUTPUT_CLASSES,	  /* class probabilities: label, probability (--top K, --proba) */
	OUTPUT_KEYPOINTS, /* per frame, each node's position and score: node, x, y, score; the
			   * model's classes are its nodes */
	OUTPUT_TEXT,	  /* per input, the text read, its confidence and where (kind->read) */
};

/* OUTPUT_TEXT: what a kind read in one input: the text (empty: none found), its confidence in
 * [0, 1], and where, as a JSON array the kind documents (an OCR model's line boxes).
 * Embedded value: text_answer_init / text_answer_release. */
struct text_answer {
	struct strbuf text;
	double confidence;
	struct strbuf where;
	struct strv lines; /* the text of each line read, the answer's among them (for --match) */
};
void text_answer_init(struct text_answer *a);
void text_answer_release(struct text_answer *a);

/* The training a kind supports (model_train follows it). */
enum train_support {
	TRAIN_HOLDOUT = 1 << 0, /* a held-out split for the report (--test-fraction) */
	TRAIN_CV = 1 << 1,	/* K-fold cross-validated report (--cv) and grid search (--grid) */
	TRAIN_REFIT = 1 << 2,	/* after a held-out report, the stored model is refit on all rows;
				 * without it the model fit on the training split is kept, and fit
				 * gets the held-out rows as its validation set */
	TRAIN_CLASSES = 1 << 3, /* labels are two or more classes; without it the held-out split
				 * is drawn at random and kind->evaluate writes the report */
	TRAIN_EPOCHS = 1 << 4,	/* trains in epochs: reports each through the fit context, and
				 * the store shows it running while it trains */
	TRAIN_REFIT_FROM = 1 << 5, /* with TRAIN_REFIT: the refit gets the held-out split's model
				    * as a starting point (fit_ctx.refit_from) */
	TRAIN_RESUME = 1 << 6,	   /* with TRAIN_EPOCHS: gives its state after each epoch
				    * (fit_ctx.on_checkpoint) and goes on from one (.resume) */
	TRAIN_WEIGHTS = 1 << 7,	   /* takes pretrained weights from a file (fit_ctx.weights) */
};

struct img;
struct pose_dataset;
struct pose_skeleton;

/* A batch of inputs: n rows of d features (row-major), n texts, n cards or n frames. Borrowed.
 * Frames come at any size (at the kind's frame_size when the decoder could scale them);
 * frame_w and frame_h give each one's size at the source, in whose pixels positions are
 * reported. */
struct batch {
	size_t n;
	size_t d;
	const double *X;
	const char *const *text;
	const struct card *cards;
	const struct img *frames;
	const size_t *frame_w, *frame_h;
};

/* Training data: a batch plus labels. Embedded value: dataset_init / dataset_release (frees
 * everything it points to). */
struct dataset {
	size_t n, d;
	double *X;	    /* n x d, row-major (INPUT_TABULAR) */
	char **text;	    /* n texts (INPUT_TEXT; then d = 1, X = NULL) */
	struct card *cards; /* n cards (INPUT_CARD; then d = 0, X = NULL) */
	struct img *images; /* n pictures (INPUT_PHOTO: line crops, their texts in text) */
	/* INPUT_POSE: the labeled frames pose->frames[frame[0..n)] (d = 0, y = NULL, classes
	 * the skeleton's nodes); pose is owned when own_pose (the loaded dataset), else borrowed
	 * from the dataset this one is a subset of */
	struct pose_dataset *pose;
	size_t *frame;
	bool own_pose;
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

/* One epoch of a training that runs in epochs (TRAIN_EPOCHS). */
struct epoch_stats {
	long epoch;			 /* 1-based */
	long epochs;			 /* planned */
	double loss;			 /* mean training loss */
	double val_loss;		 /* on the validation set; NAN without one */
	double lr;			 /* learning rate used */
	const char *metric;		 /* the kind's metric ("accuracy"), NULL for none */
	double train_metric, val_metric; /* NAN when not measured */
	double seconds;			 /* wall time of the epoch */
};

/* See fit_ctx.carry. */
struct fit_carry {
	void *p;
	void (*release)(void *p);
};

struct fit_ctx {
	unsigned long seed;
	int threads;
	struct progress *progress;
	bool quiet;
	bool train_proba; /* the training report is wanted: fit may leave m->train_proba */
	/* Kinds without TRAIN_REFIT: the held-out rows, to watch while training (val_loss);
	 * NULL when there are none. Same features and classes as the training rows. */
	const struct dataset *valid;
	/* Called by kinds with TRAIN_EPOCHS after each epoch, when not NULL; a -1 from it (e set)
	 * stops the training with that error. */
	int (*on_epoch)(void *arg, const struct epoch_stats *st, struct err *e);
	void *on_epoch_arg;
	/* Kinds with TRAIN_EPOCHS: a model of the same kind whose weights start the training
	 * where they fit (its classes may differ: a classifier of other classes is not taken);
	 * NULL for none. */
	const struct model *pretrained;
	/* Kinds with TRAIN_REFIT_FROM, in the refit on all rows after a held-out report: the model
	 * just fit on the training split (same kind, params and classes), to start from; the refit
	 * must reach the optimum it would reach without it. NULL otherwise. */
	const struct model *refit_from;
	/* With refit_from: the rows of this data that refit_from was fit on, in its order (its
	 * row r is this data's row refit_rows[r], r < refit_nrows), for a kind that starts from
	 * per-row state (the SVM's dual variables); NULL otherwise. */
	const size_t *refit_rows;
	size_t refit_nrows;
	/* Kinds with TRAIN_REFIT_FROM: this fit is the held-out split's, whose model the refit
	 * will get as refit_from; a kind keeps in it what the refit starts from (the SVM's dual
	 * variables), which other fits need not hold. */
	bool refit_next;
	/* With refit_next: the whole training data, of which this fit's data is the rows
	 * all_rows[0..n) in this data's order, for a kind that does the refit's share of some
	 * work at once (the text kind counts the documents of both fits in one pass); NULL
	 * otherwise. */
	const struct dataset *all;
	const size_t *all_rows;
	/* Kinds with TRAIN_REFIT_FROM, in the held-out fit and the refit: what the held-out fit
	 * leaves for the refit besides its model (the text kind: every document counted), owned
	 * by the training, which releases what is left after the refit with carry->release. The
	 * held-out fit may set it; the refit may take it (and set p to NULL). NULL otherwise. */
	struct fit_carry *carry;
	/* Kinds with TRAIN_RESUME: called after each epoch (after on_epoch) with the training's
	 * whole state in f, its tensors borrowing the kind's arrays (valid during the call), to
	 * keep; a -1 (e set) stops the training. NULL: no checkpoints. */
	int (*on_checkpoint)(void *arg, struct st_file *f, struct err *e);
	void *on_checkpoint_arg;
	/* Kinds with TRAIN_RESUME: a checkpoint as on_checkpoint gave it, of a training of the
	 * same kind, params and data: the training goes on after its last epoch, as it would have
	 * gone on. NULL: from the start. */
	const struct st_file *resume;
	/* Kinds whose networks take pretrained parts: a weights file (safetensors) to load them
	 * from (--weights); NULL for none. */
	const char *weights;
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
	const char *unit; /* what its training data is counted in ("frames"); NULL: "rows" */
	enum input_kind input;
	enum output_kind output;
	unsigned train; /* enum train_support flags */
	const struct param_spec *params;
	/* Optional: checks that params p can train on ds (a network's shape from its data), with
	 * the weights file given (fit_ctx.weights, or NULL) and the model of its own it goes on
	 * from (warm, or NULL: its network must take warm's weights), so that a bad setting is an
	 * error before the model is registered; DYN_EUSAGE naming it. */
	int (*check)(const struct params *p, const struct dataset *ds, const char *weights,
		     const struct model *warm, struct err *e);
	/* Trains m (params, features and classes already set) on ds; fills m->state and may set
	 * m->info. warm, when not NULL, is a model of the same kind to start from. */
	int (*fit)(struct model *m, const struct dataset *ds, const struct model *warm,
		   const struct fit_ctx *ctx, struct err *e);
	/* OUTPUT_CLASSES: class probabilities, n x k row-major, for a batch whose columns are in
	 * m's feature order; a row of NaN is no answer (nothing in the input the model can use:
	 * predict leaves its label empty). Must be safe to call from several threads on one
	 * model. */
	int (*predict)(const struct model *m, const struct batch *b, double *proba, struct err *e);
	/* OUTPUT_KEYPOINTS: predict fills n x k x 3 values instead, each node's x, y (pixels of the
	 * frame at its source size, the centre of the top-left pixel at 0, 0) and score; x and y
	 * NaN where the node was not found. With instances giving I > 1: n x I x k x 3, each
	 * animal found in turn, the slots past the last all NaN (score too). */
	/* Kinds without TRAIN_CLASSES: the report of m on held-out data v (its own metrics, as a
	 * JSON object, caller owns). */
	int (*evaluate)(const struct model *m, const struct dataset *v, struct cJSON **report,
			struct err *e);
	/* OUTPUT_TEXT: reads each input of b into out[0..b->n) (initialized by the caller). */
	int (*read)(const struct model *m, const struct batch *b, struct text_answer *out,
		    struct err *e);
	/* OUTPUT_TEXT, optional (predict --confirm): keeps photo (read from source) with text, what
	 * a person confirmed it says, as a labeled sample in the store at directory store, for
	 * trainings with confirmed below; id names the model in the sample's record. A text the
	 * model cannot read (a character outside its alphabet, too long) is a DYN_EUSAGE error
	 * naming it, checked first: photo NULL only checks it (before any photo is read). note
	 * gets a line saying what was kept (for the summary). */
	int (*confirm)(const struct model *m, const char *id, const char *store,
		       const struct img *photo, const char *source, const char *text,
		       struct strbuf *note, struct err *e);
	/* Optional (fit --confirmed): appends the samples confirmed in the store at directory
	 * store to ds (as the kind's training data: for INPUT_PHOTO line crops and their texts),
	 * sha256 receiving the hex digest of what was read, where the data path its records
	 * give. None is a DYN_EDATA error. */
	int (*confirmed)(struct dataset *ds, const char *store, char sha256[65], const char **where,
			 struct err *e);
	/* INPUT_POSE: the size the kind scales a src_w x src_h frame to and the channels it
	 * takes (1 gray, 3 RGB), so that a decoder can give frames so on the way. */
	void (*frame_size)(const struct model *m, size_t src_w, size_t src_h, size_t *w, size_t *h,
			   int *channels);
	/* OUTPUT_KEYPOINTS, optional: the most animals predict gives a frame (NULL: one); more
	 * than one adds an instance column to the output. */
	size_t (*instances)(const struct model *m);
	/* OUTPUT_KEYPOINTS: the nodes' edges and symmetries (node names are the classes), owned
	 * by m. */
	const struct pose_skeleton *(*skeleton)(const struct model *m);
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

struct nn_net;
/* A network kind's weights in its model file: every tensor of net (parameters and batch-norm
 * buffers) as "PREFIX.NAME", float32 in its shape. Save borrows net's arrays (f goes before
 * net); load copies them into net, built first with the same shapes: a missing tensor or one
 * of another shape is a DYN_EDATA error naming it. */
void model_net_save(struct st_file *f, const char *prefix, const struct nn_net *net);
int model_net_load(const struct st_file *f, const char *prefix, struct nn_net *net, struct err *e);

/* Describes a whole model (common metadata + the kind's tensors) as a safetensors file in f
 * (st_init'ed by the caller, who releases it): the tensors borrow m's arrays, so m must outlive
 * f; st_image_init gives the bytes to write without copying them. */
int model_save(const struct model *m, struct st_file *f, struct err *e);
/* Builds the model described by f (as model_save writes it: st_parse or st_read gives it); may
 * take tensors' memory from f. *out owned by caller. where names the source in messages. */
int model_load(struct model **out, struct st_file *f, const char *where, struct err *e);

#endif
