/* Times the logreg kind's fit alone (no parsing, no store) on the binary image written by
 * bench/logreg_data.py, for bench/logreg.sh. usage: logreg_fit FILE C THREADS
 * Prints: seconds, iterations, converged, objective. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "models/model.h"

#include "base/base.h"

extern const struct model_kind model_logreg;

int main(int argc, char **argv)
{
	struct dataset ds;
	struct err e = ERR_INIT;
	struct fit_ctx ctx = {0, 0, NULL, true};
	struct timespec t0, t1;
	int64_t hdr[2];
	long th = 0;
	FILE *fp;

	if (argc != 4 || !(fp = fopen(argv[1], "rb")) || fread(hdr, 8, 2, fp) != 2 ||
	    parse_long(argv[3], &th) < 0) {
		fputs("usage: logreg_fit FILE C THREADS\n", stderr);
		return 2;
	}
	ctx.threads = (int)th;
	dataset_init(&ds);
	ds.n = (size_t)hdr[0];
	ds.d = (size_t)hdr[1];
	ds.k = 2;
	ds.X = xmallocarray(ds.n * ds.d, sizeof(double));
	ds.y = xmallocarray(ds.n, sizeof(int));
	if (fread(ds.X, sizeof(double), ds.n * ds.d, fp) != ds.n * ds.d ||
	    fread(ds.y, sizeof(int), ds.n, fp) != ds.n) {
		fputs("logreg_fit: short file\n", stderr);
		return 1;
	}
	fclose(fp);
	ds.features = xcalloc(ds.d, sizeof(char *));
	for (size_t j = 0; j < ds.d; j++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "f%zu", j + 1);
		ds.features[j] = strbuf_detach(&sb, NULL);
	}
	ds.classes = xcalloc(2, sizeof(char *));
	ds.classes[0] = xstrdup("0");
	ds.classes[1] = xstrdup("1");

	struct model *m = model_new(&model_logreg);
	if (params_set(&m->params, "logreg", "C", argv[2], &e) < 0) {
		fprintf(stderr, "logreg_fit: %s\n", e.msg);
		return 2;
	}
	m->d = ds.d;
	m->k = 2;
	m->features = xcalloc(ds.d, sizeof(char *));
	for (size_t j = 0; j < ds.d; j++)
		m->features[j] = xstrdup(ds.features[j]);
	m->classes = xcalloc(2, sizeof(char *));
	m->classes[0] = xstrdup("0");
	m->classes[1] = xstrdup("1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (model_logreg.fit(m, &ds, NULL, &ctx, &e) < 0) {
		fprintf(stderr, "logreg_fit: %s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	char *info = cJSON_PrintUnformatted(m->info);
	printf("%.3f %s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), info);
	cJSON_free(info);
	model_free(&m);
	dataset_release(&ds);
	return 0;
}
