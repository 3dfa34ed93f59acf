/* Open-addressing string map with FNV-1a hashing (see strmap.h). */
#include "base/base.h"
#include "base/strmap.h"

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
	size_t i;
	for (i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->slots);
	strmap_init(m);
}

static size_t *find_slot(const struct strmap *m, const char *key, size_t len)
{
	size_t mask = m->nslots - 1, i = (size_t)hash(key, len) & mask;
	for (;; i = (i + 1) & mask) {
		size_t *s = &m->slots[i];
		if (!*s)
			return s;
		if (strlen(m->keys[*s - 1]) == len && !memcmp(m->keys[*s - 1], key, len))
			return s;
	}
}

size_t strmap_get(const struct strmap *m, const char *key, size_t len)
{
	size_t *s;
	if (!m->nslots)
		return (size_t)-1;
	s = find_slot(m, key, len);
	return *s ? *s - 1 : (size_t)-1;
}

static void grow(struct strmap *m)
{
	size_t i, n = m->nslots ? m->nslots * 2 : 16;
	free(m->slots);
	m->slots = xcalloc(n, sizeof(*m->slots));
	m->nslots = n;
	for (i = 0; i < m->n; i++)
		*find_slot(m, m->keys[i], strlen(m->keys[i])) = i + 1;
}

size_t strmap_intern(struct strmap *m, const char *key, size_t len)
{
	size_t *s;
	if ((m->n + 1) * 2 > m->nslots)
		grow(m);
	s = find_slot(m, key, len);
	if (*s)
		return *s - 1;
	ALLOC_GROW(m->keys, m->n + 1, m->keys_alloc);
	m->keys[m->n] = xstrndup(key, len);
	*s = ++m->n;
	return m->n - 1;
}
