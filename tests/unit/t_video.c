/* Unit tests of lib/vision/video and lib/vision/resize: YUV4MPEG2 streams written here (every
 * colour space, known samples -> expected gray and RGB), truncated and garbage streams, the
 * small H.264 file of testdata/video, files that are no video, and dyn without FFmpeg. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vision/resize.h"
#include "vision/video.h"
#include "vision/video_internal.h"
#include "base/base.h"
#include "check.h"
#include "fixture.h"

#define FIXTURE "../testdata/video/pattern-64x48.mp4"

/* The test pattern: luma 16 + (3x + 2y + 7n) mod 220 (a ramp with a step), chroma constant
 * in a frame and changing between frames, as tools/make-test-video.sh made the fixture. */
static int pat_y(size_t x, size_t y, long long n)
{
	return 16 + (int)((3 * x + 2 * y + 7 * (size_t)n) % 220);
}
static int pat_cb(long long n)
{
	return 64 + 8 * (int)n;
}
static int pat_cr(long long n)
{
	return 192 - 6 * (int)n;
}

/* BT.601, studio range unless full: the reference conversion, in floating point. */
static int ref_gray(int y, bool full)
{
	double v = full ? y : (y - 16) * 255.0 / 219.0;
	return (int)lrint(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void ref_rgb(int y, int cb, int cr, bool full, int rgb[3])
{
	double l = full ? y : (y - 16) * 255.0 / 219.0, s = full ? 1 : 255.0 / 224.0;
	double u = (cb - 128) * s, v = (cr - 128) * s, c[3];
	int i;
	c[0] = l + 1.402 * v;
	c[1] = l - 0.344136 * u - 0.714136 * v;
	c[2] = l + 1.772 * u;
	for (i = 0; i < 3; i++)
		rgb[i] = (int)lrint(c[i] < 0 ? 0 : c[i] > 255 ? 255 : c[i]);
}

struct y4m_spec {
	const char *tag; /* after 'C'; NULL: no C tag (420jpeg) */
	size_t sx, sy;	 /* chroma subsampling; 0: mono */
	int depth;
	bool alpha;
};

/* A YUV4MPEG2 stream of the pattern: nframes frames of w x h. */
static void y4m_make(struct strbuf *sb, size_t w, size_t h, const struct y4m_spec *s,
		     long long nframes, const char *extra)
{
	long long n;
	strbuf_addf(sb, "YUV4MPEG2 W%zu H%zu F30:1 Ip A1:1", w, h);
	if (s->tag)
		strbuf_addf(sb, " C%s", s->tag);
	strbuf_addf(sb, "%s\n", extra ? extra : "");
	for (n = 0; n < nframes; n++) {
		size_t x, y, p, np = s->sx ? 3 : 1;
		int shift = s->depth - 8;
		strbuf_adds(sb, "FRAME\n");
		for (p = 0; p < np + (s->alpha ? 1 : 0); p++) {
			size_t pw = p == 0 || p == 3 ? w : (w + s->sx - 1) / s->sx;
			size_t ph = p == 0 || p == 3 ? h : (h + s->sy - 1) / s->sy;
			for (y = 0; y < ph; y++)
				for (x = 0; x < pw; x++) {
					int v = p == 0	 ? pat_y(x, y, n)
						: p == 1 ? pat_cb(n)
						: p == 2 ? pat_cr(n)
							 : 255;
					if (s->depth > 8) {
						unsigned u = (unsigned)v << shift;
						strbuf_addch(sb, (char)(u & 0xff));
						strbuf_addch(sb, (char)(u >> 8));
					} else {
						strbuf_addch(sb, (char)v);
					}
				}
		}
	}
}

/* Reads every frame of path; returns the frame count, or -1 with *e set. Checks each pixel
 * (of native-size output) against the pattern within tol; *worst gets the largest gap. */
static long long read_all(const char *path, const struct vid_opts *o, bool full, bool mono,
			  int *worst, double *tlast, struct err *e)
{
	struct vid_reader *r;
	struct vid_frame f;
	long long count = 0;
	int k;
	*worst = 0;
	if (vid_open(&r, path, o, e) < 0)
		return -1;
	while ((k = vid_next(r, &f, e)) == 1) {
		size_t x, y, n = f.w * f.h;
		if (f.index != count)
			*worst = 999;
		*tlast = f.time;
		for (y = 0; y < f.h; y++)
			for (x = 0; x < f.w; x++) {
				int yy = pat_y(x, y, f.index), want[3], got[3], c;
				size_t i = y * f.w + x;
				if (o->pix == VID_GRAY) {
					want[0] = ref_gray(yy, full);
					got[0] = f.px[i];
				} else {
					if (mono)
						want[0] = want[1] = want[2] = ref_gray(yy, full);
					else
						ref_rgb(yy, pat_cb(f.index), pat_cr(f.index), full,
							want);
					for (c = 0; c < 3; c++)
						got[c] = o->pix == VID_RGB
							     ? f.px[3 * i + (size_t)c]
							     : f.px[(size_t)c * n + i];
				}
				for (c = 0; c < (o->pix == VID_GRAY ? 1 : 3); c++)
					if (abs(got[c] - want[c]) > *worst)
						*worst = abs(got[c] - want[c]);
			}
		count++;
	}
	vid_free(&r);
	return k < 0 ? -1 : count;
}

static void test_y4m_spaces(void)
{
	static const struct y4m_spec specs[] = {
	    {NULL, 2, 2, 8, false},	  {"420jpeg", 2, 2, 8, false}, {"420paldv", 2, 2, 8, false},
	    {"420mpeg2", 2, 2, 8, false}, {"420", 2, 2, 8, false},     {"411", 4, 1, 8, false},
	    {"422", 2, 1, 8, false},	  {"444", 1, 1, 8, false},     {"444alpha", 1, 1, 8, true},
	    {"mono", 0, 0, 8, false},	  {"420p10", 2, 2, 10, false}, {"444p16", 1, 1, 16, false},
	    {"mono16", 0, 0, 16, false},  {"422p12", 2, 1, 12, false},
	};
	static const enum vid_pix pixes[] = {VID_GRAY, VID_RGB, VID_RGB_PLANAR};
	size_t i, j;
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		struct strbuf sb = STRBUF_INIT;
		char *p;
		/* Odd sizes: chroma planes round up. */
		y4m_make(&sb, 37, 23, &specs[i], 5, NULL);
		p = fx_write("s.y4m", sb.buf, sb.len);
		for (j = 0; j < ARRAY_SIZE(pixes); j++) {
			struct vid_opts o = VID_OPTS_INIT;
			struct err e = ERR_INIT;
			int worst;
			double tlast = -2;
			long long n;
			o.pix = pixes[j];
			n = read_all(p, &o, false, !specs[i].sx, &worst, &tlast, &e);
			/* Constant chroma resamples to itself: only the fixed-point rounding
			 * of the conversion separates dyn from the formula. */
			check(n == 5 && worst <= 1 && fabs(tlast - 4.0 / 30) < 1e-12,
			      "y4m C%s -> %s: %lld frames, worst gap %d, last time %g %s",
			      specs[i].tag ? specs[i].tag : "(none)",
			      pixes[j] == VID_GRAY  ? "gray"
			      : pixes[j] == VID_RGB ? "rgb"
						    : "planar",
			      n, worst, tlast, e.msg);
		}
		free(p);
		strbuf_release(&sb);
	}
}

static void test_y4m_range_and_info(void)
{
	static const struct y4m_spec s420 = {"420mpeg2", 2, 2, 8, false};
	struct strbuf sb = STRBUF_INIT;
	struct vid_opts o = VID_OPTS_INIT;
	struct err e = ERR_INIT;
	struct vid_info in;
	int worst;
	double t;
	char *p;

	y4m_make(&sb, 64, 48, &s420, 3, " XYSCSS=420MPEG2 XCOLORRANGE=FULL");
	p = fx_write("full.y4m", sb.buf, sb.len);
	check(read_all(p, &o, true, false, &worst, &t, &e) == 3 && worst == 0,
	      "XCOLORRANGE=FULL: gray is the luma itself (worst %d) %s", worst, e.msg);
	o.pix = VID_RGB;
	check(read_all(p, &o, true, false, &worst, &t, &e) == 3 && worst <= 1,
	      "XCOLORRANGE=FULL: rgb by the full-range formula (worst %d)", worst);
	check(vid_probe(p, &in, &e) == 0 && in.width == 64 && in.height == 48 && in.frames == 3 &&
		  fabs(in.fps - 30) < 1e-12 && fabs(in.duration - 0.1) < 1e-12 && in.y4m &&
		  !strcmp(in.codec, "yuv4mpeg"),
	      "probe of a y4m file: 64x48, 30 fps, 3 frames from its size, %s", in.codec);
	free(p);
	/* A frame with parameters: still read; the count from the size is then unknown. */
	strbuf_reset(&sb);
	y4m_make(&sb, 8, 8, &s420, 1, NULL);
	{
		char *at = strstr(sb.buf, "FRAME\n");
		struct strbuf sb2 = STRBUF_INIT;
		strbuf_add(&sb2, sb.buf, (size_t)(at - sb.buf) + 5);
		strbuf_adds(&sb2, " Ip XFOO=1");
		strbuf_add(&sb2, at + 5, sb.len - (size_t)(at + 5 - sb.buf));
		p = fx_write("params.y4m", sb2.buf, sb2.len);
		o.pix = VID_GRAY;
		check(read_all(p, &o, false, false, &worst, &t, &e) == 1 && worst <= 1,
		      "a FRAME line with parameters is read %s", e.msg);
		check(vid_probe(p, &in, &e) == 0 && in.frames == -1,
		      "frame count unknown when the size does not divide (%lld)", in.frames);
		free(p);
		strbuf_release(&sb2);
	}
	strbuf_release(&sb);
}

/* Scaling: a luma ramp halved lands on the ramp's values at the new pixel centres. */
static void test_y4m_scale(void)
{
	static const struct y4m_spec s444 = {"444", 1, 1, 8, false};
	struct strbuf sb = STRBUF_INIT;
	struct vid_opts o = VID_OPTS_INIT;
	struct vid_reader *r;
	struct vid_frame f;
	struct err e = ERR_INIT;
	size_t x, y, bad = 0, w = 64, h = 48;
	char *p;
	int k;

	/* luma 16 + 3x + 2y, no wrap at frame 0 for 64x48: 16 + 189 + 94 = 299 > 235, so use a
	 * 40x24 window: at most 16 + 117 + 46 = 179 */
	w = 40;
	h = 24;
	y4m_make(&sb, w, h, &s444, 1, NULL);
	p = fx_write("ramp.y4m", sb.buf, sb.len);
	o.width = 20;
	check(vid_open(&r, p, &o, &e) == 0 && vid_info(r)->out_w == 20 && vid_info(r)->out_h == 12,
	      "width 20 alone: height 12 from the aspect ratio %s", e.msg);
	k = r ? vid_next(r, &f, &e) : -1;
	check(k == 1 && f.w == 20 && f.h == 12 && f.channels == 1, "a 20x12 gray frame");
	for (y = 1; k == 1 && y + 1 < f.h; y++)
		for (x = 1; x + 1 < f.w; x++) {
			/* Output pixel (x, y) is centred on source (2x + 0.5, 2y + 0.5). */
			double yy = 16 + 3 * (2 * x + 0.5) + 2 * (2 * y + 0.5);
			int want = (int)lrint((yy - 16) * 255 / 219);
			if (abs(f.px[y * f.w + x] - want) > 1)
				bad++;
		}
	check(k == 1 && bad == 0, "halved ramp: inner pixels on the ramp (%zu off)", bad);
	vid_free(&r);

	/* Any size, up or down, keeps a flat picture flat (RGB, 4:2:0 chroma included). */
	{
		static const struct y4m_spec s420 = {"420jpeg", 2, 2, 8, false};
		static const size_t sizes[][2] = {{7, 5}, {13, 11}, {64, 48}, {100, 3}, {1, 1}};
		struct strbuf flat = STRBUF_INIT;
		size_t i, j, off = 0;
		char *q;
		strbuf_adds(&flat, "YUV4MPEG2 W30 H18 F25:1 C420jpeg\nFRAME\n");
		for (j = 0; j < 30 * 18; j++)
			strbuf_addch(&flat, (char)120);
		for (j = 0; j < 2 * 15 * 9; j++)
			strbuf_addch(&flat, (char)(j < 15 * 9 ? 90 : 170));
		q = fx_write("flat.y4m", flat.buf, flat.len);
		(void)s420;
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			struct vid_opts fo = {VID_RGB, sizes[i][0], sizes[i][1], 0};
			int want[3];
			ref_rgb(120, 90, 170, false, want);
			if (vid_open(&r, q, &fo, &e) < 0 || vid_next(r, &f, &e) != 1) {
				off++;
				vid_free(&r);
				continue;
			}
			for (j = 0; j < f.w * f.h * 3; j++)
				if (abs(f.px[j] - want[j % 3]) > 1)
					off++;
			vid_free(&r);
		}
		check(off == 0, "a flat 30x18 picture stays flat at 5 sizes, enlarged and shrunk");
		free(q);
		strbuf_release(&flat);
	}
	free(p);
	strbuf_release(&sb);
}

/* Stdin through a pipe, written by a child. */
static void test_y4m_stdin(void)
{
	static const struct y4m_spec s = {"420paldv", 2, 2, 8, false};
	struct strbuf sb = STRBUF_INIT;
	struct vid_opts o = VID_OPTS_INIT;
	struct err e = ERR_INIT;
	int fds[2], saved = dup(0), worst, status;
	double t;
	long long n;
	pid_t pid;

	y4m_make(&sb, 64, 48, &s, 12, NULL);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		check(0, "pipe/fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], sb.buf, sb.len) == (ssize_t)sb.len ? 0 : 1);
	}
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	o.pix = VID_RGB;
	n = read_all("-", &o, false, false, &worst, &t, &e);
	check(n == 12 && worst <= 1, "y4m from a pipe on stdin: %lld frames, worst %d %s", n, worst,
	      e.msg);
	waitpid(pid, &status, 0);
	dup2(saved, 0);
	close(saved);
	strbuf_release(&sb);
}

static void test_y4m_compressed(void)
{
	static const struct y4m_spec s = {"422", 2, 1, 8, false};
	struct strbuf sb = STRBUF_INIT, cmd = STRBUF_INIT;
	struct vid_opts o = VID_OPTS_INIT;
	struct err e = ERR_INIT;
	int worst;
	double t;
	char *p;
	y4m_make(&sb, 32, 16, &s, 4, NULL);
	p = fx_write("c.y4m", sb.buf, sb.len);
	strbuf_addf(&cmd, "gzip -f '%s'", p);
	if (system(cmd.buf) != 0) {
		check(1, "# skipped: no gzip");
	} else {
		strbuf_reset(&cmd);
		strbuf_addf(&cmd, "%s.gz", p);
		check(read_all(cmd.buf, &o, false, false, &worst, &t, &e) == 4 && worst <= 1,
		      "a gzip-compressed y4m file is read through lib/io/stream %s", e.msg);
	}
	free(p);
	strbuf_release(&cmd);
	strbuf_release(&sb);
}

/* Opens data as a file and reads to the end: the error message, or "" when all was read. */
static char *try_bytes(const char *name, const void *data, size_t len, long long *frames)
{
	struct vid_reader *r;
	struct vid_frame f;
	struct err e = ERR_INIT;
	char *p = fx_write(name, data, len);
	int k = -1;
	*frames = 0;
	if (vid_open(&r, p, NULL, &e) == 0) {
		while ((k = vid_next(r, &f, &e)) == 1)
			(*frames)++;
		vid_free(&r);
	}
	free(p);
	return xstrdup(k < 0 ? e.msg : "");
}

static bool has(const char *msg, const char *part)
{
	return strstr(msg, part) != NULL;
}

static void test_y4m_bad(void)
{
	static const struct y4m_spec s = {"420jpeg", 2, 2, 8, false};
	struct strbuf sb = STRBUF_INIT, t = STRBUF_INIT;
	long long n;
	char *m;
	size_t one;

	y4m_make(&sb, 16, 8, &s, 3, NULL);
	one = 6 + 16 * 8 + 2 * 8 * 4;
	/* The last frame cut 50 bytes short. */
	m = try_bytes("trunc.y4m", sb.buf, sb.len - 50, &n);
	check(n == 2 && has(m, "trunc.y4m") &&
		  has(m, "frame 2 truncated: 50 of its 192 bytes missing"),
	      "truncated frame: %lld frames, then \"%s\"", n, m);
	free(m);
	/* Cut inside a FRAME line. */
	m = try_bytes("trunc2.y4m", sb.buf, sb.len - one + 3, &n);
	check(n == 2 && has(m, "frame 2: expected a FRAME line, found \"FRA\""),
	      "a stream ending in \"FRA\": \"%s\"", m);
	free(m);
	m = try_bytes("trunc3.y4m", sb.buf, sb.len - one + 5, &n);
	check(n == 2 && has(m, "frame 2: truncated frame header"), "ending in \"FRAME\": \"%s\"",
	      m);
	free(m);
	/* Garbage where a frame should start. */
	strbuf_add(&t, sb.buf, sb.len - one);
	strbuf_adds(&t, "GARBAGE\x01\n");
	m = try_bytes("garbage.y4m", t.buf, t.len, &n);
	check(n == 2 && has(m, "frame 2: expected a FRAME line, found \"GARBAGE\\x01\""),
	      "garbage after frame 1: \"%s\"", m);
	free(m);
	/* Headers. */
	{
		static const struct {
			const char *hdr, *want;
		} cases[] = {
		    {"YUV4MPEG2 W100000 H100000 F25:1\n", "frame size 100000x100000 out of range"},
		    {"YUV4MPEG2 W9000 H9000 F25:1\n", "frame size 9000x9000 out of range"},
		    {"YUV4MPEG2 W0 H10 F25:1\n", "frame size 0x10 out of range"},
		    {"YUV4MPEG2 W-5 H10\n", "frame size -5x10 out of range"},
		    {"YUV4MPEG2 H10 F25:1\n", "header without width (W)"},
		    {"YUV4MPEG2 W10 F25:1\n", "header without height (H)"},
		    {"YUV4MPEG2 Wabc H10\n", "bad width \"Wabc\""},
		    {"YUV4MPEG2 W10 H10 F25\n", "bad frame rate \"F25\""},
		    {"YUV4MPEG2 W10 H10 C420xyz\n", "colour space \"C420xyz\" not supported"},
		    {"YUV4MPEG2 W10 H10 Cmono7\n", "colour space \"Cmono7\" not supported"},
		    {"YUV4MPEG2 W10 H10", "truncated header"},
		};
		size_t i;
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			m = try_bytes("hdr.y4m", cases[i].hdr, strlen(cases[i].hdr), &n);
			check(has(m, "hdr.y4m: yuv4mpeg: ") && has(m, cases[i].want),
			      "bad header %zu: \"%s\"", i, m);
			free(m);
		}
		strbuf_reset(&t);
		strbuf_adds(&t, "YUV4MPEG2 W10 H10 ");
		while (t.len < 10000)
			strbuf_adds(&t, "XJUNK=1 ");
		m = try_bytes("long.y4m", t.buf, t.len, &n);
		check(has(m, "header line too long"), "a 10,000-byte header: \"%s\"", m);
		free(m);
	}
	/* A header and no frame: no frames, no error. */
	m = try_bytes("empty.y4m", "YUV4MPEG2 W4 H4\n", 16, &n);
	check(!*m && n == 0, "a header alone: 0 frames, no error \"%s\"", m);
	free(m);
	strbuf_release(&t);
	strbuf_release(&sb);
}

/* Random damage to a small stream: an error or frames, never a crash. */
static void test_y4m_fuzz(void)
{
	static const struct y4m_spec s = {"420mpeg2", 2, 2, 8, false};
	struct strbuf sb = STRBUF_INIT;
	unsigned seed = 12345;
	size_t runs, bad = 0;
	y4m_make(&sb, 12, 10, &s, 3, NULL);
	for (runs = 0; runs < 200; runs++) {
		struct strbuf t = STRBUF_INIT;
		long long n;
		size_t j, len;
		char *m;
		strbuf_add(&t, sb.buf, sb.len);
		for (j = 0; j < 4; j++) {
			seed = seed * 1103515245u + 12345u;
			t.buf[(seed >> 8) % (runs < 100 ? 60 : t.len)] = (char)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		len = runs % 3 ? t.len : (seed >> 8) % t.len;
		m = try_bytes("fuzz.y4m", t.buf, len, &n);
		if (*m && !has(m, "fuzz.y4m"))
			bad++;
		free(m);
		strbuf_release(&t);
	}
	check(bad == 0, "200 damaged y4m streams: frames or an error naming the file");
	strbuf_release(&sb);
}

static void test_resize(void)
{
	unsigned char src[7 * 5 * 3], dst[16 * 9 * 3], back[7 * 5 * 3];
	struct err e = ERR_INIT;
	struct vis_resize *r;
	size_t i, bad = 0;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 37 % 251);
	check(vis_resize_image(back, 7, 5, src, 7, 5, 3, &e) == 0 &&
		  !memcmp(back, src, sizeof(src)),
	      "same size: an exact copy");
	/* A flat channel stays flat at any size; channels do not mix. */
	for (i = 0; i < 7 * 5; i++) {
		src[3 * i] = 10;
		src[3 * i + 1] = 200;
		src[3 * i + 2] = (unsigned char)(i % 2 ? 0 : 255);
	}
	check(vis_resize_image(dst, 16, 9, src, 7, 5, 3, &e) == 0, "7x5 -> 16x9");
	for (i = 0; i < 16 * 9; i++)
		if (dst[3 * i] != 10 || dst[3 * i + 1] != 200)
			bad++;
	check(bad == 0, "flat channels stay flat when enlarged, interleaved");
	check(vis_resize_plain(&r, 0, 5, 3, 3, &e) < 0 && has(e.msg, "out of range"),
	      "an empty plane is refused: %s", e.msg);
	check(vis_resize_plain(&r, 5, 5, 3, VIS_RESIZE_MAX_SIDE + 1, &e) < 0,
	      "a huge output is refused: %s", e.msg);
	check(vis_resize_image(dst, 2, 2, src, 7, 5, 5, &e) < 0 && has(e.msg, "5 channels"),
	      "5 channels refused: %s", e.msg);
	/* Shrinking averages: a one-pixel checkerboard becomes its mean. */
	{
		unsigned char cb[32 * 32], small[8 * 8];
		size_t x, y;
		for (y = 0; y < 32; y++)
			for (x = 0; x < 32; x++)
				cb[y * 32 + x] = (x + y) % 2 ? 200 : 0;
		bad = 0;
		check(vis_resize_image(small, 8, 8, cb, 32, 32, 1, &e) == 0, "32x32 -> 8x8");
		for (i = 0; i < 64; i++)
			if (abs(small[i] - 100) > 2)
				bad++;
		check(bad == 0, "a checkerboard shrunk 4 times is its mean, not aliased");
	}
}

static bool ffmpeg_mapped(void)
{
	size_t len;
	char *maps = fx_slurp("/proc/self/maps", &len);
	bool found = maps && (strstr(maps, "libavformat") || strstr(maps, "libavcodec"));
	free(maps);
	return found;
}

/* Before anything loads FFmpeg: YUV4MPEG2 needs none, and a missing FFmpeg is named. */
static void test_without_ffmpeg(void)
{
	int status;
	pid_t pid;
	check(!ffmpeg_mapped(), "yuv4mpeg streams were read without loading FFmpeg");
	fflush(stdout); /* or the child would print the parent's buffered lines again */
	pid = fork();
	if (pid == 0) {
		struct vid_reader *r;
		struct err e = ERR_INIT;
		int bad = 0;
		vid_soname[VID_LIB_AVFORMAT] = "libavformat.so.0-dyn-test-missing";
		if (vid_open(&r, FIXTURE, NULL, &e) == 0 ||
		    !has(e.msg, FIXTURE ": cannot load libavformat.so.0-dyn-test-missing"))
			bad = 1;
		printf("# without FFmpeg: %s\n", e.msg);
		fflush(stdout);
		_exit(bad);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0,
	      "FFmpeg missing: the video is named with the loader's message");
}

static void test_ffmpeg_fixture(void)
{
	struct vid_opts o = VID_OPTS_INIT;
	struct err e = ERR_INIT;
	struct vid_info in;
	int worst;
	double t;
	long long n;

	check(vid_probe(FIXTURE, &in, &e) == 0 && in.width == 64 && in.height == 48 &&
		  in.frames == 16 && fabs(in.fps - 30) < 1e-9 && !in.y4m &&
		  !strcmp(in.codec, "h264"),
	      "probe: 64x48 h264, 30 fps, 16 frames (%zux%zu %s %g fps %lld) %s", in.width,
	      in.height, in.codec, in.fps, in.frames, e.msg);
	/* Lossless H.264: the decoded luma is the pattern; only the range conversion rounds. */
	o.threads = 1;
	n = read_all(FIXTURE, &o, false, false, &worst, &t, &e);
	check(n == 16 && worst <= 1 && fabs(t - 15.0 / 30) < 1e-6,
	      "h264 -> gray: 16 frames, worst gap %d, last at %g s %s", worst, t, e.msg);
	o.pix = VID_RGB;
	o.threads = 2;
	n = read_all(FIXTURE, &o, false, false, &worst, &t, &e);
	check(n == 16 && worst <= 2, "h264 -> rgb (2 threads): worst gap %d %s", worst, e.msg);
	o.pix = VID_RGB_PLANAR;
	n = read_all(FIXTURE, &o, false, false, &worst, &t, &e);
	check(n == 16 && worst <= 2, "h264 -> planar rgb: worst gap %d %s", worst, e.msg);
	/* On standard input FFmpeg reads through dyn's stream, without seeking. */
	{
		int fd = open(FIXTURE, O_RDONLY), saved = dup(0);
		o.pix = VID_GRAY;
		if (fd >= 0 && saved >= 0 && dup2(fd, 0) == 0) {
			n = read_all("-", &o, false, false, &worst, &t, &e);
			check(n == 16 && worst <= 1, "h264 on stdin: %lld frames, worst gap %d %s",
			      n, worst, e.msg);
			dup2(saved, 0);
		} else {
			check(0, "cannot redirect stdin: %s", strerror(errno));
		}
		if (fd >= 0)
			close(fd);
		if (saved >= 0)
			close(saved);
	}
}

/* The same frames through FFmpeg (the fixture) and through the YUV4MPEG2 reader, scaled to a
 * network's size: libswscale and vision/resize agree within a level or two. */
static void test_paths_agree(void)
{
	static const struct y4m_spec s = {"420mpeg2", 2, 2, 8, false};
	static const size_t sizes[][2] = {{32, 24}, {20, 15}, {96, 72}};
	static const enum vid_pix pixes[] = {VID_GRAY, VID_RGB};
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;
	char *p;
	y4m_make(&sb, 64, 48, &s, 16, NULL);
	p = fx_write("same.y4m", sb.buf, sb.len);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		for (j = 0; j < ARRAY_SIZE(pixes); j++) {
			struct vid_opts o = {pixes[j], sizes[i][0], sizes[i][1], 1};
			struct vid_reader *a = NULL, *b = NULL;
			struct vid_frame fa, fb;
			struct err e = ERR_INIT;
			double sum = 0;
			long long frames = 0, inner = 0;
			int ka = 0, kb = 0, worst = 0;
			if (vid_open(&a, FIXTURE, &o, &e) == 0 && vid_open(&b, p, &o, &e) == 0) {
				while ((ka = vid_next(a, &fa, &e)) == 1 &&
				       (kb = vid_next(b, &fb, &e)) == 1) {
					size_t x, y, c, ch = (size_t)fa.channels;
					/* The pattern's wrap (a step) sits anywhere: compare
					 * where both neighbours agree, away from the edges. */
					for (y = 1; y + 1 < fa.h; y++)
						for (x = 1; x + 1 < fa.w; x++)
							for (c = 0; c < ch; c++) {
								size_t k = (y * fa.w + x) * ch + c;
								int d = abs(fa.px[k] - fb.px[k]);
								sum += d;
								inner++;
								if (d > worst)
									worst = d;
							}
					frames++;
				}
			}
			check(frames == 16 && ka >= 0 && kb >= 0 && sum / (double)inner < 1.5,
			      "%zux%zu %s: FFmpeg and the y4m reader agree: mean gap %.3f, worst "
			      "%d over %lld frames %s",
			      sizes[i][0], sizes[i][1], pixes[j] == VID_GRAY ? "gray" : "rgb",
			      inner ? sum / (double)inner : -1, worst, frames, e.msg);
			vid_free(&a);
			vid_free(&b);
		}
	free(p);
	strbuf_release(&sb);
}

static void test_ffmpeg_bad(void)
{
	static const unsigned char png[] = {0x89, 'P',	'N', 'G', '\r', '\n',
					    0x1a, '\n', 0,   0,	  0,	13};
	struct strbuf wav = STRBUF_INIT;
	struct vid_reader *r;
	struct vid_opts o = VID_OPTS_INIT;
	struct err e = ERR_INIT;
	size_t len, i;
	long long n;
	char *m, *mp4 = fx_slurp(FIXTURE, &len);

	m = try_bytes("labels.csv", "frame,x,y\n1,2,3\n4,5,6\n", 22, &n);
	check(has(m, "labels.csv: not a video FFmpeg can read ("), "a CSV file: \"%s\"", m);
	free(m);
	m = try_bytes("frame.png", png, sizeof(png), &n);
	check(has(m, "frame.png: a still picture, not a video"), "a PNG: \"%s\"", m);
	free(m);
	m = try_bytes("nothing.mp4", "", 0, &n);
	check(has(m, "nothing.mp4: empty input, not a video"), "an empty file: \"%s\"", m);
	free(m);
	check(vid_open(&r, "no-such-video.mp4", NULL, &e) < 0 && has(e.msg, "no-such-video.mp4") &&
		  has(e.msg, "No such file"),
	      "a missing file: \"%s\"", e.msg);
	/* A WAV file: FFmpeg reads it, but it holds no video. */
	strbuf_add(&wav,
		   "RIFF\x2c\x01\0\0WAVEfmt "
		   "\x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\x08\x01\0\0",
		   44);
	for (i = 0; i < 264; i++)
		strbuf_addch(&wav, (char)(i * 7));
	m = try_bytes("tone.wav", wav.buf, wav.len, &n);
	check(has(m, "tone.wav: no video stream (format wav)"), "audio only: \"%s\"", m);
	free(m);
	if (mp4) {
		/* The MP4's index is at its end: cut, it is no video. */
		m = try_bytes("cut.mp4", mp4, len / 2, &n);
		check(has(m, "cut.mp4: not a video FFmpeg can read (") && n == 0,
		      "a truncated mp4: \"%s\"", m);
		free(m);
		/* Every packet garbled: nothing decodes, and the file is named. */
		{
			char *g = xmalloc(len), *mdat, *moov;
			memcpy(g, mp4, len);
			mdat = memmem(g, len, "mdat", 4);
			moov = memmem(g, len, "moov", 4);
			for (i = mdat ? (size_t)(mdat - g) + 4 : len;
			     moov && i + 4 < (size_t)(moov - g); i++)
				g[i] = (char)(g[i] ^ 0x5a);
			m = try_bytes("garbled.mp4", g, len, &n);
			check(
			    mdat && moov && n == 0 &&
				has(m,
				    "garbled.mp4: cannot be decoded: no frame of its h264 video ("),
			    "packets garbled: \"%s\"", m);
			free(m);
			free(g);
		}
		/* Damaged packets: frames or an error, never a crash. */
		for (i = len / 3; i < len / 3 + 2000 && i < len; i += 7)
			mp4[i] = (char)(mp4[i] ^ 0x5a);
		m = try_bytes("damaged.mp4", mp4, len, &n);
		check(!*m || has(m, "damaged.mp4"), "a damaged mp4: %lld frames, \"%s\"", n, m);
		free(m);
	}
	check(mp4 != NULL, "fixture %s read", FIXTURE);
	o.width = VID_MAX_SIDE + 1;
	o.height = 10;
	check(vid_open(&r, FIXTURE, &o, &e) < 0 && e.code == DYN_EUSAGE &&
		  has(e.msg, "output size 16385x10 too large"),
	      "an output over the limit: \"%s\"", e.msg);
	o.width = 0;
	o.threads = -1;
	check(vid_open(&r, FIXTURE, &o, &e) < 0 && e.code == DYN_EUSAGE, "threads -1: \"%s\"",
	      e.msg);
	check(vid_probe("-", &(struct vid_info){0}, &e) < 0 && has(e.msg, "stdin"),
	      "stdin cannot be probed: \"%s\"", e.msg);
	free(mp4);
	strbuf_release(&wav);
}

static void test_sniff(void)
{
	static const unsigned char mkv[] = {0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0};
	size_t len;
	char *mp4 = fx_slurp(FIXTURE, &len);
	check(vid_sniff("YUV4MPEG2 W1 H1\n", 16) && vid_sniff(mkv, sizeof(mkv)) && mp4 &&
		  vid_sniff(mp4, len) && !vid_sniff("a,b\n1,2\n", 8) && !vid_sniff("YUV4MPEG", 8),
	      "sniff: y4m, matroska, mp4 yes; CSV and a cut magic no");
	check(vid_name("a/B.MP4") && vid_name("x.y4m") && vid_name("clip.webm") &&
		  !vid_name("frame.png") && !vid_name("mp4"),
	      "video names by extension");
	free(mp4);
}

int main(void)
{
	fx_mkdir("t_video");
	test_resize();
	test_y4m_spaces();
	test_y4m_range_and_info();
	test_y4m_scale();
	test_y4m_stdin();
	test_y4m_compressed();
	test_y4m_bad();
	test_sniff();
	test_without_ffmpeg();
	/* Damaged magic bytes go to FFmpeg: after the test without it. */
	test_y4m_fuzz();
	test_ffmpeg_fixture();
	test_paths_agree();
	test_ffmpeg_bad();
	fx_rmdir();
	return check_done();
}
