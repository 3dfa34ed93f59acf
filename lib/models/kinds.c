/* The table of model kinds: the only place that lists them. */
#include <stddef.h>

#include "models/model.h"
#include "models/svc.h"

const struct model_kind *const model_kinds[] = {
	&model_svc,
	NULL,
};
