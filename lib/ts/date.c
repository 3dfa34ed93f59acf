/* Calendar arithmetic on day numbers (see date.h), after H. Hinnant's civil-days algorithms. */
#include <ctype.h>

#include "base/base.h"
#include "ts/date.h"

long ts_days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ts_civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int ts_date_parse(const char *s, size_t len, long *day)
{
	int y, m, d;
	/* Surrounding blanks are tolerated, as parse_double does for numbers. */
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &m) < 0 || digits(s + 8, 2, &d) < 0)
		return -1;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	if (len > 10) {
		/* A date-time: the time must at least look like one ("T12:00", " 12:00:00Z"). */
		if ((s[10] != 'T' && s[10] != ' ') || len < 13 || !isdigit((unsigned char)s[11]))
			return -1;
	}
	*day = ts_days_from_civil(y, m, d);
	return 0;
}

void ts_date_format(long day, char *buf)
{
	int y, m, d;
	ts_civil_from_days(day, &y, &m, &d);
	snprintf(buf, TS_DATE_LEN, "%04d-%02d-%02d", y, m, d);
}

int ts_weekday(long day)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	long w = (day + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

long ts_week_start(long day)
{
	return day - ts_weekday(day);
}

void ts_iso_week(long day, int *year, int *week)
{
	/* The ISO year is the year of the week's Thursday. */
	long thu = ts_week_start(day) + 3;
	int y, m, d;
	ts_civil_from_days(thu, &y, &m, &d);
	*year = y;
	*week = (int)((thu - ts_days_from_civil(y, 1, 1)) / 7 + 1);
}

long ts_month_start(long day)
{
	int y, m, d;
	ts_civil_from_days(day, &y, &m, &d);
	return ts_days_from_civil(y, m, 1);
}

long ts_next_month(long day)
{
	int y, m, d;
	ts_civil_from_days(day, &y, &m, &d);
	return m == 12 ? ts_days_from_civil(y + 1, 1, 1) : ts_days_from_civil(y, m + 1, 1);
}

const char *ts_weekday_name(int wd)
{
	static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					    "Friday", "Saturday", "Sunday"};
	return wd >= 0 && wd < 7 ? names[wd] : "?";
}
