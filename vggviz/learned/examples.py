"""Dataset examples (Zeiler & Fergus, ECCV 2014; OpenAI Microscope): for every channel of the chosen conv layers,
the photos of a collection that excite it most (top-k), least (bottom-k) and a seeded random sample for
contrast, each with the position of its strongest response and that unit's receptive field.

What is scored: each conv layer's map *before its ReLU* (the conv module's output; in a -BN configuration its
batch norm's, the module whose output the ReLU reads: ``extraction.map_nodes``, the map Feature maps shows).
It is the quantity feature visualisation maximises (lucent's ``layer:channel``); after the ReLU every silent
channel would tie at 0. A photo's score for a channel is the largest value over the map's positions, and its
position is where that maximum lies.

One forward pass per photo scores every channel of every chosen layer at once: forward hooks on those modules
reduce each map to (maximum, position) per photo and channel as soon as it exists and merge that into what
is kept, and the pass stops after the last chosen layer. Per channel only the best k (value, photo, position)
so far are kept, as [C, k] tensors merged with each batch by a stable sort, so memory does not grow with the
number of photos (only the photo names are kept). The random sample is a reservoir (Vitter's algorithm R)
over the usable photos, seeded.

Ties, documented and tested: within a map, the earliest position in row-major order; between photos, the
higher value first (bottom-k: the lower), then the earlier photo (collection order); one photo gives one
example per channel.

The results are cached in the gallery (``store.root() / "examples"``, one folder per model, collection,
preprocessing, size and settings): see ``save``. Long runs report progress after each batch and stop when
``cancel`` is set; a cancelled run writes nothing and leaves no hook on the model.
"""

from __future__ import annotations

import io
import json
import random as _random
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..architecture import configs
from ..architecture.layers import Layer, layer_table
from ..architecture.lecture import Box, unit_box
from ..evaluate import dataset, default_workers
from ..evaluate.errors import Skip, Skipped
from ..evaluate.run import CancelToken, Progress
from ..i18n import N_, TranslatableError
from ..photo import extraction, images, memory, model_identity
from ..photo.inference import LAYOUT, LoadedModel
from . import store, views
from .collection import Collection

VERSION = 1  # of the cached format: a change makes new entries instead of misreading old ones
FOLDER = "examples"
FILE = "examples.npz"
TOP = 9  # Zeiler & Fergus's top-9


class ExamplesError(TranslatableError, ValueError):
    """Dataset examples that cannot be computed from what was asked; nothing was run or written."""

    MESSAGES = {
        # The first two say what Evaluate and the unit view say in these cases (one catalogue entry each).
        "no_layer": N_("{layer} is not a conv layer of {config}: choose one of {choices}"),
        "no_photos": N_("{name} holds no photo that could be read ({skipped} files skipped)"),
        "empty": N_("{name} holds no photos: add JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC or HEIF files"),
        "count": N_("the number of dataset examples must be between {low} and {high}, not {value}"),
        "cancelled": N_("The dataset examples were cancelled; nothing was saved"),
        "no_view": N_("the photo {name} of these dataset examples is missing from the gallery"),
    }


Cancel = Union[CancelToken, Callable[[], bool]]


@dataclass(frozen=True)
class Settings:
    """What decides the examples besides the model and the collection (each part of the cache key)."""

    preprocess: str | None = None  # None: what the weights expect
    size: int = configs.DEFAULT_INPUT  # the model's input is size × size
    top: int = TOP
    bottom: int = TOP  # the least exciting photos per channel; 0: none
    random: int = TOP  # photos of a seeded random sample; 0: none
    seed: int = 0

    def resolved(self, lm: LoadedModel) -> Settings:
        """With the preprocessing filled in, checked (ExamplesError, ModelError, InputSizeError)."""
        preprocess = self.preprocess or lm.preprocess
        views.transform(preprocess, self.size)  # an unknown preprocessing: ModelError naming the choices
        configs.parse_input_size(self.size)
        for value, low in ((self.top, 1), (self.bottom, 0), (self.random, 0)):
            if not isinstance(value, int) or not low <= value <= MAX_COUNT:
                raise ExamplesError("count", low=low, high=MAX_COUNT, value=value)
        return replace(self, preprocess=preprocess)


MAX_COUNT = 100


# --- which layers ----------------------------------------------------------------------------------------

def conv_layers(lm: LoadedModel) -> list[str]:
    """The model's conv layers in order (conv1_1, ...)."""
    return list(extraction.map_nodes(lm.model))


def check_layers(lm: LoadedModel, layers: Iterable[str] | str | None) -> list[str]:
    """``layers`` (names, "all" or None for every conv layer) in the network's order; ExamplesError naming the
    choices for a layer that is not a conv layer of the model."""
    every = conv_layers(lm)
    if layers is None or layers == "all":
        return every
    wanted = [layers] if isinstance(layers, str) else list(layers)
    for name in wanted:
        if name not in every:
            raise ExamplesError("no_layer", layer=name, config=lm.config.name, choices=", ".join(every))
    return [name for name in every if name in set(wanted)]


def _modules(lm: LoadedModel, layers: list[str]) -> tuple[dict[str, torch.nn.Module], int]:
    """The module whose output is each layer's map, and how many of ``features`` the pass needs."""
    nodes = extraction.map_nodes(lm.model)
    found = {name: lm.model.get_submodule(nodes[name]) for name in layers}
    stop = max(int(nodes[name].split(".")[1]) for name in layers) + 1
    return found, stop


# --- one pass -------------------------------------------------------------------------------------------

def _pass(lm: LoadedModel, x: torch.Tensor, modules: dict[str, torch.nn.Module], stop: int,
          reduce: Callable[[str, torch.Tensor], object]) -> dict[str, object]:
    """One forward pass of ``x`` through ``features[:stop]`` with a hook on each module of ``modules`` that
    keeps ``reduce(layer, map)``. Under the model's forward lock, in its layout, device and dtype, as the app's
    inference runs; the hooks exist only during the pass (another session's pass never meets them)."""
    found: dict[str, object] = {}

    def keep(name: str):
        return lambda _module, _inputs, output: found.__setitem__(name, reduce(name, output))

    with lm.forward_lock, torch.inference_mode():
        handles = [module.register_forward_hook(keep(name)) for name, module in modules.items()]
        try:
            x = x.to(device=lm.device, dtype=lm.dtype, memory_format=LAYOUT)
            lm.model.features[:stop](x)
        finally:
            for handle in handles:
                handle.remove()
    return found


def _maxima(output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(values float32, positions), each (B, C): every channel's largest value over its map and the first
    (row-major) flat position holding it. Adaptive max pooling to 1×1 with indices does both in one pass over
    a channels-last map, as fast as ``amax`` alone (measured on the CPU: ``max(dim)`` over the same view
    took 4× longer, a contiguous copy 4.5×). Its kernels keep the first of equal values (not documented by
    torch: the tests check it against NumPy's ``argmax`` on exact ties)."""
    values, at = F.adaptive_max_pool2d(output, 1, return_indices=True)
    return values.flatten(1).float(), at.flatten(1)


# --- the kept state: bounded -------------------------------------------------------------------------------

class Ranking:
    """Per channel the ``k`` best (value, photo, position) so far, as [C, m] tensors (m ≤ k). Merging a batch
    sorts the kept entries followed by the batch's photos in collection order with a stable sort, so equal
    values keep the earlier photo first."""

    def __init__(self, k: int, largest: bool) -> None:
        self.k, self.largest = k, largest
        self.values: torch.Tensor | None = None  # float32
        self.photos: torch.Tensor | None = None  # int64
        self.at: torch.Tensor | None = None  # int64, flat position (row · W + col)

    def add(self, values: torch.Tensor, photos: torch.Tensor, at: torch.Tensor) -> None:
        """``values``, ``at``: (B, C) for the batch's photos ``photos`` (B,), in increasing order."""
        values, at = values.T, at.T
        photos = photos.to(values.device).expand(len(values), -1)
        if self.values is not None:
            values = torch.cat([self.values, values], dim=1)
            photos = torch.cat([self.photos, photos], dim=1)
            at = torch.cat([self.at, at], dim=1)
        order = torch.sort(values, dim=1, descending=self.largest, stable=True).indices[:, :self.k]
        self.values, self.photos, self.at = values.gather(1, order), photos.gather(1, order), at.gather(1, order)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"value": self.values.cpu().numpy(), "photo": self.photos.cpu().numpy().astype(np.int32),
                "at": self.at.cpu().numpy().astype(np.int32)}

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.values, self.photos, self.at) if t is not None)


class Sample:
    """A seeded uniform sample of ``n`` usable photos (reservoir, algorithm R) and each channel's value and
    position on them; slot s holds photo ``photos[s]``."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.rng, self.seen = n, _random.Random(seed), 0
        self.photos: list[int] = []
        self.values: dict[str, torch.Tensor] = {}
        self.at: dict[str, torch.Tensor] = {}

    def slots(self, photos: list[int]) -> list[tuple[int, int]]:
        """(row of the batch, slot) for the batch's photos that enter the sample."""
        chosen = {}
        for row, photo in enumerate(photos):
            self.seen += 1
            slot = len(self.photos) if len(self.photos) < self.n else self.rng.randrange(self.seen)
            if slot < self.n:
                if slot == len(self.photos):
                    self.photos.append(photo)
                else:
                    self.photos[slot] = photo
                chosen[slot] = row  # a later photo of the same batch may take the slot again
        return [(row, slot) for slot, row in chosen.items()]

    def add(self, layer: str, values: torch.Tensor, positions: torch.Tensor, slots: list[tuple[int, int]]) -> None:
        """``values``, ``positions``: (B, C) of the batch."""
        if layer not in self.values:
            c = values.shape[1]
            self.values[layer] = torch.full((c, self.n), float("nan"), device=values.device)
            self.at[layer] = torch.zeros((c, self.n), dtype=torch.int64, device=values.device)
        for row, slot in slots:
            self.values[layer][:, slot] = values[row]
            self.at[layer][:, slot] = positions[row]

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.values.values(), *self.at.values()))


class Scores:
    """Everything a run keeps: per layer the top and bottom rankings and the sample's values; a fixed size."""

    def __init__(self, layers: list[str], settings: Settings) -> None:
        self.layers = layers
        self.top = {name: Ranking(settings.top, largest=True) for name in layers}
        self.bottom = {name: Ranking(settings.bottom, largest=False) for name in layers} if settings.bottom else {}
        self.sample = Sample(settings.random, settings.seed) if settings.random else None

    def add(self, layer: str, output: torch.Tensor, photos: torch.Tensor, slots: list[tuple[int, int]]) -> None:
        """Merge one batch's map of ``layer`` (B, C, H, W) for ``photos`` (B,, increasing), as the map is made."""
        values, at = _maxima(output)
        photos = photos.to(values.device)
        self.top[layer].add(values, photos, at)
        if layer in self.bottom:
            self.bottom[layer].add(values, photos, at)
        if self.sample:
            self.sample.add(layer, values, at, slots)

    def photos(self) -> set[int]:
        """Every photo some channel shows."""
        used = set(self.sample.photos) if self.sample else set()
        for ranking in (*self.top.values(), *self.bottom.values()):
            if ranking.photos is not None:
                used.update(ranking.photos.unique().tolist())
        return used

    def nbytes(self) -> int:
        """Bytes of the tensors held: independent of the number of photos (a test and the bench check it)."""
        return (sum(r.nbytes() for r in (*self.top.values(), *self.bottom.values()))
                + (self.sample.nbytes() if self.sample else 0))

    def batch(self, photos: list[int]) -> Callable[[str, torch.Tensor], None]:
        """The hook's reduction for one batch of ``photos``: merge each layer's map as it is made."""
        ids = torch.tensor(photos, dtype=torch.int64)
        slots = self.sample.slots(photos) if self.sample else []
        return lambda layer, output: self.add(layer, output, ids, slots)


@dataclass(frozen=True)
class Run:
    """A finished scoring run: the kept state, the photos' names, what was skipped, how long it took."""

    scores: Scores
    names: list[str]
    skipped: list[Skipped]
    scored: int  # photos that went through the model
    seconds: float


def _cancelled(cancel: Cancel | None) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if is_set is not None else cancel())


def score(lm: LoadedModel, collection: Collection, settings: Settings, layers: Iterable[str] | str | None = None, *,
          batch_size: int = 16, workers: int | None = None, progress: Callable[[Progress], None] | None = None,
          cancel: Cancel | None = None) -> Run:
    """Score every photo of ``collection`` (one pass each, in batches, decoded in DataLoader workers as
    Evaluate does) and keep the top / bottom / random examples of every channel of ``layers``. Raises
    ExamplesError: an unknown layer, an empty collection or one without a readable photo, or ``cancel``
    set (checked between batches). Writes nothing."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    settings = settings.resolved(lm)
    names = check_layers(lm, layers)
    if not collection.files:
        if collection.skipped:
            raise ExamplesError("no_photos", name=collection.name, skipped=len(collection.skipped))
        raise ExamplesError("empty", name=collection.name)
    modules, stop = _modules(lm, names)
    photos = dataset.Photos(collection.reader, collection.files, views.transform(settings.preprocess, settings.size))
    workers = default_workers() if workers is None else workers
    batches = iter(dataset.loader(photos, batch_size, workers, pin_memory=lm.device.type == "cuda"))
    scores, skipped = Scores(names, settings), list(collection.skipped)
    start, done, scored = time.perf_counter(), 0, 0
    try:
        for indices, x, failed in batches:
            if _cancelled(cancel):
                raise ExamplesError("cancelled")
            skipped += [Skipped(collection.files[i], reason) for i, reason in failed]
            if x is not None:
                _pass(lm, x, modules, stop, scores.batch(indices))
                scored += len(indices)
            done += len(indices) + len(failed)
            memory.release_free_memory()  # as Evaluate: freed batch buffers go back to the OS
            if progress is not None:
                progress(Progress(done, len(collection.files), time.perf_counter() - start))
        if _cancelled(cancel):
            raise ExamplesError("cancelled")
    finally:
        del batches  # shuts its workers down, also when cancelled or interrupted
        memory.release_free_memory()
    if not scored:
        raise ExamplesError("no_photos", name=collection.name, skipped=len(skipped))
    skipped.sort(key=lambda s: s.file)
    return Run(scores, list(collection.files), skipped, scored, time.perf_counter() - start)


# --- time estimate ----------------------------------------------------------------------------------------

_SECONDS: dict[tuple, float] = {}


def seconds_per_photo(lm: LoadedModel, settings: Settings = Settings(), layers: Iterable[str] | str | None = None,
                      batch_size: int = 16) -> float:
    """Measured seconds of the scoring pass per photo (one batch of noise at the settings' size, after one
    warm-up photo), remembered per model configuration, device, dtype, size and layers."""
    names = check_layers(lm, layers)
    modules, stop = _modules(lm, names)
    key = (lm.config.name, str(lm.device), str(lm.dtype), settings.size, stop, batch_size)
    if key not in _SECONDS:
        x = torch.randn(batch_size, 3, settings.size, settings.size, generator=torch.Generator().manual_seed(0))
        scores = Scores(names, settings)
        _pass(lm, x[:1], modules, stop, scores.batch([0]))
        start = time.perf_counter()
        _pass(lm, x, modules, stop, scores.batch(list(range(1, batch_size + 1))))
        _SECONDS[key] = (time.perf_counter() - start) / batch_size
    return _SECONDS[key]


def estimate(lm: LoadedModel, collection: Collection, settings: Settings = Settings(),
             layers: Iterable[str] | str | None = None, batch_size: int = 16) -> float:
    """Seconds a run over ``collection`` should take: photos × measured seconds per photo (decoding runs
    beside the model in workers, so the forward pass sets the pace)."""
    return len(collection.files) * seconds_per_photo(lm, settings, layers, batch_size)


# --- results ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """One photo for one channel: its name and index in the collection, the channel's largest value on it, the
    unit (row, column) holding it, and that unit's receptive field (``box`` may run past the photo;
    ``clipped`` is the part inside it)."""

    photo: str
    index: int
    value: float
    at: tuple[int, int]
    box: Box
    clipped: Box

    def record(self) -> dict:
        """The command line's JSON (its keys are documented)."""
        b = self.box
        return {"photo": self.photo, "value": self.value, "at": list(self.at),
                "box": [b.top, b.left, b.bottom, b.right]}


KINDS = ("top", "bottom", "random")


@dataclass(frozen=True, eq=False)
class Examples:
    """Dataset examples as cached in the gallery: ``folder`` holds ``examples.npz`` (the arrays, the photos'
    names and ``meta``) and ``views/<i>.png``, what the model saw of each photo shown."""

    folder: Path
    meta: dict
    names: list[str]
    arrays: dict[str, np.ndarray]

    @property
    def layers(self) -> list[str]:
        return list(self.meta["layers"])

    @property
    def settings(self) -> Settings:
        return Settings(**self.meta["settings"])

    def channels(self, layer: str) -> int:
        return int(self.meta["layers"][layer])

    @cached_property
    def _rows(self) -> dict[str, Layer]:
        size = self.meta["settings"]["size"]
        return {row.name: row for row in layer_table(self.meta["model"]["config"], (size, size))}

    def box(self, layer: str, at: tuple[int, int]) -> tuple[Box, Box]:
        """The receptive field of unit ``at`` of ``layer`` (full, clipped), from the layer table."""
        size = self.meta["settings"]["size"]
        return unit_box(self._rows[layer], at[0], at[1], (size, size))

    def examples(self, layer: str, channel: int, kind: str = "top") -> list[Example]:
        """The ``kind`` ("top", "bottom" or "random") examples of ``channel`` of ``layer``, in rank order
        (random: in sample order)."""
        if layer not in self.meta["layers"]:
            raise ExamplesError("no_layer", layer=layer, config=self.meta["model"]["config"],
                                choices=", ".join(self.layers))
        if kind == "random":
            photos = self.arrays.get("random.photo", np.zeros(0, np.int32))
            values = self.arrays.get(f"{layer}.random.value", np.zeros((0, 0)))
            at = self.arrays.get(f"{layer}.random.at", np.zeros((0, 0), np.int32))
            values, at = (values[channel], at[channel]) if len(values) else ([], [])
        else:
            key = f"{layer}.{kind}"
            if f"{key}.value" not in self.arrays:
                return []
            photos, values, at = (self.arrays[f"{key}.{part}"][channel] for part in ("photo", "value", "at"))
        width = self._rows[layer].out_shape[2]
        found = []
        for photo, value, flat in zip(photos, values, at):
            unit = divmod(int(flat), width)
            full, clipped = self.box(layer, unit)
            found.append(Example(self.names[int(photo)], int(photo), float(value), unit, full, clipped))
        return found

    def top(self, layer: str, channel: int) -> list[Example]:
        return self.examples(layer, channel, "top")

    def bottom(self, layer: str, channel: int) -> list[Example]:
        return self.examples(layer, channel, "bottom")

    def random(self, layer: str, channel: int) -> list[Example]:
        return self.examples(layer, channel, "random")

    def view(self, index: int) -> Image.Image:
        """What the model saw of photo ``index`` (size × size, before normalising); ExamplesError if missing."""
        try:
            with Image.open(self.folder / "views" / f"{index}.png") as im:
                return im.convert("RGB")
        except OSError:
            raise ExamplesError("no_view", name=self.names[index]) from None

    @property
    def skipped(self) -> list[Skipped]:
        return [_skipped(s) for s in self.meta["skipped"]]

    def record(self, layers: Iterable[str] | None = None, kind: str = "top") -> dict:
        """``{layer: {"channel": [example record, ...]}}`` (the command line's JSON)."""
        return {layer: {str(c): [e.record() for e in self.examples(layer, c, kind)]
                        for c in range(self.channels(layer))}
                for layer in (self.layers if layers is None else layers)}


def _skip_record(s: Skipped) -> dict:
    reason = s.reason
    kind = "image" if isinstance(reason, images.ImageError) else "skip"
    code = getattr(reason, "code", "unreadable")
    params = getattr(reason, "params", {"file": s.file, "reason": type(reason).__name__})
    return {"file": s.file, "kind": kind, "code": code, "params": params}


def _skipped(record: dict) -> Skipped:
    cls = images.ImageError if record["kind"] == "image" else Skip
    try:
        return Skipped(record["file"], cls(record["code"], **record["params"]))
    except KeyError:  # a code this version no longer has
        return Skipped(record["file"], Skip("unreadable", file=record["file"], reason=record["code"]))


# --- the gallery cache ------------------------------------------------------------------------------------

def model_identity_of(lm: LoadedModel) -> dict:
    """The model part of the key: configuration and weights digest (not the device or dtype: a teacher may
    compute on a GPU in half precision what a CPU server then shows)."""
    config, digest, device, dtype = model_identity.content_key(lm)
    return {"config": config, "digest": digest}


def entry_key(lm: LoadedModel, collection_digest: str, settings: Settings, layers: list[str]) -> str:
    s = settings.resolved(lm)
    return store.key(FOLDER, VERSION, model_identity_of(lm), collection_digest, s.preprocess, s.size, s.top, s.bottom,
                     s.random, s.seed, sorted(layers))


def load(folder: Path) -> Examples | None:
    """The entry in ``folder``, or None when it is missing or damaged (it is then computed again)."""
    try:
        with np.load(Path(folder) / FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(str(arrays.pop("meta")))
        names = [str(n) for n in arrays.pop("names")]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if meta.get("version") != VERSION:
        return None
    return Examples(Path(folder), meta, names, arrays)


@dataclass(frozen=True)
class Entry:
    """A cached entry's folder and what it holds (its ``meta``), without its arrays."""

    folder: Path
    meta: dict

    def load(self) -> Examples | None:
        return load(self.folder)


def entries(lm: LoadedModel | None = None, root: Path | None = None) -> list[Entry]:
    """The cached entries (of ``lm``'s configuration and weights, if given), newest first: what a page offers
    when the collection itself is not at hand (a teacher computed them before class)."""
    base = (store.root() if root is None else Path(root)) / FOLDER
    wanted = model_identity_of(lm) if lm is not None else None
    found = []
    for folder in sorted(base.glob("*/" + FILE)) if base.is_dir() else []:
        if folder.parent.name.startswith("."):  # an entry being written (``save``)
            continue
        meta = _meta(folder)
        if meta is not None and meta.get("version") == VERSION and (wanted is None or meta["model"] == wanted):
            found.append(Entry(folder.parent, meta))
    return sorted(found, key=lambda e: e.meta.get("created", ""), reverse=True)


def _meta(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def find(lm: LoadedModel, collection_digest: str, settings: Settings = Settings(),
         layers: Iterable[str] | str | None = None, root: Path | None = None) -> Examples | None:
    """The cached examples for this model, collection and settings holding at least ``layers``, or None.
    Reads two small files: a page opens at once."""
    settings, names = settings.resolved(lm), check_layers(lm, layers)
    base = store.root() if root is None else Path(root)
    exact = load(base / FOLDER / entry_key(lm, collection_digest, settings, names))
    if exact is not None:
        return exact
    for entry in entries(lm, base):  # an entry computed with more layers serves too
        meta = entry.meta
        if (meta["collection"]["digest"] == collection_digest and Settings(**meta["settings"]) == settings
                and set(names) <= set(meta["layers"])):
            found = entry.load()
            if found is not None:
                return found
    return None


def save(lm: LoadedModel, collection: Collection, settings: Settings, run: Run, root: Path | None = None,
         cancel: Cancel | None = None) -> Examples:
    """Write ``run`` into the gallery and return it as read back.

    What is stored, and why: the [C, k] arrays and the photos' names in one ``examples.npz`` (a few hundred
    KB for all 4,224 channels of VGG-16 with k = 9), and, once per photo that some channel shows, the
    model's view of it as a lossless PNG (about 100 KB at 224×224, never more photos than the collection
    has; usually far fewer, as the same photos excite many channels). Storing the views rather than the
    collection's path lets a page open the examples without the collection (a teacher computes them before
    class, the students' server may never see the photos), and rather than cut patches (36 per channel,
    76,000 files for VGG-16) it stays small; patches are cut from the views in a millisecond, and since the
    view determines the model's input exactly, a channel's map recomputed from it is the map that was
    scored. The entry is written in a temporary folder renamed into place at the end: a reader never sees
    half an entry, a cancelled run leaves nothing, and of two sessions writing the same entry the first wins.
    """
    settings = settings.resolved(lm)
    base = (store.root() if root is None else Path(root)) / FOLDER
    folder = base / entry_key(lm, collection.digest, settings, run.scores.layers)
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=base, prefix=f".{folder.name}.", suffix=".part"))
    try:
        for index in sorted(run.scores.photos()):
            if _cancelled(cancel):
                raise ExamplesError("cancelled")
            _write_view(collection, index, settings, work)
        store.write_bytes(work / FILE, _npz(lm, collection, settings, run))
        try:
            work.rename(folder)
        except OSError:  # another session wrote it first (keep theirs), or a damaged entry is in the way
            if load(folder) is None:
                shutil.rmtree(folder, ignore_errors=True)
                work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = load(folder)
    if found is None:
        raise OSError(f"{folder} could not be read back")
    return found


def _write_view(collection: Collection, index: int, settings: Settings, folder: Path) -> None:
    file = collection.files[index]
    try:
        image = images.decode_image(collection.reader.read(file), file)
    except Exception:  # changed or removed since it was scored: its examples show "missing"
        return
    buf = io.BytesIO()
    views.view(image, settings.preprocess, settings.size).save(buf, "PNG")
    store.write_bytes(folder / "views" / f"{index}.png", buf.getvalue())


def _npz(lm: LoadedModel, collection: Collection, settings: Settings, run: Run) -> bytes:
    scores = run.scores
    arrays: dict[str, np.ndarray] = {}
    for name in scores.layers:
        for kind, rankings in (("top", scores.top), ("bottom", scores.bottom)):
            if name in rankings:
                for part, array in rankings[name].arrays().items():
                    arrays[f"{name}.{kind}.{part}"] = array
        if scores.sample:
            arrays[f"{name}.random.value"] = scores.sample.values[name].cpu().numpy()
            arrays[f"{name}.random.at"] = scores.sample.at[name].cpu().numpy().astype(np.int32)
    if scores.sample:
        arrays["random.photo"] = np.asarray(scores.sample.photos, np.int32)
    meta = {
        "version": VERSION,
        "model": model_identity_of(lm),
        "weights": lm.weights,
        "collection": {"name": collection.name, "digest": collection.digest, "photos": len(collection.files),
                       "scored": run.scored},
        "settings": {"preprocess": settings.preprocess, "size": settings.size, "top": settings.top,
                     "bottom": settings.bottom, "random": settings.random, "seed": settings.seed},
        "layers": {name: int(scores.top[name].values.shape[0]) for name in scores.layers},
        "skipped": [_skip_record(s) for s in run.skipped],
        "seconds": run.seconds,
        "device": str(lm.device),
        "dtype": str(lm.dtype).removeprefix("torch."),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.asarray(json.dumps(meta, ensure_ascii=False)), names=np.asarray(run.names, str),
                        **arrays)
    return buf.getvalue()


def compute(lm: LoadedModel, collection: Collection, settings: Settings = Settings(),
            layers: Iterable[str] | str | None = None, *, batch_size: int = 16, workers: int | None = None,
            progress: Callable[[Progress], None] | None = None, cancel: Cancel | None = None,
            root: Path | None = None) -> Examples:
    """The dataset examples of ``collection`` for ``lm``: from the gallery when they were computed before (no
    forward pass), else scored (``score``) and saved (``save``). What a page calls behind its button; see
    ``estimate`` for the time it will take and ``find`` / ``entries`` to open cached ones without it."""
    names = check_layers(lm, layers)
    cached = find(lm, collection.digest, settings, names, root)
    if cached is not None:
        return cached
    run = score(lm, collection, settings, names, batch_size=batch_size, workers=workers, progress=progress,
                cancel=cancel)
    return save(lm, collection, settings, run, root, cancel)


# --- one photo's map, for the page's enlarged example -------------------------------------------------------

def channel_map(lm: LoadedModel, examples: Examples, layer: str, channel: int, index: int) -> np.ndarray:
    """(H, W) float32: ``channel`` of ``layer``'s map (before ReLU) on photo ``index``, recomputed with one
    forward pass from its stored view (the exact input that was scored). ``lm`` must be the model the
    examples were computed with."""
    names = check_layers(lm, [layer])
    modules, stop = _modules(lm, names)
    x = views.to_input(examples.view(index), examples.settings.preprocess)[None]
    found = _pass(lm, x, modules, stop, lambda _layer, out: out[0, channel].float().cpu().numpy())
    return found[layer]
