"""What the model sees of a photo, in two steps: the geometry (resize, centre crop) as an 8-bit RGB image
(the *view*), then the view as a normalised tensor.

Both preprocessings of the app (``inference.transform``) resize and crop the decoded 8-bit photo before
they turn it into floats (torchvision's ``ImageClassification`` on a PIL image: resize, crop,
``pil_to_tensor``, ÷255, normalise), so the view determines the model's input exactly: a view stored as
PNG (lossless) gives back the very tensor the model scored, and every receptive-field box is in its
pixels. At the default size the composition is ``inference.transform`` (a test checks it); other sizes
scale the resize the same way (ImageNet's 256 → 224 crop becomes size·256/224 → size)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

from ..architecture import configs
from ..photo import inference


def view(image: Image.Image, preprocess: str, size: int = configs.DEFAULT_INPUT) -> Image.Image:
    """The ``size``×``size`` RGB image the preprocessing ``preprocess`` makes of ``image`` before normalising."""
    if preprocess == "imagenet":
        resized = F.resize(image, inference.imagenet_resize(size),
                           interpolation=InterpolationMode.BILINEAR, antialias=True)
        return F.center_crop(resized, [size, size])
    if preprocess == "lecture":
        return F.resize(image, [size, size], interpolation=InterpolationMode.BILINEAR, antialias=True)
    inference.transform(preprocess)  # raises ModelError naming the choices
    raise AssertionError(preprocess)


def to_input(image: Image.Image, preprocess: str) -> torch.Tensor:
    """A view as the normalised float tensor (3, H, W) the model reads."""
    mean, std = inference.mean_std(preprocess)
    return F.normalize(F.to_tensor(image), list(mean), list(std))


def transform(preprocess: str, size: int = configs.DEFAULT_INPUT) -> Callable[[Image.Image], torch.Tensor]:
    """photo -> normalised tensor (3, size, size): ``to_input(view(...))``, picklable for DataLoader workers."""
    view(Image.new("RGB", (8, 8)), preprocess, size)  # an unknown preprocessing fails here, not in a worker
    return _Transform(preprocess, size)


class _Transform:
    def __init__(self, preprocess: str, size: int) -> None:
        self.preprocess, self.size = preprocess, size

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return to_input(view(image, self.preprocess, self.size), self.preprocess)


def padding_colour(preprocess: str) -> tuple[int, int, int]:
    """The colour whose normalised value is 0: what conv1_1's zero padding amounts to in the photo (ImageNet's
    mean colour, or mid-grey for the lecture's 0.5 / 0.5). Patches are padded with it where the receptive
    field runs past the border."""
    mean, _ = inference.mean_std(preprocess)
    return tuple(round(m * 255) for m in mean)
