"""``python -m vggviz erf`` and ``python -m vggviz unit``: the documented JSON keys, the .npy map, and one
clear line with exit status 2 for every bad request. One run as a user runs it, the rest in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vggviz import cli

ERF_KEYS = {"config", "layer", "unit", "input_size", "samples", "rf", "rf_box", "mass_sides", "area_ratio"}
UNIT_KEYS = {"layer", "channel", "at", "pre", "post", "bias", "contributions", "rf_box"}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "p.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((90, 120, 3)) * 255).astype(np.uint8)).save(path)
    return str(path)


@pytest.fixture(autouse=True)
def one_model_per_configuration(monkeypatch):
    """The in-process runs share each configuration's untrained model (loading is tested elsewhere; building
    vgg11's 133 M weights every run would dominate these tests)."""
    from vggviz.photo import inference

    real = inference.load_model

    def load_model(config, weights="imagenet", **kw):
        key = (str(config), weights, tuple(sorted(kw.items())))
        if key not in MODELS:
            MODELS[key] = real(config, weights, **kw)
        return MODELS[key]
    monkeypatch.setattr(inference, "load_model", load_model)


MODELS: dict = {}


def run(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_erf_json_and_npy_as_a_user_runs_it(tmp_path):
    out = subprocess.run([sys.executable, "-m", "vggviz", "erf", "A", "--layer", "conv2_1", "--weights", "random",
                          "--samples", "1", "--seed", "3", "--out", str(tmp_path / "erf.npy"), "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == ERF_KEYS and set(data["mass_sides"]) == {"0.2", "0.5", "0.9", "0.99"}
    assert data["config"] == "A" and data["layer"] == "conv2_1" and data["samples"] == 1
    assert data["unit"] == [56, 56] and data["input_size"] == [224, 224] and data["rf"] == 8
    assert data["rf_box"] == [109, 109, 116, 116]  # unit 56 of conv2_1 is centred at 0.5 + 2·56 = 112.5
    saved = np.load(tmp_path / "erf.npy")
    assert saved.shape == (224, 224) and saved.dtype == np.float32
    assert saved[109:117, 109:117].sum() == pytest.approx(saved.sum())  # nothing outside the theoretical box
    sides = [data["mass_sides"][k] for k in ("0.2", "0.5", "0.9", "0.99")]
    # ≤ 8 up to float rounding in the interpolated side (as in test_erf)
    assert sides == sorted(sides) and sides[-1] <= 8 + 1e-6
    assert data["area_ratio"] == pytest.approx((sides[2] / 8) ** 2, 1e-3)


def test_erf_of_a_photo_at_a_corner_unit_and_the_text_report(capsys, image):
    code, out, _ = run(capsys, "erf", "A", "--layer", "conv2_1", "--weights", "random", "--image", image,
                       "--unit", "0", "0", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["samples"] == 1 and data["unit"] == [0, 0] and data["rf_box"] == [-3, -3, 4, 4]
    code, out, _ = run(capsys, "erf", "A", "--layer", "conv1_1", "--weights", "random", "--samples", "1")
    assert code == 0 and "r = 3 px" in out and "50% of the mass" in out


@pytest.mark.parametrize("args, words", [
    (["--layer", "pool1", "--samples", "1"], "not a conv layer"),
    (["--layer", "conv9_9", "--samples", "1"], "conv5_2"),
    (["--layer", "conv2_1", "--samples", "1", "--unit", "112", "0"], "0…111"),
    (["--layer", "conv2_1", "--samples", "0"], "between 1 and"),
    (["--layer", "conv2_1", "--image", "missing.png"], "missing.png"),
    (["--layer", "conv2_1", "--out", "map.png"], ".npy"),
])
def test_erf_bad_requests_exit_2_with_one_line(capsys, args, words):
    code, out, err = run(capsys, "erf", "A", "--weights", "random", *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err


def test_erf_takes_a_photo_or_noise_not_both(capsys, image):
    with pytest.raises(SystemExit) as info:
        cli.main(["erf", "A", "--layer", "conv2_1", "--image", image, "--samples", "2"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and "not allowed with" in err


def test_unit_json_conv1_1_and_a_deeper_layer(capsys, image):
    code, out, _ = run(capsys, "unit", image, "--config", "A", "--weights", "random", "--layer", "conv1_1",
                       "--channel", "3", "--at", "0", "5", "--format", "json")
    data = json.loads(out)
    assert code == 0 and set(data) == UNIT_KEYS | {"patch", "kernel"}
    assert np.array(data["patch"]).shape == np.array(data["kernel"]).shape == (3, 3, 3)
    # post == max(pre, 0) exactly: the ReLU copies the value, and JSON writes floats back exactly
    assert data["at"] == [0, 5] and data["rf_box"] == [-1, 4, 1, 6] and data["post"] == max(data["pre"], 0)
    code, out, _ = run(capsys, "unit", image, "--config", "A-BN", "--weights", "random", "--layer", "conv2_1",
                       "--channel", "7", "--at", "111", "0", "--format", "json")
    data = json.loads(out)
    assert code == 0 and set(data) == UNIT_KEYS | {"batch_norm"} and len(data["contributions"]) == 64
    values = [c["value"] for c in data["contributions"]]
    assert [abs(v) for v in values] == sorted((abs(v) for v in values), reverse=True)
    assert sorted(c["in_channel"] for c in data["contributions"]) == list(range(64))
    assert data["bias"] + sum(values) == pytest.approx(data["pre"], rel=1e-6, abs=1e-9)
    assert data["post"] == max(data["batch_norm"]["value"], 0)
    code, out, _ = run(capsys, "unit", image, "--config", "A", "--weights", "random", "--layer", "conv3_1",
                       "--channel", "0", "--at", "3", "3")
    assert code == 0 and "pre-activation" in out and "ReLU" in out


@pytest.mark.parametrize("args, words", [
    (["--layer", "pool2", "--channel", "0", "--at", "0", "0"], "max-pooling"),
    (["--layer", "conv9_9", "--channel", "0", "--at", "0", "0"], "pool5"),
    (["--layer", "conv1_1", "--channel", "64", "--at", "0", "0"], "0…63"),
    (["--layer", "conv1_1", "--channel", "0", "--at", "0", "224"], "0…223"),
])
def test_unit_bad_requests_exit_2_with_one_line(capsys, image, args, words):
    code, out, err = run(capsys, "unit", image, "--config", "A", "--weights", "random", *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err
