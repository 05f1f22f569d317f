"""Dynamic batching: the inputs of callers that arrive while a forward pass runs go through the model
together, as one batch, in the next pass.

When a class uploads at once, the server would otherwise run thirty one-photo passes back to back, each
sharing the CPU with the other sessions' decoding, charts and messages; on a CPU, torch spreads every
operation over all cores and waits for the slowest, so that other work slows each pass by more than its
own share. Queued photos in one pass leave the cores to the model, and a batch of 8 costs less per photo
than 8 single passes (``python -m bench --only server``: server_class). No thread of its own and no
waiting window: a caller alone runs at once, as without batching. Torch has no such facility for eager
models (TorchServe and Triton do it out of process), hence this small class.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass(eq=False)
class _Request:
    rows: torch.Tensor
    done: bool = False
    output: torch.Tensor | None = None
    error: BaseException | None = None
    pass_rows: int = 0  # rows in the pass that computed it, its own included
    key: tuple = field(init=False)

    def __post_init__(self) -> None:
        # Only inputs that can be joined share a pass: same shape after the batch dimension, dtype, device.
        self.key = (tuple(self.rows.shape[1:]), self.rows.dtype, self.rows.device)


class Batcher:
    """Call ``run(torch.cat(inputs))`` for the (N, ...) inputs handed to ``__call__`` by concurrent
    callers, and give each caller its own rows of the output (views of it).

    The first caller finding no pass running runs the oldest queued inputs that can be joined, up to
    ``max_rows`` rows (an input larger than that runs alone), then the next waiting caller runs the next
    batch, and so on: first come, first served; an error reaches every caller of its batch and no other."""

    def __init__(self, run: Callable[[torch.Tensor], torch.Tensor], max_rows: int = 8,
                 idle: Callable[[], object] | None = None):
        """``idle``: called once a burst is over, by the caller that ran its last pass (the queue empty after it)."""
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self._run, self.max_rows, self._idle = run, max_rows, idle
        self._queue: list[_Request] = []
        self._running = False
        self._changed = threading.Condition()

    def pending(self) -> int:
        """Inputs queued and not yet taken into a pass."""
        with self._changed:
            return len(self._queue)

    @property
    def running(self) -> bool:
        """A pass is in progress."""
        return self._running

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        return self.submit(rows)[0]

    def submit(self, rows: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The output rows for ``rows``, and how many rows the pass that computed them held in all."""
        request = _Request(rows)
        with self._changed:
            self._queue.append(request)
            batch = self._next(request)
        while batch is not None:  # this caller runs a pass, maybe of older inputs only: then it waits again
            if self._pass(batch) and self._idle is not None:
                self._idle()
            with self._changed:
                batch = self._next(request)
        error, request.error = request.error, None  # no cycle request -> error -> traceback -> pass -> request
        if error is not None:
            try:
                raise error
            finally:
                del error  # nor this frame -> error -> traceback -> this frame
        return request.output, request.pass_rows  # type: ignore[return-value]

    def _next(self, request: _Request) -> list[_Request] | None:
        """Under the condition's lock: wait until ``request`` is done (None) or no pass runs; then the batch
        this caller is to run."""
        while not request.done and self._running:
            self._changed.wait()
        if request.done:
            return None
        self._running = True
        return self._take()

    def _take(self) -> list[_Request]:
        """The oldest request and the queued ones that join it, within ``max_rows``; taken off the queue."""
        first = self._queue[0]
        batch, rows = [first], len(first.rows)
        for request in self._queue[1:]:
            if request.key == first.key and rows + len(request.rows) <= self.max_rows:
                batch.append(request)
                rows += len(request.rows)
        taken = set(map(id, batch))
        self._queue = [r for r in self._queue if id(r) not in taken]
        return batch

    def _pass(self, batch: list[_Request]) -> bool:
        """Run one pass for ``batch``; True when nothing is queued after it."""
        try:
            if len(batch) == 1:
                batch[0].output = self._run(batch[0].rows)
            else:
                joined = torch.cat([r.rows for r in batch])
                outputs = self._run(joined).split([len(r.rows) for r in batch])
                for request, output in zip(batch, outputs):
                    request.output = output
        except Exception as exc:  # handed to every caller of the batch, raised there
            for request in batch:
                request.error = exc
        except BaseException:  # an interrupt of this thread stays in this thread; the others are told
            for request in batch:
                request.error = RuntimeError("the batched forward pass was interrupted")
            raise
        finally:
            with self._changed:
                rows = sum(len(r.rows) for r in batch)
                for request in batch:
                    request.done, request.pass_rows = True, rows
                self._running = False
                self._changed.notify_all()
                drained = not self._queue
        return drained
