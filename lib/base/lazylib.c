/* Libraries loaded on first use (see lazylib.h). */
#include <dlfcn.h>
#include <pthread.h>

#include "base/base.h"
#include "base/lazylib.h"

#include <stdlib.h>

static pthread_mutex_t lazylib_lock = PTHREAD_MUTEX_INITIALIZER;

static void lazylib_abort(const struct err *e)
{
	(void)e;
	abort();
}

void (*lazylib_fatal)(const struct err *e) = lazylib_abort;

void lazylib_need(const char *soname, const char *const *names, size_t n, void *table, int *loaded,
		  const char *what)
{
	struct err e = ERR_INIT;
	if (lazylib_load(soname, names, n, table, loaded, what, &e) < 0)
		lazylib_fatal(&e);
}

int lazylib_load(const char *soname, const char *const *names, size_t n, void *table, int *loaded,
		 const char *what, struct err *e)
{
	/* a table of pointers: functions, and the variables some libraries export, all the size
	 * of a data pointer where dlsym works (POSIX) */
	void **slot = table;
	void *h;
	size_t i;
	int ret = -1;

	pthread_mutex_lock(&lazylib_lock);
	if (*loaded) {
		ret = 0;
		goto out;
	}
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		err_set(e, DYN_EDATA, "%s: cannot load %s: %s", what, soname, dlerror());
		goto out;
	}
	for (i = 0; i < n; i++) {
		void *sym = dlsym(h, names[i]);
		if (!sym) {
			err_set(e, DYN_EDATA, "%s: %s lacks %s", what, soname, names[i]);
			goto out;
		}
		slot[i] = sym;
	}
	*loaded = 1;
	ret = 0;
out:
	pthread_mutex_unlock(&lazylib_lock);
	return ret;
}
