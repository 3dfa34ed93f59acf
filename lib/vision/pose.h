/* Pose datasets in memory: a skeleton, labeled frames (decoded on demand) and per frame, per
 * animal, per body part (x, y, visibility), read from DeepLabCut, COCO keypoints or SLEAP files.
 *
 * Sources: a folder, a single labels file, or an archive (zip, tar, tar.gz, 7z) read through
 * io/stream.h, which refuses members named with ".." or an absolute path and stops a
 * decompression bomb. The format is found from what the path holds:
 *   - DeepLabCut: labeled-data/VIDEO/CollectedData_SCORER.csv with its header rows (scorer,
 *     [individuals,] bodyparts, coords) and one row per frame naming a PNG next to it (the
 *     .h5 twin of the CSV is ignored); the image column may be one path or DeepLabCut 2.2's
 *     three columns (labeled-data, VIDEO, FILE). Empty cells and NaN are unlabeled points.
 *     The skeleton: the edges of the project's config.yaml (the one nearest the root), when
 *     the dataset holds it (libyaml, loaded on first use).
 *   - COCO keypoints: a JSON file with images, annotations (keypoints [x, y, v]*) and
 *     categories (keypoints names, 1-based skeleton pairs); file_name relative to the JSON's
 *     folder, the dataset's root, the JSON's parent folder or an images/ folder in either, or
 *     (in an archive) the one member of that base name. Every listed image is a frame, those
 *     without annotations too (frames with no animal).
 *   - SLEAP: a .pkg.slp (HDF5 through Debian's libhdf5, loaded on first use): metadata/@json
 *     (skeleton), frames, instances, points, videos_json and the frames embedded as PNG or JPEG
 *     in videoN/video. User instances only (predictions are not labels).
 * Coordinates are in pixels of the frame with the centre of the top-left pixel at (0, 0), the
 * convention of SLEAP since its format 1.1 (older SLEAP files are shifted by -0.5, as SLEAP
 * does); DeepLabCut and COCO coordinates are taken as they are written.
 *
 * How the keypoints kind (lib/models, to come) uses this API:
 *   1. pose_load(&ds, path, NULL, &e) once; ds->nframes, ds->width x ds->height (the same for
 *      every frame: checked here) and ds->skel give the network's input size and its output
 *      channels (one confidence map per node, ds->skel.nnodes).
 *   2. pose_split(ds->nframes, test_fraction, seed, ...) gives train and validation frame
 *      indices that depend only on the seed and the number of frames (core/rng), for
 *      --test-fraction.
 *   3. Each batch: pose_frame_image(ds, i, 1 or 3, &im, &e) decodes frame i (thread-safe: the
 *      dataset is only read, so par_for may decode a batch in parallel; a 640x480 PNG takes
 *      some 7 ms of CPU, so a kind that trains for many epochs decodes each frame once and
 *      keeps it at the network's input scale); its labels are
 *      pose_frame_instance(ds, i, k) for k < ds->frames[i].ninst. Augmentation moves image and
 *      points together; confmap_make (vision/confmap.h) turns the points into the targets.
 *      Frames with several animals: confmap_crop_instance cuts a box around each instance's
 *      centroid and maps its points into the crop (centered-instance training).
 *   4. Validation: confmap_peaks on the network's output gives (x, y, score) per node in input
 *      pixels, compared with the labels by pose_point_error.
 *   5. The model stores ds->skel (node names, edges, symmetries) so that predict can name its
 *      output rows and --render can draw the skeleton; symmetries tell a horizontal flip which
 *      nodes to swap (pose_skeleton_flip_map). */
#ifndef DYN_VISION_POSE_H
#define DYN_VISION_POSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "io/image.h"

/* Visibility as COCO codes it: an unlabeled point (x and y are NaN), a point labeled where the
 * body part is hidden (x, y are a guess, not a training target), a labeled visible point. */
enum pose_vis {
	POSE_MISSING = 0,
	POSE_OCCLUDED = 1,
	POSE_VISIBLE = 2,
};

struct pose_point {
	float x, y;
	unsigned char vis; /* enum pose_vis */
};

/* True for a point that is a training target: visible with finite coordinates. */
bool pose_point_usable(const struct pose_point *p);

/* Node names (owned), edges and symmetric pairs as node index pairs (edge k joins
 * edges[2k] and edges[2k+1]). Embedded value: pose_skeleton_init / pose_skeleton_release. */
struct pose_skeleton {
	char **nodes;
	size_t nnodes;
	size_t *edges;
	size_t nedges;
	size_t *syms;
	size_t nsyms;
};

void pose_skeleton_init(struct pose_skeleton *s);
void pose_skeleton_release(struct pose_skeleton *s);
/* Index of the node of that name, or -1. */
long pose_skeleton_node(const struct pose_skeleton *s, const char *name);
/* map[i] = the node that node i becomes when the picture is mirrored: its symmetric partner,
 * else itself. map has s->nnodes entries. */
void pose_skeleton_flip_map(const struct pose_skeleton *s, size_t *map);

enum pose_format {
	POSE_DLC = 1,
	POSE_COCO,
	POSE_SLEAP,
};
/* "dlc", "coco", "sleap". */
const char *pose_format_name(enum pose_format f);

/* A labeled frame. Its picture is either a file read when decoded (path) or encoded bytes
 * held in memory (data, len: an archive member or a frame embedded in a .slp file). */
struct pose_frame {
	char
	    *name; /* as shown in messages: the path, or "ARCHIVE:MEMBER", or "FILE.slp:video0/7" */
	char *group; /* the video the frame comes from (DeepLabCut folder, SLEAP video); NULL in
			COCO */
	char *path;
	unsigned char *data;
	size_t len;
	bool bgr; /* the encoded picture holds blue, green, red (SLEAP's OpenCV encoding) */
	size_t w, h;
	size_t first_inst, ninst; /* its instances: first_inst .. first_inst + ninst - 1 */
};

/* The whole dataset; everything owned by it. Instance k's points are
 * points[k * skel.nnodes .. (k + 1) * skel.nnodes), its animal's name tracks[inst_track[k]]
 * (inst_track[k] < 0: not named). Heap object: pose_load / pose_free. */
struct pose_dataset {
	char *source;
	enum pose_format format;
	struct pose_skeleton skel;
	struct pose_frame *frames;
	size_t nframes;
	struct pose_point *points;
	long *inst_track;
	size_t ninst;
	char **tracks;
	size_t ntracks;
	size_t width, height; /* of every frame */
};

/* Limits on what a dataset may take: bytes read from an archive in all, and bytes of the
 * frames a SLEAP file embeds (0: 4 GiB); the size of one labels file (CSV, JSON; 0: 1 GiB).
 * NULL: the defaults. */
struct pose_opts {
	uint64_t max_archive_bytes;
	size_t max_labels_bytes;
};

/* Reads the dataset at path (a folder, a labels file, a .slp file, an archive). Errors
 * (DYN_EDATA, a missing path included) name the file, line or member and what is
 * wrong: no labels found, a header row missing, a frame named but not found, frames of
 * different sizes (both named), a skeleton without nodes, a corrupt HDF5 file... A dataset
 * without any labeled frame is an error. *ds is owned by the caller: pose_free. */
int pose_load(struct pose_dataset **ds, const char *path, const struct pose_opts *o, struct err *e);
void pose_free(struct pose_dataset **ds);

/* Points of instance k of frame i (k < ds->frames[i].ninst): skel.nnodes of them, owned by ds. */
const struct pose_point *pose_frame_instance(const struct pose_dataset *ds, size_t i, size_t k);

/* Decodes frame i into im (released first) with channels 1 (gray) or 3 (RGB). Reads only ds:
 * safe to call from several threads at once. A picture whose size is not the one its header
 * gave when the dataset was read is an error naming the frame. */
int pose_frame_image(const struct pose_dataset *ds, size_t i, int channels, struct img *im,
		     struct err *e);

/* Splits the frame indices 0..nframes-1 into validation (round(test_fraction * nframes) of
 * them, at least 1 when test_fraction > 0 and nframes > 1) and training (the rest), drawn by
 * a shuffle seeded with seed: the same seed and nframes give the same split. Each list sorted
 * ascending; *train and *val are owned by the caller (free). test_fraction outside [0, 1) is
 * a usage error; so is nframes < 2 with test_fraction > 0. */
int pose_split(size_t nframes, double test_fraction, uint64_t seed, size_t **train, size_t *ntrain,
	       size_t **val, size_t *nval, struct err *e);

/* Distance in pixels between a predicted and a labeled point, or NaN when either is not
 * usable (the labeled point is not a target, the prediction found no peak). */
double pose_point_error(float px, float py, const struct pose_point *label);

#endif
