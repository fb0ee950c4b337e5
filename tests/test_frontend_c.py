"""The C front end (dsp/) against the NumPy oracle: bit for bit, streaming, errors, fuzzing."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from kws import qemu
from kws.cbuild import m4_cpu_flags
from kws.errors import KwsError
from kws.frontend import codegen, compute_features, fixed, signals
from kws.frontend.settings import FrontendSettings
from tests.real_data import REAL_AUDIO

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                                reason="cmake and a C compiler are needed to build dsp/")

cb = pytest.importorskip("kws.frontend.cbackend")
DEFAULT = FrontendSettings()


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return cb.library()


def _real(length: int, limit: int | None = None) -> np.ndarray:
    return signals.real_clips(length, limit=limit, root=REAL_AUDIO)[0]


# ------------------------------------------------------------------ parity
def test_parity_corpus_default_settings():
    """>= 500 clips: noise -90..0 dBFS, sweeps, squares, clipping, DC, impulses, silence, and the
    real recordings of tests/data (Speech Commands words and background noise)."""
    synth, kinds = signals.adversarial_clips(DEFAULT.clip_samples, seed=1, repeat=8)
    real = _real(DEFAULT.clip_samples)
    clips = np.concatenate([synth, real])
    assert clips.shape[0] >= 500
    want = fixed.features_numpy(clips, DEFAULT)
    got = compute_features(clips, DEFAULT, backend="c")
    bad = np.nonzero(np.any(got != want, axis=(1, 2)))[0]
    names = (kinds + ["real"] * len(real))
    assert bad.size == 0, f"C != NumPy on {bad.size} clips, first: {[names[i] for i in bad[:5]]}"
    # the corpus really reaches the extremes of the output range
    assert (want == 127).any() or (want == -128).any()


@pytest.mark.parametrize("seed", range(24))
def test_parity_random_configs(seed):
    rng = np.random.default_rng(1000 + seed)
    s = signals.random_settings(rng)
    length = int(rng.integers(s.window_samples, 3 * s.sample_rate // 2))
    clips, _ = signals.adversarial_clips(length, seed=seed)
    clips = np.concatenate([clips, _real(length, limit=6)])
    want = fixed.features_numpy(clips, s)
    got = cb.features_c(clips, s)
    assert got.shape == want.shape and np.array_equal(got, want), s


@pytest.mark.parametrize("frames", [1, 2, 7, 8, 9, 15, 17])
def test_parity_partial_lane_groups(frames):
    """The host build runs kws_frontend_batch 8 frames at a time (dsp/src/host_batch.c): batch
    totals that are not a multiple of 8, and neighbouring lanes with very different block shifts
    (silence, full-scale squares, -90 dBFS noise, impulses side by side)."""
    length = DEFAULT.window_samples + (frames - 1) * DEFAULT.hop_samples
    clips, _ = signals.adversarial_clips(length, seed=frames)
    for count in (1, 3, clips.shape[0]):
        got = cb.features_c(clips[:count], DEFAULT, threads=1)  # first: its output buffer is
        want = fixed.features_numpy(clips[:count], DEFAULT)    # np.empty, never NumPy's freed one
        assert got.shape == want.shape and np.array_equal(got, want), (frames, count)


@pytest.mark.parametrize("upper_frac,window,fft,lower", [
    (1.0, 401, 512, 0.0),     # bands up to fs/2: split's pair loop, Nyquist bin M, odd window
    (0.75, 512, 512, 0.0),    # window == N: no zero padding in the FFT gather
    (0.5, 255, 256, 40.0),    # bands end exactly at M/2: split's ascending in-place loop
    (0.9, 127, 128, 300.0),   # small FFT, partner pairs with both bins used
])
def test_parity_split_paths(upper_frac, window, fft, lower):
    """The in-place split (ascending loop below M/2, pair loop above it) and the FFT gather's
    window products (odd window: its last pair straddles the zero padding) == NumPy."""
    sr = 16000
    s = FrontendSettings(sample_rate=sr, window_ms=window * 1000.0 / sr,
                         hop_ms=min(160, window) * 1000.0 / sr, fft_size=fft, lower_hz=lower,
                         upper_hz=upper_frac * sr / 2)
    clips, _ = signals.adversarial_clips(sr // 2, seed=7)
    clips = np.concatenate([clips, _real(sr // 2, limit=6)])
    want = fixed.features_numpy(clips, s)
    got = cb.features_c(clips, s)
    assert got.shape == want.shape and np.array_equal(got, want), s


@pytest.mark.parametrize("seed", range(6))
def test_stream_equals_batch(seed):
    """Streaming with random chunk sizes 1..4000 and random frame buffers == one batch call."""
    rng = np.random.default_rng(seed)
    s = DEFAULT if seed < 3 else signals.random_settings(rng)
    parts = [signals.adversarial_clips(int(rng.integers(1000, 9000)), seed=seed)[0][::5].ravel()]
    audio = np.concatenate(parts)[: int(rng.integers(30000, 120000))]
    want = cb.CFrontend(s).batch(audio[None])[0]
    fe = cb.CFrontend(s)
    got, pos = [], 0
    while pos < audio.size:
        chunk = int(rng.integers(1, 4001))
        got.append(fe.stream(audio[pos:pos + chunk], max_frames=int(rng.integers(1, 9))))
        pos += chunk
    got = np.concatenate(got)
    assert got.shape == want.shape and np.array_equal(got, want)
    assert np.array_equal(want, fixed.features_numpy(audio, s))


def test_stream_single_frame_api(lib):
    """kws_frontend_process: consumes up to the end of the next frame, reports frame_ready."""
    fe = cb.CFrontend(DEFAULT)
    x = signals.noise_at(-20, 5000, np.random.default_rng(0))
    used, ready = ctypes.c_int32(), ctypes.c_int32()
    out = np.zeros(DEFAULT.num_outputs, np.int8)
    frames, pos, steps = [], 0, []
    while pos < x.size:
        rest = x[pos:]
        rc = lib.kws_frontend_process(fe.state, cb._ptr(rest, ctypes.c_int16), rest.size,
                                      ctypes.byref(used), cb._ptr(out, ctypes.c_int8), out.size,
                                      ctypes.byref(ready))
        assert rc == 0
        steps.append(used.value)
        pos += used.value
        if ready.value:
            frames.append(out.copy())
    assert steps[0] == DEFAULT.window_samples and steps[1] == DEFAULT.hop_samples
    assert np.array_equal(np.stack(frames), fixed.features_numpy(x, DEFAULT))


def test_driver_batch_equals_stream(tmp_path):
    """The C driver (used by the fuzzer) on a few inputs, without sanitizers."""
    driver = cb.build() / "kws_frontend_driver"
    rng = np.random.default_rng(5)
    for i in range(4):
        s = DEFAULT if i == 0 else signals.random_settings(rng)
        audio = signals.adversarial_clips(int(rng.integers(100, 4000)), seed=i)[0].ravel()
        cb.write_driver_input(tmp_path / "in.bin", cb.TableSet(s), audio, seed=i)
        proc = subprocess.run([str(driver), tmp_path / "in.bin", tmp_path / "out.bin"])
        assert proc.returncode == 0
        status, batch, stream = cb.read_driver_output(tmp_path / "out.bin")
        assert status == 0
        assert np.array_equal(batch, stream)
        assert np.array_equal(batch, fixed.features_numpy(audio, s))


@pytest.mark.parametrize("lanes,extra", [(16, []), (4, []), (8, ["-mno-avx2"])])
def test_host_batch_other_lane_paths(tmp_path, repo_root: Path, lanes, extra):
    """host_batch.c's generic int64-lane Q31 multiplies (any KWS_HOST_LANES but the AVX2 8-lane
    path that the Python build uses) give the same integers as NumPy."""
    dsp = repo_root / "dsp"
    exe = tmp_path / "driver"
    srcs = [*sorted((dsp / "src").glob("*.c")), dsp / "generated" / "kws_frontend_tables.c",
            dsp / "tests" / "driver.c"]
    proc = subprocess.run(["cc", "-O1", "-std=gnu99", "-march=native", *extra, "-DKWS_HOST_FAST",
                           f"-DKWS_HOST_LANES={lanes}", f"-I{dsp / 'include'}",
                           f"-I{repo_root / 'common' / 'include'}", f"-I{dsp / 'generated'}",
                           *map(str, srcs), "-lm", "-o", str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(lanes)
    for i in range(3):
        s = DEFAULT if i == 0 else signals.random_settings(rng)
        audio = signals.adversarial_clips(int(rng.integers(2000, 6000)), seed=i)[0].ravel()
        cb.write_driver_input(tmp_path / "in.bin", cb.TableSet(s), audio, seed=i)
        assert subprocess.run([str(exe), tmp_path / "in.bin", tmp_path / "out.bin"]).returncode == 0
        status, batch, stream = cb.read_driver_output(tmp_path / "out.bin")
        assert status == 0
        assert np.array_equal(batch, fixed.features_numpy(audio, s))
        assert np.array_equal(batch, stream)


def test_fixed_point_primitives():
    """dsp/tests/test_fixed.c: isqrt32 on all perfect squares +-1 and 4M random values, mulw."""
    proc = subprocess.run([str(cb.build() / "kws_test_fixed")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout


@pytest.mark.slow
def test_isqrt32_every_uint32():
    """kws_isqrt32 == floor(sqrt(x)) for all 2^32 inputs (about a minute)."""
    proc = subprocess.run([str(cb.build() / "kws_test_fixed"), "--all"], capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout


# ------------------------------------------------------------------ generated tables
def test_generated_files_are_up_to_date(repo_root: Path):
    header, source = codegen.render(DEFAULT)
    gen = repo_root / "dsp" / "generated"
    assert (gen / codegen.HEADER_NAME).read_text() == header, \
        "run python -m kws.frontend.codegen dsp/generated"
    assert (gen / codegen.SOURCE_NAME).read_text() == source
    assert f"0x{DEFAULT.hash():08X}u" in header


def test_compiled_default_tables(lib):
    """The committed tables, compiled into the library, give the NumPy features."""
    tables = cb.CTables.in_dll(lib, "kws_frontend_default_tables")
    state = ctypes.create_string_buffer(lib.kws_frontend_state_size())
    assert lib.kws_frontend_init(state, ctypes.byref(tables)) == 0
    x = signals.adversarial_clips(DEFAULT.clip_samples, seed=3)[0][:8]
    out = np.empty((8, DEFAULT.num_frames, DEFAULT.num_outputs), np.int8)
    rc = lib.kws_frontend_batch(state, cb._ptr(np.ascontiguousarray(x), ctypes.c_int16), 8,
                                x.shape[1], cb._ptr(out, ctypes.c_int8), out.size)
    assert rc == 0 and np.array_equal(out, fixed.features_numpy(x, DEFAULT))


# ------------------------------------------------------------------ error codes
def _init(lib, struct) -> int:
    state = ctypes.create_string_buffer(lib.kws_frontend_state_size())
    return lib.kws_frontend_init(state, ctypes.byref(struct))


def test_null_pointers(lib):
    ts = cb.TableSet(DEFAULT)
    assert lib.kws_frontend_init(None, ctypes.byref(ts.struct)) == cb.KWS_ERR_NULL
    state = ctypes.create_string_buffer(lib.kws_frontend_state_size())
    assert lib.kws_frontend_init(state, None) == cb.KWS_ERR_NULL
    for field in ("window", "perm", "twiddle", "split", "mel_start", "mel_len", "mel_weights",
                  "eps", "log2", "proj"):
        st = ts.make_struct()
        setattr(st, field, None)
        assert _init(lib, st) == cb.KWS_ERR_NULL, field
    fe = cb.CFrontend(DEFAULT)
    out = np.zeros(10, np.int8)
    x = np.zeros(480, np.int16)
    assert lib.kws_frontend_compute_frame(fe.state, None, 480, cb._ptr(out, ctypes.c_int8),
                                          10) == cb.KWS_ERR_NULL
    assert lib.kws_frontend_compute_frame(fe.state, cb._ptr(x, ctypes.c_int16), 480, None,
                                          10) == cb.KWS_ERR_NULL
    assert lib.kws_frontend_batch(None, cb._ptr(x, ctypes.c_int16), 1, 480,
                                  cb._ptr(out, ctypes.c_int8), 10) == cb.KWS_ERR_NULL
    used, ready = ctypes.c_int32(), ctypes.c_int32()
    assert lib.kws_frontend_process(fe.state, None, 5, ctypes.byref(used),
                                    cb._ptr(out, ctypes.c_int8), 10,
                                    ctypes.byref(ready)) == cb.KWS_ERR_NULL


def test_short_buffers(lib):
    fe = cb.CFrontend(DEFAULT)
    out = np.zeros(10, np.int8)
    x = np.zeros(16000, np.int16)
    xp, op = cb._ptr(x, ctypes.c_int16), cb._ptr(out, ctypes.c_int8)
    assert lib.kws_frontend_compute_frame(fe.state, xp, 479, op, 10) == cb.KWS_ERR_SHORT_BUFFER
    assert lib.kws_frontend_compute_frame(fe.state, xp, 480, op, 9) == cb.KWS_ERR_SHORT_BUFFER
    assert lib.kws_frontend_compute_frame(fe.state, xp, 480, op, 10) == 0
    big = np.zeros(49 * 10, np.int8)
    assert lib.kws_frontend_batch(fe.state, xp, 1, 16000, cb._ptr(big, ctypes.c_int8),
                                  489) == cb.KWS_ERR_SHORT_BUFFER
    used, ready = ctypes.c_int32(), ctypes.c_int32()
    assert lib.kws_frontend_process(fe.state, xp, 100, ctypes.byref(used), op, 9,
                                    ctypes.byref(ready)) == cb.KWS_ERR_SHORT_BUFFER


def _corrupt(name: str, ts: "cb.TableSet") -> "cb.CTables":
    st = ts.make_struct()
    a = {k: v.copy() for k, v in ts.arrays.items()}
    ts.keep = a  # keep the copies alive while the struct is used

    def point(field: str, arr: np.ndarray, ctype: type) -> None:
        setattr(st, field, cb._ptr(arr, ctype))

    if name == "perm-duplicate":
        a["perm"][5] = a["perm"][6]
        point("perm", a["perm"], ctypes.c_uint16)
    elif name == "perm-out-of-range":
        a["perm"][0] = 256
        point("perm", a["perm"], ctypes.c_uint16)
    elif name == "mel-past-last-bin":
        a["mel_start"][-1] = 250
        point("mel_start", a["mel_start"], ctypes.c_uint16)
    elif name == "mel-weights-count":
        st.mel_weights_len -= 1
    elif name == "eps-too-big":
        a["eps"][3] = np.uint64(1) << np.uint64(62)
        point("eps", a["eps"], ctypes.c_uint64)
    elif name == "log2-decreasing":
        a["log2"][10] = a["log2"][9] - 1
        point("log2", a["log2"], ctypes.c_int32)
    elif name == "log2-length":
        st.log2_len = 64
    elif name == "twiddle-too-big":  # |W| = sqrt(2): would break the FFT's int32 bounds
        a["twiddle"][10] = 2 ** 31 - 1
        a["twiddle"][11] = 2 ** 31 - 1
        point("twiddle", a["twiddle"], ctypes.c_int32)
    elif name == "twiddle-int32-min":  # could not be negated (W_M^e = -W_N^(2e-M))
        a["twiddle"][2 * 100 + 1] = -2 ** 31
        point("twiddle", a["twiddle"], ctypes.c_int32)
    elif name == "split-too-big":
        a["split"][20] = -2 ** 31 + 1
        a["split"][21] = 2 ** 31 - 1
        point("split", a["split"], ctypes.c_int32)
    elif name == "twiddle-length":
        st.twiddle_len = 2 * 257  # M + 1 pairs: the table holds k in [0, M/2] only
    elif name == "split-length":
        st.split_len -= 2
    elif name == "window-length":
        st.window_len = 479
    elif name == "proj-length":
        st.proj_len = 399
    else:
        raise AssertionError(name)
    return st


@pytest.mark.parametrize("name", ["perm-duplicate", "perm-out-of-range", "mel-past-last-bin",
                                  "mel-weights-count", "eps-too-big", "log2-decreasing",
                                  "log2-length", "twiddle-too-big", "twiddle-int32-min",
                                  "split-too-big", "twiddle-length", "split-length",
                                  "window-length", "proj-length"])
def test_bad_tables_rejected(lib, name):
    ts = cb.TableSet(DEFAULT)
    assert _init(lib, ts.make_struct()) == 0
    assert _init(lib, _corrupt(name, ts)) == cb.KWS_ERR_BAD_TABLE


@pytest.mark.parametrize("field,value", [("fft_size", 500), ("fft_size", 4), ("fft_size", 4096),
                                         ("hop_samples", 0), ("hop_samples", 481),
                                         ("window_samples", 513), ("num_mel", 129),
                                         ("num_outputs", 0), ("proj_q", 30),
                                         ("output_zero_point", 128)])
def test_bad_config_rejected(lib, field, value):
    ts = cb.TableSet(DEFAULT)
    st = ts.make_struct()
    setattr(st, field, value)
    assert _init(lib, st) in (cb.KWS_ERR_BAD_CONFIG, cb.KWS_ERR_BAD_TABLE)


def test_uninitialized_state_is_an_error(lib):
    state = ctypes.create_string_buffer(lib.kws_frontend_state_size())  # zeroed, never init
    out = np.zeros(10, np.int8)
    x = np.zeros(480, np.int16)
    assert lib.kws_frontend_compute_frame(state, cb._ptr(x, ctypes.c_int16), 480,
                                          cb._ptr(out, ctypes.c_int8), 10) == cb.KWS_ERR_BAD_CONFIG


def test_compute_features_api_errors():
    with pytest.raises(KwsError, match="int16"):
        compute_features(np.zeros(16000, np.float32))
    with pytest.raises(KwsError, match="unknown front-end backend"):
        compute_features(np.zeros(16000, np.int16), backend="gpu")


def test_short_input_gives_zero_frames():
    x = np.zeros((2, 100), np.int16)
    assert compute_features(x).shape == (2, 0, 10)
    assert compute_features(x, backend="numpy").shape == (2, 0, 10)


# ------------------------------------------------------------------ Cortex-M4 build
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")
def test_cortex_m4_build_is_warning_free(repo_root: Path, tmp_path: Path):
    """The ACLE path (__ARM_FEATURE_DSP) compiles with -Wall -Wextra -Wconversion -Werror, with
    the M4 CPU flags of the toolchain file (firmware/cmake/arm-none-eabi.cmake)."""
    dsp = repo_root / "dsp"
    srcs = sorted((dsp / "src").glob("*.c")) + [dsp / "generated" / "kws_frontend_tables.c",
                                                 dsp / "tests" / "test_fixed.c"]
    cpu = list(m4_cpu_flags())
    flags = [*cpu, "-O2", "-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion",
             "-Werror", "-DKWS_FFT_MAX=512", "-DKWS_MEL_MAX=40", f"-I{dsp / 'include'}",
             f"-I{repo_root / 'common' / 'include'}", f"-I{dsp / 'generated'}"]
    probe = subprocess.run(["arm-none-eabi-gcc", *cpu, "-dM", "-E", "-x", "c", "-"],
                           input="", capture_output=True, text=True)
    assert "__ARM_FEATURE_DSP 1" in probe.stdout
    for src in srcs:
        proc = subprocess.run(["arm-none-eabi-gcc", *flags, "-c", str(src), "-o",
                               str(tmp_path / (src.stem + ".o"))], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def _m4_clips(settings: FrontendSettings) -> np.ndarray:
    """The clips that firmware/harness/m4_parity.c generates (same LCG, same families)."""
    n = settings.clip_samples
    clips = np.zeros((20, n), dtype=np.int16)
    state = 1
    for c in range(16):
        vals = np.empty(n, dtype=np.uint32)
        for i in range(n):
            state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
            vals[i] = state >> 16
        clips[c] = vals.astype(np.uint16).view(np.int16) >> c
    clips[16] = np.where(np.arange(n) % 37 < 18, 32767, -32768)
    clips[17, 7001] = -32768
    clips[18] = 32767
    return clips


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None
                    or shutil.which("qemu-system-arm") is None,
                    reason="arm-none-eabi-gcc and qemu-system-arm are needed")
def test_cortex_m4_qemu_matches_numpy():
    """C on the Cortex-M4 (ACLE path, QEMU mps2-an386) == NumPy: primitives, batch, streaming."""
    results = {}
    for name in ("frontend_fixed", "m4_parity"):
        run = qemu.run_elf(qemu.build_firmware(name), timeout=300)
        assert run.exit_code == 0, run.stdout[-500:] + run.stderr[-500:]
        results[name] = run.stdout
    assert results["frontend_fixed"].strip() == "ok"
    lines = results["m4_parity"].splitlines()
    assert lines[0].startswith(f"hash {DEFAULT.hash():08x}") and lines[-1] == "done"
    want = fixed.features_numpy(_m4_clips(DEFAULT), DEFAULT)
    body = lines[1:-1]
    assert len(body) == 2 * want.shape[0]
    for c in range(want.shape[0]):
        expect = want[c].astype(np.uint8).tobytes().hex()
        assert body[2 * c] == "B " + expect, f"batch differs on clip {c}"
        assert body[2 * c + 1] == "S " + expect, f"stream differs on clip {c}"


# ------------------------------------------------------------------ fuzzing (slow)
@pytest.mark.slow
def test_fuzz_with_sanitizers(tmp_path):
    """>= 60 s of random audio and random configs through the ASan+UBSan+ftrapv driver."""
    driver = cb.build(sanitize=True) / "kws_frontend_driver"
    rng = np.random.default_rng(int(time.time()) & 0xFFFF)
    start, runs, bad_tables = time.monotonic(), 0, 0
    while time.monotonic() - start < 60.0:
        s = signals.random_settings(rng) if runs % 4 else DEFAULT
        ts = cb.TableSet(s)
        length = int(rng.integers(0, 3 * s.sample_rate))
        clips = signals.adversarial_clips(max(length, 1), seed=runs)[0]
        audio = clips[rng.integers(0, clips.shape[0], 3)].ravel()[:length]
        header = None
        if runs % 7 == 3:  # a corrupt header: must be rejected, never crash
            field = str(rng.choice(list(ts.header)))
            header = {field: int(rng.integers(-5000, 5000))}
        cb.write_driver_input(tmp_path / "in.bin", ts, audio, seed=runs, header=header)
        proc = subprocess.run([str(driver), tmp_path / "in.bin", tmp_path / "out.bin"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{s}: {proc.stderr[-2000:]}"
        status, batch, stream = cb.read_driver_output(tmp_path / "out.bin")
        if header is None:
            assert status == 0
            assert np.array_equal(batch, stream)
            assert np.array_equal(batch, fixed.features_numpy(audio, s)), s
        else:
            bad_tables += status != 0
        runs += 1
    assert runs >= 50
    print(f"fuzz: {runs} runs, {bad_tables} corrupt headers rejected, 0 findings")
