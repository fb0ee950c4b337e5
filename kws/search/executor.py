"""Where trials run: a Ray cluster, a local Ray, worker processes, or this process.

:func:`make_executor` picks: ``ray_address`` given -> that Ray cluster (its nodes need this
``kws`` importable and the search folder on a shared file system); else ``"local"`` or Ray
installed and ``prefer_ray`` -> a local Ray with ``workers`` CPUs; else ``workers`` spawned
processes (one trial each, so TensorFlow's memory goes back after every trial); ``workers=0``
runs in this process. Every executor yields ``(index, result)`` as trials finish.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from typing import Any, Callable, Iterator, Sequence


def ray_available() -> bool:
    """Whether the ``ray`` package imports."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


class InlineExecutor:
    """Trials one after the other in this process."""

    name = "this process"

    def run(self, fn: Callable[[dict[str, Any]], dict[str, Any]],
            specs: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run ``fn`` on every spec; yield ``(index, result)`` as each finishes."""
        for i, spec in enumerate(specs):
            yield i, fn(spec)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Trials in ``workers`` spawned processes, one trial per process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"{workers} processes"

    def run(self, fn: Callable[[dict[str, Any]], dict[str, Any]],
            specs: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run ``fn`` on every spec; yield ``(index, result)`` as each finishes."""
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(self.workers, mp_context=ctx,
                                    max_tasks_per_child=1) as pool:
            futures = {pool.submit(fn, s): i for i, s in enumerate(specs)}
            for f in cf.as_completed(futures):
                yield futures[f], f.result()

    def close(self) -> None:
        """Nothing to release (the pool closes with each batch)."""


class RayExecutor:
    """Trials as Ray tasks (one CPU each) on a cluster (``address``) or a local Ray."""

    def __init__(self, address: str | None, workers: int) -> None:
        import ray

        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                path = os.pathsep.join(p for p in sys.path if p)
                ray.init(num_cpus=max(workers, 1), include_dashboard=False,
                         log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path,
                                                   "TF_CPP_MIN_LOG_LEVEL": "2"}})
        self._ray = ray
        self.name = f"Ray cluster {address}" if address else f"local Ray ({workers} CPUs)"

    def run(self, fn: Callable[[dict[str, Any]], dict[str, Any]],
            specs: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run ``fn`` on every spec; yield ``(index, result)`` as each finishes."""
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_calls=1)(fn)
        pending = {remote.remote(s): i for i, s in enumerate(specs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)

    def close(self) -> None:
        """Disconnect from (and, when local, stop) Ray."""
        self._ray.shutdown()


def make_executor(*, workers: int, ray_address: str | None = None,
                  prefer_ray: bool = True) -> InlineExecutor | ProcessExecutor | RayExecutor:
    """The executor for the search (see the module docstring)."""
    if ray_address and ray_address != "local":
        return RayExecutor(ray_address, workers)
    if ray_address == "local" or (prefer_ray and workers > 1 and ray_available()):
        return RayExecutor(None, workers)
    if workers <= 0:
        return InlineExecutor()
    return ProcessExecutor(workers)
