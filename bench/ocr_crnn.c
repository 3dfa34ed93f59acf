/* Accuracy of the line recognizer (lib/ocr/crnn) trained for a fixed budget of minutes on
 * synthetic marking lines (bench/ocr_crnn.sh runs it, then Tesseract on the same test images).
 *
 * usage: ocr_crnn train MINUTES THREADS TEST_LINES OUTDIR [EPOCH_LINES]
 *	trains the default CRNN on generated lines (run seed 1, epochs of EPOCH_LINES lines,
 *	2000 by default; validation: 200 lines of run seed 2 after each epoch) for MINUTES, then
 *reads TEST_LINES held-out lines (run seed 3, which no training or validation saw) greedily and
 *with a beam of 8; writes OUTDIR/test/NNNN.png, OUTDIR/truth.txt (one reference a line) and
 *OUTDIR/dyn.txt (the greedy readings), prints the figures. usage: ocr_crnn score TRUTH HYP
 *	character error rate and exact-line accuracy of HYP against TRUTH (line by line), as
 *	read, and with case and Latin/Cyrillic look-alikes folded (ocr_normalize).
 * usage: ocr_crnn speed LINES [REPEATS]
 *	CPU seconds of one training epoch of LINES generated lines (batch 16, one thread, no
 *	validation; line making included) with batches by width and padded to max_width,
 *	alternated REPEATS times (default 2): what the width buckets save. */
#include <math.h>
#include <sys/stat.h>
#include <time.h>

#include "base/base.h"
#include "ocr/crnn.h"
#include "ocr/match.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the process (all threads): under a shared machine's load the measure of the
 * training's budget that carries over to another machine */
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double loadavg(void)
{
	double l = NAN;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = NAN;
		fclose(f);
	}
	return l;
}

/* Errors and characters of one reading against its reference, as read and folded. */
struct score {
	double edits, chars, exact, fedits, fchars, fexact, n;
};

static void score_add(struct score *s, const char *hyp, const char *ref)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t d = ocr_edit_chars(hyp, ref);
	s->edits += (double)d, s->chars += (double)ocr_count_chars(ref), s->exact += d == 0;
	ocr_normalize(hyp, &a);
	ocr_normalize(ref, &b);
	strbuf_grow(&a, 1), strbuf_grow(&b, 1);
	d = ocr_edit_chars(a.buf, b.buf);
	s->fedits += (double)d, s->fchars += (double)ocr_count_chars(b.buf), s->fexact += d == 0;
	s->n++;
	strbuf_release(&a), strbuf_release(&b);
}

static void score_print(const char *who, const struct score *s)
{
	printf("%s: %.0f lines, CER %.2f%%, line accuracy %.1f%%; folded (case, look-alikes) CER "
	       "%.2f%%, line accuracy %.1f%%\n",
	       who, s->n, 100 * s->edits / s->chars, 100 * s->exact / s->n,
	       100 * s->fedits / s->fchars, 100 * s->fexact / s->n);
}

/* A line of f without its newline, trimmed and with runs of spaces as one; 0 at the end. */
static int read_line(FILE *f, struct strbuf *sb)
{
	int ch, any = 0, space = 0;
	strbuf_reset(sb);
	strbuf_grow(sb, 1);
	while ((ch = fgetc(f)) != EOF && ch != '\n') {
		any = 1;
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			space = sb->len > 0;
			continue;
		}
		if (space)
			strbuf_addch(sb, ' ');
		space = 0;
		strbuf_addch(sb, ch);
	}
	return any || ch != EOF;
}

static int cmd_score(const char *truth, const char *hyp)
{
	FILE *ft = fopen(truth, "r"), *fh = fopen(hyp, "r");
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct score s = {0};
	if (!ft || !fh) {
		fprintf(stderr, "ocr_crnn: cannot open '%s' or '%s'\n", truth, hyp);
		return 1;
	}
	while (read_line(ft, &a)) {
		if (!read_line(fh, &b))
			strbuf_reset(&b), strbuf_grow(&b, 1);
		score_add(&s, b.buf, a.buf);
	}
	score_print("score", &s);
	fclose(ft), fclose(fh);
	strbuf_release(&a), strbuf_release(&b);
	return 0;
}

struct run {
	double t0;
};

static int on_epoch(void *arg, const struct ocr_crnn_epoch *ep)
{
	(void)arg;
	printf("epoch %d: %ld lines, %ld steps, lr %.2e, loss %.4f, val loss %.4f, val CER %.2f%%, "
	       "val lines %.1f%%, %.0f s (%.1f lines/s), %.1f CPU min, load %.2f\n",
	       ep->epoch + 1, ep->lines, ep->steps, (double)ep->lr, (double)ep->loss,
	       (double)ep->val_loss, 100 * (double)ep->val_cer, 100 * (double)ep->val_line_acc,
	       ep->seconds, (double)ep->lines / ep->seconds, cpu_seconds() / 60, loadavg());
	fflush(stdout);
	return 0;
}

static int cmd_train(double minutes, int threads, long ntest, const char *dir, long per_epoch)
{
	struct ocr_synth_opts so = {.effects = 1};
	struct ocr_crnn_opts co = {.threads = threads};
	struct ocr_synth *s = NULL;
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	char path[4096];
	int ret = 1;
	FILE *ft = NULL, *fd = NULL;
	struct img *ims = NULL;
	char **refs = NULL;
	struct strbuf *out = NULL;
	float *conf = NULL;

	if (ocr_synth_new(&s, &so, &e) < 0 || ocr_crnn_new(&c, &co, &e) < 0)
		goto fail;
	const struct ocr_crnn_opts *o = ocr_crnn_opts(c);
	printf("network: %dx%d input, %d steps, %d classes, channels %d/%d/%d, projection %d, "
	       "%d bidirectional LSTM of %d, %zu parameters; batch %d, %d threads\n",
	       o->height, o->max_width, ocr_crnn_steps(c), ocr_crnn_classes(c), o->channels[0],
	       o->channels[1], o->channels[2], o->proj, o->lstm_layers, o->hidden,
	       nn_net_nparams(ocr_crnn_net(c)), o->max_batch, threads);
	/* epochs of per_epoch lines until the budget is spent; the learning rate follows the
	 * budget's share (ocr_crnn_train_opts.max_seconds) */
	double t0, budget = minutes * 60;
	struct ocr_crnn_train_opts to = {.seed = 1,
					 .synth = s,
					 .synth_lines = per_epoch,
					 .val_lines = 200,
					 .val_seed = 2,
					 .epochs = 100000,
					 .batch = 16,
					 .lr = 2e-3f,
					 .warmup = 3000,
					 .max_seconds = budget,
					 .keep_best = 1,
					 .report = on_epoch};
	/* PAD_FULL=1: every batch padded to max_width, as before the width buckets */
	to.pad_full = getenv("PAD_FULL") && *getenv("PAD_FULL") == '1';
	printf("training: %.0f s, epochs of %ld lines, batch %d, AdamW lr %.1e, cosine over the "
	       "budget after a 3%% warm-up; validation on 200 lines; %s (load %.2f)\n",
	       budget, per_epoch, to.batch, (double)to.lr,
	       to.pad_full ? "batches padded to max_width" : "batches by width (6 buckets)",
	       loadavg());
	fflush(stdout);
	t0 = now();
	if (ocr_crnn_train(c, &to, &e) < 0)
		goto fail;
	double train_s = now() - t0;
	/* the held-out test lines */
	snprintf(path, sizeof(path), "%s/test", dir);
	mkdir(dir, 0777);
	mkdir(path, 0777);
	ims = xcalloc((size_t)ntest, sizeof(*ims));
	refs = xcalloc((size_t)ntest, sizeof(*refs));
	out = xcalloc((size_t)ntest, sizeof(*out));
	conf = xcalloc((size_t)ntest, sizeof(*conf));
	snprintf(path, sizeof(path), "%s/truth.txt", dir);
	ft = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/dyn.txt", dir);
	fd = fopen(path, "w");
	if (!ft || !fd) {
		fprintf(stderr, "ocr_crnn: cannot write in '%s'\n", dir);
		goto out;
	}
	for (long i = 0; i < ntest; i++) {
		img_init(&ims[i]);
		strbuf_init(&out[i]);
		if (ocr_synth_line(s, ocr_synth_seed(3, (uint64_t)i), &ims[i], &refs[i], &e) < 0)
			goto fail;
		snprintf(path, sizeof(path), "%s/test/%04ld.png", dir, i);
		if (ocr_png_write(&ims[i], path, &e) < 0)
			goto fail;
		fprintf(ft, "%s\n", refs[i]);
	}
	const struct img **ptr = xcalloc((size_t)ntest, sizeof(*ptr));
	for (long i = 0; i < ntest; i++)
		ptr[i] = &ims[i];
	for (int beam = 1; beam <= 8; beam += 7) {
		struct score sc = {0};
		double low = 0;
		t0 = now();
		if (ocr_crnn_read_batch(c, ptr, (size_t)ntest, beam, out, conf, &e) < 0) {
			free(ptr);
			goto fail;
		}
		double read_s = now() - t0;
		for (long i = 0; i < ntest; i++) {
			score_add(&sc, out[i].buf, refs[i]);
			low += conf[i] < 0.5f;
			if (beam == 1)
				fprintf(fd, "%s\n", out[i].buf);
		}
		char who[64];
		snprintf(who, sizeof(who), "dyn crnn (%s)", beam == 1 ? "greedy" : "beam 8");
		score_print(who, &sc);
		printf(
		    "  %.1f lines/s read (batch %d, %d threads), %.0f lines of confidence < 0.5\n",
		    (double)ntest / read_s, o->max_batch, threads, low);
	}
	free(ptr);
	for (long i = 0; i < 8 && i < ntest; i++)
		printf("  \"%s\" read \"%s\" (%.3f)\n", refs[i], out[i].buf, (double)conf[i]);
	printf("training %.0f s, %.1f CPU min in all, load after %.2f\n", train_s,
	       cpu_seconds() / 60, loadavg());
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "ocr_crnn: %s\n", e.msg);
out:
	if (ft)
		fclose(ft);
	if (fd)
		fclose(fd);
	for (long i = 0; ims && i < ntest; i++) {
		img_release(&ims[i]);
		free(refs[i]);
		strbuf_release(&out[i]);
	}
	free(ims), free(refs), free(out), free(conf);
	ocr_crnn_free(&c);
	ocr_synth_free(&s);
	return ret;
}

static int cmd_speed(long lines, int repeats)
{
	struct ocr_synth_opts so = {.effects = 1};
	struct ocr_crnn_opts co = {.threads = 1};
	struct ocr_synth *s = NULL;
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	int ret = 1;
	if (ocr_synth_new(&s, &so, &e) < 0 || ocr_crnn_new(&c, &co, &e) < 0)
		goto out;
	printf("one epoch of %ld lines, batch 16, 1 thread (load %.2f)\n", lines, loadavg());
	for (int r = 0; r < repeats; r++)
		for (int pad = 1; pad >= 0; pad--) {
			struct ocr_crnn_train_opts to = {.seed = 1,
							 .synth = s,
							 .synth_lines = lines,
							 .epochs = 1,
							 .batch = 16,
							 .lr = 2e-3f,
							 .pad_full = pad};
			double c0 = cpu_seconds(), t0 = now();
			if (ocr_crnn_train(c, &to, &e) < 0)
				goto out;
			double cs = cpu_seconds() - c0;
			printf(
			    "%s: %.1f s CPU, %.1f ms CPU a line, %.1f lines a CPU second (%.0f s "
			    "wall, load %.2f)\n",
			    pad ? "padded to max_width" : "batches by width   ", cs,
			    1000 * cs / (double)lines, (double)lines / cs, now() - t0, loadavg());
			fflush(stdout);
		}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "ocr_crnn: %s\n", e.msg);
	ocr_crnn_free(&c);
	ocr_synth_free(&s);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "speed")) {
		long lines = strtol(argv[2], NULL, 10);
		int repeats = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2;
		if (lines < 16 || lines > 1000000 || repeats < 1 || repeats > 100) {
			fprintf(stderr, "ocr_crnn: bad arguments\n");
			return 2;
		}
		return cmd_speed(lines, repeats);
	}
	if (argc == 4 && !strcmp(argv[1], "score"))
		return cmd_score(argv[2], argv[3]);
	if (argc >= 6 && !strcmp(argv[1], "train")) {
		double minutes = strtod(argv[2], NULL);
		int threads = (int)strtol(argv[3], NULL, 10);
		long ntest = strtol(argv[4], NULL, 10);
		long per_epoch = argc > 6 ? strtol(argv[6], NULL, 10) : 2000;
		if (!(minutes > 0) || threads < 1 || ntest < 1 || ntest > 100000 || per_epoch < 1) {
			fprintf(stderr, "ocr_crnn: bad arguments\n");
			return 2;
		}
		return cmd_train(minutes, threads, ntest, argv[5], per_epoch);
	}
	fprintf(stderr, "usage: ocr_crnn train MINUTES THREADS TEST_LINES OUTDIR [EPOCH_LINES]\n"
			"       ocr_crnn score TRUTH HYP\n"
			"       ocr_crnn speed LINES [REPEATS]\n");
	return 2;
}
