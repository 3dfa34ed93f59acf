/* Allocation that fails loudly: every heap allocation in dyn goes through these. */
#ifndef DYN_BASE_MEM_H
#define DYN_BASE_MEM_H

#include <stddef.h>

/* Each returns memory owned by the caller (free with free()); on exhaustion, prints
 * "dyn: out of memory" and aborts: there is no sane recovery mid-computation. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* n * size with an overflow check. */
void *xmallocarray(size_t n, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
/* n * size bytes aligned to align (a power of two, a multiple of sizeof(void *)), e.g. 64 for
 * whole cache lines. */
void *xmalloc_aligned(size_t n, size_t size, size_t align);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Asks the kernel to back the 2 MiB-aligned part of [p, p + size) with huge pages when it is
 * first touched: for large arrays, fewer page faults and TLB misses. A hint: ignored when the
 * kernel says no or the range is small. Call it before the memory is written. */
void mem_advise_huge(void *p, size_t size);
/* xmallocarray for a big array: advised for huge pages (mem_advise_huge) before anything
 * writes it. Where a 4 KiB page fault costs microseconds (virtual machines), the faults of
 * a few fresh arrays of tens of megabytes took seconds of a fit. */
void *xmalloc_huge(size_t n, size_t size);
/* xcalloc for a big array, advised the same way (fresh pages are not written by calloc, so
 * the advice still counts). */
void *xcalloc_huge(size_t n, size_t size);

/* Grows array x (of *alloc elements) so that it holds at least nr elements. */
#define ALLOC_GROW(x, nr, alloc)                                                                   \
	do {                                                                                       \
		if ((nr) > (alloc)) {                                                              \
			size_t ag_new_ = (alloc) < 16 ? 16 : (alloc)*2;                            \
			if (ag_new_ < (nr))                                                        \
				ag_new_ = (nr);                                                    \
			(x) = xreallocarray((x), ag_new_, sizeof(*(x)));                           \
			(alloc) = ag_new_;                                                         \
		}                                                                                  \
	} while (0)

#define FREE_AND_NULL(p)                                                                           \
	do {                                                                                       \
		free(p);                                                                           \
		(p) = NULL;                                                                        \
	} while (0)

#endif
