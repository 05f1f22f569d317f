"""The gallery folder: where it is, and that an entry is written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vggviz.learned import store


def test_the_folder_comes_from_the_environment_else_beside_app_py(tmp_path):
    assert store.root({store.ENV: str(tmp_path)}) == tmp_path
    assert store.root({}) == Path(__file__).resolve().parents[1] / "gallery"
    assert store.root({store.ENV: "  "}) == store.root({})


def test_keys_differ_with_any_part_and_not_with_dict_order():
    assert store.key("vgg16", {"a": 1, "b": 2}) == store.key("vgg16", {"b": 2, "a": 1})
    assert store.key("vgg16", 1) != store.key("vgg16", 2) != store.key("vgg11", 2)


def test_an_entry_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "deep" / "entry.json"
    store.write_json(target, {"value": 1.5, "名": "向日葵"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"value": 1.5, "名": "向日葵"}
    assert store.read_json(target) == {"value": 1.5, "名": "向日葵"}

    def fail(*_a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", fail)
    with pytest.raises(OSError):
        store.write_bytes(tmp_path / "deep" / "other.png", b"x" * 100)
    assert sorted(p.name for p in target.parent.iterdir()) == ["entry.json"]  # no temporary file left


def test_a_damaged_or_missing_entry_reads_as_none(tmp_path):
    (tmp_path / "bad.json").write_bytes(b"{not json")
    assert store.read_json(tmp_path / "bad.json") is None
    assert store.read_json(tmp_path / "missing.json") is None
