"""Take a photo in a real browser: Chromium's fake camera (a generated test pattern, permission granted without
asking) on Predict over the loopback (http://127.0.0.1 is a secure context, so the camera is allowed); the
predictions shown equal the engine's for the photo the browser took, read back from the page. Uses
test_browser's server and page helpers (Playwright driving Debian's Chromium; waits with ``expect``)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from test_browser import (ARGS, CHROMIUM, Student, assert_own_top_five, expect, server,  # noqa: F401  (fixture)
                          shown_predictions, sync_playwright)
from vggviz.photo import images, inference

pytestmark = pytest.mark.slow
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def camera_browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + FAKE_CAMERA)
        yield b
        b.close()


def test_take_a_photo_on_predict_and_see_its_predictions(server, camera_browser):  # noqa: F811
    s = Student(camera_browser, f"{server}/?lang=en")
    s.context.grant_permissions(["camera"])
    s.use_configuration_a()
    s.open("pages/predict.py")
    s.ready("pages/predict.py", "en")
    s.page.locator(".st-key-photo_source").get_by_test_id("stRadioOption").nth(2).click()
    camera = s.page.locator(".st-key-photo_camera")
    take = camera.get_by_test_id("stCameraInputButton")
    expect(take).to_be_enabled()  # the fake camera streams
    # Its first frames are black: wait until the video has played a moment (its test pattern shows).
    expect(camera.locator("video")).to_have_js_property("readyState", 4)
    s.page.wait_for_function("() => document.querySelector('.st-key-photo_camera video').currentTime > 1")
    take.click()
    shown = camera.locator("img")
    expect(shown).to_have_js_property("complete", True)
    # The photo as the browser took it (a JPEG data URL, the same bytes it uploads to the server).
    encoded = shown.evaluate("""async img => {
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let s = ""; for (const b of bytes) s += String.fromCharCode(b); return btoa(s); }""")
    data = base64.b64decode(encoded)
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG
    picture = images.decode_image(data, "camera.jpg")
    assert np.asarray(picture).std() > 10, "the photo is blank"  # the fake camera's pattern, not a black frame
    lm = inference.load_model("A", "random")
    probs = inference.run(lm, picture, lm.preprocess, features=False).probs
    sample = inference.run(lm, images.sample(next(iter(images.SAMPLES))), lm.preprocess, features=False).probs
    assert_own_top_five(shown_predictions(s, probs), probs, [sample])  # the camera photo's, not the sample's
    s.settle()
    s.shot("predict_camera")
    s.close()
