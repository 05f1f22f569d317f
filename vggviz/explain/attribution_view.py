"""Attribution maps rendered for the browser as arrays (no matplotlib figure per widget change), with
the meanings of captum's ``visualize_image_attr``: methods, signs and outlier clipping."""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

import numpy as np
import matplotlib
from captum.attr._utils.visualization import _initialize_cmap_and_vmin_vmax, _normalize_attr

# captum's own scaling and colour maps, so signs, outlier clipping and colours mean exactly what
# visualize_image_attr means; only the drawing (matplotlib figures) is replaced by array rendering.

VIEWS = ("blended_heat_map", "heat_map", "masked_image", "alpha_scaling", "original_image")
SIGNS = ("absolute_value", "positive", "negative", "all")


@lru_cache(maxsize=8)
def colours(sign: str) -> np.ndarray:
    """captum's default colour map for ``sign`` as a 256-entry uint8 table (from vmin to vmax)."""
    cmap, _, _ = _initialize_cmap_and_vmin_vmax(sign)
    cmap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    return (cmap(np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def normalise(attr: np.ndarray, sign: str = "absolute_value", outlier_perc: float = 2.0) -> np.ndarray:
    """(3, H, W) or (H, W) attribution -> (H, W) in [-1, 1] (sign "all") or [0, 1], summed over channels and
    scaled as captum does: the top ``outlier_perc`` % of the cumulative mass is clipped."""
    if sign not in SIGNS:
        raise ValueError(f"unknown sign {sign!r}; choose one of {', '.join(SIGNS)}")
    flat = attr.sum(axis=0) if attr.ndim == 3 else attr
    if not np.any(flat):
        return np.zeros(flat.shape, np.float32)
    with warnings.catch_warnings():  # near-zero maps (untrained weights) are legitimate here
        warnings.filterwarnings("ignore", "Attempting to normalize by value approximately 0")
        return _normalize_attr(flat.astype(np.float64), sign, outlier_perc).astype(np.float32)


def render(norm: np.ndarray, photo: np.ndarray, view: str = "blended_heat_map", sign: str = "absolute_value",
           alpha_overlay: float = 0.5) -> np.ndarray:
    """A normalised map and the (H, W, 3) uint8 photo the model saw -> an RGB (or RGBA, alpha_scaling) image."""
    if view == "original_image":
        return photo
    if view in ("masked_image", "alpha_scaling") and sign == "all":
        raise ValueError(f"{view} needs one sign of attribution: choose positive, negative or absolute_value")
    if view == "masked_image":
        return (photo * np.clip(norm, 0, 1)[..., None]).astype(np.uint8)
    if view == "alpha_scaling":
        return np.dstack([photo, (np.clip(norm, 0, 1) * 255).astype(np.uint8)])
    index = ((norm + 1) / 2 if sign == "all" else np.abs(norm)) * 255
    heat = colours(sign)[np.clip(index, 0, 255).astype(np.uint8)]
    if view == "heat_map":
        return heat
    if view == "blended_heat_map":
        grey = photo.mean(axis=2, keepdims=True).repeat(3, axis=2)
        return (grey * (1 - alpha_overlay) + heat * alpha_overlay).astype(np.uint8)
    raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


def colour_bar(sign: str, width: int = 256, height: int = 14) -> np.ndarray:
    return np.repeat(colours(sign)[None, np.linspace(0, 255, width).astype(int)], height, axis=0)


def draw(attr: np.ndarray, photo: np.ndarray, view: str = "blended_heat_map", sign: str = "absolute_value",
         outlier_perc: float = 2.0) -> np.ndarray:
    """An attribution as a picture in one step: ``normalise`` then ``render``."""
    return render(normalise(attr, sign, outlier_perc), photo, view, sign)


def npy_bytes(attr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, attr)
    return buf.getvalue()
