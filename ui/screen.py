"""The browser this session draws for: a phone is sent pictures at its own width (``vggviz.client``), read from
the headers of the request that opened the session (its User-Agent and Sec-CH-UA-Mobile)."""

from __future__ import annotations

import streamlit as st

from vggviz import client


def phone() -> bool:
    """Whether this session's browser is a phone's."""
    headers = st.context.headers
    return client.is_phone(headers.get("User-Agent"), headers.get("Sec-CH-UA-Mobile"))


def picture_width() -> int:
    """The widest picture worth sending this session's browser, in pixels."""
    return client.picture_width(phone())
