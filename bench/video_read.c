/* Throughput of the video frame reader alone: decodes a video (or a YUV4MPEG2 stream, "-" for
 * stdin) to gray or RGB at a given size, prints frames/s and a checksum of the pixels. Built and
 * run by bench/video.sh. usage: video_read FILE [WxH|native] [gray|rgb|planar] [THREADS] */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "vision/video.h"
#include "base/base.h"

int main(int argc, char **argv)
{
	struct vid_opts o = VID_OPTS_INIT;
	struct vid_reader *r;
	struct vid_frame f;
	struct err e = ERR_INIT;
	struct timespec t0, t1;
	struct rusage ru;
	const struct vid_info *in;
	unsigned long long sum = 0;
	double secs, cpu;
	long threads = 0;
	int k;

	if (argc < 2 || argc > 5) {
		fprintf(stderr,
			"usage: video_read FILE [WxH|native] [gray|rgb|planar] [THREADS]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "native") &&
	    sscanf(argv[2], "%zux%zu", &o.width, &o.height) != 2) {
		fprintf(stderr, "video_read: bad size %s\n", argv[2]);
		return 2;
	}
	if (argc > 3)
		o.pix = !strcmp(argv[3], "rgb")	     ? VID_RGB
			: !strcmp(argv[3], "planar") ? VID_RGB_PLANAR
						     : VID_GRAY;
	if (argc > 4 && parse_long(argv[4], &threads) < 0) {
		fprintf(stderr, "video_read: bad thread count %s\n", argv[4]);
		return 2;
	}
	o.threads = (int)threads;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (vid_open(&r, argv[1], &o, &e) < 0) {
		fprintf(stderr, "video_read: %s\n", e.msg);
		return 1;
	}
	in = vid_info(r);
	while ((k = vid_next(r, &f, &e)) == 1) {
		size_t i, n = f.w * f.h * (size_t)f.channels;
		for (i = 0; i < n; i += 61)
			sum += f.px[i];
	}
	if (k < 0) {
		fprintf(stderr, "video_read: %s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
	printf("%lld frames %zux%zu (%s, %zux%zu native, %.3f fps) in %.3f s wall, %.3f s cpu: "
	       "%.1f frames/s wall, %.1f frames/s cpu (checksum %llu)\n",
	       f.index + 1, in->out_w, in->out_h, in->codec, in->width, in->height, in->fps, secs,
	       cpu, (double)(f.index + 1) / secs, (double)(f.index + 1) / cpu, sum);
	vid_free(&r);
	return 0;
}
