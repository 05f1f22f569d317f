"""One object per process, made at first use: the server's job queue and its known training costs. Streamlit
runs every session's script in a thread of one process, so the first sessions may ask at once; a lock makes
sure one object is made and every session gets it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """``get()`` makes the object with ``make`` the first time, then returns that one."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self.instance: T | None = None  # tests set None for a fresh server

    def get(self) -> T:
        with self._lock:
            if self.instance is None:
                self.instance = self._make()
            return self.instance
