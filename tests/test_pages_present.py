"""Projector mode (``?present=1``) under AppTest, through app.py's navigation: the link turns it on, the page's
root type grows by ``projector.SCALE`` and its charts with it, it survives a page switch (the URL keeps
``present=1``), the share panel's QR code is one click away above the page, and the way out turns it all off."""

from __future__ import annotations

import json
import re

import pytest

from app_pages import app, run, through_app_py  # noqa: F401 (a fixture)
from helpers import one_runtime
from test_pages_sharing import pictures
from ui import present
from vggviz import i18n, projector
from vggviz.architecture import charts
from vggviz.architecture.layers import layer_table
from vggviz.i18n import _

pytestmark = pytest.mark.usefixtures("through_app_py")
ROOT_FONT = re.compile(r"html \{ font-size: ([\d.]+)px !important; \}")


def root_font(at) -> float | None:
    """The root font size the page's style sets, if any."""
    sizes = [float(m.group(1)) for h in at.get("html") for m in [ROOT_FONT.search(h.proto.body)] if m]
    assert len(sizes) <= 1, sizes
    return sizes[0] if sizes else None


def chart_height(at) -> int:
    return json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["height"]


def leave_button(at):
    return [b for b in at.button if b.key == "present_leave"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_present_link_makes_the_type_larger_across_page_switches(lang):
    at = app(lang=lang)
    at.query_params["present"] = "1"
    run(at)
    assert root_font(at) == 16 * projector.SCALE > 16
    with i18n.use(lang):
        assert [b.label for b in leave_button(at)] == [_("Leave projector mode")]
        assert at.sidebar.toggle(key=present.KEY).label == _("Projector mode")
    run(at.switch_page("pages/architecture.py"))
    assert at.query_params["present"] == "1", "kept in the link after a page switch"
    assert root_font(at) == 16 * projector.SCALE and leave_button(at)
    own = charts.feature_map_chart(layer_table("A", (224, 224))).layout.height
    assert chart_height(at) == round(own * projector.SCALE)


def test_without_the_link_the_page_is_as_it_was():
    at = run(app(lang="en").switch_page("pages/architecture.py"))
    assert root_font(at) is None and not leave_button(at) and "present" not in at.query_params
    assert chart_height(at) == charts.feature_map_chart(layer_table("A", (224, 224))).layout.height


def test_the_way_out_and_back_in():
    at = app(lang="en")
    at.query_params["present"] = "1"
    run(at)
    leave_button(at)[0].click()
    run(at)
    assert root_font(at) is None and not leave_button(at) and "present" not in at.query_params
    run(at.switch_page("pages/glossary.py"))
    assert root_font(at) is None, "still off on the next page"
    at.sidebar.toggle(key=present.KEY).set_value(True)
    run(at)
    assert root_font(at) == 16 * projector.SCALE and at.query_params["present"] == "1"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_qr_code_is_one_click_away_above_the_page(lang, monkeypatch):
    monkeypatch.delenv("VGGVIZ_PUBLIC_URL", raising=False)
    with one_runtime() as runtime:
        at = app(lang=lang)
        at.context = {"url": "http://192.168.1.20:8501/"}
        at.query_params["present"] = "1"
        at.session_state[present.POPOVER] = True  # the popover's button clicked
        run(at.switch_page("pages/glossary.py"))
        assert pictures(at, runtime, at.main) == [f"http://192.168.1.20:8501/?lang={lang}"]
