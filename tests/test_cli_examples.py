"""``python -m vggviz examples``: the documented JSON keys and values (the engine's, read back from the gallery
the app reads), the patches and index written to --out, and one translated line with exit status 2 for every
bad request. One run as a user runs it, the rest in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers import cli_in_process, encode, photo, share_loaded_models
from vggviz.learned import collection as collections, examples as ex, patches
from vggviz.photo import inference, model_identity

KEYS = {"photo", "value", "at", "box"}


@pytest.fixture(autouse=True)
def one_model_per_configuration(monkeypatch, tmp_path):
    """The in-process runs share each configuration's untrained model, and write into a gallery of their own."""
    share_loaded_models(monkeypatch, MODELS)
    monkeypatch.setenv("VGGVIZ_GALLERY", str(tmp_path / "gallery"))


MODELS: dict = {}


def test_json_patches_and_the_gallery_as_a_user_runs_it(tmp_path):
    gallery, out = tmp_path / "gallery", tmp_path / "out"
    env = {**os.environ, "VGGVIZ_GALLERY": str(gallery)}
    run = subprocess.run([sys.executable, "-m", "vggviz", "examples", "samples", "--config", "A", "--weights", "random",
                          "--device", "cpu", "--layers", "conv1_1,conv4_2", "--top", "2", "--input-size", "64",
                          "--workers", "0", "--out", str(out), "--format", "json"],
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert list(data) == ["conv1_1", "conv4_2"]
    assert list(data["conv1_1"]) == [str(c) for c in range(64)] and len(data["conv4_2"]) == 512
    for layer in data.values():
        for examples in layer.values():
            assert len(examples) == 2 and all(set(e) == KEYS for e in examples)
    # The values are the engine's, as the app finds them: the same model, identified as the app identifies it.
    lm = model_identity.identify(inference.load_model("A", "random", device="cpu"), model_identity.UNTRAINED)
    found = ex.find(lm, collections.samples().digest, ex.Settings(size=64, top=2, bottom=2, random=2),
                    ["conv1_1", "conv4_2"], root=gallery)
    assert found is not None and found.folder.parent == gallery / ex.FOLDER
    assert found.record(["conv1_1", "conv4_2"]) == data
    first = found.top("conv4_2", 7)[0]
    assert data["conv4_2"]["7"][0] == {"photo": first.photo, "value": first.value, "at": list(first.at),
                                        "box": [first.box.top, first.box.left, first.box.bottom, first.box.right]}
    assert json.loads((out / "index.json").read_text(encoding="utf-8")) == data
    written = Image.open(out / "conv4_2" / "007_0.png")
    assert written.size == (patches.PATCH, patches.PATCH)
    assert np.array_equal(np.asarray(written.convert("RGB")), np.asarray(patches.patch(found, first)))
    assert len(list((out / "conv1_1").iterdir())) == 64 * 2


def test_text_mode_reports_progress_and_where_it_saved(tmp_path, capsys):
    from vggviz import cli

    code = cli.main(["examples", "samples", "--config", "A", "--weights", "random", "--device", "cpu", "--layers",
                     "conv2_1", "--top", "1", "--input-size", "48", "--workers", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "4 of 4 photos" in out.err
    assert "dataset examples of 128 channels (conv2_1) from 4 photos of samples" in out.out
    assert str(tmp_path / "gallery" / ex.FOLDER) in out.out


def bad_runs(tmp_path) -> dict[str, tuple[list[str], str, str]]:
    """case -> (arguments, the English line, a piece of the Chinese one)."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"no photo")
    (tmp_path / "bad" / "b.png").write_bytes(encode(photo(0))[:50])
    small = ["--config", "A", "--weights", "random", "--device", "cpu", "--input-size", "32", "--workers", "0"]
    return {
        "unknown layer": (["samples", *small, "--layers", "conv1_1,conv9_9"],
                          "vggviz: conv9_9 is not a conv layer of A: choose one of conv1_1, conv2_1, conv3_1, "
                          "conv3_2, conv4_1, conv4_2, conv5_1, conv5_2", "不是 A 的卷积层"),
        "empty": ([str(tmp_path / "empty"), *small],
                  "vggviz: empty holds no photos: add JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC or HEIF files", "中没有照片"),
        "only bad files": ([str(tmp_path / "bad"), *small],
                           "vggviz: bad holds no photo that could be read (2 files skipped)", "跳过了 2 个文件"),
        "missing": ([str(tmp_path / "nowhere"), *small], f"vggviz: {tmp_path / 'nowhere'}: no such file or folder",
                    "nowhere"),
        "too many": (["samples", *small, "--top", "101"],
                     "vggviz: the number of dataset examples must be between 1 and 100, not 101", "数据集样例"),
    }


def messages(err: str) -> list[str]:
    """The error lines (progress lines, when photos were read before the error, are not messages)."""
    return [line for line in err.splitlines() if line.startswith("vggviz:")]


@pytest.mark.parametrize("case", ["unknown layer", "empty", "only bad files", "missing", "too many"])
def test_bad_input_is_one_translated_line_and_exit_2(case, tmp_path):
    args, english, chinese = bad_runs(tmp_path)[case]
    code, err = cli_in_process(["examples", *args, "--lang", "en"])
    assert code == 2 and messages(err) == [english] and "Traceback" not in err
    code, err = cli_in_process(["examples", *args, "--lang", "zh"])
    assert code == 2 and len(messages(err)) == 1 and chinese in messages(err)[0] and "Traceback" not in err
    assert not (tmp_path / "gallery" / ex.FOLDER).exists() or not any((tmp_path / "gallery" / ex.FOLDER).iterdir())


def test_a_top_below_one_is_an_argument_error(capsys):
    from vggviz import cli

    for lang in ("en", "zh"):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["examples", "samples", "--top", "0", "--lang", lang])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "--top" in err and "'0'" in err and len(err.strip().splitlines()) == 1
        assert ("must be a whole number of at least 1" in err) == (lang == "en")
