/* Picture decoding through stb_image, compiled here with its functions static (so that no
 * other copy, Debian's libstb included, can clash with it) and only the formats dyn reads. The
 * header is read first (stbi_info_from_memory) so that a picture claiming 40000x40000 pixels
 * is refused before stb_image allocates for it. */
#include <stdint.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_MAX_DIMENSIONS IMG_MAX_SIDE
#include "io/image.h"
/* stb_image declares functions it never defines (in the static build): the warning comes at
 * the end of the file, so it stays off for the whole of it. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#include <stb_image.h>
#pragma GCC diagnostic pop

#include "base/base.h"

void img_init(struct img *im)
{
	memset(im, 0, sizeof(*im));
}

void img_release(struct img *im)
{
	free(im->px);
	img_init(im);
}

bool img_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return true;
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return true;
	return len >= 14 && p[0] == 'B' && p[1] == 'M';
}

bool img_name(const char *name)
{
	static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga"};
	size_t len = strlen(name);
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t el = strlen(ext[i]);
		if (len > el && !strcasecmp(name + len - el, ext[i]))
			return true;
	}
	return false;
}

/* stb_image's reasons are short lowercase words ("bad png sig"): kept as they are. */
static int corrupt(const char *name, struct err *e)
{
	const char *why = stbi_failure_reason();
	return err_set(e, DYN_EDATA, "%s: corrupt or unsupported picture (%s)", name,
		       why ? why : "unknown reason");
}

int img_decode(struct img *im, const void *buf, size_t len, int channels, const char *name,
	       struct err *e)
{
	int w, h, comp, want;
	unsigned char *px;
	img_release(im);
	if (channels != 1 && channels != 3)
		return err_set(e, DYN_EUSAGE, "%s: %d channels (1 or 3)", name, channels);
	if (len > INT32_MAX)
		return err_set(e, DYN_EDATA, "%s: %zu bytes, too large a picture", name, len);
	if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp))
		return corrupt(name, e);
	if (w < IMG_MIN_SIDE || h < IMG_MIN_SIDE)
		return err_set(e, DYN_EDATA, "%s: %dx%d picture (at least %dx%d pixels are needed)",
			       name, w, h, IMG_MIN_SIDE, IMG_MIN_SIDE);
	if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || (size_t)w * (size_t)h > IMG_MAX_PIXELS)
		return err_set(e, DYN_EDATA,
			       "%s: %dx%d picture, over the limit of %zu pixels (%d a side)", name,
			       w, h, IMG_MAX_PIXELS, IMG_MAX_SIDE);
	/* With alpha, decode it too: transparent pixels are the background (white). */
	want = comp == 2 || comp == 4 ? 4 : channels;
	px = stbi_load_from_memory(buf, (int)len, &w, &h, &comp, want);
	if (!px)
		return corrupt(name, e);
	if (want == 4) {
		size_t n = (size_t)w * (size_t)h;
		unsigned char *out = xmallocarray(n, (size_t)channels);
		for (size_t i = 0; i < n; i++) {
			const unsigned char *p = px + 4 * i;
			unsigned a = p[3];
			unsigned rgb[3];
			for (int k = 0; k < 3; k++)
				rgb[k] = (p[k] * a + 255 * (255 - a) + 127) / 255;
			if (channels == 3) {
				for (int k = 0; k < 3; k++)
					out[3 * i + (size_t)k] = (unsigned char)rgb[k];
			} else {
				out[i] =
				    (unsigned char)((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >>
						    8);
			}
		}
		stbi_image_free(px);
		px = out;
	} else {
		/* stb_image allocates with malloc: hand over a copy owned as free() expects. */
		size_t bytes = (size_t)w * (size_t)h * (size_t)channels;
		unsigned char *out = xmalloc(bytes);
		memcpy(out, px, bytes);
		stbi_image_free(px);
		px = out;
	}
	im->w = (size_t)w;
	im->h = (size_t)h;
	im->channels = channels;
	im->px = px;
	return 0;
}
