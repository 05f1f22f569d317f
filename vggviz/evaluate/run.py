"""One evaluation: every photo of a listing through the model in batches, keeping per photo only its
file, true and predicted class, probability and top-5 hit (memory stays flat in the number of photos),
then the figures of ``metrics``. Reports progress after each batch and stops when asked to."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from PIL import Image

from ..photo import inference, memory
from ..photo.inference import LoadedModel
from . import classes as class_map, dataset, default_workers, metrics
from .archive import Listing
from .errors import EvaluationError, Skipped

TOP = 5


class CancelToken(Protocol):
    def is_set(self) -> bool: ...  # threading.Event is one


@dataclass(frozen=True)
class Progress:
    done: int  # photos processed, skipped ones included
    total: int
    seconds: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def images_per_s(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        rate = self.images_per_s
        return (self.total - self.done) / rate if rate > 0 else None


@dataclass(frozen=True)
class Prediction:
    file: str
    true: int  # index into Evaluation.classes
    predicted: int  # index into Evaluation.classes
    prob: float  # the predicted class's probability
    top5: bool  # the true class among the model's five most probable

    @property
    def correct(self) -> bool:
        return self.true == self.predicted


@dataclass(frozen=True)
class Evaluation:
    name: str
    classes: list[str]  # the model's classes that have a folder or were predicted, in the model's order
    indices: list[int]  # their indices among the model's classes
    predictions: list[Prediction]
    skipped: list[Skipped]
    metrics: metrics.Metrics
    preprocess: str
    seconds: float

    def mistakes(self) -> list[Prediction]:
        """The wrong predictions, most confident first."""
        return sorted((p for p in self.predictions if not p.correct), key=lambda p: (-p.prob, p.file))


def evaluate(
    lm: LoadedModel,
    listing: Listing,
    *,
    preprocess: str | None = None,
    batch_size: int = 16,
    workers: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    transform: Callable[[Image.Image], torch.Tensor] | None = None,
) -> Evaluation:
    """Evaluate ``lm`` on ``listing``. ``transform`` replaces the preprocessing of ``preprocess`` (default:
    what the weights expect). Raises EvaluationError for folders that match no class, no usable photo,
    or when ``cancel`` is set (checked between batches)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    preprocess = preprocess or lm.preprocess
    folders = class_map.match(list(listing.folders), lm.classes, listing.name, listing.found)
    files = [key for folder in listing.folders for key in listing.folders[folder]]
    labels = [folders[folder] for folder in listing.folders for _ in listing.folders[folder]]
    photos = dataset.Photos(listing.reader, files, transform or inference.transform(preprocess))
    workers = default_workers() if workers is None else workers
    batches = iter(dataset.loader(photos, batch_size, workers, pin_memory=lm.device.type == "cuda"))
    k = min(TOP, len(lm.classes))
    found: list[tuple[int, int, int, float, bool]] = []  # (file index, true, predicted, prob, top-5 hit)
    skipped = list(listing.skipped)
    start, done = time.perf_counter(), 0
    try:
        for indices, x, failed in batches:
            if cancel is not None and cancel.is_set():
                raise EvaluationError("cancelled")
            skipped += [Skipped(files[i], reason) for i, reason in failed]
            if x is not None:
                probs, top = (t.cpu() for t in torch.softmax(inference.logits(lm, x), dim=1).topk(k, dim=1))
                truth = torch.tensor([labels[i] for i in indices])
                hits = (top == truth[:, None]).any(dim=1).tolist()
                found += zip(indices, truth.tolist(), top[:, 0].tolist(), probs[:, 0].tolist(), hits)
            done += len(indices) + len(failed)
            # Freed batch buffers sit between allocations of torch's threads and glibc keeps them: without
            # this, 3 runs in 10 grew by one 224×224 tensor a photo (0.6 MB), up to +450 MB; with it, flat.
            # It costs a few ms a batch, while the next batch is being decoded anyway.
            memory.release_free_memory()
            if progress is not None:
                progress(Progress(done, len(files), time.perf_counter() - start))
    finally:
        del batches  # shuts its workers down, also when cancelled or interrupted
        memory.release_free_memory()
    if not found:
        raise EvaluationError("no_images", name=listing.name, skipped=len(skipped))
    return _result(lm, listing.name, files, found, set(folders.values()), skipped, preprocess,
                   time.perf_counter() - start)


def _result(lm: LoadedModel, name: str, files: list[str], found: list, with_folder: set[int],
            skipped: list[Skipped], preprocess: str, seconds: float) -> Evaluation:
    shown = sorted(with_folder | {f[2] for f in found})
    position = {model_index: i for i, model_index in enumerate(shown)}
    names = [lm.classes[i] for i in shown]
    predictions = [Prediction(files[i], position[t], position[p], prob, hit) for i, t, p, prob, hit in found]
    true = np.array([p.true for p in predictions])
    predicted = np.array([p.predicted for p in predictions])
    top5 = np.array([p.top5 for p in predictions])
    figures = metrics.summarise(true, predicted, top5, names, len(lm.classes))
    return Evaluation(name, names, shown, predictions, skipped, figures, preprocess, seconds)
