/* Allocation wrappers: one place that decides what running out of memory means. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/mem.h"

static void oom(size_t size)
{
	fprintf(stderr, "dyn: out of memory (allocating %zu bytes)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *xmallocarray(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xmalloc(n * size);
}

void *xreallocarray(void *ptr, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(ptr, n * size);
}

void *xmalloc_aligned(size_t n, size_t size, size_t align)
{
	void *p = NULL;
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	size_t bytes = n * size;
	if (posix_memalign(&p, align, bytes ? bytes : 1) != 0)
		oom(n * size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	if (n) /* s may be NULL when n is 0 (an empty strbuf) */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *xmalloc_huge(size_t n, size_t size)
{
	void *p = xmallocarray(n ? n : 1, size ? size : 1);
	mem_advise_huge(p, n * size);
	return p;
}

void *xcalloc_huge(size_t n, size_t size)
{
	void *p = xcalloc(n ? n : 1, size ? size : 1);
	mem_advise_huge(p, n * size);
	return p;
}

void mem_advise_huge(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1),
		  hi = ((uintptr_t)p + size) & ~(huge - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)p;
	(void)size;
#endif
}
