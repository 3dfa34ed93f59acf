/* Fuzz target: the text tokenizer: case folding (utf8proc), UTF-8 checks and repair, and the
 * word and character n-gram analyzers with stemming, on arbitrary bytes. */
#include "fuzz.h"
#include "base/base.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfidf_opts o;
	struct strbuf out = STRBUF_INIT, doc = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t count;
	if (size < 1)
		return 0;
	text_fold((const char *)data + 1, size - 1, TEXT_UTF8_REPLACE, &out, &e);
	text_utf8_bad_offset((const char *)data + 1, size - 1);
	strbuf_add(&doc, data + 1, size - 1); /* NUL-terminated, NULs inside end it early */
	tfidf_opts_default(&o);
	o.stem = (enum text_stem)(data[0] % 4);
	o.invalid_utf8 = (data[0] & 4) ? TEXT_UTF8_REPLACE : TEXT_UTF8_ERROR;
	for (int block = 0; block < 2; block++) {
		strbuf_reset(&out);
		tfidf_analyze(&o, block, doc.buf, &out, &count, &e);
	}
	strbuf_release(&out);
	strbuf_release(&doc);
	return 0;
}
