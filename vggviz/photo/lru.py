"""A thread-safe least-recently-used cache bounded by BYTES, for the large objects a classroom server
shares between sessions: loaded models (~0.5 GB each) and decoded photos (up to 150 MB each).

Streamlit's ``st.cache_resource`` bounds a cache by entry count and age only, and functools.lru_cache
by count: neither can say "keep as many models as fit in 2 GB". So this small one is written by hand.
A value is loaded at most once at a time per key (sessions asking for the same missing model wait
for the one load instead of each loading a copy), and a failed load caches nothing. Torch-free.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


def budget_bytes(variable: str, default_mb: int, environ: Mapping[str, str] | None = None) -> int:
    """A budget in bytes from the environment variable ``variable`` (megabytes), else ``default_mb``.
    A value that is not a positive number falls back to the default."""
    raw = (os.environ if environ is None else environ).get(variable, "").strip()
    try:
        mb = float(raw)
    except ValueError:
        mb = 0.0
    return int((mb if mb > 0 else default_mb) * 2**20)


class BytesLRU(Generic[T]):
    """Values by key, at most ``budget`` bytes in all (as ``size`` reports them); the least recently
    used are dropped first. The newest value is always kept, even alone above the budget: it is the
    one a session is about to use. Peak memory is the budget plus the value being loaded."""

    def __init__(self, budget: int, size: Callable[[T], int]) -> None:
        self.budget, self._size = budget, size
        self._entries: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, list] = {}  # key -> [its load lock, threads using it]

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value for ``key``, loaded with ``load()`` on a miss (in the calling thread)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
            loading = self._loading.setdefault(key, [threading.Lock(), 0])
            loading[1] += 1
        try:
            with loading[0]:
                with self._lock:
                    if key in self._entries:  # loaded by another session while this one waited
                        self._entries.move_to_end(key)
                        return self._entries[key][0]
                value = load()
                self.put(key, value)
                return value
        finally:
            with self._lock:
                loading[1] -= 1
                if not loading[1]:
                    del self._loading[key]

    def put(self, key: Hashable, value: T) -> None:
        size = int(self._size(value))
        with self._lock:
            self._entries[key] = (value, size)
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and self._used() > self.budget:
                self._entries.popitem(last=False)

    def _used(self) -> int:
        return sum(size for _, size in self._entries.values())

    def used(self) -> int:
        """Bytes held now."""
        with self._lock:
            return self._used()

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
