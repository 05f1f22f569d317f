"""Take a photo in a real browser: Chromium's fake camera (a generated test pattern, permission granted without
asking) on Predict, the predictions shown equal to the engine's for the photo the browser took, read back from
the page. Twice: straight from ``streamlit run`` over the loopback (http://127.0.0.1 is a secure context, so
the camera is allowed), and as phones on the school's network reach it, through HAProxy over HTTPS
(deploy/serve.py --https, its certificate made by deploy/certificate.py and trusted by this Chromium through
its public key, as a phone that installed the classroom's authority trusts it: a secure context, no
warning clicked away). Uses test_browser's server and page helpers (Playwright driving Debian's Chromium;
waits with ``expect``)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from test_browser import (ARGS, CHROMIUM, Student, assert_own_top_five, expect, server,  # noqa: F401  (fixture)
                          shown_predictions, sync_playwright)
from deploy import certificate
from haproxy_class import loopback_certificate, served
from vggviz.photo import images, inference

pytestmark = pytest.mark.slow
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def class_certificate(tmp_path_factory):
    return loopback_certificate(tmp_path_factory.mktemp("certificate"))


@pytest.fixture(scope="module")
def https_server(tmp_path_factory, class_certificate, front_end):
    """One replica behind HAProxy over HTTPS, nginx serving the front end, as ``python deploy/serve.py
    --https`` serves a class."""
    with served(tmp_path_factory.mktemp("https"), ("r1",), class_certificate, front_end) as c:
        yield c.url


@pytest.fixture(scope="module")
def camera_browser(class_certificate):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + FAKE_CAMERA + [
            f"--ignore-certificate-errors-spki-list={certificate.public_key_pin(class_certificate.server)}"])
        yield b
        b.close()


@pytest.mark.parametrize("served_by", ["server", "https_server"], ids=["loopback", "https"])
def test_take_a_photo_on_predict_and_see_its_predictions(served_by, request, camera_browser):
    url = request.getfixturevalue(served_by)
    s = Student(camera_browser, f"{url}/?lang=en")
    # A secure context (the camera needs one), over TLS where the class is served so.
    assert s.page.evaluate("() => [window.isSecureContext, location.protocol]") == [
        True, "https:" if served_by == "https_server" else "http:"]
    if served_by == "https_server":  # as a class's browsers speak it (bench/client.py, a test client, speaks 1.2)
        assert s.page.reload().security_details()["protocol"] == "TLS 1.3"
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
    s.shot(f"predict_camera_{request.node.callspec.id}")
    s.close()
