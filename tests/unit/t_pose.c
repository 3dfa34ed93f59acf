/* Unit tests of lib/vision/pose: one small dataset written here as DeepLabCut labeled-data, COCO
 * keypoints and a SLEAP .pkg.slp (through libhdf5), in folders and archives (zip, tar.gz, 7z),
 * read back to the same labels; bad input refused with messages naming where and what. */
#include <archive.h>
#include <hdf5.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "base/base.h"
#include "vision/confmap.h"
#include "vision/pose.h"
#include "check.h"
#include "fixture.h"

#define NF 3
#define NN 4
#define W  32
#define H  24

static const char *const node_names[NN] = {"head", "tail", "left", "right"};
/* x, y per node per frame; NaN: not labeled */
static const float label[NF][NN][2] = {
    {{10.25f, 7.5f}, {20.5f, 15.75f}, {12, 10}, {14.5f, 9}},
    {{5, 5}, {25.25f, 18}, {NAN, NAN}, {8, 6.5f}},
    {{30, 3.5f}, {2.75f, 20}, {16, 12}, {17, 13.25f}},
};

static void mkdirs(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "mkdir -p '%s/%s'", fx_dir, rel);
	if (system(sb.buf) != 0)
		exit(1);
	strbuf_release(&sb);
}

static void write_file(const char *rel, const void *data, size_t len)
{
	free(fx_write(rel, data, len));
}

static void write_text(const char *rel, const char *s)
{
	write_file(rel, s, strlen(s));
}

/* Frame f as a PNG of w x h pixels (gray in RGB), in memory (free). */
static unsigned char *png(int f, int w, int h, size_t *len)
{
	unsigned char *px = xmalloc((size_t)w * (size_t)h * 3), *out;
	int n;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < 3; c++)
				px[(y * w + x) * 3 + c] =
				    (unsigned char)((x * 7 + y * 3 + f * 50) & 255);
	out = stbi_write_png_to_mem(px, w * 3, w, h, 3, &n);
	free(px);
	*len = (size_t)n;
	return out;
}

static void write_png(const char *rel, int f, int w, int h)
{
	size_t len;
	unsigned char *p = png(f, w, h, &len);
	write_file(rel, p, len);
	free(p);
}

/* ---- the three formats ---- */

static void dlc_csv(struct strbuf *sb, const char *img_prefix)
{
	strbuf_adds(sb, "scorer");
	for (int i = 0; i < 2 * NN; i++)
		strbuf_adds(sb, ",me");
	strbuf_adds(sb, "\nbodyparts");
	for (int i = 0; i < NN; i++)
		strbuf_addf(sb, ",%s,%s", node_names[i], node_names[i]);
	strbuf_adds(sb, "\ncoords");
	for (int i = 0; i < NN; i++)
		strbuf_adds(sb, ",x,y");
	strbuf_addch(sb, '\n');
	for (int f = 0; f < NF; f++) {
		strbuf_addf(sb, "%simg%03d.png", img_prefix, f);
		for (int i = 0; i < NN; i++) {
			if (isnan(label[f][i][0]))
				strbuf_adds(sb, f == 1 ? ",," : ",NaN,NaN");
			else
				strbuf_addf(sb, ",%g,%g", (double)label[f][i][0],
					    (double)label[f][i][1]);
		}
		strbuf_adds(sb, "\r\n"); /* DeepLabCut on Windows */
	}
}

static void write_dlc(const char *root)
{
	struct strbuf sb = STRBUF_INIT, d = STRBUF_INIT;
	strbuf_addf(&d, "%s/labeled-data/vid", root);
	mkdirs(d.buf);
	for (int f = 0; f < NF; f++) {
		struct strbuf p = STRBUF_INIT;
		strbuf_addf(&p, "%s/img%03d.png", d.buf, f);
		write_png(p.buf, f, W, H);
		strbuf_release(&p);
	}
	dlc_csv(&sb, "labeled-data\\vid\\");
	strbuf_adds(&d, "/CollectedData_me.csv");
	write_text(d.buf, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&d);
}

static void write_coco(const char *root, const char *keypoints_override)
{
	struct strbuf sb = STRBUF_INIT, d = STRBUF_INIT;
	strbuf_addf(&d, "%s/images", root);
	mkdirs(d.buf);
	for (int f = 0; f < NF; f++) {
		struct strbuf p = STRBUF_INIT;
		strbuf_addf(&p, "%s/images/img%03d.png", root, f);
		write_png(p.buf, f, W, H);
		strbuf_release(&p);
	}
	strbuf_adds(&sb, "{\"info\": {}, \"images\": [");
	for (int f = 0; f < NF; f++)
		strbuf_addf(&sb,
			    "%s{\"id\": %d, \"file_name\": \"img%03d.png\", \"width\": %d, "
			    "\"height\": %d}",
			    f ? ", " : "", 100 + f, f, W, H);
	strbuf_adds(&sb, "],\n \"categories\": [{\"id\": 1, \"name\": \"mouse\", \"keypoints\": ");
	strbuf_adds(&sb, keypoints_override ? keypoints_override
					    : "[\"head\", \"tail\", \"left\", \"right\"]");
	strbuf_adds(&sb, ", \"skeleton\": [[1, 2], [2, 3]]}],\n \"annotations\": [");
	/* listed out of frame order: grouped by image when read */
	for (int k = NF - 1; k >= 0; k--) {
		strbuf_addf(&sb,
			    "%s{\"id\": %d, \"image_id\": %d, \"category_id\": 1, "
			    "\"keypoints\": [",
			    k == NF - 1 ? "" : ",\n ", k, 100 + k);
		for (int i = 0; i < NN; i++) {
			if (isnan(label[k][i][0]))
				strbuf_addf(&sb, "%s0, 0, 0", i ? ", " : "");
			else
				strbuf_addf(&sb, "%s%g, %g, 2", i ? ", " : "",
					    (double)label[k][i][0], (double)label[k][i][1]);
		}
		strbuf_adds(&sb, "]}");
	}
	strbuf_adds(&sb, "]}\n");
	strbuf_reset(&d);
	strbuf_addf(&d, "%s/annotations", root);
	mkdirs(d.buf);
	strbuf_adds(&d, "/keypoints.json");
	write_text(d.buf, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&d);
}

static void attr_string(hid_t obj, const char *name, const char *v)
{
	hid_t sp = H5Screate(H5S_SCALAR), t = H5Tcopy(H5T_C_S1);
	hid_t a;
	H5Tset_size(t, strlen(v));
	a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, t, v);
	H5Aclose(a);
	H5Tclose(t);
	H5Sclose(sp);
}

static void dataset(hid_t f, const char *name, hid_t type, size_t n, const void *data)
{
	hsize_t dims[1] = {n};
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
	H5Dclose(d);
	H5Sclose(sp);
}

struct wframe {
	uint64_t frame_id;
	uint32_t video;
	uint64_t frame_idx, start, end;
};
struct winst {
	int64_t id;
	uint8_t type;
	uint64_t frame_id;
	uint32_t skeleton;
	int32_t track;
	int64_t from_predicted;
	float score;
	uint64_t pstart, pend;
	float tracking_score;
};
struct wpoint {
	double x, y;
	int8_t visible, complete;
};

static const char *slp_json(bool nodes)
{
	return nodes
		   ? "{\"version\": \"1.3.4\", \"nodes\": [{\"name\": \"head\", \"weight\": 1.0}, "
		     "{\"name\": \"tail\", \"weight\": 1.0}, {\"name\": \"left\", \"weight\": "
		     "1.0}, {\"name\": \"right\", \"weight\": 1.0}], \"skeletons\": "
		     "[{\"directed\": true, \"graph\": {\"name\": \"mouse\"}, \"links\": "
		     "[{\"source\": 0, \"target\": 1, \"type\": {\"py/reduce\": [{\"py/type\": "
		     "\"sleap.skeleton.EdgeType\"}, {\"py/tuple\": [1]}]}}, {\"source\": 2, "
		     "\"target\": 3, \"type\": {\"py/reduce\": [{\"py/type\": "
		     "\"sleap.skeleton.EdgeType\"}, {\"py/tuple\": [2]}]}}, {\"source\": 3, "
		     "\"target\": 2, \"type\": {\"py/id\": 2}}, {\"source\": 1, \"target\": 2, "
		     "\"type\": {\"py/id\": 1}}], \"nodes\": [{\"id\": 0}, {\"id\": 1}, {\"id\": "
		     "2}, {\"id\": 3}]}]}"
		   : "{\"nodes\": [], \"skeletons\": [{\"links\": [], \"nodes\": []}]}";
}

/* A .pkg.slp as SLEAP writes it: frames embedded out of order (frame numbers 12, 5, 9 hold
 * frames 2, 0, 1), a predicted instance that is not a label. */
static void write_slp(const char *rel, bool nodes)
{
	char *p = fx_path(rel);
	hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	hid_t g = H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	hid_t sp = H5Screate(H5S_SCALAR), a, vs, ft, it, pt, bt, vl, v0;
	double fid = 1.2;
	const char *vjson =
	    "{\"backend\": {\"type\": \"HDF5Video\", \"dataset\": \"video0/video\", "
	    "\"filename\": \".\"}, \"filename\": \".\"}";
	struct wframe fr[NF];
	struct winst in[NF + 1];
	struct wpoint pts[(NF + 1) * NN];
	static const int frame_no[NF] = {5, 9, 12};
	static const int row_frame[NF] = {2, 0, 1};
	static const int64_t numbers[NF] = {12, 5, 9};
	hvl_t blobs[NF];
	size_t ni = 0, np = 0;
	int8_t no = 0, yes = 1;

	a = H5Acreate2(g, "format_id", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_DOUBLE, &fid);
	H5Aclose(a);
	attr_string(g, "json", slp_json(nodes));
	H5Gclose(g);
	vs = H5Tcopy(H5T_C_S1);
	H5Tset_size(vs, H5T_VARIABLE);
	dataset(f, "videos_json", vs, 1, &vjson);
	H5Tclose(vs);

	bt = H5Tenum_create(H5T_NATIVE_SCHAR);
	H5Tenum_insert(bt, "FALSE", &no);
	H5Tenum_insert(bt, "TRUE", &yes);
	for (int k = 0; k < NF; k++) {
		fr[k] = (struct wframe){(uint64_t)k, 0, (uint64_t)frame_no[k], ni, ni + 1};
		in[ni] = (struct winst){(int64_t)ni, 0, (uint64_t)k, 0, -1, -1, 0, np, np + NN, 0};
		ni++;
		for (int i = 0; i < NN; i++)
			pts[np++] = (struct wpoint){label[k][i][0], label[k][i][1],
						    (int8_t)!isnan(label[k][i][0]), 1};
	}
	/* a prediction on frame 1: skipped */
	in[ni] = (struct winst){(int64_t)ni, 1, 1, 0, -1, -1, 0.9f, 0, NN, 0};
	ni++;
	/* a frame's instances are contiguous: the prediction goes with the last frame's */
	fr[NF - 1].end = ni;
	ft = H5Tcreate(H5T_COMPOUND, sizeof(struct wframe));
	H5Tinsert(ft, "frame_id", HOFFSET(struct wframe, frame_id), H5T_NATIVE_UINT64);
	H5Tinsert(ft, "video", HOFFSET(struct wframe, video), H5T_NATIVE_UINT32);
	H5Tinsert(ft, "frame_idx", HOFFSET(struct wframe, frame_idx), H5T_NATIVE_UINT64);
	H5Tinsert(ft, "instance_id_start", HOFFSET(struct wframe, start), H5T_NATIVE_UINT64);
	H5Tinsert(ft, "instance_id_end", HOFFSET(struct wframe, end), H5T_NATIVE_UINT64);
	dataset(f, "frames", ft, NF, fr);
	it = H5Tcreate(H5T_COMPOUND, sizeof(struct winst));
	H5Tinsert(it, "instance_id", HOFFSET(struct winst, id), H5T_NATIVE_INT64);
	H5Tinsert(it, "instance_type", HOFFSET(struct winst, type), H5T_NATIVE_UINT8);
	H5Tinsert(it, "frame_id", HOFFSET(struct winst, frame_id), H5T_NATIVE_UINT64);
	H5Tinsert(it, "skeleton", HOFFSET(struct winst, skeleton), H5T_NATIVE_UINT32);
	H5Tinsert(it, "track", HOFFSET(struct winst, track), H5T_NATIVE_INT32);
	H5Tinsert(it, "from_predicted", HOFFSET(struct winst, from_predicted), H5T_NATIVE_INT64);
	H5Tinsert(it, "score", HOFFSET(struct winst, score), H5T_NATIVE_FLOAT);
	H5Tinsert(it, "point_id_start", HOFFSET(struct winst, pstart), H5T_NATIVE_UINT64);
	H5Tinsert(it, "point_id_end", HOFFSET(struct winst, pend), H5T_NATIVE_UINT64);
	H5Tinsert(it, "tracking_score", HOFFSET(struct winst, tracking_score), H5T_NATIVE_FLOAT);
	dataset(f, "instances", it, ni, in);
	pt = H5Tcreate(H5T_COMPOUND, sizeof(struct wpoint));
	H5Tinsert(pt, "x", HOFFSET(struct wpoint, x), H5T_NATIVE_DOUBLE);
	H5Tinsert(pt, "y", HOFFSET(struct wpoint, y), H5T_NATIVE_DOUBLE);
	H5Tinsert(pt, "visible", HOFFSET(struct wpoint, visible), bt);
	H5Tinsert(pt, "complete", HOFFSET(struct wpoint, complete), bt);
	dataset(f, "points", pt, np, pts);

	g = H5Gcreate2(f, "video0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Gclose(g);
	for (int r = 0; r < NF; r++) {
		size_t len;
		blobs[r].p = png(row_frame[r], W, H, &len);
		blobs[r].len = len;
	}
	vl = H5Tvlen_create(H5T_NATIVE_SCHAR);
	dataset(f, "video0/video", vl, NF, blobs);
	v0 = H5Dopen2(f, "video0/video", H5P_DEFAULT);
	attr_string(v0, "format", "png");
	attr_string(v0, "channel_order", "RGB");
	H5Dclose(v0);
	dataset(f, "video0/frame_numbers", H5T_NATIVE_INT64, NF, numbers);
	for (int r = 0; r < NF; r++)
		free(blobs[r].p);
	H5Tclose(vl);
	H5Tclose(ft);
	H5Tclose(it);
	H5Tclose(pt);
	H5Tclose(bt);
	H5Sclose(sp);
	H5Fclose(f);
	free(p);
}

/* ---- archives ---- */

struct entry {
	const char *member; /* name in the archive */
	const char *file;   /* relative to fx_dir; NULL: zeros of size */
	size_t size;
};

static void write_archive(const char *rel, int format, int filter, const struct entry *en, size_t n)
{
	char *p = fx_path(rel);
	struct fx_member *m = xcalloc(n ? n : 1, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		size_t len = en[i].size;
		char *data;
		if (en[i].file) {
			char *fp = fx_path(en[i].file);
			data = fx_slurp(fp, &len);
			free(fp);
			if (!data)
				data = xcalloc(1, 1), len = 0;
		} else {
			data = xcalloc(len ? len : 1, 1);
		}
		/* len 0: fx_archive takes strlen of the zeroed byte, 0 */
		m[i] = (struct fx_member){en[i].member, data, len};
	}
	if (fx_archive(p, format, filter, m, n) < 0) {
		fprintf(stderr, "cannot write %s\n", p);
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		free((void *)m[i].data);
	free(m);
	free(p);
}

/* ---- checks ---- */

static struct pose_dataset *load(const char *rel, struct err *e)
{
	struct pose_dataset *ds = NULL;
	char *p = fx_path(rel);
	err_clear(e);
	pose_load(&ds, p, NULL, e);
	free(p);
	return ds;
}

static bool same_point(const struct pose_point *a, float x, float y)
{
	if (isnan(x))
		return isnan(a->x) && isnan(a->y) && a->vis == POSE_MISSING;
	return a->x == x && a->y == y && a->vis == POSE_VISIBLE;
}

/* The dataset holds the labels above, frame by frame. */
static void check_labels(const struct pose_dataset *ds, const char *what)
{
	bool ok = ds && ds->nframes == NF && ds->skel.nnodes == NN && ds->width == W &&
		  ds->height == H && ds->ninst == NF;
	for (int i = 0; ok && i < NN; i++)
		ok = !strcmp(ds->skel.nodes[i], node_names[i]);
	check(ok, "%s: 3 frames of 32x24, 4 nodes in order", what);
	for (int f = 0; ok && f < NF; f++) {
		const struct pose_point *p = pose_frame_instance(ds, (size_t)f, 0);
		ok = ds->frames[f].ninst == 1;
		for (int i = 0; ok && i < NN; i++)
			ok = same_point(&p[i], label[f][i][0], label[f][i][1]);
	}
	check(ok, "%s: the same points, the missing one NaN and not usable", what);
	if (ok) {
		struct img im;
		struct err e = ERR_INIT;
		size_t len;
		unsigned char *ref = png(2, W, H, &len);
		bool same;
		img_init(&im);
		free(ref);
		same = pose_frame_image(ds, 2, 1, &im, &e) == 0 && im.w == W && im.h == H &&
		       im.px[0] == 100 && im.px[1] == 107 && im.px[W] == 103;
		check(same, "%s: frame 2 decoded on demand to its pixels %s", what, e.msg);
		img_release(&im);
	}
}

static void test_agree(void)
{
	struct err e = ERR_INIT;
	struct pose_dataset *dlc, *coco, *slp;
	write_dlc("dlc");
	write_coco("coco", NULL);
	mkdirs("slp");
	write_slp("slp/labels.pkg.slp", true);

	dlc = load("dlc", &e);
	check(dlc && dlc->format == POSE_DLC, "DeepLabCut folder read: %s", e.msg);
	check_labels(dlc, "dlc");
	check(dlc && !strcmp(dlc->frames[0].group, "vid") && dlc->skel.nedges == 0,
	      "dlc: frames grouped by video folder");
	coco = load("coco", &e);
	check(coco && coco->format == POSE_COCO, "COCO folder read: %s", e.msg);
	check_labels(coco, "coco");
	check(coco && coco->skel.nedges == 2 && coco->skel.edges[0] == 0 &&
		  coco->skel.edges[1] == 1 && coco->skel.edges[2] == 1 && coco->skel.edges[3] == 2,
	      "coco: skeleton edges from 1-based pairs");
	slp = load("slp/labels.pkg.slp", &e);
	check(slp && slp->format == POSE_SLEAP, "SLEAP file read: %s", e.msg);
	check_labels(slp, "sleap");
	check(slp && slp->skel.nedges == 2 && slp->skel.edges[2] == 1 && slp->skel.edges[3] == 2 &&
		  slp->skel.nsyms == 1 && slp->skel.syms[0] == 2 && slp->skel.syms[1] == 3,
	      "sleap: edges (py/id resolved) and one symmetry (listed both ways)");
	if (slp) {
		size_t map[NN];
		pose_skeleton_flip_map(&slp->skel, map);
		check(map[0] == 0 && map[2] == 3 && map[3] == 2, "flip map swaps left and right");
	}
	pose_free(&dlc);
	pose_free(&coco);
	pose_free(&slp);

	/* DeepLabCut's training-datasets/ hold copies of the labels, not to be read twice. */
	mkdirs("dlc/training-datasets/iteration-0/UnaugmentedDataSet_x");
	{
		struct strbuf sb = STRBUF_INIT;
		dlc_csv(&sb, "labeled-data/vid/");
		write_text("dlc/training-datasets/iteration-0/UnaugmentedDataSet_x/"
			   "CollectedData_me.csv",
			   sb.buf);
		strbuf_release(&sb);
	}
	dlc = load("dlc", &e);
	check_labels(dlc, "dlc project with training-datasets");
	pose_free(&dlc);

	/* The CSV alone, and the .slp found in its folder. */
	dlc = load("dlc/labeled-data/vid/CollectedData_me.csv", &e);
	check_labels(dlc, "dlc csv file");
	pose_free(&dlc);
	slp = load("slp", &e);
	check_labels(slp, "sleap folder");
	pose_free(&slp);
}

/* DeepLabCut's project file: the skeleton of config.yaml, in block or flow style, beside other
 * settings; none, [] or null; names that are not body parts and what is not YAML refused. */
static bool edges_are(const struct pose_dataset *ds, const size_t *want, size_t n)
{
	if (!ds || ds->skel.nedges != n)
		return false;
	for (size_t i = 0; i < 2 * n; i++)
		if (ds->skel.edges[i] != want[i])
			return false;
	return true;
}

static void test_dlc_config(void)
{
	struct err e = ERR_INIT;
	struct pose_dataset *ds;
	static const size_t block[] = {0, 1, 2, 3}, flow[] = {1, 2};
	write_dlc("dlcy");
	write_text("dlcy/config.yaml", "Task: t\nbodyparts:\n- head\n- tail\n"
				       "video_sets:\n  /a/b.mp4:\n    crop: 0, 32, 0, 24\n"
				       "skeleton:\n- - head\n  - tail\n- - left\n  - right\n"
				       "skeleton_color: black\n");
	/* a deeper config.yaml is not the project's */
	write_text("dlcy/labeled-data/config.yaml", "skeleton: [[head, left]]\n");
	ds = load("dlcy", &e);
	check(edges_are(ds, block, 2), "dlc config.yaml: block-style skeleton, two edges (%s)",
	      e.msg);
	check_labels(ds, "dlc with config.yaml");
	pose_free(&ds);

	write_text("dlcy/config.yaml",
		   "video_sets: {x: {crop: [0, 1]}}\nskeleton: [[tail, left]]\n");
	ds = load("dlcy", &e);
	check(edges_are(ds, flow, 1),
	      "dlc config.yaml: flow-style skeleton after a nested mapping");
	pose_free(&ds);
	{
		const struct entry zip[] = {
		    {"p/labeled-data/vid/CollectedData_me.csv",
		     "dlcy/labeled-data/vid/CollectedData_me.csv", 0},
		    {"p/labeled-data/vid/img000.png", "dlcy/labeled-data/vid/img000.png", 0},
		    {"p/labeled-data/vid/img001.png", "dlcy/labeled-data/vid/img001.png", 0},
		    {"p/labeled-data/vid/img002.png", "dlcy/labeled-data/vid/img002.png", 0},
		    {"p/config.yaml", "dlcy/config.yaml", 0},
		};
		write_archive("dlcy.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, zip,
			      ARRAY_SIZE(zip));
		ds = load("dlcy.zip", &e);
		check(edges_are(ds, flow, 1), "dlc config.yaml read from a zip (%s)", e.msg);
		pose_free(&ds);
	}
	for (int k = 0; k < 3; k++) {
		static const char *const none[] = {"skeleton: []\n", "skeleton:\n", "Task: t\n"};
		write_text("dlcy/config.yaml", none[k]);
		ds = load("dlcy", &e);
		check(ds && ds->skel.nedges == 0,
		      "dlc config.yaml with an empty, a null or no skeleton (%d): no edges (%s)", k,
		      e.msg);
		pose_free(&ds);
	}

	write_text("dlcy/config.yaml", "bodyparts: [head]\nskeleton:\n- [head, nose]\n");
	ds = load("dlcy", &e);
	check(!ds && e.code == DYN_EDATA &&
		  strstr(e.msg, "config.yaml:3: skeleton edge 1: \"nose\" is not a body part"),
	      "a skeleton naming no body part: %s", e.msg);
	pose_free(&ds);
	write_text("dlcy/config.yaml", "skeleton:\n- [head, tail, left]\n");
	ds = load("dlcy", &e);
	check(!ds && strstr(e.msg, "config.yaml:2: skeleton edge 1: expected a pair"),
	      "an edge of three: %s", e.msg);
	pose_free(&ds);
	write_text("dlcy/config.yaml", "skeleton: [[head, tail]\nTask: [\n");
	ds = load("dlcy", &e);
	check(!ds && strstr(e.msg, "config.yaml:") && strstr(e.msg, "not YAML"),
	      "config.yaml that is not YAML: %s", e.msg);
	pose_free(&ds);
	write_text("dlcy/config.yaml", "skeleton: black\n");
	ds = load("dlcy", &e);
	check(!ds && strstr(e.msg, "config.yaml:1: skeleton: expected a list of pairs"),
	      "a skeleton that is not a list: %s", e.msg);
	pose_free(&ds);
}

static void test_archives(void)
{
	struct err e = ERR_INIT;
	struct pose_dataset *ds;
	const struct entry dlc[] = {
	    {"proj/labeled-data/vid/CollectedData_me.csv",
	     "dlc/labeled-data/vid/CollectedData_me.csv", 0},
	    {"proj/labeled-data/vid/img000.png", "dlc/labeled-data/vid/img000.png", 0},
	    {"proj/labeled-data/vid/img001.png", "dlc/labeled-data/vid/img001.png", 0},
	    {"proj/labeled-data/vid/img002.png", "dlc/labeled-data/vid/img002.png", 0},
	    {"proj/README.txt", "dlc/labeled-data/vid/img002.png", 0},
	};
	const struct entry coco[] = {
	    {"ds/annotations/keypoints.json", "coco/annotations/keypoints.json", 0},
	    {"ds/images/img000.png", "coco/images/img000.png", 0},
	    {"ds/images/img001.png", "coco/images/img001.png", 0},
	    {"ds/images/img002.png", "coco/images/img002.png", 0},
	};
	const struct entry slp[] = {{"labels.pkg.slp", "slp/labels.pkg.slp", 0}};
	write_archive("dlc.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, dlc, ARRAY_SIZE(dlc));
	write_archive("dlc.tar.gz", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP, dlc,
		      ARRAY_SIZE(dlc));
	write_archive("dlc.7z", ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE, dlc, ARRAY_SIZE(dlc));
	write_archive("coco.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, coco, ARRAY_SIZE(coco));
	write_archive("slp.tar.gz", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP, slp,
		      ARRAY_SIZE(slp));
	ds = load("dlc.zip", &e);
	check_labels(ds, "dlc zip");
	check(ds && ds->frames[0].data && !ds->frames[0].path &&
		  strstr(ds->frames[0].name, "dlc.zip:proj/labeled-data/vid/img000.png"),
	      "dlc zip: frames held in memory, named archive:member");
	pose_free(&ds);
	ds = load("dlc.tar.gz", &e);
	check_labels(ds, "dlc tar.gz");
	pose_free(&ds);
	ds = load("dlc.7z", &e);
	check_labels(ds, "dlc 7z");
	pose_free(&ds);
	ds = load("coco.zip", &e);
	check_labels(ds, "coco zip");
	pose_free(&ds);
	ds = load("slp.tar.gz", &e);
	check_labels(ds, "sleap tar.gz (HDF5 read from memory)");
	pose_free(&ds);
}

static void test_multi_animal(void)
{
	struct err e = ERR_INIT;
	struct pose_dataset *ds;
	mkdirs("ma/labeled-data/v1");
	write_png("ma/labeled-data/v1/a.png", 0, W, H);
	write_png("ma/labeled-data/v1/b.png", 1, W, H);
	/* DeepLabCut 2.2: three index columns, an individuals row. */
	write_text("ma/labeled-data/v1/CollectedData_me.csv", "scorer,,,me,me,me,me\n"
							      "individuals,,,m1,m1,m2,m2\n"
							      "bodyparts,,,nose,nose,nose,nose\n"
							      "coords,,,x,y,x,y\n"
							      "labeled-data,v1,a.png,1,2,3,4\n"
							      "labeled-data,v1,b.png,,,5.5,6.5\n");
	ds = load("ma", &e);
	check(ds && ds->nframes == 2 && ds->ninst == 3 && ds->ntracks == 2 &&
		  ds->frames[0].ninst == 2 && ds->frames[1].ninst == 1,
	      "multi-animal: 2 frames, 3 instances, 2 animals: %s", e.msg);
	if (ds && ds->ninst == 3) {
		const struct pose_point *p = pose_frame_instance(ds, 1, 0);
		check(p->x == 5.5f && p->y == 6.5f && !strcmp(ds->tracks[ds->inst_track[2]], "m2"),
		      "multi-animal: the second mouse of frame b");
	}
	pose_free(&ds);
}

/* load must fail with code and a message holding each of the parts. */
static void expect_error(const char *rel, const struct pose_opts *o, int code, const char *a,
			 const char *b, const char *what)
{
	struct err e = ERR_INIT;
	struct pose_dataset *ds = NULL;
	char *p = fx_path(rel);
	int r = pose_load(&ds, p, o, &e);
	check(r < 0 && !ds && e.code == code && strstr(e.msg, a) && (!b || strstr(e.msg, b)),
	      "%s: %s", what, e.msg);
	free(p);
}

static void test_bad(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct pose_opts small = {1 << 20, 0};
	const struct entry dotdot[] = {
	    {"x/CollectedData_me.csv", "dlc/labeled-data/vid/CollectedData_me.csv", 0},
	    {"x/../../evil.png", "dlc/labeled-data/vid/img000.png", 0},
	};
	const struct entry absolute[] = {
	    {"/etc/CollectedData_me.csv", "dlc/labeled-data/vid/CollectedData_me.csv", 0},
	};
	const struct entry bomb[] = {
	    {"labeled-data/vid/CollectedData_me.csv", "dlc/labeled-data/vid/CollectedData_me.csv",
	     0},
	    {"labeled-data/vid/img000.png", NULL, 8 << 20},
	};

	write_archive("dotdot.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, dotdot, 2);
	expect_error("dotdot.zip", NULL, DYN_EDATA, "dotdot.zip: member \"x/../../evil.png\"",
		     "\"..\" in its name", "archive with a .. member");
	write_archive("abs.tar", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, absolute,
		      1);
	expect_error("abs.tar", NULL, DYN_EDATA, "absolute name", "/etc/CollectedData_me.csv",
		     "archive with an absolute member");
	write_archive("bomb.tar.gz", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP, bomb, 2);
	expect_error("bomb.tar.gz", &small, DYN_EDATA, "bomb.tar.gz:labeled-data/vid/img000.png",
		     "more than 1048576 bytes decompressed", "decompression past the bound");

	/* a frame the labels name that is not there */
	write_dlc("miss");
	strbuf_reset(&sb);
	dlc_csv(&sb, "labeled-data/vid/");
	strbuf_adds(&sb, "labeled-data/vid/img009.png,1,2,3,4,5,6,7,8\n");
	write_text("miss/labeled-data/vid/CollectedData_me.csv", sb.buf);
	expect_error("miss", NULL, DYN_EDATA,
		     "CollectedData_me.csv:7: frame \"labeled-data/vid/img009.png\" not found",
		     NULL, "labels naming a missing frame");

	/* a frame labeled twice */
	strbuf_reset(&sb);
	dlc_csv(&sb, "labeled-data/vid/");
	strbuf_adds(&sb, "labeled-data/vid/img001.png,1,2,3,4,5,6,7,8\n");
	write_text("miss/labeled-data/vid/CollectedData_me.csv", sb.buf);
	expect_error("miss", NULL, DYN_EDATA,
		     "CollectedData_me.csv:7: frame \"img001.png\" labeled twice", NULL,
		     "a frame labeled twice");

	/* frames of different sizes */
	write_dlc("sizes");
	write_png("sizes/labeled-data/vid/img001.png", 1, W + 8, H);
	expect_error("sizes", NULL, DYN_EDATA, "img001.png: a 40x24 frame, but",
		     "img000.png\" is 32x24 (frames of different sizes)",
		     "frames of different sizes");

	/* skeletons without nodes */
	write_coco("nonodes", "[]");
	expect_error("nonodes", NULL, DYN_EDATA, "keypoints.json: a skeleton without nodes", NULL,
		     "COCO skeleton with no nodes");
	mkdirs("slp0");
	write_slp("slp0/empty.slp", false);
	expect_error("slp0/empty.slp", NULL, DYN_EDATA, "empty.slp: a skeleton without nodes", NULL,
		     "SLEAP skeleton with no nodes");

	/* embedded frames past the bound */
	{
		struct pose_opts tiny = {100, 0};
		write_slp("slp0/big.slp", true);
		expect_error("slp0/big.slp", &tiny, DYN_EDATA,
			     "big.slp: more than 100 bytes of embedded frames (the limit)", NULL,
			     "SLEAP frames past the memory bound");
	}

	/* corrupt HDF5: not HDF5 at all, and a real file cut in half */
	write_text("slp0/junk.slp", "this is not an HDF5 file\n");
	expect_error("slp0/junk.slp", NULL, DYN_EDATA,
		     "junk.slp: not an HDF5 file, or a corrupt one", NULL, "corrupt HDF5 file");
	{
		char *p = fx_path("slp/labels.pkg.slp");
		struct stat st;
		if (stat(p, &st) == 0 && truncate(p, st.st_size / 2) == 0)
			expect_error("slp/labels.pkg.slp", NULL, DYN_EDATA,
				     "labels.pkg.slp: ", NULL, "truncated HDF5 file");
		free(p);
	}

	/* broken DeepLabCut header rows */
	mkdirs("hdr/labeled-data/vid");
	write_png("hdr/labeled-data/vid/img000.png", 0, W, H);
	write_text("hdr/labeled-data/vid/CollectedData_me.csv",
		   "scorer,me,me\ncoords,x,y\nlabeled-data/vid/img000.png,1,2\n");
	expect_error("hdr", NULL, DYN_EDATA,
		     "CollectedData_me.csv:2: expected DeepLabCut's \"bodyparts\" header row, got "
		     "\"coords\"",
		     NULL, "CSV without its bodyparts row");
	write_text("hdr/labeled-data/vid/CollectedData_me.csv",
		   "scorer,me,me\nbodyparts,nose,nose\ncoords,x,z\nimg000.png,1,2\n");
	expect_error("hdr", NULL, DYN_EDATA, "CollectedData_me.csv:3: column 3: coordinate \"z\"",
		     NULL, "CSV with an unknown coordinate");
	write_text("hdr/labeled-data/vid/CollectedData_me.csv",
		   "scorer,me,me\nbodyparts,nose,nose\ncoords,x,y\nimg000.png,1,two\n");
	expect_error("hdr", NULL, DYN_EDATA,
		     "CollectedData_me.csv:4: column 3 (nose y): expected a number, got \"two\"",
		     NULL, "CSV with a word for a number");
	write_text("hdr/labeled-data/vid/CollectedData_me.csv",
		   "scorer,me,me\nbodyparts,nose\ncoords,x,y\n");
	expect_error("hdr", NULL, DYN_EDATA,
		     "CollectedData_me.csv:2: 2 columns, but the \"scorer\" row has 3", NULL,
		     "CSV with a short header row");
	write_text("hdr/labeled-data/vid/CollectedData_me.csv",
		   "scorer,me,me\nbodyparts,nose,nose\n");
	expect_error("hdr", NULL, DYN_EDATA,
		     "CollectedData_me.csv: ends before DeepLabCut's \"coords\" header row", NULL,
		     "CSV that ends in its header");

	mkdirs("empty/sub");
	expect_error("empty", NULL, DYN_EDATA, "no pose labels found", NULL,
		     "folder without labels");
	expect_error("nothing-here", NULL, DYN_EDATA, "nothing-here\": No such file or directory",
		     NULL, "missing path");
	strbuf_release(&sb);
}

static void test_split(void)
{
	struct err e = ERR_INIT;
	size_t *tr, *va, ntr, nva, *tr2, *va2, ntr2, nva2;
	bool ok, differ = false;
	int seen[20] = {0};
	check(pose_split(20, 0.2, 7, &tr, &ntr, &va, &nva, &e) == 0 && ntr == 16 && nva == 4,
	      "20 frames, fraction 0.2: 16 + 4");
	for (size_t i = 0; i < ntr; i++)
		seen[tr[i]]++;
	for (size_t i = 0; i < nva; i++)
		seen[va[i]]++;
	ok = true;
	for (int i = 0; i < 20; i++)
		ok &= seen[i] == 1;
	for (size_t i = 1; i < nva; i++)
		ok &= va[i - 1] < va[i];
	check(ok, "each frame in exactly one part, sorted");
	pose_split(20, 0.2, 7, &tr2, &ntr2, &va2, &nva2, &e);
	check(nva2 == nva && !memcmp(va, va2, nva * sizeof(*va)), "the same seed, the same split");
	free(tr2);
	free(va2);
	for (uint64_t s = 8; s < 12 && !differ; s++) {
		pose_split(20, 0.2, s, &tr2, &ntr2, &va2, &nva2, &e);
		differ = memcmp(va, va2, nva * sizeof(*va)) != 0;
		free(tr2);
		free(va2);
	}
	check(differ, "another seed, another split");
	free(tr);
	free(va);
	check(pose_split(3, 0.01, 1, &tr, &ntr, &va, &nva, &e) == 0 && nva == 1 && ntr == 2,
	      "a small fraction still holds one frame out");
	free(tr);
	free(va);
	check(pose_split(5, 1.0, 1, &tr, &ntr, &va, &nva, &e) < 0 && e.code == DYN_EUSAGE,
	      "fraction 1 refused: %s", e.msg);
	err_clear(&e);
	check(pose_split(1, 0.2, 1, &tr, &ntr, &va, &nva, &e) < 0 && e.code == DYN_EUSAGE,
	      "one frame cannot be split: %s", e.msg);
}

/* Real frames: three of DeepLabCut's openfield frames at a quarter size (testdata/README.md). */
static void test_openfield(void)
{
	static const char *const parts[NN] = {"snout", "leftear", "rightear", "tailbase"};
	struct err e = ERR_INIT;
	struct pose_dataset *ds = NULL;
	struct confmap_geom g;
	struct confmap_peak pk[NN];
	struct img im, crop;
	struct pose_point moved[NN];
	float *maps;
	double worst = 0;
	bool ok, inside = true;
	long x0, y0;
	check(pose_load(&ds, "../testdata/pose/openfield-mini", NULL, &e) == 0,
	      "openfield frames read: %s", e.msg);
	if (!ds)
		return;
	ok = ds->format == POSE_DLC && ds->nframes == 3 && ds->ninst == 3 && ds->width == 160 &&
	     ds->height == 120 && ds->skel.nnodes == NN;
	for (int i = 0; ok && i < NN; i++)
		ok = !strcmp(ds->skel.nodes[i], parts[i]);
	check(ok, "openfield: 3 frames of 160x120, the project's 4 body parts in order");
	{
		/* the CSV's own text: 62.138999999999996 and 37.799499999999995 */
		const struct pose_point *p = pose_frame_instance(ds, 0, 0);
		check(p[2].y == 62.139f && p[3].x == 21.4025f && p[3].y == 37.7995f &&
			  !strcmp(ds->frames[2].group, "m4s1") &&
			  strstr(ds->frames[2].name, "labeled-data/m4s1/img0080.png"),
		      "openfield: labels and names as the CSV has them");
	}
	maps = xmallocarray(NN * 80 * 60, sizeof(float));
	confmap_geom_init(&g, ds->width, ds->height, 2, 2.5, &e);
	img_init(&im);
	img_init(&crop);
	for (size_t f = 0; f < ds->nframes; f++) {
		const struct pose_point *p = pose_frame_instance(ds, f, 0);
		check(pose_frame_image(ds, f, 1, &im, &e) == 0 && im.w == 160 && im.h == 120,
		      "openfield frame %zu decoded: %s", f, e.msg);
		confmap_make(&g, p, NN, maps);
		confmap_peaks(&g, maps, NN, CONFMAP_REFINE_GAUSSIAN, 0.1f, pk);
		for (int n = 0; n < NN; n++)
			worst = fmax(worst, pose_point_error(pk[n].x, pk[n].y, &p[n]));
		if (confmap_crop_instance(&im, p, NN, -1, 64, 64, &crop, moved, &x0, &y0, &e) < 0)
			inside = false;
		for (int n = 0; inside && n < NN; n++)
			inside = moved[n].x >= 0 && moved[n].x < 64 && moved[n].y >= 0 &&
				 moved[n].y < 64 && fabsf(moved[n].x + (float)x0 - p[n].x) < 1e-4f;
	}
	check(worst < 1e-3, "openfield: targets at stride 2 give their labels back (worst %g px)",
	      worst);
	check(inside, "openfield: 64x64 crops around the mouse hold its 4 body parts");
	img_release(&im);
	img_release(&crop);
	free(maps);
	pose_free(&ds);
}

int main(void)
{
	fx_mkdir("t-pose");
	test_agree();
	test_dlc_config();
	test_archives();
	test_multi_animal();
	test_bad();
	test_split();
	test_openfield();
	fx_rmdir();
	return check_done();
}
