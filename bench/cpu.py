"""Other processes' CPU time, to the nanosecond, and the machine's cores split between the servers and the
browser that measures them.

/proc/PID/stat counts in 10 ms ticks, as much as a whole first visit costs a replica; the kernel keeps every
process's CPU time to the nanosecond behind a CPU-time clock (clock_getcpuclockid(3): every thread's, those
that ended included), which ``clock_gettime`` reads. glibc's own ``clock_getcpuclockid`` names the clock.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def clock(pid: int) -> int:
    """The id of ``pid``'s CPU-time clock."""
    clock_id = ctypes.c_int()  # clockid_t
    error = _libc.clock_getcpuclockid(pid, ctypes.byref(clock_id))
    if error:
        raise OSError(error, os.strerror(error))
    return clock_id.value


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds (user + system, every thread, ended ones included) the processes ``pids`` have used."""
    return sum(time.clock_gettime(clock(pid)) for pid in pids)


def halves() -> tuple[set[int], set[int]] | None:
    """This process's cores in two halves, the servers' and the browser's; None on a single core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return set(cores[:len(cores) // 2]), set(cores[len(cores) // 2:])


def pin(pids: Iterable[int], cores: set[int]) -> None:
    """Every thread of ``pids`` on ``cores`` (the threads they start later inherit it)."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError, FileNotFoundError):
                os.sched_setaffinity(int(task.name), cores)


@contextlib.contextmanager
def apart(servers: list[int]) -> Iterator[None]:
    """The servers ``servers`` on one half of the cores, this process (and the browser it starts inside the
    block, which inherits its cores) on the other, as a class's phones are not the server. Chromium on the
    servers' cores costs them CPU of their own: a replica's threads are preempted, moved between cores and find
    their caches cold, and a first visit cost it half as much again (python -m bench --only first_visit)."""
    split = halves()
    if split is None:
        yield
        return
    everything = os.sched_getaffinity(0)
    pin(servers, split[0])
    os.sched_setaffinity(0, split[1])
    try:
        yield
    finally:
        os.sched_setaffinity(0, everything)
        with contextlib.suppress(FileNotFoundError):
            pin(servers, everything)
