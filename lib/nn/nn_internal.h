/* What lib/nn's files share and nothing else needs: per-channel batch norm (the network runs
 * channels on threads), backward passes that write rather than add, and the dropout seed of
 * one sample. */
#ifndef DYN_NN_INTERNAL_H
#define DYN_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn/nn.h"

/* nn_batchnorm_forward/backward restricted to channels [c0, c1) (same arguments otherwise);
 * backward with set writes dinp instead of adding to it. */
void nn_bn_forward_range(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
			 const float *beta, float *running_mean, float *running_var, int B, int C,
			 int S, float momentum, float eps, int training, int c0, int c1);
void nn_bn_backward_range(float *dinp, float *dgamma, float *dbeta, const float *dout,
			  const float *inp, const float *mean, const float *rstd,
			  const float *gamma, int B, int C, int S, int training, int c0, int c1,
			  int set);

/* Backward passes that WRITE the input's gradient instead of adding to it (the other arguments
 * as nn_conv_backward, nn_relu_backward, nn_concat_backward): for the first layer of a backward
 * pass to reach a node, which would otherwise clear it first. nn_concat_backward_set writes da
 * when set_a and db when set_b, and adds to the other. */
void nn_conv_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
			  const float *inp, const float *weight, int B, const struct nn_conv *g,
			  float *col);
void nn_relu_backward_set(float *dinp, const float *dout, const float *out, size_t n);
void nn_concat_backward_set(float *da, float *db, const float *dout, int B, int ca, int cb, int S,
			    int set_a, int set_b);

/* Eval-mode batch norm of B samples from the running statistics, writing nothing shared (many
 * chunks run it at once); the same values as nn_batchnorm_forward in eval mode. */
void nn_bn_eval(float *out, const float *inp, const float *gamma, const float *beta,
		const float *running_mean, const float *running_var, int B, int C, int S,
		float eps);
/* The mean and 1/std that eval mode normalizes with. */
void nn_bn_eval_stats(float running_mean, float running_var, float eps, float *mean, float *rstd);

/* A 64-bit seed mixed from three values (splitmix64 finalizer on each step). */
uint64_t nn_seed_mix(uint64_t a, uint64_t b, uint64_t c);

/* Four floats as one SSE register (gcc and clang vector extensions), for the loops the compilers
 * do not vectorize by themselves at -O2: the branch-free selections of ReLU and max pooling,
 * Adam four parameters at a time (the same operations in the same order as one at a time: C11
 * mode does not contract them into fused multiply-adds, so the results are identical). */
typedef float nn_f4 __attribute__((vector_size(16)));
typedef int32_t nn_i4 __attribute__((vector_size(16)));

static inline nn_f4 nn_ld4(const float *p)
{
	nn_f4 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void nn_st4(float *p, nn_f4 v)
{
	memcpy(p, &v, sizeof(v));
}

#endif
