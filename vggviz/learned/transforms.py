"""The random transforms applied to the image at every step, so that what the optimiser draws must survive
small shifts, scalings and rotations ("transformation robustness": Olah, Mordvintsev & Schubert, "Feature
Visualization", Distill 2017). The set and its numbers are torch-lucent's ``transform.standard_transforms``
(``lucent/optvis/transform.py``, Apache-2.0; REFERENCE.md §11):

    pad 12 (constant 0.5), jitter 8, random scale from {1 + (i − 5)/50, i = 0…10},
    random rotate from {−10…10} ∪ 5 × {0} degrees, jitter 4.

One random choice per step for the whole batch, as lucent makes it. Every draw comes from the caller's
``torch.Generator`` (never torch's global one: the app runs many sessions in one process). Written with
torchvision's transforms v2 functions where they fit (the pad, the rotation; zero fill as kornia's, which
lucent used); the scaling is ``interpolate(align_corners=True)`` as lucent's, which torchvision's resize does
not offer, and the whole-pixel jitter a pad and a crop.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

PAD = 12
PAD_VALUE = 0.5
JITTER = (8, 4)  # before and after the scale and rotation
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))
ANGLES = tuple(range(-10, 11)) + (0,) * 5


def _choice(options: tuple, generator: torch.Generator):
    return options[int(torch.randint(len(options), (1,), generator=generator))]


def pad(image: torch.Tensor, width: int = PAD, value: float = PAD_VALUE) -> torch.Tensor:
    return TF.pad(image, [width] * 4, fill=value)


def jitter(image: torch.Tensor, d: int, generator: torch.Generator) -> torch.Tensor:
    """Shift right and down by (dx, dy), each drawn from 0…d−1 pixels, the uncovered border filled with zeros
    (kornia's ``translate``, as lucent's ``jitter``). A whole-pixel shift is a pad and a crop: one exact op, where
    an affine warp would resample (and cost several ops a step)."""
    dx, dy = (int(v) for v in torch.randint(d, (2,), generator=generator))
    return F.pad(image, [dx, -dx, dy, -dy])


def random_scale(image: torch.Tensor, generator: torch.Generator, scales: tuple = SCALES) -> torch.Tensor:
    """Resize by a factor from ``scales`` (sizes rounded up), padding back with zeros when it shrinks."""
    scale = _choice(scales, generator)
    if scale == 1:  # the identity (skipped: one op less a step)
        return image
    h, w = image.shape[-2:]
    size = [math.ceil(scale * h), math.ceil(scale * w)]
    out = F.interpolate(image, size=size, mode="bilinear", align_corners=True)
    pad_y, pad_x = max(0, math.ceil((h - size[0]) / 2)), max(0, math.ceil((w - size[1]) / 2))
    return F.pad(out, [pad_y, pad_x] * 2)  # lucent's order, kept: the image is square


def random_rotate(image: torch.Tensor, generator: torch.Generator, angles: tuple = ANGLES) -> torch.Tensor:
    """Rotate about the centre by an angle from ``angles`` (degrees), bilinear, zeros outside."""
    angle = float(_choice(angles, generator))
    if angle == 0:  # the identity (skipped: one resampling less a step)
        return image
    return TF.rotate(image, angle, interpolation=InterpolationMode.BILINEAR, fill=None)


def standard(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """lucent's ``standard_transforms``, in order, on (N, 3, H, W) in [0, 1]."""
    image = jitter(pad(image), JITTER[0], generator)
    image = random_rotate(random_scale(image, generator), generator)
    return jitter(image, JITTER[1], generator)
