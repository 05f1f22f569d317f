"""Every page on a phone, in both languages: Debian's Chromium emulating Playwright's "Pixel 7" (412 px wide) and
"iPhone 13" (390 px) opens each page of docs/pictures.py's ``PHONE_PAGES`` (the pages the docs photograph on a
phone, with what each draws), waits until it is drawn, and checks that nothing makes the page scroll sideways:
the document is no wider than the screen, and every picture, canvas, SVG, chart and table lies within it (a wide
table scrolls inside itself). The sidebar, closed on a phone, opens from its button and its selections fit.
A phone is sent pictures at its own width (``vggviz.client``): a feature-map grid's natural width says so. And the
projector mode (``?present=1``) on a desktop screen: larger type, the QR code above the page, kept across pages.

One app server for the module, one browser; one browser context per phone and language, a fresh session per page
(a link, as a student opens it: configuration D, the first sample photo, untrained weights)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from docs.browser_app import ARGS, CHROMIUM, app_server
from docs.pictures import LOCALES, PHONE_PAGES, link, phone_screen, ready
from test_browser import expect, sync_playwright  # noqa: F401 (and its failure in CI without Chromium)
from ui import present, sharing
from vggviz import client, projector
from vggviz.architecture import configs
from vggviz.photo import render

TIMEOUT = 180_000  # ms: a cold VGG-16 on two busy CPU cores
PHONES = ("Pixel 7", "iPhone 13")

pytestmark = pytest.mark.slow

expect.set_options(timeout=TIMEOUT)

# What sticks out of the screen, seen from the page: the document's width, the main area's own scrolling, and every
# element of the main area (or of ``root``) whose box leaves the screen (pictures, canvases, SVGs, charts, tables, a
# long word), unless an ancestor that fits scrolls it sideways (a wide table's grid, a wide code block).
OVERFLOW = """(root) => {
  const vw = window.innerWidth, out = [];
  const doc = document.documentElement.scrollWidth;
  if (doc > vw) out.push(`document ${doc} px wide`);
  const scope = root ? document.querySelector(root) : document.querySelector('[data-testid="stMain"]');
  for (const box of root ? [] : [scope, scope.querySelector('[data-testid="stMainBlockContainer"]')]) {
    if (box && box.scrollWidth > box.clientWidth + 1) out.push(`${box.dataset.testid} scrolls: ${box.scrollWidth} px`);
  }
  const fits = r => r.left >= -1 && r.right <= vw + 1;
  // An ancestor that fits and scrolls sideways holds it; one that fits and clips holds anything but a picture or chart
  // (a progress bar's moving fill, KaTeX's MathML for screen readers), which must fit whole.
  const media = 'img, canvas, svg, .js-plotly-plot';
  const held = el => {
    const keeps = el.matches(media) || el.closest('.js-plotly-plot') ? ['auto', 'scroll']
                                                                     : ['auto', 'scroll', 'hidden', 'clip'];
    for (let a = el.parentElement; a && a !== scope; a = a.parentElement) {
      if (keeps.includes(getComputedStyle(a).overflowX) && fits(a.getBoundingClientRect())) return true;
    }
    return false;
  };
  for (const el of scope.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || fits(r) || held(el)) continue;
    const name = el.dataset.testid || el.className.baseVal || el.className || el.tagName;
    const where = `${Math.round(r.left)}..${Math.round(r.right)} px`;
    out.push(`${el.tagName.toLowerCase()} ${String(name).slice(0, 60)}: ${where}`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory.mktemp("phones"), flags=("--server.fileWatcherType", "none"),
                    start_s=60) as url:
        yield url


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield b
    b.close()


@pytest.fixture
def phone(request, browser, playwright):
    """(a page of a browser context that plays the phone, its language) for ``request.param`` = (phone, language)."""
    name, lang = request.param
    context = browser.new_context(**phone_screen(playwright.devices, name), locale=LOCALES[lang])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page, lang
    context.close()


def sidebar_opens(page) -> list[str]:
    """Open the closed sidebar from its button: its selections are shown within the screen, and so is its share
    panel; then close it."""
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    config = sidebar.locator(".st-key-config")
    config.scroll_into_view_if_needed()  # below the navigation: the sidebar scrolls
    expect(config).to_be_in_viewport()
    found = [f"sidebar: {problem}" for problem in page.evaluate(OVERFLOW, '[data-testid="stSidebar"]')]
    box = sidebar.bounding_box()
    if box["x"] < -1 or box["x"] + box["width"] > page.viewport_size["width"] + 1:
        found.append(f"sidebar: {box}")
    # the sidebar's "Share with the class" panel: its QR code and address fit the phone too
    sidebar.locator(f".st-key-{sharing.POPOVER}").get_by_role("button").click()
    panel = page.get_by_test_id("stPopoverBody")
    code = panel.get_by_test_id("stImage").locator("img")
    expect(code).to_have_js_property("complete", True)
    found += [f"share panel: {problem}" for problem in page.evaluate(OVERFLOW, '[data-testid="stPopoverBody"]')]
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    page.get_by_test_id("stSidebarCollapseButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    return found


@pytest.mark.parametrize("phone", [(name, lang) for name in PHONES for lang in LOCALES], indirect=True,
                         ids=lambda p: f"{p[0]}-{p[1]}")
def test_every_page_fits_the_phone(server, phone):
    page, lang = phone
    problems = []
    for picture in PHONE_PAGES:
        picture = replace(picture, lang=lang)
        page.goto(link(server, picture))
        ready(page, picture, expect)
        problems += [f"{picture.slug}: {p}" for p in page.evaluate(OVERFLOW, None)]
        if picture.page == "pages/home.py":
            problems += sidebar_opens(page)
    assert not problems, "\n".join(problems)



@pytest.mark.parametrize("phone", [("Pixel 7", "en")], indirect=True, ids=["Pixel 7-en"])
def test_the_check_sees_what_sticks_out(server, phone):
    """A picture wider than the screen and a long word, put on a drawn page, are both reported; a wide element in
    a box that scrolls sideways is not."""
    page, lang = phone
    picture = replace(next(p for p in PHONE_PAGES if p.page == "pages/glossary.py"), lang=lang)
    page.goto(link(server, picture))
    ready(page, picture, expect)
    assert page.evaluate(OVERFLOW, None) == []
    page.evaluate("""() => {
      const main = document.querySelector('[data-testid="stMainBlockContainer"]');
      const scroller = document.createElement('div');
      scroller.style.overflowX = 'auto';
      scroller.innerHTML = '<div id="inside" style="width: 900px; height: 5px"></div>';
      main.append(scroller);
    }""")
    assert page.evaluate(OVERFLOW, None) == []
    word = page.evaluate("""() => {
      const word = document.createElement('p');
      word.textContent = 'x'.repeat(200);
      document.querySelector('[data-testid="stMainBlockContainer"]').append(word);
      return word.getBoundingClientRect().width;
    }""")
    assert word <= page.viewport_size["width"], "the word's box fits: what sticks out is its text"
    assert any("scrolls" in f for f in page.evaluate(OVERFLOW, None))
    page.evaluate("""() => {
      document.querySelector('[data-testid="stMainBlockContainer"] > p:last-child').remove();
      const img = document.createElement('img');
      img.style.cssText = 'display: block; width: 600px; height: 10px';
      document.querySelector('[data-testid="stMainBlockContainer"]').append(img);
    }""")
    assert [f for f in page.evaluate(OVERFLOW, None) if f.startswith("img ")]

def test_a_phone_is_sent_the_feature_maps_at_its_width(server, browser, playwright):
    """The feature-map grid the page opens with (VGG-16's conv1_1: 64 maps of 224×224) reaches a desktop browser
    averaged down to fit the desktop's width, and a phone's to fit the phone's: their natural widths are those of
    the engine's grid at each width."""
    side = configs.DEFAULT_INPUT
    expected = {name: render.tile(np.zeros((64, side, side), np.float32), max_width=client.picture_width(phone)).width
                for name, phone in (("Desktop Chrome", False), ("Pixel 7", True))}
    assert expected["Pixel 7"] <= client.PHONE_WIDTH < expected["Desktop Chrome"]
    picture = next(p for p in PHONE_PAGES if p.page == "pages/feature_maps.py")
    for name, width in expected.items():
        context = browser.new_context(**phone_screen(playwright.devices, name), locale="en-US")
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(link(server, replace(picture, lang="en")))
            ready(page, replace(picture, lang="en"), expect)
            grid = page.get_by_test_id("stMain").get_by_test_id("stImage").locator("img").first
            expect(grid).to_have_js_property("naturalWidth", width)
        finally:
            context.close()


def test_projector_mode_on_a_projector(server, browser):
    """``?present=1`` on the teacher's 1400 px screen: the root type is ``projector.SCALE`` times Streamlit's
    16 px, the QR code is one click away above the page, both stay after a page switch from the sidebar (which
    drops the query: the app writes it back), and the way out puts the type back."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        root = page.locator("html")
        page.goto(f"{server}/glossary?present=1&lang=en")
        expect(root).to_have_css("font-size", f"{16 * projector.SCALE:g}px")
        share = page.get_by_test_id("stMain").locator(f".st-key-{present.POPOVER}")
        share.get_by_role("button").click()
        expect(page.get_by_test_id("stPopoverBody").get_by_role("img", name="QR code of http")).to_be_visible()
        page.keyboard.press("Escape")
        page.get_by_test_id("stSidebarNav").locator('a[href$="/architecture"]').click()
        expect(page).to_have_url(re.compile(r"/architecture\?(.*&)?present=1"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Architecture")
        expect(root).to_have_css("font-size", f"{16 * projector.SCALE:g}px")
        expect(share).to_be_visible()
        page.get_by_test_id("stMain").locator(".st-key-present_leave").get_by_role("button").click()
        expect(root).to_have_css("font-size", "16px")
        expect(page).not_to_have_url(re.compile(r"present="))
        expect(share).to_have_count(0)
    finally:
        context.close()
