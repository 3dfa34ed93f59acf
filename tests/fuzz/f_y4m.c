/* Fuzz target: YUV4MPEG2 streams (header, FRAME lines, the planes of every colour space) read to
 * the end, gray or RGB, native or scaled. The magic is always put first, so FFmpeg is never
 * reached: input byte 0 chooses the options, the rest follows "YUV4MPEG2 ". */
#include "fuzz.h"
#include "base/base.h"
#include "vision/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	struct vid_opts o = VID_OPTS_INIT;
	struct vid_reader *r;
	struct vid_frame f;
	struct err e = ERR_INIT;
	const char *path;
	if (!size)
		return 0;
	o.pix = (enum vid_pix)(data[0] % 3);
	if (data[0] & 4)
		o.width = 1 + (size_t)(data[0] >> 3);
	strbuf_adds(&sb, "YUV4MPEG2 ");
	strbuf_add(&sb, data + 1, size - 1);
	path = fuzz_file((const uint8_t *)sb.buf, sb.len, "fuzz.y4m");
	if (path && vid_open(&r, path, &o, &e) == 0) {
		while (vid_next(r, &f, &e) == 1)
			;
		vid_free(&r);
	}
	strbuf_release(&sb);
	return 0;
}
