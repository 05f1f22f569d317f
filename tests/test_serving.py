"""Serving a class: the settings the real server runs with, and several replicas behind HAProxy
(deploy/haproxy.cfg, deploy/serve.py) on this machine's loopback, driven by clients of Streamlit's own
protocol (bench/client.py): sessions spread, stay on their replica (uploads are HTTP requests that only
the session's replica can take), and a replica that stops loses only its own sessions, which come back
on another replica with a message. The same over HTTPS with a certificate deploy/certificate.py made,
trusted by the clients (Python's ssl, OpenSSL's verifier): the configuration validates, plain HTTP
redirects to HTTPS, the websocket runs over TLS, the sticky cookie is Secure. The proxy gzips Streamlit's
static files and serves them and its pictures from its cache, setting nobody's sticky cookie on a cached
response."""

from __future__ import annotations

import gzip
import http.client
import io
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import brotli
import pytest
import streamlit
from PIL import Image
from websockets.exceptions import ConnectionClosed

from bench.client import FINISHED, Session
from deploy import certificate, serve
from haproxy_class import HAPROXY, Class, loopback_certificate, need_haproxy, served
from helpers import encode, free_port, photo
from streamlit.source_util import page_icon_and_name
from ui.navigation import HOME, PAGES

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "vggviz_replica"  # deploy/haproxy.cfg


OPTIONS = ("server.fileWatcherType", "runner.postScriptGC", "server.maxUploadSize", "server.enableXsrfProtection")


def effective_config() -> dict:
    """The options `streamlit run app.py` in the repository runs with, read by Streamlit's own loader (the one
    its bootstrap calls) in a fresh process with an empty home folder."""
    code = ("import json; from streamlit import config; config.get_config_options(force_reparse=True); "
            f"print(json.dumps({{o: config.get_option(o) for o in {OPTIONS!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, HOME=tempfile.mkdtemp())).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_server_runs_with_the_shipped_settings():
    """A later edit (or a forgotten flag) cannot silently turn the file watcher or the post-script GC back on:
    both cost a forward pass's worth of server CPU per rerun (docs/serving.md)."""
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    config = effective_config()
    assert shipped["server"]["fileWatcherType"] == config["server.fileWatcherType"] == "none"
    assert shipped["runner"]["postScriptGC"] is config["runner.postScriptGC"] is False
    assert config["server.maxUploadSize"] <= 50
    assert config["server.enableXsrfProtection"] is True


@pytest.fixture(scope="module")
def plain_class(tmp_path_factory):
    """Two replicas (r1, r2) and HAProxy in front of them, over plain HTTP, HAProxy alone compressing and
    caching the front end (serve.py --no-assets, or where nginx is not installed)."""
    with served(tmp_path_factory.mktemp("serve")) as c:
        yield c


@pytest.fixture(scope="module")
def https_class(tmp_path_factory, front_end):
    """The same over HTTPS, with a certificate deploy/certificate.py made for the loopback and nginx serving
    the front end (serve.py --https where nginx is installed: how a class of phones is served)."""
    folder = tmp_path_factory.mktemp("serve_https")
    with served(folder, made=loopback_certificate(folder / "certificate"), front_end=front_end) as c:
        yield c


@pytest.fixture(params=["plain_class", "https_class"], ids=["http", "https"])
def balanced(request) -> Class:
    return request.getfixturevalue(request.param)


def test_the_https_configuration_validates(tmp_path):
    """deploy/haproxy.cfg as serve.py writes it, checked by HAProxy itself, with and without HTTPS, with and
    without nginx serving the front end."""
    need_haproxy()
    made = loopback_certificate(tmp_path)
    config = tmp_path / "haproxy.cfg"
    config.write_text(serve.haproxy_config([("r1", "127.0.0.1:8501"), ("r2", "127.0.0.1:8502")]))
    https, nginx = serve.https_environment(made.server, "127.0.0.1:8443"), {"VGGVIZ_ASSETS": "127.0.0.1:8499"}
    for extra in ({}, https, nginx, {**https, **nginx}):
        check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True,
                               env=dict(os.environ, VGGVIZ_BIND="127.0.0.1:8500", **extra))
        assert check.returncode == 0, check.stdout + check.stderr
    # A certificate file that is not there is an error, not a silent plain-HTTP class.
    check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True,
                           env=dict(os.environ, **serve.https_environment(tmp_path / "none.pem", "127.0.0.1:8443")))
    assert check.returncode != 0


def test_serve_names_the_https_address_and_refuses_an_unusable_certificate(tmp_path, capsys):
    """The address serve.py prints for the students is the machine's LAN address in its certificate (not the
    loopback); a school's certificate without its key stops it with a clear message before anything starts."""
    made = certificate.ensure(tmp_path, ["teacher-pc", "localhost"],
                              [ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "192.168.7.20")])
    assert serve.https_address(made.server, made, 8443) == "https://192.168.7.20:8443"
    assert serve.https_address(made.server, None, 443) == "https://teacher-pc"  # a given certificate: its name
    with pytest.raises(SystemExit) as stopped:
        serve.main(["--certificate", str(made.authority)])  # ca.pem: a certificate, no key
    assert stopped.value.code == 2 and "no unencrypted private key" in capsys.readouterr().err


def _location(url: str, path: str, host: str | None = None) -> tuple[int, str | None]:
    """The status and Location of a plain GET of ``path``, redirects not followed."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def test_plain_http_is_redirected_to_https_with_the_same_path_and_query(https_class):
    https_port = urllib.parse.urlsplit(https_class.url).port
    for path in ("/", "/predict?lang=zh&present=1", "/_stcore/health"):
        status, location = _location(https_class.plain, path)
        assert status in (301, 302, 307, 308) and location == f"{https_class.url}{path}", (status, location)
    # The name the student typed is kept, its port replaced by the HTTPS one (an IPv6 address's colons kept).
    for typed, host in (("vggviz.local:8500", "vggviz.local"), ("vggviz.local", "vggviz.local"),
                        ("[fd00::2]:8500", "[fd00::2]")):
        status, location = _location(https_class.plain, "/lesson?step=3", host=typed)
        assert location == f"https://{host}:{https_port}/lesson?step=3", (typed, location)


@pytest.mark.slow
def test_every_websocket_over_tls_is_answered_while_the_cores_are_busy(https_class):
    """The protocol client of these tests and of the bench (bench/client.py) opens 300 websockets over TLS through
    HAProxy while two other processes keep both cores busy, and every handshake is answered. Over TLS 1.3, 5 to 11
    in 300 lost their request here (HAProxy: 408 after its 30 s): a race between websockets' reading thread and
    the thread that writes, over the session tickets TLS 1.3 sends after its handshake."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for _ in range(300):
            s = Session(https_class.url, context=https_class.context)
            assert s.ws.socket.version() == "TLSv1.2"
            s.close()
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()


def _student(c: Class, seed: int) -> Session:
    """A browser (its own cookie jar) with the feature-maps page open on its own uploaded photo."""
    s = Session(c.url, query="lang=en", context=c.context)
    run = s.rerun(page="feature_maps")
    assert run.status == FINISHED
    s.set("photo_source", string_value="Upload")
    run = s.upload("photo_upload", f"student{seed}.png", encode(photo(seed, (96, 80))))
    assert run.status == FINISHED and run.of_type("imgs"), "the upload did not reach the session's replica"
    return s


LOST = "lost its session on the server"


def _alerts(run) -> list[str]:
    return [a.body for a in run.of_type("alert")]


@pytest.mark.slow
def test_sessions_spread_stay_on_their_replica_and_survive_another_replica_stopping(balanced):
    """Over plain HTTP and over HTTPS (serve.py --https): there, the websocket runs over TLS and the sticky
    cookie is marked Secure (a browser never sends it over plain HTTP)."""
    url, replicas, context, https = balanced.url, balanced.replicas, balanced.context, balanced.context is not None
    students = [_student(balanced, i) for i in range(4)]
    on = {i: s.cookie(COOKIE) for i, s in enumerate(students)}
    assert set(on.values()) == {"r1", "r2"}, f"sessions did not spread: {on}"
    sticky = [c for s in students for c in s.cookies if c.name == COOKIE]
    assert all(c.secure is https for c in sticky) and len(sticky) == 4
    assert all(isinstance(s.ws.socket, ssl.SSLSocket) is https for s in students)

    # The same browser connecting again (a second tab) goes back to its replica.
    again = Session(url, query="lang=en", cookies=students[0].cookies, context=context)
    run = again.rerun(page="home")
    assert again.cookie(COOKIE) == on[0] and not any(LOST in a for a in _alerts(run))
    again.close()
    # A browser that reconnects to the replica holding its session gets that session back, silently.
    resumed = Session(url, query="lang=en", cookies=students[1].cookies, resume=students[1].session_id,
                      context=context)
    run = resumed.rerun(page="feature_maps")
    assert resumed.session_id == students[1].session_id and not any(LOST in a for a in _alerts(run))
    students[1].close()
    students[1] = resumed

    replicas["r1"].terminate()
    replicas["r1"].wait(timeout=30)
    for i, s in enumerate(students):
        if on[i] == "r2":  # untouched: the next rerun works on the same session
            assert s.set("fm_relu", bool_value=False).status == FINISHED
        else:  # its replica is gone: the websocket is closed
            with pytest.raises(ConnectionClosed):
                s.set("fm_relu", bool_value=False)
            # The browser reconnects, asking for its session, and lands on r2 in a fresh one that says so.
            back = Session(url, query="lang=en", cookies=s.cookies, resume=s.session_id, context=context)
            run = back.rerun(page="feature_maps")
            assert run.status == FINISHED
            assert back.cookie(COOKIE) == "r2" and back.session_id != s.session_id
            assert any(LOST in a for a in _alerts(run)), _alerts(run)
            back.close()
    for s in students:
        s.close()


def test_requested_session_is_the_third_protocol_entry():
    from ui.serving import requested_session

    assert requested_session("streamlit, 2|ab|cd|1, 7f3c-11") == "7f3c-11"
    assert requested_session("streamlit, 2|ab|cd|1") is None  # a first visit asks for no session
    assert requested_session("streamlit, , ") is None
    assert requested_session(None) is None


def test_a_server_freezes_its_startup_heap_and_a_test_process_is_left_alone():
    """ui.serving.freeze in a fresh process holding what a replica imports: what is alive moves to Python's
    permanent generation, so a full collection no longer walks torch's objects. settle_heap does it on a real
    server only: the app under AppTest (a mock runtime) leaves the test process's heap as it was."""
    code = ("import gc, plotly.graph_objects, torch, torchvision, streamlit; from ui import serving; "
            "before = len(gc.get_objects()); serving.freeze(); "
            "print(before, gc.get_freeze_count(), len(gc.get_objects()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    before, frozen, walked = map(int, out.stdout.split())
    assert frozen > 100_000 and walked < before / 20, (before, frozen, walked)

    import gc

    from streamlit.testing.v1 import AppTest

    frozen = gc.get_freeze_count()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and gc.get_freeze_count() == frozen


def test_a_colour_scale_change_reruns_only_the_grid_in_the_sessions_language():
    """On the real server, as a browser does it: the feature-maps page's colour scale lives in a fragment, so a
    change reruns the grid alone (the cheap display-only rerun of ``python -m bench --only server``), with a
    new picture, in the session's language (a fragment's rerun does not pass through app.py)."""
    from bench import server as srv
    from vggviz import i18n

    with srv.Server() as server:
        s = server.session("feature_maps", query="lang=zh")
        assert "fm_scale" in s.fragments and "fm_channel" not in s.fragments
        pictures = []
        for scale in srv.SCALES:
            run = s.set("fm_scale", string_value=scale)
            assert run.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
            assert [name for name, _ in run.elements] == ["radio", "imgs"]
            with i18n.use("zh"):
                assert run.of_type("radio")[0].label == i18n._("Colour scale") != "Colour scale"
            pictures.append(run.of_type("imgs")[0].imgs[0].url)
        assert pictures[0] != pictures[1]  # the grid was drawn again, on the other scale
        # The student switches to English (a full run); the next fragment rerun speaks English, not the
        # language the session started in.
        assert s.set("lang", string_value="English").status == "FINISHED_SUCCESSFULLY"  # as shown
        run = s.set("fm_scale", string_value=srv.SCALES[0])
        assert run.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
        assert run.of_type("radio")[0].label == "Colour scale"
        s.close()


def _get(url: str, headers: dict[str, str] | None = None,
         context: ssl.SSLContext | None = None) -> tuple[dict[str, str], bytes]:
    """GET as a browser's network layer sees it: the headers (lower-case names) and the body as sent (no
    decompression); ``context`` trusts the class's certificate under HTTPS."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60, context=context) as response:
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def _plotly() -> tuple[str, bytes]:
    """Plotly's bundle (Streamlit's largest static file, 4.7 MB, that Predict loads): its path on the server and
    the bytes Streamlit ships."""
    plotly = next((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return f"/static/js/{plotly.name}", plotly.read_bytes()


def test_the_proxy_gzips_static_files_and_serves_them_from_its_cache_without_anyones_cookie(plain_class):
    """Without nginx: Plotly's bundle gzipped when the browser asks, the same bytes as the file Streamlit
    ships; the second request comes from HAProxy's cache (deploy/haproxy.cfg marks such responses
    X-Cache-Status: HIT), plain or gzipped as each browser asks; and a cached response sets no sticky cookie
    (the first student's replica must not become everyone's)."""
    url, tls = plain_class.url, plain_class.context
    path, shipped = _plotly()
    address = url + path
    first, body = _get(address, {"Accept-Encoding": "gzip, deflate"}, context=tls)
    assert first.get("content-encoding") == "gzip" and gzip.decompress(body) == shipped
    assert len(body) < 0.6 * len(shipped)
    assert "x-cache-status" not in first and COOKIE in first.get("set-cookie", "")  # from a replica
    again, body = _get(address, {"Accept-Encoding": "gzip"}, context=tls)
    assert again.get("x-cache-status") == "HIT" and again.get("content-encoding") == "gzip"
    assert gzip.decompress(body) == shipped
    assert "set-cookie" not in again
    plain, body = _get(address, {"Cookie": f"{COOKIE}=r2"}, context=tls)  # a browser that takes no gzip, on r2
    assert plain.get("x-cache-status") == "HIT" and "content-encoding" not in plain and body == shipped
    assert "set-cookie" not in plain
    # The page itself is not cached and still sets the cookie that keeps a session on its replica.
    page, _ = _get(f"{url}/", context=tls)
    assert "x-cache-status" not in page and COOKIE in page.get("set-cookie", "")


def test_nginx_sends_the_front_end_compressed_at_its_best_as_each_browser_asks(https_class):
    """With nginx (serve.py's class of phones, over HTTPS): Plotly's bundle in brotli to a browser that takes
    it, decoded by brotli to exactly Streamlit's file and smaller than HAProxy's gzip could make it (libslz:
    0.46 of the file), in gzip at level 9 to one that takes only gzip (checked against Python's gzip -9), the
    file itself to one that takes neither; from nginx, not a replica: no sticky cookie, nothing cached by
    HAProxy, the immutable Cache-Control Streamlit gives these files, Vary: Accept-Encoding."""
    url, tls = https_class.url, https_class.context
    path, shipped = _plotly()
    answers = {}
    for accepts in ("gzip, deflate, br, zstd", "gzip, deflate", None):
        headers, body = _get(url + path, {"Accept-Encoding": accepts} if accepts else {}, context=tls)
        assert "set-cookie" not in headers and "x-cache-status" not in headers
        assert "immutable" in headers.get("cache-control", "") and headers.get("vary") == "Accept-Encoding"
        answers[accepts] = headers.get("content-encoding"), body
    encoding, body = answers["gzip, deflate, br, zstd"]
    assert encoding == "br" and brotli.decompress(body) == shipped and len(body) < 0.3 * len(shipped)
    encoding, body = answers["gzip, deflate"]
    assert encoding == "gzip" and gzip.decompress(body) == shipped
    assert len(body) <= len(gzip.compress(shipped, compresslevel=9)) + 64  # + the header's name and time fields
    assert answers[None] == (None, shipped)
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(f"{url}/static/js/not-there.js", context=tls)
    assert missing.value.code == 404


def test_nginx_sends_the_page_itself_for_every_page_s_path_and_the_replicas_the_rest(https_class):
    """The page a browser opens first ("/", "/predict?lang=zh", any page's path, as the app's navigation names
    them) is Streamlit's own index.html, sent by nginx (brotli, never cached by the browser: "no-cache" as
    Streamlit sends it) without reaching a replica; the health check, the websocket and the pictures still do,
    and the first of them sets the sticky cookie that keeps the session on its replica."""
    url, tls = https_class.url, https_class.context
    shipped = (Path(streamlit.__file__).parent / "static" / "index.html").read_bytes()
    # The home page's path, then every other page's as Streamlit names it after its file.
    paths = ["", *(page_icon_and_name(Path(p.path))[1] for p in PAGES if p.path != HOME)]
    assert len(paths) == len(PAGES) and "feature_maps" in paths
    for path in paths:
        headers, body = _get(f"{url}/{path}?lang=zh", {"Accept-Encoding": "gzip, deflate, br"}, context=tls)
        assert headers.get("content-encoding") == "br" and brotli.decompress(body) == shipped, path
        assert headers.get("cache-control") == "no-cache" and "set-cookie" not in headers, path
    health, body = _get(f"{url}/_stcore/health", context=tls)
    assert body == b"ok" and COOKIE in health.get("set-cookie", "")


def test_the_proxy_caches_the_pictures_streamlit_serves(balanced):
    """A picture's /media/ address names its content, but Streamlit sends no cache headers: the proxy adds
    them (so browsers keep it) and serves the class's requests from its cache: the sample photo's feature
    maps."""
    url, tls = balanced.url, balanced.context
    s = Session(url, query="lang=en", context=tls)
    run = s.rerun(page="feature_maps")
    assert run.status == FINISHED
    address = url + next(img.url for element in run.of_type("imgs") for img in element.imgs
                         if img.url.startswith("/media/"))
    jar = "; ".join(f"{c.name}={c.value}" for c in s.cookies)  # the session's replica holds the file
    first, picture = _get(address, {"Cookie": jar}, context=tls)
    assert "max-age=3600" in first.get("cache-control", "") and "x-cache-status" not in first
    Image.open(io.BytesIO(picture)).verify()  # a picture, whole
    again, body = _get(address, context=tls)  # another student, no cookie yet
    assert again.get("x-cache-status") == "HIT" and body == picture and "set-cookie" not in again
    s.close()


def test_the_proxy_answers_streamlit_s_settings_from_its_cache(balanced):
    """Every new browser asks for /_stcore/host-config, the server's settings, the same from every replica
    (Streamlit sends them with "no-cache"): the proxy keeps them a minute, so a new student costs a replica only
    the health check and the websocket. The answer is the replica's own and sets nobody's cookie."""
    url, tls = balanced.url, balanced.context
    replica = balanced.replicas["r2"].args
    own, expected = _get(f"http://127.0.0.1:{replica[replica.index('--server.port') + 1]}/_stcore/host-config")
    assert own.get("cache-control") == "no-cache"
    _get(f"{url}/_stcore/host-config", context=tls)
    headers, body = _get(f"{url}/_stcore/host-config", context=tls)
    assert headers.get("x-cache-status") == "HIT" and json.loads(body) == json.loads(expected)
    assert "max-age=60" in headers.get("cache-control", "") and "set-cookie" not in headers


def _serve_py(folder: Path, front_end: Path, port: int, nginx: int) -> subprocess.Popen:
    """``python deploy/serve.py`` with one replica, students on ``port``, nginx on ``nginx``, finding the
    compressed front end under XDG_CACHE_HOME; its output in ``stdout`` (text)."""
    env = {**os.environ, "TORCH_HOME": str(folder / "torch"), "VGGVIZ_GALLERY": str(folder / "gallery"),
           "XDG_CACHE_HOME": str(front_end.parents[2])}
    env.pop("VGGVIZ_WEIGHTS_URL", None)
    return subprocess.Popen([sys.executable, "deploy/serve.py", "--replicas", "1", "--port", str(port),
                             "--first-replica-port", str(free_port()), "--assets-port", str(nginx)],
                            cwd=serve.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_serve_py_runs_nginx_for_the_front_end_and_stops_everything_on_sigterm(tmp_path, front_end):
    """``python deploy/serve.py`` as a teacher runs it (one replica here): it finds the front end compressed
    (deploy/assets.py's copy, under XDG_CACHE_HOME), starts nginx beside the replica and HAProxy, so the front
    end and the page arrive in brotli through the class's address, the health check from the replica; on
    SIGTERM no process of it is left (nginx's workers included)."""
    need_haproxy()
    port, nginx = free_port(), free_port()
    proc = _serve_py(tmp_path, front_end, port, nginx)
    try:
        url = f"http://127.0.0.1:{port}"
        serve.wait_healthy(url)
        path, shipped = _plotly()
        headers, body = _get(url + path, {"Accept-Encoding": "br"})
        assert headers.get("content-encoding") == "br" and brotli.decompress(body) == shipped
        page, _ = _get(f"{url}/predict", {"Accept-Encoding": "br"})
        assert page.get("content-encoding") == "br" and "set-cookie" not in page
        health, _ = _get(f"{url}/_stcore/health")
        assert COOKIE in health.get("set-cookie", "")
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 3  # the replica, nginx, HAProxy
        # nginx stops mid-lesson: HAProxy sends the front end and the page from the replica again (its own gzip),
        # the class goes on.
        stopped = next(pid for pid in children if b"nginx" in Path(f"/proc/{pid}/cmdline").read_bytes())
        os.kill(int(stopped), signal.SIGTERM)
        headers = _until(lambda: _get(url + path, {"Accept-Encoding": "gzip, br"})[0],
                         lambda h: h.get("content-encoding") == "gzip")
        assert COOKIE in headers.get("set-cookie", "") or headers.get("x-cache-status") == "HIT"
        page, _ = _get(f"{url}/predict", {"Accept-Encoding": "gzip, br"})
        assert page.get("content-encoding") == "gzip" and page.get("server") == "uvicorn"
        assert proc.poll() is None
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
    assert "compressing" not in output  # the copy was there: not made again
    assert f"vggviz: 1 replica and nginx behind http://0.0.0.0:{port}" in output
    assert "vggviz: nginx stopped: HAProxy compresses and caches" in output
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    with pytest.raises(OSError):  # nginx's workers too: nothing answers on its port
        urllib.request.urlopen(f"http://127.0.0.1:{nginx}{path}", timeout=5)


def _until(ask, good, seconds: float = 60.0):
    """``ask()`` again until ``good(answer)`` (a failed request counts as not yet), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = ask()
            if good(answer):
                return answer
        except OSError:
            pass
        assert time.monotonic() < deadline, "no good answer in time"
        time.sleep(0.2)


def test_serve_py_goes_on_without_nginx_when_nginx_cannot_start(tmp_path, front_end):
    """nginx's port already taken: serve.py says why and serves the class with HAProxy alone (the front end
    from the replica, gzipped by HAProxy), rather than stopping."""
    need_haproxy()
    port = free_port()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    proc = _serve_py(tmp_path, front_end, port, taken.getsockname()[1])
    try:
        url = f"http://127.0.0.1:{port}"
        serve.wait_healthy(url)
        path, shipped = _plotly()
        headers, body = _get(url + path, {"Accept-Encoding": "gzip, br"})
        assert headers.get("content-encoding") == "gzip" and gzip.decompress(body) == shipped
        assert proc.poll() is None
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
        taken.close()
    assert "nginx did not start on 127.0.0.1:" in output and "HAProxy compresses and caches" in output
    assert f"vggviz: 1 replica behind http://0.0.0.0:{port}" in output
