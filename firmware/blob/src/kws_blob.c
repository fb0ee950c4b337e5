/* kws_blob.c - see kws_blob.h. Every field is read byte by byte (no unaligned or aliased
 * loads) and bounds-checked with subtractions (no overflowing additions) before it is used. */
#include "kws_blob.h"

#include <string.h>

#include "kws_blob_crypto.h"

#define SPEC_FP 0u
#define SPEC_HASH 32u
#define SPEC_VERSION 36u
#define SPEC_NUM 40u
#define SPEC_KEY_LEN 44u
#define SPEC_KEY 48u
#define TRAILER_BYTES 40u   /* CRC-32, SHA-256, signature length */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int32_t rds32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    return u <= 0x7FFFFFFFu ? (int32_t)u : -(int32_t)(~u) - 1;
}

uint32_t kws_blob_crc32(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

/* Bytes per element of a section kind (LABELS: 1, a variable count). */
static uint32_t elem_bytes(uint32_t kind)
{
    return kind == KWS_BLOB_INT8 || kind == KWS_BLOB_LABELS ? 1u : 4u;
}

static uint32_t expected_count(uint32_t kind, uint32_t count)
{
    switch (kind) {
    case KWS_BLOB_ACT: return 4u;
    case KWS_BLOB_CLAMP: return 2u;
    case KWS_BLOB_SOFTMAX: return 3u;
    case KWS_BLOB_DETECTOR: return 4u + count;
    default: return count;
    }
}

static int in_range(int32_t v, int32_t lo, int32_t hi)
{
    return v >= lo && v <= hi;
}

static kws_blob_status check_labels(const uint8_t *p, uint32_t len, uint32_t count,
                                    uint32_t max_len)
{
    uint32_t i = 0, n = 0, run = 0;
    for (i = 0; i < len; i++) {
        if (p[i] == 0u) {
            if (run == 0u) {
                return KWS_BLOB_ERR_VALUE;
            }
            n++;
            run = 0;
            if (n == count && i + 1u != len) {
                return KWS_BLOB_ERR_VALUE;   /* bytes after the last label */
            }
        } else if (p[i] < 0x20u || p[i] > 0x7Eu || p[i] == '"' || p[i] == '\\' ||
                   ++run > max_len) {
            return KWS_BLOB_ERR_VALUE;
        }
    }
    return n == count && run == 0u ? KWS_BLOB_OK : KWS_BLOB_ERR_VALUE;
}

/* |bias[c]| + 255 * sum_t |w[c * d + t * s]| < 2^31 for every channel (no int32 overflow of
 * the accumulator for any input). The filter section was bounds-checked already. */
static kws_blob_status check_bias(const uint8_t *bias, uint32_t channels, const int8_t *w,
                                  uint32_t w_len, uint32_t taps, uint32_t tap_stride,
                                  uint32_t chan_stride)
{
    uint32_t c, t;
    if ((uint64_t)(channels - 1u) * chan_stride + (uint64_t)(taps - 1u) * tap_stride >= w_len ||
        channels == 0u || taps == 0u) {
        return KWS_BLOB_ERR_SPEC;
    }
    for (c = 0; c < channels; c++) {
        int64_t b = rds32(bias + 4u * c);
        int64_t acc = b < 0 ? -b : b;
        for (t = 0; t < taps; t++) {
            int32_t v = w[(size_t)c * chan_stride + (size_t)t * tap_stride];
            acc += 255 * (int64_t)(v < 0 ? -v : v);
        }
        if (acc >= 2147483647LL) {
            return KWS_BLOB_ERR_VALUE;
        }
    }
    return KWS_BLOB_OK;
}

static kws_blob_status check_values(const uint8_t *e, const kws_blob_view *v, uint32_t i)
{
    const uint8_t *p = v->section[i];
    uint32_t kind = rd32(e), count = rd32(e + 4), a = rd32(e + 8), b = rd32(e + 12),
             c = rd32(e + 16), d = rd32(e + 20), k;
    switch (kind) {
    case KWS_BLOB_INT8:
        return KWS_BLOB_OK;
    case KWS_BLOB_BIAS:
        if (a >= i || elem_bytes(rd32(e - (size_t)(i - a) * KWS_BLOB_SPEC_ENTRY_BYTES)) != 1u) {
            return KWS_BLOB_ERR_SPEC;   /* the filter must come before its bias */
        }
        return check_bias(p, count, (const int8_t *)(const void *)v->section[a], v->length[a], b,
                          c, d);
    case KWS_BLOB_MULT:
        for (k = 0; k < count; k++) {
            int32_t m = rds32(p + 4u * k);
            if (m != 0 && m < (int32_t)0x40000000) {
                return KWS_BLOB_ERR_VALUE;
            }
        }
        return KWS_BLOB_OK;
    case KWS_BLOB_SHIFT:
        for (k = 0; k < count; k++) {
            if (!in_range(rds32(p + 4u * k), -31, 30)) {
                return KWS_BLOB_ERR_VALUE;
            }
        }
        return KWS_BLOB_OK;
    case KWS_BLOB_ACT:
        return in_range(rds32(p), -127, 128) && in_range(rds32(p + 4), -128, 127) &&
               in_range(rds32(p + 8), -128, 127) && in_range(rds32(p + 12), -128, 127) &&
               rds32(p + 8) <= rds32(p + 12) ? KWS_BLOB_OK : KWS_BLOB_ERR_VALUE;
    case KWS_BLOB_CLAMP:
        return in_range(rds32(p), -128, 127) && in_range(rds32(p + 4), -128, 127) &&
               rds32(p) <= rds32(p + 4) ? KWS_BLOB_OK : KWS_BLOB_ERR_VALUE;
    case KWS_BLOB_SOFTMAX:
        return rds32(p) >= 0 && in_range(rds32(p + 4), 0, 30) && rds32(p + 8) <= 0
               ? KWS_BLOB_OK : KWS_BLOB_ERR_VALUE;
    case KWS_BLOB_LABELS:
        return check_labels(p, v->length[i], count, a);
    case KWS_BLOB_DETECTOR:
        if (!in_range(rds32(p), 1, (int32_t)a) || !in_range(rds32(p + 4), 1, (int32_t)b) ||
            !in_range(rds32(p + 8), 0, (int32_t)c) || !in_range(rds32(p + 12), -128, 127)) {
            return KWS_BLOB_ERR_VALUE;
        }
        for (k = 0; k < count; k++) {
            if (!in_range(rds32(p + 16u + 4u * k), 0, 256)) {
                return KWS_BLOB_ERR_VALUE;
            }
        }
        return KWS_BLOB_OK;
    default:
        return KWS_BLOB_ERR_SPEC;
    }
}

/* Header, section table and trailer bounds; fills view->section/length. *body: CRC/SHA span. */
static kws_blob_status check_layout(const uint8_t *b, size_t len, kws_blob_view *view,
                                    uint32_t *body)
{
    uint32_t total, n, i, prev_end, sig_len;
    if (len < KWS_BLOB_HEADER_BYTES) {
        return KWS_BLOB_ERR_TRUNCATED;
    }
    if (memcmp(b, "KWSB", 4) != 0) {
        return KWS_BLOB_ERR_MAGIC;
    }
    if (rd16(b + 4) != KWS_BLOB_FORMAT || rd16(b + 6) != KWS_BLOB_HEADER_BYTES) {
        return KWS_BLOB_ERR_FORMAT;
    }
    total = rd32(b + 8);
    if (total > len) {
        return KWS_BLOB_ERR_TRUNCATED;
    }
    n = rd32(b + 20);
    *body = rd32(b + 60);
    if (n > KWS_BLOB_MAX_SECTIONS || total < KWS_BLOB_HEADER_BYTES ||
        *body < KWS_BLOB_HEADER_BYTES + 12u * n || *body > total ||
        total - *body < TRAILER_BYTES) {
        return KWS_BLOB_ERR_LAYOUT;
    }
    sig_len = rd32(b + *body + 36u);
    if (sig_len != total - *body - TRAILER_BYTES || (sig_len != 0u && sig_len != KWS_BLOB_SIG_BYTES) ||
        (rd32(b + 56) & ~1u) != 0u || ((rd32(b + 56) & 1u) != 0u) != (sig_len != 0u)) {
        return KWS_BLOB_ERR_LAYOUT;
    }
    prev_end = KWS_BLOB_HEADER_BYTES + 12u * n;
    for (i = 0; i < n; i++) {
        const uint8_t *t = b + KWS_BLOB_HEADER_BYTES + 12u * i;
        uint32_t off = rd32(t + 4), slen = rd32(t + 8);
        if (off % 4u != 0u || off < prev_end || off > *body || slen > *body - off) {
            return KWS_BLOB_ERR_LAYOUT;
        }
        view->section[i] = b + off;
        view->length[i] = slen;
        prev_end = off + slen;
    }
    view->num_sections = n;
    view->version = rd32(b + 12);
    return KWS_BLOB_OK;
}

static kws_blob_status check_spec(const uint8_t *b, const uint8_t *spec, size_t spec_len,
                                  const kws_blob_view *view)
{
    uint32_t n, i;
    if (spec_len < KWS_BLOB_SPEC_HEADER_BYTES) {
        return KWS_BLOB_ERR_SPEC;
    }
    n = rd32(spec + SPEC_NUM);
    if (n > KWS_BLOB_MAX_SECTIONS ||
        spec_len != KWS_BLOB_SPEC_HEADER_BYTES + (size_t)n * KWS_BLOB_SPEC_ENTRY_BYTES) {
        return KWS_BLOB_ERR_SPEC;
    }
    if (memcmp(b + 24, spec + SPEC_FP, 32) != 0) {
        return KWS_BLOB_ERR_FINGERPRINT;
    }
    if (rd32(b + 16) != rd32(spec + SPEC_HASH)) {
        return KWS_BLOB_ERR_FRONTEND;
    }
    if (view->num_sections != n) {
        return KWS_BLOB_ERR_SECTION;
    }
    for (i = 0; i < n; i++) {
        const uint8_t *e = spec + KWS_BLOB_SPEC_HEADER_BYTES + (size_t)i * KWS_BLOB_SPEC_ENTRY_BYTES;
        uint32_t kind = rd32(e), count = rd32(e + 4);
        uint64_t want = (uint64_t)expected_count(kind, count) * elem_bytes(kind);
        const uint8_t *t = b + KWS_BLOB_HEADER_BYTES + 12u * i;
        if (rd32(t) != kind ||
            (kind == KWS_BLOB_LABELS ? view->length[i] > count * (uint64_t)(rd32(e + 8) + 1u)
                                     : view->length[i] != want)) {
            return KWS_BLOB_ERR_SECTION;
        }
    }
    for (i = 0; i < n; i++) {
        kws_blob_status st = check_values(
            spec + KWS_BLOB_SPEC_HEADER_BYTES + (size_t)i * KWS_BLOB_SPEC_ENTRY_BYTES, view, i);
        if (st != KWS_BLOB_OK) {
            return st;
        }
    }
    return KWS_BLOB_OK;
}

kws_blob_status kws_blob_validate(const void *blob, size_t len, const uint8_t *spec,
                                  size_t spec_len, uint32_t min_version, const uint8_t *key,
                                  size_t key_len, void *scratch, size_t scratch_len,
                                  kws_blob_view *view)
{
    const uint8_t *b = (const uint8_t *)blob;
    uint8_t digest[32];
    uint32_t body = 0;
    kws_blob_status st;
    if (blob == NULL || view == NULL) {
        return KWS_BLOB_ERR_NULL;
    }
    if (((uintptr_t)blob & 3u) != 0u) {
        return KWS_BLOB_ERR_ALIGNMENT;
    }
    if ((st = check_layout(b, len, view, &body)) != KWS_BLOB_OK) {
        return st;
    }
    if (kws_blob_crc32(b, body) != rd32(b + body)) {
        return KWS_BLOB_ERR_CRC;
    }
    if (kws_blob_sha256(b, body, digest) != 0) {
        return KWS_BLOB_ERR_CRYPTO;
    }
    if (memcmp(digest, b + body + 4u, 32) != 0) {
        return KWS_BLOB_ERR_SHA256;
    }
    if (key == NULL && spec != NULL && spec_len >= KWS_BLOB_SPEC_HEADER_BYTES &&
        rd32(spec + SPEC_KEY_LEN) != 0u) {
        key = spec + SPEC_KEY;
        key_len = rd32(spec + SPEC_KEY_LEN);
    }
    if (key != NULL) {
        int r;
        if (key_len != KWS_BLOB_KEY_BYTES) {
            return KWS_BLOB_ERR_SPEC;
        }
        if (rd32(b + body + 36u) == 0u) {
            return KWS_BLOB_ERR_UNSIGNED;
        }
        r = kws_blob_ecdsa_p256_verify(key, digest, b + body + TRAILER_BYTES, scratch,
                                       scratch_len);
        if (r != 0) {
            return r > 0 ? KWS_BLOB_ERR_SIGNATURE : KWS_BLOB_ERR_CRYPTO;
        }
    }
    if (spec != NULL && (st = check_spec(b, spec, spec_len, view)) != KWS_BLOB_OK) {
        return st;
    }
    if (view->version < min_version) {
        return KWS_BLOB_ERR_VERSION;
    }
    return KWS_BLOB_OK;
}

const char *kws_blob_status_name(int status)
{
    static const char *const names[] = {
        "ok", "null", "alignment", "truncated", "magic", "format", "layout", "crc", "sha256",
        "unsigned", "signature", "fingerprint", "frontend", "version", "section", "value",
        "spec", "crypto"};
    return status <= 0 && status >= -17 ? names[-status] : "unknown";
}

const char *kws_blob_status_text(int status)
{
    static const char *const texts[] = {
        "valid",
        "a required pointer is NULL",
        "the blob is not 4-byte aligned",
        "shorter than its header or than its total length says",
        "not a model blob",
        "a format version or header size this loader lacks",
        "lengths, offsets or the section table point outside the blob",
        "CRC-32 mismatch: corrupted",
        "SHA-256 mismatch: corrupted",
        "not signed, and this firmware requires the vendor's signature",
        "the signature does not verify with the vendor's key",
        "made for another model architecture",
        "trained on other front-end settings",
        "older than the running model",
        "a section's kind or length differs from the model's graph",
        "a parameter is out of range",
        "the loader's spec is malformed",
        "signature check failed to run (scratch too small or not compiled in)"};
    return status <= 0 && status >= -17 ? texts[-status] : "unknown status";
}
