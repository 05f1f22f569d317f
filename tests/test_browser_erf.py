"""In a real browser: click a unit of the enlarged channel on the feature-maps page and read its computation;
the effective-receptive-field charts render on the receptive-field page. Uses test_browser's server, browser
and page helpers (Playwright driving Debian's Chromium; waits with ``expect``)."""

from __future__ import annotations

import pytest

from test_browser import TIMEOUT, Watched, browser, server, sync_api  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = sync_api.expect


def test_click_a_unit_and_see_its_computation(server, browser):  # noqa: F811
    w = Watched(browser, server)
    w.open("Feature maps")
    page = w.page
    expect(page.get_by_text("One unit's computation")).to_be_visible(timeout=TIMEOUT)
    picture = page.frame_locator('iframe[title*="image_coordinates"]').locator("img")
    expect(picture).to_be_visible(timeout=TIMEOUT)
    w.settle()  # click once the run is over
    picture.click(position={"x": 1, "y": 1})  # the top-left unit of conv1_1's 224×224 map
    # Checked without words: in about one run in five the click's rerun comes back with the sidebar's language
    # radio on 中文 (its first option); see the report of issue 12. The computation must show either way.
    unit = page.locator('[data-testid="stNumberInput"] input')  # channel, then the unit's row and column
    expect(unit.nth(1)).to_have_value("0", timeout=TIMEOUT)
    expect(unit.nth(2)).to_have_value("0", timeout=TIMEOUT)
    expect(page.get_by_text("conv1_1").filter(has_text="(0, 0)").filter(has_text="-1…1").first).to_be_visible(
        timeout=TIMEOUT)
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
    page.get_by_text("Measure the effective receptive field (loads a model)").click()
    expect(page.get_by_text("Effective receptive field of conv3_1, unit (12, 12)")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Cross-section through the unit")).to_be_visible(timeout=TIMEOUT)
    page.get_by_text("Chart every conv layer (the centre unit of each)").click()
    expect(page.get_by_text("Theoretical and effective receptive field, every conv layer")).to_be_visible(
        timeout=TIMEOUT)
    expect(page.get_by_text("3 stacked 3×3 convs").first).to_be_visible(timeout=TIMEOUT)
    w.settle()
    page.get_by_text("Cross-section through the unit").scroll_into_view_if_needed()
    w.shot("effective_receptive_field")
    w.close()
