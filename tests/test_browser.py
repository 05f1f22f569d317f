"""End-to-end in a real browser: Playwright drives Debian's Chromium against `streamlit run app.py`,
started here on 127.0.0.1 at a free port. Screenshots go to artifacts/screenshots/ (the README's
come from there). Skips, saying why, only when no Chromium can be had."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

import report
from helpers import encode, free_port, photo
from vggviz.photo import images, inference

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PAGES = ["Home", "Architecture", "Compare configurations", "The lecture's arithmetic", "See a receptive field",
         "Predict", "Feature maps", "Attributions"]
TIMEOUT = 120_000  # ms: a cold model on two CPU cores

pytestmark = pytest.mark.slow

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser tests skipped",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-test.txt)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, TORCH_HOME=str(tmp_path_factory.mktemp("torch")))  # no weights: untrained fallback
    env.pop("VGGVIZ_WEIGHTS_URL", None)
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"streamlit did not start: {pathlib.Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.text} @ {m.location.get('url')}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.goto(url)

    def settle(self) -> None:
        """Wait until the script run is over (no spinner / running indicator) and check for failures."""
        self.page.wait_for_timeout(300)
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT)
        self.page.wait_for_timeout(300)
        boxes = self.page.locator('[data-testid="stException"]')
        assert boxes.count() == 0, boxes.first.inner_text()
        assert not self.errors, self.errors

    def open(self, title: str) -> None:
        self.page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        self.page.get_by_role("heading", level=1).first.wait_for()
        self.settle()

    def shot(self, name: str) -> None:
        folder = report.artifacts() / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=False)

    def close(self) -> None:
        self.context.close()


def slug(title: str) -> str:
    return title.lower().replace("'", "").replace(" ", "_")


def test_every_page_opens_without_errors(server, browser):
    w = Watched(browser, server)
    w.settle()
    for title in PAGES:
        w.open(title)
        w.shot(slug(title))
    w.close()


def test_architecture_follows_configuration_and_input_size_and_downloads_csv(server, browser, tmp_path):
    w = Watched(browser, server)
    w.open("Architecture")
    page = w.page
    assert "138,357,544" in page.locator('[data-testid="stMetric"]').first.inner_text()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="A (vgg11, 11 weight layers)").click()
    w.settle()
    assert "132,863,336" in page.locator('[data-testid="stMetric"]').first.inner_text()
    assert page.locator(".js-plotly-plot").count() >= 1
    box = sidebar.get_by_label("Input size", exact=True).and_(sidebar.locator("input"))
    box.fill("320x240")
    box.press("Enter")
    w.settle()
    assert "Input 320×240" in page.get_by_text("Input 320×240").first.inner_text()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the table as CSV").click()
    path = tmp_path / "table.csv"
    info.value.save_as(path)
    text = path.read_text()
    assert text.startswith("name,type,kernel") and "3×320×240" in text and "\ntotal," in text
    w.close()


def test_photo_journey_predictions_feature_maps_attributions(server, browser, tmp_path):
    w = Watched(browser, server)
    w.open("Predict")
    page = w.page
    page.get_by_text("Top predictions").first.wait_for()
    assert page.get_by_text("Untrained weights").count() >= 1
    page.get_by_text("Upload", exact=True).click()
    w.settle()
    upload = tmp_path / "my photo.png"
    upload.write_bytes(encode(photo(9)))
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    page.get_by_text("The photo as the model sees it").first.wait_for()
    w.settle()
    w.shot("predict_upload")
    w.open("Feature maps")
    assert page.locator('[data-testid="stImage"]').count() >= 2
    w.shot("feature_maps_upload")
    w.open("Attributions")
    page.get_by_text("Saliency for").first.wait_for()
    page.get_by_text("Sanity check").first.wait_for()
    w.settle()
    assert page.locator('[data-testid="stImage"]').count() >= 6  # map, colour bar, five block strips
    w.shot("attributions_upload")
    with page.expect_download() as info:  # made on the click (a deferred download), not on every rerun
        page.get_by_role("button", name="Download raw attribution (.npy)").click()
    got = np.load(info.value.path())
    with page.expect_download() as info:
        page.get_by_role("button", name="Download picture (PNG)").click()
    assert Image.open(info.value.path()).size == (224, 224)
    w.settle()
    w.close()
    # The server's saliency equals captum's, called here on the same untrained vgg16 and photo.
    from captum.attr import Saliency

    lm = inference.load_model("D", "random")
    result = inference.run(lm, images.decode_image(upload.read_bytes(), upload.name), features=False)
    x = inference.prepare(images.decode_image(upload.read_bytes(), upload.name), "imagenet").unsqueeze(0)
    expected = Saliency(lm.model).attribute(x.requires_grad_(), target=int(result.probs.argmax()))
    np.testing.assert_allclose(got.reshape(expected.shape), expected.detach().numpy(), rtol=1e-3, atol=1e-6)


def test_a_sub_page_url_opened_first_gets_the_app_navigation(server, browser):
    w = Watched(browser, f"{server}/architecture")
    w.page.get_by_role("heading", level=1).first.wait_for()
    # Streamlit probes its endpoints relative to a sub-page URL first; those 404s are its own, not ours.
    w.errors = [e for e in w.errors if "/architecture/_stcore/" not in e and "404" not in e]
    w.settle()
    nav = w.page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "The lecture's arithmetic" in nav and "\napp\n" not in f"\n{nav}\n"
    w.close()


def test_four_students_at_once(server, browser):
    students = [Watched(browser, server) for _ in range(4)]
    for s in students:
        s.page.locator('[data-testid="stSidebarNav"]').get_by_text("Predict", exact=True).click()
    captions = []
    for s in students:
        s.page.get_by_text("Top predictions").first.wait_for()
        s.settle()
        captions.append(s.page.get_by_text("forward pass with every conv layer").first.inner_text().split(" · ")[0])
    assert len(set(captions)) == 1, captions  # the same model, the same answer
    for s in students:
        s.close()
