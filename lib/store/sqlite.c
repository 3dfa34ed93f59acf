/* SQLite loaded on first use (store/sqlite.h). */
#include "store/sqlite.h"
#include "base/base.h"
#include "base/lazylib.h"

struct sqlite_lib sqlite_lib;

int sqlite_lib_load(const char *what, struct err *e)
{
	static int loaded;
	return LAZYLIB_LOAD(SQLITE_LIB_FUNCS, sqlite_lib, "libsqlite3.so.0", &loaded, what, e);
}
