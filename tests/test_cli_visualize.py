"""``python -m vggviz visualize``: the documented JSON keys, the picture, a layer's gallery written where the app
reads it, and one clear translated line with exit status 2 for every bad request. On the planted checkpoint
(its conv1_1 channels 0, 1, 2 pass R, G, B on), tiny images, a few steps; one run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch  # noqa: F401  (a hard dependency: a broken install fails here, never skipped)
from PIL import Image

from vggviz import cli

import planted

CHANNEL_KEYS = {"config", "weights", "digest", "layer", "channel", "seed", "settings", "start", "end", "curve",
                "seconds"}
CLASS_KEYS = {"config", "weights", "digest", "method", "class", "name", "seed", "settings", "start", "end", "curve",
              "seconds"}
SETTINGS_KEYS = {"steps", "size", "lr", "upsample", "unit", "negative", "images", "diversity", "transforms",
                 "decorrelate", "preprocess"}
TINY = ["--steps", "6", "--size", "32", "--upsample", "none"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Many tiny optimisation steps: one thread (conftest's one_torch_thread says why)."""


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return planted.save_checkpoint(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(autouse=True)
def gallery_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VGGVIZ_GALLERY", str(tmp_path / "gallery"))
    return tmp_path / "gallery"


def run(capsys, checkpoint, *args):
    ckpt, names = checkpoint
    code = cli.main(["visualize", "--weights", str(ckpt), "--classes", str(names), "--device", "cpu", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_channel_as_json_with_its_picture(capsys, checkpoint, tmp_path):
    code, out, err = run(capsys, checkpoint, "--layer", "conv1_1", "--channel", "0", *TINY, "--seed", "2",
                         "--out", str(tmp_path / "c0.png"), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == CHANNEL_KEYS and set(data["settings"]) == SETTINGS_KEYS
    assert data["layer"] == "conv1_1" and data["channel"] == 0 and data["seed"] == 2 and data["config"] == "A"
    assert data["settings"]["steps"] == 6 and data["settings"]["preprocess"] == "lecture" and len(data["curve"]) == 6
    assert data["end"] > data["start"]  # the planted channel passes red on: the red rises
    assert data["digest"].startswith("sha256:") and "+classes:sha256:" in data["digest"]
    assert np.asarray(Image.open(tmp_path / "c0.png")).shape == (32, 32, 3)
    assert "step" not in err  # no progress in JSON mode


def test_text_mode_reports_progress_on_stderr_and_reads_the_cache(capsys, checkpoint):
    code, out, err = run(capsys, checkpoint, "--layer", "conv1_1", "--channel", "1", *TINY)
    assert code == 0 and "step 6 of 6" in err and "conv1_1 channel 1" in out and "→" in out
    code, out, err = run(capsys, checkpoint, "--layer", "conv1_1", "--channel", "1", *TINY, "--format", "json")
    assert code == 0 and err == "" and json.loads(out)["channel"] == 1  # read back: no steps run


def test_a_gallery_written_by_the_command_line_is_read_by_the_app(capsys, checkpoint, tmp_path, monkeypatch,
                                                                   gallery_folder):
    folder = tmp_path / "prepared"
    code, out, err = run(capsys, checkpoint, "--layer", "conv2_1", "--channels", "0-2,5", *TINY, "--batch", "3",
                         "--out", str(folder), "--format", "json")
    assert code == 0, err
    assert os.environ["VGGVIZ_GALLERY"] == str(tmp_path / "gallery")  # --out DIR only for that run
    data = json.loads(out)
    assert [r["channel"] for r in data["channels"]] == [0, 1, 2, 5] and set(data["channels"][0]) == CHANNEL_KEYS
    assert np.asarray(Image.open(data["grid"])).shape[2] == 3
    # the app: the same checkpoint loaded and identified as ui/models.py does, the folder as VGGVIZ_GALLERY
    from vggviz.learned import layer_gallery, visualize as vis
    from vggviz.photo import model_identity as identity

    ckpt, names = checkpoint
    lm = identity.identify(planted.load(ckpt, names),
                           identity.with_classes(identity.of_file(ckpt), identity.of_file(names)))
    settings = vis.Settings(steps=6, size=32, upsample=None)
    monkeypatch.setenv("VGGVIZ_GALLERY", str(folder))
    found = layer_gallery.read(lm, "conv2_1", [0, 1, 2, 5, 6], settings)
    assert all(v is not None and v.cached for v in found[:4]) and found[4] is None
    assert found[3].curve == pytest.approx(data["channels"][3]["curve"])


def test_a_class_model_by_its_name(capsys, checkpoint):
    code, out, err = run(capsys, checkpoint, "--class", "sunflowers", "--steps", "3", "--size", "32", "--format",
                         "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == CLASS_KEYS and data["name"] == "sunflowers" and data["class"] == 4
    assert data["method"] == "simonyan" and set(data["settings"]) == {"steps", "size", "lr", "l2", "preprocess"}
    code, out, err = run(capsys, checkpoint, "--class", "4", "--method", "fourier", *TINY, "--format", "json")
    assert code == 0 and json.loads(out)["method"] == "fourier" and json.loads(out)["settings"]["size"] == 32


BAD = [
    (["--layer", "conv9_9", "--channel", "0"], "conv9_9", "卷积层"),
    (["--layer", "pool1", "--channel", "0"], "pool1", "卷积层"),
    (["--layer", "conv1_1", "--channel", "64"], "0…63", "通道"),
    (["--class", "cat"], "'cat'", "类别"),
    (["--class", "6"], "0…5", "类别"),
    (["--channel", "0"], "--layer", "--layer"),
    (["--layer", "conv1_1", "--channel", "0", "--out", "x.jpg"], ".png", ".png"),
    (["--layer", "conv1_1", "--channels", "5-2"], "0-63", "0-63"),
    (["--layer", "conv1_1", "--channels", "a"], "0-63", "0-63"),
    (["--layer", "conv1_1", "--channel", "0", "--size", "4"], "at least 16", "16"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("args, en, zh", BAD)
def test_bad_requests_exit_2_with_one_translated_line(capsys, checkpoint, gallery_folder, args, en, zh, lang):
    try:
        code, out, err = run(capsys, checkpoint, *args, "--steps", "2", "--lang", lang)
    except SystemExit as exc:  # argparse's own checks
        code, captured = exc.code, capsys.readouterr()
        out, err = captured.out, captured.err
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert (zh if lang == "zh" else en) in err, err
    if lang == "zh" and zh not in ("--layer", ".png", "0-63", "16"):
        assert re.search("[\u4e00-\u9fff]", err), err
    assert not gallery_folder.exists()  # nothing written


def test_a_gallery_folder_that_cannot_be_written_is_one_line(capsys, checkpoint, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    code, out, err = run(capsys, checkpoint, "--layer", "conv1_1", "--channels", "0-1", *TINY, "--out",
                         str(blocker / "gallery"))
    assert code == 2 and out == "" and err.count("\n") == 1 and "cannot write to" in err, err


def test_as_a_user_runs_it(tmp_path):
    env = {**os.environ, "VGGVIZ_GALLERY": str(tmp_path / "g"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "vggviz", "visualize", "A", "--weights", "random", "--layer",
                          "conv1_1", "--channel", "3", *TINY, "--format", "json"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["digest"] == "random:0" and data["weights"] == "random" and len(data["curve"]) == 6
    assert (tmp_path / "g" / "visualize").is_dir()


def test_a_gallery_not_kept_has_no_grid_file(capsys, checkpoint, gallery_folder):
    code, out, err = run(capsys, checkpoint, "--layer", "conv1_1", "--channels", "0-1", *TINY, "--no-cache",
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["grid"] is None and [r["channel"] for r in data["channels"]] == [0, 1]  # JSON null, not "None"
