"""The job queue (vggviz/jobs): jobs run in a worker process with bounded threads, wait their turn with a
position, stream events, survive whoever submitted them, cancel without leaving anything, and hold a slot of
the machine that other servers (replicas) see. The functions run are in tests/job_functions.py."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests import job_functions as fns
from vggviz.i18n import use
from vggviz.jobs import queue as jobs_queue
from vggviz.jobs.queue import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobError, JobQueue
from vggviz.jobs.settings import Settings, SettingsError

TIMEOUT = 120  # seconds; a spawned worker imports torch, which is slow on a busy 2-core machine


def wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    """Poll ``condition`` (the worker is another process: there is nothing to join on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def make_queue(tmp_path):
    made = []

    def make(**settings) -> JobQueue:
        q = JobQueue(Settings(**{"folder": tmp_path / "slots", "threads": 1, **settings}))
        made.append(q)
        return q

    yield make
    for q in made:
        q.close()


def test_a_job_runs_in_another_process_and_streams_its_events(make_queue):
    q = make_queue()
    job = q.submit(fns.count, 5, label="five")
    q.wait(job.id, TIMEOUT)
    assert job.state == DONE and job.result == 5
    assert [e["i"] for e in job.events] == [0, 1, 2, 3, 4]
    assert job.started is not None and job.finished >= job.started


def test_the_worker_bounds_its_threads_and_yields_to_the_server(make_queue):
    q = make_queue(threads=1)
    job = q.wait(q.submit(fns.threads).id, TIMEOUT)
    assert job.state == DONE, job.error
    assert job.result["torch"] == 1 and job.result["omp"] == "1"
    assert job.result["nice"] > os.nice(0)  # a lower priority than this process


def test_a_failure_comes_back_as_the_exception(make_queue):
    q = make_queue()
    job = q.wait(q.submit(fns.fail).id, TIMEOUT)
    assert job.state == FAILED and isinstance(job.error, ValueError) and str(job.error) == "bad input"


def test_a_second_job_waits_with_its_position_and_an_estimate(make_queue, tmp_path):
    q = make_queue(max_jobs=1)
    started, release = tmp_path / "a.started", tmp_path / "a.release"
    first = q.submit(fns.gate, str(started), str(release), estimate=100.0)
    second = q.submit(fns.count, 1, estimate=30.0)
    third = q.submit(fns.count, 1, estimate=20.0)
    wait_for(started.exists, "the first job to start")
    assert first.state == RUNNING and q.position(first) is None
    assert (second.state, q.position(second)) == (QUEUED, 1)
    assert q.position(third) == 2
    # what the first has left (its estimate less the time spent) and, for the third, the second's estimate too
    now = time.time()
    assert q.wait_seconds(second, now) == pytest.approx(100.0 - (now - first.started))  # float sums
    assert q.wait_seconds(third, now) == pytest.approx(q.wait_seconds(second, now) + 30.0)
    assert second.started is None
    release.write_text("go")
    for job in (first, second, third):
        q.wait(job.id, TIMEOUT)
    assert [j.state for j in (first, second, third)] == [DONE, DONE, DONE]
    assert first.finished <= second.started <= second.finished <= third.started  # one at a time


def test_cancel_of_a_running_job_stops_it_and_leaves_nothing(make_queue, tmp_path):
    q = make_queue()
    started, out = tmp_path / "started", tmp_path / "model.pth"
    job = q.submit(fns.gate, str(started), str(tmp_path / "never"), str(out))
    wait_for(started.exists, "the job to start")
    q.cancel(job.id)
    q.wait(job.id, TIMEOUT)
    assert job.state == CANCELLED and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slots", "started"]


def test_a_cancel_after_the_jobs_last_check_reports_what_it_wrote(make_queue, tmp_path):
    """The job finished and wrote its file although a cancel was asked: it is DONE, not "cancelled, nothing
    saved" beside a file it did save."""
    q = make_queue()
    started, release, out = tmp_path / "started", tmp_path / "release", tmp_path / "model.pth"
    job = q.submit(fns.late, str(started), str(release), str(out))
    wait_for(started.exists, "the job to start")
    q.cancel(job.id)
    release.write_text("go")
    q.wait(job.id, TIMEOUT)
    assert out.exists() and (job.state, job.result) == (DONE, "written")


def test_cancel_kills_a_job_that_does_not_listen(make_queue, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_queue, "STOP_GRACE_SECONDS", 0.5)
    q = make_queue()
    started = tmp_path / "started"
    job = q.submit(fns.deaf, str(started))
    wait_for(started.exists, "the job to start")
    q.cancel(job.id)
    q.wait(job.id, TIMEOUT)
    assert job.state == CANCELLED


def test_cancel_of_a_waiting_job_takes_it_out_of_the_queue(make_queue, tmp_path):
    q = make_queue(max_jobs=1)
    started = tmp_path / "started"
    first = q.submit(fns.until_stopped, str(started))
    wait_for(started.exists, "the first job to start")
    second = q.submit(fns.count, 1)
    third = q.submit(fns.count, 1)
    q.cancel(second.id)
    assert second.state == CANCELLED and second.started is None and q.position(third) == 1
    q.cancel(first.id)
    q.wait(third.id, TIMEOUT)
    assert (first.state, third.state) == (CANCELLED, DONE)


def test_a_job_outlives_whoever_submitted_it_and_is_found_by_its_id(make_queue, tmp_path):
    """A Streamlit session is a thread that may end (a reload, a closed tab): the job lives in the queue, and
    another thread (the next session) finds it by the id alone."""
    q = make_queue()
    started, release = tmp_path / "started", tmp_path / "release"
    ids = []
    session = threading.Thread(target=lambda: ids.append(q.submit(fns.gate, str(started), str(release)).id))
    session.start()
    session.join()
    del session
    wait_for(started.exists, "the job to start")
    found = []
    threading.Thread(target=lambda: found.append(q.get(ids[0]))).start()
    wait_for(lambda: found, "the other thread")
    assert found[0] is not None and found[0].state == RUNNING
    release.write_text("go")
    assert q.wait(ids[0], TIMEOUT).result == "released"
    assert q.get("no-such-job") is None


def test_one_job_at_a_time_on_the_machine_across_servers(make_queue, tmp_path):
    """Two queues over one jobs folder stand for two replicas of the server on one machine."""
    here, there = make_queue(max_jobs=1), make_queue(max_jobs=1)
    started, release = tmp_path / "started", tmp_path / "release"
    first = here.submit(fns.gate, str(started), str(release))
    wait_for(started.exists, "the first job to start")
    second = there.submit(fns.count, 1)
    wait_for(lambda: there.running_elsewhere() == 1, "the other server to see the job")
    time.sleep(1.0)  # two of the dispatcher's polls: it must not start meanwhile (a test of absence)
    assert second.state == QUEUED and there.position(second) == 1
    release.write_text("go")
    there.wait(second.id, TIMEOUT)
    assert first.finished <= second.started


def test_training_off_and_a_full_queue_are_refused_with_a_message(make_queue, tmp_path):
    with pytest.raises(JobError) as off:
        make_queue(enabled=False).submit(fns.count, 1)
    q = make_queue(max_queue=1, max_jobs=1)
    q.submit(fns.until_stopped, str(tmp_path / "started"))
    wait_for((tmp_path / "started").exists, "the first job")
    q.submit(fns.count, 1)
    with pytest.raises(JobError) as full:
        q.submit(fns.count, 1)
    with use("zh_CN"):
        assert "VGGVIZ_TRAINING" in str(off.value) and "1 个任务" in str(full.value)
    # the count takes its plural: one job "is", two jobs "are" (not "1 jobs are")
    assert str(full.value).startswith("1 job is already waiting on this server")
    assert str(JobError("full", n=2)).startswith("2 jobs are already waiting on this server")


def test_settings_from_the_file_and_the_environment(tmp_path):
    file = tmp_path / "vggviz.toml"
    file.write_text("[training]\nmax_epochs = 12\nthreads = 3\nenabled = true\n")
    s = Settings.load({"VGGVIZ_TRAIN_THREADS": "2", "VGGVIZ_TRAIN_MAX_PHOTOS": "500", "VGGVIZ_JOBS": str(tmp_path)},
                      file=file)
    assert (s.max_epochs, s.threads, s.max_photos, s.folder, s.enabled) == (12, 2, 500, tmp_path, True)
    assert not Settings.load({"VGGVIZ_TRAINING": "off"}, file=tmp_path / "none.toml").enabled
    assert Settings.load({"VGGVIZ_TRAIN_MAX_EPOCHS": "none"}, file=tmp_path / "none.toml").max_epochs is None
    assert Settings.load({"VGGVIZ_TRAIN_DEVICE": "CPU"}, file=tmp_path / "none.toml").device == "cpu"
    for environ in ({"VGGVIZ_TRAINING": "maybe"}, {"VGGVIZ_TRAIN_MAX_JOBS": "0"}, {"VGGVIZ_TRAIN_MAX_QUEUE": "0"},
                    {"VGGVIZ_TRAIN_THREADS": "two"}, {"VGGVIZ_TRAIN_DEVICE": "tpu"}):
        with pytest.raises(SettingsError) as bad:
            Settings.load(environ, file=tmp_path / "none.toml")
        assert next(iter(environ)) in str(bad.value)
    # a queue of 0 would refuse every job as "full": the least is 1, and a 0 is said to be wrong, naming the setting
    file.write_text("[training]\nmax_queue = 0\n")
    with pytest.raises(SettingsError) as zero:
        Settings.load({}, file=file)
    assert "[training] max_queue" in str(zero.value) and "at least 1" in str(zero.value)
    assert Settings.load({"VGGVIZ_TRAIN_MAX_QUEUE": "1"}, file=tmp_path / "none.toml").max_queue == 1
    file.write_text("[training\n")
    with pytest.raises(SettingsError):
        Settings.load({}, file=file)


def test_a_training_job_that_ends_without_a_result_leaves_no_temporary_file(make_queue, tmp_path):
    """What a worker killed mid-write leaves is removed by the training job's on_end, in the server's process,
    whenever the job ends without a result (here: its data is not a zip, so it fails)."""
    from vggviz.jobs import training

    out = tmp_path / "flowers.pth"
    left = tmp_path / ".flowers.pth.k2j4.partial"
    left.write_bytes(b"half a checkpoint")
    q = make_queue()
    about = training.About(data="t.zip", classes=("a", "b"), recipe={"epochs": 1}, out=str(out), photos=2)
    job = training.submit(q, b"not a zip", "t.zip", {"epochs": 1}, str(out), about=about, estimate=None)
    q.wait(job.id, TIMEOUT)
    assert job.state == FAILED and not left.exists()


def test_on_end_runs_outside_the_lock_and_before_the_job_reads_as_ended(make_queue):
    """A slow on_end (file I/O) must not hold up the pages' get() and position(); whoever sees the job ended (a
    waiter, a page polling ``ended``) sees what on_end did."""
    entered, release, recorded = threading.Event(), threading.Event(), []

    def on_end(job):
        entered.set()
        release.wait(TIMEOUT)
        recorded.append(job.state)

    q = make_queue()
    job = q.submit(fns.count, 1, on_end=on_end)
    try:
        assert entered.wait(TIMEOUT), "on_end was not called"
        got = []
        reader = threading.Thread(target=lambda: got.append((q.get(job.id), q.position(job))), daemon=True)
        reader.start()
        reader.join(TIMEOUT)  # not a timing: a get() blocked behind on_end never returns while it blocks
        assert got == [(job, None)], "get() waited for on_end"
        assert job.state == DONE and not job.ended and not recorded
    finally:
        release.set()
    assert q.wait(job.id, TIMEOUT).ended and recorded == [DONE]


def test_remove_partials_takes_write_s_leftovers_and_nothing_else(tmp_path):
    from vggviz.train import checkpoint

    out = tmp_path / "flowers.pth"
    leftovers = [tmp_path / ".flowers.pth.k2j4.partial", tmp_path / ".flowers.json.x1.partial",
                 tmp_path / ".flowers.train.json.q9.partial"]
    kept = [tmp_path / ".other.pth.k2j4.partial", tmp_path / "flowers.pth", tmp_path / ".flowers.pth.notes"]
    for path in leftovers + kept:
        path.write_bytes(b"x")
    assert sorted(checkpoint.remove_partials(out)) == sorted(leftovers)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in leftovers)


def test_the_per_process_object_is_made_once_when_many_sessions_ask_at_once():
    from vggviz.jobs.per_process import PerProcess

    made = []

    def make():
        time.sleep(0.05)  # a slow first make: the other threads ask meanwhile
        made.append(object())
        return made[-1]

    shared = PerProcess(make)
    got = []
    threads = [threading.Thread(target=lambda: got.append(shared.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and got == made * 8 and shared.get() is made[0]
    shared.instance = None  # a fresh server (as the page tests do)
    assert shared.get() is made[1]
