/* Strict JSON parsing for the store's files: cJSON accepts NUL-truncated input and invalid
 * UTF-8, which would let a damaged file pass as a shorter valid one. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>

#include "base/base.h"
#include "store/json_strict.h"

/* Length of the valid UTF-8 sequence at s (avail bytes available), or 0 if there is none:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0], cp, min;
	size_t n, k;
	if (c < 0x80)
		return 1;
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
		return 0;
	}
	if (avail <= n)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* Returns the offset of the first byte that is not part of valid UTF-8, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	while (i < len && (n = utf8_seq(s + i, len - i)) > 0)
		i += n;
	return i;
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
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;
	strbuf_addch(sb, '"');
	while (left) {
		unsigned char c = *p;
		n = 1;
		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
		} else if (c == '\n') {
			strbuf_adds(sb, "\\n");
		} else if (c == '\t') {
			strbuf_adds(sb, "\\t");
		} else if (c == '\r') {
			strbuf_adds(sb, "\\r");
		} else if (c < 0x20) {
			strbuf_addf(sb, "\\u%04x", c);
		} else if (c < 0x80) {
			strbuf_addch(sb, c);
		} else if ((n = utf8_seq(p, left)) > 0) {
			strbuf_add(sb, p, n);
		} else {
			/* A stray byte (a Latin-1 note, say) must not make the whole file
			 * unreadable to the strict parser: it becomes U+FFFD. */
			strbuf_adds(sb, "\xef\xbf\xbd");
			n = 1;
		}
		p += n;
		left -= n;
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

static bool json_is_container(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v);
}

static void json_print(struct strbuf *sb, const cJSON *v, int depth)
{
	const cJSON *c;
	bool flat = true;
	int i;

	if (cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
		strbuf_adds(sb, "null");
	} else if (cJSON_IsFalse(v)) {
		strbuf_adds(sb, "false");
	} else if (cJSON_IsTrue(v)) {
		strbuf_adds(sb, "true");
	} else if (cJSON_IsNumber(v)) {
		/* JSON has no NaN or infinity; null is what cJSON itself writes for them. */
		if (isfinite(v->valuedouble))
			strbuf_add_double(sb, v->valuedouble);
		else
			strbuf_adds(sb, "null");
	} else if (cJSON_IsString(v)) {
		store_json_quote(sb, v->valuestring);
	} else if (cJSON_IsRaw(v)) {
		strbuf_adds(sb, v->valuestring ? v->valuestring : "null");
	} else {
		bool obj = cJSON_IsObject(v);
		if (!v->child) {
			strbuf_adds(sb, obj ? "{}" : "[]");
			return;
		}
		/* Short lists of scalars (shapes, classes, feature names) read best on one line. */
		for (c = v->child; c && !obj; c = c->next)
			if (json_is_container(c))
				flat = false;
		if (obj)
			flat = false;
		strbuf_addch(sb, obj ? '{' : '[');
		for (c = v->child; c; c = c->next) {
			if (flat) {
				if (c != v->child)
					strbuf_adds(sb, ", ");
			} else {
				strbuf_adds(sb, c == v->child ? "\n" : ",\n");
				for (i = 0; i <= depth; i++)
					strbuf_adds(sb, "  ");
			}
			if (obj) {
				store_json_quote(sb, c->string ? c->string : "");
				strbuf_adds(sb, ": ");
			}
			json_print(sb, c, depth + 1);
		}
		if (!flat) {
			strbuf_addch(sb, '\n');
			for (i = 0; i < depth; i++)
				strbuf_adds(sb, "  ");
		}
		strbuf_addch(sb, obj ? '}' : ']');
	}
}

void store_json_print(struct strbuf *sb, const struct cJSON *v)
{
	json_print(sb, v, 0);
	strbuf_addch(sb, '\n');
}
