"""Checkpoints from the server's folder: only .pth/.pt files directly inside it, nothing a link leads
to outside it, class names from the file beside it; a listed checkpoint loads in the app, with the
preprocessing guessed for it shown on every photo page."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages import app, query_param, run, through_app_py  # noqa: F401 (a fixture)
from helpers import plain

import torch  # a hard dependency: a broken install fails, never skips
ROOT = pathlib.Path(__file__).resolve().parents[1]
FLOWERS = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]


def test_listing_offers_only_checkpoint_files_directly_inside(tmp_path):
    from vggviz.photo import server_checkpoints as sc

    root, outside = tmp_path / "ckpts", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for name in ("a.pth", "B.PT", "notes.txt", "weights.bin", ".hidden.pth", "sub/deep.pth"):
        (root / name).write_bytes(b"x")
    (root / "folder.pth").mkdir()  # a directory with a checkpoint's name
    (outside / "secret.pth").write_bytes(b"x")
    os.symlink(outside / "secret.pth", root / "escape.pth")  # leads out of the folder
    os.symlink(root / "sub" / "deep.pth", root / "down.pth")  # leads into a subfolder
    os.symlink(root / "a.pth", root / "alias.pth")  # stays directly inside: allowed
    os.symlink(root / "missing.pth", root / "dangling.pth")
    assert [c.name for c in sc.listing(root)] == ["B.PT", "a.pth", "alias.pth"]
    for typed in ("../elsewhere/secret.pth", "sub/deep.pth", "escape.pth", str(outside / "secret.pth")):
        assert sc.find(typed, root) is None, typed
    assert sc.find("a.pth", root).path == root.resolve() / "a.pth"
    assert sc.listing(tmp_path / "no such folder") == []


def test_class_names_come_from_the_file_beside_the_checkpoint(tmp_path):
    from vggviz.photo import server_checkpoints as sc

    root = tmp_path / "ckpts"
    root.mkdir()
    for name in ("flowers.pth", "cats.pth", "dogs.pth"):
        (root / name).write_bytes(b"x")
    (root / "flowers.json").write_text("{}")
    (root / sc.CLASSES_FILE).write_text("{}")
    (tmp_path / "dogs.json").write_text("{}")
    os.symlink(tmp_path / "dogs.json", root / "dogs.json")  # a link out of the folder is not followed
    found = {c.name: c.classes.name for c in sc.listing(root)}
    assert found == {"flowers.pth": "flowers.json", "cats.pth": sc.CLASSES_FILE, "dogs.pth": sc.CLASSES_FILE}
    (root / sc.CLASSES_FILE).unlink()
    assert {c.name: c.classes for c in sc.listing(root)}["cats.pth"] is None


def test_folder_from_the_environment_else_beside_app_py(tmp_path):
    from vggviz.photo import server_checkpoints as sc

    assert sc.folder({sc.ENV: str(tmp_path)}) == tmp_path
    assert sc.folder({}) == ROOT / "checkpoints" == sc.DEFAULT_FOLDER


@pytest.fixture()
def lecture_folder(tmp_path, monkeypatch):
    """The server's folder with a lecture-style checkpoint (A, 5 flowers, small head) and its classes."""
    from vggviz.architecture.model import build_model
    from vggviz.photo import server_checkpoints as sc

    root = tmp_path / "ckpts"
    root.mkdir()
    torch.save(build_model("A", hidden=16, num_classes=5, seed=3).state_dict(), root / "flowers.pth")
    (root / "flowers.json").write_text(json.dumps(dict(enumerate(FLOWERS))))
    monkeypatch.setenv(sc.ENV, str(root))
    st.cache_resource.clear()
    yield root
    st.cache_resource.clear()


def test_a_listed_checkpoint_loads_and_its_preprocessing_shows_on_every_photo_page(lecture_folder):
    from ui import models

    for name in ("predict.py", "feature_maps.py", "attributions.py"):
        at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=120)
        at.session_state["config"], at.session_state["weights"] = "A", "checkpoint"
        at.run()
        assert not at.exception and not at.error, (name, [e.value for e in (*at.exception, *at.error)])
        assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth"
        assert any("flowers.json" in plain(c.value) for c in at.sidebar.caption)
        [lm] = [models.MODELS.get(k, None) for k in models.MODELS.keys() if k[0] == "server"]
        assert lm.classes == FLOWERS and lm.weights == "checkpoint:flowers.pth"
        assert at.radio(key="preprocess").value == "lecture", name  # guessed: the lecture's code trained it


def _predict(lang: str, ckpt: str) -> AppTest:
    """A session that had untrained weights chosen on the home page follows a link to Predict at
    ?lang=LANG&ckpt=CKPT."""
    at = run(app("app.py", lang=lang))
    at.query_params["ckpt"] = ckpt
    at.switch_page("pages/predict.py")
    return run(at)


def test_a_link_chooses_a_server_checkpoint_and_the_address_follows_the_sidebar(lecture_folder, through_app_py):
    """?ckpt=NAME (the Train page's links, a page shared with the class) chooses that checkpoint; then the sidebar
    decides and the address follows it (another file, weights that are no file, "Upload your own…"), also after a
    page switch has cleared the address; a link to the checkpoint the address named before chooses it again."""
    from ui import models

    (lecture_folder / "second.pth").write_bytes((lecture_folder / "flowers.pth").read_bytes())
    at = _predict("en", "second.pth")
    assert not at.exception and not at.warning
    assert at.sidebar.radio(key="weights").value == "checkpoint"
    assert at.sidebar.selectbox(key="ckpt_choice").value == "second.pth" == query_param(at, "ckpt")
    # Kept as the sidebar's own choices are, for a run where Streamlit drops the widgets' state.
    assert {k: at.session_state["_kept_choices"][k] for k in ("weights", "ckpt_choice")} == {
        "weights": "checkpoint", "ckpt_choice": "second.pth"}
    at.sidebar.selectbox(key="ckpt_choice").set_value("flowers.pth")  # the rerun still carries ckpt=second.pth
    run(at)
    assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth" == query_param(at, "ckpt")
    del at.query_params["ckpt"]  # a browser's page switch clears the address
    at.switch_page("pages/feature_maps.py")
    run(at)
    assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth" == query_param(at, "ckpt")
    for weights, choice in (("random", None), ("checkpoint", models.UPLOAD)):
        at.sidebar.radio(key="weights").set_value(weights)
        if choice is not None:
            run(at)
            at.sidebar.selectbox(key="ckpt_choice").set_value(choice)
        run(at)
        assert at.sidebar.radio(key="weights").value == weights and query_param(at, "ckpt") is None
    at.query_params["ckpt"] = "flowers.pth"  # a link to the checkpoint the address last named, followed
    run(at)
    assert at.sidebar.radio(key="weights").value == "checkpoint"
    assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth" == query_param(at, "ckpt")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_to_a_checkpoint_the_folder_lacks_says_so_and_goes_on_with_the_first(lecture_folder, lang,
                                                                                    through_app_py):
    at = _predict(lang, "gone.pth")
    assert not at.exception
    said = {"en": "gone.pth is not in the server's checkpoint folder.",
            "zh": "gone.pth 不在服务器的检查点文件夹中。"}
    assert [plain(w.value) for w in at.warning if "gone.pth" in plain(w.value)] == [said[lang]]
    assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth" == query_param(at, "ckpt")
