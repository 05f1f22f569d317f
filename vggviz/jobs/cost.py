"""What a training run will cost, known before it starts without slowing the server: the rates (seconds per
photo of each phase, ``vggviz.train.progress.Rates``) are measured in the conditions the job will run in, by a
short probe in a worker process like a job's (the job's threads, its lower priority), never in the Streamlit
server's process, and kept for the server's life per (configuration, what trains, input size, batch, device,
threads). A finished job's own measured rates replace the probe's: the next estimate of that kind is the
last real run's.

The page asks ``Costs.ask``; it answers at once, with the rates or with "measuring" (one probe at a time per
server, the latest asked first, in a thread that waits on the worker). The probe does not take a job slot: a few
seconds at the job's priority, so that a student sees the cost while another's job trains."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from ..train.progress import Rates
from ..train.recipe import Recipe
from .per_process import PerProcess
from .worker import Worker

Key = tuple[str, str, int, int, str, int]


def key(recipe: Recipe, device: str, threads: int) -> Key:
    """What a step's time depends on (not the learning rate, its schedule, the seed or the epochs)."""
    return recipe.config, recipe.train, recipe.size, recipe.batch, device, threads


def probe(recipe: dict, n_classes: int, device: str, *, report, should_stop) -> tuple[float, Rates]:
    """In the worker: (the wall clock when this function began, the rates measured here)."""
    began = time.time()
    from ..train.run import measure_rates

    return began, measure_rates(Recipe.from_record(recipe), n_classes, device)


@dataclass(frozen=True)
class Answer:
    rates: Rates | None  # None while measuring or after a failure
    error: Any = None  # the probe's exception or Failure
    source: str = ""  # "probe" | "job": who measured the rates

    def seconds(self, recipe: Recipe, train_photos: int, val_photos: int) -> float | None:
        return None if self.rates is None else self.rates.seconds(recipe, train_photos, val_photos)


class Costs:
    """The server's known rates, and the probes to measure the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[Key, Answer] = {}
        self._waiting: dict[Key, tuple[dict, int, str, int]] = {}  # key -> the probe's arguments, in asking order
        self._thread: threading.Thread | None = None
        self.probes = 0  # probes started (for tests: an estimate is not measured again on every rerun)

    def ask(self, recipe: Recipe, n_classes: int, device: str, threads: int) -> Answer:
        """The rates for this kind of run, or Answer(None) while a probe measures them (started here if needed)."""
        k = key(recipe, device, threads)
        with self._lock:
            if k in self._known:
                return self._known[k]
            if k not in self._waiting:
                # the class count only changes the last layer's size: measured with the first asker's
                plain = replace(recipe, epochs=1, lr=0.01, schedule="constant", seed=0)
                self._waiting[k] = (plain.record(), n_classes, device, threads)
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._measure, name="vggviz-cost", daemon=True)
                    self._thread.start()
        return Answer(None)

    def known(self, recipe: Recipe, device: str, threads: int) -> bool:
        with self._lock:
            return key(recipe, device, threads) in self._known

    def learn(self, recipe: Recipe, device: str, threads: int, rates: Rates) -> None:
        """A job's own measured rates: they replace a probe's (a real run, decoding and all)."""
        with self._lock:
            self._known[key(recipe, device, threads)] = Answer(rates, source="job")

    def forget(self) -> None:
        with self._lock:
            self._known.clear()

    def _measure(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._thread = None
                    return
                k, args = next(reversed(self._waiting.items()))  # the latest asked: the recipe on screen now
                self.probes += 1
            answer = _run_probe(*args)
            with self._lock:
                self._waiting.pop(k, None)
                if k not in self._known:  # a job that ended meanwhile measured it better
                    self._known[k] = answer


def _run_probe(recipe: dict, n_classes: int, device: str, threads: int) -> Answer:
    """One probe in a worker process with the job's threads and priority; the process's start (spawn, imports)
    counted into the rates' startup, as a job pays it too."""
    started = time.time()
    try:
        worker = Worker(probe, (recipe, n_classes, device), threads=threads)
    except Exception as exc:  # noqa: BLE001 (no process to start)
        return Answer(None, exc)
    result, error = None, None
    for kind, obj in worker.messages():
        if kind == "result":
            result = obj
        elif kind == "error":
            error = obj
    worker.join()
    if result is None:
        return Answer(None, error or RuntimeError("the probe ended without a result"))
    began, rates = result
    return Answer(replace(rates, startup=rates.startup + max(0.0, began - started)), source="probe")


def job_rates(rates: Rates, recipe: Recipe, train_photos: int, val_photos: int, wall: float) -> Rates:
    """A finished job's rates with its startup: the wall time it took less the time of its phases."""
    phases = replace(rates, startup=0.0).seconds(recipe, train_photos, val_photos)
    return replace(rates, startup=max(0.0, wall - phases))


SHARED: PerProcess[Costs] = PerProcess(Costs)


def shared() -> Costs:
    """The server's costs (one per process)."""
    return SHARED.get()
