/* The table of model kinds: the only place that lists them. */
#include <stddef.h>

#include "models/model.h"

const struct model_kind *const model_kinds[] = {
	NULL,
};
