"""Test helpers: generated weights (nothing is downloaded), a local HTTP server, synthetic photos."""

from __future__ import annotations

import contextlib
import http.server
import io
import socket
import threading
from pathlib import Path

import numpy as np
from PIL import Image


def photo(seed: int = 0, size: tuple[int, int] = (300, 240)) -> Image.Image:
    """A smooth random RGB photo (gradients plus noise), different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(6 * x + seed), np.cos(5 * y - seed), np.sin(4 * (x + y))], -1)
    arr = ((base * 0.4 + 0.5 + rng.normal(0, 0.08, (h, w, 3))).clip(0, 1) * 255).astype(np.uint8)
    return Image.fromarray(arr)


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def torchvision_state_dict(name: str, seed: int = 0) -> dict:
    """A torchvision model's state_dict with seeded random weights (stand-in for the real ImageNet file)."""
    import torch
    from torchvision import models

    torch.manual_seed(seed)
    model = getattr(models, name)()
    # Larger-than-default classifier weights, so that probabilities are not all ~1/1000.
    with torch.no_grad():
        for m in model.classifier:
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(0, 0.05)
    return model.state_dict()


def install_imagenet_file(torch_home: Path, name: str, seed: int = 0) -> Path:
    """Save a generated state_dict under torchvision's own file name in ``torch_home``'s hub cache."""
    import torch
    from torchvision import models

    weights = models.get_model_weights(name).IMAGENET1K_V1
    path = torch_home / "hub" / "checkpoints" / weights.url.rsplit("/", 1)[-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision_state_dict(name, seed), path)
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        server = self.server
        server.requests.append(self.path)
        if server.status_line is not None:  # not HTTP at all: http.client raises BadStatusLine
            self.wfile.write(server.status_line + b"\r\n\r\n")
            return
        body = server.files.get(self.path.rsplit("/", 1)[-1])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if server.chunked:  # chunked transfer, cut short: http.client raises IncompleteRead
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n" % len(body) + body[: server.drop_after or len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.drop_after is not None:  # announce the whole file, send part of it, hang up
            self.wfile.write(body[: server.drop_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        for i in range(0, len(body), 64 * 1024):
            self.wfile.write(body[i:i + 64 * 1024])


@contextlib.contextmanager
def file_server(files: dict[str, bytes], drop_after: int | None = None, chunked: bool = False,
                status_line: bytes | None = None):
    """Serve ``files`` (name -> bytes) on 127.0.0.1 at a free port; yields the server (``.url``, ``.requests``).

    ``drop_after``: send that many bytes of a file, then hang up; ``chunked``: send it as one chunk of a chunked
    body and hang up halfway (or after ``drop_after``); ``status_line``: answer every request with that line
    instead of HTTP."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.drop_after, server.requests = files, drop_after, []
    server.chunked, server.status_line = chunked, status_line
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def cli_in_process(args: list[str]) -> tuple[int, str]:
    """``python -m vggviz ARGS`` run in this process (no interpreter start-up): its exit status and stderr. The
    language it sets (``--lang``) is this thread's only while it runs."""
    import contextlib

    from vggviz import cli, i18n

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), i18n.use(i18n.language()):
        status = cli.main(args)
    return status, err.getvalue()


def share_loaded_models(monkeypatch, cache: dict) -> None:
    """``inference.load_model`` returns the model it built before for the same arguments, kept in ``cache`` (a
    test module's own), for the in-process CLI runs: loading is tested elsewhere, and building vgg11's 133 M
    weights every run would dominate those tests."""
    from vggviz.photo import inference

    real = inference.load_model

    def load_model(config, weights="imagenet", **kw):
        key = (str(config), weights, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = real(config, weights, **kw)
        return cache[key]
    monkeypatch.setattr(inference, "load_model", load_model)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plain(markdown: str) -> str:
    """What an escaped Markdown string shows: backslash escapes removed."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)


@contextlib.contextmanager
def one_runtime():
    """One Runtime for every AppTest session, as in a real server. AppTest (not made for threads) installs a
    fresh mock Runtime in a process-wide global for each run and clears it afterwards, so runs in threads
    would clear each other's; here its swaps land on a stand-in and all sessions share one mock Runtime."""
    from types import SimpleNamespace
    from unittest.mock import MagicMock

    import streamlit.testing.v1.app_test as app_test
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = BidiComponentManager()
    saved_module, saved_instance = app_test.Runtime, Runtime._instance
    app_test.Runtime, Runtime._instance = SimpleNamespace(_instance=None), runtime
    try:
        yield runtime
    finally:
        app_test.Runtime, Runtime._instance = saved_module, saved_instance


def batch_norm_not_identity(model, seed: int) -> None:
    """Give every batch norm of ``model`` running statistics and affine weights that are not the identity
    (freshly initialised ones would let a test miss a skipped batch norm)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.running_mean.normal_(0, 0.2, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.2, generator=gen)


def torchvision_twin(name: str, model):
    """torchvision's own ``name`` (e.g. "vgg11_bn") holding ``model``'s weights, in eval mode; made on the meta
    device, so nothing is initialised only to be overwritten."""
    import torch
    from torchvision import models

    with torch.device("meta"):
        reference = getattr(models, name)()
    reference.load_state_dict(model.state_dict(), assign=True)
    return reference.eval()
