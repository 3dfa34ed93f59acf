/* Times dyn's SVC pieces on dense libsvm-format files (every feature present), for bench/svc.sh:
 *   svc_driver smo TRAIN C GAMMA TOL CACHE_MB            the SMO solver alone (svm-train without
 * -b) svc_driver fit TRAIN TEST C GAMMA TOL CACHE_MB THREADS  the svc model: fit with Platt
 *       probabilities (svm-train -b 1), then predict TEST (svm-predict -b 1)
 * Prints key=value lines. The features are used as given (scale=none): the bench writes them
 * standardized, as dyn's default scaling would. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/smo.h"
#include "models/model.h"
#include "models/svc.h"

#include "base/base.h"

struct data {
	size_t n, d;
	double *X;
	int *y; /* 0 for label -1, 1 for +1 */
};

static void die(const char *msg)
{
	fprintf(stderr, "svc_driver: %s\n", msg);
	exit(1);
}

static void read_svm(const char *path, struct data *D)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		die(path);
	size_t xa = 0, ya = 0, nx = 0;
	static char line[1 << 16];
	memset(D, 0, sizeof(*D));
	while (fgets(line, sizeof(line), fp)) {
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		double lab;
		if (!tok)
			continue;
		if (parse_double(tok, (size_t)-1, &lab, false))
			die("bad label");
		ALLOC_GROW(D->y, D->n + 1, ya);
		D->y[D->n] = lab > 0;
		size_t j = 0;
		while ((tok = strtok_r(NULL, " \n", &save))) {
			char *colon = strchr(tok, ':');
			double v;
			if (!colon || parse_double(colon + 1, (size_t)-1, &v, false))
				die("bad value");
			ALLOC_GROW(D->X, nx + 1, xa);
			D->X[nx++] = v;
			j++;
		}
		if (D->n == 0)
			D->d = j;
		else if (j != D->d)
			die("rows must list every feature");
		D->n++;
	}
	fclose(fp);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double num(const char *s)
{
	double v;
	if (parse_double(s, (size_t)-1, &v, false))
		die("bad number");
	return v;
}

static int run_smo(char **argv)
{
	struct data D;
	read_svm(argv[2], &D);
	double C = num(argv[3]);
	signed char *y = xmallocarray(D.n, 1);
	for (size_t i = 0; i < D.n; i++)
		y[i] = D.y[i] ? 1 : -1;
	struct smo_problem p = {.n = D.n,
				.d = D.d,
				.X = D.X,
				.y = y,
				.Cp = C,
				.Cn = C,
				.tol = num(argv[5]),
				.cache_bytes = (size_t)(num(argv[6]) * 1048576),
				.shrinking = true};
	p.kernel.type = KERNEL_RBF;
	p.kernel.gamma = num(argv[4]);
	struct smo_result r;
	double t0 = now();
	smo_solve(&p, &r);
	double t1 = now();
	size_t nsv = 0;
	for (size_t i = 0; i < D.n; i++)
		nsv += r.alpha[i] > 0;
	printf("nsv=%zu\nrho=%.10g\niter=%ld\nseconds=%.3f\n", nsv, r.rho, r.iter, t1 - t0);
	free(r.alpha);
	free(y);
	free(D.X);
	free(D.y);
	return 0;
}

static int run_fit(char **argv)
{
	struct data tr, te;
	struct err e = ERR_INIT;
	read_svm(argv[2], &tr);
	read_svm(argv[3], &te);
	struct model *m = model_new(&model_svc);
	const char *names[] = {"C", "gamma", "tol", "cache_mb"};
	for (int i = 0; i < 4; i++)
		if (params_set(&m->params, "svc", names[i], argv[4 + i], &e))
			die(e.msg);
	params_set(&m->params, "svc", "scale", "none", &e);
	struct dataset ds;
	dataset_init(&ds);
	ds.n = tr.n;
	ds.d = tr.d;
	ds.X = tr.X;
	ds.y = tr.y;
	ds.k = 2;
	m->d = tr.d;
	m->k = 2;
	m->features = xcalloc(tr.d, sizeof(char *));
	for (size_t j = 0; j < tr.d; j++)
		m->features[j] = xstrdup("x");
	m->classes = xcalloc(2, sizeof(char *));
	m->classes[0] = xstrdup("-1");
	m->classes[1] = xstrdup("1");
	struct fit_ctx ctx = {.seed = 1, .threads = (int)num(argv[8])};
	double t0 = now();
	if (m->kind->fit(m, &ds, NULL, &ctx, &e))
		die(e.msg);
	double t1 = now();
	double *proba = xmallocarray(te.n * 2, sizeof(double));
	struct batch b = {.n = te.n, .d = te.d, .X = te.X};
	if (m->kind->predict(m, &b, proba, &e))
		die(e.msg);
	double t2 = now();
	size_t ok = 0;
	for (size_t i = 0; i < te.n; i++)
		ok += (proba[2 * i + 1] > proba[2 * i]) == (te.y[i] == 1);
	char *info = cJSON_PrintUnformatted(m->info);
	printf("fit_seconds=%.3f\npredict_seconds=%.3f\naccuracy=%.4f\ninfo=%s\n", t1 - t0, t2 - t1,
	       (double)ok / (double)te.n, info);
	free(info);
	free(proba);
	model_free(&m);
	free(tr.X);
	free(tr.y);
	free(te.X);
	free(te.y);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "smo"))
		return run_smo(argv);
	if (argc == 9 && !strcmp(argv[1], "fit"))
		return run_fit(argv);
	fputs("usage: svc_driver smo TRAIN C GAMMA TOL CACHE_MB\n"
	      "       svc_driver fit TRAIN TEST C GAMMA TOL CACHE_MB THREADS\n",
	      stderr);
	return 2;
}
