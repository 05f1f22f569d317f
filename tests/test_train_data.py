"""The photos a training run reads (issue 23): ImageFolder's class numbering, the course's train/ + val/ layout
used as it is, a seeded split otherwise, the same hostile-safe reader as Evaluate, and bad data refused."""

from __future__ import annotations

import os
import zipfile
import io

import pytest
from torchvision import datasets

import shapes
from vggviz.evaluate.errors import EvaluationError
from vggviz.train import data as train_data
from vggviz.train.data import open_training_data
from vggviz.train.errors import TrainError


def test_classes_are_numbered_as_imagefolder_numbers_them_and_the_split_is_seeded(tmp_path):
    root = shapes.make_folder(tmp_path / "shapes", per_class=10)
    (root / "Zebra").mkdir()  # upper case sorts first, as ImageFolder's sorted() does
    (root / "Zebra" / "a.png").write_bytes((root / "circle" / "000.png").read_bytes())
    (root / "Zebra" / "b.png").write_bytes((root / "circle" / "001.png").read_bytes())
    data = open_training_data(root, val_share=0.2, seed=3)
    assert data.class_to_idx == datasets.ImageFolder(str(root)).class_to_idx
    assert data.split == "seeded"
    assert data.counts() == [(1, 1), (8, 2), (8, 2), (8, 2)]  # each class keeps at least one of each
    again = open_training_data(root, val_share=0.2, seed=3)
    assert (again.train, again.val) == (data.train, data.val)
    other = open_training_data(root, val_share=0.2, seed=4)
    assert other.val != data.val
    assert not {k for k, _ in data.train} & {k for k, _ in data.val}
    assert any("Zebra" in str(w) and "only 1" in str(w) for w in data.warnings)


def test_the_split_holds_out_as_many_photos_as_the_courses_split_data(tmp_path):
    """split_data.py: ``eval_index = random.sample(images, k=int(num * split_rate))`` per class, seeded. 15 and
    19 photos at 10 % hold out 1 each (rounding would hold out 2)."""
    import random

    root = tmp_path / "photos"
    shapes.make_folder(root, per_class=19)
    for f in sorted((root / "square").iterdir())[15:]:
        f.unlink()
    data = open_training_data(root, val_share=0.1, seed=5)
    assert [val for _train, val in data.counts()] == [int(19 * 0.1), int(15 * 0.1), int(19 * 0.1)] == [1, 1, 1]
    assert [val for _train, val in open_training_data(root, val_share=0.3).counts()] == [5, 4, 5]  # int(5.7), int(4.5)
    rng = random.Random(5)  # the course's per-class sample, classes and files in ImageFolder's sorted order
    expected = set()
    for label, cls in enumerate(sorted(shapes.CLASSES)):
        files = sorted(f"{cls}/{p.name}" for p in (root / cls).iterdir())
        expected |= {(f, label) for f in rng.sample(files, int(len(files) * 0.1))}
    assert {("/".join(k.split("/")[-2:]), label) for k, label in data.val} == expected


def test_the_courses_train_and_val_folders_are_used_as_they_are(tmp_path):
    root = tmp_path / "flower_data"
    shapes.make_folder(root, per_class=4, prefix="train")
    shapes.make_folder(root, per_class=2, seed=1, prefix="val")
    (root / "train" / "README.txt").write_text("not a photo")
    data = open_training_data(tmp_path)  # through the single leading folder, as Evaluate's reader does
    assert data.split == "folders" and data.classes == sorted(shapes.CLASSES)
    assert data.counts() == [(4, 2)] * 3
    assert all(k.split("/")[-3] == "train" for k, _ in data.train)
    assert all(k.split("/")[-3] == "val" for k, _ in data.val)
    assert data.class_to_idx == datasets.ImageFolder(str(root / "train")).class_to_idx


def test_a_test_folder_beside_train_and_val_is_not_taken_for_a_class(tmp_path):
    """flower_data/{train,val,test}/<class>/: the classes are the flowers, not the three splits (as the course's
    ImageFolder(train/), ImageFolder(val/)); test/ is said to be left unread."""
    root = tmp_path / "flower_data"
    shapes.make_folder(root, per_class=3, prefix="train")
    shapes.make_folder(root, per_class=1, seed=1, prefix="val")
    shapes.make_folder(root, per_class=2, seed=2, prefix="test")
    data = open_training_data(root)
    assert data.split == "folders" and data.classes == sorted(shapes.CLASSES) and data.counts() == [(3, 1)] * 3
    assert data.class_to_idx == datasets.ImageFolder(str(root / "train")).class_to_idx
    assert any("test/ is not read" in str(w) for w in data.warnings)


def test_a_zip_is_read_in_memory_like_a_folder(tmp_path):
    data = open_training_data(shapes.make_zip(per_class=5), "shapes.zip", val_share=0.2)
    assert data.classes == sorted(shapes.CLASSES) and data.counts() == [(4, 1)] * 3
    assert data.reader.read(data.train[0][0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_archives_are_refused_by_evaluates_reader():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil/a.png", b"x")
        zf.writestr("b/b.png", b"x")
    with pytest.raises(EvaluationError, match="outside the archive"):
        open_training_data(buf.getvalue(), "evil.zip")


def test_a_zip_bomb_and_bytes_that_are_no_zip_are_refused_with_one_sentence():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/big.png", bytes(20 * 2**20))  # 20 MB of zeros in a few kB
        zf.writestr("b/b.png", b"x")
    with pytest.raises(EvaluationError, match="big.png"):
        open_training_data(buf.getvalue(), "bomb.zip")
    with pytest.raises(EvaluationError, match="not.zip"):
        open_training_data(b"PK\x03\x04 but nothing more", "not.zip")


def test_one_class_and_an_empty_class_are_refused_with_one_sentence(tmp_path):
    one = shapes.make_folder(tmp_path / "one", per_class=2)
    for extra in ("square", "triangle"):
        for f in (one / extra).iterdir():
            f.unlink()
        (one / extra).rmdir()
    with pytest.raises(TrainError, match="only one class folder"):
        open_training_data(one)
    empty = shapes.make_folder(tmp_path / "empty", per_class=2)
    (empty / "hexagon").mkdir()
    with pytest.raises(TrainError, match="hexagon/ in empty holds no photos"):
        open_training_data(empty)


def test_files_that_are_no_photos_are_left_out_before_training_as_imagefolder_does(tmp_path):
    root = shapes.make_folder(tmp_path / "shapes", per_class=3)
    (root / "circle" / "notes.txt").write_text("where these came from")
    data = open_training_data(root)
    assert data.counts() == [(2, 1)] * 3  # the counts shown before a run are photos only
    assert len(datasets.ImageFolder(str(root)).samples) == 9  # ImageFolder skips notes.txt too
    assert any("notes.txt is not a photo" in str(w) for w in data.warnings)
    for f in (root / "square").iterdir():
        f.unlink()
    (root / "square" / "README.md").write_text("todo")
    with pytest.raises(TrainError, match="square/ in shapes holds no photos"):  # not after an epoch of training
        open_training_data(root)
    given = tmp_path / "given"
    shapes.make_folder(given, per_class=2, prefix="train")
    shapes.make_folder(given, per_class=1, seed=1, prefix="val")
    for f in (given / "train" / "square").iterdir():
        f.rename(f.with_suffix(".txt"))
    with pytest.raises(TrainError, match="square/ in given holds no photos"):
        open_training_data(given)


def test_the_server_data_folder_offers_only_what_lies_directly_in_it(tmp_path, monkeypatch):
    root = tmp_path / "data"
    shapes.make_folder(root / "shapes", per_class=1)
    (root / "set.zip").write_bytes(shapes.make_zip(per_class=1))
    (root / "notes.txt").write_text("x")
    outside = shapes.make_folder(tmp_path / "private", per_class=1)
    os.symlink(outside, root / "link")
    monkeypatch.setenv(train_data.ENV, str(root))
    assert train_data.listing() == ["set.zip", "shapes"]
    assert train_data.find("shapes") == root / "shapes"
    assert train_data.find("../private") is None and train_data.find("link") is None


@pytest.mark.parametrize("kind", ["lecture", "imagenet"])
def test_the_val_pictures_at_224_are_the_ones_the_app_predicts_on(kind):
    """Training validates on what Predict and Evaluate will feed the checkpoint (their own transform, the
    lecture's or torchvision's ImageNet preset), so the val accuracy reported is the one Evaluate finds."""
    import numpy as np
    import torch
    from PIL import Image

    from vggviz.photo import inference
    from vggviz.train import transforms

    rng = np.random.default_rng(0)
    for width, height in ((300, 200), (224, 224), (481, 640)):
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        # The same resize and the same divisions: equal up to float rounding.
        torch.testing.assert_close(transforms.val_transform(kind, 224)(image), inference.transform(kind)(image),
                                   rtol=0, atol=1e-6)
    assert repr(transforms.train_transform(kind, 224, augment=False)) == repr(transforms.val_transform(kind, 224))
    augmented = repr(transforms.train_transform(kind, 224, augment=True))  # the course's: crop, flip, no resize
    assert "RandomResizedCrop(size=(224, 224)" in augmented and "RandomHorizontalFlip(p=0.5)" in augmented
    assert "Resize(" not in augmented.replace("RandomResizedCrop(", "")
