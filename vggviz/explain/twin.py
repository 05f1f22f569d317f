"""The attribution twin: new module objects over the shared model's parameter storage, so that the hooks
captum and grad-cam add never touch the modules inference uses. Both ``attributions`` (captum) and ``cams``
(grad-cam) drive it; this module holds what they share and imports neither.

A per-model lock serialises the methods on the twin, and after each call no hook is left on it. The twin
follows the shared model: when its tensors move (another device, another dtype) it is rebuilt over the new
ones before the next method runs (``Twin.sync``), and every input is brought to its device first (``synced``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ..architecture.model import VGG, frozen_twin


def fingerprint(model: nn.Module) -> tuple:
    """Which tensors ``model`` holds now: a move to another device or dtype gives new ones."""
    return tuple((t.device, t.dtype, t.data_ptr()) for t in itertools.chain(model.parameters(), model.buffers()))


def relu_layers(model: VGG) -> dict[str, nn.Module]:
    """Paper conv name -> the ReLU module that rectifies it."""
    out, last = {}, None
    for spec in model.specs:
        if spec.type == "conv":
            last = spec.name
        elif spec.type == "relu" and last and spec.module.startswith("features."):
            out[last] = model.get_submodule(spec.module)
            last = None
    return out


def hook_count(model: nn.Module) -> int:
    """Forward, pre-forward and backward hooks on every module of ``model``."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(getattr(m, "_backward_pre_hooks", {})) for m in model.modules())


def remove_hooks(model: nn.Module) -> None:
    """captum and grad-cam remove their hooks themselves, also after an exception; this makes sure (nothing
    else hooks the twin)."""
    for m in model.modules():
        for hooks in (m._forward_hooks, m._forward_pre_hooks, m._backward_hooks,
                      getattr(m, "_backward_pre_hooks", {})):
            hooks.clear()


class Counted(nn.Module):
    """The model as a forward function that reports progress (captum's IG, noise tunnel and occlusion
    call it once per internal batch; none of them has a progress callback of its own), and that brings
    what captum hands it (noise is drawn in float32) to the model's dtype."""

    def __init__(self, model: nn.Module, expected: int, progress: Callable[[float], None] | None):
        super().__init__()
        self.model, self.expected, self.progress, self.calls = model, max(1, expected), progress, 0
        self.dtype = next(model.parameters()).dtype

    def forward(self, x):
        out = self.model(x.to(self.dtype))
        self.calls += 1
        if self.progress:
            self.progress(min(1.0, self.calls / self.expected))
        return out


@dataclass
class Twin:
    """A model the attribution libraries may hook. ``layers`` maps a paper conv name to the module whose output
    a layer method reads: the ReLU after that conv (its rectified activations). ``preprocess`` is the
    preprocessing of the model's own inputs. With ``shared``, ``model`` is a twin of it, rebuilt whenever
    ``shared``'s tensors change."""

    model: nn.Module
    layers: dict[str, nn.Module]
    preprocess: str = "imagenet"
    lock: threading.RLock = field(default_factory=threading.RLock)
    shared: VGG | None = None
    source: tuple = ()

    @classmethod
    def over(cls, shared: VGG, preprocess: str, lock: threading.RLock) -> Twin:
        """The twin of a shared model (an instance of ``cls``)."""
        att = cls(shared, {}, preprocess, lock, shared)
        att.sync()
        return att

    def sync(self) -> None:
        """Rebuild the twin if the shared model's tensors moved since it was built (call under ``lock``)."""
        if self.shared is not None and fingerprint(self.shared) != self.source:
            self.model = frozen_twin(self.shared)
            self.layers = relu_layers(self.model)
            self.source = fingerprint(self.shared)

    def synced(self, x: torch.Tensor) -> torch.Tensor:
        """Under ``lock``: the twin made to follow the shared model (``sync``), and ``x`` on the device the twin
        is on now (an out-of-memory fallback may have moved the model since ``x`` was made)."""
        self.sync()
        return x.to(next(self.model.parameters()).device)
