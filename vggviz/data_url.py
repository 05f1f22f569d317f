"""A file inline in the page, as a ``data:`` URL (RFC 2397): Streamlit sends it inside its element, so it costs no
media file to hash and register at every run, and the browser no request that could arrive after a rerun has
dropped the file. Torch-free: the lesson pages use it."""

from __future__ import annotations

import base64


def data_url(data: bytes, mime: str) -> str:
    """``data`` as ``data:<mime>;base64,...``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
