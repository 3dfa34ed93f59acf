/* Shared libraries loaded on first use (dlopen), for the heavy ones that only some commands need:
 * linked, libarchive (with libxml2 and ICU behind it) and cairo (with X11, fontconfig...) cost
 * every dyn command 10 ms of dynamic loading, more than a one-row predict takes. */
#ifndef DYN_BASE_LAZYLIB_H
#define DYN_BASE_LAZYLIB_H

#include <stddef.h>

#include "base/err.h"

/* A library's symbols as a table: a struct of pointers, one for each name of its X-macro
 * list FUNCS(X), in the list's order, declared `struct { FUNCS(LAZYLIB_MEMBER) }`; its names
 * are FUNCS(LAZYLIB_NAME). */
#define LAZYLIB_MEMBER(f) __typeof__(f) *f;
#define LAZYLIB_NAME(f)	  #f,

/* Opens soname and resolves the n symbols of names into the first n pointers of table, once:
 * *loaded, read and set under a lock, says it is done, so any thread may call this before each
 * use. Errors name the library and what is missing; what prefixes the message ("--plot"). */
int lazylib_load(const char *soname, const char *const *names, size_t n, void *table, int *loaded,
		 const char *what, struct err *e);

/* lazylib_load for a library dyn cannot run without (OpenBLAS, libcrypto), at a place that
 * cannot return an error: a failure (a broken installation) calls lazylib_fatal, which must not
 * return. Default: abort(); dyn's main sets one that prints the error and exits 1, as the
 * dynamic linker did when these libraries were linked. */
void lazylib_need(const char *soname, const char *const *names, size_t n, void *table, int *loaded,
		  const char *what);

/* The names of the list FUNCS, as an array, and their count once checked against the table tbl
 * (a table of another length does not compile). */
#define LAZYLIB_NAMES(FUNCS) ((const char *const[]){FUNCS(LAZYLIB_NAME)})
#define LAZYLIB_COUNT(FUNCS, tbl)                                                                  \
	(sizeof(LAZYLIB_NAMES(FUNCS)) / sizeof(const char *) +                                     \
	 0 * sizeof(char[sizeof(tbl) == sizeof(LAZYLIB_NAMES(FUNCS)) ? 1 : -1]))

/* lazylib_load and lazylib_need of the whole table tbl of the list FUNCS. */
#define LAZYLIB_LOAD(FUNCS, tbl, soname, loaded, what, e)                                          \
	lazylib_load(soname, LAZYLIB_NAMES(FUNCS), LAZYLIB_COUNT(FUNCS, tbl), &(tbl), loaded,      \
		     what, e)
#define LAZYLIB_NEED(FUNCS, tbl, soname, loaded, what)                                             \
	lazylib_need(soname, LAZYLIB_NAMES(FUNCS), LAZYLIB_COUNT(FUNCS, tbl), &(tbl), loaded, what)

extern void (*lazylib_fatal)(const struct err *e);

#endif
