/* SHA-256 (FIPS 180-4). husk itself needs a digest only for cache keys;
 * linking libcrypto for that would cost more at every exec (OpenSSL 3's
 * initialisation, ~1.4 ms measured) than the caches save. */
#ifndef HUSK_SHA256_H
#define HUSK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t total; /* bytes fed so far */
	unsigned char block[64];
	size_t used; /* bytes buffered in block */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final(struct sha256 *h, unsigned char digest[SHA256_DIGEST_SIZE]);
/* Lower-case hex of a digest; hex must hold 2 * SHA256_DIGEST_SIZE + 1 bytes. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char *hex);

#endif
