"""The six VGG configurations of Simonyan & Zisserman's Table 1, as data.

Everything else (layer table, charts, model builder, receptive-field arithmetic, the regenerated
Table 1) derives from ``TABLE1`` below; no layer count or channel width is typed anywhere else.
Torch-free, so the architecture pages render without importing torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..i18n import Items, N_, Text, TranslatableError

# Paper notation: "conv3-64" = 3x3 conv with 64 output channels, "LRN" = local response
# normalisation. Each tuple is one conv block; every block is closed by a 2x2/2 maxpool.
_B3 = ("conv3-256", "conv3-256")
TABLE1: dict[str, tuple[tuple[str, ...], ...]] = {
    "A": (("conv3-64",), ("conv3-128",), _B3, ("conv3-512",) * 2, ("conv3-512",) * 2),
    "A-LRN": (("conv3-64", "LRN"), ("conv3-128",), _B3, ("conv3-512",) * 2, ("conv3-512",) * 2),
    "B": (("conv3-64",) * 2, ("conv3-128",) * 2, _B3, ("conv3-512",) * 2, ("conv3-512",) * 2),
    "C": (
        ("conv3-64",) * 2,
        ("conv3-128",) * 2,
        (*_B3, "conv1-256"),
        ("conv3-512", "conv3-512", "conv1-512"),
        ("conv3-512", "conv3-512", "conv1-512"),
    ),
    "D": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256",) * 3, ("conv3-512",) * 3, ("conv3-512",) * 3),
    "E": (("conv3-64",) * 2, ("conv3-128",) * 2, ("conv3-256",) * 4, ("conv3-512",) * 4, ("conv3-512",) * 4),
}
CLASSIFIER: tuple[str, ...] = ("FC-4096", "FC-4096", "FC-1000")
INPUT_CHANNELS = 3
DEFAULT_INPUT = 224
MIN_INPUT = 32  # five 2x2/2 pools: 32 -> 1
POOL = (2, 2)  # maxpool kernel, stride
CONV_STRIDE = 1
AVGPOOL_OUT = (7, 7)  # torchvision's AdaptiveAvgPool2d before the classifier

# The paper's Table 2 (millions of parameters), Table 3 (top-1 / top-5 val. error %, 256/256).
PAPER_PARAMS_M = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
PAPER_ERROR = {
    "A": (29.6, 10.4), "A-LRN": (29.7, 10.5), "B": (28.7, 9.9),
    "C": (28.1, 9.4), "D": (27.0, 8.8), "E": (27.3, 9.0),
}

TORCHVISION_NAMES = {"A": "vgg11", "B": "vgg13", "D": "vgg16", "E": "vgg19"}
_CONV = re.compile(r"conv(\d+)-(\d+)")


@dataclass(frozen=True)
class Config:
    """One configuration: a Table 1 column, optionally with batch norm after every conv."""

    paper: str
    batch_norm: bool = False

    @property
    def name(self) -> str:
        """Canonical name: the paper's letter, ``-BN`` appended for batch-norm variants."""
        return f"{self.paper}-BN" if self.batch_norm else self.paper

    @property
    def torchvision_name(self) -> str | None:
        base = TORCHVISION_NAMES.get(self.paper)
        return None if base is None else base + ("_bn" if self.batch_norm else "")

    @property
    def blocks(self) -> tuple[tuple[str, ...], ...]:
        return TABLE1[self.paper]

    @property
    def weight_layers(self) -> int:
        return sum(1 for block in self.blocks for token in block if token.startswith("conv")) + len(CLASSIFIER)

    @property
    def label(self) -> str:
        """Human label for selectors, e.g. ``D-BN (vgg16_bn, 16 weight layers)``, in the current language."""
        if self.torchvision_name:
            return str(Text(N_("{name} ({alias}, {n} weight layers)"), name=self.name, alias=self.torchvision_name,
                            n=self.weight_layers))
        return str(Text(N_("{name} ({n} weight layers)"), name=self.name, n=self.weight_layers))


def parse_conv(token: str) -> tuple[int, int]:
    """``"conv3-64"`` -> (kernel 3, channels 64)."""
    match = _CONV.fullmatch(token)
    if match is None:
        raise ValueError(f"not a conv token: {token!r}")
    return int(match.group(1)), int(match.group(2))


def fc_width(token: str) -> int:
    """``"FC-4096"`` -> 4096."""
    return int(token.split("-")[1])


ALL: tuple[Config, ...] = tuple(Config(p) for p in TABLE1) + tuple(
    Config(p, True) for p in TORCHVISION_NAMES
)
_BY_KEY: dict[str, Config] = {}
for _c in ALL:
    _BY_KEY[_c.name.lower()] = _c
    if _c.torchvision_name:
        _BY_KEY[_c.torchvision_name] = _c
NAMES: tuple[str, ...] = tuple(c.name for c in ALL)
ALIASES: tuple[str, ...] = tuple(c.torchvision_name for c in ALL if c.torchvision_name)


class UnknownConfigError(TranslatableError, ValueError):
    """An unknown configuration name; the message lists the allowed ones."""

    MESSAGES = {"unknown": N_("unknown configuration {name!r}; choose one of {names} "
                              "or a torchvision name ({aliases})")}


class InputSizeError(TranslatableError, ValueError):
    """An input size that cannot be used; the message says what is allowed."""

    MESSAGES = {
        "malformed": N_("malformed input size {value!r}; use N (square) or HxW, e.g. 224 or 320x240"),
        "too_small": N_("input size {value!r} is too small; height and width must be at least {minimum}"),
    }


def resolve(name: str | Config) -> Config:
    """Look up a configuration by paper name (``D``, ``A-LRN``, ``D-BN``) or torchvision alias (``vgg16_bn``).

    Case-insensitive; ``_`` and ``-`` are interchangeable.
    """
    if isinstance(name, Config):
        return name
    key = str(name).strip().lower().replace("_", "-")
    config = _BY_KEY.get(key) or _BY_KEY.get(key.replace("-", "_"))
    if config is None:
        raise UnknownConfigError("unknown", name=name, names=Items(NAMES), aliases=Items(ALIASES))
    return config


def parse_input_size(value: str | int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``224`` or ``"320x240"`` (H x W) -> (H, W), each at least ``MIN_INPUT``."""
    if isinstance(value, (tuple, list)):
        parts = list(value)
    elif isinstance(value, int):
        parts = [value, value]
    else:
        text = str(value).strip().lower().replace("×", "x")
        pieces = text.split("x")
        if not 1 <= len(pieces) <= 2 or not all(p.strip().isdigit() for p in pieces):
            raise InputSizeError("malformed", value=value)
        parts = [int(p) for p in pieces] * (2 if len(pieces) == 1 else 1)
    if len(parts) != 2 or not all(isinstance(p, int) for p in parts):
        raise InputSizeError("malformed", value=value)
    if min(parts) < MIN_INPUT:
        raise InputSizeError("too_small", value=value, minimum=MIN_INPUT)
    return parts[0], parts[1]
