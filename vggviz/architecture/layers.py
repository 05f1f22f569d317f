"""Layer specs and the analytic layer table: shapes, parameters, MACs and receptive fields.

One pass over a configuration's specs in plain Python (no torch): the model builder turns the same
specs into modules, so the table and the model cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from ..i18n import Items, N_, TranslatableError
from . import configs
from .configs import Config

# Classifier layouts as data. "torchvision" is torchvision's (and the lecture's current) head; the
# lecture's checkpoints from before 2021-03-27 put each dropout before its Linear (REFERENCE.md §4).
HEADS: dict[str, tuple[str, ...]] = {
    "torchvision": ("fc", "relu", "dropout", "fc", "relu", "dropout", "fc"),
    "lecture_v1": ("dropout", "fc", "relu", "dropout", "fc", "relu", "fc"),
}
SPATIAL = ("conv", "pool", "avgpool")


class LayerError(TranslatableError, ValueError):
    """A layer, unit or lecture example that does not exist or has no answer; the message says why."""

    MESSAGES = {
        "no_layer": N_("no layer {name!r}; choose one of {choices}"),
        "not_spatial": N_("{name} is not a conv or pool layer"),
        "uneven": N_("{name} has uneven windows at this input size: no single receptive field"),
        "no_receptive_field": N_("{name} has no single receptive field at this input size"),
        "outside": N_("unit ({row}, {col}) is outside {name}'s {height}×{width} map"),
        "not_positive": N_("n, channels and the feature-map size must be positive"),
    }


@dataclass(frozen=True)
class LayerSpec:
    """One module of the network, named as in the paper / Caffe (conv1_1, pool1, fc6, ...)."""

    name: str
    type: str
    module: str  # its path in the torch model, e.g. "features.0", "classifier.6"
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    channels: int | None = None  # output channels (conv) or features (fc)
    block: int | None = None  # conv block 1..5; None for the classifier


@dataclass(frozen=True)
class Layer(LayerSpec):
    """A spec with the numbers it produces for one input size."""

    in_shape: tuple[int, ...] = ()
    out_shape: tuple[int, ...] = ()
    params: int = 0
    macs: int = 0
    rf: int | None = None  # receptive field size r (pixels, per side)
    jump: int | None = None  # effective stride: input pixels between neighbouring units
    start: float | None = None  # centre of unit 0's receptive field, input pixel i centred at i
    # For the hover formulas: the previous layer's receptive field and jump.
    rf_prev: int | None = None
    jump_prev: int | None = None

    def record(self) -> dict:
        """The JSON/CSV record of this row (the CLI's documented keys)."""
        d = asdict(self)
        d["in_shape"], d["out_shape"] = list(self.in_shape), list(self.out_shape)
        return {k: d[k] for k in RECORD_KEYS}


RECORD_KEYS = (
    "name", "type", "kernel", "stride", "padding", "in_shape", "out_shape",
    "params", "macs", "rf", "jump", "start",
)


def layer_specs(
    config: str | Config,
    *,
    head: str = "torchvision",
    hidden: int | None = None,
    num_classes: int | None = None,
) -> list[LayerSpec]:
    """Every module of ``config`` in order, with the module path the builder gives it."""
    config = configs.resolve(config)
    specs: list[LayerSpec] = []
    index = 0

    def add(name: str, type_: str, **kw) -> None:
        nonlocal index
        specs.append(LayerSpec(name, type_, f"features.{index}", **kw))
        index += 1

    for b, block in enumerate(config.blocks, start=1):
        n = 0
        for token in block:
            if token == "LRN":
                add(f"lrn{b}", "lrn", block=b)
                continue
            n += 1
            k, channels = configs.parse_conv(token)
            add(f"conv{b}_{n}", "conv", kernel=k, stride=configs.CONV_STRIDE, padding=k // 2, channels=channels, block=b)
            if config.batch_norm:
                add(f"bn{b}_{n}", "bn", block=b)
            add(f"relu{b}_{n}", "relu", block=b)
        kernel, stride = configs.POOL
        add(f"pool{b}", "pool", kernel=kernel, stride=stride, padding=0, block=b)
    specs.append(LayerSpec("avgpool", "avgpool", "avgpool"))

    widths = [configs.fc_width(t) for t in configs.CLASSIFIER]
    if hidden is not None:
        widths[:-1] = [hidden] * (len(widths) - 1)
    if num_classes is not None:
        widths[-1] = num_classes
    fc = 5  # the paper numbers the FC layers fc6, fc7, fc8
    for j, type_ in enumerate(HEADS[head]):
        if type_ == "fc":
            fc += 1
            specs.append(LayerSpec(f"fc{fc}", "fc", f"classifier.{j}", channels=widths[fc - 6]))
        elif type_ == "relu":
            specs.append(LayerSpec(f"relu{fc}", "relu", f"classifier.{j}"))
        else:  # dropk feeds fc(k+1), as Caffe's drop6 feeds fc7
            specs.append(LayerSpec(f"drop{fc}", "dropout", f"classifier.{j}"))
    return specs


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """The lecture's out = (in - F + 2P) / S + 1, floored as torch does."""
    return (size - kernel + 2 * padding) // stride + 1


def _adaptive_window(size: int, out: int) -> int | None:
    """Kernel (= stride) of an adaptive average pool when its windows are uniform, else None."""
    return size // out if size % out == 0 else None


def layer_table(
    config: str | Config,
    input_size: int | str | tuple[int, int] = configs.DEFAULT_INPUT,
    **head_kw,
) -> list[Layer]:
    """The numbers of every layer of ``config`` for an input of ``input_size`` (N or (H, W) or "HxW")."""
    h, w = configs.parse_input_size(input_size)
    shape: tuple[int, ...] = (configs.INPUT_CHANNELS, h, w)
    rf, jump, start = 1, 1, 0.0
    rows: list[Layer] = []
    for spec in layer_specs(config, **head_kw):
        in_shape, params, macs = shape, 0, 0
        rf_prev, jump_prev = rf, jump
        if spec.type in ("conv", "pool"):
            k, s, p = spec.kernel, spec.stride, spec.padding
            c = spec.channels if spec.type == "conv" else shape[0]
            shape = (c, conv_output_size(shape[1], k, s, p), conv_output_size(shape[2], k, s, p))
            if spec.type == "conv":
                params = k * k * in_shape[0] * c + c
                macs = k * k * in_shape[0] * c * shape[1] * shape[2]
            if rf is not None:
                rf, start, jump = rf + (k - 1) * jump, start + ((k - 1) / 2 - p) * jump, jump * s
        elif spec.type == "avgpool":
            oh, ow = configs.AVGPOOL_OUT
            kh, kw = _adaptive_window(shape[1], oh), _adaptive_window(shape[2], ow)
            shape = (shape[0], oh, ow)
            if kh is not None and kh == kw:  # uniform windows: an ordinary k x k / k pool
                spec = replace(spec, kernel=kh, stride=kh, padding=0)
                rf, start, jump = rf + (kh - 1) * jump, start + (kh - 1) / 2 * jump, jump * kh
            else:  # uneven (or overlapping) windows have no single r / jump
                rf = jump = start = None
        elif spec.type == "fc":
            n_in = math.prod(shape)
            shape = (spec.channels,)
            params, macs = n_in * spec.channels + spec.channels, n_in * spec.channels
            in_shape = (n_in,)
            rf = jump = start = None  # every fc unit sees the whole image
        elif spec.type == "bn":
            params = 2 * shape[0]
        rows.append(Layer(
            **asdict(spec), in_shape=in_shape, out_shape=shape, params=params, macs=macs,
            rf=rf, jump=jump, start=start, rf_prev=rf_prev, jump_prev=jump_prev,
        ))
    return rows


@dataclass(frozen=True)
class Totals:
    params: int
    macs: int
    weight_layers: int
    final_rf: int | None  # receptive field of the last spatial layer with one (pool5 at 224)


def totals(rows: list[Layer]) -> Totals:
    spatial = [r for r in rows if r.rf is not None]
    return Totals(
        params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows),
        weight_layers=sum(r.type in ("conv", "fc") for r in rows),
        final_rf=spatial[-1].rf if spatial else None,
    )


def find(rows: list[Layer], name: str) -> Layer:
    """The row called ``name``; ValueError naming the choices otherwise."""
    for row in rows:
        if row.name == name:
            return row
    raise LayerError("no_layer", name=name, choices=Items(r.name for r in rows))
