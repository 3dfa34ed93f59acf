/* Error values for lib/: formatting helpers around struct err. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

int err_setv(struct err *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->code = code ? code : DYN_EDATA;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_setv(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t len;
	if (!e)
		return -1;
	va_start(ap, fmt);
	err_setv(e, DYN_EDATA, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char where[512];
	size_t wl, ml;
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	wl = strlen(where);
	if (wl + 2 >= sizeof(e->msg))
		wl = sizeof(e->msg) - 3;
	ml = strlen(e->msg);
	if (wl + 2 + ml >= sizeof(e->msg))
		ml = sizeof(e->msg) - wl - 3;
	memmove(e->msg + wl + 2, e->msg, ml);
	e->msg[wl + 2 + ml] = '\0';
	memcpy(e->msg, where, wl);
	e->msg[wl] = ':';
	e->msg[wl + 1] = ' ';
	if (!e->code)
		e->code = DYN_EDATA;
	return -1;
}

void err_clear(struct err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}
