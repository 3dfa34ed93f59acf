/* Strict JSON parsing for the store's files: cJSON accepts NUL-truncated input and invalid
 * UTF-8, which would let a damaged file pass as a shorter valid one. */
#include <cjson/cJSON.h>
#include <math.h>

#include "base/base.h"
#include "store/json_strict.h"

/* Returns the offset of the first byte that is not part of valid UTF-8, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n, k;
		unsigned cp, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

static size_t line_of(const char *buf, size_t off)
{
	size_t line = 1, i;
	for (i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

int store_json_parse(const char *buf, size_t len, struct cJSON **out, struct err *e)
{
	const char *nul = memchr(buf, '\0', len);
	const char *end = NULL;
	size_t bad, i;
	char *copy;
	cJSON *doc;

	*out = NULL;
	for (i = 0; i < len && strchr(" \t\r\n", buf[i]); i++)
		;
	if (i == len)
		return err_set(e, DYN_EDATA, "empty JSON document");
	if (nul)
		return err_set(e, DYN_EDATA, "NUL byte at line %zu",
			       line_of(buf, (size_t)(nul - buf)));
	bad = utf8_check((const unsigned char *)buf, len);
	if (bad < len)
		return err_set(e, DYN_EDATA, "invalid UTF-8 at line %zu", line_of(buf, bad));
	/* cJSON wants a NUL-terminated string; the caller's buffer need not be one. */
	copy = xstrndup(buf, len);
	doc = cJSON_ParseWithOpts(copy, &end, 1);
	if (!doc) {
		size_t off = end ? (size_t)(end - copy) : len;
		if (off > len)
			off = len;
		if (off >= len)
			err_set(e, DYN_EDATA, "unexpected end of JSON at line %zu",
				line_of(buf, len));
		else
			err_set(e, DYN_EDATA, "invalid JSON at line %zu", line_of(buf, off));
		free(copy);
		return -1;
	}
	free(copy);
	*out = doc;
	return 0;
}

void store_json_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
		} else if (c < 0x20) {
			strbuf_addf(sb, "\\u%04x", c);
		} else {
			strbuf_addch(sb, c);
		}
	}
	strbuf_addch(sb, '"');
}

int store_json_uint(const struct cJSON *v, uint64_t *out)
{
	double d;
	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}
