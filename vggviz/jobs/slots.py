"""The machine's training slots: lock files ``slot-N.lock`` in the jobs folder, held with ``flock`` by the
process that runs a job. Every replica of the server on the machine (deploy/serve.py starts several) looks in
the same folder, so at most ``max_jobs`` jobs train at once on the machine, whichever replica queued them. The
kernel drops a lock when its holder dies: a crashed server never leaves a slot taken."""

from __future__ import annotations

import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: slots of this process only
    fcntl = None

_LOCAL = threading.Lock()
_HELD_HERE: set[str] = set()  # the slots this process holds (without fcntl, the only record)


class Slot:
    """A held slot; ``release()`` frees it."""

    def __init__(self, path: Path, handle):
        self.path, self._handle = path, handle

    def release(self) -> None:
        with _LOCAL:
            _HELD_HERE.discard(str(self.path))
            if self._handle is not None:
                if fcntl is not None:
                    fcntl.flock(self._handle, fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None


def acquire(folder: Path, count: int, owner: str = "") -> Slot | None:
    """A free slot among ``count`` in ``folder``, held now, or None when every one is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"slot-{i}.lock"
        with _LOCAL:
            if str(path) in _HELD_HERE:
                continue
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
            if fcntl is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.close()
                    continue
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {owner}\n")  # who holds it, for a curious teacher
            handle.flush()
            _HELD_HERE.add(str(path))
            return Slot(path, handle)
    return None


def taken(folder: Path, count: int) -> int:
    """How many of the ``count`` slots are held now, by any process of the machine."""
    n = 0
    for i in range(count):
        path = folder / f"slot-{i}.lock"
        with _LOCAL:
            if str(path) in _HELD_HERE:
                n += 1
                continue
            if fcntl is None or not path.exists():
                continue
            with open(path, "a+", encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    n += 1
                else:
                    fcntl.flock(handle, fcntl.LOCK_UN)
    return n
