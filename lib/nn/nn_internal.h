/* What lib/nn's files share and nothing else needs: per-channel batch norm (the network runs
 * channels on threads) and the dropout seed of one sample. */
#ifndef DYN_NN_INTERNAL_H
#define DYN_NN_INTERNAL_H

#include <stdint.h>

/* nn_batchnorm_forward/backward restricted to channels [c0, c1) (same arguments otherwise). */
void nn_bn_forward_range(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
			 const float *beta, float *running_mean, float *running_var, int B, int C,
			 int S, float momentum, float eps, int training, int c0, int c1);
void nn_bn_backward_range(float *dinp, float *dgamma, float *dbeta, const float *dout,
			  const float *inp, const float *mean, const float *rstd,
			  const float *gamma, int B, int C, int S, int training, int c0, int c1);

/* Eval-mode batch norm of B samples from the running statistics, writing nothing shared (many
 * chunks run it at once); the same values as nn_batchnorm_forward in eval mode. */
void nn_bn_eval(float *out, const float *inp, const float *gamma, const float *beta,
		const float *running_mean, const float *running_var, int B, int C, int S,
		float eps);
/* The mean and 1/std that eval mode normalizes with. */
void nn_bn_eval_stats(float running_mean, float running_var, float eps, float *mean, float *rstd);

/* A 64-bit seed mixed from three values (splitmix64 finalizer on each step). */
uint64_t nn_seed_mix(uint64_t a, uint64_t b, uint64_t c);

#endif
