"""Train in a real browser: a tiny zip made here (two classes of coloured squares), configuration A (vgg11) at
64×64, untrained (Xavier) weights since ImageNet's cannot be downloaded here, the head only, batch 4, no
augmentation, two epochs (the form filled as the pictures fill it, docs/browser_train.py); the live
curves appear, the job ends with its checkpoint saved, and "Open in Evaluate" opens Evaluate with that checkpoint
chosen in the sidebar. Playwright drives Debian's Chromium; waits are ``expect``'s, never sleeps."""

from __future__ import annotations

import re

import pytest

import tiny_training
from docs.browser_app import app_server
from docs.browser_train import fill_train_form
from test_browser import Student, browser, expect  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
RUN_MS = 300_000  # a training process starting and running on two busy cores


@pytest.fixture(scope="module")
def train_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train_server")
    env = {"VGGVIZ_CHECKPOINTS": str(folder / "checkpoints"), "VGGVIZ_DATA": str(folder / "data"),
           "VGGVIZ_JOBS": str(folder / "slots"), "VGGVIZ_TRAIN_THREADS": "1"}
    with app_server(folder, flags=("--server.fileWatcherType", "none"), env=env, start_s=60) as url:
        yield url, folder


def test_train_on_a_tiny_zip_watch_the_curves_and_open_the_result_in_evaluate(train_server, browser,  # noqa: F811
                                                                               tmp_path):
    url, folder = train_server
    data = tmp_path / "tiny.zip"
    data.write_bytes(tiny_training.zip_bytes())
    s = Student(browser, f"{url}/?lang=en")
    s.open("pages/train.py")
    page = s.page
    expect(s.heading()).to_have_text("Train")
    fill_train_form(page, expect, data, epochs=2)
    name = page.get_by_role("textbox", name="Checkpoint name")
    expect(name).to_have_value("vgg11-tiny.pth")
    s.settle()

    page.locator(".st-key-train_start button").click()
    expect(page).to_have_url(re.compile(r"[?&]job=[\w-]+"))
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=RUN_MS)  # the live curves
    saved = page.get_by_test_id("stAlertContentSuccess").filter(has_text="vgg11-tiny.pth")
    expect(saved).to_be_visible(timeout=RUN_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(3)  # curves, per class, confusion matrix
    assert (folder / "checkpoints" / "vgg11-tiny.pth").is_file()
    s.settle()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    s.shot("train_en")

    page.get_by_role("link", name="Open in Evaluate").click()
    expect(s.heading()).to_have_text("Evaluate a folder")
    expect(page).to_have_url(re.compile(r"/evaluate\?.*ckpt=vgg11-tiny\.pth"))  # an address to share or reload
    expect(s.sidebar("ckpt_choice").get_by_role("combobox")).to_have_value("vgg11-tiny.pth")
    s.settle()
    s.close()
