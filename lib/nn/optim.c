/* Optimizers (SGD with momentum, Adam, AdamW), learning-rate schedules and early stopping, each
 * following PyTorch's definitions so that a run can be checked against torch.optim. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE__)
#include <immintrin.h>
#endif

#include "base/mem.h"
#include "nn/nn.h"
#include "nn/nn_internal.h"

void nn_optim_init(struct nn_optim *o, enum nn_optim_kind kind, size_t n)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->lr = 1e-3f;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->weight_decay = kind == NN_ADAMW ? 1e-2f : 0.0f;
	o->n = n;
	o->m = xcalloc(n ? n : 1, sizeof(float));
	if (kind != NN_SGD)
		o->v = xcalloc(n ? n : 1, sizeof(float));
}

void nn_optim_release(struct nn_optim *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

static void sgd_step(struct nn_optim *o, float *p, const float *g)
{
	float lr = o->lr, mu = o->momentum, damp = 1.0f - o->dampening;
	for (size_t i = 0; i < o->n; i++) {
		float wd = o->decay_mask ? o->weight_decay * o->decay_mask[i] : o->weight_decay;
		float d = g[i] + wd * p[i];
		if (mu != 0) {
			/* PyTorch starts the buffer at the first gradient, undamped */
			o->m[i] = o->t == 1 ? d : mu * o->m[i] + damp * d;
			d = o->nesterov ? d + mu * o->m[i] : o->m[i];
		}
		p[i] -= lr * d;
	}
}

static nn_f4 sqrt4(nn_f4 v)
{
#if defined(__SSE__)
	return (nn_f4)_mm_sqrt_ps((__m128)v);
#else
	for (int j = 0; j < 4; j++)
		v[j] = sqrtf(v[j]);
	return v;
#endif
}

static void adam_step(struct nn_optim *o, float *p, const float *g)
{
	float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
	double bc1 = 1.0 - pow(b1, (double)o->t), bc2 = 1.0 - pow(b2, (double)o->t);
	float step = (float)(o->lr / bc1), bc2s = (float)sqrt(bc2);
	int adamw = o->kind == NN_ADAMW;
	size_t i = 0;
	for (; i + 4 <= o->n; i += 4) {
		nn_f4 wd = o->weight_decay + (nn_f4){0};
		if (o->decay_mask)
			wd = o->weight_decay * nn_ld4(o->decay_mask + i);
		nn_f4 d = nn_ld4(g + i), pv = nn_ld4(p + i);
		if (adamw)
			pv *= 1.0f - o->lr * wd;
		else
			d += wd * pv;
		nn_f4 m = b1 * nn_ld4(o->m + i) + (1.0f - b1) * d;
		nn_f4 v = b2 * nn_ld4(o->v + i) + (1.0f - b2) * d * d;
		nn_st4(o->m + i, m);
		nn_st4(o->v + i, v);
		nn_st4(p + i, pv - step * m / (sqrt4(v) / bc2s + eps));
	}
	for (; i < o->n; i++) {
		float wd = o->decay_mask ? o->weight_decay * o->decay_mask[i] : o->weight_decay;
		float d = g[i];
		if (adamw)
			p[i] *= 1.0f - o->lr * wd;
		else
			d += wd * p[i];
		o->m[i] = b1 * o->m[i] + (1.0f - b1) * d;
		o->v[i] = b2 * o->v[i] + (1.0f - b2) * d * d;
		p[i] -= step * o->m[i] / (sqrtf(o->v[i]) / bc2s + eps);
	}
}

void nn_optim_step(struct nn_optim *o, float *params, const float *grads)
{
	o->t++;
	if (o->kind == NN_SGD)
		sgd_step(o, params, grads);
	else
		adam_step(o, params, grads);
}

float nn_clip_grad_norm(float *grads, size_t n, float max_norm)
{
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (double)grads[i] * grads[i];
	double norm = sqrt(ss), coef = max_norm / (norm + 1e-6);
	if (coef < 1)
		for (size_t i = 0; i < n; i++)
			grads[i] = (float)(grads[i] * coef);
	return (float)norm;
}

void nn_sched_init(struct nn_sched *s, enum nn_sched_kind kind, float base_lr)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->base_lr = s->lr = base_lr;
	s->step_size = 30;
	s->gamma = 0.1f;
	s->t_max = 100;
	s->factor = 0.1f;
	s->patience = 10;
	s->threshold = 1e-4f;
}

float nn_sched_lr(struct nn_sched *s, int epoch)
{
	double base = s->base_lr;
	switch (s->kind) {
	case NN_SCHED_STEP:
		s->lr =
		    (float)(base * pow(s->gamma, epoch / (s->step_size > 0 ? s->step_size : 1)));
		break;
	case NN_SCHED_COSINE: {
		if (epoch < s->warmup) {
			s->lr = (float)(base * (epoch + 1) / s->warmup);
			break;
		}
		int T = s->t_max - s->warmup, e = epoch - s->warmup;
		if (T < 1)
			T = 1;
		if (e > T)
			e = T;
		s->lr = (float)(s->eta_min + (base - s->eta_min) * (1 + cos(M_PI * e / T)) / 2);
		break;
	}
	case NN_SCHED_CONST:
	case NN_SCHED_PLATEAU:
		break;
	}
	return s->lr;
}

float nn_sched_plateau(struct nn_sched *s, float value)
{
	if (!s->seen || value < s->best * (1.0f - s->threshold)) {
		s->best = value;
		s->bad = 0;
		s->seen = 1;
	} else {
		s->bad++;
	}
	if (s->cooldown_left > 0) {
		s->cooldown_left--;
		s->bad = 0;
	}
	if (s->bad > s->patience) {
		float lr = s->lr * s->factor;
		if (lr < s->min_lr)
			lr = s->min_lr;
		if (s->lr - lr > 1e-8f)
			s->lr = lr;
		s->cooldown_left = s->cooldown;
		s->bad = 0;
	}
	return s->lr;
}

void nn_early_init(struct nn_early *s, int patience, float min_delta, int maximize)
{
	memset(s, 0, sizeof(*s));
	s->patience = patience;
	s->min_delta = min_delta;
	s->maximize = maximize;
	s->best_epoch = -1;
}

int nn_early_update(struct nn_early *s, int epoch, float value)
{
	int better = !s->seen || (s->maximize ? value > s->best + s->min_delta
					      : value < s->best - s->min_delta);
	if (!better) {
		s->bad++;
		return 0;
	}
	s->seen = 1;
	s->best = value;
	s->best_epoch = epoch;
	s->bad = 0;
	return 1;
}

int nn_early_stop(const struct nn_early *s)
{
	return s->seen && s->bad >= s->patience;
}
