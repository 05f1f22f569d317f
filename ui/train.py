"""Streamlit glue for the Train page: the data (a zip upload or a folder of the server's data folder) with its
per-class counts, the recipe (presets, then each setting), the cost before the start, the checkpoint's name,
and the job: its place in the queue, its live curves, Cancel, and what it wrote, with links into the pages that
explain it.

The job runs in the server's job queue (``vggviz.jobs``), outside this script run and outside session state:
its id is in the URL (``?job=ID``) and in the session, so a reload or a page switch finds it again. While it
is waiting or running, a fragment redraws its panel every second; the rest of the page stays still."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

import ui
from ui import dependent, language, present
from ui import evaluate as ev_ui
from vggviz import i18n, text
from vggviz.architecture import configs
from vggviz.evaluate import charts as ev_charts
from vggviz.evaluate.errors import EvaluationError
from vggviz.i18n import N_, TranslatableError, _, ngettext
from vggviz.jobs import cost as jobs_cost
from vggviz.jobs import queue as jobs_queue
from vggviz.jobs import training as jobs_training
from vggviz.jobs.queue import CANCELLED, DONE, QUEUED, Job, JobQueue
from vggviz.jobs.settings import SettingsError
from vggviz.photo import server_checkpoints, weights
from vggviz.train import curves, data as train_data, recipe as recipes
from vggviz.train.checkpoint import outputs
from vggviz.train.errors import TrainError
from vggviz.train.network import cosine
from vggviz.train.script import as_code, data_folder

REFRESH_SECONDS = 1.0  # how often a waiting or running job's panel is redrawn
UPLOAD, SERVER = N_("Upload a zip"), N_("A folder on the server")
CONFIGS = tuple(n for n in configs.NAMES if configs.resolve(n).torchvision_name)  # torchvision's keys
PRESETS = {"fine-tune": recipes.PRESET_NAMES["fine-tune"], "course": recipes.PRESET_NAMES["course"]}
INIT_LABELS = {"imagenet": N_("ImageNet weights"), "xavier": N_("Untrained (Xavier)")}
TRAIN_LABELS = {"head": N_("the new head only"), "last-block": N_("the last conv block + head"),
                "all": N_("everything")}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": N_("SGD with momentum")}
SCHEDULE_LABELS = {"constant": N_("constant"), "cosine": N_("cosine")}
BATCHES = (4, 8, 16, 32, 64, 128)
RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
SIZES = (64, 96, 128, 160, 192, 224)
RUNS = "train_jobs"  # session state: the ids of this session's jobs, oldest first
CURRENT = "train_job"  # session state: the job the page follows (also ?job=)


@dataclass(frozen=True)
class Source:
    """The photos chosen: what the worker reads (a path in the data folder, or a zip's bytes), a name, and a
    key that identifies the content (the zip's digest, or the folder's name and modification time)."""

    source: str | bytes
    name: str
    key: str


def queue() -> JobQueue | None:
    """The server's job queue, or None with the teacher's reason (training off, a bad setting)."""
    try:
        q = jobs_queue.shared()
    except SettingsError as exc:
        st.error(text.markdown(str(exc)))
        return None
    if not q.settings.enabled:
        st.info(_("Training is turned off on this server (VGGVIZ_TRAINING=off)."))
        return None
    return q


# --- data -------------------------------------------------------------------------------------------

def data_source() -> Source | None:
    """A zip upload, or a folder or zip in the server's data folder when it has any."""
    on_server = train_data.listing()
    kind = UPLOAD
    if on_server:
        kind = st.radio(_("Photos"), (UPLOAD, SERVER), key="train_source", horizontal=True, format_func=_)
    if kind == SERVER:
        name = st.selectbox(_("Folder in the server's data folder"), on_server, key="train_folder",
                            help=_("The folders and zips in {folder} ({variable}).", folder=train_data.folder(),
                                   variable=train_data.ENV))
        path = train_data.find(name)
        try:
            modified = None if path is None else path.stat().st_mtime_ns
        except OSError:  # removed since it was listed
            modified = None
        if modified is None:
            st.warning(_("{name} is no longer in the server's data folder.", name=text.markdown(name)))
            return None
        return Source(str(path), name, f"server:{name}:{modified}")
    limit = ev_ui.upload_limit_mb()
    upload = st.file_uploader(
        _("Zip of class folders"), type=["zip"], key="train_zip", max_upload_size=limit,
        help=_("One folder of photos per class (daisy/001.jpg, …), or train/ and val/ folders that hold them, "
               "as the course's flower_data. Up to {mb} MB.", mb=limit))
    ui.remember(upload, "train_zip_kept")  # the uploader forgets the file on another page
    if "train_zip_kept" not in st.session_state:
        return None
    name, data, digest = st.session_state.train_zip_kept
    if upload is None:
        st.caption(_("Using {name}, uploaded earlier.", name=text.markdown(name)))
    return Source(data, name, f"zip:{digest}")


@st.cache_resource(max_entries=4, ttl=1800, show_spinner=False)
def _opened(key: str, _source: str | bytes, name: str, val_share: float, seed: int) -> train_data.TrainingData:
    return train_data.open_training_data(_source, name, val_share, seed)


def training_data(src: Source) -> train_data.TrainingData | None:
    """The data opened (cached per content and split), its per-class counts and warnings; None with the
    reason for data that cannot train. A seeded split's val share is asked here."""
    share = st.session_state.get("train_val_share", recipes.VAL_SHARE)
    seed = st.session_state.get("train_seed", 0)
    try:
        td = _opened(src.key, src.source, src.name, share, seed)
    except (TrainError, EvaluationError) as exc:
        st.error(text.markdown(str(exc)))
        return None
    if td.split == "seeded":
        st.slider(_("Share of each class held out for validation"), 0.05, 0.5, share, 0.05, key="train_val_share",
                  format="%.2f", help=_("The data has no train/ and val/ folders: each class is split with the "
                                        "seed below, as the course's split_data.py does ({share:.0%}).",
                                        share=recipes.VAL_SHARE))
    counts = td.counts()
    photos_train, photos_val = sum(c[0] for c in counts), sum(c[1] for c in counts)
    st.caption(_("{name}: {classes}, {train} and {val}; {split}.", name=text.markdown(td.name),
                 classes=ngettext("{n} class", "{n} classes", len(td.classes)),
                 train=ngettext("{n} training photo", "{n} training photos", photos_train),
                 val=ngettext("{n} val photo", "{n} val photos", photos_val),
                 split=_("train/ and val/ as given") if td.split == "folders" else _("a seeded split")))
    st.dataframe({_("Class"): td.classes, _("Training photos"): [c[0] for c in counts],
                  _("Val photos"): [c[1] for c in counts]}, hide_index=True, key="train_counts")
    for warning in td.warnings:
        st.warning(text.markdown(str(warning)))
    return td


# --- recipe -----------------------------------------------------------------------------------------

def recipe_form(max_epochs: int | None) -> recipes.Recipe | None:
    """A preset, then every setting (each following the preset until changed); None with the reason for a
    recipe that cannot run."""
    preset_name = st.radio(_("Start from"), list(PRESETS), key="train_preset", horizontal=True,
                           format_func=lambda k: _(PRESETS[k]),
                           help=_("The two recipes of the course; every setting below can be changed."))
    preset = recipes.PRESETS[preset_name]
    left, middle, right = st.columns(3)
    config = dependent.widget(left.selectbox, _("Configuration"), CONFIGS, key="train_config",
                              default=configs.resolve(preset.config).name, depends_on=preset_name,
                              format_func=lambda n: configs.resolve(n).label)
    init = dependent.widget(middle.radio, _("Start from weights"), tuple(recipes.INITS), key="train_init",
                            default=preset.init, depends_on=preset_name, format_func=lambda k: _(INIT_LABELS[k]))
    what = dependent.widget(right.radio, _("What to train"), tuple(recipes.TRAINS), key="train_what",
                            default=preset.train, depends_on=preset_name, format_func=lambda k: _(TRAIN_LABELS[k]),
                            help=_("The head alone trains on features computed once per photo: seconds an "
                                   "epoch on a CPU. The other choices run the whole network every epoch."))
    most = max_epochs or 100
    with st.expander(_("Hyper-parameters"), expanded=False):
        a, b, c = st.columns(3)
        epochs = dependent.widget(a.number_input, _("Epochs"), 1, most, key="train_epochs",
                                  default=min(preset.epochs, most), depends_on=(preset_name, most), step=1)
        batch = dependent.widget(b.select_slider, _("Batch size"), BATCHES, key="train_batch",
                                 default=preset.batch, depends_on=preset_name)
        size = dependent.widget(c.select_slider, _("Input size"), SIZES, key="train_size", default=preset.size,
                                depends_on=preset_name,
                                help=_("Photos are resized to this square; 224 as in the course, smaller is faster."))
        optimizer = dependent.widget(a.radio, _("Optimiser"), tuple(recipes.OPTIMIZERS), key="train_optimizer",
                                     default=preset.optimizer, depends_on=preset_name,
                                     format_func=lambda k: _(OPTIMIZER_LABELS[k]))
        lr = dependent.widget(b.select_slider, _("Learning rate"), RATES, key="train_lr",
                              default=recipes.default_lr(optimizer, init, what),
                              depends_on=(preset_name, optimizer, init, what), format_func=lambda x: f"{x:g}",
                              help=_("The default follows the optimiser and what trains, until you change it, and is "
                                     "always a rate that learns."))
        schedule = dependent.widget(c.radio, _("Learning-rate schedule"), tuple(recipes.SCHEDULES),
                                    key="train_schedule", default=preset.schedule, depends_on=preset_name,
                                    format_func=lambda k: _(SCHEDULE_LABELS[k]),
                                    help=_("cosine: from the start down to {final:.0%} of it after the last epoch; the "
                                           "last epoch trains at {last:.0%} of it.", final=preset.final_lr_fraction,
                                           last=cosine(int(epochs), preset.final_lr_fraction)(int(epochs) - 1)))
        momentum = preset.momentum
        if optimizer == "sgd":
            momentum = dependent.widget(a.number_input, _("Momentum"), 0.0, 0.99, key="train_momentum",
                                        default=preset.momentum or recipes.SGD_MOMENTUM, depends_on=preset_name, step=0.05)
        decay = dependent.widget(b.number_input, _("Weight decay"), 0.0, 0.1, key="train_decay",
                                 default=preset.weight_decay, depends_on=preset_name, step=1e-4, format="%g")
        # a toggle has no options for ui.dependent to check: its key follows the preset instead
        augment = c.toggle(_("Augmentation"), value=preset.augment, key=f"train_augment_{preset_name}",
                           help=_("The course's RandomResizedCrop and horizontal flip; off: resize and centre crop."))
        views = preset.views
        if what == "head" and augment:
            views = dependent.widget(a.number_input, _("Augmented views cached per photo"), 1, recipes.MAX_VIEWS,
                                     key="train_views", default=preset.views, depends_on=preset_name, step=1)
        seed = st.number_input(_("Seed"), 0, 2**31 - 1, 0, key="train_seed",
                               help=_("The same seed gives the same split and the same curve on the CPU."))
    recipe = replace(preset, config=configs.resolve(config).torchvision_name, init=init, train=what,
                     epochs=int(epochs), batch=int(batch), size=int(size), optimizer=optimizer, lr=float(lr),
                     schedule=schedule, momentum=float(momentum) if optimizer == "sgd" else 0.0,
                     weight_decay=float(decay), augment=bool(augment), views=int(views), seed=int(seed),
                     val_share=float(st.session_state.get("train_val_share", recipes.VAL_SHARE)))
    try:
        recipes.check(recipe)
    except TrainError as exc:
        st.error(text.markdown(str(exc)))
        return None
    return recipe


def within_limits(q: JobQueue, td: train_data.TrainingData, recipe: recipes.Recipe) -> bool:
    """Whether the run is within the teacher's caps; if not, the reason is shown (before anything is measured)."""
    try:
        jobs_training.check_limits(recipe.record(), len(td.train), q.settings)
    except TranslatableError as exc:
        st.error(text.markdown(str(exc)))
        return False
    return True


def _imagenet_missing(recipe: recipes.Recipe) -> str | None:
    """The ImageNet weights' file name when the recipe needs it and the server does not have it."""
    if recipe.init != "imagenet":
        return None
    path = weights.cached_path(weights.imagenet_weights(recipe.config))
    return None if path.is_file() else path.name


def cost(td: train_data.TrainingData, recipe: recipes.Recipe, q: JobQueue) -> jobs_cost.Answer | None:
    """What the run will cost, shown before it starts: photos × epochs at the rates measured in the job's
    conditions (a probe in a worker process, or the last run of this kind), and why a recipe is slow. The
    page never measures in the server's process: while a probe runs, a "measuring" note redraws itself until
    the rates are there. None when the run cannot start here (ImageNet weights missing)."""
    missing = _imagenet_missing(recipe)
    if missing:
        st.warning(text.markdown(_("The ImageNet weights ({file}) are not on this server, and training needs them "
                                   "here: download them once on the Predict page, or start from untrained "
                                   "(Xavier) weights.", file=missing)))
        return None
    device, threads = q.settings.device, q.settings.threads
    answer = jobs_cost.shared().ask(recipe, len(td.classes), device, threads)
    if answer.rates is None and answer.error is None:
        _measuring(recipe, device, threads)
    elif answer.rates is None:
        st.warning(text.markdown(_("The cost of this run could not be measured ({error}); it can still be "
                                   "started.", error=jobs_training.describe(answer.error))))
    else:
        seconds = answer.seconds(recipe, len(td.train), len(td.val))
        st.info(_("This run: {photos} × {epochs} at the speed measured here: about {time}.",
                  photos=ngettext("{n} photo", "{n} photos", len(td.train)),
                  epochs=ngettext("{n} epoch", "{n} epochs", recipe.epochs), time=duration(seconds)),
                icon=":material/timer:")
    for note in recipes.advice(recipe):
        st.caption(text.markdown(str(note)))
    return answer


@st.fragment(run_every=REFRESH_SECONDS)
def _measuring(recipe: recipes.Recipe, device: str, threads: int) -> None:
    """Until the probe has measured: a note, redrawn each second; then the whole page, with the cost."""
    language.restore()  # a fragment's rerun does not pass through app.py
    if jobs_cost.shared().known(recipe, device, threads):
        st.rerun(scope="app")
    st.info(ngettext("Measuring a few training steps as a job will run them ({n} thread, lower priority), "
                     "without slowing the server…",
                     "Measuring a few training steps as a job will run them ({n} threads, lower priority), "
                     "without slowing the server…", threads), icon=":material/hourglass_top:")


def duration(seconds: float | None) -> str:
    """A time to wait, as a person says it."""
    if seconds is None:
        return "…"
    if seconds < 90:
        return _("{n} s", n=max(1, round(seconds)))
    if seconds < 5400:
        return _("{n} min", n=round(seconds / 60))
    return _("{n:.1f} h", n=seconds / 3600)


# --- starting ---------------------------------------------------------------------------------------

def run_label(recipe: recipes.Recipe, number: int) -> str:
    return _("Run {n}: {config}, {init}, {what}", n=number, config=configs.resolve(recipe.config).name,
             init=_(INIT_LABELS[recipe.init]), what=_(TRAIN_LABELS[recipe.train]))


def start(q: JobQueue, src: Source, td: train_data.TrainingData, recipe: recipes.Recipe,
          answer: jobs_cost.Answer | None) -> None:
    """The checkpoint's name (no overwrite without asking) and the start button, which queues the job."""
    folder = server_checkpoints.folder()
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in src.name.rsplit(".", 1)[0])[:40].strip("-")
    # a text has no options for ui.dependent to check: its key follows the configuration and the data instead
    default = f"{recipe.config}-{stem or 'photos'}.pth"
    typed = st.text_input(_("Checkpoint name"), value=default, key=f"train_name_{default}",
                          help=_("Written into the server's checkpoint folder ({folder}) when the run ends, with its "
                                 "class names and a record of the run.", folder=folder))
    try:
        out = jobs_training.checkpoint_path(folder, typed)
    except TranslatableError as exc:
        st.error(text.markdown(str(exc)))
        return
    overwrite = False
    taken = [p.name for p in outputs(out) if p.exists()]
    if taken:
        overwrite = st.checkbox(_("Replace {files}, already in the checkpoint folder",
                                  files=text.markdown(", ".join(taken))), key="train_overwrite")
    busy = [j for j in session_runs(q) if not j.ended]
    if busy:
        st.caption(_("Your run is still waiting or training: cancel it, or wait for it to end, to start another."))
    clicked = st.button(_("Start training"), key="train_start", type="primary",
                        disabled=bool(busy) or answer is None or (answer.rates is None and answer.error is None)
                        or (bool(taken) and not overwrite))
    if not clicked:
        return
    about = jobs_training.About(td.name, tuple(td.classes), recipe.record(), str(out), len(td.train))
    label = run_label(recipe, len(st.session_state.get(RUNS, [])) + 1)
    try:
        job = jobs_training.submit(q, src.source, src.name, recipe.record(), str(out), about=about,
                                   estimate=answer.seconds(recipe, len(td.train), len(td.val)),
                                   expected=answer.rates, overwrite=overwrite, label=label)
    except TranslatableError as exc:
        st.error(text.markdown(str(exc)))
        return
    follow(job.id)
    st.rerun()


def follow(job_id: str) -> None:
    """Make ``job_id`` the job this session's page shows (in the URL too) and one of its runs."""
    runs = st.session_state.setdefault(RUNS, [])
    if job_id not in runs:
        runs.append(job_id)
    st.session_state[CURRENT] = job_id
    if st.query_params.get("job") != job_id:
        st.query_params["job"] = job_id


def session_runs(q: JobQueue) -> list[Job]:
    """This session's jobs that the queue still knows, oldest first."""
    return [j for j in map(q.get, st.session_state.get(RUNS, [])) if j is not None]


# --- the job ----------------------------------------------------------------------------------------

def job_panel(q: JobQueue) -> None:
    """The job the URL names (else the session's latest): its place in the queue, live progress and curves,
    Cancel; once it ended, what it wrote and where to look at it."""
    job_id = st.query_params.get("job") or st.session_state.get(CURRENT)
    if not job_id:
        return
    job = q.get(job_id)
    if job is None:
        st.warning(_("This server has no training job {id}: it ended more than six hours ago, or the server "
                     "restarted since.", id=text.markdown(job_id)))
        return
    follow(job.id)
    st.divider()
    if job.ended:
        _panel(q, job)
    else:
        _live(job.id)


@st.fragment(run_every=REFRESH_SECONDS)
def _live(job_id: str) -> None:
    language.restore()  # a fragment's rerun does not pass through app.py
    q = jobs_queue.shared()
    job = q.get(job_id)
    if job is None or job.ended:
        st.rerun(scope="app")  # the ended job's panel, with its links, drawn once (a forgotten job: said so)
    _panel(q, job)


def _panel(q: JobQueue, job: Job) -> None:
    """The job as looked up once in this run: a job the queue forgets meanwhile is still drawn whole (the next
    run says it is gone), never looked up again here and found missing."""
    about: jobs_training.About = job.meta
    st.subheader(job.label)
    if job.state == QUEUED:
        _waiting(q, job)
    elif not job.ended:
        _progress(job, about)
    if job.cancel_requested and not job.ended:
        st.info(_("Stopping at the next batch; nothing will be saved."), icon=":material/stop_circle:")
    elif not job.ended:
        if st.button(_("Cancel the training"), key=f"train_cancel_{job.id}"):
            q.cancel(job.id)
            st.rerun(scope="app")
    else:
        _ended(job, about)
    _charts(q, job, about)
    _code(job, about)


def _waiting(q: JobQueue, job: Job) -> None:
    position = q.position(job)
    st.info(_("Waiting for its turn: number {position} in this server's queue, about {wait} to wait. One job "
              "trains at a time, so that the class can keep using the app.",
              position=position or 1, wait=duration(q.wait_seconds(job))), icon=":material/hourglass_top:")
    elsewhere = q.running_elsewhere()
    if elsewhere:
        st.caption(ngettext("{n} job trains on another server of this machine.",
                            "{n} jobs train on other servers of this machine.", elsewhere))


def _progress(job: Job, about: jobs_training.About) -> None:
    latest = next((e for e in reversed(job.events) if hasattr(e, "phase")), None)
    epochs = about.recipe["epochs"]
    if latest is None:
        st.progress(0.0, text=_("Starting the training process…"))
        return
    left = duration(job.seconds_left())
    if latest.phase == "features":
        st.progress(min(1.0, latest.batch / max(1, latest.batches)),
                    text=_("Computing the frozen features once: batch {batch} of {batches}, {rate:.1f} photos/s, "
                           "{left} left", batch=latest.batch, batches=latest.batches, rate=latest.photos_per_s,
                           left=left))
        return
    done = (latest.epoch - 1 + latest.batch / max(1, latest.batches)) / epochs
    phase = _("training") if latest.phase == "train" else _("validating")
    st.progress(min(1.0, max(0.0, done)),
                text=_("Epoch {epoch} of {epochs}, {phase}: batch {batch} of {batches}, {rate:.1f} photos/s, "
                       "{left} left", epoch=latest.epoch, epochs=epochs, phase=phase, batch=latest.batch,
                       batches=latest.batches, rate=latest.photos_per_s, left=left))


def _ended(job: Job, about: jobs_training.About) -> None:
    if job.state == CANCELLED:
        st.info(_("Cancelled: nothing was saved."))
        return
    if job.state != DONE:
        st.error(text.markdown(jobs_training.failure(job.error)))
        return
    result = job.result
    best = "—" if result.best_val_acc is None else f"{result.best_val_acc:.1%}"
    st.success(text.markdown(_("Saved {file} in the server's checkpoint folder: epoch {epoch}, the best by val "
                               "accuracy ({acc}).", file=_file_name(result.out), epoch=result.best_epoch, acc=best)))
    if result.out:
        links(_file_name(result.out))


def _file_name(path: str | None) -> str:
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1]


LINKS = (("pages/evaluate.py", N_("Open in Evaluate"), ":material/fact_check:"),
         ("pages/feature_maps.py", N_("Feature maps"), ":material/grid_view:"),
         ("pages/attributions.py", N_("Attributions"), ":material/local_fire_department:"),
         ("pages/channel.py", N_("What each channel looks for"), ":material/visibility:"))


def links(name: str) -> None:
    """Links that open another page with this checkpoint chosen in the sidebar (?ckpt=): a student can also open
    them in a new tab or send them to the class."""
    st.caption(_("Look at what it learned, with {file} chosen as the weights:", file=text.markdown(name)))
    query = {server_checkpoints.LINK_PARAM: name, "lang": i18n.language()}
    with st.container(horizontal=True):
        for page, label, icon in LINKS:
            st.page_link(page, label=_(label), icon=icon, query_params=query)


def _charts(q: JobQueue, job: Job, about: jobs_training.About) -> None:
    runs = [j for j in session_runs(q) if j.events] or ([job] if job.events else [])
    if not runs:
        return
    st.plotly_chart(present.chart(curves.curves([curves.Run.of(j.label, list(j.events)) for j in runs])),
                    key=f"train_curves_{job.id}")
    if len(runs) > 1:
        st.caption(_("This session's runs on one chart: dashed, validation; faint, each batch."))
    epochs = [e for e in job.events if hasattr(e, "confusion")]
    if not epochs:
        return
    last = epochs[-1]
    left, right = st.columns(2)
    left.plotly_chart(present.chart(curves.per_class_chart(about.classes, last.per_class_acc, last.epoch)),
                      key=f"train_per_class_{job.id}")
    right.plotly_chart(present.chart(ev_charts.confusion_chart(np.array(last.confusion), list(about.classes))),
                       key=f"train_confusion_{job.id}")


def _code(job: Job, about: jobs_training.About) -> None:
    with st.expander(_("Show as code")):
        folder = data_folder(about.data)
        try:
            script = as_code(recipes.Recipe.from_record(about.recipe), folder, list(about.classes))
        except TrainError as exc:  # a configuration torchvision has no model for
            st.info(text.markdown(str(exc)))
            return
        if folder == about.data:
            st.caption(_("The same training as a standalone PyTorch script in the course's style: run it on a GPU "
                         "machine with the photos in {data}.", data=text.markdown(about.data)))
        else:
            st.caption(_("The same training as a standalone PyTorch script in the course's style. It reads a "
                         "folder, not a zip: on the GPU machine, first unzip {zip} into a folder {folder} so that "
                         "the class folders (or train/ and val/) are directly inside it, then run: "
                         "python train.py --data-path {folder}", zip=text.markdown(about.data),
                         folder=text.markdown(folder)))
        st.code(script, language="python")
        st.download_button(_("Download train.py"), script, "train.py", "text/x-python", on_click="ignore",
                           key=f"train_code_{job.id}")

