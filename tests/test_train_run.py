"""A whole training run against independent references (issue 23): a generated set of separable coloured shapes,
vgg11 at 64×64 to keep it fast (the points do not need vgg16), "ImageNet" weights generated as the weight tests
do (torchvision's own initialisation: the real file cannot be downloaded here)."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torchvision import datasets, models

import shapes
from vggviz.evaluate import archive
from vggviz.evaluate.run import evaluate
from vggviz.photo import images, weights as wts
from vggviz.photo.checkpoints import infer_architecture, read_checkpoint
from vggviz.photo.inference import load_model
from vggviz.photo.server_checkpoints import listing as server_listing
from vggviz.train import checkpoint, network, run, transforms
from vggviz.train.data import open_training_data
from vggviz.train.errors import Cancelled, TrainError
from vggviz.train.progress import BatchProgress, EpochRecord
from vggviz.train.recipe import Recipe

# Head-only on stand-in features: torchvision's random initialisation gives features ~30× smaller than real
# ImageNet ones, so the head needs a larger step than the course's 0.01 to move within a few epochs. One step
# per epoch (the whole training split in a batch) keeps the 120 M-parameter head's cost to a few steps.
RECIPE = Recipe(config="vgg11", init="imagenet", train="head", epochs=7, batch=64, optimizer="sgd", lr=0.1,
                momentum=0.9, schedule="constant", size=64, augment=False, seed=0)
# The same run from Xavier's weights, for the tests on the small head (conftest's small_head: ImageNet's file
# has torchvision's 4096-wide head), whose point is not the starting weights.
XAVIER = Recipe(**{**RECIPE.record(), "init": "xavier"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    before = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(root / "torch")
    try:
        torch.manual_seed(0)
        state = models.vgg11().state_dict()
        path = wts.cached_path(wts.imagenet_weights("vgg11"))
        path.parent.mkdir(parents=True)
        torch.save(state, path)
        folder = shapes.make_folder(root / "shapes", per_class=20)
        data = open_training_data(folder, val_share=0.25, seed=0)
        reports = []
        out = root / "out" / "shapes.pth"
        result = run.train(data, RECIPE, out, report=reports.append, check_hash=False)
        yield SimpleNamespace(root=root, folder=folder, data=data, state=state, result=result, reports=reports,
                              out=out)
    finally:
        if before is None:
            os.environ.pop("TORCH_HOME", None)
        else:
            os.environ["TORCH_HOME"] = before


def test_head_only_learns_separable_shapes_and_the_best_epoch_is_kept(trained):
    result = trained.result
    assert result.classes == sorted(shapes.CLASSES) and (result.train_photos, result.val_photos) == (45, 15)
    accs = [e.val_acc for e in result.epochs]
    assert result.best_val_acc >= 0.95, accs
    assert result.best_epoch == accs.index(max(accs)) + 1 and result.best_val_acc == max(accs)
    assert result.out == str(trained.out)


def test_the_same_seed_gives_the_same_curve(trained):
    # A constant schedule: a 3-epoch run is the first three epochs of the fixture's 7.
    torch.manual_seed(123)
    expected_next = torch.rand(4, generator=torch.Generator().manual_seed(123))
    again = run.train(trained.data, Recipe(**{**RECIPE.record(), "epochs": 3}), check_hash=False)
    assert torch.equal(torch.rand(4), expected_next)  # the caller's random state is left as it was
    for a, b in zip(again.epochs, trained.result.epochs[:3]):
        # The same operations in the same order on the same machine; 1e-6 allows a thread split that differs.
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert getattr(a, key) == pytest.approx(getattr(b, key), rel=1e-6, abs=1e-6), key
        assert a.confusion == b.confusion


def test_progress_reports_every_phase_and_each_epochs_figures_are_evaluates(trained):
    batches = [p for p in trained.reports if isinstance(p, BatchProgress)]
    epochs = [p for p in trained.reports if isinstance(p, EpochRecord)]
    assert [p.phase for p in batches][:1] == ["features"] and {p.phase for p in batches} == {"features", "train", "val"}
    assert [e.epoch for e in epochs] == list(range(1, 8)) and epochs == trained.result.epochs
    val_counts = [c[1] for c in trained.data.counts()]
    for e in epochs:
        assert [sum(row) for row in e.confusion] == val_counts
        assert e.val_acc == pytest.approx(sum(e.confusion[i][i] for i in range(3)) / 15, abs=1e-12)
        assert e.per_class_acc == pytest.approx([e.confusion[i][i] / val_counts[i] for i in range(3)], abs=1e-12)
        assert e.lr == pytest.approx(0.1, abs=1e-12)


class CourseVGG(nn.Module):
    """The course's model.py layout: features + classifier, no average pool (input must be 224×224)."""

    def __init__(self, features: nn.Sequential, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), start_dim=1))


def course_features(cfg: list) -> nn.Sequential:
    layers, channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(True)]
            channels = v
    return nn.Sequential(*layers)


def test_the_checkpoint_loads_into_torchvision_and_the_courses_model_with_equal_logits(trained):
    state = torch.load(trained.out, weights_only=True)
    tv = models.vgg11(num_classes=3)
    tv.load_state_dict(state, strict=True)
    course = CourseVGG(course_features([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]), 3)
    course.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        # The same layers in the same order (the average pool is the identity at 7×7): float rounding only.
        torch.testing.assert_close(course.eval()(x), tv.eval()(x), rtol=1e-4, atol=1e-5)
    for key, value in trained.state.items():  # head-only: the features are the starting weights, bit for bit
        if key.startswith("features."):
            assert torch.equal(state[key], value), key


def test_class_indices_are_imagefolders_inverted_as_the_course_writes_them(trained):
    class_to_idx = datasets.ImageFolder(str(trained.folder)).class_to_idx
    cla_dict = dict((val, key) for key, val in class_to_idx.items())
    assert checkpoint.classes_path(trained.out).read_text() == json.dumps(cla_dict, indent=4)
    record = json.loads(checkpoint.record_path(trained.out).read_text())
    assert record["recipe"] == RECIPE.record() and record["best_epoch"] == trained.result.best_epoch
    assert len(record["epochs"]) == 7 and set(record["versions"]) >= {"torch", "torchvision", "vggviz"}
    assert record["preprocess"] == "lecture"


def test_the_app_opens_the_checkpoint_and_evaluate_on_val_gives_the_best_val_accuracy(trained, tmp_path):
    found = server_listing(trained.out.parent)
    assert [(c.name, c.classes.name) for c in found] == [("shapes.pth", "shapes.json")]
    arch = infer_architecture(read_checkpoint(trained.out))
    assert (arch.config.name, arch.num_classes, arch.lecture) == ("A", 3, True)
    lm = load_model("vgg11", "checkpoint", checkpoint=trained.out, classes=found[0].classes, device="cpu")
    assert lm.classes == sorted(shapes.CLASSES) and lm.preprocess == "lecture"
    val = tmp_path / "val"
    for key, label in trained.data.val:
        target = val / trained.data.classes[label] / Path(key).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained.folder / key, target)
    ev = evaluate(lm, archive.open_path(val), workers=0, transform=transforms.val_transform("lecture", RECIPE.size))
    assert ev.metrics.accuracy == pytest.approx(trained.result.best_val_acc, abs=1e-12)  # 15 photos: a count ratio


def test_cached_frozen_features_equal_a_fresh_forward(trained, small_head):
    recipe = Recipe(**{**XAVIER.record(), "augment": True, "views": 2})
    model = network.build(recipe, 3)
    s = network.setup(model, recipe)
    tf = transforms.train_transform("lecture", recipe.size, True)
    items = trained.data.train[:5]
    clock = run._Clock(1, 5)
    cached, labels, files, skipped = run.cache_features(s, trained.data, items, tf, 2, 9, 0, torch.device("cpu"), 0,
                                                        clock, lambda p: None, lambda: False)
    assert cached.shape == (5, 2, 512 * 7 * 7) and labels.tolist() == [label for _, label in items] and not skipped
    for i, (key, _label) in enumerate(items):
        image = images.decode_image(trained.data.reader.read(key), key)
        for v in range(2):
            x = transforms.seeded(tf, image, 9, 0, v, i).unsqueeze(0)
            with torch.no_grad():
                fresh = torch.flatten(model.avgpool(model.features(x)), 1)[0]
            # A batch of 10 against a batch of 1: torch may block the convolutions differently (rounding only).
            torch.testing.assert_close(cached[i, v], fresh, rtol=1e-4, atol=1e-5)
    assert not torch.equal(cached[:, 0], cached[:, 1])  # two different augmented views


def test_cancel_stops_between_batches_and_writes_nothing(trained, tmp_path, small_head):
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(Cancelled):
        run.train(trained.data, XAVIER, tmp_path / "c.pth", should_stop=should_stop)
    assert list(tmp_path.iterdir()) == []


def test_a_cancel_after_the_last_batch_still_writes_nothing(trained, tmp_path, small_head):
    """The cancel arrives once the last epoch has ended (after the last batch's check): the run stops before
    writing, rather than saving a checkpoint for a job the page then calls cancelled."""
    ended = []
    with pytest.raises(Cancelled):
        run.train(trained.data, Recipe(**{**XAVIER.record(), "epochs": 1}), tmp_path / "c.pth",
                  report=lambda p: ended.append(p) if isinstance(p, EpochRecord) else None,
                  should_stop=lambda: bool(ended))
    assert len(ended) == 1 and list(tmp_path.iterdir()) == []


def test_a_rename_that_fails_takes_back_the_files_already_in_place(tmp_path, monkeypatch):
    renamed = []

    def replace(src, dst):
        if renamed:  # the second of three
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        renamed.append(dst)
        os.rename(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", replace)
    with pytest.raises(TrainError, match="nothing was saved"):
        checkpoint.write(tmp_path / "m.pth", {"w": torch.zeros(3)}, ["a", "b"], {"x": 1})
    assert len(renamed) == 1 and list(tmp_path.iterdir()) == []


def test_a_cancel_while_the_files_are_written_leaves_nothing(tmp_path):
    with pytest.raises(Cancelled):
        checkpoint.write(tmp_path / "m.pth", {"w": torch.zeros(3)}, ["a", "b"], {"x": 1}, should_stop=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_a_class_whose_photos_all_fail_to_decode_is_named(tmp_path, small_head):
    folder = shapes.make_folder(tmp_path / "shapes", per_class=3)
    for f in (folder / "square").iterdir():
        f.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    data = open_training_data(folder, seed=0)
    recipe = Recipe(config="vgg11", init="xavier", train="head", epochs=1, size=32, augment=False)
    with pytest.raises(TrainError, match="No photo of the class square could be read"):
        run.train(data, recipe, tmp_path / "out" / "m.pth")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_an_existing_checkpoint_is_not_overwritten_unless_asked(trained, tmp_path):
    (tmp_path / "m.pth").write_bytes(b"mine")
    with pytest.raises(TrainError, match="already exists"):
        run.train(trained.data, RECIPE, tmp_path / "m.pth", check_hash=False)
    assert (tmp_path / "m.pth").read_bytes() == b"mine"


@pytest.mark.parametrize("name", ["class_indices.pth", "m.train.pt"])
def test_a_name_whose_class_file_is_anothers_is_refused(tmp_path, name):
    """class_indices.pth would write the folder's shared class_indices.json (the course's checkpoints' class
    names); m.train.pt would write m.train.json, the record of m.pt."""
    (tmp_path / "class_indices.json").write_text('{"0": "daisy"}')
    with pytest.raises(TrainError, match="class_indices.json"):
        checkpoint.write(tmp_path / name, {"w": torch.zeros(3)}, ["a", "b"], {"x": 1}, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["class_indices.json"]
    assert (tmp_path / "class_indices.json").read_text() == '{"0": "daisy"}'


def test_a_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint.os, "fsync", full)
    with pytest.raises(TrainError, match="No space left on device"):
        checkpoint.write(tmp_path / "m.pth", {"w": torch.zeros(3)}, ["a", "b"], {"x": 1})
    assert list(tmp_path.iterdir()) == []


def test_batch_norm_weights_for_a_plain_configuration_are_refused(trained):
    torch.manual_seed(0)
    with pytest.raises(TrainError, match="BN weights; the recipe's configuration is A"):
        network.build(RECIPE, 3, imagenet_state=models.vgg11_bn().state_dict())


def test_only_unreadable_photos_is_one_clear_error_and_nothing_is_written(trained, tmp_path):
    for kind in ("a", "b"):
        (tmp_path / "bad" / kind).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "bad" / kind / f"{i}.png").write_bytes(b"not a png")
    data = open_training_data(tmp_path / "bad")
    with pytest.raises(TrainError, match="no photo that could be read"):
        run.train(data, RECIPE, tmp_path / "out" / "m.pth", check_hash=False)
    assert not (tmp_path / "out" / "m.pth").exists()


def test_the_rates_count_photos_epochs_and_what_trains(trained, small_head):
    head = Recipe(**{**RECIPE.record(), "size": 32})
    every = Recipe(**{**head.record(), "train": "all"})
    rates_head, rates_all = run.measure_rates(head, 2), run.measure_rates(every, 2)
    n_train, n_val = len(trained.data.train), len(trained.data.val)
    assert 0 < rates_head.seconds(head, n_train, n_val) < rates_all.seconds(every, n_train, n_val)
    # the head alone skips the features' backward pass every epoch; more epochs and more photos cost more
    longer = Recipe(**{**head.record(), "epochs": head.epochs + 5})
    assert rates_head.seconds(longer, n_train, n_val) > rates_head.seconds(head, n_train, n_val)
    assert rates_head.seconds(head, 2 * n_train, n_val) > rates_head.seconds(head, n_train, n_val)


def test_a_run_measures_its_own_rates_and_they_account_for_its_epochs(trained):
    """The rates a run reports are what the next estimate of that kind uses: per photo and phase, they give
    back the run's epochs' time (loose: an epoch's clock also counts the few lines between its phases)."""
    rates, result = trained.result.rates, trained.result
    assert rates.cache > 0 and rates.train > 0 and rates.val > 0
    epochs = sum(e.seconds for e in result.epochs)
    from_rates = RECIPE.epochs * (rates.train * result.train_photos + rates.val * result.val_photos)
    assert 0.8 * epochs <= from_rates <= 1.01 * epochs


def test_advice_says_why_a_recipe_will_not_learn_or_will_be_slow():
    from vggviz.train.recipe import PRESETS, advice, default_lr, with_defaults

    assert advice(PRESETS["fine-tune"]) == []
    assert any("Adam" in str(a) for a in advice(Recipe(init="xavier", train="head", optimizer="adam", lr=1e-4)))
    assert any("from scratch" in str(a) for a in advice(PRESETS["course"]))
    assert default_lr("adam", "xavier", "head") == 1e-3 and default_lr("adam", "xavier", "all") == 1e-4
    assert with_defaults(optimizer="adam", init="xavier").lr == 1e-3 and with_defaults(lr=0.5).lr == 0.5


# torchvision's vgg11_bn: the fourth pool is features[21]; the last conv block starts at features[22].
VGG11_BN_LAST_BLOCK = 22


def test_fine_tuning_the_last_block_leaves_the_frozen_layers_and_skips_an_unreadable_photo(tmp_path, small_head):
    tv = models.vgg.make_layers(models.vgg.cfgs["A"], batch_norm=True)  # torchvision's vgg11_bn features
    assert isinstance(tv[VGG11_BN_LAST_BLOCK - 1], nn.MaxPool2d) and isinstance(tv[VGG11_BN_LAST_BLOCK], nn.Conv2d)
    assert sum(isinstance(m, nn.MaxPool2d) for m in tv[VGG11_BN_LAST_BLOCK:]) == 1
    folder = shapes.make_folder(tmp_path / "shapes", per_class=4)
    (folder / "circle" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    data = open_training_data(folder, val_share=0.25, seed=0)
    # Batch norm: its running statistics in the frozen part would move if that part ran in train mode.
    recipe = Recipe(config="vgg11_bn", init="xavier", train="last-block", epochs=2, batch=4, optimizer="sgd",
                    lr=0.01, schedule="cosine", final_lr_fraction=0.01, size=32, augment=True, seed=1)
    reports = []
    result = run.train(data, recipe, tmp_path / "m.pth", report=reports.append)
    assert len(result.epochs) == 2 and {p.phase for p in reports if isinstance(p, BatchProgress)} == {"train", "val"}
    assert result.train_photos + result.val_photos == 12 and len(result.skipped) == 1
    assert "broken.png" in result.skipped[0]
    # The course's cosine, stepped once an epoch (not once a batch): lr × lf(epoch - 1) for every batch of an epoch.
    course = [0.01 * (((1 + math.cos(x * math.pi / 2)) / 2) * (1 - 0.01) + 0.01) for x in range(2)]
    assert [e.lr for e in result.epochs] == pytest.approx(course, rel=1e-12)  # the same closed form
    train_batches = [p for p in reports if isinstance(p, BatchProgress) and p.phase == "train"]
    assert len(train_batches) >= 4 and all(p.lr == pytest.approx(course[p.epoch - 1], rel=1e-12) for p in train_batches)
    start = network.build(recipe, 3).state_dict()
    saved = torch.load(tmp_path / "m.pth", weights_only=True)
    frozen = [k for k in saved if k.startswith("features.") and int(k.split(".")[1]) < VGG11_BN_LAST_BLOCK]
    assert any(k.endswith("running_mean") for k in frozen)
    for key in frozen:
        assert torch.equal(saved[key], start[key]), key  # frozen, batch-norm statistics included: exact
    assert not torch.equal(saved[f"features.{VGG11_BN_LAST_BLOCK + 1}.running_mean"],
                           start[f"features.{VGG11_BN_LAST_BLOCK + 1}.running_mean"])  # the last block trained
    assert not torch.equal(saved["classifier.6.weight"], start["classifier.6.weight"])


def test_head_only_with_batch_norm_leaves_every_feature_and_its_statistics_as_they_were(tmp_path, small_head):
    """The features are cached and then frozen: the saved features.* (batch norm's running statistics and
    its counter included) are the starting ones bit for bit."""
    data = open_training_data(shapes.make_folder(tmp_path / "shapes", per_class=3), val_share=0.34, seed=0)
    recipe = Recipe(config="vgg11_bn", init="xavier", train="head", epochs=2, batch=4, optimizer="sgd", lr=0.01,
                    size=32, augment=True, views=2, seed=2)
    run.train(data, recipe, tmp_path / "m.pth")
    start = network.build(recipe, 3).state_dict()
    saved = torch.load(tmp_path / "m.pth", weights_only=True)
    features = [k for k in saved if k.startswith("features.")]
    assert any(k.endswith("running_mean") for k in features) and any(k.endswith("num_batches_tracked")
                                                                      for k in features)
    for key in features:
        assert torch.equal(saved[key], start[key]), key
    assert not torch.equal(saved["classifier.6.weight"], start["classifier.6.weight"])
