"""Loading a model from one of three weight sources, preprocessing a photo, and one forward pass that
yields the class probabilities and every conv layer's feature maps."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import models, transforms

from ..architecture import configs
from ..i18n import Items, N_, Text, TranslatableError
from . import device as devices, extraction, memory, weights as wts
from .batching import Batcher
from .checkpoints import infer_architecture, read_checkpoint, read_class_names
from ..architecture.model import VGG, build_model

WEIGHT_SOURCES = ("imagenet", "random", "checkpoint")
# Keys are identifiers (pages and the CLI choose by them); the descriptions are translated where shown.
PREPROCESSING = {
    "imagenet": N_("torchvision's: resize 256, centre crop 224, ImageNet mean/std"),
    "lecture": N_("the lecture's: squash to 224×224, mean/std 0.5"),
}
UNTRAINED_SEED = 0
# Every VGG's IMAGENET1K_V1 entry carries the same transforms and the same 1000 class names.
_IMAGENET = models.VGG16_Weights.IMAGENET1K_V1
# Its evaluation preprocessing, from the weights' own metadata: the short side resized to 256, a centre crop of 224.
IMAGENET_RESIZE: int = _IMAGENET.transforms().resize_size[0]
IMAGENET_CROP: int = _IMAGENET.transforms().crop_size[0]


class ModelError(TranslatableError, ValueError):
    """A model that cannot be made from what was asked."""

    MESSAGES = {
        "unknown_weights": N_("unknown weights {weights!r}; choose one of {choices}"),
        "needs_checkpoint": N_("weights='checkpoint' needs a checkpoint file"),
        "unknown_preprocessing": N_("unknown preprocessing {kind!r}; choose one of {choices}"),
        "not_weight_layer": N_("{name} is not a conv or fc layer of {config}"),
    }


def imagenet_classes() -> list[str]:
    return list(_IMAGENET.meta["categories"])


def unnamed_classes(n: int) -> list[str]:
    """The names a checkpoint's classes get when no class_indices.json names them."""
    return [f"class {i}" for i in range(n)]


def transform(kind: str):
    """PIL image -> normalised float tensor (3, 224, 224)."""
    if kind == "imagenet":
        return _IMAGENET.transforms()
    if kind == "lecture":  # REFERENCE.md §4: the lecture's predict.py
        return transforms.Compose([transforms.Resize((configs.DEFAULT_INPUT,) * 2), transforms.ToTensor(),
                                   transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    raise ModelError("unknown_preprocessing", kind=kind, choices=Items(PREPROCESSING))


def imagenet_resize(size: int) -> int:
    """The short side ImageNet's preprocessing resizes a photo to before its centre crop of ``size``: 256 for
    torchvision's 224, in the same proportion at other sizes."""
    return round(size * IMAGENET_RESIZE / IMAGENET_CROP)


def mean_std(kind: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if kind == "imagenet":
        t = _IMAGENET.transforms()
        return tuple(t.mean), tuple(t.std)
    return (0.5,) * 3, (0.5,) * 3


@dataclass
class LoadedModel:
    """A model ready for inference, with what a user must know about it."""

    model: VGG
    config: configs.Config
    weights: str  # "imagenet", "random" or "checkpoint:<file name>"
    classes: list[str]
    preprocess: str  # the preprocessing its weights expect
    device: torch.device
    dtype: torch.dtype = torch.float32
    trained: bool = True
    # What a user must know about this model, made in the reader's language where shown (the model is shared).
    notices: list[Text] = field(default_factory=list)
    # Objects built over the model's tensors (the attribution twin): dropped when the model moves.
    views: dict = field(default_factory=dict, repr=False)
    # Methods that add hooks (captum) must not overlap on this shared object.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # One forward pass at a time: torch already spreads one pass over every core (or the GPU), so
    # overlapping passes gain no speed, while each holds its own activations: serialising them bounds
    # the memory a classroom's simultaneous clicks take.
    forward_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # Logits passes of concurrent callers joined into batches (``batching``); built with the model, not on first
    # use, so that two first callers cannot each get one.
    batcher: Batcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Held weakly: a model dropped from the cache is freed at once, not at the next cycle collection. After a
        # burst of passes, the freed activations go back to the OS.
        held = weakref.ref(self)
        self.batcher = Batcher(lambda x: _logits_pass(held(), x), max_rows=BATCH_ROWS,
                               idle=memory.release_free_memory)

    @cached_property
    def extractor(self) -> torch.nn.Module:
        """Every conv layer's map (model dtype) and the logits in one pass; no hooks on the model."""
        return extraction.extractor(self.model)

    @cached_property
    def compact_extractor(self) -> torch.nn.Module:
        """The same pass storing maps as ``MAPS_DTYPE`` with their ranges (``extraction.compact``)."""
        return extraction.compact(self.extractor)

    def describe(self) -> Text:
        """One line on what this model is, e.g. "D with ImageNet weights on CPU" (in the reader's language)."""
        if self.weights == "imagenet":
            source = Text(N_("ImageNet weights"))
        elif self.weights == "random":
            source = Text(N_("untrained weights"))
        else:
            source = Text(N_("checkpoint {name}"), name=self.weights.removeprefix("checkpoint:"))
        template = (N_("{config} with {source} on {device}, half precision") if self.dtype == torch.float16
                    else N_("{config} with {source} on {device}"))
        return Text(template, config=self.config.name, source=source, device=devices.describe(self.device))


def load_model(
    config: str | configs.Config,
    weights: str = "imagenet",
    *,
    checkpoint: str | Path | bytes | None = None,
    checkpoint_name: str | None = None,
    classes: str | Path | bytes | None = None,
    device: str = "auto",
    half: bool = False,
    check_hash: bool = True,
) -> LoadedModel:
    """Build and load a model. ``weights``: "imagenet" (torchvision's cached file, never downloaded
    here), "random" (seeded untrained), or "checkpoint" (``checkpoint`` bytes or path; the
    configuration is inferred from it, ``config`` is ignored). Raises WeightsError / CheckpointError.

    A checkpoint without a class file gets ImageNet's class names when it has torchvision's head with 1000
    classes (a torchvision model saved or fine-tuned as is), else "class 0", "class 1", …"""
    dev, notice = devices.resolve(device)
    notices = [notice] if notice else []
    if weights == "imagenet":
        config = configs.resolve(config)
        state = wts.imagenet_state_dict(config, check_hash=check_hash)
        model = build_model(config, seed=None)
        model.load_state_dict(state, strict=True)
        lm = LoadedModel(model, config, "imagenet", imagenet_classes(), "imagenet", dev)
    elif weights == "random":
        config = configs.resolve(config)
        lm = LoadedModel(build_model(config, seed=UNTRAINED_SEED), config, "random", imagenet_classes(),
                         "imagenet", dev, trained=False)
    elif weights == "checkpoint":
        if checkpoint is None:
            raise ModelError("needs_checkpoint")
        name = checkpoint_name or (Path(checkpoint).name if not isinstance(checkpoint, bytes) else "checkpoint")
        state = read_checkpoint(checkpoint, name)
        arch = infer_architecture(state, name)
        model = build_model(arch.config, head=arch.head, hidden=arch.hidden, num_classes=arch.num_classes, seed=None)
        model.load_state_dict(state, strict=True)
        imagenet_layout = arch.head == "torchvision" and arch.num_classes == len(imagenet_classes())
        if classes is not None:
            names = read_class_names(classes, arch.num_classes)
        elif imagenet_layout:
            names = imagenet_classes()
            notices.append(Text(N_("{name} has torchvision's 1000-class head and came without a class file: "
                                   "its classes are taken to be ImageNet's."), name=name))
        else:
            names = unnamed_classes(arch.num_classes)
        lm = LoadedModel(model, arch.config, f"checkpoint:{name}", names,
                         "lecture" if arch.lecture else "imagenet", dev)
    else:
        raise ModelError("unknown_weights", weights=weights, choices=Items(WEIGHT_SOURCES))
    lm.notices.extend(notices)
    return to_device(lm, dev, half)


# Photos one batched pass may hold (``batching``). 8: at 224×224 in float32, VGG-16's largest pair of maps is
# 8 × 2 × 12.8 MB, within what the server_class_memory figure allows; per photo a batch of 8 took 0.91 of a
# single pass on the 2-core bench machine.
BATCH_ROWS = 8

# channels_last: faster on GPUs and, measured by ``python -m bench`` (bare_forward row), on the CPU too.
LAYOUT = torch.channels_last


def move(lm: LoadedModel, dev: torch.device, dtype: torch.dtype) -> LoadedModel:
    """Move the shared model's tensors to ``dev`` and ``dtype`` (in the faster layout). Under both of its locks,
    so that no forward pass or attribution runs on half-moved weights; what was built over the old tensors
    (the feature extractors, the attribution twin) is dropped, to be rebuilt over the new ones."""
    with lm.lock, lm.forward_lock:
        lm.model.to(device=dev, dtype=dtype, memory_format=LAYOUT)
        lm.device, lm.dtype = dev, dtype
        lm.views.clear()
        for built in ("extractor", "compact_extractor"):
            lm.__dict__.pop(built, None)
    return lm


OUT_OF_MEMORY = N_("The GPU ran out of memory; running on the CPU instead.")


def fall_back_to_cpu(lm: LoadedModel) -> LoadedModel:
    """After a CUDA out-of-memory error: the model on the CPU in float32, with a notice (once)."""
    with lm.lock:
        if lm.device.type != "cpu" or lm.dtype != torch.float32:
            move(lm, torch.device("cpu"), torch.float32)
            torch.cuda.empty_cache()
            lm.notices.append(Text(OUT_OF_MEMORY))
    return lm


def to_device(lm: LoadedModel, dev: torch.device, half: bool) -> LoadedModel:
    """Move to ``dev`` in the faster memory layout, half precision only where asked and not on the CPU.
    A CUDA out-of-memory error leaves the model on the CPU with a notice."""
    if half and dev.type == "cpu":
        lm.notices.append(Text(N_("Half precision runs on a GPU only; using full precision on the CPU.")))
        half = False
    try:
        move(lm, dev, torch.float16 if half else torch.float32)
    except torch.cuda.OutOfMemoryError:
        fall_back_to_cpu(lm)
    return lm


@dataclass(frozen=True)
class Result:
    """What one forward pass yields; NumPy arrays on the CPU, float32 except the maps (``extraction.MAPS_DTYPE``)."""

    probs: np.ndarray  # (num_classes,)
    features: dict[str, np.ndarray]  # conv name -> (C, H, W), before ReLU, see extraction.MAPS_DTYPE
    input: np.ndarray  # (3, H, W), the normalised tensor the model saw
    preprocess: str
    seconds: float  # preprocessing + forward + copies (for a batched pass, the wait for it too)
    device: str
    batch: int = 1  # photos in the forward pass that computed it (Predict joins the photos of a class)

    def top(self, classes: list[str], k: int = 5) -> list[dict]:
        k = max(1, min(k, len(self.probs)))
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [{"index": int(i), "label": classes[i], "prob": float(self.probs[i])} for i in order]


def prepare(image: Image.Image, preprocess: str) -> torch.Tensor:
    """``transform(preprocess)(image)`` without a torch operation: torchvision's resize and crop on the PIL image,
    then the scaling and normalisation in NumPy (the same float32 arithmetic). A torch operation in a thread
    starts an OpenMP team of its own for that thread, and Streamlit runs every script run in a new thread: in a
    class, each student's preprocessing would start threads that spin beside the forward pass running on every
    core (``python -m bench --only class``)."""
    mean, std = mean_std(preprocess)
    if preprocess == "imagenet":
        t = _IMAGENET.transforms()
        image = transforms.functional.resize(image, t.resize_size, interpolation=t.interpolation, antialias=t.antialias)
        image = transforms.functional.center_crop(image, t.crop_size)
    else:
        transform(preprocess)  # an unknown preprocessing: ModelError naming the choices
        image = transforms.functional.resize(image, [configs.DEFAULT_INPUT] * 2)
    rgb = np.asarray(image, dtype=np.float32) / np.float32(255)
    rgb = (rgb - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


def run(lm: LoadedModel, image: Image.Image, preprocess: str | None = None, features: bool = True) -> Result:
    """Preprocess, forward once, return probabilities and (optionally) every conv layer's maps."""
    preprocess = preprocess or lm.preprocess
    start = time.perf_counter()
    x = prepare(image, preprocess).unsqueeze(0)
    try:
        out, batch = _forward(lm, x, features)
    except torch.cuda.OutOfMemoryError:
        fall_back_to_cpu(lm)
        out, batch = _forward(lm, x, features)
    logits = out.pop(extraction.LOGITS)
    probs = torch.softmax(logits.float(), dim=1)[0].cpu().numpy()
    maps = {name: stored[0] for name, (stored, _, _) in out.items()}
    overflowing = extraction.overflowing(out)
    if overflowing:  # rare (a checkpoint with huge activations): these layers again, in float32
        exact = _forward(lm, x, features=True, compact=False)[0]
        maps.update({name: exact[name][0].float() for name in overflowing})
    maps = {name: m.cpu().numpy() for name, m in maps.items()}
    return Result(probs, maps, x[0].numpy(), preprocess, time.perf_counter() - start, devices.describe(lm.device),
                  batch)


def input_tensor(lm: LoadedModel, result: Result) -> torch.Tensor:
    """The (1, 3, H, W) input a result was computed from, on the model's device and dtype."""
    return torch.from_numpy(result.input).unsqueeze(0).to(device=lm.device, dtype=lm.dtype)


def _forward(lm: LoadedModel, x: torch.Tensor, features: bool, compact: bool = True) -> tuple[dict, int]:
    """The pass's outputs, and the number of photos the pass held (others' too when batched)."""
    if not features:  # joined with other callers' photos when they come at once
        logits, rows = lm.batcher.submit(x)
        return {extraction.LOGITS: logits}, rows
    with lm.forward_lock, torch.inference_mode():  # the device and dtype read under the lock that moves hold
        x = x.to(device=lm.device, dtype=lm.dtype, memory_format=LAYOUT)
        return dict((lm.compact_extractor if compact else lm.extractor)(x)), len(x)


def _logits_pass(lm: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """One pass under the forward lock. A joined batch that runs out of GPU memory is run again one photo at a
    time: one student's photo fits where eight did not, and the model stays on the GPU for everyone."""
    with lm.forward_lock, torch.inference_mode():
        x = x.to(device=lm.device, dtype=lm.dtype, memory_format=LAYOUT)
        try:
            return lm.model(x)
        except torch.cuda.OutOfMemoryError:
            if len(x) == 1:
                raise
        if x.device.type == "cuda":
            torch.cuda.empty_cache()
        return torch.cat([lm.model(x[i:i + 1]) for i in range(len(x))])


def logits(lm: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """The float32 logits of a batch of preprocessed inputs (N, 3, H, W), on the model's device: one pass
    under the model's forward lock, in its dtype and memory layout."""
    return _forward(lm, x, features=False)[0][extraction.LOGITS].float()


def model_view(result: Result) -> np.ndarray:
    """The preprocessed input as an RGB uint8 image: what the model sees."""
    return to_photo(result.input, *mean_std(result.preprocess))


def to_photo(normalised: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """A normalised (3, H, W) input back to an RGB uint8 (H, W, 3) image."""
    rgb = normalised * np.asarray(std, np.float32)[:, None, None] + np.asarray(mean, np.float32)[:, None, None]
    return (np.clip(rgb.transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)


def layer_weights(lm: LoadedModel, name: str, limit: int = 200_000) -> np.ndarray:
    """The weights of layer ``name`` (conv or fc), flattened; an even subsample when there are more than ``limit``."""
    spec = next((s for s in lm.model.specs if s.name == name and s.type in ("conv", "fc")), None)
    if spec is None:
        raise ModelError("not_weight_layer", name=name, config=lm.config.name)
    weight = lm.model.get_submodule(spec.module).weight.detach().float().flatten()
    step = max(1, weight.numel() // limit)
    return weight[::step].cpu().numpy()


def first_filters(lm: LoadedModel) -> np.ndarray:
    """conv1_1's kernels, (64, 3, k, k) float32."""
    return lm.model.features[0].weight.detach().float().cpu().numpy()
