"""The allocator calls the server makes: freed heap pages really go back to the OS (RSS, in a fresh process)."""

import subprocess
import sys

import pytest

from vggviz.photo import memory

pytestmark = pytest.mark.skipif(memory._glibc() is None, reason="glibc only; elsewhere both calls do nothing")

FRAGMENTED = """
import ctypes
import numpy as np
from vggviz.photo import memory

libc = ctypes.CDLL("libc.so.6")
libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: 1 MB blocks come from the heap, as a server's do once warm
libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD: glibc would otherwise trim the heap's top by itself

def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024

blocks = [np.ones(1 << 18, np.float32) for _ in range(200)]  # 200 MB of transient work, pages touched
pinned = np.ones(1 << 18, np.float32)  # a long-lived result allocated after them, above the holes
before = rss()
del blocks
after_free = rss()
released = memory.release_free_memory()
print(before, after_free, rss(), released)
"""


def test_release_free_memory_hands_freed_heap_pages_back():
    out = subprocess.run([sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, check=True).stdout
    before, after_free, after_release, released = out.split()
    before, after_free, after_release = int(before), int(after_free), int(after_release)
    assert after_free > before - 20  # free() alone keeps the pages: the pinned block holds the heap's top
    assert released == "True" and after_free - after_release > 150


ARENAS = """
import ctypes, sys, threading
import numpy as np
from vggviz.photo import memory

capped = memory.cap_arenas(2) if sys.argv[1] == "cap" else None
threads = 8
barrier = threading.Barrier(threads + 1)
held = []

def work():  # every thread allocates while all of them are alive, as a classroom's sessions do
    held.append([np.ones(8192) for _ in range(4)])  # 64 KB blocks: below the mmap threshold, from an arena
    barrier.wait()
    barrier.wait()

workers = [threading.Thread(target=work) for _ in range(threads)]
for w in workers:
    w.start()
barrier.wait()
ctypes.CDLL("libc.so.6").malloc_stats()  # glibc prints one "Arena N:" block per arena to stderr
barrier.wait()
for w in workers:
    w.join()
print(capped)
"""


def test_cap_arenas_takes_effect():
    """Eight threads allocating at once: glibc counts its arenas (malloc_stats); the cap keeps them at two."""
    counts = {}
    for mode in ("cap", "free"):
        out = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True)
        counts[mode] = sum(line.startswith("Arena ") for line in out.stderr.splitlines())
        assert out.stdout.strip() == ("True" if mode == "cap" else "None")
    assert counts["cap"] <= 2 < counts["free"], counts
