/* Sequence parts of lib/nn: CTC loss and gradient against PyTorch (tests/ref/seq_torch.py), a
 * brute-force sum over alignments and finite differences; best-path and prefix beam decoding on
 * hand-made cases and against exhaustive enumeration; the LSTM layer against PyTorch and finite
 * differences; a small CRNN network against PyTorch; identical training for 1, 2 and 3 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "check.h"
#include "seq_ref.h"

static struct rng rng;

static const float *ref(const char *name, int n)
{
	for (int i = 0; i < seq_nrefs; i++)
		if (!strcmp(seq_refs[i].name, name))
			return seq_refs[i].n == n ? seq_refs[i].v : NULL;
	return NULL;
}

/* Largest |a - b| / max(1, |b|) over n values; NaN shows as NaN. */
static double max_err(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
		if (!(e <= m))
			m = e;
	}
	return m;
}

static void compare(const char *what, const float *got, const char *key, size_t n, double tol)
{
	const float *want = ref(key, (int)n);
	if (!want) {
		check(0, "%s: reference %s with %zu values", what, key, n);
		return;
	}
	double e = max_err(got, want, n);
	check(e <= tol, "%s: %s (max error %.3g)", what, key, e);
}

static float *rand_vec(size_t n, float scale)
{
	float *v = xmallocarray(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(rng_normal(&rng) * scale);
	return v;
}

/* ---- CTC against PyTorch ---------------------------------------------------------------- */

static void ctc_torch(const char *p, int N, int K, int T, int blank, int ntgt)
{
	char key[64];
	int in[8], tl[8], tg[32];
	size_t n = (size_t)N * K * T;
#define REF(name, len) (snprintf(key, sizeof(key), "%s%s", p, name), ref(key, len))
	const float *z = REF("logits", (int)n), *fin = REF("in_lens", N), *ftl = REF("tgt_lens", N),
		    *ftg = REF("targets", ntgt);
	if (!z || !fin || !ftl || !ftg) {
		check(0, "%s: reference inputs", p);
		return;
	}
	for (int b = 0; b < N; b++)
		in[b] = (int)fin[b], tl[b] = (int)ftl[b];
	for (int i = 0; i < ntgt; i++)
		tg[i] = (int)ftg[i];
	float *g = xmallocarray(n, sizeof(float)), loss, losses[8];
	struct err e = ERR_INIT;
	for (int sum = 0; sum < 2; sum++) {
		int rc = nn_ctc_loss(&loss, losses, g, z, tg, in, tl, N, K, T, blank,
				     sum ? NN_REDUCE_SUM : NN_REDUCE_MEAN, 1, &e);
		check(rc == 0, "%s ctc %s: accepted (%s)", p, sum ? "sum" : "mean", e.msg);
		snprintf(key, sizeof(key), "%s%s.loss", p, sum ? "sum" : "mean");
		compare("ctc loss", &loss, key, 1, 1e-5);
		snprintf(key, sizeof(key), "%s%s.grad", p, sum ? "sum" : "mean");
		compare("ctc gradient", g, key, n, 1e-5);
		snprintf(key, sizeof(key), "%slosses", p);
		compare("ctc per-sample losses", losses, key, (size_t)N, 1e-5);
	}
	free(g);
#undef REF
}

/* The blank-last case has a sample no alignment fits: without zero_infinity its loss is
 * infinite, its gradient zero, the others' untouched. */
static void ctc_infinite(void)
{
	const float *z = ref("ctcb.logits", 90), *want = ref("ctcb.sum.grad", 90);
	int in[3] = {6, 4, 3}, tl[3] = {3, 2, 3}, tg[8] = {0, 3, 2, 1, 0, 1, 1, 1};
	float g[90], loss, losses[3];
	struct err e = ERR_INIT;
	if (!z || !want) {
		check(0, "ctcb references");
		return;
	}
	nn_ctc_loss(&loss, losses, g, z, tg, in, tl, 3, 5, 6, 4, NN_REDUCE_SUM, 0, &e);
	check(isinf(loss) && loss > 0 && isinf(losses[2]) && isfinite(losses[0]),
	      "ctc: an impossible target has an infinite loss (%g)", (double)losses[2]);
	double m = 0;
	for (int i = 60; i < 90; i++)
		m = fmax(m, fabs(g[i]));
	check(m == 0, "ctc: its gradient is zero");
	check(max_err(g, want, 60) < 1e-5,
	      "ctc: the other samples' gradients as with zero_infinity");
}

/* ---- CTC against a sum over all paths ----------------------------------------------------- */

/* -log of the sum over all K^T paths that collapse to tgt */
static double ctc_brute(const float *z, int K, int T, const int *tgt, int n, int blank)
{
	double lp[64], total = 0;
	for (int t = 0; t < T; t++) {
		double s = 0;
		for (int k = 0; k < K; k++)
			s += exp(z[k * T + t]);
		for (int k = 0; k < K; k++)
			lp[t * K + k] = z[k * T + t] - log(s);
	}
	int path[16] = {0};
	for (;;) {
		int out[16], m = 0, prev = -1, ok = 1;
		double l = 0;
		for (int t = 0; t < T; t++) {
			l += lp[t * K + path[t]];
			if (path[t] != blank && path[t] != prev)
				out[m++] = path[t];
			prev = path[t];
		}
		if (m != n)
			ok = 0;
		for (int i = 0; ok && i < n; i++)
			ok = out[i] == tgt[i];
		if (ok)
			total += exp(l);
		int t = 0;
		while (t < T && ++path[t] == K)
			path[t++] = 0;
		if (t == T)
			break;
	}
	return -log(total);
}

static void ctc_formula(void)
{
	int K = 3, T = 5;
	float *z = rand_vec((size_t)K * T, 1.5f);
	int cases[3][3] = {{1, 1, 0}, {1, 2, 0}, {2, 0, 0}}, lens[3] = {2, 2, 1};
	for (int c = 0; c < 3; c++) {
		float loss;
		int in = T;
		struct err e = ERR_INIT;
		nn_ctc_loss(&loss, NULL, NULL, z, cases[c], &in, &lens[c], 1, K, T, 0,
			    NN_REDUCE_SUM, 0, &e);
		double want = ctc_brute(z, K, T, cases[c], lens[c], 0);
		check_close(loss, want, 1e-5,
			    "ctc loss = -log of the sum over %d^%d paths (%g, %g)", K, T,
			    (double)loss, want);
	}
	free(z);
}

/* ---- CTC gradient against finite differences ---------------------------------------------- */

static void ctc_fd(int reduction, int blank)
{
	int B = 3, K = 5, T = 7, in[3] = {7, 5, 6}, tl[3] = {3, 2, 0};
	int tg[5] = {1, 3, 3, 2, 2};
	if (blank == K - 1)
		tg[1] = 0, tg[4] = 0;
	size_t n = (size_t)B * K * T;
	float *z = rand_vec(n, 1), *g = xmallocarray(n, sizeof(float)), loss;
	struct err e = ERR_INIT;
	nn_ctc_loss(&loss, NULL, g, z, tg, in, tl, B, K, T, blank, reduction, 0, &e);
	double maxerr = 0, maxg = 0;
	for (size_t i = 0; i < n; i++) {
		float save = z[i], lp, lm, up = save + 1e-2f, dn = save - 1e-2f;
		z[i] = up;
		nn_ctc_loss(&lp, NULL, NULL, z, tg, in, tl, B, K, T, blank, reduction, 0, &e);
		z[i] = dn;
		nn_ctc_loss(&lm, NULL, NULL, z, tg, in, tl, B, K, T, blank, reduction, 0, &e);
		z[i] = save;
		double num = ((double)lp - lm) / ((double)up - dn);
		maxerr = fmax(maxerr, fabs(num - g[i]));
		maxg = fmax(maxg, fabs(num));
	}
	check(maxerr <= 3e-3 * fmax(maxg, 1e-2),
	      "ctc gradient = finite differences (%s, blank %d; max error %.3g of %.3g)",
	      reduction == NN_REDUCE_SUM ? "sum" : "mean", blank, maxerr, maxg);
	/* past a sample's input length the gradient is 0 */
	int zero = 1;
	for (int k = 0; k < K; k++)
		for (int t = in[1]; t < T; t++)
			zero &= g[(size_t)(1 * K + k) * T + t] == 0;
	check(zero, "ctc gradient is zero past the input length");
	free(z);
	free(g);
}

static void ctc_errors(void)
{
	float z[12] = {0}, loss;
	int in = 4, tl = 1, bad_in = 5, tg;
	struct err e = ERR_INIT;
	tg = 0;
	check(nn_ctc_loss(&loss, NULL, NULL, z, &tg, &in, &tl, 1, 3, 4, 0, NN_REDUCE_MEAN, 0, &e) <
		      0 &&
		  strstr(e.msg, "label 0 is not a class other than the blank"),
	      "ctc: a blank in the target is refused (%s)", e.msg);
	tg = 3;
	err_clear(&e);
	check(nn_ctc_loss(&loss, NULL, NULL, z, &tg, &in, &tl, 1, 3, 4, 0, NN_REDUCE_MEAN, 0, &e) <
		      0 &&
		  strstr(e.msg, "label 3"),
	      "ctc: a label out of range is refused (%s)", e.msg);
	tg = 1;
	err_clear(&e);
	check(nn_ctc_loss(&loss, NULL, NULL, z, &tg, &bad_in, &tl, 1, 3, 4, 0, NN_REDUCE_MEAN, 0,
			  &e) < 0 &&
		  !strcmp(e.msg, "ctc: sample 0: input length 5 is not in 1..4"),
	      "ctc: an input length over T is refused (%s)", e.msg);
}

/* ---- Decoding ----------------------------------------------------------------------------- */

/* logits (K, T) = log of the probabilities given step by step (T rows of K) */
static void logits_of(float *z, const double *probs, int K, int T)
{
	for (int t = 0; t < T; t++)
		for (int k = 0; k < K; k++)
			z[k * T + t] = (float)log(probs[t * K + k]);
}

static void decode_greedy(void)
{
	/* blank 0; best path a a _ a b b _ -> "a a b" (the blank separates the two a's) */
	const double p[7 * 3] = {.2, .7, .1, .3, .6, .1, .5, .3, .2,  .1, .8,
				 .1, .2, .1, .7, .1, .2, .7, .9, .05, .05};
	float z[21], logp;
	int lab[7];
	logits_of(z, p, 3, 7);
	int n = nn_ctc_greedy(lab, &logp, z, 3, 7, 7, 0);
	check(n == 3 && lab[0] == 1 && lab[1] == 1 && lab[2] == 2,
	      "greedy: repeats collapse, blanks drop, a blank splits a repeat (%d labels)", n);
	double want = log(.7 * .6 * .5 * .8 * .7 * .7 * .9);
	check_close(logp, want, 1e-5, "greedy: log-probability of the best path");
	n = nn_ctc_greedy(lab, NULL, z, 3, 7, 3, 0);
	check(n == 1 && lab[0] == 1, "greedy: only the first len steps");
	/* the blank last */
	n = nn_ctc_greedy(lab, NULL, z, 3, 7, 7, 2);
	check(n == 4 && lab[0] == 1 && lab[1] == 0 && lab[2] == 1 && lab[3] == 0,
	      "greedy with blank 2: labels 1 0 1 0 (%d labels)", n);
}

/* Every label sequence's probability by enumerating all paths; the best and second best. */
static void brute_best(const float *z, int K, int T, int blank, int best[2][8], int blen[2],
		       double bp[2])
{
	double lp[64];
	for (int t = 0; t < T; t++) {
		double s = 0;
		for (int k = 0; k < K; k++)
			s += exp(z[k * T + t]);
		for (int k = 0; k < K; k++)
			lp[t * K + k] = z[k * T + t] - log(s);
	}
	/* label sequences as base-K numbers with a length: at most T labels of K-1 values */
	int nseq = 0;
	static int seqs[4096][8];
	static int slen[4096];
	static double sp[4096];
	int path[8] = {0};
	for (;;) {
		int out[8], m = 0, prev = -1;
		double l = 0;
		for (int t = 0; t < T; t++) {
			l += lp[t * K + path[t]];
			if (path[t] != blank && path[t] != prev)
				out[m++] = path[t];
			prev = path[t];
		}
		int j;
		for (j = 0; j < nseq; j++)
			if (slen[j] == m && !memcmp(seqs[j], out, (size_t)m * sizeof(int)))
				break;
		if (j == nseq) {
			memcpy(seqs[j], out, (size_t)m * sizeof(int));
			slen[j] = m, sp[j] = 0, nseq++;
		}
		sp[j] += exp(l);
		int t = 0;
		while (t < T && ++path[t] == K)
			path[t++] = 0;
		if (t == T)
			break;
	}
	int i0 = 0, i1 = -1;
	for (int j = 1; j < nseq; j++)
		if (sp[j] > sp[i0])
			i0 = j;
	for (int j = 0; j < nseq; j++)
		if (j != i0 && (i1 < 0 || sp[j] > sp[i1]))
			i1 = j;
	int ix[2] = {i0, i1};
	for (int r = 0; r < 2; r++) {
		memcpy(best[r], seqs[ix[r]], (size_t)slen[ix[r]] * sizeof(int));
		blen[r] = slen[ix[r]];
		bp[r] = log(sp[ix[r]]);
	}
}

static void decode_beam(void)
{
	/* two steps of blank .6 / a .4: the best path is "" (.36), but "a" has .4 .6 + .6 .4 +
	 * .4 .4 = .64 over its three alignments */
	const double p[4] = {.6, .4, .6, .4};
	float z[4], logp[3], gl;
	int lab[3 * 2], lens[3], gla[2];
	struct err e = ERR_INIT;
	logits_of(z, p, 2, 2);
	int gn = nn_ctc_greedy(gla, &gl, z, 2, 2, 2, 0);
	int n = nn_ctc_beam(lab, lens, logp, 3, z, 2, 2, 2, 0, 4, &e);
	check(gn == 0 && n == 2 && lens[0] == 1 && lab[0] == 1,
	      "beam: 'a' (.64) beats the best path's '' (greedy %d labels, beam %d hypotheses)", gn,
	      n);
	check_close(exp(logp[0]), .64, 1e-6, "beam: the probability sums the alignments (%g)",
		    exp(logp[0]));
	check(lens[1] == 0 && fabs(exp(logp[1]) - .36) < 1e-6,
	      "beam: then '' (.36); 'aa' (impossible in 2 steps) is not a hypothesis");
	/* against every path of random cases, with a beam wide enough to be exact */
	for (int c = 0; c < 4; c++) {
		int K = 3, T = 6, blank = c % 2 ? K - 1 : 0, best[2][8], blen[2];
		double bp[2];
		float *r = rand_vec((size_t)K * T, 1.5f);
		int L2[2 * 6], l2[2];
		float lp2[2];
		brute_best(r, K, T, blank, best, blen, bp);
		n = nn_ctc_beam(L2, l2, lp2, 2, r, K, T, T, blank, 200, &e);
		int same = n == 2;
		for (int j = 0; same && j < 2; j++)
			same = l2[j] == blen[j] &&
			       !memcmp(L2 + j * T, best[j], (size_t)blen[j] * sizeof(int)) &&
			       fabs(lp2[j] - bp[j]) < 1e-4;
		check(same,
		      "beam = exhaustive search, case %d: the best two and their log-probabilities",
		      c);
		free(r);
	}
	check(nn_ctc_beam(lab, lens, logp, 1, z, 2, 2, 2, 0, 0, &e) < 0 &&
		  strstr(e.msg, "beam width 0"),
	      "beam: width 0 is refused (%s)", e.msg);
}

/* ---- LSTM ----------------------------------------------------------------------------------- */

static const char *lstm_names[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};

static size_t lstm_off(const struct nn_lstm *g, int d, int k)
{
	return k == 0 ? g->w_ih[d] : k == 1 ? g->w_hh[d] : k == 2 ? g->b_ih[d] : g->b_hh[d];
}

static size_t lstm_size(const struct nn_lstm *g, int k)
{
	return 4 * (size_t)g->hid * (k == 0 ? (size_t)g->in : k == 1 ? (size_t)g->hid : 1);
}

static void lstm_torch(void)
{
	struct nn_lstm g;
	int B = 2;
	check(nn_lstm_setup(&g, 3, 4, 5, 1) == 0, "lstm: geometry accepted");
	float *p = xcalloc(g.nparams, sizeof(float)), *dp = xcalloc(g.nparams, sizeof(float));
	char key[96];
	int all = 1;
	for (int d = 0; d < 2; d++)
		for (int k = 0; k < 4; k++) {
			snprintf(key, sizeof(key), "lstm.init.rnn.%s%s", lstm_names[k],
				 d ? "_reverse" : "");
			const float *v = ref(key, (int)lstm_size(&g, k));
			if (v)
				memcpy(p + lstm_off(&g, d, k), v, lstm_size(&g, k) * sizeof(float));
			all &= v != NULL;
		}
	const float *x = ref("lstm.input", 30);
	check(all && x, "lstm: reference weights and input");
	if (!all || !x)
		goto out;
	size_t no = (size_t)B * 8 * 5;
	float *y = xmallocarray(no, sizeof(float)), *R = xmallocarray(no, sizeof(float));
	float *state = xmallocarray((size_t)B * nn_lstm_state(&g), sizeof(float));
	float *scratch = xmallocarray(nn_lstm_scratch(&g, B), sizeof(float));
	float dx[30] = {0};
	for (size_t i = 0; i < no; i++)
		R[i] = (float)sin(0.37 * (double)i + 1.3 * 4);
	nn_lstm_forward(y, state, x, p, B, &g, scratch);
	compare("lstm forward", y, "lstm.out", no, 1e-5);
	nn_lstm_backward(dx, dp, R, x, state, p, B, &g, scratch);
	compare("lstm backward", dx, "lstm.grad.input", 30, 1e-5);
	for (int d = 0; d < 2; d++)
		for (int k = 0; k < 4; k++) {
			snprintf(key, sizeof(key), "lstm.grad.rnn.%s%s", lstm_names[k],
				 d ? "_reverse" : "");
			compare("lstm backward", dp + lstm_off(&g, d, k), key, lstm_size(&g, k),
				1e-5);
		}
	free(y);
	free(R);
	free(state);
	free(scratch);
out:
	free(p);
	free(dp);
}

/* loss sum(out * R) in double, for finite differences */
static double lstm_loss(const float *x, const float *p, const float *R, int B,
			const struct nn_lstm *g, float *y, float *state, float *scratch)
{
	size_t no = (size_t)B * g->dirs * g->hid * g->len;
	double s = 0;
	nn_lstm_forward(y, state, x, p, B, g, scratch);
	for (size_t i = 0; i < no; i++)
		s += (double)y[i] * R[i];
	return s;
}

static void lstm_fd(int bidirectional)
{
	struct nn_lstm g;
	int B = 3, I = 3, H = 4, L = 6;
	nn_lstm_setup(&g, I, H, L, bidirectional);
	size_t nx = (size_t)B * I * L, no = (size_t)B * g.dirs * H * L;
	float *x = rand_vec(nx, 1), *p = rand_vec(g.nparams, 0.5f), *R = rand_vec(no, 1);
	float *dx = xcalloc(nx, sizeof(float)), *dp = xcalloc(g.nparams, sizeof(float));
	float *y = xmallocarray(no, sizeof(float));
	float *state = xmallocarray((size_t)B * nn_lstm_state(&g), sizeof(float));
	float *scratch = xmallocarray(nn_lstm_scratch(&g, B), sizeof(float));
	lstm_loss(x, p, R, B, &g, y, state, scratch);
	nn_lstm_backward(dx, dp, R, x, state, p, B, &g, scratch);
	struct {
		float *v, *grad;
		size_t n;
		const char *name;
	} t[2] = {{x, dx, nx, "input"}, {p, dp, g.nparams, "parameters"}};
	for (int k = 0; k < 2; k++) {
		double maxerr = 0, maxg = 0;
		for (size_t j = 0; j < t[k].n; j++) {
			float save = t[k].v[j], up = save + 1e-2f, dn = save - 1e-2f;
			t[k].v[j] = up;
			double lp = lstm_loss(x, p, R, B, &g, y, state, scratch);
			t[k].v[j] = dn;
			double lm = lstm_loss(x, p, R, B, &g, y, state, scratch);
			t[k].v[j] = save;
			double num = (lp - lm) / ((double)up - dn);
			maxerr = fmax(maxerr, fabs(num - t[k].grad[j]));
			maxg = fmax(maxg, fabs(num));
		}
		check(maxerr <= 3e-3 * fmax(maxg, 1e-2),
		      "lstm %s: d%s = finite differences (max error %.3g of %.3g)",
		      bidirectional ? "bidirectional" : "one-way", t[k].name, maxerr, maxg);
	}
	free(x);
	free(p);
	free(R);
	free(dx);
	free(dp);
	free(y);
	free(state);
	free(scratch);
}

/* ---- The network: a CRNN ------------------------------------------------------------------ */

static const struct nn_layer_desc crnn[] = {
    {.op = NN_CONV2D, .name = "c1", .out = 4, .k = 3, .pad = 1, .no_bias = 1},
    {.op = NN_BATCHNORM, .name = "bn1"},
    {.op = NN_RELU},
    {.op = NN_MAXPOOL2D, .k = 2},
    {.op = NN_TO_SEQ, .name = "seq"},
    {.op = NN_LSTM, .name = "rnn", .out = 5, .bidirectional = 1},
    {.op = NN_CONV1D, .name = "fc", .out = 6, .k = 1},
};

static const int crnn_tg[7] = {1, 2, 3, 4, 4, 5, 1}, crnn_in[3] = {8, 8, 6}, crnn_tl[3] = {3, 3, 1};

static void crnn_torch(void)
{
	struct nn_net_desc d = {.dims = 3,
				.c = 1,
				.h = 8,
				.w = 16,
				.layers = crnn,
				.nlayers = 7,
				.max_batch = 3,
				.threads = 2,
				.input_grad = 1};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	check(nn_net_new(&net, &d, &e) == 0, "crnn: network built (%s)", e.msg);
	if (!net)
		return;
	check(nn_net_out_size(net) == 6 * 8, "crnn: output (6, 8)");
	int all = 1;
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		char key[128];
		snprintf(key, sizeof(key), "crnn.init.%s", t->name);
		const float *v = ref(key, (int)t->size);
		if (v)
			memcpy(t->data, v, t->size * sizeof(float));
		all &= v != NULL;
	}
	check(all && nn_net_ntensors(net) == 15,
	      "crnn: every tensor loads by PyTorch's name (%d tensors)", nn_net_ntensors(net));
	const float *x = ref("crnn.input", 384);
	if (!x) {
		check(0, "crnn: reference input");
		goto out;
	}
	const float *z = nn_net_forward(net, x, 3, 1);
	compare("crnn forward", z, "crnn.out", 144, 1e-4);
	float dz[144], loss;
	nn_ctc_loss(&loss, NULL, dz, z, crnn_tg, crnn_in, crnn_tl, 3, 6, 8, 0, NN_REDUCE_MEAN, 0,
		    &e);
	compare("crnn ctc", &loss, "crnn.loss", 1, 1e-4);
	nn_net_zero_grad(net);
	nn_net_backward(net, dz);
	const float *gin;
	nn_net_node(net, "input", &gin, NULL);
	compare("crnn backward", gin, "crnn.grad.input", 384, 1e-4);
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		char key[128];
		if (!t->grad)
			continue;
		snprintf(key, sizeof(key), "crnn.grad.%s", t->name);
		compare("crnn backward", t->grad, key, t->size, 1e-4);
	}
out:
	nn_net_free(&net);
}

/* A few AdamW steps on random batches of 16 (chunks of 2 samples): the same bits for any
 * thread count. */
static void crnn_threads(void)
{
	float *res[3] = {NULL, NULL, NULL};
	size_t np = 0;
	int B = 16;
	for (int th = 1; th <= 3; th++) {
		struct nn_net_desc d = {.dims = 3,
					.c = 1,
					.h = 8,
					.w = 16,
					.layers = crnn,
					.nlayers = 7,
					.max_batch = B,
					.threads = th};
		struct nn_net *net = NULL;
		struct err e = ERR_INIT;
		struct nn_optim o;
		struct rng r;
		if (nn_net_new(&net, &d, &e) < 0) {
			check(0, "crnn threads: built (%s)", e.msg);
			return;
		}
		nn_net_init(net, 5);
		np = nn_net_nparams(net);
		nn_optim_init(&o, NN_ADAMW, np);
		rng_init(&r, 9);
		float *x = xmallocarray((size_t)B * 128, sizeof(float));
		float *dz = xmallocarray((size_t)B * 48, sizeof(float));
		int in[16], tl[16], tg[16 * 3];
		for (int step = 0; step < 3; step++) {
			for (int i = 0; i < B * 128; i++)
				x[i] = (float)rng_normal(&r);
			for (int b = 0; b < B; b++) {
				in[b] = 8 - (int)rng_below(&r, 3);
				tl[b] = 3;
				for (int j = 0; j < 3; j++)
					tg[b * 3 + j] = 1 + (int)rng_below(&r, 5);
			}
			float loss;
			const float *z = nn_net_forward(net, x, B, 1);
			nn_ctc_loss(&loss, NULL, dz, z, tg, in, tl, B, 6, 8, 0, NN_REDUCE_MEAN, 1,
				    &e);
			nn_net_zero_grad(net);
			nn_net_backward(net, dz);
			nn_net_step(net, &o);
		}
		res[th - 1] = xmallocarray(np, sizeof(float));
		memcpy(res[th - 1], nn_net_params(net), np * sizeof(float));
		nn_optim_release(&o);
		nn_net_free(&net);
		free(x);
		free(dz);
	}
	check(!memcmp(res[0], res[1], np * sizeof(float)) &&
		  !memcmp(res[0], res[2], np * sizeof(float)),
	      "crnn: the same parameters after training on 1, 2 and 3 threads");
	for (int i = 0; i < 3; i++)
		free(res[i]);
}

/* A conv1d of kernel 1 is a dense layer at every step: the per-step classifier of a CRNN. */
static void per_step_dense(void)
{
	int B = 2, C = 5, K = 3, L = 4;
	struct nn_conv g;
	nn_conv1d_setup(&g, C, K, L, 1, 1, 0, 1);
	float *x = rand_vec((size_t)B * C * L, 1), *w = rand_vec((size_t)K * C, 1);
	float *bias = rand_vec((size_t)K, 1), y[24], col[64], xs[5], ys[3];
	nn_conv_forward(y, x, w, bias, B, &g, col);
	double m = 0;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < L; t++) {
			for (int c = 0; c < C; c++)
				xs[c] = x[(b * C + c) * L + t];
			nn_dense_forward(ys, xs, w, bias, 1, C, K);
			for (int k = 0; k < K; k++)
				m = fmax(m, fabs(ys[k] - y[(b * K + k) * L + t]));
		}
	check(m < 1e-6, "conv1d k=1 = a dense layer at each step (max difference %.3g)", m);
	free(x);
	free(w);
	free(bias);
}

static void shape_errors(void)
{
	struct nn_layer_desc a[] = {{.op = NN_TO_SEQ, .name = "s"}};
	struct nn_layer_desc b[] = {{.op = NN_LSTM, .name = "r", .out = 4}};
	struct nn_layer_desc c[] = {{.op = NN_LSTM, .name = "r"}};
	struct nn_net_desc d1 = {
	    .dims = 2, .c = 3, .w = 8, .layers = a, .nlayers = 1, .max_batch = 2};
	struct nn_net_desc d2 = {
	    .dims = 3, .c = 3, .h = 2, .w = 8, .layers = b, .nlayers = 1, .max_batch = 2};
	struct nn_net_desc d3 = {
	    .dims = 2, .c = 3, .w = 8, .layers = c, .nlayers = 1, .max_batch = 2};
	struct nn_net *net = NULL;
	struct err e = ERR_INIT;
	check(nn_net_new(&net, &d1, &e) < 0 &&
		  !strcmp(e.msg, "nn: layer 0 \"s\": to_seq needs a (C, H, W) input, got (3, 8)"),
	      "to_seq on a sequence is refused (%s)", e.msg);
	err_clear(&e);
	check(nn_net_new(&net, &d2, &e) < 0 &&
		  !strcmp(e.msg, "nn: layer 0 \"r\": lstm needs a (C, L) input, got (3, 2, 8)"),
	      "lstm on a map is refused (%s)", e.msg);
	err_clear(&e);
	check(nn_net_new(&net, &d3, &e) < 0 &&
		  strstr(e.msg, "lstm with 0 hidden units does not fit input (3, 8)"),
	      "lstm without hidden units is refused (%s)", e.msg);
	/* a one-way LSTM: (3, 8) -> (4, 8), PyTorch's four tensors, its weights decayed */
	struct nn_net_desc d4 = {
	    .dims = 2, .c = 3, .w = 8, .layers = b, .nlayers = 1, .max_batch = 2};
	err_clear(&e);
	check(nn_net_new(&net, &d4, &e) == 0 && nn_net_out_size(net) == 32 &&
		  nn_net_ntensors(net) == 4 && nn_net_find(net, "r.bias_hh_l0") &&
		  !nn_net_find(net, "r.weight_ih_l0_reverse"),
	      "lstm one way: (4, 8) out, 4 tensors");
	if (net) {
		float *mask = xmallocarray(nn_net_nparams(net), sizeof(float));
		nn_net_decay_mask(net, mask);
		const struct nn_tensor *w = nn_net_find(net, "r.weight_hh_l0"),
				       *bb = nn_net_find(net, "r.bias_ih_l0");
		const float *p0 = nn_net_params(net);
		check(mask[w->data - p0] == 1 && mask[bb->data - p0] == 0,
		      "lstm: weights decay, biases do not");
		double bound = 0;
		for (size_t i = 0; i < w->size; i++)
			bound = fmax(bound, fabs(w->data[i]));
		check(bound > 0.3 && bound <= 0.5, "lstm init: uniform in +-1/sqrt(4) (max %g)",
		      bound);
		free(mask);
	}
	nn_net_free(&net);
}

int main(void)
{
	rng_init(&rng, 11);
	ctc_torch("ctc.", 4, 6, 10, 0, 9);
	ctc_torch("ctcb.", 3, 5, 6, 4, 8);
	ctc_infinite();
	ctc_formula();
	ctc_fd(NN_REDUCE_SUM, 0);
	ctc_fd(NN_REDUCE_MEAN, 4);
	ctc_errors();
	decode_greedy();
	decode_beam();
	lstm_torch();
	lstm_fd(0);
	lstm_fd(1);
	per_step_dense();
	crnn_torch();
	crnn_threads();
	shape_errors();
	return check_done();
}
