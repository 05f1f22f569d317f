"""The name a run's checkpoint is written under: its class file ``<stem>.json`` and record ``<stem>.train.json``
are written beside it, so a name that is not a checkpoint's (``m.json``: the class file *is* the checkpoint's
path) would lose a file. Refused before anything is written, in the reader's language."""

from __future__ import annotations

import pytest
import torch

from vggviz import i18n
from vggviz.photo import server_checkpoints
from vggviz.train import checkpoint
from vggviz.train.errors import TrainError


@pytest.mark.parametrize("name", ["m.json", "m", "m.ckpt"])
def test_a_name_the_folder_would_not_list_is_refused_and_nothing_written(tmp_path, name):
    with pytest.raises(TrainError, match="cannot be a checkpoint's name") as caught:
        checkpoint.write(tmp_path / name, {"w": torch.zeros(3)}, ["a", "b"], {"x": 1})
    assert list(tmp_path.iterdir()) == []
    with i18n.use("zh"):
        assert "不能用作检查点的名字" in str(caught.value)


@pytest.mark.parametrize("name", ["m.pth", "m.PT"])
def test_the_three_files_are_three_and_the_folder_lists_the_checkpoint(tmp_path, name):
    checkpoint.write(tmp_path / name, {"w": torch.zeros(3)}, ["a", "b"], {"x": 1})
    stem = name.split(".")[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, f"{stem}.json", f"{stem}.train.json"])
    assert torch.load(tmp_path / name, weights_only=True)["w"].shape == (3,)
    (listed,) = server_checkpoints.listing(tmp_path)
    assert listed.name == name and listed.classes.name == f"{stem}.json"  # the class file the app pairs with it
