/* Fuzz target: compressed files and archives (gzip, xz, zstd, bzip2; zip, tar, 7z) through
 * libarchive and dyn's member checks and bomb limits, each member read to its end. */
#include "fuzz.h"
#include "base/base.h"
#include "io/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream *s = NULL;
	struct err e = ERR_INIT;
	char buf[65536];
	const char *path = fuzz_file(data, size, "in.bin");
	if (!path || stream_open(&s, path, &e) < 0)
		return 0;
	stream_set_limits(s, 64 << 20, 0);
	if (stream_is_archive(s)) {
		const char *name;
		for (int m = 0; m < 1000 && stream_next_member(s, &name, &e) > 0; m++)
			while (stream_read(s, buf, sizeof(buf), &e) > 0)
				;
	} else {
		while (stream_read(s, buf, sizeof(buf), &e) > 0)
			;
	}
	stream_free(&s);
	return 0;
}
