/* kws_blob.h - a field-updatable model: validate a data-only blob before any of it is used.
 *
 * A blob (written by `kws export RUN --blob FILE`) holds a model's weights, biases,
 * quantization parameters, labels and detector settings; the firmware keeps the generated
 * layer graph and reads those arrays from the blob in place (4-byte aligned, little-endian).
 * Layout (all little-endian; offsets from the blob's first byte):
 *
 *   0   "KWSB"         magic                     32  fingerprint[32]  SHA-256 of the graph
 *   4   u16 format     KWS_BLOB_FORMAT           ... (bytes 24..55)
 *   6   u16 header     KWS_BLOB_HEADER_BYTES     56  u32 flags        bit 0: signed
 *   8   u32 total      bytes of the whole blob   60  u32 body         bytes covered by CRC/SHA
 *   12  u32 version    model version (monotonic) 64  section table: n x (kind, offset, length)
 *   16  u32 frontend   front-end settings hash       section data, each 4-byte aligned
 *   20  u32 sections   n                          body: u32 CRC-32, SHA-256[32], u32 sig_len,
 *                                                       sig_len bytes: ECDSA P-256 r || s
 *
 * The expectations come from a flat "spec" (generated with the model: kws_model_blob_spec[]):
 * the graph's fingerprint, the front-end hash, the built-in version, the vendor's public key
 * (65-byte uncompressed P-256 point, or none) and one 32-byte entry per section (kind, count,
 * four parameters). kws_blob_validate checks, in order: alignment, header bounds, magic,
 * format, lengths and section bounds, CRC-32, SHA-256, signature (required when a key is
 * given), fingerprint, front end, version, then each section's length and values against the
 * spec. Nothing the blob says is used before it is bounds-checked. No heap, no globals (the
 * signature check gives mbedTLS's allocator the caller's scratch for the call).
 */
#ifndef KWS_BLOB_H
#define KWS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_BLOB_FORMAT 1u
#define KWS_BLOB_HEADER_BYTES 64u
#define KWS_BLOB_MAX_SECTIONS 96u
#define KWS_BLOB_KEY_BYTES 65u          /* uncompressed P-256 point: 0x04 || X || Y */
#define KWS_BLOB_SIG_BYTES 64u          /* r || s, big-endian, 32 bytes each */
#define KWS_BLOB_SPEC_HEADER_BYTES 116u /* fingerprint, hash, version, n, key_len, key[68] */
#define KWS_BLOB_SPEC_ENTRY_BYTES 32u
/* Scratch for the signature check (mbedTLS bignums and the P-256 point arithmetic). */
#define KWS_BLOB_SCRATCH_BYTES 12288u

typedef enum {
    KWS_BLOB_OK = 0,
    KWS_BLOB_ERR_NULL = -1,         /* a required pointer is NULL */
    KWS_BLOB_ERR_ALIGNMENT = -2,    /* the blob is not 4-byte aligned */
    KWS_BLOB_ERR_TRUNCATED = -3,    /* shorter than its header or than its total length says */
    KWS_BLOB_ERR_MAGIC = -4,        /* not a model blob (or an erased slot) */
    KWS_BLOB_ERR_FORMAT = -5,       /* a format version or header size this loader lacks */
    KWS_BLOB_ERR_LAYOUT = -6,       /* lengths, offsets or the section table point outside */
    KWS_BLOB_ERR_CRC = -7,          /* CRC-32 mismatch: corrupted */
    KWS_BLOB_ERR_SHA256 = -8,       /* SHA-256 mismatch: corrupted */
    KWS_BLOB_ERR_UNSIGNED = -9,     /* a key is required and the blob has no signature */
    KWS_BLOB_ERR_SIGNATURE = -10,   /* the signature does not verify with the vendor's key */
    KWS_BLOB_ERR_FINGERPRINT = -11, /* made for another model architecture */
    KWS_BLOB_ERR_FRONTEND = -12,    /* trained on other front-end settings */
    KWS_BLOB_ERR_VERSION = -13,     /* older than the running model */
    KWS_BLOB_ERR_SECTION = -14,     /* a section's kind or length differs from the graph's */
    KWS_BLOB_ERR_VALUE = -15,       /* a parameter out of range (shift, offsets, labels, ...) */
    KWS_BLOB_ERR_SPEC = -16,        /* the spec itself is malformed (a build error) */
    KWS_BLOB_ERR_CRYPTO = -17       /* scratch too small or signatures not compiled in */
} kws_blob_status;

/* Section kinds (spec entry: kind, count, a, b, c, d, e, f as u32). */
enum {
    KWS_BLOB_INT8 = 1,      /* count int8 (filters) */
    KWS_BLOB_BIAS = 2,      /* count int32; a = filter section, b = taps per channel, c = tap
                               stride, d = channel stride: |bias| + 255 sum|w| < 2^31 */
    KWS_BLOB_MULT = 3,      /* count int32, each 0 or in [2^30, 2^31) */
    KWS_BLOB_SHIFT = 4,     /* count int32 in -31..30 */
    KWS_BLOB_ACT = 5,       /* 4 int32: input offset -127..128, output offset -128..127,
                               act_min <= act_max in -128..127 */
    KWS_BLOB_CLAMP = 6,     /* 2 int32: min <= max in -128..127 */
    KWS_BLOB_SOFTMAX = 7,   /* 3 int32: multiplier >= 0, left shift 0..30, diff_min <= 0 */
    KWS_BLOB_LABELS = 8,    /* count NUL-terminated labels of 1..a printable characters
                               (no '"' or '\\'), nothing after the last */
    KWS_BLOB_DETECTOR = 9   /* 4 + count int32: model every 1..a hops, average 1..b,
                               refractory 0..c ms, output zero point -128..127, count
                               thresholds 0..256 */
};

/* What validation found: the version and each section's first byte and length. */
typedef struct {
    uint32_t version;
    uint32_t num_sections;
    const uint8_t *section[KWS_BLOB_MAX_SECTIONS];
    uint32_t length[KWS_BLOB_MAX_SECTIONS];
} kws_blob_view;

/* Validate blob[0..len) against spec[0..spec_len) (NULL: structure, integrity and signature
 * only). min_version: refuse older blobs. key: the public key to verify with (NULL: the
 * spec's, if any; with neither, signatures are not checked). scratch: KWS_BLOB_SCRATCH_BYTES,
 * 8-byte aligned, for the signature check. On KWS_BLOB_OK fills *view; on failure *view is
 * unspecified and nothing else changes. */
kws_blob_status kws_blob_validate(const void *blob, size_t len, const uint8_t *spec,
                                  size_t spec_len, uint32_t min_version, const uint8_t *key,
                                  size_t key_len, void *scratch, size_t scratch_len,
                                  kws_blob_view *view);

/* A short name for a status ("crc", "signature", ...), for one-line refusals. */
const char *kws_blob_status_name(int status);

/* What a status means, in a few words ("CRC-32 mismatch: corrupted", ...). */
const char *kws_blob_status_text(int status);

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32) of data[0..len). */
uint32_t kws_blob_crc32(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KWS_BLOB_H */
