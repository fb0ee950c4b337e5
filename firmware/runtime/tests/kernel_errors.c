/* kernel_errors.c - every kernel rejects NULL pointers, short buffers and bad configurations
 * with its error code (run by tests/test_runtime.py). Prints one line per failed check and
 * exits non-zero if any check failed. */
#include <stdio.h>

#include "kws_kernels.h"

static int failures = 0;

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        printf("FAIL %s: got %d, want %d\n", what, got, want);
        ++failures;
    }
}

/* The element-wise, reduction and tensor-shape kernels. */
static void new_kernels(void)
{
    static int8_t x[64], y[64], y2[64];
    static int32_t tables[KWS_ADD_TABLES_LEN];
    const kws_dims4_t d = {{1, 2, 4, 8}}, d1 = {{1, 2, 1, 8}}, dbad = {{1, 3, 4, 8}};
    const kws_add_params_t ap = {0, 0, 0, 20, 1 << 30, -1, 1 << 30, -1, 1 << 30, -10, -128, 127};
    kws_add_params_t ap_bad = ap;
    ap_bad.input1_shift = 1;
    expect(kws_add_s8(&ap, &d, &d, x, 64, &d1, x, 16, y, 64, NULL, 0), KWS_OK, "add ok");
    expect(kws_add_s8_tables(&ap, tables, KWS_ADD_TABLES_LEN), KWS_OK, "add tables");
    expect(kws_add_s8(&ap, &d, &d, x, 64, &d1, x, 16, y, 64, tables, KWS_ADD_TABLES_LEN),
           KWS_OK, "add ok with tables");
    expect(kws_add_s8_tables(&ap, tables, 511), KWS_ERR_SHORT_BUFFER, "add tables short");
    expect(kws_add_s8_tables(&ap_bad, tables, 512), KWS_ERR_BAD_CONFIG, "add tables bad");
    expect(kws_add_s8(&ap, &d, &dbad, x, 96, &d1, x, 16, y, 64, NULL, 0),
           KWS_ERR_BAD_CONFIG, "add no broadcast");
    expect(kws_add_s8(&ap, &d, &d, x, 63, &d1, x, 16, y, 64, NULL, 0),
           KWS_ERR_SHORT_BUFFER, "add short input");
    expect(kws_add_s8(&ap_bad, &d, &d, x, 64, &d1, x, 16, y, 64, NULL, 0),
           KWS_ERR_BAD_CONFIG, "add left input shift");
    expect(kws_add_s8(&ap, &d, &d, NULL, 64, &d1, x, 16, y, 64, NULL, 0),
           KWS_ERR_NULL, "add NULL input");
    expect(kws_add_s8(&ap, &d, &d, x, 64, &d1, x, 16, y, 64, tables, 100),
           KWS_ERR_SHORT_BUFFER, "add short tables");
    const kws_mul_params_t mp = {0, 0, 0, 1 << 30, -3, -128, 127};
    expect(kws_mul_s8(&mp, &d, &d, x, 64, &d1, x, 16, y, 64), KWS_OK, "mul ok");
    expect(kws_mul_s8(&mp, &d, &d, x, 64, &d1, x, 16, y, 63), KWS_ERR_SHORT_BUFFER,
           "mul short output");
    const kws_mean_params_t mean = {0, 0, 1 << 30, -3};
    expect(kws_mean_s8(&mean, &d, 6u, x, 64, y, 8), KWS_OK, "mean ok");
    expect(kws_mean_s8(&mean, &d, 6u, x, 64, y, 7), KWS_ERR_SHORT_BUFFER, "mean short output");
    expect(kws_mean_s8(&mean, &d, 0u, x, 64, y, 64), KWS_ERR_BAD_CONFIG, "mean no axis");
    const kws_conv_shape_t ps = {4, 4, 4, 2, 2, 4, 2, 2, 2, 2, 0, 0, 1};
    expect(kws_maxpool_s8(&ps, -128, 127, x, 64, y, 16), KWS_OK, "maxpool ok");
    expect(kws_maxpool_s8(&ps, 5, 4, x, 64, y, 16), KWS_ERR_BAD_CONFIG, "maxpool clamp");
    const int8_t *ins[2] = {x, x};
    int8_t *outs[2] = {y, y2};
    const size_t lens[2] = {32, 32};
    const int32_t sizes[2] = {16, 16};
    expect(kws_concat_s8(2, 2, ins, lens, sizes, y, 64), KWS_OK, "concat ok");
    expect(kws_concat_s8(2, 2, ins, lens, sizes, y, 63), KWS_ERR_SHORT_BUFFER,
           "concat short output");
    expect(kws_split_s8(2, x, 64, 2, outs, lens, sizes), KWS_OK, "split ok");
    expect(kws_split_s8(2, x, 63, 2, outs, lens, sizes), KWS_ERR_SHORT_BUFFER,
           "split short input");
    const kws_dims4_t small = {{1, 1, 2, 4}}, before = {{0, 0, 1, 0}}, after = {{0, 0, 1, 0}};
    expect(kws_pad_s8(&small, &before, &after, 0, x, 8, y, 16), KWS_OK, "pad ok");
    expect(kws_pad_s8(&small, &before, &after, 0, x, 8, y, 15), KWS_ERR_SHORT_BUFFER,
           "pad short output");
    const kws_dims4_t start = {{0, 1, 3, 7}}, stride = {{1, 1, -1, -2}}, sl = {{1, 1, 4, 4}};
    const kws_dims4_t sl_bad = {{1, 1, 5, 4}};
    expect(kws_strided_slice_s8(&d, &start, &stride, &sl, x, 64, y, 16), KWS_OK, "slice ok");
    expect(kws_strided_slice_s8(&d, &start, &stride, &sl_bad, x, 64, y, 20), KWS_ERR_BAD_CONFIG,
           "slice out of range");
    expect(kws_lut_s8(x, 255, x, 8, y, 8), KWS_ERR_SHORT_BUFFER, "lut short table");
    expect(kws_requantize_s8(0, 1 << 30, 40, 0, x, 8, y, 8), KWS_ERR_BAD_CONFIG,
           "requantize shift");
    expect(kws_requantize_s8(0, 1 << 30, -1, 0, x, 8, y, 8), KWS_OK, "requantize ok");
}

int main(void)
{
    static int8_t in[64], out[64], w[64];
    static int32_t b[8], mult[8] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[8];
    static int32_t scratch[128]; /* 4-byte aligned */
    const kws_requant_t rq = {mult, shift, 4};
    const kws_requant_t rq_bad = {mult, shift, 3};
    const kws_act_t act = {0, 0, -128, 127};
    const kws_act_t act_bad = {0, 0, 10, -10};
    /* 4x4x1 input, 3x3 kernel, 4 output channels, stride 1, pad 1 */
    const kws_conv_shape_t cs = {4, 4, 1, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1};
    kws_conv_shape_t cs_bad = cs;
    cs_bad.stride_h = 0;

    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 36, b, 4, out, 64, scratch, sizeof scratch),
           KWS_OK, "conv ok");
    expect(kws_conv2d_s8(&cs, &act, &rq, NULL, 16, w, 36, b, 4, out, 64, scratch,
                         sizeof scratch), KWS_ERR_NULL, "conv NULL input");
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 15, w, 36, b, 4, out, 64, scratch, sizeof scratch),
           KWS_ERR_SHORT_BUFFER, "conv short input");
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 35, b, 4, out, 64, scratch, sizeof scratch),
           KWS_ERR_SHORT_BUFFER, "conv short filter");
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 36, b, 3, out, 64, scratch, sizeof scratch),
           KWS_ERR_SHORT_BUFFER, "conv short bias");
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 36, b, 4, out, 63, scratch, sizeof scratch),
           KWS_ERR_SHORT_BUFFER, "conv short output");
    expect(kws_conv2d_s8(&cs_bad, &act, &rq, in, 16, w, 36, b, 4, out, 64, scratch,
                         sizeof scratch), KWS_ERR_BAD_CONFIG, "conv stride 0");
    expect(kws_conv2d_s8(&cs, &act_bad, &rq, in, 16, w, 36, b, 4, out, 64, scratch,
                         sizeof scratch), KWS_ERR_BAD_CONFIG, "conv act_min > act_max");
    expect(kws_conv2d_s8(&cs, &act, &rq_bad, in, 16, w, 36, b, 4, out, 64, scratch,
                         sizeof scratch), KWS_ERR_BAD_CONFIG, "conv requant count");
    /* less scratch than the im2col path needs, or none: the direct path, no error */
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 36, b, 4, out, 64, scratch, 1), KWS_OK,
           "conv short scratch");
    expect(kws_conv2d_s8(&cs, &act, &rq, in, 16, w, 36, b, 4, out, 64, NULL, 0), KWS_OK,
           "conv NULL scratch");

    const kws_conv_shape_t ps = {4, 4, 4, 4, 4, 4, 1, 1, 1, 1, 0, 0, 1};
    expect(kws_pointwise_conv_s8(&ps, &act, &rq, in, 64, w, 16, b, 4, out, 64, scratch,
                                 sizeof scratch), KWS_OK, "pointwise ok");
    expect(kws_pointwise_conv_s8(&ps, &act, &rq, in, 64, w, 16, b, 4, NULL, 64, scratch,
                                 sizeof scratch), KWS_ERR_NULL, "pointwise NULL output");
    expect(kws_pointwise_conv_s8(&cs, &act, &rq, in, 64, w, 64, b, 4, out, 64, scratch,
                                 sizeof scratch), KWS_ERR_BAD_CONFIG,
           "pointwise with a 3x3 kernel");
    expect(kws_pointwise_conv_s8(&ps, &act, &rq, in, 64, w, 16, b, 4, out, 64, scratch, 1),
           KWS_OK, "pointwise short scratch");
    expect(kws_pointwise_conv_s8(&ps, &act, &rq, in, 64, w, 16, b, 4, out, 64, NULL, 0),
           KWS_OK, "pointwise NULL scratch");

    /* prepared pointwise: 4 inputs, 4 outputs -> 8 filter words, 4 biases, 12 rqf values */
    static uint32_t pw_w[8];
    static int32_t pw_b[4], pw_r[12] = {1 << 30, 1, 1, 1 << 30, 1, 1, 1 << 30, 1, 1, 1 << 30, 1, 1};
    static int32_t shift_r[8] = {-1, -1, -1, -1};
    const kws_requant_t rq_r = {mult, shift_r, 4};
    kws_pw_prepared_t prep = {pw_w, 8, pw_b, 4, pw_r, 12, 4};
    expect(kws_pointwise_conv_s8_prepared(&ps, &act, &rq_r, &prep, in, 64, out, 64, scratch,
                                          sizeof scratch), KWS_OK, "prepared ok");
    expect(kws_pointwise_conv_s8_prepared(&ps, &act, &rq_r, NULL, in, 64, out, 64, scratch,
                                          sizeof scratch), KWS_ERR_NULL, "prepared NULL prep");
    prep.filter_len = 7;
    expect(kws_pointwise_conv_s8_prepared(&ps, &act, &rq_r, &prep, in, 64, out, 64, scratch,
                                          sizeof scratch), KWS_ERR_SHORT_BUFFER,
           "prepared short filter");
    prep.filter_len = 8;
    prep.in_c4 = 8;
    expect(kws_pointwise_conv_s8_prepared(&ps, &act, &rq_r, &prep, in, 64, out, 64, scratch,
                                          sizeof scratch), KWS_ERR_BAD_CONFIG,
           "prepared in_c4 mismatch");
    prep.in_c4 = 4;
    const kws_act_t act_relu = {0, 0, 0, 127};
    expect(kws_pointwise_conv_s8_prepared(&ps, &act_relu, &rq_r, &prep, in, 64, out, 64,
                                          scratch, sizeof scratch), KWS_ERR_BAD_CONFIG,
           "prepared narrow activation range");
    if (kws_pointwise_conv_s8_prepared_get_buffer_size(&ps) > 0) {
        expect(kws_pointwise_conv_s8_prepared(&ps, &act, &rq_r, &prep, in, 64, out, 64, scratch,
                                              1), KWS_ERR_SHORT_BUFFER, "prepared short scratch");
    }

    const kws_conv_shape_t ds = {4, 4, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1};
    kws_conv_shape_t ds_bad = ds;
    ds_bad.depth_multiplier = 2;
    expect(kws_depthwise_conv2d_s8(&ds, &act, &rq, in, 64, w, 36, b, 4, out, 64, scratch,
                                   sizeof scratch), KWS_OK, "depthwise ok");
    expect(kws_depthwise_conv2d_s8(&ds, &act, &rq, in, 64, w, 35, b, 4, out, 64, scratch,
                                   sizeof scratch), KWS_ERR_SHORT_BUFFER,
           "depthwise short filter");
    expect(kws_depthwise_conv2d_s8(&ds_bad, &act, &rq, in, 64, w, 36, b, 4, out, 64, scratch,
                                   sizeof scratch), KWS_ERR_BAD_CONFIG,
           "depthwise channel mismatch");
    if (kws_depthwise_conv2d_s8_get_buffer_size(&ds) > 0) {
        expect(kws_depthwise_conv2d_s8(&ds, &act, &rq, in, 64, w, 36, b, 4, out, 64, scratch,
                                       1), KWS_ERR_SHORT_BUFFER, "depthwise short scratch");
        expect(kws_depthwise_conv2d_s8(&ds, &act, &rq, in, 64, w, 36, b, 4, out, 64, NULL,
                                       sizeof scratch), KWS_ERR_NULL, "depthwise NULL scratch");
    }

    /* prepared depthwise: 4 channels, 3 x 3 -> one group of 16 + 2 * 9 words */
    static int32_t dw_d[34] = {0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
        dw_d[22 + 3 * i] = 1 << 30;
        dw_d[23 + 3 * i] = 1;
        dw_d[24 + 3 * i] = 1;
    }
    kws_dw_prepared_t dprep = {dw_d, 34};
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, &dprep, in, 64, out, 64), KWS_OK,
           "prepared depthwise ok");
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, NULL, in, 64, out, 64),
           KWS_ERR_NULL, "prepared depthwise NULL prep");
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, &dprep, NULL, 64, out, 64),
           KWS_ERR_NULL, "prepared depthwise NULL input");
    dprep.data_len = 33;
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, &dprep, in, 64, out, 64),
           KWS_ERR_SHORT_BUFFER, "prepared depthwise short data");
    dprep.data_len = 34;
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, &dprep, in, 63, out, 64),
           KWS_ERR_SHORT_BUFFER, "prepared depthwise short input");
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act, &dprep, in, 64, out, 63),
           KWS_ERR_SHORT_BUFFER, "prepared depthwise short output");
    expect(kws_depthwise_conv2d_s8_prepared(&ds_bad, &act, &dprep, in, 64, out, 64),
           KWS_ERR_BAD_CONFIG, "prepared depthwise depth multiplier 2");
    expect(kws_depthwise_conv2d_s8_prepared(&ds, &act_relu, &dprep, in, 64, out, 64),
           KWS_ERR_BAD_CONFIG, "prepared depthwise narrow activation range");
    /* a 3-channel layer: its one group runs the portable arithmetic on every path, which
     * needs the prepared shift to be a right shift */
    const kws_conv_shape_t ds3 = {4, 4, 3, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1};
    expect(kws_depthwise_conv2d_s8_prepared(&ds3, &act, &dprep, in, 48, out, 48), KWS_OK,
           "prepared depthwise 3 channels");
    dw_d[24] = 0; /* channel 0: r = 0 */
    expect(kws_depthwise_conv2d_s8_prepared(&ds3, &act, &dprep, in, 48, out, 48),
           KWS_ERR_BAD_CONFIG, "prepared depthwise shift 0");
    dw_d[24] = 1;

    expect(kws_avgpool_s8(&ds, -128, 127, in, 64, out, 64), KWS_OK, "avgpool ok");
    expect(kws_avgpool_s8(&ds, -128, 127, in, 63, out, 64), KWS_ERR_SHORT_BUFFER,
           "avgpool short input");
    expect(kws_avgpool_s8(&ds, 5, 4, in, 64, out, 64), KWS_ERR_BAD_CONFIG, "avgpool clamp");

    {
        /* running pool over 5 slices of 2 columns x 4 channels: head + 8 sums + 40 ring bytes */
        static uint32_t st[1 + 8 + 10 + 1];
        const kws_conv_shape_t rs = {5, 2, 4, 1, 1, 4, 5, 2, 1, 1, 0, 0, 1};
        kws_conv_shape_t rbad = rs;
        expect(kws_avgpool_running_get_state_size(&rs) == 4 + 32 + 40, 1,
               "avgpool running state size");
        expect(kws_avgpool_running_s8(st, 76, &rs, -128, 127, in, 8, out, 4), KWS_OK,
               "avgpool running ok");
        expect(kws_avgpool_running_s8(st, 75, &rs, -128, 127, in, 8, out, 4),
               KWS_ERR_SHORT_BUFFER, "avgpool running short state");
        expect(kws_avgpool_running_s8(st, 76, &rs, -128, 127, in, 7, out, 4),
               KWS_ERR_SHORT_BUFFER, "avgpool running short slice");
        expect(kws_avgpool_running_s8(st, 76, &rs, -128, 127, in, 8, out, 3),
               KWS_ERR_SHORT_BUFFER, "avgpool running short output");
        expect(kws_avgpool_running_s8(NULL, 76, &rs, -128, 127, in, 8, out, 4), KWS_ERR_NULL,
               "avgpool running NULL state");
        expect(kws_avgpool_running_s8(st, 76, &rs, 5, 4, in, 8, out, 4), KWS_ERR_BAD_CONFIG,
               "avgpool running clamp");
        rbad.k_h = 4; /* the window must be every slice */
        expect(kws_avgpool_running_s8(st, 76, &rbad, -128, 127, in, 8, out, 4),
               KWS_ERR_BAD_CONFIG, "avgpool running partial window");
        expect((int)kws_avgpool_running_get_state_size(&rbad), 0,
               "avgpool running state size of a bad shape");
        rbad = rs;
        rbad.pad_left = 2; /* an output column that sees no input */
        expect(kws_avgpool_running_s8(st, 76, &rbad, -128, 127, in, 8, out, 4),
               KWS_ERR_BAD_CONFIG, "avgpool running empty column window");
        st[0] = 5u; /* head out of range: not a state of this shape */
        expect(kws_avgpool_running_s8(st, 76, &rs, -128, 127, in, 8, out, 4),
               KWS_ERR_BAD_CONFIG, "avgpool running corrupt head");
    }

    expect(kws_fully_connected_s8(8, 4, &act, &rq, in, 8, w, 32, b, 4, out, 4), KWS_OK, "fc ok");
    expect(kws_fully_connected_s8(8, 4, &act, &rq, in, 8, w, 31, b, 4, out, 4),
           KWS_ERR_SHORT_BUFFER, "fc short filter");
    expect(kws_fully_connected_s8(8, 4, NULL, &rq, in, 8, w, 32, b, 4, out, 4), KWS_ERR_NULL,
           "fc NULL act");
    expect(kws_fully_connected_s8(0, 4, &act, &rq, in, 8, w, 32, b, 4, out, 4),
           KWS_ERR_BAD_CONFIG, "fc zero inputs");

    expect(kws_softmax_s8(1, 8, 1 << 30, 20, -100, in, 8, out, 8), KWS_OK, "softmax ok");
    expect(kws_softmax_s8(1, 8, 1 << 30, 20, -100, in, 8, out, 7), KWS_ERR_SHORT_BUFFER,
           "softmax short output");
    expect(kws_softmax_s8(1, 8, 1 << 30, 40, -100, in, 8, out, 8), KWS_ERR_BAD_CONFIG,
           "softmax shift");
    expect(kws_softmax_s8(1, 8, 1 << 30, 20, -100, in, 8, in, 8), KWS_OK, "softmax in place");

    expect(kws_reshape_s8(in, 8, out, 7), KWS_ERR_SHORT_BUFFER, "reshape short");
    expect(kws_reshape_s8(NULL, 8, out, 8), KWS_ERR_NULL, "reshape NULL");
    new_kernels();
    printf("%d failures\n", failures);
    return failures != 0;
}
