"""Tracing a model while other threads run modules: made safe.

torch.fx traces a model (torchvision's ``create_feature_extractor`` does, once per loaded model, for
``LoadedModel.extractor``) by replacing ``torch.nn.Module.__call__`` for EVERY thread while it runs.
A module that another session calls meanwhile (a preprocessing transform, another model's forward
pass, captum's) then fails with "module is not installed as a submodule". So a trace runs
exclusively, and every other use of modules in a shared process runs in shared mode: many at once,
none during a trace. The standard library has no readers-writer lock; this small one is written by
hand (writers first, so a trace is not starved by a classroom of forward passes).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .inference import LoadedModel


class SharedExclusiveLock:
    """Many holders in shared mode at once, or one in exclusive mode. Not re-entrant."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0  # threads waiting for exclusive mode: new shared holders let them go first

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._exclusive and not self._shared)
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


MODULES = SharedExclusiveLock()  # shared: running modules; exclusive: tracing


def traced(lm: LoadedModel) -> LoadedModel:
    """``lm`` with its feature extractors built now, exclusively: call it before the model is shared,
    so that no forward pass traces it later while other sessions run."""
    with MODULES.exclusive():
        lm.compact_extractor  # noqa: B018 - a cached property: traces ``extractor`` and rewrites it
    return lm
