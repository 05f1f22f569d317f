"""The app's pages, in one list that app.py's navigation and the home page's links both read."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import streamlit as st

from vggviz import i18n
from vggviz.i18n import N_, _


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to app.py
    title: str  # N_-marked, translated where shown
    icon: str  # a Material symbol that Streamlit ships (no font CDN needed)
    summary: str = ""  # N_-marked: the home page's link text; empty: no link


HOME = "pages/home.py"
SECTIONS: dict[str, tuple[PageInfo, ...]] = {
    N_("The lecture"): (
        PageInfo("pages/lesson.py", N_("Lesson"), ":material/school:",
                 N_("Lesson: the slides step by step, with exercises that check themselves")),
        PageInfo(HOME, N_("Home"), ":material/home:"),
        PageInfo("pages/architecture.py", N_("Architecture"), ":material/view_column:",
                 N_("Architecture: the layer table, feature-map sizes, receptive-field growth")),
        PageInfo("pages/compare.py", N_("Compare configurations"), ":material/table_chart:",
                 N_("Compare configurations: Table 1 regenerated, parameters, MACs")),
        PageInfo("pages/arithmetic.py", N_("The lecture's arithmetic"), ":material/calculate:",
                 N_("The lecture's arithmetic: stacking 3×3 convs, the receptive-field recursion")),
        PageInfo("pages/receptive_field.py", N_("See a receptive field"), ":material/center_focus_strong:",
                 N_("See a receptive field on a photo")),
        PageInfo("pages/glossary.py", N_("Glossary"), ":material/translate:",
                 N_("Glossary: the lecture's terms in Chinese and English")),
    ),
    N_("A photo through VGG"): (
        PageInfo("pages/predict.py", N_("Predict"), ":material/image_search:",
                 N_("Predict: what VGG says about a photo")),
        PageInfo("pages/feature_maps.py", N_("Feature maps"), ":material/grid_view:",
                 N_("Feature maps: every conv layer's channels, and the filters")),
        PageInfo("pages/attributions.py", N_("Attributions"), ":material/local_fire_department:",
                 N_("Attributions: which pixels made VGG say what it said")),
        PageInfo("pages/channel.py", N_("What each channel looks for"), ":material/visibility:",
                 N_("What each channel looks for: dataset examples, feature visualisation, class models")),
        PageInfo("pages/evaluate.py", N_("Evaluate a folder"), ":material/fact_check:",
                 N_("Evaluate a folder: how good is a trained VGG, and why does it fail?")),
        PageInfo("pages/train.py", N_("Train"), ":material/model_training:",
                 N_("Train: your own VGG on your own photos, watched as it learns")),
    ),
}
PAGES: tuple[PageInfo, ...] = tuple(p for pages in SECTIONS.values() for p in pages)


_BUILT = "_vggviz_pages"  # session state: (language, {path: st.Page})


@st.cache_resource(show_spinner=False)
def _prototypes(lang: str) -> dict[str, st.Page]:
    """Every page's ``st.Page`` titled in ``lang``, made once per server and language: making one resolves its
    page's path on disk, a tenth of a new student's home-page run (python -m bench --only first_visit). Never run
    or handed to ``st.navigation`` themselves: sessions get copies (``_pages``)."""
    with i18n.use(lang):
        return {p.path: st.Page(p.path, title=_(p.title), icon=p.icon, default=p.path == HOME) for p in PAGES}


def _pages() -> dict[str, st.Page]:
    """This session's ``st.Page`` for every page in its language, for ``st.navigation`` and the home page's links
    alike: shallow copies of the shared prototypes, made at its first run and again when its language changes,
    and kept in its state. A session's own copies: ``st.navigation`` marks the page it returns as callable once,
    and two sessions sharing one object would clear each other's mark."""
    lang = i18n.language()
    built = st.session_state.get(_BUILT)
    if built is None or built[0] != lang:
        built = lang, {path: copy.copy(page) for path, page in _prototypes(lang).items()}
        st.session_state[_BUILT] = built
    return built[1]


def navigation():
    """``st.navigation`` over every page, titles and section names in the current language. Always expanded:
    past twelve pages Streamlit would hide the last ones behind "View more", and a class looks for a page by
    name."""
    pages = _pages()
    return st.navigation({_(section): [pages[p.path] for p in group] for section, group in SECTIONS.items()},
                         expanded=True)


def links() -> None:
    """A link to every page that has a summary, labelled with it."""
    pages = _pages()
    for p in PAGES:
        if p.summary:
            st.page_link(pages[p.path], label=_(p.summary), icon=p.icon)
