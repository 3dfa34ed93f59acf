/* Classification metrics against scikit-learn 1.2.1. Reference numbers from:
 *   /usr/bin/python3 -c "from sklearn.metrics import *; import numpy as np; y=...; P=...;
 *     print(accuracy_score(y,P.argmax(1)), roc_auc_score(y,P,multi_class='ovr'), log_loss(y,P));
 *     print(precision_recall_fscore_support(y,P.argmax(1),average='macro'))  # and 'weighted'"
 * with y and P as below. */
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
	return check_done();
}
