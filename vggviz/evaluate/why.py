"""Why a photo was misclassified: Grad-CAM at the last conv layer for the true class and for the predicted
one, side by side ("why dandelion and not daisy?"), through the attribution engine (captum)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..explain.attributions import Params, attributor, block_ends
from ..photo import images, inference, memory
from ..photo.inference import LoadedModel
from .archive import Listing


@dataclass(frozen=True)
class Contrast:
    seen: np.ndarray  # (H, W, 3) uint8: the photo as the model saw it
    true: np.ndarray  # (H, W) Grad-CAM for the true class
    predicted: np.ndarray  # (H, W) Grad-CAM for the predicted class
    layer: str


def photo(listing: Listing, file: str) -> Image.Image:
    """One photo of a listing, decoded as every upload is."""
    return images.decode_image(listing.reader.read(file), file)


def contrast(lm: LoadedModel, image: Image.Image, preprocess: str, true: int, predicted: int,
             layer: str | None = None) -> Contrast:
    """Grad-CAM for model classes ``true`` and ``predicted`` at ``layer`` (default: the last conv layer)."""
    layer = layer or block_ends(lm.model)[-1]
    result = inference.run(lm, image, preprocess, features=False)
    x = inference.input_tensor(lm, result)
    try:
        maps = [attributor(lm).attribute(x, Params("gradcam", target, layer=layer)) for target in (true, predicted)]
    finally:
        memory.release_free_memory()
    return Contrast(inference.model_view(result), maps[0], maps[1], layer)
