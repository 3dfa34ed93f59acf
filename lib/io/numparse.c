/* Exact decimal parsing: Clinger's fast path, falling back to strtod (via parse_double).
 * strtod dominated the CSV reader's profile; most data values are short decimals, for which
 * one IEEE multiplication or division of two exactly representable doubles is correctly
 * rounded, hence identical to strtod. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "io/numparse.h"
#include "base/base.h"

/* 10^0..10^22 are exactly representable as doubles. */
static const double pow10_exact[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				     1e8,  1e9,	 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 0 on success; -1 when the shortcut does not apply (not necessarily an error). */
static int num_fast(const char *p, const char *end, double *out)
{
	uint64_t m = 0;
	int nd = 0;   /* significant digits in m */
	long e10 = 0; /* value = m * 10^e10 */
	bool neg = false, any = false;
	double v;

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
	/* Extended-precision evaluation would round twice. */
	return -1;
#endif
	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		any = true;
		if (m == 0 && *p == '0')
			continue;
		if (nd >= 19)
			return -1;
		m = m * 10 + (uint64_t)(*p - '0');
		nd++;
	}
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			any = true;
			if (m == 0 && *p == '0') {
				e10--;
				continue;
			}
			if (nd >= 19)
				return -1;
			m = m * 10 + (uint64_t)(*p - '0');
			nd++;
			e10--;
		}
	}
	if (!any)
		return -1;
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		long x = 0;
		p++;
		if (p < end && (*p == '-' || *p == '+')) {
			eneg = *p == '-';
			p++;
		}
		if (p == end || *p < '0' || *p > '9')
			return -1;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		e10 += eneg ? -x : x;
	}
	if (p != end)
		return -1;
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	if (m > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22)
		return -1;
	v = (double)m;
	v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
	*out = neg ? -v : v;
	return 0;
}

int num_parse(const char *s, size_t len, double *out)
{
	double v;
	if (num_fast(s, s + len, out) == 0)
		return 0;
	if (parse_double(s, len, &v, true) < 0)
		return -1;
	*out = v;
	return isfinite(v) ? 0 : 1;
}
