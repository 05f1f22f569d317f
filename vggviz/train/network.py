"""The model a recipe trains and what of it trains: its weights (ImageNet's, or Xavier's as the course's
``init_weights``), the frozen part (in eval mode, so batch norm's running statistics stay as they were), the
optimiser and the learning-rate schedule, and one optimisation step.

The model is vggviz's builder with a new ``num_classes`` head: its state_dict has torchvision's keys, so the
checkpoint loads into ``torchvision.models.vgg16(num_classes=N)`` and the course's model alike."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..architecture import configs
from ..architecture.model import VGG, build_model
from ..photo import weights as wts
from .errors import TrainError
from .recipe import Recipe

LAST_FC = "classifier.6"


def xavier_init(model: nn.Module, seed: int) -> None:
    """The course's ``_initialize_weights``: Xavier-uniform conv and linear weights, zero biases (batch norm:
    ones and zeros), drawn from a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():  # a module itself included
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight, generator=gen)  # built on the CPU in float32: in place
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def build(recipe: Recipe, num_classes: int, imagenet_state: dict[str, torch.Tensor] | None = None,
          check_hash: bool = True) -> VGG:
    """The recipe's starting model on the CPU: ImageNet's weights with a new last layer (Xavier, as the course's
    init), or every layer Xavier-initialised. ``imagenet_state`` (tests, the bench) replaces reading torch hub's
    cache; raises WeightsError when the file is not there (``check_hash=False``: a file the user trusts)."""
    config = configs.resolve(recipe.config)
    model = build_model(config, num_classes=num_classes, seed=None)  # uninitialised: filled below
    if recipe.init == "imagenet":
        state = imagenet_state if imagenet_state is not None else wts.imagenet_state_dict(config, check_hash=check_hash)
        kept = {k: v for k, v in state.items() if not k.startswith(LAST_FC + ".")}
        want = {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith(LAST_FC + ".")}
        if {k: tuple(v.shape) for k, v in kept.items()} != want:  # e.g. batch-norm weights for a plain config
            raise TrainError("init_mismatch", name=wts.file_name(wts.imagenet_weights(config)),
                             found=_found(kept), config=config.name)
        model.load_state_dict(kept, strict=False)
        xavier_init(model.get_submodule(LAST_FC), recipe.seed)
    else:
        xavier_init(model, recipe.seed)
    return model


def _found(state: dict[str, torch.Tensor]) -> str:
    """What a state_dict's features look like: "with batch norm" or "without batch norm" (and its conv count)."""
    bn = any(k.endswith("running_mean") for k in state)
    convs = sum(1 for k, v in state.items() if k.startswith("features.") and k.endswith(".weight") and v.ndim == 4)
    return f"{convs} conv" + (" + BN" if bn else "")


def first_trained(model: VGG, train: str) -> int:
    """Index in ``model.features`` of the first layer that trains: past every feature for "head", the first
    layer after the fourth pool for "last-block", 0 for "all"."""
    if train == "all":
        return 0
    if train == "head":
        return len(model.features)
    pools = [i for i, m in enumerate(model.features) if isinstance(m, nn.MaxPool2d)]
    return pools[-2] + 1


@dataclass
class Setup:
    """A model ready to train: what trains, the optimiser over it, the per-epoch schedule."""

    model: VGG
    start: int  # features[:start] are frozen
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    loss: nn.Module

    def trained_names(self) -> set[str]:
        """state_dict keys that change while training (parameters and batch-norm buffers of the trained part)."""
        frozen = {f"features.{i}." for i in range(self.start)}
        return {k for k in self.model.state_dict() if not any(k.startswith(p) for p in frozen)}

    def train_mode(self) -> None:
        """The trained part in train mode (dropout, batch-norm statistics), the frozen part in eval mode."""
        self.model.train()
        for m in self.model.features[:self.start]:
            m.eval()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])


def cosine(epochs: int, final_fraction: float):
    """The later course version's schedule (arXiv 1812.01187): from 1 to ``final_fraction`` over the epochs."""
    return lambda e: ((1 + math.cos(e * math.pi / epochs)) / 2) * (1 - final_fraction) + final_fraction


def make_optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)


def setup(model: VGG, recipe: Recipe) -> Setup:
    """Freeze what the recipe keeps, and make the optimiser over what trains (in the model's order)."""
    start = first_trained(model, recipe.train)
    for i, m in enumerate(model.features):
        for p in m.parameters():
            p.requires_grad_(i >= start)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, recipe)
    lam = cosine(recipe.epochs, recipe.final_lr_fraction) if recipe.schedule == "cosine" else (lambda e: 1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lam)
    s = Setup(model, start, optimizer, scheduler, nn.CrossEntropyLoss())
    s.train_mode()
    return s


def frozen_features(model: VGG, start: int, x: torch.Tensor) -> torch.Tensor:
    """The frozen part's output for a batch (no graph): features[:start], and for a frozen-features run the
    average pool and flattening too, so the head sees exactly what the whole model would feed it."""
    with torch.no_grad():
        y = model.features[:start](x)
        if start == len(model.features):
            y = torch.flatten(model.avgpool(y), 1)
    return y


def trained_forward(model: VGG, start: int, y: torch.Tensor) -> torch.Tensor:
    """The trained part's logits from the frozen part's output."""
    if start < len(model.features):
        y = torch.flatten(model.avgpool(model.features[start:](y)), 1)
    return model.classifier(y)


def step(s: Setup, y: torch.Tensor, labels: torch.Tensor) -> tuple[float, int]:
    """One optimisation step on the frozen part's output ``y``: (mean loss, correct predictions)."""
    logits = trained_forward(s.model, s.start, y)
    loss = s.loss(logits, labels)
    s.optimizer.zero_grad(set_to_none=False)  # the same buffers every step: no 100s of MB allocated anew
    loss.backward()
    s.optimizer.step()
    return float(loss.detach()), int((logits.detach().argmax(1) == labels).sum())


def evaluate_batch(s: Setup, y: torch.Tensor, labels: torch.Tensor) -> tuple[float, torch.Tensor]:
    """(summed loss, predictions) of a val batch in eval mode."""
    with torch.no_grad():
        logits = trained_forward(s.model, s.start, y)
        return float(nn.functional.cross_entropy(logits, labels, reduction="sum")), logits.argmax(1)
