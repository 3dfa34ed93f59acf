/* The tokenizer and TF-IDF vectorizer of text models. Tokens, n-grams, document frequencies,
 * idf and normalization follow scikit-learn's TfidfVectorizer (see text.h) so that the same
 * settings give the same matrix; case folding is utf8proc's full Unicode folding. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "text/text.h"
#include "base/base.h"
#include "base/par.h"

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

struct term_map {
	char *bytes;
	size_t blen, balloc;
	size_t *off;
	uint32_t *len;
	uint64_t *hash;
	size_t n, nalloc;
	uint32_t *slot; /* id + 1, 0 for empty */
	size_t cap;	/* power of two */
};

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

static struct term_map *term_map_new(void)
{
	struct term_map *m = xcalloc(1, sizeof(*m));
	m->cap = 1024;
	m->slot = xcalloc(m->cap, sizeof(*m->slot));
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

static long term_map_find_h(const struct term_map *m, const char *s, size_t len, uint64_t h,
			    size_t *where)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t v = m->slot[i];
		if (!v) {
			*where = i;
			return -1;
		}
		size_t id = v - 1;
		if (m->hash[id] == h && m->len[id] == len && !memcmp(m->bytes + m->off[id], s, len))
			return (long)id;
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
	m->slot = xcalloc(m->cap, sizeof(*m->slot));
	size_t mask = m->cap - 1;
	for (size_t id = 0; id < m->n; id++) {
		size_t i = m->hash[id] & mask;
		while (m->slot[i])
			i = (i + 1) & mask;
		m->slot[i] = (uint32_t)(id + 1);
	}
}

/* The id of s, added when absent. */
static size_t term_map_intern(struct term_map *m, const char *s, size_t len)
{
	uint64_t h = term_hash(s, len);
	size_t where;
	long id = term_map_find_h(m, s, len, h, &where);
	if (id >= 0)
		return (size_t)id;
	ALLOC_GROW(m->bytes, m->blen + len + 1, m->balloc);
	memcpy(m->bytes + m->blen, s, len);
	m->bytes[m->blen + len] = 0;
	if (m->n + 1 > m->nalloc) {
		size_t na = m->nalloc < 1024 ? 1024 : m->nalloc * 2;
		m->off = xreallocarray(m->off, na, sizeof(*m->off));
		m->len = xreallocarray(m->len, na, sizeof(*m->len));
		m->hash = xreallocarray(m->hash, na, sizeof(*m->hash));
		m->nalloc = na;
	}
	size_t nid = m->n++;
	m->off[nid] = m->blen;
	m->len[nid] = (uint32_t)len;
	m->hash[nid] = h;
	m->blen += len + 1;
	m->slot[where] = (uint32_t)(nid + 1);
	if (m->n * 2 > m->cap)
		term_map_grow(m);
	return nid;
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

/* Folds doc and fills s->gram with the terms of block bi. */
static int analyze(struct scratch *s, const struct tfidf_opts *o, int bi, const char *doc,
		   struct err *e)
{
	strbuf_reset(&s->fold);
	strbuf_reset(&s->gbuf);
	s->ngram = 0;
	if (text_fold(doc, strlen(doc), o->invalid_utf8, &s->fold, e) < 0)
		return -1;
	if (bi == TFIDF_WORD) {
		word_tokens(s, o->stem);
		word_grams(s, o->word_min, o->word_max);
	} else {
		char_grams(s, o->char_min, o->char_max);
	}
	return 0;
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
		s->cnt = xreallocarray(s->cnt, na, sizeof(*s->cnt));
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

static int cmp_term(const void *a, const void *b, void *arg)
{
	const struct term_map *m = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return strcmp(m->bytes + m->off[x], m->bytes + m->off[y]);
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

/* tf (raw or sublinear) times idf for the counts of one row, then l2; into idx/val. */
static size_t weigh_row(const struct tfidf_opts *o, const double *idf, const uint32_t *ids,
			const double *cnt, size_t n, uint32_t *idx, double *val, uint32_t base)
{
	double ss = 0;
	for (size_t q = 0; q < n; q++) {
		double tf = o->sublinear_tf ? 1.0 + log(cnt[q]) : cnt[q];
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

/* Fits block bi: vocabulary (min_df, max_features), idf; rows of raw counts in cnts
 * (columns: final term indices). */
static int fit_block(struct tfidf *v, int bi, struct scratch *s, const char *const *docs, size_t n,
		     struct csr *cnts, struct err *e)
{
	const struct tfidf_opts *o = &v->o;
	struct tfidf_block *b = &v->b[bi];
	struct term_map *m = term_map_new();
	struct csr raw;
	uint32_t *df = NULL, *keep = NULL, *newid = NULL;
	double *tot = NULL;
	struct freq_ent *fe = NULL;
	size_t dfalloc = 0, nkeep = 0;
	uint32_t *ridx = NULL;
	double *rval = NULL;
	size_t ralloc = 0;
	int ret = -1;

	csr_init(&raw, 0);
	for (size_t d = 0; d < n; d++) {
		if (analyze(s, o, bi, docs[d], e) < 0) {
			err_prefix(e, "document %zu", d + 1);
			goto out;
		}
		for (size_t g = 0; g < s->ngram; g++)
			count_add(s,
				  term_map_intern(m, gram_ptr(s, &s->gram[g], bi), s->gram[g].len));
		ALLOC_GROW(ridx, s->ntouched, ralloc);
		rval = xreallocarray(rval, ralloc ? ralloc : 1, sizeof(*rval));
		if (m->n > dfalloc) {
			size_t na = dfalloc ? dfalloc : 4096;
			while (na < m->n)
				na *= 2;
			df = xreallocarray(df, na, sizeof(*df));
			tot = xreallocarray(tot, na, sizeof(*tot));
			memset(df + dfalloc, 0, (na - dfalloc) * sizeof(*df));
			memset(tot + dfalloc, 0, (na - dfalloc) * sizeof(*tot));
			dfalloc = na;
		}
		for (size_t t = 0; t < s->ntouched; t++) {
			uint32_t id = s->touched[t];
			ridx[t] = id;
			rval[t] = s->cnt[id];
			df[id]++;
			tot[id] += s->cnt[id];
		}
		csr_add_row(&raw, s->ntouched, ridx, rval);
		count_reset(s);
		if (d == 255 && n > 512)
			/* reserve what the first documents promise, to grow by copies rarely */
			csr_reserve(&raw, n, raw.nnz / 256 * n / 10 * 11);
	}

	/* prune: min_df as a count (>= 1) or a fraction of the documents, like sklearn */
	double min_count = o->min_df >= 1 ? o->min_df : o->min_df * (double)n;
	keep = xmallocarray(m->n ? m->n : 1, sizeof(*keep));
	for (size_t id = 0; id < m->n; id++)
		if ((double)df[id] >= min_count)
			keep[nkeep++] = (uint32_t)id;
	if (o->max_features && nkeep > o->max_features) {
		fe = xmallocarray(nkeep, sizeof(*fe));
		for (size_t q = 0; q < nkeep; q++) {
			fe[q].id = keep[q];
			fe[q].tf = tot[keep[q]];
		}
		qsort_r(fe, nkeep, sizeof(*fe), cmp_freq, m);
		nkeep = o->max_features;
		for (size_t q = 0; q < nkeep; q++)
			keep[q] = fe[q].id;
	}
	qsort_r(keep, nkeep, sizeof(*keep), cmp_term, m);

	newid = xmallocarray(m->n ? m->n : 1, sizeof(*newid));
	for (size_t id = 0; id < m->n; id++)
		newid[id] = UINT32_MAX;
	block_release(b);
	b->nterms = nkeep;
	b->idf = xmallocarray(nkeep ? nkeep : 1, sizeof(*b->idf));
	b->map = term_map_new();
	struct strbuf tb = STRBUF_INIT;
	for (size_t q = 0; q < nkeep; q++) {
		uint32_t id = keep[q];
		newid[id] = (uint32_t)q;
		/* smooth idf: ln((1 + n) / (1 + df)) + 1 */
		b->idf[q] = log((1.0 + (double)n) / (1.0 + df[id])) + 1.0;
		strbuf_add(&tb, m->bytes + m->off[id], m->len[id] + 1);
		term_map_intern(b->map, m->bytes + m->off[id], m->len[id]);
	}
	b->terms_len = tb.len;
	b->terms = strbuf_detach(&tb, NULL);

	/* the count rows in place, renumbered and without the pruned terms: a copy of this
	 * matrix would cost more (in fresh pages) than the counting did */
	size_t wpos = 0, rstart = 0;
	for (size_t d = 0; d < n; d++) {
		size_t rend = raw.indptr[d + 1];
		for (size_t p = rstart; p < rend; p++) {
			uint32_t nid = newid[raw.indices[p]];
			if (nid != UINT32_MAX) {
				raw.indices[wpos] = nid;
				raw.data[wpos++] = raw.data[p];
			}
		}
		raw.indptr[d + 1] = wpos;
		rstart = rend;
	}
	raw.nnz = wpos;
	raw.ncols = nkeep;
	*cnts = raw;
	csr_init(&raw, 0);
	ret = 0;
out:
	csr_release(&raw);
	term_map_free(&m);
	free(df);
	free(tot);
	free(keep);
	free(newid);
	free(fe);
	free(ridx);
	free(rval);
	return ret;
}

/* Rows [first, last) of X from the blocks' count rows: X's indptr is set, each row is
 * written in place (no copy through a row buffer). */
struct weigh_job {
	const struct tfidf *v;
	struct csr *const *cnts;
	struct csr *X;
	size_t first, last;
};

static void *weigh_run(void *arg)
{
	const struct weigh_job *j = arg;
	const struct tfidf *v = j->v;
	struct csr *X = j->X;
	for (size_t d = j->first; d < j->last; d++) {
		size_t q = X->indptr[d], base = 0;
		for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
			const struct csr *c = j->cnts[bi];
			if (c) {
				size_t p = c->indptr[d], len = c->indptr[d + 1] - p;
				q += weigh_row(&v->o, v->b[bi].idf, c->indices + p, c->data + p,
					       len, X->indices + q, X->data + q, (uint32_t)base);
			}
			base += v->b[bi].nterms;
		}
	}
	return NULL;
}

/* hstack of the weighed blocks of count rows, each block l2-normalized on its own; rows split
 * between the threads (each row is computed alone, so the split does not change it). */
static void weigh(const struct tfidf *v, struct csr *const cnts[TFIDF_NBLOCKS], size_t n,
		  struct csr *X)
{
	size_t total = 0;
	csr_init(X, v->nfeatures);
	/* one allocation of the final size: growing by copies costs more than the weighing */
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (cnts[bi])
			total += cnts[bi]->nnz;
	csr_reserve(X, n, total ? total : 1);
	X->indptr[0] = 0;
	for (size_t d = 0; d < n; d++) {
		size_t len = 0;
		for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
			if (cnts[bi])
				len += cnts[bi]->indptr[d + 1] - cnts[bi]->indptr[d];
		X->indptr[d + 1] = X->indptr[d] + len;
	}
	X->nrows = n;
	X->nnz = total;

	struct weigh_job job[2] = {{v, cnts, X, 0, n}, {v, cnts, X, n, n}};
	pthread_t th;
	int threaded = 0;
	if (v->o.threads > 1 && n >= 2 * TFIDF_MIN_DOCS_PER_THREAD) {
		/* halves of the non-zeros, not of the rows */
		size_t half = 0;
		while (half < n && X->indptr[half] < total / 2)
			half++;
		job[0].last = job[1].first = half;
		threaded = pthread_create(&th, NULL, weigh_run, &job[1]) == 0;
		if (!threaded)
			job[0].last = n;
	}
	weigh_run(&job[0]);
	if (threaded)
		pthread_join(th, NULL);
}

struct fit_job {
	struct tfidf *v;
	int bi;
	const char *const *docs;
	size_t n;
	struct csr cn;
	struct err e;
	int rc;
};

static void *fit_job_run(void *arg)
{
	struct fit_job *j = arg;
	struct scratch s;
	scratch_init(&s);
	j->rc = fit_block(j->v, j->bi, &s, j->docs, j->n, &j->cn, &j->e);
	scratch_release(&s);
	return NULL;
}

int tfidf_fit_transform(struct tfidf *v, const struct tfidf_opts *o, const char *const *docs,
			size_t n, struct csr *X, struct err *e)
{
	struct fit_job job[TFIDF_NBLOCKS];
	struct csr *cp[TFIDF_NBLOCKS] = {NULL, NULL};
	pthread_t th;
	int threaded = 0, ret = -1;

	tfidf_release(v);
	v->o = *o;
	v->n_docs = n;
	/* The blocks have their own vocabularies: with two threads each learns one. */
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		memset(&job[bi], 0, sizeof(job[bi]));
		job[bi].v = v;
		job[bi].bi = bi;
		job[bi].docs = docs;
		job[bi].n = n;
	}
	if (o->threads > 1 && block_on(o, TFIDF_WORD) && block_on(o, TFIDF_CHAR))
		threaded = pthread_create(&th, NULL, fit_job_run, &job[TFIDF_WORD]) == 0;
	for (int bi = threaded ? TFIDF_CHAR : 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi))
			fit_job_run(&job[bi]);
	if (threaded)
		pthread_join(th, NULL);
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi) && job[bi].rc == 0)
			cp[bi] = &job[bi].cn;
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (block_on(o, bi) && job[bi].rc < 0) {
			*e = job[bi].e;
			goto out;
		}
	v->nfeatures = v->b[0].nterms + v->b[1].nterms;
	if (!v->nfeatures) {
		err_set(e, DYN_EDATA,
			"no terms left: the texts are empty, have no words of two or more "
			"letters, or min_df (%g) prunes every term",
			o->min_df);
		goto out;
	}
	weigh(v, cp, n, X);
	ret = 0;
out:
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++)
		if (cp[bi])
			csr_release(cp[bi]);
	return ret;
}

/* Transforms docs[0..n) serially; document numbers in errors start at first + 1. */
struct tfidf_row {
	struct scratch s;
	uint32_t *idx;
	double *val, *cnt;
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
	for (int bi = 0; bi < TFIDF_NBLOCKS; bi++) {
		const struct tfidf_block *b = &v->b[bi];
		if (block_on(&v->o, bi) && b->map) {
			if (analyze(s, &v->o, bi, doc, e) < 0)
				return -1;
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
	b->map = term_map_new();
	const char *prev = NULL;
	for (size_t p = 0; p < len;) {
		const char *t = terms + p;
		size_t tl = strlen(t);
		if (prev && strcmp(prev, t) >= 0) {
			block_release(b);
			return err_set(e, DYN_EDATA, "%s vocabulary: terms not sorted at %zu", what,
				       b->map ? b->map->n : 0);
		}
		term_map_intern(b->map, t, tl);
		prev = t;
		p += tl + 1;
	}
	if (b->map->n != nterms) {
		size_t got = b->map->n;
		block_release(b);
		return err_set(e, DYN_EDATA, "%s vocabulary: %zu terms for %zu idf values", what,
			       got, nterms);
	}
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
	v->nfeatures = v->b[0].nterms + v->b[1].nterms;
	return 0;
}

int tfidf_analyze(const struct tfidf_opts *o, int block, const char *doc, struct strbuf *out,
		  size_t *count, struct err *e)
{
	struct scratch s;
	int ret = -1;
	scratch_init(&s);
	if (analyze(&s, o, block, doc, e) < 0)
		goto out;
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
