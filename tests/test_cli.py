"""``python -m vggviz summary`` as a script user runs it."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest


def vggviz(*args):
    return subprocess.run([sys.executable, "-m", "vggviz", *args], capture_output=True, text=True, timeout=120)


def test_summary_json_has_the_documented_schema():
    out = vggviz("summary", "vgg16", "--input-size", "320x240", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["config"] == "D" and data["input_size"] == [320, 240]
    assert set(data) == {"config", "input_size", "layers", "total_params", "total_macs"}
    first = data["layers"][0]
    assert set(first) == {"name", "type", "kernel", "stride", "padding", "in_shape", "out_shape", "params",
                          "macs", "rf", "jump", "start"}
    assert first["in_shape"] == [3, 320, 240] and first["out_shape"] == [64, 320, 240]
    assert {layer["type"] for layer in data["layers"]} <= {"conv", "pool", "lrn", "relu", "bn", "avgpool", "dropout", "fc"}
    fc8 = data["layers"][-1]
    assert fc8["name"] == "fc8" and fc8["out_shape"] == [1000] and fc8["kernel"] is None
    assert data["total_params"] == 138_357_544 == sum(layer["params"] for layer in data["layers"])


def test_summary_csv_and_table():
    out = vggviz("summary", "A-LRN", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[2]["name"] == "lrn1" and rows[-1]["name"] == "total"
    table = vggviz("summary", "C")
    assert table.returncode == 0 and "conv5_3" in table.stdout and "133," in table.stdout


@pytest.mark.parametrize("args, named", [
    (["summary", "vgg99"], "vgg16_bn"),
    (["summary", "D", "--input-size", "31"], "32"),
    (["summary", "D", "--input-size", "20x"], "HxW"),
    (["summary", "D", "--format", "xml"], "json"),
])
def test_bad_arguments_exit_2_with_one_line(args, named):
    out = vggviz(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and named in out.stderr and "Traceback" not in out.stderr


def test_predict_json_and_bad_images(tmp_path):
    from PIL import Image

    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "orange").save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    out = vggviz("predict", str(good), str(bad), str(good), "--config", "A", "--weights", "random",
                 "--topk", "3", "--format", "json")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    assert [d["image"] for d in data] == [str(good), str(good)]
    assert data[0]["config"] == "A" and data[0]["weights"] == "random" and len(data[0]["top"]) == 3
    assert set(data[0]["top"][0]) == {"index", "label", "prob"}
    assert "bad.jpg" in out.stderr and "untrained" in out.stderr


def test_features_writes_one_grid_per_conv_layer(tmp_path):
    from PIL import Image

    img = tmp_path / "p.png"
    Image.new("RGB", (80, 60), "teal").save(img)
    out = vggviz("features", str(img), "--config", "A", "--weights", "random", "--out", str(tmp_path / "maps"))
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == sorted(
        f"{n}.png" for n in ["conv1_1", "conv2_1", "conv3_1", "conv3_2", "conv4_1", "conv4_2", "conv5_1", "conv5_2"])


@pytest.mark.parametrize("weights, words", [("missing.pth", "no such file"), ("imagenet", "download")])
def test_unusable_weights_exit_2_with_one_line(tmp_path, weights, words):
    from PIL import Image

    img = tmp_path / "p.png"
    Image.new("RGB", (64, 64)).save(img)
    env = dict(os.environ, TORCH_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-m", "vggviz", "predict", str(img), "--weights", weights],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr


@pytest.mark.parametrize("out_name, shape", [("cam.npy", (224, 224)), ("map.png", None)])
def test_attribute_writes_npy_or_png(tmp_path, out_name, shape):
    import numpy as np
    from PIL import Image

    img = tmp_path / "p.png"
    Image.new("RGB", (90, 70), "purple").save(img)
    out = vggviz("attribute", str(img), "--method", "gradcam", "--layer", "conv4_2", "--config", "A",
                 "--weights", "random", "--out", str(tmp_path / out_name))
    assert out.returncode == 0, out.stderr
    if shape:
        assert np.load(tmp_path / out_name).shape == shape
    else:
        assert Image.open(tmp_path / out_name).size == (224, 224)


@pytest.mark.parametrize("extra, words", [
    (["--method", "gradcam", "--layer", "conv9_9"], "conv5_2"),
    (["--method", "saliency", "--target", "cat"], "class index"),
    (["--method", "magic"], "invalid choice"),
    (["--method", "saliency", "--out", "x.jpg"], ".png or .npy"),
])
def test_attribute_bad_arguments(tmp_path, extra, words):
    from PIL import Image

    img = tmp_path / "p.png"
    Image.new("RGB", (64, 64)).save(img)
    args = ["attribute", str(img), "--config", "A", "--weights", "random", *extra]
    if "--out" not in extra:
        args += ["--out", str(tmp_path / "o.npy")]
    out = vggviz(*args)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr, out.stderr
