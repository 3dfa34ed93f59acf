/* Checked number parsing in the C locale. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"

static locale_t c_locale(void)
{
	static locale_t loc;
	if (!loc)
		loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	return loc;
}

int parse_double(const char *s, size_t len, double *out, bool allow_nonfinite)
{
	char tmp[128];
	char *end;
	double v;
	if (len == (size_t)-1)
		len = strlen(s);
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtod_l(tmp, &end, c_locale());
	if (end != tmp + len)
		return -1;
	if (errno == ERANGE && fabs(v) > 1.0)
		return -1;
	if (!allow_nonfinite && !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int parse_long(const char *s, long *out)
{
	char *end;
	long v;
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, size_t *out)
{
	long v;
	if (parse_long(s, &v) < 0 || v < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}
