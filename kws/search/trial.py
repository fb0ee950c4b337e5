"""One trial of the search: train a candidate for a number of epochs, or finish and measure it.

Trials are plain functions of a JSON-able spec (a dict), so they run the same in this process,
in a worker process or as a Ray task. Each candidate has its own RUN folder under the search
folder; training resumes from its checkpoint, so each rung of the search only pays for the
epochs it adds (``kws train``'s resume: epochs may grow, nothing else may change).

- :func:`proxy_trial` - train to ``epochs`` and return the float validation accuracy.
- :func:`screen_trial` - no training: the proxy's checkpoint quantized, its miss rates at
  FA/h budgets on tuning audio of the finalists' detection source (the last rung ranks on
  them).
- :func:`final_trial` - train to the final epochs and finish the run as ``kws train`` does
  (int8 quantization, evaluation, real-speech accuracy, detector calibration), set the
  detector's decision period, then measure: the real firmware under QEMU (instructions per
  second, flash, RAM) and detection on real speech (FA/h, miss rate; ``kws bench
  detection``'s streams where their data are present).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from kws.search.space import Candidate


def train_config(spec: dict[str, Any], epochs: int) -> Any:
    """The :class:`kws.train.trainer.TrainConfig` of a trial (the candidate registered)."""
    from kws.train.trainer import TrainConfig

    cand = Candidate.from_dict(spec["candidate"])
    fields = {k: v for k, v in spec["train"].items()
              if k in {f.name for f in dataclasses.fields(TrainConfig)}}
    return TrainConfig(**{**fields, "model": cand.register(), "epochs": epochs,
                          "out": spec["run"], "prune": cand.prune})


def proxy_trial(spec: dict[str, Any]) -> dict[str, Any]:
    """Train the spec's candidate to ``spec["epochs"]`` (resuming); its accuracies.

    A pruned candidate (``prune`` > 0) is ranked as it deploys: the trained network is
    pruned (:func:`kws.train.prune.prune_model`) and fine-tuned one epoch, and
    ``train_accuracy`` is that epoch's (the checkpoint stays the unpruned network's, so the
    next rung resumes training it).

    Returns
    -------
    dict
        ``name``, ``epochs``, ``train_accuracy`` and ``val_accuracy`` (float model, last
        epoch), ``seconds``.
    """
    t0 = time.monotonic()
    cand, cfg, settings, data, model, history = _fit(spec, resume=None)
    val = history.get("val_accuracy") or [float("nan")]
    train_accuracy = float((history.get("accuracy") or [0.0])[-1])
    if cand.prune > 0:
        _, train_accuracy = _pruned(model, data, cfg, settings)
    return {"name": cand.name, "epochs": cfg.epochs, "train_accuracy": train_accuracy,
            "val_accuracy": float(val[-1]), "seconds": round(time.monotonic() - t0, 1)}


def _fit(spec: dict[str, Any], *, resume: bool | None) -> tuple[Any, Any, Any, Any, Any, dict]:
    """The trial's candidate, config, front-end settings and training data, and its model
    trained to ``spec["epochs"]`` (``resume``: continue the run's checkpoint; None: when the
    run folder has one); returns ``(cand, cfg, settings, data, model, history)``."""
    from kws.train.trainer import (
        check_config,
        default_cache,
        fit,
        load_training_data,
        prepare_run_folder,
    )

    cand = Candidate.from_dict(spec["candidate"])
    cfg = train_config(spec, int(spec["epochs"]))
    check_config(cfg)
    if resume is None:
        resume = (Path(cfg.out) / "config.json").is_file()
    run = prepare_run_folder(cfg, resume=resume)
    settings = cand.settings()
    cache = Path(cfg.cache_dir) if cfg.cache_dir else default_cache()
    data = load_training_data(cfg, cache, settings, {})
    model, history = fit(cfg, data, settings, run, resume=resume)
    return cand, cfg, settings, data, model, history


def _pruned(model: Any, data: Any, cfg: Any, settings: Any) -> tuple[Any, float]:
    """``model`` pruned by ``cfg.prune`` and fine-tuned one epoch, and that epoch's training
    accuracy."""
    import tensorflow as tf

    from kws.train.prune import prune_model
    from kws.train.trainer import fine_tune

    pruned = prune_model(model, cfg.prune)
    pruned.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    acc = fine_tune(pruned, data, cfg, settings, epochs=1,
                    learning_rate=(0.25 * cfg.learning_rate, 0.25 * cfg.learning_rate),
                    seed_offset=10_000)
    return pruned, acc


def screen_trial(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure a proxy-trained candidate's detection (no more training): its checkpoint at
    ``spec["epochs"]`` (pruned and fine-tuned one epoch as :func:`proxy_trial` ranks it),
    quantized to int8 into the RUN folder ``spec["screen_run"]``, scored on tuning audio of
    the finalists' detection source (``spec["detection"]``, ``spec["real_speech"]``,
    ``spec["negatives"]``) for its miss rates at budgets of the run's FA/h target
    (:func:`kws.search.measure.miss_at_target`), deciding every ``every`` hops of the
    candidate.

    Returns
    -------
    dict
        ``name``, ``epochs``, ``detection`` (``miss_at_target``'s figures, or None when
        there is nothing to score), ``seconds``.
    """
    from kws.run import write_run
    from kws.search.measure import miss_at_target
    from kws.train.trainer import quantize

    t0 = time.monotonic()
    cand, cfg, settings, data, model, _ = _fit(spec, resume=True)   # the checkpoint: no epoch
    if cand.prune > 0:
        model, _ = _pruned(model, data, cfg, settings)
    out = Path(spec["screen_run"])
    out.mkdir(parents=True, exist_ok=True)
    int8, flt = quantize(model, data.train, settings, seed=cfg.seed,
                         name=str(out / "model.tflite"))
    write_run(out, model=int8, float_model=flt, labels=data.classes, settings=settings)
    detection = miss_at_target(
        out, every=cand.every, target_fa_per_hour=float(cfg.target_fa_per_hour),
        mode=spec.get("detection") or "stream", real_speech=spec.get("real_speech"),
        minutes=float(spec.get("stream_minutes", 10.0)), seed=int(spec["train"].get("seed", 0)),
        negatives=spec.get("negatives") or ())
    return {"name": cand.name, "epochs": cfg.epochs, "detection": detection,
            "seconds": round(time.monotonic() - t0, 1)}


def proxy_score(result: dict[str, Any], run: str | Path) -> float:
    """The accuracy a rung ranks on: the last epoch's training accuracy (augmented copies,
    dropout on). After a few epochs the validation accuracy is not yet informative: batch
    normalization's moving statistics (momentum 0.99) have seen too few steps, and networks
    of every size sit near chance on it. Older results without the figure read it from the
    run's checkpoint history."""
    if "train_accuracy" in result:
        return float(result["train_accuracy"])
    import json

    state = Path(run) / "checkpoint" / "state.json"
    hist = json.loads(state.read_text())["history"].get("accuracy", [])
    return float(hist[min(int(result["epochs"]), len(hist)) - 1]) if hist else 0.0


def final_trial(spec: dict[str, Any]) -> dict[str, Any]:
    """Finish the spec's candidate (``kws train`` to ``spec["epochs"]``, resuming) and measure
    it: real firmware figures, accuracy on ``spec["real_speech"]`` and FA/h on real speech
    (``spec["detection"]``: ``bench``, the streams of ``kws bench detection``; ``stream``, a
    stream of the real-speech clips; ``spec["negatives"]`` pooled in either way).

    Returns
    -------
    dict
        ``name``, ``run``, ``val_accuracy`` (int8), ``accuracy_real`` (int8 clip accuracy on
        the real speech, or None), ``detection``
        (:func:`kws.search.measure.finalist_detection`'s figures, or None), ``measured`` (the
        firmware's
        ``instructions_per_second``, ``flash_bytes``, ``ram_bytes``), ``figures`` (all of
        ``kws firmware report --json``), ``seconds``.
    """
    from kws.search.measure import finalist_detection, firmware_figures
    from kws.train.trainer import train

    t0 = time.monotonic()
    cand = Candidate.from_dict(spec["candidate"])
    cfg = train_config(spec, int(spec["epochs"]))
    if spec.get("real_speech"):
        cfg = dataclasses.replace(cfg, real_eval=spec["real_speech"])
    resume = (Path(cfg.out) / "checkpoint").exists()
    metrics = train(cfg, resume=resume, settings=cand.settings())
    run = Path(cfg.out)
    figures = firmware_figures(run, every=cand.every)
    detection = finalist_detection(
        run, mode=spec.get("detection") or "stream", real_speech=spec.get("real_speech"),
        minutes=float(spec.get("stream_minutes", 10.0)), seed=int(spec["train"].get("seed", 0)),
        negatives=spec.get("negatives") or ())
    val = metrics["splits"].get("validation", {}).get("int8", {}).get("accuracy")
    return {"name": cand.name, "run": str(run), "val_accuracy": val,
            "accuracy_real": metrics.get("accuracy_real"), "detection": detection,
            "measured": {k: figures[k] for k in ("instructions_per_second", "flash_bytes",
                                                 "ram_bytes")},
            "figures": figures, "seconds": round(time.monotonic() - t0, 1)}


def run_trial(spec: dict[str, Any]) -> dict[str, Any]:
    """Dispatch on ``spec["kind"]`` (``proxy``, ``screen`` or ``final``); quiet TensorFlow
    logging."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if spec["kind"] == "proxy":
        return proxy_trial(spec)
    if spec["kind"] == "screen":
        return screen_trial(spec)
    return final_trial(spec)
