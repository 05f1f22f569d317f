"""A generated data set whose classes are separable: coloured shapes on noisy grey, one folder per class
(ImageFolder's layout), small enough for tests that train."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = {"circle": (220, 40, 40), "square": (40, 200, 60), "triangle": (50, 70, 230)}


def shape(kind: str, rng: np.random.Generator, size: int = 64) -> Image.Image:
    background = (128 + rng.integers(-8, 9, (size, size, 3))).astype(np.uint8)
    im = Image.fromarray(background)
    draw = ImageDraw.Draw(im)
    r = int(rng.integers(size // 4, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    colour = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in CLASSES[kind])
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif kind == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return im


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def make_folder(root: Path, per_class: int = 12, seed: int = 0, prefix: str = "") -> Path:
    """``root/<prefix>circle/000.png`` …; returns ``root``."""
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        folder = root / prefix / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{i:03d}.png").write_bytes(png(shape(kind, rng)))
    return root


def make_zip(per_class: int = 12, seed: int = 0, prefix: str = "shapes/") -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for kind in CLASSES:
            for i in range(per_class):
                zf.writestr(f"{prefix}{kind}/{i:03d}.png", png(shape(kind, rng)))
    return buf.getvalue()
