"""Small picklable functions for the job queue's tests: a worker process imports them by name."""

from __future__ import annotations

import os
import time
from pathlib import Path


class Stopped(Exception):
    pass


def count(n: int, delay: float = 0.0, *, report, should_stop) -> int:
    """Report 0…n-1 as events (each with seconds left), then return n."""
    for i in range(n):
        if should_stop():
            raise Stopped
        report({"i": i})
        time.sleep(delay)
    return n


def until_stopped(started: str, *, report, should_stop) -> None:
    """Mark ``started`` (a file), then wait for a cancel."""
    Path(started).write_text("started")
    while not should_stop():
        time.sleep(0.02)
    raise Stopped


def gate(started: str, release: str, out: str | None = None, *, report, should_stop) -> str:
    """Mark ``started``, wait until the file ``release`` exists, then write ``out`` (only at the end, as the
    trainer does) and return its name."""
    Path(started).write_text("started")
    while not Path(release).exists():
        if should_stop():
            raise Stopped
        time.sleep(0.02)
    if out:
        Path(out).write_text("finished")
    return "released"


def late(started: str, release: str, out: str, *, report, should_stop) -> str:
    """Mark ``started``, wait for ``release`` without looking at ``should_stop`` (a cancel that comes after the
    job's last check), write ``out`` and return."""
    Path(started).write_text("started")
    while not Path(release).exists():
        time.sleep(0.02)
    Path(out).write_text("finished")
    return "written"


def deaf(started: str, *, report, should_stop) -> None:
    """Never looks at ``should_stop``: a cancel must kill it."""
    Path(started).write_text("started")
    while True:
        time.sleep(0.05)


def fail(*, report, should_stop) -> None:
    raise ValueError("bad input")


def threads(*, report, should_stop) -> dict:
    import torch

    return {"torch": torch.get_num_threads(), "omp": os.environ.get("OMP_NUM_THREADS"), "nice": os.nice(0)}


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("cannot cross the pipe")
        self.callback = lambda: None  # a lambda does not pickle: the worker sends its type and traceback instead


def fail_unpicklable(*, report, should_stop) -> None:
    raise Unpicklable()
