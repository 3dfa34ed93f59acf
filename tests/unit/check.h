/* A tiny unit-test harness: check(cond, name) prints "ok - name" or "not ok - name". */
#ifndef DYN_TESTS_CHECK_H
#define DYN_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failed;

#define check(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok - ");                                                           \
		} else {                                                                           \
			printf("not ok - %s:%d: ", __FILE__, __LINE__);                            \
			check_failed++;                                                            \
		}                                                                                  \
		printf(__VA_ARGS__);                                                               \
		putchar('\n');                                                                     \
	} while (0)

/* |a - b| <= tol * max(1, |b|) */
#define check_close(a, b, tol, ...)                                                                \
	check(fabs((double)(a) - (double)(b)) <= (tol)*fmax(1.0, fabs((double)(b))), __VA_ARGS__)

#define check_done() (fflush(stdout), check_failed ? 1 : 0)

#endif
