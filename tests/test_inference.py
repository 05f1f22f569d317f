"""Predictions and feature maps against independent references: torchvision's own VGG and
transforms, a lecture-style model written here from the lecture's code, and a plain forward pass."""

import json

import numpy as np
import pytest
import torch
from torch import nn
from torchvision import models, transforms

from helpers import install_imagenet_file, photo, torchvision_state_dict
from vggviz import i18n
from vggviz.photo import extraction, inference
from vggviz.photo.checkpoints import CheckpointError, infer_architecture, read_checkpoint, read_class_names


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


def test_imagenet_predictions_equal_torchvision(torch_home):
    install_imagenet_file(torch_home, "vgg11", seed=5)
    lm = inference.load_model("vgg11", "imagenet", check_hash=False)
    weights = models.VGG11_Weights.IMAGENET1K_V1
    reference = models.vgg11()
    reference.load_state_dict(torchvision_state_dict("vgg11", seed=5))
    reference.eval()
    for seed in (1, 2):
        image = photo(seed)
        with torch.inference_mode():
            expected = torch.softmax(reference(weights.transforms()(image).unsqueeze(0)), 1)[0].numpy()
        result = inference.run(lm, image)
        np.testing.assert_allclose(result.probs, expected, rtol=1e-4, atol=1e-6)
        top = result.top(lm.classes, 5)
        assert [t["index"] for t in top] == list(np.argsort(-expected)[:5])
        assert top[0]["label"] == weights.meta["categories"][top[0]["index"]]


# The lecture's model.py (WZMIAOMIAO/deep-learning-for-image-processing, Test3_vggnet), rewritten
# here from REFERENCE.md §4 as the independent reference for lecture checkpoints.
LECTURE_CFGS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]}


class LectureVGG(nn.Module):
    def __init__(self, cfg, num_classes, old_head):
        super().__init__()
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(True)]
                c = v
        self.features = nn.Sequential(*layers)
        if old_head:  # before 2021-03-27: Dropout, Linear(25088, 2048), ReLU, Dropout, Linear, ReLU, Linear
            self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(25088, 2048), nn.ReLU(True), nn.Dropout(0.5),
                                            nn.Linear(2048, 2048), nn.ReLU(True), nn.Linear(2048, num_classes))
        else:
            self.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(True), nn.Dropout(0.5),
                                            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5),
                                            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


LECTURE_PREPROCESS = transforms.Compose([
    transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
FLOWERS = {"0": "daisy", "1": "dandelion", "2": "roses", "3": "sunflowers", "4": "tulips"}


@pytest.mark.parametrize("old_head", [False, True])
def test_lecture_checkpoints_load_and_predict_like_their_own_model(tmp_path, old_head):
    torch.manual_seed(11)
    reference = LectureVGG(LECTURE_CFGS["vgg11"], 5, old_head).eval()
    with torch.no_grad():
        for m in reference.classifier:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.05)
    ckpt = tmp_path / "vgg16Net.pth"
    torch.save(reference.state_dict(), ckpt)
    classes = tmp_path / "class_indices.json"
    classes.write_text(json.dumps(FLOWERS))

    lm = inference.load_model("D", "checkpoint", checkpoint=ckpt, classes=classes)
    assert lm.config.name == "A" and lm.preprocess == "lecture" and lm.classes == list(FLOWERS.values())
    assert lm.model.head == ("lecture_v1" if old_head else "torchvision")
    image = photo(3)
    with torch.inference_mode():
        expected = torch.softmax(reference(LECTURE_PREPROCESS(image).unsqueeze(0)), 1)[0].numpy()
    result = inference.run(lm, image)
    np.testing.assert_allclose(result.probs, expected, rtol=1e-4, atol=1e-6)
    assert result.top(lm.classes, 1)[0]["label"] == FLOWERS[str(int(expected.argmax()))]


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model", "module"])
def test_wrapped_and_dataparallel_checkpoints(tmp_path, wrap):
    sd = torchvision_state_dict("vgg11_bn")
    obj = {"plain": sd, "state_dict": {"state_dict": sd, "epoch": 3}, "model": {"model": sd},
           "module": {f"module.{k}": v for k, v in sd.items()}}[wrap]
    torch.save(obj, tmp_path / "c.pth")
    arch = infer_architecture(read_checkpoint(tmp_path / "c.pth"))
    assert (arch.config.name, arch.head, arch.num_classes) == ("A-BN", "torchvision", 1000)
    assert not arch.lecture


def test_mismatched_checkpoint_lists_what_differs(tmp_path):
    sd = torchvision_state_dict("vgg11")
    sd["features.3.weight"] = torch.zeros(128, 64, 5, 5)
    del sd["features.0.bias"]
    sd["extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as err:
        infer_architecture(sd, "bad.pth")
    text = str(err.value)
    assert "closest is A" in text and "missing features.0.bias" in text and "unexpected extra.weight" in text
    assert "features.3.weight is [128, 64, 5, 5], expected [128, 64, 3, 3]" in text


def test_class_names_must_fit_the_checkpoint():
    assert read_class_names(json.dumps(FLOWERS).encode(), 5)[2] == "roses"
    assert read_class_names(json.dumps(["a", "b"]).encode(), 2) == ["a", "b"]
    for bad in (b"{", json.dumps({"0": "a"}).encode(), json.dumps({"x": "a"}).encode(), b"[1, 2]"):
        with pytest.raises(CheckpointError):
            read_class_names(bad, 2)


@pytest.mark.parametrize("name", ["A", "B-BN"])
def test_feature_maps_equal_a_plain_forward(name):
    lm = inference.load_model(name, "random")
    image = photo(4)
    result = inference.run(lm, image)
    x = inference.prepare(image, "imagenet").unsqueeze(0)
    expected, last_conv = {}, None
    with torch.inference_mode():
        for spec, module in zip(lm.model.specs, lm.model.features):
            x = module(x)
            if spec.type == "conv":
                last_conv = spec.name
                expected[last_conv] = x[0].numpy().copy()
            elif spec.type == "bn":
                expected[last_conv] = x[0].numpy().copy()
        logits = lm.model.classifier(torch.flatten(lm.model.avgpool(x), 1))
    assert list(result.features) == list(expected)
    for layer, maps in expected.items():  # stored in half precision: within float16's rounding (2**-11)
        assert result.features[layer].dtype == np.float16
        np.testing.assert_allclose(result.features[layer], maps, rtol=2**-10, atol=1e-5)
    np.testing.assert_allclose(result.probs, torch.softmax(logits, 1)[0].numpy(), rtol=1e-5, atol=1e-7)
    assert not lm.model._forward_hooks and not any(m._forward_hooks for m in lm.model.modules())


def test_layers_beyond_half_precision_range_stay_float32():
    lm = inference.load_model("A", "random")
    nodes = extraction.map_nodes(lm.model)
    last = list(nodes)[-1]
    with torch.no_grad():
        lm.model.get_submodule(nodes[last]).weight.mul_(1e8)  # only the last conv passes float16's 65504
    image = photo(4)
    result = inference.run(lm, image)
    x = inference.prepare(image, "imagenet").unsqueeze(0)
    with torch.inference_mode():
        for spec, module in zip(lm.model.specs, lm.model.features):
            x = module(x)
            if spec.name == last and spec.type == "conv":
                break
    assert np.abs(x.numpy()).max() > np.finfo(np.float16).max
    assert result.features[last].dtype == np.float32 and np.isfinite(result.features[last]).all()
    np.testing.assert_allclose(result.features[last], x[0].numpy(), rtol=1e-5, atol=1e-3)
    assert all(maps.dtype == np.float16 for name, maps in result.features.items() if name != last)


@pytest.mark.parametrize("name", ["A-LRN", "B-BN", "D"])
def test_compact_graph_equals_torchvisions_extractor(name):
    lm = inference.load_model(name, "random")
    plain, compact = lm.extractor, lm.compact_extractor
    x = inference.prepare(photo(6), "imagenet").unsqueeze(0)
    with torch.inference_mode():
        expected, got = plain(x), compact(x)
    assert torch.equal(got["logits"], expected["logits"])  # in-place ReLUs change no number
    for layer, maps in expected.items():
        if layer != "logits":
            stored, lo, hi = got[layer]
            assert stored.dtype == torch.float16 and torch.equal(stored, maps.half())  # the same conv output, cast
            assert lo == maps.min() and hi == maps.max()  # min and max pick a value: no rounding
    assert extraction.overflowing(got) == set()
    relus = [n for n in compact.graph.nodes if n.target is torch.relu_]
    assert len(relus) == len(expected) - 1  # one per map: each ReLU after a map now rectifies in place
    assert all(not m.inplace for m in lm.model.modules() if isinstance(m, nn.ReLU))  # the model is untouched


def test_model_view_undoes_the_normalisation():
    lm = inference.load_model("A", "random")
    image = photo(5, (224, 224))
    result = inference.run(lm, image, "lecture", features=False)
    assert not result.features
    np.testing.assert_allclose(inference.model_view(result).astype(int), np.asarray(image).astype(int), atol=1)


def test_untrained_weights_are_labelled_and_cpu_half_falls_back():
    lm = inference.load_model("C", "random", device="cuda" if not torch.cuda.is_available() else "cpu", half=True)
    assert not lm.trained and lm.dtype == torch.float32 and lm.device.type == "cpu"
    assert all(isinstance(n, i18n.Text) for n in lm.notices)  # made in each reader's language when shown
    assert any("CPU" in str(n) for n in lm.notices)
    with i18n.use("zh"):
        assert any("CPU 上" in str(n) for n in lm.notices)
    assert str(lm.describe()) == "C with untrained weights on CPU"
    with i18n.use("zh"):
        assert str(lm.describe()) == "C，未训练的权重，运行于 CPU"


@pytest.mark.parametrize("classes", [None, ["a", "b"]])
def test_a_torchvision_checkpoint_without_classes_gets_imagenets_names_and_preprocessing(tmp_path, classes):
    """A vgg11 state_dict saved as is (1000 classes, torchvision's head): ImageNet's categories, not "class 0"."""
    sd = torchvision_state_dict("vgg11", seed=2)
    if classes:  # a 2-class head in torchvision's layout keeps numbered names without a class file
        sd["classifier.6.weight"], sd["classifier.6.bias"] = sd["classifier.6.weight"][:2], sd["classifier.6.bias"][:2]
    torch.save(sd, tmp_path / "mine.pth")
    lm = inference.load_model("D", "checkpoint", checkpoint=tmp_path / "mine.pth")
    if classes is None:
        assert lm.classes == models.VGG11_Weights.IMAGENET1K_V1.meta["categories"]
        assert lm.preprocess == "imagenet" and "mine.pth" in str(lm.notices[0])
    else:
        assert lm.classes == ["class 0", "class 1"] and lm.preprocess == "lecture" and not lm.notices


def test_prepare_equals_torchvisions_transforms_and_starts_no_thread():
    """The photo as the model gets it: torchvision's ImageNet preset and the lecture's predict.py transforms
    (REFERENCE.md §4), called directly; and no OpenMP team started for the calling thread (each Streamlit script
    run is a new thread, and a class's preprocessing would spin threads beside the forward pass)."""
    import os
    import threading

    from torchvision import models, transforms

    references = {"imagenet": models.VGG16_Weights.IMAGENET1K_V1.transforms(),
                  "lecture": transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                                                 transforms.Normalize((0.5,) * 3, (0.5,) * 3)])}
    for kind, reference in references.items():
        for image in (photo(1), photo(2, (640, 480)), photo(3, (200, 500))):
            ours = inference.prepare(image, kind)
            assert ours.shape == (3, 224, 224) and ours.dtype == torch.float32
            # Tolerance: the same float32 operations in NumPy and torch; a vectorised path may round differently.
            torch.testing.assert_close(ours, reference(image), rtol=0, atol=1e-6)
    with pytest.raises(inference.ModelError):
        inference.prepare(photo(1), "nonsense")

    def threads_added_by(work) -> int:
        """Threads of this process that appeared during ``work`` (by id: other tests' threads may end meanwhile,
        so a count could go down)."""
        added = []

        def run():
            before = set(os.listdir("/proc/self/task"))
            work()
            added.append(len(set(os.listdir("/proc/self/task")) - before))
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return added[0]
    if not os.path.isdir("/proc/self/task") or torch.get_num_threads() < 2 or \
            threads_added_by(lambda: references["imagenet"](photo(1))) == 0:
        pytest.skip("torch starts no thread of its own here: nothing to avoid")
    assert threads_added_by(lambda: inference.prepare(photo(1), "imagenet")) == 0
