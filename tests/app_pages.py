"""AppTest helpers for the page tests that go through app.py's navigation (language, widget defaults)."""

from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from vggviz import i18n

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def through_app_py(monkeypatch):
    """Every run goes through app.py's navigation, as on a server. AppTest makes a new PagesManager for each
    run, which sees the pages/ folder and turns on Streamlit's legacy multipage mode; from the second run on
    that mode runs the page script alone, without app.py (so without the language choice). A server leaves
    that mode for good once app.py has called st.navigation; here it is left at every run."""
    from streamlit.runtime.pages_manager import PagesManager

    made = PagesManager.__init__

    def init(self, *args, **kwargs):
        made(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def ok(at: AppTest) -> AppTest:
    """``at`` after a run that raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def query_param(at: AppTest, name: str) -> str | None:
    """The value of ``?name=`` in ``at``'s address (AppTest gives a list once the app has written it)."""
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def run(at: AppTest) -> AppTest:
    """Run ``at`` (checked with ``ok``) in the language its last run spoke. AppTest reads the widgets' state
    in this thread through their ``format_func``, which translates: it must give the options as shown."""
    lang = at.session_state["_language"] if "_language" in at.session_state else i18n.DEFAULT
    with i18n.use(lang):
        return ok(at.run())


def app(path: str = "app.py", lang: str | None = None, locale: str | None = None, config: str = "A",
        **state) -> AppTest:
    """An AppTest of ``path`` (not yet run) with configuration ``config`` and untrained weights (the smallest
    model is A, vgg11), opened with ``?lang=`` and a browser ``locale`` when given, and more session state."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=180)
    if lang is not None:
        at.query_params["lang"] = lang
    if locale is not None:
        at.context = {"locale": locale}
    for key, value in {"config": config, "weights": "random", **state}.items():
        at.session_state[key] = value
    return at


def captions(at: AppTest) -> list[str]:
    """The captions of every picture on the page (st.image)."""
    return [c for image in at.image for c in image.captions]
