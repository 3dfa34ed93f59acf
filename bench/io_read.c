/* Throughput of the record reader alone: reads a file, converts every field with rec_number,
 * prints MB/s of input. Built and run by bench/io-read.sh. */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "io/records.h"
#include "base/base.h"

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct rec_reader *r;
	struct timespec t0, t1;
	struct stat st;
	size_t rows = 0, nc;
	double sum = 0, v, secs;
	int k;

	if (argc != 2 || stat(argv[1], &st) < 0) {
		fprintf(stderr, "usage: io_read FILE\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rec_open(&r, argv[1], NULL, &e) < 0) {
		fprintf(stderr, "io_read: %s\n", e.msg);
		return 1;
	}
	nc = rec_ncols(r);
	while ((k = rec_next(r, &e)) == 1) {
		for (size_t i = 0; i < nc; i++) {
			if (rec_number(r, i, &v, &e) < 0) {
				fprintf(stderr, "io_read: %s\n", e.msg);
				return 1;
			}
			sum += v;
		}
		rows++;
	}
	if (k < 0) {
		fprintf(stderr, "io_read: %s\n", e.msg);
		return 1;
	}
	rec_free(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	printf("%zu rows x %zu columns, %.1f MB in %.2f s: %.1f MB/s (checksum %.6g)\n", rows, nc,
	       (double)st.st_size / 1e6, secs, (double)st.st_size / 1e6 / secs, sum);
	return 0;
}
