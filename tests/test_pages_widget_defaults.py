"""Widgets whose default depends on the photo, the model or the configuration (issue 10, item 2): the
default follows them unless the user chose otherwise for the same photo / model / configuration, and no
stale value survives a change of options. Pages run under AppTest with untrained weights; the expected
values come from the paper's Table 1 (REFERENCE.md) and from the engine's own forward pass."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from vggviz import i18n
from app_pages import app, captions, run, through_app_py  # noqa: F401 (a fixture)

# The last conv layer of each block (Table 1): what the per-block strip starts with.
BLOCK_ENDS = {"D": ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"],
              "A": ["conv1_1", "conv2_1", "conv3_2", "conv4_2", "conv5_2"]}


def page(path: str, config: str = "A", **state):
    """``path`` run on its own (no language choice: English), after its first run."""
    return run(app(path, config=config, **state))


@functools.cache
def predicted(config: str, sample: str) -> int:
    """The class the untrained model predicts for a sample photo: the engine's forward pass, run here."""
    from vggviz.photo import images, inference

    lm = inference.load_model(config, "random")
    return int(np.argmax(inference.run(lm, images.sample(sample), lm.preprocess, features=False).probs))


def test_the_explained_class_follows_the_photo_unless_the_user_chose_one_for_it():
    at = page("pages/attributions.py", sample="chelsea the cat")
    first, second = predicted("A", "chelsea the cat"), predicted("A", "coffee")
    assert at.selectbox(key="target").value == first
    chosen = next(c for c in range(1000) if c not in (first, second))
    at.selectbox(key="target").set_value(chosen)
    run(at)
    at.selectbox(key="sign").set_value("positive")  # another widget: the choice stays
    run(at)
    assert at.selectbox(key="target").value == chosen
    at.sidebar.selectbox(key="sample").set_value("coffee")
    run(at)
    assert at.selectbox(key="target").value == second  # a new photo: its own prediction


def test_layer_choices_follow_the_configuration_unless_the_user_chose_for_it():
    at = page("pages/attributions.py", config="D", method="gradcam")
    assert at.multiselect(key="strip_layers").value == BLOCK_ENDS["D"]
    assert at.selectbox(key="attr_layer").value == "conv5_3"
    at.sidebar.selectbox(key="config").set_value("A")  # D -> A: D's layers are not all in A
    run(at)
    assert at.multiselect(key="strip_layers").value == BLOCK_ENDS["A"]
    assert at.selectbox(key="attr_layer").value == "conv5_2"
    assert len(at.image) >= 2 + len(BLOCK_ENDS["A"])  # the map, its colour bar and the strip drawn
    at.multiselect(key="strip_layers").set_value(["conv3_1"])
    run(at)
    at.selectbox(key="attr_layer").set_value("conv4_1")
    run(at)
    at.sidebar.selectbox(key="sample").set_value("rocket")  # same configuration: choices stay
    run(at)
    assert at.multiselect(key="strip_layers").value == ["conv3_1"]
    assert at.selectbox(key="attr_layer").value == "conv4_1"


def test_feature_map_choices_follow_the_configuration_and_the_photo():
    at = page("pages/feature_maps.py", config="D", fm_block=3)
    at.selectbox(key="fm_layer_3").set_value("conv3_3")
    run(at)
    at.selectbox(key="hist_layer").set_value("conv5_3")
    run(at)
    at.number_input(key="fm_channel").set_value(10)
    run(at)
    at.toggle(key="fm_relu").set_value(False)  # a display choice: the channel stays
    run(at)
    assert at.number_input(key="fm_channel").value == 10
    at.sidebar.selectbox(key="config").set_value("A")  # A's block 3 has conv3_1 and conv3_2 only
    run(at)
    assert at.selectbox(key="fm_layer_3").value == "conv3_1"
    assert at.selectbox(key="hist_layer").value == "conv1_1"
    assert at.number_input(key="fm_channel").value == 0  # all channels shown: the first one again


def test_the_receptive_field_unit_follows_the_layer_and_the_input_size():
    at = page("pages/receptive_field.py", config="D")
    at.selectbox(key="rf_layer").set_value("conv5_3")
    run(at)
    at.sidebar.selectbox(key="config").set_value("A")
    run(at)
    assert at.selectbox(key="rf_layer").value == "conv3_1"  # A has no conv5_3: the page's default
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (28, 28)  # 56×56 map's centre
    at.slider(key="rf_row").set_value(50)
    run(at)
    at.selectbox(key="rf_layer").set_value("pool5")  # 7×7: row 50 does not exist
    run(at)
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (3, 3)
    assert at.metric[0].value == "150×150 px"  # A's pool5 (REFERENCE.md §3 gives D's: 212)
    at.slider(key="rf_col").set_value(1)
    run(at)
    at.sidebar.text_input(key="input_size").set_value("320x240")  # pool5: 10×7
    run(at)
    # The row left at the centre follows the new centre; the column the user moved stays where it was.
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (5, 1)


def test_the_top_down_layer_follows_the_configuration():
    at = page("pages/arithmetic.py", config="D")
    assert at.selectbox(key="topdown_layer").value == "pool5"
    at.selectbox(key="topdown_layer").set_value("conv5_3")
    run(at)
    at.sidebar.selectbox(key="config").set_value("A")
    run(at)
    assert at.selectbox(key="topdown_layer").value == "pool5"


def test_the_preprocessing_follows_the_model_unless_chosen_for_it():
    at = page("pages/predict.py", config="D")
    assert at.radio(key="preprocess").value == "imagenet"  # what torchvision's weights were trained with
    at.radio(key="preprocess").set_value("lecture")
    run(at)
    at.slider(key="topk").set_value(3)
    run(at)
    assert at.radio(key="preprocess").value == "lecture"
    at.sidebar.selectbox(key="config").set_value("A")
    run(at)
    assert at.radio(key="preprocess").value == "imagenet" and at.slider(key="topk").value == 3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sanity_check_says_when_rho_is_undefined(monkeypatch, through_app_py, lang):
    """A constant map has no ranks: the engine gives ρ as None (or NaN), the page says so instead of a number."""
    from ui import models
    from vggviz.explain.attributions import CascadeStep

    def cascade(_lm, _result, _key, params):
        rng = np.random.default_rng(0)
        maps = [rng.random((3, 224, 224), dtype=np.float32) for _ in range(4)]
        return [CascadeStep("original", maps[0], 1.0), CascadeStep("fc8", maps[1], None),
                CascadeStep("fc7", maps[2], float("nan")), CascadeStep("fc6", maps[3], 0.25)]

    monkeypatch.setattr(models, "cascade", cascade)
    at = run(app(lang=lang, sanity=True))
    run(at.switch_page("pages/attributions.py"))
    undefined = {"en": "ρ undefined (constant map)", "zh": "ρ 无定义（常数图）"}[lang]
    sep = {"en": ": ", "zh": "："}[lang]
    assert [c for c in captions(at) if "ρ" in c] == [f"original{sep}ρ = 1.00", f"fc8{sep}{undefined}",
                                                    f"fc7{sep}{undefined}", f"fc6{sep}ρ = 0.25"]


def test_sidebar_choices_survive_a_page_that_does_not_draw_them(through_app_py):
    """Compare draws no configuration or weights selector; the choices made before it are still there after."""
    at = run(app("app.py", lang="en"))
    at.switch_page("pages/predict.py")
    run(at)
    with i18n.use("en"):
        at.sidebar.selectbox(key="config").set_value("B")
        at.sidebar.radio(key="weights").set_value("random")
    run(at)
    at.switch_page("pages/compare.py")
    run(at)
    at.switch_page("pages/arithmetic.py")
    run(at)
    assert at.sidebar.selectbox(key="config").value == "B"
    at.switch_page("pages/predict.py")
    run(at)
    assert at.sidebar.radio(key="weights").value == "random"
