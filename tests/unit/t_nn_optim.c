/* Learning-rate schedules of lib/nn against PyTorch's (tests/ref/nn_torch.py), the cosine
 * warm-up and early stopping against their definitions, and the optimizers on a quadratic. */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "check.h"
#include "nn_ref.h"

static const float *ref(const char *name, int n)
{
	for (int i = 0; i < nn_nrefs; i++)
		if (!strcmp(nn_refs[i].name, name) && nn_refs[i].n == n)
			return nn_refs[i].v;
	return NULL;
}

static void test_schedules(void)
{
	struct nn_sched s;
	const float *want;
	double e;

	nn_sched_init(&s, NN_SCHED_STEP, 0.1f);
	s.step_size = 3, s.gamma = 0.5f;
	want = ref("sched.step", 10);
	e = want ? 0 : 1;
	for (int k = 0; want && k < 10; k++)
		e = fmax(e, fabs(nn_sched_lr(&s, k) - want[k]));
	check(e < 1e-7, "step schedule = StepLR (max error %.3g)", e);

	nn_sched_init(&s, NN_SCHED_COSINE, 0.1f);
	s.t_max = 10, s.eta_min = 0.01f;
	want = ref("sched.cosine", 11);
	e = want ? 0 : 1;
	for (int k = 0; want && k < 11; k++)
		e = fmax(e, fabs(nn_sched_lr(&s, k) - want[k]));
	check(e < 1e-6, "cosine schedule = CosineAnnealingLR (max error %.3g)", e);

	/* warm-up: linear to the base over 2 epochs, then the cosine over the 8 left */
	s.warmup = 2;
	check_close(nn_sched_lr(&s, 0), 0.05, 1e-7, "warm-up epoch 0: half the base");
	check_close(nn_sched_lr(&s, 1), 0.1, 1e-7, "warm-up epoch 1: the base");
	check_close(nn_sched_lr(&s, 6), 0.01 + 0.09 * (1 + cos(M_PI * 4 / 8)) / 2, 1e-7,
		    "after warm-up: cosine over t_max - warmup epochs");
	check_close(nn_sched_lr(&s, 50), 0.01, 1e-7, "past t_max: eta_min");

	static const float metrics[12] = {1.0f,	 0.9f,	0.95f, 0.96f, 0.97f, 0.8f,
					  0.85f, 0.86f, 0.87f, 0.88f, 0.89f, 0.9f};
	nn_sched_init(&s, NN_SCHED_PLATEAU, 0.1f);
	s.factor = 0.5f, s.patience = 2, s.cooldown = 1;
	want = ref("sched.plateau", 12);
	e = want ? 0 : 1;
	for (int k = 0; want && k < 12; k++)
		e = fmax(e, fabs(nn_sched_plateau(&s, metrics[k]) - want[k]));
	check(e < 1e-7, "plateau schedule = ReduceLROnPlateau (max error %.3g)", e);
	check_close(nn_sched_lr(&s, 99), 0.025, 1e-7, "plateau: nn_sched_lr gives the current lr");
}

static void test_early(void)
{
	struct nn_early s;
	static const float loss[8] = {1.0f, 0.8f, 0.85f, 0.79f, 0.795f, 0.81f, 0.82f, 0.5f};
	int best[8], stop = -1;
	nn_early_init(&s, 3, 0.005f, 0);
	for (int k = 0; k < 8; k++) {
		best[k] = nn_early_update(&s, k, loss[k]);
		if (stop < 0 && nn_early_stop(&s))
			stop = k;
	}
	/* 0.79 beats 0.8 by more than 0.005 (best); 0.795 does not */
	check(best[0] && best[1] && !best[2] && best[3] && !best[4],
	      "early stopping: improvements");
	check(stop == 6 && s.best_epoch == 7 && s.best == 0.5f,
	      "early stopping: stops 3 epochs after the best (%d), remembers the best epoch (%d)",
	      stop, s.best_epoch);
	nn_early_init(&s, 2, 0, 1);
	nn_early_update(&s, 0, 0.5f);
	check(nn_early_update(&s, 1, 0.6f) && !nn_early_update(&s, 2, 0.55f) && s.best_epoch == 1,
	      "early stopping on a value to maximize (accuracy)");
}

/* Each optimizer brings f(p) = sum (p_i - i)^2 / 2 near its minimum p_i = i. */
static void test_quadratic(void)
{
	const char *names[3] = {"sgd with momentum", "adam", "adamw"};
	for (int k = 0; k < 3; k++) {
		struct nn_optim o;
		float p[4] = {0}, g[4];
		nn_optim_init(&o, k == 0 ? NN_SGD : k == 1 ? NN_ADAM : NN_ADAMW, 4);
		o.lr = 0.05f;
		o.momentum = 0.9f;
		o.weight_decay = 0;
		for (int step = 0; step < 500; step++) {
			for (int i = 0; i < 4; i++)
				g[i] = p[i] - (float)i;
			nn_optim_step(&o, p, g);
		}
		double e = 0;
		for (int i = 0; i < 4; i++)
			e = fmax(e, fabs(p[i] - i));
		check(e < 1e-2 && o.t == 500, "%s minimizes a quadratic (max error %.3g)", names[k],
		      e);
		nn_optim_release(&o);
	}
	/* AdamW's decay alone: p <- p (1 - lr wd) when the gradient is 0 */
	struct nn_optim o;
	float p[1] = {2}, g[1] = {0};
	nn_optim_init(&o, NN_ADAMW, 1);
	o.lr = 0.1f, o.weight_decay = 0.5f;
	nn_optim_step(&o, p, g);
	check_close(p[0], 2 * 0.95, 1e-6, "adamw decays the weight decoupled from the gradient");
	nn_optim_release(&o);

	/* a decay mask: the second parameter is not decayed */
	for (int k = 0; k < 3; k++) {
		float q[2] = {2, 2}, z[2] = {0, 0}, mask[2] = {1, 0};
		nn_optim_init(&o, k == 0 ? NN_SGD : k == 1 ? NN_ADAM : NN_ADAMW, 2);
		o.lr = 0.1f, o.weight_decay = 0.5f, o.decay_mask = mask;
		nn_optim_step(&o, q, z);
		check(q[0] < 2 && q[1] == 2, "decay mask of %s: decays only where set",
		      k == 0   ? "sgd"
		      : k == 1 ? "adam"
			       : "adamw");
		nn_optim_release(&o);
	}
}

/* Adam updates four parameters at a time and the rest one at a time: every parameter must get
 * the same bits either way, with and without decay (a mask, AdamW). */
static void test_adam_lanes(void)
{
	enum { N = 11, STEPS = 5 };
	for (int k = 0; k < 3; k++) {
		struct nn_optim all, one[N];
		float p[N], q[N], g[N], mask[N];
		for (int i = 0; i < N; i++) {
			p[i] = q[i] = 0.1f * (float)(i - 5);
			mask[i] = (float)(i % 3 != 0);
		}
		nn_optim_init(&all, k == 2 ? NN_ADAMW : NN_ADAM, N);
		all.weight_decay = k ? 0.05f : 0;
		all.decay_mask = k == 1 ? mask : NULL;
		for (int i = 0; i < N; i++) {
			nn_optim_init(&one[i], all.kind, 1);
			one[i].weight_decay = all.weight_decay;
			one[i].decay_mask = k == 1 ? mask + i : NULL;
		}
		for (int s = 0; s < STEPS; s++) {
			for (int i = 0; i < N; i++)
				g[i] = sinf((float)(i * 7 + s)) * (float)(1 + i);
			nn_optim_step(&all, p, g);
			for (int i = 0; i < N; i++)
				nn_optim_step(&one[i], q + i, g + i);
		}
		check(!memcmp(p, q, sizeof(p)), "%s: four at a time = one at a time, to the bit",
		      k == 0   ? "adam"
		      : k == 1 ? "adam with a decay mask"
			       : "adamw");
		nn_optim_release(&all);
		for (int i = 0; i < N; i++)
			nn_optim_release(&one[i]);
	}
}

static void test_clip(void)
{
	float g[3] = {3, 0, 4}, h[2] = {0.3f, 0.4f};
	check_close(nn_clip_grad_norm(g, 3, 1), 5, 1e-6, "clip: returns the norm before");
	check_close(g[0], 3 / (5 + 1e-6), 1e-6, "clip: scaled to norm 1");
	check_close(g[2], 4 / (5 + 1e-6), 1e-6, "clip: every element by the same factor");
	nn_clip_grad_norm(h, 2, 1);
	check(h[0] == 0.3f && h[1] == 0.4f, "clip: a norm under the limit is left alone");
}

int main(void)
{
	test_schedules();
	test_early();
	test_quadratic();
	test_adam_lanes();
	test_clip();
	return check_done();
}
