"""The one model builder: every configuration's torch module, made from the same specs as the layer table.

For A/B/D/E (± BN) the state_dict keys and shapes equal torchvision's vgg11/13/16/19(_bn), so its
ImageNet weights load with ``strict=True``. Every ReLU is its own module with ``inplace=False``
(captum's DeepLift / guided backprop need that, REFERENCE.md §5).
"""

from __future__ import annotations

import torch
from torch import nn

from . import configs
from .configs import Config
from .layers import LayerSpec, layer_specs

# Krizhevsky et al.'s LRN (n=5, alpha=1e-4, beta=0.75, k=2), which the paper uses for A-LRN. torch
# divides alpha by n, so it gets n * 1e-4.
LRN = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)
DROPOUT = 0.5


class VGG(nn.Module):
    """torchvision's VGG layout (features, avgpool, classifier) built from ``layer_specs``."""

    def __init__(self, config: Config, specs: list[LayerSpec], head: str) -> None:
        super().__init__()
        self.config, self.specs, self.head = config, specs, head
        features, classifier = [], []
        channels = configs.INPUT_CHANNELS
        flat = channels
        for spec in specs:
            if spec.type == "conv":
                module = nn.Conv2d(channels, spec.channels, spec.kernel, spec.stride, spec.padding)
                channels = spec.channels
            elif spec.type == "bn":
                module = nn.BatchNorm2d(channels)
            elif spec.type == "relu":
                module = nn.ReLU(inplace=False)
            elif spec.type == "lrn":
                module = nn.LocalResponseNorm(**LRN)
            elif spec.type == "pool":
                module = nn.MaxPool2d(spec.kernel, spec.stride)
            elif spec.type == "avgpool":
                self.avgpool = nn.AdaptiveAvgPool2d(configs.AVGPOOL_OUT)
                flat = channels * configs.AVGPOOL_OUT[0] * configs.AVGPOOL_OUT[1]
                continue
            elif spec.type == "fc":
                module = nn.Linear(flat, spec.channels)
                flat = spec.channels
            elif spec.type == "dropout":
                module = nn.Dropout(DROPOUT)
            else:  # pragma: no cover - layer_specs only yields the types above
                raise ValueError(spec.type)
            (features if spec.module.startswith("features.") else classifier).append(module)
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(*classifier)
        self.num_classes = flat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))

    def conv_blocks(self) -> dict[int, list[str]]:
        """Block number -> its conv layers in order, e.g. ``{1: ["conv1_1", "conv1_2"], ...}`` for D."""
        blocks: dict[int, list[str]] = {}
        for spec in self.specs:
            if spec.type == "conv":
                blocks.setdefault(spec.block, []).append(spec.name)
        return blocks

    def module_names(self) -> dict[str, str]:
        """Module path -> paper name, e.g. ``{"features.0": "conv1_1", ...}``."""
        return {s.module: s.name for s in self.specs}


def build_model(
    config: str | Config,
    *,
    num_classes: int | None = None,
    hidden: int | None = None,
    head: str = "torchvision",
    seed: int | None = 0,
) -> VGG:
    """Build ``config`` in eval mode with torchvision's initialisation, seeded for reproducible untrained weights.

    Modules are made on the meta device, so construction neither draws from the global RNG nor
    spends time on an initialisation that is thrown away. ``seed=None`` leaves the memory
    uninitialised: only for a model about to load a state_dict.
    """
    config = configs.resolve(config)
    specs = layer_specs(config, head=head, hidden=hidden, num_classes=num_classes)
    with torch.device("meta"):
        model = VGG(config, specs, head)
    model.to_empty(device="cpu")
    if seed is not None:
        init_weights(model, seed)
    return model.eval()


def frozen_twin(model: VGG) -> VGG:
    """New module objects over the same tensors as ``model`` (no copy of the weights: same device, dtype and
    storage), gradients off, eval mode. Built on the meta device, so nothing is allocated before the tensors
    are assigned. Hooks and backward passes on the twin never touch the modules other sessions run."""
    with torch.device("meta"):
        other = VGG(model.config, model.specs, model.head)
    other.load_state_dict(model.state_dict(), assign=True)  # state_dict(): detached views, same storage
    return other.requires_grad_(False).eval()


def init_weights(model: nn.Module, seed: int) -> None:
    """torchvision's VGG initialisation, drawn from a seeded generator (leaves the global RNG alone).

    The numbers are drawn on the CPU in float32 and then copied into each parameter, whatever its
    device and dtype: a CPU generator cannot fill a CUDA tensor, and the same seed gives the same
    weights everywhere."""
    gen = torch.Generator().manual_seed(seed)

    def fill(param: torch.Tensor, init, *args, **kw) -> None:
        if param.device.type == "cpu" and param.dtype == torch.float32:  # in place: no transient copy
            init(param, *args, generator=gen, **kw)
        else:
            param.copy_(init(torch.empty(param.shape), *args, generator=gen, **kw))

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fill(m.weight, nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                fill(m.weight, nn.init.normal_, 0, 0.01)
                nn.init.zeros_(m.bias)
