/* Connectionist temporal classification: the loss with its gradient (log-space forward-backward)
 * and the two decoders, best path and prefix beam search (nn.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "nn/nn.h"

/* Floats of one alpha (or beta) table: 1 GB for both */
#define NN_CTC_MAX_TABLE ((size_t)1 << 27)

/* log(exp(a) + exp(b)) without overflow; -inf stands for probability 0 */
static float lse2(float a, float b)
{
	float m = a > b ? a : b;
	if (m == -INFINITY)
		return -INFINITY;
	return m + log1pf(expf(-fabsf(a - b)));
}

/* lp (len, K) = log_softmax over k of logits (K, T), the first len steps */
static void log_softmax_t(float *lp, const float *logits, int K, int T, int len)
{
	for (int t = 0; t < len; t++) {
		float *row = lp + (size_t)t * K;
		float m = -INFINITY;
		for (int k = 0; k < K; k++) {
			row[k] = logits[(size_t)k * T + t];
			if (row[k] > m)
				m = row[k];
		}
		double s = exp((double)(row[0] - m));
		for (int k = 1; k < K; k++)
			s += exp((double)(row[k] - m));
		float z = m + (float)log(s);
		for (int k = 0; k < K; k++)
			row[k] -= z;
	}
}

/* The label of extended position s: blanks at even positions, target labels between. */
static int ext_label(const int *tgt, int s, int blank)
{
	return s & 1 ? tgt[s / 2] : blank;
}

/* -log p(tgt | lp) of one sample with the alpha and beta tables (len, S), S = 2 n + 1; then, if
 * g is given, g (K, T) += scale * the gradient with respect to the logits; lk: K floats. */
static double ctc_one(float *g, float *alpha, float *beta, float *lk, const float *lp,
		      const int *tgt, int n, int len, int K, int T, int blank, float scale,
		      int zero_infinity)
{
	int S = 2 * n + 1;
	for (size_t i = 0; i < (size_t)len * S; i++)
		alpha[i] = beta[i] = -INFINITY;
	alpha[0] = lp[blank];
	if (S > 1)
		alpha[1] = lp[tgt[0]];
	for (int t = 1; t < len; t++) {
		const float *a0 = alpha + (size_t)(t - 1) * S, *l = lp + (size_t)t * K;
		float *a = alpha + (size_t)t * S;
		for (int s = 0; s < S; s++) {
			int c = ext_label(tgt, s, blank);
			float v = a0[s];
			if (s >= 1)
				v = lse2(v, a0[s - 1]);
			/* skipping the blank between two labels, unless they are equal */
			if (s >= 2 && c != blank && c != ext_label(tgt, s - 2, blank))
				v = lse2(v, a0[s - 2]);
			a[s] = v + l[c];
		}
	}
	const float *alast = alpha + (size_t)(len - 1) * S;
	float logp = S > 1 ? lse2(alast[S - 1], alast[S - 2]) : alast[0];
	if (logp == -INFINITY)
		return zero_infinity ? 0 : INFINITY;
	if (!g)
		return -(double)logp;

	float *bl = beta + (size_t)(len - 1) * S;
	const float *ll = lp + (size_t)(len - 1) * K;
	bl[S - 1] = ll[blank];
	if (S > 1)
		bl[S - 2] = ll[tgt[n - 1]];
	for (int t = len - 2; t >= 0; t--) {
		const float *b1 = beta + (size_t)(t + 1) * S, *l = lp + (size_t)t * K;
		float *b = beta + (size_t)t * S;
		for (int s = 0; s < S; s++) {
			int c = ext_label(tgt, s, blank);
			float v = b1[s];
			if (s + 1 < S)
				v = lse2(v, b1[s + 1]);
			if (s + 2 < S && c != blank && c != ext_label(tgt, s + 2, blank))
				v = lse2(v, b1[s + 2]);
			b[s] = v + l[c];
		}
	}
	/* d(-log p)/dz(t,k) = y(t,k) - sum over s labelled k of alpha beta / (y(t,k) p): alpha
	 * and beta both hold y(t, l'(s)), so alpha + beta - lp is the log of the probability of
	 * the paths through s at t. Accumulated per label in a row, then written out. */
	for (int t = 0; t < len; t++) {
		float *row = alpha + (size_t)t * S; /* alpha + beta, in place: alpha is done */
		const float *b = beta + (size_t)t * S, *l = lp + (size_t)t * K;
		for (int s = 0; s < S; s++)
			row[s] += b[s];
		for (int k = 0; k < K; k++)
			lk[k] = -INFINITY;
		for (int s = 0; s < S; s++) {
			int c = ext_label(tgt, s, blank);
			lk[c] = lse2(lk[c], row[s]);
		}
		for (int k = 0; k < K; k++) {
			float gk = expf(l[k]);
			if (lk[k] != -INFINITY)
				gk -= expf(lk[k] - logp - l[k]);
			g[(size_t)k * T + t] += scale * gk;
		}
	}
	return -(double)logp;
}

int nn_ctc_loss(float *loss, float *losses, float *dlogits, const float *logits, const int *targets,
		const int *input_lengths, const int *target_lengths, int B, int K, int T, int blank,
		enum nn_reduction reduction, int zero_infinity, struct err *e)
{
	size_t off = 0, maxn = 0;
	float *lp, *alpha, *beta, *lk;
	double total = 0;

	if (B < 1 || K < 2 || T < 1 || blank < 0 || blank >= K)
		return err_set(e, DYN_EUSAGE,
			       "ctc: bad shape (batch %d, classes %d, steps %d, blank %d)", B, K, T,
			       blank);
	for (int b = 0; b < B; b++) {
		int len = input_lengths[b], n = target_lengths[b];
		if (len < 1 || len > T)
			return err_set(e, DYN_EUSAGE,
				       "ctc: sample %d: input length %d is not in 1..%d", b, len,
				       T);
		if (n < 0)
			return err_set(e, DYN_EUSAGE, "ctc: sample %d: target length %d < 0", b, n);
		for (int i = 0; i < n; i++) {
			int c = targets[off + (size_t)i];
			if (c < 0 || c >= K || c == blank)
				return err_set(e, DYN_EUSAGE,
					       "ctc: sample %d: label %d is not a class other than "
					       "the blank (%d of 0..%d)",
					       b, c, blank, K - 1);
		}
		off += (size_t)n;
		/* a target longer than the input has no alignment: no table needed */
		if (n <= len && (size_t)n > maxn)
			maxn = (size_t)n;
	}
	/* the tables take 2 T (2 n + 1) floats: bounded, whatever the lengths claim */
	if ((size_t)T * (2 * maxn + 1) > NN_CTC_MAX_TABLE)
		return err_set(e, DYN_EUSAGE,
			       "ctc: %d steps and a target of %zu labels are too long", T, maxn);
	if (dlogits)
		memset(dlogits, 0, (size_t)B * K * T * sizeof(float));
	lp = xmallocarray((size_t)T * K, sizeof(float));
	lk = xmallocarray((size_t)K, sizeof(float));
	alpha = xmallocarray((size_t)T * (2 * maxn + 1), sizeof(float));
	beta = xmallocarray((size_t)T * (2 * maxn + 1), sizeof(float));
	off = 0;
	for (int b = 0; b < B; b++) {
		int len = input_lengths[b], n = target_lengths[b];
		double l;
		float scale = 1;
		if (reduction == NN_REDUCE_MEAN)
			scale = 1.0f / ((float)(n > 0 ? n : 1) * (float)B);
		if (n > len) {
			l = zero_infinity ? 0 : INFINITY;
		} else {
			log_softmax_t(lp, logits + (size_t)b * K * T, K, T, len);
			l = ctc_one(dlogits ? dlogits + (size_t)b * K * T : NULL, alpha, beta, lk,
				    lp, targets + off, n, len, K, T, blank, scale, zero_infinity);
		}
		if (losses)
			losses[b] = (float)l;
		total += l * scale;
		off += (size_t)n;
	}
	*loss = (float)total;
	free(lp);
	free(lk);
	free(alpha);
	free(beta);
	return 0;
}

int nn_ctc_greedy(int *labels, float *logp, const float *logits, int K, int T, int len, int blank)
{
	int n = 0, prev = -1;
	double sum = 0;
	for (int t = 0; t < len; t++) {
		int best = 0;
		float m = logits[t];
		for (int k = 1; k < K; k++)
			if (logits[(size_t)k * T + t] > m)
				m = logits[(size_t)k * T + t], best = k;
		double s = exp((double)(logits[t] - m));
		for (int k = 1; k < K; k++)
			s += exp((double)(logits[(size_t)k * T + t] - m));
		sum -= log(s); /* log softmax of the maximum */
		if (best != blank && best != prev)
			labels[n++] = best;
		prev = best;
	}
	if (logp)
		*logp = (float)sum;
	return n;
}

/* ---- Prefix beam search ----------------------------------------------------------------- */

/* A prefix is a node of a trie: its last label and its parent. Only prefixes that made it into
 * a beam become nodes, so there are at most 1 + len * beam. */
struct pnode {
	int parent, label, child, sibling;
	int stamp, slot; /* the candidate of this node at step stamp */
	int depth;
};

/* A prefix after step t: log-probabilities of its alignments ending in a blank (pb) and in
 * its last label (pnb). A new prefix has node -1 until it survives the cut. */
struct pcand {
	int node, parent, label;
	float pb, pnb, score;
	int order;
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct pcand *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

static int find_child(const struct pnode *nodes, int p, int c)
{
	for (int k = nodes[p].child; k >= 0; k = nodes[k].sibling)
		if (nodes[k].label == c)
			return k;
	return -1;
}

int nn_ctc_beam(int *labels, int *lens, float *logp, int nbest, const float *logits, int K, int T,
		int len, int blank, int beam, struct err *e)
{
	if (K < 2 || len < 1 || len > T || blank < 0 || blank >= K || nbest < 1)
		return err_set(e, DYN_EUSAGE,
			       "ctc beam: bad arguments (classes %d, length %d of %d, blank %d, "
			       "best %d)",
			       K, len, T, blank, nbest);
	if (beam < 1 || beam > NN_CTC_MAX_BEAM || (size_t)beam * (size_t)(K + 1) > (1u << 24))
		return err_set(e, DYN_EUSAGE, "ctc beam: beam width %d is not in 1..%d", beam,
			       NN_CTC_MAX_BEAM);
	size_t maxnodes = 1 + (size_t)len * beam, maxc = (size_t)beam * (size_t)(K + 1);
	struct pnode *nodes = xmallocarray(maxnodes, sizeof(*nodes));
	struct pcand *cur = xmallocarray((size_t)beam, sizeof(*cur));
	struct pcand *next = xmallocarray(maxc, sizeof(*next));
	float *lp = xmallocarray((size_t)K, sizeof(float));
	int nnodes = 1, ncur = 1, n;

	nodes[0] = (struct pnode){-1, -1, -1, -1, -1, -1, 0};
	cur[0] = (struct pcand){0, -1, -1, 0, -INFINITY, 0, 0};
	for (int t = 0; t < len; t++) {
		log_softmax_t(lp, logits + t, K, T, 1);
		int nnext = 0;
		/* the same prefix: a blank, or its last label repeated (collapsed) */
		for (int j = 0; j < ncur; j++) {
			const struct pcand *p = &cur[j];
			struct pnode *nd = &nodes[p->node];
			struct pcand *q = &next[nnext];
			q->node = p->node, q->parent = nd->parent, q->label = nd->label;
			q->pb = lse2(p->pb, p->pnb) + lp[blank];
			q->pnb = nd->label >= 0 ? p->pnb + lp[nd->label] : -INFINITY;
			nd->stamp = t, nd->slot = nnext++;
		}
		/* one label more; a repeated label extends only the paths that end in a blank */
		for (int j = 0; j < ncur; j++) {
			const struct pcand *p = &cur[j];
			int last = nodes[p->node].label;
			for (int c = 0; c < K; c++) {
				if (c == blank)
					continue;
				float v = (c == last ? p->pb : lse2(p->pb, p->pnb)) + lp[c];
				int ch = find_child(nodes, p->node, c);
				if (ch >= 0 && nodes[ch].stamp == t) {
					struct pcand *q = &next[nodes[ch].slot];
					q->pnb = lse2(q->pnb, v);
					continue;
				}
				next[nnext++] = (struct pcand){ch, p->node, c, -INFINITY, v, 0, 0};
				if (ch >= 0)
					nodes[ch].stamp = t, nodes[ch].slot = nnext - 1;
			}
		}
		for (int j = 0; j < nnext; j++) {
			next[j].score = lse2(next[j].pb, next[j].pnb);
			next[j].order = j;
		}
		qsort(next, (size_t)nnext, sizeof(*next), cand_cmp);
		ncur = nnext < beam ? nnext : beam;
		while (ncur > 1 && next[ncur - 1].score == -INFINITY) /* impossible prefixes */
			ncur--;
		for (int j = 0; j < ncur; j++) {
			struct pcand *q = &next[j];
			if (q->node < 0) {
				struct pnode *pn = &nodes[q->parent];
				nodes[nnodes] = (struct pnode){
				    q->parent, q->label, -1, pn->child, -1, -1, pn->depth + 1};
				pn->child = nnodes;
				q->node = nnodes++;
			}
			cur[j] = *q;
		}
	}
	n = ncur < nbest ? ncur : nbest;
	for (int j = 0; j < n; j++) {
		int d = nodes[cur[j].node].depth;
		lens[j] = d;
		logp[j] = cur[j].score;
		for (int k = cur[j].node; k > 0; k = nodes[k].parent)
			labels[(size_t)j * len + (size_t)--d] = nodes[k].label;
	}
	free(nodes);
	free(cur);
	free(next);
	free(lp);
	return n;
}
