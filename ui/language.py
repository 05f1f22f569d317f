"""The language choice every page shares: from ``?lang=``, else the browser's language, else English;
kept across page switches and written back to the URL so that a link carries it."""

from __future__ import annotations

import streamlit as st

from vggviz import i18n
from vggviz.i18n import _

_CHOSEN = "_language"  # the choice, also kept outside the widget's state


def current() -> str:
    """This session's language, made the language of this script run: the language radio's value, else
    (first run) negotiated. An unknown ``?lang=`` is passed over silently (the browser's language, else
    English; ``selector`` rewrites the URL). The choice is also kept under a key of its own, for a run
    where Streamlit has dropped the widget's state (it does when a widget's identity changes)."""
    lang = st.session_state.get("lang")
    if lang not in i18n.LANGUAGES:
        lang = st.session_state.get(_CHOSEN) or i18n.negotiate(st.query_params.get("lang"), st.context.locale)
    st.session_state[_CHOSEN] = lang
    return i18n.set_language(lang)


def restore() -> None:
    """The session's language made this run's again, for a fragment's rerun (which does not pass through
    app.py); in a full run it is already so."""
    lang = st.session_state.get(_CHOSEN)
    if lang in i18n.LANGUAGES:
        i18n.set_language(lang)


def selector() -> str:
    """The language radio in the sidebar (options in their own names), starting at ``current()``'s choice,
    and the URL kept in step: a page switch clears the query string, and this runs on every page."""
    codes = list(i18n.LANGUAGES)
    lang = st.sidebar.radio(_("Language"), codes, index=codes.index(i18n.language()), key="lang",
                            horizontal=True, format_func=i18n.LANGUAGES.get)
    lang = i18n.set_language(lang)
    st.session_state[_CHOSEN] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang
