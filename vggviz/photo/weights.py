"""Where trained weights come from: torchvision's ImageNet files (found in torch hub's cache, or
downloaded with progress and a SHA-256 check), with an optional local mirror.

The URL, file name, size, class names and transforms all come from torchvision's weights enums.
The download itself is written by hand (torch.hub's has no way to report progress to a web page, no
bounded connect timeout and no mirror), keeping torch.hub's cache folder and hash-prefix rule.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import models

from ..architecture import configs
from ..i18n import N_, Text, TranslatableError

MIRROR_ENV = "VGGVIZ_WEIGHTS_URL"
TIMEOUT_S = 10.0  # connect and per-read timeout: an offline classroom gets its answer quickly
CHUNK = 1 << 20
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")


class WeightsError(TranslatableError, RuntimeError):
    """Weights that cannot be had; the message is one sentence a user can act on."""

    MESSAGES = {
        "no_pretrained": N_("configuration {config} has no public pretrained weights; "
                            "use untrained weights or a checkpoint"),
        "dropped": N_("the connection dropped after {done:.1f} of {total:.1f} MB"),
        "cut_short": N_("the connection dropped before the end of the file"),
        "cannot_write": N_("cannot write into {folder} ({reason})"),
        "http_status": N_("could not download {url} (the server answered HTTP {status} {reason})"),
        "timeout": N_("could not download {url} (no answer within {seconds:g} s)"),
        "refused": N_("could not download {url} (the connection was refused)"),
        "bad_answer": N_("could not download {url} (the server's answer was not valid HTTP: {kind})"),
        "network": N_("could not download {url} ({reason})"),
        "by_hand": N_("{cause}; copy {name} into {folder} by hand, or try again later"),
        "download_mismatch": N_("the downloaded {name} does not match its SHA-256 prefix {prefix} and was deleted"),
        "file_mismatch": N_("{name} in {folder} does not match its SHA-256 prefix {prefix}: "
                            "it is corrupt or not the official file; download it again"),
        "missing": N_("{name} is not in {folder}; download it or copy it there"),
        "unloadable": N_("{name} in {folder} cannot be loaded ({kind}); download it again"),
    }


class NoPretrainedWeights(WeightsError):
    pass


class CorruptWeights(WeightsError):
    pass


def imagenet_weights(config: str | configs.Config) -> models.WeightsEnum:
    """torchvision's ``IMAGENET1K_V1`` weights of a configuration; A-LRN and C have none."""
    config = configs.resolve(config)
    if config.torchvision_name is None:
        raise NoPretrainedWeights("no_pretrained", config=config.name)
    return models.get_model_weights(config.torchvision_name).IMAGENET1K_V1


def file_name(weights: models.WeightsEnum) -> str:
    return weights.url.rsplit("/", 1)[-1]


def checkpoint_dir() -> Path:
    """torch hub's checkpoint folder: ``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_path(weights: models.WeightsEnum) -> Path:
    return checkpoint_dir() / file_name(weights)


def url_for(weights: models.WeightsEnum) -> str:
    """The official URL, or the same file name under ``$VGGVIZ_WEIGHTS_URL`` (a school's mirror)."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return f"{mirror.rstrip('/')}/{file_name(weights)}" if mirror else weights.url


def size_mb(weights: models.WeightsEnum) -> float:
    return float(weights.meta["_file_size"])


def hash_prefix(name: str) -> str | None:
    """The hex digits torch.hub puts in a file name: the start of the file's SHA-256."""
    match = _HASH_IN_NAME.search(name)
    return match.group(1) if match else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Progress:
    done: int  # bytes
    total: int | None
    seconds: float

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None

    def text(self) -> str:
        """E.g. "12 of 507 MB, 3.4 MB/s", in the current language."""
        speed = self.done / max(self.seconds, 1e-6) / 1e6
        if self.total:
            return str(Text(N_("{done:.0f} of {total:.0f} MB, {speed:.1f} MB/s"),
                            done=self.done / 1e6, total=self.total / 1e6, speed=speed))
        return str(Text(N_("{done:.0f} MB, {speed:.1f} MB/s"), done=self.done / 1e6, speed=speed))


def download_file(
    url: str, dest: Path, expected_prefix: str | None,
    progress: Callable[[Progress], None] | None = None, timeout: float = TIMEOUT_S,
) -> Path:
    """Stream ``url`` to ``dest`` through a temporary file in the same folder, renamed only when
    complete and (if ``expected_prefix``) when its SHA-256 starts with it. Nothing is left on failure;
    every fault of the network or the server is one WeightsError."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    except OSError as exc:
        raise WeightsError("cannot_write", folder=str(dest.parent), reason=exc.strerror or str(exc)) from None
    tmp = Path(tmp_name)
    digest, done, start = hashlib.sha256(), 0, time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            while block := response.read(CHUNK):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(Progress(done, total, time.monotonic() - start))
        if total is not None and done != total:
            raise WeightsError("dropped", done=done / 1e6, total=total / 1e6)
        if expected_prefix and not digest.hexdigest().startswith(expected_prefix):
            raise CorruptWeights("download_mismatch", name=dest.name, prefix=expected_prefix)
        os.replace(tmp, dest)
        return dest
    except WeightsError:
        raise
    except http.client.IncompleteRead:  # a chunked body cut short (its length was never announced)
        raise WeightsError("cut_short") from None
    except Exception as exc:  # whatever else the network or the server does: one sentence, never a traceback
        raise network_error(url, exc, timeout) from None
    finally:
        tmp.unlink(missing_ok=True)


def network_error(url: str, exc: BaseException, timeout: float) -> WeightsError:
    """The WeightsError that says what went wrong on the way to ``url``."""
    if isinstance(exc, urllib.error.HTTPError):
        return WeightsError("http_status", url=url, status=exc.code, reason=exc.reason or "")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
        return WeightsError("timeout", url=url, seconds=timeout)
    if isinstance(reason, ConnectionRefusedError):
        return WeightsError("refused", url=url)
    if isinstance(reason, http.client.HTTPException):  # BadStatusLine, a line too long, too many headers…
        return WeightsError("bad_answer", url=url, kind=reason.__class__.__name__)
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return WeightsError("network", url=url, reason=text)


def download(weights: models.WeightsEnum, progress: Callable[[Progress], None] | None = None,
             timeout: float = TIMEOUT_S) -> Path:
    """Fetch an ImageNet file into torch hub's cache; on failure the message says where to copy it by hand."""
    dest = cached_path(weights)
    try:
        return download_file(url_for(weights), dest, hash_prefix(dest.name), progress, timeout)
    except CorruptWeights:
        raise
    except WeightsError as exc:
        raise WeightsError("by_hand", cause=exc, name=dest.name, folder=str(dest.parent)) from None


def verify(path: Path) -> None:
    """Raise CorruptWeights when a cached file's SHA-256 does not start with the digits in its name."""
    prefix = hash_prefix(path.name)
    if prefix and not sha256(path).startswith(prefix):
        raise CorruptWeights("file_mismatch", name=path.name, folder=str(path.parent), prefix=prefix)


def imagenet_state_dict(config: str | configs.Config, *, check_hash: bool = True) -> dict[str, torch.Tensor]:
    """The cached ImageNet state_dict of ``config``, loaded with ``weights_only=True``; never downloads.

    ``check_hash=False`` skips the SHA-256 check (a file the user chose to trust, or a test fixture).
    """
    weights = imagenet_weights(config)
    path = cached_path(weights)
    if not path.is_file():
        raise WeightsError("missing", name=path.name, folder=str(path.parent))
    if check_hash:
        verify(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # a truncated or foreign file: say so, never a traceback
        raise CorruptWeights("unloadable", name=path.name, folder=str(path.parent), kind=exc.__class__.__name__) from None
