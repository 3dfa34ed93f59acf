/* Synthetic marking lines: text from article/serial patterns, glyphs from stb_truetype laid out
 * on a canvas at twice the output height, then a simulated stamped surface (a height field from
 * the blurred glyph mask, shaded under a light), metal texture and camera defects, and a 2x
 * box reduction. Every random choice comes from one struct rng seeded by the caller. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utf8proc.h>

/* stb_truetype and stb_image_write from Debian's libstb, which dyn links (as cards/render.c
 * does): no second copy compiled here */
#include <stb_image_write.h>
#include <stb_truetype.h>

#include "base/base.h"
#include "core/rng.h"
#include "ocr/synth.h"

#define OS	       2 /* canvas oversampling: the surface is simulated at twice the output size */
#define FONT_MAX_BYTES ((size_t)64 << 20)

const char ocr_default_alphabet[] = "0123456789-./ "
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ";

const char *const ocr_default_fonts[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/osifont/osifont.ttf",
    "/usr/share/fonts/truetype/ocr-a/OCRA.ttf",
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "/usr/share/hershey-fonts/futural.jhf",
    "/usr/share/hershey-fonts/cyrilc_1.jhf",
    NULL,
};

/* ---- alphabet ---- */

void ocr_alphabet_init(struct ocr_alphabet *a)
{
	memset(a, 0, sizeof(*a));
}

void ocr_alphabet_release(struct ocr_alphabet *a)
{
	free(a->cp);
	ocr_alphabet_init(a);
}

long ocr_alphabet_index(const struct ocr_alphabet *a, int32_t cp)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->cp[i] == cp)
			return (long)i;
	return -1;
}

int ocr_alphabet_parse(struct ocr_alphabet *a, const char *utf8, struct err *e)
{
	size_t len, i = 0, alloc = 0;
	ocr_alphabet_release(a);
	if (!utf8)
		utf8 = ocr_default_alphabet;
	len = strlen(utf8);
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)utf8 + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) {
			ocr_alphabet_release(a);
			return err_set(e, DYN_EUSAGE, "alphabet: invalid UTF-8 at byte %zu", i);
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			ocr_alphabet_release(a);
			return err_set(e, DYN_EUSAGE, "alphabet: control character U+%04X",
				       (unsigned)cp);
		}
		i += (size_t)k;
		if (ocr_alphabet_index(a, cp) >= 0)
			continue;
		if (a->n == OCR_ALPHABET_MAX) {
			ocr_alphabet_release(a);
			return err_set(e, DYN_EUSAGE, "alphabet: more than %d characters",
				       OCR_ALPHABET_MAX);
		}
		ALLOC_GROW(a->cp, a->n + 1, alloc);
		a->cp[a->n++] = cp;
	}
	if (!a->n)
		return err_set(e, DYN_EUSAGE, "alphabet: empty");
	return 0;
}

int ocr_alphabet_check(const struct ocr_alphabet *a, const char *text, const char *what,
		       struct err *e)
{
	size_t len = strlen(text), i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0)
			return err_set(e, DYN_EDATA, "%s: invalid UTF-8 at byte %zu", what, i);
		if (ocr_alphabet_index(a, cp) < 0) {
			char u[8] = {0};
			utf8proc_encode_char(cp, (utf8proc_uint8_t *)u);
			return err_set(e, DYN_EDATA, "%s: '%s' (U+%04X) is not in the alphabet",
				       what, u, (unsigned)cp);
		}
		i += (size_t)k;
	}
	return 0;
}

int ocr_alphabet_encode(const struct ocr_alphabet *a, const char *text, int *idx, size_t cap,
			size_t *n, const char *what, struct err *e)
{
	size_t len = strlen(text), i = 0, k = 0;
	*n = 0;
	if (ocr_alphabet_check(a, text, what, e) < 0)
		return -1;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k == cap)
			return err_set(e, DYN_EDATA, "%s: longer than %zu characters", what, cap);
		idx[k++] = (int)ocr_alphabet_index(a, cp);
		i += (size_t)m;
	}
	*n = k;
	return 0;
}

void ocr_alphabet_decode(const struct ocr_alphabet *a, const int *idx, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		char u[8];
		if (idx[i] < 0 || (size_t)idx[i] >= a->n)
			continue;
		strbuf_add(out, u,
			   (size_t)utf8proc_encode_char(a->cp[idx[i]], (utf8proc_uint8_t *)u));
	}
}

/* ---- fonts and the generator ---- */

/* A Hershey glyph: strokes as points in font units (y down), pen lifts marked by HPEN_UP. */
#define HPEN_UP -128
struct hglyph {
	int32_t cp;
	int left, right;
	signed char *pt; /* x, y pairs */
	size_t npt;
};

struct font {
	char *path;
	unsigned char *data;
	stbtt_fontinfo info;
	float cap; /* height of a capital in font units */
	/* a Hershey stroke font (.jhf) instead of an outline font: its glyphs, its baseline */
	bool stroke;
	struct hglyph *hg;
	size_t nhg;
	float base;
};

static const struct hglyph *hershey_glyph(const struct font *f, int32_t c)
{
	for (size_t i = 0; i < f->nhg; i++)
		if (f->hg[i].cp == c)
			return &f->hg[i];
	return NULL;
}

/* True when the glyph is nothing but upright quadrilaterals at least a third of a capital wide
 * and half as high: the box some fonts (osifont's Ё) draw for a character they lack. A capital
 * I or a hyphen is one rectangle too, but narrower or lower. */
static bool glyph_is_box(const struct font *f, int glyph)
{
	stbtt_vertex *v = NULL;
	int n = stbtt_GetGlyphShape(&f->info, glyph, &v), x0, y0, x1, y1, run = 0;
	bool box = n > 0;
	for (int i = 0; i < n && box; i++) {
		if (v[i].type == STBTT_vmove) {
			run = 0;
			continue;
		}
		int dx = abs(v[i].x - v[i - 1].x), dy = abs(v[i].y - v[i - 1].y);
		/* sides upright within 3 degrees (osifont's box is a little skewed) */
		box = v[i].type == STBTT_vline && i > 0 &&
		      20 * (dx < dy ? dx : dy) <= (dx < dy ? dy : dx) && ++run <= 4;
	}
	stbtt_FreeShape(&f->info, v);
	if (!box || !stbtt_GetGlyphBox(&f->info, glyph, &x0, &y0, &x1, &y1))
		return false;
	return (float)(x1 - x0) > f->cap / 3 && (float)(y1 - y0) > f->cap / 2;
}

static bool font_has(const struct font *f, int32_t c)
{
	int g;
	if (f->stroke)
		return hershey_glyph(f, c) != NULL;
	g = stbtt_FindGlyphIndex(&f->info, c);
	return g != 0 && (c == ' ' || !glyph_is_box(f, g));
}

/* The Hershey fonts of Debian's hershey-fonts-data hold 96 glyphs in ASCII order (32..127),
 * one per line: a 5-character number, a 3-character count of coordinate pairs (the first
 * pair the left and right bounds), then the pairs, each coordinate a character less 'R', " R"
 * lifting the pen. The Cyrillic set cyrilc_1.jhf puts А..Щ where A..Z are; its digits and
 * punctuation stay ASCII. Lines may be wrapped: newlines inside a glyph are skipped. */
static int parse_hershey(struct font *f, const char *path, const unsigned char *d, size_t len,
			 struct err *e)
{
	const char *base = strrchr(path, '/');
	bool cyr = !strncmp(base ? base + 1 : path, "cyrilc", 6);
	size_t i = 0, alloc = 0, index = 0;
	while (i < len && index < 96) {
		char num[4] = {0};
		struct hglyph g = {0};
		long n;
		int32_t ascii = 32 + (int32_t)index++;
		while (i < len && (d[i] == '\n' || d[i] == '\r'))
			i++;
		if (i >= len)
			break;
		if (len - i < 10)
			return err_set(e, DYN_EDATA, "font \"%s\": truncated Hershey glyph", path);
		memcpy(num, d + i + 5, 3);
		n = strtol(num, NULL, 10);
		if (n < 1 || n > 1000)
			return err_set(e, DYN_EDATA, "font \"%s\": bad Hershey glyph at byte %zu",
				       path, i);
		i += 8;
		g.pt = xmallocarray((size_t)n * 2, 1);
		for (long k = 0; k < n; k++) {
			char c[2];
			for (int q = 0; q < 2; q++) {
				while (i < len && (d[i] == '\n' || d[i] == '\r'))
					i++;
				if (i >= len || d[i] < ' ' || d[i] > '~') {
					free(g.pt);
					return err_set(e, DYN_EDATA,
						       "font \"%s\": bad Hershey glyph at byte %zu",
						       path, i);
				}
				c[q] = (char)d[i++];
			}
			if (k == 0) {
				g.left = c[0] - 'R';
				g.right = c[1] - 'R';
			} else if (c[0] == ' ' && c[1] == 'R') {
				g.pt[g.npt * 2] = g.pt[g.npt * 2 + 1] = HPEN_UP;
				g.npt++;
			} else {
				g.pt[g.npt * 2] = (signed char)(c[0] - 'R');
				g.pt[g.npt * 2 + 1] = (signed char)(c[1] - 'R');
				g.npt++;
			}
		}
		g.cp = cyr && ascii >= 'A' && ascii <= 'Z' ? 0x0410 + (ascii - 'A') : ascii;
		if ((cyr && ascii >= 'a' && ascii <= 'z') || ascii == 127) {
			free(g.pt);
			continue;
		}
		ALLOC_GROW(f->hg, f->nhg + 1, alloc);
		f->hg[f->nhg++] = g;
	}
	if (f->nhg < 16)
		return err_set(e, DYN_EDATA, "font \"%s\": not a Hershey font (%zu glyphs)", path,
			       f->nhg);
	{
		/* the capital's height from H (or Н): its lowest point is the baseline */
		const struct hglyph *h = hershey_glyph(f, 'H');
		int top = 127, bot = -127;
		if (!h)
			h = hershey_glyph(f, 0x041D);
		for (size_t k = 0; h && k < h->npt; k++)
			if (h->pt[2 * k] != HPEN_UP) {
				top = h->pt[2 * k + 1] < top ? h->pt[2 * k + 1] : top;
				bot = h->pt[2 * k + 1] > bot ? h->pt[2 * k + 1] : bot;
			}
		if (!h || bot <= top)
			return err_set(e, DYN_EDATA, "font \"%s\": no capital H", path);
		f->cap = (float)(bot - top);
		f->base = (float)bot;
	}
	f->stroke = true;
	return 0;
}

struct ocr_synth {
	int height, max_width;
	double effects;
	struct ocr_alphabet ab;
	struct font *fonts;
	size_t nfonts;
	int *draw; /* [font][alphabet index]: the font that draws it (itself or a fallback) */
	/* alphabet characters by role, for the patterns */
	int32_t *digits, *latin, *cyril, *seps;
	size_t ndigits, nlatin, ncyril, nseps;
	bool has_space;
};

static int read_font(struct font *f, const char *path, struct err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;
	size_t got = 0;
	int off;
	if (fd < 0)
		return err_sys(e, "font \"%s\"", path);
	if (fstat(fd, &st) < 0) {
		err_sys(e, "font \"%s\"", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 12 || (size_t)st.st_size > FONT_MAX_BYTES) {
		err_set(e, DYN_EDATA, "font \"%s\": not a font file (%s)", path,
			S_ISREG(st.st_mode) ? "size" : "not a regular file");
		goto out;
	}
	f->data = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, f->data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_sys(e, "font \"%s\"", path);
			goto out;
		}
		got += (size_t)n;
	}
	{
		size_t pl = strlen(path);
		if (pl > 4 && !strcmp(path + pl - 4, ".jhf")) {
			if (parse_hershey(f, path, f->data, got, e) < 0)
				goto out;
			f->path = xstrdup(path);
			ret = 0;
			goto out;
		}
	}
	off = stbtt_GetFontOffsetForIndex(f->data, 0);
	if (off < 0 || !stbtt_InitFont(&f->info, f->data, off)) {
		err_set(e, DYN_EDATA, "font \"%s\": not a TrueType or OpenType font", path);
		goto out;
	}
	{
		int x0, y0, x1, y1, asc, desc, gap;
		static const int32_t caps[] = {'H', 0x041D, 'E', '0'};
		f->cap = 0;
		for (size_t i = 0; i < ARRAY_SIZE(caps) && f->cap <= 0; i++)
			if (stbtt_FindGlyphIndex(&f->info, caps[i]) &&
			    stbtt_GetCodepointBox(&f->info, caps[i], &x0, &y0, &x1, &y1))
				f->cap = (float)y1;
		stbtt_GetFontVMetrics(&f->info, &asc, &desc, &gap);
		if (f->cap <= 0)
			f->cap = 0.7f * (float)asc;
		if (f->cap <= 0) {
			err_set(e, DYN_EDATA, "font \"%s\": no capital height", path);
			goto out;
		}
	}
	f->path = xstrdup(path);
	ret = 0;
out:
	close(fd);
	if (ret < 0) {
		FREE_AND_NULL(f->data);
		for (size_t i = 0; i < f->nhg; i++)
			free(f->hg[i].pt);
		FREE_AND_NULL(f->hg);
		f->nhg = 0;
	}
	return ret;
}

static bool is_latin_cap(int32_t c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_cyril_cap(int32_t c)
{
	return (c >= 0x0410 && c <= 0x042F) || c == 0x0401;
}

/* Cyrillic capitals that do not start a word (Ъ Ы Ь) are no marking prefix either. */
static bool is_cyril_prefix(int32_t c)
{
	return is_cyril_cap(c) && c != 0x042A && c != 0x042B && c != 0x042C;
}

int ocr_synth_new(struct ocr_synth **out, const struct ocr_synth_opts *o, struct err *e)
{
	struct ocr_synth *s = xcalloc(1, sizeof(*s));
	const char *const *paths = o->fonts;
	size_t npaths = o->nfonts, alloc = 0;
	int ret = -1;

	*out = NULL;
	s->height = o->height ? o->height : 32;
	s->max_width = o->max_width ? o->max_width : 16 * s->height;
	s->effects = o->effects;
	if (s->height < 16 || s->height > 128) {
		err_set(e, DYN_EUSAGE, "ocr synth: height %d out of range 16..128", s->height);
		goto out;
	}
	if (s->max_width < 2 * s->height || s->max_width > 8192) {
		err_set(e, DYN_EUSAGE, "ocr synth: max width %d out of range %d..8192",
			s->max_width, 2 * s->height);
		goto out;
	}
	if (!(s->effects >= 0 && s->effects <= 1)) {
		err_set(e, DYN_EUSAGE, "ocr synth: effects %g out of range 0..1", s->effects);
		goto out;
	}
	if (ocr_alphabet_parse(&s->ab, o->alphabet, e) < 0)
		goto out;
	for (size_t i = 0; i < s->ab.n; i++)
		if (s->ab.cp[i] != ' ')
			break;
		else if (i + 1 == s->ab.n) {
			err_set(e, DYN_EUSAGE, "ocr synth: the alphabet has nothing but a space");
			goto out;
		}
	if (!paths) {
		struct strbuf tried = STRBUF_INIT;
		for (size_t i = 0; ocr_default_fonts[i]; i++) {
			if (access(ocr_default_fonts[i], R_OK) < 0) {
				strbuf_addf(&tried, "%s\"%s\"", tried.len ? ", " : "",
					    ocr_default_fonts[i]);
				continue;
			}
			ALLOC_GROW(s->fonts, s->nfonts + 1, alloc);
			memset(&s->fonts[s->nfonts], 0, sizeof(s->fonts[0]));
			if (read_font(&s->fonts[s->nfonts], ocr_default_fonts[i], e) < 0) {
				strbuf_release(&tried);
				goto out;
			}
			s->nfonts++;
		}
		if (!s->nfonts) {
			err_set(e, DYN_ENOTFOUND,
				"ocr synth: no font found (tried %s; install fonts-dejavu-core)",
				tried.buf);
			strbuf_release(&tried);
			goto out;
		}
		strbuf_release(&tried);
	} else {
		if (!npaths) {
			err_set(e, DYN_EUSAGE, "ocr synth: no font given");
			goto out;
		}
		s->fonts = xcalloc(npaths, sizeof(*s->fonts));
		for (size_t i = 0; i < npaths; i++) {
			if (read_font(&s->fonts[i], paths[i], e) < 0)
				goto out;
			s->nfonts++;
		}
	}
	s->draw = xmallocarray(s->nfonts * s->ab.n, sizeof(*s->draw));
	for (size_t a = 0; a < s->ab.n; a++) {
		int32_t c = s->ab.cp[a];
		long first = -1, first_kind[2] = {-1, -1};
		for (size_t f = s->nfonts; f-- > 0;)
			if (c == ' ' || font_has(&s->fonts[f], c))
				first = first_kind[s->fonts[f].stroke] = (long)f;
		if (first < 0) {
			char u[8] = {0};
			utf8proc_encode_char(c, (utf8proc_uint8_t *)u);
			err_set(e, DYN_EDATA, "ocr synth: no font draws '%s' (U+%04X)", u,
				(unsigned)c);
			goto out;
		}
		/* a font's missing characters come from a font of its own kind (stroke or
		 * outline) when there is one: Hershey Latin with Hershey Cyrillic */
		for (size_t f = 0; f < s->nfonts; f++) {
			long k = first_kind[s->fonts[f].stroke];
			s->draw[f * s->ab.n + a] = (c == ' ' || font_has(&s->fonts[f], c))
						       ? (int)f
						       : (int)(k >= 0 ? k : first);
		}
	}
	s->digits = xmallocarray(s->ab.n, sizeof(int32_t));
	s->latin = xmallocarray(s->ab.n, sizeof(int32_t));
	s->cyril = xmallocarray(s->ab.n, sizeof(int32_t));
	s->seps = xmallocarray(s->ab.n, sizeof(int32_t));
	for (size_t a = 0; a < s->ab.n; a++) {
		int32_t c = s->ab.cp[a];
		if (c >= '0' && c <= '9')
			s->digits[s->ndigits++] = c;
		else if (is_latin_cap(c))
			s->latin[s->nlatin++] = c;
		else if (is_cyril_prefix(c))
			s->cyril[s->ncyril++] = c;
		else if (c == '.' || c == '-' || c == '/')
			s->seps[s->nseps++] = c;
		else if (c == ' ')
			s->has_space = true;
	}
	ret = 0;
out:
	if (ret < 0)
		ocr_synth_free(&s);
	*out = s;
	return ret;
}

void ocr_synth_free(struct ocr_synth **sp)
{
	struct ocr_synth *s = *sp;
	if (!s)
		return;
	for (size_t i = 0; i < s->nfonts; i++) {
		free(s->fonts[i].path);
		free(s->fonts[i].data);
		for (size_t k = 0; k < s->fonts[i].nhg; k++)
			free(s->fonts[i].hg[k].pt);
		free(s->fonts[i].hg);
	}
	free(s->fonts);
	free(s->draw);
	free(s->digits);
	free(s->latin);
	free(s->cyril);
	free(s->seps);
	ocr_alphabet_release(&s->ab);
	free(s);
	*sp = NULL;
}

const struct ocr_alphabet *ocr_synth_alphabet(const struct ocr_synth *s)
{
	return &s->ab;
}

size_t ocr_synth_nfonts(const struct ocr_synth *s)
{
	return s->nfonts;
}

const char *ocr_synth_font_path(const struct ocr_synth *s, size_t i)
{
	return i < s->nfonts ? s->fonts[i].path : NULL;
}

bool ocr_synth_font_has(const struct ocr_synth *s, size_t i, int32_t cp)
{
	long a = ocr_alphabet_index(&s->ab, cp);
	return i < s->nfonts && a >= 0 && s->draw[i * s->ab.n + (size_t)a] == (int)i;
}

/* ---- text ---- */

static double unif(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

static bool chance(struct rng *r, double p)
{
	return rng_uniform(r) < p;
}

static int32_t pick(struct rng *r, const int32_t *v, size_t n)
{
	return v[rng_below(r, n)];
}

/* Characters of the alphabet at random, with spaces only between other characters. */
static size_t random_text(const struct ocr_synth *s, struct rng *r, int32_t *t)
{
	size_t n = 3 + (size_t)rng_below(r, 14), k = 0;
	while (k < n) {
		int32_t c = s->ab.cp[rng_below(r, s->ab.n)];
		if (c == ' ' && (k == 0 || k + 1 == n || t[k - 1] == ' '))
			continue;
		t[k++] = c;
	}
	return k;
}

/* An article and a serial as parts are marked: "АМ117.07.01.211 29", "195-30-1285 2660",
 * "ВК-12/3", "Т.45.021". Returns 0 when the alphabet lacks what the pattern needs. */
static size_t pattern_text(const struct ocr_synth *s, struct rng *r, int32_t *t)
{
	size_t k = 0, ngroups;
	int32_t sep;
	if (!s->ndigits)
		return 0;
	if (chance(r, 0.55) && (s->nlatin || s->ncyril)) {
		bool cyr = s->ncyril && (!s->nlatin || chance(r, 0.7));
		size_t nl = 1 + (size_t)rng_below(r, 3);
		for (size_t i = 0; i < nl; i++)
			t[k++] = cyr ? pick(r, s->cyril, s->ncyril) : pick(r, s->latin, s->nlatin);
		if (chance(r, 0.4) && s->nseps)
			t[k++] = pick(r, s->seps, s->nseps);
	}
	ngroups = 1 + (size_t)rng_below(r, 5);
	sep = s->nseps ? pick(r, s->seps, s->nseps) : 0;
	/* '/' mostly ends an article ("12/3"); dots and dashes join its groups */
	if (sep == '/' && s->nseps > 1 && chance(r, 0.7))
		sep = pick(r, s->seps, s->nseps);
	for (size_t g = 0; g < ngroups; g++) {
		size_t nd = (g == 0 ? 2 : 1) + (size_t)rng_below(r, g == 0 ? 3 : 4);
		if (g > 0 && sep)
			t[k++] = sep;
		else if (g > 0)
			t[k++] = pick(r, s->digits, s->ndigits);
		for (size_t i = 0; i < nd; i++)
			t[k++] = pick(r, s->digits, s->ndigits);
	}
	if (s->has_space && chance(r, 0.85)) {
		size_t nd = 1 + (size_t)rng_below(r, 5);
		t[k++] = ' ';
		if (chance(r, 0.1) && (s->nlatin || s->ncyril))
			t[k++] =
			    s->ncyril ? pick(r, s->cyril, s->ncyril) : pick(r, s->latin, s->nlatin);
		for (size_t i = 0; i < nd; i++)
			t[k++] = pick(r, s->digits, s->ndigits);
	}
	return k;
}

/* Fills t (OCR_SYNTH_MAX_CHARS + 8 code points of room; at most OCR_SYNTH_MAX_CHARS used) with the
 * text of one line; returns its length. */
static size_t gen_text(const struct ocr_synth *s, struct rng *r, int32_t *t)
{
	size_t n = 0;
	if (!chance(r, 0.1))
		n = pattern_text(s, r, t);
	/* a pattern's longest (prefix, five groups, serial) is 35: about 34 lines in a million
	 * would be longer than a label may be; they are random text instead, the others as
	 * they were */
	if (!n || n > OCR_SYNTH_MAX_CHARS)
		n = random_text(s, r, t);
	return n;
}

static void add_utf8(struct strbuf *sb, const int32_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char u[8];
		utf8proc_ssize_t k = utf8proc_encode_char(t[i], (utf8proc_uint8_t *)u);
		strbuf_add(sb, u, (size_t)k);
	}
}

uint64_t ocr_synth_seed(uint64_t run, uint64_t index)
{
	uint64_t x = run;
	x = rng_splitmix64(&x) ^ index;
	return rng_splitmix64(&x);
}

void ocr_synth_text(const struct ocr_synth *s, uint64_t seed, struct strbuf *out)
{
	int32_t t[OCR_SYNTH_MAX_CHARS + 8];
	struct rng r;
	size_t n;
	rng_init(&r, seed);
	n = gen_text(s, &r, t);
	add_utf8(out, t, n);
}

/* ---- float canvases ---- */

struct plane {
	int w, h;
	float *p;
};

static void plane_new(struct plane *pl, int w, int h)
{
	pl->w = w;
	pl->h = h;
	pl->p = xcalloc((size_t)w * (size_t)h, sizeof(float));
}

static float at(const struct plane *pl, int x, int y)
{
	if (x < 0 || y < 0 || x >= pl->w || y >= pl->h)
		return 0;
	return pl->p[(size_t)y * (size_t)pl->w + (size_t)x];
}

static float bilinear(const struct plane *pl, float x, float y)
{
	int x0 = (int)floorf(x), y0 = (int)floorf(y);
	float fx = x - (float)x0, fy = y - (float)y0;
	if (x0 < -1 || y0 < -1 || x0 >= pl->w || y0 >= pl->h)
		return 0;
	return (1 - fy) * ((1 - fx) * at(pl, x0, y0) + fx * at(pl, x0 + 1, y0)) +
	       fy * ((1 - fx) * at(pl, x0, y0 + 1) + fx * at(pl, x0 + 1, y0 + 1));
}

/* Separable Gaussian blur in place (edges clamped); sigma in pixels, nothing below 0.2. Both
 * passes run along rows (the vertical one adds whole rows), so that they stay in cache and
 * vectorize. */
static void blur(struct plane *pl, float sigma)
{
	int rad = (int)ceilf(3 * sigma), w = pl->w, h = pl->h;
	float *k, *tmp, *row;
	float sum = 0;
	if (sigma < 0.2f)
		return;
	if (rad > 64)
		rad = 64;
	k = xmallocarray((size_t)(2 * rad + 1), sizeof(float));
	for (int i = -rad; i <= rad; i++)
		sum += k[i + rad] = expf(-(float)(i * i) / (2 * sigma * sigma));
	for (int i = 0; i <= 2 * rad; i++)
		k[i] /= sum;
	/* horizontal: each row copied with rad clamped pixels at both ends */
	row = xmallocarray((size_t)(w + 2 * rad), sizeof(float));
	for (int y = 0; y < h; y++) {
		float *p = pl->p + (size_t)y * (size_t)w;
		for (int x = 0; x < w + 2 * rad; x++)
			row[x] = p[x < rad ? 0 : x - rad >= w ? w - 1 : x - rad];
		for (int x = 0; x < w; x++) {
			float acc = 0;
			for (int i = 0; i <= 2 * rad; i++)
				acc += k[i] * row[x + i];
			p[x] = acc;
		}
	}
	free(row);
	/* vertical: output row y is the weighted sum of input rows y - rad .. y + rad */
	tmp = xcalloc((size_t)w * (size_t)h, sizeof(float));
	for (int y = 0; y < h; y++) {
		float *o = tmp + (size_t)y * (size_t)w;
		for (int i = -rad; i <= rad; i++) {
			int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
			const float *in = pl->p + (size_t)yy * (size_t)w;
			float kk = k[i + rad];
			for (int x = 0; x < w; x++)
				o[x] += kk * in[x];
		}
	}
	memcpy(pl->p, tmp, (size_t)w * (size_t)h * sizeof(float));
	free(k);
	free(tmp);
}

/* Adds amp * (value noise - 0.5): random values on a lattice of cells cx by cy pixels, turned
 * by angle, smoothly interpolated. Long thin cells give brushed streaks, round ones cast
 * metal. */
static void add_noise(struct plane *pl, struct rng *r, float cx, float cy, float angle, float amp)
{
	float c = cosf(angle), sn = sinf(angle);
	float diag = sqrtf((float)pl->w * (float)pl->w + (float)pl->h * (float)pl->h);
	int nu = (int)(diag / cx) + 3, nv = (int)(diag / cy) + 3;
	float icx = 1 / cx, icy = 1 / cy;
	float *lat;
	if ((size_t)nu * (size_t)nv > ((size_t)1 << 24))
		return; /* cells too fine for this canvas: not worth the memory */
	lat = xmallocarray((size_t)nu * (size_t)nv, sizeof(float));
	for (size_t i = 0; i < (size_t)nu * (size_t)nv; i++)
		lat[i] = (float)rng_uniform(r) - 0.5f;
	for (int y = 0; y < pl->h; y++)
		for (int x = 0; x < pl->w; x++) {
			/* lattice coordinates of the pixel, shifted so that they are >= 0 */
			float u = ((float)x * c + (float)y * sn) * icx + diag * icx + 1;
			float v = (-(float)x * sn + (float)y * c) * icy + diag * icy + 1;
			int iu = (int)u, iv = (int)v;
			float fu = u - (float)iu, fv = v - (float)iv, a, b;
			if (iu < 0 || iv < 0 || iu + 1 >= nu || iv + 1 >= nv)
				continue;
			fu = fu * fu * (3 - 2 * fu);
			fv = fv * fv * (3 - 2 * fv);
			a = lat[iv * nu + iu] * (1 - fu) + lat[iv * nu + iu + 1] * fu;
			b = lat[(iv + 1) * nu + iu] * (1 - fu) + lat[(iv + 1) * nu + iu + 1] * fu;
			pl->p[(size_t)y * (size_t)pl->w + (size_t)x] +=
			    amp * (a * (1 - fv) + b * fv);
		}
	free(lat);
}

/* Adds v to the pixels within half-width hw of the segment (x0,y0)-(x1,y1), fading at the
 * edge: a scratch. */
static void add_segment(struct plane *pl, float x0, float y0, float x1, float y1, float hw, float v)
{
	float dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
	int xa = (int)floorf(fminf(x0, x1) - hw - 1), xb = (int)ceilf(fmaxf(x0, x1) + hw + 1);
	int ya = (int)floorf(fminf(y0, y1) - hw - 1), yb = (int)ceilf(fmaxf(y0, y1) + hw + 1);
	if (l2 < 1e-6f)
		return;
	xa = xa < 0 ? 0 : xa;
	ya = ya < 0 ? 0 : ya;
	xb = xb > pl->w - 1 ? pl->w - 1 : xb;
	yb = yb > pl->h - 1 ? pl->h - 1 : yb;
	for (int y = ya; y <= yb; y++)
		for (int x = xa; x <= xb; x++) {
			float t = (((float)x - x0) * dx + ((float)y - y0) * dy) / l2, px, py, d;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			px = x0 + t * dx - (float)x;
			py = y0 + t * dy - (float)y;
			d = sqrtf(px * px + py * py);
			if (d < hw + 1)
				pl->p[(size_t)y * (size_t)pl->w + (size_t)x] +=
				    v * (d <= hw ? 1 : hw + 1 - d);
		}
}

/* A soft disc of value v (max with what is there): one dot of a dot-peen marking. */
static void put_dot(struct plane *pl, float cx, float cy, float rad, float v)
{
	for (int y = (int)floorf(cy - rad - 1); y <= (int)ceilf(cy + rad + 1); y++)
		for (int x = (int)floorf(cx - rad - 1); x <= (int)ceilf(cx + rad + 1); x++) {
			float d, a;
			if (x < 0 || y < 0 || x >= pl->w || y >= pl->h)
				continue;
			d = sqrtf(((float)x - cx) * ((float)x - cx) +
				  ((float)y - cy) * ((float)y - cy));
			a = d <= rad - 0.5f ? 1 : d >= rad + 0.5f ? 0 : rad + 0.5f - d;
			/* a rounded crater, deepest at its centre */
			a *= v * (1 - 0.5f * (d / (rad + 0.5f)) * (d / (rad + 0.5f)));
			float *p = &pl->p[(size_t)y * (size_t)pl->w + (size_t)x];
			if (a > *p)
				*p = a;
		}
}

/* Max-composites a line of half-width hw and value v from (x0,y0) to (x1,y1), round ends. */
static void stroke_segment(struct plane *pl, float x0, float y0, float x1, float y1, float hw,
			   float v)
{
	float dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
	int xa = (int)floorf(fminf(x0, x1) - hw - 1), xb = (int)ceilf(fmaxf(x0, x1) + hw + 1);
	int ya = (int)floorf(fminf(y0, y1) - hw - 1), yb = (int)ceilf(fmaxf(y0, y1) + hw + 1);
	xa = xa < 0 ? 0 : xa;
	ya = ya < 0 ? 0 : ya;
	xb = xb > pl->w - 1 ? pl->w - 1 : xb;
	yb = yb > pl->h - 1 ? pl->h - 1 : yb;
	for (int y = ya; y <= yb; y++)
		for (int x = xa; x <= xb; x++) {
			float t =
			    l2 > 1e-6f ? (((float)x - x0) * dx + ((float)y - y0) * dy) / l2 : 0;
			float px, py, d, a, *p;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			px = x0 + t * dx - (float)x;
			py = y0 + t * dy - (float)y;
			d = sqrtf(px * px + py * py);
			a = d <= hw - 0.5f ? 1 : d >= hw + 0.5f ? 0 : hw + 0.5f - d;
			p = &pl->p[(size_t)y * (size_t)pl->w + (size_t)x];
			if (a * v > *p)
				*p = a * v;
		}
}

static void put_dot(struct plane *pl, float cx, float cy, float rad, float v);

/* Draws a Hershey glyph with its left bound at pen position px and baseline by: lines of
 * half-width pen, or (pitch > 0) dot-peen craters every pitch pixels along its strokes, as a
 * marking machine follows them. */
static void draw_strokes(struct plane *mask, const struct hglyph *g, float px, float by, float scx,
			 float sc, float fbase, float pen, float pitch, float depth, struct rng *r)
{
	float lx = 0, ly = 0, carry = 0;
	bool down = false;
	if (!g)
		return;
	for (size_t k = 0; k < g->npt; k++) {
		float X, Y;
		if (g->pt[2 * k] == HPEN_UP) {
			down = false;
			continue;
		}
		X = px + (float)(g->pt[2 * k] - g->left) * scx;
		Y = by + ((float)g->pt[2 * k + 1] - fbase) * sc;
		if (!down) {
			if (pitch > 0) {
				put_dot(mask, X, Y, pitch * 0.42f, depth);
				carry = 0;
			}
		} else if (pitch > 0) {
			float len = sqrtf((X - lx) * (X - lx) + (Y - ly) * (Y - ly)), t;
			for (t = pitch - carry; t <= len; t += pitch) {
				float f = t / len;
				put_dot(mask, lx + f * (X - lx) + (float)rng_normal(r) * 0.3f,
					ly + f * (Y - ly) + (float)rng_normal(r) * 0.3f,
					pitch * 0.42f, depth);
			}
			carry = len - (t - pitch);
		} else {
			stroke_segment(mask, lx, ly, X, Y, pen, depth);
		}
		lx = X;
		ly = Y;
		down = true;
	}
}

/* ---- layout ---- */

struct layout_glyph {
	int font;
	int32_t cp;
	float x;     /* pen position on the canvas */
	float dy;    /* baseline offset: hand-set punches are not in line */
	float depth; /* how hard this punch was struck */
};

/* Text as code points; fails on a character outside the alphabet or too many. */
static int decode_text(const struct ocr_synth *s, const char *text, int32_t *t, size_t *n,
		       struct err *e)
{
	size_t len = strlen(text), i = 0, k = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (m <= 0)
			return err_set(e, DYN_EUSAGE, "ocr synth: invalid UTF-8 at byte %zu", i);
		if (k == OCR_SYNTH_MAX_CHARS)
			return err_set(e, DYN_EUSAGE, "ocr synth: text longer than %d characters",
				       OCR_SYNTH_MAX_CHARS);
		if (ocr_alphabet_index(&s->ab, cp) < 0) {
			char u[8] = {0};
			utf8proc_encode_char(cp, (utf8proc_uint8_t *)u);
			return err_set(e, DYN_EUSAGE,
				       "ocr synth: '%s' (U+%04X) is not in the alphabet", u,
				       (unsigned)cp);
		}
		t[k++] = cp;
		i += (size_t)m;
	}
	*n = k;
	return 0;
}

static float fx_amount(const struct ocr_synth *s)
{
	return (float)s->effects;
}

/* Draws the glyph mask of t[0..n) with font fi on a new canvas of height ch (glyph values in
 * [0,1] times each punch's depth). */
static bool draw_mask(const struct ocr_synth *s, struct rng *r, const int32_t *t, size_t n, int fi,
		      int ch, struct plane *mask)
{
	float fx = fx_amount(s);
	float cap = (float)ch * (fx > 0 ? (float)unif(r, 0.42, 0.62) : 0.55f);
	float track = fx > 0 ? (float)unif(r, -0.03, 0.25 * fx) * cap : 0.05f * cap;
	float squeeze = fx > 0 ? (float)unif(r, 1 - 0.2 * fx, 1 + 0.15 * fx) : 1;
	float margin = (float)ch * (fx > 0 ? (float)unif(r, 0.3, 0.7) : 0.25f);
	float wobble = fx > 0 ? (float)unif(r, 0, 0.06 * fx) * cap : 0;
	float depth_var = fx > 0 ? (float)unif(r, 0, 0.45 * fx) : 0;
	bool dots = fx > 0 && chance(r, 0.2 * fx);
	/* about six dots to a capital, as marking machines' 5x7 matrices: fewer would not
	 * draw the letters, more would not be seen at this height */
	float pitch = fmaxf(3.0f, cap / 6);
	/* half the pen width of a stroke font: a scriber's or a punch's line */
	float pen = cap * (fx > 0 ? (float)unif(r, 0.045, 0.09) : 0.07f);
	float base = (float)ch / 2 + cap / 2;
	struct layout_glyph *g = xcalloc(n ? n : 1, sizeof(*g));
	float x = margin, total, sx = 1;
	int cw, max_cw = s->max_width * OS;

	for (size_t i = 0; i < n; i++) {
		long a = ocr_alphabet_index(&s->ab, t[i]);
		int f = s->draw[(size_t)fi * s->ab.n + (size_t)a];
		const struct font *ft = &s->fonts[f];
		float sc = cap / ft->cap;
		int adv, lsb;
		g[i].font = f;
		g[i].cp = t[i];
		g[i].x = x;
		g[i].dy = wobble > 0 ? (float)rng_normal(r) * wobble : 0;
		g[i].depth = 1 - depth_var * (float)rng_uniform(r);
		if (ft->stroke) {
			const struct hglyph *hg = hershey_glyph(ft, t[i]);
			adv = hg ? hg->right - hg->left : (int)(0.6f * ft->cap);
		} else if (t[i] == ' ' && !stbtt_FindGlyphIndex(&ft->info, ' ')) {
			adv = (int)(0.4f * ft->cap);
		} else {
			stbtt_GetCodepointHMetrics(&ft->info, t[i], &adv, &lsb);
		}
		x += (float)adv * sc * squeeze + (t[i] == ' ' ? 2 * track : track);
	}
	total = x + margin;
	if (total > (float)max_cw)
		sx = (float)max_cw / total;
	cw = (int)ceilf(total * sx);
	cw += (OS - cw % OS) % OS;
	if (cw > max_cw)
		cw = max_cw;
	if (cw < ch)
		cw = ch;
	plane_new(mask, cw, ch);
	for (size_t i = 0; i < n; i++) {
		const struct font *ft = &s->fonts[g[i].font];
		float sc = cap / ft->cap, scx = sc * squeeze * sx;
		float px = g[i].x * sx, shift = px - floorf(px);
		int glyph, x0, y0, x1, y1, bw, bh;
		unsigned char *bm;
		if (ft->stroke) {
			draw_strokes(mask, hershey_glyph(ft, g[i].cp), px, base + g[i].dy, scx, sc,
				     ft->base, pen, dots ? pitch : 0, g[i].depth, r);
			continue;
		}
		glyph = stbtt_FindGlyphIndex(&ft->info, g[i].cp);
		if (g[i].cp == ' ' || !glyph)
			continue;
		stbtt_GetGlyphBitmapBoxSubpixel(&ft->info, glyph, scx, sc, shift, 0, &x0, &y0, &x1,
						&y1);
		bw = x1 - x0;
		bh = y1 - y0;
		if (bw <= 0 || bh <= 0 || bw > 4 * ch || bh > 4 * ch)
			continue;
		bm = xcalloc((size_t)bw * (size_t)bh, 1);
		stbtt_MakeGlyphBitmapSubpixel(&ft->info, bm, bw, bh, bw, scx, sc, shift, 0, glyph);
		int ox = (int)floorf(px) + x0, oy = (int)lroundf(base + g[i].dy) + y0;
		if (dots) {
			/* dot-peen: a dot matrix, a crater in each cell of the grid a fifth inked
			 * (so that thin strokes keep their dots) */
			float rad = pitch * 0.45f;
			for (float yy = pitch * 0.5f; yy < (float)bh + pitch * 0.5f; yy += pitch)
				for (float xx = pitch * 0.5f; xx < (float)bw + pitch * 0.5f;
				     xx += pitch) {
					int ink = 0, area = 0;
					for (int cy = (int)(yy - pitch * 0.5f);
					     cy < (int)(yy + pitch * 0.5f); cy++)
						for (int cx = (int)(xx - pitch * 0.5f);
						     cx < (int)(xx + pitch * 0.5f); cx++) {
							area++;
							if (cx >= 0 && cy >= 0 && cx < bw &&
							    cy < bh)
								ink += bm[cy * bw + cx];
						}
					if (ink < area * 255 / 5)
						continue;
					put_dot(mask, (float)ox + xx + (float)rng_normal(r) * 0.3f,
						(float)oy + yy + (float)rng_normal(r) * 0.3f, rad,
						g[i].depth);
				}
		} else {
			for (int yy = 0; yy < bh; yy++)
				for (int xx = 0; xx < bw; xx++) {
					int X = ox + xx, Y = oy + yy;
					float v = (float)bm[yy * bw + xx] / 255 * g[i].depth;
					float *p;
					if (X < 0 || Y < 0 || X >= cw || Y >= ch)
						continue;
					p = &mask->p[(size_t)Y * (size_t)cw + (size_t)X];
					if (v > *p)
						*p = v;
				}
		}
		free(bm);
	}
	free(g);
	return dots;
}

/* Bends, turns and tilts the mask as a part's surface seen by a phone: circular text (the
 * baseline on an arc whose sagitta is a fraction of the height), a small rotation, a
 * perspective keystone and a shear. */
static void warp(const struct ocr_synth *s, struct rng *r, struct plane *mask)
{
	float fx = fx_amount(s);
	int w = mask->w, h = mask->h;
	float cx = (float)w / 2, cy = (float)h / 2;
	/* bends and turns keep the text's ends inside the line: at most 0.12 and 0.08 of the
	 * height, with about 0.2 above and below the capitals */
	float sag = chance(r, 0.35 * fx) ? (float)unif(r, -0.12, 0.12) * fx * (float)h : 0;
	float rot = (float)unif(r, -1, 1) * fx * 0.16f * (float)h / (float)w;
	float gx = (float)rng_normal(r) * fx * 0.12f / (float)w;
	float gy = (float)rng_normal(r) * fx * 0.08f / (float)h;
	float shear = (float)rng_normal(r) * fx * 0.08f;
	float R = 0, c = cosf(rot), sn = sinf(rot);
	struct plane out;
	if (fx <= 0)
		return;
	if (fabsf(sag) > 0.5f) {
		float half = (float)w / 2;
		R = (half * half + sag * sag) / (2 * sag); /* signed: the arc bulges up or down */
	}
	plane_new(&out, w, h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			float u = (float)x - cx, v = (float)y - cy, q, uu, vv;
			/* undo the rotation, then the perspective and shear */
			uu = c * u + sn * v;
			vv = -sn * u + c * v;
			q = 1 + gx * uu + gy * vv;
			if (q < 0.2f)
				q = 0.2f;
			/* the keystone scales only the height along the line, so that the ends of
			 * the text never leave the image */
			uu = uu - shear * vv;
			vv = vv / q;
			if (R != 0) {
				/* the arc's centre is R below the line's centre (above when R < 0):
				 * arc length along it is the source x, distance from it the source
				 * y */
				float ax = uu, ay = R < 0 ? vv - R : R - vv;
				float theta = atan2f(ax, ay), rho = sqrtf(ax * ax + ay * ay);
				uu = fabsf(R) * theta;
				vv = R < 0 ? rho - fabsf(R) : fabsf(R) - rho;
			}
			out.p[(size_t)y * (size_t)w + (size_t)x] = bilinear(mask, uu + cx, vv + cy);
		}
	free(mask->p);
	*mask = out;
}

/* ---- the metal surface ---- */

/* The surface's albedo before the marking: base gray, brushed or cast texture, rust, scratches
 * (also cut into the height field hf). */
static void surface(const struct ocr_synth *s, struct rng *r, struct plane *alb, struct plane *hf)
{
	float fx = fx_amount(s);
	int w = alb->w, h = alb->h;
	float base = (float)unif(r, 0.35, 0.8);
	double kind = rng_uniform(r);
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
		alb->p[i] = base;
	if (kind < 0.4) {
		/* brushed or ground: streaks along one direction */
		float ang = (float)(chance(r, 0.7) ? rng_normal(r) * 0.05 : unif(r, -1.6, 1.6));
		add_noise(alb, r, (float)unif(r, 20, 80), (float)unif(r, 0.6, 1.5), ang,
			  (float)unif(r, 0.05, 0.2) * fx);
		add_noise(alb, r, (float)unif(r, 60, 200), (float)unif(r, 2, 5), ang,
			  (float)unif(r, 0.02, 0.1) * fx);
	} else if (kind < 0.7) {
		/* cast or sand-blasted: grain at several scales */
		add_noise(alb, r, 2, 2, 0, (float)unif(r, 0.05, 0.18) * fx);
		add_noise(alb, r, 7, 7, 0, (float)unif(r, 0.03, 0.12) * fx);
		add_noise(hf, r, 3, 3, 0, (float)unif(r, 0.0, 0.25) * fx);
	} else {
		add_noise(alb, r, 1.2f, 1.2f, 0, (float)unif(r, 0.01, 0.06) * fx);
	}
	add_noise(alb, r, (float)h * 2, (float)h * 2, 0, (float)unif(r, 0, 0.25) * fx);
	if (chance(r, 0.3 * fx)) {
		/* rust: blotches where a coarse noise field is high, with fine speckle */
		struct plane rust;
		float thr = (float)unif(r, 0.0, 0.15), amt = (float)unif(r, 0.3, 0.8) * fx;
		plane_new(&rust, w, h);
		add_noise(&rust, r, (float)h * (float)unif(r, 0.3, 1.2),
			  (float)h * (float)unif(r, 0.3, 1.2), 0, 1);
		add_noise(&rust, r, 2, 2, 0, 0.3f);
		for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
			if (rust.p[i] > thr)
				alb->p[i] -= amt * fminf(1, (rust.p[i] - thr) * 4) * alb->p[i];
		free(rust.p);
	}
	if (chance(r, 0.5 * fx)) {
		int ns = 1 + (int)rng_below(r, 8);
		for (int i = 0; i < ns; i++) {
			float x0 = (float)unif(r, 0, w), y0 = (float)unif(r, 0, h);
			float len = (float)unif(r, 0.3, 3) * (float)h,
			      a = (float)unif(r, 0, 6.2832);
			float x1 = x0 + len * cosf(a), y1 = y0 + len * sinf(a);
			float hw = (float)unif(r, 0.3, 1.2);
			add_segment(alb, x0, y0, x1, y1, hw, (float)unif(r, -0.25, 0.3) * fx);
			add_segment(hf, x0, y0, x1, y1, hw, -0.3f * fx);
		}
	}
}

/* An 8x8 DCT round trip with coefficients quantized (coarser at high frequency): the blocks
 * and ringing of a JPEG-compressed phone photo. Values in [0, 1]. */
static void jpeg_like(struct plane *pl, float q)
{
	float cs[8][8], blk[8][8], co[8][8];
	for (int u = 0; u < 8; u++)
		for (int x = 0; x < 8; x++)
			cs[u][x] = (u ? sqrtf(2.0f / 8) : sqrtf(1.0f / 8)) *
				   cosf((float)((2 * x + 1) * u) * 3.14159265f / 16);
	for (int by = 0; by + 8 <= pl->h; by += 8)
		for (int bx = 0; bx + 8 <= pl->w; bx += 8) {
			for (int y = 0; y < 8; y++)
				for (int x = 0; x < 8; x++)
					blk[y][x] = pl->p[(size_t)(by + y) * (size_t)pl->w +
							  (size_t)(bx + x)];
			for (int v = 0; v < 8; v++)
				for (int u = 0; u < 8; u++) {
					float acc = 0, step = q * (1 + 0.6f * (float)(u + v));
					for (int y = 0; y < 8; y++)
						for (int x = 0; x < 8; x++)
							acc += cs[v][y] * cs[u][x] * blk[y][x];
					co[v][u] = roundf(acc / step) * step;
				}
			for (int y = 0; y < 8; y++)
				for (int x = 0; x < 8; x++) {
					float acc = 0;
					for (int v = 0; v < 8; v++)
						for (int u = 0; u < 8; u++)
							acc += cs[v][y] * cs[u][x] * co[v][u];
					pl->p[(size_t)(by + y) * (size_t)pl->w + (size_t)(bx + x)] =
					    acc;
				}
		}
}

/* Shades the stamped surface: returns the canvas intensity in [0, 1] (mask is consumed as the
 * height field's source). */
static void shade(const struct ocr_synth *s, struct rng *r, struct plane *mask, bool dots,
		  struct plane *img)
{
	float fx = fx_amount(s);
	int w = mask->w, h = mask->h;
	struct plane alb, hf, groove;
	float sign = chance(r, 0.8) ? -1.0f : 1.0f; /* mostly struck in; cast letters stand out */
	float relief = (float)unif(r, 1.5, 5) * (float)OS;
	/* a light from near the camera's axis shades no relief: at least 35 degrees off it */
	float az = (float)unif(r, 0, 6.2832), el = (float)unif(r, 0.6, 1.25);
	float lx = cosf(az) * sinf(el), ly = sinf(az) * sinf(el), lz = cosf(el);
	/* dirt dark or fresh cut bright in the grooves; often neither, the relief alone */
	float tint = chance(r, 0.25) ? 0 : (float)unif(r, 0.1, 0.4) * (chance(r, 0.6) ? -fx : fx);
	/* dot-peen craters are too small for their shading to show: they read by the dark in
	 * them */
	if (dots)
		tint = -(float)unif(r, 0.25, 0.5) * fx;
	float soft = (float)unif(r, 0.6, 2.0);

	plane_new(&alb, w, h);
	plane_new(&hf, w, h);
	plane_new(&groove, w, h);
	memcpy(groove.p, mask->p, (size_t)w * (size_t)h * sizeof(float));
	blur(&groove, 0.7f);
	surface(s, r, &alb, &hf);
	/* uneven depth along the line: one end of the stamp struck harder */
	{
		struct plane dv;
		plane_new(&dv, w, h);
		add_noise(&dv, r, (float)h * 3, (float)h * 3, 0, (float)unif(r, 0, 0.8) * fx);
		for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
			hf.p[i] += sign * mask->p[i] * (1 + dv.p[i]);
		free(dv.p);
	}
	blur(&hf, soft);
	for (int y = 0; y < h; y++) {
		const float *hr = hf.p + (size_t)y * (size_t)w;
		const float *up = y > 0 && y < h - 1 ? hr - w : hr,
			    *dn = y > 0 && y < h - 1 ? hr + w : hr;
		for (int x = 0; x < w; x++) {
			float gxv =
			    x > 0 && x < w - 1 ? (hr[x + 1] - hr[x - 1]) * 0.5f * relief : 0;
			float gyv = (dn[x] - up[x]) * 0.5f * relief;
			/* normal (-gx, -gy, 1), light (lx, ly, lz); flat ground shades to 1 */
			float nl = (-gxv * lx - gyv * ly + lz) / sqrtf(gxv * gxv + gyv * gyv + 1);
			float sh = nl / lz;
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			if (sh < 0.05f)
				sh = 0.05f;
			img->p[i] = alb.p[i] * (0.35f + 0.65f * sh) + tint * groove.p[i];
		}
	}
	if (chance(r, 0.35 * fx)) {
		/* glare: a bright blob of the flash or a window */
		float gx0 = (float)unif(r, 0, w), gy0 = (float)unif(r, 0, h);
		float rad = (float)unif(r, 0.4, 3) * (float)h, amp = (float)unif(r, 0.2, 0.6) * fx;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				float dx = ((float)x - gx0) / rad, dy = ((float)y - gy0) / rad;
				float a = amp * expf(-(dx * dx + dy * dy));
				float *p = &img->p[(size_t)y * (size_t)w + (size_t)x];
				/* brightens and flattens, but leaves half the contrast: a marking
				 * under glare that nobody can read has no label worth learning */
				*p = *p * (1 - 0.5f * a) + a;
			}
	}
	free(alb.p);
	free(hf.p);
	free(groove.p);
}

static int render(const struct ocr_synth *s, struct rng *r, const int32_t *t, size_t n, long font,
		  struct img *im)
{
	float fx = fx_amount(s);
	int ch = s->height * OS, fi;
	struct plane mask, canvas, out;

	fi = font >= 0 ? (int)font : (int)rng_below(r, s->nfonts);
	bool dots = draw_mask(s, r, t, n, fi, ch, &mask);
	warp(s, r, &mask);
	plane_new(&canvas, mask.w, ch);
	if (fx > 0) {
		shade(s, r, &mask, dots, &canvas);
		blur(&canvas, (float)unif(r, 0.3, 0.3 + 1.6 * fx));
	} else {
		for (size_t i = 0; i < (size_t)mask.w * (size_t)ch; i++)
			canvas.p[i] = 1 - 0.9f * mask.p[i];
	}
	plane_new(&out, mask.w / OS, s->height);
	for (int y = 0; y < out.h; y++)
		for (int x = 0; x < out.w; x++) {
			float acc = 0;
			for (int j = 0; j < OS; j++)
				for (int i = 0; i < OS; i++)
					acc += canvas.p[(size_t)(y * OS + j) * (size_t)canvas.w +
							(size_t)(x * OS + i)];
			out.p[(size_t)y * (size_t)out.w + (size_t)x] = acc / (OS * OS);
		}
	if (fx > 0) {
		float noise = (float)unif(r, 0, 0.05) * fx;
		float gamma = (float)unif(r, 1 - 0.35 * fx, 1 + 0.5 * fx);
		float lo = (float)unif(r, 0, 0.2) * fx, hi = 1 - (float)unif(r, 0, 0.25) * fx;
		bool inv = chance(r, 0.08 * fx);
		bool jpg = chance(r, 0.5 * fx);
		float q = (float)unif(r, 0.01, 0.06);
		for (size_t i = 0; i < (size_t)out.w * (size_t)out.h; i++) {
			float v = out.p[i] + noise * (float)rng_normal(r);
			v = v < 0 ? 0 : v > 1 ? 1 : v;
			v = powf(v, gamma);
			out.p[i] = lo + (hi - lo) * (inv ? 1 - v : v);
		}
		if (jpg)
			jpeg_like(&out, q);
	}
	img_release(im);
	im->w = (size_t)out.w;
	im->h = (size_t)out.h;
	im->channels = 1;
	im->px = xmalloc(im->w * im->h);
	for (size_t i = 0; i < im->w * im->h; i++) {
		float v = out.p[i] * 255 + 0.5f;
		im->px[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
	free(mask.p);
	free(canvas.p);
	free(out.p);
	return 0;
}

int ocr_synth_line(const struct ocr_synth *s, uint64_t seed, struct img *im, char **text,
		   struct err *e)
{
	int32_t t[OCR_SYNTH_MAX_CHARS + 8];
	struct strbuf sb = STRBUF_INIT;
	struct rng r;
	size_t n;
	rng_init(&r, seed);
	n = gen_text(s, &r, t);
	if (render(s, &r, t, n, -1, im) < 0)
		return -1;
	add_utf8(&sb, t, n);
	*text = strbuf_detach(&sb, NULL);
	return 0;
}

int ocr_synth_render(const struct ocr_synth *s, uint64_t seed, const char *text, long font,
		     struct img *im, struct err *e)
{
	int32_t t[OCR_SYNTH_MAX_CHARS];
	struct rng r;
	size_t n = 0;
	if (font < -1 || (font >= 0 && (size_t)font >= s->nfonts))
		return err_set(e, DYN_EUSAGE, "ocr synth: font %ld out of range 0..%zu", font,
			       s->nfonts - 1);
	if (decode_text(s, text, t, &n, e) < 0)
		return -1;
	rng_init(&r, seed);
	return render(s, &r, t, n, font, im);
}

/* ---- PNG ---- */

static void png_sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

int ocr_png_encode(const struct img *im, struct strbuf *out, const char *name, struct err *e)
{
	if (!im->px || !im->w || !im->h || im->w > 1 << 20 || im->h > 1 << 20 ||
	    (im->channels != 1 && im->channels != 3))
		return err_set(e, DYN_EUSAGE, "\"%s\": no image to write", name);
	if (!stbi_write_png_to_func(png_sink, out, (int)im->w, (int)im->h, im->channels, im->px,
				    (int)im->w * im->channels))
		return err_set(e, DYN_EDATA, "\"%s\": PNG encoding failed", name);
	return 0;
}

int ocr_png_write(const struct img *im, const char *path, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int fd, ret = -1;
	size_t off = 0;
	if (ocr_png_encode(im, &sb, path, e) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_sys(e, "\"%s\"", path);
		goto out;
	}
	while (off < sb.len) {
		ssize_t k = write(fd, sb.buf + off, sb.len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err_sys(e, "\"%s\"", path);
			close(fd);
			goto out;
		}
		off += (size_t)k;
	}
	if (close(fd) < 0) {
		err_sys(e, "\"%s\"", path);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}
