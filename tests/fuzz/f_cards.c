/* Fuzz target: card points files (CSV long or one-card, the JSON shapes), read and validated
 * like `dyn fit dynamogram` and `dyn mark import` read them, then normalized into a network's
 * inputs. The first byte picks the format. */
#include "fuzz.h"
#include "base/base.h"
#include "cards/norm.h"
#include "cards/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"c.csv", "c.json", "c.txt"};
	struct card_reader *r = NULL;
	struct card c;
	const char *path;
	float curve[CARD_CURVE_CHANNELS * 64], scalars[CARD_SCALARS], raster[16 * 16];
	if (size < 1)
		return 0;
	path = fuzz_file(data + 1, size - 1, names[data[0] % 3]);
	if (!path)
		return 0;
	card_init(&c);
	card_reader_open(&r, &path, 1, NULL);
	for (int n = 0; n < 10000; n++) {
		struct err e = ERR_INIT;
		int got = card_reader_next(r, &c, &e);
		if (got == 0)
			break;
		if (got > 0) {
			struct err ne = ERR_INIT;
			card_features(&c, 64, curve, 16, raster, scalars, &ne);
		}
	}
	card_release(&c);
	card_reader_free(&r);
	return 0;
}
