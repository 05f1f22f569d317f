"""The bench's own output: Streamlit's "missing ScriptRunContext" warnings are silenced there, and only there."""

import subprocess
import sys

BARE = """
import sys
if sys.argv[1] == "bench":
    import bench.run  # noqa: F401
import streamlit as st
st.markdown("outside any script run")  # what the bench's AppTest and cache calls do, hundreds of times
"""


def test_bench_silences_missing_script_run_context_and_nothing_else():
    said = {}
    for mode in ("bench", "package"):
        out = subprocess.run([sys.executable, "-c", BARE, mode], capture_output=True, text=True, check=True)
        said[mode] = out.stderr
    assert "missing ScriptRunContext" in said["package"]  # the warning exists: the package does not hide it
    assert "missing ScriptRunContext" not in said["bench"]


def test_training_figures_have_the_tables_shape(one_torch_thread):
    """The training figures (issue 23) at a toy size: one row each, a ratio against its bare baseline."""
    import torch

    from bench import run, train_speed

    cpu = torch.device("cpu")
    rows = [train_speed.cache(cpu, 1, photos=2, size=32, workers=0), train_speed.head_epoch(cpu, 1, photos=4, batch=2),
            train_speed.full_step(cpu, 1, batch=1, size=32)]
    assert [r["figure"] for r in rows] == ["train_cache", "train_head_epoch", "train_step"]
    for r in rows:
        assert {"figure", "what", "value", "unit", "baseline", "baseline_value", "ratio", "target", "ok"} <= set(r)
        assert r["ratio"] > 0 and r["target"] == train_speed.TARGETS[r["figure"]] and isinstance(r["ok"], bool)
    assert rows[0].get("at_least") is True
    assert "train" in run.FIGURES
    assert "train_cache" in run.table(rows, {"device": "cpu", "cores": 2, "torch": torch.__version__})


# --- the shape of the serving figures, without a server -------------------------------------------------------

def _bench(repeats: int):
    from bench.timing import Bench

    bench = Bench.__new__(Bench)  # no models: these figures time the server, not a forward made here
    bench.rows, bench.repeats, bench.bare_forward = [], repeats, lambda: None
    return bench


class _FakeServer:
    def __init__(self, sessions=None):
        self.sessions = sessions

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def peak(self) -> float:
        return 1000.0

    def session(self, page):
        return self.sessions.pop(0)


def test_the_class_figure_is_the_median_of_at_least_five_classes(monkeypatch):
    from bench import server, serving

    for repeats, classes in ((3, 5), (1, 5), (7, 7)):
        # One student first, then the classes (1, 2, …, classes seconds in reverse), the first class's photos sent
        # again after it: that run's CPU (0.6 s) is the figure of a student's work beside the forward.
        seconds = iter([9.0, float(classes), 99.0] + [float(c + 1) for c in range(classes - 1)][::-1])
        cpu = iter([5.0, 5.0, 0.6] + [5.0] * (classes - 1))
        monkeypatch.setattr(server, "Server", _FakeServer)
        monkeypatch.setattr(server, "class_opens_predict", lambda s, photos: (next(seconds), [], next(cpu)))
        monkeypatch.setattr(serving, "timed", lambda fn, repeats: 0.1)  # each class's own bare forward
        bench = _bench(repeats)
        serving.class_of(bench, 30)
        row = next(r for r in bench.rows if r["figure"] == "server_class")
        median = (classes + 1) / 2  # the classes took 1, 2, …, classes seconds
        assert row["value"] == median and row["baseline_value"] == 3.0 and row["unit"] == "s"
        assert row["ratio"] == round(median / 3.0, 3) and row["target"] == 1.1
        assert f"median of {classes} classes, ratios {1 / 3:.2f}–{classes / 3:.2f}" in row["what"]
        assert next(seconds, None) is None  # exactly that many classes ran
        beside = next(r for r in bench.rows if r["figure"] == "server_class_beside")
        assert beside["value"] == 20.0 and beside["baseline_value"] == 100.0 and beside["ratio"] == 0.2  # ms


def test_the_camera_figure_is_a_ratio_against_the_same_photos_uploaded_in_one_run(monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    from bench import server, serving

    seen = {}

    def to_predictions(s, pairs):
        seen.setdefault("pairs", []).append(pairs)
        return 0.33, 0.3
    monkeypatch.setattr(server, "Server", _FakeServer)
    monkeypatch.setattr(server, "photo_to_predictions", to_predictions)
    bench = _bench(3)
    serving.camera(bench)
    (row,) = bench.rows
    assert row["figure"] == "server_camera" and row["target"] == 1.1 and row["ratio"] == 1.1
    assert row["value"] == 330.0 and row["baseline_value"] == 300.0 and "median of 8" in row["what"]
    warm_up, measured = seen["pairs"]
    assert len(measured) == 8 and len(warm_up) == 1
    for shot, upload in warm_up + measured:  # the same pixels in different bytes: no shared cache entry
        assert shot != upload
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(shot))), np.asarray(Image.open(io.BytesIO(upload))))


def test_camera_and_upload_go_through_their_own_widgets_alternately_first():
    from bench import server
    from bench.client import FINISHED, Run

    calls = []

    class Student:
        def __init__(self):
            self.source = None

        def set(self, key, string_value):
            assert key == "photo_source"
            self.source = string_value

        def upload(self, key, name, data, mime):
            calls.append((self.source, key, name, data, mime))
            return Run(0.0, 1, 1, FINISHED, [("plotly_chart", None)])

        def close(self):
            pass

    pairs = [(b"shot0", b"up0"), (b"shot1", b"up1"), (b"shot2", b"up2")]
    camera, upload = server.photo_to_predictions(_FakeServer([Student(), Student()]), pairs)
    assert camera >= 0 and upload >= 0
    assert [c[3] for c in calls] == [b"shot0", b"up0", b"up1", b"shot1", b"shot2", b"up2"]
    for source, key, name, data, mime in calls:
        assert mime == "image/jpeg"
        if data.startswith(b"shot"):  # as the browser's camera_input sends its shot
            assert (source, key) == ("Take a photo", "photo_camera") and name.startswith("camera-input-")
        else:
            assert (source, key) == ("Upload", "photo_upload") and name.endswith(".jpg")
