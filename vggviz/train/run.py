"""One training run: the photos decoded in batches, the frozen features cached once when only the head trains,
the epochs, the per-epoch val figures (Evaluate's own confusion matrix and per-class recall), the best epoch by
val accuracy kept (as the course's ``best_acc``), and the files written only at the end.

``report`` gets a BatchProgress after every batch and an EpochRecord after every epoch; ``should_stop`` is asked
between batches and stops the run with ``Cancelled`` (nothing written). The global random state of the caller is
left as it was; the run's own randomness (initialisation, shuffling, augmentation, dropout) comes from its seed,
so the same seed gives the same curve on the same machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..evaluate import dataset as photo_batches, metrics
from ..evaluate.errors import Skip, Skipped
from ..i18n import N_, Text
from ..photo import device as devices, images, memory
from . import checkpoint, network, transforms
from .data import TrainingData
from .errors import Cancelled, TrainError
from .progress import BatchProgress, EpochRecord, Rates, TrainResult
from .recipe import Recipe, check

__all__ = ["Cancelled", "TrainError", "train", "measure_rates", "cache_features"]

Report = Callable[[BatchProgress | EpochRecord], None]
FEATURE_BATCH = 16  # photos per forward pass while caching frozen features


class Views(Dataset):
    """Item ``i``: (i, ``views`` tensors of photo ``files[i]`` stacked (V, 3, H, W) or None, None or why it was
    left out). A photo is decoded once for all its views; view ``v`` is drawn from the seed (seed, salt, v, i)."""

    def __init__(self, reader, files: list[str], transform, views: int, seed: int, salt: int) -> None:
        self.reader, self.files, self.transform = reader, files, transform
        self.views, self.seed, self.salt = views, seed, salt

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        file = self.files[i]
        try:
            image = images.decode_image(self.reader.read(file), file)
            return i, torch.stack([transforms.seeded(self.transform, image, self.seed, self.salt, v, i)
                                   for v in range(self.views)]), None
        except Exception as exc:  # the decoder's ImageError, the reader's Skip, or any archive error: left out
            return i, None, exc if isinstance(exc, (images.ImageError, Skip)) else \
                Skip("unreadable", file=file, reason=type(exc).__name__)


def batches(data: TrainingData, files: list[str], transform, views: int, seed: int, salt: int, batch: int,
            workers: int) -> DataLoader:
    return DataLoader(Views(data.reader, files, transform, views, seed, salt), batch_size=batch, shuffle=False,
                      num_workers=workers, collate_fn=photo_batches.collate)


@dataclass
class _Clock:
    """Photos per second and time left, from what this run has done so far; the seconds and photos of each
    phase, summed (the run's measured ``Rates``)."""

    epochs: int
    n_train: int  # photos of one epoch
    n_val: int = 0
    expected: Rates | None = None  # a probe's rates: the epochs' time while the features are still cached
    start: float = 0.0
    epoch_start: float = 0.0
    phase_start: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
    spent: dict[str, list[float]] = field(default_factory=lambda: {p: [0.0, 0] for p in ("features", "train", "val")})

    def phase(self) -> None:
        self.phase_start = time.perf_counter()

    def book(self, phase: str, photos: int) -> None:
        """The phase begun at the last ``phase()`` ended after ``photos`` photos."""
        self.spent[phase][0] += time.perf_counter() - self.phase_start
        self.spent[phase][1] += photos

    def rate(self, photos: int) -> float:
        elapsed = time.perf_counter() - self.phase_start
        return photos / elapsed if elapsed > 0 else 0.0

    def left_in_epoch(self, epoch: int, done: int) -> float | None:
        """Seconds left in the run: the mean of the epochs ended so far, or during the first one its share
        done so far."""
        elapsed = time.perf_counter() - self.epoch_start
        if self.epoch_seconds:
            per_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
        elif done <= 0 or elapsed <= 0:
            return None
        else:
            per_epoch = elapsed * (self.n_train + self.n_val) / done
        return max(0.0, per_epoch - elapsed) + (self.epochs - epoch) * per_epoch

    def epochs_guess(self) -> float | None:
        """The epochs' seconds at the expected rates (None without them)."""
        if self.expected is None:
            return None
        return self.epochs * (self.expected.train * self.n_train + self.expected.val * self.n_val)

    def rates(self) -> Rates:
        def per(phase: str) -> float:
            seconds, photos = self.spent[phase]
            return seconds / photos if photos else 0.0
        return Rates(0.0, per("features"), per("train"), per("val"))


def cache_features(s: network.Setup, data: TrainingData, items: list[tuple[str, int]], transform, views: int,
                   seed: int, salt: int, device: torch.device, workers: int, clock: _Clock, report: Report,
                   should_stop: Callable[[], bool], offset: int = 0, total: int | None = None):
    """The frozen features of every photo's ``views`` views, computed once: (features (n, V, D) float32 on the
    CPU, labels (n,), the files kept, [Skipped])."""
    files = [k for k, _ in items]
    total = total or len(files)
    feats, kept, skipped = [], [], []
    done = offset
    n_batches = -(-len(files) // FEATURE_BATCH)
    for b, (indices, x, failed) in enumerate(batches(data, files, transform, views, seed, salt, FEATURE_BATCH,
                                                     workers), start=1):
        if should_stop():
            raise Cancelled()
        skipped += [Skipped(files[i], reason) for i, reason in failed]
        if x is not None:
            n = x.shape[0]
            y = network.frozen_features(s.model, s.start, x.flatten(0, 1).to(device))
            feats.append(y.reshape(n, views, -1).float().cpu())
            kept += indices
        done += len(indices) + len(failed)
        memory.release_free_memory()
        rate = clock.rate(done)
        epochs_left = clock.epochs_guess()
        report(BatchProgress(0, b, n_batches, None, None, s.lr, rate,
                             (total - done) / rate + epochs_left if rate > 0 and epochs_left is not None else None,
                             "features"))
    labels = torch.tensor([items[i][1] for i in kept], dtype=torch.long)
    features = torch.cat(feats) if feats else torch.empty(0, views, 0)
    return features, labels, [files[i] for i in kept], skipped


def _val_figures(true: list[int], predicted: list[int], loss_sum: float, n_classes: int, names: list[str]):
    if not true:
        return None, None, [None] * n_classes, [[0] * n_classes for _ in range(n_classes)]
    confusion = metrics.confusion_matrix(np.array(true), np.array(predicted), n_classes)
    per_class = [c.recall for c in metrics.per_class(confusion, names)]
    return loss_sum / len(true), float(np.trace(confusion)) / len(true), per_class, confusion.tolist()


def train(data: TrainingData, recipe: Recipe, out: Path | None = None, *,
          report: Report = lambda p: None, should_stop: Callable[[], bool] = lambda: False,
          device: str = "cpu", overwrite: bool = False, workers: int = 0, tensorboard: Path | None = None,
          check_hash: bool = True, expected: Rates | None = None) -> TrainResult:
    """Train ``recipe`` on ``data``; write ``out`` (+ its class file and record) from the best epoch, at the end.
    ``expected``: the rates a probe measured, for the time left while the features are cached (after that, the
    time left comes from this run's own epochs).

    Raises TrainError (a recipe that cannot run, no readable photo, an output that cannot be written),
    WeightsError (ImageNet weights not in torch hub's cache), Cancelled."""
    check(recipe)
    if out is not None:
        checkpoint.check_writable(Path(out), overwrite)
    dev, _notice = devices.resolve(device)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(recipe.seed)
        return _run(data, recipe, out, report, should_stop, dev, overwrite, workers, tensorboard, check_hash,
                    expected)


def _tensorboard(folder: Path | None):
    if folder is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # the optional package is not installed: skipped, said by the caller
        return None
    return SummaryWriter(str(folder))


def tensorboard_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


def _run(data, recipe, out, report, should_stop, dev, overwrite, workers, tensorboard, check_hash,
         expected) -> TrainResult:
    n_classes = len(data.classes)
    model = network.build(recipe, n_classes, check_hash=check_hash)
    model.to(dev)
    s = network.setup(model, recipe)
    preprocess = transforms.preprocess_for(recipe.config, n_classes)
    train_tf = transforms.train_transform(preprocess, recipe.size, recipe.augment)
    val_tf = transforms.val_transform(preprocess, recipe.size)
    head_only = recipe.train == "head"
    gen = torch.Generator().manual_seed(recipe.seed)
    clock = _Clock(recipe.epochs, len(data.train), len(data.val), expected)
    clock.start = clock.phase_start = time.perf_counter()
    skipped: list[Skipped] = []
    cached_bytes = 0
    if head_only:
        views = recipe.cached_views
        total = len(data.train) * views + len(data.val)
        s.model.eval()
        train_x, train_y, train_files, lost = cache_features(s, data, data.train, train_tf, views, recipe.seed, 0,
                                                             dev, workers, clock, report, should_stop, 0, total)
        val_x, val_y, _vf, lost_val = cache_features(s, data, data.val, val_tf, 1, recipe.seed, 1, dev, workers, clock,
                                                     report, should_stop, len(data.train) * views, total)
        clock.book("features", total)
        skipped += lost + lost_val
        _check_usable(data, train_y, skipped)
        cached_bytes = train_x[0].numel() * train_x.element_size() if len(train_x) else 0
        n_train, n_val = len(train_y), len(val_y)
    else:
        n_train, n_val = len(data.train), len(data.val)
    clock.n_train, clock.n_val = n_train, n_val
    epochs: list[EpochRecord] = []
    best_epoch, best_acc, best_state = 0, None, None
    trained = s.trained_names()
    writer = _tensorboard(tensorboard)  # once the features are cached: a run cancelled before leaves no log
    try:
        for epoch in range(1, recipe.epochs + 1):
            clock.epoch_start = time.perf_counter()
            lr = s.lr
            if head_only:
                record = _head_epoch(s, recipe, epoch, train_x, train_y, val_x, val_y, data.classes, gen, dev, clock,
                                     report, should_stop)
            else:
                record, lost = _full_epoch(s, recipe, epoch, data, train_tf, val_tf, gen, dev, workers, clock, report,
                                           should_stop)
                if epoch == 1:
                    skipped += lost
                    n_train = _check_counts(data, lost, skipped)
                    val_keys = {k for k, _label in data.val}  # once, not once per lost file
                    n_val = len(data.val) - sum(1 for sk in lost if sk.file in val_keys)
            s.scheduler.step()
            clock.epoch_seconds.append(time.perf_counter() - clock.epoch_start)
            record.lr = lr
            epochs.append(record)
            report(record)
            if writer is not None:
                for tag, value in (("train_loss", record.train_loss), ("train_acc", record.train_acc),
                                   ("val_loss", record.val_loss), ("val_acc", record.val_acc), ("learning_rate", lr)):
                    if value is not None:
                        writer.add_scalar(tag, value, epoch)
                writer.flush()
            better = record.val_acc is not None and (best_acc is None or record.val_acc > best_acc)
            if better or (record.val_acc is None and best_acc is None):
                best_epoch, best_acc = epoch, record.val_acc
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in s.model.state_dict().items()
                              if k in trained}
    finally:
        if writer is not None:
            writer.close()
    state = {k: v.detach().cpu() for k, v in s.model.state_dict().items()}
    state.update(best_state or {})
    result = TrainResult(list(data.classes), n_train, n_val, epochs, best_epoch, best_acc,
                         None if out is None else str(out), recipe.record(),
                         [f"{sk.file}: {sk.reason}" for sk in skipped], cached_bytes, clock.rates())
    if out is not None:
        record = {**result.full_record(), "data": data.name, "split": data.split, "preprocess": preprocess,
                  "versions": checkpoint.versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        if should_stop():  # asked after the last batch's check: still nothing written
            raise Cancelled()
        checkpoint.write(Path(out), state, data.classes, record, overwrite, should_stop)
    return result


def _check_usable(data: TrainingData, labels: torch.Tensor, skipped: list[Skipped]) -> None:
    if len(labels) == 0:
        raise TrainError("no_usable", name=data.name, skipped=len(skipped))
    have = set(labels.tolist())
    for i, name in enumerate(data.classes):
        if i not in have:
            raise TrainError("class_unusable", folder=name)


def _check_counts(data: TrainingData, lost: list[Skipped], skipped: list[Skipped]) -> int:
    lost_files = {sk.file for sk in lost}
    labels = torch.tensor([label for key, label in data.train if key not in lost_files], dtype=torch.long)
    _check_usable(data, labels, skipped)
    return len(labels)


def _head_epoch(s, recipe, epoch, train_x, train_y, val_x, val_y, names, gen, dev, clock, report, should_stop):
    """One epoch of the head on cached features: each photo seen once, through one of its cached views."""
    n, views = train_x.shape[0], train_x.shape[1]
    order = torch.randperm(n, generator=gen)
    view = torch.randint(views, (n,), generator=gen)
    s.train_mode()
    clock.phase()
    loss_sum, correct, done = 0.0, 0, 0
    n_batches = -(-n // recipe.batch)
    for b in range(n_batches):
        if should_stop():
            raise Cancelled()
        idx = order[b * recipe.batch:(b + 1) * recipe.batch]
        y = train_x[idx, view[idx]].to(dev)
        labels = train_y[idx].to(dev)
        loss, right = network.step(s, y, labels)
        loss_sum += loss * len(idx)
        correct += right
        done += len(idx)
        report(BatchProgress(epoch, b + 1, n_batches, loss, right / len(idx), s.lr, clock.rate(done),
                             clock.left_in_epoch(epoch, done), "train"))
    clock.book("train", done)
    return _validate(s, recipe, epoch, [(val_x[i:i + recipe.batch, 0], val_y[i:i + recipe.batch])
                                        for i in range(0, len(val_y), recipe.batch)],
                     names, dev, clock, report, should_stop, loss_sum / max(done, 1), correct / max(done, 1), done,
                     len(val_y))


def _full_epoch(s, recipe, epoch, data, train_tf, val_tf, gen, dev, workers, clock, report, should_stop):
    """One epoch through the network: photos decoded and augmented afresh, the frozen part run without a graph."""
    order = torch.randperm(len(data.train), generator=gen).tolist()
    files = [data.train[i][0] for i in order]
    labels_of = [data.train[i][1] for i in order]
    s.train_mode()
    clock.phase()
    loss_sum, correct, done, seen = 0.0, 0, 0, 0
    lost: list[Skipped] = []
    n_batches = -(-len(files) // recipe.batch)
    for b, (indices, x, failed) in enumerate(batches(data, files, train_tf, 1, recipe.seed, 2 + epoch, recipe.batch,
                                                     workers), start=1):
        if should_stop():
            raise Cancelled()
        lost += [Skipped(files[i], reason) for i, reason in failed]
        if x is not None:
            y = network.frozen_features(s.model, s.start, x[:, 0].to(dev))
            labels = torch.tensor([labels_of[i] for i in indices], device=dev)
            loss, right = network.step(s, y, labels)
            loss_sum += loss * len(indices)
            correct += right
            done += len(indices)
        seen += len(indices) + len(failed)
        memory.release_free_memory()
        report(BatchProgress(epoch, b, n_batches, loss if x is not None else None,
                             right / len(indices) if x is not None else None, s.lr, clock.rate(seen),
                             clock.left_in_epoch(epoch, seen), "train"))
    clock.book("train", seen)
    val_files = [k for k, _ in data.val]

    def val_batches():
        for indices, x, failed in batches(data, val_files, val_tf, 1, recipe.seed, 1, recipe.batch, workers):
            lost.extend(Skipped(val_files[i], reason) for i, reason in failed)
            if x is not None:
                yield (network.frozen_features(s.model, s.start, x[:, 0].to(dev)),
                       torch.tensor([data.val[i][1] for i in indices]))
    record = _validate(s, recipe, epoch, val_batches(), data.classes, dev, clock, report, should_stop,
                       loss_sum / max(done, 1), correct / max(done, 1), seen, len(val_files))
    return record, lost


def _validate(s, recipe, epoch, val_batches, names, dev, clock, report, should_stop, train_loss, train_acc,
              done_before, n_val):
    s.model.eval()
    true, predicted, loss_sum = [], [], 0.0
    n_batches = -(-n_val // recipe.batch)
    clock.phase()
    done = 0
    for b, (y, labels) in enumerate(val_batches, start=1):
        if should_stop():
            raise Cancelled()
        labels = labels.to(dev)
        loss, pred = network.evaluate_batch(s, y.to(dev), labels)
        loss_sum += loss
        true += labels.tolist()
        predicted += pred.tolist()
        done += len(labels)
        report(BatchProgress(epoch, b, n_batches, loss / len(labels), float((pred == labels).float().mean()), s.lr,
                             clock.rate(done), clock.left_in_epoch(epoch, done_before + done), "val"))
    clock.book("val", done)
    val_loss, val_acc, per_class, confusion = _val_figures(true, predicted, loss_sum, len(names), names)
    return EpochRecord(epoch, train_loss, train_acc, val_loss, val_acc, s.lr,
                       time.perf_counter() - clock.epoch_start, per_class, confusion)


PROBE_BATCH = 8  # photos per timed pass through the convolutions: their time per photo hardly depends on it


def measure_rates(recipe: Recipe, n_classes: int, device: str = "cpu") -> Rates:
    """The rates of a run of ``recipe``, measured on random photos (the time does not depend on the weights'
    values: untrained ones are built): one warm-up, then the faster of two timed passes. The head's step is
    timed at the recipe's batch (its time is mostly the optimiser's pass over the head's weights, paid once per
    batch); the convolutions at PROBE_BATCH photos (their time grows with the photos). Photo decoding is left out
    (small photos decode in a fraction of a forward); a run's own rates include it. ``startup`` is the time to
    build the model here; the caller adds what it paid to start the process."""
    import dataclasses

    t0 = time.perf_counter()
    check(recipe)
    dev, _notice = devices.resolve(device)
    probe = dataclasses.replace(recipe, init="xavier")
    with torch.random.fork_rng(devices=[]):
        s = network.setup(network.build(probe, n_classes).to(dev), probe)
        build = time.perf_counter() - t0

        def timed(fn, photos: int) -> float:
            fn()  # warm-up
            best = float("inf")
            for _ in range(2):
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                fn()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                best = min(best, time.perf_counter() - t)
            return best / photos

        small = min(recipe.batch, PROBE_BATCH)
        x = torch.randn(small, 3, recipe.size, recipe.size, device=dev)
        s.model.eval()
        forward = timed(lambda: network.frozen_features(s.model, s.start, x), small)
        if recipe.train == "head":
            y = network.frozen_features(s.model, s.start, x[:1]).expand(recipe.batch, -1).contiguous()
            labels = torch.zeros(recipe.batch, dtype=torch.long, device=dev)
            s.train_mode()
            step = timed(lambda: network.step(s, y, labels), recipe.batch)
            s.model.eval()
            val = timed(lambda: network.evaluate_batch(s, y, labels), recipe.batch)
            return Rates(build, forward, step, val)
        labels = torch.zeros(small, dtype=torch.long, device=dev)
        s.train_mode()
        step = timed(lambda: network.step(s, network.frozen_features(s.model, s.start, x), labels), small)
        s.model.eval()
        val = timed(lambda: network.evaluate_batch(s, network.frozen_features(s.model, s.start, x), labels), small)
        return Rates(build, forward, step, val)


NO_TENSORBOARD = N_("TensorBoard is not installed (pip install tensorboard): no event files were written.")


def tensorboard_notice() -> Text:
    return Text(NO_TENSORBOARD)
