"""Which unit of which layer: the checks the effective receptive field and the unit view share, so that a
layer that does not exist or a unit off the map is one clear, translated sentence, never a traceback.
Torch-free."""

from __future__ import annotations

from ..architecture.layers import Layer
from ..i18n import Items, N_, TranslatableError


class PickError(TranslatableError):
    MESSAGES = {
        "not_conv": N_("{layer} is not a conv layer of {config}: choose one of {choices}"),
        "not_spatial": N_("{layer} is not a conv or max-pooling layer of {config}: choose one of {choices}"),
        "unit": N_("unit ({row}, {col}) is outside {layer}'s {height}×{width} map: rows 0…{last_row}, "
                   "columns 0…{last_col}"),
        "channel": N_("channel {channel} is out of range: {layer} has channels 0…{last}"),
        "pool_contributions": N_("{layer} is a max-pooling layer: it has no weights, so no input-channel "
                                 "contributions; its value is the largest in its {size}×{size} window"),
        "samples": N_("the number of noise inputs must be between 1 and {most}, not {samples}"),
        "no_rf": N_("{layer} has no single receptive field at this input size"),
    }


def find_layer(rows: list[Layer], layer: str, config: str, types: tuple[str, ...] = ("conv",)) -> Layer:
    """The row of ``layer`` if it is one of ``types`` (conv, or conv and pool), else PickError naming the choices."""
    choices = [r.name for r in rows if r.type in types]
    row = next((r for r in rows if r.name == layer and r.type in types), None)
    if row is None:
        raise PickError("not_conv" if types == ("conv",) else "not_spatial", layer=layer, config=config,
                        choices=Items(choices))
    if row.rf is None:
        raise PickError("no_rf", layer=layer)
    return row


def check_unit(row: Layer, unit: tuple[int, int]) -> tuple[int, int]:
    """``unit`` as ints if it lies on ``row``'s output map, else PickError."""
    _, height, width = row.out_shape
    r, c = int(unit[0]), int(unit[1])
    if not (0 <= r < height and 0 <= c < width):
        raise PickError("unit", row=r, col=c, layer=row.name, height=height, width=width,
                        last_row=height - 1, last_col=width - 1)
    return r, c


def centre_unit(row: Layer) -> tuple[int, int]:
    """The default unit: (⌊H/2⌋, ⌊W/2⌋) of the layer's map."""
    return row.out_shape[1] // 2, row.out_shape[2] // 2


def check_channel(row: Layer, channel: int) -> int:
    if not 0 <= int(channel) < row.out_shape[0]:
        raise PickError("channel", channel=int(channel), layer=row.name, last=row.out_shape[0] - 1)
    return int(channel)
