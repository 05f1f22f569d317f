"""conv1_1's filters drawn as pictures: its weights are RGB kernels, so each one can be seen directly (the
only layer where that is so; Krizhevsky et al. 2012's Fig. 3, Zeiler & Fergus 2014's Fig. 6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..photo.inference import LoadedModel, first_filters
from .network import VisualizeError

SCALE = 16  # a 3×3 kernel becomes 48×48 pixels


def filter_pictures(lm: LoadedModel, channels: Sequence[int] | None = None, scale: int = SCALE,
                    joint: bool = True) -> list[np.ndarray]:
    """conv1_1's kernel of each channel as an RGB picture (k·scale, k·scale, 3) uint8, each weight one block of
    scale × scale pixels (nearest neighbour): grey is 0, brighter red is a larger weight on the red input.
    ``joint``: every kernel on one scale (the largest |weight| of the layer), so that their strengths compare;
    else each on its own."""
    weights = first_filters(lm)  # (C, 3, k, k)
    chosen = range(len(weights)) if channels is None else [int(c) for c in channels]
    for c in chosen:
        if not 0 <= c < len(weights):
            raise VisualizeError("channel", channel=c, layer="conv1_1", last=len(weights) - 1)
    top = float(np.abs(weights).max()) or 1.0
    pictures = []
    for c in chosen:
        w = weights[c]
        m = top if joint else (float(np.abs(w).max()) or 1.0)
        rgb = np.clip(0.5 + 0.5 * w / m, 0, 1).transpose(1, 2, 0)
        block = np.ones((scale, scale, 1), np.float32)
        pictures.append((np.kron(rgb, block) * 255 + 0.5).astype(np.uint8))
    return pictures
