"""The effective receptive field (ERF; Luo, Li, Urtasun, Zemel, NeurIPS 2016): which input pixels a unit
actually depends on, as opposed to the box it could depend on (the theoretical receptive field).

Definition (the one docs/erf-and-unit.md and the tests state): for a conv layer L, taken after the ReLU that
follows it, a unit (i, j) and a normalised input x,

    E_x[h, w] = Σ_rgb |∂(Σ_c y_c[i, j]) / ∂x_rgb[h, w]|

and over several inputs the mean of E_x. The gradient is captum's ``NeuronGradient`` on the attribution
twin of the shared model (``architecture.model.frozen_twin``: the same weights, gradients off, so the backward pass
computes input gradients only), run through the features up to that ReLU and no further.

Its size is read as the side of the smallest square, centred on the unit's receptive-field centre, that
holds a fraction of the mass. Pixels are unit squares of uniform mass, so a side may be fractional (the
square is exactly as large as it needs to be): whole-pixel sides would, for instance, give three stacked
3×3 convs and one 7×7 conv the same 50 % side (5 px) although the stack's field is visibly more
concentrated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import NeuronGradient
from PIL import Image
from torch import nn
from torchvision.transforms import functional as TF

from ..architecture.layers import layer_table
from ..architecture.lecture import Box, StackComparison, stack_vs_single, unit_box
from ..architecture.model import init_weights
from ..photo.inference import LAYOUT, LoadedModel, mean_std
from .attributions import attributor, default_batch
from .picking import PickError, centre_unit, check_unit, find_layer
from .twin import relu_layers

FRACTIONS = (0.2, 0.5, 0.9, 0.99)
AREA_FRACTION = 0.9  # the ERF area of ``area_ratio``: the square holding 90 % of the mass
MAX_SAMPLES = 256
_BISECTIONS = 50  # halvings of the search interval for a side: far below a thousandth of a pixel


@dataclass(frozen=True)
class ERF:
    """One unit's effective receptive field over ``samples`` inputs, with its theoretical box."""

    config: str
    layer: str
    unit: tuple[int, int]
    input_size: tuple[int, int]
    samples: int
    map: np.ndarray  # (H, W) float32: the mean of E_x, not normalised
    rf: int  # theoretical receptive field r
    box: Box  # the theoretical receptive field, as drawn (it may run past the border)
    centre: tuple[float, float]  # the receptive field's centre, (row, column) in input pixels
    mass_sides: dict[float, float | None]  # fraction -> side in pixels; None when the map is all zero

    @property
    def area_ratio(self) -> float | None:
        """Area of the square holding ``AREA_FRACTION`` of the mass over the theoretical r × r."""
        side = self.mass_sides.get(AREA_FRACTION)
        return None if side is None else (side / self.rf) ** 2

    def record(self) -> dict:
        """The command line's JSON (its keys are documented)."""
        return {
            "config": self.config, "layer": self.layer, "unit": list(self.unit), "input_size": list(self.input_size),
            "samples": self.samples, "rf": self.rf,
            "rf_box": [self.box.top, self.box.left, self.box.bottom, self.box.right],
            "mass_sides": {str(f): _rounded(s) for f, s in self.mass_sides.items()},
            "area_ratio": _rounded(self.area_ratio, 4),
        }

    def profiles(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return cross_section(self.map, self.centre)


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- inputs ---------------------------------------------------------------------------------------

def noise(samples: int, size: tuple[int, int], seed: int = 0, channels: int = 3) -> torch.Tensor:
    """``samples`` inputs drawn from N(0, 1) in the normalised space, from a seeded generator."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise PickError("samples", samples=samples, most=MAX_SAMPLES)
    return torch.randn((samples, channels, *size), generator=torch.Generator().manual_seed(seed))


def photo_input(image: Image.Image, preprocess: str, size: tuple[int, int]) -> torch.Tensor:
    """The photo resized to ``size`` (H, W), normalised as ``preprocess`` expects: (1, 3, H, W). The
    receptive-field page draws its box on the photo resized the same way."""
    mean, std = mean_std(preprocess)
    x = TF.to_tensor(image.convert("RGB").resize((size[1], size[0]), Image.BILINEAR))
    return TF.normalize(x, mean, std).unsqueeze(0)


# --- the gradient ---------------------------------------------------------------------------------

def gradient_mass(net: nn.Module, layer: nn.Module, inputs: torch.Tensor, unit: tuple[int, int],
                  batch: int) -> np.ndarray:
    """The mean over ``inputs`` of Σ_channels |∂(Σ_c y_c[unit]) / ∂input|, where y is ``layer``'s output
    inside ``net``: (H, W) float32. Inputs go through in batches of ``batch`` (each unit's gradient only
    depends on its own input: the network is in eval mode)."""
    total = torch.zeros(inputs.shape[2:], dtype=torch.float64)
    gradient = NeuronGradient(net, layer)
    for chunk in inputs.split(batch):
        x = chunk.detach().clone().requires_grad_(True)
        g = gradient.attribute(x, neuron_selector=(slice(None), *unit))  # a slice: the sum over channels
        total += g.detach().abs().sum(dim=(0, 1)).to("cpu", torch.float64)
    return (total / len(inputs)).float().numpy()


def _up_to(model: nn.Module, layer: str) -> tuple[nn.Sequential, nn.Module]:
    """The features of ``model`` up to the ReLU after conv ``layer``, and that ReLU."""
    relu = relu_layers(model)[layer]
    index = next(i for i, m in enumerate(model.features) if m is relu)
    return model.features[: index + 1], relu


def measure(lm: LoadedModel, inputs: torch.Tensor, layer: str, unit: tuple[int, int] | None = None,
            batch: int | None = None) -> ERF:
    """The ERF of ``unit`` (default: the centre) of conv ``layer`` after its ReLU, over ``inputs``
    (N, 3, H, W), normalised. Raises PickError for a layer or unit that does not exist."""
    size = tuple(int(s) for s in inputs.shape[2:])
    rows = layer_table(lm.config, size)
    row = find_layer(rows, layer, lm.config.name)
    unit = centre_unit(row) if unit is None else check_unit(row, unit)
    x = inputs.to(device=lm.device, dtype=lm.dtype, memory_format=LAYOUT)
    twin = attributor(lm)
    with lm.lock:  # captum hooks the twin; one user of it at a time
        net, relu = _up_to(twin.model, layer)
        erf_map = gradient_mass(net, relu, x, unit, batch or default_batch(lm.device))
    full, _ = unit_box(row, *unit, size)
    centre = (row.start + unit[0] * row.jump, row.start + unit[1] * row.jump)
    return ERF(lm.config.name, layer, unit, size, len(inputs), erf_map, row.rf, full, centre,
               mass_sides(erf_map, centre))


def every_layer(lm: LoadedModel, inputs: torch.Tensor, batch: int | None = None,
                progress: Callable[[float], None] | None = None) -> list[ERF]:
    """The centre unit's ERF for every conv layer of the model, in order (the n vs √n chart)."""
    names = list(relu_layers(lm.model))
    out = []
    for i, name in enumerate(names, start=1):
        out.append(measure(lm, inputs, name, batch=batch))
        if progress:
            progress(i / len(names))
    return out


# --- reading a map --------------------------------------------------------------------------------

def _cover(n: int, centre: float, half: float) -> np.ndarray:
    """How much of each pixel 0…n−1 (the unit square around its index) lies within centre ± half."""
    i = np.arange(n)
    return np.clip(np.minimum(i + 0.5, centre + half) - np.maximum(i - 0.5, centre - half), 0.0, 1.0)


def mass_sides(erf_map: np.ndarray, centre: tuple[float, float],
               fractions: tuple[float, ...] = FRACTIONS) -> dict[float, float | None]:
    """For each fraction, the side (pixels, fractional) of the smallest square centred on ``centre`` (row,
    column) holding that fraction of the map's mass; None for every fraction when the map is all zero.
    The mass inside a square grows continuously and monotonically with its side, so bisection finds it."""
    m = np.asarray(erf_map, np.float64)
    total = float(m.sum())
    if not total > 0:
        return {f: None for f in fractions}
    (h, w), (cy, cx) = m.shape, centre
    reach = max(cy + 0.5, h - 0.5 - cy, cx + 0.5, w - 0.5 - cx)  # a half-side that covers the whole map
    out = {}
    for fraction in fractions:
        lo, hi = 0.0, reach
        for _ in range(_BISECTIONS):
            mid = (lo + hi) / 2
            if _cover(h, cy, mid) @ m @ _cover(w, cx, mid) >= fraction * total:
                hi = mid
            else:
                lo = mid
        out[fraction] = 2 * hi
    return out


def cross_section(erf_map: np.ndarray, centre: tuple[float, float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The map along the row and the column through ``centre``: {"horizontal": (offsets from the centre,
    values), "vertical": (...)}. A centre between two pixel lines averages those two lines."""
    def lines(c: float, n: int) -> list[int]:
        return sorted({min(max(math.floor(c), 0), n - 1), min(max(math.ceil(c), 0), n - 1)})

    h, w = erf_map.shape
    cy, cx = centre
    row = erf_map[lines(cy, h)].mean(axis=0)
    col = erf_map[:, lines(cx, w)].mean(axis=1)
    return {"horizontal": (np.arange(w) - cx, row), "vertical": (np.arange(h) - cy, col)}


# --- the slides' experiment -----------------------------------------------------------------------

@dataclass(frozen=True)
class StackExperiment:
    """n stacked 3×3 convs (each with its ReLU) against one (2n+1)×(2n+1) conv with its ReLU, C channels in
    and out, both initialised as torchvision initialises VGG; ERFs of the centre unit, averaged over
    ``samples`` noise inputs per seed, then over the seeds."""

    comparison: StackComparison  # receptive field and parameter counts (27C² vs 49C² for n = 3)
    size: int  # input side
    seeds: int
    samples: int
    stacked: np.ndarray  # (size, size), mean over seeds
    single: np.ndarray
    stacked_sides: tuple[dict[float, float | None], ...]  # one per seed
    single_sides: tuple[dict[float, float | None], ...]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.size // 2, self.size // 2)


def stack_nets(n: int, channels: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The two networks of the slides, 'same' padding, weights not yet initialised."""
    stacked: list[nn.Module] = []
    for _ in range(n):
        stacked += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
    k = 2 * n + 1
    return nn.Sequential(*stacked), nn.Sequential(nn.Conv2d(channels, channels, k, padding=k // 2), nn.ReLU())


def stack_experiment(n: int = 3, channels: int = 16, seeds: int = 4, samples: int = 16) -> StackExperiment:
    """Run the slides' comparison on the CPU (small networks: well under a second for the defaults)."""
    comparison = stack_vs_single(n, channels)
    size = 2 * comparison.rf + 1  # room for the whole field around the centre unit
    centre = (size // 2, size // 2)
    maps: dict[str, list[np.ndarray]] = {"stacked": [], "single": []}
    for seed in range(seeds):
        inputs = noise(samples, (size, size), seed=seed, channels=channels)
        for name, net in zip(maps, stack_nets(n, channels)):
            init_weights(net, seed)
            net.requires_grad_(False).eval()
            maps[name].append(gradient_mass(net, net[-1], inputs, centre, samples))
    return StackExperiment(
        comparison, size, seeds, samples, np.mean(maps["stacked"], axis=0), np.mean(maps["single"], axis=0),
        tuple(mass_sides(m, centre) for m in maps["stacked"]), tuple(mass_sides(m, centre) for m in maps["single"]),
    )
