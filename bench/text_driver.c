/* A small driver of lib/text and lib/core/linsvm for bench/text.sh and for checking against
 * scikit-learn while the dyn commands for text models are not there: reads CSV (text,label),
 * dumps TF-IDF rows or times fit and predict. Not part of dyn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>

#include "core/linsvm.h"
#include "text/text.h"
#include "base/base.h"

struct corpus {
	char **text;
	char **label;
	size_t n, alloc;
	char *field[2];
	int col;
	size_t row;
};

static void on_field(void *s, size_t len, void *data)
{
	struct corpus *c = data;
	if (c->col < 2)
		c->field[c->col] = xstrndup(s, len);
	c->col++;
}

static void on_row(int ch, void *data)
{
	struct corpus *c = data;
	if (c->row++ > 0 && c->col >= 2) {
		ALLOC_GROW(c->text, c->n + 1, c->alloc);
		c->label = xreallocarray(c->label, c->alloc, sizeof(*c->label));
		c->text[c->n] = c->field[0];
		c->label[c->n] = c->field[1];
		c->n++;
	} else {
		free(c->field[0]);
		free(c->field[1]);
	}
	c->field[0] = c->field[1] = NULL;
	c->col = 0;
}

static void read_corpus(const char *path, struct corpus *c)
{
	struct csv_parser p;
	char buf[65536];
	size_t r;
	FILE *f = fopen(path, "rb");
	memset(c, 0, sizeof(*c));
	if (!f) {
		perror(path);
		exit(1);
	}
	csv_init(&p, CSV_APPEND_NULL);
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		csv_parse(&p, buf, r, on_field, on_row, c);
	csv_fini(&p, on_field, on_row, c);
	csv_free(&p);
	fclose(f);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void parse_range(const char *s, int *a, int *b)
{
	long x, y;
	if (!strcmp(s, "none")) {
		*a = *b = 0;
		return;
	}
	char *comma = strchr(s, ',');
	if (!comma) {
		fprintf(stderr, "bad range %s\n", s);
		exit(2);
	}
	*comma = 0;
	if (parse_long(s, &x) || parse_long(comma + 1, &y)) {
		fprintf(stderr, "bad range\n");
		exit(2);
	}
	*a = (int)x;
	*b = (int)y;
}

static int label_index(char ***names, size_t *k, const char *s)
{
	for (size_t i = 0; i < *k; i++)
		if (!strcmp((*names)[i], s))
			return (int)i;
	*names = xreallocarray(*names, *k + 1, sizeof(**names));
	(*names)[*k] = xstrdup(s);
	return (int)(*k)++;
}

int main(int argc, char **argv)
{
	struct tfidf_opts o;
	struct linsvm_opts so = {.C = 1, .tol = 1e-4, .max_iter = 1000, .seed = 1, .threads = 1};
	struct err e = ERR_INIT;
	tfidf_opts_default(&o);
	if (argc < 3) {
		fprintf(stderr, "usage: text_driver dump FILE [opts] | eval TRAIN TEST [opts]\n");
		return 2;
	}
	const char *mode = argv[1];
	int a = strcmp(mode, "eval") ? 3 : 4;
	for (; a < argc; a++) {
		const char *k = argv[a], *val = a + 1 < argc ? argv[a + 1] : "";
		double x = 0;
		if (!strcmp(k, "--sublinear")) {
			o.sublinear_tf = true;
			continue;
		}
		a++;
		if (!strcmp(k, "--word"))
			parse_range(argv[a], &o.word_min, &o.word_max);
		else if (!strcmp(k, "--char"))
			parse_range(argv[a], &o.char_min, &o.char_max);
		else if (!strcmp(k, "--stem"))
			o.stem = !strcmp(val, "auto")	   ? TEXT_STEM_AUTO
				 : !strcmp(val, "english") ? TEXT_STEM_ENGLISH
				 : !strcmp(val, "russian") ? TEXT_STEM_RUSSIAN
							   : TEXT_STEM_NONE;
		else if (parse_double(val, (size_t)-1, &x, false) == 0) {
			if (!strcmp(k, "--min-df"))
				o.min_df = x;
			else if (!strcmp(k, "--max-features"))
				o.max_features = (size_t)x;
			else if (!strcmp(k, "--C"))
				so.C = x;
			else if (!strcmp(k, "--tol"))
				so.tol = x;
			else if (!strcmp(k, "--max-iter"))
				so.max_iter = (int)x;
			else if (!strcmp(k, "--threads"))
				so.threads = (int)x;
		} else {
			fprintf(stderr, "bad option %s\n", k);
			return 2;
		}
	}
	struct corpus tr;
	read_corpus(argv[2], &tr);
	struct tfidf v;
	struct csr X;
	tfidf_init(&v);
	if (!strcmp(mode, "dump")) {
		if (tfidf_fit_transform(&v, &o, (const char *const *)tr.text, tr.n, &X, &e) < 0) {
			fprintf(stderr, "error: %s\n", e.msg);
			return 1;
		}
		for (size_t i = 0; i < X.nrows; i++)
			for (size_t p = X.indptr[i]; p < X.indptr[i + 1]; p++) {
				int bi;
				const char *t = tfidf_term(&v, X.indices[p], &bi);
				printf("%zu\t%c\t%s\t%.17g\n", i, bi ? 'c' : 'w', t, X.data[p]);
			}
		return 0;
	}
	struct corpus te;
	read_corpus(argv[3], &te);
	char **names = NULL;
	size_t k = 0;
	int *y = xmallocarray(tr.n, sizeof(*y));
	for (size_t i = 0; i < tr.n; i++)
		y[i] = label_index(&names, &k, tr.label[i]);
	double t0 = now();
	if (tfidf_fit_transform(&v, &o, (const char *const *)tr.text, tr.n, &X, &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	double t1 = now();
	double *W = xmallocarray(k * (X.ncols + 1), sizeof(*W));
	struct linsvm_info info;
	if (linsvm_fit(&X, y, k, &so, W, &info, &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	double t2 = now();
	struct csr T;
	if (tfidf_transform(&v, (const char *const *)te.text, te.n, &T, &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	size_t correct = 0, d1 = X.ncols + 1;
	for (size_t i = 0; i < te.n; i++) {
		size_t best = 0;
		double bv = -1e300;
		for (size_t c = 0; c < k; c++) {
			double s = csr_row_dot(&T, i, W + c * d1) + W[c * d1 + X.ncols];
			if (s > bv)
				bv = s, best = c;
		}
		correct += !strcmp(names[best], te.label[i]);
	}
	double t3 = now();
	printf("features %zu nnz %zu iter %d unconverged %d\n", X.ncols, X.nnz, info.max_iter_used,
	       info.unconverged);
	printf("fit_seconds %.3f (tfidf %.3f, svm %.3f)\n", t2 - t0, t1 - t0, t2 - t1);
	printf("accuracy %.4f\n", (double)correct / (double)te.n);
	printf("predict_seconds %.3f docs_per_second %.0f\n", t3 - t2, (double)te.n / (t3 - t2));
	return 0;
}
