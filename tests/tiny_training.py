"""A tiny training set made in the test: two classes of coloured squares on noise, easy to tell apart, as a zip
of class folders (the layout the Train page and the trainer read)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image

COLOURS = {"blue": (30, 60, 220), "red": (220, 40, 30)}


def photo(colour: tuple[int, int, int], seed: int, size: int = 48) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
    a, b = sorted(rng.integers(4, size - 4, 2))
    pixels[a:b + 4, a:b + 4] = colour
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def files(per_class: int = 6) -> dict[str, bytes]:
    return {f"{name}/{i:02d}.png": photo(colour, seed=100 * k + i) for k, (name, colour) in enumerate(COLOURS.items())
            for i in range(per_class)}


def zip_bytes(per_class: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files(per_class).items():
            z.writestr(name, data)
    return out.getvalue()
