"""Attributions through captum: pixel methods, Grad-CAM at any conv layer, per-block strips of layer
methods, and the cascading-randomisation sanity check (Adebayo et al., NeurIPS 2018).

Every method runs on an *attribution twin* of the shared model (new module objects over the same
parameter storage), so the hooks captum adds never touch the modules that inference uses; a per-model
lock serialises the methods on that twin, and after each call no hook is left on it.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from captum._utils.gradient import compute_layer_gradients_and_eval
from captum.attr import (
    Deconvolution, DeepLift, GuidedBackprop, GuidedGradCam, InputXGradient, IntegratedGradients,
    LayerActivation, LayerAttribution, LayerConductance, LayerGradCam, NoiseTunnel,
    Occlusion, Saliency,
)
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from ..photo.inference import LoadedModel, mean_std
from ..architecture.model import VGG, build_model, init_weights

from .methods import BASELINES, LAYER_METHODS, METHODS, NEEDS_LAYER  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Params:
    """Everything that decides an attribution (and so its cache key)."""

    method: str
    target: int
    layer: str | None = None  # conv layer for Grad-CAM / guided Grad-CAM
    steps: int = 32  # integrated gradients
    baseline: str = "black"  # integrated gradients, DeepLift
    samples: int = 16  # SmoothGrad
    stdev: float = 0.15  # SmoothGrad, in units of the normalised input
    window: int = 56  # occlusion, pixels: 7 x 7 windows at 224, one forward each
    stride: int = 28  # occlusion, pixels
    batch: int | None = None  # internal batch size / perturbations per evaluation; None: best for the device

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.baseline not in BASELINES:
            raise ValueError(f"unknown baseline {self.baseline!r}; choose one of {', '.join(BASELINES)}")
        if min(self.steps, self.samples, self.window, self.stride, self.batch or 1) < 1:
            raise ValueError("steps, samples, window, stride and batch must be positive")


@dataclass
class Attributor:
    """captum on one model. ``layers`` maps a paper conv name to the module whose output a layer method
    reads: the ReLU after that conv (its rectified activations)."""

    model: nn.Module
    layers: dict[str, nn.Module]
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- pixel methods ---------------------------------------------------------------------------
    def attribute(self, x: torch.Tensor, params: Params,
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
        """The attribution of ``params.method`` for one normalised input (1, 3, H, W): (3, H, W) for pixel
        methods, (H, W) for Grad-CAM (upsampled to the input)."""
        from .cams import CamParams, cam  # imported here: cams imports this module

        if isinstance(params, CamParams):  # pytorch-grad-cam's family
            return cam(self, x, params, progress)
        with self.lock, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Setting (forward, )?backward hooks", UserWarning)
            try:
                return self._attribute(x, params, progress).detach().float().cpu().numpy()[0]
            finally:
                remove_hooks(self.model)

    def _attribute(self, x, p: Params, progress):
        x = x.detach().clone().requires_grad_(True)
        if p.batch is None:
            p = replace(p, batch=default_batch(x.device))
        forward = _Counted(self.model, _expected_calls(p, x), progress)
        m, t = p.method, p.target
        if m == "saliency":
            return Saliency(self.model).attribute(x, target=t)
        if m == "integrated_gradients":
            return IntegratedGradients(forward).attribute(
                x, baselines=self.baseline(x, p.baseline), target=t, n_steps=p.steps, internal_batch_size=p.batch)
        if m == "smoothgrad":
            return NoiseTunnel(Saliency(forward)).attribute(
                x, nt_type="smoothgrad", nt_samples=p.samples, nt_samples_batch_size=p.batch, stdevs=p.stdev, target=t)
        if m == "input_x_gradient":
            return InputXGradient(self.model).attribute(x, target=t)
        if m == "guided_backprop":
            return GuidedBackprop(self.model).attribute(x, target=t)
        if m == "deconvolution":
            return Deconvolution(self.model).attribute(x, target=t)
        if m == "deeplift":
            return DeepLift(self.model).attribute(x, baselines=self.baseline(x, p.baseline), target=t)
        if m == "occlusion":
            return Occlusion(forward).attribute(
                x, sliding_window_shapes=(3, p.window, p.window), strides=(3, p.stride, p.stride), baselines=0.0,
                target=t, perturbations_per_eval=p.batch)
        layer = self.layer(p.layer)
        if m == "gradcam":
            cam = LayerGradCam(self.model, layer).attribute(x, target=t, relu_attributions=True)
            return LayerAttribution.interpolate(cam, tuple(x.shape[2:]), "bilinear")[:, 0]
        return GuidedGradCam(self.model, layer).attribute(x, target=t)  # guided_gradcam

    def layer(self, name: str | None) -> nn.Module:
        if name not in self.layers:
            raise ValueError(f"no conv layer {name!r}; choose one of {', '.join(self.layers)}")
        return self.layers[name]

    def baseline(self, x: torch.Tensor, kind: str) -> torch.Tensor:
        """A black image, the input blurred (Gaussian, sigma 10 px), or uniform noise (seeded), normalised."""
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device)[None, :, None, None]
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device)[None, :, None, None]
        if kind == "black":
            return ((0 - mean) / std).expand_as(x).contiguous()
        if kind == "blurred":
            return gaussian_blur(x.detach(), kernel_size=61, sigma=10.0)
        noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0)).to(x)
        return (noise - mean) / std

    # --- layer strips ----------------------------------------------------------------------------
    def strip(self, x: torch.Tensor, target: int, names: list[str], method: str = "gradcam",
              steps: int = 16) -> dict[str, np.ndarray]:
        """A layer method at several conv layers, each upsampled to the input (H, W)."""
        if method not in LAYER_METHODS:
            raise ValueError(f"unknown layer method {method!r}; choose one of {', '.join(LAYER_METHODS)}")
        modules = [self.layer(n) for n in names]
        size = tuple(x.shape[2:])
        x = x.detach().clone().requires_grad_(True)
        with self.lock:
            try:
                if method == "gradcam":
                    maps = self._gradcam_strip(x, target, modules)
                elif method == "activation":
                    acts = LayerActivation(self.model, modules).attribute(x)
                    maps = [a.sum(1, keepdim=True) for a in acts]
                else:
                    maps = [LayerConductance(self.model, m).attribute(x, target=target, n_steps=steps,
                                                                       internal_batch_size=steps).sum(1, keepdim=True)
                            for m in modules]
            finally:
                remove_hooks(self.model)
        return {n: LayerAttribution.interpolate(a.detach(), size, "bilinear")[0, 0].float().cpu().numpy()
                for n, a in zip(names, maps)}

    def _gradcam_strip(self, x, target, modules):
        # captum's LayerGradCam takes one layer per backward pass. Its formula, ReLU(sum_c mean_hw(dy/dA) * A),
        # is applied here to several layers at once, from the gradients and activations that captum's own
        # helper (the one LayerGradCam calls) returns for a list of layers in a single forward + backward.
        grads, acts = compute_layer_gradients_and_eval(self.model, modules, (x,), target)
        return [torch.relu((g[0].mean(dim=(2, 3), keepdim=True) * a[0]).sum(1, keepdim=True))
                for g, a in zip(grads, acts)]


def default_batch(device: torch.device) -> int:
    """Internal batch for integrated gradients, SmoothGrad and occlusion. Measured for vgg16 IG, 32 steps, on two
    CPU cores against 32 single forward+backward passes: batch 4 0.94x, 8 1.01x, 16 1.14x (big batches spill
    the caches); a GPU wants large batches."""
    return 16 if device.type == "cuda" else 4


class _Counted(nn.Module):
    """The model as a forward function that reports progress (captum's IG, noise tunnel and occlusion
    call it once per internal batch; none of them has a progress callback of its own)."""

    def __init__(self, model: nn.Module, expected: int, progress: Callable[[float], None] | None):
        super().__init__()
        self.model, self.expected, self.progress, self.calls = model, max(1, expected), progress, 0

    def forward(self, x):
        out = self.model(x)
        self.calls += 1
        if self.progress:
            self.progress(min(1.0, self.calls / self.expected))
        return out


def _expected_calls(p: Params, x: torch.Tensor) -> int:
    if p.method == "integrated_gradients":
        return math.ceil(p.steps / p.batch)
    if p.method == "smoothgrad":
        return math.ceil(p.samples / p.batch)
    if p.method == "occlusion":
        h, w = x.shape[2:]
        windows = (max(h - p.window, 0) // p.stride + 1) * (max(w - p.window, 0) // p.stride + 1)
        return 1 + math.ceil(windows / p.batch)
    return 1


def hook_count(model: nn.Module) -> int:
    """Forward, pre-forward and backward hooks on every module of ``model``."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(getattr(m, "_backward_pre_hooks", {})) for m in model.modules())


def remove_hooks(model: nn.Module) -> None:
    """captum removes its hooks itself, also after an exception; this makes sure (nothing else hooks the twin)."""
    for m in model.modules():
        for hooks in (m._forward_hooks, m._forward_pre_hooks, m._backward_hooks,
                      getattr(m, "_backward_pre_hooks", {})):
            hooks.clear()


def twin(model: VGG) -> VGG:
    """New module objects over the same parameter storage (no copy of the weights), gradients off."""
    other = build_model(model.config, head=model.head, hidden=_hidden(model), num_classes=model.num_classes, seed=None)
    other.load_state_dict(model.state_dict(), assign=True)
    other.to(next(model.parameters()).device)
    for p in other.parameters():
        p.requires_grad_(False)
    return other.eval()


def _hidden(model: VGG) -> int:
    return next(s.channels for s in model.specs if s.type == "fc")


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


def block_ends(model: VGG) -> list[str]:
    """The last conv layer of each block: conv1_2 ... conv5_3 for D."""
    return [convs[-1] for _, convs in sorted(model.conv_blocks().items())]


def attributor(lm: LoadedModel) -> Attributor:
    """The shared model's attributor (made once per loaded model, kept on it)."""
    with lm.lock:
        if "attributor" not in lm.__dict__:
            t = twin(lm.model)
            mean, std = mean_std(lm.preprocess)
            lm.__dict__["attributor"] = Attributor(t, relu_layers(t), mean, std, lock=lm.lock)
        return lm.__dict__["attributor"]


# --- sanity check ---------------------------------------------------------------------------------

def cascade_stages(model: VGG) -> list[tuple[str, list[str]]]:
    """Randomisation stages from the top: fc8, fc7, fc6, then one stage per conv block, block 5 first."""
    fcs = [s.name for s in model.specs if s.type == "fc"][::-1]
    blocks = model.conv_blocks()
    return [(n, [n]) for n in fcs] + [(f"block{b}", blocks[b][::-1]) for b in sorted(blocks, reverse=True)]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (written here: scipy is not a dependency; ties get ordinal ranks)."""
    ra = np.argsort(np.argsort(a.ravel(), kind="stable"), kind="stable").astype(np.float64)
    rb = np.argsort(np.argsort(b.ravel(), kind="stable"), kind="stable").astype(np.float64)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom else 0.0


@dataclass(frozen=True)
class CascadeStep:
    stage: str  # "original", "fc8", ..., "block1"
    attribution: np.ndarray
    rank_correlation: float  # Spearman of |attribution| summed over channels, against the original


def cascading_randomisation(lm: LoadedModel, x: torch.Tensor, params: Params, seed: int = 0,
                            progress: Callable[[float], None] | None = None) -> list[CascadeStep]:
    """Re-randomise the weights from fc8 down to conv1_1, stage by stage, recomputing the attribution each time
    on a private copy of the model (the shared one is never changed)."""
    base = attributor(lm)
    original = base.attribute(x, params)
    model = copy.deepcopy(base.model)
    local = Attributor(model, relu_layers(model), base.mean, base.std)
    gen = torch.Generator().manual_seed(seed)
    stages = cascade_stages(model)
    steps = [CascadeStep("original", original, 1.0)]
    for i, (stage, names) in enumerate(stages, start=1):
        for name in names:
            spec = next(s for s in model.specs if s.name == name)
            init_weights(model.get_submodule(spec.module), int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        out = local.attribute(x, replace(params))
        steps.append(CascadeStep(stage, out, spearman(_magnitude(original), _magnitude(out))))
        if progress:
            progress(i / len(stages))
    return steps


def _magnitude(a: np.ndarray) -> np.ndarray:
    return np.abs(a).sum(0) if a.ndim == 3 else np.abs(a)
