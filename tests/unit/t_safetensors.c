/* Unit tests of lib/store/safetensors.c: bit-exact round trip, readability by Python (json +
 * numpy), and clean errors on every truncation, random byte flips and hand-made bad headers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/base.h"
#include "base/sha256.h"
#include "check.h"
#include "store/safetensors.h"

static const double f64v[6] = {0.1, -2.25, 1e-300, -0.0, 3.141592653589793, 1e308};
static const float f32v[4] = {0.5f, -1.25f, 3.0f, 1e-45f};
static const int64_t i64v[3] = {INT64_MIN, -1, INT64_MAX};
static const int32_t i32v[1] = {-123456};
static const uint8_t u8v[5] = {0, 1, 127, 128, 255};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ST_BIG_ENDIAN_HOST 1
#else
#define ST_BIG_ENDIAN_HOST 0
#endif

static void build(struct st_file *f)
{
	size_t s23[2] = {2, 3}, s4[1] = {4}, s3[1] = {3}, s5[1] = {5}, s03[2] = {0, 3};
	st_init(f);
	/* Added out of name order: the file is laid out in name order regardless. */
	st_add(f, "weights", ST_F64, 2, s23, f64v);
	st_add(f, "bias", ST_F32, 1, s4, f32v);
	st_add(f, "classes", ST_I64, 1, s3, i64v);
	st_add(f, "scalar", ST_I32, 0, NULL, i32v);
	st_add(f, "bytes", ST_U8, 1, s5, u8v);
	st_add(f, "empty", ST_F64, 2, s03, NULL);
	st_set_meta(f, "kind", "logreg");
	st_set_meta(f, "note", "quote \" backslash \\ newline \n cyrillic \xd0\xb6");
}

static uint64_t rd64(const char *p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return v;
}

static void test_round_trip(void)
{
	struct st_file f, g;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct err e = ERR_INIT;
	const struct st_tensor *t;
	uint64_t hlen;
	int ok;

	build(&f);
	st_serialize(&f, &a);
	hlen = rd64(a.buf);
	check((8 + hlen) % 8 == 0, "data starts 8-byte aligned (header %llu bytes)",
	      (unsigned long long)hlen);
	check(8 + hlen + 48 + 16 + 24 + 4 + 5 == a.len, "file is header plus packed data (%zu)",
	      a.len);
	check(!memcmp(a.buf + 8, "{\"__metadata__\":{\"kind\":\"logreg\"", 32),
	      "header starts with the metadata");
	check(strstr(a.buf + 8,
		     "\"bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}") != NULL,
	      "first tensor in name order at offset 0");
	check(a.buf[8 + hlen - 1] == ' ' || a.buf[8 + hlen - 1] == '}',
	      "header padded with spaces");

	st_init(&g);
	ok = st_parse(&g, a.buf, a.len, &e) == 0;
	check(ok, "parse own output (%s)", e.msg);
	check(g.n == 6 && g.nmeta == 2, "six tensors and two metadata entries");
	t = st_get(&g, "weights", ST_F64, 2, &e);
	check(t && t->shape[0] == 2 && t->shape[1] == 3 && t->nbytes == 48 &&
		  !memcmp(t->data, f64v, 48),
	      "F64 2x3 bit-exact (including -0.0, 1e-300)");
	t = st_get(&g, "bias", ST_F32, 1, &e);
	check(t && t->shape[0] == 4 && !memcmp(t->data, f32v, 16), "F32 bit-exact");
	t = st_get(&g, "classes", ST_I64, 1, &e);
	check(t && !memcmp(t->data, i64v, 24), "I64 extremes bit-exact");
	t = st_get(&g, "scalar", ST_I32, 0, &e);
	check(t && t->nbytes == 4 && *(int32_t *)t->data == -123456, "I32 scalar (shape [])");
	t = st_get(&g, "bytes", ST_U8, 1, &e);
	check(t && !memcmp(t->data, u8v, 5), "U8 bit-exact");
	t = st_get(&g, "empty", ST_F64, 2, &e);
	check(t && t->nbytes == 0 && t->shape[0] == 0 && t->shape[1] == 3, "empty tensor 0x3");
	check(st_get_meta(&g, "kind") && !strcmp(st_get_meta(&g, "kind"), "logreg"),
	      "metadata kind");
	check(st_get_meta(&g, "note") && !strcmp(st_get_meta(&g, "note"), st_get_meta(&f, "note")),
	      "metadata with quotes, backslash, newline and UTF-8");
	check(st_get_meta(&g, "nope") == NULL, "absent metadata is NULL");

	st_serialize(&g, &b);
	check(a.len == b.len && !memcmp(a.buf, b.buf, a.len), "re-serialized bytes identical");

	check(st_get(&g, "nope", ST_F64, 1, &e) == NULL &&
		  !strcmp(e.msg, "tensor \"nope\" is missing"),
	      "missing tensor: %s", e.msg);
	check(st_get(&g, "weights", ST_F32, 2, &e) == NULL &&
		  !strcmp(e.msg, "tensor \"weights\": expected dtype F32, got F64"),
	      "wrong dtype: %s", e.msg);
	check(st_get(&g, "weights", ST_F64, 1, &e) == NULL &&
		  !strcmp(e.msg, "tensor \"weights\": expected 1 dimensions, got 2"),
	      "wrong ndim: %s", e.msg);

	/* Replacing a tensor and a metadata value. */
	{
		size_t s1[1] = {1};
		double one = 1;
		st_add(&f, "weights", ST_F64, 1, s1, &one);
		st_set_meta(&f, "kind", "svc");
		t = st_get(&f, "weights", ST_F64, 1, &e);
		check(f.n == 6 && t && *(double *)t->data == 1 &&
			  !strcmp(st_get_meta(&f, "kind"), "svc"),
		      "st_add and st_set_meta replace existing names");
	}
	/* An empty file: no tensors, no metadata. */
	{
		struct st_file z;
		struct strbuf zb = STRBUF_INIT;
		st_init(&z);
		st_serialize(&z, &zb);
		check(zb.len == 16 && !memcmp(zb.buf + 8, "{}      ", 8),
		      "empty file is {} padded");
		check(st_parse(&z, zb.buf, zb.len, &e) == 0 && z.n == 0, "empty file parses");
		st_release(&z);
		strbuf_release(&zb);
	}
	st_release(&f);
	st_release(&g);
	strbuf_release(&a);
	strbuf_release(&b);
}

static const char py_script[] =
    "import json, sys, numpy as np\n"
    "b = open(sys.argv[1], 'rb').read()\n"
    "n = int.from_bytes(b[:8], 'little')\n"
    "h = json.loads(b[8:8 + n].decode('utf-8'))\n"
    "data = b[8 + n:]\n"
    "dt = {'F64': '<f8', 'F32': '<f4', 'I64': '<i8', 'I32': '<i4', 'U8': 'u1'}\n"
    "meta = h.pop('__metadata__', {})\n"
    "print('aligned', (8 + n) % 8 == 0)\n"
    "for k in sorted(meta): print('meta', k, json.dumps(meta[k]))\n"
    "for name in sorted(h):\n"
    "    t = h[name]; s, e = t['data_offsets']\n"
    "    a = np.frombuffer(data[s:e], dtype=dt[t['dtype']]).reshape(t['shape'])\n"
    "    v = [repr(float(x)) if a.dtype.kind == 'f' else str(int(x)) for x in a.ravel()]\n"
    "    print(name, t['dtype'], list(a.shape), ' '.join(v))\n";

/* What the script above must print for build()'s file; the Python float reprs are the shortest
 * round-trip forms of the values written from C. */
static const char py_expected[] =
    "aligned True\n"
    "meta kind \"logreg\"\n"
    "meta note \"quote \\\" backslash \\\\ newline \\n cyrillic \\u0436\"\n"
    "bias F32 [4] 0.5 -1.25 3.0 1.401298464324817e-45\n"
    "bytes U8 [5] 0 1 127 128 255\n"
    "classes I64 [3] -9223372036854775808 -1 9223372036854775807\n"
    "empty F64 [0, 3] \n"
    "scalar I32 [] -123456\n"
    "weights F64 [2, 3] 0.1 -2.25 1e-300 -0.0 3.141592653589793 1e+308\n";

static void test_python(void)
{
	char dir[] = "/tmp/t_safetensors.XXXXXX";
	struct strbuf path = STRBUF_INIT, cmd = STRBUF_INIT, got = STRBUF_INIT, bytes = STRBUF_INIT;
	struct st_file f;
	FILE *fp;
	int rc;

	if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
		printf("ok - readable by python json + numpy # skip /usr/bin/python3 with numpy "
		       "missing\n");
		return;
	}
	if (!mkdtemp(dir)) {
		check(0, "mkdtemp");
		return;
	}
	build(&f);
	st_serialize(&f, &bytes);
	st_release(&f);
	strbuf_addf(&path, "%s/m.safetensors", dir);
	fp = fopen(path.buf, "wb");
	check(fp && fwrite(bytes.buf, 1, bytes.len, fp) == bytes.len && fclose(fp) == 0,
	      "write the test file");
	{
		/* Through the file system and back: the same bytes, the same tensors. */
		struct strbuf back = STRBUF_INIT;
		struct err e = ERR_INIT;
		const struct st_tensor *t;
		int fd = open(path.buf, O_RDONLY);
		check(fd >= 0 && strbuf_read_fd(&back, fd) == 0 && back.len == bytes.len &&
			  !memcmp(back.buf, bytes.buf, back.len),
		      "file reads back byte-identical");
		if (fd >= 0)
			close(fd);
		st_init(&f);
		t = st_parse(&f, back.buf, back.len, &e) == 0 ? st_get(&f, "weights", ST_F64, 2, &e)
							      : NULL;
		check(t && !memcmp(t->data, f64v, sizeof(f64v)), "file parses back bit-exactly");
		st_release(&f);
		strbuf_release(&back);
	}
	{
		struct strbuf sp = STRBUF_INIT;
		strbuf_addf(&sp, "%s/read.py", dir);
		fp = fopen(sp.buf, "w");
		fputs(py_script, fp);
		fclose(fp);
		strbuf_addf(&cmd, "/usr/bin/python3 %s %s", sp.buf, path.buf);
		strbuf_release(&sp);
	}
	fp = popen(cmd.buf, "r");
	check(fp != NULL, "run python");
	if (fp) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			strbuf_add(&got, buf, n);
		rc = pclose(fp);
		check(rc == 0, "python exits 0");
		check(!strcmp(got.buf, py_expected), "python reads the same values");
		if (strcmp(got.buf, py_expected))
			printf("# got:\n%s# expected:\n%s", got.buf, py_expected);
	}
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "rm -rf %s", dir);
	if (system(cmd.buf) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	strbuf_release(&path);
	strbuf_release(&cmd);
	strbuf_release(&got);
	strbuf_release(&bytes);
}

/* A file from a literal header and a data buffer of dlen bytes (header not padded). */
static void make_file(struct strbuf *sb, const char *hdr, size_t hlen, size_t dlen)
{
	unsigned char len8[8];
	int i;
	strbuf_reset(sb);
	for (i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	strbuf_add(sb, len8, 8);
	strbuf_add(sb, hdr, hlen);
	while (dlen--)
		strbuf_addch(sb, 0x3f);
}

static void expect_bad(const char *hdr, size_t hlen, size_t dlen, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	struct st_file f;
	struct err e = ERR_INIT;
	int r;
	make_file(&sb, hdr, hlen, dlen);
	st_init(&f);
	r = st_parse(&f, sb.buf, sb.len, &e);
	check(r < 0 && e.code == DYN_EDATA && !strcmp(e.msg, msg) && f.n == 0 && f.nmeta == 0,
	      "bad header rejected: %s", msg);
	if (strcmp(e.msg, msg))
		printf("#   got: %s\n", e.msg);
	st_release(&f);
	strbuf_release(&sb);
}

#define BAD(hdr, dlen, msg) expect_bad(hdr, sizeof(hdr) - 1, dlen, msg)

static void test_bad_headers(void)
{
	struct st_file f;
	struct err e = ERR_INIT;
	unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
	int r;

	st_init(&f);
	r = st_parse(&f, "abc", 3, &e);
	check(r < 0 && !strcmp(e.msg, "safetensors: truncated file (3 bytes, less than the 8-byte "
				      "header length)"),
	      "3-byte file: %s", e.msg);
	r = st_parse(&f, huge, sizeof(huge), &e);
	check(r < 0 &&
		  !strcmp(e.msg, "safetensors: header length 18446744073709551615 is too large"),
	      "huge header length: %s", e.msg);
	huge[0] = 100;
	memset(huge + 1, 0, 7);
	r = st_parse(&f, huge, sizeof(huge), &e);
	check(r < 0 &&
		  !strcmp(e.msg, "safetensors: truncated file (header of 100 bytes, file of 16 "
				 "bytes)"),
	      "header beyond the file: %s", e.msg);
	st_release(&f);

	BAD("[]", 0, "safetensors: header does not start with '{'");
	BAD("{\"a\":1", 0, "safetensors header: unexpected end of JSON at line 1");
	BAD("{\"a\":1}}", 0, "safetensors header: invalid JSON at line 1");
	BAD("{\n\"a\":\x00}", 0, "safetensors header: NUL byte at line 2");
	BAD("{\"\xff\":1}", 0, "safetensors header: invalid UTF-8 at line 1");
	BAD("{\"a\":1}", 0, "safetensors header: tensor \"a\" is not an object");
	BAD("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
	    "safetensors header: tensor \"a\": unsupported dtype \"F16\" (expected F64, F32, I64, "
	    "I32 "
	    "or U8)");
	BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
	    "safetensors header: tensor \"a\": its shape and dtype F64 make 16 bytes but "
	    "data_offsets [0, 8] hold 8");
	BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8,
	    "safetensors header: tensor \"a\": data_offsets [0, 16] outside the 8-byte data "
	    "buffer");
	BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16,0]}}", 16,
	    "safetensors header: tensor \"a\": data_offsets [16, 0] outside the 16-byte data "
	    "buffer");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	    "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
	    8, "safetensors header: tensors \"a\" and \"b\" overlap in the data buffer");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	    "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
	    8, "safetensors header: tensor \"a\" appears twice");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[-4],\"data_offsets\":[0,4]}}", 4,
	    "safetensors header: tensor \"a\": shape is not a list of non-negative integers");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
	    "safetensors header: tensor \"a\": shape is not a list of non-negative integers");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
	    "safetensors header: tensor \"a\": 5 dimensions (at most 4)");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
	    "\"data_offsets\":[0,1]}}",
	    1, "safetensors header: tensor \"a\": shape is too large");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
	    "safetensors header: tensor \"a\": data_offsets is not a pair of non-negative "
	    "integers");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1,
	    "safetensors header: tensor \"a\": missing \"data_offsets\"");
	BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1,
	    "safetensors header: tensor \"a\": unknown field \"x\"");
	BAD("{\"__metadata__\":{\"k\":1}}", 0,
	    "safetensors header: metadata \"k\" is not a string");
	BAD("{\"__metadata__\":[]}", 0, "safetensors header: \"__metadata__\" is not an object");
	BAD("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0,
	    "safetensors header: metadata \"k\" appears twice");
	/* Legal but unusual: unpadded header, tensors out of order, a gap in the buffer. */
	{
		static const char h[] =
		    "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
		    "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
		struct strbuf sb = STRBUF_INIT;
		make_file(&sb, h, sizeof(h) - 1, 6);
		st_init(&f);
		check(st_parse(&f, sb.buf, sb.len, &e) == 0 && f.n == 2,
		      "unpadded, unordered, gap: ok");
		st_release(&f);
		strbuf_release(&sb);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64: deterministic flips, so a failure reproduces. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_corruption(void)
{
	struct st_file f, g;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t len, bad_prefix = 0, bad_flip = 0, accepted = 0, i;
	char *copy;

	build(&f);
	st_serialize(&f, &a);
	st_release(&f);
	for (len = 0; len < a.len; len++) {
		/* An exact-size heap copy, so ASan sees any read past the end. */
		copy = xmalloc(len ? len : 1);
		memcpy(copy, a.buf, len);
		st_init(&g);
		e.code = 0;
		e.msg[0] = '\0';
		if (st_parse(&g, copy, len, &e) == 0 || e.code != DYN_EDATA || !e.msg[0] || g.n ||
		    g.nmeta)
			bad_prefix++;
		st_release(&g);
		free(copy);
	}
	check(bad_prefix == 0, "all %zu proper prefixes rejected cleanly (%zu not)", a.len,
	      bad_prefix);

	for (i = 0; i < 600; i++) {
		size_t pos = (size_t)(rng() % a.len);
		unsigned char v = (unsigned char)rng();
		int nflips = 1 + (int)(rng() % 3), k;
		copy = xmalloc(a.len);
		memcpy(copy, a.buf, a.len);
		for (k = 0; k < nflips; k++) {
			/* Most flips land in the header, where the parsing is. */
			pos = (size_t)(rng() % (rng() % 4 ? 8 + rd64(a.buf) : a.len));
			copy[pos] = (char)(i & 1 ? v : copy[pos] ^ (1 << (rng() % 8)));
		}
		st_init(&g);
		e.code = 0;
		e.msg[0] = '\0';
		if (st_parse(&g, copy, a.len, &e) == 0) {
			/* Whatever is accepted must be consistent: it serializes and parses back.
			 */
			accepted++;
			strbuf_reset(&b);
			st_serialize(&g, &b);
			st_release(&g);
			if (st_parse(&g, b.buf, b.len, &e) < 0)
				bad_flip++;
		} else if (e.code != DYN_EDATA || !e.msg[0] || g.n || g.nmeta) {
			bad_flip++;
		}
		st_release(&g);
		free(copy);
	}
	check(bad_flip == 0,
	      "600 corrupted copies: errors are clean, accepted ones consistent "
	      "(%zu accepted, %zu bad)",
	      accepted, bad_flip);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* The bytes are those of the format as dyn has always written it: this hash was printed by the
 * st_serialize of commit 7272fb5 (before tensors were borrowed and written in pieces) for
 * build()'s file, with a program linking that safetensors.c that printed sha256_hex of them. */
#define BUILD_SHA256 "1a028ca89a9c76998ce7699f8611c15b032310b83b69b9ecdde2adb9f921a4cd"
#define BUILD_LEN    553

static void test_image(void)
{
	struct st_file f;
	struct st_image img;
	struct strbuf a = STRBUF_INIT, cat = STRBUF_INIT;
	char hex[65];
	size_t i;
	int borrowed = 1;

	build(&f);
	st_serialize(&f, &a);
	sha256_hex(a.buf, a.len, hex);
	check(a.len == BUILD_LEN && !strcmp(hex, BUILD_SHA256),
	      "serialized bytes are the format's as before (%zu bytes, sha256 %.12s)", a.len, hex);
	st_image_init(&img, &f);
	for (i = 0; i < img.niov; i++)
		strbuf_add(&cat, img.iov[i].iov_base, img.iov[i].iov_len);
	check(img.len == a.len && cat.len == a.len && !memcmp(cat.buf, a.buf, a.len),
	      "the image's pieces, in order, are the serialized bytes");
	/* Header, then the five non-empty tensors in name order, each pointing at the caller's
	 * array (on little-endian hosts). */
	check(img.niov == 6, "one piece for the header and one per non-empty tensor (%zu)",
	      img.niov);
	if (img.niov == 6) {
		const void *want[5] = {f32v, u8v, i64v, i32v, f64v};
		for (i = 0; i < 5; i++)
			borrowed &= img.iov[i + 1].iov_base == want[i];
		check(borrowed || ST_BIG_ENDIAN_HOST, "tensor pieces borrow the caller's arrays");
	}
	check(st_get(&f, "weights", ST_F64, 2, NULL)->data == (const void *)f64v,
	      "st_add keeps a pointer, no copy");
	st_image_release(&img);
	st_release(&f);
	strbuf_release(&a);
	strbuf_release(&cat);
}

/* st_take: the file's own memory is handed over, borrowed memory is copied. */
static void test_take(void)
{
	struct st_file f;
	struct strbuf a = STRBUF_INIT;
	struct err e = ERR_INIT;
	const struct st_tensor *t;
	double *d, *own;
	size_t three = 3;

	build(&f);
	st_serialize(&f, &a);
	t = st_get(&f, "weights", ST_F64, 2, &e);
	d = st_take(&f, t);
	check(d != f64v && !memcmp(d, f64v, sizeof(f64v)) && t->data == d,
	      "taking a borrowed tensor copies it (the file then borrows the copy)");
	st_release(&f);
	free(d);
	st_init(&f);
	check(st_parse(&f, a.buf, a.len, &e) == 0, "parse (%s)", e.msg);
	t = st_get(&f, "weights", ST_F64, 2, &e);
	own = t ? (double *)t->own : NULL;
	d = t ? st_take(&f, t) : NULL;
	check(d && d == own && t->own == NULL && t->data == d && !memcmp(d, f64v, sizeof(f64v)),
	      "taking a parsed tensor hands over its memory, which the file still reads");
	/* Released with f would be a double free: ASan checks that it is not. */
	st_release(&f);
	free(d);
	st_init(&f);
	d = xmallocarray(3, sizeof(double));
	d[0] = 1;
	d[1] = 2;
	d[2] = 3;
	st_add_owned(&f, "w", ST_F64, 1, &three, d);
	st_add_owned(&f, "w", ST_F64, 1, &three, xcalloc(3, sizeof(double)));
	t = st_get(&f, "w", ST_F64, 1, &e);
	check(t && ((const double *)t->data)[2] == 0,
	      "st_add_owned: replaced data freed with the file (ASan: no leak)");
	st_release(&f);
	strbuf_release(&a);
}

/* st_read on a file: the same tensors as st_parse, the hash of every byte, clean errors. */
static void test_read(void)
{
	char dir[] = "/tmp/t_safetensors.XXXXXX";
	struct strbuf path = STRBUF_INIT, a = STRBUF_INIT, gap = STRBUF_INIT;
	struct st_file f;
	struct sha256 h;
	struct err e = ERR_INIT;
	const struct st_tensor *t;
	char want[65], got[65];
	size_t len, bad = 0;
	int fd, r;

	if (!mkdtemp(dir)) {
		check(0, "mkdtemp");
		return;
	}
	strbuf_addf(&path, "%s/m.safetensors", dir);
	build(&f);
	st_serialize(&f, &a);
	st_release(&f);
	sha256_hex(a.buf, a.len, want);
	for (len = 0; len <= a.len; len++) {
		/* Every prefix, as a file whose size is its length; the whole file parses. */
		FILE *fp = fopen(path.buf, "wb");
		if (!fp || fwrite(a.buf, 1, len, fp) != len || fclose(fp) != 0) {
			bad++;
			continue;
		}
		fd = open(path.buf, O_RDONLY);
		st_init(&f);
		e.code = 0;
		sha256_init(&h);
		r = st_read(&f, fd, len, &h, &e);
		sha256_final_hex(&h, got);
		close(fd);
		if (len < a.len && (r == 0 || e.code != DYN_EDATA || f.n || f.nmeta))
			bad++;
		if (len == a.len) {
			t = r == 0 ? st_get(&f, "weights", ST_F64, 2, &e) : NULL;
			check(t && t->own && !memcmp(t->data, f64v, sizeof(f64v)) && f.n == 6 &&
				  !strcmp(st_get_meta(&f, "kind"), "logreg"),
			      "st_read reads the whole file into the tensors (%s)", e.msg);
			check(!strcmp(got, want), "st_read hashes every byte it reads");
		}
		st_release(&f);
	}
	check(bad == 0, "st_read rejects all %zu proper prefixes cleanly (%zu not)", a.len, bad);

	/* A file shorter than its caller says: an error, not a hang or a short tensor. */
	fd = open(path.buf, O_RDONLY);
	st_init(&f);
	r = st_read(&f, fd, a.len + 8, NULL, &e);
	check(r < 0 && strstr(e.msg, "ends early") && f.n == 0, "a file that ends early: %s",
	      e.msg);
	close(fd);

	/* Bytes no tensor holds (before, between and after them, as other writers may leave) are
	 * skipped but hashed. */
	{
		static const char hdr[] =
		    "{\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":"
		    "[24,32]},\"a\":{\"dtype\":\"U8\",\"shape\":[3],"
		    "\"data_offsets\":[5,8]}}";
		double v = 2.5;
		make_file(&gap, hdr, sizeof(hdr) - 1, 0);
		strbuf_add(&gap, "12345abc", 8);
		strbuf_add(&gap, "0123456789abcdef", 16);
		strbuf_add(&gap, &v, 8);
		strbuf_add(&gap, "tail", 4);
		FILE *fp = fopen(path.buf, "wb");
		check(fp && fwrite(gap.buf, 1, gap.len, fp) == gap.len && fclose(fp) == 0,
		      "write the file with gaps");
		sha256_hex(gap.buf, gap.len, want);
		fd = open(path.buf, O_RDONLY);
		st_init(&f);
		sha256_init(&h);
		r = st_read(&f, fd, gap.len, &h, &e);
		sha256_final_hex(&h, got);
		close(fd);
		t = r == 0 ? st_get(&f, "b", ST_F64, 1, &e) : NULL;
		check(t && *(const double *)t->data == 2.5 &&
			  !memcmp(st_get(&f, "a", ST_U8, 1, &e)->data, "abc", 3) &&
			  !strcmp(got, want),
		      "gaps between tensors are skipped and hashed (%s)", e.msg);
		st_release(&f);
	}

	strbuf_reset(&path);
	strbuf_addf(&path, "rm -rf %s", dir);
	if (system(path.buf) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	strbuf_release(&path);
	strbuf_release(&a);
	strbuf_release(&gap);
}

int main(void)
{
	test_round_trip();
	test_image();
	test_take();
	test_python();
	test_bad_headers();
	test_read();
	test_corruption();
	return check_done();
}
