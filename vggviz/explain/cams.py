"""The CAM family through pytorch-grad-cam (``grad-cam``, MIT): Grad-CAM++, XGrad-CAM, LayerCAM, HiResCAM,
Eigen-CAM, Score-CAM and Ablation-CAM at any conv layer, on the attribution twin (``twin.Twin``) under the
model's lock.

The library computes every map. This module chooses the layer (the ReLU after a conv, as captum's Grad-CAM
does here), reports progress and honours a cancel token (grad-cam's per-channel loops show a tqdm bar and
take no callback, so the model it calls is wrapped instead), puts back what the library leaves behind when
it is interrupted (its hooks, Ablation-CAM's swapped layer), and lets several methods share one forward and
backward pass (the per-block strip, the compare-every-method table).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from pytorch_grad_cam import (
    AblationCAM, AblationLayer, EigenCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, XGradCAM,
)
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.find_layers import replace_layer_recursive
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from ..architecture.layers import layer_table
from ..i18n import Items, N_, TranslatableError
from .methods import CAM_METHODS, EIGEN_SMOOTH, PER_CHANNEL, STRIP_CAMS
from .twin import Counted, Twin, remove_hooks

LIBRARY: dict[str, type[BaseCAM]] = {
    "gradcam_plus_plus": GradCAMPlusPlus, "xgradcam": XGradCAM, "layercam": LayerCAM, "hirescam": HiResCAM,
    "eigencam": EigenCAM, "scorecam": ScoreCAM, "ablationcam": AblationCAM,
}
GRADIENT_FREE = ("eigencam", "scorecam", "ablationcam")
SVD_MAX_POSITIONS = 56 * 56


class CamError(TranslatableError, ValueError):
    MESSAGES = {
        "method": N_("Unknown CAM method {method}: choose one of {choices}."),
        "layer": N_("{method} runs at a conv layer: {layer} is not one of {choices}."),
        "eigen_smooth": N_("{method} has no eigen_smooth option; it applies to {choices}."),
        "batch": N_("The batch size must be at least 1, not {batch}."),
        "strip": N_("{method} cannot draw the per-block strip: choose one of {choices}."),
        "target": N_("The class index must be between 0 and {last}, not {target}."),
        "smoothing": N_("{method} has no aug_smooth or eigen_smooth option: they belong to the CAM family "
                        "({choices})."),
        "svd": N_("{method} cannot run at {layer}: at {size} positions grad-cam's SVD would hold a {gib:.1f} GiB "
                  "matrix. Choose a deeper layer (at most {limit} positions)."),
    }


class Cancelled(TranslatableError):
    MESSAGES = {"cancelled": N_("Stopped before the end; nothing was kept.")}


@dataclass(frozen=True)
class CamParams:
    """Everything that decides a grad-cam map (and so its cache key)."""

    method: str
    target: int
    layer: str | None = None  # a conv layer's name; None: the last conv layer (conv5_3 for D)
    aug_smooth: bool = False  # grad-cam's test-time augmentation: six passes (flip × brightness 0.9, 1, 1.1)
    eigen_smooth: bool = False  # the first principal component instead of the channel sum
    batch: int | None = None  # Score-/Ablation-CAM: images per batched forward; None: ``forward_batch``

    def __post_init__(self):
        if self.method not in CAM_METHODS:
            raise CamError("method", method=self.method, choices=Items(CAM_METHODS))
        if self.eigen_smooth and self.method not in EIGEN_SMOOTH:
            raise CamError("eigen_smooth", method=CAM_METHODS[self.method], choices=Items(EIGEN_SMOOTH))
        if self.batch is not None and self.batch < 1:
            raise CamError("batch", batch=self.batch)


@dataclass(frozen=True)
class Estimate:
    """What a per-channel method will cost, before it starts."""

    forwards: int  # batched forwards
    batch: int
    seconds: float


def forward_batch(device: torch.device) -> int:
    """Images per forward-only batch (Score-/Ablation-CAM, the metrics). vgg16 at 224 on two CPU cores, per
    image: batch 1 about 1.0 s, 8 0.74 s, 16 0.56 s, 32 1.3 s (the activations outgrow the caches)."""
    return 64 if device.type == "cuda" else 16


class Watched(Counted):
    """The model as grad-cam and the metrics call it: each forward reports progress, stops when the cancel
    token is set (so a long loop ends between two batches), and runs in the model's own dtype while the
    library's arithmetic stays in float32 (its Score-CAM multiplies the input by float32 masks)."""

    def __init__(self, model: nn.Module, expected: int, progress: Callable[[float], None] | None,
                 cancel: threading.Event | None):
        super().__init__(model, expected, progress)
        first = next(model.parameters())  # the first conv's kernels: the model's dtype and memory layout
        self.cancel, self.dtype = cancel, first.dtype
        self.after_no_grad: Callable[[], object] | None = None  # run after each forward of a no-grad loop
        self.layout = (torch.channels_last if first.dim() == 4 and not first.is_contiguous()
                       and first.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format)

    def forward(self, x):
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled")
        x = x.to(self.dtype, memory_format=self.layout)  # the model's own layout (photo.inference.LAYOUT)
        if torch.is_grad_enabled():
            return super().forward(x).float()
        # The library's no_grad loops (Score-/Ablation-CAM batches, the metrics): no autograd, and ReLUs in place
        # as in torchvision's own model (out-of-place ones cost 10-12 % at a batch of 16 on the CPU).
        with torch.inference_mode(), _relus_in_place(self.model):
            out = super().forward(x).float()
        if self.after_no_grad is not None:
            self.after_no_grad()
        return out


@contextlib.contextmanager
def _relus_in_place(model: nn.Module) -> Iterator[None]:
    """The model's ReLUs in place for the block (the twin keeps them out of place for captum's backward hooks);
    callers hold the twin's lock, so no other method sees the switch."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU) and not m.inplace]
    for m in relus:
        m.inplace = True
    try:
        yield
    finally:
        for m in relus:
            m.inplace = False


def _float32(t: torch.Tensor) -> torch.Tensor:
    # grad-cam's reshape_transform hook, applied to activations and gradients before NumPy sees them: a
    # half-precision model's float16 would overflow Grad-CAM++'s cubes, and NumPy's SVD refuses float16.
    return t.float()


def _engine(method: str, model: nn.Module, modules: Sequence[nn.Module], batch: int) -> BaseCAM:
    if method == "ablationcam":  # a fresh layer: the library's default instance is shared by every AblationCAM
        return AblationCAM(model, list(modules), _float32, ablation_layer=AblationLayer(), batch_size=batch)
    engine = LIBRARY[method](model, list(modules), _float32)
    if method == "scorecam":
        engine.batch_size = batch  # ScoreCAM reads this attribute (its default is 16)
    return engine


def _release(engine: BaseCAM, model: nn.Module) -> None:
    """Remove the library's hooks and, after an interrupted Ablation-CAM, put the layer it swapped back."""
    engine.activations_and_grads.release()
    if isinstance(engine, AblationCAM):
        replace_layer_recursive(model, engine.ablation_layer, engine.target_layers[0])


@lru_cache(maxsize=2)
def passes(aug_smooth: bool) -> int:
    """Passes per map: one, or one per test-time augmentation of grad-cam's ``aug_smooth`` (read from the
    library's defaults)."""
    return len(BaseCAM(nn.Linear(1, 1), [], uses_gradients=False).tta_transforms) if aug_smooth else 1


def layer_shape(att: Twin, name: str, x: torch.Tensor) -> tuple[int, int, int]:
    """(channels, H, W) of conv layer ``name`` for the input ``x``, from the layer table."""
    rows = layer_table(att.model.config, tuple(x.shape[2:]))
    return next(tuple(r.out_shape) for r in rows if r.name == name)


def _check_svd(method: str, eigen_smooth: bool, name: str, shape: tuple[int, int, int]) -> None:
    # Eigen-CAM and eigen_smooth take the first principal component with NumPy's full SVD, which also forms
    # an (H·W) × (H·W) matrix: 39 MB at 56 × 56 (conv3 at 224), 10 GB at 224 × 224 (conv1).
    if (method == "eigencam" or eigen_smooth) and shape[1] * shape[2] > SVD_MAX_POSITIONS:
        gib = (shape[1] * shape[2]) ** 2 * 4 / 2**30
        raise CamError("svd", method=CAM_METHODS[method], layer=name, size=f"{shape[1]}×{shape[2]}", gib=gib,
                       limit=SVD_MAX_POSITIONS)


def _forwards(method: str, n_channels: int, batch: int, aug_smooth: bool) -> int:
    """Model calls one map takes: the pass that reads the layer, then Score-CAM's batches of masked inputs,
    or Ablation-CAM's unablated forward and its batches of ablated channels."""
    per_channel = math.ceil(n_channels / batch)
    return {"scorecam": 1 + per_channel, "ablationcam": 2 + per_channel}.get(method, 1) * passes(aug_smooth)


def layer_name(att: Twin, name: str | None, method: str) -> str:
    """``name`` checked against the model's conv layers; None: the last one."""
    if name is None:
        return next(reversed(att.layers))
    if name not in att.layers:
        raise CamError("layer", method=CAM_METHODS.get(method, method), layer=name, choices=Items(att.layers))
    return name


def _check_target(model: nn.Module, target: int) -> None:
    n = getattr(model, "num_classes", None)
    if n is not None and not 0 <= target < n:
        raise CamError("target", last=n - 1, target=target)


def _input(x: torch.Tensor, method: str) -> torch.Tensor:
    # A fresh leaf. The twin's parameters need no gradient, so gradient methods need the input to: otherwise
    # no graph reaches the layer and grad-cam would see no gradients.
    return x.detach().clone().float().requires_grad_(method not in GRADIENT_FREE)


def cam(att: Twin, x: torch.Tensor, params: CamParams, progress: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None) -> np.ndarray:
    """The (H, W) map of ``params.method`` for one normalised input (1, 3, H, W): grad-cam's, in [0, 1] at the
    input size. Raises ``Cancelled`` when ``cancel`` is set; no hook is left on the twin in any case."""
    name = layer_name(att, params.layer, params.method)
    shape = layer_shape(att, name, x)
    _check_svd(params.method, params.eigen_smooth, name, shape)
    _check_target(att.model, params.target)
    batch = params.batch or forward_batch(x.device)
    expected = _forwards(params.method, shape[0], batch, params.aug_smooth)
    with att.lock:
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        watched = Watched(att.model, expected, progress, cancel)
        engine = _engine(params.method, watched, [att.layers[name]], batch)
        if params.method == "scorecam":  # its hook would keep every masked batch's activations (16×C×h×w each)
            # until the map is done; only the first, unmasked pass's are read, before the loop
            watched.after_no_grad = lambda: engine.activations_and_grads.activations.clear()
        try:
            out = engine(_input(x, params.method), [ClassifierOutputTarget(params.target)],
                         aug_smooth=params.aug_smooth, eigen_smooth=params.eigen_smooth)
        finally:
            _release(engine, watched)
            remove_hooks(att.model)
    return np.ascontiguousarray(out[0], dtype=np.float32)


def estimate(att: Twin, x: torch.Tensor, params: CamParams) -> Estimate:
    """The time a map will take, before starting it: its batched forwards (channels / batch, per pass) times one
    batched forward measured now. The few single-image forwards around them are left out."""
    n_channels = layer_shape(att, layer_name(att, params.layer, params.method), x)[0]
    batch = params.batch or forward_batch(x.device)
    forwards = (math.ceil(n_channels / batch) if params.method in PER_CHANNEL else 1) * passes(params.aug_smooth)
    with att.lock, torch.no_grad():
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        dtype = next(att.model.parameters()).dtype
        xb = x.detach().to(dtype).expand(batch if params.method in PER_CHANNEL else 1, -1, -1, -1)
        start = time.perf_counter()
        att.model(xb)
        if xb.device.type == "cuda":
            torch.cuda.synchronize(xb.device)
        seconds = time.perf_counter() - start
    return Estimate(forwards, batch, forwards * seconds)


def strip(att: Twin, x: torch.Tensor, target: int, names: Sequence[str], method: str = "layercam",
          progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """One grad-cam method at several conv layers from a single forward (+ backward): the library's own
    per-layer maps, which it would otherwise average into one. Each (H, W), in [0, 1], at the input size."""
    if method not in STRIP_CAMS:
        raise CamError("strip", method=CAM_METHODS.get(method, method), choices=Items(STRIP_CAMS))
    for name in names:
        layer_name(att, name, method)
    _check_target(att.model, target)
    ordered = [n for n in att.layers if n in names]  # grad-cam pairs layers and activations in forward order
    with att.lock:
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        watched = Watched(att.model, 1, progress, None)
        engine = _engine(method, watched, [att.layers[n] for n in ordered], 1)
        finish = engine.aggregate_multi_layers  # would average the layers: finish each as a one-layer call does
        engine.aggregate_multi_layers = lambda per_layer: [finish([one]) for one in per_layer]
        try:
            maps = engine(_input(x, method), [ClassifierOutputTarget(target)])
        finally:
            _release(engine, watched)
            remove_hooks(att.model)
    return {n: np.ascontiguousarray(m[0], dtype=np.float32) for n, m in zip(ordered, maps)}


def family(att: Twin, x: torch.Tensor, target: int, layer: str | None, methods: Sequence[str],
           batch: int | None = None, progress: Callable[[float], None] | None = None,
           cancel: threading.Event | None = None) -> dict[str, tuple[np.ndarray, float]]:
    """Several grad-cam methods at one layer, sharing one forward and backward pass: the first gradient method
    runs through the library as usual, and every other applies the library's own formula
    (``compute_cam_per_layer``) to the activations and gradients that pass recorded; Score-CAM and
    Ablation-CAM then add their per-channel forwards. Each method -> (its map, seconds: the shared pass plus
    its own work, what it would take alone)."""
    if not methods:
        return {}
    for m in methods:
        CamParams(m, target)
    layer = layer_name(att, layer, methods[0])
    shape = layer_shape(att, layer, x)
    for m in methods:
        _check_svd(m, False, layer, shape)
    _check_target(att.model, target)
    batch = batch or forward_batch(x.device)
    n_channels = shape[0]
    driver = next((m for m in methods if m not in GRADIENT_FREE), "eigencam")
    expected = 1 + sum(_forwards(m, n_channels, batch, False) - 1 for m in methods)
    targets = [ClassifierOutputTarget(target)]
    out: dict[str, tuple[np.ndarray, float]] = {}
    with att.lock:
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        watched = Watched(att.model, expected, progress, cancel)
        module = att.layers[layer]
        engines = [_engine(driver, watched, [module], batch)]
        try:
            xin = _input(x, driver)
            start = time.perf_counter()
            first = engines[0](xin, targets)
            shared = time.perf_counter() - start
            recorded = engines[0].activations_and_grads
            activations, gradients = list(recorded.activations), list(recorded.gradients)
            recorded.release()
            if driver in methods:
                out[driver] = (np.ascontiguousarray(first[0], dtype=np.float32), shared)
            for m in methods:
                if m in out:
                    continue
                engines.append(_engine(m, watched, [module], batch))
                own = engines[-1].activations_and_grads
                own.release()  # no hooks of its own: it reads the shared pass
                own.activations, own.gradients = list(activations), list(gradients)
                start = time.perf_counter()
                maps = engines[-1].aggregate_multi_layers(engines[-1].compute_cam_per_layer(xin, targets, False))
                out[m] = (np.ascontiguousarray(maps[0], dtype=np.float32), shared + time.perf_counter() - start)
        finally:
            for engine in engines:
                _release(engine, watched)
            remove_hooks(att.model)
    return {m: out[m] for m in methods}
