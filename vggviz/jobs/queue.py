"""The server's job queue: jobs wait in order, the first one starts when a slot of the machine is free
(``slots``), runs in a worker process (``worker``), and stays findable by its id after it ends, so that a
page that was switched away from or reloaded (the id in its URL, ``?job=ID``) finds it again. The state lives
in this process, outside any Streamlit session: a session going away leaves its job running.

A thread per running job reads the worker's messages into ``Job.events``; one dispatcher thread starts jobs.
Readers take what is there (``Job.events_since``) without locks: a list only grows."""

from __future__ import annotations

import atexit
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..i18n import N_, TranslatableError, ngettext
from . import slots
from .per_process import PerProcess
from .settings import Settings
from .worker import Failure, Worker

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ENDED = (DONE, FAILED, CANCELLED)
POLL_SECONDS = 0.5  # how often a queue whose slots another replica holds looks again
STOP_GRACE_SECONDS = 10.0  # a cancelled job that has not stopped by then is killed
KEEP_SECONDS = 6 * 3600  # an ended job stays findable this long…
KEEP_JOBS = 200  # …and the newest ones only
MAX_EVENTS = 100_000  # per job: a long run's batches, not an unbounded list


class JobError(TranslatableError, RuntimeError):
    MESSAGES = {
        "off": N_("Training is turned off on this server (VGGVIZ_TRAINING=off)."),
        "full": "",  # said by __str__: its count takes a plural (ngettext), which a template here cannot
        "died": N_("The training process ended without a result (exit code {code})."),
        "cancelled": N_("The job was cancelled."),
    }

    def __str__(self) -> str:
        if self.code == "full":
            return ngettext("{n} job is already waiting on this server, the most it takes. Try again when a job "
                            "has ended.",
                            "{n} jobs are already waiting on this server, the most it takes. Try again when a job "
                            "has ended.", self.params["n"])
        return super().__str__()


@dataclass(eq=False)
class Job:
    """One job. Read its fields; only the queue writes them."""

    id: str
    label: str
    estimate: float | None  # seconds the job should take, as guessed before it starts
    state: str = QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    events: list = field(default_factory=list)
    result: Any = None
    error: BaseException | Failure | None = None
    cancel_requested: bool = False
    dropped_events: int = 0
    meta: Any = None  # what the submitter keeps with the job (the page's description of it)
    on_end: Callable[["Job"], None] | None = field(default=None, repr=False)  # called in the server once it ended
    _call: tuple | None = field(default=None, repr=False)  # (fn, args, kwargs) until it starts
    _ended: bool = field(default=False, repr=False)  # see ended

    @property
    def ended(self) -> bool:
        """True once the job ended and its ``on_end`` ran: whoever sees it ended sees what ``on_end`` did (partial
        files removed, costs recorded). ``state`` holds the end state a moment earlier, while ``on_end`` runs."""
        return self._ended

    def events_since(self, n: int) -> list:
        """The events after the first ``n`` read (a copy)."""
        return self.events[n:]

    def seconds_left(self, now: float | None = None) -> float | None:
        """The latest event's ``seconds_left`` while running, else the estimate less the time spent."""
        if self.ended:
            return 0.0
        for event in reversed(self.events[-50:]):
            left = getattr(event, "seconds_left", None)
            if left is not None:
                return float(left)
        if self.estimate is None:
            return None
        spent = (now or time.time()) - self.started if self.started else 0.0
        return max(0.0, self.estimate - spent)


class JobQueue:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.load()
        self._cond = threading.Condition()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: list[Job] = []
        self._workers: dict[str, Worker] = {}
        self._dispatcher: threading.Thread | None = None
        self._closed = False

    # --- asking ------------------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, label: str = "", estimate: float | None = None,
               meta: Any = None, on_end: Callable[[Job], None] | None = None, **kwargs: Any) -> Job:
        """Queue ``fn(*args, report=..., should_stop=..., **kwargs)`` (a module-level function and picklable
        arguments). ``on_end(job)`` runs in this process once the job ran and ended, to record what it measured
        or remove what a worker killed in the middle of writing left behind: outside the queue's lock, before
        the job reads as ended (``Job.ended``); an error in it is ignored. Raises JobError when training is off
        or the queue is full."""
        if not self.settings.enabled:
            raise JobError("off")
        with self._cond:
            self._forget_old()
            if len(self._waiting) >= self.settings.max_queue:
                raise JobError("full", n=len(self._waiting))
            job = Job(secrets.token_urlsafe(8), label, estimate, meta=meta, on_end=on_end, _call=(fn, args, kwargs))
            self._jobs[job.id] = job
            self._waiting.append(job)
            if self._dispatcher is None or not self._dispatcher.is_alive():
                self._dispatcher = threading.Thread(target=self._dispatch, name="vggviz-jobs", daemon=True)
                self._dispatcher.start()
            self._cond.notify_all()
        return job

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or None (unknown, or ended long ago)."""
        with self._cond:
            return self._jobs.get(job_id or "")

    def position(self, job: Job) -> int | None:
        """1 for the next job to start, 2 for the one after it…; None when it is not waiting."""
        with self._cond:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def wait_seconds(self, job: Job, now: float | None = None) -> float | None:
        """How long a waiting job should wait before it starts (at ``now``, default the present): what the
        running jobs have left and the estimates of the jobs ahead of it, shared among the slots. None when
        some figure is unknown."""
        with self._cond:
            ahead = self._waiting[:self._waiting.index(job)] if job in self._waiting else None
            running = [self._jobs[i] for i in self._workers]
        if ahead is None:
            return 0.0
        parts = [j.seconds_left(now) for j in running] + [j.estimate for j in ahead]
        if any(p is None for p in parts):
            return None
        return sum(parts) / self.settings.max_jobs

    def running_elsewhere(self) -> int:
        """Jobs training on this machine that this server does not run (other replicas)."""
        with self._cond:
            here = len(self._workers)
        return max(0, slots.taken(self.settings.folder, self.settings.max_jobs) - here)

    def jobs(self) -> list[Job]:
        with self._cond:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> None:
        """A waiting job leaves the queue; a running one is asked to stop, and killed if it has not stopped
        within STOP_GRACE_SECONDS. Nothing is written either way: the trainer writes only at its end, and checks
        for a cancel once more before its files are renamed into place. A job that returns its result all the
        same (the cancel came after its last check) ends DONE: what it reports, it wrote."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.state in ENDED:  # ended, or its on_end running: nothing left to stop
                return
            job.cancel_requested = True
            if job in self._waiting:
                self._waiting.remove(job)
                self._end(job, CANCELLED)
                self._cond.notify_all()
                return
            worker = self._workers.get(job_id)
        if worker is not None:
            worker.stop()
            timer = threading.Timer(STOP_GRACE_SECONDS, worker.kill)
            timer.daemon = True
            timer.start()

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ended (scripts and tests; a page polls instead)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            job = self._jobs[job_id]
            while not job.ended:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(job_id)
                self._cond.wait(left)
        return job

    def close(self) -> None:
        """Cancel every job and stop the dispatcher (a server shutting down; tests)."""
        with self._cond:
            self._closed = True
            ids = list(self._jobs)
            self._cond.notify_all()
        for job_id in ids:
            self.cancel(job_id)
        for worker in list(self._workers.values()):
            worker.kill()

    # --- running -----------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._waiting[0]
            slot = slots.acquire(self.settings.folder, self.settings.max_jobs, owner=job.id)
            with self._cond:
                if slot is None or not self._waiting or self._waiting[0] is not job:
                    if slot is not None:  # the job was cancelled meanwhile
                        slot.release()
                    else:
                        self._cond.wait(POLL_SECONDS)  # a job ends here (notify) or elsewhere (poll)
                    continue
                self._waiting.pop(0)
                fn, args, kwargs = job._call
                job._call = None
                try:
                    worker = Worker(fn, args, kwargs, threads=self.settings.threads)
                except Exception as exc:  # noqa: BLE001 (unpicklable arguments, no process to start)
                    slot.release()
                    job.error = exc
                    self._end(job, FAILED)
                    continue
                job.state, job.started = RUNNING, time.time()
                self._workers[job.id] = worker
            threading.Thread(target=self._follow, args=(job, worker, slot), name=f"vggviz-job-{job.id}",
                             daemon=True).start()

    def _follow(self, job: Job, worker: Worker, slot: slots.Slot) -> None:
        got_result = False
        try:
            for kind, obj in worker.messages():
                if kind == "event":
                    if len(job.events) < MAX_EVENTS:
                        job.events.append(obj)
                    else:
                        job.dropped_events += 1
                elif kind == "result":
                    job.result, got_result = obj, True
                else:
                    job.error = obj
            code = worker.join()
        finally:
            slot.release()
            with self._cond:
                self._workers.pop(job.id, None)
                if got_result:  # it ended before it saw the cancel: its result (and what it wrote) is real
                    self._end(job, DONE, ended=False)
                elif job.cancel_requested:
                    job.error = JobError("cancelled")
                    self._end(job, CANCELLED, ended=False)
                else:
                    job.error = job.error or JobError("died", code=code)
                    self._end(job, FAILED, ended=False)
            try:
                if job.on_end is not None:  # outside the lock: its file I/O must not hold up every page's get()
                    try:
                        job.on_end(job)
                    except Exception:  # noqa: BLE001 (the submitter's bookkeeping cannot fail the job)
                        pass
            finally:
                with self._cond:  # only now does it read as ended: a waiter that wakes sees what on_end did
                    job._ended = True
                    self._cond.notify_all()

    def _end(self, job: Job, state: str, ended: bool = True) -> None:
        """The job's end state; ``ended=False`` while its ``on_end`` has still to run (``_follow`` sets it)."""
        job.state, job.finished, job._call, job._ended = state, time.time(), None, ended

    def _forget_old(self) -> None:
        now = time.time()
        ended = [j for j in self._jobs.values() if j.ended]
        for j in ended[:max(0, len(ended) - KEEP_JOBS)]:
            self._jobs.pop(j.id, None)
        for j in ended:
            if j.finished is not None and now - j.finished > KEEP_SECONDS:
                self._jobs.pop(j.id, None)


def _server_queue() -> JobQueue:
    queue = JobQueue()
    atexit.register(queue.close)
    return queue


SHARED: PerProcess[JobQueue] = PerProcess(_server_queue)


def shared() -> JobQueue:
    """The server's queue (one per process), made at first use with the settings of that moment."""
    return SHARED.get()
