/* The LSTM layer (nn.h): PyTorch's nn.LSTM over (C, L) sequences, forward and back-propagation
 * through time, the products by sgemm. */
#include "base/blas.h"
#include <math.h>
#include <string.h>

#include "nn/nn.h"

#define LSTM_ALIGN 16
/* Sizes kept far from int overflow in the products' dimensions. */
#define LSTM_MAX ((size_t)1 << 26)

static size_t align16(size_t n)
{
	return (n + LSTM_ALIGN - 1) / LSTM_ALIGN * LSTM_ALIGN;
}

int nn_lstm_setup(struct nn_lstm *g, int in, int hid, int len, int bidirectional)
{
	size_t off = 0;
	memset(g, 0, sizeof(*g));
	if (in < 1 || hid < 1 || len < 1 || (size_t)in > LSTM_MAX || (size_t)hid > LSTM_MAX / 4 ||
	    (size_t)len > LSTM_MAX || 4 * (size_t)hid * ((size_t)in + hid) > LSTM_MAX)
		return -1;
	g->in = in, g->hid = hid, g->len = len, g->dirs = bidirectional ? 2 : 1;
	for (int d = 0; d < g->dirs; d++) {
		size_t G = 4 * (size_t)hid;
		g->w_ih[d] = off, off += align16(G * in);
		g->w_hh[d] = off, off += align16(G * hid);
		g->b_ih[d] = off, off += align16(G);
		g->b_hh[d] = off, off += align16(G);
	}
	g->nparams = off;
	return 0;
}

/* Per direction and sample: the gates after their nonlinearities (len, 4 hid), the cells and
 * the hidden states (len, hid) each. */
size_t nn_lstm_state(const struct nn_lstm *g)
{
	return (size_t)g->dirs * g->len * 6 * g->hid;
}

/* The input by step (len, B, in) and its gradient, the gate gradients (len, B, 4 hid), and the
 * hidden and cell gradients carried from step to step (B, hid) each. */
size_t nn_lstm_scratch(const struct nn_lstm *g, int B)
{
	size_t n = (size_t)g->len * B;
	return n * (2 * (size_t)g->in + 4 * (size_t)g->hid) + 2 * (size_t)B * g->hid;
}

static float sigm(float x)
{
	return 1 / (1 + expf(-x));
}

/* xT (len, B, in) from inp (B, in, len): rows by step, so each step's samples are contiguous
 * and one sgemm covers all steps. Blocks of channels keep the writes in short runs. */
static void by_step(float *xT, const float *inp, int B, int NI, int L)
{
	enum { BLK = 16 };
	for (int b = 0; b < B; b++)
		for (int i0 = 0; i0 < NI; i0 += BLK) {
			int i1 = i0 + BLK < NI ? i0 + BLK : NI;
			for (int t = 0; t < L; t++) {
				float *dst = xT + ((size_t)t * B + b) * NI;
				for (int i = i0; i < i1; i++)
					dst[i] = inp[((size_t)b * NI + i) * L + t];
			}
		}
}

void nn_lstm_forward(float *out, float *state, const float *inp, const float *p, int B,
		     const struct nn_lstm *g, float *scratch)
{
	int NI = g->in, H = g->hid, L = g->len, G4 = 4 * g->hid;
	size_t LB = (size_t)L * B;
	float *xT = scratch;

	by_step(xT, inp, B, NI, L);
	for (int d = 0; d < g->dirs; d++) {
		float *G = state + (size_t)d * LB * 6 * H, *C = G + LB * G4, *Hs = C + LB * H;
		const float *wih = p + g->w_ih[d], *whh = p + g->w_hh[d];
		const float *bih = p + g->b_ih[d], *bhh = p + g->b_hh[d];
		/* every step's input-to-hidden product at once: G (len B, 4H) = xT W_ih^T */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)LB, G4, NI, 1.0f, xT, NI,
			    wih, NI, 0.0f, G, G4);
		for (size_t r = 0; r < LB; r++) {
			float *row = G + r * G4;
			for (int j = 0; j < G4; j++)
				row[j] += bih[j] + bhh[j];
		}
		for (int s = 0; s < L; s++) {
			int t = d ? L - 1 - s : s, tp = d ? t + 1 : t - 1;
			float *Gt = G + (size_t)t * B * G4, *Ct = C + (size_t)t * B * H;
			float *Ht = Hs + (size_t)t * B * H;
			const float *Cp = s ? C + (size_t)tp * B * H : NULL;
			if (s)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G4, H, 1.0f,
					    Hs + (size_t)tp * B * H, H, whh, H, 1.0f, Gt, G4);
			for (int b = 0; b < B; b++) {
				float *gt = Gt + (size_t)b * G4;
				for (int j = 0; j < H; j++) {
					float i = sigm(gt[j]), f = sigm(gt[H + j]);
					float gg = tanhf(gt[2 * H + j]), o = sigm(gt[3 * H + j]);
					float c = i * gg + (Cp ? f * Cp[(size_t)b * H + j] : 0);
					gt[j] = i, gt[H + j] = f, gt[2 * H + j] = gg,
					gt[3 * H + j] = o;
					Ct[(size_t)b * H + j] = c;
					Ht[(size_t)b * H + j] = o * tanhf(c);
				}
			}
		}
		for (int b = 0; b < B; b++)
			for (int j = 0; j < H; j++) {
				float *dst =
				    out + ((size_t)b * g->dirs * H + (size_t)d * H + j) * L;
				for (int t = 0; t < L; t++)
					dst[t] = Hs[((size_t)t * B + b) * H + j];
			}
	}
}

void nn_lstm_backward(float *dinp, float *dp, const float *dout, const float *inp,
		      const float *state, const float *p, int B, const struct nn_lstm *g,
		      float *scratch)
{
	int NI = g->in, H = g->hid, L = g->len, G4 = 4 * g->hid;
	size_t LB = (size_t)L * B;
	float *xT = scratch, *dxT = xT + LB * NI, *dG = dxT + LB * NI;
	float *dh = dG + LB * G4, *dc = dh + (size_t)B * H;

	by_step(xT, inp, B, NI, L);
	for (int d = 0; d < g->dirs; d++) {
		const float *G = state + (size_t)d * LB * 6 * H, *C = G + LB * G4, *Hs = C + LB * H;
		const float *wih = p + g->w_ih[d], *whh = p + g->w_hh[d];
		memset(dh, 0, (size_t)B * H * sizeof(float));
		memset(dc, 0, (size_t)B * H * sizeof(float));
		for (int s = L - 1; s >= 0; s--) {
			int t = d ? L - 1 - s : s, tp = d ? t + 1 : t - 1;
			const float *Gt = G + (size_t)t * B * G4, *Ct = C + (size_t)t * B * H;
			const float *Cp = s ? C + (size_t)tp * B * H : NULL;
			float *dGt = dG + (size_t)t * B * G4;
			for (int b = 0; b < B; b++) {
				const float *gt = Gt + (size_t)b * G4;
				const float *dy =
				    dout + ((size_t)b * g->dirs * H + (size_t)d * H) * L;
				float *dgt = dGt + (size_t)b * G4;
				for (int j = 0; j < H; j++) {
					size_t k = (size_t)b * H + j;
					float i = gt[j], f = gt[H + j], gg = gt[2 * H + j];
					float o = gt[3 * H + j], tc = tanhf(Ct[k]);
					float dhv = dy[(size_t)j * L + t] + dh[k];
					float dcv = dc[k] + dhv * o * (1 - tc * tc);
					float cp = Cp ? Cp[k] : 0;
					dgt[j] = dcv * gg * i * (1 - i);
					dgt[H + j] = dcv * cp * f * (1 - f);
					dgt[2 * H + j] = dcv * i * (1 - gg * gg);
					dgt[3 * H + j] = dhv * tc * o * (1 - o);
					dc[k] = dcv * f;
				}
			}
			/* the hidden state's gradient for the step before: dG_t W_hh */
			if (s)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G4,
					    1.0f, dGt, G4, whh, H, 0.0f, dh, H);
		}
		/* dW_hh: each step's gate gradients against the hidden state they read, all steps
		 * but the first of the direction in one product */
		if (L > 1) {
			size_t dg0 = d ? 0 : (size_t)B * G4, h0 = d ? (size_t)B * H : 0;
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G4, H, (int)(LB - B),
				    1.0f, dG + dg0, G4, Hs + h0, H, 1.0f, dp + g->w_hh[d], H);
		}
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G4, NI, (int)LB, 1.0f, dG, G4,
			    xT, NI, 1.0f, dp + g->w_ih[d], NI);
		float *dbih = dp + g->b_ih[d], *dbhh = dp + g->b_hh[d];
		for (size_t r = 0; r < LB; r++) {
			const float *row = dG + r * G4;
			for (int j = 0; j < G4; j++) {
				dbih[j] += row[j];
				dbhh[j] += row[j];
			}
		}
		if (dinp)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)LB, NI, G4,
				    1.0f, dG, G4, wih, NI, d ? 1.0f : 0.0f, dxT, NI);
	}
	if (dinp)
		for (int b = 0; b < B; b++)
			for (int i = 0; i < NI; i++) {
				float *dst = dinp + ((size_t)b * NI + i) * L;
				for (int t = 0; t < L; t++)
					dst[t] += dxT[((size_t)t * B + b) * NI + i];
			}
}
