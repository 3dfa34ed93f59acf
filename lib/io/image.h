/* Pictures decoded from memory (PNG, JPEG, BMP, TGA through stb_image) to 8-bit gray or RGB,
 * with the header checked before any pixel memory is allocated. */
#ifndef DYN_IO_IMAGE_H
#define DYN_IO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Pixels row by row from the top-left, channels bytes each (1 gray, 3 RGB). Embedded value:
 * img_init / img_release (frees px). */
struct img {
	size_t w, h;
	int channels;
	unsigned char *px;
};

/* Smaller or larger pictures are refused from their header, before decoding: a side under
 * IMG_MIN_SIDE pixels holds no card; more than IMG_MAX_PIXELS pixels (or a side over
 * IMG_MAX_SIDE) would take unbounded memory. */
#define IMG_MIN_SIDE   16
#define IMG_MAX_SIDE   20000
#define IMG_MAX_PIXELS ((size_t)50 * 1000 * 1000)

void img_init(struct img *im);
void img_release(struct img *im);

/* True when buf starts like a picture img_decode reads by its magic bytes (PNG, JPEG, BMP,
 * GIF is not one). TGA has no magic: it is known by name only. */
bool img_sniff(const void *buf, size_t len);
/* True when the name ends in .png, .jpg, .jpeg, .bmp or .tga (any case). */
bool img_name(const char *name);

/* The width and height a picture's header states, without decoding its pixels: the size check
 * of img_decode (a picture too small or too large is an error naming it) on buf[0..len), which
 * may be only the picture's first bytes (64 KiB hold the header of every usual file). */
int img_info(const void *buf, size_t len, size_t *w, size_t *h, const char *name, struct err *e);

/* Decodes buf[0..len) into im (released first) with channels 1 (gray) or 3 (RGB); an alpha
 * channel is composited over white. Errors (DYN_EDATA) name the picture (name): a corrupt or
 * unknown file with stb_image's reason, a picture too small or too large. */
int img_decode(struct img *im, const void *buf, size_t len, int channels, const char *name,
	       struct err *e);

/* The orientation tag (0x0112) of a JPEG's Exif segment (APP1): 1..8 as TIFF defines them
 * (1 upright, 3 turned 180 degrees, 6 to be turned 90 degrees clockwise to be upright, 8
 * counterclockwise; 2, 4, 5, 7 the same mirrored). 1 when buf is not a JPEG, has no Exif
 * segment, no such tag or a value out of range; a corrupt or truncated segment is read no
 * further than its own bytes (and buf's). */
int img_exif_orientation(const void *buf, size_t len);

/* Turns (and mirrors) im in place so that a picture whose Exif orientation is o shows
 * upright: for 5..8 width and height swap. o outside 1..8 is taken as 1 (nothing done). */
void img_orient(struct img *im, int o);

/* img_decode, then img_orient by the picture's Exif orientation: what a phone photo looks
 * like on screen. */
int img_decode_upright(struct img *im, const void *buf, size_t len, int channels, const char *name,
		       struct err *e);

#endif
