/* kws_blob_crypto.c - see kws_blob_crypto.h. */
#include "kws_blob_crypto.h"

#include "mbedtls/sha256.h"

#if defined(KWS_BLOB_SIGNATURES)
#include "mbedtls/ecdsa.h"
#include "mbedtls/memory_buffer_alloc.h"
#endif

int kws_blob_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? 0 : -1;
}

#if defined(KWS_BLOB_SIGNATURES)
int kws_blob_ecdsa_p256_verify(const uint8_t key[65], const uint8_t digest[32],
                               const uint8_t sig[64], void *scratch, size_t scratch_len)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    int ret;
    if (scratch == NULL || scratch_len < 4096u) {
        return -1;
    }
    /* mbedTLS allocates its bignums; give its allocator the caller's scratch for this call. */
    mbedtls_memory_buffer_alloc_init((unsigned char *)scratch, scratch_len);
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret == 0) {
        ret = mbedtls_ecp_point_read_binary(&grp, &q, key, 65) != 0 ||
              mbedtls_ecp_check_pubkey(&grp, &q) != 0 ? 1 : 0;
    } else {
        ret = -1;
    }
    if (ret == 0) {
        ret = mbedtls_mpi_read_binary(&r, sig, 32) != 0 ||
              mbedtls_mpi_read_binary(&s, sig + 32, 32) != 0 ? -1 : 0;
    }
    if (ret == 0) {
        int v = mbedtls_ecdsa_verify(&grp, digest, 32, &q, &r, &s);
        ret = v == 0 ? 0 : (v == MBEDTLS_ERR_MPI_ALLOC_FAILED || v == MBEDTLS_ERR_ECP_ALLOC_FAILED
                            ? -1 : 1);
    }
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    mbedtls_memory_buffer_alloc_free();
    return ret;
}
#else
int kws_blob_ecdsa_p256_verify(const uint8_t key[65], const uint8_t digest[32],
                               const uint8_t sig[64], void *scratch, size_t scratch_len)
{
    (void)key;
    (void)digest;
    (void)sig;
    (void)scratch;
    (void)scratch_len;
    return -1;
}
#endif
