"""Evaluating a folder (vggviz.evaluate) against an independent evaluation written here: torchvision's
ImageFolder + DataLoader + torchvision's vgg11 with the same generated weights, and the figures computed
with plain loops. The planted checkpoint's predictions are also known in advance (tests/planted.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import planted
from vggviz import i18n
from vggviz.evaluate import archive, classes, metrics, report
from vggviz.evaluate.errors import EvaluationError
from vggviz.evaluate.run import evaluate

import torch  # a hard dependency: a broken install fails, never skips


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return planted.save_checkpoint(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(scope="module")
def lm(checkpoint):
    return planted.load(*checkpoint)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("flowers") / "flower_data" / "val"  # two leading folders, as split_data.py makes
    expected = planted.write_folder(root)
    return root.parents[1], expected


def reference(root, sd):
    """Predictions by ImageFolder + DataLoader + torchvision's vgg11 (its features and avgpool, our small
    classifier), in the lecture's preprocessing written out here: (file, folder, class index, probs)."""
    from torch import nn
    from torchvision import datasets, models, transforms

    model = models.vgg11()
    model.classifier = nn.Sequential(nn.Linear(25088, planted.HIDDEN), nn.ReLU(True), nn.Dropout(),
                                     nn.Linear(planted.HIDDEN, planted.HIDDEN), nn.ReLU(True), nn.Dropout(),
                                     nn.Linear(planted.HIDDEN, len(planted.CLASSES)))
    model.load_state_dict(sd)
    model.eval()
    tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                             transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    data = datasets.ImageFolder(str(root), transform=tf)
    out = []
    with torch.no_grad():
        for k, (x, y) in enumerate(torch.utils.data.DataLoader(data, batch_size=7)):
            probs = torch.softmax(model(x), 1)
            for j in range(len(y)):
                path, _ = data.samples[k * 7 + j]
                out.append((path, data.classes[int(y[j])], probs[j].numpy()))
    return out


def test_figures_equal_an_independent_imagefolder_evaluation(lm, folder, checkpoint):
    root, expected = folder
    seen = []
    listing = archive.open_path(root)
    assert listing.files == len(expected) and list(listing.folders) == sorted(planted.layout())
    ev = evaluate(lm, listing, batch_size=8, workers=1, progress=seen.append)
    assert lm.preprocess == "lecture" and ev.preprocess == "lecture"
    assert [p.done for p in seen][-1] == len(expected) and seen[-1].seconds_left == 0
    ref = reference(root / "flower_data" / "val", torch.load(checkpoint[0], weights_only=True))

    # Per photo: the same prediction and probability, and the one the planted model was built to give.
    ours = {p.file: p for p in ev.predictions}
    assert len(ours) == len(ref) == len(expected)
    model_index = {name: i for i, name in enumerate(planted.CLASSES)}
    for path, folder_name, probs in ref:
        rel = "/".join(path.split("/")[-2:])
        p = ours[f"flower_data/val/{rel}"]
        assert ev.classes[p.true] == folder_name
        assert ev.classes[p.predicted] == planted.CLASSES[int(np.argmax(probs))] == expected[rel]
        assert p.prob == pytest.approx(float(probs.max()), abs=1e-5)
        rank = int((probs > probs[model_index[folder_name]]).sum())
        assert p.top5 == (rank < 5)

    # The figures, computed with loops over (true, predicted) names.
    pairs = [(folder_name, planted.CLASSES[int(np.argmax(probs))]) for _, folder_name, probs in ref]
    shown = [c for c in planted.CLASSES if any(c in pair for pair in pairs)]
    assert ev.classes == shown == planted.CLASSES  # irises: no folder, but predicted
    m = ev.metrics  # exact ratios below: a count over a count is one correctly rounded division
    assert m.accuracy == sum(t == p for t, p in pairs) / len(pairs)
    assert m.accuracy == pytest.approx(25 / 30)  # 5 planted mistakes
    ranks_ok = [int((probs > probs[model_index[f]]).sum()) < 5 for _, f, probs in ref]
    assert m.top5_accuracy == sum(ranks_ok) / len(ranks_ok) == 29 / 30  # the black photo of a daisy
    for i, t in enumerate(shown):
        for j, p in enumerate(shown):
            assert m.confusion[i][j] == sum(pair == (t, p) for pair in pairs)
    for figures, name in zip(m.per_class, shown):
        tp = sum(pair == (name, name) for pair in pairs)
        fp = sum(p == name and t != name for t, p in pairs)
        fn = sum(t == name and p != name for t, p in pairs)
        assert figures.name == name and figures.support == tp + fn
        assert figures.precision == (pytest.approx(tp / (tp + fp)) if tp + fp else None)
        assert figures.recall == (pytest.approx(tp / (tp + fn)) if tp + fn else None)
        prec, rec = (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        assert figures.f1 == (pytest.approx(f1) if tp + fp + fn else None)
    mistakes = ev.mistakes()
    assert [p.prob for p in mistakes] == sorted((p.prob for p in mistakes), reverse=True)
    assert {p.file for p in mistakes} == {f"flower_data/val/{k}" for k, v in expected.items() if v != k.split("/")[0]}


def test_zero_division_is_defined():
    # class 0: never predicted (precision undefined); class 1: no photos, predicted once (recall undefined);
    # class 2: neither (all undefined); class 3: both wrong, so 0 throughout.
    true = np.array([0, 0, 3])
    predicted = np.array([1, 3, 0])
    m = metrics.summarise(true, predicted, np.array([True, False, True]), ["a", "b", "c", "d"], 4)
    got = {c.name: (c.precision, c.recall, c.f1, c.support) for c in m.per_class}
    assert got == {"a": (0.0, 0.0, 0.0, 2), "b": (0.0, None, 0.0, 0), "c": (None, None, None, 0),
                   "d": (0.0, 0.0, 0.0, 1)}
    assert m.accuracy == 0 and m.top5_accuracy is None  # fewer than 5 classes: no top-5
    assert m.confusion.tolist() == [[0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    normalised = metrics.row_normalised(m.confusion)
    assert normalised[0].tolist() == [0, 0.5, 0, 0.5] and np.isnan(normalised[1]).all()
    assert metrics.per_class(np.array([[3, 0], [0, 0]]), ["x", "y"])[0].f1 == 1.0


def test_folders_map_to_classes_by_name_or_in_imagefolders_order(tmp_path):
    from torchvision.datasets.folder import find_classes

    from vggviz.photo.inference import imagenet_classes, unnamed_classes

    assert classes.match(["daisy", "Tulips"], ["tulips", "daisy"], "x") == {"daisy": 1, "Tulips": 0}
    assert classes.match(["golden_retriever", "Great-White  shark"], imagenet_classes(), "x") == {
        "golden_retriever": 207, "Great-White  shark": 2}
    folders = ["b", "a", "C", "10", "9"]
    for f in folders:
        (tmp_path / f).mkdir()
    _, class_to_idx = find_classes(str(tmp_path))  # torchvision's own rule
    assert classes.match(folders, unnamed_classes(5), "x") == class_to_idx
    with pytest.raises(EvaluationError) as err:
        classes.match(folders, unnamed_classes(4), "val.zip")
    assert err.value.code == "class_count" and "class_indices.json" in str(err.value)
    assert "in 4 class folders" in str(err.value) and "val.zip holds 5 folders (10/, 9/, C/, a/ and 1 more)" in str(
        err.value)
    with pytest.raises(EvaluationError) as err:
        classes.match(["cardigan_", "daisy"], imagenet_classes(), "x")  # the Welsh corgi or the jumper?
    assert err.value.code == "ambiguous" and "cardigan_" in str(err.value)
    assert classes.match(["Cardigan", "cardigan"], imagenet_classes(), "x") == {"Cardigan": 264, "cardigan": 474}
    with pytest.raises(EvaluationError) as err:
        classes.match(["daisy", "weeds", "rose"], planted.CLASSES, "x")
    assert err.value.code == "unmatched" and "rose, weeds" in str(err.value) and "tulips" in str(err.value)
    with i18n.use("zh"):
        assert "rose、weeds" in str(err.value) and "不匹配" in str(err.value)  # the list in Chinese too


def test_cancel_token_stops_between_batches_and_workers_end(lm):
    import multiprocessing

    files = planted.same_colour_photos(40)
    listing = archive.open_zip(planted.zip_of(files), "many.zip")
    cancel = threading.Event()
    batches = []

    def progress(p):
        batches.append(p.done)
        cancel.set()
    with pytest.raises(EvaluationError) as err:
        evaluate(lm, listing, batch_size=4, workers=2, progress=progress, cancel=cancel, transform=planted.small())
    assert err.value.code == "cancelled" and batches == [4]
    assert not multiprocessing.active_children()  # the DataLoader's workers were shut down


def test_half_precision_gives_the_same_predictions(lm, folder):
    """What runs in float16 on a GPU, run on the CPU: batches cast to the model's dtype, float32 softmax."""
    import copy

    from vggviz.photo.inference import LoadedModel

    half = LoadedModel(copy.deepcopy(lm.model).half(), lm.config, lm.weights, lm.classes, lm.preprocess,
                       lm.device, dtype=torch.float16)
    listing = archive.open_path(folder[0])
    full = evaluate(lm, listing, workers=0, transform=planted.small())
    halved = evaluate(half, listing, workers=0, transform=planted.small())
    assert [p.predicted for p in halved.predictions] == [p.predicted for p in full.predictions]
    assert [p.prob for p in halved.predictions] == pytest.approx([p.prob for p in full.predictions], abs=5e-3)


def test_json_and_csv_reports_follow_the_contract(lm, folder):
    ev = evaluate(lm, archive.open_path(folder[0]), workers=0, transform=planted.small())
    data = json.loads(report.to_json(ev))
    assert list(data) == ["images", "skipped", "classes", "accuracy", "top5_accuracy", "per_class", "confusion",
                          "mistakes"]
    assert set(data["per_class"][0]) == {"class", "precision", "recall", "f1", "support"}
    assert set(data["mistakes"][0]) == {"file", "true", "predicted", "prob"}
    assert data["per_class"][-1] == {"class": "irises", "precision": 0.0, "recall": None, "f1": 0.0, "support": 0}
    rows = report.to_csv(ev).splitlines()
    assert rows[0] == "file,true,predicted,prob,correct" and len(rows) == 1 + data["images"]
    import csv

    counts = np.zeros((len(data["classes"]),) * 2, int)
    for row in csv.DictReader(rows):
        counts[data["classes"].index(row["true"]), data["classes"].index(row["predicted"])] += 1
        assert row["correct"] == ("true" if row["true"] == row["predicted"] else "false")
    assert counts.tolist() == data["confusion"]


MEASURE = """
import json, sys, torch
from torch import nn
sys.path.insert(0, "tests")
import planted
from vggviz.evaluate import archive
from vggviz.evaluate.run import evaluate
from vggviz.photo.inference import LoadedModel
from vggviz.architecture import configs

n = int(sys.argv[1])
listing = archive.open_zip(planted.zip_of(planted.same_colour_photos(n), compression=0), "n.zip")
# A model that costs nothing, so that the 224x224 tensors (600 kB a photo) dominate what could pile up.
model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 3))
lm = LoadedModel(model, configs.resolve("A"), "test", planted.CLASSES[:3], "lecture", torch.device("cpu"))
workers = planted.WorkerPeak()
ev = evaluate(lm, listing, batch_size=8, workers=1, progress=workers)
assert len(ev.predictions) == n and workers.mb > 0
print(json.dumps([planted.peak_mb(), workers.mb]))
"""


def test_memory_is_flat_in_the_number_of_photos():
    """Peak memory (VmHWM) for 20 and 400 photos at 224×224 in a fresh process each, and of its decoding
    worker: keeping every tensor would add 380 × 0.6 MB = 230 MB (and so did glibc's heap, in some runs,
    before the engine released free memory after each batch). Measured here: + < 1 MB, worker + ~10 MB."""
    def peak(n):
        out = subprocess.run([sys.executable, "-c", MEASURE, str(n)], capture_output=True, text=True, timeout=300,
                             cwd=planted.ROOT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    (main20, worker20), (main400, worker400) = peak(20), peak(400)
    assert main400 - main20 < 40, (main20, main400)
    assert worker400 - worker20 < 40, (worker20, worker400)


# --- the command line -----------------------------------------------------------------------------

def vggviz(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(planted.ROOT))
    return subprocess.run([sys.executable, "-m", "vggviz", "evaluate", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd or planted.ROOT, env=env)


@pytest.fixture(scope="module")
def few(tmp_path_factory):
    """Ten photos (one per class plus the planted mistakes) as a folder and as a zip with a leading folder."""
    root = tmp_path_factory.mktemp("few")
    planted.write_folder(root / "val", per_class=1)
    files = {f"val/{p.relative_to(root / 'val').as_posix()}": p.read_bytes() for p in (root / "val").rglob("*.png")}
    (root / "val.zip").write_bytes(planted.zip_of(files))
    return root


def test_cli_writes_json_csv_and_text(checkpoint, few, tmp_path):
    ckpt, names = checkpoint
    model = ["--weights", ckpt, "--classes", names, "--device", "cpu"]
    out = vggviz(few / "val", *model, "--format", "json", "--workers", "0", "--out", tmp_path / "r.json")
    assert out.returncode == 0 and out.stdout == "", out.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["images"] == 10 and data["classes"] == planted.CLASSES and data["accuracy"] == 0.5
    assert [m["file"] for m in data["mistakes"]][:1] == ["roses/01.png"]  # the most confident: 96 %
    out = vggviz(few / "val.zip", *model, "--format", "csv", "--workers", "1", "--batch-size", "3")
    assert out.returncode == 0 and out.stderr == "", out.stderr
    rows = out.stdout.splitlines()
    assert rows[0] == "file,true,predicted,prob,correct" and len(rows) == 11
    assert "val/roses/01.png,roses,tulips," in out.stdout
    out = vggviz(few / "val.zip", *model)
    assert out.returncode == 0, out.stderr
    assert "Accuracy: 50.0% (5 of 10)" in out.stdout and "Top-5 accuracy: 90.0%" in out.stdout
    assert "val/roses/01.png: roses, predicted tulips" in out.stdout


@pytest.mark.parametrize("args, words", [
    (["missing"], "no such file or folder"),
    (["not.zip"], "not a readable zip archive"),
    (["weeds"], "match no class of the model: weeds"),
    (["flat"], "flat holds no folders, 1 photo (a.png) and 1 other file (README.txt)."),
    (["val", "--batch-size", "0"], "at least 1"),
    (["val", "--workers", "-1"], "at least 0"),
    (["val", "--format", "xml"], "invalid choice"),
])
def test_cli_bad_input_exits_2_with_one_line(checkpoint, few, args, words):
    (few / "not.zip").write_bytes(b"just text")
    (few / "weeds" / "tulips").mkdir(parents=True, exist_ok=True)
    (few / "weeds" / "weeds").mkdir(exist_ok=True)
    (few / "flat").mkdir(exist_ok=True)
    (few / "flat" / "a.png").write_bytes(planted.png(planted.COLOURS["daisy"]))
    (few / "flat" / "README.txt").write_text("photos of flowers")
    out = vggviz(*args, "--weights", checkpoint[0], "--classes", checkpoint[1], cwd=few)
    assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1, out.stderr
    assert words in out.stderr and "Traceback" not in out.stderr


# --- the page's computations ----------------------------------------------------------------------

def test_why_gives_gradcam_for_the_true_and_the_predicted_class(lm, checkpoint):
    """Both maps equal captum's LayerGradCam called here on torchvision's vgg11 with the same weights, at the
    last conv layer's ReLU, upsampled as captum does; a half-red, half-blue photo gets different maps."""
    from captum.attr import LayerAttribution, LayerGradCam
    from PIL import Image
    from torch import nn
    from torchvision import models, transforms

    from vggviz.evaluate import why

    image = Image.new("RGB", (64, 64), planted.COLOURS["roses"])
    image.paste(planted.COLOURS["tulips"], (32, 0, 64, 64))
    true, predicted = planted.CLASSES.index("roses"), planted.CLASSES.index("tulips")
    got = why.contrast(lm, image, "lecture", true, predicted)
    assert got.layer == "conv5_2" and got.seen.shape == (224, 224, 3)

    ref = models.vgg11()
    ref.classifier = nn.Sequential(nn.Linear(25088, planted.HIDDEN), nn.ReLU(), nn.Dropout(),
                                   nn.Linear(planted.HIDDEN, planted.HIDDEN), nn.ReLU(), nn.Dropout(),
                                   nn.Linear(planted.HIDDEN, len(planted.CLASSES)))
    ref.load_state_dict(torch.load(checkpoint[0], weights_only=True))
    ref.eval()
    for m in ref.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    x = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                            transforms.Normalize((0.5,) * 3, (0.5,) * 3)])(image)[None]
    for ours, target in ((got.true, true), (got.predicted, predicted)):
        cam = LayerGradCam(ref, ref.features[19]).attribute(x, target=target, relu_attributions=True)
        expected = LayerAttribution.interpolate(cam, (224, 224), "bilinear")[0, 0].detach().numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6 * float(np.abs(expected).max()))
    assert not np.allclose(got.true, got.predicted)


def test_confusion_chart_draws_counts_or_row_shares_with_names_escaped():
    from vggviz.evaluate import charts

    confusion = np.array([[3, 1, 0], [0, 0, 0], [2, 0, 2]])
    names = ["daisy", "<b>roses</b>", "tulips"]
    counts = charts.confusion_chart(confusion, names).data[0]
    assert counts.z.tolist() == confusion.tolist() and counts.y[1] == "&lt;b&gt;roses&lt;/b&gt;"
    shares = charts.confusion_chart(confusion, names, normalised=True)
    z = np.array(shares.data[0].z, dtype=float)
    # exact: counts over 4 are binary fractions
    assert z[0].tolist() == [0.75, 0.25, 0] and np.isnan(z[1]).all() and z[2].tolist() == [0.5, 0, 0.5]
    assert shares.data[0].customdata.tolist() == confusion.tolist()  # hover keeps the counts
    with i18n.use("zh"):
        assert charts.confusion_chart(confusion, names).layout.yaxis.title.text == "真实类别（文件夹）"
