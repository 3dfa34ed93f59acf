/* Fuzz target: the record reader (CSV, JSON, NDJSON; the services' {"X": ...} shape) and its
 * number parsing. The first byte picks the format; the rest is the file. */
#include "fuzz.h"
#include "base/base.h"
#include "io/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"in.csv", "in.json", "in.ndjson", "in.tsv"};
	struct rec_reader *r = NULL;
	struct rec_opts o = {0};
	struct err e = ERR_INIT;
	const char *path;
	if (size < 1)
		return 0;
	path = fuzz_file(data + 1, size - 1, names[data[0] % 4]);
	if (!path || rec_open(&r, path, &o, &e) < 0)
		return 0;
	for (int rows = 0; rows < 100000 && rec_next(r, &e) > 0; rows++)
		for (size_t i = 0; i < rec_ncols(r); i++) {
			double v;
			struct err ne = ERR_INIT;
			rec_number(r, i, &v, &ne);
		}
	rec_free(&r);
	return 0;
}
