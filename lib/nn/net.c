/* The network object: a graph of layers checked once at build time, one parameter and one
 * gradient buffer sliced into named tensors, activations for the largest batch, and forward and
 * backward passes on threads over fixed chunks of the batch, so that results do not depend on
 * the number of threads. */
#include "base/blas.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/par.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "nn/nn_internal.h"

/* A batch is cut into this many chunks of consecutive samples (fewer when the batch is
 * smaller); each chunk writes its own parameter-gradient partial, summed in chunk order. The
 * number does not depend on the threads: that is what makes results identical for any. */
#define NN_CHUNKS 8
/* Parameter tensors start at multiples of this many floats (64 bytes). */
#define NN_ALIGN    16
#define NN_NAME_MAX 48
/* Bounds against absurd descriptions: floats of all activations together (4 GB), of one
 * sample of one node (the layer functions index planes with int), of parameters (their
 * gradient, partials and optimizer state take 12 times as much). */
#define NN_MAX_FLOATS ((size_t)1 << 30)
#define NN_MAX_SAMPLE ((size_t)INT32_MAX / 2)
#define NN_MAX_PARAMS ((size_t)1 << 27)

struct nn_node {
	char name[NN_NAME_MAX];
	int dims, c, h, w;
	size_t size; /* per sample */
	float *act, *dact;
	int alias; /* act and dact belong to another node (flatten) */
};

struct nn_layer {
	struct nn_layer_desc d;
	int in, in2, out; /* node indices */
	struct nn_conv conv;
	struct nn_pool pool;
	struct nn_lstm lstm;
	float *state;		     /* lstm: what backward reads, (max_batch, nn_lstm_state) */
	size_t w_off, b_off, nw, nb; /* in params (nw, nb = 0: none) */
	size_t rm_off, rv_off;	     /* batch norm: in bufs */
	int ch, S;		     /* batch norm: channels, spatial size; gap: S */
	float *mean, *rstd;	     /* batch norm, (C) */
	int *idx;		     /* max pooling argmax, (max_batch, out size) */
	float *mask;		     /* dropout, (max_batch, size) */
	int zero[2];		     /* nodes whose gradient this layer's backward clears first */
	int set[2]; /* its input's (0) or second input's (1) gradient is written, not added to */
	uint64_t drop_seed;
};

struct nn_net {
	struct nn_layer *layers;
	struct nn_node *nodes;
	int nlayers, nnodes;
	float *params, *grads, *bufs, *partials;
	size_t nparams, nbufs;
	float **scratch;
	int max_threads, threads;
	int max_batch, B, training, input_grad;
	uint64_t seed, step;
	struct nn_tensor *tensors;
	int ntensors;
	char *dead; /* per node: no layer reads it and it is not the output (gradient stays 0) */
	/* nn_net_profile: per thread, per layer (and one more row: the partials' reduction),
	 * forward and backward CPU seconds; NULL when off */
	double *prof;
};

static const char *op_name(enum nn_op op)
{
	switch (op) {
	case NN_CONV1D:
		return "conv1d";
	case NN_CONV2D:
		return "conv2d";
	case NN_CONVT2D:
		return "convt2d";
	case NN_DENSE:
		return "dense";
	case NN_MAXPOOL1D:
		return "maxpool1d";
	case NN_MAXPOOL2D:
		return "maxpool2d";
	case NN_AVGPOOL1D:
		return "avgpool1d";
	case NN_AVGPOOL2D:
		return "avgpool2d";
	case NN_GAP:
		return "gap";
	case NN_UPSAMPLE:
		return "upsample";
	case NN_BATCHNORM:
		return "batchnorm";
	case NN_RELU:
		return "relu";
	case NN_LEAKY_RELU:
		return "leaky_relu";
	case NN_SIGMOID:
		return "sigmoid";
	case NN_DROPOUT:
		return "dropout";
	case NN_ADD:
		return "add";
	case NN_CONCAT:
		return "concat";
	case NN_FLATTEN:
		return "flatten";
	case NN_TO_SEQ:
		return "to_seq";
	case NN_LSTM:
		return "lstm";
	}
	return NULL;
}

static int find_node(const struct nn_net *net, const char *name)
{
	for (int i = 0; i < net->nnodes; i++)
		if (!strcmp(net->nodes[i].name, name))
			return i;
	return -1;
}

static void shape_str(char *buf, size_t n, const struct nn_node *x)
{
	if (x->dims == 1)
		snprintf(buf, n, "(%d)", x->c);
	else if (x->dims == 2)
		snprintf(buf, n, "(%d, %d)", x->c, x->w);
	else
		snprintf(buf, n, "(%d, %d, %d)", x->c, x->h, x->w);
}

static size_t align_up(size_t n)
{
	return (n + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
}

/* Resolves a layer's input name: NULL is the previous node. */
static int resolve(struct nn_net *net, const char *name, int i, const char *what, struct err *e)
{
	int k;
	if (!name)
		return net->nnodes - 1;
	k = find_node(net, name);
	if (k < 0)
		return err_set(e, DYN_EUSAGE,
			       "nn: layer %d \"%s\": %s \"%s\" is not an earlier layer", i,
			       net->nodes[net->nnodes].name, what, name);
	return k;
}

/* Checks layer i against its input shape(s) and sets its output node; -1 with e set. */
static int build_layer(struct nn_net *net, int i, size_t *np, size_t *nbuf, size_t *scratch,
		       struct err *e)
{
	struct nn_layer *L = &net->layers[i];
	struct nn_layer_desc *d = &L->d;
	struct nn_node *y = &net->nodes[net->nnodes];
	const struct nn_node *x, *x2 = NULL;
	const char *nm = y->name, *op = op_name(d->op);
	char sh[64];

	if ((L->in = resolve(net, d->from, i, "input", e)) < 0)
		return -1;
	x = &net->nodes[L->in];
	L->in2 = -1;
	if (d->op == NN_ADD || d->op == NN_CONCAT) {
		if (!d->from2)
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": %s needs a second input", i, nm, op);
		if ((L->in2 = resolve(net, d->from2, i, "second input", e)) < 0)
			return -1;
		x2 = &net->nodes[L->in2];
	}
	shape_str(sh, sizeof(sh), x);
	y->dims = x->dims, y->c = x->c, y->h = x->h, y->w = x->w;
	int stride = d->stride, dil = d->dilation ? d->dilation : 1;
	switch (d->op) {
	case NN_CONV1D:
	case NN_CONV2D:
	case NN_CONVT2D: {
		int two = d->op != NN_CONV1D, rc;
		if (x->dims != (two ? 3 : 2))
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": %s needs a %s input, got %s", i, nm,
				       op, two ? "(C, H, W)" : "(C, L)", sh);
		if (d->out < 1 || d->k < 1)
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": %s needs out >= 1 and k >= 1", i, nm,
				       op);
		if (!stride)
			stride = 1;
		if (d->op == NN_CONV1D)
			rc = nn_conv1d_setup(&L->conv, x->c, d->out, x->w, d->k, stride, d->pad,
					     dil);
		else if (d->op == NN_CONV2D)
			rc = nn_conv2d_setup(&L->conv, x->c, d->out, x->h, x->w, d->k, d->k, stride,
					     stride, d->pad, d->pad, dil, dil);
		else
			rc = nn_convt2d_setup(&L->conv, x->c, d->out, x->h, x->w, d->k, stride,
					      d->pad, d->opad, dil);
		if (rc < 0)
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": %s with kernel %d, stride %d, pad %d, "
				       "dilation %d does not fit input %s",
				       i, nm, op, d->k, stride, d->pad, dil, sh);
		if (d->groups > 1 &&
		    (d->op != NN_CONV2D || nn_conv_set_groups(&L->conv, d->groups) < 0))
			return err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d \"%s\": %d groups need a conv2d whose input (%d) "
			    "and output (%d) channels divide by them",
			    i, nm, d->groups, x->c, d->out);
		y->c = d->out;
		if (d->op == NN_CONVT2D)
			y->h = L->conv.h, y->w = L->conv.w;
		else
			y->h = L->conv.oh, y->w = L->conv.ow;
		L->nw = (size_t)x->c / (d->groups > 1 ? (size_t)d->groups : 1) * d->out * d->k *
			(d->op == NN_CONV1D ? 1 : d->k);
		L->nb = d->no_bias ? 0 : (size_t)d->out;
		size_t s = nn_conv_scratch(&L->conv);
		if (s > NN_MAX_FLOATS / 8)
			return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": %s is too large", i, nm,
				       op);
		if (s > *scratch)
			*scratch = s;
		break;
	}
	case NN_DENSE: {
		size_t nin = (size_t)x->c * x->h * x->w;
		if (d->out < 1)
			return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": dense needs out >= 1",
				       i, nm);
		if (nin * (size_t)d->out > NN_MAX_FLOATS / 8)
			return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": dense is too large", i,
				       nm);
		y->dims = 1, y->c = d->out, y->h = y->w = 1;
		L->nw = nin * (size_t)d->out;
		L->nb = d->no_bias ? 0 : (size_t)d->out;
		break;
	}
	case NN_MAXPOOL1D:
	case NN_AVGPOOL1D:
	case NN_MAXPOOL2D:
	case NN_AVGPOOL2D: {
		int two = d->op == NN_MAXPOOL2D || d->op == NN_AVGPOOL2D, rc;
		if (x->dims != (two ? 3 : 2))
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": %s needs a %s input, got %s", i, nm,
				       op, two ? "(C, H, W)" : "(C, L)", sh);
		if (!stride)
			stride = d->k;
		rc = two ? nn_pool2d_setup(&L->pool, x->c, x->h, x->w, d->k, stride, d->pad)
			 : nn_pool1d_setup(&L->pool, x->c, x->w, d->k, stride, d->pad);
		if (rc < 0)
			return err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d \"%s\": %s with kernel %d, stride %d, pad %d does "
			    "not fit input %s (pad at most half the kernel)",
			    i, nm, op, d->k, stride, d->pad, sh);
		y->h = L->pool.oh, y->w = L->pool.ow;
		break;
	}
	case NN_GAP:
		if (x->dims < 2)
			return err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d \"%s\": gap needs a (C, L) or (C, H, W) input, "
			    "got %s",
			    i, nm, sh);
		L->S = x->h * x->w;
		y->dims = 1, y->h = y->w = 1;
		break;
	case NN_UPSAMPLE: {
		int s = d->scale ? d->scale : 2;
		if (x->dims < 2 || s < 1 || s > 64)
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": upsample needs a (C, L) or (C, H, W) "
				       "input and a scale in 1..64, got %s and %d",
				       i, nm, sh, s);
		if ((size_t)x->c * x->h * x->w * s * (x->dims == 3 ? s : 1) > NN_MAX_SAMPLE)
			return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": output too large", i,
				       nm);
		if (x->dims == 3)
			y->h = x->h * s;
		y->w = x->w * s;
		break;
	}
	case NN_BATCHNORM:
		L->ch = x->c;
		L->S = x->h * x->w;
		L->nw = L->nb = (size_t)x->c;
		L->rm_off = *nbuf;
		L->rv_off = *nbuf + align_up((size_t)x->c);
		*nbuf += 2 * align_up((size_t)x->c);
		break;
	case NN_RELU:
	case NN_LEAKY_RELU:
	case NN_SIGMOID:
		break;
	case NN_DROPOUT:
		if (!(d->p >= 0 && d->p < 1))
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": dropout p must be in [0, 1), got %g",
				       i, nm, (double)d->p);
		break;
	case NN_ADD:
	case NN_CONCAT: {
		char sh2[64];
		shape_str(sh2, sizeof(sh2), x2);
		if (d->op == NN_ADD &&
		    (x->dims != x2->dims || x->c != x2->c || x->h != x2->h || x->w != x2->w))
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": add needs equal shapes, got %s and %s",
				       i, nm, sh, sh2);
		if (d->op == NN_CONCAT) {
			if (x->dims != x2->dims || x->h != x2->h || x->w != x2->w)
				return err_set(
				    e, DYN_EUSAGE,
				    "nn: layer %d \"%s\": concat needs equal sizes but for "
				    "channels, got %s and %s",
				    i, nm, sh, sh2);
			if ((size_t)(x->c + (long)x2->c) * x->h * x->w > NN_MAX_SAMPLE)
				return err_set(e, DYN_EUSAGE,
					       "nn: layer %d \"%s\": output too large", i, nm);
			y->c = x->c + x2->c;
		}
		break;
	}
	case NN_FLATTEN:
		y->dims = 1, y->c = x->c * x->h * x->w, y->h = y->w = 1;
		y->alias = 1;
		break;
	case NN_TO_SEQ:
		/* (C, H, W) and (C H, W) are the same floats in NCHW */
		if (x->dims != 3)
			return err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d \"%s\": to_seq needs a (C, H, W) input, got %s", i, nm,
			    sh);
		y->dims = 2, y->c = x->c * x->h, y->h = 1;
		y->alias = 1;
		break;
	case NN_LSTM: {
		if (x->dims != 2)
			return err_set(e, DYN_EUSAGE,
				       "nn: layer %d \"%s\": lstm needs a (C, L) input, got %s", i,
				       nm, sh);
		if (d->out < 1 || nn_lstm_setup(&L->lstm, x->c, d->out, x->w, d->bidirectional) < 0)
			return err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d \"%s\": lstm with %d hidden units does not fit "
			    "input %s",
			    i, nm, d->out, sh);
		y->c = L->lstm.dirs * d->out;
		L->nw = L->lstm.nparams;
		/* the chunks of a batch have at most this many samples */
		int nb =
		    net->max_batch <= NN_CHUNKS ? 1 : (net->max_batch + NN_CHUNKS - 1) / NN_CHUNKS;
		size_t s = nn_lstm_scratch(&L->lstm, nb);
		if (s > NN_MAX_FLOATS / 8 || nn_lstm_state(&L->lstm) > NN_MAX_SAMPLE)
			return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": lstm is too large", i,
				       nm);
		if (s > *scratch)
			*scratch = s;
		break;
	}
	default:
		return err_set(e, DYN_EUSAGE, "nn: layer %d: unknown operation %d", i, (int)d->op);
	}
	y->size = (size_t)y->c * y->h * y->w;
	if (y->size == 0 || y->size > NN_MAX_SAMPLE ||
	    y->size > NN_MAX_FLOATS / (size_t)net->max_batch)
		return err_set(e, DYN_EUSAGE, "nn: layer %d \"%s\": output too large", i, nm);
	L->out = net->nnodes++;
	if (L->nw) {
		L->w_off = *np;
		*np += align_up(L->nw);
	}
	if (L->nb) {
		L->b_off = *np;
		*np += align_up(L->nb);
	}
	return 0;
}

static void add_tensor(struct nn_net *net, const char *layer, const char *what, float *data,
		       float *grad, int ndim, const size_t *shape)
{
	struct nn_tensor *t = &net->tensors[net->ntensors++];
	snprintf(t->name, sizeof(t->name), "%s.%s", layer, what);
	t->ndim = ndim;
	t->size = 1;
	for (int k = 0; k < ndim; k++) {
		t->shape[k] = shape[k];
		t->size *= shape[k];
	}
	t->data = data;
	t->grad = grad;
}

/* PyTorch's names: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then "_reverse" */
static void add_lstm_tensors(struct nn_net *net, const struct nn_layer *L, const char *nm)
{
	const struct nn_lstm *g = &L->lstm;
	for (int d = 0; d < g->dirs; d++) {
		const char *sfx = d ? "_reverse" : "";
		size_t G4 = 4 * (size_t)g->hid, sh[2] = {G4, (size_t)g->in};
		const size_t off[4] = {g->w_ih[d], g->w_hh[d], g->b_ih[d], g->b_hh[d]};
		const char *what[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
		char name[32];
		for (int k = 0; k < 4; k++) {
			size_t o = L->w_off + off[k];
			sh[1] = k == 0 ? (size_t)g->in : (size_t)g->hid;
			snprintf(name, sizeof(name), "%s%s", what[k], sfx);
			add_tensor(net, nm, name, net->params + o, net->grads + o, k < 2 ? 2 : 1,
				   sh);
		}
	}
}

static void make_tensors(struct nn_net *net)
{
	net->tensors = xcalloc((size_t)net->nlayers * 8 + 1, sizeof(*net->tensors));
	for (int i = 0; i < net->nlayers; i++) {
		struct nn_layer *L = &net->layers[i];
		const char *nm = net->nodes[L->out].name;
		const struct nn_node *x = &net->nodes[L->in];
		size_t sh[4];
		int nd = 0;
		switch (L->d.op) {
		case NN_CONV1D:
			sh[0] = (size_t)L->d.out, sh[1] = (size_t)x->c, sh[2] = (size_t)L->d.k;
			nd = 3;
			break;
		case NN_CONV2D:
		case NN_CONVT2D:
			sh[0] = (size_t)(L->d.op == NN_CONV2D ? L->d.out : x->c);
			sh[1] = (size_t)(L->d.op == NN_CONV2D
					     ? x->c / (L->d.groups > 1 ? L->d.groups : 1)
					     : L->d.out);
			sh[2] = sh[3] = (size_t)L->d.k;
			nd = 4;
			break;
		case NN_DENSE:
			sh[0] = (size_t)L->d.out, sh[1] = x->size;
			nd = 2;
			break;
		case NN_BATCHNORM:
			sh[0] = (size_t)L->ch;
			nd = 1;
			break;
		case NN_LSTM:
			add_lstm_tensors(net, L, nm);
			continue;
		default:
			break;
		}
		if (L->nw)
			add_tensor(net, nm, "weight", net->params + L->w_off, net->grads + L->w_off,
				   nd, sh);
		if (L->nb) {
			size_t bs = L->d.op == NN_BATCHNORM ? (size_t)L->ch : (size_t)L->d.out;
			add_tensor(net, nm, "bias", net->params + L->b_off, net->grads + L->b_off,
				   1, &bs);
		}
		if (L->d.op == NN_BATCHNORM) {
			add_tensor(net, nm, "running_mean", net->bufs + L->rm_off, NULL, 1, sh);
			add_tensor(net, nm, "running_var", net->bufs + L->rv_off, NULL, 1, sh);
		}
	}
}

/* The node whose buffers node k uses (flatten shares its input's). Node k > 0 is the output
 * of layer k - 1. */
static int root_of(const struct nn_net *net, int k)
{
	while (k > 0 && net->nodes[k].alias)
		k = net->layers[k - 1].in;
	return k;
}

/* Whether layer L's backward can write (rather than add to) the gradient of its input (slot 0)
 * or second input (slot 1): convolutions, ReLU, batch norm and concatenation can, when the
 * two inputs of a concatenation are different nodes. */
static int can_set(const struct nn_net *net, const struct nn_layer *L, int slot)
{
	switch (L->d.op) {
	case NN_CONV1D:
	case NN_CONV2D:
	case NN_BATCHNORM:
		return slot == 0;
	case NN_RELU:
		return slot == 0 && !(L->d.cap > 0);
	case NN_CONCAT:
		return root_of(net, L->in) != root_of(net, L->in2);
	default:
		return 0;
	}
}

/* Backward adds into gradients, so each must start at 0 in every pass. The layer that reads it
 * last in the forward order (the first to add into it in backward) writes it instead when it
 * can (can_set: no pass over memory to clear it, and none to read zeros back); otherwise it
 * clears it right before its backward, in the same chunk or channel task (no extra barrier).
 * The output's gradient is dout itself; gradients of nodes nothing reads are cleared at the
 * start. */
static void plan_zeroing(struct nn_net *net)
{
	int *last = xmallocarray((size_t)net->nnodes, sizeof(int));
	int out = root_of(net, net->layers[net->nlayers - 1].out);
	for (int k = 0; k < net->nnodes; k++)
		last[k] = -1;
	for (int i = 0; i < net->nlayers; i++) {
		struct nn_layer *L = &net->layers[i];
		L->zero[0] = L->zero[1] = -1;
		L->set[0] = L->set[1] = 0;
		last[root_of(net, L->in)] = i;
		if (L->in2 >= 0)
			last[root_of(net, L->in2)] = i;
	}
	net->dead = xcalloc((size_t)net->nnodes, 1);
	for (int k = 0; k < net->nnodes; k++) {
		if (net->nodes[k].alias || k == out || !net->nodes[k].dact)
			continue;
		if (last[k] < 0) {
			net->dead[k] = 1;
			continue;
		}
		struct nn_layer *L = &net->layers[last[k]];
		int slot = root_of(net, L->in) == k ? 0 : 1;
		if (can_set(net, L, slot))
			L->set[slot] = 1;
		else
			L->zero[L->zero[0] < 0 ? 0 : 1] = k;
	}
	free(last);
}

static int check_desc(struct nn_net *net, const struct nn_net_desc *d, struct err *e)
{
	if (d->dims < 1 || d->dims > 3 || d->c < 1 || (d->dims == 3 && d->h < 1) ||
	    (d->dims >= 2 && d->w < 1))
		return err_set(e, DYN_EUSAGE, "nn: bad input shape (dims %d, %d, %d, %d)", d->dims,
			       d->c, d->h, d->w);
	if (d->nlayers < 1 || !d->layers)
		return err_set(e, DYN_EUSAGE, "nn: a network needs at least one layer");
	if (d->max_batch < 1 || d->max_batch > (1 << 24))
		return err_set(e, DYN_EUSAGE, "nn: max batch must be in 1..%d, got %d", 1 << 24,
			       d->max_batch);
	struct nn_node *in = &net->nodes[0];
	snprintf(in->name, sizeof(in->name), "input");
	in->dims = d->dims, in->c = d->c;
	in->h = d->dims == 3 ? d->h : 1;
	in->w = d->dims >= 2 ? d->w : 1;
	in->size = (size_t)in->c * in->h * in->w;
	if (in->size > NN_MAX_SAMPLE || in->size > NN_MAX_FLOATS / (size_t)d->max_batch)
		return err_set(e, DYN_EUSAGE, "nn: input too large");
	net->nnodes = 1;
	return 0;
}

int nn_net_new(struct nn_net **out, const struct nn_net_desc *d, struct err *e)
{
	struct nn_net *net = xcalloc(1, sizeof(*net));
	size_t np = 0, nbuf = 0, scratch = 0, total = 0;
	int ret = -1;

	*out = NULL;
	net->max_batch = d->max_batch;
	net->nodes = xcalloc((size_t)(d->nlayers > 0 ? d->nlayers : 0) + 1, sizeof(*net->nodes));
	if (check_desc(net, d, e) < 0)
		goto out;
	net->nlayers = d->nlayers;
	net->layers = xcalloc((size_t)d->nlayers, sizeof(*net->layers));
	net->input_grad = d->input_grad;
	net->max_threads = d->threads < 1 ? 1 : d->threads > 256 ? 256 : d->threads;
	net->threads = net->max_threads;
	for (int i = 0; i < d->nlayers; i++) {
		struct nn_layer *L = &net->layers[i];
		struct nn_node *y = &net->nodes[net->nnodes];
		L->d = d->layers[i];
		const char *op = op_name(L->d.op);
		if (!op) {
			err_set(e, DYN_EUSAGE, "nn: layer %d: unknown operation %d", i,
				(int)L->d.op);
			goto out;
		}
		/* dots as PyTorch's module paths have them ("layer1.0.conv1"), never empty parts */
		if (L->d.name &&
		    (!*L->d.name || strlen(L->d.name) >= NN_NAME_MAX || *L->d.name == '.' ||
		     L->d.name[strlen(L->d.name) - 1] == '.' || strstr(L->d.name, ".."))) {
			err_set(
			    e, DYN_EUSAGE,
			    "nn: layer %d: a name must have 1 to %d characters, without an empty "
			    "part between dots",
			    i, NN_NAME_MAX - 1);
			goto out;
		}
		if (L->d.name)
			snprintf(y->name, sizeof(y->name), "%s", L->d.name);
		else
			snprintf(y->name, sizeof(y->name), "%s%d", op, i);
		if (find_node(net, y->name) >= 0) {
			err_set(e, DYN_EUSAGE, "nn: layer %d: name \"%s\" is used twice", i,
				y->name);
			goto out;
		}
		if (build_layer(net, i, &np, &nbuf, &scratch, e) < 0)
			goto out;
		/* names now live in the node; the description's pointers are not kept */
		L->d.name = L->d.from = L->d.from2 = NULL;
		total += net->nodes[L->out].size * 2;
		if (L->d.op == NN_LSTM) /* what its forward keeps for backward */
			total += nn_lstm_state(&L->lstm);
		if (total > NN_MAX_FLOATS / (size_t)d->max_batch) {
			err_set(e, DYN_EUSAGE, "nn: activations too large for batch %d",
				d->max_batch);
			goto out;
		}
	}
	if (np > NN_MAX_PARAMS) {
		err_set(e, DYN_EUSAGE, "nn: too many parameters (%zu)", np);
		goto out;
	}

	/* allocations, all sized here and never again */
	net->nparams = np;
	net->nbufs = nbuf;
	net->params = xcalloc(np ? np : 1, sizeof(float));
	net->grads = xcalloc(np ? np : 1, sizeof(float));
	/* zero between backward passes (reduce_block clears what it sums) */
	net->partials = xcalloc(np ? np * NN_CHUNKS : 1, sizeof(float));
	net->bufs = xcalloc(nbuf ? nbuf : 1, sizeof(float));
	net->scratch = xcalloc((size_t)net->max_threads, sizeof(float *));
	for (int t = 0; t < net->max_threads; t++)
		net->scratch[t] = xmallocarray(scratch ? scratch : 1, sizeof(float));
	for (int k = 0; k < net->nnodes; k++) {
		struct nn_node *x = &net->nodes[k];
		if (x->alias)
			continue;
		x->act = xcalloc((size_t)d->max_batch * x->size, sizeof(float));
		if (k > 0 || d->input_grad)
			x->dact = xcalloc((size_t)d->max_batch * x->size, sizeof(float));
	}
	for (int i = 0; i < net->nlayers; i++) {
		struct nn_layer *L = &net->layers[i];
		struct nn_node *y = &net->nodes[L->out];
		size_t n = (size_t)d->max_batch * y->size;
		if (y->alias) {
			y->act = net->nodes[L->in].act;
			y->dact = net->nodes[L->in].dact;
		}
		if (L->d.op == NN_MAXPOOL1D || L->d.op == NN_MAXPOOL2D)
			L->idx = xmallocarray(n, sizeof(int));
		if (L->d.op == NN_DROPOUT)
			L->mask = xmallocarray(n, sizeof(float));
		if (L->d.op == NN_LSTM)
			L->state = xmallocarray((size_t)d->max_batch * nn_lstm_state(&L->lstm),
						sizeof(float));
		if (L->d.op == NN_BATCHNORM) {
			L->mean = xcalloc((size_t)L->ch, sizeof(float));
			L->rstd = xcalloc((size_t)L->ch, sizeof(float));
		}
	}
	make_tensors(net);
	plan_zeroing(net);
	nn_net_init(net, 0);
	*out = net;
	net = NULL;
	ret = 0;
out:
	nn_net_free(&net);
	return ret;
}

void nn_net_free(struct nn_net **pnet)
{
	struct nn_net *net = *pnet;
	if (!net)
		return;
	for (int k = 0; k < net->nnodes; k++)
		if (!net->nodes[k].alias) {
			free(net->nodes[k].act);
			free(net->nodes[k].dact);
		}
	if (net->layers)
		for (int i = 0; i < net->nlayers; i++) {
			free(net->layers[i].idx);
			free(net->layers[i].mask);
			free(net->layers[i].state);
			free(net->layers[i].mean);
			free(net->layers[i].rstd);
		}
	if (net->scratch)
		for (int t = 0; t < net->max_threads; t++)
			free(net->scratch[t]);
	free(net->scratch);
	free(net->nodes);
	free(net->layers);
	free(net->params);
	free(net->grads);
	free(net->partials);
	free(net->bufs);
	free(net->tensors);
	free(net->dead);
	free(net->prof);
	free(net);
	*pnet = NULL;
}

/* PyTorch's nn.LSTM: every tensor uniform in +-1/sqrt(hidden), in state_dict order */
static void init_lstm(const struct nn_layer *L, float *p, struct rng *r)
{
	const struct nn_lstm *g = &L->lstm;
	double bound = 1.0 / sqrt((double)g->hid);
	size_t G4 = 4 * (size_t)g->hid;
	for (int d = 0; d < g->dirs; d++) {
		const size_t off[4] = {g->w_ih[d], g->w_hh[d], g->b_ih[d], g->b_hh[d]};
		const size_t n[4] = {G4 * g->in, G4 * g->hid, G4, G4};
		for (int k = 0; k < 4; k++)
			for (size_t j = 0; j < n[k]; j++)
				p[off[k] + j] = (float)((2 * rng_uniform(r) - 1) * bound);
	}
}

void nn_net_init(struct nn_net *net, uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	net->seed = seed;
	net->step = 0;
	memset(net->params, 0, net->nparams * sizeof(float));
	for (int i = 0; i < net->nlayers; i++) {
		struct nn_layer *L = &net->layers[i];
		const struct nn_node *x = &net->nodes[L->in];
		float *w = net->params + L->w_off, *b = net->params + L->b_off;
		L->drop_seed = nn_seed_mix(seed, (uint64_t)i, 0x64726f70ULL);
		if (L->d.op == NN_BATCHNORM) {
			for (int c = 0; c < L->ch; c++) {
				w[c] = 1, b[c] = 0;
				net->bufs[L->rm_off + (size_t)c] = 0;
				net->bufs[L->rv_off + (size_t)c] = 1;
			}
			continue;
		}
		if (!L->nw)
			continue;
		if (L->d.op == NN_LSTM) {
			init_lstm(L, w, &r);
			continue;
		}
		double fan_in;
		if (L->d.op == NN_DENSE)
			fan_in = (double)x->size;
		else if (L->d.op == NN_CONVT2D)
			fan_in = (double)L->d.out * L->d.k * L->d.k;
		else
			fan_in = (double)L->nw / L->d.out;
		double bound = 1.0 / sqrt(fan_in);
		for (size_t k = 0; k < L->nw; k++)
			w[k] = (float)((2 * rng_uniform(&r) - 1) * bound);
		for (size_t k = 0; k < L->nb; k++)
			b[k] = (float)((2 * rng_uniform(&r) - 1) * bound);
	}
}

void nn_net_set_threads(struct nn_net *net, int threads)
{
	net->threads = threads < 1 ? 1 : threads > net->max_threads ? net->max_threads : threads;
}

/* ---- Profiling -------------------------------------------------------------------------- */

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* adds the thread CPU seconds since *t0 to row's phase (0 forward, 1 backward) for thread t,
 * and restarts the clock */
static void prof_add(struct nn_net *net, int t, int row, int phase, double *t0)
{
	if (!net->prof)
		return;
	double now = thread_cpu();
	net->prof[((size_t)t * (size_t)(net->nlayers + 1) + (size_t)row) * 2 + (size_t)phase] +=
	    now - *t0;
	*t0 = now;
}

void nn_net_profile(struct nn_net *net, int on)
{
	free(net->prof);
	net->prof =
	    on ? xcalloc((size_t)net->max_threads * (size_t)(net->nlayers + 1) * 2, sizeof(double))
	       : NULL;
}

const char *nn_net_profile_get(const struct nn_net *net, int i, double *fwd, double *bwd)
{
	if (i < 0 || i > net->nlayers)
		return NULL;
	*fwd = *bwd = 0;
	for (int t = 0; net->prof && t < net->max_threads; t++) {
		const double *r =
		    net->prof + ((size_t)t * (size_t)(net->nlayers + 1) + (size_t)i) * 2;
		*fwd += r[0];
		*bwd += r[1];
	}
	return i < net->nlayers ? net->nodes[net->layers[i].out].name : "(reduce)";
}

/* ---- Passes ----------------------------------------------------------------------------- */

struct pass {
	struct nn_net *net;
	int l0, l1; /* layers [l0, l1) of a chunk stage, or the batch-norm layer l0 */
	int B, nchunks;
};

static void chunk_range(int B, int nchunks, int c, int *b0, int *nb)
{
	int lo = (int)((long)B * c / nchunks), hi = (int)((long)B * (c + 1) / nchunks);
	*b0 = lo;
	*nb = hi - lo;
}

static float bn_eps(const struct nn_layer *L)
{
	return L->d.eps != 0 ? L->d.eps : 1e-5f;
}

static void layer_forward(struct nn_net *net, struct nn_layer *L, int b0, int nb, float *scratch)
{
	const struct nn_node *X = &net->nodes[L->in], *Y = &net->nodes[L->out];
	const float *x = X->act + (size_t)b0 * X->size;
	float *y = Y->act + (size_t)b0 * Y->size;
	const float *w = net->params + L->w_off, *bias = L->nb ? net->params + L->b_off : NULL;
	size_t n = (size_t)nb * Y->size;

	switch (L->d.op) {
	case NN_CONV1D:
	case NN_CONV2D:
		nn_conv_forward(y, x, w, bias, nb, &L->conv, scratch);
		break;
	case NN_CONVT2D:
		nn_convt_forward(y, x, w, bias, nb, &L->conv, scratch);
		break;
	case NN_DENSE:
		nn_dense_forward(y, x, w, bias, nb, (int)X->size, L->d.out);
		break;
	case NN_MAXPOOL1D:
	case NN_MAXPOOL2D:
		nn_maxpool_forward(y, L->idx + (size_t)b0 * Y->size, x, nb, &L->pool);
		break;
	case NN_AVGPOOL1D:
	case NN_AVGPOOL2D:
		nn_avgpool_forward(y, x, nb, &L->pool);
		break;
	case NN_GAP:
		nn_gap_forward(y, x, nb, X->c, L->S);
		break;
	case NN_UPSAMPLE: {
		int s = L->d.scale ? L->d.scale : 2;
		nn_upsample_forward(y, x, nb, X->c, X->h, X->w, X->dims == 3 ? s : 1, s,
				    L->d.bilinear);
		break;
	}
	case NN_RELU:
		if (L->d.cap > 0)
			nn_relu_cap_forward(y, x, n, L->d.cap);
		else
			nn_relu_forward(y, x, n);
		break;
	case NN_LEAKY_RELU:
		nn_leaky_relu_forward(y, x, n, L->d.slope != 0 ? L->d.slope : 0.01f);
		break;
	case NN_SIGMOID:
		nn_sigmoid_forward(y, x, n);
		break;
	case NN_DROPOUT:
		if (!net->training || L->d.p == 0) {
			memcpy(y, x, n * sizeof(float));
			break;
		}
		/* one stream per (seed, layer, step, sample): the mask of a sample does not
		 * depend on the chunk or thread that draws it */
		for (int b = 0; b < nb; b++)
			nn_dropout_forward(
			    y + (size_t)b * Y->size, L->mask + (size_t)(b0 + b) * Y->size,
			    x + (size_t)b * Y->size, Y->size, L->d.p,
			    nn_seed_mix(L->drop_seed, net->step, (uint64_t)(b0 + b)));
		break;
	case NN_ADD: {
		const struct nn_node *X2 = &net->nodes[L->in2];
		nn_add_forward(y, x, X2->act + (size_t)b0 * X2->size, n);
		break;
	}
	case NN_CONCAT: {
		const struct nn_node *X2 = &net->nodes[L->in2];
		nn_concat_forward(y, x, X2->act + (size_t)b0 * X2->size, nb, X->c, X2->c,
				  X->h * X->w);
		break;
	}
	case NN_BATCHNORM: /* here in eval mode only: training's statistics have a stage */
		nn_bn_eval(y, x, w, net->params + L->b_off, net->bufs + L->rm_off,
			   net->bufs + L->rv_off, nb, L->ch, L->S, bn_eps(L));
		break;
	case NN_LSTM:
		nn_lstm_forward(y, L->state + (size_t)b0 * nn_lstm_state(&L->lstm), x, w, nb,
				&L->lstm, scratch);
		break;
	case NN_FLATTEN:
	case NN_TO_SEQ:
		break;
	}
}

/* Where layer L puts its input's gradient for samples from b0: NULL when not wanted. */
static float *grad_of(struct nn_net *net, int node, int b0)
{
	const struct nn_node *X = &net->nodes[node];
	if (!X->dact) /* the input's, or a flatten's of the input, when not wanted */
		return NULL;
	return X->dact + (size_t)b0 * X->size;
}

static void layer_backward(struct nn_net *net, struct nn_layer *L, int b0, int nb, float *part,
			   float *scratch)
{
	if (L->d.op == NN_FLATTEN || L->d.op == NN_TO_SEQ) /* its input's gradient: nothing to do */
		return;
	const struct nn_node *X = &net->nodes[L->in], *Y = &net->nodes[L->out];
	const float *x = X->act + (size_t)b0 * X->size;
	const float *y = Y->act + (size_t)b0 * Y->size;
	const float *dy = Y->dact + (size_t)b0 * Y->size;
	float *dx = grad_of(net, L->in, b0);
	const float *w = net->params + L->w_off;
	float *dw = part + L->w_off, *db = L->nb ? part + L->b_off : NULL;
	size_t n = (size_t)nb * Y->size;

	switch (L->d.op) {
	case NN_CONV1D:
	case NN_CONV2D:
		if (L->set[0])
			nn_conv_backward_set(dx, dw, db, dy, x, w, nb, &L->conv, scratch);
		else
			nn_conv_backward(dx, dw, db, dy, x, w, nb, &L->conv, scratch);
		break;
	case NN_CONVT2D:
		nn_convt_backward(dx, dw, db, dy, x, w, nb, &L->conv, scratch);
		break;
	case NN_DENSE:
		nn_dense_backward(dx, dw, db, dy, x, w, nb, (int)X->size, L->d.out);
		break;
	case NN_MAXPOOL1D:
	case NN_MAXPOOL2D:
		if (dx)
			nn_maxpool_backward(dx, dy, L->idx + (size_t)b0 * Y->size, nb, &L->pool);
		break;
	case NN_AVGPOOL1D:
	case NN_AVGPOOL2D:
		if (dx)
			nn_avgpool_backward(dx, dy, nb, &L->pool);
		break;
	case NN_GAP:
		if (dx)
			nn_gap_backward(dx, dy, nb, X->c, L->S);
		break;
	case NN_UPSAMPLE: {
		int s = L->d.scale ? L->d.scale : 2;
		if (dx)
			nn_upsample_backward(dx, dy, nb, X->c, X->h, X->w, X->dims == 3 ? s : 1, s,
					     L->d.bilinear);
		break;
	}
	case NN_RELU:
		if (dx && L->d.cap > 0)
			nn_relu_cap_backward(dx, dy, y, n, L->d.cap);
		else if (dx && L->set[0])
			nn_relu_backward_set(dx, dy, y, n);
		else if (dx)
			nn_relu_backward(dx, dy, y, n);
		break;
	case NN_LEAKY_RELU:
		if (dx)
			nn_leaky_relu_backward(dx, dy, x, n, L->d.slope != 0 ? L->d.slope : 0.01f);
		break;
	case NN_SIGMOID:
		if (dx)
			nn_sigmoid_backward(dx, dy, y, n);
		break;
	case NN_DROPOUT:
		if (!dx)
			break;
		if (!net->training || L->d.p == 0)
			nn_add_backward(dx, NULL, dy, n);
		else
			nn_dropout_backward(dx, dy, L->mask + (size_t)b0 * Y->size, n);
		break;
	case NN_ADD:
		nn_add_backward(dx, grad_of(net, L->in2, b0), dy, n);
		break;
	case NN_CONCAT: {
		const struct nn_node *X2 = &net->nodes[L->in2];
		nn_concat_backward_set(dx, grad_of(net, L->in2, b0), dy, nb, X->c, X2->c,
				       X->h * X->w, L->set[0], L->set[1]);
		break;
	}
	case NN_LSTM:
		nn_lstm_backward(dx, dw, dy, x, L->state + (size_t)b0 * nn_lstm_state(&L->lstm), w,
				 nb, &L->lstm, scratch);
		break;
	case NN_FLATTEN:
	case NN_TO_SEQ:
	case NN_BATCHNORM:
		break;
	}
}

static void chunk_forward(void *arg, size_t c, int t)
{
	struct pass *p = arg;
	int b0, nb;
	double t0 = p->net->prof ? thread_cpu() : 0;
	chunk_range(p->B, p->nchunks, (int)c, &b0, &nb);
	for (int l = p->l0; l < p->l1; l++) {
		layer_forward(p->net, &p->net->layers[l], b0, nb, p->net->scratch[t]);
		prof_add(p->net, t, l, 0, &t0);
	}
}

static void chunk_backward(void *arg, size_t c, int t)
{
	struct pass *p = arg;
	int b0, nb;
	float *part = p->net->partials + c * p->net->nparams;
	double t0 = p->net->prof ? thread_cpu() : 0;
	chunk_range(p->B, p->nchunks, (int)c, &b0, &nb);
	for (int l = p->l1 - 1; l >= p->l0; l--) {
		struct nn_layer *L = &p->net->layers[l];
		for (int k = 0; k < 2; k++)
			if (L->zero[k] >= 0) {
				const struct nn_node *X = &p->net->nodes[L->zero[k]];
				memset(X->dact + (size_t)b0 * X->size, 0,
				       (size_t)nb * X->size * sizeof(float));
			}
		layer_backward(p->net, L, b0, nb, part, p->net->scratch[t]);
		prof_add(p->net, t, l, 1, &t0);
	}
}

/* Batch norm runs over channels: each channel's statistics are one sequential sum. */
static void bn_forward(void *arg, size_t c, int t)
{
	struct pass *p = arg;
	struct nn_net *net = p->net;
	struct nn_layer *L = &net->layers[p->l0];
	double t0 = net->prof ? thread_cpu() : 0;
	nn_bn_forward_range(net->nodes[L->out].act, L->mean, L->rstd, net->nodes[L->in].act,
			    net->params + L->w_off, net->params + L->b_off, net->bufs + L->rm_off,
			    net->bufs + L->rv_off, p->B, L->ch, L->S,
			    L->d.momentum != 0 ? L->d.momentum : 0.1f, bn_eps(L), net->training,
			    (int)c, (int)c + 1);
	prof_add(net, t, p->l0, 0, &t0);
}

static void bn_backward(void *arg, size_t c, int t)
{
	struct pass *p = arg;
	struct nn_net *net = p->net;
	struct nn_layer *L = &net->layers[p->l0];
	double t0 = net->prof ? thread_cpu() : 0;
	if (!net->training) /* eval forwards ran in chunks and left these alone */
		nn_bn_eval_stats(net->bufs[L->rm_off + c], net->bufs[L->rv_off + c], bn_eps(L),
				 &L->mean[c], &L->rstd[c]);
	if (L->zero[0] >= 0) /* the channel's planes of the input's gradient */
		for (int b = 0; b < p->B; b++)
			memset(net->nodes[L->zero[0]].dact + ((size_t)b * L->ch + c) * L->S, 0,
			       (size_t)L->S * sizeof(float));
	nn_bn_backward_range(grad_of(net, L->in, 0), net->partials + L->w_off,
			     net->partials + L->b_off, net->nodes[L->out].dact,
			     net->nodes[L->in].act, L->mean, L->rstd, net->params + L->w_off, p->B,
			     L->ch, L->S, net->training, (int)c, (int)c + 1, L->set[0]);
	prof_add(net, t, p->l0, 1, &t0);
}

/* The end of the stage starting at layer l0: batch norm alone, else up to the next one. */
static int stage_end(const struct nn_net *net, int l0)
{
	int l = l0;
	if (net->layers[l].d.op == NN_BATCHNORM)
		return l + 1;
	while (l < net->nlayers && net->layers[l].d.op != NN_BATCHNORM)
		l++;
	return l;
}

const float *nn_net_forward(struct nn_net *net, const float *inp, int B, int training)
{
	struct pass p = {net, 0, 0, B, B < NN_CHUNKS ? B : NN_CHUNKS};
	int blas = openblas_get_num_threads();

	if (B < 1 || B > net->max_batch)
		return NULL;
	/* BLAS on one thread everywhere: its own threads could change the sums' order */
	openblas_set_num_threads(1);
	net->B = B;
	net->training = training;
	if (training)
		net->step++;
	memcpy(net->nodes[0].act, inp, (size_t)B * net->nodes[0].size * sizeof(float));
	for (int l0 = 0; l0 < net->nlayers;) {
		p.l0 = l0;
		/* eval mode: batch norm is per sample, the whole network one stage */
		p.l1 = training ? stage_end(net, l0) : net->nlayers;
		if (training && net->layers[l0].d.op == NN_BATCHNORM)
			par_for((size_t)net->layers[l0].ch, net->threads, bn_forward, &p);
		else
			par_for((size_t)p.nchunks, net->threads, chunk_forward, &p);
		l0 = p.l1;
	}
	openblas_set_num_threads(blas);
	return net->nodes[net->layers[net->nlayers - 1].out].act;
}

struct reduce {
	struct nn_net *net;
	int nchunks;
};

#define NN_REDUCE_BLOCK 4096

static void reduce_block(void *arg, size_t k, int t)
{
	struct reduce *r = arg;
	size_t j0 = k * NN_REDUCE_BLOCK, j1 = j0 + NN_REDUCE_BLOCK, np = r->net->nparams;
	double t0 = r->net->prof ? thread_cpu() : 0;
	if (j1 > np)
		j1 = np;
	/* each block of a partial is cleared as soon as it is summed, while it is in cache: the
	 * partials are zero again for the next backward pass */
	for (int c = 0; c < r->nchunks; c++) {
		float *src = r->net->partials + (size_t)c * np;
		for (size_t j = j0; j < j1; j++)
			r->net->grads[j] += src[j];
		memset(src + j0, 0, (j1 - j0) * sizeof(float));
	}
	prof_add(r->net, t, r->net->nlayers, 1, &t0);
}

void nn_net_backward(struct nn_net *net, const float *dout)
{
	int B = net->B;
	struct pass p = {net, 0, 0, B, B < NN_CHUNKS ? B : NN_CHUNKS};
	struct reduce r = {net, p.nchunks};
	const struct nn_node *Y = &net->nodes[net->layers[net->nlayers - 1].out];
	int blas = openblas_get_num_threads();

	if (B < 1)
		return;
	openblas_set_num_threads(1);
	for (int k = 0; k < net->nnodes; k++) /* gradients no layer adds into */
		if (net->dead[k] && net->nodes[k].dact)
			memset(net->nodes[k].dact, 0,
			       (size_t)B * net->nodes[k].size * sizeof(float));
	if (Y->dact)
		memcpy(Y->dact, dout, (size_t)B * Y->size * sizeof(float));
	/* stages in reverse order: a batch norm alone, else the layers back to the last one */
	for (int l1 = net->nlayers; l1 > 0; l1 = p.l0) {
		p.l0 = l1 - 1;
		if (net->layers[p.l0].d.op != NN_BATCHNORM)
			while (p.l0 > 0 && net->layers[p.l0 - 1].d.op != NN_BATCHNORM)
				p.l0--;
		p.l1 = l1;
		if (net->layers[p.l0].d.op == NN_BATCHNORM)
			par_for((size_t)net->layers[p.l0].ch, net->threads, bn_backward, &p);
		else
			par_for((size_t)p.nchunks, net->threads, chunk_backward, &p);
	}
	par_for((net->nparams + NN_REDUCE_BLOCK - 1) / NN_REDUCE_BLOCK, net->threads, reduce_block,
		&r);
	openblas_set_num_threads(blas);
}

void nn_net_zero_grad(struct nn_net *net)
{
	memset(net->grads, 0, net->nparams * sizeof(float));
}

void nn_net_step(struct nn_net *net, struct nn_optim *o)
{
	nn_optim_step(o, net->params, net->grads);
}

size_t nn_net_out_size(const struct nn_net *net)
{
	return net->nodes[net->layers[net->nlayers - 1].out].size;
}

size_t nn_net_nparams(const struct nn_net *net)
{
	return net->nparams;
}

float *nn_net_params(struct nn_net *net)
{
	return net->params;
}

float *nn_net_grads(struct nn_net *net)
{
	return net->grads;
}

void nn_net_decay_mask(const struct nn_net *net, float *mask)
{
	memset(mask, 0, net->nparams * sizeof(float));
	for (int i = 0; i < net->nlayers; i++) {
		const struct nn_layer *L = &net->layers[i];
		if (L->d.op == NN_LSTM) {
			const struct nn_lstm *g = &L->lstm;
			size_t G4 = 4 * (size_t)g->hid;
			for (int d = 0; d < g->dirs; d++) {
				for (size_t k = 0; k < G4 * g->in; k++)
					mask[L->w_off + g->w_ih[d] + k] = 1;
				for (size_t k = 0; k < G4 * g->hid; k++)
					mask[L->w_off + g->w_hh[d] + k] = 1;
			}
		} else if (L->nw && L->d.op != NN_BATCHNORM) {
			for (size_t k = 0; k < L->nw; k++)
				mask[L->w_off + k] = 1;
		}
	}
}

size_t nn_net_state_size(const struct nn_net *net)
{
	return net->nparams + net->nbufs;
}

void nn_net_get_state(const struct nn_net *net, float *dst)
{
	memcpy(dst, net->params, net->nparams * sizeof(float));
	memcpy(dst + net->nparams, net->bufs, net->nbufs * sizeof(float));
}

void nn_net_set_state(struct nn_net *net, const float *src)
{
	memcpy(net->params, src, net->nparams * sizeof(float));
	memcpy(net->bufs, src + net->nparams, net->nbufs * sizeof(float));
}

int nn_net_ntensors(const struct nn_net *net)
{
	return net->ntensors;
}

const struct nn_tensor *nn_net_tensor(const struct nn_net *net, int i)
{
	return i >= 0 && i < net->ntensors ? &net->tensors[i] : NULL;
}

const struct nn_tensor *nn_net_find(const struct nn_net *net, const char *name)
{
	for (int i = 0; i < net->ntensors; i++)
		if (!strcmp(net->tensors[i].name, name))
			return &net->tensors[i];
	return NULL;
}

const float *nn_net_node(const struct nn_net *net, const char *name, const float **grad,
			 size_t *size)
{
	int k = find_node(net, name);
	if (k < 0)
		return NULL;
	if (grad)
		*grad = net->nodes[k].dact;
	if (size)
		*size = net->nodes[k].size;
	return net->nodes[k].act;
}
