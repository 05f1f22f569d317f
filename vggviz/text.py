"""Making user-supplied text (file names, class names, checkpoint keys) inert before it is shown.

Streamlit renders Markdown in alerts and captions, and Plotly renders a subset of HTML in labels; a
file called ``[click](javascript:…).jpg`` or a class called ``<a href=…>`` must show as typed."""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def markdown(text: str) -> str:
    """Escape every character Markdown (and Streamlit's extensions: $ for LaTeX, :emoji:) gives meaning to."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def plotly(text: str) -> str:
    """Escape the HTML that Plotly interprets in labels and hover text."""
    return html.escape(str(text), quote=True)
