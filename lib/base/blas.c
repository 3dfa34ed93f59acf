/* OpenBLAS loaded on first use (blas.h). */
#include <stdatomic.h>

#define BLAS_NO_MACROS
#include "base/blas.h"
#include "base/base.h"
#include "base/lazylib.h"

static struct blas_fns fns;

/* OpenBLAS 0.3.21 (Debian 12) does not know AMD's processors with AVX-512 (Zen 4, Zen 5) and
 * gives them its Haswell kernels; its SkylakeX ones, which they run, are much faster (sgemm of a
 * convolution's shape, 256 x 1280 x 288 on one core of this Zen 5: 87 GFLOP/s Haswell, 143
 * SkylakeX, medians of three alternated runs). So dyn names the core when the user has not
 * (OPENBLAS_CORETYPE) before OpenBLAS reads it, once, at load. Newer OpenBLAS map these
 * processors to kernels of the same family. */
static void blas_pick_core(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (!getenv("OPENBLAS_CORETYPE") && __builtin_cpu_is("amd") &&
	    __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
#endif
}
static atomic_int ready;

const struct blas_fns *blas_fns(void)
{
	static int loaded;

	/* the lock-free test first: this runs before every BLAS call */
	if (atomic_load_explicit(&ready, memory_order_acquire))
		return &fns;
	blas_pick_core();
	LAZYLIB_NEED(BLAS_FUNCS, fns, "libopenblas.so.0", &loaded, "BLAS");
	atomic_store_explicit(&ready, 1, memory_order_release);
	return &fns;
}
