/* Calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian): parsing ISO
 * dates and date-times, weekdays, ISO weeks (Monday start) and months. */
#ifndef DYN_TS_DATE_H
#define DYN_TS_DATE_H

#include <stddef.h>

#define TS_DATE_LEN 11 /* "YYYY-MM-DD" and its NUL */

/* Day number of a civil date (month 1..12, day 1..31; not checked). */
long ts_days_from_civil(int y, int m, int d);
void ts_civil_from_days(long z, int *y, int *m, int *d);

/* Parses "YYYY-MM-DD", optionally followed by a time ("T..." or " ..."), of which only the date
 * part is kept. Years 1..9999. 0 on success, -1 when s[0..len) is not such a date. */
int ts_date_parse(const char *s, size_t len, long *day);
/* Writes "YYYY-MM-DD" into buf (at least TS_DATE_LEN bytes). */
void ts_date_format(long day, char *buf);

/* 0 = Monday .. 6 = Sunday. */
int ts_weekday(long day);
/* The Monday starting the ISO week of day. */
long ts_week_start(long day);
/* ISO 8601 week-numbering year and week (1..53) of day. */
void ts_iso_week(long day, int *year, int *week);
/* The first day of day's month, and of the month after. */
long ts_month_start(long day);
long ts_next_month(long day);

/* English weekday name ("Monday"). */
const char *ts_weekday_name(int wd);

#endif
