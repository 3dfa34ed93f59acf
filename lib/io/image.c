/* Picture decoding through stb_image, compiled here with its functions static (so that no
 * other copy, Debian's libstb included, can clash with it) and only the formats dyn reads. The
 * header is read first (stbi_info_from_memory) so that a picture claiming 40000x40000 pixels
 * is refused before stb_image allocates for it. */
#include <stdbool.h>
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
/* stb_image's buffers of a phone photo are tens of MiB: on huge pages their first touch
 * costs a tenth of the page faults (0.1 s less for a 12-megapixel photo here) */
#define STBI_MALLOC(sz)	    img_stbi_malloc(sz)
#define STBI_REALLOC(p, sz) realloc(p, sz)
#define STBI_FREE(p)	    free(p)
#include <stdlib.h>

#include "base/mem.h"
#include "io/image.h"

static void *img_stbi_malloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		mem_advise_huge(p, n);
	return p;
}

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

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The size a PNG, BMP or JPEG header states, read here because stb_image's own header reader
 * refuses a very large picture with the same reason as an unknown one: 0, or -1 when the
 * header is not one of these (stb_image then decides). */
static int header_size(const unsigned char *p, size_t len, uint64_t *w, uint64_t *h)
{
	if (len >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8) && !memcmp(p + 12, "IHDR", 4)) {
		*w = be32(p + 16);
		*h = be32(p + 20);
		return 0;
	}
	if (len >= 26 && p[0] == 'B' && p[1] == 'M' && le32(p + 14) >= 40) {
		int32_t sh = (int32_t)le32(p + 22);
		*w = (uint32_t)(int32_t)le32(p + 18) > INT32_MAX ? 0 : le32(p + 18);
		/* A negative height is a top-down bitmap. */
		*h = sh < 0 ? (uint64_t)(-(int64_t)sh) : (uint64_t)sh;
		return 0;
	}
	if (len >= 4 && p[0] == 0xff && p[1] == 0xd8) {
		size_t i = 2;
		while (i + 4 <= len) {
			unsigned m;
			size_t seg;
			if (p[i] != 0xff)
				return -1;
			m = p[i + 1];
			if (m == 0xff) {
				i++;
				continue;
			}
			if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
				i += 2;
				continue;
			}
			seg = (size_t)p[i + 2] << 8 | p[i + 3];
			if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
				if (i + 9 > len || seg < 7)
					return -1;
				*h = (uint64_t)p[i + 5] << 8 | p[i + 6];
				*w = (uint64_t)p[i + 7] << 8 | p[i + 8];
				return 0;
			}
			if (seg < 2)
				return -1;
			i += 2 + seg;
		}
	}
	return -1;
}

static int size_check(uint64_t w, uint64_t h, const char *name, struct err *e)
{
	if (w < IMG_MIN_SIDE || h < IMG_MIN_SIDE)
		return err_set(
		    e, DYN_EDATA, "%s: %llux%llu picture (at least %dx%d pixels are needed)", name,
		    (unsigned long long)w, (unsigned long long)h, IMG_MIN_SIDE, IMG_MIN_SIDE);
	if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || w * h > IMG_MAX_PIXELS)
		return err_set(e, DYN_EDATA,
			       "%s: %llux%llu picture, over the limit of %zu pixels (%d a side)",
			       name, (unsigned long long)w, (unsigned long long)h, IMG_MAX_PIXELS,
			       IMG_MAX_SIDE);
	return 0;
}

/* stb_image's reasons are short lowercase words ("bad png sig"): kept as they are. */
static int corrupt(const char *name, struct err *e)
{
	const char *why = stbi_failure_reason();
	return err_set(e, DYN_EDATA, "%s: corrupt or unsupported picture (%s)", name,
		       why ? why : "unknown reason");
}

/* stb_image 2.27 (Debian 12's) writes past its Huffman tables when the 16 code counts of a
 * DHT segment add up to more than 256 (found by tests/fuzz/f_image; upstream checks it since
 * 2.28): such a JPEG is refused before stb_image reads it. Walks the marker segments, and the
 * entropy-coded data between scans, where a progressive JPEG defines more tables. */
static bool jpeg_tables_ok(const unsigned char *p, size_t len)
{
	size_t i = 2;
	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return true;
	while (i + 4 <= len) {
		unsigned m = p[i + 1];
		size_t seg;
		if (p[i] != 0xFF || m == 0xFF) {
			i++; /* entropy-coded data, or a fill byte before a marker */
			continue;
		}
		if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			i += 2; /* a stuffed zero, TEM, RSTn: no length */
			continue;
		}
		if (m == 0xD9)
			break;
		seg = (size_t)p[i + 2] << 8 | p[i + 3];
		if (m == 0xC4) {
			size_t j = i + 4, end = i + 2 + seg < len ? i + 2 + seg : len;
			while (j + 17 <= end) {
				unsigned n = 0;
				for (size_t k = 1; k <= 16; k++)
					n += p[j + k];
				if (n > 256)
					return false;
				j += 17 + n;
			}
		}
		i += 2 + seg;
	}
	return true;
}

int img_info(const void *buf, size_t len, size_t *w, size_t *h, const char *name, struct err *e)
{
	uint64_t hw, hh;
	int iw, ih, comp;
	if (header_size(buf, len, &hw, &hh) < 0) {
		if (len > INT32_MAX || !stbi_info_from_memory(buf, (int)len, &iw, &ih, &comp))
			return corrupt(name, e);
		hw = (uint64_t)iw;
		hh = (uint64_t)ih;
	}
	if (size_check(hw, hh, name, e) < 0)
		return -1;
	*w = (size_t)hw;
	*h = (size_t)hh;
	return 0;
}

int img_decode(struct img *im, const void *buf, size_t len, int channels, const char *name,
	       struct err *e)
{
	int w, h, comp, want;
	uint64_t hw, hh;
	unsigned char *px;
	img_release(im);
	if (channels != 1 && channels != 3)
		return err_set(e, DYN_EUSAGE, "%s: %d channels (1 or 3)", name, channels);
	if (len > INT32_MAX)
		return err_set(e, DYN_EDATA, "%s: %zu bytes, too large a picture", name, len);
	if (header_size(buf, len, &hw, &hh) == 0 && size_check(hw, hh, name, e) < 0)
		return -1;
	if (!jpeg_tables_ok(buf, len))
		return err_set(
		    e, DYN_EDATA,
		    "%s: corrupt or unsupported picture (a Huffman table of more than 256 "
		    "codes)",
		    name);
	if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp))
		return corrupt(name, e);
	if (size_check((uint64_t)w, (uint64_t)h, name, e) < 0)
		return -1;
	/* With alpha, decode it too: transparent pixels are the background (white). */
	want = comp == 2 || comp == 4 ? 4 : channels;
	px = stbi_load_from_memory(buf, (int)len, &w, &h, &comp, want);
	if (!px)
		return corrupt(name, e);
	if (want == 4) {
		size_t n = (size_t)w * (size_t)h;
		unsigned char *out = xmallocarray(n, (size_t)channels);
		mem_advise_huge(out, n * (size_t)channels);
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
	}
	/* otherwise px is stb_image's own, from malloc (STBI_MALLOC above): the image owns it as
	 * it owns any buffer, and frees it with free() */
	im->w = (size_t)w;
	im->h = (size_t)h;
	im->channels = channels;
	im->px = px;
	return 0;
}

static uint32_t tiff_u16(const unsigned char *p, bool be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t tiff_u32(const unsigned char *p, bool be)
{
	return be ? be32(p) : le32(p);
}

/* The orientation in a TIFF structure t[0..n) (an Exif segment after its "Exif\0\0"): IFD0's
 * entry 0x0112, a SHORT whose value sits in the entry itself. 0 when absent or malformed.
 * Every offset read from the data is checked against n before it is followed. */
static int tiff_orientation(const unsigned char *t, size_t n)
{
	bool be;
	uint32_t ifd, count;
	if (n < 8)
		return 0;
	if (t[0] == 'I' && t[1] == 'I')
		be = false;
	else if (t[0] == 'M' && t[1] == 'M')
		be = true;
	else
		return 0;
	if (tiff_u16(t + 2, be) != 42)
		return 0;
	ifd = tiff_u32(t + 4, be);
	if (ifd < 8 || ifd > n - 2)
		return 0;
	count = tiff_u16(t + ifd, be);
	for (uint32_t k = 0; k < count; k++) {
		size_t at = (size_t)ifd + 2 + 12 * (size_t)k;
		uint32_t v;
		if (at + 12 > n)
			return 0;
		if (tiff_u16(t + at, be) != 0x0112)
			continue;
		/* type SHORT (3), one value, left-justified in the 4-byte value field */
		if (tiff_u16(t + at + 2, be) != 3 || tiff_u32(t + at + 4, be) != 1)
			return 0;
		v = tiff_u16(t + at + 8, be);
		return v >= 1 && v <= 8 ? (int)v : 0;
	}
	return 0;
}

int img_exif_orientation(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i = 2;
	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return 1;
	/* Exif sits among the segments before the first frame or scan: the walk stops there */
	while (i + 4 <= len) {
		unsigned m = p[i + 1];
		size_t seg;
		if (p[i] != 0xFF)
			return 1;
		if (m == 0xFF) {
			i++;
			continue;
		}
		if (m == 0xD9 || m == 0xDA ||
		    (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC))
			return 1;
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
			i += 2;
			continue;
		}
		seg = (size_t)p[i + 2] << 8 | p[i + 3];
		if (seg < 2)
			return 1;
		if (m == 0xE1 && seg >= 8 && i + 10 <= len && !memcmp(p + i + 4, "Exif\0\0", 6)) {
			size_t end = i + 2 + seg < len ? i + 2 + seg : len;
			int o = tiff_orientation(p + i + 10, end - (i + 10));
			if (o)
				return o;
		}
		i += 2 + seg;
	}
	return 1;
}

void img_orient(struct img *im, int o)
{
	size_t w = im->w, h = im->h, c = (size_t)im->channels, ow, oh;
	ptrdiff_t W = (ptrdiff_t)w, H = (ptrdiff_t)h, base, ix, iy;
	unsigned char *out;
	if (o < 2 || o > 8 || !im->px || !w || !h || (c != 1 && c != 3))
		return;
	/* the stored pixel that shows at (x, y) once upright is base + x ix + y iy */
	switch (o) {
	case 2: /* mirrored */
		base = W - 1, ix = -1, iy = W;
		break;
	case 3: /* turned 180 degrees */
		base = (H - 1) * W + W - 1, ix = -1, iy = -W;
		break;
	case 4: /* mirrored upside down */
		base = (H - 1) * W, ix = 1, iy = -W;
		break;
	case 5: /* transposed */
		base = 0, ix = W, iy = 1;
		break;
	case 6: /* to be turned clockwise */
		base = (H - 1) * W, ix = -W, iy = 1;
		break;
	case 7: /* transposed across the other diagonal */
		base = (H - 1) * W + W - 1, ix = -W, iy = -1;
		break;
	default: /* to be turned counterclockwise */
		base = W - 1, ix = W, iy = -1;
		break;
	}
	ow = o >= 5 ? h : w;
	oh = o >= 5 ? w : h;
	out = xmallocarray(w * h, c);
	mem_advise_huge(out, w * h * c);
	/* in tiles of 64x64: turning by 90 degrees reads the stored picture down its columns,
	 * which a tile keeps within the cache (a 12-megapixel photo turns 5 times faster) */
	for (size_t ty = 0; ty < oh; ty += 64)
		for (size_t tx = 0; tx < ow; tx += 64) {
			size_t ey = ty + 64 < oh ? ty + 64 : oh, ex = tx + 64 < ow ? tx + 64 : ow;
			for (size_t y = ty; y < ey; y++) {
				unsigned char *d = out + (y * ow + tx) * c;
				ptrdiff_t i = base + (ptrdiff_t)y * iy + (ptrdiff_t)tx * ix;
				if (c == 1) {
					for (size_t x = tx; x < ex; x++, i += ix)
						*d++ = im->px[i];
				} else {
					for (size_t x = tx; x < ex; x++, i += ix, d += 3) {
						const unsigned char *q = im->px + i * 3;
						d[0] = q[0];
						d[1] = q[1];
						d[2] = q[2];
					}
				}
			}
		}
	free(im->px);
	im->px = out;
	im->w = ow;
	im->h = oh;
}

int img_decode_upright(struct img *im, const void *buf, size_t len, int channels, const char *name,
		       struct err *e)
{
	if (img_decode(im, buf, len, channels, name, e) < 0)
		return -1;
	img_orient(im, img_exif_orientation(buf, len));
	return 0;
}
