"""The status codes of the kws C libraries, mirrored for the ctypes bindings.

``common/include/kws_status.h`` defines them once for the front end (``dsp/``), the int8 runtime
(``firmware/runtime/``) and the generated model; ``tests/test_c_headers.py`` checks that this
mirror matches the header.
"""

from __future__ import annotations

__all__ = ["KWS_OK", "KWS_ERR_NULL", "KWS_ERR_SHORT_BUFFER", "KWS_ERR_BAD_CONFIG",
           "KWS_ERR_BAD_TABLE", "KWS_ERR_PLATFORM", "STATUS", "describe"]

KWS_OK = 0
KWS_ERR_NULL = -1
KWS_ERR_SHORT_BUFFER = -2
KWS_ERR_BAD_CONFIG = -3
KWS_ERR_BAD_TABLE = -4
KWS_ERR_PLATFORM = -5

#: Code -> short description (used in error messages).
STATUS: dict[int, str] = {
    KWS_OK: "ok",
    KWS_ERR_NULL: "NULL pointer",
    KWS_ERR_SHORT_BUFFER: "short buffer",
    KWS_ERR_BAD_CONFIG: "bad config",
    KWS_ERR_BAD_TABLE: "bad table",
    KWS_ERR_PLATFORM: "platform without arithmetic right shift",
}


def describe(code: int) -> str:
    """``"<description> (<code>)"`` for a status code, ``"unknown status <code>"`` otherwise.

    Parameters
    ----------
    code : int
        A value returned by a kws C function.
    """
    return f"{STATUS[code]} ({code})" if code in STATUS else f"unknown status {code}"
