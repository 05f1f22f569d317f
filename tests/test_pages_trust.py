"""The attributions page through app.py, in English and in Chinese: a CAM method with its settings, the CAM
strip, "Can I trust this map?" (curves, perturbed photos, the numbers beside the baselines), the compare table,
and Score-CAM's estimate before it starts. vgg11 with random weights; two steps and one ROAD percentile."""

import json
import pathlib
import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import torch
from app_pages import ok, run, through_app_py  # noqa: F401  (a fixture)
from vggviz.explain import faithfulness

ROOT = pathlib.Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def caches(tmp_path_factory):
    """One set of caches for this module (as one server has): the Chinese run reuses the English run's results,
    which hold no text."""
    home = tmp_path_factory.mktemp("torch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        st.cache_resource.clear()
        st.cache_data.clear()
        yield
        st.cache_resource.clear()
        st.cache_data.clear()


pytestmark = pytest.mark.usefixtures("through_app_py")


def attributions(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    state = dict(lang=lang, config="A", weights="random", method="layercam", strip_method="layercam",
                 strip_layers=["conv5_2"], trust_steps=2, trust_road=[50])
    for key, value in state.items():
        at.session_state[key] = value
    run(at)
    return run(at.switch_page("pages/attributions.py"))


def engine_scores(steps: int, road: tuple[int, ...]) -> dict:
    """faithfulness.evaluate called directly on what the page explains."""
    from vggviz.explain import cams
    from vggviz.explain.attributions import attributor
    from vggviz.photo import images, inference

    lm = inference.load_model("A", "random")
    x = inference.prepare(images.sample(next(iter(images.SAMPLES))), lm.preprocess).unsqueeze(0)
    with torch.inference_mode():
        target = int(lm.model(x).argmax())
    att = attributor(lm)
    cam = cams.cam(att, x, cams.CamParams("layercam", target, layer="conv5_2"))
    return faithfulness.evaluate(att, x, lm.preprocess, cam, target, steps, road)


def figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_english_cam_method_trust_section_and_compare_table():
    at = attributions("en")
    assert at.toggle(key="cam_aug_smooth").value is False and at.selectbox(key="cam_layer_A").value == "conv5_2"
    assert "Can I trust this map?" in [s.value for s in at.subheader]
    at.toggle(key="trust_on").set_value(True)
    run(at)
    fig = figure(ok(at))
    assert [t["name"] for t in fig["data"]] == ["LayerCAM", "random map", "Sobel edges"] * 2
    assert len(fig["data"][0]["y"]) == 3  # k = 0, 1, 2
    numbers = at.dataframe[0].value
    assert list(numbers.columns) == ["measure", "LayerCAM", "random map", "Sobel edges"] and len(numbers) == 6
    assert len(at.get("image")) >= 4  # the map, the strip, the perturbed photos
    # Each number is the engine's for this photo, map and class, in its row and column: the same model, the
    # sample photo, LayerCAM at conv5_2 for the predicted class, 2 steps, ROAD at 50 %.
    expected = engine_scores(steps=2, road=(50,))
    for column, name in (("LayerCAM", "map"), ("random map", "random"), ("Sobel edges", "sobel")):
        for row, key in enumerate(faithfulness.NUMBERS):
            assert numbers[column].iloc[row] == pytest.approx(getattr(expected[name], key), rel=1e-5, abs=1e-7), \
                (column, key)
    assert fig["data"][0]["y"] == pytest.approx(list(expected["map"].deletion), rel=1e-5)

    at.multiselect(key="compare_methods").set_value(["gradcam", "layercam"])
    run(at)
    at.toggle(key="compare_on").set_value(True).run()
    table = ok(at).dataframe[-1].value
    assert list(table["method"]) == ["Grad-CAM", "LayerCAM", "random map", "Sobel edges"]
    assert table["deletion AUC ↓"].notna().all() and table["time (s)"].iloc[:2].gt(0).all()

    at.selectbox(key="method").set_value("scorecam")
    run(at)
    assert any("one forward per channel" in i.value and "batches of 16" in i.value for i in ok(at).info)
    assert at.button(key="cam_start").label == "Start Score-CAM"
    assert "Can I trust this map?" not in [s.value for s in at.subheader]  # nothing below runs until started

    at.selectbox(key="cam_layer_A").set_value("conv1_1")  # 64 channels: 4 batches, a few seconds
    run(at)
    at.button(key="cam_start").click()
    run(at)
    assert "Can I trust this map?" in [s.value for s in ok(at).subheader]  # started: the map and all below
    assert at.toggle(key="sanity").disabled
    assert any(c.value.startswith("Not offered for Score-CAM") for c in at.caption)


def test_chinese_cam_settings_trust_section_and_estimate():
    at = attributions("zh")
    at.toggle(key="trust_on").set_value(True)
    run(at)
    ok(at)
    assert "这张热力图可信吗？" in [s.value for s in at.subheader]
    assert HAN.search(at.selectbox(key="cam_layer_A").label) and HAN.search(at.toggle(key="cam_eigen_smooth").label)
    fig = figure(at)
    assert all(HAN.search(a["text"]) for a in fig["layout"]["annotations"])  # the two subplot titles
    assert [t["name"] for t in fig["data"][:3]] == ["LayerCAM", "随机图", "Sobel 边缘图"]
    assert list(at.dataframe[0].value.columns)[0] == "指标"
    at.selectbox(key="method").set_value("ablationcam")
    run(at)
    assert any("每个通道做一次前向传播" in i.value for i in ok(at).info)
    assert at.button(key="cam_start").label == "开始 Ablation-CAM"
