/* Probabilities from SVM decision values: Platt's sigmoid fitted by the Newton method of Lin,
 * Lin & Weng (2007), and pairwise coupling of one-vs-one probabilities (Wu, Lin & Weng 2004),
 * the two methods of libsvm's -b 1. */
#ifndef DYN_CORE_PLATT_H
#define DYN_CORE_PLATT_H

#include <stddef.h>

/* Fits P(y = +1 | f) = 1 / (1 + exp(A f + B)) to n decision values dec with labels y (+1/-1),
 * using Platt's smoothed targets. */
void platt_fit(const double *dec, const signed char *y, size_t n, double *A, double *B);

/* One sigmoid sigmoid(A f + B) for all classes of a one-vs-rest model: fits it to the decision
 * values f (n x kp, row-major; kp = 1 for two classes, row i's positive being y[i] == 1) with
 * row i's class y[i] the positive of its row, Platt's smoothed targets over the n kp points
 * pooled. Note the sign: A and B are the negatives of platt_fit's for the same points. The
 * result does not depend on threads. */
void platt_fit_pooled(const double *f, const int *y, size_t n, size_t kp, int threads, double *A,
		      double *B);

/* The fitted probability of the positive class, computed without overflow. */
double platt_prob(double dec, double A, double B);

/* Class probabilities p[0..k) from pairwise ones r (k x k, r[i*k+j] = P(i | i or j), diagonal
 * ignored); work holds k*k + k doubles. */
void platt_couple(const double *r, size_t k, double *p, double *work);

#endif
