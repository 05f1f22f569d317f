"""A small client of Streamlit's own browser protocol, for measuring the real server.

A browser costs a CPU core of its own to render what the server sends; on a two-core machine thirty
of them would measure the browsers, not the server. This client does what the browser's network
layer does and nothing else: it fetches the XSRF cookie, opens ``/_stcore/stream`` with the same
sub-protocol tokens, sends ``BackMsg`` protobufs (rerun with the query string, page and widget
states; file-upload URL requests), uploads files over HTTP as the frontend does, and reads the
``ForwardMsg`` protobufs until the script run finishes. Written by hand: Streamlit ships no client
(its ``AppTest`` runs scripts in-process, skipping what the server does after each run).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import itertools
import ssl
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

from google.protobuf.message import Message
from websockets.sync.client import connect

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = "FINISHED_SUCCESSFULLY"
FRAGMENT_FINISHED = "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"  # a fragment's rerun (not the whole script) succeeded


class ServerError(RuntimeError):
    """The app showed an exception, or the server broke the protocol."""


@dataclass
class Run:
    """What one script run sent back."""

    seconds: float
    messages: int
    bytes: int
    status: str
    elements: list[tuple[str, Message]] = field(default_factory=list)  # (element type, its proto)

    @property
    def finished(self) -> bool:
        """The run (of the whole script or of one fragment) ran to its end."""
        return self.status in (FINISHED, FRAGMENT_FINISHED)

    def of_type(self, kind: str) -> list[Message]:
        return [proto for name, proto in self.elements if name == kind]


def _widget_ids(message: Message, found: dict[str, str]) -> None:
    # Widget ids end in "-<user key>" ("$$ID-<hash>-<key>"); walk every element's fields for them.
    for desc, value in message.ListFields():
        if desc.type != desc.TYPE_MESSAGE:
            if desc.name == "id" and isinstance(value, str) and value.startswith("$$ID-"):
                key = value.split("-", 2)[2] if value.count("-") >= 2 else None
                if key and key != "None":
                    found[key] = value
            continue
        for item in value if desc.is_repeated else [value]:
            if isinstance(item, Message):
                _widget_ids(item, found)


class Session:
    """One browser tab's worth of protocol: one session on the server."""

    def __init__(self, url: str, query: str = "", timeout: float = 600.0,
                 cookies: http.cookiejar.CookieJar | None = None, resume: str | None = None,
                 context: ssl.SSLContext | None = None) -> None:
        """``cookies``: the browser's cookie jar, shared by sessions of one "browser" (a load balancer's
        sticky cookie lives there); ``resume``: the session id to ask for, as the frontend does when it
        reconnects; ``context``: the certificates an https:// server is trusted by (the websocket then goes
        over TLS 1.2: this sets ``context`` to TLS 1.2 at most, see below)."""
        self.url, self.query, self.timeout = url.rstrip("/"), query, timeout
        self.cookies = http.cookiejar.CookieJar() if cookies is None else cookies
        if context is not None:
            # websockets' sync client reads in a thread of its own while this one writes, on one TLS connection,
            # which OpenSSL does not support. Under TLS 1.3 the server sends its session tickets after the
            # handshake; read there while the handshake's request was written here, they lost that request now
            # and then: HAProxy answered 408 after waiting for it (5 to 11 handshakes in 300 with busy cores,
            # tests/test_serving.py; turning tickets off made it rarer, not rare enough for CI). TLS 1.2 sends
            # nothing after its handshake: none in 1500 the same way. A workaround, not a cure: the two threads
            # still share the connection (no failure after a handshake seen in any run). The caller's context is
            # changed, so its other connections speak TLS 1.2 too. A browser is not affected (it does not share a
            # TLS connection between threads) and speaks TLS 1.3 to the class (tests/test_browser_camera.py).
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        self._http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies),
                                                 urllib.request.HTTPSHandler(context=context))
        with self._http.open(self.url + "/_stcore/health", timeout=30) as response:  # sets the XSRF cookie
            response.read()
        self.xsrf = self.cookie(XSRF_COOKIE) or ""
        ws_url = "ws" + self.url[len("http"):] + "/_stcore/stream"
        jar = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        tokens = ["streamlit", self.xsrf or "placeholder", *([resume] if resume else [])]
        self._closing = contextlib.ExitStack()  # connect() is a context manager (websockets >= 16 insists)
        self.ws = self._closing.enter_context(connect(ws_url, subprotocols=tokens, max_size=None, open_timeout=90,
                                                      additional_headers={"Cookie": jar} if jar else {},
                                                      **({"ssl": context} if context else {})))
        self.session_id = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path name -> page script hash
        self.widgets: dict[str, str] = {}  # user key -> widget id
        self.fragments: dict[str, str] = {}  # user key -> the id of the fragment that draws it, if any
        self.states: dict[str, WidgetState] = {}  # widget id -> the state this client holds for it
        self._ids = itertools.count()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def close(self) -> None:
        self._closing.close()

    # --- running the script -----------------------------------------------------------------------
    def rerun(self, page: str | None = None, fragment: str | None = None) -> Run:
        """Ask for a script run (optionally of another page, or of one fragment only) with this client's widget
        states; wait for it."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        if fragment:
            state.fragment_id = fragment
        if page is not None:
            self.page_hash = self.pages.get(page, "")
            state.page_name = page if not self.page_hash else ""
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(self.states.values())
        start = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        return self._until_finished(start)

    def set(self, key: str, **value) -> Run:
        """Change the widget with user key ``key`` (e.g. ``string_value="…"``, ``int_value=3``) and rerun."""
        wid = self.widgets.get(key)
        if wid is None:
            raise ServerError(f"no widget with key {key!r} on this page (have {sorted(self.widgets)})")
        state = WidgetState(id=wid, **value)
        self.states[wid] = state
        return self.rerun(fragment=self.fragments.get(key))  # as the browser does: a fragment's widget reruns it

    def upload(self, key: str, name: str, data: bytes, mime: str = "image/png") -> Run:
        """Upload one file into the file_uploader (or camera_input: the same upload) with user key ``key``, as the
        frontend does, and rerun."""
        wid = self.widgets.get(key)
        if wid is None:
            raise ServerError(f"no file uploader with key {key!r} (have {sorted(self.widgets)})")
        request = BackMsg()
        request.file_urls_request.request_id = str(uuid.uuid4())
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self.ws.send(request.SerializeToString())
        urls = None
        while urls is None:
            fwd = self._receive()
            if fwd.WhichOneof("type") == "file_urls_response":
                if fwd.file_urls_response.error_msg:
                    raise ServerError(fwd.file_urls_response.error_msg)
                urls = fwd.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.url + urls.upload_url if urls.upload_url.startswith("/") else urls.upload_url,
                                     data=body, method="PUT",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                              "X-Xsrftoken": self.xsrf})
        with self._http.open(put, timeout=60) as response:
            response.read()
        state = WidgetState(id=wid)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.states[wid] = state
        return self.rerun(fragment=self.fragments.get(key))  # as the browser does: in a fragment, it alone reruns

    # --- reading -----------------------------------------------------------------------------------
    def _receive(self) -> ForwardMsg:
        data = self.ws.recv(timeout=self.timeout)
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        self._bytes += len(data)
        return fwd

    def _until_finished(self, start: float) -> Run:
        self._bytes = 0
        count, elements = 0, []
        while True:
            fwd = self._receive()
            count += 1
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id
                self.pages = {p.url_pathname or p.page_name: p.page_script_hash
                              for p in fwd.new_session.app_pages}
                if fwd.new_session.page_script_hash:
                    self.page_hash = fwd.new_session.page_script_hash
            elif kind == "navigation":
                self.pages.update({p.url_pathname or p.page_name: p.page_script_hash
                                   for p in fwd.navigation.app_pages})
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                name = element.WhichOneof("type")
                elements.append((name, getattr(element, name)))
                found: dict[str, str] = {}
                _widget_ids(element, found)
                self.widgets.update(found)
                for key in found:  # drawn inside a fragment, or not (any more)
                    if fwd.delta.fragment_id:
                        self.fragments[key] = fwd.delta.fragment_id
                    else:
                        self.fragments.pop(key, None)
                if name == "exception":
                    raise ServerError(f"the app raised: {element.exception.message}")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status != "FINISHED_EARLY_FOR_RERUN":
                    return Run(time.perf_counter() - start, count, self._bytes, status, elements)
