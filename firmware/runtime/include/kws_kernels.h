/*
 * kws_kernels.h - the int8 kernel interface (TFLite int8 semantics).
 *
 * Narrow on purpose: every kernel takes a shape struct, the quantization of its activations,
 * per-channel requantization (multiplier, shift), and buffers with their lengths. A backend
 * (portable C, the Cortex-M4 DSP path in this folder, or a future CMSIS-NN wrapper) implements
 * exactly these functions. Layout is NHWC with batch 1; filters are OHWI for conv2d and
 * 1HWO for depthwise, as in .tflite files.
 *
 * Arithmetic, for every output value (TFLite reference_integer_ops):
 *   acc = bias[c] + sum over valid taps (x + input_offset) * w        (int32)
 *   y   = clamp(kws_requantize(acc, multiplier[c], shift[c]) + output_offset, act_min, act_max)
 * Taps outside the input (padding) contribute nothing.
 */
#ifndef KWS_KERNELS_H
#define KWS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* kws_status_t (= kws_status): the kernels return KWS_OK, KWS_ERR_NULL, KWS_ERR_SHORT_BUFFER
 * (a buffer shorter than the shape needs) or KWS_ERR_BAD_CONFIG (shape or quantization
 * parameters out of range); see common/include/kws_status.h. */

/* Activation quantization of one layer. */
typedef struct {
    int32_t input_offset;  /* -(input zero point), in -127..128 */
    int32_t output_offset; /* output zero point, in -128..127 */
    int32_t act_min;       /* fused ReLU / ReLU6 clamp, in output int8 units */
    int32_t act_max;
} kws_act_t;

/* Requantization: per output channel (num = channels) or per tensor (num = 1). */
typedef struct {
    const int32_t *multiplier; /* Q0.31, in [2^30, 2^31) or 0 */
    const int32_t *shift;      /* power of two: > 0 left, < 0 right; in -31..30 */
    int32_t num;
} kws_requant_t;

/* Geometry of conv2d, depthwise conv2d and average pool. */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;  /* TFLite SAME/VALID padding, resolved by the exporter */
    int32_t depth_multiplier;   /* depthwise only: out_c = in_c * depth_multiplier */
} kws_conv_shape_t;

/* Scratch: conv2d, pointwise and depthwise take a caller-owned scratch buffer of the size their
 * *_get_buffer_size returns (0 on the portable path and for shapes whose DSP path needs none;
 * scratch may then be NULL), 4-byte aligned; `kws export` places it in the arena (planner).
 * The DSP paths return KWS_ERR_NULL / KWS_ERR_SHORT_BUFFER for a missing or short one. */

/* Scratch (bytes) that kws_conv2d_s8 needs: two filter rows widened to int16 and a block of
 * int8 im2col columns on the DSP path; 0 on the portable path. */
size_t kws_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape);

/* The least scratch kws_conv2d_s8 accepts: 0. Any length up to kws_conv2d_s8_get_buffer_size
 * works: fewer pixels per im2col block when shorter (the filter rows are widened once per
 * block: a little slower), and with less than the widened rows and two im2col columns (or
 * scratch NULL) the scratch-free direct path (slower again); bit for bit the same output. */
size_t kws_conv2d_s8_get_min_buffer_size(const kws_conv_shape_t *shape);

/* Conv2d (any kernel, stride, padding). filter: out_c x k_h x k_w x in_c. */
kws_status_t kws_conv2d_s8(const kws_conv_shape_t *shape, const kws_act_t *act,
                           const kws_requant_t *rq,
                           const int8_t *input, size_t input_len,
                           const int8_t *filter, size_t filter_len,
                           const int32_t *bias, size_t bias_len,
                           int8_t *output, size_t output_len,
                           void *scratch, size_t scratch_len);

/* Scratch (bytes) that kws_pointwise_conv_s8 prefers: two filter rows widened to int16 on the
 * DSP path (4 * (in_c rounded down to a multiple of 4)), 0 on the portable path. With less
 * (or scratch NULL) the DSP path runs without scratch, slower, bit for bit the same output. */
size_t kws_pointwise_conv_s8_get_buffer_size(const kws_conv_shape_t *shape);

/* 1x1 conv, stride 1, no padding: out[p][o] = f(sum_i in[p][i] * w[o][i]). scratch: 4-byte
 * aligned (NULL allowed when the size is 0). */
kws_status_t kws_pointwise_conv_s8(const kws_conv_shape_t *shape, const kws_act_t *act,
                                   const kws_requant_t *rq,
                                   const int8_t *input, size_t input_len,
                                   const int8_t *filter, size_t filter_len,
                                   const int32_t *bias, size_t bias_len,
                                   int8_t *output, size_t output_len,
                                   void *scratch, size_t scratch_len);

/* Output pixels at the end of a pointwise layer's output that hold its widened filter rows
 * (kws_pointwise_conv_s8_get_buffer_size bytes, from the first 4-byte boundary at or after
 * their start) while kws_pointwise_conv_s8_reusing computes the others; 0 where the rows do
 * not fit there, or the input's other pixels cannot hold those last pixels widened to int16
 * (or there are no rows). */
int32_t kws_pointwise_conv_s8_reuse_pixels(const kws_conv_shape_t *shape);

/* kws_pointwise_conv_s8 on an input read here for the last time, with no scratch of its own
 * and the speed of the widened rows: they live in the output's last
 * kws_pointwise_conv_s8_reuse_pixels pixels while the other pixels are computed, then those
 * last pixels' inputs are widened into the input's first bytes (read by then) and run against
 * the filter widened as it is read. The input is overwritten (input and output must not
 * overlap).
 * Where that count is 0 or input / output are not 4-byte aligned, the scratch-free path; the
 * output is the same bit for bit either way. */
kws_status_t kws_pointwise_conv_s8_reusing(const kws_conv_shape_t *shape, const kws_act_t *act,
                                           const kws_requant_t *rq,
                                           int8_t *input, size_t input_len,
                                           const int8_t *filter, size_t filter_len,
                                           const int32_t *bias, size_t bias_len,
                                           int8_t *output, size_t output_len);

/* Pointwise weights prepared by `kws export` (kws/export/codegen.py) for the fast exact
 * requantization, where it proves it applies: every channel's TFLite shift in -22..-1, the
 * activation range all of int8, and |bias| + 255 * sum|w| < 2^30 (so 2 * acc fits int32).
 * Output channels are taken in pairs (out_c rounded up to even: a padding channel has zero
 * weights) and input channels in groups of four (in_c4 = in_c rounded up to a multiple of
 * four: zero weights). */
typedef struct {
    const uint32_t *filter; /* int16 pairs (low half first) per pair of channels, per group of
                               four inputs i: channel o's (2 w[i], 2 w[i+2]),
                               (2 w[i+1], 2 w[i+3]), then channel o+1's; out_c2 * in_c4 / 2
                               words */
    size_t filter_len;      /* words */
    const int32_t *bias;    /* per channel: 2 * (bias + input_offset * sum(w)) (Q of acc, x2);
                               out_c2 values */
    size_t bias_len;
    const int32_t *rqf;     /* per channel: multiplier (Q0.31), 2^(r-1) + output_offset * 2^r,
                               r (the TFLite right shift); 3 * out_c2 values */
    size_t rqf_len;
    int32_t in_c4;
} kws_pw_prepared_t;

/* Scratch (bytes) that kws_pointwise_conv_s8_prepared needs: two input pixels widened to int16
 * on the DSP path (4 * in_c4), 0 on the portable path. */
size_t kws_pointwise_conv_s8_prepared_get_buffer_size(const kws_conv_shape_t *shape);

/* kws_pointwise_conv_s8 with prepared weights (no int8 filter and bias: the portable path
 * computes acc = (bias + sum(2 w (x + input_offset))) / 2 from them and requantizes with rq as
 * TFLite does; the DSP path per four inputs of two pixels and two channels: 4 LDRD + 8 SMLAD).
 * KWS_ERR_BAD_CONFIG if the activation range is not all of int8 or in_c4 does not match,
 * KWS_ERR_SHORT_BUFFER if a prepared array is shorter than the shape needs. */
kws_status_t kws_pointwise_conv_s8_prepared(const kws_conv_shape_t *shape, const kws_act_t *act,
                                            const kws_requant_t *rq,
                                            const kws_pw_prepared_t *prep,
                                            const int8_t *input, size_t input_len,
                                            int8_t *output, size_t output_len,
                                            void *scratch, size_t scratch_len);

/* Scratch (bytes) that kws_depthwise_conv2d_s8 needs for this shape: one int16 plane with its
 * padding on the DSP path's 3 x 3 stride-1 shapes, else 0 (scratch may then be NULL). */
size_t kws_depthwise_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape);

/* Depthwise conv2d. filter: k_h x k_w x out_c. scratch: 4-byte aligned. */
kws_status_t kws_depthwise_conv2d_s8(const kws_conv_shape_t *shape, const kws_act_t *act,
                                     const kws_requant_t *rq,
                                     const int8_t *input, size_t input_len,
                                     const int8_t *filter, size_t filter_len,
                                     const int32_t *bias, size_t bias_len,
                                     int8_t *output, size_t output_len,
                                     void *scratch, size_t scratch_len);

/* Depthwise weights prepared by `kws export` (kws/export/lowering/depthwise_prep.py) for the
 * fast exact requantization, where it proves it applies: depth_multiplier 1, 2 or a multiple
 * of 4 (a group of four channels reads four input channels, two, or one), every channel's
 * TFLite shift in -22..-1, the activation range all of int8, and |bias| + 255 * sum|w| < 2^30
 * (so 2 * acc fits int32). Channels are taken in groups of four (out_c4 = out_c rounded up to
 * a multiple of four; a padding channel has zero weights). The input offset is folded into the
 * bias; a tap in the padding reads -input_offset (so that x + input_offset = 0 there). One
 * array, in the order the DSP loop reads it, per group of four channels c..c+3:
 *   4 words   2 * (bias + input_offset * sum(w)) of each channel (Q of acc, x2)
 *   2 * taps  per tap t (k_h x k_w, row major) the int16 pairs (2 w[t][c], 2 w[t][c+2]),
 *             (2 w[t][c+1], 2 w[t][c+3]), low half first
 *   12 words  per channel the multiplier (Q0.31), 2^(r-1) + output_offset * 2^r and r (the
 *             TFLite right shift)
 * then, for a three-tap (1, 3) stride-1 layer (or (3, 1) on a one-column map) with depth
 * multiplier 1 and out_c a multiple of 4, optionally the pair section the DSP path reads when
 * it is there (data_len counts it): per channel 2 b, 2 b (the folded doubled bias twice), the
 * int16 pairs (2 w0, 2 w1) and (2 w1, 2 w2), m, k, r (7 words). */
typedef struct {
    const int32_t *data; /* (16 + 2 * taps) * out_c4 / 4 values (+ 7 * out_c) */
    size_t data_len;
} kws_dw_prepared_t;

/* kws_depthwise_conv2d_s8 with prepared weights and no scratch: any kernel, stride and
 * padding, depth_multiplier 1, 2 or a multiple of 4; the prepared data holds the
 * requantization (no kws_requant_t). The portable path computes acc = (prepared bias +
 * sum(x' * 2 w)) / 2, x' = x inside the input and -input_offset in the padding, and
 * kws_requantize(acc, m, -r) as TFLite does; the DSP path per tap and four channels one LDR,
 * two SXTB16, four SMLAxy on the doubled int16 weights, then per output SMMLAR, ADD, ASR,
 * SSAT. KWS_ERR_BAD_CONFIG if depth_multiplier is not 1, 2 or a multiple of 4,
 * the activation range is not all of int8, or a requantization the portable arithmetic reads
 * has m < 0 or r outside 1..31; KWS_ERR_SHORT_BUFFER if the prepared array is shorter than
 * the shape needs. */
kws_status_t kws_depthwise_conv2d_s8_prepared(const kws_conv_shape_t *shape,
                                              const kws_act_t *act,
                                              const kws_dw_prepared_t *prep,
                                              const int8_t *input, size_t input_len,
                                              int8_t *output, size_t output_len);

/* Average pool (input and output share scale and zero point); uses k_*, stride_*, pad_*. */
kws_status_t kws_avgpool_s8(const kws_conv_shape_t *shape, int32_t act_min, int32_t act_max,
                            const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len);

/* Running average pool along time, for a streaming step: the same output as kws_avgpool_s8 on
 * the last k = shape->in_h time slices (the pool's window is all of them: k_h == in_h,
 * out_h == 1, pad_top == 0, stride_h == 1; any k_w, stride_w, pad_left), computed from the
 * newest slice (in_w * in_c int8) and a state instead of re-summing k slices: a uint32 head
 * (the ring slot of the oldest slice), in_w * in_c int32 sums of the ring's slices, and the
 * ring of k slices. A zeroed state is a window of k zero slices, as a zero-filled buffer is.
 * Each call adds the newest slice to the sums, subtracts the slice it replaces in the ring and
 * writes out_w * in_c averages (TFLite's rounding). state: 4-byte aligned, at least
 * kws_avgpool_running_get_state_size bytes. */
size_t kws_avgpool_running_get_state_size(const kws_conv_shape_t *shape);
kws_status_t kws_avgpool_running_s8(void *state, size_t state_len, const kws_conv_shape_t *shape,
                                    int32_t act_min, int32_t act_max,
                                    const int8_t *newest, size_t newest_len,
                                    int8_t *output, size_t output_len);

/* Fully connected: out[o] = f(sum_i in[i] * w[o][i]), filter num_out x num_in, batch 1. */
kws_status_t kws_fully_connected_s8(int32_t num_in, int32_t num_out, const kws_act_t *act,
                                    const kws_requant_t *rq,
                                    const int8_t *input, size_t input_len,
                                    const int8_t *filter, size_t filter_len,
                                    const int32_t *bias, size_t bias_len,
                                    int8_t *output, size_t output_len);

/* Softmax over the last axis (rows x depth), int8 out with scale 1/256, zero point -128.
 * input_multiplier/input_left_shift/diff_min as TFLite's PreprocessSoftmaxScaling and
 * CalculateInputRadius compute them (exporter). In place (input == output) is allowed. */
kws_status_t kws_softmax_s8(int32_t rows, int32_t depth, int32_t input_multiplier,
                            int32_t input_left_shift, int32_t diff_min,
                            const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len);

/* Reshape: a copy (memmove, so overlapping or identical buffers are fine). */
kws_status_t kws_reshape_s8(const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len);

/* ---- Tensor-shape ops and element-wise ops (rank <= 4, shapes padded with leading 1s) ---- */

/* A shape of rank <= 4 in NHWC order, padded with leading 1s by the exporter. */
typedef struct {
    int32_t d[4];
} kws_dims4_t;

/* ADD (TFLite int8 semantics): each input's (x + offset) << left_shift is rescaled to a common
 * scale (multiplier, shift <= 0), the sum is rescaled to the output scale, plus the output
 * offset, clamped to [act_min, act_max]. Parameters as TFLite's Prepare computes them. */
typedef struct {
    int32_t input1_offset, input2_offset, output_offset; /* -zp1, -zp2, zp_out */
    int32_t left_shift;                                   /* 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} kws_add_params_t;

/* Entries of kws_add_s8's tables: 256 per input (int8 value v at index v + 128), input 1's
 * then input 2's. */
#define KWS_ADD_TABLES_LEN 512

/* The DSP path's tables of an ADD: entry v + 128 of input k's half is
 * 2 * kws_requantize((v + input_k_offset) << left_shift, input_k_multiplier, input_k_shift)
 * (the rescaled input, doubled). The exporter computes them ahead of time into const data (its
 * Python mirror: kws.export.lowering.elementwise.add_tables); this builds them in a caller's
 * buffer of tables_len >= KWS_ADD_TABLES_LEN int32. */
kws_status_t kws_add_s8_tables(const kws_add_params_t *params, int32_t *tables,
                               size_t tables_len);

/* out = in1 + in2 with broadcasting: every dimension of in1_dims / in2_dims is 1 or equal to
 * out_dims'. tables: NULL (tables_len 0), or KWS_ADD_TABLES_LEN int32 from kws_add_s8_tables
 * with the same params (const, e.g. in flash): the DSP path then takes two table loads, an add
 * and one requantization per output; the portable path ignores them. No scratch. */
kws_status_t kws_add_s8(const kws_add_params_t *params, const kws_dims4_t *out_dims,
                        const kws_dims4_t *in1_dims, const int8_t *in1, size_t in1_len,
                        const kws_dims4_t *in2_dims, const int8_t *in2, size_t in2_len,
                        int8_t *output, size_t output_len, const int32_t *tables,
                        size_t tables_len);

/* MUL (TFLite int8 semantics): ((x1 + offset1) * (x2 + offset2)) requantized by (multiplier,
 * shift) plus the output offset, clamped to [act_min, act_max]. */
typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} kws_mul_params_t;

/* out = in1 * in2 with broadcasting (as kws_add_s8). */
kws_status_t kws_mul_s8(const kws_mul_params_t *params, const kws_dims4_t *out_dims,
                        const kws_dims4_t *in1_dims, const int8_t *in1, size_t in1_len,
                        const kws_dims4_t *in2_dims, const int8_t *in2, size_t in2_len,
                        int8_t *output, size_t output_len);

/* MEAN over the dimensions whose bit is set in axis_mask (bit i: dimension i of in_dims),
 * TFLite's integer QuantizedMeanOrSum: sum - input_zero_point * count, requantized by
 * (multiplier, shift) (the exporter folds 1 / count into them), plus output_zero_point,
 * saturated to int8. The output holds the kept dimensions in order (keep_dims or not). */
typedef struct {
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
} kws_mean_params_t;

kws_status_t kws_mean_s8(const kws_mean_params_t *params, const kws_dims4_t *in_dims,
                         uint32_t axis_mask, const int8_t *input, size_t input_len,
                         int8_t *output, size_t output_len);

/* MAX_POOL_2D: the maximum over the window's taps inside the input, clamped to
 * [act_min, act_max] (input and output share their quantization). */
kws_status_t kws_maxpool_s8(const kws_conv_shape_t *shape, int32_t act_min, int32_t act_max,
                            const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len);

/* CONCATENATION of num_inputs tensors with the same quantization: for each of `outer` rows,
 * input i contributes sizes[i] bytes (its axis length times the inner size). */
kws_status_t kws_concat_s8(int32_t outer, int32_t num_inputs, const int8_t *const *inputs,
                           const size_t *input_lens, const int32_t *sizes,
                           int8_t *output, size_t output_len);

/* SPLIT / SPLIT_V: the inverse of kws_concat_s8; output i gets sizes[i] bytes of each of the
 * `outer` rows of the input. */
kws_status_t kws_split_s8(int32_t outer, const int8_t *input, size_t input_len,
                          int32_t num_outputs, int8_t *const *outputs,
                          const size_t *output_lens, const int32_t *sizes);

/* PAD / PADV2: out_dims = before + in_dims + after per dimension, the border filled with
 * pad_value (the output zero point, or PADV2's quantized constant). */
kws_status_t kws_pad_s8(const kws_dims4_t *in_dims, const kws_dims4_t *before,
                        const kws_dims4_t *after, int8_t pad_value,
                        const int8_t *input, size_t input_len,
                        int8_t *output, size_t output_len);

/* STRIDED_SLICE (begin / end / strides resolved by the exporter): out[i] =
 * in[start + i * stride] per dimension, i < out_dims (strides may be negative). */
kws_status_t kws_strided_slice_s8(const kws_dims4_t *in_dims, const kws_dims4_t *start,
                                  const kws_dims4_t *stride, const kws_dims4_t *out_dims,
                                  const int8_t *input, size_t input_len,
                                  int8_t *output, size_t output_len);

/* A 256-entry table per int8 value: out[i] = table[in[i] + 128]. LOGISTIC's table is TFLite's
 * integer arithmetic evaluated by the exporter on every int8 input. */
kws_status_t kws_lut_s8(const int8_t *table, size_t table_len,
                        const int8_t *input, size_t input_len,
                        int8_t *output, size_t output_len);

/* QUANTIZE between int8 and uint8 tensors (TFLite Requantize): requantize(x -
 * input_zero_point, multiplier, shift) + output_zero_point, saturated to the output type;
 * each zero point in its tensor's range. s8: int8 -> int8; s8_u8: int8 -> uint8; u8_s8:
 * uint8 -> int8. */
kws_status_t kws_requantize_s8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                               int32_t output_zero_point, const int8_t *input,
                               size_t input_len, int8_t *output, size_t output_len);
kws_status_t kws_requantize_s8_u8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                                  int32_t output_zero_point, const int8_t *input,
                                  size_t input_len, uint8_t *output, size_t output_len);
kws_status_t kws_requantize_u8_s8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                                  int32_t output_zero_point, const uint8_t *input,
                                  size_t input_len, int8_t *output, size_t output_len);

#ifdef __cplusplus
}
#endif

#endif /* KWS_KERNELS_H */
