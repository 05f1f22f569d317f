"""Figures measured on the real server: ``streamlit run app.py`` started here as the README says (the
repository's .streamlit/config.toml applies), driven by protocol clients (``bench.client``) that leave
the server's CPU to the server. The server's own CPU time and memory are read from /proc.

vgg16 (configuration D) with untrained weights (an empty TORCH_HOME: the ImageNet file is missing, so
the app falls back to untrained weights), English, sample or generated photos.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.client import FINISHED, Session
from bench.cpu import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
SCALES = ("shared across the layer", "per channel")
# Predict's photo sources as shown, and the user keys of their widgets: a camera_input hands the server its JPEG
# through the same upload endpoint as a file_uploader (the frontend names it camera-input-<time>.jpg).
UPLOAD, CAMERA = ("Upload", "photo_upload"), ("Take a photo", "photo_camera")  # the feature-maps page's colour-scale radio, as shown
# Streamlit's defaults, to show what the settings in .streamlit/config.toml save.
DEFAULTS = ("--server.fileWatcherType", "auto", "--runner.postScriptGC", "true")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free port of 127.0.0.1, with optional extra command-line flags."""

    def __init__(self, flags: Sequence[str] = (), env: dict[str, str] | None = None, port: int | None = None):
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._home = tempfile.TemporaryDirectory()  # an empty TORCH_HOME: untrained weights
        env = dict(os.environ if env is None else env)
        env.setdefault("TORCH_HOME", self._home.name)
        env.pop("VGGVIZ_WEIGHTS_URL", None)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *flags],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"the server did not start: {self.output()[-2000:]}")
                time.sleep(0.1)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def cpu(self) -> float:
        """Seconds of CPU the server process has used, every thread, user and system (bench/cpu.py's clock)."""
        return cpu_seconds([self.proc.pid])

    def _status(self, field: str) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise KeyError(field)

    def rss(self) -> float:
        """Resident memory now, MB."""
        return self._status("VmRSS")

    def peak(self) -> float:
        """Peak resident memory since the start, MB."""
        return self._status("VmHWM")

    def session(self, page: str | None = None, query: str = "lang=en") -> Session:
        """A new client session, its first run done (on ``page`` if given)."""
        s = Session(self.url, query=query)
        run = s.rerun(page=page)
        if run.status != FINISHED:
            raise RuntimeError(f"{page}: {run.status}")
        return s

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._home.cleanup()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cpu_per_call(server: Server, call: Callable[[int], object], n: int) -> float:
    """The server's CPU seconds per call of ``call(i)``, over ``n`` calls made one after another."""
    start = server.cpu()
    for i in range(n):
        call(i)
    return (server.cpu() - start) / n


def display_rerun_cpu(server: Server, n: int = 40) -> float:
    """Server CPU per display-only rerun: the feature-maps page's colour scale switched back and forth,
    the forward pass and both grids already cached."""
    s = server.session("feature_maps")
    for scale in SCALES * 2:  # warm both display choices
        s.set("fm_scale", string_value=scale)
    try:
        return cpu_per_call(server, lambda i: s.set("fm_scale", string_value=SCALES[i % 2]), n)
    finally:
        s.close()


def new_session_cpu(server: Server, page: str, n: int = 10) -> float:
    """Server CPU for a new session opening ``page`` on the sample photo, its results already cached."""
    server.session(page).close()  # the first one computes and caches

    def one(_: int) -> None:
        server.session(page).close()
    return cpu_per_call(server, one, n)


def rss_drift(server: Server, first: int = 10, total: int = 200) -> tuple[float, float]:
    """Resident memory (MB) after ``first`` and after ``total`` display-only reruns of one session."""
    s = server.session("feature_maps")
    after_first = 0.0
    for i in range(total):
        s.set("fm_scale", string_value=SCALES[i % 2])
        if i + 1 == first:
            after_first = server.rss()
    s.close()
    return after_first, server.rss()


def photo_to_predictions(server: Server, pairs: Sequence[tuple[bytes, bytes]]) -> tuple[float, float]:
    """Median seconds from sending a photo to seeing its predictions on Predict: taken with the camera, and
    uploaded. One session per source; each pair holds the same pixels in two files whose bytes differ (a JPEG
    comment), so that neither finds the other's cached decode or prediction; which source goes first alternates,
    so that drift hits both alike. The camera is driven as the browser's camera_input sends its shot: a JPEG
    named camera-input-<time>.jpg through the upload endpoint (capturing the frame is the phone's own work)."""
    sessions = {}
    for label, key in (CAMERA, UPLOAD):
        sessions[key] = server.session("predict")
        sessions[key].set("photo_source", string_value=label)
    seconds: dict[str, list[float]] = {CAMERA[1]: [], UPLOAD[1]: []}
    try:
        for i, (shot, upload) in enumerate(pairs):
            turns = [(CAMERA[1], f"camera-input-2026-01-01T00_00_{i:02d}.000Z.jpg", shot),
                     (UPLOAD[1], f"photo{i}.jpg", upload)]
            for key, name, data in turns if i % 2 == 0 else turns[::-1]:
                start = time.perf_counter()
                run = sessions[key].upload(key, name, data, mime="image/jpeg")
                if not run.finished or not run.of_type("plotly_chart"):
                    raise RuntimeError(f"{key} {i}: {run.status}, no predictions chart")
                seconds[key].append(time.perf_counter() - start)
    finally:
        for s in sessions.values():
            s.close()
    return statistics.median(seconds[CAMERA[1]]), statistics.median(seconds[UPLOAD[1]])


def class_opens_predict(server: Server, photos: Sequence[bytes]) -> tuple[float, list[float], float]:
    """``len(photos)`` sessions open Predict, switch to Upload, and then upload their photos all at once
    (a class told "now upload yours"). Returns the seconds from that moment until the last session has its
    predictions, each session's own seconds, and the server's CPU seconds meanwhile."""
    sessions = []
    for _ in photos:  # each student opens the page first
        s = server.session("predict")
        s.set("photo_source", string_value=UPLOAD[0])
        sessions.append(s)
    barrier = threading.Barrier(len(sessions) + 1)
    seconds: list[float] = [0.0] * len(sessions)
    errors: list[BaseException] = []

    def student(i: int) -> None:
        try:
            barrier.wait()
            start = time.perf_counter()
            run = sessions[i].upload(UPLOAD[1], f"student{i}.jpg", photos[i], mime="image/jpeg")
            if not run.finished or not run.of_type("plotly_chart"):
                raise RuntimeError(f"student {i}: {run.status}, no predictions chart")
            seconds[i] = time.perf_counter() - start
        except BaseException as exc:  # reported after the join
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=student, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    cpu = server.cpu()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - start, server.cpu() - cpu
    for s in sessions:
        s.close()
    if errors:
        raise errors[0]
    return elapsed, seconds, cpu
