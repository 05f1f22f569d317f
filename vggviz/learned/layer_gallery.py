"""A layer's gallery: the visualisations of its first channels as one grid, so that conv1 → conv5 reads as
edges and colours → textures → parts → objects (Olah et al. 2017's overview; OpenAI Microscope's layer pages).

It reads the gallery folder (``gallery``), where ``python -m vggviz visualize --channels 0-63`` writes a
layer's channels; computing the missing ones runs them in batches (``BATCH``) and records each batch in the
folder's index as soon as it is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..photo.inference import LoadedModel
from . import gallery
from .network import check_channels
from .visualize import EVERY, Cancel, Progress, Settings, Visualisation, cached, entry_folder, visualize


# Channels optimised together. ``python -m bench --only visualize`` on the 2-core bench machine, torch's default
# 2 threads: a batch of 8 took 0.45 of 8 single runs at 224 px (0.37 at 96 px); with 1 thread it took 1.6 (1.04):
# the batch pays off where each op's overhead counts (threads, a GPU), not in one thread's convolutions.
BATCH = 8


def read(lm: LoadedModel, layer: str, channels: Sequence[int], settings: Settings = Settings(), seed: int = 0
         ) -> list[Visualisation | None]:
    """What the gallery folder holds for ``channels`` (None where a channel is missing); computes nothing."""
    check_channels(lm, layer, list(channels))
    return [cached(lm, layer, c, settings, seed) for c in channels]


def compute(lm: LoadedModel, layer: str, channels: Sequence[int], settings: Settings = Settings(), seed: int = 0,
            *, batch: int = BATCH, progress: Callable[[Progress], None] | None = None, every: int = EVERY,
            cancel: Cancel = None, done: Callable[[list[Visualisation]], None] | None = None, cache: bool = True
            ) -> list[Visualisation]:
    """Every channel of ``channels`` (read, or optimised ``batch`` at a time and written), in order; the
    folder's index lists each batch once it is written. ``done`` gets each batch's results. ``cache=False``:
    neither read nor written."""
    channels = check_channels(lm, layer, list(channels))
    settings = settings.resolved(lm)
    where = entry_folder(lm, layer, settings) if cache else None
    out: list[Visualisation] = []
    batch = max(1, batch)
    for i in range(0, len(channels), batch):
        part = visualize(lm, layer, channels[i:i + batch], settings, seed, progress=progress, every=every,
                         cancel=cancel, cache=cache)
        if where is not None:
            header = {"config": lm.config.name, "weights": lm.weights, "digest": lm.digest, "layer": layer,
                      "settings": settings.record()}
            gallery.update_index(where, header, [gallery.entry_name("c", v.channel, seed) for v in part])
        if done is not None:
            done(part)
        out.extend(part)
    return out


@dataclass(frozen=True)
class Prepared:
    """What the gallery folder holds for one layer and one choice of settings and seed."""

    layer: str
    settings: Settings
    seed: int
    channels: tuple[int, ...]


def prepared(lm: LoadedModel, layer: str | None = None) -> list[Prepared]:
    """The galleries prepared for this model (by the command line or the app), from the folder's indexes:
    a page offers these settings first, so that their images open at once."""
    digest = lm.__dict__.get("digest")
    if digest is None:
        return []
    found: dict[tuple, list[int]] = {}
    for _folder, index in gallery.indexes(lm.config.name, digest):
        try:
            settings = Settings(**index["settings"])
        except (KeyError, TypeError, ValueError):
            continue
        if layer is not None and index.get("layer") != layer:
            continue
        for name in index["entries"]:
            match = _ENTRY.fullmatch(str(name))
            if match:
                found.setdefault((index["layer"], settings, int(match[2])), []).append(int(match[1]))
    return [Prepared(lay, s, seed, tuple(sorted(set(chs)))) for (lay, s, seed), chs in sorted(
        found.items(), key=lambda kv: (kv[0][0], kv[0][2], str(kv[0][1])))]


_ENTRY = re.compile(r"c(\d+)-s(\d+)")


def grid(pictures: Sequence[np.ndarray | None], columns: int = 8, gap: int = 2, background: int = 255) -> np.ndarray:
    """The pictures (each (H, W, 3) uint8, all one size) in rows of ``columns``, ``gap`` pixels apart; a
    missing one (None) is left blank."""
    shape = next((p.shape for p in pictures if p is not None), None)
    if shape is None:
        return np.full((1, 1, 3), background, np.uint8)
    h, w = shape[:2]
    columns = max(1, min(columns, len(pictures)))
    rows = -(-len(pictures) // columns)
    out = np.full((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, 3), background, np.uint8)
    for i, picture in enumerate(pictures):
        if picture is not None:
            r, c = divmod(i, columns)
            out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = picture
    return out
