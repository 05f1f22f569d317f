"""The "Share with the class" panel: the join address as a large QR code for the projector, the address in large
type for those who type it, and the code as PNG and SVG to download. The address and the code are made by
``vggviz.sharing``; this reads what Streamlit knows of the teacher's browser and the current page."""

from __future__ import annotations

import streamlit as st

from vggviz import i18n, sharing, text
from vggviz.i18n import _
from vggviz.learned import link
from vggviz.photo import server_checkpoints

POPOVER = "share_popover"  # the sidebar's popover, open or closed (session state)
# What of the current page's query a student's address carries: the lesson's step, the channel page's unit and the
# server checkpoint chosen as the weights. Not the lesson's seed: each student draws exercises of their own unless
# the teacher hands out ?seed=.
PAGE_QUERY = ("step", *link.PARAMS, server_checkpoints.LINK_PARAM)


def _current_query() -> dict[str, str]:
    """The current page's step, unit or server checkpoint, as its URL holds them."""
    return {k: v for k, v in st.query_params.to_dict().items() if k in PAGE_QUERY}


def _address(current_page: str, this_page: bool) -> str | None:
    """The join address, with the problems met on the way shown; None (and a message) when it cannot be made."""
    headers = st.context.headers
    try:
        url, problems = sharing.address(
            i18n.language(), browser_url=st.context.url, host=headers.get("Host"),
            forwarded_proto=headers.get("X-Forwarded-Proto"), current_page=current_page,
            page=current_page if this_page else "", query=_current_query() if this_page else None)
    except sharing.ShareError as exc:
        st.warning(text.markdown(str(exc)), icon=":material/link_off:")
        return None
    for problem in problems:
        st.warning(text.markdown(str(problem)), icon=":material/link_off:")
    return url


def panel(key: str, current_page: str = "", image_width: int | str = "stretch", beside: bool = False) -> None:
    """The panel's body. ``current_page`` is the page's URL path (empty on the home page, which has no "this page"
    choice); ``key`` keeps the widgets of two panels on one page apart; ``beside``: the address beside the code
    (a wide page), else below it."""
    this_page = bool(current_page) and st.checkbox(
        _("This page: students open the page shown here, at the same step or channel, with the same checkpoint"),
        key=f"{key}_this_page")
    url = _address(current_page, this_page)
    if url is None:
        return
    code, about = st.columns([2, 3], vertical_alignment="center") if beside else (st.container(), st.container())
    code.image(sharing.qr_data_url(url), width=image_width, alt=_("QR code of {url}", url=url))
    about.caption(_("Scan the code with a phone's camera, or type the address:"))
    about.markdown(f"### {text.markdown(url)}")
    buttons = about.container(horizontal=True)  # one block, not two columns: fewer messages per visit
    # Made when clicked (Streamlit's deferred download data), not on every run: no media files for a download
    # nobody asked for.
    buttons.download_button(_("Download PNG"), lambda: sharing.qr_png(url), file_name="vggviz-join.png",
                            mime="image/png", on_click="ignore", key=f"{key}_png", icon=":material/download:")
    buttons.download_button(_("Download SVG"), lambda: sharing.qr_svg(url), file_name="vggviz-join.svg",
                            mime="image/svg+xml", on_click="ignore", key=f"{key}_svg", icon=":material/download:")


def sidebar(current_page: str) -> None:
    """The panel in a sidebar popover, made only while it is open (a closed one costs nothing)."""
    popover = st.sidebar.popover(_("Share with the class (scan to join)"), icon=":material/qr_code_2:",
                                 key=POPOVER, on_change="rerun", width="stretch")
    if popover.open:
        with popover:
            panel("share_sidebar", current_page, image_width=360)
