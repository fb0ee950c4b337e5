"""The audio ring buffer and DMA double buffer: whole blocks, exact overrun counts, gap flags."""

from __future__ import annotations

import numpy as np
import pytest

from kws.device.host import CAudioRing


def _block(seq: int, n: int) -> np.ndarray:
    """Block ``seq``: every sample holds the sequence number, so mixing is visible."""
    return np.full(n, seq, dtype=np.int16)


def test_fill_without_consumer_drops_exactly_the_excess() -> None:
    ring = CAudioRing(block_samples=160, capacity=4)
    results = [ring.dma_deliver(_block(i, 160)) for i in range(20)]
    assert results == [0] * 4 + [1] * 16
    assert ring.overruns == 16 and ring.count() == 4
    got = [ring.pop() for _ in range(5)]
    assert [int(b[0][0]) for b in got[:4]] == [0, 1, 2, 3]
    assert [b[1] for b in got[:4]] == [0] * 4
    assert got[4] is None
    # the next block after the drops carries the gap flag, and is the newest (block 20)
    assert ring.dma_deliver(_block(20, 160)) == 0
    block, gap = ring.pop()
    assert gap == 16 and np.all(block == 20)


@pytest.mark.parametrize("capacity,period,blocks,expected", [
    # A consumer takes one block every `period` producer ticks, right after that tick's push.
    # Counted by hand: per period the ring gains period - 1 blocks until it is full; from then
    # on every push beyond the free slots is dropped.
    (4, 1, 100, 0),       # keeps up
    (4, 2, 100, 47),      # ring counts 1,2,3 after periods 1-3; periods 4..50 drop one each
    (2, 3, 90, 59),       # period 1 drops 1; periods 2..30 drop 2 each: 1 + 29 * 2
    (1, 4, 40, 30),       # every period: 1 kept, 3 dropped, 10 periods
    (8, 2, 40, 13),       # full from period 8: periods 8..20 drop one each
])
def test_slow_consumer_exact_drop_count(capacity: int, period: int, blocks: int,
                                        expected: int) -> None:
    ring = CAudioRing(block_samples=320, capacity=capacity)
    seen, gaps = [], []
    for tick in range(blocks):
        ring.dma_deliver(_block(tick, 320))
        if tick % period == period - 1:
            got = ring.pop()
            if got is not None:
                block, gap = got
                assert np.all(block == block[0])              # never a mixed block
                seen.append(int(block[0]))
                gaps.append(gap)
    while (got := ring.pop()) is not None:
        seen.append(int(got[0][0]))
        gaps.append(got[1])
    assert ring.overruns == expected
    assert len(seen) + expected == blocks
    assert seen == sorted(seen)                                # in order
    # each block's gap is exactly how far the sequence jumps before it
    assert gaps == [seen[0]] + [seen[i] - seen[i - 1] - 1 for i in range(1, len(seen))]


def test_double_buffer_alternates_halves() -> None:
    ring = CAudioRing(block_samples=4, capacity=8)
    for i in range(6):
        ring.dma_deliver(np.arange(4, dtype=np.int16) + 4 * i)
    out = np.concatenate([ring.pop()[0] for _ in range(6)])
    assert np.array_equal(out, np.arange(24))


def test_errors() -> None:
    assert CAudioRing(block_samples=0, capacity=4).init_rc == -2
    assert CAudioRing(block_samples=16, capacity=0).init_rc == -2
    assert CAudioRing(block_samples=16, capacity=17).init_rc == -2
    ring = CAudioRing(block_samples=16, capacity=2)
    assert ring.push(np.zeros(15, np.int16)) == -3              # not a whole block
