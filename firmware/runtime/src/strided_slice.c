/* strided_slice.c - STRIDED_SLICE of an int8 tensor of rank <= 4: begin, end, strides and
 * the masks are resolved by the exporter into a start, a stride and the output dimensions.
 *
 * Where the innermost stride is 1 the output's rows are contiguous runs of the input, copied
 * with memcpy (word copies on the M4); where, in addition, those rows are whole input rows and
 * the next stride is 1 too, a run spans all of the third dimension (a streaming model's
 * "last k time slices" of a ring buffer is then one copy). Otherwise element by element. */
#include <string.h>

#include "kws_internal.h"

kws_status_t kws_strided_slice_s8(const kws_dims4_t *in_dims, const kws_dims4_t *start,
                                  const kws_dims4_t *stride, const kws_dims4_t *out_dims,
                                  const int8_t *input, size_t input_len,
                                  int8_t *output, size_t output_len)
{
    if (in_dims == NULL || start == NULL || stride == NULL || out_dims == NULL ||
        input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const int64_t n_in = kws_dims4_count(in_dims), n_out = kws_dims4_count(out_dims);
    if (n_in < 0 || n_out < 0) {
        return KWS_ERR_BAD_CONFIG;
    }
    int32_t es[4], s = 1;
    for (int i = 3; i >= 0; --i) {
        const int32_t last = start->d[i] + (out_dims->d[i] - 1) * stride->d[i];
        if (stride->d[i] == 0 || start->d[i] < 0 || start->d[i] >= in_dims->d[i] || last < 0 ||
            last >= in_dims->d[i]) {
            return KWS_ERR_BAD_CONFIG;
        }
        es[i] = s;
        s *= in_dims->d[i];
    }
    if (input_len < (size_t)n_in || output_len < (size_t)n_out) {
        return KWS_ERR_SHORT_BUFFER;
    }
    int8_t *y = output;
    if (stride->d[3] == 1) {
        size_t run = (size_t)out_dims->d[3];
        int32_t n2 = out_dims->d[2];
        if (out_dims->d[3] == in_dims->d[3] && stride->d[2] == 1) {
            run *= (size_t)n2; /* whole rows, consecutive: one run over dimension 2 */
            n2 = 1;
        }
        for (int32_t i0 = 0; i0 < out_dims->d[0]; ++i0)
            for (int32_t i1 = 0; i1 < out_dims->d[1]; ++i1)
                for (int32_t i2 = 0; i2 < n2; ++i2, y += run) {
                    memcpy(y, input + (start->d[0] + i0 * stride->d[0]) * es[0] +
                                  (start->d[1] + i1 * stride->d[1]) * es[1] +
                                  (start->d[2] + i2 * stride->d[2]) * es[2] + start->d[3],
                           run);
                }
        return KWS_OK;
    }
    for (int32_t i0 = 0; i0 < out_dims->d[0]; ++i0)
        for (int32_t i1 = 0; i1 < out_dims->d[1]; ++i1)
            for (int32_t i2 = 0; i2 < out_dims->d[2]; ++i2) {
                const int8_t *x = input + (start->d[0] + i0 * stride->d[0]) * es[0] +
                                  (start->d[1] + i1 * stride->d[1]) * es[1] +
                                  (start->d[2] + i2 * stride->d[2]) * es[2] + start->d[3];
                for (int32_t i3 = 0; i3 < out_dims->d[3]; ++i3) {
                    *y++ = x[i3 * stride->d[3]];
                }
            }
    return KWS_OK;
}
