"""C emission of a model's state: the state region, ``kws_model_init`` / ``kws_model_reset``,
and the CALL_ONCE / READ_VARIABLE / ASSIGN_VARIABLE calls (semantics: :mod:`kws.export.state`).

The state region is the first ``KWS_MODEL_STATE_BYTES`` of the arena: a flag word (the init
subgraph is pending / has run), then each variable's buffer (4-aligned). Every model, stateful
or not, gets both functions, so a caller can treat all models alike.
"""

from __future__ import annotations

from kws.export.emit_calls import LayerRefs
from kws.export.lowering import Layer
from kws.export.state import FLAG_BYTES, STATE_PENDING, STATE_READY, StatePlan


def header_defines(state: StatePlan | None) -> str:
    """``#define KWS_MODEL_STATE_BYTES`` and the variable count, with their contract."""
    size = state.size if state is not None else 0
    count = len(state.variables) if state is not None else 0
    return f"""/* Bytes at the start of the arena that hold the model's state between calls (resource
 * variables, e.g. streaming ring buffers; 0: the model keeps no state). A stateful model needs
 * the same arena at every call, not shared with anything else, and kws_model_init() once
 * before the first call. */
#define KWS_MODEL_STATE_BYTES {size}
#define KWS_MODEL_NUM_VARIABLES {count}
"""


HEADER_PROTOTYPES = """/* Put the state in the arena as a new TFLite Micro interpreter has it: every variable at its
 * default value (its zero point), the model's CALL_ONCE init subgraph to run at the next call.
 * Call once before the first kws_model_invoke. */
kws_status_t kws_model_init(void *arena, size_t arena_len);

/* TFLite Micro's MicroInterpreter::Reset(): every variable back to its default value (its zero
 * point); the init subgraph does not run again. */
kws_status_t kws_model_reset(void *arena, size_t arena_len);
"""


def _fill_calls(state: StatePlan) -> str:
    return "".join(f"    memset(a + {v.offset}, {v.default}, {v.nbytes});\n"
                   for v in state.variables)


def source(state: StatePlan | None) -> str:
    """Init values, the flag helpers, ``kws_model_init``, ``kws_model_reset`` and the
    CALL_ONCE function of ``kws_model.c``."""
    check = """    if (arena == NULL) {
        return KWS_ERR_NULL;
    }
    if (arena_len < KWS_MODEL_ARENA_BYTES) {
        return KWS_ERR_SHORT_BUFFER;
    }
"""
    if state is None or not state.stateful:
        stub = """(void *arena, size_t arena_len)
{
    (void)arena;
    (void)arena_len;
    return KWS_OK;
}
"""
        return f"kws_status_t kws_model_init{stub}\nkws_status_t kws_model_reset{stub}\n"
    parts = ["#include <string.h>\n\n/* The state region's flag word: init subgraph pending / done. */\n"
             f"#define KWS_STATE_PENDING 0x{STATE_PENDING:08x}u\n"
             f"#define KWS_STATE_READY 0x{STATE_READY:08x}u\n\n"
             "static uint32_t kws_state_flag(const int8_t *a)\n{\n    uint32_t f;\n"
             f"    memcpy(&f, a, {FLAG_BYTES});\n    return f;\n}}\n\n"
             "static void kws_state_set_flag(int8_t *a, uint32_t f)\n{\n"
             f"    memcpy(a, &f, {FLAG_BYTES});\n}}\n\n"]
    inits = [v for v in state.variables if v.init is not None]
    for v in inits:
        vals = ", ".join(str(int(x)) for x in v.init)
        parts.append(f"/* init value of {v.shared_name} */\n"
                     f"static const int8_t state_init{v.index}[{v.nbytes}] = {{{vals}}};\n")
    copies = "".join(f"        memcpy(a + {v.offset}, state_init{v.index}, {v.nbytes});\n"
                     for v in inits)
    parts.append(f"""
/* CALL_ONCE: the init subgraph's assignments, at the first call after kws_model_init. */
static kws_status_t kws_model_call_once(int8_t *a)
{{
    if (kws_state_flag(a) == KWS_STATE_PENDING) {{
{copies}        kws_state_set_flag(a, KWS_STATE_READY);
    }}
    return KWS_OK;
}}

static int kws_state_ok(const int8_t *a)
{{
    const uint32_t f = kws_state_flag(a);
    return f == KWS_STATE_PENDING || f == KWS_STATE_READY;
}}

kws_status_t kws_model_init(void *arena, size_t arena_len)
{{
    int8_t *a = (int8_t *)arena;
{check}{_fill_calls(state)}    kws_state_set_flag(a, KWS_STATE_PENDING);
    return KWS_OK;
}}

kws_status_t kws_model_reset(void *arena, size_t arena_len)
{{
    int8_t *a = (int8_t *)arena;
{check}{_fill_calls(state)}    kws_state_set_flag(a, KWS_STATE_READY);
    return KWS_OK;
}}

""")
    return "".join(parts)


def invoke_check(state: StatePlan | None) -> str:
    """The check at the top of ``kws_model_invoke`` that ``kws_model_init`` has run."""
    if state is None or not state.stateful:
        return ""
    return """    if (!kws_state_ok(a)) {
        return KWS_ERR_BAD_CONFIG; /* kws_model_init() has not run on this arena */
    }
"""


def _call_once(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    return "", "kws_model_call_once(a)"


def _read_var(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    dst, dst_len = refs.tensor(l.output)
    b = l.params["bytes"]
    return "", f"kws_reshape_s8((a + {l.params['offset']}), {b}, {dst}, {dst_len})"


def _assign_var(l: Layer, n: str, refs: LayerRefs) -> tuple[str, str]:
    src, src_len = refs.tensor(l.input)
    b = l.params["bytes"]
    return "", f"kws_reshape_s8({src}, {src_len}, (a + {l.params['offset']}), {b})"


#: Kernel -> emitter, merged into :data:`kws.export.emit_calls.EMITTERS`.
EMITTERS = {"call_once": _call_once, "read_var": _read_var, "assign_var": _assign_var}
