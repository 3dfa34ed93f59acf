/* Vectors of strings (see strv.h). */
#include "base/base.h"
#include "base/opt.h"
#include "base/strv.h"

void strv_init(struct strv *sv)
{
	memset(sv, 0, sizeof(*sv));
}

void strv_release(struct strv *sv)
{
	strv_free(sv->v, sv->n);
	strv_init(sv);
}

void strv_push(struct strv *sv, const char *s, size_t len)
{
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = xstrndup(s, len);
	sv->v[sv->n] = NULL;
}

void strv_split(struct strv *sv, const char *s, char sep)
{
	while (s && *s) {
		const char *c = strchr(s, sep);
		size_t len = c ? (size_t)(c - s) : strlen(s);
		strv_push(sv, s, len);
		s = c ? c + 1 : NULL;
	}
}

char **strv_dup(char *const *v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(*out));
	size_t i;
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void strv_free(char **v, size_t n)
{
	size_t i;
	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int strv_opt_list(const struct opt *o, const char *arg, struct err *e)
{
	struct strv *sv = o->cb_data;
	const char *p = arg;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (!len)
			return err_set(e, DYN_EUSAGE, "option --%s: empty item in \"%s\"",
				       o->long_name, arg);
		strv_push(sv, p, len);
		if (!c)
			return 0;
		p = c + 1;
	}
}

bool strv_equal(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}
