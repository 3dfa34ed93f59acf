/* The card generator. Three stages:
 *  1. load rules: the pump load (in units of the fluid load Fo) on the upstroke and on the
 *     downstroke as functions of the plunger's place in its stroke (0 bottom, 1 top), one fault
 *     parameter per marker;
 *  2. a quasi-static pass that turns the rules into load against time: while the valves are
 *     closed the plunger stands still and the rods stretch, so the pick-up and the release take
 *     the time the polished rod needs to move by the rod stretch (this is what tilts the
 *     sides of a surface card);
 *  3. the damped wave equation u_tt = a^2 u_xx - c u_t on the rod string, marched explicitly
 *     with the polished rod's motion at the top and that load at the bottom; the surface load
 *     is the buoyant rod weight plus the tension E*A*(-u_x) at the top. */
#include <math.h>

#include "base/base.h"
#include "cards/gen.h"
#include "cards/markers.h"

#define RULE_N	  512	  /* load rules are tabulated on RULE_N + 1 plunger positions */
#define QS_N	  512	  /* quasi-static steps per stroke */
#define ROD_CELLS 16	  /* finite-difference cells along the rods (coarse is enough) */
#define STEPS_MAX 3000	  /* time steps per stroke at most: bounds the work per card */
#define STROKES	  4	  /* strokes marched; the last one is kept */
#define SOUND	  5100.0  /* speed of sound in steel, m/s */
#define YOUNG	  2.06e11 /* steel, Pa */
#define STEEL	  7850.0  /* kg/m^3 */
#define GRAV	  9.81	  /* m/s^2 */
#define TWO_PI	  6.283185307179586

/* One well and one pump condition. Loads in N inside this file, kN on output. */
struct well {
	double stroke, spm, depth;
	double rod_len;	  /* rods hanging from the surface (shorter than depth for parted rods) */
	double area, ea;  /* rod cross-section (m^2) and E*A (N) */
	double weight;	  /* buoyant weight of rod_len of rods, N */
	double fo;	  /* fluid load, N */
	double fo_design; /* fluid load of a full pump on this well, N */
	double s_rod;	  /* rod stretch under fo as a fraction of the stroke */
	double s_eff;	  /* stretch that delays the pick-up: s_rod plus tubing stretch */
	double warp;	  /* unit asymmetry: phase warp of the polished rod's motion */
	double damp;	  /* c of the wave equation on the downstroke, 1/s */
	double damp_up;	  /* on the upstroke: the fluid column moves with the rods */
	double smooth;	  /* corner rounding, fraction of a stroke */
	bool stuck;	  /* plunger held: the bottom of the rods does not move */
	double severity;
	double up[RULE_N + 1], down[RULE_N + 1]; /* load rules, units of fo */
};

static double unif(struct rng *r, double a, double b)
{
	return a + (b - a) * rng_uniform(r);
}

static double smoothstep(double t)
{
	if (t <= 0)
		return 0;
	if (t >= 1)
		return 1;
	return t * t * (3 - 2 * t);
}

/* Polished-rod position, fraction of the stroke, at crank angle th: (1 - cos)/2 with a phase
 * warp for the unit's asymmetry; top at th = pi whatever the warp. */
static double top_pos(const struct well *w, double th)
{
	return 0.5 * (1 - cos(th + w->warp * sin(th)));
}

static double rule_at(const double *t, double xi)
{
	if (!(xi > 0))
		return t[0];
	if (xi >= 1)
		return t[RULE_N];
	double p = xi * RULE_N;
	size_t k = (size_t)p;
	if (k >= RULE_N)
		return t[RULE_N];
	double f = p - (double)k;
	return t[k] + f * (t[k + 1] - t[k]);
}

/* Piecewise-linear random profile in [-1, 1] with KNOTS knots: the serrations of sand. */
static void jag_table(double *out, size_t knots, struct rng *r)
{
	double v[97];
	if (knots > 96)
		knots = 96;
	for (size_t k = 0; k <= knots; k++)
		v[k] = unif(r, -1, 1);
	for (size_t i = 0; i <= RULE_N; i++) {
		size_t k = i * knots / RULE_N; /* knot at or before i */
		if (k >= knots)
			k = knots - 1;
		double f = (double)(i * knots - k * RULE_N) / RULE_N;
		out[i] = (1 - f) * v[k] + f * v[k + 1 <= 96 ? k + 1 : 96];
	}
}

/* The field: stroke, speed, depth, rods, pump and fluid, drawn within the primer's ranges and
 * kept physically plausible (rod stress, polished-rod speed, rod stretch). */
static void draw_well(struct well *w, struct rng *r)
{
	w->depth = 500 + 2500 * pow(rng_uniform(r), 1.5); /* shallow wells are the common ones */
	/* The pumping unit is sized for the well: deeper wells, heavier loads, bigger units with
	 * longer strokes (a loose tie: units are reused and strokes set by hand). */
	double depth01 = (w->depth - 500) / 2500;
	w->stroke = 1 + 5 * fmin(1, fmax(0, 0.7 * depth01 + unif(r, -0.05, 0.4)));
	/* most wells run slowly; long strokes slower (polished-rod speed under 20 m/min) */
	double u = rng_uniform(r);
	w->spm = 2 + 10 * u * u;
	if (w->stroke * w->spm > 20)
		w->spm = unif(r, 2, fmax(2, 20 / w->stroke));
	double rod_d = (16 + 9 * depth01 + unif(r, -2, 3)) * 1e-3;
	double rho = unif(r, 850, 1100);
	w->area = 0.25 * M_PI * rod_d * rod_d;
	w->ea = YOUNG * w->area;
	w->rod_len = w->depth;
	/* Deep strings are tapered (thinner rods below) so that the top rod's own weight stays
	 * under about 100 MPa: the taper scales the string's weight. */
	double own = STEEL * GRAV * w->depth * (1 - rho / STEEL);
	w->weight = w->area * own * fmin(1, 100e6 / own);
	/* The pump is sized for the rods (rod-string design leaves the fluid load a share of
	 * the rods' weight, the top rod under about 190 MPa): a full pump lifts 0.4 to 0.75
	 * of the rods' buoyant weight. A tubing leak or a flowing well falls below that. */
	w->fo = w->fo_design = unif(r, 0.4, 0.75) * w->weight;
	w->s_rod = w->fo * w->depth / (w->ea * w->stroke);
	/* a long string stretches more than a short stroke allows: longer strokes, as in
	 * deep wells, then a lighter pump */
	if (w->s_rod > 0.25) {
		w->stroke = fmin(6, w->stroke * w->s_rod / 0.25);
		w->s_rod = w->fo * w->depth / (w->ea * w->stroke);
		if (w->s_rod > 0.3) {
			w->fo *= 0.3 / w->s_rod;
			w->fo_design = w->fo;
			w->s_rod = 0.3;
		}
	}
	if (w->stroke * w->spm > 20)
		w->spm = fmax(2, 20 / w->stroke);
	w->s_eff = w->s_rod;
	w->warp = unif(r, -0.25, 0.25);
	/* Gibbs' c = pi * nu * a / (2 L), nu about 0.02 to 0.13: the
	 * stress waves ring as on real cards */
	w->damp = unif(r, 0.03, 0.2) * SOUND / w->rod_len;
	w->damp_up = w->damp * unif(r, 1.5, 3);
	w->smooth = unif(r, 0.005, 0.02);
	w->stuck = false;
}

/* Load rules of marker M with a random severity (the ranges keep neighbouring markers apart:
 * worn pump below traveling-valve leak, pump-off below fluid pound, ...). */
static void draw_rules(struct well *w, size_t m, struct rng *r)
{
	double *up = w->up, *dn = w->down;
	for (size_t i = 0; i <= RULE_N; i++) {
		up[i] = 1;
		dn[i] = 0;
	}
	double sev = 0;
	switch (m) {
	case CARD_NORMAL:
		sev = unif(r, 0, 0.05); /* slight sag of the top line */
		for (size_t i = 0; i <= RULE_N; i++)
			up[i] = 1 - sev * (double)i / RULE_N;
		break;
	case CARD_FLUID_POUND:
	case CARD_PUMP_OFF: {
		sev = m == CARD_PUMP_OFF ? unif(r, 0.08, 0.3) : unif(r, 0.4, 0.85); /* fillage */
		double wd = unif(r, 0.02, 0.07), hold = unif(r, 0.85, 1);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			dn[i] = hold * smoothstep((xi - sev + wd) / wd);
		}
		break;
	}
	case CARD_GAS_INTERFERENCE: {
		/* Free gas (volume g of the swept volume at intake pressure) compressed as
		 * P V^n = const until the traveling valve opens at the discharge pressure
		 * (ratio ratio); the gas left in the dead space expands on the way up. */
		sev = unif(r, 0.25, 0.7);
		double ratio = unif(r, 4, 20), n = unif(r, 1.0, 1.3), dead = unif(r, 0.01, 0.05);
		double vopen = sev * pow(ratio, -1 / n);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			double vg = sev - (1 - xi);
			double p = vg <= vopen ? ratio : pow(sev / vg, n);
			dn[i] = 1 - (p - 1) / (ratio - 1);
			p = ratio * pow(dead / (dead + xi), n);
			up[i] = p <= 1 ? 1 : 1 - (p - 1) / (ratio - 1);
		}
		break;
	}
	case CARD_GAS_LOCK: {
		/* Gas compressed and expanded without reaching either valve's pressure: a lens. */
		double lo = unif(r, 0.12, 0.4), hi = unif(r, 0.55, 0.85), h = unif(r, 0.04, 0.12);
		double k = unif(r, 1.3, 2.2);
		sev = hi - lo;
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			double mid = lo + (hi - lo) * (1 - pow(1 - xi, k));
			double b = pow(sin(M_PI * xi), 0.8);
			up[i] = mid + h * b;
			dn[i] = mid - h * b;
		}
		break;
	}
	case CARD_TRAVELING_VALVE_LEAK:
	case CARD_WORN_PUMP:
	case CARD_STANDING_VALVE_LEAK:
	case CARD_BOTH_VALVES_LEAK: {
		/* A leak loses most where the plunger is slow, near both ends of its stroke, and
		 * some all along. */
		bool tv = m != CARD_STANDING_VALVE_LEAK,
		     sv = m == CARD_STANDING_VALVE_LEAK || m == CARD_BOTH_VALVES_LEAK;
		sev = m == CARD_WORN_PUMP ? unif(r, 0.18, 0.3) : unif(r, 0.45, 0.8);
		double lsv = m == CARD_BOTH_VALVES_LEAK ? unif(r, 0.3, 0.6) : sev;
		double wl = m == CARD_BOTH_VALVES_LEAK ? 0.35 : unif(r, 0.18, 0.3);
		double wr = unif(r, 0.12, 0.25), far = unif(r, 0.3, 0.6);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			if (tv)
				up[i] = 1 - sev * (0.3 + exp(-xi / wl) + far * exp(-(1 - xi) / wr));
			if (sv)
				dn[i] = lsv * (0.3 + exp(-(1 - xi) / wl) + far * exp(-xi / wr));
		}
		break;
	}
	case CARD_TUBING_LEAK:
		/* the fluid load that still reaches the pump, well under a full pump's */
		sev = unif(r, 0.2, 0.5);
		w->fo *= sev;
		w->s_rod *= sev;
		w->s_eff = w->s_rod;
		break;
	case CARD_PUMP_HITTING_DOWN:
	case CARD_PUMP_HITTING_UP: {
		sev = m == CARD_PUMP_HITTING_DOWN ? unif(r, 0.35, 0.8) : unif(r, 0.4, 1);
		double wd = unif(r, 0.03, 0.07);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			if (m == CARD_PUMP_HITTING_DOWN)
				dn[i] = -sev * smoothstep((wd + 0.02 - xi) / wd);
			else
				up[i] = 1 + sev * smoothstep((xi - (0.97 - wd)) / wd);
		}
		break;
	}
	case CARD_PLUNGER_OUT_OF_BARREL: {
		sev = unif(r, 0.45, 0.85); /* where the plunger leaves the barrel */
		double rest = unif(r, 0.08, 0.35), wd = unif(r, 0.02, 0.05);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			up[i] = 1 - (1 - rest) * smoothstep((xi - sev) / wd);
		}
		break;
	}
	case CARD_PARTED_RODS: {
		/* The pump is gone: the surface lifts the upper rods against a little friction. */
		sev = unif(r, 0.05, 0.45); /* depth of the break, fraction of the pump depth */
		double mu = unif(r, 0.02, 0.06);
		w->rod_len = sev * w->depth;
		w->weight *= sev;
		w->fo = w->weight; /* the unit of the friction, which scales with the rods left */
		for (size_t i = 0; i <= RULE_N; i++) {
			up[i] = mu;
			dn[i] = -mu;
		}
		w->s_rod *= sev;
		w->s_eff = w->s_rod;
		break;
	}
	case CARD_STUCK_PLUNGER: {
		/* The rods stretch by the whole stroke: shorten the stroke to keep the peak load
		 * within what rods and unit bear before they part or stall. */
		sev = 1;
		w->stuck = true;
		double k = w->ea / w->rod_len, room = 1.3 * 190e6 * w->area - w->weight;
		if (room > 0 && w->stroke * k > room)
			w->stroke = fmax(0.5, room / k * unif(r, 0.6, 1));
		break;
	}
	case CARD_TUBING_MOVEMENT:
		/* tubing stretch over rod stretch; what shows is a slant well beyond what the
		 * rods alone give (at most 0.3 of the stroke) */
		sev = unif(r, 1.5, 3);
		w->s_eff = fmin(0.7, fmax(w->s_rod * (1 + sev), unif(r, 0.35, 0.5)));
		break;
	case CARD_PUMPING_WHILE_FLOWING:
		sev = unif(r, 0.02, 0.1); /* the flowing well leaves little differential */
		w->fo *= sev;
		w->s_rod *= sev;
		w->s_eff = w->s_rod;
		w->smooth = unif(r, 0.02, 0.05);
		break;
	case CARD_HIGH_VISCOSITY:
		sev = unif(r, 0.3, 0.7);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N, b = 2 * sqrt(xi * (1 - xi));
			up[i] = 1 + sev * b;
			dn[i] = -sev * b;
		}
		w->smooth = unif(r, 0.04, 0.08);
		w->damp *= unif(r, 2, 4);
		w->damp_up *= unif(r, 2, 4);
		break;
	case CARD_SAND: {
		sev = unif(r, 0.12, 0.3);
		double ju[RULE_N + 1], jd[RULE_N + 1];
		jag_table(ju, 30 + rng_below(r, 50), r);
		jag_table(jd, 30 + rng_below(r, 50), r);
		for (size_t i = 0; i <= RULE_N; i++) {
			up[i] = 1 + sev * ju[i];
			dn[i] = 0.3 * sev * jd[i];
		}
		w->smooth = unif(r, 0.002, 0.006);
		break;
	}
	case CARD_PARAFFIN_FRICTION: {
		/* Friction of the rods in waxed tubing: it opposes the motion both ways, so the
		 * upstroke rises and the downstroke sinks by the same amount at the same place;
		 * the wax lies in patches, so the friction swells and ebbs along the stroke and
		 * both branches wave together, mirrored. */
		sev = unif(r, 0.2, 0.45);
		double wv = unif(r, 0.25, 0.5), k = unif(r, 2, 5), p1 = unif(r, 0, TWO_PI);
		for (size_t i = 0; i <= RULE_N; i++) {
			double xi = (double)i / RULE_N;
			double fr = sev * (1 + wv * sin(TWO_PI * k * xi + p1));
			up[i] = 1 + fr;
			dn[i] = -fr;
		}
		break;
	}
	default:
		break;
	}
	w->severity = sev;
	if (w->s_eff < 0.02)
		w->s_eff = 0.02;
}

/* Solves x + s * f(x / (1 - s)) = top for the plunger position x in [lo, hi], where the left
 * side is below top at lo and above it at hi. */
static double qs_solve(const double *rule, double s, double top, double lo, double hi)
{
	for (int it = 0; it < 18; it++) {
		double mid = 0.5 * (lo + hi);
		if (mid + s * rule_at(rule, mid / (1 - s)) < top)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* Quasi-static pass: load f[j] (units of fo) at crank angle 2*pi*j/QS_N over the second of
 * two strokes. The plunger (x: fraction of the stroke, below the polished rod by the rod
 * stretch s*f) stands still while the load moves between the branches. */
static void qs_run(const struct well *w, double *f)
{
	double s = w->s_eff, x = 0, load = w->down[0];
	for (int pass = 0; pass < 2; pass++) {
		for (int j = 0; j < QS_N; j++) {
			double th = TWO_PI * j / QS_N, top = top_pos(w, th);
			bool upstroke = j < QS_N / 2;
			const double *rule = upstroke ? w->up : w->down;
			double hold = (top - x) / s, target = rule_at(rule, x / (1 - s));
			if (upstroke ? hold <= target : hold >= target) {
				load = hold;
			} else {
				if (upstroke)
					x = qs_solve(rule, s, top, x, top + 3 * s);
				else
					x = qs_solve(rule, s, top, top - 3 * s, x);
				load = rule_at(rule, x / (1 - s));
			}
			f[j] = load;
		}
	}
}

/* Circular moving average of width k (twice: a triangular window). */
static void smooth_circular(double *v, size_t n, size_t k)
{
	if (k < 2)
		return;
	double *tmp = xmallocarray(n, sizeof(*tmp));
	for (int pass = 0; pass < 2; pass++) {
		double sum = 0;
		for (size_t i = 0; i < k; i++)
			sum += v[(n - k / 2 + i) % n];
		for (size_t i = 0; i < n; i++) {
			tmp[i] = sum / (double)k;
			sum += v[(i + k - k / 2) % n] - v[(i + n - k / 2) % n];
		}
		memcpy(v, tmp, n * sizeof(*v));
	}
	free(tmp);
}

static double table_at(const double *t, size_t n, double th)
{
	double p = th / TWO_PI * (double)n;
	p -= floor(p / (double)n) * (double)n;
	size_t k = (size_t)p;
	if (k >= n)
		k = 0;
	double fr = p - (double)k;
	return t[k] + fr * (t[(k + 1) % n] - t[k]);
}

/* Marches the wave equation for STROKES strokes; surf[k] (N) is the surface load at crank
 * angle 2*pi*k/steps of the last stroke. f: pump load (units of fo) on the QS_N grid. */
static double *wave_run(const struct well *w, const double *f, size_t *steps_out)
{
	double period = 60 / w->spm, len = w->rod_len;
	size_t cells = ROD_CELLS;
	double dx = len / (double)cells;
	/* r = a dt / dx <= 0.9; coarsen the grid when a short string would need too many steps */
	size_t steps = (size_t)ceil(period * SOUND / (0.9 * dx));
	while (steps > STEPS_MAX && cells > 4) {
		cells--;
		dx = len / (double)cells;
		steps = (size_t)ceil(period * SOUND / (0.9 * dx));
	}
	double dt = period / (double)steps, r2 = pow(SOUND * dt / dx, 2);
	double *buf = xcalloc(3 * (cells + 1), sizeof(*buf));
	double *u = buf, *prev = buf + cells + 1, *next = prev + cells + 1;
	double *surf = xmallocarray(steps, sizeof(*surf));
	if (!w->stuck)
		for (size_t i = 0; i <= cells; i++)
			u[i] = prev[i] = -w->fo * f[0] * dx * (double)i / w->ea;
	/* The boundary values repeat every stroke: tabulate them once. */
	double *top = xmallocarray(steps, sizeof(*top)), *pull = xmallocarray(steps, sizeof(*pull));
	for (size_t k = 0; k < steps; k++) {
		double th = TWO_PI * (double)k / (double)steps;
		top[k] = w->stroke * top_pos(w, th);
		pull[k] = 2 * dx * w->fo * table_at(f, QS_N, th) / w->ea;
	}
	double cd_up = 0.5 * dt * w->damp_up, cd_down = 0.5 * dt * w->damp;
	for (size_t n = 0; n < STROKES * steps; n++) {
		size_t k = n % steps;
		double cd = 2 * k < steps ? cd_up : cd_down, a = 1 - cd, b = 1 / (1 + cd);
		for (size_t i = 1; i < cells; i++)
			next[i] =
			    (2 * u[i] - a * prev[i] + r2 * (u[i + 1] - 2 * u[i] + u[i - 1])) * b;
		if (w->stuck) {
			next[cells] = 0;
		} else {
			double ghost = u[cells - 1] - pull[k];
			next[cells] = (2 * u[cells] - a * prev[cells] +
				       r2 * (ghost - 2 * u[cells] + u[cells - 1])) *
				      b;
		}
		next[0] = top[(k + 1) % steps];
		double *t = prev;
		prev = u;
		u = next;
		next = t;
		/* the surface load at step n + 1, kept over the last stroke */
		if (n + 1 >= (STROKES - 1) * steps && n + 1 < STROKES * steps) {
			double ux = cells >= 2 ? (-3 * u[0] + 4 * u[1] - u[2]) / (2 * dx)
					       : (u[1] - u[0]) / dx;
			surf[(k + 1) % steps] = w->weight - w->ea * ux;
		}
	}
	free(top);
	free(pull);
	free(buf);
	*steps_out = steps;
	return surf;
}

void card_gen_opts_init(struct card_gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_points = 100;
	o->max_points = 400;
}

int card_generate(struct card *out, size_t marker, struct rng *r, const struct card_gen_opts *o,
		  struct card_gen_info *info, struct err *e)
{
	if (marker >= CARD_MARKERS_N)
		return err_set(e, DYN_EUSAGE, "card_generate: marker %zu out of range", marker);
	if (o->min_points < 8 || o->max_points < o->min_points || o->max_points > 100000)
		return err_set(e, DYN_EUSAGE, "card_generate: points %zu to %zu out of range",
			       o->min_points, o->max_points);
	struct well *w = xcalloc(1, sizeof(*w));
	double *f = xmallocarray(QS_N, sizeof(*f));
	draw_well(w, r);
	draw_rules(w, marker, r);
	qs_run(w, f);
	smooth_circular(f, QS_N, (size_t)(w->smooth * QS_N + 0.5));

	size_t steps = 0;
	double *surf = o->pump ? NULL : wave_run(w, f, &steps);

	/* Sampling like a controller: 200 points or anything from 100 to 400, a little uneven,
	 * starting near the bottom of the stroke, sometimes not quite closing. */
	size_t n = o->min_points + rng_below(r, o->max_points - o->min_points + 1);
	if (!o->clean && rng_uniform(r) < 0.5 && o->min_points <= 200 && o->max_points >= 200)
		n = 200;
	double start = 0, jitter = 0, span = 1, noise = 0;
	if (!o->clean) {
		bool bottom = rng_uniform(r) < 0.8;
		start = bottom ? unif(r, -0.02, 0.02) * TWO_PI : unif(r, 0, TWO_PI);
		jitter = unif(r, 0, 0.4);
		/* a loop left open near the bottom, where the load changes least per point */
		if (bottom && rng_uniform(r) < 0.1)
			span = 1 - unif(r, 0.005, 0.02);
		noise = unif(r, 0.005, 0.02);
	}
	double *x = xmallocarray(n, sizeof(*x)), *y = xmallocarray(n, sizeof(*y));
	double ymax, ymin, xmin, xmax;
	double *jit = xmallocarray(n, sizeof(*jit));
	for (size_t k = 0; k < n; k++)
		jit[k] = jitter * unif(r, -1, 1);
sample:
	ymax = -INFINITY, ymin = INFINITY, xmin = INFINITY, xmax = -INFINITY;
	for (size_t k = 0; k < n; k++) {
		double th = start + TWO_PI * span * ((double)k + jit[k]) / (double)n;
		double top = top_pos(w, th);
		if (o->pump) {
			double load = table_at(f, QS_N, th);
			/* stuck: the plunger creeps a little, a near-vertical line */
			x[k] =
			    w->stuck ? 0.03 * top * w->stroke : w->stroke * (top - w->s_rod * load);
			y[k] = w->stuck ? w->fo * top / 1000 : w->fo * load / 1000;
		} else {
			x[k] = w->stroke * top;
			y[k] = table_at(surf, steps, th) / 1000;
		}
		ymax = fmax(ymax, y[k]);
		ymin = fmin(ymin, y[k]);
		xmin = fmin(xmin, x[k]);
		xmax = fmax(xmax, x[k]);
	}
	/* A loop left open stays a card: where the load moves fast at the bottom, the gap would
	 * pass card_validate's limit, and the loop is closed instead. */
	if (span < 1 && (fabs(x[n - 1] - x[0]) > 0.08 * (xmax - xmin) ||
			 fabs(y[n - 1] - y[0]) > 0.08 * (ymax - ymin))) {
		span = 1;
		goto sample;
	}
	free(jit);
	if (o->pump)
		for (size_t k = 0; k < n; k++)
			x[k] -= xmin;
	if (!o->clean) {
		/* A load cell's noise is a share of its full scale, set by the well's loads: a
		 * pump card (computed from the surface card) carries it at the scale of a full
		 * pump's load, so a card with little pump load is a noisy one. */
		double sd = o->pump ? noise * 0.6 * w->fo_design / 1000
				    : noise * (0.5 * (ymax - ymin) + 0.1 * fabs(ymax));
		for (size_t k = 0; k < n; k++) {
			y[k] += sd * rng_normal(r);
			x[k] += 0.002 * (xmax - xmin) * rng_normal(r);
		}
		if (rng_uniform(r) < 0.08) {
			size_t spikes = 1 + rng_below(r, 3);
			for (size_t s = 0; s < spikes; s++)
				y[rng_below(r, n)] += (rng_uniform(r) < 0.5 ? -1 : 1) *
						      unif(r, 0.1, 0.25) * (ymax - ymin);
		}
	}
	out->id = NULL;
	out->label = xstrdup(card_markers[marker].name);
	out->n = n;
	out->x = x;
	out->y = y;
	out->from_image = false;
	if (info) {
		info->stroke = w->stroke;
		info->spm = w->spm;
		info->depth = w->depth;
		info->rod_weight = w->weight / 1000;
		info->fluid_load = w->fo / 1000;
		info->severity = w->severity;
	}
	free(surf);
	free(f);
	free(w);
	return 0;
}
