/* SQLite loaded on first use (store/sqlite.h). */
#include "store/sqlite.h"
#include "base/base.h"
#include "base/lazylib.h"

struct sqlite_lib sqlite_lib;

int sqlite_lib_load(const char *what, struct err *e)
{
	static const char *const names[] = {
#define X(f) #f,
	    SQLITE_LIB_FUNCS(X)
#undef X
	};
	void **const slots[] = {
#define X(f) (void **)&sqlite_lib.f,
	    SQLITE_LIB_FUNCS(X)
#undef X
	};
	static int loaded;
	return lazylib_load("libsqlite3.so.0", names, slots, ARRAY_SIZE(names), &loaded, what, e);
}
