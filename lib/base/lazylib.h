/* Shared libraries loaded on first use (dlopen), for the heavy ones that only some commands need:
 * linked, libarchive (with libxml2 and ICU behind it) and cairo (with X11, fontconfig...) cost
 * every dyn command 10 ms of dynamic loading, more than a one-row predict takes. */
#ifndef DYN_BASE_LAZYLIB_H
#define DYN_BASE_LAZYLIB_H

#include "base/err.h"

/* Opens soname and resolves the n symbols of names into *slots[i] (each the address of a
 * function pointer), once: *loaded, read and set under a lock, says it is done, so any thread
 * may call this before each use. Errors name the library and what is missing; what prefixes
 * the message ("--plot"). */
int lazylib_load(const char *soname, const char *const *names, void **const *slots, size_t n,
		 int *loaded, const char *what, struct err *e);

/* lazylib_load for a library dyn cannot run without (OpenBLAS, libcrypto), at a place that
 * cannot return an error: a failure (a broken installation) calls lazylib_fatal, which must not
 * return. Default: abort(); dyn's main sets one that prints the error and exits 1, as the
 * dynamic linker did when these libraries were linked. */
void lazylib_need(const char *soname, const char *const *names, void **const *slots, size_t n,
		  int *loaded, const char *what);
extern void (*lazylib_fatal)(const struct err *e);

#endif
