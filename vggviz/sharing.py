"""The join address a class scans from the projector, and its QR code.

The address is the configured public URL (``VGGVIZ_PUBLIC_URL``, for a server behind a proxy or a name the
students' phones reach) if set, else the address the teacher's browser used; it carries ``?lang=`` and, on
request, the current page and its query (a lesson step, a channel page's unit). The QR code is made by
``segno`` (a maintained encoder; nothing here encodes QR by hand). UI-free and torch-free.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import segno

from .data_url import data_url
from .i18n import N_, TranslatableError

PUBLIC_URL_ENV = "VGGVIZ_PUBLIC_URL"
SCHEMES = ("http", "https")
# A large code for the back of the room: 12 px a module, the standard quiet zone of 4 modules, black on white.
PNG_SCALE, QUIET_ZONE = 12, 4
# Level M (15 % of the code may be lost): a phone reads it off a projector at an angle.
ERROR_LEVEL = "m"


class ShareError(TranslatableError, ValueError):
    """A join address that cannot be made."""

    MESSAGES = {
        "public_url": N_("{env} must be an http:// or https:// address with a host, such as "
                         "https://vgg.school.example; it is {value!r}. Using the address this browser opened."),
        "loopback": N_("This browser opened the app at {host}, which the students' phones cannot reach: open it at this "
                       "machine's network address (the Network URL that streamlit run prints) or set {env}."),
        "no_address": N_("The address of this server is unknown: set {env} to the address the students' "
                         "phones reach."),
    }


def public_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured public URL, None when unset or empty. Raises ShareError when it is not http(s) with a host."""
    environ = os.environ if environ is None else environ
    value = environ.get(PUBLIC_URL_ENV, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise ShareError("public_url", env=PUBLIC_URL_ENV, value=value)
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path.rstrip("/"), "", ""))


def browser_root(url: str | None, page: str = "") -> str | None:
    """The app's root from the address the browser opened (Streamlit's ``st.context.url``: scheme, host, port and
    path, the current ``page``'s path last), without that page, query or fragment. None when there is none or it
    is not http(s)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    path = parts.path.rstrip("/")
    page = page.strip("/")
    if page and (path == page or path.endswith("/" + page)):
        path = path[: len(path) - len(page)].rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def is_loopback(root: str) -> bool:
    """Whether ``root`` names this machine only (localhost, 127.0.0.0/8, ::1): no phone reaches it."""
    host = (urlsplit(root).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_root(host: str | None, forwarded_proto: str | None = None) -> str | None:
    """The app's root from a request's ``Host`` header (and a proxy's ``X-Forwarded-Proto``), for when the
    browser's address is not known. None without a host."""
    host = (host or "").strip()
    if not host or any(c in host for c in "/?#@ "):
        return None
    scheme = (forwarded_proto or "").split(",")[0].strip().lower()
    return f"{scheme if scheme in SCHEMES else 'http'}://{host}"


def join_url(root: str, lang: str, page: str = "", query: Mapping[str, str] | None = None) -> str:
    """The address students open: ``root``, then ``page`` (a Streamlit page's URL path; empty for the home page)
    and its ``query`` when given, with ``lang`` first in the query. Values are escaped."""
    parts = urlsplit(root)
    path = parts.path.rstrip("/")
    page = page.strip("/")
    path = f"{path}/{page}" if page else (path or "/")
    params = [("lang", lang)] + [(k, str(v)) for k, v in (query or {}).items() if k != "lang"]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))


def address(lang: str, browser_url: str | None = None, host: str | None = None, forwarded_proto: str | None = None,
            current_page: str = "", page: str = "", query: Mapping[str, str] | None = None,
            environ: Mapping[str, str] | None = None) -> tuple[str, list[ShareError]]:
    """The join address and the problems met on the way: the public URL, else the browser's address (its
    ``current_page`` trimmed), else the ``host``. A bad public URL is reported and passed over; so is an address
    of this machine only (localhost), which no phone reaches. Raises ShareError when no address is known at all."""
    problems: list[ShareError] = []
    try:
        root = public_url(environ)
    except ShareError as exc:
        problems.append(exc)
        root = None
    if root is None:
        root = browser_root(browser_url, current_page) or host_root(host, forwarded_proto)
        if root is None:
            raise ShareError("no_address", env=PUBLIC_URL_ENV)
        if is_loopback(root):
            problems.append(ShareError("loopback", host=urlsplit(root).netloc, env=PUBLIC_URL_ENV))
    return join_url(root, lang, page, query), problems


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url`` (never a Micro QR code: phones' camera apps do not all read those)."""
    return segno.make(url, error=ERROR_LEVEL, micro=False)


# The home page shows the code as this PNG (inline, ``qr_data_url``) on every run for every student; the PNG and
# SVG downloads are made only when clicked. Encoding on every run (PNG and SVG, before downloads waited for a
# click) took 13 ms of the run's 18 ms of server CPU (measured on the real server). A class shares a handful of
# addresses.
@functools.lru_cache(maxsize=64)
def qr_png(url: str, scale: int = PNG_SCALE) -> bytes:
    """The QR code as a PNG: black modules on white, ``scale`` pixels a module, the standard quiet zone."""
    buf = io.BytesIO()
    qr_code(url).save(buf, kind="png", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return buf.getvalue()


def qr_data_url(url: str) -> str:
    """The PNG inline, sent with the page itself (vggviz.data_url)."""
    return data_url(qr_png(url), "image/png")


@functools.lru_cache(maxsize=64)
def qr_svg(url: str) -> str:
    """The QR code as an SVG document (for printing at any size), with the standard quiet zone."""
    buf = io.BytesIO()
    qr_code(url).save(buf, kind="svg", scale=10, border=QUIET_ZONE, dark="#000", light="#fff", xmldecl=True,
                      title=url)
    return buf.getvalue().decode("utf-8")
