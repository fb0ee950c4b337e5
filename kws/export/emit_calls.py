"""The C call of each kernel: its parameter structs and the call expression.

Every emitter takes the layer, its C name prefix (``l<i>``) and :class:`LayerRefs` (how to
name a tensor's buffer and the layer's scratch) and returns (declarations, call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from kws.export.lowering import Layer

#: Layer array -> C element type, in the order the arrays are written.
ARRAY_TYPES = (("filter", "int8_t"), ("bias", "int32_t"), ("multiplier", "int32_t"),
               ("shift", "int32_t"), ("pw_filter", "uint32_t"), ("pw_bias", "int32_t"),
               ("pw_rqf", "int32_t"), ("dw_data", "int32_t"), ("table", "int8_t"),
               ("add_tables", "int32_t"))


@dataclasses.dataclass
class LayerRefs:
    """How the emitters name buffers: ``tensor(t)`` -> (C expression, elements);
    ``scratch(layer)`` -> "pointer, bytes" of the layer's scratch (``NULL, 0`` if none)."""

    tensor: Callable[[int], tuple[str, int]]
    scratch: Callable[[Layer], str]


def shape_decl(l: Layer, n: str) -> str:
    """``static const kws_conv_shape_t <n>_shape`` of a conv / depthwise / pool layer."""
    p = l.params
    return (f"static const kws_conv_shape_t {n}_shape = {{{p['in_h']}, {p['in_w']}, "
            f"{p['in_c']}, {p['out_h']}, {p['out_w']}, {p['out_c']}, {p['k_h']}, {p['k_w']}, "
            f"{p['stride_h']}, {p['stride_w']}, {p['pad_top']}, {p['pad_left']}, "
            f"{p['depth_multiplier']}}};\n")


def _act_rq_decls(l: Layer, n: str) -> str:
    p = l.params
    return (f"static const kws_act_t {n}_act = {{{p['input_offset']}, "
            f"{p['output_offset']}, {p['act_min']}, {p['act_max']}}};\n"
            f"static const kws_requant_t {n}_rq = {{{n}_multiplier, {n}_shift, "
            f"{len(l.arrays['multiplier'])}}};\n")


def _weighted_args(l: Layer, n: str, refs: LayerRefs) -> str:
    """input, filter, bias, output arguments of the conv / fc kernels."""
    src, src_len = refs.tensor(l.input)
    dst, dst_len = refs.tensor(l.output)
    bias = f"{n}_bias, {len(l.arrays['bias'])}" if "bias" in l.arrays else "NULL, 0"
    return (f"{src}, {src_len}, {n}_filter, {len(l.arrays['filter'])}, {bias}, "
            f"{dst}, {dst_len}")


def _io_args(l: Layer, refs: LayerRefs) -> str:
    src, src_len = refs.tensor(l.input)
    dst, dst_len = refs.tensor(l.output)
    return f"{src}, {src_len}, {dst}, {dst_len}"


def _conv(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    fn = {"conv2d": "kws_conv2d_s8", "pointwise": "kws_pointwise_conv_s8",
          "depthwise": "kws_depthwise_conv2d_s8"}[l.kernel]
    if l.kernel == "depthwise" and "dw_data" in l.arrays:  # requantization in the data
        p = l.params
        decls = shape_decl(l, n) + (
            f"static const kws_act_t {n}_act = {{{p['input_offset']}, {p['output_offset']}, "
            f"{p['act_min']}, {p['act_max']}}};\n"
            f"static const kws_dw_prepared_t {n}_prep = {{{n}_dw_data, "
            f"{len(l.arrays['dw_data'])}}};\n")
        return decls, (f"kws_depthwise_conv2d_s8_prepared(&{n}_shape, &{n}_act, &{n}_prep, "
                       f"{_io_args(l, refs)})")
    decls = shape_decl(l, n) + _act_rq_decls(l, n)
    if l.kernel == "pointwise" and "pw_filter" in l.arrays:
        p, a = l.params, l.arrays
        decls += (f"static const kws_pw_prepared_t {n}_prep = {{{n}_pw_filter, "
                  f"{len(a['pw_filter'])}, {n}_pw_bias, {len(a['pw_bias'])}, {n}_pw_rqf, "
                  f"{len(a['pw_rqf'])}, {p['in_c4']}}};\n")
        return decls, (f"kws_pointwise_conv_s8_prepared(&{n}_shape, &{n}_act, &{n}_rq, "
                       f"&{n}_prep, {_io_args(l, refs)}, {refs.scratch(l)})")
    if l.reuse_input:  # the planner's choice: the input dies here (kws.export.arena)
        return decls, (f"kws_pointwise_conv_s8_reusing(&{n}_shape, &{n}_act, &{n}_rq, "
                       f"{_weighted_args(l, n, refs)})")
    return decls, (f"{fn}(&{n}_shape, &{n}_act, &{n}_rq, {_weighted_args(l, n, refs)}, "
                   f"{refs.scratch(l)})")


def _fc(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    return _act_rq_decls(l, n), (f"kws_fully_connected_s8({p['num_in']}, {p['num_out']}, "
                                 f"&{n}_act, &{n}_rq, {_weighted_args(l, n, refs)})")


def _avgpool(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    return shape_decl(l, n), (f"kws_avgpool_s8(&{n}_shape, {p['act_min']}, {p['act_max']}, "
                               f"{_io_args(l, refs)})")


def _softmax(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    return "", (f"kws_softmax_s8({p['rows']}, {p['depth']}, {p['input_multiplier']}, "
                f"{p['input_left_shift']}, {p['diff_min']}, {_io_args(l, refs)})")


def _reshape(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    return "", f"kws_reshape_s8({_io_args(l, refs)})"


def _dims(name: str, d: tuple[int, ...]) -> str:
    return f"static const kws_dims4_t {name} = {{{{{', '.join(str(v) for v in d)}}}}};\n"


def _tensor_args(refs: LayerRefs, t: int) -> str:
    ptr, n = refs.tensor(t)
    return f"{ptr}, {n}"


def _binary(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    decls = (_dims(f"{n}_out", p["out_dims"]) + _dims(f"{n}_in1", p["in1_dims"])
             + _dims(f"{n}_in2", p["in2_dims"]))
    if l.kernel == "add":
        decls += (f"static const kws_add_params_t {n}_p = {{{p['input1_offset']}, "
                  f"{p['input2_offset']}, {p['output_offset']}, {p['left_shift']}, "
                  f"{p['input1_multiplier']}, {p['input1_shift']}, {p['input2_multiplier']}, "
                  f"{p['input2_shift']}, {p['output_multiplier']}, {p['output_shift']}, "
                  f"{p['act_min']}, {p['act_max']}}};\n")
        tables = l.arrays.get("add_tables")
        tail = f", {n}_add_tables, {tables.size}" if tables is not None else ", NULL, 0"
    else:
        decls += (f"static const kws_mul_params_t {n}_p = {{{p['input1_offset']}, "
                  f"{p['input2_offset']}, {p['output_offset']}, {p['multiplier']}, "
                  f"{p['shift']}, {p['act_min']}, {p['act_max']}}};\n")
        tail = ""
    return decls, (f"kws_{l.kernel}_s8(&{n}_p, &{n}_out, &{n}_in1, "
                   f"{_tensor_args(refs, l.inputs[0])}, &{n}_in2, "
                   f"{_tensor_args(refs, l.inputs[1])}, {_tensor_args(refs, l.output)}{tail})")


def _mean(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    decls = (_dims(f"{n}_in", p["in_dims"])
             + f"static const kws_mean_params_t {n}_p = {{{p['input_zero_point']}, "
               f"{p['output_zero_point']}, {p['multiplier']}, {p['shift']}}};\n")
    return decls, (f"kws_mean_s8(&{n}_p, &{n}_in, {p['axis_mask']}u, {_io_args(l, refs)})")


def _maxpool(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    return shape_decl(l, n), (f"kws_maxpool_s8(&{n}_shape, {p['act_min']}, {p['act_max']}, "
                               f"{_io_args(l, refs)})")


def _pieces(refs: LayerRefs, tensors: list[int], const: bool) -> tuple[str, str]:
    """Compound literals of the pointers and lengths of ``tensors``."""
    ptrs = ", ".join(refs.tensor(t)[0] for t in tensors)
    lens = ", ".join(str(refs.tensor(t)[1]) for t in tensors)
    qual = "const int8_t *const" if const else "int8_t *const"
    return f"({qual}[]){{{ptrs}}}", f"(const size_t[]){{{lens}}}"


def _concat(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    sizes = ", ".join(str(v) for v in l.params["sizes"])
    decls = f"static const int32_t {n}_sizes[{len(l.params['sizes'])}] = {{{sizes}}};\n"
    ptrs, lens = _pieces(refs, l.inputs, True)
    return decls, (f"kws_concat_s8({l.params['outer']}, {len(l.inputs)}, {ptrs}, {lens}, "
                   f"{n}_sizes, {_tensor_args(refs, l.output)})")


def _split(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    sizes = ", ".join(str(v) for v in l.params["sizes"])
    decls = f"static const int32_t {n}_sizes[{len(l.params['sizes'])}] = {{{sizes}}};\n"
    ptrs, lens = _pieces(refs, l.outputs, False)
    return decls, (f"kws_split_s8({l.params['outer']}, {_tensor_args(refs, l.input)}, "
                   f"{len(l.outputs)}, {ptrs}, {lens}, {n}_sizes)")


def _pad(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    decls = (_dims(f"{n}_in", p["in_dims"]) + _dims(f"{n}_before", p["before"])
             + _dims(f"{n}_after", p["after"]))
    return decls, (f"kws_pad_s8(&{n}_in, &{n}_before, &{n}_after, {p['pad_value']}, "
                   f"{_io_args(l, refs)})")


def _strided_slice(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    decls = (_dims(f"{n}_in", p["in_dims"]) + _dims(f"{n}_start", p["start"])
             + _dims(f"{n}_stride", p["stride"]) + _dims(f"{n}_out", p["out_dims"]))
    return decls, (f"kws_strided_slice_s8(&{n}_in, &{n}_start, &{n}_stride, &{n}_out, "
                   f"{_io_args(l, refs)})")


def _lut(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    return "", f"kws_lut_s8({n}_table, 256, {_io_args(l, refs)})"


def _requantize(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    p = l.params
    src, src_len = refs.tensor(l.input)
    dst, dst_len = refs.tensor(l.output)
    variant = p.get("variant", "s8")
    if variant == "s8_u8":          # arena and I/O pointers are int8_t *; the bytes are uint8
        dst = f"(uint8_t *){dst}"
    elif variant == "u8_s8":
        src = f"(const uint8_t *){src}"
    return "", (f"kws_requantize_{variant}({p['input_zero_point']}, {p['multiplier']}, "
                f"{p['shift']}, {p['output_zero_point']}, {src}, {src_len}, {dst}, {dst_len})")


#: Kernel -> emitter(layer, name, refs) -> (declarations, call).
EMITTERS: dict[str, Callable[[Layer, str, LayerRefs], tuple[str, str]]] = {
    "conv2d": _conv, "pointwise": _conv, "depthwise": _conv, "fc": _fc,
    "avgpool": _avgpool, "softmax": _softmax, "reshape": _reshape, "add": _binary,
    "mul": _binary, "mean": _mean, "maxpool": _maxpool, "concat": _concat, "split": _split,
    "pad": _pad, "strided_slice": _strided_slice, "lut": _lut, "requantize": _requantize,
}


def emit_layer(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    """(declarations, call expression) of layer ``l`` named ``n``."""
    return EMITTERS[l.kernel](l, n, refs)
