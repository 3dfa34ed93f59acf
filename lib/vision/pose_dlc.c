/* DeepLabCut's project file, config.yaml: the skeleton its labels were drawn with (pairs of body
 * part names), read through Debian's libyaml, loaded on first use like libarchive. */
#include <string.h>
#include <yaml.h>

#include "base/base.h"
#include "base/lazylib.h"
#include "vision/pose_internal.h"

#define YAML_FUNCS(X)                                                                              \
	X(yaml_parser_initialize)                                                                  \
	X(yaml_parser_set_input_string)                                                            \
	X(yaml_parser_parse)                                                                       \
	X(yaml_event_delete)                                                                       \
	X(yaml_parser_delete)

static struct {
	YAML_FUNCS(LAZYLIB_MEMBER)
} yl;

static int yaml_load(struct err *e)
{
	static int loaded;
	return LAZYLIB_LOAD(YAML_FUNCS, yl, "libyaml-0.so.2", &loaded, "DeepLabCut's config.yaml",
			    e);
}

/* More would be no skeleton anyone drew. */
#define MAX_EDGES 100000

struct yreader {
	yaml_parser_t p;
	yaml_event_t ev;
	bool have; /* ev holds an event to delete */
	const char *name;
};

/* The next event into r->ev; -1 (e set) on a YAML error. */
static int next(struct yreader *r, struct err *e)
{
	if (r->have)
		yl.yaml_event_delete(&r->ev);
	r->have = false;
	if (!yl.yaml_parser_parse(&r->p, &r->ev))
		return err_set(e, DYN_EDATA, "%s:%zu: not YAML (%s)", r->name,
			       (size_t)r->p.problem_mark.line + 1,
			       r->p.problem ? r->p.problem : "a syntax error");
	r->have = true;
	return 0;
}

/* Skips the value that r->ev starts (a scalar, an alias, or a whole collection). */
static int skip_value(struct yreader *r, struct err *e)
{
	int depth = 0;
	do {
		switch (r->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			return err_set(e, DYN_EDATA, "%s: ends inside a value", r->name);
		default:
			break;
		}
		if (depth > 0 && next(r, e) < 0)
			return -1;
	} while (depth > 0);
	return 0;
}

/* The skeleton's value, r->ev its first event: a sequence of pairs of names (or null, an empty
 * scalar or []: no edges), each name a body part of ds. */
static int read_edges(struct pose_dataset *ds, struct yreader *r, struct err *e)
{
	size_t n = 0, alloc = 0, *edges = NULL;
	int ret = -1;
	if (r->ev.type == YAML_SCALAR_EVENT &&
	    (r->ev.data.scalar.length == 0 || !strcmp((char *)r->ev.data.scalar.value, "null") ||
	     !strcmp((char *)r->ev.data.scalar.value, "~")))
		return 0;
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return err_set(e, DYN_EDATA,
			       "%s:%zu: skeleton: expected a list of pairs of body parts", r->name,
			       (size_t)r->ev.start_mark.line + 1);
	for (;;) {
		long ends[2];
		size_t line;
		if (next(r, e) < 0)
			goto out;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		line = (size_t)r->ev.start_mark.line + 1;
		if (r->ev.type != YAML_SEQUENCE_START_EVENT) {
			err_set(e, DYN_EDATA,
				"%s:%zu: skeleton edge %zu: expected a pair of body parts", r->name,
				line, n + 1);
			goto out;
		}
		for (int k = 0; k < 3; k++) {
			if (next(r, e) < 0)
				goto out;
			if (k == 2 && r->ev.type == YAML_SEQUENCE_END_EVENT)
				break;
			if (k == 2 || r->ev.type != YAML_SCALAR_EVENT) {
				err_set(e, DYN_EDATA,
					"%s:%zu: skeleton edge %zu: expected a pair of body parts",
					r->name, line, n + 1);
				goto out;
			}
			ends[k] = pose_skeleton_node(&ds->skel, (char *)r->ev.data.scalar.value);
			if (ends[k] < 0) {
				err_set(
				    e, DYN_EDATA,
				    "%s:%zu: skeleton edge %zu: \"%s\" is not a body part of the "
				    "labels",
				    r->name, (size_t)r->ev.start_mark.line + 1, n + 1,
				    (char *)r->ev.data.scalar.value);
				goto out;
			}
		}
		if (n == MAX_EDGES) {
			err_set(e, DYN_EDATA, "%s: more than %d skeleton edges", r->name,
				MAX_EDGES);
			goto out;
		}
		ALLOC_GROW(edges, 2 * (n + 1), alloc);
		edges[2 * n] = (size_t)ends[0];
		edges[2 * n + 1] = (size_t)ends[1];
		n++;
	}
	free(ds->skel.edges);
	ds->skel.edges = edges;
	ds->skel.nedges = n;
	edges = NULL;
	ret = 0;
out:
	free(edges);
	return ret;
}

int pose_dlc_config(struct pose_dataset *ds, const void *buf, size_t len, const char *name,
		    struct err *e)
{
	struct yreader r = {.name = name};
	int ret = -1, depth = 0;
	bool is_key = true, want = false;
	if (yaml_load(e) < 0)
		return -1;
	if (!yl.yaml_parser_initialize(&r.p))
		return err_set(e, DYN_EDATA, "%s: libyaml does not start", name);
	yl.yaml_parser_set_input_string(&r.p, buf, len);
	for (;;) {
		if (next(&r, e) < 0)
			goto out;
		if (r.ev.type == YAML_STREAM_END_EVENT || r.ev.type == YAML_DOCUMENT_END_EVENT)
			break;
		if (depth == 0) {
			if (r.ev.type == YAML_MAPPING_START_EVENT)
				depth = 1;
			else if (r.ev.type == YAML_SEQUENCE_START_EVENT ||
				 r.ev.type == YAML_SCALAR_EVENT) {
				err_set(e, DYN_EDATA,
					"%s: not a DeepLabCut project (a mapping of settings)",
					name);
				goto out;
			}
			continue;
		}
		if (r.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (is_key) {
			want = r.ev.type == YAML_SCALAR_EVENT &&
			       !strcmp((char *)r.ev.data.scalar.value, "skeleton");
			if (skip_value(&r, e) < 0)
				goto out;
			is_key = false;
			continue;
		}
		if (want) {
			ret = read_edges(ds, &r, e);
			goto out;
		}
		if (skip_value(&r, e) < 0)
			goto out;
		is_key = true;
	}
	ret = 0; /* no skeleton: none drawn */
out:
	if (r.have)
		yl.yaml_event_delete(&r.ev);
	yl.yaml_parser_delete(&r.p);
	return ret;
}
