/* Throughput of the record reader alone: reads a file, converts every field with rec_number,
 * prints MB/s of (uncompressed) input. Built and run by bench/io-read.sh. */
#include <stdio.h>
#include <sys/resource.h>
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
	size_t rows = 0, nc, bytes;
	struct rusage ru;
	double sum = 0, v, secs, cpu;
	int k;

	if (argc < 2 || argc > 3 || stat(argv[1], &st) < 0) {
		fprintf(stderr, "usage: io_read FILE [BYTES]\n");
		return 2;
	}
	/* For compressed input, rates are given per byte of uncompressed data. */
	if (argc == 3 && parse_size(argv[2], &bytes) < 0) {
		fprintf(stderr, "io_read: bad size %s\n", argv[2]);
		return 2;
	}
	if (argc == 2)
		bytes = (size_t)st.st_size;
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
	/* CPU time too: on a loaded machine wall time says little about the code. */
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
	printf("%zu rows x %zu columns, %.1f MB in %.2f s wall, %.2f s cpu: %.1f MB/s wall, %.1f "
	       "MB/s cpu (checksum %.17g)\n",
	       rows, nc, (double)bytes / 1e6, secs, cpu, (double)bytes / 1e6 / secs,
	       (double)bytes / 1e6 / cpu, sum);
	return 0;
}
