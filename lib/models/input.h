/* Inputs for predict, decoded for a model's input kind and streamed a batch at a time: rows of
 * its features, texts of its text column, or cards; each with its key and kept fields. The one
 * place that reads inputs for a model, so that cmd/predict.c is the same for every kind. */
#ifndef DYN_MODELS_INPUT_H
#define DYN_MODELS_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "cards/read.h"
#include "io/records.h"
#include "models/model.h"

struct input_opts {
	const char *key;	 /* key column; NULL: inputs are numbered (cards: their id) */
	const char *const *keep; /* columns copied to the output (rows and texts) */
	size_t nkeep;
	const char *text_column;     /* text models: the column, overriding the model's */
	struct rec_opts rec;	     /* CSV/JSON reading */
	struct card_read_opts cards; /* INPUT_CARD: columns and limits */
	bool interactive;	     /* stdin is typed or trickles in: a batch ends when the input
				      * has nothing more at hand, so answers come as rows do */
	size_t row_offset; /* numbered inputs start at row_offset + 1 (a shard of a larger input) */
	bool by_position;  /* rows: the columns besides the key and kept ones are the features in
			    * order, whatever their names (a model of x0..xN from {"X": ...}) */
	bool frames_native; /* INPUT_POSE: frames at their own size, in colour (to draw on),
			     * not at the model's input size */
};

struct input_reader;

/* The class probabilities (m->k of them, into proba) of one card c for model id, as predict
 * would give them: the marking workflow's suggestions. DYN_EUSAGE when m does not read cards
 * or does not give classes. */
int input_predict_card(const struct model *m, const char *id, const struct card *c, double *proba,
		       struct err *e);

/* Opens the inputs (npaths 0: standard input) for model m, which must outlive the reader; the
 * first is opened at once, so that a missing column is an error before any output. o and its
 * strings are borrowed. *out owned by the caller: input_free. */
int input_open(struct input_reader **out, const struct model *m, const char *const *paths,
	       size_t npaths, const struct input_opts *o, struct err *e);
/* One literal text as the only input, without a key; a model that reads no texts is a
 * DYN_EUSAGE error naming it by id. */
int input_open_text(struct input_reader **out, const struct model *m, const char *id,
		    const char *text, struct err *e);
void input_free(struct input_reader **r);

/* Reads the next batch of up to max inputs: their count, 0 at the end, -1 on error (e names
 * file, line and column). The batch, keys and kept fields are valid until the next call. */
long input_next(struct input_reader *r, size_t max, struct err *e);
const struct batch *input_batch(const struct input_reader *r);

/* The key's column name, and input i's key: its text, or NULL when inputs are numbered (then
 * *num is the 1-based number across all inputs; a frame's is its 0-based index in its video).
 * A literal text has no key. */
const char *input_key_name(const struct input_reader *r);
const char *input_key(const struct input_reader *r, size_t i, size_t *num);
/* Frames (INPUT_POSE) from more than one video, or from pictures: the source of input i (its
 * key is then its frame index within that source, 0 for a picture); NULL otherwise. */
const char *input_source(const struct input_reader *r, size_t i);

/* The frame rate of the video input i comes from; 0 when unknown or a picture. */
double input_fps(const struct input_reader *r, size_t i);

/* The most frames a batch holds. */
#define INPUT_MAX_FRAMES 16

/* True when the first input is a service document ({"X": [...]}): answers take its shape. */
bool input_service_shape(const struct input_reader *r);
/* Kept field j of input i. */
const char *input_kept(const struct input_reader *r, size_t i, size_t j);

#endif
