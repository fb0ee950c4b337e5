"""Offline memory planner: tensor lifetimes, then greedy placement in one arena.

Each buffer lives from the operator that writes it to the last operator that reads it.
Buffers are placed one by one at the lowest offset that does not overlap any already placed
buffer whose lifetime overlaps, in each of a few orders (largest first, the greedy-by-size
strategy of TFLite Micro's GreedyMemoryPlanner; longest-lived first; largest size x lifetime
first; earliest first), and the smallest arena wins. Two buffers whose lifetimes share an
operator overlap, because the operator reads its inputs while it writes its outputs. In-place
operators (reshape, softmax) are handled before planning by merging their input and output
into one buffer.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Buffer:
    """One buffer to place: a name, a size in bytes and its lifetime [first, last] in op indices."""

    name: str
    size: int
    first: int
    last: int
    offset: int = -1


def align(n: int, to: int) -> int:
    """``n`` rounded up to a multiple of ``to``."""
    return (n + to - 1) // to * to


#: Placement orders tried by :func:`plan` (sort keys of a buffer), the first wins ties.
ORDERS = (
    lambda b: (-b.size, b.first, b.name),                              # TFLM's greedy by size
    lambda b: (-(b.last - b.first), -b.size, b.first, b.name),         # longest-lived first
    lambda b: (-b.size * (b.last - b.first + 1), b.first, b.name),     # largest area first
    lambda b: (b.first, -b.size, b.name),                              # in operator order
)


def _place(buffers: list[Buffer], order, alignment: int) -> int:
    """First-fit placement of ``buffers`` in ``order``; sets offsets, returns the extent."""
    placed: list[Buffer] = []
    for buf in sorted(buffers, key=order):
        live = sorted((p for p in placed if p.first <= buf.last and buf.first <= p.last),
                      key=lambda p: p.offset)
        offset = 0
        for p in live:
            if offset + buf.size <= p.offset:
                break
            offset = max(offset, align(p.offset + p.size, alignment))
        buf.offset = offset
        placed.append(buf)
    return align(max((b.offset + b.size for b in buffers), default=0), alignment)


def plan(buffers: list[Buffer], *, alignment: int = 4) -> int:
    """Set every buffer's ``offset`` (the best of the :data:`ORDERS`); return the arena size.

    Examples
    --------
    >>> a, b, c = Buffer("a", 100, 0, 1), Buffer("b", 50, 1, 2), Buffer("c", 100, 2, 3)
    >>> plan([a, b, c]), a.offset, b.offset, c.offset
    (152, 0, 100, 0)
    """
    best, best_size = None, None
    for order in ORDERS:
        size = _place(buffers, order, alignment)
        if best_size is None or size < best_size:
            best, best_size = [b.offset for b in buffers], size
    for b, off in zip(buffers, best):
        b.offset = off
    return best_size


def check_plan(buffers: list[Buffer]) -> None:
    """Raise AssertionError if two buffers with overlapping lifetimes overlap in memory."""
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.first <= b.last and b.first <= a.last:
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
