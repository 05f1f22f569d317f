"""Feature visualisation: the image a channel responds to most, found by gradient ascent on the image.

Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017, with torch-lucent's ``render_vis`` as the
reference implementation (REFERENCE.md §11): a Fourier-space image in decorrelated colour
(``parameterisation``), lucent's random transforms each step (``transforms``), ImageNet-style normalisation
(the weights' own), images under 224 px upsampled (bilinear) to 224 before the model, Adam (lr 0.05),
512 steps, 128 px.

Objective: channel k of a conv layer, read at the conv module's output (before its ReLU, lucent's
``layer:channel``): its mean over positions, or its centre unit; or minus that ("negative"). "Diversity"
optimises several images of one channel together, minus a weight × Olah's diversity term (the sum of the
pairwise cosine similarities of the images' Gram matrices at the layer, over the number of images, as
lucent's ``objectives.diversity``).

Several channels of one layer run as one batch. Each channel's images get the gradient of their own
objective only, and every channel starts from the same seeded image, so a channel's image in a batch is the
one it gets alone (up to float rounding): a layer's gallery is computed in batches and cached per channel.

For the page: ``estimate`` (seconds, before starting), ``cached`` (opens at once), ``visualize`` (progress
every N steps with the current images, cancel between steps, results cached in the gallery folder).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch.nn import functional as F

from ..i18n import Items
from ..photo.inference import LAYOUT, PREPROCESSING, LoadedModel, ModelError, mean_std
from . import gallery, transforms
from .network import Cancelled, VisualizeError, check_channels, truncated
from .parameterisation import FourierImage, to_uint8

UNITS = ("mean", "centre")  # the channel's mean over positions, or its centre unit
DIVERSITY_IMAGES = 4  # Olah et al.'s and lucent's diversity examples: a batch of 4
DIVERSITY_WEIGHT = 100.0  # lucent's tutorial: channel − 1e2 · diversity
MIN_SIZE = 16
EVERY = 16  # steps between progress reports with images


@dataclass(frozen=True)
class Settings:
    """Everything besides the model, layer, channel and seed that decides the image (lucent's defaults)."""

    steps: int = 512
    size: int = 128  # the image's side in pixels
    lr: float = 0.05  # Adam
    upsample: int | None = 224  # images under this side are upsampled (bilinear) to it before the model; None: never
    unit: str = "mean"  # "mean": the channel's mean over positions; "centre": its centre unit
    negative: bool = False  # minimise instead
    images: int = 1  # images per channel
    diversity: float = 0.0  # weight of the diversity term (needs images ≥ 2)
    transforms: bool = True  # lucent's standard transforms each step
    decorrelate: bool = True  # lucent's decorrelated colour
    preprocess: str | None = None  # the normalisation; None: what the weights expect

    def __post_init__(self) -> None:
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.steps, self.size, self.images))
        if not whole or min(self.steps, self.images) < 1 or self.size < MIN_SIZE:
            raise VisualizeError("settings", least=MIN_SIZE)
        if self.unit not in UNITS:
            raise VisualizeError("unit", value=self.unit, choices=Items(UNITS))
        if self.diversity and self.images < 2:
            raise VisualizeError("diversity")
        if self.preprocess is not None and self.preprocess not in PREPROCESSING:
            raise ModelError("unknown_preprocessing", kind=self.preprocess, choices=Items(PREPROCESSING))

    @classmethod
    def diverse(cls, **kw) -> Settings:
        """Olah's diversity: 4 images pushed apart, lucent's weight."""
        return cls(**{"images": DIVERSITY_IMAGES, "diversity": DIVERSITY_WEIGHT, **kw})

    def resolved(self, lm: LoadedModel) -> Settings:
        return self if self.preprocess else replace(self, preprocess=lm.preprocess)

    def record(self) -> dict:
        return asdict(self)


# A CPU's choice (REFERENCE.md §11: lucent's 512 steps at 224 take minutes a channel on 2 cores).
QUICK = Settings(steps=128, size=96, upsample=None)


@dataclass(frozen=True)
class Progress:
    step: int  # steps done
    total: int
    value: float  # the objective, mean over the channels being optimised (at the last step, transformed)
    images: np.ndarray  # (channels × images, H, W, 3) uint8: the images now
    targets: tuple[int, ...]  # the channels (or the class) being optimised


@dataclass(frozen=True)
class Visualisation:
    """One channel's optimised image(s) and how the optimisation went."""

    config: str
    weights: str
    digest: str | None
    layer: str
    channel: int
    seed: int
    settings: Settings
    images: np.ndarray = field(repr=False)  # (images, size, size, 3) uint8
    curve: tuple[float, ...] = field(repr=False)  # the objective at each step (on that step's transformed image)
    start: float = 0.0  # the channel's objective (no diversity term) on the untransformed first image
    end: float = 0.0  # ... on the untransformed final image
    seconds: float = 0.0  # the optimisation's time (the batch's, when several channels ran together)
    cached: bool = False  # read from the gallery folder

    @property
    def image(self) -> np.ndarray:
        return self.images[0]

    def record(self) -> dict:
        """The command line's JSON (documented keys)."""
        return {"config": self.config, "weights": self.weights, "digest": self.digest, "layer": self.layer,
                "channel": self.channel, "seed": self.seed, "settings": self.settings.record(),
                "start": self.start, "end": self.end, "curve": list(self.curve), "seconds": round(self.seconds, 3)}

    @classmethod
    def from_record(cls, record: dict, images: np.ndarray) -> Visualisation:
        return cls(record["config"], record["weights"], record["digest"], record["layer"], int(record["channel"]),
                   int(record["seed"]), Settings(**record["settings"]), images, tuple(record["curve"]),
                   float(record["start"]), float(record["end"]), float(record["seconds"]), cached=True)


Cancel = Callable[[], bool] | threading.Event | None


def _cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def channel_objective(act: torch.Tensor, channels: Sequence[int], settings: Settings) -> tuple[torch.Tensor, ...]:
    """Per channel (one group of ``settings.images`` images each): (signed channel score, mean over the group;
    the diversity term, weighted, to add). ``act``: the layer's output (channels × images, C, h, w), float32."""
    n, per = len(channels), settings.images
    index = torch.tensor(channels, device=act.device).repeat_interleave(per)
    maps = act[torch.arange(len(index), device=act.device), index]  # (B, h, w)
    h, w = maps.shape[-2:]
    score = maps.mean(dim=(1, 2)) if settings.unit == "mean" else maps[:, h // 2, w // 2]
    score = (-score if settings.negative else score).view(n, per).mean(dim=1)
    diversity = torch.zeros_like(score)
    if settings.diversity:
        flat = act.reshape(n, per, act.shape[1], -1)
        grams = F.normalize((flat @ flat.transpose(-1, -2)).flatten(2), dim=-1)  # (n, per, C·C), unit length
        cos = grams @ grams.transpose(-1, -2)  # (n, per, per)
        off_diagonal = cos.sum(dim=(1, 2)) - cos.diagonal(dim1=1, dim2=2).sum(dim=1)
        diversity = -settings.diversity * off_diagonal / per
    return score, diversity


Objective = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class Run:
    """One optimisation of a Fourier-parameterised batch: ``groups`` groups of ``settings.images`` images, each
    group scored by ``objective`` on what ``net`` makes of it (returning, per group, the score and a term to
    add); Adam on the image only, one step at a time. Shared with the Fourier class model."""

    def __init__(self, lm: LoadedModel, net: torch.nn.Module, objective: Objective, groups: int, settings: Settings,
                 seed: int) -> None:
        self.lm, self.net, self.objective, self.settings = lm, net, objective, settings.resolved(lm)
        p = next(net.parameters())
        self.device, self.dtype = p.device, p.dtype
        self.generator = torch.Generator().manual_seed(seed)  # the image's start, then each step's transforms
        self.image = FourierImage(self.settings.images, self.settings.size, self.generator,
                                  self.settings.decorrelate, self.device, copies=groups)
        self.optimiser = torch.optim.Adam([self.image.spectrum], lr=self.settings.lr)  # only the image learns
        mean, std = mean_std(self.settings.preprocess)  # (x − mean) / std as x · (1/std) + (−mean/std): one op
        self.scale = 1 / torch.tensor(std, device=self.device)[None, :, None, None]
        self.shift = -torch.tensor(mean, device=self.device)[None, :, None, None] * self.scale
        self.curve: list[torch.Tensor] = []

    def output(self, rgb: torch.Tensor, transformed: bool) -> torch.Tensor:
        """What ``net`` makes of images in [0, 1] (float32): transformed, normalised, upsampled as lucent does."""
        x = transforms.standard(rgb, self.generator) if transformed else rgb
        x = torch.addcmul(self.shift, x, self.scale)
        up = self.settings.upsample
        if up and self.settings.size < up:  # lucent: images under 224 px are upsampled to 224
            x = F.interpolate(x, size=(up, up), mode="bilinear", align_corners=True)
        return self.net(x.to(dtype=self.dtype, memory_format=LAYOUT)).float()

    def step(self) -> torch.Tensor:
        """One Adam step; the objective per group before it (float32, CPU)."""
        with self.lm.forward_lock, torch.enable_grad():
            self.optimiser.zero_grad(set_to_none=True)
            score, extra = self.objective(self.output(self.image(), self.settings.transforms))
            value = score + extra
            (-value.sum()).backward()  # each group gets its own objective's gradient only
            self.optimiser.step()
        value = value.detach().cpu()
        self.curve.append(value)
        return value

    @torch.no_grad()
    def clean_score(self) -> torch.Tensor:
        """The score per group on the untransformed images now (without the added term)."""
        with self.lm.forward_lock:
            return self.objective(self.output(self.image(), False))[0].cpu()

    @torch.no_grad()
    def pictures(self) -> np.ndarray:
        return to_uint8(self.image())

    def run(self, progress: Callable[[Progress], None] | None, every: int, cancel: Cancel,
            labels: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, list[list[float]], np.ndarray]:
        """All the steps: (score at the start, at the end, curve per group, final images)."""
        start, total = self.clean_score(), self.settings.steps
        for i in range(total):
            if _cancelled(cancel):
                raise Cancelled()
            value = self.step()
            if progress is not None and ((i + 1) % max(1, every) == 0 or i + 1 == total):
                progress(Progress(i + 1, total, float(value.mean()), self.pictures(), labels))
        return start, self.clean_score(), torch.stack(self.curve).T.tolist(), self.pictures()


def channel_run(lm: LoadedModel, layer: str, channels: list[int], settings: Settings, seed: int) -> Run:
    """The optimisation of ``channels`` of ``layer`` as one batch, ready to step (``optimise`` runs it)."""
    settings = settings.resolved(lm)
    return Run(lm, truncated(lm, layer), lambda act: channel_objective(act, channels, settings), len(channels),
               settings, seed)


def time_step(run: Run) -> float:
    """Seconds one step takes: one step timed after one untimed (which warms the caches)."""
    run.step()
    start = time.perf_counter()
    run.step()
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    return time.perf_counter() - start


def estimate(lm: LoadedModel, layer: str, channels: int | Sequence[int], settings: Settings = Settings()) -> float:
    """Seconds the optimisation would take (one step timed, × steps). Raises VisualizeError for a layer or
    channel that does not exist."""
    channels = check_channels(lm, layer, _as_list(channels))
    return time_step(channel_run(lm, layer, channels, settings, seed=0)) * settings.steps


def _as_list(channels: int | Sequence[int]) -> list[int]:
    return [int(channels)] if isinstance(channels, (int, np.integer)) else [int(c) for c in channels]


def entry_folder(lm: LoadedModel, layer: str, settings: Settings):
    """The gallery folder's place for this model, layer and settings; None for a model without a digest."""
    digest = lm.__dict__.get("digest")
    if digest is None:  # never guess a model's identity: no cache for an unidentified model
        return None
    return gallery.folder(lm.config.name, digest, layer, settings.resolved(lm).record())


def cached(lm: LoadedModel, layer: str, channel: int, settings: Settings = Settings(), seed: int = 0
           ) -> Visualisation | None:
    """The channel's visualisation from the gallery folder, if it was computed before (by anyone)."""
    where = entry_folder(lm, layer, settings)
    found = None if where is None else gallery.read_entry(where, gallery.entry_name("c", channel, seed))
    try:
        return None if found is None else Visualisation.from_record(*found)
    except (KeyError, TypeError, ValueError):  # a damaged or foreign record: computed again
        return None


def visualize(lm: LoadedModel, layer: str, channels: int | Sequence[int], settings: Settings = Settings(),
              seed: int = 0, *, progress: Callable[[Progress], None] | None = None, every: int = EVERY,
              cancel: Cancel = None, cache: bool = True) -> list[Visualisation]:
    """The visualisation of each of ``channels`` of conv ``layer``, in order: read from the gallery folder
    when there, else optimised (the missing channels together, one batch) and written there.

    ``progress`` gets a ``Progress`` every ``every`` steps and after the last; ``cancel`` (a callable or an
    Event) is checked before each step and raises ``Cancelled``, leaving nothing written. The shared model is
    not touched (``network``). Raises VisualizeError for a layer or channel that does not exist."""
    channels = _as_list(channels)
    check_channels(lm, layer, channels)
    settings = settings.resolved(lm)
    where = entry_folder(lm, layer, settings) if cache else None
    found = {}
    if where is not None:
        found = {c: v for c in dict.fromkeys(channels) if (v := cached(lm, layer, c, settings, seed)) is not None}
    todo = [c for c in dict.fromkeys(channels) if c not in found]
    if todo:
        for v in optimise(lm, layer, todo, settings, seed, progress=progress, every=every, cancel=cancel):
            found[v.channel] = v
            if where is not None:
                gallery.keep(where, gallery.entry_name("c", v.channel, seed), v.record(), v.images, lm.config.name,
                             lm.weights)
    return [found[c] for c in channels]


def optimise(lm: LoadedModel, layer: str, channels: Sequence[int], settings: Settings = Settings(), seed: int = 0,
             *, progress: Callable[[Progress], None] | None = None, every: int = EVERY,
             cancel: Cancel = None) -> list[Visualisation]:
    """Optimise ``channels`` (distinct) of ``layer`` as one batch; no cache."""
    channels = check_channels(lm, layer, _as_list(channels))
    started = time.perf_counter()
    run = channel_run(lm, layer, channels, settings, seed)
    start, end, curve, pictures = run.run(progress, every, cancel, tuple(channels))
    seconds = time.perf_counter() - started
    per, digest = run.settings.images, lm.__dict__.get("digest")
    return [Visualisation(lm.config.name, lm.weights, digest, layer, c, seed, run.settings,
                          pictures[j * per:(j + 1) * per], tuple(curve[j]), float(start[j]), float(end[j]), seconds)
            for j, c in enumerate(channels)]
