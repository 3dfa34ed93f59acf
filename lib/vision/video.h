/* Video frames one at a time in constant memory, as 8-bit gray or RGB at a chosen size: any file
 * FFmpeg decodes (its libraries loaded on first use), or a YUV4MPEG2 stream read here; and
 * RGB frames written out as a video file, a YUV4MPEG2 stream or a folder of PNG pictures. */
#ifndef DYN_VISION_VIDEO_H
#define DYN_VISION_VIDEO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/image.h"

/* Frame layout: gray (one byte a pixel), RGB interleaved as struct img (lib/io/image.h), or
 * RGB as three planes one after another (all R, then G, then B: a network's channel order). */
enum vid_pix {
	VID_GRAY,
	VID_RGB,
	VID_RGB_PLANAR,
};

/* Frames larger than this (native or asked for) are refused before any allocation: 8K video
 * fits, a corrupt header's sizes do not. */
#define VID_MAX_SIDE   16384
#define VID_MAX_PIXELS ((size_t)36 * 1000 * 1000)

struct vid_opts {
	enum vid_pix pix;
	/* Output size: both 0 for the native size; one 0 for the size that keeps the aspect
	 * ratio (rounded, at least 1). Frames are scaled to it whole (not cropped). */
	size_t width, height;
	/* FFmpeg's decoding threads: 0 lets FFmpeg choose (one a core), 1 decodes in the calling
	 * thread. YUV4MPEG2 needs no decoding. */
	int threads;
};
#define VID_OPTS_INIT                                                                              \
	{                                                                                          \
		VID_GRAY, 0, 0, 0                                                                  \
	}

/* What is known before decoding (vid_probe, vid_info). */
struct vid_info {
	size_t width, height; /* native frame size */
	size_t out_w, out_h;  /* the size frames are handed out at */
	double fps;	      /* frames per second; 0 when the input does not say */
	long long
	    frames; /* the frame count the container (or a Y4M file's size) gives; -1: unknown */
	double duration; /* seconds; 0 when unknown */
	bool y4m;	 /* a YUV4MPEG2 stream, read without FFmpeg */
	char codec[32];	 /* "yuv4mpeg" or FFmpeg's decoder name ("h264") */
};

/* One decoded frame. px (channels bytes a pixel, rows packed, planes packed for
 * VID_RGB_PLANAR) is owned by the reader and valid until the next vid_next or vid_free. */
struct vid_frame {
	const unsigned char *px;
	size_t w, h;
	int channels;
	long long index; /* 0, 1, ... in decoding order, counting the frames handed out */
	double time;	 /* seconds from the first frame (presentation time); -1 when unknown */
};

/* Heap object: vid_open / vid_free. */
struct vid_reader;

/* True when buf starts like a video container or stream dyn knows by its magic bytes
 * (YUV4MPEG2, MP4/MOV, Matroska/WebM, AVI, MPEG-PS/TS, FLV, Ogg, ASF): for callers that sort
 * their inputs. vid_open hands FFmpeg whatever is not YUV4MPEG2 nor a still picture. */
bool vid_sniff(const void *buf, size_t len);
/* True when name ends in a common video extension (.mp4 .mov .m4v .mkv .webm .avi .mpg .mpeg
 * .ts .flv .ogv .wmv .y4m, any case). */
bool vid_name(const char *name);

/* Opens path ("-" or NULL: standard input). A stream starting "YUV4MPEG2 " is read here
 * (from a file, a pipe, or compressed by anything lib/io/stream.h reads); anything else but a
 * still picture goes to FFmpeg (a pipe too, when its container can be read without seeking).
 * o NULL: VID_OPTS_INIT. Errors (DYN_EDATA) name the input: not a video, no video stream,
 * no decoder, a bad YUV4MPEG2 header, sizes over the limits, FFmpeg not installed (the
 * loader's message); DYN_EUSAGE for bad options. *r is owned by the caller. */
int vid_open(struct vid_reader **r, const char *path, const struct vid_opts *o, struct err *e);
void vid_free(struct vid_reader **r);

/* The input's geometry and rate, with out_w/out_h resolved. Valid while r is open. */
const struct vid_info *vid_info(const struct vid_reader *r);

/* Decodes the next frame into *f: 1, 0 after the last, -1 on error (a truncated YUV4MPEG2
 * frame, which and how many bytes are missing; a read error; a video none of whose packets
 * could be decoded). Packets the decoder refuses amid good ones are skipped, as ffmpeg does,
 * and counted by vid_damaged. */
int vid_next(struct vid_reader *r, struct vid_frame *f, struct err *e);
long long vid_damaged(const struct vid_reader *r);

/* The info of path without decoding its frames (for progress bars). Standard input cannot be
 * probed and then read: open it and ask vid_info instead. */
int vid_probe(const char *path, struct vid_info *info, struct err *e);

/* Loads FFmpeg's libraries now (vid_open does it when first needed): 0, or -1 with the
 * loader's message (what prefixes it). */
int vid_ffmpeg_load(const char *what, struct err *e);

/* ---- writing ---- */

/* Heap object: vid_writer_open, then vid_writer_close (or vid_writer_free on an error path). */
struct vid_writer;

/* Frame rate written when the caller has none (fps 0: the input did not say). */
#define VID_WRITER_FPS 25

/* Starts writing width x height RGB frames at fps frames a second (0: VID_WRITER_FPS) to
 * path, whose name decides the output:
 *   - "-": a YUV4MPEG2 stream on standard output; a name ending in .y4m: that stream in a
 *     file. Written by dyn (no FFmpeg), 4:4:4 full-range BT.601 (C444 XCOLORRANGE=FULL,
 *     which vid_open and FFmpeg read back): gray pixels come back exactly, colours within 2
 *     levels a channel (8-bit rounding of Y, Cb and Cr).
 *   - a video name (vid_name: .mp4 .mkv .mov .avi .webm ...): a file FFmpeg writes in the
 *     container the extension names, with libx264 (H.264, crf 20) where the container takes
 *     H.264 and this FFmpeg has it, else MPEG-4 part 2, else the container's default codec
 *     (VP9 for .webm). Codecs that subsample chroma (yuv420p) need even sizes: an odd width
 *     or height is padded by repeating the last column or row, so the file is a pixel wider
 *     or taller than the frames.
 *   - an existing folder, or a name ending in "/" (the folder is then made, its parent must
 *     exist): one PNG a frame, frame-000000.png, frame-000001.png ... A file of that name
 *     there is replaced; other files are left alone.
 * A file is written under a temporary name next to it (".NAME.tmp-...") and renamed to path by
 * vid_writer_close, so that a failed or abandoned run leaves no half-written file under the
 * final name (nor the temporary one). A folder's frames are each written so, and those
 * written before a failure stay. Any other name (no known extension, not a folder) is a
 * usage error, as are sizes out of range and fps < 0. Errors (DYN_EDATA) name path: a
 * missing or unwritable folder (strerror), FFmpeg missing (the loader's message) or without
 * an encoder for the container. *w is owned by the caller. */
int vid_writer_open(struct vid_writer **w, const char *path, size_t width, size_t height,
		    double fps, struct err *e);
/* Appends one frame: rgb must be 3 channels of the size given to vid_writer_open (else
 * DYN_EUSAGE). Errors (DYN_EDATA) name the path: a write error (disk full), FFmpeg's
 * encoder or muxer failing. */
int vid_writer_put(struct vid_writer *w, const struct img *rgb, struct err *e);
/* Finishes the output (flushes the encoder, writes the container's index, checks every write
 * and standard output's for errors), puts it under its final name and frees *w (also on
 * error, when nothing is left under the final name). */
int vid_writer_close(struct vid_writer **w, struct err *e);
/* Abandons the output: removes the temporary file and frees *w. NULL is fine. */
void vid_writer_free(struct vid_writer **w);
/* Frames written so far. */
long long vid_writer_frames(const struct vid_writer *w);

#endif
