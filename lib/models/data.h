/* Loading training data for a kind's input (tabular columns or a text column) from records,
 * with classes, validation and a fingerprint of what was read. */
#ifndef DYN_MODELS_DATA_H
#define DYN_MODELS_DATA_H

#include "cards/read.h"
#include "io/records.h"
#include "models/model.h"

struct load_opts {
	const char *label;	 /* label column; NULL: "label", else "y" */
	const char *features;	 /* comma-separated feature columns; NULL: all but the label */
	const char *text_column; /* INPUT_TEXT: the text column; NULL: "text" */
	bool utf8_replace;	 /* INPUT_TEXT: invalid UTF-8 becomes U+FFFD instead of an error */
	struct rec_opts rec;
	struct card_read_opts cards; /* INPUT_CARD: columns (the label column from label) */
	bool one_class_ok;	     /* INPUT_CARD: one class is enough (new cards of a model) */
};

/* Reads every path (NULL or "-" is stdin) into ds (cards for INPUT_CARD, each with a marker);
 * features in the order given (or of the first file), labels interned and sorted (numerically when
 * all are numbers). Every file must have the features and the label. Errors name file, line and
 * column; fewer than two classes, or no rows, are errors. sha256 receives the hex digest of the
 * parsed data. */
int dataset_load(struct dataset *ds, enum input_kind input, const char *const *paths, size_t npaths,
		 const struct load_opts *o, char sha256[65], struct err *e);

/* The marked cards of the store's marking dataset (store: its directory), each labeled with
 * its markers (see markdb_labeled), into ds like dataset_load, for a model of kind (a kind that
 * does not read cards is a DYN_EUSAGE error); since (ISO 8601 UTC, or NULL) keeps the cards
 * marked after it. */
int dataset_load_marked(struct dataset *ds, const struct model_kind *kind, const char *store,
			const char *since, const struct load_opts *o, char sha256[65],
			struct err *e);

/* Gives ds the classes names[0..k) (a model's), renumbering its labels; a class of ds that is
 * not among them is a DYN_EUSAGE error naming it. */
int dataset_adopt_classes(struct dataset *ds, char *const *names, size_t k, struct err *e);

/* Sorts class names like dataset_load does and returns the permutation: order[i] is the old
 * index of the i-th class in sorted order. */
void classes_sort(char **classes, size_t k, size_t *order);

#endif
