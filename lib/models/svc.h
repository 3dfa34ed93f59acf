/* The svc kind's extra surface beyond the model interface: raw decision values (for tests and
 * for callers that want margins rather than probabilities). */
#ifndef DYN_MODELS_SVC_H
#define DYN_MODELS_SVC_H

#include "models/model.h"

extern const struct model_kind model_svc;

/* Decision values of the k(k-1)/2 one-vs-one pairs (0,1), (0,2), ..., (k-2,k-1) for every row
 * of b, n x k(k-1)/2 row-major into dec (caller's memory); positive favours the first class of
 * the pair, as in libsvm. m must be a trained or loaded svc model. Thread-safe. */
int svc_decision_values(const struct model *m, const struct batch *b, double *dec, struct err *e);

#endif
