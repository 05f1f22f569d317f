"""What stops a training run before or while it runs: bad data, a recipe that cannot run, a file that cannot be
written, a cancellation. Each is one sentence made in the reader's language where it is shown."""

from __future__ import annotations

from ..evaluate.errors import Skip
from ..i18n import N_, TranslatableError


class TrainError(TranslatableError, ValueError):
    """Data, recipe or output that cannot be used; nothing was written."""

    MESSAGES = {
        "one_class": N_("{name} holds only one class folder ({folder}); training needs at least two classes"),
        "empty_class": N_("The class folder {folder} in {name} holds no photos; add photos or remove it"),
        "no_train_class": N_("{name}: the class {folder} has photos in val/ but none in train/"),
        "unknown_config": N_("unknown configuration {name!r}; choose one of {names}"),
        "no_pretrained": N_("configuration {config} has no ImageNet weights; start from Xavier (untrained) weights"),
        "no_torchvision": N_("configuration {config} has no torchvision model, so no train.py can be written for it; "
                             "choose one of {names}"),
        "choice": N_("{field} must be one of {choices}, not {value!r}"),
        "positive": N_("{field} must be at least {low}, not {value}"),
        "above_zero": N_("{field} must be greater than 0, not {value}"),
        "fraction": N_("{field} must be between {low} and {high}, not {value}"),
        "too_small": N_("input size {size} is too small for VGG's five pools; use at least {minimum}"),
        "init_mismatch": N_("{name} holds {found} weights; the recipe's configuration is {config}"),
        "no_usable": N_("{name} holds no photo that could be read for training ({skipped} files skipped)"),
        "class_unusable": N_("No photo of the class {folder} could be read; add readable photos or remove it"),
        "reserved_name": N_("{name} cannot be a checkpoint's name: its class file would be class_indices.json, "
                            "the class names of every checkpoint in the folder without its own, or another "
                            "checkpoint's record (*.train.json)"),
        "suffix": N_("{name} cannot be a checkpoint's name: the checkpoint folder lists only files ending in "
                     "{suffixes}, and a .json name would be overwritten by its own class file"),
        "exists": N_("{path} already exists; choose another name or allow overwriting it"),
        "cannot_write": N_("{path} could not be written ({reason}); nothing was saved"),
        "cancelled": N_("Training was cancelled; nothing was saved"),
    }


class Cancelled(TrainError):
    """``should_stop`` turned true: the run stopped between batches and wrote nothing."""

    def __init__(self) -> None:
        super().__init__("cancelled")

    def __reduce__(self):
        return (Cancelled, ())


class NotPhoto(Skip):
    """A file in a class folder without a photo's suffix: left out before training, as ImageFolder leaves it."""

    MESSAGES = {"not_photo": N_("{file} is not a photo (its name has no photo suffix such as .jpg or .png)")}
