"""What a run reports while it runs and what it yields: plain picklable dataclasses (they cross a process
boundary to the worker's caller)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BatchProgress:
    epoch: int  # 1-based; 0 while the frozen features are cached
    batch: int  # 1-based within the phase
    batches: int
    loss: float | None  # None while caching features
    acc: float | None
    lr: float
    photos_per_s: float
    seconds_left: float | None
    phase: str  # "features" | "train" | "val"


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float
    train_acc: float
    val_loss: float | None  # None when there are no val photos
    val_acc: float | None
    lr: float  # the learning rate this epoch trained with
    seconds: float
    per_class_acc: list[float | None]  # recall on the val split, None for a class without val photos
    confusion: list[list[int]]  # [true][predicted] on the val split

    def record(self) -> dict:
        """The CLI's documented keys (per-class figures and the matrix are in the *.train.json record)."""
        return {k: getattr(self, k) for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                                              "seconds")}


@dataclass(frozen=True)
class Rates:
    """What a run costs, per photo and phase, in the conditions it ran in (threads, device, load): seconds to
    cache one view's frozen features (decode + forward), of one training photo in an epoch's train phase, of
    one val photo, and the fixed seconds of a run (process start, imports, model build, writing). Measured by a
    probe before a run and by the run itself; ``seconds`` turns them into a run's time."""

    startup: float
    cache: float
    train: float
    val: float

    def seconds(self, recipe, train_photos: int, val_photos: int) -> float:
        """A run of ``recipe`` on this many photos: head-only caches every view once, then trains the head on
        cached features each epoch; the other recipes run the photos through the network every epoch."""
        total = self.startup + recipe.epochs * (self.train * train_photos + self.val * val_photos)
        if recipe.train == "head":
            total += self.cache * (train_photos * recipe.cached_views + val_photos)
        return total


@dataclass
class TrainResult:
    classes: list[str]
    train_photos: int
    val_photos: int
    epochs: list[EpochRecord]
    best_epoch: int
    best_val_acc: float | None
    out: str | None
    recipe: dict
    skipped: list[str] = field(default_factory=list)  # "file: why", photos that could not be read
    cached_bytes_per_photo: int = 0  # frozen features kept per training photo (all its views), head-only
    rates: Rates | None = None  # what each phase cost per photo in this run (startup: 0, the caller knows it)

    def record(self) -> dict:
        """The CLI's JSON (its keys are a contract)."""
        return {"classes": self.classes, "train_photos": self.train_photos, "val_photos": self.val_photos,
                "epochs": [e.record() for e in self.epochs], "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "out": self.out}

    def full_record(self) -> dict:
        return asdict(self)
