"""The photo pages under AppTest: a sample photo, an upload, a checkpoint, ImageNet weights found in
the cache, and the download offer when they are not."""

import json
import pathlib

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from helpers import encode, install_imagenet_file, photo, plain

torch = pytest.importorskip("torch")
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_predict_with_a_sample_and_missing_weights_offers_the_download():
    at = ok(page("predict.py", config="A"))
    assert any("vgg11-8a719046.pth" in plain(i.value) and "507 MB" in plain(i.value) for i in at.info)
    assert at.button(key="download").label == "Download vgg11-8a719046.pth"
    assert any("Untrained weights" in w.value for w in at.warning)  # the fallback is labelled
    assert "A with untrained weights on CPU" in plain(at.caption[0].value)


def test_predict_with_cached_imagenet_weights(tmp_path):
    install_imagenet_file(tmp_path / "torch", "vgg11")
    at = ok(page("predict.py", config="A", trusted_files={"vgg11-8a719046.pth"}))
    assert not at.warning and "A with ImageNet weights" in plain(at.caption[0].value)


def test_corrupt_cached_weights_are_explained(tmp_path):
    install_imagenet_file(tmp_path / "torch", "vgg11")  # generated: its hash cannot match the name
    at = ok(page("predict.py", config="A"))
    assert any("does not match its SHA-256 prefix 8a719046" in plain(e.value) for e in at.error)
    assert at.button(key="redownload") and at.button(key="trust")
    at.button(key="trust").click().run()
    ok(at)
    assert "A with ImageNet weights" in plain(at.caption[0].value)


def test_predict_with_an_uploaded_photo():
    at = ok(page("predict.py", config="A", weights="random"))
    at.radio(key="photo_source").set_value("Upload").run()
    at.file_uploader(key="photo_upload").set_value(("me.png", encode(photo(2)), "image/png")).run()
    ok(at)
    assert "A with untrained weights" in plain(at.caption[0].value)
    at.file_uploader(key="photo_upload").set_value(("bad.png", b"GIF89a broken", "image/png")).run()
    assert any("bad.png" in plain(e.value) for e in ok(at).error)


def test_predict_with_an_uploaded_lecture_checkpoint(tmp_path):
    from vggviz.architecture.model import build_model

    sd = build_model("A", num_classes=5, seed=2).state_dict()
    buf = tmp_path / "vgg16Net.pth"
    torch.save(sd, buf)
    at = ok(page("predict.py", weights="checkpoint"))
    assert any("Upload a checkpoint" in i.value for i in at.info)
    at.sidebar.file_uploader(key="ckpt").set_value(("vgg16Net.pth", buf.read_bytes(), "application/octet-stream"))
    at.sidebar.file_uploader(key="classes").set_value(
        ("class_indices.json", json.dumps({"0": "daisy", "1": "dandelion", "2": "roses", "3": "sunflowers",
                                           "4": "tulips"}).encode(), "application/json"))
    ok(at.run())
    assert at.radio(key="preprocess").value == "lecture"
    assert "A with checkpoint vgg16Net.pth" in plain(at.caption[0].value)
    at.sidebar.file_uploader(key="ckpt").set_value(("junk.pth", b"junk", "application/octet-stream")).run()
    assert any("junk.pth is not a readable PyTorch checkpoint" in plain(e.value) for e in ok(at).error)


def test_feature_maps_page_and_display_widgets(monkeypatch):
    from ui import models

    calls = []
    real_run = models.run
    monkeypatch.setattr(models, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    at = ok(page("feature_maps.py", config="A", weights="random"))
    assert len(at.get("image")) >= 3  # the layer grid, the enlarged channel, the filters
    at.toggle(key="fm_relu").set_value(False).run()
    at.radio(key="fm_scale").set_value("shared across the layer").run()
    at.select_slider(key="fm_top").set_value(16).run()
    ok(at)
    at.number_input(key="fm_channel").set_value(3).run()
    ok(at)
    assert at.metric[0].label == "max"
    at.selectbox(key="hist_layer").set_value("fc8").run()
    ok(at)
    assert len(calls) == 1  # display-only widgets re-render from the cached forward pass


def test_attribution_page_methods_views_strip_and_sanity_check():
    at = ok(page("attributions.py", config="A", weights="random"))
    target = at.selectbox(key="target")
    assert target.options[target.index].endswith("· predicted")  # the predicted class by default
    for method in ("gradcam", "guided_backprop"):
        at.selectbox(key="method").set_value(method).run()
        ok(at)
    at.selectbox(key="sign").set_value("all").run()
    at.selectbox(key="view").set_value("masked_image").run()
    assert any("one sign" in w.value for w in ok(at).warning)  # explained, and the page goes on
    at.radio(key="strip_method").set_value("activation").run()
    at.toggle(key="sanity").set_value(True).run()
    assert any("ρ" in c.value for c in ok(at).caption)
