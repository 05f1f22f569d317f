"""In a real browser: click a unit of the enlarged channel on the feature-maps page and read its computation;
the effective-receptive-field charts render on the receptive-field page. Uses test_browser's server, browser
and page helpers (Playwright driving Debian's Chromium; waits with ``expect``). In English (``?lang=en``):
the language must survive every page switch and rerun."""

from __future__ import annotations

import pytest

from test_browser import Student, browser, expect, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_click_a_unit_and_see_its_computation(server, browser):  # noqa: F811
    w = Student(browser, f"{server}/?lang=en")
    w.open("pages/feature_maps.py")
    page = w.page
    expect(page.get_by_text("One unit's computation")).to_be_visible()
    picture = page.frame_locator('iframe[title*="image_coordinates"]').locator("img")
    expect(picture).to_be_visible()
    w.settle()  # click once the run is over
    picture.click(position={"x": 1, "y": 1})  # the top-left unit of conv1_1's 224×224 map
    expect(page.get_by_text("conv1_1 unit (0, 0) sees rows -1…1, columns -1…1 of the input")).to_be_visible()
    expect(page.get_by_label("Row on the map")).to_have_value("0")
    expect(page.get_by_text("red (R)", exact=True)).to_be_visible()
    expect(page.locator(".katex").nth(4)).to_be_visible()  # R, G, B, the sum, ReLU
    w.settle()
    page.locator(".katex").first.scroll_into_view_if_needed()
    w.shot("unit_computation")
    w.close()


def test_erf_charts_render(server, browser):  # noqa: F811
    w = Student(browser, f"{server}/?lang=en")
    w.open("pages/receptive_field.py")
    page = w.page
    box = w.sidebar("input_size").locator("input")
    box.fill("96")  # small: every conv layer of vgg16 in a few seconds on a CPU
    box.press("Enter")
    w.settle()
    page.get_by_text("Measure the effective receptive field (loads a model)").click()
    expect(page.get_by_text("Effective receptive field of conv3_1, unit (12, 12)")).to_be_visible()
    expect(page.get_by_text("Cross-section through the unit")).to_be_visible()
    w.settle()
    page.get_by_text("Chart every conv layer (the centre unit of each)").click()
    expect(page.get_by_text("Theoretical and effective receptive field, every conv layer")).to_be_visible()
    expect(page.get_by_text("3 stacked 3×3 convs").first).to_be_visible()
    w.settle()
    page.get_by_text("Cross-section through the unit").scroll_into_view_if_needed()
    w.shot("effective_receptive_field")
    w.close()
