"""One job in a process of its own (multiprocessing's spawn context: no copy of the server's threads or locks,
the same on Linux, macOS and Windows), so that the Streamlit server keeps answering while it computes.

The function runs as ``fn(*args, report=..., should_stop=..., **kwargs)``: ``report(event)`` sends a picklable
event to the server; ``should_stop()`` turns true on a cancel, and the function stops at its next check (the
trainer raises and writes nothing). The child bounds its threads (``OMP_NUM_THREADS`` and friends set before
the function's modules are imported, then ``torch.set_num_threads``) and lowers its priority, so that the
server's own requests come first on a shared machine."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
NICENESS = 10  # below the server's requests


@dataclass(frozen=True)
class Failure:
    """An exception of the child that could not be pickled: its type and text."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _child(payload: bytes, conn, stop, threads: int) -> None:
    # Before unpickling: the function's module imports torch, which reads these variables once.
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # Windows, or not allowed
        pass
    try:
        fn, args, kwargs = pickle.loads(payload)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads)
        result = fn(*args, report=lambda event: conn.send(("event", event)), should_stop=stop.is_set, **kwargs)
        conn.send(("result", result))
    except BaseException as exc:  # noqa: BLE001 (everything goes back to the server, which decides)
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 (unpicklable: its text instead)
            conn.send(("error", Failure(type(exc).__name__, "".join(traceback.format_exception(exc))[-2000:])))
    finally:
        conn.close()


class Worker:
    """The process running one function, its message pipe and its stop flag."""

    def __init__(self, fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, threads: int = 1):
        payload = pickle.dumps((fn, args, kwargs or {}))  # fails here, in the server, for an unpicklable job
        ctx = mp.get_context("spawn")
        self._messages, send = ctx.Pipe(duplex=False)
        self._stop = ctx.Event()
        # Not a daemon: a daemonic process may not start the DataLoader's own workers.
        self.process = ctx.Process(target=_child, args=(payload, send, self._stop, threads), name="vggviz-job")
        self.process.start()
        send.close()  # the child holds the only writing end: the pipe ends when it does

    def messages(self) -> Iterator[tuple[str, Any]]:
        """("event" | "result" | "error", object) as the child sends them, until the child is gone."""
        while True:
            try:
                yield self._messages.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # noqa: BLE001 (a message that cannot be unpickled here)
                yield "error", Failure(type(exc).__name__, str(exc))
        self._messages.close()

    def stop(self) -> None:
        """Ask the function to stop at its next ``should_stop()``."""
        self._stop.set()

    def kill(self) -> None:
        """End the process now (a function that does not check ``should_stop`` often enough)."""
        if self.process.is_alive():
            self.process.kill()

    def join(self, timeout: float | None = None) -> int | None:
        self.process.join(timeout)
        return self.process.exitcode
