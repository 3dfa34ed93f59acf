/* Text finding in photos (lib/ocr/find): the time to find the candidate lines of a 4032x3024
 * photo (median over photos, CPU and wall), with what goes around it in a read (decoding the
 * JPEG, turning it by its Exif orientation, cutting the best candidates out both ways up),
 * and the recall of the true lines over generated photos of a seed set apart from the tests'.
 * usage: ocr_find [TIMED [RECALL [SIDE]]]   (defaults 9 photos timed, 100 for recall, recall
 * photos 4032x3024; SIDE sets their long side, the short one 3/4 of it)
 * environment: SEED, the recall photos' first seed (default 900000, the figure reported; look
 * at others when changing the finder, so that the figure is not tuned to its own photos);
 * MISSES=DIR prints each line missed and writes it, cut out along its true box, to DIR. */
#include <math.h>
#include <time.h>

#include <stb_image_write.h>

#include "base/base.h"
#include "ocr/find.h"
#include "ocr/photo.h"

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n ? v[n / 2] : 0;
}

static void sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

/* The APP1 Exif segment of orientation 6 (a phone held upright), spliced after SOI. */
static void add_exif6(struct strbuf *jpeg)
{
	static const unsigned char seg[] = {
	    0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
	    0,	  1,	0x01, 0x12, 0,	 3,   0,   0,	0, 1, 0,   6,	0, 0,  0, 0, 0, 0};
	struct strbuf t = STRBUF_INIT;
	strbuf_add(&t, jpeg->buf, 2);
	strbuf_add(&t, seg, sizeof(seg));
	strbuf_add(&t, jpeg->buf + 2, jpeg->len - 2);
	strbuf_release(jpeg);
	*jpeg = t;
}

int main(int argc, char **argv)
{
	long timed = argc > 1 ? strtol(argv[1], NULL, 10) : 9;
	long nrec = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	long side = argc > 3 ? strtol(argv[3], NULL, 10) : 4032;
	struct ocr_synth_opts so = {.height = 64, .effects = 0};
	struct ocr_synth *s = NULL;
	struct err e = ERR_INIT;
	struct ocr_photo p;
	struct ocr_find_opts fo = {.rings = true};
	double *tc, *tw, *td, *tturn, *tcut, gen = 0, mc, mw;
	long lines = 0, found = 0, found3 = 0, rings = 0, rfound = 0, cands = 0;
	long bare_high = 0;
	const char *seed_env = getenv("SEED"), *misses = getenv("MISSES");
	uint64_t seed0 = seed_env ? strtoull(seed_env, NULL, 10) : 900000;
	struct img im, cut;

	if (timed < 1 || nrec < 0 || side < 256 || side > 8192) {
		fprintf(stderr, "usage: ocr_find [TIMED [RECALL [SIDE]]]\n");
		return 2;
	}
	ocr_photo_init(&p);
	img_init(&im);
	img_init(&cut);
	if (ocr_synth_new(&s, &so, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	tc = xcalloc((size_t)timed, sizeof(double));
	tw = xcalloc((size_t)timed, sizeof(double));
	td = xcalloc((size_t)timed, sizeof(double));
	tturn = xcalloc((size_t)timed, sizeof(double));
	tcut = xcalloc((size_t)timed, sizeof(double));
	for (long i = 0; i < timed; i++) {
		struct ocr_photo_opts o = {.rotation = -1, .ring = 0.3};
		struct strbuf jpeg = STRBUF_INIT;
		struct ocr_cand *c = NULL;
		size_t n = 0;
		double c0, w0;
		if (ocr_synth_photo(s, 500000 + (uint64_t)i, &o, &p, &e) < 0)
			goto fail;
		/* decoding a phone's JPEG (quality 90) and turning it upright by its Exif */
		stbi_write_jpg_to_func(sink, &jpeg, (int)p.im.w, (int)p.im.h, 3, p.im.px, 90);
		add_exif6(&jpeg);
		c0 = cpu();
		if (img_decode_upright(&im, jpeg.buf, jpeg.len, 3, "photo.jpg", &e) < 0)
			goto fail;
		td[i] = cpu() - c0;
		strbuf_release(&jpeg);
		/* the turn alone, on the decoded photo */
		c0 = cpu();
		img_orient(&im, 8);
		tturn[i] = cpu() - c0;
		c0 = cpu();
		w0 = wall();
		if (ocr_find(&p.im, &fo, &c, &n, &e) < 0)
			goto fail;
		tc[i] = cpu() - c0;
		tw[i] = wall() - w0;
		/* the recognizer reads the best 4 both ways up at height 32 */
		c0 = cpu();
		for (size_t k = 0; k < n && k < 4; k++)
			for (int flip = 0; flip <= 1; flip++)
				if (ocr_find_cut(&p.im, &c[k], 32, flip, &cut, &e) < 0)
					goto fail;
		tcut[i] = cpu() - c0;
		free(c);
	}
	mc = median(tc, (size_t)timed);
	mw = median(tw, (size_t)timed);
	printf("find in a %zux%zu photo, %ld photos: median %.3f s CPU, %.3f s wall (CPU min "
	       "%.3f, max %.3f)\n",
	       p.im.w, p.im.h, timed, mc, mw, tc[0], tc[timed - 1]);
	printf("around it (medians, CPU): JPEG decode with its Exif turn %.3f s, of which the turn "
	       "%.3f s; cutting the best 4 candidates both ways up %.4f s\n",
	       median(td, (size_t)timed), median(tturn, (size_t)timed),
	       median(tcut, (size_t)timed));

	for (long i = 0; i < nrec; i++) {
		struct ocr_photo_opts o = {
		    .w = (size_t)side, .h = (size_t)side * 3 / 4, .rotation = -1, .ring = 0.3};
		struct ocr_cand *c = NULL;
		size_t n = 0;
		double g0 = cpu();
		/* seeds 900000 and on: neither the tests' nor the timing's */
		if (ocr_synth_photo(s, seed0 + (uint64_t)i, &o, &p, &e) < 0)
			goto fail;
		gen += cpu() - g0;
		if (ocr_find(&p.im, &fo, &c, &n, &e) < 0)
			goto fail;
		cands += (long)n;
		bool shown = false; /* the photo written to MISSES */
		for (size_t j = 0; j < p.n; j++) {
			const struct ocr_photo_line *l = &p.lines[j];
			double best = 0, best3 = 0;
			size_t bk = 0;
			if (l->is_ring) {
				rings++;
				for (size_t k = 0; k < n; k++)
					if (c[k].kind == OCR_CAND_RING &&
					    hypot(c[k].ring.cx - l->ring.cx,
						  c[k].ring.cy - l->ring.cy) <
						0.05 * l->ring.r_out &&
					    c[k].ring.r_in < l->ring.r_in + 0.3 * (l->ring.r_out -
										   l->ring.r_in) &&
					    c[k].ring.r_out >
						l->ring.r_out -
						    0.3 * (l->ring.r_out - l->ring.r_in)) {
						rfound++;
						break;
					}
				continue;
			}
			lines++;
			for (size_t k = 0; k < n; k++) {
				double v = c[k].kind == OCR_CAND_LINE
					       ? ocr_box_iou(&l->box, &c[k].box)
					       : 0;
				if (v > best)
					bk = k;
				best = v > best ? v : best;
				if (k < 3)
					best3 = v > best3 ? v : best3;
			}
			found += best >= 0.5;
			found3 += best3 >= 0.5;
			if (misses && best < 0.5) {
				struct ocr_cand t = {.kind = OCR_CAND_LINE, .box = l->box};
				char path[4096];
				printf(
				    "miss: seed %llu line %zu \"%s\": box %.0fx%.0f at %.0f deg "
				    "centre %.0f,%.0f; best IoU %.2f: %.0fx%.0f at %.0f deg centre "
				    "%.0f,%.0f; %zu candidates\n",
				    (unsigned long long)(seed0 + (uint64_t)i), j, l->text, l->box.w,
				    l->box.h, l->box.angle, l->box.cx, l->box.cy, best,
				    n ? c[bk].box.w : 0, n ? c[bk].box.h : 0,
				    n ? c[bk].box.angle : 0, n ? c[bk].box.cx : 0,
				    n ? c[bk].box.cy : 0, n);
				snprintf(path, sizeof(path), "%s/%llu-%zu.png", misses,
					 (unsigned long long)(seed0 + (uint64_t)i), j);
				if (ocr_find_cut(&p.im, &t, 64, 0, &cut, &e) == 0)
					stbi_write_png(path, (int)cut.w, (int)cut.h, cut.channels,
						       cut.px, (int)cut.w * cut.channels);
				/* the photo, and every candidate, to draw them on it: once a
				 * photo, however many of its lines were missed */
				if (shown)
					continue;
				shown = true;
				snprintf(path, sizeof(path), "%s/%llu.jpg", misses,
					 (unsigned long long)(seed0 + (uint64_t)i));
				stbi_write_jpg(path, (int)p.im.w, (int)p.im.h, p.im.channels,
					       p.im.px, 80);
				for (size_t k = 0; k < n; k++)
					if (c[k].kind == OCR_CAND_LINE)
						printf("cand: seed %llu %zu score %.2f: %.0fx%.0f "
						       "at %.0f deg centre %.0f,%.0f\n",
						       (unsigned long long)(seed0 + (uint64_t)i), k,
						       c[k].score, c[k].box.w, c[k].box.h,
						       c[k].box.angle, c[k].box.cx, c[k].box.cy);
			}
		}
		free(c);
		/* the same photo's metal without text: what does the finder make of it */
		o.lines = -1;
		o.ring = 0;
		if (ocr_synth_photo(s, seed0 + (uint64_t)i, &o, &p, &e) < 0 ||
		    ocr_find(&p.im, &fo, &c, &n, &e) < 0)
			goto fail;
		bare_high += n && c[0].score >= 0.9;
		free(c);
	}
	if (nrec > 0) {
		printf("recall over %ld photos %ldx%ld (seeds %llu..): %ld of %ld lines (%.1f%%) "
		       "found at IoU >= 0.5 among all candidates, %ld (%.1f%%) among the best 3; "
		       "%ld of %ld rings (%.1f%%); %.1f candidates a photo\n",
		       nrec, side, side * 3 / 4, (unsigned long long)seed0, found, lines,
		       100.0 * (double)found / (double)lines, found3,
		       100.0 * (double)found3 / (double)lines, rfound, rings,
		       rings ? 100.0 * (double)rfound / (double)rings : 0,
		       (double)cands / (double)nrec);
		printf("the same photos without text: %ld of %ld with a candidate scoring 0.9 or "
		       "more; generating a photo took %.2f s CPU\n",
		       bare_high, nrec, gen / (double)nrec);
	}
	free(tc);
	free(tw);
	free(td);
	free(tturn);
	free(tcut);
	img_release(&im);
	img_release(&cut);
	ocr_photo_release(&p);
	ocr_synth_free(&s);
	return 0;
fail:
	fprintf(stderr, "%s\n", e.msg);
	return 1;
}
