"""The architecture pages under Streamlit's AppTest: they render, follow the selectors, and never import torch."""

import json
import pathlib
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import app_pages
from app_pages import through_app_py  # noqa: F401 (a fixture)
from helpers import plain
from ui.navigation import HOME, SECTIONS

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The navigation's first section, the lecture (the home page runs through app.py).
LECTURE_PAGES = [p.path for p in next(iter(SECTIONS.values())) if p.path != HOME]


def run(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_app_opens_on_the_home_page():
    at = run("app.py")
    assert at.title[0].value == "Inside VGG"
    assert at.metric[1].value == "138,357,544"  # VGG-16 (D) by default


@pytest.mark.parametrize("path", LECTURE_PAGES)
def test_every_lecture_page_renders(path):
    at = run(path)
    assert at.title and not at.error


def test_configuration_and_input_size_change_the_table():
    at = run("pages/architecture.py")
    d_table = at.dataframe[0].value
    assert "conv5_3" in list(d_table["layer"]) and d_table["params"].iloc[-1] == 138_357_544
    at.sidebar.selectbox(key="config").set_value("A").run()
    a_table = at.dataframe[0].value
    assert "conv5_3" not in list(a_table["layer"]) and a_table["params"].iloc[-1] == 132_863_336
    at.sidebar.text_input(key="input_size").set_value("320x240").run()
    assert at.dataframe[0].value["output"].iloc[0] == "64×320×240"
    at.sidebar.text_input(key="input_size").set_value("16").run()
    assert not at.exception and "at least 32" in plain(at.error[0].value)


@pytest.mark.usefixtures("through_app_py")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_layer_tables_gaps_are_empty_cells_and_its_numbers_stay_numbers(lang):
    """fc rows and the totals row have no kernel, stride, padding, jump: the grid shows a missing value as the
    dataframe's placeholder (Streamlit writes "None" without one), every other cell as its value."""
    at = app_pages.run(app_pages.app(lang=lang, config="D"))
    at = app_pages.run(at.switch_page("pages/architecture.py"))
    element = at.dataframe[0]
    frame = element.value.set_index("layer")
    assert element.proto.HasField("placeholder") and element.proto.placeholder == ""
    total = frame.index[-1]
    assert total == {"en": "total", "zh": "合计"}[lang]
    gaps = ["kernel", "stride", "padding", "jump"]
    for row in ["fc6", "fc7", "fc8", total]:
        assert frame.loc[row, gaps].isna().all(), row
    # The numbers are numbers: REFERENCE.md §3's VGG-16 (3×3 convs, padding 1; r 196 / jump 16 at conv5_3; r 212
    # at pool5) and torchvision's 138,357,544 parameters.
    for column in [*gaps, "r", "params", "MACs"]:
        assert pd.api.types.is_integer_dtype(frame[column]), column
    assert frame.loc["conv5_3", ["kernel", "stride", "padding", "r", "jump"]].tolist() == [3, 1, 1, 196, 16]
    assert frame.loc["pool5", ["kernel", "stride", "r", "jump"]].tolist() == [2, 2, 212, 32]
    assert frame.loc[total, "params"] == 138_357_544 and frame.loc[total, "r"] == 212
    assert frame.loc["fc8", "params"] == 4096 * 1000 + 1000
    shown = [("" if pd.isna(v) else str(v)) for v in frame.reset_index().to_numpy().ravel()]
    assert not {"None", "nan", "NaN", "<NA>"} & set(shown)


def test_receptive_field_page_reports_the_chosen_unit():
    at = run("pages/receptive_field.py")
    at.selectbox(key="rf_layer").set_value("pool5").run()
    assert at.metric[0].value == "212×212 px" and not at.exception
    at.slider(key="rf_row").set_value(0).run()
    at.slider(key="rf_col").set_value(0).run()
    assert "clipped at the border" in at.markdown[0].value


def test_arithmetic_page_follows_the_layer_choice():
    at = run("pages/arithmetic.py")
    at.selectbox(key="topdown_layer").set_value("conv3_3").run()
    assert "sees **40×40**" in " ".join(m.value for m in at.markdown)


def test_lecture_pages_never_import_torch(tmp_path):
    script = textwrap.dedent(f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        for path in {["app.py"] + LECTURE_PAGES!r}:
            at = AppTest.from_file({str(ROOT)!r} + "/" + path, default_timeout=60).run()
            assert not at.exception, path
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "captum"))))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
