/* Classification metrics against scikit-learn 1.2.1. Reference numbers from:
 *   /usr/bin/python3 -c "from sklearn.metrics import *; import numpy as np; y=...; P=...;
 *     print(accuracy_score(y,P.argmax(1)), roc_auc_score(y,P,multi_class='ovr'), log_loss(y,P));
 *     print(precision_recall_fscore_support(y,P.argmax(1),average='macro'))  # and 'weighted'"
 * with y and P as below. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "base/base.h"
#include "core/metrics.h"

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	return x ? x->valuedouble : NAN;
}

/* The AUC as a sum of average ranks over a comparison sort (the definition metrics_roc_auc
 * computed before it counted in integers): the two must agree to the bit. */
struct ranked {
	double s;
	int pos;
};

static int cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->s, y = ((const struct ranked *)b)->s;
	return (x > y) - (x < y);
}

static double auc_by_ranks(const int *y, const double *score, size_t n)
{
	struct ranked *v = malloc(n * sizeof(*v));
	double npos = 0, rank_sum = 0;
	size_t i, j;
	for (i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].pos = y[i] != 0;
		npos += v[i].pos;
	}
	qsort(v, n, sizeof(*v), cmp_ranked);
	for (i = 0; i < n; i = j) {
		double cnt = 0;
		for (j = i; j < n && v[j].s == v[i].s; j++)
			cnt += v[j].pos;
		rank_sum += cnt * (double)(i + 1 + j) / 2.0;
	}
	free(v);
	if (npos == 0 || npos == (double)n)
		return NAN;
	return (rank_sum - npos * (npos + 1) / 2.0) / (npos * ((double)n - npos));
}

/* Random scores with many ties (few distinct values, signed zeros, values differing in the
 * last bit, negatives), against the rank sums; and the report's one-vs-rest AUC of a
 * 5-class problem against the mean of the per-class ones. */
static void test_auc_exact(void)
{
	enum { N = 5000, K = 5 };
	static int y[N], yc[N], bin[N];
	static double s[N], P[N * K], col[N];
	unsigned long r = 12345;
	int same = 1;
	for (int trial = 0; trial < 40; trial++) {
		size_t n = trial < 20 ? (size_t)(1 + trial * 7) : N;
		for (size_t i = 0; i < n; i++) {
			r = r * 6364136223846793005UL + 1442695040888963407UL;
			unsigned v = (unsigned)(r >> 33);
			y[i] = (v & 3) == 0;
			switch (trial % 4) {
			case 0: /* heavy ties */
				s[i] = (double)(v % 7) / 7;
				break;
			case 1: /* zeros of both signs, negatives, neighbours in the last bit */
				s[i] = v % 5 == 0   ? -0.0
				       : v % 5 == 1 ? 0.0
				       : v % 5 == 2 ? nextafter(0.5, 1)
				       : v % 5 == 3 ? 0.5
						    : -(double)(v % 1000) / 3;
				break;
			case 2: /* all equal */
				s[i] = 0.25;
				break;
			default: /* distinct, tiny to large */
				s[i] = ldexp((double)(v % 100000), (int)(v % 64) - 40);
				break;
			}
		}
		double a = metrics_roc_auc(y, s, n), b = auc_by_ranks(y, s, n);
		if (!(a == b || (isnan(a) && isnan(b)))) {
			printf("# trial %d: n %zu: %.17g, by ranks %.17g\n", trial, n, a, b);
			same = 0;
		}
	}
	check(same, "auc: the same number as the sum of average ranks, to the bit (40 cases)");

	double sum = 0;
	for (size_t i = 0; i < N; i++) {
		double tot = 0;
		r = r * 6364136223846793005UL + 1442695040888963407UL;
		yc[i] = (int)((r >> 33) % K);
		for (size_t c = 0; c < K; c++) {
			r = r * 6364136223846793005UL + 1442695040888963407UL;
			tot += P[i * K + c] =
			    (double)((r >> 33) % 50) + (c == (size_t)yc[i] ? 20 : 0);
		}
		for (size_t c = 0; c < K; c++)
			P[i * K + c] /= tot;
	}
	for (size_t c = 0; c < K; c++) {
		for (size_t i = 0; i < N; i++) {
			bin[i] = yc[i] == (int)c;
			col[i] = P[i * K + c];
		}
		sum += auc_by_ranks(bin, col, N);
	}
	char *names[K] = {(char *)"a", (char *)"b", (char *)"c", (char *)"d", (char *)"e"};
	cJSON *rep = metrics_report(yc, P, N, K, names);
	check(num(rep, "roc_auc", NULL) == sum / K,
	      "report: one-vs-rest AUC of 5 classes is the mean of the rank-sum AUCs (%.17g)",
	      sum / K);
	cJSON_Delete(rep);
}

int main(void)
{
	int y[] = {0, 1, 2, 2, 1, 0, 2, 1, 0, 1};
	double P[] = {.7, .2, .1, .1, .6, .3, .2, .2, .6, .3, .4, .3, .2, .5, .3,
		      .5, .4, .1, .1, .1, .8, .4, .3, .3, .6, .3, .1, .2, .2, .6};
	char *classes[] = {(char *)"a", (char *)"b", (char *)"c"};
	int yb[] = {0, 1, 1, 0, 1, 0, 1, 1};
	double s[] = {.1, .4, .35, .8, .7, .2, .9, .4};
	int one[] = {1, 1, 1};
	cJSON *r = metrics_report(y, P, 10, 3, classes);
	const cJSON *cm;

	check_close(num(r, "accuracy", NULL), 0.7, 1e-12, "accuracy");
	check_close(num(r, "roc_auc", NULL), 0.8621031746031745, 1e-12, "ovr macro roc auc");
	check_close(num(r, "log_loss", NULL), 0.7515973248756777, 1e-12, "log loss");
	check_close(num(r, "macro_avg", "precision"), 0.6944444444444443, 1e-12, "macro precision");
	check_close(num(r, "macro_avg", "recall"), 0.7222222222222222, 1e-12, "macro recall");
	check_close(num(r, "macro_avg", "f1"), 0.6984126984126985, 1e-12, "macro f1");
	check_close(num(r, "weighted_avg", "precision"), 0.6916666666666667, 1e-12,
		    "weighted precision");
	check_close(num(r, "weighted_avg", "recall"), 0.7, 1e-12, "weighted recall");
	check_close(num(r, "weighted_avg", "f1"), 0.6857142857142857, 1e-12, "weighted f1");
	check(num(cJSON_GetObjectItem(r, "per_class"), "b", "support") == 4, "per-class support");
	cm = cJSON_GetObjectItem(r, "confusion_matrix");
	check(cJSON_GetArraySize(cm) == 3 &&
		  cJSON_GetArrayItem(cJSON_GetArrayItem(cm, 1), 0)->valuedouble == 1,
	      "confusion matrix row b: one predicted a");
	cJSON_Delete(r);
	check_close(metrics_roc_auc(yb, s, 8), 0.7333333333333334, 1e-12, "binary auc with ties");
	check(isnan(metrics_roc_auc(one, s, 3)), "auc of one class is undefined");
	test_auc_exact();
	return check_done();
}
