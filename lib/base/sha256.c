/* SHA-256 through OpenSSL's EVP interface (see sha256.h), libcrypto loaded on first use
 * (base/lazylib.h): linked, its relocations cost every dyn command 4 ms of start-up. */
#include <openssl/evp.h>
#include <stdatomic.h>

#include "base/base.h"
#include "base/lazylib.h"
#include "base/sha256.h"

#define CRYPTO_FUNCS(X)                                                                            \
	X(EVP_DigestFinal_ex)                                                                      \
	X(EVP_DigestInit_ex)                                                                       \
	X(EVP_DigestUpdate)                                                                        \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_sha256)

static struct {
	CRYPTO_FUNCS(LAZYLIB_MEMBER)
} cr;

static void crypto_need(void)
{
	static int loaded;
	static atomic_int ready;
	if (atomic_load_explicit(&ready, memory_order_acquire))
		return;
	LAZYLIB_NEED(CRYPTO_FUNCS, cr, "libcrypto.so.3", &loaded, "SHA-256");
	atomic_store_explicit(&ready, 1, memory_order_release);
}

void sha256_init(struct sha256 *s)
{
	EVP_MD_CTX *ctx;
	crypto_need();
	ctx = cr.EVP_MD_CTX_new();
	if (!ctx || cr.EVP_DigestInit_ex(ctx, cr.EVP_sha256(), NULL) != 1) {
		struct err e = ERR_INIT;
		err_set(&e, DYN_EDATA, "SHA-256: OpenSSL cannot initialise it");
		lazylib_fatal(&e);
	}
	s->ctx = ctx;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	cr.EVP_DigestUpdate(s->ctx, data, len);
}

void sha256_final_hex(struct sha256 *s, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	cr.EVP_DigestFinal_ex(s->ctx, digest, &n);
	cr.EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
	for (i = 0; i < 32; i++) {
		static const char hex[] = "0123456789abcdef";
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final_hex(&s, out);
}
