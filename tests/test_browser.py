"""End-to-end in a real browser: Playwright drives Debian's Chromium against `streamlit run app.py`,
started once here on 127.0.0.1 at a free port. Every page opens in both languages and is photographed
once its content is drawn (artifacts/screenshots/<page>_<lang>.png; the README's pictures come from
python -m docs.pictures).
Pages that need a model use configuration A (vgg11): no ImageNet file is on the test machine, so the
app runs untrained weights. Waits are Playwright's auto-retrying ``expect`` assertions, never sleeps.

Without Chromium or Playwright the tests skip, saying why, except in CI (``CI=true``), where they fail."""

from __future__ import annotations

import os
import pathlib
import re

import numpy as np
import pytest
from PIL import Image

import report
from docs.browser_app import ARGS, CHROMIUM, app_server
from helpers import encode, photo
from text_checks import CJK, english_runs
from ui.navigation import HOME, PAGES, SECTIONS
from vggviz.architecture import configs
from vggviz.photo import images, inference

TIMEOUT = 120_000  # ms: a cold model on two busy CPU cores
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = pytest.mark.slow


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: CI=true, so the browser tests must run", pytrace=False)
    pytest.skip(f"{reason}; browser tests skipped", allow_module_level=True)


if not os.path.exists(CHROMIUM):
    unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    unavailable("playwright is not installed (pip install -r requirements-test.txt)")

expect.set_options(timeout=TIMEOUT)
# Each page by its URL path (the navigation's own, language-free) and what it draws once it is ready:
# pictures, Plotly charts, tables.
SLUG = {p.path: "" if p.path == HOME else pathlib.Path(p.path).stem for p in PAGES}
# The navigation's "A photo through VGG", less Train, which has its own configuration choice (no sidebar model)
PHOTO_PAGES = {p.path for p in list(SECTIONS.values())[-1]} - {"pages/train.py"}
CONTENT = {
    "pages/home.py": {"metrics": 4},
    "pages/architecture.py": {"metrics": 4, "tables": 1, "charts": 1},
    "pages/compare.py": {"tables": 1, "charts": 2},
    "pages/arithmetic.py": {"tables": 4},
    "pages/receptive_field.py": {"images": 1},
    "pages/glossary.py": {"tables": 2},
    "pages/predict.py": {"images": 1, "charts": 1},
    "pages/feature_maps.py": {"images": 2},
    "pages/attributions.py": {"images": 7},  # the map, its colour bar, the five blocks' strip
    "pages/evaluate.py": {},  # waits for a zip
    "pages/train.py": {},  # waits for a zip
    "pages/lesson.py": {},
    "pages/channel.py": {},  # nothing prepared in this server's gallery: estimates and Start buttons
}
A_PARAMS = "132,863,336"  # configuration A (vgg11), the paper's Table 2: 133 M


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # No weights: the untrained fallback.
    with app_server(tmp_path_factory.mktemp("server"), flags=("--server.fileWatcherType", "none"),
                    start_s=60) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Student:
    """One browser session, its console errors and uncaught exceptions collected."""

    def __init__(self, browser, url: str, locale: str = "en-US", expected_errors: tuple[str, ...] = ()):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                           locale=locale)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.expected_errors = expected_errors  # resource URLs whose failure is Streamlit's own, not ours
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.goto(url)

    def _console(self, message) -> None:
        if message.type == "error" and message.location.get("url") not in self.expected_errors:
            self.errors.append(f"{message.text} @ {message.location.get('url')}")

    def heading(self):
        return self.page.get_by_role("heading", level=1).first

    def sidebar(self, key: str):
        """The sidebar widget with this key (Streamlit gives a keyed element the class st-key-<key>)."""
        return self.page.get_by_test_id("stSidebar").locator(f".st-key-{key}")

    def open(self, path: str) -> None:
        self.page.get_by_test_id("stSidebarNav").locator(f'a[href$="/{SLUG[path]}"]').click()
        expect(self.page).to_have_url(re.compile(rf"/{SLUG[path]}(\?|$)"))

    def choose(self, key: str, option: int) -> None:
        """Pick the option at ``option`` of the sidebar selectbox ``key`` (by position: labels are translated)."""
        self.sidebar(key).get_by_test_id("stSelectbox").click()
        self.page.get_by_role("option").nth(option).click()

    def use_configuration_a(self) -> None:
        """Choose configuration A on a page that shows its parameter count (home, architecture), and wait
        until the server has drawn it: a page switch before that would run the new page with the old one."""
        self.choose("config", configs.NAMES.index("A"))
        expect(self.sidebar("config").get_by_role("combobox")).to_have_value(re.compile(r"^A\b.*vgg11"))
        expect(self.page.get_by_test_id("stMetricValue").filter(has_text=A_PARAMS)).to_be_visible()

    def ready(self, path: str, lang: str) -> None:
        """Wait until ``path`` is drawn in ``lang`` (no rerun going on, every picture, chart and table drawn),
        then check it for failures."""
        page, want = self.page, CONTENT[path]
        if lang == "zh":
            expect(self.heading()).to_have_text(CJK)
        else:
            expect(self.heading()).not_to_have_text(CJK)
        self.settle(check=False)
        if "metrics" in want:
            expect(page.get_by_test_id("stMetricValue").nth(want["metrics"] - 1)).not_to_be_empty()
        if "images" in want:
            pictures = page.get_by_test_id("stImage").locator("img")
            expect(pictures.nth(want["images"] - 1)).to_be_visible()
            for i in range(want["images"]):
                expect(pictures.nth(i)).to_have_js_property("complete", True)
                expect(pictures.nth(i)).not_to_have_js_property("naturalWidth", 0)
        if "charts" in want:
            expect(page.locator(".js-plotly-plot .main-svg").nth(want["charts"] - 1)).to_be_visible()
        if "tables" in want:  # the grid's first cell, in the table it keeps for screen readers
            for i in range(want["tables"]):
                cell = page.get_by_test_id("stDataFrame").nth(i).get_by_test_id("glide-cell-0-0")
                expect(cell).to_have_text(re.compile(r"\S"))
        # the grids paint their canvas on the next frames
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        self.check()

    def settle(self, check: bool = True) -> None:
        """Wait until no script run is going on and nothing on the page is stale (then check for failures)."""
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0)
        expect(self.page.locator('[data-stale="true"]')).to_have_count(0)
        if check:
            self.check()

    def check(self) -> None:
        expect(self.page.get_by_test_id("stException")).to_have_count(0)
        assert not self.errors, self.errors

    def shot(self, name: str) -> None:
        folder = report.artifacts() / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=False)

    def upload(self, path: pathlib.Path) -> None:
        """Switch the photo picker to an upload (the second choice) and upload ``path``."""
        self.page.locator(".st-key-photo_source").get_by_test_id("stRadioOption").nth(1).click()
        uploader = self.page.locator(".st-key-photo_upload input[type=file]")
        uploader.set_input_files(str(path))

    def close(self) -> None:
        self.context.close()


def nav_text(s: Student) -> str:
    return s.page.get_by_test_id("stSidebarNav").inner_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_opens_in_both_languages(server, browser, lang):
    """A teacher's link with ?lang= opens every page in that language; each is photographed when drawn.
    The browser says the other language: the link wins."""
    s = Student(browser, f"{server}/?lang={lang}", locale="en-US" if lang == "zh" else "zh-CN")
    expect(s.heading()).to_be_visible()
    s.use_configuration_a()
    nav = nav_text(s)
    if lang == "zh":
        assert CJK.search(nav) and not [r for r in english_runs(nav)], nav
    else:
        assert not CJK.search(nav), nav
    # The photo pages first, straight after choosing A: a page without the configuration selector
    # (Compare, Glossary) drops its choice today (ui/__init__.py), and the photo pages would load vgg16.
    for path in sorted(SLUG, key=lambda p: (p != HOME, p not in PHOTO_PAGES)):
        s.open(path)
        s.ready(path, lang)
        expect(s.page).to_have_url(re.compile(rf"[?&]lang={lang}(&|$)"))
        if path in PHOTO_PAGES:  # vgg11, as chosen
            expect(s.sidebar("config").get_by_role("combobox")).to_have_value(re.compile(r"^A\b"))
        s.shot(f"{SLUG[path] or 'home'}_{lang}")
    s.close()


def test_the_language_follows_the_browser_then_the_students_choice(server, browser):
    s = Student(browser, server, locale="zh-CN")  # no ?lang=: the browser's language
    expect(s.heading()).to_have_text("走进 VGG")
    expect(s.page).to_have_url(re.compile(r"[?&]lang=zh(&|$)"))
    s.sidebar("lang").get_by_text("English", exact=True).click()
    expect(s.heading()).to_have_text("Inside VGG")
    expect(s.page).to_have_url(re.compile(r"[?&]lang=en(&|$)"))  # written back: the link carries it
    s.open("pages/compare.py")
    expect(s.heading()).to_have_text("Compare configurations")
    expect(s.page).to_have_url(re.compile(r"/compare\?(.*&)?lang=en(&|$)"))
    s.expected_errors = sub_page_probes(server, "compare")
    s.page.reload()  # the URL alone brings the choice back, over the browser's Chinese
    expect(s.heading()).to_have_text("Compare configurations")
    s.check()
    s.close()


def test_architecture_follows_configuration_and_input_size_and_downloads_csv(server, browser, tmp_path):
    s = Student(browser, f"{server}/?lang=en")
    s.open("pages/architecture.py")
    page = s.page
    params = page.get_by_test_id("stMetric").first.get_by_test_id("stMetricValue")
    expect(params).to_have_text("138,357,544")  # D (VGG-16), the default
    s.use_configuration_a()
    expect(params).to_have_text(A_PARAMS)
    box = s.sidebar("input_size").locator("input")
    box.fill("320x240")
    box.press("Enter")
    expect(page.get_by_test_id("stCaptionContainer").first).to_contain_text("Input 320×240")
    s.ready("pages/architecture.py", "en")
    with page.expect_download() as info:
        page.locator(".st-key-arch_csv").get_by_role("button").click()
    text = pathlib.Path(info.value.path()).read_text()
    total = [line.split(",") for line in text.splitlines() if line.startswith("total,")]
    assert text.startswith("name,type,kernel") and "3×320×240" in text and A_PARAMS.replace(",", "") in total[0]
    s.close()


def test_photo_journey_predictions_feature_maps_attributions(server, browser, tmp_path):
    s = Student(browser, f"{server}/?lang=en")
    s.use_configuration_a()
    s.open("pages/predict.py")
    s.ready("pages/predict.py", "en")
    upload = tmp_path / "my photo.png"
    upload.write_bytes(encode(photo(9)))
    lm = inference.load_model("A", "random")
    picture = images.decode_image(upload.read_bytes(), upload.name)
    probs = inference.run(lm, picture, lm.preprocess, features=False).probs
    s.upload(upload)
    expect(s.page.get_by_test_id("stFileChipName")).to_contain_text("my photo.png")
    sample = inference.run(lm, images.sample(next(iter(images.SAMPLES))), lm.preprocess, features=False).probs
    assert_own_top_five(shown_predictions(s, probs), probs, [sample])  # the upload's, not the sample's
    for path in ("pages/predict.py", "pages/feature_maps.py", "pages/attributions.py"):
        if path != "pages/predict.py":
            s.open(path)
        s.ready(path, "en")
        s.shot(f"{SLUG[path]}_upload")
    page = s.page
    with page.expect_download() as info:  # made on the click (a deferred download), not on every rerun
        page.locator(".st-key-dl_npy").get_by_role("button").click()
    got = np.load(info.value.path())
    with page.expect_download() as info:
        page.locator(".st-key-dl_png").get_by_role("button").click()
    assert Image.open(info.value.path()).size == (224, 224)
    s.check()
    s.close()
    # The server's saliency equals captum's, called here on the same untrained vgg11 and photo.
    from captum.attr import Saliency

    target = int(probs.argmax())
    x = inference.prepare(picture, lm.preprocess).unsqueeze(0)
    expected = Saliency(lm.model).attribute(x.requires_grad_(), target=target)
    np.testing.assert_allclose(got.reshape(expected.shape), expected.detach().numpy(), rtol=1e-3, atol=1e-6)


def sub_page_probes(server: str, slug: str) -> tuple[str, ...]:
    """The two endpoints Streamlit's client probes relative to a sub-page URL loaded directly, before it
    finds the real ones: their 404s are Streamlit's own."""
    return f"{server}/{slug}/_stcore/health", f"{server}/{slug}/_stcore/host-config"


def test_a_sub_page_url_opened_first_gets_the_app_navigation(server, browser):
    s = Student(browser, f"{server}/architecture", expected_errors=sub_page_probes(server, "architecture"))
    expect(s.heading()).to_contain_text("Architecture of")
    nav = s.page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("The lecture's arithmetic")
    expect(nav.get_by_text("app", exact=True)).to_have_count(0)  # not the legacy file-name menu
    s.check()
    s.close()


TOPK_CHART = ".st-key-topk_chart .js-plotly-plot"


def shown_predictions(s: Student, expected: np.ndarray) -> list[tuple[int, float]]:
    """The (class, probability) bars of the student's top-k chart, as Plotly holds them, once they are those
    of ``expected`` (the probabilities the test computed for that student's photo), or after the time-out."""
    matches = """([selector, expected]) => {
        const el = document.querySelector(selector);  // looked up each time: a rerun may replace it
        if (!el || !el.data) return false;
        const [ys, xs] = [Array.from(el.data[0].y), Array.from(el.data[0].x)];
        return ys.length > 0 && ys.every((y, i) => {
            const c = Number(/\\((\\d+)\\)$/.exec(y)[1]);
            return Math.abs(xs[i] - expected[c]) <= 1e-4 * expected[c];
        });
    }"""
    chart = s.page.locator(TOPK_CHART)
    expect(chart).to_be_visible()
    try:
        s.page.wait_for_function(matches, arg=[TOPK_CHART, expected.tolist()], timeout=TIMEOUT)
    except PlaywrightTimeout:  # the assertions on what the chart holds say what is wrong
        pass
    labels, probs = chart.evaluate("el => [Array.from(el.data[0].y), Array.from(el.data[0].x)]")
    return [(int(re.search(r"\((\d+)\)$", y).group(1)), float(p)) for y, p in zip(labels, probs)]


def assert_own_top_five(bars: list[tuple[int, float]], expected: np.ndarray, others: list[np.ndarray]) -> None:
    """``bars`` are the five most probable classes of ``expected`` (ties within float error either way), with
    its probabilities, and match none of the ``others`` (other photos' probabilities)."""
    assert len(bars) == 5, bars
    fifth = np.sort(expected)[-5]
    for c, p in bars:
        np.testing.assert_allclose(p, expected[c], rtol=1e-4)
        assert expected[c] >= fifth * (1 - 1e-4), (c, bars)
    for j, other in enumerate(others):
        assert any(abs(p - other[c]) > 1e-4 * other[c] for c, p in bars), f"the chart shows photo {j}'s result"


def test_four_students_at_once(server, browser, tmp_path):
    """Four sessions upload four different photos at the same moment; each chart shows that student's own
    photo's probabilities, as the engine computes them here, and matches no other student's photo."""
    photos = []
    for seed in range(4):
        path = tmp_path / f"student{seed}.png"
        path.write_bytes(encode(photo(seed + 20)))
        photos.append(path)
    lm = inference.load_model("A", "random")
    expected = [inference.run(lm, images.decode_image(p.read_bytes(), p.name), lm.preprocess, features=False).probs
                for p in photos]
    students = [Student(browser, f"{server}/?lang=en") for _ in photos]
    for s in students:
        s.use_configuration_a()
        s.open("pages/predict.py")
    for s in students:
        expect(s.page.locator(".st-key-photo_source")).to_be_visible()
    for s, path in zip(students, photos):  # all four uploads before any result is awaited
        s.upload(path)
    for i, s in enumerate(students):
        assert_own_top_five(shown_predictions(s, expected[i]), expected[i], expected[:i] + expected[i + 1:])
        s.check()
    for s in students:
        s.close()
