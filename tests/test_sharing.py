"""The join address and its QR code: the code decodes, with OpenCV (an independent decoder, installed with
grad-cam), to exactly the address expected here, written out by hand for each case: a public URL, a Host-derived
one, the browser's, with a page, a lesson step and a unit; query values escaped; a bad public URL says so."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
from PIL import Image

from vggviz import i18n, sharing
from vggviz.sharing import ShareError


def decoded(png: bytes) -> str:
    """What OpenCV reads off the PNG. QRCodeDetectorAruco: the classic detector misses codes on a white page
    (REFERENCE.md §13)."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    text, points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    assert points is not None, "OpenCV found no QR code"
    return text


CASES = [
    # (environment, browser URL, Host header, forwarded proto, current page, page, query) -> expected address
    pytest.param({"VGGVIZ_PUBLIC_URL": "https://vgg.school.example/"}, "http://127.0.0.1:8501/", None, None, "", "",
                 None, "https://vgg.school.example/?lang=zh", id="public"),
    pytest.param({"VGGVIZ_PUBLIC_URL": "https://school.example/vggviz"}, None, None, None, "", "lesson",
                 {"step": "3"}, "https://school.example/vggviz/lesson?lang=zh&step=3", id="public-under-a-path-step"),
    pytest.param({}, None, "192.168.1.20:8501", None, "", "", None, "http://192.168.1.20:8501/?lang=zh", id="host"),
    pytest.param({}, None, "vgg.lan", "https", "", "channel", {"config": "vgg16", "layer": "conv4_3", "channel": "12"},
                 "https://vgg.lan/channel?lang=zh&config=vgg16&layer=conv4_3&channel=12", id="host-behind-tls-unit"),
    pytest.param({}, "http://192.168.1.20:8501/lesson", "ignored:1", None, "lesson", "", None,
                 "http://192.168.1.20:8501/?lang=zh", id="browser-page-trimmed"),
    pytest.param({}, "http://192.168.1.20:8501/lesson", None, None, "lesson", "lesson", {"step": "6", "lang": "en"},
                 "http://192.168.1.20:8501/lesson?lang=zh&step=6", id="browser-step-lang-once"),
    pytest.param({}, "http://10.0.0.5:8501/feature_maps", None, None, "feature_maps", "feature_maps", None,
                 "http://10.0.0.5:8501/feature_maps?lang=zh", id="browser-page"),
    pytest.param({}, "http://h:8501/", None, None, "", "channel", {"layer": "conv 1&2=x", "channel": "#5/é"},
                 "http://h:8501/channel?lang=zh&layer=conv+1%262%3Dx&channel=%235%2F%C3%A9", id="escaped"),
]


@pytest.mark.parametrize(("environ", "url", "host", "proto", "current", "page", "query", "expected"), CASES)
def test_the_qr_code_decodes_to_exactly_the_join_address(environ, url, host, proto, current, page, query, expected):
    got, problems = sharing.address("zh", browser_url=url, host=host, forwarded_proto=proto, current_page=current,
                                    page=page, query=query, environ=environ)
    assert (got, problems) == (expected, [])
    assert decoded(sharing.qr_png(got)) == expected


def test_the_png_is_large_and_black_on_white_with_a_quiet_zone():
    url = "https://vgg.school.example/lesson?lang=en&step=12"
    image = np.asarray(Image.open(io.BytesIO(sharing.qr_png(url))).convert("L"))
    assert image.shape[0] == image.shape[1] >= 300
    assert set(np.unique(image)) == {0, 255}
    quiet = sharing.QUIET_ZONE * sharing.PNG_SCALE
    assert (image[:quiet] == 255).all() and (image[:, :quiet] == 255).all()
    assert (image[-quiet:] == 255).all() and (image[:, -quiet:] == 255).all()
    assert (image[quiet:quiet + sharing.PNG_SCALE, quiet:quiet + sharing.PNG_SCALE] == 0).all()  # a finder's corner


def rasterised(svg: str, scale: int = 8) -> bytes:
    """A PNG of an SVG whose dark modules are one stroked path of ``M``/``m`` moves and ``h`` runs, each run a row of
    modules at height y + 0.5 (how segno writes it): read here from the SVG text, not from segno's matrix."""
    root = ET.fromstring(svg.encode("utf-8"))
    side = int(float(root.get("width"))) // 10  # written at scale 10
    dark = next(e for e in root.iter() if e.get("stroke") == "#000")
    grid = np.full((side, side), 255, np.uint8)
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", dark.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            grid[int(y), int(x):int(x + float(a))] = 0
            x += float(a)
    buf = io.BytesIO()
    Image.fromarray(np.kron(grid, np.ones((scale, scale), np.uint8))).save(buf, format="PNG")
    return buf.getvalue()


def test_the_svg_decodes_to_the_same_address():
    url = "https://vgg.school.example/channel?lang=en&config=vgg16&layer=conv5_3&channel=7"
    svg = sharing.qr_svg(url)
    assert ET.fromstring(svg.encode("utf-8")).tag.endswith("svg")
    assert decoded(rasterised(svg)) == url


@pytest.mark.parametrize("value", ["ftp://vgg.example", "vgg.school.example", "javascript:alert(1)", "https://",
                                   "file:///etc/passwd"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_public_url_gives_one_clear_translated_message(value, lang):
    with i18n.use(lang):
        got, problems = sharing.address(lang, browser_url="http://10.0.0.5:8501/", environ={"VGGVIZ_PUBLIC_URL": value})
        assert got == f"http://10.0.0.5:8501/?lang={lang}"  # the browser's address instead
        assert len(problems) == 1
        message = str(problems[0])
    assert "VGGVIZ_PUBLIC_URL" in message and repr(value) in message
    assert ("http://" in message) and (("地址" in message) if lang == "zh" else ("address" in message))
    with pytest.raises(ShareError):
        sharing.public_url({"VGGVIZ_PUBLIC_URL": value})


def test_no_address_at_all_says_what_to_set():
    with pytest.raises(ShareError) as err, i18n.use("zh"):
        sharing.address("zh", environ={})
    with i18n.use("zh"):
        assert "VGGVIZ_PUBLIC_URL" in str(err.value) and "地址" in str(err.value)


def test_hostile_hosts_and_schemes_are_not_used():
    assert sharing.host_root("evil.example/path") is None and sharing.host_root("") is None
    assert sharing.host_root("vgg.lan", "javascript") == "http://vgg.lan"
    assert sharing.browser_root("javascript:alert(1)") is None


@pytest.mark.parametrize("url", ["http://localhost:8501/", "http://127.0.0.1:8501/lesson", "http://[::1]:8501/",
                                 "http://app.localhost:8501/"])
def test_an_address_of_this_machine_only_is_shared_with_a_warning(url):
    with i18n.use("en"):
        got, problems = sharing.address("en", browser_url=url, current_page="lesson" if "lesson" in url else "",
                                        environ={})
        assert got.startswith(url.split("/lesson")[0].rstrip("/") + "/?lang=en")
        assert [p.code for p in problems] == ["loopback"] and "Network URL" in str(problems[0])
    assert sharing.address("en", browser_url=url, environ={"VGGVIZ_PUBLIC_URL": "https://vgg.lan"})[1] == []
    assert sharing.address("en", browser_url="http://192.168.1.20:8501/", environ={})[1] == []
    assert sharing.address("en", browser_url="http://localhost.example:8501/", environ={})[1] == []
