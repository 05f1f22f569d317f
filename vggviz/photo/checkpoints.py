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
from ..i18n import Items, N_, Text, TranslatableError

MAX_CLASSES_JSON_BYTES = 4 * 1024 * 1024
SHOWN_DIFFERENCES = 6


class CheckpointError(TranslatableError, ValueError):
    """A checkpoint (or its class file) that cannot be used; the message names the problem."""

    MESSAGES = {
        "not_a_checkpoint": N_("{name} is not a readable PyTorch checkpoint (not a pickle or zip archive)"),
        "code": N_("{name} was refused: it asks to run code or build objects beyond tensors; "
                   "only plain state_dicts are loaded"),
        "code_named": N_("{name} was refused: it asks to run code or build objects beyond tensors ({found}); "
                         "only plain state_dicts are loaded"),
        "no_such_file": N_("{name}: no such file"),
        "unreadable": N_("{name} is not a readable PyTorch checkpoint ({kind}: truncated, corrupt or another format)"),
        "no_state_dict": N_("{name} holds no state_dict (found {found})"),
        "not_tensors": N_("{name} holds {count} entries that are not tensors, e.g. {examples}"),
        "no_classifier": N_("{name} has no VGG classifier (classifier.N.weight matrices)"),
        "no_match": N_("{name} matches no VGG configuration; closest is {config} ({head} head): {differences}"),
        "classes_too_large": N_("{name} is larger than {limit} MB"),
        "classes_not_json": N_("{name} is not readable JSON ({kind})"),
        "classes_not_a_mapping": N_("{name} must map class indices to names, like {example}"),
        "classes_bad_keys": N_("{name} has keys that are not class indices"),
        "classes_count": N_("{name} names {found} classes; the checkpoint has {expected} (indices 0…{last})"),
    }


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
            raise CheckpointError("not_a_checkpoint", name=name) from None
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found:
            raise CheckpointError("code_named", name=name, found=found.group(1)) from None
        raise CheckpointError("code", name=name) from None
    except FileNotFoundError:
        raise CheckpointError("no_such_file", name=name) from None
    except Exception as exc:  # torch.load raises many types on foreign or truncated input
        raise CheckpointError("unreadable", name=name, kind=exc.__class__.__name__) from None
    return unwrap(obj, name)


def unwrap(obj: object, name: str = "checkpoint") -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError("no_state_dict", name=name, found=type(obj).__name__)
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError("not_tensors", name=name, count=len(bad), examples=Items(bad[:3]))
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def infer_architecture(state_dict: dict[str, torch.Tensor], name: str = "checkpoint") -> Architecture:
    """The configuration and head whose keys and shapes equal the checkpoint's exactly.

    When none does, CheckpointError lists what differs from the closest candidate."""
    fcs = sorted((k for k in state_dict if k.startswith("classifier.") and k.endswith(".weight")),
                 key=lambda k: int(k.split(".")[1]))
    if not fcs or any(state_dict[k].ndim != 2 for k in fcs):
        raise CheckpointError("no_classifier", name=name)
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
    shown = diff[:SHOWN_DIFFERENCES]
    if len(diff) > SHOWN_DIFFERENCES:
        shown.append(Text(N_("and {n} more"), n=len(diff) - SHOWN_DIFFERENCES))
    raise CheckpointError("no_match", name=name, config=config.name, head=head,
                          differences=Items(shown, pattern=N_("{items}; {item}")))


def _differences(want: dict[str, tuple], have: dict[str, tuple]) -> list[Text]:
    out = [Text(N_("missing {key}"), key=k) for k in want if k not in have]
    out += [Text(N_("unexpected {key}"), key=k) for k in have if k not in want]
    out += [Text(N_("{key} is {found}, expected {expected}"), key=k, found=list(have[k]), expected=list(want[k]))
            for k in want if k in have and have[k] != want[k]]
    return out


def read_class_names(source: str | Path | bytes, num_classes: int, name: str = "class_indices.json") -> list[str]:
    """Class names from a ``class_indices.json`` ({"0": "daisy", ...}) or a JSON list; one per class."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        if len(data) > MAX_CLASSES_JSON_BYTES:
            raise CheckpointError("classes_too_large", name=name, limit=MAX_CLASSES_JSON_BYTES // 2**20)
        obj = json.loads(data.decode("utf-8"))
    except CheckpointError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError("classes_not_json", name=name, kind=exc.__class__.__name__) from None
    if isinstance(obj, list):
        obj = {str(i): v for i, v in enumerate(obj)}
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        raise CheckpointError("classes_not_a_mapping", name=name, example='{"0": "daisy"}')
    try:
        names = {int(k): v for k, v in obj.items()}
    except ValueError:
        raise CheckpointError("classes_bad_keys", name=name) from None
    if sorted(names) != list(range(num_classes)):
        raise CheckpointError("classes_count", name=name, found=len(names), expected=num_classes, last=num_classes - 1)
    return [names[i] for i in range(num_classes)]
