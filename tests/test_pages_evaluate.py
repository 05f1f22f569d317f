"""The "Evaluate a folder" page under AppTest, in English and Chinese, through app.py's navigation: upload
the planted checkpoint and a zip of photos, run, see the figures, the confusion matrix and the side-by-side
Grad-CAM of a mistake; reruns come from the cache."""

from __future__ import annotations

import pathlib

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import planted
from app_pages import through_app_py  # noqa: F401 (a fixture)
from vggviz import i18n
from helpers import plain

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("through_app_py")  # app.py's navigation, and so its language

WORDS = {
    "en": {"title": "Evaluate a folder", "accuracy": "Accuracy (top-1)", "why": "Why tulips and not roses?",
           "axis": "True class (folder)", "stopped": "The evaluation was cancelled"},
    "zh": {"title": "评估一个文件夹", "accuracy": "准确率（Top-1）", "why": "为什么是 tulips 而不是 roses？",
           "axis": "真实类别（文件夹）", "stopped": "评估已取消"},
}


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    ckpt, names = planted.save_checkpoint(folder)
    planted.write_folder(folder / "val", per_class=1)
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in (folder / "val").rglob("*.png")}
    return ckpt.read_bytes(), names.read_bytes(), planted.zip_of(files)


@pytest.fixture(scope="module", autouse=True)
def fresh():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def page(lang: str) -> AppTest:
    i18n.set_language(lang)  # AppTest reads the widgets' translated labels in this thread
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"], at.session_state["weights"] = lang, "checkpoint"
    at.switch_page("pages/evaluate.py")
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_evaluate_page_runs_and_shows_the_figures(lang, uploads, monkeypatch):
    words = WORDS[lang]
    at = ok(page(lang))
    from ui import evaluate as ev_ui

    calls = []
    real = ev_ui.evaluate
    monkeypatch.setattr(ev_ui, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert at.title[0].value == words["title"]
    assert f"{ev_ui.upload_limit_mb()} MB" in at.file_uploader(key="eval_zip").help
    ckpt, names, data = uploads
    at.sidebar.file_uploader(key="ckpt").set_value(("vgg11Net.pth", ckpt, "application/octet-stream"))
    at.sidebar.file_uploader(key="classes").set_value(("class_indices.json", names, "application/json"))
    at.file_uploader(key="eval_zip").set_value(("val.zip", data, "application/zip"))
    ok(at.run())
    assert any("10" in c.value and "5" in c.value and "val" in c.value for c in at.caption)
    at.button(key="eval_run").click()
    ok(at.run())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[words["accuracy"]] == "50.0%" and "90.0%" in metrics.values()
    per_class = next(d for d in at.dataframe if "F1" in d.value.columns)  # irises: predicted, no folder
    assert per_class.proto.HasField("placeholder") and per_class.proto.placeholder == ""  # undefined: empty
    assert per_class.value.iloc[-1].tolist()[0] == "irises" and per_class.value.iloc[-1].isna().tolist()[2]
    assert at.get("plotly_chart") and words["axis"] in at.get("plotly_chart")[0].proto.spec
    at.toggle(key="eval_normalise").set_value(True).run()
    at.button(key="eval_why_0").click().run()
    assert words["why"] in [plain(s.value) for s in ok(at).subheader]
    assert len(at.get("image")) == 5 + 2  # the gallery and the two Grad-CAM pictures
    assert calls == ([1] if lang == "en" else [])  # the second language reuses the shared result

    at.session_state["eval_running"] = "interrupted"  # what a click during the run leaves behind
    at.file_uploader(key="eval_zip").set_value(("other.zip", planted.zip_of({"daisy/a.png": planted.png(
        planted.COLOURS["daisy"])}), "application/zip")).run()
    assert [i.value for i in ok(at).info] == [words["stopped"]] and not at.metric


def test_a_hostile_zip_is_explained_and_the_page_goes_on(uploads):
    at = ok(page("en"))
    ckpt, names, data = uploads
    at.sidebar.file_uploader(key="ckpt").set_value(("vgg11Net.pth", ckpt, "application/octet-stream"))
    at.file_uploader(key="eval_zip").set_value(("evil.zip", planted.zip_of({"../evil.png": b"x"}),
                                                "application/zip")).run()
    assert any("evil.png" in plain(e.value) and "outside the archive" in plain(e.value) for e in ok(at).error)
    flat = planted.zip_of({"a.png": planted.png(planted.COLOURS["daisy"]), "README.txt": b"my flowers"})
    at.file_uploader(key="eval_zip").set_value(("flat.zip", flat, "application/zip")).run()
    assert [plain(e.value) for e in ok(at).error] == [  # what was found, not just "no class folders"
        "flat.zip has no class folders: put the photos in one folder per class, such as daisy/001.jpg. flat.zip "
        "holds no folders, 1 photo (a.png) and 1 other file (README.txt)."]
    at.file_uploader(key="eval_zip").set_value(("val.zip", data, "application/zip")).run()
    assert not ok(at).error and at.button(key="eval_run")
