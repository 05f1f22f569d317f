"""The photo pages under AppTest: a sample photo, an upload, a checkpoint, ImageNet weights found in
the cache, and the download offer when they are not."""

import json
import pathlib

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from helpers import encode, install_imagenet_file, photo, plain

import torch  # a hard dependency: a broken install fails, never skips
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    from ui import models

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(tmp_path / "no server checkpoints"))
    st.cache_resource.clear()
    st.cache_data.clear()
    models.MODELS.clear()
    yield
    st.cache_resource.clear()
    models.MODELS.clear()


def small_checkpoint(path: pathlib.Path, num_classes: int = 5, seed: int = 2) -> pathlib.Path:
    """A lecture-style checkpoint of configuration A with a 16-wide head (37 MB, under the upload cap)."""
    from vggviz.architecture.model import build_model

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(build_model("A", hidden=16, num_classes=num_classes, seed=seed).state_dict(), path)
    return path


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


def test_predict_sends_the_photo_as_the_model_sees_it_inside_its_element():
    """The picture beside the predictions is a JPEG inside the element (a data URL), not a media file that
    Streamlit would hash and register at every run; it is torchvision's own resize 256 and centre crop 224 of
    the sample (ImageNet preprocessing), within JPEG's error."""
    import base64
    import io

    from PIL import Image
    from torchvision import transforms

    import ui

    at = ok(page("predict.py", config="A", weights="random", preprocess="imagenet"))
    url = at.get("image")[0].proto.imgs[0].url
    head, data = url.split(",", 1)
    assert head == "data:image/jpeg;base64"
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), dtype=float)
    crop = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    expected = np.asarray(crop(ui.sample_photo(at.session_state.sample).convert("RGB")), dtype=float)
    assert seen.shape == expected.shape == (224, 224, 3)
    assert np.abs(seen - expected).mean() < 3  # JPEG's loss; a wrong crop or scale differs by tens


def test_predict_with_an_uploaded_lecture_checkpoint(tmp_path):
    buf = small_checkpoint(tmp_path / "vgg16Net.pth")
    at = ok(page("predict.py", weights="checkpoint"))
    help_text = at.sidebar.file_uploader(key="ckpt").help
    assert "50 MB" in help_text and "--server.maxUploadSize 1000" in help_text and "VGGVIZ_CHECKPOINTS" in help_text
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
    # run on its own (no app navigation to link through), the unit's page is a plain link to the same address
    assert any("](channel?config=vgg11&layer=conv1_1&channel=3&lang=en)" in m.value for m in at.markdown), \
        [m.value for m in at.markdown]
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


def test_preprocessing_follows_the_model_and_keys_the_result(tmp_path, monkeypatch):
    """Feature maps (through model_and_photo): the sidebar shows the preprocessing guessed for the weights,
    a change recomputes the forward pass with it, and another model brings its own guess."""
    from ui import models

    folder = tmp_path / "server"
    small_checkpoint(folder / "flowers.pth")
    monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(folder))
    passes = []
    real = models.forward
    monkeypatch.setattr(models, "forward", lambda *a: passes.append(a[-1]) or real(*a))
    at = ok(page("feature_maps.py", config="A", weights="random"))
    assert at.sidebar.radio(key="preprocess").value == "imagenet" and passes == ["imagenet"]
    at.sidebar.radio(key="preprocess").set_value("lecture").run()
    assert ok(at).sidebar.radio(key="preprocess").value == "lecture" and passes[-1] == "lecture"
    assert any("Guessed from these weights" in plain(c.value) for c in at.sidebar.caption)
    at.sidebar.radio(key="weights").set_value("checkpoint").run()  # the lecture's checkpoint, from the server
    assert ok(at).sidebar.selectbox(key="ckpt_choice").value == "flowers.pth"
    assert at.sidebar.radio(key="preprocess").value == "lecture"  # its own guess
    at.sidebar.radio(key="preprocess").set_value("imagenet").run()
    assert ok(at).sidebar.radio(key="preprocess").value == "imagenet" and passes[-1] == "imagenet"
    at.sidebar.radio(key="weights").set_value("random").run()
    assert ok(at).sidebar.radio(key="preprocess").value == "lecture"  # this model's earlier choice


def test_the_sidebar_speaks_chinese(monkeypatch):
    """ui's labels, options and banner in Chinese on a photo page; and the class list marks the prediction
    in the reader's language from one shared result."""
    from contextvars import ContextVar

    from ui import models
    from vggviz import i18n

    # The page's script thread speaks Chinese (app.py sets it from ?lang=; here the page runs alone).
    with monkeypatch.context() as chinese_thread:
        chinese_thread.setattr(i18n, "_current", ContextVar("vggviz_language", default="zh"))
        at = ok(page("feature_maps.py", config="A", weights="random"))
    assert at.sidebar.radio(key="weights").label == "权重" and at.sidebar.radio(key="preprocess").label == "预处理"
    assert at.sidebar.selectbox(key="config").label == "配置" and at.radio(key="photo_source").label == "照片"
    assert any("未训练的权重" in w.value for w in at.warning)
    lm = models.MODELS.get(("random", "A", "auto", False), None)
    result_key = (models.model_key(lm), "sample:x", "imagenet")
    result = models.forward(lm, *result_key[:2], photo(0, (64, 64)), "imagenet")
    english = models.class_labels(lm, result, result_key)
    with i18n.use("zh"):
        chinese = models.class_labels(lm, result, result_key)
    predicted = int(np.argmax(result.probs))
    assert english[predicted].endswith("· predicted") and chinese[predicted].endswith("· 预测类别")
    assert [e for i, e in enumerate(english) if i != predicted] == [c for i, c in enumerate(chinese) if i != predicted]


@pytest.mark.parametrize("lang, words", [("en", "computed in one forward pass with 2 other photos"),
                                         ("zh", "与另外 2 张照片合在一次前向传播中算出")])
def test_predict_says_when_a_photo_shared_its_forward_pass(monkeypatch, lang, words):
    """As in a class: this photo's probabilities came from one pass with two other students' photos."""
    import dataclasses
    from contextvars import ContextVar

    from ui import models
    from vggviz import i18n

    computed = models._run
    monkeypatch.setattr(models, "_run", lambda *a, **k: dataclasses.replace(computed(*a, **k), batch=3))
    monkeypatch.setattr(i18n, "_current", ContextVar("vggviz_language", default=lang))
    at = ok(page("predict.py", config="A", weights="random"))
    assert any(words in plain(c.value) for c in at.caption), [c.value for c in at.caption]


def test_predicts_photo_is_a_fragment_and_the_choices_survive_the_next_page():
    """On the real server: a new photo on Predict reruns the photo-and-predictions fragment alone (not the page with
    its sidebar), and the configuration chosen on Home and the upload are still there on the next page (Streamlit
    drops the state of the widgets outside a fragment when the page changes right after its run)."""
    from bench.client import FRAGMENT_FINISHED
    from bench.server import Server

    def configuration(run) -> str:
        return next(p.raw_value for name, p in run.elements if name == "selectbox" and p.label == "Configuration")
    with Server() as server:
        s = server.session("home")
        s.set("config", string_value="A")
        assert configuration(s.rerun(page="predict")).startswith("A ")
        s.set("photo_source", string_value="Upload")
        run = s.upload("photo_upload", "my photo.png", encode(photo(2)))
        assert run.status == FRAGMENT_FINISHED and run.of_type("plotly_chart")
        assert not [p for name, p in run.elements if name == "selectbox"]  # the sidebar was not run again
        run = s.rerun(page="feature_maps")
        assert configuration(run).startswith("A ")
        assert any("Using my photo" in plain(p.body) for name, p in run.elements if name == "markdown")
        s.close()


def test_the_top_k_chart_follows_k_and_the_language_and_a_projector_enlarges_only_its_own(monkeypatch):
    """Predict's chart is made once per result, k, language and projector mode, and every later session gets it
    replayed (ui.models.predictions): k bars, best on top; titled in the session's language; a projector
    session's larger chart is its own, and the next student's is the usual size."""
    from contextvars import ContextVar

    from vggviz import i18n, projector
    from vggviz.architecture import charts

    made, real = [], charts.topk_chart
    monkeypatch.setattr(charts, "topk_chart", lambda *a, **k: made.append(a) or real(*a, **k))

    def chart(at: AppTest) -> dict:
        return json.loads(ok(at).get("plotly_chart")[0].proto.spec)

    first = chart(page("predict.py", config="A", weights="random"))
    assert len(first["data"][0]["y"]) == 5 and first["layout"]["title"]["text"] == "Top predictions"
    at = page("predict.py", config="A", weights="random")
    at.slider(key="topk").set_value(3).run()
    assert chart(at)["data"][0]["y"] == first["data"][0]["y"][-3:]  # the best three, the best on top
    projected = chart(page("predict.py", config="A", weights="random", present=True))
    assert projected["layout"]["height"] == round(first["layout"]["height"] * projector.SCALE)
    assert len(made) == 3  # k=5, k=3, the projector's
    assert chart(page("predict.py", config="A", weights="random")) == first
    assert len(made) == 3  # the next student's chart was replayed, not made again
    monkeypatch.setattr(i18n, "_current", ContextVar("vggviz_language", default="zh"))
    chinese = chart(page("predict.py", config="A", weights="random"))
    with i18n.use("zh"):
        assert chinese["layout"]["title"]["text"] == i18n._("Top predictions") != "Top predictions"
    assert chinese["data"][0]["x"] == first["data"][0]["x"] and len(made) == 4
