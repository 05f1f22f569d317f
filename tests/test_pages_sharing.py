"""The "Share with the class" panel under AppTest, through app.py's navigation: on the home page and in the sidebar's
popover, in both languages, its picture decodes (OpenCV, an independent decoder) to exactly the expected address:
the browser's, else the configured public URL; "this page" adds the page and its query; a bad public URL says so."""

from __future__ import annotations

import base64

import pytest

from app_pages import app, run, through_app_py  # noqa: F401 (a fixture)
from helpers import one_runtime, plain
from test_sharing import decoded
from ui import sharing as ui_sharing

pytestmark = pytest.mark.usefixtures("through_app_py")
PNG_DATA = "data:image/png;base64,"
HEADINGS = {"en": "Share with the class: scan to join", "zh": "分享给全班：扫码加入"}


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.delenv("VGGVIZ_PUBLIC_URL", raising=False)
    with one_runtime() as rt:
        yield rt


def pictures(at, runtime, where=None) -> list[str]:
    """What OpenCV reads off each picture (in ``where``, else the whole page): the code is sent inline, as a
    ``data:`` URL (no media file)."""
    images = (where or at).get("image")
    out = []
    for image in images:
        for img in image.proto.imgs:
            assert img.url.startswith(PNG_DATA), img.url[:40]
            out.append(decoded(base64.b64decode(img.url[len(PNG_DATA):])))
    return out


def clicked(runtime, button) -> bytes:
    """The file a click on a deferred download ``button`` gives, made as Streamlit's server makes it."""
    url = runtime.media_file_mgr.execute_deferred(button.proto.deferred_file_id)
    return runtime.media_file_mgr._storage.get_file(url.rsplit("/", 1)[-1].split(".")[0]).content


def texts(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_home_panel_shows_the_browsers_address_in_both_languages(lang, runtime):
    at = app(lang=lang)
    at.context = {"url": "http://192.168.1.20:8501/"}
    run(at)
    assert HEADINGS[lang] in texts(at)
    expected = f"http://192.168.1.20:8501/?lang={lang}"
    assert pictures(at, runtime) == [expected]
    assert f"### {expected}" in [plain(m.value) for m in at.markdown], "the address in large type"
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == (["Download PNG", "Download SVG"] if lang == "en" else ["下载 PNG", "下载 SVG"])
    # The files are made when a student clicks (as Streamlit's server does on a click), not on every run.
    assert all(b.proto.deferred_file_id for b in buttons)
    png, svg = (clicked(runtime, b) for b in buttons)
    assert decoded(png) == expected
    assert svg.startswith(b"<?xml") and f"<title>{expected}</title>".encode() in svg


def sidebar_page(path: str, lang: str = "en", url: str | None = "http://192.168.1.20:8501/", this_page: bool = False,
                 state: dict | None = None, **query: str):
    """``path`` opened with ``query`` (and session ``state``), the sidebar's share popover open (and "this page"
    ticked)."""
    at = app(lang=lang, **(state or {}))
    at.context = {"url": url}
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state[ui_sharing.POPOVER] = True
    if this_page:
        at.session_state["share_sidebar_this_page"] = this_page
    return run(at.switch_page(path))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sidebar_popover_shares_the_lesson_step(lang, runtime):
    at = sidebar_page("pages/lesson.py", lang, this_page=True, step="3", seed="42")
    assert at.query_params["step"] == "3"
    assert pictures(at, runtime, at.sidebar) == [f"http://192.168.1.20:8501/lesson?lang={lang}&step=3"]
    at.sidebar.checkbox(key="share_sidebar_this_page").uncheck()
    run(at)
    assert pictures(at, runtime, at.sidebar) == [f"http://192.168.1.20:8501/?lang={lang}"]


def test_the_sidebar_popover_shares_a_channel_pages_unit_under_the_public_url(runtime, monkeypatch):
    monkeypatch.setenv("VGGVIZ_PUBLIC_URL", "https://vgg.school.example")
    at = sidebar_page("pages/channel.py", this_page=True, config="vgg11", layer="conv3_1", channel="5")
    assert pictures(at, runtime, at.sidebar) == [
        "https://vgg.school.example/channel?lang=en&config=vgg11&layer=conv3_1&channel=5"]


def test_the_sidebar_popover_shares_the_server_checkpoint_chosen(runtime, monkeypatch, tmp_path):
    """A teacher who trained a model on the Train page puts its feature maps on the projector: the code opens the page
    with that checkpoint chosen (?ckpt=)."""
    import torch

    from vggviz.architecture.model import build_model

    torch.save(build_model("A", hidden=16, num_classes=5, seed=3).state_dict(), tmp_path / "flowers.pth")
    monkeypatch.setenv("VGGVIZ_CHECKPOINTS", str(tmp_path))
    at = sidebar_page("pages/feature_maps.py", this_page=True, state={"weights": "checkpoint"})
    assert at.sidebar.selectbox(key="ckpt_choice").value == "flowers.pth"
    # The page writes its choice into the address; the panel, drawn before the page, reads it at the next run.
    run(at)
    assert pictures(at, runtime, at.sidebar) == ["http://192.168.1.20:8501/feature_maps?lang=en&ckpt=flowers.pth"]
    at.sidebar.radio(key="weights").set_value("random")
    run(run(at))
    assert pictures(at, runtime, at.sidebar) == ["http://192.168.1.20:8501/feature_maps?lang=en"]


def test_a_closed_popover_makes_no_code(runtime):
    at = app(lang="en")
    at.context = {"url": "http://192.168.1.20:8501/"}
    run(at.switch_page("pages/glossary.py"))
    assert not at.sidebar.get("image") and not at.get("download_button")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_public_url_says_so_and_the_browsers_address_is_shared(lang, runtime, monkeypatch):
    monkeypatch.setenv("VGGVIZ_PUBLIC_URL", "ftp://vgg.school.example")
    at = app(lang=lang)
    at.context = {"url": "http://192.168.1.20:8501/"}
    run(at)
    warnings = [plain(w.value) for w in at.warning if w.icon == ":material/link_off:"]
    assert len(warnings) == 1 and "VGGVIZ_PUBLIC_URL" in warnings[0] and "'ftp://vgg.school.example'" in warnings[0]
    assert ("地址" in warnings[0]) == (lang == "zh")
    assert pictures(at, runtime) == [f"http://192.168.1.20:8501/?lang={lang}"]


def test_a_page_that_stops_still_has_the_popover(runtime):
    at = sidebar_page("pages/predict.py", this_page=True, state={"photo_source": "Upload"})
    assert at.title[0].value == "What does VGG see?" and not at.slider  # stopped: Upload chosen, no photo there
    assert pictures(at, runtime, at.sidebar) == ["http://192.168.1.20:8501/predict?lang=en"]
