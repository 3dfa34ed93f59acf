/* Synthetic training lines for the stamped-marking recognizer: article/serial text drawn from an
 * alphabet, rendered from system fonts (stb_truetype) as stamped, engraved or dot-peened metal. */
#ifndef DYN_OCR_SYNTH_H
#define DYN_OCR_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "io/image.h"

/* The characters a recognizer reads, in a fixed order (its class order after the CTC blank).
 * Embedded value: ocr_alphabet_init / ocr_alphabet_release (frees cp). */
struct ocr_alphabet {
	int32_t *cp; /* code points, no duplicates, in the order given */
	size_t n;
};

/* Digits, "- . /", space, Latin capitals A-Z, Cyrillic capitals А-Я and Ё: what stamped part
 * markings on the service's photos are made of. */
extern const char ocr_default_alphabet[];

void ocr_alphabet_init(struct ocr_alphabet *a);
void ocr_alphabet_release(struct ocr_alphabet *a);
/* Reads a UTF-8 string of characters (duplicates dropped; NULL: ocr_default_alphabet). Errors
 * (DYN_EUSAGE): invalid UTF-8, a control character, an empty alphabet, more than
 * OCR_ALPHABET_MAX characters. */
#define OCR_ALPHABET_MAX 512
int ocr_alphabet_parse(struct ocr_alphabet *a, const char *utf8, struct err *e);
/* Index of cp in a, or -1. */
long ocr_alphabet_index(const struct ocr_alphabet *a, int32_t cp);
/* 0 when every character of the UTF-8 text is in a; else -1 with an error (DYN_EDATA) naming
 * the first character that is not ("'Ж' (U+0416) is not in the alphabet"), what prefixing
 * it (a file name and line, a label). */
int ocr_alphabet_check(const struct ocr_alphabet *a, const char *text, const char *what,
		       struct err *e);

/* Labels for CTC: the alphabet index of each character of the UTF-8 text into idx (at most
 * cap of them; *n set), 0-based (a network that puts its blank at 0 adds 1). Errors
 * (DYN_EDATA, what prefixing): as ocr_alphabet_check, and a text longer than cap characters. */
int ocr_alphabet_encode(const struct ocr_alphabet *a, const char *text, int *idx, size_t cap,
			size_t *n, const char *what, struct err *e);
/* Appends the characters of alphabet indices idx[0..n) to out (an index out of range is
 * skipped): a decoded line's text. */
void ocr_alphabet_decode(const struct ocr_alphabet *a, const int *idx, size_t n,
			 struct strbuf *out);

/* Fonts tried when ocr_synth_opts.fonts is NULL: those of them that exist are used (Debian
 * packages fonts-dejavu-core, fonts-osifont, fonts-ocr-a, fonts-ocr-b and the Hershey stroke
 * fonts of hershey-fonts-data). NULL-terminated. A .jhf path is read as a Hershey font (glyphs
 * in ASCII order; files named cyrilc* hold А..Щ where A..Z are), any other as TrueType or
 * OpenType. */
extern const char *const ocr_default_fonts[];

struct ocr_synth_opts {
	int height;	      /* line image height in pixels; 0: 32 (range 16..128) */
	int max_width;	      /* widest line image; 0: 16 * height (range 2*height..8192) */
	const char *alphabet; /* UTF-8; NULL: ocr_default_alphabet */
	/* Font files (TrueType or OpenType) to draw from, nfonts of them; NULL: the defaults
	 * that are installed. A character a font lacks is drawn from the first font that has it,
	 * as mixed punch sets are on real parts. */
	const char *const *fonts;
	size_t nfonts;
	/* 0: clean dark text on a light background, no effects (tests, debugging); 1 (or any
	 * value in (0, 1]): each effect drawn at random, scaled by this. */
	double effects;
};

/* A generator: fonts loaded once, then any number of lines, each decided by its own seed.
 * Heap object: ocr_synth_new / ocr_synth_free. A const generator is only read by
 * ocr_synth_line and ocr_synth_render, so threads may share one.
 *
 * For training (dyn fit ocr): one generator for the run, with the model's alphabet and line
 * height; sample i of the synthetic set is ocr_synth_line(s, ocr_synth_seed(seed, i), ...),
 * made in whichever thread needs it (par_for): a line depends on its seed alone, so the
 * training set is the same for any thread count, and a held-out set is another run seed. */
struct ocr_synth;

/* Checks the options and loads the fonts. Errors: an option out of range or a bad alphabet
 * (DYN_EUSAGE); a font file missing or unreadable (DYN_EDATA, naming it); no default font
 * installed (DYN_ENOTFOUND, naming the paths tried and the packages); a character of the
 * alphabet no font draws (DYN_EDATA). *s is owned by the caller. */
int ocr_synth_new(struct ocr_synth **s, const struct ocr_synth_opts *o, struct err *e);
void ocr_synth_free(struct ocr_synth **s);

const struct ocr_alphabet *ocr_synth_alphabet(const struct ocr_synth *s);
size_t ocr_synth_nfonts(const struct ocr_synth *s);
/* The path of font i (owned by s). */
const char *ocr_synth_font_path(const struct ocr_synth *s, size_t i);
/* True when font i draws cp itself (not through a fallback font). */
bool ocr_synth_font_has(const struct ocr_synth *s, size_t i, int32_t cp);

/* The seed of sample index of the synthetic set of run seed run: the two mixed through
 * splitmix64, so that neighbouring indices and runs give unrelated lines. */
uint64_t ocr_synth_seed(uint64_t run, uint64_t index);

/* The text of a marking line drawn from seed alone: an article (letter prefix, digit groups
 * joined by '.', '-' or '/') and mostly a serial after a space, or now and then characters of
 * the alphabet at random, so that every class is seen. Every character is in the alphabet; no
 * leading, trailing or double space; at most OCR_SYNTH_MAX_CHARS characters. Appended to
 * out. */
#define OCR_SYNTH_MAX_CHARS 32
void ocr_synth_text(const struct ocr_synth *s, uint64_t seed, struct strbuf *out);

/* A line image (1 channel, height o.height, width in [height, o.max_width]) and its text
 * (UTF-8, owned by the caller: free()), both decided by seed alone: the same seed gives the
 * same bytes on every run and thread count. im is released first. For training: seed =
 * hash of (run seed, sample index). */
int ocr_synth_line(const struct ocr_synth *s, uint64_t seed, struct img *im, char **text,
		   struct err *e);
/* Renders the given text (UTF-8, characters of the alphabet, at most OCR_SYNTH_MAX_CHARS)
 * with font `font` (an index below ocr_synth_nfonts, or -1: chosen by seed) and effects from
 * seed. Errors (DYN_EUSAGE): a character outside the alphabet, text too long, font out of
 * range. */
int ocr_synth_render(const struct ocr_synth *s, uint64_t seed, const char *text, long font,
		     struct img *im, struct err *e);

/* A gray or RGB image as PNG bytes (stb_image_write), appended to out; name is for messages. */
int ocr_png_encode(const struct img *im, struct strbuf *out, const char *name, struct err *e);
/* Writes a gray or RGB image as PNG (stb_image_write), for looking at samples. */
int ocr_png_write(const struct img *im, const char *path, struct err *e);

#endif
