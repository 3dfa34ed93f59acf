/* SHA-256 through OpenSSL's EVP interface (see sha256.h). */
#include <openssl/evp.h>

#include "base/base.h"
#include "base/sha256.h"

void sha256_init(struct sha256 *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "dyn: cannot initialise SHA-256 (OpenSSL)\n");
		abort();
	}
	s->ctx = ctx;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	EVP_DigestUpdate(s->ctx, data, len);
}

void sha256_final_hex(struct sha256 *s, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_DigestFinal_ex(s->ctx, digest, &n);
	EVP_MD_CTX_free(s->ctx);
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
