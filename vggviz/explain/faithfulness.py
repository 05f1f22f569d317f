"""Can a map be trusted? Perturbation measures of faithfulness for one photo, class and map, beside the two
baselines that keep every method honest: a random map and the photo's Sobel edges (a method that does no
better than edges explains nothing).

- Deletion and insertion (Petsiuk, Das, Saenko, RISE, BMVC 2018), written here: grad-cam has neither.
- Average Drop and Increase in Confidence (Chattopadhyay et al., Grad-CAM++, WACV 2018), written here:
  grad-cam's ``cam_mult_image`` multiplies the normalised tensor (so a dark map means the mean colour, not
  black) and does not divide by the photo's probability.
- ROAD, most- and least-relevant first with noisy linear imputation (Rong et al., ICML 2022): grad-cam's.
Every forward runs on the attribution twin under the model's lock, batched, through the same progress and
cancel wrapper as the CAM methods.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirstAverage, ROADMostRelevantFirstAverage
from pytorch_grad_cam.sobel_cam import sobel_cam
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget
from torchvision.transforms.functional import gaussian_blur

from ..i18n import N_, TranslatableError
from ..photo.inference import mean_std, to_photo
from . import cams
from .attributions import Attributor, Params, seeded_global_rng
from .methods import CAM_METHODS, FAITHFULNESS_STEPS as STEPS, METHODS

BLUR_KERNEL, BLUR_SIGMA = 11, 5.0  # insertion's starting point, as in RISE's code
ROAD_PERCENTILES = (20, 40, 60, 80)  # those of grad-cam's ARCC; its ROAD averagers default to nine
SEED = 0  # the random map, and ROAD's imputation noise
BASELINES = ("random", "sobel")
LABELS = {
    "deletion_auc": N_("Deletion AUC (lower is better)"),
    "insertion_auc": N_("Insertion AUC (higher is better)"),
    "average_drop": N_("Average Drop (lower is better)"),
    "increase_in_confidence": N_("Increase in Confidence (1: the map alone made the class more likely)"),
    "road_morf": N_("ROAD, most relevant first (lower is better)"),
    "road_lerf": N_("ROAD, least relevant first (higher is better)"),
}
NUMBERS = tuple(LABELS)  # the JSON keys of the metrics command
COLUMNS = {"map": N_("this map"), "random": N_("random map"), "sobel": N_("Sobel edges")}


class MetricsError(TranslatableError, ValueError):
    MESSAGES = {
        "steps": N_("Deletion and insertion need at least 2 steps, not {steps}."),
        "shape": N_("The map is {got} but the model's input is {want}."),
    }


def saliency(attr: np.ndarray) -> np.ndarray:
    """What pixels are ranked by: an (H, W) map as it is, a (3, H, W) pixel attribution as Σ over RGB of |a|."""
    flat = np.abs(attr).sum(0) if attr.ndim == 3 else attr
    return np.nan_to_num(np.asarray(flat, np.float64))


def ranking(sal: np.ndarray) -> np.ndarray:
    """Pixel indices (row-major) from the most to the least important; ties in pixel-index order."""
    return np.argsort(-sal.ravel(), kind="stable")


def unit(sal: np.ndarray) -> np.ndarray:
    """The map scaled to [0, 1] (min to 0, max to 1); a constant map is all 0."""
    s = sal - sal.min()
    top = s.max()
    return (s / top if top > 0 else np.zeros_like(s)).astype(np.float32)


def blurred(x: torch.Tensor) -> torch.Tensor:
    return gaussian_blur(x, [BLUR_KERNEL, BLUR_KERNEL], [BLUR_SIGMA, BLUR_SIGMA])


def perturbed(x: torch.Tensor, sal: np.ndarray, steps: int, kind: str, ks: Sequence[int]) -> torch.Tensor:
    """The inputs of deletion or insertion at steps ``ks`` (each 0…steps), (len(ks), 3, H, W). Deletion sets the
    ⌊k·H·W/S⌋ most important pixels to 0 in the normalised input (the dataset's mean colour); insertion puts
    the same pixels of ``x`` over its blurred copy."""
    _, _, h, w = x.shape
    if sal.shape != (h, w):
        raise MetricsError("shape", got="×".join(map(str, sal.shape)), want=f"{h}×{w}")
    n = h * w
    rank = torch.empty(n, dtype=torch.long)
    rank[torch.from_numpy(ranking(sal))] = torch.arange(n)
    counts = torch.tensor([k * n // steps for k in ks])
    top = (rank[None, :] < counts[:, None]).view(len(ks), 1, h, w).to(x.device)
    return torch.where(top, torch.zeros_like(x), x) if kind == "deletion" else torch.where(top, x, blurred(x))


def photos(x: torch.Tensor, preprocess: str, attr: np.ndarray, steps: int, kind: str,
           ks: Sequence[int]) -> list[np.ndarray]:
    """What the model sees at steps ``ks`` of deletion or insertion of ``attr``: RGB uint8 images. ``preprocess``
    is how ``x`` was normalised."""
    images = perturbed(x.detach().float(), saliency(attr), steps, kind, ks)
    return [to_photo(i, *mean_std(preprocess)) for i in images.cpu().numpy()]


def times_map(x: torch.Tensor, sal: np.ndarray, preprocess: str) -> torch.Tensor:
    """The photo (in [0, 1], before normalisation) multiplied by the map scaled to [0, 1], normalised again."""
    mean, std = mean_std(preprocess)
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    return ((x * s + m) * torch.from_numpy(unit(sal)).to(x) - m) / s


def auc(curve: Sequence[float]) -> float:
    """Trapezoidal area under p_0…p_S over the fraction x = k/S."""
    return float(np.trapezoid(np.asarray(curve, np.float64), dx=1 / (len(curve) - 1)))


def random_map(shape: tuple[int, int], seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


def sobel_map(photo: np.ndarray) -> np.ndarray:
    """grad-cam's Sobel edge map of an RGB uint8 photo."""
    return sobel_cam(photo).astype(np.float64)


def _baseline(name: str, x: torch.Tensor, preprocess: str) -> np.ndarray:
    if name == "random":
        return random_map(tuple(x.shape[2:]))
    return sobel_map(to_photo(x[0].cpu().numpy(), *mean_std(preprocess)))


@dataclass(frozen=True)
class Scores:
    """The faithfulness of one map. Probabilities are the target's softmax."""

    deletion: tuple[float, ...]  # p_0 … p_S, lower area is better
    insertion: tuple[float, ...]  # p_0 … p_S, higher area is better
    average_drop: float  # max(0, Y − O) / Y, lower is better
    increase_in_confidence: float  # 1.0 when O > Y, else 0.0
    road_morf: float | None = None  # change of p, most relevant pixels imputed first (percentile mean): lower is better
    road_lerf: float | None = None  # the same, least relevant first: higher is better

    @property
    def deletion_auc(self) -> float:
        return auc(self.deletion)

    @property
    def insertion_auc(self) -> float:
        return auc(self.insertion)

    def as_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in NUMBERS},
                "curves": {"deletion": list(self.deletion), "insertion": list(self.insertion)}}


def report(method: str, target: int, steps: int, scores: dict[str, Scores]) -> dict:
    """The ``metrics`` command's JSON: the map's numbers and curves, and the same for each baseline."""
    return {"method": method, "target": target, "steps": steps, **scores["map"].as_dict(),
            "baselines": {b: scores[b].as_dict() for b in BASELINES}}


class _Probe:
    """Softmax probabilities of one class on the watched twin, in batches. The photo is forwarded once: its
    probability y is deletion's first point and insertion's last, and ROAD (which scores the photo again
    for every percentile) gets its logits from here."""

    def __init__(self, forward: cams.Watched, x: torch.Tensor, target: int, batch: int):
        self.forward, self.x, self.target, self.batch = forward, x, target, batch
        with torch.no_grad():
            self.photo_logits = forward(x)
        self.y = float(torch.softmax(self.photo_logits, 1)[0, target])

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.photo_logits if images is self.x else self.forward(images)

    def __call__(self, images: torch.Tensor) -> list[float]:
        with torch.no_grad():
            return torch.cat([torch.softmax(self.forward(images[i:i + self.batch]), 1)[:, self.target]
                              for i in range(0, len(images), self.batch)]).double().cpu().tolist()


def _forwards(steps: int, road: Sequence[int], batch: int) -> int:
    """Model calls for one map's scores: the perturbed inputs in batches, then one per ROAD percentile and order."""
    return math.ceil((2 * steps + 1) / batch) + 2 * len(road)


def _scores(probe: _Probe, sal: np.ndarray, preprocess: str, steps: int, road: Sequence[int]) -> Scores:
    # Deletion at k = 0 and insertion at k = S are the photo itself, whose probability the probe holds.
    x, y = probe.x, probe.y
    images = torch.cat([perturbed(x, sal, steps, "deletion", range(1, steps + 1)),
                        perturbed(x, sal, steps, "insertion", range(steps)), times_map(x, sal, preprocess)])
    p = probe(images)
    o = p[-1]
    morf = lerf = None
    if road:
        morf, lerf = _road(probe, sal, road)
    return Scores((y, *p[:steps]), (*p[steps:2 * steps], y), max(0.0, y - o) / y if y > 0 else 0.0,
                  float(o > y), morf, lerf)


def _road(probe: _Probe, sal: np.ndarray, percentiles: Sequence[int]) -> tuple[float, float]:
    # ROAD thresholds the map at percentiles, so only the pixels' order matters; it is given as ranks (ties
    # broken by pixel index, as for deletion) so that a map with many equal values (a CAM's zeros, Sobel's
    # integers) still removes the stated fraction: the library would otherwise impute every pixel at once.
    n = sal.size
    rank = np.empty(n)
    rank[ranking(sal)] = np.arange(n)
    ordered = (1 - rank / max(n - 1, 1)).reshape(sal.shape).astype(np.float32)[None]
    targets = [ClassifierOutputSoftmaxTarget(probe.target)]
    with seeded_global_rng(SEED, probe.x.device), warnings.catch_warnings():  # the imputation's noise
        # grad-cam's imputer hands torch tensors to np.argwhere, about which NumPy 2 warns for its future
        warnings.filterwarnings("ignore", "__array_wrap__ must accept context", DeprecationWarning)
        morf = ROADMostRelevantFirstAverage(list(percentiles))(probe.x, ordered, targets, probe.logits)
        lerf = ROADLeastRelevantFirstAverage(list(percentiles))(probe.x, ordered, targets, probe.logits)
    return float(morf[0]), float(lerf[0])


def _check(steps: int) -> None:
    if steps < 2:
        raise MetricsError("steps", steps=steps)


def evaluate(att: Attributor, x: torch.Tensor, preprocess: str, attr: np.ndarray, target: int,
             steps: int = STEPS, road: Sequence[int] | None = None, batch: int | None = None,
             progress: Callable[[float], None] | None = None, cancel: threading.Event | None = None,
             baselines: Sequence[str] = BASELINES) -> dict[str, Scores]:
    """The scores of ``attr`` (any method's map or pixel attribution for ``x``, normalised by ``preprocess``) and
    of the baselines: {"map": …, "random": …, "sobel": …}. ``road``: ROAD's percentiles (None:
    ``ROAD_PERCENTILES``; () leaves ROAD out)."""
    _check(steps)
    road = ROAD_PERCENTILES if road is None else road
    x = x.detach().float()
    maps = {"map": saliency(attr), **{b: _baseline(b, x, preprocess) for b in baselines}}
    batch = batch or cams.forward_batch(x.device)
    with att.lock:
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        watched = cams.Watched(att.model, 1 + len(maps) * _forwards(steps, road, batch), progress, cancel)
        probe = _Probe(watched, x, target, batch)
        return {name: _scores(probe, s, preprocess, steps, road) for name, s in maps.items()}


@dataclass(frozen=True)
class Row:
    """One line of the compare-every-method table."""

    method: str  # a method's name, or a baseline's
    deletion_auc: float
    insertion_auc: float
    average_drop: float
    seconds: float | None  # computing the map (None for the baselines)


def compare(att: Attributor, x: torch.Tensor, preprocess: str, target: int, layer: str | None = None,
            methods: Sequence[str] | None = None, steps: int = STEPS, batch: int | None = None,
            progress: Callable[[float], None] | None = None,
            cancel: threading.Event | None = None) -> list[Row]:
    """Every method's map for ``x`` and ``target`` (captum's with their default settings, grad-cam's at
    ``layer``), scored without ROAD, then the two baselines. grad-cam's methods share one forward and
    backward pass (``cams.family``); the photo's probability is measured once for all."""
    _check(steps)
    methods = list(methods or [*METHODS, *CAM_METHODS])
    layer = cams.layer_name(att, layer, methods[0] if methods else "gradcam")
    pixel = [m for m in methods if m in METHODS]
    grad_cam = [m for m in methods if m in CAM_METHODS]
    total = len(pixel) + len(grad_cam) + len(methods) + len(BASELINES)
    done = [0]

    def step(fraction: float = 1.0) -> None:
        if cancel is not None and cancel.is_set():
            raise cams.Cancelled("cancelled")
        if progress:
            progress(min(1.0, (done[0] + fraction) / total))

    def advance() -> None:
        done[0] += 1
        step(0.0)

    maps: dict[str, tuple[np.ndarray, float | None]] = {}
    with att.lock:
        x = att.synced(x)  # the twin follows the shared model; x goes where it is
        for m in pixel:
            start = time.perf_counter()
            maps[m] = (att.attribute(x, Params(m, target, layer=layer), step, preprocess), time.perf_counter() - start)
            advance()
        if grad_cam:
            found = cams.family(att, x, target, layer, grad_cam, batch, lambda f: step(f * len(grad_cam)), cancel)
            maps.update(found)
            done[0] += len(grad_cam)
        x = x.detach().float()
        maps.update({b: (_baseline(b, x, preprocess), None) for b in BASELINES})
        probe = _Probe(cams.Watched(att.model, 1, None, cancel), x, target, batch or cams.forward_batch(x.device))
        rows = []
        for name, (attr, seconds) in maps.items():
            s = _scores(probe, saliency(attr), preprocess, steps, ())
            rows.append(Row(name, s.deletion_auc, s.insertion_auc, s.average_drop, seconds))
            advance()
    return rows
