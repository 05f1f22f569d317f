"""Projector mode (``?present=1``): larger type and charts for the back of the room, and the "Share with the
class" panel one click away above every page. Turned on by the link or the sidebar's toggle, kept across page
switches (in the session, and written back to the URL, which a page switch clears), turned off by either."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui import sharing
from vggviz import projector
from vggviz.i18n import _

PARAM = "present"  # the link's ?present=1
KEY = "present"  # the sidebar toggle's state
POPOVER = "share_popover_present"
METRIC_REM = round(2.25 / projector.SCALE, 2)  # Streamlit's 2.25rem, at the usual size under the larger root


def active() -> bool:
    """Whether this session shows the projector mode."""
    return bool(st.session_state.get(KEY, False))


def toggle() -> bool:
    """The sidebar's toggle, starting from the link's ``?present=1``; the URL kept in step; the page's type made
    larger while it is on."""
    if KEY not in st.session_state:  # a session's first run: the link decides
        st.session_state[KEY] = st.query_params.get(PARAM) == "1"
    on = st.sidebar.toggle(_("Projector mode"), key=KEY,
                           help=_("Larger type and charts for the back of the room, and the QR code to join above "
                                  "every page. A link with ?present=1 opens the app in it."))
    if on and st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"
    elif not on and PARAM in st.query_params:
        del st.query_params[PARAM]
    if on:  # style tags only: Streamlit puts them where they take no room
        base = st.get_option("theme.baseFontSize") or 16
        # A metric's value is already large (2.25rem): kept near its usual size, so that 138,357,544 fits a quarter
        # of the page's width instead of being cut short.
        st.html(f"<style>html {{ font-size: {projector.root_font_px(base)}px !important; }} "
                f"[data-testid='stMetricValue'] {{ font-size: {METRIC_REM}rem; }}</style>")
    return on


def _leave() -> None:
    st.session_state[KEY] = False


def bar(current_page: str) -> None:
    """Above the page in projector mode: the share panel in a popover, and the way out."""
    if not active():
        return
    share, leave = st.columns([3, 1], vertical_alignment="center")
    popover = share.popover(_("Share with the class (scan to join)"), icon=":material/qr_code_2:", key=POPOVER,
                            on_change="rerun", type="primary")
    if popover.open:
        with popover:
            sharing.panel("share_present", current_page, image_width=480)
    leave.button(_("Leave projector mode"), key="present_leave", on_click=_leave, icon=":material/close:",
                 width="stretch")


def chart(fig: go.Figure) -> go.Figure:
    """``fig`` as this session shows it: larger in projector mode (a copy), else itself."""
    return projector.enlarged(fig) if active() else fig
