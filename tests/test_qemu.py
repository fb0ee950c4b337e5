"""Cortex-M4 firmware under QEMU: semihosting, timer IRQ, instruction counting, CMSIS-DSP parity.

Needs qemu-system-arm, gcc-arm-none-eabi, cmake and third_party/ (scripts/fetch_third_party.sh);
each test skips with the reason when one is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws import qemu
from kws.audio import AUDIO_SUFFIXES
from kws.errors import KwsError
from kws.fileio import class_files
from tests.real_data import REAL_AUDIO

pytestmark = pytest.mark.qemu


_missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc", "cmake", "gcc", "pkg-config")
            if shutil.which(t) is None]
if _missing:
    pytestmark = [pytest.mark.qemu, pytest.mark.skip(reason=f"missing tools: {_missing}")]
elif not (qemu.THIRD_PARTY / "cmsis-dsp" / "Include" / "arm_math.h").is_file():
    pytestmark = [pytest.mark.qemu,
                  pytest.mark.skip(reason="third_party/ missing: run scripts/fetch_third_party.sh")]


@pytest.fixture(scope="module")
def m4() -> Path:
    """The M4 build folder with every test app built."""
    return qemu.build_firmware()


@pytest.fixture(scope="module")
def host() -> Path:
    """The host build folder (CMSIS-DSP with emulated intrinsics)."""
    return qemu.build_firmware(host=True)


# ----------------------------------------------------------------------------- semihosting
@pytest.mark.parametrize("status", [0, 1, 7, 42, 255])
def test_hello_prints_and_exit_status_propagates(m4: Path, status: int) -> None:
    res = qemu.run_elf(m4 / "hello.elf", args=[str(status), "x"], timeout=30)
    assert "hello from the cortex-m4" in res.stdout
    assert f"argc=2 status={status}" in res.stdout
    assert res.exit_code == status


@pytest.mark.parametrize("size", [0, 1, 4095, 100_003])
def test_semihosting_file_round_trip(m4: Path, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    res = qemu.run_elf(m4 / "filecopy.elf", args=["in.bin", "out.bin"], files={"in.bin": data},
                       timeout=30)
    assert res.exit_code == 0, res.stdout
    expect = bytes(b ^ 0x5A for b in data) + size.to_bytes(4, "little")
    assert res.files == {"out.bin": expect}


def test_missing_input_file_gives_failure_status(m4: Path) -> None:
    res = qemu.run_elf(m4 / "filecopy.elf", args=["nope.bin", "out.bin"], timeout=30)
    assert res.exit_code == 3
    assert "out.bin" not in res.files


def test_run_elf_rejects_bad_input(m4: Path, tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="no such ELF"):
        qemu.run_elf(tmp_path / "missing.elf")
    with pytest.raises(KwsError, match="whitespace"):
        qemu.run_elf(m4 / "hello.elf", args=["a b"])
    with pytest.raises(KwsError, match="plain file name"):
        qemu.run_elf(m4 / "hello.elf", files={"../x": b""})


def test_missing_qemu_is_a_clear_error(m4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(KwsError, match="qemu-system-arm: not found"):
        qemu.run_elf(m4 / "hello.elf")


def test_qemu_failure_is_a_clear_error(m4: Path) -> None:
    with pytest.raises(KwsError, match="Could not load plugin"):
        qemu.run_elf(m4 / "hello.elf", plugin="/nonexistent/plugin.so")


def test_missing_toolchain_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(KwsError, match="not found on PATH"):
        qemu.build_firmware("hello")


def _high_water(m4: Path, n: int) -> tuple[int, int]:
    res = qemu.run_elf(m4 / "stack_probe.elf", args=[str(n)], timeout=30)
    assert res.exit_code == 0
    fields = dict(kv.split("=") for kv in res.stdout.split())
    return int(fields["high_water"]), int(fields["size"])


def test_stack_painting_measures_the_high_water_mark(m4: Path) -> None:
    base, size = _high_water(m4, 0)
    assert size == 0x10000 and 0 < base < 1024
    for n in (1000, 5000, 20000):
        hw, _ = _high_water(m4, n)
        # The VLA sits below main's frame (which the printing calls of the n=0 run also use).
        assert n < hw <= n + base + 128


def test_malloc_fails_the_link(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="__wrap_malloc"):
        qemu.build_firmware("malloc_probe", build_dir=tmp_path / "m4",
                            cmake_args=["-DKWS_MALLOC_PROBE=ON"])


# ----------------------------------------------------------------------------- timer
def _irq_log(m4: Path, shift: int) -> list[int]:
    res = qemu.run_elf(m4 / "timer_irq.elf", timeout=30, icount_shift=shift)
    assert res.exit_code == 0, res.stdout
    assert "ticks=20 period=25000" in res.stdout
    return [int(line.split()[2]) for line in res.stdout.splitlines() if line.startswith("irq ")]


def test_timer_irq_is_deterministic_under_icount(m4: Path) -> None:
    a, b = _irq_log(m4, 3), _irq_log(m4, 3)
    assert len(a) == 20
    assert a == b
    gaps = np.diff(a)
    assert gaps.min() > 0 and gaps.max() - gaps.min() <= 1  # a steady 1 ms period
    # Virtual time follows the instruction count: half the ns per instruction, twice the work
    # between two interrupts.
    c = _irq_log(m4, 2)
    assert np.allclose(np.diff(c) / gaps.mean(), 2.0, rtol=0.01)


# ----------------------------------------------------------------------------- plugin
@pytest.mark.parametrize("n", [1, 10, 37])
def test_plugin_counts_loop_exactly(m4: Path, n: int) -> None:
    res = qemu.count_instructions(m4 / "insn_loop.elf", args=[str(n)], timeout=30)
    assert res.run.exit_code == 0
    assert len(res.intervals) == 5
    for k, iv in enumerate(res.intervals):
        it = n + k  # see firmware/harness/insn_loop.S for the count
        assert (iv.pair, iv.index) == (0, k)
        assert iv.total == 8 * it + 3
        assert (iv.ldst, iv.mul, iv.div) == (2 * it, 2 * it, 2 * it)
        assert iv.branch == it + 1
        assert iv.other == it + 2


def test_plugin_classes_many_encodings(m4: Path) -> None:
    # firmware/harness/insn_mix.S, counted by hand from its comments: 16- and 32-bit loads and
    # stores, VFP loads/stores, integer and VFP multiplies, SDIV/UDIV/VSQRT, CBZ/CBNZ, IT,
    # B<cond> taken and not, TBB, B.W and BL.
    res = qemu.count_instructions(m4 / "insn_loop.elf", "kws_mark_start2", "kws_mark_end2",
                                  args=["1"], timeout=30)
    assert len(res.intervals) == 2
    for iv in res.intervals:
        assert (iv.ldst, iv.mul, iv.branch, iv.div, iv.other) == (9, 8, 6, 3, 15)
        assert iv.total == 41


def test_plugin_second_pair_and_bad_symbol(m4: Path) -> None:
    # kws_mark_start..kws_mark_end again as pair 1: both pairs see the same intervals.
    res = qemu.count_instructions(m4 / "insn_loop.elf", args=["5"],
                                  pairs=[("kws_mark_start", "kws_mark_end")], timeout=30)
    assert res.totals(0) == res.totals(1) == [8 * (5 + k) + 3 for k in range(5)]
    with pytest.raises(KwsError, match="no symbol"):
        qemu.count_instructions(m4 / "insn_loop.elf", "no_such_symbol", "kws_mark_end")


# ----------------------------------------------------------------------------- CMSIS parity
def _u32(*vals: int) -> list[int]:
    return [v & 0xFFFFFFFF for v in vals]


def _intrinsic_operands() -> bytes:
    edge = _u32(0, 1, -1, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF7FFF, 0x80008000, 0x80007FFF, 0x7FFF8000,
                0x7FFFFFFF, 0x80000000, 0x00010001, 0xFFFF0001, 0x7F7F7F7F, 0x80808080,
                0x01000100, 0x00FF00FF, 0xFF00FF00, 12345, -12345)
    grid = [(a, b, c) for a in edge for b in edge for c in edge[::4]]
    rng = np.random.default_rng(1)
    rand = rng.integers(0, 2**32, size=(3000, 3), dtype=np.uint64).tolist()
    return np.asarray(grid + rand, "<u4").tobytes()


def test_intrinsics_host_emulation_equals_m4(m4: Path, host: Path, tmp_path: Path) -> None:
    operands = _intrinsic_operands()
    assert len(operands) // 12 <= 8192
    res = qemu.run_elf(m4 / "intrinsics.elf", args=["in.bin", "out.bin"],
                       files={"in.bin": operands}, timeout=60)
    assert res.exit_code == 0, res.stdout
    (tmp_path / "in.bin").write_bytes(operands)
    subprocess.run([str(host / "intrinsics_host"), "in.bin", "out.bin"], cwd=tmp_path, check=True)
    m4_out = np.frombuffer(res.files["out.bin"], "<u4").reshape(-1, 44)
    host_out = np.frombuffer((tmp_path / "out.bin").read_bytes(), "<u4").reshape(-1, 44)
    bad = np.argwhere(m4_out != host_out)
    assert bad.size == 0, f"first mismatches (row, intrinsic #): {bad[:5].tolist()}"


def adversarial_frames(n_random: int = 40) -> np.ndarray:
    """(n, 512) int16 frames: random and adversarial (silence, squares, clipping, DC, impulses,
    noise from -90 to 0 dBFS, real recordings of tests/data)."""
    rng = np.random.default_rng(2024)
    t = np.arange(512)
    frames: list[np.ndarray] = [
        np.zeros(512), np.full(512, 32767), np.full(512, -32768), np.full(512, 1),
        np.where((t // 8) % 2 == 0, 32767, -32768),           # full-scale square waves
        np.where((t // 3) % 2 == 0, 32767, -32768),
        np.where(t % 2 == 0, 32767, -32768),
        np.clip(4 * 32767 * np.sin(2 * np.pi * 440 * t / 16000), -32768, 32767),  # clipping
        8000 + 2000 * np.sin(2 * np.pi * 1000 * t / 16000),   # DC offset
        np.full(512, -20000) + rng.normal(0, 50, 512),
    ]
    for pos in (0, 1, 255, 479, 511):                           # single impulses
        for amp in (32767, -32768, 1, -1):
            f = np.zeros(512)
            f[pos] = amp
            frames.append(f)
    for dbfs in range(-90, 1, 10):                              # noise -90..0 dBFS
        frames.append(rng.normal(0, 32768 * 10 ** (dbfs / 20), 512))
    frames += list(rng.integers(-32768, 32768, size=(n_random, 512)))
    frames += list(rng.integers(-300, 300, size=(n_random // 4, 512)))
    clips = class_files(REAL_AUDIO, AUDIO_SUFFIXES)
    words = [f for w, f in clips if w != "_background_noise_"][::15][:8]
    noise = [f for w, f in clips if w == "_background_noise_"][:2]
    if words or noise:
        import soundfile as sf
        for w in words + noise:
            audio, _ = sf.read(w, dtype="int16")
            for start in range(0, min(len(audio) - 512, 16000), 4000):  # at most 4 per file
                frames.append(audio[start:start + 512])
    return np.clip(np.round(np.asarray(frames)), -32768, 32767).astype(np.int16)


def test_rfft_q15_512_host_equals_m4(m4: Path, host: Path, tmp_path: Path) -> None:
    frames = adversarial_frames()
    assert len(frames) <= 256  # cmsis_parity's KWS_MAX_FRAMES
    data = frames.astype("<i2").tobytes()
    res = qemu.run_elf(m4 / "cmsis_parity.elf", args=["rfft", "in.bin", "out.bin"],
                       files={"in.bin": data}, timeout=120)
    assert res.exit_code == 0, res.stdout
    (tmp_path / "in.bin").write_bytes(data)
    subprocess.run([str(host / "cmsis_parity"), "rfft", "in.bin", "out.bin"], cwd=tmp_path,
                   check=True)
    m4_out = np.frombuffer(res.files["out.bin"], "<i2").reshape(len(frames), -1)
    host_out = np.frombuffer((tmp_path / "out.bin").read_bytes(), "<i2").reshape(len(frames), -1)
    assert np.array_equal(m4_out, host_out)
    # Not trivially equal: the spectra carry signal (q15 RFFT of 512 scales by 1/512).
    assert np.abs(m4_out).max() > 1000


def test_mfcc_q15_host_equals_m4_and_tracks_the_reference(m4: Path, host: Path) -> None:
    from kws.bench import cmsis_mfcc
    from kws.frontend.settings import FrontendSettings

    settings = FrontendSettings()
    tables = cmsis_mfcc.make_tables(settings)
    frames = adversarial_frames()
    frames[:, settings.window_samples:] = 0  # the window is zero-padded from 480 to 512
    res = qemu.run_elf(m4 / "cmsis_parity.elf", args=["mfcc", "cfg.bin", "in.bin", "out.bin"],
                       files={"cfg.bin": cmsis_mfcc.config_bytes(tables),
                              "in.bin": frames.astype("<i2").tobytes()}, timeout=120)
    assert res.exit_code == 0, res.stdout
    m4_out = np.frombuffer(res.files["out.bin"], "<i2").reshape(len(frames), tables.n_dct)
    host_out = cmsis_mfcc.arm_mfcc_q15_features(frames, tables=tables)
    assert np.array_equal(m4_out, host_out)
    # The tables are right: on speech-level frames CMSIS's c1..c9 track the float definition.
    from kws.frontend.reference import features_float
    loud = [i for i, f in enumerate(frames) if 300 < np.abs(f.astype(np.int64)).max() < 32767]
    ref = np.stack([features_float(frames[i, :settings.window_samples], settings)[0] for i in loud])
    err = np.abs(m4_out[loud] / 128.0 - ref)[:, 1:]
    assert np.median(err) < 0.5, np.median(err)
