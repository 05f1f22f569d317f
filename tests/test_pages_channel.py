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


def shared_model():
    """The untrained vgg11 the page used (the app's shared model cache)."""
    from ui import models

    return next(m for k, m in models.MODELS._items.items() if k[:2] == ("random", "A"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_opens_at_the_last_conv_layer_in_both_languages(lang):
    at = page(lang)
    assert at.title[0].value == TITLES[lang]
    assert at.selectbox(key="ch_layer").value == "conv5_2" and at.number_input(key="ch_channel").value == 0
    assert at.query_params["layer"] == "conv5_2" and at.query_params["channel"] == "0"
    assert at.query_params["config"] == "vgg11" and at.query_params["lang"] == lang
    assert at.button(key="ch_vis_start")  # nothing was computed: the button waits
