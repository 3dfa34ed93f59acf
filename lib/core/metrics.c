/* Classification metrics with scikit-learn's definitions (precision of a never-predicted class
 * is 0, as sklearn's zero_division default reports after its warning). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "base/par.h"
#include "core/metrics.h"

/* An order-preserving map of scores to integers; -0 is taken as +0, so that equal scores have
 * equal keys. (Scores are not NaN.) */
static uint64_t score_key(double s)
{
	uint64_t u;
	if (s == 0)
		s = 0;
	memcpy(&u, &s, sizeof(u));
	return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

/* Sorts a[0, n) ascending (tmp: room for n), a byte at a time from the lowest, skipping the
 * bytes all keys share (the sign and exponent of probabilities, mostly). */
static void sort_keys(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t(*cnt)[256] = xcalloc(8, sizeof(*cnt));
	uint64_t *src = a, *dst = tmp;

	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 8; d++)
			cnt[d][(a[i] >> (8 * d)) & 255]++;
	for (int d = 0; d < 8 && n > 0; d++) {
		size_t pos = 0;
		if (cnt[d][(src[0] >> (8 * d)) & 255] == n)
			continue;
		for (int b = 0; b < 256; b++) {
			size_t c = cnt[d][b];
			cnt[d][b] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[d][(src[i] >> (8 * d)) & 255]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(cnt);
}

/* ROC AUC of keys v[0, np) of positives and v[np, n) of negatives (both reordered; tmp: room
 * for n). The Mann-Whitney U, sum over positives of the negatives below plus half those tied,
 * is counted exactly in integers: the same number as a sum of average ranks in doubles (exact
 * too below 2^26 rows). */
static double auc_of_keys(uint64_t *v, size_t np, size_t n, uint64_t *tmp)
{
	const uint64_t *neg = v + np;
	size_t nn = n - np, i, i2, j = 0, j2;
	uint64_t u2 = 0; /* 2 U */

	if (np == 0 || nn == 0)
		return NAN;
	sort_keys(v, tmp, np);
	sort_keys(v + np, tmp, nn);
	for (i = 0; i < np; i = i2) {
		for (i2 = i + 1; i2 < np && v[i2] == v[i]; i2++)
			;
		while (j < nn && neg[j] < v[i])
			j++;
		for (j2 = j; j2 < nn && neg[j2] == v[i]; j2++)
			;
		u2 += (uint64_t)(i2 - i) * (2 * (uint64_t)j + (j2 - j));
		j = j2;
	}
	return ((double)u2 / 2) / ((double)np * (double)nn);
}

/* Keys of scores score[i * stride] into v: positives (y[i] == cls, or y[i] != 0 when cls < 0)
 * first. Returns their number. */
static size_t split_keys(const int *y, int cls, const double *score, size_t stride, size_t n,
			 uint64_t *v)
{
	size_t np = 0, nn = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = score_key(score[i * stride]);
		if (cls < 0 ? y[i] != 0 : y[i] == cls)
			v[np++] = key;
		else
			v[n - 1 - nn++] = key;
	}
	return np;
}

double metrics_roc_auc(const int *y, const double *score, size_t n)
{
	uint64_t *v = xmallocarray(n ? n : 1, 2 * sizeof(*v));
	double a = auc_of_keys(v, split_keys(y, -1, score, 1, n, v), n, v + n);
	free(v);
	return a;
}

/* One-vs-rest AUCs of classes [first, last) of proba (n x k). */
struct auc_job {
	const int *y;
	const double *proba;
	size_t n, k, first, last;
	double *auc;
};

static void *auc_run(void *arg)
{
	const struct auc_job *J = arg;
	uint64_t *v = xmallocarray(J->n ? J->n : 1, 2 * sizeof(*v));
	for (size_t c = J->first; c < J->last; c++) {
		size_t np = split_keys(J->y, (int)c, J->proba + c, J->k, J->n, v);
		J->auc[c] = auc_of_keys(v, np, J->n, v + J->n);
	}
	free(v);
	return NULL;
}

/* Below this many scores per thread, a thread costs more than it saves. */
#define AUC_MIN_PER_THREAD 65536

/* The one-vs-rest AUC of every class (auc: k), the classes shared out between threads. */
static void auc_per_class(const int *y, const double *proba, size_t n, size_t k, double *auc)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus;
	if (nt > k)
		nt = k;
	if (nt > n * k / AUC_MIN_PER_THREAD)
		nt = n * k / AUC_MIN_PER_THREAD;
	if (nt < 1)
		nt = 1;
	struct auc_job *job = xcalloc(nt, sizeof(*job));
	for (size_t t = 0; t < nt; t++)
		job[t] = (struct auc_job){y, proba, n, k, k * t / nt, k * (t + 1) / nt, auc};
	par_run(auc_run, job, sizeof(*job), nt);
	free(job);
}

static void add_num(cJSON *obj, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

static cJSON *prf(double p, double r, double f, double support)
{
	cJSON *o = cJSON_CreateObject();
	add_num(o, "precision", p);
	add_num(o, "recall", r);
	add_num(o, "f1", f);
	cJSON_AddNumberToObject(o, "support", support);
	return o;
}

cJSON *metrics_report(const int *y, const double *proba, size_t n, size_t k, char *const *classes)
{
	cJSON *rep = cJSON_CreateObject(), *per, *cm;
	double *conf = xcalloc(k * k, sizeof(double));
	int *bin = xmallocarray(n ? n : 1, sizeof(int));
	double *col = xmallocarray(n ? n : 1, sizeof(double));
	double correct = 0, ll = 0, auc_sum = 0;
	double mp = 0, mr = 0, mf = 0, wp = 0, wr = 0, wf = 0;
	size_t i, c, auc_n = 0;

	for (i = 0; i < n; i++) {
		const double *p = proba + i * k;
		size_t best = 0;
		double pt;
		for (c = 1; c < k; c++)
			if (p[c] > p[best])
				best = c;
		conf[(size_t)y[i] * k + best] += 1;
		correct += best == (size_t)y[i];
		pt = fmin(fmax(p[y[i]], 1e-15), 1 - 1e-15);
		ll -= log(pt);
	}
	cJSON_AddNumberToObject(rep, "n", (double)n);
	add_num(rep, "accuracy", n ? correct / (double)n : NAN);
	if (k == 2) {
		for (i = 0; i < n; i++) {
			bin[i] = y[i] == 1;
			col[i] = proba[i * 2 + 1];
		}
		add_num(rep, "roc_auc", metrics_roc_auc(bin, col, n));
	} else {
		double *auc = xmallocarray(k, sizeof(*auc));
		auc_per_class(y, proba, n, k, auc);
		for (c = 0; c < k; c++)
			if (isfinite(auc[c])) {
				auc_sum += auc[c];
				auc_n++;
			}
		free(auc);
		add_num(rep, "roc_auc", auc_n == k ? auc_sum / (double)k : NAN);
	}
	add_num(rep, "log_loss", n ? ll / (double)n : NAN);

	per = cJSON_CreateObject();
	for (c = 0; c < k; c++) {
		double tp = conf[c * k + c], pred = 0, sup = 0, p, r, f;
		for (i = 0; i < k; i++) {
			pred += conf[i * k + c];
			sup += conf[c * k + i];
		}
		p = pred > 0 ? tp / pred : 0;
		r = sup > 0 ? tp / sup : 0;
		f = p + r > 0 ? 2 * p * r / (p + r) : 0;
		cJSON_AddItemToObject(per, classes[c], prf(p, r, f, sup));
		mp += p / (double)k;
		mr += r / (double)k;
		mf += f / (double)k;
		if (n) {
			wp += p * sup / (double)n;
			wr += r * sup / (double)n;
			wf += f * sup / (double)n;
		}
	}
	cJSON_AddItemToObject(rep, "macro_avg", prf(mp, mr, mf, (double)n));
	cJSON_AddItemToObject(rep, "weighted_avg", prf(wp, wr, wf, (double)n));
	cJSON_AddItemToObject(rep, "per_class", per);
	cm = cJSON_CreateArray();
	for (c = 0; c < k; c++) {
		cJSON *row = cJSON_CreateArray();
		for (i = 0; i < k; i++)
			cJSON_AddItemToArray(row, cJSON_CreateNumber(conf[c * k + i]));
		cJSON_AddItemToArray(cm, row);
	}
	cJSON_AddItemToObject(rep, "confusion_matrix", cm);
	free(conf);
	free(bin);
	free(col);
	return rep;
}
