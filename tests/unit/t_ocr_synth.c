/* Unit tests of the synthetic marking lines (lib/ocr/synth): determinism from the seed, glyph ink
 * for every character with every font, texts within the alphabet, sizes, font errors.
 * OCR_SYNTH_DUMP=DIR writes samples there as PNG (a look at what training sees). */
#include <unistd.h>

#include <utf8proc.h>

#include "base/base.h"
#include "ocr/synth.h"
#include "check.h"

static bool in_alphabet(const struct ocr_alphabet *a, const char *t)
{
	struct err e = ERR_INIT;
	return ocr_alphabet_check(a, t, "t", &e) == 0;
}

static void dump(const struct ocr_synth *s, const char *dir, int n)
{
	struct err e = ERR_INIT;
	struct img im;
	img_init(&im);
	for (int i = 0; i < n; i++) {
		char path[4096], *text = NULL;
		if (ocr_synth_line(s, 1000 + (uint64_t)i, &im, &text, &e) < 0)
			break;
		snprintf(path, sizeof(path), "%s/synth%03d.png", dir, i);
		if (ocr_png_write(&im, path, &e) < 0)
			fprintf(stderr, "%s\n", e.msg);
		else
			printf("# %s %zux%zu \"%s\"\n", path, im.w, im.h, text);
		free(text);
	}
	img_release(&im);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = xmalloc((size_t)n);
		*len = fread(buf, 1, (size_t)n, f);
	}
	fclose(f);
	return buf;
}

/* Darkest pixel of a clean rendering (dark text on light ground). */
static int darkest(const struct img *im)
{
	int m = 255;
	for (size_t i = 0; i < im->w * im->h; i++)
		if (im->px[i] < m)
			m = im->px[i];
	return m;
}

int main(void)
{
	struct ocr_synth_opts o = {.effects = 1};
	struct ocr_synth *s = NULL, *clean = NULL;
	struct err e = ERR_INIT;
	struct img a, b;
	char *ta = NULL, *tb = NULL;

	img_init(&a);
	img_init(&b);
	check(ocr_synth_new(&s, &o, &e) == 0, "default fonts load: %s", e.msg);
	if (!s)
		return check_done();
	check(ocr_synth_nfonts(s) >= 2, "at least two default fonts (%zu)", ocr_synth_nfonts(s));
	for (size_t i = 0; i < ocr_synth_nfonts(s); i++)
		printf("# font %zu: %s\n", i, ocr_synth_font_path(s, i));
	{
		const char *dir = getenv("OCR_SYNTH_DUMP");
		if (dir)
			dump(s, dir, 40);
	}

	/* CTC labels and back */
	{
		const struct ocr_alphabet *ab = ocr_synth_alphabet(s);
		int idx[8];
		size_t n = 0;
		struct strbuf back = STRBUF_INIT;
		check(ocr_alphabet_encode(ab, "АМ1.7 Z", idx, 8, &n, "label", &e) == 0 && n == 7 &&
			  idx[2] == 1 && idx[3] == 11 && idx[4] == 7 && idx[5] == 13,
		      "encode to alphabet indices");
		ocr_alphabet_decode(ab, idx, n, &back);
		check(!strcmp(back.buf, "АМ1.7 Z"), "decode gives the text back (%s)", back.buf);
		check(ocr_alphabet_encode(ab, "АМж", idx, 8, &n, "x.csv:3", &e) < 0 &&
			  !strcmp(e.msg, "x.csv:3: 'ж' (U+0436) is not in the alphabet"),
		      "a label outside the alphabet: %s", e.msg);
		check(ocr_alphabet_encode(ab, "123456789", idx, 8, &n, "l", &e) < 0 &&
			  strstr(e.msg, "longer than 8"),
		      "a label too long: %s", e.msg);
		check(ocr_synth_seed(1, 0) != ocr_synth_seed(1, 1) &&
			  ocr_synth_seed(1, 0) != ocr_synth_seed(2, 0) &&
			  ocr_synth_seed(7, 9) == ocr_synth_seed(7, 9),
		      "sample seeds");
		strbuf_release(&back);
	}

	/* PNG written reads back */
	{
		char path[4200];
		struct img back;
		size_t len = 0;
		char *buf;
		img_init(&back);
		snprintf(path, sizeof(path), "%s/t_ocr_synth.%d.png",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
		check(ocr_synth_line(s, 5, &a, &ta, &e) == 0 && ocr_png_write(&a, path, &e) == 0,
		      "write a PNG: %s", e.msg);
		buf = slurp(path, &len);
		check(buf && img_decode(&back, buf, len, 1, path, &e) == 0 && back.w == a.w &&
			  back.h == a.h && !memcmp(back.px, a.px, a.w * a.h),
		      "the PNG reads back to the same pixels");
		free(buf);
		free(ta);
		ta = NULL;
		unlink(path);
		img_release(&back);
		check(ocr_png_write(&a, "/nonexistent/dir/x.png", &e) < 0 && e.code == DYN_EDATA &&
			  strstr(e.msg, "\"/nonexistent/dir/x.png\""),
		      "an unwritable PNG path: %s", e.msg);
	}

	/* determinism */
	check(ocr_synth_line(s, 42, &a, &ta, &e) == 0, "line 42: %s", e.msg);
	check(ocr_synth_line(s, 42, &b, &tb, &e) == 0, "line 42 again");
	check(a.w == b.w && a.h == b.h && !memcmp(a.px, b.px, a.w * a.h) && !strcmp(ta, tb),
	      "same seed, same bytes and text (\"%s\")", ta);
	free(tb);
	tb = NULL;
	{
		int differ = 0;
		for (uint64_t sd = 43; sd < 48; sd++) {
			check(ocr_synth_line(s, sd, &b, &tb, &e) == 0, "line %llu",
			      (unsigned long long)sd);
			if (b.w != a.w || memcmp(a.px, b.px, a.w * a.h))
				differ++;
			free(tb);
			tb = NULL;
		}
		check(differ == 5, "different seeds, different images (%d of 5)", differ);
	}
	{
		struct strbuf t1 = STRBUF_INIT;
		ocr_synth_text(s, 42, &t1);
		check(!strcmp(t1.buf, ta), "ocr_synth_text gives the line's text (\"%s\")", t1.buf);
		strbuf_release(&t1);
	}

	/* many lines: texts in the alphabet, no stray spaces, bounded sizes; patterns seen */
	{
		int bad_text = 0, bad_size = 0, spaced = 0, dotted = 0, dashed = 0, cyr = 0;
		size_t maxw = 0;
		for (uint64_t sd = 0; sd < 300; sd++) {
			char *t = NULL;
			size_t len, nchars = 0;
			if (ocr_synth_line(s, sd * 7919, &b, &t, &e) < 0) {
				bad_text++;
				continue;
			}
			len = strlen(t);
			for (size_t i = 0; i < len; i++)
				nchars += ((unsigned char)t[i] & 0xc0) != 0x80;
			if (!in_alphabet(ocr_synth_alphabet(s), t) || !len || t[0] == ' ' ||
			    t[len - 1] == ' ' || strstr(t, "  ") || nchars > OCR_SYNTH_MAX_CHARS)
				bad_text++;
			if (b.h != 32 || b.w < 32 || b.w > 16 * 32 || b.channels != 1)
				bad_size++;
			maxw = b.w > maxw ? b.w : maxw;
			spaced += strchr(t, ' ') != NULL;
			dotted += strchr(t, '.') != NULL;
			dashed += strchr(t, '-') != NULL;
			cyr += (unsigned char)t[0] == 0xd0; /* starts with a Cyrillic capital */
			free(t);
		}
		check(bad_text == 0, "300 texts within the alphabet, no stray spaces (%d bad)",
		      bad_text);
		check(bad_size == 0, "300 images 32 high, 32..512 wide (%d bad, widest %zu)",
		      bad_size, maxw);
		check(
		    spaced > 150 && dotted > 50 && dashed > 50 && cyr > 30,
		    "article/serial patterns: %d with a serial, %d dotted, %d dashed, %d Cyrillic "
		    "prefixes",
		    spaced, dotted, dashed, cyr);
	}

	/* every character of the default alphabet leaves ink with every font */
	o.effects = 0;
	check(ocr_synth_new(&clean, &o, &e) == 0, "clean generator: %s", e.msg);
	if (clean) {
		const struct ocr_alphabet *ab = ocr_synth_alphabet(clean);
		int blank = 0, own = 0;
		for (size_t f = 0; f < ocr_synth_nfonts(clean); f++)
			for (size_t i = 0; i < ab->n; i++) {
				char u[8] = {0};
				if (ab->cp[i] == ' ')
					continue;
				utf8proc_encode_char(ab->cp[i], (utf8proc_uint8_t *)u);
				if (ocr_synth_render(clean, 1, u, (long)f, &b, &e) < 0 ||
				    darkest(&b) > 128) {
					printf("# no ink: '%s' with %s\n", u,
					       ocr_synth_font_path(clean, f));
					blank++;
				}
				own += ocr_synth_font_has(clean, f, ab->cp[i]);
			}
		check(blank == 0, "every character inks with every font (%d blank)", blank);
		check(own > 0, "fonts draw characters themselves (%d)", own);
		for (size_t f = 0; f < ocr_synth_nfonts(clean); f++)
			if (strstr(ocr_synth_font_path(clean, f), "osifont"))
				/* osifont maps Ё and Э to a box: they come from another font */
				check(!ocr_synth_font_has(clean, f, 0x0401) &&
					  !ocr_synth_font_has(clean, f, 0x042D) &&
					  ocr_synth_font_has(clean, f, 0x0416),
				      "a font's box glyphs are not taken for letters");
		check(ocr_synth_render(clean, 1, "AB", 99, &b, &e) < 0 && e.code == DYN_EUSAGE,
		      "font index out of range: %s", e.msg);
		check(ocr_synth_render(clean, 1, "ABw", -1, &b, &e) < 0 && e.code == DYN_EUSAGE &&
			  strstr(e.msg, "'w'"),
		      "a character outside the alphabet: %s", e.msg);
		check(ocr_synth_render(clean, 1, "012345678901234567890123456789012", -1, &b, &e) <
			      0 &&
			  strstr(e.msg, "longer"),
		      "text too long: %s", e.msg);
		/* a space is as light as the ground */
		check(ocr_synth_render(clean, 1, " ", 0, &b, &e) == 0 && darkest(&b) > 200,
		      "a space leaves no ink");
		ocr_synth_free(&clean);
	}

	/* no text longer than a label may be: patterns reach 35 characters about 34 times in a
	 * million seeds (a training of 45 minutes drew one and failed) */
	{
		long over = 0, longest = 0;
		for (uint64_t sd = 0; sd < 400000; sd++) {
			struct strbuf t = STRBUF_INIT;
			long n = 0;
			ocr_synth_text(s, sd, &t);
			for (size_t i = 0; i < t.len; i++)
				n += (t.buf[i] & 0xC0) != 0x80;
			over += n > OCR_SYNTH_MAX_CHARS;
			longest = n > longest ? n : longest;
			strbuf_release(&t);
		}
		check(over == 0 && longest >= 28,
		      "400,000 texts: none longer than %d characters (%ld were; longest %ld)",
		      OCR_SYNTH_MAX_CHARS, over, longest);
	}

	/* a custom alphabet: digits only; every text stays in it */
	o.alphabet = "0123456789";
	o.effects = 1;
	check(ocr_synth_new(&clean, &o, &e) == 0, "digits-only alphabet");
	if (clean) {
		int bad = 0;
		for (uint64_t sd = 0; sd < 50; sd++) {
			struct strbuf t = STRBUF_INIT;
			ocr_synth_text(clean, sd, &t);
			bad += !in_alphabet(ocr_synth_alphabet(clean), t.buf) || !t.len;
			strbuf_release(&t);
		}
		check(bad == 0, "digits-only texts (%d bad)", bad);
		ocr_synth_free(&clean);
	}
	o.alphabet = NULL;

	/* size options */
	o.height = 48;
	o.max_width = 200;
	check(ocr_synth_new(&clean, &o, &e) == 0, "height 48, max width 200");
	if (clean) {
		int bad = 0;
		for (uint64_t sd = 0; sd < 40; sd++) {
			char *t = NULL;
			if (ocr_synth_line(clean, sd, &b, &t, &e) < 0 || b.h != 48 || b.w > 200 ||
			    b.w < 48)
				bad++;
			free(t);
		}
		check(bad == 0, "long lines squeezed into the width (%d bad)", bad);
		ocr_synth_free(&clean);
	}

	/* bad options and fonts */
	o.height = 8;
	check(ocr_synth_new(&clean, &o, &e) < 0 && e.code == DYN_EUSAGE && !clean,
	      "height 8 refused: %s", e.msg);
	o.height = 0;
	o.max_width = 0;
	o.alphabet = "AB\xff";
	check(ocr_synth_new(&clean, &o, &e) < 0 && e.code == DYN_EUSAGE, "invalid UTF-8: %s",
	      e.msg);
	o.alphabet = " ";
	check(ocr_synth_new(&clean, &o, &e) < 0 && e.code == DYN_EUSAGE, "space only: %s", e.msg);
	o.alphabet = NULL;
	{
		const char *missing[] = {"/nonexistent/font.ttf"};
		const char *notfont[] = {"../testdata/iris.csv"};
		const char *ocra[] = {"/usr/share/fonts/truetype/ocr-a/OCRA.ttf"};
		o.fonts = missing;
		o.nfonts = 1;
		check(ocr_synth_new(&clean, &o, &e) < 0 && e.code == DYN_EDATA &&
			  strstr(e.msg, "\"/nonexistent/font.ttf\"") &&
			  strstr(e.msg, "No such file"),
		      "a missing font is named: %s", e.msg);
		o.fonts = notfont;
		check(ocr_synth_new(&clean, &o, &e) < 0 && e.code == DYN_EDATA &&
			  strstr(e.msg, "not a TrueType or OpenType font"),
		      "a file that is no font: %s", e.msg);
		/* OCR-A has no Cyrillic: alone it cannot draw the default alphabet */
		o.fonts = ocra;
		if (ocr_synth_new(&clean, &o, &e) < 0)
			check(e.code == DYN_EDATA && strstr(e.msg, "no font draws"),
			      "a character no font draws: %s", e.msg);
		else
			ocr_synth_free(&clean);
		o.fonts = NULL;
		o.nfonts = 0;
	}

	free(ta);
	img_release(&a);
	img_release(&b);
	ocr_synth_free(&s);
	return check_done();
}
