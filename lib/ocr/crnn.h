/* The text-line recognizer of the marking reader: a small CRNN (convolutions, a bidirectional
 * LSTM, a per-step classifier, CTC) built on lib/nn, trained on synthetic and labeled lines. */
#ifndef DYN_OCR_CRNN_H
#define DYN_OCR_CRNN_H

#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "io/image.h"
#include "nn/nn.h"
#include "ocr/synth.h"

/* The network's settings; zero means the default. The network, for a gray line image of height
 * H and width W (max_width, or the narrower width a batch runs at, see ocr_crnn_bucket_steps;
 * narrower lines padded on the right):
 *	3x3 conv (c0) + batch norm + ReLU, 2x2 max pool		(c0, H/2, W/2)
 *	3x3 conv (c1) + batch norm + ReLU, 2x2 max pool		(c1, H/4, W/4)
 *	3x3 conv (c2) + batch norm + ReLU			(c2, H/4, W/4)
 *	its columns as a sequence (NN_TO_SEQ), a per-step linear projection to proj
 *	lstm_layers bidirectional LSTMs of hidden units each	(2 hidden, W/4)
 *	a per-step dense layer to the classes			(K, W/4): logits
 * K = alphabet size + 1, class 0 the CTC blank, class i + 1 alphabet character i. So the
 * network reads W/4 steps: a line of n characters needs at least n steps (n + its doubled
 * letters), 4 pixels a step; a character of a line as synth draws it is 12-24 pixels wide at
 * height 32. Tensors are named as PyTorch's modules would be: "conv0.weight", "bn0.running_mean",
 * "proj.weight", "rnn0.weight_ih_l0", "rnn0.weight_ih_l0_reverse", "fc.bias", ... */
struct ocr_crnn_opts {
	int height;	      /* input height, 0: 32 (16..128, a multiple of 4) */
	int max_width;	      /* input width, 0: 12 * height (2 * height..4096, multiple of 4) */
	int channels[3];      /* convolution channels, 0: 32, 64, 96 */
	int proj;	      /* per-step projection before the LSTM, 0: 128 */
	int hidden;	      /* LSTM units a direction, 0: 128 */
	int lstm_layers;      /* 0: 1 (1..2) */
	const char *alphabet; /* UTF-8; NULL: ocr_default_alphabet */
	int max_batch;	      /* largest batch of a training step or a recognition call, 0: 32 */
	int threads;	      /* threads of the network's passes and of line making, 0: 1 */
};

/* A recognizer: the settings, the alphabet and the network. Heap object: ocr_crnn_new /
 * ocr_crnn_free. Not thread-safe: recognition runs the network, whose activations it owns;
 * threads use one recognizer each (same tensors copied, see ocr_crnn_tensor), or read many
 * lines in one ocr_crnn_read_batch call, which uses the recognizer's threads. */
struct ocr_crnn;

/* Checks the settings and builds the network with PyTorch's default initialization (seed 0;
 * ocr_crnn_train draws from its own seed). Errors (DYN_EUSAGE): a setting out of range, a bad
 * alphabet. *out is owned by the caller. */
int ocr_crnn_new(struct ocr_crnn **out, const struct ocr_crnn_opts *o, struct err *e);
void ocr_crnn_free(struct ocr_crnn **c);

/* The settings with the defaults filled in (alphabet: the parsed one is ocr_crnn_alphabet;
 * the pointer here is NULL); what a saved model must keep to rebuild the network. */
const struct ocr_crnn_opts *ocr_crnn_opts(const struct ocr_crnn *c);
const struct ocr_alphabet *ocr_crnn_alphabet(const struct ocr_crnn *c);
/* Threads of later passes and line making, 1 .. the settings' threads (results do not depend
 * on them). */
void ocr_crnn_set_threads(struct ocr_crnn *c, int threads);
/* Steps a line is read in (max_width / 4) and classes a step (alphabet + blank). */
int ocr_crnn_steps(const struct ocr_crnn *c);
int ocr_crnn_classes(const struct ocr_crnn *c);

/* The weights and buffers (batch-norm statistics) by name, for saving and loading: tensor i
 * (i < ocr_crnn_ntensors) owned by c; its data may be written (loading: the same settings, then
 * each tensor's data filled from the saved one of that name and shape). The network itself, for
 * what the recognizer does not wrap. */
int ocr_crnn_ntensors(const struct ocr_crnn *c);
const struct nn_tensor *ocr_crnn_tensor(const struct ocr_crnn *c, int i);
struct nn_net *ocr_crnn_net(struct ocr_crnn *c);

/* A line image (any size up to IMG_MAX_SIDE a side; 1 to 4 channels, gray the mean of the
 * first three, alpha ignored) as the network's input x (height * max_width floats): scaled to
 * the height keeping the aspect, then narrowed to max_width when wider, by area resampling
 * (each output pixel the mean of the source area it covers: a mean when shrinking, a blend of
 * two neighbours when enlarging); its pixels standardized to mean 0 and standard deviation 1
 * (the deviation taken as at least 0.02 of the gray range, so a flat or nearly flat image stays
 * near 0), the rest of each row 0. *steps (unless NULL) is the number of steps that cover the
 * line (and one more), the length CTC and decoding use. Errors (DYN_EDATA): an empty image, a
 * channel count out of range, a side over IMG_MAX_SIDE. Thread-safe (reads c only). */
int ocr_crnn_prepare(const struct ocr_crnn *c, const struct img *im, float *x, int *steps,
		     struct err *e);

/* How sure the network is of a reading, from the probabilities (softmax) of the best path's
 * steps, each in [0, 1]: path, the geometric mean over the line's steps (with beam > 1, the
 * reading's probability summed over its alignments, exp(log p / steps)); step_min, the least
 * of them; char_min and char_mean, the least and the geometric mean over the characters read
 * of each one's probability (the highest over the steps of its run). A line read as empty has
 * char_min = step_min and char_mean = path. */
struct ocr_crnn_conf {
	float path, step_min, char_min, char_mean;
};
/* The confidences of the best path over steps 0..len of one line's logits z (K, T), class 0
 * the blank: each step's most likely class and its probability (softmax); a character's is the
 * highest over the steps of its run (the step the network is surest of it at). */
void ocr_crnn_path_conf(const float *z, int K, int T, int len, struct ocr_crnn_conf *cf);
/* The confidence a reading is given (ocr_crnn_read_batch's conf): the least sure character's
 * probability. On 400 held-out generated lines read by a model trained 40 minutes
 * (bench/ocr_conf.c) it separates right readings from wrong ones best (ROC AUC 0.88; path 0.83)
 * and has a usable scale: above 0.9 it was right for 117 lines of 118, where path was above 0.5
 * for every line, wrong ones included (the blank steps the network is sure of dominate it). */
#define OCR_CRNN_CONF(cf) ((cf)->char_min)

/* Reads n line images: texts[i] (reset, then the reading, UTF-8) and its confidences confs[i]
 * (unless NULL). beam 0 or 1: best-path decoding; beam > 1: prefix beam search of that width
 * (nn_ctc_beam). An empty reading is no text; its confidence says how sure the network is that
 * the line holds none. Errors: those of ocr_crnn_prepare, naming the line. */
int ocr_crnn_read_confs(struct ocr_crnn *c, const struct img *const *ims, size_t n, int beam,
			struct strbuf *texts, struct ocr_crnn_conf *confs, struct err *e);
/* The same with conf[i] (unless NULL) the reading's OCR_CRNN_CONF. */
int ocr_crnn_read_batch(struct ocr_crnn *c, const struct img *const *ims, size_t n, int beam,
			struct strbuf *texts, float *conf, struct err *e);
/* One line: ocr_crnn_read_batch of one. */
int ocr_crnn_read(struct ocr_crnn *c, const struct img *im, int beam, struct strbuf *text,
		  float *conf, struct err *e);

/* A labeled line crop: the image (borrowed) and its text (UTF-8, characters of the alphabet). */
struct ocr_crnn_sample {
	const struct img *im;
	const char *text;
};

/* What an epoch gave, for the report callback. */
struct ocr_crnn_epoch {
	int epoch;	    /* 0-based */
	long steps;	    /* optimizer steps so far */
	long lines;	    /* training lines seen so far */
	float lr;	    /* learning rate of the epoch */
	float loss;	    /* mean CTC loss (per label, PyTorch's mean) over the epoch's batches */
	float val_loss;	    /* the same over the validation lines (eval mode); NaN without any */
	float val_cer;	    /* character error rate on them (edit distance / reference length) */
	float val_line_acc; /* share of validation lines read exactly */
	double seconds;	    /* wall time since training started */
};

/* Training settings; zero means the default. */
struct ocr_crnn_train_opts {
	uint64_t seed; /* initialization, order of the samples, and the synthetic lines' run */
	/* Synthetic lines: synth_lines of them an epoch from synth (NULL: none), line i of epoch
	 * k being ocr_synth_line(synth, ocr_synth_seed(seed, k * synth_lines + i)): every epoch
	 * sees new lines. synth's alphabet must lie within the recognizer's. */
	const struct ocr_synth *synth;
	long synth_lines;
	/* Labeled crops, all of them each epoch, mixed in random order with the synthetic lines */
	const struct ocr_crnn_sample *samples;
	size_t nsamples;
	/* Validation after each epoch: val_lines synthetic lines of run val_seed (a seed that
	 * training does not use), and the labeled val_samples. */
	long val_lines;
	uint64_t val_seed;
	const struct ocr_crnn_sample *val_samples;
	size_t nval_samples;
	int epochs;	    /* 0: 10 */
	int batch;	    /* 0: max_batch */
	float lr;	    /* AdamW learning rate, 0: 1e-3 */
	float weight_decay; /* AdamW's, 0: 1e-2 (weights only, nn_net_decay_mask) */
	float clip;	    /* gradient norm clip, 0: 5 */
	/* learning rate by epoch: a cosine schedule from lr to lr / 100 over the epochs after
	 * warmup epochs of linear warm-up (0: none), or constant_lr */
	int constant_lr;
	int warmup;
	/* Wall-clock budget in seconds (0: none): training stops after the batch that passes it
	 * and the epoch is reported as the last one; the cosine schedule then follows the share
	 * of the budget spent, step by step (the warm-up being warmup / epochs of it), instead of
	 * the epochs, so that a run of a few minutes ends at the low rate whatever the machine's
	 * speed. Deterministic only without it. */
	double max_seconds;
	/* Called after each epoch; a non-zero return stops training there. */
	int (*report)(void *arg, const struct ocr_crnn_epoch *ep);
	void *arg;
	/* Keep the weights of the epoch with the lowest validation CER (ties: loss) rather than
	 * the last ones. */
	int keep_best;
	/* Go on from c's weights (a warm start: loaded, or copied from another recognizer of the
	 * same shape) instead of initializing them from seed. */
	int warm;
	/* Every batch run at max_width, as before the width buckets (for comparison). By
	 * default lines are made 8 batches at a time, cut into batches of similar width
	 * (ocr_crnn_cut_batches), taken in random order, each run at the narrowest width that
	 * holds its longest line (ocr_crnn_bucket_steps). */
	int pad_full;
};

/* Trains c (from the initialization of o->seed, or its own weights with o->warm) on the synthetic
 * lines and the samples for the epochs: batches of o->batch lines of similar width (see pad_full)
 * made in parallel (each line from its own seed, so the result is the same for any thread count),
 * CTC loss over each line's steps, gradients clipped, AdamW, the learning rate set each epoch by
 * the schedule. Errors (DYN_EUSAGE): no training line, a setting out of range, a sample with an
 * empty image or a character outside the alphabet (named by its index; DYN_EDATA). Without
 * max_seconds the same seed gives the same weights. */
int ocr_crnn_train(struct ocr_crnn *c, const struct ocr_crnn_train_opts *o, struct err *e);

/* Batching by width, as training does with each chunk of lines it makes. The network is built
 * at six widths (max_width / 6, 2 max_width / 6, ..., max_width, multiples of 4) sharing one set
 * of tensors; a batch runs at the narrowest that covers its longest line, and a line is read at
 * the narrowest that covers it alone, so that its reading does not depend on the others.
 * ocr_crnn_bucket_steps: the steps of the width a line of `steps` steps (ocr_crnn_prepare) is
 * read at. ocr_crnn_cut_batches: the positions 0..n-1 of lines of steps[0..n) put in pos in
 * order of steps (ties: position) and cut into batches of at most `batch`, batch j being
 * pos[starts[j] .. starts[j + 1]) (starts: n + 1 entries); strict: a batch also ends where the
 * width read at changes. Returns the number of batches. */
int ocr_crnn_bucket_steps(const struct ocr_crnn *c, int steps);
size_t ocr_crnn_cut_batches(const struct ocr_crnn *c, const int *steps, size_t n, int batch,
			    int strict, size_t *pos, size_t *starts);

/* Character edit distance (Levenshtein over code points; invalid bytes as they are) between
 * a reading and its reference. */
size_t ocr_edit_chars(const char *a, const char *b);
/* Number of code points of a UTF-8 string. */
size_t ocr_count_chars(const char *s);

#endif
