"""Links to one unit's page ("What each channel looks for", ``/channel?config=vgg16&layer=conv4_3&channel=12``)
from the other pages. Torch-free: the Lesson's pages import it."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from vggviz import i18n, text
from vggviz.i18n import _
from vggviz.learned import link

PAGE = "pages/channel.py"
URL_PATH = "channel"  # Streamlit's path for pages/channel.py


def query(config: str, layer: str, channel: int) -> dict[str, str]:
    """The unit's query parameters, with the language shown now."""
    return {**link.query(config, layer, channel), "lang": i18n.language()}


def url(config: str, layer: str, channel: int) -> str:
    """The unit's full address, on the unit's page: ``st.context.url`` is this page's address as the browser
    reached it (scheme, host, any base path, the page's path; no query), or only a path when unknown."""
    here = (st.context.url or "").rstrip("/")
    if not here.endswith("/" + URL_PATH):
        here = f"{here}/{URL_PATH}"
    return f"{here}?{urlencode(query(config, layer, channel))}"


def page_link(config: str, layer: str, channel: int, label: str | None = None) -> None:
    """A link to the unit's page. A page run outside app.py's navigation (Streamlit's legacy multipage mode,
    which a server is in until ``ui`` reruns the first session through app.py, or a page run on its own) has no
    registered page to link to: it gets the same address as a plain link."""
    label = label or _("What does {layer}, channel {channel} look for?", layer=layer, channel=channel)
    try:
        st.page_link(PAGE, label=label, icon=":material/visibility:", query_params=query(config, layer, channel))
    except StreamlitPageNotFoundError:
        st.markdown(f":material/visibility: [{text.markdown(label)}]({URL_PATH}?{urlencode(query(config, layer, channel))})")
