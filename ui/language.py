"""The language choice every page shares: from ``?lang=``, else the browser's language, else English;
kept across page switches and written back to the URL so that a link carries it."""

from __future__ import annotations

import streamlit as st

from vggviz import i18n
from vggviz.i18n import _


def current() -> str:
    """This session's language, negotiated on its first run, and made the language of this script run.
    An unknown ``?lang=`` is passed over silently (the browser's language, else English, and the URL is
    rewritten by ``selector``)."""
    if st.session_state.get("lang") not in i18n.LANGUAGES:
        st.session_state.lang = i18n.negotiate(st.query_params.get("lang"), st.context.locale)
    return i18n.set_language(st.session_state.lang)


def selector() -> str:
    """The language radio in the sidebar (options in their own names), and the URL kept in step: a page
    switch clears the query string, and this runs on every page."""
    lang = st.sidebar.radio(_("Language"), list(i18n.LANGUAGES), key="lang", horizontal=True,
                            format_func=i18n.LANGUAGES.get)
    lang = i18n.set_language(lang)
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang
