/* Video frames (see video.h): YUV4MPEG2 parsed and converted here (BT.601, resampled by
 * vision/resize.h); everything else decoded by FFmpeg's libraries, loaded on first use, and
 * converted and scaled by libswscale. The writer: YUV4MPEG2 and PNG frames (stb_image_write)
 * here, video files through FFmpeg's encoders and muxers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stb_image_write.h>

#include "vision/video.h"
#include "vision/video_internal.h"
#include "vision/resize.h"
#include "io/image.h"
#include "io/stream.h"
#include "base/base.h"
#include "base/lazylib.h"

#define BUF_CAP	     65536
#define Y4M_LINE_MAX 4096 /* a YUV4MPEG2 header or FRAME line longer than this is garbage */
#define Y4M_MAGIC    "YUV4MPEG2 "

/* ---- FFmpeg, loaded on first use (base/lazylib.h says why) ---- */

#define AVUTIL_FUNCS(X)                                                                            \
	X(av_dict_free)                                                                            \
	X(av_dict_set)                                                                             \
	X(av_frame_alloc)                                                                          \
	X(av_frame_free)                                                                           \
	X(av_frame_get_buffer)                                                                     \
	X(av_frame_make_writable)                                                                  \
	X(av_frame_unref)                                                                          \
	X(av_freep)                                                                                \
	X(av_log_set_callback)                                                                     \
	X(av_get_pix_fmt_name)                                                                     \
	X(av_malloc)                                                                               \
	X(av_pix_fmt_desc_get)                                                                     \
	X(av_strerror)
#define AVCODEC_FUNCS(X)                                                                           \
	X(av_packet_alloc)                                                                         \
	X(av_packet_free)                                                                          \
	X(av_packet_rescale_ts)                                                                    \
	X(av_packet_unref)                                                                         \
	X(avcodec_alloc_context3)                                                                  \
	X(avcodec_find_encoder)                                                                    \
	X(avcodec_find_encoder_by_name)                                                            \
	X(avcodec_free_context)                                                                    \
	X(avcodec_get_name)                                                                        \
	X(avcodec_open2)                                                                           \
	X(avcodec_parameters_from_context)                                                         \
	X(avcodec_parameters_to_context)                                                           \
	X(avcodec_receive_frame)                                                                   \
	X(avcodec_receive_packet)                                                                  \
	X(avcodec_send_frame)                                                                      \
	X(avcodec_send_packet)
#define AVFORMAT_FUNCS(X)                                                                          \
	X(av_find_best_stream)                                                                     \
	X(av_guess_frame_rate)                                                                     \
	X(av_interleaved_write_frame)                                                              \
	X(av_read_frame)                                                                           \
	X(av_write_trailer)                                                                        \
	X(avformat_alloc_context)                                                                  \
	X(avformat_alloc_output_context2)                                                          \
	X(avformat_close_input)                                                                    \
	X(avformat_find_stream_info)                                                               \
	X(avformat_free_context)                                                                   \
	X(avformat_new_stream)                                                                     \
	X(avformat_open_input)                                                                     \
	X(avformat_query_codec)                                                                    \
	X(avformat_write_header)                                                                   \
	X(avio_alloc_context)                                                                      \
	X(avio_closep)                                                                             \
	X(avio_context_free)                                                                       \
	X(avio_open)
#define SWSCALE_FUNCS(X)                                                                           \
	X(sws_freeContext)                                                                         \
	X(sws_getCachedContext)                                                                    \
	X(sws_getCoefficients)                                                                     \
	X(sws_scale)                                                                               \
	X(sws_setColorspaceDetails)
#define FF_FUNCS(X) AVUTIL_FUNCS(X) AVCODEC_FUNCS(X) AVFORMAT_FUNCS(X) SWSCALE_FUNCS(X)

static struct {
	FF_FUNCS(LAZYLIB_MEMBER)
} ff;

/* The sonames of the major versions whose headers dyn was built with: structures are read
 * directly, so another major version must not be loaded in their place. */
const char *vid_soname[VID_NLIBS] = {
    "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR),
    "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR),
    "libavformat.so." AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR),
    "libswscale.so." AV_STRINGIFY(LIBSWSCALE_VERSION_MAJOR),
};

/* FFmpeg logs to stderr, and lib/ never prints: its last error-level line is kept instead, to
 * say why a file cannot be read ("moov atom not found"). Decoder threads log too. */
static pthread_mutex_t av_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char av_msg[256];

static void av_log_keep(void *avcl, int level, const char *fmt, va_list ap)
{
	size_t n;
	(void)avcl;
	if (level > AV_LOG_ERROR)
		return;
	pthread_mutex_lock(&av_msg_lock);
	vsnprintf(av_msg, sizeof(av_msg), fmt, ap);
	n = strlen(av_msg);
	while (n && (av_msg[n - 1] == '\n' || av_msg[n - 1] == '.' || av_msg[n - 1] == ' '))
		av_msg[--n] = '\0';
	pthread_mutex_unlock(&av_msg_lock);
}

static void av_msg_clear(void)
{
	pthread_mutex_lock(&av_msg_lock);
	av_msg[0] = '\0';
	pthread_mutex_unlock(&av_msg_lock);
}

/* Why code failed, in dyn's style: FFmpeg's last logged error if any, else its error string. */
static void av_why(int code, char *buf, size_t cap)
{
	pthread_mutex_lock(&av_msg_lock);
	snprintf(buf, cap, "%s", av_msg);
	pthread_mutex_unlock(&av_msg_lock);
	if (!buf[0] && ff.av_strerror(code, buf, cap) < 0)
		snprintf(buf, cap, "error %d", code);
	if (isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
}

int vid_ffmpeg_load(const char *what, struct err *e)
{
	static const char *const names[] = {FF_FUNCS(LAZYLIB_NAME)};
	_Static_assert(sizeof(names) == sizeof(ff), "ff: one pointer for each name");
	static const size_t counts[VID_NLIBS] = {
#define X(f) +1
	    0 AVUTIL_FUNCS(X), 0 AVCODEC_FUNCS(X), 0 AVFORMAT_FUNCS(X), 0 SWSCALE_FUNCS(X)
#undef X
	};
	static int loaded[VID_NLIBS], quiet;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	size_t i, at = 0;
	for (i = 0; i < VID_NLIBS; i++) {
		if (lazylib_load(vid_soname[i], names + at, counts[i], (void **)&ff + at,
				 &loaded[i], what, e) < 0)
			return -1;
		at += counts[i];
	}
	pthread_mutex_lock(&lock);
	if (!quiet)
		ff.av_log_set_callback(av_log_keep);
	quiet = 1;
	pthread_mutex_unlock(&lock);
	return 0;
}

/* ---- the reader ---- */

/* How a YUV4MPEG2 stream lays out one frame. */
struct y4m {
	int depth;	      /* bits a sample: 8, or 9..16 stored in two bytes little-endian */
	int nplanes;	      /* 1 (mono) or 3 (Y, Cb, Cr); an alpha plane is read and ignored */
	size_t pw[4], ph[4];  /* plane sizes as stored, alpha included */
	double phx, phy;      /* chroma sample 0's centre (in luma pixels) */
	size_t sx, sy;	      /* chroma subsampling */
	size_t frame_bytes;   /* all planes of a frame */
	size_t header_bytes;  /* the stream header line */
	unsigned char *raw;   /* one frame as stored */
	unsigned char *p8[3]; /* its planes at 8 bits */
	unsigned char *hi8;   /* their storage when depth > 8 */
	struct vis_resize *rs[3];
	unsigned char *work[3]; /* the planes at the output size (RGB) */
	bool full_range;
	int32_t ly[256], lrv[256], lgu[256], lgv[256], lbu[256];
	unsigned char gray[256];
};

struct ffv {
	AVFormatContext *fmt;
	AVIOContext *io;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	struct SwsContext *sws;
	int stream;
	AVRational tb;
	int64_t start;
	bool draining, done;
	/* What the scaler was set up for. */
	int sw, sh, sfmt, scs, srange;
	char why[256]; /* the last decoding error, for a video none of whose frames decodes */
};

struct vid_reader {
	char *name;
	struct vid_info info;
	enum vid_pix pix;
	int channels;
	unsigned char *out;
	long long index, damaged;
	/* Input bytes, for YUV4MPEG2 and for FFmpeg reading a pipe: buf[bpos..blen) first. */
	struct stream *s;
	unsigned char *buf;
	size_t blen, bpos;
	struct err io_err; /* a read error met inside FFmpeg's callback */
	struct y4m y;
	struct ffv f;
};

/* Reads more bytes into buf (after what it holds): the count, 0 at the end, -1 on error. */
static ssize_t rd_fill(struct vid_reader *r, struct err *e)
{
	ssize_t n;
	if (r->bpos == r->blen)
		r->bpos = r->blen = 0;
	if (r->blen == BUF_CAP) {
		memmove(r->buf, r->buf + r->bpos, r->blen - r->bpos);
		r->blen -= r->bpos;
		r->bpos = 0;
	}
	n = stream_read(r->s, (char *)r->buf + r->blen, BUF_CAP - r->blen, e);
	if (n > 0)
		r->blen += (size_t)n;
	return n;
}

/* Up to n bytes into dst, the buffered ones first: the count (short only at the end), or -1. */
static ssize_t rd_bytes(struct vid_reader *r, unsigned char *dst, size_t n, struct err *e)
{
	size_t got = r->blen - r->bpos;
	if (got > n)
		got = n;
	memcpy(dst, r->buf + r->bpos, got);
	r->bpos += got;
	while (got < n) {
		ssize_t k = stream_read(r->s, (char *)dst + got, n - got, e);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* One line (without its '\n') into line[Y4M_LINE_MAX]: 1, 0 at the end before any byte, -1 on
 * error; *len the bytes read, and *nl false when the stream ended before the '\n'. */
static int rd_line(struct vid_reader *r, char *line, size_t *len, bool *nl, struct err *e)
{
	size_t n = 0;
	*nl = false;
	for (;;) {
		unsigned char *p, *end;
		if (r->bpos == r->blen) {
			ssize_t k = rd_fill(r, e);
			if (k < 0)
				return -1;
			if (k == 0)
				break;
		}
		p = r->buf + r->bpos;
		end = memchr(p, '\n', r->blen - r->bpos);
		size_t take = end ? (size_t)(end - p) : r->blen - r->bpos;
		if (n + take >= Y4M_LINE_MAX)
			take = Y4M_LINE_MAX - 1 - n;
		memcpy(line + n, p, take);
		n += take;
		r->bpos += take;
		if (end && r->buf + r->bpos == end) {
			r->bpos++;
			*nl = true;
			break;
		}
		if (n == Y4M_LINE_MAX - 1)
			break;
	}
	line[n] = '\0';
	*len = n;
	return n || *nl ? 1 : 0;
}

/* The output size from the native one and the options (video.h). */
static int out_size(struct vid_reader *r, const struct vid_opts *o, struct err *e)
{
	size_t w = o->width, h = o->height, nw = r->info.width, nh = r->info.height;
	if (w > VID_MAX_SIDE || h > VID_MAX_SIDE)
		goto big;
	if (!w && !h) {
		w = nw;
		h = nh;
	} else if (!h) {
		h = (size_t)llround((double)w * (double)nh / (double)nw);
	} else if (!w) {
		w = (size_t)llround((double)h * (double)nw / (double)nh);
	}
	if (!w)
		w = 1;
	if (!h)
		h = 1;
	if (w > VID_MAX_SIDE || h > VID_MAX_SIDE || w * h > VID_MAX_PIXELS)
	big:
		return err_set(e, DYN_EUSAGE,
			       "%s: output size %zux%zu too large (at most %d a side, %zu pixels)",
			       r->name, w, h, VID_MAX_SIDE, VID_MAX_PIXELS);
	r->info.out_w = w;
	r->info.out_h = h;
	return 0;
}

static void out_alloc(struct vid_reader *r)
{
	/* A little slack: SIMD scalers may store a whole vector at a row's end. */
	r->out = xmalloc(r->info.out_w * r->info.out_h * (size_t)r->channels + 64);
}

/* ---- YUV4MPEG2 ---- */

/* Text from a stream, fit to quote in a message: control bytes escaped, long text cut. */
static void printable(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i, n = 0;
	for (i = 0; i < len && n + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"')
			dst[n++] = (char)c;
		else
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", c);
		if (n >= 40) {
			n += (size_t)snprintf(dst + n, cap - n, "...");
			break;
		}
	}
	dst[n < cap ? n : cap - 1] = '\0';
}

struct y4m_cs {
	const char *name;
	size_t sx, sy;
	double phx, phy; /* chroma sample 0's centre, luma pixels (vision/resize.h) */
	int nplanes, alpha;
};

/* Chroma siting as FFmpeg reads these tags: "420jpeg" and "420" between the luma pixels,
 * "420mpeg2" co-sited horizontally, "420paldv" co-sited both ways. Longer names first. */
static const struct y4m_cs y4m_spaces[] = {
    {"420jpeg", 2, 2, 1.0, 1.0, 3, 0},	{"420paldv", 2, 2, 0.5, 0.5, 3, 0},
    {"420mpeg2", 2, 2, 0.5, 1.0, 3, 0}, {"444alpha", 1, 1, 0.5, 0.5, 3, 1},
    {"420", 2, 2, 1.0, 1.0, 3, 0},	{"411", 4, 1, 0.5, 0.5, 3, 0},
    {"422", 2, 1, 0.5, 0.5, 3, 0},	{"444", 1, 1, 0.5, 0.5, 3, 0},
    {"mono", 1, 1, 0.5, 0.5, 1, 0},
};

static int y4m_colour(struct vid_reader *r, const char *c, struct err *e)
{
	const struct y4m_cs *cs = NULL;
	const char *rest;
	char shown[64];
	size_t i;
	long depth = 8;
	for (i = 0; i < ARRAY_SIZE(y4m_spaces); i++)
		if (!strncmp(c, y4m_spaces[i].name, strlen(y4m_spaces[i].name))) {
			cs = &y4m_spaces[i];
			break;
		}
	if (!cs)
		goto bad;
	rest = c + strlen(cs->name);
	/* Deeper samples: "420p10", "mono16" (FFmpeg's names). */
	if (*rest) {
		if (cs->alpha || (cs->nplanes == 3 && *rest++ != 'p') ||
		    !isdigit((unsigned char)*rest) || parse_long(rest, &depth) < 0 || depth < 9 ||
		    depth > 16)
			goto bad;
	}
	r->y.depth = (int)depth;
	r->y.nplanes = cs->nplanes;
	r->y.sx = cs->sx;
	r->y.sy = cs->sy;
	r->y.phx = cs->phx;
	r->y.phy = cs->phy;
	r->y.pw[0] = r->info.width;
	r->y.ph[0] = r->info.height;
	for (i = 1; i < (size_t)(cs->nplanes + cs->alpha); i++) {
		bool chroma = i < 3;
		r->y.pw[i] = chroma ? (r->info.width + cs->sx - 1) / cs->sx : r->info.width;
		r->y.ph[i] = chroma ? (r->info.height + cs->sy - 1) / cs->sy : r->info.height;
	}
	r->y.frame_bytes = 0;
	for (i = 0; i < (size_t)(cs->nplanes + cs->alpha); i++)
		r->y.frame_bytes += r->y.pw[i] * r->y.ph[i] * (depth > 8 ? 2 : 1);
	return 0;
bad:
	printable(shown, sizeof(shown), c, strlen(c));
	return err_set(e, DYN_EDATA,
		       "%s: yuv4mpeg: colour space \"C%s\" not supported (420jpeg, "
		       "420paldv, 420mpeg2, 420, 411, 422, 444, 444alpha, mono; "
		       "p9-p16 for deeper samples)",
		       r->name, shown);
}

/* The BT.601 tables (YUV4MPEG2 names no matrix; FFmpeg assumes BT.601 for it too): studio
 * range unless the stream says XCOLORRANGE=FULL. */
static void y4m_tables(struct y4m *y)
{
	double ys = y->full_range ? 1.0 : 255.0 / 219.0, cs = y->full_range ? 1.0 : 255.0 / 224.0;
	double y0 = y->full_range ? 0 : 16, kr = 0.299, kb = 0.114, kg = 1 - kr - kb;
	int v;
	for (v = 0; v < 256; v++) {
		double l = (v - y0) * ys, c = (v - 128) * cs;
		long g = lrint(l);
		y->ly[v] = (int32_t)lrint(l * 65536);
		y->gray[v] = (unsigned char)(g < 0 ? 0 : g > 255 ? 255 : g);
		y->lrv[v] = (int32_t)lrint(2 * (1 - kr) * c * 65536);
		y->lgv[v] = (int32_t)lrint(-2 * (1 - kr) * kr / kg * c * 65536);
		y->lgu[v] = (int32_t)lrint(-2 * (1 - kb) * kb / kg * c * 65536);
		y->lbu[v] = (int32_t)lrint(2 * (1 - kb) * c * 65536);
	}
}

static int y4m_header(struct vid_reader *r, struct err *e)
{
	char line[Y4M_LINE_MAX], *tok, *next, shown[64];
	const char *colour = "420jpeg";
	size_t len;
	bool nl;
	long w = 0, h = 0;
	bool has_w = false, has_h = false;
	int k = rd_line(r, line, &len, &nl, e);

	if (k < 0)
		return -1;
	if (!nl)
		return err_set(e, DYN_EDATA, "%s: yuv4mpeg: %s", r->name,
			       len >= Y4M_LINE_MAX - 1 ? "header line too long"
						       : "truncated header");
	r->y.header_bytes = len + 1;
	r->info.fps = 0;
	for (tok = line + strlen(Y4M_MAGIC); *tok; tok = next) {
		char *colon, *sp = strchr(tok, ' ');
		long num, den;
		next = sp ? sp + 1 : tok + strlen(tok);
		if (sp)
			*sp = '\0';
		switch (tok[0]) {
		case 'W':
		case 'H':
			*(tok[0] == 'W' ? &has_w : &has_h) = true;
			if (parse_long(tok + 1, tok[0] == 'W' ? &w : &h) < 0) {
				printable(shown, sizeof(shown), tok, strlen(tok));
				return err_set(e, DYN_EDATA, "%s: yuv4mpeg: bad %s \"%s\"", r->name,
					       tok[0] == 'W' ? "width" : "height", shown);
			}
			break;
		case 'F':
			printable(shown, sizeof(shown), tok, strlen(tok));
			colon = strchr(tok, ':');
			if (colon)
				*colon = '\0';
			if (!colon || parse_long(tok + 1, &num) < 0 ||
			    parse_long(colon + 1, &den) < 0 || num < 0 || den < 0)
				return err_set(e, DYN_EDATA, "%s: yuv4mpeg: bad frame rate \"%s\"",
					       r->name, shown);
			if (num > 0 && den > 0)
				r->info.fps = (double)num / (double)den;
			break;
		case 'C':
			colour = tok + 1;
			break;
		case 'X':
			if (!strcmp(tok, "XCOLORRANGE=FULL"))
				r->y.full_range = true;
			break;
		default: /* I (interlacing), A (aspect) and unknown tags change no pixel */
			break;
		}
	}
	if (!has_w || !has_h)
		return err_set(e, DYN_EDATA, "%s: yuv4mpeg: header without %s", r->name,
			       !has_w ? "width (W)" : "height (H)");
	/* Before anything is allocated: a corrupt header must not take the memory. */
	if (w < 1 || h < 1 || w > VID_MAX_SIDE || h > VID_MAX_SIDE ||
	    (size_t)w * (size_t)h > VID_MAX_PIXELS)
		return err_set(e, DYN_EDATA,
			       "%s: yuv4mpeg: frame size %ldx%ld out of range (1 to %d a side, at "
			       "most %zu pixels)",
			       r->name, w, h, VID_MAX_SIDE, VID_MAX_PIXELS);
	r->info.width = (size_t)w;
	r->info.height = (size_t)h;
	return y4m_colour(r, colour, e);
}

static int y4m_open(struct vid_reader *r, const char *path, const struct vid_opts *o, bool probe,
		    struct err *e)
{
	struct y4m *y = &r->y;
	struct stat st;
	size_t i, ow, oh, np;

	r->info.y4m = true;
	snprintf(r->info.codec, sizeof(r->info.codec), "yuv4mpeg");
	if (y4m_header(r, e) < 0)
		return -1;
	/* Frames of a plain file are all "FRAME\n" and planes in practice: its size gives the
	 * count when it divides exactly (frame parameters would make it fail to). */
	r->info.frames = -1;
	if (path && !stream_compressed(r->s) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size >= y->header_bytes) {
		size_t body = (size_t)st.st_size - y->header_bytes, one = y->frame_bytes + 6;
		if (body % one == 0)
			r->info.frames = (long long)(body / one);
	}
	if (r->info.frames >= 0 && r->info.fps > 0)
		r->info.duration = (double)r->info.frames / r->info.fps;
	if (probe)
		return 0;
	if (out_size(r, o, e) < 0)
		return -1;
	y4m_tables(y);
	ow = r->info.out_w;
	oh = r->info.out_h;
	y->raw = xmalloc(y->frame_bytes);
	np = (size_t)y->nplanes;
	if (y->depth > 8) {
		size_t at = 0;
		y->hi8 = xmalloc(y->pw[0] * y->ph[0] + (np > 1 ? 2 * y->pw[1] * y->ph[1] : 0));
		for (i = 0; i < np; i++) {
			y->p8[i] = y->hi8 + at;
			at += y->pw[i] * y->ph[i];
		}
	} else {
		size_t at = 0;
		for (i = 0; i < np; i++) {
			y->p8[i] = y->raw + at;
			at += y->pw[i] * y->ph[i];
		}
	}
	/* Gray needs the luma plane only; RGB needs all three, each resampled from where its
	 * samples sit straight to the output size. */
	for (i = 0; i < (r->pix == VID_GRAY ? 1 : np); i++) {
		struct vis_axis ax = {y->pw[i], r->info.width, 1, 0.5};
		struct vis_axis ay = {y->ph[i], r->info.height, 1, 0.5};
		if (i) {
			ax.step = (double)y->sx;
			ax.phase = y->phx;
			ay.step = (double)y->sy;
			ay.phase = y->phy;
		}
		if (vis_resize_new(&y->rs[i], &ax, &ay, ow, oh, e) < 0)
			return err_prefix(e, "%s", r->name);
		if (r->pix != VID_GRAY)
			y->work[i] = xmalloc(ow * oh);
	}
	out_alloc(r);
	return 0;
}

static inline unsigned char clamp8(int32_t v)
{
	v = (v + 32768) >> 16;
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void y4m_convert(struct vid_reader *r)
{
	struct y4m *y = &r->y;
	size_t i, n = r->info.out_w * r->info.out_h, np = (size_t)y->nplanes;
	unsigned char *o = r->out;

	if (y->depth > 8) {
		/* Studio levels scale by powers of two between depths: a shift keeps them. */
		int shift = y->depth - 8;
		uint32_t max = (1u << y->depth) - 1, half = 1u << (shift - 1);
		const unsigned char *s = y->raw;
		for (i = 0; i < np; i++) {
			size_t k, m = y->pw[i] * y->ph[i];
			for (k = 0; k < m; k++, s += 2) {
				uint32_t v = (uint32_t)s[0] | (uint32_t)s[1] << 8;
				v = v > max ? max : v;
				v = (v + half) >> shift;
				y->p8[i][k] = (unsigned char)(v > 255 ? 255 : v);
			}
		}
	}
	if (r->pix == VID_GRAY) {
		vis_resize_run(y->rs[0], o, r->info.out_w, y->p8[0], y->pw[0]);
		for (i = 0; i < n; i++)
			o[i] = y->gray[o[i]];
		return;
	}
	for (i = 0; i < np; i++)
		vis_resize_run(y->rs[i], y->work[i], r->info.out_w, y->p8[i], y->pw[i]);
	if (np == 1) {
		for (i = 0; i < n; i++) {
			unsigned char g = y->gray[y->work[0][i]];
			if (r->pix == VID_RGB)
				o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = g;
			else
				o[i] = o[n + i] = o[2 * n + i] = g;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		int32_t l = y->ly[y->work[0][i]];
		unsigned char u = y->work[1][i], v = y->work[2][i];
		unsigned char R = clamp8(l + y->lrv[v]), G = clamp8(l + y->lgu[u] + y->lgv[v]),
			      B = clamp8(l + y->lbu[u]);
		if (r->pix == VID_RGB) {
			o[3 * i] = R;
			o[3 * i + 1] = G;
			o[3 * i + 2] = B;
		} else {
			o[i] = R;
			o[n + i] = G;
			o[2 * n + i] = B;
		}
	}
}

static int y4m_next(struct vid_reader *r, struct vid_frame *f, struct err *e)
{
	char line[Y4M_LINE_MAX], shown[64];
	size_t len;
	bool nl;
	ssize_t got;
	int k = rd_line(r, line, &len, &nl, e);

	if (k <= 0)
		return k;
	if (len < 5 || memcmp(line, "FRAME", 5) || (len > 5 && line[5] != ' ')) {
		printable(shown, sizeof(shown), line, len < 40 ? len : 40);
		return err_set(e, DYN_EDATA,
			       "%s: yuv4mpeg: frame %lld: expected a FRAME line, found \"%s\"",
			       r->name, r->index, shown);
	}
	if (!nl)
		return err_set(e, DYN_EDATA, "%s: yuv4mpeg: frame %lld: %s", r->name, r->index,
			       len >= Y4M_LINE_MAX - 1 ? "frame line too long"
						       : "truncated frame header");
	got = rd_bytes(r, r->y.raw, r->y.frame_bytes, e);
	if (got < 0)
		return -1;
	if ((size_t)got < r->y.frame_bytes)
		return err_set(e, DYN_EDATA,
			       "%s: yuv4mpeg: frame %lld truncated: %zu of its %zu bytes missing",
			       r->name, r->index, r->y.frame_bytes - (size_t)got, r->y.frame_bytes);
	y4m_convert(r);
	f->time = r->info.fps > 0 ? (double)r->index / r->info.fps : -1;
	return 1;
}

static void y4m_release(struct y4m *y)
{
	size_t i;
	for (i = 0; i < 3; i++) {
		vis_resize_free(&y->rs[i]);
		free(y->work[i]);
	}
	free(y->raw);
	free(y->hi8);
}

/* ---- FFmpeg ---- */

/* FFmpeg's read callback for a pipe or a compressed file: the sniffed bytes, then the stream. */
static int ff_read(void *opaque, uint8_t *dst, int cap)
{
	struct vid_reader *r = opaque;
	ssize_t n;
	if (r->bpos < r->blen) {
		size_t take = r->blen - r->bpos;
		if (take > (size_t)cap)
			take = (size_t)cap;
		memcpy(dst, r->buf + r->bpos, take);
		r->bpos += take;
		return (int)take;
	}
	n = stream_read(r->s, (char *)dst, (size_t)cap, &r->io_err);
	if (n < 0)
		return AVERROR(EIO);
	return n ? (int)n : AVERROR_EOF;
}

/* Picture formats FFmpeg would read as a one-frame video: image2 and the *_pipe demuxers. */
static bool ff_still(const char *fmt)
{
	size_t n = strlen(fmt);
	return !strcmp(fmt, "image2") || (n > 5 && !strcmp(fmt + n - 5, "_pipe"));
}

static int ff_open(struct vid_reader *r, const char *path, const struct vid_opts *o, bool probe,
		   struct err *e)
{
	struct ffv *f = &r->f;
	const AVCodec *codec = NULL;
	AVStream *st;
	AVRational fr;
	char why[256];
	int k;

	if (vid_ffmpeg_load(r->name, e) < 0)
		return -1;
	av_msg_clear();
	f->fmt = ff.avformat_alloc_context();
	if (!f->fmt)
		return err_set(e, DYN_EDATA, "%s: out of memory", r->name);
	if (!path) {
		unsigned char *iobuf = ff.av_malloc(BUF_CAP);
		if (iobuf)
			f->io = ff.avio_alloc_context(iobuf, BUF_CAP, 0, r, ff_read, NULL, NULL);
		if (!f->io) {
			ff.av_freep(&iobuf);
			return err_set(e, DYN_EDATA, "%s: out of memory", r->name);
		}
		f->fmt->pb = f->io;
		f->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	}
	k = ff.avformat_open_input(&f->fmt, path ? path : "", NULL, NULL);
	if (k < 0) {
		f->fmt = NULL; /* freed by avformat_open_input */
		if (r->io_err.code) {
			*e = r->io_err;
			return -1;
		}
		av_why(k, why, sizeof(why));
		return err_set(e, DYN_EDATA, "%s: not a video FFmpeg can read (%s)", r->name, why);
	}
	if (ff_still(f->fmt->iformat->name))
		return err_set(e, DYN_EDATA, "%s: a still picture (%s), not a video", r->name,
			       f->fmt->iformat->name);
	k = ff.avformat_find_stream_info(f->fmt, NULL);
	if (k < 0) {
		av_why(k, why, sizeof(why));
		return err_set(e, DYN_EDATA, "%s: not a video FFmpeg can read (%s)", r->name, why);
	}
	k = ff.av_find_best_stream(f->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (k == AVERROR_STREAM_NOT_FOUND ||
	    (k >= 0 && f->fmt->streams[k]->disposition & AV_DISPOSITION_ATTACHED_PIC))
		return err_set(e, DYN_EDATA, "%s: no video stream (format %s)", r->name,
			       f->fmt->iformat->name);
	if (k < 0 || !codec) {
		st = k >= 0 ? f->fmt->streams[k] : NULL;
		return err_set(e, DYN_EDATA, "%s: no decoder for its video (%s)", r->name,
			       st ? ff.avcodec_get_name(st->codecpar->codec_id) : "unknown codec");
	}
	f->stream = k;
	st = f->fmt->streams[k];
	f->tb = st->time_base;
	f->start = st->start_time;
	r->info.width = st->codecpar->width > 0 ? (size_t)st->codecpar->width : 0;
	r->info.height = st->codecpar->height > 0 ? (size_t)st->codecpar->height : 0;
	if (!r->info.width || !r->info.height || r->info.width > VID_MAX_SIDE ||
	    r->info.height > VID_MAX_SIDE || r->info.width * r->info.height > VID_MAX_PIXELS)
		return err_set(e, DYN_EDATA, "%s: video frame size %dx%d out of range", r->name,
			       st->codecpar->width, st->codecpar->height);
	fr = ff.av_guess_frame_rate(f->fmt, st, NULL);
	r->info.fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
	r->info.frames = st->nb_frames > 0 ? (long long)st->nb_frames : -1;
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
		r->info.duration = (double)st->duration * av_q2d(st->time_base);
	else if (f->fmt->duration != AV_NOPTS_VALUE && f->fmt->duration > 0)
		r->info.duration = (double)f->fmt->duration / AV_TIME_BASE;
	snprintf(r->info.codec, sizeof(r->info.codec), "%s", codec->name);
	if (probe)
		return 0;
	if (out_size(r, o, e) < 0)
		return -1;

	f->dec = ff.avcodec_alloc_context3(codec);
	if (!f->dec || ff.avcodec_parameters_to_context(f->dec, st->codecpar) < 0)
		return err_set(e, DYN_EDATA, "%s: cannot set up the %s decoder", r->name,
			       codec->name);
	f->dec->pkt_timebase = st->time_base;
	f->dec->thread_count = o->threads;
	f->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	k = ff.avcodec_open2(f->dec, codec, NULL);
	if (k < 0) {
		av_why(k, why, sizeof(why));
		return err_set(e, DYN_EDATA, "%s: cannot open the %s decoder (%s)", r->name,
			       codec->name, why);
	}
	f->pkt = ff.av_packet_alloc();
	f->frame = ff.av_frame_alloc();
	if (!f->pkt || !f->frame)
		return err_set(e, DYN_EDATA, "%s: out of memory", r->name);
	f->sfmt = -1;
	out_alloc(r);
	return 0;
}

static bool ff_full_range(const AVFrame *fr)
{
	switch (fr->format) {
	case AV_PIX_FMT_YUVJ420P:
	case AV_PIX_FMT_YUVJ422P:
	case AV_PIX_FMT_YUVJ444P:
	case AV_PIX_FMT_YUVJ440P:
	case AV_PIX_FMT_YUVJ411P:
		return true;
	default:
		return fr->color_range == AVCOL_RANGE_JPEG;
	}
}

/* Converts and scales the decoded frame into r->out. */
static int ff_convert(struct vid_reader *r, struct err *e)
{
	struct ffv *f = &r->f;
	const AVFrame *fr = f->frame;
	size_t ow = r->info.out_w, oh = r->info.out_h, plane = ow * oh;
	uint8_t *dst[4] = {NULL};
	int stride[4] = {0};
	enum AVPixelFormat dfmt;
	int cs = fr->colorspace, range = ff_full_range(fr);

	switch (r->pix) {
	case VID_GRAY:
		dfmt = AV_PIX_FMT_GRAY8;
		dst[0] = r->out;
		stride[0] = (int)ow;
		break;
	case VID_RGB:
		dfmt = AV_PIX_FMT_RGB24;
		dst[0] = r->out;
		stride[0] = (int)(3 * ow);
		break;
	default:
		/* libswscale's planar RGB is G, B, R. */
		dfmt = AV_PIX_FMT_GBRP;
		dst[0] = r->out + plane;
		dst[1] = r->out + 2 * plane;
		dst[2] = r->out;
		stride[0] = stride[1] = stride[2] = (int)ow;
		break;
	}
	if (fr->width != f->sw || fr->height != f->sh || fr->format != f->sfmt || cs != f->scs ||
	    range != f->srange) {
		/* Bilinear widened by the factor when shrinking, as vision/resize.h does for
		 * YUV4MPEG2; exact rounding and full chroma so RGB matches it too. */
		f->sws = ff.sws_getCachedContext(
		    f->sws, fr->width, fr->height, fr->format, (int)ow, (int)oh, dfmt,
		    SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
		if (!f->sws)
			return err_set(
			    e, DYN_EDATA, "%s: frame %lld: cannot convert %dx%d %s frames", r->name,
			    r->index, fr->width, fr->height, ff.av_get_pix_fmt_name(fr->format));
		ff.sws_setColorspaceDetails(
		    f->sws,
		    ff.sws_getCoefficients(cs == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : cs),
		    range, ff.sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
		f->sw = fr->width;
		f->sh = fr->height;
		f->sfmt = fr->format;
		f->scs = cs;
		f->srange = range;
	}
	ff.sws_scale(f->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, dst,
		     stride);
	return 0;
}

static int ff_next(struct vid_reader *r, struct vid_frame *out, struct err *e)
{
	struct ffv *f = &r->f;
	char why[256];
	int k;

	if (f->done)
		return 0;
	for (;;) {
		k = ff.avcodec_receive_frame(f->dec, f->frame);
		if (k == 0)
			break;
		if (k == AVERROR_EOF) {
			f->done = true;
			if (!r->index && r->damaged)
				return err_set(
				    e, DYN_EDATA,
				    "%s: cannot be decoded: no frame of its %s video (%s)", r->name,
				    r->info.codec, f->why);
			return 0;
		}
		if (k == AVERROR_INVALIDDATA) {
			/* Frame threads report a damaged packet here. */
			av_why(k, f->why, sizeof(f->why));
			av_msg_clear();
			r->damaged++;
			continue;
		}
		if (k != AVERROR(EAGAIN)) {
			av_why(k, why, sizeof(why));
			return err_set(e, DYN_EDATA, "%s: frame %lld: %s", r->name, r->index, why);
		}
		if (f->draining)
			return 0;
		k = ff.av_read_frame(f->fmt, f->pkt);
		if (k == AVERROR_EOF) {
			f->draining = true;
			ff.avcodec_send_packet(f->dec, NULL);
			continue;
		}
		if (k < 0) {
			if (r->io_err.code) {
				*e = r->io_err;
				return -1;
			}
			av_why(k, why, sizeof(why));
			return err_set(e, DYN_EDATA, "%s: after frame %lld: %s", r->name, r->index,
				       why);
		}
		if (f->pkt->stream_index != f->stream) {
			ff.av_packet_unref(f->pkt);
			continue;
		}
		k = ff.avcodec_send_packet(f->dec, f->pkt);
		ff.av_packet_unref(f->pkt);
		if (k == AVERROR_INVALIDDATA) {
			av_why(k, f->why, sizeof(f->why));
			av_msg_clear();
			r->damaged++;
		} else if (k < 0 && k != AVERROR(EAGAIN)) {
			av_why(k, why, sizeof(why));
			return err_set(e, DYN_EDATA, "%s: frame %lld: %s", r->name, r->index, why);
		}
	}
	if (ff_convert(r, e) < 0) {
		ff.av_frame_unref(f->frame);
		return -1;
	}
	{
		int64_t ts = f->frame->best_effort_timestamp;
		if (ts != AV_NOPTS_VALUE) {
			if (f->start == AV_NOPTS_VALUE)
				f->start = ts;
			out->time = (double)(ts - f->start) * av_q2d(f->tb);
		} else {
			out->time = r->info.fps > 0 ? (double)r->index / r->info.fps : -1;
		}
	}
	ff.av_frame_unref(f->frame);
	return 1;
}

static void ff_release(struct ffv *f)
{
	if (f->sws)
		ff.sws_freeContext(f->sws);
	if (f->frame)
		ff.av_frame_free(&f->frame);
	if (f->pkt)
		ff.av_packet_free(&f->pkt);
	if (f->dec)
		ff.avcodec_free_context(&f->dec);
	if (f->fmt)
		ff.avformat_close_input(&f->fmt);
	if (f->io) {
		ff.av_freep(&f->io->buffer);
		ff.avio_context_free(&f->io);
	}
}

/* ---- the public face ---- */

bool vid_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	static const unsigned char ebml[] = {0x1a, 0x45, 0xdf, 0xa3};
	static const unsigned char asf[] = {0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11};
	static const unsigned char ps[] = {0x00, 0x00, 0x01, 0xba};
	if (len >= 10 && !memcmp(p, Y4M_MAGIC, 10))
		return true;
	if (len >= 8 && !memcmp(p + 4, "ftyp", 4))
		return true;
	if (len >= 4 && !memcmp(p, ebml, 4))
		return true;
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "AVI ", 4))
		return true;
	if (len >= 4 && !memcmp(p, ps, 4))
		return true;
	/* MPEG-TS: sync bytes every 188 bytes. */
	if (len >= 377 && p[0] == 0x47 && p[188] == 0x47 && p[376] == 0x47)
		return true;
	if (len >= 4 && !memcmp(p, "FLV", 3) && p[3] == 1)
		return true;
	if (len >= 4 && !memcmp(p, "OggS", 4))
		return true;
	if (len >= 8 && !memcmp(p, asf, 8))
		return true;
	return false;
}

bool vid_name(const char *name)
{
	static const char *const ext[] = {".mp4",  ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg",
					  ".mpeg", ".ts",  ".flv", ".ogv", ".wmv",  ".y4m"};
	size_t i, n = strlen(name);
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t m = strlen(ext[i]);
		if (n > m && !strcasecmp(name + n - m, ext[i]))
			return true;
	}
	return false;
}

static int vid_open_mode(struct vid_reader **out, const char *path, const struct vid_opts *o,
			 bool probe, struct err *e)
{
	static const struct vid_opts dflt = VID_OPTS_INIT;
	struct vid_reader *r = xcalloc(1, sizeof(*r));
	bool stdin_ = !path || !strcmp(path, "-");
	int ret = -1;

	if (!o)
		o = &dflt;
	r->name = xstrdup(stdin_ ? "stdin" : path);
	r->f.stream = -1;
	r->info.frames = -1;
	if (o->pix != VID_GRAY && o->pix != VID_RGB && o->pix != VID_RGB_PLANAR) {
		err_set(e, DYN_EUSAGE, "%s: unknown pixel layout %d", r->name, (int)o->pix);
		goto out;
	}
	if (o->threads < 0) {
		err_set(e, DYN_EUSAGE, "%s: %d decoding threads", r->name, o->threads);
		goto out;
	}
	r->pix = o->pix;
	r->channels = o->pix == VID_GRAY ? 1 : 3;
	if (stream_open(&r->s, stdin_ ? NULL : path, e) < 0)
		goto out;
	r->buf = xmalloc(BUF_CAP);
	while (r->blen < 10) {
		ssize_t n = rd_fill(r, e);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
	}
	if (!r->blen) {
		err_set(e, DYN_EDATA, "%s: empty input, not a video", r->name);
		goto out;
	}
	if (r->blen >= 10 && !memcmp(r->buf, Y4M_MAGIC, 10)) {
		if (y4m_open(r, stdin_ ? NULL : path, o, probe, e) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	if (img_sniff(r->buf, r->blen)) {
		err_set(e, DYN_EDATA, "%s: a still picture, not a video", r->name);
		goto out;
	}
	if (!stdin_ && !stream_compressed(r->s)) {
		/* A file by name: FFmpeg can seek (an MP4's index is often at the end). */
		stream_free(&r->s);
		r->blen = r->bpos = 0;
		if (ff_open(r, path, o, probe, e) < 0)
			goto out;
	} else if (ff_open(r, NULL, o, probe, e) < 0) {
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		vid_free(&r);
	*out = r;
	return ret;
}

int vid_open(struct vid_reader **r, const char *path, const struct vid_opts *o, struct err *e)
{
	return vid_open_mode(r, path, o, false, e);
}

void vid_free(struct vid_reader **rp)
{
	struct vid_reader *r = *rp;
	if (!r)
		return;
	if (r->info.y4m)
		y4m_release(&r->y);
	else
		ff_release(&r->f);
	stream_free(&r->s);
	free(r->buf);
	free(r->out);
	free(r->name);
	free(r);
	*rp = NULL;
}

const struct vid_info *vid_info(const struct vid_reader *r)
{
	return &r->info;
}

long long vid_damaged(const struct vid_reader *r)
{
	return r->damaged;
}

int vid_next(struct vid_reader *r, struct vid_frame *f, struct err *e)
{
	int k = r->info.y4m ? y4m_next(r, f, e) : ff_next(r, f, e);
	if (k <= 0)
		return k;
	f->px = r->out;
	f->w = r->info.out_w;
	f->h = r->info.out_h;
	f->channels = r->channels;
	f->index = r->index++;
	return 1;
}

int vid_probe(const char *path, struct vid_info *info, struct err *e)
{
	struct vid_reader *r;
	if (!path || !strcmp(path, "-"))
		return err_set(e, DYN_EUSAGE,
			       "stdin: cannot be probed and then read (open it instead)");
	if (vid_open_mode(&r, path, NULL, true, e) < 0)
		return -1;
	*info = r->info;
	info->out_w = info->width;
	info->out_h = info->height;
	vid_free(&r);
	return 0;
}

/* ---- the writer ---- */

enum vw_kind { VW_Y4M, VW_FFMPEG, VW_PNG };

struct vid_writer {
	enum vw_kind kind;
	char *path; /* as given: the final name */
	char *name; /* for messages: the path quoted, or stdout */
	char *tmp;  /* the file being written, renamed to path by close; NULL when none */
	size_t w, h;
	AVRational rate;
	long long frames;
	/* YUV4MPEG2 */
	FILE *fp;
	bool to_stdout;
	unsigned char *yuv;
	/* FFmpeg */
	AVFormatContext *oc;
	AVCodecContext *enc;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	size_t ew, eh;	    /* the encoded size: w, h padded to whole chroma samples */
	unsigned char *pad; /* a frame padded to ew x eh, when that differs */
};

/* The rate as a fraction containers store: whole numbers, NTSC's n*1000/1001, else in
 * thousandths. */
static AVRational vw_rate(double fps)
{
	double r = round(fps), ntsc = round(fps * 1.001);
	if (r >= 1 && fabs(fps - r) < 1e-6)
		return (AVRational){(int)r, 1};
	if (ntsc >= 1 && fabs(fps * 1.001 - ntsc) < 1e-3)
		return (AVRational){(int)ntsc * 1000, 1001};
	return (AVRational){(int)lrint(fps * 1000), 1000};
}

/* Creates a new empty file next to path, named after it, for writing path under another name
 * until it is complete: its name in *tmp (owned by the caller) and an open descriptor, or -1
 * with errno set. O_EXCL with the mode 0666 gives the file the permissions of one created
 * directly (mkstemp's would be 0600). */
static int vw_tmp_open(const char *path, char **tmp)
{
	static unsigned counter;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0, tries, fd = -1;
	struct strbuf sb = STRBUF_INIT;
	for (tries = 0; tries < 100; tries++) {
		unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		strbuf_reset(&sb);
		/* A long name is cut so that the temporary one stays under NAME_MAX. */
		strbuf_addf(&sb, "%.*s.%.100s.tmp-%ld-%u", dirlen, path, base, (long)getpid(), k);
		fd = open(sb.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int saved = errno;
		strbuf_release(&sb);
		errno = saved;
		return -1;
	}
	*tmp = strbuf_detach(&sb, NULL);
	return fd;
}

/* Puts the finished temporary file *tmp under its final name (freeing and clearing *tmp). */
static int vw_commit(char **tmp, const char *path, const char *name, struct err *e)
{
	int ret = 0;
	if (rename(*tmp, path) < 0) {
		ret = err_sys(e, "%s", name);
		unlink(*tmp);
	}
	FREE_AND_NULL(*tmp);
	return ret;
}

/* ---- YUV4MPEG2 out ---- */

static int vw_y4m_open(struct vid_writer *w, struct err *e)
{
	if (w->to_stdout) {
		w->fp = stdout;
	} else {
		int fd = vw_tmp_open(w->path, &w->tmp);
		if (fd < 0)
			return err_sys(e, "%s", w->name);
		w->fp = fdopen(fd, "wb");
		if (!w->fp) {
			close(fd);
			return err_sys(e, "%s", w->name);
		}
	}
	w->yuv = xmallocarray(w->w * w->h, 3);
	if (fprintf(w->fp, "%s W%zu H%zu F%d:%d Ip A1:1 C444 XCOLORRANGE=FULL\n", "YUV4MPEG2", w->w,
		    w->h, w->rate.num, w->rate.den) < 0)
		return err_sys(e, "%s", w->name);
	return 0;
}

static inline unsigned char vw_clamp16(int32_t v)
{
	v = (v + 32768) >> 16;
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Full-range BT.601 (JPEG's YCbCr), in 16-bit fixed point whose weights sum exactly to 1 and
 * 0: a gray pixel is Y = its value, Cb = Cr = 128, and comes back unchanged. */
static int vw_y4m_put(struct vid_writer *w, const unsigned char *rgb, struct err *e)
{
	size_t i, n = w->w * w->h;
	unsigned char *Y = w->yuv, *U = Y + n, *V = U + n;
	for (i = 0; i < n; i++) {
		int32_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
		Y[i] = vw_clamp16(19595 * r + 38470 * g + 7471 * b);
		U[i] = vw_clamp16((128 << 16) - 11059 * r - 21709 * g + 32768 * b);
		V[i] = vw_clamp16((128 << 16) + 32768 * r - 27439 * g - 5329 * b);
	}
	if (fwrite("FRAME\n", 1, 6, w->fp) != 6 || fwrite(w->yuv, 1, 3 * n, w->fp) != 3 * n)
		return err_sys(e, "%s: frame %lld", w->name, w->frames);
	return 0;
}

static int vw_y4m_close(struct vid_writer *w, struct err *e)
{
	FILE *fp = w->fp;
	w->fp = NULL;
	if (w->to_stdout) {
		/* Standard output stays open (the command may write more or check it again). */
		errno = 0;
		if (fflush(fp) != 0 || ferror(fp))
			return errno ? err_sys(e, "stdout")
				     : err_set(e, DYN_EDATA, "stdout: write error");
		return 0;
	}
	if (fclose(fp) != 0)
		return err_sys(e, "%s", w->name);
	return vw_commit(&w->tmp, w->path, w->name, e);
}

/* ---- FFmpeg out ---- */

static int vw_fferr(struct vid_writer *w, int code, const char *doing, struct err *e)
{
	char why[256];
	av_why(code, why, sizeof(why));
	return err_set(e, DYN_EDATA, "%s: %s: %s", w->name, doing, why);
}

/* H.264 where the container takes it (libx264: Debian's FFmpeg has it), else MPEG-4 part 2
 * (FFmpeg's own encoder, always built), else the container's default (VP9 for WebM). */
static const AVCodec *vw_encoder(const AVOutputFormat *of)
{
	const AVCodec *c;
	if (ff.avformat_query_codec(of, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 1 &&
	    (c = ff.avcodec_find_encoder_by_name("libx264")))
		return c;
	if (ff.avformat_query_codec(of, AV_CODEC_ID_MPEG4, FF_COMPLIANCE_NORMAL) == 1 &&
	    (c = ff.avcodec_find_encoder(AV_CODEC_ID_MPEG4)))
		return c;
	return of->video_codec != AV_CODEC_ID_NONE ? ff.avcodec_find_encoder(of->video_codec)
						   : NULL;
}

/* yuv420p, which every player reads, when the encoder takes it; else its first format. */
static enum AVPixelFormat vw_pix_fmt(const AVCodec *c)
{
	const enum AVPixelFormat *p;
	if (!c->pix_fmts)
		return AV_PIX_FMT_YUV420P;
	for (p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
		if (*p == AV_PIX_FMT_YUV420P)
			return *p;
	return c->pix_fmts[0];
}

/* Encoder settings for a picture worth looking at: libx264's defaults are slow, and FFmpeg's
 * default bit rate (200 kb/s) leaves MPEG-4 and VP9 blocky. */
static void vw_quality(AVCodecContext *enc, const AVCodec *c, AVDictionary **opts)
{
	if (!strcmp(c->name, "libx264")) {
		ff.av_dict_set(opts, "preset", "veryfast", 0);
		ff.av_dict_set(opts, "crf", "20", 0);
	} else if (!strcmp(c->name, "libvpx-vp9")) {
		ff.av_dict_set(opts, "crf", "32", 0);
		ff.av_dict_set(opts, "row-mt", "1", 0);
		enc->bit_rate = 0;
	} else {
		enc->flags |= AV_CODEC_FLAG_QSCALE;
		enc->global_quality = FF_QP2LAMBDA * 3;
	}
}

static int vw_ff_open(struct vid_writer *w, struct err *e)
{
	const AVOutputFormat *of;
	const AVCodec *codec;
	const AVPixFmtDescriptor *d;
	AVCodecContext *enc;
	AVDictionary *opts = NULL;
	struct strbuf url = STRBUF_INIT;
	enum AVPixelFormat pf;
	size_t bx, by;
	int k, fd, ret = -1;

	/* The name is reserved first (a missing folder is named before FFmpeg is loaded);
	 * FFmpeg opens it again ("file:" so that a ':' in it is not read as a protocol). */
	fd = vw_tmp_open(w->path, &w->tmp);
	if (fd < 0)
		return err_sys(e, "%s", w->name);
	close(fd);
	strbuf_addf(&url, "file:%s", w->tmp);
	if (vid_ffmpeg_load(w->name, e) < 0)
		goto out;
	av_msg_clear();
	k = ff.avformat_alloc_output_context2(&w->oc, NULL, NULL, w->path);
	if (k < 0 || !w->oc) {
		w->oc = NULL;
		vw_fferr(w, k < 0 ? k : AVERROR(ENOMEM), "no FFmpeg format for this name", e);
		goto out;
	}
	of = w->oc->oformat;
	codec = vw_encoder(of);
	if (!codec) {
		err_set(e, DYN_EDATA, "%s: this FFmpeg has no video encoder for the %s format",
			w->name, of->name);
		goto out;
	}
	enc = w->enc = ff.avcodec_alloc_context3(codec);
	if (!enc) {
		err_set(e, DYN_EDATA, "%s: out of memory", w->name);
		goto out;
	}
	pf = vw_pix_fmt(codec);
	d = ff.av_pix_fmt_desc_get(pf);
	bx = d ? (size_t)1 << d->log2_chroma_w : 1;
	by = d ? (size_t)1 << d->log2_chroma_h : 1;
	w->ew = (w->w + bx - 1) / bx * bx;
	w->eh = (w->h + by - 1) / by * by;
	enc->width = (int)w->ew;
	enc->height = (int)w->eh;
	enc->pix_fmt = pf;
	enc->framerate = w->rate;
	enc->time_base = (AVRational){w->rate.den, w->rate.num};
	enc->sample_aspect_ratio = (AVRational){1, 1};
	enc->thread_count = 0;
	if (d && !(d->flags & AV_PIX_FMT_FLAG_RGB)) {
		/* What libswscale converts RGB to by default (BT.601; studio range but for the
		 * JPEG formats): say so, for players. */
		enc->colorspace = AVCOL_SPC_SMPTE170M;
		enc->color_range =
		    strncmp(d->name, "yuvj", 4) ? AVCOL_RANGE_MPEG : AVCOL_RANGE_JPEG;
	}
	if (of->flags & AVFMT_GLOBALHEADER)
		enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	vw_quality(enc, codec, &opts);
	k = ff.avcodec_open2(enc, codec, &opts);
	if (k < 0) {
		char doing[96];
		snprintf(doing, sizeof(doing), "cannot open the %s encoder", codec->name);
		vw_fferr(w, k, doing, e);
		goto out;
	}
	w->st = ff.avformat_new_stream(w->oc, NULL);
	if (!w->st || ff.avcodec_parameters_from_context(w->st->codecpar, enc) < 0) {
		err_set(e, DYN_EDATA, "%s: out of memory", w->name);
		goto out;
	}
	w->st->time_base = enc->time_base;
	w->st->avg_frame_rate = w->rate;
	if (!(of->flags & AVFMT_NOFILE)) {
		k = ff.avio_open(&w->oc->pb, url.buf, AVIO_FLAG_WRITE);
		if (k < 0) {
			vw_fferr(w, k, "cannot write", e);
			goto out;
		}
	}
	k = ff.avformat_write_header(w->oc, NULL);
	if (k < 0) {
		vw_fferr(w, k, "cannot write the header", e);
		goto out;
	}
	w->frame = ff.av_frame_alloc();
	w->pkt = ff.av_packet_alloc();
	if (!w->frame || !w->pkt) {
		err_set(e, DYN_EDATA, "%s: out of memory", w->name);
		goto out;
	}
	w->frame->format = pf;
	w->frame->width = enc->width;
	w->frame->height = enc->height;
	k = ff.av_frame_get_buffer(w->frame, 0);
	if (k < 0) {
		vw_fferr(w, k, "out of memory", e);
		goto out;
	}
	w->sws = ff.sws_getCachedContext(
	    NULL, enc->width, enc->height, AV_PIX_FMT_RGB24, enc->width, enc->height, pf,
	    SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
	if (!w->sws) {
		err_set(e, DYN_EDATA, "%s: cannot convert RGB frames to %s", w->name,
			ff.av_get_pix_fmt_name(pf));
		goto out;
	}
	if (w->ew != w->w || w->eh != w->h)
		w->pad = xmallocarray(w->ew * w->eh, 3);
	ret = 0;
out:
	ff.av_dict_free(&opts);
	strbuf_release(&url);
	return ret;
}

/* Hands the encoder's waiting packets to the muxer. */
static int vw_drain(struct vid_writer *w, struct err *e)
{
	for (;;) {
		int k = ff.avcodec_receive_packet(w->enc, w->pkt);
		if (k == AVERROR(EAGAIN) || k == AVERROR_EOF)
			return 0;
		if (k < 0)
			return vw_fferr(w, k, "encoding", e);
		ff.av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
		w->pkt->stream_index = w->st->index;
		/* Takes the packet's data and leaves pkt blank. */
		k = ff.av_interleaved_write_frame(w->oc, w->pkt);
		if (k < 0)
			return vw_fferr(w, k, "writing", e);
	}
}

static int vw_ff_put(struct vid_writer *w, const unsigned char *rgb, struct err *e)
{
	const uint8_t *src = rgb;
	int stride = (int)(3 * w->w), k;
	char doing[64];
	if (w->pad) {
		/* Padding repeats the last column and row: no edge of another colour for the
		 * encoder to smear into the picture. */
		size_t y, x, row = 3 * w->ew;
		for (y = 0; y < w->eh; y++) {
			unsigned char *d = w->pad + y * row;
			const unsigned char *s = rgb + (y < w->h ? y : w->h - 1) * 3 * w->w;
			memcpy(d, s, 3 * w->w);
			for (x = w->w; x < w->ew; x++)
				memcpy(d + 3 * x, s + 3 * (w->w - 1), 3);
		}
		src = w->pad;
		stride = (int)row;
	}
	snprintf(doing, sizeof(doing), "frame %lld", w->frames);
	av_msg_clear();
	k = ff.av_frame_make_writable(w->frame);
	if (k < 0)
		return vw_fferr(w, k, doing, e);
	ff.sws_scale(w->sws, &src, &stride, 0, (int)w->eh, w->frame->data, w->frame->linesize);
	w->frame->pts = w->frames;
	k = ff.avcodec_send_frame(w->enc, w->frame);
	if (k < 0)
		return vw_fferr(w, k, doing, e);
	return vw_drain(w, e);
}

static int vw_ff_close(struct vid_writer *w, struct err *e)
{
	int k;
	av_msg_clear();
	k = ff.avcodec_send_frame(w->enc, NULL);
	if (k < 0 && k != AVERROR_EOF)
		return vw_fferr(w, k, "flushing the encoder", e);
	if (vw_drain(w, e) < 0)
		return -1;
	k = ff.av_write_trailer(w->oc);
	if (k < 0)
		return vw_fferr(w, k, "writing the index", e);
	if (w->oc->pb) {
		/* A failed write (a full disk) is only remembered in the context. */
		k = w->oc->pb->error;
		if (k < 0)
			return vw_fferr(w, k, "writing", e);
		k = ff.avio_closep(&w->oc->pb);
		if (k < 0)
			return vw_fferr(w, k, "writing", e);
	}
	return vw_commit(&w->tmp, w->path, w->name, e);
}

static void vw_ff_release(struct vid_writer *w)
{
	if (w->sws)
		ff.sws_freeContext(w->sws);
	if (w->frame)
		ff.av_frame_free(&w->frame);
	if (w->pkt)
		ff.av_packet_free(&w->pkt);
	if (w->enc)
		ff.avcodec_free_context(&w->enc);
	if (w->oc) {
		if (w->oc->pb)
			ff.avio_closep(&w->oc->pb);
		ff.avformat_free_context(w->oc);
		w->oc = NULL;
	}
	free(w->pad);
}

/* ---- PNG frames ---- */

static int vw_png_open(struct vid_writer *w, struct err *e)
{
	struct stat st;
	if (stat(w->path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno != ENOENT || mkdir(w->path, 0777) < 0)
		return err_sys(e, "%s", w->name);
	return 0;
}

static void vw_png_sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

static int vw_png_put(struct vid_writer *w, const struct img *im, struct err *e)
{
	struct strbuf png = STRBUF_INIT, path = STRBUF_INIT;
	size_t n = strlen(w->path), off = 0;
	char *tmp = NULL;
	int fd = -1, ret = -1;

	strbuf_addf(&path, "%s%sframe-%06lld.png", w->path, w->path[n - 1] == '/' ? "" : "/",
		    w->frames);
	if (!stbi_write_png_to_func(vw_png_sink, &png, (int)im->w, (int)im->h, 3, im->px,
				    (int)(3 * im->w))) {
		err_set(e, DYN_EDATA, "\"%s\": PNG encoding failed", path.buf);
		goto out;
	}
	fd = vw_tmp_open(path.buf, &tmp);
	if (fd < 0) {
		err_sys(e, "\"%s\"", path.buf);
		goto out;
	}
	while (off < png.len) {
		ssize_t k = write(fd, png.buf + off, png.len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			err_sys(e, "\"%s\"", path.buf);
			goto out;
		}
		off += (size_t)k;
	}
	{
		int k = close(fd);
		fd = -1;
		if (k < 0) {
			err_sys(e, "\"%s\"", path.buf);
			goto out;
		}
	}
	ret = vw_commit(&tmp, path.buf, path.buf, e);
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	strbuf_release(&png);
	strbuf_release(&path);
	return ret;
}

/* ---- the writer's public face ---- */

int vid_writer_open(struct vid_writer **out, const char *path, size_t width, size_t height,
		    double fps, struct err *e)
{
	struct vid_writer *w = xcalloc(1, sizeof(*w));
	struct stat st;
	size_t n = path ? strlen(path) : 0;
	int ret = -1, k;

	*out = NULL;
	w->path = xstrdup(path ? path : "");
	w->to_stdout = !strcmp(w->path, "-");
	if (w->to_stdout) {
		w->name = xstrdup("stdout");
	} else {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "\"%s\"", w->path);
		w->name = strbuf_detach(&sb, NULL);
	}
	w->w = width;
	w->h = height;
	if (!n) {
		err_set(e, DYN_EUSAGE, "video output: empty file name");
		goto out;
	}
	if (!width || !height || width > VID_MAX_SIDE || height > VID_MAX_SIDE ||
	    width * height > VID_MAX_PIXELS) {
		err_set(e, DYN_EUSAGE,
			"%s: frame size %zux%zu out of range (1 to %d a side, at most %zu pixels)",
			w->name, width, height, VID_MAX_SIDE, VID_MAX_PIXELS);
		goto out;
	}
	if (fps == 0)
		fps = VID_WRITER_FPS;
	if (!(fps >= 0.001 && fps <= 1000)) {
		err_set(e, DYN_EUSAGE, "%s: frame rate %g out of range (0.001 to 1000)", w->name,
			fps);
		goto out;
	}
	w->rate = vw_rate(fps);
	if (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		w->kind = VW_PNG;
		k = vw_png_open(w, e);
	} else if (w->to_stdout || (n > 4 && !strcasecmp(path + n - 4, ".y4m"))) {
		w->kind = VW_Y4M;
		k = vw_y4m_open(w, e);
	} else if (vid_name(path)) {
		w->kind = VW_FFMPEG;
		k = vw_ff_open(w, e);
	} else {
		err_set(e, DYN_EUSAGE,
			"%s: not a video name (.mp4 .mkv .mov .avi .webm, .y4m or - for YUV4MPEG2) "
			"nor a folder (end it with \"/\" to have it made)",
			w->name);
		goto out;
	}
	if (k < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		vid_writer_free(&w);
	*out = w;
	return ret;
}

int vid_writer_put(struct vid_writer *w, const struct img *rgb, struct err *e)
{
	int k;
	if (!rgb->px || rgb->channels != 3 || rgb->w != w->w || rgb->h != w->h)
		return err_set(e, DYN_EUSAGE,
			       "%s: frame %lld is %zux%zu with %d channels, the video %zux%zu RGB",
			       w->name, w->frames, rgb->w, rgb->h, rgb->channels, w->w, w->h);
	switch (w->kind) {
	case VW_Y4M:
		k = vw_y4m_put(w, rgb->px, e);
		break;
	case VW_FFMPEG:
		k = vw_ff_put(w, rgb->px, e);
		break;
	default:
		k = vw_png_put(w, rgb, e);
		break;
	}
	if (k < 0)
		return -1;
	w->frames++;
	return 0;
}

long long vid_writer_frames(const struct vid_writer *w)
{
	return w->frames;
}

int vid_writer_close(struct vid_writer **wp, struct err *e)
{
	struct vid_writer *w = *wp;
	int ret = 0;
	if (!w)
		return 0;
	if (w->kind == VW_Y4M)
		ret = vw_y4m_close(w, e);
	else if (w->kind == VW_FFMPEG)
		ret = vw_ff_close(w, e);
	vid_writer_free(wp);
	return ret;
}

void vid_writer_free(struct vid_writer **wp)
{
	struct vid_writer *w = *wp;
	if (!w)
		return;
	if (w->fp && !w->to_stdout)
		fclose(w->fp);
	if (w->kind == VW_FFMPEG)
		vw_ff_release(w);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	free(w->yuv);
	free(w->name);
	free(w->path);
	free(w);
	*wp = NULL;
}
