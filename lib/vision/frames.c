/* Frames from videos, pictures, folders and archives (see frames.h). */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "base/base.h"
#include "base/trace.h"
#include "base/strbuf.h"
#include "base/strv.h"
#include "io/stream.h"
#include "vision/frames.h"
#include "vision/resize.h"
#include "vision/video.h"

/* A picture larger than this in its file is refused before it is read whole (a 20000 x 2500
 * RGB BMP is 150 MB). */
#define FRAME_MAX_FILE	((size_t)256 << 20)
#define FRAME_MAX_DEPTH 16

struct frame_reader {
	struct frame_opts o;
	struct strv paths; /* "-", files, pictures found in folders */
	size_t next;	   /* the next path to open */
	bool many;
	/* the source being read: a video, or an archive's members */
	struct vid_reader *vid;
	struct stream *st;
	char *name; /* the current source's name, as frame_info gives it */
	struct strbuf member;
	long long index;
	struct strbuf buf; /* a picture's bytes */
	struct img raw;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pictures under dir, sorted, into out. */
static int list_pictures(const char *dir, struct strv *out, int depth, struct err *e)
{
	DIR *d;
	struct dirent *de;
	struct strv names;
	int ret = 0;
	if (depth > FRAME_MAX_DEPTH)
		return err_set(e, DYN_EDATA, "\"%s\": folders nested too deep", dir);
	if (!(d = opendir(dir)))
		return err_sys(e, "\"%s\"", dir);
	strv_init(&names);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(&names, de->d_name, strlen(de->d_name));
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < names.n && !ret; i++) {
		struct strbuf p = STRBUF_INIT;
		struct stat sb;
		strbuf_addf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names.v[i]);
		if (stat(p.buf, &sb) == 0 && S_ISDIR(sb.st_mode))
			ret = list_pictures(p.buf, out, depth + 1, e);
		else if (img_name(names.v[i]))
			strv_push(out, p.buf, p.len);
		strbuf_release(&p);
	}
	strv_release(&names);
	return ret;
}

int frame_reader_open(struct frame_reader **out, const char *const *paths, size_t npaths,
		      const struct frame_opts *o, struct err *e)
{
	struct frame_reader *r = xcalloc(1, sizeof(*r));
	size_t i, videos = 0;
	*out = NULL;
	r->o = *o;
	strv_init(&r->paths);
	strbuf_init(&r->member);
	strbuf_init(&r->buf);
	img_init(&r->raw);
	if (!npaths)
		strv_push(&r->paths, "-", 1);
	for (i = 0; i < npaths; i++) {
		struct stat sb;
		if (!strcmp(paths[i], "-")) {
			strv_push(&r->paths, "-", 1);
			videos++;
			continue;
		}
		if (stat(paths[i], &sb) < 0) {
			err_sys(e, "\"%s\"", paths[i]);
			frame_reader_free(&r);
			return -1;
		}
		if (S_ISDIR(sb.st_mode)) {
			size_t before = r->paths.n;
			if (list_pictures(paths[i], &r->paths, 0, e) < 0) {
				frame_reader_free(&r);
				return -1;
			}
			if (r->paths.n == before) {
				err_set(e, DYN_EDATA, "\"%s\": no pictures in this folder",
					paths[i]);
				frame_reader_free(&r);
				return -1;
			}
			r->many = true;
			continue;
		}
		strv_push(&r->paths, paths[i], strlen(paths[i]));
		if (vid_name(paths[i]))
			videos++;
		else
			r->many = true; /* a picture, or an archive of them */
	}
	if (videos > 1)
		r->many = true;
	*out = r;
	return 0;
}

static void source_close(struct frame_reader *r)
{
	vid_free(&r->vid);
	stream_free(&r->st);
	FREE_AND_NULL(r->name);
}

void frame_reader_free(struct frame_reader **rp)
{
	struct frame_reader *r = *rp;
	if (!r)
		return;
	source_close(r);
	strv_release(&r->paths);
	strbuf_release(&r->member);
	strbuf_release(&r->buf);
	img_release(&r->raw);
	free(r);
	*rp = NULL;
}

bool frame_reader_many(const struct frame_reader *r)
{
	return r->many;
}

/* Reads what is left of the stream (a file or the current member) into r->buf. */
static int slurp(struct frame_reader *r, const char *what, struct err *e)
{
	char chunk[65536];
	ssize_t got;
	strbuf_reset(&r->buf);
	while ((got = stream_read(r->st, chunk, sizeof(chunk), e)) > 0) {
		if (r->buf.len + (size_t)got > FRAME_MAX_FILE)
			return err_set(e, DYN_EDATA, "%s: a picture larger than %zu MiB", what,
				       FRAME_MAX_FILE >> 20);
		strbuf_add(&r->buf, chunk, (size_t)got);
	}
	return got < 0 ? -1 : 0;
}

/* Decodes r->buf (a picture named what) into im at the size asked for. */
static int decode(struct frame_reader *r, const char *what, struct img *im, struct frame_info *fi,
		  struct err *e)
{
	if (img_decode_upright(&r->raw, r->buf.buf, r->buf.len, r->o.channels, what, e) < 0)
		return -1;
	trace_perf("picture: decode");
	fi->src_w = r->raw.w;
	fi->src_h = r->raw.h;
	if (!r->o.width || (r->raw.w == r->o.width && r->raw.h == r->o.height)) {
		img_release(im);
		*im = r->raw;
		img_init(&r->raw);
		return 0;
	}
	img_release(im);
	im->w = r->o.width;
	im->h = r->o.height;
	im->channels = r->o.channels;
	im->px = xmallocarray(im->w * im->h, (size_t)im->channels);
	return vis_resize_image(im->px, im->w, im->h, r->raw.px, r->raw.w, r->raw.h,
				r->raw.channels, e);
}

/* A frame of the open video into im. */
static int video_frame(struct frame_reader *r, struct img *im, struct frame_info *fi, struct err *e)
{
	struct vid_frame f;
	const struct vid_info *vi = vid_info(r->vid);
	int got = vid_next(r->vid, &f, e);
	if (got <= 0)
		return got;
	img_release(im);
	im->w = f.w;
	im->h = f.h;
	im->channels = f.channels;
	im->px = xmallocarray(f.w * f.h, (size_t)f.channels);
	memcpy(im->px, f.px, f.w * f.h * (size_t)f.channels);
	fi->source = r->name;
	fi->index = f.index;
	fi->src_w = vi->width;
	fi->src_h = vi->height;
	fi->video = true;
	fi->fps = vi->fps;
	return 1;
}

/* Opens paths[next] as a video, an archive, or a picture (read into r->buf: returns 2). */
static int source_open(struct frame_reader *r, struct err *e)
{
	const char *path = r->paths.v[r->next++];
	struct vid_opts vo = VID_OPTS_INIT;
	const char *head;
	size_t hl = 0;
	int rc;

	free(r->name);
	r->name = xstrdup(strcmp(path, "-") ? path : "stdin");
	vo.pix = r->o.channels == 3 ? VID_RGB : VID_GRAY;
	vo.width = r->o.width;
	vo.height = r->o.height;
	vo.threads = r->o.threads;
	if (!strcmp(path, "-") || vid_name(path))
		return vid_open(&r->vid, path, &vo, e) < 0 ? -1 : 1;
	if (stream_open(&r->st, path, e) < 0)
		return -1;
	if (stream_is_archive(r->st))
		return 1;
	head = stream_peek(r->st, &hl);
	if (head && vid_sniff(head, hl)) {
		stream_free(&r->st);
		return vid_open(&r->vid, path, &vo, e) < 0 ? -1 : 1;
	}
	if (!(head && img_sniff(head, hl)) && !img_name(path))
		return err_set(e, DYN_EDATA, "\"%s\": not a video or a picture dyn reads", path);
	rc = slurp(r, r->name, e);
	stream_free(&r->st);
	return rc < 0 ? -1 : 2;
}

int frame_reader_next(struct frame_reader *r, struct img *im, struct frame_info *fi, struct err *e)
{
	memset(fi, 0, sizeof(*fi));
	for (;;) {
		int got;
		if (r->vid) {
			if ((got = video_frame(r, im, fi, e)) != 0)
				return got;
			source_close(r);
			continue;
		}
		if (r->st) { /* an archive: its next picture member */
			const char *name;
			if ((got = stream_next_member(r->st, &name, e)) < 0)
				return -1;
			if (!got) {
				source_close(r);
				continue;
			}
			if (!img_name(name))
				continue; /* a README or labels file beside the pictures */
			strbuf_reset(&r->member);
			strbuf_addf(&r->member, "%s:%s", r->name, name);
			if (slurp(r, r->member.buf, e) < 0 ||
			    decode(r, r->member.buf, im, fi, e) < 0)
				return -1;
			fi->source = r->member.buf;
			return 1;
		}
		if (r->next >= r->paths.n)
			return 0;
		if ((got = source_open(r, e)) < 0)
			return -1;
		if (got == 2) {
			if (decode(r, r->name, im, fi, e) < 0)
				return -1;
			fi->source = r->name;
			return 1;
		}
	}
}
