"""The app in both languages under AppTest, through app.py's navigation: the language choice (from
?lang=, the browser, or English; kept across pages and written back to the URL), every page with no
English sentence left in Chinese and no Chinese in English, and the glossary against the pages (against
the catalogue: test_terms.py). Photo pages run configuration A (vgg11) with untrained weights on a sample photo."""

from __future__ import annotations

import functools
import json
import re

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from app_pages import app, run, through_app_py  # noqa: F401 (a fixture)
from text_checks import CJK, english_runs
from ui.navigation import PAGES
from vggviz import i18n
from vggviz.glossary import TERMS

pytestmark = pytest.mark.usefixtures("through_app_py")
PAGE_PATHS = [p.path for p in PAGES]
TITLES = {"zh": "走进 VGG", "en": "Inside VGG"}  # the home page's title in each language

# --- what a person reads ----------------------------------------------------------------------------
# Proto fields that hold no reader-facing text: ids, paths, icons, formats, MIME types, code languages,
# and the payloads read separately below (Plotly's JSON, a table's Arrow bytes and column settings).
SKIP_FIELDS = {"id", "form_id", "url", "page", "page_script_hash", "icon", "type", "format", "mime", "language",
               "element_type", "tag", "theme", "config", "deferred_file_id", "spec", "data", "columns",
               "column_order", "default", "selection_mode"}
# Plotly: titles, legends, hover templates, annotations, and the cells of a table figure.
PLOTLY_TEXT = {"title", "text", "name", "hovertemplate", "values"}


def proto_strings(msg: Message):
    for field, value in msg.ListFields():
        if field.name in SKIP_FIELDS:
            continue
        for v in (value if field.is_repeated else [value]):
            if isinstance(v, Message):
                yield from proto_strings(v)
            elif isinstance(v, str):
                yield v


def plotly_strings(node, parent: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from plotly_strings(v, k if k in PLOTLY_TEXT else parent)
    elif isinstance(node, list):
        for v in node:
            yield from plotly_strings(v, parent)
    elif isinstance(node, str) and parent in PLOTLY_TEXT:
        yield node


def table_strings(element) -> list[str]:
    """A dataframe's column headers as shown (the column_config label, else the name) and its text cells."""
    settings = json.loads(element.proto.columns or "{}")
    frame = element.value
    out = [str(settings.get(str(c), {}).get("label") or c) for c in frame.columns]
    for column in frame.columns:
        out += [v for v in frame[column].tolist() if isinstance(v, str)]
    return out + [settings[c]["help"] for c in settings if settings[c].get("help")]


def texts(at: AppTest) -> list[str]:
    """Every string the rendered page shows: titles, markdown, captions, alerts, labels, help texts,
    options, metric labels, button labels, table headers and cells, and Plotly titles, axes and legends."""
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if type(node).__name__ == "Dataframe":
            out.extend(table_strings(node))
        elif isinstance(proto, Message):
            out.extend(proto_strings(proto))
            if getattr(proto, "spec", None):  # a Plotly chart
                out.extend(plotly_strings(json.loads(proto.spec)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


# --- rendering ----------------------------------------------------------------------------------------
@functools.cache
def rendered(lang: str) -> dict[str, list[str]]:
    """Every page's texts, rendered in one session that opened with ?lang=``lang``."""
    at = run(app(lang=lang))
    pages = {}
    for path in PAGE_PATHS:
        run(at.switch_page(path))
        assert at.query_params.get("lang") == lang and at.sidebar.radio(key="lang").value == lang
        pages[path] = texts(at)
    return pages


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_chinese_pages_have_no_english_sentences(path):
    shown = rendered("zh")[path]
    assert any(CJK.search(t) for t in shown), "the page shows no Chinese at all"
    exempt = {t.en for t in TERMS} if path.endswith("glossary.py") else set()  # the glossary's English column
    left = sorted({r for t in shown if t not in exempt for r in english_runs(t)})
    assert not left, f"English left on the Chinese page: {left}"


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_english_pages_have_no_chinese(path):
    exempt = set(i18n.LANGUAGES.values())  # the language choice names each language in itself
    if path.endswith("glossary.py"):
        exempt |= {t.zh for t in TERMS}  # the glossary's Chinese column
    found = sorted({t for t in rendered("en")[path] if t not in exempt and CJK.search(t)})
    assert not found, found


def test_the_checks_catch_what_they_look_for():
    assert english_runs("显示 ReLU 之后") == [] and english_runs("conv3_1 的 3×3 卷积核，vgg16") == []
    assert english_runs("the top 5 % is clipped") == ["the top", "is clipped"]
    assert english_runs("Simonyan & Zisserman，*Very Deep Convolutional Networks for Large-Scale Image "
                        "Recognition*，Adebayo et al.，`python -m vggviz summary vgg16`") == []
    assert english_runs("great white shark (2, 0.1%)") == []  # an ImageNet class name
    assert english_runs("积分梯度（Integrated gradients）") == []  # a gloss
    assert english_runs("（Integrated gradients，每步）") == ["Integrated gradients"]  # not a gloss
    assert CJK.search("感受野") and not CJK.search("receptive field × 3 — ρ")


# --- the glossary against the pages (against the catalogue: test_terms.py) -----------------------------
def normalised(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.lower())


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.en)
def test_each_glossary_term_is_on_its_page_in_both_languages(term):
    assert term.page in PAGE_PATHS
    assert term.zh in "\n".join(rendered("zh")[term.page])
    assert normalised(term.en) in normalised("\n".join(rendered("en")[term.page]))



# --- the language choice -------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "locale", "expected"), [
    ("zh", None, "zh"), ("en", "zh-CN", "en"),  # ?lang= first
    (None, "zh-CN", "zh"), (None, "zh-Hant-TW", "zh"), (None, "fr-FR", "en"), (None, None, "en"),  # the browser
    ("klingon", None, "en"), ("", "en-GB", "en"),  # an unknown value falls back silently
])
def test_the_first_language_comes_from_the_url_else_the_browser_else_english(lang, locale, expected):
    at = run(app(lang=lang, locale=locale))
    assert at.title[0].value == TITLES[expected]
    assert at.sidebar.radio(key="lang").value == expected
    assert at.query_params["lang"] == expected  # written back, so that the URL carries the language


def test_the_choice_survives_page_switches_and_is_written_to_the_url():
    at = run(app(lang="zh"))
    at.sidebar.radio(key="lang").set_value("en")
    run(at)
    assert at.title[0].value == TITLES["en"] and at.query_params["lang"] == "en"
    run(at.switch_page("pages/architecture.py"))
    assert at.query_params["lang"] == "en" and at.title[0].value.startswith("Architecture of")
    at.sidebar.radio(key="lang").set_value("zh")
    run(at)
    assert at.query_params["lang"] == "zh" and "网络结构" in at.title[0].value
    run(at.switch_page("pages/glossary.py"))
    assert at.title[0].value == "术语表" and at.query_params["lang"] == "zh"
    at.query_params.clear()  # the browser clears the query string on a page switch
    run(at.switch_page("pages/home.py"))
    assert at.title[0].value == TITLES["zh"] and at.query_params["lang"] == "zh"


def test_sessions_share_pages_made_once_per_language_each_with_copies_of_its_own(monkeypatch):
    """The navigation's st.Page objects are made once per server and language (making one resolves its page's
    path on disk: ui/navigation.py keeps them in st.cache_resource); each session gets copies of its own, since
    st.navigation marks the page it returns as callable once and two sessions sharing one object would clear
    each other's mark. The navigation and the home page's links are titled in the language of the moment and
    point at the pages."""
    import streamlit as st

    from ui import navigation

    navigation._prototypes.clear()
    made = []
    real = st.Page
    monkeypatch.setattr(st, "Page", lambda *a, **k: made.append(k["title"]) or real(*a, **k))
    at = run(app(lang="en"))
    assert len(made) == len(PAGES) and "Predict" in made
    run(at.switch_page("pages/architecture.py"))
    other = run(app(lang="en"))  # a second student
    run(at.switch_page("pages/home.py"))
    assert len(made) == len(PAGES)  # two sessions, four runs, one set
    ours, theirs = at.session_state[navigation._BUILT][1], other.session_state[navigation._BUILT][1]
    assert ours.keys() == theirs.keys() == {p.path for p in PAGES}
    for path in ours:
        assert ours[path] is not theirs[path] and ours[path].url_path == theirs[path].url_path
    at.sidebar.radio(key="lang").set_value("zh")
    run(at)
    assert len(made) == 2 * len(PAGES) and "预测" in made[len(PAGES):]
    links = [e.proto for e in at.main.get("page_link")]
    assert links and all(link.page_script_hash for link in links)
    assert any(link.label.startswith("预测") for link in links)


def test_the_page_icon_is_the_app_s_icon_inline_so_streamlit_registers_no_file_at_each_run():
    """app.py's page icon is vggviz/assets/icon.png as a data URL: Streamlit hands such a URL to the browser as it
    is (a file it would read, check and register as a media file at every script run), and it is the icon."""
    import base64
    import io
    from pathlib import Path

    from PIL import Image
    from streamlit.commands.page_config import _get_favicon_string

    import ui

    assert _get_favicon_string(ui.PAGE_ICON) == ui.PAGE_ICON
    header, data = ui.PAGE_ICON.split(",", 1)
    assert header == "data:image/png;base64"
    icon = Image.open(io.BytesIO(base64.b64decode(data)))
    with Image.open(Path(ui.__file__).parents[1] / "vggviz" / "assets" / "icon.png") as reference:
        assert icon.format == "PNG" and icon.size == reference.size
        assert icon.convert("RGBA").tobytes() == reference.convert("RGBA").tobytes()
