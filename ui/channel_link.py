"""Links to one unit's page ("What each channel looks for", ``/channel?config=vgg16&layer=conv4_3&channel=12``)
from the other pages. Torch-free: the Lesson's pages import it."""

from __future__ import annotations

import streamlit as st

from vggviz import i18n
from vggviz.i18n import _
from vggviz.learned import link

PAGE = "pages/channel.py"
URL_PATH = "channel"  # Streamlit's path for pages/channel.py


def query(config: str, layer: str, channel: int) -> dict[str, str]:
    """The unit's query parameters, with the language shown now."""
    return {**link.query(config, layer, channel), "lang": i18n.language()}


def url(config: str, layer: str, channel: int) -> str:
    """The unit's full address as this browser reached the app (a path from the root when unknown)."""
    here = (st.context.url or "").split("?")[0].split("#")[0].rstrip("/")
    base = here.rsplit("/", 1)[0] if "/" in here.split("//", 1)[-1] else here
    params = "&".join(f"{k}={v}" for k, v in query(config, layer, channel).items())
    return f"{base}/{URL_PATH}?{params}"


def page_link(config: str, layer: str, channel: int, label: str | None = None) -> None:
    """A link to the unit's page."""
    st.page_link(PAGE, label=label or _("What does {layer}, channel {channel} look for?", layer=layer,
                                         channel=channel),
                 icon=":material/visibility:", query_params=query(config, layer, channel))
