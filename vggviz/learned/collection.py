"""A photo collection for dataset examples: the bundled samples, a folder (any layout: flat, nested or class
folders), or a zip (bytes or a path), listed by the same hostile-safe reader as Evaluate (size caps, zip
bombs, links never followed; bad files are skipped with the reason) and identified by its content.

The digest covers every listed file's name and the SHA-256 of its bytes (read through the same reader): a
renamed, added, removed or edited photo is another collection, a zip repacked with the same photos is the
same one. Reading costs one pass over the files, a fraction of the forward pass each photo then takes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..evaluate import archive
from ..evaluate.archive import FolderReader, Reader
from ..evaluate.errors import Skipped
from ..photo import images

SAMPLES = "samples"  # the name that means the bundled sample photos (vggviz/samples)


@dataclass(frozen=True, eq=False)
class Collection:
    """Photo files (keys of ``reader``, sorted: photo i is ``files[i]``) and what was left out while listing."""

    name: str
    reader: Reader
    files: list[str]
    skipped: list[Skipped] = field(default_factory=list)

    @cached_property
    def digest(self) -> str:
        h = hashlib.sha256()
        for key in self.files:
            try:
                content = hashlib.sha256(self.reader.read(key)).hexdigest()
            except Exception as exc:  # unreadable now: it will be skipped when scored, its name still counts
                content = f"unreadable:{type(exc).__name__}"
            h.update(f"{key}\0{content}\n".encode("utf-8", "surrogateescape"))
        return "sha256:" + h.hexdigest()


def samples() -> Collection:
    """The photos bundled with vggviz."""
    return Collection(SAMPLES, FolderReader(images.SAMPLES_DIR), sorted(images.SAMPLES.values()))


def open_collection(source: str | Path | bytes, name: str | None = None) -> Collection:
    """``"samples"`` (the bundled photos), a folder, a zip on disk, or a zip's bytes (``name``: its file name).
    Raises EvaluationError (translated) for a missing path or a refused archive."""
    if isinstance(source, str) and source == SAMPLES:
        return samples()
    photos = archive.open_photos(source, name)
    return Collection(photos.name, photos.reader, photos.files, photos.skipped)
