"""Checkpoints kept in a folder on the server, for files larger than the upload cap (a VGG state_dict
is about 500 MB; uploads stop at ``server.maxUploadSize``, 50 MB by default).

The folder is ``$VGGVIZ_CHECKPOINTS``, else ``checkpoints/`` beside ``app.py``. Only ``.pth`` and
``.pt`` files directly inside it are offered, chosen by name from the listing: never a path a user
typed, nothing in a subfolder, no link that leads out of the folder. A checkpoint's class names come
from ``<stem>.json`` beside it, else from the folder's ``class_indices.json``, else none. Torch-free.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV = "VGGVIZ_CHECKPOINTS"
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "checkpoints"  # beside app.py
SUFFIXES = (".pth", ".pt")
CLASSES_FILE = "class_indices.json"
# A page's address names the server checkpoint chosen as the weights by ``?ckpt=NAME`` (the Train page's links, a
# reload, a page shared with the class).
LINK_PARAM = "ckpt"


@dataclass(frozen=True)
class ServerCheckpoint:
    """One listed file and the class-names file that goes with it (or None)."""

    name: str
    path: Path
    classes: Path | None
    # Name, size and modification time of both files when listed: a cache key that changes when either
    # is replaced, without reading 500 MB on every rerun.
    stamp: tuple


def folder(environ: Mapping[str, str] | None = None) -> Path:
    """The server's checkpoint folder: ``$VGGVIZ_CHECKPOINTS`` or ``checkpoints/`` beside app.py."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT_FOLDER


def _inside(root: Path, name: str) -> Path | None:
    """``root/name`` when it is a regular file (after links) whose real location is directly in ``root``."""
    path = root / name
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a dangling or looping link
        return None
    return path if real.parent == root and real.is_file() else None


def listing(root: Path | None = None) -> list[ServerCheckpoint]:
    """The usable checkpoints directly inside ``root`` (default: ``folder()``), sorted by name;
    an empty list when the folder does not exist or cannot be read."""
    try:
        root = (root or folder()).resolve(strict=True)
        names = sorted(entry.name for entry in os.scandir(root))
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(".") or Path(name).suffix.lower() not in SUFFIXES:
            continue
        path = _inside(root, name)
        if path is None:
            continue
        classes = classes_for(root, name)
        try:
            stamp = _stamp(path) + (_stamp(classes) if classes else ())
        except OSError:  # taken away while being listed
            continue
        found.append(ServerCheckpoint(name, path, classes, stamp))
    return found


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (path.name, st.st_size, st.st_mtime_ns)


def classes_for(root: Path, name: str) -> Path | None:
    """The class-names file of checkpoint ``name`` in ``root``: ``<stem>.json``, else ``class_indices.json``."""
    for candidate in (Path(name).stem + ".json", CLASSES_FILE):
        path = _inside(root, candidate)
        if path is not None:
            return path
    return None


def find(name: str, root: Path | None = None) -> ServerCheckpoint | None:
    """The listed checkpoint called ``name`` (looked up in a fresh listing, so a name that is not a
    listed file, such as ``../x.pth`` or ``sub/x.pth``, finds nothing)."""
    return next((c for c in listing(root) if c.name == name), None)
