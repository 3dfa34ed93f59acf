/* The tokenizer and TF-IDF vectorizer of text models. Tokens, n-grams, document frequencies,
 * idf and normalization follow scikit-learn's TfidfVectorizer (see text.h) so that the same
 * settings give the same matrix; case folding is utf8proc's full Unicode folding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "text/text.h"
#include "base/base.h"
#include "base/par.h"
#include "base/trace.h"

/* ---- UTF-8 and case folding ---- */

static size_t utf8_encode(int32_t cp, char *dst)
{
	return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)dst);
}

size_t text_utf8_bad_offset(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k < 0)
			return i + 1;
		i += (size_t)k;
	}
	return 0;
}

void text_utf8_repair(const char *s, size_t len, struct strbuf *out)
{
	size_t i = 0;
	strbuf_grow(out, len);
	while (i < len) {
		size_t start = i;
		while (i < len && (unsigned char)s[i] < 0x80)
			i++;
		strbuf_add(out, s + start, i - start);
		if (i >= len)
			break;
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k < 0) {
			strbuf_add(out, "\xef\xbf\xbd", 3);
			i++;
		} else {
			strbuf_add(out, s + i, (size_t)k);
			i += (size_t)k;
		}
	}
}

int text_fold(const char *s, size_t len, enum text_utf8 mode, struct strbuf *out, struct err *e)
{
	strbuf_grow(out, len + 8);
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			strbuf_addch(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);
		if (k < 0) {
			if (mode == TEXT_UTF8_ERROR)
				return err_set(e, DYN_EDATA, "invalid UTF-8 at byte %zu", i + 1);
			cp = 0xFFFD;
			k = 1;
		}
		i += (size_t)k;
		utf8proc_int32_t f[8];
		int bound = 0;
		utf8proc_ssize_t nf = utf8proc_decompose_char(cp, f, 8, UTF8PROC_CASEFOLD, &bound);
		if (nf < 1 || nf > 8) {
			f[0] = cp;
			nf = 1;
		}
		for (utf8proc_ssize_t q = 0; q < nf; q++) {
			char buf[4];
			strbuf_add(out, buf, utf8_encode(f[q], buf));
		}
	}
	return 0;
}

/* Python's \w: letters, numbers (any kind) and the underscore. */
static int is_word_cp(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		       (cp >= '0' && cp <= '9') || cp == '_';
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* Python's str.isspace (what str.split() splits on). */
static int is_space_cp(int32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
	if (cp == 0x85)
		return 1;
	utf8proc_category_t c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* ---- term map: open addressing over an arena of term bytes ---- */

/* A slot holds a key besides the term's id: a term of up to 7 bytes is its key (the bytes and
 * the length), so finding it touches the slot alone; a longer one keys by its arena offset and
 * length, and 32 bits of its hash keep probes from touching other terms' bytes. */
struct term_slot {
	uint64_t key; /* bytes << 8 | len (len <= 7), or off << 8 | min(len, 255) */
	uint32_t tag; /* the high half of the hash */
	uint32_t id1; /* id + 1, 0 for empty */
};

#define TERM_INLINE 7

/* The slot key of s; off is the term's arena offset (unused for short terms). */
static inline uint64_t term_key(const char *s, size_t len, size_t off)
{
	const unsigned char *u = (const unsigned char *)s;
	if (len >= 4 && len <= TERM_INLINE) {
		/* two overlapping 4-byte loads; the bytes they share agree */
		uint64_t lo = (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
			      (uint64_t)u[3] << 24;
		const unsigned char *e = u + len - 4;
		uint64_t hi = (uint64_t)e[0] | (uint64_t)e[1] << 8 | (uint64_t)e[2] << 16 |
			      (uint64_t)e[3] << 24;
		return (lo | hi << (8 * (len - 4))) << 8 | len;
	}
	if (len < 4) {
		uint64_t k = 0;
		if (len)
			k = (uint64_t)u[0] | (uint64_t)u[len / 2] << (8 * (len / 2)) |
			    (uint64_t)u[len - 1] << (8 * (len - 1));
		return k << 8 | len;
	}
	return (uint64_t)off << 8 | (len < 255 ? len : 255);
}

struct term_map {
	char *bytes; /* the terms, each NUL-terminated */
	size_t blen, balloc;
	size_t *off;
	uint32_t *len;
	uint64_t *hash;
	size_t n, nalloc;
	struct term_slot *slot;
	size_t cap; /* power of two */
};

/* Resizes an array of which the first used elements matter to n elements, asking for huge
 * pages: with 4 KiB pages, faulting in the count rows and tables cost as much as the
 * counting itself. A big array moves by hand, to pages advised before the copy writes them
 * (realloc would copy into 4 KiB pages, or move by remapping, slower still here). */
static void *big_realloc(void *p, size_t used, size_t n, size_t size)
{
	if (!p || used * size < ((size_t)1 << 20)) {
		p = xreallocarray(p, n, size);
		mem_advise_huge(p, n * size);
		return p;
	}
	void *q = xmalloc_huge(n, size);
	memcpy(q, p, used * size);
	free(p);
	return q;
}

static uint64_t term_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	h ^= h >> 32;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* A map with room for about nterms terms before it grows. */
static struct term_map *term_map_new(size_t nterms)
{
	struct term_map *m = xcalloc(1, sizeof(*m));
	m->cap = 1024;
	while (m->cap < 2 * nterms)
		m->cap *= 2;
	m->slot = xcalloc_huge(m->cap, sizeof(*m->slot));
	return m;
}

static void term_map_free(struct term_map **mp)
{
	struct term_map *m = *mp;
	if (!m)
		return;
	free(m->bytes);
	free(m->off);
	free(m->len);
	free(m->hash);
	free(m->slot);
	free(m);
	*mp = NULL;
}

/* Asks the cache for the slot where a term of hash h starts its probe. */
static inline void term_map_prefetch(const struct term_map *m, uint64_t h)
{
	__builtin_prefetch(&m->slot[h & (m->cap - 1)]);
}

static long term_map_find_h(const struct term_map *m, const char *s, size_t len, uint64_t h,
			    size_t *where)
{
	size_t mask = m->cap - 1;
	uint32_t tag = (uint32_t)(h >> 32);
	uint64_t key = term_key(s, len, 0);
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct term_slot *t = &m->slot[i];
		if (!t->id1) {
			*where = i;
			return -1;
		}
		if (len <= TERM_INLINE) {
			if (t->key == key)
				return (long)t->id1 - 1;
			continue;
		}
		/* equal lengths first: memcmp must not read past a shorter term */
		if (t->tag == tag && (t->key & 0xff) == (key & 0xff) &&
		    (len < 255 || m->len[t->id1 - 1] == len) &&
		    !memcmp(m->bytes + (t->key >> 8), s, len))
			return (long)t->id1 - 1;
	}
}

static long term_map_find(const struct term_map *m, const char *s, size_t len)
{
	size_t where;
	return term_map_find_h(m, s, len, term_hash(s, len), &where);
}

static void term_map_grow(struct term_map *m)
{
	free(m->slot);
	m->cap *= 2;
	m->slot = xcalloc_huge(m->cap, sizeof(*m->slot));
	size_t mask = m->cap - 1;
	for (size_t id = 0; id < m->n; id++) {
		size_t i = m->hash[id] & mask;
		while (m->slot[i].id1)
			i = (i + 1) & mask;
		m->slot[i].key = term_key(m->bytes + m->off[id], m->len[id], m->off[id]);
		m->slot[i].tag = (uint32_t)(m->hash[id] >> 32);
		m->slot[i].id1 = (uint32_t)(id + 1);
	}
}

/* The id of s (hash h), added when absent. */
static size_t term_map_intern_h(struct term_map *m, const char *s, size_t len, uint64_t h)
{
	size_t where;
	long id = term_map_find_h(m, s, len, h, &where);
	if (id >= 0)
		return (size_t)id;
	if (m->blen + len + 1 > m->balloc) {
		m->balloc = m->balloc < 4096 ? 4096 : m->balloc * 2;
		if (m->balloc < m->blen + len + 1)
			m->balloc = m->blen + len + 1;
		m->bytes = big_realloc(m->bytes, m->blen, m->balloc, 1);
	}
	memcpy(m->bytes + m->blen, s, len);
	m->bytes[m->blen + len] = 0;
	if (m->n + 1 > m->nalloc) {
		size_t na = m->nalloc < 1024 ? 1024 : m->nalloc * 2;
		m->off = big_realloc(m->off, m->n, na, sizeof(*m->off));
		m->len = big_realloc(m->len, m->n, na, sizeof(*m->len));
		m->hash = big_realloc(m->hash, m->n, na, sizeof(*m->hash));
		m->nalloc = na;
	}
	size_t nid = m->n++;
	m->off[nid] = m->blen;
	m->len[nid] = (uint32_t)len;
	m->hash[nid] = h;
	m->slot[where].key = term_key(s, len, m->blen);
	m->slot[where].tag = (uint32_t)(h >> 32);
	m->slot[where].id1 = (uint32_t)(nid + 1);
	m->blen += len + 1;
	if (m->n * 2 > m->cap)
		term_map_grow(m);
	return nid;
}

/* A map of nterms distinct terms, given as len bytes of concatenated NUL-terminated strings
 * (copied), with ids in their order; hash[q] is the hash of term q, or NULL to compute them.
 * Distinct terms need no lookup: each goes to the first free slot of its probe. */
static struct term_map *term_map_from_terms(const char *terms, size_t len, size_t nterms,
					    const uint64_t *hash)
{
	struct term_map *m = term_map_new(nterms);
	size_t mask = m->cap - 1, p = 0;
	m->balloc = len ? len : 1;
	m->nalloc = nterms ? nterms : 1;
	m->bytes = big_realloc(NULL, 0, m->balloc, 1);
	m->off = big_realloc(NULL, 0, m->nalloc, sizeof(*m->off));
	m->len = big_realloc(NULL, 0, m->nalloc, sizeof(*m->len));
	m->hash = big_realloc(NULL, 0, m->nalloc, sizeof(*m->hash));
	memcpy(m->bytes, terms, len);
	m->blen = len;
	for (size_t q = 0; q < nterms; q++) {
		size_t tl = strlen(terms + p);
		uint64_t h = hash ? hash[q] : term_hash(terms + p, tl);
		size_t i = h & mask;
		m->off[q] = p;
		m->len[q] = (uint32_t)tl;
		m->hash[q] = h;
		while (m->slot[i].id1)
			i = (i + 1) & mask;
		m->slot[i].key = term_key(terms + p, tl, p);
		m->slot[i].tag = (uint32_t)(h >> 32);
		m->slot[i].id1 = (uint32_t)(q + 1);
		p += tl + 1;
	}
	m->n = nterms;
	return m;
}

/* ---- the analyzer ---- */

struct gram {
	size_t off;
	size_t len;
	int src; /* 0: fold/char buffer, 1: gbuf */
};

/* Per-document working memory, one per thread. */
struct scratch {
	struct strbuf fold; /* the case-folded document */
	struct strbuf cbuf; /* " w1  w2 ... " for char n-grams */
	struct strbuf gbuf; /* stems and joined word n-grams */
	size_t *cpoff;	    /* codepoint byte offsets in cbuf */
	size_t cpalloc;
	struct gram *tok, *gram;
	size_t ntok, tokalloc, ngram, gramalloc;
	uint64_t *gh; /* the grams' hashes */
	size_t ghalloc;
	struct sb_stemmer *st_en, *st_ru;
	/* per-document term counts */
	uint32_t *cnt;
	size_t cntalloc;
	uint32_t *touched;
	size_t ntouched, touchalloc;
};

static void scratch_init(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->fold);
	strbuf_init(&s->cbuf);
	strbuf_init(&s->gbuf);
}

static void scratch_release(struct scratch *s)
{
	strbuf_release(&s->fold);
	strbuf_release(&s->cbuf);
	strbuf_release(&s->gbuf);
	free(s->cpoff);
	free(s->tok);
	free(s->gram);
	free(s->gh);
	free(s->cnt);
	free(s->touched);
	if (s->st_en)
		sb_stemmer_delete(s->st_en);
	if (s->st_ru)
		sb_stemmer_delete(s->st_ru);
}

static void push_gram(struct gram **g, size_t *n, size_t *alloc, size_t off, size_t len, int src)
{
	ALLOC_GROW(*g, *n + 1, *alloc);
	(*g)[*n].off = off;
	(*g)[*n].len = len;
	(*g)[*n].src = src;
	(*n)++;
}

static struct sb_stemmer *stemmer_for(struct scratch *s, enum text_stem mode, const char *t,
				      size_t len)
{
	if (mode == TEXT_STEM_AUTO) {
		int cyr = 0, latin = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)t[i];
			if (c == 0xd0 || c == 0xd1)
				cyr = 1; /* lead bytes of U+0400..U+047F */
			else if (c >= 'a' && c <= 'z')
				latin = 1;
		}
		if (cyr)
			mode = TEXT_STEM_RUSSIAN;
		else if (latin)
			mode = TEXT_STEM_ENGLISH;
		else
			return NULL;
	}
	if (mode == TEXT_STEM_RUSSIAN) {
		if (!s->st_ru)
			s->st_ru = sb_stemmer_new("russian", "UTF_8");
		return s->st_ru;
	}
	if (mode == TEXT_STEM_ENGLISH) {
		if (!s->st_en)
			s->st_en = sb_stemmer_new("english", "UTF_8");
		return s->st_en;
	}
	return NULL;
}

/* The code point at f[i] (ASCII without a call; invalid UTF-8 as U+FFFD) and its length. */
static inline utf8proc_ssize_t next_cp(const char *f, size_t len, size_t i, utf8proc_int32_t *cp)
{
	utf8proc_ssize_t k;
	if ((unsigned char)f[i] < 0x80) {
		*cp = (unsigned char)f[i];
		return 1;
	}
	k = utf8proc_iterate((const utf8proc_uint8_t *)f + i, (utf8proc_ssize_t)(len - i), cp);
	if (k < 1) {
		*cp = 0xFFFD;
		k = 1;
	}
	return k;
}

/* Word tokens of s->fold: maximal runs of two or more word characters, stemmed on request. */
static void word_tokens(struct scratch *s, enum text_stem stem)
{
	const char *f = s->fold.buf;
	size_t len = s->fold.len, i = 0;
	s->ntok = 0;
	while (i < len) {
		size_t start = i, ncp = 0;
		for (;;) {
			if (i >= len)
				break;
			utf8proc_int32_t cp;
			utf8proc_ssize_t k;
			k = next_cp(f, len, i, &cp);
			if (!is_word_cp(cp)) {
				if (ncp == 0) {
					i += (size_t)k;
					start = i;
					continue;
				}
				break;
			}
			ncp++;
			i += (size_t)k;
		}
		if (ncp >= 2) {
			struct sb_stemmer *st = stem == TEXT_STEM_NONE
						    ? NULL
						    : stemmer_for(s, stem, f + start, i - start);
			if (st) {
				const sb_symbol *r = sb_stemmer_stem(
				    st, (const sb_symbol *)f + start, (int)(i - start));
				size_t rl = r ? (size_t)sb_stemmer_length(st) : 0;
				if (r && rl) {
					size_t off = s->gbuf.len;
					strbuf_add(&s->gbuf, r, rl);
					push_gram(&s->tok, &s->ntok, &s->tokalloc, off, rl, 1);
					continue;
				}
			}
			push_gram(&s->tok, &s->ntok, &s->tokalloc, start, i - start, 0);
		}
	}
}

static const char *gram_ptr(const struct scratch *s, const struct gram *g, int block)
{
	if (g->src)
		return s->gbuf.buf + g->off;
	return (block == TFIDF_WORD ? s->fold.buf : s->cbuf.buf) + g->off;
}

static void word_grams(struct scratch *s, int nmin, int nmax)
{
	size_t nt = s->ntok;
	s->ngram = 0;
	for (int n = nmin; n <= nmax; n++) {
		if ((size_t)n > nt)
			break;
		for (size_t i = 0; i + (size_t)n <= nt; i++) {
			if (n == 1) {
				push_gram(&s->gram, &s->ngram, &s->gramalloc, s->tok[i].off,
					  s->tok[i].len, s->tok[i].src);
				continue;
			}
			size_t off = s->gbuf.len;
			for (int q = 0; q < n; q++) {
				const struct gram *t = &s->tok[i + (size_t)q];
				if (q)
					strbuf_addch(&s->gbuf, ' ');
				/* gbuf may move while we append to it: copy from an offset */
				if (t->src) {
					strbuf_grow(&s->gbuf, t->len);
					memcpy(s->gbuf.buf + s->gbuf.len, s->gbuf.buf + t->off,
					       t->len);
					s->gbuf.len += t->len;
					s->gbuf.buf[s->gbuf.len] = 0;
				} else {
					strbuf_add(&s->gbuf, s->fold.buf + t->off, t->len);
				}
			}
			push_gram(&s->gram, &s->ngram, &s->gramalloc, off, s->gbuf.len - off, 1);
		}
	}
}

/* sklearn's char_wb: each whitespace-separated word padded with one space on each side, the
 * n-grams inside it; a padded word shorter than n counts once, as a whole. */
static void char_grams(struct scratch *s, int nmin, int nmax)
{
	const char *f = s->fold.buf;
	size_t len = s->fold.len, i = 0;
	strbuf_reset(&s->cbuf);
	s->ngram = 0;
	while (i < len) {
		/* skip blanks */
		utf8proc_int32_t cp = 0;
		utf8proc_ssize_t k = 1;
		size_t start;
		for (;;) {
			if (i >= len)
				return;
			k = next_cp(f, len, i, &cp);
			if (!is_space_cp(cp))
				break;
			i += (size_t)k;
		}
		start = i;
		size_t w0 = s->cbuf.len, ncp = 0;
		strbuf_addch(&s->cbuf, ' ');
		ALLOC_GROW(s->cpoff, ncp + 1, s->cpalloc);
		s->cpoff[ncp++] = w0;
		while (i < len) {
			k = next_cp(f, len, i, &cp);
			if (is_space_cp(cp))
				break;
			ALLOC_GROW(s->cpoff, ncp + 1, s->cpalloc);
			s->cpoff[ncp++] = w0 + 1 + (i - start);
			i += (size_t)k;
		}
		strbuf_add(&s->cbuf, f + start, i - start);
		ALLOC_GROW(s->cpoff, ncp + 2, s->cpalloc);
		s->cpoff[ncp++] = s->cbuf.len;
		strbuf_addch(&s->cbuf, ' ');
		s->cpoff[ncp] = s->cbuf.len; /* end */
		size_t wlen = ncp;	     /* codepoints in the padded word */
		for (int n = nmin; n <= nmax; n++) {
			size_t nn = (size_t)n;
			if (wlen <= nn) {
				push_gram(&s->gram, &s->ngram, &s->gramalloc, w0,
					  s->cpoff[wlen] - w0, 0);
				break;
			}
			for (size_t a = 0; a + nn <= wlen; a++)
				push_gram(&s->gram, &s->ngram, &s->gramalloc, s->cpoff[a],
					  s->cpoff[a + nn] - s->cpoff[a], 0);
		}
	}
}

/* Case-folds doc into s->fold, once for both blocks. */
static int fold_doc(struct scratch *s, const struct tfidf_opts *o, const char *doc, struct err *e)
{
	strbuf_reset(&s->fold);
	return text_fold(doc, strlen(doc), o->invalid_utf8, &s->fold, e);
}

/* Fills s->gram with the terms of block bi of the folded document. */
static void analyze_block(struct scratch *s, const struct tfidf_opts *o, int bi)
{
	strbuf_reset(&s->gbuf);
	s->ngram = 0;
	if (bi == TFIDF_WORD) {
		word_tokens(s, o->stem);
		word_grams(s, o->word_min, o->word_max);
	} else {
		char_grams(s, o->char_min, o->char_max);
	}
}

static void count_reset(struct scratch *s)
{
	for (size_t t = 0; t < s->ntouched; t++)
		s->cnt[s->touched[t]] = 0;
	s->ntouched = 0;
}

static void count_add(struct scratch *s, size_t id)
{
	if (id >= s->cntalloc) {
		size_t na = s->cntalloc < 4096 ? 4096 : s->cntalloc;
		while (na <= id)
			na *= 2;
		s->cnt = big_realloc(s->cnt, s->cntalloc, na, sizeof(*s->cnt));
		memset(s->cnt + s->cntalloc, 0, (na - s->cntalloc) * sizeof(*s->cnt));
		s->cntalloc = na;
	}
	if (s->cnt[id]++ == 0) {
		ALLOC_GROW(s->touched, s->ntouched + 1, s->touchalloc);
		s->touched[s->ntouched++] = (uint32_t)id;
	}
}

/* ---- the vectorizer ---- */

/* Below this many documents per thread, starting threads costs more than it saves. */
#define TFIDF_MIN_DOCS_PER_THREAD 64

void tfidf_opts_default(struct tfidf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->word_min = 1;
	o->word_max = 2;
	o->char_min = 2;
	o->char_max = 5;
	o->min_df = 1;
	o->stem = TEXT_STEM_NONE;
	o->invalid_utf8 = TEXT_UTF8_ERROR;
}

void tfidf_init(struct tfidf *v)
{
	memset(v, 0, sizeof(*v));
}

static void block_release(struct tfidf_block *b)
{
	free(b->terms);
	free(b->idf);
	term_map_free(&b->map);
	memset(b, 0, sizeof(*b));
}

void tfidf_release(struct tfidf *v)
{
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		block_release(&v->b[bi]);
	memset(v, 0, sizeof(*v));
}

static int block_on(const struct tfidf_opts *o, int bi)
{
	return bi == TFIDF_WORD ? o->word_min > 0 : o->char_min > 0;
}

/* A term to sort: its first 8 bytes as a big-endian number order most pairs without reading
 * the terms themselves (bytewise order, as strcmp's). */
struct sort_ent {
	uint64_t pfx;
	uint32_t id;
};

static uint64_t term_prefix(const char *t, size_t len)
{
	uint64_t p = 0;
	for (size_t k = 0; k < 8; k++)
		p = p << 8 | (k < len ? (unsigned char)t[k] : 0);
	return p;
}

static int cmp_sort_ent(const void *a, const void *b, void *arg)
{
	const struct sort_ent *x = a, *y = b;
	const struct term_map *m = arg;
	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	return strcmp(m->bytes + m->off[x->id], m->bytes + m->off[y->id]);
}

/* Sorts ids[0..n) (terms of m) bytewise: a radix sort of the prefixes (stable, a byte a
 * pass, from the last), then the terms that share a prefix by comparison. */
static void sort_terms(const struct term_map *m, uint32_t *ids, size_t n)
{
	struct sort_ent *a = big_realloc(NULL, 0, n ? n : 1, sizeof(*a));
	struct sort_ent *b = big_realloc(NULL, 0, n ? n : 1, sizeof(*b));
	for (size_t q = 0; q < n; q++) {
		a[q].id = ids[q];
		a[q].pfx = term_prefix(m->bytes + m->off[ids[q]], m->len[ids[q]]);
	}
	for (int shift = 0; shift < 64; shift += 8) {
		size_t pos[257] = {0};
		for (size_t q = 0; q < n; q++)
			pos[((a[q].pfx >> shift) & 0xff) + 1]++;
		int skip = 0; /* every prefix has the same byte here */
		for (int k = 1; k <= 256; k++)
			skip |= pos[k] == n;
		if (skip)
			continue;
		for (int k = 1; k <= 256; k++)
			pos[k] += pos[k - 1];
		for (size_t q = 0; q < n; q++)
			b[pos[(a[q].pfx >> shift) & 0xff]++] = a[q];
		struct sort_ent *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j].pfx == a[i].pfx;)
			j++;
		if (j - i > 1)
			qsort_r(a + i, j - i, sizeof(*a), cmp_sort_ent, (void *)m);
	}
	for (size_t q = 0; q < n; q++)
		ids[q] = a[q].id;
	free(a);
	free(b);
}

struct freq_ent {
	double tf;
	uint32_t id;
};

static int cmp_freq(const void *a, const void *b, void *arg)
{
	const struct freq_ent *x = a, *y = b;
	const struct term_map *m = arg;
	if (x->tf != y->tf)
		return x->tf > y->tf ? -1 : 1;
	return strcmp(m->bytes + m->off[x->id], m->bytes + m->off[y->id]);
}

/* tf (raw or sublinear) times idf for the counts of one row, then l2; into idx/val. The fit
 * computes the same, in the same order, in shard_weigh. */
static size_t weigh_row(const struct tfidf_opts *o, const double *idf, const uint32_t *ids,
			const uint32_t *cnt, size_t n, uint32_t *idx, double *val, uint32_t base)
{
	double ss = 0;
	for (size_t q = 0; q < n; q++) {
		double c = (double)cnt[q];
		double tf = o->sublinear_tf ? 1.0 + log(c) : c;
		double w = tf * idf[ids[q]];
		idx[q] = ids[q] + base;
		val[q] = w;
		ss += w * w;
	}
	if (ss > 0) {
		double r = 1.0 / sqrt(ss);
		for (size_t q = 0; q < n; q++)
			val[q] *= r;
	}
	return n;
}

/* ---- fit: the documents counted in shards, one per thread, and the shards' vocabularies
 * merged; the result does not depend on the number of shards ---- */

/* A term's document frequency in a shard, and its count in the current document: side by
 * side, as both are touched at once (one cache miss, not two). */
struct df_cnt {
	uint32_t df, cnt;
};

/* One block of one shard: a term map of its own (ids in the order the shard met the terms),
 * their document frequencies and total counts. */
struct shard_block {
	struct term_map *m;
	struct df_cnt *dc;
	double *tot; /* for max_features only */
	size_t dfalloc;
	uint32_t *fin; /* term id -> final index, UINT32_MAX when pruned; NULL once applied */
	size_t nterms; /* the shard's terms, kept when the merge frees its map */
};

/* A count: the shard's term id (later its final index) and how often the document has it.
 * As big as a double: shard 0's entries become the weights of X in place, so that the biggest
 * array of the fit is not written twice to fresh pages. */
struct ent {
	uint32_t id, cnt;
};

/* The documents docs[first, first + n) and what is learnt from them: each row in X's layout,
 * the word block's entries then the char block's. */
struct shard {
	const struct tfidf *v;
	const char *const *docs;
	size_t first, n;
	struct shard_block b[TFIDF_NBLOCKS];
	struct ent *ent;
	size_t nent, entalloc;
	size_t *seg; /* 2n + 1: block bi of row d is [seg[2d + bi], seg[2d + bi + 1]) */
	/* text bytes: the shard's, up to its end, and those its entry array makes room for */
	size_t bytes, bytes_end, bytes_goal;
	/* weighing: the output, where the shard's entries go in it, and where they are read */
	struct csr *X;
	size_t xoff;
	const struct ent *src;
	struct err e;
	int rc;
};

static void shard_release(struct shard *sh)
{
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		struct shard_block *sb = &sh->b[bi];
		term_map_free(&sb->m);
		free(sb->dc);
		free(sb->tot);
		free(sb->fin);
	}
	free(sh->ent);
	free(sh->seg);
	memset(sh, 0, sizeof(*sh));
}

/* Room for df and tot of every term of sb's map, new entries zero. */
static void shard_block_df_room(struct shard_block *sb, bool tot)
{
	size_t n = sb->m->n, na = sb->dfalloc ? sb->dfalloc : 4096;
	if (n <= sb->dfalloc)
		return;
	while (na < n)
		na *= 2;
	sb->dc = big_realloc(sb->dc, sb->dfalloc, na, sizeof(*sb->dc));
	memset(sb->dc + sb->dfalloc, 0, (na - sb->dfalloc) * sizeof(*sb->dc));
	if (tot) {
		sb->tot = big_realloc(sb->tot, sb->dfalloc, na, sizeof(*sb->tot));
		memset(sb->tot + sb->dfalloc, 0, (na - sb->dfalloc) * sizeof(*sb->tot));
	}
	sb->dfalloc = na;
}

static void shard_ent_room(struct shard *sh, size_t want)
{
	if (want <= sh->entalloc)
		return;
	size_t na = sh->entalloc < 4096 ? 4096 : sh->entalloc * 2;
	while (na < want)
		na *= 2;
	sh->ent = big_realloc(sh->ent, sh->nent, na, sizeof(*sh->ent));
	sh->entalloc = na;
}

/* How far ahead of its lookup a gram's slot is asked for: the lookups of a document are
 * independent, so their cache misses can overlap instead of queueing. */
#define TFIDF_PREFETCH 12

/* Counts the grams in s (block bi of the shard's current document) into the shard. */
static void shard_count(struct shard *sh, struct scratch *s, int bi, bool tot)
{
	struct shard_block *sb = &sh->b[bi];
	struct term_map *m = sb->m;
	size_t ng = s->ngram;
	ALLOC_GROW(s->gh, ng, s->ghalloc);
	for (size_t g = 0; g < ng; g++) {
		s->gh[g] = term_hash(gram_ptr(s, &s->gram[g], bi), s->gram[g].len);
		if (g < TFIDF_PREFETCH)
			term_map_prefetch(m, s->gh[g]);
	}
	for (size_t g = 0; g < ng; g++) {
		if (g + TFIDF_PREFETCH < ng)
			term_map_prefetch(m, s->gh[g + TFIDF_PREFETCH]);
		size_t id =
		    term_map_intern_h(m, gram_ptr(s, &s->gram[g], bi), s->gram[g].len, s->gh[g]);
		if (id >= sb->dfalloc)
			shard_block_df_room(sb, tot);
		if (sb->dc[id].cnt++ == 0) {
			ALLOC_GROW(s->touched, s->ntouched + 1, s->touchalloc);
			s->touched[s->ntouched++] = (uint32_t)id;
		}
	}
	shard_ent_room(sh, sh->nent + s->ntouched);
	for (size_t t = 0; t < s->ntouched; t++) {
		uint32_t id = s->touched[t];
		struct df_cnt *c = &sb->dc[id];
		sh->ent[sh->nent].id = id;
		sh->ent[sh->nent++].cnt = c->cnt;
		c->df++;
		if (tot)
			sb->tot[id] += c->cnt;
		c->cnt = 0;
	}
	s->ntouched = 0;
}

static void *shard_count_run(void *arg)
{
	struct shard *sh = arg;
	const struct tfidf_opts *o = &sh->v->o;
	bool tot = o->max_features > 0;
	struct scratch s;
	size_t seen = 0;

	scratch_init(&s);
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi))
			sh->b[bi].m = term_map_new(0);
	sh->seg = xcalloc(2 * sh->n + 1, sizeof(*sh->seg));
	sh->rc = 0;
	for (size_t d = 0; d < sh->n; d++) {
		if (fold_doc(&s, o, sh->docs[sh->first + d], &sh->e) < 0) {
			err_prefix(&sh->e, "document %zu", sh->first + d + 1);
			sh->rc = -1;
			break;
		}
		for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
			sh->seg[2 * d + (size_t)bi] = sh->nent;
			if (block_on(o, bi)) {
				analyze_block(&s, o, bi);
				shard_count(sh, &s, bi, tot);
			}
		}
		sh->seg[2 * d + 2] = sh->nent;
		seen += strlen(sh->docs[sh->first + d]) + 1;
		/* reserve what the first documents promise (a quarter more: pages never written
		 * cost nothing), as growing copies everything */
		if (d == 255 && sh->n > 512)
			shard_ent_room(sh, (size_t)((double)sh->nent * (double)sh->bytes_goal /
						    (double)seen * 1.25));
	}
	scratch_release(&s);
	return NULL;
}

/* Merges block bi of the shards into the vocabulary of v (min_df, max_features, idf) and
 * sets each shard's map to the final indices. Shard 0's term map becomes the union. */
struct merge_job {
	struct tfidf *v;
	int bi;
	struct shard *sh;
	size_t nsh, n;
	bool pruned;  /* out: some terms were dropped */
	uint64_t *kh; /* out: the hashes of the kept terms, for the term map */
};

/* Block bi of the shards' terms into shard 0's map (the union): each other shard's fin maps its
 * terms to their union ids, and the union's df and tot are the shards' sums. */
static void union_block(struct shard *sh, size_t nsh, int bi, bool tot)
{
	struct shard_block *u = &sh[0].b[bi];
	struct term_map *m = u->m;
	shard_block_df_room(u, tot);
	for (size_t si = 1; si < nsh; si++) {
		struct shard_block *sb = &sh[si].b[bi];
		const struct term_map *sm = sb->m;
		sb->nterms = sm->n;
		sb->fin = big_realloc(NULL, 0, sm->n ? sm->n : 1, sizeof(*sb->fin));
		for (size_t l = 0; l < sm->n; l++) {
			if (l + TFIDF_PREFETCH < sm->n)
				term_map_prefetch(m, sm->hash[l + TFIDF_PREFETCH]);
			size_t g =
			    term_map_intern_h(m, sm->bytes + sm->off[l], sm->len[l], sm->hash[l]);
			shard_block_df_room(u, tot);
			u->dc[g].df += sb->dc[l].df;
			if (tot)
				u->tot[g] += sb->tot[l];
			sb->fin[l] = (uint32_t)g;
		}
		term_map_free(&sb->m);
	}
	u->nterms = m->n;
}

/* The vocabulary of block bi of v from the union map m: the terms in at least min_df of the n
 * documents (df[id] of them; none that is in none), the max_features most frequent (tot), in
 * bytewise order, with their idf. Returns newid (m's ids to the final indices, UINT32_MAX for a
 * dropped term; caller frees) and the kept terms' hashes in *kh (caller frees). */
static uint32_t *select_block(struct tfidf *v, int bi, const struct term_map *m, const uint32_t *df,
			      const double *tot, size_t n, uint64_t **kh)
{
	const struct tfidf_opts *o = &v->o;
	struct tfidf_block *b = &v->b[bi];
	uint32_t *keep, *newid;
	struct freq_ent *fe = NULL;
	size_t nkeep = 0;

	/* prune: min_df as a count (>= 1) or a fraction of the documents, like sklearn */
	double min_count = o->min_df >= 1 ? o->min_df : o->min_df * (double)n;
	keep = big_realloc(NULL, 0, m->n ? m->n : 1, sizeof(*keep));
	for (size_t id = 0; id < m->n; id++)
		if (df[id] > 0 && (double)df[id] >= min_count)
			keep[nkeep++] = (uint32_t)id;
	if (o->max_features && nkeep > o->max_features) {
		fe = xmallocarray(nkeep, sizeof(*fe));
		for (size_t q = 0; q < nkeep; q++) {
			fe[q].id = keep[q];
			fe[q].tf = tot[keep[q]];
		}
		qsort_r(fe, nkeep, sizeof(*fe), cmp_freq, (void *)m);
		nkeep = o->max_features;
		for (size_t q = 0; q < nkeep; q++)
			keep[q] = fe[q].id;
	}
	sort_terms(m, keep, nkeep);

	newid = big_realloc(NULL, 0, m->n ? m->n : 1, sizeof(*newid));
	for (size_t id = 0; id < m->n; id++)
		newid[id] = UINT32_MAX;
	block_release(b);
	b->nterms = nkeep;
	b->idf = xmallocarray(nkeep ? nkeep : 1, sizeof(*b->idf));
	*kh = big_realloc(NULL, 0, nkeep ? nkeep : 1, sizeof(**kh));
	for (size_t q = 0; q < nkeep; q++)
		b->terms_len += m->len[keep[q]] + 1;
	b->terms = xmalloc(b->terms_len + 1);
	for (size_t q = 0, p = 0; q < nkeep; q++) {
		uint32_t id = keep[q];
		newid[id] = (uint32_t)q;
		/* smooth idf: ln((1 + n) / (1 + df)) + 1 */
		b->idf[q] = log((1.0 + (double)n) / (1.0 + df[id])) + 1.0;
		memcpy(b->terms + p, m->bytes + m->off[id], m->len[id] + 1);
		p += m->len[id] + 1;
		(*kh)[q] = m->hash[id];
	}
	b->terms[b->terms_len] = 0;
	free(keep);
	free(fe);
	return newid;
}

/* The union's document frequencies (union_block), an array of their own (caller frees). */
static uint32_t *union_df(const struct shard_block *u)
{
	const struct term_map *m = u->m;
	uint32_t *df = big_realloc(NULL, 0, m->n ? m->n : 1, sizeof(*df));
	for (size_t id = 0; id < m->n; id++)
		df[id] = u->dc[id].df;
	return df;
}

static void *merge_run(void *arg)
{
	struct merge_job *j = arg;
	bool tot = j->v->o.max_features > 0;
	struct shard_block *u = &j->sh[0].b[j->bi];

	union_block(j->sh, j->nsh, j->bi, tot);
	const struct term_map *m = u->m;
	uint32_t *df = union_df(u);
	/* the map is built while X is weighed: the weighing does not need it */
	uint32_t *newid = select_block(j->v, j->bi, m, df, u->tot, j->n, &j->kh);
	free(df);
	for (size_t si = 1; si < j->nsh; si++) {
		struct shard_block *sb = &j->sh[si].b[j->bi];
		for (size_t l = 0; l < sb->nterms; l++)
			sb->fin[l] = newid[sb->fin[l]];
	}
	u->fin = newid;
	j->pruned = j->v->b[j->bi].nterms < m->n;
	return NULL;
}

/* Drops the pruned terms from the shard's rows and renumbers the others, in place. */
static void *shard_prune_run(void *arg)
{
	struct shard *sh = arg;
	size_t w = 0, start = 0;
	for (size_t k = 0; k < 2 * sh->n; k++) {
		const uint32_t *fin = sh->b[k % 2].fin;
		size_t end = sh->seg[k + 1];
		sh->seg[k] = w;
		for (size_t p = start; p < end; p++) {
			uint32_t f = fin ? fin[sh->ent[p].id] : sh->ent[p].id;
			if (f != UINT32_MAX) {
				sh->ent[w].id = f;
				sh->ent[w++].cnt = sh->ent[p].cnt;
			}
		}
		start = end;
	}
	sh->seg[2 * sh->n] = w;
	sh->nent = w;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		free(sh->b[bi].fin);
		sh->b[bi].fin = NULL;
	}
	return NULL;
}

/* Rows [d0, d1) of a shard, a share of the weighing. */
struct weigh_piece {
	const struct shard *sh;
	size_t d0, d1;
};

struct weigh_job {
	const struct weigh_piece *pc;
	size_t npc;
	struct merge_job *build[TFIDF_NBLOCKS]; /* blocks whose term maps to build as well */
};

/* The term map of the block of j, from its sorted terms. */
static void build_map(struct merge_job *j)
{
	struct tfidf_block *b = &j->v->b[j->bi];
	b->map = term_map_from_terms(b->terms, b->terms_len, b->nterms, j->kh);
	free(j->kh);
	j->kh = NULL;
}

/* Rows [d0, d1) of the shard in X: the blocks weighed and l2-normalized each on its own, side
 * by side. Each row is computed alone, so how the rows are shared out does not change them.
 * In place (shard 0), entry p is read before weight p is written, through memcpy (the memory
 * changes type). */
static void shard_weigh(const struct shard *sh, size_t d0, size_t d1)
{
	const struct tfidf *v = sh->v;
	struct csr *X = sh->X;
	const unsigned char *src = (const unsigned char *)sh->src;
	unsigned char *dst = (unsigned char *)(X->data + sh->xoff);
	uint32_t *idx = X->indices + sh->xoff;
	for (size_t d = d0; d < d1; d++) {
		size_t base = 0;
		X->indptr[sh->first + d] = sh->xoff + sh->seg[2 * d];
		for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
			const uint32_t *fin = sh->b[bi].fin;
			const double *idf = v->b[bi].idf;
			size_t p0 = sh->seg[2 * d + (size_t)bi],
			       p1 = sh->seg[2 * d + (size_t)bi + 1];
			double ss = 0;
			for (size_t p = p0; p < p1; p++) {
				struct ent en;
				memcpy(&en, src + p * sizeof(en), sizeof(en));
				uint32_t id = fin ? fin[en.id] : en.id;
				double c = (double)en.cnt;
				double tf = v->o.sublinear_tf ? 1.0 + log(c) : c;
				double w = tf * idf[id];
				idx[p] = id + (uint32_t)base;
				memcpy(dst + p * sizeof(w), &w, sizeof(w));
				ss += w * w;
			}
			if (ss > 0) {
				double r = 1.0 / sqrt(ss);
				double *val = (double *)(void *)dst;
				for (size_t p = p0; p < p1; p++)
					val[p] *= r;
			}
			base += v->b[bi].nterms;
		}
	}
}

static void *weigh_run(void *arg)
{
	const struct weigh_job *j = arg;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (j->build[bi])
			build_map(j->build[bi]);
	for (size_t k = 0; k < j->npc; k++)
		shard_weigh(j->pc[k].sh, j->pc[k].d0, j->pc[k].d1);
	return NULL;
}

/* Shares the rows out between nj jobs by cost: an entry read in place costs one, one read
 * from a shard's own array two (its weight goes to fresh pages as well). */
static void weigh_plan(const struct shard *sh, size_t nsh, bool inplace, struct weigh_job *job,
		       struct weigh_piece *pc, size_t nj)
{
	size_t total = 0, acc = 0, s = 0, d = 0, npc = 0;
	for (size_t t = 0; t < nsh; t++)
		total += sh[t].nent * (t == 0 && inplace ? 1 : 2);
	for (size_t k = 0; k < nj; k++) {
		size_t end = k + 1 == nj ? SIZE_MAX : total / nj * (k + 1);
		job[k].pc = pc + npc;
		job[k].npc = 0;
		while (s < nsh) {
			size_t w = s == 0 && inplace ? 1 : 2;
			size_t lo = sh[s].n, hi = sh[s].n;
			if (acc + w * sh[s].nent > end) {
				lo = d;
				/* the first row whose start is at or past end */
				while (lo < hi) {
					size_t mid = lo + (hi - lo) / 2;
					if (acc + w * sh[s].seg[2 * mid] < end)
						lo = mid + 1;
					else
						hi = mid;
				}
			}
			if (lo > d) {
				pc[npc].sh = &sh[s];
				pc[npc].d0 = d;
				pc[npc++].d1 = lo;
				job[k].npc++;
			}
			d = lo;
			if (d < sh[s].n)
				break;
			acc += w * sh[s].nent;
			s++;
			d = 0;
		}
	}
}

/* Splits docs[0..n) into nsh shards of about the same number of bytes. */
static void shard_split(struct shard *sh, size_t nsh, const char *const *docs, size_t n)
{
	size_t total = 0, acc = 0, d = 0;
	size_t *len = xmallocarray(n ? n : 1, sizeof(*len));
	for (size_t i = 0; i < n; i++)
		total += len[i] = strlen(docs[i]) + 1;
	for (size_t t = 0; t < nsh; t++) {
		size_t goal = t + 1 == nsh ? SIZE_MAX : total / nsh * (t + 1);
		sh[t].first = d;
		while (d < n && (acc < goal || d == sh[t].first))
			acc += len[d++];
		sh[t].n = d - sh[t].first;
		sh[t].bytes = acc - (t ? sh[t - 1].bytes_end : 0);
		sh[t].bytes_end = acc;
	}
	/* shard 0's entries become X's weights: it makes room for the whole matrix */
	if (nsh)
		sh[0].bytes_goal = total;
	for (size_t t = 1; t < nsh; t++)
		sh[t].bytes_goal = sh[t].bytes;
	free(len);
}

/* v's number of features, which must not be 0 (e set, -1). */
static int count_features(struct tfidf *v, struct err *e)
{
	v->nfeatures = v->b[0].nterms + v->b[1].nterms;
	if (!v->nfeatures)
		return err_set(e, DYN_EDATA,
			       "no terms left: the texts are empty, have no words of two or more "
			       "letters, or min_df (%g) prunes every term",
			       v->o.min_df);
	return 0;
}

/* Counts docs[0..n) in shards, one a thread, with v's options: *shp (nsh of them, caller
 * releases), or -1 with e set by the first bad document. in_place: shard 0 makes room for
 * every document's entries, which become X's weights (see tfidf_fit_transform). */
static int count_shards(struct shard **shp, size_t *nshp, const struct tfidf *v,
			const char *const *docs, size_t n, bool in_place, struct err *e)
{
	size_t nsh = v->o.threads > 1 ? (size_t)v->o.threads : 1;
	if (nsh > n / TFIDF_MIN_DOCS_PER_THREAD)
		nsh = n / TFIDF_MIN_DOCS_PER_THREAD;
	if (nsh < 1)
		nsh = 1;
	struct shard *sh = xcalloc(nsh, sizeof(*sh));
	shard_split(sh, nsh, docs, n);
	if (!in_place)
		sh[0].bytes_goal = sh[0].bytes;
	for (size_t t = 0; t < nsh; t++) {
		sh[t].v = v;
		sh[t].docs = docs;
	}
	par_run(shard_count_run, sh, sizeof(*sh), nsh);
	trace_perf("text: tf-idf: count");
	*shp = sh;
	*nshp = nsh;
	for (size_t t = 0; t < nsh; t++)
		if (sh[t].rc < 0) {
			*e = sh[t].e;
			return -1;
		}
	return 0;
}

int tfidf_fit_transform(struct tfidf *v, const struct tfidf_opts *o, const char *const *docs,
			size_t n, struct csr *X, struct err *e)
{
	size_t nsh;
	struct shard *sh;
	struct merge_job mj[TFIDF_NBLOCKS];
	size_t nmj = 0;
	bool pruned = false;
	struct weigh_job *wjob = NULL;
	struct weigh_piece *wpc = NULL;
	int ret = -1;

	tfidf_release(v);
	v->o = *o;
	v->n_docs = n;
	if (count_shards(&sh, &nsh, v, docs, n, true, e) < 0)
		goto out;
	for (size_t t = 0; t < nsh; t++)
		sh[t].X = X;

	/* the blocks have vocabularies of their own: with two threads each merges one */
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi))
			mj[nmj++] = (struct merge_job){v, bi, sh, nsh, n, false, NULL};
	if (o->threads > 1)
		par_run(merge_run, mj, sizeof(*mj), nmj);
	else
		for (size_t q = 0; q < nmj; q++)
			merge_run(&mj[q]);
	for (size_t q = 0; q < nmj; q++)
		pruned |= mj[q].pruned;
	trace_perf("text: tf-idf: vocabulary");
	if (count_features(v, e) < 0)
		goto out;
	if (pruned)
		par_run(shard_prune_run, sh, sizeof(*sh), nsh);

	/* X's weights take the place of shard 0's entries when it made room for them all (the
	 * usual case): one array less to fault in. Never by realloc: moving a big array costs
	 * more than faulting a fresh one. */
	size_t total = 0;
	for (size_t t = 0; t < nsh; t++) {
		sh[t].xoff = total;
		total += sh[t].nent;
	}
	csr_init(X, v->nfeatures);
	csr_reserve(X, n, 0);
	X->indices = big_realloc(NULL, 0, total ? total : 1, sizeof(*X->indices));
	for (size_t t = 0; t < nsh; t++)
		sh[t].src = sh[t].ent;
	bool inplace = total && sh[0].entalloc >= total;
	if (inplace) {
		X->data = (double *)(void *)sh[0].ent;
		sh[0].ent = NULL;
	} else {
		X->data = big_realloc(NULL, 0, total ? total : 1, sizeof(*X->data));
	}
	X->alloc = total ? total : 1;
	X->nrows = n;
	X->nnz = total;
	X->indptr[n] = total;
	trace_perf("text: tf-idf: matrix");
	wjob = xcalloc(nsh, sizeof(*wjob));
	wpc = xcalloc(2 * nsh, sizeof(*wpc));
	weigh_plan(sh, nsh, inplace, wjob, wpc, nsh);
	for (size_t q = 0; q < nmj; q++)
		wjob[q % nsh].build[q / nsh] = &mj[q];
	par_run(weigh_run, wjob, sizeof(*wjob), nsh);
	ret = 0;
out:
	for (size_t t = 0; t < nsh; t++)
		shard_release(&sh[t]);
	free(sh);
	free(wjob);
	free(wpc);
	for (size_t q = 0; q < nmj; q++)
		free(mj[q].kh);
	return ret;
}

/* ---- counted once, fit on subsets ---- */

struct tfidf_counts {
	struct tfidf v; /* the options, which the shards read */
	const char *const *docs;
	size_t n, nsh;
	struct shard *sh; /* each block's terms in shard 0's map (union_block) */
};

struct union_job {
	struct shard *sh;
	size_t nsh;
	int bi;
	bool tot;
};

static void *union_run(void *arg)
{
	const struct union_job *j = arg;
	union_block(j->sh, j->nsh, j->bi, j->tot);
	return NULL;
}

void tfidf_counts_free(struct tfidf_counts **cp)
{
	struct tfidf_counts *c = *cp;
	if (!c)
		return;
	for (size_t t = 0; t < c->nsh; t++)
		shard_release(&c->sh[t]);
	free(c->sh);
	free(c);
	*cp = NULL;
}

size_t tfidf_counts_docs(const struct tfidf_counts *c, const char *const *docs)
{
	return c && c->docs == docs ? c->n : 0;
}

int tfidf_count(struct tfidf_counts **cp, const struct tfidf_opts *o, const char *const *docs,
		size_t n, struct err *e)
{
	struct tfidf_counts *c = xcalloc(1, sizeof(*c));
	struct union_job uj[TFIDF_NBLOCKS];
	size_t nuj = 0;

	*cp = NULL;
	c->v.o = *o;
	c->v.n_docs = n;
	c->docs = docs;
	c->n = n;
	if (count_shards(&c->sh, &c->nsh, &c->v, docs, n, false, e) < 0) {
		tfidf_counts_free(&c);
		return -1;
	}
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi))
			uj[nuj++] = (struct union_job){c->sh, c->nsh, bi, o->max_features > 0};
	if (o->threads > 1)
		par_run(union_run, uj, sizeof(*uj), nuj);
	else
		for (size_t q = 0; q < nuj; q++)
			union_run(&uj[q]);
	*cp = c;
	return 0;
}

/* Block bi of document d: the shard that counted it, its entries sh->ent[*p0 .. *p1). */
static const struct shard *doc_block(const struct tfidf_counts *c, size_t d, int bi, size_t *p0,
				     size_t *p1)
{
	size_t t = c->nsh - 1;
	while (t > 0 && c->sh[t].first > d)
		t--;
	const struct shard *sh = &c->sh[t];
	*p0 = sh->seg[2 * (d - sh->first) + (size_t)bi];
	*p1 = sh->seg[2 * (d - sh->first) + (size_t)bi + 1];
	return sh;
}

/* The union id (union_block) of entry p of block bi of a shard. */
static inline uint32_t union_id(const struct shard *sh, int bi, size_t p)
{
	const uint32_t *fin = sh->b[bi].fin;
	return fin ? fin[sh->ent[p].id] : sh->ent[p].id;
}

struct rows_job {
	const struct tfidf_counts *c;
	const struct tfidf *v;
	const size_t *rows;
	size_t r0, r1;
	uint32_t *const *newid;
	struct csr *X;
	bool count; /* only each row's number of entries, into X->indptr[r + 1] */
};

/* Rows [r0, r1) of X: each block's kept entries, in the order of the document's terms,
 * weighed by weigh_row (the numbers shard_weigh computes). */
static void *rows_run(void *arg)
{
	const struct rows_job *j = arg;
	const struct tfidf *v = j->v;
	struct csr *X = j->X;
	uint32_t *ids = NULL, *cnt = NULL;
	size_t idalloc = 0, cntalloc = 0;
	for (size_t r = j->r0; r < j->r1; r++) {
		size_t d = j->rows ? j->rows[r] : r, w = j->count ? 0 : X->indptr[r], base = 0;
		for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
			size_t p0, p1, k = 0;
			const struct shard *sh = doc_block(j->c, d, bi, &p0, &p1);
			if (j->newid[bi]) {
				ALLOC_GROW(ids, p1 - p0, idalloc);
				ALLOC_GROW(cnt, p1 - p0, cntalloc);
				for (size_t p = p0; p < p1; p++) {
					uint32_t id = j->newid[bi][union_id(sh, bi, p)];
					if (id != UINT32_MAX) {
						ids[k] = id;
						cnt[k++] = sh->ent[p].cnt;
					}
				}
			}
			if (!j->count)
				weigh_row(&v->o, v->b[bi].idf, ids, cnt, k, X->indices + w,
					  X->data + w, (uint32_t)base);
			w += k;
			base += v->b[bi].nterms;
		}
		if (j->count)
			X->indptr[r + 1] = w;
	}
	free(ids);
	free(cnt);
	return NULL;
}

/* Block bi of the vocabulary of the documents rows[0..nrows) (all when rows is NULL). */
struct vocab_job {
	const struct tfidf_counts *c;
	struct tfidf *v;
	int bi;
	const size_t *rows;
	size_t nrows;
	uint32_t **newid; /* out */
};

static void *vocab_run(void *arg)
{
	const struct vocab_job *j = arg;
	const struct tfidf_counts *c = j->c;
	int bi = j->bi;
	bool tot = c->v.o.max_features > 0;
	const struct shard_block *u = &c->sh[0].b[bi];
	const struct term_map *m = u->m;
	uint32_t *df;
	double *tt = tot ? xcalloc_huge(m->n, sizeof(*tt)) : NULL;
	if (!j->rows) {
		df = union_df(u);
		if (tot)
			memcpy(tt, u->tot, m->n * sizeof(*tt));
	} else {
		/* a document's entries are its distinct terms: one each to df */
		df = xcalloc_huge(m->n, sizeof(*df));
		for (size_t r = 0; r < j->nrows; r++) {
			size_t p0, p1;
			const struct shard *sh = doc_block(c, j->rows[r], bi, &p0, &p1);
			for (size_t p = p0; p < p1; p++) {
				uint32_t g = union_id(sh, bi, p);
				df[g]++;
				if (tot)
					tt[g] += sh->ent[p].cnt;
			}
		}
	}
	uint64_t *kh;
	*j->newid = select_block(j->v, bi, m, df, tt, j->rows ? j->nrows : c->n, &kh);
	struct tfidf_block *b = &j->v->b[bi];
	b->map = term_map_from_terms(b->terms, b->terms_len, b->nterms, kh);
	free(kh);
	free(df);
	free(tt);
	return NULL;
}

int tfidf_fit_counts(struct tfidf *v, const struct tfidf_counts *c, const size_t *rows,
		     size_t nrows, struct csr *X, struct err *e)
{
	const struct tfidf_opts *o = &c->v.o;
	size_t nr = rows ? nrows : c->n;
	uint32_t *newid[TFIDF_NBLOCKS] = {NULL};
	int ret = -1;

	tfidf_release(v);
	v->o = *o;
	v->n_docs = nr;
	struct vocab_job vj[TFIDF_NBLOCKS];
	size_t nvj = 0;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi))
			vj[nvj++] = (struct vocab_job){c, v, bi, rows, nrows, &newid[bi]};
	if (o->threads > 1)
		par_run(vocab_run, vj, sizeof(*vj), nvj);
	else
		for (size_t q = 0; q < nvj; q++)
			vocab_run(&vj[q]);
	trace_perf("text: tf-idf: vocabulary");
	if (count_features(v, e) < 0)
		goto out;
	csr_init(X, v->nfeatures);
	csr_reserve(X, nr, 0);
	size_t nj = c->nsh;
	struct rows_job *job = xcalloc(nj, sizeof(*job));
	for (size_t t = 0; t < nj; t++)
		job[t] =
		    (struct rows_job){c, v, rows, nr * t / nj, nr * (t + 1) / nj, newid, X, true};
	par_run(rows_run, job, sizeof(*job), nj);
	X->indptr[0] = 0;
	for (size_t r = 0; r < nr; r++)
		X->indptr[r + 1] += X->indptr[r];
	size_t total = X->indptr[nr];
	X->indices = big_realloc(NULL, 0, total ? total : 1, sizeof(*X->indices));
	X->data = big_realloc(NULL, 0, total ? total : 1, sizeof(*X->data));
	X->alloc = total ? total : 1;
	X->nrows = nr;
	X->nnz = total;
	for (size_t t = 0; t < nj; t++)
		job[t].count = false;
	par_run(rows_run, job, sizeof(*job), nj);
	free(job);
	ret = 0;
out:
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		free(newid[bi]);
	return ret;
}

/* Per-thread working memory of tfidf_row (see text.h). */
struct tfidf_row {
	struct scratch s;
	uint32_t *idx;
	double *val;
	uint32_t *cnt;
	size_t alloc;
};

struct tfidf_row *tfidf_row_new(void)
{
	struct tfidf_row *r = xcalloc(1, sizeof(*r));
	scratch_init(&r->s);
	return r;
}

void tfidf_row_free(struct tfidf_row **rp)
{
	struct tfidf_row *r = *rp;
	if (!r)
		return;
	scratch_release(&r->s);
	free(r->idx);
	free(r->val);
	free(r->cnt);
	free(r);
	*rp = NULL;
}

int tfidf_row(const struct tfidf *v, struct tfidf_row *r, const char *doc, const uint32_t **idx,
	      const double **val, size_t *nnz, struct err *e)
{
	struct scratch *s = &r->s;
	size_t q = 0, base = 0;
	int folded = 0;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		const struct tfidf_block *b = &v->b[bi];
		if (block_on(&v->o, bi) && b->map) {
			if (!folded && fold_doc(s, &v->o, doc, e) < 0)
				return -1;
			folded = 1;
			analyze_block(s, &v->o, bi);
			for (size_t g = 0; g < s->ngram; g++) {
				long id = term_map_find(b->map, gram_ptr(s, &s->gram[g], bi),
							s->gram[g].len);
				if (id >= 0)
					count_add(s, (size_t)id);
			}
			if (q + s->ntouched + 1 > r->alloc) {
				r->alloc = 2 * (q + s->ntouched + 1);
				r->idx = xreallocarray(r->idx, r->alloc, sizeof(*r->idx));
				r->val = xreallocarray(r->val, r->alloc, sizeof(*r->val));
				r->cnt = xreallocarray(r->cnt, r->alloc, sizeof(*r->cnt));
			}
			for (size_t t = 0; t < s->ntouched; t++)
				r->cnt[t] = s->cnt[s->touched[t]];
			q += weigh_row(&v->o, b->idf, s->touched, r->cnt, s->ntouched, r->idx + q,
				       r->val + q, (uint32_t)base);
			count_reset(s);
		}
		base += b->nterms;
	}
	*idx = r->idx;
	*val = r->val;
	*nnz = q;
	return 0;
}

/* Transforms docs[0..n) serially; document numbers in errors start at first + 1. */
static int transform_range(const struct tfidf *v, const char *const *docs, size_t n, size_t first,
			   struct csr *X, struct err *e)
{
	struct tfidf_row *r = tfidf_row_new();
	int ret = 0;
	csr_init(X, v->nfeatures);
	for (size_t d = 0; d < n; d++) {
		const uint32_t *idx;
		const double *val;
		size_t nnz;
		if (tfidf_row(v, r, docs[d], &idx, &val, &nnz, e) < 0) {
			err_prefix(e, "document %zu", first + d + 1);
			csr_release(X);
			ret = -1;
			break;
		}
		csr_add_row(X, nnz, idx, val);
	}
	tfidf_row_free(&r);
	return ret;
}

struct transform_job {
	const struct tfidf *v;
	const char *const *docs;
	size_t n, first;
	struct csr X;
	struct err e;
	int rc;
};

static void *transform_job_run(void *arg)
{
	struct transform_job *j = arg;
	j->rc = transform_range(j->v, j->docs + j->first, j->n, j->first, &j->X, &j->e);
	return NULL;
}

int tfidf_transform(const struct tfidf *v, const char *const *docs, size_t n, struct csr *X,
		    struct err *e)
{
	size_t nt = v->o.threads > 1 ? (size_t)v->o.threads : 1;
	if (nt > n / TFIDF_MIN_DOCS_PER_THREAD)
		nt = n / TFIDF_MIN_DOCS_PER_THREAD;
	if (nt <= 1)
		return transform_range(v, docs, n, 0, X, e);

	struct transform_job *job = xcalloc(nt, sizeof(*job));
	int ret = 0;
	for (size_t t = 0; t < nt; t++) {
		job[t].v = v;
		job[t].docs = docs;
		job[t].first = n * t / nt;
		job[t].n = n * (t + 1) / nt - job[t].first;
	}
	par_run(transform_job_run, job, sizeof(*job), nt);
	csr_init(X, v->nfeatures);
	for (size_t t = 0; t < nt; t++) {
		if (job[t].rc < 0 && ret == 0) {
			*e = job[t].e;
			ret = -1;
		}
		if (job[t].rc == 0) {
			if (ret == 0)
				csr_append(X, &job[t].X);
			csr_release(&job[t].X);
		}
	}
	if (ret < 0)
		csr_release(X);
	free(job);
	return ret;
}

const char *tfidf_term(const struct tfidf *v, size_t j, int *block)
{
	int bi = 0;
	if (j >= v->b[0].nterms) {
		j -= v->b[0].nterms;
		bi = 1;
	}
	if (block)
		*block = bi;
	const struct term_map *m = v->b[bi].map;
	return m && j < m->n ? m->bytes + m->off[j] : NULL;
}

int tfidf_set_block(struct tfidf *v, int bi, const char *terms, size_t len, size_t nterms,
		    const double *idf, struct err *e)
{
	struct tfidf_block *b = &v->b[bi];
	const char *what = bi == TFIDF_WORD ? "word" : "char";
	block_release(b);
	if (len && terms[len - 1])
		return err_set(e, DYN_EDATA, "%s vocabulary: not NUL-terminated", what);
	const char *prev = NULL;
	size_t got = 0;
	for (size_t p = 0; p < len; got++) {
		const char *t = terms + p;
		if (prev && strcmp(prev, t) >= 0)
			return err_set(e, DYN_EDATA, "%s vocabulary: terms not sorted at %zu", what,
				       got);
		prev = t;
		p += strlen(t) + 1;
	}
	if (got != nterms)
		return err_set(e, DYN_EDATA, "%s vocabulary: %zu terms for %zu idf values", what,
			       got, nterms);
	for (size_t q = 0; q < nterms; q++)
		if (!(idf[q] >= 1.0) || !isfinite(idf[q])) {
			block_release(b);
			return err_set(e, DYN_EDATA, "%s idf[%zu]: expected a finite value >= 1",
				       what, q);
		}
	b->nterms = nterms;
	b->terms = xmalloc(len + 1);
	memcpy(b->terms, terms, len);
	b->terms[len] = 0;
	b->terms_len = len;
	b->idf = xmallocarray(nterms ? nterms : 1, sizeof(*b->idf));
	memcpy(b->idf, idf, nterms * sizeof(*idf));
	b->map = term_map_from_terms(b->terms, len, nterms, NULL);
	v->nfeatures = v->b[0].nterms + v->b[1].nterms;
	return 0;
}

int tfidf_analyze(const struct tfidf_opts *o, int block, const char *doc, struct strbuf *out,
		  size_t *count, struct err *e)
{
	struct scratch s;
	int ret = -1;
	scratch_init(&s);
	if (fold_doc(&s, o, doc, e) < 0)
		goto out;
	analyze_block(&s, o, block);
	for (size_t g = 0; g < s.ngram; g++) {
		strbuf_add(out, gram_ptr(&s, &s.gram[g], block), s.gram[g].len);
		strbuf_addch(out, 0);
	}
	*count = s.ngram;
	ret = 0;
out:
	scratch_release(&s);
	return ret;
}

bool text_has_alnum(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0) {
			i++;
			continue;
		}
		if (cp != '_' && is_word_cp(cp))
			return true;
		i += (size_t)k;
	}
	return false;
}
