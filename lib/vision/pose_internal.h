/* What the pose readers share inside lib/vision: building a dataset frame by frame (pose.c) and
 * the SLEAP reader (pose_slp.c), which lives apart because it speaks HDF5, and DeepLabCut's
 * project file (pose_dlc.c), YAML. */
#ifndef DYN_VISION_POSE_INTERNAL_H
#define DYN_VISION_POSE_INTERNAL_H

#include "vision/pose.h"

/* Sets the skeleton from n node names (copied) on first call; later calls (a second labels
 * file) must name the same nodes in the same order. where names the labels file in errors. */
int pose_set_nodes(struct pose_dataset *ds, char *const *names, size_t n, const char *where,
		   struct err *e);

/* Appends a frame named name (copied) of group (copied, may be NULL) and returns it; its
 * instances are the ones added next with pose_add_instance. Either path or data (both taken
 * over, may be NULL) holds the picture. The size is checked by pose_frame_size. */
struct pose_frame *pose_add_frame(struct pose_dataset *ds, const char *name, const char *group,
				  char *path, unsigned char *data, size_t len);

/* Reads the last frame's picture header: its size, which must be every frame's size (the first
 * frame sets it). Errors name the frame, and the first frame when sizes differ. */
int pose_frame_size(struct pose_dataset *ds, struct err *e);

/* Appends an instance (track: index into ds->tracks, or -1) to the last frame: its points, all
 * POSE_MISSING, to be filled by the caller. */
struct pose_point *pose_add_instance(struct pose_dataset *ds, long track);

/* Index of a named track (animal), added if new. */
long pose_track(struct pose_dataset *ds, const char *name);

/* Reads a SLEAP labels file: from path when buf is NULL, else from buf[0..len) (an archive
 * member), name being what messages call it; its embedded frames, kept in memory, may take at
 * most max_frame_bytes in all. */
int pose_read_slp(struct pose_dataset *ds, const char *path, const void *buf, size_t len,
		  const char *name, uint64_t max_frame_bytes, struct err *e);

/* Reads DeepLabCut's project file (config.yaml, buf[0..len), name for messages) for its
 * skeleton: "skeleton:" a list of pairs of body part names, which must be nodes of ds (set by
 * the labels first); none, null or [] leave ds without edges. */
int pose_dlc_config(struct pose_dataset *ds, const void *buf, size_t len, const char *name,
		    struct err *e);

#endif
