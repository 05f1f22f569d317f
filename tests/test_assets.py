"""Streamlit's front end compressed once (deploy/assets.py) and served by nginx (deploy/nginx.conf), on a small
front end made in the test: the stored files decode to the originals, are made once and whole, and nginx
sends each browser the encoding it asks for. The real front end through HAProxy: tests/test_serving.py."""

from __future__ import annotations

import gzip
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import brotli
import pytest

from deploy import assets, serve
from haproxy_class import need_nginx
from helpers import free_port

SCRIPT = b"function f(){return 'a VGG network, layer by layer';}\n" * 400  # compresses well
FONT = os.urandom(5000)  # as a woff2: compressed already


def front(folder: Path) -> Path:
    """A front end laid out as Streamlit's: index.html and static/{js,css,media}/."""
    for name, data in {"index.html": b"<!doctype html><title>x</title>" * 50, "static/js/main.1a2b.js": SCRIPT,
                       "static/css/index.3c4d.css": b"body{margin:0}\n" * 300, "static/js/tiny.5e6f.js": b"0",
                       "static/media/Source.7a8b.woff2": FONT}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_each_text_file_is_stored_in_brotli_and_gzip_that_decode_to_it(tmp_path):
    root = assets.prepare(tmp_path / "cache", front(tmp_path / "src"), workers=1)
    for name in ("static/js/main.1a2b.js", "static/css/index.3c4d.css", "index.html"):
        original = (root / name).read_bytes()
        assert original == (tmp_path / "src" / name).read_bytes()
        packed_br, packed_gz = (root / (name + ".br")).read_bytes(), (root / (name + ".gz")).read_bytes()
        assert brotli.decompress(packed_br) == original and gzip.decompress(packed_gz) == original
        assert len(packed_br) < len(original) / 4 and len(packed_gz) < len(original) / 4
    # Nothing stored where it would not be smaller (a one-byte script, a font: compressed already).
    assert sorted(p.name for p in (root / "static").rglob("*")
                  if p.name.startswith(("tiny", "Source"))) == ["Source.7a8b.woff2", "tiny.5e6f.js"]


def test_the_copy_is_made_once_per_streamlit_version_and_only_whole(tmp_path):
    source, cache = front(tmp_path / "src"), tmp_path / "cache"
    assert not assets.ready(cache)
    root = assets.prepare(cache, source, workers=1)
    assert assets.ready(cache) and root == assets.location(cache)
    assert root.name == f"streamlit-{__import__('streamlit').__version__}"
    (source / "static/js/main.1a2b.js").write_bytes(b"changed")
    assert assets.prepare(cache, source, workers=1) == root  # reused: not made again
    assert (root / "static/js/main.1a2b.js").read_bytes() == SCRIPT
    # A run that fails half-way (here: a file it cannot read, a link to nothing) leaves neither a copy nor its
    # building folder.
    broken = front(tmp_path / "broken")
    (broken / "static/js/main.1a2b.js").unlink()
    (broken / "static/js/main.1a2b.js").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OSError):
        assets.prepare(tmp_path / "other", broken, workers=1)
    assert not assets.ready(tmp_path / "other") and list((tmp_path / "other").iterdir()) == []


@pytest.fixture
def nginx(tmp_path):
    """deploy/nginx.conf as serve.py fills it in, serving a small front end: (its address, the copy)."""
    need_nginx()
    root = assets.prepare(tmp_path / "cache", front(tmp_path / "src"), workers=1)
    bind = f"127.0.0.1:{free_port()}"
    log = open(tmp_path / "nginx.log", "w")
    proc = serve.start_assets(bind, str(tmp_path), log, root=root)
    try:
        serve.wait_healthy(f"http://{bind}", timeout=30, path="/static/js/tiny.5e6f.js")
        yield f"http://{bind}", root
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _get(url: str, accepts: str | None = None) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": accepts} if accepts else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_the_filled_in_configuration_validates(tmp_path):
    need_nginx()
    run = tmp_path / "run"
    run.mkdir()
    (run / "nginx.conf").write_text(serve.nginx_config("127.0.0.1:8499", tmp_path, run))
    assert not [line for line in (run / "nginx.conf").read_text().splitlines()
                if "{{" in line and not line.lstrip().startswith("#")]
    nginx = serve.shutil.which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(run), "-c", str(run / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_nginx_sends_the_stored_encoding_each_browser_asks_for(nginx):
    url, root = nginx
    address = f"{url}/static/js/main.1a2b.js"
    for accepts, encoding, stored in (("gzip, deflate, br, zstd", "br", ".br"), ("gzip, deflate", "gzip", ".gz"),
                                      (None, None, "")):
        headers, body = _get(address, accepts)
        assert headers.get("content-encoding") == encoding
        assert body == (root / ("static/js/main.1a2b.js" + stored)).read_bytes()
        assert headers["content-type"] == "application/javascript" and headers["vary"] == "Accept-Encoding"
        assert headers["cache-control"] == "public, immutable, max-age=31536000"
    headers, body = _get(f"{url}/static/media/Source.7a8b.woff2", "gzip, br")  # a font as it is
    assert "content-encoding" not in headers and body == FONT and headers["content-type"] == "font/woff2"
    # The page itself for "/" and any page's path (lower case and "_"), as Streamlit does, never cached by the
    # browser.
    for path in ("/", "/predict", "/receptive_field", "/feature_maps"):
        headers, body = _get(url + path, "gzip, deflate, br")
        assert headers.get("content-encoding") == "br" and body == (root / "index.html.br").read_bytes(), path
        assert headers["content-type"] == "text/html" and headers["cache-control"] == "no-cache", path
    # nothing else (the websocket, the pictures and the rest are the replicas'), and no folder listing.
    for path in ("/index.html", "/_stcore/health", "/media/x.png", "/favicon.png", "/oauth2callback", "/Predict",
                 "/static/", "/static/js/", "/static/js/nothing.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(url + path)
        assert refused.value.code in (403, 404), path
