"""The preprocessing's sizes come from one place: ImageNet's resize and crop from torchvision's own weights'
metadata (256 and 224, as torchvision documents VGG16_Weights.IMAGENET1K_V1), the lecture's square from the
model's input size; the training transforms and the "Show as code" script follow them at every size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import models

from vggviz.architecture import configs
from vggviz.learned import views
from vggviz.photo import inference
from vggviz.train import transforms as tfs
from vggviz.train.recipe import Recipe
from vggviz.train.script import as_code


def photo(w: int = 300, h: int = 200) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_imagenet_sizes_are_torchvisions():
    assert (inference.IMAGENET_RESIZE, inference.IMAGENET_CROP) == (256, 224)  # torchvision's documented figures
    assert [inference.imagenet_resize(s) for s in (224, 112, 64)] == [256, 128, 73]  # 64 · 256 / 224 = 73.1


def test_the_training_val_transform_at_224_is_torchvisions_imagenet_eval():
    image = photo()
    ours = tfs.val_transform("imagenet", 224)(image)
    theirs = models.VGG16_Weights.IMAGENET1K_V1.transforms()(image)
    # the same resize and crop on the same 8-bit image; float32 rounding of the normalisation only
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize("size", [64, 224])
def test_the_script_and_the_views_resize_as_the_training_does(size):
    source = as_code(Recipe(config="vgg16_bn", augment=False, size=size), "x", ["a", "b"])
    assert f"transforms.Resize({inference.imagenet_resize(size)})" in source
    image = photo()
    view = views.view(image, "imagenet", size)
    assert view.size == (size, size)
    crop = tfs.val_transform("imagenet", size).transforms[:2]
    expected = crop[1](crop[0](image))
    assert np.array_equal(np.asarray(view), np.asarray(expected))  # the same PIL operations: the same pixels


def test_the_lectures_square_is_the_models_input_size():
    image = photo()
    assert inference.prepare(image, "lecture").shape == (3, configs.DEFAULT_INPUT, configs.DEFAULT_INPUT)
    assert inference.transform("lecture")(image).shape == (3, configs.DEFAULT_INPUT, configs.DEFAULT_INPUT)
