/* Unit tests of lib/cards/norm: the canonical curve is the same whatever the direction and
 * starting point of the recording, the range channel and scalars tell a thin band from a fat
 * card, and the raster shows the loop. */
#include <math.h>

#include "cards/norm.h"
#include "cards/read.h"
#include "base/base.h"
#include "check.h"

#define NP 64

/* A card-like loop: parallelogram with rounded corners, base to base + amp, n points at uneven
 * spacing (the phase is warped), starting at phase start (0..1) and running clockwise or not. */
static void make_card(struct card *c, size_t n, double base, double amp, double start, bool reverse)
{
	size_t alloc = 0;
	card_release(c);
	card_set_id(c, "test", NULL);
	for (size_t i = 0; i < n; i++) {
		double s = fmod(start + (double)i / (double)n, 1.0), t;
		if (reverse)
			s = fmod(start + 1.0 - (double)i / (double)n, 1.0);
		/* Uneven sampling: the phase runs faster in places. */
		t = 2 * M_PI * (s + 0.05 * sin(2 * M_PI * s));
		card_push(c, &alloc, 2 * (1 - cos(t)),
			  base + amp * (0.5 + 0.5 * tanh(3 * sin(t)) / tanh(3)));
	}
}

static double max_diff(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs((double)a[i] - (double)b[i]));
	return m;
}

static void test_invariance(void)
{
	struct card c;
	struct err e = ERR_INIT;
	float ref[CARD_CURVE_CHANNELS * NP], got[CARD_CURVE_CHANNELS * NP];
	card_init(&c);
	make_card(&c, 240, 10, 20, 0.0, false);
	check(card_curve(&c, NP, ref, &e) == 0, "curve: computed: %s", e.msg);
	/* The start: minimum position (this card's left side is round: it is reached half-way
	 * up); then the upstroke, carrying the higher loads. */
	check(ref[0] < 0.02, "curve: starts at the minimum position (%g)", (double)ref[0]);
	{
		double up = 0, down = 0;
		for (size_t i = 0; i < NP / 2; i++) {
			up += ref[NP + i];
			down += ref[NP + NP / 2 + i];
		}
		check(ref[NP + 3] > ref[NP] && up > 2 * down,
		      "curve: the upstroke comes first (load %g then %g; sums %g, %g)",
		      (double)ref[NP], (double)ref[NP + 3], up, down);
	}

	/* The same points from another start. */
	make_card(&c, 240, 10, 20, 0.37, false);
	check(card_curve(&c, NP, got, &e) == 0, "curve: rotated start computed");
	check(max_diff(ref, got, 3 * NP) < 0.02, "curve: rotated start gives the same curve (%g)",
	      max_diff(ref, got, 3 * NP));
	/* Run the other way, from yet another start. */
	make_card(&c, 240, 10, 20, 0.81, true);
	check(card_curve(&c, NP, got, &e) == 0, "curve: reversed computed");
	check(max_diff(ref, got, 3 * NP) < 0.02, "curve: reversed gives the same curve (%g)",
	      max_diff(ref, got, 3 * NP));
	check(max_diff(ref + 3 * NP, got + 3 * NP, 2 * NP) < 0.2,
	      "curve: reversed gives the same tangents (%g)",
	      max_diff(ref + 3 * NP, got + 3 * NP, 2 * NP));
	/* Sampled differently (fewer points): arc length makes it the same curve. */
	make_card(&c, 97, 10, 20, 0.5, false);
	check(card_curve(&c, NP, got, &e) == 0, "curve: resampled computed");
	check(max_diff(ref, got, 3 * NP) < 0.05, "curve: 97 points give the same curve (%g)",
	      max_diff(ref, got, 3 * NP));
	card_release(&c);
}

static void test_range(void)
{
	struct card fat, thin;
	struct err e = ERR_INIT;
	float f[CARD_CURVE_CHANNELS * NP], t[CARD_CURVE_CHANNELS * NP];
	float sf[CARD_SCALARS], st[CARD_SCALARS];
	double fmin_ = 1, fmax_ = 0, tmin = 1, tmax = 0;
	card_init(&fat);
	card_init(&thin);
	make_card(&fat, 200, 25, 20, 0, false);	 /* 25..45: range ratio 0.44 */
	make_card(&thin, 200, 35, 10, 0, false); /* 35..45: range ratio 0.22 */
	check(card_curve(&fat, NP, f, &e) == 0 && card_curve(&thin, NP, t, &e) == 0,
	      "range: curves computed");
	/* The min-max channels are alike, the range channel is not. */
	check(max_diff(f, t, 2 * NP) < 1e-5, "range: min-max channels equal (%g)",
	      max_diff(f, t, 2 * NP));
	for (size_t i = 0; i < NP; i++) {
		fmin_ = fmin(fmin_, f[2 * NP + i]);
		fmax_ = fmax(fmax_, f[2 * NP + i]);
		tmin = fmin(tmin, t[2 * NP + i]);
		tmax = fmax(tmax, t[2 * NP + i]);
	}
	check(fabs(fmax_ - fmin_ - 20.0 / 45) < 0.03 && fabs(tmax - tmin - 10.0 / 45) < 0.03,
	      "range: channel 2 spans 0.44 for the fat card (%g), 0.22 for the band (%g)",
	      fmax_ - fmin_, tmax - tmin);
	check(card_scalars(&fat, sf, &e) == 0 && card_scalars(&thin, st, &e) == 0,
	      "range: scalars computed");
	check_close(sf[0], 20.0 / 45, 1e-3, "scalars: range ratio of the fat card %g",
		    (double)sf[0]);
	check_close(st[0], 10.0 / 45, 1e-3, "scalars: range ratio of the band %g", (double)st[0]);
	check(fabs((double)sf[1] - (double)st[1]) < 1e-4 && sf[1] > 0.5 && sf[1] < 1,
	      "scalars: the same fill in the unit square (%g, %g)", (double)sf[1], (double)st[1]);
	check(sf[2] > 1.8 * st[2], "scalars: stroke-normalized area %g against %g", (double)sf[2],
	      (double)st[2]);
	/* A picture without axes: the range channel falls back to the min-max one. */
	thin.load_unanchored = true;
	check(card_curve(&thin, NP, t, &e) == 0 && max_diff(t + 2 * NP, t + NP, NP) == 0,
	      "range: unanchored picture, channel 2 is channel 1");
	card_release(&fat);
	card_release(&thin);
}

static void test_raster(void)
{
	struct card c;
	struct err e = ERR_INIT;
	const size_t S = 64;
	float *a = xmallocarray(S * S, sizeof(float)), *b = xmallocarray(S * S, sizeof(float));
	double sum = 0, dot = 0, na = 0, nb = 0;
	card_init(&c);
	make_card(&c, 300, 10, 20, 0, false);
	check(card_raster(&c, S, a, &e) == 0, "raster: computed: %s", e.msg);
	for (size_t i = 0; i < S * S; i++)
		sum += a[i];
	/* The corners of the image and the middle of the loop are empty; the top row of the
	 * loop (row 4, the margin) is drawn. */
	check(a[0] == 0 && a[S * S - 1] == 0 && a[(S / 2) * S + S / 2] == 0,
	      "raster: background and the loop's inside are empty");
	check(a[4 * S + S / 2] > 0.5 && a[(S - 5) * S + S / 2] > 0.5,
	      "raster: top and bottom of the loop drawn (%g, %g)", (double)a[4 * S + S / 2],
	      (double)a[(S - 5) * S + S / 2]);
	check(sum > 3 * S && sum < 12 * S, "raster: a line, not a fill (ink %g)", sum);
	/* The same card sampled otherwise draws the same picture. */
	make_card(&c, 77, 100, 300, 0.6, true);
	check(card_raster(&c, S, b, &e) == 0, "raster: second computed");
	for (size_t i = 0; i < S * S; i++) {
		dot += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	check(dot / sqrt(na * nb) > 0.9, "raster: same shape, other sampling: cosine %g",
	      dot / sqrt(na * nb));
	check(card_raster(&c, 4, a, &e) < 0 && e.code == DYN_EUSAGE, "raster: size 4 refused");
	free(a);
	free(b);
	card_release(&c);
}

/* The real excerpt: every card normalizes, and the rod-broken card's range ratio is the
 * smallest. */
static void test_real(void)
{
	const char *path = "../testdata/cards/oilfield3.csv";
	struct card_reader *r;
	struct card c;
	struct err e = ERR_INIT;
	float cur[CARD_CURVE_CHANNELS * NP], sc[CARD_SCALARS];
	float ratio[3] = {0};
	size_t n = 0;
	int k;
	card_init(&c);
	card_reader_open(&r, &path, 1, NULL);
	while ((k = card_reader_next(r, &c, &e)) > 0 && n < 3) {
		bool ok = card_curve(&c, NP, cur, &e) == 0 && card_scalars(&c, sc, &e) == 0;
		for (size_t i = 0; ok && i < CARD_CURVE_CHANNELS * NP; i++)
			ok = isfinite(cur[i]) && cur[i] >= -1.0001f && cur[i] <= 1.0001f;
		check(ok, "real: %s normalizes (range ratio %g, fill %g)", c.id, (double)sc[0],
		      (double)sc[1]);
		ratio[n++] = sc[0];
	}
	check(k == 0 && n == 3, "real: three cards read");
	/* c0004 fluid pound, c0018 normal, c0050 rod broken. */
	check(ratio[2] < ratio[0] && ratio[2] < ratio[1],
	      "real: the rod-broken card has the smallest range ratio (%g %g %g)", (double)ratio[0],
	      (double)ratio[1], (double)ratio[2]);
	card_release(&c);
	card_reader_free(&r);
}

/* card_series: the recorded order from the bottom dead centre, and the loop split at the top
 * dead centre into an upstroke that carries the load and a downstroke that does not; the same
 * for any start and direction of the recording. */
static void test_series(void)
{
	struct card c;
	struct err e = ERR_INIT;
	float ref[CARD_SERIES_CHANNELS * NP], got[CARD_SERIES_CHANNELS * NP];
	double up = 1, down = 0;
	card_init(&c);
	make_card(&c, 240, 10, 20, 0.0, false);
	check(card_series(&c, NP, ref, &e) == 0, "series: computed: %s", e.msg);
	/* Half the recorded points are the upstroke: the top dead centre is half-way. */
	check(ref[0] < 0.02 && ref[NP / 2] > 0.98, "series: bottom first, top half-way (%g, %g)",
	      (double)ref[0], (double)ref[NP / 2]);
	for (size_t i = NP / 5; i < 4 * NP / 5; i++) {
		up = fmin(up, ref[3 * NP + i]);
		down = fmax(down, ref[4 * NP + i]);
	}
	check(up > 0.9 && down < 0.1,
	      "series: mid-stroke, the upstroke at the top (least %g), the downstroke at the "
	      "bottom (most %g)",
	      up, down);
	check(fabs(ref[2 * NP + 3] - (10 + 20 * ref[NP + 3]) / 30) < 1e-4,
	      "series: load / max load (%g at load %g)", (double)ref[2 * NP + 3],
	      (double)ref[NP + 3]);
	make_card(&c, 240, 10, 20, 0.81, true);
	check(card_series(&c, NP, got, &e) == 0, "series: reversed computed");
	check(max_diff(ref, got, CARD_SERIES_CHANNELS * NP) < 0.05,
	      "series: reversed from another start gives the same series (%g)",
	      max_diff(ref, got, CARD_SERIES_CHANNELS * NP));
	check(card_series(&c, 1, got, &e) < 0 && strstr(e.msg, "at least 2"),
	      "series: one point is refused: %s", e.msg);
	card_release(&c);
}

int main(void)
{
	test_invariance();
	test_range();
	test_raster();
	test_series();
	test_real();
	return check_done();
}
