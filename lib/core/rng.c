/* xoshiro256** (Blackman and Vigna, public-domain algorithm) with splitmix64 seeding, plus
 * uniform, bounded, normal deviates and shuffles built on it. */
#include <math.h>

#include "base/base.h"
#include "core/rng.h"

uint64_t rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rng_init(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	/* splitmix64 never yields four zero words in a row, so the state is never all zero. */
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&x);
	r->spare = 0;
	r->has_spare = 0;
}

void rng_init_state(struct rng *r, const uint64_t s[4])
{
	for (int i = 0; i < 4; i++)
		r->s[i] = s[i];
	r->spare = 0;
	r->has_spare = 0;
}

uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

double rng_uniform_open(struct rng *r)
{
	return ((double)(rng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Reject the top partial block so that every residue is equally likely. */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = rng_u64(r);
	while (x >= lim);
	return x % n;
}

double rng_normal(struct rng *r)
{
	double u, v, s;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	do {
		u = 2 * rng_uniform(r) - 1;
		v = 2 * rng_uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	s = sqrt(-2 * log(s) / s);
	r->spare = v * s;
	r->has_spare = 1;
	return u * s;
}

void rng_shuffle(struct rng *r, size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		size_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}
