/* Fuzz target: model files: the safetensors parser, then every kind's loader on what parses
 * (shapes, metadata, hyperparameters, classes). */
#include "fuzz.h"
#include "base/base.h"
#include "models/model.h"
#include "store/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_file f;
	struct model *m = NULL;
	struct err e = ERR_INIT;
	st_init(&f);
	if (st_parse(&f, data, size, &e) == 0)
		model_load(&m, &f, "fuzz.safetensors", &e);
	model_free(&m);
	st_release(&f);
	return 0;
}
