"""Training as a job of the queue (vggviz/jobs/training.py): a real run of the trainer in the worker process on
a tiny generated data set (one run, shared by the tests that read it), its events streamed, its checkpoint
written at the end and loadable; the teacher's caps and the checkpoint's name are checked before anything is
queued; and a Predict request served while a training job runs gets its answer, that job then cancelled
writing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torchvision

import tiny_training
from tests.test_jobs import TIMEOUT, wait_for
from vggviz.jobs import training
from vggviz.jobs.queue import CANCELLED, DONE, RUNNING, JobQueue
from vggviz.jobs.settings import Settings
from vggviz.train.errors import TrainError
from vggviz.train.progress import BatchProgress, EpochRecord, TrainResult
from vggviz.train.recipe import Recipe

RECIPE = Recipe(config="vgg11", init="xavier", train="head", epochs=2, batch=4, optimizer="adam", lr=1e-3,
                schedule="constant", size=64, augment=False, views=1, val_share=0.34, seed=0)


@pytest.fixture
def q(tmp_path):
    queue = JobQueue(Settings(folder=tmp_path / "slots", threads=1, max_epochs=3, max_photos=100))
    yield queue
    queue.close()


def about(out: Path | None, recipe: Recipe = RECIPE, photos: int = 8) -> training.About:
    return training.About("tiny.zip", tuple(tiny_training.COLOURS), recipe.record(), str(out) if out else None,
                          photos)


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    """One real training job, shared by the tests that read it (a run costs a worker process, 0.5 GB of
    checkpoint and seconds of a 2-core machine): its cost first measured by a probe in a worker, as the page
    asks it, then the run in the queue's worker with that estimate; what the costs answered before the run is
    kept (the run's own rates replace it)."""
    from types import SimpleNamespace

    from vggviz.jobs import cost
    from vggviz.train.data import open_training_data

    root = tmp_path_factory.mktemp("timed")
    queue = JobQueue(Settings(folder=root / "slots", threads=1, max_epochs=3, max_photos=100))
    try:
        costs, dev = cost.Costs(), queue.settings.device
        measuring = costs.ask(RECIPE, 2, dev, 1)
        wait_for(lambda: costs.known(RECIPE, dev, 1), "the probe")
        answer = costs.ask(RECIPE, 2, dev, 1)
        # another learning rate, or a rerun of the page: nothing measured again
        again = [costs.ask(Recipe(**{**RECIPE.record(), "lr": lr}), 2, dev, 1) for lr in (1e-4, 1e-2)]
        probes_before_run = costs.probes
        data = open_training_data(tiny_training.zip_bytes(), "tiny.zip", RECIPE.val_share, RECIPE.seed)
        n_train, n_val = len(data.train), len(data.val)
        estimate = answer.seconds(RECIPE, n_train, n_val)
        out = root / "checkpoints" / "tiny.pth"
        job = training.submit(queue, tiny_training.zip_bytes(), "tiny.zip", RECIPE.record(), str(out),
                              about=about(out), estimate=estimate, expected=answer.rates, costs=costs)
        queue.wait(job.id, TIMEOUT)
        yield SimpleNamespace(costs=costs, dev=dev, measuring=measuring, answer=answer, again=again,
                              probes_before_run=probes_before_run, n_train=n_train, n_val=n_val, estimate=estimate,
                              out=out, job=job)
    finally:
        queue.close()


def test_a_real_training_job_streams_its_progress_and_writes_a_checkpoint_that_loads(timed):
    job, out = timed.job, timed.out
    assert job.state == DONE, job.error
    result = job.result
    assert isinstance(result, TrainResult) and result.classes == ["blue", "red"] and result.out == str(out)
    epochs = [e for e in job.events if isinstance(e, EpochRecord)]
    batches = [e for e in job.events if isinstance(e, BatchProgress)]
    assert [e.epoch for e in epochs] == [1, 2] and [e.epoch for e in result.epochs] == [1, 2]
    assert {b.phase for b in batches} >= {"features", "train"}  # head-only: frozen features cached first
    model = torchvision.models.vgg11(num_classes=2)  # the course's format, torchvision's keys
    model.load_state_dict(torch.load(out, weights_only=True), strict=True)
    assert json.loads(out.with_suffix(".json").read_text()) == {"0": "blue", "1": "red"}


def test_the_caps_and_the_name_are_checked_before_queueing(q, tmp_path):
    data = tiny_training.zip_bytes()
    with pytest.raises(training.LimitError) as epochs:
        training.submit(q, data, "tiny.zip", {**RECIPE.record(), "epochs": 4}, None, about=about(None), estimate=1)
    with pytest.raises(training.LimitError) as photos:
        training.submit(q, data, "tiny.zip", RECIPE.record(), None, about=about(None, photos=101), estimate=1)
    assert "VGGVIZ_TRAIN_MAX_EPOCHS" in str(epochs.value) and "VGGVIZ_TRAIN_MAX_PHOTOS" in str(photos.value)
    assert q.jobs() == []
    assert training.checkpoint_path(tmp_path, " flowers ") == tmp_path / "flowers.pth"
    assert training.checkpoint_path(tmp_path, "花.pt") == tmp_path / "花.pt"
    for bad in ("../up.pth", "sub/x.pth", ".hidden.pth", "", "a b.pth", "C:\\x.pth"):
        with pytest.raises(training.LimitError):
            training.checkpoint_path(tmp_path, bad)
    # Names whose class file would be the folder's shared class_indices.json or another checkpoint's record
    for bad in ("class_indices", "Class_Indices.pt", "m.train.pt", "x.train.pth"):
        with pytest.raises(TrainError, match="class_indices.json"):
            training.checkpoint_path(tmp_path, bad)


def test_predict_is_answered_while_a_training_job_runs_and_its_cancel_writes_nothing(tmp_path, monkeypatch):
    """The job trains in its own process: the server's script runs (here an AppTest of Predict) are not
    blocked behind it, and the job goes on training meanwhile. Cancelled while it trains, it leaves no
    checkpoint, class file, record or temporary file."""
    import streamlit as st
    from app_pages import app, run

    from ui import models

    q = JobQueue(Settings(folder=tmp_path / "slots", threads=1, max_epochs=None))
    try:
        folder = tmp_path / "checkpoints"
        out = folder / "busy.pth"
        # every photo through the net, for longer than the Predict run
        recipe = Recipe(**{**RECIPE.record(), "train": "all", "epochs": 50})
        job = training.submit(q, tiny_training.zip_bytes(), "tiny.zip", recipe.record(), str(out),
                              about=about(out, recipe), estimate=None)
        wait_for(lambda: any(getattr(e, "phase", None) == "train" for e in job.events), "training to start")
        st.cache_resource.clear()
        models.MODELS.clear()
        monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(tmp_path / "none"))
        at = run(app("pages/predict.py", config="A"))
        assert at.get("plotly_chart"), "Predict drew no prediction"
        assert job.state == RUNNING  # still training: Predict did not wait for it
        q.cancel(job.id)
        q.wait(job.id, TIMEOUT)
        assert job.state == CANCELLED
        assert not folder.exists() or not list(folder.iterdir())  # no checkpoint, class file, record or temporary
    finally:
        q.close()


def test_the_estimate_is_close_to_a_measured_runs_time_and_is_measured_once(timed):
    """The cost is measured by a probe in a worker process with the job's threads (never in the server), once
    per kind of run, and is close to what the run then takes in the queue's worker. Loose (within 4× either
    way): the shared 2-core machine's load changes between the probe and the run, and the probe leaves photo
    decoding out. The run's own rates then replace the probe's: they give back its time."""
    costs, dev, answer, job, estimate = timed.costs, timed.dev, timed.answer, timed.job, timed.estimate
    assert timed.measuring.rates is None  # measuring: the page shows a note, not a frozen page
    assert answer.source == "probe" and answer.rates.startup > 0, answer
    assert timed.again == [answer, answer] and timed.probes_before_run == 1
    assert job.state == DONE, job.error
    took = job.finished - job.started
    assert estimate / 4 <= took <= estimate * 4, (estimate, took)
    learned = costs.ask(RECIPE, 2, dev, 1)
    assert learned.source == "job" and costs.probes == 1
    assert learned.seconds(RECIPE, timed.n_train, timed.n_val) == pytest.approx(took, rel=1e-6)  # the same sum
    features = [e for e in job.events if isinstance(e, BatchProgress) and e.phase == "features"]
    assert features and all(e.seconds_left is not None for e in features)  # with the epochs at the probe's rates
