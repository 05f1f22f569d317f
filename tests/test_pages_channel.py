"""The page "What each channel looks for" under AppTest, through app.py's navigation: configuration A (vgg11),
untrained weights, tiny optimisation settings, the gallery folder in tmp_path. A link opens its unit (and a
bad one says so), a precomputed image opens without an optimisation, Start draws the image the gallery then
holds, the dataset examples equal the engine's, and the links from Feature maps and the Lesson name the unit."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
import streamlit as st
from PIL import Image

from app_pages import app, captions, run, through_app_py  # noqa: F401 (a fixture)
from vggviz.learned import class_model, visualize
from vggviz.learned.visualize import Settings

pytestmark = pytest.mark.usefixtures("through_app_py")
PAGE = "pages/channel.py"
TINY = Settings(steps=3, size=32, upsample=None)
TITLES = {"en": "What each channel looks for", "zh": "通道在找什么"}


@pytest.fixture(autouse=True)
def tiny(monkeypatch, tmp_path):
    """Tiny settings everywhere, a fresh gallery folder, and no result kept from another test."""
    from ui import learned

    monkeypatch.setenv("VGGVIZ_GALLERY", str(tmp_path / "gallery"))
    monkeypatch.setattr(learned, "PRESETS", {"quick": TINY, "lucent": replace(TINY, steps=4)})
    monkeypatch.setattr(learned, "CLASS_PRESETS", {
        "quick": (class_model.SimonyanSettings(steps=2, size=32), replace(TINY, size=32)),
        "lucent": (class_model.SimonyanSettings(steps=3, size=32), replace(TINY, size=32, steps=4))})
    learned.RESULTS.clear()
    st.cache_resource.clear()
    yield
    learned.RESULTS.clear()


def page(lang: str = "en", **query: str):
    at = app(lang=lang)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    return run(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_opens_at_the_last_conv_layer_in_both_languages(lang):
    at = page(lang)
    assert at.title[0].value == TITLES[lang]
    assert at.selectbox(key="ch_layer").value == "conv5_2" and at.number_input(key="ch_channel").value == 0
    assert at.query_params["layer"] == "conv5_2" and at.query_params["channel"] == "0"
    assert at.query_params["config"] == "vgg11" and at.query_params["lang"] == lang
    assert at.button(key="ch_vis_start")  # nothing was computed: the button waits


def link_warnings(at) -> list[str]:
    """The messages about the link (the untrained weights' banner is a warning too)."""
    return [w.value.replace("\\", "") for w in at.warning if w.icon == ":material/link_off:"]  # unescaped


def untrained_a():
    """Configuration A's untrained weights as the app identifies them: the gallery folder's model key matches."""
    from vggviz.photo import model_identity as identity
    from vggviz.photo.inference import load_model

    return identity.identify(load_model("A", "random"), identity.UNTRAINED)


def test_a_link_opens_its_unit_and_sets_the_sidebar_configuration():
    at = app(lang="en", config="B")  # the session had vgg13; the link names vgg11
    for k, v in {"config": "vgg11", "layer": "conv3_1", "channel": "5"}.items():
        at.query_params[k] = v
    run(at.switch_page(PAGE))
    assert at.sidebar.selectbox(key="config").value == "A"
    assert at.selectbox(key="ch_layer").value == "conv3_1" and at.number_input(key="ch_channel").value == 5
    assert not link_warnings(at)
    at.number_input(key="ch_channel").set_value(7)
    run(at)  # the user's choice stays and goes to the URL (the link is not applied again)
    assert at.number_input(key="ch_channel").value == 7 and at.query_params["channel"] == "7"
    assert at.selectbox(key="ch_layer").value == "conv3_1" and at.query_params["layer"] == "conv3_1"
    shown = [c.value for c in at.code]
    assert any(s.endswith("/channel?config=vgg11&layer=conv3_1&channel=7&lang=en") for s in shown), shown
    at.sidebar.selectbox(key="config").set_value("B")  # another configuration: its own defaults
    run(at)
    assert at.selectbox(key="ch_layer").value == "conv5_2" and at.number_input(key="ch_channel").value == 0
    assert at.query_params["config"] == "vgg13" and not link_warnings(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_link_says_so_and_falls_back(lang):
    at = page(lang, config="vgg99", layer="conv9_9", channel="-3")
    said = link_warnings(at)
    assert len(said) == 1, said  # one message, a sentence for each part
    assert all(part in said[0] for part in ("vgg99", "conv9_9", "-3")) and (("不存在" in said[0]) == (lang == "zh"))
    assert at.sidebar.selectbox(key="config").value == "A"
    assert at.selectbox(key="ch_layer").value == "conv5_2" and at.number_input(key="ch_channel").value == 0
    at = page(lang, layer="conv2_1", channel="128")  # conv2_1 has channels 0…127
    assert len(link_warnings(at)) == 1 and "128" in link_warnings(at)[0]
    assert at.selectbox(key="ch_layer").value == "conv2_1" and at.number_input(key="ch_channel").value == 0


def test_a_precomputed_visualisation_opens_without_an_optimisation(monkeypatch):
    made = visualize.visualize(untrained_a(), "conv5_2", [0], TINY, 0)[0]
    calls = []
    real = visualize.optimise
    monkeypatch.setattr(visualize, "optimise", lambda *a, **k: calls.append(a) or real(*a, **k))
    at = page()
    assert not calls
    assert "ch_vis_start" not in [b.key for b in at.button]
    assert any(c.startswith("conv5_2, channel 0: 3 steps, 32 px, seed 0") for c in captions(at)), captions(at)
    assert f"{made.end:.3g} at the end" in "\n".join(m.value for m in at.markdown)


def test_start_runs_the_optimisation_and_shows_what_the_gallery_then_holds(monkeypatch):
    from vggviz.photo import render

    calls, encoded = [], []
    real, png = visualize.optimise, render.png
    monkeypatch.setattr(visualize, "optimise", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(render, "png", lambda image, *a, **k: encoded.append(png(image, *a, **k)) or encoded[-1])
    at = page()
    assert not calls and "ch_vis_start" in [b.key for b in at.button]
    encoded.clear()
    at.button(key="ch_vis_start").click()
    run(at)
    assert len(calls) == 1
    kept = visualize.cached(untrained_a(), "conv5_2", 0, TINY, 0)
    assert kept is not None
    shown = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in encoded]
    assert any(s.shape == kept.images[0].shape and np.array_equal(s, kept.images[0]) for s in shown)  # PNG: lossless
    assert any(c.startswith("conv5_2, channel 0: 3 steps") for c in captions(at))
    run(at)  # a display-only rerun: nothing optimised again
    assert len(calls) == 1


def test_dataset_examples_on_the_samples_equal_the_engine(monkeypatch):
    from vggviz.learned import collection, examples

    at = page()
    assert at.radio(key="ch_ex_source").value == "samples"  # nothing prepared in this gallery folder
    at.button(key="ch_examples_start").click()
    run(at)
    patches = [c for c in captions(at) if " · " in c]
    engine = examples.compute(untrained_a(), collection.samples()).examples("conv5_2", 0, "top")
    from ui.learned import value_text

    assert 0 < len(patches) <= 9
    assert patches == [f"{value_text(e.value)} · {e.photo}" for e in engine]
    at.button(key="ch_ex_top_0").click()
    run(at)
    assert any(c.startswith(f"{engine[0].photo}: the receptive field") for c in captions(at))
    at.toggle(key="ch_ex_show_bottom").set_value(True)
    run(at)
    assert len([c for c in captions(at) if " · " in c]) == 2 * len(patches)


def test_class_models_and_the_layer_gallery_render():
    from vggviz.learned import layer_gallery

    layer_gallery.compute(untrained_a(), "conv5_2", range(8), TINY, 0)  # what a teacher prepared
    at = page("zh")
    assert not {"ch_class_simonyan_start", "ch_gallery_start"} & {b.key for b in at.button}  # closed: nothing
    assert not any("8 个通道" in c for c in captions(at))
    at.session_state["ch_class_box"] = True  # opened, as a click on each does
    at.session_state["ch_gallery_box"] = True
    run(at)
    keys = [b.key for b in at.button]
    assert {"ch_class_simonyan_start", "ch_class_fourier_start"} <= set(keys)
    assert "ch_gallery_start" not in keys  # the first 8 channels are all there
    assert any(c == "conv5_2：8 个通道中已算好 8 个" for c in captions(at)), captions(at)
    assert any("一直是灰色" in c.value for c in at.caption)  # untrained: Simonyan's image stays grey, said
    at.button(key="ch_class_simonyan_start").click()
    run(at)
    assert any("logit" in c for c in captions(at))
    at.select_slider(key="ch_gallery_n").set_value(16)
    run(at)
    assert any(c == "conv5_2：16 个通道中已算好 8 个" for c in captions(at))
    at.button(key="ch_gallery_start").click()  # the 8 missing ones, on request
    run(at)
    assert any(c == "conv5_2：16 个通道中已算好 16 个" for c in captions(at)) and "ch_gallery_start" not in [
        b.key for b in at.button]


def test_a_prepared_unit_opens_without_timing_or_computing_anything(monkeypatch):
    """Visualisation and examples prepared before class: the page reads them, and its closed expanders (class
    models, layer gallery) time no estimate and draw nothing until they are opened."""
    from vggviz.learned import collection, examples

    visualize.visualize(untrained_a(), "conv5_2", [0], TINY, 0)
    examples.compute(untrained_a(), collection.samples())
    timed = []
    monkeypatch.setattr(visualize, "estimate", lambda *a, **k: timed.append(("vis", a)) or 1.0)
    monkeypatch.setattr(class_model, "estimate", lambda *a, **k: timed.append(("class", a)) or 1.0)
    monkeypatch.setattr(visualize, "optimise", lambda *a, **k: pytest.fail("optimised"))
    monkeypatch.setattr(examples, "score", lambda *a, **k: pytest.fail("scored"))
    at = page()
    assert not timed and not [b for b in at.button if b.key.endswith("_start")]
    assert any(c.startswith("conv5_2, channel 0: 3 steps") for c in captions(at))
    at.session_state["ch_class_box"] = True
    run(at)
    assert {t[0] for t in timed} == {"class"} and "ch_class_simonyan_start" in [b.key for b in at.button]
    at.session_state["ch_gallery_box"] = True  # channels 1…7 missing: their batch is timed now
    run(at)
    kind, args = timed[-1]
    assert kind == "vis" and args[1:3] == ("conv5_2", [1, 2, 3, 4, 5, 6, 7])


def test_conv1_1_shows_the_channels_own_kernel(monkeypatch):
    from vggviz.learned import filters
    from vggviz.photo import render

    encoded = []
    png = render.png
    monkeypatch.setattr(render, "png", lambda image, *a, **k: encoded.append(np.asarray(image)) or png(image, *a, **k))
    at = page(layer="conv1_1", channel="9")
    assert any(c.startswith("conv1_1, channel 9: its 3×3 RGB kernel") for c in captions(at))
    kernel = filters.filter_pictures(untrained_a(), [9])[0]
    assert any(e.shape == kernel.shape and np.array_equal(e, kernel) for e in encoded)


def test_feature_maps_links_to_the_unit_it_has_enlarged():
    at = app(lang="zh")
    run(at.switch_page("pages/feature_maps.py"))
    channel = at.number_input(key="fm_channel").value
    layer = at.selectbox(key="fm_layer_1").value
    links = [e.proto for e in at.get("page_link") if e.proto.page.endswith("channel")]
    assert len(links) == 1 and links[0].label == "这个通道在找什么？"
    assert links[0].query_string == f"config=vgg11&layer={layer}&channel={channel}&lang=zh"


def test_the_lessons_vgg16_step_links_to_a_unit():
    at = app(lang="en")
    at.query_params["step"] = "9"
    run(at.switch_page("pages/lesson.py"))
    links = [e.proto for e in at.get("page_link") if e.proto.page.endswith("channel")]
    assert [link.query_string for link in links] == ["config=vgg16&layer=conv5_3&channel=42&lang=en"]


def test_the_same_unit_under_imagenet_and_untrained_weights(tmp_path, monkeypatch):
    from helpers import install_imagenet_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = install_imagenet_file(tmp_path / "torch", "vgg11", seed=5)  # generated: its hash is not torchvision's
    untrained = visualize.visualize(untrained_a(), "conv5_2", 0, TINY, 0)[0]  # computed before
    at = app(lang="en", weights="imagenet", trusted_files={path.name})
    run(at.switch_page(PAGE))
    assert "ch_weights_imagenet_start" not in [b.key for b in at.button]  # the box's computing waits for its toggle
    at.toggle(key="ch_weights_on").set_value(True)
    run(at)
    keys = [b.key for b in at.button]
    assert "ch_weights_imagenet_start" in keys and "ch_weights_random_start" not in keys  # untrained: cached
    at.button(key="ch_weights_imagenet_start").click()
    run(at)
    trained = visualize.cached(app_model(), "conv5_2", 0, TINY, 0)
    assert trained is not None and not np.array_equal(trained.images, untrained.images)
    assert len([c for c in captions(at) if c.startswith("conv5_2, channel 0: 3 steps")]) == 3  # top, and both


def app_model():
    """The model the app loaded from the installed ImageNet file (the shared cache)."""
    from ui import models

    return next(models.MODELS.get(k, None) for k in models.MODELS.keys() if k[0] == "imagenet")


def test_dataset_examples_of_an_uploaded_zip_and_a_hostile_one():
    import planted

    at = page("zh")
    at.radio(key="ch_ex_source").set_value("upload")
    run(at)
    at.file_uploader(key="ch_zip").set_value(("evil.zip", planted.zip_of({"../evil.png": b"x"}), "application/zip"))
    run(at)  # refused with the archive reader's message; the page goes on
    assert at.error and "ch_examples_start" not in [b.key for b in at.button]
    photos = {"red/a.png": planted.png((200, 30, 30)), "blue/b.png": planted.png((30, 30, 200))}
    at.file_uploader(key="ch_zip").set_value(("two.zip", planted.zip_of(photos), "application/zip"))
    run(at)
    assert not at.error and any(c.value == "2 张照片" for c in at.caption)
    at.button(key="ch_examples_start").click()
    run(at)
    shown = sorted(c.split(" · ")[1] for c in captions(at) if " · " in c)
    assert shown == sorted(photos)  # one example per photo: both, no more


def test_examples_the_teacher_prepared_open_without_a_pass(monkeypatch):
    from vggviz.learned import collection, examples

    made = examples.compute(untrained_a(), collection.samples())  # before class, e.g. python -m vggviz examples
    monkeypatch.setattr(examples, "score", lambda *a, **k: pytest.fail("scored again"))
    monkeypatch.setattr(collection, "samples", lambda *a, **k: pytest.fail("the collection was read"))
    at = page()
    assert at.radio(key="ch_ex_source").value == "prepared" and "ch_examples_start" not in [b.key for b in at.button]
    from ui.learned import value_text

    assert [c for c in captions(at) if " · " in c] == [
        f"{value_text(e.value)} · {e.photo}" for e in made.examples("conv5_2", 0, "top")]
