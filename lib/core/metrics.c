/* Classification metrics with scikit-learn's definitions (precision of a never-predicted class
 * is 0, as sklearn's zero_division default reports after its warning). */
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "core/metrics.h"

struct scored {
	double s;
	int pos;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
	return (x > y) - (x < y);
}

double metrics_roc_auc(const int *y, const double *score, size_t n)
{
	struct scored *v = xmallocarray(n ? n : 1, sizeof(*v));
	double npos = 0, nneg = 0, rank_sum = 0;
	size_t i = 0, j;
	for (i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].pos = y[i] != 0;
		npos += v[i].pos;
	}
	nneg = (double)n - npos;
	qsort(v, n, sizeof(*v), cmp_scored);
	/* Sum of the (average, for ties) ranks of the positives. */
	for (i = 0; i < n; i = j) {
		double avg, cnt = 0;
		for (j = i; j < n && v[j].s == v[i].s; j++)
			cnt += v[j].pos;
		avg = (double)(i + 1 + j) / 2.0;
		rank_sum += cnt * avg;
	}
	free(v);
	if (npos == 0 || nneg == 0)
		return NAN;
	return (rank_sum - npos * (npos + 1) / 2.0) / (npos * nneg);
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
		for (c = 0; c < k; c++) {
			double a;
			for (i = 0; i < n; i++) {
				bin[i] = (size_t)y[i] == c;
				col[i] = proba[i * k + c];
			}
			a = metrics_roc_auc(bin, col, n);
			if (isfinite(a)) {
				auc_sum += a;
				auc_n++;
			}
		}
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
