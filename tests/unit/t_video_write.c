/* Unit tests of lib/vision/video's writer: frames of a known pattern written as YUV4MPEG2 (a
 * file and standard output), through FFmpeg (.mp4 .mkv .avi .webm) and as a folder of PNG
 * pictures, read back by vid_open and img_decode and compared; paths that cannot be written,
 * bad sizes, nothing left behind on failure, dyn without FFmpeg. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vision/video.h"
#include "vision/video_internal.h"
#include "io/image.h"
#include "base/base.h"
#include "check.h"
#include "fixture.h"

static bool has(const char *s, const char *part)
{
	return s && strstr(s, part);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Entries of a folder other than . and .., for "nothing left behind". */
static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Frame n of the test pattern: smooth colour ramps moving with n (lossy codecs keep them
 * well), or gray when gray is set. */
static void pattern(struct img *im, size_t w, size_t h, long long n, bool gray)
{
	size_t x, y;
	if (!im->px) {
		im->w = w;
		im->h = h;
		im->channels = 3;
		im->px = xmallocarray(w * h, 3);
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned char *p = im->px + 3 * (y * w + x);
			if (gray) {
				p[0] = p[1] = p[2] =
				    (unsigned char)(16 + (3 * x + 2 * y + 7 * n) % 220);
			} else {
				p[0] = (unsigned char)(40 + (x * 160) / w + 4 * n);
				p[1] = (unsigned char)(200 - (y * 150) / h);
				p[2] = (unsigned char)(60 + ((x + y) * 120) / (w + h) + 6 * n);
			}
		}
}

static int write_frames(const char *path, size_t w, size_t h, double fps, long long frames,
			bool gray, struct err *e)
{
	struct vid_writer *wr;
	struct img im;
	long long n;
	int ret = -1;
	img_init(&im);
	if (vid_writer_open(&wr, path, w, h, fps, e) < 0)
		return -1;
	for (n = 0; n < frames; n++) {
		pattern(&im, w, h, n, gray);
		if (vid_writer_put(wr, &im, e) < 0) {
			vid_writer_free(&wr);
			goto out;
		}
	}
	ret = vid_writer_close(&wr, e);
out:
	img_release(&im);
	return ret;
}

/* Reads path back as RGB and compares each frame with the pattern of the same index over the
 * pattern's w x h (a padded video is larger): the frame count, *worst the largest and *mean
 * the mean difference of a channel, *order false if a frame is closer to another frame's
 * pattern than its own. Frame size in *fw, *fh. */
struct readback {
	long long frames;
	int worst;
	double mean;
	bool order;
	size_t fw, fh;
	double pad_gap; /* mean difference between padding and the last column or row */
	double fps;
	char codec[32];
};

static int read_back(const char *path, size_t w, size_t h, bool gray, struct readback *rb,
		     struct err *e)
{
	struct vid_opts o = VID_OPTS_INIT;
	struct vid_reader *r;
	struct vid_frame f;
	struct img ref[3];
	double sum = 0;
	long long count = 0;
	int k, i;
	memset(rb, 0, sizeof(*rb));
	rb->order = true;
	o.pix = VID_RGB;
	o.threads = 1;
	if (vid_open(&r, path, &o, e) < 0)
		return -1;
	rb->fps = vid_info(r)->fps;
	snprintf(rb->codec, sizeof(rb->codec), "%s", vid_info(r)->codec);
	for (i = 0; i < 3; i++)
		img_init(&ref[i]);
	while ((k = vid_next(r, &f, e)) == 1) {
		double near[3] = {0, 0, 0};
		size_t x, y, c;
		rb->fw = f.w;
		rb->fh = f.h;
		if (f.w < w || f.h < h) {
			k = err_set(e, DYN_EDATA, "frame %zux%zu smaller than %zux%zu", f.w, f.h, w,
				    h);
			break;
		}
		for (i = 0; i < 3; i++)
			pattern(&ref[i], w, h, f.index + i - 1, gray);
		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++)
				for (c = 0; c < 3; c++) {
					int v = f.px[3 * (y * f.w + x) + c];
					for (i = 0; i < 3; i++)
						near[i] += abs(v - ref[i].px[3 * (y * w + x) + c]);
					if (abs(v - ref[1].px[3 * (y * w + x) + c]) > rb->worst)
						rb->worst = abs(v - ref[1].px[3 * (y * w + x) + c]);
				}
		{
			/* Padding repeats the edge: compare it with the last column and row. */
			double gap = 0;
			size_t m = 0;
			for (y = 0; y < f.h; y++)
				for (x = w; x < f.w; x++, m += 3)
					for (c = 0; c < 3; c++)
						gap += abs(f.px[3 * (y * f.w + x) + c] -
							   f.px[3 * (y * f.w + w - 1) + c]);
			for (y = h; y < f.h; y++)
				for (x = 0; x < f.w; x++, m += 3)
					for (c = 0; c < 3; c++)
						gap += abs(f.px[3 * (y * f.w + x) + c] -
							   f.px[3 * ((h - 1) * f.w + x) + c]);
			if (m && gap / (double)m > rb->pad_gap)
				rb->pad_gap = gap / (double)m;
		}
		sum += near[1];
		count += (long long)(w * h * 3);
		if ((f.index > 0 && near[0] <= near[1]) || near[2] <= near[1])
			rb->order = false;
		rb->frames++;
	}
	for (i = 0; i < 3; i++)
		img_release(&ref[i]);
	vid_free(&r);
	rb->mean = count ? sum / (double)count : -1;
	return k < 0 ? -1 : 0;
}

static bool ffmpeg_mapped(void)
{
	size_t len;
	char *maps = fx_slurp("/proc/self/maps", &len);
	bool found = maps && (strstr(maps, "libavformat") || strstr(maps, "libavcodec"));
	free(maps);
	return found;
}

static void test_y4m(void)
{
	struct err e = ERR_INIT;
	struct readback rb;
	struct vid_info in;
	char *p = fx_path("odd.y4m"), *g = fx_path("gray.Y4M");

	check(write_frames(p, 33, 17, 30, 5, false, &e) == 0, "33x17 colour to y4m %s", e.msg);
	check(read_back(p, 33, 17, false, &rb, &e) == 0 && rb.frames == 5 && rb.fw == 33 &&
		  rb.fh == 17 && fabs(rb.fps - 30) < 1e-9 && rb.order && rb.worst <= 2 &&
		  !strcmp(rb.codec, "yuv4mpeg"),
	      "y4m read back: %lld frames %zux%zu at %g fps, colours within 2 (worst %d, mean "
	      "%.3f) %s",
	      rb.frames, rb.fw, rb.fh, rb.fps, rb.worst, rb.mean, e.msg);
	check(vid_probe(p, &in, &e) == 0 && in.frames == 5, "probe counts 5 frames (%lld)",
	      in.frames);
	check(write_frames(g, 40, 20, 29.97, 4, true, &e) == 0 &&
		  read_back(g, 40, 20, true, &rb, &e) == 0 && rb.frames == 4 && rb.worst == 0 &&
		  fabs(rb.fps - 30000.0 / 1001) < 1e-9,
	      "gray frames come back exactly (worst %d), 29.97 fps as 30000/1001 (%.6f) %s",
	      rb.worst, rb.fps, e.msg);
	check(entries(fx_dir) == 2, "no temporary file left (%zu entries)", entries(fx_dir));
	/* fps 0: the default rate. */
	check(write_frames(p, 16, 16, 0, 1, true, &e) == 0 &&
		  read_back(p, 16, 16, true, &rb, &e) == 0 && rb.fps == VID_WRITER_FPS,
	      "fps 0 writes %d fps (%g)", VID_WRITER_FPS, rb.fps);
	check(!ffmpeg_mapped(), "y4m written and read without loading FFmpeg");
	free(p);
	free(g);
}

/* A child writes to standard output, pointed at the file out. *msg gets the error the
 * child met, read back through a pipe. */
static int stdout_child(const char *out, long long frames, char *msg, size_t cap)
{
	int status, fds[2];
	pid_t pid;
	ssize_t got;
	msg[0] = '\0';
	if (pipe(fds) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct err e = ERR_INIT;
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc;
		close(fds[0]);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(3);
		rc = write_frames("-", 24, 18, 10, frames, false, &e) == 0 ? 0 : 1;
		if (rc && write(fds[1], e.msg, strlen(e.msg)) < 0)
			rc = 2;
		_exit(rc);
	}
	close(fds[1]);
	got = pid > 0 ? read(fds[0], msg, cap - 1) : -1;
	msg[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_y4m_stdout(void)
{
	struct err e = ERR_INIT;
	struct readback rb;
	char msg[1024], *p = fx_path("stdout.y4m");
	int rc = stdout_child(p, 3, msg, sizeof(msg));
	check(rc == 0 && read_back(p, 24, 18, false, &rb, &e) == 0 && rb.frames == 3 &&
		  rb.worst <= 2 && rb.order,
	      "\"-\": a y4m stream on stdout, 3 frames read back (worst %d) %s %s", rb.worst, msg,
	      e.msg);
	/* A full disk is reported, at a put or at the close. */
	rc = stdout_child("/dev/full", 40, msg, sizeof(msg));
	check(rc == 1 && has(msg, "stdout") && has(msg, "No space left on device"),
	      "stdout on a full disk: \"%s\"", msg);
	unlink(p);
	free(p);
}

static void test_png(void)
{
	struct err e = ERR_INIT;
	char *dir = fx_path("frames/"), *plain = fx_path("plain");
	long long n;
	bool same = true;

	check(write_frames(dir, 33, 17, 25, 3, false, &e) == 0, "3 frames to a new folder %s",
	      e.msg);
	check(entries(dir) == 3, "3 files in it, nothing else (%zu)", entries(dir));
	for (n = 0; n < 3; n++) {
		struct strbuf name = STRBUF_INIT;
		struct img got, want;
		size_t len;
		char *buf;
		img_init(&got);
		img_init(&want);
		strbuf_addf(&name, "%sframe-%06lld.png", dir, n);
		buf = fx_slurp(name.buf, &len);
		pattern(&want, 33, 17, n, false);
		if (!buf || img_decode(&got, buf, len, 3, name.buf, &e) < 0 || got.w != 33 ||
		    got.h != 17 || memcmp(got.px, want.px, 33 * 17 * 3))
			same = false;
		free(buf);
		img_release(&got);
		img_release(&want);
		strbuf_release(&name);
	}
	check(same, "frame-000000.png .. frame-000002.png hold the frames exactly %s", e.msg);
	/* An existing folder named without the slash; its other files stay. */
	check(mkdir(plain, 0777) == 0, "folder made");
	{
		char *other = fx_path("plain/notes.txt");
		FILE *fp = fopen(other, "w");
		if (fp)
			fclose(fp);
		check(write_frames(plain, 16, 16, 25, 2, true, &e) == 0 && entries(plain) == 3,
		      "an existing folder: 2 frames beside its file (%zu entries) %s",
		      entries(plain), e.msg);
		free(other);
	}
	free(dir);
	free(plain);
}

static void test_bad(void)
{
	struct err e = ERR_INIT;
	struct vid_writer *w;
	struct img im;
	char *file = fx_path("afile"), *p;
	FILE *fp = fopen(file, "w");
	static const char *const missing[] = {"missing/out.y4m", "missing/out.mp4",
					      "missing/frames/"};
	size_t i, before;

	if (fp)
		fclose(fp);
	for (i = 0; i < ARRAY_SIZE(missing); i++) {
		p = fx_path(missing[i]);
		check(vid_writer_open(&w, p, 32, 24, 25, &e) < 0 && !w && e.code == DYN_EDATA &&
			  has(e.msg, p) && has(e.msg, "No such file or directory"),
		      "a missing folder: \"%s\"", e.msg);
		free(p);
	}
	/* Unwritable even for root: a regular file where a folder should be. */
	p = fx_path("afile/out.y4m");
	check(vid_writer_open(&w, p, 32, 24, 25, &e) < 0 && has(e.msg, p) &&
		  has(e.msg, "Not a directory"),
	      "a file as folder: \"%s\"", e.msg);
	free(p);
	p = fx_path("afile/");
	check(vid_writer_open(&w, p, 32, 24, 25, &e) < 0 && has(e.msg, "afile/\": Not a directory"),
	      "a file named as a folder: \"%s\"", e.msg);
	free(p);
	p = fx_path("out.txt");
	check(vid_writer_open(&w, p, 32, 24, 25, &e) < 0 && e.code == DYN_EUSAGE &&
		  has(e.msg, "out.txt\": not a video name"),
	      "an unknown name: \"%s\"", e.msg);
	free(p);
	check(vid_writer_open(&w, file, 32, 24, 25, &e) < 0 && e.code == DYN_EUSAGE,
	      "an existing file without a video extension: \"%s\"", e.msg);
	p = fx_path("x.y4m");
	check(vid_writer_open(&w, p, 0, 24, 25, &e) < 0 && e.code == DYN_EUSAGE &&
		  has(e.msg, "frame size 0x24 out of range"),
	      "width 0: \"%s\"", e.msg);
	check(vid_writer_open(&w, p, VID_MAX_SIDE + 1, 2, 25, &e) < 0 && e.code == DYN_EUSAGE,
	      "a side over the limit: \"%s\"", e.msg);
	check(vid_writer_open(&w, p, 32, 24, -1, &e) < 0 && e.code == DYN_EUSAGE &&
		  has(e.msg, "frame rate -1 out of range"),
	      "fps -1: \"%s\"", e.msg);
	check(vid_writer_open(&w, p, 32, 24, NAN, &e) < 0 && e.code == DYN_EUSAGE,
	      "fps NaN: \"%s\"", e.msg);
	check(vid_writer_open(&w, "", 32, 24, 25, &e) < 0 && e.code == DYN_EUSAGE,
	      "an empty name: \"%s\"", e.msg);
	/* A frame of the wrong size; abandoned, the output leaves nothing. */
	before = entries(fx_dir);
	img_init(&im);
	pattern(&im, 16, 16, 0, false);
	check(vid_writer_open(&w, p, 32, 24, 25, &e) == 0 && vid_writer_put(w, &im, &e) < 0 &&
		  e.code == DYN_EUSAGE && has(e.msg, "frame 0 is 16x16 with 3 channels"),
	      "a frame of another size: \"%s\"", e.msg);
	vid_writer_free(&w);
	check(!w && !exists(p) && entries(fx_dir) == before,
	      "abandoned: no file under the name, no temporary file");
	vid_writer_free(&w);
	img_release(&im);
	free(p);
	unlink(file);
	free(file);
}

static void test_without_ffmpeg(void)
{
	int status;
	pid_t pid;
	char *p = fx_path("no-ffmpeg.mp4");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct vid_writer *w;
		struct err e = ERR_INIT;
		int bad = 0;
		vid_soname[VID_LIB_AVFORMAT] = "libavformat.so.0-dyn-test-missing";
		if (vid_writer_open(&w, p, 32, 24, 25, &e) == 0 ||
		    !has(e.msg, "cannot load libavformat.so.0-dyn-test-missing") ||
		    !has(e.msg, "no-ffmpeg.mp4") || exists(p))
			bad = 1;
		printf("# without FFmpeg: %s\n", e.msg);
		fflush(stdout);
		_exit(bad);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0,
	      "FFmpeg missing: an mp4 cannot be written, the loader's message names it");
	free(p);
}

static void test_ffmpeg(void)
{
	static const struct {
		const char *name, *codec;
	} outs[] = {
	    {"clip.mp4", "h264"}, {"clip.mkv", "h264"}, {"clip.avi", "h264"}, {"clip.webm", "vp9"}};
	struct err e = ERR_INIT;
	struct readback rb;
	struct vid_info in;
	size_t i, before;
	char *p;

	for (i = 0; i < ARRAY_SIZE(outs); i++) {
		p = fx_path(outs[i].name);
		check(write_frames(p, 64, 48, 30, 12, false, &e) == 0, "%s written %s",
		      outs[i].name, e.msg);
		check(vid_probe(p, &in, &e) == 0 && in.width == 64 && in.height == 48 &&
			  !strcmp(in.codec, outs[i].codec) && fabs(in.fps - 30) < 1e-6,
		      "%s: 64x48 %s at 30 fps (%zux%zu %s %g) %s", outs[i].name, outs[i].codec,
		      in.width, in.height, in.codec, in.fps, e.msg);
		/* Lossy: each frame near its pattern, nearer than to its neighbours'. */
		check(read_back(p, 64, 48, false, &rb, &e) == 0 && rb.frames == 12 && rb.order &&
			  rb.mean < 3,
		      "%s read back: %lld frames in order, mean gap %.3f, worst %d %s",
		      outs[i].name, rb.frames, rb.mean, rb.worst, e.msg);
		free(p);
	}
	/* Odd sizes: padded to even for yuv420p by repeating the last column and row. */
	p = fx_path("odd.mp4");
	check(write_frames(p, 97, 61, 24, 6, false, &e) == 0 &&
		  read_back(p, 97, 61, false, &rb, &e) == 0 && rb.frames == 6 && rb.fw == 98 &&
		  rb.fh == 62 && rb.mean < 3 && rb.order && rb.pad_gap < 3,
	      "97x61 to mp4: 6 frames of 98x62 (%zux%zu), mean gap %.3f, padding %.3f from the "
	      "edge %s",
	      rb.fw, rb.fh, rb.mean, rb.pad_gap, e.msg);
	free(p);
	/* Abandoned after some frames: nothing under the name nor a temporary file. */
	before = entries(fx_dir);
	p = fx_path("abandoned.mp4");
	{
		struct vid_writer *w;
		struct img im;
		img_init(&im);
		pattern(&im, 64, 48, 0, false);
		check(vid_writer_open(&w, p, 64, 48, 30, &e) == 0 &&
			  vid_writer_put(w, &im, &e) == 0 && vid_writer_put(w, &im, &e) == 0 &&
			  vid_writer_frames(w) == 2,
		      "2 frames put %s", e.msg);
		vid_writer_free(&w);
		img_release(&im);
	}
	check(!exists(p) && entries(fx_dir) == before,
	      "an abandoned mp4 leaves nothing behind (%zu entries, %zu before)", entries(fx_dir),
	      before);
	free(p);
}

int main(void)
{
	fx_mkdir("t_video_write");
	test_y4m();
	test_y4m_stdout();
	test_png();
	/* Before anything loads FFmpeg (test_bad writes an mp4 into a missing folder). */
	test_without_ffmpeg();
	test_bad();
	test_ffmpeg();
	fx_rmdir();
	return check_done();
}
