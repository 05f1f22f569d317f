"""``python -m vggviz`` as a script user runs it, in English and in Chinese."""

import csv
import io
import json
import os
import subprocess
import sys
import unicodedata

import pytest
from torchvision import models

from helpers import cli_in_process


def vggviz(*args, env=None):
    return subprocess.run([sys.executable, "-m", "vggviz", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def num_params(name: str) -> int:
    return models.get_model_weights(name).IMAGENET1K_V1.meta["num_params"]


def parse_table(text: str) -> list[dict[str, str]]:
    """The rows of ``summary``'s aligned table, by the columns its dashed line marks (in terminal columns:
    a Chinese character is two wide)."""
    def cells(line):  # one list entry per terminal column
        return [c for ch in line for c in ([ch, ""] if unicodedata.east_asian_width(ch) in "WF" else [ch])]

    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if set(line) == {"-", " "})
    spans, pos = [], 0
    for dashes in lines[at].split("  "):
        spans.append((pos, pos + len(dashes)))
        pos += len(dashes) + 2
    header = cells(lines[at - 1])
    names = ["".join(header[a:b]).strip() for a, b in spans]
    return [{n: "".join(cells(line)[a:b]).strip() for n, (a, b) in zip(names, spans)} for line in lines[at + 1:]]


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
    assert data["total_params"] == num_params("vgg16") == sum(layer["params"] for layer in data["layers"])


def test_summary_csv():
    out = vggviz("summary", "A-LRN", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[2]["name"] == "lrn1" and rows[-1]["name"] == "total"
    assert int(rows[-1]["params"]) == num_params("vgg11") == sum(int(r["params"] or 0) for r in rows[:-1])


@pytest.mark.parametrize("lang, layer, params, total", [("en", "layer", "params", "total"),
                                                         ("zh", "层", "参数量", "合计")])
def test_summary_table_numbers_equal_torchvisions(lang, layer, params, total):
    """The table read back column by column: every conv's parameters and the total equal torchvision's vgg13_bn."""
    out = vggviz("--lang", lang, "summary", "vgg13_bn")
    assert out.returncode == 0, out.stderr
    rows = parse_table(out.stdout)
    counts = {r[layer]: int(r[params].replace(",", "")) for r in rows if r[params]}
    assert counts[total] == num_params("vgg13_bn") == sum(v for k, v in counts.items() if k != total)
    reference = models.vgg13_bn()
    convs = [m for m in reference.features if type(m).__name__ == "Conv2d"]
    assert [counts[f"conv{b}_{i}"] for b in range(1, 6) for i in (1, 2)] == [
        sum(p.numel() for p in m.parameters()) for m in convs]
    assert counts["bn5_2"] == 2 * 512 and rows[-1][layer] == total


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_table_leaves_the_gaps_of_fc_and_total_rows_empty(lang):
    out = vggviz("--lang", lang, "summary", "D")
    assert out.returncode == 0, out.stderr
    assert not {"None", "nan", "NaN", "<NA>"} & set(out.stdout.split())
    rows = [list(r.values()) for r in parse_table(out.stdout)]  # columns: layer, type, kernel, stride, padding,
    by_name = {r[0]: r for r in rows}                           # input, output, params, MACs, r, jump, start
    for name in ("fc6", "fc8", rows[-1][0]):
        assert by_name[name][2:5] == ["", "", ""] and by_name[name][10:] == ["", ""], by_name[name]
    assert by_name["conv5_3"][2:5] == ["3", "1", "1"] and by_name["conv5_3"][9:11] == ["196", "16"]
    assert by_name["fc8"][7] == "4,097,000" and rows[-1][7] == f"{num_params('vgg16'):,}" and rows[-1][9] == "212"


def test_language_from_the_environment_and_the_lang_option():
    env = dict(os.environ, LANG="zh_CN.UTF-8", LANGUAGE="", LC_ALL="", LC_MESSAGES="")
    chinese = vggviz("summary", "A", env=env)
    assert chinese.stdout.startswith("A（vgg11，11 个权重层），输入 224×224")
    english = vggviz("summary", "A", "--lang", "en", env=env)  # also after the command
    assert english.stdout.startswith("A (vgg11, 11 weight layers), input 224×224")
    helped = vggviz("--lang", "zh", "summary", "--help")
    assert helped.returncode == 0 and "输入尺寸" in helped.stdout
    data = json.loads(vggviz("--lang", "zh", "summary", "A", "--format", "json").stdout)
    assert data["layers"][0]["name"] == "conv1_1" and "total_params" in data  # keys stay English


@pytest.mark.parametrize("args, named, chinese", [
    (["summary", "vgg99"], "vgg16_bn", "未知的配置"),
    (["summary", "D", "--input-size", "31"], "32", "太小"),
    (["summary", "D", "--input-size", "20x"], "HxW", "格式有误"),
    (["summary", "D", "--format", "xml"], "json", "错误"),
])
def test_bad_arguments_exit_2_with_one_line(args, named, chinese):
    for lang, words in (("en", named), ("zh", chinese)):
        out = vggviz("--lang", lang, *args)
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr.count("\n") == 1 and words in out.stderr and "Traceback" not in out.stderr


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


@pytest.mark.parametrize("weights, words, chinese", [("missing.pth", "no such file", "文件不存在"),
                                                     ("imagenet", "download", "可以下载它")])
def test_unusable_weights_exit_2_with_one_line(tmp_path, monkeypatch, weights, words, chinese):
    from PIL import Image

    img = tmp_path / "p.png"
    Image.new("RGB", (64, 64)).save(img)
    env = dict(os.environ, TORCH_HOME=str(tmp_path / "home"))
    out = vggviz("predict", str(img), "--weights", weights, env=env)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr, out.stderr
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    status, stderr = cli_in_process(["--lang", "zh", "predict", str(img), "--weights", weights])
    assert status == 2 and stderr.count("\n") == 1 and chinese in stderr, stderr


def test_preprocess_override_reaches_the_attribution_baseline(tmp_path):
    """--preprocess lecture: the input is squashed and normalised with mean/std 0.5, and DeepLift's black
    baseline is the lecture's black (-1), computed here with captum and torchvision directly."""
    import numpy as np
    import torch
    from captum.attr import DeepLift
    from PIL import Image
    from torchvision import transforms

    from vggviz.architecture.model import build_model

    img = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 90, 3), dtype=np.uint8)).save(img)
    out = vggviz("attribute", str(img), "--method", "deeplift", "--target", "3", "--preprocess", "lecture",
                 "--config", "A", "--weights", "random", "--device", "cpu", "--out", str(tmp_path / "dl.npy"))
    assert out.returncode == 0, out.stderr
    reference = models.vgg11().eval()
    reference.load_state_dict(build_model("A", seed=0).state_dict())  # --weights random: seed 0
    for m in reference.modules():
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
    lecture = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                                  transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    x = lecture(Image.open(img).convert("RGB")).unsqueeze(0).requires_grad_(True)
    expected = DeepLift(reference).attribute(x, baselines=torch.full_like(x, -1.0), target=3)[0].detach().numpy()
    got = np.load(tmp_path / "dl.npy")
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5 * float(np.abs(expected).max()))


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
