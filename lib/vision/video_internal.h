/* For tests of lib/vision/video.c: the sonames FFmpeg's libraries are loaded from, which a test
 * points at a missing library (before any video is opened) to see dyn without FFmpeg. */
#ifndef DYN_VISION_VIDEO_INTERNAL_H
#define DYN_VISION_VIDEO_INTERNAL_H

enum { VID_LIB_AVUTIL, VID_LIB_AVCODEC, VID_LIB_AVFORMAT, VID_LIB_SWSCALE, VID_NLIBS };
extern const char *vid_soname[VID_NLIBS];

#endif
