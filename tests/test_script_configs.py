""""Show as code" writes torchvision's model: a configuration torchvision has none for (C, A-LRN) is refused
with a clear, translated sentence instead of a script for another network (vgg16)."""

from __future__ import annotations

import pytest

from vggviz import i18n
from vggviz.train.errors import TrainError
from vggviz.train.recipe import Recipe
from vggviz.train.script import as_code


@pytest.mark.parametrize("config", ["C", "A-LRN"])
def test_a_configuration_without_a_torchvision_model_is_refused(config):
    with pytest.raises(TrainError) as caught:
        as_code(Recipe(config=config, init="xavier"), "flower_data", ["daisy", "roses"])
    assert caught.value.code == "no_torchvision"
    said = str(caught.value)
    assert config in said and "vgg16" in said and "train.py" in said
    with i18n.use("zh"):
        assert "torchvision" in str(caught.value) and "配置" in str(caught.value)


@pytest.mark.parametrize("config, model", [("A", "vgg11"), ("D-BN", "vgg16_bn"), ("vgg19", "vgg19")])
def test_a_torchvision_configuration_writes_its_own_model(config, model):
    source = as_code(Recipe(config=config, init="xavier"), "flower_data", ["daisy", "roses"])
    assert f"models.{model}(num_classes=num_classes)" in source


@pytest.mark.parametrize("name, folder", [("tiny.zip", "tiny"), ("Flowers.ZIP", "Flowers"), ("flower_data", "flower_data"),
                                          (".zip", ".zip"), ("photos.zip.d", "photos.zip.d")])
def test_the_script_reads_the_folder_a_zip_is_unzipped_into(name, folder):
    from vggviz.train.script import data_folder

    assert data_folder(name) == folder
