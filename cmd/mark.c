/* dyn mark: the dynamogram labelling workflow. Its first verb, generate, writes synthetic cards
 * of the default markers as a points file and/or pictures, for training and tests. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/par.h"
#include "cards/gen.h"
#include "cards/markers.h"
#include "cards/render.h"
#include "cmd.h"

#define PER_MARKER_MAX 1000000
#define CHUNK	       512 /* cards generated between two appends to the points file */

struct gen_run {
	size_t markers[CARD_MARKERS_N], nmark, per;
	uint64_t seed;
	bool pump;
	const char *imgdir; /* the temporary picture directory, or NULL */
	bool points;
	struct card_render_opts ro;
	/* the chunk being generated */
	size_t base;
	struct strbuf *text; /* points lines of each card of the chunk */
	struct err *errs;    /* each card's error (code 0: none) */
};

/* A card's generator state depends on the seed, its marker and its number within the marker
 * only: the same card whatever --markers lists or how many threads run. */
static uint64_t card_seed(uint64_t seed, size_t marker, size_t k, uint64_t stream)
{
	uint64_t h = seed ^ 0x9E3779B97F4A7C15ULL * ((uint64_t)marker + 1);
	h ^= 0xBF58476D1CE4E5B9ULL * ((uint64_t)k + 1);
	return h ^ 0x94D049BB133111EBULL * stream;
}

static int write_file(const char *path, const unsigned char *buf, size_t len, struct err *e)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return err_sys(e, "\"%s\": cannot create", path);
	int bad = fwrite(buf, 1, len, fp) != len;
	if (fclose(fp) != 0 || bad)
		return err_sys(e, "\"%s\": cannot write", path);
	return 0;
}

static void gen_one(void *arg, size_t i, int t)
{
	struct gen_run *g = arg;
	size_t idx = g->base + i, m = g->markers[idx / g->per], k = idx % g->per;
	struct err *e = &g->errs[i];
	struct card_gen_opts o;
	struct card c;
	struct rng r;
	char id[32];

	card_gen_opts_init(&o);
	o.pump = g->pump;
	memset(&c, 0, sizeof(c));
	rng_init(&r, card_seed(g->seed, m, k, 1));
	snprintf(id, sizeof(id), "g%05zu", idx);
	if (card_generate(&c, m, &r, &o, NULL, e) < 0)
		return;
	if (g->points)
		for (size_t p = 0; p < c.n; p++)
			strbuf_addf(&g->text[i], "%s,%s,%.6g,%.6g\n", id, c.label, c.x[p], c.y[p]);
	if (g->imgdir) {
		unsigned char *buf = NULL;
		size_t len = 0;
		enum card_image_format f;
		rng_init(&r, card_seed(g->seed, m, k, 2));
		if (card_render_encoded(&c, &r, &g->ro, &buf, &len, &f, e) == 0) {
			struct strbuf path = STRBUF_INIT;
			strbuf_addf(&path, "%s/%s/%s.%s", g->imgdir, c.label, id,
				    f == CARD_IMAGE_PNG ? "png" : "jpg");
			write_file(path.buf, buf, len, e);
			strbuf_release(&path);
			free(buf);
		}
	}
	free(c.x);
	free(c.y);
	free(c.label);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* "WxH" or "N" (square), each 16 to 4096. */
static int parse_wxh(const char *s, size_t *w, size_t *h)
{
	char *end;
	errno = 0;
	long a = strtol(s, &end, 10), b = a;
	if (end == s || errno)
		return -1;
	if (*end == 'x') {
		const char *p = end + 1;
		b = strtol(p, &end, 10);
		if (end == p || errno)
			return -1;
	}
	if (*end || a < 16 || a > 4096 || b < 16 || b > 4096)
		return -1;
	*w = (size_t)a;
	*h = (size_t)b;
	return 0;
}

static int parse_markers(const char *list, struct gen_run *g)
{
	char *copy = xstrdup(list), *p = copy;
	int rc = 0;
	g->nmark = 0;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		int m = card_marker_find(p);
		if (m < 0) {
			rc = usage_error(
			    "option --markers: unknown marker \"%s\" (see dyn-mark(1))", p);
			break;
		}
		for (size_t j = 0; j < g->nmark; j++)
			if (g->markers[j] == (size_t)m) {
				rc = usage_error("option --markers: \"%s\" given twice", p);
				goto out;
			}
		g->markers[g->nmark++] = (size_t)m;
		if (!comma)
			break;
		p = comma + 1;
	}
out:
	free(copy);
	return rc;
}

static int mark_generate(int argc, char **argv)
{
	long per = 50;
	const char *markers = NULL, *points = NULL, *images = NULL, *size = "256x256",
		   *format = "any";
	int pump = 0, force = 0, rc = 0, n;
	const struct opt opts[] = {
	    OPT_LONG_(0, "per-marker", &per, "N", "cards of each marker (default 50)", 1,
		      PER_MARKER_MAX),
	    OPT_STRING_(0, "markers", &markers, "LIST", "comma-separated markers (default all 20)"),
	    OPT_STRING_(0, "points", &points, "FILE",
			"write the cards as CSV: card,marker,position,load"),
	    OPT_STRING_(0, "images", &images, "DIR", "write pictures as DIR/MARKER/ID.png or .jpg"),
	    OPT_BOOL_(0, "pump", &pump, "pump (downhole) cards instead of surface cards"),
	    OPT_STRING_(0, "size", &size, "WxH", "picture size in pixels (default 256x256)"),
	    OPT_STRING_(0, "image-format", &format, "FMT", "png, jpeg or any (default any)"),
	    OPT_BOOL_('f', "force", &force, "replace existing outputs"),
	    OPT_END_(),
	};
	struct gen_run g;
	struct strbuf tmp_points = STRBUF_INIT, tmp_images = STRBUF_INIT, old_images = STRBUF_INIT;
	struct strbuf images_dir = STRBUF_INIT;
	struct progress *prog = NULL;
	struct err e = ERR_INIT;
	struct stat st;
	FILE *out = NULL;
	bool images_made = false;

	n = parse_cmd_options(argc, argv, opts,
			      "dyn mark generate [--per-marker N] [--markers LIST] "
			      "[--points FILE] [--images DIR] [--pump] [-f]",
			      &rc);
	if (n < 0)
		return rc;
	if (n > 0)
		return usage_error("mark generate: unexpected argument \"%s\"", argv[0]);
	memset(&g, 0, sizeof(g));
	if (markers) {
		if ((rc = parse_markers(markers, &g)))
			return rc;
	} else {
		for (size_t m = 0; m < CARD_MARKERS_N; m++)
			g.markers[g.nmark++] = m;
	}
	card_render_opts_init(&g.ro);
	if (parse_wxh(size, &g.ro.width, &g.ro.height) < 0)
		return usage_error(
		    "option --size: expected WxH or N, 16 to 4096 pixels, got \"%s\"", size);
	if (!strcmp(format, "png"))
		g.ro.format = CARD_IMAGE_PNG;
	else if (!strcmp(format, "jpeg") || !strcmp(format, "jpg"))
		g.ro.format = CARD_IMAGE_JPEG;
	else if (strcmp(format, "any") != 0)
		return usage_error("option --image-format: expected png, jpeg or any, got \"%s\"",
				   format);
	if (!points && !images)
		return usage_error("mark generate: nothing to write (give --points FILE and/or "
				   "--images DIR)");
	if (points && images && !strcmp(points, images))
		return usage_error("mark generate: --points and --images name the same path");
	if (images) {
		/* "pics/" names the directory pics: its sibling .tmp-PID is built, not a child */
		strbuf_adds(&images_dir, images);
		while (images_dir.len > 1 && images_dir.buf[images_dir.len - 1] == '/')
			images_dir.buf[--images_dir.len] = '\0';
		images = images_dir.buf;
	}
	if (!force && points && lstat(points, &st) == 0) {
		err_set(&e, DYN_EDATA, "\"%s\" exists (--force replaces it)", points);
		rc = report_err(&e);
		goto out;
	}
	if (images && lstat(images, &st) == 0 && (!force || !S_ISDIR(st.st_mode))) {
		err_set(&e, DYN_EDATA,
			force ? "\"%s\" exists and is not a directory"
			      : "\"%s\" exists (--force replaces it)",
			images);
		rc = report_err(&e);
		goto out;
	}
	g.per = (size_t)per;
	g.seed = (uint64_t)global.seed;
	g.pump = pump;
	g.points = points != NULL;

	/* Outputs are built beside their final names and renamed when complete. */
	if (points) {
		strbuf_addf(&tmp_points, "%s.tmp-%ld", points, (long)getpid());
		out = fopen(tmp_points.buf, "wx");
		if (!out) {
			err_sys(&e, "\"%s\": cannot create", tmp_points.buf);
			rc = report_err(&e);
			goto out;
		}
		fputs("card,marker,position,load\n", out);
	}
	if (images) {
		strbuf_addf(&tmp_images, "%s.tmp-%ld", images, (long)getpid());
		if (mkdir(tmp_images.buf, 0777) < 0) {
			err_sys(&e, "\"%s\": cannot create directory", tmp_images.buf);
			rc = report_err(&e);
			goto out;
		}
		images_made = true;
		for (size_t j = 0; j < g.nmark; j++) {
			struct strbuf d = STRBUF_INIT;
			strbuf_addf(&d, "%s/%s", tmp_images.buf, card_markers[g.markers[j]].name);
			int bad = mkdir(d.buf, 0777) < 0;
			if (bad)
				err_sys(&e, "\"%s\": cannot create directory", d.buf);
			strbuf_release(&d);
			if (bad) {
				rc = report_err(&e);
				goto out;
			}
		}
		g.imgdir = tmp_images.buf;
	}

	size_t total = g.nmark * g.per;
	g.text = xcalloc(CHUNK, sizeof(*g.text));
	g.errs = xcalloc(CHUNK, sizeof(*g.errs));
	prog = cmd_progress("generating cards");
	for (g.base = 0; g.base < total; g.base += CHUNK) {
		size_t count = total - g.base < CHUNK ? total - g.base : CHUNK;
		par_for(count, par_threads(count, (int)global.threads), gen_one, &g);
		for (size_t i = 0; i < count; i++) {
			if (g.errs[i].code) {
				rc = report_err(&g.errs[i]);
				goto out;
			}
			if (out && g.text[i].len)
				fwrite(g.text[i].buf, 1, g.text[i].len, out);
			strbuf_reset(&g.text[i]);
		}
		progress_update(prog, (double)(g.base + count), (double)total);
	}
	if (out) {
		int bad = fflush(out) != 0 || ferror(out) || fsync(fileno(out)) < 0;
		bad = (fclose(out) != 0) || bad;
		out = NULL;
		if (bad || rename(tmp_points.buf, points) < 0) {
			err_sys(&e, "\"%s\": cannot write", points);
			rc = report_err(&e);
			goto out;
		}
		strbuf_reset(&tmp_points);
	}
	if (images) {
		/* an old directory (with --force) is moved aside first, removed once replaced */
		if (lstat(images, &st) == 0) {
			strbuf_addf(&old_images, "%s.old-%ld", images, (long)getpid());
			if (rename(images, old_images.buf) < 0) {
				err_sys(&e, "\"%s\": cannot replace", images);
				rc = report_err(&e);
				goto out;
			}
		}
		if (rename(tmp_images.buf, images) < 0) {
			err_sys(&e, "\"%s\": cannot create", images);
			rc = report_err(&e);
			if (old_images.len)
				rename(old_images.buf, images);
			goto out;
		}
		images_made = false;
		if (old_images.len)
			rm_tree(old_images.buf);
	}
	summary("generated %zu card%s of %zu marker%s", total, total == 1 ? "" : "s", g.nmark,
		g.nmark == 1 ? "" : "s");
	rc = finish_stdout(0);
out:
	progress_free(&prog);
	if (out)
		fclose(out);
	if (tmp_points.len)
		unlink(tmp_points.buf);
	if (images_made)
		rm_tree(tmp_images.buf);
	if (g.text)
		for (size_t i = 0; i < CHUNK; i++)
			strbuf_release(&g.text[i]);
	free(g.text);
	free(g.errs);
	strbuf_release(&tmp_points);
	strbuf_release(&images_dir);
	strbuf_release(&tmp_images);
	strbuf_release(&old_images);
	return rc;
}

static const struct cmd mark_commands[] = {
    {"markers", mark_markers, "list, add, remove or rename markers", 0},
    {"import", mark_import, "add cards (points files, pictures, archives)", 0},
    {"next", mark_next, "hand a user a random unmarked card", 0},
    {"skip", mark_skip, "pass on a card", 0},
    {"ls", mark_ls, "list cards", 0},
    {"show", mark_show, "show a card, its marks and who holds it", 0},
    {"stats", mark_stats, "cards per marker and per user, agreement", 0},
    {"export", mark_export, "write the marked cards as fit reads them", 0},
    {"generate", mark_generate, "write synthetic cards of the default markers", 0},
    {NULL, NULL, NULL, 0},
};

int cmd_mark(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	const struct cmd *c;

	/* dyn mark CARD MARKER...: a card id where a verb would be */
	if (argc >= 2 && argv[1][0] >= '0' && argv[1][0] <= '9')
		return mark_card(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0 &&
	    strcmp(argv[1], "--list-options") != 0)
		return run_subcommand(mark_commands, "mark", argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "--list-options")) {
		for (c = mark_commands; c->name; c++)
			printf("%s\n", c->name);
		return finish_stdout(0);
	}
	strbuf_adds(&sb, "usage: dyn mark VERB [OPTIONS]\n       dyn mark CARD MARKER[,MARKER...] "
			 "[--user NAME]\n\nVerbs:\n");
	for (c = mark_commands; c->name; c++)
		strbuf_addf(&sb, "    %-12s%s\n", c->name, c->summary);
	strbuf_adds(&sb, "\nMarkers:\n");
	for (size_t m = 0; m < CARD_MARKERS_N; m++)
		strbuf_addf(&sb, "    %-24s%s\n", card_markers[m].name,
			    card_markers[m].description);
	if (argc < 2) {
		fputs(sb.buf, stderr);
		strbuf_release(&sb);
		return DYN_EUSAGE;
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	return finish_stdout(0);
}
