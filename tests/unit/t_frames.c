/* vision/frames: frames from pictures, folders, archives and YUV4MPEG2 videos, in order, at the
 * size asked for, with where each comes from; bad inputs named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "base/base.h"
#include "base/strbuf.h"
#include "io/image.h"
#include "vision/frames.h"
#include "check.h"

static char dir[256];

static char *at(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", dir, rel);
	return strbuf_detach(&sb, NULL);
}

static void sh(const char *fmt, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, fmt, dir, arg);
	if (system(sb.buf) != 0)
		exit(1);
	strbuf_release(&sb);
}

/* A w x h gray picture whose every pixel is value. */
static void png(const char *rel, int w, int h, unsigned char value)
{
	char *p = at(rel);
	unsigned char *px = xmallocarray((size_t)w * (size_t)h, 1);
	memset(px, value, (size_t)w * (size_t)h);
	if (!stbi_write_png(p, w, h, 1, px, w))
		exit(1);
	free(px);
	free(p);
}

/* A YUV4MPEG2 file of n gray frames of w x h (4:2:0), frame i of luma 16 + 73 i: video range,
 * read back as gray 0, 85, 170. */
static void y4m(const char *rel, int w, int h, int n)
{
	char *p = at(rel);
	FILE *f = fopen(p, "wb");
	size_t luma = (size_t)w * (size_t)h, chroma = (size_t)(w / 2) * (size_t)(h / 2);
	unsigned char *buf = xmallocarray(luma + 2 * chroma, 1);
	if (!f)
		exit(1);
	fprintf(f, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n", w, h);
	for (int i = 0; i < n; i++) {
		memset(buf, 16 + 73 * i, luma);
		memset(buf + luma, 128, 2 * chroma);
		fprintf(f, "FRAME\n");
		fwrite(buf, 1, luma + 2 * chroma, f);
	}
	fclose(f);
	free(buf);
	free(p);
}

/* Reads every frame of paths; their sources, indexes, sizes and first pixels into out. */
static int read_all(const char *const *paths, size_t n, size_t w, size_t h, struct strbuf *out,
		    bool *many, struct err *e)
{
	struct frame_reader *r = NULL;
	struct frame_opts o = {w, h, 1, 1};
	struct img im;
	struct frame_info fi;
	int got;
	img_init(&im);
	if (frame_reader_open(&r, paths, n, &o, e) < 0)
		return -1;
	*many = frame_reader_many(r);
	while ((got = frame_reader_next(r, &im, &fi, e)) > 0) {
		const char *base = strrchr(fi.source, '/');
		strbuf_addf(out, "%s#%lld %zux%zu<-%zux%zu v%d;", base ? base + 1 : fi.source,
			    fi.index, im.w, im.h, fi.src_w, fi.src_h, im.px[0]);
	}
	img_release(&im);
	frame_reader_free(&r);
	return got;
}

static void test_sources(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e = ERR_INIT;
	bool many = false;
	char *pics = at("pics"), *vid = at("v.y4m"), *zip = at("pics.zip");
	const char *one[] = {pics}, *video[] = {vid}, *mixed[] = {zip, vid};

	sh("mkdir -p '%s/pics/sub' %s", "");
	png("pics/b.png", 40, 30, 20);
	png("pics/a.png", 40, 30, 10);
	png("pics/sub/c.png", 40, 30, 30);
	sh("echo notes > '%s/pics/README%s'", "");
	y4m("v.y4m", 32, 24, 3);
	sh("cd '%s/pics' && zip -q -r ../pics.zip . %s", "");

	check(read_all(one, 1, 0, 0, &sb, &many, &e) == 0 && many &&
		  !strcmp(sb.buf, "a.png#0 40x30<-40x30 v10;b.png#0 40x30<-40x30 v20;"
				  "c.png#0 40x30<-40x30 v30;"),
	      "a folder: its pictures and its subfolder's in name order, others skipped: %s %s",
	      sb.buf, e.msg);
	strbuf_reset(&sb);
	check(read_all(one, 1, 20, 15, &sb, &many, &e) == 0 &&
		  strstr(sb.buf, "a.png#0 20x15<-40x30 v10;"),
	      "pictures scaled to the size asked for, their own size kept: %s", sb.buf);
	strbuf_reset(&sb);
	check(read_all(video, 1, 0, 0, &sb, &many, &e) == 0 && !many &&
		  !strcmp(sb.buf, "v.y4m#0 32x24<-32x24 v0;v.y4m#1 32x24<-32x24 v85;"
				  "v.y4m#2 32x24<-32x24 v170;"),
	      "one video: frames numbered from 0, not many sources: %s %s", sb.buf, e.msg);
	strbuf_reset(&sb);
	check(read_all(video, 1, 16, 12, &sb, &many, &e) == 0 &&
		  strstr(sb.buf, "v.y4m#1 16x12<-32x24 v85;"),
	      "video frames scaled as decoded: %s", sb.buf);
	strbuf_reset(&sb);
	check(read_all(mixed, 2, 0, 0, &sb, &many, &e) == 0 && many &&
		  strstr(sb.buf, "pics.zip:a.png#0 40x30<-40x30 v10;") &&
		  strstr(sb.buf, "c.png#0 40x30<-40x30 v30;") &&
		  strstr(sb.buf, "pics.zip:b.png#0") && strstr(sb.buf, "v.y4m#2") &&
		  !strstr(sb.buf, "README") && strstr(sb.buf, "v.y4m") > strstr(sb.buf, "b.png"),
	      "an archive's pictures (its other members skipped), then a video: %s %s", sb.buf,
	      e.msg);
	strbuf_release(&sb);
	free(pics);
	free(vid);
	free(zip);
}

static void test_bad(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e = ERR_INIT;
	bool many;
	char *missing = at("nothere.png"), *text = at("t.png"), *empty = at("empty"),
	     *cut = at("cut.y4m");
	const char *p1[] = {missing}, *p2[] = {text}, *p3[] = {empty}, *p4[] = {cut};

	sh("echo hello > '%s/t.png' %s", "");
	sh("mkdir -p '%s/empty' %s", "");
	y4m("whole.y4m", 32, 24, 2);
	{
		struct strbuf c = STRBUF_INIT;
		strbuf_addf(&c, "head -c 1500 '%s/whole.y4m' > '%s'", dir, cut);
		if (system(c.buf) != 0)
			exit(1);
		strbuf_release(&c);
	}
	check(read_all(p1, 1, 0, 0, &sb, &many, &e) < 0 && strstr(e.msg, "nothere.png"),
	      "a missing path is an error at open: %s", e.msg);
	e = (struct err)ERR_INIT;
	check(read_all(p2, 1, 0, 0, &sb, &many, &e) < 0 && strstr(e.msg, "t.png"),
	      "a file that is not a picture: %s", e.msg);
	e = (struct err)ERR_INIT;
	check(read_all(p3, 1, 0, 0, &sb, &many, &e) < 0 && strstr(e.msg, "no pictures"),
	      "a folder without pictures: %s", e.msg);
	e = (struct err)ERR_INIT;
	strbuf_reset(&sb);
	check(read_all(p4, 1, 0, 0, &sb, &many, &e) < 0 && strstr(sb.buf, "#0 ") &&
		  strstr(e.msg, "cut.y4m"),
	      "a truncated video: its whole frames, then an error naming it: %s", e.msg);
	strbuf_release(&sb);
	free(missing);
	free(text);
	free(empty);
	free(cut);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/dyn-t-frames.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	test_sources();
	test_bad();
	sh("rm -rf '%s' %s", "");
	return check_done();
}
