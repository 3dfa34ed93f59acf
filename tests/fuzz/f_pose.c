/* Fuzz target: pose labels files, DeepLabCut's CSV with its header rows and COCO keypoints JSON,
 * read as `dyn fit keypoints` will read them, beside a 16x16 picture a.png that rows may name.
 * The first byte picks the format. SLEAP files are not fuzzed here: their parsing is libhdf5's. */
#include "fuzz.h"
#include "base/base.h"
#include "vision/pose.h"

static const unsigned char png16[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a,
    0x98, 0xa0, 0xbd, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x6c,
    0x60, 0x40, 0x05, 0x4c, 0x0c, 0x23, 0x5a, 0x00, 0x00, 0x99, 0x90, 0x00, 0xa0, 0x50, 0xc8,
    0x42, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"CollectedData_f.csv", "k.json"};
	static bool picture;
	struct pose_dataset *ds = NULL;
	struct err e = ERR_INIT;
	const char *path;
	if (size < 1)
		return 0;
	if (!picture && fuzz_file(png16, sizeof(png16), "a.png"))
		picture = true;
	path = fuzz_file(data + 1, size - 1, names[data[0] % 2]);
	if (!path)
		return 0;
	if (pose_load(&ds, path, NULL, &e) == 0) {
		struct img im;
		img_init(&im);
		for (size_t i = 0; i < ds->nframes && i < 4; i++)
			pose_frame_image(ds, i, 1, &im, &e);
		img_release(&im);
		pose_free(&ds);
	}
	return 0;
}
