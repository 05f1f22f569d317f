"""What identifies a loaded model by its CONTENT, for the caches of results that every session shares:
the configuration, a digest of the weights (and class names), the device and the dtype.

Never the object's identity: a model evicted from the cache and loaded again is a new object with the
same numbers, and must find its results again; and Python reuses the ``id()`` of a freed object, so an
id in a key could hand one model's results to another.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import weights
from .inference import UNTRAINED_SEED, LoadedModel

UNTRAINED = f"random:{UNTRAINED_SEED}"  # seeded: the same numbers every time they are built


def of_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def of_file(path: Path) -> str:
    return "sha256:" + weights.sha256(Path(path))


def of_imagenet_file(path: Path, verified: bool) -> str:
    """torchvision's file: the SHA-256 prefix in its name when its content was just checked against it
    (no second read of 500 MB), else the file's own SHA-256 (a file the user chose to trust)."""
    prefix = weights.hash_prefix(Path(path).name)
    return f"sha256:{prefix}…" if verified and prefix else of_file(path)


def with_classes(digest: str, classes: str | None) -> str:
    """A checkpoint's digest combined with its class-names file's: both decide what a page shows."""
    return digest if classes is None else f"{digest}+classes:{classes}"


def identify(lm: LoadedModel, digest: str) -> LoadedModel:
    """Record the digest of what ``lm`` was loaded from (``content_key`` reads it)."""
    lm.digest = digest
    return lm


def content_key(lm: LoadedModel) -> tuple[str, str, str, str]:
    """(configuration, weights digest, device, dtype): equal for models with equal numbers on the same
    device and dtype. Read at each call: a model moved to the CPU after running out of GPU memory gets
    a new key."""
    digest = lm.__dict__.get("digest")
    if digest is None:  # never guess: two unidentified models would share one key
        raise ValueError("this model was loaded without a content digest (see model_identity.identify)")
    return (lm.config.name, digest, str(lm.device), str(lm.dtype))


def model_bytes(lm: LoadedModel) -> int:
    """Memory the model's parameters and buffers take (the attribution twin shares them)."""
    return sum(t.numel() * t.element_size() for t in (*lm.model.parameters(), *lm.model.buffers()))
