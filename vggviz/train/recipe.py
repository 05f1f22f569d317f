"""A training recipe: everything a run needs besides the data, as plain JSON-able data, the two presets that
reproduce the course (REFERENCE.md §12), and the checks that refuse a recipe that cannot run before it starts.

Defaults are ones that learn: measured on a small set, a head trained with Adam at 1e-4 over untrained
(Xavier) features stays at chance for several epochs, at 1e-3 it learns; ``default_lr`` gives 1e-3 there."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ..architecture import configs
from ..i18n import Items, N_, Text
from .errors import TrainError

INITS = ("imagenet", "xavier")
TRAINS = ("head", "last-block", "all")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")
MAX_VIEWS = 16
SGD_MOMENTUM = 0.9  # the course's fine-tuning
VAL_SHARE = 0.1  # each class's share held out for validation when the data has no train/ + val/ (split_data.py)


@dataclass(frozen=True)
class Recipe:
    """One run's settings (``asdict`` is its JSON record)."""

    config: str = "vgg16"  # a key of vggviz.architecture.configs (A/B/D/E names or torchvision's, ± _bn)
    init: str = "imagenet"  # "imagenet" | "xavier" (untrained, the course's init_weights)
    train: str = "head"  # "head" | "last-block" | "all"
    epochs: int = 5
    batch: int = 32
    optimizer: str = "sgd"  # "adam" | "sgd"
    lr: float = 0.01
    momentum: float = SGD_MOMENTUM  # SGD only
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "constant" | "cosine" (to final_lr_fraction of lr, the later course version)
    final_lr_fraction: float = 0.01
    size: int = configs.DEFAULT_INPUT  # 224, as the course
    augment: bool = True  # the course's RandomResizedCrop + RandomHorizontalFlip; False: the val transform
    views: int = 4  # augmented views cached per photo for head-only (1 when augment is off)
    val_share: float = VAL_SHARE
    seed: int = 0

    def record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> "Recipe":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})

    @property
    def cached_views(self) -> int:
        """Views cached per training photo when the head alone trains: one without augmentation."""
        return self.views if self.augment else 1


PRESETS: dict[str, Recipe] = {
    # The course's first train.py (2020): vgg("vgg16", init_weights=True), everything, Adam 1e-4, batch 32, 30 epochs.
    "course": Recipe(config="vgg16", init="xavier", train="all", epochs=30, batch=32, optimizer="adam", lr=1e-4,
                     momentum=0.0, weight_decay=0.0, schedule="constant", augment=True),
    # The later version: ImageNet weights, a new head, SGD 0.01 momentum 0.9, cosine to 0.01 of the start.
    "fine-tune": Recipe(config="vgg16", init="imagenet", train="head", epochs=5, batch=32, optimizer="sgd", lr=0.01,
                        momentum=SGD_MOMENTUM, weight_decay=0.0, schedule="cosine", final_lr_fraction=0.01,
                        augment=True),
}
PRESET_NAMES = {"course": N_("the course's train.py (from scratch)"), "fine-tune": N_("fine-tune from ImageNet")}


def default_lr(optimizer: str, init: str, train: str) -> float:
    """A learning rate that learns: SGD 0.01 (the course's fine-tuning), whatever trains; Adam 1e-4 only for the
    course's whole network from scratch (Xavier, everything), else 1e-3: a head or the last block (over Xavier
    features 1e-4 stays at chance for epochs), and everything from ImageNet weights too."""
    if optimizer == "sgd":
        return 0.01
    return 1e-4 if (init, train) == ("xavier", "all") else 1e-3


def with_defaults(preset: str | None = None, **given) -> Recipe:
    """A Recipe from a preset (None: the defaults) and the given fields (None: not given). What was not given
    follows what was, as on the Train page: the learning rate ``default_lr`` of the optimiser, init and what
    trains; the momentum 0 for Adam, and for SGD the preset's or ``SGD_MOMENTUM`` (the course's preset has none).
    The presets' own rates are ``default_lr``'s, so a preset alone is unchanged."""
    given = {k: v for k, v in given.items() if v is not None}
    recipe = replace(PRESETS[preset] if preset else Recipe(), **given)
    if "lr" not in given:
        recipe = replace(recipe, lr=default_lr(recipe.optimizer, recipe.init, recipe.train))
    if "momentum" not in given:
        recipe = replace(recipe, momentum=0.0 if recipe.optimizer == "adam" else recipe.momentum or SGD_MOMENTUM)
    return recipe


def check(recipe: Recipe) -> None:
    """Raise TrainError for a recipe that cannot run, before anything is loaded."""
    try:
        config = configs.resolve(recipe.config)
    except configs.UnknownConfigError:
        raise TrainError("unknown_config", name=recipe.config, names=Items(configs.NAMES)) from None
    for field, value, choices in (("init", recipe.init, INITS), ("train", recipe.train, TRAINS),
                                  ("optimizer", recipe.optimizer, OPTIMIZERS),
                                  ("schedule", recipe.schedule, SCHEDULES)):
        if value not in choices:
            raise TrainError("choice", field=field, value=value, choices=Items(choices))
    if recipe.init == "imagenet" and config.torchvision_name is None:
        raise TrainError("no_pretrained", config=config.name)
    for field, low in (("epochs", 1), ("batch", 1), ("views", 1), ("seed", 0)):
        value = getattr(recipe, field)
        if not isinstance(value, int) or value < low:
            raise TrainError("positive", field=field, low=low, value=value)
    if recipe.views > MAX_VIEWS:
        raise TrainError("fraction", field="views", low=1, high=MAX_VIEWS, value=recipe.views)
    if not recipe.lr > 0:
        raise TrainError("above_zero", field="lr", value=recipe.lr)
    for field, low, high in (("momentum", 0.0, 1.0), ("weight_decay", 0.0, 1.0), ("final_lr_fraction", 0.0, 1.0),
                             ("val_share", 0.0, 0.9)):
        value = getattr(recipe, field)
        if not low <= value <= high:
            raise TrainError("fraction", field=field, low=low, high=high, value=value)
    if recipe.size < configs.MIN_INPUT:
        raise TrainError("too_small", size=recipe.size, minimum=configs.MIN_INPUT)


def advice(recipe: Recipe) -> list[Text]:
    """Why a recipe will be slow or will not learn, in plain words (shown before a run starts)."""
    notes = []
    if recipe.optimizer == "adam" and recipe.init == "xavier" and recipe.train != "all" and recipe.lr < 5e-4:
        if recipe.train == "head":
            notes.append(Text(N_("A head on untrained (Xavier) features with Adam at {lr:g} stays near chance for "
                                 "many epochs; 1e-3 learns."), lr=recipe.lr))
        else:
            notes.append(Text(N_("The last conv block and the head over untrained (Xavier) features, with Adam at "
                                 "{lr:g}, stay near chance for many epochs; 1e-3 learns."), lr=recipe.lr))
    if recipe.init == "xavier" and recipe.train == "all":
        notes.append(Text(N_("Training every layer from scratch needs thousands of photos and many epochs on a "
                             "GPU; on a CPU, starting from ImageNet weights and training the head is the recipe "
                             "that finishes in class.")))
    if recipe.train != "head":
        notes.append(Text(N_("Only the head trains on cached features; this recipe runs the network forward and "
                             "backward for every photo of every epoch.")))
    return notes
