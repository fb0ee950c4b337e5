/* kws_blob_crypto.h - the two primitives the blob loader needs, on mbedTLS (third_party/mbedtls,
 * built with kws_mbedtls_config.h: SHA-256 always; bignum, ECP P-256 and ECDSA only with
 * KWS_BLOB_SIGNATURES). */
#ifndef KWS_BLOB_CRYPTO_H
#define KWS_BLOB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of data[0..len) into out[32]. 0 = ok. */
int kws_blob_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* Verify the P-256 signature sig[64] (r || s) of digest[32] with the uncompressed public key
 * key[65]. scratch: memory for mbedTLS's bignums during the call. Returns 0 (valid), 1 (invalid
 * signature or key), -1 (no signature support compiled in, or scratch too small). */
int kws_blob_ecdsa_p256_verify(const uint8_t key[65], const uint8_t digest[32],
                               const uint8_t sig[64], void *scratch, size_t scratch_len);

#endif /* KWS_BLOB_CRYPTO_H */
