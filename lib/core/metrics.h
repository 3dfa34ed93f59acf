/* Classification metrics: the held-out / cross-validated report stored with every classifier. */
#ifndef DYN_CORE_METRICS_H
#define DYN_CORE_METRICS_H

#include <stddef.h>

struct cJSON;

/* ROC AUC of scores for the positive class (y[i] != 0), with ties counted half (the
 * Mann-Whitney statistic, as scikit-learn's roc_auc_score). NaN when a class is absent. */
double metrics_roc_auc(const int *y, const double *score, size_t n);

/* The report of predictions proba (n x k, row-major) against true classes y: accuracy,
 * roc_auc (binary; one-vs-rest macro average for k > 2), log_loss (probabilities clipped to
 * [1e-15, 1-1e-15]), macro and weighted precision/recall/F1, per-class precision, recall, F1
 * and support, and the confusion matrix (rows true, columns predicted). Predicted class is the
 * argmax. Returns a new cJSON object owned by the caller. */
struct cJSON *metrics_report(const int *y, const double *proba, size_t n, size_t k,
			     char *const *classes);

#endif
