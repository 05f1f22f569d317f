"""The lecture's arithmetic: stacked 3x3 convs vs one big kernel, the top-down receptive-field
recursion, the output-size formula, and the box one unit sees. Torch-free."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..i18n import Items, N_, _
from .layers import SPATIAL, Layer, LayerError, conv_output_size


@dataclass(frozen=True)
class StackComparison:
    """n stacked 3x3 convs vs one (2n+1)x(2n+1) conv, C channels in and out; biases ignored as on the
    slides unless asked for (one per output channel of each conv)."""

    n: int
    channels: int
    fmap: tuple[int, int]
    rf: int  # both see (2n+1) x (2n+1) pixels
    stacked_params: int  # n * 3*3*C*C (+ n*C biases)
    single_params: int  # (2n+1)^2 * C*C (+ C biases)
    stacked_macs: int  # per output map of fmap size (stride 1, 'same' padding)
    single_macs: int
    stacked_nonlinearities: int
    single_nonlinearities: int = 1

    @property
    def saving(self) -> float:
        """Fraction of the single conv's parameters that the stack saves."""
        return 1 - self.stacked_params / self.single_params


def stack_vs_single(
    n: int, channels: int, fmap: tuple[int, int] = (56, 56), bias: bool = False,
) -> StackComparison:
    if n < 1 or channels < 1 or min(fmap) < 1:
        raise LayerError("not_positive")
    k = 2 * n + 1
    pixels = fmap[0] * fmap[1]
    stacked = n * 9 * channels * channels
    single = k * k * channels * channels
    biases = channels if bias else 0
    return StackComparison(
        n=n, channels=channels, fmap=fmap, rf=k,
        stacked_params=stacked + n * biases, single_params=single + biases,
        stacked_macs=stacked * pixels, single_macs=single * pixels, stacked_nonlinearities=n,
    )


@dataclass(frozen=True)
class TopDownStep:
    layer: str
    kernel: int
    stride: int
    before: int  # F(i+1)
    after: int  # F(i) = (F(i+1) - 1) * stride + ksize

    def formula(self) -> str:
        return f"({self.before} − 1) × {self.stride} + {self.kernel} = {self.after}"


def topdown(layers: list[tuple[str, int, int]]) -> list[TopDownStep]:
    """The lecture's recursion F(i) = (F(i+1) - 1) x stride + ksize, from F = 1 at the top.

    ``layers`` are (name, kernel, stride) from the input upwards; steps are returned top-down.
    """
    f, steps = 1, []
    for name, kernel, stride in reversed(layers):
        after = (f - 1) * stride + kernel
        steps.append(TopDownStep(name, kernel, stride, f, after))
        f = after
    return steps


def topdown_for(rows: list[Layer], name: str) -> list[TopDownStep]:
    """The recursion for one unit of layer ``name`` of a layer table, through every conv and pool below it."""
    chain: list[tuple[str, int, int]] = []
    for row in rows:
        if row.type in SPATIAL:
            if row.kernel is None:
                raise LayerError("uneven", name=row.name)
            chain.append((row.name, row.kernel, row.stride))
        if row.name == name:
            if row.type not in SPATIAL:
                raise LayerError("not_spatial", name=name)
            return topdown(chain)
    raise LayerError("no_layer", name=name, choices=Items(r.name for r in rows))


# The slides' two worked examples, (name, kernel, stride) from the input upwards; the titles are translated
# where shown (``_(title)``).
LECTURE_EXAMPLES: dict[str, list[tuple[str, int, int]]] = {
    N_("Conv1 (3×3, s2) → Pool1 (2×2, s2)"): [("Conv1", 3, 2), ("Pool1", 2, 2)],
    N_("three 3×3 convs (s1)"): [("Conv1", 3, 1), ("Conv2", 3, 1), ("Conv3", 3, 1)],
}


def output_size_formula(row: Layer, axis: int = 1) -> str:
    """out = (in − F + 2P)/S + 1 with this layer's numbers; ``axis`` 1 = height, 2 = width. Words in the
    current language."""
    size_in, size_out = row.in_shape[axis], row.out_shape[axis]
    if row.kernel is None:
        if row.type == "avgpool":
            return _("adaptive average pool: {size_in} → {size_out} (uneven windows)", size_in=size_in,
                     size_out=size_out)
        return _("{type}: shape unchanged", type=row.type)
    return size_formula(size_in, row.kernel, row.stride, row.padding)


def size_formula(size_in: int, kernel: int, stride: int, padding: int) -> str:
    """out = (in − F + 2P)/S + 1 with these numbers, the division in floor brackets when it is not exact."""
    num = size_in - kernel + 2 * padding
    floor, close = ("⌊", "⌋") if num % stride else ("", "")
    out = conv_output_size(size_in, kernel, stride, padding)
    return f"out = {floor}({size_in} − {kernel} + 2·{padding}) / {stride}{close} + 1 = {out}"


def rf_formula(row: Layer) -> str:
    """r = r_prev + (k − 1)·jump_prev with this layer's numbers (words in the current language)."""
    if row.rf is None:
        return _("whole image") if row.type == "fc" else _("no single receptive field")
    k = row.kernel or 1
    return f"r = {row.rf_prev} + ({k} − 1)·{row.jump_prev} = {row.rf}"


@dataclass(frozen=True)
class Box:
    """Inclusive pixel bounds of a receptive field; ``clipped`` is the part inside the image."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def size(self) -> tuple[int, int]:
        return self.bottom - self.top + 1, self.right - self.left + 1


def unit_box(row: Layer, unit_row: int, unit_col: int, input_size: tuple[int, int]) -> tuple[Box, Box]:
    """The receptive field of unit (``unit_row``, ``unit_col``) of ``row``: (full box, box clipped to
    the ``input_size`` (H, W) image).

    Unit u is centred at start + u·jump and spans r pixels (Araujo et al., Distill 2019).
    """
    if row.rf is None:
        raise LayerError("no_receptive_field", name=row.name)
    _, out_h, out_w = row.out_shape
    if not (0 <= unit_row < out_h and 0 <= unit_col < out_w):
        raise LayerError("outside", row=unit_row, col=unit_col, name=row.name, height=out_h, width=out_w)
    half = (row.rf - 1) / 2
    top = math.floor(row.start + unit_row * row.jump - half)
    left = math.floor(row.start + unit_col * row.jump - half)
    full = Box(top, left, top + row.rf - 1, left + row.rf - 1)
    h, w = input_size
    clipped = Box(max(full.top, 0), max(full.left, 0), min(full.bottom, h - 1), min(full.right, w - 1))
    return full, clipped

