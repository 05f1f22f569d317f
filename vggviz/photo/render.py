"""Feature maps and filters rendered to arrays: one NumPy-tiled image per layer (not one chart per
channel), channel overlays on the photo, statistics. Torch-free.

Maps may arrive in float16 (how results store them); NumPy has no fast float16 arithmetic, so each
function computes in float32."""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image
from plotly.colors import hex_to_rgb, sequential

from ..i18n import N_

# The colour-scale choices: English values that pages compare against, translated where shown (``_(scale)``).
SCALES = (N_("per channel"), N_("shared across the layer"))


@lru_cache(maxsize=8)
def lut(name: str = "Viridis") -> np.ndarray:
    """A 256-entry uint8 colour table interpolated from one of Plotly's sequential scales (no matplotlib)."""
    stops = np.array([hex_to_rgb(c) if c.startswith("#") else _rgb(c) for c in getattr(sequential, name)], float)
    x = np.linspace(0, 1, len(stops))
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, x, stops[:, i]) for i in range(3)], axis=1).round().astype(np.uint8)


def _rgb(text: str) -> tuple[int, int, int]:
    return tuple(int(float(v)) for v in text[text.index("(") + 1:text.index(")")].split(",")[:3])


def normalise(maps: np.ndarray, shared: bool, top: float = 1.0) -> np.ndarray:
    """Scale (C, H, W) maps to [0, ``top``], per channel or with one range for the whole layer; float32."""
    maps = maps.astype(np.float32, copy=False)
    flat = maps.reshape(len(maps), -1)
    lo = flat.min() if shared else flat.min(axis=1)[:, None, None]
    hi = flat.max() if shared else flat.max(axis=1)[:, None, None]
    out = np.subtract(maps, lo, dtype=np.float32)
    out *= top / np.where(hi > lo, hi - lo, 1.0).astype(np.float32)
    return out


def select_channels(maps: np.ndarray, top: int | None, relu: bool = False) -> np.ndarray:
    """Indices of all channels, or of the ``top`` channels by mean activation (after ReLU if ``relu``),
    highest first. Reads the maps without copying a whole layer when all channels are wanted."""
    if top is None or top >= len(maps):
        return np.arange(len(maps))
    maps = maps.astype(np.float32, copy=False)
    means = np.array([np.maximum(m, 0).mean() if relu else m.mean() for m in maps])
    return np.argsort(-means, kind="stable")[:top]


WHITE = 255  # palette entry for padding; data use entries 0..254
DISPLAY_WIDTH = 1460  # Streamlit re-encodes any image wider than this on every rerun


def tile(maps: np.ndarray, shared: bool = False, cols: int | None = None, pad: int = 1,
         colormap: str = "Viridis", max_width: int | None = None, relu: bool = False) -> Image.Image:
    """(C, H, W) float maps -> one palette ("P" mode) grid image, channels in reading order, ``pad`` white
    pixels apart; ``relu`` rectifies first; with ``max_width``, each map is then averaged down by the
    smallest integer factor that makes the grid fit (the browser would only scale it down again).

    It runs on every conv layer of every photo, so it is vectorised end to end and leaves the colours to
    the palette: one scaling pass and one uint8 transpose, no per-pixel colour lookup."""
    if relu:
        maps = np.maximum(maps, 0, dtype=np.float32)  # a new array: the caller's maps stay as they are
    c, h, w = maps.shape
    cols = cols or math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    if max_width and cols * (w + pad) - pad > max_width:
        maps = box_average(maps, math.ceil((cols * (w + pad) - pad) / max_width))
        h, w = maps.shape[1:]
    scaled = normalise(maps, shared, WHITE - 1)
    cells = np.full((rows * cols, h + pad, w + pad), WHITE, np.uint8)
    cells[:c, :h, :w] = scaled  # float -> uint8 on assignment
    index = cells.reshape(rows, cols, h + pad, w + pad).transpose(0, 2, 1, 3).reshape(rows * (h + pad), -1)
    image = Image.fromarray(np.ascontiguousarray(index[: rows * (h + pad) - pad, : cols * (w + pad) - pad]), "P")
    palette = lut(colormap).copy()
    palette[WHITE] = 255
    image.putpalette(palette.tobytes())
    return image


def box_average(maps: np.ndarray, f: int) -> np.ndarray:
    """(C, H, W) -> (C, H // f, W // f) float32, each output the mean of an f×f block (edges that do not
    fill a block are dropped). Written as f² strided additions: NumPy's ``mean`` over the two block axes
    of a reshaped array is about 5× slower, and reads float16 no faster."""
    h, w = maps.shape[1] // f * f, maps.shape[2] // f * f
    out = maps[:, 0:h:f, 0:w:f].astype(np.float32)
    for i in range(f):
        for j in range(f):
            if i or j:
                out += maps[:, i:h:f, j:w:f]
    out *= 1 / (f * f)
    return out


def png(image: Image.Image | np.ndarray, max_width: int = DISPLAY_WIDTH) -> bytes:
    """Encode once for the browser: scaled down (area filter) to ``max_width`` if wider, fast PNG compression.
    Passing these bytes to ``st.image`` skips Streamlit's own re-encoding on every rerun."""
    buf = io.BytesIO()
    _fit(image, max_width).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def jpeg(image: Image.Image | np.ndarray, max_width: int = DISPLAY_WIDTH, quality: int = 95) -> bytes:
    """As ``png``, for photographs: a 224×224 photo encodes in 0.5 ms instead of 7 ms, half the bytes, with
    no difference the eye can see (quality 95, colour kept at full resolution: 4:4:4)."""
    buf = io.BytesIO()
    _fit(image, max_width).convert("RGB").save(buf, "JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def _fit(image: Image.Image | np.ndarray, max_width: int) -> Image.Image:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if image.width > max_width:
        rgb = image.convert("RGB") if image.mode == "P" else image
        image = rgb.resize((max_width, round(image.height * max_width / image.width)), Image.BOX)
    return image


def overlay(photo: Image.Image | np.ndarray, channel: np.ndarray, alpha: float = 0.55,
            colormap: str = "Viridis") -> Image.Image:
    """One channel upsampled (bilinear) to the photo's size and blended over it."""
    if isinstance(photo, np.ndarray):
        photo = Image.fromarray(photo)
    norm = normalise(channel[None], shared=False)[0]
    heat = Image.fromarray(lut(colormap)[(norm * 255).astype(np.uint8)]).resize(photo.size, Image.BILINEAR)
    return Image.blend(photo.convert("RGB"), heat, alpha)


def stats(channel: np.ndarray) -> dict[str, float]:
    channel = channel.astype(np.float32, copy=False)
    return {
        "min": float(channel.min()), "max": float(channel.max()), "mean": float(channel.mean()),
        "zeros": float((channel <= 0).mean()),
    }


def filters_rgb(weight: np.ndarray, scale: int = 8, pad: int = 2) -> np.ndarray:
    """conv1_1's (64, 3, k, k) kernels as small RGB patches, each scaled to [0, 255], enlarged ``scale`` times."""
    n, _, k, _ = weight.shape
    lo = weight.min(axis=(1, 2, 3), keepdims=True)
    hi = weight.max(axis=(1, 2, 3), keepdims=True)
    patches = ((weight - lo) / np.where(hi > lo, hi - lo, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    patches = patches.repeat(scale, axis=1).repeat(scale, axis=2)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    size = k * scale
    out = np.full((rows * (size + pad) - pad, cols * (size + pad) - pad, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (size + pad):r * (size + pad) + size, c * (size + pad):c * (size + pad) + size] = patches[i]
    return out
