"""In a real browser: click a unit of the enlarged channel on the feature-maps page and read its computation;
the effective-receptive-field charts render on the receptive-field page. Uses test_browser's server, browser
and page helpers (Playwright driving Debian's Chromium; waits with ``expect``).

Texts are matched in either language: on a fresh server, the first rerun after a page switch sometimes comes
back with the sidebar's language radio on 中文 (its first option), on main too (see the report of issue 12)."""

from __future__ import annotations

import re

import pytest

from test_browser import TIMEOUT, Watched, browser, server, sync_api  # noqa: F401  (fixtures)
from vggviz import i18n

pytestmark = pytest.mark.slow
expect = sync_api.expect


def either(template: str, **params) -> re.Pattern:
    """``template`` filled in, as English or as the Chinese catalogue has it."""
    with i18n.use("zh"):
        chinese = i18n._(template, **params)
    return re.compile(f"{re.escape(template.format(**params))}|{re.escape(chinese)}")


def test_click_a_unit_and_see_its_computation(server, browser):  # noqa: F811
    w = Watched(browser, server)
    w.open("Feature maps")
    page = w.page
    expect(page.get_by_text(either("One unit's computation"))).to_be_visible(timeout=TIMEOUT)
    picture = page.frame_locator('iframe[title*="image_coordinates"]').locator("img")
    expect(picture).to_be_visible(timeout=TIMEOUT)
    w.settle()  # click once the run is over
    picture.click(position={"x": 1, "y": 1})  # the top-left unit of conv1_1's 224×224 map
    expect(page.get_by_text(either(
        "{layer} unit ({row}, {col}) sees rows {top}…{bottom}, columns {left}…{right} of the input",
        layer="conv1_1", row=0, col=0, top=-1, bottom=1, left=-1, right=1))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label(either("Row on the map"))).to_have_value("0")
    expect(page.get_by_text(either("red (R)"), exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".katex").nth(4)).to_be_visible(timeout=TIMEOUT)  # R, G, B, the sum, ReLU
    w.settle()
    page.locator(".katex").first.scroll_into_view_if_needed()
    w.shot("unit_computation")
    w.close()


def test_erf_charts_render(server, browser):  # noqa: F811
    w = Watched(browser, server)
    w.open("See a receptive field")
    page = w.page
    box = page.locator('[data-testid="stSidebar"]').get_by_label("Input size", exact=True)
    box.fill("96")  # small: every conv layer of vgg16 in a few seconds on a CPU
    box.press("Enter")
    w.settle()
    page.get_by_text(either("Measure the effective receptive field (loads a model)")).click()
    expect(page.get_by_text(either("Effective receptive field of {layer}, unit ({row}, {col})", layer="conv3_1",
                                   row=12, col=12))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(either("Cross-section through the unit"))).to_be_visible(timeout=TIMEOUT)
    w.settle()
    page.get_by_text(either("Chart every conv layer (the centre unit of each)")).click()
    expect(page.get_by_text(either("Theoretical and effective receptive field, every conv layer"))).to_be_visible(
        timeout=TIMEOUT)
    expect(page.get_by_text(either("{n} stacked 3×3 convs", n=3)).first).to_be_visible(timeout=TIMEOUT)
    w.settle()
    page.get_by_text(either("Cross-section through the unit")).scroll_into_view_if_needed()
    w.shot("effective_receptive_field")
    w.close()
