"""Pictures of dataset examples: a patch (the unit's receptive field cut from what the model saw, at a fixed
display size) and the whole photo with that box and the channel's map over it. Torch-free.

The patch is the layer table's box (``Examples.box``, ``lecture.unit_box``: Araujo et al.'s closed form),
not a window of our own: where it runs past the photo it is filled with the colour the model's zero padding
stands for (the preprocessing's mean colour), so a patch at the border looks as the unit sees it."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..photo import images, render
from . import views
from .examples import Example, Examples, ExamplesError

PATCH = 96  # pixels per side on screen: 9 patches in a 3×3 grid fit a phone's width


def cut(view: Image.Image, example: Example, colour: tuple[int, int, int]) -> Image.Image:
    """The full receptive field of ``example`` from ``view``, ``colour`` where it runs past the border."""
    box = example.box
    h, w = box.size
    canvas = Image.new("RGB", (w, h), colour)
    canvas.paste(view, (-box.left, -box.top))
    return canvas


def patch(examples: Examples, example: Example, size: int = PATCH) -> Image.Image:
    """``example``'s receptive field as a ``size`` × ``size`` picture (enlarged without smoothing when the
    field is smaller, so conv1's 3-pixel fields show their pixels; shrunk by area averaging when larger).
    A photo missing from the gallery gives a plain grey square."""
    colour = views.padding_colour(examples.settings.preprocess)
    try:
        region = cut(examples.view(example.index), example, colour)
    except ExamplesError:
        return Image.new("RGB", (size, size), (128, 128, 128))
    resample = Image.NEAREST if region.width <= size else Image.BOX
    return region.resize((size, size), resample)


def photo(examples: Examples, example: Example, channel_map: np.ndarray | None = None,
          alpha: float = 0.5) -> Image.Image:
    """What the model saw of ``example``'s photo, with the channel's map (``examples.channel_map``) blended
    over it when given, and the receptive field drawn (the part past the border on a grey margin)."""
    image = examples.view(example.index)
    if channel_map is not None:
        image = render.overlay(image, channel_map, alpha=alpha)
    return images.draw_receptive_field(image, example.box, example.clipped)

