/* Fuzz target: the orders table of the OCR matcher (lib/ocr/match) and a match against it. The
 * first byte picks what the rest is: 0 a CSV table; 1 the first sheet's XML of a workbook, 2 its
 * shared strings (the other part fixed), zipped here uncompressed so that the fuzzer reaches
 * the XML scanner rather than the zip's checksums. */
#include "fuzz.h"
#include "base/base.h"
#include "ocr/match.h"

static const char sheet[] =
    "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" "
    "t=\"s\"><v>1</v></c><c r=\"C1\" t=\"s\"><v>2</v></c></row><row r=\"2\"><c r=\"A2\" "
    "t=\"s\"><v>3</v></c><c r=\"B2\"><v>29</v></c><c r=\"C2\" t=\"inlineStr\"><is><t>Z-1</t>"
    "</is></c></row></sheetData></worksheet>";
static const char shared[] = "<sst><si><t>article</t></si><si><t>serial</t></si><si><t>order</t>"
			     "</si><si><t>AB-12.3</t></si></sst>";

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void le(struct strbuf *sb, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		strbuf_addch(sb, (int)((v >> (8 * i)) & 0xff));
}

/* A zip of stored members: local headers and data, then the central directory. */
static void zip(struct strbuf *z, const char *const *names, const char *const *data,
		const size_t *len, int n)
{
	struct strbuf cd = STRBUF_INIT;
	uint32_t off[4];
	for (int i = 0; i < n; i++) {
		uint32_t crc = crc32((const unsigned char *)data[i], len[i]);
		off[i] = (uint32_t)z->len;
		le(z, 0x04034b50, 4);
		le(z, 20, 2), le(z, 0, 2), le(z, 0, 2), le(z, 0, 2), le(z, 0x21, 2);
		le(z, crc, 4), le(z, (uint32_t)len[i], 4), le(z, (uint32_t)len[i], 4);
		le(z, (uint32_t)strlen(names[i]), 2), le(z, 0, 2);
		strbuf_adds(z, names[i]);
		strbuf_add(z, data[i], len[i]);
		le(&cd, 0x02014b50, 4);
		le(&cd, 20, 2), le(&cd, 20, 2), le(&cd, 0, 2), le(&cd, 0, 2), le(&cd, 0, 2);
		le(&cd, 0x21, 2);
		le(&cd, crc, 4), le(&cd, (uint32_t)len[i], 4), le(&cd, (uint32_t)len[i], 4);
		le(&cd, (uint32_t)strlen(names[i]), 2), le(&cd, 0, 2), le(&cd, 0, 2);
		le(&cd, 0, 2), le(&cd, 0, 2), le(&cd, 0, 4), le(&cd, off[i], 4);
		strbuf_adds(&cd, names[i]);
	}
	{
		size_t cdoff = z->len;
		strbuf_add(z, cd.buf, cd.len);
		le(z, 0x06054b50, 4);
		le(z, 0, 2), le(z, 0, 2), le(z, (uint32_t)n, 2), le(z, (uint32_t)n, 2);
		le(z, (uint32_t)cd.len, 4), le(z, (uint32_t)cdoff, 4), le(z, 0, 2);
	}
	strbuf_release(&cd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"};
	struct ocr_orders *o = NULL;
	struct err e = ERR_INIT;
	struct strbuf z = STRBUF_INIT;
	const char *path;
	if (size < 1)
		return 0;
	if (data[0] % 3 == 0) {
		path = fuzz_file(data + 1, size - 1, "orders.csv");
	} else {
		const char *parts[2] = {sheet, shared};
		size_t len[2] = {strlen(sheet), strlen(shared)};
		parts[data[0] % 3 - 1] = (const char *)data + 1;
		len[data[0] % 3 - 1] = size - 1;
		zip(&z, names, parts, len, 2);
		path = fuzz_file((const uint8_t *)z.buf, z.len, "orders.xlsx");
	}
	if (path && ocr_orders_load(&o, path, NULL, &e) == 0) {
		struct ocr_match m[5];
		size_t n;
		ocr_orders_match(o, "AB-I2.3 29", NULL, m, &n, &e);
		for (size_t i = 0; i < n; i++)
			if (!ocr_orders_row(o, m[i].row) || m[i].score < 0 || m[i].score > 1)
				abort();
		ocr_orders_free(&o);
	}
	strbuf_release(&z);
	return 0;
}
