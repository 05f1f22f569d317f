"""The app and the browser that drives it, for the pictures of the docs (``python -m docs.pictures``) and the
browser tests (tests/test_browser.py): ``streamlit run app.py`` started on 127.0.0.1 and waited for, and how
Debian's Chromium is launched."""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]  # REFERENCE.md §6


class AppDidNotStart(RuntimeError):
    """The app exited, or did not answer its health check in time; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(folder: pathlib.Path, flags: Sequence[str] = (), env: Mapping[str, str] | None = None,
               start_s: float = 90) -> Iterator[str]:
    """``streamlit run app.py`` (with ``flags``) on a free port of 127.0.0.1, with an empty torch hub cache in
    ``folder`` (no ImageNet file: untrained weights), an empty gallery folder there, no weights mirror, and ``env`` on top of this process's
    environment; its output goes to ``folder/streamlit.log``. Yields its URL once it answers its health check
    (AppDidNotStart after ``start_s`` seconds, or when it exits), and stops it afterwards."""
    env = {**os.environ, "TORCH_HOME": str(folder / "torch"), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "VGGVIZ_GALLERY": str(folder / "gallery"), **(env or {})}
    env.pop("VGGVIZ_WEIGHTS_URL", None)
    port = free_port()
    log = folder / "streamlit.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *flags],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + start_s
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise AppDidNotStart(f"streamlit did not start:\n{log.read_text()[-2000:]}") from None
                    time.sleep(0.3)  # polling a starting server, not waiting on a page
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
