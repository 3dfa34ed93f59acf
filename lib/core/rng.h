/* Deterministic pseudo-random numbers (xoshiro256** seeded by splitmix64): the same seed gives
 * the same stream on every platform, so fits, shuffles and splits are reproducible. */
#ifndef DYN_CORE_RNG_H
#define DYN_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Generator state. Embedded value: rng_init (no release needed). Not thread-safe: give each
 * thread its own (seeded e.g. with seed + thread index). */
struct rng {
	uint64_t s[4];
	double spare; /* second normal deviate of the last polar pair */
	int has_spare;
};

void rng_init(struct rng *r, uint64_t seed);
/* Starts from the four state words s (not all zero) instead of a seed: for streams fixed before
 * rng existed (ets's simulated intervals). */
void rng_init_state(struct rng *r, const uint64_t s[4]);
uint64_t rng_u64(struct rng *r);
/* Uniform in [0, 1), 53 random bits. */
double rng_uniform(struct rng *r);
/* Uniform in (0, 1): the middle of each of rng_uniform's 2^53 steps, so never 0 (for logs). */
double rng_uniform_open(struct rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal deviate (Marsaglia's polar method). */
double rng_normal(struct rng *r);
/* Fisher-Yates shuffle of a[0..n). */
void rng_shuffle(struct rng *r, size_t *a, size_t n);

/* splitmix64, the generator that seeds the state: returns the next number of the stream whose
 * state is *x (any value; advanced). One word of state, weaker than xoshiro256** but enough for
 * a visiting order; kept for the solvers whose results were fixed with it (core/linsvm). */
uint64_t rng_splitmix64(uint64_t *x);

#endif
