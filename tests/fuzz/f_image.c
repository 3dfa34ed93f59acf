/* Fuzz target: pictures: stb_image decoding with dyn's limits (size checked before
 * allocating), then the curve's extraction from the pixels. */
#include "fuzz.h"
#include "base/base.h"
#include "cards/extract.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img im;
	struct card c;
	struct err e = ERR_INIT;
	img_init(&im);
	card_init(&c);
	if (img_decode(&im, data, size, 3, "fuzz.png", &e) == 0)
		card_extract(&im, "fuzz.png", &c, &e);
	card_release(&c);
	img_release(&im);
	return 0;
}
