"""Which class each class folder holds: by name (class_indices.json, ImageNet's categories), or, for a
model whose classes have no names, by torchvision ImageFolder's rule (sorted folder names -> 0, 1, ...),
the order the lecture's train.py used. Folders that fit no class are refused, never guessed."""

from __future__ import annotations

import re

from ..i18n import Items
from ..photo.inference import unnamed_classes
from .errors import EvaluationError, Found

SHOWN = 8  # folders and class names quoted in a message


def match(folders: list[str], classes: list[str], name: str, found: Found | None = None) -> dict[str, int]:
    """Class folder -> index of the model's class. Names match exactly, else ignoring case and the
    difference between spaces, underscores and hyphens (``golden_retriever`` is ``golden retriever``).
    ``found`` (the listing's) is what a refusal says was found; by default, the folders alone."""
    found = found or Found(name, "", tuple(sorted(folders)), (), ())
    if classes == unnamed_classes(len(classes)):
        if len(folders) != len(classes):
            raise EvaluationError("class_count", name=name, classes=len(classes), found=found)
        return {folder: i for i, folder in enumerate(sorted(folders))}
    exact: dict[str, list[int]] = {}
    loose: dict[str, list[int]] = {}
    for i, cls in enumerate(classes):
        exact.setdefault(cls, []).append(i)
        loose.setdefault(_key(cls), []).append(i)
    mapping, unmatched, ambiguous = {}, [], []
    for folder in sorted(folders):
        hits = exact.get(folder) or loose.get(_key(folder), [])
        if len(hits) == 1:
            mapping[folder] = hits[0]
        else:
            (ambiguous if hits else unmatched).append(folder)
    if unmatched:
        raise EvaluationError("unmatched", folders=_quoted(unmatched), examples=_quoted(classes), found=found)
    if ambiguous:
        raise EvaluationError("ambiguous", folders=_quoted(ambiguous))
    return mapping


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name).strip().casefold()


def _quoted(names: list[str]) -> Items:
    return Items(names[:SHOWN], more=len(names) - SHOWN)
