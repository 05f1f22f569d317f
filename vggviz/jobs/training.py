"""Training as a job of the queue: the arguments are plain data (the source's path or a zip's bytes, the
recipe's record, the output path), and the worker rebuilds the data and the recipe from them, so nothing open
in the server (a zip reader, a model) crosses the process boundary. The teacher's caps are checked here,
before a job is queued."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_, TranslatableError, _
from ..photo.server_checkpoints import CLASSES_FILE, SUFFIXES
from ..train.errors import TrainError  # torch-free, as this module
from ..train.progress import Rates
from ..train.recipe import Recipe
from . import cost
from .queue import DONE, Job, JobQueue
from .settings import Settings
from .worker import Failure


class LimitError(TranslatableError, ValueError):
    MESSAGES = {
        "epochs": N_("This server trains at most {most} epochs a run (VGGVIZ_TRAIN_MAX_EPOCHS); the recipe asks "
                     "for {asked}."),
        "photos": N_("This server trains on at most {most} photos a run (VGGVIZ_TRAIN_MAX_PHOTOS); the data has "
                     "{asked}."),
        "name": N_("{name!r} cannot be a checkpoint's name: use letters, digits, - _ and . only, ending in .pth."),
    }


NAME = re.compile(r"[\w][\w.-]{0,99}")  # letters of any script, digits, _ - . ; no path, not hidden


def checkpoint_path(folder: Path, typed: str) -> Path:
    """The file a checkpoint name the student typed stands for, directly in the server's checkpoint folder
    (``.pth`` added when it has no suffix); raises LimitError for a name that is a path or has odd characters,
    TrainError for one whose class file would be the folder's shared one or another checkpoint's record."""
    name = typed.strip()
    if name and not name.lower().endswith(SUFFIXES):
        name += ".pth"
    if not NAME.fullmatch(name) or ".." in name:
        raise LimitError("name", name=typed)
    stem = Path(name).stem.lower()  # as train.checkpoint.reserved (which imports torch; this module does not)
    if stem == Path(CLASSES_FILE).stem or stem.endswith(".train"):
        raise TrainError("reserved_name", name=name)
    return folder / name



@dataclass(frozen=True)
class About:
    """What the page shows about a job besides its events: kept in the queue with it (``Job.meta``)."""

    data: str  # the data's name
    classes: tuple[str, ...]
    recipe: dict
    out: str | None  # the checkpoint's path when it is written
    photos: int  # training photos


def check_limits(recipe: dict, photos: int, settings: Settings) -> None:
    """Raise LimitError for a run beyond the teacher's caps."""
    if settings.max_epochs is not None and recipe["epochs"] > settings.max_epochs:
        raise LimitError("epochs", most=settings.max_epochs, asked=recipe["epochs"])
    if settings.max_photos is not None and photos > settings.max_photos:
        raise LimitError("photos", most=settings.max_photos, asked=photos)


def run(source: str | bytes, name: str | None, recipe: dict, out: str | None, overwrite: bool = False,
        device: str = "cpu", expected: Rates | None = None, *, report, should_stop):
    """In the worker: open the data, train, write ``out`` at the end (the engine writes nothing on a cancel).
    ``expected``: the rates known before the start, for the time left while the features are cached."""
    from ..train.data import open_training_data
    from ..train.recipe import Recipe
    from ..train.run import train

    r = Recipe.from_record(recipe)
    data = open_training_data(source, name, r.val_share, r.seed)
    return train(data, r, Path(out) if out else None, report=report, should_stop=should_stop,
                 overwrite=overwrite, device=device, expected=expected)


def submit(queue: JobQueue, source: str | bytes, name: str | None, recipe: dict, out: str | None, *,
           about: About, estimate: float | None, overwrite: bool = False, label: str = "",
           expected: Rates | None = None, costs: cost.Costs | None = None) -> Job:
    """Queue a training run after checking the caps; raises LimitError or JobError with a message. Once it
    ran, its measured rates replace what ``costs`` (default: the server's) knew of that kind of run."""
    check_limits(recipe, about.photos, queue.settings)
    costs = costs or cost.shared()
    settings = queue.settings

    def learn(job: Job) -> None:
        """A finished run's own rates for the next estimate; after a run that ended without a result, what a
        worker killed in the middle of writing left."""
        result = job.result
        if job.state != DONE and out:
            _remove_partials(out)
        if job.state == DONE and getattr(result, "rates", None) is not None and job.started and job.finished:
            r = Recipe.from_record(recipe)
            costs.learn(r, settings.device, settings.threads,
                        cost.job_rates(result.rates, r, result.train_photos, result.val_photos,
                                       job.finished - job.started))

    return queue.submit(run, source, name, recipe, out, overwrite, settings.device, expected,
                        label=label or about.data, estimate=estimate, meta=about, on_end=learn)


def describe(error: BaseException | Failure | None) -> str:
    """An error as the page may show it, in the reader's language: a TranslatableError's own sentence, else
    only its kind (an exception's text is English; a worker's ``Failure`` holds a traceback)."""
    if isinstance(error, TranslatableError):
        return str(error)
    return error.kind if isinstance(error, Failure) else type(error).__name__


def failure(error: BaseException | Failure | None) -> str:
    """What the page says of a job that failed, in the reader's language: a TranslatableError's own sentence;
    anything else (an error the trainer did not expect, a worker's crash whose text is a traceback) one sentence
    naming its kind, never its English text or its traceback."""
    if isinstance(error, TranslatableError):
        return str(error)
    return _("The training stopped with an unexpected error ({kind}); nothing was saved.", kind=describe(error))


def _remove_partials(out: str) -> None:
    """The temporary files of a write cut short (imported here: this module is torch-free)."""
    from ..train.checkpoint import remove_partials

    remove_partials(Path(out))
