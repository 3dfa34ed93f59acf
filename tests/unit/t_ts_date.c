/* Unit tests of lib/ts/date.c: day numbers, parsing, weekdays, ISO weeks, months. References
 * from Python: datetime.date.fromisoformat(s).isocalendar(), .weekday(), and the day count
 * (d - date(1970, 1, 1)).days. */
#include "check.h"
#include "base/base.h"
#include "ts/date.h"

static void one(const char *s, long days, int wd, int iy, int iw)
{
	long d = -1;
	int y, w;
	char buf[TS_DATE_LEN];
	check(ts_date_parse(s, strlen(s), &d) == 0 && d == days, "%s is day %ld (got %ld)", s, days,
	      d);
	check(ts_weekday(d) == wd, "%s weekday %d", s, wd);
	ts_iso_week(d, &y, &w);
	check(y == iy && w == iw, "%s ISO week %d-W%02d (got %d-W%02d)", s, iy, iw, y, w);
	ts_date_format(d, buf);
	check(!strcmp(buf, s), "%s formats back (got %s)", s, buf);
}

int main(void)
{
	long d;
	one("2021-01-01", 18628, 4, 2020, 53);
	one("2024-12-30", 20087, 0, 2025, 1);
	one("2020-12-31", 18627, 3, 2020, 53);
	one("2021-01-03", 18630, 6, 2020, 53);
	one("2027-01-01", 20819, 4, 2026, 53);
	one("1999-12-31", 10956, 4, 1999, 52);
	one("1970-01-01", 0, 3, 1970, 1);

	check(ts_date_parse("2021-03-04T12:30:00Z", 20, &d) == 0 && d == 18690,
	      "date-time keeps the date");
	check(ts_date_parse("2021-03-04 23:59", 16, &d) == 0 && d == 18690,
	      "date-time with a space");
	check(ts_date_parse(" 2021-03-04 ", 12, &d) == 0 && d == 18690, "blanks around");
	check(ts_date_parse("17/03", 5, &d) < 0, "17/03 rejected");
	check(ts_date_parse("2021-02-29", 10, &d) < 0, "2021-02-29 rejected");
	check(ts_date_parse("2020-02-29", 10, &d) == 0, "2020-02-29 accepted");
	check(ts_date_parse("2021-13-01", 10, &d) < 0, "month 13 rejected");
	check(ts_date_parse("2021-1-01", 9, &d) < 0, "one-digit month rejected");
	check(ts_date_parse("2021-01-01x", 11, &d) < 0, "trailing junk rejected");
	check(ts_date_parse("0000-01-01", 10, &d) < 0, "year 0 rejected");

	ts_date_parse("2024-02-15", 10, &d);
	check(ts_month_start(d) == ts_days_from_civil(2024, 2, 1), "month start");
	check(ts_next_month(d) == ts_days_from_civil(2024, 3, 1), "next month");
	ts_date_parse("2024-12-15", 10, &d);
	check(ts_next_month(d) == ts_days_from_civil(2025, 1, 1), "next month across a year");
	check(ts_week_start(ts_days_from_civil(2024, 7, 7)) == ts_days_from_civil(2024, 7, 1),
	      "Sunday belongs to the week starting on Monday");
	check(!strcmp(ts_weekday_name(0), "Monday") && !strcmp(ts_weekday_name(6), "Sunday"),
	      "weekday names");
	return check_done();
}
