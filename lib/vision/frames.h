/* Frames to run a network on, one at a time in constant memory, from any mix of videos (files,
 * or a stream on standard input), pictures, folders of pictures and archives of pictures: the
 * one reader of frames for predict. Each comes at the size and channels asked for. */
#ifndef DYN_VISION_FRAMES_H
#define DYN_VISION_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/image.h"

struct frame_opts {
	size_t width, height; /* both 0: each frame at its own size */
	int channels;	      /* 1 gray, 3 RGB */
	int threads;	      /* video decoding threads (vid_opts) */
};

/* Where a frame comes from. The strings are owned by the reader, valid until the next frame. */
struct frame_info {
	const char *source;  /* the video, picture or archive member ("ARCHIVE:MEMBER") */
	long long index;     /* 0, 1, ... within its video; 0 for a picture */
	size_t src_w, src_h; /* its size at the source */
	bool video;	     /* from a video */
	double fps;	     /* the video's frame rate; 0 when unknown or a picture */
};

struct frame_reader;

/* Opens the inputs (npaths 0: standard input, a video stream such as YUV4MPEG2). A folder gives
 * its pictures (by name: .png .jpg .jpeg .bmp .tga) in name order, its subfolders too; an
 * archive its picture members in order. Nothing is read until frame_reader_next, but a path
 * that does not exist is an error now. *r is owned by the caller. */
int frame_reader_open(struct frame_reader **r, const char *const *paths, size_t npaths,
		      const struct frame_opts *o, struct err *e);
void frame_reader_free(struct frame_reader **r);

/* True when the frames come from more than one video, or from pictures: their source then
 * tells them apart, not only their index. */
bool frame_reader_many(const struct frame_reader *r);

/* The next frame into im (released first) and where it is from into fi: 1, 0 after the last,
 * -1 on error (a corrupt picture or video, a member that is not a picture, each named). */
int frame_reader_next(struct frame_reader *r, struct img *im, struct frame_info *fi, struct err *e);

#endif
