/* Unit tests of the logreg model kind against scikit-learn (reference numbers in logreg_ref.h,
 * produced by tests/ref/logreg_sklearn.py), plus params, save/load and warm start. */
#include <math.h>
#include <pthread.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "models/model.h"
#include "store/safetensors.h"
#include "check.h"
#include "model_bytes.h"
#include "logreg_ref.h"

extern const struct model_kind model_logreg;

/* A minimal reader of the testdata CSVs (numbers, then a label in the last column); the real
 * readers live in lib/io and have their own tests. */
static char **split(char *line, size_t *n)
{
	char **v = NULL;
	size_t alloc = 0;
	*n = 0;
	line[strcspn(line, "\r\n")] = 0;
	for (char *p = line;; p++) {
		char *q = strchr(p, ',');
		ALLOC_GROW(v, *n + 1, alloc);
		v[(*n)++] = p;
		if (!q)
			break;
		*q = 0;
		p = q;
	}
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_csv(struct dataset *ds, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[8192], **labels = NULL;
	size_t nf, alloc = 0, lalloc = 0;

	dataset_init(ds);
	if (!fp || !fgets(line, sizeof(line), fp)) {
		printf("not ok - cannot read %s\n", path);
		exit(1);
	}
	char **h = split(line, &nf);
	ds->d = nf - 1;
	ds->features = xcalloc(ds->d, sizeof(char *));
	for (size_t j = 0; j < ds->d; j++)
		ds->features[j] = xstrdup(h[j]);
	free(h);
	while (fgets(line, sizeof(line), fp)) {
		size_t m;
		char **f = split(line, &m);
		if (m != nf) {
			free(f);
			continue;
		}
		ALLOC_GROW(ds->X, (ds->n + 1) * ds->d, alloc);
		for (size_t j = 0; j < ds->d; j++)
			if (parse_double(f[j], (size_t)-1, &ds->X[ds->n * ds->d + j], false) < 0)
				printf("not ok - %s: bad number %s\n", path, f[j]);
		ALLOC_GROW(labels, ds->n + 1, lalloc);
		labels[ds->n++] = xstrdup(f[nf - 1]);
		free(f);
	}
	fclose(fp);
	/* Classes sorted bytewise, as the dataset loader does for non-numeric labels. */
	char **sorted = xmallocarray(ds->n, sizeof(char *));
	memcpy(sorted, labels, ds->n * sizeof(char *));
	qsort(sorted, ds->n, sizeof(char *), cmp_str);
	ds->classes = xcalloc(ds->n, sizeof(char *));
	for (size_t i = 0; i < ds->n; i++)
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
			ds->classes[ds->k++] = xstrdup(sorted[i]);
	ds->y = xmallocarray(ds->n, sizeof(int));
	for (size_t i = 0; i < ds->n; i++) {
		for (size_t c = 0; c < ds->k; c++)
			if (!strcmp(labels[i], ds->classes[c]))
				ds->y[i] = (int)c;
		free(labels[i]);
	}
	free(labels);
	free(sorted);
}

static char **copy_strings(char *const *v, size_t n);

/* The columns of src named in names[0..m). */
static void select_columns(struct dataset *dst, const struct dataset *src, const char *const *names,
			   size_t m)
{
	dataset_init(dst);
	dst->n = src->n;
	dst->d = m;
	dst->k = src->k;
	dst->classes = copy_strings(src->classes, src->k);
	dst->y = xmallocarray(src->n, sizeof(int));
	memcpy(dst->y, src->y, src->n * sizeof(int));
	dst->features = xcalloc(m, sizeof(char *));
	dst->X = xmallocarray(src->n * m, sizeof(double));
	for (size_t c = 0; c < m; c++) {
		size_t col = 0;
		for (size_t j = 0; j < src->d; j++)
			if (!strcmp(src->features[j], names[c]))
				col = j;
		dst->features[c] = xstrdup(names[c]);
		for (size_t i = 0; i < src->n; i++)
			dst->X[i * m + c] = src->X[i * src->d + col];
	}
}

static char **copy_strings(char *const *v, size_t n)
{
	char **out = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static struct model *fit_threads(const struct dataset *ds, const char *json,
				 const struct model *warm, int threads)
{
	struct err e = ERR_INIT;
	struct fit_ctx ctx = {.seed = 1, .threads = threads, .quiet = true};
	struct model *m = model_new(&model_logreg);

	if (params_set_json(&m->params, "logreg", json, &e) < 0)
		printf("not ok - params %s: %s\n", json, e.msg);
	m->d = ds->d;
	m->features = copy_strings(ds->features, ds->d);
	m->k = ds->k;
	m->classes = copy_strings(ds->classes, ds->k);
	if (model_logreg.fit(m, ds, warm, &ctx, &e) < 0) {
		printf("not ok - fit %s: %s\n", json, e.msg);
		model_free(&m);
	}
	return m;
}

static struct model *fit(const struct dataset *ds, const char *json, const struct model *warm)
{
	return fit_threads(ds, json, warm, 0);
}

/* src repeated reps times: the same optimum as src with C divided by reps, through the
 * chunked, threaded evaluation that large inputs take. */
static void replicate(struct dataset *dst, const struct dataset *src, size_t reps)
{
	size_t *idx = xmallocarray(src->n * reps, sizeof(*idx));
	for (size_t i = 0; i < src->n * reps; i++)
		idx[i] = i % src->n;
	dataset_subset(dst, src, idx, src->n * reps);
	free(idx);
}

static void save_coef(const struct model *m, double *out, size_t len)
{
	struct st_file f;
	struct err e = ERR_INIT;
	st_init(&f);
	model_logreg.save(m, &f, &e);
	const struct st_tensor *t = st_get(&f, "coef", ST_F64, 2, &e);
	memset(out, 0, len * sizeof(double));
	if (t && t->nbytes == len * sizeof(double))
		memcpy(out, t->data, t->nbytes);
	st_release(&f);
}

static double info_num(const struct model *m, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(m->info, key);
	if (cJSON_IsBool(it))
		return cJSON_IsTrue(it);
	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static double *predict_all(const struct model *m, const struct dataset *ds)
{
	struct err e = ERR_INIT;
	struct batch b = dataset_batch(ds);
	double *p = xmallocarray(ds->n, m->k * sizeof(double));
	if (model_logreg.predict(m, &b, p, &e) < 0)
		printf("not ok - predict: %s\n", e.msg);
	return p;
}

/* Compares a fit with a reference: coefficients (k' x d) and intercepts through the saved
 * tensors, probabilities of the given rows, training accuracy. */
static void compare(const char *name, const struct model *m, const struct dataset *ds,
		    const double *coef, const double *icpt, const double *proba, const int *rows,
		    size_t nrows, double acc, double ctol, double ptol)
{
	struct st_file f;
	struct err e = ERR_INIT;
	size_t kp = m->k == 2 ? 1 : m->k, d = m->d;
	double cerr = 0, ierr = 0, perr = 0, psum = 0;
	size_t correct = 0;

	st_init(&f);
	check(model_logreg.save(m, &f, &e) == 0, "%s: save", name);
	const struct st_tensor *tc = st_get(&f, "coef", ST_F64, 2, &e);
	const struct st_tensor *ti = st_get(&f, "intercept", ST_F64, 1, &e);
	check(tc && ti && tc->shape[0] == kp && tc->shape[1] == d && ti->shape[0] == kp,
	      "%s: coef is %zu x %zu", name, kp, d);
	if (!tc || !ti)
		return;
	for (size_t i = 0; i < kp * d; i++) {
		double v;
		memcpy(&v, (const char *)tc->data + i * 8, 8);
		/* relative error, measured against the largest coefficient for tiny ones */
		cerr = fmax(cerr, fabs(v - coef[i]) / fmax(fabs(coef[i]), 1e-2));
	}
	for (size_t c = 0; c < kp; c++) {
		double v;
		memcpy(&v, (const char *)ti->data + c * 8, 8);
		ierr = fmax(ierr, fabs(v - icpt[c]) / fmax(fabs(icpt[c]), 1e-2));
	}
	check(cerr <= ctol, "%s: coefficients within %g relative (max %.3g)", name, ctol, cerr);
	check(ierr <= ctol, "%s: intercepts within %g relative (max %.3g)", name, ctol, ierr);
	st_release(&f);

	double *p = predict_all(m, ds);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < m->k; c++)
			perr = fmax(perr, fabs(p[rows[r] * m->k + c] - proba[r * m->k + c]));
	check(perr <= ptol, "%s: probabilities of %zu rows within %g (max %.3g)", name, nrows, ptol,
	      perr);
	for (size_t i = 0; i < ds->n; i++) {
		size_t best = 0;
		double s = 0;
		for (size_t c = 0; c < m->k; c++) {
			s += p[i * m->k + c];
			if (p[i * m->k + c] > p[i * m->k + best])
				best = c;
		}
		psum = fmax(psum, fabs(s - 1));
		correct += (int)best == ds->y[i];
	}
	check(psum < 1e-12, "%s: probabilities sum to 1", name);
	check((double)correct / (double)ds->n == acc, "%s: training accuracy %.6f equals sklearn's",
	      name, (double)correct / (double)ds->n);
	free(p);
}

/* The zero coefficients of m are exactly those of ref (n of them). */
static void check_sparsity(const char *name, const struct model *m, const double *ref, size_t n)
{
	struct st_file f;
	struct err e = ERR_INIT;
	size_t same = 0, zeros = 0;

	st_init(&f);
	model_logreg.save(m, &f, &e);
	const struct st_tensor *t = st_get(&f, "coef", ST_F64, 2, &e);
	for (size_t j = 0; t && j < n; j++) {
		double v;
		memcpy(&v, (const char *)t->data + j * 8, 8);
		same += (v == 0) == (ref[j] == 0);
		zeros += v == 0;
	}
	check(same == n, "%s: same sparsity pattern as sklearn (%zu exact zeros)", name, zeros);
	st_release(&f);
}

static void check_param_error(const char *json, const char *want)
{
	struct params p;
	struct err e = ERR_INIT;
	params_init(&p, model_logreg.params);
	int rc = params_set_json(&p, "logreg", json, &e);
	check(rc < 0 && e.code == DYN_EUSAGE && !strcmp(e.msg, want), "%s rejected: %s", json,
	      e.msg);
	params_release(&p);
}

struct predict_job {
	const struct model *m;
	const struct dataset *ds;
	double *p;
};

static void *predict_thread(void *arg)
{
	struct predict_job *j = arg;
	struct err e = ERR_INIT;
	struct batch b = dataset_batch(j->ds);
	for (int rep = 0; rep < 5; rep++)
		model_logreg.predict(j->m, &b, j->p, &e);
	return NULL;
}

int main(void)
{
	struct dataset bc, iris, sub;
	struct model *m;

	load_csv(&bc, "../testdata/breast_cancer.csv");
	load_csv(&iris, "../testdata/iris.csv");
	check(bc.n == 569 && bc.d == 30 && bc.k == 2 && !strcmp(bc.classes[1], "malignant"),
	      "breast cancer data: 569 x 30, classes benign/malignant");
	check(iris.n == 150 && iris.d == 4 && iris.k == 3, "iris data: 150 x 4, 3 classes");

	/* Tight tolerances so that both sides are at the optimum. */
#define TIGHT "\"tol\": 1e-10, \"max_iter\": 10000"
	m = fit(&bc, "{\"C\": 1, " TIGHT "}", NULL);
	compare("binary C=1", m, &bc, bc_c1_coef, bc_c1_intercept, bc_c1_proba, bc_rows, 10,
		bc_c1_accuracy, 1e-5, 1e-6);
	check(info_num(m, "converged") == 1, "binary C=1: converged in %g iterations",
	      info_num(m, "iterations"));
	model_free(&m);

	m = fit(&bc, "{\"C\": 0.01, " TIGHT "}", NULL);
	compare("binary C=0.01", m, &bc, bc_c001_coef, bc_c001_intercept, bc_c001_proba, bc_rows,
		10, bc_c001_accuracy, 1e-5, 1e-6);
	model_free(&m);

	m = fit(&iris, "{\"C\": 1, " TIGHT "}", NULL);
	compare("multinomial C=1", m, &iris, iris_c1_coef, iris_c1_intercept, iris_c1_proba,
		iris_rows, 10, iris_c1_accuracy, 1e-5, 1e-6);
	model_free(&m);

	m = fit(&bc, "{\"C\": 1, \"class_weight\": \"balanced\", " TIGHT "}", NULL);
	compare("balanced", m, &bc, bc_bal_coef, bc_bal_intercept, bc_bal_proba, bc_rows, 10,
		bc_bal_accuracy, 1e-5, 1e-6);
	model_free(&m);

	m = fit(&bc, "{\"C\": 1, \"fit_intercept\": false, " TIGHT "}", NULL);
	compare("no intercept", m, &bc, bc_noint_coef, bc_noint_intercept, bc_noint_proba, bc_rows,
		10, bc_noint_accuracy, 1e-5, 1e-6);
	model_free(&m);

	select_columns(&sub, &bc, subset_features, ARRAY_SIZE(subset_features));
	m = fit(&sub, "{\"penalty\": \"none\", " TIGHT "}", NULL);
	compare("penalty none", m, &sub, bc_none_coef, bc_none_intercept, bc_none_proba, bc_rows,
		10, bc_none_accuracy, 1e-5, 1e-6);
	model_free(&m);

	m = fit(&bc, "{\"C\": 0.1, \"penalty\": \"l1\", " TIGHT "}", NULL);
	compare("l1 C=0.1", m, &bc, bc_l1_coef, bc_l1_intercept, bc_l1_proba, bc_rows, 10,
		bc_l1_accuracy, 1e-4, 1e-5);
	check_sparsity("l1", m, bc_l1_coef, 30);
	model_free(&m);

	m = fit(&iris, "{\"C\": 0.5, \"penalty\": \"l1\", " TIGHT "}", NULL);
	compare("multinomial l1 C=0.5", m, &iris, iris_l1_coef, iris_l1_intercept, iris_l1_proba,
		iris_rows, 10, iris_l1_accuracy, 1e-4, 1e-5);
	check_sparsity("multinomial l1", m, iris_l1_coef, 12);
	model_free(&m);

	/* Separable data without a penalty has no minimizer: the fit still ends (on max_iter or
	 * on the relative-decrease test, as scikit-learn's lbfgs) with finite weights. */
	m = fit(&bc, "{\"penalty\": \"none\", \"max_iter\": 200}", NULL);
	{
		double *p = predict_all(m, &bc), bad = 0;
		for (size_t i = 0; i < bc.n * 2; i++)
			bad += !isfinite(p[i]);
		check(m && isfinite(info_num(m, "objective")) && info_num(m, "iterations") <= 200 &&
			  bad == 0,
		      "separable, no penalty: ends with finite weights (objective %g, %g "
		      "iterations)",
		      info_num(m, "objective"), info_num(m, "iterations"));
		free(p);
	}
	model_free(&m);

	/* Large inputs: chunks of rows over threads, bit-identical whatever the thread count. */
	{
		struct dataset big;
		double c1[30], c2[30], c3[30];
		replicate(&big, &bc, 18);
		struct model *m1 =
		    fit_threads(&big, "{\"C\": 0.05555555555555555, " TIGHT "}", NULL, 1);
		struct model *m3 =
		    fit_threads(&big, "{\"C\": 0.05555555555555555, " TIGHT "}", NULL, 3);
		compare("binary, 18 copies, C=1/18", m3, &big, bc_c1_coef, bc_c1_intercept,
			bc_c1_proba, bc_rows, 10, bc_c1_accuracy, 1e-5, 1e-6);
		struct model *m2 = fit_threads(&big, "{\"max_iter\": 20}", NULL, 2);
		struct model *m5 = fit_threads(&big, "{\"max_iter\": 20}", NULL, 5);
		save_coef(m2, c2, 30);
		save_coef(m5, c3, 30);
		save_coef(m1, c1, 30);
		double c1b[30];
		save_coef(m3, c1b, 30);
		check(!memcmp(c1, c1b, sizeof(c1)) && !memcmp(c2, c3, sizeof(c2)) &&
			  info_num(m2, "objective") == info_num(m5, "objective"),
		      "1, 2, 3 and 5 threads give bit-identical fits");
		model_free(&m1);
		model_free(&m2);
		model_free(&m3);
		model_free(&m5);
		dataset_release(&big);

		replicate(&big, &iris, 40);
		m = fit_threads(&big, "{\"C\": 0.025, " TIGHT "}", NULL, 2);
		compare("multinomial, 40 copies, C=1/40", m, &big, iris_c1_coef, iris_c1_intercept,
			iris_c1_proba, iris_rows, 10, iris_c1_accuracy, 1e-5, 1e-6);
		model_free(&m);
		dataset_release(&big);
	}

	/* The services' configuration is accepted; anything else is a usage error. */
	{
		struct params p;
		struct err e = ERR_INIT;
		params_init(&p, model_logreg.params);
		check(params_set_json(&p, "logreg", "{\"C\": 10, \"solver\": \"lbfgs\"}", &e) == 0,
		      "{\"C\": 10, \"solver\": \"lbfgs\"} accepted");
		params_release(&p);
	}
	check_param_error("{\"solver\": \"saga\"}",
			  "hyperparameter \"solver\" of logreg: expected one of auto, lbfgs, got "
			  "\"saga\"");
	check_param_error("{\"C\": 0}",
			  "hyperparameter \"C\" of logreg: expected a number > 0, got \"0\"");
	check_param_error("{\"penalty\": \"elasticnet\"}",
			  "hyperparameter \"penalty\" of logreg: expected one of l2, l1, none, got "
			  "\"elasticnet\"");
	check_param_error("{\"max_iter\": 0.5}", "hyperparameter \"max_iter\" of logreg: expected "
						 "an integer from 1 to 1000000, got \"0.5\"");
	check_param_error("{\"class_weight\": \"auto\"}",
			  "hyperparameter \"class_weight\" of logreg: expected one of none, "
			  "balanced, got \"auto\"");

	/* Round trip through the safetensors image: identical probabilities. */
	{
		struct st_file f, g;
		struct strbuf img = STRBUF_INIT;
		struct err e = ERR_INIT;
		struct model *back = model_new(&model_logreg);
		m = fit(&iris, "{}", NULL);
		st_init(&f);
		st_init(&g);
		model_logreg.save(m, &f, &e);
		st_serialize(&f, &img);
		back->d = m->d;
		back->features = copy_strings(m->features, m->d);
		back->k = m->k;
		back->classes = copy_strings(m->classes, m->k);
		check(st_parse(&g, img.buf, img.len, &e) == 0 &&
			  model_logreg.load(back, &g, &e) == 0,
		      "save/load round trip%s%s", *e.msg ? ": " : "", e.msg);
		double *p1 = predict_all(m, &iris), *p2 = predict_all(back, &iris);
		check(memcmp(p1, p2, iris.n * 3 * sizeof(double)) == 0,
		      "loaded model gives identical probabilities");
		{
			/* The solver's info travels in the file's metadata (model_save/model_load).
			 */
			void *buf = NULL;
			size_t len = 0;
			struct model *whole = NULL;
			check(model_to_bytes(m, &buf, &len, &e) == 0 &&
				  model_from_bytes(&whole, buf, len, "test", &e) == 0 &&
				  info_num(whole, "iterations") == info_num(m, "iterations"),
			      "info survives save/load%s%s", *e.msg ? ": " : "", e.msg);
			model_free(&whole);
			free(buf);
		}
		free(p1);

		/* A shape that does not match the model is refused, naming the tensor. */
		double bad[3 * 3] = {0};
		size_t shape[2] = {3, 3};
		st_add(&g, "coef", ST_F64, 2, shape, bad);
		check(model_logreg.load(back, &g, &e) < 0 &&
			  !strcmp(e.msg, "tensor \"coef\": expected shape 3 x 4, got 3 x 3"),
		      "wrong coef shape refused: %s", e.msg);
		double sc[4] = {1, 1, 0, 1};
		size_t four = 4;
		st_add(&g, "coef", ST_F64, 2, (size_t[]){3, 4}, (double[12]){0});
		st_add(&g, "scale", ST_F64, 1, &four, sc);
		check(model_logreg.load(back, &g, &e) < 0 &&
			  !strcmp(e.msg, "tensor \"scale\": invalid value 0 at 2"),
		      "zero scale refused: %s", e.msg);
		p1 = predict_all(back, &iris);
		check(memcmp(p1, p2, iris.n * 3 * sizeof(double)) == 0,
		      "failed load leaves the model as it was");
		free(p1);
		free(p2);
		st_release(&f);
		st_release(&g);
		strbuf_release(&img);
		model_free(&back);
		model_free(&m);
	}

	/* The same through model_save / model_load (the kinds table and dyn's metadata). */
	{
		struct err e = ERR_INIT;
		struct model *back = NULL;
		void *buf = NULL;
		size_t len = 0;
		m = fit(&bc, "{\"C\": 0.5, \"class_weight\": \"balanced\"}", NULL);
		check(model_to_bytes(m, &buf, &len, &e) == 0 &&
			  model_from_bytes(&back, buf, len, "bc.safetensors", &e) == 0,
		      "model_save / model_load%s%s", *e.msg ? ": " : "", e.msg);
		if (back) {
			double *p1 = predict_all(m, &bc), *p2 = predict_all(back, &bc);
			check(back->kind == &model_logreg &&
				  params_num(&back->params, "C") == 0.5 &&
				  !memcmp(p1, p2, bc.n * 2 * sizeof(double)),
			      "model_load gives the same kind, params and probabilities");
			free(p1);
			free(p2);
		}
		free(buf);
		model_free(&back);
		model_free(&m);
	}

	/* Concurrent predictions on one model agree with a single-threaded one. */
	{
		pthread_t th[2];
		struct predict_job jobs[2];
		m = fit(&bc, "{}", NULL);
		double *ref = predict_all(m, &bc);
		for (int t = 0; t < 2; t++) {
			jobs[t].m = m;
			jobs[t].ds = &bc;
			jobs[t].p = xmallocarray(bc.n * 2, sizeof(double));
			pthread_create(&th[t], NULL, predict_thread, &jobs[t]);
		}
		for (int t = 0; t < 2; t++)
			pthread_join(th[t], NULL);
		check(!memcmp(ref, jobs[0].p, bc.n * 2 * sizeof(double)) &&
			  !memcmp(ref, jobs[1].p, bc.n * 2 * sizeof(double)),
		      "predict is safe from two threads");
		free(jobs[0].p);
		free(jobs[1].p);
		free(ref);
		model_free(&m);
	}

	/* Warm start: a model fitted on the first 400 rows brings the fit on all rows closer. */
	{
		size_t idx[400];
		struct dataset part;
		for (size_t i = 0; i < 400; i++)
			idx[i] = i;
		dataset_subset(&part, &bc, idx, 400);
		struct model *first = fit(&part, "{\"tol\": 1e-6, \"max_iter\": 1000}", NULL);
		struct model *cold = fit(&bc, "{\"tol\": 1e-6, \"max_iter\": 1000}", NULL);
		struct model *hot = fit(&bc, "{\"tol\": 1e-6, \"max_iter\": 1000}", first);
		check(info_num(hot, "warm_start") == 1 &&
			  info_num(hot, "iterations") < info_num(cold, "iterations"),
		      "warm start: %g iterations instead of %g", info_num(hot, "iterations"),
		      info_num(cold, "iterations"));
		check_close(info_num(hot, "objective"), info_num(cold, "objective"), 1e-9,
			    "warm start reaches the same objective");
		struct model *again = fit(&bc, "{\"tol\": 1e-6, \"max_iter\": 1000}", cold);
		check(info_num(again, "iterations") <= 1,
		      "warm start from the solution: %g iterations", info_num(again, "iterations"));
		struct model *other = fit(&iris, "{}", cold);
		check(other && info_num(other, "warm_start") == 0,
		      "warm start from a model of other features is not used");
		model_free(&first);
		model_free(&cold);
		model_free(&hot);
		model_free(&again);
		model_free(&other);
		dataset_release(&part);
	}

	/* Not converging is reported in info, not as a failure. */
	m = fit(&bc, "{\"max_iter\": 2}", NULL);
	{
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(m->info, "warning");
		check(m && info_num(m, "converged") == 0 && info_num(m, "iterations") == 2 &&
			  cJSON_IsString(w) && strstr(w->valuestring, "max_iter=2"),
		      "max_iter reached: converged false, warning \"%s\"",
		      cJSON_IsString(w) ? w->valuestring : "");
	}
	model_free(&m);

	/* A constant column gets weight 0 and changes no probability. */
	{
		struct dataset wide;
		dataset_init(&wide);
		wide.n = iris.n;
		wide.d = 5;
		wide.k = 3;
		wide.features = xcalloc(5, sizeof(char *));
		for (size_t j = 0; j < 5; j++)
			wide.features[j] = xstrdup(j < 4 ? iris.features[j] : "const");
		wide.classes = copy_strings(iris.classes, 3);
		wide.y = xmallocarray(iris.n, sizeof(int));
		memcpy(wide.y, iris.y, iris.n * sizeof(int));
		wide.X = xmallocarray(iris.n * 5, sizeof(double));
		for (size_t i = 0; i < iris.n; i++) {
			memcpy(wide.X + i * 5, iris.X + i * 4, 4 * sizeof(double));
			wide.X[i * 5 + 4] = 7.25;
		}
		struct model *a = fit(&iris, "{\"tol\": 1e-10}", NULL);
		struct model *b = fit(&wide, "{\"tol\": 1e-10}", NULL);
		double *pa = predict_all(a, &iris), *pb = predict_all(b, &wide), err = 0;
		for (size_t i = 0; i < iris.n * 3; i++)
			err = fmax(err, fabs(pa[i] - pb[i]));
		check(err < 1e-7, "constant column changes nothing (max difference %.3g)", err);
		free(pa);
		free(pb);
		model_free(&a);
		model_free(&b);
		dataset_release(&wide);
	}

	/* Values too large to standardize are refused, naming the column. */
	{
		struct dataset big;
		struct err e = ERR_INIT;
		struct fit_ctx ctx = {.seed = 1, .quiet = true};
		size_t idx[4] = {0, 1, 50, 51};
		dataset_subset(&big, &iris, idx, 4);
		big.X[1 * 4 + 2] = 1e300;
		big.X[2 * 4 + 2] = -1e300;
		m = model_new(&model_logreg);
		check(model_logreg.fit(m, &big, NULL, &ctx, &e) < 0 &&
			  !strcmp(e.msg, "logreg: column \"petal_length\": values not finite or "
					 "too large to standardize"),
		      "overflowing column refused: %s", e.msg);
		model_free(&m);
		dataset_release(&big);
	}

	/* One class is refused with a message. */
	{
		struct dataset one;
		struct err e = ERR_INIT;
		struct fit_ctx ctx = {.seed = 1, .quiet = true};
		size_t idx[3] = {0, 1, 2};
		dataset_subset(&one, &iris, idx, 3);
		one.k = 1;
		m = model_new(&model_logreg);
		check(model_logreg.fit(m, &one, NULL, &ctx, &e) < 0 &&
			  !strcmp(e.msg, "logreg: the training data has 1 class; at least two "
					 "are needed"),
		      "one class refused: %s", e.msg);
		one.k = 3;
		model_free(&m);
		dataset_release(&one);
	}

	dataset_release(&sub);
	dataset_release(&bc);
	dataset_release(&iris);
	return check_done();
}
