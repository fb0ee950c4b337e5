"""Keeping TensorFlow's, absl's and the TFLite converter's log lines out of the CLI's output.

TensorFlow 2.21 logs through absl from C++ before anything can configure it (``WARNING: All log
messages before absl::InitializeLog() ...``, ``I0000 ... port.cc:153] oneDNN custom operations
are on ...``), and the TFLite converter prints ``fully_quantize: ...`` from C++; neither
``TF_CPP_MIN_LOG_LEVEL`` nor Python's logging reaches them. So :func:`cli_output` sets what
can be set (the environment before TensorFlow is imported, absl's Python verbosity, warnings of
the ML libraries) and, where standard error is a real file descriptor, passes it through a pipe
that drops exactly those log lines and forwards everything else as it arrives (progress bars
included; a line is held back only while it could still become a log line).

>>> is_log_line("I0000 00:00:1796317147.951979   29008 port.cc:153] oneDNN custom operations")
True
>>> is_log_line("kws: error: x.wav: empty file")
False
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import threading
import warnings
from typing import Iterator

#: Lines (or carriage-return segments) that are library logging, not output for people.
LOG_LINE = re.compile(
    rb"^(?:"
    rb"[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "                # absl / glog C++ format
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./-]+:\d+\]"  # older TensorFlow format
    rb"|fully_quantize: \d+, inference_type: "                 # the TFLite converter
    rb"|INFO: Created TensorFlow Lite "                        # TFLite delegates
    rb"|(?:WARNING|INFO|ERROR|DEBUG):(?:absl|tensorflow|h5py)\b"  # Python logging's default
    rb")")
#: Modules whose Python warnings are not shown on the command line.
QUIET_MODULES = r"(keras|tensorflow|tf_keras|absl|ai_edge_litert|tflite_micro|google\.protobuf)"


def is_log_line(line: str | bytes) -> bool:
    """Whether ``line`` is a TensorFlow / absl / TFLite log line."""
    data = line.encode() if isinstance(line, str) else line
    return LOG_LINE.match(data.lstrip(b"\r")) is not None


def _could_become_log_line(partial: bytes) -> bool:
    """Whether an unfinished segment may still turn out to be a log line."""
    p = partial.lstrip(b"\r")
    return bool(p) and (p[:1] in b"IWEFfD0123456789" or p.startswith(b"WARNING")
                        or p.startswith(b"INFO") or p.startswith(b"ERROR"))


def quiet_environment() -> None:
    """Set the log levels that can be set before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=QUIET_MODULES)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # absl comes with TensorFlow; without it there is nothing to quiet
        pass


def _pump(read_fd: int, write_fd: int) -> None:
    """Forward bytes from ``read_fd`` to ``write_fd`` until EOF, dropping log lines."""
    with contextlib.suppress(OSError):  # the descriptors were closed under a stuck pump
        _pump_until_eof(read_fd, write_fd)


def _pump_until_eof(read_fd: int, write_fd: int) -> None:
    pending = b""
    while True:
        ready, _, _ = select.select([read_fd], [], [], 0.2)
        chunk = os.read(read_fd, 65536) if ready else None
        if chunk == b"":
            break
        if chunk:
            pending += chunk
        out, pending = _filter(pending, final=False, idle=chunk is None)
        if out:
            os.write(write_fd, out)
    out, _ = _filter(pending, final=True, idle=True)
    if out:
        os.write(write_fd, out)


def _filter(data: bytes, *, final: bool, idle: bool) -> tuple[bytes, bytes]:
    """(bytes to forward, bytes to hold) of ``data``, segment by segment."""
    out = []
    parts = re.split(rb"(?<=\n)|(?=\r)", data)
    tail = parts.pop() if parts and not parts[-1].endswith(b"\n") else b""
    for seg in parts:
        if seg and not is_log_line(seg):
            out.append(seg)
    if tail and (final or not _could_become_log_line(tail)
                 or (idle and not is_log_line(tail))):
        if not is_log_line(tail):
            out.append(tail)
        tail = b""
    return b"".join(out), tail


@contextlib.contextmanager
def cli_output() -> Iterator[None]:
    """While the body runs, keep library log lines off standard error (see the module
    docstring). Standard error without a file descriptor (e.g. captured in tests) is left
    alone."""
    quiet_environment()
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, fd)
    os.close(write_fd)
    pump = threading.Thread(target=_pump, args=(read_fd, saved), daemon=True)
    pump.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)          # closes the pipe's last write end held by this process
        pump.join(timeout=5.0)
        os.close(read_fd)
        os.close(saved)
