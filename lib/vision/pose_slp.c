/* SLEAP labels (.slp, .pkg.slp) through libhdf5, loaded on first use: the skeleton from
 * metadata/@json, the user instances from frames, instances and points, and the frames
 * embedded as encoded pictures in videoN/video (videoN/frame_numbers says which is which). */
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <hdf5.h>
#include <math.h>
#include <pthread.h>

#include "base/base.h"
#include "base/lazylib.h"
#include "base/strv.h"
#include "vision/pose_internal.h"

/* No table or string of a labels file is allowed to take more than this. */
#define SLP_MAX_BYTES ((size_t)1 << 30)
/* H5F_ACC_RDONLY, whose macro calls the library (H5open) where it is expanded. */
#define SLP_RDONLY 0x0000u

#define HDF5_FUNCS(X)                                                                              \
	X(H5open)                                                                                  \
	X(H5Eset_auto2)                                                                            \
	X(H5Fopen)                                                                                 \
	X(H5Fclose)                                                                                \
	X(H5Pcreate)                                                                               \
	X(H5Pclose)                                                                                \
	X(H5Pset_fapl_core)                                                                        \
	X(H5Pset_file_image)                                                                       \
	X(H5Aexists_by_name)                                                                       \
	X(H5Aopen_by_name)                                                                         \
	X(H5Aget_type)                                                                             \
	X(H5Aread)                                                                                 \
	X(H5Aclose)                                                                                \
	X(H5Lexists)                                                                               \
	X(H5Dopen2)                                                                                \
	X(H5Dclose)                                                                                \
	X(H5Dget_type)                                                                             \
	X(H5Dget_space)                                                                            \
	X(H5Dread)                                                                                 \
	X(H5Dvlen_reclaim)                                                                         \
	X(H5Sget_simple_extent_ndims)                                                              \
	X(H5Sget_simple_extent_dims)                                                               \
	X(H5Sselect_hyperslab)                                                                     \
	X(H5Screate_simple)                                                                        \
	X(H5Sclose)                                                                                \
	X(H5Tcreate)                                                                               \
	X(H5Tinsert)                                                                               \
	X(H5Tclose)                                                                                \
	X(H5Tcopy)                                                                                 \
	X(H5Tset_size)                                                                             \
	X(H5Tis_variable_str)                                                                      \
	X(H5Tget_class)                                                                            \
	X(H5Tget_size)                                                                             \
	X(H5Tget_member_index)                                                                     \
	X(H5Tget_member_type)                                                                      \
	X(H5Tget_super)                                                                            \
	X(H5Tget_sign)                                                                             \
	X(H5Tvlen_create)                                                                          \
	X(H5Tenum_create)                                                                          \
	X(H5Tenum_insert)                                                                          \
	X(H5free_memory)

/* The predefined types are variables of the library, not macros: resolved like functions. */
#define HDF5_VARS(X)                                                                               \
	X(H5T_NATIVE_DOUBLE_g)                                                                     \
	X(H5T_NATIVE_UINT64_g)                                                                     \
	X(H5T_NATIVE_INT64_g)                                                                      \
	X(H5T_NATIVE_UINT32_g)                                                                     \
	X(H5T_NATIVE_INT32_g)                                                                      \
	X(H5T_NATIVE_UCHAR_g)                                                                      \
	X(H5T_NATIVE_SCHAR_g)                                                                      \
	X(H5T_C_S1_g)                                                                              \
	X(H5P_CLS_FILE_ACCESS_ID_g)

static struct {
	HDF5_FUNCS(LAZYLIB_MEMBER)
#define X(v) hid_t *v;
	HDF5_VARS(X)
#undef X
} h5;

static int hdf5_load(const char *what, struct err *e)
{
	static const char *const names[] = {HDF5_FUNCS(LAZYLIB_NAME) HDF5_VARS(LAZYLIB_NAME)};
	_Static_assert(sizeof(names) == sizeof(h5), "h5: one pointer for each name");
	static int loaded;
	bool first = !loaded;
	if (lazylib_load("libhdf5_serial.so.103", names, ARRAY_SIZE(names), &h5, &loaded, what, e) <
	    0)
		return -1;
	/* The predefined types exist once the library is open; and lib/ never prints, so
	 * HDF5's own error stack printing goes (errors are reported by what failed). */
	if (first && (h5.H5open() < 0 || h5.H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0))
		return err_set(e, DYN_EDATA, "%s: libhdf5 does not start", what);
	if (first) {
		/* A program linked with libhdf5 (the unit tests) holds copies of its variables
		 * that the library fills instead of its own: the ones the process sees first. */
#define X(v)                                                                                       \
	{                                                                                          \
		void *p = dlsym(RTLD_DEFAULT, #v);                                                 \
		if (p)                                                                             \
			h5.v = p;                                                                  \
	}
		HDF5_VARS(X)
#undef X
	}
	return 0;
}

/* One open .slp file and what is read from it. */
struct slp {
	hid_t f;
	const char *name;
	uint64_t max_bytes, bytes; /* of embedded frames read, and the limit */
	double format_id;
	size_t nnodes;
	/* videos_json: per video the embedded dataset ("video0/video") or NULL, the file */
	char **vdataset, **vfile;
	size_t nvideos;
	/* per video, (frame number, row) sorted by frame number, loaded when first needed */
	uint64_t **vrows;
	size_t *nvrows;
	bool *vloaded, *vbgr;
};

static int h5_fail(struct err *e, const struct slp *s, const char *what)
{
	return err_set(e, DYN_EDATA, "%s: %s unreadable (a corrupt or truncated HDF5 file?)",
		       s->name, what);
}

/* A string attribute or one string of a dataset (fixed or variable length), copied. */
static int read_string_attr(struct slp *s, const char *obj, const char *attr, char **out,
			    struct err *e)
{
	hid_t a = -1, t = -1, mt = -1;
	int ret = -1;
	struct strbuf what = STRBUF_INIT;
	strbuf_addf(&what, "attribute %s/@%s", obj, attr);
	if (h5.H5Aexists_by_name(s->f, obj, attr, H5P_DEFAULT) <= 0) {
		err_set(e, DYN_EDATA, "%s: no %s (not a SLEAP labels file)", s->name, what.buf);
		goto out;
	}
	a = h5.H5Aopen_by_name(s->f, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
	t = a < 0 ? -1 : h5.H5Aget_type(a);
	if (t < 0 || h5.H5Tget_class(t) != H5T_STRING) {
		err_set(e, DYN_EDATA, "%s: %s is not a string", s->name, what.buf);
		goto out;
	}
	mt = h5.H5Tcopy(*h5.H5T_C_S1_g);
	if (h5.H5Tis_variable_str(t) > 0) {
		char *v = NULL;
		if (h5.H5Tset_size(mt, H5T_VARIABLE) < 0 || h5.H5Aread(a, mt, &v) < 0 || !v) {
			h5_fail(e, s, what.buf);
			goto out;
		}
		*out = xstrdup(v);
		h5.H5free_memory(v);
	} else {
		size_t n = h5.H5Tget_size(t);
		char *v;
		if (n == 0 || n > SLP_MAX_BYTES) {
			h5_fail(e, s, what.buf);
			goto out;
		}
		v = xcalloc(n + 1, 1);
		if (h5.H5Tset_size(mt, n) < 0 || h5.H5Aread(a, mt, v) < 0) {
			free(v);
			h5_fail(e, s, what.buf);
			goto out;
		}
		*out = v;
	}
	ret = 0;
out:
	if (mt >= 0)
		h5.H5Tclose(mt);
	if (t >= 0)
		h5.H5Tclose(t);
	if (a >= 0)
		h5.H5Aclose(a);
	strbuf_release(&what);
	return ret;
}

static int read_double_attr(struct slp *s, const char *obj, const char *attr, double *out)
{
	hid_t a;
	int r;
	if (h5.H5Aexists_by_name(s->f, obj, attr, H5P_DEFAULT) <= 0)
		return -1;
	a = h5.H5Aopen_by_name(s->f, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0)
		return -1;
	r = h5.H5Aread(a, *h5.H5T_NATIVE_DOUBLE_g, out);
	h5.H5Aclose(a);
	return r < 0 ? -1 : 0;
}

static bool has_link(struct slp *s, const char *path)
{
	/* H5Lexists fails (not false) when an intermediate group is missing. */
	const char *p = path;
	for (;;) {
		const char *sl = strchr(p, '/');
		char *pre = xstrndup(path, sl ? (size_t)(sl - path) : strlen(path));
		htri_t r = h5.H5Lexists(s->f, pre, H5P_DEFAULT);
		free(pre);
		if (r <= 0)
			return false;
		if (!sl)
			return true;
		p = sl + 1;
	}
}

/* Opens a one-dimensional dataset: its id and length; at most max elements of size el. */
static hid_t open_1d(struct slp *s, const char *path, size_t el, size_t *n, struct err *e)
{
	hid_t d, sp;
	hsize_t dims[1];
	if (!has_link(s, path)) {
		err_set(e, DYN_EDATA, "%s: no dataset \"%s\" (not a SLEAP labels file)", s->name,
			path);
		return -1;
	}
	d = h5.H5Dopen2(s->f, path, H5P_DEFAULT);
	if (d < 0) {
		struct strbuf w = STRBUF_INIT;
		strbuf_addf(&w, "dataset \"%s\"", path);
		h5_fail(e, s, w.buf);
		strbuf_release(&w);
		return -1;
	}
	sp = h5.H5Dget_space(d);
	if (sp < 0 || h5.H5Sget_simple_extent_ndims(sp) != 1 ||
	    h5.H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
		if (sp >= 0)
			h5.H5Sclose(sp);
		h5.H5Dclose(d);
		err_set(e, DYN_EDATA, "%s: dataset \"%s\" is not a list", s->name, path);
		return -1;
	}
	h5.H5Sclose(sp);
	if (dims[0] > SLP_MAX_BYTES / (el ? el : 1)) {
		h5.H5Dclose(d);
		err_set(e, DYN_EDATA, "%s: dataset \"%s\" has %llu rows (too many)", s->name, path,
			(unsigned long long)dims[0]);
		return -1;
	}
	*n = (size_t)dims[0];
	return d;
}

/* Reads a whole 1-D dataset with memory type mt (rows of size el) into *out (caller frees). */
static int read_rows(struct slp *s, const char *path, hid_t mt, size_t el, void **out, size_t *n,
		     struct err *e)
{
	hid_t d = open_1d(s, path, el, n, e);
	int ret = -1;
	if (d < 0)
		return -1;
	*out = xcalloc(*n ? *n : 1, el);
	if (*n && h5.H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
		struct strbuf w = STRBUF_INIT;
		strbuf_addf(&w, "dataset \"%s\"", path);
		h5_fail(e, s, w.buf);
		strbuf_release(&w);
		FREE_AND_NULL(*out);
		goto out;
	}
	ret = 0;
out:
	h5.H5Dclose(d);
	return ret;
}

/* The strings of a 1-D string dataset (videos_json, tracks_json), copied. */
static int read_strings(struct slp *s, const char *path, char ***out, size_t *n, struct err *e)
{
	hid_t d, t = -1, mt = -1;
	int ret = -1;
	char **v = NULL;
	*out = NULL;
	*n = 0;
	d = open_1d(s, path, 64, n, e);
	if (d < 0)
		return -1;
	t = h5.H5Dget_type(d);
	if (t < 0 || h5.H5Tget_class(t) != H5T_STRING) {
		err_set(e, DYN_EDATA, "%s: dataset \"%s\" does not hold strings", s->name, path);
		goto out;
	}
	mt = h5.H5Tcopy(*h5.H5T_C_S1_g);
	v = xcalloc(*n ? *n : 1, sizeof(*v));
	if (h5.H5Tis_variable_str(t) > 0) {
		char **raw = xcalloc(*n ? *n : 1, sizeof(*raw));
		hid_t sp = h5.H5Dget_space(d);
		int r = h5.H5Tset_size(mt, H5T_VARIABLE) < 0 ||
				(*n && h5.H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
			    ? -1
			    : 0;
		for (size_t i = 0; r == 0 && i < *n; i++)
			v[i] = xstrdup(raw[i] ? raw[i] : "");
		if (r == 0 && *n)
			h5.H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, raw);
		h5.H5Sclose(sp);
		free(raw);
		if (r < 0) {
			h5_fail(e, s, path);
			goto out;
		}
	} else {
		size_t w = h5.H5Tget_size(t);
		char *raw;
		if (!w || w > SLP_MAX_BYTES / (*n ? *n : 1)) {
			h5_fail(e, s, path);
			goto out;
		}
		raw = xcalloc(*n ? *n : 1, w);
		if (h5.H5Tset_size(mt, w) < 0 ||
		    (*n && h5.H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)) {
			free(raw);
			h5_fail(e, s, path);
			goto out;
		}
		for (size_t i = 0; i < *n; i++)
			v[i] = xstrndup(raw + i * w, w);
		free(raw);
	}
	*out = v;
	v = NULL;
	ret = 0;
out:
	if (v)
		strv_free(v, *n);
	if (mt >= 0)
		h5.H5Tclose(mt);
	if (t >= 0)
		h5.H5Tclose(t);
	h5.H5Dclose(d);
	return ret;
}

/* ---- skeleton ---- */

/* A node reference of a skeleton's link or node list: an index into metadata's "nodes". */
static long node_ref(const cJSON *v)
{
	if (cJSON_IsObject(v))
		v = cJSON_GetObjectItem(v, "id");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble))
		return (long)v->valuedouble;
	return -1;
}

/* SLEAP writes an edge's type with jsonpickle: the first of each kind in full ("py/reduce",
 * then the value 1 for a body edge, 2 for a symmetry), later ones as {"py/id": k}, the k-th
 * object pickled so far. */
static int edge_type(const cJSON *t, int *seen, size_t *nseen)
{
	const cJSON *r = cJSON_GetObjectItem(t, "py/reduce"), *id = cJSON_GetObjectItem(t, "py/id");
	if (cJSON_IsArray(r)) {
		const cJSON *tup = cJSON_GetObjectItem(cJSON_GetArrayItem(r, 1), "py/tuple");
		const cJSON *v = cJSON_GetArrayItem(tup, 0);
		int k = cJSON_IsNumber(v) ? (int)v->valuedouble : 1;
		if (*nseen < 8)
			seen[(*nseen)++] = k;
		return k;
	}
	if (cJSON_IsNumber(id)) {
		size_t k = (size_t)id->valuedouble;
		return k >= 1 && k <= *nseen ? seen[k - 1] : (int)id->valuedouble;
	}
	return 1;
}

static int read_skeleton(struct pose_dataset *ds, struct slp *s, const char *json, struct err *e)
{
	cJSON *doc = cJSON_Parse(json);
	const cJSON *gnodes, *sk, *v;
	struct strv names;
	long *map = NULL; /* global node index -> skeleton node index */
	size_t ng, alloc_e = 0, alloc_s = 0;
	int seen[8], ret = -1;
	size_t nseen = 0;
	strv_init(&names);
	if (!doc) {
		err_set(e, DYN_EDATA, "%s: metadata/@json is not valid JSON", s->name);
		goto out;
	}
	gnodes = cJSON_GetObjectItem(doc, "nodes");
	sk = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skeletons"), 0);
	if (!cJSON_IsArray(gnodes) || !sk) {
		err_set(e, DYN_EDATA, "%s: metadata/@json has no \"skeletons\" or \"nodes\"",
			s->name);
		goto out;
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItem(doc, "skeletons")) > 1) {
		err_set(e, DYN_EDATA, "%s: several skeletons (dyn reads one)", s->name);
		goto out;
	}
	ng = (size_t)cJSON_GetArraySize(gnodes);
	map = xmallocarray(ng ? ng : 1, sizeof(*map));
	for (size_t i = 0; i < ng; i++)
		map[i] = -1;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(sk, "nodes"))
	{
		long g = node_ref(v);
		const cJSON *nm = cJSON_GetObjectItem(cJSON_GetArrayItem(gnodes, (int)g), "name");
		if (g < 0 || (size_t)g >= ng || !cJSON_IsString(nm) || map[g] >= 0) {
			err_set(e, DYN_EDATA,
				"%s: skeleton node %zu is not one of metadata's nodes", s->name,
				names.n + 1);
			goto out;
		}
		map[g] = (long)names.n;
		strv_push(&names, nm->valuestring, strlen(nm->valuestring));
	}
	if (pose_set_nodes(ds, names.v, names.n, s->name, e) < 0)
		goto out;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(sk, "links"))
	{
		long a = node_ref(cJSON_GetObjectItem(v, "source"));
		long b = node_ref(cJSON_GetObjectItem(v, "target"));
		int type = edge_type(cJSON_GetObjectItem(v, "type"), seen, &nseen);
		size_t **arr = type == 2 ? &ds->skel.syms : &ds->skel.edges;
		size_t *cnt = type == 2 ? &ds->skel.nsyms : &ds->skel.nedges;
		size_t *al = type == 2 ? &alloc_s : &alloc_e;
		if (a < 0 || b < 0 || (size_t)a >= ng || (size_t)b >= ng || map[a] < 0 ||
		    map[b] < 0) {
			err_set(e, DYN_EDATA, "%s: a skeleton edge names an unknown node", s->name);
			goto out;
		}
		if (type == 2) {
			/* Older files list a symmetry both ways: once is enough. */
			bool dup = false;
			for (size_t k = 0; k < ds->skel.nsyms; k++)
				dup |= ds->skel.syms[2 * k] == (size_t)map[b] &&
				       ds->skel.syms[2 * k + 1] == (size_t)map[a];
			if (dup)
				continue;
		}
		if (2 * (*cnt + 1) > *al) {
			*al = 2 * (*cnt + 1) * 2;
			*arr = xreallocarray(*arr, *al, sizeof(size_t));
		}
		(*arr)[2 * *cnt] = (size_t)map[a];
		(*arr)[2 * *cnt + 1] = (size_t)map[b];
		(*cnt)++;
	}
	s->nnodes = names.n;
	ret = 0;
out:
	cJSON_Delete(doc);
	free(map);
	strv_release(&names);
	return ret;
}

/* ---- videos and embedded frames ---- */

static int read_videos(struct slp *s, struct err *e)
{
	char **js = NULL;
	size_t n = 0;
	if (read_strings(s, "videos_json", &js, &n, e) < 0)
		return -1;
	s->nvideos = n;
	s->vdataset = xcalloc(n ? n : 1, sizeof(char *));
	s->vfile = xcalloc(n ? n : 1, sizeof(char *));
	s->vrows = xcalloc(n ? n : 1, sizeof(*s->vrows));
	s->nvrows = xcalloc(n ? n : 1, sizeof(*s->nvrows));
	s->vloaded = xcalloc(n ? n : 1, sizeof(*s->vloaded));
	s->vbgr = xcalloc(n ? n : 1, sizeof(*s->vbgr));
	for (size_t i = 0; i < n; i++) {
		cJSON *doc = cJSON_Parse(js[i]);
		const cJSON *be = cJSON_GetObjectItem(doc, "backend");
		const cJSON *ds = cJSON_GetObjectItem(be, "dataset");
		const cJSON *fn = cJSON_GetObjectItem(be, "filename");
		if (!cJSON_IsString(fn))
			fn = cJSON_GetObjectItem(doc, "filename");
		if (!doc) {
			strv_free(js, n);
			return err_set(e, DYN_EDATA, "%s: videos_json[%zu] is not valid JSON",
				       s->name, i);
		}
		if (cJSON_IsString(ds) && ds->valuestring[0])
			s->vdataset[i] = xstrdup(ds->valuestring);
		s->vfile[i] = xstrdup(cJSON_IsString(fn) ? fn->valuestring : "?");
		cJSON_Delete(doc);
	}
	strv_free(js, n);
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The rows of video v's embedded frames by frame number, and its colour order. */
static int load_video(struct slp *s, size_t v, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	const char *ds = s->vdataset[v];
	const char *sl = strrchr(ds, '/');
	int64_t *num = NULL;
	size_t n = 0, nrows = 0;
	char *fmt = NULL, *order = NULL;
	int ret = -1;
	hid_t d;
	s->vloaded[v] = true;
	strbuf_add(&path, ds, sl ? (size_t)(sl - ds) : 0);
	strbuf_adds(&path, sl ? "/frame_numbers" : "frame_numbers");
	if (read_rows(s, path.buf, *h5.H5T_NATIVE_INT64_g, sizeof(*num), (void **)&num, &n, e) < 0)
		goto out;
	d = open_1d(s, ds, 1, &nrows, e);
	if (d < 0)
		goto out;
	h5.H5Dclose(d);
	if (nrows != n) {
		err_set(e, DYN_EDATA, "%s: \"%s\" holds %zu frames but %s lists %zu", s->name, ds,
			nrows, path.buf, n);
		goto out;
	}
	if (h5.H5Aexists_by_name(s->f, ds, "format", H5P_DEFAULT) > 0) {
		if (read_string_attr(s, ds, "format", &fmt, e) < 0)
			goto out;
		if (strcmp(fmt, "png") && strcmp(fmt, "jpg")) {
			err_set(e, DYN_EDATA,
				"%s: \"%s\" holds frames as \"%s\" (dyn reads png and jpg)",
				s->name, ds, fmt);
			goto out;
		}
	}
	/* Without channel_order (files before SLEAP's format 1.4) the pictures are taken as
	 * RGB, as image files are. */
	if (h5.H5Aexists_by_name(s->f, ds, "channel_order", H5P_DEFAULT) > 0) {
		if (read_string_attr(s, ds, "channel_order", &order, e) < 0)
			goto out;
		s->vbgr[v] = !strcmp(order, "BGR");
	}
	s->vrows[v] = xmallocarray(n ? n : 1, 2 * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		s->vrows[v][2 * i] = (uint64_t)num[i];
		s->vrows[v][2 * i + 1] = i;
	}
	qsort(s->vrows[v], n, 2 * sizeof(uint64_t), cmp_row);
	s->nvrows[v] = n;
	ret = 0;
out:
	free(num);
	free(fmt);
	free(order);
	strbuf_release(&path);
	return ret;
}

/* The encoded picture in row r of the vlen dataset ds, copied into *buf. */
static int read_blob(struct slp *s, const char *ds, uint64_t r, unsigned char **buf, size_t *len,
		     struct err *e)
{
	hid_t d = h5.H5Dopen2(s->f, ds, H5P_DEFAULT), ft = -1, base = -1, mt = -1, fsp = -1,
	      msp = -1;
	hsize_t start[1] = {r}, count[1] = {1};
	hvl_t v = {0, NULL};
	int ret = -1;
	struct strbuf w = STRBUF_INIT;
	strbuf_addf(&w, "frame %llu of \"%s\"", (unsigned long long)r, ds);
	if (d < 0)
		goto fail;
	ft = h5.H5Dget_type(d);
	if (ft < 0 || h5.H5Tget_class(ft) != H5T_VLEN) {
		err_set(e, DYN_EDATA, "%s: \"%s\" does not hold encoded pictures", s->name, ds);
		goto out;
	}
	base = h5.H5Tget_super(ft);
	/* Bytes as they are: h5py stores them as int8, which must not be clipped to uint8. */
	mt = h5.H5Tvlen_create(base >= 0 && h5.H5Tget_sign(base) == H5T_SGN_2
				   ? *h5.H5T_NATIVE_SCHAR_g
				   : *h5.H5T_NATIVE_UCHAR_g);
	fsp = h5.H5Dget_space(d);
	msp = h5.H5Screate_simple(1, count, NULL);
	if (base < 0 || h5.H5Tget_size(base) != 1 || mt < 0 || fsp < 0 || msp < 0 ||
	    h5.H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
	    h5.H5Dread(d, mt, msp, fsp, H5P_DEFAULT, &v) < 0)
		goto fail;
	if (v.len > SLP_MAX_BYTES) {
		err_set(e, DYN_EDATA, "%s: %s is too large", s->name, w.buf);
		h5.H5Dvlen_reclaim(mt, msp, H5P_DEFAULT, &v);
		goto out;
	}
	*len = v.len;
	*buf = xmalloc(v.len ? v.len : 1);
	if (v.len)
		memcpy(*buf, v.p, v.len);
	h5.H5Dvlen_reclaim(mt, msp, H5P_DEFAULT, &v);
	ret = 0;
	goto out;
fail:
	h5_fail(e, s, w.buf);
out:
	if (msp >= 0)
		h5.H5Sclose(msp);
	if (fsp >= 0)
		h5.H5Sclose(fsp);
	if (mt >= 0)
		h5.H5Tclose(mt);
	if (base >= 0)
		h5.H5Tclose(base);
	if (ft >= 0)
		h5.H5Tclose(ft);
	if (d >= 0)
		h5.H5Dclose(d);
	strbuf_release(&w);
	return ret;
}

/* ---- labels ---- */

struct slp_frame {
	uint32_t video;
	uint64_t frame_idx, inst_start, inst_end;
};

struct slp_inst {
	uint8_t type;
	uint32_t skeleton;
	int32_t track;
	uint64_t pt_start, pt_end;
};

struct slp_point {
	double x, y;
	signed char visible;
};

static hid_t frame_type(void)
{
	hid_t t = h5.H5Tcreate(H5T_COMPOUND, sizeof(struct slp_frame));
	h5.H5Tinsert(t, "video", offsetof(struct slp_frame, video), *h5.H5T_NATIVE_UINT32_g);
	h5.H5Tinsert(t, "frame_idx", offsetof(struct slp_frame, frame_idx),
		     *h5.H5T_NATIVE_UINT64_g);
	h5.H5Tinsert(t, "instance_id_start", offsetof(struct slp_frame, inst_start),
		     *h5.H5T_NATIVE_UINT64_g);
	h5.H5Tinsert(t, "instance_id_end", offsetof(struct slp_frame, inst_end),
		     *h5.H5T_NATIVE_UINT64_g);
	return t;
}

static hid_t inst_type(void)
{
	hid_t t = h5.H5Tcreate(H5T_COMPOUND, sizeof(struct slp_inst));
	h5.H5Tinsert(t, "instance_type", offsetof(struct slp_inst, type), *h5.H5T_NATIVE_UCHAR_g);
	h5.H5Tinsert(t, "skeleton", offsetof(struct slp_inst, skeleton), *h5.H5T_NATIVE_UINT32_g);
	h5.H5Tinsert(t, "track", offsetof(struct slp_inst, track), *h5.H5T_NATIVE_INT32_g);
	h5.H5Tinsert(t, "point_id_start", offsetof(struct slp_inst, pt_start),
		     *h5.H5T_NATIVE_UINT64_g);
	h5.H5Tinsert(t, "point_id_end", offsetof(struct slp_inst, pt_end), *h5.H5T_NATIVE_UINT64_g);
	return t;
}

/* h5py stores a bool as an enum of int8 (FALSE 0, TRUE 1); HDF5 converts enums by names, so
 * the memory type is that enum when the file has it, else a plain integer. */
static hid_t point_type(struct slp *s)
{
	hid_t t = h5.H5Tcreate(H5T_COMPOUND, sizeof(struct slp_point)), vis = -1;
	hid_t d = h5.H5Dopen2(s->f, "points", H5P_DEFAULT), ft = d >= 0 ? h5.H5Dget_type(d) : -1;
	int k = ft >= 0 ? h5.H5Tget_member_index(ft, "visible") : -1;
	hid_t mt = k >= 0 ? h5.H5Tget_member_type(ft, (unsigned)k) : -1;
	if (mt >= 0 && h5.H5Tget_class(mt) == H5T_ENUM) {
		signed char f = 0, tr = 1;
		vis = h5.H5Tenum_create(*h5.H5T_NATIVE_SCHAR_g);
		h5.H5Tenum_insert(vis, "FALSE", &f);
		h5.H5Tenum_insert(vis, "TRUE", &tr);
	}
	h5.H5Tinsert(t, "x", offsetof(struct slp_point, x), *h5.H5T_NATIVE_DOUBLE_g);
	h5.H5Tinsert(t, "y", offsetof(struct slp_point, y), *h5.H5T_NATIVE_DOUBLE_g);
	h5.H5Tinsert(t, "visible", offsetof(struct slp_point, visible),
		     vis >= 0 ? vis : *h5.H5T_NATIVE_SCHAR_g);
	if (vis >= 0)
		h5.H5Tclose(vis);
	if (mt >= 0)
		h5.H5Tclose(mt);
	if (ft >= 0)
		h5.H5Tclose(ft);
	if (d >= 0)
		h5.H5Dclose(d);
	return t;
}

static int read_tracks(struct pose_dataset *ds, struct slp *s, long **map, size_t *n, struct err *e)
{
	char **js = NULL;
	*map = NULL;
	*n = 0;
	if (!has_link(s, "tracks_json"))
		return 0;
	if (read_strings(s, "tracks_json", &js, n, e) < 0)
		return -1;
	*map = xcalloc(*n ? *n : 1, sizeof(**map));
	for (size_t i = 0; i < *n; i++) {
		cJSON *doc = cJSON_Parse(js[i]);
		const cJSON *nm = cJSON_GetArrayItem(doc, 1);
		struct strbuf def = STRBUF_INIT;
		if (!cJSON_IsString(nm))
			strbuf_addf(&def, "track_%zu", i);
		(*map)[i] = pose_track(ds, cJSON_IsString(nm) ? nm->valuestring : def.buf);
		strbuf_release(&def);
		cJSON_Delete(doc);
	}
	strv_free(js, *n);
	return 0;
}

static int read_labels(struct pose_dataset *ds, struct slp *s, struct err *e)
{
	struct slp_frame *fr = NULL;
	struct slp_inst *in = NULL;
	struct slp_point *pt = NULL;
	size_t nfr = 0, nin = 0, npt = 0, ntracks = 0;
	long *tracks = NULL;
	hid_t tf = frame_type(), ti = inst_type(), tp = point_type(s);
	/* SLEAP before format 1.1 put (0, 0) at a pixel's corner; since, at its centre. */
	double shift = s->format_id < 1.1 ? -0.5 : 0.0;
	int ret = -1;

	if (read_tracks(ds, s, &tracks, &ntracks, e) < 0 ||
	    read_rows(s, "frames", tf, sizeof(*fr), (void **)&fr, &nfr, e) < 0 ||
	    read_rows(s, "instances", ti, sizeof(*in), (void **)&in, &nin, e) < 0 ||
	    read_rows(s, "points", tp, sizeof(*pt), (void **)&pt, &npt, e) < 0)
		goto out;
	for (size_t i = 0; i < nfr; i++) {
		const struct slp_frame *f = &fr[i];
		size_t nuser = 0, v = f->video;
		uint64_t *row;
		unsigned char *data = NULL;
		size_t len = 0;
		uint64_t key[2];
		struct strbuf name = STRBUF_INIT;
		struct pose_frame *pf;
		if (f->inst_start > f->inst_end || f->inst_end > nin) {
			err_set(e, DYN_EDATA, "%s: frames[%zu] names instances %llu..%llu of %zu",
				s->name, i, (unsigned long long)f->inst_start,
				(unsigned long long)f->inst_end, nin);
			goto out;
		}
		for (uint64_t k = f->inst_start; k < f->inst_end; k++)
			nuser += in[k].type == 0;
		if (!nuser)
			continue; /* predictions only: not labels */
		if (v >= s->nvideos) {
			err_set(e, DYN_EDATA, "%s: frames[%zu] names video %zu of %zu", s->name, i,
				v, s->nvideos);
			goto out;
		}
		if (!s->vdataset[v] || !has_link(s, s->vdataset[v])) {
			err_set(e, DYN_EDATA,
				"%s: frame %llu of video \"%s\" is not embedded (a .pkg.slp with "
				"its frames is needed)",
				s->name, (unsigned long long)f->frame_idx, s->vfile[v]);
			goto out;
		}
		if (!s->vloaded[v] && load_video(s, v, e) < 0)
			goto out;
		key[0] = f->frame_idx;
		row = bsearch(key, s->vrows[v], s->nvrows[v], 2 * sizeof(uint64_t), cmp_row);
		if (!row) {
			err_set(e, DYN_EDATA,
				"%s: frame %llu of video %zu is labeled but not embedded", s->name,
				(unsigned long long)f->frame_idx, v);
			goto out;
		}
		if (read_blob(s, s->vdataset[v], row[1], &data, &len, e) < 0)
			goto out;
		s->bytes += len;
		if (s->bytes > s->max_bytes) {
			free(data);
			err_set(e, DYN_EDATA,
				"%s: more than %llu bytes of embedded frames (the limit)", s->name,
				(unsigned long long)s->max_bytes);
			goto out;
		}
		strbuf_addf(&name, "%s:video %zu frame %llu", s->name, v,
			    (unsigned long long)f->frame_idx);
		pf = pose_add_frame(ds, name.buf, s->vfile[v], NULL, data, len);
		pf->bgr = s->vbgr[v];
		strbuf_release(&name);
		if (pose_frame_size(ds, e) < 0)
			goto out;
		for (uint64_t k = f->inst_start; k < f->inst_end; k++) {
			const struct slp_inst *ii = &in[k];
			struct pose_point *p;
			if (ii->type != 0)
				continue;
			if (ii->skeleton != 0 || ii->pt_start > ii->pt_end || ii->pt_end > npt ||
			    ii->pt_end - ii->pt_start != s->nnodes) {
				err_set(
				    e, DYN_EDATA,
				    "%s: instances[%llu] does not hold %zu points of the skeleton",
				    s->name, (unsigned long long)k, s->nnodes);
				goto out;
			}
			p = pose_add_instance(ds, ii->track >= 0 && (size_t)ii->track < ntracks
						      ? tracks[ii->track]
						      : -1);
			for (size_t j = 0; j < s->nnodes; j++) {
				const struct slp_point *q = &pt[ii->pt_start + j];
				if (!isfinite(q->x) || !isfinite(q->y))
					continue;
				p[j].x = (float)(q->x + shift);
				p[j].y = (float)(q->y + shift);
				p[j].vis = q->visible ? POSE_VISIBLE : POSE_OCCLUDED;
			}
		}
	}
	ret = 0;
out:
	h5.H5Tclose(tf);
	h5.H5Tclose(ti);
	h5.H5Tclose(tp);
	free(fr);
	free(in);
	free(pt);
	free(tracks);
	return ret;
}

/* Debian's libhdf5 is built without thread safety: one file at a time in the process. */
static pthread_mutex_t slp_lock = PTHREAD_MUTEX_INITIALIZER;

static int read_slp(struct pose_dataset *ds, const char *path, const void *buf, size_t len,
		    const char *name, uint64_t max_bytes, struct err *e);

int pose_read_slp(struct pose_dataset *ds, const char *path, const void *buf, size_t len,
		  const char *name, uint64_t max_frame_bytes, struct err *e)
{
	int r;
	pthread_mutex_lock(&slp_lock);
	r = read_slp(ds, path, buf, len, name, max_frame_bytes, e);
	pthread_mutex_unlock(&slp_lock);
	return r;
}

static int read_slp(struct pose_dataset *ds, const char *path, const void *buf, size_t len,
		    const char *name, uint64_t max_bytes, struct err *e)
{
	struct slp s;
	hid_t fapl = -1;
	char *json = NULL;
	int ret = -1;
	memset(&s, 0, sizeof(s));
	s.f = -1;
	s.name = name;
	s.max_bytes = max_bytes;
	if (hdf5_load(name, e) < 0)
		return -1;
	if (buf) {
		/* An archive member: HDF5 reads it from memory through its core driver. */
		fapl = h5.H5Pcreate(*h5.H5P_CLS_FILE_ACCESS_ID_g);
		if (fapl < 0 || h5.H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
		    (len && h5.H5Pset_file_image(fapl, (void *)(uintptr_t)buf, len) < 0)) {
			err_set(e, DYN_EDATA, "%s: libhdf5 cannot read it from memory", name);
			goto out;
		}
		s.f = len ? h5.H5Fopen(name, SLP_RDONLY, fapl) : -1;
	} else {
		s.f = h5.H5Fopen(path, SLP_RDONLY, H5P_DEFAULT);
	}
	if (s.f < 0) {
		err_set(e, DYN_EDATA, "%s: not an HDF5 file, or a corrupt one", name);
		goto out;
	}
	if (read_string_attr(&s, "metadata", "json", &json, e) < 0)
		goto out;
	if (read_double_attr(&s, "metadata", "format_id", &s.format_id) < 0)
		s.format_id = 1.0;
	if (read_skeleton(ds, &s, json, e) < 0 || read_videos(&s, e) < 0 ||
	    read_labels(ds, &s, e) < 0)
		goto out;
	ret = 0;
out:
	free(json);
	for (size_t i = 0; i < s.nvideos; i++) {
		free(s.vdataset[i]);
		free(s.vfile[i]);
		free(s.vrows[i]);
	}
	free(s.vdataset);
	free(s.vfile);
	free(s.vrows);
	free(s.nvrows);
	free(s.vloaded);
	free(s.vbgr);
	if (s.f >= 0)
		h5.H5Fclose(s.f);
	if (fapl >= 0)
		h5.H5Pclose(fapl);
	return ret;
}
