"""User checkpoints: plain state_dicts (or wrapped under ``state_dict`` / ``model``, with or without
DataParallel's ``module.`` prefix), including those trained with the lecture's own code. The
configuration, head layout and class count are inferred from the keys and shapes alone."""

from __future__ import annotations

import io
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..architecture import configs
from ..architecture.layers import HEADS, layer_specs

MAX_CLASSES_JSON_BYTES = 4 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Architecture:
    config: configs.Config
    head: str
    hidden: int
    num_classes: int

    @property
    def lecture(self) -> bool:
        """Trained with the lecture's code: no batch norm and a non-ImageNet head (REFERENCE.md §4)."""
        return self.head == "lecture_v1" or (self.num_classes != 1000 and not self.config.batch_norm)


def expected_shapes(config: configs.Config, head: str, hidden: int, num_classes: int) -> dict[str, tuple[int, ...]]:
    """Every state_dict key of a model built from these specs, with its shape (torch-free arithmetic)."""
    shapes: dict[str, tuple[int, ...]] = {}
    channels = configs.INPUT_CHANNELS
    flat = channels
    for spec in layer_specs(config, head=head, hidden=hidden, num_classes=num_classes):
        m = spec.module
        if spec.type == "conv":
            shapes[f"{m}.weight"] = (spec.channels, channels, spec.kernel, spec.kernel)
            shapes[f"{m}.bias"] = (spec.channels,)
            channels = spec.channels
        elif spec.type == "bn":
            for key in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{m}.{key}"] = (channels,)
            shapes[f"{m}.num_batches_tracked"] = ()
        elif spec.type == "avgpool":
            flat = channels * configs.AVGPOOL_OUT[0] * configs.AVGPOOL_OUT[1]
        elif spec.type == "fc":
            shapes[f"{m}.weight"] = (spec.channels, flat)
            shapes[f"{m}.bias"] = (spec.channels,)
            flat = spec.channels
    return shapes


def read_checkpoint(source: str | Path | bytes, name: str | None = None) -> dict[str, torch.Tensor]:
    """Load a checkpoint with ``weights_only=True`` and return its state_dict of tensors.

    Raises CheckpointError for anything else: a pickle that asks for code, a truncated file, a file that
    is not a checkpoint, a dict of non-tensors."""
    name = name or (Path(source).name if not isinstance(source, bytes) else "checkpoint")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        obj = torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not re.search(r"global|getattr|reduce|build", str(exc), re.IGNORECASE):  # garbage, not a pickle
            raise CheckpointError(f"{name} is not a readable PyTorch checkpoint (not a pickle or zip archive)") from None
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        raise CheckpointError(
            f"{name} was refused: it asks to run code or build objects beyond tensors"
            + (f" ({found.group(1)})" if found else "") + "; only plain state_dicts are loaded"
        ) from None
    except FileNotFoundError:
        raise CheckpointError(f"{name}: no such file") from None
    except Exception as exc:  # torch.load raises many types on foreign or truncated input
        raise CheckpointError(f"{name} is not a readable PyTorch checkpoint ({exc.__class__.__name__}: "
                              f"truncated, corrupt or another format)") from None
    return unwrap(obj, name)


def unwrap(obj: object, name: str = "checkpoint") -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"{name} holds no state_dict (found {type(obj).__name__})")
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{name} holds {len(bad)} entries that are not tensors, e.g. {', '.join(bad[:3])}")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def infer_architecture(state_dict: dict[str, torch.Tensor], name: str = "checkpoint") -> Architecture:
    """The configuration and head whose keys and shapes equal the checkpoint's exactly.

    When none does, CheckpointError lists what differs from the closest candidate."""
    fcs = sorted((k for k in state_dict if k.startswith("classifier.") and k.endswith(".weight")),
                 key=lambda k: int(k.split(".")[1]))
    if not fcs or any(state_dict[k].ndim != 2 for k in fcs):
        raise CheckpointError(f"{name} has no VGG classifier (classifier.N.weight matrices)")
    hidden, num_classes = int(state_dict[fcs[0]].shape[0]), int(state_dict[fcs[-1]].shape[0])
    have = {k: tuple(v.shape) for k, v in state_dict.items()}
    best = None
    for config in configs.ALL:
        for head in HEADS:
            want = expected_shapes(config, head, hidden, num_classes)
            if want == have:
                return Architecture(config, head, hidden, num_classes)
            diff = _differences(want, have)
            if best is None or len(diff) < len(best[2]):
                best = (config, head, diff)
    config, head, diff = best
    shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
    raise CheckpointError(f"{name} matches no VGG configuration; closest is {config.name} ({head} head): {shown}")


def _differences(want: dict[str, tuple], have: dict[str, tuple]) -> list[str]:
    out = [f"missing {k}" for k in want if k not in have]
    out += [f"unexpected {k}" for k in have if k not in want]
    out += [f"{k} is {list(have[k])}, expected {list(want[k])}" for k in want if k in have and have[k] != want[k]]
    return out


def read_class_names(source: str | Path | bytes, num_classes: int, name: str = "class_indices.json") -> list[str]:
    """Class names from a ``class_indices.json`` ({"0": "daisy", ...}) or a JSON list; one per class."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        if len(data) > MAX_CLASSES_JSON_BYTES:
            raise CheckpointError(f"{name} is larger than {MAX_CLASSES_JSON_BYTES // 2**20} MB")
        obj = json.loads(data.decode("utf-8"))
    except CheckpointError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{name} is not readable JSON ({exc.__class__.__name__})") from None
    if isinstance(obj, list):
        obj = {str(i): v for i, v in enumerate(obj)}
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        raise CheckpointError(f"{name} must map class indices to names, like {{\"0\": \"daisy\"}}")
    try:
        names = {int(k): v for k, v in obj.items()}
    except ValueError:
        raise CheckpointError(f"{name} has keys that are not class indices") from None
    if sorted(names) != list(range(num_classes)):
        raise CheckpointError(f"{name} names {len(names)} classes; the checkpoint has {num_classes} (indices 0…{num_classes - 1})")
    return [names[i] for i in range(num_classes)]
