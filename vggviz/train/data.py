"""The photos a run trains and validates on: a folder or zip of class folders, read with Evaluate's hostile-safe
archive reader. ``train/`` + ``val/`` (the course's ``flower_data`` layout) are used as they are; otherwise each
class is split with a seed (``recipe.VAL_SHARE`` held out, as the course's ``split_data.py``). Classes are numbered as
torchvision's ImageFolder numbers them (sorted folder names), which ``class_indices.json`` records.

Server folders come from ``$VGGVIZ_DATA`` (else ``data/`` beside app.py), listed like the checkpoint folder:
only entries directly inside it, chosen by name, no link leading out of it."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..evaluate import archive
from ..evaluate.archive import Reader
from ..evaluate.errors import EvaluationError, Skip, Skipped
from ..i18n import N_, Text, ngettext
from .errors import NotPhoto, TrainError
from .recipe import VAL_SHARE

ENV = "VGGVIZ_DATA"
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "data"
FEW_PHOTOS = 10  # a class with fewer training photos than this gets a warning
SPLITS = ("train", "val")


@dataclass(frozen=True)
class FewPhotos:
    """A class with fewer than ``few`` training photos: a warning made where it is shown, in the reader's language
    and with the plural its count takes (``Text`` has no plural forms)."""

    name: str
    n: int
    few: int = FEW_PHOTOS

    def __str__(self) -> str:
        return ngettext("The class {name} has only {n} training photo; {few} or more learn better.",
                        "The class {name} has only {n} training photos; {few} or more learn better.", self.n,
                        name=self.name, few=self.few)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


@dataclass
class TrainingData:
    name: str
    reader: Reader
    classes: list[str]  # ImageFolder's order: index = position
    train: list[tuple[str, int]]  # (key the reader reads, class index)
    val: list[tuple[str, int]]
    split: str  # "folders" (train/ + val/ as given) or "seeded"
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # folders beside train/ and val/ (test/), not read

    def counts(self) -> list[tuple[int, int]]:
        """Per class: (training photos, val photos), files listed (some may still fail to decode)."""
        out = [[0, 0] for _ in self.classes]
        for which, items in enumerate((self.train, self.val)):
            for _key, label in items:
                out[label][which] += 1
        return [tuple(c) for c in out]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def warnings(self) -> list[Text | FewPhotos]:
        """Classes with too few photos, classes without val photos, files left out."""
        found: list[Text | FewPhotos] = []
        for name, (train, val) in zip(self.classes, self.counts()):
            if train < FEW_PHOTOS:
                found.append(FewPhotos(name, train))
            if val == 0:
                found.append(Text(N_("The class {name} has no val photos: its val accuracy cannot be measured."),
                                  name=name))
        found += [Text(N_("The folder {folder} is not read: training reads train/ and val/ only."), folder=f"{f}/")
                  for f in self.ignored]
        found += [Text(N_("Left out: {reason}"), reason=s.reason) for s in self.skipped]
        return found


def open_training_data(source: str | Path | bytes, name: str | None = None, val_share: float = VAL_SHARE,
                       seed: int = 0) -> TrainingData:
    """Read a folder, a zip file on disk or a zip's bytes (named ``name``). Raises TrainError or EvaluationError
    (the archive reader's: not found, not a zip, a bomb, no class folders) with one clear sentence."""
    if isinstance(source, bytes):
        listing = archive.open_zip(source, name or "archive.zip")
    else:
        listing = archive.open_path(source)
    name = name or listing.name
    splits = {k.lower(): k for k in listing.folders}
    if set(SPLITS) <= set(splits) and any(_nested(listing, splits[s]) for s in SPLITS):  # a test/ beside: ignored
        return _given_split(listing, name, splits)
    return _seeded_split(listing, name, val_share, seed)


def _parts(key: str) -> list[str]:
    return [p for p in key.replace("\\", "/").split("/") if p and p != "."]


def _depth(listing: archive.Listing) -> int:
    return len(_parts(listing.found.root)) if listing.found else 0


def _nested(listing: archive.Listing, folder: str) -> bool:
    """Whether ``folder`` has files in class folders below it (train/daisy/1.jpg), not only directly in it."""
    depth = _depth(listing)
    return any(len(_parts(key)) > depth + 2 for key in listing.folders[folder])


def _photos(keys: list[str], skipped: list[Skipped]) -> list[str]:
    """The keys with a photo's suffix, as ImageFolder keeps only its image extensions; the others are left out
    before training (a README in a class folder is no training photo), named in ``skipped``."""
    kept = []
    for key in keys:
        if PurePosixPath(key).suffix.lower() in archive.PHOTO_SUFFIXES:
            kept.append(key)
        else:
            skipped.append(Skipped(key, NotPhoto("not_photo", file=key)))
    return kept


def _check_classes(classes: dict[str, list[str]], name: str, root: str) -> None:
    if len(classes) < 2:
        raise TrainError("one_class", name=name, folder=next(iter(classes), "—"))
    for folder, keys in classes.items():
        if not keys:
            raise TrainError("empty_class", name=name, folder=f"{root}{folder}/")


def held_out(n: int, val_share: float) -> int:
    """Val photos of a class of ``n``: the course's ``int(n * split_rate)`` (``split_data.py``), but at least one
    (so that every class's val accuracy is measured) and never the class's last photo."""
    return min(n - 1, max(1, int(n * val_share))) if n >= 2 and val_share > 0 else 0


def _seeded_split(listing: archive.Listing, name: str, val_share: float, seed: int) -> TrainingData:
    root = listing.found.root if listing.found else ""
    skipped = [s for s in listing.skipped if s.reason.code != "empty_class"]
    folders = {folder: _photos(keys, skipped) for folder, keys in listing.folders.items()}
    _check_classes(folders, name, root)
    classes = sorted(folders)
    rng = random.Random(seed)
    train, val = [], []
    for label, folder in enumerate(classes):
        keys = sorted(folders[folder])
        n_val = held_out(len(keys), val_share)
        held = set(rng.sample(keys, n_val))
        train += [(k, label) for k in keys if k not in held]
        val += [(k, label) for k in keys if k in held]
    return TrainingData(name, listing.reader, classes, train, val, "seeded", skipped)


def _given_split(listing: archive.Listing, name: str, splits: dict[str, str]) -> TrainingData:
    depth = _depth(listing)
    root = listing.found.root if listing.found else ""
    by_split: dict[str, dict[str, list[str]]] = {}
    skipped = list(listing.skipped)
    for split in SPLITS:
        folders: dict[str, list[str]] = {}
        for key in listing.folders[splits[split]]:
            parts = _parts(key)
            if len(parts) <= depth + 2:  # directly in train/ or val/, in no class folder
                skipped.append(Skipped(key, Skip("outside_class", file=key)))
            else:
                folders.setdefault(parts[depth + 1], []).append(key)
        by_split[split] = {folder: _photos(keys, skipped) for folder, keys in folders.items()}
    _check_classes(by_split["train"], name, f"{root}{splits['train']}/")
    classes = sorted(by_split["train"])
    for folder in by_split["val"]:
        if folder not in by_split["train"]:
            raise TrainError("no_train_class", name=name, folder=folder)
    index = {c: i for i, c in enumerate(classes)}
    train = [(k, index[c]) for c in classes for k in sorted(by_split["train"][c])]
    val = [(k, index[c]) for c in classes for k in sorted(by_split["val"].get(c, []))]
    ignored = sorted(f for f in listing.folders if f.lower() not in SPLITS)
    return TrainingData(name, listing.reader, classes, train, val, "folders", skipped, ignored)


# --- the server's data folder ----------------------------------------------------------------------

def folder(environ: Mapping[str, str] | None = None) -> Path:
    """``$VGGVIZ_DATA``, or ``data/`` beside app.py."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT_FOLDER


def listing(root: Path | None = None) -> list[str]:
    """Names of the folders and ``.zip`` files directly inside the data folder whose real location is there
    (sorted; empty when it does not exist)."""
    try:
        root = (root or folder()).resolve(strict=True)
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            real = Path(entry.path).resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real.parent == root and (real.is_dir() or (real.is_file() and real.suffix.lower() == ".zip")):
            found.append(entry.name)
    return found


def find(name: str, root: Path | None = None) -> Path | None:
    """The listed entry called ``name`` (looked up in a fresh listing: ``../x`` or ``a/b`` find nothing)."""
    root = root or folder()
    return root / name if name in listing(root) else None


__all__ = ["TrainingData", "open_training_data", "folder", "listing", "find", "EvaluationError"]
