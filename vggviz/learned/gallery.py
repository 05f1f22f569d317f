"""The layout of optimised images in the gallery folder, defined once: the command line writes it (a teacher
prepares a layer on a GPU machine), the app reads it (and serves it from a CPU one).

    <gallery>/visualize/<model>/model.json                  config, weights, digest (for a person)
    <gallery>/visualize/<model>/<layer>/<settings>/
        index.json                                           model, layer, settings, and the entries there
        c0012-s0.json   c0012-s0-0.png [c0012-s0-1.png …]    channel 12, seed 0: its record, then its images
    <gallery>/visualize/<model>/class-<method>/<settings>/
        k0717-s0.json   k0717-s0-0.png                       class 717's model, seed 0

``<model>`` is a digest of the configuration and the weights' content digest (``photo/model_identity``), not
of the device or dtype: an image computed on a GPU is the one a CPU would draw. ``<settings>`` is a digest of
everything else that decides the image. An entry's images are written first and its JSON last, each
atomically (``store.write_bytes``): a reader takes an entry whose JSON is there as complete, so a cancelled
or crashed run leaves nothing a reader would find.
"""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from . import store

FOLDER = "visualize"
INDEX = "index.json"
_INDEX_LOCK = threading.Lock()  # one index update at a time in this process
log = logging.getLogger(__name__)


def model_key(config: str, digest: str) -> str:
    return store.key("model", config, digest)


def folder(config: str, digest: str, group: str, settings: dict, root: Path | None = None) -> Path:
    """Where the entries of one model, layer (or ``class-<method>``) and settings live."""
    root = store.root() if root is None else Path(root)
    return root / FOLDER / model_key(config, digest) / group / store.key(settings)


def entry_name(prefix: str, index: int, seed: int) -> str:
    """``c0012-s0`` (channel 12, seed 0), ``k0717-s0`` (class 717)."""
    return f"{prefix}{int(index):04d}-s{int(seed)}"


def write_entry(where: Path, name: str, record: dict, images: np.ndarray) -> None:
    """The images (n, H, W, 3) uint8 as PNGs, then the record (with the PNGs' names) as JSON."""
    files = []
    for i, image in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image)).save(buf, "PNG")
        files.append(f"{name}-{i}.png")
        store.write_bytes(where / files[-1], buf.getvalue())
    store.write_json(where / f"{name}.json", {**record, "files": files})


def keep(where: Path, name: str, record: dict, images: np.ndarray, config: str, weights: str) -> bool:
    """``write_entry`` (and the model's ``model.json``) as a cache: a folder that cannot be written (read-only on
    a server, a full disk) costs the cache, not the result; the failure is logged. True when written."""
    try:
        write_model(where, config, record["digest"], weights)
        write_entry(where, name, record, images)
        return True
    except OSError as exc:
        log.warning("the gallery folder %s could not be written (%s): the result is not cached", where, exc)
        return False


def read_entry(where: Path, name: str) -> tuple[dict, np.ndarray] | None:
    """(record, images) of an entry, or None when it is missing or damaged (then it is computed again)."""
    record = store.read_json(Path(where) / f"{name}.json")
    if not isinstance(record, dict) or not isinstance(record.get("files"), list) or not record["files"]:
        return None
    images = []
    try:
        for file in record["files"]:
            if not isinstance(file, str) or Path(file).name != file:  # a name, never a path out of the folder
                return None
            with Image.open(Path(where) / file) as im:
                images.append(np.asarray(im.convert("RGB")))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if len({a.shape for a in images}) != 1:
        return None
    return record, np.stack(images)


def write_model(where: Path, config: str, digest: str, weights: str) -> None:
    """``model.json`` in the model's folder (two above an entry folder ``where``), for a person reading it."""
    path = Path(where).parents[1] / "model.json"
    if store.read_json(path) is None:
        store.write_json(path, {"config": config, "weights": weights, "digest": digest})


def update_index(where: Path, header: dict, names: list[str]) -> dict:
    """Add ``names`` to the folder's index (``header``: model, layer, settings), written atomically."""
    with _INDEX_LOCK:
        index = store.read_json(Path(where) / INDEX)
        entries = index.get("entries", []) if isinstance(index, dict) else []
        index = {**header, "entries": sorted(set(entries) | set(names))}
        store.write_json(Path(where) / INDEX, index)
    return index


def read_index(where: Path) -> dict | None:
    index = store.read_json(Path(where) / INDEX)
    return index if isinstance(index, dict) and isinstance(index.get("entries"), list) else None


def indexes(config: str, digest: str, root: Path | None = None) -> list[tuple[Path, dict]]:
    """Every index of one model's folder: what was prepared for it (layers, settings, entries)."""
    root = store.root() if root is None else Path(root)
    base = root / FOLDER / model_key(config, digest)
    found = []
    for path in sorted(base.glob(f"*/*/{INDEX}")):
        index = read_index(path.parent)
        if index is not None:
            found.append((path.parent, index))
    return found
