/* Hyperparameters: each model kind declares a table of them; values are validated against it
 * before any work (name, type, range), whether they come from options, --params or --grid. */
#ifndef DYN_MODELS_PARAMS_H
#define DYN_MODELS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

struct cJSON;

enum param_type {
	PARAM_NUM,    /* a real number in [min, max] (open ends by flags) */
	PARAM_INT,    /* an integer in [min, max] */
	PARAM_CHOICE, /* one of choices ("a|b|c") */
	PARAM_BOOL,   /* true/false */
	PARAM_STRING, /* any text of at most max bytes (an OCR model's alphabet) */
};

enum param_flags {
	PARAM_MIN_OPEN = 1 << 0,  /* value > min rather than >= */
	PARAM_OR_CHOICE = 1 << 1, /* a number, or one of choices (e.g. gamma: scale|auto|X) */
	PARAM_HIDDEN = 1 << 2,	  /* accepted (for the services' configs) but not shown as option */
};

struct param_spec {
	const char *name;
	enum param_type type;
	const char *def; /* default value as text */
	double min, max;
	unsigned flags;
	const char *choices;
	const char *help;
};

struct param_value {
	int choice; /* index in choices, or -1 for a number */
	double num;
	char *str; /* PARAM_STRING's value (owned) */
};

/* Values of all params of one kind, in the spec's order. Embedded value: params_init /
 * params_release. spec is borrowed (a static table). */
struct params {
	const struct param_spec *spec;
	size_t n;
	struct param_value *v;
};

/* Initialises p to the defaults of spec (terminated by an entry with name NULL). */
void params_init(struct params *p, const struct param_spec *spec);
void params_release(struct params *p);
void params_copy(struct params *dst, const struct params *src);

/* Sets name to the value in text. Errors (DYN_EUSAGE) name the parameter and what is allowed:
 *   hyperparameter "C": expected a number > 0, got "-1"
 *   unknown hyperparameter "gama" for logreg (known: C, penalty, ...) */
int params_set(struct params *p, const char *kind, const char *name, const char *text,
	       struct err *e);
/* Applies a JSON object ({"C": 10, "kernel": "rbf"}) given as text; same validation. */
int params_set_json(struct params *p, const char *kind, const char *json, struct err *e);
/* The same, also taking the services' "test_fraction" (the held-out share, which is not a
 * hyperparameter) into *test_fraction when it is there; test_fraction NULL: params_set_json.
 * Keys the services named otherwise (the SLEAP service's num_epochs, learning_rate...) are
 * read as the dyn names they mean; a null value keeps the default. */
int params_set_json_common(struct params *p, const char *kind, const char *json,
			   double *test_fraction, struct err *e);

const struct param_spec *params_find(const struct param_spec *spec, const char *name);
double params_num(const struct params *p, const char *name);
/* The choice index of name, or -1 when it holds a number. */
int params_choice(const struct params *p, const char *name);
/* A PARAM_STRING's value (owned by p), or NULL when name is not one. */
const char *params_str(const struct params *p, const char *name);
/* The value as text ("0.1", "rbf", "true"). */
void params_value_text(const struct params *p, size_t i, struct strbuf *out);
/* A cJSON object of all values (caller owns: cJSON_Delete). */
struct cJSON *params_to_json(const struct params *p);

/* A hyperparameter grid ("C=0.1,1,10 gamma=scale,0.01"): a cartesian product of values, each
 * validated. Embedded value: grid_init / grid_release. */
struct param_grid {
	size_t naxes;
	char **names;
	char ***values; /* values[a][0..nvalues[a]) */
	size_t *nvalues;
};
void grid_init(struct param_grid *g);
void grid_release(struct param_grid *g);
int grid_parse(struct param_grid *g, const struct params *base, const char *kind, const char *text,
	       struct err *e);
size_t grid_size(const struct param_grid *g);
/* Sets p to the i-th point of the grid (0 <= i < grid_size). */
int grid_point(const struct param_grid *g, size_t i, struct params *p, const char *kind,
	       struct err *e);

#endif
