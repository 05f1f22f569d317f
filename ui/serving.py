"""A session that lost its server is told so, instead of silently showing an empty page.

When a browser's websocket drops (its replica behind deploy/haproxy.cfg stopped, the server restarted,
or the tab was away longer than Streamlit keeps disconnected sessions), the frontend reconnects asking
for its old session by id: the third entry of the Sec-WebSocket-Protocol header. A server that does not
hold that session starts a new one, which then sees an id that is not its own."""

from __future__ import annotations

import gc
import threading

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from vggviz.i18n import _


def requested_session(protocols: str | None) -> str | None:
    """The session id a browser asked to resume, from its Sec-WebSocket-Protocol header (Streamlit's
    frontend sends "streamlit, <xsrf token>, <session id>")."""
    entries = [entry.strip() for entry in (protocols or "").split(",")]
    return entries[2] if len(entries) >= 3 and entries[2] else None


def lost_session_notice() -> None:
    """On a session's first run: if the browser asked for another session, say it started afresh."""
    if st.session_state.get("_session_started"):
        return
    st.session_state["_session_started"] = True
    ctx = get_script_run_ctx()
    asked = requested_session(st.context.headers.get("Sec-WebSocket-Protocol"))
    if ctx is not None and asked and asked != ctx.session_id:
        st.warning(_("This page lost its session on the server (the server stopped or restarted, or the page was "
                     "away too long), so it started afresh: choose your photo and settings again."),
                   icon=":material/sync_problem:")


_settled = threading.Event()


def settle_heap() -> None:
    """Once per server process, after its first script run: collect, then move everything alive to Python's
    permanent generation (gc.freeze). Those ~600 k objects (torch's, torchvision's, Plotly's, Streamlit's) live
    as long as the server, yet every full collection walked them: 0.3 s of a replica's CPU, with every student
    on it waiting, about every 300 visits, and about 1 ms a visit on average (python -m bench --only
    first_visit). Collections then walk only what the sessions make. Not under AppTest (a mock runtime): a test
    process's heap is not a server's; nor in a worker process that spawn started, which runs app.py again as its
    main module without a runtime."""
    if _settled.is_set() or not Runtime.exists() or type(Runtime.instance()) is not Runtime:
        return
    _settled.set()
    freeze()


def freeze() -> None:
    """Collect what is garbage now, then freeze what is left."""
    gc.collect()
    gc.freeze()
