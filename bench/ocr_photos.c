/* Writes generated phone photos of stamped parts for the end-to-end OCR benchmark
 * (bench/ocr_e2e.sh): N JPEGs (quality 90, stored turned with an Exif orientation as a phone
 * held upright writes them), the true marking lines of each, and an orders table that holds
 * every photo's marking among ROWS rows of other generated articles and serials.
 * usage: ocr_photos DIR [N [ROWS [SEED]]]   (defaults 9 photos, 20000 rows, seed 700000: a
 * run apart from the tests' and from bench/ocr_find's) */
#include <errno.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "base/base.h"
#include "ocr/photo.h"

static void sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

/* Splices the APP1 Exif segment of orientation 6 after SOI: the pixels are stored turned
 * a quarter anticlockwise, as a phone held upright stores them. */
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

/* "ARTICLE SERIAL": the serial is the last space-separated word (ocr_synth_text's shape). */
static void split_marking(const char *text, struct strbuf *article, struct strbuf *serial)
{
	const char *sp = strrchr(text, ' ');
	strbuf_reset(article);
	strbuf_reset(serial);
	if (!sp) {
		strbuf_adds(article, text);
		return;
	}
	strbuf_add(article, text, (size_t)(sp - text));
	strbuf_adds(serial, sp + 1);
}

static void csv_field(FILE *fp, const char *s, const char *end)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
	fputs(end, fp);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 9;
	long rows = argc > 3 ? strtol(argv[3], NULL, 10) : 20000;
	long seed = argc > 4 ? strtol(argv[4], NULL, 10) : 700000;
	struct ocr_synth_opts so = {.height = 64, .effects = 0};
	struct ocr_synth *s = NULL;
	struct err e = ERR_INIT;
	struct ocr_photo p;
	struct strbuf path = STRBUF_INIT, art = STRBUF_INIT, ser = STRBUF_INIT, text = STRBUF_INIT;
	FILE *truth, *orders;
	int ret = 1;

	if (!dir || n < 1 || rows < n || seed < 0) {
		fprintf(stderr, "usage: ocr_photos DIR [N [ROWS [SEED]]]\n");
		return 2;
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	if (ocr_synth_new(&s, &so, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	ocr_photo_init(&p);
	strbuf_addf(&path, "%s/truth.csv", dir);
	truth = fopen(path.buf, "w");
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/orders.csv", dir);
	orders = fopen(path.buf, "w");
	if (!truth || !orders) {
		perror(path.buf);
		goto out;
	}
	fputs("file,line,text,ring\n", truth);
	fputs("article,serial,name,order,station\n", orders);
	for (long i = 0; i < n; i++) {
		struct ocr_photo_opts o = {.rotation = -1, .ring = 0.3};
		struct strbuf jpeg = STRBUF_INIT;
		char name[32];
		if (ocr_synth_photo(s, (uint64_t)(seed + i), &o, &p, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			goto out;
		}
		snprintf(name, sizeof(name), "p%03ld.jpg", i);
		stbi_write_jpg_to_func(sink, &jpeg, (int)p.im.w, (int)p.im.h, p.im.channels,
				       p.im.px, 90);
		add_exif6(&jpeg);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, name);
		{
			FILE *fp = fopen(path.buf, "wb");
			if (!fp || fwrite(jpeg.buf, 1, jpeg.len, fp) != jpeg.len || fclose(fp)) {
				perror(path.buf);
				goto out;
			}
		}
		strbuf_release(&jpeg);
		for (size_t k = 0; k < p.n; k++) {
			fprintf(truth, "%s,%zu,", name, k);
			csv_field(truth, p.lines[k].text, p.lines[k].is_ring ? ",1\n" : ",0\n");
		}
		/* the photo's first straight line is its marking: its order row */
		for (size_t k = 0; k < p.n; k++) {
			if (p.lines[k].is_ring)
				continue;
			split_marking(p.lines[k].text, &art, &ser);
			csv_field(orders, art.buf, ",");
			csv_field(orders, ser.buf, ",");
			fprintf(orders, "part %ld,ORD-%06ld,station %ld\n", i, i, i % 7);
			break;
		}
	}
	/* the rest of the table: other markings of the same generator, a seed run apart */
	for (long r = n; r < rows; r++) {
		strbuf_reset(&text);
		ocr_synth_text(s, ocr_synth_seed((uint64_t)seed + 1000000, (uint64_t)r), &text);
		split_marking(text.buf, &art, &ser);
		csv_field(orders, art.buf, ",");
		csv_field(orders, ser.buf, ",");
		fprintf(orders, "part %ld,ORD-%06ld,station %ld\n", r, r, r % 7);
	}
	ret = 0;
out:
	if (truth)
		fclose(truth);
	if (orders)
		fclose(orders);
	ocr_photo_release(&p);
	ocr_synth_free(&s);
	strbuf_release(&path);
	strbuf_release(&art);
	strbuf_release(&ser);
	strbuf_release(&text);
	return ret;
}
