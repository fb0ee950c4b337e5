/* kws_mbedtls_config.h - the smallest mbedTLS 2.28 configuration the blob loader needs
 * (MBEDTLS_CONFIG_FILE): SHA-256; with KWS_BLOB_SIGNATURES also bignum, ECP (P-256 only) and
 * ECDSA verification, allocating from a caller-provided buffer (no heap). Sources to build:
 * library/sha256.c, platform_util.c; with signatures also bignum.c, ecp.c, ecp_curves.c,
 * ecdsa.c, asn1parse.c, asn1write.c, constant_time.c, platform.c, memory_buffer_alloc.c. */
#ifndef KWS_MBEDTLS_CONFIG_H
#define KWS_MBEDTLS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

#if defined(KWS_BLOB_SIGNATURES)
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_MPI_MAX_SIZE 32
#define MBEDTLS_MPI_WINDOW_SIZE 1
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG   /* verification uses only public data */
/* The allocator's "heap corrupted" paths: trap (no exit() on a bare-metal target). */
#define MBEDTLS_PLATFORM_EXIT_MACRO(status) __builtin_trap()
#endif

#include "mbedtls/check_config.h"

#endif /* KWS_MBEDTLS_CONFIG_H */
