"""One unit's computation, number by number: what made the value the feature-maps page shows.

- A conv unit: the layer's input under the kernel (the patch; zeros where the window runs over the
  zero padding), the kernel, their products, each input channel's contribution (the sum of its
  window's products), bias + Σ contributions = the pre-activation, then batch norm where the
  configuration has it, then ReLU.
- A max-pool unit: its window and the largest value in it.

Exact arithmetic needs a conv layer's float32 input, which results do not keep (``Result.features``
holds each conv map before ReLU in float16, to keep a classroom's cache small). ``layer_input``
recomputes it with a partial forward through ``model.features[:k]`` once per photo and layer, rather
than every result storing every layer's input in float32; the app caches that one map, so each further
unit of the layer reads it and costs a few thousand multiplications. A pool's input is read straight
from the cached maps (rectified) when nothing but a ReLU lies between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..architecture.layers import Layer, layer_table
from ..architecture.lecture import Box, unit_box
from ..photo.inference import LAYOUT, LoadedModel, Result, input_tensor
from ..i18n import N_
from .picking import PickError, check_channel, check_unit, find_layer

RGB = (N_("red (R)"), N_("green (G)"), N_("blue (B)"))  # conv1_1's input channels, in order


@dataclass(frozen=True)
class BatchNormStep:
    """(pre − mean) / √(var + eps) × weight + bias, with this channel's four numbers."""

    mean: float
    var: float
    eps: float
    weight: float
    bias: float
    value: float

    def record(self) -> dict:
        return {"mean": self.mean, "var": self.var, "eps": self.eps, "weight": self.weight, "bias": self.bias,
                "value": self.value}


@dataclass(frozen=True)
class ConvUnit:
    layer: str
    channel: int
    at: tuple[int, int]
    patch: np.ndarray  # (C_in, k, k) float32: the layer's input under the kernel, zeros over the padding
    kernel: np.ndarray  # (C_in, k, k) float32: this output channel's weights
    bias: float
    contributions: np.ndarray  # (C_in,) float64: Σ over the window of patch ⊙ kernel, per input channel
    pre: float  # bias + Σ contributions: the conv's output
    batch_norm: BatchNormStep | None
    post: float  # after batch norm (if any) and ReLU
    window: Box  # the patch's rows and columns in the layer's input (it may run past the border)
    rf_box: Box  # the unit's receptive field in the input image
    first: bool  # the layer reads the image itself (conv1_1): its patch is the preprocessed pixels

    def order(self) -> np.ndarray:
        """Input channels by |contribution|, largest first."""
        return np.argsort(-np.abs(self.contributions), kind="stable")

    def products(self, in_channel: int) -> np.ndarray:
        """(k, k) float64: one input channel's patch ⊙ kernel slice."""
        return self.patch[in_channel].astype(np.float64) * self.kernel[in_channel]

    def record(self) -> dict:
        """The command line's JSON (its keys are documented)."""
        out = {"layer": self.layer, "channel": self.channel, "at": list(self.at), "pre": self.pre, "post": self.post,
               "bias": self.bias,
               "contributions": [{"in_channel": int(i), "value": float(self.contributions[i])} for i in self.order()],
               "rf_box": _box(self.rf_box)}
        if self.first:
            out["patch"], out["kernel"] = self.patch.tolist(), self.kernel.tolist()
        if self.batch_norm is not None:
            out["batch_norm"] = self.batch_norm.record()
        return out


@dataclass(frozen=True)
class PoolUnit:
    layer: str
    channel: int
    at: tuple[int, int]
    values: np.ndarray  # (k, k) float32: the window of the rectified map below
    window: Box
    value: float  # the largest of ``values``: the unit's value
    rf_box: Box

    @property
    def argmax(self) -> tuple[int, int]:
        """Where the maximum lies, in the input map's coordinates."""
        r, c = np.unravel_index(int(np.argmax(self.values)), self.values.shape)
        return self.window.top + int(r), self.window.left + int(c)


def _box(box: Box) -> list[int]:
    return [box.top, box.left, box.bottom, box.right]


def _rows(lm: LoadedModel, result: Result) -> list[Layer]:
    return layer_table(lm.config, _size(result))


def _spec(lm: LoadedModel, name: str):
    return next(s for s in lm.model.specs if s.name == name)


def _module_index(lm: LoadedModel, layer: str) -> int:
    return int(_spec(lm, layer).module.split(".")[1])


def _size(result: Result) -> tuple[int, int]:
    return tuple(result.input.shape[1:])


def layer_input(lm: LoadedModel, result: Result, layer: str) -> np.ndarray:
    """The float32 input of conv or pool ``layer`` for ``result``'s photo, (C_in, H, W): the preprocessed
    photo for conv1_1, else a partial forward through the features before it (in the model's precision)."""
    row = find_layer(_rows(lm, result), layer, lm.config.name, ("conv", "pool"))
    index = _module_index(lm, row.name)
    if index == 0:
        return result.input
    x = input_tensor(lm, result).contiguous(memory_format=LAYOUT)
    with lm.forward_lock, torch.inference_mode():
        return lm.model.features[:index](x)[0].float().cpu().numpy()


def _window(maps: np.ndarray, top: int, left: int, k: int) -> np.ndarray:
    """(C, k, k) float32 cut from (C, H, W) at (top, left), zeros where it runs past the border (padding)."""
    c, h, w = maps.shape
    out = np.zeros((c, k, k), np.float32)
    r0, r1, c0, c1 = max(top, 0), min(top + k, h), max(left, 0), min(left + k, w)
    if r0 < r1 and c0 < c1:
        out[:, r0 - top:r1 - top, c0 - left:c1 - left] = maps[:, r0:r1, c0:c1]
    return out


def _checked(lm: LoadedModel, result: Result, layer: str, channel: int,
             at: tuple[int, int]) -> tuple[Layer, int, tuple[int, int]]:
    row = find_layer(_rows(lm, result), layer, lm.config.name, ("conv", "pool"))
    return row, check_channel(row, channel), check_unit(row, at)


def compute(lm: LoadedModel, result: Result, layer: str, channel: int, at: tuple[int, int],
            inputs: np.ndarray | None = None) -> ConvUnit | PoolUnit:
    """Unit ``at`` (row, column) of ``channel`` of conv or pool ``layer`` for ``result``'s photo. ``inputs``:
    the layer's input if already at hand (``layer_input``); otherwise it is computed. Raises PickError."""
    row, channel, at = _checked(lm, result, layer, channel, at)
    if row.type == "pool":
        return _pool_unit(lm, result, row, channel, at, inputs)
    return _conv_unit(lm, result, row, channel, at, inputs)


def conv_unit(lm: LoadedModel, result: Result, layer: str, channel: int, at: tuple[int, int],
              inputs: np.ndarray | None = None) -> ConvUnit:
    """Like ``compute``, for a conv layer only: a pool has no contributions (PickError)."""
    row, channel, at = _checked(lm, result, layer, channel, at)
    if row.type != "conv":
        raise PickError("pool_contributions", layer=row.name, size=row.kernel)
    return _conv_unit(lm, result, row, channel, at, inputs)


def _conv_unit(lm: LoadedModel, result: Result, row: Layer, channel: int, at: tuple[int, int],
               inputs: np.ndarray | None) -> ConvUnit:
    inputs = layer_input(lm, result, row.name) if inputs is None else inputs
    conv = lm.model.get_submodule(_spec(lm, row.name).module)
    k, s, p = row.kernel, row.stride, row.padding
    top, left = at[0] * s - p, at[1] * s - p
    patch = _window(inputs, top, left, k)
    kernel = conv.weight[channel].detach().float().cpu().numpy()
    bias = float(conv.bias[channel].detach())
    contributions = (patch.astype(np.float64) * kernel).sum(axis=(1, 2))
    pre = bias + float(contributions.sum())
    bn = _batch_norm(lm, row.name, channel, pre)
    post = max(bn.value if bn else pre, 0.0)
    return ConvUnit(row.name, channel, at, patch, kernel, bias, contributions, pre, bn, post,
                    Box(top, left, top + k - 1, left + k - 1), unit_box(row, *at, _size(result))[0],
                    first=_module_index(lm, row.name) == 0)


def _batch_norm(lm: LoadedModel, conv: str, channel: int, pre: float) -> BatchNormStep | None:
    specs = lm.model.specs
    i = next(i for i, s in enumerate(specs) if s.name == conv)
    if i + 1 >= len(specs) or specs[i + 1].type != "bn":
        return None
    bn = lm.model.get_submodule(specs[i + 1].module)
    mean, var = float(bn.running_mean[channel]), float(bn.running_var[channel])
    weight, bias = float(bn.weight[channel].detach()), float(bn.bias[channel].detach())
    value = (pre - mean) / float(np.sqrt(var + bn.eps)) * weight + bias
    return BatchNormStep(mean, var, float(bn.eps), weight, bias, value)


def _pool_unit(lm: LoadedModel, result: Result, row: Layer, channel: int, at: tuple[int, int],
               inputs: np.ndarray | None) -> PoolUnit:
    """A max-pool unit: its window of the rectified map below and the largest value in it."""
    k, s = row.kernel, row.stride
    top, left = at[0] * s, at[1] * s
    if inputs is not None:
        values = inputs[channel, top:top + k, left:left + k].astype(np.float32)
    else:
        below = _rectified_map_below(lm, row.name)
        if below is not None:  # the cached map, rectified: no forward pass at all
            values = np.maximum(result.features[below][channel, top:top + k, left:left + k].astype(np.float32), 0)
        else:  # something else (A-LRN's LRN) lies between: compute the pool's input
            values = layer_input(lm, result, row.name)[channel, top:top + k, left:left + k]
    return PoolUnit(row.name, channel, at, values, Box(top, left, top + k - 1, left + k - 1), float(values.max()),
                    unit_box(row, *at, _size(result))[0])


def _rectified_map_below(lm: LoadedModel, pool: str) -> str | None:
    """The conv whose cached map, after ReLU, is the input of ``pool``; None if more lies between them."""
    specs = lm.model.specs
    i = next(i for i, s in enumerate(specs) if s.name == pool)
    chain = [s.type for s in specs[:i]]
    j = len(chain) - 1
    if j < 1 or chain[j] != "relu":
        return None
    j -= 1
    if chain[j] == "bn":  # the cached map of a -BN configuration is taken after its batch norm
        j -= 1
    return specs[j].name if chain[j] == "conv" else None


def pool_fed(rows: list[Layer], conv: str, at: tuple[int, int]) -> tuple[str, tuple[int, int]] | None:
    """The max-pool layer right after conv ``conv`` and its unit that takes unit ``at``, if any."""
    i = next(i for i, r in enumerate(rows) if r.name == conv)
    nxt = next((r for r in rows[i + 1:] if r.type in ("conv", "pool")), None)
    if nxt is None or nxt.type != "pool":
        return None
    r, c = at[0] // nxt.stride, at[1] // nxt.stride
    _, h, w = nxt.out_shape
    return (nxt.name, (r, c)) if r < h and c < w else None
