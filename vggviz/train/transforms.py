"""The pictures a run trains and validates on, made the way the app will later read the checkpoint.

A checkpoint with a new head and no batch norm is read as the course's (REFERENCE.md §4): the app then
preprocesses with ``Resize((224, 224))`` and Normalize(0.5, 0.5), so those are also the val transform here and
the normalisation of training; batch-norm checkpoints are read with ImageNet's preprocessing, and get it here.
So Evaluate on the val split gives the val accuracy a run reported. Augmentation is the course's
RandomResizedCrop + RandomHorizontalFlip, drawn from a seed per (run, epoch or view, photo): the same run
gives the same pictures in any process and any number of DataLoader workers."""

from __future__ import annotations

import torch
from torchvision import transforms

from ..architecture import configs
from ..photo import inference
from ..photo.checkpoints import Architecture


def preprocess_for(config: str | configs.Config, num_classes: int) -> str:
    """The preprocessing the app will infer for the checkpoint this run writes: "lecture" or "imagenet"."""
    arch = Architecture(configs.resolve(config), "torchvision", 4096, num_classes)
    return "lecture" if arch.lecture else "imagenet"


def val_transform(preprocess: str, size: int) -> transforms.Compose:
    """What the app does before the forward pass, at ``size``: at 224 the same as ``inference.transform``."""
    mean, std = inference.mean_std(preprocess)
    if preprocess == "lecture":
        resize = [transforms.Resize((size, size))]
    else:
        resize = [transforms.Resize(inference.imagenet_resize(size)), transforms.CenterCrop(size)]
    return transforms.Compose([*resize, transforms.ToTensor(), transforms.Normalize(mean, std)])


def train_transform(preprocess: str, size: int, augment: bool) -> transforms.Compose:
    if not augment:
        return val_transform(preprocess, size)
    mean, std = inference.mean_std(preprocess)
    return transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(), transforms.Normalize(mean, std)])


def seeded(transform, image, *key: int) -> torch.Tensor:
    """``transform(image)`` with torch's random numbers drawn from a seed made of ``key`` (run seed, epoch or
    view, photo index), leaving the global generator as it was."""
    seed = 0
    for k in key:
        seed = (seed * 1_000_003 + int(k)) % (2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return transform(image)
