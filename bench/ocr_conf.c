/* How well each confidence of the line recognizer (struct ocr_crnn_conf) tells right readings
 * from wrong ones: a CRNN trained briefly on generated lines reads held-out ones, and each
 * measure's ROC AUC (right = the reading equals the reference) and the accuracy of the readings
 * it puts above 0.5 and 0.9 are printed (bench/ocr_conf.sh runs it).
 *
 * usage: ocr_conf MINUTES THREADS TEST_LINES [CHANNELS HIDDEN [EFFECTS [LSTM_LAYERS]]]
 *	trains a CRNN (first convolution CHANNELS, default 32; LSTM HIDDEN, default 128) on
 *	generated lines (run seed 1, epochs of 1000 lines, stamping effects EFFECTS, default 1)
 *	for MINUTES, then reads TEST_LINES lines of run seed 3 (which no training saw)
 *	greedily.
 *        ocr_conf MODEL.safetensors THREADS TEST_LINES [CHANNELS HIDDEN [1 [LSTM_LAYERS]]]
 *	reads the same lines with a stored model (dyn fit ocr's file in the store's models/) of
 *	that size (default: dyn fit ocr's) instead, and also prints the error with Latin and
 *	Cyrillic look-alikes folded (ocr_normalize) and the most frequent character confusions. */
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "models/model.h"
#include "ocr/crnn.h"
#include "ocr/match.h"
#include "store/safetensors.h"

static const char *const names[] = {"path (geometric mean over steps)", "step_min", "char_min",
				    "char_mean"};

static float measure(const struct ocr_crnn_conf *c, int k)
{
	return k == 0 ? c->path : k == 1 ? c->step_min : k == 2 ? c->char_min : c->char_mean;
}

/* ROC AUC of scores s for the positives right (ties count half): the chance that a right
 * reading scores above a wrong one. */
static double auc(const float *s, const int *right, long n)
{
	double pos = 0, neg = 0, wins = 0;
	for (long i = 0; i < n; i++) {
		if (!right[i])
			continue;
		pos++;
		for (long j = 0; j < n; j++)
			if (!right[j])
				wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
	}
	for (long j = 0; j < n; j++)
		neg += !right[j];
	return pos && neg ? wins / (pos * neg) : NAN;
}

static int load_model(struct ocr_crnn *c, const char *path, struct err *e)
{
	struct st_file f;
	struct stat sb;
	int fd = open(path, O_RDONLY), ret = -1;
	st_init(&f);
	if (fd < 0 || fstat(fd, &sb) < 0)
		return err_set(e, DYN_EDATA, "%s: cannot open", path);
	if (st_read(&f, fd, (uint64_t)sb.st_size, NULL, e) == 0 &&
	    model_net_load(&f, "crnn", ocr_crnn_net(c), e) == 0)
		ret = 0;
	close(fd);
	st_release(&f);
	return ret;
}

/* Character confusions of same-length readings (a substitution per differing position), and
 * the error with look-alikes folded. */
static void confusions(char *const *refs, const struct strbuf *out, long n)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	double edits = 0, chars = 0;
	long exact = 0, samelen = 0;
	enum { MAXP = 4096 };
	static char pair[MAXP][16];
	static long count[MAXP];
	long np = 0;
	for (long i = 0; i < n; i++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		ocr_normalize(refs[i], &a);
		ocr_normalize(out[i].buf, &b);
		size_t d = ocr_edit_chars(b.buf, a.buf);
		edits += (double)d, chars += (double)ocr_count_chars(a.buf);
		exact += d == 0;
		/* positions of two strings of as many characters (UTF-8) */
		const char *p = refs[i], *q = out[i].buf;
		if (ocr_count_chars(p) != ocr_count_chars(q) || !strcmp(p, q))
			continue;
		samelen++;
		while (*p && *q) {
			int lp = 1, lq = 1;
			while ((p[lp] & 0xC0) == 0x80)
				lp++;
			while ((q[lq] & 0xC0) == 0x80)
				lq++;
			if (lp != lq || memcmp(p, q, (size_t)lp)) {
				char key[16];
				snprintf(key, sizeof(key), "%.*s>%.*s", lp, p, lq, q);
				long k = 0;
				while (k < np && strcmp(pair[k], key))
					k++;
				if (k == np && np < MAXP)
					snprintf(pair[np++], sizeof(pair[0]), "%s", key);
				if (k < MAXP)
					count[k]++;
			}
			p += lp, q += lq;
		}
	}
	printf("look-alikes folded: CER %.2f%%, %ld of %ld exact (%.1f%%)\n", 100 * edits / chars,
	       exact, n, 100.0 * (double)exact / (double)n);
	printf("substitutions in %ld wrong readings of the reference's length "
	       "(reference>read: count):",
	       samelen);
	for (int t = 0; t < 25; t++) {
		long best = -1;
		for (long k = 0; k < np; k++)
			if (count[k] > 0 && (best < 0 || count[k] > count[best]))
				best = k;
		if (best < 0)
			break;
		printf(" %s:%ld", pair[best], count[best]);
		count[best] = -count[best];
	}
	printf("\n");
	strbuf_release(&a);
	strbuf_release(&b);
}

int main(int argc, char **argv)
{
	struct ocr_synth_opts so = {.effects = 1};
	struct ocr_crnn_opts co = {0};
	struct ocr_synth *s = NULL;
	struct ocr_crnn *c = NULL;
	struct err e = ERR_INIT;
	if (argc < 4) {
		fprintf(stderr,
			"usage: ocr_conf MINUTES THREADS TEST_LINES [CHANNELS HIDDEN [EFFECTS "
			"[LSTM_LAYERS]]]\n");
		return 2;
	}
	double minutes = strtod(argv[1], NULL);
	long n = strtol(argv[3], NULL, 10);
	co.threads = (int)strtol(argv[2], NULL, 10);
	if (argc > 5) {
		int c0 = (int)strtol(argv[4], NULL, 10);
		co.channels[0] = c0, co.channels[1] = 2 * c0, co.channels[2] = 3 * c0;
		co.hidden = (int)strtol(argv[5], NULL, 10);
	}
	if (argc > 6)
		so.effects = strtod(argv[6], NULL);
	if (argc > 7)
		co.lstm_layers = (int)strtol(argv[7], NULL, 10);
	const char *model = strstr(argv[1], ".safetensors") ? argv[1] : NULL;
	if (n < 2 || ocr_synth_new(&s, &so, &e) < 0 || ocr_crnn_new(&c, &co, &e) < 0)
		goto fail;
	if (model && load_model(c, model, &e) < 0)
		goto fail;
	struct ocr_crnn_train_opts to = {.seed = 1,
					 .synth = s,
					 .synth_lines = 1000,
					 .val_lines = 100,
					 .val_seed = 2,
					 .epochs = 100000,
					 .batch = 16,
					 .lr = 2e-3f,
					 .warmup = 3000,
					 .max_seconds = minutes * 60,
					 .keep_best = 1};
	if (!model && ocr_crnn_train(c, &to, &e) < 0)
		goto fail;
	struct img *ims = xcalloc((size_t)n, sizeof(*ims));
	const struct img **ptr = xcalloc((size_t)n, sizeof(*ptr));
	char **refs = xcalloc((size_t)n, sizeof(*refs));
	struct strbuf *out = xcalloc((size_t)n, sizeof(*out));
	struct ocr_crnn_conf *cf = xcalloc((size_t)n, sizeof(*cf));
	int *right = xcalloc((size_t)n, sizeof(int));
	float *sc = xcalloc((size_t)n, sizeof(float));
	long nright = 0;
	double edits = 0, chars = 0;
	for (long i = 0; i < n; i++) {
		img_init(&ims[i]);
		strbuf_init(&out[i]);
		if (ocr_synth_line(s, ocr_synth_seed(3, (uint64_t)i), &ims[i], &refs[i], &e) < 0)
			goto fail;
		ptr[i] = &ims[i];
	}
	if (ocr_crnn_read_confs(c, ptr, (size_t)n, 1, out, cf, &e) < 0)
		goto fail;
	for (long i = 0; i < n; i++) {
		size_t d = ocr_edit_chars(out[i].buf, refs[i]);
		right[i] = d == 0;
		nright += right[i];
		edits += (double)d, chars += (double)ocr_count_chars(refs[i]);
	}
	printf("%ld held-out lines, %ld read exactly (%.1f%%), CER %.2f%%\n", n, nright,
	       100.0 * (double)nright / (double)n, 100 * edits / chars);
	for (int k = 0; k < 4; k++) {
		double mean_r = 0, mean_w = 0;
		for (long i = 0; i < n; i++) {
			sc[i] = measure(&cf[i], k);
			if (right[i])
				mean_r += sc[i];
			else
				mean_w += sc[i];
		}
		printf("%-34s AUC %.3f, mean right %.3f wrong %.3f", names[k], auc(sc, right, n),
		       mean_r / (double)(nright ? nright : 1),
		       mean_w / (double)(n - nright ? n - nright : 1));
		for (int t = 0; t < 2; t++) {
			double th = t ? 0.9 : 0.5;
			long above = 0, ok = 0, wrong_above = 0;
			for (long i = 0; i < n; i++)
				if (sc[i] > th)
					above++, ok += right[i], wrong_above += !right[i];
			printf("; > %.1f: %ld lines, %.1f%% right, %ld of %ld wrong", th, above,
			       above ? 100.0 * (double)ok / (double)above : NAN, wrong_above,
			       n - nright);
		}
		printf("\n");
	}
	if (model)
		confusions(refs, out, n);
	for (long i = 0; i < 12; i++)
		printf(
		    "  \"%s\" read \"%s\": path %.3f step_min %.3f char_min %.3f char_mean %.3f\n",
		    refs[i], out[i].buf, (double)cf[i].path, (double)cf[i].step_min,
		    (double)cf[i].char_min, (double)cf[i].char_mean);
	return 0;
fail:
	fprintf(stderr, "ocr_conf: %s\n", e.msg);
	return 1;
}
