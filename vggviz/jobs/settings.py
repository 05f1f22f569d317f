"""The teacher's settings for training on a shared server: on or off, caps on epochs, photos, jobs at once,
jobs waiting and the threads of a job, the device it trains on, and the folder where the machine's job slots
live.

Read from ``[training]`` in ``.streamlit/vggviz.toml`` (beside app.py, or the file ``$VGGVIZ_SETTINGS`` names),
then from environment variables, which win: ``VGGVIZ_TRAINING=off``, ``VGGVIZ_TRAIN_MAX_EPOCHS``,
``VGGVIZ_TRAIN_MAX_PHOTOS``, ``VGGVIZ_TRAIN_MAX_JOBS``, ``VGGVIZ_TRAIN_MAX_QUEUE``, ``VGGVIZ_TRAIN_THREADS``,
``VGGVIZ_TRAIN_DEVICE``, ``VGGVIZ_JOBS`` (docs/training.md, "Training on a shared server", has the table). A value
that is not one gives a translated message naming it."""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..i18n import N_, TranslatableError

APP_FOLDER = Path(__file__).resolve().parents[2]  # beside app.py
SETTINGS_ENV = "VGGVIZ_SETTINGS"
SETTINGS_FILE = APP_FOLDER / ".streamlit" / "vggviz.toml"
SECTION = "training"


def default_threads() -> int:
    """Half the machine's cores (at least one): the other half keeps serving the class."""
    return max(1, (os.cpu_count() or 2) // 2)


def default_folder() -> Path:
    """One folder per user in the system's temporary folder: every replica on the machine finds the same one."""
    return Path(tempfile.gettempdir()) / f"vggviz-jobs-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


# key in the settings file -> (environment variable, kind, least value)
FIELDS: dict[str, tuple[str, str, int]] = {
    "enabled": ("VGGVIZ_TRAINING", "switch", 0),
    "max_epochs": ("VGGVIZ_TRAIN_MAX_EPOCHS", "count", 1),
    "max_photos": ("VGGVIZ_TRAIN_MAX_PHOTOS", "count", 1),
    "max_jobs": ("VGGVIZ_TRAIN_MAX_JOBS", "count", 1),
    "max_queue": ("VGGVIZ_TRAIN_MAX_QUEUE", "count", 1),  # 0 would refuse every job: VGGVIZ_TRAINING=off says so
    "threads": ("VGGVIZ_TRAIN_THREADS", "count", 1),
    "folder": ("VGGVIZ_JOBS", "path", 0),
    "device": ("VGGVIZ_TRAIN_DEVICE", "device", 0),
}
DEVICES = ("auto", "cpu", "cuda", "mps")
ON, OFF = ("on", "true", "yes", "1"), ("off", "false", "no", "0")


class SettingsError(TranslatableError, ValueError):
    MESSAGES = {
        "switch": N_("{name} is {value!r}: write on or off."),
        "count": N_("{name} is {value!r}: write a whole number of at least {least}."),
        "device": N_("{name} is {value!r}: write auto, cpu, cuda or mps."),
        "file": N_("The settings file {file} cannot be read: {error}."),
    }


@dataclass(frozen=True)
class Settings:
    enabled: bool = True
    max_epochs: int | None = 30  # None: no cap
    max_photos: int | None = 20_000
    max_jobs: int = 1  # jobs training at once on this machine (all replicas together)
    max_queue: int = 8  # jobs waiting on one server
    threads: int = field(default_factory=default_threads)  # torch threads of one job
    folder: Path = field(default_factory=default_folder)  # the machine's job slots (lock files)
    device: str = "auto"  # where a job trains: auto = CUDA, then Apple MPS, then the CPU

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, file: Path | None = None) -> Settings:
        """The settings file's ``[training]`` table, then the environment variables over it."""
        environ = os.environ if environ is None else environ
        file = file or Path(environ.get(SETTINGS_ENV) or SETTINGS_FILE)
        values: dict[str, Any] = {}
        if file.is_file():
            try:
                table = tomllib.loads(file.read_text(encoding="utf-8")).get(SECTION, {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError("file", file=str(file), error=str(exc)) from exc
            for key, value in table.items():
                if key in FIELDS:
                    values[key] = _parse(f"[{SECTION}] {key}", FIELDS[key], value)
        for key, spec in FIELDS.items():
            typed = environ.get(spec[0], "").strip()
            if typed:
                values[key] = _parse(spec[0], spec, typed)
        return cls(**values)


def _parse(name: str, spec: tuple[str, str, int], value: Any) -> Any:
    kind, least = spec[1], spec[2]
    if kind == "switch":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ON + OFF:
            return str(value).lower() in ON
        raise SettingsError("switch", name=name, value=str(value))
    if kind == "path":
        return Path(str(value)).expanduser()
    if kind == "device":
        if str(value).lower() not in DEVICES:
            raise SettingsError("device", name=name, value=str(value))
        return str(value).lower()
    if str(value).lower() in ("none", "off") and name.endswith(("EPOCHS", "PHOTOS", "epochs", "photos")):
        return None  # no cap
    try:
        number = int(str(value))
    except ValueError:
        number = None
    if number is None or number < least or isinstance(value, bool):
        raise SettingsError("count", name=name, value=str(value), least=least)
    return number
