"""Training on a shared server (issue 23), two figures:

- ``train_predict``: one student's Predict latency while a training job trains, against the same student's
  latency on the idle server, in one run. The real server (``streamlit run app.py``, ``bench.server``) and
  protocol clients (``bench.client``): a "teacher" session drives the Train page as a browser would (a folder
  of the server's data folder, vgg11, untrained, everything trains, small input) and presses Start, so the job
  runs in the server's own queue and worker, with the server's own settings; a "student" session uploads a new
  photo to Predict (configuration D, untrained weights) each time, and the seconds until its predictions are
  back are the latency, while the teacher's page redraws the job's panel every second as a browser does.
  Target: at most 1.5× the idle latency.
- ``train_memory``: the worker's peak resident memory for a head-only job on N and on 4N photos, each less the
  cached frozen features it reports, in the queue's worker process (the same ``Worker`` and the same job
  function as the server's), ratio 4N over N. Target: at most 1.1 (flat in the photos). The cached features'
  bytes per photo are reported in the row.

    python -m bench --only train_server
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import threading
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGETS = {"train_predict": 1.5, "train_memory": 1.1}
SIZE = 64  # the input size of the training jobs: a small configuration on a shared CPU
STUDENT_UPLOADS = 15  # Predict latencies measured idle, and again while the job trains


def _write_photos(folder: Path, per_class: int) -> Path:
    """A folder of class folders of generated photos (tests/tiny_training.py's coloured squares)."""
    import tiny_training

    for name, data in tiny_training.files(per_class).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def _row(figure: str, what: str, ours: float, base: float, base_what: str, unit: str, scale: float = 1.0) -> dict:
    ratio = ours / base
    return {"figure": figure, "what": what, "value": round(ours * scale, 2), "unit": unit, "baseline": base_what,
            "baseline_value": round(base * scale, 2), "ratio": round(ratio, 3), "target": TARGETS[figure],
            "ok": ratio <= TARGETS[figure]}


# --- Predict while a job trains ----------------------------------------------------------------------

def _teacher(server):
    """The teacher's session: the Train page, the data folder's "photos", a small recipe."""
    s = server.session("train")
    s.set("train_source", string_value="A folder on the server")
    s.set("train_folder", string_value="photos")
    s.set("train_init", string_value="Untrained (Xavier)")
    s.set("train_config", string_value="A (vgg11, 11 weight layers)")
    s.set("train_what", string_value="everything")
    s.set("train_batch", string_array_value={"data": ["8"]})
    s.set("train_size", string_array_value={"data": [str(SIZE)]})
    return s


def _until(teacher, ready, what: str, timeout: float = 300.0):
    """Rerun the teacher's page (as its fragments' timers do) until ``ready(run)``; the run."""
    deadline = time.monotonic() + timeout
    while True:
        run = teacher.rerun()
        if ready(run):
            return run
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Train page never showed {what}")
        time.sleep(0.5)


def _press(session, key: str) -> None:
    """Click the button ``key`` once: a browser sends a button's trigger in one run only, so the client's copy of
    it is dropped after that run (else every later rerun would click it again)."""
    session.set(key, trigger_value=True)
    session.states.pop(session.widgets[key], None)


def _start_enabled(run) -> bool:
    start = [b for b in run.of_type("button") if b.id.endswith("-train_start")]
    return bool(start) and not start[0].disabled


def _training(run) -> bool:
    return bool([p for p in run.of_type("progress") if "training:" in p.text or "validating:" in p.text])


def _start_job(teacher, epochs: int) -> str:
    """Start, once the cost is measured (a probe in a worker) and no run of the teacher's is going on; the job's
    id once its panel shows it training."""
    teacher.set("train_epochs", int_value=epochs)
    _until(teacher, _start_enabled, "its cost")
    _press(teacher, "train_start")
    _until(teacher, _training, "the job training")
    return teacher.query.split("job=", 1)[1].split("&", 1)[0]


def _cancel_job(teacher, job_id: str) -> None:
    _press(teacher, f"train_cancel_{job_id}")
    _until(teacher, _start_enabled, "the job cancelled")


@contextlib.contextmanager
def _watching(teacher):
    """The teacher's page as a browser keeps it: the job's panel (a fragment) redrawn every second."""
    fragment = next(f for key, f in teacher.fragments.items() if key.startswith("train_cancel_"))
    stop = threading.Event()

    def watch():
        while not stop.wait(1.0):
            teacher.rerun(fragment=fragment)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _latencies(student, photos: list[bytes]) -> list[float]:
    from bench.client import FINISHED

    out = []
    for i, data in enumerate(photos):
        run = student.upload("photo_upload", f"student{i}.jpg", data, mime="image/jpeg")
        if run.status != FINISHED or not run.of_type("plotly_chart"):
            raise RuntimeError(f"Predict: {run.status}, no predictions chart")
        out.append(run.seconds)
    return out


def predict_while_training(uploads: int = STUDENT_UPLOADS, cycles: int = 3, epochs: int = 30) -> dict:
    """Idle, then busy, ``cycles`` times (the job cancelled after each busy phase), so that a shared machine's
    drift over minutes hits both alike: the medians of all idle and of all busy latencies."""
    import os

    from bench import server as srv
    from helpers import encode, photo

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _write_photos(tmp / "data" / "photos", per_class=20)
        env = {**os.environ, "VGGVIZ_DATA": str(tmp / "data"), "VGGVIZ_CHECKPOINTS": str(tmp / "checkpoints"),
               "VGGVIZ_JOBS": str(tmp / "slots")}
        env.pop("VGGVIZ_TRAIN_THREADS", None)  # the server's default: half the cores
        photos = iter([encode(photo(i), "JPEG", quality=90) for i in range(2 * uploads * cycles + 1)])
        idle, busy = [], []
        with srv.Server(env=env) as server:
            student = server.session("predict")
            student.set("photo_source", string_value="Upload")
            _latencies(student, [next(photos)])  # the model loaded and warmed: not counted
            teacher = _teacher(server)
            for _ in range(cycles):
                idle += _latencies(student, [next(photos) for _ in range(uploads)])
                job_id = _start_job(teacher, epochs)
                with _watching(teacher):
                    busy += _latencies(student, [next(photos) for _ in range(uploads)])
                if not _training(teacher.rerun()):
                    raise RuntimeError("the job ended before the student's last Predict: give it more epochs")
                _cancel_job(teacher, job_id)
            student.close()
            teacher.close()
    return _row("train_predict", f"one student's Predict latency (median of {len(busy)}, {cycles} idle/busy "
                f"cycles) while a training job trains in the server's queue (vgg11 at {SIZE}, everything, batch 8) "
                f"and the teacher's page redraws it every second, real server",
                statistics.median(busy), statistics.median(idle), "the same student, idle server", "ms", 1000)


# --- memory flat in the photos -------------------------------------------------------------------------

def measured_job(*args, report, should_stop):
    """In the worker: the server's training job function, then this process's peak resident memory (MB)."""
    import resource

    from vggviz.jobs import training

    result = training.run(*args, report=report, should_stop=should_stop)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_less_features(folder: Path, queue) -> tuple[float, float, int]:
    """(peak RSS MB, cached features MB, cached bytes per photo) of a head-only job on ``folder``."""
    from vggviz.train.recipe import Recipe

    recipe = Recipe(config="vgg11", init="xavier", train="head", epochs=2, batch=16, optimizer="sgd", lr=0.01,
                    schedule="constant", size=SIZE, augment=False, views=1, val_share=0.1)
    job = queue.submit(measured_job, str(folder), folder.name, recipe.record(), None)
    queue.wait(job.id, 1800)
    if job.state != "done":
        raise RuntimeError(f"the job {job.state}: {job.error}")
    result, peak = job.result
    per_photo = result.cached_bytes_per_photo  # one view a photo: the val photos' features are as large
    return peak, per_photo * (result.train_photos + result.val_photos) / 2**20, per_photo


def memory_flat(photos: int = 64) -> dict:
    from vggviz.jobs.queue import JobQueue
    from vggviz.jobs.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        queue = JobQueue(Settings(folder=tmp / "slots", max_photos=None))
        try:
            small = _peak_less_features(_write_photos(tmp / "n", photos // 2), queue)
            large = _peak_less_features(_write_photos(tmp / "4n", 2 * photos), queue)
        finally:
            queue.close()
    base, ours = small[0] - small[1], large[0] - large[1]
    return _row("train_memory", f"worker's peak RSS less the cached features, head-only vgg11 at {SIZE}: "
                f"{4 * photos} photos (features {large[1]:.1f} MB) against {photos} ({small[1]:.1f} MB); "
                f"cached features {small[2] / 1024:.0f} KB a photo", ours, base, f"{photos} photos", "MB")


def figures(repeats: int) -> list[dict]:
    return [predict_while_training(), memory_flat()]
