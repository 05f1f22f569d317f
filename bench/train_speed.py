"""Training (issue 23), each figure against bare torch over the same tensors in the same run:

- caching frozen features: photos per second of the engine's caching pass (decoding camera-sized JPEGs from a
  zip, preprocessing, the features forward) against a bare batched features forward over the same photos decoded
  and preprocessed beforehand (target: at least 0.9 of its rate);
- a head-only epoch on the cached features against a bare loop of forward + backward + SGD step of the classifier
  over the same tensors (target: at most 1.1×);
- a full fine-tuning step against a bare torchvision step (forward, backward, SGD) at the same batch (at most 1.1×).

    python -m bench --only train
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch
from torch import nn
from torchvision import models

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evaluate import photos_zip  # noqa: E402
from bench.timing import paired, photos_per_second_row  # noqa: E402
from vggviz.evaluate import default_workers  # noqa: E402
from vggviz.photo import images  # noqa: E402
from vggviz.train import network, run, transforms  # noqa: E402
from vggviz.train.data import open_training_data  # noqa: E402
from vggviz.train.recipe import Recipe  # noqa: E402

CONFIG = "vgg11"
CACHE_PHOTOS = 32
HEAD_PHOTOS = 128
TARGETS = {"train_cache": 0.9, "train_head_epoch": 1.1, "train_step": 1.1}


def _recipe(train: str, batch: int) -> Recipe:
    return Recipe(config=CONFIG, init="xavier", train=train, optimizer="sgd", lr=0.01, momentum=0.9,
                  schedule="constant", augment=False, batch=batch, epochs=1)


def _ratio_row(figure: str, what: str, ours: float, bare: float, baseline: str) -> dict:
    ratio = ours / bare
    return {"figure": figure, "what": what, "value": round(ours * 1000, 1), "unit": "ms", "baseline": baseline,
            "baseline_value": round(bare * 1000, 1), "ratio": round(ratio, 3), "target": TARGETS[figure],
            "ok": ratio <= TARGETS[figure]}


def cache(device: torch.device, repeats: int, photos: int = CACHE_PHOTOS, size: int = 224) -> dict:
    recipe = dataclasses.replace(_recipe("head", 32), size=size)
    data = open_training_data(photos_zip(photos), "bench.zip", val_share=0.0)
    s = network.setup(network.build(recipe, len(data.classes)).to(device), recipe)
    tf = transforms.val_transform(transforms.preprocess_for(CONFIG, len(data.classes)), recipe.size)
    decoded = torch.stack([tf(images.decode_image(data.reader.read(k), k)) for k, _ in data.train])
    workers = default_workers()

    def bare():
        for i in range(0, len(decoded), run.FEATURE_BATCH):
            network.frozen_features(s.model, s.start, decoded[i:i + run.FEATURE_BATCH].to(device)).cpu()

    def ours():
        out = run.cache_features(s, data, data.train, tf, 1, 0, 0, device, workers, run._Clock(1, photos),
                                 lambda p: None, lambda: False)
        assert out[0].shape[0] == photos

    return photos_per_second_row("train_cache", f"caching frozen features: {photos} JPEGs 500×375 from a zip, "
                                 f"{CONFIG} features at {size}, {workers} decoding worker(s)", photos, ours, bare,
                                 max(1, min(repeats, 3)), "bare batched features forward, pre-decoded",
                                 TARGETS["train_cache"])


def head_epoch(device: torch.device, repeats: int, photos: int = HEAD_PHOTOS, batch: int = 32) -> dict:
    recipe = _recipe("head", batch)
    s = network.setup(network.build(recipe, 5).to(device), recipe)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(photos, 1, 512 * 7 * 7, generator=gen).relu()
    y = torch.randint(5, (photos,), generator=gen)
    empty = torch.empty(0, 1, 512 * 7 * 7)
    clock = run._Clock(1, photos)
    bare_head = network.setup(network.build(recipe, 5).to(device), recipe).model.classifier
    opt = torch.optim.SGD(bare_head.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def bare():
        bare_head.train()
        for i in range(0, photos, batch):
            loss = loss_fn(bare_head(x[i:i + batch, 0].to(device)), y[i:i + batch].to(device))
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        float(loss.detach())

    def ours():
        run._head_epoch(s, recipe, 1, x, y, empty, torch.empty(0, dtype=torch.long), ["a"] * 5, gen, device, clock,
                        lambda p: None, lambda: False)

    o, b = paired(ours, bare, max(1, min(repeats, 3)))
    return _ratio_row("train_head_epoch", f"head-only epoch on cached features: {photos} photos, batch {batch}, "
                      f"{CONFIG} classifier, SGD", o, b, "bare classifier forward + backward + step")


def full_step(device: torch.device, repeats: int, batch: int | None = None, size: int = 224) -> dict:
    batch = batch or (32 if device.type == "cuda" else 2)
    recipe = _recipe("all", batch)
    s = network.setup(network.build(recipe, 5).to(device), recipe)
    bare_model = getattr(models, CONFIG)(num_classes=5).to(device).train()
    opt = torch.optim.SGD(bare_model.parameters(), lr=0.01, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=gen).to(device)
    y = torch.randint(5, (batch,), generator=gen).to(device)
    loss_fn = nn.CrossEntropyLoss()

    def bare():
        loss = loss_fn(bare_model(x), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        float(loss.detach())

    def ours():
        network.step(s, network.frozen_features(s.model, s.start, x), y)

    o, b = paired(ours, bare, max(1, min(repeats, 3)))
    return _ratio_row("train_step", f"full fine-tuning step: {CONFIG} at {size}, batch {batch}, SGD",
                      o, b, f"bare torchvision {CONFIG} step")


def figures(device: torch.device, repeats: int) -> list[dict]:
    with torch.random.fork_rng(devices=[]):
        return [cache(device, repeats), head_epoch(device, repeats), full_step(device, repeats)]
