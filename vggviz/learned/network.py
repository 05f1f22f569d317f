"""The network an optimisation runs through: a frozen twin of the shared model, cut after the target layer.

The app's model is shared by every session, and other sessions run it while an image is being optimised. So
the optimisation never touches it: it runs on new module objects over the same weight tensors (no copy),
with gradients off (so backward computes the image's gradient only and never writes a ``.grad`` into the
shared weights), and registers no hook anywhere: the cut network's output is the conv module's output.
"""

from __future__ import annotations

import torch
from torch import nn

from ..architecture.model import VGG, frozen_twin
from ..i18n import N_, Items, TranslatableError
from ..photo.inference import LoadedModel

TWIN = "learned.twin"  # its key in ``LoadedModel.views`` (dropped when the model moves)


class VisualizeError(TranslatableError, ValueError):
    """A request that cannot be visualised; the message says why."""

    MESSAGES = {
        "not_conv": N_("{layer} is not a conv layer of {config}: choose one of {choices}"),
        "channel": N_("channel {channel} is out of range: {layer} has channels 0…{last}"),
        "no_channels": N_("choose at least one channel"),
        "channels": N_("channels must be a number or a range such as 0-63, not {value!r}"),
        "settings": N_("steps, size and images must be whole numbers of at least 1, the size at least {least}"),
        "diversity": N_("diversity needs at least 2 images per channel"),
        "unit": N_("the objective must be one of {choices}, not {value!r}"),
        "unknown_class": N_("{model} has no class {name!r}: give a class index 0…{last} or a name such as "
                            "{examples}"),
        "method": N_("the class model method must be one of {choices}, not {value!r}"),
        "cancelled": N_("The visualisation was cancelled"),
    }


class Cancelled(VisualizeError):
    def __init__(self) -> None:
        super().__init__("cancelled")


def twin(lm: LoadedModel) -> VGG:
    """The shared model's frozen twin, built once per loaded model (kept in ``lm.views``, which a move to
    another device or dtype clears): new modules, the same tensors, ``requires_grad`` False, eval mode."""
    with lm.lock:  # a move holds this lock: never read half-moved tensors
        if TWIN not in lm.views:
            lm.views[TWIN] = frozen_twin(lm.model)
        return lm.views[TWIN]


def conv_layers(model: VGG) -> dict[str, int]:
    """Conv layer name -> its index in ``model.features``."""
    return {s.name: int(s.module.split(".")[1]) for s in model.specs if s.type == "conv"}


def check_layer(lm: LoadedModel, layer: str) -> int:
    """The index of conv ``layer`` in the features, else VisualizeError naming the choices."""
    convs = conv_layers(lm.model)
    if layer not in convs:
        raise VisualizeError("not_conv", layer=layer, config=lm.config.name, choices=Items(convs))
    return convs[layer]


def channels_of(lm: LoadedModel, layer: str) -> int:
    return lm.model.features[check_layer(lm, layer)].out_channels


def check_channels(lm: LoadedModel, layer: str, channels: list[int]) -> list[int]:
    n = channels_of(lm, layer)
    if not channels:
        raise VisualizeError("no_channels")
    for c in channels:
        if not 0 <= int(c) < n:
            raise VisualizeError("channel", channel=int(c), layer=layer, last=n - 1)
    return [int(c) for c in channels]


def truncated(lm: LoadedModel, layer: str) -> nn.Sequential:
    """The twin's features up to the map conv ``layer``'s ReLU reads: the conv's output (lucent's
    ``layer:channel``), or in a -BN configuration its batch norm's, the map Feature maps shows and dataset
    examples score (a negative γ flips a channel, so both views must read the same map). Nothing past it is
    computed."""
    k = check_layer(lm, layer)
    features = twin(lm).features
    if k + 1 < len(features) and isinstance(features[k + 1], nn.BatchNorm2d):
        k += 1
    return nn.Sequential(*features[: k + 1])
