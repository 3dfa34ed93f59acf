/* OpenBLAS loaded on first use (blas.h). */
#include <stdatomic.h>

#define BLAS_NO_MACROS
#include "base/blas.h"
#include "base/base.h"
#include "base/lazylib.h"

static struct blas_fns fns;
static atomic_int ready;

const struct blas_fns *blas_fns(void)
{
	static const char *const names[] = {
#define X(f) #f,
	    BLAS_FUNCS(X)
#undef X
	};
	void **const slots[] = {
#define X(f) (void **)&fns.f,
	    BLAS_FUNCS(X)
#undef X
	};
	static int loaded;

	/* the lock-free test first: this runs before every BLAS call */
	if (atomic_load_explicit(&ready, memory_order_acquire))
		return &fns;
	lazylib_need("libopenblas.so.0", names, slots, ARRAY_SIZE(names), &loaded, "BLAS");
	atomic_store_explicit(&ready, 1, memory_order_release);
	return &fns;
}
