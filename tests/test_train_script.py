""""Show as code" (issue 23): the recipe as a standalone train.py, run here on a tiny data set for one epoch,
writes a checkpoint and class file that the app loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shapes
from vggviz.photo.checkpoints import infer_architecture, read_checkpoint
from vggviz.photo.inference import load_model
from vggviz.photo.server_checkpoints import listing
from vggviz.train.recipe import PRESETS, Recipe
from vggviz.train.script import as_code


def test_the_script_trains_and_writes_a_checkpoint_the_app_loads(tmp_path):
    data = shapes.make_folder(tmp_path / "shapes", per_class=3)
    classes = sorted(shapes.CLASSES)
    recipe = Recipe(config="vgg11", init="xavier", train="last-block", epochs=1, batch=4, optimizer="sgd", lr=0.01,
                    schedule="cosine", size=32, augment=True, val_share=0.34)
    script = tmp_path / "train.py"
    script.write_text(as_code(recipe, str(data), classes))
    out = tmp_path / "out" / "vgg11Net.pth"
    done = subprocess.run([sys.executable, str(script), "--save-path", str(out), "--device", "cpu", "--workers", "0"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "using 6 images for training, 3 images for validation." in done.stdout
    arch = infer_architecture(read_checkpoint(out))
    assert (arch.config.name, arch.num_classes) == ("A", 3)
    found = listing(out.parent)
    assert [(c.name, c.classes.name) for c in found] == [("vgg11Net.pth", "class_indices.json")]
    lm = load_model("vgg11", "checkpoint", checkpoint=out, classes=found[0].classes, device="cpu")
    assert lm.classes == classes


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_and_option_makes_a_script_that_compiles(name):
    for recipe in (PRESETS[name], Recipe(config="vgg13_bn", train="last-block", augment=False, optimizer="adam",
                                         schedule="constant")):
        source = as_code(recipe, "flower_data", ["daisy", "roses"])
        compile(source, "train.py", "exec")
        assert f"lr={recipe.lr:g}" in source and "class_indices.json" in source
    assert "RandomResizedCrop(224)" in as_code(PRESETS[name], "x", ["a", "b"])
    assert "VGG13_BN_Weights" in as_code(Recipe(config="vgg13_bn"), "x", ["a", "b"])


def test_the_script_splits_the_photos_as_the_app_does(tmp_path):
    """A student who runs the script at home on the same folder trains and validates on the same photos."""
    from pathlib import Path

    from vggviz.train.data import open_training_data

    root = shapes.make_folder(tmp_path / "shapes", per_class=13)
    recipe = Recipe(val_share=0.25, seed=3)
    namespace: dict = {"__name__": "train_script"}
    exec(compile(as_code(recipe, str(root), sorted(shapes.CLASSES)), "train.py", "exec"), namespace)
    train_set, val_set = namespace["read_data"](str(root), None, None)

    def files(subset) -> set[tuple[str, int]]:
        return {("/".join(Path(subset.dataset.samples[i][0]).parts[-2:]), subset.dataset.samples[i][1])
                for i in subset.indices}

    data = open_training_data(root, val_share=recipe.val_share, seed=recipe.seed)
    assert files(val_set) == {("/".join(k.split("/")[-2:]), label) for k, label in data.val}
    assert files(train_set) == {("/".join(k.split("/")[-2:]), label) for k, label in data.train}
    assert len(val_set) == 3 * 3  # int(13 × 0.25) a class
