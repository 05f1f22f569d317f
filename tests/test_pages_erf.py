"""The effective receptive field on the receptive-field page and one unit's computation on the feature-maps
page, under AppTest, in English and Chinese; the numbers shown equal the engine's, called here directly."""

from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from test_pages_inference import fresh  # noqa: F401  (autouse: fresh caches, no weights file)
from vggviz import i18n

import torch  # noqa: E402
from vggviz.explain import erf, unit as units  # noqa: E402
from vggviz.photo import images, inference  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLE = next(iter(images.SAMPLES))  # the photo pickers' default


@pytest.fixture(scope="module")
def vgg11():
    return inference.load_model("A", "random")  # the app's untrained vgg11: the same seeded weights


def page(name: str, lang: str = "en", **state) -> AppTest:
    """A page run in ``lang``, as app.py would set it (AppTest runs a page without app.py). The test thread
    speaks it too: AppTest formats the widgets' options there."""
    path = ROOT / "pages" / name
    script = (f"from vggviz import i18n\ni18n.set_language({lang!r})\n"
              f"exec(compile(open({str(path)!r}, encoding='utf-8').read(), {str(path)!r}, 'exec'))\n")
    at = AppTest.from_string(script, default_timeout=300)
    for key, value in {"config": "A", "weights": "random", **state}.items():
        at.session_state[key] = value
    return run(at, lang)


def run(at: AppTest, lang: str = "en") -> AppTest:
    with i18n.use(lang):
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def shown(value: float, spec: str) -> set[str]:
    """What the page may print for ``value``, which it computes again in its own thread: ``value`` formatted with
    ``spec``, or the neighbouring text where float rounding (well below 1e-5 relative) straddles a display edge."""
    return {format(value * (1 + d), spec) for d in (-1e-5, 0.0, 1e-5)}


def test_receptive_field_page_shows_the_erf_the_engine_computes(vgg11):
    at = page("receptive_field.py", input_size="64", erf_on=True)
    assert "Effective receptive field (ERF)" in [h.value for h in at.header]
    assert {c.key for c in at.get("plotly_chart")} >= {"erf_map", "erf_profile", "erf_stack"}
    x = erf.photo_input(images.sample(SAMPLE), "imagenet", (64, 64))
    expected = erf.measure(vgg11, x, "conv3_1", (8, 8))  # the page's default layer and centre unit
    assert metric(at, "theoretical r (px)") == str(expected.rf)
    assert metric(at, "ERF, 50 % (px)") in shown(expected.mass_sides[0.5], ".1f")
    assert metric(at, "ERF, 90 % (px)") in shown(expected.mass_sides[0.9], ".1f")
    at.toggle(key="erf_every").set_value(True)
    at.radio(key="erf_source").set_value("noise")
    run(at)
    at.number_input(key="erf_samples").set_value(2)
    run(at)
    assert "erf_layers" in {c.key for c in at.get("plotly_chart")}
    noise = erf.measure(vgg11, erf.noise(2, (64, 64), seed=0), "conv3_1")
    assert metric(at, "ERF, 50 % (px)") in shown(noise.mass_sides[0.5], ".1f")
    at.slider(key="erf_n").set_value(2)
    run(at)
    assert any("**18C²**" in m.value and "**25C²**" in m.value for m in at.markdown)
    at.selectbox(key="rf_layer").set_value("pool3")
    run(at)
    assert any("conv layers" in i.value for i in at.info)


def test_feature_maps_page_shows_a_units_arithmetic(vgg11, monkeypatch):
    result = inference.run(vgg11, images.sample(SAMPLE))
    first = units.conv_unit(vgg11, result, "conv1_1", 0, (112, 112))  # the defaults: channel 0, the centre
    u = units.conv_unit(vgg11, result, "conv2_1", 0, (0, 111))
    partial = []
    real = units.layer_input
    monkeypatch.setattr(units, "layer_input", lambda *a: partial.append(a[2]) or real(*a))
    at = page("feature_maps.py")
    assert metric(at, "before ReLU (pre-activation)") in shown(first.pre, ".4g")
    assert metric(at, "after ReLU (on the map)") in shown(first.post, ".4g")
    assert len(at.get("latex")) >= 5  # R, G and B, their sum with the bias, ReLU
    at.segmented_control(key="fm_block").set_value(2)
    run(at)
    at.number_input(key="unit_row_conv2_1").set_value(0)
    at.number_input(key="unit_col_conv2_1").set_value(111)
    run(at)
    assert metric(at, "before ReLU (pre-activation)") in shown(u.pre, ".4g")
    assert {c.key for c in at.get("plotly_chart")} >= {"unit_bars_conv2_1", "unit_window"}
    assert at.selectbox(key="unit_in_conv2_1_0_0_111").value == int(u.order()[0])  # largest first
    assert any("pool2" in m.value and "Max pooling" in m.value for m in at.markdown)
    at.slider(key="fm_alpha").set_value(0.3)
    run(at)
    # One partial forward for conv2_1, whatever the unit or the display; conv1_1's input is the photo itself.
    assert partial.count("conv2_1") == 1 and set(partial) == {"conv1_1", "conv2_1"}


def test_both_pages_in_chinese():
    at = page("receptive_field.py", "zh", input_size="64", erf_on=True)
    assert "有效感受野（ERF）" in [h.value for h in at.header]
    assert "理论感受野 r（像素）" in [m.label for m in at.metric]
    at = page("feature_maps.py", "zh")
    assert "一个单元的计算过程" in [s.value for s in at.subheader]
    assert "ReLU 之前（激活前值）" in [m.label for m in at.metric]
