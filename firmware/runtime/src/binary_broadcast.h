/* binary_broadcast.h - the argument checks and the 4-D broadcast loop shared by the binary
 * element-wise kernels (add.c, mul.c); not installed. */
#ifndef KWS_BINARY_BROADCAST_H
#define KWS_BINARY_BROADCAST_H

#include "kws_internal.h"

/* Checks of a binary element-wise call; on KWS_OK, s1 / s2 hold the inputs' broadcast strides
 * and *count the output's elements. */
static inline kws_status_t kws_binary_check(const void *params, const kws_dims4_t *out_dims,
                                            const kws_dims4_t *in1_dims, const int8_t *in1,
                                            size_t in1_len, const kws_dims4_t *in2_dims,
                                            const int8_t *in2, size_t in2_len,
                                            const int8_t *output, size_t output_len,
                                            int32_t s1[4], int32_t s2[4], int64_t *count)
{
    if (params == NULL || out_dims == NULL || in1_dims == NULL || in2_dims == NULL ||
        in1 == NULL || in2 == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const int64_t n = kws_dims4_count(out_dims), n1 = kws_dims4_count(in1_dims),
                  n2 = kws_dims4_count(in2_dims);
    if (n < 0 || n1 < 0 || n2 < 0 || !kws_broadcast_strides(in1_dims, out_dims, s1) ||
        !kws_broadcast_strides(in2_dims, out_dims, s2)) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (in1_len < (size_t)n1 || in2_len < (size_t)n2 || output_len < (size_t)n) {
        return KWS_ERR_SHORT_BUFFER;
    }
    *count = n;
    return KWS_OK;
}

/* Run OP(a, b) (an expression of int8 a, b giving int8) over the broadcast output. */
#define KWS_BROADCAST_LOOP(out_dims, in1, s1, in2, s2, output, OP)                          \
    do {                                                                                    \
        int8_t *y_ = (output);                                                              \
        for (int32_t i0 = 0; i0 < (out_dims)->d[0]; ++i0) {                                 \
            for (int32_t i1 = 0; i1 < (out_dims)->d[1]; ++i1) {                             \
                for (int32_t i2 = 0; i2 < (out_dims)->d[2]; ++i2) {                         \
                    const int8_t *p1_ = (in1) + i0 * (s1)[0] + i1 * (s1)[1] + i2 * (s1)[2]; \
                    const int8_t *p2_ = (in2) + i0 * (s2)[0] + i1 * (s2)[1] + i2 * (s2)[2]; \
                    for (int32_t i3 = 0; i3 < (out_dims)->d[3]; ++i3) {                     \
                        const int8_t a = p1_[i3 * (s1)[3]], b = p2_[i3 * (s2)[3]];          \
                        *y_++ = (OP);                                                       \
                    }                                                                       \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)

#endif /* KWS_BINARY_BROADCAST_H */
