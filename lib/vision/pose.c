/* Pose datasets: where the labels and frames are (a folder, one labels file, an archive read
 * into memory), the DeepLabCut and COCO readers, frames decoded on demand, the split. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "base/strmap.h"
#include "base/strv.h"
#include "core/rng.h"
#include "io/stream.h"
#include "vision/pose_internal.h"

#define DEFAULT_MAX_ARCHIVE ((uint64_t)4 << 30)
#define DEFAULT_MAX_LABELS  ((size_t)1 << 30)
/* A picture's header, read from a file without the rest of it. */
#define HEADER_BYTES 65536
/* A frame file read whole to be decoded. */
#define MAX_FRAME_BYTES ((size_t)256 << 20)
/* How far and how wide a folder is searched for labels files. */
#define WALK_DEPTH   6
#define WALK_ENTRIES 200000

/* ---- the dataset ---- */

bool pose_point_usable(const struct pose_point *p)
{
	return p->vis == POSE_VISIBLE && isfinite(p->x) && isfinite(p->y);
}

void pose_skeleton_init(struct pose_skeleton *s)
{
	memset(s, 0, sizeof(*s));
}

void pose_skeleton_release(struct pose_skeleton *s)
{
	strv_free(s->nodes, s->nnodes);
	free(s->edges);
	free(s->syms);
	pose_skeleton_init(s);
}

long pose_skeleton_node(const struct pose_skeleton *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (!strcmp(s->nodes[i], name))
			return (long)i;
	return -1;
}

void pose_skeleton_flip_map(const struct pose_skeleton *s, size_t *map)
{
	for (size_t i = 0; i < s->nnodes; i++)
		map[i] = i;
	for (size_t k = 0; k < s->nsyms; k++) {
		map[s->syms[2 * k]] = s->syms[2 * k + 1];
		map[s->syms[2 * k + 1]] = s->syms[2 * k];
	}
}

const char *pose_format_name(enum pose_format f)
{
	switch (f) {
	case POSE_DLC:
		return "dlc";
	case POSE_COCO:
		return "coco";
	case POSE_SLEAP:
		return "sleap";
	}
	return "?";
}

void pose_free(struct pose_dataset **dsp)
{
	struct pose_dataset *ds = *dsp;
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nframes; i++) {
		free(ds->frames[i].name);
		free(ds->frames[i].group);
		free(ds->frames[i].path);
		free(ds->frames[i].data);
	}
	free(ds->frames);
	free(ds->points);
	free(ds->inst_track);
	strv_free(ds->tracks, ds->ntracks);
	pose_skeleton_release(&ds->skel);
	free(ds->source);
	free(ds);
	*dsp = NULL;
}

/* Growth of the arrays while reading; the allocation sizes live here, not in the header. */
struct pose_build {
	size_t frames_alloc, inst_alloc, tracks_alloc;
	struct strmap tracks;
	struct strmap frames; /* names of the pictures read from files, each labeled once */
};

/* The dataset as allocated: its builder lives beside it, out of the public struct. */
struct pose_alloc {
	struct pose_dataset ds; /* first: a struct pose_dataset * is a struct pose_alloc * */
	struct pose_build b;
};

static struct pose_build *build_of(struct pose_dataset *ds)
{
	return &((struct pose_alloc *)ds)->b;
}

int pose_set_nodes(struct pose_dataset *ds, char *const *names, size_t n, const char *where,
		   struct err *e)
{
	if (!n)
		return err_set(e, DYN_EDATA, "%s: a skeleton without nodes", where);
	for (size_t i = 0; i < n; i++) {
		if (!names[i][0])
			return err_set(e, DYN_EDATA, "%s: node %zu has an empty name", where,
				       i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return err_set(e, DYN_EDATA, "%s: node \"%s\" named twice", where,
					       names[i]);
	}
	if (ds->skel.nnodes) {
		if (ds->skel.nnodes != n || !strv_equal(ds->skel.nodes, names, n))
			return err_set(e, DYN_EDATA,
				       "%s: its nodes differ from those of the labels read "
				       "before it (%zu nodes, first \"%s\")",
				       where, ds->skel.nnodes, ds->skel.nodes[0]);
		return 0;
	}
	ds->skel.nodes = strv_dup(names, n);
	ds->skel.nnodes = n;
	return 0;
}

struct pose_frame *pose_add_frame(struct pose_dataset *ds, const char *name, const char *group,
				  char *path, unsigned char *data, size_t len)
{
	struct pose_build *b = build_of(ds);
	struct pose_frame *f;
	ALLOC_GROW(ds->frames, ds->nframes + 1, b->frames_alloc);
	f = &ds->frames[ds->nframes++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->group = group ? xstrdup(group) : NULL;
	f->path = path;
	f->data = data;
	f->len = len;
	f->first_inst = ds->ninst;
	return f;
}

struct pose_point *pose_add_instance(struct pose_dataset *ds, long track)
{
	struct pose_build *b = build_of(ds);
	size_t nn = ds->skel.nnodes, old = b->inst_alloc;
	struct pose_point *p;
	ALLOC_GROW(ds->inst_track, ds->ninst + 1, b->inst_alloc);
	if (b->inst_alloc != old)
		ds->points = xreallocarray(ds->points, b->inst_alloc * nn, sizeof(*ds->points));
	ds->inst_track[ds->ninst] = track;
	p = ds->points + ds->ninst * nn;
	for (size_t i = 0; i < nn; i++) {
		p[i].x = p[i].y = NAN;
		p[i].vis = POSE_MISSING;
	}
	ds->ninst++;
	ds->frames[ds->nframes - 1].ninst++;
	return p;
}

long pose_track(struct pose_dataset *ds, const char *name)
{
	struct pose_build *b = build_of(ds);
	size_t k = strmap_intern(&b->tracks, name, strlen(name));
	if (k == ds->ntracks) {
		ALLOC_GROW(ds->tracks, ds->ntracks + 1, b->tracks_alloc);
		ds->tracks[ds->ntracks++] = xstrdup(name);
	}
	return (long)k;
}

/* The first bytes of a file, for its picture header. */
static int read_head(const char *path, unsigned char *buf, size_t cap, size_t *len, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	if (fd < 0)
		return err_sys(e, "\"%s\"", path);
	while (n < cap) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_sys(e, "\"%s\"", path);
			close(fd);
			return -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	*len = n;
	return 0;
}

int pose_frame_size(struct pose_dataset *ds, struct err *e)
{
	struct pose_frame *f = &ds->frames[ds->nframes - 1];
	unsigned char *head = NULL;
	const unsigned char *p = f->data;
	size_t len = f->len;
	int ret = -1;
	if (f->path) {
		head = xmalloc(HEADER_BYTES);
		if (read_head(f->path, head, HEADER_BYTES, &len, e) < 0)
			goto out;
		p = head;
	}
	if (img_info(p, len, &f->w, &f->h, f->name, e) < 0)
		goto out;
	if (ds->nframes == 1) {
		ds->width = f->w;
		ds->height = f->h;
	} else if (f->w != ds->width || f->h != ds->height) {
		err_set(e, DYN_EDATA,
			"%s: a %zux%zu frame, but \"%s\" is %zux%zu (frames of different sizes)",
			f->name, f->w, f->h, ds->frames[0].name, ds->width, ds->height);
		goto out;
	}
	ret = 0;
out:
	free(head);
	return ret;
}

const struct pose_point *pose_frame_instance(const struct pose_dataset *ds, size_t i, size_t k)
{
	return ds->points + (ds->frames[i].first_inst + k) * ds->skel.nnodes;
}

/* The whole of a file (at most max bytes, decompressed through io/stream), NUL-terminated. */
static int read_file(const char *path, const char *name, size_t max, unsigned char **buf,
		     size_t *len, struct err *e)
{
	struct stream *st = NULL;
	struct strbuf sb = STRBUF_INIT;
	int ret = -1;
	if (stream_open(&st, path, e) < 0)
		goto out;
	stream_set_limits(st, (uint64_t)max + 1, 0);
	for (;;) {
		ssize_t k;
		strbuf_grow(&sb, 65536);
		k = stream_read(st, sb.buf + sb.len, sb.alloc - sb.len - 1, e);
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		sb.len += (size_t)k;
		sb.buf[sb.len] = '\0';
		if (sb.len > max) {
			err_set(e, DYN_EDATA, "%s: larger than %zu bytes (the limit)", name, max);
			goto out;
		}
	}
	*len = sb.len;
	*buf = (unsigned char *)strbuf_detach(&sb, NULL);
	ret = 0;
out:
	strbuf_release(&sb);
	stream_free(&st);
	return ret;
}

int pose_frame_image(const struct pose_dataset *ds, size_t i, int channels, struct img *im,
		     struct err *e)
{
	const struct pose_frame *f = &ds->frames[i];
	unsigned char *file = NULL;
	const unsigned char *p = f->data;
	size_t len = f->len;
	int ret = -1;
	if (f->path) {
		if (read_file(f->path, f->name, MAX_FRAME_BYTES, &file, &len, e) < 0)
			goto out;
		p = file;
	}
	if (img_decode(im, p, len, f->bgr ? 3 : channels, f->name, e) < 0)
		goto out;
	if (im->w != f->w || im->h != f->h) {
		err_set(e, DYN_EDATA, "%s: a %zux%zu picture, %zux%zu when the dataset was read",
			f->name, im->w, im->h, f->w, f->h);
		img_release(im);
		goto out;
	}
	if (f->bgr) {
		size_t n = im->w * im->h;
		unsigned char *px = im->px;
		for (size_t k = 0; k < n; k++) {
			unsigned char t = px[3 * k];
			px[3 * k] = px[3 * k + 2];
			px[3 * k + 2] = t;
		}
		if (channels == 1) {
			/* The weights stb_image uses for its own gray conversion. */
			for (size_t k = 0; k < n; k++)
				px[k] = (unsigned char)((px[3 * k] * 77 + px[3 * k + 1] * 150 +
							 px[3 * k + 2] * 29) >>
							8);
			im->channels = 1;
		}
	}
	ret = 0;
out:
	free(file);
	return ret;
}

/* ---- where the files are ---- */

/* LABEL_DLC_CONFIG: DeepLabCut's project file, config.yaml, for its skeleton. */
enum label_kind { LABEL_NONE, LABEL_SLP, LABEL_DLC, LABEL_JSON, LABEL_DLC_CONFIG };

struct member {
	char *name;
	unsigned char *data;
	size_t len;
};

/* A dataset's files: under a folder on disk (root), or the members of an archive held in
 * memory (m, by name in names). labels: the candidate labels files, relative names. */
struct src {
	const char *path;
	char *root;
	bool archive;
	struct member *m;
	size_t nm, m_alloc;
	struct strmap names;
	struct strmap base; /* basenames of archive members: index, or SIZE_MAX - 1 if several */
	size_t *base_idx;
	size_t base_alloc;
	struct strv labels;
	enum label_kind direct; /* the kind of the one labels file given by its path */
	struct pose_opts o;
};

static void src_release(struct src *s)
{
	for (size_t i = 0; i < s->nm; i++) {
		free(s->m[i].name);
		free(s->m[i].data);
	}
	free(s->m);
	free(s->root);
	free(s->base_idx);
	strmap_release(&s->names);
	strmap_release(&s->base);
	strv_release(&s->labels);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcasecmp(s + n - k, suffix);
}

static enum label_kind label_kind(const char *name)
{
	const char *b = base_name(name);
	if (ends_with(b, ".slp"))
		return LABEL_SLP;
	if (!strncmp(b, "CollectedData_", 14) && ends_with(b, ".csv"))
		return LABEL_DLC;
	if (ends_with(b, ".json"))
		return LABEL_JSON;
	if (!strcmp(b, "config.yaml"))
		return LABEL_DLC_CONFIG;
	return LABEL_NONE;
}

/* dir/name with "./" and empty components dropped, ".." going up one (never above the root:
 * then NULL); backslashes, as DeepLabCut writes paths on Windows, are separators. */
static char *join(const char *dir, const char *name)
{
	struct strv parts;
	struct strbuf sb = STRBUF_INIT;
	char *all, *q;
	bool bad = false;
	strv_init(&parts);
	strbuf_addf(&sb, "%s/%s", dir ? dir : "", name);
	all = strbuf_detach(&sb, NULL);
	for (q = all; *q; q++)
		if (*q == '\\')
			*q = '/';
	strv_split(&parts, all, '/');
	for (size_t i = 0; i < parts.n; i++) {
		const char *c = parts.v[i];
		if (!c[0] || !strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (!sb.len) {
				bad = true;
				break;
			}
			while (sb.len && sb.buf[sb.len - 1] != '/')
				sb.len--;
			if (sb.len)
				sb.len--;
			sb.buf[sb.len] = '\0';
			continue;
		}
		if (sb.len)
			strbuf_addch(&sb, '/');
		strbuf_adds(&sb, c);
	}
	free(all);
	strv_release(&parts);
	if (bad) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static char *dir_of(const char *rel)
{
	const char *s = strrchr(rel, '/');
	return s ? xstrndup(rel, (size_t)(s - rel)) : xstrdup("");
}

/* Member index or disk existence of a relative name. */
static char *src_disk_path(const struct src *s, const char *rel);

/* Member index (archive) or existence on disk of a relative name (normalized by join). */
static bool src_has(const struct src *s, const char *rel, size_t *idx)
{
	struct stat st;
	char *p;
	bool ok;
	if (s->archive) {
		*idx = strmap_get(&s->names, rel, strlen(rel));
		return *idx != (size_t)-1;
	}
	p = src_disk_path(s, rel);
	ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	*idx = (size_t)-1;
	return ok;
}

static char *src_disk_path(const struct src *s, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", s->root, rel);
	return strbuf_detach(&sb, NULL);
}

/* Name of a file of the dataset in messages. */
static char *src_name(const struct src *s, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	if (s->archive)
		strbuf_addf(&sb, "%s:%s", s->path, rel);
	else if (!strcmp(s->root, "."))
		strbuf_adds(&sb, rel);
	else
		strbuf_addf(&sb, "%s/%s", s->root, rel);
	return strbuf_detach(&sb, NULL);
}

/* The bytes of a labels file: borrowed from the archive, or read (owned: *own). */
static int src_read(struct src *s, const char *rel, const unsigned char **buf, size_t *len,
		    unsigned char **own, struct err *e)
{
	size_t idx;
	*own = NULL;
	if (s->archive) {
		if (!src_has(s, rel, &idx))
			return err_set(e, DYN_EDATA, "%s: no member \"%s\"", s->path, rel);
		*buf = s->m[idx].data;
		*len = s->m[idx].len;
		return 0;
	}
	{
		char *p = src_disk_path(s, rel), *n = src_name(s, rel);
		int r = read_file(p, n, s->o.max_labels_bytes, own, len, e);
		free(p);
		free(n);
		if (r < 0)
			return -1;
	}
	*buf = *own;
	return 0;
}

static bool keep_member(const char *name)
{
	return img_name(name) || label_kind(name) != LABEL_NONE;
}

static int src_read_archive(struct src *s, struct stream *st, struct err *e)
{
	const char *name;
	int r;
	s->archive = true;
	stream_set_limits(st, s->o.max_archive_bytes, 0);
	while ((r = stream_next_member(st, &name, e)) == 1) {
		struct strbuf sb = STRBUF_INIT;
		char *clean;
		size_t k;
		if (!keep_member(name))
			continue;
		clean = join(NULL, name);
		if (!clean)
			continue; /* stream_next_member refused ".." already */
		for (;;) {
			ssize_t n;
			strbuf_grow(&sb, 1 << 16);
			n = stream_read(st, sb.buf + sb.len, sb.alloc - sb.len - 1, e);
			if (n < 0) {
				strbuf_release(&sb);
				free(clean);
				return -1;
			}
			if (n == 0)
				break;
			sb.len += (size_t)n;
		}
		sb.buf[sb.len] = '\0';
		k = strmap_intern(&s->names, clean, strlen(clean));
		if (k < s->nm) {
			/* a later copy of a member replaces the earlier, as tar extracts it */
			free(s->m[k].data);
			s->m[k].len = sb.len;
			s->m[k].data = (unsigned char *)strbuf_detach(&sb, NULL);
			free(clean);
			continue;
		}
		ALLOC_GROW(s->m, s->nm + 1, s->m_alloc);
		s->m[s->nm].name = clean;
		s->m[s->nm].len = sb.len;
		s->m[s->nm].data = (unsigned char *)strbuf_detach(&sb, NULL);
		s->nm++;
		if (label_kind(clean) != LABEL_NONE)
			strv_push(&s->labels, clean, strlen(clean));
		else {
			const char *b = base_name(clean);
			size_t before = s->base.n;
			size_t bi = strmap_intern(&s->base, b, strlen(b));
			ALLOC_GROW(s->base_idx, s->base.n, s->base_alloc);
			/* a base name two members share finds neither */
			s->base_idx[bi] = bi == before ? s->nm - 1 : (size_t)-2;
		}
	}
	return r;
}

static int walk(struct src *s, const char *rel, int depth, size_t *seen, struct err *e)
{
	char *dir = rel[0] ? src_disk_path(s, rel) : xstrdup(s->root);
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;
	if (!d) {
		ret = err_sys(e, "\"%s\"", dir);
		free(dir);
		return ret;
	}
	while ((de = readdir(d))) {
		char *sub;
		struct stat st;
		char *full;
		if (de->d_name[0] == '.')
			continue;
		if (++*seen > WALK_ENTRIES) {
			ret = err_set(e, DYN_EDATA,
				      "\"%s\": more than %d files and folders searched for labels",
				      s->root, WALK_ENTRIES);
			break;
		}
		sub = rel[0] ? join(rel, de->d_name) : xstrdup(de->d_name);
		full = src_disk_path(s, sub);
		if (stat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < WALK_DEPTH)
				ret = walk(s, sub, depth + 1, seen, e);
			else if (S_ISREG(st.st_mode) && label_kind(sub) != LABEL_NONE)
				strv_push(&s->labels, sub, strlen(sub));
		}
		free(full);
		free(sub);
		if (ret < 0)
			break;
	}
	closedir(d);
	free(dir);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- finding a frame ---- */

/* Resolves the picture a labels file (at labels_dir) names, trying each candidate folder in
 * turn, then (in an archive) a member of that base name if only one has it. */
static int add_frame_for(struct pose_dataset *ds, struct src *s, const char *labels_dir,
			 const char *const *dirs, size_t ndirs, const char *name, const char *group,
			 const char *where, struct err *e)
{
	struct pose_frame *f;
	size_t idx = (size_t)-1;
	char *found = NULL;
	char *disp;
	for (size_t i = 0; i < ndirs && !found; i++) {
		char *c = join(dirs[i], name);
		if (c && src_has(s, c, &idx))
			found = c;
		else
			free(c);
	}
	if (!found && s->archive) {
		const char *b = base_name(name);
		size_t bi = strmap_get(&s->base, b, strlen(b));
		if (bi != (size_t)-1 && s->base_idx[bi] != (size_t)-2) {
			idx = s->base_idx[bi];
			found = xstrdup(s->m[idx].name);
		}
	}
	if (!found)
		return err_set(e, DYN_EDATA, "%s: frame \"%s\" not found (looked in \"%s\"%s)",
			       where, name, labels_dir[0] ? labels_dir : ".",
			       s->archive ? " of the archive" : "");
	disp = src_name(s, found);
	{
		struct strmap *seen = &build_of(ds)->frames;
		size_t before = seen->n;
		if (strmap_intern(seen, disp, strlen(disp)) != before) {
			err_set(e, DYN_EDATA, "%s: frame \"%s\" labeled twice", where, name);
			free(disp);
			free(found);
			return -1;
		}
	}
	if (s->archive) {
		f = pose_add_frame(ds, disp, group, NULL, s->m[idx].data, s->m[idx].len);
		/* the frame owns the bytes now; a second use was refused above */
		s->m[idx].data = NULL;
	} else {
		f = pose_add_frame(ds, disp, group, src_disk_path(s, found), NULL, 0);
	}
	(void)f;
	free(disp);
	free(found);
	return pose_frame_size(ds, e);
}

/* ---- CSV cells (DeepLabCut's files are plain RFC 4180) ---- */

struct csv_row {
	struct strv cells;
	size_t line;
};

/* Splits buf into rows of cells; quotes as RFC 4180 says; CR LF or LF ends a row. */
static int csv_split(const unsigned char *buf, size_t len, const char *name, struct csv_row **rows,
		     size_t *nrows, struct err *e)
{
	struct csv_row *r = NULL;
	size_t n = 0, alloc = 0, line = 1, i = 0;
	struct strbuf cell = STRBUF_INIT;
	while (i < len) {
		struct strv cells;
		size_t start_line = line;
		strv_init(&cells);
		for (;;) {
			bool quoted = false;
			strbuf_reset(&cell);
			if (i < len && buf[i] == '"') {
				quoted = true;
				i++;
				for (;;) {
					if (i >= len) {
						strv_release(&cells);
						strbuf_release(&cell);
						for (size_t k = 0; k < n; k++)
							strv_release(&r[k].cells);
						free(r);
						return err_set(e, DYN_EDATA,
							       "%s:%zu: a quoted field is not "
							       "closed",
							       name, start_line);
					}
					if (buf[i] == '"') {
						if (i + 1 < len && buf[i + 1] == '"') {
							strbuf_addch(&cell, '"');
							i += 2;
							continue;
						}
						i++;
						break;
					}
					if (buf[i] == '\n')
						line++;
					strbuf_addch(&cell, buf[i++]);
				}
			}
			while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r')
				strbuf_addch(&cell, buf[i++]);
			(void)quoted;
			strv_push(&cells, cell.buf ? cell.buf : "", cell.len);
			if (i < len && buf[i] == ',') {
				i++;
				continue;
			}
			break;
		}
		if (i < len && buf[i] == '\r')
			i++;
		if (i < len && buf[i] == '\n')
			i++;
		line++;
		if (cells.n == 1 && !cells.v[0][0]) {
			strv_release(&cells);
			continue; /* a blank line */
		}
		ALLOC_GROW(r, n + 1, alloc);
		r[n].cells = cells;
		r[n].line = start_line;
		n++;
	}
	strbuf_release(&cell);
	*rows = r;
	*nrows = n;
	return 0;
}

static void csv_free(struct csv_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_release(&rows[i].cells);
	free(rows);
}

/* ---- DeepLabCut ---- */

static bool is_nan_text(const char *s)
{
	return !s[0] || !strcasecmp(s, "nan");
}

/* One labels column: which instance (individual), node and coordinate it holds. */
struct dlc_col {
	long ind, node;
	int coord; /* 0 x, 1 y, -1 ignored (likelihood) */
};

static int read_dlc(struct pose_dataset *ds, struct src *s, const char *rel, struct err *e)
{
	const unsigned char *buf;
	unsigned char *own = NULL;
	size_t len, nrows = 0, nidx = 1, ncols, hdr;
	struct csv_row *rows = NULL;
	char *name = src_name(s, rel), *dir = dir_of(rel), *group = NULL;
	struct strv nodes, inds;
	struct strmap node_map, ind_map;
	struct dlc_col *cols = NULL;
	const struct csv_row *scorer, *individuals = NULL, *bodyparts, *coords;
	int ret = -1;

	strv_init(&nodes);
	strv_init(&inds);
	strmap_init(&node_map);
	strmap_init(&ind_map);
	if (src_read(s, rel, &buf, &len, &own, e) < 0 ||
	    csv_split(buf, len, name, &rows, &nrows, e) < 0)
		goto out;
	{
		static const char *const expect[] = {"scorer", "bodyparts", "coords"};
		size_t want = 0;
		hdr = 0;
		while (want < 3) {
			const char *c0;
			if (hdr >= nrows) {
				err_set(e, DYN_EDATA,
					"%s: ends before DeepLabCut's \"%s\" header row", name,
					expect[want]);
				goto out;
			}
			c0 = rows[hdr].cells.v[0];
			if (want == 1 && !strcmp(c0, "individuals") && !individuals) {
				individuals = &rows[hdr++];
				continue;
			}
			if (strcmp(c0, expect[want])) {
				err_set(e, DYN_EDATA,
					"%s:%zu: expected DeepLabCut's \"%s\" header row, got "
					"\"%.40s\"",
					name, rows[hdr].line, expect[want], c0);
				goto out;
			}
			hdr++;
			want++;
		}
		scorer = &rows[0];
		bodyparts = &rows[hdr - 2];
		coords = &rows[hdr - 1];
	}
	/* DeepLabCut 2.2 writes the image path over three index columns, blank in the header. */
	while (nidx < scorer->cells.n && !scorer->cells.v[nidx][0])
		nidx++;
	ncols = scorer->cells.n;
	if (ncols <= nidx) {
		err_set(e, DYN_EDATA, "%s:%zu: no labels columns after the image column", name,
			scorer->line);
		goto out;
	}
	{
		const struct csv_row *h[] = {individuals, bodyparts, coords};
		for (size_t k = 0; k < ARRAY_SIZE(h); k++)
			if (h[k] && h[k]->cells.n != ncols) {
				err_set(e, DYN_EDATA,
					"%s:%zu: %zu columns, but the \"scorer\" row has %zu", name,
					h[k]->line, h[k]->cells.n, ncols);
				goto out;
			}
	}
	cols = xcalloc(ncols, sizeof(*cols));
	for (size_t j = nidx; j < ncols; j++) {
		const char *bp = bodyparts->cells.v[j], *co = coords->cells.v[j];
		const char *ind = individuals ? individuals->cells.v[j] : "";
		size_t k;
		if (!bp[0]) {
			err_set(e, DYN_EDATA, "%s:%zu: column %zu has no body part name", name,
				bodyparts->line, j + 1);
			goto out;
		}
		cols[j].coord = !strcmp(co, "x") ? 0 : !strcmp(co, "y") ? 1 : -1;
		if (cols[j].coord < 0 && strcmp(co, "likelihood")) {
			err_set(e, DYN_EDATA,
				"%s:%zu: column %zu: coordinate \"%.40s\" (x, y or likelihood)",
				name, coords->line, j + 1, co);
			goto out;
		}
		k = strmap_intern(&node_map, bp, strlen(bp));
		if (k == nodes.n)
			strv_push(&nodes, bp, strlen(bp));
		cols[j].node = (long)k;
		k = strmap_intern(&ind_map, ind, strlen(ind));
		if (k == inds.n)
			strv_push(&inds, ind, strlen(ind));
		cols[j].ind = (long)k;
	}
	/* Each (individual, body part) needs both an x and a y column, once. */
	for (size_t j = nidx; j < ncols; j++) {
		int have = 0;
		for (size_t k = nidx; k < ncols; k++)
			if (cols[k].ind == cols[j].ind && cols[k].node == cols[j].node &&
			    cols[k].coord >= 0) {
				if (have & (1 << cols[k].coord)) {
					err_set(e, DYN_EDATA,
						"%s:%zu: body part \"%s\" has two %s columns", name,
						coords->line, nodes.v[cols[j].node],
						cols[k].coord ? "y" : "x");
					goto out;
				}
				have |= 1 << cols[k].coord;
			}
		if (have != 3) {
			err_set(e, DYN_EDATA, "%s:%zu: body part \"%s\" has no %s column", name,
				coords->line, nodes.v[cols[j].node], have & 1 ? "y" : "x");
			goto out;
		}
	}
	if (pose_set_nodes(ds, nodes.v, nodes.n, name, e) < 0)
		goto out;
	/* The video a frame comes from is the CSV's folder. */
	group = xstrdup(dir[0] ? base_name(dir) : !s->archive ? base_name(s->root) : rel);
	for (size_t r = hdr; r < nrows; r++) {
		const struct csv_row *row = &rows[r];
		struct strbuf img = STRBUF_INIT;
		struct strbuf where = STRBUF_INIT;
		char *proj = dir_of(dir), *proj2 = dir_of(proj);
		const char *dirs[3] = {dir, "", proj2};
		int rr;
		if (row->cells.n != ncols) {
			err_set(e, DYN_EDATA, "%s:%zu: %zu columns, but the header rows have %zu",
				name, row->line, row->cells.n, ncols);
			free(proj);
			free(proj2);
			goto out;
		}
		for (size_t j = 0; j < nidx; j++)
			if (row->cells.v[j][0]) {
				if (img.len)
					strbuf_addch(&img, '/');
				strbuf_adds(&img, row->cells.v[j]);
			}
		/* DeepLabCut on Windows writes backslashes. */
		for (size_t j = 0; j < img.len; j++)
			if (img.buf[j] == '\\')
				img.buf[j] = '/';
		strbuf_addf(&where, "%s:%zu", name, row->line);
		if (!img.len) {
			rr = err_set(e, DYN_EDATA, "%s: no image name", where.buf);
		} else {
			/* The CSV names the frame from the project's root; the picture sits next
			 * to the CSV (base name), or the path is relative to the dataset's root or
			 * to the project (two folders above the CSV). */
			const char *bn = base_name(img.buf);
			char *cand = join(dir, bn);
			rr = 0;
			if (cand && src_has(s, cand, &(size_t){0})) {
				const char *d1[] = {dir};
				rr = add_frame_for(ds, s, dir, d1, 1, bn, group, where.buf, e);
			} else {
				rr = add_frame_for(ds, s, dir, dirs, 3, img.buf, group, where.buf,
						   e);
			}
			free(cand);
		}
		free(proj);
		free(proj2);
		if (rr < 0) {
			strbuf_release(&img);
			strbuf_release(&where);
			goto out;
		}
		for (size_t ind = 0; ind < inds.n; ind++) {
			struct pose_point *pt = NULL;
			for (size_t j = nidx; j < ncols; j++) {
				const char *c = row->cells.v[j];
				double v;
				if (cols[j].ind != (long)ind || cols[j].coord < 0 || is_nan_text(c))
					continue;
				if (parse_double(c, (size_t)-1, &v, false) < 0) {
					err_set(e, DYN_EDATA,
						"%s: column %zu (%s %s): expected a number, got "
						"\"%.40s\"",
						where.buf, j + 1, nodes.v[cols[j].node],
						cols[j].coord ? "y" : "x", c);
					strbuf_release(&img);
					strbuf_release(&where);
					goto out;
				}
				if (!pt)
					pt = pose_add_instance(
					    ds, individuals ? pose_track(ds, inds.v[ind]) : -1);
				if (cols[j].coord)
					pt[cols[j].node].y = (float)v;
				else
					pt[cols[j].node].x = (float)v;
			}
			/* A point is labeled when both its coordinates are. */
			for (size_t k = 0; pt && k < nodes.n; k++) {
				if (isfinite(pt[k].x) && isfinite(pt[k].y)) {
					pt[k].vis = POSE_VISIBLE;
				} else {
					pt[k].x = pt[k].y = NAN;
					pt[k].vis = POSE_MISSING;
				}
			}
		}
		strbuf_release(&img);
		strbuf_release(&where);
	}
	ret = 0;
out:
	csv_free(rows, nrows);
	free(own);
	free(name);
	free(dir);
	free(group);
	free(cols);
	strv_release(&nodes);
	strv_release(&inds);
	strmap_release(&node_map);
	strmap_release(&ind_map);
	return ret;
}

/* ---- COCO ---- */

/* Line of byte offset off in buf, for JSON errors. */
static size_t line_at(const unsigned char *buf, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

static int json_parse(const unsigned char *buf, size_t len, const char *name, cJSON **out,
		      struct err *e)
{
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts((const char *)buf, len, &end, 0);
	if (!*out) {
		size_t off =
		    end && end >= (const char *)buf ? (size_t)(end - (const char *)buf) : 0;
		if (off > len)
			off = len;
		return err_set(e, DYN_EDATA, "%s:%zu: invalid JSON", name, line_at(buf, off));
	}
	return 0;
}

static bool is_coco(const cJSON *doc)
{
	return cJSON_IsObject(doc) && cJSON_IsArray(cJSON_GetObjectItem(doc, "images")) &&
	       cJSON_IsArray(cJSON_GetObjectItem(doc, "annotations")) &&
	       cJSON_IsArray(cJSON_GetObjectItem(doc, "categories"));
}

/* A JSON number as a key text (ids may be numbers or strings). */
static void id_key(const cJSON *v, struct strbuf *sb)
{
	strbuf_reset(sb);
	if (cJSON_IsNumber(v))
		strbuf_add_double(sb, v->valuedouble);
	else if (cJSON_IsString(v))
		strbuf_addf(sb, "s:%s", v->valuestring);
}

static int coco_skeleton(struct pose_dataset *ds, const cJSON *doc, const char *name,
			 const cJSON **cat, struct err *e)
{
	const cJSON *c, *kp, *sk, *v;
	struct strv names;
	int ret = -1;
	strv_init(&names);
	*cat = NULL;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "categories"))
	{
		kp = cJSON_GetObjectItem(c, "keypoints");
		if (!cJSON_IsArray(kp) || !cJSON_GetArraySize(kp))
			continue;
		if (*cat)
			return err_set(e, DYN_EDATA,
				       "%s: several categories with keypoints (dyn reads one "
				       "skeleton)",
				       name);
		*cat = c;
	}
	if (!*cat)
		return err_set(e, DYN_EDATA,
			       "%s: a skeleton without nodes (no category has \"keypoints\")",
			       name);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(*cat, "keypoints"))
	{
		if (!cJSON_IsString(v)) {
			err_set(e, DYN_EDATA, "%s: a keypoint name that is not a string", name);
			goto out;
		}
		strv_push(&names, v->valuestring, strlen(v->valuestring));
	}
	if (pose_set_nodes(ds, names.v, names.n, name, e) < 0)
		goto out;
	sk = cJSON_GetObjectItem(*cat, "skeleton");
	if (!ds->skel.nedges && cJSON_IsArray(sk)) {
		size_t n = (size_t)cJSON_GetArraySize(sk), k = 0;
		ds->skel.edges = xmallocarray(n ? n : 1, 2 * sizeof(size_t));
		cJSON_ArrayForEach(v, sk)
		{
			const cJSON *a = cJSON_GetArrayItem(v, 0), *b = cJSON_GetArrayItem(v, 1);
			/* COCO numbers keypoints from 1 in its skeleton. */
			if (cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(a) ||
			    !cJSON_IsNumber(b) || a->valuedouble < 1 || b->valuedouble < 1 ||
			    a->valuedouble > (double)names.n || b->valuedouble > (double)names.n ||
			    a->valuedouble != floor(a->valuedouble) ||
			    b->valuedouble != floor(b->valuedouble)) {
				err_set(e, DYN_EDATA,
					"%s: skeleton edge %zu is not a pair of keypoint numbers "
					"1..%zu",
					name, k + 1, names.n);
				goto out;
			}
			ds->skel.edges[2 * k] = (size_t)a->valuedouble - 1;
			ds->skel.edges[2 * k + 1] = (size_t)b->valuedouble - 1;
			k++;
		}
		ds->skel.nedges = k;
	}
	ret = 0;
out:
	strv_release(&names);
	return ret;
}

static int read_coco(struct pose_dataset *ds, struct src *s, const char *rel, cJSON *doc,
		     struct err *e)
{
	char *name = src_name(s, rel), *dir = dir_of(rel), *up = dir_of(dir);
	char *dir_img = join(dir, "images"), *up_img = join(up, "images");
	const char *dirs[] = {dir, "", up, dir_img, up_img};
	const cJSON *cat, *im, *an, *images = cJSON_GetObjectItem(doc, "images");
	struct strmap ids;
	struct strbuf key = STRBUF_INIT, where = STRBUF_INIT;
	size_t nimg = (size_t)cJSON_GetArraySize(images), nn, k;
	const cJSON **img = NULL;
	size_t *count = NULL, *start = NULL, *fill = NULL;
	const cJSON **anns = NULL;
	double cat_id = NAN;
	int ret = -1;

	strmap_init(&ids);
	if (coco_skeleton(ds, doc, name, &cat, e) < 0)
		goto out;
	nn = ds->skel.nnodes;
	if (cJSON_IsNumber(cJSON_GetObjectItem(cat, "id")))
		cat_id = cJSON_GetObjectItem(cat, "id")->valuedouble;
	img = xcalloc(nimg ? nimg : 1, sizeof(*img));
	count = xcalloc(nimg + 1, sizeof(*count));
	k = 0;
	cJSON_ArrayForEach(im, images)
	{
		const cJSON *fn = cJSON_GetObjectItem(im, "file_name");
		id_key(cJSON_GetObjectItem(im, "id"), &key);
		if (!key.len || !cJSON_IsString(fn) || !fn->valuestring[0]) {
			err_set(e, DYN_EDATA, "%s: image %zu lacks an \"id\" or a \"file_name\"",
				name, k + 1);
			goto out;
		}
		if (strmap_intern(&ids, key.buf, key.len) != k) {
			err_set(e, DYN_EDATA, "%s: image id %s listed twice", name, key.buf);
			goto out;
		}
		img[k++] = im;
	}
	/* Annotations grouped by image: a frame's instances are stored together. */
	cJSON_ArrayForEach(an, cJSON_GetObjectItem(doc, "annotations"))
	{
		const cJSON *ci = cJSON_GetObjectItem(an, "category_id");
		size_t i;
		if (cJSON_IsNumber(ci) && isfinite(cat_id) && ci->valuedouble != cat_id)
			continue;
		id_key(cJSON_GetObjectItem(an, "image_id"), &key);
		i = key.len ? strmap_get(&ids, key.buf, key.len) : (size_t)-1;
		if (i == (size_t)-1) {
			err_set(e, DYN_EDATA, "%s: an annotation names image id %s, not listed",
				name, key.len ? key.buf : "(none)");
			goto out;
		}
		count[i]++;
	}
	start = xcalloc(nimg + 1, sizeof(*start));
	for (size_t i = 0; i < nimg; i++)
		start[i + 1] = start[i] + count[i];
	anns = xcalloc(start[nimg] ? start[nimg] : 1, sizeof(*anns));
	fill = xcalloc(nimg ? nimg : 1, sizeof(*fill));
	cJSON_ArrayForEach(an, cJSON_GetObjectItem(doc, "annotations"))
	{
		const cJSON *ci = cJSON_GetObjectItem(an, "category_id");
		size_t i;
		if (cJSON_IsNumber(ci) && isfinite(cat_id) && ci->valuedouble != cat_id)
			continue;
		id_key(cJSON_GetObjectItem(an, "image_id"), &key);
		i = strmap_get(&ids, key.buf, key.len);
		anns[start[i] + fill[i]++] = an;
	}
	for (size_t i = 0; i < nimg; i++) {
		const cJSON *fn = cJSON_GetObjectItem(img[i], "file_name");
		const cJSON *jw = cJSON_GetObjectItem(img[i], "width");
		const cJSON *jh = cJSON_GetObjectItem(img[i], "height");
		struct pose_frame *f;
		strbuf_reset(&where);
		strbuf_addf(&where, "%s: image \"%s\"", name, fn->valuestring);
		if (add_frame_for(ds, s, dir, dirs, ARRAY_SIZE(dirs), fn->valuestring, NULL,
				  where.buf, e) < 0)
			goto out;
		f = &ds->frames[ds->nframes - 1];
		if (cJSON_IsNumber(jw) && cJSON_IsNumber(jh) &&
		    (jw->valuedouble != (double)f->w || jh->valuedouble != (double)f->h)) {
			err_set(e, DYN_EDATA, "%s: a %zux%zu picture, but the JSON says %gx%g",
				f->name, f->w, f->h, jw->valuedouble, jh->valuedouble);
			goto out;
		}
		for (size_t a = start[i]; a < start[i + 1]; a++) {
			const cJSON *kp = cJSON_GetObjectItem(anns[a], "keypoints");
			struct pose_point *pt;
			if (!cJSON_IsArray(kp) || (size_t)cJSON_GetArraySize(kp) != 3 * nn) {
				err_set(e, DYN_EDATA,
					"%s: annotation %zu of image \"%s\": \"keypoints\" should "
					"hold %zu numbers (x, y, v for %zu nodes)",
					name, a - start[i] + 1, fn->valuestring, 3 * nn, nn);
				goto out;
			}
			pt = pose_add_instance(ds, -1);
			for (size_t j = 0; j < nn; j++) {
				const cJSON *x = cJSON_GetArrayItem(kp, (int)(3 * j));
				const cJSON *y = cJSON_GetArrayItem(kp, (int)(3 * j + 1));
				const cJSON *v = cJSON_GetArrayItem(kp, (int)(3 * j + 2));
				if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) ||
				    !cJSON_IsNumber(v) ||
				    (v->valuedouble != 0 && v->valuedouble != 1 &&
				     v->valuedouble != 2)) {
					err_set(
					    e, DYN_EDATA,
					    "%s: annotation %zu of image \"%s\": keypoint \"%s\" "
					    "is not x, y, v with v 0, 1 or 2",
					    name, a - start[i] + 1, fn->valuestring,
					    ds->skel.nodes[j]);
					goto out;
				}
				if (v->valuedouble == 0)
					continue;
				pt[j].x = (float)x->valuedouble;
				pt[j].y = (float)y->valuedouble;
				pt[j].vis = (unsigned char)v->valuedouble;
			}
		}
	}
	ret = 0;
out:
	strmap_release(&ids);
	strbuf_release(&key);
	strbuf_release(&where);
	free(img);
	free(count);
	free(start);
	free(fill);
	free(anns);
	free(name);
	free(dir);
	free(up);
	free(dir_img);
	free(up_img);
	return ret;
}

/* ---- loading ---- */

static enum label_kind kind_of(const struct src *s, const char *l)
{
	return s->direct ? s->direct : label_kind(l);
}

/* The skeleton of DeepLabCut's project file, config.yaml, when the dataset holds one: the one
 * nearest the root (the project's, beside labeled-data/). */
static int read_dlc_config(struct pose_dataset *ds, struct src *s, struct err *e)
{
	const char *best = NULL;
	size_t best_depth = SIZE_MAX;
	const unsigned char *buf;
	unsigned char *own = NULL;
	size_t len;
	char *name;
	int r;
	for (size_t i = 0; i < s->labels.n; i++) {
		const char *l = s->labels.v[i];
		size_t depth = 0;
		if (label_kind(l) != LABEL_DLC_CONFIG)
			continue;
		for (const char *c = l; *c; c++)
			depth += *c == '/';
		if (depth < best_depth)
			best = l, best_depth = depth;
	}
	if (!best)
		return 0;
	if (src_read(s, best, &buf, &len, &own, e) < 0)
		return -1;
	name = src_name(s, best);
	r = pose_dlc_config(ds, buf, len, name, e);
	free(name);
	free(own);
	return r;
}

/* Labels files in a folder's own order would differ between file systems. */
static int read_labels(struct pose_dataset *ds, struct src *s, struct err *e)
{
	size_t nslp = 0, ndlc = 0, njson = 0, under_ld = 0;
	const char *slp = NULL;
	int ret = -1;
	if (s->labels.n)
		qsort(s->labels.v, s->labels.n, sizeof(*s->labels.v), cmp_str);
	for (size_t i = 0; i < s->labels.n; i++) {
		const char *l = s->labels.v[i];
		switch (kind_of(s, l)) {
		case LABEL_SLP:
			nslp++;
			slp = l;
			break;
		case LABEL_DLC:
			ndlc++;
			under_ld += !strncmp(l, "labeled-data/", 13) || strstr(l, "/labeled-data/");
			break;
		case LABEL_JSON:
			njson++;
			break;
		default:
			break;
		}
	}
	if (nslp > 1)
		return err_set(e, DYN_EDATA, "%s: %zu SLEAP files (one is read at a time)", s->path,
			       nslp);
	if (nslp) {
		char *name = src_name(s, slp);
		size_t idx;
		ds->format = POSE_SLEAP;
		if (s->archive) {
			src_has(s, slp, &idx);
			ret = pose_read_slp(ds, NULL, s->m[idx].data, s->m[idx].len, name,
					    s->o.max_archive_bytes, e);
		} else {
			char *p = src_disk_path(s, slp);
			ret = pose_read_slp(ds, p, NULL, 0, name, s->o.max_archive_bytes, e);
			free(p);
		}
		free(name);
		return ret;
	}
	if (ndlc) {
		ds->format = POSE_DLC;
		for (size_t i = 0; i < s->labels.n; i++) {
			const char *l = s->labels.v[i];
			/* DeepLabCut's training-datasets/ hold copies of the labels: only those
			 * under labeled-data/ count when there are some. */
			if (kind_of(s, l) != LABEL_DLC ||
			    (under_ld && strncmp(l, "labeled-data/", 13) &&
			     !strstr(l, "/labeled-data/")))
				continue;
			if (read_dlc(ds, s, l, e) < 0)
				return -1;
		}
		return read_dlc_config(ds, s, e);
	}
	for (size_t i = 0; i < s->labels.n && njson; i++) {
		const char *l = s->labels.v[i];
		const unsigned char *buf;
		unsigned char *own = NULL;
		size_t len;
		cJSON *doc = NULL;
		char *name;
		int r;
		if (kind_of(s, l) != LABEL_JSON)
			continue;
		if (src_read(s, l, &buf, &len, &own, e) < 0)
			return -1;
		name = src_name(s, l);
		r = json_parse(buf, len, name, &doc, e);
		free(own);
		if (r == 0 && is_coco(doc)) {
			ds->format = POSE_COCO;
			r = read_coco(ds, s, l, doc, e);
		} else if (r == 0 && s->labels.n == 1 && !s->archive) {
			r = err_set(e, DYN_EDATA,
				    "%s: not COCO keypoints (an object with \"images\", "
				    "\"annotations\" and \"categories\")",
				    name);
		} else if (r < 0 && s->labels.n > 1) {
			err_clear(e);
			r = 0; /* some other JSON file of the folder */
		}
		cJSON_Delete(doc);
		free(name);
		if (r < 0)
			return -1;
	}
	if (!ds->format)
		return err_set(e, DYN_EDATA,
			       "%s: no pose labels found (DeepLabCut's CollectedData_*.csv, "
			       "COCO keypoints JSON or a SLEAP .slp file)",
			       s->path);
	return 0;
}

int pose_load(struct pose_dataset **out, const char *path, const struct pose_opts *o, struct err *e)
{
	static const struct pose_opts defaults = {0, 0};
	struct pose_alloc *pa = xcalloc(1, sizeof(*pa));
	struct pose_dataset *ds = &pa->ds;
	struct src s;
	struct stream *st = NULL;
	struct stat sb;
	int ret = -1;

	strmap_init(&pa->b.tracks);
	strmap_init(&pa->b.frames);
	memset(&s, 0, sizeof(s));
	strmap_init(&s.names);
	strmap_init(&s.base);
	strv_init(&s.labels);
	s.path = path;
	s.o = o ? *o : defaults;
	if (!s.o.max_archive_bytes)
		s.o.max_archive_bytes = DEFAULT_MAX_ARCHIVE;
	if (!s.o.max_labels_bytes)
		s.o.max_labels_bytes = DEFAULT_MAX_LABELS;
	ds->source = xstrdup(path);
	pose_skeleton_init(&ds->skel);

	if (stat(path, &sb) < 0) {
		err_sys(e, "\"%s\"", path);
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		size_t seen = 0;
		s.root = xstrdup(path);
		if (walk(&s, "", 0, &seen, e) < 0)
			goto out;
	} else if (ends_with(path, ".slp")) {
		s.root = dir_of(path);
		if (!s.root[0]) {
			free(s.root);
			s.root = xstrdup(".");
		}
		strv_push(&s.labels, base_name(path), strlen(base_name(path)));
	} else {
		if (stream_open(&st, path, e) < 0)
			goto out;
		if (stream_is_archive(st)) {
			if (src_read_archive(&s, st, e) < 0)
				goto out;
		} else {
			char *rel = xstrdup(base_name(path));
			s.root = dir_of(path);
			if (!s.root[0]) {
				free(s.root);
				s.root = xstrdup(".");
			}
			/* A compressed labels file keeps its kind: data.json.gz is JSON. */
			if (stream_compressed(st) && strrchr(rel, '.'))
				rel[strrchr(rel, '.') - rel] = '\0';
			s.direct = ends_with(rel, ".csv")    ? LABEL_DLC
				   : ends_with(rel, ".json") ? LABEL_JSON
							     : LABEL_NONE;
			if (!s.direct) {
				err_set(e, DYN_EDATA,
					"\"%s\": not a pose dataset (a folder, an archive, "
					"CollectedData_*.csv, a COCO .json or a SLEAP .slp)",
					path);
				free(rel);
				goto out;
			}
			free(rel);
			rel = xstrdup(base_name(path));
			strv_push(&s.labels, rel, strlen(rel));
			free(rel);
		}
		stream_free(&st);
	}
	if (read_labels(ds, &s, e) < 0)
		goto out;
	if (!ds->nframes) {
		err_set(e, DYN_EDATA, "%s: no labeled frames", path);
		goto out;
	}
	if (!ds->ninst) {
		err_set(e, DYN_EDATA, "%s: %zu frames, none with a labeled point", path,
			ds->nframes);
		goto out;
	}
	ret = 0;
out:
	stream_free(&st);
	src_release(&s);
	strmap_release(&pa->b.tracks);
	strmap_release(&pa->b.frames);
	if (ret < 0)
		pose_free(&ds);
	*out = ds;
	return ret;
}

/* ---- split and scores ---- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

int pose_split(size_t nframes, double test_fraction, uint64_t seed, size_t **train, size_t *ntrain,
	       size_t **val, size_t *nval, struct err *e)
{
	struct rng r;
	size_t *idx, nv;
	if (!(test_fraction >= 0 && test_fraction < 1))
		return err_set(e, DYN_EUSAGE, "test fraction %g: expected a number in [0, 1)",
			       test_fraction);
	if (test_fraction > 0 && nframes < 2)
		return err_set(e, DYN_EUSAGE,
			       "%zu labeled frame%s: too few to hold some out (test fraction %g)",
			       nframes, nframes == 1 ? "" : "s", test_fraction);
	nv = (size_t)floor(test_fraction * (double)nframes + 0.5);
	if (test_fraction > 0 && nv == 0)
		nv = 1;
	if (nv >= nframes && nframes)
		nv = nframes - 1;
	idx = xmallocarray(nframes ? nframes : 1, sizeof(*idx));
	for (size_t i = 0; i < nframes; i++)
		idx[i] = i;
	rng_init(&r, seed);
	rng_shuffle(&r, idx, nframes);
	*val = xmallocarray(nv ? nv : 1, sizeof(**val));
	*train = xmallocarray(nframes - nv ? nframes - nv : 1, sizeof(**train));
	memcpy(*val, idx, nv * sizeof(*idx));
	memcpy(*train, idx + nv, (nframes - nv) * sizeof(*idx));
	qsort(*val, nv, sizeof(**val), cmp_size);
	qsort(*train, nframes - nv, sizeof(**train), cmp_size);
	*nval = nv;
	*ntrain = nframes - nv;
	free(idx);
	return 0;
}

double pose_point_error(float px, float py, const struct pose_point *label)
{
	if (!pose_point_usable(label) || !isfinite(px) || !isfinite(py))
		return NAN;
	return hypot((double)px - label->x, (double)py - label->y);
}
