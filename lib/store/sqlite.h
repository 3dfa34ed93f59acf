/* SQLite, loaded on first use (base/lazylib.h), for the stores that keep a database: the
 * marking dataset (mark/markdb) and the confirmed OCR samples (ocr/confirmed). Calls go through
 * sqlite_lib.f(...), after sqlite_lib_load has succeeded. */
#ifndef DYN_STORE_SQLITE_H
#define DYN_STORE_SQLITE_H

#include <sqlite3.h>

#include "base/err.h"
#include "base/lazylib.h"

#define SQLITE_LIB_FUNCS(X)                                                                        \
	X(sqlite3_bind_blob)                                                                       \
	X(sqlite3_bind_double)                                                                     \
	X(sqlite3_bind_int64)                                                                      \
	X(sqlite3_bind_null)                                                                       \
	X(sqlite3_bind_text)                                                                       \
	X(sqlite3_busy_timeout)                                                                    \
	X(sqlite3_changes)                                                                         \
	X(sqlite3_close_v2)                                                                        \
	X(sqlite3_column_blob)                                                                     \
	X(sqlite3_column_bytes)                                                                    \
	X(sqlite3_column_double)                                                                   \
	X(sqlite3_column_int64)                                                                    \
	X(sqlite3_column_text)                                                                     \
	X(sqlite3_column_type)                                                                     \
	X(sqlite3_errmsg)                                                                          \
	X(sqlite3_errstr)                                                                          \
	X(sqlite3_exec)                                                                            \
	X(sqlite3_finalize)                                                                        \
	X(sqlite3_get_autocommit)                                                                  \
	X(sqlite3_last_insert_rowid)                                                               \
	X(sqlite3_open_v2)                                                                         \
	X(sqlite3_prepare_v2)                                                                      \
	X(sqlite3_reset)                                                                           \
	X(sqlite3_step)

struct sqlite_lib {
	SQLITE_LIB_FUNCS(LAZYLIB_MEMBER)
};
extern struct sqlite_lib sqlite_lib;

/* Loads libsqlite3 once (any thread, any number of times); what prefixes the error ("the
 * marking dataset"). */
int sqlite_lib_load(const char *what, struct err *e);

#endif
