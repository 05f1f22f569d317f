"""Writing a run's result: the state_dict (torchvision's keys, the course's ``vgg16Net.pth`` format),
its class names as the course's ``class_indices.json`` (``{"0": "daisy", ...}``, ``json.dumps(indent=4)``) and
a ``*.train.json`` record. The class file is ``<stem>.json`` beside the checkpoint, the name the app's
checkpoint folder pairs with it (a folder-wide ``class_indices.json`` would name other checkpoints' classes).

All three are written to temporary files in the target folder first and renamed only when every one is
complete: a full disk or a cancelled run leaves nothing behind. A cancel that arrives while the (large) files are
being written is honoured before the first rename, so a run reported cancelled never leaves a checkpoint."""

from __future__ import annotations

import glob
import io
import json
import os
import platform
import tempfile
from pathlib import Path

import torch
import torchvision

from collections.abc import Callable

from .. import __version__
from ..i18n import Items
from ..photo.server_checkpoints import SUFFIXES
from .errors import Cancelled, TrainError


PARTIAL = ".partial"  # the suffix of write's temporary files
SHARED_CLASSES = "class_indices"  # the folder's class file (photo.server_checkpoints.CLASSES_FILE), not ours


def reserved(out: Path) -> bool:
    """Whether ``out``'s companion files would be another's: ``class_indices.pth`` would write the folder-wide
    ``class_indices.json``; ``m.train.pt`` would write ``m.train.json``, the record of ``m.pt``."""
    stem = Path(out).stem.lower()
    return stem == SHARED_CLASSES or stem.endswith(".train")


def classes_path(out: Path) -> Path:
    return out.with_suffix(".json")


def record_path(out: Path) -> Path:
    return out.with_suffix(".train.json")


def outputs(out: Path) -> list[Path]:
    return [out, classes_path(out), record_path(out)]


def class_indices(classes: list[str]) -> str:
    """The course's class file: ImageFolder's ``class_to_idx`` inverted, ``json.dumps(..., indent=4)``."""
    return json.dumps({i: name for i, name in enumerate(classes)}, indent=4)


def versions() -> dict[str, str]:
    return {"vggviz": __version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
            "python": platform.python_version()}


def check_writable(out: Path, overwrite: bool) -> None:
    """Before a run: refuse a name the checkpoint folder would not list (``m.json`` would also be its own class
    file: the checkpoint renamed over it), a name whose companion files are another's, an existing file (unless
    ``overwrite``) and a folder that cannot be written."""
    if Path(out).suffix.lower() not in SUFFIXES:
        raise TrainError("suffix", name=Path(out).name, suffixes=Items(SUFFIXES))
    if reserved(out):
        raise TrainError("reserved_name", name=Path(out).name)
    if not overwrite:
        for path in outputs(out):
            if path.exists():
                raise TrainError("exists", path=str(path))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        raise TrainError("cannot_write", path=str(out), reason=exc.strerror or str(exc)) from None


def remove_partials(out: Path) -> list[Path]:
    """Remove the temporary files ``write`` leaves when its process is killed between creating and renaming
    them (a cancelled job past its grace time); returns what was removed."""
    gone = []
    for path in outputs(out):
        for temp in path.parent.glob(f".{glob.escape(path.name)}.*{PARTIAL}"):
            temp.unlink(missing_ok=True)
            gone.append(temp)
    return gone


def write(out: Path, state: dict[str, torch.Tensor], classes: list[str], record: dict, overwrite: bool = False,
          should_stop: Callable[[], bool] = lambda: False) -> None:
    """Write the three files atomically (all or none). Raises TrainError, or Cancelled when ``should_stop()``
    turns true before the files are renamed into place."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in state.items()}, buffer)
    contents = [buffer.getvalue(), class_indices(classes).encode("utf-8"),
                json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8")]
    check_writable(out, overwrite)
    temps: list[Path] = []
    placed: list[Path] = []
    try:
        for path, data in zip(outputs(out), contents):
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
            temps.append(Path(name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if should_stop():  # a cancel during the write: nothing is renamed into place
            raise Cancelled()
        if not overwrite:  # taken while the run went on
            for path in outputs(out):
                if path.exists():
                    raise TrainError("exists", path=str(path))
        # The checkpoint last: the folder's listing never shows it without its class file. A rename that fails
        # takes back those made before it.
        for temp, path in reversed(list(zip(temps, outputs(out)))):
            os.replace(temp, path)
            placed.append(path)
    except OSError as exc:
        for path in placed:
            path.unlink(missing_ok=True)
        raise TrainError("cannot_write", path=str(out), reason=exc.strerror or str(exc)) from None
    except BaseException:  # a cancel, or Ctrl-C between two renames
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
