"""Attributions through captum: pixel methods, Grad-CAM at any conv layer, per-block strips of layer
methods, and the cascading-randomisation sanity check (Adebayo et al., NeurIPS 2018); grad-cam's CAM family
(``cams.CamParams``) through the same ``Attributor.attribute``.

Every method runs on the *attribution twin* of the shared model (``twin``: new module objects over the same
parameter storage, under the model's lock, no hook left after a call); every input is brought to the twin's
device and dtype first.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch
from captum.attr import (
    Deconvolution, DeepLift, GuidedBackprop, GuidedGradCam, InputXGradient, IntegratedGradients,
    LayerActivation, LayerAttribution, LayerConductance, LayerGradCam, NoiseTunnel,
    Occlusion, Saliency,
)
from scipy.stats import spearmanr
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from ..i18n import Items, _
from ..photo.inference import LoadedModel, Result, input_tensor, mean_std
from ..architecture.model import VGG, init_weights

from .cams import CamParams, cam
from .methods import (  # noqa: F401  (re-exported)
    BASELINE_LABELS, BASELINES, LAYER_METHODS, METHODS, NEEDS_LAYER, AttributionError,
)
from .twin import Counted, Twin, relu_layers, remove_hooks


# torch's global generator is one for the whole server: a seeded draw must not interleave with another.
_GLOBAL_RNG = threading.Lock()
SMOOTHGRAD_SEED = 0


@contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Reproducible draws for library code that takes no generator and draws from torch's global one
    (captum's NoiseTunnel, grad-cam's ROAD imputation): seeded, one such block at a time in the process, and
    the generator (the CPU's, and ``device``'s if a GPU) put back as it was afterwards."""
    devices = [device] if device.type == "cuda" else []
    with _GLOBAL_RNG, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@dataclass(frozen=True)
class Params:
    """Everything that decides an attribution (and so its cache key), besides the input and its preprocessing."""

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
            raise AttributionError("unknown_method", method=self.method, choices=Items(METHODS))
        if self.baseline not in BASELINES:
            raise AttributionError("unknown_baseline", baseline=self.baseline, choices=Items(BASELINES))
        if min(self.steps, self.samples, self.window, self.stride, self.batch or 1) < 1:
            raise AttributionError("not_positive")


class Attributor(Twin):
    """captum (and grad-cam's CAM family) on one model's twin. An input made with a preprocessing other than the
    model's own (``preprocess``) is explained with its own (``preprocess=``), which decides the black and noise
    baselines."""

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """A fresh leaf copy of ``x`` on the model's device and in its dtype, requiring gradients."""
        p = next(self.model.parameters())
        return x.detach().to(device=p.device, dtype=p.dtype).clone().requires_grad_(True)

    # --- pixel methods ---------------------------------------------------------------------------
    def attribute(self, x: torch.Tensor, params: Params, progress: Callable[[float], None] | None = None,
                  preprocess: str | None = None) -> np.ndarray:
        """The attribution of ``params.method`` for one normalised input (1, 3, H, W) made with ``preprocess``
        (default: the model's): (3, H, W) for pixel methods, (H, W) for Grad-CAM (upsampled to the input);
        float32 whatever the model's dtype."""
        if isinstance(params, CamParams):  # pytorch-grad-cam's family
            return cam(self, x, params, progress)
        with self.lock, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Setting (forward, )?backward hooks", UserWarning)
            self.sync()
            try:
                out = self._attribute(self.prepare(x), params, progress, preprocess or self.preprocess)
                return out.detach().float().cpu().numpy()[0]
            finally:
                remove_hooks(self.model)

    def _attribute(self, x, p: Params, progress, preprocess: str):
        if p.batch is None:
            p = replace(p, batch=default_batch(x.device))
        forward = Counted(self.model, forward_calls(p, tuple(x.shape)), progress)
        m, t = p.method, p.target
        if m == "saliency":
            return Saliency(self.model).attribute(x, target=t)
        if m == "integrated_gradients":
            return IntegratedGradients(forward).attribute(
                x, baselines=self.baseline(x, p.baseline, preprocess), target=t, n_steps=p.steps,
                internal_batch_size=p.batch)
        if m == "smoothgrad":  # captum draws the noise in float32: Counted brings each sample to the model's dtype
            with seeded_global_rng(SMOOTHGRAD_SEED, x.device):  # the same photo, the same map
                return NoiseTunnel(Saliency(forward)).attribute(
                    x, nt_type="smoothgrad", nt_samples=p.samples, nt_samples_batch_size=p.batch, stdevs=p.stdev,
                    target=t)
        if m == "input_x_gradient":
            return InputXGradient(self.model).attribute(x, target=t)
        if m == "guided_backprop":
            return GuidedBackprop(self.model).attribute(x, target=t)
        if m == "deconvolution":
            return Deconvolution(self.model).attribute(x, target=t)
        if m == "deeplift":
            # captum's eps (1e-10) guards its divisions by input differences; in float16 it rounds to 0 and
            # 0 / 0 makes NaN, so it is raised to the dtype's smallest normal number there.
            eps = max(1e-10, torch.finfo(x.dtype).tiny)
            return DeepLift(self.model, eps=eps).attribute(
                x, baselines=self.baseline(x, p.baseline, preprocess), target=t)
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
            raise AttributionError("unknown_layer", layer=name, choices=Items(self.layers))
        return self.layers[name]

    @staticmethod
    def baseline(x: torch.Tensor, kind: str, preprocess: str = "imagenet") -> torch.Tensor:
        """A black image, the input blurred (Gaussian, sigma 10 px), or uniform noise (seeded), normalised
        with ``preprocess``'s mean and std; on ``x``'s device and in its dtype."""
        mean, std = (torch.tensor(v, dtype=x.dtype, device=x.device)[None, :, None, None]
                     for v in mean_std(preprocess))
        if kind == "black":
            return ((0 - mean) / std).expand_as(x).contiguous()
        if kind == "blurred":
            return gaussian_blur(x.detach(), kernel_size=61, sigma=10.0)
        noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0)).to(x)  # CPU generator, then moved
        return (noise - mean) / std

    # --- layer strips ----------------------------------------------------------------------------
    def strip(self, x: torch.Tensor, target: int, names: list[str], method: str = "gradcam",
              steps: int = 16) -> dict[str, np.ndarray]:
        """A layer method at several conv layers, each upsampled to the input (H, W); float32."""
        if method not in LAYER_METHODS:
            raise AttributionError("unknown_layer_method", method=method, choices=Items(LAYER_METHODS))
        size = tuple(x.shape[2:])
        with self.lock:
            self.sync()
            modules = [self.layer(n) for n in names]
            x = self.prepare(x)
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
        # captum's LayerGradCam takes one layer per forward and backward pass. Its formula,
        # ReLU(sum_c mean_hw(dy/dA) * A), is applied here to every layer from a single forward pass (plain
        # torch hooks keep each layer's output) and a single backward pass: written here for that reason.
        acts: dict[int, torch.Tensor] = {}
        handles = [m.register_forward_hook(lambda _m, _in, out, i=i: acts.__setitem__(i, out))
                   for i, m in enumerate(modules)]
        try:
            out = self.model(x)
        finally:
            for h in handles:
                h.remove()
        layers = [acts[i] for i in range(len(modules))]
        grads = torch.autograd.grad(out[:, target].sum(), layers)
        return [torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True)) for g, a in zip(grads, layers)]


def default_batch(device: torch.device) -> int:
    """Internal batch for integrated gradients, SmoothGrad and occlusion. Measured for vgg16 IG, 32 steps, on two
    CPU cores against 32 single forward+backward passes: batch 4 0.94x, 8 1.01x, 16 1.14x (big batches spill
    the caches); a GPU wants large batches."""
    return 16 if device.type == "cuda" else 4


def forward_calls(p: Params, shape: tuple[int, ...]) -> int:
    """How many times captum calls the forward function for ``p`` on an input of ``shape`` (1, 3, H, W)."""
    if p.method == "integrated_gradients":
        return math.ceil(p.steps / p.batch)
    if p.method == "smoothgrad":
        return math.ceil(p.samples / p.batch)
    if p.method == "occlusion":  # one pass without occlusion, then the windows; captum counts them with ceil
        h, w = shape[2:]
        windows = (math.ceil(max(h - p.window, 0) / p.stride) + 1) * (math.ceil(max(w - p.window, 0) / p.stride) + 1)
        return 1 + math.ceil(windows / p.batch)
    return 1


def block_ends(model: VGG) -> list[str]:
    """The last conv layer of each block: conv1_2 ... conv5_3 for D."""
    return [convs[-1] for _, convs in sorted(model.conv_blocks().items())]


def attributor(lm: LoadedModel) -> Attributor:
    """The shared model's attributor (made once per loaded model, kept with it; it follows the model's moves)."""
    with lm.lock:
        if "attributor" not in lm.views:
            lm.views["attributor"] = Attributor.over(lm.model, lm.preprocess, lm.lock)
        return lm.views["attributor"]


def explain(lm: LoadedModel, result: Result, params: Params,
            progress: Callable[[float], None] | None = None) -> np.ndarray:
    """``params``' attribution of the input ``result`` was computed from, with that input's preprocessing."""
    return attributor(lm).attribute(input_tensor(lm, result), params, progress, preprocess=result.preprocess)


# --- sanity check ---------------------------------------------------------------------------------

def cascade_stages(model: VGG) -> list[tuple[str, list[str]]]:
    """Randomisation stages from the top: fc8, fc7, fc6, then one stage per conv block, block 5 first."""
    fcs = [s.name for s in model.specs if s.type == "fc"][::-1]
    blocks = model.conv_blocks()
    return [(n, [n]) for n in fcs] + [(f"block{b}", blocks[b][::-1]) for b in sorted(blocks, reverse=True)]


def stage_label(stage: str) -> str:
    """A cascade stage as a reader sees it, in the current language: "original", "block 5"; fc8… as they are."""
    if stage == "original":
        return _("original")
    if stage.startswith("block"):
        return _("block {n}", n=int(stage.removeprefix("block")))
    return stage


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation of two maps (scipy's: tied values share their average rank), or None where
    it is undefined: a constant map (an all-zero Grad-CAM, say) has no order to correlate."""
    a, b = np.ravel(a), np.ravel(b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    rho = float(spearmanr(a, b).statistic)
    return None if math.isnan(rho) else rho


@dataclass(frozen=True)
class CascadeStep:
    stage: str  # "original", "fc8", ..., "block1"
    attribution: np.ndarray
    # Spearman of |attribution| summed over channels, against the original. None: undefined, because this map
    # or the original is constant (show it as "undefined", never as a number).
    rank_correlation: float | None


def cascading_randomisation(lm: LoadedModel, x: torch.Tensor, params: Params, seed: int = 0,
                            progress: Callable[[float], None] | None = None,
                            preprocess: str | None = None) -> list[CascadeStep]:
    """Re-randomise the weights from fc8 down to conv1_1, stage by stage, recomputing the attribution each time
    on a private float32 copy of the model (the shared one is never changed). ``preprocess``: that of ``x``."""
    base = attributor(lm)
    preprocess = preprocess or base.preprocess
    with base.lock:
        base.sync()
        # float32 even for a half-precision model: through freshly randomised layers the gradients fall below
        # float16's range, and the maps would be rounding noise (r 0.12 against float32 at block5).
        model = copy.deepcopy(base.model).float()
    local = Attributor(model, relu_layers(model), preprocess)
    original = local.attribute(x, params)
    gen = torch.Generator().manual_seed(seed)
    stages = cascade_stages(model)
    reference = _magnitude(original)
    steps = [CascadeStep("original", original, spearman(reference, reference))]
    for i, (stage, names) in enumerate(stages, start=1):
        for name in names:
            spec = next(s for s in model.specs if s.name == name)
            init_weights(model.get_submodule(spec.module), int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        out = local.attribute(x, params)
        steps.append(CascadeStep(stage, out, spearman(reference, _magnitude(out))))
        if progress:
            progress(i / len(stages))
    return steps


def cascade(lm: LoadedModel, result: Result, params: Params, seed: int = 0,
            progress: Callable[[float], None] | None = None) -> list[CascadeStep]:
    """The sanity check on the input ``result`` was computed from, with that input's preprocessing."""
    return cascading_randomisation(lm, input_tensor(lm, result), params, seed, progress, result.preprocess)


def _magnitude(a: np.ndarray) -> np.ndarray:
    return np.abs(a).sum(0) if a.ndim == 3 else np.abs(a)
