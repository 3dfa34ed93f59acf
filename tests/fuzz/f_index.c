/* Fuzz target: the store's catalogue: index.json read through the strict JSON parser and the
 * store's checks, then each entry described as `dyn models ls/show` would. */
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "base/base.h"
#include "io/doc.h"
#include "models/stored.h"
#include "store/json_strict.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cJSON *doc = NULL, *index = NULL;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char store[300];
	if (store_json_parse((const char *)data, size, &doc, &e) == 0)
		doc_free(doc);
	if (!fuzz_dir())
		return 0;
	snprintf(store, sizeof(store), "%s/store", fuzz_dir());
	mkdir(store, 0700);
	if (!fuzz_file(data, size, "store/index.json"))
		return 0;
	if (store_open(&s, store, &e) == 0 && store_read_index(s, &index, &e) == 0) {
		for (size_t i = 0; i < doc_len(index, "models"); i++) {
			const char *id = doc_str(doc_at(index, "models", i), "id");
			struct err de = ERR_INIT;
			if (id)
				doc_free(model_describe(s, id, &de));
			store_entry_status(doc_at(index, "models", i));
		}
	}
	doc_free(index);
	store_free(&s);
	return 0;
}
