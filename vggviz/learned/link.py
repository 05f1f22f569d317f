"""A unit named by a link: ``?config=vgg16&layer=conv4_3&channel=12`` opens one channel of one conv layer, so
that a teacher can put a unit on the projector and every student opens the same one.

Read from the architecture's layer table (no model, no torch): an unknown configuration, layer or channel
gives a translated message and falls back (the current configuration, its last conv layer, channel 0),
never an error that stops the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..architecture import configs
from ..architecture.layers import layer_table
from ..i18n import N_, TranslatableError

PARAMS = ("config", "layer", "channel")


class LinkError(TranslatableError, ValueError):
    """A part of a link that names nothing; the message says what is shown instead."""

    MESSAGES = {
        "config": N_("The link names the configuration {value!r}, which does not exist; showing {fallback}."),
        "layer": N_("The link names the layer {value!r}, which is not a conv layer of {config}; showing {fallback}."),
        "channel": N_("The link names channel {value!r}, but {layer} has channels 0…{last}; showing channel 0."),
    }


@dataclass(frozen=True)
class Unit:
    """A configuration (canonical name), one of its conv layers, and a channel of that layer."""

    config: str
    layer: str
    channel: int


def conv_channels(config: str) -> dict[str, int]:
    """Conv layer name -> its number of channels, in the network's order."""
    return {row.name: row.out_shape[0] for row in layer_table(config, (configs.DEFAULT_INPUT,) * 2)
            if row.type == "conv"}


def default_layer(config: str) -> str:
    """The layer a page opens at: the last conv layer (conv5_3 in VGG-16), where channels detect objects."""
    return list(conv_channels(config))[-1]


def parse(params: Mapping[str, str | None], current: str) -> tuple[Unit, list[LinkError]]:
    """The unit a link's ``params`` name, each missing or unknown part replaced by its fallback (the
    ``current`` configuration, its last conv layer, channel 0), and a message for each unknown part."""
    problems: list[LinkError] = []
    config = configs.resolve(current).name
    if params.get("config") is not None:
        try:
            config = configs.resolve(str(params["config"])).name
        except configs.UnknownConfigError:
            problems.append(LinkError("config", value=params["config"], fallback=config))
    layers = conv_channels(config)
    layer = default_layer(config)
    if params.get("layer") is not None:
        if params["layer"] in layers:
            layer = str(params["layer"])
        else:
            problems.append(LinkError("layer", value=params["layer"], config=config, fallback=layer))
    channel = 0
    if params.get("channel") is not None:
        typed = str(params["channel"]).strip()
        if re.fullmatch(r"[0-9]{1,6}", typed) and int(typed) < layers[layer]:  # not ², not 5,000 digits
            channel = int(typed)
        else:
            problems.append(LinkError("channel", value=params["channel"], layer=layer, last=layers[layer] - 1))
    return Unit(config, layer, channel), problems


def query(config: str, layer: str, channel: int) -> dict[str, str]:
    """The link's query parameters; the configuration by its torchvision name where it has one (vgg16)."""
    c = configs.resolve(config)
    return {"config": c.torchvision_name or c.name, "layer": layer, "channel": str(int(channel))}
