"""The page "What each channel looks for" in a real browser (Playwright, Debian's Chromium, ``streamlit run
app.py``; test_browser's browser fixture and ``Student``). One server for the module, reading a fresh gallery
folder (``VGGVIZ_GALLERY``) that ``python -m vggviz visualize`` and ``python -m vggviz examples`` filled
before it started, as a teacher does before class: vgg11's conv2_1 channel 3, untrained weights, the page's
quick preset. A link opens that unit in Chinese and in English, a bad link says so, Feature maps' link opens
the unit it has enlarged, and a Start then Cancel leaves the gallery folder as it was (AppTest cannot click
Cancel during a run)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from docs.browser_app import ROOT, app_server
from test_browser import Student, browser, expect, sub_page_probes  # noqa: F401 (fixtures, and its failure in CI without Chromium)
from vggviz import i18n
from vggviz.i18n import _
from vggviz.learned import visualize

pytestmark = pytest.mark.slow
LAYER, CHANNEL = "conv2_1", 3
QUERY = f"config=vgg11&layer={LAYER}&channel={CHANNEL}"


def cli(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vggviz", *args, "--weights", "random", "--lang", "en"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return tmp_path_factory.mktemp("gallery")


@pytest.fixture(scope="module")
def server(tmp_path_factory, gallery):
    """The app, reading ``gallery``, once the unit's visualisation (the page's quick preset) and the sample
    photos' dataset examples are in it: the commands run while the server starts."""
    import os

    env = dict(os.environ, VGGVIZ_GALLERY=str(gallery))
    quick = visualize.QUICK
    made = [cli("visualize", "vgg11", "--layer", LAYER, "--channels", str(CHANNEL), "--steps", str(quick.steps),
                "--size", str(quick.size), "--upsample", "none", env=env),
            cli("examples", "samples", "--config", "vgg11", "--layers", LAYER, env=env)]
    with app_server(tmp_path_factory.mktemp("server"), flags=("--server.fileWatcherType", "none"),
                    env={"VGGVIZ_GALLERY": str(gallery)}, start_s=60) as url:
        for p in made:
            _out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
        yield url


def files(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


def block(w: Student, key: str):
    return w.page.locator(f".st-key-{key}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_link_opens_the_precomputed_unit_in_its_language(server, browser, lang):  # noqa: F811 (fixtures)
    w = Student(browser, f"{server}/channel?{QUERY}&lang={lang}", locale="en-US" if lang == "zh" else "zh-CN",
                expected_errors=sub_page_probes(server, "channel"))
    page, quick = w.page, visualize.QUICK
    with i18n.use(lang):
        expect(w.heading()).to_have_text(_("What each channel looks for"))
        caption = _("{layer}, channel {channel}: {steps} steps, {size} px, seed {seed}", layer=LAYER,
                    channel=CHANNEL, steps=quick.steps, size=quick.size, seed=0)
    expect(block(w, "ch_layer").get_by_role("combobox")).to_have_value(LAYER)
    expect(block(w, "ch_channel").locator("input")).to_have_value(str(CHANNEL))
    expect(w.sidebar("config").get_by_role("combobox")).to_have_value(re.compile(r"^A\b"))
    image = page.get_by_test_id("stImage").filter(has_text=caption)
    expect(image.locator("img")).to_have_js_property("complete", True)
    expect(image.locator("img")).not_to_have_js_property("naturalWidth", 0)
    patches = page.get_by_test_id("stImageCaption").filter(has_text=" · ")  # the prepared dataset examples
    expect(patches.first).to_be_visible()
    expect(page.get_by_test_id("stCode")).to_contain_text(f"/channel?{QUERY}&lang={lang}")
    expect(page).to_have_url(re.compile(rf"/channel\?{re.escape(QUERY)}&lang={lang}$"))
    w.settle()
    expect(block(w, "ch_vis_start")).to_have_count(0)  # read from the gallery folder, not optimised
    expect(page.locator('[data-testid="stAlertContentWarning"]').filter(has_text="conv")).to_have_count(0)
    w.shot(f"channel_link_{lang}")
    if lang == "en":  # the layer gallery computes only once opened: then it shows the prepared channel
        gallery_box = block(w, "ch_gallery_box")
        expect(gallery_box.get_by_test_id("stImage")).to_have_count(0)
        gallery_box.locator("summary").click()
        expect(gallery_box.get_by_test_id("stImageCaption")).to_have_text(f"{LAYER}: 1 of 8 channels ready")
        expect(block(w, "ch_gallery_start").get_by_role("button")).to_be_visible()  # the 7 others, on request
        w.settle()
    w.close()


def test_a_bad_link_says_so(server, browser):  # noqa: F811 (fixtures)
    w = Student(browser, f"{server}/channel?config=vgg11&layer=conv9_9&channel=-3&lang=en",
                expected_errors=sub_page_probes(server, "channel"))
    said = w.page.get_by_test_id("stAlert").filter(has_text="conv9_9")
    expect(said).to_contain_text("-3")
    expect(said.get_by_text("link_off")).to_have_count(1)  # the link's icon (a Material Symbols ligature)
    expect(block(w, "ch_layer").get_by_role("combobox")).to_have_value("conv5_2")  # the fallback
    expect(block(w, "ch_channel").locator("input")).to_have_value("0")
    w.settle()
    w.close()


def test_feature_maps_opens_the_channel_page_on_its_enlarged_unit(server, browser):  # noqa: F811 (fixtures)
    w = Student(browser, f"{server}/?lang=en")
    w.use_configuration_a()
    w.open("pages/feature_maps.py")
    page = w.page
    box = block(w, "fm_channel").locator("input")
    expect(box).to_be_visible()
    w.settle()
    box.fill("7")
    box.press("Enter")
    link = page.get_by_role("link", name="What does this channel look for?")
    expect(link).to_have_attribute("href", re.compile(r"channel=7(&|$)"))
    layer = block(w, "fm_layer_1").get_by_role("combobox").input_value()
    w.settle()
    link.click()
    expect(page).to_have_url(re.compile(rf"/channel\?config=vgg11&layer={layer}&channel=7&lang=en$"))
    expect(w.heading()).to_have_text("What each channel looks for")
    expect(block(w, "ch_layer").get_by_role("combobox")).to_have_value(layer)
    expect(block(w, "ch_channel").locator("input")).to_have_value("7")
    w.settle()
    w.close()


def test_cancel_stops_the_optimisation_and_keeps_nothing(server, browser, gallery):  # noqa: F811 (fixtures)
    w = Student(browser, f"{server}/channel?config=vgg11&layer=conv1_1&channel=5&lang=en",
                expected_errors=sub_page_probes(server, "channel"))
    start = block(w, "ch_vis_start").get_by_role("button")
    expect(start).to_be_visible()  # after the page has timed its estimate
    w.settle()
    before = files(gallery)
    start.click()
    # Running, a report drawn: any step (the bar moves on every 16 steps; polling may first see a later one).
    expect(w.page.get_by_test_id("stProgress").first).to_contain_text(re.compile(r"step \d+ of \d+"))
    block(w, "ch_vis_cancel").get_by_role("button").click()
    expect(w.page.get_by_text("Stopped before the end; nothing was kept.")).to_be_visible()
    expect(start).to_be_visible()
    w.settle()
    assert files(gallery) == before  # no image, no half-written entry
    w.close()
