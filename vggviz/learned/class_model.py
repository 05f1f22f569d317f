"""Class model visualisation: the image a class's score is highest for.

- "simonyan": Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks: Visualising Image
  Classification Models and Saliency Maps" (ICLR workshop 2014, the VGG authors; REFERENCE.md §11):
  arg max_I S_c(I) − λ‖I‖²₂, S_c the unnormalised class score (the logit, not the softmax, which can rise by
  lowering the other classes), by back-propagation to the image from the zero image in the model's
  normalised (zero-centred) space, the mean added back for display. Plain gradient ascent with a fixed
  step: the paper names no optimiser, step or λ; ours are ``SimonyanSettings``' defaults.
- "fourier": the same class score through feature visualisation's regularisers (Olah et al. 2017, lucent):
  a Fourier-space image in decorrelated colour, random transforms each step, Adam (``visualize.Run``).

Shown side by side, a student sees why the regularisers matter. Cached in the gallery folder as
``class-<method>/<settings>/k<class>-s<seed>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from ..i18n import Items
from ..photo.inference import LAYOUT, PREPROCESSING, LoadedModel, ModelError, mean_std
from . import gallery
from .network import Cancelled, VisualizeError, twin
from .parameterisation import PixelImage, to_uint8
from .visualize import EVERY, Cancel, Progress, Run, Settings, _cancelled, time_step

METHODS = ("simonyan", "fourier")


@dataclass(frozen=True)
class SimonyanSettings:
    steps: int = 200
    size: int = 224  # the model's own input size
    lr: float = 1.0  # the gradient-ascent step, in normalised units per unit of gradient
    l2: float = 0.01  # λ
    preprocess: str | None = None  # None: what the weights expect

    def __post_init__(self) -> None:
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.steps, self.size))
        if not whole or self.steps < 1 or self.size < 32:
            raise VisualizeError("settings", least=32)
        if self.preprocess is not None and self.preprocess not in PREPROCESSING:
            raise ModelError("unknown_preprocessing", kind=self.preprocess, choices=Items(PREPROCESSING))

    def resolved(self, lm: LoadedModel) -> SimonyanSettings:
        return self if self.preprocess else replace(self, preprocess=lm.preprocess)

    def record(self) -> dict:
        return asdict(self)


# The Fourier method's defaults: lucent's, at the model's own input size (a class score reads the whole image).
FOURIER = Settings(size=224)


@dataclass(frozen=True)
class ClassModel:
    config: str
    weights: str
    digest: str | None
    method: str
    index: int
    name: str
    seed: int
    settings: SimonyanSettings | Settings
    image: np.ndarray = field(repr=False)  # (H, W, 3) uint8
    curve: tuple[float, ...] = field(repr=False)  # the objective at each step (before that step's update)
    start: float = 0.0  # the class's logit on the first image (untransformed)
    end: float = 0.0  # ... on the final image
    seconds: float = 0.0
    cached: bool = False

    def record(self) -> dict:
        return {"config": self.config, "weights": self.weights, "digest": self.digest, "method": self.method,
                "class": self.index, "name": self.name, "seed": self.seed, "settings": self.settings.record(),
                "start": self.start, "end": self.end, "curve": list(self.curve), "seconds": round(self.seconds, 3)}

    @classmethod
    def from_record(cls, record: dict, images: np.ndarray) -> ClassModel:
        kind = SimonyanSettings if record["method"] == "simonyan" else Settings
        return cls(record["config"], record["weights"], record["digest"], record["method"], int(record["class"]),
                   record["name"], int(record["seed"]), kind(**record["settings"]), images[0], tuple(record["curve"]),
                   float(record["start"]), float(record["end"]), float(record["seconds"]), cached=True)


def find_class(lm: LoadedModel, wanted: int | str) -> int:
    """A class index from an index or a name (exact, else the only one that matches case-insensitively):
    ImageNet's names, or a checkpoint's own ("sunflowers"). VisualizeError otherwise."""
    text = str(wanted).strip()
    if text.isdigit() and int(text) < len(lm.classes):
        return int(text)
    if text in lm.classes:
        return lm.classes.index(text)
    matches = [i for i, name in enumerate(lm.classes) if name.casefold() == text.casefold()]
    if len(matches) == 1:
        return matches[0]
    examples = Items(repr(n) for n in lm.classes[:3])
    raise VisualizeError("unknown_class", model=lm.describe(), name=text, last=len(lm.classes) - 1,
                         examples=examples)


def _where(lm: LoadedModel, method: str, settings) -> object:
    digest = lm.__dict__.get("digest")
    return None if digest is None else gallery.folder(lm.config.name, digest, f"class-{method}", settings.record())


def class_model(lm: LoadedModel, wanted: int | str, method: str = "simonyan",
                settings: SimonyanSettings | Settings | None = None, seed: int = 0, *,
                progress: Callable[[Progress], None] | None = None, every: int = EVERY, cancel: Cancel = None,
                cache: bool = True) -> ClassModel:
    """The class model of class ``wanted`` (index or name) by ``method``, read from the gallery folder when
    there, else optimised and written there. ``progress`` and ``cancel`` as in ``visualize.visualize``."""
    if method not in METHODS:
        raise VisualizeError("method", value=method, choices=Items(METHODS))
    index = find_class(lm, wanted)
    settings = (settings or (SimonyanSettings() if method == "simonyan" else FOURIER)).resolved(lm)
    where = _where(lm, method, settings) if cache else None
    name = gallery.entry_name("k", index, seed)
    if cache and (found := cached(lm, index, method, settings, seed)) is not None:
        return found
    started = time.perf_counter()
    if method == "simonyan":
        start, end, curve, picture = _simonyan(lm, index, settings, progress, every, cancel)
    else:
        def logit(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            score = logits[:, index].mean()[None]
            return score, torch.zeros_like(score)

        run = Run(lm, twin(lm), logit, 1, settings, seed)
        start, end, curves, pictures = run.run(progress, every, cancel, (index,))
        start, end, curve, picture = float(start[0]), float(end[0]), curves[0], pictures[0]
    result = ClassModel(lm.config.name, lm.weights, lm.__dict__.get("digest"), method, index, lm.classes[index],
                        seed, settings, picture, tuple(curve), start, end, time.perf_counter() - started)
    if where is not None:
        gallery.keep(where, name, result.record(), picture[None], lm.config.name, lm.weights)
    return result


def cached(lm: LoadedModel, wanted: int | str, method: str = "simonyan",
           settings: SimonyanSettings | Settings | None = None, seed: int = 0) -> ClassModel | None:
    """The class model from the gallery folder, if it was computed before (by anyone); computes nothing."""
    if method not in METHODS:
        raise VisualizeError("method", value=method, choices=Items(METHODS))
    index = find_class(lm, wanted)
    settings = (settings or (SimonyanSettings() if method == "simonyan" else FOURIER)).resolved(lm)
    where = _where(lm, method, settings)
    found = None if where is None else gallery.read_entry(where, gallery.entry_name("k", index, seed))
    if found is not None:
        try:
            return ClassModel.from_record(*found)
        except (KeyError, TypeError, ValueError):  # a damaged or foreign record: computed again
            pass
    return None


def estimate(lm: LoadedModel, method: str = "simonyan", settings: SimonyanSettings | Settings | None = None) -> float:
    """Seconds a class model would take: one step timed (after one untimed), × steps."""
    if method not in METHODS:
        raise VisualizeError("method", value=method, choices=Items(METHODS))
    settings = (settings or (SimonyanSettings() if method == "simonyan" else FOURIER)).resolved(lm)
    if method == "fourier":
        def logit(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return logits[:, 0].mean()[None], torch.zeros(1, device=logits.device)
        return time_step(Run(lm, twin(lm), logit, 1, settings, 0)) * settings.steps
    one = replace(settings, steps=2)
    started = []
    _simonyan(lm, 0, one, lambda p: started.append(time.perf_counter()), 1, None)
    return (started[1] - started[0]) * settings.steps


def _simonyan(lm: LoadedModel, index: int, settings: SimonyanSettings, progress, every: int,
              cancel: Cancel) -> tuple[float, float, list[float], np.ndarray]:
    """Plain gradient ascent on S_c(I) − λ‖I‖²₂ from the zero image: (logit at the start, at the end, the
    objective at each step, the image with the mean added back)."""
    net = twin(lm)
    p = next(net.parameters())
    image = PixelImage(1, settings.size, *mean_std(settings.preprocess), device=p.device)

    def objective() -> tuple[torch.Tensor, torch.Tensor]:
        logit = net(image().to(dtype=p.dtype, memory_format=LAYOUT)).float()[0, index]
        return logit, logit - settings.l2 * image.pixels.float().pow(2).sum()

    with torch.no_grad(), lm.forward_lock:
        start = float(objective()[0])
    curve = []
    for i in range(settings.steps):
        if _cancelled(cancel):
            raise Cancelled()
        with lm.forward_lock, torch.enable_grad():
            value = objective()[1]
            (grad,) = torch.autograd.grad(value, image.pixels)
        with torch.no_grad():
            image.pixels += settings.lr * grad  # ascent
        curve.append(float(value.detach()))
        if progress is not None and ((i + 1) % max(1, every) == 0 or i + 1 == settings.steps):
            progress(Progress(i + 1, settings.steps, curve[-1], to_uint8(image.rgb()), (index,)))
    with torch.no_grad(), lm.forward_lock:
        end = float(objective()[0])
    return start, end, curve, to_uint8(image.rgb())[0]
