/* The float32 neural-network engine: layers as forward/backward function pairs over flat NCHW
 * arrays (llm.c style, products by OpenBLAS sgemm), and a network object built from a graph. */
#ifndef DYN_NN_NN_H
#define DYN_NN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Layout everywhere: NCHW; a 1-D signal is (N, C, L) and runs as H = 1, W = L.
 * Every backward function ADDS into dinp, dweight and dbias (so a node read by two layers sums
 * its gradients); dinp may be NULL when the input's gradient is not wanted. The arrays given to
 * one call never overlap (no in-place use). The caller owns every array. */

/* ---- Convolution (im2col + sgemm) ---------------------------------------------------- */

/* Geometry of one convolution; oh, ow derived by nn_conv2d_setup or nn_conv1d_setup. */
struct nn_conv {
	int cin, cout, h, w;
	int kh, kw, sh, sw, ph, pw, dh, dw;
	int oh, ow;
	int groups; /* channel groups, as PyTorch's: cin and cout divide by it; 0 or 1: one */
};

/* Fills g for a 2-D convolution; returns -1 when a value is out of range or the output would
 * be empty. stride >= 1, pad >= 0, dilation >= 1. */
int nn_conv2d_setup(struct nn_conv *g, int cin, int cout, int h, int w, int kh, int kw, int sh,
		    int sw, int ph, int pw, int dh, int dw);
/* The same for 1-D (input length l, kernel k): H = 1, kh = 1. */
int nn_conv1d_setup(struct nn_conv *g, int cin, int cout, int l, int k, int stride, int pad,
		    int dil);
/* Splits the convolution into groups (cin and cout must divide by groups; -1 otherwise): each
 * group's cout / groups outputs see its cin / groups inputs, weight (cout, cin / groups, kh, kw).
 * groups = cin = cout is a depthwise convolution. */
int nn_conv_set_groups(struct nn_conv *g, int groups);
/* Floats of scratch (the im2col matrix) that a forward or backward pass needs per thread. */
size_t nn_conv_scratch(const struct nn_conv *g);

/* inp (B,cin,h,w), weight (cout,cin,kh,kw), bias (cout) or NULL, out (B,cout,oh,ow);
 * col: nn_conv_scratch(g) floats. */
void nn_conv_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		     const struct nn_conv *g, float *col);
void nn_conv_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		      const float *inp, const float *weight, int B, const struct nn_conv *g,
		      float *col);

/* Transposed 2-D convolution (PyTorch ConvTranspose2d, output_padding opad < stride) from
 * (cin, h, w) to cout channels: g describes the convolution that maps its OUTPUT back to its
 * input, so g->cin is the transposed layer's output channels and g->h, g->w its output size.
 * inp (B,c_in,h_in,w_in) with c_in = g->cout, h_in = g->oh, w_in = g->ow;
 * weight (c_in, c_out, kh, kw) with c_out = g->cin; out (B, g->cin, g->h, g->w). */
int nn_convt2d_setup(struct nn_conv *g, int cin, int cout, int h, int w, int k, int stride, int pad,
		     int opad, int dil);
void nn_convt_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		      const struct nn_conv *g, float *col);
void nn_convt_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		       const float *inp, const float *weight, int B, const struct nn_conv *g,
		       float *col);

/* ---- Dense ---------------------------------------------------------------------------- */

/* inp (B,nin), weight (nout,nin), bias (nout) or NULL, out (B,nout) */
void nn_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		      int nin, int nout);
void nn_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		       const float *inp, const float *weight, int B, int nin, int nout);

/* ---- Pooling -------------------------------------------------------------------------- */

/* Pooling geometry over (c, h, w) planes; PyTorch's defaults: floor output size, max pads with
 * -inf, average counts padding (count_include_pad). */
struct nn_pool {
	int c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};
int nn_pool2d_setup(struct nn_pool *g, int c, int h, int w, int k, int stride, int pad);
int nn_pool1d_setup(struct nn_pool *g, int c, int l, int k, int stride, int pad);

/* inp (B,c,h,w), out (B,c,oh,ow), idx (B,c,oh,ow): the argmax's offset in its (h,w) plane */
void nn_maxpool_forward(float *out, int *idx, const float *inp, int B, const struct nn_pool *g);
void nn_maxpool_backward(float *dinp, const float *dout, const int *idx, int B,
			 const struct nn_pool *g);
void nn_avgpool_forward(float *out, const float *inp, int B, const struct nn_pool *g);
void nn_avgpool_backward(float *dinp, const float *dout, int B, const struct nn_pool *g);
/* inp (B,C,S), out (B,C): the mean over S */
void nn_gap_forward(float *out, const float *inp, int B, int C, int S);
void nn_gap_backward(float *dinp, const float *dout, int B, int C, int S);

/* Upsampling by integer factors (sh, sw) of (B,C,h,w) to (B,C,h*sh,w*sw): nearest, or bilinear
 * as PyTorch's align_corners=False (1-D: sh = 1 gives linear interpolation along W). */
void nn_upsample_forward(float *out, const float *inp, int B, int C, int h, int w, int sh, int sw,
			 int bilinear);
void nn_upsample_backward(float *dinp, const float *dout, int B, int C, int h, int w, int sh,
			  int sw, int bilinear);

/* ---- Batch normalization -------------------------------------------------------------- */

/* inp, out (B,C,S); gamma, beta, running_mean, running_var, mean, rstd (C).
 * Training: batch statistics (biased variance for normalizing), saved in mean and rstd, and the
 * running statistics moved by momentum with the unbiased variance (PyTorch). Eval: the running
 * statistics, copied to mean and rstd for the backward pass. */
void nn_batchnorm_forward(float *out, float *mean, float *rstd, const float *inp,
			  const float *gamma, const float *beta, float *running_mean,
			  float *running_var, int B, int C, int S, float momentum, float eps,
			  int training);
/* training says which forward produced mean and rstd (batch statistics depend on inp). */
void nn_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
			   const float *inp, const float *mean, const float *rstd,
			   const float *gamma, int B, int C, int S, int training);

/* ---- Element-wise --------------------------------------------------------------------- */

/* n floats each */
void nn_relu_forward(float *out, const float *inp, size_t n);
void nn_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
/* ReLU capped at hi (ReLU6: hi = 6), PyTorch's hardtanh(0, hi): the gradient passes where
 * 0 < out < hi. */
void nn_relu_cap_forward(float *out, const float *inp, size_t n, float hi);
void nn_relu_cap_backward(float *dinp, const float *dout, const float *out, size_t n, float hi);
void nn_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
void nn_leaky_relu_backward(float *dinp, const float *dout, const float *inp, size_t n,
			    float slope);
void nn_sigmoid_forward(float *out, const float *inp, size_t n);
void nn_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);
/* Inverted dropout: mask (n) holds 0 or 1/(1-p), drawn from rng_init(seed). */
void nn_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p,
			uint64_t seed);
void nn_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n);
/* out = a + b */
void nn_add_forward(float *out, const float *a, const float *b, size_t n);
void nn_add_backward(float *da, float *db, const float *dout, size_t n);
/* a (B,ca,S), b (B,cb,S), out (B,ca+cb,S) */
void nn_concat_forward(float *out, const float *a, const float *b, int B, int ca, int cb, int S);
void nn_concat_backward(float *da, float *db, const float *dout, int B, int ca, int cb, int S);

/* ---- Recurrent: LSTM over a sequence --------------------------------------------------- */

/* An LSTM layer as PyTorch's nn.LSTM (one layer, batch of sequences, zero initial states),
 * forward only or bidirectional, over inp (B, in, len) in the network's (C, L) layout, giving
 * out (B, dirs * hid, len): the forward direction's hidden states in channels [0, hid), the
 * backward direction's in [hid, 2 hid), PyTorch's order. Gates in PyTorch's order i, f, g, o.
 * The parameters are one block p of nparams floats holding, per direction (the backward
 * direction second, PyTorch's names with "_reverse"), weight_ih_l0 (4 hid, in), weight_hh_l0
 * (4 hid, hid), bias_ih_l0 (4 hid), bias_hh_l0 (4 hid), at the offsets below (each a multiple
 * of 16 floats; the gaps are padding). */
struct nn_lstm {
	int in, hid, len, dirs;
	size_t w_ih[2], w_hh[2], b_ih[2], b_hh[2];
	size_t nparams;
};
/* Fills g; -1 when a size is out of range. */
int nn_lstm_setup(struct nn_lstm *g, int in, int hid, int len, int bidirectional);
/* Floats per sample that the forward pass saves for the backward pass (state). */
size_t nn_lstm_state(const struct nn_lstm *g);
/* Floats of scratch a forward or backward pass over B sequences needs. */
size_t nn_lstm_scratch(const struct nn_lstm *g, int B);
/* state: B * nn_lstm_state(g) floats, written here and read by the backward pass of the same
 * B samples. The input-to-hidden products of all steps and samples are one sgemm per
 * direction; the recurrence is one (B, 4 hid) x (4 hid, hid) product a step. */
void nn_lstm_forward(float *out, float *state, const float *inp, const float *p, int B,
		     const struct nn_lstm *g, float *scratch);
/* Back-propagation through time: ADDS to dinp (unless NULL) and dp (nparams). */
void nn_lstm_backward(float *dinp, float *dp, const float *dout, const float *inp,
		      const float *state, const float *p, int B, const struct nn_lstm *g,
		      float *scratch);

/* ---- Losses --------------------------------------------------------------------------- */

/* logits (B,K), targets (B) in [0,K), class_weight (K) or NULL, probs (B,K) or NULL.
 * Returns the loss, a weighted mean as PyTorch's CrossEntropyLoss (sum w[y] l / sum w[y]);
 * writes its gradient to dlogits (B,K) unless NULL. */
float nn_softmax_xent(float *dlogits, float *probs, const float *logits, const int *targets,
		      const float *class_weight, int B, int K);
/* Class probabilities for prediction: probs (B,K) = softmax of logits (B,K) by row. */
void nn_softmax(float *probs, const float *logits, int B, int K);
/* Mean squared error over n values; gradient to dpred unless NULL. */
float nn_mse(float *dpred, const float *pred, const float *target, size_t n);

/* ---- Connectionist temporal classification (sequences of labels) ------------------------- */

/* How nn_ctc_loss reduces a batch, as PyTorch's CTCLoss reduction: mean (the default) divides
 * each sample's loss by its target length (at least 1), then averages over the batch; sum adds
 * the samples' losses. Per-sample losses (PyTorch's "none") come out through the losses array. */
enum nn_reduction { NN_REDUCE_MEAN, NN_REDUCE_SUM };

/* CTC loss of B sequences, logits (B, K, T) in the network's layout (K classes, one of them the
 * blank, over T steps), soft-maxed over K here; sample b uses its first input_lengths[b] steps
 * (1..T) and targets its target_lengths[b] labels (>= 0), the samples' targets concatenated in
 * targets (no blanks, labels in [0, K)). Log-space forward-backward as PyTorch's CTCLoss.
 * Writes the reduced loss to *loss, the per-sample losses (B, not reduced) unless losses is
 * NULL, and the gradient of *loss with respect to the logits to dlogits (B, K, T; 0 past a
 * sample's input length) unless NULL. A target that no alignment fits (longer than the input,
 * with the blanks that repeated labels need) has an infinite loss and a zero gradient; with
 * zero_infinity its loss is 0 too (PyTorch's zero_infinity=True; without it PyTorch's gradient
 * there is NaN). Returns -1 with e set on a bad shape, length or label (nothing written). */
int nn_ctc_loss(float *loss, float *losses, float *dlogits, const float *logits, const int *targets,
		const int *input_lengths, const int *target_lengths, int B, int K, int T, int blank,
		enum nn_reduction reduction, int zero_infinity, struct err *e);

/* Best-path decoding of one sample, logits (K, T), its first len steps: the most likely class
 * at each step, repeats collapsed, blanks dropped. Writes the labels (at most len) and returns
 * how many; *logp (unless NULL) is the log-probability of that best path, sum over the steps of
 * the largest log-softmax, so exp(*logp) is a confidence in [0, 1]. Ties go to the lower class. */
int nn_ctc_greedy(int *labels, float *logp, const float *logits, int K, int T, int len, int blank);

#define NN_CTC_MAX_BEAM 1024
/* Prefix beam search over one sample, logits (K, T), its first len steps: keeps the beam most
 * likely label prefixes, each prefix's probability summed over all its alignments. Writes the
 * best min(nbest, prefixes found) hypotheses, most likely first: hypothesis j has lens[j]
 * labels in labels[j * len ...] (labels: nbest * len ints) and log-probability logp[j] (exp of
 * it: the confidence). Returns their number, or -1 with e set on bad arguments (beam width in
 * 1..NN_CTC_MAX_BEAM). Equal scores are ordered by the order the prefixes were found, so the result
 * is deterministic. */
int nn_ctc_beam(int *labels, int *lens, float *logp, int nbest, const float *logits, int K, int T,
		int len, int blank, int beam, struct err *e);

/* ---- Optimizers and schedules (PyTorch semantics) -------------------------------------- */

enum nn_optim_kind { NN_SGD, NN_ADAM, NN_ADAMW };

/* Embedded value: nn_optim_init (defaults: lr 1e-3, momentum 0, betas 0.9/0.999, eps 1e-8,
 * weight_decay 0; AdamW's 1e-2) then set fields; nn_optim_release frees the state. */
struct nn_optim {
	enum nn_optim_kind kind;
	float lr, momentum, dampening, beta1, beta2, eps, weight_decay;
	int nesterov;
	/* per parameter, a factor of weight_decay (0: no decay), e.g. from nn_net_decay_mask;
	 * NULL decays all (PyTorch's one parameter group); borrowed, not freed */
	const float *decay_mask;
	long t;	      /* steps taken */
	size_t n;     /* parameters */
	float *m, *v; /* momentum buffer / first and second moments */
};
void nn_optim_init(struct nn_optim *o, enum nn_optim_kind kind, size_t n);
void nn_optim_release(struct nn_optim *o);
/* One step on params[n] with grads[n]. */
void nn_optim_step(struct nn_optim *o, float *params, const float *grads);

/* Scales grads[n] down to an L2 norm of max_norm when larger (PyTorch's clip_grad_norm_,
 * factor max_norm / (norm + 1e-6)); returns the norm before clipping. */
float nn_clip_grad_norm(float *grads, size_t n, float max_norm);

enum nn_sched_kind { NN_SCHED_CONST, NN_SCHED_STEP, NN_SCHED_COSINE, NN_SCHED_PLATEAU };

/* Learning-rate schedule by epoch. Embedded value, no release: nn_sched_init (defaults
 * step_size 30, gamma 0.1, t_max 100, warmup 0, eta_min 0, factor 0.1, patience 10, threshold
 * 1e-4, cooldown 0, min_lr 0: PyTorch's) then set fields.
 * step: base * gamma^(epoch / step_size). cosine: a linear warm-up, base * (e + 1) / warmup
 * for e < warmup, then eta_min + (base - eta_min)(1 + cos(pi e' / T)) / 2 with e' = e - warmup
 * over T = t_max - warmup epochs (eta_min after).
 * plateau: nn_sched_plateau multiplies by factor after patience epochs without improvement
 * (mode min, relative threshold, cooldown, min_lr as PyTorch's ReduceLROnPlateau). */
struct nn_sched {
	enum nn_sched_kind kind;
	float base_lr, lr;
	int step_size;
	float gamma;
	int t_max, warmup;
	float eta_min;
	float factor, threshold, min_lr;
	int patience, cooldown;
	/* plateau state */
	float best;
	int bad, cooldown_left, seen;
};
void nn_sched_init(struct nn_sched *s, enum nn_sched_kind kind, float base_lr);
/* The learning rate for epoch (0-based) of a step or cosine schedule (plateau: current lr). */
float nn_sched_lr(struct nn_sched *s, int epoch);
/* Plateau: feeds the epoch's monitored value (lower is better); returns the new lr. */
float nn_sched_plateau(struct nn_sched *s, float value);

/* Early stopping: patience epochs without an improvement of more than min_delta. Embedded
 * value: nn_early_init. */
struct nn_early {
	int patience, maximize;
	float min_delta;
	float best;
	int best_epoch, bad, seen;
};
void nn_early_init(struct nn_early *s, int patience, float min_delta, int maximize);
/* Feeds an epoch's value: returns 1 when it is the best so far (keep these weights), else 0. */
int nn_early_update(struct nn_early *s, int epoch, float value);
/* 1 once patience epochs passed without improvement. */
int nn_early_stop(const struct nn_early *s);

/* ---- The network ---------------------------------------------------------------------- */

/* A training loop, for a 1-D CNN over (C = 4, L = 256) curves and 8 classes:
 *
 *	static const struct nn_layer_desc layers[] = {
 *		{.op = NN_CONV1D, .name = "conv1", .out = 32, .k = 7, .pad = 3, .no_bias = 1},
 *		{.op = NN_BATCHNORM, .name = "bn1"},
 *		{.op = NN_RELU},
 *		{.op = NN_MAXPOOL1D, .name = "pool1", .k = 2},
 *		{.op = NN_CONV1D, .name = "conv2", .out = 32, .k = 5, .pad = 2},
 *		{.op = NN_RELU},
 *		{.op = NN_ADD, .from2 = "pool1"},	// residual: the ReLU's output + pool1's
 *		{.op = NN_GAP},
 *		{.op = NN_DENSE, .name = "fc", .out = 8},
 *	};
 *	struct nn_net_desc d = {.dims = 2, .c = 4, .w = 256, .layers = layers, .nlayers = 9,
 *				.max_batch = 64, .threads = 2};
 *	if (nn_net_new(&net, &d, &e) < 0) ...	// e says which layer and why
 *	nn_net_init(net, seed);
 *	nn_optim_init(&opt, NN_ADAMW, nn_net_nparams(net));
 *	for each batch (x: (B, 4, 256), y: B labels):
 *		const float *logits = nn_net_forward(net, x, B, 1);
 *		loss = nn_softmax_xent(dlogits, NULL, logits, y, NULL, B, 8);
 *		nn_net_zero_grad(net);
 *		nn_net_backward(net, dlogits);
 *		nn_net_step(net, &opt);
 *	predict: nn_net_forward(net, x, B, 0); save: nn_net_tensor(net, i) for i < ntensors.
 *
 * A CRNN for text lines, (1, 32, 128) images to K classes (class 0 the blank) at 32 steps:
 *
 *	conv2d/batchnorm/relu/maxpool2d x 2, conv2d .out = 96 ...	// (96, 8, 32)
 *	{.op = NN_TO_SEQ},						// (768, 32)
 *	{.op = NN_LSTM, .name = "rnn", .out = 128, .bidirectional = 1},	// (256, 32)
 *	{.op = NN_CONV1D, .name = "fc", .out = K, .k = 1},		// (K, 32): logits
 *
 *	z = nn_net_forward(net, x, B, 1);
 *	nn_ctc_loss(&loss, NULL, dz, z, targets, in_lens, tgt_lens, B, K, 32, 0, NN_REDUCE_MEAN,
 *		    1, &e);
 *	then backward and step as above; reading: nn_ctc_greedy or nn_ctc_beam on each sample's
 *	(K, 32) logits. bench/nn_ctc.c is this network.
 */

enum nn_op {
	NN_CONV1D = 1,
	NN_CONV2D,
	NN_CONVT2D,
	NN_DENSE,
	NN_MAXPOOL1D,
	NN_MAXPOOL2D,
	NN_AVGPOOL1D,
	NN_AVGPOOL2D,
	NN_GAP, /* global average pool: (C,L) or (C,H,W) -> (C) */
	NN_UPSAMPLE,
	NN_BATCHNORM, /* over channels of (C), (C,L) or (C,H,W) */
	NN_RELU,
	NN_LEAKY_RELU,
	NN_SIGMOID,
	NN_DROPOUT,
	NN_ADD,
	NN_CONCAT,
	NN_FLATTEN, /* (C, L) or (C, H, W) -> (C L) or (C H W): for a dense layer */
	/* (C, H, W) -> (C H, W), a sequence over W of the feature map's columns (a CRNN's
	 * convolutions to its recurrent layers; no copy). NN_FLATTEN does not fit there: it makes
	 * one vector of the whole map. */
	NN_TO_SEQ,
	/* an LSTM over (C, L) -> (dirs * out, L), see nn_lstm; tensors "NAME.weight_ih_l0", ...
	 * as PyTorch's nn.LSTM. A dense layer at every step is an NN_CONV1D with k = 1. */
	NN_LSTM,
};

/* One layer of a description. Zero means the default for every field. */
struct nn_layer_desc {
	enum nn_op op;
	const char *name;  /* unique; prefix of its tensors ("conv1" -> "conv1.weight") */
	const char *from;  /* input node: a layer's name, "input", or NULL for the previous layer */
	const char *from2; /* second input of NN_ADD and NN_CONCAT */
	int out;	   /* output channels (conv) or features (dense) */
	int k;		   /* kernel size (square in 2-D) */
	int stride;	   /* default 1 for convolutions, k for pooling */
	int pad;
	int dilation;	   /* default 1 */
	int opad;	   /* output padding of NN_CONVT2D */
	int no_bias;	   /* conv, dense: no bias term */
	int groups;	   /* NN_CONV2D: channel groups (0: 1; the input's channels: depthwise) */
	float cap;	   /* NN_RELU: an upper bound too (6: ReLU6); 0: none */
	int scale;	   /* NN_UPSAMPLE factor (both axes in 2-D, W in 1-D) */
	int bilinear;	   /* NN_UPSAMPLE: bilinear (linear in 1-D) instead of nearest */
	float p;	   /* dropout probability */
	float slope;	   /* leaky ReLU slope, default 0.01 */
	float momentum;	   /* batch norm, default 0.1 */
	float eps;	   /* batch norm, default 1e-5 */
	int bidirectional; /* NN_LSTM: both directions (out channels each) */
};

/* A network: the input's per-sample shape (dims 1: (c); 2: (c, w) = (C, L); 3: (c, h, w)),
 * the layers in topological order (the last one is the output), the largest batch, and the
 * threads that forward and backward may use. Results do not depend on the threads: a batch is
 * cut into min(8, B) fixed chunks of samples, each with its own gradient partial summed in
 * chunk order, and batch norm reduces each channel in one fixed order; so more than 8 threads
 * do not help. */
struct nn_net_desc {
	int dims, c, h, w;
	const struct nn_layer_desc *layers;
	int nlayers;
	int max_batch;
	int threads;
	int input_grad; /* also compute the gradient of the input */
};

/* A named tensor of the network: a trainable parameter (grad set) or a buffer (grad NULL). */
struct nn_tensor {
	char name[64];
	int ndim;
	size_t shape[4];
	size_t size;
	float *data;
	float *grad;
};

struct nn_net;

/* Builds the network, checking every shape; returns -1 with e set on a bad description.
 * Parameters start at PyTorch's default initialization for seed 0 (see nn_net_init). */
int nn_net_new(struct nn_net **out, const struct nn_net_desc *d, struct err *e);
void nn_net_free(struct nn_net **net);

/* PyTorch's default initialization from core/rng with seed: conv and dense weights and biases
 * uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)); LSTM tensors uniform in
 * +-1/sqrt(hidden); batch norm weight 1, bias 0,
 * running mean 0, variance 1. The seed also drives dropout (with the step and sample index). */
void nn_net_init(struct nn_net *net, uint64_t seed);

/* Threads for later passes (1 .. the description's threads). */
void nn_net_set_threads(struct nn_net *net, int threads);

/* Runs inp (B, input shape), B <= max_batch, in training (batch statistics, dropout) or eval
 * mode; returns the output (B, nn_net_out_size), owned by net, valid until the next forward.
 * Training forwards count the steps that seed dropout. */
const float *nn_net_forward(struct nn_net *net, const float *inp, int B, int training);
/* Back-propagates dout (B, out size) of the last forward: ADDS to the gradients. */
void nn_net_backward(struct nn_net *net, const float *dout);
void nn_net_zero_grad(struct nn_net *net);
/* One optimizer step over all trainable parameters (o made with nn_net_nparams). */
void nn_net_step(struct nn_net *net, struct nn_optim *o);

size_t nn_net_out_size(const struct nn_net *net);
size_t nn_net_nparams(const struct nn_net *net);
/* The parameter and gradient buffers (nn_net_nparams floats, owned by net). Slices in between
 * tensors are padding kept at zero. */
float *nn_net_params(struct nn_net *net);
float *nn_net_grads(struct nn_net *net);
/* mask[nparams]: 1 for convolution, dense and LSTM weights, 0 for biases, batch-norm parameters and
 * padding: the usual choice of what weight decay applies to (nn_optim.decay_mask). */
void nn_net_decay_mask(const struct nn_net *net, float *mask);
/* The whole trained state (parameters, then buffers such as running statistics) as one array of
 * nn_net_state_size floats: to keep the best epoch's weights and put them back. */
size_t nn_net_state_size(const struct nn_net *net);
void nn_net_get_state(const struct nn_net *net, float *dst);
void nn_net_set_state(struct nn_net *net, const float *src);
/* Named tensors in state_dict order: parameters and buffers, owned by net. */
int nn_net_ntensors(const struct nn_net *net);
const struct nn_tensor *nn_net_tensor(const struct nn_net *net, int i);
const struct nn_tensor *nn_net_find(const struct nn_net *net, const char *name);
/* A node's activation (B, size) from the last forward, its gradient from the last backward, and
 * its per-sample size; name "input" or a layer's. NULL when there is no such node; the input's
 * gradient is NULL unless the description asked for it. */
const float *nn_net_node(const struct nn_net *net, const char *name, const float **grad,
			 size_t *size);

/* Per-layer CPU time, to see where a training step's time goes (bench/pose_unet.c profile).
 * nn_net_profile(net, 1) starts (or restarts) sums from zero: every later pass adds each
 * layer's CPU seconds (thread CPU time, summed over the threads that ran its chunks or
 * channels) to its forward or backward sum; a layer's backward includes clearing the gradients
 * it is the first to add into. nn_net_profile(net, 0) stops and drops the sums. */
void nn_net_profile(struct nn_net *net, int on);
/* The sums of layer i in [0, layers) as *fwd and *bwd seconds, and its name (owned by net);
 * i = layers: the reduction of the chunks' gradient partials, in *bwd, named "(reduce)";
 * NULL past that. */
const char *nn_net_profile_get(const struct nn_net *net, int i, double *fwd, double *bwd);

/* ---- Data augmentation (deterministic from a struct rng) -------------------------------- */

struct rng;

/* Curves inp (C, L) -> out (C, L), one resampling for all channels: a time warp that moves the
 * middle of the curve by up to warp * L samples (smooth, ends fixed, kept monotonic), a circular
 * shift by up to shift samples either way, amplitude scaled in [1 - scale, 1 + scale], and
 * Gaussian noise of std noise. Zero turns a part off. out and inp must differ. */
struct nn_aug_curve {
	int shift;
	float scale, noise, warp;
};
void nn_aug_curve(float *out, const float *inp, int C, int L, struct rng *r,
		  const struct nn_aug_curve *a);

/* Images inp (C,H,W) -> out (C,H,W) by one bilinear resampling about the centre: rotation up
 * to +-rot radians, scale in [1 - zoom, 1 + zoom], shift up to +-shift of the size, horizontal
 * flip with probability flip; then brightness +-bright and contrast in [1 - contrast,
 * 1 + contrast] about the image's mean, and Gaussian noise of std noise. Pixels from outside
 * the image read as fill. out and inp must differ. */
struct nn_aug_image {
	float rot, zoom, shift, flip, bright, contrast, noise, fill;
};
void nn_aug_image(float *out, const float *inp, int C, int H, int W, struct rng *r,
		  const struct nn_aug_image *a);
/* The same, moving npts points xy (x, y pairs in pixels, the centre of the top-left pixel at
 * 0, 0; NaN stays NaN) with the picture: where they land in out. Returns 1 when the picture
 * was mirrored (left and right body parts then trade places: the caller swaps them). */
int nn_aug_image_points(float *out, const float *inp, int C, int H, int W, struct rng *r,
			const struct nn_aug_image *a, float *xy, size_t npts);

#endif
