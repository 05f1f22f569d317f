"""The gallery folder: what a teacher computes before class (dataset examples, feature visualisations) and
every session of the app reads.

``VGGVIZ_GALLERY``, else ``gallery/`` beside ``app.py``. An entry's path holds a digest of everything that
decides its content (weights, collection, preprocessing, settings), so a changed model or setting is another
entry and never a stale one; entries are written atomically (a temporary file in the same folder, then
``os.replace``), so a cancelled run or a full disk leaves no half-written file for a reader to find.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENV = "VGGVIZ_GALLERY"
DEFAULT = Path(__file__).resolve().parents[2] / "gallery"


def root(environ: Mapping[str, str] | None = None) -> Path:
    """The gallery folder (it need not exist yet)."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT


def key(*parts: object) -> str:
    """A short digest of ``parts`` (JSON-serialisable values), for a file or folder name."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, making its folder; on any failure nothing is left behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, value: object) -> Path:
    return write_bytes(path, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"))


def read_json(path: Path) -> object | None:
    """The JSON at ``path``, or None when it is missing or damaged (a damaged entry is recomputed)."""
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
