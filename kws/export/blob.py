"""Field-updatable models: a data-only blob of a model's weights and settings, and the C that
keeps the layer graph and reads those from a validated blob.

- :func:`blob_sections` - the blob's sections for a lowered model, in graph order: per layer
  filter (int8), bias, multipliers, shifts and activation parameters; then labels and the
  detector settings. :func:`fingerprint` hashes what the generated code depends on (kernels,
  shapes, section kinds and lengths, arena), not the values.
- :func:`pack_blob` - the bytes (format in ``firmware/blob/include/kws_blob.h``), optionally
  signed with ECDSA P-256 (``cryptography``).
- :func:`spec_bytes` / :func:`generate_blob_c` - the flat spec the C loader checks a blob
  against, and ``kws_model_blob.c`` / ``kws_model_blob.h``: ``kws_model_builtin``,
  ``kws_model_load`` and ``kws_model_run``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import zlib
from pathlib import Path

import numpy as np

from kws.errors import KwsError
from kws.export.emit import c_array
from kws.export.emit_calls import LayerRefs, emit_layer, shape_decl
from kws.export.lowering import Layer

FORMAT = 1
HEADER_BYTES = 64
SPEC_HEADER_BYTES = 116
KIND = {"int8": 1, "bias": 2, "mult": 3, "shift": 4, "act": 5, "clamp": 6, "softmax": 7,
        "labels": 8, "detector": 9}
MAX_LABEL = 31
MAX_EVERY_HOPS = 64
MAX_REFRACTORY_MS = 60000


@dataclasses.dataclass
class Section:
    """One blob section: kind, spec count and parameters, the data, and which layer/array."""

    kind: str
    count: int
    params: tuple[int, ...]
    data: bytes
    layer: int = -1
    name: str = ""


def _i32(values) -> bytes:
    return np.asarray(values, dtype="<i4").tobytes()


def _weighted(i: int, l: Layer, start: int) -> list[Section]:
    p, a = l.params, l.arrays
    if any(k.startswith("pw_") for k in a):
        raise KwsError("blob export: prepared int16 pointwise weights are not blob data "
                       "(export without --int16-pointwise)")
    out_c = p["out_c"] if l.kernel != "fc" else p["num_out"]
    taps = a["filter"].size // out_c
    secs = [Section("int8", a["filter"].size, (), a["filter"].astype(np.int8).tobytes(), i,
                    "filter")]
    if "bias" in a:
        if l.kernel == "depthwise":      # filter 1 x kh x kw x out_c
            strides = (out_c, 1)
        else:                            # out_c x taps
            strides = (1, taps)
        secs.append(Section("bias", out_c, (start, taps, *strides), _i32(a["bias"]), i, "bias"))
    secs.append(Section("mult", a["multiplier"].size, (), _i32(a["multiplier"]), i,
                        "multiplier"))
    secs.append(Section("shift", a["shift"].size, (), _i32(a["shift"]), i, "shift"))
    secs.append(Section("act", 4, (), _i32([p["input_offset"], p["output_offset"],
                                            p["act_min"], p["act_max"]]), i, "act"))
    return secs


def blob_sections(layers: list[Layer], *, labels: list[str], detector, output_zero_point: int,
                  max_average: int) -> list[Section]:
    """The sections of a model's blob, in the order the generated code binds them."""
    secs: list[Section] = []
    for i, l in enumerate(layers):
        if l.kernel in ("conv2d", "pointwise", "depthwise", "fc"):
            secs += _weighted(i, l, len(secs))
        elif l.kernel in ("avgpool", "maxpool"):
            secs.append(Section("clamp", 2, (), _i32([l.params["act_min"], l.params["act_max"]]),
                                i, "clamp"))
        elif l.kernel == "softmax":
            p = l.params
            secs.append(Section("softmax", 3, (), _i32([p["input_multiplier"],
                                                        p["input_left_shift"],
                                                        p["diff_min"]]), i, "softmax"))
        elif l.kernel != "reshape":
            raise KwsError(f"blob export: kernel {l.kernel!r} has no blob layout")
    for s in labels:
        if not 1 <= len(s) <= MAX_LABEL or not s.isprintable() or '"' in s or "\\" in s:
            raise KwsError(f"blob export: label {s!r} must be 1..{MAX_LABEL} printable "
                           "characters without quotes or backslashes")
    secs.append(Section("labels", len(labels), (MAX_LABEL,),
                        b"".join(s.encode() + b"\0" for s in labels), name="labels"))
    secs.append(Section("detector", len(labels),
                        (MAX_EVERY_HOPS, max_average, MAX_REFRACTORY_MS),
                        _i32([detector.model_every_hops, detector.average_window,
                              detector.refractory_ms, output_zero_point,
                              *detector.thresholds]), name="detector"))
    return secs


_QUANT_KEYS = {"input_offset", "output_offset", "act_min", "act_max", "input_multiplier",
               "input_left_shift", "diff_min"}


def fingerprint(layers: list[Layer], sections: list[Section], arena_size: int) -> bytes:
    """SHA-256 of the layer graph the generated code is made for: kernels, shapes and other
    non-quantization parameters, section kinds and counts, arena size (not the values)."""
    graph = {"layers": [{"kernel": l.kernel,
                         "params": {k: v for k, v in sorted(l.params.items())
                                    if k not in _QUANT_KEYS}} for l in layers],
             "sections": [[s.kind, s.count, list(s.params)] for s in sections],
             "arena": arena_size}
    return hashlib.sha256(json.dumps(graph, sort_keys=True, default=int).encode()).digest()


def pack_blob(sections: list[Section], *, fingerprint: bytes, frontend_hash: int,
              version: int, private_key_pem: bytes | None = None) -> bytes:
    """The blob's bytes (see kws_blob.h), signed when ``private_key_pem`` is given."""
    if not 0 <= version < 2**32:
        raise KwsError(f"blob model version {version}: must be 0..4294967295")
    n = len(sections)
    off = HEADER_BYTES + 12 * n
    table, data = [], b""
    for s in sections:
        pad = (-(off + len(data))) % 4
        data += b"\0" * pad
        table.append(struct.pack("<III", KIND[s.kind], off + len(data), len(s.data)))
        data += s.data
    data += b"\0" * ((-(off + len(data))) % 4)
    body = off + len(data)
    signed = private_key_pem is not None
    total = body + 40 + (64 if signed else 0)
    header = (b"KWSB" + struct.pack("<HHIIII", FORMAT, HEADER_BYTES, total, version,
                                    frontend_hash, n)
              + fingerprint + struct.pack("<II", 1 if signed else 0, body))
    blob = header + b"".join(table) + data
    assert len(blob) == body
    digest = hashlib.sha256(blob).digest()
    blob += struct.pack("<I", zlib.crc32(blob)) + digest
    if signed:
        blob += struct.pack("<I", 64) + sign_digest(digest, private_key_pem)
    else:
        blob += struct.pack("<I", 0)
    return blob


def sign_digest(digest: bytes, private_key_pem: bytes) -> bytes:
    """ECDSA P-256 signature (r || s, 64 bytes) of a SHA-256 digest."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KwsError(f"signing key: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KwsError("signing key: must be an ECDSA P-256 (secp256r1) private key")
    der = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def public_key_point(pem: bytes) -> bytes:
    """The 65-byte uncompressed P-256 point of a PEM public (or private) key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(pem, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise KwsError(f"public key: not a PEM P-256 key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KwsError("public key: must be an ECDSA P-256 (secp256r1) key")
    return key.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def spec_bytes(sections: list[Section], *, fingerprint: bytes, frontend_hash: int,
               version: int, public_key: bytes | None) -> bytes:
    """The flat spec ``kws_blob_validate`` checks a blob against (kws_blob.h)."""
    key = public_key or b""
    head = (fingerprint + struct.pack("<IIII", frontend_hash, version, len(sections), len(key))
            + key.ljust(68, b"\0"))
    assert len(head) == SPEC_HEADER_BYTES
    entries = b"".join(struct.pack("<8I", KIND[s.kind], s.count,
                                   *(list(s.params) + [0] * 6)[:6]) for s in sections)
    return head + entries


_CTYPE = {"int8": "int8_t", "labels": "char"}


def _builtin_arrays(sections: list[Section]) -> str:
    parts = []
    for k, s in enumerate(sections):
        if s.kind == "labels":
            parts.append(f"static const char builtin_s{k}[{len(s.data)}] = "
                         f"{{{', '.join(str(b) for b in s.data)}}};\n")
        elif s.kind == "int8":
            parts.append(c_array("int8_t", f"builtin_s{k}", np.frombuffer(s.data, np.int8)))
        else:
            parts.append("static const int32_t builtin_s%d[%d] __attribute__((aligned(4))) = "
                         "{\n    %s\n};\n" % (k, len(s.data) // 4, ", ".join(
                             str(v) for v in np.frombuffer(s.data, "<i4"))))
    return "".join(parts)


def _run_body(layers: list[Layer], sections: list[Section], refs: LayerRefs) -> str:
    by_layer: dict[int, dict[str, int]] = {}
    for k, s in enumerate(sections):
        if s.layer >= 0:
            by_layer.setdefault(s.layer, {})[s.name] = k
    body = []
    for i, l in enumerate(layers):
        n, sec = f"l{i}", by_layer.get(i, {})
        lines = [f"    /* layer {i}: {l.op} -> {l.kernel} */\n    {{\n"]
        q = dataclasses.replace(l, params=dict(l.params))
        if "filter" in sec:
            lines.append(f"        const int8_t *{n}_filter = (const int8_t *)m->section"
                         f"[{sec['filter']}];\n")
            if "bias" in sec:
                lines.append(f"        const int32_t *{n}_bias = (const int32_t *)m->section"
                             f"[{sec['bias']}];\n")
            lines.append(f"        const int32_t *{n}_a = (const int32_t *)m->section"
                         f"[{sec['act']}];\n"
                         f"        const kws_act_t {n}_act = {{{n}_a[0], {n}_a[1], {n}_a[2], "
                         f"{n}_a[3]}};\n"
                         f"        const kws_requant_t {n}_rq = {{(const int32_t *)m->section"
                         f"[{sec['multiplier']}], (const int32_t *)m->section[{sec['shift']}], "
                         f"{len(l.arrays['multiplier'])}}};\n")
        elif "clamp" in sec:
            lines.append(f"        const int32_t *{n}_c = (const int32_t *)m->section"
                         f"[{sec['clamp']}];\n")
            q.params.update(act_min=f"{n}_c[0]", act_max=f"{n}_c[1]")
        elif "softmax" in sec:
            lines.append(f"        const int32_t *{n}_sm = (const int32_t *)m->section"
                         f"[{sec['softmax']}];\n")
            q.params.update(input_multiplier=f"{n}_sm[0]", input_left_shift=f"{n}_sm[1]",
                            diff_min=f"{n}_sm[2]")
        _, call = emit_layer(q, n, refs)
        lines.append(f"        st = {call};\n    }}\n"
                     "    if (st != KWS_OK) {\n        return st;\n    }\n")
        body.append("".join(lines))
    return "".join(body)


def generate_blob_c(layers: list[Layer], sections: list[Section], refs: LayerRefs, *,
                    spec: bytes, version: int, arena_size: int, num_labels: int,
                    source_name: str) -> tuple[str, str]:
    """Text of ``kws_model_blob.h`` and ``kws_model_blob.c`` (uses ``kws_model.h``)."""
    n = len(sections)
    lab, det = n - 2, n - 1
    signed = struct.unpack_from("<I", spec, 44)[0] != 0     # the spec's key length
    h = f"""/* Generated by `kws export --blob-slot` from {source_name}. Do not edit.
 * The model's layer graph with its weights and settings in a kws_model_t: the built-in ones
 * (kws_model_builtin) or a validated blob's (kws_model_load, kws_blob.h). */
#ifndef KWS_MODEL_BLOB_H
#define KWS_MODEL_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "kws_blob.h"
#include "kws_model.h"

#ifdef __cplusplus
extern "C" {{
#endif

#define KWS_MODEL_BLOB_SECTIONS {n}
#define KWS_MODEL_BUILTIN_VERSION {version}u
/* 1: blobs must carry the vendor's signature (the public key is in the spec). */
#define KWS_BLOB_SIGNED_SPEC {int(signed)}

/* Weights and settings of one model: pointers into flash (built-in or a blob). */
typedef struct {{
    uint32_t version;
    const void *section[KWS_MODEL_BLOB_SECTIONS];
    const char *labels[KWS_MODEL_NUM_LABELS];
    uint16_t model_every_hops, average_window, refractory_ms;
    int16_t output_zero_point;
    uint16_t thresholds[KWS_MODEL_NUM_LABELS];
}} kws_model_t;

/* The spec blobs are validated against (fingerprint, front-end hash, key, sections). */
extern const uint8_t kws_model_blob_spec[];
extern const size_t kws_model_blob_spec_len;

/* The model compiled in. */
void kws_model_builtin(kws_model_t *model);

/* Validate blob[0..len) (kws_blob_validate with this model's spec, the compiled-in public key
 * if any, and model->version as the oldest acceptable version); on KWS_BLOB_OK point *model at
 * the blob's data, else leave *model untouched and return the named error. The blob must stay
 * in place (flash) while the model is used. */
kws_blob_status kws_model_load(const void *blob, size_t len, kws_model_t *model);

/* Caller memory for one load: the validation's view and, when blobs are signed, mbedTLS's
 * scratch for the signature check (free again after the call: the model's arena will do). */
#if KWS_BLOB_SIGNED_SPEC
#define KWS_MODEL_LOAD_WORK_BYTES (sizeof(kws_blob_view) + KWS_BLOB_SCRATCH_BYTES)
#else
#define KWS_MODEL_LOAD_WORK_BYTES (sizeof(kws_blob_view))
#endif

/* kws_model_load with caller memory: work[0..work_len), 8-byte aligned, at least
 * KWS_MODEL_LOAD_WORK_BYTES (else KWS_BLOB_ERR_CRYPTO). kws_model_load is this with a static
 * buffer, compiled unless KWS_MODEL_LOAD_STATIC_WORK is 0. */
kws_blob_status kws_model_load_work(const void *blob, size_t len, kws_model_t *model,
                                    void *work, size_t work_len);

/* kws_model_invoke with the weights of *model. */
kws_status_t kws_model_run(const kws_model_t *model, const int8_t *input, size_t input_len,
                           int8_t *output, size_t output_len, void *arena, size_t arena_len);

#ifdef __cplusplus
}}
#endif
#endif /* KWS_MODEL_BLOB_H */
"""
    spec_words = ", ".join(str(b) for b in spec)
    shapes = "".join(shape_decl(l, f"l{i}") for i, l in enumerate(layers)
                     if l.kernel in ("conv2d", "pointwise", "depthwise", "avgpool", "maxpool"))
    c = f"""/* Generated by `kws export --blob-slot` from {source_name}. Do not edit. */
#include "kws_model_blob.h"

#include <string.h>

const uint8_t kws_model_blob_spec[{len(spec)}] __attribute__((aligned(4))) = {{{spec_words}}};
const size_t kws_model_blob_spec_len = sizeof(kws_model_blob_spec);

{_builtin_arrays(sections)}
static const void *const builtin_sections[KWS_MODEL_BLOB_SECTIONS] = {{
    {", ".join(f"builtin_s{k}" for k in range(n))}}};

{shapes}
static void bind_settings(kws_model_t *m, const uint8_t *labels, const int32_t *det)
{{
    size_t i, at = 0;
    for (i = 0; i < KWS_MODEL_NUM_LABELS; i++) {{
        m->labels[i] = (const char *)labels + at;
        at += strlen((const char *)labels + at) + 1u;   /* NUL-terminated: validated */
    }}
    m->model_every_hops = (uint16_t)det[0];
    m->average_window = (uint16_t)det[1];
    m->refractory_ms = (uint16_t)det[2];
    m->output_zero_point = (int16_t)det[3];
    for (i = 0; i < KWS_MODEL_NUM_LABELS; i++) {{
        m->thresholds[i] = (uint16_t)det[4 + i];
    }}
}}

void kws_model_builtin(kws_model_t *model)
{{
    memcpy(model->section, builtin_sections, sizeof(builtin_sections));
    model->version = KWS_MODEL_BUILTIN_VERSION;
    bind_settings(model, (const uint8_t *)builtin_s{lab}, builtin_s{det});
}}

#if KWS_BLOB_SIGNED_SPEC && !defined(KWS_BLOB_SIGNATURES)
#error "the spec holds a public key: compile with KWS_BLOB_SIGNATURES (and mbedTLS's ECDSA)"
#endif

kws_blob_status kws_model_load_work(const void *blob, size_t len, kws_model_t *model,
                                    void *work, size_t work_len)
{{
    kws_blob_view *view = (kws_blob_view *)work;
    kws_model_t next;
    kws_blob_status st;
    if (model == NULL || work == NULL) {{
        return KWS_BLOB_ERR_NULL;
    }}
    if (work_len < KWS_MODEL_LOAD_WORK_BYTES || ((uintptr_t)work & 7u) != 0u) {{
        return KWS_BLOB_ERR_CRYPTO;
    }}
    st = kws_blob_validate(blob, len, kws_model_blob_spec, kws_model_blob_spec_len,
                           model->version, NULL, 0, view + 1, work_len - sizeof(*view), view);
    if (st != KWS_BLOB_OK) {{
        return st;
    }}
    memcpy(next.section, view->section, sizeof(next.section));
    next.version = view->version;
    bind_settings(&next, view->section[{lab}],
                  (const int32_t *)(const void *)view->section[{det}]);
    *model = next;
    return KWS_BLOB_OK;
}}

#ifndef KWS_MODEL_LOAD_STATIC_WORK
#define KWS_MODEL_LOAD_STATIC_WORK 1
#endif
#if KWS_MODEL_LOAD_STATIC_WORK
kws_blob_status kws_model_load(const void *blob, size_t len, kws_model_t *model)
{{
    /* Only used during the call (the loader's view and mbedTLS's bignums). */
    static uint64_t work[(KWS_MODEL_LOAD_WORK_BYTES + 7) / 8];
    return kws_model_load_work(blob, len, model, work, sizeof(work));
}}
#endif

kws_status_t kws_model_run(const kws_model_t *m, const int8_t *input, size_t input_len,
                           int8_t *output, size_t output_len, void *arena, size_t arena_len)
{{
    int8_t *a = (int8_t *)arena;
    kws_status_t st;
    if (m == NULL || input == NULL || output == NULL || arena == NULL) {{
        return KWS_ERR_NULL;
    }}
    if (input_len < KWS_MODEL_INPUT_SIZE || output_len < KWS_MODEL_OUTPUT_SIZE ||
        arena_len < KWS_MODEL_ARENA_BYTES) {{
        return KWS_ERR_SHORT_BUFFER;
    }}
    (void)a;
{_run_body(layers, sections, refs)}    return KWS_OK;
}}
"""
    return h, c


MAX_AVERAGE = 16     # KWS_DETECT_MAX_WINDOW of a blob-slot firmware


@dataclasses.dataclass
class BlobModel:
    """A RUN's model lowered for blobs: what both the blob and the blob-slot C are made of."""

    path: Path
    layers: list[Layer]
    sections: list[Section]
    fingerprint: bytes
    frontend_hash: int
    refs: LayerRefs
    arena_size: int
    labels: list[str]


def blob_model(run: str | Path) -> BlobModel:
    """Lower the RUN's model (int8 weights everywhere) and lay out its blob sections."""
    from kws.export.arena import plan_arena
    from kws.export.emit import _refs
    from kws.export.lowering import lower
    from kws.export.state import plan_state
    from kws.export.tflite_model import parse_tflite
    from kws.run import SETTINGS, find_settings, model_path, read_labels, read_model
    from kws.simulate import detector_settings_for, load_run_model

    path = model_path(run)
    m = parse_tflite(read_model(path), name=str(path))
    if plan_state(m).stateful:
        raise KwsError(f"{path}: a stateful model (resource variables) cannot be exported as "
                       f"a blob yet; export it as C (kws export)")
    layers = lower(m, prepare=False, prepared_depthwise=False)
    arena = plan_arena(m, layers)
    labels = list(read_labels(path, num_classes=m.tensors[m.outputs[0]].size))
    settings = find_settings(path)
    if settings is None:
        raise KwsError(f"{path.parent / SETTINGS}: missing (a blob records the front end the "
                       f"model was trained on)")
    stream_model = load_run_model(path)
    detector = detector_settings_for(stream_model)
    secs = blob_sections(layers, labels=labels, detector=detector,
                         output_zero_point=stream_model.output_zero_point,
                         max_average=MAX_AVERAGE)
    return BlobModel(path, layers, secs, fingerprint(layers, secs, arena.size),
                     settings.hash(), _refs(m, arena), arena.size, labels)


def export_blob(run: str | Path, out: str | Path, *, version: int,
                sign_key: str | Path | None = None) -> bytes:
    """``kws export RUN --blob FILE [--model-version N] [--sign KEY.pem]``: write the blob."""
    from kws.fileio import write_bytes_atomic

    bm = blob_model(run)
    pem = None
    if sign_key is not None:
        try:
            pem = Path(sign_key).read_bytes()
        except OSError as exc:
            raise KwsError(f"{sign_key}: cannot read: {exc.strerror}") from exc
    blob = pack_blob(bm.sections, fingerprint=bm.fingerprint, frontend_hash=bm.frontend_hash,
                     version=version, private_key_pem=pem)
    write_bytes_atomic(out, blob)
    return blob


def export_blob_c(run: str | Path, out_dir: str | Path, *, version: int,
                  public_key: str | Path | None = None) -> list[Path]:
    """Write ``kws_model.h`` (as ``kws export``), ``kws_model_blob.h`` and ``kws_model_blob.c``
    into ``out_dir``: the graph with the RUN's weights built in (model ``version``) and a
    loader for blobs of the same graph (signed by ``public_key``'s owner, when given)."""
    from kws.export import export_model
    from kws.fileio import write_text_atomic

    bm = blob_model(run)
    key = None
    if public_key is not None:
        try:
            key = public_key_point(Path(public_key).read_bytes())
        except OSError as exc:
            raise KwsError(f"{public_key}: cannot read: {exc.strerror}") from exc
    export_model(bm.path, out_dir, int8_depthwise=True)  # the layout blob data carries
    spec = spec_bytes(bm.sections, fingerprint=bm.fingerprint, frontend_hash=bm.frontend_hash,
                      version=version, public_key=key)
    h, c = generate_blob_c(bm.layers, bm.sections, bm.refs, spec=spec, version=version,
                           arena_size=bm.arena_size, num_labels=len(bm.labels),
                           source_name=bm.path.name)
    out = Path(out_dir)
    write_text_atomic(out / "kws_model_blob.h", h)
    write_text_atomic(out / "kws_model_blob.c", c)
    return [out / "kws_model.h", out / "kws_model_blob.h", out / "kws_model_blob.c"]
