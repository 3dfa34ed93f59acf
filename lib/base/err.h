/* Errors as values: lib/ never prints or exits; it fills a struct err and returns -1. */
#ifndef DYN_BASE_ERR_H
#define DYN_BASE_ERR_H

#include <stdarg.h>

/* Exit codes of the design (section 3); also the class of an error. */
enum dyn_exit {
	DYN_OK = 0,
	DYN_EDATA = 1,	   /* bad data, I/O or runtime failure */
	DYN_EUSAGE = 2,	   /* bad command line or hyperparameter */
	DYN_ENOTFOUND = 3, /* model, card or queue not found */
};

struct err {
	int code;	/* enum dyn_exit; 0 while no error is set */
	char msg[1024]; /* "WHERE: WHAT", without the "dyn: " prefix */
};

#define ERR_INIT                                                                                   \
	{                                                                                          \
		0,                                                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/* Sets the error and returns -1, so that callers can write "return err_set(...)". */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_setv(struct err *e, int code, const char *fmt, va_list ap);
/* Like err_set, appending ": strerror(errno)". */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message with "WHERE: ". */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

#endif
