"""Attribution maps rendered for the browser as arrays (no matplotlib figure per widget change), with
the meanings of captum's ``visualize_image_attr``: methods, signs, outlier clipping and colour maps.

captum exposes that scaling and those colour maps only inside ``visualize_image_attr``, which draws a
matplotlib figure; the few lines below restate them (tests/test_attributions.py checks them against
``captum.attr.visualization.visualize_image_attr`` itself), and the drawing is done with arrays."""

from __future__ import annotations

import io
from functools import lru_cache

import matplotlib
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

from ..i18n import Items, N_, Text, TranslatableError

# Identifiers (pages choose by them) and their labels, translated where shown (``_(VIEW_LABELS[v])``).
VIEWS = ("blended_heat_map", "heat_map", "masked_image", "alpha_scaling", "original_image")
SIGNS = ("absolute_value", "positive", "negative", "all")
VIEW_LABELS = {"blended_heat_map": N_("blended heat map"), "heat_map": N_("heat map"),
               "masked_image": N_("masked image"), "alpha_scaling": N_("alpha scaling"),
               "original_image": N_("original image")}
SIGN_LABELS = {"absolute_value": N_("absolute value"), "positive": N_("positive"), "negative": N_("negative"),
               "all": N_("all")}


class ViewError(TranslatableError, ValueError):
    MESSAGES = {
        "unknown_sign": N_("unknown sign {sign!r}; choose one of {choices}"),
        "unknown_view": N_("unknown view {view!r}; choose one of {choices}"),
        "one_sign": N_("{view} needs one sign of attribution: choose positive, negative or absolute value"),
    }


def colour_map(sign: str) -> matplotlib.colors.Colormap:
    """captum's default colour map for ``sign`` (visualize_image_attr's, for vmin…vmax)."""
    if sign == "all":
        return LinearSegmentedColormap.from_list("RdWhGn", ["red", "white", "green"])
    if sign not in SIGNS:
        raise ViewError("unknown_sign", sign=sign, choices=Items(SIGNS))
    return matplotlib.colormaps[{"positive": "Greens", "negative": "Reds", "absolute_value": "Blues"}[sign]]


@lru_cache(maxsize=8)
def colours(sign: str) -> np.ndarray:
    """captum's default colour map for ``sign`` as a 256-entry uint8 table (from vmin to vmax)."""
    return (colour_map(sign)(np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def normalise(attr: np.ndarray, sign: str = "absolute_value", outlier_perc: float = 2.0) -> np.ndarray:
    """(3, H, W) or (H, W) attribution -> (H, W) in [-1, 1] (sign "all") or [0, 1], summed over channels and
    scaled as captum does: keep the sign's part, divide by the value at which the sorted magnitudes' running sum
    reaches (100 - ``outlier_perc``) % of their total, clip. A map with nothing of that sign is all zeros
    (captum would divide by zero)."""
    if sign not in SIGNS:
        raise ViewError("unknown_sign", sign=sign, choices=Items(SIGNS))
    flat = (attr.sum(axis=0) if attr.ndim == 3 else attr).astype(np.float64)
    kept = {"all": flat, "positive": np.maximum(flat, 0), "negative": np.minimum(flat, 0),
            "absolute_value": np.abs(flat)}[sign]
    magnitudes = np.sort(np.abs(kept).ravel())
    running = np.cumsum(magnitudes)
    at = np.searchsorted(running, running[-1] * 0.01 * (100.0 - outlier_perc))  # captum's first index >= that
    threshold = magnitudes[min(at, magnitudes.size - 1)]
    if threshold == 0:
        return np.zeros(flat.shape, np.float32)
    return np.clip(kept / (-threshold if sign == "negative" else threshold), -1, 1).astype(np.float32)


def render(norm: np.ndarray, photo: np.ndarray, view: str = "blended_heat_map", sign: str = "absolute_value",
           alpha_overlay: float = 0.5) -> np.ndarray:
    """A normalised map and the (H, W, 3) uint8 photo the model saw -> an RGB (or RGBA, alpha_scaling) image."""
    if view == "original_image":
        return photo
    if view in ("masked_image", "alpha_scaling") and sign == "all":
        raise ViewError("one_sign", view=Text(VIEW_LABELS[view]))
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
    raise ViewError("unknown_view", view=view, choices=Items(VIEWS))


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
