/* Unit tests of the card generator: determinism, valid cards for every marker, pump-card shapes
 * against the prototypes of a diagnosis plate (testdata/plate_reference_cards.json), and each
 * marker's telltale property on the surface card. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stb_image.h>

#include "base/base.h"
#include "cards/gen.h"
#include "cards/markers.h"
#include "cards/render.h"
#include "check.h"

#define K 64 /* resampled points per curve */

static void free_card(struct card *c)
{
	free(c->x);
	free(c->y);
	free(c->label);
	free(c->id);
	memset(c, 0, sizeof(*c));
}

static int gen(struct card *c, size_t m, struct rng *r, bool pump, bool clean)
{
	struct card_gen_opts o;
	struct err e = ERR_INIT;
	card_gen_opts_init(&o);
	o.pump = pump;
	o.clean = clean;
	memset(c, 0, sizeof(*c));
	int rc = card_generate(c, m, r, &o, NULL, &e);
	if (rc)
		printf("# %s\n", e.msg);
	return rc;
}

static double range_ratio(const struct card *c)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < c->n; i++) {
		lo = fmin(lo, c->y[i]);
		hi = fmax(hi, c->y[i]);
	}
	return (hi - lo) / hi;
}

/* Normalizes a closed curve to the unit square and resamples it at K points evenly spaced
 * along its length (closing segment included). */
static void resample(const double *x, const double *y, size_t n, double *out)
{
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		x0 = fmin(x0, x[i]);
		x1 = fmax(x1, x[i]);
		y0 = fmin(y0, y[i]);
		y1 = fmax(y1, y[i]);
	}
	double *cum = xmallocarray(n + 1, sizeof(*cum)), *px = xmallocarray(n + 1, sizeof(*px)),
	       *py = xmallocarray(n + 1, sizeof(*py));
	for (size_t i = 0; i <= n; i++) {
		px[i] = (x[i % n] - x0) / (x1 - x0);
		py[i] = (y[i % n] - y0) / (y1 - y0);
		cum[i] = i ? cum[i - 1] + hypot(px[i] - px[i - 1], py[i] - py[i - 1]) : 0;
	}
	size_t j = 0;
	for (size_t k = 0; k < K; k++) {
		double s = cum[n] * (double)k / K;
		while (j + 1 < n && cum[j + 1] < s)
			j++;
		double seg = cum[j + 1] - cum[j], f = seg > 0 ? (s - cum[j]) / seg : 0;
		out[2 * k] = px[j] + f * (px[j + 1] - px[j]);
		out[2 * k + 1] = py[j] + f * (py[j + 1] - py[j]);
	}
	free(cum);
	free(px);
	free(py);
}

/* Mean squared distance between two resampled curves, minimized over the starting point. */
static double curve_dist(const double *a, const double *b)
{
	double best = INFINITY;
	for (size_t s = 0; s < K; s++) {
		double d = 0;
		for (size_t k = 0; k < K; k++) {
			size_t l = (k + s) % K;
			d += pow(a[2 * k] - b[2 * l], 2) + pow(a[2 * k + 1] - b[2 * l + 1], 2);
		}
		best = fmin(best, d / K);
	}
	return best;
}

/* Area of the card in its unit square (shoelace): the fill of a pump card. */
static double unit_area(const struct card *c)
{
	double pts[2 * K], a = 0;
	resample(c->x, c->y, c->n, pts);
	for (size_t k = 0; k < K; k++) {
		size_t l = (k + 1) % K;
		a += pts[2 * k] * pts[2 * l + 1] - pts[2 * l] * pts[2 * k + 1];
	}
	return fabs(a) / 2;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, got);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

/* Plate prototype name -> default marker. */
static const struct {
	const char *plate, *marker;
} protos[] = {
    {"normal", "normal"},
    {"insufficient_supply_fluid_pound", "fluid-pound"},
    {"gas_interference", "gas-interference"},
    {"rod_part", "parted-rods"},
    {"tagging_up", "pump-hitting-up"},
    {"tagging_down", "pump-hitting-down"},
    {"travelling_valve_leak", "traveling-valve-leak"},
    {"standing_valve_leak", "standing-valve-leak"},
    {"plunger_out_of_barrel", "plunger-out-of-barrel"},
    {"sand", "sand"},
};
#define NPROTO (sizeof(protos) / sizeof(protos[0]))

static void test_prototypes(void)
{
	char *text = slurp("../testdata/plate_reference_cards.json");
	check(text != NULL, "read testdata/plate_reference_cards.json");
	if (!text)
		return;
	cJSON *root = cJSON_Parse(text), *cards = cJSON_GetObjectItemCaseSensitive(root, "cards");
	double ref[NPROTO][2 * K];
	bool ok = cards != NULL;
	for (size_t p = 0; ok && p < NPROTO; p++) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(cards, protos[p].plate);
		cJSON *xs = cJSON_GetObjectItemCaseSensitive(c, "position");
		cJSON *ys = cJSON_GetObjectItemCaseSensitive(c, "load");
		int n = cJSON_GetArraySize(xs);
		if (!c || n < 8 || n != cJSON_GetArraySize(ys)) {
			ok = false;
			break;
		}
		double *x = xmallocarray((size_t)n, sizeof(*x)),
		       *y = xmallocarray((size_t)n, sizeof(*y));
		for (int i = 0; i < n; i++) {
			x[i] = cJSON_GetArrayItem(xs, i)->valuedouble;
			y[i] = cJSON_GetArrayItem(ys, i)->valuedouble;
		}
		resample(x, y, (size_t)n, ref[p]);
		free(x);
		free(y);
	}
	check(ok, "plate prototypes parsed");
	if (ok) {
		/* Mean distance of 12 clean pump cards of each marker to every prototype. */
		struct rng r;
		rng_init(&r, 7);
		int nearest_own = 0;
		for (size_t p = 0; p < NPROTO; p++) {
			size_t m = (size_t)card_marker_find(protos[p].marker);
			double d[NPROTO] = {0};
			for (int k = 0; k < 12; k++) {
				struct card c;
				double pts[2 * K];
				if (gen(&c, m, &r, true, true))
					break;
				resample(c.x, c.y, c.n, pts);
				for (size_t q = 0; q < NPROTO; q++)
					d[q] += curve_dist(pts, ref[q]) / 12;
				free_card(&c);
			}
			size_t best = 0;
			for (size_t q = 1; q < NPROTO; q++)
				if (d[q] < d[best])
					best = q;
			printf("# %s: nearest %s (%.4f, own %.4f)\n", protos[p].marker,
			       protos[best].plate, d[best], d[p]);
			nearest_own += best == p;
			/* The clear shapes. Rod parting is a flat line (in the unit square only
			 * its friction is left); the plate's sand card is a noisy ellipse; its
			 * fluid pound and gas interference cards differ from each other less
			 * than from the textbook shapes. */
			if (strcmp(protos[p].marker, "parted-rods") != 0 &&
			    strcmp(protos[p].marker, "sand") != 0 &&
			    strcmp(protos[p].marker, "fluid-pound") != 0 &&
			    strcmp(protos[p].marker, "gas-interference") != 0)
				check(best == p, "%s pump cards nearest their prototype %s",
				      protos[p].marker, protos[p].plate);
		}
		check(nearest_own >= 6, "%d of %zu markers nearest their own prototype",
		      nearest_own, NPROTO);
	}
	cJSON_Delete(root);
	free(text);
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define PER 40

/* Median load-range ratio of surface cards, or of clean pump cards' unit area. */
static double marker_median(const char *name, bool pump_area, uint64_t seed)
{
	struct rng r;
	double v[PER];
	rng_init(&r, seed);
	size_t m = (size_t)card_marker_find(name);
	for (size_t k = 0; k < PER; k++) {
		struct card c;
		if (gen(&c, m, &r, pump_area, pump_area))
			return NAN;
		v[k] = pump_area ? unit_area(&c) : range_ratio(&c);
		free_card(&c);
	}
	return median(v, PER);
}

static void test_shapes(void)
{
	double normal = marker_median("normal", false, 11);
	double parted = marker_median("parted-rods", false, 12);
	double flowing = marker_median("pumping-while-flowing", false, 13);
	double viscous = marker_median("high-viscosity", false, 14);
	printf("# median range ratio: normal %.3f, parted-rods %.3f, flowing %.3f, viscous %.3f\n",
	       normal, parted, flowing, viscous);
	check(parted < 0.8 * normal, "parted rods: a thinner band than normal (%.3f vs %.3f)",
	      parted, normal);
	check(flowing < 0.8 * normal, "pumping while flowing: thinner than normal (%.3f vs %.3f)",
	      flowing, normal);
	check(viscous > 1.1 * normal, "high viscosity: fatter than normal (%.3f vs %.3f)", viscous,
	      normal);

	double a_normal = marker_median("normal", true, 21);
	double a_pound = marker_median("fluid-pound", true, 22);
	double a_off = marker_median("pump-off", true, 23);
	double a_lock = marker_median("gas-lock", true, 24);
	double a_worn = marker_median("worn-pump", true, 25);
	double a_tv = marker_median("traveling-valve-leak", true, 26);
	printf(
	    "# pump card fill: normal %.3f, fluid-pound %.3f, pump-off %.3f, gas-lock %.3f, worn "
	    "%.3f, tv-leak %.3f\n",
	    a_normal, a_pound, a_off, a_lock, a_worn, a_tv);
	check(a_normal > 0.8, "normal pump card fills its box (%.3f)", a_normal);
	check(a_off < a_pound && a_pound < a_normal, "fillage: pump-off < fluid-pound < normal");
	check(a_off < 0.4, "pump-off leaves a narrow strip (%.3f)", a_off);
	check(a_lock < 0.5, "gas lock is a thin lens (%.3f)", a_lock);
	check(a_tv < a_worn && a_worn < a_normal, "leak: traveling-valve < worn pump < normal");

	/* A stuck plunger draws a line: little area for its box. */
	struct rng r;
	rng_init(&r, 31);
	struct card c;
	if (gen(&c, CARD_STUCK_PLUNGER, &r, false, true) == 0) {
		double a = unit_area(&c);
		check(a < 0.25, "stuck plunger: a thin inclined line (area %.3f)", a);
		check(c.y[c.n / 2] > c.y[0], "stuck plunger: load rises with position");
		free_card(&c);
	}
}

/* The well's design: a full pump's fluid load is a share of the rods' weight (0.4 to 0.75, a
 * stretch-limited deep well lower), so a tubing leak's and a flowing well's smaller loads
 * stand apart from every sound well's; on the surface card the load range follows. */
static void test_design(void)
{
	static const char *const names[] = {"normal", "tubing-leak", "pumping-while-flowing"};
	double lo[3], hi[3], rr[3];
	for (int k = 0; k < 3; k++) {
		struct rng r;
		double v[PER];
		size_t m = (size_t)card_marker_find(names[k]);
		lo[k] = INFINITY;
		hi[k] = -INFINITY;
		rng_init(&r, 41 + (uint64_t)k);
		for (size_t i = 0; i < PER; i++) {
			struct card c;
			struct card_gen_opts o;
			struct card_gen_info info;
			struct err e = ERR_INIT;
			card_gen_opts_init(&o);
			memset(&c, 0, sizeof(c));
			if (card_generate(&c, m, &r, &o, &info, &e) < 0) {
				check(0, "%s: %s", names[k], e.msg);
				return;
			}
			double q = info.fluid_load / info.rod_weight;
			lo[k] = fmin(lo[k], q);
			hi[k] = fmax(hi[k], q);
			v[i] = range_ratio(&c);
			free_card(&c);
		}
		rr[k] = median(v, PER);
	}
	printf("# fluid load / rod weight: normal %.2f-%.2f, tubing leak %.2f-%.2f, flowing "
	       "%.2f-%.2f; median range ratio %.3f %.3f %.3f\n",
	       lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], rr[0], rr[1], rr[2]);
	check(lo[0] >= 0.3 && hi[0] <= 0.75, "normal: fluid load 0.3-0.75 of the rods' weight");
	check(hi[1] < lo[0] && lo[1] > hi[2],
	      "tubing leak's fluid load between a flowing well's and a sound well's");
	check(rr[2] < rr[1] && rr[1] < rr[0], "range ratio: flowing < tubing leak < normal");
}

/* Paraffin friction opposes both strokes at the same places: the upper branch of a pump card
 * rises where the lower one sinks (loads binned by plunger position, the middle of the
 * stroke). */
static void test_paraffin(void)
{
	struct rng r;
	int mirrored = 0;
	rng_init(&r, 51);
	for (int k = 0; k < 10; k++) {
		struct card c;
		enum { B = 16 };
		double up[B], dn[B], x0 = INFINITY, x1 = -INFINITY, su = 0, sd = 0, cov = 0;
		double vu = 0, vd = 0;
		if (gen(&c, CARD_PARAFFIN_FRICTION, &r, true, true))
			return;
		for (size_t i = 0; i < c.n; i++) {
			x0 = fmin(x0, c.x[i]);
			x1 = fmax(x1, c.x[i]);
		}
		for (int b = 0; b < B; b++) {
			up[b] = -INFINITY;
			dn[b] = INFINITY;
		}
		for (size_t i = 0; i < c.n; i++) {
			int b = (int)((c.x[i] - x0) / (x1 - x0) * B);
			b = b >= B ? B - 1 : b;
			up[b] = fmax(up[b], c.y[i]);
			dn[b] = fmin(dn[b], c.y[i]);
		}
		for (int b = 3; b < B - 3; b++) {
			su += up[b];
			sd += dn[b];
		}
		su /= B - 6;
		sd /= B - 6;
		for (int b = 3; b < B - 3; b++) {
			cov += (up[b] - su) * (dn[b] - sd);
			vu += (up[b] - su) * (up[b] - su);
			vd += (dn[b] - sd) * (dn[b] - sd);
		}
		mirrored += cov < -0.5 * sqrt(vu * vd);
		free_card(&c);
	}
	check(mirrored >= 8, "paraffin: the branches mirror each other on %d of 10 cards",
	      mirrored);
}

/* Decodes an encoded picture; NULL when it does not decode as w x h RGB. */
static unsigned char *decode(const unsigned char *buf, size_t len, int w, int h)
{
	int dw = 0, dh = 0, comp = 0;
	unsigned char *px = stbi_load_from_memory(buf, (int)len, &dw, &dh, &comp, 3);
	if (px && (dw != w || dh != h)) {
		stbi_image_free(px);
		px = NULL;
	}
	return px;
}

static int dark(const unsigned char *px, int w, int i, int j)
{
	const unsigned char *p = px + 3 * ((size_t)j * (size_t)w + (size_t)i);
	return p[0] + p[1] + p[2] < 3 * 110;
}

/* Rows spanned by dark pixels right of the load axis (the plain layout's plot area). */
static int dark_rows(const unsigned char *px, int w, int h)
{
	int top = h, bottom = -1;
	for (int j = 0; j < h * 88 / 100; j++) /* above the position axis */
		for (int i = w * 12 / 100; i < w; i++)
			if (dark(px, w, i, j)) {
				top = j < top ? j : top;
				bottom = j > bottom ? j : bottom;
			}
	return bottom - top;
}

static void test_render(void)
{
	struct rng r;
	struct card c;
	struct card_render_opts ro;
	struct err e = ERR_INIT;
	unsigned char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	enum card_image_format f;
	card_render_opts_init(&ro);
	ro.plain = true;
	ro.format = CARD_IMAGE_PNG;
	ro.width = 200;
	ro.height = 160;

	/* Plain picture of a clean normal card: the curve is dark where the card is. */
	rng_init(&r, 3);
	if (gen(&c, CARD_NORMAL, &r, false, true))
		return;
	check(card_render_encoded(&c, &r, &ro, &buf, &len, &f, &e) == 0 && f == CARD_IMAGE_PNG,
	      "render a plain png %s", e.msg);
	unsigned char *px = buf ? decode(buf, len, 200, 160) : NULL;
	check(px != NULL, "png decodes to 200x160");
	if (px) {
		/* the plain layout: plot area 10%..95% across, 5%..90% down; x padded by 2% of its
		 * span, load from zero to 5% over the top */
		double x0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
		for (size_t i = 0; i < c.n; i++) {
			x0 = fmin(x0, c.x[i]);
			x1 = fmax(x1, c.x[i]);
			y1 = fmax(y1, c.y[i]);
		}
		double sp = x1 - x0, lo = x0 - 0.02 * sp, hi = x1 + 0.02 * sp, top = 1.05 * y1;
		size_t hits = 0, tried = 0;
		for (size_t i = 0; i < c.n; i += 7, tried++) {
			int pi = (int)(20 + (c.x[i] - lo) / (hi - lo) * 170);
			int pj = (int)(144 - c.y[i] / top * 136);
			bool found = false;
			for (int dj = -2; dj <= 2 && !found; dj++)
				for (int di = -2; di <= 2 && !found; di++)
					if (pi + di >= 0 && pi + di < 200 && pj + dj >= 0 &&
					    pj + dj < 160)
						found = dark(px, 200, pi + di, pj + dj);
			hits += found;
		}
		check(hits == tried, "dark pixels at %zu of %zu card points", hits, tried);
		/* the middle of the loop is background */
		double my = 0.5 * (c.y[0] + c.y[c.n / 2]);
		check(!dark(px, 200, 105, (int)(144 - my / top * 136)),
		      "inside of the loop is light");
		stbi_image_free(px);
	}
	free(buf);
	buf = NULL;

	/* With axes from zero load, a parted-rods band is thinner on the picture than a
	 * high-viscosity card. */
	{
		struct card thin, fat;
		rng_init(&r, 8);
		if (gen(&thin, CARD_PARTED_RODS, &r, false, true) == 0 &&
		    gen(&fat, CARD_HIGH_VISCOSITY, &r, false, true) == 0 &&
		    card_render_encoded(&thin, &r, &ro, &buf, &len, &f, &e) == 0 &&
		    card_render_encoded(&fat, &r, &ro, &buf2, &len2, &f, &e) == 0) {
			unsigned char *a = decode(buf, len, 200, 160),
				      *b = decode(buf2, len2, 200, 160);
			if (a && b) {
				int ra = dark_rows(a, 200, 160), rb = dark_rows(b, 200, 160);
				check(ra < rb,
				      "thin band %d rows < fat card %d rows (rr %.2f vs %.2f)", ra,
				      rb, range_ratio(&thin), range_ratio(&fat));
			} else {
				check(0, "decode the two pictures");
			}
			stbi_image_free(a);
			stbi_image_free(b);
			free_card(&thin);
			free_card(&fat);
		}
		free(buf);
		free(buf2);
		buf = buf2 = NULL;
	}

	/* Random styling: deterministic for a seed, JPEG decodes to the asked size. */
	ro.plain = false;
	ro.format = CARD_IMAGE_ANY;
	bool same = true, jpeg_ok = true, png_seen = false, jpeg_seen = false;
	for (int k = 0; k < 8; k++) {
		struct rng r1, r2;
		enum card_image_format f2;
		rng_init(&r1, 100 + (uint64_t)k);
		rng_init(&r2, 100 + (uint64_t)k);
		if (card_render_encoded(&c, &r1, &ro, &buf, &len, &f, &e) ||
		    card_render_encoded(&c, &r2, &ro, &buf2, &len2, &f2, &e)) {
			same = false;
			break;
		}
		same = same && f == f2 && len == len2 && memcmp(buf, buf2, len) == 0;
		png_seen = png_seen || (f == CARD_IMAGE_PNG && len > 8 && buf[1] == 'P');
		if (f == CARD_IMAGE_JPEG) {
			jpeg_seen = buf[0] == 0xff && buf[1] == 0xd8;
			unsigned char *d = decode(buf, len, 200, 160);
			jpeg_ok = jpeg_ok && d;
			stbi_image_free(d);
		}
		free(buf);
		free(buf2);
		buf = buf2 = NULL;
	}
	check(same, "styled pictures: same seed, same bytes");
	check(png_seen && jpeg_seen && jpeg_ok, "both formats drawn; jpeg decodes to 200x160");

	struct card_raster img;
	ro.width = 8;
	check(card_render(&img, &c, &r, &ro, &e) == -1 && e.code == DYN_EUSAGE,
	      "a picture too small refused: %s", e.msg);
	free_card(&c);
}

int main(void)
{
	/* Same seed, same cards; another seed, other cards. */
	for (int pump = 0; pump < 2; pump++) {
		struct rng r1, r2, r3;
		rng_init(&r1, 5);
		rng_init(&r2, 5);
		rng_init(&r3, 6);
		bool same = true, differ = false;
		for (size_t m = 0; m < CARD_MARKERS_N; m++) {
			struct card a, b, c;
			if (gen(&a, m, &r1, pump, false) || gen(&b, m, &r2, pump, false) ||
			    gen(&c, m, &r3, pump, false)) {
				same = false;
				break;
			}
			same = same && a.n == b.n && strcmp(a.label, b.label) == 0 &&
			       memcmp(a.x, b.x, a.n * sizeof(double)) == 0 &&
			       memcmp(a.y, b.y, a.n * sizeof(double)) == 0;
			differ =
			    differ || a.n != c.n || memcmp(a.y, c.y, a.n * sizeof(double)) != 0;
			free_card(&a);
			free_card(&b);
			free_card(&c);
		}
		check(same, "%s cards: same seed, identical cards", pump ? "pump" : "surface");
		check(differ, "%s cards: another seed, other cards", pump ? "pump" : "surface");
	}

	/* Every marker: labelled, 100-400 finite points, position and load varying, closed. */
	{
		struct rng r;
		rng_init(&r, 1);
		for (size_t m = 0; m < CARD_MARKERS_N; m++) {
			bool ok = true;
			char why[160] = "";
			for (int k = 0; k < 30 && ok; k++) {
				struct card c;
				bool pump = k % 3 == 2;
				if (gen(&c, m, &r, pump, false)) {
					ok = false;
					break;
				}
				double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
				for (size_t i = 0; i < c.n; i++) {
					if (!isfinite(c.x[i]) || !isfinite(c.y[i]))
						ok = false;
					x0 = fmin(x0, c.x[i]);
					x1 = fmax(x1, c.x[i]);
					y0 = fmin(y0, c.y[i]);
					y1 = fmax(y1, c.y[i]);
				}
				/* closed: the ends no farther apart than a few of the card's
				 * own steps (a step can cross a vertical side) */
				double gap = hypot((c.x[c.n - 1] - c.x[0]) / (x1 - x0),
						   (c.y[c.n - 1] - c.y[0]) / (y1 - y0)),
				       step = 0;
				for (size_t i = 1; i < c.n; i++)
					step = fmax(step, hypot((c.x[i] - c.x[i - 1]) / (x1 - x0),
								(c.y[i] - c.y[i - 1]) / (y1 - y0)));
				if (!ok || c.n < 100 || c.n > 400 || !(x1 > x0) || !(y1 > y0) ||
				    gap > fmax(0.1, 2 * step) ||
				    strcmp(c.label, card_markers[m].name) != 0) {
					snprintf(why, sizeof(why),
						 "n %zu, x %g-%g, y %g-%g, gap %.3f", c.n, x0, x1,
						 y0, y1, gap);
					ok = false;
				}
				free_card(&c);
			}
			check(ok, "%s: 30 valid cards %s", card_markers[m].name, why);
		}
	}
	{
		struct rng r;
		struct card c;
		struct card_gen_opts o;
		struct err e = ERR_INIT;
		rng_init(&r, 1);
		card_gen_opts_init(&o);
		memset(&c, 0, sizeof(c));
		check(card_generate(&c, CARD_MARKERS_N, &r, &o, NULL, &e) == -1 &&
			  e.code == DYN_EUSAGE,
		      "marker out of range refused: %s", e.msg);
		o.min_points = 500;
		err_clear(&e);
		check(card_generate(&c, 0, &r, &o, NULL, &e) == -1 && e.code == DYN_EUSAGE,
		      "points range refused: %s", e.msg);
		check(card_marker_find("pump-off") == CARD_PUMP_OFF &&
			  card_marker_find("nope") == -1,
		      "marker lookup by name");
	}
	test_prototypes();
	test_shapes();
	test_design();
	test_paraffin();
	test_render();
	return check_done();
}
